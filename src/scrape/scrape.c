/* scrape.c — the scrape loop on libcurl's multi interface; see scrape.h. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "scrape/scrape.h"

#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "core/curlloop.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"
#include "scrape/textparse.h"

#include <openssl/evp.h>

#define SCRAPE_ARENA (256u << 10)	/* bytes of relabel results for one sample */
#define SCRAPE_SAMPLE_LABELS (TP_MAX_LABELS + SCRAPE_TARGET_LABELS_MAX + 2)	/* sample + target labels */
#define SCRAPE_URL_MAX 4096		/* bytes of a target URL */
#define SCRAPE_PARAM_NAME_MAX 256	/* bytes of a "__param_<name>" label name */
#define SCRAPE_ACCEPT "Accept: application/openmetrics-text;version=1.0.0,application/openmetrics-text;" \
	"version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"

struct srule {
	enum scrape_relabel_action action;	/* what to do */
	char **src;			/* source label names */
	size_t nsrc;			/* entries in src */
	char *sep;			/* separator */
	pcre2_code *re;			/* anchored regex */
	char *target;			/* target label */
	char *repl;			/* replacement */
	uint64_t modulus;		/* hashmod modulus */
};

struct sjob {
	char *name;			/* job label */
	char *scheme;			/* http or https */
	char *path;			/* metrics path */
	int64_t interval_ms;		/* period */
	int64_t timeout_ms;		/* per-scrape timeout */
	int honor;			/* honor_labels */
	int ignore_ts;			/* honor_timestamps: false */
	char *user, *pass, *bearer;	/* credentials (values) */
	struct label *tl;		/* static_configs labels (owned strings), before relabel_configs */
	size_t ntl;			/* entries in tl */
	struct srule *rules;		/* metric_relabel_configs */
	size_t nrules;			/* entries in rules */
	struct srule *trules;		/* relabel_configs (targets) */
	size_t ntrules;			/* entries in trules */
	struct label *params;		/* query parameters (owned strings) */
	size_t nparams;			/* entries in params */
	size_t body_limit;		/* bytes */
	size_t sample_limit;		/* samples */
};

struct starget {
	struct scrape_manager *m;	/* owner */
	struct sjob *job;		/* its job */
	char *instance;			/* instance label (default: the address) */
	char *job_label;		/* job label (job_name unless relabelled) */
	struct label *tl;		/* target labels after relabel_configs (owned), job and instance aside */
	char **tl_exported;		/* "exported_<name>" for each of tl */
	size_t ntl;			/* entries in tl */
	char *url;			/* full URL */
	CURL *easy;			/* the transfer, reused */
	struct curl_slist *hdrs;	/* request headers */
	struct buf body;		/* response body of the running scrape */
	int too_big;			/* body passed body_limit */
	int refused;			/* the egress policy refused the connect */
	int busy;			/* a scrape is running */
	uint64_t timer;			/* next-scrape timer id */
	int64_t next_ms;		/* monotonic time of the next scrape */
	int64_t start_ns;		/* monotonic start of the running scrape */
	int64_t start_wall_ms;		/* its wall-clock start (sample timestamp) */
	struct hmap series;		/* series key -> generation (uintptr_t) */
	uintptr_t gen;			/* current scrape generation */
};

struct scrape_manager {
	struct loop *l;			/* the event loop */
	struct curl_loop cl;		/* libcurl multi on the loop (core/curlloop.h) */
	struct sample_sink sink;	/* where samples go */
	struct sjob *jobs;		/* jobs */
	size_t njobs;			/* entries in jobs */
	struct starget *targets;	/* every target */
	size_t ntargets;		/* entries in targets */
	struct batch *batches;		/* samples of the scrape being parsed, in order */
	size_t nbatches;		/* batches allocated (kept between scrapes) */
	size_t cur;			/* batch being filled */
	struct buf enc;			/* the batch encoded for delivery */
	pcre2_match_data *md;		/* shared match data */
	char *arena;			/* relabel results of one sample */
	struct buf key;			/* series key being built */
	uint64_t scrapes;		/* completed scrapes */
	size_t dropped;			/* targets relabel_configs dropped */
};

/* State of one body parse. */
struct pstate {
	struct starget *t;		/* the target */
	size_t scraped;			/* samples in the body */
	size_t kept;			/* samples after relabelling */
	int over_limit;			/* sample_limit passed */
};

static void check_done(struct scrape_manager *m);
static void schedule(struct starget *t);

/* ---- configuration ---- */

static pcre2_code *compile_anchored(const char *re, char *err, size_t errsz)
{
	char *pat = xasprintf("^(?:%s)$", re);
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *c = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
	free(pat);
	if (!c) {
		char msg[128];
		pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof(msg));
		snprintf(err, errsz, "regex \"%s\": %s", re, msg);
	}
	return c;
}

static void rules_free(struct srule *rules, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct srule *r = &rules[i];
		for (size_t k = 0; k < r->nsrc; k++)
			free(r->src[k]);
		free(r->src);
		free(r->sep);
		pcre2_code_free(r->re);
		free(r->target);
		free(r->repl);
	}
	free(rules);
}

