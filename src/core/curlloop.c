/* curlloop.c — see curlloop.h. */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "core/curlloop.h"
#include "sandbox/egress.h"

curl_socket_t curl_egress_socket(void *refused, curlsocktype purpose, struct curl_sockaddr *a)
{
	if (purpose != CURLSOCKTYPE_IPCXN)
		return CURL_SOCKET_BAD;
	if (egress_check(&a->addr, a->addrlen, IPPROTO_TCP) < 0) {
		if (refused)
			*(int *)refused = 1;
		return CURL_SOCKET_BAD;
	}
	int fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static void on_fd(struct loop *l, int fd, unsigned events, void *ctx)
{
	struct curl_loop *cl = ctx;
	int flags = (events & LOOP_READ ? CURL_CSELECT_IN : 0) | (events & LOOP_WRITE ? CURL_CSELECT_OUT : 0);
	(void)l;
	curl_multi_socket_action(cl->multi, fd, flags, &cl->running);
	if (cl->after)
		cl->after(cl->ctx);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *ud, void *sockp)
{
	struct curl_loop *cl = ud;
	(void)e;
	(void)sockp;
	if (what == CURL_POLL_REMOVE) {
		loop_del_fd(cl->loop, s);
		return 0;
	}
	unsigned ev = (what & CURL_POLL_IN ? LOOP_READ : 0) | (what & CURL_POLL_OUT ? LOOP_WRITE : 0);
	loop_add_fd(cl->loop, s, ev, on_fd, cl);
	return 0;
}

static void on_timeout(struct loop *l, uint64_t id, void *ctx)
{
	struct curl_loop *cl = ctx;
	(void)l;
	if (cl->timer != id)
		return;	/* replaced by a newer timeout */
	cl->timer = 0;
	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &cl->running);
	if (cl->after)
		cl->after(cl->ctx);
}

static int on_timer(CURLM *multi, long ms, void *ud)
{
	struct curl_loop *cl = ud;
	(void)multi;
	if (cl->timer)
		loop_del_timer(cl->loop, cl->timer);
	cl->timer = ms < 0 ? 0 : loop_add_timer(cl->loop, ms, on_timeout, cl);
	return 0;
}

void curl_loop_init(struct curl_loop *cl, struct loop *l, void (*after)(void *ctx), void *ctx)
{
	cl->loop = l;
	cl->timer = 0;
	cl->running = 0;
	cl->after = after;
	cl->ctx = ctx;
	cl->multi = curl_multi_init();
	if (!cl->multi)
		abort();
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
}

void curl_loop_free(struct curl_loop *cl)
{
	if (!cl || !cl->multi)
		return;
	if (cl->timer)
		loop_del_timer(cl->loop, cl->timer);
	cl->timer = 0;
	curl_multi_cleanup(cl->multi);
	cl->multi = NULL;
}
