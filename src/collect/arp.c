/* arp.c — node_arp_entries per device from /proc/net/arp. */
#include <stdio.h>
#include <string.h>

#include "collect/collect.h"

#define ARP_DEVS_MAX 256	/* devices counted */

int collect_arp(struct collect_ctx *c)
{
	static char devs[ARP_DEVS_MAX][64];
	static double count[ARP_DEVS_MAX];
	size_t n = 0, len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "net/arp", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = collect_next_line(p, end); q < end; q = collect_next_line(q, end)) {
		/* the sixth field of "IP type flags HW-address mask device" */
		const char *s = q, *le = collect_next_line(q, end);
		for (int field = 0; field < 5 && s < le; field++) {
			while (s < le && (*s == ' ' || *s == '\t'))
				s++;
			while (s < le && *s != ' ' && *s != '\t' && *s != '\n')
				s++;
		}
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		const char *de = s;
		while (de < le && *de != ' ' && *de != '\t' && *de != '\n')
			de++;
		char dev[64];
		if (de == s || (size_t)(de - s) >= sizeof(dev))
			continue;
		memcpy(dev, s, (size_t)(de - s));
		dev[de - s] = 0;
		size_t k = 0;
		while (k < n && strcmp(devs[k], dev) != 0)
			k++;
		if (k == n) {
			if (n == ARP_DEVS_MAX)
				continue;
			snprintf(devs[n], sizeof(devs[n]), "%s", dev);
			count[n++] = 0;
		}
		count[k]++;
	}
	collect_family(c, "node_arp_entries", "ARP entries by device", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, count[k], "device", devs[k], NULL);
	return 0;
}
