/* usm.c — see usm.h. Crypto through OpenSSL EVP. */
#include "snmp/usm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/provider.h>

#define USM_PW_EXPAND (1024u * 1024u)	/* RFC 3414 A.2: bytes of password hashed */

/* Held for the life of the process; unloaded at exit. */
static OSSL_PROVIDER *prov_default, *prov_legacy;

static void crypto_unload(void)
{
	if (prov_legacy)
		OSSL_PROVIDER_unload(prov_legacy);
	if (prov_default)
		OSSL_PROVIDER_unload(prov_default);
	prov_legacy = prov_default = NULL;
}

int usm_crypto_init(void)
{
	static int done, rc;
	if (done)
		return rc;
	done = 1;
	/* Loading legacy turns off the implicit default provider: load both. */
	prov_default = OSSL_PROVIDER_load(NULL, "default");
	prov_legacy = OSSL_PROVIDER_load(NULL, "legacy");
	if (!prov_default || !prov_legacy)
		rc = -ENOTSUP;
	atexit(crypto_unload);
	return rc;
}

int usm_auth_parse(const char *s, enum usm_auth *a)
{
	static const struct { const char *name; enum usm_auth a; } t[] = {
		{ "none", USM_AUTH_NONE }, { "MD5", USM_AUTH_MD5 }, { "SHA", USM_AUTH_SHA1 },
		{ "SHA1", USM_AUTH_SHA1 }, { "SHA-1", USM_AUTH_SHA1 },
		{ "SHA-224", USM_AUTH_SHA224 }, { "SHA224", USM_AUTH_SHA224 },
		{ "SHA-256", USM_AUTH_SHA256 }, { "SHA256", USM_AUTH_SHA256 },
		{ "SHA-384", USM_AUTH_SHA384 }, { "SHA384", USM_AUTH_SHA384 },
		{ "SHA-512", USM_AUTH_SHA512 }, { "SHA512", USM_AUTH_SHA512 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0) {
			*a = t[i].a;
			return 0;
		}
	return -EINVAL;
}

int usm_priv_parse(const char *s, enum usm_priv *p)
{
	static const struct { const char *name; enum usm_priv p; } t[] = {
		{ "none", USM_PRIV_NONE }, { "DES", USM_PRIV_DES }, { "AES", USM_PRIV_AES128 },
		{ "AES128", USM_PRIV_AES128 }, { "AES-128", USM_PRIV_AES128 },
		{ "AES192", USM_PRIV_AES192 }, { "AES-192", USM_PRIV_AES192 },
		{ "AES256", USM_PRIV_AES256 }, { "AES-256", USM_PRIV_AES256 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcasecmp(s, t[i].name) == 0) {
			*p = t[i].p;
			return 0;
		}
	return -EINVAL;
}

static const EVP_MD *auth_md(enum usm_auth a)
{
	switch (a) {
	case USM_AUTH_MD5: return EVP_md5();
	case USM_AUTH_SHA1: return EVP_sha1();
	case USM_AUTH_SHA224: return EVP_sha224();
	case USM_AUTH_SHA256: return EVP_sha256();
	case USM_AUTH_SHA384: return EVP_sha384();
	case USM_AUTH_SHA512: return EVP_sha512();
	default: return NULL;
	}
}

size_t usm_auth_digest_len(enum usm_auth a)
{
	static const size_t len[] = { 0, 16, 20, 28, 32, 48, 64 };
	return (unsigned)a < sizeof(len) / sizeof(len[0]) ? len[a] : 0;
}

size_t usm_auth_param_len(enum usm_auth a)
{
	/* RFC 3414 truncates MD5/SHA-1 to 96 bits; RFC 7860 table for SHA-2. */
	static const size_t len[] = { 0, 12, 12, 16, 24, 32, 48 };
	return (unsigned)a < sizeof(len) / sizeof(len[0]) ? len[a] : 0;
}

int usm_password_to_key(enum usm_auth a, const char *pw, size_t pwlen, uint8_t ku[USM_KEY_MAX])
{
	const EVP_MD *md = auth_md(a);
	if (!md || pwlen == 0)
		return -EINVAL;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	uint8_t chunk[64];
	size_t at = 0;
	int rc = -EINVAL;
	if (!EVP_DigestInit_ex(ctx, md, NULL))
		goto fail;
	for (size_t done = 0; done < USM_PW_EXPAND; done += sizeof(chunk)) {
		for (size_t i = 0; i < sizeof(chunk); i++)
			chunk[i] = (uint8_t)pw[at++ % pwlen];
		if (!EVP_DigestUpdate(ctx, chunk, sizeof(chunk)))
			goto fail;
	}
	unsigned int n;
	if (!EVP_DigestFinal_ex(ctx, ku, &n))
		goto fail;
	rc = 0;
fail:
	EVP_MD_CTX_free(ctx);
	return rc;
}

int usm_localize_key(enum usm_auth a, const uint8_t *ku, const uint8_t *engine_id,
    size_t elen, uint8_t kul[USM_KEY_MAX])
{
	const EVP_MD *md = auth_md(a);
	size_t dl = usm_auth_digest_len(a);
	if (!md || elen > USM_ENGINE_ID_MAX)
		return -EINVAL;
	uint8_t tmp[USM_KEY_MAX * 2 + USM_ENGINE_ID_MAX];
	memcpy(tmp, ku, dl);
	if (elen)
		memcpy(tmp + dl, engine_id, elen);
	memcpy(tmp + dl + elen, ku, dl);
	unsigned int n;
	if (!EVP_Digest(tmp, dl * 2 + elen, kul, &n, md, NULL))
		return -EINVAL;
	return 0;
}

int usm_priv_key(enum usm_auth a, enum usm_priv p, const uint8_t *kul,
    uint8_t key[USM_KEY_MAX], size_t *klen)
{
	const EVP_MD *md = auth_md(a);
	size_t dl = usm_auth_digest_len(a);
	size_t need = p == USM_PRIV_DES || p == USM_PRIV_AES128 ? 16 :
	    p == USM_PRIV_AES192 ? 24 : p == USM_PRIV_AES256 ? 32 : 0;
	if (!md || need == 0)
		return -EINVAL;
	uint8_t ext[USM_KEY_MAX * 2];
	size_t have = dl;
	memcpy(ext, kul, dl);
	/* Blumenthal key extension: append H(everything so far) until long enough. */
	while (have < need) {
		unsigned int n;
		if (!EVP_Digest(ext, have, ext + have, &n, md, NULL))
			return -EINVAL;
		have += n;
	}
	memcpy(key, ext, need);
	*klen = need;
	return 0;
}

/* ---- encoding ---- */

static const EVP_CIPHER *priv_cipher(enum usm_priv p)
{
	switch (p) {
	case USM_PRIV_DES: return EVP_des_cbc();
	case USM_PRIV_AES128: return EVP_aes_128_cfb128();
	case USM_PRIV_AES192: return EVP_aes_192_cfb128();
	case USM_PRIV_AES256: return EVP_aes_256_cfb128();
	default: return NULL;
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Build the key and IV for one message (RFC 3414 8.1.1.1, RFC 3826 3.1.2.1). */
static int priv_iv(enum usm_priv p, const uint8_t *key, uint32_t boots, uint32_t time,
    const uint8_t salt[8], uint8_t iv[16])
{
	if (p == USM_PRIV_DES) {
		for (int i = 0; i < 8; i++)
			iv[i] = key[8 + i] ^ salt[i];
		return 0;
	}
	put_be32(iv, boots);
	put_be32(iv + 4, time);
	memcpy(iv + 8, salt, 8);
	return 0;
}

static int crypt_bytes(enum usm_priv p, const uint8_t *key, const uint8_t *iv, int enc,
    const uint8_t *in, size_t n, uint8_t *out)
{
	const EVP_CIPHER *c = priv_cipher(p);
	if (!c || n > SNMP_MSG_MAX)
		return -EINVAL;
	EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	int rc = -EBADMSG, l1 = 0, l2 = 0;
	if (!EVP_CipherInit_ex(ctx, c, NULL, key, iv, enc))
		goto fail;
	EVP_CIPHER_CTX_set_padding(ctx, 0);
	if (!EVP_CipherUpdate(ctx, out, &l1, in, (int)n))
		goto fail;
	if (!EVP_CipherFinal_ex(ctx, out + l1, &l2))
		goto fail;
	rc = (size_t)(l1 + l2) == n ? 0 : -EBADMSG;
fail:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

static void encode_scoped(struct ber_enc *e, const struct usm_out *o, const struct snmp_pdu *pdu)
{
	ber_push(e, BER_SEQUENCE);
	ber_put_str(e, BER_OCTET_STRING, o->context_engine_id, o->context_engine_id_len);
	ber_put_str(e, BER_OCTET_STRING, "", 0);
	snmp_pdu_encode(e, pdu);
	ber_pop(e);
}

int usm_msg_encode(struct ber_enc *e, const struct usm_out *o, const struct snmp_pdu *pdu)
{
	struct ber_enc sp;
	uint8_t salt[8];
	uint8_t zeros[USM_AUTH_PARAM_MAX] = { 0 };
	int rc;
	size_t alen = (o->flags & USM_FLAG_AUTH) ? usm_auth_param_len(o->auth) : 0;
	int priv = (o->flags & USM_FLAG_PRIV) != 0;
	size_t ulen = o->user ? strlen(o->user) : 0;

	ber_enc_reset(e);
	ber_enc_init(&sp, SNMP_MSG_MAX);
	if (ulen > USM_USER_MAX || (o->flags & USM_FLAG_AUTH && alen == 0) ||
	    (priv && (!(o->flags & USM_FLAG_AUTH) || !priv_cipher(o->priv)))) {
		rc = -EINVAL;
		goto fail;
	}
	for (int i = 0; i < 8; i++)
		salt[i] = (uint8_t)(o->salt >> (56 - 8 * i));
	if (o->priv == USM_PRIV_DES && priv)
		put_be32(salt, o->boots);	/* DES salt: boots || local counter */

	/* The scoped PDU, encrypted first if asked. */
	struct ber_enc sc;
	ber_enc_init(&sc, SNMP_MSG_MAX);
	encode_scoped(&sc, o, pdu);
	if (sc.err) {
		rc = sc.err;
		ber_enc_free(&sc);
		goto fail;
	}
	if (priv) {
		uint8_t iv[16];
		size_t n = sc.b.len;
		if (o->priv == USM_PRIV_DES)
			n = (n + 7) & ~(size_t)7;	/* CBC needs whole blocks */
		uint8_t *in = calloc(1, n ? n : 1), *out = malloc(n ? n : 1);
		if (!in || !out) {
			free(in);
			free(out);
			ber_enc_free(&sc);
			rc = -ENOMEM;
			goto fail;
		}
		memcpy(in, sc.b.data, sc.b.len);
		priv_iv(o->priv, o->priv_key, o->boots, o->time, salt, iv);
		rc = crypt_bytes(o->priv, o->priv_key, iv, 1, in, n, out);
		if (rc == 0)
			ber_put_str(&sp, BER_OCTET_STRING, out, n);
		free(in);
		free(out);
		if (rc < 0) {
			ber_enc_free(&sc);
			goto fail;
		}
	} else {
		ber_put_raw(&sp, sc.b.data, sc.b.len);
	}
	ber_enc_free(&sc);

	ber_push(e, BER_SEQUENCE);
	ber_put_int(e, BER_INTEGER, SNMP_V3);
	ber_push(e, BER_SEQUENCE);
	ber_put_int(e, BER_INTEGER, o->msg_id);
	ber_put_int(e, BER_INTEGER, SNMP_MSG_MAX);
	ber_put_str(e, BER_OCTET_STRING, &o->flags, 1);
	ber_put_int(e, BER_INTEGER, 3);	/* USM */
	ber_pop(e);
	/* msgSecurityParameters is an OCTET STRING wrapping a SEQUENCE. */
	ber_push(e, BER_OCTET_STRING);
	ber_push(e, BER_SEQUENCE);
	ber_put_str(e, BER_OCTET_STRING, o->engine_id, o->engine_id_len);
	ber_put_int(e, BER_INTEGER, o->boots);
	ber_put_int(e, BER_INTEGER, o->time);
	ber_put_str(e, BER_OCTET_STRING, o->user, ulen);
	ber_put_str(e, BER_OCTET_STRING, zeros, alen);
	ber_put_str(e, BER_OCTET_STRING, salt, priv ? 8 : 0);
	ber_pop(e);
	ber_pop(e);
	ber_put_raw(e, sp.b.data, sp.b.len);
	ber_pop(e);
	if ((rc = e->err) < 0 || (rc = sp.err) < 0)
		goto fail;

	if (alen) {
		/* Find where the zeroed auth parameters landed and sign in place. */
		struct usm_msg m;
		uint8_t mac[EVP_MAX_MD_SIZE];
		unsigned int ml = 0;
		if ((rc = usm_msg_decode(e->b.data, e->b.len, &m)) < 0)
			goto fail;
		size_t off = (size_t)(m.auth_params - (const uint8_t *)e->b.data);
		if (!HMAC(auth_md(o->auth), o->auth_key, (int)usm_auth_digest_len(o->auth),
		    (const uint8_t *)e->b.data, e->b.len, mac, &ml)) {
			rc = -EINVAL;
			goto fail;
		}
		memcpy(e->b.data + off, mac, alen);
	}
	ber_enc_free(&sp);
	return 0;
fail:
	ber_enc_free(&sp);
	return rc < 0 ? rc : -EINVAL;
}

/* ---- decoding ---- */

static int get_u31(struct ber_rd *r, uint32_t *v)
{
	int64_t x;
	if (ber_get_int(r, BER_INTEGER, &x) < 0 || x < 0 || x > INT32_MAX)
		return -EBADMSG;
	*v = (uint32_t)x;
	return 0;
}

int usm_msg_decode(const void *p, size_t n, struct usm_msg *m)
{
	struct ber_rd r, msg, hdr, spo, sp;
	int64_t ver, model, id, maxsz;
	const uint8_t *fl, *spraw;
	size_t fln, spn;
	memset(m, 0, sizeof(*m));
	ber_rd_init(&r, p, n);
	if (ber_enter(&r, BER_SEQUENCE, &msg) < 0 || ber_left(&r) != 0)
		return -EBADMSG;
	if (ber_get_int(&msg, BER_INTEGER, &ver) < 0 || ver != SNMP_V3)
		return -EBADMSG;
	if (ber_enter(&msg, BER_SEQUENCE, &hdr) < 0 ||
	    ber_get_int(&hdr, BER_INTEGER, &id) < 0 || id < 0 || id > INT32_MAX ||
	    ber_get_int(&hdr, BER_INTEGER, &maxsz) < 0 || maxsz < 484 || maxsz > INT32_MAX ||
	    ber_get_str(&hdr, BER_OCTET_STRING, &fl, &fln) < 0 || fln != 1 ||
	    ber_get_int(&hdr, BER_INTEGER, &model) < 0 || model != 3 || ber_left(&hdr))
		return -EBADMSG;
	m->msg_id = (int32_t)id;
	m->max_size = (int32_t)maxsz;
	m->flags = fl[0];
	if ((m->flags & USM_FLAG_PRIV) && !(m->flags & USM_FLAG_AUTH))
		return -EBADMSG;
	if (ber_get_str(&msg, BER_OCTET_STRING, &spraw, &spn) < 0)
		return -EBADMSG;
	ber_rd_init(&spo, spraw, spn);
	spo.depth = msg.depth + 1;
	if (ber_enter(&spo, BER_SEQUENCE, &sp) < 0 || ber_left(&spo) ||
	    ber_get_str(&sp, BER_OCTET_STRING, &m->engine_id, &m->engine_id_len) < 0 ||
	    m->engine_id_len > USM_ENGINE_ID_MAX ||
	    get_u31(&sp, &m->boots) < 0 || get_u31(&sp, &m->time) < 0 ||
	    ber_get_str(&sp, BER_OCTET_STRING, &m->user, &m->user_len) < 0 ||
	    m->user_len > USM_USER_MAX ||
	    ber_get_str(&sp, BER_OCTET_STRING, &m->auth_params, &m->auth_params_len) < 0 ||
	    m->auth_params_len > USM_AUTH_PARAM_MAX ||
	    ber_get_str(&sp, BER_OCTET_STRING, &m->priv_params, &m->priv_params_len) < 0 ||
	    ber_left(&sp))
		return -EBADMSG;
	uint8_t tag;
	const uint8_t *v, *start;
	size_t vl;
	if (ber_read_tlv(&msg, &tag, &v, &vl, &start) < 0 || ber_left(&msg))
		return -EBADMSG;
	if (m->flags & USM_FLAG_PRIV) {
		if (tag != BER_OCTET_STRING)
			return -EBADMSG;
		m->data = v;
		m->data_len = vl;
	} else {
		if (tag != BER_SEQUENCE)
			return -EBADMSG;
		m->data = start;
		m->data_len = (size_t)(v + vl - start);
	}
	return 0;
}

int usm_msg_verify(const struct usm_msg *m, const void *dgram, size_t n,
    enum usm_auth a, const uint8_t *auth_key)
{
	size_t alen = usm_auth_param_len(a);
	const uint8_t *d = dgram;
	if (alen == 0 || m->auth_params_len != alen || n > SNMP_MSG_MAX ||
	    m->auth_params < d || m->auth_params + alen > d + n)
		return -EBADMSG;
	uint8_t *copy = malloc(n);
	if (!copy)
		return -ENOMEM;
	memcpy(copy, d, n);
	memset(copy + (m->auth_params - d), 0, alen);
	uint8_t mac[EVP_MAX_MD_SIZE];
	unsigned int ml = 0;
	int rc = -EACCES;
	if (HMAC(auth_md(a), auth_key, (int)usm_auth_digest_len(a), copy, n, mac, &ml) &&
	    CRYPTO_memcmp(mac, m->auth_params, alen) == 0)
		rc = 0;
	free(copy);
	return rc;
}

int usm_msg_open(const struct usm_msg *m, enum usm_priv p, const uint8_t *priv_key,
    uint8_t *plain, struct snmp_pdu *pdu)
{
	struct ber_rd r, sc;
	const uint8_t *ce, *cn;
	size_t cel, cnl;
	const uint8_t *in = m->data;
	memset(pdu, 0, sizeof(*pdu));
	if (m->flags & USM_FLAG_PRIV) {
		uint8_t iv[16];
		if (m->priv_params_len != 8 || !priv_cipher(p))
			return -EBADMSG;
		if (p == USM_PRIV_DES && (m->data_len % 8) != 0)
			return -EBADMSG;
		priv_iv(p, priv_key, m->boots, m->time, m->priv_params, iv);
		if (crypt_bytes(p, priv_key, iv, 0, m->data, m->data_len, plain) < 0)
			return -EBADMSG;
		in = plain;
	}
	ber_rd_init(&r, in, m->data_len);
	r.depth = 2;
	/* DES leaves block padding after the scoped PDU: ignore trailing bytes. */
	if (ber_enter(&r, BER_SEQUENCE, &sc) < 0 ||
	    ber_get_str(&sc, BER_OCTET_STRING, &ce, &cel) < 0 || cel > USM_CONTEXT_MAX ||
	    ber_get_str(&sc, BER_OCTET_STRING, &cn, &cnl) < 0 || cnl > USM_CONTEXT_MAX)
		return -EBADMSG;
	if (snmp_pdu_decode(&sc, pdu) < 0)
		return -EBADMSG;
	if (ber_left(&sc)) {
		snmp_pdu_free(pdu);
		return -EBADMSG;
	}
	return 0;
}

enum usm_report usm_report_kind(const struct snmp_pdu *pdu)
{
	static const uint32_t base[] = { 1, 3, 6, 1, 6, 3, 15, 1, 1 };
	if (pdu->type != SNMP_PDU_REPORT || pdu->nvb == 0)
		return USM_REPORT_OTHER;
	const struct snmp_oid *o = &pdu->vb[0].name;
	if (o->n < 10 || memcmp(o->v, base, sizeof(base)) != 0)
		return USM_REPORT_OTHER;
	if (o->v[9] >= 1 && o->v[9] <= 6)
		return (enum usm_report)o->v[9];
	return USM_REPORT_OTHER;
}

const char *usm_report_text(enum usm_report r)
{
	switch (r) {
	case USM_REPORT_UNSUPPORTED_SECLEVEL: return "unsupported security level";
	case USM_REPORT_NOT_IN_TIME_WINDOW: return "not in time window";
	case USM_REPORT_UNKNOWN_USER: return "unknown user name";
	case USM_REPORT_UNKNOWN_ENGINE_ID: return "unknown engine id";
	case USM_REPORT_WRONG_DIGEST: return "wrong digest (bad auth password?)";
	case USM_REPORT_DECRYPTION_ERROR: return "decryption error (bad priv password?)";
	case USM_REPORT_NONE: return "none";
	default: return "unexpected report";
	}
}
