/*
 * api.c — the JSON vigil's HTTP API serves for rules and alerts, in the exact
 * shapes of Prometheus's /api/v1/rules and /api/v1/alerts, and the
 * Alertmanager API v2 alert objects the notifier receives (MSG_ALERTS).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert.h"
#include "core/xmalloc.h"

int alert_time_rfc3339(int64_t ms, struct buf *out)
{
	if (ms <= 0)
		return buf_adds(out, "0001-01-01T00:00:00Z");
	time_t s = (time_t)(ms / 1000);
	struct tm tm;
	if (!gmtime_r(&s, &tm))
		return buf_adds(out, "0001-01-01T00:00:00Z");
	char tmp[64];
	strftime(tmp, sizeof(tmp), "%Y-%m-%dT%H:%M:%S", &tm);
	int frac = (int)(ms % 1000);
	if (frac == 0)
		return buf_printf(out, "%sZ", tmp);
	/* Go's RFC3339Nano drops trailing zeros of the fraction. */
	char f[8];
	snprintf(f, sizeof(f), "%03d", frac);
	for (int i = 2; i > 0 && f[i] == '0'; i--)
		f[i] = 0;
	return buf_printf(out, "%s.%sZ", tmp, f);
}

static int add_time(struct buf *out, int64_t ms)
{
	if (buf_addc(out, '"') < 0 || alert_time_rfc3339(ms, out) < 0)
		return -E2BIG;
	return buf_addc(out, '"');
}

int alert_labels_json(const struct labels *ls, struct buf *out)
{
	if (buf_addc(out, '{') < 0)
		return -E2BIG;
	for (size_t i = 0; ls && i < ls->n; i++) {
		if ((i && buf_addc(out, ',') < 0) || buf_add_json_str(out, ls->v[i].name, strlen(ls->v[i].name)) < 0 ||
		    buf_addc(out, ':') < 0 || buf_add_json_str(out, ls->v[i].value, strlen(ls->v[i].value)) < 0)
			return -E2BIG;
	}
	return buf_addc(out, '}');
}

static int kv_json(const struct rule_kv *kv, size_t n, struct buf *out)
{
	if (buf_addc(out, '{') < 0)
		return -E2BIG;
	for (size_t i = 0; i < n; i++) {
		if ((i && buf_addc(out, ',') < 0) || buf_add_json_str(out, kv[i].name, strlen(kv[i].name)) < 0 ||
		    buf_addc(out, ':') < 0 || buf_add_json_str(out, kv[i].text, strlen(kv[i].text)) < 0)
			return -E2BIG;
	}
	return buf_addc(out, '}');
}

