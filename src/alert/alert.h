/*
 * alert.h — vigil's alerting: Prometheus rule files, alert state, the JSON
 * the HTTP API serves, and the notification queue the notifier worker drains.
 *
 * The pieces, in the order data flows through them:
 *
 *   rules.c     rule files (Prometheus's YAML format) -> struct rule_set
 *   template.c  the Go text/template subset annotations and labels use
 *   template_query.c  its functions that run PromQL (query, first, ...)
 *   state.c     rule evaluation against a query callback, alert state
 *               (inactive/pending/firing), ALERTS series, save/restore
 *   evaltime.c  when a group runs: Prometheus's per-group slot
 *   runtime.c   what the store worker calls: rule_files, tick, state file
 *   api.c       /api/v1/rules, /api/v1/alerts JSON, the MSG_ALERTS payload
 *   json.c      a small capped JSON reader (MSG_ALERTS, notify-test input)
 *   notify.c    the durable notification queue (SQLite) and delivery
 *               (Alertmanager API v2, webhook, SMTP) over libcurl's multi
 *               interface on core/loop.h; de-duplication, escalation
 *   notify_fmt.c  the bodies sent: Alertmanager, webhook JSON, email
 *   maint.c     maintenance windows (matchers, one-off and weekly)
 *   ops.c       operator actions: silences, acknowledgements, API
 *               maintenance windows (SQLite alerting.db), their matching
 *               and the marks put on MSG_ALERTS alerts
 *   opsapi.c    /api/alerting/... (alerts with operator state, ack,
 *               silences, maintenance) for the store worker
 *   config.c    the `rule_files:` and `alerting:` config sections
 *   cli.c       receivers' egress rules, `vigil notify-test`
 *               (`vigil check rules` is rules_cli_main in rules.c)
 *
 * The PromQL engine is not part of this module: rule evaluation asks an
 * alert_query_fn for an instant vector, and rule loading may ask an
 * alert_expr_check_fn whether an expression parses.
 *
 *   struct rule_set *rs = rule_set_new();
 *   if (rules_load_file(rs, "rules.yml", NULL, NULL, err, sizeof err) < 0) ...
 *   struct alert_engine *e = alert_engine_new(rs, &opts);   // takes rs
 *   alert_engine_eval_due(e, now_ms, query, qctx, sink, &notifications);
 * or, in the store worker, all of it at once: alert_runtime_new / _tick.
 */
#ifndef VIGIL_ALERT_H
#define VIGIL_ALERT_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/hmap.h"
#include "core/labels.h"

#define ALERT_ERR_MAX          512		/* size of an error message buffer */
#define RULES_FILE_MAX_BYTES   (8u << 20)	/* one rule file */
#define RULES_MAX_GROUPS       10000		/* groups in a rule set */
#define RULES_MAX_PER_GROUP    10000		/* rules in one group */
#define RULES_MAX_KV           256		/* labels or annotations on one rule */
#define TEMPLATE_MAX_BYTES     (64u << 10)	/* one template's source */
#define TEMPLATE_MAX_OUTPUT    (256u << 10)	/* one expanded template */
#define TEMPLATE_MAX_DEPTH     32		/* nesting of if blocks / parentheses */
#define ALERT_MAX_PER_RULE     100000		/* active alerts one rule may hold */
#define ALERT_MSG_MAX          (16u << 20)	/* one MSG_ALERTS payload (the cap in core/ipc.c) */
#define ALERT_RESOLVED_RETENTION_MS (15 * 60 * 1000)	/* resolved alerts kept (Prometheus) */

/* ---- instant vectors: what a query returns ---- */

struct alert_sample {
	struct labels *ls;	/* series labels (owned), may include __name__ */
	double v;		/* sample value */
};

struct alert_vector {
	struct alert_sample *v;	/* elements */
	size_t n;		/* elements used */
	size_t cap;		/* slots allocated */
};

/* Append a copy of (ls, v). */
void alert_vector_add(struct alert_vector *vec, const struct labels *ls, double v);
/* Free the elements but keep the vector usable (n = 0). */
void alert_vector_reset(struct alert_vector *vec);
/* Free everything; vec may be NULL. */
void alert_vector_free(struct alert_vector *vec);

/*
 * Evaluate expr as an instant query at ts_ms and append the result to out.
 * Return 0, or -1 with a reason in err (the rule's health becomes "err").
 * A scalar result is one element with an empty label set.
 */
