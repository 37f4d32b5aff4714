/*
 * alert_ops_test.c — operator actions: silences (Alertmanager's shape and
 * rules), acknowledgements, API maintenance windows; their matching, their
 * persistence across a reopen, the /api/alerting routes over a real alert
 * runtime, and the notifier honouring the marks the store puts on alerts.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/json.h"
#include "alert/notify_fmt.h"
#include "alert/ops.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"
#include "tsdb/storage.h"
#include "t.h"

#define T0 1800000000000LL	/* 2027-01-15T08:00:00Z, a fixed "now" */

static struct labels *L(const char *a, const char *b, const char *c, const char *d)
{
	struct labels_builder lb;
	lb_init(&lb);
	if (a)
		lb_set(&lb, a, b);
	if (c)
		lb_set(&lb, c, d);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

static struct ajson *J(const char *s)
{
	struct ajson *j = NULL;
	char err[128];
	if (ajson_parse(s, strlen(s), &j, err, sizeof(err)) < 0)
		printf("bad test JSON: %s\n", err);
	return j;
}

/* Parse a silence from text: 0 or -1 with err. */
static int silence(const char *json, struct alert_silence *s, char *err, size_t errsz)
{
	struct ajson *j = J(json);
	int rc = ops_silence_from_json(j, T0, s, err, errsz);
	ajson_free(j);
	return rc;
}

T_TEST(ops_silence_validation)
{
	struct alert_silence s;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"alertname\",\"value\":\"A\",\"isRegex\":false}],"
	    "\"startsAt\":\"2027-01-15T08:00:00Z\",\"endsAt\":\"2027-01-15T09:00:00Z\",\"createdBy\":\"me\","
	    "\"comment\":\"c\"}", &s, err, sizeof(err)), 0);
	T_EQ_INT(s.nm, 1);
	T_EQ_INT(s.m[0].type, MATCH_EQ);	/* isEqual defaults to true */
	T_EQ_INT(s.ends_ms - s.starts_ms, 3600000);
	T_EQ_STR(s.created_by, "me");
	ops_silence_clear(&s);
	/* startsAt defaults to now */
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"a\",\"value\":\"b\",\"isRegex\":false}],"
	    "\"endsAt\":\"2027-01-15T09:00:00Z\"}", &s, err, sizeof(err)), 0);
	T_EQ_INT(s.starts_ms, T0);
	ops_silence_clear(&s);
	static const struct { const char *json, *why; } bad[] = {
		{ "{\"matchers\":[],\"endsAt\":\"2027-01-15T09:00:00Z\"}", "at least one matcher" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\".*\",\"isRegex\":true}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
		  "must not match the empty string" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"x\",\"isEqual\":false}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
		  "must not match the empty string" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"(\",\"isRegex\":true}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
		  "matcher 0 (a)" },
		{ "{\"matchers\":[{\"name\":\"1a\",\"value\":\"x\"}],\"endsAt\":\"2027-01-15T09:00:00Z\"}", "label name" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"x\",\"isRegex\":\"yes\"}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
		  "true or false" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"x\"}]}", "endsAt is required" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"x\"}],\"endsAt\":\"2027-01-15T07:00:00Z\"}", "after startsAt" },
		{ "{\"matchers\":[{\"name\":\"a\",\"value\":\"x\"}],\"endsAt\":\"tomorrow\"}", "RFC 3339" },
		{ "{\"id\":\"nope\",\"matchers\":[{\"name\":\"a\",\"value\":\"x\"}],\"endsAt\":\"2027-01-15T09:00:00Z\"}", "id must be" },
		{ "[1]", "JSON object" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		T_EQ_INT(silence(bad[i].json, &s, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			T_FAILF("case %zu: error \"%s\" does not say \"%s\"", i, err, bad[i].why);
	}
}

T_TEST(ops_silence_matching_and_expiry)
{
	struct alert_ops *o;
	char err[ALERT_ERR_MAX] = "", id[ALERT_OPS_ID_LEN + 1], id2[ALERT_OPS_ID_LEN + 1];
	T_EQ_INT(alert_ops_open(NULL, &o, err, sizeof(err)), 0);
	struct alert_silence s;
	/* instance=~"web.*" and severity!="critical", from T0+1h for an hour (pending at T0) */
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"instance\",\"value\":\"web.*\",\"isRegex\":true},"
	    "{\"name\":\"severity\",\"value\":\"critical\",\"isRegex\":false,\"isEqual\":false}],"
	    "\"startsAt\":\"2027-01-15T09:00:00Z\",\"endsAt\":\"2027-01-15T10:00:00Z\"}", &s, err, sizeof(err)), 0);
	T_EQ_INT(ops_silence_put(o, &s, T0, id, err, sizeof(err)), 0);
	T_EQ_INT(strlen(id), 36);
	T_EQ_INT(id[14], '4');	/* a version-4 UUID */
	struct labels *web1 = L("instance", "web1", "severity", "warning");
	struct labels *web1c = L("instance", "web1", "severity", "critical");
	struct labels *xweb = L("instance", "xweb1", NULL, NULL);
	struct labels *nosev = L("instance", "web2", NULL, NULL);
	const char *ids[4];
	const struct alert_silence *g = ops_silence_get(o, id);
	T_EQ_STR(ops_silence_state(g, T0), "pending");
	T_EQ_INT(alert_ops_silenced_by(o, web1, T0, ids, 4), 0);	/* not started */
	int64_t in = T0 + 3600000 + 1;
	T_EQ_STR(ops_silence_state(g, in), "active");
	T_EQ_INT(alert_ops_silenced_by(o, web1, in, ids, 4), 1);
	T_EQ_STR(ids[0], id);
	T_EQ_INT(alert_ops_silenced_by(o, web1c, in, ids, 4), 0);	/* != critical */
	T_EQ_INT(alert_ops_silenced_by(o, xweb, in, ids, 4), 0);	/* regex is anchored */
	T_EQ_INT(alert_ops_silenced_by(o, nosev, in, ids, 4), 1);	/* absent label is "" != critical */
	T_EQ_INT(alert_ops_silenced_by(o, web1, T0 + 7200000, ids, 4), 0);	/* ended */
	/* Updating a current silence keeps its id; expiring stops it at once. */
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"instance\",\"value\":\"web1\"}],"
	    "\"startsAt\":\"2027-01-15T09:00:00Z\",\"endsAt\":\"2027-01-15T11:00:00Z\"}", &s, err, sizeof(err)), 0);
	memcpy(s.id, id, sizeof(s.id));
	T_EQ_INT(ops_silence_put(o, &s, T0, id2, err, sizeof(err)), 0);
	T_EQ_STR(id2, id);
	T_EQ_INT(o->nsilences, 1);
	T_EQ_INT(alert_ops_silenced_by(o, web1c, in, ids, 4), 1);	/* the new matchers */
	T_EQ_INT(ops_silence_expire(o, id, in), 0);
	T_EQ_STR(ops_silence_state(ops_silence_get(o, id), in), "expired");
	T_EQ_INT(alert_ops_silenced_by(o, web1c, in, ids, 4), 0);
	T_EQ_INT(ops_silence_expire(o, "00000000-0000-4000-8000-000000000000", in), -ENOENT);
	/* An expired silence is not revived by its id: a new one is made. */
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"instance\",\"value\":\"web1\"}],"
	    "\"endsAt\":\"2027-01-15T11:00:00Z\"}", &s, err, sizeof(err)), 0);
	memcpy(s.id, id, sizeof(s.id));
	T_EQ_INT(ops_silence_put(o, &s, in, id2, err, sizeof(err)), 0);
	T_CHECK(strcmp(id2, id) != 0);
	T_EQ_INT(o->nsilences, 2);
	/* Expired silences are kept five days, then dropped. */
	ops_gc(o, in + ALERT_OPS_SILENCE_KEEP_MS + 1);
	T_CHECK(ops_silence_get(o, id) == NULL);
	/* GET shape */
	struct buf b;
	buf_init(&b, 1 << 16);
	T_EQ_INT(ops_silence_json(ops_silence_get(o, id2), in, &b), 0);
	T_CHECK(strstr(b.data, "\"status\":{\"state\":\"active\"}") != NULL);
	T_CHECK(strstr(b.data, "\"matchers\":[{\"name\":\"instance\",\"value\":\"web1\",\"isRegex\":false,\"isEqual\":true}]") != NULL);
	buf_free(&b);
	labels_free(web1);
	labels_free(web1c);
	labels_free(xweb);
	labels_free(nosev);
	alert_ops_close(o);
}

