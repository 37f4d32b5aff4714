/*
 * icmp.c — ICMP echo to many targets from one socket per family.
 *
 * Each running ICMP probe takes a slot in its family's pinger; its requests
 * carry the slot and a random cookie (see icmp.h), so a reply finds its run
 * in O(1) without a per-packet table, and a reply for a finished run (slot
 * reused, cookie changed) is dropped as late.
 */
#include "probe/icmp.h"
#include "probe/probe_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/icmp.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define ICMP_RECV_BURST 1024	/* datagrams read per wakeup before yielding */
#define ICMP_RCVBUF (4 << 20)	/* socket receive buffer for thousands of replies */

static const uint8_t icmp_magic[4] = { 'V', 'G', 'L', 'P' };

uint16_t icmp_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;
	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)b[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

size_t icmp_build_request(int family, uint16_t id, uint16_t seq, uint32_t slot,
    uint32_t cookie, uint16_t idx, size_t payload, uint8_t *out, size_t outsz)
{
	size_t len = ICMP_HDR_LEN + ICMP_TAG_LEN + payload;
	if (len > outsz)
		return 0;
	out[0] = family == AF_INET6 ? ICMP6_ECHO_REQUEST : 8;
	out[1] = 0;
	put16(out + 2, 0);
	put16(out + 4, id);
	put16(out + 6, seq);
	uint8_t *t = out + ICMP_HDR_LEN;
	memcpy(t, icmp_magic, 4);
	put32(t + 4, slot);
	put32(t + 8, cookie);
	put16(t + 12, idx);
	put16(t + 14, 0);
	for (size_t i = 0; i < payload; i++)
		t[ICMP_TAG_LEN + i] = (uint8_t)i;
	if (family == AF_INET)
		put16(out + 2, icmp_checksum(out, len));
	return len;
}

enum icmp_parse_rc icmp_parse_reply(int family, int has_ip_header, const uint8_t *p,
    size_t n, struct icmp_echo *out)
{
	out->ttl = -1;
	if (family == AF_INET && has_ip_header) {
		if (n < 20 || (p[0] >> 4) != 4)
			return ICMP_PARSE_MALFORMED;
		size_t ihl = (size_t)(p[0] & 0x0f) * 4;
		size_t tot = get16(p + 2);
		if (ihl < 20 || ihl > n || tot < ihl || tot > n)
			return ICMP_PARSE_MALFORMED;
		if (p[9] != IPPROTO_ICMP)
			return ICMP_PARSE_OTHER;
		out->ttl = p[8];
		n = tot - ihl;
		p += ihl;
	}
	if (n < ICMP_HDR_LEN)
		return ICMP_PARSE_MALFORMED;
	uint8_t want = family == AF_INET6 ? ICMP6_ECHO_REPLY : 0;
	if (p[0] != want)
		return ICMP_PARSE_OTHER;
	if (p[1] != 0)
		return ICMP_PARSE_MALFORMED;
	/* ICMPv6 checksums cover a pseudo-header; the kernel has checked them. */
	if (family == AF_INET && icmp_checksum(p, n) != 0)
		return ICMP_PARSE_MALFORMED;
	out->id = get16(p + 4);
	out->seq = get16(p + 6);
	if (n < ICMP_HDR_LEN + ICMP_TAG_LEN)
		return ICMP_PARSE_OTHER;	/* an echo reply, but not one of vigil's */
	const uint8_t *t = p + ICMP_HDR_LEN;
	if (memcmp(t, icmp_magic, 4) != 0)
		return ICMP_PARSE_OTHER;
	if (get16(t + 14) != 0)
		return ICMP_PARSE_MALFORMED;
	size_t payload = n - ICMP_HDR_LEN - ICMP_TAG_LEN;
	if (payload > PROBE_ICMP_MAX_PAYLOAD)
		return ICMP_PARSE_MALFORMED;
	for (size_t i = 0; i < payload; i++)
		if (t[ICMP_TAG_LEN + i] != (uint8_t)i)
			return ICMP_PARSE_MALFORMED;
	out->slot = get32(t + 4);
	out->cookie = get32(t + 8);
	out->idx = get16(t + 12);
	return ICMP_PARSE_OK;
}

/* One ICMP probe run in flight. */
struct icmp_run {
	struct probe_run *r;		/* the engine's run */
	struct icmp_pinger *p;		/* socket it uses */
	uint32_t slot;			/* index in p->slots */
	uint32_t cookie;		/* random per run */
	unsigned count;			/* requests to send */
	unsigned sent;			/* requests attempted so far */
	unsigned sent_ok;		/* of those, accepted by the kernel */
	unsigned recv;			/* replies matched */
	size_t payload;			/* pad bytes per request */
	int64_t spacing_ms;		/* gap between requests */
	uint64_t send_timer;		/* pending timer for the next request, or 0 */
	int ttl;			/* hop limit of the last reply, or -1 */
	uint16_t seq[PROBE_ICMP_MAX_COUNT];	/* sequence number of request i */
	int64_t sent_ns[PROBE_ICMP_MAX_COUNT];	/* when request i left (monotonic) */
	int64_t sent_real_ns[PROBE_ICMP_MAX_COUNT];	/* the same on the realtime clock */
	int64_t rtt_ns[PROBE_ICMP_MAX_COUNT];	/* its RTT, or -1 */
};

struct icmp_pinger {
	struct loop *l;			/* loop the socket is watched on */
	int fd;				/* the socket */
	int family;			/* AF_INET or AF_INET6 */
	int raw;			/* 1: raw socket (we filter ids), 0: ping socket */
	uint16_t ident;			/* identifier in our requests */
	uint16_t next_seq;		/* next sequence number */
	struct icmp_run **slots;	/* runs by slot, NULL when free */
	uint32_t nslots;		/* slots allocated */
	uint32_t *freelist;		/* free slot numbers */
	uint32_t nfree;			/* entries in freelist */
};

static void icmp_on_read(struct loop *l, int fd, unsigned ev, void *ctx);

static int icmp_open_dgram(int family)
{
	int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6);
	return fd < 0 ? -errno : fd;
}

