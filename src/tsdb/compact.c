/* compact.c — turning the head into blocks, compacting blocks, retention. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "tsdb/tier.h"
#include "tsdb/tsdb_int.h"

/* One series to write: where its samples come from. */
struct src {
	struct labels *ls;	/* identity (owned) */
	uint32_t head_id;	/* head series id, or UINT32_MAX */
	uint32_t *bidx;		/* per input block: series index or UINT32_MAX (owned) */
};

static int cmp_src(const void *a, const void *b)
{
	return labels_cmp(((const struct src *)a)->ls, ((const struct src *)b)->ls);
}

struct srcset {
	struct src *v;		/* series (owned) */
	size_t n, cap;		/* held, allocated */
	struct hmap by_key;	/* formatted labels -> index + 1 */
	size_t nblocks;		/* input blocks */
	struct buf key;		/* scratch */
};

static struct src *src_get(struct srcset *ss, struct labels *ls)
{
	buf_reset(&ss->key);
	labels_format(ls, &ss->key);
	uintptr_t at = (uintptr_t)hmap_get(&ss->by_key, ss->key.data, ss->key.len);
	if (at) {
		labels_free(ls);
		return &ss->v[at - 1];
	}
	if (ss->n == ss->cap) {
		ss->cap = ss->cap ? ss->cap * 2 : 64;
		ss->v = xreallocarray(ss->v, ss->cap, sizeof(*ss->v));
	}
	struct src *s = &ss->v[ss->n++];
	s->ls = ls;
	s->head_id = UINT32_MAX;
	s->bidx = xmalloc((ss->nblocks ? ss->nblocks : 1) * sizeof(*s->bidx));
	for (size_t i = 0; i < ss->nblocks; i++)
		s->bidx[i] = UINT32_MAX;
	hmap_put(&ss->by_key, ss->key.data, ss->key.len, (void *)(uintptr_t)ss->n);
	return s;
}

static void srcset_free(struct srcset *ss)
{
	for (size_t i = 0; i < ss->n; i++) {
		labels_free(ss->v[i].ls);
		free(ss->v[i].bidx);
	}
	free(ss->v);
	hmap_free(&ss->by_key, NULL);
	buf_free(&ss->key);
}

/* Write the series of ss in [mint, maxt] from the head and/or blocks in[]
 * into one block; add it to db. 0, -ENODATA if nothing was in range, or -errno. */
static int write_block(struct tsdb *db, struct srcset *ss, struct block **in, int64_t wmint,
    int64_t wmaxt, int64_t mint, int64_t maxt, uint32_t level)
{
	char err[512];
	struct block_writer *w;
	struct bseries bs = { 0 };
	struct samples sm = { 0 };
	size_t written = 0;
	qsort(ss->v, ss->n, sizeof(*ss->v), cmp_src);
	int rc = block_writer_new(db->dir, wmint, wmaxt, level, &w, err, sizeof(err));
	for (size_t i = 0; i < ss->n && rc == 0; i++) {
		struct src *s = &ss->v[i];
		sm.n = 0;
		for (size_t k = 0; k < ss->nblocks && rc == 0; k++)
			if (s->bidx[k] != UINT32_MAX)
				rc = block_series_samples(in[k], s->bidx[k], &bs, mint, maxt, &sm);
		if (s->head_id != UINT32_MAX) {
			struct hseries *hs = head_series(db->head, s->head_id);
			if (hs)
				head_samples(hs, mint, maxt, &sm);
		}
		samples_sort_dedup(&sm);
		if (rc == 0 && sm.n) {
			rc = block_writer_add(w, s->ls, sm.t, sm.v, sm.n);
			written++;
		}
	}
	bseries_free(&bs);
	samples_free(&sm);
	if (rc < 0) {
		if (w)
			block_writer_abort(w);
		log_error("tsdb: writing a block failed", "errno=%d", -rc);
		return rc;
	}
	if (!written) {
		block_writer_abort(w);
		return -ENODATA;
	}
	char *dir;
	rc = block_writer_finish(w, &dir, err, sizeof(err));
	if (rc < 0) {
		log_error("tsdb: writing a block failed", "reason=\"%s\"", err);
		return rc;
	}
	struct block *b;
	rc = block_open(dir, &b, err, sizeof(err));
	if (rc < 0)
		log_error("tsdb: a new block does not read back", "reason=\"%s\"", err);
	else
		tsdb_add_block(db, b);
	free(dir);
	return rc;
}

