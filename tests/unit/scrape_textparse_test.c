/* scrape_textparse_test.c — what textparse hands to its callbacks, both formats. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "scrape/textparse.h"
#include "t.h"

struct got {
	int n;			/* samples seen */
	char first[512];	/* the first sample formatted */
	double v[16];		/* values */
	int has_ts[16];		/* timestamp flags */
	long long ts[16];	/* timestamps (ms) */
	enum tp_type type[16];	/* family types */
	char help[128];		/* last HELP text */
	char unit[64];		/* last UNIT */
	int ntype;		/* TYPE lines */
};

static int on_sample(void *ctx, const struct tp_sample *s)
{
	struct got *g = ctx;
	if (g->n == 0) {
		size_t off = 0;
		for (size_t i = 0; i < s->nlabels; i++)
			off += (size_t)snprintf(g->first + off, sizeof(g->first) - off, "%s%s=%s",
			    i ? "," : "", s->labels[i].name, s->labels[i].value);
	}
	if (g->n < 16) {
		g->v[g->n] = s->value;
		g->has_ts[g->n] = s->has_ts;
		g->ts[g->n] = (long long)s->ts_ms;
		g->type[g->n] = s->type;
	}
	g->n++;
	return 0;
}

static int on_help(void *ctx, const char *fam, const char *text, size_t n)
{
	struct got *g = ctx;
	(void)fam;
	snprintf(g->help, sizeof(g->help), "%.*s", (int)n, text);
	return 0;
}

static int on_type(void *ctx, const char *fam, enum tp_type ty)
{
	(void)fam;
	(void)ty;
	((struct got *)ctx)->ntype++;
	return 0;
}

static int on_unit(void *ctx, const char *fam, const char *unit)
{
	(void)fam;
	snprintf(((struct got *)ctx)->unit, sizeof(((struct got *)ctx)->unit), "%s", unit);
	return 0;
}

static const struct tp_callbacks cbs = { on_sample, on_help, on_type, on_unit };

static int parse(const char *s, enum tp_format f, struct got *g, char *err)
{
	memset(g, 0, sizeof(*g));
	return textparse(s, strlen(s), f, &cbs, g, err, 256);
}

T_TEST(prom_labels_values_and_escapes)
{
	struct got g;
	char err[256];
	const char *in =
	    "# HELP http_requests_total Requests \\\\ served.\\nSecond line\n"
	    "# TYPE http_requests_total counter\n"
	    "\n"
	    "# a plain comment\n"
	    "http_requests_total{method=\"post\",path=\"/a\\\"b\\\\c\\nd\",} 1027 1395066363000\n"
	    "  http_requests_total { method = \"get\" }\t3\n"
	    "nan_metric NaN\n"
	    "inf_metric +Inf\n"
	    "neg_inf -Inf -5\n";
	T_EQ_INT(parse(in, TP_PROMETHEUS, &g, err), 0);
	T_EQ_INT(g.n, 5);
	T_EQ_STR(g.first, "__name__=http_requests_total,method=post,path=/a\"b\\c\nd");
	T_EQ_STR(g.help, "Requests \\ served.\nSecond line");
	T_EQ_DBL(g.v[0], 1027, 0);
	T_EQ_INT(g.has_ts[0], 1);
	T_EQ_INT(g.ts[0], 1395066363000LL);
	T_EQ_INT(g.type[0], TP_COUNTER);
	T_EQ_INT(g.has_ts[1], 0);
	T_EQ_DBL(g.v[1], 3, 0);
	T_CHECK(isnan(g.v[2]));
	T_CHECK(isinf(g.v[3]) && g.v[3] > 0);
	T_CHECK(isinf(g.v[4]) && g.v[4] < 0);
	T_EQ_INT(g.ts[4], -5);
	T_EQ_INT(g.type[2], TP_UNTYPED);
}

