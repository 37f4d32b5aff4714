/*
 * remote_write.h — the Prometheus remote_write 1.0 payload: a
 * snappy-compressed protobuf WriteRequest (proto/remote.proto).
 *
 * Receiving (the store worker, for POST /api/v1/write):
 *   rw_decode(body, len, cb, ctx, err, sizeof(err)) calls cb per sample.
 * Sending (agents, forwarding to a distributed store):
 *   struct rw_builder b; rw_init(&b); rw_add(&b, ls, ts, v) ...;
 *   rw_encode(&b, &out) gives the compressed body; rw_free(&b).
 */
#ifndef VIGIL_REMOTE_WRITE_H
#define VIGIL_REMOTE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/labels.h"

#define RW_MAX_UNCOMPRESSED (64u << 20)	/* a decompressed WriteRequest */
#define RW_MAX_SERIES       100000	/* series in one request we build */

/*
 * Decode a snappy-compressed WriteRequest, calling cb for every sample with
 * a label set that lives during the call. Return the number of samples, or -1
 * with a reason in err (nothing is delivered for a request that does not
 * decompress or parse: a request is taken whole or not at all).
 */
long rw_decode(const void *p, size_t n,
    int (*cb)(void *ctx, const struct labels *ls, int64_t ts_ms, double v), void *ctx,
    char *err, size_t errsz);

struct rw_series;

struct rw_builder {
	struct rw_series *series;	/* series with their samples */
	size_t n, cap;			/* used, allocated */
	size_t samples;			/* samples added */
};

void rw_init(struct rw_builder *b);
void rw_free(struct rw_builder *b);
/* Add a sample; consecutive samples of the same series share its entry. */
int rw_add(struct rw_builder *b, const struct labels *ls, int64_t ts_ms, double v);
/* Encode and compress into out (appended). 0 or -E2BIG. */
int rw_encode(const struct rw_builder *b, struct buf *out);

#endif