static void job_free(struct sjob *j)
{
	rules_free(j->rules, j->nrules);
	rules_free(j->trules, j->ntrules);
	for (size_t i = 0; i < j->nparams; i++) {
		free((char *)(uintptr_t)j->params[i].name);
		free((char *)(uintptr_t)j->params[i].value);
	}
	free(j->params);
	for (size_t i = 0; i < j->ntl; i++) {
		free((char *)(uintptr_t)j->tl[i].name);
		free((char *)(uintptr_t)j->tl[i].value);
	}
	free(j->tl);
	free(j->name);
	free(j->scheme);
	free(j->path);
	free(j->user);
	free(j->pass);
	free(j->bearer);
}

/* Compile n rules into *out (*nout of them made, even on failure, for rules_free). 0 or -EINVAL. */
static int rules_init(const char *job, const char *what, const struct scrape_relabel *in, size_t n,
    struct srule **out, size_t *nout, char *err, size_t errsz)
{
	*out = xcalloc(n ? n : 1, sizeof(**out));
	*nout = 0;
	for (size_t i = 0; i < n; i++) {
		const struct scrape_relabel *x = &in[i];
		struct srule *r = &(*out)[i];
		(*nout)++;
		r->action = x->action;
		r->modulus = x->modulus;
		if (x->nsource > SCRAPE_RELABEL_SOURCES_MAX) {
			snprintf(err, errsz, "job %s: %s rule %zu has more than %d source_labels", job, what, i + 1,
			    SCRAPE_RELABEL_SOURCES_MAX);
			return -EINVAL;
		}
		r->src = xcalloc(x->nsource ? x->nsource : 1, sizeof(char *));
		for (size_t k = 0; k < x->nsource; k++)
			r->src[r->nsrc++] = xstrdup(x->source_labels[k]);
		r->sep = xstrdup(x->separator ? x->separator : ";");
		r->repl = xstrdup(x->replacement ? x->replacement : "$1");
		r->target = x->target_label ? xstrdup(x->target_label) : NULL;
		char sub[256];
		r->re = compile_anchored(x->regex ? x->regex : "(.*)", sub, sizeof(sub));
		if (!r->re) {
			snprintf(err, errsz, "job %s: %s rule %zu: %s", job, what, i + 1, sub);
			return -EINVAL;
		}
		if ((r->action == SCRAPE_RELABEL_REPLACE || r->action == SCRAPE_RELABEL_HASHMOD) &&
		    (!r->target || !r->target[0] || (!strchr(r->target, '$') && !label_name_valid(r->target)))) {
			snprintf(err, errsz, "job %s: %s rule %zu: %s needs a valid target_label", job, what, i + 1,
			    r->action == SCRAPE_RELABEL_REPLACE ? "replace" : "hashmod");
			return -EINVAL;
		}
		if (r->action == SCRAPE_RELABEL_HASHMOD && !r->modulus) {
			snprintf(err, errsz, "job %s: %s rule %zu: hashmod needs a modulus above 0", job, what, i + 1);
			return -EINVAL;
		}
		if ((r->action == SCRAPE_RELABEL_KEEP || r->action == SCRAPE_RELABEL_DROP) && !r->nsrc) {
			snprintf(err, errsz, "job %s: %s rule %zu: keep/drop need source_labels", job, what, i + 1);
			return -EINVAL;
		}
	}
	return 0;
}

static int job_init(struct sjob *j, const struct scrape_config *c, char *err, size_t errsz)
{
	if (!c->job_name || !*c->job_name) {
		snprintf(err, errsz, "scrape config without job_name");
		return -EINVAL;
	}
	j->name = xstrdup(c->job_name);
	j->scheme = xstrdup(c->scheme ? c->scheme : "http");
	if (strcmp(j->scheme, "http") && strcmp(j->scheme, "https")) {
		snprintf(err, errsz, "job %s: scheme must be http or https", j->name);
		return -EINVAL;
	}
	j->path = xstrdup(c->metrics_path ? c->metrics_path : "/metrics");
	j->interval_ms = c->interval_ms > 0 ? c->interval_ms : 60000;
	j->timeout_ms = c->timeout_ms > 0 ? c->timeout_ms : 10000;
	if (j->timeout_ms > j->interval_ms)
		j->timeout_ms = j->interval_ms;
	j->honor = c->honor_labels;
	j->ignore_ts = c->ignore_timestamps;
	j->user = c->basic_user ? xstrdup(c->basic_user) : NULL;
	j->pass = c->basic_password ? xstrdup(c->basic_password) : NULL;
	j->bearer = c->bearer_token ? xstrdup(c->bearer_token) : NULL;
	j->body_limit = c->body_limit ? c->body_limit : SCRAPE_DEFAULT_BODY_LIMIT;
	j->sample_limit = c->sample_limit ? c->sample_limit : SCRAPE_DEFAULT_SAMPLE_LIMIT;
	if (c->nlabels > SCRAPE_TARGET_LABELS_MAX) {
		snprintf(err, errsz, "job %s: more than %d target labels", j->name, SCRAPE_TARGET_LABELS_MAX);
		return -EINVAL;
	}
	j->tl = xcalloc(c->nlabels ? c->nlabels : 1, sizeof(*j->tl));
	for (size_t i = 0; i < c->nlabels; i++) {
		const char *ln = c->labels[i].name;
		if (!ln || !label_name_valid(ln) || !strcmp(ln, "job") || !strcmp(ln, "instance") || !strncmp(ln, "__", 2)) {
			snprintf(err, errsz, "job %s: invalid target label name \"%s\"", j->name, ln ? ln : "");
			return -EINVAL;
		}
		j->tl[i] = (struct label){ xstrdup(ln), xstrdup(c->labels[i].value ? c->labels[i].value : "") };
		j->ntl++;
	}
	j->params = xcalloc(c->nparams ? c->nparams : 1, sizeof(*j->params));
	for (size_t i = 0; i < c->nparams; i++, j->nparams++)
		j->params[i] = (struct label){ xstrdup(c->params[i].name ? c->params[i].name : ""),
			xstrdup(c->params[i].value ? c->params[i].value : "") };
	if (rules_init(j->name, "metric_relabel_configs", c->metric_relabel, c->nrelabel, &j->rules, &j->nrules,
	    err, errsz) < 0)
		return -EINVAL;
	return rules_init(j->name, "relabel_configs", c->target_relabel, c->ntarget_relabel, &j->trules, &j->ntrules,
	    err, errsz);
}

