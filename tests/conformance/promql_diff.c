/*
 * promql_diff.c — compares vigil's answers with a real Prometheus's.
 * Loads DIR/data.om (OpenMetrics: `name{labels} value unix_seconds`) into
 * memstore, replays every query of DIR/expected.tsv (MODE \t PARAMS \t QUERY
 * \t Prometheus's JSON) through promapi, and compares the JSON answers within
 * float tolerance. Known 2.42-vs-3.x differences are listed, with reasons, in
 * tests/conformance/promql_diff/known_diffs.txt (MODE \t QUERY \t reason).
 * Without --dir it checks the golden files recorded from Prometheus 2.42 by
 * tests/integration/promql_diff.sh --record.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/promapi.h"
#include "core/xmalloc.h"
#include "promql/json.h"
#include "promql/lex.h"
#include "promql/promql.h"
#include "tsdb/memstore.h"

#define GOLD_DIR "tests/conformance/promql_diff"
#define KNOWN_FILE GOLD_DIR "/known_diffs.txt"
#define LINE_MAX_BYTES (64u << 20)

static char **known;
static size_t nknown;

static int close_enough(double a, double b)
{
	if (isnan(a) && isnan(b))
		return 1;
	if (a == b)
		return 1;
	double d = fabs(a - b);
	return d <= 1e-9 || d <= 1e-6 * fmax(fabs(a), fabs(b));
}

static double sval(const struct pq_json *v)
{
	if (!v || v->t != PQ_J_STR)
		return -12345.678;
	if (strcmp(v->s, "+Inf") == 0) return INFINITY;
	if (strcmp(v->s, "-Inf") == 0) return -INFINITY;
	if (strcmp(v->s, "NaN") == 0) return NAN;
	return strtod(v->s, NULL);
}

static void metric_key(const struct pq_json *m, struct buf *b)
{
	buf_reset(b);
	buf_adds(b, "{");
	/* keys come sorted from both servers; sort anyway by simple selection */
	size_t n = m ? m->nk : 0;
	int *done = xcalloc(n + 1, sizeof(int));
	for (size_t k = 0; k < n; k++) {
		size_t best = n;
		for (size_t i = 0; i < n; i++)
			if (!done[i] && (best == n || strcmp(m->keys[i], m->keys[best]) < 0))
				best = i;
		done[best] = 1;
		buf_printf(b, "%s=\"%s\",", m->keys[best], m->kids[best].s ? m->kids[best].s : "");
	}
	free(done);
	buf_adds(b, "}");
}

static int cmp_point(const struct pq_json *a, const struct pq_json *b)
{
	return a && b && a->nk == 2 && b->nk == 2 && fabs(a->kids[0].n - b->kids[0].n) < 1e-6 &&
	    close_enough(sval(&a->kids[1]), sval(&b->kids[1]));
}

