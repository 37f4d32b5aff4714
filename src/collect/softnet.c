/* softnet.c — node_softnet_* per CPU from /proc/net/softnet_stat (hex columns). */
#include <stdio.h>
#include <stdlib.h>

#include "collect/collect.h"

#define SOFTNET_CPUS_MAX 4096	/* lines read */

int collect_softnet(struct collect_ctx *c)
{
	static double v[SOFTNET_CPUS_MAX][3];	/* processed, dropped, time_squeezed */
	size_t n = 0, len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "net/softnet_stat", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = p; q < end && n < SOFTNET_CPUS_MAX; q = collect_next_line(q, end)) {
		const char *s = q;
		char *e;
		for (int i = 0; i < 3; i++) {
			v[n][i] = (double)strtoull(s, &e, 16);
			s = e;
		}
		n++;
	}
	static const char *const names[3][2] = {
		{ "node_softnet_processed_total", "Number of processed packets" },
		{ "node_softnet_dropped_total", "Number of dropped packets" },
		{ "node_softnet_times_squeezed_total", "Number of times processing packets ran out of quota" },
	};
	for (int i = 0; i < 3; i++) {
		collect_family(c, names[i][0], names[i][1], COLLECT_COUNTER);
		for (size_t k = 0; k < n; k++) {
			char cpu[24];
			snprintf(cpu, sizeof(cpu), "%zu", k);
			collect_add(c, v[k][i], "cpu", cpu, NULL);
		}
	}
	return 0;
}
