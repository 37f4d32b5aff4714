/*
 * usm.h — SNMPv3 messages with the User-based Security Model (RFC 3412,
 * RFC 3414, RFC 3826, RFC 7860).
 *
 * Keys: a password becomes Ku once (usm_password_to_key, 1 MiB of hashing),
 * then is localized to each engine (usm_localize_key). Privacy keys for
 * AES-192/256 are extended as net-snmp does by default (Blumenthal draft:
 * Kul || H(Kul) ...), see usm_priv_key.
 *
 * Sending: fill a struct usm_out and call usm_msg_encode(); it encrypts the
 * scoped PDU and signs the message as the security level says.
 * Receiving: usm_msg_decode() parses the header and security parameters
 * without trusting anything; the caller finds the user by msg_id, then
 * usm_msg_verify() checks the HMAC and usm_msg_open() decrypts and decodes
 * the scoped PDU.
 *
 * DES needs OpenSSL's legacy provider: call usm_crypto_init() once before the
 * process is sandboxed (it may dlopen the provider module).
 */
#ifndef VIGIL_SNMP_USM_H
#define VIGIL_SNMP_USM_H

#include <stddef.h>
#include <stdint.h>

#include "snmp/ber.h"
#include "snmp/pdu.h"

#define USM_KEY_MAX        64	/* bytes in the longest key (SHA-512 digest) */
#define USM_ENGINE_ID_MAX  32	/* bytes in an snmpEngineID (RFC 3411) */
#define USM_USER_MAX       32	/* bytes in a user name (RFC 3414) */
#define USM_AUTH_PARAM_MAX 48	/* bytes in msgAuthenticationParameters (SHA-512) */
#define USM_CONTEXT_MAX    255	/* bytes in a context engine id or name we accept */

enum usm_auth { USM_AUTH_NONE, USM_AUTH_MD5, USM_AUTH_SHA1, USM_AUTH_SHA224,
	USM_AUTH_SHA256, USM_AUTH_SHA384, USM_AUTH_SHA512 };
enum usm_priv { USM_PRIV_NONE, USM_PRIV_DES, USM_PRIV_AES128, USM_PRIV_AES192,
	USM_PRIV_AES256 };

/* msgFlags bits. */
#define USM_FLAG_AUTH       0x01
#define USM_FLAG_PRIV       0x02
#define USM_FLAG_REPORTABLE 0x04

/* usmStats report OIDs' last-but-one sub-identifier (1.3.6.1.6.3.15.1.1.X.0). */
enum usm_report {
	USM_REPORT_NONE = 0,
	USM_REPORT_UNSUPPORTED_SECLEVEL = 1,
	USM_REPORT_NOT_IN_TIME_WINDOW = 2,
	USM_REPORT_UNKNOWN_USER = 3,
	USM_REPORT_UNKNOWN_ENGINE_ID = 4,
	USM_REPORT_WRONG_DIGEST = 5,
	USM_REPORT_DECRYPTION_ERROR = 6,
	USM_REPORT_OTHER = 99,
};

/* Load the OpenSSL providers USM uses (default + legacy for DES). 0 or -ENOTSUP
 * if DES is unavailable (everything else still works). Idempotent. */
int usm_crypto_init(void);
/* Parse "MD5", "SHA", "SHA-256", ...; 0 or -EINVAL. */
int usm_auth_parse(const char *s, enum usm_auth *a /* out */);
/* Parse "DES", "AES", "AES-192", "AES-256"; 0 or -EINVAL. */
int usm_priv_parse(const char *s, enum usm_priv *p /* out */);
/* Digest bytes of the auth hash (16..64), or 0 for none. */
size_t usm_auth_digest_len(enum usm_auth a);
/* Bytes of msgAuthenticationParameters (12, 12, 16, 24, 32, 48), or 0. */
size_t usm_auth_param_len(enum usm_auth a);

/* RFC 3414 A.2 password-to-key: hash 1 MiB of the repeated password. Writes
 * usm_auth_digest_len(a) bytes to ku. 0, or -EINVAL (no auth, empty password). */
int usm_password_to_key(enum usm_auth a, const char *pw, size_t pwlen,
    uint8_t ku[USM_KEY_MAX] /* out */);
