/*
 * state.c — rule evaluation and alert state, with Prometheus's semantics
 * (rules/alerting.go, rules/recording.go, rules/group.go):
 *
 *   - an expression result that is new makes a pending alert (activeAt = ts);
 *     it fires once ts - activeAt >= for (so for: 0 fires at once);
 *   - a pending alert whose series is gone is dropped; a firing one resolves
 *     (resolvedAt = ts) unless keep_firing_for holds it, counted from the
 *     first evaluation the series was missing;
 *   - resolved alerts are kept 15 minutes so the resolution is (re)sent;
 *   - a firing alert is (re)sent when it first fires, when it resolves, and
 *     every resend_delay; endsAt while firing = ts + 4 * max(interval, resend);
 *   - ALERTS{alertstate} = 1 and ALERTS_FOR_STATE = activeAt (s) for every
 *     pending or firing alert; series that disappear get staleness markers.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"

void alert_vector_add(struct alert_vector *vec, const struct labels *ls, double v)
{
	if (vec->n == vec->cap) {
		vec->cap = vec->cap ? vec->cap * 2 : 16;
		vec->v = xreallocarray(vec->v, vec->cap, sizeof(*vec->v));
	}
	vec->v[vec->n].ls = labels_dup(ls);
	vec->v[vec->n].v = v;
	vec->n++;
}

void alert_vector_reset(struct alert_vector *vec)
{
	for (size_t i = 0; i < vec->n; i++)
		labels_free(vec->v[i].ls);
	vec->n = 0;
}

void alert_vector_free(struct alert_vector *vec)
{
	if (!vec)
		return;
	alert_vector_reset(vec);
	free(vec->v);
	vec->v = NULL;
	vec->cap = 0;
}

const char *alert_state_name(enum alert_state s)
{
	return s == ALERT_FIRING ? "firing" : s == ALERT_PENDING ? "pending" : "inactive";
}

static void alert_free(void *p)
{
	struct alert *a = p;
	if (!a)
		return;
	labels_free(a->labels);
	labels_free(a->annotations);
	free(a);
}

static void labels_free_v(void *p)
{
	labels_free(p);
}

struct alert_engine *alert_engine_new(struct rule_set *rs, const struct alert_engine_opts *opts)
{
	struct alert_engine *e = xcalloc(1, sizeof(*e));
	e->rules = rs;
	if (opts)
		e->opts = *opts;
	if (e->opts.default_interval_ms <= 0)
		e->opts.default_interval_ms = 60000;
	if (e->opts.resend_delay_ms <= 0)
		e->opts.resend_delay_ms = 60000;
	e->opts.external_labels = opts && opts->external_labels ? labels_dup(opts->external_labels) : NULL;
	e->opts.external_url = xstrdup(opts && opts->external_url ? opts->external_url : "");
	e->ngroups = rs->ngroups;
	e->groups = xcalloc(e->ngroups ? e->ngroups : 1, sizeof(*e->groups));
	for (size_t i = 0; i < rs->ngroups; i++) {
		struct group_state *gs = &e->groups[i];
		const struct rule_group *g = &rs->groups[i];
		gs->group = g;
		gs->interval_ms = g->interval_ms > 0 ? g->interval_ms : e->opts.default_interval_ms;
		gs->rules = xcalloc(g->nrules ? g->nrules : 1, sizeof(*gs->rules));
		for (size_t j = 0; j < g->nrules; j++) {
			gs->rules[j].rule = &g->rules[j];
			gs->rules[j].group = g;
			gs->rules[j].healthy = -1;
			struct buf q;
			buf_init(&q, 1u << 20);
			if (!e->opts.format_expr || e->opts.format_expr(e->opts.format_ctx, g->rules[j].expr, &q) < 0 || !q.data)
				gs->rules[j].query = xstrdup(g->rules[j].expr);
			else
				gs->rules[j].query = buf_detach(&q, NULL);
			buf_free(&q);
			hmap_init(&gs->rules[j].active);
			hmap_init(&gs->rules[j].prev);
		}
	}
	return e;
}

void alert_engine_free(struct alert_engine *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->ngroups; i++) {
		for (size_t j = 0; j < e->groups[i].group->nrules; j++) {
			hmap_free(&e->groups[i].rules[j].active, alert_free);
			hmap_free(&e->groups[i].rules[j].prev, labels_free_v);
			free(e->groups[i].rules[j].query);
		}
		free(e->groups[i].rules);
	}
	free(e->groups);
	labels_free((struct labels *)(uintptr_t)e->opts.external_labels);
	free((char *)(uintptr_t)e->opts.external_url);
	rule_set_free(e->rules);
	free(e);
}

/* Expand every kv's template into builder (labels) or a label set (annotations). */
static void expand_kvs(const struct rule_kv *kv, size_t n, const struct template_data *d,
    struct labels_builder *lb, const char *rule)
{
	for (size_t i = 0; i < n; i++) {
		struct buf b;
		char err[ALERT_ERR_MAX];
		buf_init(&b, TEMPLATE_MAX_OUTPUT);
		if (template_expand(kv[i].tmpl, kv[i].text, d, &b, err, sizeof(err)) < 0) {
			/* Prometheus puts the error where the text would be, and logs it. */
			buf_reset(&b);
			buf_printf(&b, "<error expanding template: %s>", err);
			char q[256];
			log_warn("expanding alert template failed", "alertname=%s name=%s err=%s", rule, kv[i].name,
			    log_quote(q, sizeof(q), err));
		}
		lb_set(lb, kv[i].name, b.data ? b.data : "");
		buf_free(&b);
	}
}