/* Compare two API answers; 0 if equal, else -1 with why. */
static int compare(const struct pq_json *want, const struct pq_json *got, int ordered, char *why, size_t wn)
{
	const struct pq_json *ws = pq_json_get(want, "status"), *gs = pq_json_get(got, "status");
	if (!ws || !gs || !ws->s || !gs->s || strcmp(ws->s, gs->s) != 0) {
		const struct pq_json *e = pq_json_get(got, "error"), *we = pq_json_get(want, "error");
		snprintf(why, wn, "status %s vs %s (vigil: %s; prometheus: %s)", gs && gs->s ? gs->s : "?",
		    ws && ws->s ? ws->s : "?", e && e->s ? e->s : "", we && we->s ? we->s : "");
		return -1;
	}
	if (strcmp(ws->s, "success") != 0)
		return 0;
	const struct pq_json *wd = pq_json_get(want, "data"), *gd = pq_json_get(got, "data");
	const struct pq_json *wt = pq_json_get(wd, "resultType"), *gt = pq_json_get(gd, "resultType");
	if (!wt || !gt || strcmp(wt->s, gt->s) != 0) {
		snprintf(why, wn, "resultType %s vs %s", gt ? gt->s : "?", wt ? wt->s : "?");
		return -1;
	}
	const struct pq_json *wr = pq_json_get(wd, "result"), *gr = pq_json_get(gd, "result");
	if (strcmp(wt->s, "scalar") == 0 || strcmp(wt->s, "string") == 0) {
		if (!cmp_point(wr, gr)) {
			snprintf(why, wn, "scalar %s vs %s", gr && gr->nk == 2 ? gr->kids[1].s : "?", wr && wr->nk == 2 ? wr->kids[1].s : "?");
			return -1;
		}
		return 0;
	}
	size_t wn_ = wr ? wr->nk : 0, gn = gr ? gr->nk : 0;
	if (wn_ != gn) {
		snprintf(why, wn, "%zu series vs %zu", gn, wn_);
		return -1;
	}
	struct buf ka, kb;
	buf_init(&ka, 1 << 20);
	buf_init(&kb, 1 << 20);
	int rc = 0;
	for (size_t i = 0; i < gn && rc == 0; i++) {
		metric_key(pq_json_get(&gr->kids[i], "metric"), &ka);
		size_t j = 0;
		for (; j < wn_; j++) {
			metric_key(pq_json_get(&wr->kids[j], "metric"), &kb);
			if (strcmp(ka.data, kb.data) == 0)
				break;
		}
		if (j == wn_ || (ordered && j != i)) {
			snprintf(why, wn, j == wn_ ? "unexpected series %s" : "series %s out of order", ka.data);
			rc = -1;
			break;
		}
		const struct pq_json *gv = pq_json_get(&gr->kids[i], "value"), *wv = pq_json_get(&wr->kids[j], "value");
		if (gv || wv) {
			if (!cmp_point(gv, wv)) {
				snprintf(why, wn, "%s: %s vs %s", ka.data, gv && gv->nk == 2 ? gv->kids[1].s : "?", wv && wv->nk == 2 ? wv->kids[1].s : "?");
				rc = -1;
			}
			continue;
		}
		gv = pq_json_get(&gr->kids[i], "values");
		wv = pq_json_get(&wr->kids[j], "values");
		size_t a = gv ? gv->nk : 0, b = wv ? wv->nk : 0;
		if (a != b) {
			snprintf(why, wn, "%s: %zu points vs %zu", ka.data, a, b);
			rc = -1;
			break;
		}
		for (size_t k = 0; k < a; k++) {
			if (!cmp_point(&gv->kids[k], &wv->kids[k])) {
				snprintf(why, wn, "%s point %zu: %s@%.3f vs %s@%.3f", ka.data, k, gv->kids[k].kids[1].s,
				    gv->kids[k].kids[0].n, wv->kids[k].kids[1].s, wv->kids[k].kids[0].n);
				rc = -1;
				break;
			}
		}
	}
	buf_free(&ka);
	buf_free(&kb);
	return rc;
}

static int load_om(struct storage *st, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	long n = 0;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		struct pq_lexer lx = { line, strlen(line), 0, 0, 0, 0 };
		struct pq_token t;
		struct labels_builder lb;
		lb_init(&lb);
		pq_lex_next(&lx, &t);
		if (t.type == TK_IDENT)
			lb_set(&lb, "__name__", t.str);
		free(t.str);
		size_t save = lx.pos;
		pq_lex_next(&lx, &t);
		if (t.type == TK_LBRACE) {
			for (;;) {
				pq_lex_next(&lx, &t);
				if (t.type != TK_IDENT) {
					free(t.str);
					break;
				}
				char *name = t.str;
				pq_lex_next(&lx, &t);	/* = */
				pq_lex_next(&lx, &t);
				if (t.type == TK_STR)
					lb_set(&lb, name, t.str);
				free(name);
				free(t.str);
				pq_lex_next(&lx, &t);
				if (t.type != TK_COMMA)
					break;
			}
		} else {
			free(t.str);
			lx.pos = save;
		}
		char *p = line + lx.pos, *e;
		while (isspace((unsigned char)*p))
			p++;
		double v = strncmp(p, "NaN", 3) == 0 ? NAN : strtod(p, &e);
		if (strncmp(p, "NaN", 3) == 0)
			e = p + 3;
		double ts = strtod(e, NULL);
		struct labels *ls = lb_finish(&lb);
		lb_free(&lb);
		st->ops->append(st->impl, ls, (int64_t)llround(ts * 1000), v);
		labels_free(ls);
		n++;
	}
	free(line);
	fclose(f);
	st->ops->commit(st->impl);
	return n > 0 ? 0 : -1;
}

