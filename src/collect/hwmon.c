/* hwmon.c — temperatures from /sys/class/hwmon and /sys/class/thermal. */
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"

#define HWMON_SENSORS_MAX 1024	/* temperature inputs reported */

struct temp {
	char chip[128];		/* chip label */
	char sensor[32];	/* e.g. temp1 */
	double input, max, crit;	/* degrees C; max/crit < -1000 when absent */
};

/* node_exporter's cleanMetricName: lower case, runs of characters outside
 * [a-z0-9_] become '_', no '_' at either end. */
static void clean(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		char ch = *r >= 'A' && *r <= 'Z' ? (char)(*r - 'A' + 'a') : *r;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			ch = '_';
		*w++ = ch;
	}
	*w = 0;
	while (w > s && w[-1] == '_')
		*--w = 0;
	size_t lead = strspn(s, "_");
	if (lead)
		memmove(s, s + lead, strlen(s + lead) + 1);
}

/* Chip name as node_exporter makes it: "<parent dir>_<device dir>" of the
 * device link, else the cleaned "name" file, else hwmonN. */
static void chip_name(struct collect_ctx *c, const char *dir, const char *hw, char *out, size_t outsz)
{
	char link[4096], real[PATH_MAX], rel[512];
	if (snprintf(link, sizeof(link), "%s/%s/device", dir, hw) < (int)sizeof(link) && realpath(link, real)) {
		char *base = strrchr(real, '/');
		if (base && base != real) {
			*base++ = 0;
			char *parent = strrchr(real, '/');
			parent = parent ? parent + 1 : real;
			if (snprintf(out, outsz, "%s_%s", parent, base) < (int)outsz) {
				clean(out);
				if (*out)
					return;
			}
		}
	}
	snprintf(rel, sizeof(rel), "class/hwmon/%s/name", hw);
	if (collect_read_small(c, collect_cfg(c)->sys, rel, out, outsz) == 0) {
		clean(out);
		if (*out)
			return;
	}
	if (snprintf(out, outsz, "%s", hw) >= (int)outsz)
		out[outsz - 1] = 0;
}

static double milli(struct collect_ctx *c, const char *sys, const char *rel)
{
	char v[64];
	if (collect_read_small(c, sys, rel, v, sizeof(v)) < 0)
		return -1e9;
	return strtod(v, NULL) / 1000.0;
}

int collect_hwmon(struct collect_ctx *c)
{
	static struct temp t[HWMON_SENSORS_MAX];
	static char names[64][2][128];	/* chip, chip_name */
	size_t n = 0, nn = 0;
	const char *sys = collect_cfg(c)->sys;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/class/hwmon", sys);
	DIR *d = collect_opendir(c, dir);
	if (!d)
		return 0;	/* no hwmon on this host */
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "hwmon", 5) != 0)
			continue;
		char chip[128], rel[512], cn[128];
		chip_name(c, dir, de->d_name, chip, sizeof(chip));
		snprintf(rel, sizeof(rel), "class/hwmon/%s/name", de->d_name);
		if (nn < 64 && collect_read_small(c, sys, rel, cn, sizeof(cn)) == 0) {
			snprintf(names[nn][0], sizeof(names[nn][0]), "%s", chip);
			snprintf(names[nn][1], sizeof(names[nn][1]), "%s", cn);
			nn++;
		}
		for (int i = 1; i < 64 && n < HWMON_SENSORS_MAX; i++) {
			snprintf(rel, sizeof(rel), "class/hwmon/%s/temp%d_input", de->d_name, i);
			double in = milli(c, sys, rel);
			if (in < -1e8)
				continue;
			struct temp *x = &t[n++];
			snprintf(x->chip, sizeof(x->chip), "%s", chip);
			snprintf(x->sensor, sizeof(x->sensor), "temp%d", i);
			x->input = in;
			snprintf(rel, sizeof(rel), "class/hwmon/%s/temp%d_max", de->d_name, i);
			x->max = milli(c, sys, rel);
			snprintf(rel, sizeof(rel), "class/hwmon/%s/temp%d_crit", de->d_name, i);
			x->crit = milli(c, sys, rel);
		}
	}
	collect_closedir(c, d);
	if (nn) {
		collect_family(c, "node_hwmon_chip_names", "Annotation metric for human-readable chip names", COLLECT_GAUGE);
		for (size_t k = 0; k < nn; k++)
			collect_add(c, 1, "chip", names[k][0], "chip_name", names[k][1], NULL);
	}
	if (!n)
		return 0;
	collect_family(c, "node_hwmon_temp_celsius", "Hardware monitor for temperature (input)", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		collect_add(c, t[k].input, "chip", t[k].chip, "sensor", t[k].sensor, NULL);
	collect_family(c, "node_hwmon_temp_crit_celsius", "Hardware monitor for temperature (crit)", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		if (t[k].crit > -1e8)
			collect_add(c, t[k].crit, "chip", t[k].chip, "sensor", t[k].sensor, NULL);
	collect_family(c, "node_hwmon_temp_max_celsius", "Hardware monitor for temperature (max)", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++)
		if (t[k].max > -1e8)
			collect_add(c, t[k].max, "chip", t[k].chip, "sensor", t[k].sensor, NULL);
	return 0;
}

int collect_thermal(struct collect_ctx *c)
{
	const char *sys = collect_cfg(c)->sys;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/class/thermal", sys);
	DIR *d = collect_opendir(c, dir);
	if (!d)
		return 0;	/* no thermal zones on this host */
	struct dirent *de;
	int fam = 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "thermal_zone", 12) != 0)
			continue;
		char rel[512], type[128];
		snprintf(rel, sizeof(rel), "class/thermal/%s/type", de->d_name);
		if (collect_read_small(c, sys, rel, type, sizeof(type)) < 0)
			continue;
		snprintf(rel, sizeof(rel), "class/thermal/%s/temp", de->d_name);
		double temp = milli(c, sys, rel);
		if (temp < -1e8)
			continue;
		if (!fam++)
			collect_family(c, "node_thermal_zone_temp", "Zone temperature in Celsius", COLLECT_GAUGE);
		collect_add(c, temp, "type", type, "zone", de->d_name + 12, NULL);
	}
	collect_closedir(c, d);
	return 0;
}
