/*
 * collect.h — host metrics collectors with node_exporter 1.5's names.
 *
 * A registry of collectors (one file per source: cpu.c reads /proc/stat, ...)
 * each emitting metric families into a table owned by a collect_ctx. The
 * table is kept between runs: buffers are reset, not freed, so a steady
 * collection allocates nothing. After a run the table is either rendered as
 * Prometheus text / OpenMetrics, or fed sample by sample into a sample_sink.
 *
 *   struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
 *   struct collect_ctx *c = collect_new(&cfg, err, sizeof(err));
 *   collect_run(c);                        // read /proc, /sys, ...
 *   collect_render(c, &out, 0);            // text format 0.0.4
 *   collect_emit(c, &sink, clock_wall_ms());
 *   collect_free(c);
 *
 * In the poller, collect_schedule() does the run + emit on the event loop.
 * Collectors keep per-source scratch arrays in static storage: run one
 * collector set per thread.
 *
 * The roots are configurable so unit tests run on fixture trees
 * (tests/data/collect/). Collectors whose source is missing on this host
 * emit nothing and report success. Besides node_exporter's default set
 * there are: textfile (cfg.textfile_dir), processes (off unless in
 * cfg.enable, as in node_exporter), process groups (namedprocess_namegroup_*,
 * process-exporter's names; see process.c) and self (process_* of the
 * collecting process). Every difference from node_exporter's series is
 * listed in tests/data/collect/node_exporter_diff.txt.
 */
#ifndef VIGIL_COLLECT_H
#define VIGIL_COLLECT_H

#include <dirent.h>
#include <stddef.h>
#include <stdint.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/labels.h"
#include "core/loop.h"

#define COLLECT_FILE_MAX    (4u << 20)	/* largest /proc or /sys file read */
#define COLLECT_LABELS_MAX  16		/* labels on one collected sample */
#define COLLECT_RENDER_MAX  (64u << 20)	/* rendered exposition cap */
#define COLLECT_GROUPS_MAX  64		/* process groups */

enum collect_type {
	COLLECT_GAUGE,		/* a value that goes up and down */
	COLLECT_COUNTER,	/* a monotonic total */
	COLLECT_UNTYPED,	/* node_exporter's untyped families (netstat, vmstat) */
	COLLECT_HISTOGRAM,	/* samples carry their own __name__ (_bucket, _sum, _count) */
	COLLECT_SUMMARY,	/* samples carry their own __name__ (quantiles, _sum, _count) */
};

/* One process group to watch (process monitoring). */
struct collect_procgroup {
	const char *name;		/* groupname label value */
	const char *comm_regex;		/* PCRE2 matched against /proc/PID/comm, or NULL */
	const char *cmdline_regex;	/* PCRE2 matched against the joined cmdline, or NULL */
};

struct collect_config {
	const char *proc;		/* procfs root, normally "/proc" */
	const char *sys;		/* sysfs root, normally "/sys" */
	const char *etc;		/* for os-release, normally "/etc" */
	const char *usr_lib;		/* fallback os-release dir, normally "/usr/lib" */
	const char *rootfs;		/* prefix for statfs of mount points, normally "" */
	const char *only;		/* comma-separated collector names to run, NULL: the default set */
	const char *enable;		/* comma-separated collectors to add to the set (e.g. "processes") */
	const char *textfile_dir;	/* directory of *.prom files to serve, or NULL */
	const struct collect_procgroup *groups;	/* process groups, may be NULL */
	size_t ngroups;			/* entries in groups */
	const char *systemd_bus;	/* D-Bus address of the systemd manager's bus, NULL: the system bus */
};

#define COLLECT_CONFIG_DEFAULT { "/proc", "/sys", "/etc", "/usr/lib", "", NULL, NULL, NULL, NULL, 0, NULL }

struct collect_ctx;

/* Make a collector set for cfg (strings are copied). Return NULL if a
 * process-group regex does not compile; *err (may be NULL) gets why. */
struct collect_ctx *collect_new(const struct collect_config *cfg, char *err, size_t errsz);
/* Free it; NULL is fine. */
void collect_free(struct collect_ctx *c);
/* Run every collector once, replacing the previous results. Return the
 * number of collectors that failed (their node_scrape_collector_success is 0). */
int collect_run(struct collect_ctx *c);
/* Append the last run as Prometheus text 0.0.4 (openmetrics 0) or
 * OpenMetrics 1.0 (1, ends with "# EOF"). Families are sorted by name.
 * Return 0 or -E2BIG. */
int collect_render(struct collect_ctx *c, struct buf *out, int openmetrics);
/* Hand every sample of the last run to sink with timestamp ts_ms.
 * Return 0 or the sink's first negative return. */
int collect_emit(struct collect_ctx *c, const struct sample_sink *sink, int64_t ts_ms);
/* Samples in the last run. */
size_t collect_sample_count(const struct collect_ctx *c);
/* Names of the registered collectors, NULL-terminated. */
const char *const *collect_names(void);

/*
 * For the poller worker: run c on loop l every interval_ms (first run at
 * once) and hand each run to sink, stamped with the wall time of the run.
 * c stays the caller's; free the schedule before it.
 */
struct collect_sched;
struct collect_sched *collect_schedule(struct loop *l, struct collect_ctx *c, int64_t interval_ms,
    struct sample_sink sink);
