/*
 * worker_poller.c — the poller worker: every source of samples (host
 * collectors, SNMP, probes, scrapes) runs here on one event loop, and their
 * samples go to the store worker in batches. It is the only worker that sends
 * traffic to the network, and only through the egress policy.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "collect/collect.h"
#include "probe/probe.h"
#include "scrape/scrape.h"
#include "snmp/poll.h"
#include "snmp/usm.h"
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
	struct snmp_poller *snmp;	/* snmp.devices */
	struct probe_engine *probes;	/* probes */
	struct probe_cfg *probe_cfgs;	/* their configs (the engine borrows them) */
	size_t nprobe_cfgs;		/* entries in probe_cfgs */
	int icmp4_fd, icmp6_fd;		/* raw ICMP sockets from the parent, or -1 */
};

static struct poller_state state = { .icmp4_fd = -1, .icmp6_fd = -1 };

#define POLLER_FD_ICMP4 (WORKER_FD_PEERS + 1)	/* raw ICMP socket, when the parent could open one */
#define POLLER_FD_ICMP6 (WORKER_FD_PEERS + 2)	/* raw ICMPv6 socket, likewise */

static int raw_fd(int fd)
{
	int type;
	socklen_t l = sizeof(type);
	if (fcntl(fd, F_GETFD) < 0 || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &l) < 0 || type != SOCK_RAW)
		return -1;
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

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
		cc.systemd_bus = c->host_systemd_bus;
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

/* The scrape module's rules for n config rules (pointers into them); free() it. */
static struct scrape_relabel *relabel_rules(const struct cfg_relabel *r, size_t n)
{
	static const enum scrape_relabel_action acts[] = { SCRAPE_RELABEL_REPLACE, SCRAPE_RELABEL_KEEP,
		SCRAPE_RELABEL_DROP, SCRAPE_RELABEL_LABELDROP, SCRAPE_RELABEL_LABELKEEP, SCRAPE_RELABEL_LABELMAP,
		SCRAPE_RELABEL_HASHMOD };
	struct scrape_relabel *out = calloc(n + 1, sizeof(*out));
	for (size_t j = 0; out && j < n; j++)
		out[j] = (struct scrape_relabel){ acts[r[j].action], (const char *const *)r[j].source_labels,
			r[j].nsource, r[j].separator, r[j].regex, r[j].target_label, r[j].replacement,
			(uint64_t)r[j].modulus };
	return out;
}

struct allow_ctx {
	char *err;	/* where allow_target writes why */
	size_t errsz;	/* its size */
};

static int allow_address(void *ctx, const char *address)
{
	struct allow_ctx *a = ctx;
	return allow_target(address, a->err, a->errsz);
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
	struct scrape_relabel **trel = calloc(c->nscrapes, sizeof(*trel));
	int rc = 0;
	for (size_t i = 0; i < c->nscrapes && rc == 0; i++) {
		const struct cfg_scrape *cs = &c->scrapes[i];
		par[i] = calloc(cs->params.n + 1, sizeof(**par));
		for (size_t j = 0; j < cs->params.n; j++)
			par[i][j] = (struct scrape_param){ cs->params.keys[j], cs->params.vals[j] };
		rel[i] = relabel_rules(cs->relabel, cs->nrelabel);
		trel[i] = relabel_rules(cs->target_relabel, cs->ntarget_relabel);
		const struct config_secret *pw = cs->basic_auth.password_secret ?
		    config_secret_find(c, cs->basic_auth.password_secret) : NULL;
		const struct config_secret *bt = cs->bearer_token_secret ?
		    config_secret_find(c, cs->bearer_token_secret) : NULL;
		for (size_t g = 0; g < cs->nstatics && rc == 0; g++, k++) {
			const struct cfg_static *st = &cs->statics[g];
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
				.target_relabel = trel[i], .ntarget_relabel = cs->ntarget_relabel,
			};
			/* the egress policy allows the addresses left after relabel_configs */
			struct allow_ctx ac = { err, errsz };
			rc = scrape_config_addresses(&sc[k], allow_address, &ac, err, errsz);
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
		free(trel[i]);
	}
	free(trel);
	free(lab);
	free(par);
	free(rel);
	free(sc);
	return rc;
}

/* Probes: rebuild the engine from the config, keeping node states. */
static int apply_probes(struct worker *w, const struct config *c, struct sample_sink sink,
    char *err, size_t errsz)
{
	struct poller_state *s = &state;
	probe_engine_free(s->probes);
	s->probes = NULL;
	for (size_t i = 0; i < s->nprobe_cfgs; i++)
		probe_cfg_release(&s->probe_cfgs[i]);
	free(s->probe_cfgs);
	s->probe_cfgs = NULL;
	s->nprobe_cfgs = 0;
	if (c->nprobes == 0)
		return 0;
	s->probe_cfgs = calloc(c->nprobes, sizeof(*s->probe_cfgs));
	s->nprobe_cfgs = c->nprobes;
	for (size_t i = 0; i < c->nprobes; i++)
		for (size_t j = 0; j < c->probes[i].kv.n; j++)
			if (probe_cfg_set(&s->probe_cfgs[i], c->probes[i].kv.keys[j], c->probes[i].kv.vals[j],
			    err, errsz) < 0)
				return -1;	/* the parent checked this already */
	if (probe_egress_allow(s->probe_cfgs, s->nprobe_cfgs) < 0) {
		snprintf(err, errsz, "probes: a target could not be resolved");
		return -1;
	}
	/* The engine owns the raw fds it is given: hand it copies. */
	struct probe_env env = { .icmp4_raw_fd = s->icmp4_fd >= 0 ? dup(s->icmp4_fd) : -1,
		.icmp6_raw_fd = s->icmp6_fd >= 0 ? dup(s->icmp6_fd) : -1 };
	int rc = probe_engine_new(w->loop, s->probe_cfgs, s->nprobe_cfgs, sink, &env, &s->probes);
	if (rc < 0) {
		snprintf(err, errsz, "probes: cannot start: %s", strerror(-rc));
		return -1;
	}
	return 0;
}

