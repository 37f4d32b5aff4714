/*
 * icmp.h — ICMP / ICMPv6 echo packets as vigil sends and accepts them.
 *
 * Every echo request carries a 16-byte tag after the ICMP header: "VGLP",
 * the sender's slot (u32), a per-run cookie (u32), the packet's index in its
 * cycle (u16) and two zero bytes, then `payload` bytes of the pattern
 * (i & 0xff). A reply is accepted only if it is an echo reply whose length,
 * checksum (IPv4), tag and pattern are intact; the pinger then also checks
 * identifier, sequence number, source address and cookie.
 *
 * The parser is pure so it can be fuzzed (tests/fuzz/fuzz_icmp.c).
 */
#ifndef VIGIL_PROBE_ICMP_H
#define VIGIL_PROBE_ICMP_H

#include <stddef.h>
#include <stdint.h>

#define ICMP_TAG_LEN 16		/* vigil's tag at the start of the payload */
#define ICMP_HDR_LEN 8		/* type, code, checksum, id, seq */

enum icmp_parse_rc {
	ICMP_PARSE_OK = 0,		/* an intact echo reply carrying vigil's tag */
	ICMP_PARSE_OTHER = 1,		/* some other ICMP message (ignored, counted foreign) */
	ICMP_PARSE_MALFORMED = -1,	/* truncated, bad checksum, bad tag: dropped */
};

struct icmp_echo {
	uint16_t id;		/* identifier field */
	uint16_t seq;		/* sequence number field */
	uint32_t slot;		/* tag: sender slot */
	uint32_t cookie;	/* tag: per-run cookie */
	uint16_t idx;		/* tag: packet index in the cycle */
	int ttl;		/* IPv4 TTL from the IP header, or -1 when not present */
};

/* The ones' complement Internet checksum of n bytes. */
uint16_t icmp_checksum(const void *p, size_t n);

/*
 * Build an echo request for family (AF_INET / AF_INET6) into out (outsz
 * bytes). IPv4 gets its checksum; ICMPv6's is the kernel's. Return the
 * length, or 0 if outsz is too small.
 */
size_t icmp_build_request(int family, uint16_t id, uint16_t seq, uint32_t slot,
    uint32_t cookie, uint16_t idx, size_t payload, uint8_t *out, size_t outsz);

/*
 * Parse one received datagram. has_ip_header is 1 for raw IPv4 sockets (the
 * kernel hands over the IP header too). Fill *out on ICMP_PARSE_OK.
 */
enum icmp_parse_rc icmp_parse_reply(int family, int has_ip_header, const uint8_t *p,
    size_t n, struct icmp_echo *out /* out */);

#endif
