/* httpd.c — see httpd.h. */
#include <microhttpd.h>
#include <netdb.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/httpd.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct httpd {
	struct MHD_Daemon *mhd;	/* the server */
	httpd_handler handler;	/* what answers */
	void *ctx;		/* its argument */
};

struct req_state {
	struct buf body;	/* request body so far */
	int too_big;		/* body passed HTTP_MAX_BODY */
};

struct collect {
	struct http_header *v;	/* headers collected */
	size_t n;		/* used */
	struct buf *query;	/* re-encoded query string (GET arguments) */
};

static enum MHD_Result on_header(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct collect *c = cls;
	(void)kind;
	if (c->n < HTTP_MAX_HEADERS) {
		c->v[c->n].name = k;
		c->v[c->n].value = v ? v : "";
		c->n++;
	}
	return MHD_YES;
}

static void add_escaped(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		    ch == '-' || ch == '_' || ch == '.' || ch == '~') {
			buf_addc(b, (char)ch);
		} else {
			char e[3] = { '%', hex[ch >> 4], hex[ch & 15] };
			buf_add(b, e, 3);
		}
	}
}

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct collect *c = cls;
	(void)kind;
	if (c->query->len)
		buf_addc(c->query, '&');
	add_escaped(c->query, k);
	if (v) {
		buf_addc(c->query, '=');
		add_escaped(c->query, v);
	}
	return MHD_YES;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct http_resp *r)
{
	/* hand the body over instead of copying it: a range query answer can
	 * be tens of megabytes */
	size_t len = r->body.len;
	char *data = len ? buf_detach(&r->body, NULL) : NULL;
	struct MHD_Response *mr = data ?
	    MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE) :
	    MHD_create_response_from_buffer(0, (void *)(uintptr_t)"", MHD_RESPMEM_PERSISTENT);
	if (!mr) {
		free(data);
		return MHD_NO;
	}
	MHD_add_response_header(mr, "Content-Type", r->content_type);
	MHD_add_response_header(mr, "X-Content-Type-Options", "nosniff");
	for (size_t i = 0; i < r->nheaders; i++)
		MHD_add_response_header(mr, r->headers[i].name, r->headers[i].value);
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct httpd *d = cls;
	struct req_state *rs = *con_cls;
	(void)version;
	if (!rs) {
		rs = xcalloc(1, sizeof(*rs));
		buf_init(&rs->body, HTTP_MAX_BODY);
		*con_cls = rs;
		return MHD_YES;
	}
	if (*upload_size) {
		if (buf_add(&rs->body, upload, *upload_size) < 0)
			rs->too_big = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	struct http_header hdrs[HTTP_MAX_HEADERS];
	struct buf query;
	buf_init(&query, 1u << 20);
	struct collect c = { hdrs, 0, &query };
	MHD_get_connection_values(conn, MHD_HEADER_KIND, on_header, &c);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, &c);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char peer[64] = "?";
	if (ci && ci->client_addr)
		getnameinfo(ci->client_addr, ci->client_addr->sa_family == AF_INET6 ?
		    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), peer, sizeof(peer), NULL, 0, NI_NUMERICHOST);
	struct http_req req = {
		.method = method, .path = url, .query = query.data ? query.data : "",
		.headers = hdrs, .nheaders = c.n, .body = rs->body.data, .body_len = rs->body.len,
		.remote_addr = peer,
	};
	struct http_resp resp;
	http_resp_init(&resp);
	if (rs->too_big) {
		resp.status = 413;
		buf_printf(&resp.body, "request body larger than %u bytes\n", HTTP_MAX_BODY);
	} else {
		d->handler(d->ctx, &req, &resp);
	}
	enum MHD_Result rc = respond(conn, &resp);
	http_resp_free(&resp);
	buf_free(&query);
	return rc;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	struct req_state *rs = *con_cls;
	(void)cls;
	(void)conn;
	(void)t;
	if (rs) {
		buf_free(&rs->body);
		free(rs);
		*con_cls = NULL;
	}
}

struct httpd *httpd_start(int listen_fd, unsigned nthreads, httpd_handler h, void *ctx)
{
	struct httpd *d = xcalloc(1, sizeof(*d));
	d->handler = h;
	d->ctx = ctx;
	d->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
	    0, NULL, NULL, on_request, d,
	    MHD_OPTION_LISTEN_SOCKET, listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, nthreads,
	    MHD_OPTION_CONNECTION_LIMIT, 512u,
	    MHD_OPTION_CONNECTION_TIMEOUT, 60u,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256u << 10),
	    MHD_OPTION_NOTIFY_COMPLETED, on_done, d,
	    MHD_OPTION_END);
	if (!d->mhd) {
		log_error("cannot start the HTTP server", NULL);
		free(d);
		return NULL;
	}
	return d;
}

void httpd_stop(struct httpd *d)
{
	if (!d)
		return;
	MHD_stop_daemon(d->mhd);
	free(d);
}
