/* rangefn.c — functions over range vectors: rate/increase/delta with
 * Prometheus's extrapolation, irate/idelta, deriv/predict_linear, changes,
 * resets and the *_over_time family. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/kahan.h"
#include "core/xmalloc.h"
#include "promql/eval.h"
#include "promql/fn.h"

int pq_range_apply(struct pq_eval *ev, const struct pq_val *m, int keep_name,
    pq_window_fn fn, const void *ctx, struct pq_val *out)
{
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (m->nm ? m->nm : 1) * sizeof(struct pq_ser));
	out->n = 0;
	/* rate() and friends look for counter resets in every window: count
	 * the drops once per series so that windows without any skip the scan */
	int want_drops = fn == pq_w_extrapolated;
	uint32_t *drops = NULL;
	size_t dcap = 0;
	int rc = 0;
	for (size_t i = 0; i < m->nm; i++) {
		const struct pq_raw *r = &m->m[i];
		if (want_drops && r->n) {
			if (r->n > dcap) {
				dcap = r->n;
				drops = xreallocarray(drops, dcap, sizeof(*drops));
			}
			uint32_t c = 0;
			drops[0] = 0;
			for (size_t k = 1; k < r->n; k++) {
				c += r->v[k] < r->v[k - 1];
				drops[k] = c;
			}
		}
		struct pq_ser *o = &out->s[out->n];
		o->ls = r->ls;
		o->drop_name = r->drop_name || !keep_name;
		o->v = pq_alloc(ev, ev->nsteps * sizeof(double));
		o->ok = pq_alloc(ev, ev->nsteps);
		size_t lo = 0, hi = 0, any = 0;
		for (size_t k = 0; k < ev->nsteps; k++) {
			int64_t ts = m->at != PQ_AT_NONE ? m->at_ms : pq_step_t(ev, k);
			int64_t T = ts - m->off;
			if (m->at != PQ_AT_NONE) {
				lo = hi = 0;
			}
			while (lo < r->n && r->t[lo] <= T - m->range)
				lo++;
			if (hi < lo)
				hi = lo;
			while (hi < r->n && r->t[hi] <= T)
				hi++;
			struct pq_window w = { r->t + lo, r->v + lo, hi - lo, pq_step_t(ev, k), T, m->range, r->ls, k,
				want_drops ? drops + lo : NULL };
			if (fn(ev, ctx, &w, &o->v[k])) {
				o->ok[k] = 1;
				any++;
			}
			/* long series with wide windows: look at the clock inside too */
			if ((k & 63) == 63 && (rc = pq_check(ev)) < 0)
				goto out;
		}
		if (any)
			out->n++;
		if ((rc = pq_check(ev)) < 0)
			goto out;
	}
out:
	free(drops);
	return rc;
}

/* rate/increase/delta: ctx points at an int: bit0 counter, bit1 rate. */
int pq_w_extrapolated(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	(void)ev;
	int mode = *(const int *)ctx, counter = mode & 1, is_rate = mode & 2;
	if (w->n < 2)
		return 0;
	size_t last = w->n - 1;
	int64_t range_start = w->end - w->range, range_end = w->end;
	double res = w->v[last] - w->v[0];
	if (counter && (!w->drops || w->drops[last] != w->drops[0])) {
		double prev = w->v[0];
		for (size_t i = 1; i < w->n; i++) {
			if (w->v[i] < prev)
				res += prev;
			prev = w->v[i];
		}
	}
	double to_start = (double)(w->t[0] - range_start) / 1000;
	double to_end = (double)(range_end - w->t[last]) / 1000;
	double sampled = (double)(w->t[last] - w->t[0]) / 1000;
	double avg = sampled / (double)last;
	double thresh = avg * 1.1;
	double interval = sampled;
	if (to_start >= thresh)
		to_start = avg / 2;
	if (counter && res > 0 && w->v[0] >= 0) {
		double to_zero = sampled * (w->v[0] / res);
		if (to_zero < to_start)
			to_start = to_zero;
	}
	interval += to_start;
	if (to_end >= thresh)
		to_end = avg / 2;
	interval += to_end;
	double factor = interval / sampled;
	if (is_rate)
		factor /= (double)w->range / 1000;
	*out = res * factor;
	return 1;
}

/* irate/idelta: ctx int 1 for irate. */
int pq_w_instant(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	(void)ev;
	int is_rate = *(const int *)ctx;
	if (w->n < 2)
		return 0;
	double l = w->v[w->n - 1], p = w->v[w->n - 2];
	double r = l - p;
	if (is_rate && l < p)
		r = l;
	int64_t dt = w->t[w->n - 1] - w->t[w->n - 2];
	if (dt == 0)
		return 0;
	if (is_rate)
		r /= (double)dt / 1000;
	*out = r;
	return 1;
}

static void linreg(const struct pq_window *w, int64_t icept, double *slope, double *intercept)
{
	double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
	double init = w->v[0];
	int consty = 1;
	for (size_t i = 0; i < w->n; i++) {
		if (consty && i > 0 && w->v[i] != init)
			consty = 0;
		n += 1;
		double x = (double)(w->t[i] - icept) / 1e3;
		sx = kahan_inc(x, sx, &cx);
		sy = kahan_inc(w->v[i], sy, &cy);
		sxy = kahan_inc(x * w->v[i], sxy, &cxy);
		sx2 = kahan_inc(x * x, sx2, &cx2);
	}
	if (consty) {
		if (isinf(init)) {
			*slope = NAN;
			*intercept = NAN;
			return;
		}
		*slope = 0;
		*intercept = init;
		return;
	}
	sx += cx;
	sy += cy;
	sxy += cxy;
	sx2 += cx2;
	double cov = sxy - sx * sy / n, var = sx2 - sx * sx / n;
	*slope = cov / var;
	*intercept = sy / n - *slope * sx / n;
}

