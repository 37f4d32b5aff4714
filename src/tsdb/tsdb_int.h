/* tsdb_int.h — the struct tsdb shared by tsdb.c, compact.c, query.c and
 * metrics.c (private to src/tsdb). */
#ifndef VIGIL_TSDB_INT_H
#define VIGIL_TSDB_INT_H
#include <stdint.h>

#include "tsdb/block.h"
#include "tsdb/head.h"
#include "tsdb/tsdb.h"
#include "tsdb/wal.h"

#define TSDB_COMPACT_LEVELS 4	/* block ranges span * 3^1 .. 3^4 */

struct tsdb {
	struct tsdb_options opt;	/* options (dir points at dir below) */
	char *dir;			/* data directory (owned) */
	char *waldir;			/* dir/wal (owned) */
	struct head *head;		/* in-memory samples */
	struct wal wal;			/* the log (fd -1 when off) */
	int wal_on;			/* 1 if appends are logged */
	struct block **blocks;		/* open blocks, sorted by mint (owned) */
	size_t nblocks, capblocks;	/* blocks held, allocated */
	uint64_t appended;		/* samples accepted */
	uint64_t rej_old;		/* samples refused: too old / out of order */
	uint64_t rej_dup;		/* samples refused: other value at same t */
	uint64_t rej_io;		/* samples refused: WAL write failed */
	uint64_t compactions;		/* compactions done */
	uint64_t head_cuts;		/* blocks cut from the head */
	uint64_t quarantined;		/* blocks moved to quarantine/ */
	uint64_t replay_unknown;	/* replayed samples of unknown series */
	uint64_t tier_builds;		/* tiers files written */
	uint64_t tier_selects;		/* selects that read a tier */
};

#define TSDB_TIER_5M ((int64_t)300000)		/* the fine tier, ms */
#define TSDB_TIER_1H ((int64_t)3600000)		/* the coarse tier, ms */

/* Insert an opened block, keeping the list sorted by mint. */
void tsdb_add_block(struct tsdb *db, struct block *b);
/* Close and delete block i from the list and the disk. */
void tsdb_drop_block(struct tsdb *db, size_t i);
/* Write a fresh WAL checkpoint of the head (after a cut). 0 or -errno. */
int tsdb_checkpoint(struct tsdb *db);
/* storage_ops entry points over struct tsdb (query.c). */
int tsdb_q_select(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, const struct select_hints *hints, struct storage_result *out,
    char *err, size_t errsz);
int tsdb_q_label_names(void *impl, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, char ***out, size_t *n);
int tsdb_q_label_values(void *impl, const char *name, const struct matcher *ms,
    size_t nm, int64_t mint, int64_t maxt, char ***out, size_t *n);

#endif
