/*
 * tcp.c — the TCP probe: connect, optionally a TLS handshake (reporting the
 * certificate chain's earliest expiry and the TLS version), optionally send
 * bytes and wait for a reply matching a regex. All non-blocking on the loop.
 *
 * Certificates are verified after the handshake rather than during it, so a
 * bad certificate still reports its expiry and the failure says why
 * (tls_expired, tls_hostname, tls_verify).
 */
#include "probe/probe_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum tcp_phase { TCP_CONNECTING, TCP_HANDSHAKE, TCP_SENDING, TCP_RECEIVING };

struct tcp_run {
	struct probe_run *r;	/* engine's run */
	int fd;			/* the connection */
	enum tcp_phase phase;	/* where we are */
	SSL_CTX *ctx;		/* TLS context, or NULL */
	SSL *ssl;		/* TLS session, or NULL */
	size_t sent;		/* bytes of the send string written */
	struct buf in;		/* bytes received (capped at PROBE_BODY_MAX) */
};

static void tcp_close(struct tcp_run *t)
{
	if (t->fd >= 0) {
		loop_del_fd(t->r->loop, t->fd);
		close(t->fd);
	}
	SSL_free(t->ssl);
	SSL_CTX_free(t->ctx);
	buf_free(&t->in);
	t->r->kstate = NULL;
	free(t);
}

static void tcp_end(struct tcp_run *t, int ok, const char *reason)
{
	struct probe_run *r = t->r;
	if (!ok)
		probe_run_fail(r, reason);
	tcp_close(t);
	probe_run_finish(r, ok);
}

static void tcp_timeout(struct probe_run *r)
{
	tcp_close(r->kstate);
	probe_run_finish(r, 0);
}

/* Seconds since the epoch of an ASN1_TIME, or -1. */
static double asn1_epoch(const ASN1_TIME *at)
{
	struct tm tm;
	if (!at || ASN1_TIME_to_tm(at, &tm) != 1)
		return -1;
	return (double)timegm(&tm);
}

/* A distinguished name in RFC 2253 form ("CN=host,O=org") into b. */
static void name_text(const X509_NAME *n, char *b, size_t bsz)
{
	BIO *bio = BIO_new(BIO_s_mem());
	b[0] = '\0';
	if (!bio)
		return;
	X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253);
	int len = BIO_read(bio, b, (int)bsz - 1);
	b[len > 0 ? len : 0] = '\0';
	BIO_free(bio);
}

/* probe_ssl_last_chain_info for the leaf: SHA-256 fingerprint, subject,
 * issuer and DNS subject alternative names, as blackbox_exporter has them. */
static void leaf_info(X509 *leaf, struct probe_out *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char fp[2 * EVP_MAX_MD_SIZE + 1] = "", subj[512], iss[512], san[1024] = "";
	if (X509_digest(leaf, EVP_sha256(), md, &mdlen) == 1)
		for (unsigned i = 0; i < mdlen; i++)
			snprintf(fp + 2 * i, sizeof(fp) - 2 * i, "%02x", md[i]);
	name_text(X509_get_subject_name(leaf), subj, sizeof(subj));
	name_text(X509_get_issuer_name(leaf), iss, sizeof(iss));
	GENERAL_NAMES *gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	size_t o = 0;
	for (int i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DNS)
			continue;
		const char *d = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		int w = snprintf(san + o, sizeof(san) - o, "%s%s", o ? "," : "", d);
		if (w < 0 || (size_t)w >= sizeof(san) - o)
			break;
		o += (size_t)w;
	}
	GENERAL_NAMES_free(gens);
	pout_add(out, "probe_ssl_last_chain_info", 1, "fingerprint_sha256", fp, "issuer", iss,
	    "subject", subj, "subjectalternative", san, NULL);
}