typedef int (*alert_query_fn)(void *ctx, const char *expr, int64_t ts_ms,
    struct alert_vector *out, char *err, size_t errsz);
/* Check that expr parses; 0, or -1 with a reason in err. */
typedef int (*alert_expr_check_fn)(void *ctx, const char *expr, char *err, size_t errsz);
/* Append expr in PromQL's canonical form (what Prometheus shows as a rule's
 * "query" and puts in generatorURL); 0, or -1 to use expr as written. */
typedef int (*alert_expr_format_fn)(void *ctx, const char *expr, struct buf *out);

/* ---- templates (template.c) ---- */

struct template;	/* a compiled template */

/* What a template can see: {{ $labels }}, {{ $value }}, {{ $externalLabels }}, ... */
struct template_data {
	const struct labels *labels;		/* $labels / .Labels (may be NULL: empty) */
	double value;				/* $value / .Value */
	const struct labels *external_labels;	/* $externalLabels / .ExternalLabels (may be NULL) */
	const char *external_url;		/* $externalURL / .ExternalURL (may be NULL) */
	alert_query_fn query;			/* runs {{ query "..." }} (NULL: query fails) */
	void *query_ctx;			/* its context */
	int64_t ts_ms;				/* evaluation time the queries run at */
};

/*
 * Compile template source text (n bytes). Return 0 with *out set (NULL when
 * the text has no actions, so it expands to itself), or -1 with a reason in
 * err ("1:12: unknown function \"foo\"") and *out NULL.
 */
int template_compile(const char *text, size_t n, struct template **out /* out */,
    char *err, size_t errsz);
/*
 * Expand t (or the plain text src when t is NULL) with d, appending to out.
 * Return 0, or -1 with a reason in err (out holds what was expanded so far).
 */
int template_expand(const struct template *t, const char *src, const struct template_data *d,
    struct buf *out, char *err, size_t errsz);
/* Free a compiled template; NULL is fine. */
void template_free(struct template *t);
/* Go's and Prometheus's number formatting used by templates (also by tests). */
void template_humanize(double v, char *out, size_t outsz);
void template_humanize_duration(double v, char *out, size_t outsz);
void template_humanize_percentage(double v, char *out, size_t outsz);

/* ---- rules (rules.c) ---- */

/* A label or annotation: name, template source and its compiled form. */
struct rule_kv {
	char *name;		/* label/annotation name */
	char *text;		/* template source (also the value when tmpl is NULL) */
	struct template *tmpl;	/* compiled, or NULL if text has no actions */
};

enum rule_type { RULE_ALERTING, RULE_RECORDING };

struct rule {
	enum rule_type type;		/* alerting or recording */
	char *name;			/* alert name or recorded metric name */
	char *expr;			/* PromQL expression */
	int64_t for_ms;			/* `for`: pending time before firing */
	int64_t keep_firing_for_ms;	/* `keep_firing_for` */
	struct rule_kv *labels;		/* `labels`, sorted by name */
	size_t nlabels;			/* entries in labels */
	struct rule_kv *annotations;	/* `annotations`, sorted by name */
	size_t nannotations;		/* entries in annotations */
	int line;			/* where the rule starts in its file (1-based) */
};

struct rule_group {
	char *name;		/* group name, unique within its file */
	char *file;		/* the file it came from */
	int64_t interval_ms;	/* evaluation interval; 0: the global default */
	int64_t limit;		/* most alerts/series per rule (0: none) */
	struct rule *rules;	/* rules in file order */
	size_t nrules;		/* entries in rules */
};

struct rule_set {
	struct rule_group *groups;	/* groups in load order */
	size_t ngroups;			/* entries in groups */
	size_t cap;			/* slots allocated */
};

/* Make an empty rule set (rules_parse / rules_load_file fill it). */
struct rule_set *rule_set_new(void);
/* Free a rule set; NULL is fine. */
void rule_set_free(struct rule_set *rs);
/* Count the rules in every group. */
size_t rule_set_count(const struct rule_set *rs);
/*
 * Parse a rule file's text (len bytes, name for messages) and append its
 * groups to rs. check (may be NULL) is asked about each expr. Return 0, or
 * -1 with "NAME:LINE:COL: reason" in err and rs unchanged.
 */
int rules_parse(struct rule_set *rs, const char *name, const char *text, size_t len,
    alert_expr_check_fn check, void *check_ctx, char *err, size_t errsz);
