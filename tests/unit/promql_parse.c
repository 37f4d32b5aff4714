/* promql_parse.c — parser, printer and error-message tests. */
#include <math.h>
#include <stdlib.h>

#include "promql/promql.h"
#include "t.h"

/* Parse q and print it back in canonical form (or the error). */
static char out[4096];
static const char *fmt(const char *q)
{
	struct pq_expr *e;
	char err[512];
	if (pq_parse(q, &e, err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "ERR %s", err);
		return out;
	}
	struct buf b;
	buf_init(&b, 1 << 20);
	pq_format(e, &b);
	snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	pq_free(e);
	return out;
}

T_TEST(precedence)
{
	T_EQ_STR(fmt("1 + 2 * 3"), "1 + 2 * 3");
	T_EQ_STR(fmt("(1 + 2) * 3"), "(1 + 2) * 3");
	T_EQ_STR(fmt("a or b and c"), "a or b and c");
	T_EQ_STR(fmt("2 ^ 3 ^ 2"), "2 ^ 3 ^ 2");
	T_EQ_STR(fmt("-a ^ 2"), "-a ^ 2");
	T_EQ_STR(fmt("a > bool on(x) group_left(y) b"), "a > bool on (x) group_left (y) b");
	T_EQ_STR(fmt("a + ignoring(x) b"), "a + ignoring (x) b");
	T_EQ_STR(fmt("a atan2 b"), "a atan2 b");
}

/* Evaluate a constant expression at t=0 to check associativity for real. */
static double num(const char *q)
{
	struct pq_expr *e;
	char err[512];
	if (pq_parse(q, &e, err, sizeof(err)) < 0)
		return -12345;
	struct storage st = { 0 };
	struct pq_result r;
	double v = -12345;
	if (pq_eval_instant(&st, e, 0, NULL, &r, err, sizeof(err)) == 0 && r.type == PQ_VAL_SCALAR)
		v = r.scalar;
	pq_result_free(&r);
	pq_free(e);
	return v;
}

T_TEST(associativity)
{
	T_EQ_DBL(num("2 ^ 3 ^ 2"), 512, 0);
	T_EQ_DBL(num("-2 ^ 2"), -4, 0);
	T_EQ_DBL(num("10 - 4 - 3"), 3, 0);
	T_EQ_DBL(num("2 * 3 % 4"), 2, 0);
	T_EQ_DBL(num("1 + 2 * 3 ^ 2"), 19, 0);
	T_EQ_DBL(num("1 < bool 2"), 1, 0);
	T_EQ_DBL(num("0x10 + 1"), 17, 0);
	T_EQ_DBL(num("1e3"), 1000, 0);
	T_CHECK(isinf(num("Inf")) && num("-inf") < 0);
	T_CHECK(isnan(num("NaN")));
	T_EQ_DBL(num("5m"), 300, 0);
}

T_TEST(selectors)
{
	T_EQ_STR(fmt("foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\"}"), "foo{a=\"b\", c!=\"d\", e=~\"f.*\", g!~\"h\"}");
	T_EQ_STR(fmt("foo[5m] offset 1h @ 100"), "foo[5m] @ 100.000 offset 1h");
	T_EQ_STR(fmt("rate(foo[1m30s])[1h:5m] offset -5m"), "rate(foo[1m30s])[1h:5m] offset -5m");
	T_EQ_STR(fmt("foo @ start()"), "foo @ start()");
	T_EQ_STR(fmt("foo[5m:]"), "foo[5m:]");
	T_EQ_STR(fmt("{__name__=~\"a|b\"}"), "{__name__=~\"a|b\"}");
	T_EQ_STR(fmt("foo[100]"), "foo[1m40s]");
	T_EQ_STR(fmt("job:rate5m:sum"), "job:rate5m:sum");
}

