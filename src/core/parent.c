/* parent.c — see parent.h. */
#include "core/parent.h"
#include "core/alerting.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ipc.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define BACKOFF_MIN_MS    250	/* first restart delay */
#define BACKOFF_MAX_MS    30000	/* longest restart delay */
#define STABLE_MS         10000	/* up this long: the next crash restarts fast again */
#define STARTUP_LIMIT_MS  15000	/* every worker must be ready within this */
#define SHUTDOWN_GRACE_MS 1500	/* then SIGKILL, so the whole stop is under 2 s */

struct parent;

struct child {
	struct parent *p;	/* the parent that supervises it */
	enum config_role role;	/* which worker */
	pid_t pid;		/* running process, 0 when down */
	struct ipc_conn ch;	/* channel to it */
	int ready;		/* it applied a config */
	unsigned restarts;	/* restarts since vigil started */
	int64_t started_ms;	/* monotonic start time */
	int64_t backoff_ms;	/* next restart delay */
	uint64_t restart_timer;	/* pending restart, 0 if none */
	struct msg_stats stats;	/* last counters it reported */
	char *metrics;		/* last metric families it reported (owned) */
};

struct parent {
	struct config *cfg;		/* config in force */
	const char *config_path;	/* file, or NULL for the default */
	struct loop *loop;		/* the parent's loop */
	struct child kids[ROLE_COUNT];	/* indexed by role (ROLE_PARENT unused) */
	int listen_fd;			/* web.listen socket */
	int lock_fd;			/* flock on storage.path/LOCK, held while running */
	int icmp4_fd, icmp6_fd;		/* raw ICMP sockets for the poller, or /dev/null */
	int drop;			/* workers switch user (we run as root) */
	uid_t uid;			/* their user */
	gid_t gid;			/* their group */
	char data_dir[PATH_MAX];	/* absolute storage.path */
	char exe[PATH_MAX];		/* our own binary */
	int stopping;			/* SIGTERM/SIGINT received */
	int started;			/* every worker was ready once */
	int exit_code;			/* what parent_run returns */
	int64_t start_ms;		/* monotonic time of start */
	int64_t start_wall_ms;		/* wall time of start */
	uint64_t reloads_ok;		/* successful reloads */
	uint64_t reloads_failed;	/* rejected reloads */
	int last_reload_ok;		/* 1 if the last reload succeeded */
};

static const enum config_role worker_roles[] = { ROLE_STORE, ROLE_POLLER, ROLE_NOTIFIER, ROLE_WEB };
#define NWORKERS (sizeof(worker_roles) / sizeof(worker_roles[0]))

static void spawn(struct parent *p, enum config_role role);
static void begin_shutdown(struct parent *p);
static void on_child_msg_ready(struct loop *l, int fd, unsigned ev, void *ctx);

/* ---- start-up checks ------------------------------------------------- */

static int resolve_user(struct parent *p, char *err, size_t errsz)
{
	if (geteuid() != 0) {
		p->drop = 0;
		p->uid = getuid();
		p->gid = getgid();
		return 0;
	}
	struct passwd *pw = getpwnam(p->cfg->user);
	if (!pw && strcmp(p->cfg->user, "vigil") == 0) {
		log_warn("user vigil does not exist; workers run as nobody", NULL);
		pw = getpwnam("nobody");
	}
	if (!pw) {
		snprintf(err, errsz, "%s: global.user: user \"%s\" does not exist", p->cfg->file, p->cfg->user);
		return -1;
	}
	if (pw->pw_uid == 0) {
		snprintf(err, errsz, "%s: global.user: \"%s\" is root; workers must run unprivileged",
		    p->cfg->file, p->cfg->user);
		return -1;
	}
	p->drop = 1;
	p->uid = pw->pw_uid;
	p->gid = pw->pw_gid;
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	for (char *s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(tmp, 0750) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static uid_t chown_uid;		/* nftw callback's target user */
static gid_t chown_gid;		/* and group */
static int chown_failed;	/* errno of the first failed chown */

static int chown_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)flag;
	(void)ftw;
	if ((st->st_uid != chown_uid || st->st_gid != chown_gid) &&
	    lchown(path, chown_uid, chown_gid) < 0 && !chown_failed)
		chown_failed = errno;
	return 0;
}

