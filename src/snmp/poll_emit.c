/* poll_emit.c — the SNMP poller's samples: varbind values to labelled
 * samples, staleness per table row, and the end of a cycle (see poll_int.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "snmp/poll_int.h"

/* ---- values ---- */

/* A label value for any varbind value: printable text, else 0x-hex. */
char *snmp_poll_value_text(const struct snmp_value *v)
{
	char tmp[64];
	switch (v->type) {
	case BER_INTEGER:
		snprintf(tmp, sizeof(tmp), "%lld", (long long)v->i);
		return xstrdup(tmp);
	case BER_COUNTER32:
	case BER_GAUGE32:
	case BER_TIMETICKS:
	case BER_COUNTER64:
		snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v->u);
		return xstrdup(tmp);
	case BER_IPADDRESS:
		snprintf(tmp, sizeof(tmp), "%u.%u.%u.%u", v->s[0], v->s[1], v->s[2], v->s[3]);
		return xstrdup(tmp);
	case BER_OID: {
		struct snmp_oid o;
		char s[SNMP_OID_STR_MAX];
		if (snmp_value_oid(v, &o) < 0)
			return xstrdup("");
		return xstrdup(snmp_oid_str(&o, s, sizeof(s)));
	}
	case BER_OCTET_STRING:
	case BER_OPAQUE: {
		size_t n = v->len;
		while (n && v->s[n - 1] == 0)
			n--;	/* C-string agents send the NUL too */
		if (n > STR_LABEL_MAX)
			n = STR_LABEL_MAX;
		int text = 1;
		for (size_t i = 0; i < n; i++)
			if (v->s[i] < 0x20 || v->s[i] == 0x7f)
				text = 0;
		/* Bytes >= 0x80 pass only as well-formed UTF-8 (checked below). */
		for (size_t i = 0; text && i < n;) {
			uint8_t b = v->s[i];
			size_t k = b < 0x80 ? 1 : (b & 0xe0) == 0xc0 ? 2 : (b & 0xf0) == 0xe0 ? 3 :
			    (b & 0xf8) == 0xf0 ? 4 : 0;
			if (k == 0 || i + k > n)
				text = 0;
			for (size_t j = 1; text && j < k; j++)
				if ((v->s[i + j] & 0xc0) != 0x80)
					text = 0;
			i += k ? k : 1;
		}
		if (text)
			return xstrndup((const char *)v->s, n);
		char *h = xmalloc(2 * n + 3);
		h[0] = '0';
		h[1] = 'x';
		for (size_t i = 0; i < n; i++)
			snprintf(h + 2 + 2 * i, 3, "%02x", v->s[i]);
		h[2 + 2 * n] = '\0';
		return h;
	}
	default:
		return NULL;
	}
}

/* Numeric value; numeric strings (UCD laLoad) count too. 0 or -EINVAL. */
int snmp_poll_value_number(const struct snmp_value *v, double *d)
{
	if (snmp_value_number(v, d) == 0)
		return 0;
	if (v->type != BER_OCTET_STRING || v->len == 0 || v->len > 64)
		return -EINVAL;
	char tmp[65], *end;
	memcpy(tmp, v->s, v->len);
	tmp[v->len] = '\0';
	*d = strtod(tmp, &end);
	while (*end == ' ')
		end++;
	return end != tmp && *end == '\0' && isfinite(*d) ? 0 : -EINVAL;
}

/* ---- samples ---- */

/* A series the device sent, and the last cycle that sent it. */
struct seen {
	struct labels *ls;	/* its labels, owned */
	uint64_t cycle;		/* d->cycle when last sent */
};

/* One entry of a cycle's send order. */
struct ord {
	uint64_t h;		/* labels_hash of the series */
	struct seen *s;		/* its record in d->series */
};

/* Mix a NUL-terminated string into h, eight bytes at a time (the byte-wise
 * hmap_hash was the poller's top cost once every sample was tracked). */
