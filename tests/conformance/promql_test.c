/*
 * promql_test.c — runs Prometheus's PromQL test scripts (tests/conformance/
 * promql/NAME.test, format in promql/FORMAT.md) against vigil's engine on
 * memstore. Prints "PASS file.test:LINE" or "FAIL file.test:LINE: why" per
 * eval; cases listed in promql_skip.txt ("file.test:LINE reason") are
 * counted as skipped. `promql_test -v` prints details of failures.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/xmalloc.h"
#include "promql/ast.h"
#include "promql/lex.h"
#include "promql/promql.h"
#include "tsdb/memstore.h"

#define DIR_SCRIPTS "tests/conformance/promql"
#define SKIP_FILE "tests/conformance/promql_skip.txt"
#define MAX_LINES 100000
#define MAX_POINTS 100000

static int verbose;
static char *hist_names[4096];	/* series loaded with native histogram points (this file) */
static size_t nhist;
static int any_hist;		/* the loaded data holds native histograms */

static void hist_clear(void)
{
	for (size_t i = 0; i < nhist; i++)
		free(hist_names[i]);
	nhist = 0;
	any_hist = 0;
}

static void hist_add(const char *name)
{
	if (!name || nhist == 4096)
		return;
	for (size_t i = 0; i < nhist; i++)
		if (strcmp(hist_names[i], name) == 0)
			return;
	hist_names[nhist++] = xstrdup(name);
	any_hist = 1;
}

/* Does the case need native histograms (to list it in the skip file)? */
static int native_case(const char *q, int native_expect)
{
	if (native_expect || strstr(q, "{{") || strstr(q, "histogram_count") || strstr(q, "histogram_sum") ||
	    strstr(q, "histogram_avg") || strstr(q, "histogram_std"))
		return 1;
	for (size_t i = 0; i < nhist; i++) {
		const char *x = q;
		size_t l = strlen(hist_names[i]);
		while ((x = strstr(x, hist_names[i]))) {
			char after = x[l];
			if (!(isalnum((unsigned char)after) || after == '_'))
				return 1;
			x += l;
		}
	}
	return any_hist && strstr(q, "__name__") != NULL;
}
static char **skips;
static size_t nskips;
static int npass, nfail, nskip;
static int nat_checked;	/* cases re-run with @ pinned at other times */

struct exp_series {
	char *labels;		/* formatted label set */
	double *v;		/* expected values; NaN slot marks "_" when miss[i] */
	int *miss;		/* 1: no point at this position */
	size_t n;		/* points */
};

struct ecase {
	int line;			/* line of the eval */
	int range;			/* range query */
	int64_t t, start, end, step;	/* times, ms */
	char *query;			/* the expression */
	int want_fail;			/* expect fail */
	char *fail_msg;			/* exact message or NULL */
	char *fail_re;			/* regex or NULL */
	int ordered;			/* expect ordered */
	int expect_warn, expect_info, no_warn, no_info;	/* annotation expectations */
	char *warn_msgs[16], *info_msgs[16];	/* expected exact messages / regexes */
	int warn_is_re[16], info_is_re[16];	/* regex flags */
	int nwarn_msgs, ninfo_msgs;		/* counts */
	int is_scalar;			/* expected a scalar */
	double scalar;			/* its value */
	int is_string;			/* expect string */
	char *string;			/* its value */
	int64_t rv_start, rv_step;	/* expect range vector from/step */
	int has_rv;			/* expect range vector given */
	struct exp_series *series;	/* expected series */
	size_t nseries;			/* count */
	int native;			/* uses native histogram syntax */
};

static int almost_equal(double a, double b)
{
	const double eps = 0.000001, min_normal = 2.2250738585072014e-308;
	if (isnan(a) && isnan(b))
		return 1;
	if (a == b)
		return 1;
	double abs_sum = fabs(a) + fabs(b), diff = fabs(a - b);
	if (a == 0 || b == 0 || abs_sum < min_normal)
		return diff < eps * min_normal;
	return diff / fmin(abs_sum, 1.7976931348623157e308) < eps;
}

