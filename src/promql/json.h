/*
 * json.h — a small JSON reader for the API's response shapes (the `vigil
 * query` CLI and the Prometheus comparison test read responses with it).
 * Internal to src/promql/ and its tests.
 */
#ifndef VIGIL_PQ_JSON_H
#define VIGIL_PQ_JSON_H

#include <stddef.h>

#define PQ_JSON_MAX   (64u << 20)	/* bytes of one string */
#define PQ_JSON_DEPTH 64		/* nesting accepted */

enum pq_json_type { PQ_J_NULL, PQ_J_BOOL, PQ_J_NUM, PQ_J_STR, PQ_J_ARR, PQ_J_OBJ };

struct pq_json {
	enum pq_json_type t;	/* type */
	char *s;		/* PQ_J_STR value (owned) */
	double n;		/* PQ_J_NUM / PQ_J_BOOL value */
	struct pq_json *kids;	/* array items / object members (owned) */
	size_t nk;		/* count */
	char **keys;		/* object member names, parallel to kids (owned) */
};

/* Parse n bytes at p into *v; 0 or -1 (v then holds what was read; free it either way). */
int pq_json_parse(const char *p, size_t n, struct pq_json *v /* out */);
/* Free a value's contents. */
void pq_json_free(struct pq_json *v);
/* Member key of object o, or NULL. */
const struct pq_json *pq_json_get(const struct pq_json *o, const char *key);

#endif
