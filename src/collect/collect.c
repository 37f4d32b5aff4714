/* collect.c — collector registry, the family table, rendering and emitting; see collect.h. */
#include "collect/collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/xmalloc.h"

#define FAMILY_BYTES_MAX (16u << 20)	/* encoded samples of one family */
#define HELP_MAX 512			/* bytes of one HELP text */
#define MISSING_RECHECK_MS 30000	/* a missing /proc or /sys file is looked for again after this long */
#define MISSING_MAX 1024		/* missing paths remembered */
#define PROC_MAGIC 0x9fa0		/* procfs f_type (linux/magic.h PROC_SUPER_MAGIC) */
#define SEQ_PAGE 4096			/* smallest seq_file buffer (one page) */
#define SEQ_RECORD_MAX 512		/* longest record of the multi-record files listed in fd_kind */

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
	struct cfam *next_hint;	/* family selected after this one in the last run */
	struct buf text;	/* this family rendered (HELP, TYPE, samples) */
	struct buf text_src;	/* the encoded samples text was rendered from */
	int text_fmt;		/* format of text: 0 Prometheus, 1 OpenMetrics, -1 none */
};

/*
 * How the end of a kept-open file is known without a read that returns 0
 * (for /proc/net/udp that second read walks the whole socket hash again).
 */
enum fd_kind {
	FDK_FILE,	/* regular, sysfs or sysctl file: a short read is the end */
	FDK_SEQ_ONE,	/* procfs file made by one show call: a short read is the end */
	FDK_SEQ,	/* procfs records of at most SEQ_RECORD_MAX bytes: a read of at
			 * most SEQ_PAGE - SEQ_RECORD_MAX bytes is the end */
	FDK_SEQ_ANY,	/* procfs, records of any length: read until 0 */
	FDK_MOUNTS,	/* a mount table: re-read only when poll(2) says it changed */
};

/* A file replaced by rename (os-release, udev's database, textfiles): its
 * content is kept with the identity it was read under. */
struct conce {
	dev_t dev;		/* st_dev */
	ino_t ino;		/* st_ino: a rename-replace makes a new inode */
	struct timespec mtime;	/* st_mtim: an in-place rewrite changes it */
	off_t size;		/* st_size */
	unsigned gen;		/* run that last read it */
	struct buf content;	/* the bytes */
};

#define ONCE_MAX 256		/* read-once files remembered */

/* A directory kept open between runs. */
struct cdir {
	DIR *d;		/* the open directory */
	unsigned gen;	/* run that last listed it; unlisted for a whole run: closed */
};

/* A file kept open between runs. */
struct cfd {
	int fd;			/* the open file */
	unsigned gen;		/* run that last read it; unread for a whole run: closed */
	enum fd_kind kind;	/* how its end is found */
	struct buf *kept;	/* FDK_MOUNTS: the content last read, or NULL */
};

