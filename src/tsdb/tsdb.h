/*
 * tsdb.h — vigil's embedded time-series store: a WAL, an in-memory head of
 * compressed chunks, and immutable on-disk blocks that are compacted and
 * expired by age and size. docs/STORAGE.md describes every file and the
 * durability rule.
 *
 *   struct tsdb_options o; tsdb_options_default(&o); o.dir = "data";
 *   struct tsdb *db = tsdb_open(&o, err, sizeof(err));
 *   struct storage st; tsdb_storage(db, &st);     // the storage.h contract
 *   st.ops->append(st.impl, labels, t_ms, value); st.ops->commit(st.impl);
 *   ... tsdb_maintain(db) every few seconds ...
 *   st.ops->close(st.impl);                        // or tsdb_close(db)
 *
 * Durability: tsdb_append() returns after the sample's WAL record was handed
 * to write(2); the WAL is fsynced at most every wal_fsync_interval_ms (on the
 * first append after the interval), on tsdb_commit() and on tsdb_close().
 * Only committed samples survive a power loss; every appended sample survives
 * a crash of the process alone.
 *
 * Not thread-safe: one thread (the store worker) owns a struct tsdb.
 */
#ifndef VIGIL_TSDB_H
#define VIGIL_TSDB_H
#include <stdint.h>

#include "core/buf.h"
#include "core/labels.h"
#include "tsdb/storage.h"

struct tsdb_options {
	const char *dir;		/* data directory, created if missing */
	int64_t block_span_ms;		/* time range of one block cut from the head (2h) */
	int64_t ooo_window_ms;		/* accept samples this far behind the newest (0) */
	int64_t retention_ms;		/* drop blocks older than this (15d); 0 keeps all */
	uint64_t retention_bytes;	/* drop oldest blocks past this many bytes; 0: no cap */
	int64_t wal_fsync_interval_ms;	/* longest time between WAL fsyncs (1000) */
	uint64_t wal_segment_bytes;	/* WAL segment size before a new file (128 MiB) */
	int64_t downsample_after_ms;	/* build 5 min / 1 h tiers for blocks whose last sample is
					 * at least this much older than the newest (1d); -1: never */
	int64_t downsample_retention_ms;	/* keep tiers (raw chunks dropped) of blocks past
					 * retention_ms until this age; 0: no longer than raw */
	int no_wal;			/* 1: no WAL (bulk import; call tsdb_flush_head) */
	int read_only;			/* 1: never write (analyze, dump); appends fail */
};

/* Disk-space figures and counters (tsdb_stats). */
struct tsdb_stats {
	uint64_t head_series;		/* live series in the head */
	uint64_t head_samples;		/* samples held in the head */
	uint64_t head_chunks;		/* head chunks (closed + open) */
	uint64_t blocks;		/* on-disk blocks open */
	uint64_t block_series;		/* series summed over blocks */
	uint64_t block_samples;		/* samples summed over blocks */
	uint64_t block_bytes;		/* bytes of block files */
	uint64_t wal_bytes;		/* bytes of WAL files */
	uint64_t appended;		/* samples accepted since open */
	uint64_t rejected_too_old;	/* -ERANGE: older than the window or a block */
	uint64_t rejected_duplicate;	/* -EEXIST: another value at a timestamp */
	uint64_t compactions;		/* blocks written by compaction */
	uint64_t head_cuts;		/* blocks cut from the head */
	uint64_t tier_builds;		/* tiers files written */
	uint64_t tier_selects;		/* selects answered (partly) from tiers */
	uint64_t tier_blocks;		/* blocks with tiers */
	uint64_t raw_dropped;		/* blocks whose raw chunks retention dropped (tiers kept) */
	int64_t mint, maxt;		/* range of all data (mint > maxt when empty) */
};

/* Fill o with the defaults above (dir NULL: the caller sets it). */
void tsdb_options_default(struct tsdb_options *o);
/* Open (creating if needed) the store in opt->dir: opens blocks (damaged ones
 * are moved to quarantine/), replays the WAL (a torn tail is cut off and
 * logged). Return the store, or NULL with a reason in err. */
struct tsdb *tsdb_open(const struct tsdb_options *opt, char *err, size_t errsz);
/* Fsync the WAL and free the store (db may be NULL). */
void tsdb_close(struct tsdb *db);
/* Expose db through the storage.h contract; out->ops->close closes db. */
void tsdb_storage(struct tsdb *db, struct storage *out /* out */);
/* Append one sample. 0, or -ERANGE (too old / out of order beyond the
 * window), -EEXIST (another value at t), -EROFS (read-only), or a negative
 * errno from write(2) (e.g. -ENOSPC; the sample is not stored). */
int tsdb_append(struct tsdb *db, const struct labels *ls, int64_t t, double v);
/* As tsdb_append, remembering the series in *ref (NULL on the first call):
 * later appends of the same labels with that *ref skip the lookup. A ref
 * stays valid until the next tsdb_maintain, tsdb_flush_head, tsdb_delete or
 * tsdb_close (bulk import keeps one per run of lines). */
int tsdb_append_ref(struct tsdb *db, const struct labels *ls, void **ref /* in/out */,
    int64_t t, double v);
/* Append every sample of an encoded core/batch.h batch with one WAL
 * write(2). Samples are checked one by one as tsdb_append() would; refused
 * ones are counted in *rejected and skipped. Return 0, -EBADMSG for a
 * malformed batch (nothing stored), or a negative errno from write(2)
 * (nothing of this batch stored). */
int tsdb_append_batch(struct tsdb *db, const void *enc, size_t len,
    size_t *accepted /* out */, size_t *rejected /* out */);
/* Delete the samples in [mint, maxt] of every series matching ms (nm may be
 * 0: all series): head samples are dropped (and the deletion logged to the
 * WAL and fsynced), blocks get tombstones applied on every read and dropped
 * by compaction. 0 once durable, or a negative errno with err set (the
 * deletion may then be partial). */
int tsdb_delete(struct tsdb *db, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, char *err, size_t errsz);
/* Make every appended sample durable (fsync the WAL). 0 or negative errno. */
int tsdb_commit(struct tsdb *db);
/* Housekeeping, call every few seconds: fsync if due, cut old head ranges
 * into blocks (then checkpoint the WAL), compact, apply retention. */
int tsdb_maintain(struct tsdb *db);
/* Write everything in the head to blocks and empty it (bulk import). */
int tsdb_flush_head(struct tsdb *db, char *err, size_t errsz);
/* Fill st with current figures. */
void tsdb_stats(struct tsdb *db, struct tsdb_stats *st /* out */);
/* Append the store's self-metrics in Prometheus text format to out. */
int tsdb_metrics_text(struct tsdb *db, struct buf *out);
/* `vigil tsdb ...`: argv[0] is "tsdb". Return the process exit code. */
int tsdb_cli_main(int argc, char **argv);

#endif
