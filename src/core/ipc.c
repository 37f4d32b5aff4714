/* ipc.c — see ipc.h. */
#include "core/ipc.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IPC_QUEUE_CAP (256u << 20)	/* frames queued for a slow peer */

/* Exact length (min == max) or range for each message type. */
static const struct {
	const char *name;	/* for logs */
	uint32_t min, max;	/* allowed payload lengths */
} types[MSG_TYPE_COUNT] = {
	[MSG_NONE] = { "MSG_NONE", 1, 0 },	/* never valid */
	[MSG_HELLO] = { "MSG_HELLO", sizeof(struct msg_hello), sizeof(struct msg_hello) },
	[MSG_CONFIG] = { "MSG_CONFIG", 2, BUF_CAP_CONFIG + 4096 },
	[MSG_SECRETS] = { "MSG_SECRETS", 0, BUF_CAP_CONFIG },
	[MSG_READY] = { "MSG_READY", 0, 0 },
	[MSG_CONFIG_REJECTED] = { "MSG_CONFIG_REJECTED", 1, 4096 },
	[MSG_STATS] = { "MSG_STATS", sizeof(struct msg_stats), sizeof(struct msg_stats) },
	[MSG_METRICS_TEXT] = { "MSG_METRICS_TEXT", 0, 16u << 20 },
	[MSG_SAMPLES] = { "MSG_SAMPLES", 1, 16u << 20 },
	[MSG_API_REQUEST] = { "MSG_API_REQUEST", sizeof(struct msg_api_req), (9u << 20) },
	[MSG_API_RESPONSE] = { "MSG_API_RESPONSE", sizeof(struct msg_api_resp), BUF_CAP_IPC_FRAME },
	[MSG_PEER_FD] = { "MSG_PEER_FD", sizeof(struct msg_peer), sizeof(struct msg_peer) },
	[MSG_SHUTDOWN] = { "MSG_SHUTDOWN", 0, 0 },
	[MSG_ALERTS] = { "MSG_ALERTS", 2, 16u << 20 },
};

const char *ipc_type_name(uint32_t type)
{
	return type < MSG_TYPE_COUNT ? types[type].name : "unknown";
}

int ipc_check(uint32_t type, uint32_t len, const char **why)
{
	if (type == MSG_NONE || type >= MSG_TYPE_COUNT) {
		*why = "unknown message type";
		return -EPROTO;
	}
	if (len < types[type].min || len > types[type].max) {
		*why = types[type].min == types[type].max ? "wrong length for message type"
		    : "length out of range for message type";
		return -EPROTO;
	}
	*why = NULL;
	return 0;
}

void ipc_conn_init(struct ipc_conn *c, int fd, const char *peer)
{
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->peer = peer;
	buf_init(&c->in, BUF_CAP_IPC_FRAME + IPC_HDR_LEN + 65536);
	buf_init(&c->out, IPC_QUEUE_CAP);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

void ipc_conn_close(struct ipc_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	for (int i = 0; i < c->nfds; i++)
		close(c->fds[i]);
	c->nfds = 0;
	buf_free(&c->in);
	buf_free(&c->out);
	c->out_off = 0;
}

static void get_hdr(const char *p, uint32_t *type, uint32_t *len)
{
	memcpy(type, p, 4);
	memcpy(len, p + 4, 4);
}

/* read(2) that also keeps descriptors passed with SCM_RIGHTS (read would drop them). */
static ssize_t recv_some(struct ipc_conn *c, void *p, size_t n)
{
	struct iovec iov = { p, n };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 4)];
	} cm;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
		.msg_controllen = sizeof(cm.b) };
	ssize_t r = recvmsg(c->fd, &m, MSG_CMSG_CLOEXEC);
	if (r <= 0)
		return r;
	for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h)) {
		if (h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd && i < 4; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
			if (c->nfds < 4)
				c->fds[c->nfds++] = fd;
			else
				close(fd);	/* more than a peer could legitimately send */
		}
	}
	return r;
}

int ipc_conn_take_fd(struct ipc_conn *c)
{
	if (c->nfds == 0)
		return -1;
	int fd = c->fds[0];
	memmove(c->fds, c->fds + 1, (size_t)(c->nfds - 1) * sizeof(int));
	c->nfds--;
	return fd;
}

