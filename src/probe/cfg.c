/*
 * cfg.c — probe_cfg_set(): fill a struct probe_cfg from (key, string value)
 * pairs, so the config loader can hand over each YAML scalar of a probe
 * without knowing the struct, and every check and default lives here.
 */
#include "probe/dns.h"
#include "probe/probe.h"
#include "core/clock.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CFG_MAX_ARGV 64		/* plugin argv entries */

/* Strings and arrays probe_cfg_set allocated for one cfg. */
struct probe_cfg_owned {
	char **s;		/* owned strings */
	size_t n;		/* used */
	size_t cap;		/* allocated */
	const char **argv;	/* plugin argv (CFG_MAX_ARGV + 1 slots), or NULL */
	size_t argc;		/* entries in argv */
};

static const char *keep(struct probe_cfg *c, const char *v)
{
	struct probe_cfg_owned *o = c->owned;
	if (!o)
		o = c->owned = xcalloc(1, sizeof(*o));
	if (o->n == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 8;
		o->s = xreallocarray(o->s, o->cap, sizeof(*o->s));
	}
	return o->s[o->n++] = xstrdup(v);
}

void probe_cfg_release(struct probe_cfg *c)
{
	if (!c || !c->owned)
		return;
	struct probe_cfg_owned *o = c->owned;
	for (size_t i = 0; i < o->n; i++)
		free(o->s[i]);
	free(o->s);
	free(o->argv);
	free(o);
	c->owned = NULL;
}

static int bad(char *err, size_t errsz, const char *key, const char *what)
{
	if (err && errsz)
		snprintf(err, errsz, "%s: %s", key, what);
	return -EINVAL;
}

static int parse_bool(const char *v, int *out)
{
	if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1"))
		*out = 1;
	else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "0"))
		*out = 0;
	else
		return -1;
	return 0;
}

static int parse_uint(const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	if (!*v || *v == '-')
		return -1;
	errno = 0;
	unsigned long x = strtoul(v, &end, 10);
	if (*end || errno || x > max)
		return -1;
	*out = x;
	return 0;
}

static int parse_rcode(const char *v, int *out)
{
	static const char *const names[] = { "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
		"NOTIMP", "REFUSED" };
	for (int i = 0; i < 6; i++)
		if (strcasecmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	unsigned long x;
	if (parse_uint(v, 15, &x) < 0)
		return -1;
	*out = (int)x;
	return 0;
}

int probe_cfg_set(struct probe_cfg *c, const char *key, const char *v, char *err, size_t errsz)
{
	unsigned long u;
	int b;
	int64_t ms;
#define DUR(field) do { if (clock_parse_duration(v, &ms) < 0) { \
	return bad(err, errsz, key, "not a duration (e.g. 10s, 500ms)"); } field = ms; return 0; } while (0)
#define BOOL(field) do { if (parse_bool(v, &b) < 0) { \
	return bad(err, errsz, key, "not true or false"); } field = b; return 0; } while (0)
#define UINT(field, max) do { if (parse_uint(v, (max), &u) < 0) { \
	return bad(err, errsz, key, "not a whole number in range"); } field = u; return 0; } while (0)
