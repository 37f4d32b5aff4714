/*
 * devserver.c — a DEVELOPMENT HARNESS for the console's end-to-end tests,
 * not the acceptance test: it is not vigil's web worker. It serves the real
 * console handlers (console_handle, console_authorize, auth) over
 * libmicrohttpd and forwards /api/v1/... to a Prometheus on loopback, whose
 * API has the same shapes vigil's store worker answers with. When the
 * daemon's web worker exists, tests/integration/console_e2e.sh should point
 * the same browser tests at `vigil serve` instead.
 *
 *   devserver PORT PROMETHEUS_URL DB_PATH
 *
 * Prints "admin-password: X" (first start) and "listening: PORT" on stdout.
 * Exits cleanly on SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/auth.h"
#include "api/console.h"
#include "core/buf.h"
#include "core/xmalloc.h"

#define DEV_MAX_BODY (1u << 20)		/* request body accepted */
#define DEV_MAX_UPSTREAM (64u << 20)	/* Prometheus answer accepted */

static struct console *console;
static const char *prom_url;
static volatile sig_atomic_t stop;

struct conn_state {
	struct buf body;	/* request body so far */
};

struct hdrs {
	struct http_header h[HTTP_MAX_HEADERS];	/* collected request headers */
	size_t n;				/* entries used */
};

static enum MHD_Result collect_hdr(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	struct hdrs *hs = cls;
	if (hs->n < HTTP_MAX_HEADERS) {
		hs->h[hs->n].name = k;
		hs->h[hs->n].value = v ? v : "";
		hs->n++;
	}
	return MHD_YES;
}

struct qs {
	struct buf *b;	/* query string being rebuilt */
	CURL *c;	/* for escaping */
};

static enum MHD_Result collect_arg(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	(void)kind;
	struct qs *q = cls;
	char *ek = curl_easy_escape(q->c, k, 0), *ev = curl_easy_escape(q->c, v ? v : "", 0);
	if (q->b->len)
		buf_addc(q->b, '&');
	buf_printf(q->b, "%s=%s", ek, ev);
	curl_free(ek);
	curl_free(ev);
	return MHD_YES;
}

static size_t on_data(char *p, size_t sz, size_t n, void *ud)
{
	return buf_add(ud, p, sz * n) < 0 ? 0 : sz * n;
}

/* Forward to Prometheus; the answer's status and body go to resp. */
static void proxy(const struct http_req *req, const char *query, struct http_resp *resp)
{
	CURL *c = curl_easy_init();
	char *url = xasprintf("%s%s%s%s", prom_url, req->path, *query ? "?" : "", query);
	long code = 502;
	struct buf out;
	buf_init(&out, DEV_MAX_UPSTREAM);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http");
	if (strcmp(req->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? req->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)req->body_len);
	}
	if (curl_easy_perform(c) == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	resp->status = (int)code;
	resp->content_type = "application/json";
	buf_add(&resp->body, out.data ? out.data : "", out.len);
	buf_free(&out);
	free(url);
	curl_easy_cleanup(c);
}

static void route(const struct http_req *req, const char *query, struct http_resp *resp)
{
	struct auth_principal who;
	if (console_handle(console, req, resp))
		return;
	if (strncmp(req->path, "/api/v1/", 8) == 0) {
		if (console_authorize(console, req, resp, console_role_for(req->method, req->path), &who) == 0)
			proxy(req, query, resp);
		return;
	}
	resp->status = 404;
	resp->content_type = "application/json";
	buf_adds(&resp->body, "{\"status\":\"error\",\"errorType\":\"not_found\",\"error\":\"not found\"}");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			       const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)cls;
	(void)version;
	struct conn_state *st = *con_cls;
	if (!st) {
		st = xcalloc(1, sizeof *st);
		buf_init(&st->body, DEV_MAX_BODY);
		*con_cls = st;
		return MHD_YES;
	}
	if (*upload_size) {
		if (buf_add(&st->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}
	struct hdrs hs = { .n = 0 };
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_hdr, &hs);
	struct buf q;
	buf_init(&q, DEV_MAX_BODY);
	CURL *esc = curl_easy_init();
	struct qs qa = { &q, esc };
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_arg, &qa);
	curl_easy_cleanup(esc);
	char addr[64] = "";
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, addr, sizeof addr);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, addr, sizeof addr);
	}
	struct http_req req = {
		.method = method, .path = url, .query = q.data ? q.data : "", .headers = hs.h, .nheaders = hs.n,
		.body = st->body.data, .body_len = st->body.len, .remote_addr = addr, .tls = 0,
	};
	struct http_resp resp;
	http_resp_init(&resp);
	route(&req, req.query, &resp);
	struct MHD_Response *mr = MHD_create_response_from_buffer(resp.body.len, resp.body.data ? resp.body.data : (void *)"",
								  MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(mr, "Content-Type", resp.content_type);
	for (size_t i = 0; i < resp.nheaders; i++)
		MHD_add_response_header(mr, resp.headers[i].name, resp.headers[i].value);
	enum MHD_Result r = MHD_queue_response(conn, (unsigned)resp.status, mr);
	MHD_destroy_response(mr);
	http_resp_free(&resp);
	buf_free(&q);
	return r;
}

static void done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	struct conn_state *st = *con_cls;
	if (st) {
		buf_free(&st->body);
		free(st);
		*con_cls = NULL;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	char pw[64], err[256];
	if (argc != 4) {
		fprintf(stderr, "usage: devserver PORT PROMETHEUS_URL DB_PATH\n");
		return 2;
	}
	int port = atoi(argv[1]);
	prom_url = argv[2];
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct auth *a = auth_open(argv[3], pw, sizeof pw, err, sizeof err);
	if (!a) {
		fprintf(stderr, "devserver: %s\n", err);
		return 1;
	}
	if (pw[0])
		printf("admin-password: %s\n", pw);
	console = console_new(a);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (uint16_t)port, NULL,
					       NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sin,
					       MHD_OPTION_THREAD_POOL_SIZE, 4u, MHD_OPTION_NOTIFY_COMPLETED, done,
					       NULL, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "devserver: cannot listen on 127.0.0.1:%d\n", port);
		return 1;
	}
	printf("listening: %d\n", port);
	fflush(stdout);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	while (!stop)
		pause();
	MHD_stop_daemon(d);
	console_free(console);
	auth_close(a);
	curl_global_cleanup();
	return 0;
}
