/* self.c — process_* metrics of the collecting process itself, with
 * client_golang's names (what every Prometheus exporter reports about itself). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collect/collect.h"

int collect_self(struct collect_ctx *c)
{
	const char *proc = collect_cfg(c)->proc;
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	const char *p = collect_proc_stat(c, NULL);
	const char *bt = p ? strstr(p, "\nbtime ") : NULL;
	double btime = bt ? strtod(bt + 7, NULL) : 0;
	p = collect_read(c, proc, "self/stat", NULL);
	const char *rp = p ? strrchr(p, ')') : NULL;
	if (!rp)
		return -1;
	/* fields from 3 (state) on; utime 14, stime 15, starttime 22, vsize 23, rss 24 */
	double f[25] = { 0 };
	const char *s = rp + 2;
	char *e;
	for (int idx = 3; idx <= 24 && *s; idx++) {
		while (*s == ' ')
			s++;
		if (idx == 3) {
			while (*s && *s != ' ')
				s++;
			continue;
		}
		f[idx] = strtod(s, &e);
		s = e;
	}
	collect_one(c, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", COLLECT_COUNTER,
	    (f[14] + f[15]) / hz);
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		collect_one(c, "process_max_fds", "Maximum number of open file descriptors.", COLLECT_GAUGE,
		    rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
	char dir[4096];
	snprintf(dir, sizeof(dir), "%s/self/fd", proc);
	/* Since Linux 6.2 the size of /proc/PID/fd is its number of open
	 * fds: one stat instead of listing every fd (vigil keeps its /proc
	 * and /sys files open, so the list is long). */
	struct stat st;
	DIR *d = NULL;
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && st.st_size > 0)
		collect_one(c, "process_open_fds", "Number of open file descriptors.", COLLECT_GAUGE, (double)st.st_size);
	else
		d = opendir(dir);
	if (d) {
		double n = 0;
		struct dirent *de;
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
		collect_one(c, "process_open_fds", "Number of open file descriptors.", COLLECT_GAUGE, n - 1);	/* minus the dir's own fd */
	}
	collect_one(c, "process_resident_memory_bytes", "Resident memory size in bytes.", COLLECT_GAUGE, f[24] * page);
	collect_one(c, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", COLLECT_GAUGE,
	    btime + f[22] / hz);
	collect_one(c, "process_virtual_memory_bytes", "Virtual memory size in bytes.", COLLECT_GAUGE, f[23]);
	if (getrlimit(RLIMIT_AS, &rl) == 0)
		collect_one(c, "process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
		    COLLECT_GAUGE, rl.rlim_cur == RLIM_INFINITY ? -1 : (double)rl.rlim_cur);
	return 0;
}
