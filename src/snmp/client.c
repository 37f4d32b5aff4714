/* client.c — see client.h. */
#include "snmp/client.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#define RECV_BURST     256		/* datagrams read per readiness callback */
#define SOCK_RCVBUF    (4 << 20)	/* receive buffer asked for, bytes */
#define BACKOFF_MAX    8		/* retransmission timeout grows to at most 8x */
#define NO_SLOT        ((size_t)-1)	/* req not in the timer heap */

enum v3_state { V3_UNKNOWN, V3_DISCOVERING, V3_READY };

struct req {
	int32_t id;			/* request-id (v3: also msgID); key in c->pending */
	struct snmp_target *t;		/* owner */
	uint8_t type;			/* PDU type */
	int nonrep, maxrep;		/* GETBULK parameters */
	uint8_t *vbl;			/* requested OIDs as an encoded varbind list, owned */
	size_t vbl_len;			/* bytes at vbl */
	size_t n;			/* OIDs in vbl */
	snmp_resp_cb cb;		/* completion; NULL for the internal discovery probe */
	void *ctx;			/* cb's argument */
	int tries;			/* datagrams sent so far */
	int fail;			/* deferred failure status for the next timer, or 0 */
	int resent_window;		/* already re-sent after notInTimeWindow */
	int64_t deadline;		/* loop time (ms) its timer fires */
	size_t hidx;			/* index in the client's timer heap, NO_SLOT if none */
	struct req *next, *prev;	/* the target's queue or in-flight list */
};

struct snmp_target {
	struct snmp_client *c;		/* owner */
	char *name;			/* for logs */
	struct sockaddr_storage addr;	/* device address */
	socklen_t addrlen;		/* bytes used in addr */
	int version;			/* SNMP_V1 / V2C / V3 */
	char *community;		/* v1/v2c */
	char *user;			/* v3 user */
	enum usm_auth auth;		/* v3 auth protocol */
	enum usm_priv priv;		/* v3 privacy protocol */
	uint8_t ku_auth[USM_KEY_MAX];	/* auth password's Ku */
	uint8_t ku_priv[USM_KEY_MAX];	/* priv password's Ku */
	uint8_t kul_auth[USM_KEY_MAX];	/* auth key localized to the engine */
	uint8_t priv_key[USM_KEY_MAX];	/* privacy key localized (and extended) */
	uint8_t engine_id[USM_ENGINE_ID_MAX]; /* the agent's snmpEngineID */
	size_t engine_id_len;		/* bytes at engine_id */
	uint32_t boots;			/* engine boots last seen */
	uint32_t etime;			/* engine time last seen, seconds */
	int64_t etime_at;		/* loop time (ms) when etime was seen */
	uint64_t salt;			/* privacy salt, incremented per message */
	enum v3_state v3;		/* discovery state */
	int timeout_ms;			/* first retransmission timeout */
	int retries;			/* re-sends allowed */
	int max_inflight;		/* outstanding requests allowed */
	struct req *q_head, *q_tail;	/* waiting requests, FIFO */
	size_t nqueued;			/* requests waiting */
	struct req *fl;			/* requests in flight */
	size_t ninflight;		/* requests in flight */
	char err[SNMP_ERROR_MAX];	/* last error text */
	uint64_t bad_replies;		/* replies from it that failed auth/decryption/parsing */
	struct snmp_target *next, *prev; /* client's target list */
	int waiting;			/* on the client's wait list (blocked by its in-flight cap) */
	struct snmp_target *wnext;	/* next on the wait list */
};

struct snmp_client {
	struct loop *loop;		/* the worker's loop */
	int fd4, fd6;			/* UDP sockets, -1 until needed */
	struct hmap pending;		/* int32 id -> struct req (in flight) */
	uint32_t next_id;		/* last request-id handed out */
	size_t npending;		/* requests in flight + queued, all targets */
	size_t ninflight;		/* requests in flight, all targets (<= SNMP_CLIENT_MAX_INFLIGHT
					 * but for v3 discovery) */
	struct snmp_target *wait_head, *wait_tail; /* targets with requests held back by the cap */
	struct snmp_client_stats st;	/* counters */
	struct snmp_target *targets;	/* every target */
	struct ber_enc enc;		/* reused encoder for outgoing messages */
	/* Request timers live in our own indexed min-heap with one loop timer at
	 * its earliest deadline: a reply cancels its timer in O(log n). */
	struct req **theap;		/* requests by deadline */
	size_t ntheap, captheap;	/* entries, slots */
	uint64_t loop_timer;		/* the armed loop timer, 0 if none */
	int64_t loop_timer_at;		/* its deadline */
	uint8_t rbuf[SNMP_MSG_MAX + 1];	/* receive buffer */
	uint8_t plain[SNMP_MSG_MAX];	/* decryption scratch */
};

