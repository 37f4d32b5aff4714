/* Unit tests for the tsdb: the reference check against memstore (same
 * workload, identical query results) through head, blocks, WAL replay and
 * compaction; out-of-order rules; torn WAL tails; damaged blocks;
 * retention; self-metrics. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/log.h"
#include "tsdb/fileutil.h"
#include "tsdb/memstore.h"
#include "tsdb/tsdb.h"
#include "t.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char tmpdir[256];
static int64_t test_retention;	/* retention for open_db; > 0 also stops compaction */

static void fresh_dir(void)
{
	if (tmpdir[0])
		tsdb_rmtree(tmpdir);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-tsdb-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
}

static struct tsdb *open_db(int64_t span, int64_t ooo)
{
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = tmpdir;
	o.block_span_ms = span;
	o.ooo_window_ms = ooo;
	o.retention_ms = test_retention;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db)
		printf("open failed: %s\n", err);
	return db;
}

static struct labels *mk(const char *name, const char *job, int inst, int opt)
{
	struct labels_builder lb;
	char ibuf[16];
	lb_init(&lb);
	lb_set(&lb, "__name__", name);
	lb_set(&lb, "job", job);
	snprintf(ibuf, sizeof(ibuf), "%d", inst);
	lb_set(&lb, "inst", ibuf);
	if (opt)
		lb_set(&lb, "opt", opt == 1 ? "x" : "y\"z\n");
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

/* Compare two select results; return a description of the first difference. */
static const char *diff_results(const struct storage_result *a, const struct storage_result *b)
{
	static char why[256];
	if (a->n != b->n) {
		snprintf(why, sizeof(why), "series %zu vs %zu", a->n, b->n);
		return why;
	}
	for (size_t i = 0; i < a->n; i++) {
		const struct storage_series *x = &a->series[i], *y = &b->series[i];
		if (labels_cmp(x->labels, y->labels) != 0)
			return "labels differ";
		if (x->n != y->n) {
			snprintf(why, sizeof(why), "series %zu: %zu vs %zu samples", i, x->n, y->n);
			return why;
		}
		for (size_t k = 0; k < x->n; k++)
			if (x->t[k] != y->t[k] || memcmp(&x->v[k], &y->v[k], 8) != 0) {
				snprintf(why, sizeof(why), "series %zu sample %zu: t %lld vs %lld", i, k,
				    (long long)x->t[k], (long long)y->t[k]);
				return why;
			}
	}
	return NULL;
}

static const char *diff_strings(char **a, size_t na, char **b, size_t nb)
{
	if (na != nb)
		return "string count differs";
	for (size_t i = 0; i < na; i++)
		if (strcmp(a[i], b[i]) != 0)
			return "strings differ";
	return NULL;
}

struct mspec {
	enum match_type type;	/* kind */
	const char *name, *value;	/* label name and value/regex */
};

static const struct mspec specs[] = {
	{ MATCH_EQ, "__name__", "m1" }, { MATCH_RE, "job", "a|b" }, { MATCH_NE, "inst", "3" },
	{ MATCH_EQ, "opt", "" }, { MATCH_NE, "opt", "" }, { MATCH_NRE, "job", "a.*" },
	{ MATCH_RE, "inst", "1|2|" }, { MATCH_EQ, "nope", "" }, { MATCH_EQ, "nope", "x" },
	{ MATCH_RE, "__name__", "m[02]" }, { MATCH_NRE, "opt", "x" }, { MATCH_RE, "opt", ".+" },
	{ MATCH_EQ, "job", "c" }, { MATCH_RE, "inst", ".*" },
};
#define NSPECS (sizeof(specs) / sizeof(specs[0]))

/* Run random queries against both stores; return the number of mismatches. */
static int reference_check(struct storage *a, struct storage *b, int64_t tmax, int rounds)
{
	int bad = 0;
	char err[256];
	for (int r = 0; r < rounds; r++) {
		struct matcher ms[3];
		size_t nm = rnd() % 4;
		for (size_t i = 0; i < nm; i++) {
			const struct mspec *s = &specs[rnd() % NSPECS];
			matcher_init(&ms[i], s->type, s->name, s->value, err, sizeof(err));
		}
		int64_t mint = (int64_t)(rnd() % (uint64_t)(tmax + 1)) - 50;
		int64_t maxt = mint + (int64_t)(rnd() % (uint64_t)(tmax + 1));
		if (r % 5 == 0) {
			mint = INT64_MIN;
			maxt = INT64_MAX;
		}
		struct storage_result ra, rb;
		struct select_hints hints = { 0 };
		if (r % 7 == 3)
			hints.max_series = 3;
		a->ops->select(a->impl, ms, nm, mint, maxt, &hints, &ra, err, sizeof(err));
		b->ops->select(b->impl, ms, nm, mint, maxt, &hints, &rb, err, sizeof(err));
		const char *d = diff_results(&ra, &rb);
		if (d && bad++ < 3)
			printf("  select mismatch (round %d, nm %zu, [%lld,%lld]): %s\n", r, nm,
			    (long long)mint, (long long)maxt, d);
		storage_result_free(&ra);
		storage_result_free(&rb);
		char **sa, **sb;
		size_t na, nb;
		const char *lname = r % 2 ? "inst" : "opt";
		a->ops->label_values(a->impl, lname, ms, nm, mint, maxt, &sa, &na);
		b->ops->label_values(b->impl, lname, ms, nm, mint, maxt, &sb, &nb);
		if ((d = diff_strings(sa, na, sb, nb)) && bad++ < 3)
			printf("  label_values mismatch round %d: %s (%zu vs %zu)\n", r, d, na, nb);
		storage_strings_free(sa, na);
		storage_strings_free(sb, nb);
		a->ops->label_names(a->impl, ms, nm, mint, maxt, &sa, &na);
		b->ops->label_names(b->impl, ms, nm, mint, maxt, &sb, &nb);
		if ((d = diff_strings(sa, na, sb, nb)) && bad++ < 3)
			printf("  label_names mismatch round %d: %s\n", r, d);
		storage_strings_free(sa, na);
		storage_strings_free(sb, nb);
		for (size_t i = 0; i < nm; i++)
			matcher_free(&ms[i]);
	}
	return bad;
}

/* Append a random workload to both; return the last timestamp. */
static int64_t workload(struct storage *db, struct storage *ref, int64_t t0, int steps,
    int *rejected)
{
	static const char *names[] = { "m0", "m1", "m2", "m3" };
	static const char *jobs[] = { "a", "b", "c" };
	int64_t t = t0;
	for (int s = 0; s < steps; s++) {
		t += 90 + (int64_t)(rnd() % 20);
		for (int k = 0; k < 12; k++) {
			int n = (int)(rnd() % 4), j = (int)(rnd() % 3), inst = (int)(rnd() % 10);
			struct labels *ls = mk(names[n], jobs[j], inst, (n + inst) % 3);
			int64_t ts = t;
			double v = (rnd() % 3) ? (double)(rnd() % 1000) / 10 : (double)rnd();
			if (rnd() % 10 == 0)
				ts = t - (int64_t)(rnd() % 700);	/* late */
			if (rnd() % 50 == 0)
				memcpy(&v, &(uint64_t){ 0x7ff0000000000002ull }, 8);
			int rc = db->ops->append(db->impl, ls, ts, v);
			if (rc == 0)
				ref->ops->append(ref->impl, ls, ts, v);
			else
				(*rejected)++;
			labels_free(ls);
		}
	}
	return t;
}

static int64_t count_samples(struct tsdb *d)
{
	struct storage st;
	struct storage_result r;
	char err[64];
	tsdb_storage(d, &st);
	st.ops->select(st.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err));
	int64_t n = 0;
	for (size_t i = 0; i < r.n; i++)
		n += (int64_t)r.series[i].n;
	storage_result_free(&r);
	return n;
}