void probe_tls_facts(const SSL *ssl, struct probe_out *out)
{
	STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl);
	double earliest = -1;
	for (int i = 0; chain && i < sk_X509_num(chain); i++) {
		double na = asn1_epoch(X509_get0_notAfter(sk_X509_value(chain, i)));
		if (na >= 0 && (earliest < 0 || na < earliest))
			earliest = na;
	}
	if (earliest >= 0)
		pout_add(out, "probe_ssl_earliest_cert_expiry", earliest, NULL);
	const char *v = SSL_get_version(ssl);
	char ver[32];
	if (strncmp(v, "TLSv", 4) == 0)
		snprintf(ver, sizeof(ver), "TLS %s", v + 4);
	else
		snprintf(ver, sizeof(ver), "%s", v);
	pout_add(out, "probe_tls_version_info", 1, "version", ver, NULL);
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	if (leaf)
		leaf_info(leaf, out);
	STACK_OF(X509) *vchain = SSL_get0_verified_chain(ssl);
	double last = -1;
	for (int i = 0; vchain && SSL_get_verify_result(ssl) == X509_V_OK && i < sk_X509_num(vchain); i++) {
		double na = asn1_epoch(X509_get0_notAfter(sk_X509_value(vchain, i)));
		if (na >= 0 && (last < 0 || na < last))
			last = na;
	}
	if (last >= 0)
		pout_add(out, "probe_ssl_last_chain_expiry_timestamp_seconds", last, NULL);
}

/* Report TLS facts into out, then judge the peer: the failure reason for a
 * bad certificate (when verify is set), or NULL. */
static const char *tls_report(SSL *ssl, struct probe_out *out, int verify)
{
	probe_tls_facts(ssl, out);
	if (!verify)
		return NULL;
	if (!SSL_get0_peer_certificate(ssl))
		return "tls_verify";
	long vr = SSL_get_verify_result(ssl);
	if (vr == X509_V_OK)
		return NULL;
	if (vr == X509_V_ERR_CERT_HAS_EXPIRED || vr == X509_V_ERR_CERT_NOT_YET_VALID)
		return "tls_expired";
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH || vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return "tls_hostname";
	return "tls_verify";
}

static void tcp_io(struct loop *l, int fd, unsigned ev, void *ctx);

static void tcp_want(struct tcp_run *t, unsigned ev)
{
	loop_mod_fd(t->r->loop, t->fd, ev);
}

/* Move on after connect or handshake: send, then expect, or done. */
static void tcp_next(struct tcp_run *t)
{
	const struct probe_tcp_opts *o = &t->r->tgt->cfg->tcp;
	if (o->send && t->sent < strlen(o->send)) {
		t->phase = TCP_SENDING;
		tcp_want(t, LOOP_WRITE);
		return;
	}
	if (o->expect) {
		t->phase = TCP_RECEIVING;
		tcp_want(t, LOOP_READ);
		return;
	}
	pout_add(&t->r->out, "probe_failed_due_to_regex", 0, NULL);
	tcp_end(t, 1, NULL);
}

static int tls_setup(struct tcp_run *t)
{
	struct probe_target *tg = t->r->tgt;
	const struct probe_tcp_opts *o = &tg->cfg->tcp;
	t->ctx = SSL_CTX_new(TLS_client_method());
	if (!t->ctx)
		return -1;
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_NONE, NULL);
	if (o->ca_file) {
		if (SSL_CTX_load_verify_locations(t->ctx, o->ca_file, NULL) != 1)
			return -1;
	} else {
		SSL_CTX_set_default_verify_paths(t->ctx);
	}
	t->ssl = SSL_new(t->ctx);
	if (!t->ssl || SSL_set_fd(t->ssl, t->fd) != 1)
		return -1;
	const char *name = o->server_name ? o->server_name : tg->host;
	struct in6_addr tmp;
	int is_ip = inet_pton(AF_INET, name, &tmp) == 1 || inet_pton(AF_INET6, name, &tmp) == 1;
	if (!is_ip) {
		char sni[256];	/* the macro wants a non-const pointer */
		snprintf(sni, sizeof(sni), "%s", name);
		SSL_set_tlsext_host_name(t->ssl, sni);
	}
	if (!o->tls_insecure) {
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);
		if (is_ip)
			X509_VERIFY_PARAM_set1_ip_asc(vp, name);
		else
			X509_VERIFY_PARAM_set1_host(vp, name, 0);
	}
	SSL_set_connect_state(t->ssl);
	return 0;
}

static void tcp_handshake(struct tcp_run *t)
{
	ERR_clear_error();
	int rc = SSL_do_handshake(t->ssl);
	if (rc != 1) {
		int e = SSL_get_error(t->ssl, rc);
		if (e == SSL_ERROR_WANT_READ)
			tcp_want(t, LOOP_READ);
		else if (e == SSL_ERROR_WANT_WRITE)
			tcp_want(t, LOOP_WRITE);
		else
			tcp_end(t, 0, "tls");
		return;
	}
	const char *bad = tls_report(t->ssl, &t->r->out, !t->r->tgt->cfg->tcp.tls_insecure);
	if (bad) {
		tcp_end(t, 0, bad);
		return;
	}
	tcp_next(t);
}