/* Write one sample and remember its series for staleness tracking. */
static int emit(const struct sample_sink *sink, struct hmap *cur, const struct labels *ls, int64_t ts, double v)
{
	uint64_t h = labels_hash(ls);
	struct labels *old = hmap_put(cur, &h, sizeof(h), labels_dup(ls));
	labels_free(old);
	return sink && sink->add ? sink->add(sink->ctx, ls, ts, v) : 0;
}

/* Staleness markers for series written last time but not now; cur becomes prev. */
static void finish_series(struct rule_state *rs, struct hmap *cur, const struct sample_sink *sink, int64_t ts)
{
	const char *k;
	size_t kl, it = 0;
	void *v;
	while (hmap_next(&rs->prev, &it, &k, &kl, &v))
		if (!hmap_get(cur, k, kl) && sink && sink->add)
			sink->add(sink->ctx, v, ts, stale_nan());
	hmap_free(&rs->prev, labels_free_v);
	rs->prev = *cur;
}

static int eval_recording(struct rule_state *rs, int64_t ts, const struct alert_vector *vec,
    const struct sample_sink *sink, char *err, size_t errsz)
{
	const struct rule *r = rs->rule;
	struct hmap cur;
	hmap_init(&cur);
	struct labels_builder lb;
	lb_init(&lb);
	struct labels **out = xcalloc(vec->n ? vec->n : 1, sizeof(*out));
	int rc = 0;
	for (size_t i = 0; i < vec->n; i++) {
		lb_reset(&lb, vec->v[i].ls);
		lb_set(&lb, "__name__", r->name);
		for (size_t j = 0; j < r->nlabels; j++)
			lb_set(&lb, r->labels[j].name, r->labels[j].text);
		out[i] = lb_labels(&lb);
		uint64_t h = labels_hash(out[i]);
		if (hmap_get(&cur, &h, sizeof(h))) {
			snprintf(err, errsz, "vector contains metrics with the same labelset after applying rule labels");
			rc = -1;
			goto done;
		}
		hmap_put(&cur, &h, sizeof(h), labels_dup(out[i]));
	}
	if (rs->group->limit > 0 && (int64_t)vec->n > rs->group->limit) {
		snprintf(err, errsz, "exceeded limit %lld with %zu series", (long long)rs->group->limit, vec->n);
		rc = -1;
		goto done;
	}
	hmap_free(&cur, labels_free_v);
	hmap_init(&cur);
	for (size_t i = 0; i < vec->n; i++)
		emit(sink, &cur, out[i], ts, vec->v[i].v);
	finish_series(rs, &cur, sink, ts);
	hmap_init(&cur);
done:
	hmap_free(&cur, labels_free_v);
	for (size_t i = 0; i < vec->n; i++)
		labels_free(out[i]);
	free(out);
	lb_free(&lb);
	return rc;
}

