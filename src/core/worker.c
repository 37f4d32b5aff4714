/* worker.c — see worker.h. */
#include "core/worker.h"
#include "core/log.h"
#include "core/sqlite_rel.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"
#include "sandbox/sandbox.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

int worker_peers(enum config_role role, enum config_role out[ROLE_COUNT])
{
	switch (role) {
	case ROLE_POLLER:
		out[0] = ROLE_STORE;
		return 1;
	case ROLE_STORE:
		out[0] = ROLE_POLLER;
		out[1] = ROLE_WEB;
		out[2] = ROLE_NOTIFIER;
		return 3;
	case ROLE_WEB:
		out[0] = ROLE_STORE;
		return 1;
	case ROLE_NOTIFIER:
		out[0] = ROLE_STORE;
		return 1;
	default:
		return 0;
	}
}

static void on_peer_readable(struct loop *l, int fd, unsigned ev, void *ctx);

static void peer_drop(struct worker *w, enum config_role r, int rc)
{
	struct ipc_conn *c = &w->peers[r];
	if (c->fd < 0)
		return;
	if (rc == -EPROTO)
		w->dropped_peers++;
	if (rc != -EPIPE)
		log_warn("peer channel closed", "peer=%s reason=\"%s\"", sandbox_role_name(r), strerror(-rc));
	loop_del_fd(w->loop, c->fd);
	ipc_conn_close(c);
}

static void peer_set(struct worker *w, enum config_role r, int fd)
{
	peer_drop(w, r, -EPIPE);
	ipc_conn_init(&w->peers[r], fd, sandbox_role_name(r));
	loop_add_fd(w->loop, fd, LOOP_READ, on_peer_readable, w);
	if (w->ops->on_peer_up)
		w->ops->on_peer_up(w, r);
}

static enum config_role peer_of_fd(struct worker *w, int fd)
{
	for (int r = 0; r < ROLE_COUNT; r++)
		if (w->peers[r].fd == fd)
			return (enum config_role)r;
	return ROLE_PARENT;
}

struct peer_ctx {
	struct worker *w;	/* the worker */
	enum config_role from;	/* whose channel */
};

static int peer_msg(void *ctx, struct ipc_conn *c, uint32_t type, const void *p, uint32_t len)
{
	struct peer_ctx *pc = ctx;
	(void)c;
	if (!pc->w->ops->on_peer_msg)
		return -EPROTO;
	return pc->w->ops->on_peer_msg(pc->w, pc->from, type, p, len) < 0 ? -EPROTO : 0;
}

static void on_peer_readable(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct worker *w = ctx;
	enum config_role r = peer_of_fd(w, fd);
	(void)l;
	if (r == ROLE_PARENT)
		return;
	struct ipc_conn *c = &w->peers[r];
	if (ev & LOOP_WRITE) {
		int rc = ipc_conn_flush(c);
		if (rc < 0) {
			peer_drop(w, r, rc);
			return;
		}
		loop_mod_fd(w->loop, fd, rc ? LOOP_READ | LOOP_WRITE : LOOP_READ);
	}
	if (ev & LOOP_READ) {
		struct peer_ctx pc = { w, r };
		int rc = ipc_conn_read(c, peer_msg, &pc);
		if (rc < 0)
			peer_drop(w, r, rc);
	}
}

int worker_send2(struct worker *w, enum config_role peer, uint32_t type, const void *a,
    uint32_t alen, const void *b, uint32_t blen)
{
	struct ipc_conn *c = &w->peers[peer];
	if (c->fd < 0)
		return -EPIPE;
	int rc = ipc_conn_send2(c, type, a, alen, b, blen);
	if (rc < 0 && rc != -E2BIG) {
		peer_drop(w, peer, rc);
		return rc;
	}
	if (ipc_conn_pending(c))
		loop_mod_fd(w->loop, c->fd, LOOP_READ | LOOP_WRITE);
	return rc;
}

int worker_send(struct worker *w, enum config_role peer, uint32_t type, const void *p, uint32_t len)
{
	return worker_send2(w, peer, type, p, len, NULL, 0);
}

