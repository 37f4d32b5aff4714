/* Unit tests for src/snmp/ber.c and pdu.c: encodings checked byte for byte
 * against hand-assembled BER, and malformed input refused. */
#include <errno.h>
#include <stdlib.h>

#include "snmp/ber.h"
#include "snmp/pdu.h"
#include "t.h"

static int bytes_eq(const void *a, size_t an, const void *b, size_t bn)
{
	return an == bn && memcmp(a, b, an) == 0;
}

T_TEST(ber_int_minimal_encoding)
{
	static const struct { int64_t v; uint8_t enc[10]; size_t n; } c[] = {
		{ 0, { 2, 1, 0 }, 3 }, { 127, { 2, 1, 0x7f }, 3 }, { 128, { 2, 2, 0, 0x80 }, 4 },
		{ -1, { 2, 1, 0xff }, 3 }, { -128, { 2, 1, 0x80 }, 3 },
		{ -129, { 2, 2, 0xff, 0x7f }, 4 }, { 256, { 2, 2, 1, 0 }, 4 },
		{ INT32_MAX, { 2, 4, 0x7f, 0xff, 0xff, 0xff }, 6 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct ber_enc e;
		ber_enc_init(&e, 100);
		ber_put_int(&e, BER_INTEGER, c[i].v);
		T_CHECK(bytes_eq(e.b.data, e.b.len, c[i].enc, c[i].n));
		struct ber_rd r;
		int64_t back;
		ber_rd_init(&r, e.b.data, e.b.len);
		T_EQ_INT(ber_get_int(&r, BER_INTEGER, &back), 0);
		T_EQ_INT(back, c[i].v);
		ber_enc_free(&e);
	}
}

T_TEST(ber_unsigned_types)
{
	struct ber_enc e;
	ber_enc_init(&e, 100);
	ber_put_uint(&e, BER_COUNTER32, 4294967295u);
	ber_put_uint(&e, BER_COUNTER64, UINT64_MAX);
	static const uint8_t want[] = { 0x41, 5, 0, 0xff, 0xff, 0xff, 0xff,
		0x46, 9, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	T_CHECK(bytes_eq(e.b.data, e.b.len, want, sizeof(want)));
	struct ber_rd r;
	uint64_t u;
	ber_rd_init(&r, e.b.data, e.b.len);
	T_EQ_INT(ber_get_uint(&r, BER_COUNTER32, &u), 0);
	T_CHECK(u == 4294967295u);
	T_EQ_INT(ber_get_uint(&r, BER_COUNTER64, &u), 0);
	T_CHECK(u == UINT64_MAX);
	/* Counter32 bigger than 2^32-1 and a negative Gauge are refused. */
	static const uint8_t big[] = { 0x41, 5, 1, 0, 0, 0, 0 };
	static const uint8_t neg[] = { 0x42, 1, 0xff };
	ber_rd_init(&r, big, sizeof(big));
	T_EQ_INT(ber_get_uint(&r, BER_COUNTER32, &u), -EBADMSG);
	ber_rd_init(&r, neg, sizeof(neg));
	T_EQ_INT(ber_get_uint(&r, BER_GAUGE32, &u), -EBADMSG);
	ber_enc_free(&e);
}

T_TEST(ber_oid_roundtrip_and_text)
{
	struct snmp_oid o, back;
	char s[SNMP_OID_STR_MAX];
	T_EQ_INT(snmp_oid_parse(".1.3.6.1.2.1.31.1.1.1.6.4294967295", &o), 0);
	struct ber_enc e;
	ber_enc_init(&e, 100);
	ber_put_oid(&e, &o);
	static const uint8_t want[] = { 6, 15, 0x2b, 6, 1, 2, 1, 31, 1, 1, 1, 6,
		0x8f, 0xff, 0xff, 0xff, 0x7f };
	T_CHECK(bytes_eq(e.b.data, e.b.len, want, sizeof(want)));
	struct ber_rd r;
	ber_rd_init(&r, e.b.data, e.b.len);
	T_EQ_INT(ber_get_oid(&r, &back), 0);
	T_EQ_INT(snmp_oid_cmp(&o, &back), 0);
	T_EQ_STR(snmp_oid_str(&back, s, sizeof(s)), "1.3.6.1.2.1.31.1.1.1.6.4294967295");
	T_EQ_INT(snmp_oid_parse("1..3", &o), -EINVAL);
	T_EQ_INT(snmp_oid_parse("1.3.", &o), -EINVAL);
	T_EQ_INT(snmp_oid_parse("1.3.x", &o), -EINVAL);
	T_EQ_INT(snmp_oid_parse("1.4294967296", &o), -EINVAL);
	ber_enc_free(&e);
}

T_TEST(ber_oid_malformed)
{
	struct snmp_oid o;
	static const uint8_t unterminated[] = { 0x2b, 0x86 };
	static const uint8_t padded[] = { 0x2b, 0x80, 0x01 };
	static const uint8_t huge[] = { 0x2b, 0x9f, 0xff, 0xff, 0xff, 0x7f };
	T_EQ_INT(ber_decode_oid(unterminated, sizeof(unterminated), &o), -EBADMSG);
	T_EQ_INT(ber_decode_oid(padded, sizeof(padded), &o), -EBADMSG);
	T_EQ_INT(ber_decode_oid(huge, sizeof(huge), &o), -EBADMSG);
	T_EQ_INT(ber_decode_oid(padded, 0, &o), -EBADMSG);
	/* 129 sub-identifiers is one too many. */
	uint8_t many[130];
	many[0] = 0x2b;
	memset(many + 1, 1, sizeof(many) - 1);
	T_EQ_INT(ber_decode_oid(many, 127, &o), 0);
	T_EQ_INT(o.n, 128);
	T_EQ_INT(ber_decode_oid(many, 128, &o), -EBADMSG);
}

T_TEST(ber_lengths_checked)
{
	struct ber_rd r;
	uint8_t t;
	const uint8_t *v;
	size_t n;
	static const uint8_t past_end[] = { 0x04, 0x05, 'a', 'b' };
	static const uint8_t indefinite[] = { 0x30, 0x80, 0, 0 };
	static const uint8_t long_form[] = { 0x04, 0x81, 0x02, 'h', 'i' };
	static const uint8_t too_many_len[] = { 0x04, 0x84, 0, 0, 0, 1, 'x' };
	static const uint8_t multibyte_tag[] = { 0x1f, 0x01, 0x00 };
	ber_rd_init(&r, past_end, sizeof(past_end));
	T_EQ_INT(ber_read_tlv(&r, &t, &v, &n, NULL), -EBADMSG);
	ber_rd_init(&r, indefinite, sizeof(indefinite));
	T_EQ_INT(ber_read_tlv(&r, &t, &v, &n, NULL), -EBADMSG);
	ber_rd_init(&r, too_many_len, sizeof(too_many_len));
	T_EQ_INT(ber_read_tlv(&r, &t, &v, &n, NULL), -EBADMSG);
	ber_rd_init(&r, multibyte_tag, sizeof(multibyte_tag));
	T_EQ_INT(ber_read_tlv(&r, &t, &v, &n, NULL), -EBADMSG);
	ber_rd_init(&r, long_form, sizeof(long_form));
	T_EQ_INT(ber_read_tlv(&r, &t, &v, &n, NULL), 0);
	T_EQ_INT(n, 2);
	T_CHECK(memcmp(v, "hi", 2) == 0);
}

T_TEST(ber_depth_capped)
{
	uint8_t deep[2 * (BER_MAX_DEPTH + 2)];
	for (size_t i = 0; i < sizeof(deep) / 2; i++) {
		deep[2 * i] = 0x30;
		deep[2 * i + 1] = (uint8_t)(sizeof(deep) - 2 * i - 2);
	}
	struct ber_rd r, sub;
	ber_rd_init(&r, deep, sizeof(deep));
	int levels = 0;
	while (ber_enter(&r, BER_SEQUENCE, &sub) == 0) {
		r = sub;
		levels++;
	}
	T_EQ_INT(levels, BER_MAX_DEPTH - 1);
}

T_TEST(ber_long_sequence_length_fixed_up)
{
	struct ber_enc e;
	ber_enc_init(&e, 2000);
	ber_push(&e, BER_SEQUENCE);
	char big[300];
	memset(big, 'x', sizeof(big));
	ber_put_str(&e, BER_OCTET_STRING, big, sizeof(big));
	ber_pop(&e);
	T_EQ_INT(e.err, 0);
	/* 30 82 01 30 | 04 82 01 2c ... */
	T_EQ_INT(e.b.len, 4 + 4 + 300);
	T_EQ_INT((uint8_t)e.b.data[1], 0x82);
	T_EQ_INT((uint8_t)e.b.data[2], 0x01);
	T_EQ_INT((uint8_t)e.b.data[3], 0x30);
	T_EQ_INT((uint8_t)e.b.data[4], 0x04);
	/* The cap is honoured: a 3000-byte string does not fit. */
	ber_put_str(&e, BER_OCTET_STRING, big, sizeof(big));
	for (int i = 0; i < 10; i++)
		ber_put_str(&e, BER_OCTET_STRING, big, sizeof(big));
	T_EQ_INT(e.err, -E2BIG);
	ber_enc_free(&e);
}

/* A GetResponse captured from net-snmp (sysDescr.0 = "Linux"), v2c, "public". */
static const uint8_t get_response[] = {
	0x30, 0x29, 0x02, 0x01, 0x01, 0x04, 0x06, 'p', 'u', 'b', 'l', 'i', 'c',
	0xa2, 0x1c, 0x02, 0x04, 0x12, 0x34, 0x56, 0x78, 0x02, 0x01, 0x00, 0x02, 0x01, 0x00,
	0x30, 0x0e, 0x30, 0x0c, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x02, 0x01, 0x01, 0x01, 0x00,
	0x04, 0x00,
};

T_TEST(pdu_decode_response)
{
	struct snmp_msg m;
	T_EQ_INT(snmp_msg_version(get_response, sizeof(get_response)), SNMP_V2C);
	T_EQ_INT(snmp_msg_decode(get_response, sizeof(get_response), &m), 0);
	T_EQ_INT(m.version, SNMP_V2C);
	T_EQ_INT(m.community_len, 6);
	T_EQ_INT(m.pdu.type, SNMP_PDU_RESPONSE);
	T_EQ_INT(m.pdu.request_id, 0x12345678);
	T_EQ_INT(m.pdu.nvb, 1);
	char s[SNMP_OID_STR_MAX];
	T_EQ_STR(snmp_oid_str(&m.pdu.vb[0].name, s, sizeof(s)), "1.3.6.1.2.1.1.1.0");
	T_EQ_INT(m.pdu.vb[0].val.type, BER_OCTET_STRING);
	T_EQ_INT(m.pdu.vb[0].val.len, 0);
	snmp_pdu_free(&m.pdu);
	/* Every truncation of the message is refused. */
	for (size_t n = 0; n < sizeof(get_response); n++)
		T_EQ_INT(snmp_msg_decode(get_response, n, &m), -EBADMSG);
	/* Trailing garbage after the message is refused. */
	uint8_t extra[sizeof(get_response) + 1];
	memcpy(extra, get_response, sizeof(get_response));
	extra[sizeof(get_response)] = 0;
	T_EQ_INT(snmp_msg_decode(extra, sizeof(extra), &m), -EBADMSG);
}

T_TEST(pdu_encode_getbulk_roundtrip)
{
	struct snmp_varbind vb[2];
	memset(vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1.2.1.2.2.1", &vb[0].name);
	snmp_oid_parse("1.3.6.1.2.1.31.1.1.1", &vb[1].name);
	vb[0].val.type = vb[1].val.type = BER_NULL;
	struct snmp_pdu q = { .type = SNMP_PDU_GETBULK, .request_id = -5, .vb = vb, .nvb = 2 };
	q.non_repeaters = 0;
	q.max_repetitions = 25;
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	T_EQ_INT(snmp_msg_encode(&e, SNMP_V2C, "sw1", 3, &q), 0);
	struct snmp_msg m;
	T_EQ_INT(snmp_msg_decode(e.b.data, e.b.len, &m), 0);
	T_EQ_INT(m.pdu.type, SNMP_PDU_GETBULK);
	T_EQ_INT(m.pdu.request_id, -5);
	T_EQ_INT(m.pdu.max_repetitions, 25);
	T_EQ_INT(m.pdu.nvb, 2);
	T_EQ_INT(snmp_oid_cmp(&m.pdu.vb[1].name, &vb[1].name), 0);
	T_CHECK(memcmp(m.community, "sw1", 3) == 0);
	snmp_pdu_free(&m.pdu);
	/* GETBULK inside a v1 message is refused. */
	T_EQ_INT(snmp_msg_encode(&e, SNMP_V1, "sw1", 3, &q), 0);
	T_EQ_INT(snmp_msg_decode(e.b.data, e.b.len, &m), -EBADMSG);
	ber_enc_free(&e);
}

T_TEST(pdu_values_all_types)
{
	struct snmp_varbind vb[9];
	memset(vb, 0, sizeof(vb));
	static const uint8_t ip[4] = { 10, 0, 0, 1 };
	static const uint8_t oidv[] = { 0x2b, 6, 1 };
	uint8_t types[9] = { BER_INTEGER, BER_OCTET_STRING, BER_OID, BER_IPADDRESS,
		BER_COUNTER32, BER_GAUGE32, BER_TIMETICKS, BER_COUNTER64, BER_ENDOFMIBVIEW };
	for (int i = 0; i < 9; i++) {
		snmp_oid_parse("1.3.6.1", &vb[i].name);
		vb[i].name.v[3] = (uint32_t)i;
		vb[i].val.type = types[i];
	}
	vb[0].val.i = -42;
	vb[1].val.s = (const uint8_t *)"eth0";
	vb[1].val.len = 4;
	vb[2].val.s = oidv;
	vb[2].val.len = sizeof(oidv);
	vb[3].val.s = ip;
	vb[3].val.len = 4;
	vb[4].val.u = 4000000000u;
	vb[5].val.u = 1000;
	vb[6].val.u = 12345;
	vb[7].val.u = 18446744073709551000ull;
	struct snmp_pdu q = { .type = SNMP_PDU_RESPONSE, .request_id = 9, .vb = vb, .nvb = 9 };
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	T_EQ_INT(snmp_msg_encode(&e, SNMP_V2C, "c", 1, &q), 0);
	struct snmp_msg m;
	T_EQ_INT(snmp_msg_decode(e.b.data, e.b.len, &m), 0);
	T_EQ_INT(m.pdu.nvb, 9);
	for (int i = 0; i < 9; i++)
		T_EQ_INT(m.pdu.vb[i].val.type, types[i]);
	T_EQ_INT(m.pdu.vb[0].val.i, -42);
	T_CHECK(m.pdu.vb[4].val.u == 4000000000u);
	T_CHECK(m.pdu.vb[7].val.u == 18446744073709551000ull);
	struct snmp_oid o;
	T_EQ_INT(snmp_value_oid(&m.pdu.vb[2].val, &o), 0);
	T_EQ_INT(o.n, 4);
	double d;
	T_EQ_INT(snmp_value_number(&m.pdu.vb[1].val, &d), -EINVAL);
	T_EQ_INT(snmp_value_number(&m.pdu.vb[6].val, &d), 0);
	T_EQ_DBL(d, 12345, 0);
	snmp_pdu_free(&m.pdu);
	ber_enc_free(&e);
}

T_TEST(pdu_rejects_bad_values)
{
	/* An IpAddress of 3 bytes, and a NULL with contents, inside a response. */
	struct snmp_varbind vb;
	memset(&vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1", &vb.name);
	vb.val.type = BER_IPADDRESS;
	vb.val.s = (const uint8_t *)"abc";
	vb.val.len = 3;
	struct snmp_pdu q = { .type = SNMP_PDU_RESPONSE, .request_id = 1, .vb = &vb, .nvb = 1 };
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	T_EQ_INT(snmp_msg_encode(&e, SNMP_V2C, "c", 1, &q), 0);
	struct snmp_msg m;
	T_EQ_INT(snmp_msg_decode(e.b.data, e.b.len, &m), -EBADMSG);
	vb.val.type = BER_OPAQUE;
	T_EQ_INT(snmp_msg_encode(&e, SNMP_V2C, "c", 1, &q), 0);
	T_EQ_INT(snmp_msg_decode(e.b.data, e.b.len, &m), 0);
	snmp_pdu_free(&m.pdu);
	ber_enc_free(&e);
}

int main(void)
{
	T_RUN(ber_int_minimal_encoding);
	T_RUN(ber_unsigned_types);
	T_RUN(ber_oid_roundtrip_and_text);
	T_RUN(ber_oid_malformed);
	T_RUN(ber_lengths_checked);
	T_RUN(ber_depth_capped);
	T_RUN(ber_long_sequence_length_fixed_up);
	T_RUN(pdu_decode_response);
	T_RUN(pdu_encode_getbulk_roundtrip);
	T_RUN(pdu_values_all_types);
	T_RUN(pdu_rejects_bad_values);
	return t_done();
}
