/*
 * sandbox.h — what a worker does right after exec, before it reads a single
 * message: switch to the unprivileged user (when started as root), forbid
 * regaining privileges, restrict the file system (Landlock) and the system
 * calls (seccomp) to what its role needs. See docs/SECURITY.md for the table.
 */
#ifndef VIGIL_SANDBOX_H
#define VIGIL_SANDBOX_H

#include <stddef.h>
#include <sys/types.h>

#include "core/config.h"

struct sandbox_spec {
	enum config_role role;	/* which worker */
	int drop_user;		/* switch to uid/gid (the process runs as root) */
	uid_t uid;		/* unprivileged user */
	gid_t gid;		/* its group */
	const char *rw_path;	/* the one directory it may write (data dir), or NULL */
	pid_t parent_pid;	/* the supervising parent; gone means exit (0: none) */
};

/*
 * Enter the sandbox. Return 0, or -1 with a reason in err; the caller must
 * exit on failure (never run unsandboxed by accident). Landlock missing from
 * the kernel is not a failure: it is reported through *landlock_on = 0.
 */
int sandbox_enter(const struct sandbox_spec *s, int *landlock_on /* out */, char *err, size_t errsz);

/* Return the role's name ("poller", ...) or "?". */
const char *sandbox_role_name(enum config_role r);
/* Parse a role name; -1 if unknown. */
int sandbox_role_parse(const char *s);

#endif