static void send_parent(struct worker *w, uint32_t type, const void *p, uint32_t len)
{
	if (ipc_conn_send(&w->parent, type, p, len) == 0 && ipc_conn_pending(&w->parent))
		loop_mod_fd(w->loop, w->parent.fd, LOOP_READ | LOOP_WRITE);
}

/* Install secrets (name NUL value NUL ...) into c. */
static int install_secrets(struct config *c, const char *p, uint32_t len)
{
	uint32_t i = 0;
	while (i < len) {
		const char *name = p + i;
		const char *nul = memchr(name, '\0', len - i);
		if (!nul)
			return -1;
		const char *val = nul + 1;
		if (val >= p + len)
			return -1;
		const char *nul2 = memchr(val, '\0', (size_t)(p + len - val));
		if (!nul2 || c->nsecrets >= CONFIG_MAX_SECRETS)
			return -1;
		c->secrets = xreallocarray(c->secrets, c->nsecrets + 1, sizeof(*c->secrets));
		memset(&c->secrets[c->nsecrets], 0, sizeof(*c->secrets));
		c->secrets[c->nsecrets].name = xstrdup(name);
		c->secrets[c->nsecrets].value = xstrdup(val);
		c->nsecrets++;
		i = (uint32_t)(nul2 + 1 - p);
	}
	return 0;
}

static int apply_config_msg(struct worker *w, const char *p, uint32_t len)
{
	char err[CONFIG_ERR_MAX];
	const char *nul = memchr(p, '\0', len);
	struct config *c = NULL;
	if (!nul) {
		snprintf(err, sizeof(err), "malformed MSG_CONFIG");
		goto reject;
	}
	if (config_parse(p, nul + 1, (size_t)(p + len - nul - 1), &c, err, sizeof(err)) < 0)
		goto reject;
	if (w->pending_secrets && install_secrets(c, w->pending_secrets, w->pending_secrets_len) < 0) {
		snprintf(err, sizeof(err), "malformed MSG_SECRETS");
		goto reject;
	}
	log_setup(c->log_level, sandbox_role_name(w->role));
	if (w->ops->apply_config(w, c, err, sizeof(err)) < 0)
		goto reject;
	config_free(w->cfg);
	w->cfg = c;
	w->started = 1;
	send_parent(w, MSG_READY, NULL, 0);
	return 0;
reject:
	config_free(c);
	char q[CONFIG_ERR_MAX + 64];
	log_error("config rejected", "reason=%s", log_quote(q, sizeof(q), err));
	/* A reload that failed part-way may have replaced some of what ran:
	 * apply the config in force again so the worker is whole. */
	if (w->started) {
		char err2[CONFIG_ERR_MAX];
		log_setup(w->cfg->log_level, sandbox_role_name(w->role));
		if (w->ops->apply_config(w, w->cfg, err2, sizeof(err2)) < 0)
			log_error("could not restore the running config", "reason=%s", log_quote(q, sizeof(q), err2));
	}
	send_parent(w, MSG_CONFIG_REJECTED, err, (uint32_t)strlen(err) + 1);
	return w->started ? 0 : -1;
}

