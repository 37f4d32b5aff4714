/*
 * engine.c — runs every configured probe on its interval, turns results
 * into samples, drives node status, and keeps the self metrics.
 */
#include "probe/probe_int.h"
#include "probe/status.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <netdb.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct probe_counters probe_ctr;

struct probe_engine {
	struct loop *l;			/* loop everything runs on */
	struct sample_sink sink;	/* where results go */
	struct probe_env env;		/* hooks and fds from the caller */
	struct probe_target *t;		/* targets, n of them */
	size_t n;			/* number of targets */
	struct icmp_pinger *icmp4;	/* IPv4 echo socket, or NULL */
	struct icmp_pinger *icmp6;	/* IPv6 echo socket, or NULL */
	struct http_multi *http;	/* libcurl multi handle, made on first use */
	struct status_tracker st;	/* node status */
	size_t oneshot_left;		/* runs still to finish in oneshot mode */
	struct probe_cfg *own;		/* private copy of the config with defaults */
	int icmp_logged[2];		/* socket failure logged (v4, v6): log once */
	int closing;			/* being freed: results are dropped */
};

static const char *const kind_names[] = { "icmp", "tcp", "http", "dns", "nagios" };

const char *probe_kind_name(enum probe_kind k)
{
	return (unsigned)k < 5 ? kind_names[k] : "?";
}

int probe_kind_parse(const char *s, enum probe_kind *out)
{
	for (int i = 0; i < 5; i++)
		if (strcmp(s, kind_names[i]) == 0) {
			*out = (enum probe_kind)i;
			return 0;
		}
	return -EINVAL;
}

/* ---- result samples ---- */

void pout_add(struct probe_out *o, const char *name, double v, ...)
{
	if (o->n >= POUT_MAX_SAMPLES)
		return;
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 16;
		o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
	}
	struct pout_sample *s = &o->v[o->n++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->v = v;
	va_list ap;
	va_start(ap, v);
	for (int i = 0; i < POUT_MAX_LABELS; i++) {
		const char *ln = va_arg(ap, const char *);
		if (!ln)
			break;
		const char *lv = va_arg(ap, const char *);
		s->lname[i] = xstrdup(ln);
		s->lval[i] = xstrdup(lv ? lv : "");
	}
	va_end(ap);
}

void pout_append(struct probe_out *dst, struct probe_out *src)
{
	for (size_t i = 0; i < src->n; i++) {
		if (dst->n >= POUT_MAX_SAMPLES) {
			struct probe_out rest = { src->v + i, src->n - i, 0 };
			for (size_t j = 0; j < rest.n; j++) {	/* over the cap: drop */
				free(rest.v[j].name);
				for (int k = 0; k < POUT_MAX_LABELS; k++) {
					free(rest.v[j].lname[k]);
					free(rest.v[j].lval[k]);
				}
			}
			break;
		}
		if (dst->n == dst->cap) {
			dst->cap = dst->cap ? dst->cap * 2 : 16;
			dst->v = xreallocarray(dst->v, dst->cap, sizeof(*dst->v));
		}
		dst->v[dst->n++] = src->v[i];
	}
	free(src->v);
	memset(src, 0, sizeof(*src));
}

void pout_free(struct probe_out *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].name);
		for (int j = 0; j < POUT_MAX_LABELS; j++) {
			free(o->v[i].lname[j]);
			free(o->v[i].lval[j]);
		}
	}
	free(o->v);
	memset(o, 0, sizeof(*o));
}

/* FNV-1a (32-bit) over the address bytes: blackbox_exporter's
 * probe_ip_addr_hash, so a change of the resolved address shows. */
static double ip_hash(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t h = 0x811c9dc5u;
	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x01000193u;
	}
	return h;
}

