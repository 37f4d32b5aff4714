/* Unit tests for the probe module's pure parts: ICMP packets, the DNS codec,
 * Nagios perfdata, node status, host:port splitting. */
#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "probe/dns.h"
#include "probe/icmp.h"
#include "probe/nagios.h"
#include "probe/probe_int.h"
#include "probe/status.h"
#include "t.h"

/* ---- ICMP ---- */

T_TEST(icmp_request_roundtrips_as_reply)
{
	uint8_t pkt[256];
	size_t n = icmp_build_request(AF_INET, 0x1234, 7, 42, 0xdeadbeef, 2, 20, pkt, sizeof(pkt));
	T_EQ_INT(n, 8 + 16 + 20);
	T_EQ_INT(icmp_checksum(pkt, n), 0);	/* a correct checksum sums to zero */
	/* Turn it into a reply the way a host would: type 0, fix the checksum. */
	pkt[0] = 0;
	pkt[2] = pkt[3] = 0;
	uint16_t c = icmp_checksum(pkt, n);
	pkt[2] = (uint8_t)(c >> 8);
	pkt[3] = (uint8_t)c;
	struct icmp_echo e;
	T_EQ_INT(icmp_parse_reply(AF_INET, 0, pkt, n, &e), ICMP_PARSE_OK);
	T_EQ_INT(e.id, 0x1234);
	T_EQ_INT(e.seq, 7);
	T_EQ_INT(e.slot, 42);
	T_EQ_INT(e.cookie, 0xdeadbeef);
	T_EQ_INT(e.idx, 2);
	T_EQ_INT(e.ttl, -1);
}

T_TEST(icmp_reply_with_ip_header_and_damage)
{
	uint8_t pkt[256], ip[300];
	size_t n = icmp_build_request(AF_INET, 1, 2, 3, 4, 0, 8, pkt, sizeof(pkt));
	pkt[0] = 0;
	pkt[2] = pkt[3] = 0;
	uint16_t c = icmp_checksum(pkt, n);
	pkt[2] = (uint8_t)(c >> 8);
	pkt[3] = (uint8_t)c;
	memset(ip, 0, 20);
	ip[0] = 0x45;
	ip[2] = 0;
	ip[3] = (uint8_t)(20 + n);
	ip[8] = 57;	/* TTL */
	ip[9] = IPPROTO_ICMP;
	memcpy(ip + 20, pkt, n);
	struct icmp_echo e;
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 20 + n, &e), ICMP_PARSE_OK);
	T_EQ_INT(e.ttl, 57);
	/* Truncated: total length says more than we have. */
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 20 + n - 1, &e), ICMP_PARSE_MALFORMED);
	/* Bad IHL. */
	ip[0] = 0x44;
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 20 + n, &e), ICMP_PARSE_MALFORMED);
	ip[0] = 0x45;
	/* A flipped payload byte breaks the checksum. */
	ip[20 + 30] ^= 0x40;
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 20 + n, &e), ICMP_PARSE_MALFORMED);
	ip[20 + 30] ^= 0x40;
	/* Our own request (type 8) seen on a raw socket is someone else's business. */
	ip[20] = 8;
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 20 + n, &e), ICMP_PARSE_OTHER);
	/* Garbage and empties. */
	T_EQ_INT(icmp_parse_reply(AF_INET, 1, ip, 3, &e), ICMP_PARSE_MALFORMED);
	T_EQ_INT(icmp_parse_reply(AF_INET, 0, ip, 0, &e), ICMP_PARSE_MALFORMED);
}

T_TEST(icmp_v6_reply_and_foreign_echo)
{
	uint8_t pkt[256];
	size_t n = icmp_build_request(AF_INET6, 9, 10, 11, 12, 1, 0, pkt, sizeof(pkt));
	T_EQ_INT(pkt[0], 128);
	pkt[0] = 129;
	struct icmp_echo e;
	T_EQ_INT(icmp_parse_reply(AF_INET6, 0, pkt, n, &e), ICMP_PARSE_OK);
	T_EQ_INT(e.slot, 11);
	/* An echo reply from another pinger (no VGLP tag) is not ours. */
	memcpy(pkt + 8, "abcd", 4);
	T_EQ_INT(icmp_parse_reply(AF_INET6, 0, pkt, n, &e), ICMP_PARSE_OTHER);
	/* Bad pattern after a good tag is damage. */
	n = icmp_build_request(AF_INET6, 9, 10, 11, 12, 1, 4, pkt, sizeof(pkt));
	pkt[0] = 129;
	pkt[n - 1] ^= 1;
	T_EQ_INT(icmp_parse_reply(AF_INET6, 0, pkt, n, &e), ICMP_PARSE_MALFORMED);
	T_EQ_INT(icmp_build_request(AF_INET6, 0, 0, 0, 0, 0, 100, pkt, 50), 0);
}

