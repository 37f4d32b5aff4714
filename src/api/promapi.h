/*
 * promapi.h — the Prometheus-compatible /api/v1 JSON handlers: query,
 * query_range, series, labels, label/<name>/values, metadata, format_query
 * and status/{buildinfo,runtimeinfo,flags}. Transport-free: the HTTP layer
 * decodes the request into a struct promapi_request and sends back the body
 * and status this fills in.
 *
 *   struct promapi_request rq = { .method = "POST", .path = "/query" };
 *   promapi_parse_request(&rq, query_string, qs_len, body, body_len, content_type);
 *   struct buf out; buf_init(&out, BUF_CAP_HTTP_BODY); int status;
 *   promapi_handle(store, &rq, &out, &status);  // JSON in out, 200/400/422/503
 *   promapi_request_free(&rq); buf_free(&out);
 */
#ifndef VIGIL_PROMAPI_H
#define VIGIL_PROMAPI_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tsdb/storage.h"

#define PROMAPI_PARAMS_MAX 1024		/* name/value pairs in one request */
#define PROMAPI_PARAM_MAX  (256u << 10)	/* bytes in one decoded name or value */

struct promapi_param {
	char *name;	/* decoded name (owned) */
	char *value;	/* decoded value (owned) */
};

struct promapi_request {
	const char *method;		/* "GET" or "POST" (borrowed) */
	const char *path;		/* after /api/v1, e.g. "/query" (borrowed) */
	struct promapi_param *params;	/* decoded parameters, body's first (owned) */
	size_t nparams;			/* count */
	int64_t now_ms;			/* "now" for a missing time=, 0: the wall clock */
	int64_t timeout_ms;		/* query timeout cap, 0: 2 minutes */
	size_t max_samples;		/* sample limit per query, 0: engine default */
	int64_t lookback_ms;		/* lookback delta, 0: 5m */
	int64_t start_time_ms;		/* process start, for status/runtimeinfo */
};

/*
 * Append the pairs of an application/x-www-form-urlencoded string (a POST
 * body or a URL query string) to req->params, decoding %XX and '+'. Go's
 * FormValue takes the first value of a name, so parse the POST body first,
 * then the query string. Return 0, or -EINVAL for a bad escape or too many
 * or too long parameters (req keeps what was parsed before the error).
 */
int promapi_parse_params(struct promapi_request *req, const char *s, size_t n);
/*
 * Fill req's parameters from one HTTP request the way Go's ParseForm does:
 * for POST, a body with Content-Type application/x-www-form-urlencoded is
 * parsed first (its values win), then the URL query string. content_type may
 * carry parameters ("...; charset=utf-8") or be NULL. Return 0 or -EINVAL.
 */
int promapi_parse_request(struct promapi_request *req, const char *query, size_t qlen,
    const char *body, size_t blen, const char *content_type);
/* Free the parameters a request owns (the request itself is the caller's). */
void promapi_request_free(struct promapi_request *req);
/* First value of name, or NULL. */
const char *promapi_param(const struct promapi_request *req, const char *name);

/*
 * Handle one request against st: write the JSON response into body and
 * the HTTP status into *http_status (200, 400 bad_data, 404, 405, 422
 * execution, 503 timeout). Return 0, or -E2BIG if the response would pass
 * body's cap (body then holds an error document and status is 500).
 */
int promapi_handle(struct storage *st, const struct promapi_request *req,
    struct buf *body /* out */, int *http_status /* out */);

/* Parse a Prometheus API time ("1435781451.781" or RFC 3339) into ms; 0 or -EINVAL. */
int promapi_parse_time(const char *s, int64_t *ms /* out */);
/* Parse an API duration ("15s", "1m30s" or float seconds) into ms; 0 or -EINVAL. */
int promapi_parse_duration(const char *s, int64_t *ms /* out */);

#endif
