/* collect_test.c — the collectors over captured /proc and /sys fixtures (tests/data/collect). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect/agent.h"
#include "collect/collect.h"
#include "core/clock.h"
#include "core/loop.h"
#include "scrape/textparse.h"
#include "t.h"

#define FIX "tests/data/collect"
#define MAXS 4096

struct mem {
	char key[MAXS][256];	/* name{a="b",...} with labels sorted, __name__ outside */
	double v[MAXS];		/* values */
	long long ts[MAXS];	/* timestamps */
	size_t n;		/* samples */
};

static int mem_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct mem *m = ctx;
	if (m->n >= MAXS)
		return -E2BIG;
	char *k = m->key[m->n];
	size_t off = (size_t)snprintf(k, 256, "%s{", labels_get(ls, "__name__"));
	int first = 1;
	for (size_t i = 0; i < ls->n && off < 256; i++) {
		if (!strcmp(ls->v[i].name, "__name__"))
			continue;
		off += (size_t)snprintf(k + off, 256 - off, "%s%s=\"%s\"", first ? "" : ",", ls->v[i].name, ls->v[i].value);
		first = 0;
	}
	if (off < 255)
		snprintf(k + off, 256 - off, "}");
	m->v[m->n] = v;
	m->ts[m->n] = (long long)ts;
	m->n++;
	return 0;
}

static double find(const struct mem *m, const char *key)
{
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key))
			return m->v[i];
	return NAN;
}

static struct mem M;

static struct collect_ctx *fixture_ctx(const char *only)
{
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.proc = FIX "/proc";
	cfg.sys = FIX "/sys";
	cfg.etc = FIX "/etc";
	cfg.only = only;
	return collect_new(&cfg, NULL, 0);
}

static void run_into_mem(struct collect_ctx *c)
{
	struct sample_sink sink = { mem_add, &M };
	memset(&M, 0, sizeof(M));
	collect_run(c);
	collect_emit(c, &sink, 1234);
}

