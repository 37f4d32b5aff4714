/* Event loop timers and fds; the egress policy's refusals. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "t.h"

static int order[8], norder;

static void tmr(struct loop *l, uint64_t id, void *ctx)
{
	(void)l;
	(void)id;
	order[norder++] = (int)(intptr_t)ctx;
}

static void stopper(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	loop_stop(l);
}

T_TEST(timers_fire_in_deadline_order_and_cancel)
{
	struct loop *l = loop_new();
	norder = 0;
	loop_add_timer(l, 30, tmr, (void *)3);
	loop_add_timer(l, 10, tmr, (void *)1);
	uint64_t id = loop_add_timer(l, 20, tmr, (void *)2);
	loop_add_timer(l, 25, tmr, (void *)4);
	loop_del_timer(l, id);
	loop_add_timer(l, 60, stopper, NULL);
	int64_t t0 = clock_mono_ms();
	loop_run(l);
	int64_t took = clock_mono_ms() - t0;
	T_EQ_INT(norder, 3);
	T_EQ_INT(order[0], 1);
	T_EQ_INT(order[1], 4);
	T_EQ_INT(order[2], 3);
	T_CHECK(took >= 60 && took < 2000);
	loop_free(l);
}

static void on_read(struct loop *l, int fd, unsigned ev, void *ctx)
{
	int *got = ctx;
	char c;
	if ((ev & LOOP_READ) && read(fd, &c, 1) == 1)
		*got = c;
	loop_stop(l);
}

T_TEST(fd_readable_calls_back)
{
	struct loop *l = loop_new();
	int sv[2], got = 0;
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	T_EQ_INT(loop_add_fd(l, sv[1], LOOP_READ, on_read, &got), 0);
	(void)!write(sv[0], "q", 1);
	loop_add_timer(l, 2000, stopper, NULL);
	loop_run(l);
	T_EQ_INT(got, 'q');
	loop_del_fd(l, sv[1]);
	close(sv[0]);
	close(sv[1]);
	loop_free(l);
}

T_TEST(egress_refuses_what_the_config_does_not_name)
{
	egress_reset();
	T_EQ_INT(egress_allow_str("127.0.0.1", IPPROTO_UDP, 161, "test device"), 0);
	T_EQ_INT(egress_allow_str("::1", IPPROTO_TCP, 9100, "test scrape"), 0);
	T_EQ_INT(egress_allow_str("127.0.0.9", IPPROTO_ICMP, 0, "test ping"), 0);
	T_EQ_INT(egress_allow_str("not-an-address", IPPROTO_TCP, 1, "x"), -EINVAL);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(161) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	uint64_t before = egress_refused_count();
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), 0);
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_TCP), -EACCES);	/* wrong proto */
	a.sin_port = htons(162);
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), -EACCES);	/* wrong port */
	inet_pton(AF_INET, "127.0.0.2", &a.sin_addr);
	a.sin_port = htons(161);
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), -EACCES);	/* wrong host */
	inet_pton(AF_INET, "127.0.0.9", &a.sin_addr);
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_ICMP), 0);
	/* a v4-mapped IPv6 address is its IPv4 address */
	struct sockaddr_in6 m = { .sin6_family = AF_INET6, .sin6_port = htons(161) };
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &m.sin6_addr);
	T_EQ_INT(egress_check((struct sockaddr *)&m, sizeof(m), IPPROTO_UDP), 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(9100) };
	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	T_EQ_INT(egress_check((struct sockaddr *)&s6, sizeof(s6), IPPROTO_TCP), 0);
	T_EQ_INT(egress_refused_count() - before, 3);
	/* the wrappers refuse without touching the socket */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	inet_pton(AF_INET, "127.0.0.3", &a.sin_addr);
	errno = 0;
	T_EQ_INT(egress_sendto(fd, "x", 1, 0, (struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), -1);
	T_EQ_INT(errno, EACCES);
	T_EQ_INT(egress_connect(fd, (struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), -1);
	T_EQ_INT(errno, EACCES);
	close(fd);
	egress_reset();
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	T_EQ_INT(egress_check((struct sockaddr *)&a, sizeof(a), IPPROTO_UDP), -EACCES);
}

int main(void)
{
	T_RUN(timers_fire_in_deadline_order_and_cancel);
	T_RUN(fd_readable_calls_back);
	T_RUN(egress_refuses_what_the_config_does_not_name);
	return t_done();
}