static const char *known_reason(const char *mode, const char *q)
{
	for (size_t i = 0; i < nknown; i++) {
		char *tab = strchr(known[i], '\t');
		if (!tab)
			continue;
		size_t ml = (size_t)(tab - known[i]);
		char *tab2 = strchr(tab + 1, '\t');
		size_t ql = tab2 ? (size_t)(tab2 - tab - 1) : strlen(tab + 1);
		if ((ml == 1 && known[i][0] == '*') || (strlen(mode) == ml && strncmp(known[i], mode, ml) == 0))
			if (strlen(q) == ql && strncmp(tab + 1, q, ql) == 0)
				return tab2 ? tab2 + 1 : "known difference";
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const char *dir = GOLD_DIR;
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--dir") == 0)
			dir = argv[++i];
	FILE *kf = fopen(KNOWN_FILE, "r");
	char *line = NULL;
	size_t cap = 0;
	while (kf && getline(&line, &cap, kf) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (line[0] && line[0] != '#') {
			known = xreallocarray(known, nknown + 1, sizeof(char *));
			known[nknown++] = xstrdup(line);
		}
	}
	if (kf)
		fclose(kf);
	char path[4096];
	struct storage st;
	memstore_open(&st);
	snprintf(path, sizeof(path), "%s/data.om", dir);
	if (load_om(&st, path) < 0) {
		printf("FAIL promql_diff: cannot load %s\n", path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/expected.tsv", dir);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("FAIL promql_diff: cannot open %s\n", path);
		return 1;
	}
	int pass = 0, fail = 0, skip = 0, lineno = 0;
	struct buf body;
	buf_init(&body, BUF_CAP_HTTP_BODY);
	while (getline(&line, &cap, f) > 0) {
		lineno++;
		line[strcspn(line, "\n")] = 0;
		char *mode = line, *params = strchr(mode, '\t');
		char *q = params ? strchr(params + 1, '\t') : NULL;
		char *js = q ? strchr(q + 1, '\t') : NULL;
		if (!js)
			continue;
		*params++ = 0;
		*q++ = 0;
		*js++ = 0;
		const char *why_known = known_reason(mode, q);
		if (why_known) {
			skip++;
			continue;
		}
		struct promapi_request rq = { .method = "GET", .now_ms = 1 };
		rq.path = strcmp(mode, "instant") == 0 ? "/query" : "/query_range";
		rq.params = xcalloc(4, sizeof(*rq.params));
		rq.params[rq.nparams].name = xstrdup("query");
		rq.params[rq.nparams++].value = xstrdup(q);
		if (strcmp(mode, "instant") == 0) {
			rq.params[rq.nparams].name = xstrdup("time");
			rq.params[rq.nparams++].value = xstrdup(params);
		} else {
			char s[64], e[64], stp[64];
			if (sscanf(params, "%63[^,],%63[^,],%63s", s, e, stp) != 3)
				continue;
			const char *names[3] = { "start", "end", "step" }, *vals[3] = { s, e, stp };
			for (int k = 0; k < 3; k++) {
				rq.params[rq.nparams].name = xstrdup(names[k]);
				rq.params[rq.nparams++].value = xstrdup(vals[k]);
			}
		}
		int status;
		promapi_handle(&st, &rq, &body, &status);
		promapi_request_free(&rq);
		struct pq_json want, got;
		char why[4096] = "";
		int ok;
		if (pq_json_parse(js, strlen(js), &want) < 0 || pq_json_parse(body.data, body.len, &got) < 0) {
			ok = 0;
			snprintf(why, sizeof(why), "unparsable JSON");
		} else {
			ok = compare(&want, &got, strncmp(q, "sort", 4) == 0, why, sizeof(why)) == 0;
		}
		pq_json_free(&want);
		pq_json_free(&got);
		if (ok) {
			pass++;
			printf("PASS promql_diff:%d %s %s\n", lineno, mode, q);
		} else {
			fail++;
			printf("FAIL promql_diff:%d %s %s: %s\n", lineno, mode, q, why);
		}
	}
	free(line);
	fclose(f);
	buf_free(&body);
	st.ops->close(st.impl);
	for (size_t i = 0; i < nknown; i++)
		free(known[i]);
	free(known);
	printf("promql_diff: %d passed, %d failed, %d known differences skipped\n", pass, fail, skip);
	return fail ? 1 : 0;
}
