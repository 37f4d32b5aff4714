/* tsdb.c — opening, appending, committing and closing the store; see tsdb.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "tsdb/fileutil.h"
#include "tsdb/tsdb_int.h"

void tsdb_options_default(struct tsdb_options *o)
{
	memset(o, 0, sizeof(*o));
	o->block_span_ms = 2 * 3600 * 1000;
	o->ooo_window_ms = 0;
	o->retention_ms = (int64_t)15 * 24 * 3600 * 1000;
	o->wal_fsync_interval_ms = 1000;
	o->wal_segment_bytes = (uint64_t)128 << 20;
	o->downsample_after_ms = (int64_t)24 * 3600 * 1000;
	o->downsample_retention_ms = 0;
}

/* ---- blocks ---- */

static int cmp_block(const void *a, const void *b)
{
	const struct block *x = *(struct block *const *)a, *y = *(struct block *const *)b;
	if (x->ix.meta.mint != y->ix.meta.mint)
		return x->ix.meta.mint < y->ix.meta.mint ? -1 : 1;
	return strcmp(x->name, y->name);
}

void tsdb_add_block(struct tsdb *db, struct block *b)
{
	if (db->nblocks == db->capblocks) {
		db->capblocks = db->capblocks ? db->capblocks * 2 : 8;
		db->blocks = xreallocarray(db->blocks, db->capblocks, sizeof(*db->blocks));
	}
	db->blocks[db->nblocks++] = b;
	qsort(db->blocks, db->nblocks, sizeof(*db->blocks), cmp_block);
}

void tsdb_drop_block(struct tsdb *db, size_t i)
{
	struct block *b = db->blocks[i];
	char *dir = xstrdup(b->dir);
	block_close(b);
	memmove(db->blocks + i, db->blocks + i + 1, (db->nblocks - i - 1) * sizeof(*db->blocks));
	db->nblocks--;
	/* Rename first so a crash never leaves a half-deleted block looking valid. */
	char *gone = xasprintf("%s.deleted.tmp", dir);
	if (rename(dir, gone) == 0)
		tsdb_rmtree(gone);
	else
		tsdb_rmtree(dir);
	tsdb_fsync_dir(db->dir);
	free(gone);
	free(dir);
}

static void quarantine(struct tsdb *db, const char *path, const char *name, const char *why)
{
	char q[PATH_MAX], dst[2 * PATH_MAX + 16], qw[512], qp[PATH_MAX + 8];
	snprintf(q, sizeof(q), "%s/quarantine", db->dir);
	tsdb_mkdir(q);
	snprintf(dst, sizeof(dst), "%s/%s", q, name);
	for (int i = 1; i < 100 && access(dst, F_OK) == 0; i++)
		snprintf(dst, sizeof(dst), "%s/%s.%d", q, name, i);
	int rc = rename(path, dst);
	log_error("tsdb: damaged block moved to quarantine", "block=%s reason=%s moved=%s",
	    log_quote(qp, sizeof(qp), path), log_quote(qw, sizeof(qw), why), rc == 0 ? "yes" : "no");
	db->quarantined++;
	tsdb_fsync_dir(db->dir);
}

/* A compaction that crashed after writing its output but before deleting
 * its inputs leaves blocks whose data another, higher-level block holds. */
static void drop_covered(struct tsdb *db)
{
	for (size_t i = 0; i < db->nblocks;) {
		const struct block_meta *a = &db->blocks[i]->ix.meta;
		int covered = 0;
		for (size_t j = 0; j < db->nblocks && !covered; j++) {
			const struct block_meta *b = &db->blocks[j]->ix.meta;
			covered = j != i && b->level > a->level && b->mint <= a->mint &&
			    b->maxt >= a->maxt;
		}
		if (covered && !db->opt.read_only) {
			log_info("tsdb: removing block already compacted", "block=%s",
			    db->blocks[i]->name);
			tsdb_drop_block(db, i);
		} else {
			i++;
		}
	}
}