/* Cut the head's window [w, w + span) into a block and drop it from the head. */
static int cut_window(struct tsdb *db, int64_t w)
{
	struct head *h = db->head;
	int64_t end = w + db->opt.block_span_ms - 1;
	struct srcset ss = { 0 };
	hmap_init(&ss.by_key);
	buf_init(&ss.key, (size_t)1 << 24);
	for (uint32_t id = 0; id < h->next_id; id++) {
		struct hseries *s = h->series[id];
		if (s && head_has_samples(s, w, end))
			src_get(&ss, head_labels(h, s))->head_id = id;
	}
	int rc = ss.n ? write_block(db, &ss, NULL, w, end, w, end, 0) : -ENODATA;
	srcset_free(&ss);
	if (rc < 0 && rc != -ENODATA)
		return rc;
	if (rc == 0)
		db->head_cuts++;
	head_truncate(h, end + 1);
	return tsdb_checkpoint(db);
}

int tsdb_flush_head(struct tsdb *db, char *err, size_t errsz)
{
	struct head *h = db->head;
	while (h->nlive && h->mint <= h->maxt) {
		int rc = cut_window(db, head_window_start(h->mint, db->opt.block_span_ms));
		if (rc < 0) {
			snprintf(err, errsz, "writing blocks to %s: %s", db->dir, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Merge blocks [i, j) (one aligned window of range r) into one. */
static int compact_range(struct tsdb *db, size_t i, size_t j, int64_t wmint, int64_t r,
    uint32_t level)
{
	struct srcset ss = { 0 };
	hmap_init(&ss.by_key);
	buf_init(&ss.key, (size_t)1 << 24);
	ss.nblocks = j - i;
	struct block **in = db->blocks + i;
	struct bseries bs = { 0 };
	for (size_t k = 0; k < ss.nblocks; k++)
		for (uint32_t s = 0; s < in[k]->ix.nseries; s++) {
			if (block_index_series(&in[k]->ix, s, &bs) < 0)
				continue;
			struct labels *ls = block_series_labels(in[k], &bs);
			if (ls)
				src_get(&ss, ls)->bidx[k] = s;
		}
	bseries_free(&bs);
	char **names = xcalloc(ss.nblocks, sizeof(*names));
	for (size_t k = 0; k < ss.nblocks; k++)
		names[k] = xstrdup(in[k]->name);
	int rc = write_block(db, &ss, in, wmint, wmint + r - 1, INT64_MIN, INT64_MAX, level);
	srcset_free(&ss);
	if (rc == 0) {
		/* The new block is in place (and sorted in); drop the inputs. */
		for (size_t k = 0; k < ss.nblocks; k++)
			for (size_t x = 0; x < db->nblocks; x++)
				if (!strcmp(db->blocks[x]->name, names[k])) {
					tsdb_drop_block(db, x);
					break;
				}
		db->compactions++;
	}
	for (size_t k = 0; k < ss.nblocks; k++)
		free(names[k]);
	free(names);
	return rc;
}

/* Compact one group of >= 2 blocks sharing a finished aligned window. */
static int compact_once(struct tsdb *db)
{
	int64_t r = db->opt.block_span_ms;
	for (uint32_t level = 1; level <= TSDB_COMPACT_LEVELS; level++) {
		if (r > INT64_MAX / 3)
			break;
		r *= 3;
		if (db->opt.retention_ms > 0 && r > db->opt.retention_ms / 10)
			break;
		for (size_t i = 0; i < db->nblocks;) {
			int64_t w = head_window_start(db->blocks[i]->ix.meta.mint, r);
			size_t j = i;
			int raw_gone = 0;
			while (j < db->nblocks && db->blocks[j]->ix.meta.mint >= w &&
			    db->blocks[j]->ix.meta.maxt < w + r)
				raw_gone |= db->blocks[j++]->raw_gone;
			/* Only windows the head has moved past are finished; blocks
			 * that kept only their tiers are never merged. */
			if (j - i >= 2 && !raw_gone && w + r <= db->head->min_valid)
				return compact_range(db, i, j, w, r, level);
			i = j > i ? j : i + 1;
		}
	}
	return -ENODATA;
}

static int64_t newest_sample(const struct tsdb *db)
{
	int64_t newest = db->head->maxt;
	for (size_t i = 0; i < db->nblocks; i++)
		if (db->blocks[i]->ix.meta.maxt > newest)
			newest = db->blocks[i]->ix.meta.maxt;
	return newest;
}

/* Is block maxt older than newest minus age? */
static int older(int64_t maxt, int64_t newest, int64_t age)
{
	return newest > INT64_MIN + age && maxt < newest - age;
}

/* Build tiers for one block old enough to have them. 0 if one was built,
 * -ENODATA if none was due. */
static int downsample_once(struct tsdb *db)
{
	static const int64_t res[2] = { TSDB_TIER_5M, TSDB_TIER_1H };
	if (db->opt.downsample_after_ms < 0)
		return -ENODATA;
	int64_t newest = newest_sample(db);
	for (size_t i = 0; i < db->nblocks; i++) {
		struct block *b = db->blocks[i];
		/* "At least downsample_after old": with 0 every block qualifies. */
		if ((b->tiers && !b->tiers_bad) || b->raw_gone || b->tiers_failed ||
		    !older(b->ix.meta.maxt, newest, db->opt.downsample_after_ms - 1))
			continue;
		char err[512] = "";
		int rc = tier_build(b, res, 2, err, sizeof(err));
		if (rc < 0) {
			b->tiers_failed = 1;
			log_error("tsdb: building downsampled tiers failed", "block=%s reason=\"%s\"",
			    b->name, err);
			return rc;
		}
		b->tiers_bad = 0;
		db->tier_builds++;
		return 0;
	}
	return -ENODATA;
}

static void apply_retention(struct tsdb *db)
{
	int64_t newest = newest_sample(db);
	int64_t keep_tiers = db->opt.downsample_retention_ms;
	if (db->opt.retention_ms > 0 && keep_tiers > db->opt.retention_ms) {
		/* Past raw retention, a block with tiers keeps only them until
		 * the tier retention; one without tiers goes. */
		for (size_t i = 0; i < db->nblocks;) {
			struct block *b = db->blocks[i];
			if (!older(b->ix.meta.maxt, newest, db->opt.retention_ms)) {
				i++;
				continue;
			}
			if (b->tiers && !b->tiers_bad && !older(b->ix.meta.maxt, newest, keep_tiers)) {
				if (!b->raw_gone) {
					int rc = block_drop_raw(b);
					log_info("tsdb: raw chunks past retention dropped, tiers kept",
					    "block=%s errno=%d", b->name, -rc);
				}
				i++;
				continue;
			}
			log_info("tsdb: block past retention time removed", "block=%s", b->name);
			tsdb_drop_block(db, i);
		}
	} else if (db->opt.retention_ms > 0 && newest > INT64_MIN + db->opt.retention_ms) {
		while (db->nblocks && db->blocks[0]->ix.meta.maxt < newest - db->opt.retention_ms) {
			log_info("tsdb: block past retention time removed", "block=%s",
			    db->blocks[0]->name);
			tsdb_drop_block(db, 0);
		}
	}
	if (db->opt.retention_bytes) {
		uint64_t total = db->wal_on ? wal_disk_bytes(db->waldir) : 0;
		for (size_t i = 0; i < db->nblocks; i++)
			total += db->blocks[i]->bytes;
		while (db->nblocks && total > db->opt.retention_bytes) {
			total -= db->blocks[0]->bytes < total ? db->blocks[0]->bytes : total;
			log_info("tsdb: block past retention size removed", "block=%s",
			    db->blocks[0]->name);
			tsdb_drop_block(db, 0);
		}
	}
}

int tsdb_maintain(struct tsdb *db)
{
	if (db->opt.read_only)
		return 0;
	int rc = db->wal_on ? wal_sync_due(&db->wal) : 0;
	struct head *h = db->head;
	int64_t span = db->opt.block_span_ms;
	/* Cut when the head holds 1.5 spans past the start of its oldest window
	 * (Prometheus's rule), leaving half a span for late samples. */
	for (int i = 0; i < 1000 && h->nlive && h->mint <= h->maxt; i++) {
		int64_t w = head_window_start(h->mint, span);
		if (h->maxt - w < span + span / 2)
			break;
		int crc = cut_window(db, w);
		if (crc < 0 && crc != -ENODATA) {
			rc = crc;
			break;
		}
	}
	for (int i = 0; i < 16 && compact_once(db) == 0; i++)
		;
	/* One tiers file per call: each is a full read of a block. */
	downsample_once(db);
	apply_retention(db);
	return rc;
}
