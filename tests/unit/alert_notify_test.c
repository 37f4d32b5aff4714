/*
 * alert_notify_test.c — the notifier's pieces that need no network: the
 * alerting config section, the JSON reader, payload formats, the durable
 * queue across a close/reopen. Delivery to real peers is in
 * tests/integration/alert_notify.sh, which runs this binary as
 * `alert_notify_test notify-test ...` until main.c wires `vigil notify-test`.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/json.h"
#include "alert/notify_fmt.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "t.h"

static const char *cfg_yaml =
    "web:\n  listen: 127.0.0.1:9920\n"
    "rule_files: [rules/vigil-defaults.yml, /etc/vigil/rules/*.yml]\n"
    "alerting:\n"
    "  evaluation_interval: 30s\n"
    "  external_url: http://vigil.example:9920\n"
    "  external_labels: {site: lon}\n"
    "  alertmanagers:\n  - url: http://127.0.0.1:9093/\n"
    "  receivers:\n"
    "  - name: hook\n    webhook: {url: 'http://127.0.0.1:8080/x', timeout: 5s, bearer_token_secret: hooktoken}\n"
    "  - name: mail\n    email:\n      smarthost: 127.0.0.1:2525\n      from: vigil@example.com\n"
    "      to: [ops@example.com, noc@example.com]\n      starttls: true\n"
    "      username: vigil\n      password_secret: smtp\n"
    "  queue: {max_age: 1h, min_backoff: 2s, max_backoff: 1m, max_length: 1000}\n";

T_TEST(notify_config_parse)
{
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(alert_config_parse("v.yml", cfg_yaml, strlen(cfg_yaml), &c, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(c.nrule_files, 2);
	T_EQ_INT(c.evaluation_interval_ms, 30000);
	T_EQ_INT(c.resend_delay_ms, 60000);
	T_EQ_STR(labels_get(c.external_labels, "site"), "lon");
	T_EQ_INT(c.nreceivers, 3);
	T_EQ_INT(c.receivers[0].kind, RECV_ALERTMANAGER);
	T_EQ_STR(c.receivers[0].name, "alertmanager-0");
	T_EQ_STR(c.receivers[0].url, "http://127.0.0.1:9093");
	T_EQ_INT(c.receivers[1].kind, RECV_WEBHOOK);
	T_EQ_INT(c.receivers[1].timeout_ms, 5000);
	T_EQ_STR(c.receivers[1].bearer_secret, "hooktoken");
	T_EQ_INT(c.receivers[2].kind, RECV_EMAIL);
	T_EQ_STR(c.receivers[2].url, "smtp://127.0.0.1:2525");
	T_EQ_INT(c.receivers[2].nto, 2);
	T_EQ_INT(c.receivers[2].starttls, 1);
	T_EQ_INT(c.queue_max_age_ms, 3600000);
	T_EQ_INT(c.queue_min_backoff_ms, 2000);
	T_EQ_INT(c.queue_max_length, 1000);
	alert_config_free(&c);
}

T_TEST(notify_receivers_pinned_and_allowed)
{
	const char *y = "alerting:\n  alertmanagers: [{url: 'http://localhost:9093'}]\n"
	    "  receivers:\n  - name: ip\n    webhook: {url: 'https://127.0.0.1/x'}\n";
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(alert_config_parse("v.yml", y, strlen(y), &c, err, sizeof(err)), 0);
	egress_reset();
	T_EQ_INT(notify_allow_receivers(&c, err, sizeof(err)), 0);
	T_CHECK(c.receivers[0].resolve_pin && strncmp(c.receivers[0].resolve_pin, "localhost:9093:", 15) == 0);
	T_CHECK(c.receivers[0].resolve_pin && strstr(c.receivers[0].resolve_pin, "127.0.0.1") != NULL);
	T_CHECK(c.receivers[1].resolve_pin == NULL);	/* numeric: nothing to resolve */
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(9093) };
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	T_EQ_INT(egress_check((struct sockaddr *)&sa, sizeof(sa), IPPROTO_TCP), 0);
	sa.sin_port = htons(443);
	T_EQ_INT(egress_check((struct sockaddr *)&sa, sizeof(sa), IPPROTO_TCP), 0);
	sa.sin_port = htons(25);	/* not a receiver */
	T_EQ_INT(egress_check((struct sockaddr *)&sa, sizeof(sa), IPPROTO_TCP), -EACCES);
	alert_config_free(&c);
	egress_reset();
}

