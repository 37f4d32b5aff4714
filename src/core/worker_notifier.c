/*
 * worker_notifier.c — the notifier worker: delivers alert notifications the
 * store worker's rule evaluation produces (Alertmanager, webhook, SMTP), and
 * nothing else. Its outbound connections go only to configured receivers.
 *
 * MSG_ALERTS from the store is a JSON array of Alertmanager API v2 alerts;
 * each is committed to the durable queue (src/alert/notify.c) for every
 * receiver before anything is sent. The queue lives in "notify.db" in the
 * worker's data directory; a notifier started without one (rw path "-")
 * keeps its queue in memory and says so in the log, so notifications then
 * do not survive a restart.
 */
#include <curl/curl.h>
#include <string.h>

#include "alert/alert.h"
#include "core/log.h"
#include "core/worker.h"
#include "sandbox/egress.h"

#define NOTIFY_DB_FILE "notify.db"	/* relative: the worker runs in its data directory */

struct notifier_state {
	uint64_t received;		/* notification messages received from the store */
	uint64_t rejected;		/* of which malformed (logged, not queued) */
	struct notifier *n;		/* delivery and the queue (NULL until configured) */
};

static struct notifier_state state;

/* Fill receivers' passwords and tokens from the secrets the parent sent. */
static int resolve_secrets(const struct config *c, struct alert_config *ac, char *err, size_t errsz)
{
	for (size_t i = 0; i < ac->nreceivers; i++) {
		struct receiver_config *r = &ac->receivers[i];
		const char *names[2] = { r->password_secret, r->bearer_secret };
		char **dst[2] = { &r->password, &r->bearer };
		for (int k = 0; k < 2; k++) {
			if (!names[k])
				continue;
			const struct config_secret *s = config_secret_find(c, names[k]);
			if (!s || !s->value) {
				snprintf(err, errsz, "receiver %s: secret \"%s\" was not provided", r->name, names[k]);
				return -1;
			}
			*dst[k] = strdup(s->value);
		}
	}
	return 0;
}

static int notifier_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	struct alert_config ac;
	w->state = &state;
	if (alert_config_parse(c->file, c->text ? c->text : "", c->text ? strlen(c->text) : 0, &ac, err, errsz) < 0)
		return -1;
	if (resolve_secrets(c, &ac, err, errsz) < 0)
		goto fail;
	/* The egress policy is exactly the configured receivers. */
	egress_reset();
	if (notify_allow_receivers(&ac, err, errsz) < 0)
		goto fail;
	if (!state.n) {
		const char *db = NOTIFY_DB_FILE;
		if (!w->rw_path) {
			db = ":memory:";
			log_warn("notifier has no data directory; its queue is in memory and is lost on restart", NULL);
		}
		curl_global_init(CURL_GLOBAL_DEFAULT);
		if (notifier_open(w->loop, db, &state.n, err, errsz) < 0)
			goto fail;
	}
	size_t nrecv = ac.nreceivers;
	notifier_configure(state.n, &ac);
	log_info("notifier configured", "receivers=%zu queued=%lld", nrecv, (long long)notifier_queue_length(state.n));
	return 0;
fail:
	alert_config_free(&ac);
	return -1;
}

static int notifier_peer_msg(struct worker *w, enum config_role from, uint32_t type,
    const void *p, uint32_t len)
{
	struct notifier_state *s = w->state;
	if (from == ROLE_STORE && type == MSG_ALERTS) {
		char err[ALERT_ERR_MAX];
		s->received++;
		if (!s->n || notifier_accept(s->n, p, len, err, sizeof(err)) < 0) {
			char q[ALERT_ERR_MAX + 8];
			s->rejected++;
			log_error("alert batch not queued", "err=%s", log_quote(q, sizeof(q), s->n ? err : "not configured"));
		}
		return 0;
	}
	log_warn("dropping peer: unexpected message", "peer=%d type=%s", (int)from, ipc_type_name(type));
	return -1;
}

static void notifier_metrics_text(struct worker *w, struct buf *b)
{
	struct notifier_state *s = w->state;
	if (!s)
		return;
	buf_adds(b, "# HELP vigil_notifier_messages_received_total Notification batches received from the store worker.\n"
	    "# TYPE vigil_notifier_messages_received_total counter\n");
	buf_printf(b, "vigil_notifier_messages_received_total %llu\n", (unsigned long long)s->received);
	buf_adds(b, "# HELP vigil_notifier_messages_rejected_total Batches that were malformed and not queued.\n"
	    "# TYPE vigil_notifier_messages_rejected_total counter\n");
	buf_printf(b, "vigil_notifier_messages_rejected_total %llu\n", (unsigned long long)s->rejected);
	if (s->n)
		notifier_metrics(s->n, b);
}

static void notifier_shutdown(struct worker *w)
{
	struct notifier_state *s = w->state;
	if (s && s->n) {
		notifier_close(s->n);	/* requests in flight stay queued for next time */
		s->n = NULL;
	}
}

const struct worker_ops worker_notifier_ops = {
	.apply_config = notifier_apply,
	.on_peer_msg = notifier_peer_msg,
	.metrics_text = notifier_metrics_text,
	.shutdown = notifier_shutdown,
};
