/*
 * nagios.h — Nagios plugin results: exit code to state, and the perfdata
 * grammar ('label'=value[UOM];[warn];[crit];[min];[max], space separated,
 * labels with spaces in single quotes, '' for a quote inside).
 *
 * Perfdata comes from the part of the first output line after '|' and from
 * every later line once a '|' has appeared on one of them (Nagios 3 long
 * output). Items that do not parse are skipped and counted.
 */
#ifndef VIGIL_PROBE_NAGIOS_H
#define VIGIL_PROBE_NAGIOS_H

#include <stddef.h>

#define NAGIOS_LABEL_MAX 128	/* bytes in one perfdata label */
#define NAGIOS_UOM_MAX   8	/* bytes in a unit of measure */
#define NAGIOS_PERF_MAX  128	/* perfdata items taken from one output */

enum nagios_state { NAGIOS_OK = 0, NAGIOS_WARNING = 1, NAGIOS_CRITICAL = 2, NAGIOS_UNKNOWN = 3 };

struct nagios_perf {
	char label[NAGIOS_LABEL_MAX];	/* label, unquoted */
	char uom[NAGIOS_UOM_MAX];	/* unit ("s", "%", "B", "KB", "c", ...; "" none) */
	double value;			/* the value */
	double warn, crit, min, max;	/* thresholds and range */
	unsigned has;			/* NAGIOS_HAS_* bits for the four above */
};

#define NAGIOS_HAS_WARN 1u	/* warn was a plain number */
#define NAGIOS_HAS_CRIT 2u	/* crit was a plain number */
#define NAGIOS_HAS_MIN  4u	/* min was given */
#define NAGIOS_HAS_MAX  8u	/* max was given */

/* Map a plugin's wait status (from waitpid) to a state: exit 0..3 as is,
 * anything else (other codes, signals) UNKNOWN. */
enum nagios_state nagios_state_from_wait(int wstatus);
/* "OK", "WARNING", "CRITICAL", "UNKNOWN". */
const char *nagios_state_name(enum nagios_state s);

/*
 * Parse the perfdata in a plugin's output (n bytes, need not be
 * NUL-terminated). Call cb for each good item (at most NAGIOS_PERF_MAX).
 * Return the number of items that were malformed and skipped.
 */
int nagios_parse_output(const char *out, size_t n,
    void (*cb)(void *ctx, const struct nagios_perf *p), void *ctx);

#endif