static int parse_time(const char *s, int64_t *ms)
{
	if (pq_parse_duration(s, strlen(s), ms) == 0)
		return 0;
	char *end;
	double v = strtod(s, &end);
	if (end == s || *end)
		return -1;
	*ms = (int64_t)llround(v * 1000);
	return 0;
}

/* Parse "metric{a="b"}" at *p into a label set; advance *p. */
static struct labels *parse_series_desc(const char **p)
{
	struct pq_lexer lx = { *p, strlen(*p), 0, 0, 0, 0 };
	struct pq_token t;
	struct labels_builder lb;
	lb_init(&lb);
	struct labels *out = NULL;
	size_t save = lx.pos;
	pq_lex_next(&lx, &t);
	if (t.type == TK_IDENT) {
		lb_set(&lb, "__name__", t.str);
		free(t.str);
		save = lx.pos;
		pq_lex_next(&lx, &t);
	}
	if (t.type != TK_LBRACE) {
		free(t.str);
		lx.pos = save;
		goto done;
	}
	for (;;) {
		pq_lex_next(&lx, &t);
		if (t.type == TK_RBRACE)
			break;
		if (t.type != TK_IDENT && t.type != TK_STR)
			goto fail;
		char *name = t.str;
		pq_lex_next(&lx, &t);
		if (t.type == TK_COMMA || t.type == TK_RBRACE) {
			lb_set(&lb, "__name__", name);
			free(name);
			if (t.type == TK_RBRACE)
				break;
			continue;
		}
		if (t.type != TK_ASSIGN) {
			free(name);
			goto fail;
		}
		pq_lex_next(&lx, &t);
		if (t.type != TK_STR) {
			free(name);
			goto fail;
		}
		lb_set(&lb, name, t.str);
		free(name);
		free(t.str);
		pq_lex_next(&lx, &t);
		if (t.type == TK_RBRACE)
			break;
		if (t.type != TK_COMMA)
			goto fail;
	}
done:
	*p += lx.pos;
	out = lb_finish(&lb);
fail:
	free(t.type == TK_ERR ? t.str : NULL);
	lb_free(&lb);
	return out;
}

static int parse_num(const char *s, double *v)
{
	if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "+inf") == 0) { *v = INFINITY; return 0; }
	if (strcasecmp(s, "-inf") == 0) { *v = -INFINITY; return 0; }
	if (strcasecmp(s, "nan") == 0) { *v = NAN; return 0; }
	char *end;
	*v = strtod(s, &end);
	return (end == s || *end) ? -1 : 0;
}

/* Expand promtool series notation into values (miss marks "_"); -2 for histograms. */
static int parse_points(const char *p, double **vals, int **miss, size_t *n)
{
	size_t cap = 16;
	*vals = xcalloc(cap, sizeof(double));
	*miss = xcalloc(cap, sizeof(int));
	*n = 0;
	if (strstr(p, "{{"))
		return -2;
	char tok[256];
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		size_t l = 0;
		while (p[l] && !isspace((unsigned char)p[l]))
			l++;
		if (l >= sizeof(tok))
			return -1;
		memcpy(tok, p, l);
		tok[l] = 0;
		p += l;
		double a = 0, b = 0;
		long reps = 0;
		int blank = 0, stale = 0, series = 0;
		char *x = strchr(tok, 'x');
		if (x) {
			*x = 0;
			reps = strtol(x + 1, NULL, 10);
			series = 1;
		}
		if (strcmp(tok, "_") == 0) {
			blank = 1;
		} else if (strcmp(tok, "stale") == 0) {
			stale = 1;
		} else {
			/* a, a+b, a-b (a may be signed) */
			char *op = NULL;
			for (char *c = tok + 1; *c; c++)
				if ((*c == '+' || *c == '-') && c[-1] != 'e' && c[-1] != 'E')
					op = c;
			if (op && series) {
				char sign = *op;
				*op = 0;
				if (parse_num(tok, &a) < 0 || parse_num(op + 1, &b) < 0)
					return -1;
				if (sign == '-')
					b = -b;
			} else if (parse_num(tok, &a) < 0) {
				return -1;
			}
		}
		size_t count = series ? (size_t)(blank ? reps : reps + 1) : 1;
		if (*n + count > MAX_POINTS)
			return -1;
		for (size_t i = 0; i < count; i++) {
			if (*n == cap) {
				cap *= 2;
				*vals = xreallocarray(*vals, cap, sizeof(double));
				*miss = xreallocarray(*miss, cap, sizeof(int));
			}
			(*miss)[*n] = blank;
			(*vals)[*n] = stale ? stale_nan() : a + b * (double)i;
			(*n)++;
		}
	}
	return 0;
}

