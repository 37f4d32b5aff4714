/* egress.c — see egress.h. A flat array: policies hold thousands of rules at
 * most, and a check is a hash lookup on (family, address, proto). */
#include "sandbox/egress.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

struct egress_key {
	uint8_t family;		/* 4 or 6 */
	uint8_t proto;		/* IPPROTO_* */
	uint8_t addr[16];	/* address bytes (4 used for IPv4) */
};

struct egress_rule {
	uint16_t ports[8];	/* allowed ports; 0 = any */
	unsigned nports;	/* used entries */
	int any_port;		/* a rule allowed every port */
};

static struct hmap rules;		/* egress_key -> egress_rule */
static size_t nrules;			/* rules added */
static uint64_t refused;		/* refusals so far */
static int64_t last_log_ms;		/* rate limit for refusal logs */

static int make_key(const struct sockaddr *sa, socklen_t salen, int proto,
    struct egress_key *k, uint16_t *port)
{
	memset(k, 0, sizeof(*k));
	k->proto = (uint8_t)proto;
	if (proto == IPPROTO_ICMPV6)
		k->proto = IPPROTO_ICMP;	/* one rule kind for echo, either family */
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
		k->family = 4;
		memcpy(k->addr, &s4->sin_addr, 4);
		*port = ntohs(s4->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
		*port = ntohs(s6->sin6_port);
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			k->family = 4;
			memcpy(k->addr, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			k->family = 6;
			memcpy(k->addr, &s6->sin6_addr, 16);
		}
		return 0;
	}
	return -EINVAL;
}

void egress_reset(void)
{
	hmap_free(&rules, free);
	hmap_init(&rules);
	nrules = 0;
}

int egress_allow_addr(const struct sockaddr *sa, socklen_t salen, int proto,
    uint16_t port, const char *why)
{
	struct egress_key k;
	uint16_t ignored;
	if (make_key(sa, salen, proto, &k, &ignored) < 0)
		return -EINVAL;
	struct egress_rule *r = hmap_get(&rules, &k, sizeof(k));
	if (!r) {
		r = xcalloc(1, sizeof(*r));
		hmap_put(&rules, &k, sizeof(k), r);
	}
	if (port == 0)
		r->any_port = 1;
	else if (r->nports < 8)
		r->ports[r->nports++] = port;
	else
		r->any_port = 1;	/* more than 8 ports on one host: allow the host */
	nrules++;
	log_debug("egress rule added", "proto=%d port=%u why=%s", proto, port, why ? why : "-");
	return 0;
}

int egress_allow_str(const char *addr, int proto, uint16_t port, const char *why)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	if (inet_pton(AF_INET, addr, &s4.sin_addr) == 1)
		return egress_allow_addr((struct sockaddr *)&s4, sizeof(s4), proto, port, why);
	if (inet_pton(AF_INET6, addr, &s6.sin6_addr) == 1)
		return egress_allow_addr((struct sockaddr *)&s6, sizeof(s6), proto, port, why);
	return -EINVAL;
}

int egress_check(const struct sockaddr *sa, socklen_t salen, int proto)
{
	struct egress_key k;
	uint16_t port = 0;
	if (make_key(sa, salen, proto, &k, &port) == 0) {
		const struct egress_rule *r = hmap_get(&rules, &k, sizeof(k));
		if (r && (r->any_port || k.proto == IPPROTO_ICMP))
			return 0;
		for (unsigned i = 0; r && i < r->nports; i++)
			if (r->ports[i] == port)
				return 0;
	}
	refused++;
	int64_t now = clock_mono_ms();
	if (now - last_log_ms >= 1000) {
		char a[INET6_ADDRSTRLEN] = "?";
		if (k.family == 4)
			inet_ntop(AF_INET, k.addr, a, sizeof(a));
		else if (k.family == 6)
			inet_ntop(AF_INET6, k.addr, a, sizeof(a));
		log_warn("egress refused: destination not in config", "addr=%s port=%u proto=%d refused_total=%llu",
		    a, port, proto, (unsigned long long)refused);
		last_log_ms = now;
	}
	return -EACCES;
}

int egress_connect(int fd, const struct sockaddr *sa, socklen_t salen, int proto)
{
	if (egress_check(sa, salen, proto) < 0) {
		errno = EACCES;
		return -1;
	}
	return connect(fd, sa, salen);
}

ssize_t egress_sendto(int fd, const void *p, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen, int proto)
{
	if (egress_check(sa, salen, proto) < 0) {
		errno = EACCES;
		return -1;
	}
	return sendto(fd, p, n, flags, sa, salen);
}

uint64_t egress_refused_count(void)
{
	return refused;
}

size_t egress_rule_count(void)
{
	return nrules;
}