/* Whether a (non-pending) alert should go to the notifier now (Prometheus needsSending). */
static int needs_sending(const struct alert *a, int64_t ts, int64_t resend)
{
	if (a->state == ALERT_PENDING)
		return 0;
	if (a->resolved_at_ms > a->last_sent_ms)
		return 1;
	return a->last_sent_ms + resend < ts;
}

static int alert_cmp(const void *x, const void *y)
{
	const struct alert *a = *(struct alert *const *)x, *b = *(struct alert *const *)y;
	return labels_cmp(a->labels, b->labels);
}

/* The active alerts of a rule sorted by labels (caller frees the array). */
static struct alert **sorted_alerts(const struct rule_state *rs, size_t *n)
{
	struct alert **v = xcalloc(rs->active.len ? rs->active.len : 1, sizeof(*v));
	size_t it = 0, i = 0, kl;
	const char *k;
	void *val;
	while (hmap_next(&rs->active, &it, &k, &kl, &val))
		v[i++] = val;
	qsort(v, i, sizeof(*v), alert_cmp);
	*n = i;
	return v;
}

static void emit_alert_series(const struct sample_sink *sink, struct hmap *cur, const struct alert *a, int64_t ts)
{
	struct labels_builder lb;
	lb_init(&lb);
	lb_reset(&lb, a->labels);
	lb_set(&lb, "__name__", "ALERTS");
	lb_set(&lb, "alertstate", alert_state_name(a->state));
	struct labels *ls = lb_labels(&lb);
	emit(sink, cur, ls, ts, 1);
	labels_free(ls);
	lb_reset(&lb, a->labels);
	lb_set(&lb, "__name__", "ALERTS_FOR_STATE");
	ls = lb_labels(&lb);
	emit(sink, cur, ls, ts, (double)(a->active_at_ms / 1000));
	labels_free(ls);
	lb_free(&lb);
}