static int prepare_data_dir(struct parent *p, char *err, size_t errsz)
{
	const char *path = p->cfg->storage_path;
	int rc = mkdir_p(path);
	if (rc < 0) {
		snprintf(err, errsz, "storage.path %s: cannot create: %s", path, strerror(-rc));
		return -1;
	}
	if (!realpath(path, p->data_dir)) {
		snprintf(err, errsz, "storage.path %s: %s", path, strerror(errno));
		return -1;
	}
	/* Everything in the data directory belongs to the workers' user, also
	 * what root put there (vigil tsdb import, vigil token create). */
	if (p->drop) {
		chown_uid = p->uid;
		chown_gid = p->gid;
		chown_failed = 0;
		if (nftw(p->data_dir, chown_one, 32, FTW_PHYS) < 0 || chown_failed) {
			snprintf(err, errsz, "storage.path %.400s: cannot hand to uid %u: %s", p->data_dir,
			    (unsigned)p->uid, strerror(chown_failed ? chown_failed : errno));
			return -1;
		}
	}
	struct stat st0;
	if (stat(p->data_dir, &st0) < 0 || !S_ISDIR(st0.st_mode)) {
		snprintf(err, errsz, "storage.path %.400s: not a directory", p->data_dir);
		return -1;
	}
	/* One vigil per data directory: the lock is held for the parent's life
	 * (and by nothing else, so a crashed vigil never leaves it stale). */
	char lockpath[PATH_MAX + 16];
	snprintf(lockpath, sizeof(lockpath), "%s/LOCK", p->data_dir);
	int lfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lfd < 0 || flock(lfd, LOCK_EX | LOCK_NB) < 0) {
		snprintf(err, errsz, "storage.path %.400s: %s", p->data_dir,
		    lfd < 0 ? strerror(errno) : "in use by another vigil");
		if (lfd >= 0)
			close(lfd);
		return -1;
	}
	p->lock_fd = lfd;
	/* Prove the workers can write: enter the directory as they will (while
	 * privileged), switch user, make and remove a file. */
	const char *probe = ".vigil-write-test";
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir(p->data_dir) < 0)
			_exit(5);
		if (p->drop && (setgid(p->gid) < 0 || setuid(p->uid) < 0))
			_exit(3);
		int fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0)
			_exit(errno == EACCES || errno == EPERM || errno == EROFS ? 4 : 5);
		close(fd);
		unlink(probe);
		_exit(0);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		snprintf(err, errsz, "storage.path %.400s: not writable%s", p->data_dir,
		    WIFEXITED(st) && WEXITSTATUS(st) == 4 ? ": permission denied" : "");
		return -1;
	}
	return 0;
}

