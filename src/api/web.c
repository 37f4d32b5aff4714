/*
 * web.c — the web worker: serves the console, /metrics and /-/healthy itself,
 * and passes /api/v1 requests to the store worker over its channel. It
 * listens only (its listening socket comes from the parent) and may open no
 * network socket of its own (see sandbox.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "api/console.h"
#include "api/httpd.h"
#include "api/storeapi.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/worker.h"
#include "core/xmalloc.h"

#define WEB_FD_LISTEN (WORKER_FD_PEERS + 1)	/* after the store channel */
#define WEB_THREADS 4				/* HTTP server threads */
#define STORE_TIMEOUT_S 120			/* longest a store answer may take */

#define WEB_DB "web.db"		/* users, sessions, tokens (in the data directory) */

struct web_state {
	struct httpd *httpd;		/* the server */
	struct auth *auth;		/* users, sessions and tokens (thread-safe) */
	struct console *console;	/* the console's handlers */
	pthread_mutex_t lock;		/* guards everything below */
	char *metrics;			/* latest /metrics page from the parent */
	size_t metrics_len;		/* its length */
	int store_fd;			/* blocking channel to the store, -1 if down */
	uint64_t requests;		/* HTTP requests answered */
	uint64_t api_errors;		/* /api/v1 requests the store could not answer */
};

static struct web_state state = { .lock = PTHREAD_MUTEX_INITIALIZER, .store_fd = -1 };

static void json_error(struct http_resp *r, int status, const char *type, const char *msg)
{
	r->status = status;
	r->content_type = "application/json";
	buf_reset(&r->body);
	buf_printf(&r->body, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_add_json_str(&r->body, msg, strlen(msg));
	buf_addc(&r->body, '}');
}

/* Forward one /api/v1 request (who NULL) or /api/alerting request (who: the
 * caller) to the store and copy its answer into r. */
static void forward_api(struct web_state *s, const struct http_req *req, struct http_resp *r,
    const struct auth_principal *who)
{
	struct buf out, in;
	uint32_t type;
	buf_init(&out, HTTP_MAX_BODY + 65536);
	buf_init(&in, BUF_CAP_IPC_FRAME);
	const char *ct = http_req_header(req, "Content-Type");
	int form = ct && strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0;
	/* remote_write bodies are binary (snappy protobuf) and go through as they are. */
	if (strcmp(req->path, "/api/v1/write") == 0)
		form = 1;
	/* /api/v1/x goes as "/x"; /api/inventory/x and /api/alerting/x as they are
	 * (storeapi.c tells them apart) */
	int v1 = strncmp(req->path, "/api/v1/", 8) == 0;
	const char *path = v1 ? req->path + strlen("/api/v1") : req->path, *body = form ? req->body : "";
	if (v1 && strncmp(path, "/api/", 5) == 0) {
		/* below /api/v1 nothing is called /api/...: never let one reach another route */
		json_error(r, 404, "not_found", "no such /api/v1 endpoint");
		goto out;
	}
	size_t body_len = form ? req->body_len : 0;
	struct buf ub;
	buf_init(&ub, HTTP_MAX_BODY + 256);
	if (who) {
		/* /api/alerting: the body (JSON) after the user's name and a newline. */
		buf_printf(&ub, "%s\n", who->user);
		buf_add(&ub, req->body, req->body_len);
		body = ub.data;
		body_len = ub.len;
	}
	int enc = storeapi_encode(req->method, path, req->query, strlen(req->query), body, body_len, &out);
	buf_free(&ub);
	if (enc < 0) {
		json_error(r, 400, "bad_data", "request too large");
		goto out;
	}
	pthread_mutex_lock(&s->lock);
	int rc = -EPIPE;
	if (s->store_fd >= 0) {
		rc = ipc_write_frame(s->store_fd, MSG_API_REQUEST, out.data, (uint32_t)out.len);
		if (rc == 0)
			rc = ipc_read_frame(s->store_fd, &type, &in);
		if (rc == 0 && type != MSG_API_RESPONSE)
			rc = -EPROTO;
		if (rc < 0) {
			log_warn("store channel failed", "reason=\"%s\"", strerror(-rc));
			close(s->store_fd);
			s->store_fd = -1;
		}
	}
	if (rc < 0)
		s->api_errors++;
	pthread_mutex_unlock(&s->lock);
	if (rc < 0) {
		json_error(r, 503, "unavailable", "the store worker is not available; try again");
		goto out;
	}
	struct msg_api_resp h;
	if (in.len < sizeof(h)) {
		json_error(r, 500, "internal", "malformed answer from the store worker");
		goto out;
	}
	memcpy(&h, in.data, sizeof(h));
	if (h.ctype_len > in.len - sizeof(h) || h.ctype_len > 128 || h.status < 100 || h.status > 599) {
		json_error(r, 500, "internal", "malformed answer from the store worker");
		goto out;
	}
	static const char *const ctypes[] = { "application/json", "text/plain; charset=utf-8",
		"text/plain; version=0.0.4; charset=utf-8" };
	r->content_type = "application/json";
	for (size_t i = 0; i < sizeof(ctypes) / sizeof(ctypes[0]); i++)
		if (strlen(ctypes[i]) == h.ctype_len && memcmp(ctypes[i], in.data + sizeof(h), h.ctype_len) == 0)
			r->content_type = ctypes[i];
	r->status = (int)h.status;
	size_t off = sizeof(h) + h.ctype_len;
	if (r->body.len == 0 && in.len - off <= r->body.cap) {
		/* take the frame's buffer as the body: no second copy of a big answer */
		memmove(in.data, in.data + off, in.len - off);
		in.len -= off;
		in.data[in.len] = 0;
		in.cap = r->body.cap;
		buf_free(&r->body);
		r->body = in;
		memset(&in, 0, sizeof(in));
	} else {
		buf_add(&r->body, in.data + off, in.len - off);
	}
out:
	buf_free(&out);
	buf_free(&in);
}

/* Routes that answer without credentials: what monitoring of vigil itself needs. */
static int public_route(struct web_state *s, const struct http_req *req, struct http_resp *r)
{
	int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
	if (!get)
		return 0;
	if (strcmp(req->path, "/metrics") == 0) {
		r->content_type = "text/plain; version=0.0.4; charset=utf-8";
		pthread_mutex_lock(&s->lock);
		if (s->metrics)
			buf_add(&r->body, s->metrics, s->metrics_len);
		buf_printf(&r->body, "# HELP vigil_web_requests_total HTTP requests the web worker answered.\n"
		    "# TYPE vigil_web_requests_total counter\nvigil_web_requests_total %llu\n",
		    (unsigned long long)s->requests);
		buf_printf(&r->body, "# HELP vigil_web_api_unavailable_total API requests answered 503 because the store worker was down.\n"
		    "# TYPE vigil_web_api_unavailable_total counter\nvigil_web_api_unavailable_total %llu\n",
		    (unsigned long long)s->api_errors);
		pthread_mutex_unlock(&s->lock);
		return 1;
	}
	if (strcmp(req->path, "/-/healthy") == 0) {
		buf_adds(&r->body, "vigil is Healthy.\n");
		return 1;
	}
	if (strcmp(req->path, "/-/ready") == 0) {
		buf_adds(&r->body, "vigil is Ready.\n");
		return 1;
	}
	return 0;
}

static void handle(void *ctx, const struct http_req *req, struct http_resp *r)
{
	struct web_state *s = ctx;
	pthread_mutex_lock(&s->lock);
	s->requests++;
	pthread_mutex_unlock(&s->lock);
	if (public_route(s, req, r) || console_handle(s->console, req, r))
		return;
	struct auth_principal who;
	if (console_authorize(s->console, req, r, console_role_for(req->method, req->path), &who) < 0)
		return;
	if (strncmp(req->path, "/api/v1/", 8) == 0) {
		if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
			json_error(r, 405, "bad_data", "method not allowed");
			return;
		}
		forward_api(s, req, r, NULL);
		return;
	}
	if (strncmp(req->path, "/api/alerting/", 14) == 0) {
		forward_api(s, req, r, &who);
		return;
	}
	if (strncmp(req->path, "/api/inventory/", 15) == 0) {
		forward_api(s, req, r, NULL);
		return;
	}
	r->status = 404;
	buf_adds(&r->body, "404 page not found\n");
}

