/*
 * curlloop.h — libcurl's multi interface driven by a worker's event loop
 * (core/loop.h): curl's sockets become loop fds, curl's timeout a loop timer.
 * Scrapes, HTTP probes and notification delivery all use it.
 *
 *   struct curl_loop cl;
 *   curl_loop_init(&cl, loop, check_done, ctx);   // check_done(ctx) runs after
 *   curl_multi_add_handle(cl.multi, easy);         //   every socket action and
 *   ...                                            //   reads curl_multi_info_read
 *   curl_loop_free(&cl);   // after removing every easy handle
 */
#ifndef VIGIL_CURLLOOP_H
#define VIGIL_CURLLOOP_H

#include <curl/curl.h>
#include <stdint.h>

#include "core/loop.h"

struct curl_loop {
	struct loop *loop;		/* the event loop curl runs on */
	CURLM *multi;			/* the multi handle (add easy handles to it) */
	uint64_t timer;			/* curl's pending timeout on the loop, 0 if none */
	int running;			/* transfers running after the last socket action */
	void (*after)(void *ctx);	/* called after every socket action (may be NULL) */
	void *ctx;			/* its argument */
};

/*
 * CURLOPT_OPENSOCKETFUNCTION for every libcurl user: the connection is made
 * only if the egress policy (sandbox/egress.h) allows its address. With
 * CURLOPT_OPENSOCKETDATA pointing at an int, a refusal sets it to 1 (NULL:
 * nothing is recorded). Sockets are close-on-exec.
 */
curl_socket_t curl_egress_socket(void *refused, curlsocktype purpose, struct curl_sockaddr *a);

/* Make the multi handle and hook it to l. Aborts if curl cannot make one. */
void curl_loop_init(struct curl_loop *cl, struct loop *l, void (*after)(void *ctx), void *ctx);
/* Cancel the timer and free the multi handle (its easy handles must already
 * be removed). cl may be NULL. */
void curl_loop_free(struct curl_loop *cl);

#endif
