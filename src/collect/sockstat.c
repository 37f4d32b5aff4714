/* sockstat.c — node_sockstat_* from /proc/net/sockstat and sockstat6. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "core/hmap.h"

#define SOCKSTAT_WORD_MAX 32	/* bytes of a protocol or field name */
#define SOCKSTAT_NAMES_MAX 256	/* "PROTO key" pairs whose metric names are remembered */

/* Metric names and helps of one "PROTO: key value" field. */
struct sockname {
	char name[96];		/* node_sockstat_PROTO_key */
	char help[128];		/* its help */
	char mem_name[96];	/* node_sockstat_PROTO_mem_bytes (key "mem" only) */
	char mem_help[128];	/* its help */
};

static struct hmap sockstat_names;	/* "PROTO key" -> struct sockname */

static const struct sockname *names(const char *proto, const char *key, struct sockname *scratch)
{
	char hk[2 * SOCKSTAT_WORD_MAX + 2];
	int hl = snprintf(hk, sizeof(hk), "%s %s", proto, key);
	struct sockname *m = hmap_get(&sockstat_names, hk, (size_t)hl);
	if (m)
		return m;
	m = sockstat_names.len < SOCKSTAT_NAMES_MAX ? calloc(1, sizeof(*m)) : NULL;
	if (!m)
		m = scratch;
	if (!strcmp(proto, "sockets")) {
		snprintf(m->name, sizeof(m->name), "node_sockstat_sockets_%s", key);
		snprintf(m->help, sizeof(m->help), "Number of IPv4 sockets in use.");
	} else {
		snprintf(m->name, sizeof(m->name), "node_sockstat_%s_%s", proto, key);
		snprintf(m->help, sizeof(m->help), "Number of %s sockets in state %s.", proto, key);
		snprintf(m->mem_name, sizeof(m->mem_name), "node_sockstat_%s_mem_bytes", proto);
		snprintf(m->mem_help, sizeof(m->mem_help), "Number of %s sockets in state mem_bytes.", proto);
	}
	if (m != scratch)
		hmap_put(&sockstat_names, hk, (size_t)hl, m);
	return m;
}

/* Copy the next space-separated word of [*s, le) into w; 0 if there is none. */
static int word(const char **s, const char *le, char *w, size_t wsz)
{
	const char *p = *s;
	while (p < le && (*p == ' ' || *p == '\n'))
		p++;
	const char *e = p;
	while (e < le && *e != ' ' && *e != '\n')
		e++;
	if (e == p || (size_t)(e - p) >= wsz)
		return 0;
	memcpy(w, p, (size_t)(e - p));
	w[e - p] = 0;
	*s = e;
	return 1;
}

static void sockstat_file(struct collect_ctx *c, const char *rel)
{
	size_t len;
	const char *p = collect_read(c, collect_cfg(c)->proc, rel, &len);
	if (!p)
		return;
	double page = (double)sysconf(_SC_PAGESIZE);
	const char *end = p + len;
	for (const char *q = p; q < end; q = collect_next_line(q, end)) {
		const char *le = collect_next_line(q, end);
		const char *colon = memchr(q, ':', (size_t)(le - q));
		char proto[SOCKSTAT_WORD_MAX];
		if (!colon || colon == q || (size_t)(colon - q) >= sizeof(proto))
			continue;
		memcpy(proto, q, (size_t)(colon - q));
		proto[colon - q] = 0;
		const char *s = colon + 1;
		char key[SOCKSTAT_WORD_MAX], val[SOCKSTAT_WORD_MAX];
		while (word(&s, le, key, sizeof(key)) && word(&s, le, val, sizeof(val))) {
			char *ve;
			double v = collect_num(val, &ve);
			if (ve == val)
				break;
			struct sockname scratch;
			const struct sockname *m = names(proto, key, &scratch);
			collect_one(c, m->name, m->help, COLLECT_GAUGE, v);
			if (strcmp(proto, "sockets") != 0 && !strcmp(key, "mem"))
				collect_one(c, m->mem_name, m->mem_help, COLLECT_GAUGE, v * page);
		}
	}
}

int collect_sockstat(struct collect_ctx *c)
{
	sockstat_file(c, "net/sockstat");
	sockstat_file(c, "net/sockstat6");
	return 0;
}