T_TEST(cpu_and_stat_from_proc_stat)
{
	struct collect_ctx *c = fixture_ctx("cpu,stat,loadavg");
	run_into_mem(c);
	double hz = (double)sysconf(_SC_CLK_TCK);
	/* cpu0 4790 4865 3782 65662 77 0 19 13 0 0 */
	T_EQ_DBL(find(&M, "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"}"), 4790 / hz, 1e-9);
	T_EQ_DBL(find(&M, "node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}"), 65662 / hz, 1e-9);
	T_EQ_DBL(find(&M, "node_cpu_seconds_total{cpu=\"0\",mode=\"steal\"}"), 13 / hz, 1e-9);
	T_EQ_DBL(find(&M, "node_cpu_guest_seconds_total{cpu=\"1\",mode=\"user\"}"), 0, 0);
	T_EQ_DBL(find(&M, "node_boot_time_seconds{}"), 1795818995, 0);
	T_CHECK(find(&M, "node_load1{}") >= 0);
	T_EQ_DBL(find(&M, "node_scrape_collector_success{collector=\"cpu\"}"), 1, 0);
	T_EQ_INT(M.ts[0], 1234);
	collect_free(c);
}

T_TEST(meminfo_names_like_node_exporter)
{
	struct collect_ctx *c = fixture_ctx("meminfo,vmstat");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_memory_MemTotal_bytes{}"), 24684084.0 * 1024, 0);
	T_CHECK(!isnan(find(&M, "node_memory_Active_anon_bytes{}")));
	T_CHECK(!isnan(find(&M, "node_memory_HugePages_Total{}")));	/* no kB: no _bytes */
	T_CHECK(!isnan(find(&M, "node_vmstat_pgfault{}")));
	T_CHECK(!isnan(find(&M, "node_vmstat_oom_kill{}")));
	T_CHECK(isnan(find(&M, "node_vmstat_nr_free_pages{}")));	/* not in the default field list */
	collect_free(c);
}

T_TEST(diskstats_scaled_and_filtered)
{
	struct collect_ctx *c = fixture_ctx("diskstats");
	run_into_mem(c);
	/* vda 83278 10405 4315930 74749 ... */
	T_EQ_DBL(find(&M, "node_disk_reads_completed_total{device=\"vda\"}"), 83278, 0);
	T_EQ_DBL(find(&M, "node_disk_read_bytes_total{device=\"vda\"}"), 4315930.0 * 512, 0);
	T_EQ_DBL(find(&M, "node_disk_read_time_seconds_total{device=\"vda\"}"), 74.749, 1e-9);
	T_EQ_DBL(find(&M, "node_disk_flush_requests_total{device=\"vda\"}"), 2792, 0);
	T_CHECK(isnan(find(&M, "node_disk_reads_completed_total{device=\"loop0\"}")));
	/* empty labels (no udev data here) are not part of a stored series */
	T_EQ_DBL(find(&M, "node_disk_info{device=\"vda\",major=\"254\",minor=\"0\"}"), 1, 0);
	collect_free(c);
}

T_TEST(network_sources)
{
	struct collect_ctx *c = fixture_ctx("netdev,netclass,netstat,sockstat,softnet,udp_queues,arp,conntrack");
	run_into_mem(c);
	T_CHECK(find(&M, "node_network_receive_bytes_total{device=\"eth0\"}") > 0);
	T_CHECK(isnan(find(&M, "node_network_receive_bytes_total{device=\"lo\"}")));	/* excluded */
	T_EQ_DBL(find(&M, "node_network_mtu_bytes{device=\"lo\"}"), 65536, 0);
	T_EQ_DBL(find(&M, "node_network_up{device=\"eth0\"}"), 1, 0);
	T_CHECK(!isnan(find(&M, "node_netstat_Tcp_CurrEstab{}")));
	T_CHECK(!isnan(find(&M, "node_netstat_Ip6_InOctets{}")));
	T_CHECK(!isnan(find(&M, "node_netstat_TcpExt_ListenDrops{}")));
	T_CHECK(isnan(find(&M, "node_netstat_TcpExt_PruneCalled{}")));
	T_EQ_DBL(find(&M, "node_sockstat_TCP_inuse{}"), 20, 0);
	T_EQ_DBL(find(&M, "node_sockstat_TCP_mem_bytes{}"), 65.0 * (double)sysconf(_SC_PAGESIZE), 0);
	T_EQ_DBL(find(&M, "node_sockstat_sockets_used{}"), 43, 0);
	T_CHECK(!isnan(find(&M, "node_softnet_processed_total{cpu=\"1\"}")));
	T_CHECK(!isnan(find(&M, "node_udp_queues{ip=\"v4\",queue=\"rx\"}")));
	T_EQ_DBL(find(&M, "node_arp_entries{device=\"eth0\"}"), 1, 0);
	T_CHECK(!isnan(find(&M, "node_nf_conntrack_entries_limit{}")));
	T_CHECK(!isnan(find(&M, "node_nf_conntrack_stat_search_restart{}")));
	collect_free(c);
}

T_TEST(sensors_pressure_and_files)
{
	struct collect_ctx *c = fixture_ctx("hwmon,thermal_zone,pressure,filefd,entropy,os,time");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_hwmon_temp_celsius{chip=\"hostmon_test\",sensor=\"temp1\"}"), 45.5, 1e-9);
	T_EQ_DBL(find(&M, "node_hwmon_temp_crit_celsius{chip=\"hostmon_test\",sensor=\"temp1\"}"), 100, 1e-9);
	T_EQ_DBL(find(&M, "node_hwmon_chip_names{chip=\"hostmon_test\",chip_name=\"hostmon-test\"}"), 1, 0);
	T_EQ_DBL(find(&M, "node_thermal_zone_temp{type=\"x86_pkg_temp\",zone=\"0\"}"), 52, 1e-9);
	T_CHECK(find(&M, "node_pressure_io_stalled_seconds_total{}") > 0);
	T_CHECK(find(&M, "node_filefd_maximum{}") > 0);
	T_CHECK(find(&M, "node_entropy_pool_size_bits{}") > 0);
	T_EQ_DBL(find(&M, "node_os_version{id=\"debian\",name=\"Debian GNU/Linux\"}"), 12, 0);
	T_CHECK(!isnan(find(&M, "node_time_clocksource_current_info{clocksource=\"tsc\",device=\"0\"}")));
	collect_free(c);
}

