/* small.c — the one-file collectors: filefd, entropy, conntrack, selinux. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

int collect_filefd(struct collect_ctx *c)
{
	double f[3];
	const char *p = collect_read(c, collect_cfg(c)->proc, "sys/fs/file-nr", NULL);
	if (!p || collect_nums(p, f, 3) < 0)
		return -1;
	double alloc = f[0], max = f[2];
	collect_one(c, "node_filefd_allocated", "File descriptor statistics: allocated.", COLLECT_GAUGE, alloc);
	collect_one(c, "node_filefd_maximum", "File descriptor statistics: maximum.", COLLECT_GAUGE, max);
	return 0;
}

int collect_entropy(struct collect_ctx *c)
{
	char v[64];
	const char *proc = collect_cfg(c)->proc;
	if (collect_read_small(c, proc, "sys/kernel/random/entropy_avail", v, sizeof(v)) < 0)
		return -1;
	collect_one(c, "node_entropy_available_bits", "Bits of available entropy.", COLLECT_GAUGE, strtod(v, NULL));
	if (collect_read_small(c, proc, "sys/kernel/random/poolsize", v, sizeof(v)) == 0)
		collect_one(c, "node_entropy_pool_size_bits", "Bits of entropy pool.", COLLECT_GAUGE, strtod(v, NULL));
	return 0;
}

int collect_conntrack(struct collect_ctx *c)
{
	static const struct { const char *col, *metric, *help; } st[] = {
		{ "drop", "node_nf_conntrack_stat_drop", "Number of packets dropped due to conntrack failure." },
		{ "early_drop", "node_nf_conntrack_stat_early_drop", "Number of dropped conntrack entries to make room for new ones, if maximum table size was reached." },
		{ "found", "node_nf_conntrack_stat_found", "Number of searched entries which were successful." },
		{ "ignore", "node_nf_conntrack_stat_ignore", "Number of packets seen which are already connected to a conntrack entry." },
		{ "insert", "node_nf_conntrack_stat_insert", "Number of entries inserted into the list." },
		{ "insert_failed", "node_nf_conntrack_stat_insert_failed", "Number of entries for which list insertion was attempted but failed." },
		{ "invalid", "node_nf_conntrack_stat_invalid", "Number of packets seen which can not be tracked." },
		{ "search_restart", "node_nf_conntrack_stat_search_restart", "Number of conntrack table lookups which had to be restarted due to hashtable resizes." },
	};
	char v[64];
	const char *proc = collect_cfg(c)->proc;
	if (collect_read_small(c, proc, "sys/net/netfilter/nf_conntrack_count", v, sizeof(v)) < 0)
		return 0;	/* conntrack not loaded: nothing to report */
	collect_one(c, "node_nf_conntrack_entries", "Number of currently allocated flow entries for connection tracking.", COLLECT_GAUGE, strtod(v, NULL));
	if (collect_read_small(c, proc, "sys/net/netfilter/nf_conntrack_max", v, sizeof(v)) == 0)
		collect_one(c, "node_nf_conntrack_entries_limit", "Maximum size of connection tracking table.", COLLECT_GAUGE, strtod(v, NULL));
	size_t len;
	const char *p = collect_read(c, proc, "net/stat/nf_conntrack", &len);
	if (!p)
		return 0;
	const char *end = p + len, *hdr_end = collect_next_line(p, end);
	double sum[sizeof(st) / sizeof(st[0])] = { 0 };
	int col[sizeof(st) / sizeof(st[0])];
	/* find each wanted column in the header */
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
		col[i] = -1;
		int k = 0;
		for (const char *s = p; s < hdr_end; k++) {
			while (s < hdr_end && (*s == ' ' || *s == '\n'))
				s++;
			const char *e = s;
			while (e < hdr_end && *e != ' ' && *e != '\n')
				e++;
			if (e == s)
				break;
			if ((size_t)(e - s) == strlen(st[i].col) && !memcmp(s, st[i].col, (size_t)(e - s)))
				col[i] = k;
			s = e;
		}
	}
	for (const char *q = hdr_end; q < end; q = collect_next_line(q, end)) {
		unsigned long long vals[64];
		int n = 0;
		const char *s = q, *le = collect_next_line(q, end);
		char *e;
		while (n < 64 && s < le) {
			vals[n] = strtoull(s, &e, 16);
			if (e == s)
				break;
			s = e;
			n++;
		}
		for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
			if (col[i] >= 0 && col[i] < n)
				sum[i] += (double)vals[col[i]];
	}
	for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
		if (col[i] >= 0)
			collect_one(c, st[i].metric, st[i].help, COLLECT_GAUGE, sum[i]);
	return 0;
}

int collect_selinux(struct collect_ctx *c)
{
	char v[16];
	int on = collect_read_small(c, collect_cfg(c)->sys, "fs/selinux/enforce", v, sizeof(v)) == 0;
	collect_one(c, "node_selinux_enabled", "SELinux is enabled, 1 is true, 0 is false", COLLECT_GAUGE, on);
	if (on) {
		collect_one(c, "node_selinux_current_mode", "SELinux current mode, 1 is enforcing, 0 is permissive",
		    COLLECT_GAUGE, strtod(v, NULL));
	}
	return 0;
}
