/*
 * config.c — strict YAML configuration (libyaml's document API, which keeps
 * every node's line and column), driven by one schema table.
 */
#include "core/config.h"
#include "core/clock.h"
#include "core/config_schema.h"
#include "core/xmalloc.h"
#include "alert/alert.h"
#include "probe/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

const char config_default_yaml[] =
	"# vigil's embedded default: monitor this host, console on loopback.\n"
	"global:\n"
	"  log_level: info\n"
	"web:\n"
	"  listen: 127.0.0.1:9920\n"
	"storage:\n"
	"  path: ./data\n"
	"  retention: 15d\n"
	"host:\n"
	"  enabled: true\n"
	"  interval: 10s\n";

#define OFF(m) offsetof(struct config, m)
#define DAY 86400000LL

static const struct field global_fields[] = {
	FLD("log_level", F_LOGLEVEL, OFF(log_level), 0, 0, NULL, "info",
	  "Lowest level logged: debug, info, warn or error."),
	FLD("user", F_STRING, OFF(user), 0, 0, NULL, "vigil",
	  "Unprivileged user the workers switch to when vigil starts as root (falls back to nobody when the default user does not exist)."),
	FLD("secrets_file", F_STRING, OFF(secrets_file), 0, 0, NULL, "(none)",
	  "YAML file of named secrets (SNMP communities and v3 keys, API tokens, SMTP passwords); must be mode 0600 or stricter."),
	FIELD_END,
};

static const struct field web_fields[] = {
	FLD("listen", F_HOSTPORT, OFF(web_listen), 0, 0, NULL, "127.0.0.1:9920",
	  "Address and port of the web console, /api/v1 and /metrics (\"ADDR:PORT\", \"[V6]:PORT\")."),
	FIELD_END,
};

static const struct field storage_fields[] = {
	FLD("path", F_STRING, OFF(storage_path), 0, 0, NULL, "./data",
	  "Data directory (WAL, blocks, inventory); created if missing, must be writable."),
	FLD("retention", F_DURATION, OFF(retention_ms), 3600000, 100 * 365 * DAY, NULL, "15d",
	  "Samples older than this are deleted (1h to 100y)."),
	FLD("retention_size", F_BYTES, OFF(retention_bytes), 0, INT64_MAX, NULL, "0",
	  "Delete the oldest blocks while the store is larger than this (0: no size limit)."),
	FLD("wal_fsync_interval", F_DURATION, OFF(wal_fsync_interval_ms), 0, 60000, NULL, "1s",
	  "The WAL is fsynced at least this often (0s: on every commit); see docs/STORAGE.md."),
	FLD("out_of_order_window", F_DURATION, OFF(out_of_order_window_ms), 0, DAY, NULL, "10m",
	  "Samples up to this far behind a series' newest sample are accepted."),
	FLD("downsample", F_BOOL, OFF(downsample), 0, 0, NULL, "true",
	  "Build 5 min and 1 h tiers (min, max, sum, count, last) that long-range queries read; see docs/STORAGE.md."),
	FLD("downsample_after", F_DURATION, OFF(downsample_after_ms), 0, 100 * 365 * DAY, NULL, "1d",
	  "A block gets its tiers once its newest sample is this much older than the store's newest (0s: every block)."),
	FLD("downsample_retention", F_DURATION, OFF(downsample_retention_ms), 0, 100 * 365 * DAY, NULL, "0s",
	  "Keep the tiers of blocks past storage.retention (raw samples gone) until this age (0s: no longer than raw)."),
	FIELD_END,
};

static const struct field query_fields[] = {
	FLD("timeout", F_DURATION, OFF(query_timeout_ms), 100, DAY, NULL, "2m",
	    "A query running longer is cancelled with Prometheus's timeout error (503)."),
	FLD("max_samples", F_INT, OFF(query_max_samples), 1000, 2000000000, NULL, "50000000",
	    "Samples one query may hold in memory; past it the query fails (422) and memory stays bounded."),
	FLD("lookback_delta", F_DURATION, OFF(query_lookback_ms), 1000, DAY, NULL, "5m",
	    "How far back an instant vector selector looks for a sample."),
	FIELD_END,
};

static const struct field host_fields[] = {
	FLD("enabled", F_BOOL, OFF(host_enabled), 0, 0, NULL, "true",
	  "Collect this host's metrics (node_exporter names)."),
	FLD("interval", F_DURATION, OFF(host_interval_ms), 1000, DAY, NULL, "10s",
	  "Collection interval (1s to 1d)."),
	FLD("job", F_STRING, OFF(host_job), 0, 0, NULL, "node",
	  "job label on this host's series (as a Prometheus scrape of node_exporter would set it)."),
	FLD("instance", F_STRING, OFF(host_instance), 0, 0, NULL, "(host name)",
	  "instance label on this host's series; default: this machine's host name."),
	FLD("systemd_bus", F_STRING, OFF(host_systemd_bus), 0, 0, NULL, "(system bus)",
	  "D-Bus address where the systemd manager is asked for unit states (node_systemd_*), e.g. unix:path=/run/user/1000/bus."),
	FIELD_END,
};

static const char *const relabel_actions[] = { "replace", "keep", "drop", "labeldrop", "labelkeep", "labelmap",
	"hashmod", NULL };
static const char *const schemes[] = { "http", "https", NULL };

#define ROFF(m) offsetof(struct cfg_relabel, m)
static const struct field relabel_fields[] = {
	{ .key = "source_labels", .type = F_STRLIST, .off = ROFF(source_labels), .off2 = ROFF(nsource),
	  .def = "[]", .doc = "Labels whose values are joined with separator and matched against regex." },
	FLD("separator", F_STRING, ROFF(separator), 0, 0, NULL, ";", "Joins the source label values."),
	FLD("regex", F_STRING, ROFF(regex), 0, 0, NULL, "(.*)", "Fully anchored regular expression (PCRE2)."),
	FLD("target_label", F_STRING, ROFF(target_label), 0, 0, NULL, "", "Label written by replace."),
	FLD("replacement", F_STRING, ROFF(replacement), 0, 0, NULL, "$1", "Value written by replace; $1.. refer to regex groups."),
	{ .key = "action", .type = F_ENUM, .off = ROFF(action), .names = relabel_actions, .def = "replace",
	  .doc = "replace, keep, drop, labeldrop, labelkeep, labelmap or hashmod." },
	FLD("modulus", F_INT, ROFF(modulus), 0, INT64_MAX, NULL, "0", "For hashmod: target_label gets md5(joined sources) mod this."),
	FIELD_END,
};