/* ---- curl plumbing ---- */

static size_t on_write(char *p, size_t sz, size_t nm, void *ud)
{
	struct starget *t = ud;
	size_t n = sz * nm;
	if (t->body.len + n > t->job->body_limit || buf_add(&t->body, p, n) < 0) {
		t->too_big = 1;
		return 0;	/* aborts the transfer */
	}
	return n;
}

static void after_io(void *ctx)
{
	check_done(ctx);
}

/* ---- samples ---- */

/* Label set on the stack from an array (sorted in place). */
union stack_labels {
	struct labels ls;	/* the set */
	char raw[sizeof(struct labels) + SCRAPE_SAMPLE_LABELS * sizeof(struct label)];	/* room for it */
};

static void sort_labels(struct label *v, size_t n)
{
	for (size_t a = 1; a < n; a++)
		for (size_t b = a; b > 0 && strcmp(v[b - 1].name, v[b].name) > 0; b--) {
			struct label x = v[b];
			v[b] = v[b - 1];
			v[b - 1] = x;
		}
}

static int sink_add(struct scrape_manager *m, struct label *v, size_t n, int64_t ts, double val)
{
	union stack_labels u;
	sort_labels(v, n);
	memcpy(u.ls.v, v, n * sizeof(*v));
	u.ls.n = n;
	return m->sink.add(m->sink.ctx, &u.ls, ts, val);
}

/* Report one of the synthetic per-scrape series, with the target's labels. */
static void report(struct starget *t, const char *name, double v)
{
	struct label l[SCRAPE_SAMPLE_LABELS] = { { "__name__", name }, { "instance", t->instance }, { "job", t->job_label } };
	size_t n = t->job_label[0] ? 3 : 2;
	for (size_t i = 0; i < t->ntl && n < SCRAPE_SAMPLE_LABELS; i++)
		if (t->tl[i].value[0])
			l[n++] = t->tl[i];
	sink_add(t->m, l, n, t->start_wall_ms, v);
}

static const char *lab_get(const struct label *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, name))
			return v[i].value;
	return NULL;
}

/* Set (or with "" delete) a label in the array. */
static void lab_set(struct label *v, size_t *n, const char *name, const char *value)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(v[i].name, name)) {
			if (*value) {
				v[i].value = value;
			} else {
				v[i] = v[*n - 1];
				(*n)--;
			}
			return;
		}
	if (*value && *n < SCRAPE_SAMPLE_LABELS)
		v[(*n)++] = (struct label){ name, value };
}

/* Expand template (with $1, ${name}, ...) against the match of re on src into
 * out[0..*outlen); 0 or -E2BIG. */
static int expand(const pcre2_code *re, pcre2_match_data *md, const char *src, size_t sl, const char *template,
    char *out, PCRE2_SIZE *outlen)
{
	int rc = pcre2_substitute(re, (PCRE2_SPTR)src, sl, 0,
	    PCRE2_SUBSTITUTE_UNSET_EMPTY | PCRE2_SUBSTITUTE_UNKNOWN_UNSET | PCRE2_SUBSTITUTE_REPLACEMENT_ONLY,
	    md, NULL, (PCRE2_SPTR)template, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out, outlen);
	return rc < 0 ? -E2BIG : 0;
}

/* Prometheus's hashmod: the low 64 bits of md5(s), big-endian, mod m. */
static uint64_t hashmod(const char *s, size_t n, uint64_t m)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	if (!EVP_Digest(s, n, d, &dl, EVP_md5(), NULL) || dl != 16)
		return 0;
	uint64_t v = 0;
	for (int i = 8; i < 16; i++)
		v = v << 8 | d[i];
	return v % m;
}