static uint64_t mix_str(uint64_t h, const char *s)
{
	size_t n = strlen(s);
	uint64_t w;
	for (; n >= 8; n -= 8, s += 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0x9e3779b97f4a7c15ull;
		h ^= h >> 29;
	}
	w = 0;
	memcpy(&w, s, n);
	h = (h ^ w ^ ((uint64_t)n << 56)) * 0xbf58476d1ce4e5b9ull;
	return h ^ (h >> 31);
}

/* Identity of a label set for staleness tracking. */
static uint64_t series_hash(const struct labels *ls)
{
	uint64_t h = 0x84222325cbf29ce4ull ^ ls->n;
	for (size_t i = 0; i < ls->n; i++) {
		h = mix_str(h, ls->v[i].name);
		h = mix_str(h, ls->v[i].value);
	}
	return h;
}

/* Remember that this cycle sent ls. One lookup per sample; the 64-bit label
 * hash stands for the set (a collision would only cost a staleness marker). */
static void track(struct pdev *d, const struct labels *ls, uint64_t h)
{
	struct seen *s;
	/* Devices send the same series in the same order cycle after cycle:
	 * check the next one of last cycle's order before the hash map. */
	if (d->oi < d->norder && d->order[d->oi].h == h) {
		s = d->order[d->oi++].s;
	} else {
		s = hmap_get(&d->series, &h, sizeof(h));
		if (!s) {
			s = xmalloc(sizeof(*s));
			s->ls = labels_dup(ls);
			hmap_put(&d->series, &h, sizeof(h), s);
		}
	}
	if (s->cycle == d->cycle)
		return;		/* sent twice in one cycle: counted once */
	s->cycle = d->cycle;
	if (d->nnext == d->capnext) {
		d->capnext = d->capnext ? d->capnext * 2 : 64;
		d->next = xreallocarray(d->next, d->capnext, sizeof(*d->next));
	}
	d->next[d->nnext].h = h;
	d->next[d->nnext++].s = s;
}

void snmp_poll_free_seen(void *v)
{
	struct seen *s = v;
	labels_free(s->ls);
	free(s);
}

/* End of a cycle: a series not sent this cycle gets a staleness marker once. */
static void send_stale(struct pdev *d)
{
	struct snmp_poller *p = d->p;
	size_t it = 0;
	const char *k;
	size_t kl;
	void *v;
	uint64_t gone[64];	/* delete after iterating, in batches */
	size_t ngone;
	do {
		ngone = 0;
		it = 0;
		while (ngone < 64 && hmap_next(&d->series, &it, &k, &kl, &v)) {
			struct seen *s = v;
			if (s->cycle == d->cycle)
				continue;
			if (p->sink.add(p->sink.ctx, s->ls, d->start_wall, stale_nan()) < 0)
				p->sink_errors++;
			else
				d->stale_sent++;
			memcpy(&gone[ngone++], k, sizeof(uint64_t));
		}
		for (size_t i = 0; i < ngone; i++)
			snmp_poll_free_seen(hmap_del(&d->series, &gone[i], sizeof(uint64_t)));
	} while (ngone == 64);
	/* this cycle's order is the next cycle's guide */
	struct ord *o = d->order;
	size_t ocap = d->caporder;
	d->order = d->next;
	d->norder = d->nnext;
	d->caporder = d->capnext;
	d->next = o;
	d->capnext = ocap;
	d->nnext = 0;
	d->oi = 0;
}

static struct labels *build_ls(struct pdev *d, const struct label *v, size_t n);

/* Send one sample with the n labels in v (name first); empty values dropped.
 * Health series (snmp_up, snmp_scrape_*) go through emit_health instead: they
 * are sent every cycle and never go stale. */
