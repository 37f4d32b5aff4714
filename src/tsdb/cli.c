/*
 * cli.c — `vigil tsdb import|analyze|dump|delete`, and the hidden `stress` used by
 * tests/integration/tsdb_crash.sh. See tsdb_cli_main() in tsdb.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "tsdb/fileutil.h"
#include "tsdb/importparse.h"
#include "tsdb/tsdb.h"
#include "tsdb/tsdb_int.h"

#define CLI_MATCHERS_MAX 32		/* matchers on a dump command line */
#define IMPORT_FILE_MAX ((uint64_t)64 << 30)	/* bytes of one import file */

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil tsdb import [-d DIR] [--span DURATION] [--downsample-after DURATION|never] FILE\n"
	    "       vigil tsdb analyze DIR\n"
	    "       vigil tsdb dump DIR [--min-time MS] [--max-time MS] [MATCHER...]\n"
	    "       vigil tsdb delete DIR --min-time MS --max-time MS MATCHER... (store stopped)\n"
	    "MATCHER: metric_name | label=\"v\" | label!=\"v\" | label=~\"re\" | label!~\"re\"\n");
}

#define CLI_DOWNSAMPLE_DEFAULT INT64_MIN	/* cli_open: keep tsdb_options' default */

static struct tsdb *cli_open(const char *dir, int read_only, int no_wal, int64_t span,
    int64_t downsample_after)
{
	struct tsdb_options o;
	char err[512];
	tsdb_options_default(&o);
	o.dir = dir;
	o.read_only = read_only;
	o.no_wal = no_wal;
	o.retention_ms = 0;
	if (span > 0)
		o.block_span_ms = span;
	if (downsample_after != CLI_DOWNSAMPLE_DEFAULT)
		o.downsample_after_ms = downsample_after;
	struct tsdb *db = tsdb_open(&o, err, sizeof(err));
	if (!db)
		fprintf(stderr, "vigil tsdb: %s\n", err);
	return db;
}

/* ---- import ---- */

