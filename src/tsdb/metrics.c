/* metrics.c — the store's figures: tsdb_stats() and self-metrics text. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "tsdb/tsdb_int.h"

void tsdb_stats(struct tsdb *db, struct tsdb_stats *st)
{
	memset(st, 0, sizeof(*st));
	struct head *h = db->head;
	st->head_series = h->nlive;
	st->head_samples = h->nsamples;
	st->head_chunks = h->nchunks;
	st->blocks = db->nblocks;
	st->mint = h->nlive ? h->mint : INT64_MAX;
	st->maxt = h->nlive ? h->maxt : INT64_MIN;
	for (size_t i = 0; i < db->nblocks; i++) {
		const struct block *b = db->blocks[i];
		st->block_series += b->ix.meta.nseries;
		st->block_samples += b->ix.meta.nsamples;
		st->block_bytes += b->bytes;
		st->tier_blocks += b->tiers != NULL;
		st->raw_dropped += b->raw_gone != 0;
		st->mint = b->ix.meta.mint < st->mint ? b->ix.meta.mint : st->mint;
		st->maxt = b->ix.meta.maxt > st->maxt ? b->ix.meta.maxt : st->maxt;
	}
	st->wal_bytes = db->opt.no_wal ? 0 : wal_disk_bytes(db->waldir);
	st->appended = db->appended;
	st->rejected_too_old = db->rej_old;
	st->rejected_duplicate = db->rej_dup;
	st->compactions = db->compactions;
	st->head_cuts = db->head_cuts;
	st->tier_builds = db->tier_builds;
	st->tier_selects = db->tier_selects;
}

int tsdb_metrics_text(struct tsdb *db, struct buf *out)
{
	struct tsdb_stats st;
	tsdb_stats(db, &st);
	const struct wal *w = &db->wal;
	int rc = 0;
	rc |= buf_printf(out,
	    "# HELP vigil_tsdb_head_series Series held in the in-memory head.\n"
	    "# TYPE vigil_tsdb_head_series gauge\n"
	    "vigil_tsdb_head_series %" PRIu64 "\n"
	    "# HELP vigil_tsdb_head_chunks Compressed chunks held in the head.\n"
	    "# TYPE vigil_tsdb_head_chunks gauge\n"
	    "vigil_tsdb_head_chunks %" PRIu64 "\n"
	    "# HELP vigil_tsdb_samples_appended_total Samples accepted by the store.\n"
	    "# TYPE vigil_tsdb_samples_appended_total counter\n"
	    "vigil_tsdb_samples_appended_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_samples_rejected_total Samples refused, by reason.\n"
	    "# TYPE vigil_tsdb_samples_rejected_total counter\n"
	    "vigil_tsdb_samples_rejected_total{reason=\"too_old\"} %" PRIu64 "\n"
	    "vigil_tsdb_samples_rejected_total{reason=\"duplicate\"} %" PRIu64 "\n"
	    "vigil_tsdb_samples_rejected_total{reason=\"io_error\"} %" PRIu64 "\n"
	    "# HELP vigil_tsdb_compactions_total Blocks merged into larger ones.\n"
	    "# TYPE vigil_tsdb_compactions_total counter\n"
	    "vigil_tsdb_compactions_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_head_cuts_total Blocks written from the head.\n"
	    "# TYPE vigil_tsdb_head_cuts_total counter\n"
	    "vigil_tsdb_head_cuts_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_blocks Blocks on disk.\n"
	    "# TYPE vigil_tsdb_blocks gauge\n"
	    "vigil_tsdb_blocks %" PRIu64 "\n"
	    "# HELP vigil_tsdb_blocks_quarantined_total Damaged blocks moved aside.\n"
	    "# TYPE vigil_tsdb_blocks_quarantined_total counter\n"
	    "vigil_tsdb_blocks_quarantined_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_disk_bytes Bytes on disk, by part.\n"
	    "# TYPE vigil_tsdb_disk_bytes gauge\n"
	    "vigil_tsdb_disk_bytes{part=\"blocks\"} %" PRIu64 "\n"
	    "vigil_tsdb_disk_bytes{part=\"wal\"} %" PRIu64 "\n",
	    st.head_series, st.head_chunks, st.appended, st.rejected_too_old,
	    st.rejected_duplicate, db->rej_io, st.compactions, st.head_cuts, st.blocks,
	    db->quarantined, st.block_bytes, st.wal_bytes);
	rc |= buf_printf(out,
	    "# HELP vigil_tsdb_tier_builds_total Downsampled tiers files written.\n"
	    "# TYPE vigil_tsdb_tier_builds_total counter\n"
	    "vigil_tsdb_tier_builds_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_tier_selects_total Selects answered (partly) from downsampled tiers.\n"
	    "# TYPE vigil_tsdb_tier_selects_total counter\n"
	    "vigil_tsdb_tier_selects_total %" PRIu64 "\n"
	    "# HELP vigil_tsdb_tier_blocks Blocks that carry downsampled tiers.\n"
	    "# TYPE vigil_tsdb_tier_blocks gauge\n"
	    "vigil_tsdb_tier_blocks %" PRIu64 "\n"
	    "# HELP vigil_tsdb_raw_dropped_blocks Blocks past raw retention kept as tiers only.\n"
	    "# TYPE vigil_tsdb_raw_dropped_blocks gauge\n"
	    "vigil_tsdb_raw_dropped_blocks %" PRIu64 "\n",
	    st.tier_builds, st.tier_selects, st.tier_blocks, st.raw_dropped);
	rc |= buf_printf(out,
	    "# HELP vigil_tsdb_wal_fsync_seconds Time spent in WAL fsyncs.\n"
	    "# TYPE vigil_tsdb_wal_fsync_seconds histogram\n");
	uint64_t cum = 0;
	for (int i = 0; i < 8; i++) {
		cum += db->wal_on ? w->fsync_buckets[i] : 0;
		if (i < 7)
			rc |= buf_printf(out, "vigil_tsdb_wal_fsync_seconds_bucket{le=\"%g\"} %" PRIu64 "\n",
			    wal_fsync_bucket_le[i], cum);
		else
			rc |= buf_printf(out, "vigil_tsdb_wal_fsync_seconds_bucket{le=\"+Inf\"} %" PRIu64
			    "\n", cum);
	}
	rc |= buf_printf(out, "vigil_tsdb_wal_fsync_seconds_sum %.9f\n"
	    "vigil_tsdb_wal_fsync_seconds_count %" PRIu64 "\n",
	    db->wal_on ? w->fsync_seconds : 0.0, db->wal_on ? w->fsyncs : 0);
	return rc ? -E2BIG : 0;
}
