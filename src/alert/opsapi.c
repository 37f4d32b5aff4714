/*
 * opsapi.c — the /api/alerting/... routes (docs/ALERTING.md): the alerts
 * with their operator state, acknowledgements, silences and maintenance
 * windows. The web worker has checked the caller's role; this file checks
 * the input and answers JSON. Errors use Prometheus's error shape.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/ops.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "tsdb/storage.h"

#define OPS_PREFIX "/api/alerting"

static int error(struct buf *out, int status, const char *type, const char *msg)
{
	buf_reset(out);
	buf_printf(out, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_add_json_str(out, msg, strlen(msg));
	buf_addc(out, '}');
	return status;
}

static int add_time(struct buf *out, int64_t ms)
{
	int rc = buf_addc(out, '"');
	rc |= alert_time_rfc3339(ms, out);
	return rc | buf_addc(out, '"');
}

/* Call fn for every pending or firing alert of the engine. */
typedef int (*each_alert_fn)(void *ctx, const struct group_state *gs, const struct rule_state *rs,
    const struct alert *a);
static int each_alert(const struct alert_engine *e, int all, each_alert_fn fn, void *ctx)
{
	for (size_t g = 0; g < e->ngroups; g++) {
		const struct group_state *gs = &e->groups[g];
		for (size_t r = 0; r < gs->group->nrules; r++) {
			const struct rule_state *rs = &gs->rules[r];
			size_t it = 0, kl;
			const char *k;
			void *v;
			while (hmap_next(&rs->active, &it, &k, &kl, &v)) {
				const struct alert *a = v;
				if (!all && a->state == ALERT_INACTIVE)
					continue;
				int rc = fn(ctx, gs, rs, a);
				if (rc)
					return rc;
			}
		}
	}
	return 0;
}

/* ---- GET /alerts ---- */

struct view_ctx {
	struct alert_runtime *rt;	/* the runtime */
	int64_t now;			/* time of the request */
	struct buf *out;		/* the answer */
	size_t n;			/* alerts written */
	int rc;				/* accumulated buffer errors */
};

static int view_one(void *ctx, const struct group_state *gs, const struct rule_state *rs, const struct alert *a)
{
	struct view_ctx *c = ctx;
	const struct alert_engine *e = alert_runtime_engine(c->rt);
	const struct alert_ops *o = alert_runtime_ops(c->rt);
	const struct alert_config *cfg = alert_runtime_config(c->rt);
	struct labels *ls = alert_notify_labels(e, a->labels);
	uint64_t fp = alert_fingerprint(ls);
	struct buf *out = c->out;
	int rc = buf_printf(out, "%s{\"fingerprint\":\"%016llx\",\"labels\":", c->n++ ? "," : "", (unsigned long long)fp);
	rc |= alert_labels_json(a->labels, out);
	rc |= buf_adds(out, ",\"annotations\":");
	rc |= alert_labels_json(a->annotations, out);
	rc |= buf_printf(out, ",\"state\":\"%s\",\"activeAt\":", alert_state_name(a->state));
	rc |= add_time(out, a->active_at_ms);
	rc |= buf_adds(out, ",\"firingSince\":");
	rc |= a->fired_at_ms ? add_time(out, a->fired_at_ms) : buf_adds(out, "null");
	rc |= buf_printf(out, ",\"value\":%.17g,\"rule\":", a->value == a->value && a->value - a->value == 0 ? a->value : 0);
	rc |= buf_add_json_str(out, rs->rule->name, strlen(rs->rule->name));
	rc |= buf_adds(out, ",\"group\":");
	rc |= buf_add_json_str(out, gs->group->name, strlen(gs->group->name));
	const struct alert_ack *ack = alert_ops_ack_find(o, fp, a->active_at_ms);
	rc |= buf_adds(out, ",\"acknowledged\":");
	rc |= ack ? ops_ack_json(ack, out) : buf_adds(out, "null");
	const char *ids[8];
	size_t ns = alert_ops_silenced_by(o, ls, c->now, ids, 8);
	rc |= buf_adds(out, ",\"silencedBy\":[");
	for (size_t i = 0; i < ns && i < 8; i++)
		rc |= (i ? buf_addc(out, ',') : 0) | buf_add_json_str(out, ids[i], strlen(ids[i]));
	rc |= buf_adds(out, "],\"maintenance\":[");
	int any = 0;
	for (size_t i = 0; cfg && i < cfg->nwindows; i++)
		if (maint_active(&cfg->windows[i], c->now) && maint_matches(&cfg->windows[i], ls)) {
			rc |= (any++ ? buf_addc(out, ',') : 0) |
			    buf_add_json_str(out, cfg->windows[i].name, strlen(cfg->windows[i].name));
		}
	for (size_t i = 0; o && i < o->nwindows; i++) {
		const struct alert_ops_window *w = o->windows[i];
		if (alert_ops_window_active(w, c->now) && alert_ops_window_matches(w, ls))
			rc |= (any++ ? buf_addc(out, ',') : 0) | buf_add_json_str(out, w->name, strlen(w->name));
	}
	rc |= buf_adds(out, "]}");
	labels_free(ls);
	c->rc |= rc;
	return rc ? -E2BIG : 0;
}

