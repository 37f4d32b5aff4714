/* query.c — select, label names and label values over head + blocks. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tsdb/tsdb_int.h"

/* Series gathered from every source, merged by label set. */
struct qacc {
	struct hmap by_key;		/* formatted labels -> index + 1 */
	struct storage_series *v;	/* series (owned) */
	struct samples *s;		/* their samples while gathering (owned) */
	size_t n, cap;			/* series held, allocated */
	struct buf key;			/* scratch */
	int unique;			/* 1: one source only, no merging by labels */
};

static void acc_add(struct qacc *a, struct labels *ls, struct samples *sm)
{
	uintptr_t at = 0;
	if (!a->unique) {
		buf_reset(&a->key);
		labels_format(ls, &a->key);
		at = (uintptr_t)hmap_get(&a->by_key, a->key.data, a->key.len);
	}
	if (at) {
		labels_free(ls);
		struct samples *dst = &a->s[at - 1];
		if (dst->n + sm->n > dst->cap) {
			dst->cap = dst->n + sm->n;
			dst->t = xreallocarray(dst->t, dst->cap, sizeof(*dst->t));
			dst->v = xreallocarray(dst->v, dst->cap, sizeof(*dst->v));
		}
		memcpy(dst->t + dst->n, sm->t, sm->n * sizeof(*sm->t));
		memcpy(dst->v + dst->n, sm->v, sm->n * sizeof(*sm->v));
		dst->n += sm->n;
		samples_free(sm);
		return;
	}
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 16;
		a->v = xreallocarray(a->v, a->cap, sizeof(*a->v));
		a->s = xreallocarray(a->s, a->cap, sizeof(*a->s));
	}
	a->v[a->n] = (struct storage_series){ ls, NULL, NULL, 0 };
	a->s[a->n] = *sm;
	memset(sm, 0, sizeof(*sm));
	a->n++;
	if (!a->unique)
		hmap_put(&a->by_key, a->key.data, a->key.len, (void *)(uintptr_t)a->n);
}

static int overlaps(const struct block *b, int64_t mint, int64_t maxt)
{
	return b->ix.meta.maxt >= mint && b->ix.meta.mint <= maxt;
}

static void gather(struct tsdb *db, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, const struct qwin *w, struct qacc *a)
{
	struct ixreader ix;
	struct postings p = { 0 };
	struct bseries bs = { 0 };
	/* Series are unique within one source: merge by labels only when
	 * several sources may hold the same series. */
	size_t sources = db->head->mint <= maxt && db->head->maxt >= mint;
	for (size_t k = 0; k < db->nblocks; k++)
		sources += overlaps(db->blocks[k], mint, maxt);
	a->unique = sources <= 1;
	for (size_t k = 0; k < db->nblocks; k++) {
		struct block *b = db->blocks[k];
		if (!overlaps(b, mint, maxt))
			continue;
		block_ixreader(b, &ix);
		ix_select(&ix, ms, nm, &p);
		for (size_t i = 0; i < p.n; i++) {
			struct samples sm = { 0 };
			if (block_series_samples_win(b, p.v[i], &bs, mint, maxt, w, &sm) == 0 && sm.n)
				acc_add(a, block_series_labels(b, &bs), &sm);
			samples_free(&sm);
		}
		postings_free(&p);
	}
	bseries_free(&bs);
	struct head *h = db->head;
	if (h->mint <= maxt && h->maxt >= mint) {
		head_ixreader(h, &ix);
		ix_select(&ix, ms, nm, &p);
		for (size_t i = 0; i < p.n; i++) {
			struct hseries *s = head_series(h, p.v[i]);
			struct samples sm = { 0 };
			if (s)
				head_samples(s, mint, maxt, &sm);
			if (sm.n)
				acc_add(a, head_labels(h, s), &sm);
			samples_free(&sm);
		}
		postings_free(&p);
	}
}

static int cmp_series(const void *a, const void *b)
{
	return labels_cmp(((const struct storage_series *)a)->labels,
	    ((const struct storage_series *)b)->labels);
}

int tsdb_q_select(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, const struct select_hints *hints, struct storage_result *out,
    char *err, size_t errsz)
{
	struct tsdb *db = impl;
	struct qacc a = { 0 };
	(void)err;
	(void)errsz;
	hmap_init(&a.by_key);
	buf_init(&a.key, (size_t)1 << 24);
	/* A range query's engine reads only around its evaluation instants:
	 * blocks may skip the chunks it would not look at. */
	struct qwin win = { 0 }, *w = NULL;
	if (hints && hints->step_ms > 0 && hints->range_ms >= 0) {
		win = (struct qwin){ .step = hints->step_ms, .last = maxt, .range = hints->range_ms };
		w = &win;
	}
	gather(db, ms, nm, mint, maxt, w, &a);
	size_t total = 0;
	for (size_t i = 0; i < a.n; i++) {
		samples_sort_dedup(&a.s[i]);
		a.v[i].t = a.s[i].t;
		a.v[i].v = a.s[i].v;
		a.v[i].n = a.s[i].n;
		total += a.s[i].n;
	}
	free(a.s);
	hmap_free(&a.by_key, NULL);
	buf_free(&a.key);
	out->series = a.v;
	out->n = a.n;
	if (out->n)
		qsort(out->series, out->n, sizeof(*out->series), cmp_series);
	if (hints && hints->max_series && out->n > hints->max_series) {
		for (size_t i = hints->max_series; i < out->n; i++) {
			labels_free(out->series[i].labels);
			free(out->series[i].t);
			free(out->series[i].v);
		}
		out->n = hints->max_series;
	}
	if (hints && hints->max_samples && total > hints->max_samples) {
		storage_result_free(out);
		return -E2BIG;
	}
	return 0;
}