T_TEST(aggregations)
{
	T_EQ_STR(fmt("sum by (job) (x)"), "sum by (job) (x)");
	T_EQ_STR(fmt("sum(x) by (job)"), "sum by (job) (x)");
	T_EQ_STR(fmt("SUM without (a, b) (x)"), "sum without (a, b) (x)");
	T_EQ_STR(fmt("topk(5, x)"), "topk(5, x)");
	T_EQ_STR(fmt("count_values(\"v\", x)"), "count_values(\"v\", x)");
	T_EQ_STR(fmt("quantile by (a) (0.9, x)"), "quantile by (a) (0.9, x)");
	T_EQ_STR(fmt("limit_ratio(0.5, x)"), "limit_ratio(0.5, x)");
}

T_TEST(errors)
{
	T_EQ_STR(fmt("foo{"), "ERR 1:5: parse error: unexpected end of input inside braces");
	T_EQ_STR(fmt("sum(foo"), "ERR 1:8: parse error: unclosed left parenthesis");
	T_EQ_STR(fmt("rate(foo)"), "ERR 1:6: parse error: expected type range vector in call to function \"rate\", got instant vector");
	T_EQ_STR(fmt("nosuch(foo)"), "ERR 1:1: parse error: unknown function with name \"nosuch\"");
	T_EQ_STR(fmt("1 > 2"), "ERR 1:3: parse error: comparisons between scalars must use BOOL modifier");
	T_EQ_STR(fmt("1 and foo"), "ERR 1:1: parse error: set operator \"and\" not allowed in binary scalar expression");
	T_EQ_STR(fmt("{}"), "ERR 1:1: parse error: vector selector must contain at least one non-empty matcher");
	T_EQ_STR(fmt("foo{x=\"1\"}{y=\"2\"}"), "ERR 1:11: parse error: unexpected {");
	T_EQ_STR(fmt("foo offset 1m offset 2m"), "ERR 1:15: parse error: offset may not be set multiple times");
	T_EQ_STR(fmt("(foo + bar)[5m]"), "ERR 1:12: parse error: ranges only allowed for vector selectors");
	T_EQ_STR(fmt(""), "ERR 1:1: parse error: no expression found in input");
	T_EQ_STR(fmt("foo\n  + )"), "ERR 2:5: parse error: unexpected right parenthesis ')'");
	T_EQ_STR(fmt("foo{a=\"b\"} {{schema:1}}"), "ERR 1:12: parse error: native histograms are not supported");
	T_EQ_STR(fmt("\"abc"), "ERR 1:1: parse error: unterminated quoted string");
	T_EQ_STR(fmt("foo{a=~\"(\"}"), "ERR 1:5: parse error: invalid regular expression \"(\": missing closing parenthesis");
	T_EQ_STR(fmt("x{a=~\"\\xff\"}"), "ERR 1:6: parse error: invalid regular expression: invalid UTF-8");
	T_EQ_STR(fmt("time()[5m:1m]"), "ERR 1:1: parse error: subquery is only allowed on instant vector, got scalar instead");
	T_EQ_STR(fmt("foo[5m"), "ERR 1:7: parse error: unclosed left bracket");
	T_EQ_STR(fmt("foo}"), "ERR 1:4: parse error: unexpected character: '}'");
	/* these read exactly as Prometheus's own answers to the same queries */
	T_EQ_STR(fmt("sum(foo) by"), "ERR 1:12: parse error: unexpected end of input in grouping opts, expected \"(\"");
	T_EQ_STR(fmt("foo offset"), "ERR 1:11: parse error: unexpected end of input in offset, expected duration");
	T_EQ_STR(fmt("foo @"), "ERR 1:6: parse error: unexpected end of input in @, expected timestamp");
	T_EQ_STR(fmt("foo[0s]"), "ERR 1:5: parse error: duration must be greater than 0");
	T_EQ_STR(fmt("foo + on(a) group_left(a) bar"), "ERR 1:5: parse error: label \"a\" must not occur in ON and GROUP clause at once");
	T_EQ_STR(fmt("avg(foo, bar)"), "ERR 1:1: parse error: wrong number of arguments for aggregate expression provided, expected 1, got 2");
	T_EQ_STR(fmt("foo[5m:1m:1m]"), "ERR 1:10: parse error: unexpected colon ':'");
	T_EQ_STR(fmt("-\"a\""), "ERR 1:1: parse error: unary expression only allowed on expressions of type scalar or instant vector, got \"string\"");
	T_EQ_STR(fmt("topk(x)"), "ERR 1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1");
}

