/*
 * worker_notifier.c — the notifier worker: delivers alert notifications the
 * store worker's rule evaluation produces (Alertmanager, webhook, SMTP), and
 * nothing else. Its outbound connections go only to configured receivers.
 */
#include <string.h>

#include "core/log.h"
#include "core/worker.h"

struct notifier_state {
	uint64_t received;	/* notification messages received from the store */
};

static struct notifier_state state;

static int notifier_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	(void)c;
	(void)err;
	(void)errsz;
	w->state = &state;
	return 0;
}

static int notifier_peer_msg(struct worker *w, enum config_role from, uint32_t type,
    const void *p, uint32_t len)
{
	struct notifier_state *s = w->state;
	(void)p;
	(void)len;
	if (from == ROLE_STORE && type == MSG_ALERTS) {
		s->received++;
		return 0;
	}
	log_warn("dropping peer: unexpected message", "peer=%d type=%s", (int)from, ipc_type_name(type));
	return -1;
}

static void notifier_metrics(struct worker *w, struct buf *b)
{
	struct notifier_state *s = w->state;
	buf_adds(b, "# HELP vigil_notifier_messages_received_total Notification batches received from the store worker.\n"
	    "# TYPE vigil_notifier_messages_received_total counter\n");
	buf_printf(b, "vigil_notifier_messages_received_total %llu\n", (unsigned long long)s->received);
}

const struct worker_ops worker_notifier_ops = {
	.apply_config = notifier_apply,
	.on_peer_msg = notifier_peer_msg,
	.metrics_text = notifier_metrics,
};