static int open_listener(const char *hostport, char *err, size_t errsz)
{
	char host[256];
	uint16_t port;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (config_split_hostport(hostport, host, sizeof(host), &port) < 0)
		goto bad;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		sl = sizeof(*s4);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		sl = sizeof(*s6);
	} else {
		goto bad;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0) {
		snprintf(err, errsz, "web.listen %s: socket: %s", hostport, strerror(errno));
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 128) < 0) {
		snprintf(err, errsz, "web.listen %s: %s", hostport, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
bad:
	snprintf(err, errsz, "web.listen %s: not ADDR:PORT", hostport);
	return -1;
}

/* ---- workers ----------------------------------------------------------- */

static void send_config(struct parent *p, struct child *k)
{
	struct buf sec, cfg;
	buf_init(&sec, BUF_CAP_CONFIG);
	buf_init(&cfg, BUF_CAP_CONFIG + 4096);
	/* Only the secrets this worker's part of the config refers to. */
	for (size_t i = 0; i < p->cfg->nrefs; i++) {
		const struct config_secret_ref *r = &p->cfg->refs[i];
		if (r->role != k->role)
			continue;
		size_t nl = strlen(r->name);
		for (size_t j = 0; j < p->cfg->nsecrets; j++) {
			const struct config_secret *s = &p->cfg->secrets[j];
			/* the secret itself, or a field "name/..." of a structured one */
			if (!s->value || strncmp(s->name, r->name, nl) != 0 ||
			    (s->name[nl] != '\0' && s->name[nl] != '/'))
				continue;
			buf_add(&sec, s->name, strlen(s->name) + 1);
			buf_add(&sec, s->value, strlen(s->value) + 1);
		}
	}
	/* Workers run elsewhere: give them the file's absolute path (rule_files
	 * are relative to it). */
	char abs[PATH_MAX];
	const char *fname = p->config_path && realpath(p->cfg->file, abs) ? abs : p->cfg->file;
	buf_add(&cfg, fname, strlen(fname) + 1);
	buf_add(&cfg, p->cfg->text, strlen(p->cfg->text));
	ipc_conn_send(&k->ch, MSG_SECRETS, sec.data ? sec.data : "", (uint32_t)sec.len);
	ipc_conn_send(&k->ch, MSG_CONFIG, cfg.data, (uint32_t)cfg.len);
	if (ipc_conn_pending(&k->ch))
		loop_mod_fd(p->loop, k->ch.fd, LOOP_READ | LOOP_WRITE);
	if (sec.data)
		explicit_bzero(sec.data, sec.len);
	buf_free(&sec);
	buf_free(&cfg);
}

static int child_msg(void *ctx, struct ipc_conn *c, uint32_t type, const void *pl, uint32_t len)
{
	struct parent *p = ctx;
	struct child *k = NULL;
	for (size_t i = 0; i < NWORKERS; i++)
		if (&p->kids[worker_roles[i]].ch == c)
			k = &p->kids[worker_roles[i]];
	if (!k)
		return -EPROTO;
	switch (type) {
	case MSG_HELLO: {
		struct msg_hello h;
		memcpy(&h, pl, sizeof(h));
		if (h.role != k->role || (pid_t)h.pid != k->pid) {
			log_error("dropping worker: HELLO does not match", "worker=%s", sandbox_role_name(k->role));
			return -EPROTO;
		}
		send_config(p, k);
		return 0;
	}
	case MSG_READY:
		if (!k->ready)
			log_info("worker ready", "worker=%s pid=%d", sandbox_role_name(k->role), (int)k->pid);
		k->ready = 1;
		return 0;
	case MSG_CONFIG_REJECTED: {
		char q[4200], raw[4097];
		snprintf(raw, sizeof(raw), "%.*s", (int)len, (const char *)pl);
		log_error("worker rejected config", "worker=%s reason=%s", sandbox_role_name(k->role),
		    log_quote(q, sizeof(q), raw));
		if (!p->started) {
			fprintf(stderr, "vigil: %.*s\n", (int)len, (const char *)pl);
			p->exit_code = 1;
			if (!p->stopping)
				begin_shutdown(p);	/* stop what did start */
		} else if (p->last_reload_ok) {
			/* The parent accepted this reload but a worker could not apply
			 * it (it went back to the running config): not a success. */
			p->last_reload_ok = 0;
			p->reloads_failed++;
			if (p->reloads_ok)
				p->reloads_ok--;
		}
		return 0;
	}
	case MSG_STATS:
		memcpy(&k->stats, pl, sizeof(k->stats));
		return 0;
	case MSG_METRICS_TEXT:
		free(k->metrics);
		k->metrics = xstrndup(pl, len);
		return 0;
	default:
		log_error("dropping worker: unexpected frame", "worker=%s type=%s",
		    sandbox_role_name(k->role), ipc_type_name(type));
		return -EPROTO;
	}
}

static void on_child_msg_ready(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct parent *p = ctx;
	struct child *k = NULL;
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].ch.fd == fd)
			k = &p->kids[worker_roles[i]];
	if (!k)
		return;
	if (ev & LOOP_WRITE) {
		int rc = ipc_conn_flush(&k->ch);
		if (rc >= 0)
			loop_mod_fd(l, fd, rc ? LOOP_READ | LOOP_WRITE : LOOP_READ);
	}
	if (ev & LOOP_READ) {
		int rc = ipc_conn_read(&k->ch, child_msg, p);
		if (rc < 0) {
			/* EOF: it is exiting (SIGCHLD follows). A lie: kill it. */
			loop_del_fd(l, fd);
			ipc_conn_close(&k->ch);
			if (rc == -EPROTO && k->pid > 0)
				kill(k->pid, SIGKILL);
		}
	}
}

