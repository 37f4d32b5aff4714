/* promql_api.c — the /api/v1 handlers' JSON shapes, status codes and
 * parameter parsing, against memstore. */
#include <errno.h>
#include <stdlib.h>

#include "api/promapi.h"
#include "core/batch.h"
#include "promql/promql.h"
#include "tsdb/memstore.h"
#include "t.h"

static struct storage st;
static struct buf body;
static int status;

static void add(const char *name, const char *k, const char *v, int64_t t, double val)
{
	struct label l[2] = { { "__name__", name }, { k, v } };
	struct labels *ls = labels_new(l, k ? 2 : 1);
	st.ops->append(st.impl, ls, t, val);
	labels_free(ls);
}

/* Run one request: method, path, then a form string. */
static const char *req(const char *method, const char *path, const char *form)
{
	struct promapi_request rq = { .method = method, .path = path, .now_ms = 1000000 };
	if (form && promapi_parse_params(&rq, form, strlen(form)) < 0) {
		promapi_request_free(&rq);
		return "PARAMS";
	}
	buf_reset(&body);
	promapi_handle(&st, &rq, &body, &status);
	promapi_request_free(&rq);
	return body.data ? body.data : "";
}

T_TEST(instant_vector)
{
	T_EQ_STR(req("GET", "/query", "query=up&time=60"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	    "{\"metric\":{\"__name__\":\"up\",\"job\":\"a\"},\"value\":[60,\"1\"]},"
	    "{\"metric\":{\"__name__\":\"up\",\"job\":\"b\"},\"value\":[60,\"0\"]}]}}");
	T_EQ_INT(status, 200);
	T_EQ_STR(req("POST", "/query", "query=sum(up)%20by%20(job)&time=1970-01-01T00:01:00.5Z"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	    "{\"metric\":{\"job\":\"a\"},\"value\":[60.500,\"1\"]},"
	    "{\"metric\":{\"job\":\"b\"},\"value\":[60.500,\"0\"]}]}}");
}

T_TEST(instant_scalar_string_matrix)
{
	T_EQ_STR(req("GET", "/query", "query=1%2B1&time=100"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[100,\"2\"]}}");
	T_EQ_STR(req("GET", "/query", "query=%22hi%22&time=100"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"string\",\"result\":[100,\"hi\"]}}");
	T_EQ_STR(req("GET", "/query", "query=up{job=\"a\"}[1m]&time=60"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
	    "{\"metric\":{\"__name__\":\"up\",\"job\":\"a\"},\"values\":[[30,\"1\"],[60,\"1\"]]}]}}");
	T_EQ_STR(req("GET", "/query", "query=1/0&time=1"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"+Inf\"]}}");
	T_EQ_STR(req("GET", "/query", "query=1.5e-7&time=-1.007"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[-1.007,\"1.5e-07\"]}}");
	T_EQ_STR(req("GET", "/query", "query=2e21&time=0"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[0,\"2e+21\"]}}");
}

T_TEST(lookback_delta)
{
	/* samples every 30s up to 60s; at 100s only a lookback >= 40s finds them */
	T_EQ_STR(req("GET", "/query", "query=up{job=\"a\"}&time=100&lookback_delta=30s"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}");
	T_EQ_STR(req("GET", "/query", "query=up{job=\"a\"}&time=100&lookback_delta=41"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
	    "{\"metric\":{\"__name__\":\"up\",\"job\":\"a\"},\"value\":[100,\"1\"]}]}}");
	req("GET", "/query", "query=up&lookback_delta=soon");
	T_EQ_INT(status, 400);
}

T_TEST(range_query)
{
	T_EQ_STR(req("GET", "/query_range", "query=up{job=\"b\"}&start=0&end=60&step=30s"),
	    "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":["
	    "{\"metric\":{\"__name__\":\"up\",\"job\":\"b\"},\"values\":[[0,\"0\"],[30,\"0\"],[60,\"0\"]]}]}}");
	T_EQ_INT(status, 200);
	T_EQ_STR(req("GET", "/query_range", "query=up&start=60&end=0&step=30"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"end timestamp must not be before start time\"}");
	T_EQ_INT(status, 400);
	T_EQ_STR(req("GET", "/query_range", "query=up&start=0&end=60&step=0"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"zero or negative query resolution step widths are not accepted. Try a positive integer\"}");
	req("GET", "/query_range", "query=up&start=0&end=100000&step=1");
	T_EQ_INT(status, 400);
	T_CHECK(strstr(body.data, "exceeded maximum resolution of 11,000 points") != NULL);
	T_EQ_STR(req("GET", "/query_range", "query=up[5m]&start=0&end=60&step=30"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": invalid expression type \\\"range vector\\\" for range query, must be Scalar or instant Vector\"}");
	T_EQ_STR(req("GET", "/query_range", "query=up&start=abc&end=60&step=30"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"start\\\": cannot parse \\\"abc\\\" to a valid timestamp\"}");
}

T_TEST(errors)
{
	T_EQ_STR(req("GET", "/query", "query=sum(&time=1"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:5: parse error: unclosed left parenthesis\"}");
	T_EQ_INT(status, 400);
	T_EQ_STR(req("GET", "/query", "time=1"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"query\\\": 1:1: parse error: no expression found in input\"}");
	req("GET", "/query", "query=up%20%2B%20on()%20up&time=60");
	T_EQ_INT(status, 422);
	T_CHECK(strstr(body.data, "\"errorType\":\"execution\"") != NULL);
	req("GET", "/nope", NULL);
	T_EQ_INT(status, 404);
	req("DELETE", "/query", NULL);
	T_EQ_INT(status, 405);
	T_EQ_STR(req("GET", "/query", "query=up&time=1%zz"), "PARAMS");
}

T_TEST(sample_limit)
{
	struct promapi_request rq = { .method = "GET", .path = "/query", .max_samples = 2 };
	const char *f = "query=count_over_time(up[1m])&time=60";
	promapi_parse_params(&rq, f, strlen(f));
	buf_reset(&body);
	promapi_handle(&st, &rq, &body, &status);
	promapi_request_free(&rq);
	T_EQ_INT(status, 422);
	T_EQ_STR(body.data, "{\"status\":\"error\",\"errorType\":\"execution\",\"error\":\"query processing would load too many samples into memory in query execution\"}");
}

T_TEST(series_labels_values)
{
	T_EQ_STR(req("GET", "/series", "match[]=up&match[]=other"),
	    "{\"status\":\"success\",\"data\":[{\"__name__\":\"other\"},"
	    "{\"__name__\":\"up\",\"job\":\"a\"},{\"__name__\":\"up\",\"job\":\"b\"}]}");
	T_EQ_STR(req("GET", "/series", NULL),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"no match[] parameter provided\"}");
	T_EQ_STR(req("GET", "/labels", NULL), "{\"status\":\"success\",\"data\":[\"__name__\",\"job\"]}");
	T_EQ_STR(req("GET", "/labels", "match[]=other"), "{\"status\":\"success\",\"data\":[\"__name__\"]}");
	T_EQ_STR(req("GET", "/label/job/values", NULL), "{\"status\":\"success\",\"data\":[\"a\",\"b\"]}");
	T_EQ_STR(req("GET", "/label/__name__/values", "start=0&end=10"), "{\"status\":\"success\",\"data\":[\"other\",\"up\"]}");
	T_EQ_STR(req("GET", "/metadata", NULL), "{\"status\":\"success\",\"data\":{}}");
	T_EQ_STR(req("GET", "/query_exemplars", "query=up"), "{\"status\":\"success\",\"data\":[]}");
	T_EQ_STR(req("GET", "/label/job/values", "limit=1"),
	    "{\"status\":\"success\",\"data\":[\"a\"],\"warnings\":[\"results truncated due to limit\"]}");
	T_EQ_STR(req("GET", "/series", "match[]=up&limit=1"),
	    "{\"status\":\"success\",\"data\":[{\"__name__\":\"up\",\"job\":\"a\"}],\"warnings\":[\"results truncated due to limit\"]}");
	T_EQ_STR(req("GET", "/labels", "limit=-1"),
	    "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid parameter \\\"limit\\\": limit must be non-negative\"}");
	req("GET", "/series", "match[]=sum(up)");
	T_EQ_INT(status, 400);
}

T_TEST(format_and_status)
{
	T_EQ_STR(req("GET", "/format_query", "query=sum(rate(x[5m]))by(job)"),
	    "{\"status\":\"success\",\"data\":\"sum by (job) (rate(x[5m]))\"}");
	req("GET", "/status/buildinfo", NULL);
	T_CHECK(strstr(body.data, "\"version\":\"") != NULL);
	req("GET", "/status/runtimeinfo", NULL);
	T_CHECK(strstr(body.data, "\"storageRetention\"") != NULL);
	req("GET", "/status/flags", NULL);
	T_EQ_INT(status, 200);
}

T_TEST(response_too_large)
{
	struct promapi_request rq = { .method = "GET", .path = "/series" };
	const char *f = "match[]=up";
	promapi_parse_params(&rq, f, strlen(f));
	struct buf small;
	buf_init(&small, 80);
	int st2;
	T_EQ_INT(promapi_handle(&st, &rq, &small, &st2), -E2BIG);
	T_EQ_INT(st2, 500);
	T_EQ_STR(small.data, "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"response too large\"}");
	buf_free(&small);
	promapi_request_free(&rq);
}

T_TEST(params_and_times)
{
	struct promapi_request rq = { 0 };
	const char *body_form = "query=a&x=1", *qs = "query=b&y=%2B2+3";
	T_EQ_INT(promapi_parse_params(&rq, body_form, strlen(body_form)), 0);
	T_EQ_INT(promapi_parse_params(&rq, qs, strlen(qs)), 0);
	T_EQ_STR(promapi_param(&rq, "query"), "a");
	T_EQ_STR(promapi_param(&rq, "y"), "+2 3");
	const char *semi = "a=1;b=2&c=3";
	T_EQ_INT(promapi_parse_params(&rq, semi, strlen(semi)), 0);
	T_CHECK(promapi_param(&rq, "a") == NULL);
	T_EQ_STR(promapi_param(&rq, "c"), "3");
	promapi_request_free(&rq);
	/* POST form values come first; other content types are not read */
	struct promapi_request pr = { .method = "POST" };
	const char *qs2 = "query=fromurl&time=5", *bd = "query=frombody";
	T_EQ_INT(promapi_parse_request(&pr, qs2, strlen(qs2), bd, strlen(bd), "application/x-www-form-urlencoded; charset=utf-8"), 0);
	T_EQ_STR(promapi_param(&pr, "query"), "frombody");
	T_EQ_STR(promapi_param(&pr, "time"), "5");
	promapi_request_free(&pr);
	T_EQ_INT(promapi_parse_request(&pr, qs2, strlen(qs2), bd, strlen(bd), "application/json"), 0);
	T_EQ_STR(promapi_param(&pr, "query"), "fromurl");
	promapi_request_free(&pr);
	int64_t ms;
	T_EQ_INT(promapi_parse_time("1435781451.781", &ms), 0);
	T_EQ_INT(ms, 1435781451781LL);
	T_EQ_INT(promapi_parse_time("2015-07-01T20:10:51.781Z", &ms), 0);
	T_EQ_INT(ms, 1435781451781LL);
	T_EQ_INT(promapi_parse_time("2015-07-01T22:10:51+02:00", &ms), 0);
	T_EQ_INT(ms, 1435781451000LL);
	T_EQ_INT(promapi_parse_time("yesterday", &ms), -EINVAL);
	T_EQ_INT(promapi_parse_duration("1m30s", &ms), 0);
	T_EQ_INT(ms, 90000);
	T_EQ_INT(promapi_parse_duration("0.5", &ms), 0);
	T_EQ_INT(ms, 500);
}

int main(void)
{
	memstore_open(&st);
	buf_init(&body, BUF_CAP_HTTP_BODY);
	for (int64_t t = 0; t <= 60000; t += 30000) {
		add("up", "job", "a", t, 1);
		add("up", "job", "b", t, 0);
	}
	add("other", NULL, NULL, 0, 5);
	st.ops->commit(st.impl);
	T_RUN(instant_vector);
	T_RUN(instant_scalar_string_matrix);
	T_RUN(lookback_delta);
	T_RUN(range_query);
	T_RUN(errors);
	T_RUN(sample_limit);
	T_RUN(series_labels_values);
	T_RUN(format_and_status);
	T_RUN(response_too_large);
	T_RUN(params_and_times);
	buf_free(&body);
	st.ops->close(st.impl);
	return t_done();
}
