/* labels.c — see labels.h. */
#include "core/labels.h"
#include "core/hmap.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

static int label_cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct label *)a)->name, ((const struct label *)b)->name);
}

struct labels *labels_new(const struct label *v, size_t n)
{
	size_t bytes = 0, keep = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].value || !*v[i].value)
			continue;
		bytes += strlen(v[i].name) + strlen(v[i].value) + 2;
		keep++;
	}
	struct labels *ls = xmalloc(sizeof(*ls) + keep * sizeof(struct label) + bytes);
	char *p = (char *)&ls->v[keep];
	ls->n = 0;
	for (size_t i = 0; i < n; i++) {
		if (!v[i].value || !*v[i].value)
			continue;
		size_t nl = strlen(v[i].name) + 1, vl = strlen(v[i].value) + 1;
		memcpy(p, v[i].name, nl);
		ls->v[ls->n].name = p;
		p += nl;
		memcpy(p, v[i].value, vl);
		ls->v[ls->n].value = p;
		p += vl;
		ls->n++;
	}
	qsort(ls->v, ls->n, sizeof(struct label), label_cmp_name);
	for (size_t i = 1; i < ls->n; i++) {
		if (strcmp(ls->v[i - 1].name, ls->v[i].name) == 0) {
			free(ls);
			return NULL;
		}
	}
	return ls;
}

struct labels *labels_dup(const struct labels *ls)
{
	return labels_new(ls->v, ls->n);
}

void labels_free(struct labels *ls)
{
	free(ls);
}

const char *labels_get(const struct labels *ls, const char *name)
{
	size_t lo = 0, hi = ls->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(ls->v[mid].name, name);
		if (c == 0)
			return ls->v[mid].value;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int labels_cmp(const struct labels *a, const struct labels *b)
{
	size_t n = a->n < b->n ? a->n : b->n;
	for (size_t i = 0; i < n; i++) {
		int c = strcmp(a->v[i].name, b->v[i].name);
		if (c)
			return c;
		c = strcmp(a->v[i].value, b->v[i].value);
		if (c)
			return c;
	}
	return a->n < b->n ? -1 : a->n > b->n;
}

uint64_t labels_hash(const struct labels *ls)
{
	uint64_t h = 0x9e3779b97f4a7c15ull;
	for (size_t i = 0; i < ls->n; i++) {
		h = (h ^ hmap_hash(ls->v[i].name, strlen(ls->v[i].name))) * 0xff51afd7ed558ccdull;
		h = (h ^ hmap_hash(ls->v[i].value, strlen(ls->v[i].value))) * 0xc4ceb9fe1a85ec53ull;
	}
	return h ^ (h >> 33);
}

static int add_escaped(struct buf *b, const char *s)
{
	int rc = 0;
	for (; *s && rc == 0; s++) {
		if (*s == '"' || *s == '\\')
			rc = buf_addc(b, '\\') || buf_addc(b, *s);
		else if (*s == '\n')
			rc = buf_adds(b, "\\n");
		else
			rc = buf_addc(b, *s);
	}
	return rc ? -1 : 0;
}

int labels_format(const struct labels *ls, struct buf *b)
{
	const char *name = labels_get(ls, "__name__");
	int rc = 0, first = 1;
	if (name)
		rc |= buf_adds(b, name);
	rc |= buf_addc(b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		if (strcmp(ls->v[i].name, "__name__") == 0)
			continue;
		if (!first)
			rc |= buf_adds(b, ", ");
		first = 0;
		rc |= buf_adds(b, ls->v[i].name);
		rc |= buf_adds(b, "=\"");
		rc |= add_escaped(b, ls->v[i].value);
		rc |= buf_addc(b, '"');
	}
	rc |= buf_addc(b, '}');
	return rc ? -1 : 0;
}

void lb_init(struct labels_builder *lb)
{
	memset(lb, 0, sizeof(*lb));
}

void lb_free(struct labels_builder *lb)
{
	if (!lb)
		return;
	for (size_t i = 0; i < lb->n; i++) {
		free(lb->v[i].name);
		free(lb->v[i].value);
	}
	free(lb->v);
	memset(lb, 0, sizeof(*lb));
}

void lb_reset(struct labels_builder *lb, const struct labels *ls)
{
	for (size_t i = 0; i < lb->n; i++) {
		free(lb->v[i].name);
		free(lb->v[i].value);
	}
	lb->n = 0;
	for (size_t i = 0; ls && i < ls->n; i++)
		lb_set(lb, ls->v[i].name, ls->v[i].value);
}

static ssize_t lb_find(const struct labels_builder *lb, const char *name)
{
	for (size_t i = 0; i < lb->n; i++)
		if (strcmp(lb->v[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

void lb_del(struct labels_builder *lb, const char *name)
{
	ssize_t i = lb_find(lb, name);
	if (i < 0)
		return;
	free(lb->v[i].name);
	free(lb->v[i].value);
	lb->v[i] = lb->v[--lb->n];
}

void lb_set(struct labels_builder *lb, const char *name, const char *value)
{
	if (!value || !*value) {
		lb_del(lb, name);
		return;
	}
	ssize_t i = lb_find(lb, name);
	if (i >= 0) {
		char *nv = xstrdup(value);
		free(lb->v[i].value);
		lb->v[i].value = nv;
		return;
	}
	if (lb->n == lb->cap) {
		lb->cap = lb->cap ? lb->cap * 2 : 8;
		lb->v = xreallocarray(lb->v, lb->cap, sizeof(*lb->v));
	}
	lb->v[lb->n].name = xstrdup(name);
	lb->v[lb->n].value = xstrdup(value);
	lb->n++;
}

const char *lb_get(const struct labels_builder *lb, const char *name)
{
	ssize_t i = lb_find(lb, name);
	return i < 0 ? NULL : lb->v[i].value;
}

struct labels *lb_labels(const struct labels_builder *lb)
{
	struct label tmp[LABELS_MAX];
	size_t n = lb->n < LABELS_MAX ? lb->n : LABELS_MAX;
	for (size_t i = 0; i < n; i++) {
		tmp[i].name = lb->v[i].name;
		tmp[i].value = lb->v[i].value;
	}
	return labels_new(tmp, n);
}

struct labels *lb_finish(struct labels_builder *lb)
{
	struct labels *ls = lb_labels(lb);
	lb_reset(lb, NULL);
	return ls;
}

int label_name_valid(const char *s)
{
	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}

int metric_name_valid(const char *s)
{
	if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' || *s == ':'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_' ||
		      *s == ':' || (*s >= '0' && *s <= '9')))
			return 0;
	return 1;
}