/* ---- DNS ---- */

T_TEST(dns_query_wire_format)
{
	uint8_t q[512];
	size_t n;
	T_EQ_INT(dns_build_query(0xabcd, "www.Example.com.", DNS_T_AAAA, 1, q, sizeof(q), &n), 0);
	static const uint8_t want[] = { 0xab, 0xcd, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
		3, 'w', 'w', 'w', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
		0, 28, 0, 1 };
	T_EQ_INT(n, sizeof(want));
	T_CHECK(memcmp(q, want, sizeof(want)) == 0);
	T_EQ_INT(dns_build_query(1, ".", DNS_T_NS, 0, q, sizeof(q), &n), 0);
	T_EQ_INT(n, 12 + 1 + 4);
	T_EQ_INT(dns_build_query(1, "a..b", DNS_T_A, 1, q, sizeof(q), &n), -EINVAL);
	T_EQ_INT(dns_build_query(1, "", DNS_T_A, 1, q, sizeof(q), &n), -EINVAL);
	char big[80];
	memset(big, 'x', 64);
	big[64] = '\0';
	T_EQ_INT(dns_build_query(1, big, DNS_T_A, 1, q, sizeof(q), &n), -EINVAL);	/* label > 63 */
	T_EQ_INT(dns_build_query(1, "a\\.b.c", DNS_T_A, 1, q, sizeof(q), &n), 0);
	T_EQ_INT(q[12], 3);	/* "a.b" is one label */
	T_EQ_INT(dns_build_query(1, "abc", DNS_T_A, 1, q, 10, &n), -E2BIG);
}

/* A reply for test.example A with a compressed answer, as dnsmasq sends it. */
static size_t make_reply(uint8_t *m)
{
	static const uint8_t r[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
		4, 't', 'e', 's', 't', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 1, 0, 1,
		/* answer 1: pointer to offset 12, A 127.0.0.5, ttl 300 */
		0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, 127, 0, 0, 5,
		/* answer 2: TXT "hi \"x\"" */
		0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 0, 0, 7, 6, 'h', 'i', ' ', '"', 'x', '"' };
	memcpy(m, r, sizeof(r));
	return sizeof(r);
}

T_TEST(dns_reply_parses_with_compression)
{
	uint8_t m[512];
	size_t n = make_reply(m);
	struct dns_reply r;
	T_EQ_INT(dns_parse_reply(m, n, &r), 0);
	T_EQ_INT(r.id, 0x1234);
	T_EQ_INT(r.qr, 1);
	T_EQ_INT(r.rcode, 0);
	T_EQ_STR(r.qname, "test.example.");
	T_EQ_INT(r.ancount, 2);
	T_EQ_INT(r.nan, 2);
	T_EQ_STR(r.an[0].text, "test.example.\t300\tIN\tA\t127.0.0.5");
	T_EQ_STR(r.an[1].text, "test.example.\t0\tIN\tTXT\t\"hi \\\"x\\\"\"");
	T_CHECK(dns_name_equal(r.qname, "TEST.example"));
	dns_reply_free(&r);
}

