/* IPC framing tests: whole frames, split frames, bad types and lengths, fd passing. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/ipc.h"
#include "t.h"

struct got {
	int n;			/* frames delivered */
	uint32_t types[16];	/* their types */
	uint32_t lens[16];	/* their lengths */
};

static int on_msg(void *ctx, struct ipc_conn *c, uint32_t type, const void *p, uint32_t len)
{
	struct got *g = ctx;
	(void)c;
	(void)p;
	if (g->n < 16) {
		g->types[g->n] = type;
		g->lens[g->n] = len;
	}
	g->n++;
	return 0;
}

static void pair(int sv[2])
{
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
}

static void raw_frame(int fd, uint32_t type, uint32_t len, const void *p, size_t n)
{
	char h[8];
	memcpy(h, &type, 4);
	memcpy(h + 4, &len, 4);
	(void)!write(fd, h, 8);
	if (n)
		(void)!write(fd, p, n);
}

T_TEST(frames_roundtrip_in_order)
{
	int sv[2];
	pair(sv);
	struct ipc_conn a, b;
	ipc_conn_init(&a, sv[0], "a");
	ipc_conn_init(&b, sv[1], "b");
	struct msg_stats st = { .msgs_in = 7 };
	T_EQ_INT(ipc_conn_send(&a, MSG_STATS, &st, sizeof(st)), 0);
	T_EQ_INT(ipc_conn_send(&a, MSG_READY, NULL, 0), 0);
	T_EQ_INT(ipc_conn_send(&a, MSG_METRICS_TEXT, "x 1\n", 4), 0);
	struct got g = { 0 };
	T_EQ_INT(ipc_conn_read(&b, on_msg, &g), 0);
	T_EQ_INT(g.n, 3);
	T_EQ_INT(g.types[0], MSG_STATS);
	T_EQ_INT(g.types[1], MSG_READY);
	T_EQ_INT(g.lens[2], 4);
	T_EQ_INT(a.msgs_out, 3);
	T_EQ_INT(b.msgs_in, 3);
	ipc_conn_close(&a);
	T_EQ_INT(ipc_conn_read(&b, on_msg, &g), -EPIPE);
	ipc_conn_close(&b);
}

T_TEST(split_frame_waits_for_the_rest)
{
	int sv[2];
	pair(sv);
	struct ipc_conn b;
	ipc_conn_init(&b, sv[1], "b");
	struct msg_hello h = { 2, 99 };
	char frame[8 + sizeof(h)];
	uint32_t type = MSG_HELLO, len = sizeof(h);
	memcpy(frame, &type, 4);
	memcpy(frame + 4, &len, 4);
	memcpy(frame + 8, &h, sizeof(h));
	struct got g = { 0 };
	(void)!write(sv[0], frame, 5);
	T_EQ_INT(ipc_conn_read(&b, on_msg, &g), 0);
	T_EQ_INT(g.n, 0);
	(void)!write(sv[0], frame + 5, sizeof(frame) - 5);
	T_EQ_INT(ipc_conn_read(&b, on_msg, &g), 0);
	T_EQ_INT(g.n, 1);
	close(sv[0]);
	ipc_conn_close(&b);
}

T_TEST(bad_frames_drop_the_peer)
{
	struct { uint32_t type, len; } bad[] = {
		{ 0, 0 },			/* MSG_NONE */
		{ MSG_TYPE_COUNT, 0 },		/* unknown type */
		{ 0xffffffffu, 4 },		/* unknown type */
		{ MSG_STATS, 3 },		/* wrong fixed length */
		{ MSG_HELLO, sizeof(struct msg_hello) + 1 },
		{ MSG_READY, 1 },		/* must be empty */
		{ MSG_SAMPLES, 0 },		/* below minimum */
		{ MSG_SAMPLES, 0x7fffffffu },	/* above cap: refused before any payload */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int sv[2];
		pair(sv);
		struct ipc_conn b;
		ipc_conn_init(&b, sv[1], "b");
		char zeros[64] = { 0 };
		raw_frame(sv[0], bad[i].type, bad[i].len, zeros, bad[i].len < 64 ? bad[i].len : 0);
		struct got g = { 0 };
		int rc = ipc_conn_read(&b, on_msg, &g);
		if (rc != -EPROTO || g.n != 0)
			T_FAILF("case %zu: rc %d delivered %d", i, rc, g.n);
		close(sv[0]);
		ipc_conn_close(&b);
	}
}

T_TEST(sender_refuses_bad_frames)
{
	int sv[2];
	pair(sv);
	struct ipc_conn a;
	ipc_conn_init(&a, sv[0], "a");
	char x[3] = { 0 };
	T_EQ_INT(ipc_conn_send(&a, MSG_STATS, x, 3), -EPROTO);
	T_EQ_INT(ipc_conn_send(&a, 999, x, 1), -EPROTO);
	T_EQ_INT(a.msgs_out, 0);
	ipc_conn_close(&a);
	close(sv[1]);
}

T_TEST(fd_passing_arrives_with_its_frame)
{
	int sv[2], pv[2];
	pair(sv);
	pair(pv);
	T_EQ_INT(ipc_send_fd(sv[0], 2, pv[0]), 0);
	struct ipc_conn b;
	ipc_conn_init(&b, sv[1], "b");
	struct got g = { 0 };
	T_EQ_INT(ipc_conn_read(&b, on_msg, &g), 0);
	T_EQ_INT(g.n, 1);
	T_EQ_INT(g.types[0], MSG_PEER_FD);
	int fd = ipc_conn_take_fd(&b);
	T_CHECK(fd >= 0);
	/* The received fd is the same socket: a byte written to its peer arrives. */
	(void)!write(pv[1], "z", 1);
	char c = 0;
	T_EQ_INT(read(fd, &c, 1), 1);
	T_EQ_INT(c, 'z');
	T_EQ_INT(ipc_conn_take_fd(&b), -1);
	close(fd);
	close(pv[0]);
	close(pv[1]);
	close(sv[0]);
	ipc_conn_close(&b);
}

T_TEST(blocking_frames)
{
	int sv[2];
	pair(sv);
	T_EQ_INT(ipc_write_frame(sv[0], MSG_METRICS_TEXT, "abc", 3), 0);
	struct buf b;
	buf_init(&b, 1 << 20);
	uint32_t type;
	T_EQ_INT(ipc_read_frame(sv[1], &type, &b), 0);
	T_EQ_INT(type, MSG_METRICS_TEXT);
	T_EQ_STR(b.data, "abc");
	raw_frame(sv[0], MSG_STATS, 1, "x", 1);
	T_EQ_INT(ipc_read_frame(sv[1], &type, &b), -EPROTO);
	close(sv[0]);
	T_EQ_INT(ipc_read_frame(sv[1], &type, &b), -EPIPE);
	close(sv[1]);
	buf_free(&b);
}

int main(void)
{
	T_RUN(frames_roundtrip_in_order);
	T_RUN(split_frame_waits_for_the_rest);
	T_RUN(bad_frames_drop_the_peer);
	T_RUN(sender_refuses_bad_frames);
	T_RUN(fd_passing_arrives_with_its_frame);
	T_RUN(blocking_frames);
	return t_done();
}
