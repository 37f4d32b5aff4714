/* bonding.c — node_bonding_slaves and node_bonding_active per bond from
 * /sys/class/net/bonding_masters and each bond's slaves' MII status. */
#include <stdio.h>
#include <string.h>

#include "collect/collect.h"

#define BOND_MAX 64	/* bonds reported */

int collect_bonding(struct collect_ctx *c)
{
	const char *sys = collect_cfg(c)->sys;
	char masters[1024];
	static char names[BOND_MAX][64];
	static double slaves[BOND_MAX], active[BOND_MAX];
	size_t n = 0;
	if (collect_read_small(c, sys, "class/net/bonding_masters", masters, sizeof(masters)) < 0)
		return 0;	/* bonding driver not loaded */
	char *s = masters;
	while (*s && n < BOND_MAX) {
		while (*s == ' ')
			s++;
		char *e = s;
		while (*e && *e != ' ')
			e++;
		if (e == s)
			break;
		snprintf(names[n], sizeof(names[n]), "%.*s", (int)(e - s), s);
		s = e;
		char rel[256], list[1024];
		snprintf(rel, sizeof(rel), "class/net/%s/bonding/slaves", names[n]);
		slaves[n] = active[n] = 0;
		if (collect_read_small(c, sys, rel, list, sizeof(list)) == 0) {
			char *p = list;
			while (*p) {
				while (*p == ' ')
					p++;
				char *q = p;
				while (*q && *q != ' ')
					q++;
				if (q == p)
					break;
				char mii[32];
				slaves[n]++;
				snprintf(rel, sizeof(rel), "class/net/%s/lower_%.*s/bonding_slave/mii_status", names[n], (int)(q - p), p);
				if (collect_read_small(c, sys, rel, mii, sizeof(mii)) < 0) {
					snprintf(rel, sizeof(rel), "class/net/%.*s/bonding_slave/mii_status", (int)(q - p), p);
					if (collect_read_small(c, sys, rel, mii, sizeof(mii)) < 0)
						mii[0] = 0;
				}
				active[n] += !strcmp(mii, "up");
				p = q;
			}
		}
		n++;
	}
	if (!n)
		return 0;
	collect_family(c, "node_bonding_active", "Number of active slaves per bonding interface.", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, active[k], "master", names[k], NULL);
	collect_family(c, "node_bonding_slaves", "Number of configured slaves per bonding interface.", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, slaves[k], "master", names[k], NULL);
	return 0;
}