/* Go's strconv.FormatFloat(v, 'e', -1, 64). */
static void float_e(double v, char *out, size_t outsz)
{
	if (isnan(v)) {
		snprintf(out, outsz, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outsz, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int p = 1; p <= 17; p++) {
		snprintf(out, outsz, "%.*e", p - 1, v);
		if (strtod(out, NULL) == v)
			return;
	}
}

/* A JSON number as Go's encoding/json writes a float64. */
static int add_num(struct buf *out, double v)
{
	if (!isfinite(v))
		v = 0;
	return buf_printf(out, "%.17g", v) < 0 ? -E2BIG : 0;
}

static int add_seconds(struct buf *out, int64_t ms)
{
	if (ms % 1000 == 0)
		return buf_printf(out, "%lld", (long long)(ms / 1000));
	return buf_printf(out, "%.3f", (double)ms / 1000);
}

static int alert_api_json(const struct alert *a, struct buf *out)
{
	char v[64];
	float_e(a->value, v, sizeof(v));
	if (buf_adds(out, "{\"labels\":") < 0 || alert_labels_json(a->labels, out) < 0 ||
	    buf_adds(out, ",\"annotations\":") < 0 || alert_labels_json(a->annotations, out) < 0 ||
	    buf_printf(out, ",\"state\":\"%s\",\"activeAt\":", alert_state_name(a->state)) < 0 ||
	    add_time(out, a->active_at_ms) < 0)
		return -E2BIG;
	if (a->keep_firing_since_ms && (buf_adds(out, ",\"keepFiringSince\":") < 0 ||
	    add_time(out, a->keep_firing_since_ms) < 0))
		return -E2BIG;
	return buf_printf(out, ",\"value\":\"%s\"}", v);
}

static int alert_ptr_cmp(const void *x, const void *y)
{
	const struct alert *a = *(struct alert *const *)x, *b = *(struct alert *const *)y;
	return labels_cmp(a->labels, b->labels);
}

/* The pending and firing alerts of a rule, sorted (caller frees). */
static struct alert **active_alerts(const struct rule_state *rs, size_t *n, enum alert_state *top)
{
	struct alert **v = xcalloc(rs->active.len ? rs->active.len : 1, sizeof(*v));
	size_t it = 0, i = 0, kl;
	const char *k;
	void *val;
	*top = ALERT_INACTIVE;
	while (hmap_next(&rs->active, &it, &k, &kl, &val)) {
		struct alert *a = val;
		if (a->state == ALERT_INACTIVE)
			continue;
		if (a->state > *top)
			*top = a->state;
		v[i++] = a;
	}
	qsort(v, i, sizeof(*v), alert_ptr_cmp);
	*n = i;
	return v;
}

static const char *health(const struct rule_state *rs)
{
	return rs->healthy < 0 ? "unknown" : rs->healthy ? "ok" : "err";
}

static int rule_json(const struct rule_state *rs, struct buf *out)
{
	const struct rule *r = rs->rule;
	int rc = 0;
	if (r->type == RULE_ALERTING) {
		size_t n;
		enum alert_state top;
		struct alert **v = active_alerts(rs, &n, &top);
		rc |= buf_printf(out, "{\"state\":\"%s\",\"name\":", alert_state_name(top));
		rc |= buf_add_json_str(out, r->name, strlen(r->name));
		rc |= buf_adds(out, ",\"query\":");
		rc |= buf_add_json_str(out, rs->query, strlen(rs->query));
		rc |= buf_adds(out, ",\"duration\":");
		rc |= add_seconds(out, r->for_ms);
		rc |= buf_adds(out, ",\"keepFiringFor\":");
		rc |= add_seconds(out, r->keep_firing_for_ms);
		rc |= buf_adds(out, ",\"labels\":");
		rc |= kv_json(r->labels, r->nlabels, out);
		rc |= buf_adds(out, ",\"annotations\":");
		rc |= kv_json(r->annotations, r->nannotations, out);
		rc |= buf_adds(out, ",\"alerts\":[");
		for (size_t i = 0; i < n && rc == 0; i++)
			rc |= (i ? buf_addc(out, ',') : 0) | alert_api_json(v[i], out);
		rc |= buf_addc(out, ']');
		free(v);
	} else {
		rc |= buf_adds(out, "{\"name\":");
		rc |= buf_add_json_str(out, r->name, strlen(r->name));
		rc |= buf_adds(out, ",\"query\":");
		rc |= buf_add_json_str(out, rs->query, strlen(rs->query));
		if (r->nlabels) {
			rc |= buf_adds(out, ",\"labels\":");
			rc |= kv_json(r->labels, r->nlabels, out);
		}
	}
	rc |= buf_printf(out, ",\"health\":\"%s\"", health(rs));
	if (rs->healthy == 0 && rs->last_error[0]) {
		rc |= buf_adds(out, ",\"lastError\":");
		rc |= buf_add_json_str(out, rs->last_error, strlen(rs->last_error));
	}
	rc |= buf_adds(out, ",\"evaluationTime\":");
	rc |= add_num(out, rs->eval_seconds);
	rc |= buf_adds(out, ",\"lastEvaluation\":");
	rc |= add_time(out, rs->last_eval_ms);
	rc |= buf_printf(out, ",\"type\":\"%s\"}", r->type == RULE_ALERTING ? "alerting" : "recording");
	return rc ? -E2BIG : 0;
}

int alert_api_rules(const struct alert_engine *e, const char *type, struct buf *out)
{
	int want_alert = !type || !*type || strcmp(type, "alert") == 0;
	int want_record = !type || !*type || strcmp(type, "record") == 0;
	int rc = buf_adds(out, "{\"status\":\"success\",\"data\":{\"groups\":[");
	int first_group = 1;
	for (size_t i = 0; i < e->ngroups && rc == 0; i++) {
		const struct group_state *gs = &e->groups[i];
		if (!first_group)
			rc |= buf_addc(out, ',');
		first_group = 0;
		rc |= buf_adds(out, "{\"name\":");
		rc |= buf_add_json_str(out, gs->group->name, strlen(gs->group->name));
		rc |= buf_adds(out, ",\"file\":");
		rc |= buf_add_json_str(out, gs->group->file, strlen(gs->group->file));
		rc |= buf_adds(out, ",\"rules\":[");
		int first = 1;
		for (size_t j = 0; j < gs->group->nrules && rc == 0; j++) {
			const struct rule_state *rs = &gs->rules[j];
			if ((rs->rule->type == RULE_ALERTING && !want_alert) ||
			    (rs->rule->type == RULE_RECORDING && !want_record))
				continue;
			if (!first)
				rc |= buf_addc(out, ',');
			first = 0;
			rc |= rule_json(rs, out);
		}
		rc |= buf_adds(out, "],\"interval\":");
		rc |= add_seconds(out, gs->interval_ms);
		rc |= buf_printf(out, ",\"limit\":%lld,\"evaluationTime\":", (long long)gs->group->limit);
		rc |= add_num(out, gs->eval_seconds);
		rc |= buf_adds(out, ",\"lastEvaluation\":");
		rc |= add_time(out, gs->last_eval_ms);
		rc |= buf_addc(out, '}');
	}
	rc |= buf_adds(out, "]}}");
	return rc ? -E2BIG : 0;
}

int alert_api_alerts(const struct alert_engine *e, struct buf *out)
{
	int rc = buf_adds(out, "{\"status\":\"success\",\"data\":{\"alerts\":[");
	int first = 1;
	for (size_t i = 0; i < e->ngroups && rc == 0; i++) {
		for (size_t j = 0; j < e->groups[i].group->nrules && rc == 0; j++) {
			size_t n;
			enum alert_state top;
			struct alert **v = active_alerts(&e->groups[i].rules[j], &n, &top);
			for (size_t k = 0; k < n && rc == 0; k++) {
				if (!first)
					rc |= buf_addc(out, ',');
				first = 0;
				rc |= alert_api_json(v[k], out);
			}
			free(v);
		}
	}
	rc |= buf_adds(out, "]}}");
	return rc ? -E2BIG : 0;
}

/* Go's url.QueryEscape. */
static int query_escape(const char *s, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int rc;
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			rc = buf_addc(out, (char)*p);
		else if (*p == ' ')
			rc = buf_addc(out, '+');
		else
			rc = buf_printf(out, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
		if (rc < 0)
			return -E2BIG;
	}
	return 0;
}

struct labels *alert_notify_labels(const struct alert_engine *e, const struct labels *ls)
{
	/* External labels go on every notification unless the alert has that label. */
	struct labels_builder lb;
	lb_init(&lb);
	lb_reset(&lb, ls);
	const struct labels *ext = e->opts.external_labels;
	for (size_t i = 0; ext && i < ext->n; i++)
		if (!labels_get(ls, ext->v[i].name))
			lb_set(&lb, ext->v[i].name, ext->v[i].value);
	struct labels *out = lb_finish(&lb);
	lb_free(&lb);
	return out;
}

int alert_notify_json(const struct alert_engine *e, const char *query,
    const struct alert *a, struct buf *out)
{
	struct labels *ls = alert_notify_labels(e, a->labels);
	int rc = buf_adds(out, "{\"labels\":");
	rc |= alert_labels_json(ls, out);
	rc |= buf_adds(out, ",\"annotations\":");
	rc |= alert_labels_json(a->annotations, out);
	rc |= buf_adds(out, ",\"startsAt\":");
	rc |= add_time(out, a->fired_at_ms);
	rc |= buf_adds(out, ",\"endsAt\":");
	rc |= add_time(out, a->resolved_at_ms ? a->resolved_at_ms : a->valid_until_ms);
	rc |= buf_adds(out, ",\"generatorURL\":\"");
	struct buf url;
	buf_init(&url, 1u << 20);
	rc |= buf_adds(&url, e->opts.external_url ? e->opts.external_url : "");
	rc |= buf_adds(&url, "/graph?g0.expr=");
	rc |= query_escape(query, &url);
	rc |= buf_adds(&url, "&g0.tab=1");
	if (rc == 0 && url.data) {
		/* The URL goes inside the quotes already written; escape it as JSON. */
		out->len--;
		out->data[out->len] = 0;
		rc |= buf_add_json_str(out, url.data, url.len);
	}
	buf_free(&url);
	if (e->ops)
		rc |= alert_ops_mark(e->ops, ls, alert_fingerprint(ls), a->active_at_ms, e->eval_ms, out);
	rc |= buf_addc(out, '}');
	labels_free(ls);
	return rc ? -E2BIG : 0;
}
