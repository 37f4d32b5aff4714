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
static struct hmap netstat_seen;	/* "Proto_Field" -> struct nsfield: the field set is fixed per kernel */

/* What is known about one field, worked out the first time it is seen. */
struct nsfield {
	int keep;				/* matches node_exporter's default field filter */
	char name[NETSTAT_KEY_MAX + 16];	/* node_netstat_Proto_Field */
	char help[NETSTAT_KEY_MAX + 16];	/* Statistic ProtoField. */
};

static const struct nsfield *field_info(const char *proto, size_t pl, const char *field, size_t fl)
{
	char key[NETSTAT_KEY_MAX];
	if (pl + 1 + fl >= sizeof(key))
		return NULL;
	memcpy(key, proto, pl);
	key[pl] = '_';
	memcpy(key + pl + 1, field, fl);
	key[pl + 1 + fl] = 0;
	size_t kl = pl + 1 + fl;
	struct nsfield *f = hmap_get(&netstat_seen, key, kl);
	if (f)
		return f;
	if (netstat_seen.len >= NETSTAT_DECISIONS_MAX)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->keep = match(key);
	snprintf(f->name, sizeof(f->name), "node_netstat_%s", key);
	snprintf(f->help, sizeof(f->help), "Statistic %.*s%s.", (int)pl, proto, key + pl + 1);
	hmap_put(&netstat_seen, key, kl, f);
	return f;
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

/*
 * The header lines ("TcpExt: SyncookiesSent ...") are the same every run:
 * each is remembered with the kept field of every column, so a run
 * compares the line once and walks only the values.
 */
#define NETSTAT_HEADERS_MAX 32	/* header lines remembered */

struct nshdr {
	char *line;					/* the header line (owned) */
	size_t len;					/* its length */
	size_t po;					/* offset of "Proto:" in line */
	size_t pl;					/* length of "Proto" */
	size_t nf;					/* columns */
	const struct nsfield *f[NETSTAT_FIELDS_MAX];	/* per column: the field if kept, else NULL */
};

static struct nshdr nshdrs[NETSTAT_HEADERS_MAX];

#define NETSTAT_SNMP6_LINES_MAX 512	/* snmp6 lines remembered by position */

/* The key seen on each line of /proc/net/snmp6 last run. */
static struct {
	char key[NETSTAT_KEY_MAX];	/* "Ip6InReceives" (not NUL-terminated) */
	size_t kl;			/* its length; 0: nothing remembered */
	const struct nsfield *f;	/* its field */
} snmp6_lines[NETSTAT_SNMP6_LINES_MAX];
static size_t nnshdrs;		/* slots in use */
static size_t nshint;		/* slot tried first: the one after the last used */

/* The remembered header for line h[0..hl) (NUL-terminated), made if new
 * (replacing the oldest when all slots are used: IcmpMsg grows columns as
 * new ICMP types are seen); NULL if it has no "Proto:" or memory ran out. */
static const struct nshdr *header(char *h, size_t hl)
{
	for (size_t k = 0; k < nnshdrs; k++) {
		struct nshdr *x = &nshdrs[(nshint + k) % nnshdrs];
		if (x->len == hl && !memcmp(x->line, h, hl)) {
			nshint = (size_t)(x - nshdrs) + 1;
			return x;
		}
	}
	struct nshdr *x;
	if (nnshdrs == NETSTAT_HEADERS_MAX) {
		x = &nshdrs[nshint % NETSTAT_HEADERS_MAX];
		free(x->line);
		memmove(x, &nshdrs[NETSTAT_HEADERS_MAX - 1], sizeof(*x));	/* keep slots dense */
		nnshdrs--;
		x = &nshdrs[nnshdrs];
	} else {
		x = &nshdrs[nnshdrs];
	}
	x->line = malloc(hl + 1);
	if (!x->line)
		return NULL;
	memcpy(x->line, h, hl + 1);
	x->len = hl;
	char *hs = h;
	char *ht = next_tok(&hs);	/* "Proto:" (h is consumed) */
	if (!ht || !ht[0]) {
		free(x->line);
		return NULL;
	}
	x->po = (size_t)(ht - h);
	x->pl = strlen(ht) - 1;
	x->nf = 0;
	for (char *f; x->nf < NETSTAT_FIELDS_MAX && (f = next_tok(&hs));) {
		const struct nsfield *nf = field_info(ht, x->pl, f, strlen(f));
		x->f[x->nf++] = nf && nf->keep ? nf : NULL;
	}
	nnshdrs++;
	nshint = nnshdrs;
	return x;
}

/* "Proto: a b c" followed by "Proto: 1 2 3" pairs. The file buffer is copied
 * because header() tokenizes a new header line in place. */
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
		const struct nshdr *x = header(h, (size_t)(he - 1 - h));
		if (!x)
			continue;
		char *vs = v;
		char *vt = next_tok(&vs);
		/* the value line names the same protocol: "Proto:" */
		if (!vt || strlen(vt) != x->pl + 1 || memcmp(vt, x->line + x->po, x->pl + 1) != 0)
			continue;
		for (size_t i = 0; i < x->nf; i++) {
			char *t = next_tok(&vs);
			if (!t)
				break;
			if (x->f[i])
				collect_one(c, x->f[i]->name, x->f[i]->help, COLLECT_UNTYPED, collect_num(t, NULL));
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
	size_t line = 0;
	for (const char *q = p; q < end; q = collect_next_line(q, end)) {
		/* "Ip6InReceives   123": proto "Ip6", field "InReceives" */
		const char *k = q;
		while (k < end && *k == ' ')
			k++;
		const char *ke = k;
		while (ke < end && *ke != ' ' && *ke != '\t' && *ke != '\n')
			ke++;
		const char *six = memchr(k, '6', (size_t)(ke - k));
		if (!six || ke == end || *ke == '\n' || ke - k >= NETSTAT_KEY_MAX)
			continue;
		char *ve;
		double v = collect_num(ke, &ve);
		if (ve == ke)
			continue;
		/* the same line holds the same key run after run: compare, not hash */
		size_t kl = (size_t)(ke - k);
		const struct nsfield *f = NULL;
		if (line < NETSTAT_SNMP6_LINES_MAX && snmp6_lines[line].kl == kl && !memcmp(snmp6_lines[line].key, k, kl))
			f = snmp6_lines[line].f;
		else {
			f = field_info(k, (size_t)(six - k + 1), six + 1, (size_t)(ke - six - 1));
			if (line < NETSTAT_SNMP6_LINES_MAX && f) {
				memcpy(snmp6_lines[line].key, k, kl);
				snmp6_lines[line].kl = kl;
				snmp6_lines[line].f = f;
			}
		}
		line++;
		if (f && f->keep)
			collect_one(c, f->name, f->help, COLLECT_UNTYPED, v);
	}
	return 0;
}