int ipc_conn_read(struct ipc_conn *c, ipc_msg_cb cb, void *ctx)
{
	char tmp[65536];
	for (;;) {
		ssize_t n = recv_some(c, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EPIPE;
		if (buf_add(&c->in, tmp, (size_t)n) < 0)
			return -EPROTO;	/* cannot happen after the header check below */
		/* Deliver every whole frame; check each header as soon as it is here. */
		size_t off = 0;
		while (c->in.len - off >= IPC_HDR_LEN) {
			uint32_t type, len;
			const char *why;
			get_hdr(c->in.data + off, &type, &len);
			if (ipc_check(type, len, &why) < 0) {
				log_error("dropping peer: bad frame", "peer=%s type=%u len=%u reason=\"%s\"",
				    c->peer, type, len, why);
				return -EPROTO;
			}
			if (c->in.len - off - IPC_HDR_LEN < len)
				break;
			c->msgs_in++;
			c->bytes_in += IPC_HDR_LEN + len;
			int rc = cb(ctx, c, type, c->in.data + off + IPC_HDR_LEN, len);
			if (rc < 0)
				return rc;
			if (c->fd < 0)
				return -EPIPE;	/* closed by the callback */
			off += IPC_HDR_LEN + len;
		}
		if (off) {
			memmove(c->in.data, c->in.data + off, c->in.len - off);
			c->in.len -= off;
		}
	}
	return 0;
}

int ipc_conn_send2(struct ipc_conn *c, uint32_t type, const void *a, uint32_t alen,
    const void *b, uint32_t blen)
{
	char hdr[IPC_HDR_LEN];
	uint32_t len = alen + blen;
	const char *why;
	if (ipc_check(type, len, &why) < 0) {
		log_error("refusing to send a bad frame", "peer=%s type=%u len=%u reason=\"%s\"",
		    c->peer, type, len, why);
		return -EPROTO;
	}
	if (c->fd < 0)
		return -EPIPE;
	/* Compact the queue before growing it. */
	if (c->out_off && c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	size_t mark = c->out.len;
	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &len, 4);
	if (buf_add(&c->out, hdr, IPC_HDR_LEN) < 0 || buf_add(&c->out, a, alen) < 0 ||
	    buf_add(&c->out, b, blen) < 0) {
		c->out.len = mark;
		return -E2BIG;
	}
	c->msgs_out++;
	c->bytes_out += IPC_HDR_LEN + len;
	int rc = ipc_conn_flush(c);
	return rc < 0 ? rc : 0;
}

int ipc_conn_send(struct ipc_conn *c, uint32_t type, const void *p, uint32_t len)
{
	return ipc_conn_send2(c, type, p, len, NULL, 0);
}

int ipc_conn_flush(struct ipc_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 1;
		if (n < 0)
			return -errno;
		c->out_off += (size_t)n;
	}
	buf_reset(&c->out);
	c->out_off = 0;
	return 0;
}

int ipc_conn_pending(const struct ipc_conn *c)
{
	return c->out_off < c->out.len;
}

static int write_all(int fd, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t w = send(fd, s, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	char *s = p;
	while (n) {
		ssize_t r = read(fd, s, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -EPIPE;
		s += r;
		n -= (size_t)r;
	}
	return 0;
}

int ipc_write_frame(int fd, uint32_t type, const void *p, uint32_t len)
{
	char hdr[IPC_HDR_LEN];
	const char *why;
	if (ipc_check(type, len, &why) < 0)
		return -EPROTO;
	memcpy(hdr, &type, 4);
	memcpy(hdr + 4, &len, 4);
	int rc = write_all(fd, hdr, IPC_HDR_LEN);
	return rc < 0 ? rc : write_all(fd, p, len);
}

int ipc_read_frame(int fd, uint32_t *type, struct buf *out)
{
	char hdr[IPC_HDR_LEN];
	uint32_t len;
	const char *why;
	buf_reset(out);
	int rc = read_all(fd, hdr, IPC_HDR_LEN);
	if (rc < 0)
		return rc;
	get_hdr(hdr, type, &len);
	if (ipc_check(*type, len, &why) < 0)
		return -EPROTO;
	if (buf_reserve(out, len) < 0)
		return -EPROTO;
	rc = read_all(fd, out->data, len);
	if (rc < 0)
		return rc;
	out->len = len;
	out->data[len] = '\0';
	return 0;
}

int ipc_send_fd(int sock, uint32_t role, int fd)
{
	char frame[IPC_HDR_LEN + sizeof(struct msg_peer)];
	uint32_t type = MSG_PEER_FD, len = sizeof(struct msg_peer);
	struct msg_peer mp = { role };
	memcpy(frame, &type, 4);
	memcpy(frame + 4, &len, 4);
	memcpy(frame + IPC_HDR_LEN, &mp, sizeof(mp));
	struct iovec iov = { frame, sizeof(frame) };
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} cm;
	memset(&cm, 0, sizeof(cm));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b,
		.msg_controllen = sizeof(cm.b) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &fd, sizeof(int));
	for (;;) {
		ssize_t n = sendmsg(sock, &m, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if ((size_t)n != sizeof(frame))
			return -EIO;
		return 0;
	}
}
