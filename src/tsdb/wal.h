/*
 * wal.h — the write-ahead log (private to src/tsdb). Segment files
 * dir/00000001, dir/00000002, ... hold records; a checkpoint file
 * dir/checkpoint.N holds the head's whole state as of the start of segment
 * N, so replay reads the newest checkpoint and then segments >= N.
 *
 * Record: u32le len | u32le crc32c of the len bytes | len bytes = type byte
 * + payload. Types: WAL_SERIES (uvarint ref, uvarint nlabels, then per label
 * uvarint len + name, uvarint len + value) and WAL_SAMPLES (repeated uvarint
 * ref, varint t, u64le value bits) and WAL_DELETE (varint mint, varint maxt,
 * uvarint n, n uvarint refs).
 */
#ifndef VIGIL_TSDB_WAL_H
#define VIGIL_TSDB_WAL_H
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/labels.h"

#define WAL_RECORD_MAX (16u << 20)	/* bytes in one record */
#define WAL_HEADER 8u			/* len + crc */

enum wal_type {
	WAL_SERIES = 1,		/* a series' reference and labels */
	WAL_SAMPLES = 2,	/* samples of known series */
	WAL_DELETE = 3,		/* samples of some series deleted in a time range */
};

/* What replay hands back. */
struct wal_replay_ops {
	void *arg;	/* passed to both callbacks */
	void (*series)(void *arg, uint64_t ref, const struct labels *ls);
	void (*sample)(void *arg, uint64_t ref, int64_t t, double v);
	/* Delete the samples in [mint, maxt] of the n series refs (may be NULL). */
	void (*del)(void *arg, int64_t mint, int64_t maxt, const uint64_t *refs, size_t n);
	int read_only;	/* 1: report a torn tail but leave the files alone */
};

struct wal {
	char *dir;		/* the wal directory (owned) */
	int fd;			/* open segment, -1 if none */
	uint32_t seg;		/* its number */
	uint64_t off;		/* bytes of whole records in it */
	uint64_t seg_max;	/* start a new segment past this size */
	int64_t fsync_interval_ms;	/* longest gap between fsyncs */
	int64_t last_sync_ms;	/* monotonic time of the last fsync */
	int dirty;		/* written since the last fsync */
	struct buf rec;		/* scratch record */
	uint64_t fsyncs;	/* fsyncs done */
	double fsync_seconds;	/* time spent in them */
	uint64_t fsync_buckets[8];	/* histogram: <=1ms,5ms,10ms,50ms,100ms,500ms,1s,+Inf */
};

extern const double wal_fsync_bucket_le[8];	/* the bucket bounds in seconds */

/* Replay dir (checkpoint, then segments) through ops; cut off a torn or
 * corrupt tail (logged with file and offset). *next_seg is the first unused
 * segment number. Return 0 or negative errno with err set. */
int wal_replay(const char *dir, const struct wal_replay_ops *ops, uint32_t *next_seg,
    char *err, size_t errsz);
/* Decode the records in p; call ops for each; return the length of the valid
 * prefix (== n when all of it is whole and intact). */
size_t wal_decode(const uint8_t *p, size_t n, const struct wal_replay_ops *ops);
/* Open segment seg in dir for appending. Return 0 or negative errno. */
int wal_open(struct wal *w, const char *dir, uint32_t seg, uint64_t seg_max,
    int64_t fsync_interval_ms, char *err, size_t errsz);
/* Fsync and close (w may be NULL). */
void wal_close(struct wal *w);
/* Log a series record. 0 or negative errno (nothing of it stays in the file). */
int wal_log_series(struct wal *w, uint64_t ref, const struct labels *ls);
/* Log one sample. 0 or negative errno (nothing of it stays in the file). */
int wal_log_sample(struct wal *w, uint64_t ref, int64_t t, double v);
/* Log a deletion of [mint, maxt] for n series. 0 or negative errno. */
int wal_log_delete(struct wal *w, int64_t mint, int64_t maxt, const uint64_t *refs, size_t n);
/* Log n samples of one series in as few records as fit. 0 or negative errno. */
int wal_log_samples(struct wal *w, uint64_t ref, const int64_t *t, const double *v, size_t n);
/* Write whole records already encoded in recs (wal_encode) with one
 * write(2). 0 or negative errno (then none of them stays in the file). */
int wal_write_records(struct wal *w, const struct buf *recs);
/* Fsync now if anything was written. 0 or negative errno. */
int wal_sync(struct wal *w);
/* Fsync if the interval has passed. */
int wal_sync_due(struct wal *w);
/* Close the segment and start the next one; return its number in *seg. */
int wal_rotate(struct wal *w, uint32_t *seg /* out */);
/* Start writing checkpoint seg (a temp file until wal_checkpoint_finish). */
int wal_checkpoint_begin(struct wal *w, uint32_t seg, struct wal *cp /* out */);
/* Fsync, rename into place, delete segments < seg and older checkpoints. */
int wal_checkpoint_finish(struct wal *w, struct wal *cp, uint32_t seg);
/* Bytes of all WAL files. */
uint64_t wal_disk_bytes(const char *dir);
/* Append a record of type with payload to out (for tests and checkpoints). */
int wal_encode(struct buf *out, enum wal_type type, const void *payload, size_t n);
/* Append a series record (ref, label set) to out, as wal_log_series writes
 * it. 0 or negative errno (past out's cap or WAL_RECORD_MAX). */
int wal_encode_series(struct buf *out, uint64_t ref, const struct labels *ls);

#endif