/* Read a file (capped at RULES_FILE_MAX_BYTES) and rules_parse it. */
int rules_load_file(struct rule_set *rs, const char *path, alert_expr_check_fn check,
    void *check_ctx, char *err, size_t errsz);
/*
 * `vigil check rules FILE...` (argv[0] is "rules"). Prints "FILE: N rules
 * found" per good file and "FILE:LINE:COL: reason" (stderr) per bad or
 * unreadable one; returns 0 if every file passed, else 2.
 * rules_cli_set_checker sets the expr checker it uses (the PromQL parser).
 */
int rules_cli_main(int argc, char **argv);
void rules_cli_set_checker(alert_expr_check_fn check, void *ctx);

/* ---- alert state and evaluation (state.c) ---- */

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };

struct alert {
	struct labels *labels;		/* alert labels incl. alertname (owned) */
	struct labels *annotations;	/* expanded annotations (owned) */
	uint64_t hash;			/* labels_hash(labels) */
	enum alert_state state;		/* current state */
	double value;			/* value of the last evaluation that matched */
	int64_t active_at_ms;		/* when it became pending */
	int64_t fired_at_ms;		/* when it started firing (0: never) */
	int64_t resolved_at_ms;		/* when it resolved (0: not resolved) */
	int64_t last_sent_ms;		/* last handed to the notifier (0: never) */
	int64_t valid_until_ms;		/* endsAt sent while firing */
	int64_t keep_firing_since_ms;	/* when the expr stopped matching while firing (0: matching) */
	int64_t last_match_ms;		/* last evaluation whose result had this alert */
};

/* Per-rule state the engine keeps. */
struct rule_state {
	const struct rule *rule;	/* the rule (in the engine's rule set) */
	const struct rule_group *group;	/* its group */
	char *query;			/* the expr in canonical form, or as written (owned) */
	struct hmap active;		/* labels hash (8 bytes) -> struct alert * (alerting rules) */
	struct hmap prev;		/* labels hash -> struct labels * written last evaluation */
	int healthy;			/* last evaluation succeeded (or never ran: -1) */
	char last_error[ALERT_ERR_MAX];	/* its error, if any */
	int64_t last_eval_ms;		/* wall time of the last evaluation (0: never) */
	double eval_seconds;		/* how long it took */
};

struct group_state {
	const struct rule_group *group;	/* the group */
	int64_t interval_ms;		/* effective interval */
	int64_t next_eval_ms;		/* next evaluation time (0: at the next tick) */
	int64_t last_eval_ms;		/* last evaluation time (0: never) */
	double eval_seconds;		/* how long the last one took */
	struct rule_state *rules;	/* one per rule */
};

struct alert_engine_opts {
	int64_t default_interval_ms;		/* groups without `interval` (default 1m) */
	int64_t resend_delay_ms;		/* resend firing alerts this often (default 1m) */
	const struct labels *external_labels;	/* added to notifications (may be NULL) */
	const char *external_url;		/* generatorURL base, e.g. "http://host:9920" */
	alert_expr_format_fn format_expr;	/* canonical PromQL printer (may be NULL) */
	void *format_ctx;			/* its context */
};

struct alert_engine {
	struct rule_set *rules;			/* owned */
	struct group_state *groups;		/* one per group */
	size_t ngroups;				/* entries in groups */
	struct alert_engine_opts opts;		/* copied; strings and labels owned */
	uint64_t evaluations;			/* rule evaluations run */
	uint64_t eval_failures;			/* of which failed */
	const struct alert_ops *ops;		/* operator actions marked on notifications (NULL: none; not owned) */
	int64_t eval_ms;			/* time of the evaluation in progress (for ops) */
};

/* Make an engine that owns rs (NULL opts: defaults). */
struct alert_engine *alert_engine_new(struct rule_set *rs, const struct alert_engine_opts *opts);
/* Free the engine, its rules and every alert; NULL is fine. */
void alert_engine_free(struct alert_engine *e);
/*
 * Evaluate group gi at ts_ms: run every rule through query, update alert
 * state, write recording-rule series and ALERTS / ALERTS_FOR_STATE (and
 * staleness markers for series that went away) to sink, and append alerts
 * that need sending to notify (Alertmanager API v2 JSON array elements,
 * see alert_notify_json), comma-separated: the caller wraps them in [ ].
 * Return the number of rules that failed.
 */
