/* pressure.c — node_pressure_* (PSI) from /proc/pressure/{cpu,io,memory}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

/* The total= of the line starting with kind ("some"/"full"), in seconds; -1 if absent. */
static double psi_total(const char *p, const char *kind)
{
	for (const char *q = p; q && *q; q = strchr(q, '\n'), q = q ? q + 1 : NULL) {
		if (strncmp(q, kind, 4) != 0)
			continue;
		const char *t = strstr(q, "total=");
		const char *nl = strchr(q, '\n');
		if (t && (!nl || t < nl))
			return strtod(t + 6, NULL) / 1e6;
	}
	return -1;
}

int collect_pressure(struct collect_ctx *c)
{
	const char *proc = collect_cfg(c)->proc;
	const char *p = collect_read(c, proc, "pressure/cpu", NULL);
	double v;
	if (!p)
		return 0;	/* kernel without PSI: nothing to report */
	if ((v = psi_total(p, "some")) >= 0)
		collect_one(c, "node_pressure_cpu_waiting_seconds_total",
		    "Total time in seconds that processes have waited for CPU time", COLLECT_COUNTER, v);
	if ((p = collect_read(c, proc, "pressure/io", NULL))) {
		double some = psi_total(p, "some"), full = psi_total(p, "full");
		if (full >= 0)
			collect_one(c, "node_pressure_io_stalled_seconds_total",
			    "Total time in seconds no process could make progress due to IO congestion", COLLECT_COUNTER, full);
		if (some >= 0)
			collect_one(c, "node_pressure_io_waiting_seconds_total",
			    "Total time in seconds that processes have waited due to IO congestion", COLLECT_COUNTER, some);
	}
	if ((p = collect_read(c, proc, "pressure/memory", NULL))) {
		double some = psi_total(p, "some"), full = psi_total(p, "full");
		if (full >= 0)
			collect_one(c, "node_pressure_memory_stalled_seconds_total",
			    "Total time in seconds no process could make progress due to memory congestion", COLLECT_COUNTER, full);
		if (some >= 0)
			collect_one(c, "node_pressure_memory_waiting_seconds_total",
			    "Total time in seconds that processes have waited for memory", COLLECT_COUNTER, some);
	}
	return 0;
}
