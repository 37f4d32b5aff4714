/*
 * json.h — a small JSON reader for the alert module (private header): the
 * MSG_ALERTS payload, queued notifications and `vigil notify-test` input.
 * It builds a tree; input size and nesting are capped.
 *
 *   struct ajson *j; char err[128];
 *   if (ajson_parse(text, len, &j, err, sizeof err) < 0) ...;
 *   const struct ajson *labels = ajson_get(j->v[0], "labels");
 *   ajson_free(j);
 */
#ifndef VIGIL_ALERT_JSON_H
#define VIGIL_ALERT_JSON_H

#include <stddef.h>

#include "core/buf.h"

#define AJSON_MAX_BYTES (64u << 20)	/* one document */
#define AJSON_MAX_DEPTH 64		/* nesting of arrays and objects */

enum ajson_type { AJSON_NULL, AJSON_BOOL, AJSON_NUM, AJSON_STR, AJSON_ARR, AJSON_OBJ };

struct ajson {
	enum ajson_type t;	/* the value's type */
	double num;		/* AJSON_NUM value; AJSON_BOOL: 0 or 1 */
	char *str;		/* AJSON_STR value (NUL-terminated, may hold NULs: see len) */
	size_t len;		/* AJSON_STR length */
	struct ajson **v;	/* AJSON_ARR items / AJSON_OBJ values */
	char **keys;		/* AJSON_OBJ keys, parallel to v */
	size_t n;		/* items or members */
};

/* Parse n bytes. Return 0 with *out set, or -1 with "offset N: reason" in err. */
int ajson_parse(const char *p, size_t n, struct ajson **out /* out */, char *err, size_t errsz);
/* Free a tree; NULL is fine. */
void ajson_free(struct ajson *j);
/* The member called key of an object (NULL if absent or j is not an object). */
const struct ajson *ajson_get(const struct ajson *j, const char *key);
/* The string value of member key, or NULL if absent or not a string. */
const char *ajson_get_str(const struct ajson *j, const char *key);
/* Append j re-encoded as compact JSON. 0 or -E2BIG. */
int ajson_write(const struct ajson *j, struct buf *out);

#endif
