/* aggr.c — aggregation operators (sum ... limit_ratio), with Prometheus's
 * Kahan sums, incremental means, heap-based topk/bottomk and hash-sampled
 * limit_ratio. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kahan.h"
#include "core/xmalloc.h"
#include "promql/eval.h"

struct group {
	double value, mean, c, count;	/* running state */
	int incremental;		/* avg switched to incremental mean */
	int seen;			/* has a value at this step */
};

/* XXH64 of the label set in Prometheus's byte layout, for limit_ratio. */
#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL
static uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t round1(uint64_t acc, uint64_t in) { acc += in * P2; acc = rotl(acc, 31); return acc * P1; }
static uint64_t merge1(uint64_t acc, uint64_t v) { v = round1(0, v); acc ^= v; return acc * P1 + P4; }
static uint64_t xxh64(const uint8_t *p, size_t n)
{
	const uint8_t *end = p + n;
	uint64_t h;
	if (n >= 32) {
		uint64_t v1 = P1 + P2, v2 = P2, v3 = 0, v4 = -P1;
		while (p + 32 <= end) {
			v1 = round1(v1, rd64(p)); v2 = round1(v2, rd64(p + 8));
			v3 = round1(v3, rd64(p + 16)); v4 = round1(v4, rd64(p + 24));
			p += 32;
		}
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = merge1(h, v1); h = merge1(h, v2); h = merge1(h, v3); h = merge1(h, v4);
	} else {
		h = P5;
	}
	h += n;
	while (p + 8 <= end) { h ^= round1(0, rd64(p)); h = rotl(h, 27) * P1 + P4; p += 8; }
	if (p + 4 <= end) { h ^= (uint64_t)rd32(p) * P1; h = rotl(h, 23) * P2 + P3; p += 4; }
	while (p < end) { h ^= (*p) * P5; h = rotl(h, 11) * P1; p++; }
	h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32;
	return h;
}

static double labels_ratio_offset(struct pq_eval *ev, const struct labels *ls)
{
	buf_reset(&ev->key);
	buf_adds(&ev->key, "");
	for (size_t i = 0; i < ls->n; i++) {
		buf_adds(&ev->key, ls->v[i].name);
		buf_addc(&ev->key, '\xff');
		buf_adds(&ev->key, ls->v[i].value);
		buf_addc(&ev->key, '\xff');
	}
	return (double)xxh64((const uint8_t *)ev->key.data, ev->key.len) / 18446744073709551615.0;
}

/* Go container/heap over indices with a less function (topk/bottomk). */
struct kheap {
	size_t *h;		/* series indices */
	size_t n;		/* in the heap */
	const double *val;	/* values by series index (this step) */
	int bottom;		/* 1: bottomk ordering */
};

static int kless(const struct kheap *k, size_t i, size_t j)
{
	double a = k->val[k->h[i]], b = k->val[k->h[j]];
	if (isnan(a))
		return 1;
	return k->bottom ? a > b : a < b;
}

static void kswap(struct kheap *k, size_t i, size_t j)
{
	size_t t = k->h[i];
	k->h[i] = k->h[j];
	k->h[j] = t;
}

static void kup(struct kheap *k, size_t j)
{
	while (j > 0) {
		size_t i = (j - 1) / 2;
		if (!kless(k, j, i))
			break;
		kswap(k, i, j);
		j = i;
	}
}

static int kdown(struct kheap *k, size_t i0, size_t n)
{
	size_t i = i0;
	for (;;) {
		size_t j1 = 2 * i + 1;
		if (j1 >= n)
			break;
		size_t j = j1;
		if (j1 + 1 < n && kless(k, j1 + 1, j1))
			j = j1 + 1;
		if (!kless(k, j, i))
			break;
		kswap(k, i, j);
		i = j;
	}
	return i > i0;
}

static const struct pq_strs *grouping(const struct pq_node *n) { return &n->grouping; }

static struct labels *group_labels(struct pq_eval *ev, const struct pq_node *n, const struct labels *ls)
{
	struct label tmp[LABELS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < ls->n && k < LABELS_MAX; i++) {
		int in = 0;
		for (size_t j = 0; j < n->grouping.n; j++)
			if (strcmp(n->grouping.v[j], ls->v[i].name) == 0)
				in = 1;
		if (n->without ? (in || strcmp(ls->v[i].name, "__name__") == 0) : !in)
			continue;
		tmp[k++] = ls->v[i];
	}
	return pq_keep(ev, labels_new(tmp, k));
}

