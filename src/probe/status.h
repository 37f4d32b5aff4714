/*
 * status.h — node status with Orion's semantics, made faster.
 *
 * A node is up while its polls succeed. The first failed poll makes it
 * warning, and the engine re-polls it at the short retry interval instead
 * of the normal one; after down_after failed polls in a row it is down
 * (and is polled at the normal interval again). Any successful poll makes
 * it up. Every change is timestamped and reported through the hook.
 *
 *   struct status_tracker st; status_init(&st, hook, ctx);
 *   int s = status_report(&st, "core-sw1", 3, ok, now_ms);
 *   if (s == PROBE_NODE_WARNING) poll again soon;
 *   status_emit(&st, sink, now_ms); status_free(&st);
 *
 * Several probes may name the same node; each report moves the one state
 * machine (so give a node one availability probe, usually ICMP).
 */
#ifndef VIGIL_PROBE_STATUS_H
#define VIGIL_PROBE_STATUS_H

#include <stdint.h>

#include "core/batch.h"
#include "core/hmap.h"
#include "probe/probe.h"

struct status_tracker {
	struct hmap nodes;		/* node name -> struct status_node */
	probe_status_cb on_change;	/* hook, or NULL */
	void *ctx;			/* hook's argument */
};

void status_init(struct status_tracker *st, probe_status_cb on_change, void *ctx);
/* Free every node; st may be NULL. */
void status_free(struct status_tracker *st);
/* Record one finished poll of node (success 1/0) at ts_ms. down_after 0
 * means 3. Return the node's status afterwards (PROBE_NODE_*). */
int status_report(struct status_tracker *st, const char *node, unsigned down_after,
    int success, int64_t ts_ms);
/* Return node's status (PROBE_NODE_UNKNOWN if never reported) and the time it
 * last changed (0 if never) in *changed_ms (may be NULL). */
int status_get(const struct status_tracker *st, const char *node, int64_t *changed_ms /* out */);
/* Set node's state without an event (e.g. carried over a config reload);
 * fails is the count of failed polls in a row behind it. */
void status_seed(struct status_tracker *st, const char *node, int status, unsigned fails,
    int64_t changed_ms);
/* Make node known (status unknown) so it is emitted before its first poll. */
void status_declare(struct status_tracker *st, const char *node, int64_t ts_ms);
/* Emit vigil_node_status and vigil_node_status_changed_timestamp_seconds for
 * every node. Return 0 or the sink's error. */
int status_emit(const struct status_tracker *st, struct sample_sink sink, int64_t ts_ms);

#endif
