/*
 * exposition_test.c — the exposition-format conformance suite.
 *
 * 1. Every case directory of testdata/exposition/openmetrics holds `metrics`
 *    and `test.json`; the case passes when textparse(TP_OPENMETRICS_STRICT)
 *    accepts the file exactly when "shouldParse" is true (a rejection must
 *    come with a "line N: reason" message). Cases listed in
 *    tests/conformance/exposition_skips.txt are skipped with their reason.
 * 2. The Prometheus example bodies (alltypes.*.prom.txt, *.om.txt) must parse
 *    and give the sample counts in tests/conformance/exposition_counts.txt.
 *
 * The test data is read in place from $VIGIL_TESTDATA (default
 * /work/shared/testdata, then ../shared/testdata).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scrape/textparse.h"

#define MAX_FILE (8u << 20)	/* largest test file we read */

static char root[1024];	/* .../testdata/exposition */
static int npass, nfail;	/* cases passed and failed */

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	char *p = NULL;
	if (!f)
		return NULL;
	p = malloc(MAX_FILE + 1);
	*n = fread(p, 1, MAX_FILE, f);
	p[*n] = 0;
	fclose(f);
	return p;
}

static int count_sample(void *ctx, const struct tp_sample *s)
{
	(void)s;
	(*(size_t *)ctx)++;
	return 0;
}

static void find_root(void)
{
	const char *env = getenv("VIGIL_TESTDATA");
	const char *cands[] = { env, "/work/shared/testdata", "../shared/testdata", "../../shared/testdata" };
	struct stat st;
	for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
		if (!cands[i])
			continue;
		snprintf(root, sizeof(root), "%s/exposition", cands[i]);
		if (stat(root, &st) == 0 && S_ISDIR(st.st_mode))
			return;
	}
	root[0] = 0;
}

/* Return the reason a case is skipped, or NULL. */
static const char *skip_reason(const char *name)
{
	static char line[1024];
	FILE *f = fopen("tests/conformance/exposition_skips.txt", "r");
	const char *r = NULL;
	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(name);
		if (line[0] == '#' || strncmp(line, name, n) != 0 || line[n] != ' ')
			continue;
		line[strcspn(line, "\n")] = 0;
		r = line + n + 1;
		break;
	}
	fclose(f);
	return r;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_om_cases(void)
{
	char dir[1100], path[1300];
	snprintf(dir, sizeof(dir), "%s/openmetrics", root);
	DIR *d = opendir(dir);
	char *names[1024];
	size_t nn = 0;
	struct dirent *de;
	if (!d) {
		printf("FAIL openmetrics: cannot open %s\n", dir);
		nfail++;
		return;
	}
	while ((de = readdir(d)) && nn < 1024) {
		if (de->d_name[0] == '.' || !strcmp(de->d_name, "LICENSE"))
			continue;
		names[nn++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(names[0]), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		size_t jn, mn;
		snprintf(path, sizeof(path), "%s/%s/test.json", dir, names[i]);
		char *json = slurp(path, &jn);
		snprintf(path, sizeof(path), "%s/%s/metrics", dir, names[i]);
		char *body = slurp(path, &mn);
		const char *sr = skip_reason(names[i]);
		if (sr) {
			printf("SKIP %s: %s\n", names[i], sr);
		} else if (!json || !body) {
			printf("FAIL %s: cannot read the case files\n", names[i]);
			nfail++;
		} else {
			/* the value right after "shouldParse": */
			const char *sp = strstr(json, "\"shouldParse\"");
			sp = sp ? strchr(sp, ':') : NULL;
			while (sp && (*sp == ':' || *sp == ' ' || *sp == '\t' || *sp == '\n'))
				sp++;
			int want = sp && !strncmp(sp, "true", 4);
			if (!sp || (strncmp(sp, "true", 4) && strncmp(sp, "false", 5))) {
				printf("FAIL %s: test.json has no shouldParse\n", names[i]);
				nfail++;
				free(json);
				free(body);
				free(names[i]);
				continue;
			}
			char err[256];
			size_t count = 0;
			struct tp_callbacks cb = { .sample = count_sample };
			int rc = textparse(body, mn, TP_OPENMETRICS_STRICT, &cb, &count, err, sizeof(err));
			if (want && rc == 0) {
				printf("PASS %s (%zu samples)\n", names[i], count);
				npass++;
			} else if (!want && rc == -EINVAL && strncmp(err, "line ", 5) == 0) {
				printf("PASS %s (rejected: %s)\n", names[i], err);
				npass++;
			} else if (want) {
				printf("FAIL %s: should parse, got rc=%d: %s\n", names[i], rc, err);
				nfail++;
			} else {
				printf("FAIL %s: should be rejected, rc=%d err=%s\n", names[i], rc, err);
				nfail++;
			}
		}
		free(json);
		free(body);
		free(names[i]);
	}
}

static void run_counts(void)
{
	FILE *f = fopen("tests/conformance/exposition_counts.txt", "r");
	char line[1024], file[512], fmt[64], wants[64], path[1600];
	size_t want;
	int ncases = 0;
	if (!f) {
		printf("FAIL counts: no tests/conformance/exposition_counts.txt\n");
		nfail++;
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || sscanf(line, "%511s %63s %63s", file, fmt, wants) != 3)
			continue;
		int reject = !strcmp(wants, "reject");	/* the file must be refused in this format */
		want = reject ? 0 : strtoul(wants, NULL, 10);
		enum tp_format tf = !strcmp(fmt, "prometheus") ? TP_PROMETHEUS :
		    !strcmp(fmt, "openmetrics-strict") ? TP_OPENMETRICS_STRICT : TP_OPENMETRICS;
		size_t n, count = 0;
		snprintf(path, sizeof(path), "%s/%s", root, file);
		char *body = slurp(path, &n);
		char err[256];
		struct tp_callbacks cb = { .sample = count_sample };
		int rc = body ? textparse(body, n, tf, &cb, &count, err, sizeof(err)) : -ENOENT;
		ncases++;
		if (reject && rc == -EINVAL) {
			printf("PASS %s/%s: rejected (%s)\n", file, fmt, err);
			npass++;
		} else if (!reject && rc == 0 && count == want) {
			printf("PASS %s/%s: %zu samples\n", file, fmt, count);
			npass++;
		} else {
			printf("FAIL %s/%s: rc=%d (%s) samples=%zu want %zu\n", file, fmt, rc,
			    rc ? err : "", count, want);
			nfail++;
		}
		free(body);
	}
	fclose(f);
	if (!ncases) {
		printf("FAIL counts: no cases\n");
		nfail++;
	}
}

int main(void)
{
	find_root();
	if (!root[0]) {
		printf("FAIL exposition: test data not found (set VIGIL_TESTDATA)\n");
		return 1;
	}
	run_om_cases();
	run_counts();
	printf("exposition: %d passed, %d failed\n", npass, nfail);
	return nfail ? 1 : 0;
}