T_TEST(cpufreq_schedstat_edac_bonding)
{
	struct collect_ctx *c = fixture_ctx("cpufreq,schedstat");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_cpu_scaling_frequency_hertz{cpu=\"0\"}"), 2.4e9, 0);
	T_EQ_DBL(find(&M, "node_cpu_frequency_max_hertz{cpu=\"0\"}"), 3.5e9, 0);
	T_CHECK(isnan(find(&M, "node_cpu_frequency_hertz{cpu=\"0\"}")));	/* cpuinfo_cur_freq absent */
	T_EQ_DBL(find(&M, "node_cpu_scaling_governor{cpu=\"0\",governor=\"powersave\"}"), 1, 0);
	T_EQ_DBL(find(&M, "node_cpu_scaling_governor{cpu=\"0\",governor=\"performance\"}"), 0, 0);
	T_EQ_DBL(find(&M, "node_schedstat_running_seconds_total{cpu=\"0\"}"), 2.5, 1e-12);
	T_EQ_DBL(find(&M, "node_schedstat_waiting_seconds_total{cpu=\"0\"}"), 1.2, 1e-12);
	T_EQ_DBL(find(&M, "node_schedstat_timeslices_total{cpu=\"1\"}"), 3, 0);
	collect_free(c);
	c = fixture_ctx("edac");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_edac_correctable_errors_total{controller=\"0\"}"), 3, 0);
	T_EQ_DBL(find(&M, "node_edac_uncorrectable_errors_total{controller=\"0\"}"), 0, 0);
	T_EQ_DBL(find(&M, "node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"0\"}"), 2, 0);
	T_EQ_DBL(find(&M, "node_edac_csrow_correctable_errors_total{controller=\"0\",csrow=\"unknown\"}"), 1, 0);
	T_EQ_DBL(find(&M, "node_scrape_collector_success{collector=\"edac\"}"), 1, 0);
	collect_free(c);
	c = fixture_ctx("bonding");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_bonding_slaves{master=\"bond0\"}"), 2, 0);
	T_EQ_DBL(find(&M, "node_bonding_active{master=\"bond0\"}"), 1, 0);
	collect_free(c);
}

T_TEST(missing_source_marks_collector_failed)
{
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.proc = FIX "/no-such-dir";
	cfg.sys = FIX "/no-such-dir";
	cfg.only = "cpu,meminfo";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	T_EQ_INT(collect_run(c), 2);
	struct sample_sink sink = { mem_add, &M };
	memset(&M, 0, sizeof(M));
	collect_emit(c, &sink, 0);
	T_EQ_DBL(find(&M, "node_scrape_collector_success{collector=\"meminfo\"}"), 0, 0);
	collect_free(c);
}

static int count_sample(void *ctx, const struct tp_sample *s)
{
	(void)s;
	(*(size_t *)ctx)++;
	return 0;
}

/* Rendering is cached per family and built per line on a fast path: escapes,
 * long values, samples with their own names and changed values must all
 * come out exactly, run after run. */