static void cfd_close(struct cfd *f);

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
	char *owned[9];			/* strings copied into cfg */
	struct hmap fams;		/* name -> struct cfam */
	struct cfam **list;		/* every family ever seen */
	size_t nlist;			/* entries in list */
	size_t caplist;			/* slots in list */
	struct cfam *cur;		/* family samples go to */
	struct cfam *first_hint;	/* first family selected in the last run */
	int sorted;			/* list is sorted by name */
	unsigned gen;			/* current run */
	struct buf file;		/* file read buffer */
	struct buf stat;		/* /proc/stat of this run (cpu, stat and self all read it) */
	unsigned stat_gen;		/* run that filled stat; 0: never */
	struct hmap fdc;		/* path -> struct cfd: files kept open and re-read with pread */
	struct hmap miss;		/* path -> int64_t *: missing until this monotonic ms */
	struct hmap dirs;		/* path -> struct cdir: directories kept open */
	struct hmap once;		/* path -> struct conce: read-once files by identity */
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
	c->cfg.systemd_bus = own(c, 8, cfg->systemd_bus);
	c->cfg.groups = NULL;
	c->cfg.ngroups = 0;
	hmap_init(&c->fams);
	hmap_init(&c->fdc);
	hmap_init(&c->miss);
	hmap_init(&c->dirs);
	hmap_init(&c->once);
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
	buf_free(&f->text);
	buf_free(&f->text_src);
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
		cfd_close(v);
	hmap_free(&c->fdc, NULL);
	hmap_free(&c->miss, free);
	it = 0;
	while (hmap_next(&c->dirs, &it, &k, &kl, &v))
		closedir(((struct cdir *)v)->d);
	hmap_free(&c->dirs, free);
	it = 0;
	while (hmap_next(&c->once, &it, &k, &kl, &v))
		buf_free(&((struct conce *)v)->content);
	hmap_free(&c->once, free);
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
	/* Collectors select families in the same order every run: try the
	 * one that followed the current family last time before hashing. */
	struct cfam *f = c->cur ? c->cur->next_hint : c->first_hint;
	if (!f || strcmp(f->name, name) != 0)
		f = hmap_get(&c->fams, name, strlen(name));
	if (!f) {
		f = xcalloc(1, sizeof(*f));
		f->name = xstrdup(name);
		f->text_fmt = -1;
		buf_init(&f->samples, FAMILY_BYTES_MAX);
		buf_init(&f->text, COLLECT_RENDER_MAX);
		buf_init(&f->text_src, FAMILY_BYTES_MAX);
		hmap_put(&c->fams, name, strlen(name), f);
		if (c->nlist == c->caplist) {
			c->caplist = c->caplist ? c->caplist * 2 : 256;
			c->list = xreallocarray(c->list, c->caplist, sizeof(*c->list));
		}
		c->list[c->nlist++] = f;
		c->sorted = 0;
	}
	if (c->cur)
		c->cur->next_hint = f;
	else
		c->first_hint = f;
	if (f->gen != c->gen) {
		f->gen = c->gen;
		buf_reset(&f->samples);
		f->n = 0;
		size_t hl = strnlen(help, HELP_MAX - 1);
		if (memcmp(f->help, help, hl) != 0 || f->help[hl] || f->type != type) {
			memcpy(f->help, help, hl);
			f->help[hl] = 0;
			f->type = type;
			f->text_fmt = -1;	/* the cached rendering has the old HELP or TYPE */
		}
	}
	c->cur = f;
}

/* Append one encoded sample from name/value pairs in nv[0..2n). */
static int add_pairs(struct collect_ctx *c, double v, const char *const *nv, size_t n)
{
	struct cfam *f = c->cur;
	size_t len[2 * COLLECT_LABELS_MAX], need = 1 + sizeof(v);
	for (size_t i = 0; i < 2 * n; i++) {
		len[i] = strlen(nv[i]) + 1;
		need += len[i];
	}
	/* one reservation, then plain copies: this runs for every sample */
	int rc = buf_reserve(&f->samples, need);
	if (rc)
		return rc;
	char *w = f->samples.data + f->samples.len;
	*w++ = (char)(uint8_t)n;
	for (size_t i = 0; i < 2 * n; i++) {
		memcpy(w, nv[i], len[i]);
		w += len[i];
	}
	memcpy(w, &v, sizeof(v));
	f->samples.len += need;
	f->samples.data[f->samples.len] = '\0';
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
 * removed) fails with ENODEV/ENOENT/ESTALE and is reopened once. A file
 * that does not exist is not looked for again for MISSING_RECHECK_MS (a
 * VM has no cpufreq; asking sysfs 12 times a run costs a path walk each).
 */
#define FDCACHE_MAX 512	/* files kept open */

static void cfd_close(struct cfd *f)
{
	close(f->fd);
	if (f->kept) {
		buf_free(f->kept);
		free(f->kept);
	}
	free(f);
}

/* 1 if path ends with "/name" (or is name). */
static int path_is(const char *path, size_t pl, const char *name)
{
	size_t n = strlen(name);
	return pl >= n && !memcmp(path + pl - n, name, n) && (pl == n || path[pl - n - 1] == '/');
}

