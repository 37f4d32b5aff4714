/* head.c — see head.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tsdb/head.h"

int64_t head_window_start(int64_t t, int64_t span)
{
	int64_t q = t / span;
	if (t % span < 0)
		q--;
	return q * span;
}

/* ---- symbols ---- */

static uint32_t sym_find(const struct head *h, const char *s)
{
	void *v = hmap_get(&h->sym_ids, s, strlen(s));
	return v ? (uint32_t)((uintptr_t)v - 1) : UINT32_MAX;
}

static uint32_t sym_intern(struct head *h, const char *s)
{
	uint32_t id = sym_find(h, s);
	if (id != UINT32_MAX)
		return id;
	if (h->nsyms == h->capsyms) {
		h->capsyms = h->capsyms ? h->capsyms * 2 : 64;
		h->syms = xreallocarray(h->syms, h->capsyms, sizeof(*h->syms));
	}
	id = h->nsyms++;
	h->syms[id] = xstrdup(s);
	hmap_put(&h->sym_ids, s, strlen(s), (void *)(uintptr_t)(id + 1));
	return id;
}

/* ---- postings ---- */

static void free_postings(void *p)
{
	postings_free(p);
	free(p);
}

static void free_values(void *m)
{
	hmap_free(m, free_postings);
	free(m);
}

static void index_add(struct head *h, const struct hseries *s)
{
	for (uint32_t i = 0; i < s->nl; i++) {
		const char *name = h->syms[s->syms[2 * i]];
		const char *value = h->syms[s->syms[2 * i + 1]];
		struct hmap *vals = hmap_get(&h->names, name, strlen(name));
		if (!vals) {
			vals = xcalloc(1, sizeof(*vals));
			hmap_init(vals);
			hmap_put(&h->names, name, strlen(name), vals);
		}
		struct postings *p = hmap_get(vals, value, strlen(value));
		if (!p) {
			p = xcalloc(1, sizeof(*p));
			hmap_put(vals, value, strlen(value), p);
		}
		postings_add(p, s->id);
	}
	postings_add(&h->all, s->id);
}

static void ix_values(void *impl, const char *name, void (*fn)(void *, const char *), void *arg)
{
	struct head *h = impl;
	struct hmap *vals = hmap_get(&h->names, name, strlen(name));
	size_t it = 0, klen;
	const char *key;
	void *val;
	while (vals && hmap_next(vals, &it, &key, &klen, &val))
		fn(arg, key);
}

static void ix_postings(void *impl, const char *name, const char *value, struct postings *out)
{
	struct head *h = impl;
	struct hmap *vals = hmap_get(&h->names, name, strlen(name));
	struct postings *p = vals ? hmap_get(vals, value, strlen(value)) : NULL;
	if (p)
		postings_add_n(out, p->v, p->n);
}

static void ix_all(void *impl, struct postings *out)
{
	struct head *h = impl;
	postings_add_n(out, h->all.v, h->all.n);
}

void head_ixreader(struct head *h, struct ixreader *ix)
{
	ix->impl = h;
	ix->values = ix_values;
	ix->postings = ix_postings;
	ix->all = ix_all;
}

/* ---- series ---- */

struct head *head_new(const struct head_options *opt)
{
	struct head *h = xcalloc(1, sizeof(*h));
	h->opt = *opt;
	hmap_init(&h->sym_ids);
	hmap_init(&h->by_key);
	hmap_init(&h->names);
	h->mint = INT64_MAX;
	h->maxt = INT64_MIN;
	h->min_valid = INT64_MIN;
	return h;
}

static void series_free(struct hseries *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i].data);
	free(s->chunks);
	chunk_app_free(&s->open);
	free(s->ooo_t);
	free(s->ooo_v);
	free(s->syms);
	free(s);
}

void head_free(struct head *h)
{
	if (!h)
		return;
	for (uint32_t i = 0; i < h->next_id; i++)
		series_free(h->series[i]);
	free(h->series);
	for (uint32_t i = 0; i < h->nsyms; i++)
		free((char *)(uintptr_t)h->syms[i]);
	free(h->syms);
	hmap_free(&h->sym_ids, NULL);
	hmap_free(&h->by_key, NULL);
	hmap_free(&h->names, free_values);
	postings_free(&h->all);
	free(h);
}

