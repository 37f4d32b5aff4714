/* cpu.c — node_cpu_seconds_total and node_cpu_guest_seconds_total from /proc/stat. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"

#define CPU_FIELDS 10	/* user nice system idle iowait irq softirq steal guest guest_nice */
#define CPU_MAX 4096	/* CPUs we report */

int collect_cpu(struct collect_ctx *c)
{
	static const char *const modes[8] = { "user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal" };
	size_t len;
	const char *p = collect_proc_stat(c, &len);
	if (!p)
		return -1;
	const char *end = p + len;
	double hz = (double)sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	/* Two passes so each family's samples stay together. */
	for (int fam = 0; fam < 2; fam++) {
		if (fam == 0)
			collect_family(c, "node_cpu_seconds_total", "Seconds the CPUs spent in each mode.", COLLECT_COUNTER);
		else
			collect_family(c, "node_cpu_guest_seconds_total",
			    "Seconds the CPUs spent in guests (VMs) for each mode.", COLLECT_COUNTER);
		for (const char *q = p; q < end; q = collect_next_line(q, end)) {
			if (strncmp(q, "cpu", 3) != 0 || q[3] < '0' || q[3] > '9')
				continue;
			char *e;
			unsigned long cpu = strtoul(q + 3, &e, 10);
			if (cpu >= CPU_MAX)
				continue;
			unsigned long long v[CPU_FIELDS] = { 0 };
			for (int i = 0; i < CPU_FIELDS; i++) {
				if (*e != ' ')
					break;
				v[i] = strtoull(e, &e, 10);
			}
			char cs[16];
			snprintf(cs, sizeof(cs), "%lu", cpu);
			if (fam == 0) {
				for (int i = 0; i < 8; i++)
					collect_add(c, (double)v[i] / hz, "cpu", cs, "mode", modes[i], NULL);
			} else {
				collect_add(c, (double)v[9] / hz, "cpu", cs, "mode", "nice", NULL);
				collect_add(c, (double)v[8] / hz, "cpu", cs, "mode", "user", NULL);
			}
		}
	}
	return 0;
}
