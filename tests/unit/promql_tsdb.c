/* promql_tsdb.c — range queries over the tsdb (blocks, tombstones, head)
 * give exactly the answers they give over memstore. The tsdb skips chunks
 * and samples no evaluation instant reads (select_hints step/range); this
 * checks that what it leaves out never changes an answer: ranges aligned
 * and not, steps below and above the lookback and the ranges, offsets, @,
 * subqueries, staleness markers, gaps, deleted ranges. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "promql/promql.h"
#include "tsdb/fileutil.h"
#include "tsdb/memstore.h"
#include "tsdb/tsdb.h"
#include "t.h"

#define NSERIES 24		/* series of metric m */
#define T0 1700000000000LL	/* first sample, ms */
#define SPAN_MS (5 * 3600000LL)	/* data span: 3 h in 1 h blocks, 1 h gap, 1 h in the head */
#define DEL_SERIES 5		/* series with a deleted range */
#define DEL_MIN (T0 + 5000000)	/* deleted range, ms */
#define DEL_MAX (T0 + 5600000)

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static char tmpdir[256];
static int rejected;	/* appends the tsdb refused */
static struct tsdb *db;
static struct storage ts, ms;

static struct labels *series_labels(int i)
{
	struct labels_builder lb;
	char b[16];
	lb_init(&lb);
	lb_set(&lb, "__name__", "m");
	snprintf(b, sizeof(b), "%d", i);
	lb_set(&lb, "i", b);
	snprintf(b, sizeof(b), "%d", i % 3);
	lb_set(&lb, "g", b);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

/* Append series samples with t in [from, to) to both stores. */
static void fill(int64_t from, int64_t to)
{
	for (int i = 0; i < NSERIES; i++) {
		struct labels *ls = series_labels(i);
		uint64_t seed = rng;
		rng = 0x9e3779b97f4a7c15ull * (uint64_t)(i + 1);
		int64_t step = 5000 + 5000 * (i % 4);	/* 5-20 s apart */
		double v = (double)(i * 10);
		for (int64_t t = T0 + (i % 7) * 1000; t < to; t += step + (int64_t)(rnd() % 3000)) {
			uint64_t r = rnd();
			if (i % 5 == 1 && (t / 600000) % 4 == 2)
				continue;	/* gaps of 10 minutes */
			if (i % 6 == 2 && r % 11 == 0)
				v = 0;		/* counter reset */
			else
				v += (double)(r % 1000) / 10;
			double x = v;
			if (i % 8 == 3 && r % 17 == 0) {
				uint64_t b = STALE_NAN_BITS;
				memcpy(&x, &b, sizeof(x));
			}
			if (t < from)
				continue;
			/* the memstore gets what the tsdb took (it refuses a few
			 * samples just after the flushed blocks as too old) */
			if (ts.ops->append(ts.impl, ls, t, x) < 0) {
				rejected++;
				continue;
			}
			if (!(i == DEL_SERIES && t >= DEL_MIN && t <= DEL_MAX))
				ms.ops->append(ms.impl, ls, t, x);
		}
		rng = seed;
		labels_free(ls);
	}
	ts.ops->commit(ts.impl);
	ms.ops->commit(ms.impl);
}

static int setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vigil-pqtsdb-XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = tmpdir;
	o.block_span_ms = 3600000;
	o.retention_ms = 0;
	o.no_wal = 1;
	db = tsdb_open(&o, err, sizeof(err));
	if (!db) {
		printf("open: %s\n", err);
		return -1;
	}
	tsdb_storage(db, &ts);
	memstore_open(&ms);
	/* three hours into blocks, the rest stays in the head */
	fill(0, T0 + 3 * 3600000LL);
	if (tsdb_flush_head(db, err, sizeof(err)) < 0) {
		printf("flush: %s\n", err);
		return -1;
	}
	struct matcher m;
	char num[16];
	snprintf(num, sizeof(num), "%d", DEL_SERIES);
	matcher_init(&m, MATCH_EQ, "i", num, err, sizeof(err));
	int rc = tsdb_delete(db, &m, 1, DEL_MIN, DEL_MAX, err, sizeof(err));
	matcher_free(&m);
	if (rc < 0) {
		printf("delete: %s\n", err);
		return -1;
	}
	fill(T0 + 4 * 3600000LL, T0 + SPAN_MS);
	return 0;
}