void pout_ip_hash(struct probe_out *o, const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		pout_add(o, "probe_ip_addr_hash",
		    ip_hash(&((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4), NULL);
	else if (sa->ss_family == AF_INET6)
		pout_add(o, "probe_ip_addr_hash",
		    ip_hash(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16), NULL);
}

static const char *target_module(const struct probe_cfg *c)
{
	return c->module && *c->module ? c->module : probe_kind_name(c->kind);
}

static void emit_sample(struct probe_engine *e, const struct probe_target *t,
    const struct pout_sample *s, int64_t ts)
{
	struct label lv[4 + POUT_MAX_LABELS];
	size_t n = 0;
	lv[n++] = (struct label){ "__name__", s->name };
	lv[n++] = (struct label){ "instance", t->cfg->target };
	lv[n++] = (struct label){ "module", target_module(t->cfg) };
	/* the node it checks, so its results join vigil_node_status{node} (the inventory merges them) */
	if (t->cfg->node && *t->cfg->node)
		lv[n++] = (struct label){ "node", t->cfg->node };
	for (int j = 0; j < POUT_MAX_LABELS && s->lname[j]; j++)
		lv[n++] = (struct label){ s->lname[j], s->lval[j] };
	struct labels *ls = labels_new(lv, n);
	if (!ls)
		return;	/* a prober used instance/module as a label name: skip */
	e->sink.add(e->sink.ctx, ls, ts, s->v);
	labels_free(ls);
}

static void emit_node_status(struct probe_engine *e, const char *node, int64_t ts)
{
	int64_t changed;
	int s = status_get(&e->st, node, &changed);
	struct label lv[2] = { { "__name__", "vigil_node_status" }, { "node", node } };
	struct labels *ls = labels_new(lv, 2);
	e->sink.add(e->sink.ctx, ls, ts, s);
	labels_free(ls);
	lv[0].value = "vigil_node_status_changed_timestamp_seconds";
	ls = labels_new(lv, 2);
	e->sink.add(e->sink.ctx, ls, ts, (double)changed / 1000.0);
	labels_free(ls);
}

void probe_engine_emit_status(struct probe_engine *e)
{
	status_emit(&e->st, e->sink, clock_wall_ms());
}

int probe_engine_node_status(const struct probe_engine *e, const char *node, int64_t *changed_ms)
{
	return status_get(&e->st, node, changed_ms);
}

void probe_engine_seed_status(struct probe_engine *e, const char *node, int status,
    int64_t changed_ms)
{
	/* A down node stays down until a poll succeeds; a warning one needs the
	 * rest of its down_after failures, counted as one so far. */
	status_seed(&e->st, node, status, status == PROBE_NODE_DOWN ? UINT32_MAX / 2 :
	    status == PROBE_NODE_WARNING ? 1 : 0, changed_ms);
}

/* ---- scheduling ---- */

static void run_start(struct probe_target *t);

static void on_next(struct loop *l, uint64_t id, void *ctx)
{
	struct probe_target *t = ctx;
	(void)l;
	if (t->next_timer != id)
		return;
	t->next_timer = 0;
	if (!t->run)
		run_start(t);
}

static void on_timeout(struct loop *l, uint64_t id, void *ctx)
{
	struct probe_target *t = ctx;
	struct probe_run *r = t->run;
	(void)l;
	if (!r || r->timeout_timer != id)
		return;	/* the run this timer belonged to already finished */
	r->timeout_timer = 0;
	probe_run_fail(r, "timeout");
	if (r->on_timeout)
		r->on_timeout(r);
	else
		probe_run_finish(r, 0);
}

void probe_run_fail(struct probe_run *r, const char *reason)
{
	if (!r->reason)
		r->reason = reason;
}

static int (*const starters[5])(struct probe_run *) = {
	probe_icmp_start, probe_tcp_start, probe_http_start, probe_dns_start, probe_nagios_start,
};

static void run_start(struct probe_target *t)
{
	struct probe_engine *e = t->eng;
	struct probe_run *r = xcalloc(1, sizeof(*r));
	r->eng = e;
	r->tgt = t;
	r->loop = e->l;
	r->start_ns = clock_mono_ns();
	t->run = r;
	r->timeout_timer = loop_add_timer(e->l, t->cfg->timeout_ms, on_timeout, t);
	if (starters[t->cfg->kind](r) < 0) {
		probe_run_fail(r, "send");
		probe_run_finish(r, 0);
	}
}

void probe_run_finish(struct probe_run *r, int success)
{
	struct probe_target *t = r->tgt;
	struct probe_engine *e = r->eng;
	const struct probe_cfg *c = t->cfg;
	int64_t now_ns = clock_mono_ns(), ts = clock_wall_ms();
	int64_t elapsed_ms = (now_ns - r->start_ns) / 1000000;

	t->run = NULL;
	if (e->closing) {
		pout_free(&r->out);
		free(r);
		return;
	}
	probe_ctr.runs[c->kind]++;
	if (!success)
		probe_ctr.failures[c->kind]++;
	struct probe_out head = { 0 };
	pout_add(&head, "probe_success", success ? 1 : 0, NULL);
	pout_add(&head, "probe_duration_seconds", (double)(now_ns - r->start_ns) / 1e9, NULL);
	if (t->addrlen) {
		pout_add(&head, "probe_dns_lookup_time_seconds", t->resolve_s, NULL);
		pout_ip_hash(&head, &t->addr);
	}
	if (!success)
		pout_add(&head, "probe_failure_info", 1, "reason", r->reason ? r->reason : "error", NULL);
	for (size_t i = 0; i < head.n; i++)
		emit_sample(e, t, &head.v[i], ts);
	for (size_t i = 0; i < r->out.n; i++)
		emit_sample(e, t, &r->out.v[i], ts);
	pout_free(&head);
	pout_free(&r->out);
	free(r);

	int64_t next = c->interval_ms;
	if (c->node) {
		int s = status_report(&e->st, c->node, c->down_after, success, ts);
		emit_node_status(e, c->node, ts);
		if (s == PROBE_NODE_WARNING)
			next = c->retry_interval_ms;
	}
	if (e->env.oneshot) {
		if (--e->oneshot_left == 0)
			loop_stop(e->l);
		return;
	}
	next -= elapsed_ms;
	t->next_timer = loop_add_timer(e->l, next > 0 ? next : 0, on_next, t);
}

/* ---- setup ---- */

int probe_split_hostport(const char *s, char *host, size_t hostsz, uint16_t *port,
    uint16_t default_port)
{
	const char *h = s, *pe = NULL;
	size_t hl;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb)
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(rb - h);
		if (rb[1] == ':')
			pe = rb + 2;
		else if (rb[1] != '\0')
			return -EINVAL;
	} else {
		const char *c = strchr(s, ':');
		if (c && !strchr(c + 1, ':')) {
			hl = (size_t)(c - s);
			pe = c + 1;
		} else {
			hl = strlen(s);	/* no port, or a bare IPv6 address */
		}
	}
	if (hl == 0 || hl >= hostsz)
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*port = default_port;
	if (pe) {
		char *end;
		unsigned long v = strtoul(pe, &end, 10);
		if (*pe == '\0' || *end != '\0' || v == 0 || v > 65535)
			return -EINVAL;
		*port = (uint16_t)v;
	}
	return 0;
}

