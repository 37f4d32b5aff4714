/*
 * worker_poller.c — the poller worker: every source of samples (host
 * collectors, SNMP, probes, scrapes) runs here on one event loop, and their
 * samples go to the store worker in batches. It is the only worker that sends
 * traffic to the network, and only through the egress policy.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "scrape/scrape.h"
#include "core/batch.h"
#include "core/log.h"
#include "core/worker.h"
#include "sandbox/egress.h"

#define FLUSH_MS 1000	/* ship a partial batch at least this often */

struct poller_state {
	struct batch batch;	/* samples waiting to be shipped */
	struct worker *w;	/* the worker (for sending) */
	uint64_t sent;		/* samples shipped to the store */
	uint64_t dropped;	/* samples dropped because the store was away or slow */
	uint64_t flush_timer;	/* pending flush timer */
	struct collect_ctx *host;	/* host collectors (host.enabled) */
	struct collect_sched *host_sched;	/* their schedule on the loop */
	int64_t host_interval_ms;	/* interval the schedule runs at */
	char host_job[128];		/* job label added to host series */
	char host_instance[256];	/* instance label added to host series */
	struct labels_builder host_lb;	/* scratch for adding them */
	struct scrape_manager *scrapes;	/* scrape_configs */
};

static struct poller_state state;

static void flush(struct poller_state *s)
{
	if (s->batch.n == 0)
		return;
	struct buf enc;
	buf_init(&enc, BATCH_MAX_BYTES);
	if (batch_encode(&s->batch, &enc) == 0 &&
	    worker_send(s->w, ROLE_STORE, MSG_SAMPLES, enc.data, (uint32_t)enc.len) == 0)
		s->sent += s->batch.n;
	else
		s->dropped += s->batch.n;
	buf_free(&enc);
	batch_reset(&s->batch);
}

static void on_flush(struct loop *l, uint64_t id, void *ctx)
{
	struct poller_state *s = ctx;
	(void)id;
	flush(s);
	s->flush_timer = loop_add_timer(l, FLUSH_MS, on_flush, s);
}

/* The sink every source writes to. */
static int poller_sink_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct poller_state *s = ctx;
	if (batch_add(&s->batch, ls, ts, v) == -E2BIG) {
		flush(s);
		if (batch_add(&s->batch, ls, ts, v) < 0) {
			s->dropped++;
			return 0;
		}
	}
	return 0;
}

/* Host series get job and instance, as a Prometheus scrape of node_exporter
 * would give them, so dashboards and rules written for that work unchanged. */
static int host_sink_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct poller_state *s = ctx;
	lb_reset(&s->host_lb, ls);
	if (!lb_get(&s->host_lb, "job"))
		lb_set(&s->host_lb, "job", s->host_job);
	if (!lb_get(&s->host_lb, "instance"))
		lb_set(&s->host_lb, "instance", s->host_instance);
	struct labels *out = lb_labels(&s->host_lb);
	int rc = out ? poller_sink_add(s, out, ts, v) : 0;
	labels_free(out);
	return rc;
}

/* Host collectors: start, stop or re-time them to match the config. */
static int apply_host(struct worker *w, const struct config *c, struct sample_sink sink,
    char *err, size_t errsz)
{
	struct poller_state *s = &state;
	if (s->host_sched && (!c->host_enabled || c->host_interval_ms != s->host_interval_ms)) {
		collect_unschedule(s->host_sched);
		s->host_sched = NULL;
	}
	if (!c->host_enabled)
		return 0;
	snprintf(s->host_job, sizeof(s->host_job), "%s", c->host_job ? c->host_job : "node");
	if (c->host_instance)
		snprintf(s->host_instance, sizeof(s->host_instance), "%s", c->host_instance);
	else if (gethostname(s->host_instance, sizeof(s->host_instance) - 1) < 0 || !s->host_instance[0])
		snprintf(s->host_instance, sizeof(s->host_instance), "localhost");
	(void)sink;
	if (!s->host) {
		struct collect_config cc = COLLECT_CONFIG_DEFAULT;
		s->host = collect_new(&cc, err, errsz);
		if (!s->host)
			return -1;
	}
	if (!s->host_sched) {
		struct sample_sink hs = { host_sink_add, s };
		s->host_sched = collect_schedule(w->loop, s->host, c->host_interval_ms, hs);
		s->host_interval_ms = c->host_interval_ms;
	}
	return 0;
}

