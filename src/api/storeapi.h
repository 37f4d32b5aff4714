/*
 * storeapi.h — the web -> store API request as it crosses the socketpair,
 * and the store side's dispatch to the /api/v1 handlers.
 *
 * Wire form (MSG_API_REQUEST): struct msg_api_req, then method, path, query
 * and body bytes of the lengths it gives. The reply (MSG_API_RESPONSE) is
 * struct msg_api_resp, the content type, then the body.
 *
 * Paths are below /api/v1 ("/query"), except /api/alerting/... requests,
 * which keep their whole path and whose body is the authenticated user's
 * name, a newline, then the request's JSON body (alert_ops_http records who
 * acted). The web worker has checked the role before forwarding either.
 */
#ifndef VIGIL_STOREAPI_H
#define VIGIL_STOREAPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tsdb/storage.h"

struct alert_runtime;
struct inventory;

struct storeapi_request {
	char method[16];	/* "GET" or "POST" */
	char path[512];		/* path below /api/v1, e.g. "/query", or "/api/alerting/..." or "/api/inventory/..." whole */
	const char *query;	/* query string (not NUL-terminated) */
	size_t query_len;	/* its length */
	const char *body;	/* form body (not NUL-terminated) */
	size_t body_len;	/* its length */
};

/* Encode a request for MSG_API_REQUEST into out. 0 or -E2BIG. */
int storeapi_encode(const char *method, const char *path, const char *query,
    size_t query_len, const char *body, size_t body_len, struct buf *out);
/* Decode a MSG_API_REQUEST payload; pointers refer into p. 0 or -1 if malformed. */
int storeapi_decode(const void *p, uint32_t len, struct storeapi_request *req /* out */);
/* What the store worker counts about API traffic (for its /metrics families). */
struct storeapi_counters {
	struct {
		int64_t timeout_ms;	/* query.timeout */
		size_t max_samples;	/* query.max_samples */
		int64_t lookback_ms;	/* query.lookback_delta */
		int64_t start_time_ms;	/* when the store worker started */
	} limits;		/* set by the store worker from the config */
	struct storage *st;	/* the store (set by the handler) */
	struct alert_runtime *alerts;	/* for /api/v1/rules and /alerts (NULL: none) */
	struct inventory *inv;		/* /api/inventory state, made on first use (inventory.h) */
	uint64_t appended;	/* samples appended from remote_write */
	uint64_t rejected;	/* remote_write samples the store refused */
	uint64_t rw_requests;	/* remote_write requests taken */
	uint64_t rw_bad;	/* remote_write requests refused as malformed */
};

/* Answer a request from the store: body, status and a static content type. */
void storeapi_handle(struct storage *st, const struct storeapi_request *req,
    struct buf *body /* out */, int *status /* out */, const char **ctype /* out */,
    struct storeapi_counters *cnt);

#endif
