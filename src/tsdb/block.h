/*
 * block.h — immutable on-disk blocks (private to src/tsdb). A block is a
 * directory blk-<mint>-<maxt>/ holding `index` (header, symbol table,
 * series with their chunk references, postings; each section CRC32C'd),
 * `chunks` (the encoded chunks back to back) and `meta.json` (the header
 * again, for people). Blocks are built in a .tmp directory, fsynced and
 * renamed into place; they are read through mmap and checked in full on
 * open, so a damaged block is found before it is queried.
 */
#ifndef VIGIL_TSDB_BLOCK_H
#define VIGIL_TSDB_BLOCK_H
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "core/labels.h"
#include "tsdb/index.h"

#define BLOCK_INDEX_MAGIC "VGIX0001"	/* first 8 bytes of index */
#define BLOCK_CHUNKS_MAGIC "VGCK0001"	/* first 8 bytes of chunks */
#define BLOCK_MAGIC_LEN 8u
#define BLOCK_VERSION 2			/* index header version written (1: no shared timestamps; both read) */
#define BLOCK_HEADER_LEN 60u		/* payload bytes of the header section */
#define BLOCK_SYMBOLS_MAX (1u << 28)	/* symbols one block may hold */
#define BLOCK_CHUNK_SAMPLES 480u	/* samples per chunk in a block (2 h at 15 s) */

struct block_meta {
	int64_t mint, maxt;	/* first and last sample timestamp, ms */
	uint64_t nseries;	/* series */
	uint64_t nsamples;	/* samples */
	uint64_t nchunks;	/* chunks */
	uint32_t level;		/* 0: cut from the head; n: compacted n times */
	uint64_t chunks_len;	/* bytes of the chunks file */
	uint32_t chunks_crc;	/* CRC32C of the chunks file after its magic */
};

/* A chunk reference in a series entry. */
struct bchunk {
	int64_t mint, maxt;	/* timestamps of its first and last sample */
	uint64_t off;		/* byte offset in the chunks file */
	uint64_t len;		/* encoded length */
};

/* One decoded series entry (arrays reused between calls; owned). */
struct bseries {
	uint32_t nl;		/* label pairs */
	uint32_t syms[2 * LABELS_MAX];	/* name, value symbol ids */
	struct bchunk *chunks;	/* its chunks, oldest first */
	size_t nchunks, capchunks;	/* chunks held, allocated */
};

/* A parsed index over bytes it does not own. */
struct block_index {
	struct block_meta meta;	/* the header section */
	const char **syms;	/* symbol id -> NUL-terminated string in the bytes (owned array) */
	uint32_t nsyms;		/* symbols */
	const uint8_t *series;	/* series section payload */
	size_t series_len;	/* its length */
	uint64_t *series_off;	/* series index -> offset in the section (owned) */
	uint32_t nseries;	/* series */
	const uint8_t *post;	/* postings section payload */
	size_t post_len;	/* its length */
	struct hmap names;	/* name -> struct hmap (value -> offset + 1 of its list) */
};

/* A deleted time range of one series (the block's tombstones file). */
struct btomb {
	uint32_t idx;		/* series index in the block */
	int64_t mint, maxt;	/* deleted range, ms, inclusive */
};

#define BLOCK_TOMBS_MAGIC "VGTS0001"	/* first 8 bytes of tombstones */
#define BLOCK_TOMBS_MAX (1u << 24)	/* tombstones one block may hold */

struct block {
	char *dir;		/* path of the block directory (owned) */
	char *name;		/* its last component (owned) */
	void *idx_map;		/* mmapped index file */
	size_t idx_len;		/* its size */
	void *chk_map;		/* mmapped chunks file */
	size_t chk_len;		/* its size */
	struct block_index ix;	/* parsed index */
	uint64_t bytes;		/* bytes on disk */
	struct btomb *tomb;	/* deleted ranges, sorted by idx (owned) */
	size_t ntomb;		/* entries in tomb */
	struct tiers *tiers;	/* downsampled tiers (tier.h), or NULL (owned) */
	int tiers_bad;		/* 1: a tiers file exists but failed its checks (ignored) */
	int tiers_failed;	/* 1: building tiers failed once; not retried until reopened */
	int raw_gone;		/* 1: raw chunks dropped by retention, only tiers remain */
};

