/*
 * probe.h — availability and service probes ("is it up, and how fast does it
 * answer?") run by the poller worker: ICMP echo, TCP connect (optionally TLS,
 * send/expect), HTTP(S), DNS and Nagios plugins, plus Orion-style node status.
 *
 *   struct probe_cfg c = { .module = "icmp", .target = "192.0.2.7",
 *       .kind = PROBE_ICMP, .interval_ms = 10000, .timeout_ms = 2000,
 *       .node = "core-sw1", .icmp = { .count = 3 } };
 *   struct probe_env env = { .icmp4_raw_fd = -1, .icmp6_raw_fd = -1,
 *       .on_change = my_hook, .on_change_ctx = me };
 *   probe_egress_allow(&c, 1);               // once, while building the policy
 *   struct probe_engine *e;
 *   probe_engine_new(loop, &c, 1, sink, &env, &e);
 *   loop_run(loop); ... probe_engine_free(e);
 *
 * Everything runs on the caller's loop (core/loop.h); every packet and
 * connection goes through the egress policy (sandbox/egress.h). Blocking
 * work is limited to resolving target names in probe_engine_new() and
 * probe_egress_allow(). Nagios plugins are fork+exec'd children (the
 * worker's seccomp filter must allow fork, execve, setpgid, kill,
 * pidfd_open, wait4, setgroups/setgid/setuid). An ICMP run sends `count`
 * requests `spacing` apart, so timeout should exceed (count-1)*spacing plus
 * the RTT; a run that times out reports what it got (loss from the rest).
 *
 * Series and labels. Every probe result carries two labels:
 *   instance  the target exactly as configured ("192.0.2.7", "host:443",
 *             "https://host/health", DNS server "127.0.0.1:53")
 *   module    the probe's configured name (cfg.module; default the kind's
 *             name: "icmp", "tcp", "http", "dns", "nagios")
 *   node      cfg.node, when set (joins the results to vigil_node_status{node})
 * so one target probed several ways gives distinct series, and queries and
 * dashboards written for blackbox_exporter (which Prometheus labels with
 * instance, and which names modules) keep working. Names follow
 * blackbox_exporter where it has one:
 *   probe_success, probe_duration_seconds, probe_ip_protocol,
 *   probe_ip_addr_hash (FNV-1a of the address bytes, as blackbox_exporter),
 *   probe_dns_lookup_time_seconds (time spent resolving the target; vigil
 *     resolves once at engine start, so this is that one lookup; for HTTP,
 *     curl's name-lookup phase, near 0 as the name is pinned),
 *   probe_icmp_duration_seconds{phase="rtt"} (mean RTT of the cycle;
 *     phase="resolve" the target lookup, phase="setup" start to first send),
 *   probe_icmp_reply_hop_limit,
 *   probe_http_status_code, probe_http_ssl, probe_http_redirects,
 *   probe_http_content_length, probe_http_version,
 *   probe_http_duration_seconds{phase="resolve|connect|tls|processing|transfer"},
 *   probe_failed_due_to_regex, probe_ssl_earliest_cert_expiry,
 *   probe_tls_version_info{version}, probe_ssl_last_chain_expiry_timestamp_seconds,
 *   probe_ssl_last_chain_info{fingerprint_sha256,issuer,subject,subjectalternative}
 *   (TCP with TLS and HTTPS, from a handshake that completed), probe_dns_answer_rrs,
 *   probe_dns_authority_rrs, probe_dns_additional_rrs,
 *   probe_dns_query_succeeded, probe_dns_serial,
 *   probe_dns_duration_seconds{phase="resolve|connect|request"}.
 * vigil additions (same labels):
 *   probe_icmp_packets_sent, probe_icmp_packets_received,
 *   probe_icmp_packet_loss_ratio (0..1), probe_icmp_rtt_seconds{stat=
 *   "min|avg|max"}, probe_icmp_jitter_seconds (mean absolute difference of
 *   consecutive RTTs), probe_dns_rcode, probe_dns_tcp (1 if the answer came over TCP),
 *   probe_failure_info{reason} 1 when probe_success is 0; reason is one of
 *   timeout, resolve, egress, connect, send, recv, tls, tls_verify,
 *   tls_expired, tls_hostname, status, regex, rcode, malformed, exec.
 *   vigil_nagios_status (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN),
 *   vigil_nagios_perfdata{label,uom} and vigil_nagios_perfdata_{warn,crit,
 *   min,max}{label,uom} when those fields are plain numbers; warn and crit
 *   as Nagios ranges (nagios.h): vigil_nagios_perfdata_{warning,critical}_lt
 *   and _gt (start and end of a range that alerts outside it), or _le and
 *   _ge (an '@' range, alerting inside it); open ends are -Inf/+Inf.
 * Node status (probes with cfg.node set), labels {node}:
 *   vigil_node_status 0 unknown (no result yet), 1 up, 2 warning (a poll
 *     failed; re-polling fast), 3 down (down_after polls failed in a row)
 *   vigil_node_status_changed_timestamp_seconds  when it last changed.
 */