T_TEST(strings_and_numbers)
{
	T_EQ_STR(fmt("\"a\\nb\\x41\\u00e9\""), "\"a\\nbAé\"");
	T_EQ_STR(fmt("`raw\\n`"), "\"raw\\\\n\"");
	T_EQ_STR(fmt("'single'"), "\"single\"");
	T_EQ_STR(fmt("1000000"), "1e+06");
	T_EQ_STR(fmt("0.5"), "0.5");
	T_EQ_STR(fmt("-Inf"), "-Inf");
}

T_TEST(fmt_float)
{
	char b[64];
	pq_fmt_float(0.1, b, sizeof(b));
	T_EQ_STR(b, "0.1");
	pq_fmt_float(1e21, b, sizeof(b));
	T_EQ_STR(b, "1000000000000000000000");
	pq_fmt_float(1.5e-7, b, sizeof(b));
	T_EQ_STR(b, "0.00000015");
	pq_fmt_float(-INFINITY, b, sizeof(b));
	T_EQ_STR(b, "-Inf");
	pq_fmt_float(1435781451.781, b, sizeof(b));
	T_EQ_STR(b, "1435781451.781");
}

T_TEST(pretty)
{
	struct pq_expr *e;
	char err[256];
	const char *q = "sum by (job) (rate(http_requests_total{job=\"api-server\",handler=~\"/api/v1/.*\"}[5m])) / on (job) group_left sum by (job) (rate(http_requests_total[5m]))";
	T_EQ_INT(pq_parse(q, &e, err, sizeof(err)), 0);
	struct buf b;
	buf_init(&b, 1 << 16);
	pq_format_pretty(e, &b);
	T_EQ_STR(b.data,
	    "  sum by (job) (rate(http_requests_total{job=\"api-server\", handler=~\"/api/v1/.*\"}[5m]))\n"
	    "/ on (job) group_left ()\n"
	    "  sum by (job) (rate(http_requests_total[5m]))");
	buf_free(&b);
	pq_free(e);
	/* an operand that is itself too long splits again, by its own rule */
	q = "sum by (job, instance, handler, method, status_code) (rate(http_requests_total{job=\"api-server\"}[5m]))";
	T_EQ_INT(pq_parse(q, &e, err, sizeof(err)), 0);
	buf_init(&b, 1 << 16);
	pq_format_pretty(e, &b);
	T_EQ_STR(b.data,
	    "sum by (job, instance, handler, method, status_code) (\n"
	    "  rate(http_requests_total{job=\"api-server\"}[5m])\n"
	    ")");
	buf_free(&b);
	pq_free(e);
	T_EQ_INT(pq_parse("sum(x)", &e, err, sizeof(err)), 0);
	buf_init(&b, 1 << 16);
	pq_format_pretty(e, &b);
	T_EQ_STR(b.data, "sum(x)");
	buf_free(&b);
	pq_free(e);
}

T_TEST(deep_nesting_rejected)
{
	char q[2000];
	memset(q, '(', 600);
	q[600] = '1';
	memset(q + 601, ')', 600);
	q[1201] = 0;
	struct pq_expr *e;
	char err[256];
	T_CHECK(pq_parse(q, &e, err, sizeof(err)) == PQ_ERR_BAD_DATA);
	T_CHECK(strstr(err, "nested too deeply") != NULL);
}

int main(void)
{
	T_RUN(precedence);
	T_RUN(associativity);
	T_RUN(selectors);
	T_RUN(aggregations);
	T_RUN(errors);
	T_RUN(strings_and_numbers);
	T_RUN(fmt_float);
	T_RUN(pretty);
	T_RUN(deep_nesting_rejected);
	return t_done();
}