static int cmd_import(int argc, char **argv)
{
	const char *dir = "data", *file = NULL;
	int64_t span = 0, ds_after = CLI_DOWNSAMPLE_DEFAULT;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc) {
			dir = argv[++i];
		} else if (!strcmp(argv[i], "--downsample-after") && i + 1 < argc) {
			if (!strcmp(argv[++i], "never")) {
				ds_after = -1;
			} else if (clock_parse_duration(argv[i], &ds_after) < 0 || ds_after < 0) {
				fprintf(stderr, "vigil tsdb import: bad --downsample-after %s\n", argv[i]);
				return 2;
			}
		} else if (!strcmp(argv[i], "--span") && i + 1 < argc) {
			if (clock_parse_duration(argv[++i], &span) < 0 || span <= 0) {
				fprintf(stderr, "vigil tsdb import: bad --span %s\n", argv[i]);
				return 2;
			}
		} else if (argv[i][0] == '-' || file) {
			usage(stderr);
			return 2;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "vigil tsdb import: %s: %s\n", file, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	if ((uint64_t)st.st_size > IMPORT_FILE_MAX) {
		fprintf(stderr, "vigil tsdb import: %s: larger than %" PRIu64 " bytes\n", file,
		    IMPORT_FILE_MAX);
		close(fd);
		return 1;
	}
	size_t size = (size_t)st.st_size;
	const char *data = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : "";
	close(fd);
	if (data == MAP_FAILED) {
		fprintf(stderr, "vigil tsdb import: %s: %s\n", file, strerror(errno));
		return 1;
	}
	/* Blocks newer than a live store's WAL would hide that WAL's samples. */
	char walpath[4096];
	snprintf(walpath, sizeof(walpath), "%s/wal", dir);
	if (tsdb_du(walpath) > 0) {
		fprintf(stderr, "vigil tsdb import: %s has a WAL (a live store?); import into a new "
		    "directory and move its blk-* directories in while the store is stopped\n", dir);
		if (size)
			munmap((void *)(uintptr_t)data, size);
		return 1;
	}
	struct tsdb *db = cli_open(dir, 0, 1, span, ds_after);
	if (!db) {
		if (size)
			munmap((void *)(uintptr_t)data, size);
		return 1;
	}
	struct importparse ip;
	importparse_init(&ip, data, size);
	char err[512];
	struct labels *ls;
	int64_t t;
	double v;
	int rc, status = 0;
	uint64_t n = 0;
	struct labels *cur = NULL;	/* labels of the current run of lines */
	void *ref = NULL;		/* its head series */
	int same;
	while ((rc = importparse_next_same(&ip, &ls, &same, &t, &v, err, sizeof(err))) == 1) {
		if (!same) {
			labels_free(cur);
			cur = ls;
			ref = NULL;
		}
		ls = cur;
		int arc = tsdb_append_ref(db, ls, &ref, t, v);
		if (arc < 0) {
			struct buf b;
			buf_init(&b, 4096);
			labels_format(ls, &b);
			fprintf(stderr, "vigil tsdb import: %s:%zu: %s: %s\n", file, ip.line,
			    b.data ? b.data : "",
			    arc == -ERANGE ? "sample out of order or older than existing blocks" :
			    arc == -EEXIST ? "another value at the same timestamp" : strerror(-arc));
			buf_free(&b);
			status = 1;
			break;
		}
		n++;
	}
	labels_free(cur);
	if (rc < 0) {
		const char *msg = strstr(err, ": ");
		fprintf(stderr, "vigil tsdb import: %s:%zu: %s\n", file, ip.line, msg ? msg + 2 : err);
		status = 1;
	}
	importparse_free(&ip);
	if (size)
		munmap((void *)(uintptr_t)data, size);
	if (status == 0) {
		struct tsdb_stats s0, s1;
		tsdb_stats(db, &s0);
		if (tsdb_flush_head(db, err, sizeof(err)) < 0) {
			fprintf(stderr, "vigil tsdb import: %s\n", err);
			status = 1;
		} else {
			/* Nothing more will be appended, so every window is finished:
			 * compact the new blocks (and build the tiers that are due)
			 * until maintenance finds nothing more to do. */
			db->head->min_valid = INT64_MAX;
			for (int i = 0; i < 100000; i++) {
				struct tsdb_stats s2;
				tsdb_stats(db, &s1);
				tsdb_maintain(db);
				tsdb_stats(db, &s2);
				if (s2.compactions == s1.compactions && s2.tier_builds == s1.tier_builds)
					break;
			}
			tsdb_stats(db, &s1);
			printf("imported %" PRIu64 " samples of %" PRIu64 " series into %s "
			    "(%" PRIu64 " blocks, %" PRIu64 " bytes)\n", n, s0.head_series, dir,
			    s1.blocks, s1.block_bytes);
		}
	}
	tsdb_close(db);
	return status;
}

/* ---- analyze ---- */

struct card {
	char *name;	/* label name or metric name (owned) */
	size_t n;	/* distinct values or series */
};

