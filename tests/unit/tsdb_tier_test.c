/* Unit tests for the tsdb's downsampled tiers: bucket aggregates, when a
 * select reads a tier, PromQL answers over tiered data equal to the raw
 * computation (against memstore), raw retention keeping tiers, and a
 * damaged tiers file. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/log.h"
#include "promql/promql.h"
#include "tsdb/fileutil.h"
#include "tsdb/memstore.h"
#include "tsdb/tier.h"
#include "tsdb/tsdb.h"
#include "tsdb/tsdb_int.h"
#include "t.h"

#define MIN_MS 60000LL
#define T0 1700006400000LL	/* a multiple of 1 h */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char tmpdir[256];

static void fresh_dir(void)
{
	if (tmpdir[0])
		tsdb_rmtree(tmpdir);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-tier-test-XXXXXX");
	if (!mkdtemp(tmpdir))
		abort();
}

static struct tsdb *open_db(int64_t retention, int64_t tier_retention)
{
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = tmpdir;
	o.retention_ms = retention;
	o.downsample_after_ms = 0;
	o.downsample_retention_ms = tier_retention;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db)
		printf("open failed: %s\n", err);
	return db;
}

static struct labels *mk(const char *name, int inst)
{
	struct labels_builder lb;
	char ibuf[16];
	lb_init(&lb);
	lb_set(&lb, "__name__", name);
	snprintf(ibuf, sizeof(ibuf), "%d", inst);
	lb_set(&lb, "inst", ibuf);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

/* Run maintenance until every block has its tiers. */
static void settle(struct tsdb *db)
{
	for (int i = 0; i < 200; i++) {
		struct tsdb_stats a, b;
		tsdb_stats(db, &a);
		tsdb_maintain(db);
		tsdb_stats(db, &b);
		if (a.tier_builds == b.tier_builds && a.compactions == b.compactions)
			break;
	}
}

T_TEST(tier_columns_hold_bucket_aggregates)
{
	fresh_dir();
	struct tsdb *db = open_db(0, 0);
	T_CHECK(db != NULL);
	struct labels *ls = mk("g", 1);
	/* Bucket (T0, T0+5m]: 1 @+1m, 5 @+2m, NaN @+3m, 2 @+5m (on the bucket end).
	 * Bucket (T0+5m, T0+10m]: 7 @+6m, then a staleness marker @+7m.
	 * Bucket (T0+10m, +15m]: only a staleness marker @+11m. */
	struct { int64_t t; double v; } in[] = {
		{ T0 + 1 * MIN_MS, 1 }, { T0 + 2 * MIN_MS, 5 }, { T0 + 3 * MIN_MS, NAN },
		{ T0 + 5 * MIN_MS, 2 }, { T0 + 6 * MIN_MS, 7 }, { T0 + 7 * MIN_MS, stale_nan() },
		{ T0 + 11 * MIN_MS, stale_nan() }, { T0 + 30 * 3600000LL, 1 },
	};
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		T_EQ_INT(tsdb_append(db, ls, in[i].t, in[i].v), 0);
	char err[256];
	T_EQ_INT(tsdb_flush_head(db, err, sizeof(err)), 0);
	settle(db);
	T_CHECK(db->nblocks >= 1);
	struct block *b = db->blocks[0];
	T_CHECK(b->tiers != NULL);
	int k = tier_index(b->tiers, TSDB_TIER_5M);
	T_CHECK(k >= 0);
	struct samples s = { 0 };
	T_EQ_INT(tier_read(b->tiers, 0, k, TIER_COL_MAX, INT64_MIN, T0 + 3600000, &s), 0);
	T_EQ_INT(s.n, 2);
	T_EQ_INT(s.t[0], T0 + 5 * MIN_MS);
	T_EQ_DBL(s.v[0], 5, 0);
	T_EQ_INT(s.t[1], T0 + 10 * MIN_MS);
	T_EQ_DBL(s.v[1], 7, 0);
	s.n = 0;
	T_EQ_INT(tier_read(b->tiers, 0, k, TIER_COL_MIN, INT64_MIN, T0 + 3600000, &s), 0);
	T_EQ_DBL(s.v[0], 1, 0);
	s.n = 0;
	T_EQ_INT(tier_read(b->tiers, 0, k, TIER_COL_SUM, INT64_MIN, T0 + 3600000, &s), 0);
	T_CHECK(isnan(s.v[0]));	/* a NaN sample makes the sum NaN, as sum_over_time */
	T_EQ_DBL(s.v[1], 7, 0);
	s.n = 0;
	T_EQ_INT(tier_read(b->tiers, 0, k, TIER_COL_COUNT, INT64_MIN, T0 + 3600000, &s), 0);
	T_EQ_DBL(s.v[0], 4, 0);
	T_EQ_DBL(s.v[1], 1, 0);
	s.n = 0;
	/* last: 2 @+5m; 7 @+6m then the marker @+7m; the lone marker @+11m. */
	T_EQ_INT(tier_read(b->tiers, 0, k, TIER_COL_LAST, INT64_MIN, T0 + 3600000, &s), 0);
	T_EQ_INT(s.n, 4);
	T_EQ_INT(s.t[0], T0 + 5 * MIN_MS);
	T_EQ_DBL(s.v[0], 2, 0);
	T_EQ_INT(s.t[1], T0 + 6 * MIN_MS);
	T_EQ_INT(s.t[2], T0 + 7 * MIN_MS);
	T_CHECK(memcmp(&s.v[2], &(uint64_t){ STALE_NAN_BITS }, 8) == 0);
	T_EQ_INT(s.t[3], T0 + 11 * MIN_MS);
	s.n = 0;
	int k1 = tier_index(b->tiers, TSDB_TIER_1H);
	T_EQ_INT(tier_read(b->tiers, 0, k1, TIER_COL_COUNT, INT64_MIN, T0 + 3600000, &s), 0);
	T_EQ_INT(s.n, 1);
	T_EQ_INT(s.t[0], T0 + 3600000);
	T_EQ_DBL(s.v[0], 5, 0);
	samples_free(&s);
	T_EQ_INT(tier_bucket_end(-1, 300000), 0);
	T_EQ_INT(tier_bucket_end(-300001, 300000), -300000);
	T_EQ_INT(tier_bucket_end(300000, 300000), 300000);
	labels_free(ls);
	tsdb_close(db);
}

/* Append the same workload to both stores: 3 series over `days` at 1 min
 * (with gaps, NaNs, staleness runs, decimals and full floats). */
static void fill(struct tsdb *db, struct storage *mem, int days)
{
	struct labels *ls[3] = { mk("m", 1), mk("m", 2), mk("m", 3) };
	double st[3] = { 100, 0.5, 1e6 };
	int64_t n = (int64_t)days * 1440;
	for (int64_t i = 1; i <= n; i++) {
		/* Mostly on whole minutes (so on bucket ends and block edges),
		 * some 1 ms after one. */
		int64_t t = T0 + i * MIN_MS + (i % 7 == 5);
		for (int s = 0; s < 3; s++) {
			uint64_t r = rnd();
			if (r % 50 == 0)
				continue;	/* a missed scrape */
			if (s == 1 && i % 700 > 660)
				continue;	/* a long gap, ended by a staleness marker below */
			double v;
			if (s == 0)
				v = st[0] += (double)(r % 1000) / 100;	/* counter, 2 decimals */
			else if (s == 1)
				v = st[1] = fabs(st[1] + ((double)(r % 2001) - 1000) / 7777.0);
			else
				v = (double)(r % 97) * 1024;
			if (s == 1 && i % 700 == 660)
				v = stale_nan();
			if (s == 2 && r % 333 == 1)
				v = NAN;
			tsdb_append(db, ls[s], t, v);
			mem->ops->append(mem->impl, ls[s], t, v);
		}
		if (i % 120 == 0)
			tsdb_maintain(db);
	}
	for (int s = 0; s < 3; s++)
		labels_free(ls[s]);
}

/* Compare one range query on both stores: 0 if equal (sum within a
 * relative 1e-12, as docs/STORAGE.md allows), else 1 with a message. */
static int same_answer(struct storage *a, struct storage *b, const char *q, int64_t start,
    int64_t end, int64_t step, int loose)
{
	struct pq_expr *e;
	struct pq_result ra, rb;
	char err[256];
	if (pq_parse(q, &e, err, sizeof(err)) < 0) {
		printf("  parse %s: %s\n", q, err);
		return 1;
	}
	int bad = 0;
	int rca = pq_eval_range(a, e, start, end, step, NULL, &ra, err, sizeof(err));
	int rcb = pq_eval_range(b, e, start, end, step, NULL, &rb, err, sizeof(err));
	if (rca || rcb || ra.n != rb.n) {
		printf("  %s: rc %d/%d, series %zu vs %zu\n", q, rca, rcb, ra.n, rb.n);
		bad = 1;
	}
	for (size_t i = 0; !bad && i < ra.n; i++) {
		const struct pq_series *x = &ra.series[i], *y = &rb.series[i];
		if (x->n != y->n || labels_cmp(x->labels, y->labels)) {
			printf("  %s: series %zu: %zu vs %zu points\n", q, i, x->n, y->n);
			bad = 1;
		}
		for (size_t k = 0; !bad && k < x->n; k++) {
			int eq = x->t[k] == y->t[k] && (memcmp(&x->v[k], &y->v[k], 8) == 0 ||
			    (isnan(x->v[k]) && isnan(y->v[k])) ||
			    (loose && fabs(x->v[k] - y->v[k]) <= 1e-12 * fabs(y->v[k])));
			if (!eq) {
				printf("  %s step %lld: series %zu point %zu: %.17g vs %.17g\n", q,
				    (long long)step, i, k, x->v[k], y->v[k]);
				bad = 1;
			}
		}
	}
	pq_result_free(&ra);
	pq_result_free(&rb);
	pq_free(e);
	return bad;
}

T_TEST(tier_promql_answers_equal_raw)
{
	fresh_dir();
	struct tsdb *db = open_db(0, 0);
	T_CHECK(db != NULL);
	struct storage mem, st;
	memstore_open(&mem);
	fill(db, &mem, 3);
	char err[256];
	T_EQ_INT(tsdb_flush_head(db, err, sizeof(err)), 0);
	settle(db);
	struct tsdb_stats s;
	tsdb_stats(db, &s);
	T_CHECK(s.tier_blocks >= 3);
	T_EQ_INT(s.tier_blocks, s.blocks);
	/* One block without tiers in the middle: windows then mix raw samples
	 * and bucket aggregates (and buckets split at its edges). */
	struct block *mid = db->blocks[1];
	tier_close(mid->tiers);
	mid->tiers = NULL;
	mid->tiers_failed = 1;
	tsdb_storage(db, &st);
	static const char *fns[] = { "max_over_time", "min_over_time", "sum_over_time",
		"last_over_time", "present_over_time", "ts_of_last_over_time" };
	static const char *ranges[] = { "5m", "1h", "3h" };
	static const int64_t steps[] = { 300000, 3600000, 7200000 };
	int bad = 0;
	for (size_t f = 0; f < sizeof(fns) / sizeof(fns[0]); f++)
		for (size_t r = 0; r < 3; r++)
			for (size_t k = 0; k < 3; k++) {
				char q[128];
				snprintf(q, sizeof(q), "%s(m[%s])", fns[f], ranges[r]);
				bad += same_answer(&st, &mem, q, T0 + 3600000, T0 + 3 * 86400000LL,
				    steps[k], f == 2);
			}
	tsdb_stats(db, &s);
	T_CHECK(s.tier_selects >= 40);	/* the tiers were read, not the raw chunks */
	uint64_t used = s.tier_selects;
	/* Unaligned and unsupported queries read raw data and agree too. */
	bad += same_answer(&st, &mem, "max_over_time(m[1h])", T0 + 3600001, T0 + 86400000LL,
	    3600000, 0);
	bad += same_answer(&st, &mem, "last_over_time(m[1h])", T0 + 3600001, T0 + 86400000LL,
	    3600000, 0);
	bad += same_answer(&st, &mem, "max_over_time(m[7m])", T0 + 3600000, T0 + 86400000LL,
	    3600000, 0);
	bad += same_answer(&st, &mem, "rate(m[1h])", T0 + 3600000, T0 + 86400000LL, 3600000, 0);
	bad += same_answer(&st, &mem, "count_over_time(m[1h])", T0 + 3600000, T0 + 86400000LL,
	    3600000, 0);
	bad += same_answer(&st, &mem, "max_over_time(m[1h])", T0 + 3600000, T0 + 86400000LL,
	    60000, 0);
	tsdb_stats(db, &s);
	T_EQ_INT(s.tier_selects, used);
	T_EQ_INT(bad, 0);
	st.ops->close(st.impl);
	mem.ops->close(mem.impl);
}

/* The latest sample at or before T within lookback, as an instant
 * selector evaluates it; 0 if none. */
static int latest(const struct storage_series *s, int64_t T, int64_t lookback, double *v,
    int64_t *t)
{
	size_t j = 0;
	while (j < s->n && s->t[j] <= T)
		j++;
	if (j == 0 || s->t[j - 1] <= T - lookback || isnan(s->v[j - 1]) ||
	    memcmp(&s->v[j - 1], &(uint64_t){ STALE_NAN_BITS }, 8) == 0)
		return 0;
	*v = s->v[j - 1];
	*t = s->t[j - 1];
	return 1;
}

T_TEST(tier_instant_selector_with_lookback_hint)
{
	fresh_dir();
	struct tsdb *db = open_db(0, 0);
	struct storage mem, st;
	memstore_open(&mem);
	fill(db, &mem, 2);
	char err[256];
	T_EQ_INT(tsdb_flush_head(db, err, sizeof(err)), 0);
	settle(db);
	tsdb_storage(db, &st);
	struct matcher m;
	matcher_init(&m, MATCH_EQ, "__name__", "m", err, sizeof(err));
	int bad = 0;
	static const int64_t lookbacks[] = { 300000, 60000, 7200000 };
	for (size_t l = 0; l < 3; l++) {
		int64_t lb = lookbacks[l], start = T0 + 3600000, end = T0 + 2 * 86400000LL;
		int64_t step = 3600000;
		struct select_hints h = { .step_ms = step, .lookback_ms = lb };
		struct storage_result rt, rr;
		uint64_t before = db->tier_selects;
		T_EQ_INT(st.ops->select(st.impl, &m, 1, start - lb + 1, end, &h, &rt, err, sizeof(err)), 0);
		T_CHECK(db->tier_selects == before + 1);
		T_EQ_INT(mem.ops->select(mem.impl, &m, 1, start - lb + 1, end, NULL, &rr, err, sizeof(err)), 0);
		T_EQ_INT(rt.n, rr.n);
		for (size_t i = 0; i < rt.n && i < rr.n; i++) {
			T_CHECK(rt.series[i].n < rr.series[i].n);	/* fewer samples read */
			for (int64_t T = start; T <= end; T += step) {
				double va = 0, vb = 0;
				int64_t ta = 0, tb = 0;
				int a = latest(&rt.series[i], T, lb, &va, &ta);
				int b = latest(&rr.series[i], T, lb, &vb, &tb);
				if (a != b || (a && (ta != tb || memcmp(&va, &vb, 8)))) {
					printf("  lookback %lld series %zu T %lld: %d %.17g@%lld vs %d %.17g@%lld\n",
					    (long long)lb, i, (long long)T, a, va, (long long)ta, b, vb,
					    (long long)tb);
					bad++;
				}
			}
		}
		storage_result_free(&rt);
		storage_result_free(&rr);
	}
	T_EQ_INT(bad, 0);
	matcher_free(&m);
	st.ops->close(st.impl);
	mem.ops->close(mem.impl);
}

T_TEST(tier_retention_drops_raw_keeps_tiers)
{
	fresh_dir();
	int64_t day = 86400000LL;
	struct tsdb *db = open_db(day, 3 * day);
	struct storage mem, st;
	memstore_open(&mem);
	fill(db, &mem, 5);
	tsdb_maintain(db);
	struct tsdb_stats s;
	tsdb_stats(db, &s);
	T_CHECK(s.raw_dropped > 0);
	T_CHECK(s.raw_dropped < s.blocks);
	for (size_t i = 0; i < db->nblocks; i++) {
		const struct block *b = db->blocks[i];
		/* Nothing older than the tier retention; raw only inside raw retention. */
		T_CHECK(b->ix.meta.maxt >= T0 + 5 * day - 3 * day);
		T_CHECK(b->raw_gone == (b->ix.meta.maxt < T0 + 5 * day - day));
	}
	tsdb_close(db);
	/* Reopened: the tier-only blocks still answer aligned max_over_time. */
	db = open_db(day, 3 * day);
	T_CHECK(db != NULL);
	tsdb_stats(db, &s);
	T_CHECK(s.raw_dropped > 0);
	tsdb_storage(db, &st);
	int64_t from = T0 + 2 * day + 3600000, to = T0 + 3 * day;
	T_EQ_INT(same_answer(&st, &mem, "max_over_time(m[1h])", from, to, 3600000, 0), 0);
	T_EQ_INT(same_answer(&st, &mem, "last_over_time(m[5m])", from, to, 300000, 0), 0);
	/* Label values over that range still list its series. */
	char **vals;
	size_t nv;
	T_EQ_INT(st.ops->label_values(st.impl, "inst", NULL, 0, from, to, &vals, &nv), 0);
	T_EQ_INT(nv, 3);
	storage_strings_free(vals, nv);
	/* Raw-only questions about that range get no data: the raw is gone. */
	struct pq_expr *e;
	struct pq_result r;
	char err[256];
	T_EQ_INT(pq_parse("rate(m[1h])", &e, err, sizeof(err)), 0);
	T_EQ_INT(pq_eval_range(&st, e, from, to, 3600000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 0);
	pq_result_free(&r);
	pq_free(e);
	st.ops->close(st.impl);
	mem.ops->close(mem.impl);
}

T_TEST(tier_damaged_file_is_ignored_while_raw_remains)
{
	fresh_dir();
	struct tsdb *db = open_db(0, 0);
	struct storage mem, st;
	memstore_open(&mem);
	fill(db, &mem, 1);
	char err[256], path[512];
	T_EQ_INT(tsdb_flush_head(db, err, sizeof(err)), 0);
	settle(db);
	T_CHECK(db->blocks[0]->tiers != NULL);
	snprintf(path, sizeof(path), "%s/tiers", db->blocks[0]->dir);
	tsdb_close(db);
	int fd = open(path, O_RDWR);
	T_CHECK(fd >= 0);
	uint8_t byte;
	T_EQ_INT(pread(fd, &byte, 1, 40), 1);
	byte ^= 0x10;
	T_EQ_INT(pwrite(fd, &byte, 1, 40), 1);
	close(fd);
	db = open_db(0, 0);
	T_CHECK(db != NULL);
	struct tsdb_stats s;
	tsdb_stats(db, &s);
	T_EQ_INT(db->quarantined, 0);
	T_CHECK(db->blocks[0]->tiers_bad);
	tsdb_storage(db, &st);
	T_EQ_INT(same_answer(&st, &mem, "max_over_time(m[1h])", T0 + 3600000, T0 + 86400000LL,
	    3600000, 0), 0);
	/* Maintenance rebuilds it. */
	tsdb_maintain(db);
	T_CHECK(!db->blocks[0]->tiers_bad && db->blocks[0]->tiers != NULL);
	st.ops->close(st.impl);
	mem.ops->close(mem.impl);
}

int main(void)
{
	log_setup(LOG_ERROR + 1, "test");
	T_RUN(tier_columns_hold_bucket_aggregates);
	T_RUN(tier_promql_answers_equal_raw);
	T_RUN(tier_instant_selector_with_lookback_hint);
	T_RUN(tier_retention_drops_raw_keeps_tiers);
	T_RUN(tier_damaged_file_is_ignored_while_raw_remains);
	tsdb_rmtree(tmpdir);
	return t_done();
}