static int parent_msg(void *ctx, struct ipc_conn *c, uint32_t type, const void *p, uint32_t len)
{
	struct worker *w = ctx;
	switch (type) {
	case MSG_SECRETS:
		if (w->pending_secrets)
			explicit_bzero(w->pending_secrets, w->pending_secrets_len);
		free(w->pending_secrets);
		w->pending_secrets = xmalloc(len + 1);
		memcpy(w->pending_secrets, p, len);
		w->pending_secrets_len = len;
		return 0;
	case MSG_CONFIG:
		return apply_config_msg(w, p, len) < 0 ? -EINVAL : 0;
	case MSG_PEER_FD: {
		struct msg_peer mp;
		memcpy(&mp, p, sizeof(mp));
		int fd = ipc_conn_take_fd(c);
		enum config_role peers[ROLE_COUNT];
		int n = worker_peers(w->role, peers), ok = 0;
		for (int i = 0; i < n; i++)
			ok |= peers[i] == (enum config_role)mp.role;
		if (fd < 0 || !ok) {
			if (fd >= 0)
				close(fd);
			log_error("dropping parent frame: MSG_PEER_FD without a valid fd or peer", "peer_role=%u", mp.role);
			return -EPROTO;
		}
		peer_set(w, (enum config_role)mp.role, fd);
		log_info("peer channel reconnected", "peer=%s", sandbox_role_name((enum config_role)mp.role));
		return 0;
	}
	case MSG_SHUTDOWN:
		loop_stop(w->loop);
		return 0;
	case MSG_METRICS_TEXT:
		if (w->ops->on_metrics_page) {
			w->ops->on_metrics_page(w, p, len);
			return 0;
		}
		log_error("dropping parent frame: no use for a metrics page", NULL);
		return -EPROTO;
	default:
		log_error("dropping parent frame of unexpected type", "type=%s", ipc_type_name(type));
		return -EPROTO;
	}
}

static void on_parent(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct worker *w = ctx;
	(void)fd;
	if (ev & LOOP_WRITE) {
		int rc = ipc_conn_flush(&w->parent);
		if (rc >= 0)
			loop_mod_fd(l, w->parent.fd, rc ? LOOP_READ | LOOP_WRITE : LOOP_READ);
	}
	if (ev & LOOP_READ) {
		int rc = ipc_conn_read(&w->parent, parent_msg, w);
		if (rc < 0) {
			if (rc != -EPIPE)
				log_error("parent channel failed", "reason=\"%s\"", strerror(-rc));
			loop_stop(l);	/* the parent is gone or lied: nothing to serve */
		}
	}
}

static void report(struct loop *l, uint64_t id, void *ctx)
{
	struct worker *w = ctx;
	(void)id;
	struct msg_stats st = { 0 };
	st.msgs_in = w->parent.msgs_in;
	st.msgs_out = w->parent.msgs_out;
	st.bytes_in = w->parent.bytes_in;
	st.bytes_out = w->parent.bytes_out;
	for (int r = 0; r < ROLE_COUNT; r++) {
		st.msgs_in += w->peers[r].msgs_in;
		st.msgs_out += w->peers[r].msgs_out;
		st.bytes_in += w->peers[r].bytes_in;
		st.bytes_out += w->peers[r].bytes_out;
	}
	st.egress_refused = egress_refused_count();
	st.dropped_peers = w->dropped_peers;
	send_parent(w, MSG_STATS, &st, sizeof(st));
	if (w->ops->metrics_text && w->started) {
		struct buf b;
		buf_init(&b, 16u << 20);
		w->ops->metrics_text(w, &b);
		send_parent(w, MSG_METRICS_TEXT, b.data ? b.data : "", (uint32_t)b.len);
		buf_free(&b);
	}
	loop_add_timer(l, 1000, report, w);
}

static void on_signal(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct signalfd_siginfo si;
	(void)ev;
	(void)ctx;
	while (read(fd, &si, sizeof(si)) == sizeof(si))
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			loop_stop(l);
}

