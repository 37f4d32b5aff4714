/* status.c — see status.h. */
#include "probe/status.h"
#include "probe/probe_int.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/xmalloc.h"

#include <stdlib.h>
#include <string.h>

struct status_node {
	int status;		/* PROBE_NODE_* */
	int64_t changed_ms;	/* wall ms of the last change (0: never) */
	unsigned fails;		/* failed polls in a row */
};

void status_init(struct status_tracker *st, probe_status_cb on_change, void *ctx)
{
	hmap_init(&st->nodes);
	st->on_change = on_change;
	st->ctx = ctx;
}

void status_free(struct status_tracker *st)
{
	if (st)
		hmap_free(&st->nodes, free);
}

static struct status_node *node_get(struct status_tracker *st, const char *node, int64_t ts_ms)
{
	size_t len = strlen(node);
	struct status_node *n = hmap_get(&st->nodes, node, len);
	if (!n) {
		n = xcalloc(1, sizeof(*n));
		n->status = PROBE_NODE_UNKNOWN;
		n->changed_ms = ts_ms;
		hmap_put(&st->nodes, node, len, n);
	}
	return n;
}

void status_seed(struct status_tracker *st, const char *node, int status, unsigned fails,
    int64_t changed_ms)
{
	struct status_node *n = node_get(st, node, changed_ms);
	n->status = status >= PROBE_NODE_UNKNOWN && status <= PROBE_NODE_DOWN ? status :
	    PROBE_NODE_UNKNOWN;
	n->fails = fails;
	n->changed_ms = changed_ms;
}

void status_declare(struct status_tracker *st, const char *node, int64_t ts_ms)
{
	node_get(st, node, ts_ms);
}

static const char *status_name(int s)
{
	static const char *const names[] = { "unknown", "up", "warning", "down" };
	return s >= 0 && s <= 3 ? names[s] : "?";
}

int status_report(struct status_tracker *st, const char *node, unsigned down_after,
    int success, int64_t ts_ms)
{
	struct status_node *n = node_get(st, node, ts_ms);
	if (down_after == 0)
		down_after = 3;
	int next;
	if (success) {
		n->fails = 0;
		next = PROBE_NODE_UP;
	} else {
		if (n->fails < UINT32_MAX)
			n->fails++;
		next = n->fails >= down_after ? PROBE_NODE_DOWN : PROBE_NODE_WARNING;
		/* A node first seen failing is warning until down_after confirms it. */
	}
	if (next != n->status) {
		int old = n->status;
		n->status = next;
		n->changed_ms = ts_ms;
		probe_ctr.status_changes++;
		char q[300];
		log_info("node status changed", "node=%s old=%s new=%s fails=%u",
		    log_quote(q, sizeof(q), node), status_name(old), status_name(next), n->fails);
		if (st->on_change)
			st->on_change(st->ctx, node, old, next, ts_ms);
	}
	return n->status;
}

int status_get(const struct status_tracker *st, const char *node, int64_t *changed_ms)
{
	const struct status_node *n = hmap_get(&st->nodes, node, strlen(node));
	if (changed_ms)
		*changed_ms = n ? n->changed_ms : 0;
	return n ? n->status : PROBE_NODE_UNKNOWN;
}

int status_emit(const struct status_tracker *st, struct sample_sink sink, int64_t ts_ms)
{
	const char *key;
	size_t klen;
	void *val;
	int rc = 0;
	for (size_t it = 0; rc == 0 && hmap_next(&st->nodes, &it, &key, &klen, &val);) {
		const struct status_node *n = val;
		char *name = xstrndup(key, klen);
		struct label lv[2] = { { "__name__", "vigil_node_status" }, { "node", name } };
		struct labels *ls = labels_new(lv, 2);
		rc = sink.add(sink.ctx, ls, ts_ms, n->status);
		labels_free(ls);
		lv[0].value = "vigil_node_status_changed_timestamp_seconds";
		ls = labels_new(lv, 2);
		if (rc == 0)
			rc = sink.add(sink.ctx, ls, ts_ms, (double)n->changed_ms / 1000.0);
		labels_free(ls);
		free(name);
	}
	return rc;
}
