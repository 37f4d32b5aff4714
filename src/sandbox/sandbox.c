/* sandbox.c — see sandbox.h. Linux only: setresuid, no_new_privs, Landlock, seccomp. */
#include "sandbox/sandbox.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/landlock.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char *const role_names[ROLE_COUNT] = {
	[ROLE_PARENT] = "parent", [ROLE_POLLER] = "poller", [ROLE_STORE] = "store",
	[ROLE_WEB] = "web", [ROLE_NOTIFIER] = "notifier",
};

const char *sandbox_role_name(enum config_role r)
{
	return (unsigned)r < ROLE_COUNT ? role_names[r] : "?";
}

int sandbox_role_parse(const char *s)
{
	for (int i = 0; i < ROLE_COUNT; i++)
		if (strcmp(s, role_names[i]) == 0)
			return i;
	return -1;
}

static int drop_user(const struct sandbox_spec *s, char *err, size_t errsz)
{
	if (setgroups(0, NULL) < 0 || setresgid(s->gid, s->gid, s->gid) < 0 ||
	    setresuid(s->uid, s->uid, s->uid) < 0) {
		snprintf(err, errsz, "cannot switch to uid %u gid %u: %s", (unsigned)s->uid,
		    (unsigned)s->gid, strerror(errno));
		return -1;
	}
	if (s->uid != 0 && setuid(0) == 0) {
		snprintf(err, errsz, "privileges could be regained after the switch");
		return -1;
	}
	return 0;
}

/* Landlock: read and execute anywhere, write only under rw_path. */
static int landlock(const struct sandbox_spec *s, int *on, char *err, size_t errsz)
{
	*on = 0;
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
	if (abi < 1)
		return 0;	/* kernel without Landlock: reported, not fatal */
	uint64_t ro = LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
	uint64_t all = ro | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_REMOVE_DIR |
	    LANDLOCK_ACCESS_FS_REMOVE_FILE | LANDLOCK_ACCESS_FS_MAKE_CHAR | LANDLOCK_ACCESS_FS_MAKE_DIR |
	    LANDLOCK_ACCESS_FS_MAKE_REG | LANDLOCK_ACCESS_FS_MAKE_SOCK | LANDLOCK_ACCESS_FS_MAKE_FIFO |
	    LANDLOCK_ACCESS_FS_MAKE_BLOCK | LANDLOCK_ACCESS_FS_MAKE_SYM;
#ifdef LANDLOCK_ACCESS_FS_REFER
	if (abi >= 2)
		all |= LANDLOCK_ACCESS_FS_REFER;
#endif
#ifdef LANDLOCK_ACCESS_FS_TRUNCATE
	if (abi >= 3)
		all |= LANDLOCK_ACCESS_FS_TRUNCATE;
#endif
	struct landlock_ruleset_attr attr = { .handled_access_fs = all };
	int rfd = (int)syscall(SYS_landlock_create_ruleset, &attr, sizeof(attr), 0);
	if (rfd < 0) {
		snprintf(err, errsz, "landlock_create_ruleset: %s", strerror(errno));
		return -1;
	}
	struct landlock_path_beneath_attr pb = { .allowed_access = ro };
	pb.parent_fd = open("/", O_PATH | O_CLOEXEC);
	int rc = syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
	close(pb.parent_fd);
	/* /dev/null and friends are opened for writing by libraries. */
	if (rc == 0) {
		pb.allowed_access = ro | LANDLOCK_ACCESS_FS_WRITE_FILE;
		pb.parent_fd = open("/dev", O_PATH | O_CLOEXEC);
		if (pb.parent_fd >= 0) {
			rc = syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
			close(pb.parent_fd);
		}
	}
	if (rc == 0 && s->rw_path) {
		pb.allowed_access = all;
		pb.parent_fd = open(s->rw_path, O_PATH | O_CLOEXEC);
		if (pb.parent_fd < 0) {
			snprintf(err, errsz, "%s: %s", s->rw_path, strerror(errno));
			close(rfd);
			return -1;
		}
		rc = syscall(SYS_landlock_add_rule, rfd, LANDLOCK_RULE_PATH_BENEATH, &pb, 0);
		close(pb.parent_fd);
	}
	if (rc == 0)
		rc = syscall(SYS_landlock_restrict_self, rfd, 0);
	close(rfd);
	if (rc < 0) {
		snprintf(err, errsz, "landlock: %s", strerror(errno));
		return -1;
	}
	*on = 1;
	return 0;
}