/* How the end of the open file fd at path is found (see enum fd_kind). */
static enum fd_kind fd_kind(int fd, const char *path, size_t pl)
{
	/* single_open() files: the whole text is made by one show call
	 * (/proc/stat, meminfo, loadavg, net/{netstat,snmp,snmp6,sockstat*},
	 * pressure files, PID/stat) */
	static const char *const one[] = { "stat", "meminfo", "loadavg", "netstat", "snmp", "snmp6",
		"sockstat", "sockstat6", "cpu", "io", "memory", "irq", NULL };
	/* seq_file files of many records, each a short line of numbers (vmstat
	 * is one line per counter and passes a page on newer kernels) */
	static const char *const seq[] = { "vmstat", "diskstats", "dev", "arp", "udp", "udp6", "softnet_stat",
		"nf_conntrack", NULL };
	struct statfs sf;
	if (fstatfs(fd, &sf) < 0 || sf.f_type != PROC_MAGIC)
		return FDK_FILE;
	if (strstr(path, "/sys/"))
		return FDK_FILE;	/* /proc/sys: sysctl, not seq_file */
	if (path_is(path, pl, "mounts") || path_is(path, pl, "mountinfo"))
		return FDK_MOUNTS;
	for (size_t i = 0; one[i]; i++)
		if (path_is(path, pl, one[i]))
			return FDK_SEQ_ONE;
	for (size_t i = 0; seq[i]; i++)
		if (path_is(path, pl, seq[i]))
			return FDK_SEQ;
	return FDK_SEQ_ANY;
}

/* 1 if path was missing recently enough not to look again. */
static int fd_missing(struct collect_ctx *c, const char *path, size_t pl)
{
	if (!c->miss.len)
		return 0;
	int64_t *until = hmap_get(&c->miss, path, pl);
	if (!until)
		return 0;
	if (clock_mono_ms() < *until)
		return 1;
	free(hmap_del(&c->miss, path, pl));
	return 0;
}

static struct cfd *fd_get(struct collect_ctx *c, const char *path, size_t pl, int cache, int *fd)
{
	if (cache) {
		struct cfd *f = hmap_get(&c->fdc, path, pl);
		if (f) {
			f->gen = c->gen;
			*fd = f->fd;
			return f;
		}
		if (fd_missing(c, path, pl)) {
			errno = ENOENT;
			*fd = -1;
			return NULL;
		}
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		int e = errno;
		if (cache && e == ENOENT && c->miss.len < MISSING_MAX) {
			int64_t *until = xmalloc(sizeof(*until));
			*until = clock_mono_ms() + MISSING_RECHECK_MS;
			free(hmap_put(&c->miss, path, pl, until));
		}
		errno = e;
		return NULL;
	}
	if (!cache || c->fdc.len >= FDCACHE_MAX)
		return NULL;
	struct cfd *f = xcalloc(1, sizeof(*f));
	f->fd = *fd;
	f->gen = c->gen;
	f->kind = fd_kind(*fd, path, pl);
	hmap_put(&c->fdc, path, pl, f);
	return f;
}

/* Done with fd (cached as f, or NULL); gone: the file went away. */
static void fd_done(struct collect_ctx *c, const char *path, size_t pl, int fd, struct cfd *f, int gone)
{
	if (f && gone) {
		hmap_del(&c->fdc, path, pl);
		cfd_close(f);	/* closes fd */
	} else if (!f) {
		close(fd);
	}
}

