/*
 * tsdb_bench.c — a release-built driver for bench/tsdb/run.sh (never part of
 * make test):
 *   tsdb_bench tsdb ...                     the `vigil tsdb` CLI
 *   tsdb_bench ingest DIR SERIES STEPS [nowal|batch]
 *       append SERIES x STEPS samples (15 s apart, counter-like values),
 *       print samples/s and head RSS per series, then time three selects.
 *   tsdb_bench query DIR EXPR START_MS END_MS STEP_MS
 *       evaluate a PromQL range query over a store opened read-only, print
 *       its series, points and CPU seconds (best of 3)
 *   tsdb_bench scan DIR
 *       select every series over all time from a store opened read-only
 *       (every chunk decoded) and print samples per CPU second.
 */
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/clock.h"
#include "core/log.h"
#include "promql/promql.h"
#include "tsdb/tsdb.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;
	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "VmRSS:", 6))
			kib = strtol(line + 6, NULL, 10);
	if (f)
		fclose(f);
	return kib;
}

/* Time one select; print series and samples returned. */
static void time_query(struct tsdb *db, const char *what, enum match_type t1, const char *n1,
    const char *v1, enum match_type t2, const char *n2, const char *v2)
{
	struct storage st;
	struct storage_result r;
	struct matcher ms[2];
	char err[256];
	tsdb_storage(db, &st);
	matcher_init(&ms[0], t1, n1, v1, err, sizeof(err));
	matcher_init(&ms[1], t2, n2, v2, err, sizeof(err));
	int64_t t0 = clock_mono_ns();
	st.ops->select(st.impl, ms, 2, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err));
	double ms_taken = (double)(clock_mono_ns() - t0) / 1e6;
	size_t n = 0;
	for (size_t i = 0; i < r.n; i++)
		n += r.series[i].n;
	printf("query %-40s %7zu series %9zu samples %8.1f ms\n", what, r.n, n, ms_taken);
	storage_result_free(&r);
	matcher_free(&ms[0]);
	matcher_free(&ms[1]);
}

static int ingest(const char *dir, long nseries, long steps, int mode)
{
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = dir;
	o.no_wal = mode == 1;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	struct labels **ls = calloc((size_t)nseries, sizeof(*ls));
	for (long i = 0; i < nseries; i++) {
		char inst[32], cpu[16];
		struct labels_builder lb;
		lb_init(&lb);
		snprintf(inst, sizeof(inst), "host%05ld:9100", i / 64);
		snprintf(cpu, sizeof(cpu), "%ld", i % 64 / 8);
		lb_set(&lb, "__name__", "node_cpu_seconds_total");
		lb_set(&lb, "instance", inst);
		lb_set(&lb, "job", "node");
		lb_set(&lb, "cpu", cpu);
		static const char *modes[] = { "user", "system", "idle", "iowait", "irq", "softirq",
			"steal", "nice" };
		lb_set(&lb, "mode", modes[i % 8]);
		ls[i] = lb_finish(&lb);
		lb_free(&lb);
	}
	long rss0 = rss_kib();
	int64_t t0 = clock_mono_ns();
	double v;	/* per-series counters in hundredths, as parsed from "1000.25" */
	struct batch b;
	struct buf enc;
	batch_init(&b);
	buf_init(&enc, BATCH_MAX_BYTES);
	for (long k = 0; k < steps; k++) {
		for (long i = 0; i < nseries; i++) {
			v = (double)(i * 100000 + k * (i % 1500) + (k * 13 + i) % 7) / 100.0;
			int64_t t = 1700000000000 + k * 15000 + (i % 7);
			if (mode == 2) {
				/* Batches of 1000 samples, as a poller would send them. */
				batch_add(&b, ls[i], t, v);
				if (b.n == 1000 || i == nseries - 1) {
					size_t a, r;
					buf_reset(&enc);
					batch_encode(&b, &enc);
					tsdb_append_batch(db, enc.data, enc.len, &a, &r);
					batch_reset(&b);
				}
			} else if (tsdb_append(db, ls[i], t, v) != 0) {
				fprintf(stderr, "append failed\n");
				return 1;
			}
		}
	}
	batch_free(&b);
	buf_free(&enc);
	tsdb_commit(db);
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	long rss1 = rss_kib();
	struct tsdb_stats st;
	tsdb_stats(db, &st);
	static const char *modes[] = { "per-sample append, wal on", "per-sample append, wal off",
		"batches of 1000, wal on" };
	printf("ingest: %ld series x %ld steps = %ld samples in %.2f s: %.0f samples/s (%s)\n",
	    nseries, steps, nseries * steps, secs, (double)(nseries * steps) / secs, modes[mode]);
	printf("head: %.0f bytes RSS per series (RSS %ld -> %ld KiB, labels held by the bench excluded)\n",
	    (double)(rss1 - rss0) * 1024 / (double)nseries, rss0, rss1);
	time_query(db, "{mode=\"idle\",cpu=\"3\"}", MATCH_EQ, "mode", "idle", MATCH_EQ, "cpu", "3");
	time_query(db, "{instance=\"host00042:9100\",mode!=\"idle\"}", MATCH_EQ, "instance",
	    "host00042:9100", MATCH_NE, "mode", "idle");
	time_query(db, "{instance=~\"host0001.:9100\",cpu=~\"1|2\"}", MATCH_RE, "instance",
	    "host0001.:9100", MATCH_RE, "cpu", "1|2");
	for (long i = 0; i < nseries; i++)
		free(ls[i]);
	free(ls);
	tsdb_close(db);
	return 0;
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Decode everything in dir once (after one warm-up pass over the page cache). */
static int scan(const char *dir)
{
	struct tsdb_options o;
	struct storage st;
	struct storage_result r;
	struct matcher m;
	char err[256];
	tsdb_options_default(&o);
	o.dir = dir;
	o.read_only = 1;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	tsdb_storage(db, &st);
	matcher_init(&m, MATCH_RE, "__name__", ".+", err, sizeof(err));
	double best = 0;
	size_t n = 0, ns = 0;
	for (int pass = 0; pass < 2; pass++) {
		double c0 = cpu_seconds();
		if (st.ops->select(st.impl, &m, 1, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err)) < 0) {
			fprintf(stderr, "select: %s\n", err);
			return 1;
		}
		double c = cpu_seconds() - c0;
		n = 0;
		for (size_t i = 0; i < r.n; i++)
			n += r.series[i].n;
		ns = r.n;
		storage_result_free(&r);
		if (pass == 1)
			best = c;
	}
	printf("scan: %zu series, %zu samples decoded in %.2f CPU s: %.0f samples/s\n", ns, n,
	    best, best > 0 ? (double)n / best : 0.0);
	matcher_free(&m);
	tsdb_close(db);
	return 0;
}

