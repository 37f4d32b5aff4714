/*
 * fuzz_ber — hostile bytes into the BER/PDU/USM decoders. Whatever decodes
 * must re-encode and decode again to the same PDU (no crash, no leak, no
 * read past the input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "snmp/ber.h"
#include "snmp/pdu.h"
#include "snmp/sim.h"
#include "snmp/usm.h"

/* A tiny agent for requests that decode: the simulator answers them. */
static struct sim_rec recs[3];
static struct sim_dev dev = { .name = (char *)0, .recs = recs, .n = 3 };
static uint32_t oid_a[] = { 1, 3, 6, 1, 2, 1, 1, 1, 0 }, oid_b[] = { 1, 3, 6, 1, 2, 1, 1, 3, 0 },
	oid_c[] = { 1, 3, 6, 1, 2, 1, 2, 2, 1, 10, 1 };

static void same_pdu(const struct snmp_pdu *a, const struct snmp_pdu *b)
{
	if (a->nvb != b->nvb || a->request_id != b->request_id || a->type != b->type)
		abort();
	for (size_t i = 0; i < a->nvb; i++) {
		const struct snmp_value *x = &a->vb[i].val, *y = &b->vb[i].val;
		if (snmp_oid_cmp(&a->vb[i].name, &b->vb[i].name) != 0 || x->type != y->type ||
		    x->i != y->i || x->u != y->u || x->len != y->len ||
		    (x->len && memcmp(x->s, y->s, x->len) != 0))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snmp_msg m;
	if (snmp_msg_decode(data, size, &m) == 0) {
		struct ber_enc e;
		ber_enc_init(&e, SNMP_MSG_MAX * 2);
		if (snmp_msg_encode(&e, m.version, m.community, m.community_len, &m.pdu) == 0) {
			struct snmp_msg m2;
			if (snmp_msg_decode(e.b.data, e.b.len, &m2) != 0)
				abort();
			same_pdu(&m.pdu, &m2.pdu);
			snmp_pdu_free(&m2.pdu);
		}
		ber_enc_free(&e);
		if (!recs[0].sub) {
			recs[0] = (struct sim_rec){ .sub = oid_a, .n = 9, .type = BER_OCTET_STRING,
				.s = (uint8_t *)"x", .len = 1 };
			recs[1] = (struct sim_rec){ .sub = oid_b, .n = 9, .type = BER_TIMETICKS, .u = 5,
				.rate = 100 };
			recs[2] = (struct sim_rec){ .sub = oid_c, .n = 11, .type = BER_COUNTER32,
				.u = 4294967290u, .rate = 1000 };
		}
		struct snmp_pdu resp;
		sim_answer(&dev, m.version, &m.pdu, 12.5, 1, &resp);
		snmp_pdu_free(&resp);
		snmp_pdu_free(&m.pdu);
	}
	struct usm_msg u;
	if (usm_msg_decode(data, size, &u) == 0) {
		uint8_t *plain = malloc(u.data_len ? u.data_len : 1);
		uint8_t key[USM_KEY_MAX] = { 0 };
		struct snmp_pdu pdu;
		(void)usm_msg_verify(&u, data, size, USM_AUTH_SHA1, key);
		if (usm_msg_open(&u, USM_PRIV_AES128, key, plain, &pdu) == 0) {
			(void)usm_report_kind(&pdu);
			snmp_pdu_free(&pdu);
		}
		free(plain);
	}
	struct snmp_oid o;
	if (ber_decode_oid(data, size, &o) == 0) {
		char s[SNMP_OID_STR_MAX];
		struct snmp_oid back;
		snmp_oid_str(&o, s, sizeof(s));
		if (snmp_oid_parse(s, &back) != 0 || snmp_oid_cmp(&o, &back) != 0)
			abort();
	}
	return 0;
}
