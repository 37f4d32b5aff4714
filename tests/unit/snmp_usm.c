/* Unit tests for src/snmp/usm.c: RFC 3414 A.3 key vectors, sign/verify,
 * encrypt/decrypt round trips for every cipher, and tampering detected. */
#include <errno.h>
#include <stdlib.h>

#include "snmp/usm.h"
#include "t.h"

static const uint8_t engine2[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2 };

static int hex_eq(const uint8_t *p, size_t n, const char *hex)
{
	for (size_t i = 0; i < n; i++) {
		unsigned b;
		if (sscanf(hex + 2 * i, "%2x", &b) != 1 || b != p[i])
			return 0;
	}
	return strlen(hex) == 2 * n;
}

T_TEST(usm_rfc3414_a3_1_md5)
{
	uint8_t ku[USM_KEY_MAX], kul[USM_KEY_MAX];
	T_EQ_INT(usm_password_to_key(USM_AUTH_MD5, "maplesyrup", 10, ku), 0);
	T_CHECK(hex_eq(ku, 16, "9faf3283884e92834ebc9847d8edd963"));
	T_EQ_INT(usm_localize_key(USM_AUTH_MD5, ku, engine2, sizeof(engine2), kul), 0);
	T_CHECK(hex_eq(kul, 16, "526f5eed9fcce26f8964c2930787d82b"));
}

T_TEST(usm_rfc3414_a3_2_sha1)
{
	uint8_t ku[USM_KEY_MAX], kul[USM_KEY_MAX];
	T_EQ_INT(usm_password_to_key(USM_AUTH_SHA1, "maplesyrup", 10, ku), 0);
	T_CHECK(hex_eq(ku, 20, "9fb5cc0381497b3793528939ff788d5d79145211"));
	T_EQ_INT(usm_localize_key(USM_AUTH_SHA1, ku, engine2, sizeof(engine2), kul), 0);
	T_CHECK(hex_eq(kul, 20, "6695febc9288e36282235fc7151f128497b38f3f"));
}

T_TEST(usm_param_lengths_rfc7860)
{
	T_EQ_INT(usm_auth_param_len(USM_AUTH_MD5), 12);
	T_EQ_INT(usm_auth_param_len(USM_AUTH_SHA1), 12);
	T_EQ_INT(usm_auth_param_len(USM_AUTH_SHA224), 16);
	T_EQ_INT(usm_auth_param_len(USM_AUTH_SHA256), 24);
	T_EQ_INT(usm_auth_param_len(USM_AUTH_SHA384), 32);
	T_EQ_INT(usm_auth_param_len(USM_AUTH_SHA512), 48);
	T_EQ_INT(usm_password_to_key(USM_AUTH_SHA1, "", 0, (uint8_t[USM_KEY_MAX]){0}), -EINVAL);
}

T_TEST(usm_aes256_key_extension)
{
	/* Blumenthal: Kul(20 bytes SHA-1) || SHA1(Kul) truncated to 32. */
	uint8_t ku[USM_KEY_MAX], kul[USM_KEY_MAX], key[USM_KEY_MAX], h[USM_KEY_MAX];
	size_t kl;
	usm_password_to_key(USM_AUTH_SHA1, "maplesyrup", 10, ku);
	usm_localize_key(USM_AUTH_SHA1, ku, engine2, sizeof(engine2), kul);
	T_EQ_INT(usm_priv_key(USM_AUTH_SHA1, USM_PRIV_AES256, kul, key, &kl), 0);
	T_EQ_INT(kl, 32);
	T_CHECK(memcmp(key, kul, 20) == 0);
	/* the 12 extension bytes are the start of SHA-1 over the 20-byte Kul */
	usm_priv_key(USM_AUTH_SHA1, USM_PRIV_AES128, kul, h, &kl);
	T_EQ_INT(kl, 16);
	T_CHECK(memcmp(h, kul, 16) == 0);
	uint8_t k2[USM_KEY_MAX];
	T_EQ_INT(usm_priv_key(USM_AUTH_SHA256, USM_PRIV_AES256, kul, k2, &kl), 0);
	T_CHECK(memcmp(k2, kul, 32) == 0);	/* SHA-256 is long enough: no extension */
}