int probe_resolve(const char *host, uint16_t port, int family, struct sockaddr_storage *sa,
    socklen_t *salen, double *secs)
{
	int64_t t0 = clock_mono_ns();
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)sa;
	int rc = -EINVAL;
	if (family != 6 && inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*salen = sizeof(*s4);
		rc = 0;
	} else if (family != 4 && inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*salen = sizeof(*s6);
		rc = 0;
	} else {
		struct addrinfo hints = { .ai_socktype = SOCK_DGRAM,
			.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC };
		struct addrinfo *ai = NULL;
		if (getaddrinfo(host, NULL, &hints, &ai) == 0 && ai &&
		    ai->ai_addrlen <= sizeof(*sa)) {
			memcpy(sa, ai->ai_addr, ai->ai_addrlen);
			*salen = ai->ai_addrlen;
			if (sa->ss_family == AF_INET)
				s4->sin_port = htons(port);
			else
				s6->sin6_port = htons(port);
			rc = 0;
		}
		if (ai)
			freeaddrinfo(ai);
	}
	*secs = (double)(clock_mono_ns() - t0) / 1e9;
	return rc;
}

static int url_hostport(const char *url, char *host, size_t hostsz, uint16_t *port);

int probe_resolve_all(const char *host, uint16_t port, int family,
    struct sockaddr_storage *sa, socklen_t *salen, size_t max, size_t *n)
{
	double secs;
	*n = 0;
	if (max == 0)
		return -EINVAL;
	if (probe_resolve(host, port, family, &sa[0], &salen[0], &secs) < 0)
		return -EINVAL;
	*n = 1;
	struct in6_addr tmp;
	if (inet_pton(AF_INET, host, &tmp) == 1 || inet_pton(AF_INET6, host, &tmp) == 1)
		return 0;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
		.ai_family = family == 4 ? AF_INET : family == 6 ? AF_INET6 : AF_UNSPEC };
	struct addrinfo *ai = NULL;
	if (getaddrinfo(host, NULL, &hints, &ai) != 0)
		return 0;	/* keep the one we have */
	*n = 0;
	for (struct addrinfo *a = ai; a && *n < max; a = a->ai_next) {
		if (a->ai_addrlen > sizeof(sa[0]) ||
		    (a->ai_family != AF_INET && a->ai_family != AF_INET6))
			continue;
		memcpy(&sa[*n], a->ai_addr, a->ai_addrlen);
		salen[*n] = a->ai_addrlen;
		if (a->ai_family == AF_INET)
			((struct sockaddr_in *)(void *)&sa[*n])->sin_port = htons(port);
		else
			((struct sockaddr_in6 *)(void *)&sa[*n])->sin6_port = htons(port);
		(*n)++;
	}
	freeaddrinfo(ai);
	return *n ? 0 : -EINVAL;
}

