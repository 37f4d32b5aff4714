/* alert_template_test.c — the Go text/template subset alert annotations use. */
#include <math.h>
#include <stdlib.h>

#include "alert/alert.h"
#include "t.h"

static struct labels *mk(const char *a, const char *av, const char *b, const char *bv)
{
	struct labels_builder lb;
	lb_init(&lb);
	if (a)
		lb_set(&lb, a, av);
	if (b)
		lb_set(&lb, b, bv);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

#define TQ_TS 1700000040000LL	/* the evaluation time template queries run at */

static struct labels *up_labels(const char *inst)
{
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "__name__", "up");
	lb_set(&lb, "instance", inst);
	lb_set(&lb, "job", "node");
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return ls;
}

/* A stand-in for PromQL: "up" is two series, "scalar" one unlabelled 42,
 * "str" a string result, "none" empty, "late" only at TQ_TS, anything else fails. */
static int tq_fake(void *ctx, const char *expr, int64_t ts, struct alert_vector *out, char *err, size_t errsz)
{
	(void)ctx;
	struct labels *ls = NULL;
	if (strcmp(expr, "up") == 0) {
		ls = up_labels("b");
		alert_vector_add(out, ls, 1);
		labels_free(ls);
		ls = up_labels("a");
		alert_vector_add(out, ls, 0);
	} else if (strcmp(expr, "scalar") == 0 || (strcmp(expr, "late") == 0 && ts == TQ_TS)) {
		ls = labels_new(NULL, 0);
		alert_vector_add(out, ls, 42);
	} else if (strcmp(expr, "str") == 0) {
		ls = mk("__value__", "hello", NULL, NULL);
		alert_vector_add(out, ls, 0);
	} else if (strcmp(expr, "none") != 0 && strcmp(expr, "late") != 0) {
		snprintf(err, errsz, "1:1: parse error: unexpected \"%s\"", expr);
		return -1;
	}
	labels_free(ls);
	return 0;
}

/* Expand src with instance=web1, job=node, value v; return a static copy or "ERR: ...". */
static const char *ex(const char *src, double v)
{
	static char out[4096];
	char err[256];
	struct template *t;
	if (template_compile(src, strlen(src), &t, err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "COMPILE: %s", err);
		return out;
	}
	struct labels *ls = mk("instance", "web1", "job", "node");
	struct labels *ext = mk("site", "lon", NULL, NULL);
	struct template_data d = { .labels = ls, .value = v, .external_labels = ext,
		.external_url = "http://vigil:9920", .query = tq_fake, .ts_ms = TQ_TS };
	struct buf b;
	buf_init(&b, 1 << 20);
	if (template_expand(t, src, &d, &b, err, sizeof(err)) < 0)
		snprintf(out, sizeof(out), "ERR: %s", err);
	else
		snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
	buf_free(&b);
	labels_free(ls);
	labels_free(ext);
	template_free(t);
	return out;
}

T_TEST(template_variables)
{
	T_EQ_STR(ex("plain text", 1), "plain text");
	T_EQ_STR(ex("{{ $labels.instance }} down", 1), "web1 down");
	T_EQ_STR(ex("{{$labels.job}}/{{ .Labels.instance }}", 1), "node/web1");
	T_EQ_STR(ex("{{ $labels.missing }}", 1), "");	/* Prometheus: missingkey=zero */
	T_EQ_STR(ex("{{ $labels }}", 1), "map[instance:web1 job:node]");
	T_EQ_STR(ex("{{ $value }}", 0.5), "0.5");
	T_EQ_STR(ex("{{ $value }}", 1234567), "1.234567e+06");
	T_EQ_STR(ex("{{ $value }}", 100000), "100000");
	T_EQ_STR(ex("{{ .Value }}", 3), "3");
	T_EQ_STR(ex("{{ $externalLabels.site }} {{ $externalURL }}", 1), "lon http://vigil:9920");
	T_EQ_STR(ex("{{ index $labels \"job\" }}", 1), "node");
	T_EQ_STR(ex("{{/* a comment */}}x", 1), "x");
}