#define TOFF(m) offsetof(struct cfg_static, m)
static const struct field static_fields[] = {
	{ .key = "targets", .type = F_STRLIST, .off = TOFF(targets), .off2 = TOFF(ntargets), .required = 1,
	  .def = "", .doc = "\"host:port\" of each exporter to scrape." },
	FLD("labels", F_STRMAP, TOFF(labels), 0, 0, NULL, "{}", "Labels added to every series scraped from these targets."),
	FIELD_END,
};

static const struct field basic_auth_fields[] = {
	FLD("username", F_STRING, offsetof(struct cfg_scrape, basic_auth.username) - offsetof(struct cfg_scrape, basic_auth),
	    0, 0, NULL, "", "Basic auth user name."),
	{ .key = "password_secret", .type = F_SECRET, .min = ROLE_POLLER,
	  .off = offsetof(struct cfg_scrape, basic_auth.password_secret) - offsetof(struct cfg_scrape, basic_auth),
	  .def = "", .doc = "Name of the secret (in the secrets file) that holds the password." },
	FIELD_END,
};

static void scrape_init(void *p)
{
	struct cfg_scrape *s = p;
	s->interval_ms = 60000;
	s->timeout_ms = 10000;
	s->honor_timestamps = 1;
}

static int scrape_check(void *p, char *err, size_t errsz)
{
	struct cfg_scrape *s = p;
	if (s->timeout_ms > s->interval_ms) {
		snprintf(err, errsz, "scrape_timeout is longer than scrape_interval");
		return -1;
	}
	if (s->basic_auth.username && s->bearer_token_secret) {
		snprintf(err, errsz, "basic_auth and bearer_token_secret are mutually exclusive");
		return -1;
	}
	for (size_t i = 0; i < s->nstatics; i++) {
		for (size_t j = 0; j < s->statics[i].ntargets; j++) {
			const char *t = s->statics[i].targets[j];
			char host[256];
			uint16_t port;
			if (config_split_hostport(t, host, sizeof(host), &port) < 0) {
				snprintf(err, errsz, "target \"%.200s\" is not host:port", t);
				return -1;
			}
		}
	}
	for (size_t pass = 0; pass < 2; pass++) {
		const struct cfg_relabel *rs = pass ? s->target_relabel : s->relabel;
		size_t nr = pass ? s->ntarget_relabel : s->nrelabel;
		const char *what = pass ? "relabel_configs" : "metric_relabel_configs";
		for (size_t i = 0; i < nr; i++) {
			const struct cfg_relabel *r = &rs[i];
			if ((r->action == RELABEL_REPLACE || r->action == RELABEL_HASHMOD) && !r->target_label) {
				snprintf(err, errsz, "%s[%zu]: %s needs target_label", what, i,
				    r->action == RELABEL_REPLACE ? "replace" : "hashmod");
				return -1;
			}
			if (r->action == RELABEL_HASHMOD && r->modulus <= 0) {
				snprintf(err, errsz, "%s[%zu]: hashmod needs a modulus above 0", what, i);
				return -1;
			}
			if ((r->action == RELABEL_KEEP || r->action == RELABEL_DROP) && !r->nsource) {
				snprintf(err, errsz, "%s[%zu]: keep and drop need source_labels", what, i);
				return -1;
			}
		}
	}
	return 0;
}

#define SOFF(m) offsetof(struct cfg_scrape, m)
static const struct field scrape_fields[] = {
	{ .key = "job_name", .type = F_STRING, .off = SOFF(job_name), .required = 1, .def = "",
	  .doc = "The job label of every series from these targets; unique." },
	FLD("scrape_interval", F_DURATION, SOFF(interval_ms), 1000, DAY, NULL, "1m", "How often to scrape."),
	FLD("scrape_timeout", F_DURATION, SOFF(timeout_ms), 100, DAY, NULL, "10s", "Give up on a scrape after this long (at most the interval)."),
	FLD("metrics_path", F_STRING, SOFF(metrics_path), 0, 0, NULL, "/metrics", "HTTP path of the metrics."),
	{ .key = "scheme", .type = F_ENUM, .off = SOFF(scheme), .names = schemes, .def = "http", .doc = "http or https." },
	FLD("honor_labels", F_BOOL, SOFF(honor_labels), 0, 0, NULL, "false", "Keep the target's own job and instance labels on conflict."),
	FLD("honor_timestamps", F_BOOL, SOFF(honor_timestamps), 0, 0, NULL, "true", "Keep timestamps the target sends; false stamps samples with the scrape time."),
	FLD("params", F_STRMAP, SOFF(params), 0, 0, NULL, "{}", "URL query parameters (name: value)."),
	FLD("basic_auth", F_SECTION, SOFF(basic_auth), 0, 0, basic_auth_fields, NULL, "HTTP basic auth."),
	{ .key = "bearer_token_secret", .type = F_SECRET, .min = ROLE_POLLER, .off = SOFF(bearer_token_secret),
	  .def = "", .doc = "Name of the secret that holds a bearer token." },
	FLD("body_size_limit", F_BYTES, SOFF(body_size_limit), 0, (int64_t)1 << 32, NULL, "0", "Largest body accepted (0: 16 MiB)."),
	FLD("sample_limit", F_INT, SOFF(sample_limit), 0, 100000000, NULL, "0", "Most samples per scrape (0: 1,000,000); over it the scrape fails."),
	{ .key = "static_configs", .type = F_LIST, .off = SOFF(statics), .off2 = SOFF(nstatics),
	  .elem_size = sizeof(struct cfg_static), .sub = static_fields, .doc = "Targets." },
	{ .key = "relabel_configs", .type = F_LIST, .off = SOFF(target_relabel), .off2 = SOFF(ntarget_relabel),
	  .elem_size = sizeof(struct cfg_relabel), .sub = relabel_fields,
	  .doc = "Rules applied to each target before it is scraped (__address__, __scheme__, __metrics_path__, __param_<name>, job, static labels): drop targets, rewrite the address, set target labels; see the Scraping section above." },
	{ .key = "metric_relabel_configs", .type = F_LIST, .off = SOFF(relabel), .off2 = SOFF(nrelabel),
	  .elem_size = sizeof(struct cfg_relabel), .sub = relabel_fields, .doc = "Rules applied to every scraped sample, in order." },
	FIELD_END,
};

static const char *const snmp_versions[] = { "1", "2c", "3", NULL };

