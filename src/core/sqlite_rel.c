/* sqlite_rel.c — see sqlite_rel.h. */
#include <sqlite3.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <string.h>

#include "core/sqlite_rel.h"
#include "core/xmalloc.h"

static sqlite3_vfs rel_vfs;	/* copy of the default VFS with our xFullPathname */
static int registered;		/* sqlite_rel_register ran */

/* Keep the name as given: a relative name stays relative to the cwd. */
static int rel_full_pathname(sqlite3_vfs *vfs, const char *in, int nout, char *out)
{
	size_t n = strlen(in);
	(void)vfs;
	if (n + 1 > (size_t)nout)
		return SQLITE_CANTOPEN;
	memcpy(out, in, n + 1);
	return SQLITE_OK;
}

int sqlite_rel_register(void)
{
	if (registered)
		return 0;
	sqlite3_initialize();
	sqlite3_vfs *base = sqlite3_vfs_find(NULL);
	if (!base)
		return -1;
	rel_vfs = *base;
	rel_vfs.zName = "vigil-relative";
	rel_vfs.pNext = NULL;
	rel_vfs.xFullPathname = rel_full_pathname;
	if (sqlite3_vfs_register(&rel_vfs, 1) != SQLITE_OK)
		return -1;
	registered = 1;
	return 0;
}

int sqlite_open_schema(const char *path, int flags, const char *schema, const char *what,
    sqlite3 **db, char *err, size_t errsz)
{
	*db = NULL;
	if (sqlite3_open_v2(path, db, flags, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "%s: %s", path, *db ? sqlite3_errmsg(*db) : "cannot open");
		return SQLITE_CANTOPEN;
	}
	sqlite3_busy_timeout(*db, 2000);
	char *msg = NULL;
	int rc = sqlite3_exec(*db, schema, NULL, NULL, &msg);
	if (rc != SQLITE_OK)
		snprintf(err, errsz, "%s: %s%s", path, what, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return rc;
}

char *sqlite_move_aside(const char *path, long long now_ms)
{
	char *aside = xasprintf("%s.corrupt-%lld", path, now_ms);
	if (rename(path, aside) != 0) {
		int e = errno;
		free(aside);
		errno = e;
		return NULL;
	}
	char *wal = xasprintf("%s-wal", path), *shm = xasprintf("%s-shm", path);
	unlink(wal);
	unlink(shm);
	free(wal);
	free(shm);
	return aside;
}
