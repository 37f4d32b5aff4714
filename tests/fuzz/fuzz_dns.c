/* libFuzzer harness for the DNS reply parser (src/probe/dns.c): any bytes
 * must parse or fail cleanly, and a parsed reply's texts must be strings. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "probe/dns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dns_reply r;
	if (dns_parse_reply(data, size, &r) == 0) {
		size_t total = strlen(r.qname);
		for (size_t i = 0; i < r.nan; i++)
			total += strlen(r.an[i].text);
		if (r.nan > DNS_MAX_RRS || total > (DNS_MAX_RRS + 1) * DNS_RR_TEXT)
			__builtin_trap();
		dns_reply_free(&r);
	}
	/* Also build a query from the bytes taken as a name. */
	char name[300];
	size_t n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	uint8_t q[DNS_MSG_MAX];
	size_t qlen;
	if (dns_build_query(1, name, DNS_T_A, 1, q, sizeof(q), &qlen) == 0 && qlen > 12 + 255 + 5)
		__builtin_trap();
	return 0;
}
