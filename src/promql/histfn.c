/* histfn.c — histogram_quantile, histogram_quantiles and histogram_fraction
 * over classic (le-labelled) bucket series, as Prometheus computes them. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "promql/fn.h"

struct bucket {
	double ub;	/* upper bound (le) */
	double count;	/* cumulative count */
};

static int cmp_bucket(const void *a, const void *b)
{
	double x = ((const struct bucket *)a)->ub, y = ((const struct bucket *)b)->ub;
	return x < y ? -1 : x > y;
}

static size_t coalesce(struct bucket *b, size_t n)
{
	struct bucket last = b[0];
	size_t i = 0;
	for (size_t j = 1; j < n; j++) {
		if (b[j].ub == last.ub) {
			last.count += b[j].count;
		} else {
			b[i++] = last;
			last = b[j];
		}
	}
	b[i] = last;
	return i + 1;
}

static int almost_equal(double a, double b, double eps)
{
	const double min_normal = 2.2250738585072014e-308;
	if (a == b)
		return 1;
	double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
	if (a == 0 || b == 0 || abs_sum < min_normal)
		return diff < eps * min_normal;
	return diff / fmin(abs_sum, DBL_MAX) < eps;
}

static int ensure_monotonic(struct bucket *b, size_t n)
{
	int forced = 0;
	double prev = b[0].count;
	for (size_t i = 1; i < n; i++) {
		double cur = b[i].count;
		if (cur == prev)
			continue;
		if (almost_equal(prev, cur, 1e-12)) {
			b[i].count = prev;
			continue;
		}
		if (cur < prev) {
			b[i].count = prev;
			forced = 1;
			continue;
		}
		prev = cur;
	}
	return forced;
}

static double bucket_quantile(double q, struct bucket *b, size_t n, int *forced)
{
	*forced = 0;
	if (isnan(q))
		return NAN;
	if (q < 0)
		return -INFINITY;
	if (q > 1)
		return INFINITY;
	qsort(b, n, sizeof(*b), cmp_bucket);
	if (!isinf(b[n - 1].ub) || b[n - 1].ub < 0)
		return NAN;
	n = coalesce(b, n);
	*forced = ensure_monotonic(b, n);
	if (n < 2)
		return NAN;
	double obs = b[n - 1].count;
	if (obs == 0)
		return NAN;
	double rank = q * obs;
	size_t lo = 0, hi = n - 1;	/* sort.Search over [0, n-1) */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b[mid].count >= rank)
			hi = mid;
		else
			lo = mid + 1;
	}
	size_t i = lo;
	if (i == n - 1)
		return b[n - 2].ub;
	if (i == 0 && b[0].ub <= 0)
		return b[0].ub;
	double start = 0, end = b[i].ub, count = b[i].count;
	if (i > 0) {
		start = b[i - 1].ub;
		count -= b[i - 1].count;
		rank -= b[i - 1].count;
	}
	return start + (end - start) * (rank / count);
}

static double bucket_fraction(double lower, double upper, struct bucket *b, size_t n)
{
	qsort(b, n, sizeof(*b), cmp_bucket);
	if (!isinf(b[n - 1].ub) || b[n - 1].ub < 0)
		return NAN;
	n = coalesce(b, n);
	ensure_monotonic(b, n);
	double count = b[n - 1].count;
	if (count == 0 || isnan(lower) || isnan(upper))
		return NAN;
	if (lower >= upper)
		return 0;
	double rank = 0, lrank = 0, urank = 0;
	int lset = 0, uset = 0;
	for (size_t i = 0; i < n; i++) {
		double lb = i > 0 ? b[i - 1].ub : (b[0].ub > 0 ? 0 : -INFINITY);
		double ub = b[i].ub;
		if (!lset && lb >= lower) {
			lrank = rank;
			lset = 1;
		}
		if (!uset && lb >= upper) {
			urank = rank;
			uset = 1;
		}
		if (lset && uset)
			break;
		if (!lset && lb < lower && ub > lower) {
			lrank = isinf(lb) || isinf(ub) ? (isinf(ub) ? rank : b[i].count) :
			    rank + (b[i].count - rank) * (lower - lb) / (ub - lb);
			lset = 1;
		}
		if (!uset && lb < upper && ub > upper) {
			urank = isinf(lb) || isinf(ub) ? (isinf(ub) ? rank : b[i].count) :
			    rank + (b[i].count - rank) * (upper - lb) / (ub - lb);
			uset = 1;
		}
		if (lset && uset)
			break;
		rank = b[i].count;
	}
	if (!lset || lrank > count)
		lrank = count;
	if (!uset || urank > count)
		urank = count;
	return (urank - lrank) / count;
}

