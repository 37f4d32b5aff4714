/*
 * alert_state_test.c — rule evaluation and alert state against a fake query
 * function (a unit-test double standing in for the PromQL engine: it returns
 * whatever instant vector the test put in it, for any expression).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "alert/alert.h"
#include "t.h"

#define MIN 60000

/* ---- the test double ---- */

struct fake_query {
	struct alert_vector vec;	/* returned for every expression */
	int fail;			/* return an error instead */
	int calls;			/* how often it was asked */
	int64_t last_ts;		/* the time it was last asked about */
};

static int fake_query_fn(void *ctx, const char *expr, int64_t ts, struct alert_vector *out, char *err, size_t errsz)
{
	struct fake_query *q = ctx;
	(void)expr;
	q->last_ts = ts;
	q->calls++;
	if (q->fail) {
		snprintf(err, errsz, "fake failure");
		return -1;
	}
	for (size_t i = 0; i < q->vec.n; i++)
		alert_vector_add(out, q->vec.v[i].ls, q->vec.v[i].v);
	return 0;
}

static void fq_set(struct fake_query *q, const char *instance, double v)
{
	alert_vector_reset(&q->vec);
	if (!instance)
		return;
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "__name__", "up");
	lb_set(&lb, "instance", instance);
	lb_set(&lb, "job", "node");
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	alert_vector_add(&q->vec, ls, v);
	labels_free(ls);
}

/* ---- a sink that renders samples as text lines ---- */

static int text_sink_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct buf *b = ctx;
	labels_format(ls, b);
	if (is_stale_nan(v))
		return buf_printf(b, " STALE @%lld\n", (long long)ts);
	return buf_printf(b, " %.15g @%lld\n", v, (long long)ts);
}

struct fixture {
	struct alert_engine *e;		/* engine under test */
	struct fake_query q;		/* the query double */
	struct buf samples;		/* what the sink got */
	struct buf notify;		/* notifications */
	struct sample_sink sink;	/* writes to samples */
};

static void fx_init(struct fixture *f, const char *yaml)
{
	memset(f, 0, sizeof(*f));
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	if (rules_parse(rs, "t.yml", yaml, strlen(yaml), NULL, NULL, err, sizeof(err)) < 0)
		printf("rules_parse: %s\n", err);
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "site", "lon");
	struct labels *ext = lb_finish(&lb);
	lb_free(&lb);
	struct alert_engine_opts o = { .default_interval_ms = MIN, .resend_delay_ms = MIN,
		.external_labels = ext, .external_url = "http://vigil:9920" };
	f->e = alert_engine_new(rs, &o);
	labels_free(ext);
	buf_init(&f->samples, 1 << 20);
	buf_init(&f->notify, 1 << 20);
	f->sink.add = text_sink_add;
	f->sink.ctx = &f->samples;
}

static void fx_free(struct fixture *f)
{
	alert_engine_free(f->e);
	alert_vector_free(&f->q.vec);
	buf_free(&f->samples);
	buf_free(&f->notify);
}

static int fx_eval(struct fixture *f, int64_t ts)
{
	buf_reset(&f->samples);
	buf_reset(&f->notify);
	return alert_engine_eval_group(f->e, 0, ts, fake_query_fn, &f->q, &f->sink, &f->notify);
}

static const char *S(const struct buf *b)
{
	return b->data ? b->data : "";
}

static const struct alert *only_alert(struct fixture *f)
{
	const struct hmap *m = &f->e->groups[0].rules[0].active;
	size_t it = 0, kl;
	const char *k;
	void *v;
	if (m->len != 1 || !hmap_next(m, &it, &k, &kl, &v))
		return NULL;
	return v;
}

static const char *rules_for =
    "groups:\n- name: g\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n"
    "    labels:\n      severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'\n"
    "    annotations:\n      summary: '{{ $labels.instance }} down ({{ $value }})'\n";

#define T0 1700000040000LL	/* a whole minute */

