/*
 * textparse.h — a parser for the two text exposition formats: Prometheus
 * text 0.0.4 and OpenMetrics 1.0. The caller picks the format (usually from
 * the response's Content-Type) and gets one callback per sample and per
 * metadata line. Exemplars are checked for syntax and skipped.
 *
 *   struct tp_callbacks cb = { .sample = on_sample };
 *   char err[256];
 *   if (textparse(body, len, TP_OPENMETRICS, &cb, ctx, err, sizeof(err)) < 0)
 *           log_warn("scrape failed", "err=%s", err);   // "line 7: reason"
 *
 * Three levels:
 *   TP_PROMETHEUS         text 0.0.4: blank lines and comments allowed, int ms
 *                         timestamps, whitespace-tolerant.
 *   TP_OPENMETRICS        OpenMetrics syntax and structure: `# EOF`, metadata
 *                         rules, family grouping, name clashes, type-specific
 *                         labels (le, quantile, stateset), exemplar placement.
 *                         Float-second timestamps are turned into ms. This is
 *                         what a scrape uses (Prometheus is no stricter).
 *   TP_OPENMETRICS_STRICT adds the value rules of the specification (counters
 *                         not negative or NaN, histogram buckets cumulative
 *                         and consistent with _count, info == 1, stateset 0/1)
 *                         as in the OpenMetrics conformance suite.
 *
 * Everything is bounded: at most TP_MAX_LABELS labels per sample and
 * LABEL_VALUE_MAX bytes per name or value; the body length is the caller's cap.
 */
#ifndef VIGIL_TEXTPARSE_H
#define VIGIL_TEXTPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/labels.h"

#define TP_MAX_LABELS 128		/* labels on one sample, __name__ included */
#define TP_EXEMPLAR_MAX_RUNES 128	/* exemplar label names + values, in code points */

enum tp_format {
	TP_PROMETHEUS,		/* text/plain; version=0.0.4 */
	TP_OPENMETRICS,		/* application/openmetrics-text; version=1.0.0 */
	TP_OPENMETRICS_STRICT,	/* as above plus the specification's value rules */
};

enum tp_type {
	TP_UNKNOWN,		/* no TYPE line (or OpenMetrics "unknown") */
	TP_COUNTER,
	TP_GAUGE,
	TP_HISTOGRAM,
	TP_GAUGEHISTOGRAM,
	TP_SUMMARY,
	TP_INFO,
	TP_STATESET,
	TP_UNTYPED,		/* Prometheus text "untyped" */
};

struct tp_sample {
	const struct label *labels;	/* labels[0] is __name__, the rest in text order, unescaped */
	size_t nlabels;			/* entries in labels */
	double value;			/* the sample value (NaN and +-Inf included) */
	int has_ts;			/* 1 if the line carried a timestamp */
	int64_t ts_ms;			/* timestamp in ms since the epoch (saturated to int64) */
	enum tp_type type;		/* type of the family the sample belongs to, if known */
	size_t line;			/* 1-based line number */
};

/*
 * Callbacks; any may be NULL. Strings live only during the call. A callback
 * returning non-zero stops the parse and textparse returns that value.
 */
struct tp_callbacks {
	int (*sample)(void *ctx, const struct tp_sample *s);	/* one sample line */
	int (*help)(void *ctx, const char *family, const char *text, size_t len);	/* HELP, unescaped; text may hold NULs */
	int (*type)(void *ctx, const char *family, enum tp_type type);	/* TYPE */
	int (*unit)(void *ctx, const char *family, const char *unit);	/* UNIT (OpenMetrics) */
};

/*
 * Parse n bytes at p in format fmt, calling cb. Return 0 when the whole body
 * is valid; -EINVAL with a one-line message "line N: reason" in err (always
 * NUL-terminated when errsz > 0) when it is not; or a callback's non-zero
 * value. Samples before the error have already been delivered.
 */
int textparse(const char *p, size_t n, enum tp_format fmt, const struct tp_callbacks *cb,
    void *ctx, char *err, size_t errsz);

/* Pick the format from an HTTP Content-Type value (NULL: Prometheus text). */
enum tp_format tp_format_from_content_type(const char *ct);
/* Return the lower-case name of a type ("counter", ...; "unknown"). */
const char *tp_type_name(enum tp_type t);

#endif