static const char *cfg_err(const char *y)
{
	static char err[ALERT_ERR_MAX];
	struct alert_config c;
	err[0] = 0;
	if (alert_config_parse("v.yml", y, strlen(y), &c, err, sizeof(err)) == 0) {
		alert_config_free(&c);
		return "ok";
	}
	return err;
}

T_TEST(notify_config_errors)
{
	T_EQ_STR(cfg_err("alerting:\n  bogus: 1\n"), "v.yml:2:3: alerting: unknown key \"bogus\"");
	T_EQ_STR(cfg_err("alerting:\n  alertmanagers:\n  - url: ftp://x\n"),
	    "v.yml:3:10: \"ftp://x\" is not an http:// or https:// URL");
	T_EQ_STR(cfg_err("alerting:\n  receivers:\n  - name: a\n"),
	    "v.yml:3:5: receiver \"a\": exactly one of webhook or email");
	T_EQ_STR(cfg_err("alerting:\n  receivers:\n  - name: a\n    webhook: {url: 'http://h/'}\n"
	    "  - name: a\n    webhook: {url: 'http://h/'}\n"), "v.yml:2:3: alerting: two receivers are called \"a\"");
	T_EQ_STR(cfg_err("alerting:\n  receivers:\n  - name: m\n    email: {smarthost: 'h:25', from: a@b}\n"),
	    "v.yml:4:12: email: to is required");
	T_EQ_STR(cfg_err("alerting:\n  resend_delay: 5\n"),
	    "v.yml:2:17: alerting.resend_delay: expected a positive duration like 30s, 5m, 1h");
	T_EQ_STR(cfg_err("alerting:\n  external_labels: {'bad-name': x}\n"),
	    "v.yml:2:21: alerting.external_labels: \"bad-name\" needs a valid label name and a non-empty string value");
	T_EQ_STR(cfg_err("rule_files: x.yml\n"), "v.yml:1:13: rule_files must be a list of paths");
	T_EQ_STR(cfg_err("alerting:\n  receivers:\n  - name: m\n    email: {smarthost: 'h:25', from: \"a@b\\r\\nBcc: x\", to: c@d}\n"),
	    "v.yml:4:38: email.from: a plain address like vigil@example.com");
	T_EQ_STR(cfg_err("web: {listen: x}\n"), "ok");
}

T_TEST(notify_json_reader)
{
	struct ajson *j;
	char err[128];
	const char *s = "[{\"a\":\"x\\u00e9\\ud83d\\ude00\\n\",\"b\":[1,-2.5e3,true,null],\"c\":{}}]";
	T_EQ_INT(ajson_parse(s, strlen(s), &j, err, sizeof(err)), 0);
	T_EQ_INT(j->t, AJSON_ARR);
	T_EQ_STR(ajson_get_str(j->v[0], "a"), "x\xc3\xa9\xf0\x9f\x98\x80\n");
	T_EQ_DBL(ajson_get(j->v[0], "b")->v[1]->num, -2500, 0);
	struct buf b;
	buf_init(&b, 4096);
	ajson_write(j, &b);
	T_EQ_STR(b.data, "[{\"a\":\"x\xc3\xa9\xf0\x9f\x98\x80\\n\",\"b\":[1,-2500,true,null],\"c\":{}}]");
	buf_free(&b);
	ajson_free(j);
	static const char *const bad[] = { "", "[", "{\"a\"}", "[1,]", "\"\x01\"", "[1] x", "{\"a\":tru}", "\"\\q\"" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ_INT(ajson_parse(bad[i], strlen(bad[i]), &j, err, sizeof(err)), -1);
		T_CHECK(j == NULL);
	}
	char deep[200];
	memset(deep, '[', sizeof(deep));
	T_EQ_INT(ajson_parse(deep, sizeof(deep), &j, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "nested deeper than 64") != NULL);
}