static int same_bits(double a, double b)
{
	return memcmp(&a, &b, sizeof(a)) == 0 || (isnan(a) && isnan(b));
}

/* Evaluate q over both stores; 1 when the answers are identical. */
static int same_answer(const char *q, int64_t start, int64_t end, int64_t step, size_t *points)
{
	struct pq_expr *e;
	char err[512];
	if (pq_parse(q, &e, err, sizeof(err)) < 0) {
		printf("parse %s: %s\n", q, err);
		return 0;
	}
	struct pq_result a, b;
	int ra = pq_eval_range(&ts, e, start, end, step, NULL, &a, err, sizeof(err));
	int rb = pq_eval_range(&ms, e, start, end, step, NULL, &b, err, sizeof(err));
	pq_free(e);
	int ok = ra == rb;
	if (ok && ra == 0) {
		ok = a.n == b.n;
		for (size_t i = 0; ok && i < a.n; i++) {
			const struct pq_series *x = &a.series[i], *y = &b.series[i];
			ok = labels_cmp(x->labels, y->labels) == 0 && x->n == y->n;
			for (size_t k = 0; ok && k < x->n; k++) {
				ok = x->t[k] == y->t[k] && same_bits(x->v[k], y->v[k]);
				if (!ok)
					printf("  series %s point %zu: t %lld/%lld v %.17g/%.17g\n",
					    labels_get(x->labels, "i"), k, (long long)x->t[k],
					    (long long)y->t[k], x->v[k], y->v[k]);
			}
			if (ok && (labels_cmp(x->labels, y->labels) != 0 || x->n != y->n))
				printf("  series %zu: points %zu/%zu\n", i, x->n, y->n);
			*points += x->n;
		}
	}
	if (!ok)
		printf("differs: %s start=%lld end=%lld step=%lld (rc %d/%d, series %zu/%zu)\n", q,
		    (long long)start, (long long)end, (long long)step, ra, rb, ra ? 0 : a.n, rb ? 0 : b.n);
	if (ra == 0)
		pq_result_free(&a);
	if (rb == 0)
		pq_result_free(&b);
	return ok;
}

T_TEST(range_queries_match_memstore)
{
	static const char *qs[] = {
		"m", "m offset 7m", "m @ 1700005000", "timestamp(m)", "rate(m[1m])",
		"rate(m[5m])", "increase(m[30s])", "irate(m[2m])", "resets(m[3m])",
		"count_over_time(m[45s] offset 2m)", "last_over_time(m[10m])",
		"max_over_time(rate(m[1m])[10m:1m])", "sum by (g) (rate(m[2m]))",
		"m + ignoring(i) group_left sum by (g) (m)", "rate(m[1m] @ end())",
		"sum_over_time(m[5m:33s])", "m offset -5m", "changes(m[20m])",
		"topk(3, m)", "avg_over_time(m[90s])", "deriv(m[10m])",
	};
	/* start offset from T0, span, step; some aligned, most not */
	static const int64_t rs[][3] = {
		{ 0, SPAN_MS, 10000 }, { 333000, 7200000, 77000 }, { 1000, SPAN_MS, 1234000 },
		{ -600000, SPAN_MS + 1200000, 3601000 }, { 5000000, 0, 60000 },
		{ 2000000, 9000000, 299000 }, { 2000000, 9000000, 301000 },
		{ 4500000, 2000000, 15000 }, { 10500000, 4000000, 600000 },
		{ 3 * 3600000LL - 900000, 1800000, 59000 }, { 3 * 3600000LL, 2 * 3600000LL, 321000 },
	};
	size_t points = 0, bad = 0;
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		for (size_t k = 0; k < sizeof(rs) / sizeof(rs[0]); k++)
			if (!same_answer(qs[i], T0 + rs[k][0], T0 + rs[k][0] + rs[k][1], rs[k][2], &points))
				bad++;
	T_EQ_INT(bad, 0);
	/* the comparison saw real answers */
	T_CHECK(points > 100000);
	T_EQ_INT(rejected, 0);
}

int main(void)
{
	if (setup() < 0) {
		printf("FAIL setup\n");
		return 1;
	}
	T_RUN(range_queries_match_memstore);
	ts.ops->close(ts.impl);
	ms.ops->close(ms.impl);
	tsdb_rmtree(tmpdir);
	return t_done();
}
