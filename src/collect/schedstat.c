/* schedstat.c — node_schedstat_* per CPU from /proc/schedstat (kernels with CONFIG_SCHEDSTATS). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define SCHEDSTAT_CPUS_MAX 4096	/* CPUs reported */

int collect_schedstat(struct collect_ctx *c)
{
	static char cpus[SCHEDSTAT_CPUS_MAX][16];
	static double v[SCHEDSTAT_CPUS_MAX][3];	/* running ns, waiting ns, timeslices */
	size_t n = 0, len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "schedstat", &len);
	if (!p)
		return 0;	/* kernel without schedstats */
	const char *end = p + len;
	for (const char *q = p; q < end && n < SCHEDSTAT_CPUS_MAX; q = collect_next_line(q, end)) {
		unsigned long cpu;
		double f[9];
		/* cpuN f1..f6 running waiting timeslices */
		if (sscanf(q, "cpu%lu %lf %lf %lf %lf %lf %lf %lf %lf %lf", &cpu, &f[0], &f[1], &f[2], &f[3], &f[4],
		    &f[5], &f[6], &f[7], &f[8]) != 10)
			continue;
		snprintf(cpus[n], sizeof(cpus[n]), "%lu", cpu);
		v[n][0] = f[6] / 1e9;
		v[n][1] = f[7] / 1e9;
		v[n][2] = f[8];
		n++;
	}
	static const struct { const char *name, *help; } m[3] = {
		{ "node_schedstat_running_seconds_total", "Number of seconds CPU spent running a process." },
		{ "node_schedstat_waiting_seconds_total", "Number of seconds spent by processing waiting for this CPU." },
		{ "node_schedstat_timeslices_total", "Number of timeslices executed by CPU." },
	};
	for (int i = 0; i < 3 && n; i++) {
		collect_family(c, m[i].name, m[i].help, COLLECT_COUNTER);
		for (size_t k = 0; k < n; k++)
			collect_add(c, v[k][i], "cpu", cpus[k], NULL);
	}
	return 0;
}