T_TEST(tsdb_matches_memstore_through_head_blocks_replay_compaction)
{
	fresh_dir();
	struct storage db, ref;
	struct tsdb *d = open_db(1000, 300);
	T_CHECK(d != NULL);
	if (!d)
		return;
	tsdb_storage(d, &db);
	memstore_open(&ref);
	int rejected = 0;
	int64_t t = workload(&db, &ref, 0, 40, &rejected);
	T_CHECK(rejected > 0);	/* some late samples fall outside the window */
	T_CHECK(count_samples(d) > 300);
	T_EQ_INT(reference_check(&db, &ref, t, 150), 0);
	/* Cut into blocks and compare again. */
	tsdb_maintain(d);
	struct tsdb_stats st;
	tsdb_stats(d, &st);
	T_CHECK(st.blocks > 0);
	T_EQ_INT(reference_check(&db, &ref, t, 150), 0);
	/* More data, then reopen: blocks + WAL replay. */
	t = workload(&db, &ref, t, 30, &rejected);
	db.ops->commit(db.impl);
	db.ops->close(db.impl);
	d = open_db(1000, 300);
	T_CHECK(d != NULL);
	if (!d)
		return;
	tsdb_storage(d, &db);
	T_EQ_INT(reference_check(&db, &ref, t, 150), 0);
	/* Many more spans: compaction into 3x and 9x blocks. */
	t = workload(&db, &ref, t, 300, &rejected);
	for (int i = 0; i < 5; i++)
		tsdb_maintain(d);
	tsdb_stats(d, &st);
	T_CHECK(st.compactions > 0);
	T_EQ_INT(reference_check(&db, &ref, t, 200), 0);
	db.ops->close(db.impl);
	d = open_db(1000, 300);
	tsdb_storage(d, &db);
	T_EQ_INT(reference_check(&db, &ref, t, 100), 0);
	db.ops->close(db.impl);
	ref.ops->close(ref.impl);
}