T_TEST(render_escapes_and_cache)
{
	struct collect_ctx *c = fixture_ctx("loadavg");
	struct buf out;
	buf_init(&out, COLLECT_RENDER_MAX);
	static char longv[3000];
	memset(longv, 'x', sizeof(longv) - 1);
	for (int run = 0; run < 3; run++) {
		collect_run(c);
		collect_family(c, "t_escape", "Help with \\ and\nnewline.", COLLECT_GAUGE);
		collect_add(c, 1, "v", "a\"b\\c\nd", NULL);
		collect_add(c, 0.25 * run, "v", "plain", "w", "", NULL);
		collect_add(c, 2, "v", longv, NULL);
		struct label own[] = { { "__name__", "t_escape_extra" }, { "k", "1" } };
		collect_addv(c, -3, own, 2);
		buf_reset(&out);
		T_EQ_INT(collect_render(c, &out, 0), 0);
		T_CHECK(strstr(out.data, "# HELP t_escape Help with \\\\ and\\nnewline.\n") != NULL);
		T_CHECK(strstr(out.data, "\nt_escape{v=\"a\\\"b\\\\c\\nd\"} 1\n") != NULL);
		char want[64];
		snprintf(want, sizeof(want), "\nt_escape{v=\"plain\",w=\"\"} %s\n", run == 0 ? "0" : run == 1 ? "0.25" : "0.5");
		T_CHECK(strstr(out.data, want) != NULL);
		T_CHECK(strstr(out.data, "\nt_escape_extra{k=\"1\"} -3\n") != NULL);
		const char *lv = strstr(out.data, "t_escape{v=\"xxx");
		T_CHECK(lv && strlen(lv) > sizeof(longv) && !strncmp(lv + 12 + sizeof(longv) - 1, "\"} 2\n", 5));
	}
	buf_free(&out);
	collect_free(c);
}

/* Count the lines of a file read to its end with stdio (the reference). */
static long ref_lines(const char *path)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	long n = 0;
	int ch;
	while ((ch = fgetc(f)) != EOF)
		n += ch == '\n';
	fclose(f);
	return n;
}

