/* filesystem.c — node_filesystem_* from statfs(2) of the real mounts in /proc/1/mounts. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "collect/collect.h"

#define FS_MAX 512		/* mounts reported */
#define FS_STR_MAX 512		/* bytes of a device or mount point */

struct fsent {
	char dev[FS_STR_MAX];	/* device label */
	char mnt[FS_STR_MAX];	/* mountpoint label */
	char type[64];		/* fstype label */
	int err;		/* statfs failed */
	int ro;			/* mounted read-only */
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
		f->ro = !strncmp(opts, "ro", 2) && (opts[2] == ',' || !opts[2]);
		n++;
	}
	/* The file buffer is free again: stat every mount now. */
	for (size_t k = 0; k < n; k++) {
		struct fsent *f = &fs[k];
		char path[FS_STR_MAX + 4096];
		struct statvfs st;
		snprintf(path, sizeof(path), "%s%s", cfg->rootfs, f->mnt);
		f->err = statvfs(path, &st) != 0;
		if (f->err)
			continue;
		double bs = (double)st.f_frsize;
		f->size = (double)st.f_blocks * bs;
		f->freeb = (double)st.f_bfree * bs;
		f->avail = (double)st.f_bavail * bs;
		f->files = (double)st.f_files;
		f->ffree = (double)st.f_ffree;
		f->ro |= (st.f_flag & ST_RDONLY) != 0;
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