#define STR(field) do { field = keep(c, v); return 0; } while (0)
	if (!strcmp(key, "kind") || !strcmp(key, "prober")) {
		if (probe_kind_parse(v, &c->kind) < 0)
			return bad(err, errsz, key, "not icmp, tcp, http, dns or nagios");
		return 0;
	}
	if (!strcmp(key, "module")) STR(c->module);
	if (!strcmp(key, "target")) STR(c->target);
	if (!strcmp(key, "node")) STR(c->node);
	if (!strcmp(key, "interval")) DUR(c->interval_ms);
	if (!strcmp(key, "timeout")) DUR(c->timeout_ms);
	if (!strcmp(key, "retry_interval")) DUR(c->retry_interval_ms);
	if (!strcmp(key, "down_after")) UINT(c->down_after, 1000);
	if (!strcmp(key, "icmp.count")) UINT(c->icmp.count, PROBE_ICMP_MAX_COUNT);
	if (!strcmp(key, "icmp.spacing")) DUR(c->icmp.spacing_ms);
	if (!strcmp(key, "icmp.payload")) UINT(c->icmp.payload, PROBE_ICMP_MAX_PAYLOAD);
	if (!strcmp(key, "ip_version") || !strcmp(key, "preferred_ip_protocol")) {
		if (strcmp(v, "4") && strcmp(v, "6") && strcmp(v, "ip4") && strcmp(v, "ip6"))
			return bad(err, errsz, key, "not 4 or 6");
		c->ip_version = v[strlen(v) - 1] - '0';
		return 0;
	}
	if (!strcmp(key, "tcp.send")) STR(c->tcp.send);
	if (!strcmp(key, "tcp.expect")) STR(c->tcp.expect);
	if (!strcmp(key, "tcp.tls")) BOOL(c->tcp.tls);
	if (!strcmp(key, "tcp.insecure_skip_verify")) BOOL(c->tcp.tls_insecure);
	if (!strcmp(key, "tcp.ca_file")) STR(c->tcp.ca_file);
	if (!strcmp(key, "tcp.server_name")) STR(c->tcp.server_name);
	if (!strcmp(key, "http.method")) STR(c->http.method);
	if (!strcmp(key, "http.body")) STR(c->http.body);
	if (!strcmp(key, "http.body_regex")) STR(c->http.body_regex);
	if (!strcmp(key, "http.body_not_regex")) STR(c->http.body_not_regex);
	if (!strcmp(key, "http.ca_file")) STR(c->http.ca_file);
	if (!strcmp(key, "http.cert_file")) STR(c->http.cert_file);
	if (!strcmp(key, "http.key_file")) STR(c->http.key_file);
	if (!strcmp(key, "http.insecure_skip_verify")) BOOL(c->http.tls_insecure);
	if (!strcmp(key, "http.follow_redirects")) {
		if (parse_bool(v, &b) < 0)
			return bad(err, errsz, key, "not true or false");
		c->http.no_follow = !b;
		return 0;
	}
	if (!strcmp(key, "http.header")) {	/* repeatable: "Name: value" */
		if (!strchr(v, ':'))
			return bad(err, errsz, key, "not \"Name: value\"");
		for (int i = 0; i < PROBE_HEADERS_MAX - 1; i++)
			if (!c->http.headers[i]) {
				c->http.headers[i] = keep(c, v);
				return 0;
			}
		return bad(err, errsz, key, "too many headers");
	}
	if (!strcmp(key, "http.valid_status")) {	/* repeatable */
		if (parse_uint(v, 599, &u) < 0 || u < 100)
			return bad(err, errsz, key, "not an HTTP status code");
		for (int i = 0; i < PROBE_STATUS_CODES_MAX - 1; i++)
			if (!c->http.valid_status[i]) {
				c->http.valid_status[i] = (int)u;
				return 0;
			}
		return bad(err, errsz, key, "too many status codes");
	}
	if (!strcmp(key, "dns.query_name")) STR(c->dns.query_name);
	if (!strcmp(key, "dns.answer_regex")) STR(c->dns.answer_regex);
	if (!strcmp(key, "dns.query_type")) {
		if (dns_type_parse(v, &c->dns.qtype) < 0)
			return bad(err, errsz, key, "not A, AAAA, MX, TXT, NS, CNAME, SOA or PTR");
		return 0;
	}
	if (!strcmp(key, "dns.rcode")) {
		if (parse_rcode(v, &c->dns.rcode) < 0)
			return bad(err, errsz, key, "not an rcode (NOERROR, NXDOMAIN, ... or 0-15)");
		return 0;
	}
	if (!strcmp(key, "dns.transport")) {
		if (strcmp(v, "udp") && strcmp(v, "tcp"))
			return bad(err, errsz, key, "not udp or tcp");
		c->dns.tcp = v[0] == 't';
		return 0;
	}
	if (!strcmp(key, "dns.recursion_desired")) {
		if (parse_bool(v, &b) < 0)
			return bad(err, errsz, key, "not true or false");
		c->dns.no_recursion = !b;
		return 0;
	}
	if (!strcmp(key, "nagios.command")) {	/* repeatable: path, then each argument */
		if (!c->owned)
			c->owned = xcalloc(1, sizeof(struct probe_cfg_owned));
		struct probe_cfg_owned *o = c->owned;
		if (!o->argv)
			o->argv = xcalloc(CFG_MAX_ARGV + 1, sizeof(*o->argv));
		if (o->argc == 0 && v[0] != '/')
			return bad(err, errsz, key, "the plugin must be an absolute path");
		if (o->argc >= CFG_MAX_ARGV)
			return bad(err, errsz, key, "too many arguments");
		o->argv[o->argc++] = keep(c, v);
		c->nagios.argv = o->argv;
		return 0;
	}
	if (!strcmp(key, "nagios.uid")) {
		if (parse_uint(v, 0x7fffffff, &u) < 0)
			return bad(err, errsz, key, "not a numeric uid");
		c->nagios.uid = (uid_t)u;
		c->nagios.drop_privs = 1;
		return 0;
	}
	if (!strcmp(key, "nagios.gid")) {
		if (parse_uint(v, 0x7fffffff, &u) < 0)
			return bad(err, errsz, key, "not a numeric gid");
		c->nagios.gid = (gid_t)u;
		c->nagios.drop_privs = 1;
		return 0;
	}
#undef DUR
#undef BOOL
#undef UINT
#undef STR
	return bad(err, errsz, key, "unknown probe setting");
}
