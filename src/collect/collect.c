/* collect.c — collector registry, the family table, rendering and emitting; see collect.h. */
#include "collect/collect.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/xmalloc.h"

#define FAMILY_BYTES_MAX (16u << 20)	/* encoded samples of one family */
#define HELP_MAX 512			/* bytes of one HELP text */

/*
 * One metric family. Samples are encoded back to back in `samples`:
 *   u8 nlabels, then per label "name\0value\0", then 8 bytes of double.
 */
struct cfam {
	char *name;		/* metric name (owned) */
	char help[HELP_MAX];	/* HELP text */
	enum collect_type type;	/* its type */
	struct buf samples;	/* encoded samples of the current run */
	size_t n;		/* samples in the current run */
	unsigned gen;		/* run that last touched it */
};

/* A file kept open between runs. */
struct cfd {
	int fd;		/* the open file */
	unsigned gen;	/* run that last read it; unread for a whole run: closed */
};

struct collector {
	const char *name;			/* collector label value */
	int (*fn)(struct collect_ctx *c);	/* the collector */
	int off;				/* off unless named (node_exporter's default-disabled ones) */
};

static const struct collector collectors[] = {
	{ "arp", collect_arp, 0 },
	{ "bonding", collect_bonding, 0 },
	{ "conntrack", collect_conntrack, 0 },
	{ "cpu", collect_cpu, 0 },
	{ "cpufreq", collect_cpufreq, 0 },
	{ "diskstats", collect_diskstats, 0 },
	{ "edac", collect_edac, 0 },
	{ "entropy", collect_entropy, 0 },
	{ "filefd", collect_filefd, 0 },
	{ "filesystem", collect_filesystem, 0 },
	{ "hwmon", collect_hwmon, 0 },
	{ "loadavg", collect_loadavg, 0 },
	{ "meminfo", collect_meminfo, 0 },
	{ "netclass", collect_netclass, 0 },
	{ "netdev", collect_netdev, 0 },
	{ "netstat", collect_netstat, 0 },
	{ "os", collect_os, 0 },
	{ "pressure", collect_pressure, 0 },
	{ "process", collect_process, 0 },
	{ "processes", collect_processes, 1 },
	{ "schedstat", collect_schedstat, 0 },
	{ "selinux", collect_selinux, 0 },
	{ "self", collect_self, 0 },
	{ "sockstat", collect_sockstat, 0 },
	{ "softnet", collect_softnet, 0 },
	{ "stat", collect_stat, 0 },
	{ "systemd", collect_systemd, 0 },
	{ "textfile", collect_textfile, 0 },
	{ "thermal_zone", collect_thermal, 0 },
	{ "time", collect_time, 0 },
	{ "timex", collect_timex, 0 },
	{ "udp_queues", collect_udp_queues, 0 },
	{ "uname", collect_uname, 0 },
	{ "vmstat", collect_vmstat, 0 },
};
#define NCOLLECTORS (sizeof(collectors) / sizeof(collectors[0]))

struct collect_ctx {
	struct collect_config cfg;	/* copied configuration (strings owned) */
	char *owned[8];			/* strings copied into cfg */
	struct hmap fams;		/* name -> struct cfam */
	struct cfam **list;		/* every family ever seen */
	size_t nlist;			/* entries in list */
	size_t caplist;			/* slots in list */
	struct cfam *cur;		/* family samples go to */
	unsigned gen;			/* current run */
	struct buf file;		/* file read buffer */
	struct buf stat;		/* /proc/stat of this run (cpu, stat and self all read it) */
	unsigned stat_gen;		/* run that filled stat; 0: never */
	struct hmap fdc;		/* path -> struct cfd: files kept open and re-read with pread */
	unsigned char enabled[NCOLLECTORS];	/* collectors to run */
	double dur[NCOLLECTORS];	/* last duration of each (s) */
	int ok[NCOLLECTORS];		/* last success of each */
	struct collect_proc *proc;	/* process groups, or NULL */
	size_t nsamples;		/* samples of the last run */
};

const char *const *collect_names(void)
{
	static const char *names[NCOLLECTORS + 1];
	for (size_t i = 0; i < NCOLLECTORS; i++)
		names[i] = collectors[i].name;
	return names;
}

/* 1 if name is an entry of the comma-separated list. */
static int name_listed(const char *list, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = list; p && *p;) {
		if (strncmp(p, name, n) == 0 && (p[n] == ',' || !p[n]))
			return 1;
		p = strchr(p, ',');
		p = p ? p + 1 : NULL;
	}
	return 0;
}