int icmp_pinger_new(struct loop *l, int family, int raw_fd, int force_raw,
    struct icmp_pinger **out)
{
	*out = NULL;
	int raw = 0, fd = force_raw && raw_fd >= 0 ? -EACCES : icmp_open_dgram(family);
	if (fd < 0) {
		if (raw_fd < 0)
			return fd;
		fd = raw_fd;
		raw = 1;
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
			return -errno;
	} else if (raw_fd >= 0) {
		close(raw_fd);	/* the ping socket is enough */
	}
	int one = 1, rcv = ICMP_RCVBUF;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	if (family == AF_INET6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVHOPLIMIT, &one, sizeof(one));
		if (raw) {
			struct icmp6_filter f;
			ICMP6_FILTER_SETBLOCKALL(&f);
			ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &f);
			setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &f, sizeof(f));
		}
	} else if (!raw) {
		setsockopt(fd, IPPROTO_IP, IP_RECVTTL, &one, sizeof(one));
	} else {
		/* A raw IPv4 socket sees every ICMP message the host gets: let the
		 * kernel drop all but echo replies before they are copied to us. */
		struct icmp_filter f = { .data = ~(1u << ICMP_ECHOREPLY) };
		setsockopt(fd, SOL_RAW, ICMP_FILTER, &f, sizeof(f));
	}
	struct icmp_pinger *p = xcalloc(1, sizeof(*p));
	p->l = l;
	p->fd = fd;
	p->family = family;
	p->raw = raw;
	uint16_t rnd[2] = { 0, 0 };
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd[0] = (uint16_t)getpid();
	p->ident = rnd[0];
	p->next_seq = rnd[1];
	int rc = loop_add_fd(l, fd, LOOP_READ, icmp_on_read, p);
	if (rc < 0) {
		close(fd);
		free(p);
		return rc;
	}
	log_info("icmp socket ready", "family=%d kind=%s", family == AF_INET ? 4 : 6,
	    raw ? "raw" : "ping");
	*out = p;
	return 0;
}

void icmp_pinger_free(struct icmp_pinger *p)
{
	if (!p)
		return;
	loop_del_fd(p->l, p->fd);
	close(p->fd);
	free(p->slots);
	free(p->freelist);
	free(p);
}

static uint32_t slot_take(struct icmp_pinger *p, struct icmp_run *ir)
{
	if (p->nfree == 0) {
		uint32_t n = p->nslots ? p->nslots * 2 : 256;
		p->slots = xreallocarray(p->slots, n, sizeof(*p->slots));
		p->freelist = xreallocarray(p->freelist, n, sizeof(*p->freelist));
		for (uint32_t i = n; i > p->nslots; i--)
			p->freelist[p->nfree++] = i - 1;
		memset(p->slots + p->nslots, 0, (n - p->nslots) * sizeof(*p->slots));
		p->nslots = n;
	}
	uint32_t s = p->freelist[--p->nfree];
	p->slots[s] = ir;
	return s;
}

static void slot_put(struct icmp_pinger *p, uint32_t s)
{
	p->slots[s] = NULL;
	p->freelist[p->nfree++] = s;
}

/* The realtime clock in ns: kernel receive timestamps (SO_TIMESTAMPNS) are
 * on it, so send times are taken on it too. */
static int64_t real_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int icmp_proto(int family)
{
	return family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
}