struct hgroup {
	struct labels *ls;	/* labels minus le (name kept, dropped at the end) */
	struct bucket *b;	/* buckets at this step */
	size_t n;		/* buckets */
};

/* Group the input's series by labels minus le; returns group per series (-1: bad le). */
static size_t hist_groups(struct pq_eval *ev, const struct pq_val *in, long *gid,
    struct hgroup **groups, double *le, int *bad)
{
	struct hmap m;
	hmap_init(&m);
	size_t ng = 0;
	*groups = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(struct hgroup));
	for (size_t i = 0; i < in->n; i++) {
		const char *v = labels_get(in->s[i].ls, "le");
		char *end = NULL;
		bad[i] = 0;
		if (v) {
			le[i] = strtod(v, &end);
			if (end == v || *end)
				bad[i] = 1;
		} else {
			bad[i] = 1;
		}
		if (bad[i]) {
			gid[i] = -1;
			continue;
		}
		/* signature keeps __name__ (Prometheus hashes all labels but le) */
		buf_reset(&ev->key);
		buf_adds(&ev->key, "");
		for (size_t j = 0; j < in->s[i].ls->n; j++) {
			if (strcmp(in->s[i].ls->v[j].name, "le") == 0)
				continue;
			buf_adds(&ev->key, in->s[i].ls->v[j].name);
			buf_addc(&ev->key, '\xff');
			buf_adds(&ev->key, in->s[i].ls->v[j].value);
			buf_addc(&ev->key, '\xff');
		}
		void *x = hmap_get(&m, ev->key.data, ev->key.len);
		if (!x) {
			struct labels_builder lb;
			lb_init(&lb);
			lb_reset(&lb, in->s[i].ls);
			lb_del(&lb, "le");
			(*groups)[ng].ls = pq_keep(ev, lb_finish(&lb));
			lb_free(&lb);
			(*groups)[ng].b = pq_alloc(ev, (in->n + 1) * sizeof(struct bucket));
			x = (void *)(uintptr_t)(++ng);
			hmap_put(&m, ev->key.data, ev->key.len, x);
		}
		gid[i] = (long)(uintptr_t)x - 1;
	}
	hmap_free(&m, NULL);
	return ng;
}

static void note_bad_le(struct pq_eval *ev, const struct pq_node *argn, const struct labels *ls)
{
	const char *name = labels_get(ls, "__name__"), *le = labels_get(ls, "le");
	char qn[512], ql[512];
	pq_goquote(name ? name : "", qn, sizeof(qn));
	pq_goquote(le ? le : "", ql, sizeof(ql));
	pq_note(ev, 1, argn, "bucket label \"le\" is missing or has a malformed value of %s for metric name %s", ql, qn);
}