static void snmp_device_init(void *p)
{
	struct cfg_snmp_device *d = p;
	d->version = 1;	/* 2c */
	d->retries = -1;
}

static int snmp_device_check(void *p, char *err, size_t errsz)
{
	struct cfg_snmp_device *d = p;
	char host[256];
	uint16_t port;
	unsigned char a[16];
	const char *h = d->address;
	if (config_split_hostport(d->address, host, sizeof(host), &port) == 0)
		h = host;
	if (inet_pton(AF_INET, h, a) != 1 && inet_pton(AF_INET6, h, a) != 1) {
		snprintf(err, errsz, "address \"%.200s\" is not a numeric IPv4 or IPv6 address (with an optional :port)", d->address);
		return -1;
	}
	if (!d->name)
		d->name = xstrdup(d->address);
	return 0;
}

#define DOFF(m) offsetof(struct cfg_snmp_device, m)
static const struct field snmp_device_fields[] = {
	FLD("name", F_STRING, DOFF(name), 0, 0, NULL, "(address)", "instance label and name in logs."),
	{ .key = "address", .type = F_STRING, .off = DOFF(address), .required = 1, .def = "",
	  .doc = "Numeric IPv4 or IPv6 address, with an optional :port (161)." },
	{ .key = "version", .type = F_ENUM, .off = DOFF(version), .names = snmp_versions, .def = "2c",
	  .doc = "SNMP version: 1, 2c or 3." },
	{ .key = "credential", .type = F_SECRET, .min = ROLE_POLLER, .off = DOFF(credential), .required = 1,
	  .def = "", .doc = "Secret name: the community for v1/2c; for v3 a map with user, auth_protocol (MD5, SHA, SHA-224..SHA-512), auth_password, priv_protocol (DES, AES, AES-192, AES-256), priv_password." },
	FLD("interval", F_DURATION, DOFF(interval_ms), 1000, DAY, NULL, "(snmp.interval)", "Poll interval of this device."),
	FLD("timeout", F_DURATION, DOFF(timeout_ms), 10, 60000, NULL, "(snmp.timeout)", "Per-request timeout."),
	FLD("retries", F_INT, DOFF(retries), 0, 10, NULL, "(snmp.retries)", "Re-sends of a request that timed out."),
	FLD("max_inflight", F_INT, DOFF(max_inflight), 1, 64, NULL, "4", "Requests in flight to this device at once."),
	{ .key = "profiles", .type = F_STRLIST, .off = DOFF(profiles), .off2 = DOFF(nprofiles), .def = "[]",
	  .doc = "Profile names used whatever the device's sysObjectID says." },
	{ .key = "exclude_profiles", .type = F_STRLIST, .off = DOFF(exclude), .off2 = DOFF(nexclude), .def = "[]",
	  .doc = "Profile names never used for this device." },
	FIELD_END,
};

static const struct field snmp_fields[] = {
	FLD("profiles_dir", F_STRING, OFF(snmp_profiles_dir), 0, 0, NULL, "./profiles",
	    "Directory of device profiles (YAML), relative to where vigil starts."),
	FLD("interval", F_DURATION, OFF(snmp_interval_ms), 1000, DAY, NULL, "1m", "Default poll interval."),
	FLD("timeout", F_DURATION, OFF(snmp_timeout_ms), 10, 60000, NULL, "1s", "Default per-request timeout."),
	FLD("retries", F_INT, OFF(snmp_retries), 0, 10, NULL, "2", "Default re-sends of a request that timed out."),
	{ .key = "devices", .type = F_LIST, .off = OFF(snmp_devices), .off2 = OFF(nsnmp_devices),
	  .elem_size = sizeof(struct cfg_snmp_device), .sub = snmp_device_fields, .init = snmp_device_init,
	  .check = snmp_device_check, .doc = "Devices to poll." },
	FIELD_END,
};

/* Apply a probe's pairs to a scratch probe_cfg, exactly as the poller will. */
static int probe_kv_check(const struct config_kv *kv, size_t *bad, char *err, size_t errsz)
{
	struct probe_cfg pc;
	memset(&pc, 0, sizeof(pc));
	int rc = 0, have_kind = 0, have_target = 0;
	for (size_t i = 0; i < kv->n && rc == 0; i++) {
		have_kind |= strcmp(kv->keys[i], "kind") == 0;
		have_target |= strcmp(kv->keys[i], "target") == 0;
		if (probe_cfg_set(&pc, kv->keys[i], kv->vals[i], err, errsz) < 0) {
			*bad = i;
			rc = -1;
		}
	}
	if (rc == 0 && (!have_kind || !have_target)) {
		*bad = 0;
		snprintf(err, errsz, "a probe needs kind and target");
		rc = -1;
	}
	probe_cfg_release(&pc);
	return rc;
}

static const struct field probe_fields[] = {
	{ .key = "(any)", .type = F_KVMAP, .off = offsetof(struct cfg_probe, kv), .kv_check = probe_kv_check,
	  .doc = "kind (icmp, tcp, http, dns, nagios), target, module, node, interval, timeout, retry_interval, "
	  "down_after, ip_version, and per kind: icmp.{count,spacing,payload}, tcp.{send,expect,tls,"
	  "insecure_skip_verify,ca_file,server_name}, http.{method,header[],body,valid_status[],body_regex,"
	  "body_not_regex,follow_redirects,insecure_skip_verify,ca_file,cert_file,key_file}, dns.{query_name,"
	  "query_type,rcode,answer_regex,recursion_desired,transport}, nagios.{command[]}; see docs/PROBES.md." },
	FIELD_END,
};

