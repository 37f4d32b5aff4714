/* processes.c — node_processes_*: process and thread counts by state from
 * /proc/PID/stat and /proc/PID/task/TID/stat (off by default, as in node_exporter). */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

/* State letter of a stat line ("pid (comm) S ..."), or 0. */
static char stat_state(const char *s, double *threads)
{
	const char *rp = s ? strrchr(s, ')') : NULL;
	if (!rp || rp[1] != ' ' || !rp[2])
		return 0;
	if (threads) {	/* num_threads is field 20; the state is field 3 */
		const char *p = rp + 2;
		for (int f = 3; f < 20 && p; f++) {
			p = strchr(p, ' ');
			p = p ? p + 1 : NULL;
		}
		*threads = p ? strtod(p, NULL) : 1;
	}
	return rp[2];
}

static void count(double *by, char st)
{
	if (st >= 'A' && st <= 'Z')
		by[st - 'A']++;
	else if (st >= 'a' && st <= 'z')
		by[26 + st - 'a']++;
}

static void emit_states(struct collect_ctx *c, const double *by, const char *label)
{
	for (int i = 0; i < 52; i++) {
		if (!by[i])
			continue;
		char st[2] = { (char)(i < 26 ? 'A' + i : 'a' + i - 26), 0 };
		collect_add(c, by[i], label, st, NULL);
	}
}

int collect_processes(struct collect_ctx *c)
{
	const char *proc = collect_cfg(c)->proc;
	double pstate[52] = { 0 }, tstate[52] = { 0 }, pids = 0, threads = 0;
	char v[64];
	DIR *d = opendir(proc);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char rel[600];
		double nt = 1;
		snprintf(rel, sizeof(rel), "%s/stat", de->d_name);
		char st = stat_state(collect_read_pid(c, rel, NULL), &nt);
		if (!st)
			continue;	/* exited meanwhile */
		pids++;
		threads += nt;
		count(pstate, st);
		if (nt <= 1) {
			count(tstate, st);
			continue;
		}
		char tdir[4096];
		snprintf(tdir, sizeof(tdir), "%s/%s/task", proc, de->d_name);
		DIR *td = opendir(tdir);
		if (!td)
			continue;
		struct dirent *te;
		while ((te = readdir(td))) {
			if (!isdigit((unsigned char)te->d_name[0]))
				continue;
			snprintf(rel, sizeof(rel), "%s/task/%s/stat", de->d_name, te->d_name);
			char ts = stat_state(collect_read_pid(c, rel, NULL), NULL);
			if (ts)
				count(tstate, ts);
		}
		closedir(td);
	}
	closedir(d);
	if (collect_read_small(c, proc, "sys/kernel/pid_max", v, sizeof(v)) == 0)
		collect_one(c, "node_processes_max_processes", "Number of max PIDs limit", COLLECT_GAUGE, strtod(v, NULL));
	if (collect_read_small(c, proc, "sys/kernel/threads-max", v, sizeof(v)) == 0)
		collect_one(c, "node_processes_max_threads", "Limit of threads in the system", COLLECT_GAUGE, strtod(v, NULL));
	collect_one(c, "node_processes_pids", "Number of PIDs", COLLECT_GAUGE, pids);
	collect_family(c, "node_processes_state", "Number of processes in each state.", COLLECT_GAUGE);
	emit_states(c, pstate, "state");
	collect_one(c, "node_processes_threads", "Allocated threads in system", COLLECT_GAUGE, threads);
	collect_family(c, "node_processes_threads_state", "Number of threads in each state.", COLLECT_GAUGE);
	emit_states(c, tstate, "thread_state");
	return 0;
}
