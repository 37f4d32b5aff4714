/* storeapi.c — see storeapi.h. */
#include <errno.h>
#include <string.h>

#include "api/storeapi.h"
#include "alert/alert.h"
#include "api/inventory.h"
#include "api/promapi.h"
#include "api/remote_write.h"
#include "core/clock.h"
#include "core/ipc.h"

int storeapi_encode(const char *method, const char *path, const char *query,
    size_t query_len, const char *body, size_t body_len, struct buf *out)
{
	struct msg_api_req h = { (uint32_t)strlen(method), (uint32_t)strlen(path),
		(uint32_t)query_len, (uint32_t)body_len };
	if (buf_add(out, &h, sizeof(h)) || buf_add(out, method, h.method_len) ||
	    buf_add(out, path, h.path_len) || buf_add(out, query, query_len) ||
	    buf_add(out, body, body_len))
		return -E2BIG;
	return 0;
}

int storeapi_decode(const void *p, uint32_t len, struct storeapi_request *req)
{
	struct msg_api_req h;
	const char *s = (const char *)p + sizeof(h);
	if (len < sizeof(h))
		return -1;
	memcpy(&h, p, sizeof(h));
	uint64_t total = (uint64_t)sizeof(h) + h.method_len + h.path_len + h.query_len + h.body_len;
	if (total != len || h.method_len == 0 || h.method_len >= sizeof(req->method) ||
	    h.path_len >= sizeof(req->path))
		return -1;
	memcpy(req->method, s, h.method_len);
	req->method[h.method_len] = '\0';
	s += h.method_len;
	memcpy(req->path, s, h.path_len);
	req->path[h.path_len] = '\0';
	if (memchr(req->path, '\0', h.path_len) || memchr(req->method, '\0', h.method_len))
		return -1;
	s += h.path_len;
	req->query = s;
	req->query_len = h.query_len;
	s += h.query_len;
	req->body = s;
	req->body_len = h.body_len;
	return 0;
}

static int rw_append(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct storeapi_counters *c = ctx;
	if (c->st->ops->append(c->st->impl, ls, ts, v) < 0)
		c->rejected++;
	else
		c->appended++;
	return 0;
}

/* POST /api/v1/write: Prometheus remote_write. 204 on success, 400 if malformed. */
static void remote_write(struct storage *st, const struct storeapi_request *req,
    struct buf *body, int *status, const char **ctype, struct storeapi_counters *cnt)
{
	char err[256];
	*ctype = "text/plain; charset=utf-8";
	if (strcmp(req->method, "POST") != 0) {
		*status = 405;
		buf_adds(body, "remote_write takes POST\n");
		return;
	}
	cnt->st = st;
	long n = rw_decode(req->body, req->body_len, rw_append, cnt, err, sizeof(err));
	if (n < 0) {
		cnt->rw_bad++;
		*status = 400;
		buf_printf(body, "%s\n", err);
		return;
	}
	cnt->rw_requests++;
	*status = 204;
}

/* GET /api/v1/rules (?type=alert|record) and /api/v1/alerts, in Prometheus's shapes. */
static void alerts_api(const struct storeapi_request *req, struct buf *body, int *status,
    struct storeapi_counters *cnt)
{
	struct promapi_request rq = { .method = req->method, .path = req->path };
	promapi_parse_request(&rq, req->query, req->query_len, req->body, req->body_len,
	    req->body_len ? "application/x-www-form-urlencoded" : NULL);
	const char *type = promapi_param(&rq, "type");
	*status = 200;
	if (!cnt->alerts) {
		buf_adds(body, strcmp(req->path, "/rules") == 0 ? "{\"status\":\"success\",\"data\":{\"groups\":[]}}"
		    : "{\"status\":\"success\",\"data\":{\"alerts\":[]}}");
	} else if (strcmp(req->path, "/rules") == 0) {
		if (type && strcmp(type, "alert") != 0 && strcmp(type, "record") != 0) {
			*status = 400;
			buf_adds(body, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"unsupported type\"}");
		} else {
			alert_api_rules(alert_runtime_engine(cnt->alerts), type, body);
		}
	} else {
		alert_api_alerts(alert_runtime_engine(cnt->alerts), body);
	}
	promapi_request_free(&rq);
}

void storeapi_handle(struct storage *st, const struct storeapi_request *req,
    struct buf *body, int *status, const char **ctype, struct storeapi_counters *cnt)
{
	if (strcmp(req->path, "/write") == 0) {
		remote_write(st, req, body, status, ctype, cnt);
		return;
	}
	*ctype = "application/json";
	if (strncmp(req->path, "/api/alerting/", 14) == 0) {
		/* The web worker puts the authenticated user's name and a newline before the body. */
		const char *nl = memchr(req->body, '\n', req->body_len);
		char user[128] = "?";
		size_t ul = nl ? (size_t)(nl - req->body) : 0;
		if (nl && ul < sizeof(user)) {
			memcpy(user, req->body, ul);
			user[ul] = 0;
		}
		const char *b = nl ? nl + 1 : req->body;
		*status = alert_ops_http(cnt->alerts, req->method, req->path, user, b,
		    req->body_len - (size_t)(b - req->body), clock_wall_ms(), body);
		return;
	}
	if (strncmp(req->path, "/api/inventory/", 15) == 0) {
		if (!cnt->inv)
			cnt->inv = inventory_new();
		inventory_handle(cnt->inv, st, req->method, req->path + 14, req->query, req->query_len,
		    clock_wall_ms(), body, status);
		return;
	}
	if (strcmp(req->path, "/rules") == 0 || strcmp(req->path, "/alerts") == 0) {
		alerts_api(req, body, status, cnt);
		return;
	}
	struct promapi_request rq = { .method = req->method, .path = req->path,
		.timeout_ms = cnt->limits.timeout_ms, .max_samples = cnt->limits.max_samples,
		.lookback_ms = cnt->limits.lookback_ms, .start_time_ms = cnt->limits.start_time_ms };
	if (promapi_parse_request(&rq, req->query, req->query_len, req->body, req->body_len,
	    req->body_len ? "application/x-www-form-urlencoded" : NULL) < 0) {
		*status = 400;
		buf_adds(body, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"malformed query string or form body\"}");
		promapi_request_free(&rq);
		return;
	}
	promapi_handle(st, &rq, body, status);
	promapi_request_free(&rq);
}