static const struct field root_fields[] = {
	FLD("global", F_SECTION, 0, 0, 0, global_fields, NULL, "Process-wide settings."),
	FLD("web", F_SECTION, 0, 0, 0, web_fields, NULL, "The web worker."),
	FLD("storage", F_SECTION, 0, 0, 0, storage_fields, NULL, "The store worker's time-series store."),
	FLD("query", F_SECTION, 0, 0, 0, query_fields, NULL, "Limits of the PromQL engine (store worker). Queries run one at a time."),
	FLD("host", F_SECTION, 0, 0, 0, host_fields, NULL, "Host metrics collected by the poller worker."),
	FLD("snmp", F_SECTION, 0, 0, 0, snmp_fields, NULL, "SNMP devices polled by the poller worker."),
	{ .key = "rule_files", .type = F_OPAQUE, .off = OFF(rule_files_pos), .def = "[]",
	  .doc = "Prometheus rule files (globs; relative to the config file). See docs/ALERTING.md." },
	{ .key = "alerting", .type = F_OPAQUE, .off = OFF(alerting_pos), .def = "",
	  .doc = "Evaluation interval, external labels, Alertmanagers, webhook and email receivers, maintenance windows: docs/ALERTING.md." },
	{ .key = "probes", .type = F_LIST, .off = OFF(probes), .off2 = OFF(nprobes),
	  .elem_size = sizeof(struct cfg_probe), .sub = probe_fields,
	  .doc = "Availability and service probes (ICMP node status, TCP, HTTP(S), DNS, TLS, Nagios plugins)." },
	{ .key = "scrape_configs", .type = F_LIST, .off = OFF(scrapes), .off2 = OFF(nscrapes),
	  .elem_size = sizeof(struct cfg_scrape), .sub = scrape_fields, .init = scrape_init, .check = scrape_check,
	  .doc = "Prometheus/OpenMetrics endpoints to scrape, in Prometheus's scrape_configs format." },
	FIELD_END,
};

/* Parsing state: the document and where errors go. */
struct pctx {
	yaml_document_t *doc;	/* the parsed document */
	struct config *c;	/* config being filled */
	const char *name;	/* file name for messages */
	char *err;		/* error buffer */
	size_t errsz;		/* its size */
};

static int perr(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int perr(struct pctx *p, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	int o = snprintf(p->err, p->errsz, "%s:%zu:%zu: ", p->name,
	    n ? n->start_mark.line + 1 : 1, n ? n->start_mark.column + 1 : 1);
	if (o < 0 || (size_t)o >= p->errsz)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + o, p->errsz - (size_t)o, fmt, ap);
	va_end(ap);
	return -1;
}

static const char *scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

static int parse_bytes(const char *s, int64_t *out)
{
	static const struct { const char *suffix; int64_t mul; } units[] = {
		{ "KiB", 1LL << 10 }, { "MiB", 1LL << 20 }, { "GiB", 1LL << 30 }, { "TiB", 1LL << 40 },
		{ "KB", 1000LL }, { "MB", 1000000LL }, { "GB", 1000000000LL }, { "TB", 1000000000000LL },
		{ "B", 1 }, { "", 1 },
	};
	char *end;
	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	long long v = strtoll(s, &end, 10);
	if (errno)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > INT64_MAX / units[i].mul)
				return -1;
			*out = v * units[i].mul;
			return 0;
		}
	}
	return -1;
}

int config_split_hostport(const char *s, char *host, size_t hostsz, uint16_t *port)
{
	const char *colon;
	size_t hl;
	if (s[0] == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -1;
		hl = (size_t)(rb - s - 1);
		s++;
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostsz)
		return -1;
	memcpy(host, s, hl);
	host[hl] = '\0';
	char *end;
	errno = 0;
	long p = strtol(colon + 1, &end, 10);
	if (errno || *end || colon[1] == '\0' || p < 1 || p > 65535)
		return -1;
	*port = (uint16_t)p;
	return 0;
}

static char *fieldp(void *base, size_t off)
{
	return (char *)base + off;
}

static int set_string(char **dst, const char *v)
{
	free(*dst);
	*dst = xstrdup(v);
	return 0;
}

static int parse_map(struct pctx *p, const struct field *fields, const yaml_node_t *n,
    const char *prefix, void *base);
static int set_field(struct pctx *p, const struct field *f, const yaml_node_t *n,
    const char *path, void *base);

static int parse_list(struct pctx *p, const struct field *f, const yaml_node_t *n,
    const char *path, void *base)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return perr(p, n, "%s: expected a list", path);
	void **arr = (void **)(void *)fieldp(base, f->off);
	size_t *cnt = (size_t *)(void *)fieldp(base, f->off2);
	size_t total = (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (total > 100000)
		return perr(p, n, "%s: more than 100000 entries", path);
	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
		yaml_node_t *v = yaml_document_get_node(p->doc, *it);
		char ipath[340];
		snprintf(ipath, sizeof(ipath), "%s[%zu]", path, *cnt);
		if (f->type == F_STRLIST) {
			if (!v || v->type != YAML_SCALAR_NODE || !*scalar(v))
				return perr(p, v, "%s: expected a non-empty string", ipath);
			char **sv = xreallocarray(*arr, *cnt + 1, sizeof(char *));
			sv[*cnt] = xstrdup(scalar(v));
			*arr = sv;
			(*cnt)++;
			continue;
		}
		char *elems = xreallocarray(*arr, *cnt + 1, f->elem_size);
		*arr = elems;
		void *elem = elems + *cnt * f->elem_size;
		memset(elem, 0, f->elem_size);
		(*cnt)++;
		if (f->init)
			f->init(elem);
		if (!v || v->type != YAML_MAPPING_NODE)
			return perr(p, v, "%s: expected a map of keys", ipath);
		/* An element that is one free-form map (probes) rather than known keys. */
		int rc = f->sub[0].type == F_KVMAP ? set_field(p, &f->sub[0], v, ipath, elem)
		    : parse_map(p, f->sub, v, ipath, elem);
		if (rc < 0)
			return rc;
		char why[256];
		if (f->check && f->check(elem, why, sizeof(why)) < 0)
			return perr(p, v, "%s: %s", ipath, why);
	}
	return 0;
}

static int parse_strmap(struct pctx *p, const yaml_node_t *n, const char *path, struct config_strmap *m)
{
	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, "%s: expected a map of strings", path);
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE || v->type != YAML_SCALAR_NODE)
			return perr(p, v ? v : k, "%s: keys and values must be strings", path);
		for (size_t i = 0; i < m->n; i++)
			if (strcmp(m->keys[i], scalar(k)) == 0)
				return perr(p, k, "%s: duplicate key \"%s\"", path, scalar(k));
		m->keys = xreallocarray(m->keys, m->n + 1, sizeof(char *));
		m->vals = xreallocarray(m->vals, m->n + 1, sizeof(char *));
		m->keys[m->n] = xstrdup(scalar(k));
		m->vals[m->n] = xstrdup(scalar(v));
		m->n++;
	}
	return 0;
}

