/*
 * alerting.h — the glue between the alerting module and the PromQL engine:
 * the expression checker, formatter and instant-query function that rule
 * evaluation, `vigil check rules` and `vigil check config` use.
 */
#ifndef VIGIL_ALERTING_H
#define VIGIL_ALERTING_H

#include <stddef.h>
#include <stdint.h>

#include "alert/alert.h"
#include "tsdb/storage.h"

/* What a rule query runs against. */
struct alerting_query_ctx {
	struct storage *st;	/* the store */
	int64_t lookback_ms;	/* query.lookback_delta */
	size_t max_samples;	/* query.max_samples */
	int64_t timeout_ms;	/* query.timeout */
};

/* alert_expr_check_fn: does expr parse as PromQL? */
int alerting_check_expr(void *ctx, const char *expr, char *err, size_t errsz);
/* alert_expr_format_fn: expr in PromQL's canonical form. */
int alerting_format_expr(void *ctx, const char *expr, struct buf *out);
/* alert_query_fn: evaluate expr at ts_ms against ctx (struct alerting_query_ctx). */
int alerting_query(void *ctx, const char *expr, int64_t ts_ms, struct alert_vector *out,
    char *err, size_t errsz);
/* Load the config's rule files as the store worker will (syntax, templates,
 * PromQL). 0, or -1 with "FILE:LINE:COL: reason" in err. */
int alerting_check_config(const char *name, const char *text, size_t len, char *err, size_t errsz);

#endif