static int query(const char *dir, const char *expr, int64_t start, int64_t end, int64_t step)
{
	struct tsdb_options o;
	struct storage st;
	struct pq_expr *e;
	char err[256];
	tsdb_options_default(&o);
	o.dir = dir;
	o.read_only = 1;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db || pq_parse(expr, &e, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	tsdb_storage(db, &st);
	double best = 1e9;
	size_t ns = 0, np = 0;
	for (int pass = 0; pass < 3; pass++) {
		struct pq_result r;
		double c0 = cpu_seconds();
		if (pq_eval_range(&st, e, start, end, step, NULL, &r, err, sizeof(err)) != 0) {
			fprintf(stderr, "%s\n", err);
			return 1;
		}
		double c = cpu_seconds() - c0;
		best = c < best ? c : best;
		ns = r.n;
		np = 0;
		for (size_t i = 0; i < r.n; i++)
			np += r.series[i].n;
		pq_result_free(&r);
	}
	struct tsdb_stats s;
	tsdb_stats(db, &s);
	printf("query %s: %zu series, %zu points, %.4f CPU s (tier selects %llu)\n", expr, ns, np,
	    best, (unsigned long long)s.tier_selects);
	pq_free(e);
	tsdb_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	log_setup(LOG_WARN, "bench");
	if (argc > 1 && !strcmp(argv[1], "tsdb"))
		return tsdb_cli_main(argc - 1, argv + 1);
	if (argc >= 5 && !strcmp(argv[1], "ingest"))
		return ingest(argv[2], atol(argv[3]), atol(argv[4]),
		    argc > 5 ? (!strcmp(argv[5], "nowal") ? 1 : !strcmp(argv[5], "batch") ? 2 : 0) : 0);
	if (argc == 7 && !strcmp(argv[1], "query"))
		return query(argv[2], argv[3], atoll(argv[4]), atoll(argv[5]), atoll(argv[6]));
	if (argc == 3 && !strcmp(argv[1], "scan"))
		return scan(argv[2]);
	fprintf(stderr, "usage: tsdb_bench tsdb ... | ingest DIR SERIES STEPS [nowal|batch] | scan DIR\n");
	return 2;
}