static int kv_flatten(struct pctx *p, const yaml_node_t *n, const char *prefix,
    const char *path, struct config_kv *kv)
{
	if (kv->n >= 4096)
		return perr(p, n, "%s: too many keys", path);
	if (n->type == YAML_SCALAR_NODE) {
		if (!*prefix)
			return perr(p, n, "%s: expected a map of keys", path);
		kv->keys = xreallocarray(kv->keys, kv->n + 1, sizeof(char *));
		kv->vals = xreallocarray(kv->vals, kv->n + 1, sizeof(char *));
		kv->lines = xreallocarray(kv->lines, kv->n + 1, sizeof(int));
		kv->cols = xreallocarray(kv->cols, kv->n + 1, sizeof(int));
		kv->keys[kv->n] = xstrdup(prefix);
		kv->vals[kv->n] = xstrdup(scalar(n));
		kv->lines[kv->n] = (int)n->start_mark.line + 1;
		kv->cols[kv->n] = (int)n->start_mark.column + 1;
		kv->n++;
		return 0;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		if (!*prefix)
			return perr(p, n, "%s: expected a map of keys", path);
		for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top; it++) {
			yaml_node_t *v = yaml_document_get_node(p->doc, *it);
			if (!v || v->type != YAML_SCALAR_NODE)
				return perr(p, v, "%s.%s: list items must be plain values", path, prefix);
			if (kv_flatten(p, v, prefix, path, kv) < 0)
				return -1;
		}
		return 0;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE || !*scalar(k))
			return perr(p, k, "%s: keys must be plain strings", path);
		char sub[256];
		snprintf(sub, sizeof(sub), "%s%s%s", prefix, *prefix ? "." : "", scalar(k));
		for (size_t i = 0; i < kv->n; i++)
			if (strcmp(kv->keys[i], sub) == 0 && v->type != YAML_SEQUENCE_NODE)
				return perr(p, k, "%s: duplicate key \"%s\"", path, sub);
		if (kv_flatten(p, v, sub, path, kv) < 0)
			return -1;
	}
	return 0;
}

static int set_field(struct pctx *p, const struct field *f, const yaml_node_t *n,
    const char *path, void *base)
{
	if (f->type == F_OPAQUE) {
		int *pos = (int *)(void *)fieldp(base, f->off);
		pos[0] = (int)n->start_mark.line + 1;
		pos[1] = (int)n->start_mark.column + 1;
		return 0;
	}
	if (f->type == F_KVMAP) {
		struct config_kv *kv = (struct config_kv *)(void *)fieldp(base, f->off);
		if (n->type != YAML_MAPPING_NODE)
			return perr(p, n, "%s: expected a map of keys", path);
		if (kv_flatten(p, n, "", path, kv) < 0)
			return -1;
		size_t bad = 0;
		char why[256];
		if (f->kv_check && f->kv_check(kv, &bad, why, sizeof(why)) < 0) {
			snprintf(p->err, p->errsz, "%s:%d:%d: %s: %s", p->name, bad < kv->n ? kv->lines[bad] : 1,
			    bad < kv->n ? kv->cols[bad] : 1, path, why);
			return -1;
		}
		return 0;
	}
	if (f->type == F_LIST || f->type == F_STRLIST)
		return parse_list(p, f, n, path, base);
	if (f->type == F_STRMAP)
		return parse_strmap(p, n, path, (struct config_strmap *)(void *)fieldp(base, f->off));
	if (n->type != YAML_SCALAR_NODE)
		return perr(p, n, "%s: expected a %s, got a %s", path,
		    f->type == F_BOOL ? "boolean" : "scalar value",
		    n->type == YAML_MAPPING_NODE ? "map" : "list");
	const char *v = scalar(n);
	char *dst = fieldp(base, f->off);
	switch (f->type) {
	case F_STRING:
	case F_SECRET:
		if (!*v)
			return perr(p, n, "%s: must not be empty", path);
		if (strlen(v) > 4096)
			return perr(p, n, "%s: longer than 4096 bytes", path);
		if (f->type == F_SECRET) {
			if (p->c->nrefs >= CONFIG_MAX_REFS)
				return perr(p, n, "%s: too many secret references", path);
			p->c->refs = xreallocarray(p->c->refs, p->c->nrefs + 1, sizeof(*p->c->refs));
			p->c->refs[p->c->nrefs++] = (struct config_secret_ref){ xstrdup(v),
				(enum config_role)f->min, (int)n->start_mark.line + 1, (int)n->start_mark.column + 1 };
		}
		return set_string((char **)(void *)dst, v);
	case F_HOSTPORT: {
		char host[256];
		uint16_t port;
		unsigned char a[16];
		if (config_split_hostport(v, host, sizeof(host), &port) < 0)
			return perr(p, n, "%s: \"%s\" is not ADDR:PORT with a port from 1 to 65535", path, v);
		if (inet_pton(AF_INET, host, a) != 1 && inet_pton(AF_INET6, host, a) != 1)
			return perr(p, n, "%s: \"%s\" is not a numeric IPv4 or IPv6 address", path, host);
		return set_string((char **)(void *)dst, v);
	}
	case F_DURATION: {
		int64_t ms;
		char lo[32], hi[32];
		if (clock_parse_duration(v, &ms) < 0)
			return perr(p, n, "%s: \"%s\" is not a duration (like 30s, 5m, 1h30m)", path, v);
		if (ms < f->min || ms > f->max)
			return perr(p, n, "%s: %s is out of range (%s to %s)", path, v,
			    clock_format_duration(f->min, lo, sizeof(lo)),
			    clock_format_duration(f->max, hi, sizeof(hi)));
		*(int64_t *)(void *)dst = ms;
		return 0;
	}
	case F_BYTES: {
		int64_t b;
		if (parse_bytes(v, &b) < 0)
			return perr(p, n, "%s: \"%s\" is not a size (like 0, 500MB, 10GiB)", path, v);
		if (b < f->min || b > f->max)
			return perr(p, n, "%s: %s is out of range", path, v);
		*(int64_t *)(void *)dst = b;
		return 0;
	}
	case F_INT:
	case F_UINT: {
		char *end;
		errno = 0;
		long long x = strtoll(v, &end, 10);
		if (errno || end == v || *end)
			return perr(p, n, "%s: \"%s\" is not an integer", path, v);
		if (x < f->min || x > f->max)
			return perr(p, n, "%s: %lld is out of range (%lld to %lld)", path, x,
			    (long long)f->min, (long long)f->max);
		if (f->type == F_INT)
			*(int64_t *)(void *)dst = x;
		else
			*(unsigned *)(void *)dst = (unsigned)x;
		return 0;
	}
	case F_FLOAT: {
		char *end;
		errno = 0;
		double x = strtod(v, &end);
		if (errno || end == v || *end)
			return perr(p, n, "%s: \"%s\" is not a number", path, v);
		*(double *)(void *)dst = x;
		return 0;
	}
	case F_ENUM: {
		struct buf known;
		for (int i = 0; f->names[i]; i++) {
			if (strcmp(f->names[i], v) == 0) {
				*(int *)(void *)dst = i;
				return 0;
			}
		}
		buf_init(&known, 1024);
		for (int i = 0; f->names[i]; i++)
			buf_printf(&known, "%s%s", i ? ", " : "", f->names[i]);
		perr(p, n, "%s: \"%s\" is not one of %s", path, v, known.data ? known.data : "");
		buf_free(&known);
		return -1;
	}
	case F_BOOL:
		if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
		    (strcmp(v, "true") != 0 && strcmp(v, "false") != 0))
			return perr(p, n, "%s: expected true or false, got \"%s\"", path, v);
		*(int *)(void *)dst = strcmp(v, "true") == 0;
		return 0;
	case F_LOGLEVEL: {
		enum log_level l;
		if (log_level_parse(v, &l) < 0)
			return perr(p, n, "%s: \"%s\" is not one of debug, info, warn, error", path, v);
		*(enum log_level *)(void *)dst = l;
		return 0;
	}
	default:
		break;
	}
	return perr(p, n, "%s: internal schema error", path);
}