static int open_blocks(struct tsdb *db, char *err, size_t errsz)
{
	DIR *d = opendir(db->dir);
	if (!d) {
		snprintf(err, errsz, "%s: %s", db->dir, strerror(errno));
		return -errno;
	}
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, "blk-", 4) != 0)
			continue;
		char path[PATH_MAX], berr[PATH_MAX + 200];
		snprintf(path, sizeof(path), "%s/%s", db->dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".tmp")) {
			if (!db->opt.read_only)
				tsdb_rmtree(path);	/* unfinished write or delete */
			continue;
		}
		struct block *b;
		int rc = block_open(path, &b, berr, sizeof(berr));
		if (rc == 0) {
			char tmp[PATH_MAX + 16];
			snprintf(tmp, sizeof(tmp), "%s/tiers.tmp", path);
			if (!db->opt.read_only)
				unlink(tmp);	/* a tiers file whose write was cut short */
			tsdb_add_block(db, b);
		} else if (rc == -EACCES || rc == -EPERM || rc == -EMFILE || rc == -ENFILE || rc == -ENOMEM) {
			/* Not damage: a block we may not read (e.g. written by root)
			 * or a resource limit. Refuse to open rather than move good
			 * data aside. */
			snprintf(err, errsz, "%s", berr);
			closedir(d);
			return rc;
		} else if (db->opt.read_only) {
			log_error("tsdb: skipping damaged block", "reason=\"%s\"", berr);
		} else {
			quarantine(db, path, e->d_name, berr);
		}
	}
	closedir(d);
	drop_covered(db);
	return 0;
}

/* ---- WAL replay ---- */

struct replay {
	struct tsdb *db;	/* store being filled */
	struct hmap refs;	/* WAL ref (8 bytes) -> struct hseries */
	uint64_t samples;	/* samples restored */
	uint64_t dropped;	/* samples older than the blocks or refused */
};

static void replay_series(void *arg, uint64_t ref, const struct labels *ls)
{
	struct replay *r = arg;
	int created;
	if (ls->n == 0)
		return;
	struct hseries *s = head_get_or_create(r->db->head, ls, &created);
	hmap_put(&r->refs, &ref, sizeof(ref), s);
}

static void replay_sample(void *arg, uint64_t ref, int64_t t, double v)
{
	struct replay *r = arg;
	struct hseries *s = hmap_get(&r->refs, &ref, sizeof(ref));
	if (!s) {
		r->db->replay_unknown++;
		return;
	}
	if (head_check(r->db->head, s, t, v) != 0) {
		r->dropped++;
		return;
	}
	head_add(r->db->head, s, t, v);
	r->samples++;
}

static void replay_delete(void *arg, int64_t mint, int64_t maxt, const uint64_t *refs,
    size_t n)
{
	struct replay *r = arg;
	for (size_t i = 0; i < n; i++) {
		struct hseries *s = hmap_get(&r->refs, &refs[i], sizeof(refs[i]));
		if (s)
			head_delete(r->db->head, s, mint, maxt);
	}
}

static int replay_wal(struct tsdb *db, uint32_t *next_seg, char *err, size_t errsz)
{
	struct replay r = { .db = db };
	hmap_init(&r.refs);
	struct wal_replay_ops ops = { &r, replay_series, replay_sample, replay_delete,
		db->opt.read_only };
	int rc = wal_replay(db->waldir, &ops, next_seg, err, errsz);
	hmap_free(&r.refs, NULL);
	/* Series with no sample left (all in blocks) are collected by the
	 * next truncate; every live series is logged afresh in the new
	 * segment, under its new id, before its next sample. */
	for (uint32_t id = 0; id < db->head->next_id; id++)
		if (db->head->series[id])
			db->head->series[id]->wal_logged = 0;
	if (rc == 0 && (r.samples || r.dropped))
		log_info("tsdb: wal replayed", "samples=%" PRIu64 " dropped=%" PRIu64
		    " unknown_series=%" PRIu64, r.samples, r.dropped, db->replay_unknown);
	head_truncate(db->head, db->head->min_valid);	/* collects empty series */
	return rc;
}

/* ---- open / close ---- */