static void pump(struct snmp_target *t);
static void send_req(struct req *r);
static void on_loop_timer(struct loop *l, uint64_t id, void *ctx);
static void theap_del(struct snmp_client *c, struct req *r);

struct snmp_client *snmp_client_new(struct loop *l)
{
	struct snmp_client *c = xcalloc(1, sizeof(*c));
	c->loop = l;
	c->fd4 = c->fd6 = -1;
	hmap_init(&c->pending);
	if (getrandom(&c->next_id, sizeof(c->next_id), 0) != sizeof(c->next_id))
		c->next_id = (uint32_t)getpid() * 2654435761u;
	ber_enc_init(&c->enc, SNMP_MSG_MAX);
	return c;
}

void snmp_client_free(struct snmp_client *c)
{
	if (!c)
		return;
	while (c->targets)
		snmp_target_free(c->targets);
	if (c->fd4 >= 0) {
		loop_del_fd(c->loop, c->fd4);
		close(c->fd4);
	}
	if (c->fd6 >= 0) {
		loop_del_fd(c->loop, c->fd6);
		close(c->fd6);
	}
	if (c->loop_timer)
		loop_del_timer(c->loop, c->loop_timer);
	free(c->theap);
	hmap_free(&c->pending, NULL);
	ber_enc_free(&c->enc);
	free(c);
}

const struct snmp_client_stats *snmp_client_stats(const struct snmp_client *c)
{
	return &c->st;
}

static void set_err(struct snmp_target *t, const char *fmt, const char *a)
{
	snprintf(t->err, sizeof(t->err), fmt, a);
}

int snmp_target_new(struct snmp_client *c, const struct snmp_target_cfg *cfg,
    struct snmp_target **out, char *err, size_t errsz)
{
	*out = NULL;
	const char *name = cfg->name ? cfg->name : "?";
	if (cfg->addr.ss_family != AF_INET && cfg->addr.ss_family != AF_INET6) {
		snprintf(err, errsz, "%s: address is not IPv4 or IPv6", name);
		return -EINVAL;
	}
	if (cfg->version != SNMP_V1 && cfg->version != SNMP_V2C && cfg->version != SNMP_V3) {
		snprintf(err, errsz, "%s: unknown SNMP version %d", name, cfg->version);
		return -EINVAL;
	}
	if (cfg->version != SNMP_V3 && (!cfg->community ||
	    strlen(cfg->community) > SNMP_COMMUNITY_MAX)) {
		snprintf(err, errsz, "%s: v1/v2c needs a community of at most %d bytes",
		    name, SNMP_COMMUNITY_MAX);
		return -EINVAL;
	}
	if (cfg->version == SNMP_V3) {
		if (!cfg->user || !*cfg->user || strlen(cfg->user) > USM_USER_MAX) {
			snprintf(err, errsz, "%s: v3 needs a user name of 1..%d bytes", name,
			    USM_USER_MAX);
			return -EINVAL;
		}
		if (cfg->priv != USM_PRIV_NONE && cfg->auth == USM_AUTH_NONE) {
			snprintf(err, errsz, "%s: v3 privacy needs an auth protocol", name);
			return -EINVAL;
		}
		if (cfg->auth != USM_AUTH_NONE && !cfg->auth_ku &&
		    (!cfg->auth_pass || strlen(cfg->auth_pass) < 8)) {
			snprintf(err, errsz, "%s: v3 auth password must be at least 8 characters", name);
			return -EINVAL;
		}
		if (cfg->priv != USM_PRIV_NONE && !cfg->priv_ku &&
		    (!cfg->priv_pass || strlen(cfg->priv_pass) < 8)) {
			snprintf(err, errsz, "%s: v3 privacy password must be at least 8 characters", name);
			return -EINVAL;
		}
	}
	struct snmp_target *t = xcalloc(1, sizeof(*t));
	t->c = c;
	t->name = xstrdup(name);
	memcpy(&t->addr, &cfg->addr, sizeof(t->addr));
	t->addrlen = cfg->addrlen;
	t->version = cfg->version;
	t->community = xstrdup(cfg->community ? cfg->community : "");
	t->user = xstrdup(cfg->user ? cfg->user : "");
	t->auth = cfg->version == SNMP_V3 ? cfg->auth : USM_AUTH_NONE;
	t->priv = cfg->version == SNMP_V3 ? cfg->priv : USM_PRIV_NONE;
	t->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 1000;
	t->retries = cfg->retries < 0 ? 0 : cfg->retries == 0 ? 2 : cfg->retries;
	t->max_inflight = cfg->max_inflight > 0 ? cfg->max_inflight : 4;
	size_t dl = usm_auth_digest_len(t->auth);
	if (t->auth != USM_AUTH_NONE && cfg->auth_ku)
		memcpy(t->ku_auth, cfg->auth_ku, dl);
	else if (t->auth != USM_AUTH_NONE)
		usm_password_to_key(t->auth, cfg->auth_pass, strlen(cfg->auth_pass), t->ku_auth);
	if (t->priv != USM_PRIV_NONE && cfg->priv_ku)
		memcpy(t->ku_priv, cfg->priv_ku, dl);
	else if (t->priv != USM_PRIV_NONE)
		usm_password_to_key(t->auth, cfg->priv_pass, strlen(cfg->priv_pass), t->ku_priv);
	if (getrandom(&t->salt, sizeof(t->salt), 0) != sizeof(t->salt))
		t->salt = (uint64_t)(uintptr_t)t;
	t->next = c->targets;
	if (c->targets)
		c->targets->prev = t;
	c->targets = t;
	*out = t;
	return 0;
}

