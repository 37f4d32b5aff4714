/*
 * nagios.c — run a Nagios-compatible plugin (argv, no shell) in its own
 * process group with a minimal environment, optionally as another uid/gid,
 * kill the group at the timeout, and turn its exit code and perfdata into
 * samples. Child exit is watched through a pidfd on the loop.
 */
#include "probe/nagios.h"
#include "probe/probe_int.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

enum nagios_state nagios_state_from_wait(int ws)
{
	if (WIFEXITED(ws) && WEXITSTATUS(ws) <= 3)
		return (enum nagios_state)WEXITSTATUS(ws);
	return NAGIOS_UNKNOWN;
}

const char *nagios_state_name(enum nagios_state s)
{
	static const char *const n[] = { "OK", "WARNING", "CRITICAL", "UNKNOWN" };
	return (unsigned)s <= 3 ? n[s] : "UNKNOWN";
}

/* 1 if c is one of set's characters (a NUL byte never is). */
static int in_set(char c, const char *set)
{
	return c != '\0' && strchr(set, c) != NULL;
}

/* Parse a plain decimal number spanning exactly [s, e); 0 or -1. */
static int plain_number(const char *s, const char *e, double *v)
{
	char tmp[64];
	size_t n = (size_t)(e - s);
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if (!in_set(tmp[i], "0123456789.-+eE"))
			return -1;
	char *end;
	errno = 0;
	*v = strtod(tmp, &end);
	return *end == '\0' && errno == 0 && isfinite(*v) ? 0 : -1;
}

int nagios_parse_range(const char *s, size_t n, struct nagios_range *r)
{
	const char *e = s + n;
	struct nagios_range x = { 0, INFINITY, 0 };
	if (s < e && *s == '@') {
		x.inside = 1;
		s++;
	}
	if (s >= e)
		return -1;
	const char *colon = memchr(s, ':', (size_t)(e - s));
	if (!colon) {	/* "end": start is 0 */
		if (plain_number(s, e, &x.end) < 0)
			return -1;
	} else {
		if (colon - s == 1 && *s == '~')
			x.start = -INFINITY;
		else if (plain_number(s, colon, &x.start) < 0)
			return -1;	/* also an empty start: ":10" is not a range */
		if (colon + 1 < e && plain_number(colon + 1, e, &x.end) < 0)
			return -1;
	}
	if (x.start > x.end)
		return -1;
	*r = x;
	return 0;
}

int nagios_range_alerts(const struct nagios_range *r, double v)
{
	int in = v >= r->start && v <= r->end;
	return r->inside ? in : !in;
}

