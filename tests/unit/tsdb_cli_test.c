/* Tests for `vigil tsdb` (src/tsdb/cli.c, importparse.c). Run with
 * arguments, this binary is the CLI itself (`tsdb_cli_test tsdb stress ...`),
 * which tests/integration/tsdb_crash.sh uses until main.c dispatches
 * `vigil tsdb`. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "tsdb/fileutil.h"
#include "tsdb/importparse.h"
#include "tsdb/tsdb.h"
#include "t.h"

static char dir[256];

/* Parse all of s; return samples read, or -(line) of the first error. */
static long parse_all(const char *s, char *err, size_t errsz, int64_t *last_t, double *last_v)
{
	struct importparse ip;
	struct labels *ls;
	long n = 0;
	int rc;
	importparse_init(&ip, s, strlen(s));
	while ((rc = importparse_next(&ip, &ls, last_t, last_v, err, errsz)) == 1) {
		labels_free(ls);
		n++;
	}
	long line = (long)ip.line;
	importparse_free(&ip);
	return rc < 0 ? -line : n;
}

T_TEST(importparse_accepts_both_formats)
{
	char err[256];
	int64_t t;
	double v;
	T_EQ_INT(parse_all("# HELP up x\n# TYPE up gauge\nup{job=\"a\",i=\"1\"} 1 1700000000000\n"
	    "up 0.5 1700000001000\n\nother{a=\"q\\\"\\\\\\n\"} NaN 5\n", err, sizeof(err), &t, &v), 3);
	T_CHECK(isnan(v));
	T_EQ_INT(t, 5);
	/* OpenMetrics: seconds with fractions, # EOF at the end. */
	T_EQ_INT(parse_all("x_total 3 1700000000.25\nx_total +Inf 1700000001\n# EOF\n", err,
	    sizeof(err), &t, &v), 2);
	T_EQ_INT(t, 1700000001000);
	T_CHECK(isinf(v) && v > 0);
	T_EQ_INT(parse_all("x 1 1.5\n# EOF", err, sizeof(err), &t, &v), 1);
	T_EQ_INT(t, 1500);
	T_EQ_INT(parse_all("{__name__=\"y\",a=\"b\",} -2e3 7 # {trace=\"1\"} 1\n", err, sizeof(err),
	    &t, &v), 1);
	T_EQ_DBL(v, -2000, 0);
}

/* A run of lines with byte-identical series text skips label parsing;
 * any difference (even one only a prefix longer) parses again. */
T_TEST(importparse_same_series_fast_path)
{
	static const char in[] = "a{x=\"1\"} 1 10\na{x=\"1\"} 2 20\na{x=\"1\",y=\"2\"} 3 30\n"
	    "a{x=\"1\",y=\"2\"} zz 40\nab 5 50\n";
	static const int want_same[] = { 0, 1, 0 };
	struct importparse ip;
	struct labels *ls;
	char err[256];
	int64_t t;
	double v;
	int same, rc;
	importparse_init(&ip, in, strlen(in));
	for (int i = 0; i < 3; i++) {
		T_EQ_INT(importparse_next_same(&ip, &ls, &same, &t, &v, err, sizeof(err)), 1);
		T_EQ_INT(same, want_same[i]);
		T_CHECK(same ? ls == NULL : ls != NULL);
		T_EQ_INT(t, 10 * (i + 1));
		T_EQ_DBL(v, i + 1, 0);
		if (i == 2)
			T_EQ_INT(ls->n, 3);
		labels_free(ls);
	}
	/* A bad value on a repeated series is still an error with its line. */
	rc = importparse_next_same(&ip, &ls, &same, &t, &v, err, sizeof(err));
	T_EQ_INT(rc, -1);
	T_CHECK(strstr(err, "line 4: bad value") != NULL);
	importparse_free(&ip);
}

T_TEST(importparse_rejects_with_line_numbers)
{
	char err[256];
	int64_t t;
	double v;
	struct {
		const char *in;		/* input */
		long line;		/* line of the error */
		const char *why;	/* part of the message */
	} cases[] = {
		{ "up 1 5\nup 1\n", 2, "timestamp" },
		{ "up 1 5\n\nup x 5\n", 3, "bad value" },
		{ "up{a=\"b\" 1 5\n", 1, "expected , or }" },
		{ "up{a=b} 1 5\n", 1, "expected =\"" },
		{ "up{a=\"b\",a=\"c\"} 1 5\n", 1, "duplicate label" },
		{ "up 1 5 extra\n", 1, "after the timestamp" },
		{ "up 1 5.5\n", 1, "bad timestamp" },
		{ "x 1 1\n# EOF\nx 2 2\n", 3, "after # EOF" },
		{ "{a=\"b\"} 1 5\n", 1, "without a metric name" },
		{ " up 1 5\n", 1, "metric name" },
		{ "up{a=\"\\t\"} 1 5\n", 1, "bad escape" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		long r = parse_all(cases[i].in, err, sizeof(err), &t, &v);
		if (r != -cases[i].line || !strstr(err, cases[i].why))
			T_FAILF("case %zu: got %ld \"%s\"", i, r, err);
	}
}

/* Run this binary as the CLI; return its exit status and stdout. */
static int run(const char *args, char *out, size_t outsz)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "/proc/%d/exe tsdb %s 2>&1", (int)getpid(), args);
	FILE *p = popen(cmd, "r");
	size_t n = fread(out, 1, outsz - 1, p);
	out[n] = 0;
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

