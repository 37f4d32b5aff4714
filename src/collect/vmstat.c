/* vmstat.c — node_vmstat_* from /proc/vmstat, the fields node_exporter keeps by default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define VMSTAT_KEY_MAX 128	/* bytes of one field name */

/* node_exporter's default --collector.vmstat.fields: ^(oom_kill|pgpg|pswp|pg.*fault).* */
static int vmstat_wanted(const char *k)
{
	if (!strncmp(k, "oom_kill", 8) || !strncmp(k, "pgpg", 4) || !strncmp(k, "pswp", 4))
		return 1;
	return !strncmp(k, "pg", 2) && strstr(k + 2, "fault") != NULL;
}

int collect_vmstat(struct collect_ctx *c)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "vmstat", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = p; q < end; q = collect_next_line(q, end)) {
		const char *sp = memchr(q, ' ', (size_t)(end - q));
		if (!sp || sp - q >= VMSTAT_KEY_MAX)
			continue;
		char key[VMSTAT_KEY_MAX], name[VMSTAT_KEY_MAX + 16], help[VMSTAT_KEY_MAX + 48];
		memcpy(key, q, (size_t)(sp - q));
		key[sp - q] = 0;
		if (!vmstat_wanted(key))
			continue;
		snprintf(name, sizeof(name), "node_vmstat_%s", key);
		snprintf(help, sizeof(help), "/proc/vmstat information field %s.", key);
		collect_one(c, name, help, COLLECT_UNTYPED, strtod(sp + 1, NULL));
	}
	return 0;
}