static int parse_map(struct pctx *p, const struct field *fields, const yaml_node_t *n,
    const char *prefix, void *base)
{
	if (n->type == YAML_SCALAR_NODE && n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return 0;	/* "section:" with nothing under it keeps the defaults */
	if (n->type != YAML_MAPPING_NODE)
		return perr(p, n, "%s: expected a map of keys", *prefix ? prefix : "top level");
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(p->doc, pr->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE)
			return perr(p, k, "%s: keys must be plain strings", *prefix ? prefix : "top level");
		const char *key = scalar(k);
		for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < pr; q++) {
			yaml_node_t *k2 = yaml_document_get_node(p->doc, q->key);
			if (k2 && k2->type == YAML_SCALAR_NODE && strcmp(scalar(k2), key) == 0)
				return perr(p, k, "duplicate key \"%s\"%s%s", key,
				    *prefix ? " in " : "", prefix);
		}
		const struct field *f = fields;
		while (f->key && strcmp(f->key, key) != 0)
			f++;
		if (!f->key) {
			struct buf known;
			buf_init(&known, 2048);
			for (const struct field *g = fields; g->key; g++)
				buf_printf(&known, "%s%s", g == fields ? "" : ", ", g->key);
			perr(p, k, "unknown key \"%s\"%s%s (known: %s)", key,
			    *prefix ? " in " : "", prefix, known.data ? known.data : "");
			buf_free(&known);
			return -1;
		}
		char path[320];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", key);
		int rc;
		if (f->type == F_SECTION) {
			rc = parse_map(p, f->sub, v, path, fieldp(base, f->off));
			char why[256];
			if (rc == 0 && f->check && f->check(fieldp(base, f->off), why, sizeof(why)) < 0)
				rc = perr(p, v, "%s: %s", path, why);
		} else {
			rc = set_field(p, f, v, path, base);
		}
		if (rc < 0)
			return rc;
	}
	/* Required keys (list elements): report at the element's position. */
	for (const struct field *f = fields; f->key; f++) {
		if (!f->required)
			continue;
		int found = 0;
		for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
			yaml_node_t *k = yaml_document_get_node(p->doc, pr->key);
			found |= k && k->type == YAML_SCALAR_NODE && strcmp(scalar(k), f->key) == 0;
		}
		if (!found)
			return perr(p, n, "%s: missing required key \"%s\"", *prefix ? prefix : "top level", f->key);
	}
	return 0;
}

/* Free what a table of fields allocated in base (not base itself). */
static void free_fields(const struct field *fields, void *base)
{
	for (const struct field *f = fields; f->key; f++) {
		char *dst = fieldp(base, f->off);
		switch (f->type) {
		case F_SECTION:
			free_fields(f->sub, dst);
			break;
		case F_STRING:
		case F_HOSTPORT:
		case F_SECRET:
			free(*(char **)(void *)dst);
			*(char **)(void *)dst = NULL;
			break;
		case F_STRLIST: {
			char **sv = *(char ***)(void *)dst;
			size_t *cnt = (size_t *)(void *)fieldp(base, f->off2);
			for (size_t i = 0; i < *cnt; i++)
				free(sv[i]);
			free(sv);
			*(char ***)(void *)dst = NULL;
			*cnt = 0;
			break;
		}
		case F_STRMAP: {
			struct config_strmap *m = (struct config_strmap *)(void *)dst;
			for (size_t i = 0; i < m->n; i++) {
				free(m->keys[i]);
				free(m->vals[i]);
			}
			free(m->keys);
			free(m->vals);
			memset(m, 0, sizeof(*m));
			break;
		}
		case F_KVMAP: {
			struct config_kv *kv = (struct config_kv *)(void *)dst;
			for (size_t i = 0; i < kv->n; i++) {
				free(kv->keys[i]);
				free(kv->vals[i]);
			}
			free(kv->keys);
			free(kv->vals);
			free(kv->lines);
			free(kv->cols);
			memset(kv, 0, sizeof(*kv));
			break;
		}
		case F_LIST: {
			char *elems = *(char **)(void *)dst;
			size_t *cnt = (size_t *)(void *)fieldp(base, f->off2);
			for (size_t i = 0; i < *cnt; i++)
				free_fields(f->sub, elems + i * f->elem_size);
			free(elems);
			*(char **)(void *)dst = NULL;
			*cnt = 0;
			break;
		}
		default:
			break;
		}
	}
}

/* rule_files and alerting are the alerting module's: it checks them, and the
 * secrets its receivers name become references for the notifier only. */
static int check_alerting(struct config *c, const char *name, const char *text, size_t len,
    char *err, size_t errsz)
{
	struct alert_config ac;
	if (alert_config_parse(name, text, len, &ac, err, errsz) < 0)
		return -1;
	for (size_t i = 0; i < ac.nreceivers; i++) {
		const char *names[2] = { ac.receivers[i].password_secret, ac.receivers[i].bearer_secret };
		for (int k = 0; k < 2; k++) {
			if (!names[k])
				continue;
			c->refs = xreallocarray(c->refs, c->nrefs + 1, sizeof(*c->refs));
			c->refs[c->nrefs++] = (struct config_secret_ref){ xstrdup(names[k]), ROLE_NOTIFIER,
				c->alerting_pos[0], c->alerting_pos[1] };
		}
	}
	alert_config_free(&ac);
	return 0;
}