T_TEST(state_pending_then_firing_then_resolved)
{
	struct fixture f;
	fx_init(&f, rules_for);
	fq_set(&f.q, "web1", 0);
	T_EQ_INT(fx_eval(&f, T0), 0);
	const struct alert *a = only_alert(&f);
	T_CHECK(a && a->state == ALERT_PENDING);
	T_EQ_STR(S(&f.samples),
	    "ALERTS{alertname=\"Down\", alertstate=\"pending\", instance=\"web1\", job=\"node\", severity=\"ticket\"} 1 @1700000040000\n"
	    "ALERTS_FOR_STATE{alertname=\"Down\", instance=\"web1\", job=\"node\", severity=\"ticket\"} 1700000040 @1700000040000\n");
	T_EQ_STR(S(&f.notify), "");	/* pending alerts are not sent */

	T_EQ_INT(fx_eval(&f, T0 + 4 * MIN), 0);
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_PENDING);
	T_EQ_INT(fx_eval(&f, T0 + 5 * MIN), 0);
	a = only_alert(&f);
	T_CHECK(a && a->state == ALERT_FIRING);
	T_CHECK(strstr(S(&f.samples), "alertstate=\"firing\"") != NULL);
	/* the pending series went away: it gets a staleness marker */
	T_CHECK(strstr(S(&f.samples), "alertstate=\"pending\", instance=\"web1\", job=\"node\", severity=\"ticket\"} STALE @1700000340000") != NULL);
	T_EQ_STR(S(&f.notify),
	    "{\"labels\":{\"alertname\":\"Down\",\"instance\":\"web1\",\"job\":\"node\",\"severity\":\"ticket\",\"site\":\"lon\"},"
	    "\"annotations\":{\"summary\":\"web1 down (0)\"},\"startsAt\":\"2023-11-14T22:19:00Z\","
	    "\"endsAt\":\"2023-11-14T22:23:00Z\",\"generatorURL\":\"http://vigil:9920/graph?g0.expr=up+%3D%3D+0&g0.tab=1\"}");

	/* within resend_delay: not sent again; after it: resent */
	T_EQ_INT(fx_eval(&f, T0 + 6 * MIN), 0);
	T_EQ_STR(S(&f.notify), "");
	T_EQ_INT(fx_eval(&f, T0 + 7 * MIN), 0);
	T_CHECK(strstr(S(&f.notify), "\"startsAt\":\"2023-11-14T22:19:00Z\"") != NULL);

	/* the series goes away: resolved, sent with endsAt = now, ALERTS stale */
	fq_set(&f.q, NULL, 0);
	T_EQ_INT(fx_eval(&f, T0 + 8 * MIN), 0);
	a = only_alert(&f);
	T_CHECK(a && a->state == ALERT_INACTIVE && a->resolved_at_ms == T0 + 8 * MIN);
	T_CHECK(strstr(S(&f.notify), "\"endsAt\":\"2023-11-14T22:22:00Z\"") != NULL);
	T_CHECK(strstr(S(&f.samples), "alertstate=\"firing\", instance=\"web1\", job=\"node\", severity=\"ticket\"} STALE") != NULL);
	/* kept 15 minutes for re-sending, then forgotten */
	T_EQ_INT(fx_eval(&f, T0 + 20 * MIN), 0);
	T_CHECK(only_alert(&f) != NULL);
	T_EQ_INT(fx_eval(&f, T0 + 24 * MIN), 0);
	T_CHECK(only_alert(&f) == NULL);
	fx_free(&f);
}

T_TEST(state_pending_that_clears_is_never_sent)
{
	struct fixture f;
	fx_init(&f, rules_for);
	fq_set(&f.q, "web1", 1);
	fx_eval(&f, T0);
	fq_set(&f.q, NULL, 0);
	fx_eval(&f, T0 + MIN);
	T_CHECK(only_alert(&f) == NULL);
	T_EQ_STR(S(&f.notify), "");
	fx_free(&f);
}

