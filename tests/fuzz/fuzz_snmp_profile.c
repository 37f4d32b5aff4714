/* libFuzzer harness: the SNMP device profile parser (profiles/NAME.yml) on
 * arbitrary bytes, then the sysObjectID/sysDescr match of what it accepted. */
#include <stddef.h>
#include <stdint.h>

#include "snmp/profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct snmp_profile p;
	char err[256];
	if (snmp_profile_parse((const char *)data, size, "fuzz.yml", &p, err, sizeof(err)) == 0) {
		struct snmp_oid o = { .n = 9, .v = { 1, 3, 6, 1, 4, 1, 9, 1, 634 } };
		snmp_profile_matches(&p, &o, "Cisco IOS Software");
		snmp_profile_matches(&p, NULL, "");
		snmp_profile_free(&p);
	}
	return 0;
}