static int eval_alerting(struct alert_engine *e, struct group_state *gs, struct rule_state *rs,
    int64_t ts, const struct alert_vector *vec, const struct sample_sink *sink, struct buf *notify,
    alert_query_fn query, void *qctx, char *err, size_t errsz)
{
	const struct rule *r = rs->rule;
	struct hmap seen;	/* hash -> new struct alert (this evaluation's results) */
	hmap_init(&seen);
	struct labels_builder lb, ab;
	lb_init(&lb);
	lb_init(&ab);
	int rc = 0;
	for (size_t i = 0; i < vec->n; i++) {
		struct template_data d = { .labels = vec->v[i].ls, .value = vec->v[i].v,
			.external_labels = e->opts.external_labels, .external_url = e->opts.external_url,
			.query = query, .query_ctx = qctx, .ts_ms = ts };	/* {{ query }} runs at ts */
		lb_reset(&lb, vec->v[i].ls);
		lb_del(&lb, "__name__");
		expand_kvs(r->labels, r->nlabels, &d, &lb, r->name);
		lb_set(&lb, "alertname", r->name);
		lb_reset(&ab, NULL);
		expand_kvs(r->annotations, r->nannotations, &d, &ab, r->name);
		struct alert *a = xcalloc(1, sizeof(*a));
		a->labels = lb_labels(&lb);
		a->annotations = lb_labels(&ab);
		a->hash = labels_hash(a->labels);
		a->value = vec->v[i].v;
		if (hmap_get(&seen, &a->hash, sizeof(a->hash)) || seen.len >= ALERT_MAX_PER_RULE) {
			alert_free(a);
			if (seen.len >= ALERT_MAX_PER_RULE)
				snprintf(err, errsz, "more than %d alerts", ALERT_MAX_PER_RULE);
			else
				snprintf(err, errsz, "vector contains metrics with the same labelset after applying alert labels");
			rc = -1;
			goto done;
		}
		hmap_put(&seen, &a->hash, sizeof(a->hash), a);
	}
	/* Merge the results into the active alerts. */
	size_t it = 0, kl;
	const char *k;
	void *v;
	while (hmap_next(&seen, &it, &k, &kl, &v)) {
		struct alert *n = v, *old = hmap_get(&rs->active, k, kl);
		if (old && old->state != ALERT_INACTIVE) {
			old->last_match_ms = ts;
			old->value = n->value;
			labels_free(old->annotations);
			old->annotations = n->annotations;
			n->annotations = NULL;
			alert_free(n);
			continue;
		}
		n->state = ALERT_PENDING;
		n->active_at_ms = ts;
		n->last_match_ms = ts;
		alert_free(hmap_put(&rs->active, k, kl, n));
	}
	hmap_free(&seen, NULL);
	hmap_init(&seen);

	/* Walk every active alert: resolve, drop, fire (Prometheus's order). */
	size_t n;
	struct alert **all = sorted_alerts(rs, &n);
	struct hmap cur;
	hmap_init(&cur);
	size_t active_pending = 0;
	for (size_t i = 0; i < n; i++) {
		struct alert *a = all[i];
		if (a->last_match_ms != ts) {
			int keep = 0;
			if (a->state == ALERT_FIRING && r->keep_firing_for_ms > 0) {
				if (!a->keep_firing_since_ms)
					a->keep_firing_since_ms = ts;
				keep = ts - a->keep_firing_since_ms < r->keep_firing_for_ms;
			}
			if (a->state == ALERT_PENDING ||
			    (a->resolved_at_ms && ts - a->resolved_at_ms > ALERT_RESOLVED_RETENTION_MS)) {
				hmap_del(&rs->active, &a->hash, sizeof(a->hash));
				alert_free(a);
				all[i] = NULL;
				continue;
			}
			if (!keep) {
				if (a->state != ALERT_INACTIVE) {
					a->state = ALERT_INACTIVE;
					a->resolved_at_ms = ts;
				}
				continue;
			}
		} else {
			a->keep_firing_since_ms = 0;
		}
		active_pending++;
		if (a->state == ALERT_PENDING && ts - a->active_at_ms >= r->for_ms) {
			a->state = ALERT_FIRING;
			a->fired_at_ms = ts;
		}
		emit_alert_series(sink, &cur, a, ts);
	}
	if (rs->group->limit > 0 && (int64_t)active_pending > rs->group->limit) {
		hmap_free(&rs->active, alert_free);
		hmap_init(&rs->active);
		hmap_free(&cur, labels_free_v);
		free(all);
		snprintf(err, errsz, "exceeded limit of %lld with %zu alerts", (long long)rs->group->limit, active_pending);
		rc = -1;
		goto done;
	}
	finish_series(rs, &cur, sink, ts);
	/* Hand what needs sending to the notifier. */
	int64_t delta = gs->interval_ms > e->opts.resend_delay_ms ? gs->interval_ms : e->opts.resend_delay_ms;
	for (size_t i = 0; i < n; i++) {
		struct alert *a = all[i];
		if (!a || !needs_sending(a, ts, e->opts.resend_delay_ms))
			continue;
		int64_t prev_sent = a->last_sent_ms, prev_valid = a->valid_until_ms;
		a->last_sent_ms = ts;
		a->valid_until_ms = ts + 4 * delta;
		if (notify) {
			size_t mark = notify->len;
			if ((notify->len && buf_addc(notify, ',') < 0) || alert_notify_json(e, rs->query, a, notify) < 0) {
				notify->len = mark;
				if (notify->data)
					notify->data[mark] = 0;
				/* Not sent: try again at the next evaluation. */
				a->last_sent_ms = prev_sent;
				a->valid_until_ms = prev_valid;
				log_warn("notification batch full; alert goes with the next evaluation", "alertname=%s", r->name);
			}
		}
	}
	free(all);
done:
	hmap_free(&seen, alert_free);
	lb_free(&lb);
	lb_free(&ab);
	return rc;
}

