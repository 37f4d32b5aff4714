/* hmap.c — see hmap.h. Linear probing with tombstones; grows at 70% load. */
#include "core/hmap.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static char hmap_tomb_mark;
#define HMAP_TOMB (&hmap_tomb_mark)

uint64_t hmap_hash(const void *p, size_t n)
{
	/* FNV-1a folded through a 64-bit finaliser (splitmix64): cheap, and good
	 * enough spread for label strings; inputs are not attacker-chosen keys
	 * into a table whose collisions could starve anything critical. */
	const uint8_t *s = p;
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	h ^= h >> 31;
	return h;
}

void hmap_init(struct hmap *m)
{
	memset(m, 0, sizeof(*m));
}

void hmap_free(struct hmap *m, void (*free_val)(void *))
{
	if (!m)
		return;
	for (size_t i = 0; i < m->cap; i++) {
		struct hmap_slot *s = &m->slots[i];
		if (s->key && s->key != HMAP_TOMB) {
			if (free_val)
				free_val(s->val);
			free(s->key);
		}
	}
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

static struct hmap_slot *find(const struct hmap *m, const void *key, size_t klen, uint64_t h)
{
	if (!m->cap)
		return NULL;
	size_t mask = m->cap - 1;
	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *s = &m->slots[i];
		if (!s->key)
			return NULL;
		if (s->key != HMAP_TOMB && s->hash == h && s->klen == klen &&
		    memcmp(s->key, key, klen) == 0)
			return s;
	}
}

static void grow(struct hmap *m)
{
	size_t ncap = m->cap ? m->cap * 2 : 16;
	if (m->len * 2 < m->cap)
		ncap = m->cap;	/* mostly tombstones: rehash at the same size */
	struct hmap_slot *old = m->slots;
	size_t ocap = m->cap;
	m->slots = xcalloc(ncap, sizeof(*m->slots));
	m->cap = ncap;
	m->used = m->len;
	for (size_t i = 0; i < ocap; i++) {
		struct hmap_slot *s = &old[i];
		if (!s->key || s->key == HMAP_TOMB)
			continue;
		size_t j = s->hash & (ncap - 1);
		while (m->slots[j].key)
			j = (j + 1) & (ncap - 1);
		m->slots[j] = *s;
	}
	free(old);
}

void *hmap_get(const struct hmap *m, const void *key, size_t klen)
{
	struct hmap_slot *s = find(m, key, klen, hmap_hash(key, klen));
	return s ? s->val : NULL;
}

void *hmap_put(struct hmap *m, const void *key, size_t klen, void *val)
{
	uint64_t h = hmap_hash(key, klen);
	struct hmap_slot *s = find(m, key, klen, h);
	if (s) {
		void *old = s->val;
		s->val = val;
		return old;
	}
	if ((m->used + 1) * 10 >= m->cap * 7)
		grow(m);
	size_t mask = m->cap - 1, i = h & mask;
	while (m->slots[i].key && m->slots[i].key != HMAP_TOMB)
		i = (i + 1) & mask;
	s = &m->slots[i];
	if (!s->key)
		m->used++;
	s->key = xstrndup(key, klen);
	s->klen = klen;
	s->hash = h;
	s->val = val;
	m->len++;
	return NULL;
}

void *hmap_del(struct hmap *m, const void *key, size_t klen)
{
	struct hmap_slot *s = find(m, key, klen, hmap_hash(key, klen));
	if (!s)
		return NULL;
	void *v = s->val;
	free(s->key);
	s->key = HMAP_TOMB;
	s->val = NULL;
	m->len--;
	return v;
}

int hmap_next(const struct hmap *m, size_t *it, const char **key, size_t *klen, void **val)
{
	for (; *it < m->cap; (*it)++) {
		struct hmap_slot *s = &m->slots[*it];
		if (s->key && s->key != HMAP_TOMB) {
			*key = s->key;
			*klen = s->klen;
			*val = s->val;
			(*it)++;
			return 1;
		}
	}
	return 0;
}