struct tsdb *tsdb_open(const struct tsdb_options *opt, char *err, size_t errsz)
{
	if (!opt->dir || !*opt->dir) {
		snprintf(err, errsz, "tsdb: no data directory");
		return NULL;
	}
	if (opt->block_span_ms <= 0 || opt->ooo_window_ms < 0) {
		snprintf(err, errsz, "tsdb: block span must be > 0 and the ooo window >= 0");
		return NULL;
	}
	struct tsdb *db = xcalloc(1, sizeof(*db));
	db->opt = *opt;
	db->dir = xstrdup(opt->dir);
	db->opt.dir = db->dir;
	db->waldir = xasprintf("%s/wal", db->dir);
	db->wal.fd = -1;
	struct head_options ho = { opt->block_span_ms, opt->ooo_window_ms };
	db->head = head_new(&ho);
	int rc = opt->read_only ? 0 : tsdb_mkdir(db->dir);
	if (rc < 0) {
		snprintf(err, errsz, "%s: %s", db->dir, strerror(-rc));
		goto fail;
	}
	if (open_blocks(db, err, errsz) < 0)
		goto fail;
	if (db->nblocks) {
		int64_t maxt = INT64_MIN;
		for (size_t i = 0; i < db->nblocks; i++)
			if (db->blocks[i]->ix.meta.maxt > maxt)
				maxt = db->blocks[i]->ix.meta.maxt;
		db->head->min_valid = maxt + 1;
	}
	uint32_t next_seg = 1;
	if (!opt->no_wal && replay_wal(db, &next_seg, err, errsz) < 0)
		goto fail;
	if (!opt->no_wal && !opt->read_only) {
		if (wal_open(&db->wal, db->waldir, next_seg, opt->wal_segment_bytes,
		    opt->wal_fsync_interval_ms, err, errsz) < 0)
			goto fail;
		db->wal_on = 1;
	}
	return db;
fail:
	tsdb_close(db);
	return NULL;
}

void tsdb_close(struct tsdb *db)
{
	if (!db)
		return;
	if (db->wal_on)
		wal_close(&db->wal);
	for (size_t i = 0; i < db->nblocks; i++)
		block_close(db->blocks[i]);
	free(db->blocks);
	head_free(db->head);
	free(db->waldir);
	free(db->dir);
	free(db);
}

/* ---- append / commit ---- */

int tsdb_append(struct tsdb *db, const struct labels *ls, int64_t t, double v)
{
	void *ref = NULL;
	return tsdb_append_ref(db, ls, &ref, t, v);
}

int tsdb_append_ref(struct tsdb *db, const struct labels *ls, void **ref, int64_t t, double v)
{
	if (db->opt.read_only)
		return -EROFS;
	if (!ls || ls->n == 0)
		return -EINVAL;
	struct head *h = db->head;
	struct hseries *s = *ref;
	if (!s)
		s = head_find(h, ls);
	if (!s) {
		if (t < h->min_valid) {
			db->rej_old++;
			return -ERANGE;
		}
		int created;
		s = head_get_or_create(h, ls, &created);
	}
	*ref = s;
	int rc = head_check(h, s, t, v);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		if (rc == -ERANGE)
			db->rej_old++;
		else
			db->rej_dup++;
		return rc;
	}
	if (db->wal_on) {
		if (!s->wal_logged) {
			rc = wal_log_series(&db->wal, s->id, ls);
			if (rc < 0) {
				db->rej_io++;
				return rc;
			}
			s->wal_logged = 1;
		}
		rc = wal_log_sample(&db->wal, s->id, t, v);
		if (rc < 0) {
			db->rej_io++;
			return rc;
		}
	}
	head_add(h, s, t, v);
	db->appended++;
	return 0;
}

/* A sample of a batch waiting for its WAL write. */
struct staged {
	struct hseries *s;	/* its series */
	int64_t t;		/* timestamp, ms */
	double v;		/* value */
};

struct stage {
	struct tsdb *db;		/* the store */
	struct staged *v;		/* samples (owned) */
	size_t n, cap;			/* held, allocated */
	struct hseries **logged;	/* series whose record this batch carries (owned) */
	size_t nlogged, caplogged;	/* held, allocated */
	struct buf recs;		/* encoded records */
	struct buf samples;		/* samples record payload being built */
	size_t rejected;		/* refused before the write */
	int err;			/* a record did not fit (-E2BIG) */
};

static void stage_flush_samples(struct stage *st)
{
	if (st->samples.len) {
		if (wal_encode(&st->recs, WAL_SAMPLES, st->samples.data, st->samples.len) < 0)
			st->err = -E2BIG;
		buf_reset(&st->samples);
	}
}