static void unlink_req(struct req *r)
{
	struct snmp_target *t = r->t;
	if (r->prev)
		r->prev->next = r->next;
	else
		t->fl = r->next;
	if (r->next)
		r->next->prev = r->prev;
	r->next = r->prev = NULL;
	t->ninflight--;
	t->c->ninflight--;
}

/* Let targets held back by the client's in-flight cap send, in turn. */
static void pump_waiters(struct snmp_client *c)
{
	while (c->wait_head && c->ninflight < SNMP_CLIENT_MAX_INFLIGHT) {
		struct snmp_target *t = c->wait_head;
		c->wait_head = t->wnext;
		if (!c->wait_head)
			c->wait_tail = NULL;
		t->wnext = NULL;
		t->waiting = 0;
		pump(t);	/* back on the list if it still has more than fits */
	}
}

static void free_req(struct req *r)
{
	free(r->vbl);
	free(r);
}

/* End an in-flight request: forget it, call back, then let the queue move. */
static void finish(struct req *r, int status, const struct snmp_pdu *resp)
{
	struct snmp_target *t = r->t;
	struct snmp_client *c = t->c;
	hmap_del(&c->pending, &r->id, sizeof(r->id));
	theap_del(c, r);
	unlink_req(r);
	c->npending--;
	if (r->cb) {
		c->st.requests++;
		r->cb(r->ctx, status, resp);
	}
	free_req(r);
	pump_waiters(c);
}

/* Fail every queued request (used when discovery fails). */
static void fail_queue(struct snmp_target *t, int status)
{
	while (t->q_head) {
		struct req *r = t->q_head;
		t->q_head = r->next;
		if (!t->q_head)
			t->q_tail = NULL;
		t->nqueued--;
		t->c->npending--;
		t->c->st.requests++;
		r->cb(r->ctx, status, NULL);
		free_req(r);
	}
}

void snmp_target_free(struct snmp_target *t)
{
	if (!t)
		return;
	struct snmp_client *c = t->c;
	if (t->waiting) {
		/* off the wait list first: finishing its requests pumps waiters */
		struct snmp_target **pp = &c->wait_head, *prev = NULL;
		while (*pp && *pp != t) {
			prev = *pp;
			pp = &(*pp)->wnext;
		}
		if (*pp)
			*pp = t->wnext;
		if (c->wait_tail == t)
			c->wait_tail = prev;
		t->waiting = 0;
	}
	while (t->fl)
		finish(t->fl, -ECANCELED, NULL);
	fail_queue(t, -ECANCELED);
	if (t->prev)
		t->prev->next = t->next;
	else
		c->targets = t->next;
	if (t->next)
		t->next->prev = t->prev;
	explicit_bzero(t->ku_auth, sizeof(t->ku_auth));
	explicit_bzero(t->ku_priv, sizeof(t->ku_priv));
	explicit_bzero(t->kul_auth, sizeof(t->kul_auth));
	explicit_bzero(t->priv_key, sizeof(t->priv_key));
	free(t->name);
	free(t->community);
	free(t->user);
	free(t);
}

