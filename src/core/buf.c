/* buf.c — see buf.h. */
#include "core/buf.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b, size_t cap)
{
	b->data = NULL;
	b->len = b->size = 0;
	b->cap = cap;
}

void buf_free(struct buf *b)
{
	if (!b)
		return;
	free(b->data);
	b->data = NULL;
	b->len = b->size = 0;
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

int buf_reserve(struct buf *b, size_t n)
{
	if (n > b->cap || b->len > b->cap - n)
		return -E2BIG;
	size_t need = b->len + n + 1;
	if (need <= b->size)
		return 0;
	size_t sz = b->size ? b->size : 64;
	while (sz < need)
		sz = sz > ((size_t)-1) / 2 ? need : sz * 2;
	if (sz > b->cap + 1)
		sz = b->cap + 1;
	b->data = xreallocarray(b->data, sz, 1);
	b->size = sz;
	return 0;
}

int buf_add(struct buf *b, const void *p, size_t n)
{
	int rc = buf_reserve(b, n);
	if (rc < 0)
		return rc;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

int buf_adds(struct buf *b, const char *s)
{
	return buf_add(b, s, strlen(s));
}

int buf_addc(struct buf *b, char c)
{
	return buf_add(b, &c, 1);
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_add(b, small, (size_t)n);
	int rc = buf_reserve(b, (size_t)n);
	if (rc < 0)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_add_json_str(struct buf *b, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t start = b->len;
	int rc = buf_addc(b, '"');
	for (size_t i = 0; rc == 0 && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': rc = buf_add(b, "\\\"", 2); break;
		case '\\': rc = buf_add(b, "\\\\", 2); break;
		case '\n': rc = buf_add(b, "\\n", 2); break;
		case '\r': rc = buf_add(b, "\\r", 2); break;
		case '\t': rc = buf_add(b, "\\t", 2); break;
		default:
			if (c < 0x20) {
				char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
				rc = buf_add(b, e, 6);
			} else {
				rc = buf_addc(b, (char)c);
			}
		}
	}
	if (rc == 0)
		rc = buf_addc(b, '"');
	if (rc < 0) {
		b->len = start;
		if (b->data)
			b->data[start] = '\0';
	}
	return rc;
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *d = b->data ? b->data : xstrdup("");
	if (len)
		*len = b->len;
	b->data = NULL;
	b->len = b->size = 0;
	return d;
}

int hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int buf_add_u8(struct buf *b, uint8_t v)
{
	return buf_add(b, &v, 1);
}

int buf_add_u32le(struct buf *b, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	return buf_add(b, x, 4);
}

int buf_add_u64le(struct buf *b, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	return buf_add(b, x, 8);
}

int buf_add_uvarint(struct buf *b, uint64_t v)
{
	uint8_t x[10];
	size_t n = 0;
	while (v >= 0x80) {
		x[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	x[n++] = (uint8_t)v;
	return buf_add(b, x, n);
}

int buf_add_varint(struct buf *b, int64_t v)
{
	return buf_add_uvarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void rd_init(struct rd *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->err = 0;
}

size_t rd_left(const struct rd *r)
{
	return r->err ? 0 : (size_t)(r->end - r->p);
}

int rd_bytes(struct rd *r, size_t n, const uint8_t **p)
{
	if (r->err || (size_t)(r->end - r->p) < n) {
		r->err = 1;
		return -1;
	}
	*p = r->p;
	r->p += n;
	return 0;
}

int rd_u8(struct rd *r, uint8_t *v)
{
	const uint8_t *p;
	if (rd_bytes(r, 1, &p) < 0)
		return -1;
	*v = p[0];
	return 0;
}

int rd_u32le(struct rd *r, uint32_t *v)
{
	const uint8_t *p;
	if (rd_bytes(r, 4, &p) < 0)
		return -1;
	*v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
	return 0;
}

int rd_u64le(struct rd *r, uint64_t *v)
{
	const uint8_t *p;
	if (rd_bytes(r, 8, &p) < 0)
		return -1;
	uint64_t x = 0;
	for (int i = 7; i >= 0; i--)
		x = x << 8 | p[i];
	*v = x;
	return 0;
}

int rd_uvarint(struct rd *r, uint64_t *v)
{
	uint64_t x = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		uint8_t c;
		if (rd_u8(r, &c) < 0)
			return -1;
		if (shift == 63 && c > 1) {
			r->err = 1;
			return -1;
		}
		x |= (uint64_t)(c & 0x7f) << shift;
		if (!(c & 0x80)) {
			*v = x;
			return 0;
		}
	}
	r->err = 1;
	return -1;
}

int rd_varint(struct rd *r, int64_t *v)
{
	uint64_t u;
	if (rd_uvarint(r, &u) < 0)
		return -1;
	*v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
	return 0;
}