struct hseries *head_series(const struct head *h, uint32_t id)
{
	return id < h->next_id ? h->series[id] : NULL;
}

struct hseries *head_find(struct head *h, const struct labels *ls)
{
	uint32_t stack[64], *key = ls->n <= 32 ? stack : xmalloc(ls->n * 2 * sizeof(*key));
	struct hseries *s = NULL;
	for (size_t i = 0; i < ls->n; i++) {
		key[2 * i] = sym_find(h, ls->v[i].name);
		key[2 * i + 1] = sym_find(h, ls->v[i].value);
		if (key[2 * i] == UINT32_MAX || key[2 * i + 1] == UINT32_MAX)
			goto out;
	}
	s = hmap_get(&h->by_key, key, ls->n * 2 * sizeof(*key));
out:
	if (key != stack)
		free(key);
	return s;
}

struct hseries *head_get_or_create(struct head *h, const struct labels *ls, int *created)
{
	*created = 0;
	struct hseries *s = head_find(h, ls);
	if (s)
		return s;
	s = xcalloc(1, sizeof(*s));
	s->nl = (uint16_t)ls->n;
	s->syms = xmalloc(ls->n * 2 * sizeof(*s->syms));
	for (size_t i = 0; i < ls->n; i++) {
		s->syms[2 * i] = sym_intern(h, ls->v[i].name);
		s->syms[2 * i + 1] = sym_intern(h, ls->v[i].value);
	}
	s->last_t = INT64_MIN;
	s->mint = INT64_MAX;
	s->maxt = INT64_MIN;
	if (h->next_id == h->capseries) {
		h->capseries = h->capseries ? h->capseries * 2 : 256;
		h->series = xreallocarray(h->series, h->capseries, sizeof(*h->series));
	}
	s->id = h->next_id++;
	h->series[s->id] = s;
	hmap_put(&h->by_key, s->syms, ls->n * 2 * sizeof(*s->syms), s);
	index_add(h, s);
	h->nlive++;
	*created = 1;
	return s;
}

struct labels *head_labels(const struct head *h, const struct hseries *s)
{
	struct label v[LABELS_MAX];	/* nl <= LABELS_MAX: labels_new's cap */
	for (uint32_t i = 0; i < s->nl && i < LABELS_MAX; i++) {
		v[i].name = h->syms[s->syms[2 * i]];
		v[i].value = h->syms[s->syms[2 * i + 1]];
	}
	return labels_new(v, s->nl < LABELS_MAX ? s->nl : LABELS_MAX);
}

/* ---- samples ---- */

/* Find the value at t in an encoded chunk; 1 found, 0 not. */
static int chunk_find(const uint8_t *p, size_t len, int64_t t, double *v)
{
	struct chunk_iter it;
	int64_t ct;
	double cv;
	if (chunk_iter_init(&it, p, len) < 0)
		return 0;
	while (chunk_iter_next(&it, &ct, &cv) == 1) {
		if (ct == t) {
			*v = cv;
			return 1;
		}
		if (ct > t)
			break;
	}
	return 0;
}