DIR *collect_opendir(struct collect_ctx *c, const char *path)
{
	size_t pl = strlen(path);
	struct cdir *x = hmap_get(&c->dirs, path, pl);
	if (x) {
		x->gen = c->gen;
		rewinddir(x->d);
		return x->d;
	}
	if (fd_missing(c, path, pl)) {
		errno = ENOENT;
		return NULL;
	}
	DIR *d = opendir(path);
	if (!d) {
		int e = errno;
		if (e == ENOENT && c->miss.len < MISSING_MAX) {
			int64_t *until = xmalloc(sizeof(*until));
			*until = clock_mono_ms() + MISSING_RECHECK_MS;
			free(hmap_put(&c->miss, path, pl, until));
		}
		errno = e;
		return NULL;
	}
	if (c->dirs.len >= FDCACHE_MAX)
		return d;	/* not kept: collect_closedir closes it */
	x = xmalloc(sizeof(*x));
	x->d = d;
	x->gen = c->gen;
	hmap_put(&c->dirs, path, pl, x);
	return d;
}

void collect_closedir(struct collect_ctx *c, DIR *d)
{
	if (!d)
		return;
	size_t it = 0, kl;
	const char *k;
	void *v;
	while (hmap_next(&c->dirs, &it, &k, &kl, &v))
		if (((struct cdir *)v)->d == d)
			return;	/* kept for the next run */
	closedir(d);
}

/* Close the files and directories no collector read in this run (devices that went away). */
static void fd_sweep(struct collect_ctx *c)
{
	size_t it = 0, kl;
	const char *k;
	void *v;
	while (hmap_next(&c->fdc, &it, &k, &kl, &v)) {
		struct cfd *f = v;
		if (f->gen == c->gen)
			continue;
		hmap_del(&c->fdc, k, kl);
		cfd_close(f);
	}
	it = 0;
	while (hmap_next(&c->dirs, &it, &k, &kl, &v)) {
		struct cdir *x = v;
		if (x->gen == c->gen)
			continue;
		closedir(x->d);
		free(hmap_del(&c->dirs, k, kl));
	}
	it = 0;
	while (hmap_next(&c->once, &it, &k, &kl, &v)) {
		struct conce *o = v;
		if (o->gen == c->gen)
			continue;
		buf_free(&o->content);
		free(hmap_del(&c->once, k, kl));
	}
}

static int fd_gone(int e)
{
	return e == ENODEV || e == ENOENT || e == ESTALE || e == EBADF || e == ENXIO;
}

/* 1 if a read of r bytes (less than asked) from a file of this kind is its end. */
static int short_read_ends(enum fd_kind k, ssize_t r)
{
	return k == FDK_FILE || k == FDK_SEQ_ONE || (k == FDK_SEQ && r <= SEQ_PAGE - SEQ_RECORD_MAX);
}

/* FDK_MOUNTS: 1 if the content kept from the last read is still current. */
static int mounts_unchanged(struct cfd *f)
{
	if (!f || f->kind != FDK_MOUNTS || !f->kept)
		return 0;
	struct pollfd p = { .fd = f->fd, .events = POLLPRI };
	/* the kernel flags POLLERR|POLLPRI once after the mount table changed */
	int n = poll(&p, 1, 0);
	return n == 0 || (n == 1 && !(p.revents & (POLLERR | POLLPRI)));
}

/* Read the whole file at path into b (reset first). 0 or -errno. */
static int read_into(struct collect_ctx *c, const char *path, size_t pl, int cache, struct buf *b)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd;
		struct cfd *f = fd_get(c, path, pl, cache, &fd);
		if (fd < 0)
			return -errno;
		buf_reset(b);
		if (mounts_unchanged(f)) {
			if (buf_add(b, f->kept->data, f->kept->len) < 0)
				return -E2BIG;
			return 0;
		}
		enum fd_kind kind = f ? f->kind : FDK_SEQ_ANY;
		ssize_t r = 0;
		off_t off = 0;
		for (;;) {
			if (buf_reserve(b, 65536) < 0) {
				fd_done(c, path, pl, fd, f, 0);
				return -E2BIG;
			}
			size_t want = b->size - b->len - 1;
			r = pread(fd, b->data + b->len, want, off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				break;
			b->len += (size_t)r;
			off += r;
			if ((size_t)r < want && short_read_ends(kind, r)) {
				r = 0;
				break;
			}
		}
		int e = r < 0 ? errno : 0;
		int gone = r < 0 && fd_gone(e);
		if (!gone && r == 0 && f && kind == FDK_MOUNTS) {
			if (!f->kept) {
				f->kept = xmalloc(sizeof(*f->kept));
				buf_init(f->kept, COLLECT_FILE_MAX);
			}
			buf_reset(f->kept);
			if (buf_add(f->kept, b->data, b->len) < 0)
				buf_reset(f->kept);
		}
		fd_done(c, path, pl, fd, f, gone);
		if (gone && f)
			continue;	/* stale cached fd: reopen once */
		if (r < 0)
			return -e;
		b->data[b->len] = 0;
		return 0;
	}
	return -ENOENT;
}

