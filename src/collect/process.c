/*
 * process.c — process-group monitoring (Orion SAM style) with
 * process-exporter's names, so its dashboards work:
 *   namedprocess_namegroup_num_procs{groupname}
 *   namedprocess_namegroup_cpu_seconds_total{groupname,mode="user"|"system"}
 *   namedprocess_namegroup_memory_bytes{groupname,memtype="resident"|"virtual"}
 *   namedprocess_namegroup_num_threads{groupname}
 *   namedprocess_namegroup_open_filedesc{groupname}
 *   namedprocess_namegroup_read_bytes_total{groupname}, ..._write_bytes_total
 * A process joins the first group whose comm regex or cmdline regex matches.
 * Totals are sums over the live members (process-exporter also carries the
 * counts of exited members forward; vigil does not), so a counter can drop
 * when a member exits. Processes of other users may hide their fds and io
 * (EACCES): those parts count as 0.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "core/xmalloc.h"

#define PROC_CMDLINE_MAX 4096	/* bytes of a cmdline matched */

struct pgroup {
	char *name;			/* groupname */
	pcre2_code *comm;		/* comm regex or NULL */
	pcre2_code *cmdline;		/* cmdline regex or NULL */
	double procs, utime, stime, rss, vsize, threads, fds, rbytes, wbytes;	/* sums of one run */
};

struct collect_proc {
	struct pgroup *g;		/* groups */
	size_t n;			/* groups */
	pcre2_match_data *md;		/* match data shared by all regexes */
};

static pcre2_code *compile(const char *re, char *err, size_t errsz)
{
	int ec;
	PCRE2_SIZE eo;
	if (!re)
		return NULL;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	if (!code && err) {
		char msg[128];
		pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, errsz, "process group regex \"%s\" at offset %zu: %s", re, (size_t)eo, msg);
	}
	return code;
}

void collect_proc_free(struct collect_proc *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->g[i].name);
		pcre2_code_free(p->g[i].comm);
		pcre2_code_free(p->g[i].cmdline);
	}
	pcre2_match_data_free(p->md);
	free(p->g);
	free(p);
}

struct collect_proc *collect_proc_new(const struct collect_procgroup *g, size_t n, char *err, size_t errsz)
{
	if (n > COLLECT_GROUPS_MAX) {
		if (err)
			snprintf(err, errsz, "more than %d process groups", COLLECT_GROUPS_MAX);
		return NULL;
	}
	struct collect_proc *p = xcalloc(1, sizeof(*p));
	p->g = xcalloc(n ? n : 1, sizeof(*p->g));
	p->n = n;
	p->md = pcre2_match_data_create(8, NULL);
	for (size_t i = 0; i < n; i++) {
		p->g[i].name = xstrdup(g[i].name ? g[i].name : "");
		if ((g[i].comm_regex && !(p->g[i].comm = compile(g[i].comm_regex, err, errsz))) ||
		    (g[i].cmdline_regex && !(p->g[i].cmdline = compile(g[i].cmdline_regex, err, errsz)))) {
			collect_proc_free(p);
			return NULL;
		}
	}
	return p;
}

static int matches(struct collect_proc *p, pcre2_code *re, const char *s, size_t n)
{
	return re && pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, p->md, NULL) >= 0;
}

static double count_fds(const char *proc, const char *pid)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s/fd", proc, pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	double n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* Add one process to group g. */
static void account(struct collect_ctx *c, struct pgroup *g, const char *pid)
{
	const char *proc = collect_cfg(c)->proc;
	char rel[300];
	size_t len;
	double hz = (double)sysconf(_SC_CLK_TCK), page = (double)sysconf(_SC_PAGESIZE);
	snprintf(rel, sizeof(rel), "%s/stat", pid);
	const char *s = collect_read_pid(c, rel, &len);
	if (!s)
		return;	/* exited meanwhile */
	const char *rp = strrchr(s, ')');	/* comm may hold spaces and parens */
	if (!rp)
		return;
	/* fields after ") ": state(3) ... utime(14) stime(15) ... num_threads(20) ... vsize(23) rss(24) */
	double f[25] = { 0 };
	const char *s2 = rp + 2;
	char *e;
	int idx = 3;
	while (idx <= 24 && *s2) {
		while (*s2 == ' ')
			s2++;
		if (idx == 3) {
			while (*s2 && *s2 != ' ')
				s2++;
		} else {
			f[idx] = strtod(s2, &e);
			s2 = e;
		}
		idx++;
	}
	g->procs++;
	g->utime += f[14] / hz;
	g->stime += f[15] / hz;
	g->threads += f[20];
	g->vsize += f[23];
	g->rss += f[24] * page;
	g->fds += count_fds(proc, pid);
	snprintf(rel, sizeof(rel), "%s/io", pid);
	const char *io = collect_read_pid(c, rel, NULL);
	if (io) {
		const char *r = strstr(io, "\nread_bytes: "), *w = strstr(io, "\nwrite_bytes: ");
		if (r)
			g->rbytes += strtod(r + 13, NULL);
		if (w)
			g->wbytes += strtod(w + 14, NULL);
	}
}

