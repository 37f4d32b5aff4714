/*
 * cli.c — `vigil probe KIND TARGET [options]`: one probe, run once (or on an
 * interval for a while with --interval/--duration), samples printed in
 * Prometheus text form. Used by people checking a target by hand and by
 * tests/integration/probe_*.sh.
 */
#include "probe/dns.h"
#include "probe/probe.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/loop.h"
#include "sandbox/egress.h"

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CLI_MAX_ARGV 64		/* plugin arguments */

static const char cli_usage[] =
	"usage: vigil probe KIND TARGET [options]\n"
	"  icmp ADDR        [-c COUNT] [--spacing MS] [--payload N] [--raw]\n"
	"  tcp HOST:PORT    [--tls] [--insecure] [--ca FILE] [--sni NAME] [--send STR] [--expect RE]\n"
	"  http URL         [--method M] [--header 'N: v']... [--status CODE]... [--regex RE]\n"
	"                   [--not-regex RE] [--no-follow] [--insecure] [--ca F] [--cert F] [--key F]\n"
	"                   [--body STR]\n"
	"  dns SERVER[:PORT] --name NAME [--type A|AAAA|MX|TXT|NS|CNAME|SOA|PTR] [--rcode N]\n"
	"                   [--regex RE] [--no-rd]\n"
	"  nagios LABEL     [--uid N --gid N] -- /path/to/plugin [args...]\n"
	"common: [-t TIMEOUT] [--module NAME] [-4|-6] [--node NAME --down-after K --retry DUR]\n"
	"        [--interval DUR --duration DUR] [--metrics] [--set KEY=VALUE]...\n"
	"        (--set takes any config key, see probe_cfg_set in src/probe/probe.h)\n";

struct cli_state {
	double success;		/* last probe_success seen (-1 none) */
	struct loop *l;		/* for --duration */
};

static int cli_print(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct cli_state *st = ctx;
	struct buf b;
	(void)ts;
	buf_init(&b, 1 << 20);
	labels_format(ls, &b);
	if (strcmp(labels_get(ls, "__name__"), "probe_success") == 0)
		st->success = v;
	printf("%s %.15g\n", b.data, v);
	fflush(stdout);
	buf_free(&b);
	return 0;
}

static void cli_status(void *ctx, const char *node, int old_status, int new_status, int64_t ts)
{
	static const char *const n[] = { "unknown", "up", "warning", "down" };
	(void)ctx;
	printf("# status node=%s old=%s new=%s ts_ms=%lld\n", node, n[old_status & 3],
	    n[new_status & 3], (long long)ts);
	fflush(stdout);
}

static void cli_stop(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	loop_stop(l);
}

static int dur(const char *s, int64_t *ms)
{
	if (clock_parse_duration(s, ms) == 0)
		return 0;
	fprintf(stderr, "vigil probe: bad duration \"%s\"\n", s);
	return -1;
}

/* Set a field through probe_cfg_set, so the CLI checks values as the config
 * file does; 0 or -1 with the reason printed. */