T_TEST(state_for_zero_fires_at_once_and_value_templates)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  rules:\n  - alert: Hot\n    expr: x > 1\n"
	    "    labels:\n      severity: '{{ if gt $value 0.5 }}page{{ else }}ticket{{ end }}'\n");
	fq_set(&f.q, "web1", 0.9);
	fx_eval(&f, T0);
	const struct alert *a = only_alert(&f);
	T_CHECK(a && a->state == ALERT_FIRING);
	T_EQ_STR(a ? labels_get(a->labels, "severity") : NULL, "page");
	T_CHECK(strstr(S(&f.notify), "\"severity\":\"page\"") != NULL);
	fx_free(&f);
}

T_TEST(state_keep_firing_for)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  rules:\n  - alert: Flappy\n    expr: x\n    keep_firing_for: 3m\n");
	fq_set(&f.q, "web1", 1);
	fx_eval(&f, T0);
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_FIRING);
	fq_set(&f.q, NULL, 0);
	fx_eval(&f, T0 + MIN);		/* missing since T0+1m */
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_FIRING);
	T_EQ_INT(only_alert(&f)->keep_firing_since_ms, T0 + MIN);
	fx_eval(&f, T0 + 3 * MIN);
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_FIRING);
	fx_eval(&f, T0 + 4 * MIN);	/* 3m after it went missing: resolves */
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_INACTIVE);
	/* back again: a fresh alert (for: 0 fires at once), keepFiringSince reset */
	fq_set(&f.q, "web1", 1);
	fx_eval(&f, T0 + 5 * MIN);
	T_CHECK(only_alert(&f) && only_alert(&f)->state == ALERT_FIRING);
	T_EQ_INT(only_alert(&f)->keep_firing_since_ms, 0);
	T_EQ_INT(only_alert(&f)->active_at_ms, T0 + 5 * MIN);
	fx_free(&f);
}

T_TEST(state_recording_rule_series)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  rules:\n  - record: job:up:sum\n    expr: sum(up)\n"
	    "    labels:\n      team: infra\n");
	fq_set(&f.q, "web1", 3);
	T_EQ_INT(fx_eval(&f, T0), 0);
	T_EQ_STR(S(&f.samples), "job:up:sum{instance=\"web1\", job=\"node\", team=\"infra\"} 3 @1700000040000\n");
	fq_set(&f.q, NULL, 0);
	T_EQ_INT(fx_eval(&f, T0 + MIN), 0);
	T_EQ_STR(S(&f.samples), "job:up:sum{instance=\"web1\", job=\"node\", team=\"infra\"} STALE @1700000100000\n");
	fx_free(&f);
}

T_TEST(state_errors_and_limit)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  limit: 1\n  rules:\n  - alert: A\n    expr: x\n");
	/* two series -> two alerts > limit 1 */
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "instance", "a");
	struct labels *l1 = lb_labels(&lb);
	lb_set(&lb, "instance", "b");
	struct labels *l2 = lb_finish(&lb);
	lb_free(&lb);
	alert_vector_add(&f.q.vec, l1, 1);
	alert_vector_add(&f.q.vec, l2, 1);
	T_EQ_INT(fx_eval(&f, T0), 1);
	T_EQ_STR(f.e->groups[0].rules[0].last_error, "exceeded limit of 1 with 2 alerts");
	T_EQ_INT(f.e->groups[0].rules[0].active.len, 0);
	/* a failing query marks the rule unhealthy */
	f.q.fail = 1;
	T_EQ_INT(fx_eval(&f, T0 + MIN), 1);
	T_EQ_STR(f.e->groups[0].rules[0].last_error, "fake failure");
	T_EQ_INT(f.e->groups[0].rules[0].healthy, 0);
	/* the same labels twice after __name__ is dropped */
	f.q.fail = 0;
	alert_vector_reset(&f.q.vec);
	alert_vector_add(&f.q.vec, l1, 1);
	lb_init(&lb);
	lb_reset(&lb, l1);
	lb_set(&lb, "__name__", "other");
	struct labels *l3 = lb_finish(&lb);
	lb_free(&lb);
	alert_vector_add(&f.q.vec, l3, 2);
	T_EQ_INT(fx_eval(&f, T0 + 2 * MIN), 1);
	T_EQ_STR(f.e->groups[0].rules[0].last_error,
	    "vector contains metrics with the same labelset after applying alert labels");
	labels_free(l1);
	labels_free(l2);
	labels_free(l3);
	fx_free(&f);
}

