/*
 * http.h — the HTTP request/response types shared by every handler in the web
 * worker (console, auth, /api/v1 forwarding, /metrics). The transport is
 * libmicrohttpd (http.c); handlers never see it, so they can be unit-tested
 * by filling a struct http_req by hand.
 */
#ifndef VIGIL_HTTP_H
#define VIGIL_HTTP_H

#include <stddef.h>

#include "core/buf.h"

#define HTTP_MAX_HEADERS      64		/* request headers kept */
#define HTTP_MAX_RESP_HEADERS 8			/* response headers a handler may set */
#define HTTP_MAX_BODY         (8u << 20)	/* request body accepted (forms, remote_write) */

struct http_header {
	const char *name;	/* header name as sent */
	const char *value;	/* header value */
};

struct http_req {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* URL path, percent-decoded, no query */
	const char *query;		/* raw query string after '?', or "" */
	const struct http_header *headers;	/* request headers */
	size_t nheaders;		/* entries in headers */
	const char *body;		/* request body (may be NULL) */
	size_t body_len;		/* bytes in body */
	const char *remote_addr;	/* peer address as text */
	int tls;			/* 1 when served over TLS */
};

struct http_resp {
	int status;			/* HTTP status code */
	const char *content_type;	/* static string, e.g. "application/json" */
	struct buf body;		/* response body (capped at BUF_CAP_HTTP_BODY) */
	struct http_header headers[HTTP_MAX_RESP_HEADERS];	/* owned name/value copies */
	size_t nheaders;		/* entries used */
};

/* Return the value of a request header (case-insensitive name), or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);
/*
 * Find parameter name in a query string or x-www-form-urlencoded body and
 * percent-decode it into a malloced string in *out. Return 1 if found, 0 if
 * not, -1 if malformed.
 */
int http_form_get(const char *form, size_t len, const char *name, char **out /* out */);
/* Prepare an empty 200 response. */
void http_resp_init(struct http_resp *r);
/* Free what a response owns; r may be NULL. */
void http_resp_free(struct http_resp *r);
/* Add a response header (copied). 0, or -E2BIG when HTTP_MAX_RESP_HEADERS are used. */
int http_resp_header(struct http_resp *r, const char *name, const char *value);

#endif
