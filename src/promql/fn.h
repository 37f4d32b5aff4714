/* fn.h — helpers shared by the function files (private to src/promql/). */
#ifndef VIGIL_PQ_FN_H
#define VIGIL_PQ_FN_H

#include "promql/eval.h"

/* One step's window of a range-vector series. */
struct pq_window {
	const int64_t *t;		/* sample times in (end - range, end] */
	const double *v;		/* values */
	size_t n;			/* samples */
	int64_t ts;			/* evaluation time (before offset), ms */
	int64_t end;			/* window end (after offset), ms */
	int64_t range;			/* window length, ms */
	const struct labels *ls;	/* the series */
	size_t step;			/* step index */
	const uint32_t *drops;		/* for rate/increase: drops[i] - drops[0] values
					 * lower than the one before in (0, i]; or NULL */
};

/* Compute one output value from a window; return 1 if there is one. */
typedef int (*pq_window_fn)(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);

/* Apply fn to every series' window at every step. */
int pq_range_apply(struct pq_eval *ev, const struct pq_val *m, int keep_name,
    pq_window_fn fn, const void *ctx, struct pq_val *out);

enum pq_ot {
	PQ_OT_AVG, PQ_OT_SUM, PQ_OT_COUNT, PQ_OT_PRESENT, PQ_OT_LAST, PQ_OT_FIRST,
	PQ_OT_TS_LAST, PQ_OT_TS_FIRST, PQ_OT_MIN, PQ_OT_MAX, PQ_OT_TS_MIN, PQ_OT_TS_MAX,
	PQ_OT_STDDEV, PQ_OT_STDVAR, PQ_OT_QUANTILE, PQ_OT_MAD, PQ_OT_HOLT,
};

struct pq_ot_ctx {
	enum pq_ot kind;	/* which function */
	const double *param;	/* per-step scalar (quantile q, smoothing factor) */
	const double *param2;	/* per-step trend factor */
};

/* Window functions (rangefn.c), each a pq_window_fn:
 * rate/increase/delta (ctx: int, bit0 counter, bit1 per-second) */
int pq_w_extrapolated(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);
/* irate/idelta (ctx: int, 1 for irate) */
int pq_w_instant(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);
/* deriv (no ctx) */
int pq_w_deriv(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);
/* predict_linear (ctx: per-step seconds ahead) */
int pq_w_predict(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);
/* changes/resets (ctx: int, 1 for resets) */
int pq_w_changes(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);
/* the *_over_time family (ctx: struct pq_ot_ctx) */
int pq_w_over_time(struct pq_eval *ev, const void *ctx, const struct pq_window *w, double *out);

/* Matrix argument evaluation with a function-name hint (eval.c). */
int pq_eval_matrix_arg(struct pq_eval *ev, const struct pq_node *n, const char *func, struct pq_val *out);
/* Sample quantile as Prometheus computes it (sorts v). */
double pq_quantile(double q, double *v, size_t n);
/* Classic-bucket histogram functions (histfn.c). */
int pq_fn_histogram_quantile(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
int pq_fn_histogram_quantiles(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
int pq_fn_histogram_fraction(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
/* Go's %q quoting of s into out. */
void pq_goquote(const char *s, char *out, size_t n);

#endif
