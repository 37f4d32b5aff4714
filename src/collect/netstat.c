/* netstat.c — node_netstat_* from /proc/net/netstat, /proc/net/snmp and /proc/net/snmp6. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "core/hmap.h"

#define NETSTAT_KEY_MAX 128	/* bytes of Proto_Field */
#define NETSTAT_FIELDS_MAX 512	/* fields on one header line */
#define NETSTAT_DECISIONS_MAX 4096	/* field names whose filter result is remembered */

static int match(const char *key);

/* node_exporter's default --collector.netstat.fields. */
static const char netstat_fields[] =
    "^(.*_(InErrors|InErrs)|Ip_Forwarding|Ip(6|Ext)_(InOctets|OutOctets)|Icmp6?_(InMsgs|OutMsgs)|"
    "TcpExt_(Listen.*|Syncookies.*|TCPSynRetrans|TCPTimeouts)|"
    "Tcp_(ActiveOpens|InSegs|OutSegs|OutRsts|PassiveOpens|RetransSegs|CurrEstab)|"
    "Udp6?_(InDatagrams|OutDatagrams|NoPorts|RcvbufErrors|SndbufErrors))$";

static pcre2_code *netstat_re;		/* compiled once per process */
static pcre2_match_data *netstat_md;	/* its match data */
static struct hmap netstat_seen;	/* key -> 1 (skip) or 2 (keep): the field set is fixed per kernel */

static int wanted(const char *key)
{
	size_t kl = strlen(key);
	void *v = hmap_get(&netstat_seen, key, kl);
	if (v)
		return (intptr_t)v == 2;
	int keep = match(key);
	if (netstat_seen.len < NETSTAT_DECISIONS_MAX)
		hmap_put(&netstat_seen, key, kl, (void *)(intptr_t)(keep ? 2 : 1));
	return keep;
}

static int match(const char *key)
{
	if (!netstat_re) {
		int ec;
		PCRE2_SIZE eo;
		netstat_re = pcre2_compile((PCRE2_SPTR)netstat_fields, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		if (!netstat_re)
			return 0;
		netstat_md = pcre2_match_data_create_from_pattern(netstat_re, NULL);
	}
	return pcre2_match(netstat_re, (PCRE2_SPTR)key, strlen(key), 0, 0, netstat_md, NULL) >= 0;
}

static void emit(struct collect_ctx *c, const char *proto, const char *field, double v)
{
	char key[NETSTAT_KEY_MAX], name[NETSTAT_KEY_MAX + 16], help[NETSTAT_KEY_MAX + 16];
	snprintf(key, sizeof(key), "%s_%s", proto, field);
	if (!wanted(key))
		return;
	snprintf(name, sizeof(name), "node_netstat_%s", key);
	snprintf(help, sizeof(help), "Statistic %s%s.", proto, field);
	collect_one(c, name, help, COLLECT_UNTYPED, v);
}

/* Next space-separated token of *p (NUL-terminated in place), or NULL. */
static char *next_tok(char **p)
{
	char *s = *p;
	while (*s == ' ')
		s++;
	if (!*s)
		return NULL;
	char *e = s;
	while (*e && *e != ' ')
		e++;
	*p = *e ? e + 1 : e;
	*e = 0;
	return s;
}

/* "Proto: a b c" followed by "Proto: 1 2 3" pairs. The file buffer is copied
 * because the header tokens must outlive the value line walk. */
static int pairs(struct collect_ctx *c, const char *rel)
{
	static char copy[COLLECT_FILE_MAX];
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, rel, &len);
	if (!p)
		return -1;
	memcpy(copy, p, len);
	copy[len] = 0;
	char *end = copy + len;
	char *q = copy;
	while (q < end) {
		char *h = q, *he = h + (collect_next_line(h, end) - h);
		char *v = he, *ve = v + (collect_next_line(v, end) - v);
		q = ve;
		if (v >= end)
			break;
		he[-1] = 0;
		if (ve[-1] == '\n')
			ve[-1] = 0;
		char *hs = h, *vs = v;
		char *ht = next_tok(&hs);	/* "Proto:" */
		char *vt = next_tok(&vs);
		if (!ht || !vt || strcmp(ht, vt) != 0)
			continue;
		char proto[64];
		snprintf(proto, sizeof(proto), "%.*s", (int)(strlen(ht) - 1), ht);
		for (int i = 0; i < NETSTAT_FIELDS_MAX; i++) {
			char *f = next_tok(&hs), *x = next_tok(&vs);
			if (!f || !x)
				break;
			emit(c, proto, f, strtod(x, NULL));
		}
	}
	return 0;
}

int collect_netstat(struct collect_ctx *c)
{
	if (pairs(c, "net/netstat") < 0 || pairs(c, "net/snmp") < 0)
		return -1;
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "net/snmp6", &len);
	if (!p)
		return 0;	/* no IPv6 */
	const char *end = p + len;
	for (const char *q = p; q < end; q = collect_next_line(q, end)) {
		char key[NETSTAT_KEY_MAX], proto[NETSTAT_KEY_MAX];
		double v;
		if (sscanf(q, "%127s %lf", key, &v) != 2)
			continue;
		char *six = strchr(key, '6');
		if (!six)
			continue;
		snprintf(proto, sizeof(proto), "%.*s", (int)(six - key + 1), key);
		emit(c, proto, six + 1, v);
	}
	return 0;
}