static size_t ooo_lower(const struct hseries *s, int64_t t)
{
	size_t lo = 0, hi = s->nooo;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->ooo_t[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int find_at(const struct hseries *s, int64_t t, double *v)
{
	size_t i = ooo_lower(s, t);
	if (i < s->nooo && s->ooo_t[i] == t) {
		*v = s->ooo_v[i];
		return 1;
	}
	if (s->open.n && t >= s->open_mint && t <= s->open.t)
		return chunk_find(s->open.b, chunk_app_len(&s->open), t, v);
	size_t lo = 0, hi = s->nchunks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->chunks[mid].maxt < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < s->nchunks && s->chunks[lo].mint <= t)
		return chunk_find(s->chunks[lo].data, s->chunks[lo].len, t, v);
	return 0;
}

int head_check(const struct head *h, const struct hseries *s, int64_t t, double v)
{
	if (t < h->min_valid)
		return -ERANGE;
	if (t > s->last_t)
		return 0;
	double old;
	if (find_at(s, t, &old))
		return memcmp(&old, &v, sizeof(v)) == 0 ? 1 : -EEXIST;
	if (h->opt.ooo_window_ms <= 0 || s->nooo >= HEAD_OOO_MAX)
		return -ERANGE;
	if (h->maxt > INT64_MIN + h->opt.ooo_window_ms && t < h->maxt - h->opt.ooo_window_ms)
		return -ERANGE;
	return 0;
}

static void push_chunk(struct hseries *s, const int64_t *t, const double *v, size_t n)
{
	struct buf b;
	buf_init(&b, (size_t)1 << 24);
	chunk_encode(t, v, n, &b);
	if (s->nchunks == s->capchunks) {
		s->capchunks = s->capchunks ? s->capchunks * 2 : 2;
		s->chunks = xreallocarray(s->chunks, s->capchunks, sizeof(*s->chunks));
	}
	struct hchunk *c = &s->chunks[s->nchunks++];
	size_t len;
	c->mint = t[0];
	c->maxt = t[n - 1];
	c->data = (uint8_t *)buf_detach(&b, &len);
	c->data = xreallocarray(c->data, len ? len : 1, 1);	/* no slack in closed chunks */
	c->len = (uint32_t)len;
}

/* Decode a chunk's bytes into out (appending). */
static void chunk_all(const uint8_t *p, size_t len, struct samples *out)
{
	struct chunk_iter it;
	int64_t t;
	double v;
	if (chunk_iter_init(&it, p, len) < 0)
		return;
	while (chunk_iter_next(&it, &t, &v) == 1)
		samples_add(out, t, v);
}

/* Seal the open chunk into the closed list, re-encoded in its best form. */
static void close_open(struct hseries *s)
{
	struct samples tmp = { 0 };
	chunk_all(s->open.b, chunk_app_len(&s->open), &tmp);
	if (tmp.n)
		push_chunk(s, tmp.t, tmp.v, tmp.n);
	samples_free(&tmp);
	chunk_app_free(&s->open);
}

void head_add(struct head *h, struct hseries *s, int64_t t, double v)
{
	if (t > s->last_t) {
		if (s->open.n && (s->open.n >= CHUNK_CUT_SAMPLES ||
		    head_window_start(t, h->opt.span_ms) !=
		    head_window_start(s->open_mint, h->opt.span_ms)))
			close_open(s);
		if (s->open.n == 0) {
			chunk_app_free(&s->open);
			chunk_app_init(&s->open);
			s->open_mint = t;
			h->nchunks++;
		}
		chunk_app_add(&s->open, t, v);
		s->last_t = t;
	} else {
		if (s->nooo == s->capooo) {
			s->capooo = s->capooo ? s->capooo * 2 : 4;
			s->ooo_t = xreallocarray(s->ooo_t, s->capooo, sizeof(*s->ooo_t));
			s->ooo_v = xreallocarray(s->ooo_v, s->capooo, sizeof(*s->ooo_v));
		}
		size_t i = ooo_lower(s, t);
		if (s->nooo > i)
			memmove(s->ooo_t + i + 1, s->ooo_t + i, (s->nooo - i) * sizeof(*s->ooo_t));
		if (s->nooo > i)
			memmove(s->ooo_v + i + 1, s->ooo_v + i, (s->nooo - i) * sizeof(*s->ooo_v));
		s->ooo_t[i] = t;
		s->ooo_v[i] = v;
		s->nooo++;
	}
	s->mint = t < s->mint ? t : s->mint;
	s->maxt = t > s->maxt ? t : s->maxt;
	h->mint = t < h->mint ? t : h->mint;
	h->maxt = t > h->maxt ? t : h->maxt;
	h->nsamples++;
}

static void chunk_range(const uint8_t *p, size_t len, int64_t mint, int64_t maxt,
    struct samples *out)
{
	struct chunk_iter it;
	int64_t t;
	double v;
	if (chunk_iter_init(&it, p, len) < 0)
		return;
	while (chunk_iter_next(&it, &t, &v) == 1) {
		if (t > maxt)
			break;
		if (t >= mint)
			samples_add(out, t, v);
	}
}

void head_samples(const struct hseries *s, int64_t mint, int64_t maxt, struct samples *out)
{
	if (s->maxt < mint || s->mint > maxt)
		return;
	size_t start = out->n;
	for (uint32_t i = 0; i < s->nchunks; i++) {
		const struct hchunk *c = &s->chunks[i];
		if (c->maxt >= mint && c->mint <= maxt)
			chunk_range(c->data, c->len, mint, maxt, out);
	}
	if (s->open.n && s->open.t >= mint && s->open_mint <= maxt)
		chunk_range(s->open.b, chunk_app_len(&s->open), mint, maxt, out);
	if (!s->nooo)
		return;
	size_t before = out->n;
	for (size_t i = ooo_lower(s, mint); i < s->nooo && s->ooo_t[i] <= maxt; i++)
		samples_add(out, s->ooo_t[i], s->ooo_v[i]);
	if (out->n > before && before > start) {
		/* Merge the two sorted runs of this series. */
		struct samples part = { out->t + start, out->v + start, out->n - start, 0 };
		samples_sort_dedup(&part);
		out->n = start + part.n;
	}
}

static int chunk_has(const uint8_t *p, size_t len, int64_t mint, int64_t maxt)
{
	struct chunk_iter it;
	int64_t t;
	double v;
	if (chunk_iter_init(&it, p, len) < 0)
		return 0;
	while (chunk_iter_next(&it, &t, &v) == 1) {
		if (t > maxt)
			return 0;
		if (t >= mint)
			return 1;
	}
	return 0;
}

int head_has_samples(const struct hseries *s, int64_t mint, int64_t maxt)
{
	if (s->maxt < mint || s->mint > maxt)
		return 0;
	if (s->mint >= mint && s->maxt <= maxt)
		return 1;
	size_t i = ooo_lower(s, mint);
	if (i < s->nooo && s->ooo_t[i] <= maxt)
		return 1;
	for (uint32_t k = 0; k < s->nchunks; k++) {
		const struct hchunk *c = &s->chunks[k];
		if (c->maxt < mint || c->mint > maxt)
			continue;
		if ((c->mint >= mint && c->mint <= maxt) || (c->maxt >= mint && c->maxt <= maxt))
			return 1;
		if (chunk_has(c->data, c->len, mint, maxt))
			return 1;
	}
	if (s->open.n && s->open.t >= mint && s->open_mint <= maxt) {
		if (s->open_mint >= mint || s->open.t <= maxt)
			return 1;
		return chunk_has(s->open.b, chunk_app_len(&s->open), mint, maxt);
	}
	return 0;
}

void head_delete(struct head *h, struct hseries *s, int64_t mint, int64_t maxt)
{
	struct samples all = { 0 };
	head_samples(s, INT64_MIN, INT64_MAX, &all);
	size_t keep = 0;
	for (size_t i = 0; i < all.n; i++)
		if (all.t[i] < mint || all.t[i] > maxt) {
			all.t[keep] = all.t[i];
			all.v[keep++] = all.v[i];
		}
	if (keep == all.n) {
		samples_free(&all);
		return;
	}
	/* Start the series over and add back what is left, in order. */
	for (uint32_t i = 0; i < s->nchunks; i++)
		free(s->chunks[i].data);
	h->nchunks -= s->nchunks + (s->open.n ? 1 : 0);
	h->nsamples -= all.n < h->nsamples ? all.n : h->nsamples;
	s->nchunks = 0;
	chunk_app_free(&s->open);
	s->nooo = 0;
	s->last_t = INT64_MIN;
	s->mint = INT64_MAX;
	s->maxt = INT64_MIN;
	for (size_t i = 0; i < keep; i++)
		head_add(h, s, all.t[i], all.v[i]);
	samples_free(&all);
}

/* ---- truncation ---- */

/* Drop s's samples older than before; return the samples dropped. */
static uint64_t series_truncate(struct head *h, struct hseries *s, int64_t before)
{
	uint64_t dropped = 0;
	uint32_t keep = 0;
	struct samples tmp = { 0 };
	for (uint32_t i = 0; i < s->nchunks; i++) {
		struct hchunk *c = &s->chunks[i];
		if (c->maxt < before) {
			dropped += chunk_count(c->data, c->len);
			free(c->data);
			h->nchunks--;
			continue;
		}
		if (c->mint < before) {
			/* Straddles the boundary (not made by head_add): re-encode. */
			samples_free(&tmp);
			chunk_range(c->data, c->len, before, INT64_MAX, &tmp);
			dropped += chunk_count(c->data, c->len) - tmp.n;
			free(c->data);
			struct hseries one = { 0 };
			push_chunk(&one, tmp.t, tmp.v, tmp.n);
			*c = one.chunks[0];
			free(one.chunks);
		}
		s->chunks[keep++] = *c;
	}
	s->nchunks = keep;
	if (s->open.n && s->open_mint < before) {
		samples_free(&tmp);
		chunk_range(s->open.b, chunk_app_len(&s->open), before, INT64_MAX, &tmp);
		dropped += s->open.n - tmp.n;
		chunk_app_free(&s->open);
		if (tmp.n) {
			chunk_app_init(&s->open);
			s->open_mint = tmp.t[0];
			for (size_t i = 0; i < tmp.n; i++)
				chunk_app_add(&s->open, tmp.t[i], tmp.v[i]);
		} else {
			h->nchunks--;
		}
	}
	samples_free(&tmp);
	size_t cut = ooo_lower(s, before);
	dropped += cut;
	if (cut) {
		memmove(s->ooo_t, s->ooo_t + cut, (s->nooo - cut) * sizeof(*s->ooo_t));
		memmove(s->ooo_v, s->ooo_v + cut, (s->nooo - cut) * sizeof(*s->ooo_v));
		s->nooo -= (uint32_t)cut;
	}
	s->mint = INT64_MAX;
	s->maxt = INT64_MIN;
	if (s->nchunks) {
		s->mint = s->chunks[0].mint;
		s->maxt = s->chunks[s->nchunks - 1].maxt;
	}
	if (s->open.n) {
		s->mint = s->open_mint < s->mint ? s->open_mint : s->mint;
		s->maxt = s->open.t > s->maxt ? s->open.t : s->maxt;
	}
	if (s->nooo) {
		s->mint = s->ooo_t[0] < s->mint ? s->ooo_t[0] : s->mint;
		s->maxt = s->ooo_t[s->nooo - 1] > s->maxt ? s->ooo_t[s->nooo - 1] : s->maxt;
	}
	return dropped;
}

void head_truncate(struct head *h, int64_t before)
{
	if (before > h->min_valid)
		h->min_valid = before;
	h->mint = INT64_MAX;
	for (uint32_t id = 0; id < h->next_id; id++) {
		struct hseries *s = h->series[id];
		if (!s)
			continue;
		uint64_t dropped = series_truncate(h, s, before);
		h->nsamples -= dropped < h->nsamples ? dropped : h->nsamples;
		if (s->mint > s->maxt) {
			hmap_del(&h->by_key, s->syms, s->nl * 2 * sizeof(*s->syms));
			h->series[id] = NULL;
			series_free(s);
			h->nlive--;
			continue;
		}
		h->mint = s->mint < h->mint ? s->mint : h->mint;
	}
	if (h->nlive == 0) {
		h->mint = INT64_MAX;
		h->maxt = INT64_MIN;
	}
	/* Rebuild the postings from the survivors (ids ascending stay sorted). */
	hmap_free(&h->names, free_values);
	hmap_init(&h->names);
	postings_free(&h->all);
	for (uint32_t id = 0; id < h->next_id; id++)
		if (h->series[id])
			index_add(h, h->series[id]);
}