static int stage_sample(void *ctx, const struct labels *ls, int64_t t, double v)
{
	struct stage *st = ctx;
	struct head *h = st->db->head;
	if (ls->n == 0) {
		st->rejected++;
		return 0;
	}
	struct hseries *s = head_find(h, ls);
	if (!s && t >= h->min_valid) {
		int created;
		s = head_get_or_create(h, ls, &created);
	}
	int rc = s ? head_check(h, s, t, v) : -ERANGE;
	if (rc != 0) {
		if (rc == -ERANGE)
			st->db->rej_old++;
		else if (rc == -EEXIST)
			st->db->rej_dup++;
		st->rejected += rc < 0;
		return 0;
	}
	if (st->db->wal_on && !s->wal_logged) {
		/* A series record must precede the samples that use its ref. */
		stage_flush_samples(st);
		if (wal_encode_series(&st->recs, s->id, ls) < 0)
			st->err = -E2BIG;
		s->wal_logged = 2;	/* logged by this batch, if its write succeeds */
		if (st->nlogged == st->caplogged) {
			st->caplogged = st->caplogged ? st->caplogged * 2 : 16;
			st->logged = xreallocarray(st->logged, st->caplogged, sizeof(*st->logged));
		}
		st->logged[st->nlogged++] = s;
	}
	if (st->db->wal_on) {
		uint64_t bits;
		memcpy(&bits, &v, 8);
		buf_add_uvarint(&st->samples, s->id);
		buf_add_varint(&st->samples, t);
		buf_add_u64le(&st->samples, bits);
		if (st->samples.len > (1u << 20))
			stage_flush_samples(st);
	}
	if (st->err)
		return st->err;
	if (st->n == st->cap) {
		st->cap = st->cap ? st->cap * 2 : 256;
		st->v = xreallocarray(st->v, st->cap, sizeof(*st->v));
	}
	st->v[st->n++] = (struct staged){ s, t, v };
	return 0;
}

int tsdb_append_batch(struct tsdb *db, const void *enc, size_t len, size_t *accepted,
    size_t *rejected)
{
	*accepted = *rejected = 0;
	if (db->opt.read_only)
		return -EROFS;
	struct stage st = { .db = db };
	buf_init(&st.recs, BATCH_MAX_BYTES * 4);
	buf_init(&st.samples, WAL_RECORD_MAX - 1);
	int rc = batch_decode(enc, len, stage_sample, &st);
	stage_flush_samples(&st);
	if (rc == 0 && st.err)
		rc = st.err;
	if (rc == 0 && db->wal_on)
		rc = wal_write_records(&db->wal, &st.recs);
	for (size_t i = 0; i < st.nlogged; i++)
		st.logged[i]->wal_logged = rc == 0;
	if (rc == 0) {
		/* Apply in WAL order, re-checking: replay will make the same calls. */
		for (size_t i = 0; i < st.n; i++) {
			const struct staged *x = &st.v[i];
			int c = head_check(db->head, x->s, x->t, x->v);
			if (c == 0) {
				head_add(db->head, x->s, x->t, x->v);
				db->appended++;
				(*accepted)++;
			} else if (c < 0) {
				db->rej_dup++;
				(*rejected)++;
			}
		}
		*rejected += st.rejected;
	} else if (rc != -EBADMSG) {
		db->rej_io += st.n;
	}
	free(st.v);
	free(st.logged);
	buf_free(&st.recs);
	buf_free(&st.samples);
	return rc;
}