static void emit_labels(struct pdev *d, struct label *v, size_t n, double val, int tracked,
    uint64_t h)
{
	struct labels *ls = build_ls(d, v, n);
	struct snmp_poller *p = d->p;
	if (tracked)
		track(d, ls, h ? h : series_hash(ls));
	if (p->sink.add(p->sink.ctx, ls, d->start_wall, val) < 0)
		p->sink_errors++;
	else
		p->samples++;
}

/* The n labels in v, sorted by name into d->ls; empty values dropped, and a
 * repeated name keeps the first one given (profile order). */
static struct labels *build_ls(struct pdev *d, const struct label *v, size_t n)
{
	struct labels *ls = d->ls;
	size_t k = 0;
	/* Insertion sort by name (sets are small); a repeated name keeps the
	 * first one given (profile order). */
	for (size_t i = 0; i < n; i++) {
		if (!v[i].value || !v[i].value[0])
			continue;
		size_t at = k;
		int c = 1;
		while (at > 0 && (c = strcmp(ls->v[at - 1].name, v[i].name)) > 0)
			at--;
		if (at > 0 && c == 0)
			continue;
		memmove(&ls->v[at + 1], &ls->v[at], (k - at) * sizeof(ls->v[0]));
		ls->v[at] = v[i];
		k++;
	}
	ls->n = k;
	return ls;
}

static void emit(struct pdev *d, struct label *v, size_t n, double val)
{
	emit_labels(d, v, n, val, 1, 0);
}

static void emit_simple(struct pdev *d, const char *name, double v)
{
	struct label l[2] = { { "__name__", name }, { "instance", d->name } };
	emit(d, l, 2, v);
}

static void emit_health(struct pdev *d, const char *name, double v)
{
	struct label l[2] = { { "__name__", name }, { "instance", d->name } };
	emit_labels(d, l, 2, v, 0, 0);
}

#define INDEX_PART_MAX  64	/* bytes of one decoded index label */

/* One typed index label from v[*at..nv): its text in part. 0, or -1 if the
 * sub-identifiers do not fit the type. */
static int index_part(uint8_t type, const uint32_t *v, size_t nv, size_t *at,
    char part[INDEX_PART_MAX])
{
	size_t i = *at;
	uint8_t b[32];
	size_t len;
	switch (type) {
	case PROF_IX_INT:
		if (i >= nv)
			return -1;
		snprintf(part, INDEX_PART_MAX, "%u", v[i]);
		*at = i + 1;
		return 0;
	case PROF_IX_IPADDR:
		len = 4;
		break;
	default:
		if (i >= nv)
			return -1;
		len = v[i++];
		break;
	}
	if (len > sizeof(b) || i + len > nv)
		return -1;
	for (size_t k = 0; k < len; k++) {
		if (v[i + k] > 255)
			return -1;
		b[k] = (uint8_t)v[i + k];
	}
	*at = i + len;
	int text = type == PROF_IX_STRING;
	for (size_t k = 0; text && k < len; k++)
		text = b[k] >= 0x20 && b[k] < 0x7f;
	if (type != PROF_IX_STRING && len == 4)
		inet_ntop(AF_INET, b, part, INDEX_PART_MAX);
	else if (type == PROF_IX_INETADDR && len == 16)
		inet_ntop(AF_INET6, b, part, INDEX_PART_MAX);
	else if (text) {
		memcpy(part, b, len);
		part[len] = '\0';
	} else {
		size_t o = (size_t)snprintf(part, INDEX_PART_MAX, "0x");
		for (size_t k = 0; k < len && o + 3 <= INDEX_PART_MAX; k++)
			o += (size_t)snprintf(part + o, INDEX_PART_MAX - o, "%02x", b[k]);
	}
	return 0;
}

/* Split an index into the table's index labels; an index that does not fit
 * them goes whole to the first label. */