T_TEST(template_humanize_funcs)
{
	T_EQ_STR(ex("{{ humanize $value }}", 1234567), "1.235M");
	T_EQ_STR(ex("{{ $value | humanize }}", 0.0012), "1.2m");
	T_EQ_STR(ex("{{ humanize 0 }}", 1), "0");
	T_EQ_STR(ex("{{ humanize1024 $value }}", 2048), "2ki");
	T_EQ_STR(ex("{{ humanizePercentage $value }}", 0.8532), "85.32%");
	T_EQ_STR(ex("{{ humanizeDuration $value }}", 90061), "1d 1h 1m 1s");
	T_EQ_STR(ex("{{ humanizeDuration $value }}", 65), "1m 5s");
	T_EQ_STR(ex("{{ humanizeDuration $value }}", 1.5), "1.5s");
	T_EQ_STR(ex("{{ humanizeDuration $value }}", 0.0021), "2.1ms");
	T_EQ_STR(ex("{{ humanize $value }}", NAN), "NaN");
	T_EQ_STR(ex("{{ humanize $value }}", INFINITY), "+Inf");
	T_EQ_STR(ex("{{ humanize \"1000\" }}", 1), "1k");
	T_EQ_STR(ex("{{ humanizeTimestamp $value }}", 1700000040.5), "2023-11-14 22:14:00.5 +0000 UTC");
	T_EQ_STR(ex("{{ humanizeTimestamp 0 }}", 1), "1970-01-01 00:00:00 +0000 UTC");
}

T_TEST(template_printf)
{
	T_EQ_STR(ex("{{ printf \"%.2f\" $value }}", 3.14159), "3.14");
	T_EQ_STR(ex("{{ printf \"%.1f%%\" $value }}", 99.44), "99.4%");
	T_EQ_STR(ex("{{ printf \"%s=%d\" $labels.job 5 }}", 1), "node=5");
	T_EQ_STR(ex("{{ printf \"%5.1f|\" $value }}", 2.25), "  2.2|");
	T_EQ_STR(ex("{{ printf \"%g\" $value }}", 0.1), "0.1");
	T_EQ_STR(ex("{{ printf \"%d\" }}", 1), "%!d(MISSING)");
	T_EQ_STR(ex("{{ printf \"x\" 1 }}", 1), "x%!(EXTRA int=1)");
	T_EQ_STR(ex("{{ $value | printf \"%.0f\" }}", 7.6), "8");
	T_EQ_STR(ex("{{ reReplaceAll \"(.*)b\" \"${1}X\" \"web1\" }}", 1), "weX1");
	T_EQ_STR(ex("{{ \"h1:9100\" | reReplaceAll \":.*\" \"\" }}", 1), "h1");
	T_EQ_STR(ex("{{ reReplaceAll \"o\" \"0\" \"foo boo\" }}", 1), "f00 b00");
	T_EQ_STR(ex("{{ if match \"^web\" $labels.instance }}m{{ end }}", 1), "m");
	T_EQ_STR(ex("{{ if match \"^db\" $labels.instance }}m{{ end }}", 1), "");
	T_EQ_STR(ex("{{ safeHtml \"<b>\" }}", 1), "<b>");
	T_EQ_STR(ex("{{ reReplaceAll \"(\" \"\" \"x\" }}", 1),
	    "ERR: regexp: error parsing \"(\": missing closing parenthesis");
}

T_TEST(template_if_else)
{
	const char *t = "{{ if gt $value 90.0 }}critical{{ else if gt $value 80.0 }}warning{{ else }}ok{{ end }}";
	T_EQ_STR(ex(t, 95), "critical");
	T_EQ_STR(ex(t, 85), "warning");
	T_EQ_STR(ex(t, 5), "ok");
	T_EQ_STR(ex("{{ if eq $labels.job \"node\" }}yes{{ end }}", 1), "yes");
	T_EQ_STR(ex("{{ if ne $labels.job \"node\" }}yes{{ end }}", 1), "");
	T_EQ_STR(ex("{{ if lt $value 1.0 }}low{{ end }}", 0.5), "low");
	T_EQ_STR(ex("{{ if $labels.instance }}has{{ end }}", 0.5), "has");
	T_EQ_STR(ex("{{ if and (gt $value 1.0) (lt $value 3.0) }}in{{ end }}", 2), "in");
	T_EQ_STR(ex("a {{- if true }} b {{- end }}", 1), "a b");
	T_EQ_STR(ex("{{ if not false }}n{{ end }}", 1), "n");
	T_EQ_STR(ex("{{ toUpper $labels.job }} {{ title \"disk full\" }}", 1), "NODE Disk Full");
}