static double quantile_of(double q, double *v, size_t n);
/* Go's sort.Float64s order: NaN first. */
static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	if (isnan(x) || isnan(y))
		return isnan(x) && isnan(y) ? 0 : isnan(x) ? -1 : 1;
	return x < y ? -1 : x > y;
}

double pq_quantile(double q, double *v, size_t n);
double pq_quantile(double q, double *v, size_t n)
{
	return quantile_of(q, v, n);
}

static double quantile_of(double q, double *v, size_t n)
{
	if (n == 0 || isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(v, n, sizeof(double), cmp_dbl);
	double rank = q * (double)(n - 1);
	double lower = fmax(0, floor(rank));
	double upper = fmin((double)(n - 1), lower + 1);
	double w = rank - floor(rank);
	return v[(size_t)lower] * (1 - w) + v[(size_t)upper] * w;
}

/* Go's %q for an error message. */
void pq_goquote(const char *s, char *out, size_t n);

static int agg_k(struct pq_eval *ev, const struct pq_node *n, struct pq_val *in,
    const size_t *gid, size_t ngroups, const double *param, struct pq_val *out)
{
	size_t *map = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(size_t));	/* input -> output+1 */
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(struct pq_ser));
	out->n = 0;
	size_t **members = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(size_t *));
	size_t *cnt = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(size_t));
	double *vals = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(double));
	size_t **order = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(size_t *));
	for (size_t i = 0; i < in->n; i++)
		cnt[gid[i]]++;
	for (size_t g = 0; g < ngroups; g++) {
		members[g] = pq_alloc(ev, (cnt[g] + 1) * sizeof(size_t));
		order[g] = pq_alloc(ev, (cnt[g] + 1) * sizeof(size_t));
	}
	double *offs = NULL;
	if (n->agg == PQ_AGG_LIMIT_RATIO) {
		offs = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(double));
		for (size_t i = 0; i < in->n; i++)
			offs[i] = labels_ratio_offset(ev, in->s[i].ls);
	}
	for (size_t k = 0; k < ev->nsteps; k++) {
		double p = param[k];
		if (isnan(p))
			return pq_fail(ev, PQ_ERR_EXEC, n->agg == PQ_AGG_LIMIT_RATIO ? "Ratio value is NaN" : "Parameter value is NaN");
		if (n->agg == PQ_AGG_LIMIT_RATIO && (p > 1 || p < -1)) {
			double capped = p > 1 ? 1 : -1;
			char a[64], b[64];
			pq_fmt_float(p, a, sizeof(a));
			pq_fmt_float(capped, b, sizeof(b));
			pq_note(ev, 1, n->param, "ratio value should be between -1 and 1, got %s, capping to %s", a, b);
			p = capped;
		}
		size_t kk = 0;
		if (n->agg != PQ_AGG_LIMIT_RATIO)
			kk = p < 1 ? 0 : p >= 9.2e18 ? (size_t)-1 : (size_t)p;
		memset(cnt, 0, ngroups * sizeof(size_t));
		for (size_t i = 0; i < in->n; i++) {
			if (!in->s[i].ok[k])
				continue;
			vals[i] = in->s[i].v[k];
			members[gid[i]][cnt[gid[i]]++] = i;
		}
		for (size_t g = 0; g < ngroups; g++) {
			size_t nsel = 0, *sel = order[g];
			if (n->agg == PQ_AGG_LIMITK) {
				for (size_t x = 0; x < cnt[g] && nsel < kk; x++)
					sel[nsel++] = members[g][x];
			} else if (n->agg == PQ_AGG_LIMIT_RATIO) {
				for (size_t x = 0; x < cnt[g]; x++) {
					double o = offs[members[g][x]];
					if ((p >= 0 && o < p) || (p < 0 && o >= 1 + p))
						sel[nsel++] = members[g][x];
				}
			} else if (kk > 0) {
				struct kheap h = { sel, 0, vals, n->agg == PQ_AGG_BOTTOMK };
				for (size_t x = 0; x < cnt[g]; x++) {
					size_t i = members[g][x];
					if (h.n < kk) {
						h.h[h.n++] = i;
						kup(&h, h.n - 1);
						continue;
					}
					double top = vals[h.h[0]], v = vals[i];
					int better = h.bottom ? (top > v) : (top < v);
					if (better || (isnan(top) && !isnan(v))) {
						h.h[0] = i;
						if (!kdown(&h, 0, h.n))
							kup(&h, 0);
					}
				}
				nsel = h.n;
				/* heap order -> best first: repeatedly pop */
				size_t *tmp = pq_alloc(ev, (nsel + 1) * sizeof(size_t));
				for (size_t x = nsel; x > 0; x--) {
					kswap(&h, 0, h.n - 1);
					kdown(&h, 0, h.n - 1);
					tmp[x - 1] = h.h[--h.n];
				}
				memcpy(sel, tmp, nsel * sizeof(size_t));
			}
			for (size_t x = 0; x < nsel; x++) {
				size_t i = sel[x];
				if (!map[i]) {
					struct pq_ser *o = &out->s[out->n];
					*o = in->s[i];
					o->ts = NULL;
					o->ok = pq_alloc(ev, ev->nsteps);
					map[i] = ++out->n;
				}
				out->s[map[i] - 1].ok[k] = 1;
			}
		}
		int rc = pq_check(ev);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int agg_count_values(struct pq_eval *ev, const struct pq_node *n, struct pq_val *in,
    const char *label, struct pq_val *out)
{
	/* Prometheus 3 accepts any valid UTF-8 label name */
	const unsigned char *u = (const unsigned char *)label;
	int bad = !*u;
	for (size_t i = 0; !bad && u[i];) {
		size_t len = u[i] < 0x80 ? 1 : (u[i] >> 5) == 6 ? 2 : (u[i] >> 4) == 14 ? 3 : (u[i] >> 3) == 30 ? 4 : 0;
		if (!len) { bad = 1; break; }
		for (size_t j = 1; j < len && !bad; j++)
			if ((u[i + j] & 0xC0) != 0x80)
				bad = 1;
		i += len;
	}
	if (bad) {
		char q[512];
		pq_goquote(label, q, sizeof(q));
		return pq_fail(ev, PQ_ERR_EXEC, "invalid label name %s", q);
	}
	struct hmap m;
	hmap_init(&m);
	size_t cap = 16;
	struct pq_ser *os = xcalloc(cap, sizeof(*os));
	size_t on = 0;
	struct labels **gl = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(struct labels *));
	char **gkey = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(char *));
	for (size_t i = 0; i < in->n; i++) {
		gl[i] = group_labels(ev, n, in->s[i].ls);
		buf_reset(&ev->key);
		labels_format(gl[i], &ev->key);
		gkey[i] = pq_alloc(ev, ev->key.len + 1);
		memcpy(gkey[i], ev->key.data ? ev->key.data : "", ev->key.len + 1);
	}
	/* (group, value) -> output series; labels are built once per new pair,
	 * then merged by their final form (the label may override a group label) */
	struct hmap bypair;
	hmap_init(&bypair);
	for (size_t k = 0; k < ev->nsteps; k++) {
		for (size_t i = 0; i < in->n; i++) {
			if (!in->s[i].ok[k])
				continue;
			char vb[64];
			pq_fmt_float(in->s[i].v[k], vb, sizeof(vb));
			buf_reset(&ev->key);
			buf_adds(&ev->key, gkey[i]);
			buf_addc(&ev->key, '\xfe');
			buf_adds(&ev->key, vb);
			void *px = hmap_get(&bypair, ev->key.data, ev->key.len);
			size_t oi;
			if (px) {
				oi = (size_t)(uintptr_t)px - 1;
			} else {
				char *pkey = xstrndup(ev->key.data, ev->key.len);
				size_t plen = ev->key.len;
				struct labels_builder lb;
				lb_init(&lb);
				lb_reset(&lb, gl[i]);
				lb_set(&lb, label, vb);
				struct labels *ls = lb_finish(&lb);
				lb_free(&lb);
				buf_reset(&ev->key);
				labels_format(ls, &ev->key);
				void *x = hmap_get(&m, ev->key.data, ev->key.len);
				if (!x) {
					if (on == cap) {
						cap *= 2;
						os = xreallocarray(os, cap, sizeof(*os));
					}
					oi = on++;
					memset(&os[oi], 0, sizeof(os[oi]));
					os[oi].ls = pq_keep(ev, ls);
					os[oi].v = pq_alloc(ev, ev->nsteps * sizeof(double));
					os[oi].ok = pq_alloc(ev, ev->nsteps);
					hmap_put(&m, ev->key.data, ev->key.len, (void *)(uintptr_t)(oi + 1));
				} else {
					oi = (size_t)(uintptr_t)x - 1;
					labels_free(ls);
				}
				hmap_put(&bypair, pkey, plen, (void *)(uintptr_t)(oi + 1));
				free(pkey);
			}
			os[oi].ok[k] = 1;
			os[oi].v[k] += 1;
		}
	}
	hmap_free(&m, NULL);
	hmap_free(&bypair, NULL);
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (on ? on : 1) * sizeof(struct pq_ser));
	memcpy(out->s, os, on * sizeof(*os));
	out->n = on;
	free(os);
	return 0;
}

