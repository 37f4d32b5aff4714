/* sqlite_rel.c — see sqlite_rel.h. */
#include <sqlite3.h>
#include <string.h>

#include "core/sqlite_rel.h"

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
