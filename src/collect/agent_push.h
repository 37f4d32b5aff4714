/*
 * agent_push.h — `vigil agent --remote-write URL`: push every collection to a
 * central vigil (or any Prometheus-compatible store) with the remote_write
 * protocol, labelled with job and instance as a scrape would label them.
 * The URL's host is resolved once and is the only destination the egress
 * policy allows.
 */
#ifndef VIGIL_AGENT_PUSH_H
#define VIGIL_AGENT_PUSH_H

#include <stdint.h>

#include "collect/collect.h"

#define AGENT_PUSH_TIMEOUT_S 10	/* one push may take this long */

struct agent_push;

/* Prepare pushing to url with a bearer token (may be NULL), adding job and
 * instance to every series. NULL with a reason in err if the URL is not
 * http(s)://host[:port]/path or its host does not resolve. */
struct agent_push *agent_push_new(const char *url, const char *token, const char *job,
    const char *instance, char *err, size_t errsz);
/* Push the last run of c, stamped ts_ms. 0, or -1 (logged; the next run tries again). */
int agent_push_run(struct agent_push *p, struct collect_ctx *c, int64_t ts_ms);
/* Pushes that succeeded and failed so far. */
uint64_t agent_push_ok(const struct agent_push *p);
uint64_t agent_push_failed(const struct agent_push *p);
/* Free; NULL is fine. */
void agent_push_free(struct agent_push *p);

#endif