/* Localize Ku to an engine: H(Ku || engineID || Ku). 0 or -EINVAL. */
int usm_localize_key(enum usm_auth a, const uint8_t *ku, const uint8_t *engine_id,
    size_t elen, uint8_t kul[USM_KEY_MAX] /* out */);
/* The localized privacy key for priv, extended for AES-192/256 (Blumenthal).
 * kul is the privacy password's Ku localized with auth a. *klen gets the
 * bytes the cipher needs (16 for DES: key + pre-IV; 16/24/32 for AES). */
int usm_priv_key(enum usm_auth a, enum usm_priv p, const uint8_t *kul,
    uint8_t key[USM_KEY_MAX] /* out */, size_t *klen /* out */);

/* What a sender puts into a v3 message. */
struct usm_out {
	int32_t msg_id;			/* msgID; vigil uses the PDU's request-id */
	uint8_t flags;			/* USM_FLAG_* */
	const uint8_t *engine_id;	/* authoritative engine id (may be empty) */
	size_t engine_id_len;		/* bytes at engine_id */
	uint32_t boots;			/* snmpEngineBoots */
	uint32_t time;			/* snmpEngineTime, seconds */
	const char *user;		/* user name (may be empty) */
	enum usm_auth auth;		/* used when flags has USM_FLAG_AUTH */
	const uint8_t *auth_key;	/* localized auth key */
	enum usm_priv priv;		/* used when flags has USM_FLAG_PRIV */
	const uint8_t *priv_key;	/* usm_priv_key() output */
	uint64_t salt;			/* privacy salt; the caller increments it per message */
	const uint8_t *context_engine_id; /* contextEngineID (usually = engine_id) */
	size_t context_engine_id_len;	/* bytes at context_engine_id */
};

/* Encode (and encrypt and sign) a v3 message into e (reset first). 0 or -errno. */
int usm_msg_encode(struct ber_enc *e, const struct usm_out *o, const struct snmp_pdu *pdu);

/* A received v3 message; pointers borrow from the datagram. */
struct usm_msg {
	int32_t msg_id;			/* msgID */
	int32_t max_size;		/* msgMaxSize */
	uint8_t flags;			/* msgFlags */
	const uint8_t *engine_id;	/* msgAuthoritativeEngineID */
	size_t engine_id_len;		/* bytes at engine_id */
	uint32_t boots;			/* msgAuthoritativeEngineBoots */
	uint32_t time;			/* msgAuthoritativeEngineTime */
	const uint8_t *user;		/* msgUserName */
	size_t user_len;		/* bytes at user */
	const uint8_t *auth_params;	/* msgAuthenticationParameters (inside the datagram) */
	size_t auth_params_len;		/* bytes at auth_params */
	const uint8_t *priv_params;	/* msgPrivacyParameters */
	size_t priv_params_len;		/* bytes at priv_params */
	const uint8_t *data;		/* scopedPDU TLV, or the encrypted bytes if priv */
	size_t data_len;		/* bytes at data */
};

/* Parse a v3 message's header and security parameters. 0 or -EBADMSG. */
int usm_msg_decode(const void *p, size_t n, struct usm_msg *m /* out */);
/* Check the message's HMAC with the localized auth key. 0, -EBADMSG when the
 * auth parameters have the wrong size, -EACCES when the digest is wrong. */
int usm_msg_verify(const struct usm_msg *m, const void *dgram, size_t n,
    enum usm_auth a, const uint8_t *auth_key);
/*
 * Decrypt (if the priv flag is set) and decode the scoped PDU. plain is a
 * scratch buffer of at least m->data_len bytes that the PDU then borrows
 * from. 0, -EBADMSG (malformed or undecryptable).
 */
int usm_msg_open(const struct usm_msg *m, enum usm_priv p, const uint8_t *priv_key,
    uint8_t *plain, struct snmp_pdu *pdu /* out */);
/* Classify a REPORT PDU by its first varbind (usmStats... OIDs). */
enum usm_report usm_report_kind(const struct snmp_pdu *pdu);
/* A short text for a report kind ("wrong digest (bad auth password)", ...). */
const char *usm_report_text(enum usm_report r);

#endif