T_TEST(tsdb_out_of_order_rules)
{
	fresh_dir();
	struct tsdb *d = open_db(3600000, 1000);
	struct labels *ls = mk("up", "a", 1, 0);
	T_EQ_INT(tsdb_append(d, ls, 10000, 1), 0);
	T_EQ_INT(tsdb_append(d, ls, 9500, 2), 0);	/* inside the window */
	T_EQ_INT(tsdb_append(d, ls, 8000, 3), -ERANGE);	/* older than window */
	T_EQ_INT(tsdb_append(d, ls, 10000, 1), 0);	/* same sample again */
	T_EQ_INT(tsdb_append(d, ls, 10000, 5), -EEXIST);
	T_EQ_INT(tsdb_append(d, ls, 9500, 7), -EEXIST);
	struct tsdb_stats st;
	tsdb_stats(d, &st);
	T_EQ_INT(st.rejected_too_old, 1);
	T_EQ_INT(st.rejected_duplicate, 2);
	T_EQ_INT(st.appended, 2);
	/* Query limits: max_samples fails the query, max_series trims it. */
	struct storage sto;
	struct storage_result r;
	struct select_hints hints = { .max_samples = 1 };
	char err[64];
	tsdb_storage(d, &sto);
	T_EQ_INT(sto.ops->select(sto.impl, NULL, 0, 0, 20000, &hints, &r, err, sizeof(err)), -E2BIG);
	T_EQ_INT(r.n, 0);
	hints.max_samples = 2;
	T_EQ_INT(sto.ops->select(sto.impl, NULL, 0, 0, 20000, &hints, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 1);
	storage_result_free(&r);
	tsdb_close(d);
	/* Window 0: any out-of-order sample is refused. */
	fresh_dir();
	d = open_db(3600000, 0);
	T_EQ_INT(tsdb_append(d, ls, 10000, 1), 0);
	T_EQ_INT(tsdb_append(d, ls, 9999, 1), -ERANGE);
	tsdb_close(d);
	labels_free(ls);
}

T_TEST(tsdb_torn_wal_tail_is_cut_and_prefix_kept)
{
	fresh_dir();
	struct tsdb *d = open_db(3600000, 0);
	struct labels *ls = mk("up", "a", 1, 0);
	for (int i = 0; i < 100; i++)
		tsdb_append(d, ls, 1000 * i, i);
	tsdb_close(d);
	char seg[512];
	snprintf(seg, sizeof(seg), "%s/wal/00000001", tmpdir);
	struct stat sb;
	T_EQ_INT(stat(seg, &sb), 0);
	/* Chop the last record in half, then add junk after a valid prefix. */
	T_EQ_INT(truncate(seg, sb.st_size - 7), 0);
	d = open_db(3600000, 0);
	T_EQ_INT(count_samples(d), 99);
	tsdb_append(d, ls, 200000, 1);
	tsdb_close(d);
	/* The torn segment was cut to whole records; a new one took the append. */
	d = open_db(3600000, 0);
	T_EQ_INT(count_samples(d), 100);
	tsdb_close(d);
	/* A flipped bit in the middle of a segment: replay keeps what precedes. */
	T_EQ_INT(stat(seg, &sb), 0);
	int fd = open(seg, O_RDWR);
	uint8_t byte;
	T_EQ_INT(pread(fd, &byte, 1, sb.st_size / 2), 1);
	byte ^= 0x10;
	T_EQ_INT(pwrite(fd, &byte, 1, sb.st_size / 2), 1);
	close(fd);
	d = open_db(3600000, 0);
	int64_t n = count_samples(d);
	T_CHECK(n >= 40 && n < 100);
	tsdb_close(d);
	labels_free(ls);
}

T_TEST(tsdb_wal_segments_rotate_and_replay_in_order)
{
	fresh_dir();
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = tmpdir;
	o.wal_segment_bytes = 4096;
	struct tsdb *d = tsdb_open(&o, err, sizeof(err));
	for (int i = 0; i < 3000; i++) {
		struct labels *ls = mk("m", "a", i % 7, 0);
		T_EQ_INT(tsdb_append(d, ls, 1000 * (i / 7), i), 0);
		labels_free(ls);
	}
	tsdb_close(d);
	char seg[512];
	snprintf(seg, sizeof(seg), "%s/wal/00000010", tmpdir);
	T_EQ_INT(access(seg, F_OK), 0);	/* at least ten segments */
	d = tsdb_open(&o, err, sizeof(err));
	T_EQ_INT(count_samples(d), 3000);
	/* Appends after a replay go on in a new segment and replay again. */
	struct labels *ls = mk("m", "a", 1, 0);
	T_EQ_INT(tsdb_append(d, ls, 10000000, 1), 0);
	labels_free(ls);
	tsdb_close(d);
	d = tsdb_open(&o, err, sizeof(err));
	T_EQ_INT(count_samples(d), 3001);
	tsdb_close(d);
}

T_TEST(tsdb_damaged_block_is_quarantined_rest_queryable)
{
	fresh_dir();
	test_retention = 20000;	/* no compaction: keep one block per second */
	struct tsdb *d = open_db(1000, 0);
	struct labels *ls = mk("up", "a", 1, 0);
	for (int i = 0; i < 100; i++)
		tsdb_append(d, ls, 100 * i, i);
	tsdb_maintain(d);
	struct tsdb_stats st;
	tsdb_stats(d, &st);
	int64_t before = count_samples(d);
	T_EQ_INT(before, 100);
	T_CHECK(st.blocks >= 3);
	tsdb_close(d);
	/* Flip one bit in the chunks of the first block (blk-0-999). */
	char path[512];
	snprintf(path, sizeof(path), "%s/blk-0-999/chunks", tmpdir);
	int fd = open(path, O_RDWR);
	T_CHECK(fd >= 0);
	uint8_t byte;
	T_EQ_INT(pread(fd, &byte, 1, 12), 1);
	byte ^= 1;
	T_EQ_INT(pwrite(fd, &byte, 1, 12), 1);
	close(fd);
	/* And truncate the index of the second. */
	snprintf(path, sizeof(path), "%s/blk-1000-1999/index", tmpdir);
	T_EQ_INT(truncate(path, 30), 0);
	d = open_db(1000, 0);
	T_CHECK(d != NULL);
	T_EQ_INT(count_samples(d), 80);	/* two 10-sample windows are gone */
	snprintf(path, sizeof(path), "%s/quarantine/blk-0-999/chunks", tmpdir);
	T_EQ_INT(access(path, F_OK), 0);
	snprintf(path, sizeof(path), "%s/quarantine/blk-1000-1999/index", tmpdir);
	T_EQ_INT(access(path, F_OK), 0);
	struct buf m;
	buf_init(&m, 1 << 16);
	tsdb_metrics_text(d, &m);
	T_CHECK(strstr(m.data, "vigil_tsdb_blocks_quarantined_total 2\n") != NULL);
	buf_free(&m);
	tsdb_close(d);
	/* A damaged tombstones file damages its block too. */
	snprintf(path, sizeof(path), "%s/blk-2000-2999/tombstones", tmpdir);
	FILE *f = fopen(path, "w");
	fputs("VGTS0001 not really", f);
	fclose(f);
	d = open_db(1000, 0);
	T_EQ_INT(count_samples(d), 70);
	tsdb_close(d);
	labels_free(ls);
	test_retention = 0;
}

T_TEST(tsdb_retention_by_time_and_bytes)
{
	fresh_dir();
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = tmpdir;
	o.block_span_ms = 1000;
	o.retention_ms = 5000;
	struct tsdb *d = tsdb_open(&o, err, sizeof(err));
	struct labels *ls = mk("up", "a", 1, 0);
	for (int i = 0; i < 200; i++)
		tsdb_append(d, ls, 100 * i, i);
	tsdb_maintain(d);
	struct storage st;
	struct storage_result r;
	tsdb_storage(d, &st);
	st.ops->select(st.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err));
	T_EQ_INT(r.n, 1);
	T_CHECK(r.n && r.series[0].t[0] >= 19900 - 6000);	/* older blocks gone */
	storage_result_free(&r);
	tsdb_close(d);
	o.retention_ms = 0;
	o.retention_bytes = 1;	/* keep nothing on disk but the WAL */
	d = tsdb_open(&o, err, sizeof(err));
	tsdb_maintain(d);
	struct tsdb_stats s;
	tsdb_stats(d, &s);
	T_EQ_INT(s.blocks, 0);
	tsdb_close(d);
	labels_free(ls);
}

