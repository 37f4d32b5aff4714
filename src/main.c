/*
 * main.c — vigil's command line: one binary, subcommands.
 * Exit codes everywhere: 0 ok, 1 runtime failure, 2 usage or config error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/admin_cli.h"
#include "collect/agent.h"
#include "probe/probe.h"
#include "promql/promql.h"
#include "snmp/cli.h"
#include "snmp/sim.h"
#include "alert/alert.h"
#include "core/alerting.h"
#include "core/config.h"
#include "core/parent.h"
#include "core/worker.h"
#include "tsdb/tsdb.h"

#define EXIT_USAGE 2

struct command {
	const char *name;				/* subcommand */
	int (*run)(int argc, char **argv);		/* argv[0] is the subcommand */
	const char *synopsis;				/* one line for `vigil help` */
	const char *help;				/* full help for `vigil help CMD` */
};

static int cmd_serve(int argc, char **argv);
static int cmd_check(int argc, char **argv);
static int cmd_version(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct command commands[] = {
	{ "serve", cmd_serve, "vigil serve [-c FILE]      run the monitoring daemon",
	  "usage: vigil serve [-c FILE]\n\n"
	  "Runs vigil: a supervising parent and four sandboxed workers (poller, store,\n"
	  "web, notifier). Without -c it runs the embedded default: monitor this host,\n"
	  "console and API on http://127.0.0.1:9920/, data in ./data.\n\n"
	  "Signals: SIGHUP reloads the config (an invalid one is rejected and the\n"
	  "running config stays); SIGTERM or SIGINT stops everything within 2 s.\n" },
	{ "agent", agent_main, "vigil agent [--listen A:P]  collect this host only and serve /metrics",
	  "usage: vigil agent [--listen ADDR:PORT] [--interval DURATION]\n\n"
	  "Collect-only mode for remote hosts: no store. Serves this host's metrics\n"
	  "(node_exporter names) on /metrics, Prometheus text or OpenMetrics when the\n"
	  "Accept header asks for it. Default listen address 127.0.0.1:9921.\n" },
	{ "query", query_cli_main, "vigil query [--range S E STEP] EXPR  PromQL from the terminal",
	  "usage: vigil query [--server URL] [--token TOKEN] [--range START END STEP] EXPR\n"
	  "Prints a table (and a small chart per series for --range). The server\n"
	  "defaults to http://127.0.0.1:9920; TOKEN defaults to $VIGIL_TOKEN.\n" },
	{ "snmpsim", snmpsim_main, "vigil snmpsim DIR           serve *.snmprec recordings as SNMP agents",
	  "usage: vigil snmpsim DIR [--listen ADDR:PORT] [--advance]\n\n"
	  "Serves every DIR/*.snmprec as its own agent on one UDP port (loopback only):\n"
	  "the v2c community is the file name without .snmprec. --advance makes\n"
	  "counters and gauges move over time. See vigil snmpsim --help for v3 users.\n" },
	{ "snmpwalk", snmpwalk_main, "vigil snmpwalk ...          walk a device with vigil's SNMP engine",
	  "usage: see vigil snmpwalk with no arguments\n" },
	{ "snmppoll", snmppoll_main, "vigil snmppoll ...          poll a device once with its profiles, print samples",
	  "usage: see vigil snmppoll with no arguments\n" },
	{ "probe", probe_cli_main, "vigil probe KIND TARGET      run one probe, print its series",
	  "usage: see vigil probe with no arguments\n" },
	{ "check", cmd_check, "vigil check config|rules FILE  validate a config (with its secrets and rule files) or rule files",
	  "usage: vigil check config FILE\n       vigil check rules FILE...\n\n"
	  "config parses FILE, the secrets file and the rule files it names. Prints\n"
	  "\"FILE: ok\" and exits 0, or prints FILE:LINE:COL: reason and exits 2.\n"
	  "rules checks Prometheus rule files as promtool check rules does.\n" },
	{ "tsdb", tsdb_cli_main, "vigil tsdb import|analyze|dump  work with a store directory",
	  "usage: vigil tsdb import [-d DIR] [--span DURATION] FILE\n"
	  "       vigil tsdb analyze DIR\n"
	  "       vigil tsdb dump DIR [--min-time MS] [--max-time MS] [MATCHER...]\n"
	  "MATCHER: metric_name | label=\"v\" | label!=\"v\" | label=~\"re\" | label!~\"re\"\n"
	  "import writes Prometheus text or OpenMetrics samples with timestamps into compacted\n"
	  "blocks; vigil serve opens DIR with storage.path: DIR.\n" },
	{ "token", token_cli_main, "vigil token create|list|delete  API tokens (Grafana, promtool, remote_write)",
	  "usage: vigil token create [-d DIR] [--role viewer|operator|admin] NAME\n"
	  "       vigil token list [-d DIR]\n       vigil token delete [-d DIR] ID\n"
	  "DIR is the data directory (default ./data). create prints the token once;\n"
	  "send it as \"Authorization: Bearer TOKEN\". Querying needs viewer, remote_write operator.\n" },
	{ "user", user_cli_main, "vigil user add|reset-password|list   console users",
	  "usage: vigil user add [-d DIR] [--role viewer|operator|admin] NAME\n"
	  "       vigil user reset-password [-d DIR] NAME\n       vigil user list [-d DIR]\n"
	  "add and reset-password print a new random password once.\n" },
	{ "version", cmd_version, "vigil version              print the version",
	  "usage: vigil version\n" },
	{ "help", cmd_help, "vigil help [CMD|config]    show help for a command, or every config key",
	  "usage: vigil help [CMD]\n       vigil help config   (the reference of every config key)\n" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	fprintf(f, "usage: vigil COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].synopsis);
	fprintf(f, "\nEach command takes --help. Exit codes: 0 ok, 1 runtime failure,\n"
	    "2 usage or config error.\n");
}

static const struct command *find(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

static int wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 1;
	return 0;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "config") == 0) {
		/* The reference of every key, generated from the schema itself. */
		struct buf b;
		buf_init(&b, 1 << 20);
		config_doc(&b);
		fputs(b.data ? b.data : "", stdout);
		printf("\n## The embedded default\n\n```yaml\n%s```\n", config_default_yaml);
		buf_free(&b);
		return 0;
	}
	const struct command *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "vigil help: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	fputs(c->help, stdout);
	return 0;
}

static int cmd_version(int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: vigil version\n");
		return EXIT_USAGE;
	}
	printf("vigil %s\n", VIGIL_VERSION);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	const char *file = NULL;
	for (int i = 1; i < argc; i++) {
		if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc && !file) {
			file = argv[++i];
		} else {
			fprintf(stderr, "vigil serve: unexpected argument \"%s\"\n%s", argv[i], find("serve")->help);
			return EXIT_USAGE;
		}
	}
	return parent_run(file);
}

