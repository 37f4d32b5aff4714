/* memstore.c — see memstore.h. Clarity over speed: it is an oracle. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hmap.h"
#include "core/xmalloc.h"
#include "tsdb/memstore.h"

struct mseries {
	struct labels *labels;	/* identity (owned) */
	int64_t *t;		/* timestamps, ascending */
	double *v;		/* values */
	size_t n, cap;		/* samples held, allocated */
};

struct memstore {
	struct hmap by_key;	/* formatted labels -> struct mseries */
};

static void mseries_free(void *p)
{
	struct mseries *s = p;
	labels_free(s->labels);
	free(s->t);
	free(s->v);
	free(s);
}

static int series_matches(const struct mseries *s, const struct matcher *ms, size_t nm)
{
	for (size_t i = 0; i < nm; i++)
		if (!matcher_matches(&ms[i], labels_get(s->labels, ms[i].name)))
			return 0;
	return 1;
}

static int cmp_series(const void *a, const void *b)
{
	return labels_cmp(((const struct storage_series *)a)->labels,
	    ((const struct storage_series *)b)->labels);
}

static int ms_select(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, const struct select_hints *hints, struct storage_result *out,
    char *err, size_t errsz)
{
	struct memstore *m = impl;
	size_t it = 0, klen, cap = 0, total = 0;
	const char *key;
	void *val;
	(void)err;
	(void)errsz;
	memset(out, 0, sizeof(*out));
	while (hmap_next(&m->by_key, &it, &key, &klen, &val)) {
		struct mseries *s = val;
		if (!series_matches(s, ms, nm))
			continue;
		size_t lo = 0;
		while (lo < s->n && s->t[lo] < mint)
			lo++;
		size_t hi = lo;
		while (hi < s->n && s->t[hi] <= maxt)
			hi++;
		if (hi == lo)
			continue;
		total += hi - lo;
		if (hints && hints->max_samples && total > hints->max_samples) {
			storage_result_free(out);
			return -E2BIG;
		}
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->series = xreallocarray(out->series, cap, sizeof(*out->series));
		}
		struct storage_series *o = &out->series[out->n++];
		o->labels = labels_dup(s->labels);
		o->n = hi - lo;
		o->t = xmalloc(o->n * sizeof(int64_t));
		o->v = xmalloc(o->n * sizeof(double));
		memcpy(o->t, s->t + lo, o->n * sizeof(int64_t));
		memcpy(o->v, s->v + lo, o->n * sizeof(double));
	}
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
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collect unique strings: label names (name == NULL) or values of name. */
static int collect(struct memstore *m, const char *name, const struct matcher *ms,
    size_t nm, int64_t mint, int64_t maxt, char ***out, size_t *n)
{
	struct hmap seen;
	size_t it = 0, klen;
	const char *key;
	void *val;
	hmap_init(&seen);
	while (hmap_next(&m->by_key, &it, &key, &klen, &val)) {
		struct mseries *s = val;
		if (!series_matches(s, ms, nm))
			continue;
		int in = 0;
		for (size_t i = 0; i < s->n && !in; i++)
			in = s->t[i] >= mint && s->t[i] <= maxt;
		if (!in)
			continue;
		for (size_t i = 0; i < s->labels->n; i++) {
			const struct label *l = &s->labels->v[i];
			if (name && strcmp(l->name, name) != 0)
				continue;
			const char *str = name ? l->value : l->name;
			hmap_put(&seen, str, strlen(str), NULL);
		}
	}
	*n = 0;
	*out = xcalloc(seen.len + 1, sizeof(char *));
	it = 0;
	while (hmap_next(&seen, &it, &key, &klen, &val))
		(*out)[(*n)++] = xstrndup(key, klen);
	qsort(*out, *n, sizeof(char *), cmp_str);
	hmap_free(&seen, NULL);
	return 0;
}

static int ms_label_names(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, char ***out, size_t *n)
{
	return collect(impl, NULL, ms, nm, mint, maxt, out, n);
}

static int ms_label_values(void *impl, const char *name, const struct matcher *ms,
    size_t nm, int64_t mint, int64_t maxt, char ***out, size_t *n)
{
	return collect(impl, name, ms, nm, mint, maxt, out, n);
}

static int ms_append(void *impl, const struct labels *ls, int64_t t, double v)
{
	struct memstore *m = impl;
	struct buf key;
	buf_init(&key, (size_t)1 << 30);
	labels_format(ls, &key);
	struct mseries *s = hmap_get(&m->by_key, key.data, key.len);
	if (!s) {
		s = xcalloc(1, sizeof(*s));
		s->labels = labels_dup(ls);
		hmap_put(&m->by_key, key.data, key.len, s);
	}
	buf_free(&key);
	/* Keep samples sorted; replace a sample at the same timestamp. */
	size_t i = s->n;
	while (i > 0 && s->t[i - 1] > t)
		i--;
	if (i > 0 && s->t[i - 1] == t) {
		s->v[i - 1] = v;
		return 0;
	}
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->t = xreallocarray(s->t, s->cap, sizeof(int64_t));
		s->v = xreallocarray(s->v, s->cap, sizeof(double));
	}
	memmove(s->t + i + 1, s->t + i, (s->n - i) * sizeof(int64_t));
	memmove(s->v + i + 1, s->v + i, (s->n - i) * sizeof(double));
	s->t[i] = t;
	s->v[i] = v;
	s->n++;
	return 0;
}

static int ms_commit(void *impl)
{
	(void)impl;
	return 0;
}

static void ms_close(void *impl)
{
	struct memstore *m = impl;
	if (!m)
		return;
	hmap_free(&m->by_key, mseries_free);
	free(m);
}

static const struct storage_ops memstore_ops = {
	.select = ms_select,
	.label_names = ms_label_names,
	.label_values = ms_label_values,
	.append = ms_append,
	.commit = ms_commit,
	.close = ms_close,
};

void memstore_open(struct storage *s)
{
	struct memstore *m = xcalloc(1, sizeof(*m));
	hmap_init(&m->by_key);
	s->ops = &memstore_ops;
	s->impl = m;
}

void memstore_clear(struct storage *s)
{
	struct memstore *m = s->impl;
	hmap_free(&m->by_key, mseries_free);
	hmap_init(&m->by_key);
}
