/* query.c — select, label names and label values over head + blocks. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/xmalloc.h"
#include "tsdb/tier.h"
#include "tsdb/tsdb_int.h"

/* Whether and how a select reads downsampled tiers (docs/STORAGE.md,
 * "Which queries read a tier"). */
struct tplan {
	int col;		/* enum tier_col answering the query, or -1: raw samples only */
	int64_t res;		/* tier resolution, ms */
	int used;		/* 1 once a tier was read */
	const struct qwin *win;	/* evaluation instants raw block reads may keep to, or NULL */
};

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

/* The column that gives exactly the raw answer of the hinted function. */
static int tier_col_for(const struct select_hints *h)
{
	static const struct { const char *func; int col; } fns[] = {
		{ "max_over_time", TIER_COL_MAX }, { "min_over_time", TIER_COL_MIN },
		{ "sum_over_time", TIER_COL_SUM }, { "last_over_time", TIER_COL_LAST },
		{ "ts_of_last_over_time", TIER_COL_LAST }, { "present_over_time", TIER_COL_LAST },
	};
	if (h->range_ms > 0 && h->func) {
		for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++)
			if (!strcmp(fns[i].func, h->func))
				return fns[i].col;
		return -1;
	}
	/* An instant vector selector takes the latest sample at or before
	 * each evaluation time: the last column holds it. */
	return h->range_ms == 0 && !h->func && h->lookback_ms > 0 ? TIER_COL_LAST : -1;
}

/* Do the sources holding [mint, maxt] hold disjoint time ranges? (Then no
 * sample is in two of them, and a bucket split by a block boundary is the
 * only thing that puts two tier samples at one timestamp.) */
static int sources_disjoint(const struct tsdb *db, int64_t mint, int64_t maxt)
{
	int64_t prev = INT64_MIN;
	int first = 1;
	for (size_t k = 0; k < db->nblocks; k++) {
		const struct block *b = db->blocks[k];
		if (!overlaps(b, mint, maxt))
			continue;
		if (!first && b->ix.meta.mint <= prev)
			return 0;
		first = 0;
		prev = b->ix.meta.maxt;
	}
	const struct head *h = db->head;
	return first || !(h->mint <= maxt && h->maxt >= mint) || h->mint > prev;
}

/*
 * A tier answers a select exactly when every evaluation window is a union
 * of whole buckets: evaluation times T (the first one is mint + range - 1,
 * then every step) and the range are multiples of the resolution B. The
 * windows of range functions are (T - range, T] and buckets are (b, b+B],
 * so the union is exact; an instant selector needs only T on a bucket end,
 * since the bucket's last sample is the latest sample at or before T. A
 * tier is used only when the step (or, for one evaluation, the range) is at
 * least B, and the coarsest fitting tier wins.
 */
static void plan_for(const struct tsdb *db, const struct select_hints *h, int64_t mint,
    int64_t maxt, struct tplan *p)
{
	static const int64_t res[2] = { TSDB_TIER_1H, TSDB_TIER_5M };
	p->col = -1;
	p->res = 0;
	p->used = 0;
	if (!h)
		return;
	int col = tier_col_for(h);
	int64_t r = h->range_ms > 0 ? h->range_ms : h->lookback_ms, step = h->step_ms;
	if (col < 0 || r <= 0 || step < 0 || mint > INT64_MAX - r)
		return;
	int64_t first = mint + r - 1;
	if (first > maxt || (step == 0 && first != maxt))
		return;
	int64_t span = step > 0 ? step : h->range_ms;
	for (size_t i = 0; i < 2; i++) {
		int64_t b = res[i];
		if (span < b || first % b || h->range_ms % b || step % b)
			continue;
		int any = 0;
		for (size_t k = 0; k < db->nblocks && !any; k++)
			any = overlaps(db->blocks[k], mint, maxt) && !db->blocks[k]->tiers_bad &&
			    tier_index(db->blocks[k]->tiers, b) >= 0;
		if (!any || !sources_disjoint(db, mint, maxt))
			return;
		p->col = col;
		p->res = b;
		return;
	}
}