static const char *alert1 = "{\"labels\":{\"alertname\":\"Down\",\"instance\":\"web1\"},"
    "\"annotations\":{\"summary\":\"web1 down\\nline2\"},\"startsAt\":\"2026-11-27T10:00:00Z\","
    "\"endsAt\":\"2026-11-27T10:04:00.5Z\",\"generatorURL\":\"http://v/graph\"}";
static const char *alert2 = "{\"labels\":{\"alertname\":\"Down\",\"instance\":\"web2\"},"
    "\"annotations\":{\"summary\":\"web2 down\"},\"startsAt\":\"2026-11-27T10:01:00Z\","
    "\"endsAt\":\"2026-11-27T10:02:00Z\"}";
#define NOW 1795773780000LL	/* 2026-11-27T10:03:00Z */

T_TEST(notify_payload_formats)
{
	int64_t ms;
	T_EQ_INT(notify_parse_time("2026-11-27T10:03:00Z", &ms), 0);
	T_EQ_INT(ms, NOW);
	T_EQ_INT(notify_parse_time("2026-11-27T12:03:00.25+02:00", &ms), 0);
	T_EQ_INT(ms, NOW + 250);
	T_EQ_INT(notify_parse_time("2026-11-27 10:03:00Z", &ms), -1);
	struct notify_batch b = { 0 };
	T_EQ_INT(notify_batch_add(&b, alert1, strlen(alert1)), 0);
	T_EQ_INT(notify_batch_add(&b, alert2, strlen(alert2)), 0);
	T_EQ_INT(notify_batch_add(&b, "{\"labels\":{}}", 13), -1);
	struct buf o;
	buf_init(&o, 1 << 20);
	T_EQ_INT(notify_format_webhook(&b, "hook", "http://v", NOW, &o), 0);
	T_EQ_STR(o.data, "{\"version\":\"4\",\"groupKey\":\"{}:{receiver=\\\"hook\\\"}\",\"truncatedAlerts\":0,"
	    "\"status\":\"firing\",\"receiver\":\"hook\",\"groupLabels\":{},\"commonLabels\":{\"alertname\":\"Down\"},"
	    "\"commonAnnotations\":{},\"externalURL\":\"http://v\",\"alerts\":["
	    "{\"status\":\"firing\",\"labels\":{\"alertname\":\"Down\",\"instance\":\"web1\"},"
	    "\"annotations\":{\"summary\":\"web1 down\\nline2\"},\"startsAt\":\"2026-11-27T10:00:00Z\","
	    "\"endsAt\":\"0001-01-01T00:00:00Z\",\"generatorURL\":\"http://v/graph\",\"fingerprint\":\"be0c9a7f872c721e\"},"
	    "{\"status\":\"resolved\",\"labels\":{\"alertname\":\"Down\",\"instance\":\"web2\"},"
	    "\"annotations\":{\"summary\":\"web2 down\"},\"startsAt\":\"2026-11-27T10:01:00Z\","
	    "\"endsAt\":\"2026-11-27T10:02:00Z\",\"generatorURL\":\"\",\"fingerprint\":\"be029a7f87241d99\"}]}");
	buf_reset(&o);
	struct receiver_config r = { .kind = RECV_EMAIL, .name = "mail", .from = "vigil@example.com" };
	char *to[] = { "ops@example.com" };
	r.to = to;
	r.nto = 1;
	T_EQ_INT(notify_format_email(&b, &r, NOW, &o), 0);
	T_CHECK(strstr(o.data, "Date: Fri, 27 Nov 2026 10:03:00 +0000\r\nFrom: <vigil@example.com>\r\n"
	    "To: <ops@example.com>\r\n") == o.data);
	T_CHECK(strstr(o.data, "\r\nSubject: [FIRING:1] Down\r\n") != NULL);
	T_CHECK(strstr(o.data, "[FIRING] Down\r\nLabels:\r\n  alertname = Down\r\n  instance = web1\r\n"
	    "Annotations:\r\n  summary = web1 down\r\n    line2\r\nStarted: 2026-11-27T10:00:00Z\r\n"
	    "Source: http://v/graph\r\n") != NULL);
	T_CHECK(strstr(o.data, "[RESOLVED] Down\r\n") != NULL);
	T_CHECK(strstr(o.data, "Ended: 2026-11-27T10:02:00Z\r\n") != NULL);
	T_CHECK(strchr(o.data, '\n') == strchr(o.data, '\r') + 1);
	buf_reset(&o);
	T_EQ_INT(notify_format_alertmanager(&b, &o), 0);
	T_CHECK(o.data[0] == '[' && strstr(o.data, "\"instance\":\"web2\"") != NULL);
	buf_free(&o);
	notify_batch_free(&b);
}