/* For an HTTP target with a host name, resolve it now and keep the
 * addresses as a CURLOPT_RESOLVE entry ("host:port:a,b"), so curl does not
 * look the name up again and connects only where the policy allows. */
static int http_pin(struct probe_target *t)
{
	uint16_t port;
	struct sockaddr_storage sa[PROBE_MAX_ADDRS];
	socklen_t sl[PROBE_MAX_ADDRS];
	size_t n;
	struct in6_addr tmp;
	if (url_hostport(t->cfg->target, t->host, sizeof(t->host), &port) < 0)
		return -EINVAL;
	if (inet_pton(AF_INET, t->host, &tmp) == 1 || inet_pton(AF_INET6, t->host, &tmp) == 1)
		return 0;	/* numeric: nothing to resolve */
	if (probe_resolve_all(t->host, port, t->cfg->ip_version, sa, sl, PROBE_MAX_ADDRS, &n) < 0)
		return -EINVAL;
	char pin[PROBE_PIN_MAX];
	size_t o = (size_t)snprintf(pin, sizeof(pin), "%s:%u:", t->host, port);
	for (size_t i = 0; i < n && o < sizeof(pin); i++) {
		char a[INET6_ADDRSTRLEN];
		int v6 = sa[i].ss_family == AF_INET6;
		inet_ntop(sa[i].ss_family, v6 ? (void *)&((struct sockaddr_in6 *)(void *)&sa[i])->sin6_addr :
		    (void *)&((struct sockaddr_in *)(void *)&sa[i])->sin_addr, a, sizeof(a));
		o += (size_t)snprintf(pin + o, sizeof(pin) - o, "%s%s%s%s", i ? "," : "",
		    v6 ? "[" : "", a, v6 ? "]" : "");
	}
	if (o >= sizeof(pin))
		return -EINVAL;
	free(t->pin);
	t->pin = xstrdup(pin);
	return 0;
}

/* Resolve where the probe goes. Return 0, or -EINVAL with *why saying what
 * is wrong with the config (a static string). */
