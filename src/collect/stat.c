/* stat.c — boot time, context switches, forks, interrupts and process states from /proc/stat. */
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

/* Value of the line starting with key (then a space), or -1. */
static double stat_field(const char *p, const char *end, const char *key)
{
	size_t kl = strlen(key);
	for (const char *q = p; q < end; q = collect_next_line(q, end))
		if (!strncmp(q, key, kl) && q[kl] == ' ')
			return strtod(q + kl + 1, NULL);
	return -1;
}

int collect_stat(struct collect_ctx *c)
{
	size_t len;
	const char *p = collect_proc_stat(c, &len);
	if (!p)
		return -1;
	const char *end = p + len;
	double v;
	if ((v = stat_field(p, end, "btime")) >= 0)
		collect_one(c, "node_boot_time_seconds", "Node boot time, in unixtime.", COLLECT_GAUGE, v);
	if ((v = stat_field(p, end, "ctxt")) >= 0)
		collect_one(c, "node_context_switches_total", "Total number of context switches.", COLLECT_COUNTER, v);
	if ((v = stat_field(p, end, "processes")) >= 0)
		collect_one(c, "node_forks_total", "Total number of forks.", COLLECT_COUNTER, v);
	if ((v = stat_field(p, end, "intr")) >= 0)
		collect_one(c, "node_intr_total", "Total number of interrupts serviced.", COLLECT_COUNTER, v);
	if ((v = stat_field(p, end, "procs_blocked")) >= 0)
		collect_one(c, "node_procs_blocked", "Number of processes blocked waiting for I/O to complete.", COLLECT_GAUGE, v);
	if ((v = stat_field(p, end, "procs_running")) >= 0)
		collect_one(c, "node_procs_running", "Number of processes in runnable state.", COLLECT_GAUGE, v);
	return 0;
}