#ifndef VIGIL_PROBE_H
#define VIGIL_PROBE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/loop.h"

#define PROBE_MAX_TARGETS     200000	/* probes in one engine */
#define PROBE_ICMP_MAX_COUNT  64	/* echo requests per target per cycle */
#define PROBE_ICMP_MAX_PAYLOAD 1400	/* echo payload bytes */
#define PROBE_BODY_MAX        (1u << 20)	/* HTTP body / TCP expect bytes kept */
#define PROBE_NAGIOS_OUT_MAX  (64u << 10)	/* plugin output bytes kept */
#define PROBE_HEADERS_MAX     32	/* extra HTTP request headers */
#define PROBE_STATUS_CODES_MAX 16	/* valid HTTP status codes listed */

enum probe_kind {
	PROBE_ICMP,	/* ICMP / ICMPv6 echo */
	PROBE_TCP,	/* TCP connect, optional TLS, optional send/expect */
	PROBE_HTTP,	/* HTTP(S) request through libcurl */
	PROBE_DNS,	/* one DNS query over UDP */
	PROBE_NAGIOS,	/* run a Nagios-compatible plugin */
};

/* Node status values (also the vigil_node_status sample values). */
enum probe_node_status {
	PROBE_NODE_UNKNOWN = 0,	/* no poll finished yet */
	PROBE_NODE_UP = 1,	/* last poll succeeded */
	PROBE_NODE_WARNING = 2,	/* a poll failed, fewer than down_after in a row */
	PROBE_NODE_DOWN = 3,	/* down_after polls failed in a row */
};

struct probe_icmp_opts {
	unsigned count;		/* echo requests per cycle (default 3, max PROBE_ICMP_MAX_COUNT) */
	int64_t spacing_ms;	/* gap between requests to one target (default 100) */
	unsigned payload;	/* payload bytes beyond vigil's 16-byte tag (default 40) */
};

struct probe_tcp_opts {
	const char *send;	/* bytes to send after connecting (NULL: none) */
	const char *expect;	/* PCRE2 the received data must match (NULL: none) */
	int tls;		/* 1: TLS handshake after connect */
	int tls_insecure;	/* 1: do not verify the peer certificate */
	const char *ca_file;	/* PEM CA bundle (NULL: system default) */
	const char *server_name;	/* SNI and name to verify (NULL: target host) */
};

struct probe_http_opts {
	const char *method;	/* "GET" when NULL */
	const char *headers[PROBE_HEADERS_MAX];	/* "Name: value" lines, NULL-terminated */
	const char *body;	/* request body (NULL: none) */
	int valid_status[PROBE_STATUS_CODES_MAX];	/* accepted codes, 0-terminated; none: 2xx */
	const char *body_regex;	/* PCRE2 the body must match (NULL: none) */
	const char *body_not_regex;	/* PCRE2 the body must not match (NULL: none) */
	int no_follow;		/* 1: do not follow redirects */
	int tls_insecure;	/* 1: skip certificate and host name checks */
	const char *ca_file;	/* PEM CA bundle (NULL: system default) */
	const char *cert_file;	/* client certificate, PEM (NULL: none) */
	const char *key_file;	/* client key, PEM (NULL: none) */
};

struct probe_dns_opts {
	const char *query_name;	/* name to ask about ("example.com") */
	uint16_t qtype;		/* DNS_T_* from probe/dns.h; 0 means A */
	int rcode;		/* expected rcode (0 NOERROR, 3 NXDOMAIN, ...) */
	const char *answer_regex;	/* PCRE2 some answer RR (text form) must match */
	int no_recursion;	/* 1: clear the RD bit */
	int tcp;		/* 1: query over TCP (UDP replies with TC set switch to TCP anyway) */
};

struct probe_nagios_opts {
	const char *const *argv;	/* plugin path and arguments, NULL-terminated */
	uid_t uid;		/* run as this uid when drop_privs is 1 */
	gid_t gid;		/* run as this gid when drop_privs is 1 */
	int drop_privs;		/* 1: setgid/setuid before exec */
};

struct probe_cfg {
	const char *module;	/* module label; NULL: the kind's name */
	const char *target;	/* instance label and where to probe (see above) */
	enum probe_kind kind;	/* which prober */
	int64_t interval_ms;	/* how often (default 10000) */
	int64_t timeout_ms;	/* per run; clamped to interval (default 5000) */
	int ip_version;		/* 4 or 6: only that family when resolving a name; 0 any */
	const char *node;	/* node whose status this probe drives (NULL: none) */
	unsigned down_after;	/* failed polls in a row that make a node down (default 3) */
	int64_t retry_interval_ms;	/* poll interval while warning (default 2000) */
	struct probe_icmp_opts icmp;	/* PROBE_ICMP options */
	struct probe_tcp_opts tcp;	/* PROBE_TCP options */
	struct probe_http_opts http;	/* PROBE_HTTP options */
	struct probe_dns_opts dns;	/* PROBE_DNS options */
	struct probe_nagios_opts nagios;	/* PROBE_NAGIOS options */
	void *owned;		/* strings probe_cfg_set() copied (NULL: none) */
};