static int cmp_card(const void *a, const void *b)
{
	const struct card *x = a, *y = b;
	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int cmd_analyze(int argc, char **argv)
{
	if (argc != 2) {
		usage(stderr);
		return 2;
	}
	struct tsdb *db = cli_open(argv[1], 1, 0, 0, CLI_DOWNSAMPLE_DEFAULT);
	if (!db)
		return 1;
	struct tsdb_stats st;
	struct storage s;
	tsdb_stats(db, &st);
	tsdb_storage(db, &s);
	uint64_t samples = st.block_samples + st.head_samples;
	printf("Blocks: %" PRIu64 "  (%" PRIu64 " bytes, %" PRIu64 " samples, %.3f bytes/sample)\n",
	    st.blocks, st.block_bytes, st.block_samples,
	    st.block_samples ? (double)st.block_bytes / (double)st.block_samples : 0.0);
	printf("Head: %" PRIu64 " series, %" PRIu64 " samples, %" PRIu64 " chunks; WAL %" PRIu64
	    " bytes\n", st.head_series, st.head_samples, st.head_chunks, st.wal_bytes);
	char **names;
	size_t nn;
	s.ops->label_names(s.impl, NULL, 0, INT64_MIN, INT64_MAX, &names, &nn);
	struct card *cards = xcalloc(nn + 1, sizeof(*cards));
	for (size_t i = 0; i < nn; i++) {
		char **vals;
		size_t nv;
		s.ops->label_values(s.impl, names[i], NULL, 0, INT64_MIN, INT64_MAX, &vals, &nv);
		cards[i] = (struct card){ xstrdup(names[i]), nv };
		storage_strings_free(vals, nv);
	}
	struct storage_result r;
	char err[256];
	s.ops->select(s.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err));
	printf("Series: %zu\nSamples: %" PRIu64 "\n", r.n, samples);
	if (st.mint <= st.maxt)
		printf("Time range: %" PRId64 " .. %" PRId64 " ms (%.1f h)\n", st.mint, st.maxt,
		    (double)(st.maxt - st.mint) / 3.6e6);
	qsort(cards, nn, sizeof(*cards), cmp_card);
	printf("\nHighest label cardinality (distinct values):\n");
	for (size_t i = 0; i < nn && i < 10; i++)
		printf("  %8zu %s\n", cards[i].n, cards[i].name);
	/* Series per metric name. */
	struct card *metrics = xcalloc(r.n + 1, sizeof(*metrics));
	size_t nm = 0;
	for (size_t i = 0; i < r.n; i++) {
		const char *m = labels_get(r.series[i].labels, "__name__");
		m = m ? m : "";
		if (nm && !strcmp(metrics[nm - 1].name, m))
			metrics[nm - 1].n++;
		else
			metrics[nm++] = (struct card){ xstrdup(m), 1 };
	}
	qsort(metrics, nm, sizeof(*metrics), cmp_card);
	printf("\nMost series per metric name:\n");
	for (size_t i = 0; i < nm && i < 10; i++)
		printf("  %8zu %s\n", metrics[i].n, metrics[i].name);
	for (size_t i = 0; i < nm; i++)
		free(metrics[i].name);
	for (size_t i = 0; i < nn; i++)
		free(cards[i].name);
	free(metrics);
	free(cards);
	storage_result_free(&r);
	storage_strings_free(names, nn);
	tsdb_close(db);
	return 0;
}

/* ---- dump ---- */

/* Parse `name`, or `label OP "value"` into m. 0 or -1 with err. */
static int parse_matcher(const char *s, struct matcher *m, char *err, size_t errsz)
{
	size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_:");
	if (n && !s[n])
		return matcher_init(m, MATCH_EQ, "__name__", s, err, errsz);
	if (!n) {
		snprintf(err, errsz, "bad matcher %s", s);
		return -1;
	}
	char *name = xstrndup(s, n);
	const char *p = s + n;
	enum match_type type;
	if (!strncmp(p, "=~", 2))
		type = MATCH_RE, p += 2;
	else if (!strncmp(p, "!~", 2))
		type = MATCH_NRE, p += 2;
	else if (!strncmp(p, "!=", 2))
		type = MATCH_NE, p += 2;
	else if (*p == '=')
		type = MATCH_EQ, p += 1;
	else {
		snprintf(err, errsz, "bad matcher %s: expected =, !=, =~ or !~", s);
		free(name);
		return -1;
	}
	struct buf v;
	buf_init(&v, LABEL_VALUE_MAX);
	int rc = -1;
	if (*p++ != '"')
		goto out;
	while (*p && *p != '"') {
		char c = *p++;
		if (c == '\\' && *p) {
			c = *p++;
			c = c == 'n' ? '\n' : c;
		}
		buf_addc(&v, c);
	}
	if (*p != '"' || p[1])
		goto out;
	rc = matcher_init(m, type, name, v.data ? v.data : "", err, errsz);
out:
	if (rc < 0 && !err[0])
		snprintf(err, errsz, "bad matcher %s: value must be in double quotes", s);
	free(name);
	buf_free(&v);
	return rc;
}

static void fmt_value(double v, char *b, size_t n)
{
	if (isnan(v))
		snprintf(b, n, "NaN");
	else if (isinf(v))
		snprintf(b, n, v > 0 ? "+Inf" : "-Inf");
	else
		snprintf(b, n, "%.17g", v);
}

