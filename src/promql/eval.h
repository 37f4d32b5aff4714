/*
 * eval.h — evaluator internals shared by eval.c, binop.c, aggr.c and
 * functions.c (private to src/promql/).
 *
 * Every expression is evaluated for all steps of the query at once: an
 * instant vector is a set of series, each with one value slot per step and
 * a presence flag (Prometheus's range evaluation, column-wise). Per-series
 * work (label signatures, matching) is then done once, not once per step.
 * Memory comes from a per-query arena, freed in one go.
 */
#ifndef VIGIL_PQ_EVAL_H
#define VIGIL_PQ_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/hmap.h"
#include "promql/ast.h"

#define PQ_NOTES_MAX 64	/* annotations kept per query */

/* One instant-vector series across all steps. */
struct pq_ser {
	struct labels *ls;	/* labels (owned by the query's label pool) */
	double *v;		/* nsteps values */
	uint8_t *ok;		/* nsteps presence flags */
	int64_t *ts;		/* sample timestamps per step (selectors only) or NULL */
	int drop_name;		/* __name__ is to be dropped at the end */
};

/* One range-vector series: raw samples, staleness markers removed. */
struct pq_raw {
	struct labels *ls;	/* labels (pool-owned) */
	const int64_t *t;	/* sample times, ms ascending */
	const double *v;	/* sample values */
	size_t n;		/* samples */
	int drop_name;		/* __name__ is to be dropped at the end */
};

struct pq_val {
	enum pq_value_type type;	/* what this holds */
	double *sc;			/* scalar: one value per step */
	const char *str;		/* string */
	struct pq_ser *s;		/* vector series */
	size_t n;			/* vector series count */
	struct pq_raw *m;		/* matrix series */
	size_t nm;			/* matrix series count */
	int64_t range;			/* matrix: window length, ms */
	int64_t off;			/* matrix: offset, ms */
	enum pq_at at;			/* matrix: @ kind */
	int64_t at_ms;			/* matrix: resolved @ time */
};

struct pq_arena_chunk;

struct pq_eval {
	struct storage *st;		/* where samples come from */
	int64_t start, end, interval;	/* current evaluation range, ms */
	size_t nsteps;			/* steps in it */
	int64_t qstart, qend;		/* the query's own range (for start()/end()) */
	int64_t qstep;			/* the query's step, ms */
	int range_query;		/* 1 for a range query */
	int want_ts;			/* the selector being evaluated feeds timestamp() */
	int64_t lookback;		/* instant selector lookback, ms */
	size_t max_samples;		/* sample limit */
	size_t cur_samples;		/* samples loaded so far */
	int64_t deadline_ns;		/* monotonic deadline, 0 none */
	unsigned tick;			/* counts work between deadline checks */
	struct pq_arena_chunk *arena;	/* per-query memory */
	size_t arena_bytes;		/* bytes handed out by the arena (capped via max_samples) */
	struct labels **pool;		/* label sets to free at the end */
	size_t npool, cappool;		/* used, allocated */
	struct storage_result *res;	/* select results kept alive */
	size_t nres, capres;		/* used, allocated */
	const char *qtext;		/* the query text (positions in notes) */
	char *err;			/* message out */
	size_t errsz;			/* its size */
	char *notes[PQ_NOTES_MAX];	/* annotations (malloced) */
	int note_warn[PQ_NOTES_MAX];	/* 1: warning */
	size_t nnotes;			/* annotations */
	struct buf key;			/* scratch for signatures */
};

/* Arena memory, zeroed; lives until the query ends. */
void *pq_alloc(struct pq_eval *ev, size_t n);
/* Register a malloced label set to free at the end; returns it. */
struct labels *pq_keep(struct pq_eval *ev, struct labels *ls);
/* Set an error message; returns code. */
int pq_fail(struct pq_eval *ev, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Add an annotation about node n ("PromQL info: " / "PromQL warning: " prefix added). */
void pq_note(struct pq_eval *ev, int warn, const struct pq_node *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Check the deadline every so often; 0 or PQ_ERR_TIMEOUT. */
int pq_check(struct pq_eval *ev);
/* Account for n samples held; 0 or PQ_ERR_TOO_MANY. */
int pq_account(struct pq_eval *ev, size_t n);
/* Evaluate a node over the current range. */
int pq_eval_node(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
/* New vector series with arrays for every step (absent). */
struct pq_ser *pq_vec_alloc(struct pq_eval *ev, struct pq_val *out, size_t n);
/* Time of step i in the current range. */
static inline int64_t pq_step_t(const struct pq_eval *ev, size_t i)
{
	return ev->start + (int64_t)i * ev->interval;
}
/* Labels minus __name__ (pool-owned). */
struct labels *pq_drop_name(struct pq_eval *ev, const struct labels *ls);
/* Build a grouping key in ev->key: with include=1 only names, else all but names
 * (and always without __name__ when include=0). */
void pq_sig(struct pq_eval *ev, const struct labels *ls, const struct pq_strs *names, int include);
/* Merge series with equal labels whose steps do not overlap; error on overlap. */
int pq_dedup(struct pq_eval *ev, struct pq_val *v);

/* Binary operators (binop.c): 0 or a PQ_ERR_* with the message set. */
int pq_eval_binary(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
/* Aggregations (aggr.c): 0 or a PQ_ERR_*. */
int pq_eval_agg(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);
/* Function calls (functions.c and friends): 0 or a PQ_ERR_*. */
int pq_eval_call(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);

#endif
