/* meminfo.c — node_memory_*_bytes from /proc/meminfo, named as node_exporter does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define MEMINFO_KEY_MAX 64	/* bytes of one field name */

int collect_meminfo(struct collect_ctx *c)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "meminfo", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = p; q < end; q = collect_next_line(q, end)) {
		const char *colon = memchr(q, ':', (size_t)(collect_next_line(q, end) - q));
		if (!colon || colon - q >= MEMINFO_KEY_MAX)
			continue;
		/* "Active(anon)" becomes "Active_anon" */
		char key[MEMINFO_KEY_MAX];
		size_t k = 0;
		for (const char *s = q; s < colon; s++) {
			if (*s == '(')
				key[k++] = '_';
			else if (*s != ')')
				key[k++] = *s;
		}
		key[k] = 0;
		char *e;
		double v = strtod(colon + 1, &e);
		while (*e == ' ')
			e++;
		int kb = e[0] == 'k' && e[1] == 'B';
		char name[MEMINFO_KEY_MAX + 32], help[MEMINFO_KEY_MAX + 64];
		snprintf(name, sizeof(name), "node_memory_%s%s", key, kb ? "_bytes" : "");
		snprintf(help, sizeof(help), "Memory information field %s%s.", key, kb ? "_bytes" : "");
		collect_one(c, name, help, COLLECT_GAUGE, kb ? v * 1024 : v);
	}
	return 0;
}
