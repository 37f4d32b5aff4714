/* promapi.c — Prometheus /api/v1 handlers with Prometheus's JSON shapes
 * and error messages. See promapi.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "api/promapi.h"
#include "core/clock.h"
#include "core/xmalloc.h"
#include "promql/promql.h"

#define API_MIN_TIME (-9223372036854775807LL / 2)	/* "no start" for series/labels */
#define API_MAX_TIME (9223372036854775807LL / 2)	/* "no end" */
#define API_DEFAULT_TIMEOUT_MS 120000			/* Prometheus's -query.timeout */
#define API_MATCHERS_MAX 64				/* match[] selectors per request */

static int hexv(int c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

static char *url_decode(const char *s, size_t n, int *err)
{
	if (n > PROMAPI_PARAM_MAX) {
		*err = 1;
		return NULL;
	}
	char *o = xmalloc(n + 1);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			o[k++] = ' ';
		} else if (s[i] == '%') {
			int a = i + 1 < n ? hexv((unsigned char)s[i + 1]) : -1;
			int b = i + 2 < n ? hexv((unsigned char)s[i + 2]) : -1;
			int h = (a < 0 || b < 0) ? -1 : a * 16 + b;
			if (h < 0) {
				free(o);
				*err = 1;
				return NULL;
			}
			o[k++] = (char)h;
			i += 2;
		} else {
			o[k++] = s[i];
		}
	}
	o[k] = 0;
	return o;
}

int promapi_parse_params(struct promapi_request *req, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t j = i;
		int semicolon = 0;
		while (j < n && s[j] != '&')
			semicolon |= s[j++] == ';';
		/* Go (and so Prometheus) drops a pair that holds a ';' */
		if (j > i && !semicolon) {
			size_t eq = i;
			while (eq < j && s[eq] != '=')
				eq++;
			int err = 0;
			char *name = url_decode(s + i, eq - i, &err);
			char *val = err ? NULL : url_decode(s + (eq < j ? eq + 1 : j), eq < j ? j - eq - 1 : 0, &err);
			if (err || req->nparams >= PROMAPI_PARAMS_MAX) {
				free(name);
				free(val);
				return -EINVAL;
			}
			req->params = xreallocarray(req->params, req->nparams + 1, sizeof(*req->params));
			req->params[req->nparams].name = name;
			req->params[req->nparams].value = val;
			req->nparams++;
		}
		i = j + 1;
	}
	return 0;
}

int promapi_parse_request(struct promapi_request *req, const char *query, size_t qlen,
    const char *body, size_t blen, const char *content_type)
{
	static const char form[] = "application/x-www-form-urlencoded";
	int is_post = req->method && strcmp(req->method, "POST") == 0;
	if (is_post && body && content_type && strncasecmp(content_type, form, sizeof(form) - 1) == 0 &&
	    (content_type[sizeof(form) - 1] == 0 || content_type[sizeof(form) - 1] == ';' ||
	    content_type[sizeof(form) - 1] == ' ') && promapi_parse_params(req, body, blen) < 0)
		return -EINVAL;
	if (query && promapi_parse_params(req, query, qlen) < 0)
		return -EINVAL;
	return 0;
}

void promapi_request_free(struct promapi_request *req)
{
	if (!req)
		return;
	for (size_t i = 0; i < req->nparams; i++) {
		free(req->params[i].name);
		free(req->params[i].value);
	}
	free(req->params);
	req->params = NULL;
	req->nparams = 0;
}

const char *promapi_param(const struct promapi_request *req, const char *name)
{
	for (size_t i = 0; i < req->nparams; i++)
		if (strcmp(req->params[i].name, name) == 0)
			return req->params[i].value;
	return NULL;
}