T_TEST(template_errors_at_compile)
{
	T_EQ_STR(ex("{{ foo $value }}", 1), "COMPILE: 1:4: function \"foo\" not defined");
	T_EQ_STR(ex("{{ $nope }}", 1), "COMPILE: 1:4: undefined variable \"$nope\"");
	T_EQ_STR(ex("{{ $labels.job", 1), "COMPILE: 1:1: unclosed action");
	T_EQ_STR(ex("{{ if $value }}x", 1), "COMPILE: 1:1: unexpected EOF: missing {{ end }}");
	T_EQ_STR(ex("x{{ end }}", 1), "COMPILE: 1:2: unexpected {{ end }}");
	T_EQ_STR(ex("{{ define \"x\" }}{{ end }}", 1),
	    "COMPILE: 1:4: \"define\" is not supported by vigil's templates");
	T_EQ_STR(ex("{{ range $i, $x := $labels }}{{ end }}", 1), "COMPILE: 1:10: undefined variable \"$i\"");
	T_EQ_STR(ex("{{ with }}x{{ end }}", 1), "COMPILE: 1:1: missing value for with");
	T_EQ_STR(ex("{{ range $labels }}x", 1), "COMPILE: 1:1: unexpected EOF: missing {{ end }}");
	T_EQ_STR(ex("{{ externalURL 1 }}", 1), "COMPILE: 1:4: wrong number of args for externalURL: want 0 got 1");
	T_EQ_STR(ex("{{ humanize }}", 1), "COMPILE: 1:4: wrong number of args for humanize: want 1 got 0");
	T_EQ_STR(ex("{{ $x := 1 }}", 1), "COMPILE: 1:7: variable declarations are not supported");
	T_EQ_STR(ex("{{ \"abc }}", 1), "COMPILE: 1:1: unclosed action");
	T_EQ_STR(ex("{{ .Foo }}", 1),
	    "COMPILE: 1:4: unknown field .Foo (have .Labels, .Value, .ExternalLabels, .ExternalURL)");
	T_EQ_STR(ex("{{ }}", 1), "COMPILE: 1:1: missing value for command");
	T_EQ_STR(ex("line1\n{{ bad }}", 1), "COMPILE: 2:4: function \"bad\" not defined");
}

/* Prometheus's query functions (template/template.go), worked out by hand:
 * query results keep the engine's order, first is element 0, label/value/
 * strvalue read a sample, sortByLabel is a stable sort on one label,
 * with/range set the dot; $labels stays the alert's. */