T_TEST(state_save_restore_roundtrip)
{
	struct fixture f, g;
	fx_init(&f, rules_for);
	fq_set(&f.q, "web1", 0);
	fx_eval(&f, T0);
	fx_eval(&f, T0 + 5 * MIN);
	struct buf saved, a1, a2;
	buf_init(&saved, 1 << 20);
	buf_init(&a1, 1 << 20);
	buf_init(&a2, 1 << 20);
	T_EQ_INT(alert_engine_save(f.e, &saved), 0);
	fx_init(&g, rules_for);
	T_EQ_INT(alert_engine_restore(g.e, saved.data, saved.len), 0);
	alert_api_alerts(f.e, &a1);
	alert_api_alerts(g.e, &a2);
	T_EQ_STR(S(&a2), S(&a1));
	T_CHECK(strstr(S(&a2), "\"state\":\"firing\"") != NULL);
	/* the restored alert keeps firing without a new `for` wait, and is not re-sent early */
	fq_set(&g.q, "web1", 0);
	fx_eval(&g, T0 + 6 * MIN);
	T_CHECK(only_alert(&g) && only_alert(&g)->state == ALERT_FIRING);
	T_EQ_INT(only_alert(&g)->active_at_ms, T0);
	T_EQ_STR(S(&g.notify), "");
	/* damaged state is refused */
	T_EQ_INT(alert_engine_restore(g.e, saved.data, saved.len - 3), -EBADMSG);
	T_EQ_INT(alert_engine_restore(g.e, "junk", 4), -EBADMSG);
	buf_free(&saved);
	buf_free(&a1);
	buf_free(&a2);
	fx_free(&f);
	fx_free(&g);
}

T_TEST(state_api_json_shapes)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  interval: 30s\n  rules:\n  - alert: Down\n    expr: up == 0\n    for: 5m\n"
	    "    labels:\n      severity: page\n    annotations:\n      summary: down\n"
	    "  - record: r\n    expr: up\n");
	fq_set(&f.q, "web1", 0);
	fx_eval(&f, T0);
	f.e->groups[0].rules[0].eval_seconds = 0.25;
	f.e->groups[0].rules[1].eval_seconds = 0.5;
	f.e->groups[0].eval_seconds = 1;
	struct buf b;
	buf_init(&b, 1 << 20);
	T_EQ_INT(alert_api_alerts(f.e, &b), 0);
	T_EQ_STR(S(&b), "{\"status\":\"success\",\"data\":{\"alerts\":[{\"labels\":{\"alertname\":\"Down\","
	    "\"instance\":\"web1\",\"job\":\"node\",\"severity\":\"page\"},\"annotations\":{\"summary\":\"down\"},"
	    "\"state\":\"pending\",\"activeAt\":\"2023-11-14T22:14:00Z\",\"value\":\"0e+00\"}]}}");
	buf_reset(&b);
	T_EQ_INT(alert_api_rules(f.e, "record", &b), 0);
	T_EQ_STR(S(&b), "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"g\",\"file\":\"t.yml\",\"rules\":["
	    "{\"name\":\"r\",\"query\":\"up\",\"health\":\"ok\",\"evaluationTime\":0.5,"
	    "\"lastEvaluation\":\"2023-11-14T22:14:00Z\",\"type\":\"recording\"}],"
	    "\"interval\":30,\"limit\":0,\"evaluationTime\":1,\"lastEvaluation\":\"2023-11-14T22:14:00Z\"}]}}");
	buf_reset(&b);
	T_EQ_INT(alert_api_rules(f.e, "alert", &b), 0);
	T_CHECK(strstr(S(&b), "{\"state\":\"pending\",\"name\":\"Down\",\"query\":\"up == 0\",\"duration\":300,"
	    "\"keepFiringFor\":0,\"labels\":{\"severity\":\"page\"},\"annotations\":{\"summary\":\"down\"},"
	    "\"alerts\":[{") != NULL);
	T_CHECK(strstr(S(&b), "\"health\":\"ok\",\"evaluationTime\":0.25,\"lastEvaluation\":\"2023-11-14T22:14:00Z\","
	    "\"type\":\"alerting\"}") != NULL);
	buf_free(&b);
	fx_free(&f);
}

