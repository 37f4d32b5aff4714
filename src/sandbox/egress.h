/*
 * egress.h — the egress policy: the one gate every outbound connection and
 * datagram in every worker goes through. The policy is built from the config
 * (SNMP devices, probe targets, scrape endpoints, notification receivers,
 * remote_write URLs); anything not in it is refused, logged and counted.
 *
 *   egress_allow_addr(&sa, salen, IPPROTO_UDP, 161, "snmp device core-sw1");
 *   if (egress_sendto(fd, buf, n, 0, &sa, salen) < 0 && errno == EACCES) ...
 *
 * Rules match an exact address (IPv4, IPv6, or a v4-mapped v6 address as its
 * IPv4 form), a protocol, and a port (0 = any port, e.g. ICMP). One policy per
 * process; it is replaced whole on reload (egress_reset then re-add).
 */
#ifndef VIGIL_EGRESS_H
#define VIGIL_EGRESS_H

#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Forget every rule (nothing is allowed until rules are added). */
void egress_reset(void);
/* Allow proto (IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6) to the
 * address in sa, on port (0 = any). why is kept for logs. 0 or -EINVAL. */
int egress_allow_addr(const struct sockaddr *sa, socklen_t salen, int proto,
    uint16_t port, const char *why);
/* Same from a numeric address string ("192.0.2.1", "::1"). 0 or -EINVAL. */
int egress_allow_str(const char *addr, int proto, uint16_t port, const char *why);
/* Return 0 if the policy allows proto to sa (port from sa), else -EACCES;
 * a refusal is logged (rate-limited) and counted. */
int egress_check(const struct sockaddr *sa, socklen_t salen, int proto);
/* connect(2) behind egress_check; refused: -1 with errno EACCES. */
int egress_connect(int fd, const struct sockaddr *sa, socklen_t salen, int proto);
/* sendto(2) behind egress_check; refused: -1 with errno EACCES. */
ssize_t egress_sendto(int fd, const void *p, size_t n, int flags,
    const struct sockaddr *sa, socklen_t salen, int proto);
/* Refusals since the process started (for vigil_egress_refused_total). */
uint64_t egress_refused_count(void);
/* Rules in the policy. */
size_t egress_rule_count(void);

#endif
