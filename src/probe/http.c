/*
 * http.c — the HTTP(S) probe, on one libcurl multi handle per engine driven
 * by the engine's loop (curl's socket and timer callbacks map onto
 * loop_add_fd / loop_add_timer). Every socket curl opens passes through
 * egress_check first (CURLOPT_OPENSOCKETFUNCTION), redirects included.
 */
#include "core/curlloop.h"
#include "probe/probe_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <openssl/ssl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct http_multi {
	struct curl_loop cl;	/* curl on the loop (core/curlloop.h) */
};

struct http_run {
	struct probe_run *r;		/* engine's run */
	struct http_multi *hm;		/* owner */
	CURL *h;			/* the easy handle */
	struct curl_slist *hdrs;	/* request headers */
	struct curl_slist *pin;		/* CURLOPT_RESOLVE entry for the target's host */
	struct buf body;		/* body bytes kept (capped) */
	size_t body_len;		/* body bytes received in all */
	int refused;			/* the egress policy refused a connection */
	struct probe_out tls;		/* TLS facts of the last handshake */
	char err[CURL_ERROR_SIZE];	/* curl's error text */
};

static int curl_ready;	/* curl_global_init done */
static int tls_idx = -1;	/* SSL_CTX ex-data slot holding the http_run */

/* OpenSSL info callback: after each handshake, keep its TLS facts (a
 * redirect to another https host replaces the first host's). */
static void http_tls_info(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE))
		return;
	struct http_run *hr = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), tls_idx);
	if (!hr)
		return;
	pout_free(&hr->tls);
	probe_tls_facts(ssl, &hr->tls);
}

/* curl hands over each new connection's SSL_CTX before the handshake. */
static CURLcode http_ssl_ctx(CURL *h, void *sslctx, void *ud)
{
	(void)h;
	SSL_CTX_set_ex_data(sslctx, tls_idx, ud);
	SSL_CTX_set_info_callback(sslctx, http_tls_info);
	return CURLE_OK;
}

static void http_check_done(struct http_multi *hm);

static void http_after_io(void *ctx)
{
	http_check_done(ctx);
}

struct http_multi *http_multi_new(struct loop *l)
{
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		tls_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		curl_ready = 1;
	}
	struct http_multi *hm = xcalloc(1, sizeof(*hm));
	curl_loop_init(&hm->cl, l, http_after_io, hm);
	return hm;
}

void http_multi_free(struct http_multi *hm)
{
	if (!hm)
		return;
	curl_loop_free(&hm->cl);
	free(hm);
}

static size_t http_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct http_run *hr = ud;
	size_t n = sz * nm;
	hr->body_len += n;
	if (hr->body.len < PROBE_BODY_MAX) {
		size_t room = PROBE_BODY_MAX - hr->body.len;
		buf_add(&hr->body, p, n < room ? n : room);
	}
	return n;
}

static void http_release(struct http_run *hr)
{
	curl_multi_remove_handle(hr->hm->cl.multi, hr->h);
	curl_easy_cleanup(hr->h);
	curl_slist_free_all(hr->hdrs);
	curl_slist_free_all(hr->pin);
	buf_free(&hr->body);
	pout_free(&hr->tls);
	hr->r->kstate = NULL;
	free(hr);
}

static void http_timeout(struct probe_run *r)
{
	http_release(r->kstate);
	probe_run_finish(r, 0);
}

/* "Nov 27 22:42:08 2027 GMT" (OpenSSL's ASN1_TIME_print) -> epoch seconds. */
static double cert_date(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	const char *end = strptime(s, "%b %d %H:%M:%S %Y", &tm);
	if (!end)
		return -1;
	return (double)timegm(&tm);
}

