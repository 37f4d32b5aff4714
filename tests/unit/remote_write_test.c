/* remote_write payloads: round trip, and refusal of corrupt or invalid bodies. */
#include <math.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>

#include "api/remote_write.h"
#include "core/batch.h"
#include "t.h"

struct seen {
	int n;			/* samples delivered */
	double sum;		/* of their values */
	int64_t last_ts;	/* last timestamp */
	char job[32];		/* job label of the last one */
};

static int cb(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct seen *s = ctx;
	s->n++;
	if (!isnan(v))
		s->sum += v;
	s->last_ts = ts;
	const char *j = labels_get(ls, "job");
	snprintf(s->job, sizeof(s->job), "%s", j ? j : "");
	return 0;
}

static struct labels *mk(const char *name, const char *job)
{
	struct label l[] = { { "__name__", name }, { "job", job } };
	return labels_new(l, 2);
}

T_TEST(roundtrip_keeps_series_samples_and_stale_markers)
{
	struct rw_builder b;
	rw_init(&b);
	struct labels *a = mk("up", "node"), *c = mk("x_total", "snmp");
	rw_add(&b, a, 1000, 1);
	rw_add(&b, a, 2000, 0);
	rw_add(&b, c, 1500, 41.5);
	rw_add(&b, c, 2500, stale_nan());
	struct buf out;
	buf_init(&out, 1 << 20);
	T_EQ_INT(rw_encode(&b, &out), 0);
	T_EQ_INT(b.n, 2);
	struct seen s = { 0 };
	char err[256];
	T_EQ_INT(rw_decode(out.data, out.len, cb, &s, err, sizeof(err)), 4);
	T_EQ_DBL(s.sum, 42.5, 0);
	T_EQ_INT(s.last_ts, 2500);
	T_EQ_STR(s.job, "snmp");
	buf_free(&out);
	rw_free(&b);
	labels_free(a);
	labels_free(c);
}

T_TEST(corrupt_bodies_are_refused_whole)
{
	char err[256];
	struct seen s = { 0 };
	T_EQ_INT(rw_decode("not snappy at all", 17, cb, &s, err, sizeof(err)), -1);
	T_CHECK(strlen(err) > 0);
	/* valid snappy around bytes that are not a WriteRequest */
	char junk[] = { 0x0a, 0x7f, 0x01 }, comp[64];
	size_t cl = sizeof(comp);
	snappy_compress(junk, sizeof(junk), comp, &cl);
	T_EQ_INT(rw_decode(comp, cl, cb, &s, err, sizeof(err)), -1);
	T_EQ_STR(err, "body is not a remote_write WriteRequest");
	/* a series without __name__ refuses the whole request */
	struct rw_builder b;
	rw_init(&b);
	struct labels *good = mk("up", "a");
	struct label l[] = { { "job", "b" } };
	struct labels *noname = labels_new(l, 1);
	rw_add(&b, good, 1, 1);
	rw_add(&b, noname, 1, 1);
	struct buf out;
	buf_init(&out, 1 << 20);
	rw_encode(&b, &out);
	T_EQ_INT(rw_decode(out.data, out.len, cb, &s, err, sizeof(err)), -1);
	T_EQ_INT(s.n, 0);
	T_EQ_STR(err, "timeseries 1: missing or invalid __name__");
	/* every truncation is refused without reading past the end */
	for (size_t cut = 0; cut < out.len; cut++)
		if (rw_decode(out.data, cut, cb, &s, err, sizeof(err)) != -1)
			T_FAILF("a body cut to %zu of %zu bytes was accepted", cut, out.len);
	T_EQ_INT(s.n, 0);
	buf_free(&out);
	rw_free(&b);
	labels_free(good);
	labels_free(noname);
}

int main(void)
{
	T_RUN(roundtrip_keeps_series_samples_and_stale_markers);
	T_RUN(corrupt_bodies_are_refused_whole);
	return t_done();
}