static void roundtrip(enum usm_auth a, enum usm_priv p, int *ok)
{
	uint8_t ku[USM_KEY_MAX], kul[USM_KEY_MAX], pku[USM_KEY_MAX], pkul[USM_KEY_MAX];
	uint8_t pkey[USM_KEY_MAX];
	size_t pkl;
	static const uint8_t eid[] = { 0x80, 0, 0x1f, 0x88, 0x80, 1, 2, 3, 4 };
	*ok = 0;
	usm_password_to_key(a, "authpass123", 11, ku);
	usm_localize_key(a, ku, eid, sizeof(eid), kul);
	usm_password_to_key(a, "privpass123", 11, pku);
	usm_localize_key(a, pku, eid, sizeof(eid), pkul);
	if (p != USM_PRIV_NONE && usm_priv_key(a, p, pkul, pkey, &pkl) < 0)
		return;
	struct snmp_varbind vb;
	memset(&vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1.2.1.1.5.0", &vb.name);
	vb.val.type = BER_OCTET_STRING;
	vb.val.s = (const uint8_t *)"router-with-a-name";
	vb.val.len = 18;
	struct snmp_pdu q = { .type = SNMP_PDU_RESPONSE, .request_id = 77, .vb = &vb, .nvb = 1 };
	struct usm_out o = {
		.msg_id = 77, .flags = USM_FLAG_AUTH | (p ? USM_FLAG_PRIV : 0),
		.engine_id = eid, .engine_id_len = sizeof(eid), .boots = 3, .time = 1000,
		.user = "alice", .auth = a, .auth_key = kul, .priv = p, .priv_key = pkey,
		.salt = 0x0102030405060708ull, .context_engine_id = eid,
		.context_engine_id_len = sizeof(eid),
	};
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	if (usm_msg_encode(&e, &o, &q) < 0)
		goto out;
	struct usm_msg m;
	if (usm_msg_decode(e.b.data, e.b.len, &m) < 0 || m.msg_id != 77 || m.boots != 3 ||
	    m.user_len != 5 || m.auth_params_len != usm_auth_param_len(a))
		goto out;
	if (usm_msg_verify(&m, e.b.data, e.b.len, a, kul) != 0)
		goto out;
	uint8_t plain[SNMP_MSG_MAX];
	struct snmp_pdu got;
	if (usm_msg_open(&m, p, pkey, plain, &got) < 0)
		goto out;
	if (got.nvb == 1 && got.request_id == 77 && got.vb[0].val.len == 18 &&
	    memcmp(got.vb[0].val.s, "router-with-a-name", 18) == 0)
		*ok = 1;
	snmp_pdu_free(&got);
	/* Any flipped bit makes verification fail (or the header unparseable). */
	for (size_t i = 0; i < e.b.len && *ok; i += 7) {
		e.b.data[i] ^= 0x10;
		struct usm_msg m2;
		if (usm_msg_decode(e.b.data, e.b.len, &m2) == 0 &&
		    usm_msg_verify(&m2, e.b.data, e.b.len, a, kul) == 0)
			*ok = 0;
		e.b.data[i] ^= 0x10;
	}
out:
	ber_enc_free(&e);
}

T_TEST(usm_sign_encrypt_roundtrip_every_algorithm)
{
	enum usm_auth auths[] = { USM_AUTH_MD5, USM_AUTH_SHA1, USM_AUTH_SHA224,
		USM_AUTH_SHA256, USM_AUTH_SHA384, USM_AUTH_SHA512 };
	enum usm_priv privs[] = { USM_PRIV_NONE, USM_PRIV_AES128, USM_PRIV_AES192,
		USM_PRIV_AES256, USM_PRIV_DES };
	int have_des = usm_crypto_init() == 0;
	for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++)
		for (size_t j = 0; j < sizeof(privs) / sizeof(privs[0]); j++) {
			if (privs[j] == USM_PRIV_DES && !have_des)
				continue;
			int ok;
			roundtrip(auths[i], privs[j], &ok);
			if (!ok)
				T_FAILF("auth %zu priv %zu failed", i, j);
		}
	T_CHECK(have_des);
}

T_TEST(usm_wrong_key_is_eacces)
{
	uint8_t k1[USM_KEY_MAX] = { 1 }, k2[USM_KEY_MAX] = { 2 };
	struct snmp_pdu q = { .type = SNMP_PDU_GET, .request_id = 1 };
	struct usm_out o = { .msg_id = 1, .flags = USM_FLAG_AUTH, .user = "u",
		.auth = USM_AUTH_SHA256, .auth_key = k1 };
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	T_EQ_INT(usm_msg_encode(&e, &o, &q), 0);
	struct usm_msg m;
	T_EQ_INT(usm_msg_decode(e.b.data, e.b.len, &m), 0);
	T_EQ_INT(usm_msg_verify(&m, e.b.data, e.b.len, USM_AUTH_SHA256, k1), 0);
	T_EQ_INT(usm_msg_verify(&m, e.b.data, e.b.len, USM_AUTH_SHA256, k2), -EACCES);
	T_EQ_INT(usm_msg_verify(&m, e.b.data, e.b.len, USM_AUTH_MD5, k1), -EBADMSG);
	/* truncations never parse */
	for (size_t n = 0; n < e.b.len; n++)
		T_CHECK(usm_msg_decode(e.b.data, n, &m) < 0);
	ber_enc_free(&e);
}

T_TEST(usm_report_classified)
{
	struct snmp_varbind vb;
	memset(&vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1.6.3.15.1.1.5.0", &vb.name);
	struct snmp_pdu r = { .type = SNMP_PDU_REPORT, .vb = &vb, .nvb = 1 };
	T_EQ_INT(usm_report_kind(&r), USM_REPORT_WRONG_DIGEST);
	snmp_oid_parse("1.3.6.1.6.3.15.1.1.4.0", &vb.name);
	T_EQ_INT(usm_report_kind(&r), USM_REPORT_UNKNOWN_ENGINE_ID);
	snmp_oid_parse("1.3.6.1.6.3.11.2.1.3.0", &vb.name);
	T_EQ_INT(usm_report_kind(&r), USM_REPORT_OTHER);
}

int main(void)
{
	T_RUN(usm_rfc3414_a3_1_md5);
	T_RUN(usm_rfc3414_a3_2_sha1);
	T_RUN(usm_param_lengths_rfc7860);
	T_RUN(usm_aes256_key_extension);
	T_RUN(usm_sign_encrypt_roundtrip_every_algorithm);
	T_RUN(usm_wrong_key_is_eacces);
	T_RUN(usm_report_classified);
	return t_done();
}