T_TEST(tsdb_append_batch_matches_single_appends)
{
	fresh_dir();
	struct tsdb *d = open_db(3600000, 1000);
	struct storage db;
	tsdb_storage(d, &db);
	/* The reference: a second store fed the same samples one at a time. */
	char dir1[200];
	snprintf(dir1, sizeof(dir1), "%.190s", tmpdir);
	snprintf(tmpdir, sizeof(tmpdir), "%s/single", dir1);
	struct tsdb *single = open_db(3600000, 1000);
	snprintf(tmpdir, sizeof(tmpdir), "%s", dir1);
	struct batch b;
	batch_init(&b);
	int64_t t = 100000;
	size_t acc = 0, rej = 0, a, r;
	for (int round = 0; round < 20; round++) {
		batch_reset(&b);
		for (int k = 0; k < 50; k++) {
			struct labels *ls = mk("m", k % 2 ? "a" : "b", (int)(rnd() % 8), 0);
			int64_t ts = t + (int64_t)(rnd() % 3000) - 1500;	/* late, dup, in order */
			double v = (double)(rnd() % 4);
			batch_add(&b, ls, ts, v);
			tsdb_append(single, ls, ts, v);
			labels_free(ls);
		}
		struct buf enc;
		buf_init(&enc, BATCH_MAX_BYTES);
		batch_encode(&b, &enc);
		T_EQ_INT(tsdb_append_batch(d, enc.data, enc.len, &a, &r), 0);
		acc += a;
		rej += r;
		buf_free(&enc);
		t += 1000;
	}
	T_EQ_INT(acc + rej <= 1000, 1);
	T_CHECK(acc > 300 && rej > 0);
	struct storage_result r1, r2;
	struct storage ss;
	char err[64];
	db.ops->select(db.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r1, err, sizeof(err));
	tsdb_storage(single, &ss);
	ss.ops->select(ss.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r2, err, sizeof(err));
	T_CHECK(r1.n > 0 && diff_results(&r1, &r2) == NULL);
	storage_result_free(&r2);
	tsdb_close(single);
	tsdb_close(d);
	/* What the WAL replays equals what the batches stored. */
	d = open_db(3600000, 1000);
	tsdb_storage(d, &db);
	db.ops->select(db.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r2, err, sizeof(err));
	T_CHECK(diff_results(&r1, &r2) == NULL);
	size_t n = 0;
	for (size_t i = 0; i < r1.n; i++)
		n += r1.series[i].n;
	T_EQ_INT(n, acc);
	storage_result_free(&r1);
	storage_result_free(&r2);
	/* A damaged batch stores nothing. */
	batch_reset(&b);
	struct labels *ls = mk("m", "z", 1, 0);
	batch_add(&b, ls, t + 5000, 1);
	labels_free(ls);
	struct buf enc;
	buf_init(&enc, BATCH_MAX_BYTES);
	batch_encode(&b, &enc);
	T_EQ_INT(tsdb_append_batch(d, enc.data, enc.len - 3, &a, &r), -EBADMSG);
	T_EQ_INT(count_samples(d), (int64_t)acc);
	buf_free(&enc);
	batch_free(&b);
	db.ops->close(db.impl);
}