/*
 * Apply rules to the labels v[0..*n); result strings live in arena
 * (SCRAPE_ARENA bytes). Return 0 to keep, 1 to drop, -E2BIG if the arena
 * overflows.
 */
static int relabel(char *arena, pcre2_match_data *md, const struct srule *rules, size_t nrules, struct label *v,
    size_t *n)
{
	size_t used = 0;
	for (size_t i = 0; i < nrules; i++) {
		const struct srule *r = &rules[i];
		if (r->action == SCRAPE_RELABEL_LABELDROP || r->action == SCRAPE_RELABEL_LABELKEEP) {
			for (size_t k = 0; k < *n;) {
				int match = pcre2_match(r->re, (PCRE2_SPTR)v[k].name, strlen(v[k].name), 0, 0, md, NULL) >= 0;
				if (match == (r->action == SCRAPE_RELABEL_LABELDROP)) {
					v[k] = v[*n - 1];
					(*n)--;
				} else {
					k++;
				}
			}
			continue;
		}
		if (r->action == SCRAPE_RELABEL_LABELMAP) {
			size_t n0 = *n;	/* labels added here are not mapped again */
			for (size_t k = 0; k < n0; k++) {
				const char *name = v[k].name;
				if (pcre2_match(r->re, (PCRE2_SPTR)name, strlen(name), 0, 0, md, NULL) < 0)
					continue;
				PCRE2_SIZE ol = SCRAPE_ARENA - used;
				char *out = arena + used;
				if (expand(r->re, md, name, strlen(name), r->repl, out, &ol) < 0)
					return -E2BIG;
				used += ol + 1;
				if (label_name_valid(out))
					lab_set(v, n, out, v[k].value);
			}
			continue;
		}
		/* join the source values into the arena */
		char *src = arena + used;
		size_t sl = 0;
		for (size_t k = 0; k < r->nsrc; k++) {
			const char *val = lab_get(v, *n, r->src[k]);
			size_t need = (k ? strlen(r->sep) : 0) + (val ? strlen(val) : 0);
			if (used + sl + need + 1 > SCRAPE_ARENA)
				return -E2BIG;
			if (k) {
				memcpy(src + sl, r->sep, strlen(r->sep));
				sl += strlen(r->sep);
			}
			if (val) {
				memcpy(src + sl, val, strlen(val));
				sl += strlen(val);
			}
		}
		src[sl] = 0;
		used += sl + 1;
		if (r->action == SCRAPE_RELABEL_HASHMOD) {
			char *out = arena + used;
			if (used + 24 > SCRAPE_ARENA)
				return -E2BIG;
			int ol = snprintf(out, 24, "%llu", (unsigned long long)hashmod(src, sl, r->modulus));
			used += (size_t)ol + 1;
			lab_set(v, n, r->target, out);
			continue;
		}
		int rc = pcre2_match(r->re, (PCRE2_SPTR)src, sl, 0, 0, md, NULL);
		if (r->action == SCRAPE_RELABEL_KEEP && rc < 0)
			return 1;
		if (r->action == SCRAPE_RELABEL_DROP && rc >= 0)
			return 1;
		if (r->action != SCRAPE_RELABEL_REPLACE || rc < 0)
			continue;
		const char *target = r->target;
		if (strchr(target, '$')) {	/* target_label may use the groups too */
			PCRE2_SIZE tl = SCRAPE_ARENA - used;
			char *t = arena + used;
			if (expand(r->re, md, src, sl, r->target, t, &tl) < 0)
				return -E2BIG;
			used += tl + 1;
			if (!label_name_valid(t))
				continue;
			target = t;
		}
		PCRE2_SIZE outlen = SCRAPE_ARENA - used;
		char *out = arena + used;
		if (expand(r->re, md, src, sl, r->repl, out, &outlen) < 0)
			return -E2BIG;
		used += outlen + 1;
		lab_set(v, n, target, out);
	}
	return 0;
}

