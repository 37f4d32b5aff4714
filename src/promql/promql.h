/*
 * promql.h — vigil's PromQL engine (Prometheus 3.x float semantics).
 *
 *   struct pq_expr *e; char err[256];
 *   if (pq_parse("rate(x[5m])", &e, err, sizeof(err)) < 0) -> err "1:5: parse error: ..."
 *   struct pq_result r;
 *   pq_eval_range(st, e, start_ms, end_ms, step_ms, NULL, &r, err, sizeof(err));
 *   ... r.type, r.series ...; pq_result_free(&r); pq_free(e);
 *
 * Native histograms are not supported: queries and data that need them fail
 * with a clear error. Evaluation selects from any struct storage backend and
 * passes select_hints so a store can limit its work.
 */
#ifndef VIGIL_PROMQL_H
#define VIGIL_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/labels.h"
#include "tsdb/storage.h"

#define PQ_QUERY_MAX        (256u << 10)	/* bytes in one query text */
#define PQ_DEPTH_MAX        256		/* nesting depth of an expression */
#define PQ_DEFAULT_LOOKBACK (5 * 60 * 1000)	/* ms an instant selector looks back */
#define PQ_DEFAULT_MAX_SAMPLES 50000000	/* samples one query may hold */
#define PQ_STEPS_MAX        11000		/* points per series in a range query */

struct pq_expr;

/* Value types, named as the API names them. */
enum pq_value_type {
	PQ_VAL_NONE,	/* not typed (internal) */
	PQ_VAL_SCALAR,	/* "scalar" */
	PQ_VAL_VECTOR,	/* "vector" (instant vector) */
	PQ_VAL_MATRIX,	/* "matrix" (range vector) */
	PQ_VAL_STRING,	/* "string" */
};

/* Error classes a failed call returns (negative). */
#define PQ_ERR_BAD_DATA   (-22)	/* -EINVAL: parse or type error (HTTP 400) */
#define PQ_ERR_TIMEOUT    (-110)	/* -ETIMEDOUT: query timed out (HTTP 503) */
#define PQ_ERR_EXEC       (-33)	/* -EDOM: evaluation failed (HTTP 422) */
#define PQ_ERR_TOO_MANY   (-7)	/* -E2BIG: sample limit hit (HTTP 422) */

/*
 * Parse q. On success *out is an owned expression (free with pq_free) and 0
 * is returned. On failure return PQ_ERR_BAD_DATA with a Prometheus-style
 * message ("1:5: parse error: unexpected ...") in err.
 */
int pq_parse(const char *q, struct pq_expr **out /* out */, char *err, size_t errsz);
/* Free an expression; NULL is fine. */
void pq_free(struct pq_expr *e);
/* Type of the expression's result. */
enum pq_value_type pq_expr_type(const struct pq_expr *e);
/* Name of a value type as the API spells it ("vector"...). */
const char *pq_value_type_name(enum pq_value_type t);
/* 1 if the expression is a plain instant vector selector (for match[]). */
int pq_expr_is_selector(const struct pq_expr *e);
/* The matchers of a selector expression (owned by e); NULL if not a selector. */
const struct matcher *pq_expr_matchers(const struct pq_expr *e, size_t *n /* out */);
/* Append the expression pretty-printed in canonical form; 0 or -E2BIG. */
int pq_format(const struct pq_expr *e, struct buf *out);
/* Append the expression as Prometheus's format_query does: one line when it
 * fits in 100 characters, else split and indented by node; 0 or -E2BIG. */
int pq_format_pretty(const struct pq_expr *e, struct buf *out);

/* One series of a result: for a vector n == 1 and t is the evaluation time. */
struct pq_series {
	struct labels *labels;	/* owned */
	int64_t *t;		/* n timestamps, ms (owned) */
	double *v;		/* n values (owned) */
	size_t n;		/* points */
};

struct pq_result {
	enum pq_value_type type;	/* what the query returned */
	double scalar;			/* the value, for PQ_VAL_SCALAR */
	int64_t t;			/* evaluation time for scalar/string, ms */
	char *str;			/* the value, for PQ_VAL_STRING (owned) */
	struct pq_series *series;	/* vector/matrix series (owned), sorted by labels */
	size_t n;			/* series */
	char **notes;			/* annotations "PromQL info: ... (1:5)" (owned) */
	int *note_is_warn;		/* per note: 1 warning, 0 info */
	size_t nnotes;			/* annotations */
};

struct pq_opts {
	int64_t lookback_ms;	/* instant selector lookback, 0: 5m */
	size_t max_samples;	/* samples held at once, 0: PQ_DEFAULT_MAX_SAMPLES */
	int64_t timeout_ms;	/* wall-clock limit, 0: none */
};

/*
 * Evaluate e at t_ms. The result is owned by the caller (pq_result_free).
 * Return 0, or a PQ_ERR_* with Prometheus's message in err.
 */
int pq_eval_instant(struct storage *st, const struct pq_expr *e, int64_t t_ms,
    const struct pq_opts *o, struct pq_result *out /* out */, char *err, size_t errsz);
/*
 * Evaluate e at start, start+step, ... <= end; the result is a matrix (or a
 * PQ_ERR_BAD_DATA when e is not a scalar or instant vector).
 */
int pq_eval_range(struct storage *st, const struct pq_expr *e, int64_t start_ms,
    int64_t end_ms, int64_t step_ms, const struct pq_opts *o,
    struct pq_result *out /* out */, char *err, size_t errsz);
/* Format a float as Prometheus writes sample values (Go 'f', -1: "0.1",
 * "1000000", "+Inf", "NaN") into buf (always NUL-terminated, truncated to
 * fit n). Return the length of the whole text (snprintf-like; it is below
 * 400 bytes). */
size_t pq_fmt_float(double v, char *buf, size_t n);
/* The same as Prometheus's API JSON writes sample values: Go 'e' form below
 * 1e-6 and from 1e21 up ("1.5e-07", "1e+21"), else as pq_fmt_float. */
size_t pq_fmt_json_float(double v, char *buf, size_t n);
/* Write u in decimal at p (at most 20 bytes, no NUL); return the count. */
size_t pq_fmt_u64(uint64_t u, char *p);
/* Free a result's contents; r may be NULL. */
void pq_result_free(struct pq_result *r);

/* `vigil query [--server URL] [--range START END STEP] EXPR`; argv[0] == "query". */
int query_cli_main(int argc, char **argv);

#endif
