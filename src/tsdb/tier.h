/*
 * tier.h — downsampled tiers of a block (private to src/tsdb).
 *
 * A block may carry a `tiers` file beside its index: for each resolution B
 * (5 min and 1 h) and each series, per bucket (b, b+B] (b a multiple of B,
 * so a bucket is stamped with its end b+B) the min, max, sum and count of
 * the non-stale samples, and the bucket's last sample with its own
 * timestamp. Like tombstones it is an add-on written after the block
 * (temp file, fsync, rename), so blocks stay immutable and a block without
 * it is read from raw chunks. The byte layout is in docs/STORAGE.md; which
 * queries may read which column is decided in query.c.
 *
 *   tier_build(b, res, 2, err, sizeof(err));      // write b's tiers file
 *   int k = tier_index(b->tiers, 300000);
 *   tier_read(b->tiers, series, k, TIER_COL_MAX, mint, maxt, &samples);
 */
#ifndef VIGIL_TSDB_TIER_H
#define VIGIL_TSDB_TIER_H
#include <stddef.h>
#include <stdint.h>

#include "tsdb/index.h"

#define TIER_MAGIC "VGTR0001"		/* first 8 bytes of a tiers file */
#define TIER_RES_MAX 4u			/* resolutions one file may hold */
#define TIER_BUCKETS_MAX 16383u		/* buckets per series and tier (2 last samples each fit a chunk) */
#define TIER_FILE_MAX ((uint64_t)1 << 36)	/* bytes of one tiers file */

/* The stored aggregates, in file order. */
enum tier_col {
	TIER_COL_MIN,		/* smallest non-stale value (NaN only if all are NaN) */
	TIER_COL_MAX,		/* largest non-stale value (likewise) */
	TIER_COL_SUM,		/* Kahan sum of the non-stale values */
	TIER_COL_COUNT,		/* number of non-stale samples */
	TIER_COL_LAST,		/* last non-stale sample, then a final staleness marker if any, at their own times */
	TIER_NCOLS
};

struct block;

/* A block's parsed tiers file. */
struct tiers {
	void *map;			/* mmapped file (NULL for tier_parse over memory) */
	const uint8_t *base;		/* bytes read when map is NULL (not owned) */
	size_t len;			/* its size */
	uint32_t nres;			/* resolutions */
	int64_t res[TIER_RES_MAX];	/* resolutions, ms, ascending */
	uint32_t nseries;		/* series (= the block's) */
	uint64_t *off;			/* [series * nres + k] -> entry offset in map (owned) */
};

/* The end of the bucket holding t at resolution res (t rounded up to a
 * multiple of res). */
int64_t tier_bucket_end(int64_t t, int64_t res);
/* Build b's tiers file for resolutions res[0..nres) (ascending, each > 0)
 * from its raw samples (tombstones applied), write it (tiers.tmp, fsync,
 * rename, directory fsync) and open it into b->tiers. 0, -E2BIG when a series
 * has more than TIER_BUCKETS_MAX buckets (nothing written), or -errno with
 * err set. */
int tier_build(struct block *b, const int64_t *res, size_t nres, char *err, size_t errsz);
/* Open b->dir/tiers if present into *out (NULL when absent). 0, or -EINVAL
 * with err set when the file is malformed (checksum, structure, series
 * count other than nseries). */
int tier_open(const char *dir, uint32_t nseries, struct tiers **out /* out */,
    char *err, size_t errsz);
/* Parse and check a tiers file held in memory (p, len) into t (its off
 * array is allocated; the caller sets t->base or t->map to p). nseries is
 * the block's series count, or UINT32_MAX to accept the file's. 0, or
 * -EINVAL with err set (t->off freed). */
int tier_parse(const uint8_t *p, size_t len, uint32_t nseries, struct tiers *t, char *err,
    size_t errsz);
/* Unmap and free (t may be NULL). */
void tier_close(struct tiers *t);
/* Index of resolution res in t, or -1 (t may be NULL). */
int tier_index(const struct tiers *t, int64_t res);
/* Append series' column col of tier k with timestamps in [mint, maxt] to
 * out. 0 or -EINVAL (corrupt chunk). */
int tier_read(const struct tiers *t, uint32_t series, int k, enum tier_col col, int64_t mint,
    int64_t maxt, struct samples *out);

#endif