int alert_engine_eval_group(struct alert_engine *e, size_t gi, int64_t ts_ms,
    alert_query_fn query, void *qctx, const struct sample_sink *sink, struct buf *notify)
{
	if (gi >= e->ngroups)
		return 0;
	struct group_state *gs = &e->groups[gi];
	int failed = 0;
	e->eval_ms = ts_ms;	/* operator actions are judged at the evaluation's time */
	int64_t g0 = clock_mono_ns();
	struct alert_vector vec = { 0 };
	for (size_t i = 0; i < gs->group->nrules; i++) {
		struct rule_state *rs = &gs->rules[i];
		char err[ALERT_ERR_MAX] = "";
		int64_t t0 = clock_mono_ns();
		alert_vector_reset(&vec);
		int rc = query(qctx, rs->rule->expr, ts_ms, &vec, err, sizeof(err));
		if (rc == 0) {
			if (rs->rule->type == RULE_RECORDING)
				rc = eval_recording(rs, ts_ms, &vec, sink, err, sizeof(err));
			else
				rc = eval_alerting(e, gs, rs, ts_ms, &vec, sink, notify, query, qctx, err, sizeof(err));
		}
		e->evaluations++;
		rs->healthy = rc == 0;
		snprintf(rs->last_error, sizeof(rs->last_error), "%s", rc == 0 ? "" : err);
		if (rc < 0) {
			char q[ALERT_ERR_MAX + 8];
			e->eval_failures++;
			failed++;
			log_warn("rule evaluation failed", "group=%s rule=%s err=%s", gs->group->name,
			    rs->rule->name, log_quote(q, sizeof(q), err[0] ? err : "query failed"));
		}
		rs->last_eval_ms = ts_ms;
		rs->eval_seconds = (double)(clock_mono_ns() - t0) / 1e9;
	}
	alert_vector_free(&vec);
	gs->last_eval_ms = ts_ms;
	gs->eval_seconds = (double)(clock_mono_ns() - g0) / 1e9;
	return failed;
}

int alert_engine_eval_due(struct alert_engine *e, int64_t now_ms, alert_query_fn query,
    void *qctx, const struct sample_sink *sink, struct buf *notify)
{
	int failed = 0;
	for (size_t i = 0; i < e->ngroups; i++) {
		struct group_state *gs = &e->groups[i];
		if (gs->next_eval_ms > now_ms)
			continue;
		/* Prometheus's slot for this group, so both evaluate at the same instants. */
		int64_t ts = alert_group_eval_ts(gs->group, gs->interval_ms, now_ms);
		if (ts <= gs->last_eval_ms)
			ts = now_ms;
		failed += alert_engine_eval_group(e, i, ts, query, qctx, sink, notify);
		gs->next_eval_ms = ts + gs->interval_ms;
	}
	return failed;
}

/* ---- save / restore ---- */

#define STATE_MAGIC   0x53544c41u	/* "ALTS" little-endian */
#define STATE_VERSION 1

static int put_str(struct buf *b, const char *s)
{
	size_t n = strlen(s);
	return buf_add_uvarint(b, n) < 0 || buf_add(b, s, n) < 0 ? -E2BIG : 0;
}

static int put_labels(struct buf *b, const struct labels *ls)
{
	size_t n = ls ? ls->n : 0;
	if (buf_add_uvarint(b, n) < 0)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (put_str(b, ls->v[i].name) < 0 || put_str(b, ls->v[i].value) < 0)
			return -E2BIG;
	return 0;
}

int alert_engine_save(const struct alert_engine *e, struct buf *out)
{
	size_t count = 0;
	for (size_t i = 0; i < e->ngroups; i++)
		for (size_t j = 0; j < e->groups[i].group->nrules; j++)
			count += e->groups[i].rules[j].active.len;
	if (buf_add_u32le(out, STATE_MAGIC) < 0 || buf_add_u8(out, STATE_VERSION) < 0 ||
	    buf_add_uvarint(out, count) < 0)
		return -E2BIG;
	for (size_t i = 0; i < e->ngroups; i++) {
		const struct group_state *gs = &e->groups[i];
		for (size_t j = 0; j < gs->group->nrules; j++) {
			const struct rule_state *rs = &gs->rules[j];
			size_t n;
			struct alert **all = sorted_alerts(rs, &n);
			for (size_t k = 0; k < n; k++) {
				const struct alert *a = all[k];
				uint64_t bits;
				memcpy(&bits, &a->value, sizeof(bits));
				if (put_str(out, gs->group->name) < 0 || put_str(out, rs->rule->name) < 0 ||
				    buf_add_uvarint(out, j) < 0 || put_labels(out, a->labels) < 0 ||
				    put_labels(out, a->annotations) < 0 || buf_add_u8(out, (uint8_t)a->state) < 0 ||
				    buf_add_u64le(out, bits) < 0 || buf_add_varint(out, a->active_at_ms) < 0 ||
				    buf_add_varint(out, a->fired_at_ms) < 0 || buf_add_varint(out, a->resolved_at_ms) < 0 ||
				    buf_add_varint(out, a->last_sent_ms) < 0 || buf_add_varint(out, a->valid_until_ms) < 0 ||
				    buf_add_varint(out, a->keep_firing_since_ms) < 0) {
					free(all);
					return -E2BIG;
				}
			}
			free(all);
		}
	}
	return 0;
}