static int cli_set(struct probe_cfg *c, const char *key, const char *v)
{
	char err[256];
	if (probe_cfg_set(c, key, v, err, sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "vigil probe: %s\n", err);
	return -1;
}

static int cli_parse(int argc, char **argv, struct probe_cfg *c, const char **nargv,
    int64_t *duration, int *metrics, int *raw)
{
	int nh = 0, na = 0;
	for (int i = 3; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEEDV() do { if (!v) { fprintf(stderr, "vigil probe: %s needs a value\n", a); return -1; } i++; } while (0)
		if (strcmp(a, "--") == 0) {
			for (i++; i < argc && na < CLI_MAX_ARGV - 1; i++)
				nargv[na++] = argv[i];
			break;
		} else if (!strcmp(a, "-t") || !strcmp(a, "--timeout")) {
			NEEDV(); if (dur(v, &c->timeout_ms)) return -1;
		} else if (!strcmp(a, "--interval")) {
			NEEDV(); if (dur(v, &c->interval_ms)) return -1;
		} else if (!strcmp(a, "--duration")) {
			NEEDV(); if (dur(v, duration)) return -1;
		} else if (!strcmp(a, "--retry")) {
			NEEDV(); if (dur(v, &c->retry_interval_ms)) return -1;
		} else if (!strcmp(a, "--module")) {
			NEEDV(); c->module = v;
		} else if (!strcmp(a, "--node")) {
			NEEDV(); c->node = v;
		} else if (!strcmp(a, "--down-after")) {
			NEEDV(); if (cli_set(c, "down_after", v)) return -1;
		} else if (!strcmp(a, "--set")) {
			NEEDV();
			char key[64], err[256];
			const char *eq = strchr(v, '=');
			if (!eq || (size_t)(eq - v) >= sizeof(key)) {
				fprintf(stderr, "vigil probe: --set wants key=value, got \"%s\"\n", v);
				return -1;
			}
			memcpy(key, v, (size_t)(eq - v));
			key[eq - v] = '\0';
			if (probe_cfg_set(c, key, eq + 1, err, sizeof(err)) < 0) {
				fprintf(stderr, "vigil probe: --set %s\n", err);
				return -1;
			}
		} else if (!strcmp(a, "--metrics")) {
			*metrics = 1;
		} else if (!strcmp(a, "-c")) {
			NEEDV(); if (cli_set(c, "icmp.count", v)) return -1;
		} else if (!strcmp(a, "--spacing")) {
			NEEDV();
			char ms[32];
			snprintf(ms, sizeof(ms), "%sms", v);	/* a plain number of ms */
			if (cli_set(c, "icmp.spacing", ms)) return -1;
		} else if (!strcmp(a, "--payload")) {
			NEEDV(); if (cli_set(c, "icmp.payload", v)) return -1;
		} else if (!strcmp(a, "-4") || !strcmp(a, "-6")) {
			c->ip_version = a[1] - '0';
		} else if (!strcmp(a, "--raw")) {
			*raw = 1;
		} else if (!strcmp(a, "--tls")) {
			c->tcp.tls = 1;
		} else if (!strcmp(a, "--insecure")) {
			c->tcp.tls_insecure = c->http.tls_insecure = 1;
		} else if (!strcmp(a, "--ca")) {
			NEEDV(); c->tcp.ca_file = c->http.ca_file = v;
		} else if (!strcmp(a, "--sni")) {
			NEEDV(); c->tcp.server_name = v;
		} else if (!strcmp(a, "--send")) {
			NEEDV(); c->tcp.send = v;
		} else if (!strcmp(a, "--expect")) {
			NEEDV(); c->tcp.expect = v;
		} else if (!strcmp(a, "--method")) {
			NEEDV(); c->http.method = v;
		} else if (!strcmp(a, "--header")) {
			NEEDV(); if (nh < PROBE_HEADERS_MAX - 1) c->http.headers[nh++] = v;
		} else if (!strcmp(a, "--status")) {
			NEEDV(); if (cli_set(c, "http.valid_status", v)) return -1;
		} else if (!strcmp(a, "--regex")) {
			NEEDV(); c->http.body_regex = c->dns.answer_regex = v;
		} else if (!strcmp(a, "--not-regex")) {
			NEEDV(); c->http.body_not_regex = v;
		} else if (!strcmp(a, "--no-follow")) {
			c->http.no_follow = 1;
		} else if (!strcmp(a, "--cert")) {
			NEEDV(); c->http.cert_file = v;
		} else if (!strcmp(a, "--key")) {
			NEEDV(); c->http.key_file = v;
		} else if (!strcmp(a, "--body")) {
			NEEDV(); c->http.body = v;
		} else if (!strcmp(a, "--name")) {
			NEEDV(); c->dns.query_name = v;
		} else if (!strcmp(a, "--type")) {
			NEEDV();
			if (dns_type_parse(v, &c->dns.qtype) < 0) {
				fprintf(stderr, "vigil probe: unknown DNS type \"%s\"\n", v);
				return -1;
			}
		} else if (!strcmp(a, "--rcode")) {
			NEEDV(); if (cli_set(c, "dns.rcode", v)) return -1;
		} else if (!strcmp(a, "--no-rd")) {
			c->dns.no_recursion = 1;
		} else if (!strcmp(a, "--uid")) {
			NEEDV(); if (cli_set(c, "nagios.uid", v)) return -1;
		} else if (!strcmp(a, "--gid")) {
			NEEDV(); if (cli_set(c, "nagios.gid", v)) return -1;
		} else {
			fprintf(stderr, "vigil probe: unknown option \"%s\" (argument %d)\n", a, i);
			return -1;
		}
#undef NEEDV
	}
	nargv[na] = NULL;
	if (c->kind == PROBE_NAGIOS) {
		if (na == 0) {
			fprintf(stderr, "vigil probe: nagios needs -- /path/to/plugin [args]\n");
			return -1;
		}
		c->nagios.argv = nargv;
	}
	return 0;
}

int probe_cli_main(int argc, char **argv)
{
	static const char *nargv[CLI_MAX_ARGV];
	struct probe_cfg c;
	int64_t duration = 0;
	int metrics = 0, raw = 0, rc = 2;
	memset(&c, 0, sizeof(c));
	if (argc < 3 || probe_kind_parse(argv[1], &c.kind) < 0) {
		fputs(cli_usage, stderr);
		return 2;
	}
	c.target = argv[2];
	c.timeout_ms = 5000;
	if (cli_parse(argc, argv, &c, nargv, &duration, &metrics, &raw) < 0)
		goto out;
	if (c.interval_ms == 0)
		c.interval_ms = c.timeout_ms;
	egress_reset();
	if (probe_egress_allow(&c, 1) < 0) {
		fprintf(stderr, "vigil probe: bad target or options for \"%s\" (see log)\n", c.target);
		goto out;
	}
	struct probe_env env = { .icmp4_raw_fd = -1, .icmp6_raw_fd = -1, .on_change = cli_status,
		.oneshot = duration == 0, .icmp_force_raw = raw };
	if (c.kind == PROBE_ICMP) {
		/* What the parent does before dropping privileges; harmless if it fails. */
		env.icmp4_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP);
		env.icmp6_raw_fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	}
	struct loop *l = loop_new();
	struct cli_state st = { -1, l };
	struct sample_sink sink = { cli_print, &st };
	struct probe_engine *e;
	if (probe_engine_new(l, &c, 1, sink, &env, &e) < 0) {
		fprintf(stderr, "vigil probe: bad probe (see log)\n");
		loop_free(l);
		goto out;
	}
	if (duration > 0)
		loop_add_timer(l, duration, cli_stop, NULL);
	loop_run(l);
	probe_engine_free(e);
	loop_free(l);
	if (metrics) {
		struct buf b;
		buf_init(&b, 1 << 20);
		probe_metrics_text(&b);
		fputs(b.data, stdout);
		buf_free(&b);
	}
	rc = st.success == 1 ? 0 : 1;
out:
	probe_cfg_release(&c);
	return rc;
}
