/* pdu.c — see pdu.h. */
#include "snmp/pdu.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int decode_value(struct ber_rd *r, struct snmp_value *v)
{
	uint8_t tag;
	const uint8_t *p;
	size_t n;
	memset(v, 0, sizeof(*v));
	if (ber_read_tlv(r, &tag, &p, &n, NULL) < 0)
		return -EBADMSG;
	v->type = tag;
	switch (tag) {
	case BER_INTEGER:
		return ber_decode_int(p, n, &v->i);
	case BER_COUNTER32:
	case BER_GAUGE32:
	case BER_TIMETICKS:
		return ber_decode_uint(p, n, UINT32_MAX, &v->u);
	case BER_COUNTER64:
		return ber_decode_uint(p, n, UINT64_MAX, &v->u);
	case BER_IPADDRESS:
		if (n != 4)
			return -EBADMSG;
		/* fall through */
	case BER_OCTET_STRING:
	case BER_OPAQUE:
		v->s = p;
		v->len = n;
		return 0;
	case BER_OID: {
		struct snmp_oid tmp;
		if (ber_decode_oid(p, n, &tmp) < 0)
			return -EBADMSG;
		v->s = p;
		v->len = n;
		return 0;
	}
	case BER_NULL:
	case BER_NOSUCHOBJECT:
	case BER_NOSUCHINSTANCE:
	case BER_ENDOFMIBVIEW:
		return n == 0 ? 0 : -EBADMSG;
	default:
		return -EBADMSG;
	}
}

int snmp_pdu_decode(struct ber_rd *r, struct snmp_pdu *pdu)
{
	struct ber_rd body, list, vb;
	int64_t id, es, ei;
	memset(pdu, 0, sizeof(*pdu));
	int tag = ber_peek_tag(r);
	if (tag < SNMP_PDU_GET || tag > SNMP_PDU_REPORT || tag == SNMP_PDU_TRAPV1)
		return -EBADMSG;
	if (ber_enter(r, (uint8_t)tag, &body) < 0)
		return -EBADMSG;
	if (ber_get_int(&body, BER_INTEGER, &id) < 0 ||
	    ber_get_int(&body, BER_INTEGER, &es) < 0 ||
	    ber_get_int(&body, BER_INTEGER, &ei) < 0)
		return -EBADMSG;
	if (id < INT32_MIN || id > INT32_MAX || es < 0 || es > INT32_MAX ||
	    ei < 0 || ei > INT32_MAX)
		return -EBADMSG;
	if (ber_enter(&body, BER_SEQUENCE, &list) < 0 || ber_left(&body) != 0)
		return -EBADMSG;
	/* Count first so one exact allocation holds every varbind. */
	size_t count = 0;
	struct ber_rd scan = list;
	while (ber_left(&scan)) {
		uint8_t t;
		const uint8_t *p;
		size_t n;
		if (ber_read_tlv(&scan, &t, &p, &n, NULL) < 0 || t != BER_SEQUENCE)
			return -EBADMSG;
		if (++count > SNMP_MAX_VARBINDS)
			return -EBADMSG;
	}
	pdu->type = (uint8_t)tag;
	pdu->request_id = (int32_t)id;
	pdu->error_status = (int32_t)es;
	pdu->error_index = (int32_t)ei;
	pdu->vb = count ? xcalloc(count, sizeof(*pdu->vb)) : NULL;
	pdu->nvb = count;
	for (size_t i = 0; i < count; i++) {
		if (ber_enter(&list, BER_SEQUENCE, &vb) < 0 ||
		    ber_get_oid(&vb, &pdu->vb[i].name) < 0 ||
		    decode_value(&vb, &pdu->vb[i].val) < 0 || ber_left(&vb) != 0)
			goto fail;
	}
	return 0;
fail:
	snmp_pdu_free(pdu);
	return -EBADMSG;
}

void snmp_pdu_free(struct snmp_pdu *pdu)
{
	if (!pdu)
		return;
	free(pdu->vb);
	pdu->vb = NULL;
	pdu->nvb = 0;
}

void snmp_value_encode(struct ber_enc *e, const struct snmp_value *v)
{
	switch (v->type) {
	case BER_INTEGER:
		ber_put_int(e, BER_INTEGER, v->i);
		break;
	case BER_COUNTER32:
	case BER_GAUGE32:
	case BER_TIMETICKS:
	case BER_COUNTER64:
		ber_put_uint(e, v->type, v->u);
		break;
	case BER_OCTET_STRING:
	case BER_OPAQUE:
	case BER_IPADDRESS:
	case BER_OID:
		/* OID values keep their encoded contents, so they pass through as-is. */
		ber_put_str(e, v->type, v->s, v->len);
		break;
	default:
		ber_put_null(e, v->type ? v->type : BER_NULL);
		break;
	}
}

void snmp_pdu_encode(struct ber_enc *e, const struct snmp_pdu *pdu)
{
	ber_push(e, pdu->type);
	ber_put_int(e, BER_INTEGER, pdu->request_id);
	ber_put_int(e, BER_INTEGER, pdu->error_status);
	ber_put_int(e, BER_INTEGER, pdu->error_index);
	ber_push(e, BER_SEQUENCE);
	if (pdu->vbl_raw)
		ber_put_raw(e, pdu->vbl_raw, pdu->vbl_raw_len);
	for (size_t i = 0; !pdu->vbl_raw && i < pdu->nvb; i++) {
		ber_push(e, BER_SEQUENCE);
		ber_put_oid(e, &pdu->vb[i].name);
		snmp_value_encode(e, &pdu->vb[i].val);
		ber_pop(e);
	}
	ber_pop(e);
	ber_pop(e);
}