/*
 * seccomp: a deny list per role (EPERM), kept in release builds. A deny list
 * rather than an allow list so that sanitizer builds and libraries' internal
 * calls keep working; what is denied is what an attacker inside a worker
 * would reach for: other processes, kernel state, namespaces, and for the
 * store and web workers any network socket of their own or a new program.
 */
static int seccomp(const struct sandbox_spec *s, char *err, size_t errsz)
{
	static const int always[] = {
		SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv), SCMP_SYS(process_vm_writev),
		SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
		SCMP_SYS(swapon), SCMP_SYS(swapoff), SCMP_SYS(reboot), SCMP_SYS(kexec_load),
		SCMP_SYS(init_module), SCMP_SYS(finit_module), SCMP_SYS(delete_module),
		SCMP_SYS(bpf), SCMP_SYS(keyctl), SCMP_SYS(add_key), SCMP_SYS(request_key),
		SCMP_SYS(unshare), SCMP_SYS(setns), SCMP_SYS(acct), SCMP_SYS(settimeofday),
		SCMP_SYS(clock_settime), SCMP_SYS(adjtimex), SCMP_SYS(personality),
		SCMP_SYS(userfaultfd), SCMP_SYS(perf_event_open), SCMP_SYS(open_by_handle_at),
		SCMP_SYS(name_to_handle_at), SCMP_SYS(setuid), SCMP_SYS(setgid),
		SCMP_SYS(setreuid), SCMP_SYS(setregid), SCMP_SYS(setresuid), SCMP_SYS(setresgid),
		SCMP_SYS(setgroups), SCMP_SYS(capset), SCMP_SYS(kcmp), SCMP_SYS(iopl), SCMP_SYS(ioperm),
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int rc = 0;
	if (!ctx) {
		snprintf(err, errsz, "seccomp_init failed");
		return -1;
	}
	for (size_t i = 0; rc == 0 && i < sizeof(always) / sizeof(always[0]); i++)
		rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), always[i], 0);
	if (s->role != ROLE_POLLER) {
		/* Only the poller runs programs (Nagios plugins). */
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execve), 0);
		if (rc == 0)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(execveat), 0);
	}
	if (s->role == ROLE_STORE || s->role == ROLE_WEB) {
		/* No network sockets of their own: the web worker gets its listening
		 * socket from the parent, the store talks only over socketpairs. */
		static const int fams[] = { AF_INET, AF_INET6, AF_PACKET, AF_NETLINK };
		for (size_t i = 0; rc == 0 && i < 4; i++) {
			struct scmp_arg_cmp cmp = { .arg = 0, .op = SCMP_CMP_EQ,
				.datum_a = (scmp_datum_t)fams[i], .datum_b = 0 };
			rc = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1, &cmp);
		}
	}
	if (rc == 0)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc < 0) {
		snprintf(err, errsz, "seccomp: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

int sandbox_enter(const struct sandbox_spec *s, int *landlock_on, char *err, size_t errsz)
{
	*landlock_on = 0;
	if (s->drop_user && drop_user(s, err, errsz) < 0)
		return -1;
	/* The parent-death signal is cleared by a credential change: set it after.
	 * (Workers only: a standalone process such as vigil agent has no parent
	 * to follow, parent_pid 0.) */
	if (s->parent_pid && (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != s->parent_pid)) {
		snprintf(err, errsz, "parent is gone");
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, errsz, "no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (landlock(s, landlock_on, err, errsz) < 0)
		return -1;
	return seccomp(s, err, errsz);
}
