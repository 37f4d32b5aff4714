/*
 * labels.h — a series' identity: a set of (name, value) pairs sorted by name,
 * including __name__. One allocation holds the array and every string, so a
 * label set is freed with labels_free() (or free()).
 *
 *   struct labels_builder lb; lb_init(&lb);
 *   lb_set(&lb, "__name__", "up"); lb_set(&lb, "job", "node");
 *   struct labels *ls = lb_finish(&lb);    // sorted, owned by the caller
 *   labels_get(ls, "job") -> "node"
 */
#ifndef VIGIL_LABELS_H
#define VIGIL_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define LABELS_MAX        256		/* labels on one series */
#define LABEL_VALUE_MAX   (64u << 10)	/* bytes in one name or value */

struct label {
	const char *name;	/* label name, NUL-terminated */
	const char *value;	/* label value, NUL-terminated, never empty in a stored set */
};

struct labels {
	size_t n;		/* number of labels */
	struct label v[];	/* sorted by name, names unique */
};

/* Copy n labels into one owned, sorted set. Labels with empty values are dropped.
 * Return NULL if two labels share a name. */
struct labels *labels_new(const struct label *v, size_t n);
/* Copy a set. */
struct labels *labels_dup(const struct labels *ls);
/* Free a set; NULL is fine. */
void labels_free(struct labels *ls);
/* Return the value of name, or NULL if absent. */
const char *labels_get(const struct labels *ls, const char *name);
/* Order two sets the way Prometheus does (label by label, name then value). */
int labels_cmp(const struct labels *a, const struct labels *b);
/* Hash of the whole set (stable within a process). */
uint64_t labels_hash(const struct labels *ls);
/* Append the set as `name{a="b", c="d"}` (Prometheus form; quotes escaped). */
int labels_format(const struct labels *ls, struct buf *b);

struct lb_pair {
	char *name;	/* owned */
	char *value;	/* owned */
};

struct labels_builder {
	struct lb_pair *v;	/* owned pairs, unsorted */
	size_t n;		/* labels in v */
	size_t cap;		/* slots allocated */
};

void lb_init(struct labels_builder *lb);
/* Start from a copy of ls (NULL: empty). */
void lb_reset(struct labels_builder *lb, const struct labels *ls);
/* Set name to value, replacing; an empty value deletes the label. */
void lb_set(struct labels_builder *lb, const char *name, const char *value);
void lb_del(struct labels_builder *lb, const char *name);
const char *lb_get(const struct labels_builder *lb, const char *name);
/* Return a new sorted set from the builder; the builder keeps its contents. */
struct labels *lb_labels(const struct labels_builder *lb);
/* Like lb_labels, then empty the builder. */
struct labels *lb_finish(struct labels_builder *lb);
void lb_free(struct labels_builder *lb);

/* Return 1 if s is a valid label name ([a-zA-Z_][a-zA-Z0-9_]*). */
int label_name_valid(const char *s);
/* Return 1 if s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*). */
int metric_name_valid(const char *s);

#endif
