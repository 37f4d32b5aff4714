/*
 * hmap.h — an open-addressing hash map from byte-string keys to pointers.
 *
 * The map copies keys; values are the caller's. Iteration order is unspecified.
 *
 *   struct hmap m; hmap_init(&m);
 *   hmap_put(&m, "k", 1, v); void *x = hmap_get(&m, "k", 1);
 *   for (size_t it = 0; hmap_next(&m, &it, &key, &klen, &val);) ...
 *   hmap_free(&m, NULL);
 */
#ifndef VIGIL_HMAP_H
#define VIGIL_HMAP_H

#include <stddef.h>
#include <stdint.h>

struct hmap_slot {
	char *key;	/* owned copy, NULL when empty; HMAP_TOMB when deleted */
	size_t klen;	/* key length in bytes */
	uint64_t hash;	/* hmap_hash(key) */
	void *val;	/* the caller's value */
};

struct hmap {
	struct hmap_slot *slots;	/* cap entries */
	size_t cap;			/* power of two, or 0 */
	size_t len;			/* live entries */
	size_t used;			/* live + tombstones */
};

/* 64-bit hash of n bytes (xxhash-like quality, seeded per process). */
uint64_t hmap_hash(const void *p, size_t n);
void hmap_init(struct hmap *m);
/* Free the map; call free_val on each value if not NULL. m may be NULL. */
void hmap_free(struct hmap *m, void (*free_val)(void *));
/* Return the value for key, or NULL. */
void *hmap_get(const struct hmap *m, const void *key, size_t klen);
/* Set key to val; return the old value or NULL. */
void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val);
/* Remove key; return its value or NULL. */
void *hmap_del(struct hmap *m, const void *key, size_t klen);
/* Step an iterator that starts at *it == 0; return 1 with an entry, 0 at the end. */
int hmap_next(const struct hmap *m, size_t *it, const char **key /* out */,
    size_t *klen /* out */, void **val /* out */);

#endif
