/* cpufreq.c — node_cpu_*frequency* and the scaling governor from
 * /sys/devices/system/cpu/cpuN/cpufreq (kHz in sysfs, hertz in the metrics). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define CPUFREQ_CPUS_MAX 1024	/* CPUs reported */

struct cpufreq {
	char cpu[16];		/* cpu label */
	double v[6];		/* hertz, < 0 when the file is absent */
	char gov[64];		/* current governor */
	char avail[512];	/* available governors, space separated */
};

static const struct { const char *file, *metric, *help; } fields[6] = {
	{ "cpuinfo_cur_freq", "node_cpu_frequency_hertz", "Current cpu thread frequency in hertz." },
	{ "cpuinfo_max_freq", "node_cpu_frequency_max_hertz", "Maximum cpu thread frequency in hertz." },
	{ "cpuinfo_min_freq", "node_cpu_frequency_min_hertz", "Minimum cpu thread frequency in hertz." },
	{ "scaling_cur_freq", "node_cpu_scaling_frequency_hertz", "Current scaled CPU thread frequency in hertz." },
	{ "scaling_max_freq", "node_cpu_scaling_frequency_max_hertz", "Maximum scaled CPU thread frequency in hertz." },
	{ "scaling_min_freq", "node_cpu_scaling_frequency_min_hertz", "Minimum scaled CPU thread frequency in hertz." },
};

int collect_cpufreq(struct collect_ctx *c)
{
	static struct cpufreq cf[CPUFREQ_CPUS_MAX];
	size_t n = 0;
	const char *sys = collect_cfg(c)->sys;
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/devices/system/cpu", sys);
	DIR *d = collect_opendir(c, dir);
	if (!d)
		return 0;
	struct dirent *de;
	while ((de = readdir(d)) && n < CPUFREQ_CPUS_MAX) {
		if (strncmp(de->d_name, "cpu", 3) != 0 || !isdigit((unsigned char)de->d_name[3]) || strlen(de->d_name) > 12)
			continue;
		struct cpufreq *f = &cf[n];
		char rel[400], v[64];
		int any = 0;
		for (int i = 0; i < 6; i++) {
			snprintf(rel, sizeof(rel), "devices/system/cpu/%s/cpufreq/%s", de->d_name, fields[i].file);
			f->v[i] = collect_read_small(c, sys, rel, v, sizeof(v)) == 0 ? strtod(v, NULL) * 1000.0 : -1;
			any |= f->v[i] >= 0;
		}
		if (!any)
			continue;	/* no cpufreq for this CPU (VMs) */
		snprintf(rel, sizeof(rel), "devices/system/cpu/%s/cpufreq/scaling_governor", de->d_name);
		if (collect_read_small(c, sys, rel, f->gov, sizeof(f->gov)) < 0)
			f->gov[0] = 0;
		snprintf(rel, sizeof(rel), "devices/system/cpu/%s/cpufreq/scaling_available_governors", de->d_name);
		if (collect_read_small(c, sys, rel, f->avail, sizeof(f->avail)) < 0)
			memcpy(f->avail, f->gov, strlen(f->gov) + 1);	/* gov is shorter than avail */
		snprintf(f->cpu, sizeof(f->cpu), "%s", de->d_name + 3);
		n++;
	}
	collect_closedir(c, d);
	for (int i = 0; i < 6 && n; i++) {
		collect_family(c, fields[i].metric, fields[i].help, COLLECT_GAUGE);
		for (size_t k = 0; k < n; k++)
			if (cf[k].v[i] >= 0)
				collect_add(c, cf[k].v[i], "cpu", cf[k].cpu, NULL);
	}
	if (!n)
		return 0;
	/* one series per available governor: 1 for the active one */
	collect_family(c, "node_cpu_scaling_governor", "Current enabled CPU frequency governor.", COLLECT_GAUGE);
	for (size_t k = 0; k < n; k++) {
		if (!cf[k].gov[0])
			continue;
		char *s = cf[k].avail;
		while (*s) {
			while (*s == ' ')
				s++;
			char *e = s;
			while (*e && *e != ' ')
				e++;
			char save = *e;
			*e = 0;
			if (*s)
				collect_add(c, !strcmp(s, cf[k].gov), "cpu", cf[k].cpu, "governor", s, NULL);
			*e = save;
			s = e;
		}
	}
	return 0;
}