static int on_sample(void *ctx, const struct tp_sample *s)
{
	struct pstate *ps = ctx;
	struct starget *t = ps->t;
	struct scrape_manager *m = t->m;
	struct label v[SCRAPE_SAMPLE_LABELS];
	size_t n = 0;
	const struct sjob *j = t->job;
	if (++ps->scraped > j->sample_limit) {
		ps->over_limit = 1;
		return 1;
	}
	/* A sample label that a target label also sets: with honor_labels the
	 * sample's wins, otherwise it is kept as exported_<name>. */
	for (size_t i = 0; i < s->nlabels; i++) {
		const struct label *l = &s->labels[i];
		if (!l->value[0])
			continue;
		const char *exp = !strcmp(l->name, "job") ? "exported_job" : !strcmp(l->name, "instance") ? "exported_instance" : NULL;
		for (size_t k = 0; !exp && k < t->ntl; k++)
			if (!strcmp(l->name, t->tl[k].name))
				exp = t->tl_exported[k];
		if (exp && !j->honor)
			v[n++] = (struct label){ exp, l->value };
		else
			v[n++] = *l;
	}
	if (!j->honor || !lab_get(v, n, "job"))
		lab_set(v, &n, "job", t->job_label);
	if (!j->honor || !lab_get(v, n, "instance"))
		lab_set(v, &n, "instance", t->instance);
	for (size_t k = 0; k < t->ntl; k++)
		if (!j->honor || !lab_get(v, n, t->tl[k].name))
			lab_set(v, &n, t->tl[k].name, t->tl[k].value);
	int rc = relabel(m->arena, m->md, j->rules, j->nrules, v, &n);
	if (rc < 0)
		return rc;
	if (rc == 1 || !lab_get(v, n, "__name__"))
		return 0;
	union stack_labels u;
	sort_labels(v, n);
	size_t w = 0;	/* a stored set has unique names: keep the first of a repeat */
	for (size_t i = 0; i < n; i++)
		if (!w || strcmp(v[w - 1].name, v[i].name) != 0)
			v[w++] = v[i];
	n = w;
	memcpy(u.ls.v, v, n * sizeof(*v));
	u.ls.n = n;
	int64_t ts = s->has_ts && !j->ignore_ts ? s->ts_ms : t->start_wall_ms;
	if (batch_add(&m->batches[m->cur], &u.ls, ts, s->value) < 0) {
		/* full: continue in the next batch (sample_limit bounds the count) */
		if (++m->cur == m->nbatches) {
			m->batches = xreallocarray(m->batches, m->nbatches + 1, sizeof(*m->batches));
			batch_init(&m->batches[m->nbatches++]);
		}
		batch_reset(&m->batches[m->cur]);
		if (batch_add(&m->batches[m->cur], &u.ls, ts, s->value) < 0)
			return -E2BIG;
	}
	/* remember the series for staleness */
	buf_reset(&m->key);
	for (size_t i = 0; i < n; i++) {
		buf_adds(&m->key, v[i].name);
		buf_addc(&m->key, 0);
		buf_adds(&m->key, v[i].value);
		buf_addc(&m->key, 0);
	}
	/* value: generation << 1, low bit set if this scrape made the entry */
	int fresh = hmap_get(&t->series, m->key.data, m->key.len) == NULL;
	hmap_put(&t->series, m->key.data, m->key.len, (void *)((t->gen << 1) | (uintptr_t)fresh));
	ps->kept++;
	return 0;
}

/* Send a staleness marker for every series not seen in generation keep_gen
 * (all of them when keep_gen is 0: the scrape failed) and forget those
 * series. Series first seen by a failed scrape were never delivered: they
 * are forgotten without a marker. */
static void mark_stale(struct starget *t, uintptr_t keep_gen)
{
	struct scrape_manager *m = t->m;
	size_t it = 0, klen;
	const char *key;
	void *val;
	while (hmap_next(&t->series, &it, &key, &klen, &val)) {
		uintptr_t gen = (uintptr_t)val >> 1, fresh = (uintptr_t)val & 1;
		if (keep_gen && gen == keep_gen)
			continue;
		if (!keep_gen && fresh && gen == t->gen) {
			hmap_del(&t->series, key, klen);
			continue;
		}
		struct label v[SCRAPE_SAMPLE_LABELS];
		size_t n = 0;
		for (const char *p = key; p < key + klen && n < SCRAPE_SAMPLE_LABELS;) {
			v[n].name = p;
			p += strlen(p) + 1;
			v[n].value = p;
			p += strlen(p) + 1;
			n++;
		}
		sink_add(m, v, n, t->start_wall_ms, stale_nan());
		hmap_del(&t->series, key, klen);
	}
}

static int deliver(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct scrape_manager *m = ctx;
	return m->sink.add(m->sink.ctx, ls, ts, v);
}

/* A transfer finished: parse, deliver, report, schedule the next one. */
static void finish(struct starget *t, CURLcode cc)
{
	struct scrape_manager *m = t->m;
	long status = 0;
	char *ct = NULL;
	char err[256] = "";
	struct pstate ps = { .t = t };
	int ok = 0;
	curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(t->easy, CURLINFO_CONTENT_TYPE, &ct);
	t->gen = (t->gen + 1) & (UINTPTR_MAX >> 1) ? t->gen + 1 : 1;
	m->cur = 0;
	batch_reset(&m->batches[0]);
	if (t->refused) {
		snprintf(err, sizeof(err), "egress policy refused the connection");
	} else if (t->too_big) {
		snprintf(err, sizeof(err), "body larger than %zu bytes", t->job->body_limit);
	} else if (cc != CURLE_OK) {
		snprintf(err, sizeof(err), "%s", curl_easy_strerror(cc));
	} else if (status != 200) {
		snprintf(err, sizeof(err), "HTTP status %ld", status);
	} else {
		struct tp_callbacks cb = { .sample = on_sample };
		int rc = textparse(t->body.data ? t->body.data : "", t->body.len, tp_format_from_content_type(ct),
		    &cb, &ps, err, sizeof(err));
		if (ps.over_limit)
			snprintf(err, sizeof(err), "sample limit of %zu exceeded", t->job->sample_limit);
		else if (rc > 0 || rc == -E2BIG)
			snprintf(err, sizeof(err), "a sample is larger than a batch");
		ok = rc == 0 && !ps.over_limit;
	}
	if (ok) {
		for (size_t i = 0; i <= m->cur; i++) {
			buf_reset(&m->enc);
			if (batch_encode(&m->batches[i], &m->enc) == 0)
				batch_decode(m->enc.data, m->enc.len, deliver, m);
		}
		mark_stale(t, t->gen);
	} else {
		log_warn("scrape failed", "job=%s instance=%s err=\"%s\"", t->job->name, t->instance, err);
		mark_stale(t, 0);
		ps.kept = 0;
	}
	report(t, "up", ok ? 1 : 0);
	report(t, "scrape_duration_seconds", (double)(clock_mono_ns() - t->start_ns) / 1e9);
	report(t, "scrape_samples_scraped", ok ? (double)ps.scraped : 0);
	report(t, "scrape_samples_post_metric_relabeling", ok ? (double)ps.kept : 0);
	m->scrapes++;
	t->busy = 0;
	schedule(t);
}