static char *fmt_labels(const struct labels *ls)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_adds(&b, "{");
	for (size_t i = 0; i < ls->n; i++)
		buf_printf(&b, "%s%s=\"%s\"", i ? ", " : "", ls->v[i].name, ls->v[i].value);
	buf_adds(&b, "}");
	return buf_detach(&b, NULL);
}

static int skipped(const char *file, int line, const char **why)
{
	char key[512];
	snprintf(key, sizeof(key), "%s:%d", file, line);
	size_t kl = strlen(key);
	for (size_t i = 0; i < nskips; i++) {
		if (strncmp(skips[i], key, kl) == 0 && (skips[i][kl] == ' ' || skips[i][kl] == 0)) {
			*why = skips[i] + kl;
			return 1;
		}
	}
	return 0;
}

static int re_match(const char *re, const char *s)
{
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (!c)
		return 0;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(c, NULL);
	int r = pcre2_match(c, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) >= 0;
	pcre2_match_data_free(md);
	pcre2_code_free(c);
	return r;
}

static int check_notes(const struct ecase *c, const struct pq_result *r, char *why, size_t wsz)
{
	for (int warn = 0; warn < 2; warn++) {
		int expect = warn ? c->expect_warn : c->expect_info;
		int none = warn ? c->no_warn : c->no_info;
		int nmsg = warn ? c->nwarn_msgs : c->ninfo_msgs;
		char *const *msgs = warn ? c->warn_msgs : c->info_msgs;
		const int *isre = warn ? c->warn_is_re : c->info_is_re;
		size_t have = 0;
		for (size_t i = 0; i < r->nnotes; i++)
			have += r->note_is_warn[i] == warn;
		if (none && have) {
			snprintf(why, wsz, "unexpected %s annotation: %s", warn ? "warn" : "info", r->notes[0]);
			return -1;
		}
		if (expect && !have) {
			snprintf(why, wsz, "expected a %s annotation, got none", warn ? "warn" : "info");
			return -1;
		}
		for (int m = 0; m < nmsg; m++) {
			int found = 0;
			for (size_t i = 0; i < r->nnotes && !found; i++)
				if (r->note_is_warn[i] == warn)
					found = isre[m] ? re_match(msgs[m], r->notes[i]) : strcmp(msgs[m], r->notes[i]) == 0;
			if (!found) {
				snprintf(why, wsz, "missing %s annotation \"%s\"", warn ? "warn" : "info", msgs[m]);
				return -1;
			}
		}
	}
	return 0;
}