/* SNMP: rebuild the poller from snmp.devices with their credentials. */
static int apply_snmp(struct worker *w, const struct config *c, struct sample_sink sink,
    char *err, size_t errsz)
{
	struct poller_state *s = &state;
	snmp_poller_free(s->snmp);
	s->snmp = NULL;
	if (c->nsnmp_devices == 0)
		return 0;
	const char *dir = getenv("VIGIL_PROFILES_DIR");
	if (snmp_poller_load_profiles(dir ? dir : c->snmp_profiles_dir, err, errsz) < 0)
		return -1;
	usm_crypto_init();
	struct snmp_device_cfg *d = calloc(c->nsnmp_devices, sizeof(*d));
	int rc = 0;
	static const int versions[] = { SNMP_V1, SNMP_V2C, SNMP_V3 };
	for (size_t i = 0; i < c->nsnmp_devices && rc == 0; i++) {
		const struct cfg_snmp_device *cd = &c->snmp_devices[i];
		char name[300];
		d[i] = (struct snmp_device_cfg){ .name = cd->name, .address = cd->address,
			.version = versions[cd->version],
			.interval_ms = cd->interval_ms ? cd->interval_ms : c->snmp_interval_ms,
			.timeout_ms = (int)(cd->timeout_ms ? cd->timeout_ms : c->snmp_timeout_ms),
			.retries = (int)(cd->retries >= 0 ? cd->retries : c->snmp_retries),
			.max_inflight = (int)cd->max_inflight,
			.profiles = (const char *const *)cd->profiles, .nprofiles = cd->nprofiles,
			.exclude = (const char *const *)cd->exclude, .nexclude = cd->nexclude };
		if (d[i].retries == 0)
			d[i].retries = -1;	/* the poller's 0 means its default */
		if (cd->version < 2) {
			const struct config_secret *sec = config_secret_find(c, cd->credential);
			d[i].community = sec ? sec->value : NULL;
		} else {
			const struct config_secret *f;
			snprintf(name, sizeof(name), "%s/user", cd->credential);
			d[i].user = (f = config_secret_find(c, name)) ? f->value : NULL;
			snprintf(name, sizeof(name), "%s/auth_protocol", cd->credential);
			if ((f = config_secret_find(c, name)) && usm_auth_parse(f->value, &d[i].auth) < 0)
				rc = -1;
			snprintf(name, sizeof(name), "%s/auth_password", cd->credential);
			d[i].auth_pass = (f = config_secret_find(c, name)) ? f->value : NULL;
			snprintf(name, sizeof(name), "%s/priv_protocol", cd->credential);
			if ((f = config_secret_find(c, name)) && usm_priv_parse(f->value, &d[i].priv) < 0)
				rc = -1;
			snprintf(name, sizeof(name), "%s/priv_password", cd->credential);
			d[i].priv_pass = (f = config_secret_find(c, name)) ? f->value : NULL;
			if (rc < 0)
				snprintf(err, errsz, "snmp device %s: secret %s: unknown auth or priv protocol", cd->name, cd->credential);
		}
		char host[256];
		uint16_t port = 161;
		if (config_split_hostport(cd->address, host, sizeof(host), &port) < 0)
			snprintf(host, sizeof(host), "%s", cd->address);
		if (rc == 0 && egress_allow_str(host, IPPROTO_UDP, port, cd->name) < 0) {
			snprintf(err, errsz, "snmp device %s: bad address %s", cd->name, cd->address);
			rc = -1;
		}
	}
	if (rc == 0)
		s->snmp = snmp_poller_new(w->loop, d, c->nsnmp_devices, sink);
	free(d);
	return rc;
}

static int poller_apply(struct worker *w, const struct config *c, char *err, size_t errsz)
{
	(void)c;
	(void)err;
	(void)errsz;
	if (!w->state) {
		state.icmp4_fd = raw_fd(POLLER_FD_ICMP4);
		state.icmp6_fd = raw_fd(POLLER_FD_ICMP6);
		state.w = w;
		batch_init(&state.batch);
		w->state = &state;
		state.flush_timer = loop_add_timer(w->loop, FLUSH_MS, on_flush, &state);
	}
	/* The egress policy is rebuilt from the config on every (re)load. */
	egress_reset();
	struct sample_sink sink = { poller_sink_add, &state };
	if (apply_host(w, c, sink, err, errsz) < 0 || apply_scrapes(w, c, sink, err, errsz) < 0 ||
	    apply_snmp(w, c, sink, err, errsz) < 0 || apply_probes(w, c, sink, err, errsz) < 0)
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
	snmp_poller_metrics_text(b);
	probe_metrics_text(b);
}

static void poller_shutdown(struct worker *w)
{
	struct poller_state *s = w->state;
	if (s) {
		scrape_manager_free(s->scrapes);
		snmp_poller_free(s->snmp);
		probe_engine_free(s->probes);
		for (size_t i = 0; i < s->nprobe_cfgs; i++)
			probe_cfg_release(&s->probe_cfgs[i]);
		free(s->probe_cfgs);
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