static void set_defaults(struct config *c)
{
	c->log_level = LOG_INFO;
	c->user = xstrdup("vigil");
	c->web_listen = xstrdup("127.0.0.1:9920");
	c->storage_path = xstrdup("./data");
	c->retention_ms = 15 * DAY;
	c->wal_fsync_interval_ms = 1000;
	c->out_of_order_window_ms = 600000;
	c->downsample = 1;
	c->downsample_after_ms = DAY;
	c->host_enabled = 1;
	c->host_interval_ms = 10000;
	c->snmp_profiles_dir = xstrdup("./profiles");
	c->query_timeout_ms = 120000;
	c->query_max_samples = 50000000;
	c->query_lookback_ms = 300000;
	c->snmp_interval_ms = 60000;
	c->snmp_timeout_ms = 1000;
	c->snmp_retries = 2;
}

int config_parse(const char *name, const char *text, size_t len, struct config **out,
    char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct config *c = xcalloc(1, sizeof(*c));
	struct pctx p = { &doc, c, name, err, errsz };
	int rc = -1;

	*out = NULL;
	set_defaults(c);
	c->file = xstrdup(name);
	c->text = xstrndup(text, len);
	if (memchr(text, '\0', len)) {
		snprintf(err, errsz, "%s:1:1: file contains a NUL byte", name);
		config_free(c);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%zu:%zu: YAML syntax error: %s%s%s", name,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "malformed",
		    parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		config_free(c);
		return -1;
	}
	/* A second document in the same file is almost always a mistake. */
	yaml_document_t extra;
	if (yaml_parser_load(&parser, &extra)) {
		yaml_node_t *r2 = yaml_document_get_root_node(&extra);
		if (r2) {
			perr(&p, r2, "a second YAML document is not allowed");
			yaml_document_delete(&extra);
			goto out;
		}
		yaml_document_delete(&extra);
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = 0;	/* an empty file is the defaults */
		goto out;
	}
	rc = parse_map(&p, root_fields, root, "", c);
	if (rc == 0 && (c->rule_files_pos[0] || c->alerting_pos[0]))
		rc = check_alerting(c, name, text, len, err, errsz);
	for (size_t i = 0; rc == 0 && i < c->nscrapes; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->scrapes[i].job_name, c->scrapes[j].job_name) == 0) {
				rc = -1;
				snprintf(err, errsz, "%s: scrape_configs[%zu]: job_name \"%.100s\" is already used by scrape_configs[%zu]",
				    name, i, c->scrapes[i].job_name, j);
			}
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0) {
		config_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static int read_capped(const char *path, struct buf *b, char *err, size_t errsz)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errsz, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		snprintf(err, errsz, "%s: not a regular file", path);
		close(fd);
		return -1;
	}
	char tmp[65536];
	for (;;) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsz, "%s: read failed: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		if (buf_add(b, tmp, (size_t)n) < 0) {
			snprintf(err, errsz, "%s: larger than %u bytes", path, BUF_CAP_CONFIG);
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

int config_load_file(const char *path, struct config **out, char *err, size_t errsz)
{
	struct buf b;
	buf_init(&b, BUF_CAP_CONFIG);
	*out = NULL;
	if (read_capped(path, &b, err, errsz) < 0) {
		buf_free(&b);
		return -1;
	}
	int rc = config_parse(path, b.data ? b.data : "", b.len, out, err, errsz);
	buf_free(&b);
	return rc;
}

int config_load_default(struct config **out, char *err, size_t errsz)
{
	/* The default rules (rules/vigil-defaults.yml) are on by default when
	 * vigil starts from a directory that has them (make run, a checkout). */
	char rules[4096];
	if (!realpath(CONFIG_DEFAULT_RULES, rules))
		return config_parse("(default)", config_default_yaml, strlen(config_default_yaml), out, err, errsz);
	char *text = xasprintf("%srule_files:\n  - \"%s\"\n", config_default_yaml, rules);
	int rc = config_parse("(default)", text, strlen(text), out, err, errsz);
	free(text);
	return rc;
}

const struct config_secret *config_secret_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nsecrets; i++)
		if (strcmp(c->secrets[i].name, name) == 0)
			return &c->secrets[i];
	return NULL;
}

static void secret_free(struct config_secret *s)
{
	free(s->name);
	if (s->value) {
		explicit_bzero(s->value, strlen(s->value));
		free(s->value);
	}
	for (size_t i = 0; i < s->nkv; i++) {
		free(s->keys[i]);
		explicit_bzero(s->vals[i], strlen(s->vals[i]));
		free(s->vals[i]);
	}
	free(s->keys);
	free(s->vals);
}