static int compare(const struct ecase *c, const struct pq_result *r, char *why, size_t wsz)
{
	if (c->is_string) {
		if (r->type != PQ_VAL_STRING || strcmp(r->str, c->string) != 0) {
			snprintf(why, wsz, "expected string \"%s\"", c->string);
			return -1;
		}
		return 0;
	}
	if (c->is_scalar) {
		if (r->type != PQ_VAL_SCALAR) {
			snprintf(why, wsz, "expected scalar, got %s", pq_value_type_name(r->type));
			return -1;
		}
		if (!almost_equal(r->scalar, c->scalar)) {
			snprintf(why, wsz, "expected scalar %.17g, got %.17g", c->scalar, r->scalar);
			return -1;
		}
		return 0;
	}
	if (r->type == PQ_VAL_SCALAR) {
		snprintf(why, wsz, "got scalar %g, expected series", r->scalar);
		return -1;
	}
	if (r->n != c->nseries) {
		snprintf(why, wsz, "expected %zu series, got %zu", c->nseries, r->n);
		if (verbose)
			for (size_t i = 0; i < r->n; i++) {
				char *l = fmt_labels(r->series[i].labels);
				printf("    got %s %g (n=%zu)\n", l, r->series[i].n ? r->series[i].v[0] : 0.0, r->series[i].n);
				free(l);
			}
		return -1;
	}
	for (size_t i = 0; i < r->n; i++) {
		char *l = fmt_labels(r->series[i].labels);
		size_t j;
		for (j = 0; j < c->nseries; j++)
			if (strcmp(c->series[j].labels, l) == 0)
				break;
		if (j == c->nseries) {
			snprintf(why, wsz, "unexpected series %s", l);
			free(l);
			return -1;
		}
		free(l);
		if (c->ordered && j != i) {
			snprintf(why, wsz, "series %zu out of order", i);
			return -1;
		}
		const struct exp_series *e = &c->series[j];
		const struct pq_series *s = &r->series[i];
		if (!c->range && !c->has_rv) {
			if (s->n != 1 || e->n != 1 || !almost_equal(s->v[0], e->v[0])) {
				snprintf(why, wsz, "series %s: expected %.17g, got %.17g", e->labels, e->n ? e->v[0] : 0, s->n ? s->v[0] : 0);
				return -1;
			}
			continue;
		}
		int64_t t0 = c->has_rv ? c->rv_start : c->start, st = c->has_rv ? c->rv_step : c->step;
		size_t k = 0;
		for (size_t x = 0; x < e->n; x++) {
			if (e->miss[x])
				continue;
			int64_t want_t = t0 + (int64_t)x * st;
			if (k >= s->n || s->t[k] != want_t || !almost_equal(s->v[k], e->v[x]) ||
			    is_stale_nan(s->v[k]) != is_stale_nan(e->v[x])) {
				snprintf(why, wsz, "series %s point %zu: expected %.17g@%lld, got %.17g@%lld",
				    e->labels, x, e->v[x], (long long)want_t, k < s->n ? s->v[k] : 0,
				    (long long)(k < s->n ? s->t[k] : -1));
				return -1;
			}
			k++;
		}
		if (k != s->n) {
			snprintf(why, wsz, "series %s: %zu extra points", e->labels, s->n - k);
			return -1;
		}
	}
	return 0;
}

/* Set @ t on every selector and outermost subquery that has none (Prometheus's
 * atModifierTestCases); return 1 if a time-dependent function makes it unsafe. */
static int set_at(struct pq_node *n, int64_t t)
{
	static const char *const unsafe[] = { "days_in_month", "day_of_month", "day_of_week",
		"day_of_year", "hour", "minute", "month", "year", "predict_linear", "time",
		"timestamp", "step", "range", "start", "end" };
	int u = 0;
	if (!n)
		return 0;
	switch (n->kind) {
	case PQ_VSEL:
		if (n->at == PQ_AT_NONE) {
			n->at = PQ_AT_TIME;
			n->at_ms = t;
		}
		return 0;
	case PQ_MSEL:
		return set_at(n->sub, t);
	case PQ_SUBQ:
		if (n->at != PQ_AT_NONE)
			return 0;
		n->at = PQ_AT_TIME;
		n->at_ms = t;
		return 0;
	case PQ_CALL:
		for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++)
			u |= strcmp(n->func->name, unsafe[i]) == 0;
		for (size_t i = 0; i < n->nargs; i++)
			u |= set_at(n->args[i], t);
		return u;
	default:
		u |= set_at(n->sub, t);
		u |= set_at(n->lhs, t);
		u |= set_at(n->rhs, t);
		u |= set_at(n->param, t);
		return u;
	}
}