T_TEST(dns_reply_rejects_loops_and_lies)
{
	uint8_t m[512];
	size_t n = make_reply(m);
	struct dns_reply r;
	/* Pointer to itself. */
	m[30] = 0xc0;
	m[31] = 30;
	T_EQ_INT(dns_parse_reply(m, n, &r), -EBADMSG);
	/* Pointer forward (to a later offset). */
	n = make_reply(m);
	m[31] = 40;
	T_EQ_INT(dns_parse_reply(m, n, &r), -EBADMSG);
	/* Every truncation of a good message fails cleanly. */
	n = make_reply(m);
	for (size_t cut = 0; cut < n; cut++)
		T_EQ_INT(dns_parse_reply(m, cut, &r), -EBADMSG);
	/* Trailing garbage. */
	m[n] = 0;
	T_EQ_INT(dns_parse_reply(m, n + 1, &r), -EBADMSG);
	/* ancount larger than the message could hold. */
	n = make_reply(m);
	m[6] = 0xff;
	T_EQ_INT(dns_parse_reply(m, n, &r), -EBADMSG);
	/* A record with rdlength 5. */
	n = make_reply(m);
	m[41] = 5;
	T_EQ_INT(dns_parse_reply(m, n, &r), -EBADMSG);
	/* Label type 0x40 (extended) is refused. */
	n = make_reply(m);
	m[12] = 0x44;
	T_EQ_INT(dns_parse_reply(m, n, &r), -EBADMSG);
}

/* A reply whose second answer's owner name is reached through a chain of
 * `hops` pointers kept inside the first answer's (unknown-type) rdata. */
static size_t chain_reply(uint8_t *m, int hops)
{
	static const uint8_t head[] = { 0, 1, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
		1, 'a', 0, 0, 1, 0, 1 };
	size_t o = sizeof(head);
	memcpy(m, head, o);
	/* answer 1: owner "a." by pointer, TYPE99, rdata = the chain */
	uint8_t rr[] = { 0xc0, 12, 0, 99, 0, 1, 0, 0, 0, 0, 0, (uint8_t)(2 * hops) };
	memcpy(m + o, rr, sizeof(rr));
	o += sizeof(rr);
	size_t prev = 12;
	for (int i = 0; i < hops; i++) {
		m[o] = 0xc0;
		m[o + 1] = (uint8_t)prev;
		prev = o;
		o += 2;
	}
	/* answer 2: owner = pointer to the last link, A 1.2.3.4 */
	uint8_t rr2[] = { 0xc0, (uint8_t)prev, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4 };
	memcpy(m + o, rr2, sizeof(rr2));
	return o + sizeof(rr2);
}

T_TEST(dns_pointer_chain_is_capped)
{
	uint8_t m[512];
	struct dns_reply r;
	T_EQ_INT(dns_parse_reply(m, chain_reply(m, 4), &r), 0);
	T_EQ_INT(r.nan, 2);
	T_EQ_STR(r.an[1].text, "a.\t0\tIN\tA\t1.2.3.4");
	T_EQ_STR(r.an[0].text, "a.\t0\tIN\tTYPE99\t\\# 8 c00cc01fc021c023");
	dns_reply_free(&r);
	/* DNS_MAX_POINTERS links plus the owner's own pointer: too many. */
	T_EQ_INT(dns_parse_reply(m, chain_reply(m, DNS_MAX_POINTERS), &r), -EBADMSG);
}

T_TEST(dns_soa_serial_and_unknown_class)
{
	static const uint8_t r[] = { 0, 9, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
		7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 0, 0, 6, 0, 1,
		0xc0, 12, 0, 6, 0, 1, 0, 0, 0x0e, 0x10, 0, 33,
		2, 'n', 's', 0xc0, 12, 5, 'a', 'd', 'm', 'i', 'n', 0xc0, 12,
		0x78, 0xc3, 0x5e, 0x1f, 0, 0, 0x0e, 0x10, 0, 0, 2, 0x58, 0, 1, 0x51, 0x80, 0, 0, 0, 60 };
	struct dns_reply rep;
	T_EQ_INT(dns_parse_reply(r, sizeof(r), &rep), 0);
	T_EQ_INT(rep.has_serial, 1);
	T_EQ_INT(rep.serial, 2026069535u);
	T_EQ_INT(rep.nan, 1);
	if (rep.nan == 1)
		T_EQ_STR(rep.an[0].text,
	    "example.\t3600\tIN\tSOA\tns.example. admin.example. 2026069535 3600 600 86400 60");
	dns_reply_free(&rep);
	/* The same SOA with its rdlength one short is malformed. */
	uint8_t bad[sizeof(r)];
	memcpy(bad, r, sizeof(r));
	bad[36] = 32;
	T_EQ_INT(dns_parse_reply(bad, sizeof(r) - 1, &rep), -EBADMSG);
}