/* Shared driver: for each step, fill group buckets, then call per q. */
static int hist_run(struct pq_eval *ev, const struct pq_node *n, const struct pq_val *in,
    const struct pq_node *argn, int frac, const double *p1, const double *p2,
    const double *qs, size_t nq, const char *qlabel, struct pq_val *out)
{
	long *gid = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(long));
	double *le = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(double));
	int *bad = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(int));
	struct hgroup *g;
	size_t ng = hist_groups(ev, in, gid, &g, le, bad);
	size_t nout = ng * (nq ? nq : 1);
	struct pq_ser *o = pq_vec_alloc(ev, out, nout);
	for (size_t x = 0; x < ng; x++) {
		for (size_t j = 0; j < (nq ? nq : 1); j++) {
			struct pq_ser *s = &o[x * (nq ? nq : 1) + j];
			s->ls = g[x].ls;
			s->drop_name = 1;
			if (qlabel) {
				if (labels_get(g[x].ls, qlabel))
					return pq_fail(ev, PQ_ERR_EXEC, "label %s already exists on the input series", qlabel);
				char qb[64];
				double q = qs[j];
				if (isnan(q))
					snprintf(qb, sizeof(qb), "NaN");
				else if (isinf(q))
					snprintf(qb, sizeof(qb), q > 0 ? "+Inf" : "-Inf");
				else {
					pq_fmt_float(q, qb, sizeof(qb));
					if (q == floor(q) && fabs(q) < 1e15 && !strchr(qb, '.'))
						snprintf(qb + strlen(qb), sizeof(qb) - strlen(qb), ".0");
				}
				struct labels_builder lb;
				lb_init(&lb);
				lb_reset(&lb, g[x].ls);
				lb_set(&lb, qlabel, qb);
				s->ls = pq_keep(ev, lb_finish(&lb));
				lb_free(&lb);
			}
		}
	}
	for (size_t k = 0; k < ev->nsteps; k++) {
		for (size_t x = 0; x < ng; x++)
			g[x].n = 0;
		for (size_t i = 0; i < in->n; i++) {
			if (!in->s[i].ok[k])
				continue;
			if (bad[i]) {
				note_bad_le(ev, argn, in->s[i].ls);
				continue;
			}
			struct hgroup *h = &g[gid[i]];
			h->b[h->n].ub = le[i];
			h->b[h->n++].count = in->s[i].v[k];
		}
		for (size_t x = 0; x < ng; x++) {
			if (!g[x].n)
				continue;
			for (size_t j = 0; j < (nq ? nq : 1); j++) {
				struct pq_ser *s = &o[x * (nq ? nq : 1) + j];
				struct bucket *tmp = pq_alloc(ev, g[x].n * sizeof(struct bucket));
				memcpy(tmp, g[x].b, g[x].n * sizeof(struct bucket));
				if (frac) {
					s->v[k] = bucket_fraction(p1[k], p2[k], tmp, g[x].n);
				} else {
					int forced;
					double q = nq ? qs[j] : p1[k];
					s->v[k] = bucket_quantile(q, tmp, g[x].n, &forced);
					if (forced) {
						const char *name = labels_get(g[x].ls, "__name__");
						char qn[512];
						pq_goquote(name ? name : "", qn, sizeof(qn));
						pq_note(ev, 0, argn, "input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name %s", qn);
					}
				}
				s->ok[k] = 1;
			}
		}
		int rc = pq_check(ev);
		if (rc < 0)
			return rc;
	}
	(void)n;
	return pq_dedup(ev, out);
}

static void note_q(struct pq_eval *ev, const struct pq_node *at, double q)
{
	if (isnan(q) || q < 0 || q > 1) {
		char a[64];
		pq_fmt_float(q, a, sizeof(a));
		pq_note(ev, 1, at, "quantile value should be between 0 and 1, got %s", a);
	}
}

int pq_fn_histogram_quantile(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val q, in;
	int rc = pq_eval_node(ev, n->args[0], &q);
	if (rc < 0 || (rc = pq_eval_node(ev, n->args[1], &in)) < 0)
		return rc;
	for (size_t k = 0; k < ev->nsteps; k++)
		note_q(ev, n->args[0], q.sc[k]);
	return hist_run(ev, n, &in, n->args[1], 0, q.sc, NULL, NULL, 0, NULL, out);
}

int pq_fn_histogram_quantiles(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, lab;
	int rc = pq_eval_node(ev, n->args[0], &in);
	if (rc < 0 || (rc = pq_eval_node(ev, n->args[1], &lab)) < 0)
		return rc;
	size_t nq = n->nargs - 2;
	double *qs = pq_alloc(ev, nq * sizeof(double));
	for (size_t j = 0; j < nq; j++) {
		struct pq_val q;
		if ((rc = pq_eval_node(ev, n->args[2 + j], &q)) < 0)
			return rc;
		qs[j] = q.sc[0];
		note_q(ev, n->args[2 + j], qs[j]);
	}
	return hist_run(ev, n, &in, n->args[0], 0, NULL, NULL, qs, nq, lab.str, out);
}

int pq_fn_histogram_fraction(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val lo, hi, in;
	int rc = pq_eval_node(ev, n->args[0], &lo);
	if (rc < 0 || (rc = pq_eval_node(ev, n->args[1], &hi)) < 0 ||
	    (rc = pq_eval_node(ev, n->args[2], &in)) < 0)
		return rc;
	return hist_run(ev, n, &in, n->args[2], 1, lo.sc, hi.sc, NULL, 0, NULL, out);
}