/*
 * Allow TCP to every address a scrape target's host resolves to, on its port.
 * Names are resolved here, once per (re)load, so the policy holds exactly
 * what the config names.
 */
static int allow_target(const char *target, char *err, size_t errsz)
{
	char host[256], port[8];
	uint16_t p;
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV }, *res;
	if (config_split_hostport(target, host, sizeof(host), &p) < 0) {
		snprintf(err, errsz, "scrape target \"%s\" is not host:port", target);
		return -1;
	}
	snprintf(port, sizeof(port), "%u", p);
	int rc = getaddrinfo(host, port, &hints, &res);
	if (rc != 0) {
		snprintf(err, errsz, "scrape target %s: %s", target, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *a = res; a; a = a->ai_next)
		egress_allow_addr(a->ai_addr, a->ai_addrlen, IPPROTO_TCP, p, target);
	freeaddrinfo(res);
	return 0;
}

/* Turn scrape_configs into the scrape module's configs (one per static_configs
 * entry, so each group keeps its own labels) and start them. */
static int apply_scrapes(struct worker *w, const struct config *c, struct sample_sink sink,
    char *err, size_t errsz)
{
	struct poller_state *s = &state;
	scrape_manager_free(s->scrapes);
	s->scrapes = NULL;
	size_t n = 0, k = 0;
	for (size_t i = 0; i < c->nscrapes; i++)
		n += c->scrapes[i].nstatics;
	if (n == 0)
		return 0;
	struct scrape_config *sc = calloc(n, sizeof(*sc));
	struct label **lab = calloc(n, sizeof(*lab));
	struct scrape_param **par = calloc(c->nscrapes, sizeof(*par));
	struct scrape_relabel **rel = calloc(c->nscrapes, sizeof(*rel));
	int rc = 0;
	for (size_t i = 0; i < c->nscrapes && rc == 0; i++) {
		const struct cfg_scrape *cs = &c->scrapes[i];
		par[i] = calloc(cs->params.n + 1, sizeof(**par));
		for (size_t j = 0; j < cs->params.n; j++)
			par[i][j] = (struct scrape_param){ cs->params.keys[j], cs->params.vals[j] };
		rel[i] = calloc(cs->nrelabel + 1, sizeof(**rel));
		for (size_t j = 0; j < cs->nrelabel; j++) {
			const struct cfg_relabel *r = &cs->relabel[j];
			static const enum scrape_relabel_action acts[] = { SCRAPE_RELABEL_REPLACE,
				SCRAPE_RELABEL_KEEP, SCRAPE_RELABEL_DROP, SCRAPE_RELABEL_LABELDROP, SCRAPE_RELABEL_LABELKEEP };
			rel[i][j] = (struct scrape_relabel){ acts[r->action], (const char *const *)r->source_labels,
				r->nsource, r->separator, r->regex, r->target_label, r->replacement };
		}
		const struct config_secret *pw = cs->basic_auth.password_secret ?
		    config_secret_find(c, cs->basic_auth.password_secret) : NULL;
		const struct config_secret *bt = cs->bearer_token_secret ?
		    config_secret_find(c, cs->bearer_token_secret) : NULL;
		for (size_t g = 0; g < cs->nstatics && rc == 0; g++, k++) {
			const struct cfg_static *st = &cs->statics[g];
			for (size_t t = 0; t < st->ntargets && rc == 0; t++)
				rc = allow_target(st->targets[t], err, errsz);
			lab[k] = calloc(st->labels.n + 1, sizeof(**lab));
			for (size_t j = 0; j < st->labels.n; j++)
				lab[k][j] = (struct label){ st->labels.keys[j], st->labels.vals[j] };
			sc[k] = (struct scrape_config){
				.job_name = cs->job_name, .targets = (const char *const *)st->targets,
				.ntargets = st->ntargets, .labels = lab[k], .nlabels = st->labels.n,
				.scheme = cs->scheme ? "https" : "http", .metrics_path = cs->metrics_path,
				.params = par[i], .nparams = cs->params.n, .interval_ms = cs->interval_ms,
				.timeout_ms = cs->timeout_ms, .honor_labels = cs->honor_labels,
				.ignore_timestamps = !cs->honor_timestamps, .basic_user = cs->basic_auth.username,
				.basic_password = pw ? pw->value : NULL, .bearer_token = bt ? bt->value : NULL,
				.metric_relabel = rel[i], .nrelabel = cs->nrelabel,
				.body_limit = (size_t)cs->body_size_limit, .sample_limit = (size_t)cs->sample_limit,
			};
		}
	}
	if (rc == 0) {
		s->scrapes = scrape_manager_new(w->loop, sc, n, sink, err, errsz);
		if (!s->scrapes)
			rc = -1;
	}
	for (size_t i = 0; i < n; i++)
		free(lab[i]);
	for (size_t i = 0; i < c->nscrapes; i++) {
		free(par[i]);
		free(rel[i]);
	}
	free(lab);
	free(par);
	free(rel);
	free(sc);
	return rc;
}