const char *snmp_target_error(const struct snmp_target *t)
{
	return t->err;
}

const char *snmp_target_name(const struct snmp_target *t)
{
	return t->name;
}

int snmp_target_version(const struct snmp_target *t)
{
	return t->version;
}

size_t snmp_target_pending(const struct snmp_target *t)
{
	return t->nqueued + t->ninflight;
}

static int32_t new_id(struct snmp_client *c)
{
	for (;;) {
		int32_t id = (int32_t)(++c->next_id & 0x7fffffff);
		if (id != 0 && !hmap_get(&c->pending, &id, sizeof(id)))
			return id;
	}
}

static struct req *new_req(struct snmp_target *t, uint8_t type, const struct snmp_oid *oids,
    size_t n)
{
	struct req *r = xcalloc(1, sizeof(*r));
	r->hidx = NO_SLOT;
	r->t = t;
	r->type = type;
	r->n = n;
	if (n) {
		/* Keep the request as encoded varbinds (NULL values): ~15 bytes an OID
		 * instead of a 516-byte struct snmp_oid. */
		struct ber_enc e;
		ber_enc_init(&e, SNMP_MSG_MAX);
		for (size_t i = 0; i < n; i++) {
			ber_push(&e, BER_SEQUENCE);
			ber_put_oid(&e, &oids[i]);
			ber_put_null(&e, BER_NULL);
			ber_pop(&e);
		}
		r->vbl_len = e.b.len;
		r->vbl = xmalloc(e.b.len ? e.b.len : 1);
		if (e.b.len)
			memcpy(r->vbl, e.b.data, e.b.len);
		ber_enc_free(&e);
	}
	return r;
}

int snmp_request(struct snmp_target *t, uint8_t type, const struct snmp_oid *oids, size_t n,
    int non_repeaters, int max_repetitions, snmp_resp_cb cb, void *ctx)
{
	struct snmp_client *c = t->c;
	if (type != SNMP_PDU_GET && type != SNMP_PDU_GETNEXT && type != SNMP_PDU_GETBULK)
		return -EINVAL;
	if (type == SNMP_PDU_GETBULK && t->version == SNMP_V1)
		return -EINVAL;
	if (n > SNMP_MAX_VARBINDS || !cb)
		return -EINVAL;
	if (c->npending >= SNMP_CLIENT_MAX_PENDING || t->nqueued >= SNMP_TARGET_MAX_QUEUE)
		return -E2BIG;
	struct req *r = new_req(t, type, oids, n);
	r->nonrep = non_repeaters;
	r->maxrep = max_repetitions;
	r->cb = cb;
	r->ctx = ctx;
	if (t->q_tail)
		t->q_tail->next = r;
	else
		t->q_head = r;
	t->q_tail = r;
	t->nqueued++;
	c->npending++;
	pump(t);
	return 0;
}

static int open_socket(struct snmp_client *c, int family);

static void on_readable(struct loop *l, int fd, unsigned events, void *ctx);

static int sock_for(struct snmp_client *c, int family)
{
	int *fd = family == AF_INET6 ? &c->fd6 : &c->fd4;
	if (*fd < 0)
		*fd = open_socket(c, family);
	return *fd;
}

static int open_socket(struct snmp_client *c, int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int sz = SOCK_RCVBUF;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	int rc = loop_add_fd(c->loop, fd, LOOP_READ, on_readable, c);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	return fd;
}

/* Move an in-flight request into c->pending with a fresh id and send it. */
static void start(struct req *r)
{
	struct snmp_target *t = r->t;
	struct snmp_client *c = t->c;
	r->id = new_id(c);
	hmap_put(&c->pending, &r->id, sizeof(r->id), r);
	r->prev = NULL;
	r->next = t->fl;
	if (t->fl)
		t->fl->prev = r;
	t->fl = r;
	t->ninflight++;
	if (++c->ninflight > c->st.inflight_peak)
		c->st.inflight_peak = c->ninflight;
	send_req(r);
}

static void discover(struct snmp_target *t)
{
	/* An empty GET with no user and no engine id: the agent answers with a
	 * usmStatsUnknownEngineIDs report carrying its engine id, boots and time. */
	struct req *r = new_req(t, SNMP_PDU_GET, NULL, 0);
	t->v3 = V3_DISCOVERING;
	t->c->npending++;
	start(r);
}

