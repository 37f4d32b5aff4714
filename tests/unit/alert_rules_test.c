/*
 * alert_rules_test.c — rule files: the declarative cases in
 * tests/data/alert/rules/{good,bad}/ (each bad file's first line says
 * "# want: TEXT" that the error must contain), and what a good file loads as.
 * tests/integration/alert_promtool.sh checks promtool agrees on every case.
 */
#include <dirent.h>
#include <stdlib.h>

#include "alert/alert.h"
#include "core/alerting.h"
#include "t.h"
#include "tsdb/memstore.h"

#define CASES "tests/data/alert/rules"

static int read_want(const char *path, char *want, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	char line[512] = "";
	if (!fgets(line, sizeof(line), f))
		line[0] = 0;
	fclose(f);
	if (strncmp(line, "# want: ", 8) != 0)
		return -1;
	line[strcspn(line, "\n")] = 0;
	snprintf(want, n, "%s", line + 8);
	return 0;
}

static void run_dir(const char *sub, int good, int *count)
{
	char dir[256];
	snprintf(dir, sizeof(dir), "%s/%s", CASES, sub);
	DIR *d = opendir(dir);
	T_CHECK(d != NULL);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strstr(de->d_name, ".yml"))
			continue;
		char path[512], err[ALERT_ERR_MAX] = "", want[512];
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		struct rule_set *rs = rule_set_new();
		int rc = rules_load_file(rs, path, NULL, NULL, err, sizeof(err));
		(*count)++;
		if (good) {
			if (rc != 0)
				T_FAILF("%s: rejected: %s", path, err);
		} else if (read_want(path, want, sizeof(want)) < 0) {
			T_FAILF("%s: no \"# want:\" line", path);
		} else if (rc == 0) {
			T_FAILF("%s: accepted, want error containing %s", path, want);
		} else if (!strstr(err, want) || strncmp(err, path, strlen(path)) != 0) {
			T_FAILF("%s: error \"%s\" does not contain \"%s\"", path, err, want);
		}
		rule_set_free(rs);
	}
	closedir(d);
}

T_TEST(rules_declarative_cases)
{
	int ngood = 0, nbad = 0;
	run_dir("good", 1, &ngood);
	run_dir("bad", 0, &nbad);
	T_CHECK(ngood >= 5);
	T_CHECK(nbad >= 20);
}

T_TEST(rules_full_file_contents)
{
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(rules_load_file(rs, CASES "/good/full.yml", NULL, NULL, err, sizeof(err)), 0);
	T_EQ_STR(err, "");
	T_EQ_INT(rs->ngroups, 2);
	T_EQ_INT(rule_set_count(rs), 3);
	const struct rule_group *g = &rs->groups[0];
	T_EQ_STR(g->name, "node");
	T_EQ_INT(g->interval_ms, 30000);
	T_EQ_INT(g->limit, 10);
	T_EQ_INT(g->rules[0].type, RULE_RECORDING);
	T_EQ_STR(g->rules[0].name, "job:up:sum");
	T_EQ_STR(g->rules[0].expr, "sum by (job) (up)");
	T_EQ_INT(g->rules[1].type, RULE_ALERTING);
	T_EQ_INT(g->rules[1].for_ms, 600000);
	T_EQ_INT(g->rules[1].keep_firing_for_ms, 300000);
	T_EQ_INT(g->rules[1].nannotations, 2);
	T_EQ_STR(g->rules[1].annotations[0].name, "description");
	T_EQ_STR(g->rules[1].annotations[1].name, "summary");
	T_CHECK(g->rules[1].annotations[1].tmpl != NULL);
	T_EQ_INT(g->rules[1].line, 10);
	T_EQ_STR(rs->groups[1].rules[0].name, "a:b:c");
	/* A second file with the same group names is fine (names are per file). */
	T_EQ_INT(rules_parse(rs, "other.yml", "groups: [{name: node, rules: []}]", 33, NULL, NULL,
	    err, sizeof(err)), 0);
	T_EQ_INT(rs->ngroups, 3);
	rule_set_free(rs);
}

static int reject_foo(void *ctx, const char *expr, char *err, size_t errsz)
{
	(void)ctx;
	if (strstr(expr, "foo(")) {
		snprintf(err, errsz, "1:1: parse error: unknown function with name \"foo\"");
		return -1;
	}
	return 0;
}

T_TEST(rules_expr_checker_is_asked)
{
	const char *y = "groups:\n- name: g\n  rules:\n  - record: r\n    expr: foo(up)\n";
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(rules_parse(rs, "x.yml", y, strlen(y), reject_foo, NULL, err, sizeof(err)), -1);
	T_EQ_STR(err, "x.yml:5:11: group \"g\", rule 1, \"r\": could not parse expression: "
	    "1:1: parse error: unknown function with name \"foo\"");
	T_EQ_INT(rs->ngroups, 0);
	rule_set_free(rs);
}

