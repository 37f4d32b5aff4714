/*
 * ipc.h — framed, typed messages between vigil's processes over the
 * socketpairs the parent creates (OpenBSD imsg style, simplified).
 *
 * A frame is an 8-byte header {u32 type, u32 len} (host order: both ends are
 * the same binary on the same machine) followed by len payload bytes. Every
 * type has an exact length (fixed-size structs) or a cap (variable payloads);
 * the receiver checks it before reading the payload, and a peer that sends an
 * unknown type or a wrong length is dropped and logged.
 *
 * Non-blocking use (workers' event loops):
 *   ipc_conn_init(&c, fd, "store");
 *   on readable: rc = ipc_conn_read(&c, on_msg, ctx);  rc < 0: drop the peer
 *   ipc_conn_send(&c, MSG_X, p, n);  then ipc_conn_flush() when writable
 * Blocking use (the web worker's request threads): ipc_call().
 */
#ifndef VIGIL_IPC_H
#define VIGIL_IPC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

enum msg_type {
	MSG_NONE = 0,
	MSG_HELLO,		/* worker -> parent: struct msg_hello, once at start */
	MSG_CONFIG,		/* parent -> worker: config file name, NUL, YAML text */
	MSG_SECRETS,		/* parent -> worker: secrets for its role (name NUL value NUL ...) */
	MSG_READY,		/* worker -> parent: config applied (empty) */
	MSG_CONFIG_REJECTED,	/* worker -> parent: the error text */
	MSG_STATS,		/* worker -> parent: struct msg_stats, every second */
	MSG_METRICS_TEXT,	/* worker -> parent: its own metric families (exposition text);
				 * parent -> web: the whole /metrics page */
	MSG_SAMPLES,		/* poller -> store: an encoded batch (core/batch.h) */
	MSG_API_REQUEST,	/* web -> store: struct msg_api_req + method, path, query, body */
	MSG_API_RESPONSE,	/* store -> web: struct msg_api_resp + content type + body */
	MSG_PEER_FD,		/* parent -> worker: struct msg_peer + an fd (SCM_RIGHTS) */
	MSG_SHUTDOWN,		/* parent -> worker: exit cleanly (empty) */
	MSG_ALERTS,		/* store -> notifier: alert notifications (JSON) */
	MSG_TYPE_COUNT
};

#define IPC_HDR_LEN 8u

struct msg_hello {
	uint32_t role;		/* enum config_role of the sender */
	uint32_t pid;		/* its pid */
};

struct msg_stats {
	uint64_t msgs_in, msgs_out;	/* frames received / sent on all channels */
	uint64_t bytes_in, bytes_out;	/* bytes of those frames */
	uint64_t egress_refused;	/* outbound attempts refused by the policy */
	uint64_t dropped_peers;		/* peers dropped for bad frames */
};

struct msg_peer {
	uint32_t role;		/* the peer whose channel the attached fd is */
};

struct msg_api_req {
	uint32_t method_len, path_len, query_len, body_len;	/* lengths of what follows */
};

struct msg_api_resp {
	uint32_t status;	/* HTTP status */
	uint32_t ctype_len;	/* length of the content type that follows, then the body */
};

/* Return a type's name for logs ("MSG_STATS"), or "unknown". */
const char *ipc_type_name(uint32_t type);
/* Check a header against the type table: 0, or -EPROTO with a reason in why. */
int ipc_check(uint32_t type, uint32_t len, const char **why /* out */);

struct ipc_conn {
	int fd;			/* non-blocking socket, -1 when closed */
	const char *peer;	/* peer name for logs */
	struct buf in;		/* bytes read, not yet a whole frame */
	struct buf out;		/* frames queued, not yet written */
	size_t out_off;		/* bytes of out already written */
	uint64_t msgs_in, msgs_out, bytes_in, bytes_out;	/* counters */
	int fds[4];		/* descriptors received (SCM_RIGHTS), oldest first */
	int nfds;		/* entries in fds */
};

/* Take the oldest descriptor received on c (for MSG_PEER_FD), or -1. */
int ipc_conn_take_fd(struct ipc_conn *c);

typedef int (*ipc_msg_cb)(void *ctx, struct ipc_conn *c, uint32_t type, const void *p, uint32_t len);

/* Set up a connection over fd (made non-blocking); capped buffers. */
void ipc_conn_init(struct ipc_conn *c, int fd, const char *peer);
/* Free buffers and close fd; c may be NULL. */
void ipc_conn_close(struct ipc_conn *c);
/*
 * Read what is available and call cb for each whole frame. Return 0 while the
 * peer is fine, -EPIPE on EOF, -EPROTO for a bad frame (logged), or cb's
 * negative return value.
 */
int ipc_conn_read(struct ipc_conn *c, ipc_msg_cb cb, void *ctx);
/* Queue a frame and try to write it. 0, or -E2BIG if the queue is full. */
int ipc_conn_send(struct ipc_conn *c, uint32_t type, const void *p, uint32_t len);
/* Queue a frame made of two parts (header struct + payload). */
int ipc_conn_send2(struct ipc_conn *c, uint32_t type, const void *a, uint32_t alen,
    const void *b, uint32_t blen);
/* Write queued bytes. 0 when all is written, 1 when some remain (watch for
 * writable), -errno on a write error. */
int ipc_conn_flush(struct ipc_conn *c);
/* 1 if frames are waiting to be written. */
int ipc_conn_pending(const struct ipc_conn *c);

/* Blocking: send one frame on fd (writes fully). 0 or -errno. */
int ipc_write_frame(int fd, uint32_t type, const void *p, uint32_t len);
/* Blocking: read one frame into out (reset first) and *type. 0, -EPIPE, -EPROTO. */
int ipc_read_frame(int fd, uint32_t *type /* out */, struct buf *out);
/* Send an fd with a MSG_PEER_FD frame. 0 or -errno. */
int ipc_send_fd(int sock, uint32_t role, int fd);

#endif