static long buf_lines(const char *p, size_t len)
{
	long n = 0;
	for (size_t i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

/* The kept-open files are re-read with pread and their end is taken from the
 * read size where procfs guarantees it: on the real /proc, every file the
 * collectors read must come back whole (same line count as stdio reading to
 * EOF), on the first read and on re-reads. */
T_TEST(real_proc_files_read_whole)
{
	static const char *const files[] = { "stat", "meminfo", "vmstat", "loadavg", "diskstats", "net/dev",
		"net/netstat", "net/snmp", "net/snmp6", "net/sockstat", "net/sockstat6", "net/arp", "net/udp",
		"net/udp6", "net/softnet_stat", "net/stat/nf_conntrack", "pressure/cpu", "pressure/io",
		"pressure/memory", "self/stat", "1/mounts", "self/mountinfo" };
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.only = "loadavg";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	int checked = 0;
	for (int round = 0; round < 3; round++) {
		collect_run(c);
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char path[256];
			snprintf(path, sizeof(path), "/proc/%s", files[i]);
			long want = ref_lines(path);
			size_t len;
			const char *p = collect_read(c, "/proc", files[i], &len);
			if (want < 0 || !p)
				continue;	/* not on this kernel */
			long got = buf_lines(p, len);
			if (got != want && strcmp(files[i], "net/udp") && strcmp(files[i], "net/udp6") &&
			    strcmp(files[i], "net/arp"))
				printf("  /proc/%s: %ld lines, stdio %ld\n", files[i], got, want);
			/* sockets and neighbours may come and go between the two reads */
			if (!strcmp(files[i], "net/udp") || !strcmp(files[i], "net/udp6") || !strcmp(files[i], "net/arp"))
				T_CHECK(got > 0 && p[len - 1] == '\n');
			else
				T_EQ_INT(got, want);
			checked++;
		}
	}
	T_CHECK(checked >= 30);
	collect_free(c);
}

T_TEST(render_parses_back_in_both_formats)
{
	struct collect_ctx *c = fixture_ctx(NULL);
	struct buf out;
	char err[256];
	size_t n = 0;
	struct tp_callbacks cb = { .sample = count_sample };
	buf_init(&out, COLLECT_RENDER_MAX);
	for (int run = 0; run < 3; run++)	/* the table is reused between runs */
		collect_run(c);
	T_EQ_INT(collect_render(c, &out, 0), 0);
	T_EQ_INT(textparse(out.data, out.len, TP_PROMETHEUS, &cb, &n, err, sizeof(err)), 0);
	T_EQ_INT(n, collect_sample_count(c));
	buf_reset(&out);
	n = 0;
	T_EQ_INT(collect_render(c, &out, 1), 0);
	int rc = textparse(out.data, out.len, TP_OPENMETRICS, &cb, &n, err, sizeof(err));
	if (rc)
		printf("  openmetrics: %s\n", err);
	T_EQ_INT(rc, 0);
	T_EQ_INT(n, collect_sample_count(c));
	T_CHECK(strstr(out.data, "# TYPE node_cpu_seconds counter\n") != NULL);
	T_CHECK(strstr(out.data, "\nnode_cpu_seconds_total{cpu=\"0\",mode=\"idle\"} ") != NULL);
	buf_free(&out);
	collect_free(c);
}

T_TEST(process_groups_find_this_test)
{
	struct collect_procgroup g[2] = {
		{ "self", "^collect_test$", NULL },
		{ "nobody", "^no-such-process-xyz$", NULL },
	};
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.only = "process";
	cfg.groups = g;
	cfg.ngroups = 2;
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	T_CHECK(c != NULL);
	run_into_mem(c);
	T_EQ_DBL(find(&M, "namedprocess_namegroup_num_procs{groupname=\"self\"}"), 1, 0);
	T_EQ_DBL(find(&M, "namedprocess_namegroup_num_procs{groupname=\"nobody\"}"), 0, 0);
	T_CHECK(find(&M, "namedprocess_namegroup_memory_bytes{groupname=\"self\",memtype=\"resident\"}") > 1e6);
	T_CHECK(find(&M, "namedprocess_namegroup_open_filedesc{groupname=\"self\"}") >= 3);
	T_CHECK(find(&M, "namedprocess_namegroup_num_threads{groupname=\"self\"}") >= 1);
	collect_free(c);
	char err[256] = "";
	g[0].comm_regex = "([unclosed";
	T_CHECK(collect_new(&cfg, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "([unclosed") != NULL);
}

T_TEST(kept_open_files_are_reread)
{
	/* a private copy of loadavg that changes between runs */
	char dir[] = "/tmp/vigil-collect-XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	char path[256];
	snprintf(path, sizeof(path), "%s/loadavg", dir);
	FILE *f = fopen(path, "w");
	fputs("0.50 0.40 0.30 1/100 42\n", f);
	fclose(f);
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.proc = dir;
	cfg.only = "loadavg";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_load1{}"), 0.5, 1e-12);
	f = fopen(path, "r+");	/* rewritten in place, as the kernel does */
	fputs("1.75 0.40 0.30 1/100 42\n", f);
	fclose(f);
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_load1{}"), 1.75, 1e-12);
	collect_free(c);
	unlink(path);
	rmdir(dir);
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

T_TEST(textfile_served_with_types)
{
	char dir[] = "/tmp/vigil-textfile-XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	write_file(dir, "a.prom", "# HELP job_ok Did it work.\n# TYPE job_ok gauge\njob_ok{task=\"x\"} 1\n"
	    "# TYPE lat histogram\nlat_bucket{le=\"1\"} 2\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 4\nlat_count 3\n");
	write_file(dir, "ignored.txt", "not_read 1\n");
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.only = "textfile";
	cfg.textfile_dir = dir;
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	T_EQ_DBL(find(&M, "job_ok{task=\"x\"}"), 1, 0);
	T_EQ_DBL(find(&M, "lat_bucket{le=\"+Inf\"}"), 3, 0);
	T_EQ_DBL(find(&M, "lat_count{}"), 3, 0);
	T_CHECK(isnan(find(&M, "not_read{}")));
	T_EQ_DBL(find(&M, "node_textfile_scrape_error{}"), 0, 0);
	struct buf out;
	buf_init(&out, COLLECT_RENDER_MAX);
	collect_render(c, &out, 0);
	T_CHECK(strstr(out.data, "# TYPE lat histogram\nlat_bucket{le=\"1\"} 2\n") != NULL);
	T_CHECK(strstr(out.data, "# HELP job_ok Did it work.\n# TYPE job_ok gauge\n") != NULL);
	buf_free(&out);
	/* a timestamped sample spoils its file, not the others */
	write_file(dir, "b.prom", "late 1 1700000000000\n");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "node_textfile_scrape_error{}"), 1, 0);
	T_CHECK(isnan(find(&M, "late{}")));
	T_EQ_DBL(find(&M, "job_ok{task=\"x\"}"), 1, 0);
	/* read-once files are kept by identity: a rewrite in place (same size,
	 * new mtime) and a rename over it are both seen at the next run */
	write_file(dir, "b.prom", "late 2\n");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "late{}"), 2, 0);
	write_file(dir, "b.prom", "late 3\n");
	run_into_mem(c);
	T_EQ_DBL(find(&M, "late{}"), 3, 0);
	write_file(dir, "c.tmp", "late 4\n");
	char from[512], to[512];
	snprintf(from, sizeof(from), "%s/c.tmp", dir);
	snprintf(to, sizeof(to), "%s/b.prom", dir);
	T_EQ_INT(rename(from, to), 0);
	run_into_mem(c);
	T_EQ_DBL(find(&M, "late{}"), 4, 0);
	collect_free(c);
	char path[512];
	snprintf(path, sizeof(path), "%s/a.prom", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/b.prom", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/ignored.txt", dir);
	unlink(path);
	rmdir(dir);
}