int alert_engine_eval_group(struct alert_engine *e, size_t gi, int64_t ts_ms,
    alert_query_fn query, void *qctx, const struct sample_sink *sink, struct buf *notify);
/* Evaluate every group whose time has come; returns failed rules. */
int alert_engine_eval_due(struct alert_engine *e, int64_t now_ms, alert_query_fn query,
    void *qctx, const struct sample_sink *sink, struct buf *notify);
/*
 * Serialize every active alert (binary, versioned) to out, so the store can
 * persist it; alert_engine_restore puts matching alerts (same group, rule
 * and labels) back. Return 0 / -E2BIG; restore returns 0 or -EBADMSG.
 */
int alert_engine_save(const struct alert_engine *e, struct buf *out);
int alert_engine_restore(struct alert_engine *e, const void *p, size_t n);
/*
 * Prometheus's evaluation slot for group g (evaltime.c): the latest
 * base + offset <= now_ms, base a multiple of interval_ms, offset =
 * XXH64("file\xffFILE\xffname\xffNAME\xff") % interval (in ns), in ms.
 */
int64_t alert_group_eval_ts(const struct rule_group *g, int64_t interval_ms, int64_t now_ms);
/* Prometheus's group hash (labels.Hash of {file, name}). */
uint64_t alert_group_hash(const char *file, const char *name);
/* XXH64 of n bytes with seed. */
uint64_t alert_xxhash64(const void *data, size_t n, uint64_t seed);
/* "inactive", "pending" or "firing". */
const char *alert_state_name(enum alert_state s);

/* ---- JSON (api.c) ---- */

/* /api/v1/rules body ({"status":"success","data":{"groups":[...]}}).
 * type: NULL, "alert" or "record" (the ?type= filter). 0 or -E2BIG. */
int alert_api_rules(const struct alert_engine *e, const char *type, struct buf *out);
/* /api/v1/alerts body. 0 or -E2BIG. */
int alert_api_alerts(const struct alert_engine *e, struct buf *out);
/* Append one alert as an Alertmanager API v2 object (labels incl. external
 * labels, annotations, startsAt, endsAt, generatorURL). 0 or -E2BIG. */
int alert_notify_json(const struct alert_engine *e, const char *query,
    const struct alert *a, struct buf *out);
/* The labels an alert with labels ls is notified with: ls plus the external
 * labels it does not have. The caller frees the result. */
struct labels *alert_notify_labels(const struct alert_engine *e, const struct labels *ls);
/* Append t (ms since epoch) as RFC 3339 with milliseconds, UTC, unquoted. */
int alert_time_rfc3339(int64_t ms, struct buf *out);
/* Append labels as a JSON object ({"a":"b"}). */
int alert_labels_json(const struct labels *ls, struct buf *out);

/* ---- config (config.c) ---- */

#define ALERT_MAX_RECEIVERS 64		/* receivers + alertmanagers */
#define ALERT_MAX_RULE_FILES 256	/* entries in rule_files */
#define ALERT_MAX_EMAIL_TO 32		/* recipients of one email receiver */

enum receiver_kind { RECV_ALERTMANAGER, RECV_WEBHOOK, RECV_EMAIL };

struct receiver_config {
	enum receiver_kind kind;	/* how to deliver */
	char *name;			/* receiver name (metrics label) */
	char *url;			/* Alertmanager base URL / webhook URL / smtp://HOST:PORT */
	int64_t timeout_ms;		/* per delivery attempt */
	char *from;			/* email: envelope and header From */
	char **to;			/* email: recipients */
	size_t nto;			/* entries in to */
	int starttls;			/* email: 1 = require STARTTLS */
	char *username;			/* email: SMTP AUTH user (NULL: none) */
	char *password_secret;		/* email: secret name holding the password */
	char *password;			/* filled from the secrets by the notifier (owned) */
	char *bearer_secret;		/* webhook: secret name for an Authorization bearer token */
	char *bearer;			/* filled from the secrets (owned) */
	char *ca_file;			/* PEM CA bundle to verify the server with (NULL: system) */
	char *resolve_pin;		/* "HOST:PORT:ADDR,..." from notify_allow_receivers (NULL: numeric host) */
	int64_t repeat_interval_ms;	/* webhook/email: re-announce a still-firing alert after this */
	int64_t escalate_after_ms;	/* webhook/email: only alerts firing at least this long (0: all) */
};