/* Report the cycle's numbers and finish the run. */
static void icmp_finish(struct icmp_run *ir)
{
	struct probe_run *r = ir->r;
	struct probe_out *o = &r->out;
	if (ir->send_timer)
		loop_del_timer(r->loop, ir->send_timer);
	slot_put(ir->p, ir->slot);
	double min = 0, max = 0, sum = 0, jsum = 0;
	unsigned njit = 0, have = 0;
	int64_t prev = -1;
	for (unsigned i = 0; i < ir->sent; i++) {
		int64_t t = ir->rtt_ns[i];
		if (t < 0)
			continue;
		double s = (double)t / 1e9;
		if (!have++)
			min = max = s;
		min = s < min ? s : min;
		max = s > max ? s : max;
		sum += s;
		if (prev >= 0) {
			jsum += (double)llabs(t - prev) / 1e9;
			njit++;
		}
		prev = t;
	}
	pout_add(o, "probe_ip_protocol", ir->p->family == AF_INET ? 4 : 6, NULL);
	pout_add(o, "probe_icmp_duration_seconds", r->tgt->resolve_s, "phase", "resolve", NULL);
	if (ir->sent)
		pout_add(o, "probe_icmp_duration_seconds", (double)(ir->sent_ns[0] - r->start_ns) / 1e9,
		    "phase", "setup", NULL);
	pout_add(o, "probe_icmp_packets_sent", ir->sent, NULL);
	pout_add(o, "probe_icmp_packets_received", ir->recv, NULL);
	pout_add(o, "probe_icmp_packet_loss_ratio",
	    ir->sent ? 1.0 - (double)ir->recv / ir->sent : 1.0, NULL);
	if (ir->recv) {
		double avg = sum / ir->recv;
		pout_add(o, "probe_icmp_duration_seconds", avg, "phase", "rtt", NULL);
		pout_add(o, "probe_icmp_rtt_seconds", min, "stat", "min", NULL);
		pout_add(o, "probe_icmp_rtt_seconds", avg, "stat", "avg", NULL);
		pout_add(o, "probe_icmp_rtt_seconds", max, "stat", "max", NULL);
		pout_add(o, "probe_icmp_jitter_seconds", njit ? jsum / njit : 0, NULL);
		if (ir->ttl >= 0)
			pout_add(o, "probe_icmp_reply_hop_limit", ir->ttl, NULL);
	} else if (ir->sent == 0) {
		probe_run_fail(r, "send");
	} else {
		probe_run_fail(r, "timeout");
	}
	int ok = ir->recv > 0;
	free(ir);
	r->kstate = NULL;
	probe_run_finish(r, ok);
}

static void icmp_timeout(struct probe_run *r)
{
	icmp_finish(r->kstate);
}

static void icmp_send_next(struct loop *l, uint64_t id, void *ctx)
{
	struct icmp_run *ir = ctx;
	(void)id;
	ir->send_timer = 0;
	struct icmp_pinger *p = ir->p;
	struct probe_target *t = ir->r->tgt;
	uint8_t pkt[ICMP_HDR_LEN + ICMP_TAG_LEN + PROBE_ICMP_MAX_PAYLOAD];
	unsigned i = ir->sent;
	uint16_t seq = p->next_seq++;
	size_t len = icmp_build_request(p->family, p->ident, seq, ir->slot, ir->cookie,
	    (uint16_t)i, ir->payload, pkt, sizeof(pkt));
	ir->seq[i] = seq;
	ir->rtt_ns[i] = -1;
	ir->sent_ns[i] = clock_mono_ns();
	ir->sent_real_ns[i] = real_ns();
	ssize_t w = egress_sendto(p->fd, pkt, len, 0, (const struct sockaddr *)&t->addr,
	    t->addrlen, icmp_proto(p->family));
	if (w < 0) {
		probe_ctr.icmp_send_errors++;
		probe_run_fail(ir->r, errno == EACCES ? "egress" : "send");
	} else {
		probe_ctr.icmp_sent++;
		ir->sent_ok++;
	}
	ir->sent++;
	if (ir->sent < ir->count)
		ir->send_timer = loop_add_timer(l, ir->spacing_ms, icmp_send_next, ir);
	else if (ir->sent_ok == 0)
		icmp_finish(ir);	/* nothing went out (egress, no route): no reply can come */
}

