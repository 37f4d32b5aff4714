/*
 * nagios.h — Nagios plugin results: exit code to state, and the perfdata
 * grammar ('label'=value[UOM];[warn];[crit];[min];[max], space separated,
 * labels with spaces in single quotes, '' for a quote inside).
 *
 * Warn and crit are Nagios ranges (Nagios plugin development guidelines,
 * "Threshold and ranges"): [@]start:end, where "10" is 0:10, "10:" is
 * 10:+inf, "~:10" is -inf:10, and start <= end. A value outside the range
 * (endpoints included in the range) raises the alert; with '@' a value
 * inside it does.
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

/* A threshold range. */
struct nagios_range {
	double start;	/* low end (-inf for "~") */
	double end;	/* high end (+inf when left out after ':') */
	int inside;	/* '@': alert when start <= value <= end; else when outside */
};

struct nagios_perf {
	char label[NAGIOS_LABEL_MAX];	/* label, unquoted */
	char uom[NAGIOS_UOM_MAX];	/* unit ("s", "%", "B", "KB", "c", ...; "" none) */
	double value;			/* the value */
	double warn, crit, min, max;	/* thresholds and range */
	struct nagios_range warn_range;	/* warn as a range */
	struct nagios_range crit_range;	/* crit as a range */
	unsigned has;			/* NAGIOS_HAS_* bits for the fields above */
};

#define NAGIOS_HAS_WARN 1u	/* warn was a plain number */
#define NAGIOS_HAS_CRIT 2u	/* crit was a plain number */
#define NAGIOS_HAS_MIN  4u	/* min was given */
#define NAGIOS_HAS_MAX  8u	/* max was given */
#define NAGIOS_HAS_WARN_RANGE 16u	/* warn was a valid range (a plain number is one too) */
#define NAGIOS_HAS_CRIT_RANGE 32u	/* crit was a valid range */

/* Parse the Nagios range s[0..n) into r. Return 0, or -1 (r untouched) if it
 * is not exactly a range: empty, start > end, a lone "~", junk. */
int nagios_parse_range(const char *s, size_t n, struct nagios_range *r /* out */);
/* 1 if v raises the alert of range r. */
int nagios_range_alerts(const struct nagios_range *r, double v);

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