T_TEST(dns_types_parse)
{
	uint16_t t;
	T_EQ_INT(dns_type_parse("aaaa", &t), 0);
	T_EQ_INT(t, 28);
	T_EQ_INT(dns_type_parse("SOA", &t), 0);
	T_EQ_INT(t, 6);
	T_EQ_INT(dns_type_parse("AXFR", &t), -EINVAL);
	T_EQ_STR(dns_type_name(15), "MX");
}

/* ---- Nagios ---- */

struct perf_list {
	struct nagios_perf p[16];	/* items seen */
	int n;				/* count */
};

static void perf_collect(void *ctx, const struct nagios_perf *p)
{
	struct perf_list *l = ctx;
	if (l->n < 16)
		l->p[l->n++] = *p;
}

T_TEST(nagios_perfdata_parses)
{
	const char *out = "DISK OK - free space: / 3326 MB (56%);| /=2643MB;5948;5958;0;5968 "
	    "'my label'=12.5%;80;90 'it''s'=3c time=0.000123s;;;0.000000;10.000000\n";
	struct perf_list l = { .n = 0 };
	T_EQ_INT(nagios_parse_output(out, strlen(out), perf_collect, &l), 0);
	T_EQ_INT(l.n, 4);
	T_EQ_STR(l.p[0].label, "/");
	T_EQ_STR(l.p[0].uom, "MB");
	T_EQ_DBL(l.p[0].value, 2643, 0);
	T_EQ_INT(l.p[0].has, NAGIOS_HAS_WARN | NAGIOS_HAS_CRIT | NAGIOS_HAS_MIN | NAGIOS_HAS_MAX |
	    NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE);	/* a plain number is a range too */
	T_EQ_DBL(l.p[0].max, 5968, 0);
	T_EQ_STR(l.p[1].label, "my label");
	T_EQ_STR(l.p[1].uom, "%");
	T_EQ_DBL(l.p[1].crit, 90, 0);
	T_EQ_INT(l.p[1].has, NAGIOS_HAS_WARN | NAGIOS_HAS_CRIT | NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE);
	T_EQ_STR(l.p[2].label, "it's");
	T_EQ_STR(l.p[2].uom, "c");
	T_EQ_STR(l.p[3].label, "time");
	T_EQ_DBL(l.p[3].value, 0.000123, 1e-12);
	T_EQ_INT(l.p[3].has, NAGIOS_HAS_MIN | NAGIOS_HAS_MAX);
}

T_TEST(nagios_perfdata_long_output_and_junk)
{
	const char *out = "OK - all fine|a=1\nline two\nline three|b=2;@10:20;~:5 bad=x c=3;;;;;;\n"
	    "d=4KB\n=5 'open=6";
	struct perf_list l = { .n = 0 };
	int bad = nagios_parse_output(out, strlen(out), perf_collect, &l);
	T_EQ_INT(l.n, 3);	/* a, b, d */
	T_EQ_STR(l.p[0].label, "a");
	T_EQ_STR(l.p[1].label, "b");
	T_EQ_INT(l.p[1].has, NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE);	/* ranges, not plain numbers */
	T_EQ_INT(l.p[1].warn_range.inside, 1);
	T_EQ_STR(l.p[2].label, "d");
	T_EQ_STR(l.p[2].uom, "KB");
	T_EQ_INT(bad, 4);	/* bad=x, c (too many fields), =5, 'open=6 */
	l.n = 0;
	T_EQ_INT(nagios_parse_output("no perfdata here", 16, perf_collect, &l), 0);
	T_EQ_INT(l.n, 0);
}