/* Drop from r the samples in [mint, maxt] of series with job=job. */
static void filter_deleted(struct storage_result *r, const char *job, int64_t mint, int64_t maxt)
{
	size_t w = 0;
	for (size_t i = 0; i < r->n; i++) {
		struct storage_series *x = &r->series[i];
		const char *j = labels_get(x->labels, "job");
		if (j && !strcmp(j, job)) {
			size_t k = 0;
			for (size_t q = 0; q < x->n; q++)
				if (x->t[q] < mint || x->t[q] > maxt) {
					x->t[k] = x->t[q];
					x->v[k++] = x->v[q];
				}
			x->n = k;
		}
		if (x->n == 0) {
			labels_free(x->labels);
			free(x->t);
			free(x->v);
			continue;
		}
		r->series[w++] = *x;
	}
	r->n = w;
}

static const char *diff_after_delete(struct storage *db, struct storage *ref, int64_t mint,
    int64_t maxt)
{
	static char why[300];
	struct storage_result a, b;
	char err[64];
	db->ops->select(db->impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &a, err, sizeof(err));
	ref->ops->select(ref->impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &b, err, sizeof(err));
	filter_deleted(&b, "a", mint, maxt);
	const char *d = diff_results(&a, &b);
	snprintf(why, sizeof(why), "%s", d ? d : "");
	storage_result_free(&a);
	storage_result_free(&b);
	return d ? why : NULL;
}