T_TEST(filesystem_mounts_and_network_fs)
{
	char dir[] = "/tmp/vigil-mounts-XXXXXX";
	T_CHECK(mkdtemp(dir) != NULL);
	/* a network filesystem goes through the deadline thread; pseudo and excluded ones are skipped */
	write_file(dir, "mounts", "/dev/vda / ext4 ro,relatime 0 0\n"
	    "server:/export\\040x /tmp nfs4 rw 0 0\n"
	    "proc /proc proc rw 0 0\n"
	    "tmpfs /run tmpfs rw 0 0\n"
	    "cgroup2 /sys/fs/cgroup cgroup2 rw 0 0\n"
	    "/dev/vda / ext4 ro,relatime 0 0\n");
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.proc = dir;
	cfg.only = "filesystem";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	T_CHECK(find(&M, "node_filesystem_size_bytes{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}") > 0);
	T_EQ_DBL(find(&M, "node_filesystem_readonly{device=\"/dev/vda\",fstype=\"ext4\",mountpoint=\"/\"}"), 1, 0);
	T_CHECK(find(&M, "node_filesystem_size_bytes{device=\"server:/export x\",fstype=\"nfs4\",mountpoint=\"/tmp\"}") > 0);
	T_EQ_DBL(find(&M, "node_filesystem_device_error{device=\"server:/export x\",fstype=\"nfs4\",mountpoint=\"/tmp\"}"), 0, 0);
	T_CHECK(isnan(find(&M, "node_filesystem_size_bytes{device=\"proc\",fstype=\"proc\",mountpoint=\"/proc\"}")));
	size_t n = 0;
	for (size_t i = 0; i < M.n; i++)
		n += !strncmp(M.key[i], "node_filesystem_device_error{", 29);
	T_EQ_INT(n, 2);	/* the repeated / mount is reported once */
	collect_free(c);
	char path[512];
	snprintf(path, sizeof(path), "%s/mounts", dir);
	unlink(path);
	rmdir(dir);
}