static int get_alerts(struct alert_runtime *rt, int64_t now, struct buf *out)
{
	struct view_ctx c = { rt, now, out, 0, 0 };
	buf_addc(out, '[');
	if (rt)
		each_alert(alert_runtime_engine(rt), 0, view_one, &c);
	if (c.rc || buf_addc(out, ']') < 0)
		return error(out, 500, "internal", "the answer is too large");
	return 200;
}

/* ---- acknowledgements ---- */

struct find_ctx {
	const struct alert_engine *e;	/* the engine */
	uint64_t fp;			/* fingerprint wanted (when labels is NULL) */
	const struct labels *labels;	/* or the label set wanted */
	const struct alert *hit;	/* the alert found */
	struct labels *hit_labels;	/* its notified labels (owned) */
	uint64_t hit_fp;		/* its fingerprint */
};

static int find_one(void *ctx, const struct group_state *gs, const struct rule_state *rs, const struct alert *a)
{
	(void)gs;
	(void)rs;
	struct find_ctx *c = ctx;
	struct labels *ls = alert_notify_labels(c->e, a->labels);
	uint64_t fp = alert_fingerprint(ls);
	int hit = c->labels ? labels_cmp(c->labels, a->labels) == 0 || labels_cmp(c->labels, ls) == 0 : fp == c->fp;
	if (!hit) {
		labels_free(ls);
		return 0;
	}
	c->hit = a;
	c->hit_labels = ls;
	c->hit_fp = fp;
	return 1;
}

static int post_ack(struct alert_runtime *rt, const struct ajson *j, const char *user, int64_t now, struct buf *out)
{
	if (!j || j->t != AJSON_OBJ)
		return error(out, 400, "bad_data", "expected a JSON object {\"fingerprint\"|\"labels\", \"comment\"}");
	struct find_ctx c = { .e = alert_runtime_engine(rt) };
	const char *fp = ajson_get_str(j, "fingerprint");
	const struct ajson *lj = ajson_get(j, "labels");
	struct labels *want = NULL;
	if (fp) {
		char *end = NULL;
		c.fp = strtoull(fp, &end, 16);
		if (strlen(fp) != 16 || *end)
			return error(out, 400, "bad_data", "fingerprint must be 16 hex digits");
	} else if (lj && lj->t == AJSON_OBJ && lj->n) {
		struct labels_builder lb;
		lb_init(&lb);
		for (size_t i = 0; i < lj->n; i++) {
			if (lj->v[i]->t != AJSON_STR) {
				lb_free(&lb);
				return error(out, 400, "bad_data", "labels must map names to strings");
			}
			lb_set(&lb, lj->keys[i], lj->v[i]->str);
		}
		want = lb_finish(&lb);
		c.labels = want;
		lb_free(&lb);
	} else {
		return error(out, 400, "bad_data", "give the alert's fingerprint or its labels");
	}
	struct alert_ack a = { 0 };
	const struct ajson *cm = ajson_get(j, "comment");
	if (cm && (cm->t != AJSON_STR || cm->len > ALERT_OPS_TEXT_MAX || strlen(cm->str) != cm->len)) {
		labels_free(want);
		return error(out, 400, "bad_data", "comment must be a string of at most 1024 bytes");
	}
	each_alert(c.e, 0, find_one, &c);
	labels_free(want);
	if (!c.hit)
		return error(out, 404, "not_found", "no pending or firing alert with that fingerprint or label set");
	a.fp = c.hit_fp;
	a.active_at_ms = c.hit->active_at_ms;
	a.labels = c.hit_labels;
	a.by = xstrdup(user);
	a.comment = xstrdup(cm ? cm->str : "");
	a.at_ms = now;
	int rc = ops_ack_put(alert_runtime_ops(rt), &a);
	if (rc < 0) {
		ops_ack_clear(&a);
		return rc == -ENOSPC ? error(out, 409, "conflict", "too many acknowledgements")
		    : error(out, 500, "internal", "cannot store the acknowledgement");
	}
	const struct alert_ack *s = alert_ops_ack_find(alert_runtime_ops(rt), c.hit_fp, c.hit->active_at_ms);
	log_info("alert acknowledged", "fingerprint=%016llx by=%s", (unsigned long long)c.hit_fp, user);
	return s && ops_ack_json(s, out) == 0 ? 200 : error(out, 500, "internal", "cannot show it");
}

