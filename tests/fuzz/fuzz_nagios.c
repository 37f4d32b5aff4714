/* libFuzzer harness for Nagios plugin output (src/probe/nagios.c): perfdata
 * items and their warn/crit ranges. Any bytes must parse or be skipped
 * cleanly; what is reported is bounded, and every range reported is one
 * nagios_parse_range accepts (start <= end, ends not NaN). */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "probe/nagios.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_range(const struct nagios_range *r)
{
	if (isnan(r->start) || isnan(r->end) || r->start > r->end || (r->inside != 0 && r->inside != 1))
		__builtin_trap();
}

static void on_perf(void *ctx, const struct nagios_perf *p)
{
	int *n = ctx;
	(*n)++;
	if (!p->label[0] || strlen(p->label) >= NAGIOS_LABEL_MAX || strlen(p->uom) >= NAGIOS_UOM_MAX)
		__builtin_trap();
	if (p->has & NAGIOS_HAS_WARN_RANGE)
		check_range(&p->warn_range);
	if (p->has & NAGIOS_HAS_CRIT_RANGE)
		check_range(&p->crit_range);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int n = 0;
	nagios_parse_output((const char *)data, size, on_perf, &n);
	if (n > NAGIOS_PERF_MAX)
		__builtin_trap();
	/* the bytes as one range, too */
	struct nagios_range r;
	if (nagios_parse_range((const char *)data, size, &r) == 0)
		check_range(&r);
	return 0;
}
