/* libFuzzer harness for the ICMP reply parser (src/probe/icmp.c), for both
 * families and with and without an IPv4 header in front. */
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe/icmp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct icmp_echo e;
	enum icmp_parse_rc rc;
	rc = icmp_parse_reply(AF_INET, 1, data, size, &e);
	if (rc == ICMP_PARSE_OK && (e.ttl < 0 || e.ttl > 255))
		__builtin_trap();
	rc = icmp_parse_reply(AF_INET, 0, data, size, &e);
	if (rc == ICMP_PARSE_OK && size < ICMP_HDR_LEN + ICMP_TAG_LEN)
		__builtin_trap();
	rc = icmp_parse_reply(AF_INET6, 0, data, size, &e);
	if (rc == ICMP_PARSE_OK && (size < ICMP_HDR_LEN + ICMP_TAG_LEN || data[0] != 129))
		__builtin_trap();
	return 0;
}