static void restart_due(struct loop *l, uint64_t id, void *ctx)
{
	struct child *k = ctx;
	struct parent *p = k->p;
	(void)l;
	(void)id;
	k->restart_timer = 0;
	if (!p->stopping && k->pid == 0)
		spawn(p, k->role);
}

static void spawn(struct parent *p, enum config_role role)
{
	struct child *k = &p->kids[role];
	int pc[2], fds[8], nfd = 0;
	enum config_role peers[ROLE_COUNT];
	int np = worker_peers(role, peers);

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pc) < 0)
		goto fail;
	fds[nfd++] = pc[1];
	for (int i = 0; i < np; i++) {
		int sp[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
			goto fail;
		fds[nfd++] = sp[1];
		struct child *peer = &p->kids[peers[i]];
		if (peer->pid > 0 && peer->ch.fd >= 0) {
			/* The peer is running: hand it the other end, after anything queued. */
			for (int tries = 0; ipc_conn_flush(&peer->ch) == 1 && tries < 100; tries++)
				usleep(1000);
			if (ipc_send_fd(peer->ch.fd, role, sp[0]) < 0)
				log_warn("could not pass a channel to a peer", "peer=%s", sandbox_role_name(peers[i]));
		}
		close(sp[0]);	/* a peer that is down gets a fresh pair when it starts */
	}
	if (role == ROLE_WEB)
		fds[nfd++] = p->listen_fd;
	if (role == ROLE_POLLER) {
		fds[nfd++] = p->icmp4_fd;
		fds[nfd++] = p->icmp6_fd;
	}

	char suid[16], sgid[16], sppid[16];
	snprintf(suid, sizeof(suid), "%u", (unsigned)p->uid);
	snprintf(sgid, sizeof(sgid), "%u", (unsigned)p->gid);
	snprintf(sppid, sizeof(sppid), "%d", (int)getpid());
	const char *rw = (role == ROLE_STORE || role == ROLE_WEB || role == ROLE_NOTIFIER) ? p->data_dir : "-";
	pid_t pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Move the fds high first so dup2 to 3.. never clobbers one still needed. */
		int high[8];
		for (int i = 0; i < nfd; i++)
			high[i] = fcntl(fds[i], F_DUPFD, 100);
		for (int i = 0; i < nfd; i++)
			if (high[i] < 0 || dup2(high[i], WORKER_FD_PARENT + i) < 0)
				_exit(1);
		close_range(WORKER_FD_PARENT + (unsigned)nfd, ~0U, 0);
		char *argv[] = { "vigil", "__worker", (char *)(uintptr_t)sandbox_role_name(role), suid, sgid,
			p->drop ? "1" : "0", (char *)(uintptr_t)rw, sppid, NULL };
		execv(p->exe, argv);
		_exit(127);
	}
	for (int i = 0; i < nfd; i++)
		if (fds[i] != p->listen_fd && fds[i] != p->icmp4_fd && fds[i] != p->icmp6_fd)
			close(fds[i]);
	k->pid = pid;
	k->ready = 0;
	k->started_ms = clock_mono_ms();
	ipc_conn_init(&k->ch, pc[0], sandbox_role_name(role));
	loop_add_fd(p->loop, pc[0], LOOP_READ, on_child_msg_ready, p);
	log_info("worker spawned", "worker=%s pid=%d", sandbox_role_name(role), (int)pid);
	return;
fail:
	log_error("cannot spawn worker", "worker=%s reason=\"%s\"", sandbox_role_name(role), strerror(errno));
	k->restart_timer = loop_add_timer(p->loop, BACKOFF_MAX_MS, restart_due, k);
}