static char *get_str(struct rd *r)
{
	uint64_t n;
	const uint8_t *p;
	if (rd_uvarint(r, &n) < 0 || n > LABEL_VALUE_MAX || rd_bytes(r, (size_t)n, &p) < 0)
		return NULL;
	return xstrndup((const char *)p, (size_t)n);
}

static struct labels *get_labels(struct rd *r)
{
	uint64_t n;
	if (rd_uvarint(r, &n) < 0 || n > LABELS_MAX)
		return NULL;
	struct label v[LABELS_MAX];
	char *own[2 * LABELS_MAX];
	size_t nown = 0;
	struct labels *ls = NULL;
	for (size_t i = 0; i < n; i++) {
		char *k = get_str(r), *val = k ? get_str(r) : NULL;
		if (k)
			own[nown++] = k;
		if (val)
			own[nown++] = val;
		if (!k || !val)
			goto out;
		v[i].name = k;
		v[i].value = val;
	}
	ls = labels_new(v, (size_t)n);
	if (!ls)
		r->err = 1;
out:
	for (size_t i = 0; i < nown; i++)
		free(own[i]);
	return ls;
}

/* Find the rule an alert was saved under: same group and name, index preferred. */
static struct rule_state *find_rule(struct alert_engine *e, const char *group, const char *rule, uint64_t idx)
{
	for (size_t i = 0; i < e->ngroups; i++) {
		struct group_state *gs = &e->groups[i];
		if (strcmp(gs->group->name, group) != 0)
			continue;
		if (idx < gs->group->nrules && gs->rules[idx].rule->type == RULE_ALERTING &&
		    strcmp(gs->rules[idx].rule->name, rule) == 0)
			return &gs->rules[idx];
		for (size_t j = 0; j < gs->group->nrules; j++)
			if (gs->rules[j].rule->type == RULE_ALERTING && strcmp(gs->rules[j].rule->name, rule) == 0)
				return &gs->rules[j];
	}
	return NULL;
}

int alert_engine_restore(struct alert_engine *e, const void *p, size_t n)
{
	struct rd r;
	rd_init(&r, p, n);
	uint32_t magic;
	uint8_t ver;
	uint64_t count;
	if (rd_u32le(&r, &magic) < 0 || magic != STATE_MAGIC || rd_u8(&r, &ver) < 0 || ver != STATE_VERSION ||
	    rd_uvarint(&r, &count) < 0)
		return -EBADMSG;
	for (uint64_t i = 0; i < count; i++) {
		char *g = get_str(&r), *name = g ? get_str(&r) : NULL;
		uint64_t idx = 0, bits = 0;
		uint8_t st = 0;
		struct alert *a = xcalloc(1, sizeof(*a));
		if (name && rd_uvarint(&r, &idx) == 0)
			a->labels = get_labels(&r);
		if (a->labels)
			a->annotations = get_labels(&r);
		if (!a->annotations || rd_u8(&r, &st) < 0 || st > ALERT_FIRING || rd_u64le(&r, &bits) < 0 ||
		    rd_varint(&r, &a->active_at_ms) < 0 || rd_varint(&r, &a->fired_at_ms) < 0 ||
		    rd_varint(&r, &a->resolved_at_ms) < 0 || rd_varint(&r, &a->last_sent_ms) < 0 ||
		    rd_varint(&r, &a->valid_until_ms) < 0 || rd_varint(&r, &a->keep_firing_since_ms) < 0) {
			free(g);
			free(name);
			alert_free(a);
			return -EBADMSG;
		}
		a->state = (enum alert_state)st;
		memcpy(&a->value, &bits, sizeof(bits));
		a->hash = labels_hash(a->labels);
		struct rule_state *rs = find_rule(e, g, name, idx);
		const char *an = labels_get(a->labels, "alertname");
		if (rs && an && strcmp(an, name) == 0 && rs->active.len < ALERT_MAX_PER_RULE)
			alert_free(hmap_put(&rs->active, &a->hash, sizeof(a->hash), a));
		else
			alert_free(a);
		free(g);
		free(name);
	}
	return rd_left(&r) == 0 ? 0 : -EBADMSG;
}
