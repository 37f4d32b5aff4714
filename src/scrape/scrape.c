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

#define SCRAPE_ARENA (256u << 10)	/* bytes of relabel results for one sample */
#define SCRAPE_SAMPLE_LABELS (TP_MAX_LABELS + SCRAPE_TARGET_LABELS_MAX + 2)	/* sample + target labels */
#define SCRAPE_URL_MAX 4096		/* bytes of a target URL */
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
};

struct sjob {
	char *name;			/* job label */
	char *scheme;			/* http or https */
	char *path;			/* metrics path */
	char *query;			/* "?a=b&..." (escaped) or "" */
	int64_t interval_ms;		/* period */
	int64_t timeout_ms;		/* per-scrape timeout */
	int honor;			/* honor_labels */
	int ignore_ts;			/* honor_timestamps: false */
	char *user, *pass, *bearer;	/* credentials (values) */
	struct label *tl;		/* static target labels (owned strings), job and instance aside */
	char **tl_exported;		/* "exported_<name>" for each of tl */
	size_t ntl;			/* entries in tl */
	struct srule *rules;		/* metric_relabel_configs */
	size_t nrules;			/* entries in rules */
	size_t body_limit;		/* bytes */
	size_t sample_limit;		/* samples */
};

struct starget {
	struct scrape_manager *m;	/* owner */
	struct sjob *job;		/* its job */
	char *instance;			/* instance label ("host:port") */
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

static void job_free(struct sjob *j)
{
	for (size_t i = 0; i < j->nrules; i++) {
		struct srule *r = &j->rules[i];
		for (size_t k = 0; k < r->nsrc; k++)
			free(r->src[k]);
		free(r->src);
		free(r->sep);
		pcre2_code_free(r->re);
		free(r->target);
		free(r->repl);
	}
	for (size_t i = 0; i < j->ntl; i++) {
		free((char *)(uintptr_t)j->tl[i].name);
		free((char *)(uintptr_t)j->tl[i].value);
		free(j->tl_exported[i]);
	}
	free(j->tl);
	free(j->tl_exported);
	free(j->rules);
	free(j->name);
	free(j->scheme);
	free(j->path);
	free(j->query);
	free(j->user);
	free(j->pass);
	free(j->bearer);
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
	struct buf q;
	buf_init(&q, SCRAPE_URL_MAX);
	for (size_t i = 0; i < c->nparams; i++) {
		char *n = curl_easy_escape(NULL, c->params[i].name, 0), *v = curl_easy_escape(NULL, c->params[i].value, 0);
		if (buf_printf(&q, "%c%s=%s", i ? '&' : '?', n ? n : "", v ? v : "") < 0) {
			curl_free(n);
			curl_free(v);
			buf_free(&q);
			snprintf(err, errsz, "job %s: params too long", j->name);
			return -EINVAL;
		}
		curl_free(n);
		curl_free(v);
	}
	j->query = q.data ? buf_detach(&q, NULL) : xstrdup("");
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
	j->tl_exported = xcalloc(c->nlabels ? c->nlabels : 1, sizeof(char *));
	for (size_t i = 0; i < c->nlabels; i++) {
		const char *ln = c->labels[i].name;
		if (!ln || !label_name_valid(ln) || !strcmp(ln, "job") || !strcmp(ln, "instance") || !strncmp(ln, "__", 2)) {
			snprintf(err, errsz, "job %s: invalid target label name \"%s\"", j->name, ln ? ln : "");
			return -EINVAL;
		}
		j->tl[i] = (struct label){ xstrdup(ln), xstrdup(c->labels[i].value ? c->labels[i].value : "") };
		j->tl_exported[i] = xasprintf("exported_%s", ln);
		j->ntl++;
	}
	j->rules = xcalloc(c->nrelabel ? c->nrelabel : 1, sizeof(*j->rules));
	for (size_t i = 0; i < c->nrelabel; i++) {
		const struct scrape_relabel *in = &c->metric_relabel[i];
		struct srule *r = &j->rules[i];
		j->nrules++;
		r->action = in->action;
		if (in->nsource > SCRAPE_RELABEL_SOURCES_MAX) {
			snprintf(err, errsz, "job %s: relabel rule %zu has more than %d source_labels", j->name, i + 1,
			    SCRAPE_RELABEL_SOURCES_MAX);
			return -EINVAL;
		}
		r->src = xcalloc(in->nsource ? in->nsource : 1, sizeof(char *));
		for (size_t k = 0; k < in->nsource; k++)
			r->src[r->nsrc++] = xstrdup(in->source_labels[k]);
		r->sep = xstrdup(in->separator ? in->separator : ";");
		r->repl = xstrdup(in->replacement ? in->replacement : "$1");
		r->target = in->target_label ? xstrdup(in->target_label) : NULL;
		char sub[256];
		r->re = compile_anchored(in->regex ? in->regex : "(.*)", sub, sizeof(sub));
		if (!r->re) {
			snprintf(err, errsz, "job %s: relabel rule %zu: %s", j->name, i + 1, sub);
			return -EINVAL;
		}
		if (r->action == SCRAPE_RELABEL_REPLACE && (!r->target || !label_name_valid(r->target))) {
			snprintf(err, errsz, "job %s: relabel rule %zu: replace needs a valid target_label", j->name, i + 1);
			return -EINVAL;
		}
		if ((r->action == SCRAPE_RELABEL_KEEP || r->action == SCRAPE_RELABEL_DROP) && !r->nsrc) {
			snprintf(err, errsz, "job %s: relabel rule %zu: keep/drop need source_labels", j->name, i + 1);
			return -EINVAL;
		}
	}
	return 0;
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
	struct label l[SCRAPE_TARGET_LABELS_MAX + 3] = { { "__name__", name }, { "instance", t->instance }, { "job", t->job->name } };
	size_t n = 3;
	for (size_t i = 0; i < t->job->ntl; i++)
		if (t->job->tl[i].value[0])
			l[n++] = t->job->tl[i];
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

/* Apply the job's rules; return 0 to keep the sample, 1 to drop it, -E2BIG if the arena overflows. */
static int relabel(struct scrape_manager *m, const struct sjob *j, struct label *v, size_t *n)
{
	size_t used = 0;
	for (size_t i = 0; i < j->nrules; i++) {
		const struct srule *r = &j->rules[i];
		if (r->action == SCRAPE_RELABEL_LABELDROP || r->action == SCRAPE_RELABEL_LABELKEEP) {
			for (size_t k = 0; k < *n;) {
				int match = pcre2_match(r->re, (PCRE2_SPTR)v[k].name, strlen(v[k].name), 0, 0, m->md, NULL) >= 0;
				if (match == (r->action == SCRAPE_RELABEL_LABELDROP)) {
					v[k] = v[*n - 1];
					(*n)--;
				} else {
					k++;
				}
			}
			continue;
		}
		/* join the source values into the arena */
		char *src = m->arena + used;
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
		int rc = pcre2_match(r->re, (PCRE2_SPTR)src, sl, 0, 0, m->md, NULL);
		if (r->action == SCRAPE_RELABEL_KEEP && rc < 0)
			return 1;
		if (r->action == SCRAPE_RELABEL_DROP && rc >= 0)
			return 1;
		if (r->action != SCRAPE_RELABEL_REPLACE || rc < 0)
			continue;
		PCRE2_SIZE outlen = SCRAPE_ARENA - used;
		char *out = m->arena + used;
		rc = pcre2_substitute(r->re, (PCRE2_SPTR)src, sl, 0, PCRE2_SUBSTITUTE_UNSET_EMPTY | PCRE2_SUBSTITUTE_UNKNOWN_UNSET,
		    m->md, NULL, (PCRE2_SPTR)r->repl, PCRE2_ZERO_TERMINATED, (PCRE2_UCHAR *)out, &outlen);
		if (rc < 0)
			return -E2BIG;
		used += outlen + 1;
		lab_set(v, n, r->target, out);
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
		for (size_t k = 0; !exp && k < j->ntl; k++)
			if (!strcmp(l->name, j->tl[k].name))
				exp = j->tl_exported[k];
		if (exp && !j->honor)
			v[n++] = (struct label){ exp, l->value };
		else
			v[n++] = *l;
	}
	if (!j->honor || !lab_get(v, n, "job"))
		lab_set(v, &n, "job", j->name);
	if (!j->honor || !lab_get(v, n, "instance"))
		lab_set(v, &n, "instance", t->instance);
	for (size_t k = 0; k < j->ntl; k++)
		if (!j->honor || !lab_get(v, n, j->tl[k].name))
			lab_set(v, &n, j->tl[k].name, j->tl[k].value);
	int rc = relabel(m, t->job, v, &n);
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

static int target_init(struct scrape_manager *m, struct starget *t, struct sjob *j, const char *target,
    int64_t offset_ms, char *err, size_t errsz)
{
	t->m = m;
	t->job = j;
	t->instance = xstrdup(target);
	t->url = xasprintf("%s://%s%s%s", j->scheme, target, j->path, j->query);
	if (strlen(t->url) >= SCRAPE_URL_MAX) {
		snprintf(err, errsz, "job %s: URL of %s too long", j->name, target);
		return -EINVAL;
	}
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
			/* spread the targets of a job over its interval */
			int64_t off = (int64_t)((double)j->interval_ms * (double)k / (double)cfgs[i].ntargets);
			if (target_init(m, &m->targets[m->ntargets++], j, cfgs[i].targets[k], off, err, errsz) < 0)
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

uint64_t scrape_manager_scrapes(const struct scrape_manager *m)
{
	return m->scrapes;
}