/* The same expected result must come out at other evaluation times once
 * every selector is pinned with @ to the original time. */
static int check_at_variants(struct storage *st, struct ecase *c, char *why, size_t wsz)
{
	struct pq_expr *e;
	char err[1024];
	if (pq_parse(c->query, &e, err, sizeof(err)) < 0)
		return 0;
	if (set_at(e->root, c->t)) {
		pq_free(e);
		return 0;
	}
	int64_t ts = c->t;
	int64_t times[5] = { -10 * ts, 0, ts / 5, ts, 10 * ts };
	size_t nt = 5;
	if (ts == 0) {
		times[0] = -1000;
		times[1] = 0;
		times[2] = 1000;
		nt = 3;
	}
	int rc = 0;
	nat_checked++;
	for (size_t i = 0; i < nt && rc == 0; i++) {
		struct pq_result r;
		if (pq_eval_instant(st, e, times[i], NULL, &r, err, sizeof(err)) < 0) {
			snprintf(why, wsz, "with @ %lld at %lld: error %s", (long long)ts, (long long)times[i], err);
			rc = -1;
			continue;
		}
		char w[1024];
		if (compare(c, &r, w, sizeof(w)) < 0) {
			snprintf(why, wsz, "with @ %lld evaluated at %lld: %s", (long long)ts, (long long)times[i], w);
			rc = -1;
		}
		pq_result_free(&r);
	}
	pq_free(e);
	return rc;
}

