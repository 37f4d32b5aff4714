/* Unit tests for src/snmp/client.c and walk.c against a scripted agent in
 * the same event loop: tooBig splitting, loop detection, retries, and
 * replies that must be dropped (wrong request-id, wrong source, garbage). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "snmp/client.h"
#include "snmp/walk.h"
#include "t.h"

enum mode { M_NORMAL, M_TOOBIG_OVER_4, M_LOOP, M_WRONG_ID, M_SILENT_ONCE, M_GARBAGE_FIRST };

struct agent {
	int fd;				/* the agent's socket */
	int stray;			/* a second socket, for replies from a wrong port */
	struct sockaddr_storage addr;	/* where it listens */
	socklen_t addrlen;		/* bytes in addr */
	enum mode mode;			/* how it misbehaves */
	int requests;			/* requests seen */
	int max_reps_seen;		/* largest max-repetitions asked */
	int last_reps;			/* max-repetitions of the latest request */
	int rows;			/* rows in its table: 1.3.6.1.2.1.2.2.1.2.1..rows */
};

static void agent_reply(struct agent *a, const struct snmp_msg *m, const struct sockaddr_storage *from,
    socklen_t fl)
{
	struct snmp_varbind vb[128];
	struct snmp_pdu r = { .type = SNMP_PDU_RESPONSE, .request_id = m->pdu.request_id, .vb = vb };
	char names[128][8];
	int reps = m->pdu.type == SNMP_PDU_GETBULK ? m->pdu.max_repetitions : 1;
	a->last_reps = reps;
	if (reps > a->max_reps_seen)
		a->max_reps_seen = reps;
	if (a->mode == M_TOOBIG_OVER_4 && reps > 4) {
		r.error_status = SNMP_ERR_TOOBIG;
		r.nvb = 0;
	} else {
		/* next row after the requested OID */
		const struct snmp_oid *o = &m->pdu.vb[0].name;
		int next = o->n == 11 ? (int)o->v[10] + 1 : 1;
		if (a->mode == M_LOOP && next > 3)
			next = 2;	/* goes backwards */
		for (int i = 0; i < reps && i < 128; i++, next++) {
			memset(&vb[i], 0, sizeof(vb[i]));
			if (next > a->rows) {
				snmp_oid_parse("1.3.6.1.2.1.2.2.1.3.1", &vb[i].name);	/* next column */
				vb[i].val.type = BER_INTEGER;
				vb[i].val.i = 6;
				r.nvb = (size_t)i + 1;
				break;
			}
			snmp_oid_parse("1.3.6.1.2.1.2.2.1.2.1", &vb[i].name);
			vb[i].name.v[10] = (uint32_t)next;
			snprintf(names[i], sizeof(names[i]), "eth%d", next);
			vb[i].val.type = BER_OCTET_STRING;
			vb[i].val.s = (const uint8_t *)names[i];
			vb[i].val.len = strlen(names[i]);
			r.nvb = (size_t)i + 1;
		}
	}
	struct ber_enc e;
	ber_enc_init(&e, SNMP_MSG_MAX);
	if (a->mode == M_WRONG_ID && a->requests == 1) {
		/* first a reply with another request-id, then one from another port */
		struct snmp_pdu w = r;
		w.request_id ^= 0x5555;
		snmp_msg_encode(&e, m->version, m->community, m->community_len, &w);
		sendto(a->fd, e.b.data, e.b.len, 0, (const struct sockaddr *)from, fl);
		snmp_msg_encode(&e, m->version, m->community, m->community_len, &r);
		sendto(a->stray, e.b.data, e.b.len, 0, (const struct sockaddr *)from, fl);
	}
	if (a->mode == M_GARBAGE_FIRST && a->requests == 1)
		sendto(a->fd, "\x30\x03\x02\x01", 4, 0, (const struct sockaddr *)from, fl);
	snmp_msg_encode(&e, m->version, m->community, m->community_len, &r);
	sendto(a->fd, e.b.data, e.b.len, 0, (const struct sockaddr *)from, fl);
	ber_enc_free(&e);
}

