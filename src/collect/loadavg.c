/* loadavg.c — node_load1/5/15 from /proc/loadavg. */
#include <stdio.h>

#include "collect/collect.h"

int collect_loadavg(struct collect_ctx *c)
{
	const char *p = collect_read(c, collect_cfg(c)->proc, "loadavg", NULL);
	double l1, l5, l15;
	if (!p || sscanf(p, "%lf %lf %lf", &l1, &l5, &l15) != 3)
		return -1;
	collect_one(c, "node_load1", "1m load average.", COLLECT_GAUGE, l1);
	collect_one(c, "node_load15", "15m load average.", COLLECT_GAUGE, l15);
	collect_one(c, "node_load5", "5m load average.", COLLECT_GAUGE, l5);
	return 0;
}