int probe_icmp_start(struct probe_run *r)
{
	struct probe_target *t = r->tgt;
	const struct probe_icmp_opts *o = &t->cfg->icmp;
	struct icmp_pinger *p = probe_engine_pinger(r->eng, t->addr.ss_family);
	if (!p) {
		probe_run_fail(r, "send");
		return -EAFNOSUPPORT;
	}
	struct icmp_run *ir = xcalloc(1, sizeof(*ir));
	ir->r = r;
	ir->p = p;
	ir->count = o->count ? o->count : 3;
	if (ir->count > PROBE_ICMP_MAX_COUNT)
		ir->count = PROBE_ICMP_MAX_COUNT;
	ir->payload = o->payload ? o->payload : 40;
	if (ir->payload > PROBE_ICMP_MAX_PAYLOAD)
		ir->payload = PROBE_ICMP_MAX_PAYLOAD;
	ir->spacing_ms = o->spacing_ms > 0 ? o->spacing_ms : 100;
	ir->ttl = -1;
	if (getrandom(&ir->cookie, sizeof(ir->cookie), 0) != (ssize_t)sizeof(ir->cookie))
		ir->cookie = (uint32_t)clock_mono_ns();
	ir->slot = slot_take(p, ir);
	r->kstate = ir;
	r->on_timeout = icmp_timeout;
	icmp_send_next(r->loop, 0, ir);
	return 0;
}

static int same_addr(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)a)->sin_addr.s_addr ==
		    ((const struct sockaddr_in *)(const void *)b)->sin_addr.s_addr;
	return memcmp(&((const struct sockaddr_in6 *)(const void *)a)->sin6_addr,
	    &((const struct sockaddr_in6 *)(const void *)b)->sin6_addr, 16) == 0;
}

/* Match one parsed reply to its request; count whatever does not fit. */
static void icmp_accept(struct icmp_pinger *p, const struct icmp_echo *e,
    const struct sockaddr_storage *from, int ttl, int64_t now_ns, int64_t rx_real_ns)
{
	if (p->raw && e->id != p->ident) {
		probe_ctr.icmp_foreign++;
		return;
	}
	struct icmp_run *ir = e->slot < p->nslots ? p->slots[e->slot] : NULL;
	if (!ir || ir->cookie != e->cookie || e->idx >= ir->sent ||
	    ir->seq[e->idx] != e->seq || ir->rtt_ns[e->idx] >= 0) {
		probe_ctr.icmp_late++;
		return;
	}
	if (!same_addr(from, &ir->r->tgt->addr)) {
		probe_ctr.icmp_malformed++;	/* our tag from the wrong host: forged */
		return;
	}
	probe_ctr.icmp_replies++;
	/* Prefer the kernel's receive time: it leaves out the time the reply
	 * waited in the socket queue while the loop was busy. */
	int64_t rtt = rx_real_ns - ir->sent_real_ns[e->idx];
	if (rx_real_ns <= 0 || rtt < 0 || rtt > 60 * 1000000000LL)
		rtt = now_ns - ir->sent_ns[e->idx];
	ir->rtt_ns[e->idx] = rtt;
	ir->recv++;
	if (ttl >= 0)
		ir->ttl = ttl;
	if (ir->recv == ir->count)
		icmp_finish(ir);
}

/* The hop limit and kernel receive time from the control messages. */
static int cmsg_read(struct msghdr *mh, int64_t *rx_real_ns)
{
	int ttl = -1;
	*rx_real_ns = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		int v;
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct timespec))) {
			struct timespec ts;
			memcpy(&ts, CMSG_DATA(c), sizeof(ts));
			*rx_real_ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
			continue;
		}
		if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_TTL) ||
		    (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_HOPLIMIT)) {
			if (c->cmsg_len < CMSG_LEN(sizeof(int)))
				continue;
			memcpy(&v, CMSG_DATA(c), sizeof(v));
			ttl = v;
		}
	}
	return ttl;
}

static void icmp_on_read(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct icmp_pinger *p = ctx;
	(void)l;
	(void)ev;
	for (int i = 0; i < ICMP_RECV_BURST; i++) {
		uint8_t pkt[2048];
		char cbuf[256];
		struct sockaddr_storage from;
		struct iovec iov = { pkt, sizeof(pkt) };
		struct msghdr mh = { .msg_name = &from, .msg_namelen = sizeof(from),
			.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			.msg_controllen = sizeof(cbuf) };
		ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
		if (n < 0)
			return;	/* EAGAIN, or an error the next read will show again */
		int64_t now = clock_mono_ns();
		if (mh.msg_flags & MSG_TRUNC) {
			probe_ctr.icmp_malformed++;
			continue;
		}
		struct icmp_echo e;
		enum icmp_parse_rc rc = icmp_parse_reply(p->family, p->raw && p->family == AF_INET,
		    pkt, (size_t)n, &e);
		if (rc == ICMP_PARSE_MALFORMED) {
			probe_ctr.icmp_malformed++;
			continue;
		}
		if (rc == ICMP_PARSE_OTHER) {
			probe_ctr.icmp_foreign++;
			continue;
		}
		int64_t rx_real;
		int ttl = cmsg_read(&mh, &rx_real);
		if (e.ttl >= 0)
			ttl = e.ttl;
		icmp_accept(p, &e, &from, ttl, now, rx_real);
	}
}