static void run_case(struct storage *st, const char *file, struct ecase *c)
{
	const char *why0;
	if (skipped(file, c->line, &why0)) {
		nskip++;
		if (verbose)
			printf("SKIP %s:%d%s\n", file, c->line, why0);
		return;
	}
	char err[1024] = "", why[2048] = "";
	struct pq_expr *e = NULL;
	struct pq_result r;
	memset(&r, 0, sizeof(r));
	int rc = pq_parse(c->query, &e, err, sizeof(err));
	if (rc == 0) {
		if (c->range)
			rc = pq_eval_range(st, e, c->start, c->end, c->step, NULL, &r, err, sizeof(err));
		else
			rc = pq_eval_instant(st, e, c->t, NULL, &r, err, sizeof(err));
	}
	int ok;
	if (c->want_fail) {
		ok = rc < 0;
		if (!ok)
			snprintf(why, sizeof(why), "expected failure, query succeeded");
		else if (c->fail_msg && strcmp(c->fail_msg, err) != 0) {
			ok = 0;
			snprintf(why, sizeof(why), "error \"%s\", want \"%s\"", err, c->fail_msg);
		} else if (c->fail_re && !re_match(c->fail_re, err)) {
			ok = 0;
			snprintf(why, sizeof(why), "error \"%s\" does not match /%s/", err, c->fail_re);
		}
	} else if (rc < 0) {
		ok = 0;
		snprintf(why, sizeof(why), "error: %s", err);
	} else {
		ok = compare(c, &r, why, sizeof(why)) == 0 && check_notes(c, &r, why, sizeof(why)) == 0;
	}
	/* like Prometheus's runner: an instant query run as a range query must
	 * give the same first point */
	int query_param = strstr(c->query, "step()") || strstr(c->query, "range()") ||
	    strstr(c->query, "end()") || strstr(c->query, "start()");
	if (ok && rc == 0 && !c->range && !query_param && (r.type == PQ_VAL_VECTOR || r.type == PQ_VAL_SCALAR)) {
		struct pq_result rr;
		char err2[1024];
		if (pq_eval_range(st, e, c->t, c->t + 60000, 60000, NULL, &rr, err2, sizeof(err2)) < 0) {
			ok = 0;
			snprintf(why, sizeof(why), "range mode failed: %s", err2);
		} else if (r.type == PQ_VAL_SCALAR) {
			if (rr.n != 1 || rr.series[0].t[0] != c->t || !almost_equal(rr.series[0].v[0], r.scalar)) {
				ok = 0;
				snprintf(why, sizeof(why), "range mode scalar differs");
			}
		} else {
			size_t cnt = 0;
			for (size_t i = 0; i < rr.n && ok; i++) {
				if (rr.series[i].t[0] != c->t)
					continue;
				cnt++;
				int found = 0;
				for (size_t j = 0; j < r.n && !found; j++)
					found = labels_cmp(r.series[j].labels, rr.series[i].labels) == 0 &&
					    almost_equal(r.series[j].v[0], rr.series[i].v[0]);
				if (!found) {
					ok = 0;
					char *l = fmt_labels(rr.series[i].labels);
					snprintf(why, sizeof(why), "range mode: series %s differs", l);
					free(l);
				}
			}
			if (ok && cnt != r.n) {
				ok = 0;
				snprintf(why, sizeof(why), "range mode: %zu series at the first step, instant gave %zu", cnt, r.n);
			}
		}
		pq_result_free(&rr);
	}
	if (ok && rc == 0 && !c->range && !c->is_string && check_at_variants(st, c, why, sizeof(why)) < 0)
		ok = 0;
	if (ok) {
		npass++;
		printf("PASS %s:%d\n", file, c->line);
	} else {
		nfail++;
		printf("FAIL %s:%d: %s [%s]%s\n", file, c->line, why, c->query,
		    native_case(c->query, c->native) ? " (native)" : "");
	}
	pq_result_free(&r);
	pq_free(e);
}

static void free_case(struct ecase *c)
{
	free(c->query);
	free(c->fail_msg);
	free(c->fail_re);
	free(c->string);
	for (int i = 0; i < c->nwarn_msgs; i++)
		free(c->warn_msgs[i]);
	for (int i = 0; i < c->ninfo_msgs; i++)
		free(c->info_msgs[i]);
	for (size_t i = 0; i < c->nseries; i++) {
		free(c->series[i].labels);
		free(c->series[i].v);
		free(c->series[i].miss);
	}
	free(c->series);
	memset(c, 0, sizeof(*c));
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	while (l && isspace((unsigned char)s[l - 1]))
		s[--l] = 0;
	return s;
}

static char *unquote_msg(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t l = strlen(s);
	if (l >= 2 && ((s[0] == '"' && s[l - 1] == '"') || (s[0] == '`' && s[l - 1] == '`')))
		return xstrndup(s + 1, l - 2);
	return xstrdup(s);
}

