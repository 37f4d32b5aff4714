/* meminfo.c — node_memory_*_bytes from /proc/meminfo, named as node_exporter does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"
#include "core/hmap.h"

#define MEMINFO_KEY_MAX 64	/* bytes of one field name */
#define MEMINFO_NAMES_MAX 1024	/* field names whose metric names are remembered */
#define MEMINFO_LINES_MAX 256	/* lines whose field is remembered by position */

/* Metric name and help of one field, made the first time it is seen. */
struct memname {
	char name[MEMINFO_KEY_MAX + 32];	/* node_memory_Active_anon_bytes */
	char help[MEMINFO_KEY_MAX + 64];	/* Memory information field Active_anon_bytes. */
};

static struct hmap meminfo_names;	/* "Active(anon)" + unit flag -> struct memname */

/* The field seen on each line last run: the same line usually holds the same field. */
static struct {
	char raw[MEMINFO_KEY_MAX + 1];	/* field name + unit flag */
	size_t rl;			/* its length; 0: nothing remembered */
	const struct memname *m;	/* its names */
} meminfo_lines[MEMINFO_LINES_MAX];

/* Names for the field q[0..kl) ("Active(anon)" becomes "Active_anon"); kb: the value is in kB. */
static const struct memname *names(const char *q, size_t kl, int kb, struct memname *scratch)
{
	char raw[MEMINFO_KEY_MAX + 1];
	memcpy(raw, q, kl);
	raw[kl] = kb ? 'k' : '-';
	struct memname *m = hmap_get(&meminfo_names, raw, kl + 1);
	if (m)
		return m;
	m = meminfo_names.len < MEMINFO_NAMES_MAX ? calloc(1, sizeof(*m)) : NULL;
	if (!m)
		m = scratch;
	char key[MEMINFO_KEY_MAX];
	size_t k = 0;
	for (size_t i = 0; i < kl; i++) {
		if (q[i] == '(')
			key[k++] = '_';
		else if (q[i] != ')')
			key[k++] = q[i];
	}
	key[k] = 0;
	snprintf(m->name, sizeof(m->name), "node_memory_%s%s", key, kb ? "_bytes" : "");
	snprintf(m->help, sizeof(m->help), "Memory information field %s%s.", key, kb ? "_bytes" : "");
	if (m != scratch)
		hmap_put(&meminfo_names, raw, kl + 1, m);
	return m;
}

int collect_meminfo(struct collect_ctx *c)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "meminfo", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	size_t line = 0;
	for (const char *q = p; q < end; q = collect_next_line(q, end), line++) {
		const char *colon = memchr(q, ':', (size_t)(collect_next_line(q, end) - q));
		if (!colon || colon - q >= MEMINFO_KEY_MAX)
			continue;
		char *e;
		double v = collect_num(colon + 1, &e);
		while (*e == ' ')
			e++;
		int kb = e[0] == 'k' && e[1] == 'B';
		size_t kl = (size_t)(colon - q);
		struct memname scratch;
		const struct memname *m = NULL;
		if (line < MEMINFO_LINES_MAX && meminfo_lines[line].rl == kl + 1 &&
		    !memcmp(meminfo_lines[line].raw, q, kl) && meminfo_lines[line].raw[kl] == (kb ? 'k' : '-'))
			m = meminfo_lines[line].m;
		if (!m) {
			m = names(q, kl, kb, &scratch);
			if (line < MEMINFO_LINES_MAX && m != &scratch) {
				memcpy(meminfo_lines[line].raw, q, kl);
				meminfo_lines[line].raw[kl] = kb ? 'k' : '-';
				meminfo_lines[line].rl = kl + 1;
				meminfo_lines[line].m = m;
			}
		}
		collect_one(c, m->name, m->help, COLLECT_GAUGE, kb ? v * 1024 : v);
	}
	return 0;
}
