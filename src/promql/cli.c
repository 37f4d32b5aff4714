/*
 * cli.c — `vigil query [--server URL] [--range START END STEP] EXPR`: asks a
 * running vigil (or any Prometheus-compatible API) over HTTP and prints a
 * table; range queries also get a unicode sparkline per series. The server
 * must be loopback or the one named with --server; the connection goes
 * through the egress policy like every other outbound connection.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/curlloop.h"
#include "core/xmalloc.h"
#include "promql/json.h"
#include "promql/promql.h"
#include "sandbox/egress.h"

#define CLI_DEFAULT_SERVER "http://127.0.0.1:9920"

static const char *cli_token;	/* bearer token sent with every request, or NULL */
#define CLI_BODY_MAX (64u << 20)	/* bytes of response accepted */
#define CLI_SPARK_WIDTH 40		/* sparkline cells */
#define CLI_TIMEOUT_S 130		/* seconds for the whole request */

/* ---- HTTP ---- */

static size_t on_body(char *p, size_t sz, size_t n, void *ctx)
{
	struct buf *b = ctx;
	return buf_add(b, p, sz * n) == 0 ? sz * n : 0;
}

/* Allow the server's addresses (resolved once, here) and nothing else. */
static int allow_server(const char *url, char *host, size_t hsz, uint16_t *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *pt = NULL, *scheme = NULL;
	int rc = -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
		fprintf(stderr, "vigil query: bad server URL \"%s\"\n", url);
		goto out;
	}
	if (curl_url_get(u, CURLUPART_PORT, &pt, CURLU_DEFAULT_PORT) != CURLUE_OK)
		pt = NULL;
	*port = pt ? (uint16_t)atoi(pt) : 80;
	snprintf(host, hsz, "%s", h);
	/* strip [] from IPv6 literals */
	if (host[0] == '[') {
		memmove(host, host + 1, strlen(host));
		host[strcspn(host, "]")] = 0;
	}
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	char ps[16];
	snprintf(ps, sizeof(ps), "%u", *port);
	if (getaddrinfo(host, ps, &hints, &res) != 0) {
		fprintf(stderr, "vigil query: cannot resolve \"%s\"\n", host);
		goto out;
	}
	for (ai = res; ai; ai = ai->ai_next)
		egress_allow_addr(ai->ai_addr, ai->ai_addrlen, IPPROTO_TCP, *port, "vigil query server");
	freeaddrinfo(res);
	rc = 0;
out:
	curl_free(h);
	curl_free(pt);
	curl_free(scheme);
	curl_url_cleanup(u);
	return rc;
}

static int http_get(const char *url, struct buf *body, long *status)
{
	CURL *c = curl_easy_init();
	if (!c)
		return -1;
	curl_easy_setopt(c, CURLOPT_URL, url);
	if (cli_token) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(c, CURLOPT_XOAUTH2_BEARER, cli_token);
	}
	int refused = 0;
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, curl_egress_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &refused);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)CLI_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	CURLcode rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(c);
	if (refused)
		fprintf(stderr, "vigil query: connection refused by the egress policy\n");
	if (rc != CURLE_OK) {
		fprintf(stderr, "vigil query: %s: %s\n", url, curl_easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- output ---- */

static void print_metric(const struct pq_json *m, struct buf *out)
{
	const struct pq_json *name = pq_json_get(m, "__name__");
	if (name && name->s)
		buf_adds(out, name->s);
	size_t shown = 0;
	for (size_t i = 0; m && i < m->nk; i++) {
		if (strcmp(m->keys[i], "__name__") == 0)
			continue;
		buf_adds(out, shown++ ? ", " : "{");
		buf_printf(out, "%s=\"%s\"", m->keys[i], m->kids[i].s ? m->kids[i].s : "");
	}
	if (shown)
		buf_addc(out, '}');
	if (!out->len)
		buf_adds(out, "{}");
}

static void sparkline(const double *v, size_t n, struct buf *out)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	double lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i])) {
			lo = fmin(lo, v[i]);
			hi = fmax(hi, v[i]);
		}
	size_t w = n < CLI_SPARK_WIDTH ? n : CLI_SPARK_WIDTH;
	for (size_t c = 0; c < w; c++) {
		/* each cell shows the mean of its share of points */
		size_t a = c * n / w, b = (c + 1) * n / w;
		double s = 0;
		size_t k = 0;
		for (size_t i = a; i < b; i++)
			if (isfinite(v[i])) {
				s += v[i];
				k++;
			}
		if (!k) {
			buf_adds(out, " ");
			continue;
		}
		double x = s / (double)k;
		int idx = hi > lo ? (int)((x - lo) / (hi - lo) * 7.0 + 0.5) : 3;
		buf_adds(out, bars[idx < 0 ? 0 : idx > 7 ? 7 : idx]);
	}
}