/* A template's query goes through the rule's own query function, at the
 * evaluation time, once per alert. */
T_TEST(state_template_query_runs_at_eval_time)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up\n    annotations:\n"
	    "      n: '{{ with query \"up\" }}{{ . | first | label \"instance\" }}={{ . | first | value }}{{ end }}'\n");
	fq_set(&f.q, "web1", 2);
	T_EQ_INT(fx_eval(&f, T0 + 7), 0);
	T_EQ_INT(f.q.calls, 2);
	T_EQ_INT(f.q.last_ts, T0 + 7);
	T_EQ_STR(labels_get(only_alert(&f)->annotations, "n"), "web1=2");
	fx_free(&f);
}

T_TEST(state_eval_due_respects_interval)
{
	struct fixture f;
	fx_init(&f, "groups:\n- name: g\n  interval: 30s\n  rules:\n  - record: r\n    expr: up\n");
	fq_set(&f.q, "web1", 1);
	/* Prometheus's slot: the group's own offset inside the 30 s interval */
	int64_t slot = alert_group_eval_ts(f.e->groups[0].group, 30000, T0 + 1000);
	T_CHECK(slot <= T0 + 1000 && slot > T0 + 1000 - 30000);
	alert_engine_eval_due(f.e, T0 + 1000, fake_query_fn, &f.q, &f.sink, &f.notify);
	alert_engine_eval_due(f.e, slot + 29999, fake_query_fn, &f.q, &f.sink, &f.notify);
	T_EQ_INT(f.q.calls, 1);
	T_EQ_INT(f.e->groups[0].last_eval_ms, slot);
	alert_engine_eval_due(f.e, slot + 31000, fake_query_fn, &f.q, &f.sink, &f.notify);
	T_EQ_INT(f.q.calls, 2);
	T_EQ_INT(f.e->groups[0].last_eval_ms, slot + 30000);
	fx_free(&f);
}