static void on_agent(struct loop *l, int fd, unsigned events, void *ctx)
{
	(void)l;
	(void)events;
	struct agent *a = ctx;
	uint8_t buf[SNMP_MSG_MAX];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
	struct snmp_msg m;
	if (n <= 0 || snmp_msg_decode(buf, (size_t)n, &m) < 0)
		return;
	a->requests++;
	if (!(a->mode == M_SILENT_ONCE && a->requests == 1))
		agent_reply(a, &m, &from, fl);
	snmp_pdu_free(&m.pdu);
}

static void agent_start(struct loop *l, struct agent *a, enum mode mode, int rows)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	memset(a, 0, sizeof(*a));
	a->mode = mode;
	a->rows = rows;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	a->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	a->stray = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	bind(a->fd, (struct sockaddr *)&sin, sizeof(sin));
	a->addrlen = sizeof(a->addr);
	getsockname(a->fd, (struct sockaddr *)&a->addr, &a->addrlen);
	loop_add_fd(l, a->fd, LOOP_READ, on_agent, a);
}

static void agent_stop(struct loop *l, struct agent *a)
{
	loop_del_fd(l, a->fd);
	close(a->fd);
	close(a->stray);
}

struct res {
	int done, status;	/* finished, how */
	int n;			/* varbinds */
	char err[256];		/* error text */
};

static int on_vb(void *ctx, const struct snmp_varbind *vb)
{
	(void)vb;
	((struct res *)ctx)->n++;
	return 0;
}

static void on_done(void *ctx, int status, const char *err)
{
	struct res *r = ctx;
	r->done = 1;
	r->status = status;
	snprintf(r->err, sizeof(r->err), "%s", err);
}

/* Walk ifDescr on a scripted agent; return the client's counters. */
static struct snmp_client_stats walk_agent(enum mode mode, int rows, int reps, int version,
    struct res *r, struct agent *a)
{
	struct loop *l = loop_new();
	struct snmp_client *c = snmp_client_new(l);
	struct snmp_target_cfg cfg;
	struct snmp_target *t;
	char err[128];
	agent_start(l, a, mode, rows);
	memset(&cfg, 0, sizeof(cfg));
	memcpy(&cfg.addr, &a->addr, a->addrlen);
	cfg.addrlen = a->addrlen;
	cfg.version = version;
	cfg.community = "public";
	cfg.name = "agent";
	cfg.timeout_ms = 200;
	snmp_target_new(c, &cfg, &t, err, sizeof(err));
	struct snmp_oid root;
	snmp_oid_parse("1.3.6.1.2.1.2.2.1.2", &root);
	memset(r, 0, sizeof(*r));
	snmp_walk(t, &root, reps, on_vb, on_done, r);
	int64_t end = clock_mono_ms() + 5000;
	while (!r->done && clock_mono_ms() < end)
		loop_once(l, 50);
	struct snmp_client_stats st = *snmp_client_stats(c);
	snmp_client_free(c);
	agent_stop(l, a);
	loop_free(l);
	return st;
}

T_TEST(walk_reads_every_row_and_grows_reps)
{
	struct res r;
	struct agent a;
	walk_agent(M_NORMAL, 100, 0, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.n, 100);
	T_CHECK(a.max_reps_seen > SNMP_WALK_REPS_START);	/* adaptive growth */
	T_CHECK(a.requests <= 4);
}

T_TEST(walk_splits_on_toobig)
{
	struct res r;
	struct agent a;
	walk_agent(M_TOOBIG_OVER_4, 30, 0, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.n, 30);
	T_CHECK(a.last_reps <= 4);
}

T_TEST(walk_detects_non_increasing_oids)
{
	struct res r;
	struct agent a;
	walk_agent(M_LOOP, 100, 2, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, -ELOOP);
	T_CHECK(strstr(r.err, "non-increasing") != NULL);
	T_CHECK(a.requests < 10);
}

T_TEST(walk_v1_uses_getnext)
{
	struct res r;
	struct agent a;
	walk_agent(M_NORMAL, 5, 0, SNMP_V1, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.n, 5);
	T_EQ_INT(a.max_reps_seen, 1);
	T_EQ_INT(a.requests, 6);
}