T_TEST(cli_import_dump_analyze_roundtrip)
{
	char path[512], args[1024];
	static char out[1 << 16];
	snprintf(path, sizeof(path), "%s/in.prom", dir);
	FILE *f = fopen(path, "w");
	/* Two series over 5 hours at 1 min: several 2 h blocks. */
	for (int s = 0; s < 2; s++)
		for (int i = 0; i < 300; i++)
			fprintf(f, "temp{room=\"r%d\"} %d.%d %lld\n", s, 20 + i % 7, i % 10,
			    1700000000000LL + i * 60000LL);
	fclose(f);
	snprintf(args, sizeof(args), "import -d %s/db %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	T_CHECK(strstr(out, "imported 600 samples of 2 series") != NULL);
	snprintf(args, sizeof(args), "dump %s/db 'room=\"r1\"' --min-time 1700000060000 "
	    "--max-time 1700000120000", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	T_EQ_STR(out, "temp{room=\"r1\"} 21.100000000000001 1700000060000\n"
	    "temp{room=\"r1\"} 22.199999999999999 1700000120000\n");
	snprintf(args, sizeof(args), "analyze %s/db", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	T_CHECK(strstr(out, "Series: 2\n") && strstr(out, "Samples: 600\n"));
	T_CHECK(strstr(out, "       2 room\n") != NULL);
	/* --downsample-after 0s gives every block its tiers. */
	snprintf(args, sizeof(args), "import -d %s/dbt --downsample-after 0s %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "ls %s/dbt/blk-*/tiers >/dev/null 2>&1", dir);
	T_EQ_INT(system(args), 0);
	snprintf(args, sizeof(args), "import -d %s/dbt2 --downsample-after soon %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 2);
	T_CHECK(strstr(out, "bad --downsample-after soon") != NULL);
	/* A bad line: the error names file and line, nothing is written. */
	f = fopen(path, "w");
	fprintf(f, "a 1 1000\na 2 2000\na 3\n");
	fclose(f);
	snprintf(args, sizeof(args), "import -d %s/db2 %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 1);
	T_CHECK(strstr(out, "in.prom:3: sample without a timestamp") != NULL);
	/* Out of order inside one series is refused with its line. */
	f = fopen(path, "w");
	fprintf(f, "a 1 2000\na 2 1000\n");
	fclose(f);
	T_EQ_INT(run(args, out, sizeof(out)), 1);
	T_CHECK(strstr(out, "in.prom:2: a{}: sample out of order") != NULL);
	snprintf(args, sizeof(args), "dump %s/db 'bad matcher'", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 2);
	snprintf(args, sizeof(args), "dump %s/db --min-time 12h", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 2);
	T_CHECK(strstr(out, "--min-time wants milliseconds") != NULL);
	/* Delete one room's samples in a range, then dump shows the rest. */
	snprintf(args, sizeof(args), "delete %s/db --min-time 1700000000000 --max-time "
	    "1700000060000 'room=\"r1\"'", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "dump %s/db 'room=\"r1\"' --max-time 1700000120000", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	T_EQ_STR(out, "temp{room=\"r1\"} 22.199999999999999 1700000120000\n");
	snprintf(args, sizeof(args), "delete %s/db 'room=\"r1\"'", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 2);	/* a time range is required */
	/* A second import into the same window adds a block, never replaces one. */
	f = fopen(path, "w");
	fprintf(f, "temp{room=\"r9\"} 5 1700017990000\n");
	fclose(f);
	snprintf(args, sizeof(args), "import -d %s/db %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "analyze %s/db", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	/* The import compacted the new block with the old one (every window is
	 * finished for an import), applying the deletion: 600 - 2 + 1. */
	T_CHECK(strstr(out, "Series: 3\n") && strstr(out, "Samples: 599\n"));
	T_CHECK(strstr(out, "Blocks: 1 ") != NULL);
	/* A live store's directory (it has a WAL) is refused. */
	snprintf(args, sizeof(args), "stress -d %s/live --series 1 --steps 1", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	snprintf(args, sizeof(args), "import -d %s/live %s", dir, path);
	T_EQ_INT(run(args, out, sizeof(out)), 1);
	T_CHECK(strstr(out, "has a WAL") != NULL);
}

T_TEST(cli_stress_verify_detects_missing_data)
{
	char args[1024];
	static char out[1 << 16];
	snprintf(args, sizeof(args), "stress -d %s/st --series 5 --steps 40", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	T_CHECK(strstr(out, "committed 39\n") != NULL);
	snprintf(args, sizeof(args), "stress -d %s/st --series 5 --verify 39", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 0);
	/* Claiming more was committed than was must fail. */
	snprintf(args, sizeof(args), "stress -d %s/st --series 5 --verify 45", dir);
	T_EQ_INT(run(args, out, sizeof(out)), 1);
	T_CHECK(strstr(out, "FAIL series") != NULL);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return tsdb_cli_main(argc - 1, argv + 1);
	log_setup(LOG_ERROR, "test");
	snprintf(dir, sizeof(dir), "/tmp/vigil-tsdb-cli-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	T_RUN(importparse_accepts_both_formats);
	T_RUN(importparse_same_series_fast_path);
	T_RUN(importparse_rejects_with_line_numbers);
	T_RUN(cli_import_dump_analyze_roundtrip);
	T_RUN(cli_stress_verify_detects_missing_data);
	tsdb_rmtree(dir);
	return t_done();
}
