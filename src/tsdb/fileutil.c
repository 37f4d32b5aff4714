/* fileutil.c — see fileutil.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tsdb/fileutil.h"

#define TREE_DEPTH_MAX 4	/* deepest directory nesting walked */

int tsdb_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int tsdb_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

static int rmtree_depth(const char *path, int depth)
{
	if (depth > TREE_DEPTH_MAX)
		return -ELOOP;
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	struct dirent *e;
	int rc = 0;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) >= (int)sizeof(sub)) {
			rc = -ENAMETOOLONG;
			continue;
		}
		struct stat st;
		if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode)) {
			int r = rmtree_depth(sub, depth + 1);
			if (r)
				rc = r;
		} else if (unlink(sub) < 0)
			rc = -errno;
	}
	closedir(d);
	if (rmdir(path) < 0 && errno != ENOENT)
		rc = -errno;
	return rc;
}

int tsdb_rmtree(const char *path)
{
	return rmtree_depth(path, 0);
}

static uint64_t du_depth(const char *path, int depth)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return 0;
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
	if (depth > TREE_DEPTH_MAX)
		return 0;
	DIR *d = opendir(path);
	if (!d)
		return 0;
	uint64_t sum = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char sub[PATH_MAX];
		if (snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name) < (int)sizeof(sub))
			sum += du_depth(sub, depth + 1);
	}
	closedir(d);
	return sum;
}

uint64_t tsdb_du(const char *path)
{
	return du_depth(path, 0);
}

int tsdb_mkdir(const char *path)
{
	if (mkdir(path, 0750) == 0 || errno == EEXIST)
		return 0;
	return -errno;
}