#define ALERT_MAX_WINDOWS 256	/* maintenance windows */
#define ALERT_MAX_MATCHERS 16	/* matchers of one window */

struct matcher;

/* A maintenance window: notifications for matching alerts are not sent while it is active. */
struct maint_window {
	char *name;			/* window name (metrics label) */
	struct matcher *m;		/* label matchers, all must match (tsdb/storage.h) */
	size_t nm;			/* entries in m (0: every alert) */
	int64_t start_ms, end_ms;	/* one-off window [start, end) in ms since the epoch, or 0 */
	unsigned weekdays;		/* weekly window: bit 0 Sunday .. bit 6 Saturday (0: one-off) */
	int from_min, to_min;		/* weekly: minutes of the UTC day; to < from crosses midnight */
};

struct alert_config {
	char **rule_files;		/* paths or globs from `rule_files:` */
	size_t nrule_files;		/* entries in rule_files */
	int64_t evaluation_interval_ms;	/* alerting.evaluation_interval */
	int64_t resend_delay_ms;	/* alerting.resend_delay */
	char *external_url;		/* alerting.external_url (NULL: none) */
	struct labels *external_labels;	/* alerting.external_labels (NULL: none) */
	struct receiver_config *receivers;	/* alertmanagers first, then receivers */
	size_t nreceivers;		/* entries in receivers */
	int64_t queue_max_age_ms;	/* give up on a notification after this */
	int64_t queue_max_backoff_ms;	/* longest wait between retries */
	int64_t queue_min_backoff_ms;	/* first retry after this */
	int64_t queue_max_length;	/* notifications held at most (oldest dropped) */
	struct maint_window *windows;	/* alerting.maintenance */
	size_t nwindows;		/* entries in windows */
};

/*
 * Read the `rule_files:` and `alerting:` sections from a vigil config
 * (YAML text; other top-level keys are ignored). Defaults fill what is
 * absent. Return 0, or -1 with "NAME:LINE:COL: reason" in err.
 */
int alert_config_parse(const char *name, const char *text, size_t len,
    struct alert_config *out /* out */, char *err, size_t errsz);
/* Free what alert_config_parse filled in (c itself is the caller's); zeroes c. */
void alert_config_free(struct alert_config *c);

/* ---- maintenance windows (maint.c) ---- */

/* Parse a matcher written as in PromQL: name="v", name!="v", name=~"re", name!~"re".
 * 0, or -1 with a reason in err. */
int maint_parse_matcher(const char *s, struct matcher *out /* out */, char *err, size_t errsz);
/* Return 1 if w is active at now_ms. */
int maint_active(const struct maint_window *w, int64_t now_ms);
/* Return 1 if every matcher of w matches ls. */
int maint_matches(const struct maint_window *w, const struct labels *ls);
/* Free a window's contents. */
void maint_window_clear(struct maint_window *w);

/* ---- the store worker's view (runtime.c) ---- */

struct alert_runtime;

/*
 * Read `rule_files:` and `alerting:` from the config text, load every rule
 * file (globs allowed; relative paths are relative to the config file's
 * directory; check is the PromQL syntax check and format its canonical
 * printer, both may be NULL and get cctx) and make an
 * engine. If state_path (may be NULL) names a file saved earlier, its alerts
 * are restored. Return 0, or -1 with "FILE:LINE:COL: reason" in err.
 * On reload: make the new runtime with the same state_path after
 * alert_runtime_save on the old one, then free the old one.
 */
int alert_runtime_new(const char *cfg_name, const char *cfg_text, size_t len, alert_expr_check_fn check,
    alert_expr_format_fn format, void *cctx, const char *state_path, struct alert_runtime **out /* out */,
    char *err, size_t errsz);
/*
 * Evaluate what is due at now_ms (call about once a second). Samples go to
 * sink; if alerts need sending, msg gets the whole MSG_ALERTS payload (a JSON
 * array) — send it to the notifier when msg->len > 0. State is saved after
 * every evaluation. Returns the number of rules that failed.
 */
int alert_runtime_tick(struct alert_runtime *rt, int64_t now_ms, alert_query_fn q, void *qctx,
    const struct sample_sink *sink, struct buf *msg);
