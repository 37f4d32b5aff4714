/* alerting.c — see alerting.h. */
#include <stdio.h>
#include <string.h>

#include "core/alerting.h"
#include "promql/promql.h"

int alerting_check_expr(void *ctx, const char *expr, char *err, size_t errsz)
{
	struct pq_expr *e;
	(void)ctx;
	if (pq_parse(expr, &e, err, errsz) < 0)
		return -1;
	pq_free(e);
	return 0;
}

int alerting_format_expr(void *ctx, const char *expr, struct buf *out)
{
	struct pq_expr *e;
	char err[256];
	(void)ctx;
	if (pq_parse(expr, &e, err, sizeof(err)) < 0)
		return -1;
	int rc = pq_format(e, out);
	pq_free(e);
	return rc < 0 ? -1 : 0;
}

int alerting_query(void *ctx, const char *expr, int64_t ts_ms, struct alert_vector *out,
    char *err, size_t errsz)
{
	const struct alerting_query_ctx *q = ctx;
	struct pq_expr *e;
	if (pq_parse(expr, &e, err, errsz) < 0)
		return -1;
	struct pq_opts o = { q->lookback_ms, q->max_samples, q->timeout_ms };
	struct pq_result r;
	memset(&r, 0, sizeof(r));
	int rc = pq_eval_instant(q->st, e, ts_ms, &o, &r, err, errsz);
	pq_free(e);
	if (rc != 0) {
		pq_result_free(&r);
		return -1;
	}
	if (r.type != PQ_VAL_SCALAR && r.type != PQ_VAL_VECTOR) {
		/* Prometheus's rule query function refuses ranges and strings. */
		snprintf(err, errsz, "rule result is not a vector or scalar");
		pq_result_free(&r);
		return -1;
	}
	if (r.type == PQ_VAL_SCALAR) {
		struct labels *none = labels_new(NULL, 0);
		alert_vector_add(out, none, r.scalar);
		labels_free(none);
	} else {
		for (size_t i = 0; i < r.n; i++)
			if (r.series[i].n)
				alert_vector_add(out, r.series[i].labels, r.series[i].v[r.series[i].n - 1]);
	}
	pq_result_free(&r);
	return 0;
}

int alerting_check_config(const char *name, const char *text, size_t len, char *err, size_t errsz)
{
	struct alert_runtime *rt = NULL;
	if (alert_runtime_new(name, text, len, alerting_check_expr, alerting_format_expr, NULL, NULL,
	    &rt, err, errsz) < 0)
		return -1;
	alert_runtime_free(rt);
	return 0;
}