int worker_main(int argc, char **argv)
{
	/* vigil __worker ROLE UID GID DROP RWPATH PPID */
	if (argc != 7) {
		fprintf(stderr, "vigil: __worker is started by vigil serve, not by hand\n");
		return 2;
	}
	int role = sandbox_role_parse(argv[1]);
	if (role <= ROLE_PARENT) {
		fprintf(stderr, "vigil: __worker: unknown role %s\n", argv[1]);
		return 2;
	}
	static const struct worker_ops *const ops[ROLE_COUNT] = {
		[ROLE_POLLER] = &worker_poller_ops, [ROLE_STORE] = &worker_store_ops,
		[ROLE_WEB] = &worker_web_ops, [ROLE_NOTIFIER] = &worker_notifier_ops,
	};
	struct worker w = { .role = (enum config_role)role, .ops = ops[role] };
	struct sandbox_spec sb = {
		.role = w.role, .uid = (uid_t)strtoul(argv[2], NULL, 10),
		.gid = (gid_t)strtoul(argv[3], NULL, 10), .drop_user = strcmp(argv[4], "1") == 0,
		.rw_path = strcmp(argv[5], "-") == 0 ? NULL : argv[5],
		.parent_pid = (pid_t)strtol(argv[6], NULL, 10),
	};
	char err[256];
	log_setup(LOG_INFO, sandbox_role_name(w.role));
	/* Enter the data directory while still privileged: its parents need not
	 * be searchable by the worker's user, and from here on every path the
	 * worker uses is relative to it. */
	if (sb.rw_path) {
		if (chdir(sb.rw_path) < 0) {
			log_error("cannot enter the data directory", "path=%s reason=\"%s\"", sb.rw_path, strerror(errno));
			return 1;
		}
		sb.rw_path = ".";
		/* Started as root: the data directory becomes the whole file system
		 * of the web worker (SQLite resolves full paths: with the chroot the
		 * parents of storage.path need not be searchable by its user). The
		 * store reads rule files and the notifier CA bundles elsewhere, so
		 * they stay in the data directory by cwd and Landlock instead. */
		if (sb.drop_user && role == ROLE_WEB) {
			if (chroot(".") < 0 || chdir("/") < 0) {
				log_error("cannot chroot into the data directory", "reason=\"%s\"", strerror(errno));
				return 1;
			}
			sb.rw_path = "/";
		}
	} else if (chdir("/") < 0) {
		return 1;
	}
	/* Signals as fds, before the sandbox: SIGTERM is a clean exit. */
	sigset_t ss;
	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGHUP);	/* reload is the parent's business */
	sigaddset(&ss, SIGPIPE);
	sigprocmask(SIG_BLOCK, &ss, NULL);
	int sfd = signalfd(-1, &ss, SFD_NONBLOCK | SFD_CLOEXEC);
	/* Databases in the data directory open relative to it (see sqlite_rel.h). */
	if (sqlite_rel_register() < 0) {
		log_error("cannot set up SQLite", NULL);
		return 1;
	}
	if (sandbox_enter(&sb, &w.landlock_on, err, sizeof(err)) < 0) {
		log_error("cannot enter sandbox", "reason=\"%s\"", err);
		return 1;
	}
	w.rw_path = sb.rw_path;
	w.loop = loop_new();
	ipc_conn_init(&w.parent, WORKER_FD_PARENT, "parent");
	for (int r = 0; r < ROLE_COUNT; r++)
		ipc_conn_init(&w.peers[r], -1, sandbox_role_name((enum config_role)r));
	loop_add_fd(w.loop, WORKER_FD_PARENT, LOOP_READ, on_parent, &w);
	loop_add_fd(w.loop, sfd, LOOP_READ, on_signal, &w);
	enum config_role peers[ROLE_COUNT];
	int np = worker_peers(w.role, peers);
	for (int i = 0; i < np; i++)
		peer_set(&w, peers[i], WORKER_FD_PEERS + i);
	struct msg_hello hello = { (uint32_t)role, (uint32_t)getpid() };
	send_parent(&w, MSG_HELLO, &hello, sizeof(hello));
	log_info("worker started", "pid=%d uid=%u landlock=%s seccomp=on", (int)getpid(),
	    (unsigned)getuid(), w.landlock_on ? "on" : "unavailable");
	loop_add_timer(w.loop, 1000, report, &w);
	int rc = loop_run(w.loop);
	if (w.started && w.ops->shutdown)
		w.ops->shutdown(&w);
	ipc_conn_flush(&w.parent);
	log_info("worker stopped", NULL);
	for (int r = 0; r < ROLE_COUNT; r++)
		ipc_conn_close(&w.peers[r]);
	ipc_conn_close(&w.parent);
	loop_free(w.loop);
	config_free(w.cfg);
	if (w.pending_secrets)
		explicit_bzero(w.pending_secrets, w.pending_secrets_len);
	free(w.pending_secrets);
	close(sfd);
	return rc < 0 || !w.started ? 1 : 0;
}
