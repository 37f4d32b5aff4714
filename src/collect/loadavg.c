/* loadavg.c — node_load1/5/15 from /proc/loadavg. */
#include <stdio.h>

#include "collect/collect.h"

int collect_loadavg(struct collect_ctx *c)
{
	const char *p = collect_read(c, collect_cfg(c)->proc, "loadavg", NULL);
	double l[3];
	if (!p || collect_nums(p, l, 3) < 0)
		return -1;
	double l1 = l[0], l5 = l[1], l15 = l[2];
	collect_one(c, "node_load1", "1m load average.", COLLECT_GAUGE, l1);
	collect_one(c, "node_load15", "15m load average.", COLLECT_GAUGE, l15);
	collect_one(c, "node_load5", "5m load average.", COLLECT_GAUGE, l5);
	return 0;
}
