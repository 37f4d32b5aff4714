/* loop.c — see loop.h. */
#include "core/loop.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

struct fdwatch {
	int fd;			/* the watched descriptor */
	unsigned events;	/* LOOP_* bits wanted */
	loop_fd_cb cb;		/* handler */
	void *ctx;		/* handler's argument */
};

struct timer {
	int64_t when;		/* monotonic ms at which it fires */
	uint64_t id;		/* unique id, 0 once cancelled */
	loop_timer_cb cb;	/* handler */
	void *ctx;		/* handler's argument */
};

struct loop {
	int epfd;			/* epoll instance */
	struct fdwatch **fds;		/* indexed by fd, NULL when unwatched */
	int nfds;			/* slots in fds */
	struct timer *heap;		/* min-heap on when */
	size_t nheap, capheap;		/* timers in heap, slots */
	uint64_t next_id;		/* last id handed out */
	int64_t now;			/* cached monotonic ms */
	int stop;			/* loop_stop() was called */
};

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof(*l));
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		abort();
	l->now = clock_mono_ms();
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (int i = 0; i < l->nfds; i++)
		free(l->fds[i]);
	free(l->fds);
	free(l->heap);
	close(l->epfd);
	free(l);
}

static uint32_t to_epoll(unsigned ev)
{
	return (ev & LOOP_READ ? EPOLLIN : 0) | (ev & LOOP_WRITE ? EPOLLOUT : 0);
}

int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *ctx)
{
	if (fd < 0)
		return -EBADF;
	if (fd >= l->nfds) {
		int n = fd + 64;
		l->fds = xreallocarray(l->fds, (size_t)n, sizeof(*l->fds));
		memset(l->fds + l->nfds, 0, (size_t)(n - l->nfds) * sizeof(*l->fds));
		l->nfds = n;
	}
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
	int op = l->fds[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
	if (epoll_ctl(l->epfd, op, fd, &ev) < 0)
		return -errno;
	if (!l->fds[fd])
		l->fds[fd] = xcalloc(1, sizeof(struct fdwatch));
	*l->fds[fd] = (struct fdwatch){ fd, events, cb, ctx };
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, unsigned events)
{
	if (fd < 0 || fd >= l->nfds || !l->fds[fd])
		return -ENOENT;
	struct epoll_event ev = { .events = to_epoll(events), .data.fd = fd };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		return -errno;
	l->fds[fd]->events = events;
	return 0;
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || fd >= l->nfds || !l->fds[fd])
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	free(l->fds[fd]);
	l->fds[fd] = NULL;
}

static void heap_swap(struct loop *l, size_t a, size_t b)
{
	struct timer t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
}

static void heap_up(struct loop *l, size_t i)
{
	while (i > 0 && l->heap[(i - 1) / 2].when > l->heap[i].when) {
		heap_swap(l, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void heap_down(struct loop *l, size_t i)
{
	for (;;) {
		size_t s = i, a = 2 * i + 1, b = a + 1;
		if (a < l->nheap && l->heap[a].when < l->heap[s].when)
			s = a;
		if (b < l->nheap && l->heap[b].when < l->heap[s].when)
			s = b;
		if (s == i)
			return;
		heap_swap(l, i, s);
		i = s;
	}
}

uint64_t loop_add_timer(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *ctx)
{
	if (l->nheap == l->capheap) {
		l->capheap = l->capheap ? l->capheap * 2 : 16;
		l->heap = xreallocarray(l->heap, l->capheap, sizeof(*l->heap));
	}
	uint64_t id = ++l->next_id;
	l->heap[l->nheap] = (struct timer){ clock_mono_ms() + (delay_ms > 0 ? delay_ms : 0), id, cb, ctx };
	heap_up(l, l->nheap++);
	return id;
}

void loop_del_timer(struct loop *l, uint64_t id)
{
	/* Linear: cancellation is rare next to firing; the slot stays until it
	 * reaches the top, marked dead. */
	for (size_t i = 0; i < l->nheap; i++)
		if (l->heap[i].id == id) {
			l->heap[i].id = 0;
			return;
		}
}

static void run_timers(struct loop *l)
{
	l->now = clock_mono_ms();
	while (l->nheap && l->heap[0].when <= l->now) {
		struct timer t = l->heap[0];
		l->heap[0] = l->heap[--l->nheap];
		heap_down(l, 0);
		if (t.id)
			t.cb(l, t.id, t.ctx);
	}
}

int loop_once(struct loop *l, int max_wait_ms)
{
	struct epoll_event evs[64];
	int wait = max_wait_ms;
	l->now = clock_mono_ms();
	while (l->nheap && l->heap[0].id == 0) {	/* drop cancelled timers on top */
		l->heap[0] = l->heap[--l->nheap];
		heap_down(l, 0);
	}
	if (l->nheap) {
		int64_t d = l->heap[0].when - l->now;
		if (d < 0)
			d = 0;
		if (wait < 0 || d < wait)
			wait = (int)(d > 60000 ? 60000 : d);
	}
	int n = epoll_wait(l->epfd, evs, 64, wait);
	if (n < 0 && errno != EINTR)
		return -errno;
	l->now = clock_mono_ms();
	for (int i = 0; i < n; i++) {
		int fd = evs[i].data.fd;
		if (fd >= l->nfds || !l->fds[fd])
			continue;	/* removed by an earlier callback */
		struct fdwatch *w = l->fds[fd];
		unsigned ready = 0;
		if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))
			ready |= LOOP_READ;
		if (evs[i].events & EPOLLOUT)
			ready |= LOOP_WRITE;
		ready &= w->events | LOOP_READ;
		if (ready)
			w->cb(l, fd, ready, w->ctx);
	}
	run_timers(l);
	return 0;
}

int loop_run(struct loop *l)
{
	l->stop = 0;
	while (!l->stop) {
		int rc = loop_once(l, -1);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = 1;
}

int64_t loop_now(const struct loop *l)
{
	return l->now;
}