/* Go's RFC3339Nano: 2006-01-02T15:04:05.999999999Z07:00 */
static int parse_rfc3339(const char *s, int64_t *ms)
{
	int Y, M, D, h, m, sec, n = 0;
	if (sscanf(s, "%4d-%2d-%2d%*[Tt]%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
		return -EINVAL;
	const char *p = s + n;
	double frac = 0;
	if (*p == '.') {
		double scale = 0.1;
		p++;
		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		while (isdigit((unsigned char)*p)) {
			frac += (*p - '0') * scale;
			scale /= 10;
			p++;
		}
	}
	int off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, k = 0;
		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k) != 2 || k != 5)
			return -EINVAL;
		off = (oh * 60 + om) * 60 * (*p == '-' ? -1 : 1);
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60)
		return -EINVAL;
	struct tm tm = { .tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec };
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - off) * 1000 + (int64_t)llround(frac * 1000);
	return 0;
}

int promapi_parse_time(const char *s, int64_t *ms)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	double v = strtod(s, &end);
	if (end != s && *end == 0 && !isnan(v)) {
		if (fabs(v) > 9.2e15)
			return -EINVAL;
		double ip, fp = modf(v, &ip);
		*ms = (int64_t)ip * 1000 + (int64_t)llround(round(fp * 1000));
		return 0;
	}
	return parse_rfc3339(s, ms);
}

int promapi_parse_duration(const char *s, int64_t *ms)
{
	char *end;
	if (!s || !*s)
		return -EINVAL;
	double v = strtod(s, &end);
	if (end != s && *end == 0 && !isnan(v)) {
		if (fabs(v) * 1000 > 9.2e18)
			return -EINVAL;
		*ms = (int64_t)(v * 1000);
		return 0;
	}
	return clock_parse_duration(s, ms) == 0 ? 0 : -EINVAL;
}

static void json_str(struct buf *b, const char *s)
{
	buf_add_json_str(b, s, strlen(s));
}

/* Room json_point asks for: ",[" + time (25) + ",\"" + value (below 48) + "\"]". */
#define JSON_POINT_MAX 96

/* Seconds as Prometheus writes them: whole part, then ".ddd" only when the
 * milliseconds are not zero (kept three digits wide: 60.500, 1.007). Writes
 * at most 25 bytes at p; returns the count. */
static size_t fmt_time(char *p, int64_t ms)
{
	uint64_t a = ms < 0 ? (uint64_t)0 - (uint64_t)ms : (uint64_t)ms;
	size_t n = 0;
	if (ms < 0)
		p[n++] = '-';
	n += pq_fmt_u64(a / 1000, p + n);
	unsigned frac = (unsigned)(a % 1000);
	if (frac) {
		p[n++] = '.';
		p[n++] = (char)('0' + frac / 100);
		p[n++] = (char)('0' + frac / 10 % 10);
		p[n++] = (char)('0' + frac % 10);
	}
	return n;
}

/* Append "[t,\"v\"]" (after a comma unless first) straight into b's
 * memory: a range answer holds millions of these. 0 or -E2BIG. */
static int json_point(struct buf *b, int first, int64_t t, double v)
{
	if (b->size - b->len < JSON_POINT_MAX + 1 && buf_reserve(b, JSON_POINT_MAX) < 0)
		return -E2BIG;
	char *p = b->data + b->len, *p0 = p;
	if (!first)
		*p++ = ',';
	*p++ = '[';
	p += fmt_time(p, t);
	*p++ = ',';
	*p++ = '"';
	p += pq_fmt_json_float(v, p, 48);
	*p++ = '"';
	*p++ = ']';
	b->len += (size_t)(p - p0);
	b->data[b->len] = 0;
	return 0;
}

static void json_float_str(struct buf *b, double v)
{
	char f[64];
	size_t n = pq_fmt_json_float(v, f, sizeof(f));
	buf_addc(b, '"');
	buf_add(b, f, n);
	buf_addc(b, '"');
}

static void json_time(struct buf *b, int64_t ms)
{
	char f[32];
	buf_add(b, f, fmt_time(f, ms));
}

static void json_labels(struct buf *b, const struct labels *ls)
{
	buf_addc(b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		if (i)
			buf_addc(b, ',');
		json_str(b, ls->v[i].name);
		buf_addc(b, ':');
		json_str(b, ls->v[i].value);
	}
	buf_addc(b, '}');
}