static int target_setup(struct probe_target *t, const char **why)
{
	const struct probe_cfg *c = t->cfg;
	uint16_t port = 0;
	int fam = c->ip_version;
	*why = "target: not host, host:port or [v6]:port";
	switch (c->kind) {
	case PROBE_ICMP:
		if (probe_split_hostport(c->target, t->host, sizeof(t->host), &port, 0) < 0)
			return -EINVAL;
		*why = "target: an ICMP target has no port";
		if (port != 0)
			return -EINVAL;
		break;
	case PROBE_TCP:
		if (probe_split_hostport(c->target, t->host, sizeof(t->host), &port, 0) < 0)
			return -EINVAL;
		*why = "target: a TCP target needs host:port";
		if (port == 0)
			return -EINVAL;
		break;
	case PROBE_DNS:
		if (probe_split_hostport(c->target, t->host, sizeof(t->host), &port, 53) < 0)
			return -EINVAL;
		*why = "dns.query_name: missing";
		if (!c->dns.query_name || !*c->dns.query_name)
			return -EINVAL;
		break;
	case PROBE_HTTP:
		*why = "target: not an http:// or https:// URL";
		if (strncmp(c->target, "http://", 7) != 0 && strncmp(c->target, "https://", 8) != 0)
			return -EINVAL;
		*why = "target: cannot parse the URL or resolve its host";
		return http_pin(t);
	case PROBE_NAGIOS:
		*why = "nagios.argv: missing, or argv[0] is not an absolute path";
		if (!c->nagios.argv || !c->nagios.argv[0] || c->nagios.argv[0][0] != '/')
			return -EINVAL;
		return 0;
	}
	*why = "target: cannot resolve the host";
	return probe_resolve(t->host, port, fam, &t->addr, &t->addrlen, &t->resolve_s);
}

/* 0, or -EINVAL with *why naming the bad field. */
static int check_cfg(struct probe_target *t, const char **why)
{
	const struct probe_cfg *c = t->cfg;
	*why = "target: missing";
	if (!c->target || !*c->target)
		return -EINVAL;
	*why = "kind: unknown";
	if ((unsigned)c->kind >= 5)
		return -EINVAL;
	*why = "interval/timeout: negative";
	if (c->interval_ms < 0 || c->timeout_ms < 0 || c->retry_interval_ms < 0)
		return -EINVAL;
	const char *res[4] = { c->tcp.expect, c->http.body_regex, c->http.body_not_regex,
		c->dns.answer_regex };
	const char *names[4] = { "tcp.expect: bad PCRE2 pattern", "http.body_regex: bad PCRE2 pattern",
		"http.body_not_regex: bad PCRE2 pattern", "dns.answer_regex: bad PCRE2 pattern" };
	for (int i = 0; i < 4; i++) {
		*why = names[i];
		if (res[i] && probe_regex_match(res[i], "", 0) < 0)
			return -EINVAL;
	}
	return target_setup(t, why);
}

struct icmp_pinger *probe_engine_pinger(struct probe_engine *e, int family)
{
	struct icmp_pinger **pp = family == AF_INET ? &e->icmp4 : &e->icmp6;
	int *raw = family == AF_INET ? &e->env.icmp4_raw_fd : &e->env.icmp6_raw_fd;
	if (!*pp) {
		int rc = icmp_pinger_new(e->l, family, *raw, e->env.icmp_force_raw, pp);
		int *logged = &e->icmp_logged[family == AF_INET ? 0 : 1];
		if (rc < 0 && !*logged) {
			char q1[64], q2[128], q3[64], range[48] = "?";
			FILE *f = fopen("/proc/sys/net/ipv4/ping_group_range", "re");
			if (f) {
				if (!fgets(range, sizeof(range), f))
					snprintf(range, sizeof(range), "?");
				range[strcspn(range, "\n")] = '\0';
				for (char *c = range; *c; c++)
					*c = *c == '\t' ? ' ' : *c;	/* the kernel separates with a tab */
				fclose(f);
			}
			*logged = 1;
			log_error("cannot open ICMP socket", "family=%d err=%s ping_group_range=%s hint=%s",
			    family == AF_INET ? 4 : 6, log_quote(q1, sizeof(q1), strerror(-rc)),
			    log_quote(q3, sizeof(q3), range), log_quote(q2, sizeof(q2),
			    "allow our gid in net.ipv4.ping_group_range or pass a raw socket from the parent"));
		}
		if (rc < 0)
			return NULL;
		*raw = -1;	/* the pinger uses or has closed it now */
	}
	return *pp;
}