static void describe_status(int st, char *b, size_t bs)
{
	if (WIFEXITED(st))
		snprintf(b, bs, "exit code %d", WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		snprintf(b, bs, "killed by signal %s", sigabbrev_np(WTERMSIG(st)) ? sigabbrev_np(WTERMSIG(st)) : "?");
	else
		snprintf(b, bs, "status %d", st);
}

static void reap(struct parent *p)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		struct child *k = NULL;
		for (size_t i = 0; i < NWORKERS; i++)
			if (p->kids[worker_roles[i]].pid == pid)
				k = &p->kids[worker_roles[i]];
		if (!k)
			continue;
		char why[64];
		describe_status(st, why, sizeof(why));
		k->pid = 0;
		if (k->ch.fd >= 0) {
			loop_del_fd(p->loop, k->ch.fd);
			ipc_conn_close(&k->ch);
		}
		if (p->stopping) {
			log_info("worker stopped", "worker=%s reason=\"%s\"", sandbox_role_name(k->role), why);
			continue;
		}
		if (!p->started) {
			log_error("worker failed during start-up", "worker=%s reason=\"%s\"",
			    sandbox_role_name(k->role), why);
			fprintf(stderr, "vigil: %s worker failed during start-up (%s); see the log above\n",
			    sandbox_role_name(k->role), why);
			p->exit_code = 1;
			begin_shutdown(p);	/* stop what did start */
			continue;
		}
		int64_t up = clock_mono_ms() - k->started_ms;
		if (up >= STABLE_MS || k->backoff_ms == 0)
			k->backoff_ms = BACKOFF_MIN_MS;
		else
			k->backoff_ms = k->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : k->backoff_ms * 2;
		k->restarts++;
		log_error("worker crashed; restarting", "worker=%s reason=\"%s\" uptime_ms=%lld backoff_ms=%lld restarts=%u",
		    sandbox_role_name(k->role), why, (long long)up, (long long)k->backoff_ms, k->restarts);
		k->restart_timer = loop_add_timer(p->loop, k->backoff_ms, restart_due, k);
	}
}

/* ---- reload and shutdown ---------------------------------------------- */

static void reload(struct parent *p)
{
	char err[CONFIG_ERR_MAX];
	struct config *c = NULL;
	int rc = p->config_path ? config_load_file(p->config_path, &c, err, sizeof(err))
	    : config_load_default(&c, err, sizeof(err));
	if (rc == 0 && config_load_secrets(c, err, sizeof(err)) < 0)
		rc = -1;
	if (rc == 0 && (c->rule_files_pos[0] || c->alerting_pos[0]) &&
	    alerting_check_config(c->file, c->text, strlen(c->text), err, sizeof(err)) < 0)
		rc = -1;
	if (rc < 0) {
		p->reloads_failed++;
		p->last_reload_ok = 0;
		char q[CONFIG_ERR_MAX + 64];
		log_error("reload rejected; the running config stays", "reason=%s", log_quote(q, sizeof(q), err));
		config_free(c);
		return;
	}
	if (strcmp(c->web_listen, p->cfg->web_listen) != 0 ||
	    strcmp(c->storage_path, p->cfg->storage_path) != 0 || strcmp(c->user, p->cfg->user) != 0)
		log_warn("web.listen, storage.path and global.user take effect at the next restart", NULL);
	log_setup(c->log_level, "parent");
	config_free(p->cfg);
	p->cfg = c;
	p->reloads_ok++;
	p->last_reload_ok = 1;
	for (size_t i = 0; i < NWORKERS; i++) {
		struct child *k = &p->kids[worker_roles[i]];
		if (k->pid > 0 && k->ch.fd >= 0)
			send_config(p, k);
	}
	log_info("config reloaded", "file=%s", c->file);
}

static int all_down(const struct parent *p)
{
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].pid > 0)
			return 0;
	return 1;
}

static void kill_all(struct parent *p, int sig)
{
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].pid > 0)
			kill(p->kids[worker_roles[i]].pid, sig);
}

static void shutdown_deadline(struct loop *l, uint64_t id, void *ctx)
{
	struct parent *p = ctx;
	(void)id;
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].pid > 0)
			log_warn("worker did not stop in time; killing it", "worker=%s",
			    sandbox_role_name(worker_roles[i]));
	kill_all(p, SIGKILL);
	loop_add_timer(l, 200, shutdown_deadline, p);
}

