/*
 * poll.h — the SNMP poll engine: polls every configured device on its
 * interval over one async client, maps what it reads to samples through the
 * device profiles (profile.h), and hands them to a sample_sink.
 *
 *   snmp_poller_load_profiles("profiles", err, sizeof(err));   // before sandboxing
 *   struct snmp_poller *p = snmp_poller_new(loop, devs, n, sink);
 *   loop_run(loop);
 *   snmp_poller_free(p);
 *
 * Each cycle of a device: one GET of the system group (sysDescr, sysObjectID,
 * sysUpTime, sysName) plus the selected profiles' scalars, then one
 * multi-column GETBULK walk per table (snmp_walk_columns). Label columns (ifName, ifDescr, ifAlias, ...) are re-walked
 * only every label_refresh cycles, or when a new row shows up. Samples per
 * device and cycle:
 *   <profile metrics>{instance, <index labels>, <label columns>}
 *   snmp_up, snmp_scrape_duration_seconds, snmp_scrape_pdus_returned,
 *   snmp_device_info{sysDescr, sysObjectID, sysName, target (the IP polled)} 1,
 *   snmp_device_restarts_total (sysUpTime went backwards)
 * all with instance=<device name>, timestamped at the cycle's start. As in a
 * Prometheus scrape, a series sent last cycle but not this one (row gone,
 * label changed, device down) gets a staleness marker (stale_nan());
 * snmp_up and snmp_scrape_* are sent every cycle.
 *
 * Every datagram goes through egress_sendto(): the caller's egress policy
 * must allow UDP to each device's address and port.
 */
#ifndef VIGIL_SNMP_POLL_H
#define VIGIL_SNMP_POLL_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/loop.h"
#include "snmp/usm.h"

#define SNMP_POLL_DEVICES_MAX  100000	/* devices on one poller */
#define SNMP_POLL_ROWS_MAX     100000	/* rows kept per table per device */

/* One device to poll. Strings are copied by snmp_poller_new. */
struct snmp_device_cfg {
	const char *name;		/* instance label value and log name */
	const char *address;		/* numeric IPv4/IPv6 address, optional ":port" / "[v6]:port" */
	uint16_t port;			/* UDP port if address has none (0: 161) */
	int version;			/* SNMP_V1, SNMP_V2C or SNMP_V3 */
	const char *community;		/* v1/v2c community (secret) */
	const char *user;		/* v3 user name */
	enum usm_auth auth;		/* v3 auth protocol, USM_AUTH_NONE for noAuthNoPriv */
	const char *auth_pass;		/* v3 auth password (secret) */
	enum usm_priv priv;		/* v3 privacy protocol, USM_PRIV_NONE for no privacy */
	const char *priv_pass;		/* v3 privacy password (secret) */
	int64_t interval_ms;		/* poll interval (0: 60000) */
	int timeout_ms;			/* per-request timeout (0: 1000) */
	int retries;			/* re-sends per request (0: 2, -1: none) */
	int max_inflight;		/* concurrent requests to this device (0: 4) */
	int label_refresh;		/* cycles between label column walks (0: 10) */
	const char *const *profiles;	/* profile names forced on, regardless of match */
	size_t nprofiles;		/* entries in profiles */
	const char *const *exclude;	/* profile names never used for this device */
	size_t nexclude;		/* entries in exclude */
};

struct snmp_poller;

/* Load the profiles every poller uses from dir (call once, before
 * sandboxing; again to reload for pollers made afterwards).
 * 0, or -errno with "file:line:col: reason" in err. */
int snmp_poller_load_profiles(const char *dir, char *err, size_t errsz);
/*
 * Make a poller for n devices on loop, delivering samples to sink. If no
 * profiles were loaded it tries $VIGIL_PROFILES_DIR, then ./profiles.
 * Devices whose config is unusable are logged and skipped (snmp_poller_status
 * reports why). Never NULL.
 */
struct snmp_poller *snmp_poller_new(struct loop *l, const struct snmp_device_cfg *devs,
    size_t n, struct sample_sink sink);
/* Stop polling and free everything. NULL is fine. Not from inside the sink. */
void snmp_poller_free(struct snmp_poller *p);
/* Device i's state: *up 1 if its last cycle succeeded; *err its last error
 * ("" if none; valid until the next loop iteration). -ENOENT if no device i. */
int snmp_poller_status(const struct snmp_poller *p, size_t i, int *up /* out */,
    const char **err /* out */);
/* Start a cycle of every idle device now (tests, `vigil agent --once`). */
void snmp_poller_poll_now(struct snmp_poller *p);
/* Cycles completed so far, all devices together. */
uint64_t snmp_poller_cycles(const struct snmp_poller *p);
/* Append vigil_snmp_* self metrics (Prometheus text, summed over every live
 * poller) to out. 0 or -E2BIG. */
int snmp_poller_metrics_text(struct buf *out);

#endif