T_TEST(prom_errors_name_the_line)
{
	struct got g;
	char err[256];
	T_EQ_INT(parse("a 1\nb{x=\"1\" 2\n", TP_PROMETHEUS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 2: expected ',' or '}' after label value");
	T_EQ_INT(g.n, 1);
	T_EQ_INT(parse("a 1\n\nc 1.5 12ms\n", TP_PROMETHEUS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 3: invalid timestamp");
	T_EQ_INT(parse("a 0x1p3\n", TP_PROMETHEUS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 1: invalid value \"0x1p3\"");
	T_EQ_INT(parse("# TYPE a bogus\n", TP_PROMETHEUS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 1: invalid TYPE \"bogus\"");
	T_EQ_INT(parse("a{a=\"1\",a=\"2\"} 1\n", TP_PROMETHEUS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 1: duplicate label \"a\"");
}

T_TEST(om_timestamps_are_seconds)
{
	struct got g;
	char err[256];
	const char *in =
	    "# TYPE a counter\n# UNIT a seconds\n# HELP a help\n"
	    "a_total 1 1.5\n"
	    "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n"
	    "a_seconds 2 1700000000.123\n"
	    "# TYPE h histogram\n"
	    "h_bucket{le=\"1\"} 0 # {trace_id=\"x\"} 0.5 1\n"
	    "h_bucket{le=\"+Inf\"} 2\n"
	    "h_count 2\nh_sum 3\n"
	    "# EOF\n";
	T_EQ_INT(parse(in, TP_OPENMETRICS_STRICT, &g, err), -EINVAL);
	T_EQ_STR(err, "line 2: unit \"seconds\" is not a suffix of metric \"a\"");
	in = "# TYPE a counter\n# HELP a help\n"
	    "a_total 1 1.5\n"
	    "# TYPE a_seconds gauge\n# UNIT a_seconds seconds\n"
	    "a_seconds 2 1700000000.123\n"
	    "# TYPE h histogram\n"
	    "h_bucket{le=\"1\"} 0 # {trace_id=\"x\"} 0.5 1\n"
	    "h_bucket{le=\"+Inf\"} 2\n"
	    "h_count 2\nh_sum 3\n"
	    "# EOF\n";
	T_EQ_INT(parse(in, TP_OPENMETRICS_STRICT, &g, err), 0);
	T_EQ_INT(g.n, 6);
	T_EQ_INT(g.ts[0], 1500);
	T_EQ_INT(g.ts[1], 1700000000123LL);
	T_EQ_STR(g.unit, "seconds");
	T_EQ_INT(g.type[2], TP_HISTOGRAM);
	T_EQ_INT(g.has_ts[2], 0);
	T_EQ_INT(g.ntype, 3);
}

T_TEST(om_requires_eof_and_structure)
{
	struct got g;
	char err[256];
	T_EQ_INT(parse("a 1\n", TP_OPENMETRICS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 2: missing # EOF at the end");
	T_EQ_INT(parse("a 1\n# EOF\nb 1\n", TP_OPENMETRICS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 3: text after # EOF");
	T_EQ_INT(parse("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n# EOF\n", TP_OPENMETRICS, &g, err), -EINVAL);
	T_EQ_STR(err, "line 3: clashing name \"a\"");
	/* the same body is fine as Prometheus text, which has no grouping rule */
	T_EQ_INT(parse("a{x=\"1\"} 1\nb 1\na{x=\"2\"} 1\n", TP_PROMETHEUS, &g, err), 0);
	T_EQ_INT(g.n, 3);
	/* negative counter: refused only by the strict level */
	T_EQ_INT(parse("# TYPE c counter\nc_total -1\n# EOF\n", TP_OPENMETRICS, &g, err), 0);
	T_EQ_INT(parse("# TYPE c counter\nc_total -1\n# EOF\n", TP_OPENMETRICS_STRICT, &g, err), -EINVAL);
	T_EQ_STR(err, "line 2: counter-like values cannot be negative");
}

static int stop_cb(void *ctx, const struct tp_sample *s)
{
	(void)s;
	return ++*(int *)ctx == 2 ? 42 : 0;
}

T_TEST(callback_stops_parse)
{
	int n = 0;
	char err[64];
	struct tp_callbacks cb = { .sample = stop_cb };
	T_EQ_INT(textparse("a 1\nb 2\nc 3\n", 12, TP_PROMETHEUS, &cb, &n, err, sizeof(err)), 42);
	T_EQ_INT(n, 2);
}

T_TEST(content_type_picks_format)
{
	T_EQ_INT(tp_format_from_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"), TP_OPENMETRICS);
	T_EQ_INT(tp_format_from_content_type("text/plain; version=0.0.4"), TP_PROMETHEUS);
	T_EQ_INT(tp_format_from_content_type(NULL), TP_PROMETHEUS);
}

int main(void)
{
	T_RUN(prom_labels_values_and_escapes);
	T_RUN(prom_errors_name_the_line);
	T_RUN(om_timestamps_are_seconds);
	T_RUN(om_requires_eof_and_structure);
	T_RUN(callback_stops_parse);
	T_RUN(content_type_picks_format);
	return t_done();
}
