/* filesystem.c — node_filesystem_* from statfs(2) of the real mounts in /proc/1/mounts. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "collect/collect.h"

#define FS_MAX 512		/* mounts reported */
#define FS_STR_MAX 512		/* bytes of a device or mount point */
#define FS_REMOTE_TIMEOUT_MS 2000	/* longest wait for statfs of a network filesystem */
#define FS_STUCK_MAX 64		/* network mounts whose statfs is still hanging */

/*
 * statfs of a hung NFS (or CIFS, FUSE, ...) server blocks for minutes, and
 * would stall every collection. Network filesystems are stat'ed in a
 * helper thread with a deadline; a mount whose stat is still hanging is
 * reported as a device error, without a new thread, until it returns
 * (node_exporter's "unresponsive mount" handling).
 */
struct remote_stat {
	char path[FS_STR_MAX + 4096];	/* what to stat */
	struct statvfs st;		/* result */
	int rc;				/* statvfs return */
	int done;			/* the thread finished */
	int abandoned;			/* the collector gave up waiting: the thread frees this */
};

static pthread_mutex_t remote_mu = PTHREAD_MUTEX_INITIALIZER;	/* guards the two below and remote_stat */
static pthread_cond_t remote_cv = PTHREAD_COND_INITIALIZER;	/* signalled when a thread finishes */
static char *stuck[FS_STUCK_MAX];	/* paths with a hanging stat */

static int is_remote(const char *t)
{
	static const char *const r[] = { "nfs", "nfs4", "cifs", "smb3", "smbfs", "ceph", "glusterfs", "9p", "afs",
		"lustre", "gpfs", "davfs", "sshfs", NULL };
	if (!strncmp(t, "fuse.", 5))
		return 1;
	for (size_t i = 0; r[i]; i++)
		if (!strcmp(t, r[i]))
			return 1;
	return 0;
}

static void stuck_set(const char *path, int on)
{
	for (size_t i = 0; i < FS_STUCK_MAX; i++) {
		if (on && !stuck[i]) {
			stuck[i] = strdup(path);
			return;
		}
		if (!on && stuck[i] && !strcmp(stuck[i], path)) {
			free(stuck[i]);
			stuck[i] = NULL;
			return;
		}
	}
}

static int stuck_has(const char *path)
{
	for (size_t i = 0; i < FS_STUCK_MAX; i++)
		if (stuck[i] && !strcmp(stuck[i], path))
			return 1;
	return 0;
}

static void *remote_thread(void *arg)
{
	struct remote_stat *r = arg;
	int rc = statvfs(r->path, &r->st);
	pthread_mutex_lock(&remote_mu);
	r->rc = rc;
	r->done = 1;
	if (r->abandoned) {
		stuck_set(r->path, 0);
		free(r);
	} else {
		pthread_cond_broadcast(&remote_cv);
	}
	pthread_mutex_unlock(&remote_mu);
	return NULL;
}

/* statvfs with a deadline; -1 on error, timeout or a still-hanging earlier stat. */
static int statvfs_deadline(const char *path, struct statvfs *st)
{
	pthread_mutex_lock(&remote_mu);
	int busy = stuck_has(path);
	pthread_mutex_unlock(&remote_mu);
	if (busy)
		return -1;
	struct remote_stat *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	snprintf(r->path, sizeof(r->path), "%s", path);
	pthread_t th;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &at, remote_thread, r) != 0) {
		pthread_attr_destroy(&at);
		free(r);
		return -1;
	}
	pthread_attr_destroy(&at);
	struct timespec dl;
	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += FS_REMOTE_TIMEOUT_MS / 1000;
	dl.tv_nsec += (long)(FS_REMOTE_TIMEOUT_MS % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L)
		dl.tv_sec++, dl.tv_nsec -= 1000000000L;
	int rc = -1;
	pthread_mutex_lock(&remote_mu);
	while (!r->done)
		if (pthread_cond_timedwait(&remote_cv, &remote_mu, &dl) == ETIMEDOUT)
			break;
	if (r->done) {
		rc = r->rc;
		*st = r->st;
		free(r);
	} else {
		r->abandoned = 1;	/* the thread frees it when statfs returns */
		stuck_set(path, 1);
	}
	pthread_mutex_unlock(&remote_mu);
	return rc;
}

struct fsent {
	char dev[FS_STR_MAX];	/* device label */
	char mnt[FS_STR_MAX];	/* mountpoint label */
	char type[64];		/* fstype label */
	int err;		/* statfs failed */
	int ro;			/* read-only: mount options or statfs */
	int ro_opts;		/* the mount options say ro */
	double size, freeb, avail, files, ffree;	/* statfs results (bytes, inodes) */
};

/* node_exporter's default --collector.filesystem.fs-types-exclude */
static int fstype_excluded(const char *t)
{
	static const char *const ex[] = { "autofs", "binfmt_misc", "bpf", "cgroup", "cgroup2", "configfs",
		"debugfs", "devpts", "devtmpfs", "fusectl", "hugetlbfs", "iso9660", "mqueue", "nsfs", "overlay",
		"proc", "procfs", "pstore", "rpc_pipefs", "securityfs", "selinuxfs", "squashfs", "sysfs", "tracefs", NULL };
	for (size_t i = 0; ex[i]; i++)
		if (!strcmp(t, ex[i]))
			return 1;
	return 0;
}