T_TEST(template_query_functions)
{
	T_EQ_STR(ex("{{ with query \"up\" }}{{ . | first | value }}{{ end }}", 1), "1");
	T_EQ_STR(ex("{{ query \"up\" | first | label \"instance\" }}", 1), "b");
	T_EQ_STR(ex("{{ range query \"up\" }}{{ .Labels.instance }}={{ .Value }};{{ end }}", 1), "b=1;a=0;");
	T_EQ_STR(ex("{{ range sortByLabel \"instance\" (query \"up\") }}{{ label \"instance\" . }} {{ end }}", 1), "a b ");
	/* Prometheus sorts the result in place: a later first sees the order */
	T_EQ_STR(ex("{{ with query \"up\" }}{{ range sortByLabel \"instance\" . }}{{ end }}"
	    "{{ . | first | label \"instance\" }}{{ end }}", 1), "a");
	T_EQ_STR(ex("{{ with query \"none\" }}x{{ else }}empty{{ end }}", 1), "empty");
	T_EQ_STR(ex("{{ range query \"none\" }}x{{ else }}nothing{{ end }}", 1), "nothing");
	T_EQ_STR(ex("{{ query \"scalar\" | first | value | humanize }}", 1), "42");
	T_EQ_STR(ex("{{ query \"late\" | first | value }}", 1), "42");	/* ran at the evaluation time */
	T_EQ_STR(ex("{{ query \"str\" | first | strvalue }}", 1), "hello");
	T_EQ_STR(ex("{{ with query \"up\" }}{{ with first . }}{{ .Labels.job }} {{ $labels.instance }}{{ end }}{{ end }}", 1),
	    "node web1");
	T_EQ_STR(ex("{{ query \"up\" | first }}", 1), "{map[__name__:up instance:b job:node] 1}");
	T_EQ_STR(ex("{{ with query \"up\" }}{{ if gt (len0 .) 0 }}{{ end }}{{ end }}", 1),
	    "COMPILE: 1:32: function \"len0\" not defined");
	T_EQ_STR(ex("{{ range $labels }}{{ . }},{{ end }}", 1), "web1,node,");
	T_EQ_STR(ex("{{ with $labels.instance }}[{{ . }}]{{ end }}{{ with $labels.nope }}x{{ end }}", 1), "[web1]");
	T_EQ_STR(ex("{{ externalURL }}|{{ pathPrefix }}", 1), "http://vigil:9920|");
	T_EQ_STR(ex("{{ stripPort \"web1:9100\" }}|{{ stripPort \"[::1]:80\" }}|{{ stripPort \"host\" }}|"
	    "{{ stripPort \"a:b:c\" }}", 1), "web1|::1|host|a:b:c");
	T_EQ_STR(ex("{{ toTime 1700000040.5 }}|{{ parseDuration \"1h30m\" }}|{{ stripDomain \"db1.lan:9100\" }}", 1),
	    "2023-11-14 22:14:00.5 +0000 UTC|5400|db1:9100");
	T_EQ_STR(ex("{{ stripDomain \"10.1.2.3\" }}|{{ stripDomain \"[fe80::1]:22\" }}|{{ stripPort \"[a]b:1\" }}", 1),
	    "10.1.2.3|[fe80::1]:22|[a]b:1");
	/* run-time errors, in Go's words */
	T_EQ_STR(ex("{{ toTime $value }}", NAN), "ERR: error calling toTime: value is NaN or Inf");
	T_EQ_STR(ex("{{ parseDuration \"5\" }}", 1),
	    "ERR: error calling parseDuration: not a valid duration string: \"5\"");
	T_EQ_STR(ex("{{ parseDuration \"\" }}", 1), "ERR: error calling parseDuration: empty duration string");
	T_EQ_STR(ex("{{ query \"none\" | first }}", 1),
	    "ERR: error calling first: first() called on vector with no elements");
	T_EQ_STR(ex("{{ query \"bad\" }}", 1), "ERR: error calling query: 1:1: parse error: unexpected \"bad\"");
	T_EQ_STR(ex("{{ value \"x\" }}", 1), "ERR: wrong type for value; expected *template.sample; got string");
	T_EQ_STR(ex("{{ range 3 }}x{{ end }}", 1), "ERR: range can't iterate over 3");
	T_EQ_STR(ex("{{ range query \"up\" }}{{ .Nope }}{{ end }}", 1),
	    "ERR: can't evaluate field Nope in type *template.sample");
	/* pathPrefix is the external URL's path */
	struct template *t;
	char err[256];
	const char *src = "{{ pathPrefix }}|{{ externalURL }}";
	T_EQ_INT(template_compile(src, strlen(src), &t, err, sizeof(err)), 0);
	struct template_data d = { .external_url = "https://mon.example.com/vigil" };
	struct buf b;
	buf_init(&b, 1024);
	T_EQ_INT(template_expand(t, src, &d, &b, err, sizeof(err)), 0);
	T_EQ_STR(b.data, "/vigil|https://mon.example.com/vigil");
	buf_reset(&b);
	/* no query engine (e.g. `vigil check rules`): an error, not a crash */
	template_free(t);
	src = "{{ query \"up\" }}";
	T_EQ_INT(template_compile(src, strlen(src), &t, err, sizeof(err)), 0);
	T_EQ_INT(template_expand(t, src, &d, &b, err, sizeof(err)), -1);
	T_EQ_STR(err, "error calling query: no query engine here");
	template_free(t);
	buf_free(&b);
}