/* Every range form of the Nagios plugin guidelines, and what is not a range. */
T_TEST(nagios_ranges_parse_per_guidelines)
{
	static const struct {
		const char *text;	/* the range */
		int ok;			/* parses */
		double start, end;	/* its ends */
		int inside;		/* '@' */
	} c[] = {
		{ "10", 1, 0, 10, 0 },			/* < 0 or > 10 alerts */
		{ "10:", 1, 10, INFINITY, 0 },		/* < 10 alerts */
		{ "~:10", 1, -INFINITY, 10, 0 },	/* > 10 alerts */
		{ "10:20", 1, 10, 20, 0 },		/* < 10 or > 20 alerts */
		{ "@10:20", 1, 10, 20, 1 },		/* 10 <= v <= 20 alerts */
		{ "@10", 1, 0, 10, 1 },
		{ "@~:10", 1, -INFINITY, 10, 1 },
		{ "~:", 1, -INFINITY, INFINITY, 0 },	/* never alerts */
		{ "-10:-5", 1, -10, -5, 0 },
		{ "1.5:2.5e1", 1, 1.5, 25, 0 },
		{ "5:5", 1, 5, 5, 0 },
		{ "", 0, 0, 0, 0 },
		{ "@", 0, 0, 0, 0 },
		{ "~", 0, 0, 0, 0 },
		{ ":10", 0, 0, 0, 0 },
		{ "20:10", 0, 0, 0, 0 },		/* start > end */
		{ "10:20:30", 0, 0, 0, 0 },
		{ "@@10", 0, 0, 0, 0 },
		{ "10%", 0, 0, 0, 0 },
		{ "~10", 0, 0, 0, 0 },
		{ "abc", 0, 0, 0, 0 },
		{ "1e999", 0, 0, 0, 0 },		/* not finite */
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct nagios_range r = { 42, 42, 7 };
		int rc = nagios_parse_range(c[i].text, strlen(c[i].text), &r);
		if (rc != (c[i].ok ? 0 : -1))
			printf("  range \"%s\": rc %d\n", c[i].text, rc);
		T_EQ_INT(rc, c[i].ok ? 0 : -1);
		if (!c[i].ok) {
			T_EQ_DBL(r.start, 42, 0);	/* untouched on failure */
			continue;
		}
		T_CHECK(r.start == c[i].start);
		T_CHECK(r.end == c[i].end);
		T_EQ_INT(r.inside, c[i].inside);
	}
	/* the alert decision, endpoints included in the range */
	struct nagios_range r;
	T_EQ_INT(nagios_parse_range("10", 2, &r), 0);
	T_EQ_INT(nagios_range_alerts(&r, -1), 1);
	T_EQ_INT(nagios_range_alerts(&r, 0), 0);
	T_EQ_INT(nagios_range_alerts(&r, 10), 0);
	T_EQ_INT(nagios_range_alerts(&r, 10.5), 1);
	T_EQ_INT(nagios_parse_range("@10:20", 6, &r), 0);
	T_EQ_INT(nagios_range_alerts(&r, 10), 1);
	T_EQ_INT(nagios_range_alerts(&r, 20), 1);
	T_EQ_INT(nagios_range_alerts(&r, 21), 0);
	T_EQ_INT(nagios_parse_range("~:10", 4, &r), 0);
	T_EQ_INT(nagios_range_alerts(&r, -1e300), 0);
	T_EQ_INT(nagios_range_alerts(&r, 11), 1);
	/* in perfdata: plain numbers are ranges too; "x" is neither */
	const char *out = "OK|a=5;10;@10:20 b=1;~:10;10: c=2;x;5:1\n";
	struct perf_list l = { .n = 0 };
	T_EQ_INT(nagios_parse_output(out, strlen(out), perf_collect, &l), 0);
	T_EQ_INT(l.n, 3);
	T_EQ_INT(l.p[0].has & (NAGIOS_HAS_WARN | NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE),
	    NAGIOS_HAS_WARN | NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE);
	T_EQ_DBL(l.p[0].warn_range.end, 10, 0);
	T_EQ_INT(l.p[0].crit_range.inside, 1);
	T_CHECK(l.p[1].warn_range.start == -INFINITY);
	T_CHECK(l.p[1].crit_range.end == INFINITY);
	T_EQ_INT(l.p[2].has & (NAGIOS_HAS_WARN_RANGE | NAGIOS_HAS_CRIT_RANGE), 0);	/* x, and 5:1 (start > end) */
}

static void perf_check(void *ctx, const struct nagios_perf *p)
{
	int *n = ctx;
	(*n)++;
	/* whatever came in, what comes out is bounded and terminated */
	if (strlen(p->label) >= NAGIOS_LABEL_MAX || strlen(p->uom) >= NAGIOS_UOM_MAX || p->label[0] == '\0')
		*n = -1000000;
}

/* Mutations of real plugin output (no libFuzzer harness is owned here for
 * perfdata, so a deterministic mutation loop runs under ASan instead). */
