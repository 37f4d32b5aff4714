/*
 * chunk.h — compressed sample chunks (timestamps + float64 values).
 *
 * A chunk is a self-describing byte string: byte 0 the encoding, bytes 1-2
 * the sample count (u16 little-endian), then the body (docs/STORAGE.md):
 *   CHUNK_XOR  delta-of-delta timestamps + Gorilla XOR values, bit-packed,
 *              interleaved; every float bit pattern round-trips (NaN payloads).
 *   CHUNK_DEC  for chunks whose values are all decimals m / 10^e with |m| <
 *              2^53 (counters, most gauges): a timestamp stream (delta-of-delta
 *              or frame-of-reference deltas), then the integers m as bit-packed
 *              deltas or deltas-of-deltas.
 *   CHUNK_XORS the DEC timestamp stream, then Gorilla XOR values (other floats).
 * The head appends to an open chunk (struct chunk_app): CHUNK_DECA (decimal
 * values as m / 10^e, delta-of-delta coded like timestamps) while the values
 * fit an exponent <= 9 (the chunk is re-encoded in place with a larger one
 * when a value has more decimals), else CHUNK_XOR. When the chunk is cut,
 * chunk_encode() re-encodes it and keeps the smallest form.
 *
 *   struct chunk_iter it; int64_t t; double v;
 *   if (chunk_iter_init(&it, p, len) == 0)
 *       while (chunk_iter_next(&it, &t, &v) == 1) ...
 */
#ifndef VIGIL_TSDB_CHUNK_H
#define VIGIL_TSDB_CHUNK_H
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define CHUNK_SAMPLES_MAX 65535u	/* samples one chunk may hold (u16 count) */
#define CHUNK_CUT_SAMPLES 120u		/* the head cuts its open chunk at this many */
#define CHUNK_HEADER 3u			/* encoding byte + u16 count */

enum chunk_encoding {
	CHUNK_XOR = 1,	/* Gorilla: dod timestamps, XOR floats */
	CHUNK_DEC = 2,	/* dod timestamps, scaled-integer values */
	CHUNK_XORS = 3,	/* separate timestamp stream (as DEC), then XOR values */
	CHUNK_DECA = 4,	/* appendable decimals: interleaved dod timestamps and dod m */
	CHUNK_DECT = 5,	/* CHUNK_DEC whose timestamp stream is shared, elsewhere in the file */
	CHUNK_XORST = 6,	/* CHUNK_XORS whose timestamp stream is shared likewise */
};

/* An open chunk being appended to (always a valid chunk). */
struct chunk_app {
	uint8_t *b;		/* header + bitstream (owned) */
	size_t cap;		/* bytes allocated at b */
	size_t nbits;		/* bits written, header included */
	uint32_t n;		/* samples appended */
	int64_t t;		/* last timestamp, ms */
	int64_t delta;		/* last timestamp delta, ms */
	uint64_t vbits;		/* last value's bits */
	uint8_t lead, trail;	/* last XOR window (leading/trailing zero bits) */
	uint8_t e;		/* CHUNK_DECA: decimal exponent */
	uint8_t xor_only;	/* 1: stay CHUNK_XOR (a value did not fit DECA) */
	uint8_t min_e;		/* CHUNK_DECA: smallest exponent to start with */
	int64_t m, mdelta;	/* CHUNK_DECA: last integer and its last delta */
};

/* Start an empty chunk. */
void chunk_app_init(struct chunk_app *a);
/* Free its memory (a may be NULL); it may be re-initialised. */
void chunk_app_free(struct chunk_app *a);
/* Append a sample. t must be greater than the last one and n < CHUNK_SAMPLES_MAX
 * (the caller's invariants; asserted). */
void chunk_app_add(struct chunk_app *a, int64_t t, double v);
/* Bytes of the chunk so far (valid CHUNK_XOR encoding). */
size_t chunk_app_len(const struct chunk_app *a);

/*
 * Encode n samples (1 <= n <= CHUNK_SAMPLES_MAX, t strictly ascending) in the
 * smaller of the two encodings and append it to out. Return 0 or -E2BIG if out
 * is full, -EINVAL if the input breaks the rules.
 */
int chunk_encode(const int64_t *t, const double *v, size_t n, struct buf *out);

/* Reader over a chunk's bytes (which it does not own). */
struct chunk_iter {
	const uint8_t *p;	/* chunk bytes */
	const uint8_t *tp;	/* bytes holding the timestamp stream (p, or the shared one) */
	size_t len;		/* chunk length, bytes */
	uint8_t enc;		/* enum chunk_encoding */
	uint32_t n, i;		/* samples in the chunk, samples read */
	size_t tpos, tend;	/* timestamp stream: next bit, end bit */
	size_t vpos, vend;	/* value stream (CHUNK_DEC): next bit, end bit */
	int64_t t, delta;	/* last timestamp and delta */
	uint64_t vbits;		/* CHUNK_XOR: last value bits */
	uint8_t lead, trail;	/* CHUNK_XOR: current window */
	uint8_t e, mode, w;	/* CHUNK_DEC: exponent, mode bits, delta width */
	int64_t m, md;		/* CHUNK_DEC: last integer and last delta */
	uint64_t g;		/* CHUNK_DEC: factor every difference was divided by */
	uint64_t dmin;		/* CHUNK_DEC mode 4: smallest timestamp delta */
	uint8_t wt;		/* CHUNK_DEC mode 4: bits per delta - dmin */
	uint8_t gw;		/* CHUNK_DEC mode 8: width of the current group */
};

/* Start reading a chunk. Return 0, or -EINVAL if the header is malformed
 * (CHUNK_DECT/XORST chunks need chunk_iter_init_file). */
int chunk_iter_init(struct chunk_iter *it, const void *p, size_t len);
/* Start reading a chunk that lies in a file of file_len bytes at file (a
 * block's chunks file): CHUNK_DECT/XORST refer to their timestamp stream by
 * its offset there. 0 or -EINVAL. */
int chunk_iter_init_file(struct chunk_iter *it, const void *p, size_t len, const void *file,
    size_t file_len);
/*
 * For a CHUNK_DEC or CHUNK_XORS chunk, find its timestamp field (`uvarint T`
 * and T bytes): *field is its byte offset in the chunk, *field_len its
 * length. Return 1 if found, 0 for other encodings or malformed input.
 */
int chunk_ts_field(const uint8_t *p, size_t len, size_t *field /* out */,
    size_t *field_len /* out */);
/* Read the next sample: 1 with t and v set, 0 at the end, -EINVAL if the chunk
 * is corrupt (never reads past len). */
int chunk_iter_next(struct chunk_iter *it, int64_t *t /* out */, double *v /* out */);
/* Read up to max samples into t[] and v[], *got of them: 0 (at the end
 * when *got < max), or -EINVAL if the chunk is corrupt (the first *got
 * samples are good). The bulk form of chunk_iter_next, for queries. */
int chunk_iter_read(struct chunk_iter *it, int64_t *t /* out */, double *v /* out */,
    size_t max, size_t *got /* out */);
/* Samples in a chunk by its header, or 0 if the header is malformed. */
uint32_t chunk_count(const void *p, size_t len);

#endif
