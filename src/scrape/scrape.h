/*
 * scrape.h — the scrape loop: Prometheus-style scrape_configs polled with
 * libcurl's multi interface on the worker's event loop.
 *
 * Each target's labels (__address__, __scheme__, __metrics_path__,
 * __scrape_interval__, __scrape_timeout__, __param_<name>, job and the
 * static labels) first go through relabel_configs, as Prometheus does: a
 * target a rule drops is not scraped; what is left of __address__,
 * __scheme__, __metrics_path__ and __param_* makes its URL; instance
 * defaults to __address__; labels starting with "__" are then removed and
 * the rest are put on every series of the target.
 *
 * Each target is fetched every interval; the body is parsed (Prometheus text
 * or OpenMetrics, from the Content-Type), labelled with job and instance,
 * passed through metric_relabel_configs and, if the scrape as a whole is
 * good (status 200, within the body and sample limits, parses), handed to
 * the sample_sink. Every scrape also yields up, scrape_duration_seconds,
 * scrape_samples_scraped and scrape_samples_post_metric_relabeling; series
 * that disappear, and every series of a target that goes down, get a
 * staleness marker. Every connect goes through egress_check.
 *
 *   struct scrape_config cfg = { .job_name = "node", .targets = t, .ntargets = 1,
 *                                .interval_ms = 15000, .timeout_ms = 10000 };
 *   struct scrape_manager *m = scrape_manager_new(loop, &cfg, 1, sink, err, sizeof err);
 *   loop_run(loop); ... scrape_manager_free(m);
 */
#ifndef VIGIL_SCRAPE_H
#define VIGIL_SCRAPE_H

#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/labels.h"
#include "core/loop.h"

#define SCRAPE_DEFAULT_BODY_LIMIT   (16u << 20)	/* bytes of one body, when the config says 0 */
#define SCRAPE_DEFAULT_SAMPLE_LIMIT 1000000	/* samples of one scrape, when the config says 0 */
#define SCRAPE_TARGETS_MAX          10000	/* targets of one manager */
#define SCRAPE_RELABEL_SOURCES_MAX  16	/* source_labels of one rule */
#define SCRAPE_TARGET_LABELS_MAX    30	/* static labels of one config, job and instance aside */

enum scrape_relabel_action {
	SCRAPE_RELABEL_REPLACE,		/* set target_label to the expanded replacement on match */
	SCRAPE_RELABEL_KEEP,		/* drop the sample unless the joined sources match */
	SCRAPE_RELABEL_DROP,		/* drop the sample if the joined sources match */
	SCRAPE_RELABEL_LABELDROP,	/* remove labels whose name matches */
	SCRAPE_RELABEL_LABELKEEP,	/* remove labels whose name does not match */
	SCRAPE_RELABEL_LABELMAP,	/* copy labels whose name matches to the name replacement makes */
	SCRAPE_RELABEL_HASHMOD,		/* set target_label to md5(joined sources) mod modulus */
};

/* One relabel_configs or metric_relabel_configs rule (Prometheus semantics,
 * regex fully anchored; target_label may refer to regex groups too). */
struct scrape_relabel {
	enum scrape_relabel_action action;	/* what to do */
	const char *const *source_labels;	/* label names joined with separator */
	size_t nsource;				/* entries in source_labels */
	const char *separator;			/* NULL: ";" */
	const char *regex;			/* PCRE2; NULL: "(.*)" */
	const char *target_label;		/* for replace */
	const char *replacement;		/* for replace and labelmap; NULL: "$1" */
	uint64_t modulus;			/* for hashmod (> 0) */
};

/* One URL query parameter. */
struct scrape_param {
	const char *name;	/* parameter name */
	const char *value;	/* its value */
};

/* One scrape_configs entry. Strings are copied by scrape_manager_new. */
struct scrape_config {
	const char *job_name;			/* job label */
	const char *const *targets;		/* "host:port" static targets */
	size_t ntargets;			/* entries in targets */
	const struct label *labels;		/* static_configs labels added to every series */
	size_t nlabels;				/* entries in labels (at most SCRAPE_TARGET_LABELS_MAX) */
	const char *scheme;			/* "http" (NULL) or "https" */
	const char *metrics_path;		/* NULL: "/metrics" */
	const struct scrape_param *params;	/* query parameters */
	size_t nparams;				/* entries in params */
	int64_t interval_ms;			/* scrape period; 0: 60 s */
	int64_t timeout_ms;			/* per scrape; 0: 10 s (capped at the interval) */
	int honor_labels;			/* 1: the target's own job/instance win */
	int ignore_timestamps;			/* 1: honor_timestamps: false (use the scrape time) */
	const char *basic_user;			/* basic auth user, or NULL */
	const char *basic_password;		/* basic auth password (a secret value) */
	const char *bearer_token;		/* bearer token value, or NULL */
	const struct scrape_relabel *metric_relabel;	/* rules, in order */
	size_t nrelabel;			/* entries in metric_relabel */
	size_t body_limit;			/* bytes; 0: SCRAPE_DEFAULT_BODY_LIMIT */
	size_t sample_limit;			/* samples; 0: SCRAPE_DEFAULT_SAMPLE_LIMIT */
	const struct scrape_relabel *target_relabel;	/* relabel_configs, in order */
	size_t ntarget_relabel;			/* entries in target_relabel */
};

struct scrape_manager;

/*
 * Start scraping every target of the n configs on loop l, delivering samples
 * to sink. Return NULL with a one-line reason in err when a config is
 * invalid (no job name, bad regex, too many targets, ...).
 */
struct scrape_manager *scrape_manager_new(struct loop *l, const struct scrape_config *cfgs, size_t n,
    struct sample_sink sink, char *err, size_t errsz);
/* Stop every scrape and free the manager; NULL is fine. */
void scrape_manager_free(struct scrape_manager *m);
/*
 * Run cfg's relabel_configs over each of its targets and call fn with the
 * final __address__ of every target that is kept (the addresses the egress
 * policy must allow). Return 0, fn's first non-zero return, or -EINVAL with
 * a reason in err when a rule is invalid.
 */
int scrape_config_addresses(const struct scrape_config *cfg, int (*fn)(void *ctx, const char *address), void *ctx,
    char *err, size_t errsz);
/* Targets of the manager that relabel_configs dropped (not scraped). */
size_t scrape_manager_dropped(const struct scrape_manager *m);
/* Scrapes completed (good or bad) since the start, for tests and vigil's own metrics. */
uint64_t scrape_manager_scrapes(const struct scrape_manager *m);

#endif
