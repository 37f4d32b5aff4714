/*
 * qbench.c — one range query against a data directory, in one process, for
 * profiling the engine and the store's read path without HTTP or IPC in the
 * way (perf record / valgrind --tool=callgrind on this, not on `vigil serve`).
 *
 *   cc ... -o qbench bench/promql/qbench.c build/rel/libvigil.a $(LIBS)
 *   qbench DIR QUERY START END STEP [RUNS]
 *
 * Runs the query RUNS times through promapi_handle (engine + JSON body, as
 * the store worker does it) and prints the median CPU time of one run and
 * the size of the body. START and END in seconds, STEP in seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/promapi.h"
#include "core/buf.h"
#include "tsdb/storage.h"
#include "tsdb/tsdb.h"

#define QBENCH_RUNS_MAX 1000	/* cap on RUNS */

static double cpu_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: qbench DIR QUERY START END STEP [RUNS]\n");
		return 2;
	}
	int runs = argc > 6 ? atoi(argv[6]) : 5;
	if (runs < 1 || runs > QBENCH_RUNS_MAX)
		runs = 5;
	struct tsdb_options o;
	tsdb_options_default(&o);
	o.dir = argv[1];
	o.read_only = 1;
	o.retention_ms = 0;
	char err[512];
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db) {
		fprintf(stderr, "qbench: %s\n", err);
		return 1;
	}
	struct storage st;
	tsdb_storage(db, &st);
	char qs[4096];
	struct buf q;
	buf_init(&q, sizeof(qs));
	buf_adds(&q, "query=");
	for (const char *c = argv[2]; *c; c++) {
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9'))
			buf_addc(&q, *c);
		else
			buf_printf(&q, "%%%02X", (unsigned char)*c);
	}
	snprintf(qs, sizeof(qs), "%s&start=%s&end=%s&step=%s", q.data, argv[3], argv[4], argv[5]);
	buf_free(&q);
	double t[QBENCH_RUNS_MAX];
	size_t len = 0;
	int status = 0;
	for (int i = 0; i < runs; i++) {
		struct promapi_request rq = { .method = "GET", .path = "/query_range",
			.max_samples = 500000000 };
		promapi_parse_request(&rq, qs, strlen(qs), NULL, 0, NULL);
		struct buf body;
		buf_init(&body, BUF_CAP_HTTP_BODY);
		double t0 = cpu_s();
		promapi_handle(&st, &rq, &body, &status);
		t[i] = cpu_s() - t0;
		len = body.len;
		if (i == 0 && getenv("QBENCH_OUT")) {
			FILE *f = fopen(getenv("QBENCH_OUT"), "w");
			if (f) {
				fwrite(body.data, 1, body.len, f);
				fclose(f);
			}
		}
		buf_free(&body);
		promapi_request_free(&rq);
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_d);
	printf("%-60s status %d body %zu bytes  cpu p50 %.2f ms\n", argv[2], status, len,
	    t[runs / 2] * 1e3);
	st.ops->close(st.impl);
	return 0;
}