/*
 * Set one field of c from text, the way the config file spells it:
 *   kind (icmp|tcp|http|dns|nagios), module, target, node, interval,
 *   timeout, retry_interval (durations: "10s", "500ms"), down_after,
 *   ip_version (4|6), icmp.count, icmp.spacing, icmp.payload,
 *   tcp.send, tcp.expect, tcp.tls, tcp.insecure_skip_verify, tcp.ca_file,
 *   tcp.server_name, http.method, http.header ("Name: value", repeatable),
 *   http.body, http.valid_status (repeatable), http.body_regex,
 *   http.body_not_regex, http.follow_redirects, http.insecure_skip_verify,
 *   http.ca_file, http.cert_file, http.key_file, dns.query_name,
 *   dns.query_type, dns.rcode (NOERROR|NXDOMAIN|...|0-15), dns.answer_regex,
 *   dns.recursion_desired, dns.transport (udp|tcp), nagios.command (repeatable: path then each
 *   argument), nagios.uid, nagios.gid.
 * Strings are copied (freed by probe_cfg_release). Start from a zeroed cfg.
 * Return 0, or -EINVAL with "key: reason" in err (errsz bytes) for the
 * caller to prefix with file:line:col.
 */
int probe_cfg_set(struct probe_cfg *c, const char *key, const char *value, char *err,
    size_t errsz);
/* Free what probe_cfg_set copied into c (not c itself); c may be NULL. */
void probe_cfg_release(struct probe_cfg *c);

/* Called when a node's status changes (old and new are probe_node_status). */
typedef void (*probe_status_cb)(void *ctx, const char *node, int old_status,
    int new_status, int64_t ts_ms);

struct probe_env {
	int icmp4_raw_fd;	/* raw IPPROTO_ICMP socket opened by the parent, or -1 */
	int icmp6_raw_fd;	/* raw IPPROTO_ICMPV6 socket opened by the parent, or -1 */
	probe_status_cb on_change;	/* node status hook (NULL: none) */
	void *on_change_ctx;	/* its argument */
	int oneshot;		/* 1: run each probe once, then stop the loop when all are done */
	int icmp_force_raw;	/* 1: use the raw fds even where ping sockets work (tests) */
};

struct probe_engine;

/*
 * Make an engine that runs the n probes on loop and hands every result to
 * sink. cfg (and every string and array it points to) is borrowed and must
 * outlive the engine. Target names are resolved here, once, blocking.
 * ICMP uses unprivileged ping sockets when the kernel allows
 * (net.ipv4.ping_group_range), else the raw fds in env. The engine owns the
 * env fds from here on and closes them (pass dup()s when the worker keeps
 * the originals for the engine it makes after a config reload). Return 0 and *out, or -EINVAL with a one-line
 * error logged naming the probe and field, or another -errno.
 */
int probe_engine_new(struct loop *loop, const struct probe_cfg *cfg, size_t n,
    struct sample_sink sink, const struct probe_env *env, struct probe_engine **out /* out */);
/* Stop every probe, close sockets, kill running plugins; e may be NULL. */
void probe_engine_free(struct probe_engine *e);
/* Emit the current node status series to the engine's sink now. */
void probe_engine_emit_status(struct probe_engine *e);
/* A node's status (PROBE_NODE_*) and when it changed (wall ms; may be NULL),
 * PROBE_NODE_UNKNOWN for a node no probe names. */
int probe_engine_node_status(const struct probe_engine *e, const char *node,
    int64_t *changed_ms /* out */);
/* Carry a node's state into a new engine (after a config reload) so no
 * change event fires for what did not change. Call before the loop runs it;
 * status is PROBE_NODE_*, changed_ms wall ms. */
void probe_engine_seed_status(struct probe_engine *e, const char *node, int status,
    int64_t changed_ms);

/*
 * Add egress rules for the probes' destinations (ICMP to the address, TCP
 * and HTTP to host:port, UDP to the DNS server). Names are resolved here
 * (blocking). Call while building the policy. Return 0 or -EINVAL (logged).
 */
int probe_egress_allow(const struct probe_cfg *cfg, size_t n);

/* Append vigil_probe_* self metrics (Prometheus text) to b; 0 or -E2BIG. */
int probe_metrics_text(struct buf *b);

/* Parse "icmp", "tcp", "http", "dns", "nagios"; return 0 or -EINVAL. */
int probe_kind_parse(const char *s, enum probe_kind *out /* out */);
/* The kind's name. */
const char *probe_kind_name(enum probe_kind k);

/*
 * `vigil probe KIND TARGET [options]`: run one probe once and print its
 * samples in Prometheus text form to stdout. Return a process exit code
 * (0 probe succeeded, 1 probe failed, 2 usage error). argv[0] is "probe".
 */
int probe_cli_main(int argc, char **argv);

#endif