T_TEST(nagios_perfdata_survives_mutations)
{
	static const char *const seeds[] = {
		"TCP OK - 0.000 second response time on 127.0.0.1 port 22|time=0.000123s;;;0.000000;10.000000\n",
		"DISK OK|/=2643MB;5948;5958;0;5968 'my label'=12.5%;80;90 'it''s'=3c\nmore|x=1\n",
		"HTTP OK: 200|time=0.01s;;;0 size=46B;;;0\n",
	};
	uint32_t rnd = 12345;
	char buf[512];
	int total = 0;
	for (int iter = 0; iter < 30000; iter++) {
		const char *s = seeds[iter % 3];
		size_t n = strlen(s);
		memcpy(buf, s, n);
		for (int k = 0; k < 1 + iter % 8; k++) {
			rnd = rnd * 1103515245u + 12345u;
			size_t at = (rnd >> 8) % n;
			rnd = rnd * 1103515245u + 12345u;
			static const char alphabet[] = "'=;|: \n.-e%0123456789abcXYZ\\";
			buf[at] = (rnd >> 16) % 7 == 0 ? (char)(rnd >> 8) : alphabet[(rnd >> 16) % (sizeof(alphabet) - 1)];
		}
		rnd = rnd * 1103515245u + 12345u;
		size_t len = (rnd >> 8) % (n + 1);	/* also cut it short, not NUL-terminated */
		int got = 0;
		char *exact = malloc(len ? len : 1);	/* ASan sees any read past len */
		memcpy(exact, buf, len);
		nagios_parse_output(exact, len, perf_check, &got);
		free(exact);
		T_CHECK(got >= 0 && got <= NAGIOS_PERF_MAX);
		if (got < 0)
			break;
		total += got;
	}
	T_CHECK(total > 1000);	/* most mutations leave some items intact */
}

T_TEST(nagios_exit_codes_map)
{
	T_EQ_INT(nagios_state_from_wait(0 << 8), NAGIOS_OK);
	T_EQ_INT(nagios_state_from_wait(1 << 8), NAGIOS_WARNING);
	T_EQ_INT(nagios_state_from_wait(2 << 8), NAGIOS_CRITICAL);
	T_EQ_INT(nagios_state_from_wait(3 << 8), NAGIOS_UNKNOWN);
	T_EQ_INT(nagios_state_from_wait(4 << 8), NAGIOS_UNKNOWN);
	T_EQ_INT(nagios_state_from_wait(9), NAGIOS_UNKNOWN);	/* killed by SIGKILL */
	T_EQ_STR(nagios_state_name(NAGIOS_CRITICAL), "CRITICAL");
}

/* ---- node status ---- */

struct change_log {
	int n;			/* changes seen */
	int old[16], new_[16];	/* each change */
	int64_t ts[16];		/* and when */
};

static void on_change(void *ctx, const char *node, int o, int n, int64_t ts)
{
	struct change_log *c = ctx;
	(void)node;
	if (c->n < 16) {
		c->old[c->n] = o;
		c->new_[c->n] = n;
		c->ts[c->n++] = ts;
	}
}

