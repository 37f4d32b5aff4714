/* netdev.c — node_network_{receive,transmit}_*_total from /proc/net/dev (lo excluded, as Debian's default). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define NETDEV_MAX 1024		/* interfaces reported */
#define NETDEV_FIELDS 16	/* counters per interface in /proc/net/dev */

struct netdev {
	char name[64];			/* device label */
	double f[NETDEV_FIELDS + 1];	/* counters; the last is rx_nohandler from sysfs (or -1) */
};

int collect_netdev(struct collect_ctx *c)
{
	static const char *const names[NETDEV_FIELDS + 1] = {
		"receive_bytes", "receive_packets", "receive_errs", "receive_drop", "receive_fifo",
		"receive_frame", "receive_compressed", "receive_multicast",
		"transmit_bytes", "transmit_packets", "transmit_errs", "transmit_drop", "transmit_fifo",
		"transmit_colls", "transmit_carrier", "transmit_compressed", "receive_nohandler",
	};
	static struct netdev devs[NETDEV_MAX];
	size_t n = 0, len;
	const struct collect_config *cfg = collect_cfg(c);
	const char *p = collect_read(c, cfg->proc, "net/dev", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = p; q < end && n < NETDEV_MAX; q = collect_next_line(q, end)) {
		const char *le = collect_next_line(q, end);
		const char *colon = memchr(q, ':', (size_t)(le - q));
		if (!colon)
			continue;
		const char *s = q;
		while (*s == ' ')
			s++;
		if (colon - s <= 0 || colon - s >= 64 || memchr(s, '|', (size_t)(colon - s)))
			continue;
		struct netdev *d = &devs[n];
		memcpy(d->name, s, (size_t)(colon - s));
		d->name[colon - s] = 0;
		if (!strcmp(d->name, "lo"))
			continue;
		const char *s2 = colon + 1;
		char *e;
		for (int i = 0; i < NETDEV_FIELDS; i++) {
			d->f[i] = collect_num(s2, &e);
			s2 = e;
		}
		n++;
	}
	for (size_t k = 0; k < n; k++) {
		char rel[128], v[64];
		int ok = snprintf(rel, sizeof(rel), "class/net/%s/statistics/rx_nohandler", devs[k].name) < (int)sizeof(rel) &&
		    collect_read_small(c, cfg->sys, rel, v, sizeof(v)) == 0;
		devs[k].f[NETDEV_FIELDS] = ok ? collect_num(v, NULL) : -1;
	}
	/* Families sorted by name as node_exporter would print them; order does not matter to parsers. */
	static char fname[NETDEV_FIELDS + 1][64], fhelp[NETDEV_FIELDS + 1][64];	/* made once */
	for (int i = 0; i <= NETDEV_FIELDS; i++) {
		if (!fname[i][0]) {
			snprintf(fhelp[i], sizeof(fhelp[i]), "Network device statistic %s.", names[i]);
			snprintf(fname[i], sizeof(fname[i]), "node_network_%s_total", names[i]);
		}
		collect_family(c, fname[i], fhelp[i], COLLECT_COUNTER);
		for (size_t k = 0; k < n; k++)
			if (devs[k].f[i] >= 0)
				collect_add(c, devs[k].f[i], "device", devs[k].name, NULL);
	}
	return 0;
}
