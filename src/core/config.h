/*
 * config.h — vigil's configuration: one YAML file (Prometheus-like sections)
 * plus a separate secrets file (mode 0600) that the config refers to by name.
 *
 * Loading is strict: an unknown key, a wrong type or an out-of-range value is
 * an error reported as "FILE:LINE:COL: reason" and nothing is applied. Every
 * key is described once, in the schema table in config.c, which also drives
 * `vigil check config`, config_get() and docs/CONFIG.md.
 *
 *   struct config *c; char err[CONFIG_ERR_MAX];
 *   if (config_load_file("vigil.yml", &c, err, sizeof(err)) < 0) { puts(err); exit(2); }
 *   ... c->web_listen ...; config_free(c);
 */
#ifndef VIGIL_CONFIG_H
#define VIGIL_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/log.h"

#define CONFIG_ERR_MAX     512		/* size of an error message buffer */
#define CONFIG_MAX_SECRETS 4096		/* entries in a secrets file */
#define CONFIG_MAX_REFS    4096		/* secret references in a config */

/* Which worker uses a secret: it is passed to that worker only. */
enum config_role {
	ROLE_PARENT, ROLE_POLLER, ROLE_STORE, ROLE_WEB, ROLE_NOTIFIER, ROLE_COUNT
};

/* A secret named in the config, with where it was named (for errors). */
struct config_secret_ref {
	char *name;		/* secret name */
	enum config_role role;	/* worker that needs it */
	int line, col;		/* position of the reference */
};

/* One entry of the secrets file: a name and its value(s). */
struct config_secret {
	char *name;		/* the name the config uses */
	char *value;		/* single value (community, token, password) or NULL */
	char **keys, **vals;	/* for structured secrets (SNMPv3 users): key/value pairs */
	size_t nkv;		/* pairs in keys/vals */
};

/* A YAML map of strings (labels, headers, params). */
struct config_strmap {
	char **keys;	/* owned */
	char **vals;	/* owned */
	size_t n;	/* pairs */
};

/* A free-form map flattened to key/value pairs, with where each came from. */
struct config_kv {
	char **keys;	/* "a.b" paths (owned) */
	char **vals;	/* scalar values (owned) */
	int *lines;	/* 1-based position of each value */
	int *cols;
	size_t n;	/* pairs */
};

/* One probe (probes[]): its keys as written, applied with probe_cfg_set(). */
struct cfg_probe {
	struct config_kv kv;	/* kind, target, ..., icmp.count, http.header, ... */
};

/* One relabel_configs or metric_relabel_configs rule (Prometheus semantics). */
struct cfg_relabel {
	char **source_labels;	/* label names joined with separator */
	size_t nsource;		/* entries in source_labels */
	char *separator;	/* NULL: ";" */
	char *regex;		/* NULL: "(.*)" (fully anchored) */
	char *target_label;	/* for replace */
	char *replacement;	/* NULL: "$1" */
	int action;		/* enum cfg_relabel_action */
	int64_t modulus;	/* for hashmod */
};

enum cfg_relabel_action { RELABEL_REPLACE, RELABEL_KEEP, RELABEL_DROP, RELABEL_LABELDROP, RELABEL_LABELKEEP,
	RELABEL_LABELMAP, RELABEL_HASHMOD };

/* One static_configs entry. */
struct cfg_static {
	char **targets;		/* "host:port" */
	size_t ntargets;	/* entries in targets */
	struct config_strmap labels;	/* labels added to every series of these targets */
};

/* One scrape_configs entry (Prometheus's format, the subset vigil reads). */
struct cfg_scrape {
	char *job_name;			/* job label; unique */
	int64_t interval_ms;		/* scrape_interval */
	int64_t timeout_ms;		/* scrape_timeout (at most the interval) */
	char *metrics_path;		/* NULL: /metrics */
	int scheme;			/* 0 http, 1 https */
	int honor_labels;		/* the target's job/instance win */
	int honor_timestamps;		/* keep timestamps the target sends (default true) */
	struct config_strmap params;	/* URL query parameters */
	struct {
		char *username;		/* basic auth user */
		char *password_secret;	/* secret holding the password */
	} basic_auth;
	char *bearer_token_secret;	/* secret holding a bearer token */
	int64_t body_size_limit;	/* bytes; 0: 16 MiB */
	int64_t sample_limit;		/* samples per scrape; 0: 1,000,000 */
	struct cfg_static *statics;	/* static_configs */
	size_t nstatics;		/* entries in statics */
	struct cfg_relabel *relabel;	/* metric_relabel_configs */
	size_t nrelabel;		/* entries in relabel */
	struct cfg_relabel *target_relabel;	/* relabel_configs (targets, before the scrape) */
	size_t ntarget_relabel;		/* entries in target_relabel */
};

/* One SNMP device (snmp.devices). */
struct cfg_snmp_device {
	char *name;		/* instance label; default: the address */
	char *address;		/* numeric IPv4/IPv6, optional :port ([v6]:port) */
	int version;		/* 0 "1", 1 "2c", 2 "3" */
	char *credential;	/* secret: the community (v1/v2c) or a v3 user map */
	int64_t interval_ms;	/* 0: snmp.interval */
	int64_t timeout_ms;	/* 0: snmp.timeout */
	int64_t retries;	/* -1: snmp.retries */
	int64_t max_inflight;	/* concurrent requests to the device (0: 4) */
	char **profiles;	/* profiles forced on */
	size_t nprofiles;	/* entries in profiles */
	char **exclude;		/* profiles never used */
	size_t nexclude;	/* entries in exclude */
};