static int cmd_check(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "rules") == 0) {
		/* promtool check rules: the PromQL engine checks every expr */
		rules_cli_set_checker(alerting_check_expr, NULL);
		argv[1] = "rules";
		return rules_cli_main(argc - 1, argv + 1);
	}
	if (argc != 3 || strcmp(argv[1], "config") != 0) {
		fputs(find("check")->help, stderr);
		return EXIT_USAGE;
	}
	struct config *c;
	char err[CONFIG_ERR_MAX];
	if (config_load_file(argv[2], &c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return EXIT_USAGE;
	}
	if (config_load_secrets(c, err, sizeof(err)) < 0 ||
	    ((c->rule_files_pos[0] || c->alerting_pos[0]) &&
	     alerting_check_config(c->file, c->text, strlen(c->text), err, sizeof(err)) < 0)) {
		fprintf(stderr, "%s\n", err);
		config_free(c);
		return EXIT_USAGE;
	}
	printf("%s: ok\n", argv[2]);
	config_free(c);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "__worker") == 0)
		return worker_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "notify-test") == 0)	/* test driver for the notifier's queue */
		return notify_cli_main(argc - 1, argv + 1);
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return cmd_version(1, argv + 1);
	const struct command *c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "vigil: unknown command \"%s\"\n", argv[1]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (c->run != cmd_help && wants_help(argc - 1, argv + 1)) {
		fputs(c->help, stdout);
		return 0;
	}
	return c->run(argc - 1, argv + 1);
}
