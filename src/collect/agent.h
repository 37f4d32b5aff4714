/*
 * agent.h — `vigil agent`: the host collectors served on /metrics.
 *
 * The daemon's subcommand dispatch calls agent_main(argc, argv) with
 * argv[0] == "agent". Options are parsed by agent_parse_args alone, so a
 * later `-c FILE` (config file) or remote_write push is added there.
 */
#ifndef VIGIL_AGENT_H
#define VIGIL_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include "collect/collect.h"

#define AGENT_DEFAULT_LISTEN "127.0.0.1:9921"	/* beside node_exporter's 9100 */

struct agent_opts {
	const char *listen;		/* ADDR:PORT to serve on */
	int64_t interval_ms;		/* collect period; 0 = on each scrape */
	const char *collectors;		/* comma-separated collector names, NULL: the default set */
	const char *enable;		/* collectors added to the default set */
	const char *proc;		/* procfs root */
	const char *sys;		/* sysfs root */
	const char *textfile_dir;	/* directory of *.prom files, or NULL */
	const char *systemd_bus;	/* D-Bus address of the systemd manager, or NULL: the system bus */
	struct collect_procgroup *groups;	/* process groups (owned array) */
	char *group_names[COLLECT_GROUPS_MAX];	/* owned group names */
	size_t ngroups;			/* entries in groups */
	const char *remote_write;	/* push each collection to this URL, or NULL */
	const char *token_file;		/* file (mode 0600) holding the bearer token */
	const char *job;		/* job label of pushed series (default "node") */
	const char *instance;		/* instance label (default: host name) */
	int help;			/* --help was given */
};

/* Parse argv (argv[0] is "agent") into o. Return 0, or -EINVAL with a
 * one-line reason in err. String options point into argv. */
int agent_parse_args(int argc, char **argv, struct agent_opts *o, char *err, size_t errsz);
/* Free what agent_parse_args allocated (not the group names); NULL is fine. */
void agent_opts_free(struct agent_opts *o);
/* Run the agent until SIGINT/SIGTERM. Return the process exit status. */
int agent_main(int argc, char **argv);

#endif