/* Write the state file now (atomically: temp file, fsync, rename). 0 or -errno. */
int alert_runtime_save(struct alert_runtime *rt);
/* The engine, for alert_api_rules / alert_api_alerts. */
struct alert_engine *alert_runtime_engine(const struct alert_runtime *rt);
/* The alerting section in force. */
const struct alert_config *alert_runtime_config(const struct alert_runtime *rt);
/* Save (if anything changed) and free; NULL is fine. */
void alert_runtime_free(struct alert_runtime *rt);

/* ---- notification delivery (notify.c) ---- */

#define NOTIFY_BATCH_MAX     64		/* notifications in one request to one receiver */
#define NOTIFY_RESPONSE_MAX  (64u << 10)	/* response bytes kept for error messages */

struct loop;
struct notifier;

/*
 * Open (creating if needed) the durable queue at db_path (SQLite) and make a
 * notifier that delivers on loop l with libcurl's multi interface. Nothing
 * is sent until notifier_configure. Return 0, or -1 with a reason in err.
 */
int notifier_open(struct loop *l, const char *db_path, struct notifier **out /* out */,
    char *err, size_t errsz);
/*
 * Use the receivers of c from now on; takes over c's contents (c is zeroed).
 * Requests in flight are abandoned and their notifications stay queued, so
 * they are sent again (at-least-once). Queued rows for receivers no longer
 * configured wait until they expire.
 */
void notifier_configure(struct notifier *n, struct alert_config *c);
/*
 * Accept a MSG_ALERTS payload: a JSON array of Alertmanager API v2 alerts
 * ({labels, annotations, startsAt, endsAt, generatorURL}). One queue row per
 * alert and receiver is committed (fsynced) before this returns. Return the
 * rows added, or -1 with a reason in err (nothing is queued).
 */
int notifier_accept(struct notifier *n, const char *json, size_t len, char *err, size_t errsz);
/* Notifications waiting (queued rows, including ones being sent). */
int64_t notifier_queue_length(const struct notifier *n);
/* Requests in flight. */
int notifier_in_flight(const struct notifier *n);
/* Append vigil_notifications_* families (exposition text). 0 or -E2BIG. */
int notifier_metrics(const struct notifier *n, struct buf *out);
/* Abandon requests in flight (they stay queued), close the queue. NULL is fine. */
void notifier_close(struct notifier *n);
/*
 * Add egress rules for every receiver of c (the URL's host resolved now,
 * its port, TCP), and pin each host name to those addresses (resolve_pin),
 * so delivery never resolves a name itself and can only reach what the
 * policy allows. Return 0, or -1 with "receiver NAME: reason" in err.
 */
int notify_allow_receivers(struct alert_config *c, char *err, size_t errsz);
/*
 * `vigil notify-test -c CONFIG --db FILE [--alerts FILE.json] [--timeout S]`
 * (argv[0] is "notify-test"): enqueue the alerts of FILE.json (if given) and
 * deliver until the queue is empty (exit 0) or the timeout passes (exit 1).
 */
int notify_cli_main(int argc, char **argv);

/* ---- operator actions: acknowledgements, silences, maintenance windows (ops.c, opsapi.c) ---- */

#define ALERT_OPS_MAX_SILENCES 10000	/* silences held (expired ones included) */
#define ALERT_OPS_MAX_ACKS     100000	/* acknowledgements held */
#define ALERT_OPS_MAX_WINDOWS  1000	/* maintenance windows created through the API */
#define ALERT_OPS_TEXT_MAX     1024	/* bytes of a comment, createdBy, name, node or group */
#define ALERT_OPS_BODY_MAX     (64u << 10)	/* one request body */
#define ALERT_OPS_SILENCE_KEEP_MS (5 * 86400000LL)	/* expired silences kept (Alertmanager's default) */
#define ALERT_OPS_ID_LEN       36	/* a UUID: 8-4-4-4-12 hex digits */
#define ALERT_OPS_DB           "alerting.db"	/* the store's file, beside the alert state file */

/* A silence, as Alertmanager's API v2 has it: no notification for the alerts
 * its matchers select while now is in [starts, ends). */
struct alert_silence {
	char id[ALERT_OPS_ID_LEN + 1];	/* UUID */
	struct matcher *m;		/* matchers, all must match (tsdb/storage.h) */
	size_t nm;			/* entries in m (at least 1) */
	int64_t starts_ms, ends_ms;	/* active in [starts, ends), ms since the epoch */
	int64_t updated_ms;		/* last created, changed or expired */
	char *created_by;		/* who made it */
	char *comment;			/* why */
};