static size_t index_labels(const struct prof_table *pt, const char *ix, struct label *out,
    char parts[PROFILE_INDEX_MAX][INDEX_PART_MAX])
{
	uint32_t v[SNMP_OID_MAX];
	size_t nv = 0, at = 0, i;
	if (pt->nindex == 1 && pt->index_type[0] == PROF_IX_INT)
		goto whole;	/* the common case: nothing to split */
	for (const char *s = ix; *s && nv < SNMP_OID_MAX;) {
		char *end;
		v[nv++] = (uint32_t)strtoul(s, &end, 10);
		s = *end == '.' ? end + 1 : end;
		if (end == s && *s)
			break;
	}
	for (i = 0; i < pt->nindex; i++) {
		if (index_part(pt->index_type[i], v, nv, &at, parts[i]) < 0)
			goto whole;
		out[i].name = pt->index[i];
		out[i].value = parts[i];
	}
	if (at == nv)
		return pt->nindex;
whole:
	out[0].name = pt->index[0];
	out[0].value = ix;
	return 1;
}

void snmp_poll_free_strv(void *p, size_t n)
{
	char **v = p;
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void snmp_poll_free_labelmap(struct hmap *m, size_t n)
{
	size_t it = 0;
	const char *k;
	size_t kl;
	void *v;
	while (hmap_next(m, &it, &k, &kl, &v))
		snmp_poll_free_strv(v, n);
	hmap_free(m, NULL);
	hmap_init(m);
}

void snmp_poll_free_rows(struct ptable *t)
{
	size_t it = 0;
	const char *k;
	size_t kl;
	void *v;
	while (hmap_next(&t->rows, &it, &k, &kl, &v)) {
		struct row *r = v;
		for (size_t i = 0; r->info && i < t->pt->nmetrics; i++)
			free(r->info[i]);
		free(r->info);
		free(r);	/* v and have live in the same block */
	}
	hmap_free(&t->rows, NULL);
	hmap_init(&t->rows);
}

/* The label-cache key of lookup column li's row ix: "\x01<li>:<ix>", which
 * no table row (digits and dots) can be. Static buffer: use before the next call. */
const char *snmp_poll_lookup_key(size_t li, const char *ix)
{
	static char k[SNMP_OID_STR_MAX + 16];
	snprintf(k, sizeof(k), "\x01%zu:%s", li, ix);
	return k;
}

/* Value of lookup label li for a row whose index labels are idx[0..nidx). */
static const char *lookup_value(const struct ptable *t, size_t li, const struct label *idx,
    size_t nidx)
{
	const char *want = t->pt->index[t->pt->labels[li].by_index];
	for (size_t i = 0; i < nidx; i++) {
		if (strcmp(idx[i].name, want) != 0)
			continue;
		const char *k = snmp_poll_lookup_key(li, idx[i].value);
		char **lv = hmap_get(&t->cache, k, strlen(k));
		return lv ? lv[li] : NULL;
	}
	return NULL;
}

/* A staleness marker for metric m of a row as it was last sent. */
static void row_stale(struct pdev *d, const struct ptable *t, const struct rowrec *rr, size_t m)
{
	struct label l[SAMPLE_LABELS];
	const char *name = t->pt->metrics[m].name;
	size_t n = 0;
	l[n].name = "__name__";
	l[n++].value = name;
	if (rr->info && rr->info[m]) {
		l[n].name = name;	/* first, as when it was sent */
		l[n++].value = rr->info[m];
	}
	for (size_t i = 0; i < rr->base->n && n < SAMPLE_LABELS; i++)
		l[n++] = rr->base->v[i];
	struct snmp_poller *p = d->p;
	if (p->sink.add(p->sink.ctx, build_ls(d, l, n), d->start_wall, stale_nan()) < 0)
		p->sink_errors++;
	else
		d->stale_sent++;
}

/* The record of the row whose labels (without __name__) are v[0..n) and hash
 * rowh; made on first sight. */
static struct rowrec *row_record(struct pdev *d, struct ptable *t, uint64_t rowh,
    const struct label *v, size_t n)
{
	struct rowrec *rr = hmap_get(&t->sent, &rowh, sizeof(rowh));
	if (rr)
		return rr;
	rr = xcalloc(1, sizeof(*rr));
	rr->cycle = d->cycle - 1;
	rr->base = labels_dup(build_ls(d, v, n));
	rr->sent = xcalloc(t->pt->nmetrics ? t->pt->nmetrics : 1, 1);
	hmap_put(&t->sent, &rowh, sizeof(rowh), rr);
	return rr;
}

/* Metric m of the row is not sent this cycle: stale it if it was last time. */
static void row_unsend(struct pdev *d, struct ptable *t, struct rowrec *rr, size_t m)
{
	if (rr->cycle == d->cycle || !rr->sent[m])
		return;		/* the row was seen already this cycle: keep what it sent */
	row_stale(d, t, rr, m);
	rr->sent[m] = 0;
	if (rr->info) {
		free(rr->info[m]);
		rr->info[m] = NULL;
	}
}

/* Metric m of the row is sent this cycle, with info (an info metric's value
 * when it is not a label column, else NULL): a changed info value is a new
 * series, so the old one goes stale. */
static void row_send(struct pdev *d, struct ptable *t, struct rowrec *rr, size_t m,
    const char *info)
{
	const char *old = rr->info ? rr->info[m] : NULL;
	if (rr->sent[m] && old && (!info || strcmp(old, info) != 0))
		row_stale(d, t, rr, m);
	if (info && !(old && strcmp(old, info) == 0)) {
		if (!rr->info)
			rr->info = xcalloc(t->pt->nmetrics, sizeof(char *));
		free(rr->info[m]);
		rr->info[m] = xstrdup(info);
	}
	rr->sent[m] = 1;
}

static void free_rowrec(struct rowrec *rr, size_t nmetrics)
{
	if (!rr)
		return;
	for (size_t m = 0; rr->info && m < nmetrics; m++)
		free(rr->info[m]);
	free(rr->info);
	free(rr->sent);
	labels_free(rr->base);
	free(rr);
}

/* End of a cycle (or the table going away, all = 1): rows not sent this cycle
 * get a staleness marker per metric they last sent, and are forgotten.
 * With emit = 0 nothing is sent (the poller is being freed). */
void snmp_poll_sweep_rows(struct pdev *d, struct ptable *t, int all, int emit)
{
	uint64_t gone[64];	/* delete after iterating, in batches */
	size_t ngone;
	do {
		size_t it = 0;
		const char *k;
		size_t kl;
		void *v;
		ngone = 0;
		while (ngone < 64 && hmap_next(&t->sent, &it, &k, &kl, &v)) {
			struct rowrec *rr = v;
			if (!all && rr->cycle == d->cycle)
				continue;
			for (size_t m = 0; emit && m < t->pt->nmetrics; m++)
				if (rr->sent[m])
					row_stale(d, t, rr, m);
			memcpy(&gone[ngone++], k, sizeof(uint64_t));
		}
		for (size_t i = 0; i < ngone; i++)
			free_rowrec(hmap_del(&t->sent, &gone[i], sizeof(uint64_t)), t->pt->nmetrics);
	} while (ngone == 64);
}

static void emit_table(struct pdev *d, struct ptable *t)
{
	const struct prof_table *pt = t->pt;
	struct label l[SAMPLE_LABELS];
	char parts[PROFILE_INDEX_MAX][INDEX_PART_MAX];
	size_t it = 0;
	const char *k;
	size_t kl;
	void *v;
	while (hmap_next(&t->rows, &it, &k, &kl, &v)) {
		struct row *r = v;
		char **lv = hmap_get(&t->cache, k, kl);
		if (!lv && t->nrowlabels)
			t->stale = 1;
		size_t n = 2;
		l[0].name = "__name__";
		l[1].name = "instance";
		l[1].value = d->name;
		size_t nidx = index_labels(pt, k, l + 2, parts);
		n += nidx;
		for (size_t i = 0; i < pt->nlabels; i++) {
			const char *val = pt->labels[i].by_index >= 0 ?
			    lookup_value(t, i, l + 2, nidx) : lv ? lv[i] : NULL;
			if (!val)
				continue;
			l[n].name = pt->labels[i].name;
			l[n++].value = val;
		}
		/* The row's labels are hashed once: its identity for staleness. */
		uint64_t rowh = 0x6a09e667f3bcc908ull;
		for (size_t i = 1; i < n; i++)
			if (l[i].value)
				rowh = mix_str(mix_str(rowh, l[i].name), l[i].value);
		struct rowrec *rr = row_record(d, t, rowh, l + 1, n - 1);
		for (size_t m = 0; m < pt->nmetrics; m++) {
			const struct prof_metric *pm = &pt->metrics[m];
			const char *info = NULL;
			if (pm->type == PROF_INFO) {
				info = t->from_label[m] >= 0 ? (lv ? lv[t->from_label[m]] : NULL) :
				    r->info ? r->info[m] : NULL;
			}
			if (pm->type == PROF_INFO ? !info : !r->have[m]) {
				row_unsend(d, t, rr, m);
				continue;
			}
			row_send(d, t, rr, m, t->from_label[m] < 0 ? info : NULL);
			l[0].value = pm->name;
			size_t nn = n;
			if (info) {
				/* the info label goes first so it wins over a same-named label column */
				memmove(l + 3, l + 2, (n - 2) * sizeof(l[0]));
				l[2].name = pm->name;
				l[2].value = info;
				nn++;
			}
			emit_labels(d, l, nn, info ? 1 : r->v[m], 0, 0);
			if (info)
				memmove(l + 2, l + 3, (n - 2) * sizeof(l[0]));
		}
		rr->cycle = d->cycle;
	}
}

static void finish_cycle(struct pdev *d)
{
	struct snmp_poller *p = d->p;
	d->busy = 0;
	p->cycles++;
	for (size_t i = 0; i < d->ntables; i++) {
		struct ptable *t = &d->tables[i];
		if (t->relabel && d->up) {
			snmp_poll_free_labelmap(&t->cache, t->pt->nlabels);
			t->cache = t->next;
			hmap_init(&t->next);
			t->stale = 0;
		} else {
			snmp_poll_free_labelmap(&t->next, t->pt->nlabels);
		}
		if (d->up)
			emit_table(d, t);
		snmp_poll_sweep_rows(d, t, 0, 1);
		snmp_poll_free_rows(t);
	}
	if (d->up) {
		for (size_t i = 0; i < d->nsc; i++) {
			struct scalar *s = &d->sc[i];
			if (!s->have)
				continue;
			if (s->m->type == PROF_INFO) {
				struct label l[3] = { { "__name__", s->m->name }, { "instance", d->name },
					{ s->m->name, s->s } };
				emit(d, l, 3, 1);
			} else {
				emit_simple(d, s->m->name, s->v);
			}
		}
		struct label l[6] = { { "__name__", "snmp_device_info" }, { "instance", d->name },
			{ "sysDescr", d->sysdescr }, { "sysObjectID", d->sysobjid },
			{ "sysName", d->sysname }, { "target", d->addr } };
		emit(d, l, 6, 1);
		emit_simple(d, "snmp_device_restarts_total", (double)d->restarts);
	}
	emit_health(d, "snmp_up", d->up);
	emit_health(d, "snmp_scrape_duration_seconds",
	    (double)(clock_mono_ms() - d->start_mono) / 1000.0);
	emit_health(d, "snmp_scrape_pdus_returned", (double)d->pdus);
	send_stale(d);
}

void snmp_poll_op_done(struct pdev *d)
{
	if (--d->outstanding == 0)
		finish_cycle(d);
}
