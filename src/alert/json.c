/* json.c — see json.h. Recursive descent with a depth cap; RFC 8259. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/json.h"
#include "core/xmalloc.h"

struct jp {
	const char *p;		/* input */
	size_t n;		/* its length */
	size_t i;		/* next byte */
	char *err;		/* error buffer */
	size_t errsz;		/* its size */
};

static int jerr(struct jp *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int jerr(struct jp *j, const char *fmt, ...)
{
	char msg[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(j->err, j->errsz, "offset %zu: %s", j->i, msg);
	return -1;
}

static void ws(struct jp *j)
{
	while (j->i < j->n && (j->p[j->i] == ' ' || j->p[j->i] == '\t' || j->p[j->i] == '\n' || j->p[j->i] == '\r'))
		j->i++;
}

void ajson_free(struct ajson *v)
{
	if (!v)
		return;
	for (size_t i = 0; i < v->n; i++) {
		ajson_free(v->v[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->v);
	free(v->keys);
	free(v->str);
	free(v);
}

static int hex4(struct jp *j, unsigned *out)
{
	if (j->i + 4 > j->n)
		return jerr(j, "short \\u escape");
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		char c = j->p[j->i++];
		v <<= 4;
		if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
		else return jerr(j, "bad \\u escape");
	}
	*out = v;
	return 0;
}

static int put_utf8(struct buf *b, unsigned cp)
{
	char t[4];
	size_t n;
	if (cp < 0x80) { t[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { t[0] = (char)(0xc0 | (cp >> 6)); t[1] = (char)(0x80 | (cp & 0x3f)); n = 2; }
	else if (cp < 0x10000) { t[0] = (char)(0xe0 | (cp >> 12)); t[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		t[2] = (char)(0x80 | (cp & 0x3f)); n = 3; }
	else { t[0] = (char)(0xf0 | (cp >> 18)); t[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		t[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); t[3] = (char)(0x80 | (cp & 0x3f)); n = 4; }
	return buf_add(b, t, n);
}

static int parse_str(struct jp *j, char **out, size_t *len)
{
	j->i++;	/* opening quote */
	struct buf b;
	buf_init(&b, AJSON_MAX_BYTES);
	while (j->i < j->n && j->p[j->i] != '"') {
		unsigned char c = (unsigned char)j->p[j->i++];
		if (c < 0x20) {
			buf_free(&b);
			return jerr(j, "control character in string");
		}
		if (c != '\\') {
			buf_addc(&b, (char)c);
			continue;
		}
		if (j->i >= j->n)
			break;
		char e = j->p[j->i++];
		unsigned cp;
		switch (e) {
		case '"': case '\\': case '/': buf_addc(&b, e); break;
		case 'b': buf_addc(&b, '\b'); break;
		case 'f': buf_addc(&b, '\f'); break;
		case 'n': buf_addc(&b, '\n'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'u':
			if (hex4(j, &cp) < 0) {
				buf_free(&b);
				return -1;
			}
			if (cp >= 0xd800 && cp < 0xdc00 && j->i + 6 <= j->n && j->p[j->i] == '\\' && j->p[j->i + 1] == 'u') {
				unsigned lo;
				j->i += 2;
				if (hex4(j, &lo) < 0) {
					buf_free(&b);
					return -1;
				}
				if (lo >= 0xdc00 && lo < 0xe000)
					cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				else
					cp = 0xfffd;
			} else if (cp >= 0xd800 && cp < 0xe000) {
				cp = 0xfffd;
			}
			put_utf8(&b, cp);
			break;
		default:
			buf_free(&b);
			return jerr(j, "bad escape \\%c", e);
		}
	}
	if (j->i >= j->n) {
		buf_free(&b);
		return jerr(j, "unterminated string");
	}
	j->i++;
	*len = b.len;
	*out = b.data ? buf_detach(&b, NULL) : xstrdup("");
	return 0;
}

static int parse_val(struct jp *j, struct ajson **out, int depth);

static int parse_container(struct jp *j, struct ajson *v, int depth)
{
	int obj = j->p[j->i] == '{';
	char close = obj ? '}' : ']';
	j->i++;
	v->t = obj ? AJSON_OBJ : AJSON_ARR;
	size_t cap = 0;
	ws(j);
	if (j->i < j->n && j->p[j->i] == close) {
		j->i++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		size_t klen;
		ws(j);
		if (obj) {
			if (j->i >= j->n || j->p[j->i] != '"')
				return jerr(j, "expected a string key");
			if (parse_str(j, &key, &klen) < 0)
				return -1;
			ws(j);
			if (j->i >= j->n || j->p[j->i] != ':') {
				free(key);
				return jerr(j, "expected ':'");
			}
			j->i++;
		}
		struct ajson *item;
		if (parse_val(j, &item, depth + 1) < 0) {
			ajson_free(item);
			free(key);
			return -1;
		}
		if (v->n == cap) {
			cap = cap ? cap * 2 : 8;
			v->v = xreallocarray(v->v, cap, sizeof(*v->v));
			if (obj)
				v->keys = xreallocarray(v->keys, cap, sizeof(*v->keys));
		}
		v->v[v->n] = item;
		if (obj)
			v->keys[v->n] = key;
		v->n++;
		ws(j);
		if (j->i < j->n && j->p[j->i] == ',') {
			j->i++;
			continue;
		}
		if (j->i < j->n && j->p[j->i] == close) {
			j->i++;
			return 0;
		}
		return jerr(j, "expected ',' or '%c'", close);
	}
}

static int parse_val(struct jp *j, struct ajson **out, int depth)
{
	*out = NULL;
	if (depth > AJSON_MAX_DEPTH)
		return jerr(j, "nested deeper than %d", AJSON_MAX_DEPTH);
	ws(j);
	if (j->i >= j->n)
		return jerr(j, "unexpected end of input");
	struct ajson *v = xcalloc(1, sizeof(*v));
	*out = v;
	char c = j->p[j->i];
	if (c == '{' || c == '[')
		return parse_container(j, v, depth);
	if (c == '"') {
		v->t = AJSON_STR;
		return parse_str(j, &v->str, &v->len);
	}
	static const struct { const char *w; enum ajson_type t; double n; } lits[] = {
		{ "null", AJSON_NULL, 0 }, { "true", AJSON_BOOL, 1 }, { "false", AJSON_BOOL, 0 } };
	for (size_t k = 0; k < 3; k++) {
		size_t l = strlen(lits[k].w);
		if (j->n - j->i >= l && memcmp(j->p + j->i, lits[k].w, l) == 0) {
			j->i += l;
			v->t = lits[k].t;
			v->num = lits[k].n;
			return 0;
		}
	}
	if (c == '-' || (c >= '0' && c <= '9')) {
		char tmp[64];
		size_t l = 0;
		while (j->i < j->n && l + 1 < sizeof(tmp) && strchr("+-0123456789.eE", j->p[j->i]))
			tmp[l++] = j->p[j->i++];
		tmp[l] = 0;
		char *end;
		v->num = strtod(tmp, &end);
		v->t = AJSON_NUM;
		if (*end || !isfinite(v->num))
			return jerr(j, "bad number");
		return 0;
	}
	return jerr(j, "unexpected character '%c'", c);
}

int ajson_parse(const char *p, size_t n, struct ajson **out, char *err, size_t errsz)
{
	*out = NULL;
	struct jp j = { .p = p, .n = n, .err = err, .errsz = errsz };
	if (n > AJSON_MAX_BYTES) {
		snprintf(err, errsz, "larger than %u bytes", AJSON_MAX_BYTES);
		return -1;
	}
	struct ajson *v;
	if (parse_val(&j, &v, 0) < 0) {
		ajson_free(v);
		return -1;
	}
	ws(&j);
	if (j.i != n) {
		ajson_free(v);
		return jerr(&j, "trailing data");
	}
	*out = v;
	return 0;
}

const struct ajson *ajson_get(const struct ajson *j, const char *key)
{
	if (!j || j->t != AJSON_OBJ)
		return NULL;
	for (size_t i = 0; i < j->n; i++)
		if (strcmp(j->keys[i], key) == 0)
			return j->v[i];
	return NULL;
}

const char *ajson_get_str(const struct ajson *j, const char *key)
{
	const struct ajson *v = ajson_get(j, key);
	return v && v->t == AJSON_STR ? v->str : NULL;
}

int ajson_write(const struct ajson *j, struct buf *out)
{
	int rc = 0;
	switch (j->t) {
	case AJSON_NULL: return buf_adds(out, "null");
	case AJSON_BOOL: return buf_adds(out, j->num ? "true" : "false");
	case AJSON_NUM: return buf_printf(out, "%.17g", j->num);
	case AJSON_STR: return buf_add_json_str(out, j->str, j->len);
	case AJSON_ARR: case AJSON_OBJ:
		rc = buf_addc(out, j->t == AJSON_ARR ? '[' : '{');
		for (size_t i = 0; i < j->n && rc == 0; i++) {
			if (i)
				rc = buf_addc(out, ',');
			if (rc == 0 && j->t == AJSON_OBJ) {
				rc = buf_add_json_str(out, j->keys[i], strlen(j->keys[i]));
				if (rc == 0)
					rc = buf_addc(out, ':');
			}
			if (rc == 0)
				rc = ajson_write(j->v[i], out);
		}
		return rc ? rc : buf_addc(out, j->t == AJSON_ARR ? ']' : '}');
	}
	return -EINVAL;
}
