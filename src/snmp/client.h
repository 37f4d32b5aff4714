/*
 * client.h — the asynchronous SNMP client: one non-blocking UDP socket per
 * address family serves every device, thousands of requests in flight, all
 * driven by the worker's event loop (core/loop.h).
 *
 *   struct snmp_client *c = snmp_client_new(loop);
 *   struct snmp_target *t;
 *   snmp_target_new(c, &cfg, &t, err, sizeof(err));
 *   snmp_request(t, SNMP_PDU_GET, oids, n, 0, 0, on_reply, ctx);
 *   ... on_reply(ctx, 0, pdu) runs from the loop ...
 *   snmp_target_free(t); snmp_client_free(c);
 *
 * Each target has its own concurrency limit; requests over it wait in the
 * target's queue, so a slow or dead device only delays itself. A request is
 * sent, then re-sent after timeout_ms, 2*timeout_ms, ... (capped at 8x) up to
 * `retries` times. Every datagram goes out through egress_sendto(). Replies
 * are matched by request-id (v3: msgID) AND source address; anything else is
 * dropped and counted.
 *
 * SNMPv3: the first request to a target triggers engine discovery; keys are
 * localized then, and the engine's boots/time are tracked for the time window.
 * An authentication failure ends the request with -EACCES and leaves a
 * one-line reason in snmp_target_error().
 */
#ifndef VIGIL_SNMP_CLIENT_H
#define VIGIL_SNMP_CLIENT_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/buf.h"
#include "core/loop.h"
#include "snmp/pdu.h"
#include "snmp/usm.h"

#define SNMP_CLIENT_MAX_PENDING  65536	/* requests in flight + queued, whole client */
#define SNMP_CLIENT_MAX_INFLIGHT 512	/* requests on the wire at once, whole client: more
					 * wait their turn (thousands of devices due
					 * together must not overrun socket buffers) */
#define SNMP_TARGET_MAX_QUEUE    4096	/* requests waiting on one target */
#define SNMP_ERROR_MAX           160	/* bytes of a target's last error text */

/* How to reach and talk to one device. Strings are copied. */
struct snmp_target_cfg {
	const char *name;		/* for logs and errors ("core-sw1") */
	struct sockaddr_storage addr;	/* device address and port */
	socklen_t addrlen;		/* bytes used in addr */
	int version;			/* SNMP_V1, SNMP_V2C or SNMP_V3 */
	const char *community;		/* v1/v2c community */
	const char *user;		/* v3 user name */
	enum usm_auth auth;		/* v3 auth protocol (NONE: noAuthNoPriv) */
	const char *auth_pass;		/* v3 auth password */
	enum usm_priv priv;		/* v3 privacy protocol (NONE: authNoPriv) */
	const char *priv_pass;		/* v3 privacy password */
	const uint8_t *auth_ku;		/* optional precomputed Ku of auth_pass (usm_password_to_key) */
	const uint8_t *priv_ku;		/* optional precomputed Ku of priv_pass */
	int timeout_ms;			/* first retransmission timeout (0: 1000) */
	int retries;			/* re-sends after the first (-1: 0; 0 means default 2) */
	int max_inflight;		/* requests outstanding at once (0: 4) */
};

/* What a callback receives as status. */
#define SNMP_OK 0	/* resp holds the agent's RESPONSE (may carry an error-status) */
/* Otherwise a negative errno: -ETIMEDOUT (no reply after all retries),
 * -EACCES (v3 auth/privacy failure or egress refused; see snmp_target_error),
 * -ECANCELED (the target or client was freed), -EIO (send failed). */
typedef void (*snmp_resp_cb)(void *ctx, int status, const struct snmp_pdu *resp);

/* Counters for vigil_snmp_* self metrics. */
struct snmp_client_stats {
	uint64_t requests;		/* requests completed or failed */
	uint64_t sent;			/* datagrams sent, retries included */
	uint64_t retries;		/* re-sends after a timeout */
	uint64_t timeouts;		/* requests that ran out of retries */
	uint64_t responses;		/* matched, valid replies */
	uint64_t dropped_unknown;	/* replies with no matching request or from the wrong address */
	uint64_t dropped_bad;		/* replies that did not parse or failed authentication */
	uint64_t auth_failures;		/* v3 requests failed by a usmStats report */
	uint64_t send_errors;		/* sendto failures (egress refused included) */
	uint64_t v3_resyncs;		/* v3 requests re-sent after notInTimeWindow or a new engine id */
	uint64_t held;			/* times a target had to wait for the in-flight cap */
	uint64_t inflight_peak;		/* most requests in flight at once */
};

struct snmp_client;
struct snmp_target;

/* Make a client on loop; sockets open lazily. Never NULL. */
struct snmp_client *snmp_client_new(struct loop *l);
/* Free the client and every target still on it (callbacks get -ECANCELED).
 * NULL is fine. Must not be called from inside a callback. */
void snmp_client_free(struct snmp_client *c);
/*
 * Add a device. For v3 the passwords are turned into keys here (slow: ~2 ms
 * per password). Return 0 with *out set, or -EINVAL with a reason in err.
 */
int snmp_target_new(struct snmp_client *c, const struct snmp_target_cfg *cfg,
    struct snmp_target **out /* out */, char *err, size_t errsz);
/* Remove a device; its pending requests' callbacks get -ECANCELED. NULL is fine.
 * Must not be called from inside one of this target's callbacks. */
void snmp_target_free(struct snmp_target *t);
/*
 * Queue a request of type (GET, GETNEXT, GETBULK) for the n OIDs (copied).
 * non_repeaters/max_repetitions are used for GETBULK only. cb is called once,
 * from the loop, never from inside snmp_request. Return 0, or -E2BIG when
 * too many requests are queued, -EINVAL for a bad request (v1 + GETBULK).
 */
int snmp_request(struct snmp_target *t, uint8_t type, const struct snmp_oid *oids, size_t n,
    int non_repeaters, int max_repetitions, snmp_resp_cb cb, void *ctx);
/* The last error on this target as one line ("" if none). */
const char *snmp_target_error(const struct snmp_target *t);
/* The target's config name. */
const char *snmp_target_name(const struct snmp_target *t);
/* The target's SNMP version. */
int snmp_target_version(const struct snmp_target *t);
/* Requests in flight + queued on this target. */
size_t snmp_target_pending(const struct snmp_target *t);
/* The client's counters. */
const struct snmp_client_stats *snmp_client_stats(const struct snmp_client *c);
/* Parse "host:port", "[v6]:port" or a bare numeric address (port 161) into
 * addr. Numeric addresses only (no DNS). 0 or -EINVAL. */
int snmp_parse_addr(const char *s, struct sockaddr_storage *addr /* out */,
    socklen_t *len /* out */);

#ifdef VIGIL_TESTING
/* Fuzzing and tests only: fix the next request-id, and feed a datagram in as
 * if it had arrived from `from`. */
void snmp_client_testing_set_next_id(struct snmp_client *c, uint32_t id);
void snmp_client_testing_inject(struct snmp_client *c, const void *p, size_t n,
    const struct sockaddr_storage *from);
#endif

#endif