struct http_multi *probe_engine_http(struct probe_engine *e)
{
	if (!e->http)
		e->http = http_multi_new(e->l);
	return e->http;
}

int probe_engine_new(struct loop *loop, const struct probe_cfg *cfg, size_t n,
    struct sample_sink sink, const struct probe_env *env, struct probe_engine **out)
{
	*out = NULL;
	if (n > PROBE_MAX_TARGETS) {
		log_error("too many probes", "n=%zu max=%u", n, PROBE_MAX_TARGETS);
		return -EINVAL;
	}
	struct probe_engine *e = xcalloc(1, sizeof(*e));
	e->l = loop;
	e->sink = sink;
	e->env = env ? *env : (struct probe_env){ .icmp4_raw_fd = -1, .icmp6_raw_fd = -1 };
	e->t = xcalloc(n ? n : 1, sizeof(*e->t));
	e->n = n;
	status_init(&e->st, e->env.on_change, e->env.on_change_ctx);
	int64_t now = clock_wall_ms();
	for (size_t i = 0; i < n; i++) {
		struct probe_target *t = &e->t[i];
		const struct probe_cfg *c = &cfg[i];
		t->cfg = c;
		t->eng = e;
		t->index = i;
		const char *why = NULL;
		if (check_cfg(t, &why) < 0) {
			char q[300], qm[300], qt[600];
			log_error("bad probe config", "probe=%zu module=%s target=%s kind=%s why=%s", i,
			    log_quote(qm, sizeof(qm), c->module ? c->module : "-"),
			    log_quote(qt, sizeof(qt), c->target ? c->target : "-"),
			    probe_kind_name(c->kind), log_quote(q, sizeof(q), why));
			probe_engine_free(e);
			return -EINVAL;
		}
		if (c->node)
			status_declare(&e->st, c->node, now);
	}
	/* Config defaults are applied in place on a private copy of each cfg. */
	struct probe_cfg *own = xcalloc(n ? n : 1, sizeof(*own));
	e->own = own;
	for (size_t i = 0; i < n; i++) {
		own[i] = cfg[i];
		if (own[i].interval_ms == 0)
			own[i].interval_ms = 10000;
		if (own[i].timeout_ms == 0)
			own[i].timeout_ms = 5000;
		if (own[i].timeout_ms > own[i].interval_ms && !e->env.oneshot)
			own[i].timeout_ms = own[i].interval_ms;
		if (own[i].retry_interval_ms <= 0)
			own[i].retry_interval_ms = 2000;
		e->t[i].cfg = &own[i];
	}
	e->oneshot_left = n;
	for (size_t i = 0; i < n; i++) {
		struct probe_target *t = &e->t[i];
		/* Spread first runs over the interval so thousands of targets do
		 * not all fire in the same millisecond. */
		int64_t off = 0;
		if (!e->env.oneshot) {
			uint64_t h = hmap_hash(t->cfg->target, strlen(t->cfg->target)) ^ i;
			off = (int64_t)(h % (uint64_t)t->cfg->interval_ms);
		}
		t->next_timer = loop_add_timer(loop, off, on_next, t);
	}
	*out = e;
	return 0;
}

void probe_engine_free(struct probe_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->n; i++) {
		struct probe_target *t = &e->t[i];
		if (t->next_timer)
			loop_del_timer(e->l, t->next_timer);
		if (t->run) {
			struct probe_run *r = t->run;
			/* Let the prober release its state; the result is dropped. */
			e->closing = 1;
			if (r->timeout_timer)
				loop_del_timer(e->l, r->timeout_timer);
			if (r->on_timeout)
				r->on_timeout(r);
			else
				probe_run_finish(r, 0);
		}
	}
	icmp_pinger_free(e->icmp4);
	icmp_pinger_free(e->icmp6);
	if (e->env.icmp4_raw_fd >= 0)
		close(e->env.icmp4_raw_fd);
	if (e->env.icmp6_raw_fd >= 0)
		close(e->env.icmp6_raw_fd);
	http_multi_free(e->http);
	status_free(&e->st);
	for (size_t i = 0; i < e->n; i++)
		free(e->t[i].pin);
	free(e->own);
	free(e->t);
	free(e);
}

