/*
 * loop.h — the event loop: epoll for fds, a min-heap of timers, all on one
 * thread. Every worker runs one loop (Redis ae.c).
 *
 *   struct loop *l = loop_new();
 *   loop_add_fd(l, fd, LOOP_READ, on_read, ctx);
 *   uint64_t id = loop_add_timer(l, 1000, on_tick, ctx);   // once, in 1000 ms
 *   loop_run(l);                                           // until loop_stop()
 *
 * Callbacks may add and remove fds and timers, including their own.
 */
#ifndef VIGIL_LOOP_H
#define VIGIL_LOOP_H

#include <stdint.h>

#define LOOP_READ  1u	/* fd readable (or hung up / error) */
#define LOOP_WRITE 2u	/* fd writable */

struct loop;

/* Called with the LOOP_* bits that are ready. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, unsigned events, void *ctx);
/* Called once when the timer fires; re-arm by adding a new timer. */
typedef void (*loop_timer_cb)(struct loop *l, uint64_t id, void *ctx);

/* Make a loop; abort if epoll cannot be created. */
struct loop *loop_new(void);
/* Free the loop (fds are not closed). NULL is fine. */
void loop_free(struct loop *l);
/* Watch fd for events; replaces an earlier watch of the same fd. 0 or -errno. */
int loop_add_fd(struct loop *l, int fd, unsigned events, loop_fd_cb cb, void *ctx);
/* Change the events watched on fd. 0 or -errno. */
int loop_mod_fd(struct loop *l, int fd, unsigned events);
/* Stop watching fd (before closing it). */
void loop_del_fd(struct loop *l, int fd);
/* Call cb once after delay_ms; return a timer id (never 0). */
uint64_t loop_add_timer(struct loop *l, int64_t delay_ms, loop_timer_cb cb, void *ctx);
/* Cancel a pending timer; unknown or fired ids are ignored. */
void loop_del_timer(struct loop *l, uint64_t id);
/* Run until loop_stop(); return 0, or -errno if epoll_wait fails. */
int loop_run(struct loop *l);
/* Run one iteration, waiting at most max_wait_ms (-1: until something). */
int loop_once(struct loop *l, int max_wait_ms);
/* Make loop_run return after the current iteration. */
void loop_stop(struct loop *l);
/* The loop's cached monotonic time in ms (updated each iteration). */
int64_t loop_now(const struct loop *l);

#endif