int pq_w_deriv(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	(void)ev;
	(void)ctx;
	if (w->n < 2)
		return 0;
	double s, i;
	linreg(w, w->t[0], &s, &i);
	*out = s;
	return 1;
}

/* ctx: the scalar argument per step. */
int pq_w_predict(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	(void)ev;
	const double *dur = ctx;
	if (w->n < 2)
		return 0;
	double s, i;
	linreg(w, w->ts, &s, &i);
	*out = s * dur[w->step] + i;
	return 1;
}

int pq_w_changes(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	(void)ev;
	int resets = *(const int *)ctx;
	if (w->n < 1)
		return 0;
	double c = 0, prev = w->v[0];
	for (size_t i = 1; i < w->n; i++) {
		double cur = w->v[i];
		if (resets ? cur < prev : (cur != prev && !(isnan(cur) && isnan(prev))))
			c++;
		prev = cur;
	}
	*out = c;
	return 1;
}

double pq_quantile(double q, double *v, size_t n);

/* The *_over_time family; ctx points at an enum pq_ot. */
int pq_w_over_time(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out)
{
	const struct pq_ot_ctx *c = ctx;
	if (w->n == 0)
		return 0;
	switch (c->kind) {
	case PQ_OT_AVG: {
		double sum = w->v[0], count = 1, mean = 0, kc = 0;
		int inc = 0;
		for (size_t i = 1; i < w->n; i++) {
			count = (double)(i + 1);
			if (!inc) {
				double nc = kc;
				double ns = kahan_inc(w->v[i], sum, &nc);
				if (!isinf(ns)) {
					sum = ns;
					kc = nc;
					continue;
				}
				inc = 1;
				mean = sum / (count - 1);
				kc /= count - 1;
			}
			double q = (count - 1) / count;
			double qk = q * kc;
			mean = kahan_inc(w->v[i] / count, q * mean, &qk);
			kc = qk;
		}
		*out = inc ? mean + kc : sum / count + kc / count;
		return 1;
	}
	case PQ_OT_SUM: {
		double s = 0, k = 0;
		for (size_t i = 0; i < w->n; i++)
			s = kahan_inc(w->v[i], s, &k);
		*out = isinf(s) ? s : s + k;
		return 1;
	}
	case PQ_OT_COUNT: *out = (double)w->n; return 1;
	case PQ_OT_PRESENT: *out = 1; return 1;
	case PQ_OT_LAST: *out = w->v[w->n - 1]; return 1;
	case PQ_OT_FIRST: *out = w->v[0]; return 1;
	case PQ_OT_TS_LAST: *out = (double)w->t[w->n - 1] / 1000; return 1;
	case PQ_OT_TS_FIRST: *out = (double)w->t[0] / 1000; return 1;
	case PQ_OT_MIN: case PQ_OT_MAX: case PQ_OT_TS_MIN: case PQ_OT_TS_MAX: {
		double best = w->v[0];
		int64_t bt = w->t[0];
		for (size_t i = 0; i < w->n; i++) {
			double cur = w->v[i];
			int take;
			switch (c->kind) {
			case PQ_OT_MIN: take = cur < best || isnan(best); break;
			case PQ_OT_MAX: take = cur > best || isnan(best); break;
			case PQ_OT_TS_MIN: take = cur <= best || isnan(best); break;
			default: take = cur >= best || isnan(best); break;
			}
			if (take) {
				best = cur;
				bt = w->t[i];
			}
		}
		*out = (c->kind == PQ_OT_MIN || c->kind == PQ_OT_MAX) ? best : (double)bt / 1000;
		return 1;
	}
	case PQ_OT_STDDEV: case PQ_OT_STDVAR: {
		double count = 0, mean = 0, cm = 0, aux = 0, ca = 0;
		for (size_t i = 0; i < w->n; i++) {
			count++;
			double d = w->v[i] - (mean + cm);
			mean = kahan_inc(d / count, mean, &cm);
			aux = kahan_inc(d * (w->v[i] - (mean + cm)), aux, &ca);
		}
		double var = (aux + ca) / count;
		*out = c->kind == PQ_OT_STDDEV ? sqrt(var) : var;
		return 1;
	}
	case PQ_OT_QUANTILE: case PQ_OT_MAD: {
		double *tmp = pq_alloc(ev, w->n * sizeof(double));
		memcpy(tmp, w->v, w->n * sizeof(double));
		if (c->kind == PQ_OT_QUANTILE) {
			*out = pq_quantile(c->param[w->step], tmp, w->n);
			return 1;
		}
		for (size_t i = 0; i < w->n; i++)
			if (isnan(w->v[i])) {
				*out = NAN;
				return 1;
			}
		double med = pq_quantile(0.5, tmp, w->n);
		for (size_t i = 0; i < w->n; i++)
			tmp[i] = fabs(w->v[i] - med);
		*out = pq_quantile(0.5, tmp, w->n);
		return 1;
	}
	case PQ_OT_HOLT: {
		double sf = c->param[w->step], tf = c->param2[w->step];
		if (w->n < 2)
			return 0;
		double s0 = 0, s1 = w->v[0], b = w->v[1] - w->v[0];
		for (size_t i = 1; i < w->n; i++) {
			double x = sf * w->v[i];
			if (i - 1 != 0)
				b = tf * (s1 - s0) + (1 - tf) * b;
			double y = (1 - sf) * (s1 + b);
			s0 = s1;
			s1 = x + y;
		}
		*out = s1;
		return 1;
	}
	}
	return 0;
}