/* ---- egress ---- */

/* Host and port of an http(s) URL; 0 or -EINVAL. */
static int url_hostport(const char *url, char *host, size_t hostsz, uint16_t *port)
{
	CURLU *u = curl_url();
	char *h = NULL, *p = NULL;
	int rc = -EINVAL;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &h, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &p, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		const char *hh = h;
		size_t hl = strlen(h);
		if (hl >= 2 && h[0] == '[') {	/* [v6] */
			hh++;
			hl -= 2;
		}
		long pv = strtol(p, NULL, 10);
		if (hl > 0 && hl < hostsz && pv > 0 && pv <= 65535) {
			memcpy(host, hh, hl);
			host[hl] = '\0';
			*port = (uint16_t)pv;
			rc = 0;
		}
	}
	curl_free(h);
	curl_free(p);
	curl_url_cleanup(u);
	return rc;
}

int probe_egress_allow(const struct probe_cfg *cfg, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const struct probe_cfg *c = &cfg[i];
		struct probe_target t;
		memset(&t, 0, sizeof(t));
		t.cfg = c;
		const char *why = "target: cannot parse or resolve";
		if (c->kind == PROBE_NAGIOS)
			continue;	/* plugins run as their own processes */
		int rc = check_cfg(&t, &why);
		free(t.pin);	/* check_cfg pinned an HTTP name; not needed here */
		uint16_t port = c->kind == PROBE_DNS ? 53 : 0;
		int proto = c->kind == PROBE_ICMP ? IPPROTO_ICMP :
		    c->kind == PROBE_DNS ? IPPROTO_UDP : IPPROTO_TCP;
		if (rc == 0 && c->kind == PROBE_HTTP)
			rc = url_hostport(c->target, t.host, sizeof(t.host), &port);
		else if (rc == 0)
			rc = probe_split_hostport(c->target, t.host, sizeof(t.host), &port, port);
		/* Every address the name has: the engine may resolve it apart from
		 * this (another process, another moment) and get another one. */
		struct sockaddr_storage sa[PROBE_MAX_ADDRS];
		socklen_t sl[PROBE_MAX_ADDRS];
		size_t na = 0;
		if (rc == 0)
			rc = probe_resolve_all(t.host, port, c->ip_version,
			    sa, sl, PROBE_MAX_ADDRS, &na);
		if (rc < 0) {
			char q[300], qt[600];
			log_error("bad probe config", "probe=%zu target=%s why=%s", i,
			    log_quote(qt, sizeof(qt), c->target ? c->target : "-"), log_quote(q, sizeof(q), why));
			return -EINVAL;
		}
		for (size_t k = 0; k < na; k++) {
			if (egress_allow_addr((struct sockaddr *)&sa[k], sl[k], proto,
			    proto == IPPROTO_ICMP ? 0 : port, c->target) < 0)
				return -EINVAL;
			/* DNS goes over TCP when asked to, or when a reply is truncated. */
			if (c->kind == PROBE_DNS && egress_allow_addr((struct sockaddr *)&sa[k], sl[k],
			    IPPROTO_TCP, port, c->target) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

/* ---- regex cache ---- */

#define REGEX_CACHE_MAX 1024	/* distinct patterns kept compiled */
static struct hmap regex_cache;	/* pattern -> pcre2_code */
static size_t regex_cached;	/* entries in regex_cache */

int probe_regex_match(const char *pattern, const char *s, size_t n)
{
	size_t pl = strlen(pattern);
	pcre2_code *re = hmap_get(&regex_cache, pattern, pl);
	if (!re) {
		int err;
		PCRE2_SIZE off;
		re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
		if (!re) {
			PCRE2_UCHAR msg[128];
			pcre2_get_error_message(err, msg, sizeof(msg));
			char q[300];
			log_error("bad regex", "at=%zu err=%s", (size_t)off,
			    log_quote(q, sizeof(q), (const char *)msg));
			return -EINVAL;
		}
		if (regex_cached < REGEX_CACHE_MAX) {
			hmap_put(&regex_cache, pattern, pl, re);
			regex_cached++;
		}
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (hmap_get(&regex_cache, pattern, pl) != re)
		pcre2_code_free(re);
	return rc >= 0 ? 1 : 0;
}

/* ---- self metrics ---- */

int probe_metrics_text(struct buf *b)
{
	int rc = 0;
	rc |= buf_adds(b, "# HELP vigil_probe_runs_total Probe runs finished.\n"
	    "# TYPE vigil_probe_runs_total counter\n");
	for (int k = 0; k < 5; k++)
		rc |= buf_printf(b, "vigil_probe_runs_total{kind=\"%s\"} %llu\n", kind_names[k],
		    (unsigned long long)probe_ctr.runs[k]);
	rc |= buf_adds(b, "# HELP vigil_probe_failures_total Probe runs that failed.\n"
	    "# TYPE vigil_probe_failures_total counter\n");
	for (int k = 0; k < 5; k++)
		rc |= buf_printf(b, "vigil_probe_failures_total{kind=\"%s\"} %llu\n", kind_names[k],
		    (unsigned long long)probe_ctr.failures[k]);
	rc |= buf_printf(b,
	    "# HELP vigil_probe_icmp_sent_total ICMP echo requests sent.\n"
	    "# TYPE vigil_probe_icmp_sent_total counter\n"
	    "vigil_probe_icmp_sent_total %llu\n"
	    "# HELP vigil_probe_icmp_send_errors_total ICMP echo requests that could not be sent.\n"
	    "# TYPE vigil_probe_icmp_send_errors_total counter\n"
	    "vigil_probe_icmp_send_errors_total %llu\n"
	    "# HELP vigil_probe_icmp_replies_total ICMP echo replies matched to a request.\n"
	    "# TYPE vigil_probe_icmp_replies_total counter\n"
	    "vigil_probe_icmp_replies_total %llu\n"
	    "# HELP vigil_probe_icmp_dropped_total ICMP packets received and dropped.\n"
	    "# TYPE vigil_probe_icmp_dropped_total counter\n"
	    "vigil_probe_icmp_dropped_total{reason=\"malformed\"} %llu\n"
	    "vigil_probe_icmp_dropped_total{reason=\"foreign\"} %llu\n"
	    "vigil_probe_icmp_dropped_total{reason=\"late\"} %llu\n"
	    "# HELP vigil_probe_dns_dropped_total DNS replies dropped.\n"
	    "# TYPE vigil_probe_dns_dropped_total counter\n"
	    "vigil_probe_dns_dropped_total{reason=\"malformed\"} %llu\n"
	    "vigil_probe_dns_dropped_total{reason=\"mismatched\"} %llu\n"
	    "# HELP vigil_probe_nagios_killed_total Plugins killed at their timeout.\n"
	    "# TYPE vigil_probe_nagios_killed_total counter\n"
	    "vigil_probe_nagios_killed_total %llu\n"
	    "# HELP vigil_probe_node_status_changes_total Node status transitions.\n"
	    "# TYPE vigil_probe_node_status_changes_total counter\n"
	    "vigil_probe_node_status_changes_total %llu\n",
	    (unsigned long long)probe_ctr.icmp_sent, (unsigned long long)probe_ctr.icmp_send_errors,
	    (unsigned long long)probe_ctr.icmp_replies, (unsigned long long)probe_ctr.icmp_malformed,
	    (unsigned long long)probe_ctr.icmp_foreign, (unsigned long long)probe_ctr.icmp_late,
	    (unsigned long long)probe_ctr.dns_malformed, (unsigned long long)probe_ctr.dns_mismatched,
	    (unsigned long long)probe_ctr.nagios_killed, (unsigned long long)probe_ctr.status_changes);
	return rc ? -E2BIG : 0;
}
