/* remote_write.c — see remote_write.h. protobuf-c does the wire format, snappy the framing. */
#include <errno.h>
#include <snappy-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/remote_write.h"
#include "core/xmalloc.h"
#include "remote.pb-c.h"

long rw_decode(const void *p, size_t n,
    int (*cb)(void *ctx, const struct labels *ls, int64_t ts_ms, double v), void *ctx,
    char *err, size_t errsz)
{
	size_t ulen;
	if (snappy_uncompressed_length(p, n, &ulen) != SNAPPY_OK) {
		snprintf(err, errsz, "body is not snappy-compressed");
		return -1;
	}
	if (ulen > RW_MAX_UNCOMPRESSED) {
		snprintf(err, errsz, "decompressed body of %zu bytes is over the %u byte limit", ulen, RW_MAX_UNCOMPRESSED);
		return -1;
	}
	char *raw = xmalloc(ulen ? ulen : 1);
	if (snappy_uncompress(p, n, raw, &ulen) != SNAPPY_OK) {
		snprintf(err, errsz, "snappy data is corrupt");
		free(raw);
		return -1;
	}
	Prometheus__WriteRequest *wr = prometheus__write_request__unpack(NULL, ulen, (const uint8_t *)raw);
	free(raw);
	if (!wr) {
		snprintf(err, errsz, "body is not a remote_write WriteRequest");
		return -1;
	}
	/* Check every series before delivering any sample: all or nothing. */
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		Prometheus__TimeSeries *ts = wr->timeseries[i];
		if (ts->n_labels == 0 || ts->n_labels > LABELS_MAX) {
			snprintf(err, errsz, "timeseries %zu has %zu labels (1 to %d allowed)", i, ts->n_labels, LABELS_MAX);
			goto bad;
		}
		int named = 0;
		for (size_t j = 0; j < ts->n_labels; j++) {
			const char *ln = ts->labels[j]->name;
			if (strcmp(ln, "__name__") == 0)
				named = metric_name_valid(ts->labels[j]->value);
			else if (!label_name_valid(ln)) {
				snprintf(err, errsz, "timeseries %zu: invalid label name \"%.64s\"", i, ln);
				goto bad;
			}
		}
		if (!named) {
			snprintf(err, errsz, "timeseries %zu: missing or invalid __name__", i);
			goto bad;
		}
	}
	long total = 0;
	for (size_t i = 0; i < wr->n_timeseries; i++) {
		Prometheus__TimeSeries *ts = wr->timeseries[i];
		struct label lv[LABELS_MAX];
		for (size_t j = 0; j < ts->n_labels; j++) {
			lv[j].name = ts->labels[j]->name;
			lv[j].value = ts->labels[j]->value;
		}
		struct labels *ls = labels_new(lv, ts->n_labels);
		if (!ls) {
			snprintf(err, errsz, "timeseries %zu: duplicate label names", i);
			prometheus__write_request__free_unpacked(wr, NULL);
			return total ? total : -1;
		}
		for (size_t k = 0; k < ts->n_samples; k++) {
			cb(ctx, ls, ts->samples[k]->timestamp, ts->samples[k]->value);
			total++;
		}
		labels_free(ls);
	}
	prometheus__write_request__free_unpacked(wr, NULL);
	return total;
bad:
	prometheus__write_request__free_unpacked(wr, NULL);
	return -1;
}

struct rw_series {
	struct labels *labels;	/* owned */
	int64_t *t;		/* timestamps */
	double *v;		/* values */
	size_t n, cap;		/* samples, allocated */
};

void rw_init(struct rw_builder *b)
{
	memset(b, 0, sizeof(*b));
}

void rw_free(struct rw_builder *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n; i++) {
		labels_free(b->series[i].labels);
		free(b->series[i].t);
		free(b->series[i].v);
	}
	free(b->series);
	memset(b, 0, sizeof(*b));
}

int rw_add(struct rw_builder *b, const struct labels *ls, int64_t ts_ms, double v)
{
	struct rw_series *s = b->n ? &b->series[b->n - 1] : NULL;
	if (!s || labels_cmp(s->labels, ls) != 0) {
		if (b->n >= RW_MAX_SERIES)
			return -E2BIG;
		if (b->n == b->cap) {
			b->cap = b->cap ? b->cap * 2 : 64;
			b->series = xreallocarray(b->series, b->cap, sizeof(*b->series));
		}
		s = &b->series[b->n++];
		memset(s, 0, sizeof(*s));
		s->labels = labels_dup(ls);
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4;
		s->t = xreallocarray(s->t, s->cap, sizeof(int64_t));
		s->v = xreallocarray(s->v, s->cap, sizeof(double));
	}
	s->t[s->n] = ts_ms;
	s->v[s->n] = v;
	s->n++;
	b->samples++;
	return 0;
}

int rw_encode(const struct rw_builder *b, struct buf *out)
{
	Prometheus__WriteRequest wr = PROMETHEUS__WRITE_REQUEST__INIT;
	size_t nl = 0;
	for (size_t i = 0; i < b->n; i++)
		nl += b->series[i].labels->n;
	Prometheus__TimeSeries *ts = xcalloc(b->n, sizeof(*ts));
	Prometheus__TimeSeries **tsp = xcalloc(b->n, sizeof(*tsp));
	Prometheus__Label *lb = xcalloc(nl, sizeof(*lb));
	Prometheus__Label **lbp = xcalloc(nl, sizeof(*lbp));
	Prometheus__Sample *sm = xcalloc(b->samples, sizeof(*sm));
	Prometheus__Sample **smp = xcalloc(b->samples, sizeof(*smp));
	size_t li = 0, si = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct rw_series *s = &b->series[i];
		prometheus__time_series__init(&ts[i]);
		ts[i].labels = &lbp[li];
		ts[i].n_labels = s->labels->n;
		for (size_t j = 0; j < s->labels->n; j++, li++) {
			prometheus__label__init(&lb[li]);
			lb[li].name = (char *)(uintptr_t)s->labels->v[j].name;
			lb[li].value = (char *)(uintptr_t)s->labels->v[j].value;
			lbp[li] = &lb[li];
		}
		ts[i].samples = &smp[si];
		ts[i].n_samples = s->n;
		for (size_t k = 0; k < s->n; k++, si++) {
			prometheus__sample__init(&sm[si]);
			sm[si].timestamp = s->t[k];
			sm[si].value = s->v[k];
			smp[si] = &sm[si];
		}
		tsp[i] = &ts[i];
	}
	wr.timeseries = tsp;
	wr.n_timeseries = b->n;
	size_t plen = prometheus__write_request__get_packed_size(&wr);
	uint8_t *packed = xmalloc(plen ? plen : 1);
	prometheus__write_request__pack(&wr, packed);
	size_t clen = snappy_max_compressed_length(plen);
	int rc = buf_reserve(out, clen);
	if (rc == 0) {
		if (snappy_compress((const char *)packed, plen, out->data + out->len, &clen) == SNAPPY_OK)
			out->len += clen;
		else
			rc = -EIO;
	}
	free(packed);
	free(ts);
	free(tsp);
	free(lb);
	free(lbp);
	free(sm);
	free(smp);
	return rc;
}