T_TEST(status_up_warning_down_up)
{
	struct status_tracker st;
	struct change_log cl = { .n = 0 };
	status_init(&st, on_change, &cl);
	T_EQ_INT(status_get(&st, "n1", NULL), PROBE_NODE_UNKNOWN);
	T_EQ_INT(status_report(&st, "n1", 3, 1, 1000), PROBE_NODE_UP);
	T_EQ_INT(status_report(&st, "n1", 3, 1, 2000), PROBE_NODE_UP);
	T_EQ_INT(status_report(&st, "n1", 3, 0, 3000), PROBE_NODE_WARNING);
	T_EQ_INT(status_report(&st, "n1", 3, 0, 3500), PROBE_NODE_WARNING);
	int64_t ch;
	T_EQ_INT(status_get(&st, "n1", &ch), PROBE_NODE_WARNING);
	T_EQ_INT(ch, 3000);	/* the change time, not the last poll */
	T_EQ_INT(status_report(&st, "n1", 3, 0, 4000), PROBE_NODE_DOWN);
	T_EQ_INT(status_report(&st, "n1", 3, 0, 5000), PROBE_NODE_DOWN);
	T_EQ_INT(status_report(&st, "n1", 3, 1, 6000), PROBE_NODE_UP);
	/* a warning that recovers before down */
	T_EQ_INT(status_report(&st, "n1", 3, 0, 7000), PROBE_NODE_WARNING);
	T_EQ_INT(status_report(&st, "n1", 3, 1, 7500), PROBE_NODE_UP);
	T_EQ_INT(cl.n, 6);
	int want_old[] = { 0, 1, 2, 3, 1, 2 }, want_new[] = { 1, 2, 3, 1, 2, 1 };
	int64_t want_ts[] = { 1000, 3000, 4000, 6000, 7000, 7500 };
	for (int i = 0; i < 6 && i < cl.n; i++) {
		T_EQ_INT(cl.old[i], want_old[i]);
		T_EQ_INT(cl.new_[i], want_new[i]);
		T_EQ_INT(cl.ts[i], want_ts[i]);
	}
	/* a seeded state (config reload) changes nothing by itself */
	status_seed(&st, "n3", PROBE_NODE_DOWN, 5, 42);
	T_EQ_INT(cl.n, 6);
	T_EQ_INT(status_report(&st, "n3", 3, 0, 9000), PROBE_NODE_DOWN);
	T_EQ_INT(cl.n, 6);
	T_EQ_INT(status_get(&st, "n3", &ch), PROBE_NODE_DOWN);
	T_EQ_INT(ch, 42);
	T_EQ_INT(status_report(&st, "n3", 3, 1, 9500), PROBE_NODE_UP);
	T_EQ_INT(cl.n, 7);
	cl.n = 6;
	/* down_after 1: the first failure is down at once */
	T_EQ_INT(status_report(&st, "n2", 1, 0, 100), PROBE_NODE_DOWN);
	status_free(&st);
}

struct sink_rec {
	int n;			/* samples */
	double v[8];		/* values */
	char name[8][64];	/* __name__ */
};

static int rec_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct sink_rec *s = ctx;
	(void)ts;
	if (s->n < 8) {
		snprintf(s->name[s->n], 64, "%s", labels_get(ls, "__name__"));
		s->v[s->n++] = v;
	}
	return 0;
}

T_TEST(status_emits_series)
{
	struct status_tracker st;
	status_init(&st, NULL, NULL);
	status_report(&st, "core", 2, 0, 5000);
	struct sink_rec rec = { .n = 0 };
	struct sample_sink sink = { rec_add, &rec };
	T_EQ_INT(status_emit(&st, sink, 6000), 0);
	T_EQ_INT(rec.n, 2);
	T_EQ_STR(rec.name[0], "vigil_node_status");
	T_EQ_DBL(rec.v[0], 2, 0);
	T_EQ_STR(rec.name[1], "vigil_node_status_changed_timestamp_seconds");
	T_EQ_DBL(rec.v[1], 5.0, 0);
	status_free(&st);
}

/* ---- host:port ---- */

T_TEST(hostport_split)
{
	char h[64];
	uint16_t p;
	T_EQ_INT(probe_split_hostport("10.0.0.1:80", h, sizeof(h), &p, 0), 0);
	T_EQ_STR(h, "10.0.0.1");
	T_EQ_INT(p, 80);
	T_EQ_INT(probe_split_hostport("[::1]:53", h, sizeof(h), &p, 0), 0);
	T_EQ_STR(h, "::1");
	T_EQ_INT(p, 53);
	T_EQ_INT(probe_split_hostport("::1", h, sizeof(h), &p, 53), 0);
	T_EQ_STR(h, "::1");
	T_EQ_INT(p, 53);
	T_EQ_INT(probe_split_hostport("host", h, sizeof(h), &p, 0), 0);
	T_EQ_INT(p, 0);	/* absent: the default (the TCP prober then refuses it) */
	T_EQ_INT(probe_split_hostport("host:99999", h, sizeof(h), &p, 0), -EINVAL);
	T_EQ_INT(probe_split_hostport("host:", h, sizeof(h), &p, 0), -EINVAL);
	T_EQ_INT(probe_split_hostport("[::1", h, sizeof(h), &p, 0), -EINVAL);
}

/* ---- config setter ---- */

