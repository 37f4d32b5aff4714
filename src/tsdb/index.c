/* index.c — see index.h. */
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tsdb/index.h"

void postings_free(struct postings *p)
{
	if (!p)
		return;
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void postings_add(struct postings *p, uint32_t id)
{
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 4;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n++] = id;
}

void postings_add_n(struct postings *p, const uint32_t *ids, size_t n)
{
	if (p->n + n > p->cap) {
		while (p->n + n > p->cap)
			p->cap = p->cap ? p->cap * 2 : 4;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	if (n)
		memcpy(p->v + p->n, ids, n * sizeof(*ids));
	p->n += n;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

void postings_sort(struct postings *p)
{
	int sorted = 1;
	for (size_t i = 1; i < p->n && sorted; i++)
		sorted = p->v[i - 1] < p->v[i];
	if (sorted)
		return;
	qsort(p->v, p->n, sizeof(*p->v), cmp_u32);
	size_t w = 0;
	for (size_t i = 0; i < p->n; i++)
		if (w == 0 || p->v[w - 1] != p->v[i])
			p->v[w++] = p->v[i];
	p->n = w;
}

/* Index of the first element >= x in v[lo, n), by galloping. */
static size_t gallop(const uint32_t *v, size_t lo, size_t n, uint32_t x)
{
	size_t step = 1, hi = lo;
	while (hi < n && v[hi] < x) {
		lo = hi + 1;
		hi += step;
		step *= 2;
	}
	if (hi > n)
		hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void postings_intersect(struct postings *a, const struct postings *b)
{
	size_t w = 0, j = 0;
	for (size_t i = 0; i < a->n && j < b->n; i++) {
		j = gallop(b->v, j, b->n, a->v[i]);
		if (j < b->n && b->v[j] == a->v[i])
			a->v[w++] = a->v[i];
	}
	a->n = w;
}

void postings_subtract(struct postings *a, const struct postings *b)
{
	size_t w = 0, j = 0;
	for (size_t i = 0; i < a->n; i++) {
		j = gallop(b->v, j, b->n, a->v[i]);
		if (!(j < b->n && b->v[j] == a->v[i]))
			a->v[w++] = a->v[i];
	}
	a->n = w;
}

int postings_has(const struct postings *p, uint32_t id)
{
	size_t i = gallop(p->v, 0, p->n, id);
	return i < p->n && p->v[i] == id;
}

struct union_ctx {
	const struct ixreader *ix;	/* index being read */
	const struct matcher *m;	/* the matcher */
	int want;			/* collect values where matches() == want */
	struct postings *out;		/* union being built */
};

static void union_value(void *arg, const char *value)
{
	struct union_ctx *u = arg;
	if (matcher_matches(u->m, value) == u->want)
		u->ix->postings(u->ix->impl, u->m->name, value, u->out);
}

/* Union of postings of name's values where matches(value) == want. */
static void union_matching(const struct ixreader *ix, const struct matcher *m, int want,
    struct postings *out)
{
	if (m->type == MATCH_EQ && want) {
		ix->postings(ix->impl, m->name, m->value, out);
	} else if (m->type == MATCH_NE && !want) {
		ix->postings(ix->impl, m->name, m->value, out);
	} else {
		struct union_ctx u = { ix, m, want, out };
		ix->values(ix->impl, m->name, union_value, &u);
	}
	postings_sort(out);
}

void ix_select(const struct ixreader *ix, const struct matcher *ms, size_t nm,
    struct postings *out)
{
	int have = 0;
	/* Positive sets first: they shrink the result and may end it early. */
	for (size_t i = 0; i < nm; i++) {
		if (matcher_matches_empty(&ms[i]))
			continue;
		struct postings p = { 0 };
		union_matching(ix, &ms[i], 1, &p);
		if (!have) {
			*out = p;
			have = 1;
		} else {
			postings_intersect(out, &p);
			postings_free(&p);
		}
		if (out->n == 0)
			return;
	}
	if (!have) {
		ix->all(ix->impl, out);
		postings_sort(out);
	}
	/* A matcher that matches "" keeps series without the label: remove
	 * those whose value fails it instead. */
	for (size_t i = 0; i < nm && out->n; i++) {
		if (!matcher_matches_empty(&ms[i]))
			continue;
		struct postings p = { 0 };
		union_matching(ix, &ms[i], 0, &p);
		postings_subtract(out, &p);
		postings_free(&p);
	}
}

void samples_add(struct samples *s, int64_t t, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->t = xreallocarray(s->t, s->cap, sizeof(*s->t));
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->t[s->n] = t;
	s->v[s->n++] = v;
}

void samples_free(struct samples *s)
{
	if (!s)
		return;
	free(s->t);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

struct tv {
	int64_t t;	/* timestamp */
	double v;	/* value */
	size_t seq;	/* insertion order, to keep the later of equal timestamps */
};

static int cmp_tv(const void *a, const void *b)
{
	const struct tv *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void samples_sort_dedup(struct samples *s)
{
	int sorted = 1;
	for (size_t i = 1; i < s->n && sorted; i++)
		sorted = s->t[i - 1] < s->t[i];
	if (sorted)
		return;
	struct tv *a = xmalloc(s->n * sizeof(*a));
	for (size_t i = 0; i < s->n; i++)
		a[i] = (struct tv){ s->t[i], s->v[i], i };
	qsort(a, s->n, sizeof(*a), cmp_tv);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		if (w > 0 && s->t[w - 1] == a[i].t)
			w--;	/* a later duplicate replaces the earlier */
		s->t[w] = a[i].t;
		s->v[w++] = a[i].v;
	}
	s->n = w;
	free(a);
}