static const char *own(struct collect_ctx *c, size_t slot, const char *s)
{
	if (!s)
		return NULL;
	c->owned[slot] = xstrdup(s);
	return c->owned[slot];
}

struct collect_ctx *collect_new(const struct collect_config *cfg, char *err, size_t errsz)
{
	struct collect_ctx *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	c->cfg.proc = own(c, 0, cfg->proc ? cfg->proc : "/proc");
	c->cfg.sys = own(c, 1, cfg->sys ? cfg->sys : "/sys");
	c->cfg.etc = own(c, 2, cfg->etc ? cfg->etc : "/etc");
	c->cfg.usr_lib = own(c, 3, cfg->usr_lib ? cfg->usr_lib : "/usr/lib");
	c->cfg.rootfs = own(c, 4, cfg->rootfs ? cfg->rootfs : "");
	c->cfg.only = own(c, 5, cfg->only);
	c->cfg.textfile_dir = own(c, 6, cfg->textfile_dir);
	c->cfg.enable = own(c, 7, cfg->enable);
	c->cfg.groups = NULL;
	c->cfg.ngroups = 0;
	hmap_init(&c->fams);
	hmap_init(&c->fdc);
	buf_init(&c->file, COLLECT_FILE_MAX);
	buf_init(&c->stat, COLLECT_FILE_MAX);
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		int on = c->cfg.only ? name_listed(c->cfg.only, collectors[i].name) : !collectors[i].off;
		if (c->cfg.enable && name_listed(c->cfg.enable, collectors[i].name))
			on = 1;
		c->enabled[i] = (unsigned char)on;
	}
	if (cfg->ngroups) {
		c->proc = collect_proc_new(cfg->groups, cfg->ngroups, err, errsz);
		if (!c->proc) {
			collect_free(c);
			return NULL;
		}
	}
	return c;
}

static void fam_free(void *p)
{
	struct cfam *f = p;
	buf_free(&f->samples);
	free(f->name);
	free(f);
}

void collect_free(struct collect_ctx *c)
{
	if (!c)
		return;
	hmap_free(&c->fams, fam_free);
	size_t it = 0, kl;
	const char *k;
	void *v;
	while (hmap_next(&c->fdc, &it, &k, &kl, &v))
		close(((struct cfd *)v)->fd);
	hmap_free(&c->fdc, free);
	free(c->list);
	buf_free(&c->file);
	buf_free(&c->stat);
	collect_proc_free(c->proc);
	for (size_t i = 0; i < sizeof(c->owned) / sizeof(c->owned[0]); i++)
		free(c->owned[i]);
	free(c);
}

const struct collect_config *collect_cfg(const struct collect_ctx *c)
{
	return &c->cfg;
}

struct collect_proc *collect_proc_state(struct collect_ctx *c)
{
	return c->proc;
}

void collect_family(struct collect_ctx *c, const char *name, const char *help, enum collect_type type)
{
	struct cfam *f = hmap_get(&c->fams, name, strlen(name));
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		f->name = xstrdup(name);
		buf_init(&f->samples, FAMILY_BYTES_MAX);
		hmap_put(&c->fams, name, strlen(name), f);
		if (c->nlist == c->caplist) {
			c->caplist = c->caplist ? c->caplist * 2 : 256;
			c->list = xreallocarray(c->list, c->caplist, sizeof(*c->list));
		}
		c->list[c->nlist++] = f;
	}
	if (f->gen != c->gen) {
		f->gen = c->gen;
		buf_reset(&f->samples);
		f->n = 0;
		snprintf(f->help, sizeof(f->help), "%s", help);
		f->type = type;
	}
	c->cur = f;
}

/* Append one encoded sample from name/value pairs in nv[0..2n). */
static int add_pairs(struct collect_ctx *c, double v, const char *const *nv, size_t n)
{
	struct cfam *f = c->cur;
	size_t mark = f->samples.len;
	int rc = buf_add_u8(&f->samples, (uint8_t)n);
	for (size_t i = 0; i < 2 * n && !rc; i++)
		rc = buf_add(&f->samples, nv[i], strlen(nv[i]) + 1);
	if (!rc)
		rc = buf_add(&f->samples, &v, sizeof(v));
	if (rc) {
		f->samples.len = mark;	/* drop the partial sample */
		return rc;
	}
	f->n++;
	c->nsamples++;
	return 0;
}

