/*
 * head.h — the in-memory part of the tsdb (private to src/tsdb): series
 * keyed by their interned label symbols, an inverted index (postings per
 * label pair), and per series an open compressed chunk, closed chunks and a
 * small sorted buffer of out-of-order samples.
 *
 * Chunks never span a block boundary (multiple of span_ms), so cutting the
 * head into a block moves whole chunks. The head does no I/O: tsdb.c logs
 * to the WAL before calling head_add().
 */
#ifndef VIGIL_TSDB_HEAD_H
#define VIGIL_TSDB_HEAD_H
#include <stdint.h>

#include "core/hmap.h"
#include "core/labels.h"
#include "tsdb/chunk.h"
#include "tsdb/index.h"

#define HEAD_OOO_MAX 4096u	/* out-of-order samples buffered per series */

struct head_options {
	int64_t span_ms;	/* block span; chunks are cut at its multiples */
	int64_t ooo_window_ms;	/* accept samples this far behind the newest (0: none) */
};

/* A closed, immutable chunk. */
struct hchunk {
	int64_t mint, maxt;	/* first and last timestamp, ms */
	uint8_t *data;		/* encoded chunk (owned) */
	uint32_t len;		/* bytes at data */
};

struct hseries {
	uint32_t id;		/* head id; also the series' WAL reference */
	uint16_t nl;		/* label pairs */
	uint8_t wal_logged;	/* 1 once its series record is in the WAL */
	uint32_t *syms;		/* 2*nl symbol ids: name, value, ... sorted by name */
	int64_t last_t;		/* newest in-order timestamp (INT64_MIN: none yet) */
	int64_t mint, maxt;	/* range of samples held; mint > maxt when none */
	struct hchunk *chunks;	/* closed chunks, oldest first (owned) */
	uint32_t nchunks, capchunks;	/* chunks held, allocated */
	struct chunk_app open;	/* open chunk (open.n == 0: none) */
	int64_t open_mint;	/* first timestamp in the open chunk */
	int64_t *ooo_t;		/* out-of-order timestamps, sorted (owned) */
	double *ooo_v;		/* their values */
	uint32_t nooo, capooo;	/* out-of-order samples held, allocated */
};

struct head {
	struct head_options opt;	/* limits */
	struct hmap sym_ids;		/* symbol string -> (id + 1) as a pointer */
	const char **syms;		/* id -> string (the sym_ids key copies) */
	uint32_t nsyms, capsyms;	/* symbols held, allocated */
	struct hmap by_key;		/* symbol-id bytes -> struct hseries */
	struct hseries **series;	/* id -> series, NULL once collected */
	uint32_t next_id, capseries;	/* next id to hand out, slots allocated */
	size_t nlive;			/* live series */
	struct hmap names;		/* label name -> struct hmap (value -> struct postings) */
	struct postings all;		/* every live series id */
	int64_t mint, maxt;		/* range of samples held (mint > maxt: none) */
	int64_t min_valid;		/* older samples are refused (blocks hold them) */
	uint64_t nchunks;		/* closed + open chunks held */
	uint64_t nsamples;		/* samples held */
};

/* Make an empty head. */
struct head *head_new(const struct head_options *opt);
/* Free the head and everything in it (h may be NULL). */
void head_free(struct head *h);
/* Return the series with exactly these labels, or NULL. */
struct hseries *head_find(struct head *h, const struct labels *ls);
/* Return the series with these labels, creating it (and indexing it) if new;
 * *created says which. ls must be non-empty. */
struct hseries *head_get_or_create(struct head *h, const struct labels *ls, int *created);
/* May sample (t, v) be added to s? 0 yes; 1 it is already there with the
 * same value (nothing to do); -EEXIST another value at t; -ERANGE too old or
 * out of order beyond the window (or the series' buffer is full). */
int head_check(const struct head *h, const struct hseries *s, int64_t t, double v);
/* Add a sample head_check() returned 0 for. */
void head_add(struct head *h, struct hseries *s, int64_t t, double v);
/* Return the series' labels as a new set (caller frees). */
struct labels *head_labels(const struct head *h, const struct hseries *s);
/* Append s's samples in [mint, maxt], ascending, to out. */
void head_samples(const struct hseries *s, int64_t mint, int64_t maxt, struct samples *out);
/* Return 1 if s has a sample in [mint, maxt]. */
int head_has_samples(const struct hseries *s, int64_t mint, int64_t maxt);
/* Delete s's samples in [mint, maxt] (its chunks are rebuilt). */
void head_delete(struct head *h, struct hseries *s, int64_t mint, int64_t maxt);
/* The series with head id id, or NULL. */
struct hseries *head_series(const struct head *h, uint32_t id);
/* Fill ix to read the head's inverted index. */
void head_ixreader(struct head *h, struct ixreader *ix /* out */);
/* Drop every sample older than before (a span boundary now held by a block),
 * collect series left empty and refuse samples older than before from now on. */
void head_truncate(struct head *h, int64_t before);
/* floor(t / span) * span, correct for negative t. */
int64_t head_window_start(int64_t t, int64_t span);

#endif
