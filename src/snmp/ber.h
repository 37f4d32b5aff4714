/*
 * ber.h — the subset of ASN.1 BER that SNMP uses (RFC 3416 / RFC 2578 types).
 *
 * Decoding reads hostile bytes: every length is checked against what is left
 * of its parent, definite lengths only, single-byte tags only, constructed
 * values nest at most BER_MAX_DEPTH deep, an OID has at most SNMP_OID_MAX
 * sub-identifiers, and integers must fit their type.
 *
 *   struct ber_rd r, seq; ber_rd_init(&r, p, n);
 *   if (ber_enter(&r, BER_SEQUENCE, &seq) < 0) ...
 *   int64_t v; ber_get_int(&seq, BER_INTEGER, &v);
 *
 * Encoding writes forward into a capped buffer; constructed values are opened
 * with ber_push() and closed with ber_pop(), which fixes up the length
 * (minimal form). Errors are sticky in e->err, so a caller checks once.
 *
 *   struct ber_enc e; ber_enc_init(&e, SNMP_MSG_MAX);
 *   ber_push(&e, BER_SEQUENCE); ber_put_int(&e, BER_INTEGER, 1); ber_pop(&e);
 *   if (e.err) ...; send e.b.data, e.b.len; ber_enc_free(&e);
 */
#ifndef VIGIL_SNMP_BER_H
#define VIGIL_SNMP_BER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define BER_MAX_DEPTH   12		/* nested constructed values in one message */
#define SNMP_MSG_MAX    65507		/* one UDP datagram, the most SNMP may use */
#define SNMP_OID_MAX    128		/* sub-identifiers in one OID (RFC 2578) */
#define SNMP_OID_STR_MAX (SNMP_OID_MAX * 11 + 1)	/* dotted text of the longest OID */

/* BER tags SNMP uses (universal, application and context classes). */
enum ber_tag {
	BER_INTEGER = 0x02,
	BER_OCTET_STRING = 0x04,
	BER_NULL = 0x05,
	BER_OID = 0x06,
	BER_SEQUENCE = 0x30,
	BER_IPADDRESS = 0x40,
	BER_COUNTER32 = 0x41,
	BER_GAUGE32 = 0x42,
	BER_TIMETICKS = 0x43,
	BER_OPAQUE = 0x44,
	BER_COUNTER64 = 0x46,
	BER_NOSUCHOBJECT = 0x80,
	BER_NOSUCHINSTANCE = 0x81,
	BER_ENDOFMIBVIEW = 0x82,
};

/* An object identifier, decoded. */
struct snmp_oid {
	uint32_t n;			/* sub-identifiers used */
	uint32_t v[SNMP_OID_MAX];	/* the sub-identifiers */
};

/* A bounds-checked reader over one constructed value's contents. */
struct ber_rd {
	const uint8_t *p;	/* next byte */
	const uint8_t *end;	/* one past the last byte */
	int depth;		/* nesting level of this reader (0 = message) */
};

/* Read the n bytes at p (borrowed; they must outlive r). */
void ber_rd_init(struct ber_rd *r, const void *p, size_t n);
/* Bytes left in r. */
size_t ber_left(const struct ber_rd *r);
/*
 * Read one TLV header and point *val at its contents (borrowed from the
 * input). *start (may be NULL) gets the first byte of the TLV. Return 0, or
 * -EBADMSG if the header is malformed or the length runs past r's end.
 */
int ber_read_tlv(struct ber_rd *r, uint8_t *tag /* out */, const uint8_t **val /* out */,
    size_t *len /* out */, const uint8_t **start /* out, may be NULL */);
/* Return the next tag without consuming it, or -EBADMSG at the end. */
int ber_peek_tag(const struct ber_rd *r);
/* Read a constructed value with tag and make *sub a reader over its contents,
 * one level deeper. -EBADMSG on wrong tag, malformed, or too deep. */
int ber_enter(struct ber_rd *r, uint8_t tag, struct ber_rd *sub /* out */);
/* Read a signed integer (INTEGER: at most 8 content bytes). */
int ber_get_int(struct ber_rd *r, uint8_t tag, int64_t *v /* out */);
/* Read an unsigned value of tag (Counter32, Gauge32, TimeTicks: <= 2^32-1;
 * Counter64: <= 2^64-1). -EBADMSG if negative or too large. */