static int poller_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	(void)c;
	(void)err;
	(void)errsz;
	if (!w->state) {
		state.w = w;
		batch_init(&state.batch);
		w->state = &state;
		state.flush_timer = loop_add_timer(w->loop, FLUSH_MS, on_flush, &state);
	}
	/* The egress policy is rebuilt from the config on every (re)load. */
	egress_reset();
	struct sample_sink sink = { poller_sink_add, &state };
	if (apply_host(w, c, sink, err, errsz) < 0 || apply_scrapes(w, c, sink, err, errsz) < 0)
		return -1;
	return 0;
}

static int poller_peer_msg(struct worker *w, enum config_role from, uint32_t type,
    const void *p, uint32_t len)
{
	(void)w;
	(void)p;
	(void)len;
	log_warn("dropping peer: the poller expects no messages", "peer=%d type=%s", (int)from, ipc_type_name(type));
	return -1;
}

static void poller_metrics(struct worker *w, struct buf *b)
{
	struct poller_state *s = w->state;
	buf_adds(b, "# HELP vigil_poller_samples_sent_total Samples the poller shipped to the store.\n"
	    "# TYPE vigil_poller_samples_sent_total counter\n");
	buf_printf(b, "vigil_poller_samples_sent_total %llu\n", (unsigned long long)s->sent);
	buf_adds(b, "# HELP vigil_poller_samples_dropped_total Samples dropped because the store was unavailable.\n"
	    "# TYPE vigil_poller_samples_dropped_total counter\n");
	buf_printf(b, "vigil_poller_samples_dropped_total %llu\n", (unsigned long long)s->dropped);
	buf_adds(b, "# HELP vigil_egress_rules Destinations the egress policy allows.\n"
	    "# TYPE vigil_egress_rules gauge\n");
	buf_printf(b, "vigil_egress_rules %zu\n", egress_rule_count());
}

static void poller_shutdown(struct worker *w)
{
	struct poller_state *s = w->state;
	if (s) {
		scrape_manager_free(s->scrapes);
		collect_unschedule(s->host_sched);
		collect_free(s->host);
		lb_free(&s->host_lb);
		flush(s);
		batch_free(&s->batch);
	}
}

const struct worker_ops worker_poller_ops = {
	.apply_config = poller_apply,
	.on_peer_msg = poller_peer_msg,
	.metrics_text = poller_metrics,
	.shutdown = poller_shutdown,
};