T_TEST(cfg_set_fills_and_refuses)
{
	struct probe_cfg c;
	char err[128];
	memset(&c, 0, sizeof(c));
	T_EQ_INT(probe_cfg_set(&c, "kind", "http", err, sizeof(err)), 0);
	T_EQ_INT(c.kind, PROBE_HTTP);
	T_EQ_INT(probe_cfg_set(&c, "target", "https://example.org/", err, sizeof(err)), 0);
	T_EQ_INT(probe_cfg_set(&c, "interval", "1m30s", err, sizeof(err)), 0);
	T_EQ_INT(c.interval_ms, 90000);
	T_EQ_INT(probe_cfg_set(&c, "http.valid_status", "200", err, sizeof(err)), 0);
	T_EQ_INT(probe_cfg_set(&c, "http.valid_status", "301", err, sizeof(err)), 0);
	T_EQ_INT(c.http.valid_status[1], 301);
	T_EQ_INT(probe_cfg_set(&c, "http.header", "Host: example.org", err, sizeof(err)), 0);
	T_EQ_STR(c.http.headers[0], "Host: example.org");
	T_EQ_INT(probe_cfg_set(&c, "http.follow_redirects", "false", err, sizeof(err)), 0);
	T_EQ_INT(c.http.no_follow, 1);
	T_EQ_INT(probe_cfg_set(&c, "dns.rcode", "NXDOMAIN", err, sizeof(err)), 0);
	T_EQ_INT(c.dns.rcode, 3);
	T_EQ_INT(probe_cfg_set(&c, "dns.query_type", "mx", err, sizeof(err)), 0);
	T_EQ_INT(c.dns.qtype, DNS_T_MX);
	T_EQ_INT(probe_cfg_set(&c, "nagios.command", "/usr/lib/nagios/plugins/check_disk", err, sizeof(err)), 0);
	T_EQ_INT(probe_cfg_set(&c, "nagios.command", "-w", err, sizeof(err)), 0);
	T_EQ_STR(c.nagios.argv[1], "-w");
	T_CHECK(c.nagios.argv[2] == NULL);
	/* refusals say which key and why */
	T_EQ_INT(probe_cfg_set(&c, "timeout", "soon", err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "timeout: not a duration (e.g. 10s, 500ms)");
	T_EQ_INT(probe_cfg_set(&c, "http.valid_status", "99", err, sizeof(err)), -EINVAL);
	T_EQ_INT(probe_cfg_set(&c, "icmp.count", "65", err, sizeof(err)), -EINVAL);
	T_EQ_INT(probe_cfg_set(&c, "icmp.count", "-1", err, sizeof(err)), -EINVAL);
	T_EQ_INT(probe_cfg_set(&c, "kind", "smtp", err, sizeof(err)), -EINVAL);
	T_EQ_INT(probe_cfg_set(&c, "bogus", "1", err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "bogus: unknown probe setting");
	struct probe_cfg d;
	memset(&d, 0, sizeof(d));
	T_EQ_INT(probe_cfg_set(&d, "nagios.command", "check_disk", err, sizeof(err)), -EINVAL);
	probe_cfg_release(&c);
	probe_cfg_release(&d);
	T_CHECK(c.owned == NULL);
}

int main(void)
{
	T_RUN(icmp_request_roundtrips_as_reply);
	T_RUN(icmp_reply_with_ip_header_and_damage);
	T_RUN(icmp_v6_reply_and_foreign_echo);
	T_RUN(dns_query_wire_format);
	T_RUN(dns_reply_parses_with_compression);
	T_RUN(dns_reply_rejects_loops_and_lies);
	T_RUN(dns_pointer_chain_is_capped);
	T_RUN(dns_soa_serial_and_unknown_class);
	T_RUN(dns_types_parse);
	T_RUN(nagios_perfdata_parses);
	T_RUN(nagios_perfdata_long_output_and_junk);
	T_RUN(nagios_ranges_parse_per_guidelines);
	T_RUN(nagios_perfdata_survives_mutations);
	T_RUN(nagios_exit_codes_map);
	T_RUN(status_up_warning_down_up);
	T_RUN(status_emits_series);
	T_RUN(hostport_split);
	T_RUN(cfg_set_fills_and_refuses);
	return t_done();
}
