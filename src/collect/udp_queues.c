/* udp_queues.c — node_udp_queues from the tx/rx queue columns of /proc/net/udp{,6}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

/* Sum the queues of one table; 0 or -1 if the file is missing. */
static int udp_sum(struct collect_ctx *c, const char *rel, double *tx, double *rx)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, rel, &len);
	if (!p)
		return -1;
	const char *end = p + len;
	*tx = *rx = 0;
	for (const char *q = collect_next_line(p, end); q < end; q = collect_next_line(q, end)) {
		/* sl local rem st tx:rx (a busy host has thousands of lines: no sscanf) */
		const char *s = q, *le = collect_next_line(q, end);
		for (int field = 0; field < 4 && s < le; field++) {
			while (s < le && *s == ' ')
				s++;
			while (s < le && *s != ' ' && *s != '\n')
				s++;
		}
		while (s < le && *s == ' ')
			s++;
		char *e;
		unsigned long long t = strtoull(s, &e, 16);
		if (e == s || *e != ':')
			continue;
		const char *rs = e + 1;
		unsigned long long r = strtoull(rs, &e, 16);
		if (e == rs)
			continue;
		*tx += (double)t;
		*rx += (double)r;
	}
	return 0;
}

int collect_udp_queues(struct collect_ctx *c)
{
	double tx4, rx4, tx6, rx6;
	int have4 = udp_sum(c, "net/udp", &tx4, &rx4) == 0;
	int have6 = udp_sum(c, "net/udp6", &tx6, &rx6) == 0;
	if (!have4 && !have6)
		return -1;
	collect_family(c, "node_udp_queues", "Number of allocated memory in the kernel for UDP datagrams in bytes.", COLLECT_GAUGE);
	if (have4) {
		collect_add(c, rx4, "ip", "v4", "queue", "rx", NULL);
		collect_add(c, tx4, "ip", "v4", "queue", "tx", NULL);
	}
	if (have6) {
		collect_add(c, rx6, "ip", "v6", "queue", "rx", NULL);
		collect_add(c, tx6, "ip", "v6", "queue", "tx", NULL);
	}
	return 0;
}