T_TEST(notify_queue_survives_reopen)
{
	char dir[] = "/tmp/alert_notify_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256];
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	const char *y = "alerting:\n  alertmanagers:\n  - {name: a, url: 'http://127.0.0.1:9'}\n"
	    "  - {name: b, url: 'http://127.0.0.1:9'}\n  queue: {max_length: 5}\n";
	struct loop *l = loop_new();
	struct notifier *n;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	struct alert_config c;
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	/* not configured yet: nothing is sent, rows just wait */
	struct buf arr;
	buf_init(&arr, 1 << 16);
	buf_printf(&arr, "[%s,%s]", alert1, alert2);
	notifier_configure(n, &c);
	egress_reset();	/* nothing allowed: delivery attempts fail and rows stay */
	T_EQ_INT(notifier_accept(n, arr.data, arr.len, err, sizeof(err)), 4);
	T_EQ_INT(notifier_queue_length(n), 4);
	T_EQ_INT(notifier_accept(n, "[{\"labels\":{}}]", 15, err, sizeof(err)), -1);
	T_EQ_STR(err, "alert 0: labels must be a non-empty object of strings");
	T_EQ_INT(notifier_accept(n, "{}", 2, err, sizeof(err)), -1);
	notifier_close(n);
	/* reopen: the same four rows; a third batch overflows max_length 5 */
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(notifier_queue_length(n), 4);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, arr.data, arr.len, err, sizeof(err)), 4);
	T_EQ_INT(notifier_queue_length(n), 5);
	T_CHECK(egress_refused_count() > 0);	/* every attempt went through the egress policy */
	struct buf m;
	buf_init(&m, 1 << 16);
	notifier_metrics(n, &m);
	T_CHECK(strstr(m.data, "vigil_notification_queue_length 5\n") != NULL);
	T_CHECK(strstr(m.data, "vigil_notifications_dropped_total{receiver=\"a\",reason=\"queue_full\"} 2\n") != NULL);
	T_CHECK(strstr(m.data, "vigil_notifications_dropped_total{receiver=\"b\",reason=\"queue_full\"} 1\n") != NULL);
	buf_free(&m);
	buf_free(&arr);
	notifier_close(n);
	/* a damaged queue file is moved aside and an empty queue starts */
	FILE *f = fopen(db, "w");
	fputs("this is not an SQLite database, just some bytes that fill a header. 0123456789", f);
	fclose(f);
	char wal[300];
	snprintf(wal, sizeof(wal), "%s-wal", db);
	unlink(wal);
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(notifier_queue_length(n), 0);
	notifier_close(n);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "ls %s | grep -q 'notify.db.corrupt-'", dir);
	T_EQ_INT(system(cmd), 0);
	loop_free(l);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* docs/ALERTING.md's configuration example is a config that loads. */