int collect_add(struct collect_ctx *c, double v, ...)
{
	const char *nv[2 * COLLECT_LABELS_MAX];
	size_t n = 0;
	va_list ap;
	va_start(ap, v);
	for (;;) {
		const char *name = va_arg(ap, const char *);
		if (!name)
			break;
		const char *val = va_arg(ap, const char *);
		if (n < COLLECT_LABELS_MAX) {
			nv[2 * n] = name;
			nv[2 * n + 1] = val ? val : "";
			n++;
		}
	}
	va_end(ap);
	return add_pairs(c, v, nv, n);
}

int collect_addv(struct collect_ctx *c, double v, const struct label *labels, size_t n)
{
	const char *nv[2 * COLLECT_LABELS_MAX];
	if (n > COLLECT_LABELS_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		nv[2 * i] = labels[i].name;
		nv[2 * i + 1] = labels[i].value;
	}
	return add_pairs(c, v, nv, n);
}

int collect_one(struct collect_ctx *c, const char *name, const char *help, enum collect_type type, double v)
{
	collect_family(c, name, help, type);
	return collect_add(c, v, NULL);
}

/*
 * procfs, sysfs and sysctl files are regenerated on every read from offset 0,
 * so they are opened once and re-read with pread: the path walk of open(2)
 * is most of the cost of a small sysfs file. A file that went away (device
 * removed) fails with ENODEV/ENOENT/ESTALE and is reopened once.
 */
#define FDCACHE_MAX 512	/* files kept open */

static int fd_get(struct collect_ctx *c, const char *path, int cache, int *cached)
{
	size_t pl = strlen(path);
	*cached = 0;
	if (cache) {
		struct cfd *f = hmap_get(&c->fdc, path, pl);
		if (f) {
			*cached = 1;
			f->gen = c->gen;
			return f->fd;
		}
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && cache && c->fdc.len < FDCACHE_MAX) {
		struct cfd *f = xmalloc(sizeof(*f));
		f->fd = fd;
		f->gen = c->gen;
		hmap_put(&c->fdc, path, pl, f);
		*cached = 1;
	}
	return fd;
}

static void fd_done(struct collect_ctx *c, const char *path, int fd, int cached, int gone)
{
	if (cached && gone)
		free(hmap_del(&c->fdc, path, strlen(path)));
	if (!cached || gone)
		close(fd);
}

/* Close the files no collector read in this run (devices that went away). */
static void fd_sweep(struct collect_ctx *c)
{
	size_t it = 0, kl;
	const char *k;
	void *v;
	while (hmap_next(&c->fdc, &it, &k, &kl, &v)) {
		struct cfd *f = v;
		if (f->gen == c->gen)
			continue;
		close(f->fd);
		free(hmap_del(&c->fdc, k, kl));
	}
}

static int fd_gone(int e)
{
	return e == ENODEV || e == ENOENT || e == ESTALE || e == EBADF || e == ENXIO;
}

/* Read the whole file at path into b (reset first). 0 or -errno. */
static int read_into(struct collect_ctx *c, const char *path, int cache, struct buf *b)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int cached;
		int fd = fd_get(c, path, cache, &cached);
		if (fd < 0)
			return -errno;
		buf_reset(b);
		ssize_t r = 0;
		off_t off = 0;
		for (;;) {
			if (buf_reserve(b, 65536) < 0) {
				fd_done(c, path, fd, cached, 0);
				return -E2BIG;
			}
			r = pread(fd, b->data + b->len, b->size - b->len - 1, off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			b->len += (size_t)r;
			off += r;
		}
		int e = r < 0 ? errno : 0;
		fd_done(c, path, fd, cached, r < 0 && fd_gone(e));
		if (r < 0 && cached && fd_gone(e))
			continue;	/* stale cached fd: reopen once */
		if (r < 0)
			return -e;
		b->data[b->len] = 0;
		return 0;
	}
	return -ENOENT;
}

static const char *read_rel(struct collect_ctx *c, const char *root, const char *rel, int cache, size_t *len)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	int rc = read_into(c, path, cache, &c->file);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	if (len)
		*len = c->file.len;
	return c->file.data;
}

const char *collect_read(struct collect_ctx *c, const char *root, const char *rel, size_t *len)
{
	return read_rel(c, root, rel, 1, len);
}

const char *collect_read_pid(struct collect_ctx *c, const char *rel, size_t *len)
{
	return read_rel(c, c->cfg.proc, rel, 0, len);
}

