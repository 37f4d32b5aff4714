/*
 * storage.h — the contract between sample consumers (PromQL engine, API,
 * rule evaluation) and a store. A store is a table of functions plus its
 * state (Redis ae_* style backends): the real one is the tsdb (tsdb.h), the
 * reference one is memstore (memstore.h), an uncompressed in-memory store for
 * tests and for checking the tsdb against.
 *
 * Queries materialise: select() returns every matching series with its
 * samples in [mint, maxt] as plain arrays, sorted by labels. The caller owns
 * the result and frees it with storage_result_free().
 */
#ifndef VIGIL_STORAGE_H
#define VIGIL_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/labels.h"

enum match_type {
	MATCH_EQ,	/* name="value" */
	MATCH_NE,	/* name!="value" */
	MATCH_RE,	/* name=~"regex" (fully anchored) */
	MATCH_NRE,	/* name!~"regex" (fully anchored) */
};

struct matcher {
	enum match_type type;	/* kind of match */
	char *name;		/* label name (owned) */
	char *value;		/* literal value or regex source (owned) */
	void *re;		/* compiled pcre2_code for RE/NRE, else NULL */
	void *md;		/* pcre2 match data for re */
};

/*
 * Make a matcher; regexes are compiled anchored at both ends as Prometheus
 * does ("^(?:" re ")$"). Return 0, or -1 with a reason in err.
 */
int matcher_init(struct matcher *m, enum match_type type, const char *name,
    const char *value, char *err, size_t errsz);
/* Free a matcher's contents (m may be NULL). */
void matcher_free(struct matcher *m);
/* Return 1 if the value matches; an absent label is the empty string. */
int matcher_matches(const struct matcher *m, const char *value);
/* Return 1 if the matcher matches the empty string (selects absent labels). */
int matcher_matches_empty(const struct matcher *m);

struct storage_series {
	struct labels *labels;	/* owned */
	int64_t *t;		/* n timestamps, ms, ascending (owned) */
	double *v;		/* n values (owned); staleness markers included */
	size_t n;		/* samples */
};

struct storage_result {
	struct storage_series *series;	/* sorted by labels_cmp (owned) */
	size_t n;			/* series */
};

void storage_result_free(struct storage_result *r);

/* What a query will do with the samples, so a store may serve a downsampled tier. */
struct select_hints {
	int64_t step_ms;	/* evaluation step, 0 for instant queries */
	int64_t range_ms;	/* range of the range vector, 0 for instant vectors */
	const char *func;	/* function applied ("rate", "max_over_time"...), or NULL */
	int64_t lookback_ms;	/* instant vector selectors: the lookback delta, ms (0: not
				 * given; a store may then not serve a downsampled tier) */
	size_t max_series;	/* stop after this many series (0: no limit) */
	size_t max_samples;	/* fail with -E2BIG past this many samples (0: no limit) */
};

struct storage_ops {
	/* Select series matching all matchers with samples in [mint, maxt]. Series
	 * with no samples in the range are omitted. Return 0, -E2BIG over a hint's
	 * limit, or another negative errno with a reason in err. */
	int (*select)(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
	    int64_t maxt, const struct select_hints *hints, struct storage_result *out,
	    char *err, size_t errsz);
	/* Sorted, unique label names of series matching ms (nm may be 0 = all) that
	 * have samples in [mint, maxt]. *out is a malloced array of malloced strings. */
	int (*label_names)(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
	    int64_t maxt, char ***out, size_t *n);
	/* Sorted, unique values of label name, likewise. */
	int (*label_values)(void *impl, const char *name, const struct matcher *ms,
	    size_t nm, int64_t mint, int64_t maxt, char ***out, size_t *n);
	/* Append one sample. Return 0, -EEXIST for a duplicate timestamp with another
	 * value, -ERANGE if too old (outside the out-of-order window). */
	int (*append)(void *impl, const struct labels *ls, int64_t t, double v);
	/* Make appended samples visible (and durable per the store's rule). */
	int (*commit)(void *impl);
	/* Free the store. */
	void (*close)(void *impl);
};

struct storage {
	const struct storage_ops *ops;	/* the backend */
	void *impl;			/* its state */
};

/* Free an array of n malloced strings (as label_names returns). */
void storage_strings_free(char **v, size_t n);

#endif
