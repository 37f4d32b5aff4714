/* fileutil.h — small file helpers for the tsdb (private to src/tsdb). */
#ifndef VIGIL_TSDB_FILEUTIL_H
#define VIGIL_TSDB_FILEUTIL_H
#include <stddef.h>
#include <stdint.h>

/* Write all n bytes (retrying short writes and EINTR). 0 or negative errno. */
int tsdb_write_all(int fd, const void *p, size_t n);
/* Fsync a directory so renames and creations in it are durable. 0 or -errno. */
int tsdb_fsync_dir(const char *path);
/* Remove a directory tree (files and subdirectories, one level of nesting
 * per recursion; depth capped). 0 or negative errno. */
int tsdb_rmtree(const char *path);
/* Bytes of the regular files under path (recursively, capped depth). */
uint64_t tsdb_du(const char *path);
/* mkdir -p for one or two levels; 0 or negative errno. EEXIST is fine. */
int tsdb_mkdir(const char *path);

#endif
