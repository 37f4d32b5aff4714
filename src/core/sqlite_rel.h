/*
 * sqlite_rel.h — SQLite that opens relative database names relative to the
 * current directory. Workers enter their data directory while privileged and
 * then drop privileges; SQLite's stock unix VFS turns every name into a full
 * path and opens that, which needs search permission on every parent of the
 * data directory. This VFS is the stock one with that one step left out.
 */
#ifndef VIGIL_SQLITE_REL_H
#define VIGIL_SQLITE_REL_H

/* Register the relative-path VFS as SQLite's default for this process.
 * Idempotent. 0, or -1 if SQLite has no default VFS to wrap. */
int sqlite_rel_register(void);

struct sqlite3;
/* Open (with SQLite's flags) the database at path into *db, set a 2 s busy
 * timeout and run schema (idempotent SQL). SQLITE_OK (0), or the SQLite error
 * code with err set to "PATH: WHAT REASON" (what: e.g. "schema: ", or "").
 * *db may be set even on failure: the caller closes it. */
int sqlite_open_schema(const char *path, int flags, const char *schema, const char *what,
    struct sqlite3 **db, char *err, size_t errsz);

/* Rename a damaged database to PATH.corrupt-<now_ms> (kept for inspection)
 * and remove its -wal and -shm files, so an empty one can be made. The new
 * name (malloced), or NULL with errno set if the rename failed. */
char *sqlite_move_aside(const char *path, long long now_ms);

#endif
