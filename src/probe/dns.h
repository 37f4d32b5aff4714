/*
 * dns.h — a small DNS codec for the DNS probe: build one query, parse one
 * reply strictly (RFC 1035 wire format, name compression with loop
 * protection, every length checked against the message).
 *
 *   uint8_t q[DNS_MSG_MAX]; size_t qlen;
 *   dns_build_query(id, "example.com", DNS_T_A, 1, q, sizeof(q), &qlen);
 *   struct dns_reply rep;
 *   if (dns_parse_reply(buf, n, &rep) == 0) { rep.rcode, rep.an[i].text ... }
 *   dns_reply_free(&rep);
 *
 * Answer RRs are rendered as text the way dig and blackbox_exporter show
 * them ("test.example.\t0\tIN\tA\t127.0.0.5") so answer regexes written for
 * blackbox_exporter keep working.
 */
#ifndef VIGIL_PROBE_DNS_H
#define VIGIL_PROBE_DNS_H

#include <stddef.h>
#include <stdint.h>

#define DNS_MSG_MAX      4096	/* largest reply read (no EDNS: 512 is normal) */
#define DNS_NAME_MAX     255	/* wire bytes in a name (RFC 1035) */
#define DNS_NAME_TEXT    1100	/* a name as text, with \DDD escapes */
#define DNS_RR_TEXT      2048	/* one RR as text; longer rdata is cut */
#define DNS_MAX_POINTERS 16	/* compression pointers followed in one name */
#define DNS_MAX_RRS      64	/* answer RRs kept as text (all are checked) */

#define DNS_T_A     1
#define DNS_T_NS    2
#define DNS_T_CNAME 5
#define DNS_T_SOA   6
#define DNS_T_PTR   12
#define DNS_T_MX    15
#define DNS_T_TXT   16
#define DNS_T_AAAA  28

struct dns_rr_text {
	uint16_t type;			/* RR type */
	char text[DNS_RR_TEXT];		/* "name.\tttl\tIN\tTYPE\trdata" */
};

struct dns_reply {
	uint16_t id;		/* message id */
	int qr;			/* 1 for a response */
	int opcode;		/* header opcode */
	int tc;			/* truncated flag */
	int rcode;		/* response code (4 bits) */
	unsigned qdcount;	/* questions */
	unsigned ancount;	/* answer RRs */
	unsigned nscount;	/* authority RRs */
	unsigned arcount;	/* additional RRs */
	char qname[DNS_NAME_TEXT];	/* first question's name as text, "." ended */
	uint16_t qtype;		/* first question's type */
	uint16_t qclass;	/* first question's class */
	struct dns_rr_text *an;	/* first min(ancount, DNS_MAX_RRS) answers, malloced */
	size_t nan;		/* entries in an */
	int has_serial;		/* an SOA was in the answer section */
	uint32_t serial;	/* its serial */
};

/* Parse "A", "AAAA", "MX", "TXT", "NS", "CNAME", "SOA", "PTR" (any case). 0 or -EINVAL. */
int dns_type_parse(const char *s, uint16_t *out /* out */);
/* The type's mnemonic, or NULL if vigil does not know it. */
const char *dns_type_name(uint16_t type);

/*
 * Build a query for name (dotted text, trailing dot optional; "\." and
 * "\DDD" escapes allowed) into out. rd sets recursion desired. Return 0
 * and *len, or -EINVAL for a bad name, -E2BIG if out is too small.
 */
int dns_build_query(uint16_t id, const char *name, uint16_t qtype, int rd, uint8_t *out,
    size_t outsz, size_t *len /* out */);

/*
 * Parse one reply of n bytes. Every section is walked and checked.
 * Return 0 with *out filled (free with dns_reply_free), or -EBADMSG with
 * nothing to free.
 */
int dns_parse_reply(const uint8_t *p, size_t n, struct dns_reply *out /* out */);
void dns_reply_free(struct dns_reply *r);

/* Compare two text names ignoring ASCII case and a trailing dot: 1 if equal. */
int dns_name_equal(const char *a, const char *b);

#endif