T_TEST(ops_window_matching)
{
	struct alert_ops_window w;
	char err[ALERT_ERR_MAX] = "";
	struct ajson *j = J("{\"node\":\"sw1\",\"endsAt\":\"2027-01-15T09:00:00Z\"}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), 0);
	ajson_free(j);
	T_EQ_STR(w.name, "node sw1");
	struct labels *a = L("instance", "sw1", NULL, NULL), *b = L("instance", "sw1:161", NULL, NULL),
	    *c = L("node", "sw1", "instance", "10.0.0.1:9100"), *d = L("instance", "sw10:161", NULL, NULL),
	    *e = L("instance", "sw1:x", NULL, NULL);
	T_EQ_INT(alert_ops_window_matches(&w, a), 1);
	T_EQ_INT(alert_ops_window_matches(&w, b), 1);	/* instance with a port */
	T_EQ_INT(alert_ops_window_matches(&w, c), 1);	/* vigil's node label */
	T_EQ_INT(alert_ops_window_matches(&w, d), 0);	/* another node with a longer name */
	T_EQ_INT(alert_ops_window_matches(&w, e), 0);
	ops_window_clear(&w);
	j = J("{\"group\":\"core\",\"matchers\":[{\"name\":\"severity\",\"value\":\"critical\",\"isEqual\":false}],"
	    "\"endsAt\":\"2027-01-15T09:00:00Z\"}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), 0);
	ajson_free(j);
	struct labels *g1 = L("group", "core", "severity", "warning"), *g2 = L("group", "core", "severity", "critical"),
	    *g3 = L("group", "edge", NULL, NULL);
	T_EQ_INT(alert_ops_window_matches(&w, g1), 1);
	T_EQ_INT(alert_ops_window_matches(&w, g2), 0);
	T_EQ_INT(alert_ops_window_matches(&w, g3), 0);
	struct alert_ops *o;
	char id[ALERT_OPS_ID_LEN + 1];
	T_EQ_INT(alert_ops_open(NULL, &o, err, sizeof(err)), 0);
	T_EQ_INT(ops_window_put(o, &w, id), 0);
	T_CHECK(alert_ops_window_hit(o, g1, T0) != NULL);
	T_CHECK(alert_ops_window_hit(o, g1, T0 + 3600000) == NULL);	/* [start, end) */
	T_CHECK(alert_ops_window_hit(o, g1, T0 - 1) == NULL);
	T_EQ_INT(ops_window_delete(o, id), 0);
	T_CHECK(alert_ops_window_hit(o, g1, T0) == NULL);
	T_EQ_INT(ops_window_delete(o, id), -ENOENT);
	alert_ops_close(o);
	/* weekly, Saturday 23:00 to Sunday 01:30 UTC, until deleted (T0 is a Friday, 08:00) */
	j = J("{\"group\":\"core\",\"weekly\":{\"days\":[\"sat\"],\"from\":\"23:00\",\"to\":\"01:30\"}}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), 0);
	ajson_free(j);
	T_EQ_INT(w.ends_ms, INT64_MAX);
	int64_t sat2300 = T0 + 86400000LL + 15 * 3600000LL;
	T_EQ_INT(alert_ops_window_active(&w, T0), 0);
	T_EQ_INT(alert_ops_window_active(&w, sat2300), 1);
	T_EQ_INT(alert_ops_window_active(&w, sat2300 + 2 * 3600000LL + 29 * 60000LL), 1);	/* Sun 01:29 */
	T_EQ_INT(alert_ops_window_active(&w, sat2300 + 2 * 3600000LL + 30 * 60000LL), 0);	/* Sun 01:30 */
	T_EQ_INT(alert_ops_window_active(&w, sat2300 + 7 * 86400000LL), 1);	/* next week too */
	struct buf wb;
	buf_init(&wb, 1 << 16);
	T_EQ_INT(ops_window_json(&w, sat2300, &wb), 0);
	T_CHECK(strstr(wb.data, "\"weekly\":{\"days\":[\"sat\"],\"from\":\"23:00\",\"to\":\"01:30\"}") != NULL);
	T_CHECK(strstr(wb.data, "\"endsAt\":null,\"active\":true") != NULL);
	buf_free(&wb);
	T_EQ_INT(alert_ops_open(NULL, &o, err, sizeof(err)), 0);
	T_EQ_INT(ops_window_put(o, &w, id), 0);
	ops_gc(o, sat2300 + 365 * 86400000LL);	/* a window without an end is never dropped */
	T_EQ_INT(o->nwindows, 1);
	T_CHECK(alert_ops_window_hit(o, g1, sat2300 + 364 * 86400000LL) != NULL);	/* a Saturday, a year on */
	alert_ops_close(o);
	static const char *const bad_weekly[] = {
		"{\"group\":\"g\",\"weekly\":{\"days\":[\"sab\"],\"from\":\"23:00\",\"to\":\"01:00\"}}",
		"{\"group\":\"g\",\"weekly\":{\"days\":[],\"from\":\"23:00\",\"to\":\"01:00\"}}",
		"{\"group\":\"g\",\"weekly\":{\"days\":[\"sat\"],\"from\":\"24:00\",\"to\":\"01:00\"}}",
		"{\"group\":\"g\",\"weekly\":{\"days\":[\"sat\"],\"from\":\"01:00\",\"to\":\"01:00\"}}",
		"{\"group\":\"g\"}",	/* neither weekly nor an end */
	};
	for (size_t i = 0; i < sizeof(bad_weekly) / sizeof(bad_weekly[0]); i++) {
		j = J(bad_weekly[i]);
		if (ops_window_from_json(j, T0, &w, err, sizeof(err)) == 0) {
			T_FAILF("weekly case %zu accepted", i);
			ops_window_clear(&w);
		}
		ajson_free(j);
	}
	j = J("{\"comment\":\"x\",\"endsAt\":\"2027-01-15T09:00:00Z\"}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "a node, a group or matchers") != NULL);
	ajson_free(j);
	labels_free(a);
	labels_free(b);
	labels_free(c);
	labels_free(d);
	labels_free(e);
	labels_free(g1);
	labels_free(g2);
	labels_free(g3);
}

/* Alertmanager's fingerprint: the one webhook payloads carry. */
T_TEST(ops_fingerprint_matches_webhook)
{
	struct labels *ls = L("alertname", "NodeDown", "instance", "sw1");
	struct ajson *j = J("{\"instance\":\"sw1\",\"alertname\":\"NodeDown\"}");
	T_EQ_INT(alert_fingerprint(ls), notify_fingerprint(j));
	ajson_free(j);
	labels_free(ls);
}

T_TEST(ops_persist_across_reopen)
{
	char dir[] = "/tmp/alert_ops_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256], err[ALERT_ERR_MAX] = "", sid[ALERT_OPS_ID_LEN + 1], wid[ALERT_OPS_ID_LEN + 1];
	snprintf(db, sizeof(db), "%s/alerting.db", dir);
	struct alert_ops *o;
	T_EQ_INT(alert_ops_open(db, &o, err, sizeof(err)), 0);
	struct alert_silence s;
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"job\",\"value\":\"node\"}],\"endsAt\":\"2027-01-15T09:00:00Z\","
	    "\"createdBy\":\"ann\",\"comment\":\"upgrade \\\"x\\\"\"}", &s, err, sizeof(err)), 0);
	T_EQ_INT(ops_silence_put(o, &s, T0, sid, err, sizeof(err)), 0);
	struct alert_ack a = { .fp = 0x0123456789abcdefull, .active_at_ms = T0 - 5000, .labels = L("alertname", "A", NULL, NULL),
		.by = xstrdup("bob"), .comment = xstrdup("looking"), .at_ms = T0 };
	T_EQ_INT(ops_ack_put(o, &a), 0);
	struct alert_ops_window w;
	struct ajson *j = J("{\"node\":\"sw1\",\"startsAt\":\"2027-01-15T08:00:00.5Z\",\"endsAt\":\"2027-01-15T09:00:00Z\"}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), 0);
	ajson_free(j);
	T_EQ_INT(ops_window_put(o, &w, wid), 0);
	alert_ops_close(o);
	T_EQ_INT(alert_ops_open(db, &o, err, sizeof(err)), 0);
	const struct alert_silence *g = ops_silence_get(o, sid);
	T_CHECK(g != NULL);
	if (g) {
		T_EQ_STR(g->created_by, "ann");
		T_EQ_STR(g->comment, "upgrade \"x\"");
		T_EQ_INT(g->starts_ms, T0);
		T_EQ_INT(g->updated_ms, T0);
	}
	const struct alert_ack *k = alert_ops_ack_find(o, 0x0123456789abcdefull, T0 - 5000);
	T_CHECK(k != NULL);
	if (k) {
		T_EQ_STR(k->by, "bob");
		T_EQ_STR(labels_get(k->labels, "alertname"), "A");
	}
	T_CHECK(alert_ops_ack_find(o, 0x0123456789abcdefull, T0) == NULL);	/* another episode */
	T_EQ_INT(o->nwindows, 1);
	if (o->nwindows) {
		T_EQ_STR(o->windows[0]->id, wid);
		T_EQ_INT(o->windows[0]->starts_ms, T0 + 500);
	}
	/* removals persist too */
	T_EQ_INT(ops_ack_delete(o, 0x0123456789abcdefull), 0);
	T_EQ_INT(ops_window_delete(o, wid), 0);
	T_EQ_INT(ops_silence_expire(o, sid, T0 + 1000), 0);
	alert_ops_close(o);
	T_EQ_INT(alert_ops_open(db, &o, err, sizeof(err)), 0);
	T_EQ_INT(o->nacks, 0);
	T_EQ_INT(o->nwindows, 0);
	T_CHECK(ops_silence_get(o, sid) && ops_silence_get(o, sid)->ends_ms == T0 + 1000);
	alert_ops_close(o);
	/* A damaged file is moved aside; an empty store starts. */
	FILE *f = fopen(db, "w");
	fputs("this is not a database, not at all, it is sixty-four bytes or more long\n", f);
	fclose(f);
	snprintf(err, sizeof(err), "%s-wal", db);
	unlink(err);
	T_EQ_INT(alert_ops_open(db, &o, err, sizeof(err)), 0);
	T_EQ_INT(o->nsilences, 0);
	alert_ops_close(o);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q corrupt && rm -rf %s", dir, dir);
	T_EQ_INT(system(cmd), 0);
}

/* A write that cannot reach the disk is an error, and nothing changes in memory. */
T_TEST(ops_write_failure_changes_nothing)
{
	char dir[] = "/tmp/alert_ops_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256], err[ALERT_ERR_MAX] = "", id[ALERT_OPS_ID_LEN + 1], wid[ALERT_OPS_ID_LEN + 1];
	snprintf(db, sizeof(db), "%s/alerting.db", dir);
	struct alert_ops *o;
	T_EQ_INT(alert_ops_open(db, &o, err, sizeof(err)), 0);
	struct alert_silence s;
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"job\",\"value\":\"node\"}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
	    &s, err, sizeof(err)), 0);
	T_EQ_INT(ops_silence_put(o, &s, T0, id, err, sizeof(err)), 0);
	/* the same file, now read-only underneath the store */
	sqlite3_close(o->db);
	T_EQ_INT(sqlite3_open_v2(db, &o->db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	T_EQ_INT(silence("{\"matchers\":[{\"name\":\"job\",\"value\":\"x\"}],\"endsAt\":\"2027-01-15T09:00:00Z\"}",
	    &s, err, sizeof(err)), 0);
	T_EQ_INT(ops_silence_put(o, &s, T0, id, err, sizeof(err)), -EIO);
	ops_silence_clear(&s);
	T_EQ_INT(o->nsilences, 1);
	char first[ALERT_OPS_ID_LEN + 1];
	memcpy(first, o->silences[0]->id, sizeof(first));
	T_EQ_INT(ops_silence_expire(o, first, T0 + 1000), -EIO);
	T_EQ_STR(ops_silence_state(o->silences[0], T0 + 1000), "active");	/* still in force */
	struct alert_ack a = { .fp = 1, .labels = L("a", "b", NULL, NULL), .by = xstrdup("x"), .comment = xstrdup("") };
	T_EQ_INT(ops_ack_put(o, &a), -EIO);
	ops_ack_clear(&a);
	T_EQ_INT(o->nacks, 0);
	struct alert_ops_window w;
	struct ajson *j = J("{\"node\":\"sw1\",\"endsAt\":\"2027-01-15T09:00:00Z\"}");
	T_EQ_INT(ops_window_from_json(j, T0, &w, err, sizeof(err)), 0);
	ajson_free(j);
	T_EQ_INT(ops_window_put(o, &w, wid), -EIO);
	ops_window_clear(&w);
	T_EQ_INT(o->nwindows, 0);
	alert_ops_close(o);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* ---- the runtime: routes and the marks on MSG_ALERTS ---- */

static int one_query(void *ctx, const char *expr, int64_t ts, struct alert_vector *out, char *err, size_t errsz)
{
	(void)ts;
	(void)err;
	(void)errsz;
	/* every rule's expr is "up": one series per instance web1, web2 (none when ctx says so) */
	if (strcmp(expr, "up") != 0 || (ctx && *(const int *)ctx))
		return 0;
	struct labels *a = L("__name__", "up", "instance", "web1"), *b = L("__name__", "up", "instance", "web2");
	alert_vector_add(out, a, 1);
	alert_vector_add(out, b, 1);
	labels_free(a);
	labels_free(b);
	return 0;
}

static int http(struct alert_runtime *rt, const char *m, const char *path, const char *body, int64_t now,
    struct buf *out)
{
	buf_reset(out);
	return alert_ops_http(rt, m, path, "tester", body, body ? strlen(body) : 0, now, out);
}

T_TEST(ops_http_routes_and_marks)
{
	char dir[] = "/tmp/alert_ops_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char rules[256], cfgp[256], state[256], err[ALERT_ERR_MAX] = "";
	snprintf(rules, sizeof(rules), "%s/r.yml", dir);
	snprintf(cfgp, sizeof(cfgp), "%s/vigil.yml", dir);
	snprintf(state, sizeof(state), "%s/alerts.state", dir);
	FILE *f = fopen(rules, "w");
	fputs("groups:\n- name: g\n  interval: 1s\n  rules:\n  - alert: Down\n    expr: up\n"
	    "    labels: {severity: critical}\n", f);
	fclose(f);
	const char *cfg = "rule_files: [r.yml]\nalerting:\n  evaluation_interval: 1s\n  resend_delay: 1s\n"
	    "  external_labels: {site: lon}\n"
	    "  maintenance:\n  - name: cfgwin\n    matchers: ['instance=\"nomatch\"']\n    weekly: {days: [sat], from: \"23:00\", to: \"01:00\"}\n";
	struct alert_runtime *rt;
	T_EQ_INT(alert_runtime_new(cfgp, cfg, strlen(cfg), NULL, NULL, NULL, state, &rt, err, sizeof(err)), 0);
	if (!rt) {
		T_FAILF("runtime: %s", err);
		return;
	}
	struct buf out, msg;
	buf_init(&out, 1 << 20);
	buf_init(&msg, 1 << 20);
	int64_t now = T0;
	alert_runtime_tick(rt, now, one_query, NULL, NULL, &msg);
	T_CHECK(msg.len > 0 && strstr(msg.data, "\"vigil\"") == NULL);	/* nothing covers them yet */
	T_EQ_INT(http(rt, "GET", "/api/alerting/alerts", NULL, now, &out), 200);
	struct ajson *j = J(out.data);
	T_CHECK(j && j->t == AJSON_ARR && j->n == 2);
	const char *fp1 = j && j->n == 2 ? ajson_get_str(j->v[0], "fingerprint") : NULL;
	char fp[17] = "";
	if (fp1)
		snprintf(fp, sizeof(fp), "%s", fp1);
	T_CHECK(j && j->n == 2 && strcmp(ajson_get_str(j->v[0], "state"), "firing") == 0);
	T_CHECK(j && j->n == 2 && ajson_get(j->v[0], "acknowledged")->t == AJSON_NULL);
	ajson_free(j);
	/* The fingerprint is over the notified labels (with the external label site). */
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "alertname", "Down");
	lb_set(&lb, "instance", "web1");
	lb_set(&lb, "severity", "critical");
	lb_set(&lb, "site", "lon");
	struct labels *n1 = lb_finish(&lb);
	lb_free(&lb);
	char want[17];
	snprintf(want, sizeof(want), "%016llx", (unsigned long long)alert_fingerprint(n1));
	labels_free(n1);
	T_EQ_STR(fp, want);
	/* acknowledge web1 by its labels (as /api/v1/alerts shows them) */
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack",
	    "{\"labels\":{\"alertname\":\"Down\",\"instance\":\"web1\",\"severity\":\"critical\"},\"comment\":\"mine\"}",
	    now, &out), 200);
	T_CHECK(strstr(out.data, "\"acknowledgedBy\":\"tester\"") != NULL);
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack", "{\"labels\":{\"alertname\":\"Nope\"}}", now, &out), 404);
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack", "{\"fingerprint\":\"xyz\"}", now, &out), 400);
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack", "not json", now, &out), 400);
	/* silence web2 */
	T_EQ_INT(http(rt, "POST", "/api/alerting/silences", "{\"matchers\":[{\"name\":\"instance\",\"value\":\"web2\","
	    "\"isRegex\":false,\"isEqual\":true}],\"endsAt\":\"2027-01-15T09:00:00Z\"}", now, &out), 200);
	j = J(out.data);
	char sid[40] = "";
	if (ajson_get_str(j, "silenceID"))
		snprintf(sid, sizeof(sid), "%s", ajson_get_str(j, "silenceID"));
	ajson_free(j);
	T_EQ_INT(strlen(sid), 36);
	T_EQ_INT(http(rt, "POST", "/api/alerting/silences", "{\"matchers\":[{\"name\":\"a\",\"value\":\"b\"}],"
	    "\"endsAt\":\"2027-01-15T07:00:00Z\",\"startsAt\":\"2027-01-15T06:00:00Z\"}", now, &out), 400);
	T_CHECK(strstr(out.data, "in the past") != NULL);
	/* the next re-send's notifications carry what covers each alert
	 * (re-sent once resend_delay has passed, strictly, as in Prometheus) */
	now += 2000;
	buf_reset(&msg);
	alert_runtime_tick(rt, now, one_query, NULL, NULL, &msg);
	T_CHECK(msg.len && strstr(msg.data, "\"vigil\":{\"acknowledged\":true}") != NULL);
	char mark[80];
	snprintf(mark, sizeof(mark), "\"vigil\":{\"silencedBy\":[\"%s\"]}", sid);
	T_CHECK(msg.len && strstr(msg.data, mark) != NULL);
	T_EQ_INT(http(rt, "GET", "/api/alerting/alerts", NULL, now, &out), 200);
	T_CHECK(strstr(out.data, "\"comment\":\"mine\"") != NULL);
	T_CHECK(strstr(out.data, sid) != NULL);
	/* maintenance: list has the config window and an API one */
	T_EQ_INT(http(rt, "POST", "/api/alerting/maintenance", "{\"node\":\"web1\",\"endsAt\":\"2027-01-15T09:00:00Z\"}",
	    now, &out), 200);
	T_EQ_INT(http(rt, "GET", "/api/alerting/maintenance", NULL, now, &out), 200);
	T_CHECK(strstr(out.data, "\"source\":\"config\",\"name\":\"cfgwin\"") != NULL);
	T_CHECK(strstr(out.data, "\"weekly\":{\"days\":[\"sat\"],\"from\":\"23:00\",\"to\":\"01:00\"}") != NULL);
	T_CHECK(strstr(out.data, "\"source\":\"api\",\"name\":\"node web1\"") != NULL);
	buf_reset(&msg);
	now += 2000;
	alert_runtime_tick(rt, now, one_query, NULL, NULL, &msg);
	T_CHECK(msg.len && strstr(msg.data, "\"maintenance\":\"node web1\"") != NULL);
	/* amtool's paths below /api/alerting */
	T_EQ_INT(http(rt, "GET", "/api/alerting/api/v2/status", NULL, now, &out), 200);
	T_CHECK(strstr(out.data, "\"cluster\":{\"status\":\"disabled\"") != NULL);
	T_EQ_INT(http(rt, "GET", "/api/alerting/api/v2/silences", NULL, now, &out), 200);
	T_CHECK(strstr(out.data, sid) != NULL);
	char ampath[128];
	snprintf(ampath, sizeof(ampath), "/api/alerting/api/v2/silence/%s", sid);
	T_EQ_INT(http(rt, "GET", ampath, NULL, now, &out), 200);
	T_EQ_INT(http(rt, "GET", "/api/alerting/api/v2/alerts", NULL, now, &out), 404);	/* not an Alertmanager */
	/* routes: methods and unknown paths */
	T_EQ_INT(http(rt, "PUT", "/api/alerting/silences", "{}", now, &out), 405);
	T_EQ_INT(http(rt, "POST", "/api/alerting/alerts", "{}", now, &out), 405);
	T_EQ_INT(http(rt, "GET", "/api/alerting/nothing", NULL, now, &out), 404);
	T_EQ_INT(http(rt, "DELETE", "/api/alerting/silences/00000000-0000-4000-8000-000000000000", NULL, now, &out), 404);
	char path[128];
	snprintf(path, sizeof(path), "/api/alerting/silences/%s", sid);
	T_EQ_INT(http(rt, "GET", path, NULL, now, &out), 200);
	T_EQ_INT(http(rt, "DELETE", path, NULL, now, &out), 200);
	T_EQ_INT(http(rt, "GET", path, NULL, now, &out), 200);
	T_CHECK(strstr(out.data, "\"state\":\"expired\"") != NULL);
	snprintf(path, sizeof(path), "/api/alerting/ack/%s", fp);
	T_EQ_INT(http(rt, "DELETE", path, NULL, now, &out), 200);
	T_EQ_INT(http(rt, "DELETE", path, NULL, now, &out), 404);
	/* acknowledgements end with their alert's episode */
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack", "{\"fingerprint\":\"" "0000000000000000" "\"}", now, &out), 404);
	snprintf(path, sizeof(path), "{\"fingerprint\":\"%s\"}", fp);
	T_EQ_INT(http(rt, "POST", "/api/alerting/ack", path, now, &out), 200);
	T_EQ_INT(alert_runtime_ops(rt)->nacks, 1);
	alert_runtime_free(rt);
	/* restart: the acknowledgement is still there (alert state restored too) */
	T_EQ_INT(alert_runtime_new(cfgp, cfg, strlen(cfg), NULL, NULL, NULL, state, &rt, err, sizeof(err)), 0);
	T_EQ_INT(alert_runtime_ops(rt)->nacks, 1);
	now += 6000;
	alert_runtime_tick(rt, now, one_query, NULL, NULL, &msg);
	T_EQ_INT(alert_runtime_ops(rt)->nacks, 1);	/* its alert is still firing */
	/* resolved, kept 15 minutes for its resolution, then gone: so is the acknowledgement */
	int none = 1;
	for (int i = 1; i <= 17; i++)
		alert_runtime_tick(rt, now + i * 60000, one_query, &none, NULL, &msg);
	T_EQ_INT(alert_runtime_ops(rt)->nacks, 0);
	alert_runtime_free(rt);
	/* not configured: reads are empty, changes refused */
	T_EQ_INT(http(NULL, "GET", "/api/alerting/silences", NULL, now, &out), 200);
	T_EQ_STR(out.data, "[]");
	T_EQ_INT(http(NULL, "POST", "/api/alerting/silences", "{}", now, &out), 409);
	buf_free(&out);
	buf_free(&msg);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* ---- the notifier honours the marks ---- */