/* Has series idx of b any tombstone? */
static int has_tomb(const struct block *b, uint32_t idx)
{
	size_t lo = block_tomb_first(b, idx);
	return lo < b->ntomb && b->tomb[lo].idx == idx;
}

/* Samples of series i of b for the select: its tier column when the plan
 * says so and the block has it, else its raw samples (none once retention
 * dropped them). */
static int block_samples(const struct block *b, uint32_t i, struct bseries *bs, int64_t mint,
    int64_t maxt, struct tplan *p, struct samples *out)
{
	int k = p->col >= 0 && !b->tiers_bad ? tier_index(b->tiers, p->res) : -1;
	if (k >= 0 && !has_tomb(b, i)) {
		if (block_index_series(&b->ix, i, bs) < 0)
			return -EINVAL;
		p->used = 1;
		return tier_read(b->tiers, i, k, (enum tier_col)p->col, mint, maxt, out);
	}
	return block_series_samples_win(b, i, bs, mint, maxt, p->win, out);
}

struct tvi {
	int64_t t;	/* timestamp, ms */
	double v;	/* value */
	size_t i;	/* position added (ties keep this order) */
};

static int cmp_tvi(const void *a, const void *b)
{
	const struct tvi *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

/* Sort s by time and merge samples at one timestamp as column col's
 * aggregate does (two parts of one bucket split by a block boundary, or a
 * raw sample on a bucket end). Staleness markers never win a merge; range
 * functions drop them anyway. */
static void samples_sort_combine(struct samples *s, int col)
{
	struct tvi *a = xmalloc((s->n ? s->n : 1) * sizeof(*a));
	for (size_t i = 0; i < s->n; i++)
		a[i] = (struct tvi){ s->t[i], s->v[i], i };
	qsort(a, s->n, sizeof(*a), cmp_tvi);
	size_t w = 0;
	for (size_t i = 0; i < s->n; i++) {
		double x = a[i].v;
		if (w == 0 || s->t[w - 1] != a[i].t) {
			s->t[w] = a[i].t;
			s->v[w++] = x;
			continue;
		}
		double *acc = &s->v[w - 1];
		if (col == TIER_COL_LAST || is_stale_nan(*acc))
			*acc = x;
		else if (is_stale_nan(x))
			continue;
		else if (col == TIER_COL_MAX)
			*acc = x > *acc || isnan(*acc) ? x : *acc;
		else if (col == TIER_COL_MIN)
			*acc = x < *acc || isnan(*acc) ? x : *acc;
		else
			*acc += x;
	}
	s->n = w;
	free(a);
}

static void gather(struct tsdb *db, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, struct tplan *plan, struct qacc *a)
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
			if (block_samples(b, p.v[i], &bs, mint, maxt, plan, &sm) == 0 && sm.n)
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
	struct tplan plan = { .col = -1 };
	hmap_init(&a.by_key);
	buf_init(&a.key, (size_t)1 << 24);
	plan_for(db, hints, mint, maxt, &plan);
	/* A range query's engine reads only around its evaluation instants:
	 * raw reads of blocks may skip the chunks it would not look at. */
	struct qwin win = { 0 };
	if (hints && hints->step_ms > 0 && hints->range_ms >= 0) {
		win = (struct qwin){ .step = hints->step_ms, .last = maxt, .range = hints->range_ms };
		plan.win = &win;
	}
	gather(db, ms, nm, mint, maxt, &plan, &a);
	db->tier_selects += plan.used;
	size_t total = 0;
	for (size_t i = 0; i < a.n; i++) {
		if (plan.used)
			samples_sort_combine(&a.s[i], plan.col);
		else
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
			/* A block that kept only its tiers still names its series. */
			if (b->raw_gone ? block_index_series(&b->ix, p.v[i], &bs) < 0 :
			    block_series_samples(b, p.v[i], &bs, mint, maxt, &sm) < 0 || !sm.n)
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
