/*
 * pdu.h — SNMP PDUs and community-based messages (v1, v2c; RFC 1157, 3416).
 *
 * A decoded PDU borrows string values from the datagram it came from: keep
 * the datagram alive while reading them. snmp_pdu_free() frees the varbind
 * array only.
 *
 *   struct snmp_msg m;
 *   if (snmp_msg_decode(dgram, n, &m) == 0) { ... m.pdu.vb[i] ...; snmp_pdu_free(&m.pdu); }
 *
 *   struct snmp_pdu q = { .type = SNMP_PDU_GETBULK, .request_id = 7, .max_repetitions = 25 };
 *   q.vb = vbs; q.nvb = 1;
 *   snmp_msg_encode(&enc, SNMP_V2C, "public", 6, &q);
 */
#ifndef VIGIL_SNMP_PDU_H
#define VIGIL_SNMP_PDU_H

#include <stddef.h>
#include <stdint.h>

#include "snmp/ber.h"

#define SNMP_MAX_VARBINDS   2048	/* varbinds in one PDU we accept or build */
#define SNMP_COMMUNITY_MAX  255		/* bytes in a community string */

enum snmp_version { SNMP_V1 = 0, SNMP_V2C = 1, SNMP_V3 = 3 };

enum snmp_pdu_type {
	SNMP_PDU_GET = 0xa0,
	SNMP_PDU_GETNEXT = 0xa1,
	SNMP_PDU_RESPONSE = 0xa2,
	SNMP_PDU_SET = 0xa3,
	SNMP_PDU_TRAPV1 = 0xa4,
	SNMP_PDU_GETBULK = 0xa5,
	SNMP_PDU_INFORM = 0xa6,
	SNMP_PDU_TRAPV2 = 0xa7,
	SNMP_PDU_REPORT = 0xa8,
};

/* error-status values (RFC 3416 section 3). */
enum snmp_err {
	SNMP_ERR_NOERROR = 0,
	SNMP_ERR_TOOBIG = 1,
	SNMP_ERR_NOSUCHNAME = 2,
	SNMP_ERR_BADVALUE = 3,
	SNMP_ERR_READONLY = 4,
	SNMP_ERR_GENERR = 5,
};

/* A value in a varbind. */
struct snmp_value {
	uint8_t type;		/* BER tag: BER_INTEGER ... BER_ENDOFMIBVIEW */
	int64_t i;		/* INTEGER */
	uint64_t u;		/* Counter32, Gauge32, TimeTicks, Counter64 */
	const uint8_t *s;	/* OCTET STRING, Opaque, IpAddress, OID contents (borrowed) */
	size_t len;		/* bytes at s */
};

struct snmp_varbind {
	struct snmp_oid name;	/* the object instance */
	struct snmp_value val;	/* its value (BER_NULL in requests) */
};

struct snmp_pdu {
	uint8_t type;			/* enum snmp_pdu_type */
	int32_t request_id;		/* matches a response to its request */
	int32_t error_status;		/* enum snmp_err; non-repeaters in GETBULK */
	int32_t error_index;		/* 1-based varbind in error; max-repetitions in GETBULK */
	struct snmp_varbind *vb;	/* varbinds; owned after decode */
	size_t nvb;			/* varbinds at vb */
	const uint8_t *vbl_raw;		/* encoding only: pre-encoded varbind list contents
					 * used instead of vb when set (nvb still counts them) */
	size_t vbl_raw_len;		/* bytes at vbl_raw */
};
#define non_repeaters error_status
#define max_repetitions error_index

/* A community-based (v1/v2c) message. */
struct snmp_msg {
	int version;			/* enum snmp_version */
	const uint8_t *community;	/* borrowed from the datagram */
	size_t community_len;		/* bytes at community */
	struct snmp_pdu pdu;		/* the PDU */
};

/* Decode the PDU at r (one TLV with a PDU tag). The varbind array is
 * malloced; free it with snmp_pdu_free. 0 or -EBADMSG (nothing to free). */
int snmp_pdu_decode(struct ber_rd *r, struct snmp_pdu *pdu /* out */);
/* Free a decoded PDU's varbind array; pdu may be NULL. */
void snmp_pdu_free(struct snmp_pdu *pdu);
/* Append a PDU's encoding to e. */
void snmp_pdu_encode(struct ber_enc *e, const struct snmp_pdu *pdu);
/* Append a varbind value's encoding to e. */
void snmp_value_encode(struct ber_enc *e, const struct snmp_value *v);

/* Return the message version of a datagram (0, 1 or 3), or -EBADMSG. */
int snmp_msg_version(const void *p, size_t n);
/* Decode a v1/v2c message. 0 or -EBADMSG. On success free m->pdu. */
int snmp_msg_decode(const void *p, size_t n, struct snmp_msg *m /* out */);
/* Encode a v1/v2c message into e (reset first). 0 or e->err. */
int snmp_msg_encode(struct ber_enc *e, int version, const void *community, size_t clen,
    const struct snmp_pdu *pdu);

/* Decode an OID-typed value's contents. 0 or -EBADMSG. */
int snmp_value_oid(const struct snmp_value *v, struct snmp_oid *oid /* out */);
/* A short name of a BER value type ("Counter64", ...). */
const char *snmp_type_name(uint8_t type);
/* Name of an error-status ("tooBig", ...). */
const char *snmp_err_name(int status);
/* Decode an Opaque-wrapped float or double (net-snmp's encoding). 0 or -EINVAL. */
int snmp_opaque_float(const struct snmp_value *v, double *d /* out */,
    int *is_double /* out */);
/* Numeric value of v as a double for metrics; 0 if v has one, -EINVAL if not
 * numeric (strings, OIDs, exceptions). */
int snmp_value_number(const struct snmp_value *v, double *d /* out */);

#endif