/* An "expect ..." line inside an eval block. */
static void parse_expect(struct ecase *c, char *l)
{
	l += 6;
	l = trim(l);
	char *colon = strchr(l, ':');
	char *msg = colon ? colon + 1 : NULL;
	if (colon)
		*colon = 0;
	char kind[32] = "", mt[32] = "";
	sscanf(l, "%31s %31s", kind, mt);
	int isre = strcmp(mt, "regex") == 0;
	if (strcmp(kind, "fail") == 0) {
		c->want_fail = 1;
		if (msg && isre)
			c->fail_re = unquote_msg(msg);
		else if (msg)
			c->fail_msg = unquote_msg(msg);
	} else if (strcmp(kind, "ordered") == 0) {
		c->ordered = 1;
	} else if (strcmp(kind, "warn") == 0) {
		c->expect_warn = 1;
		if (msg && c->nwarn_msgs < 16) {
			c->warn_is_re[c->nwarn_msgs] = isre;
			c->warn_msgs[c->nwarn_msgs++] = xstrdup(trim(msg));
		}
	} else if (strcmp(kind, "info") == 0) {
		c->expect_info = 1;
		if (msg && c->ninfo_msgs < 16) {
			c->info_is_re[c->ninfo_msgs] = isre;
			c->info_msgs[c->ninfo_msgs++] = xstrdup(trim(msg));
		}
	} else if (strcmp(kind, "no_warn") == 0) {
		c->no_warn = 1;
	} else if (strcmp(kind, "no_info") == 0) {
		c->no_info = 1;
	} else if (strcmp(kind, "string") == 0) {
		c->is_string = 1;
		char *q = l + 6;
		if (colon)
			*colon = ':';
		c->string = unquote_msg(q);
	} else if (strcmp(kind, "range") == 0) {
		char a[64], b[64], s[64];
		if (colon)
			*colon = ':';
		if (sscanf(l, "range vector from %63s to %63s step %63s", a, b, s) == 3) {
			c->has_rv = 1;
			parse_time(a, &c->rv_start);
			parse_time(s, &c->rv_step);
		}
	}
}