static void pump(struct snmp_target *t)
{
	if (t->version == SNMP_V3 && t->v3 != V3_READY) {
		if (t->v3 == V3_UNKNOWN && t->q_head)
			discover(t);
		return;
	}
	struct snmp_client *c = t->c;
	while (t->q_head && t->ninflight < (size_t)t->max_inflight &&
	    c->ninflight < SNMP_CLIENT_MAX_INFLIGHT) {
		struct req *r = t->q_head;
		t->q_head = r->next;
		if (!t->q_head)
			t->q_tail = NULL;
		t->nqueued--;
		r->next = NULL;
		start(r);
	}
	if (t->q_head && t->ninflight < (size_t)t->max_inflight && !t->waiting) {
		/* held back by the client's cap: wait for a turn */
		t->waiting = 1;
		t->wnext = NULL;
		c->st.held++;
		if (c->wait_tail)
			c->wait_tail->wnext = t;
		else
			c->wait_head = t;
		c->wait_tail = t;
	}
}

static uint32_t engine_time_now(const struct snmp_target *t)
{
	int64_t el = (loop_now(t->c->loop) - t->etime_at) / 1000;
	return t->etime + (uint32_t)(el > 0 ? el : 0);
}

static int encode_req(struct snmp_client *c, struct req *r)
{
	struct snmp_target *t = r->t;
	struct snmp_pdu q = { .type = r->type, .request_id = r->id, .nvb = r->n,
		.vbl_raw = r->vbl, .vbl_raw_len = r->vbl_len };
	if (!r->vbl)
		q.vbl_raw = (const uint8_t *)"";	/* no varbinds (v3 discovery) */
	if (r->type == SNMP_PDU_GETBULK) {
		q.non_repeaters = r->nonrep;
		q.max_repetitions = r->maxrep;
	}
	int rc;
	if (t->version != SNMP_V3) {
		rc = snmp_msg_encode(&c->enc, t->version, t->community, strlen(t->community), &q);
	} else if (!r->cb) {
		struct usm_out o = { .msg_id = r->id, .flags = USM_FLAG_REPORTABLE, .user = "" };
		rc = usm_msg_encode(&c->enc, &o, &q);
	} else {
		struct usm_out o = {
			.msg_id = r->id, .flags = USM_FLAG_REPORTABLE,
			.engine_id = t->engine_id, .engine_id_len = t->engine_id_len,
			.boots = t->boots, .time = engine_time_now(t), .user = t->user,
			.auth = t->auth, .auth_key = t->kul_auth, .priv = t->priv,
			.priv_key = t->priv_key, .salt = ++t->salt,
			.context_engine_id = t->engine_id, .context_engine_id_len = t->engine_id_len,
		};
		if (t->auth != USM_AUTH_NONE)
			o.flags |= USM_FLAG_AUTH;
		if (t->priv != USM_PRIV_NONE)
			o.flags |= USM_FLAG_PRIV;
		rc = usm_msg_encode(&c->enc, &o, &q);
	}
	return rc;
}

static int earlier(const struct req *a, const struct req *b)
{
	return a->deadline < b->deadline;
}

static void theap_swap(struct snmp_client *c, size_t i, size_t j)
{
	struct req *x = c->theap[i];
	c->theap[i] = c->theap[j];
	c->theap[j] = x;
	c->theap[i]->hidx = i;
	c->theap[j]->hidx = j;
}

static void theap_up(struct snmp_client *c, size_t i)
{
	while (i > 0 && earlier(c->theap[i], c->theap[(i - 1) / 2])) {
		theap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static void theap_down(struct snmp_client *c, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < c->ntheap && earlier(c->theap[l], c->theap[m]))
			m = l;
		if (l + 1 < c->ntheap && earlier(c->theap[l + 1], c->theap[m]))
			m = l + 1;
		if (m == i)
			return;
		theap_swap(c, i, m);
		i = m;
	}
}

static void theap_del(struct snmp_client *c, struct req *r)
{
	size_t i = r->hidx;
	if (i == NO_SLOT)
		return;
	r->hidx = NO_SLOT;
	if (i != --c->ntheap) {
		c->theap[i] = c->theap[c->ntheap];
		c->theap[i]->hidx = i;
		theap_down(c, i);
		theap_up(c, i);
	}
}