static void http_report_certs(struct http_run *hr)
{
	struct curl_certinfo *ci = NULL;
	if (curl_easy_getinfo(hr->h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci)
		return;
	double earliest = -1;
	for (int i = 0; i < ci->num_of_certs; i++)
		for (struct curl_slist *s = ci->certinfo[i]; s; s = s->next)
			if (strncmp(s->data, "Expire date:", 12) == 0) {
				double t = cert_date(s->data + 12);
				if (t >= 0 && (earliest < 0 || t < earliest))
					earliest = t;
			}
	if (earliest >= 0)
		pout_add(&hr->r->out, "probe_ssl_earliest_cert_expiry", earliest, NULL);
}

static const char *curl_reason(struct http_run *hr, CURLcode rc)
{
	long vr = 0;
	switch (rc) {
	case CURLE_OPERATION_TIMEDOUT:
		return "timeout";
	case CURLE_COULDNT_RESOLVE_HOST:
		return "resolve";
	case CURLE_COULDNT_CONNECT:
		return hr->refused ? "egress" : "connect";
	case CURLE_PEER_FAILED_VERIFICATION:
		curl_easy_getinfo(hr->h, CURLINFO_SSL_VERIFYRESULT, &vr);
		if (vr == 10 || vr == 9)	/* X509_V_ERR_CERT_HAS_EXPIRED / NOT_YET_VALID */
			return "tls_expired";
		/* curl checks the name itself after OpenSSL accepted the chain, and
		 * says so only in its error text. */
		if (vr == 62 || vr == 64 || strstr(hr->err, "subject name") ||
		    strstr(hr->err, "does not match"))
			return "tls_hostname";
		return "tls_verify";
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return "tls";
	case CURLE_SEND_ERROR:
		return "send";
	default:
		return hr->refused ? "egress" : "recv";
	}
}

static double us(curl_off_t v)
{
	return (double)v / 1e6;
}

static void http_done(struct http_run *hr, CURLcode rc)
{
	struct probe_run *r = hr->r;
	struct probe_out *o = &r->out;
	const struct probe_http_opts *op = &r->tgt->cfg->http;
	long code = 0, redirects = 0, ver = 0;
	curl_off_t clen = -1, tn = 0, tc = 0, ta = 0, ts = 0, tt = 0;
	char *eff = NULL;
	curl_easy_getinfo(hr->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(hr->h, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(hr->h, CURLINFO_HTTP_VERSION, &ver);
	curl_easy_getinfo(hr->h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen);
	curl_easy_getinfo(hr->h, CURLINFO_NAMELOOKUP_TIME_T, &tn);
	curl_easy_getinfo(hr->h, CURLINFO_CONNECT_TIME_T, &tc);
	curl_easy_getinfo(hr->h, CURLINFO_APPCONNECT_TIME_T, &ta);
	curl_easy_getinfo(hr->h, CURLINFO_STARTTRANSFER_TIME_T, &ts);
	curl_easy_getinfo(hr->h, CURLINFO_TOTAL_TIME_T, &tt);
	curl_easy_getinfo(hr->h, CURLINFO_EFFECTIVE_URL, &eff);
	int ssl = eff && strncmp(eff, "https:", 6) == 0;
	char *ip = NULL;
	curl_easy_getinfo(hr->h, CURLINFO_PRIMARY_IP, &ip);
	if (ip && *ip) {
		struct sockaddr_storage sa;
		memset(&sa, 0, sizeof(sa));
		pout_add(o, "probe_ip_protocol", strchr(ip, ':') ? 6 : 4, NULL);
		if (inet_pton(AF_INET, ip, &((struct sockaddr_in *)(void *)&sa)->sin_addr) == 1)
			sa.ss_family = AF_INET;
		else if (inet_pton(AF_INET6, ip, &((struct sockaddr_in6 *)(void *)&sa)->sin6_addr) == 1)
			sa.ss_family = AF_INET6;
		pout_ip_hash(o, &sa);
	}
	pout_add(o, "probe_dns_lookup_time_seconds", us(tn), NULL);
	pout_add(o, "probe_http_status_code", (double)code, NULL);
	pout_add(o, "probe_http_ssl", ssl, NULL);
	pout_add(o, "probe_http_redirects", (double)redirects, NULL);
	pout_add(o, "probe_http_content_length", (double)clen, NULL);
	pout_add(o, "probe_http_uncompressed_body_length", (double)hr->body_len, NULL);
	double v = ver == CURL_HTTP_VERSION_1_0 ? 1.0 : ver == CURL_HTTP_VERSION_1_1 ? 1.1 :
	    ver == CURL_HTTP_VERSION_2_0 ? 2.0 : ver == CURL_HTTP_VERSION_3 ? 3.0 : 0;
	pout_add(o, "probe_http_version", v, NULL);
	curl_off_t conn_end = ta > tc ? ta : tc;
	pout_add(o, "probe_http_duration_seconds", us(tn), "phase", "resolve", NULL);
	pout_add(o, "probe_http_duration_seconds", tc > tn ? us(tc - tn) : 0, "phase", "connect", NULL);
	pout_add(o, "probe_http_duration_seconds", ta > tc ? us(ta - tc) : 0, "phase", "tls", NULL);
	pout_add(o, "probe_http_duration_seconds", ts > conn_end ? us(ts - conn_end) : 0,
	    "phase", "processing", NULL);
	pout_add(o, "probe_http_duration_seconds", tt > ts ? us(tt - ts) : 0, "phase", "transfer", NULL);
	if (hr->tls.n)
		pout_append(o, &hr->tls);
	else if (ssl || strncmp(r->tgt->cfg->target, "https:", 6) == 0)
		http_report_certs(hr);	/* curl without the OpenSSL callback: expiry only */
	int ok = rc == CURLE_OK;
	if (!ok) {
		probe_run_fail(r, curl_reason(hr, rc));
		char qt[600], qe[600];
		log_debug("http probe failed", "target=%s curl=%d err=%s",
		    log_quote(qt, sizeof(qt), r->tgt->cfg->target), (int)rc,
		    log_quote(qe, sizeof(qe), hr->err));
	}
	if (ok) {
		int valid = 0;
		if (op->valid_status[0] == 0)
			valid = code >= 200 && code <= 299;
		for (int i = 0; i < PROBE_STATUS_CODES_MAX && op->valid_status[i]; i++)
			valid |= op->valid_status[i] == code;
		if (!valid) {
			ok = 0;
			probe_run_fail(r, "status");
		}
	}
	int bad = 0;
	if (ok && (op->body_regex || op->body_not_regex)) {
		const char *b = hr->body.data ? hr->body.data : "";
		bad = (op->body_regex && probe_regex_match(op->body_regex, b, hr->body.len) != 1) ||
		    (op->body_not_regex && probe_regex_match(op->body_not_regex, b, hr->body.len) == 1);
		if (bad) {
			ok = 0;
			probe_run_fail(r, "regex");
		}
	}
	pout_add(o, "probe_failed_due_to_regex", bad, NULL);
	http_release(hr);
	probe_run_finish(r, ok);
}

static void http_check_done(struct http_multi *hm)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(hm->cl.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct http_run *hr = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&hr);
		if (hr)
			http_done(hr, msg->data.result);
	}
}

int probe_http_start(struct probe_run *r)
{
	const struct probe_cfg *c = r->tgt->cfg;
	const struct probe_http_opts *o = &c->http;
	struct http_multi *hm = probe_engine_http(r->eng);
	struct http_run *hr = xcalloc(1, sizeof(*hr));
	hr->r = r;
	hr->hm = hm;
	buf_init(&hr->body, PROBE_BODY_MAX);
	hr->h = curl_easy_init();
	if (!hr->h)
		abort();
	CURL *h = hr->h;
	curl_easy_setopt(h, CURLOPT_URL, c->target);
	curl_easy_setopt(h, CURLOPT_PRIVATE, hr);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, hr->err);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* Every probe measures a whole new connection (DNS pin, TCP, TLS), as
	 * blackbox_exporter does; the multi handle would otherwise reuse one. */
	curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "vigil-probe/" VIGIL_VERSION);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, http_write);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, hr);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, curl_egress_socket);
	curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &hr->refused);
	if (c->ip_version == 4 || c->ip_version == 6)
		curl_easy_setopt(h, CURLOPT_IPRESOLVE,
		    c->ip_version == 4 ? (long)CURL_IPRESOLVE_V4 : (long)CURL_IPRESOLVE_V6);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, o->no_follow ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
	curl_easy_setopt(h, CURLOPT_CERTINFO, 1L);
	if (tls_idx >= 0) {
		curl_easy_setopt(h, CURLOPT_SSL_CTX_FUNCTION, http_ssl_ctx);
		curl_easy_setopt(h, CURLOPT_SSL_CTX_DATA, hr);
	}
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, o->tls_insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, o->tls_insecure ? 0L : 2L);
	if (o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, o->ca_file);
	if (o->cert_file)
		curl_easy_setopt(h, CURLOPT_SSLCERT, o->cert_file);
	if (o->key_file)
		curl_easy_setopt(h, CURLOPT_SSLKEY, o->key_file);
	if (o->method && strcmp(o->method, "GET") != 0) {
		if (strcmp(o->method, "HEAD") == 0)
			curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, o->method);
	}
	if (o->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, o->body);
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(o->body));
		if (!o->method)
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "GET");
	}
	for (int i = 0; i < PROBE_HEADERS_MAX && o->headers[i]; i++)
		hr->hdrs = curl_slist_append(hr->hdrs, o->headers[i]);
	if (hr->hdrs)
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hr->hdrs);
	if (r->tgt->pin) {
		hr->pin = curl_slist_append(NULL, r->tgt->pin);
		curl_easy_setopt(h, CURLOPT_RESOLVE, hr->pin);
	}
	r->kstate = hr;
	r->on_timeout = http_timeout;
	if (curl_multi_add_handle(hm->cl.multi, h) != CURLM_OK) {
		r->kstate = NULL;
		curl_easy_cleanup(h);
		curl_slist_free_all(hr->hdrs);
		curl_slist_free_all(hr->pin);
		buf_free(&hr->body);
		free(hr);
		return -ENOMEM;
	}
	return 0;
}