/* `dump` prints the matching samples; `delete` (del = 1) deletes them. */
static int cmd_dump(int argc, char **argv, int del)
{
	const char *dir = NULL;
	int64_t mint = INT64_MIN, maxt = INT64_MAX;
	struct matcher ms[CLI_MATCHERS_MAX];
	size_t nm = 0;
	char err[512] = "";
	int status = 0;
	for (int i = 1; i < argc && status == 0; i++) {
		if ((!strcmp(argv[i], "--min-time") || !strcmp(argv[i], "--max-time")) &&
		    i + 1 < argc) {
			char *end;
			errno = 0;
			long long x = strtoll(argv[i + 1], &end, 10);
			if (errno || end == argv[i + 1] || *end) {
				fprintf(stderr, "vigil tsdb %s: %s wants milliseconds, not \"%s\"\n",
				    del ? "delete" : "dump", argv[i], argv[i + 1]);
				status = 2;
			}
			*(argv[i][2] == 'm' && argv[i][3] == 'i' ? &mint : &maxt) = x;
			i++;
		} else if (!dir)
			dir = argv[i];
		else if (nm == CLI_MATCHERS_MAX) {
			fprintf(stderr, "vigil tsdb dump: more than %d matchers\n", CLI_MATCHERS_MAX);
			status = 2;
		} else if (parse_matcher(argv[i], &ms[nm], err, sizeof(err)) < 0) {
			fprintf(stderr, "vigil tsdb dump: %s\n", err);
			status = 2;
		} else {
			nm++;
		}
	}
	if (status == 0 && (!dir || (del && (nm == 0 || mint == INT64_MIN || maxt == INT64_MAX)))) {
		usage(stderr);
		status = 2;
	}
	struct tsdb *db = status ? NULL : cli_open(dir, !del, 0, 0, CLI_DOWNSAMPLE_DEFAULT);
	if (!db && status == 0)
		status = 1;
	if (db && del) {
		if (tsdb_delete(db, ms, nm, mint, maxt, err, sizeof(err)) < 0) {
			fprintf(stderr, "vigil tsdb delete: %s\n", err);
			status = 1;
		}
		tsdb_close(db);
		db = NULL;
	}
	if (db) {
		struct storage s;
		struct storage_result r;
		tsdb_storage(db, &s);
		s.ops->select(s.impl, ms, nm, mint, maxt, NULL, &r, err, sizeof(err));
		struct buf b;
		buf_init(&b, (size_t)1 << 24);
		for (size_t i = 0; i < r.n; i++) {
			buf_reset(&b);
			labels_format(r.series[i].labels, &b);
			for (size_t k = 0; k < r.series[i].n; k++) {
				char vb[64];
				fmt_value(r.series[i].v[k], vb, sizeof(vb));
				printf("%s %s %" PRId64 "\n", b.data, vb, r.series[i].t[k]);
			}
		}
		buf_free(&b);
		storage_result_free(&r);
		tsdb_close(db);
	}
	for (size_t i = 0; i < nm; i++)
		matcher_free(&ms[i]);
	return status;
}

/* ---- stress (crash testing) ---- */

/* The value stress writes for series i at step k: exact, varied bits. */
static double stress_value(unsigned i, int64_t k)
{
	if (k % 97 == 13)
		return -0.0;	/* sign bit only; below, the staleness NaN */
	if (k % 89 == 7) {
		uint64_t bits = 0x7ff0000000000002ull;
		double d;
		memcpy(&d, &bits, 8);
		return d;
	}
	return (double)(k * 7 + i) / (i % 3 ? 10.0 : 1.0) + (i % 5 == 0 ? 1e-3 * (double)k : 0);
}

static struct labels *stress_labels(unsigned i)
{
	char v[16];
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "__name__", i % 2 ? "stress_a" : "stress_b");
	snprintf(v, sizeof(v), "%u", i);
	lb_set(&lb, "series", v);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

/* Append forever (until killed), printing "committed K" after each step's commit;
 * with --verify K instead check every step <= K is stored exactly. */