const char *collect_proc_stat(struct collect_ctx *c, size_t *len)
{
	if (c->stat_gen != c->gen) {
		char path[4096];
		if (snprintf(path, sizeof(path), "%s/stat", c->cfg.proc) >= (int)sizeof(path)) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		int rc = read_into(c, path, 1, &c->stat);
		if (rc < 0) {
			errno = -rc;
			return NULL;
		}
		c->stat_gen = c->gen;
	}
	if (len)
		*len = c->stat.len;
	return c->stat.data;
}

const char *collect_read_once(struct collect_ctx *c, const char *root, const char *rel, size_t *len)
{
	return read_rel(c, root, rel, 0, len);
}

int collect_read_small(struct collect_ctx *c, const char *root, const char *rel, char *out, size_t outsz)
{
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/%s", root, rel);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	for (int attempt = 0; attempt < 2; attempt++) {
		int cached;
		int fd = fd_get(c, path, 1, &cached);
		if (fd < 0)
			return -errno;
		ssize_t r = pread(fd, out, outsz - 1, 0);
		int e = r < 0 ? errno : 0;
		fd_done(c, path, fd, cached, r < 0 && fd_gone(e));
		if (r < 0 && cached && fd_gone(e))
			continue;
		if (r < 0)
			return -e;
		out[r] = 0;
		while (r > 0 && (out[r - 1] == '\n' || out[r - 1] == ' '))
			out[--r] = 0;
		return 0;
	}
	return -ENOENT;
}

const char *collect_next_line(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	return nl ? nl + 1 : end;
}

int collect_run(struct collect_ctx *c)
{
	int failed = 0;
	c->gen++;
	c->nsamples = 0;
	for (size_t i = 0; i < NCOLLECTORS; i++) {
		if (!c->enabled[i])
			continue;
		int64_t t0 = clock_mono_ns();
		int rc = collectors[i].fn(c);
		c->dur[i] = (double)(clock_mono_ns() - t0) / 1e9;
		c->ok[i] = rc == 0;
		failed += rc != 0;
	}
	fd_sweep(c);
	collect_family(c, "node_scrape_collector_duration_seconds",
	    "node_exporter: Duration of a collector scrape.", COLLECT_GAUGE);
	for (size_t i = 0; i < NCOLLECTORS; i++)
		if (c->enabled[i])
			collect_add(c, c->dur[i], "collector", collectors[i].name, NULL);
	collect_family(c, "node_scrape_collector_success",
	    "node_exporter: Whether a collector succeeded.", COLLECT_GAUGE);
	for (size_t i = 0; i < NCOLLECTORS; i++)
		if (c->enabled[i])
			collect_add(c, c->ok[i] ? 1 : 0, "collector", collectors[i].name, NULL);
	return failed;
}

size_t collect_sample_count(const struct collect_ctx *c)
{
	return c->nsamples;
}

static int cmp_fam(const void *a, const void *b)
{
	return strcmp((*(struct cfam *const *)a)->name, (*(struct cfam *const *)b)->name);
}

/* Shortest text that reads back as the same double, Go-style for specials. */
static int add_value(struct buf *out, double v)
{
	char tmp[40];
	if (isnan(v))
		return buf_add(out, "NaN", 3);
	if (isinf(v))
		return buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	if (v == (double)(int64_t)v && fabs(v) < 1e15) {
		int n = snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
		return buf_add(out, tmp, (size_t)n);
	}
	int n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	return buf_add(out, tmp, (size_t)n);
}

static int add_escaped(struct buf *out, const char *s, int quote)
{
	int rc = 0;
	while (*s && !rc) {
		size_t run = strcspn(s, quote ? "\\\n\"" : "\\\n");
		if (run)
			rc = buf_add(out, s, run);
		s += run;
		if (!*s || rc)
			break;
		rc = buf_add(out, *s == '\n' ? "\\n" : *s == '"' ? "\\\"" : "\\\\", 2);
		s++;
	}
	return rc;
}

/* Walk the encoded samples of f; cb gets label pairs and the value. */
struct walk {
	const char *names[COLLECT_LABELS_MAX];	/* label names */
	const char *values[COLLECT_LABELS_MAX];	/* label values */
	size_t n;				/* labels */
	double v;				/* value */
};

static const char *walk_next(const char *p, struct walk *w)
{
	w->n = (unsigned char)*p++;
	for (size_t i = 0; i < w->n; i++) {
		w->names[i] = p;
		p += strlen(p) + 1;
		w->values[i] = p;
		p += strlen(p) + 1;
	}
	memcpy(&w->v, p, sizeof(double));
	return p + sizeof(double);
}

