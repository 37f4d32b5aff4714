/*
 * tsdb_bench.c — a release-built driver for bench/tsdb/run.sh (never part of
 * make test):
 *   tsdb_bench tsdb ...                     the `vigil tsdb` CLI
 *   tsdb_bench ingest DIR SERIES STEPS [nowal]
 *       append SERIES x STEPS samples (15 s apart, counter-like values) and
 *       print samples/s and head RSS per series.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
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

static int ingest(const char *dir, long nseries, long steps, int nowal)
{
	struct tsdb_options o;
	char err[256];
	tsdb_options_default(&o);
	o.dir = dir;
	o.no_wal = nowal;
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
	double v = 1000;
	for (long k = 0; k < steps; k++) {
		for (long i = 0; i < nseries; i++) {
			v += (double)((i * 7 + k * 13) % 1500) / 100.0;
			if (tsdb_append(db, ls[i], 1700000000000 + k * 15000 + (i % 7), v) != 0) {
				fprintf(stderr, "append failed\n");
				return 1;
			}
		}
	}
	tsdb_commit(db);
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	long rss1 = rss_kib();
	struct tsdb_stats st;
	tsdb_stats(db, &st);
	printf("ingest: %ld series x %ld steps = %ld samples in %.2f s: %.0f samples/s (wal %s)\n",
	    nseries, steps, nseries * steps, secs, (double)(nseries * steps) / secs,
	    nowal ? "off" : "on");
	printf("head: %.0f bytes RSS per series (RSS %ld -> %ld KiB, labels held by the bench excluded)\n",
	    (double)(rss1 - rss0) * 1024 / (double)nseries, rss0, rss1);
	for (long i = 0; i < nseries; i++)
		free(ls[i]);
	free(ls);
	tsdb_close(db);
	return 0;
}

int main(int argc, char **argv)
{
	log_setup(LOG_WARN, "bench");
	if (argc > 1 && !strcmp(argv[1], "tsdb"))
		return tsdb_cli_main(argc - 1, argv + 1);
	if (argc >= 5 && !strcmp(argv[1], "ingest"))
		return ingest(argv[2], atol(argv[3]), atol(argv[4]), argc > 5);
	fprintf(stderr, "usage: tsdb_bench tsdb ... | ingest DIR SERIES STEPS [nowal]\n");
	return 2;
}