static int cmd_stress(int argc, char **argv)
{
	const char *dir = NULL;
	unsigned nseries = 50;
	int64_t verify = -1, steps = INT64_MAX;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-d") && i + 1 < argc)
			dir = argv[++i];
		else if (!strcmp(argv[i], "--series") && i + 1 < argc)
			nseries = (unsigned)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--verify") && i + 1 < argc)
			verify = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--steps") && i + 1 < argc)
			steps = strtoll(argv[++i], NULL, 10);
		else {
			fprintf(stderr, "usage: vigil tsdb stress -d DIR [--series N] [--steps N] [--verify K]\n");
			return 2;
		}
	}
	if (!dir || nseries == 0 || nseries > 100000)
		return 2;
	/* A 10 s span over 1 s steps: cuts, checkpoints and compactions happen
	 * every few dozen steps, so kills land in all of them. */
	struct tsdb *db = cli_open(dir, 0, 0, 10000, CLI_DOWNSAMPLE_DEFAULT);
	if (!db)
		return 1;
	struct storage s;
	struct storage_result r;
	char err[256];
	tsdb_storage(db, &s);
	s.ops->select(s.impl, NULL, 0, INT64_MIN, INT64_MAX, NULL, &r, err, sizeof(err));
	int64_t next = 0;
	for (size_t i = 0; i < r.n; i++)
		if (r.series[i].n && r.series[i].t[r.series[i].n - 1] / 1000 + 1 > next)
			next = r.series[i].t[r.series[i].n - 1] / 1000 + 1;
	if (verify >= 0) {
		int bad = 0;
		size_t found = 0;
		for (size_t i = 0; i < r.n && bad < 5; i++) {
			const char *sid = labels_get(r.series[i].labels, "series");
			unsigned id = sid ? (unsigned)strtoul(sid, NULL, 10) : UINT32_MAX;
			const struct storage_series *ss = &r.series[i];
			for (size_t k = 0; k < ss->n; k++) {
				double want = stress_value(id, ss->t[k] / 1000);
				if (memcmp(&want, &ss->v[k], 8) != 0 || ss->t[k] % 1000) {
					printf("FAIL series %u t=%" PRId64 ": wrong value\n", id, ss->t[k]);
					bad++;
				}
			}
			/* Every committed step 0..verify must be there. */
			size_t have = 0;
			for (size_t k = 0; k < ss->n; k++)
				have += ss->t[k] / 1000 <= verify;
			if (have != (size_t)(verify + 1)) {
				printf("FAIL series %u: %zu of %" PRId64 " committed samples\n", id, have,
				    verify + 1);
				bad++;
			}
			found++;
		}
		if (verify >= 0 && found != nseries && !bad) {
			printf("FAIL %zu of %u series present\n", found, nseries);
			bad++;
		}
		storage_result_free(&r);
		tsdb_close(db);
		return bad ? 1 : 0;
	}
	storage_result_free(&r);
	struct labels **ls = xcalloc(nseries, sizeof(*ls));
	for (unsigned i = 0; i < nseries; i++)
		ls[i] = stress_labels(i);
	int status = 0;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* Redo the newest stored step: a crash may have cut it short (appending
	 * an identical sample again is a no-op). */
	int64_t first = next > 0 ? next - 1 : 0;
	for (int64_t n = 0; n < steps && status == 0; n++) {
		int64_t k = first + n;
		for (unsigned i = 0; i < nseries && status == 0; i++) {
			int rc = tsdb_append(db, ls[i], k * 1000, stress_value(i, k));
			if (rc < 0) {
				fprintf(stderr, "append: %s\n", strerror(-rc));
				status = 1;
			}
		}
		if (status == 0 && tsdb_commit(db) == 0)
			printf("committed %" PRId64 "\n", k);
		tsdb_maintain(db);
	}
	for (unsigned i = 0; i < nseries; i++)
		labels_free(ls[i]);
	free(ls);
	tsdb_close(db);
	return status;
}

int tsdb_cli_main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (!strcmp(argv[1], "import"))
		return cmd_import(argc - 1, argv + 1);
	if (!strcmp(argv[1], "analyze"))
		return cmd_analyze(argc - 1, argv + 1);
	if (!strcmp(argv[1], "dump"))
		return cmd_dump(argc - 1, argv + 1, 0);
	if (!strcmp(argv[1], "delete"))
		return cmd_dump(argc - 1, argv + 1, 1);
	if (!strcmp(argv[1], "stress"))
		return cmd_stress(argc - 1, argv + 1);
	fprintf(stderr, "vigil tsdb: unknown command %s\n", argv[1]);
	usage(stderr);
	return 2;
}