#define BLOCK_RAW_GONE "raw-dropped"	/* marker file: the chunks file was removed on purpose */

/* Parse and check an index held in memory; chunks_len bounds the chunk
 * references (UINT64_MAX: unknown). Return 0 or -EINVAL with err set. */
int block_index_parse(const uint8_t *p, size_t n, uint64_t chunks_len,
    struct block_index *ix /* out */, char *err, size_t errsz);
/* Free what block_index_parse allocated (ix may be NULL). */
void block_index_free(struct block_index *ix);
/* Decode series i. Return 0 or -EINVAL. */
int block_index_series(const struct block_index *ix, uint32_t i, struct bseries *out);
/* Free a bseries' arrays. */
void bseries_free(struct bseries *s);

/* Open the block in dir, checking every section's CRC. 0 or negative errno
 * with err set (-EINVAL: damaged). */
int block_open(const char *dir, struct block **out, char *err, size_t errsz);
/* Unmap and free (b may be NULL). */
void block_close(struct block *b);
/* Drop b's raw chunks, keeping its index and tiers: write the raw-dropped
 * marker (fsynced), then unlink chunks. 0 or -errno. */
int block_drop_raw(struct block *b);
/* Record that series idx[0..n) lose their samples in [mint, maxt]: rewrite
 * the block's tombstones file (temp file, fsync, rename). 0 or -errno. */
int block_delete(struct block *b, const uint32_t *idx, size_t n, int64_t mint, int64_t maxt);
/* Fill ix to read the block's inverted index. */
void block_ixreader(struct block *b, struct ixreader *ix /* out */);
/* Labels of series i as a new set (caller frees), or NULL if damaged. */
struct labels *block_series_labels(const struct block *b, const struct bseries *s);
/* Append series i's samples in [mint, maxt] to out, less deleted ranges;
 * fill s. 0 or -EINVAL. */
int block_series_samples(const struct block *b, uint32_t i, struct bseries *s,
    int64_t mint, int64_t maxt, struct samples *out);

/* Position of series idx's first tombstone in b->tomb (sorted by series
 * index), or where it would be: b->ntomb or an entry of a later series if it
 * has none. */
size_t block_tomb_first(const struct block *b, uint32_t idx);

/* Where a range query evaluates (from select_hints), so a select can skip
 * chunks no evaluation step reads. */
struct qwin {
	int64_t step;	/* ms between evaluation instants, > 0 */
	int64_t last;	/* the last instant (the select's maxt); the others are last - k*step */
	int64_t range;	/* range-vector window (T - range, T]; 0: instant-vector selector,
			 * which reads only the newest sample at or before each T */
};
/* block_series_samples, leaving out chunks no instant of w reads (w may be
 * NULL: all of them). The engine's answer from the rest is the same. */
int block_series_samples_win(const struct block *b, uint32_t i, struct bseries *s,
    int64_t mint, int64_t maxt, const struct qwin *w, struct samples *out);

struct block_writer;
/* Start a block for the window [wmint, wmaxt] under dbdir. 0 or -errno. */
int block_writer_new(const char *dbdir, int64_t wmint, int64_t wmaxt, uint32_t level,
    struct block_writer **out, char *err, size_t errsz);
/* Add a series (any order; n >= 1 samples, t ascending). 0 or -errno. */
int block_writer_add(struct block_writer *w, const struct labels *ls, const int64_t *t,
    const double *v, size_t n);
/* Write the index and meta, fsync, rename into place; *dir_out is the new
 * block's path (malloced). The writer is freed either way. 0 or -errno. */
int block_writer_finish(struct block_writer *w, char **dir_out, char *err, size_t errsz);
/* Drop an unfinished block (w may be NULL). */
void block_writer_abort(struct block_writer *w);

#endif