T_TEST(tsdb_delete_by_matcher_head_blocks_replay_compaction)
{
	fresh_dir();
	struct storage db, ref;
	struct tsdb *d = open_db(1000, 300);
	tsdb_storage(d, &db);
	memstore_open(&ref);
	int rejected = 0;
	int64_t t = workload(&db, &ref, 0, 60, &rejected);
	tsdb_maintain(d);	/* some blocks, some head */
	struct tsdb_stats st;
	tsdb_stats(d, &st);
	T_CHECK(st.blocks > 0 && st.head_samples > 0);
	struct matcher m;
	char err[256];
	matcher_init(&m, MATCH_EQ, "job", "a", err, sizeof(err));
	int64_t dmin = 1500, dmax = t - 300;	/* across blocks and into the head */
	T_EQ_INT(tsdb_delete(d, &m, 1, dmin, dmax, err, sizeof(err)), 0);
	const char *why = diff_after_delete(&db, &ref, dmin, dmax);
	if (why)
		T_FAILF("after delete: %s", why);
	/* The deletion survives a restart (WAL record + tombstones files). */
	db.ops->close(db.impl);
	d = open_db(1000, 300);
	tsdb_storage(d, &db);
	why = diff_after_delete(&db, &ref, dmin, dmax);
	if (why)
		T_FAILF("after reopen: %s", why);
	/* New samples after the deleted range; then cuts and compaction drop
	 * the deleted samples for good. */
	int64_t t2 = workload(&db, &ref, t + 1000, 200, &rejected);
	(void)t2;
	for (int i = 0; i < 5; i++)
		tsdb_maintain(d);
	tsdb_stats(d, &st);
	T_CHECK(st.compactions > 0);
	why = diff_after_delete(&db, &ref, dmin, dmax);
	if (why)
		T_FAILF("after compaction: %s", why);
	db.ops->close(db.impl);
	d = open_db(1000, 300);
	tsdb_storage(d, &db);
	why = diff_after_delete(&db, &ref, dmin, dmax);
	if (why)
		T_FAILF("after second reopen: %s", why);
	T_EQ_INT(tsdb_delete(d, &m, 1, 5, 4, err, sizeof(err)), -EINVAL);
	matcher_free(&m);
	db.ops->close(db.impl);
	ref.ops->close(ref.impl);
}

