/* ber.c — see ber.h. */
#include "snmp/ber.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- decoding ---- */

void ber_rd_init(struct ber_rd *r, const void *p, size_t n)
{
	r->p = p;
	r->end = r->p + n;
	r->depth = 0;
}

size_t ber_left(const struct ber_rd *r)
{
	return (size_t)(r->end - r->p);
}

int ber_read_tlv(struct ber_rd *r, uint8_t *tag, const uint8_t **val, size_t *len,
    const uint8_t **start)
{
	const uint8_t *p = r->p;
	if (r->end - p < 2)
		return -EBADMSG;
	if (start)
		*start = p;
	uint8_t t = *p++;
	if ((t & 0x1f) == 0x1f)
		return -EBADMSG;	/* multi-byte tags never occur in SNMP */
	size_t l = *p++;
	if (l & 0x80) {
		unsigned nb = l & 0x7f;
		/* 0x80 is the indefinite form (forbidden in SNMP); more than three
		 * length bytes cannot describe anything that fits a datagram. */
		if (nb == 0 || nb > 3 || (size_t)(r->end - p) < nb)
			return -EBADMSG;
		l = 0;
		for (unsigned i = 0; i < nb; i++)
			l = (l << 8) | *p++;
	}
	if (l > (size_t)(r->end - p))
		return -EBADMSG;
	*tag = t;
	*val = p;
	*len = l;
	r->p = p + l;
	return 0;
}

int ber_peek_tag(const struct ber_rd *r)
{
	if (r->p >= r->end)
		return -EBADMSG;
	return *r->p;
}

int ber_enter(struct ber_rd *r, uint8_t tag, struct ber_rd *sub)
{
	uint8_t t;
	const uint8_t *v;
	size_t n;
	if (r->depth + 1 >= BER_MAX_DEPTH)
		return -EBADMSG;
	struct ber_rd save = *r;
	if (ber_read_tlv(r, &t, &v, &n, NULL) < 0 || t != tag) {
		*r = save;
		return -EBADMSG;
	}
	sub->p = v;
	sub->end = v + n;
	sub->depth = r->depth + 1;
	return 0;
}

int ber_decode_int(const uint8_t *p, size_t n, int64_t *v)
{
	if (n == 0 || n > 8)
		return -EBADMSG;
	uint64_t u = (p[0] & 0x80) ? UINT64_MAX : 0;
	for (size_t i = 0; i < n; i++)
		u = (u << 8) | p[i];
	*v = (int64_t)u;
	return 0;
}

int ber_decode_uint(const uint8_t *p, size_t n, uint64_t max, uint64_t *v)
{
	if (n == 0 || n > 9)
		return -EBADMSG;
	if (p[0] & 0x80)
		return -EBADMSG;	/* negative: not an unsigned type */
	if (n == 9) {
		if (p[0] != 0)
			return -EBADMSG;
		p++;
		n--;
	}
	uint64_t u = 0;
	for (size_t i = 0; i < n; i++)
		u = (u << 8) | p[i];
	if (u > max)
		return -EBADMSG;
	*v = u;
	return 0;
}

int ber_decode_oid(const uint8_t *p, size_t n, struct snmp_oid *oid)
{
	oid->n = 0;
	if (n == 0)
		return -EBADMSG;
	uint64_t acc = 0;
	int in_sub = 0;
	for (size_t i = 0; i < n; i++) {
		if (!in_sub && p[i] == 0x80)
			return -EBADMSG;	/* padding: not minimal */
		acc = (acc << 7) | (p[i] & 0x7f);
		if (acc > UINT32_MAX + 80ull)
			return -EBADMSG;
		if (p[i] & 0x80) {
			in_sub = 1;
			continue;
		}
		in_sub = 0;
		if (oid->n == 0) {
			uint32_t first = acc < 40 ? 0 : acc < 80 ? 1 : 2;
			uint64_t second = acc - 40ull * first;
			if (second > UINT32_MAX)
				return -EBADMSG;
			oid->v[0] = first;
			oid->v[1] = (uint32_t)second;
			oid->n = 2;
		} else {
			if (acc > UINT32_MAX || oid->n >= SNMP_OID_MAX)
				return -EBADMSG;
			oid->v[oid->n++] = (uint32_t)acc;
		}
		acc = 0;
	}
	if (in_sub)
		return -EBADMSG;	/* last sub-identifier unterminated */
	return 0;
}