/* Default mount-points-exclude: ^/(dev|proc|run|sys|mnt|media|var/lib/docker/.+|var/lib/containers/storage/.+)($|/) */
static int mount_excluded(const char *m)
{
	static const char *const ex[] = { "/dev", "/proc", "/run", "/sys", "/mnt", "/media", NULL };
	for (size_t i = 0; ex[i]; i++) {
		size_t n = strlen(ex[i]);
		if (!strncmp(m, ex[i], n) && (m[n] == 0 || m[n] == '/'))
			return 1;
	}
	if (!strncmp(m, "/var/lib/docker/", 16) && m[16])
		return 1;
	if (!strncmp(m, "/var/lib/containers/storage/", 28) && m[28])
		return 1;
	return 0;
}

/* Undo the octal escapes of /proc/mounts (\040 is a space) in place. */
static void unoctal(char *s)
{
	char *w = s;
	for (char *r = s; *r; r++) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '7' && r[2] >= '0' && r[2] <= '7' && r[3] >= '0' && r[3] <= '7') {
			*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
			r += 3;
		} else {
			*w++ = *r;
		}
	}
	*w = 0;
}

int collect_filesystem(struct collect_ctx *c)
{
	static struct fsent fs[FS_MAX];	/* reused between runs */
	size_t n = 0, len;
	const struct collect_config *cfg = collect_cfg(c);
	const char *p = collect_read(c, cfg->proc, "1/mounts", &len);
	if (!p)
		p = collect_read(c, cfg->proc, "mounts", &len);
	if (!p)
		return -1;
	/* The mount table rarely changes: parse it again only when it did
	 * (the parse depends on nothing but the text). */
	static char last[COLLECT_FILE_MAX];
	static size_t last_len, last_n;
	static int parsed;
	if (parsed && len == last_len && !memcmp(p, last, len)) {
		n = last_n;
		goto stat_mounts;
	}
	const char *end = p + len;
	for (const char *q = p; q < end && n < FS_MAX; q = collect_next_line(q, end)) {
		struct fsent *f = &fs[n];
		char opts[1024];
		if (sscanf(q, "%511s %511s %63s %1023s", f->dev, f->mnt, f->type, opts) != 4)
			continue;
		unoctal(f->dev);
		unoctal(f->mnt);
		if (fstype_excluded(f->type) || mount_excluded(f->mnt))
			continue;
		int dup = 0;
		for (size_t k = 0; k < n && !dup; k++)
			dup = !strcmp(fs[k].mnt, f->mnt) && !strcmp(fs[k].dev, f->dev);
		if (dup)
			continue;
		f->ro_opts = !strncmp(opts, "ro", 2) && (opts[2] == ',' || !opts[2]);
		n++;
	}
	memcpy(last, p, len);
	last_len = len;
	last_n = n;
	parsed = 1;
stat_mounts:
	/* The file buffer is free again: stat every mount now. */
	for (size_t k = 0; k < n; k++) {
		struct fsent *f = &fs[k];
		char path[FS_STR_MAX + 4096];
		struct statvfs st;
		snprintf(path, sizeof(path), "%s%s", cfg->rootfs, f->mnt);
		f->err = (is_remote(f->type) ? statvfs_deadline(path, &st) : statvfs(path, &st)) != 0;
		if (f->err)
			continue;
		double bs = (double)st.f_frsize;
		f->size = (double)st.f_blocks * bs;
		f->freeb = (double)st.f_bfree * bs;
		f->avail = (double)st.f_bavail * bs;
		f->files = (double)st.f_files;
		f->ffree = (double)st.f_ffree;
		f->ro = f->ro_opts || (st.f_flag & ST_RDONLY) != 0;
	}
	static const struct { const char *name, *help; } m[] = {
		{ "node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes." },
		{ "node_filesystem_device_error", "Whether an error occurred while getting statistics for the given device." },
		{ "node_filesystem_files", "Filesystem total file nodes." },
		{ "node_filesystem_files_free", "Filesystem total free file nodes." },
		{ "node_filesystem_free_bytes", "Filesystem free space in bytes." },
		{ "node_filesystem_readonly", "Filesystem read-only status." },
		{ "node_filesystem_size_bytes", "Filesystem size in bytes." },
	};
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		collect_family(c, m[i].name, m[i].help, COLLECT_GAUGE);
		for (size_t k = 0; k < n; k++) {
			const struct fsent *f = &fs[k];
			double v;
			if (i == 1)
				v = f->err;
			else if (f->err)
				continue;
			else
				v = i == 0 ? f->avail : i == 2 ? f->files : i == 3 ? f->ffree : i == 4 ? f->freeb :
				    i == 5 ? f->ro : f->size;
			collect_add(c, v, "device", f->dev, "fstype", f->type, "mountpoint", f->mnt, NULL);
		}
	}
	return 0;
}