int snmp_msg_version(const void *p, size_t n)
{
	struct ber_rd r, m;
	int64_t v;
	ber_rd_init(&r, p, n);
	if (ber_enter(&r, BER_SEQUENCE, &m) < 0 || ber_get_int(&m, BER_INTEGER, &v) < 0)
		return -EBADMSG;
	if (v != SNMP_V1 && v != SNMP_V2C && v != SNMP_V3)
		return -EBADMSG;
	return (int)v;
}

int snmp_msg_decode(const void *p, size_t n, struct snmp_msg *m)
{
	struct ber_rd r, body;
	int64_t v;
	memset(m, 0, sizeof(*m));
	ber_rd_init(&r, p, n);
	if (ber_enter(&r, BER_SEQUENCE, &body) < 0 || ber_left(&r) != 0)
		return -EBADMSG;
	if (ber_get_int(&body, BER_INTEGER, &v) < 0 || (v != SNMP_V1 && v != SNMP_V2C))
		return -EBADMSG;
	m->version = (int)v;
	if (ber_get_str(&body, BER_OCTET_STRING, &m->community, &m->community_len) < 0 ||
	    m->community_len > SNMP_COMMUNITY_MAX)
		return -EBADMSG;
	if (snmp_pdu_decode(&body, &m->pdu) < 0)
		return -EBADMSG;
	if (ber_left(&body) != 0 ||
	    (m->version == SNMP_V1 && (m->pdu.type == SNMP_PDU_GETBULK ||
	    m->pdu.type == SNMP_PDU_REPORT))) {
		snmp_pdu_free(&m->pdu);
		return -EBADMSG;
	}
	return 0;
}

int snmp_msg_encode(struct ber_enc *e, int version, const void *community, size_t clen,
    const struct snmp_pdu *pdu)
{
	ber_enc_reset(e);
	if (pdu->nvb > SNMP_MAX_VARBINDS || clen > SNMP_COMMUNITY_MAX)
		return e->err = -E2BIG;
	ber_push(e, BER_SEQUENCE);
	ber_put_int(e, BER_INTEGER, version);
	ber_put_str(e, BER_OCTET_STRING, community, clen);
	snmp_pdu_encode(e, pdu);
	ber_pop(e);
	return e->err;
}

int snmp_value_oid(const struct snmp_value *v, struct snmp_oid *oid)
{
	if (v->type != BER_OID)
		return -EBADMSG;
	return ber_decode_oid(v->s, v->len, oid);
}

const char *snmp_type_name(uint8_t type)
{
	switch (type) {
	case BER_INTEGER: return "INTEGER";
	case BER_OCTET_STRING: return "STRING";
	case BER_NULL: return "NULL";
	case BER_OID: return "OID";
	case BER_IPADDRESS: return "IpAddress";
	case BER_COUNTER32: return "Counter32";
	case BER_GAUGE32: return "Gauge32";
	case BER_TIMETICKS: return "Timeticks";
	case BER_OPAQUE: return "Opaque";
	case BER_COUNTER64: return "Counter64";
	case BER_NOSUCHOBJECT: return "noSuchObject";
	case BER_NOSUCHINSTANCE: return "noSuchInstance";
	case BER_ENDOFMIBVIEW: return "endOfMibView";
	default: return "unknown";
	}
}

const char *snmp_err_name(int status)
{
	static const char *const names[] = {
		"noError", "tooBig", "noSuchName", "badValue", "readOnly", "genErr",
		"noAccess", "wrongType", "wrongLength", "wrongEncoding", "wrongValue",
		"noCreation", "inconsistentValue", "resourceUnavailable", "commitFailed",
		"undoFailed", "authorizationError", "notWritable", "inconsistentName",
	};
	if (status >= 0 && (size_t)status < sizeof(names) / sizeof(names[0]))
		return names[status];
	return "unknownError";
}

int snmp_opaque_float(const struct snmp_value *v, double *d, int *is_double)
{
	/* Opaque wrapping an application-specific float (0x9f 0x78) or double
	 * (0x9f 0x79), as UCD-SNMP's laLoadFloat uses. */
	if (v->type != BER_OPAQUE || v->len < 3 || v->s[0] != 0x9f)
		return -EINVAL;
	uint64_t bits = 0;
	if (v->s[1] == 0x78 && v->s[2] == 4 && v->len == 7) {
		for (int i = 0; i < 4; i++)
			bits = bits << 8 | v->s[3 + i];
		uint32_t b32 = (uint32_t)bits;
		float f;
		memcpy(&f, &b32, sizeof(f));
		*d = f;
		*is_double = 0;
		return 0;
	}
	if (v->s[1] == 0x79 && v->s[2] == 8 && v->len == 11) {
		for (int i = 0; i < 8; i++)
			bits = bits << 8 | v->s[3 + i];
		memcpy(d, &bits, sizeof(*d));
		*is_double = 1;
		return 0;
	}
	return -EINVAL;
}

int snmp_value_number(const struct snmp_value *v, double *d)
{
	int dbl;
	switch (v->type) {
	case BER_OPAQUE:
		return snmp_opaque_float(v, d, &dbl);
	case BER_INTEGER:
		*d = (double)v->i;
		return 0;
	case BER_COUNTER32:
	case BER_GAUGE32:
	case BER_TIMETICKS:
	case BER_COUNTER64:
		*d = (double)v->u;
		return 0;
	default:
		return -EINVAL;
	}
}