static void check_done(struct scrape_manager *m)
{
	CURLMsg *msg;
	int left;
	while ((msg = curl_multi_info_read(m->cl.multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		struct starget *t = NULL;
		CURL *e = msg->easy_handle;
		CURLcode cc = msg->data.result;
		curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&t);
		curl_multi_remove_handle(m->cl.multi, e);
		if (t)
			finish(t, cc);
	}
}

static void on_tick(struct loop *l, uint64_t id, void *ctx)
{
	struct starget *t = ctx;
	(void)l;
	(void)id;
	t->timer = 0;
	if (t->busy) {	/* the previous scrape is still running: skip a beat */
		schedule(t);
		return;
	}
	t->busy = 1;
	t->too_big = t->refused = 0;
	buf_reset(&t->body);
	t->start_ns = clock_mono_ns();
	t->start_wall_ms = clock_wall_ms();
	if (curl_multi_add_handle(t->m->cl.multi, t->easy) != CURLM_OK) {
		t->busy = 0;
		schedule(t);
	}
}

static void schedule(struct starget *t)
{
	int64_t now = loop_now(t->m->l);
	t->next_ms += t->job->interval_ms;
	if (t->next_ms < now)	/* fell behind: realign instead of bursting */
		t->next_ms = now + t->job->interval_ms;
	t->timer = loop_add_timer(t->m->l, t->next_ms - now, on_tick, t);
}

/* A target after relabel_configs (owned strings). */
struct tgt {
	char *address;		/* __address__ */
	char *url;		/* scheme://address/path?query */
	char *instance;		/* instance label */
	char *job;		/* job label ("" if relabelled away) */
	struct label *tl;	/* the other labels without "__" */
	size_t ntl;		/* entries in tl */
};

static void tgt_free(struct tgt *x)
{
	for (size_t i = 0; i < x->ntl; i++) {
		free((char *)(uintptr_t)x->tl[i].name);
		free((char *)(uintptr_t)x->tl[i].value);
	}
	free(x->tl);
	free(x->address);
	free(x->url);
	free(x->instance);
	free(x->job);
	memset(x, 0, sizeof(*x));
}

/*
 * Relabel target address of job j into *x. Return 0 (kept), 1 (dropped by a
 * rule, or no address left) or -EINVAL with err set (result unusable).
 */
static int target_relabel(const struct sjob *j, const char *address, char *arena, pcre2_match_data *md,
    struct tgt *x, char *err, size_t errsz)
{
	struct label v[SCRAPE_SAMPLE_LABELS];
	char ival[32], tval[32], pnames[SCRAPE_TARGET_LABELS_MAX][SCRAPE_PARAM_NAME_MAX];
	size_t n = 0;
	memset(x, 0, sizeof(*x));
	v[n++] = (struct label){ "__address__", address };
	v[n++] = (struct label){ "__scheme__", j->scheme };
	v[n++] = (struct label){ "__metrics_path__", j->path };
	v[n++] = (struct label){ "__scrape_interval__", clock_format_duration(j->interval_ms, ival, sizeof(ival)) };
	v[n++] = (struct label){ "__scrape_timeout__", clock_format_duration(j->timeout_ms, tval, sizeof(tval)) };
	v[n++] = (struct label){ "job", j->name };
	for (size_t i = 0; i < j->nparams && i < SCRAPE_TARGET_LABELS_MAX; i++)
		if (snprintf(pnames[i], sizeof(pnames[i]), "__param_%s", j->params[i].name) < (int)sizeof(pnames[i]))
			lab_set(v, &n, pnames[i], j->params[i].value);
	for (size_t i = 0; i < j->ntl; i++)
		lab_set(v, &n, j->tl[i].name, j->tl[i].value);
	int rc = relabel(arena, md, j->trules, j->ntrules, v, &n);
	if (rc < 0) {
		snprintf(err, errsz, "job %s: target %s: relabel_configs results too large", j->name, address);
		return -EINVAL;
	}
	const char *addr = lab_get(v, n, "__address__");
	if (rc == 1 || !addr || !addr[0])
		return 1;
	const char *scheme = lab_get(v, n, "__scheme__"), *path = lab_get(v, n, "__metrics_path__");
	if (!scheme || (strcmp(scheme, "http") && strcmp(scheme, "https"))) {
		snprintf(err, errsz, "job %s: target %s: __scheme__ \"%s\" is not http or https", j->name, addr,
		    scheme ? scheme : "");
		return -EINVAL;
	}
	/* the query: params, each replaced (or added) by a __param_<name> label */
	struct buf q;
	buf_init(&q, SCRAPE_URL_MAX);
	int bad = 0;
	for (size_t i = 0; i < j->nparams && !bad; i++) {
		char pn[SCRAPE_PARAM_NAME_MAX];
		snprintf(pn, sizeof(pn), "__param_%s", j->params[i].name);
		const char *pv = lab_get(v, n, pn);
		char *en = curl_easy_escape(NULL, j->params[i].name, 0), *ev = curl_easy_escape(NULL, pv ? pv : "", 0);
		bad = !en || !ev || buf_printf(&q, "%c%s=%s", q.len ? '&' : '?', en, ev) < 0;
		curl_free(en);
		curl_free(ev);
	}
	for (size_t i = 0; i < n && !bad; i++) {
		if (strncmp(v[i].name, "__param_", 8) != 0)
			continue;
		int known = 0;
		for (size_t k = 0; k < j->nparams && !known; k++)
			known = !strcmp(v[i].name + 8, j->params[k].name);
		if (known)
			continue;
		char *en = curl_easy_escape(NULL, v[i].name + 8, 0), *ev = curl_easy_escape(NULL, v[i].value, 0);
		bad = !en || !ev || buf_printf(&q, "%c%s=%s", q.len ? '&' : '?', en, ev) < 0;
		curl_free(en);
		curl_free(ev);
	}
	x->url = bad ? NULL : xasprintf("%s://%s%s%s", scheme, addr, path ? path : "", q.data ? q.data : "");
	buf_free(&q);
	if (!x->url || strlen(x->url) >= SCRAPE_URL_MAX) {
		snprintf(err, errsz, "job %s: URL of %s too long", j->name, addr);
		tgt_free(x);
		return -EINVAL;
	}
	x->address = xstrdup(addr);
	const char *inst = lab_get(v, n, "instance"), *job = lab_get(v, n, "job");
	x->instance = xstrdup(inst && inst[0] ? inst : addr);
	x->job = xstrdup(job ? job : "");
	x->tl = xcalloc(n ? n : 1, sizeof(*x->tl));
	for (size_t i = 0; i < n; i++)
		if (strncmp(v[i].name, "__", 2) != 0 && strcmp(v[i].name, "job") != 0 && strcmp(v[i].name, "instance") != 0 &&
		    v[i].value[0] && x->ntl < SCRAPE_TARGET_LABELS_MAX)
			x->tl[x->ntl++] = (struct label){ xstrdup(v[i].name), xstrdup(v[i].value) };
	return 0;
}

/* Set up t for the relabelled target x (whose strings t takes). */
static int target_init(struct scrape_manager *m, struct starget *t, struct sjob *j, struct tgt *x,
    int64_t offset_ms, char *err, size_t errsz)
{
	t->m = m;
	t->job = j;
	t->instance = x->instance;
	t->url = x->url;
	t->job_label = x->job;
	t->tl = x->tl;
	t->ntl = x->ntl;
	free(x->address);
	memset(x, 0, sizeof(*x));
	t->tl_exported = xcalloc(t->ntl ? t->ntl : 1, sizeof(char *));
	for (size_t i = 0; i < t->ntl; i++)
		t->tl_exported[i] = xasprintf("exported_%s", t->tl[i].name);
	(void)err;
	(void)errsz;
	buf_init(&t->body, j->body_limit);
	hmap_init(&t->series);
	t->easy = curl_easy_init();
	if (!t->easy) {
		snprintf(err, errsz, "curl_easy_init failed");
		return -ENOMEM;
	}
	char hdr[64];
	t->hdrs = curl_slist_append(NULL, SCRAPE_ACCEPT);
	snprintf(hdr, sizeof(hdr), "X-Prometheus-Scrape-Timeout-Seconds: %g", (double)j->timeout_ms / 1000.0);
	t->hdrs = curl_slist_append(t->hdrs, hdr);
	if (j->bearer) {
		char *b = xasprintf("Authorization: Bearer %s", j->bearer);
		t->hdrs = curl_slist_append(t->hdrs, b);
		free(b);
	}
	curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
	curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->hdrs);
	curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETFUNCTION, curl_egress_socket);
	curl_easy_setopt(t->easy, CURLOPT_OPENSOCKETDATA, &t->refused);
	curl_easy_setopt(t->easy, CURLOPT_PRIVATE, t);
	curl_easy_setopt(t->easy, CURLOPT_TIMEOUT_MS, (long)j->timeout_ms);
	curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->easy, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "vigil-scrape/" VIGIL_VERSION);
	curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(t->easy, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(t->easy, CURLOPT_MAXREDIRS, 3L);
	if (j->user) {
		curl_easy_setopt(t->easy, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(t->easy, CURLOPT_USERNAME, j->user);
		curl_easy_setopt(t->easy, CURLOPT_PASSWORD, j->pass ? j->pass : "");
	}
	t->next_ms = loop_now(m->l) + offset_ms;
	t->timer = loop_add_timer(m->l, offset_ms, on_tick, t);
	return 0;
}

struct scrape_manager *scrape_manager_new(struct loop *l, const struct scrape_config *cfgs, size_t n,
    struct sample_sink sink, char *err, size_t errsz)
{
	static int curl_ready;
	if (!curl_ready) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		curl_ready = 1;
	}
	struct scrape_manager *m = xcalloc(1, sizeof(*m));
	size_t ntargets = 0;
	m->l = l;
	m->sink = sink;
	m->batches = xcalloc(1, sizeof(*m->batches));
	m->nbatches = 1;
	batch_init(&m->batches[0]);
	buf_init(&m->enc, BATCH_MAX_BYTES + 16);
	buf_init(&m->key, (size_t)SCRAPE_SAMPLE_LABELS * 2 * (LABEL_VALUE_MAX + 1));
	m->arena = xmalloc(SCRAPE_ARENA);
	m->md = pcre2_match_data_create(32, NULL);
	curl_loop_init(&m->cl, l, after_io, m);
	for (size_t i = 0; i < n; i++)
		ntargets += cfgs[i].ntargets;
	if (ntargets > SCRAPE_TARGETS_MAX) {
		snprintf(err, errsz, "more than %d scrape targets", SCRAPE_TARGETS_MAX);
		goto fail;
	}
	m->jobs = xcalloc(n ? n : 1, sizeof(*m->jobs));
	m->targets = xcalloc(ntargets ? ntargets : 1, sizeof(*m->targets));
	for (size_t i = 0; i < n; i++) {
		struct sjob *j = &m->jobs[m->njobs++];
		if (job_init(j, &cfgs[i], err, errsz) < 0)
			goto fail;
		for (size_t k = 0; k < cfgs[i].ntargets; k++) {
			struct tgt x;
			int rc = target_relabel(j, cfgs[i].targets[k], m->arena, m->md, &x, err, errsz);
			if (rc < 0)
				goto fail;
			if (rc == 1) {
				m->dropped++;
				continue;
			}
			/* spread the targets of a job over its interval */
			int64_t off = (int64_t)((double)j->interval_ms * (double)k / (double)cfgs[i].ntargets);
			if (target_init(m, &m->targets[m->ntargets++], j, &x, off, err, errsz) < 0)
				goto fail;
		}
	}
	return m;
fail:
	scrape_manager_free(m);
	return NULL;
}