/* Add label names (name == NULL) or name's values of ls to seen. */
static void collect_labels(const struct labels *ls, const char *name, struct hmap *seen)
{
	for (size_t i = 0; i < ls->n; i++) {
		const struct label *l = &ls->v[i];
		if (name && strcmp(l->name, name) != 0)
			continue;
		const char *str = name ? l->value : l->name;
		hmap_put(seen, str, strlen(str), NULL);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Does any series in p hold samples? (The head may keep a series whose
 * only append failed to reach the WAL until its next truncation.) */
static int any_live(const struct head *h, const struct postings *p)
{
	for (size_t i = 0; i < p->n; i++) {
		const struct hseries *s = head_series(h, p->v[i]);
		if (s && s->mint <= s->maxt)
			return 1;
	}
	return 0;
}

/* Without matchers over a range covering everything, the inverted indexes
 * already hold the answer: add names (name == NULL) or name's values. */
static void collect_index(const struct hmap *names, const struct head *h, const char *name,
    struct hmap *seen)
{
	size_t it = 0, klen;
	const char *key;
	void *val;
	while (hmap_next(names, &it, &key, &klen, &val)) {
		if (name && strcmp(key, name) != 0)
			continue;
		size_t vit = 0, vlen;
		const char *vkey;
		void *pv;
		while (hmap_next(val, &vit, &vkey, &vlen, &pv)) {
			if (h && !any_live(h, pv))
				continue;
			hmap_put(seen, name ? vkey : key, name ? vlen : klen, NULL);
			if (!name)
				break;
		}
	}
}

static int collect(struct tsdb *db, const char *name, const struct matcher *ms, size_t nm,
    int64_t mint, int64_t maxt, char ***out, size_t *n)
{
	struct hmap seen;
	struct ixreader ix;
	struct postings p = { 0 };
	struct bseries bs = { 0 };
	struct samples sm = { 0 };
	hmap_init(&seen);
	for (size_t k = 0; k < db->nblocks; k++) {
		struct block *b = db->blocks[k];
		if (!overlaps(b, mint, maxt))
			continue;
		if (nm == 0 && !b->ntomb && b->ix.meta.mint >= mint && b->ix.meta.maxt <= maxt) {
			collect_index(&b->ix.names, NULL, name, &seen);
			continue;
		}
		block_ixreader(b, &ix);
		ix_select(&ix, ms, nm, &p);
		for (size_t i = 0; i < p.n; i++) {
			sm.n = 0;
			if (block_series_samples(b, p.v[i], &bs, mint, maxt, &sm) < 0 || !sm.n)
				continue;
			struct labels *ls = block_series_labels(b, &bs);
			if (ls)
				collect_labels(ls, name, &seen);
			labels_free(ls);
		}
		postings_free(&p);
	}
	struct head *h = db->head;
	if (nm == 0 && h->mint >= mint && h->maxt <= maxt) {
		collect_index(&h->names, h, name, &seen);
		goto done;
	}
	head_ixreader(h, &ix);
	ix_select(&ix, ms, nm, &p);
	for (size_t i = 0; i < p.n; i++) {
		struct hseries *s = head_series(h, p.v[i]);
		if (!s || !head_has_samples(s, mint, maxt))
			continue;
		struct labels *ls = head_labels(h, s);
		collect_labels(ls, name, &seen);
		labels_free(ls);
	}
done:
	postings_free(&p);
	bseries_free(&bs);
	samples_free(&sm);
	size_t it = 0, klen;
	const char *key;
	void *val;
	*n = 0;
	*out = xcalloc(seen.len + 1, sizeof(char *));
	while (hmap_next(&seen, &it, &key, &klen, &val))
		(*out)[(*n)++] = xstrndup(key, klen);
	qsort(*out, *n, sizeof(char *), cmp_str);
	hmap_free(&seen, NULL);
	return 0;
}

int tsdb_q_label_names(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, char ***out, size_t *n)
{
	return collect(impl, NULL, ms, nm, mint, maxt, out, n);
}

int tsdb_q_label_values(void *impl, const char *name, const struct matcher *ms,
    size_t nm, int64_t mint, int64_t maxt, char ***out, size_t *n)
{
	return collect(impl, name, ms, nm, mint, maxt, out, n);
}
