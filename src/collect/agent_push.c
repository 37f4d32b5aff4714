/* agent_push.c — see agent_push.h. */
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/remote_write.h"
#include "collect/agent_push.h"
#include "core/curlloop.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

struct agent_push {
	char *url;			/* where to POST */
	char *token;			/* bearer token, or NULL */
	char *job, *instance;		/* labels added to every series */
	struct rw_builder rw;		/* the request being built */
	struct labels_builder lb;	/* scratch for adding labels */
	CURL *curl;			/* one handle, connections reused */
	uint64_t ok, failed;		/* pushes so far */
};

/* Allow the URL's host:port; fill host and port. */
static int allow_url(const char *url, char *err, size_t errsz)
{
	const char *p = url;
	uint16_t port;
	if (strncmp(p, "http://", 7) == 0) {
		p += 7;
		port = 80;
	} else if (strncmp(p, "https://", 8) == 0) {
		p += 8;
		port = 443;
	} else {
		snprintf(err, errsz, "--remote-write: \"%s\" is not an http(s) URL", url);
		return -1;
	}
	size_t n = strcspn(p, "/");
	char hp[256], host[256];
	if (n == 0 || n >= sizeof(hp)) {
		snprintf(err, errsz, "--remote-write: no host in \"%s\"", url);
		return -1;
	}
	memcpy(hp, p, n);
	hp[n] = '\0';
	char *colon = hp[0] == '[' ? strstr(hp, "]:") : strrchr(hp, ':');
	if (colon) {
		port = (uint16_t)atoi(colon + (hp[0] == '[' ? 2 : 1));
		*colon = hp[0] == '[' ? ']' : '\0';
		if (hp[0] == '[')
			colon[1] = '\0';
	}
	snprintf(host, sizeof(host), "%s", hp[0] == '[' ? hp + 1 : hp);
	host[strcspn(host, "]")] = '\0';
	char ps[8];
	snprintf(ps, sizeof(ps), "%u", port);
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	int rc = getaddrinfo(host, ps, &hints, &res);
	if (rc != 0 || port == 0) {
		snprintf(err, errsz, "--remote-write: %s: %s", host, rc ? gai_strerror(rc) : "bad port");
		return -1;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next)
		egress_allow_addr(a->ai_addr, a->ai_addrlen, IPPROTO_TCP, port, "remote_write");
	freeaddrinfo(res);
	return 0;
}

struct agent_push *agent_push_new(const char *url, const char *token, const char *job,
    const char *instance, char *err, size_t errsz)
{
	if (allow_url(url, err, errsz) < 0)
		return NULL;
	struct agent_push *p = xcalloc(1, sizeof(*p));
	p->url = xstrdup(url);
	p->token = xstrdup(token);
	p->job = xstrdup(job);
	p->instance = xstrdup(instance);
	rw_init(&p->rw);
	lb_init(&p->lb);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	p->curl = curl_easy_init();
	return p;
}

static int add_sample(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct agent_push *p = ctx;
	lb_reset(&p->lb, ls);
	if (!lb_get(&p->lb, "job"))
		lb_set(&p->lb, "job", p->job);
	if (!lb_get(&p->lb, "instance"))
		lb_set(&p->lb, "instance", p->instance);
	struct labels *out = lb_labels(&p->lb);
	if (out)
		rw_add(&p->rw, out, ts, v);
	labels_free(out);
	return 0;
}

static size_t discard(char *d, size_t sz, size_t n, void *ctx)
{
	(void)d;
	(void)ctx;
	return sz * n;
}

int agent_push_run(struct agent_push *p, struct collect_ctx *c, int64_t ts_ms)
{
	struct sample_sink sink = { add_sample, p };
	struct buf body;
	buf_init(&body, RW_MAX_UNCOMPRESSED);
	rw_free(&p->rw);
	rw_init(&p->rw);
	collect_emit(c, &sink, ts_ms);
	int rc = rw_encode(&p->rw, &body);
	long status = 0;
	if (rc == 0) {
		struct curl_slist *h = NULL;
		h = curl_slist_append(h, "Content-Type: application/x-protobuf");
		h = curl_slist_append(h, "Content-Encoding: snappy");
		h = curl_slist_append(h, "X-Prometheus-Remote-Write-Version: 0.1.0");
		CURL *e = p->curl;
		curl_easy_reset(e);
		curl_easy_setopt(e, CURLOPT_URL, p->url);
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)body.len);
		curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, curl_egress_socket);
		curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)AGENT_PUSH_TIMEOUT_S);
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(e, CURLOPT_NOPROXY, "*");
		if (p->token) {
			curl_easy_setopt(e, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
			curl_easy_setopt(e, CURLOPT_XOAUTH2_BEARER, p->token);
		}
		CURLcode cc = curl_easy_perform(e);
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(h);
		if (cc != CURLE_OK || status / 100 != 2) {
			log_warn("remote_write push failed", "url=%s status=%ld error=\"%s\"", p->url, status,
			    cc != CURLE_OK ? curl_easy_strerror(cc) : "HTTP status");
			rc = -1;
		}
	}
	buf_free(&body);
	if (rc == 0)
		p->ok++;
	else
		p->failed++;
	return rc;
}

uint64_t agent_push_ok(const struct agent_push *p)
{
	return p->ok;
}

uint64_t agent_push_failed(const struct agent_push *p)
{
	return p->failed;
}

void agent_push_free(struct agent_push *p)
{
	if (!p)
		return;
	curl_easy_cleanup(p->curl);
	rw_free(&p->rw);
	lb_free(&p->lb);
	if (p->token)
		explicit_bzero(p->token, strlen(p->token));
	free(p->token);
	free(p->url);
	free(p->job);
	free(p->instance);
	free(p);
}