static void begin_shutdown(struct parent *p)
{
	log_info("shutting down", NULL);
	p->stopping = 1;
	for (size_t i = 0; i < NWORKERS; i++) {
		struct child *k = &p->kids[worker_roles[i]];
		if (k->restart_timer)
			loop_del_timer(p->loop, k->restart_timer);
		k->restart_timer = 0;
		if (k->pid > 0 && k->ch.fd >= 0) {
			ipc_conn_send(&k->ch, MSG_SHUTDOWN, NULL, 0);
			ipc_conn_flush(&k->ch);
		}
	}
	kill_all(p, SIGTERM);
	loop_add_timer(p->loop, SHUTDOWN_GRACE_MS, shutdown_deadline, p);
}

static void on_signal(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct parent *p = ctx;
	struct signalfd_siginfo si;
	(void)ev;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGCHLD:
			reap(p);
			break;
		case SIGHUP:
			if (!p->stopping)
				reload(p);
			break;
		case SIGTERM:
		case SIGINT:
			if (!p->stopping)
				begin_shutdown(p);
			break;
		default:
			break;
		}
	}
	if (p->stopping && all_down(p))
		loop_stop(l);
}

/* ---- self metrics ------------------------------------------------------ */

static void proc_usage(pid_t pid, double *cpu, double *rss)
{
	char path[64], b[1024];
	*cpu = *rss = 0;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return;
	b[n] = '\0';
	/* Fields after the ")" of comm: state is field 3; utime 14, stime 15, rss 24. */
	char *s = strrchr(b, ')');
	if (!s)
		return;
	unsigned long long ut = 0, stt = 0;
	long long rss_pages = 0;
	int field = 2;
	for (char *tok = s + 1; *tok; ) {
		while (*tok == ' ')
			tok++;
		if (!*tok)
			break;
		field++;
		if (field == 14)
			ut = strtoull(tok, NULL, 10);
		else if (field == 15)
			stt = strtoull(tok, NULL, 10);
		else if (field == 24) {
			rss_pages = strtoll(tok, NULL, 10);
			break;
		}
		while (*tok && *tok != ' ')
			tok++;
	}
	long hz = sysconf(_SC_CLK_TCK);
	*cpu = (double)(ut + stt) / (double)(hz > 0 ? hz : 100);
	*rss = (double)rss_pages * (double)sysconf(_SC_PAGESIZE);
}

