/*
 * worker_store.c — the store worker: owns the time-series store, ingests
 * sample batches from the poller, and answers the web worker's /api/v1
 * requests. It has no network access of its own (see sandbox.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "api/inventory.h"
#include "api/storeapi.h"
#include "core/alerting.h"
#include "core/batch.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/worker.h"
#include "core/xmalloc.h"
#include "tsdb/tsdb.h"

#define MAINTAIN_MS 5000	/* tsdb housekeeping: fsync if due, cut blocks, compact, retention */

struct store_state {
	struct storage st;		/* the store (the tsdb behind storage.h) */
	struct tsdb *db;		/* the tsdb itself */
	int open;			/* st is open */
	uint64_t appended;		/* samples appended */
	uint64_t rejected;		/* samples the store refused (too old, duplicate) */
	uint64_t bad_batches;		/* batches that failed to decode */
	uint64_t api_requests;		/* API requests answered */
	struct storeapi_counters api;	/* remote_write and API counters */
	struct alert_runtime *alerts;	/* rule evaluation (NULL: no rule_files) */
	struct alerting_query_ctx qctx;	/* what rule queries run against */
	uint64_t alert_msgs;		/* MSG_ALERTS sent to the notifier */
	uint64_t alert_msgs_dropped;	/* MSG_ALERTS the notifier could not take */
	struct worker *w;		/* the worker (for sending) */
};

static struct store_state state;

#define ALERT_TICK_MS 1000	/* rule groups are due on their own intervals; checked this often */

/* Rule results (ALERTS, ALERTS_FOR_STATE, recording rules) go into the store. */
static int rule_sample(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct store_state *s = ctx;
	if (s->st.ops->append(s->st.impl, ls, ts, v) < 0)
		s->rejected++;
	else
		s->appended++;
	return 0;
}

static void alert_tick(struct loop *l, uint64_t id, void *ctx)
{
	struct store_state *s = ctx;
	(void)id;
	if (s->alerts) {
		struct sample_sink sink = { rule_sample, s };
		struct buf msg;
		buf_init(&msg, 16u << 20);
		alert_runtime_tick(s->alerts, clock_wall_ms(), alerting_query, &s->qctx, &sink, &msg);
		if (msg.len) {
			if (worker_send(s->w, ROLE_NOTIFIER, MSG_ALERTS, msg.data, (uint32_t)msg.len) == 0)
				s->alert_msgs++;
			else
				s->alert_msgs_dropped++;	/* the state file keeps them; resent next time */
		}
		buf_free(&msg);
	}
	loop_add_timer(l, ALERT_TICK_MS, alert_tick, s);
}

/* (Re)load rule files; on failure the running rules stay. */
static int apply_alerts(struct store_state *s, const struct config *c, char *err, size_t errsz)
{
	struct alert_runtime *rt = NULL;
	if (!c->rule_files_pos[0] && !c->alerting_pos[0]) {
		alert_runtime_free(s->alerts);
		s->alerts = NULL;
		return 0;
	}
	if (s->alerts)
		alert_runtime_save(s->alerts);
	if (alert_runtime_new(c->file, c->text, strlen(c->text), alerting_check_expr, alerting_format_expr,
	    NULL, "alerts.state", &rt, err, errsz) < 0)
		return -1;
	alert_runtime_free(s->alerts);
	s->alerts = rt;
	s->api.alerts = rt;
	return 0;
}

static void maintain(struct loop *l, uint64_t id, void *ctx)
{
	struct store_state *s = ctx;
	(void)id;
	if (s->open && tsdb_maintain(s->db) < 0)
		log_warn("store housekeeping failed; retrying", NULL);
	loop_add_timer(l, MAINTAIN_MS, maintain, s);
}

static int store_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	w->state = &state;
	state.api.limits.timeout_ms = c->query_timeout_ms;
	state.api.limits.max_samples = (size_t)c->query_max_samples;
	state.api.limits.lookback_ms = c->query_lookback_ms;
	if (!state.api.limits.start_time_ms)
		state.api.limits.start_time_ms = clock_wall_ms();
	state.qctx.lookback_ms = c->query_lookback_ms;
	state.qctx.max_samples = (size_t)c->query_max_samples;
	state.qctx.timeout_ms = c->query_timeout_ms;
	if (state.open)
		return apply_alerts(&state, c, err, errsz);	/* retention and fsync: at restart */
	struct tsdb_options o;
	tsdb_options_default(&o);
	o.dir = ".";	/* the worker runs inside storage.path */
	o.retention_ms = c->retention_ms;
	o.retention_bytes = (uint64_t)c->retention_bytes;
	o.wal_fsync_interval_ms = c->wal_fsync_interval_ms;
	o.ooo_window_ms = c->out_of_order_window_ms;
	o.downsample_after_ms = c->downsample ? c->downsample_after_ms : -1;
	o.downsample_retention_ms = c->downsample_retention_ms;
	char why[256];
	state.db = tsdb_open(&o, why, sizeof(why));
	if (!state.db) {
		snprintf(err, errsz, "storage.path %s: %s", c->storage_path, why);
		return -1;
	}
	tsdb_storage(state.db, &state.st);
	state.open = 1;
	state.w = w;
	state.qctx.st = &state.st;
	if (apply_alerts(&state, c, err, errsz) < 0)
		return -1;
	loop_add_timer(w->loop, MAINTAIN_MS, maintain, &state);
	loop_add_timer(w->loop, ALERT_TICK_MS, alert_tick, &state);
	return 0;
}