/* An acknowledgement: one alert (by fingerprint) in one episode (activeAt). */
struct alert_ack {
	uint64_t fp;			/* the alert's fingerprint (alert_fingerprint) */
	int64_t active_at_ms;		/* the alert's activeAt when acknowledged */
	struct labels *labels;		/* its labels as notified (owned) */
	char *by;			/* who acknowledged it */
	char *comment;			/* their comment (may be "") */
	int64_t at_ms;			/* when */
};

/* A maintenance window created through the API. */
struct alert_ops_window {
	char id[ALERT_OPS_ID_LEN + 1];	/* UUID */
	char *name;			/* window name (metrics label) */
	char *node;			/* node it covers ("" none): node= or instance= NODE[:port] */
	char *group;			/* group it covers ("" none): the group label */
	struct matcher *m;		/* further matchers, all must match */
	size_t nm;			/* entries in m */
	int64_t starts_ms, ends_ms;	/* in force in [starts, ends) (ends INT64_MAX: until deleted) */
	unsigned weekdays;		/* weekly: bit 0 Sunday .. bit 6 Saturday (0: one-off [starts, ends)) */
	int from_min, to_min;		/* weekly: minutes of the UTC day; to < from crosses midnight */
	char *created_by;		/* who made it */
	char *comment;			/* why */
};

struct alert_ops;	/* the store of all three, persisted in SQLite */

/*
 * Open (creating if needed) the operator-action store at db_path (SQLite;
 * NULL: in memory only) and load what it holds. A damaged file is moved
 * aside (".corrupt-MS") and an empty store starts. 0, or -1 with a reason
 * in err.
 */
int alert_ops_open(const char *db_path, struct alert_ops **out /* out */, char *err, size_t errsz);
/* Close the store; NULL is fine. */
void alert_ops_close(struct alert_ops *o);
/* Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted names and values). */
uint64_t alert_fingerprint(const struct labels *ls);
/* Silences that select ls and are active at now_ms: up to max ids into ids
 * (pointers into the store, valid until it changes). Returns how many matched. */
size_t alert_ops_silenced_by(const struct alert_ops *o, const struct labels *ls, int64_t now_ms,
    const char **ids /* out */, size_t max);
/* The acknowledgement of (fp, active_at_ms), or NULL. */
const struct alert_ack *alert_ops_ack_find(const struct alert_ops *o, uint64_t fp, int64_t active_at_ms);
/* The first API maintenance window active at now_ms that selects ls, or NULL. */
const struct alert_ops_window *alert_ops_window_hit(const struct alert_ops *o, const struct labels *ls,
    int64_t now_ms);
/* Return 1 if w is in force at now_ms (its bounds and, if weekly, its days and hours). */
int alert_ops_window_active(const struct alert_ops_window *w, int64_t now_ms);
/* Return 1 if w selects ls (node, group and matchers), ignoring time. */
int alert_ops_window_matches(const struct alert_ops_window *w, const struct labels *ls);
/*
 * Append `,"vigil":{...}` to a MSG_ALERTS alert object being written (before
 * its closing brace) when an operator action covers it at now_ms:
 * "silencedBy":[ids], "acknowledged":true, "maintenance":"window name".
 * Nothing is appended when none does. 0 or -E2BIG.
 */
int alert_ops_mark(const struct alert_ops *o, const struct labels *ls, uint64_t fp, int64_t active_at_ms,
    int64_t now_ms, struct buf *out);

/*
 * Answer an /api/alerting/... request (docs/ALERTING.md): path is the whole
 * path ("/api/alerting/silences"), user the authenticated principal (the web
 * worker checked the role), body the request body (JSON). rt may be NULL
 * (alerting not configured: lists are empty, changes are refused). Fills
 * out with JSON and returns the HTTP status.
 */
int alert_ops_http(struct alert_runtime *rt, const char *method, const char *path, const char *user,
    const char *body, size_t body_len, int64_t now_ms, struct buf *out);
/* End acknowledgements whose alert is gone or is in a new episode (the
 * runtime calls this after evaluations). */
void alert_ops_gc_acks(struct alert_runtime *rt);
/* The runtime's operator-action store (NULL if it has none). */
struct alert_ops *alert_runtime_ops(const struct alert_runtime *rt);

#endif
