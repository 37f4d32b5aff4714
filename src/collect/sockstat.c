/* sockstat.c — node_sockstat_* from /proc/net/sockstat and sockstat6. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"

static void sockstat_file(struct collect_ctx *c, const char *rel)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, rel, &len);
	if (!p)
		return;
	static char copy[65536];
	if (len >= sizeof(copy))
		len = sizeof(copy) - 1;
	memcpy(copy, p, len);
	copy[len] = 0;
	double page = (double)sysconf(_SC_PAGESIZE);
	const char *end = copy + len;
	for (const char *q = copy; q < end; q = collect_next_line(q, end)) {
		char proto[32];
		int off = 0;
		if (sscanf(q, "%31[^:]:%n", proto, &off) != 1)
			continue;
		const char *s = q + off, *le = collect_next_line(q, end);
		for (;;) {
			char key[32];
			double v;
			int k = 0;
			if (s >= le || sscanf(s, " %31s %lf%n", key, &v, &k) != 2)
				break;
			s += k;
			char name[96], help[128];
			if (!strcmp(proto, "sockets")) {
				snprintf(name, sizeof(name), "node_sockstat_sockets_%s", key);
				collect_one(c, name, "Number of IPv4 sockets in use.", COLLECT_GAUGE, v);
				continue;
			}
			snprintf(name, sizeof(name), "node_sockstat_%s_%s", proto, key);
			snprintf(help, sizeof(help), "Number of %s sockets in state %s.", proto, key);
			collect_one(c, name, help, COLLECT_GAUGE, v);
			if (!strcmp(key, "mem")) {
				snprintf(name, sizeof(name), "node_sockstat_%s_mem_bytes", proto);
				snprintf(help, sizeof(help), "Number of %s sockets in state mem_bytes.", proto);
				collect_one(c, name, help, COLLECT_GAUGE, v * page);
			}
		}
	}
}

int collect_sockstat(struct collect_ctx *c)
{
	sockstat_file(c, "net/sockstat");
	sockstat_file(c, "net/sockstat6");
	return 0;
}
