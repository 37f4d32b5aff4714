/*
 * inventory.h — the inventory API (GET /api/inventory/nodes, /interfaces,
 * /events), answered by the store worker from the series it holds.
 *
 * A node is the union of what vigil polls about one box: an SNMP device
 * (snmp_up, snmp_device_info), this host's collectors (node_uname_info, up),
 * a scraped target (up) and availability probes (probe_success,
 * vigil_node_status). They are merged by name (a probe's `node` naming an SNMP
 * device or this host) and by address (a probe of the address an SNMP device
 * is polled at is that device), so one box is one row. docs/CONSOLE.md has
 * the rules and the JSON fields.
 *
 * Status history (status_since, events) comes from the stored status series:
 * the first request after start-up reads INV_HISTORY_MS of it, later ones
 * only what arrived since, so events survive a restart for as long as the
 * series are kept.
 *
 *   struct inventory *inv = inventory_new();
 *   inventory_handle(inv, st, "/nodes", query, qlen, clock_wall_ms(), &body, &status);
 *   inventory_free(inv);
 *
 * Not thread-safe: the store worker calls it from its one thread.
 */
#ifndef VIGIL_INVENTORY_H
#define VIGIL_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "tsdb/storage.h"

#define INV_HISTORY_MS   (24 * 3600 * 1000LL)	/* status history read at start-up */
#define INV_EVENTS_MAX   10000			/* status changes kept in memory */
#define INV_LIMIT_MAX    10000			/* most events one answer returns */
#define INV_NODES_MAX    100000			/* most nodes one answer builds */

struct inventory;

/* A new, empty inventory (its history is read on first use). Never NULL. */
struct inventory *inventory_new(void);
/* Free it; NULL is fine. */
void inventory_free(struct inventory *inv);

/*
 * Answer GET path (below /api/inventory: "/nodes", "/interfaces",
 * "/events") with its query string, at now_ms (wall clock). The body is
 * {"status":"success","data":[...]} or Prometheus's error shape; *status
 * is 200, 400 (bad parameter), 404 (unknown path), 405 (not GET) or 500.
 */
void inventory_handle(struct inventory *inv, struct storage *st, const char *method,
    const char *path, const char *query, size_t query_len, int64_t now_ms,
    struct buf *body /* out */, int *status /* out */);

/* The host part of an instance or target: "10.0.0.1:9100" -> "10.0.0.1",
 * "[::1]:161" -> "::1", "http://h:8080/x" -> "h", "db1" -> "db1". Writes a
 * NUL-terminated string into out (truncated to outsz). */
void inventory_host_of(const char *instance, char *out, size_t outsz);

/* The vendor a sysObjectID names by its enterprise number
 * ("1.3.6.1.4.1.9.1.2494" -> "Cisco"), or "" when unknown. */
const char *inventory_vendor_of(const char *sysobjectid);

#endif