int collect_process(struct collect_ctx *c)
{
	struct collect_proc *p = collect_proc_state(c);
	if (!p || !p->n)
		return 0;
	const char *proc = collect_cfg(c)->proc;
	for (size_t i = 0; i < p->n; i++) {
		struct pgroup *g = &p->g[i];
		g->procs = g->utime = g->stime = g->rss = g->vsize = g->threads = g->fds = g->rbytes = g->wbytes = 0;
	}
	DIR *d = opendir(proc);
	if (!d)
		return -1;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		char rel[300], comm[256], cmd[PROC_CMDLINE_MAX];
		size_t clen = 0;
		snprintf(rel, sizeof(rel), "%s/comm", de->d_name);
		size_t cn;
		const char *cs = collect_read_pid(c, rel, &cn);
		if (!cs)
			continue;
		while (cn && (cs[cn - 1] == '\n'))
			cn--;
		if (cn >= sizeof(comm))
			cn = sizeof(comm) - 1;
		memcpy(comm, cs, cn);
		comm[cn] = 0;
		int need_cmd = 0;
		for (size_t i = 0; i < p->n; i++)
			need_cmd |= p->g[i].cmdline != NULL;
		if (need_cmd) {
			snprintf(rel, sizeof(rel), "%s/cmdline", de->d_name);
			const char *cl = collect_read_pid(c, rel, &clen);
			if (!cl)
				clen = 0;
			if (clen >= sizeof(cmd))
				clen = sizeof(cmd) - 1;
			if (clen)
				memcpy(cmd, cl, clen);
			while (clen && cmd[clen - 1] == 0)
				clen--;
			for (size_t k = 0; k < clen; k++)	/* argv joined by spaces */
				if (!cmd[k])
					cmd[k] = ' ';
			cmd[clen] = 0;
		}
		for (size_t i = 0; i < p->n; i++) {
			struct pgroup *g = &p->g[i];
			if (matches(p, g->comm, comm, strlen(comm)) || (clen && matches(p, g->cmdline, cmd, clen))) {
				account(c, g, de->d_name);
				break;
			}
		}
	}
	closedir(d);
	collect_family(c, "namedprocess_namegroup_num_procs", "number of processes in this group", COLLECT_GAUGE);
	for (size_t i = 0; i < p->n; i++)
		collect_add(c, p->g[i].procs, "groupname", p->g[i].name, NULL);
	collect_family(c, "namedprocess_namegroup_cpu_seconds_total", "Cpu user usage in seconds", COLLECT_COUNTER);
	for (size_t i = 0; i < p->n; i++) {
		collect_add(c, p->g[i].stime, "groupname", p->g[i].name, "mode", "system", NULL);
		collect_add(c, p->g[i].utime, "groupname", p->g[i].name, "mode", "user", NULL);
	}
	collect_family(c, "namedprocess_namegroup_memory_bytes", "number of bytes of memory in use", COLLECT_GAUGE);
	for (size_t i = 0; i < p->n; i++) {
		collect_add(c, p->g[i].rss, "groupname", p->g[i].name, "memtype", "resident", NULL);
		collect_add(c, p->g[i].vsize, "groupname", p->g[i].name, "memtype", "virtual", NULL);
	}
	collect_family(c, "namedprocess_namegroup_num_threads", "Number of threads", COLLECT_GAUGE);
	for (size_t i = 0; i < p->n; i++)
		collect_add(c, p->g[i].threads, "groupname", p->g[i].name, NULL);
	collect_family(c, "namedprocess_namegroup_open_filedesc", "number of open file descriptors for this group", COLLECT_GAUGE);
	for (size_t i = 0; i < p->n; i++)
		collect_add(c, p->g[i].fds, "groupname", p->g[i].name, NULL);
	collect_family(c, "namedprocess_namegroup_read_bytes_total", "number of bytes read by this group", COLLECT_COUNTER);
	for (size_t i = 0; i < p->n; i++)
		collect_add(c, p->g[i].rbytes, "groupname", p->g[i].name, NULL);
	collect_family(c, "namedprocess_namegroup_write_bytes_total", "number of bytes written by this group", COLLECT_COUNTER);
	for (size_t i = 0; i < p->n; i++)
		collect_add(c, p->g[i].wbytes, "groupname", p->g[i].name, NULL);
	return 0;
}
