/* edac.c — memory-controller error counters from /sys/devices/system/edac/mc
 * (node_edac_*: correctable and uncorrectable errors, per controller and csrow). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define EDAC_ROWS_MAX 1024	/* controller/csrow pairs reported */

struct edac_row {
	char mc[16];		/* controller label */
	char row[16];		/* csrow label ("unknown" for noinfo counts); "" for the controller itself */
	double ce, ue;		/* correctable, uncorrectable errors */
};

static double read_num(struct collect_ctx *c, const char *rel, int *ok)
{
	char v[64];
	if (collect_read_small(c, collect_cfg(c)->sys, rel, v, sizeof(v)) < 0) {
		*ok = 0;
		return 0;
	}
	return strtod(v, NULL);
}

int collect_edac(struct collect_ctx *c)
{
	static struct edac_row r[EDAC_ROWS_MAX];
	size_t n = 0;
	const char *sys = collect_cfg(c)->sys;
	char dir[4096], rel[600];
	snprintf(dir, sizeof(dir), "%s/devices/system/edac/mc", sys);
	DIR *d = collect_opendir(c, dir);
	if (!d)
		return 0;	/* no EDAC driver: nothing to report */
	struct dirent *de;
	int ok = 1;
	while ((de = readdir(d)) && n + 2 < EDAC_ROWS_MAX) {
		if (strncmp(de->d_name, "mc", 2) != 0 || !isdigit((unsigned char)de->d_name[2]) || strlen(de->d_name) > 12)
			continue;
		const char *mc = de->d_name + 2;
		struct edac_row *t = &r[n++];
		snprintf(t->mc, sizeof(t->mc), "%s", mc);
		t->row[0] = 0;
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/ce_count", de->d_name);
		t->ce = read_num(c, rel, &ok);
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/ue_count", de->d_name);
		t->ue = read_num(c, rel, &ok);
		struct edac_row *u = &r[n++];	/* errors the controller could not place */
		snprintf(u->mc, sizeof(u->mc), "%s", mc);
		snprintf(u->row, sizeof(u->row), "unknown");
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/ce_noinfo_count", de->d_name);
		u->ce = read_num(c, rel, &ok);
		snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/ue_noinfo_count", de->d_name);
		u->ue = read_num(c, rel, &ok);
		char sub[4400];
		DIR *cd = snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name) < (int)sizeof(sub) ? opendir(sub) : NULL;
		struct dirent *ce;
		while (cd && (ce = readdir(cd)) && n < EDAC_ROWS_MAX) {
			if (strncmp(ce->d_name, "csrow", 5) != 0 || !isdigit((unsigned char)ce->d_name[5]) || strlen(ce->d_name) > 14)
				continue;
			struct edac_row *w = &r[n++];
			snprintf(w->mc, sizeof(w->mc), "%s", mc);
			snprintf(w->row, sizeof(w->row), "%s", ce->d_name + 5);
			snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/%s/ce_count", de->d_name, ce->d_name);
			w->ce = read_num(c, rel, &ok);
			snprintf(rel, sizeof(rel), "devices/system/edac/mc/%s/%s/ue_count", de->d_name, ce->d_name);
			w->ue = read_num(c, rel, &ok);
		}
		if (cd)
			closedir(cd);
	}
	collect_closedir(c, d);
	if (!n)
		return 0;
	static const struct { const char *name, *help; int row, ue; } m[4] = {
		{ "node_edac_correctable_errors_total", "Total correctable memory errors.", 0, 0 },
		{ "node_edac_csrow_correctable_errors_total", "Total correctable memory errors for this csrow.", 1, 0 },
		{ "node_edac_csrow_uncorrectable_errors_total", "Total uncorrectable memory errors for this csrow.", 1, 1 },
		{ "node_edac_uncorrectable_errors_total", "Total uncorrectable memory errors.", 0, 1 },
	};
	for (int i = 0; i < 4; i++) {
		collect_family(c, m[i].name, m[i].help, COLLECT_COUNTER);
		for (size_t k = 0; k < n; k++) {
			if ((r[k].row[0] != 0) != m[i].row)
				continue;
			double v = m[i].ue ? r[k].ue : r[k].ce;
			if (m[i].row)
				collect_add(c, v, "controller", r[k].mc, "csrow", r[k].row, NULL);
			else
				collect_add(c, v, "controller", r[k].mc, NULL);
		}
	}
	return ok ? 0 : -1;
}