int tsdb_delete(struct tsdb *db, const struct matcher *ms, size_t nm, int64_t mint,
    int64_t maxt, char *err, size_t errsz)
{
	if (db->opt.read_only) {
		snprintf(err, errsz, "store is read-only");
		return -EROFS;
	}
	if (mint > maxt) {
		snprintf(err, errsz, "empty time range");
		return -EINVAL;
	}
	struct ixreader ix;
	struct postings p = { 0 };
	struct head *h = db->head;
	int rc = 0;
	head_ixreader(h, &ix);
	ix_select(&ix, ms, nm, &p);
	uint64_t *refs = xmalloc((p.n ? p.n : 1) * sizeof(*refs));
	size_t n = 0;
	for (size_t i = 0; i < p.n && rc == 0; i++) {
		struct hseries *s = head_series(h, p.v[i]);
		if (!s || !head_has_samples(s, mint, maxt))
			continue;
		if (db->wal_on && !s->wal_logged) {
			struct labels *ls = head_labels(h, s);
			rc = wal_log_series(&db->wal, s->id, ls);
			labels_free(ls);
			s->wal_logged = rc == 0;
		}
		refs[n++] = s->id;
	}
	/* Log first: replay must delete exactly where the deletion happened. */
	if (rc == 0 && n && db->wal_on)
		rc = wal_log_delete(&db->wal, mint, maxt, refs, n);
	if (rc == 0 && n && db->wal_on)
		rc = wal_sync(&db->wal);
	for (size_t i = 0; i < n && rc == 0; i++)
		head_delete(h, head_series(h, (uint32_t)refs[i]), mint, maxt);
	free(refs);
	postings_free(&p);
	if (rc < 0) {
		snprintf(err, errsz, "logging the deletion: %s", strerror(-rc));
		return rc;
	}
	struct samples sm = { 0 };
	struct bseries bs = { 0 };
	for (size_t k = 0; k < db->nblocks && rc == 0; k++) {
		struct block *b = db->blocks[k];
		if (b->ix.meta.maxt < mint || b->ix.meta.mint > maxt)
			continue;
		block_ixreader(b, &ix);
		ix_select(&ix, ms, nm, &p);
		n = 0;
		for (size_t i = 0; i < p.n; i++) {
			sm.n = 0;
			if (block_series_samples(b, p.v[i], &bs, mint, maxt, &sm) == 0 && sm.n)
				p.v[n++] = p.v[i];
		}
		if (n && (rc = block_delete(b, p.v, n, mint, maxt)) < 0)
			snprintf(err, errsz, "%s/tombstones: %s", b->dir, strerror(-rc));
		postings_free(&p);
	}
	samples_free(&sm);
	bseries_free(&bs);
	return rc;
}

int tsdb_commit(struct tsdb *db)
{
	return db->wal_on ? wal_sync(&db->wal) : 0;
}

int tsdb_checkpoint(struct tsdb *db)
{
	if (!db->wal_on)
		return 0;
	uint32_t seg;
	struct wal cp;
	int rc = wal_rotate(&db->wal, &seg);
	if (rc < 0)
		return rc;
	rc = wal_checkpoint_begin(&db->wal, seg, &cp);
	struct head *h = db->head;
	struct samples sm = { 0 };
	for (uint32_t id = 0; id < h->next_id && rc == 0; id++) {
		struct hseries *s = h->series[id];
		if (!s)
			continue;
		struct labels *ls = head_labels(h, s);
		rc = wal_log_series(&cp, s->id, ls);
		labels_free(ls);
		sm.n = 0;
		head_samples(s, INT64_MIN, INT64_MAX, &sm);
		if (rc == 0 && sm.n)
			rc = wal_log_samples(&cp, s->id, sm.t, sm.v, sm.n);
		s->wal_logged = 1;
	}
	samples_free(&sm);
	if (rc < 0) {
		wal_close(&cp);
		char tmp[PATH_MAX];
		snprintf(tmp, sizeof(tmp), "%s/checkpoint.%08" PRIu32 ".tmp", db->waldir, seg);
		unlink(tmp);
		log_error("tsdb: wal checkpoint failed", "errno=%d", -rc);
		return rc;
	}
	return wal_checkpoint_finish(&db->wal, &cp, seg);
}

/* ---- storage_ops ---- */

static int st_append(void *impl, const struct labels *ls, int64_t t, double v)
{
	return tsdb_append(impl, ls, t, v);
}

static int st_commit(void *impl)
{
	return tsdb_commit(impl);
}

static void st_close(void *impl)
{
	tsdb_close(impl);
}

static const struct storage_ops tsdb_ops = {
	.select = tsdb_q_select,
	.label_names = tsdb_q_label_names,
	.label_values = tsdb_q_label_values,
	.append = st_append,
	.commit = st_commit,
	.close = st_close,
};

void tsdb_storage(struct tsdb *db, struct storage *out)
{
	out->ops = &tsdb_ops;
	out->impl = db;
}