/* path = root "/" rel; the length, or -ENAMETOOLONG. */
static ssize_t join(char *path, size_t size, const char *root, const char *rel)
{
	size_t a = strlen(root), r = strlen(rel);
	if (a + 1 + r + 1 > size)
		return -ENAMETOOLONG;
	memcpy(path, root, a);
	path[a] = '/';
	memcpy(path + a + 1, rel, r + 1);
	return (ssize_t)(a + 1 + r);
}

static const char *read_rel(struct collect_ctx *c, const char *root, const char *rel, int cache, size_t *len)
{
	char path[4096];
	ssize_t pl = join(path, sizeof(path), root, rel);
	if (pl < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	int rc = read_into(c, path, (size_t)pl, cache, &c->file);
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
		ssize_t pl = join(path, sizeof(path), c->cfg.proc, "stat");
		if (pl < 0) {
			errno = ENAMETOOLONG;
			return NULL;
		}
		int rc = read_into(c, path, (size_t)pl, 1, &c->stat);
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

/*
 * A stat tells whether the file is the one read before (same device, inode,
 * size and modification time, last modified over a second ago): then its
 * kept bytes are returned without an open. A missing file is remembered
 * like the kept-open ones.
 */
const char *collect_read_once(struct collect_ctx *c, const char *root, const char *rel, size_t *len)
{
	char path[4096];
	ssize_t pl = join(path, sizeof(path), root, rel);
	if (pl < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if (fd_missing(c, path, (size_t)pl)) {
		errno = ENOENT;
		return NULL;
	}
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		if (e == ENOENT && c->miss.len < MISSING_MAX) {
			int64_t *until = xmalloc(sizeof(*until));
			*until = clock_mono_ms() + MISSING_RECHECK_MS;
			free(hmap_put(&c->miss, path, (size_t)pl, until));
		}
		errno = e;
		return NULL;
	}
	struct conce *o = hmap_get(&c->once, path, (size_t)pl);
	/* mtime has the file system's clock granularity (a jiffy on ext4): a
	 * file changed in the last second could be rewritten in place with the
	 * same size and mtime, so it is read again until it is older */
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	int settled = now.tv_sec - st.st_mtim.tv_sec > 1;
	if (o && settled && o->dev == st.st_dev && o->ino == st.st_ino && o->size == st.st_size &&
	    o->mtime.tv_sec == st.st_mtim.tv_sec && o->mtime.tv_nsec == st.st_mtim.tv_nsec) {
		o->gen = c->gen;
		buf_reset(&c->file);
		if (buf_add(&c->file, o->content.data ? o->content.data : "", o->content.len) < 0)
			return NULL;
		if (len)
			*len = c->file.len;
		return c->file.data;
	}
	const char *p = read_rel(c, root, rel, 0, len);
	if (!p || (!o && c->once.len >= ONCE_MAX))
		return p;
	if (!o) {
		o = xcalloc(1, sizeof(*o));
		buf_init(&o->content, COLLECT_FILE_MAX);
		hmap_put(&c->once, path, (size_t)pl, o);
	}
	/* the identity is the one from before the read: a change during the
	 * read makes the next run read again */
	o->dev = st.st_dev;
	o->ino = st.st_ino;
	o->size = st.st_size;
	o->mtime = st.st_mtim;
	o->gen = c->gen;
	buf_reset(&o->content);
	if (buf_add(&o->content, c->file.data, c->file.len) < 0)
		o->size = -1;	/* never matches: read again next time */
	return p;
}

int collect_read_small(struct collect_ctx *c, const char *root, const char *rel, char *out, size_t outsz)
{
	char path[4096];
	ssize_t pl = join(path, sizeof(path), root, rel);
	if (pl < 0)
		return -ENAMETOOLONG;
	for (int attempt = 0; attempt < 2; attempt++) {
		int fd;
		struct cfd *f = fd_get(c, path, (size_t)pl, 1, &fd);
		if (fd < 0)
			return -errno;
		ssize_t r = pread(fd, out, outsz - 1, 0);
		int e = r < 0 ? errno : 0;
		int gone = r < 0 && fd_gone(e);
		fd_done(c, path, (size_t)pl, fd, f, gone);
		if (gone && f)
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

double collect_num(const char *s, char **end)
{
	const char *p = s;
	while (*p == ' ' || *p == '\t')
		p++;
	int neg = *p == '-';
	const char *d = p + neg, *q = d;
	uint64_t u = 0;
	while (*q >= '0' && *q <= '9' && q - d < 15)
		u = u * 10 + (uint64_t)(*q++ - '0');
	/* anything but a short integer (a fraction, an exponent, hex, inf,
	 * nan, 16+ digits) is strtod's */
	if (q == d || (*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' || *q == 'x' || *q == 'X')
		return strtod(s, end);
	if (end)
		*end = (char *)(uintptr_t)q;
	return neg ? -(double)u : (double)u;
}

int collect_nums(const char *s, double *v, int n)
{
	for (int i = 0; i < n; i++) {
		char *e;
		v[i] = collect_num(s, &e);
		if (e == s)
			return -1;
		s = e;
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
	}
	return 0;
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
	c->cur = NULL;
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

/* Decimal digits of u into the end of tmp[0..40); return where they start. */
static char *utoa_end(char *end, uint64_t u)
{
	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	return end;
}

/*
 * A value with at most 15 significant digits and |v| in [1e-4, 1e15) is
 * printed by "%.15g" as its shortest decimal in fixed notation: find it as
 * r / 10^d with r integral (the division is correctly rounded, so it equals
 * v exactly when the decimal reads back as v). 0 if v is not such a value.
 */
static int fixed_value(char *tmp, size_t *n, double v)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double a = fabs(v);
	if (!(a >= 1e-4 && a < 1e14))
		return 0;
	for (int d = 1; d <= 9; d++) {
		double x = a * p10[d];
		if (x >= 1e15)
			return 0;
		uint64_t r = (uint64_t)(x + 0.5);
		if ((double)r / p10[d] != a)
			continue;
		char digits[40], *e = digits + sizeof(digits), *b = utoa_end(e, r);
		size_t nd = (size_t)(e - b), k = 0;
		if (v < 0)
			tmp[k++] = '-';
		if (nd <= (size_t)d) {	/* 0.00ddd */
			tmp[k++] = '0';
			tmp[k++] = '.';
			for (size_t z = nd; z < (size_t)d; z++)
				tmp[k++] = '0';
			memcpy(tmp + k, b, nd);
			k += nd;
		} else {
			memcpy(tmp + k, b, nd - (size_t)d);
			k += nd - (size_t)d;
			tmp[k++] = '.';
			memcpy(tmp + k, e - d, (size_t)d);
			k += (size_t)d;
		}
		*n = k;
		return 1;
	}
	return 0;
}

/* Shortest text that reads back as the same double, Go-style for specials. */
static int add_value(struct buf *out, double v)
{
	char tmp[48];
	if (isnan(v))
		return buf_add(out, "NaN", 3);
	if (isinf(v))
		return buf_adds(out, v > 0 ? "+Inf" : "-Inf");
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		int64_t i = (int64_t)v;
		char *e = tmp + sizeof(tmp), *b = utoa_end(e, i < 0 ? (uint64_t)-i : (uint64_t)i);
		if (i < 0)
			*--b = '-';
		return buf_add(out, b, (size_t)(e - b));
	}
	size_t fn;
	if (fixed_value(tmp, &fn, v))
		return buf_add(out, tmp, fn);
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
	if (!c->sorted)
		qsort(c->list, c->nlist, sizeof(*c->list), cmp_fam);
	c->sorted = 1;
}

#define LINE_SCRATCH 2048	/* a sample line built on the stack before one append */

/*
 * The common sample line (short, no character to escape) built in one
 * stack buffer and appended at once. Return 1 if done (*rc says how), 0 if
 * the line needs the general path.
 */
static int line_fast(struct buf *out, const char *name, size_t nl, const struct walk *w, size_t k0, int *rc)
{
	char line[LINE_SCRATCH];
	size_t k = 0;
	const char *nm = k0 ? w->values[0] : name;
	size_t ml = k0 ? strlen(nm) : nl;
	if (ml + 64 > sizeof(line))
		return 0;
	memcpy(line, nm, ml);
	k = ml;
	if (w->n > k0) {
		line[k++] = '{';
		for (size_t i = k0; i < w->n; i++) {
			size_t ln = strlen(w->names[i]), lv = strlen(w->values[i]);
			if (k + ln + lv + 80 > sizeof(line) || w->values[i][strcspn(w->values[i], "\\\n\"")])
				return 0;
			if (i > k0)
				line[k++] = ',';
			memcpy(line + k, w->names[i], ln);
			k += ln;
			line[k++] = '=';
			line[k++] = '"';
			memcpy(line + k, w->values[i], lv);
			k += lv;
			line[k++] = '"';
		}
		line[k++] = '}';
	}
	line[k++] = ' ';
	struct buf vb;	/* the value, formatted into the line's tail */
	vb.data = line + k;
	vb.len = 0;
	vb.size = sizeof(line) - k;
	vb.cap = vb.size - 2;
	if (add_value(&vb, w->v) < 0)
		return 0;
	k += vb.len;
	line[k++] = '\n';
	*rc = buf_add(out, line, k);
	return 1;
}

/* Append family f (HELP, TYPE and its samples) to out. 0 or -E2BIG. */
static int render_family(const struct cfam *f, struct buf *out, int openmetrics)
{
	int rc = 0;
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
	rc = rc ? rc : buf_addc(out, ' ');
	rc = rc ? rc : buf_adds(out, tname);
	rc = rc ? rc : buf_addc(out, '\n');
	const char *p = f->samples.data, *end = p + f->samples.len;
	struct walk w;
	while (p < end && !rc) {
		p = walk_next(p, &w);
		size_t k0 = w.n && !strcmp(w.names[0], "__name__");	/* own sample name */
		if (line_fast(out, f->name, nl, &w, k0, &rc))
			continue;
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
	return rc;
}

/*
 * Each family keeps its last rendering and the encoded samples it came
 * from: a family whose samples did not change since (labels and values
 * byte for byte: node_network_info, filesystem sizes, most counters of an
 * idle host) is copied, not formatted again.
 */
int collect_render(struct collect_ctx *c, struct buf *out, int openmetrics)
{
	int rc = 0;
	sort_fams(c);
	for (size_t i = 0; i < c->nlist && !rc; i++) {
		struct cfam *f = c->list[i];
		if (f->gen != c->gen || !f->n)
			continue;
		if (f->text_fmt != openmetrics || f->text_src.len != f->samples.len ||
		    memcmp(f->text_src.data, f->samples.data, f->samples.len) != 0) {
			buf_reset(&f->text);
			buf_reset(&f->text_src);
			f->text_fmt = -1;
			rc = render_family(f, &f->text, openmetrics);
			if (!rc)
				rc = buf_add(&f->text_src, f->samples.data, f->samples.len);
			if (rc)
				break;
			f->text_fmt = openmetrics;
		}
		rc = buf_add(out, f->text.data, f->text.len);
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
