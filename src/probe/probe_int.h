/*
 * probe_int.h — private to src/probe: how the engine and the probers talk.
 *
 * The engine starts a `struct probe_run` for a target; the prober does its
 * work asynchronously on the loop, adds result samples with pout_add(), and
 * ends with probe_run_finish(). If the run's timeout fires first the engine
 * calls run->on_timeout, which must release the prober's state and finish
 * the run (ICMP uses it to report what it got so far).
 */
#ifndef VIGIL_PROBE_INT_H
#define VIGIL_PROBE_INT_H

#include <netinet/in.h>
#include <stdint.h>
#include <sys/socket.h>

#include "probe/probe.h"

#define POUT_MAX_LABELS 4	/* extra labels on one result sample */
#define POUT_MAX_SAMPLES 512	/* samples one run may produce */
#define PROBE_MAX_ADDRS 8	/* addresses kept for one target name */
#define PROBE_PIN_MAX 640	/* a CURLOPT_RESOLVE entry: host, port, 8 addresses */

struct pout_sample {
	char *name;			/* metric name, owned */
	char *lname[POUT_MAX_LABELS];	/* extra label names, owned (NULL: unused) */
	char *lval[POUT_MAX_LABELS];	/* extra label values, owned */
	double v;			/* value */
};

/* Samples one run produced, flushed to the sink with instance/module added. */
struct probe_out {
	struct pout_sample *v;	/* samples */
	size_t n;		/* used */
	size_t cap;		/* allocated */
};

/* Add a sample with up to POUT_MAX_LABELS (name, value) pairs after v,
 * ended by NULL. Past POUT_MAX_SAMPLES the sample is dropped. */
void pout_add(struct probe_out *o, const char *name, double v, ...);
void pout_free(struct probe_out *o);
/* Move every sample of src to the end of dst; src is left empty. */
void pout_append(struct probe_out *dst, struct probe_out *src);
/* Add probe_ip_addr_hash for the address (blackbox_exporter's FNV-1a). */
void pout_ip_hash(struct probe_out *o, const struct sockaddr_storage *sa);

/* A target as the engine keeps it. */
struct probe_target {
	const struct probe_cfg *cfg;	/* borrowed config */
	struct probe_engine *eng;	/* owner */
	size_t index;			/* position in the engine */
	struct sockaddr_storage addr;	/* resolved address (port set for tcp/dns) */
	socklen_t addrlen;		/* 0 when not resolved (http, nagios) */
	char host[256];			/* host part of target (tcp, dns, http) */
	char *pin;			/* http: CURLOPT_RESOLVE entry (malloced), NULL if numeric */
	double resolve_s;		/* seconds the one resolution took */
	struct probe_run *run;		/* the run in progress, or NULL */
	uint64_t next_timer;		/* timer for the next run */
	int status;			/* probe_node_status of cfg->node (via status.c) */
};

struct probe_run {
	struct probe_engine *eng;	/* owner */
	struct probe_target *tgt;	/* what is probed */
	struct loop *loop;		/* where it runs */
	int64_t start_ns;		/* monotonic start */
	uint64_t timeout_timer;		/* engine's timeout timer id */
	struct probe_out out;		/* result samples so far */
	void *kstate;			/* the prober's state */
	void (*on_timeout)(struct probe_run *r);	/* see top comment */
	const char *reason;		/* failure reason (static string) or NULL */
};

/* Finish the run: flush samples (adds probe_success, probe_duration_seconds,
 * probe_failure_info), update node status, schedule the next run, free r.
 * The prober must have released its own state first. */
void probe_run_finish(struct probe_run *r, int success);
/* Set the failure reason if none is set yet. */
void probe_run_fail(struct probe_run *r, const char *reason);

/* Per-kind entry points: start a run (0, or -errno after which the engine
 * finishes the run as failed). */
int probe_icmp_start(struct probe_run *r);
int probe_tcp_start(struct probe_run *r);
int probe_http_start(struct probe_run *r);
int probe_dns_start(struct probe_run *r);
int probe_nagios_start(struct probe_run *r);

/* ICMP sockets shared by an engine (icmp.c). */
struct icmp_pinger;
/* Open family's echo socket on l: a ping socket, else raw_fd (which it then
 * owns; it closes raw_fd when the ping socket works), or raw_fd only when
 * force_raw. 0 and *out, or -errno (raw_fd still the caller's). */
int icmp_pinger_new(struct loop *l, int family, int raw_fd, int force_raw,
    struct icmp_pinger **out /* out */);
/* Close the socket; runs using it must have finished. p may be NULL. */
void icmp_pinger_free(struct icmp_pinger *p);
/* The engine's pinger for family, opened on first use; NULL if none can be
 * opened (logged once). */
struct icmp_pinger *probe_engine_pinger(struct probe_engine *e, int family);

/* HTTP multi handle shared by an engine (http.c). */
struct http_multi;
/* A libcurl multi handle driven by l; aborts if curl cannot make one. */
struct http_multi *http_multi_new(struct loop *l);
/* Free it; transfers must have been removed. m may be NULL. */
void http_multi_free(struct http_multi *m);
/* The engine's multi handle, made on first use. */
struct http_multi *probe_engine_http(struct probe_engine *e);

/* Self-metric counters (engine.c). */
struct probe_counters {
	uint64_t runs[5];		/* runs finished, by kind */
	uint64_t failures[5];		/* runs that failed, by kind */
	uint64_t icmp_sent;		/* echo requests sent */
	uint64_t icmp_send_errors;	/* sendto failures (incl. egress refusals) */
	uint64_t icmp_replies;		/* echo replies matched to a request */
	uint64_t icmp_malformed;	/* truncated, bad checksum, bad tag */
	uint64_t icmp_foreign;		/* not an echo reply for us (other id, type) */
	uint64_t icmp_late;		/* matched no outstanding request (late, duplicate) */
	uint64_t dns_malformed;		/* DNS replies that failed parsing */
	uint64_t dns_mismatched;	/* DNS replies with the wrong id/question */
	uint64_t nagios_killed;		/* plugins killed at their timeout */
	uint64_t status_changes;	/* node status transitions */
};
extern struct probe_counters probe_ctr;

/* TLS facts of a finished handshake as samples (tcp.c): earliest expiry in
 * the presented chain, TLS version, leaf certificate info, and the verified
 * chain's earliest expiry when verification succeeded. */
struct ssl_st;
void probe_tls_facts(const struct ssl_st *ssl, struct probe_out *out);

/* Compile a PCRE2 pattern and match it against n bytes: 1 match, 0 none,
 * -EINVAL bad pattern (logged). Compiled patterns are cached (engine.c). */
int probe_regex_match(const char *pattern, const char *s, size_t n);

/* Split "host:port" / "[v6]:port" / "host" / bare IPv6 into host and port
 * (default_port when absent, which may be 0). 0 or -EINVAL. */
int probe_split_hostport(const char *s, char *host, size_t hostsz, uint16_t *port /* out */,
    uint16_t default_port);
/* Like probe_resolve, every address (at most max) into sa[] and salen[]:
 * 0 or -EINVAL. */
int probe_resolve_all(const char *host, uint16_t port, int family,
    struct sockaddr_storage *sa /* out, max entries */, socklen_t *salen /* out */, size_t max,
    size_t *n /* out */);
/* Resolve host (numeric or name; family 0/4/6) into sa with port. Returns 0
 * or -EINVAL; *secs the time taken. */
int probe_resolve(const char *host, uint16_t port, int family, struct sockaddr_storage *sa,
    socklen_t *salen /* out */, double *secs /* out */);

#endif
