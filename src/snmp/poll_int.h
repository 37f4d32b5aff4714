/*
 * poll_int.h — the SNMP poller's internal state, shared by poll.c (profile
 * selection, walks, GETs, scheduling) and poll_emit.c (values to labelled
 * samples, per-row staleness, the end of a cycle). Not for other modules.
 */
#ifndef VIGIL_SNMP_POLL_INT_H
#define VIGIL_SNMP_POLL_INT_H

#include <arpa/inet.h>
#include <stddef.h>
#include <stdint.h>

#include "core/hmap.h"
#include "core/labels.h"
#include "snmp/client.h"
#include "snmp/poll.h"
#include "snmp/profile.h"

#define SAMPLE_LABELS   (PROFILE_INDEX_MAX + PROFILE_ITEMS_MAX + 4) /* labels on one sample */
#define STR_LABEL_MAX   1024	/* bytes of a string turned into a label value */

struct row {
	double *v;		/* per metric column value */
	uint8_t *have;		/* per metric column: v is set */
	char **info;		/* per metric column: string of an info metric, owned;
				 * NULL until an info column answers */
};

struct ptable {
	const struct prof_table *pt;	/* the profile's table */
	struct hmap cache;		/* index -> char *[nlabels] (cached label values) */
	struct hmap next;		/* label values being walked this cycle */
	struct hmap rows;		/* index -> struct row, this cycle */
	int relabel;			/* label columns are walked this cycle */
	int stale;			/* a row had no cached labels: relabel next cycle */
	size_t nrowlabels;		/* label columns indexed like the rows (not lookups) */
	int *from_label;		/* per metric: label column an info metric reads, or -1 */
	struct hmap sent;		/* row hash -> struct rowrec: what each row last sent */
};

/* Staleness of table series is tracked per row, not per series: the row's
 * labels once, and which of its metrics were sent (a 48-port switch has ~50
 * rows but ~1,500 series). A row that is not sent again, or comes back with
 * other labels (its hash changes), gets a staleness marker per metric. */
struct rowrec {
	uint64_t cycle;			/* d->cycle when last sent */
	struct labels *base;		/* the row's labels without __name__, owned */
	uint8_t *sent;			/* per metric: sent the last time */
	char **info;			/* per metric: value of an info metric not read from a
					 * label column, as last sent (owned); NULL if none */
};

struct scalar {
	const struct prof_metric *m;	/* the profile's scalar */
	int skip;			/* the device has no such object (v1 noSuchName) */
	int have;			/* value read this cycle */
	double v;			/* numeric value */
	char *s;			/* info string, owned */
};

struct pdev {
	struct snmp_poller *p;		/* owner */
	char *name;			/* instance label */
	struct snmp_target *t;		/* the device on the client, NULL if config was bad */
	char err[320];			/* last error */
	int64_t interval;		/* ms between cycles */
	int label_refresh;		/* cycles between label walks */
	char **force, **exclude;	/* profile names forced / excluded, owned */
	size_t nforce, nexclude;	/* entries */
	const struct snmp_profile **sel; /* selected profiles */
	size_t nsel;			/* entries in sel */
	int selected;			/* sel is valid */
	uint64_t sel_gen;		/* bumped whenever sel (and sc) change */
	struct ptable *tables;		/* one per table of the selected profiles */
	size_t ntables;			/* entries in tables */
	struct scalar *sc;		/* scalars of the selected profiles */
	size_t nsc;			/* entries in sc */
	int64_t due;			/* loop time (ms) the next cycle is due */
	int busy;			/* a cycle is running */
	uint64_t cycle;			/* cycles started */
	int64_t start_mono, start_wall;	/* this cycle's start */
	int cut_short;			/* this cycle ran past its deadline; walks stopped */
	int outstanding;		/* requests/walks of this cycle not finished */
	size_t pdus;			/* varbinds received this cycle */
	int up;				/* last cycle's system GET worked */
	char *sysdescr, *sysname, *sysobjid; /* system group, owned */
	char addr[INET6_ADDRSTRLEN];	/* the device's IP address, numeric (snmp_device_info's target label) */
	uint64_t uptime;		/* last sysUpTime, ticks */
	int have_uptime;		/* uptime is set */
	uint64_t restarts;		/* times sysUpTime went backwards */
	struct labels *ls;		/* scratch label set for samples */
	/* Staleness, as Prometheus does for a scrape: a series sent last cycle
	 * but not this one (row gone, label changed, device down) gets a
	 * staleness marker. Table series are tracked per row (struct rowrec);
	 * these are the rest (scalars, snmp_device_info). Keyed by labels_hash;
	 * steady state allocates nothing. */
	struct hmap series;		/* labels_hash -> struct seen, every live series */
	struct ord *order;		/* last cycle's series in the order they were sent */
	size_t norder, caporder;	/* entries in order, slots */
	struct ord *next;		/* this cycle's, being built */
	size_t nnext, capnext;		/* entries in next, slots */
	size_t oi;			/* position in order this cycle has matched up to */
	uint64_t stale_sent;		/* staleness markers sent */
};

struct snmp_poller {
	struct loop *loop;		/* the worker's loop */
	struct snmp_client *c;		/* the shared client */
	struct sample_sink sink;	/* where samples go */
	struct pdev *devs;		/* devices */
	size_t ndevs;			/* entries in devs */
	int closing;			/* being freed: ignore callbacks */
	uint64_t cycles;		/* cycles completed */
	uint64_t overruns;		/* ticks skipped because the last cycle ran */
	uint64_t samples;		/* samples delivered */
	uint64_t sink_errors;		/* samples the sink refused */
	struct snmp_poller *next;	/* every live poller, for metrics */
	/* Devices by due time in our own min-heap with one loop timer at its top,
	 * so 100k devices cost one loop timer, not 100k. */
	struct pdev **due;		/* heap of schedulable devices */
	size_t ndue;			/* entries in due */
	uint64_t loop_timer;		/* the armed loop timer, 0 if none */
};

/* A label value for any varbind value: printable text, else 0x-hex (malloced). */
char *snmp_poll_value_text(const struct snmp_value *v);
/* The numeric value of a varbind. 0, or -1 if it has none. */
int snmp_poll_value_number(const struct snmp_value *v, double *d);
/* Free a struct seen (an entry of pdev.series). */
void snmp_poll_free_seen(void *v);
/* Free n strings of p, then p. */
void snmp_poll_free_strv(void *p, size_t n);
/* Free a map of index -> char *[n], and its entries. */
void snmp_poll_free_labelmap(struct hmap *m, size_t n);
/* Free this cycle's rows of t. */
void snmp_poll_free_rows(struct ptable *t);
/* The cache key of lookup label li for index ix (static buffer). */
const char *snmp_poll_lookup_key(size_t li, const char *ix);
/* Staleness for t's rows not sent this cycle (all: every row); emit 0 frees
 * the records without sending markers. */
void snmp_poll_sweep_rows(struct pdev *d, struct ptable *t, int all, int emit);
/* One request or walk of d's cycle finished; the last one ends the cycle. */
void snmp_poll_op_done(struct pdev *d);

#endif
