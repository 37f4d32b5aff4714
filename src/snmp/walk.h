/*
 * walk.h — walk a subtree of a device's MIB over the async client.
 *
 * v2c/v3 use GETBULK with adaptive max-repetitions: it starts at
 * SNMP_WALK_REPS_START, grows while replies come back full and quick, halves
 * on tooBig (and on a timeout, once, before giving up). v1 uses GETNEXT.
 * The walk ends at endOfMibView, at the first OID outside the subtree, or
 * fails with -ELOOP if the agent returns an OID that does not increase.
 *
 *   snmp_walk(t, &root, 0, on_vb, on_done, ctx);
 *   on_vb(ctx, vb) for each varbind in order (return non-zero to stop early);
 *   on_done(ctx, status, error_text) exactly once.
 */
#ifndef VIGIL_SNMP_WALK_H
#define VIGIL_SNMP_WALK_H

#include "snmp/client.h"

#define SNMP_WALK_REPS_START  16	/* first max-repetitions of a walk */
#define SNMP_WALK_REPS_MAX    64	/* the most max-repetitions grows to */
#define SNMP_WALK_MAX_VARBINDS 1000000	/* a walk that returns more is cut off (-E2BIG) */

/* Called per varbind in the subtree; the varbind lives only during the call.
 * Return 0 to continue, non-zero to stop the walk (done gets status 0). */
typedef int (*snmp_walk_vb_cb)(void *ctx, const struct snmp_varbind *vb);
/* Called once at the end: status 0, or a negative errno (-ETIMEDOUT, -EACCES,
 * -ELOOP, -EIO for an agent error, -ECANCELED); err is a one-line reason. */
typedef void (*snmp_walk_done_cb)(void *ctx, int status, const char *err);

/* Start walking the subtree under root on target t. max_reps 0 = adaptive
 * default. Return 0 (done_cb will be called later) or a negative errno. */
int snmp_walk(struct snmp_target *t, const struct snmp_oid *root, int max_reps,
    snmp_walk_vb_cb vb_cb, snmp_walk_done_cb done_cb, void *ctx);

/*
 * Walk n table columns at once (one GETBULK carries every column still
 * running, max-repetitions rows each; v1: GETNEXT of every column), so a
 * 30-column, 48-row table takes a handful of requests instead of one walk
 * per column. vb_cb gets the column's position in roots with each varbind,
 * column by column in row order. done_cb as for snmp_walk.
 */
#define SNMP_MWALK_COLUMNS_MAX  256	/* columns in one table walk */
#define SNMP_MWALK_VARBINDS_MAX 512	/* varbinds one request may ask for */
typedef int (*snmp_mwalk_vb_cb)(void *ctx, size_t col, const struct snmp_varbind *vb);
/* Start the walk of the n column OIDs at roots (copied). Return 0 (done_cb
 * will be called later) or -EINVAL / a snmp_request error. */
int snmp_walk_columns(struct snmp_target *t, const struct snmp_oid *roots, size_t n,
    snmp_mwalk_vb_cb vb_cb, snmp_walk_done_cb done_cb, void *ctx);

#endif
