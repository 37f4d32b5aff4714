/* netclass.c — node_network_* device properties from /sys/class/net/<iface>. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define NETCLASS_MAX 1024	/* interfaces reported */

struct ifprops {
	char name[64];		/* device label */
	double v[17];		/* property values (NAN-free: has[] says which exist) */
	unsigned char has[17];	/* property present */
	char address[64], broadcast[64], duplex[32], ifalias[256], operstate[32];	/* info labels */
};

/* Properties: metric suffix, sysfs file, scale, counter?, hex? */
static const struct { const char *metric, *file; double scale; int counter; } props[] = {
	{ "address_assign_type", "addr_assign_type", 1, 0 },
	{ "carrier", "carrier", 1, 0 },
	{ "carrier_changes_total", "carrier_changes", 1, 1 },
	{ "carrier_down_changes_total", "carrier_down_count", 1, 1 },
	{ "carrier_up_changes_total", "carrier_up_count", 1, 1 },
	{ "device_id", "dev_id", 1, 0 },
	{ "dormant", "dormant", 1, 0 },
	{ "flags", "flags", 1, 0 },
	{ "iface_id", "ifindex", 1, 0 },
	{ "iface_link", "iflink", 1, 0 },
	{ "iface_link_mode", "link_mode", 1, 0 },
	{ "mtu_bytes", "mtu", 1, 0 },
	{ "name_assign_type", "name_assign_type", 1, 0 },
	{ "net_dev_group", "netdev_group", 1, 0 },
	{ "protocol_type", "type", 1, 0 },
	{ "speed_bytes", "speed", 125000, 0 },
	{ "transmit_queue_length", "tx_queue_len", 1, 0 },
};
#define NPROPS (sizeof(props) / sizeof(props[0]))

/* Read class/net/<dev>/<file>; rel holds "class/net/<dev>/" (pl bytes) and room after it. */
static int read_prop(struct collect_ctx *c, const char *sys, char *rel, size_t pl, size_t relsz, const char *file,
    char *out, size_t outsz)
{
	size_t fl = strlen(file);
	if (pl + fl + 1 > relsz)
		return -1;
	memcpy(rel + pl, file, fl + 1);
	return collect_read_small(c, sys, rel, out, outsz);
}

int collect_netclass(struct collect_ctx *c)
{
	static struct ifprops ifs[NETCLASS_MAX];
	size_t n = 0;
	const char *sys = collect_cfg(c)->sys;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/class/net", sys);
	DIR *d = collect_opendir(c, dir);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d)) && n < NETCLASS_MAX) {
		size_t dl = strlen(de->d_name);
		if (de->d_name[0] == '.' || dl >= 64)
			continue;
		struct ifprops *f = &ifs[n];
		char v[256], rel[128];
		memcpy(f->name, de->d_name, dl + 1);
		size_t pl = (size_t)snprintf(rel, sizeof(rel), "class/net/%s/", f->name);
		char ifindex[256];
		if (read_prop(c, sys, rel, pl, sizeof(rel), "ifindex", ifindex, sizeof(ifindex)) < 0)
			continue;	/* not a device directory (bonding_masters) */
		for (size_t i = 0; i < NPROPS; i++) {
			if (!strcmp(props[i].file, "ifindex")) {	/* read just above */
				f->has[i] = ifindex[0] != 0;
				memcpy(v, ifindex, sizeof(v));
			} else {
				f->has[i] = read_prop(c, sys, rel, pl, sizeof(rel), props[i].file, v, sizeof(v)) == 0 && v[0];
			}
			if (f->has[i])
				f->v[i] = collect_num(v, NULL) * props[i].scale;
		}
		if (read_prop(c, sys, rel, pl, sizeof(rel), "address", f->address, sizeof(f->address)) < 0)
			f->address[0] = 0;
		if (read_prop(c, sys, rel, pl, sizeof(rel), "broadcast", f->broadcast, sizeof(f->broadcast)) < 0)
			f->broadcast[0] = 0;
		if (read_prop(c, sys, rel, pl, sizeof(rel), "duplex", f->duplex, sizeof(f->duplex)) < 0)
			f->duplex[0] = 0;
		if (read_prop(c, sys, rel, pl, sizeof(rel), "ifalias", f->ifalias, sizeof(f->ifalias)) < 0)
			f->ifalias[0] = 0;
		if (read_prop(c, sys, rel, pl, sizeof(rel), "operstate", f->operstate, sizeof(f->operstate)) < 0)
			f->operstate[0] = 0;
		n++;
	}
	collect_closedir(c, d);
	static char fname[NPROPS][64], fhelp[NPROPS][64];	/* made once */
	for (size_t i = 0; i < NPROPS; i++) {
		if (!fname[i][0]) {
			snprintf(fhelp[i], sizeof(fhelp[i]), "Network device property: %s", props[i].metric);
			snprintf(fname[i], sizeof(fname[i]), "node_network_%s", props[i].metric);
		}
		collect_family(c, fname[i], fhelp[i], props[i].counter ? COLLECT_COUNTER : COLLECT_GAUGE);
		for (size_t k = 0; k < n; k++)
			if (ifs[k].has[i])
				collect_add(c, ifs[k].v[i], "device", ifs[k].name, NULL);
	}
	collect_family(c, "node_network_info", "Non-numeric data from /sys/class/net/<iface>, value is always 1.", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, 1, "address", ifs[k].address, "broadcast", ifs[k].broadcast, "device", ifs[k].name,
		    "duplex", ifs[k].duplex, "ifalias", ifs[k].ifalias, "operstate", ifs[k].operstate, NULL);
	collect_family(c, "node_network_up", "Value is 1 if operstate is 'up', 0 otherwise.", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, !strcmp(ifs[k].operstate, "up"), "device", ifs[k].name, NULL);
	return 0;
}