struct config {
	char *file;			/* path it was read from, or "(default)" */
	char *text;			/* the YAML text itself (sent to workers) */

	/* global: */
	enum log_level log_level;	/* lowest level logged */
	char *user;			/* unprivileged user workers run as when started as root */
	char *secrets_file;		/* path of the secrets file, or NULL */

	/* web: */
	char *web_listen;		/* "ADDR:PORT" the web worker listens on */

	/* storage: */
	char *storage_path;		/* data directory */
	int64_t retention_ms;		/* drop data older than this */
	int64_t retention_bytes;	/* and keep the store under this many bytes (0: no limit) */
	int64_t wal_fsync_interval_ms;	/* the WAL is fsynced at least this often */
	int64_t out_of_order_window_ms;	/* accept samples this far behind the newest */
	int downsample;			/* 1: build downsampled tiers */
	int64_t downsample_after_ms;	/* tier blocks this much older than the newest sample */
	int64_t downsample_retention_ms;	/* keep tiers past retention_ms until this age (0: no) */

	/* query: */
	int64_t query_timeout_ms;	/* a query is cancelled after this */
	int64_t query_max_samples;	/* samples one query may load */
	int64_t query_lookback_ms;	/* how far back an instant selector looks */

	/* host: */
	int host_enabled;		/* collect this host's metrics */
	int64_t host_interval_ms;	/* collection interval */
	char *host_job;			/* job label of host series (NULL: "node") */
	char *host_instance;		/* instance label (NULL: the host name) */
	char *host_systemd_bus;		/* D-Bus address of the systemd manager (NULL: the system bus) */

	/* scrape_configs: */
	struct cfg_scrape *scrapes;	/* Prometheus/OpenMetrics endpoints to scrape */
	size_t nscrapes;		/* entries in scrapes */

	/* probes: */
	struct cfg_probe *probes;	/* availability and service probes */
	size_t nprobes;			/* entries in probes */

	/* snmp: */
	char *snmp_profiles_dir;		/* device profiles (YAML); relative to where vigil starts */
	int64_t snmp_interval_ms;		/* default poll interval */
	int64_t snmp_timeout_ms;		/* default per-request timeout */
	int64_t snmp_retries;			/* default re-sends per request */
	struct cfg_snmp_device *snmp_devices;	/* devices to poll */
	size_t nsnmp_devices;			/* entries in snmp_devices */

	/* rule_files and alerting: read by the alerting module (alert_config_parse) */
	int rule_files_pos[2];		/* line, col of rule_files (0: absent) */
	int alerting_pos[2];		/* line, col of alerting (0: absent) */

	/* Secrets named by the config, and the secrets file's contents. */
	struct config_secret_ref *refs;	/* references, in file order */
	size_t nrefs;			/* entries in refs */
	struct config_secret *secrets;	/* loaded by config_load_secrets() */
	size_t nsecrets;		/* entries in secrets */
};

/* Rule file the default config evaluates when it exists (relative to where vigil starts). */
#define CONFIG_DEFAULT_RULES "rules/vigil-defaults.yml"

/* The embedded default configuration (what `vigil serve` runs with no -c). */
extern const char config_default_yaml[];

/*
 * Parse YAML text into a new config. name is used in error messages. Return
 * 0 with *out set, or -1 with "NAME:LINE:COL: reason" in err and *out NULL.
 * Secrets are not read here (see config_load_secrets).
 */
int config_parse(const char *name, const char *text, size_t len, struct config **out /* out */,
    char *err, size_t errsz);
/* Read and parse a file (capped at BUF_CAP_CONFIG); errors as config_parse. */
int config_load_file(const char *path, struct config **out /* out */, char *err, size_t errsz);
/* The embedded default. */
int config_load_default(struct config **out /* out */, char *err, size_t errsz);
/*
 * Read c->secrets_file (if any): it must be a regular file not readable or
 * writable by group or others, a YAML map of name -> string or name -> map.
 * Every reference in the config must name an entry. Return 0 or -1 with
 * "FILE: reason" / "CONFIG:LINE:COL: reason" in err.
 */
int config_load_secrets(struct config *c, char *err, size_t errsz);
/* Return the secret called name, or NULL. */
const struct config_secret *config_secret_find(const struct config *c, const char *name);
/* Free a config; NULL is fine. */
void config_free(struct config *c);
/*
 * Append the value of a dotted key ("web.listen", "storage.retention") as
 * text to out. Return 0, or -ENOENT for an unknown key.
 */
int config_get(const struct config *c, const char *key, struct buf *out);
/* Append the reference documentation of every key (Markdown) to out. */
int config_doc(struct buf *out);
/* Split "ADDR:PORT" or "[V6]:PORT" into host and port. 0 or -1 if malformed. */
int config_split_hostport(const char *s, char *host, size_t hostsz, uint16_t *port /* out */);

#endif