static int print_result(const struct pq_json *root)
{
	const struct pq_json *st = pq_json_get(root, "status");
	if (!st || !st->s || strcmp(st->s, "success") != 0) {
		const struct pq_json *e = pq_json_get(root, "error"), *t = pq_json_get(root, "errorType");
		fprintf(stderr, "vigil query: %s: %s\n", t && t->s ? t->s : "error", e && e->s ? e->s : "bad response");
		return 1;
	}
	const struct pq_json *d = pq_json_get(root, "data");
	const struct pq_json *rt = pq_json_get(d, "resultType"), *res = pq_json_get(d, "result");
	if (!rt || !rt->s || !res) {
		fprintf(stderr, "vigil query: response has no result\n");
		return 1;
	}
	if (strcmp(rt->s, "scalar") == 0 || strcmp(rt->s, "string") == 0) {
		printf("%s\n", res->nk == 2 && res->kids[1].s ? res->kids[1].s : "");
		return 0;
	}
	struct buf line;
	buf_init(&line, 1 << 20);
	size_t width = 6;
	for (size_t i = 0; i < res->nk; i++) {
		buf_reset(&line);
		print_metric(pq_json_get(&res->kids[i], "metric"), &line);
		if (line.len > width)
			width = line.len;
	}
	int matrix = strcmp(rt->s, "matrix") == 0;
	if (matrix)
		printf("%-*s  %12s %12s %12s  %s\n", (int)width, "SERIES", "MIN", "MAX", "LAST", "TREND");
	else
		printf("%-*s  %s\n", (int)width, "SERIES", "VALUE");
	for (size_t i = 0; i < res->nk; i++) {
		const struct pq_json *s = &res->kids[i];
		buf_reset(&line);
		print_metric(pq_json_get(s, "metric"), &line);
		if (!matrix) {
			const struct pq_json *v = pq_json_get(s, "value");
			printf("%-*s  %s\n", (int)width, line.data, v && v->nk == 2 && v->kids[1].s ? v->kids[1].s : "");
			continue;
		}
		const struct pq_json *vs = pq_json_get(s, "values");
		size_t n = vs ? vs->nk : 0;
		double *v = xcalloc(n ? n : 1, sizeof(double));
		double lo = INFINITY, hi = -INFINITY;
		for (size_t k = 0; k < n; k++) {
			const struct pq_json *p = &vs->kids[k];
			v[k] = p->nk == 2 && p->kids[1].s ? strtod(p->kids[1].s, NULL) : NAN;
			if (isfinite(v[k])) {
				lo = fmin(lo, v[k]);
				hi = fmax(hi, v[k]);
			}
		}
		struct buf sp;
		buf_init(&sp, 4096);
		sparkline(v, n, &sp);
		printf("%-*s  %12.6g %12.6g %12.6g  %s\n", (int)width, line.data, lo, hi,
		    n ? v[n - 1] : NAN, sp.data ? sp.data : "");
		buf_free(&sp);
		free(v);
	}
	buf_free(&line);
	return 0;
}

/* "now", "now-1h", "-30m" (relative to now), else passed through. */
static char *cli_time(const char *s, int64_t now)
{
	int64_t d;
	if (strcmp(s, "now") == 0)
		return xasprintf("%.3f", (double)now / 1000);
	const char *rel = strncmp(s, "now-", 4) == 0 ? s + 4 : s[0] == '-' ? s + 1 : NULL;
	if (rel && clock_parse_duration(rel, &d) == 0)
		return xasprintf("%.3f", (double)(now - d) / 1000);
	return xstrdup(s);
}

static void usage(void)
{
	fprintf(stderr, "usage: vigil query [--server URL] [--token TOKEN] [--range START END STEP] EXPR\n"
	    "  START/END: unix seconds, RFC 3339, now, now-1h; STEP: 15s, 1m, or seconds\n"
	    "  TOKEN: an API token (vigil token create); default $VIGIL_TOKEN\n");
}

int query_cli_main(int argc, char **argv)
{
	cli_token = getenv("VIGIL_TOKEN");
	const char *server = CLI_DEFAULT_SERVER, *expr = NULL, *rs = NULL, *re = NULL, *rstep = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			server = argv[++i];
		} else if (strcmp(argv[i], "--token") == 0 && i + 1 < argc) {
			cli_token = argv[++i];
		} else if (strcmp(argv[i], "--range") == 0 && i + 3 < argc) {
			rs = argv[++i];
			re = argv[++i];
			rstep = argv[++i];
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage();
			return 0;
		} else if (!expr && argv[i][0] != '-') {
			expr = argv[i];
		} else {
			usage();
			return 2;
		}
	}
	if (!expr) {
		usage();
		return 2;
	}
	char host[256];
	uint16_t port;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return 1;
	if (allow_server(server, host, sizeof(host), &port) < 0) {
		curl_global_cleanup();
		return 2;
	}
	CURL *c = curl_easy_init();
	char *q = curl_easy_escape(c, expr, 0);
	int64_t now = clock_wall_ms();
	char *url;
	size_t sl = strlen(server);
	const char *slash = sl && server[sl - 1] == '/' ? "" : "/";
	if (rs) {
		char *a = cli_time(rs, now), *b = cli_time(re, now);
		char *ea = curl_easy_escape(c, a, 0), *eb = curl_easy_escape(c, b, 0), *es = curl_easy_escape(c, rstep, 0);
		url = xasprintf("%s%sapi/v1/query_range?query=%s&start=%s&end=%s&step=%s", server, slash, q, ea, eb, es);
		curl_free(ea);
		curl_free(eb);
		curl_free(es);
		free(a);
		free(b);
	} else {
		url = xasprintf("%s%sapi/v1/query?query=%s", server, slash, q);
	}
	curl_free(q);
	curl_easy_cleanup(c);
	struct buf body;
	buf_init(&body, CLI_BODY_MAX);
	long status = 0;
	int rc = 1;
	if (http_get(url, &body, &status) == 0) {
		struct pq_json root;
		if (pq_json_parse(body.data ? body.data : "", body.len, &root) < 0) {
			fprintf(stderr, "vigil query: HTTP %ld: response is not JSON\n", status);
		} else {
			rc = print_result(&root);
		}
		pq_json_free(&root);
	}
	buf_free(&body);
	free(url);
	curl_global_cleanup();
	return rc;
}