static int web_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	w->state = &state;
	if (!state.auth) {
		char pw[64], why[256];
		state.auth = auth_open(WEB_DB, pw, sizeof(pw), why, sizeof(why));
		if (!state.auth) {
			snprintf(err, errsz, "storage.path %s/%s: %s", c->storage_path, WEB_DB, why);
			return -1;
		}
		if (pw[0]) {
			/* Shown once, to whoever started vigil; never logged, never stored. */
			printf("vigil: first start: log in as \"admin\" with password %s (shown only now)\n", pw);
			fflush(stdout);
			explicit_bzero(pw, sizeof(pw));
		}
		state.console = console_new(state.auth);
	}
	if (!state.httpd) {
		state.httpd = httpd_start(WEB_FD_LISTEN, WEB_THREADS, handle, &state);
		if (!state.httpd) {
			snprintf(err, errsz, "cannot start the HTTP server on the listening socket");
			return -1;
		}
	}
	return 0;
}

/* The store channel is used by the HTTP threads, blocking: take it off the loop. */
static void web_peer_up(struct worker *w, enum config_role peer)
{
	if (peer != ROLE_STORE)
		return;
	int fd = w->peers[peer].fd;
	loop_del_fd(w->loop, fd);
	w->peers[peer].fd = -1;
	ipc_conn_close(&w->peers[peer]);
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	struct timeval tv = { STORE_TIMEOUT_S, 0 };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&state.lock);
	if (state.store_fd >= 0)
		close(state.store_fd);
	state.store_fd = fd;
	pthread_mutex_unlock(&state.lock);
}

static int web_peer_msg(struct worker *w, enum config_role from, uint32_t type, const void *p, uint32_t len)
{
	(void)w;
	(void)p;
	(void)len;
	log_warn("dropping peer: unexpected message", "peer=%d type=%s", (int)from, ipc_type_name(type));
	return -1;
}

static void web_shutdown(struct worker *w)
{
	(void)w;
	httpd_stop(state.httpd);
	state.httpd = NULL;
	console_free(state.console);
	auth_close(state.auth);
	state.console = NULL;
	state.auth = NULL;
}

/* The parent's /metrics page, once a second. */
static void web_metrics_page(struct worker *w, const char *p, size_t n)
{
	(void)w;
	char *copy = xstrndup(p, n);
	pthread_mutex_lock(&state.lock);
	free(state.metrics);
	state.metrics = copy;
	state.metrics_len = n;
	pthread_mutex_unlock(&state.lock);
}

const struct worker_ops worker_web_ops = {
	.apply_config = web_apply,
	.on_peer_msg = web_peer_msg,
	.on_peer_up = web_peer_up,
	.shutdown = web_shutdown,
	.on_metrics_page = web_metrics_page,
};