/* Keep one loop timer armed at the heap's earliest deadline. */
static void rearm_loop(struct snmp_client *c)
{
	if (c->ntheap == 0)
		return;
	int64_t at = c->theap[0]->deadline;
	if (c->loop_timer && c->loop_timer_at <= at)
		return;
	if (c->loop_timer)
		loop_del_timer(c->loop, c->loop_timer);	/* rare: only for an earlier deadline */
	int64_t now = loop_now(c->loop);
	c->loop_timer = loop_add_timer(c->loop, at > now ? at - now : 0, on_loop_timer, c);
	c->loop_timer_at = at;
}

static void arm(struct req *r, int64_t ms)
{
	struct snmp_client *c = r->t->c;
	theap_del(c, r);
	r->deadline = loop_now(c->loop) + ms;
	if (c->ntheap == c->captheap) {
		c->captheap = c->captheap ? c->captheap * 2 : 256;
		c->theap = xreallocarray(c->theap, c->captheap, sizeof(*c->theap));
	}
	r->hidx = c->ntheap;
	c->theap[c->ntheap++] = r;
	theap_up(c, r->hidx);
	rearm_loop(c);
}

static void on_req_timeout(struct req *r);

static void on_loop_timer(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	struct snmp_client *c = ctx;
	c->loop_timer = 0;
	int64_t now = loop_now(l);
	while (c->ntheap && c->theap[0]->deadline <= now) {
		struct req *r = c->theap[0];
		theap_del(c, r);
		on_req_timeout(r);
	}
	rearm_loop(c);
}

static void send_req(struct req *r)
{
	struct snmp_target *t = r->t;
	struct snmp_client *c = t->c;
	int fd = sock_for(c, t->addr.ss_family);
	int rc = fd < 0 ? fd : encode_req(c, r);
	if (rc == 0) {
		ssize_t n = egress_sendto(fd, c->enc.b.data, c->enc.b.len, 0,
		    (const struct sockaddr *)&t->addr, t->addrlen, IPPROTO_UDP);
		if (n < 0 && errno == EACCES) {
			rc = -EACCES;
			set_err(t, "%s: egress policy refuses this address", t->name);
		} else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			rc = -EIO;
			set_err(t, "%s: sendto failed", t->name);
		}
	} else {
		set_err(t, "%s: cannot encode request", t->name);
	}
	r->tries++;
	c->st.sent++;
	if (rc < 0) {
		/* Report from the loop, never from inside snmp_request. */
		c->st.send_errors++;
		r->fail = rc;
		arm(r, 0);
		return;
	}
	int shift = r->tries - 1 < 3 ? r->tries - 1 : 3;
	int64_t to = (int64_t)t->timeout_ms << shift;
	if (to > (int64_t)t->timeout_ms * BACKOFF_MAX)
		to = (int64_t)t->timeout_ms * BACKOFF_MAX;
	arm(r, to);
}