static int run_file(const char *dir, const char *file)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	FILE *f = fopen(path, "r");
	if (!f) {
		printf("FAIL %s: cannot open: %s\n", file, strerror(errno));
		return -1;
	}
	struct storage st;
	memstore_open(&st);
	char *lines[MAX_LINES];
	size_t n = 0;
	char *line = NULL;
	size_t cap = 0;
	while (n < MAX_LINES && getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		lines[n++] = xstrdup(line);
	}
	free(line);
	fclose(f);
	for (size_t i = 0; i < n;) {
		char *l = trim(lines[i]);
		if (!*l || *l == '#') {
			i++;
			continue;
		}
		if (strncmp(l, "clear", 5) == 0) {
			memstore_clear(&st);
			hist_clear();
			i++;
			continue;
		}
		if (strncmp(l, "load", 4) == 0) {
			char *sp = strchr(l, ' ');
			int64_t interval = 0;
			int nhcb = strncmp(l, "load_with_nhcb", 14) == 0;
			if (!sp || parse_time(trim(sp), &interval) < 0) {
				printf("FAIL %s:%zu: bad load line\n", file, i + 1);
				nfail++;
			}
			i++;
			while (i < n && (lines[i][0] == ' ' || lines[i][0] == '\t')) {
				const char *p = trim(lines[i]);
				if (!*p || *p == '#') {
					i++;
					continue;
				}
				struct labels *ls = parse_series_desc(&p);
				double *v;
				int *miss;
				size_t np;
				const char *nm = ls ? labels_get(ls, "__name__") : NULL;
				if (ls && strstr(p, "{{"))
					hist_add(nm);
				if (ls && nhcb && nm && strlen(nm) > 7 && strcmp(nm + strlen(nm) - 7, "_bucket") == 0) {
					char *base = xstrndup(nm, strlen(nm) - 7);
					hist_add(base);
					free(base);
				}
				if (ls && parse_points(p, &v, &miss, &np) == 0) {
					for (size_t k = 0; k < np; k++)
						if (!miss[k])
							st.ops->append(st.impl, ls, (int64_t)k * interval, v[k]);
				}
				if (ls) {
					free(v);
					free(miss);
				}
				labels_free(ls);
				i++;
			}
			st.ops->commit(st.impl);
			continue;
		}
		if (strncmp(l, "eval", 4) == 0) {
			struct ecase c;
			memset(&c, 0, sizeof(c));
			c.line = (int)i + 1;
			char *rest = l + 4;
			if (strncmp(rest, "_fail", 5) == 0) { c.want_fail = 1; rest += 5; }
			else if (strncmp(rest, "_ordered", 8) == 0) { c.ordered = 1; rest += 8; }
			else if (strncmp(rest, "_warn", 5) == 0) { c.expect_warn = 1; rest += 5; }
			else if (strncmp(rest, "_info", 5) == 0) { c.expect_info = 1; rest += 5; }
			rest = trim(rest);
			char a[64], b[64], s[64];
			int off = 0;
			if (sscanf(rest, "instant at %63s %n", a, &off) == 1 && off) {
				parse_time(a, &c.t);
				c.query = xstrdup(rest + off);
			} else if (sscanf(rest, "range from %63s to %63s step %63s %n", a, b, s, &off) == 3 && off) {
				c.range = 1;
				parse_time(a, &c.start);
				parse_time(b, &c.end);
				parse_time(s, &c.step);
				c.query = xstrdup(rest + off);
			} else {
				printf("FAIL %s:%zu: bad eval line\n", file, i + 1);
				nfail++;
				i++;
				continue;
			}
			i++;
			while (i < n) {
				char *el = trim(lines[i]);
				if (!*el)
					break;
				if (*el == '#') {
					i++;
					continue;
				}
				if (strncmp(el, "expect ", 7) == 0) {
					parse_expect(&c, el);
					i++;
					continue;
				}
				if (strncmp(el, "eval", 4) == 0 || strncmp(el, "load", 4) == 0 || strncmp(el, "clear", 5) == 0)
					break;
				double sv;
				if (parse_num(el, &sv) == 0) {
					c.is_scalar = 1;
					c.scalar = sv;
					i++;
					continue;
				}
				const char *p = el;
				struct labels *ls = parse_series_desc(&p);
				if (ls) {
					c.series = xreallocarray(c.series, c.nseries + 1, sizeof(*c.series));
					struct exp_series *es = &c.series[c.nseries++];
					es->labels = fmt_labels(ls);
					if (parse_points(p, &es->v, &es->miss, &es->n) == -2)
						c.native = 1;
					labels_free(ls);
				}
				i++;
			}
			run_case(&st, file, &c);
			free_case(&c);
			continue;
		}
		i++;
	}
	for (size_t i = 0; i < n; i++)
		free(lines[i]);
	st.ops->close(st.impl);
	hist_clear();
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void load_skips(void)
{
	FILE *f = fopen(SKIP_FILE, "r");
	if (!f)
		return;
	char *line = NULL;
	size_t cap = 0;
	while (getline(&line, &cap, f) > 0) {
		line[strcspn(line, "\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		skips = xreallocarray(skips, nskips + 1, sizeof(char *));
		skips[nskips++] = xstrdup(line);
	}
	free(line);
	fclose(f);
}

int main(int argc, char **argv)
{
	const char *only = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0)
			verbose = 1;
		else
			only = argv[i];
	}
	load_skips();
	DIR *d = opendir(DIR_SCRIPTS);
	if (!d) {
		printf("FAIL promql_conformance: cannot open %s\n", DIR_SCRIPTS);
		return 1;
	}
	char *names[256];
	size_t nn = 0;
	struct dirent *de;
	while ((de = readdir(d)) && nn < 256) {
		size_t l = strlen(de->d_name);
		if (l > 5 && strcmp(de->d_name + l - 5, ".test") == 0)
			names[nn++] = xstrdup(de->d_name);
	}
	closedir(d);
	qsort(names, nn, sizeof(char *), cmp_str);
	for (size_t i = 0; i < nn; i++) {
		if (!only || strcmp(only, names[i]) == 0)
			run_file(DIR_SCRIPTS, names[i]);
		free(names[i]);
	}
	for (size_t i = 0; i < nskips; i++)
		free(skips[i]);
	free(skips);
	printf("promql conformance: %d passed, %d failed, %d skipped (%d also re-run with @ pinned)\n",
	    npass, nfail, nskip, nat_checked);
	return nfail ? 1 : 0;
}