static int get_prim(struct ber_rd *r, uint8_t tag, const uint8_t **v, size_t *n)
{
	uint8_t t;
	struct ber_rd save = *r;
	if (ber_read_tlv(r, &t, v, n, NULL) < 0 || t != tag) {
		*r = save;
		return -EBADMSG;
	}
	return 0;
}

int ber_get_int(struct ber_rd *r, uint8_t tag, int64_t *v)
{
	const uint8_t *p;
	size_t n;
	if (get_prim(r, tag, &p, &n) < 0)
		return -EBADMSG;
	return ber_decode_int(p, n, v);
}

int ber_get_uint(struct ber_rd *r, uint8_t tag, uint64_t *v)
{
	const uint8_t *p;
	size_t n;
	if (get_prim(r, tag, &p, &n) < 0)
		return -EBADMSG;
	return ber_decode_uint(p, n, tag == BER_COUNTER64 ? UINT64_MAX : UINT32_MAX, v);
}

int ber_get_str(struct ber_rd *r, uint8_t tag, const uint8_t **p, size_t *n)
{
	return get_prim(r, tag, p, n);
}

int ber_get_null(struct ber_rd *r, uint8_t tag)
{
	const uint8_t *p;
	size_t n;
	if (get_prim(r, tag, &p, &n) < 0 || n != 0)
		return -EBADMSG;
	return 0;
}

int ber_get_oid(struct ber_rd *r, struct snmp_oid *oid)
{
	const uint8_t *p;
	size_t n;
	if (get_prim(r, BER_OID, &p, &n) < 0)
		return -EBADMSG;
	return ber_decode_oid(p, n, oid);
}

/* ---- encoding ---- */

void ber_enc_init(struct ber_enc *e, size_t cap)
{
	buf_init(&e->b, cap);
	e->depth = 0;
	e->err = 0;
}

void ber_enc_free(struct ber_enc *e)
{
	if (e)
		buf_free(&e->b);
}

void ber_enc_reset(struct ber_enc *e)
{
	buf_reset(&e->b);
	e->depth = 0;
	e->err = 0;
}

static void put(struct ber_enc *e, const void *p, size_t n)
{
	if (e->err)
		return;
	int rc = buf_add(&e->b, p, n);
	if (rc < 0)
		e->err = rc;
}

/* Length in minimal form into out; return its byte count. */
static size_t len_bytes(size_t n, uint8_t out[4])
{
	if (n < 0x80) {
		out[0] = (uint8_t)n;
		return 1;
	}
	if (n <= 0xff) {
		out[0] = 0x81;
		out[1] = (uint8_t)n;
		return 2;
	}
	if (n <= 0xffff) {
		out[0] = 0x82;
		out[1] = (uint8_t)(n >> 8);
		out[2] = (uint8_t)n;
		return 3;
	}
	out[0] = 0x83;
	out[1] = (uint8_t)(n >> 16);
	out[2] = (uint8_t)(n >> 8);
	out[3] = (uint8_t)n;
	return 4;
}

static void put_hdr(struct ber_enc *e, uint8_t tag, size_t n)
{
	uint8_t h[5];
	h[0] = tag;
	size_t k = len_bytes(n, h + 1);
	put(e, h, k + 1);
}

void ber_push(struct ber_enc *e, uint8_t tag)
{
	if (e->err)
		return;
	if (e->depth >= BER_MAX_DEPTH) {
		e->err = -E2BIG;
		return;
	}
	uint8_t h[2] = { tag, 0 };
	put(e, h, 2);
	e->open[e->depth++] = e->b.len - 1;
}

void ber_pop(struct ber_enc *e)
{
	if (e->err)
		return;
	if (e->depth == 0) {
		e->err = -EINVAL;
		return;
	}
	size_t at = e->open[--e->depth];
	size_t content = e->b.len - at - 1;
	uint8_t l[4];
	size_t k = len_bytes(content, l);
	if (k > 1) {
		/* Make room for the longer length form and slide the contents up. */
		int rc = buf_reserve(&e->b, k - 1);
		if (rc < 0) {
			e->err = rc;
			return;
		}
		memmove(e->b.data + at + k, e->b.data + at + 1, content);
		e->b.len += k - 1;
		e->b.data[e->b.len] = '\0';
	}
	memcpy(e->b.data + at, l, k);
}