static void on_req_timeout(struct req *r)
{
	struct snmp_target *t = r->t;
	struct snmp_client *c = t->c;
	if (r->fail) {
		finish(r, r->fail, NULL);
		pump(t);
		return;
	}
	if (r->tries <= t->retries) {
		c->st.retries++;
		send_req(r);
		return;
	}
	c->st.timeouts++;
	if (!r->cb) {
		/* Discovery went unanswered: everything waiting on it fails. */
		set_err(t, "%s: no reply to SNMPv3 engine discovery (timeout)", t->name);
		t->v3 = V3_UNKNOWN;
		finish(r, -ETIMEDOUT, NULL);
		fail_queue(t, -ETIMEDOUT);
		return;
	}
	if (t->bad_replies && t->version == SNMP_V3)
		set_err(t, "%s: no valid reply: replies failed authentication or decryption "
		    "(wrong privacy password?)", t->name);
	else if (t->bad_replies)
		set_err(t, "%s: no valid reply: replies were malformed or had a wrong community",
		    t->name);
	else if (t->version == SNMP_V3 && t->priv != USM_PRIV_NONE)
		set_err(t, "%s: request timed out although engine discovery answered "
		    "(wrong privacy password, or no access for this user?)", t->name);
	else
		set_err(t, "%s: request timed out", t->name);
	finish(r, -ETIMEDOUT, NULL);
	pump(t);
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	    memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

static struct req *lookup(struct snmp_client *c, int32_t id, const struct sockaddr_storage *from)
{
	struct req *r = hmap_get(&c->pending, &id, sizeof(id));
	if (!r || !same_addr(&r->t->addr, from)) {
		c->st.dropped_unknown++;
		return NULL;
	}
	return r;
}

static void handle_community(struct snmp_client *c, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from)
{
	struct snmp_msg m;
	if (snmp_msg_decode(p, n, &m) < 0) {
		c->st.dropped_bad++;
		return;
	}
	struct req *r = lookup(c, m.pdu.request_id, from);
	if (!r)
		goto out;
	struct snmp_target *t = r->t;
	if (m.version != t->version || m.pdu.type != SNMP_PDU_RESPONSE ||
	    m.community_len != strlen(t->community) ||
	    memcmp(m.community, t->community, m.community_len) != 0) {
		c->st.dropped_bad++;
		t->bad_replies++;
		goto out;
	}
	c->st.responses++;
	finish(r, SNMP_OK, &m.pdu);
	pump(t);
out:
	snmp_pdu_free(&m.pdu);
}

/* Take an in-flight request back to the head of its target's queue. */
static void requeue_front(struct req *r)
{
	struct snmp_target *t = r->t;
	struct snmp_client *c = t->c;
	hmap_del(&c->pending, &r->id, sizeof(r->id));
	theap_del(c, r);
	unlink_req(r);
	r->tries = 0;
	r->next = t->q_head;
	t->q_head = r;
	if (!t->q_tail)
		t->q_tail = r;
	t->nqueued++;
}

static void localize(struct snmp_target *t)
{
	uint8_t kul[USM_KEY_MAX];
	size_t kl;
	if (t->auth != USM_AUTH_NONE)
		usm_localize_key(t->auth, t->ku_auth, t->engine_id, t->engine_id_len, t->kul_auth);
	if (t->priv != USM_PRIV_NONE) {
		usm_localize_key(t->auth, t->ku_priv, t->engine_id, t->engine_id_len, kul);
		usm_priv_key(t->auth, t->priv, kul, t->priv_key, &kl);
		explicit_bzero(kul, sizeof(kul));
	}
}

static void note_time(struct snmp_target *t, const struct usm_msg *m)
{
	/* RFC 3414 3.2.7b: move our notion of the engine's clock forward only. */
	if (m->boots > t->boots || (m->boots == t->boots && m->time >= engine_time_now(t))) {
		t->boots = m->boots;
		t->etime = m->time;
		t->etime_at = loop_now(t->c->loop);
	}
}

static void discovered(struct snmp_target *t, struct req *r, const struct usm_msg *m)
{
	if (m->engine_id_len == 0) {
		set_err(t, "%s: SNMPv3 discovery reply has no engine id", t->name);
		t->v3 = V3_UNKNOWN;
		finish(r, -EACCES, NULL);
		fail_queue(t, -EACCES);
		return;
	}
	memcpy(t->engine_id, m->engine_id, m->engine_id_len);
	t->engine_id_len = m->engine_id_len;
	t->boots = m->boots;
	t->etime = m->time;
	t->etime_at = loop_now(t->c->loop);
	localize(t);
	t->v3 = V3_READY;
	finish(r, SNMP_OK, NULL);
	pump(t);
}

static void handle_v3(struct snmp_client *c, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from)
{
	struct usm_msg m;
	struct snmp_pdu pdu;
	if (usm_msg_decode(p, n, &m) < 0) {
		c->st.dropped_bad++;
		return;
	}
	struct req *r = lookup(c, m.msg_id, from);
	if (!r)
		return;
	struct snmp_target *t = r->t;
	if (t->version != SNMP_V3) {
		c->st.dropped_bad++;
		return;
	}
	int authed = 0;
	if (m.flags & USM_FLAG_AUTH) {
		if (t->auth == USM_AUTH_NONE || t->v3 != V3_READY ||
		    m.engine_id_len != t->engine_id_len ||
		    memcmp(m.engine_id, t->engine_id, m.engine_id_len) != 0 ||
		    usm_msg_verify(&m, p, n, t->auth, t->kul_auth) != 0) {
			c->st.dropped_bad++;
			t->bad_replies++;
			return;
		}
		authed = 1;
		/* RFC 3414 3.2.7b: an authentic message from an older boot, or more
		 * than 150 s behind our notion of the engine's clock, is a replay. */
		if (m.boots < t->boots || m.boots == INT32_MAX ||
		    (m.boots == t->boots && (int64_t)m.time + 150 < (int64_t)engine_time_now(t))) {
			c->st.dropped_bad++;
			t->bad_replies++;
			return;
		}
		note_time(t, &m);
	}
	if (usm_msg_open(&m, t->priv, t->priv_key, c->plain, &pdu) < 0) {
		c->st.dropped_bad++;
		t->bad_replies++;
		return;
	}
	if (pdu.type == SNMP_PDU_RESPONSE) {
		/* A response must carry the security level we asked for. */
		if (!r->cb || pdu.request_id != r->id || (t->auth != USM_AUTH_NONE && !authed) ||
		    (t->priv != USM_PRIV_NONE && !(m.flags & USM_FLAG_PRIV))) {
			c->st.dropped_bad++;
			goto out;
		}
		c->st.responses++;
		finish(r, SNMP_OK, &pdu);
		pump(t);
		goto out;
	}
	if (pdu.type != SNMP_PDU_REPORT) {
		c->st.dropped_bad++;
		goto out;
	}
	c->st.responses++;
	enum usm_report kind = usm_report_kind(&pdu);
	if (!r->cb) {
		discovered(t, r, &m);
		goto out;
	}
	if (kind == USM_REPORT_NOT_IN_TIME_WINDOW && authed && !r->resent_window) {
		/* Our clock for the engine was stale; note_time() has fixed it. */
		r->resent_window = 1;
		c->st.v3_resyncs++;
		send_req(r);
		goto out;
	}
	if (kind == USM_REPORT_UNKNOWN_ENGINE_ID && !r->resent_window && t->v3 == V3_READY) {
		/* The agent has a new engine id (reinstalled, or a new box at the
		 * address): rediscover, then send this request again, once. */
		r->resent_window = 1;
		c->st.v3_resyncs++;
		requeue_front(r);
		t->v3 = V3_UNKNOWN;
		pump(t);
		goto out;
	}
	snprintf(t->err, sizeof(t->err), "%s: SNMPv3 user \"%s\" refused: %s", t->name, t->user,
	    usm_report_text(kind));
	c->st.auth_failures++;
	finish(r, -EACCES, NULL);
	pump(t);
out:
	snmp_pdu_free(&pdu);
}

static void dispatch(struct snmp_client *c, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from)
{
	int v = snmp_msg_version(p, n);
	if (v == SNMP_V3)
		handle_v3(c, p, n, from);
	else if (v >= 0)
		handle_community(c, p, n, from);
	else
		c->st.dropped_bad++;
}

#ifdef VIGIL_TESTING
void snmp_client_testing_set_next_id(struct snmp_client *c, uint32_t id)
{
	c->next_id = id;
}

void snmp_client_testing_inject(struct snmp_client *c, const void *p, size_t n,
    const struct sockaddr_storage *from)
{
	if (n > SNMP_MSG_MAX)
		return;
	memcpy(c->rbuf, p, n);
	dispatch(c, c->rbuf, n, from);
}
#endif

static void on_readable(struct loop *l, int fd, unsigned events, void *ctx)
{
	(void)l;
	(void)events;
	struct snmp_client *c = ctx;
	for (int i = 0; i < RECV_BURST; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, c->rbuf, sizeof(c->rbuf), MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;	/* EAGAIN, or a transient error: wait for the next wakeup */
		if ((size_t)n > SNMP_MSG_MAX) {
			c->st.dropped_bad++;
			continue;
		}
		dispatch(c, c->rbuf, (size_t)n, &from);
	}
}

int snmp_parse_addr(const char *s, struct sockaddr_storage *addr, socklen_t *len)
{
	char host[64];
	const char *port = NULL;
	size_t hl;
	memset(addr, 0, sizeof(*addr));
	if (*s == '[') {
		const char *e = strchr(s, ']');
		if (!e)
			return -EINVAL;
		hl = (size_t)(e - s - 1);
		s++;
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -EINVAL;
	} else {
		const char *colon = strchr(s, ':');
		if (colon && strchr(colon + 1, ':'))
			colon = NULL;	/* a bare IPv6 address */
		hl = colon ? (size_t)(colon - s) : strlen(s);
		if (colon)
			port = colon + 1;
	}
	if (hl == 0 || hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, hl);
	host[hl] = '\0';
	long pn = 161;
	if (port) {
		char *end;
		pn = strtol(port, &end, 10);
		if (!*port || *end || pn < 0 || pn > 65535)
			return -EINVAL;
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)addr;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)addr;
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)pn);
		*len = sizeof(*s4);
		return 0;
	}
	if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)pn);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}