static int list_acks(const struct alert_ops *o, struct buf *out)
{
	int rc = buf_addc(out, '[');
	for (size_t i = 0; o && i < o->nacks; i++)
		rc |= (i ? buf_addc(out, ',') : 0) | ops_ack_json(o->acks[i], out);
	rc |= buf_addc(out, ']');
	return rc ? error(out, 500, "internal", "the answer is too large") : 200;
}

/* ---- silences ---- */

static int list_silences(const struct alert_ops *o, int64_t now, struct buf *out)
{
	int rc = buf_addc(out, '[');
	for (size_t i = 0; o && i < o->nsilences; i++)
		rc |= (i ? buf_addc(out, ',') : 0) | ops_silence_json(o->silences[i], now, out);
	rc |= buf_addc(out, ']');
	return rc ? error(out, 500, "internal", "the answer is too large") : 200;
}

static int post_silence(struct alert_ops *o, const struct ajson *j, const char *user, int64_t now, struct buf *out)
{
	char err[ALERT_ERR_MAX], id[ALERT_OPS_ID_LEN + 1];
	struct alert_silence s;
	if (ops_silence_from_json(j, now, &s, err, sizeof(err)) < 0)
		return error(out, 400, "bad_data", err);
	if (s.ends_ms <= now) {
		ops_silence_clear(&s);
		return error(out, 400, "bad_data", "endsAt is in the past");
	}
	if (!s.created_by[0]) {
		free(s.created_by);
		s.created_by = xstrdup(user);
	}
	int rc = ops_silence_put(o, &s, now, id, err, sizeof(err));
	ops_silence_clear(&s);
	if (rc < 0)
		return error(out, rc == -ENOENT ? 404 : rc == -ENOSPC ? 409 : 500,
		    rc == -ENOENT ? "not_found" : rc == -ENOSPC ? "conflict" : "internal", err);
	log_info("silence stored", "id=%s by=%s", id, user);
	buf_printf(out, "{\"silenceID\":\"%s\"}", id);
	return 200;
}

/* ---- maintenance windows ---- */

static int config_window_json(const struct maint_window *w, int64_t now, struct buf *out)
{
	int rc = buf_adds(out, "{\"id\":null,\"source\":\"config\",\"name\":");
	rc |= buf_add_json_str(out, w->name, strlen(w->name));
	rc |= buf_adds(out, ",\"matchers\":");
	rc |= ops_matchers_json(w->m, w->nm, out);
	if (w->weekdays) {
		rc |= ops_weekly_json(w->weekdays, w->from_min, w->to_min, out);
	} else {
		rc |= buf_adds(out, ",\"startsAt\":");
		rc |= add_time(out, w->start_ms);
		rc |= buf_adds(out, ",\"endsAt\":");
		rc |= add_time(out, w->end_ms);
	}
	rc |= buf_printf(out, ",\"active\":%s}", maint_active(w, now) ? "true" : "false");
	return rc ? -E2BIG : 0;
}

static int list_windows(struct alert_runtime *rt, int64_t now, struct buf *out)
{
	const struct alert_config *cfg = rt ? alert_runtime_config(rt) : NULL;
	const struct alert_ops *o = rt ? alert_runtime_ops(rt) : NULL;
	int rc = buf_addc(out, '[');
	size_t n = 0;
	for (size_t i = 0; cfg && i < cfg->nwindows; i++)
		rc |= (n++ ? buf_addc(out, ',') : 0) | config_window_json(&cfg->windows[i], now, out);
	for (size_t i = 0; o && i < o->nwindows; i++)
		rc |= (n++ ? buf_addc(out, ',') : 0) | ops_window_json(o->windows[i], now, out);
	rc |= buf_addc(out, ']');
	return rc ? error(out, 500, "internal", "the answer is too large") : 200;
}