void ber_put_int(struct ber_enc *e, uint8_t tag, int64_t v)
{
	uint8_t tmp[8];
	int n = 8;
	for (int i = 7; i >= 0; i--) {
		tmp[i] = (uint8_t)v;
		v >>= 8;	/* arithmetic shift keeps the sign */
	}
	int s = 0;
	/* Drop leading bytes that only repeat the sign bit. */
	while (s < 7 && ((tmp[s] == 0x00 && !(tmp[s + 1] & 0x80)) ||
	    (tmp[s] == 0xff && (tmp[s + 1] & 0x80))))
		s++;
	put_hdr(e, tag, (size_t)(n - s));
	put(e, tmp + s, (size_t)(n - s));
}

void ber_put_uint(struct ber_enc *e, uint8_t tag, uint64_t v)
{
	uint8_t tmp[9];
	tmp[0] = 0;
	for (int i = 8; i >= 1; i--) {
		tmp[i] = (uint8_t)v;
		v >>= 8;
	}
	int s = 0;
	while (s < 8 && tmp[s] == 0 && !(tmp[s + 1] & 0x80))
		s++;
	put_hdr(e, tag, (size_t)(9 - s));
	put(e, tmp + s, (size_t)(9 - s));
}

void ber_put_str(struct ber_enc *e, uint8_t tag, const void *p, size_t n)
{
	put_hdr(e, tag, n);
	if (n)
		put(e, p, n);
}

void ber_put_null(struct ber_enc *e, uint8_t tag)
{
	put_hdr(e, tag, 0);
}

static size_t sub_bytes(uint64_t v, uint8_t out[10])
{
	uint8_t tmp[10];
	size_t n = 0;
	do {
		tmp[n++] = (uint8_t)(v & 0x7f);
		v >>= 7;
	} while (v);
	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(tmp[n - 1 - i] | (i + 1 < n ? 0x80 : 0));
	return n;
}

void ber_put_oid(struct ber_enc *e, const struct snmp_oid *oid)
{
	uint8_t body[SNMP_OID_MAX * 5 + 10];
	size_t n = 0;
	if (oid->n < 2 || oid->v[0] > 2 || (oid->v[0] < 2 && oid->v[1] >= 40)) {
		if (!e->err)
			e->err = -EINVAL;
		return;
	}
	n += sub_bytes(oid->v[0] * 40ull + oid->v[1], body + n);
	for (uint32_t i = 2; i < oid->n; i++)
		n += sub_bytes(oid->v[i], body + n);
	put_hdr(e, BER_OID, n);
	put(e, body, n);
}

void ber_put_raw(struct ber_enc *e, const void *p, size_t n)
{
	put(e, p, n);
}

/* ---- OIDs ---- */

int snmp_oid_parse(const char *s, struct snmp_oid *oid)
{
	oid->n = 0;
	if (*s == '.')
		s++;
	if (!*s)
		return -EINVAL;
	while (*s) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		uint64_t v = 0;
		while (*s >= '0' && *s <= '9') {
			v = v * 10 + (uint64_t)(*s - '0');
			if (v > UINT32_MAX)
				return -EINVAL;
			s++;
		}
		if (oid->n >= SNMP_OID_MAX)
			return -EINVAL;
		oid->v[oid->n++] = (uint32_t)v;
		if (*s == '.') {
			s++;
			if (!*s)
				return -EINVAL;
		} else if (*s) {
			return -EINVAL;
		}
	}
	return 0;
}

char *snmp_oid_str(const struct snmp_oid *oid, char *buf, size_t bufsz)
{
	size_t at = 0;
	if (bufsz == 0)
		return buf;
	buf[0] = '\0';
	for (uint32_t i = 0; i < oid->n && at < bufsz; i++) {
		int k = snprintf(buf + at, bufsz - at, i ? ".%u" : "%u", oid->v[i]);
		if (k < 0)
			break;
		at += (size_t)k;
	}
	return buf;
}

int snmp_oid_cmp(const struct snmp_oid *a, const struct snmp_oid *b)
{
	uint32_t n = a->n < b->n ? a->n : b->n;
	for (uint32_t i = 0; i < n; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

int snmp_oid_has_prefix(const struct snmp_oid *oid, const struct snmp_oid *prefix)
{
	if (oid->n < prefix->n)
		return 0;
	return memcmp(oid->v, prefix->v, prefix->n * sizeof(uint32_t)) == 0;
}

int snmp_oid_append(struct snmp_oid *oid, uint32_t sub)
{
	if (oid->n >= SNMP_OID_MAX)
		return -E2BIG;
	oid->v[oid->n++] = sub;
	return 0;
}