void scrape_manager_free(struct scrape_manager *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->ntargets; i++) {
		struct starget *t = &m->targets[i];
		if (t->timer)
			loop_del_timer(m->l, t->timer);
		if (t->easy) {
			if (t->busy)
				curl_multi_remove_handle(m->cl.multi, t->easy);
			curl_easy_cleanup(t->easy);
		}
		curl_slist_free_all(t->hdrs);
		buf_free(&t->body);
		hmap_free(&t->series, NULL);
		free(t->instance);
		free(t->url);
		free(t->job_label);
		for (size_t k = 0; k < t->ntl; k++) {
			free((char *)(uintptr_t)t->tl[k].name);
			free((char *)(uintptr_t)t->tl[k].value);
			free(t->tl_exported[k]);
		}
		free(t->tl);
		free(t->tl_exported);
	}
	for (size_t i = 0; i < m->njobs; i++)
		job_free(&m->jobs[i]);
	curl_loop_free(&m->cl);
	pcre2_match_data_free(m->md);
	free(m->arena);
	for (size_t i = 0; i < m->nbatches; i++)
		batch_free(&m->batches[i]);
	free(m->batches);
	buf_free(&m->enc);
	buf_free(&m->key);
	free(m->targets);
	free(m->jobs);
	free(m);
}

size_t scrape_manager_dropped(const struct scrape_manager *m)
{
	return m->dropped;
}

int scrape_config_addresses(const struct scrape_config *cfg, int (*fn)(void *ctx, const char *address), void *ctx,
    char *err, size_t errsz)
{
	struct sjob j;
	memset(&j, 0, sizeof(j));
	char *arena = xmalloc(SCRAPE_ARENA);
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	int rc = job_init(&j, cfg, err, errsz) < 0 ? -EINVAL : 0;
	for (size_t k = 0; k < cfg->ntargets && rc == 0; k++) {
		struct tgt x;
		int r = target_relabel(&j, cfg->targets[k], arena, md, &x, err, errsz);
		if (r < 0)
			rc = -EINVAL;
		else if (r == 0)
			rc = fn(ctx, x.address);
		tgt_free(&x);
	}
	job_free(&j);
	pcre2_match_data_free(md);
	free(arena);
	return rc;
}

uint64_t scrape_manager_scrapes(const struct scrape_manager *m)
{
	return m->scrapes;
}