/* Stop and free a schedule; NULL is fine. */
void collect_unschedule(struct collect_sched *s);
/* Runs done so far. */
uint64_t collect_sched_runs(const struct collect_sched *s);

/* ---- for collector implementations (collect_*.c) ---- */

/* Select (creating on first use) the family name; samples added next go to it. */
void collect_family(struct collect_ctx *c, const char *name, const char *help, enum collect_type type);
/* Add a sample to the current family with NULL-terminated name, value label
 * pairs: collect_add(c, 1.5, "cpu", "0", "mode", "idle", NULL). Labels with
 * an empty value are kept (node_exporter emits them); at most
 * COLLECT_LABELS_MAX. Return 0 or -E2BIG. */
int collect_add(struct collect_ctx *c, double v, ...) __attribute__((sentinel));
/* The same with an array of labels (at most COLLECT_LABELS_MAX). A first
 * label named __name__ gives the sample a name other than the family's
 * (members of histograms and summaries). */
int collect_addv(struct collect_ctx *c, double v, const struct label *labels, size_t n);
/* Family + one unlabelled sample. */
int collect_one(struct collect_ctx *c, const char *name, const char *help, enum collect_type type, double v);
/* Read root/rel into the context's file buffer; return its data (NUL-terminated)
 * and length, or NULL with errno set. The data lives until the next read.
 * The file stays open between runs and is re-read from offset 0. */
const char *collect_read(struct collect_ctx *c, const char *root, const char *rel, size_t *len);
/* /proc/stat, read once per run however many collectors ask (it is costly
 * for the kernel to make). The data lives until the next run. */
const char *collect_proc_stat(struct collect_ctx *c, size_t *len);
/* The same for a file under the proc root that must not be kept open (/proc/PID/...). */
const char *collect_read_pid(struct collect_ctx *c, const char *rel, size_t *len);
/* The same for a file that is replaced by rename rather than rewritten
 * (os-release, udev's database): opened and closed on every read. */
const char *collect_read_once(struct collect_ctx *c, const char *root, const char *rel, size_t *len);
/* Read a small sysfs-style file into out (trailing newline and spaces
 * stripped). 0 or -errno. The file is kept open and re-read next time. */
int collect_read_small(struct collect_ctx *c, const char *root, const char *rel, char *out, size_t outsz);
/* Open directory path for readdir, kept open between runs and rewound
 * (sysfs lists the directory as it is now); NULL with errno set. A missing
 * directory is looked for again only every 30 s, like a missing file.
 * Give it back with collect_closedir, never closedir. */
DIR *collect_opendir(struct collect_ctx *c, const char *path);
/* Done listing d (from collect_opendir); NULL is fine. */
void collect_closedir(struct collect_ctx *c, DIR *d);
/* The configuration. */
const struct collect_config *collect_cfg(const struct collect_ctx *c);
/* strtod(s, end) with a fast path for plain integers of up to 15 digits
 * (what /proc files hold); same result and *end as strtod. */
double collect_num(const char *s, char **end);
/* Parse n numbers separated by white space from s (strtod each) into v.
 * Return 0, or -1 if fewer than n are there. */
int collect_nums(const char *s, double *v, int n);
/* Start of the line after p (or end). */
const char *collect_next_line(const char *p, const char *end);

/* The collectors, one per file. Each returns 0 or a negative errno. */
int collect_cpu(struct collect_ctx *c);
int collect_stat(struct collect_ctx *c);
int collect_loadavg(struct collect_ctx *c);
int collect_meminfo(struct collect_ctx *c);
int collect_vmstat(struct collect_ctx *c);
int collect_diskstats(struct collect_ctx *c);
int collect_filesystem(struct collect_ctx *c);
int collect_netdev(struct collect_ctx *c);
int collect_netclass(struct collect_ctx *c);
int collect_netstat(struct collect_ctx *c);
int collect_sockstat(struct collect_ctx *c);
int collect_pressure(struct collect_ctx *c);
int collect_uname(struct collect_ctx *c);
int collect_os(struct collect_ctx *c);
int collect_time(struct collect_ctx *c);
int collect_timex(struct collect_ctx *c);
int collect_hwmon(struct collect_ctx *c);
int collect_thermal(struct collect_ctx *c);
int collect_filefd(struct collect_ctx *c);
int collect_entropy(struct collect_ctx *c);
int collect_conntrack(struct collect_ctx *c);
int collect_softnet(struct collect_ctx *c);
int collect_udp_queues(struct collect_ctx *c);
int collect_arp(struct collect_ctx *c);
int collect_selinux(struct collect_ctx *c);
int collect_systemd(struct collect_ctx *c);
int collect_process(struct collect_ctx *c);
int collect_self(struct collect_ctx *c);
int collect_textfile(struct collect_ctx *c);
int collect_processes(struct collect_ctx *c);
int collect_cpufreq(struct collect_ctx *c);
int collect_schedstat(struct collect_ctx *c);
int collect_edac(struct collect_ctx *c);
int collect_bonding(struct collect_ctx *c);

/* Process-group state (process.c), created by collect_new. */
struct collect_proc;
struct collect_proc *collect_proc_new(const struct collect_procgroup *g, size_t n, char *err, size_t errsz);
void collect_proc_free(struct collect_proc *p);
struct collect_proc *collect_proc_state(struct collect_ctx *c);

#endif