/* The store worker's wrapper: rule_files relative to the config, state file across restarts. */
T_TEST(state_runtime_persists_across_restart)
{
	char dir[] = "/tmp/alert_state_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char path[256], cfgp[256], statep[256];
	snprintf(path, sizeof(path), "%s/r1.yml", dir);
	FILE *f = fopen(path, "w");
	fputs(rules_for, f);
	fclose(f);
	snprintf(cfgp, sizeof(cfgp), "%s/vigil.yml", dir);
	snprintf(statep, sizeof(statep), "%s/alerts.state", dir);
	const char *cfg = "rule_files: ['r*.yml']\nalerting:\n  external_url: http://v:1\n";
	struct alert_runtime *rt;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(alert_runtime_new(cfgp, cfg, strlen(cfg), NULL, NULL, NULL, statep, &rt, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(rule_set_count(alert_runtime_engine(rt)->rules), 1);
	struct fake_query q = { 0 };
	fq_set(&q, "web1", 0);
	struct buf msg;
	buf_init(&msg, 1 << 20);
	alert_runtime_tick(rt, T0, fake_query_fn, &q, NULL, &msg);
	T_EQ_INT(msg.len, 0);
	alert_runtime_tick(rt, T0 + 5 * MIN, fake_query_fn, &q, NULL, &msg);
	T_CHECK(msg.len > 2 && msg.data[0] == '[' && msg.data[msg.len - 1] == ']');
	alert_runtime_free(rt);
	/* "restart": the firing alert is back, with its original activeAt */
	T_EQ_INT(alert_runtime_new(cfgp, cfg, strlen(cfg), NULL, NULL, NULL, statep, &rt, err, sizeof(err)), 0);
	struct buf a;
	buf_init(&a, 1 << 20);
	alert_api_alerts(alert_runtime_engine(rt), &a);
	/* activeAt is the group's evaluation slot (Prometheus's offset in the interval) */
	struct alert_engine *e2 = alert_runtime_engine(rt);
	struct buf want;
	buf_init(&want, 256);
	buf_adds(&want, "\"state\":\"firing\",\"activeAt\":\"");
	alert_time_rfc3339(alert_group_eval_ts(e2->groups[0].group, e2->groups[0].interval_ms, T0), &want);
	T_CHECK(strstr(a.data, want.data) != NULL);
	buf_free(&want);
	alert_runtime_free(rt);
	/* a missing rule file is an error naming it */
	const char *bad = "rule_files: [nope.yml]\n";
	T_EQ_INT(alert_runtime_new(cfgp, bad, strlen(bad), NULL, NULL, NULL, NULL, &rt, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "/nope.yml: No such file or directory") != NULL);
	buf_free(&a);
	buf_free(&msg);
	alert_vector_free(&q.vec);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* A stand-in for PromQL's canonical printer: squeezes double spaces. */
static int squeeze(void *ctx, const char *expr, struct buf *out)
{
	(void)ctx;
	for (const char *p = expr; *p; p++)
		if (!(p[0] == ' ' && p[1] == ' '))
			buf_addc(out, *p);
	return 0;
}

/* The canonical form is what the API shows and generatorURL carries. */
T_TEST(state_query_uses_formatter)
{
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX];
	const char *y = "groups:\n- name: g\n  rules:\n  - alert: A\n    expr: 'up  ==  0'\n";
	T_EQ_INT(rules_parse(rs, "t.yml", y, strlen(y), NULL, NULL, err, sizeof(err)), 0);
	struct alert_engine_opts o = { .format_expr = squeeze, .external_url = "http://v" };
	struct alert_engine *e = alert_engine_new(rs, &o);
	struct fake_query q = { 0 };
	fq_set(&q, "web1", 0);
	struct buf n, b;
	buf_init(&n, 1 << 16);
	buf_init(&b, 1 << 16);
	alert_engine_eval_group(e, 0, T0, fake_query_fn, &q, NULL, &n);
	T_CHECK(strstr(S(&n), "\"generatorURL\":\"http://v/graph?g0.expr=up+%3D%3D+0&g0.tab=1\"") != NULL);
	alert_api_rules(e, NULL, &b);
	T_CHECK(strstr(S(&b), "\"query\":\"up == 0\"") != NULL);
	buf_free(&n);
	buf_free(&b);
	alert_vector_free(&q.vec);
	alert_engine_free(e);
}

int main(void)
{
	T_RUN(state_pending_then_firing_then_resolved);
	T_RUN(state_pending_that_clears_is_never_sent);
	T_RUN(state_for_zero_fires_at_once_and_value_templates);
	T_RUN(state_keep_firing_for);
	T_RUN(state_recording_rule_series);
	T_RUN(state_errors_and_limit);
	T_RUN(state_save_restore_roundtrip);
	T_RUN(state_api_json_shapes);
	T_RUN(state_eval_due_respects_interval);
	T_RUN(state_template_query_runs_at_eval_time);
	T_RUN(state_runtime_persists_across_restart);
	T_RUN(state_query_uses_formatter);
	return t_done();
}