T_TEST(notify_docs_example_loads)
{
	FILE *f = fopen("docs/ALERTING.md", "r");
	T_CHECK(f != NULL);
	if (!f)
		return;
	struct buf y;
	buf_init(&y, 1 << 20);
	char line[1024];
	int in = 0, done = 0;
	while (!done && fgets(line, sizeof(line), f)) {
		if (!in && strncmp(line, "```yaml", 7) == 0)
			in = 1;
		else if (in && strncmp(line, "```", 3) == 0)
			done = 1;
		else if (in)
			buf_adds(&y, line);
	}
	fclose(f);
	T_CHECK(done && y.len > 100);
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(alert_config_parse("ALERTING.md", y.data, y.len, &c, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(c.nreceivers, 3);
	T_EQ_INT(c.nrule_files, 2);
	alert_config_free(&c);
	buf_free(&y);
}

/* Unit-test double for the PromQL engine: one series, value 1. */
static int one_series(void *ctx, const char *expr, int64_t ts, struct alert_vector *out, char *err, size_t errsz)
{
	(void)ctx; (void)expr; (void)ts; (void)err; (void)errsz;
	struct label v[] = { { "__name__", "up" }, { "instance", "web1" } };
	struct labels *ls = labels_new(v, 2);
	alert_vector_add(out, ls, 1);
	labels_free(ls);
	return 0;
}

/* What the store's engine emits is exactly what the notifier accepts. */
T_TEST(notify_accepts_what_the_engine_sends)
{
	const char *rules = "groups:\n- name: g\n  rules:\n  - alert: Up\n    expr: up\n"
	    "    annotations: {summary: '{{ $labels.instance }} is {{ $value }}'}\n";
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(rules_parse(rs, "r.yml", rules, strlen(rules), NULL, NULL, err, sizeof(err)), 0);
	struct label ev[] = { { "site", "lon" } };
	struct labels *ext = labels_new(ev, 1);
	struct alert_engine_opts o = { .external_labels = ext, .external_url = "http://v:9920" };
	struct alert_engine *e = alert_engine_new(rs, &o);
	labels_free(ext);
	struct buf notify, msg;
	buf_init(&notify, 1 << 20);
	buf_init(&msg, 1 << 20);
	alert_engine_eval_group(e, 0, 1700000040000LL, one_series, NULL, NULL, &notify);
	buf_printf(&msg, "[%s]", notify.data ? notify.data : "");
	char dir[] = "/tmp/alert_notify_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256];
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	struct loop *l = loop_new();
	struct notifier *n;
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	const char *y = "alerting:\n  alertmanagers:\n  - {name: a, url: 'http://127.0.0.1:9'}\n";
	struct alert_config c;
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	egress_reset();
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, msg.data, msg.len, err, sizeof(err)), 1);
	T_EQ_STR(err, "");
	struct notify_batch b = { 0 };
	T_EQ_INT(notify_batch_add(&b, notify.data, notify.len), 0);
	T_EQ_STR(ajson_get_str(b.v[0].labels, "site"), "lon");
	T_EQ_STR(ajson_get_str(b.v[0].labels, "alertname"), "Up");
	T_EQ_STR(ajson_get_str(b.v[0].annotations, "summary"), "web1 is 1");
	T_EQ_INT(b.v[0].starts_ms, 1700000040000LL);
	T_EQ_INT(b.v[0].ends_ms, 1700000040000LL + 4 * 60000);
	notify_batch_free(&b);
	notifier_close(n);
	loop_free(l);
	alert_engine_free(e);
	buf_free(&notify);
	buf_free(&msg);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

T_TEST(notify_maintenance_windows)
{
	const char *y = "alerting:\n  receivers:\n  - name: a\n    webhook: {url: 'http://127.0.0.1:9/'}\n"
	    "  maintenance:\n"
	    "  - name: upgrade\n    matchers: ['instance=~\"web.*\"', 'severity!=\"critical\"']\n"
	    "    start: 2026-11-27T10:00:00Z\n    end: 2026-11-27T12:00:00Z\n"
	    "  - name: nightly\n    weekly: {days: [fri], from: '23:00', to: '01:30'}\n";
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(alert_config_parse("v.yml", y, strlen(y), &c, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(c.nwindows, 2);
	const struct maint_window *up = &c.windows[0], *ni = &c.windows[1];
	int64_t fri10 = NOW - 3 * 60000;	/* 2026-11-27 (a Friday) 10:00Z */
	T_CHECK(maint_active(up, fri10));
	T_CHECK(!maint_active(up, fri10 - 1));
	T_CHECK(!maint_active(up, fri10 + 2 * 3600000));	/* end is exclusive */
	T_CHECK(!maint_active(ni, fri10));
	T_CHECK(maint_active(ni, fri10 + 13 * 3600000));	/* Fri 23:00 */
	T_CHECK(maint_active(ni, fri10 + 15 * 3600000));	/* Sat 01:00, the night after Friday */
	T_CHECK(!maint_active(ni, fri10 + 16 * 3600000));	/* Sat 02:00 */
	T_CHECK(!maint_active(ni, fri10 - 630 * 60000));	/* Thu 23:30: Thursday is not listed */
	T_CHECK(!maint_active(ni, fri10 + 37 * 3600000));	/* Sat 23:00 */
	struct label l1[] = { { "instance", "web1" }, { "severity", "warning" } };
	struct label l2[] = { { "instance", "web1" }, { "severity", "critical" } };
	struct label l3[] = { { "instance", "db1" } };
	struct labels *a = labels_new(l1, 2), *b = labels_new(l2, 2), *d = labels_new(l3, 1);
	T_CHECK(maint_matches(up, a));
	T_CHECK(!maint_matches(up, b));
	T_CHECK(!maint_matches(up, d));
	T_CHECK(maint_matches(ni, d));	/* no matchers: every alert */
	labels_free(a);
	labels_free(b);
	labels_free(d);
	alert_config_free(&c);
	static const char *const bad[][2] = {
		{ "alerting:\n  maintenance:\n  - name: x\n    start: 2026-11-27T10:00:00Z\n",
		  "v.yml:3:5: maintenance \"x\": either start and end, or weekly" },
		{ "alerting:\n  maintenance:\n  - name: x\n    matchers: ['job~\"a\"']\n    weekly: {days: [sun], from: '1:00', to: '2:00'}\n",
		  "v.yml:4:16: maintenance \"x\": matcher \"job~\"a\"\": expected =, !=, =~ or !~ after the name" },
		{ "alerting:\n  maintenance:\n  - name: x\n    weekly: {days: [sunday], from: '01:00', to: '02:00'}\n",
		  "v.yml:4:21: maintenance \"x\": days are sun, mon, tue, wed, thu, fri, sat" },
		{ "alerting:\n  maintenance:\n  - name: x\n    weekly: {days: [sun], from: '25:00', to: '02:00'}\n",
		  "v.yml:4:33: maintenance \"x\": weekly.from and weekly.to are different times like \"02:00\" (UTC)" },
		{ "alerting:\n  maintenance:\n  - name: x\n    matchers: ['job=~\"(\"']\n    start: 2026-11-27T10:00:00Z\n    end: 2026-11-27T11:00:00Z\n",
		  "v.yml:4:16: maintenance \"x\": matcher \"job=~\"(\"\": " },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *e = cfg_err(bad[i][0]);
		if (strncmp(e, bad[i][1], strlen(bad[i][1])) != 0)
			T_FAILF("case %zu: got \"%s\", want prefix \"%s\"", i, e, bad[i][1]);
	}
}

/* An alert covered by an active window is not queued; others are. */
T_TEST(notify_maintenance_suppresses)
{
	char dir[] = "/tmp/alert_notify_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256], y[512];
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	snprintf(y, sizeof(y), "alerting:\n  alertmanagers:\n  - {name: a, url: 'http://127.0.0.1:9'}\n"
	    "  maintenance:\n  - name: now\n    matchers: ['instance=\"web1\"']\n"
	    "    start: 2000-01-01T00:00:00Z\n    end: 2100-01-01T00:00:00Z\n");
	struct loop *l = loop_new();
	struct notifier *n;
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	egress_reset();
	notifier_configure(n, &c);
	struct buf arr;
	buf_init(&arr, 1 << 16);
	buf_printf(&arr, "[%s,%s]", alert1, alert2);	/* web1 (covered) and web2 */
	T_EQ_INT(notifier_accept(n, arr.data, arr.len, err, sizeof(err)), 1);
	struct buf m;
	buf_init(&m, 1 << 16);
	notifier_metrics(n, &m);
	T_CHECK(strstr(m.data, "vigil_notifications_suppressed_total{window=\"now\"} 1\n") != NULL);
	buf_free(&m);
	buf_free(&arr);
	notifier_close(n);
	loop_free(l);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* Webhook and email receivers hear of a state once; Alertmanager gets every re-send. */
T_TEST(notify_dedup_for_direct_receivers)
{
	char dir[] = "/tmp/alert_notify_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256];
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	const char *y = "alerting:\n  alertmanagers: [{name: am, url: 'http://127.0.0.1:9'}]\n"
	    "  receivers:\n  - name: hook\n    webhook: {url: 'http://127.0.0.1:9/', repeat_interval: 50ms}\n";
	const char *firing = "[{\"labels\":{\"alertname\":\"A\"},\"endsAt\":\"2100-01-01T00:00:00Z\"}]";
	const char *resolved = "[{\"labels\":{\"alertname\":\"A\"},\"endsAt\":\"2001-01-01T00:00:00Z\"}]";
	const char *other = "[{\"labels\":{\"alertname\":\"B\"},\"endsAt\":\"2001-01-01T00:00:00Z\"}]";
	struct loop *l = loop_new();
	struct notifier *n;
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	egress_reset();
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, firing, strlen(firing), err, sizeof(err)), 2);	/* am + hook */
	T_EQ_INT(notifier_accept(n, firing, strlen(firing), err, sizeof(err)), 1);	/* am only */
	T_EQ_INT(notifier_accept(n, resolved, strlen(resolved), err, sizeof(err)), 2);	/* the resolution */
	T_EQ_INT(notifier_accept(n, resolved, strlen(resolved), err, sizeof(err)), 1);
	T_EQ_INT(notifier_accept(n, other, strlen(other), err, sizeof(err)), 1);	/* never announced */
	T_EQ_INT(notifier_accept(n, firing, strlen(firing), err, sizeof(err)), 2);	/* fires again */
	usleep(60000);
	T_EQ_INT(notifier_accept(n, firing, strlen(firing), err, sizeof(err)), 2);	/* repeat_interval passed */
	notifier_close(n);
	/* what was announced survives a restart */
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, resolved, strlen(resolved), err, sizeof(err)), 2);
	struct buf m;
	buf_init(&m, 1 << 16);
	notifier_metrics(n, &m);
	T_CHECK(strstr(m.data, "vigil_notifications_deduplicated_total{receiver=\"hook\"} 0\n") != NULL);
	buf_free(&m);
	notifier_close(n);
	loop_free(l);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

/* An escalation receiver hears of an alert only once it has fired long enough. */
T_TEST(notify_escalation)
{
	char dir[] = "/tmp/alert_notify_test.XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char db[256], young[512], old[512];
	snprintf(db, sizeof(db), "%s/notify.db", dir);
	const char *y = "alerting:\n  receivers:\n  - name: oncall\n    webhook: {url: 'http://127.0.0.1:9/'}\n"
	    "  - name: manager\n    webhook: {url: 'http://127.0.0.1:9/', escalate_after: 30m}\n";
	time_t now = time(NULL);
	struct tm tm;
	char t1[32], t2[32];
	time_t a = now - 60, b = now - 3600;
	gmtime_r(&a, &tm);
	strftime(t1, sizeof(t1), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&b, &tm);
	strftime(t2, sizeof(t2), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(young, sizeof(young), "[{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"%s\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\"}]", t1);
	snprintf(old, sizeof(old), "[{\"labels\":{\"alertname\":\"A\"},\"startsAt\":\"%s\","
	    "\"endsAt\":\"2100-01-01T00:00:00Z\"}]", t2);
	struct loop *l = loop_new();
	struct notifier *n;
	struct alert_config c;
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(notifier_open(l, db, &n, err, sizeof(err)), 0);
	T_EQ_INT(alert_config_parse("t", y, strlen(y), &c, err, sizeof(err)), 0);
	T_EQ_INT(c.receivers[1].escalate_after_ms, 1800000);
	egress_reset();
	notifier_configure(n, &c);
	T_EQ_INT(notifier_accept(n, young, strlen(young), err, sizeof(err)), 1);	/* oncall only */
	T_EQ_INT(notifier_accept(n, old, strlen(old), err, sizeof(err)), 1);		/* now the manager */
	notifier_close(n);
	loop_free(l);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	T_EQ_INT(system(cmd), 0);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "notify-test") == 0)
		return notify_cli_main(argc - 1, argv + 1);
	T_RUN(notify_config_parse);
	T_RUN(notify_config_errors);
	T_RUN(notify_receivers_pinned_and_allowed);
	T_RUN(notify_json_reader);
	T_RUN(notify_payload_formats);
	T_RUN(notify_queue_survives_reopen);
	T_RUN(notify_docs_example_loads);
	T_RUN(notify_accepts_what_the_engine_sends);
	T_RUN(notify_maintenance_windows);
	T_RUN(notify_maintenance_suppresses);
	T_RUN(notify_dedup_for_direct_receivers);
	T_RUN(notify_escalation);
	return t_done();
}
