/*
 * worker.h — what every worker process has in common: the channel to the
 * parent, channels to its peer workers, the config it was sent, its event
 * loop, and the once-a-second report of its counters to the parent.
 *
 * A worker is `vigil __worker ROLE UID GID DROP RWPATH PPID` (the parent
 * builds that line); fd 3 is the parent channel and fds 4.. are peers, in the
 * order of worker_peers(). It sandboxes itself before reading anything, says
 * MSG_HELLO, then waits for MSG_SECRETS + MSG_CONFIG and calls the role's
 * apply_config; a reload is the same two messages again.
 */
#ifndef VIGIL_WORKER_H
#define VIGIL_WORKER_H

#include <stdint.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/ipc.h"
#include "core/loop.h"

#define WORKER_FD_PARENT 3	/* the parent channel, in every worker */
#define WORKER_FD_PEERS  4	/* first peer channel */

struct worker;

struct worker_ops {
	/* Apply a (new) config. First call: start up. Return 0, or -1 with a
	 * reason in err (the parent logs it; a reload rejected keeps the old). */
	int (*apply_config)(struct worker *w, const struct config *c, char *err, size_t errsz);
	/* A frame from a peer worker. Return 0, or -1 to drop that peer. */
	int (*on_peer_msg)(struct worker *w, enum config_role from, uint32_t type,
	    const void *p, uint32_t len);
	/* A peer's channel was (re)connected; may be NULL. */
	void (*on_peer_up)(struct worker *w, enum config_role peer);
	/* Append the role's own metric families (exposition text); may be NULL. */
	void (*metrics_text)(struct worker *w, struct buf *out);
	/* The parent sent the whole /metrics page (web worker only); may be NULL. */
	void (*on_metrics_page)(struct worker *w, const char *p, size_t n);
	/* Clean shutdown (flush, close); may be NULL. Must finish within ~1 s. */
	void (*shutdown)(struct worker *w);
};

struct worker {
	enum config_role role;			/* which worker this is */
	struct loop *loop;			/* the worker's event loop */
	struct ipc_conn parent;			/* channel to the parent */
	struct ipc_conn peers[ROLE_COUNT];	/* channels to peer workers (fd -1: none) */
	struct config *cfg;			/* config in force (owned) */
	char *pending_secrets;			/* MSG_SECRETS payload waiting for MSG_CONFIG */
	uint32_t pending_secrets_len;		/* its length */
	const char *rw_path;			/* writable directory (data dir) */
	const struct worker_ops *ops;		/* the role's functions */
	void *state;				/* the role's state */
	uint64_t dropped_peers;			/* peers dropped for bad frames */
	int started;				/* apply_config succeeded once */
	int landlock_on;			/* the Landlock ruleset is active */
};

/* Entry point for `vigil __worker ...`; returns the exit code. */
int worker_main(int argc, char **argv);
/* The peers a role talks to, in fd order; returns the count. */
int worker_peers(enum config_role role, enum config_role out[ROLE_COUNT]);
/* Send a frame to a peer; 0, -EPIPE if it is not connected, -E2BIG if its queue is full. */
int worker_send(struct worker *w, enum config_role peer, uint32_t type, const void *p, uint32_t len);
/* Send a two-part frame to a peer. */
int worker_send2(struct worker *w, enum config_role peer, uint32_t type, const void *a,
    uint32_t alen, const void *b, uint32_t blen);

/* The role implementations (worker_*.c). */
extern const struct worker_ops worker_poller_ops, worker_store_ops, worker_web_ops,
    worker_notifier_ops;

#endif
