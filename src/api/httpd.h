/*
 * httpd.h — the HTTP server transport: libmicrohttpd with its own thread
 * pool, on a listening socket the caller already has (the parent opened it).
 * Each request is collected (body capped at HTTP_MAX_BODY), turned into a
 * struct http_req and passed to one handler, which fills a struct http_resp.
 * The handler runs on the server's threads: it must be thread-safe.
 */
#ifndef VIGIL_HTTPD_H
#define VIGIL_HTTPD_H

#include "api/http.h"

typedef void (*httpd_handler)(void *ctx, const struct http_req *req, struct http_resp *resp);

struct httpd;

/* Start serving on listen_fd with nthreads threads. NULL on failure (logged). */
struct httpd *httpd_start(int listen_fd, unsigned nthreads, httpd_handler h, void *ctx);
/* Stop serving and free; NULL is fine. This closes the listening fd (the worker's copy). */
void httpd_stop(struct httpd *d);

#endif