#define SUM_TILE_CELLS 65536	/* group x step cells sum() keeps at once */

/*
 * sum(): the same additions as the general loop below (per group and step,
 * series in input order, Kahan-compensated), but series by series over a
 * tile of steps, so each series' values are read in order instead of one
 * cache line per series per step.
 */
static int agg_sum(struct pq_eval *ev, const struct pq_val *in, const size_t *gid,
    size_t ngroups, struct pq_ser *os)
{
	size_t tile = ngroups ? SUM_TILE_CELLS / ngroups : 1;
	if (tile == 0)
		tile = 1;
	if (tile > ev->nsteps)
		tile = ev->nsteps;
	size_t cells = (ngroups ? ngroups : 1) * tile;
	double *val = pq_alloc(ev, cells * sizeof(double));
	double *c = pq_alloc(ev, cells * sizeof(double));
	char *seen = pq_alloc(ev, cells);
	for (size_t k0 = 0; k0 < ev->nsteps; k0 += tile) {
		size_t nk = ev->nsteps - k0 < tile ? ev->nsteps - k0 : tile;
		memset(seen, 0, cells);
		for (size_t i = 0; i < in->n; i++) {
			const uint8_t *ok = in->s[i].ok + k0;
			const double *v = in->s[i].v + k0;
			size_t base = gid[i] * tile;
			int rc = pq_check(ev);	/* many series: look at the clock inside too */
			if (rc < 0)
				return rc;
			for (size_t k = 0; k < nk; k++) {
				if (!ok[k])
					continue;
				size_t x = base + k;
				if (!seen[x]) {
					seen[x] = 1;
					val[x] = v[k];
					c[x] = 0;
				} else {
					val[x] = kahan_inc(v[k], val[x], &c[x]);
				}
			}
		}
		for (size_t g = 0; g < ngroups; g++)
			for (size_t k = 0; k < nk; k++) {
				size_t x = g * tile + k;
				if (!seen[x])
					continue;
				os[g].v[k0 + k] = val[x] + c[x];
				os[g].ok[k0 + k] = 1;
			}
		/* one check per step, as the general loop does: the clock is
		 * read every 256th */
		for (size_t k = 0; k < nk; k++) {
			int rc = pq_check(ev);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

int pq_eval_agg(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, pv;
	memset(&pv, 0, sizeof(pv));
	int rc;
	if (n->param && (rc = pq_eval_node(ev, n->param, &pv)) < 0)
		return rc;
	if ((rc = pq_eval_node(ev, n->sub, &in)) < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (n->agg == PQ_AGG_COUNT_VALUES)
		return agg_count_values(ev, n, &in, pv.str, out);
	/* group ids in first-seen order */
	struct hmap m;
	hmap_init(&m);
	size_t *gid = pq_alloc(ev, (in.n ? in.n : 1) * sizeof(size_t));
	size_t ngroups = 0;
	for (size_t i = 0; i < in.n; i++) {
		pq_sig(ev, in.s[i].ls, grouping(n), !n->without);
		void *x = hmap_get(&m, ev->key.data, ev->key.len);
		if (!x) {
			x = (void *)(uintptr_t)(++ngroups);
			hmap_put(&m, ev->key.data, ev->key.len, x);
		}
		gid[i] = (size_t)(uintptr_t)x - 1;
	}
	hmap_free(&m, NULL);
	if (n->agg == PQ_AGG_TOPK || n->agg == PQ_AGG_BOTTOMK || n->agg == PQ_AGG_LIMITK ||
	    n->agg == PQ_AGG_LIMIT_RATIO)
		return agg_k(ev, n, &in, gid, ngroups, pv.sc, out);
	struct pq_ser *os = pq_vec_alloc(ev, out, ngroups);
	int by_name = 0;
	for (size_t j = 0; !n->without && j < n->grouping.n; j++)
		by_name |= strcmp(n->grouping.v[j], "__name__") == 0;
	for (size_t i = 0; i < in.n; i++) {
		struct pq_ser *o = &os[gid[i]];
		if (!o->ls)
			o->ls = group_labels(ev, n, in.s[i].ls);
		if (by_name && in.s[i].drop_name)
			o->drop_name = 1;
	}
	if (n->agg == PQ_AGG_SUM)
		return agg_sum(ev, &in, gid, ngroups, os);
	struct group *g = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(struct group));
	double **qv = NULL;
	size_t *qn = NULL;
	if (n->agg == PQ_AGG_QUANTILE) {
		qv = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(double *));
		qn = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(size_t));
		size_t *cnt = pq_alloc(ev, (ngroups ? ngroups : 1) * sizeof(size_t));
		for (size_t i = 0; i < in.n; i++)
			cnt[gid[i]]++;
		for (size_t x = 0; x < ngroups; x++)
			qv[x] = pq_alloc(ev, (cnt[x] + 1) * sizeof(double));
	}
	for (size_t k = 0; k < ev->nsteps; k++) {
		memset(g, 0, ngroups * sizeof(*g));
		if (qn)
			memset(qn, 0, ngroups * sizeof(size_t));
		for (size_t i = 0; i < in.n; i++) {
			if (!in.s[i].ok[k])
				continue;
			double v = in.s[i].v[k];
			struct group *x = &g[gid[i]];
			if (!x->seen) {
				x->seen = 1;
				x->value = v;
				x->mean = v;
				x->count = 1;
				x->c = 0;
				if (n->agg == PQ_AGG_STDDEV || n->agg == PQ_AGG_STDVAR)
					x->value = (isnan(v) || isinf(v)) ? NAN : 0;
				if (qn)
					qv[gid[i]][qn[gid[i]]++] = v;
				continue;
			}
			switch (n->agg) {
			case PQ_AGG_SUM:
				x->value = kahan_inc(v, x->value, &x->c);
				break;
			case PQ_AGG_AVG:
				x->count++;
				if (!x->incremental) {
					double c = x->c;
					double nv = kahan_inc(v, x->value, &c);
					if (!isinf(nv)) {
						x->value = nv;
						x->c = c;
						break;
					}
					x->incremental = 1;
					x->mean = x->value / (x->count - 1);
					x->c /= x->count - 1;
				}
				if (isinf(x->mean)) {
					if (isinf(v) && (x->mean > 0) == (v > 0))
						break;
					if (!isinf(v) && !isnan(v))
						break;
				}
				{
					double cur = x->mean + x->c;
					x->mean = kahan_inc(v / x->count - cur / x->count, x->mean, &x->c);
				}
				break;
			case PQ_AGG_COUNT:
				x->count++;
				break;
			case PQ_AGG_MIN:
				if (x->value > v || isnan(x->value))
					x->value = v;
				break;
			case PQ_AGG_MAX:
				if (x->value < v || isnan(x->value))
					x->value = v;
				break;
			case PQ_AGG_STDDEV:
			case PQ_AGG_STDVAR: {
				x->count++;
				double d = v - x->mean;
				x->mean += d / x->count;
				x->value += d * (v - x->mean);
				break;
			}
			case PQ_AGG_QUANTILE:
				qv[gid[i]][qn[gid[i]]++] = v;
				break;
			default:
				break;
			}
		}
		for (size_t x = 0; x < ngroups; x++) {
			struct group *gr = &g[x];
			if (!gr->seen)
				continue;
			double r = gr->value;
			switch (n->agg) {
			case PQ_AGG_SUM: r = gr->value + gr->c; break;
			case PQ_AGG_AVG:
				r = gr->incremental ? gr->mean + gr->c : (gr->value + gr->c) / gr->count;
				break;
			case PQ_AGG_COUNT: r = gr->count; break;
			case PQ_AGG_GROUP: r = 1; break;
			case PQ_AGG_STDVAR: r = gr->value / gr->count; break;
			case PQ_AGG_STDDEV: r = sqrt(gr->value / gr->count); break;
			case PQ_AGG_QUANTILE: {
				double q = pv.sc[k];
				if (isnan(q) || q < 0 || q > 1) {
					char a[64];
					pq_fmt_float(q, a, sizeof(a));
					pq_note(ev, 1, n->param, "quantile value should be between 0 and 1, got %s", a);
				}
				r = quantile_of(q, qv[x], qn[x]);
				break;
			}
			default: break;
			}
			os[x].v[k] = r;
			os[x].ok[k] = 1;
		}
		if ((rc = pq_check(ev)) < 0)
			return rc;
	}
	return 0;
}
