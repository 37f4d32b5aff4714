/*
 * index.h — pieces shared by the head and the on-disk blocks (private to
 * src/tsdb): sorted postings lists of series ids, the evaluation of label
 * matchers over any inverted index (struct ixreader), and growable sample
 * arrays.
 *
 * A postings list is a sorted array of unique uint32 series ids; the set of
 * series that have label name=value. Matchers turn into intersections (a
 * matcher that cannot match an absent label), subtractions (one that can) and
 * unions (regexes over the label's values), as Prometheus does.
 */
#ifndef VIGIL_TSDB_INDEX_H
#define VIGIL_TSDB_INDEX_H
#include <stddef.h>
#include <stdint.h>

#include "tsdb/storage.h"

struct postings {
	uint32_t *v;	/* series ids, sorted ascending, unique (owned) */
	size_t n;	/* ids held */
	size_t cap;	/* slots allocated */
};

/* Free the ids (p may be NULL); the list is empty and reusable afterwards. */
void postings_free(struct postings *p);
/* Append one id (the caller keeps the order or calls postings_sort). */
void postings_add(struct postings *p, uint32_t id);
/* Append n ids. */
void postings_add_n(struct postings *p, const uint32_t *ids, size_t n);
/* Sort and drop duplicates. */
void postings_sort(struct postings *p);
/* Keep in a only the ids also in b (both sorted). */
void postings_intersect(struct postings *a, const struct postings *b);
/* Remove from a the ids in b (both sorted). */
void postings_subtract(struct postings *a, const struct postings *b);
/* Return 1 if sorted p holds id. */
int postings_has(const struct postings *p, uint32_t id);

/* An inverted index as the matcher evaluator sees it. */
struct ixreader {
	void *impl;	/* the index */
	/* Call fn(arg, value) once for each value label name has (any order). */
	void (*values)(void *impl, const char *name,
	    void (*fn)(void *arg, const char *value), void *arg);
	/* Append (unsorted is fine) the ids of series with name=value to out. */
	void (*postings)(void *impl, const char *name, const char *value,
	    struct postings *out);
	/* Append the ids of every series to out. */
	void (*all)(void *impl, struct postings *out);
};

/* Set out (empty on entry) to the sorted ids of series matching every matcher
 * (nm == 0 selects all series). */
void ix_select(const struct ixreader *ix, const struct matcher *ms, size_t nm,
    struct postings *out);

struct samples {
	int64_t *t;	/* timestamps, ms (owned) */
	double *v;	/* values (owned) */
	size_t n;	/* samples held */
	size_t cap;	/* slots allocated */
};

/* Append one sample. */
void samples_add(struct samples *s, int64_t t, double v);
/* Free the arrays (s may be NULL); s is empty afterwards. */
void samples_free(struct samples *s);
/* Sort by timestamp and keep one sample per timestamp (the later-added one). */
void samples_sort_dedup(struct samples *s);

#endif