T_TEST(client_drops_wrong_id_and_wrong_source)
{
	struct res r;
	struct agent a;
	struct snmp_client_stats st = walk_agent(M_WRONG_ID, 10, 0, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.n, 10);
	T_EQ_INT(st.dropped_unknown, 2);	/* wrong request-id + right id from a wrong port */
}

T_TEST(client_drops_garbage_and_retries_lost_requests)
{
	struct res r;
	struct agent a;
	struct snmp_client_stats st = walk_agent(M_GARBAGE_FIRST, 10, 0, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(st.dropped_bad, 1);
	st = walk_agent(M_SILENT_ONCE, 10, 0, SNMP_V2C, &r, &a);
	T_EQ_INT(r.status, 0);
	T_EQ_INT(r.n, 10);
	T_EQ_INT(st.retries, 1);
	T_EQ_INT(st.timeouts, 0);
}

struct count {
	int ok, failed;		/* callbacks by outcome */
};

static void on_get(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct count *n = ctx;
	if (status == 0 && resp && resp->nvb > 0)
		n->ok++;
	else
		n->failed++;
}

/* Many devices due at once: the client keeps at most SNMP_CLIENT_MAX_INFLIGHT
 * requests on the wire, the rest wait their turn, and every one completes. */
T_TEST(client_caps_requests_in_flight)
{
	enum { NT = 300, PER = 3 };
	struct loop *l = loop_new();
	struct snmp_client *c = snmp_client_new(l);
	struct agent a;
	struct snmp_target *t[NT];
	struct count n = { 0, 0 };
	char err[128];
	agent_start(l, &a, M_NORMAL, 5);
	struct snmp_oid o;
	snmp_oid_parse("1.3.6.1.2.1.2.2.1.2", &o);
	for (int i = 0; i < NT; i++) {
		struct snmp_target_cfg cfg;
		memset(&cfg, 0, sizeof(cfg));
		memcpy(&cfg.addr, &a.addr, a.addrlen);
		cfg.addrlen = a.addrlen;
		cfg.version = SNMP_V2C;
		cfg.community = "public";
		cfg.name = "agent";
		cfg.timeout_ms = 2000;
		T_EQ_INT(snmp_target_new(c, &cfg, &t[i], err, sizeof(err)), 0);
		for (int k = 0; k < PER; k++)
			T_EQ_INT(snmp_request(t[i], SNMP_PDU_GET, &o, 1, 0, 0, on_get, &n), 0);
	}
	int64_t end = clock_mono_ms() + 10000;
	while (n.ok + n.failed < NT * PER && clock_mono_ms() < end)
		loop_once(l, 50);
	const struct snmp_client_stats *st = snmp_client_stats(c);
	T_EQ_INT(n.ok, NT * PER);
	T_EQ_INT(n.failed, 0);
	T_EQ_INT(st->inflight_peak, SNMP_CLIENT_MAX_INFLIGHT);
	T_CHECK(st->held > 0);
	T_EQ_INT(st->timeouts, 0);
	/* targets freed while they wait their turn leave the wait list cleanly
	 * (ASan would see a target used after its free) */
	uint64_t held = st->held;
	for (int i = 0; i < NT; i++)
		for (int k = 0; k < PER; k++)
			snmp_request(t[i], SNMP_PDU_GET, &o, 1, 0, 0, on_get, &n);
	T_CHECK(snmp_client_stats(c)->held > held);
	snmp_target_free(t[NT - 1]);	/* the wait list's tail */
	snmp_target_free(t[NT / 2]);	/* one in the middle */
	snmp_client_free(c);
	agent_stop(l, &a);
	loop_free(l);
}

int main(void)
{
	log_setup(LOG_ERROR, "test");
	egress_allow_str("127.0.0.1", IPPROTO_UDP, 0, "tests");
	T_RUN(walk_reads_every_row_and_grows_reps);
	T_RUN(walk_splits_on_toobig);
	T_RUN(walk_detects_non_increasing_oids);
	T_RUN(walk_v1_uses_getnext);
	T_RUN(client_drops_wrong_id_and_wrong_source);
	T_RUN(client_drops_garbage_and_retries_lost_requests);
	T_RUN(client_caps_requests_in_flight);
	return t_done();
}