T_TEST(tsdb_metrics_text_has_every_family)
{
	fresh_dir();
	struct tsdb *d = open_db(3600000, 0);
	struct labels *ls = mk("up", "a", 1, 0);
	tsdb_append(d, ls, 1000, 1);
	tsdb_append(d, ls, 500, 1);
	tsdb_commit(d);
	struct buf m;
	buf_init(&m, 1 << 16);
	T_EQ_INT(tsdb_metrics_text(d, &m), 0);
	const char *want[] = { "# TYPE vigil_tsdb_head_series gauge\nvigil_tsdb_head_series 1\n",
	    "vigil_tsdb_samples_appended_total 1\n",
	    "vigil_tsdb_samples_rejected_total{reason=\"too_old\"} 1\n",
	    "# TYPE vigil_tsdb_wal_fsync_seconds histogram\n",
	    "vigil_tsdb_wal_fsync_seconds_count 1\n", "vigil_tsdb_head_chunks 1\n",
	    "vigil_tsdb_compactions_total 0\n", "vigil_tsdb_disk_bytes{part=\"wal\"} " };
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(m.data, want[i]))
			T_FAILF("missing %s", want[i]);
	buf_free(&m);
	tsdb_close(d);
	labels_free(ls);
}

/* A block from before format version 2 (no shared timestamps) still reads:
 * exactly the samples it was imported from. */
T_TEST(tsdb_reads_version1_block)
{
	static const char *fix = "tests/data/tsdb/v1";
	char cmd[1024], path[512], err[256];
	fresh_dir();
	snprintf(cmd, sizeof(cmd), "cp -r %s/blk-* %s/", fix, tmpdir);
	T_EQ_INT(system(cmd), 0);
	struct tsdb *db = open_db(7200000, 0);
	T_CHECK(db != NULL);
	struct tsdb_stats st;
	tsdb_stats(db, &st);
	T_EQ_INT(st.blocks, 1);
	struct storage s, mem;
	tsdb_storage(db, &s);
	memstore_open(&mem);
	snprintf(path, sizeof(path), "%s/samples.prom", fix);
	FILE *f = fopen(path, "r");
	T_CHECK(f != NULL);
	char line[256];
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f)) {
		char sv[8], val[64];
		long long t;
		if (sscanf(line, "m{s=\"%7[^\"]\"} %63s %lld", sv, val, &t) != 3)
			continue;
		struct labels_builder lb;
		lb_init(&lb);
		lb_set(&lb, "__name__", "m");
		lb_set(&lb, "s", sv);
		struct labels *ls = lb_finish(&lb);
		lb_free(&lb);
		mem.ops->append(mem.impl, ls, t, strtod(val, NULL));
		labels_free(ls);
		n++;
	}
	if (f)
		fclose(f);
	T_EQ_INT(n, 900);
	struct matcher m;
	struct storage_result a, b;
	matcher_init(&m, MATCH_EQ, "__name__", "m", err, sizeof(err));
	T_EQ_INT(s.ops->select(s.impl, &m, 1, INT64_MIN, INT64_MAX, NULL, &a, err, sizeof(err)), 0);
	T_EQ_INT(mem.ops->select(mem.impl, &m, 1, INT64_MIN, INT64_MAX, NULL, &b, err, sizeof(err)), 0);
	const char *why = diff_results(&a, &b);
	if (why)
		T_FAILF("%s", why);
	T_EQ_INT(a.n, 3);
	storage_result_free(&a);
	storage_result_free(&b);
	matcher_free(&m);
	s.ops->close(s.impl);
	mem.ops->close(mem.impl);
}

int main(void)
{
	log_setup(LOG_ERROR + 1, "test");
	T_RUN(tsdb_matches_memstore_through_head_blocks_replay_compaction);
	T_RUN(tsdb_out_of_order_rules);
	T_RUN(tsdb_torn_wal_tail_is_cut_and_prefix_kept);
	T_RUN(tsdb_wal_segments_rotate_and_replay_in_order);
	T_RUN(tsdb_damaged_block_is_quarantined_rest_queryable);
	T_RUN(tsdb_retention_by_time_and_bytes);
	T_RUN(tsdb_append_batch_matches_single_appends);
	T_RUN(tsdb_delete_by_matcher_head_blocks_replay_compaction);
	T_RUN(tsdb_metrics_text_has_every_family);
	T_RUN(tsdb_reads_version1_block);
	tsdb_rmtree(tmpdir);
	return t_done();
}