static void family(struct buf *b, const char *name, const char *type, const char *help)
{
	buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void render_metrics(struct parent *p, struct buf *b)
{
	static const char *const names[] = { "parent", "poller", "store", "web", "notifier" };
	family(b, "vigil_build_info", "gauge", "A metric with a constant 1 labelled by vigil's version.");
	buf_printf(b, "vigil_build_info{version=\"%s\"} 1\n", VIGIL_VERSION);
	family(b, "vigil_start_time_seconds", "gauge", "When vigil serve started, in seconds since the epoch.");
	buf_printf(b, "vigil_start_time_seconds %.3f\n", (double)p->start_wall_ms / 1000.0);
	family(b, "vigil_worker_up", "gauge", "1 if the worker process is running and has applied its config.");
	for (size_t i = 0; i < NWORKERS; i++) {
		const struct child *k = &p->kids[worker_roles[i]];
		buf_printf(b, "vigil_worker_up{worker=\"%s\"} %d\n", names[k->role], k->pid > 0 && k->ready);
	}
	family(b, "vigil_worker_restarts_total", "counter", "Times the parent restarted a crashed worker.");
	for (size_t i = 0; i < NWORKERS; i++)
		buf_printf(b, "vigil_worker_restarts_total{worker=\"%s\"} %u\n", names[worker_roles[i]],
		    p->kids[worker_roles[i]].restarts);
	double cpu[ROLE_COUNT] = { 0 }, rss[ROLE_COUNT] = { 0 };
	proc_usage(getpid(), &cpu[ROLE_PARENT], &rss[ROLE_PARENT]);
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].pid > 0)
			proc_usage(p->kids[worker_roles[i]].pid, &cpu[worker_roles[i]], &rss[worker_roles[i]]);
	family(b, "vigil_worker_cpu_seconds_total", "counter", "CPU time (user + system) of the current process of each worker.");
	for (int r = 0; r < ROLE_COUNT; r++)
		buf_printf(b, "vigil_worker_cpu_seconds_total{worker=\"%s\"} %.2f\n", names[r], cpu[r]);
	family(b, "vigil_worker_resident_memory_bytes", "gauge", "Resident memory of each worker process.");
	for (int r = 0; r < ROLE_COUNT; r++)
		buf_printf(b, "vigil_worker_resident_memory_bytes{worker=\"%s\"} %.0f\n", names[r], rss[r]);
	family(b, "vigil_ipc_messages_total", "counter", "Framed messages a worker passed over its channels.");
	for (size_t i = 0; i < NWORKERS; i++) {
		const struct msg_stats *s = &p->kids[worker_roles[i]].stats;
		buf_printf(b, "vigil_ipc_messages_total{worker=\"%s\",direction=\"in\"} %llu\n", names[worker_roles[i]], (unsigned long long)s->msgs_in);
		buf_printf(b, "vigil_ipc_messages_total{worker=\"%s\",direction=\"out\"} %llu\n", names[worker_roles[i]], (unsigned long long)s->msgs_out);
	}
	family(b, "vigil_ipc_bytes_total", "counter", "Bytes of framed messages a worker passed over its channels.");
	for (size_t i = 0; i < NWORKERS; i++) {
		const struct msg_stats *s = &p->kids[worker_roles[i]].stats;
		buf_printf(b, "vigil_ipc_bytes_total{worker=\"%s\",direction=\"in\"} %llu\n", names[worker_roles[i]], (unsigned long long)s->bytes_in);
		buf_printf(b, "vigil_ipc_bytes_total{worker=\"%s\",direction=\"out\"} %llu\n", names[worker_roles[i]], (unsigned long long)s->bytes_out);
	}
	family(b, "vigil_ipc_peers_dropped_total", "counter", "Channels a worker closed because the peer sent a malformed frame.");
	for (size_t i = 0; i < NWORKERS; i++)
		buf_printf(b, "vigil_ipc_peers_dropped_total{worker=\"%s\"} %llu\n", names[worker_roles[i]],
		    (unsigned long long)p->kids[worker_roles[i]].stats.dropped_peers);
	family(b, "vigil_egress_refused_total", "counter", "Outbound connections or datagrams refused because the config does not name the destination.");
	for (size_t i = 0; i < NWORKERS; i++)
		buf_printf(b, "vigil_egress_refused_total{worker=\"%s\"} %llu\n", names[worker_roles[i]],
		    (unsigned long long)p->kids[worker_roles[i]].stats.egress_refused);
	family(b, "vigil_config_reloads_total", "counter", "Config reloads (SIGHUP) by result.");
	buf_printf(b, "vigil_config_reloads_total{result=\"success\"} %llu\n", (unsigned long long)p->reloads_ok);
	buf_printf(b, "vigil_config_reloads_total{result=\"failure\"} %llu\n", (unsigned long long)p->reloads_failed);
	family(b, "vigil_config_last_reload_successful", "gauge", "1 if the last reload succeeded (or none was attempted).");
	buf_printf(b, "vigil_config_last_reload_successful %d\n", p->last_reload_ok);
	for (size_t i = 0; i < NWORKERS; i++)
		if (p->kids[worker_roles[i]].metrics && p->kids[worker_roles[i]].pid > 0)
			buf_adds(b, p->kids[worker_roles[i]].metrics);
}

static void tick(struct loop *l, uint64_t id, void *ctx)
{
	struct parent *p = ctx;
	(void)id;
	if (!p->started) {
		int ready = 1;
		for (size_t i = 0; i < NWORKERS; i++)
			ready &= p->kids[worker_roles[i]].ready;
		if (ready) {
			p->started = 1;
			printf("vigil %s serving http://%s/ (pid %d, data in %s)\n", VIGIL_VERSION,
			    p->cfg->web_listen, (int)getpid(), p->data_dir);
			fflush(stdout);
			log_info("vigil started", "listen=%s data=%s", p->cfg->web_listen, p->data_dir);
		} else if (clock_mono_ms() - p->start_ms > STARTUP_LIMIT_MS && !p->stopping) {
			fprintf(stderr, "vigil: workers did not become ready within %d s\n", STARTUP_LIMIT_MS / 1000);
			p->exit_code = 1;
			begin_shutdown(p);
		}
	}
	struct child *web = &p->kids[ROLE_WEB];
	if (web->pid > 0 && web->ch.fd >= 0 && web->ready) {
		struct buf b;
		buf_init(&b, 16u << 20);
		render_metrics(p, &b);
		ipc_conn_send(&web->ch, MSG_METRICS_TEXT, b.data, (uint32_t)b.len);
		if (ipc_conn_pending(&web->ch))
			loop_mod_fd(l, web->ch.fd, LOOP_READ | LOOP_WRITE);
		buf_free(&b);
	}
	if (all_down(p) && p->stopping)
		loop_stop(l);
	loop_add_timer(l, p->started ? 1000 : 100, tick, p);
}

