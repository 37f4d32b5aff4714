/*
 * batch.h — a batch of samples on its way from a source (collector, SNMP
 * poll, probe, scrape) to the store worker. Compact binary, not text.
 *
 * Encoding (all varints are LEB128; see docs/ARCHITECTURE.md):
 *   uvarint nsamples, then per sample:
 *     uvarint nlabels, per label: uvarint len, name bytes, uvarint len, value bytes
 *     varint  timestamp (ms since epoch)
 *     u64le   value (IEEE-754 bits; staleness markers keep their NaN bits)
 *
 *   struct batch b; batch_init(&b);
 *   batch_add(&b, ls, ts, v); ... send b.enc.data / b.enc.len; batch_free(&b);
 *   batch_decode(bytes, len, cb, ctx) calls cb once per sample.
 */
#ifndef VIGIL_BATCH_H
#define VIGIL_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/labels.h"

#define BATCH_MAX_BYTES (16u << 20)	/* one encoded batch */

/* The float64 bit pattern Prometheus uses as a staleness marker. */
#define STALE_NAN_BITS 0x7ff0000000000002ull
/* Return the staleness marker value; and test a value for it (bitwise). */
double stale_nan(void);
int is_stale_nan(double v);

struct batch {
	struct buf body;	/* encoded samples, without the count */
	size_t n;		/* samples added */
};

void batch_init(struct batch *b);
void batch_free(struct batch *b);
void batch_reset(struct batch *b);
/* Add a sample; 0, or -E2BIG when the batch is full (send it and reset). */
int batch_add(struct batch *b, const struct labels *ls, int64_t ts_ms, double v);
/* Write the whole encoding (count + body) to out; 0 or -E2BIG. */
int batch_encode(const struct batch *b, struct buf *out);
/*
 * Decode an encoded batch, calling cb for each sample with a label set that
 * lives only during the call. Stops at the first cb returning non-zero.
 * Return 0, the cb's non-zero value, or -EBADMSG if the bytes are malformed
 * (samples before the damage have been delivered).
 */
int batch_decode(const void *p, size_t n,
    int (*cb)(void *ctx, const struct labels *ls, int64_t ts_ms, double v), void *ctx);

/*
 * Where a source (collector, SNMP poller, probe, scrape) puts its samples.
 * The poller worker's sink appends to a batch and ships it to the store;
 * `vigil agent` renders them; tests collect them in memory. The label set
 * is only borrowed for the call. Return 0, or a negative errno to stop.
 */
struct sample_sink {
	int (*add)(void *ctx, const struct labels *ls, int64_t ts_ms, double v);	/* take one sample */
	void *ctx;	/* the sink's state */
};

#endif