static int store_api_msg(struct worker *w, struct store_state *s, const void *p, uint32_t len)
{
	struct storeapi_request req;
	struct buf body;
	int status;
	const char *ctype;
	if (storeapi_decode(p, len, &req) < 0) {
		log_warn("dropping web channel: malformed API request", NULL);
		return -1;
	}
	buf_init(&body, BUF_CAP_IPC_FRAME - 4096);
	storeapi_handle(&s->st, &req, &body, &status, &ctype, &s->api);
	s->api_requests++;
	struct msg_api_resp r = { (uint32_t)status, (uint32_t)strlen(ctype) };
	struct buf out;
	buf_init(&out, BUF_CAP_IPC_FRAME);
	buf_add(&out, &r, sizeof(r));
	buf_add(&out, ctype, strlen(ctype));
	buf_add(&out, body.data ? body.data : "", body.len);
	int rc = worker_send(w, ROLE_WEB, MSG_API_RESPONSE, out.data, (uint32_t)out.len);
	buf_free(&out);
	buf_free(&body);
	return rc == -EPIPE ? 0 : 0;
}

static int store_peer_msg(struct worker *w, enum config_role from, uint32_t type,
    const void *p, uint32_t len)
{
	struct store_state *s = w->state;
	if (!s)
		return -1;
	if (from == ROLE_POLLER && type == MSG_SAMPLES) {
		/* Appended means written to the WAL (one write per batch); fsync
		 * follows within storage.wal_fsync_interval (docs/STORAGE.md). */
		size_t acc = 0, rej = 0;
		int rc = tsdb_append_batch(s->db, p, len, &acc, &rej);
		s->appended += acc;
		s->rejected += rej;
		if (rc < 0 && rc != -EBADMSG) {
			log_warn("store could not write a batch; the poller's samples are lost", "reason=\"%s\"", strerror(-rc));
			return 0;
		}
		if (rc < 0) {
			s->bad_batches++;
			log_warn("dropping poller channel: malformed sample batch", NULL);
			return -1;
		}
		return 0;
	}
	if (from == ROLE_WEB && type == MSG_API_REQUEST)
		return store_api_msg(w, s, p, len);
	log_warn("dropping peer: unexpected message", "peer=%d type=%s", (int)from, ipc_type_name(type));
	return -1;
}

static void store_metrics(struct worker *w, struct buf *b)
{
	struct store_state *s = w->state;
	tsdb_metrics_text(s->db, b);
	buf_adds(b, "# HELP vigil_store_samples_appended_total Samples the store accepted.\n"
	    "# TYPE vigil_store_samples_appended_total counter\n");
	buf_printf(b, "vigil_store_samples_appended_total %llu\n", (unsigned long long)s->appended);
	buf_adds(b, "# HELP vigil_store_samples_rejected_total Samples the store refused (too old or conflicting).\n"
	    "# TYPE vigil_store_samples_rejected_total counter\n");
	buf_printf(b, "vigil_store_samples_rejected_total %llu\n", (unsigned long long)s->rejected);
	buf_adds(b, "# HELP vigil_store_bad_batches_total Sample batches that failed to decode.\n"
	    "# TYPE vigil_store_bad_batches_total counter\n");
	buf_printf(b, "vigil_store_bad_batches_total %llu\n", (unsigned long long)s->bad_batches);
	buf_adds(b, "# HELP vigil_store_api_requests_total API requests the store worker answered.\n"
	    "# TYPE vigil_store_api_requests_total counter\n");
	buf_printf(b, "vigil_store_api_requests_total %llu\n", (unsigned long long)s->api_requests);
	buf_adds(b, "# HELP vigil_alert_notifications_handed_total Alert batches handed to the notifier worker, by result.\n"
	    "# TYPE vigil_alert_notifications_handed_total counter\n");
	buf_printf(b, "vigil_alert_notifications_handed_total{result=\"sent\"} %llu\n", (unsigned long long)s->alert_msgs);
	buf_printf(b, "vigil_alert_notifications_handed_total{result=\"notifier_unavailable\"} %llu\n",
	    (unsigned long long)s->alert_msgs_dropped);
	buf_adds(b, "# HELP vigil_remote_write_requests_total remote_write requests received, by result.\n"
	    "# TYPE vigil_remote_write_requests_total counter\n");
	buf_printf(b, "vigil_remote_write_requests_total{result=\"success\"} %llu\n", (unsigned long long)s->api.rw_requests);
	buf_printf(b, "vigil_remote_write_requests_total{result=\"malformed\"} %llu\n", (unsigned long long)s->api.rw_bad);
	buf_adds(b, "# HELP vigil_remote_write_samples_total Samples received by remote_write, by result.\n"
	    "# TYPE vigil_remote_write_samples_total counter\n");
	buf_printf(b, "vigil_remote_write_samples_total{result=\"appended\"} %llu\n", (unsigned long long)s->api.appended);
	buf_printf(b, "vigil_remote_write_samples_total{result=\"rejected\"} %llu\n", (unsigned long long)s->api.rejected);
}

static void store_shutdown(struct worker *w)
{
	struct store_state *s = w->state;
	if (s) {
		alert_runtime_free(s->alerts);	/* saves the alert state */
		inventory_free(s->api.inv);	/* derived from series: nothing to save */
		s->api.inv = NULL;
	}
	if (s && s->open) {
		s->st.ops->close(s->st.impl);	/* fsyncs the WAL, closes the tsdb */
		s->open = 0;
	}
}

const struct worker_ops worker_store_ops = {
	.apply_config = store_apply,
	.on_peer_msg = store_peer_msg,
	.metrics_text = store_metrics,
	.shutdown = store_shutdown,
};