static int post_window(struct alert_ops *o, const struct ajson *j, const char *user, int64_t now, struct buf *out)
{
	char err[ALERT_ERR_MAX], id[ALERT_OPS_ID_LEN + 1];
	struct alert_ops_window w;
	if (ops_window_from_json(j, now, &w, err, sizeof(err)) < 0)
		return error(out, 400, "bad_data", err);
	w.id[0] = 0;	/* ids are made here, never chosen by the caller */
	if (w.ends_ms <= now) {
		ops_window_clear(&w);
		return error(out, 400, "bad_data", "endsAt is in the past");
	}
	if (!w.created_by[0]) {
		free(w.created_by);
		w.created_by = xstrdup(user);
	}
	int rc = ops_window_put(o, &w, id);
	ops_window_clear(&w);
	if (rc < 0)
		return error(out, rc == -ENOSPC ? 409 : 500, rc == -ENOSPC ? "conflict" : "internal",
		    rc == -ENOSPC ? "too many maintenance windows" : "cannot store it");
	log_info("maintenance window stored", "id=%s by=%s", id, user);
	buf_printf(out, "{\"id\":\"%s\"}", id);
	return 200;
}

/* Alertmanager's GET /api/v2/status, for amtool: vigil is no cluster and has
 * no Alertmanager config; the shape is what amtool checks. */
static int am_status(int64_t now_ms, struct buf *out)
{
	int rc = buf_adds(out, "{\"cluster\":{\"status\":\"disabled\",\"peers\":[]},"
	    "\"config\":{\"original\":\"# vigil: alerting is configured in vigil's own config file\\n\"},"
	    "\"uptime\":");
	rc |= add_time(out, now_ms);
	rc |= buf_adds(out, ",\"versionInfo\":{\"branch\":\"\",\"buildDate\":\"\",\"buildUser\":\"\","
	    "\"goVersion\":\"\",\"revision\":\"\",\"version\":\"vigil-" VIGIL_VERSION "\"}}");
	return rc ? error(out, 500, "internal", "too large") : 200;
}

/* ---- routing ---- */

static int is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static int not_allowed(struct buf *out, const char *allow)
{
	char msg[96];
	snprintf(msg, sizeof(msg), "method not allowed here; use %s", allow);
	return error(out, 405, "bad_data", msg);
}

/* The request body as JSON: NULL with a 400 in out when it is not. */
static struct ajson *parse_body(const char *body, size_t len, struct buf *out, int *status)
{
	struct ajson *j = NULL;
	char err[256], msg[300];
	if (len > ALERT_OPS_BODY_MAX) {
		*status = error(out, 413, "bad_data", "request body too large");
		return NULL;
	}
	if (ajson_parse(body ? body : "", len, &j, err, sizeof(err)) < 0) {
		snprintf(msg, sizeof(msg), "the body is not JSON: %s", err);
		*status = error(out, 400, "bad_data", msg);
		return NULL;
	}
	return j;
}