static int parse_secrets(struct config *c, const char *path, const char *text, size_t len,
    char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct pctx p = { &doc, c, path, err, errsz };
	int rc = -1;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%zu:%zu: YAML syntax error: %s", path,
		    parser.problem_mark.line + 1, parser.problem_mark.column + 1,
		    parser.problem ? parser.problem : "malformed");
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		rc = 0;
		goto out;
	}
	if (root->type != YAML_MAPPING_NODE) {
		perr(&p, root, "the secrets file must be a map of name: value");
		goto out;
	}
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = yaml_document_get_node(&doc, pr->key);
		yaml_node_t *v = yaml_document_get_node(&doc, pr->value);
		if (!k || !v || k->type != YAML_SCALAR_NODE || !*scalar(k)) {
			perr(&p, k, "secret names must be non-empty strings");
			goto out;
		}
		if (config_secret_find(c, scalar(k))) {
			perr(&p, k, "duplicate secret \"%s\"", scalar(k));
			goto out;
		}
		if (c->nsecrets >= CONFIG_MAX_SECRETS) {
			perr(&p, k, "more than %d secrets", CONFIG_MAX_SECRETS);
			goto out;
		}
		struct config_secret s = { .name = xstrdup(scalar(k)) };
		if (v->type == YAML_SCALAR_NODE) {
			s.value = xstrdup(scalar(v));
		} else if (v->type == YAML_MAPPING_NODE) {
			size_t n = (size_t)(v->data.mapping.pairs.top - v->data.mapping.pairs.start);
			s.keys = xcalloc(n, sizeof(char *));
			s.vals = xcalloc(n, sizeof(char *));
			for (yaml_node_pair_t *q = v->data.mapping.pairs.start; q < v->data.mapping.pairs.top; q++) {
				yaml_node_t *kk = yaml_document_get_node(&doc, q->key);
				yaml_node_t *vv = yaml_document_get_node(&doc, q->value);
				if (!kk || !vv || kk->type != YAML_SCALAR_NODE || vv->type != YAML_SCALAR_NODE) {
					perr(&p, vv ? vv : kk, "secret \"%s\": fields must be plain strings", s.name);
					secret_free(&s);
					goto out;
				}
				s.keys[s.nkv] = xstrdup(scalar(kk));
				s.vals[s.nkv] = xstrdup(scalar(vv));
				s.nkv++;
			}
		} else {
			perr(&p, v, "secret \"%s\": expected a string or a map", s.name);
			secret_free(&s);
			goto out;
		}
		c->secrets = xreallocarray(c->secrets, c->nsecrets + 1 + s.nkv, sizeof(*c->secrets));
		c->secrets[c->nsecrets++] = s;
		/* A structured secret's fields are also "name/field", so each one can
		 * be found, and passed to a worker, like a plain secret. */
		for (size_t i = 0; i < s.nkv; i++) {
			struct config_secret f = { .name = xasprintf("%s/%s", s.name, s.keys[i]),
				.value = xstrdup(s.vals[i]) };
			c->secrets[c->nsecrets++] = f;
		}
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int config_load_secrets(struct config *c, char *err, size_t errsz)
{
	if (c->secrets_file) {
		struct stat st;
		if (stat(c->secrets_file, &st) < 0) {
			snprintf(err, errsz, "%s: cannot read secrets file: %s", c->secrets_file, strerror(errno));
			return -1;
		}
		if (st.st_mode & 077) {
			snprintf(err, errsz, "%s: secrets file is accessible by group or others (mode %04o); "
			    "run: chmod 600 %s", c->secrets_file, (unsigned)(st.st_mode & 07777), c->secrets_file);
			return -1;
		}
		struct buf b;
		buf_init(&b, BUF_CAP_CONFIG);
		if (read_capped(c->secrets_file, &b, err, errsz) < 0 ||
		    parse_secrets(c, c->secrets_file, b.data ? b.data : "", b.len, err, errsz) < 0) {
			if (b.data)
				explicit_bzero(b.data, b.len);
			buf_free(&b);
			return -1;
		}
		explicit_bzero(b.data ? b.data : "", 0);
		if (b.data)
			explicit_bzero(b.data, b.len);
		buf_free(&b);
	}
	for (size_t i = 0; i < c->nrefs; i++) {
		if (!config_secret_find(c, c->refs[i].name)) {
			snprintf(err, errsz, "%s:%d:%d: secret \"%s\" is not in %s", c->file,
			    c->refs[i].line, c->refs[i].col, c->refs[i].name,
			    c->secrets_file ? c->secrets_file : "a secrets file (global.secrets_file is not set)");
			return -1;
		}
	}
	return 0;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free_fields(root_fields, c);
	free(c->file);
	free(c->text);
	for (size_t i = 0; i < c->nrefs; i++)
		free(c->refs[i].name);
	free(c->refs);
	for (size_t i = 0; i < c->nsecrets; i++)
		secret_free(&c->secrets[i]);
	free(c->secrets);
	free(c);
}

static const struct field *find_key(const struct field *fields, const char *key)
{
	const char *dot = strchr(key, '.');
	size_t n = dot ? (size_t)(dot - key) : strlen(key);
	for (const struct field *f = fields; f->key; f++) {
		if (strlen(f->key) != n || strncmp(f->key, key, n) != 0)
			continue;
		if (f->type == F_SECTION)
			return dot && f->off == 0 ? find_key(f->sub, dot + 1) : NULL;
		return dot ? NULL : f;
	}
	return NULL;
}

int config_get(const struct config *c, const char *key, struct buf *out)
{
	static const char *const levels[] = { "debug", "info", "warn", "error", "fatal" };
	const struct field *f = find_key(root_fields, key);
	const char *base = (const char *)c;
	char d[64];
	if (!f)
		return -ENOENT;
	switch (f->type) {
	case F_STRING:
	case F_HOSTPORT: {
		const char *s = *(char *const *)(const void *)(base + f->off);
		return buf_adds(out, s ? s : "");
	}
	case F_DURATION:
		return buf_adds(out, clock_format_duration(*(const int64_t *)(const void *)(base + f->off), d, sizeof(d)));
	case F_BYTES:
		return buf_printf(out, "%lld", (long long)*(const int64_t *)(const void *)(base + f->off));
	case F_BOOL:
		return buf_adds(out, *(const int *)(const void *)(base + f->off) ? "true" : "false");
	case F_LOGLEVEL:
		return buf_adds(out, levels[*(const enum log_level *)(const void *)(base + f->off)]);
	case F_INT:
		return buf_printf(out, "%lld", (long long)*(const int64_t *)(const void *)(base + f->off));
	case F_UINT:
		return buf_printf(out, "%u", *(const unsigned *)(const void *)(base + f->off));
	case F_FLOAT:
		return buf_printf(out, "%g", *(const double *)(const void *)(base + f->off));
	case F_ENUM:
		return buf_adds(out, f->names[*(const int *)(const void *)(base + f->off)]);
	default:
		break;	/* sections, lists and maps have no one-line value */
	}
	return -ENOENT;
}

static void doc_fields(struct buf *out, const struct field *fields, const char *prefix)
{
	for (const struct field *f = fields; f->key; f++) {
		char path[128];
		snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "", f->key);
		if (f->type == F_SECTION && !*prefix) {
			buf_printf(out, "\n## `%s`\n\n%s\n\n| key | default | meaning |\n|---|---|---|\n", path, f->doc);
			doc_fields(out, f->sub, path);
		} else if (f->type == F_SECTION) {
			buf_printf(out, "| `%s` | | %s |\n", path, f->doc);
			doc_fields(out, f->sub, path);
		} else if (f->type == F_LIST) {
			char lp[140];
			snprintf(lp, sizeof(lp), "%s[]", path);
			buf_printf(out, "| `%s` | `[]` | %s |\n", lp, f->doc);
			doc_fields(out, f->sub, lp);
		} else {
			buf_printf(out, "| `%s` | `%s` | %s%s |\n", path, f->def ? f->def : "", f->required ? "Required. " : "", f->doc);
		}
	}
}

int config_doc(struct buf *out)
{
	doc_fields(out, root_fields, "");
	return 0;
}