static int64_t queued(const char *db, const char *receiver, int *has_mark)
{
	sqlite3 *h;
	sqlite3_stmt *st;
	int64_t n = 0;
	*has_mark = 0;
	if (sqlite3_open(db, &h) != SQLITE_OK)
		return -1;
	if (sqlite3_prepare_v2(h, "SELECT payload FROM queue WHERE receiver = ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, receiver, -1, SQLITE_STATIC);
		while (sqlite3_step(st) == SQLITE_ROW) {
			n++;
			*has_mark |= strstr((const char *)sqlite3_column_text(st, 0), "vigil") != NULL;
		}
		sqlite3_finalize(st);
	}
	sqlite3_close(h);
	return n;
}

T_TEST(ops_notifier_honours_marks)
{
	char dir[] = "/tmp/alert_ops_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256], err[ALERT_ERR_MAX] = "";
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	const char *y = "alerting:\n  alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]\n"
	    "  receivers:\n  - name: hook\n    webhook: {url: 'http://127.0.0.1:9/'}\n"
	    "  - name: boss\n    webhook: {url: 'http://127.0.0.1:9/', escalate_after: 1m}\n";
	const char *silenced = "[{\"labels\":{\"alertname\":\"S\"},\"startsAt\":\"2000-01-01T00:00:00Z\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\",\"vigil\":{\"silencedBy\":[\"x\"]}}]";
	const char *maint = "[{\"labels\":{\"alertname\":\"M\"},\"endsAt\":\"2100-01-01T00:00:00Z\","
	    "\"vigil\":{\"maintenance\":\"node sw1\"}}]";
	const char *acked = "[{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"2000-01-01T00:00:00Z\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\",\"vigil\":{\"acknowledged\":true}}]";
	const char *resolved = "[{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"2000-01-01T00:00:00Z\","
	    "\"endsAt\":\"2001-01-01T00:00:00Z\",\"vigil\":{\"acknowledged\":true}}]";
	const char *plain = "[{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"2000-01-01T00:00:00Z\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\"}]";
	struct loop *l = loop_new();
	struct notifier *n;
	struct alert_config c;
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	egress_reset();
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, silenced, strlen(silenced), err, sizeof(err)), 0);	/* nobody */
	T_EQ_INT(notifier_accept(n, maint, strlen(maint), err, sizeof(err)), 0);
	/* first firing announcement to hook, before anyone acknowledged it */
	T_EQ_INT(notifier_accept(n, plain, strlen(plain), err, sizeof(err)), 3);	/* am, hook, boss (old) */
	/* acknowledged: Alertmanager still gets its re-sends, the direct receivers nothing */
	T_EQ_INT(notifier_accept(n, acked, strlen(acked), err, sizeof(err)), 1);
	/* the resolution reaches those that heard it fire */
	T_EQ_INT(notifier_accept(n, resolved, strlen(resolved), err, sizeof(err)), 3);
	int mark = 0;
	T_EQ_INT(queued(db, "hook", &mark), 2);
	T_EQ_INT(mark, 0);	/* the mark is the store's note to the notifier, never sent on */
	T_EQ_INT(queued(db, "am", &mark), 3);
	T_EQ_INT(mark, 0);
	struct buf m;
	buf_init(&m, 1 << 16);
	notifier_metrics(n, &m);
	T_CHECK(strstr(m.data, "vigil_notifications_silenced_total 1\n") != NULL);
	T_CHECK(strstr(m.data, "vigil_notifications_suppressed_total{window=\"node sw1\"} 1\n") != NULL);
	T_CHECK(strstr(m.data, "vigil_notifications_acknowledged_total{receiver=\"boss\"} 1\n") != NULL);
	buf_free(&m);
	notifier_close(n);
	/* an acknowledged alert never escalates: boss never hears of B */
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	notifier_configure(n, &c);
	const char *b_acked = "[{\"labels\":{\"alertname\":\"B\"},\"startsAt\":\"2000-01-01T00:00:00Z\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\",\"vigil\":{\"acknowledged\":true}}]";
	T_EQ_INT(notifier_accept(n, b_acked, strlen(b_acked), err, sizeof(err)), 1);	/* am only */
	notifier_close(n);
	loop_free(l);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

int main(void)
{
	T_RUN(ops_silence_validation);
	T_RUN(ops_silence_matching_and_expiry);
	T_RUN(ops_window_matching);
	T_RUN(ops_fingerprint_matches_webhook);
	T_RUN(ops_persist_across_reopen);
	T_RUN(ops_write_failure_changes_nothing);
	T_RUN(ops_http_routes_and_marks);
	T_RUN(ops_notifier_honours_marks);
	return t_done();
}