int parent_run(const char *config_path)
{
	struct parent p = { .config_path = config_path, .listen_fd = -1, .lock_fd = -1, .icmp4_fd = -1,
		.icmp6_fd = -1, .last_reload_ok = 1 };
	char err[CONFIG_ERR_MAX];
	int rc = config_path ? config_load_file(config_path, &p.cfg, err, sizeof(err))
	    : config_load_default(&p.cfg, err, sizeof(err));
	if (rc == 0 && config_load_secrets(p.cfg, err, sizeof(err)) < 0)
		rc = -1;
	if (rc == 0 && (p.cfg->rule_files_pos[0] || p.cfg->alerting_pos[0]) &&
	    alerting_check_config(p.cfg->file, p.cfg->text, strlen(p.cfg->text), err, sizeof(err)) < 0)
		rc = -1;
	if (rc == 0 && resolve_user(&p, err, sizeof(err)) < 0)
		rc = -1;
	if (rc < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		config_free(p.cfg);
		return 2;
	}
	log_setup(p.cfg->log_level, "parent");
	ssize_t n = readlink("/proc/self/exe", p.exe, sizeof(p.exe) - 1);
	if (n <= 0) {
		fprintf(stderr, "vigil: cannot find own binary: %s\n", strerror(errno));
		config_free(p.cfg);
		return 1;
	}
	p.exe[n] = '\0';
	if (prepare_data_dir(&p, err, sizeof(err)) < 0 ||
	    (p.listen_fd = open_listener(p.cfg->web_listen, err, sizeof(err))) < 0) {
		fprintf(stderr, "vigil: %s\n", err);
		config_free(p.cfg);
		return 1;
	}
	/* Raw ICMP sockets need privilege: open them now for the poller (where the
	 * kernel allows unprivileged ping sockets it does not need them). */
	p.icmp4_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
	p.icmp6_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (p.icmp4_fd < 0)
		p.icmp4_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (p.icmp6_fd < 0)
		p.icmp6_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	/* Workers run from "/": give them the profiles directory as an absolute path. */
	char prof[PATH_MAX];
	if (realpath(p.cfg->snmp_profiles_dir, prof))
		setenv("VIGIL_PROFILES_DIR", prof, 1);
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGCHLD);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);
	sigaddset(&ss, SIGPIPE);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	int sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	p.loop = loop_new();
	p.start_ms = clock_mono_ms();
	p.start_wall_ms = clock_wall_ms();
	loop_add_fd(p.loop, sfd, LOOP_READ, on_signal, &p);
	for (int r = 0; r < ROLE_COUNT; r++) {
		p.kids[r].role = (enum config_role)r;
		p.kids[r].p = &p;
		ipc_conn_init(&p.kids[r].ch, -1, sandbox_role_name((enum config_role)r));
	}
	for (size_t i = 0; i < NWORKERS; i++)
		spawn(&p, worker_roles[i]);
	loop_add_timer(p.loop, 100, tick, &p);
	loop_run(p.loop);
	for (int r = 0; r < ROLE_COUNT; r++) {
		ipc_conn_close(&p.kids[r].ch);
		free(p.kids[r].metrics);
	}
	close(p.listen_fd);
	close(p.lock_fd);
	close(p.icmp4_fd);
	close(p.icmp6_fd);
	close(sfd);
	loop_free(p.loop);
	log_info("vigil stopped", "exit_code=%d", p.exit_code);
	config_free(p.cfg);
	return p.exit_code;
}