int ber_get_uint(struct ber_rd *r, uint8_t tag, uint64_t *v /* out */);
/* Read a string-like value (OCTET STRING, Opaque, IpAddress) as borrowed bytes. */
int ber_get_str(struct ber_rd *r, uint8_t tag, const uint8_t **p /* out */, size_t *n /* out */);
/* Read a NULL (or any empty value with tag, e.g. noSuchObject). */
int ber_get_null(struct ber_rd *r, uint8_t tag);
/* Read an OBJECT IDENTIFIER. */
int ber_get_oid(struct ber_rd *r, struct snmp_oid *oid /* out */);

/* Decode signed integer contents (no header) of 1..8 bytes. 0 or -EBADMSG. */
int ber_decode_int(const uint8_t *p, size_t n, int64_t *v /* out */);
/* Decode unsigned integer contents of 1..9 bytes (a leading 0 allowed for the
 * ninth); -EBADMSG if negative or above max. */
int ber_decode_uint(const uint8_t *p, size_t n, uint64_t max, uint64_t *v /* out */);
/* Decode OID contents (no header). 0 or -EBADMSG. */
int ber_decode_oid(const uint8_t *p, size_t n, struct snmp_oid *oid /* out */);

/* A forward encoder into a capped buffer. */
struct ber_enc {
	struct buf b;			/* the encoding so far */
	size_t open[BER_MAX_DEPTH];	/* offsets of the open constructed values' length byte */
	int depth;			/* constructed values open */
	int err;			/* first error (negative errno), sticky */
};

/* Start an encoding that may grow to cap bytes. */
void ber_enc_init(struct ber_enc *e, size_t cap);
/* Free the encoding; e may be NULL. */
void ber_enc_free(struct ber_enc *e);
/* Forget the contents, keep the memory and cap. */
void ber_enc_reset(struct ber_enc *e);
/* Open a constructed value (SEQUENCE, a PDU tag). */
void ber_push(struct ber_enc *e, uint8_t tag);
/* Close the innermost open constructed value. */
void ber_pop(struct ber_enc *e);
/* Append a signed integer with tag, in its minimal two's-complement form. */
void ber_put_int(struct ber_enc *e, uint8_t tag, int64_t v);
/* Append an unsigned value (Counter32/Gauge32/TimeTicks/Counter64) minimally,
 * with a leading 0 byte where the top bit is set. */
void ber_put_uint(struct ber_enc *e, uint8_t tag, uint64_t v);
/* Append n bytes at p as a primitive value with tag (OCTET STRING, ...). */
void ber_put_str(struct ber_enc *e, uint8_t tag, const void *p, size_t n);
/* Append an empty value with tag (NULL, noSuchObject, ...). */
void ber_put_null(struct ber_enc *e, uint8_t tag);
/* Append an OID; e->err = -EINVAL if it has < 2 sub-identifiers or an
 * impossible first pair. */
void ber_put_oid(struct ber_enc *e, const struct snmp_oid *oid);
/* Append already-encoded bytes. */
void ber_put_raw(struct ber_enc *e, const void *p, size_t n);

/* OID helpers. */
/* Parse dotted text ("1.3.6.1" or ".1.3.6.1"); 0 or -EINVAL. */
int snmp_oid_parse(const char *s, struct snmp_oid *oid /* out */);
/* Write dotted text without a leading dot into buf (SNMP_OID_STR_MAX fits any). */
char *snmp_oid_str(const struct snmp_oid *oid, char *buf, size_t bufsz);
/* Lexicographic order: <0, 0, >0. */
int snmp_oid_cmp(const struct snmp_oid *a, const struct snmp_oid *b);
/* 1 if oid starts with every sub-identifier of prefix (equal counts). */
int snmp_oid_has_prefix(const struct snmp_oid *oid, const struct snmp_oid *prefix);
/* Append one sub-identifier; -E2BIG at SNMP_OID_MAX. */
int snmp_oid_append(struct snmp_oid *oid, uint32_t sub);

#endif