T_TEST(template_errors_at_run)
{
	T_EQ_STR(ex("{{ humanize $labels.job }}", 1), "ERR: strconv.ParseFloat: parsing \"node\": invalid syntax");
	T_EQ_STR(ex("{{ if gt $labels.job 1.0 }}x{{ end }}", 1), "ERR: incompatible types for comparison");
}

/* The shipped rules' annotations render as Prometheus renders them
 * (the same strings tests/data/alert/defaults_test.yml expects of promtool). */
static const char *render_default(const char *alert, const char *ann, const char *l1, const char *v1,
    const char *l2, const char *v2, double value)
{
	static char out[1024];
	struct rule_set *rs = rule_set_new();
	char err[ALERT_ERR_MAX] = "";
	snprintf(out, sizeof(out), "(not found)");
	if (rules_load_file(rs, "rules/vigil-defaults.yml", NULL, NULL, err, sizeof(err)) < 0) {
		snprintf(out, sizeof(out), "%s", err);
		rule_set_free(rs);
		return out;
	}
	for (size_t g = 0; g < rs->ngroups; g++)
		for (size_t i = 0; i < rs->groups[g].nrules; i++) {
			const struct rule *r = &rs->groups[g].rules[i];
			if (strcmp(r->name, alert) != 0)
				continue;
			for (size_t k = 0; k < r->nannotations; k++) {
				if (strcmp(r->annotations[k].name, ann) != 0)
					continue;
				struct labels *ls = mk(l1, v1, l2, v2);
				struct template_data d = { .labels = ls, .value = value };
				struct buf b;
				buf_init(&b, 1 << 16);
				template_expand(r->annotations[k].tmpl, r->annotations[k].text, &d, &b, err, sizeof(err));
				snprintf(out, sizeof(out), "%s", b.data ? b.data : "");
				buf_free(&b);
				labels_free(ls);
			}
		}
	rule_set_free(rs);
	return out;
}

T_TEST(template_default_rules_render_like_prometheus)
{
	T_EQ_STR(render_default("InterfaceHighInboundUtilization", "summary", "ifName", "Gi0/1", "instance", "sw1", 0.9),
	    "Inbound utilization of Gi0/1 on sw1 is 90%");
	T_EQ_STR(render_default("CertificateExpiresSoon", "summary", "instance", "https://a.example", NULL, NULL, 862800),
	    "TLS certificate of https://a.example expires in 9d 23h 40m 0s");
	T_EQ_STR(render_default("HostHighCpuLoad", "summary", "instance", "h1", NULL, NULL, 95.0000001),
	    "CPU load on h1 is 95%");
	T_EQ_STR(render_default("InterfaceErrors", "summary", "ifName", "Gi0/1", "instance", "sw1", 3),
	    "Interface Gi0/1 on sw1 drops or errors 3.0 packets/s");
	T_EQ_STR(render_default("HostDiskNearlyFull", "summary", "mountpoint", "/", "instance", "h1", 0.05),
	    "Disk / on h1 is nearly full (5% free)");
	T_EQ_STR(render_default("NodeDown", "description", "node", "core-sw1", NULL, NULL, 3),
	    "core-sw1 has failed vigil's availability polls in a row.");
	T_EQ_STR(render_default("VigilWorkerRestarting", "summary", "worker", "store", NULL, NULL, 5),
	    "vigil's store worker restarted 5 times in 15 minutes");
}

int main(void)
{
	T_RUN(template_variables);
	T_RUN(template_humanize_funcs);
	T_RUN(template_printf);
	T_RUN(template_if_else);
	T_RUN(template_errors_at_compile);
	T_RUN(template_errors_at_run);
	T_RUN(template_query_functions);
	T_RUN(template_default_rules_render_like_prometheus);
	return t_done();
}