T_TEST(processes_collector_is_opt_in)
{
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.only = "loadavg";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	T_CHECK(isnan(find(&M, "node_processes_pids{}")));
	collect_free(c);
	cfg.enable = "processes";
	c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	double pids = find(&M, "node_processes_pids{}");
	T_CHECK(pids >= 2);
	T_CHECK(find(&M, "node_processes_threads{}") >= pids);
	T_CHECK(find(&M, "node_processes_state{state=\"R\"}") >= 1);	/* this test is running */
	T_CHECK(find(&M, "node_processes_max_processes{}") > 0);
	collect_free(c);
}

T_TEST(self_metrics_of_this_process)
{
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.only = "self";
	struct collect_ctx *c = collect_new(&cfg, NULL, 0);
	run_into_mem(c);
	T_CHECK(find(&M, "process_resident_memory_bytes{}") > 1e6);
	T_CHECK(find(&M, "process_open_fds{}") >= 3);
	T_CHECK(find(&M, "process_start_time_seconds{}") > 1.6e9);
	T_CHECK(find(&M, "process_cpu_seconds_total{}") >= 0);
	collect_free(c);
}

T_TEST(schedule_runs_on_the_loop)
{
	struct collect_ctx *c = fixture_ctx("loadavg,meminfo");
	struct loop *l = loop_new();
	struct sample_sink sink = { mem_add, &M };
	memset(&M, 0, sizeof(M));
	struct collect_sched *s = collect_schedule(l, c, 50, sink);
	int64_t end = clock_mono_ms() + 3000;
	while (collect_sched_runs(s) < 3 && clock_mono_ms() < end)
		loop_once(l, 20);
	T_EQ_INT(collect_sched_runs(s), 3);
	/* each run: the collectors' samples and up = 1 (this host's availability) */
	T_EQ_INT(M.n, 3 * (collect_sample_count(c) + 1));
	T_CHECK(find(&M, "up{}") == 1);
	T_CHECK(llabs(M.ts[0] - clock_wall_ms()) < 5000);
	collect_unschedule(s);
	loop_free(l);
	collect_free(c);
}

T_TEST(agent_options)
{
	struct agent_opts o;
	char err[256];
	char *ok[] = { "agent", "--listen", "127.0.0.1:9999", "--interval", "15s", "--process-group", "sshd=^sshd$", NULL };
	T_EQ_INT(agent_parse_args(7, ok, &o, err, sizeof(err)), 0);
	T_EQ_STR(o.listen, "127.0.0.1:9999");
	T_EQ_INT(o.interval_ms, 15000);
	T_EQ_INT(o.ngroups, 1);
	T_EQ_STR(o.groups[0].name, "sshd");
	free(o.group_names[0]);
	agent_opts_free(&o);
	char *bad[] = { "agent", "--interval", "soon", NULL };
	T_EQ_INT(agent_parse_args(3, bad, &o, err, sizeof(err)), -EINVAL);
	T_EQ_STR(err, "--interval: bad duration \"soon\"");
	char *def[] = { "agent", NULL };
	T_EQ_INT(agent_parse_args(1, def, &o, err, sizeof(err)), 0);
	T_EQ_STR(o.listen, "127.0.0.1:9921");
	agent_opts_free(&o);
}

int main(void)
{
	T_RUN(cpu_and_stat_from_proc_stat);
	T_RUN(meminfo_names_like_node_exporter);
	T_RUN(diskstats_scaled_and_filtered);
	T_RUN(network_sources);
	T_RUN(sensors_pressure_and_files);
	T_RUN(cpufreq_schedstat_edac_bonding);
	T_RUN(missing_source_marks_collector_failed);
	T_RUN(render_parses_back_in_both_formats);
	T_RUN(render_escapes_and_cache);
	T_RUN(real_proc_files_read_whole);
	T_RUN(process_groups_find_this_test);
	T_RUN(kept_open_files_are_reread);
	T_RUN(textfile_served_with_types);
	T_RUN(filesystem_mounts_and_network_fs);
	T_RUN(processes_collector_is_opt_in);
	T_RUN(self_metrics_of_this_process);
	T_RUN(schedule_runs_on_the_loop);
	T_RUN(agent_options);
	return t_done();
}