static void tcp_send(struct tcp_run *t)
{
	const char *s = t->r->tgt->cfg->tcp.send;
	size_t len = strlen(s);
	ssize_t w;
	if (t->ssl) {
		ERR_clear_error();
		int rc = SSL_write(t->ssl, s + t->sent, (int)(len - t->sent));
		if (rc <= 0) {
			int e = SSL_get_error(t->ssl, rc);
			/* wait for what TLS needs, not what the phase would (no spinning) */
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				tcp_want(t, e == SSL_ERROR_WANT_READ ? LOOP_READ : LOOP_WRITE);
				return;
			}
			tcp_end(t, 0, "send");
			return;
		}
		w = rc;
	} else {
		w = send(t->fd, s + t->sent, len - t->sent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				tcp_end(t, 0, "send");
			return;
		}
	}
	t->sent += (size_t)w;
	if (t->sent == len)
		tcp_next(t);
}

static void tcp_recv(struct tcp_run *t)
{
	const char *re = t->r->tgt->cfg->tcp.expect;
	char b[4096];
	for (int i = 0; i < 16; i++) {
		ssize_t n;
		if (t->ssl) {
			ERR_clear_error();
			int rc = SSL_read(t->ssl, b, sizeof(b));
			if (rc <= 0) {
				int e = SSL_get_error(t->ssl, rc);
				if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
					tcp_want(t, e == SSL_ERROR_WANT_READ ? LOOP_READ : LOOP_WRITE);
					return;
				}
				n = 0;
			} else {
				n = rc;
			}
		} else {
			n = recv(t->fd, b, sizeof(b), 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return;
		}
		if (n <= 0 || buf_add(&t->in, b, (size_t)n) < 0) {
			/* EOF, error or cap: one last look, then give up */
			int hit = t->in.len && probe_regex_match(re, t->in.data, t->in.len) == 1;
			pout_add(&t->r->out, "probe_failed_due_to_regex", hit ? 0 : 1, NULL);
			tcp_end(t, hit, hit ? NULL : "regex");
			return;
		}
		if (probe_regex_match(re, t->in.data, t->in.len) == 1) {
			pout_add(&t->r->out, "probe_failed_due_to_regex", 0, NULL);
			tcp_end(t, 1, NULL);
			return;
		}
	}
}

static void tcp_io(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct tcp_run *t = ctx;
	(void)l;
	(void)ev;
	switch (t->phase) {
	case TCP_CONNECTING: {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			tcp_end(t, 0, "connect");
			return;
		}
		if (t->r->tgt->cfg->tcp.tls) {
			if (tls_setup(t) < 0) {
				tcp_end(t, 0, "tls");
				return;
			}
			t->phase = TCP_HANDSHAKE;
			tcp_handshake(t);
			return;
		}
		tcp_next(t);
		return;
	}
	case TCP_HANDSHAKE:
		tcp_handshake(t);
		return;
	case TCP_SENDING:
		tcp_send(t);
		return;
	case TCP_RECEIVING:
		tcp_recv(t);
		return;
	}
}

int probe_tcp_start(struct probe_run *r)
{
	struct probe_target *tg = r->tgt;
	struct tcp_run *t = xcalloc(1, sizeof(*t));
	t->r = r;
	buf_init(&t->in, PROBE_BODY_MAX);
	pout_add(&r->out, "probe_ip_protocol", tg->addr.ss_family == AF_INET ? 4 : 6, NULL);
	t->fd = socket(tg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		free(t);
		return -errno;
	}
	if (egress_connect(t->fd, (const struct sockaddr *)&tg->addr, tg->addrlen, IPPROTO_TCP) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		probe_run_fail(r, err == EACCES ? "egress" : "connect");
		close(t->fd);
		buf_free(&t->in);
		free(t);
		return -err;
	}
	r->kstate = t;
	r->on_timeout = tcp_timeout;
	loop_add_fd(r->loop, t->fd, LOOP_WRITE, tcp_io, t);
	return 0;
}