T_TEST(rules_unreadable_and_multidoc)
{
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	T_EQ_INT(rules_load_file(rs, "/nonexistent/r.yml", NULL, NULL, err, sizeof(err)), -1);
	T_EQ_STR(err, "/nonexistent/r.yml: No such file or directory");
	const char *y = "groups: []\n---\ngroups: []\n";
	T_EQ_INT(rules_parse(rs, "m.yml", y, strlen(y), NULL, NULL, err, sizeof(err)), -1);
	T_EQ_STR(err, "m.yml:3:1: a rule file holds one YAML document");
	rule_set_free(rs);
}

/* Rules and their templates' queries run through vigil's own PromQL engine
 * (the store worker's alerting_query) over an empty store: the conformance
 * rules use constant expressions, so Prometheus and vigil see the same. */
static struct storage conf_store;
static struct alerting_query_ctx conf_q = { &conf_store, 5 * 60 * 1000, 50000000, 10000 };

/* /api/v1/alerts (or with notify set, the MSG_ALERTS payload) after one
 * evaluation of FILE with conformance_query. */
static int api_alerts_main(const char *file, int notify)
{
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX];
	if (rules_load_file(rs, file, NULL, NULL, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		rule_set_free(rs);
		return 2;
	}
	memstore_open(&conf_store);
	struct label site = { "site", "lon" };
	struct labels *ext = labels_new(&site, 1);
	struct alert_engine_opts o = { .external_labels = ext, .external_url = "http://vigil.test:9090",
		.format_expr = alerting_format_expr };	/* generatorURL carries the canonical expr */
	struct alert_engine *e = alert_engine_new(rs, &o);
	labels_free(ext);
	int failed = 0;
	struct buf b, nb;
	buf_init(&b, 1 << 24);
	buf_init(&nb, 1 << 24);
	for (size_t g = 0; g < e->ngroups; g++)
		failed += alert_engine_eval_group(e, g, 1700000040000LL, alerting_query, &conf_q, NULL, &nb);
	if (notify) {
		printf("[%s]\n", nb.data ? nb.data : "");
	} else {
		alert_api_alerts(e, &b);
		puts(b.data);
	}
	buf_free(&nb);
	buf_free(&b);
	alert_engine_free(e);
	conf_store.ops->close(conf_store.impl);
	return failed ? 1 : 0;
}

/* A rule (or template query) whose result is a range vector or a string is
 * an error, as in Prometheus, not the range's last sample. */
T_TEST(rules_query_refuses_matrix_and_string)
{
	memstore_open(&conf_store);
	char err[ALERT_ERR_MAX] = "";
	struct alert_vector v;
	memset(&v, 0, sizeof(v));
	T_EQ_INT(alerting_query(&conf_q, "vector(1)[5m:1m]", 1700000040000LL, &v, err, sizeof(err)), -1);
	T_EQ_STR(err, "rule result is not a vector or scalar");
	T_EQ_INT(alerting_query(&conf_q, "\"x\"", 1700000040000LL, &v, err, sizeof(err)), -1);
	T_EQ_INT(alerting_query(&conf_q, "vector(2)", 1700000040000LL, &v, err, sizeof(err)), 0);
	T_EQ_INT((long long)v.n, 1);
	alert_vector_free(&v);
	conf_store.ops->close(conf_store.impl);
}

/*
 * `alert_rules_test check-rules FILE...` runs `vigil check rules` (so the
 * integration script can compare it with promtool before main.c wires it).
 */
int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "api-alerts") == 0)
		return api_alerts_main(argv[2], 0);
	if (argc == 3 && strcmp(argv[1], "notify-json") == 0)
		return api_alerts_main(argv[2], 1);
	if (argc == 3 && strcmp(argv[1], "api-rules") == 0) {
		/* /api/v1/rules for FILE, never evaluated (compared with Prometheus's) */
		struct rule_set *rs = rule_set_new();
		char err[ALERT_ERR_MAX];
		if (rules_load_file(rs, argv[2], NULL, NULL, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			rule_set_free(rs);
			return 2;
		}
		struct alert_engine *e = alert_engine_new(rs, NULL);
		struct buf b;
		buf_init(&b, 1 << 24);
		alert_api_rules(e, NULL, &b);
		puts(b.data);
		buf_free(&b);
		alert_engine_free(e);
		return 0;
	}
	if (argc > 1 && strcmp(argv[1], "check-rules") == 0) {
		argv[1] = "rules";
		return rules_cli_main(argc - 1, argv + 1);
	}
	T_RUN(rules_declarative_cases);
	T_RUN(rules_full_file_contents);
	T_RUN(rules_expr_checker_is_asked);
	T_RUN(rules_unreadable_and_multidoc);
	T_RUN(rules_query_refuses_matrix_and_string);
	return t_done();
}