/* Parse one item [s, e) into p; 0 or -1. */
static int perf_item(const char *s, const char *e, struct nagios_perf *p)
{
	memset(p, 0, sizeof(*p));
	size_t ll = 0;
	if (*s == '\'') {
		s++;
		for (;;) {
			if (s >= e)
				return -1;
			if (*s == '\'') {
				if (s + 1 < e && s[1] == '\'') {
					s++;	/* '' is a quote inside the label */
				} else {
					s++;
					break;
				}
			}
			if (ll + 1 >= sizeof(p->label) || *s == '\0')
				return -1;
			p->label[ll++] = *s++;
		}
	} else {
		while (s < e && *s != '=') {
			if (ll + 1 >= sizeof(p->label) || *s == '\0')
				return -1;
			p->label[ll++] = *s++;
		}
	}
	p->label[ll] = '\0';
	if (ll == 0 || s >= e || *s != '=')
		return -1;
	s++;
	/* value and unit up to the first ';' */
	const char *f = memchr(s, ';', (size_t)(e - s));
	if (!f)
		f = e;
	const char *u = s;
	while (u < f && in_set(*u, "0123456789.-+eE"))
		u++;
	/* a trailing 'e'/'E' belongs to a unit only if no digit follows */
	while (u > s && (u[-1] == 'e' || u[-1] == 'E'))
		u--;
	if (plain_number(s, u, &p->value) < 0)
		return -1;
	size_t ul = (size_t)(f - u);
	if (ul >= sizeof(p->uom))
		return -1;
	for (size_t i = 0; i < ul; i++)
		if (!in_set(u[i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%"))
			return -1;
	memcpy(p->uom, u, ul);
	p->uom[ul] = '\0';
	double *fields[4] = { &p->warn, &p->crit, &p->min, &p->max };
	const unsigned bits[4] = { NAGIOS_HAS_WARN, NAGIOS_HAS_CRIT, NAGIOS_HAS_MIN, NAGIOS_HAS_MAX };
	for (int i = 0; i < 4 && f < e; i++) {
		const char *a = f + 1;
		f = memchr(a, ';', (size_t)(e - a));
		if (!f)
			f = e;
		/* ranges like "10:20" or "@5:" are kept out of the numbers */
		if (plain_number(a, f, fields[i]) == 0)
			p->has |= bits[i];
		if (i < 2 && nagios_parse_range(a, (size_t)(f - a), i ? &p->crit_range : &p->warn_range) == 0)
			p->has |= i ? NAGIOS_HAS_CRIT_RANGE : NAGIOS_HAS_WARN_RANGE;
	}
	return f == e ? 0 : -1;	/* more than five fields */
}

static int parse_perf_text(const char *s, const char *e,
    void (*cb)(void *ctx, const struct nagios_perf *p), void *ctx, int *nitems)
{
	int bad = 0;
	while (s < e) {
		while (s < e && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r'))
			s++;
		if (s >= e)
			break;
		const char *t = s;
		int q = 0;
		/* an item ends at whitespace outside quotes */
		while (t < e && (q || (*t != ' ' && *t != '\t' && *t != '\n' && *t != '\r'))) {
			if (*t == '\'')
				q = !q;
			t++;
		}
		struct nagios_perf p;
		if (perf_item(s, t, &p) == 0 && *nitems < NAGIOS_PERF_MAX) {
			(*nitems)++;
			cb(ctx, &p);
		} else {
			bad++;
		}
		s = t;
	}
	return bad;
}

int nagios_parse_output(const char *out, size_t n,
    void (*cb)(void *ctx, const struct nagios_perf *p), void *ctx)
{
	const char *e = out + n, *nl = memchr(out, '\n', n);
	const char *l1e = nl ? nl : e;
	int bad = 0, items = 0;
	const char *bar = memchr(out, '|', (size_t)(l1e - out));
	if (bar)
		bad += parse_perf_text(bar + 1, l1e, cb, ctx, &items);
	if (nl) {
		const char *rest = nl + 1;
		const char *bar2 = memchr(rest, '|', (size_t)(e - rest));
		if (bar2)
			bad += parse_perf_text(bar2 + 1, e, cb, ctx, &items);
	}
	return bad;
}

/* ---- the probe ---- */

struct nagios_run {
	struct probe_run *r;	/* engine's run */
	pid_t pid;		/* the plugin (and its process group) */
	int pidfd;		/* pollable exit notification */
	int outfd;		/* read end of the plugin's stdout */
	struct buf out;		/* output kept (capped) */
};

static void nag_drain(struct nagios_run *nr)
{
	char b[4096];
	for (int i = 0; i < 64; i++) {
		ssize_t n = read(nr->outfd, b, sizeof(b));
		if (n <= 0)
			return;
		size_t room = PROBE_NAGIOS_OUT_MAX - nr->out.len;
		buf_add(&nr->out, b, (size_t)n < room ? (size_t)n : room);
	}
}

static void nag_close(struct nagios_run *nr)
{
	struct loop *l = nr->r->loop;
	loop_del_fd(l, nr->pidfd);
	loop_del_fd(l, nr->outfd);
	close(nr->pidfd);
	close(nr->outfd);
	buf_free(&nr->out);
	nr->r->kstate = NULL;
	free(nr);
}

/*
 * A range as two series, named as Telegraf's Nagios parser names them (the
 * tool most Nagios-to-Prometheus pipelines go through): for an alert
 * outside start..end, <kind>_lt = start and <kind>_gt = end (alert when
 * value < lt or value > gt); for '@' (alert inside), <kind>_le = start and
 * <kind>_ge = end (alert when le <= value <= ge). Open ends are -Inf / +Inf.
 */
static void range_series(struct probe_out *o, const char *kind, const struct nagios_range *r,
    const struct nagios_perf *p)
{
	char lo[64], hi[64];
	snprintf(lo, sizeof(lo), "vigil_nagios_perfdata_%s_%s", kind, r->inside ? "le" : "lt");
	snprintf(hi, sizeof(hi), "vigil_nagios_perfdata_%s_%s", kind, r->inside ? "ge" : "gt");
	pout_add(o, lo, r->start, "label", p->label, "uom", p->uom, NULL);
	pout_add(o, hi, r->end, "label", p->label, "uom", p->uom, NULL);
}

static void perf_cb(void *ctx, const struct nagios_perf *p)
{
	struct probe_out *o = ctx;
	if (p->has & NAGIOS_HAS_WARN_RANGE)
		range_series(o, "warning", &p->warn_range, p);
	if (p->has & NAGIOS_HAS_CRIT_RANGE)
		range_series(o, "critical", &p->crit_range, p);
	pout_add(o, "vigil_nagios_perfdata", p->value, "label", p->label, "uom", p->uom, NULL);
	if (p->has & NAGIOS_HAS_WARN)
		pout_add(o, "vigil_nagios_perfdata_warn", p->warn, "label", p->label, "uom", p->uom, NULL);
	if (p->has & NAGIOS_HAS_CRIT)
		pout_add(o, "vigil_nagios_perfdata_crit", p->crit, "label", p->label, "uom", p->uom, NULL);
	if (p->has & NAGIOS_HAS_MIN)
		pout_add(o, "vigil_nagios_perfdata_min", p->min, "label", p->label, "uom", p->uom, NULL);
	if (p->has & NAGIOS_HAS_MAX)
		pout_add(o, "vigil_nagios_perfdata_max", p->max, "label", p->label, "uom", p->uom, NULL);
}

static void nag_exited(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct nagios_run *nr = ctx;
	struct probe_run *r = nr->r;
	int ws = 0;
	(void)l;
	(void)fd;
	(void)ev;
	pid_t w = waitpid(nr->pid, &ws, WNOHANG);
	if (w == 0)
		return;
	kill(-nr->pid, SIGKILL);	/* leftovers in its group die with it */
	nag_drain(nr);
	enum nagios_state st = w < 0 ? NAGIOS_UNKNOWN : nagios_state_from_wait(ws);
	pout_add(&r->out, "vigil_nagios_status", st, NULL);
	if (nr->out.len)
		nagios_parse_output(nr->out.data, nr->out.len, perf_cb, &r->out);
	char q[600];
	log_debug("nagios plugin finished", "plugin=%s state=%s",
	    log_quote(q, sizeof(q), r->tgt->cfg->nagios.argv[0]), nagios_state_name(st));
	if (st != NAGIOS_OK)
		probe_run_fail(r, "status");
	nag_close(nr);
	probe_run_finish(r, st == NAGIOS_OK);
}

static void nag_output(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct nagios_run *nr = ctx;
	(void)ev;
	char b[4096];
	ssize_t n = read(fd, b, sizeof(b));
	if (n > 0) {
		size_t room = PROBE_NAGIOS_OUT_MAX - nr->out.len;
		buf_add(&nr->out, b, (size_t)n < room ? (size_t)n : room);
	} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
		loop_del_fd(l, fd);	/* EOF: wait for the exit alone */
	}
}

static void nag_timeout(struct probe_run *r)
{
	struct nagios_run *nr = r->kstate;
	kill(-nr->pid, SIGKILL);
	waitpid(nr->pid, NULL, 0);	/* SIGKILL cannot be ignored: this is quick */
	probe_ctr.nagios_killed++;
	nag_drain(nr);
	pout_add(&r->out, "vigil_nagios_status", NAGIOS_CRITICAL, NULL);
	nag_close(nr);
	probe_run_finish(r, 0);
}

/* In the child: never returns. */
static void nag_child(const struct probe_nagios_opts *o, int outw)
{
	static char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL };
	setpgid(0, 0);
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);	/* ignored signals would survive exec */
	int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(outw, 1) < 0 || dup2(devnull, 2) < 0)
		_exit(3);
	/* Only async-signal-safe calls here: the worker may have threads (curl's
	 * resolver), so no closefrom() (it may scan /proc with malloc). */
	if (syscall(SYS_close_range, 3u, ~0u, 0u) < 0)
		for (int fd = 3; fd < 4096; fd++)
			close(fd);
	if (o->drop_privs && (setgroups(0, NULL) < 0 || setgid(o->gid) < 0 || setuid(o->uid) < 0)) {
		static const char m[] = "UNKNOWN - vigil could not drop privileges\n";
		(void)!write(1, m, sizeof(m) - 1);
		_exit(3);
	}
	execve(o->argv[0], (char *const *)(uintptr_t)o->argv, envp);
	static const char m[] = "UNKNOWN - vigil could not execute the plugin\n";
	(void)!write(1, m, sizeof(m) - 1);
	_exit(3);
}

