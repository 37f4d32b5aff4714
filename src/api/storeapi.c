/* storeapi.c — see storeapi.h. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "api/storeapi.h"
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

void storeapi_handle(struct storage *st, const struct storeapi_request *req,
    struct buf *body, int *status, const char **ctype)
{
	(void)st;
	*ctype = "application/json";
	*status = 404;
	char msg[600];
	int n = snprintf(msg, sizeof(msg), "unknown API endpoint /api/v1%s", req->path);
	buf_adds(body, "{\"status\":\"error\",\"errorType\":\"not_found\",\"error\":");
	buf_add_json_str(body, msg, n > 0 ? (size_t)n : 0);
	buf_adds(body, "}");
}