int alert_ops_http(struct alert_runtime *rt, const char *method, const char *path, const char *user,
    const char *body, size_t body_len, int64_t now_ms, struct buf *out)
{
	struct alert_ops *o = rt ? alert_runtime_ops(rt) : NULL;
	if (strncmp(path, OPS_PREFIX "/", strlen(OPS_PREFIX) + 1) != 0)
		return error(out, 404, "not_found", "no such /api/alerting endpoint");
	const char *p = path + strlen(OPS_PREFIX);
	int get = is(method, "GET") || is(method, "HEAD"), post = is(method, "POST"), del = is(method, "DELETE");
	/* amtool, given --alertmanager.url=http://vigil/api/alerting, asks for
	 * Alertmanager's paths below it: its status, then the silences. */
	char amp[ALERT_OPS_ID_LEN + 64];
	if (is(p, "/api/v2/status"))
		return get ? am_status(now_ms, out) : not_allowed(out, "GET");
	if (strncmp(p, "/api/v2/silences", 16) == 0 && (p[16] == 0 || (p[16] == '?'))) {
		p = "/silences";
	} else if (strncmp(p, "/api/v2/silence/", 16) == 0 && strlen(p + 16) <= ALERT_OPS_ID_LEN) {
		snprintf(amp, sizeof(amp), "/silences/%s", p + 16);
		p = amp;
	}
	const char *sub = NULL;
	const char *kind = NULL;
	static const char *const kinds[] = { "/alerts", "/ack", "/silences", "/maintenance" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]) && !kind; i++) {
		size_t kl = strlen(kinds[i]);
		if (strncmp(p, kinds[i], kl) == 0 && (p[kl] == 0 || (p[kl] == '/' && p[kl + 1]))) {
			kind = kinds[i];
			sub = p[kl] ? p + kl + 1 : NULL;
		}
	}
	if (!kind || (sub && (is(kind, "/alerts") || strchr(sub, '/'))))
		return error(out, 404, "not_found", "no such /api/alerting endpoint");
	if (o)
		ops_gc(o, now_ms);
	if (is(kind, "/alerts"))
		return get ? get_alerts(rt, now_ms, out) : not_allowed(out, "GET");
	if (sub ? !(del || (get && is(kind, "/silences"))) : !(get || post))
		return not_allowed(out, sub ? (is(kind, "/silences") ? "GET, DELETE" : "DELETE") : "GET, POST");
	if (get && !sub) {
		if (is(kind, "/ack"))
			return list_acks(o, out);
		if (is(kind, "/silences"))
			return list_silences(o, now_ms, out);
		return list_windows(rt, now_ms, out);
	}
	if (get) {
		const struct alert_silence *s = o ? ops_silence_get(o, sub) : NULL;
		if (!s)
			return error(out, 404, "not_found", "no silence with that id");
		return ops_silence_json(s, now_ms, out) < 0 ? error(out, 500, "internal", "too large") : 200;
	}
	if (!rt || !o)
		return error(out, 409, "unavailable", "alerting is not configured (no rule_files or alerting section)");
	if (del) {
		int rc;
		if (is(kind, "/ack")) {
			char *end = NULL;
			uint64_t fp = strtoull(sub, &end, 16);
			rc = strlen(sub) != 16 || *end ? -EINVAL : ops_ack_delete(o, fp);
		} else if (is(kind, "/silences")) {
			rc = ops_silence_expire(o, sub, now_ms);
		} else {
			rc = ops_window_delete(o, sub);
		}
		if (rc == -ENOENT || rc == -EINVAL)
			return error(out, 404, "not_found", "nothing with that id");
		if (rc < 0)
			return error(out, 500, "internal", "cannot store the change");
		log_info("operator action removed", "what=%s id=%s by=%s", kind + 1, sub, user);
		buf_adds(out, "{}");
		return 200;
	}
	int status = 0;
	struct ajson *j = parse_body(body, body_len, out, &status);
	if (!j)
		return status;
	if (is(kind, "/ack"))
		status = post_ack(rt, j, user, now_ms, out);
	else if (is(kind, "/silences"))
		status = post_silence(o, j, user, now_ms, out);
	else
		status = post_window(o, j, user, now_ms, out);
	ajson_free(j);
	return status;
}

/* ---- acknowledgements end with their alert ---- */

struct gc_ctx {
	const struct alert_engine *e;	/* the engine */
	struct hmap live;		/* fingerprint (8 bytes) -> activeAt (as a pointer-sized int) */
};

static int gc_one(void *ctx, const struct group_state *gs, const struct rule_state *rs, const struct alert *a)
{
	(void)gs;
	(void)rs;
	struct gc_ctx *c = ctx;
	struct labels *ls = alert_notify_labels(c->e, a->labels);
	uint64_t fp = alert_fingerprint(ls);
	labels_free(ls);
	int64_t *at = xmalloc(sizeof(*at));
	*at = a->active_at_ms;
	free(hmap_put(&c->live, &fp, sizeof(fp), at));
	return 0;
}

void alert_ops_gc_acks(struct alert_runtime *rt)
{
	struct alert_ops *o = alert_runtime_ops(rt);
	if (!o || !o->nacks)
		return;
	struct gc_ctx c = { .e = alert_runtime_engine(rt) };
	hmap_init(&c.live);
	each_alert(c.e, 1, gc_one, &c);
	for (size_t i = 0; i < o->nacks;) {
		const int64_t *at = hmap_get(&c.live, &o->acks[i]->fp, sizeof(uint64_t));
		if (at && *at == o->acks[i]->active_at_ms) {
			i++;
			continue;
		}
		/* Its alert is gone or started a new episode: the acknowledgement ends. */
		log_info("acknowledgement ended with its alert", "fingerprint=%016llx", (unsigned long long)o->acks[i]->fp);
		ops_ack_delete(o, o->acks[i]->fp);
	}
	hmap_free(&c.live, free);
}