static void sort_fams(struct collect_ctx *c)
{
	qsort(c->list, c->nlist, sizeof(*c->list), cmp_fam);
}

int collect_render(struct collect_ctx *c, struct buf *out, int openmetrics)
{
	int rc = 0;
	sort_fams(c);
	for (size_t i = 0; i < c->nlist && !rc; i++) {
		struct cfam *f = c->list[i];
		if (f->gen != c->gen || !f->n)
			continue;
		size_t nl = strlen(f->name);
		const char *tname = f->type == COLLECT_COUNTER ? "counter" : f->type == COLLECT_GAUGE ? "gauge" :
		    f->type == COLLECT_HISTOGRAM ? "histogram" : f->type == COLLECT_SUMMARY ? "summary" :
		    openmetrics ? "unknown" : "untyped";
		size_t fl = nl;
		if (openmetrics && f->type == COLLECT_COUNTER) {
			/* OpenMetrics names the family without _total; counters
			 * without that suffix keep their name as unknown. */
			if (nl > 6 && !strcmp(f->name + nl - 6, "_total"))
				fl = nl - 6;
			else
				tname = "unknown";
		}
		rc = buf_add(out, "# HELP ", 7);
		rc = rc ? rc : buf_add(out, f->name, fl);
		rc = rc ? rc : buf_addc(out, ' ');
		rc = rc ? rc : add_escaped(out, f->help, openmetrics);
		rc = rc ? rc : buf_add(out, "\n# TYPE ", 8);
		rc = rc ? rc : buf_add(out, f->name, fl);
		rc = rc ? rc : buf_printf(out, " %s\n", tname);
		const char *p = f->samples.data, *end = p + f->samples.len;
		struct walk w;
		while (p < end && !rc) {
			p = walk_next(p, &w);
			size_t k0 = w.n && !strcmp(w.names[0], "__name__");	/* own sample name */
			rc = k0 ? buf_adds(out, w.values[0]) : buf_add(out, f->name, nl);
			if (w.n > k0) {
				rc = rc ? rc : buf_addc(out, '{');
				for (size_t k = k0; k < w.n && !rc; k++) {
					rc = k > k0 ? buf_addc(out, ',') : 0;
					rc = rc ? rc : buf_adds(out, w.names[k]);
					rc = rc ? rc : buf_add(out, "=\"", 2);
					rc = rc ? rc : add_escaped(out, w.values[k], 1);
					rc = rc ? rc : buf_addc(out, '"');
				}
				rc = rc ? rc : buf_addc(out, '}');
			}
			rc = rc ? rc : buf_addc(out, ' ');
			rc = rc ? rc : add_value(out, w.v);
			rc = rc ? rc : buf_addc(out, '\n');
		}
	}
	if (!rc && openmetrics)
		rc = buf_add(out, "# EOF\n", 6);
	return rc;
}

int collect_emit(struct collect_ctx *c, const struct sample_sink *sink, int64_t ts_ms)
{
	/* A label set on the stack: no allocation per sample. */
	union {
		struct labels ls;
		char raw[sizeof(struct labels) + (COLLECT_LABELS_MAX + 1) * sizeof(struct label)];
	} u;
	for (size_t i = 0; i < c->nlist; i++) {
		struct cfam *f = c->list[i];
		if (f->gen != c->gen)
			continue;
		const char *p = f->samples.data, *end = p + f->samples.len;
		struct walk w;
		while (p < end) {
			p = walk_next(p, &w);
			size_t n = 0;
			struct label *v = u.ls.v;
			size_t k0 = w.n && !strcmp(w.names[0], "__name__");	/* own sample name */
			v[n++] = (struct label){ "__name__", k0 ? w.values[0] : f->name };
			for (size_t k = k0; k < w.n; k++)
				if (w.values[k][0])	/* stored sets never hold empty values */
					v[n++] = (struct label){ w.names[k], w.values[k] };
			for (size_t a = 1; a < n; a++)	/* insertion sort by name */
				for (size_t b = a; b > 0 && strcmp(v[b - 1].name, v[b].name) > 0; b--) {
					struct label x = v[b];
					v[b] = v[b - 1];
					v[b - 1] = x;
				}
			u.ls.n = n;
			int rc = sink->add(sink->ctx, &u.ls, ts_ms, w.v);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}