static int api_error(struct buf *b, int *status, int code, const char *type, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static int api_error(struct buf *b, int *status, int code, const char *type, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	buf_reset(b);
	buf_adds(b, "{\"status\":\"error\",\"errorType\":");
	json_str(b, type);
	buf_adds(b, ",\"error\":");
	json_str(b, msg);
	buf_adds(b, "}");
	*status = code;
	return 0;
}

static int engine_error(struct buf *b, int *status, int rc, const char *err, const char *param)
{
	if (rc == PQ_ERR_BAD_DATA)
		return param ? api_error(b, status, 400, "bad_data", "invalid parameter \"%s\": %s", param, err) :
		    api_error(b, status, 400, "bad_data", "%s", err);
	if (rc == PQ_ERR_TIMEOUT)
		return api_error(b, status, 503, "timeout", "%s", err);
	return api_error(b, status, 422, "execution", "%s", err);
}

static void notes_json(struct buf *b, const struct pq_result *r)
{
	for (int warn = 1; warn >= 0; warn--) {
		size_t c = 0;
		for (size_t i = 0; i < r->nnotes; i++) {
			if (r->note_is_warn[i] != warn)
				continue;
			buf_adds(b, c++ ? "," : (warn ? ",\"warnings\":[" : ",\"infos\":["));
			json_str(b, r->notes[i]);
		}
		if (c)
			buf_addc(b, ']');
	}
}

static void result_json(struct buf *b, const struct pq_result *r)
{
	buf_adds(b, "{\"status\":\"success\",\"data\":{\"resultType\":");
	json_str(b, pq_value_type_name(r->type));
	buf_adds(b, ",\"result\":");
	switch (r->type) {
	case PQ_VAL_SCALAR:
		buf_addc(b, '[');
		json_time(b, r->t);
		buf_addc(b, ',');
		json_float_str(b, r->scalar);
		buf_addc(b, ']');
		break;
	case PQ_VAL_STRING:
		buf_addc(b, '[');
		json_time(b, r->t);
		buf_addc(b, ',');
		json_str(b, r->str);
		buf_addc(b, ']');
		break;
	case PQ_VAL_VECTOR:
	case PQ_VAL_MATRIX:
		if (r->type == PQ_VAL_MATRIX) {
			/* size the body once (about 30 bytes a point) instead of
			 * growing a big answer by doubling */
			size_t points = 0;
			for (size_t i = 0; i < r->n; i++)
				points += r->series[i].n;
			if (points < b->cap / 32)
				buf_reserve(b, points * 30 + r->n * 128);
		}
		buf_addc(b, '[');
		for (size_t i = 0; i < r->n; i++) {
			const struct pq_series *s = &r->series[i];
			buf_adds(b, i ? ",{\"metric\":" : "{\"metric\":");
			json_labels(b, s->labels);
			if (r->type == PQ_VAL_VECTOR) {
				buf_adds(b, ",\"value\":[");
				json_time(b, s->t[0]);
				buf_addc(b, ',');
				json_float_str(b, s->v[0]);
				buf_adds(b, "]}");
				continue;
			}
			buf_adds(b, ",\"values\":[");
			for (size_t k = 0; k < s->n; k++) {
				if (json_point(b, k == 0, s->t[k], s->v[k]) < 0) {
					/* over the cap: an empty body makes promapi_handle
					 * answer "response too large" */
					buf_reset(b);
					return;
				}
			}
			buf_adds(b, "]}");
		}
		buf_addc(b, ']');
		break;
	default:
		buf_adds(b, "null");
	}
	buf_addc(b, '}');
	notes_json(b, r);
	buf_addc(b, '}');
}

static void opts_from(const struct promapi_request *rq, int64_t timeout, struct pq_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->lookback_ms = rq->lookback_ms;
	o->max_samples = rq->max_samples;
	int64_t cap = rq->timeout_ms > 0 ? rq->timeout_ms : API_DEFAULT_TIMEOUT_MS;
	o->timeout_ms = timeout > 0 && timeout < cap ? timeout : cap;
}

static int get_timeout(const struct promapi_request *rq, struct buf *b, int *status, int64_t *timeout)
{
	const char *s = promapi_param(rq, "timeout");
	*timeout = 0;
	if (s && *s && promapi_parse_duration(s, timeout) < 0) {
		api_error(b, status, 400, "bad_data", "invalid parameter \"timeout\": cannot parse \"%s\" to a valid duration", s);
		return -1;
	}
	return 0;
}

/* lookback_delta= overrides the lookback for one query (Prometheus 3). */
static int get_lookback(const struct promapi_request *rq, struct buf *b, int *status, struct pq_opts *o)
{
	const char *s = promapi_param(rq, "lookback_delta");
	int64_t ms;
	if (!s || !*s)
		return 0;
	if (promapi_parse_duration(s, &ms) < 0 || ms < 0) {
		api_error(b, status, 400, "bad_data", "error parsing lookback delta duration: cannot parse \"%s\" to a valid duration", s);
		return -1;
	}
	if (ms > 0)
		o->lookback_ms = ms;
	return 0;
}

static int64_t now_ms(const struct promapi_request *rq)
{
	return rq->now_ms ? rq->now_ms : clock_wall_ms();
}

static int h_query(struct storage *st, const struct promapi_request *rq, struct buf *b, int *status)
{
	int64_t t = now_ms(rq), timeout;
	const char *ts = promapi_param(rq, "time");
	if (ts && *ts && promapi_parse_time(ts, &t) < 0)
		return api_error(b, status, 400, "bad_data", "invalid parameter \"time\": cannot parse \"%s\" to a valid timestamp", ts);
	if (get_timeout(rq, b, status, &timeout) < 0)
		return 0;
	const char *q = promapi_param(rq, "query");
	char err[1024];
	struct pq_expr *e;
	int rc = pq_parse(q ? q : "", &e, err, sizeof(err));
	if (rc < 0)
		return engine_error(b, status, rc, err, "query");
	struct pq_opts o;
	opts_from(rq, timeout, &o);
	if (get_lookback(rq, b, status, &o) < 0) {
		pq_free(e);
		return 0;
	}
	struct pq_result r;
	rc = pq_eval_instant(st, e, t, &o, &r, err, sizeof(err));
	pq_free(e);
	if (rc < 0)
		return engine_error(b, status, rc, err, NULL);
	result_json(b, &r);
	pq_result_free(&r);
	*status = 200;
	return 0;
}

static int h_query_range(struct storage *st, const struct promapi_request *rq, struct buf *b, int *status)
{
	int64_t start, end, step, timeout;
	const char *s = promapi_param(rq, "start"), *e_s = promapi_param(rq, "end"), *st_s = promapi_param(rq, "step");
	if (promapi_parse_time(s, &start) < 0)
		return api_error(b, status, 400, "bad_data", "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", s ? s : "");
	if (promapi_parse_time(e_s, &end) < 0)
		return api_error(b, status, 400, "bad_data", "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", e_s ? e_s : "");
	if (end < start)
		return api_error(b, status, 400, "bad_data", "end timestamp must not be before start time");
	if (promapi_parse_duration(st_s, &step) < 0)
		return api_error(b, status, 400, "bad_data", "invalid parameter \"step\": cannot parse \"%s\" to a valid duration", st_s ? st_s : "");
	if (step <= 0)
		return api_error(b, status, 400, "bad_data", "zero or negative query resolution step widths are not accepted. Try a positive integer");
	if ((end - start) / step > 11000)
		return api_error(b, status, 400, "bad_data", "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
	if (get_timeout(rq, b, status, &timeout) < 0)
		return 0;
	const char *q = promapi_param(rq, "query");
	char err[1024];
	struct pq_expr *e;
	int rc = pq_parse(q ? q : "", &e, err, sizeof(err));
	if (rc < 0)
		return engine_error(b, status, rc, err, "query");
	struct pq_opts o;
	opts_from(rq, timeout, &o);
	if (get_lookback(rq, b, status, &o) < 0) {
		pq_free(e);
		return 0;
	}
	struct pq_result r;
	rc = pq_eval_range(st, e, start, end, step, &o, &r, err, sizeof(err));
	pq_free(e);
	if (rc < 0)
		return engine_error(b, status, rc, err, rc == PQ_ERR_BAD_DATA ? "query" : NULL);
	result_json(b, &r);
	pq_result_free(&r);
	*status = 200;
	return 0;
}

/* Parse every match[] into selector expressions. */
static int get_matchers(const struct promapi_request *rq, struct pq_expr **sel, size_t *n,
    struct buf *b, int *status)
{
	*n = 0;
	for (size_t i = 0; i < rq->nparams; i++) {
		if (strcmp(rq->params[i].name, "match[]") != 0)
			continue;
		if (*n == API_MATCHERS_MAX) {
			api_error(b, status, 400, "bad_data", "too many match[] parameters (most %d)", API_MATCHERS_MAX);
			return -1;
		}
		char err[1024];
		struct pq_expr *e;
		if (pq_parse(rq->params[i].value, &e, err, sizeof(err)) < 0) {
			api_error(b, status, 400, "bad_data", "invalid parameter \"match[]\": %s", err);
			return -1;
		}
		if (!pq_expr_is_selector(e)) {
			pq_free(e);
			api_error(b, status, 400, "bad_data", "invalid parameter \"match[]\": 1:1: parse error: unexpected expression, expected a vector selector");
			return -1;
		}
		sel[(*n)++] = e;
	}
	return 0;
}

static int get_range(const struct promapi_request *rq, int64_t *start, int64_t *end,
    struct buf *b, int *status)
{
	const char *s = promapi_param(rq, "start"), *e = promapi_param(rq, "end");
	*start = API_MIN_TIME;
	*end = API_MAX_TIME;
	if (s && *s && promapi_parse_time(s, start) < 0) {
		api_error(b, status, 400, "bad_data", "invalid parameter \"start\": cannot parse \"%s\" to a valid timestamp", s);
		return -1;
	}
	if (e && *e && promapi_parse_time(e, end) < 0) {
		api_error(b, status, 400, "bad_data", "invalid parameter \"end\": cannot parse \"%s\" to a valid timestamp", e);
		return -1;
	}
	return 0;
}

/* limit=N for series/labels/values: 0 (none) or N; -1 with an error written. */
static long get_limit(const struct promapi_request *rq, struct buf *b, int *status)
{
	const char *s = promapi_param(rq, "limit");
	if (!s || !*s)
		return 0;
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || end == s) {
		api_error(b, status, 400, "bad_data", "invalid parameter \"limit\": strconv.Atoi: parsing \"%s\": invalid syntax", s);
		return -1;
	}
	if (v < 0) {
		api_error(b, status, 400, "bad_data", "invalid parameter \"limit\": limit must be non-negative");
		return -1;
	}
	return v;
}

static int cmp_lbl(const void *a, const void *b)
{
	return labels_cmp(*(struct labels *const *)a, *(struct labels *const *)b);
}

static int h_series(struct storage *st, const struct promapi_request *rq, struct buf *b, int *status)
{
	struct pq_expr *sel[API_MATCHERS_MAX];
	size_t n;
	int64_t start, end;
	long limit = 0;
	if (get_matchers(rq, sel, &n, b, status) < 0 || get_range(rq, &start, &end, b, status) < 0 ||
	    (limit = get_limit(rq, b, status)) < 0)
		goto out_n;
	if (n == 0) {
		api_error(b, status, 400, "bad_data", "no match[] parameter provided");
		goto out;
	}
	struct labels **all = NULL;
	size_t na = 0;
	for (size_t i = 0; i < n; i++) {
		struct storage_result r;
		char err[256] = "";
		size_t nm;
		const struct matcher *ms = pq_expr_matchers(sel[i], &nm);
		/* only labels are needed: "series" tells the store it may skip samples
		 * (as Prometheus's Select hints do for this endpoint) */
		struct select_hints h = { .func = "series" };
		int rc = st->ops->select(st->impl, ms, nm, start, end, &h, &r, err, sizeof(err));
		if (rc < 0) {
			api_error(b, status, 422, "execution", "%s", err[0] ? err : strerror(-rc));
			for (size_t j = 0; j < na; j++)
				labels_free(all[j]);
			free(all);
			goto out;
		}
		all = xreallocarray(all, na + r.n + 1, sizeof(*all));
		for (size_t j = 0; j < r.n; j++) {
			all[na++] = r.series[j].labels;
			r.series[j].labels = NULL;
		}
		storage_result_free(&r);
	}
	qsort(all, na, sizeof(*all), cmp_lbl);
	buf_adds(b, "{\"status\":\"success\",\"data\":[");
	size_t w = 0;
	int truncated = 0;
	for (size_t j = 0; j < na; j++) {
		if (j && labels_cmp(all[j], all[j - 1]) == 0)
			continue;
		if (limit > 0 && w == (size_t)limit) {
			truncated = 1;
			break;
		}
		if (w++)
			buf_addc(b, ',');
		json_labels(b, all[j]);
	}
	buf_adds(b, truncated ? "],\"warnings\":[\"results truncated due to limit\"]}" : "]}");
	for (size_t j = 0; j < na; j++)
		labels_free(all[j]);
	free(all);
	*status = 200;
out:
	for (size_t i = 0; i < n; i++)
		pq_free(sel[i]);
	return 0;
out_n:
	n = n > API_MATCHERS_MAX ? 0 : n;
	goto out;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* labels (name == NULL) or label/<name>/values. */
static int h_labels(struct storage *st, const struct promapi_request *rq, const char *name,
    struct buf *b, int *status)
{
	struct pq_expr *sel[API_MATCHERS_MAX];
	size_t n = 0;
	int64_t start, end;
	long limit = 0;
	if (get_matchers(rq, sel, &n, b, status) < 0 || get_range(rq, &start, &end, b, status) < 0 ||
	    (limit = get_limit(rq, b, status)) < 0)
		goto out;
	char **all = NULL;
	size_t na = 0;
	for (size_t i = 0; i < (n ? n : 1); i++) {
		size_t nm = 0;
		const struct matcher *ms = n ? pq_expr_matchers(sel[i], &nm) : NULL;
		char **v = NULL;
		size_t nv = 0;
		int rc = name ? st->ops->label_values(st->impl, name, ms, nm, start, end, &v, &nv) :
		    st->ops->label_names(st->impl, ms, nm, start, end, &v, &nv);
		if (rc < 0) {
			api_error(b, status, 422, "execution", "%s", strerror(-rc));
			storage_strings_free(all, na);
			goto out;
		}
		all = xreallocarray(all, na + nv + 1, sizeof(*all));
		memcpy(all + na, v, nv * sizeof(*v));
		na += nv;
		free(v);
	}
	qsort(all, na, sizeof(*all), cmp_str);
	buf_adds(b, "{\"status\":\"success\",\"data\":[");
	size_t w = 0;
	int truncated = 0;
	for (size_t j = 0; j < na; j++) {
		if (j && strcmp(all[j], all[j - 1]) == 0)
			continue;
		if (limit > 0 && w == (size_t)limit) {
			truncated = 1;
			break;
		}
		if (w++)
			buf_addc(b, ',');
		json_str(b, all[j]);
	}
	buf_adds(b, truncated ? "],\"warnings\":[\"results truncated due to limit\"]}" : "]}");
	storage_strings_free(all, na);
	*status = 200;
out:
	for (size_t i = 0; i < n; i++)
		pq_free(sel[i]);
	return 0;
}

static int h_format(const struct promapi_request *rq, struct buf *b, int *status)
{
	const char *q = promapi_param(rq, "query");
	char err[1024];
	struct pq_expr *e;
	int rc = pq_parse(q ? q : "", &e, err, sizeof(err));
	if (rc < 0)
		return engine_error(b, status, rc, err, "query");
	struct buf f;
	buf_init(&f, PQ_QUERY_MAX * 4);
	pq_format_pretty(e, &f);
	pq_free(e);
	buf_adds(b, "{\"status\":\"success\",\"data\":");
	json_str(b, f.data ? f.data : "");
	buf_adds(b, "}");
	buf_free(&f);
	*status = 200;
	return 0;
}

static void iso_time(int64_t ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	snprintf(out, n, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

static int h_status(const struct promapi_request *rq, const char *what, struct buf *b, int *status)
{
	*status = 200;
	buf_adds(b, "{\"status\":\"success\",\"data\":");
	if (strcmp(what, "buildinfo") == 0) {
		buf_adds(b, "{\"version\":");
		json_str(b, VIGIL_VERSION);
		buf_adds(b, ",\"revision\":\"\",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":\"\"}");
	} else if (strcmp(what, "runtimeinfo") == 0) {
		char st[64], cwd[4096];
		iso_time(rq->start_time_ms ? rq->start_time_ms : now_ms(rq), st, sizeof(st));
		if (!getcwd(cwd, sizeof(cwd)))
			snprintf(cwd, sizeof(cwd), "/");
		buf_adds(b, "{\"startTime\":");
		json_str(b, st);
		buf_adds(b, ",\"CWD\":");
		json_str(b, cwd);
		buf_adds(b, ",\"reloadConfigSuccess\":true,\"lastConfigTime\":");
		json_str(b, st);
		buf_printf(b, ",\"corruptionCount\":0,\"goroutineCount\":0,\"GOMAXPROCS\":%ld,\"GOMEMLIMIT\":0,\"GOGC\":\"\",\"GODEBUG\":\"\",\"storageRetention\":\"15d\"}",
		    sysconf(_SC_NPROCESSORS_ONLN));
	} else {
		buf_adds(b, "{\"query.lookback-delta\":\"5m\",\"query.max-samples\":\"50000000\",\"query.timeout\":\"2m\",\"web.listen-address\":\"127.0.0.1:9920\"}");
	}
	buf_adds(b, "}");
	return 0;
}

int promapi_handle(struct storage *st, const struct promapi_request *rq, struct buf *body,
    int *http_status)
{
	const char *p = rq->path ? rq->path : "";
	const char *m = rq->method ? rq->method : "GET";
	buf_reset(body);
	*http_status = 200;
	if (strcmp(m, "GET") != 0 && strcmp(m, "POST") != 0) {
		api_error(body, http_status, 405, "bad_data", "method %s not allowed", m);
		goto done;
	}
	if (strcmp(p, "/query") == 0)
		h_query(st, rq, body, http_status);
	else if (strcmp(p, "/query_range") == 0)
		h_query_range(st, rq, body, http_status);
	else if (strcmp(p, "/series") == 0)
		h_series(st, rq, body, http_status);
	else if (strcmp(p, "/labels") == 0)
		h_labels(st, rq, NULL, body, http_status);
	else if (strncmp(p, "/label/", 7) == 0 && strlen(p) > 14 && strcmp(p + strlen(p) - 7, "/values") == 0) {
		char *name = xstrndup(p + 7, strlen(p) - 14);
		int err = 0;
		char *dec = url_decode(name, strlen(name), &err);
		if (err || !dec[0])
			api_error(body, http_status, 400, "bad_data", "invalid label name: \"%s\"", name);
		else
			h_labels(st, rq, dec, body, http_status);
		free(dec);
		free(name);
	} else if (strcmp(p, "/metadata") == 0) {
		buf_adds(body, "{\"status\":\"success\",\"data\":{}}");
	} else if (strcmp(p, "/query_exemplars") == 0) {
		/* vigil keeps no exemplars; Grafana asks anyway */
		buf_adds(body, "{\"status\":\"success\",\"data\":[]}");
	} else if (strcmp(p, "/format_query") == 0)
		h_format(rq, body, http_status);
	else if (strcmp(p, "/status/buildinfo") == 0 || strcmp(p, "/status/runtimeinfo") == 0 ||
	    strcmp(p, "/status/flags") == 0)
		h_status(rq, p + 8, body, http_status);
	else
		api_error(body, http_status, 404, "not_found", "unknown API endpoint %s", p);
done:
	/* appends past the cap fail and leave the buffer as it was, so a body
	 * that ends anywhere but its closing brace, or sits right at the cap,
	 * lost something on the way */
	if (body->len == 0 || (body->data && body->data[body->len - 1] != '}') ||
	    body->len + 64 > body->cap) {
		/* an append passed the cap: say so instead of sending half a document */
		buf_reset(body);
		buf_adds(body, "{\"status\":\"error\",\"errorType\":\"internal\",\"error\":\"response too large\"}");
		*http_status = 500;
		return -E2BIG;
	}
	return 0;
}