int probe_nagios_start(struct probe_run *r)
{
	const struct probe_nagios_opts *o = &r->tgt->cfg->nagios;
	if (access(o->argv[0], X_OK) < 0) {
		probe_run_fail(r, "exec");
		pout_add(&r->out, "vigil_nagios_status", NAGIOS_UNKNOWN, NULL);
		return -errno;
	}
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) {
		probe_run_fail(r, "exec");
		return -errno;
	}
	pid_t pid = fork();
	if (pid < 0) {
		int err = errno;
		close(p[0]);
		close(p[1]);
		probe_run_fail(r, "exec");
		return -err;
	}
	if (pid == 0)
		nag_child(o, p[1]);
	close(p[1]);
	setpgid(pid, pid);	/* also in the parent, so kill(-pid) works at once */
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		int err = errno;
		kill(-pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
		probe_run_fail(r, "exec");
		return -err;
	}
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	struct nagios_run *nr = xcalloc(1, sizeof(*nr));
	nr->r = r;
	nr->pid = pid;
	nr->pidfd = pidfd;
	nr->outfd = p[0];
	buf_init(&nr->out, PROBE_NAGIOS_OUT_MAX);
	r->kstate = nr;
	r->on_timeout = nag_timeout;
	loop_add_fd(r->loop, pidfd, LOOP_READ, nag_exited, nr);
	loop_add_fd(r->loop, p[0], LOOP_READ, nag_output, nr);
	return 0;
}
