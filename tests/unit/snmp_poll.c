/* Unit tests for src/snmp/{client,walk,poll,profile,sim}.c: a forked
 * simulator on a kernel-chosen loopback port serves small recordings; the
 * poller's samples are collected in memory and checked by name and labels. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/clock.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "snmp/client.h"
#include "snmp/poll.h"
#include "snmp/profile.h"
#include "snmp/sim.h"
#include "snmp/walk.h"
#include "t.h"

static char dir[64];		/* temp dir with recordings */
static pid_t sim_pid;		/* the simulator */
static char sim_addr[64];	/* its "127.0.0.1:PORT" */

static const char *const sw_rec =
	"1.0.8802.1.1.2.1.3.7.1.3.7|4|Gi0/7\n"
	"1.0.8802.1.1.2.1.4.1.1.4.300.7.1|2|4\n"
	"1.0.8802.1.1.2.1.4.1.1.6.300.7.1|2|5\n"
	"1.0.8802.1.1.2.1.4.1.1.7.300.7.1|4|xe-0/0/1\n"
	"1.0.8802.1.1.2.1.4.1.1.9.300.7.1|4|core1\n"
	"1.3.6.1.2.1.1.1.0|4|Cisco IOS Software, C3560 Software\n"
	"1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.9.1.634\n"
	"1.3.6.1.2.1.1.3.0|67|123456\n"
	"1.3.6.1.2.1.1.5.0|4|sw1.example\n"
	"1.3.6.1.2.1.2.2.1.1.1|2|1\n"
	"1.3.6.1.2.1.2.2.1.1.2|2|2\n"
	"1.3.6.1.2.1.2.2.1.2.1|4|GigabitEthernet0/1\n"
	"1.3.6.1.2.1.2.2.1.2.2|4|GigabitEthernet0/2\n"
	"1.3.6.1.2.1.2.2.1.8.1|2|1\n"
	"1.3.6.1.2.1.2.2.1.8.2|2|2\n"
	"1.3.6.1.2.1.2.2.1.10.1|65|4294967295\n"
	"1.3.6.1.2.1.2.2.1.10.2|65|7\n"
	"1.3.6.1.2.1.4.20.1.2.10.0.0.1|2|1\n"
	"1.3.6.1.2.1.4.20.1.3.10.0.0.1|64|255.255.255.0\n"
	"1.3.6.1.2.1.4.34.1.3.1.4.10.0.0.1|2|1\n"
	"1.3.6.1.2.1.4.34.1.3.2.16.254.128.0.0.0.0.0.0.0.0.0.0.0.0.0.1|2|2\n"
	"1.3.6.1.2.1.31.1.1.1.1.1|4|Gi0/1\n"
	"1.3.6.1.2.1.31.1.1.1.1.2|4|Gi0/2\n"
	"1.3.6.1.2.1.31.1.1.1.6.1|70|18446744073709551615\n"
	"1.3.6.1.2.1.31.1.1.1.6.2|70|12345678901234\n"
	"1.3.6.1.2.1.31.1.1.1.18.1|4|uplink to core\n"
	"1.3.6.1.2.1.31.1.1.1.18.2|4x|00ff41\n"
	"1.3.6.1.4.1.9.9.109.1.1.1.1.2.1|2|1001\n"
	"1.3.6.1.4.1.9.9.109.1.1.1.1.8.1|66|17\n"
	"1.3.6.1.4.1.9.9.48.1.1.1.2.1|4|Processor\n"
	"1.3.6.1.4.1.9.9.48.1.1.1.5.1|66|1000\n";

static const char *const linux_rec =
	"1.3.6.1.2.1.1.1.0|4|Linux host 6.1.0\n"
	"1.3.6.1.2.1.1.2.0|6|1.3.6.1.4.1.8072.3.2.10\n"
	"1.3.6.1.2.1.1.3.0|67|100\n"
	"1.3.6.1.2.1.1.5.0|4|srv1\n"
	"1.3.6.1.2.1.25.2.3.1.3.1|4|Physical memory\n"
	"1.3.6.1.2.1.25.2.3.1.4.1|2|1024\n"
	"1.3.6.1.2.1.25.2.3.1.5.1|2|2000\n"
	"1.3.6.1.2.1.25.2.3.1.6.1|2|1500\n"
	"1.3.6.1.2.1.25.3.3.1.2.196608|2|12\n"
	"1.3.6.1.4.1.2021.4.5.0|2|8000000\n"
	"1.3.6.1.4.1.2021.10.1.2.1|4|Load-1\n"
	"1.3.6.1.4.1.2021.10.1.3.1|4|0.46\n";

static void write_file(const char *name, const char *text)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

/* Fork `snmpsim DIR --listen LISTEN [--advance]`; put the address it printed in addr. */
static pid_t spawn_sim_in(const char *d, const char *listen, int advance, char *addr,
    size_t addrsz)
{
	int pfd[2];
	if (pipe(pfd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(pfd[1], 2);
		close(pfd[0]);
		char lbuf[64];
		snprintf(lbuf, sizeof(lbuf), "%s", listen);
		char dbuf[64];
		snprintf(dbuf, sizeof(dbuf), "%s", d);
		char *argv[] = { "snmpsim", dbuf, "--listen", lbuf, advance ? "--advance" : NULL, NULL };
		_exit(snmpsim_main(advance ? 5 : 4, argv));
	}
	close(pfd[1]);
	FILE *f = fdopen(pfd[0], "r");
	char line[256];
	int ok = -1;
	while (fgets(line, sizeof(line), f)) {
		char *on = strstr(line, " on ");
		if (on) {
			snprintf(addr, addrsz, "%s", on + 4);
			addr[strcspn(addr, "\n")] = '\0';
			ok = 0;
			break;
		}
	}
	fclose(f);
	return ok == 0 ? pid : -1;
}

static pid_t spawn_sim(const char *listen, int advance, char *addr, size_t addrsz)
{
	return spawn_sim_in(dir, listen, advance, addr, addrsz);
}

static int start_sim(void)
{
	snprintf(dir, sizeof(dir), "/tmp/vigil-snmp-poll-%d", (int)getpid());
	mkdir(dir, 0700);
	write_file("sw1.snmprec", sw_rec);
	write_file("srv1.snmprec", linux_rec);
	sim_pid = spawn_sim("127.0.0.1:0", 0, sim_addr, sizeof(sim_addr));
	return sim_pid > 0 ? 0 : -1;
}

static void stop_sim(void)
{
	if (sim_pid > 0) {
		kill(sim_pid, SIGTERM);
		waitpid(sim_pid, NULL, 0);
	}
	char path[128];
	snprintf(path, sizeof(path), "%s/sw1.snmprec", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/srv1.snmprec", dir);
	unlink(path);
	rmdir(dir);
}

/* ---- a sink that keeps formatted samples ---- */

struct mem_sink {
	struct buf text;	/* "name{labels} value\n" per sample */
	size_t n;		/* samples */
};

static int mem_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct mem_sink *m = ctx;
	(void)ts;
	labels_format(ls, &m->text);
	if (is_stale_nan(v))
		buf_printf(&m->text, " STALE\n");
	else
		buf_printf(&m->text, " %.17g\n", v);
	m->n++;
	return 0;
}

static int has(const struct mem_sink *m, const char *line)
{
	return m->text.data && strstr(m->text.data, line) != NULL;
}

static void run_until(struct loop *l, struct snmp_poller *p, uint64_t cycles, int64_t max_ms)
{
	int64_t end = clock_mono_ms() + max_ms;
	while (snmp_poller_cycles(p) < cycles && clock_mono_ms() < end)
		loop_once(l, 50);
}

T_TEST(poll_switch_and_server_samples)
{
	struct loop *l = loop_new();
	struct mem_sink m = { .n = 0 };
	buf_init(&m.text, 1u << 24);
	struct sample_sink sink = { mem_add, &m };
	struct snmp_device_cfg d[2];
	memset(d, 0, sizeof(d));
	d[0].name = "sw1";
	d[0].address = sim_addr;
	d[0].version = SNMP_V2C;
	d[0].community = "sw1";
	d[0].interval_ms = 3600000;
	d[1] = d[0];
	d[1].name = "srv1";
	d[1].community = "srv1";
	struct snmp_poller *p = snmp_poller_new(l, d, 2, sink);
	snmp_poller_poll_now(p);
	run_until(l, p, 2, 5000);
	T_EQ_INT(snmp_poller_cycles(p), 2);
	T_CHECK(has(&m, "ifHCInOctets{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"sw1\"} 1.8446744073709552e+19"));
	T_CHECK(has(&m, "ifInOctets{ifAlias=\"0x00ff41\", ifDescr=\"GigabitEthernet0/2\", "
	    "ifIndex=\"2\", ifName=\"Gi0/2\", instance=\"sw1\"} 7"));
	T_CHECK(has(&m, "ifOperStatus{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"sw1\"} 1"));
	T_CHECK(has(&m, "ifDescr{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"sw1\"} 1"));
	T_CHECK(has(&m, "cpmCPUTotal5minRev{cpmCPUTotalIndex=\"1\", cpmCPUTotalPhysicalIndex=\"1001\", "
	    "instance=\"sw1\"} 17"));
	T_CHECK(has(&m, "ciscoMemoryPoolUsed{ciscoMemoryPoolName=\"Processor\", "
	    "ciscoMemoryPoolType=\"1\", instance=\"sw1\"} 1000"));
	T_CHECK(has(&m, "sysUpTime{instance=\"sw1\"} 123456"));
	/* typed index: InetAddress decoded to IPv4 / IPv6 text */
	T_CHECK(has(&m, "ipAddressIfIndex{instance=\"sw1\", ipAddressAddr=\"10.0.0.1\", "
	    "ipAddressAddrType=\"1\"} 1"));
	T_CHECK(has(&m, "ipAddressIfIndex{instance=\"sw1\", ipAddressAddr=\"fe80::1\", "
	    "ipAddressAddrType=\"2\"} 2"));
	/* LLDP neighbour: the local port's name is looked up by port number */
	T_CHECK(has(&m, "lldpRemSysName{instance=\"sw1\", lldpLocPortId=\"Gi0/7\", lldpRemIndex=\"1\", "
	    "lldpRemLocalPortNum=\"7\", lldpRemPortId=\"xe-0/0/1\", lldpRemSysName=\"core1\", "
	    "lldpRemTimeMark=\"300\"} 1"));
	T_CHECK(has(&m, "snmp_device_info{instance=\"sw1\", sysDescr=\"Cisco IOS Software, C3560 "
	    "Software\", sysName=\"sw1.example\", sysObjectID=\"1.3.6.1.4.1.9.1.634\", target=\"127.0.0.1\"} 1"));
	T_CHECK(has(&m, "snmp_up{instance=\"sw1\"} 1"));
	T_CHECK(has(&m, "snmp_up{instance=\"srv1\"} 1"));
	/* Cisco does not get the server profiles; the server gets no Cisco ones */
	T_CHECK(!has(&m, "hrStorageUsed{hrStorageDescr=\"Physical memory\", hrStorageIndex=\"1\", "
	    "instance=\"sw1\""));
	T_CHECK(has(&m, "hrStorageUsed{hrStorageDescr=\"Physical memory\", hrStorageIndex=\"1\", "
	    "instance=\"srv1\"} 1500"));
	T_CHECK(has(&m, "hrProcessorLoad{hrDeviceIndex=\"196608\", instance=\"srv1\"} 12"));
	T_CHECK(has(&m, "laLoad{instance=\"srv1\", laIndex=\"1\", laNames=\"Load-1\"} 0.46"));
	T_CHECK(has(&m, "memTotalReal{instance=\"srv1\"} 8000000"));
	T_CHECK(!has(&m, "cpmCPUTotal5minRev{cpmCPUTotalIndex=\"1\", cpmCPUTotalPhysicalIndex=\"1001\", "
	    "instance=\"srv1\""));
	int up;
	const char *err;
	T_EQ_INT(snmp_poller_status(p, 0, &up, &err), 0);
	T_EQ_INT(up, 1);

	/* Second cycle: label columns come from the cache, so fewer requests. */
	struct buf met;
	buf_init(&met, 1 << 16);
	snmp_poller_metrics_text(&met);
	T_CHECK(strstr(met.data, "vigil_snmp_devices_up 2\n") != NULL);
	unsigned long long r1 = 0, r2 = 0;
	const char *at = strstr(met.data, "\nvigil_snmp_requests_total ");
	if (at)
		r1 = strtoull(at + 27, NULL, 10);
	buf_reset(&m.text);
	snmp_poller_poll_now(p);
	run_until(l, p, 4, 5000);
	buf_reset(&met);
	snmp_poller_metrics_text(&met);
	at = strstr(met.data, "\nvigil_snmp_requests_total ");
	if (at)
		r2 = strtoull(at + 27, NULL, 10);
	T_CHECK(r1 > 0 && r2 - r1 < r1);
	T_CHECK(has(&m, "lldpRemPortIdSubtype{instance=\"sw1\", lldpLocPortId=\"Gi0/7\", "
	    "lldpRemIndex=\"1\", lldpRemLocalPortNum=\"7\", lldpRemPortId=\"xe-0/0/1\", "
	    "lldpRemSysName=\"core1\", lldpRemTimeMark=\"300\"} 5"));
	T_CHECK(has(&m, "ifHCInOctets{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"sw1\"}"));
	buf_free(&met);
	snmp_poller_free(p);
	buf_free(&m.text);
	loop_free(l);
}

T_TEST(poll_dead_device_does_not_delay_others)
{
	struct loop *l = loop_new();
	struct mem_sink m = { .n = 0 };
	buf_init(&m.text, 1u << 24);
	struct sample_sink sink = { mem_add, &m };
	struct snmp_device_cfg d[2];
	memset(d, 0, sizeof(d));
	d[0].name = "dead";
	d[0].address = "127.0.0.1:9";	/* discard port: nothing answers */
	d[0].version = SNMP_V2C;
	d[0].community = "x";
	d[0].interval_ms = 3600000;
	d[0].timeout_ms = 1500;
	d[0].retries = 1;
	d[1] = d[0];
	d[1].name = "sw1";
	d[1].address = sim_addr;
	d[1].community = "sw1";
	struct snmp_poller *p = snmp_poller_new(l, d, 2, sink);
	int64_t t0 = clock_mono_ms();
	snmp_poller_poll_now(p);
	run_until(l, p, 1, 5000);
	int64_t first = clock_mono_ms() - t0;
	T_CHECK(first < 1000);	/* the live one finished before the dead one's first timeout */
	T_CHECK(has(&m, "snmp_up{instance=\"sw1\"} 1"));
	run_until(l, p, 2, 8000);
	T_CHECK(has(&m, "snmp_up{instance=\"dead\"} 0"));
	int up;
	const char *err;
	snmp_poller_status(p, 0, &up, &err);
	T_EQ_INT(up, 0);
	T_CHECK(strstr(err, "timed out") != NULL);
	snmp_poller_free(p);
	buf_free(&m.text);
	loop_free(l);
}

T_TEST(poll_runs_on_interval)
{
	struct loop *l = loop_new();
	struct mem_sink m = { .n = 0 };
	buf_init(&m.text, 1u << 24);
	struct sample_sink sink = { mem_add, &m };
	struct snmp_device_cfg d[2];
	memset(d, 0, sizeof(d));
	d[0].name = "fast1";
	d[0].address = sim_addr;
	d[0].version = SNMP_V2C;
	d[0].community = "sw1";
	d[0].interval_ms = 300;
	d[1] = d[0];
	d[1].name = "fast2";
	d[1].community = "srv1";
	struct snmp_poller *p = snmp_poller_new(l, d, 2, sink);
	int64_t t0 = clock_mono_ms();
	while (clock_mono_ms() - t0 < 1500)
		loop_once(l, 50);
	uint64_t n = snmp_poller_cycles(p);
	T_CHECK(n >= 6 && n <= 12);	/* ~5 cycles each in 1.5 s at 300 ms */
	snmp_poller_free(p);	/* with timers armed and maybe requests in flight */
	buf_free(&m.text);
	loop_free(l);
}

T_TEST(poll_counts_device_restarts)
{
	char addr[64];
	pid_t a = spawn_sim("127.0.0.1:0", 1, addr, sizeof(addr));
	T_CHECK(a > 0);
	struct loop *l = loop_new();
	struct mem_sink m = { .n = 0 };
	buf_init(&m.text, 1u << 24);
	struct sample_sink sink = { mem_add, &m };
	struct snmp_device_cfg d;
	memset(&d, 0, sizeof(d));
	d.name = "r";
	d.address = addr;
	d.version = SNMP_V2C;
	d.community = "sw1";
	d.interval_ms = 3600000;
	struct snmp_poller *p = snmp_poller_new(l, &d, 1, sink);
	int64_t t0 = clock_mono_ms();
	while (clock_mono_ms() - t0 < 1200)
		loop_once(l, 50);	/* let sysUpTime advance */
	snmp_poller_poll_now(p);
	run_until(l, p, 1, 5000);
	T_CHECK(has(&m, "snmp_device_restarts_total{instance=\"r\"} 0"));
	/* the agent restarts (same address, sysUpTime back at the recorded value) */
	kill(a, SIGTERM);
	waitpid(a, NULL, 0);
	char addr2[64];
	pid_t b = spawn_sim(addr, 0, addr2, sizeof(addr2));
	T_CHECK(b > 0);
	buf_reset(&m.text);
	snmp_poller_poll_now(p);
	run_until(l, p, 2, 5000);
	T_CHECK(has(&m, "snmp_device_restarts_total{instance=\"r\"} 1"));
	T_CHECK(has(&m, "sysUpTime{instance=\"r\"} 123456"));
	if (b > 0) {
		kill(b, SIGTERM);
		waitpid(b, NULL, 0);
	}
	snmp_poller_free(p);
	buf_free(&m.text);
	loop_free(l);
}

T_TEST(poll_marks_vanished_series_stale)
{
	char d2[80], path[128], addr[64], addr2[64];
	snprintf(d2, sizeof(d2), "%s/stale", dir);
	mkdir(d2, 0700);
	snprintf(path, sizeof(path), "%s/sw1.snmprec", d2);
	FILE *f = fopen(path, "w");
	fputs(sw_rec, f);
	fclose(f);
	pid_t a = spawn_sim_in(d2, "127.0.0.1:0", 0, addr, sizeof(addr));
	T_CHECK(a > 0);
	struct loop *l = loop_new();
	struct mem_sink m = { .n = 0 };
	buf_init(&m.text, 1u << 24);
	struct sample_sink sink = { mem_add, &m };
	struct snmp_device_cfg d;
	memset(&d, 0, sizeof(d));
	d.name = "st";
	d.address = addr;
	d.version = SNMP_V2C;
	d.community = "sw1";
	d.interval_ms = 3600000;
	d.timeout_ms = 200;
	d.retries = -1;
	struct snmp_poller *p = snmp_poller_new(l, &d, 1, sink);
	snmp_poller_poll_now(p);
	run_until(l, p, 1, 5000);
	T_CHECK(!has(&m, "STALE"));
	/* interface 2 disappears from the agent */
	kill(a, SIGTERM);
	waitpid(a, NULL, 0);
	f = fopen(path, "w");
	for (const char *line = sw_rec; *line;) {
		const char *nl = strchr(line, '\n');
		size_t len = nl ? (size_t)(nl - line) + 1 : strlen(line);
		int if2 = (strncmp(line, "1.3.6.1.2.1.2.2.1.", 18) == 0 ||
		    strncmp(line, "1.3.6.1.2.1.31.1.1.1.", 21) == 0) &&
		    memmem(line, len, ".2|", 3) != NULL;
		if (strncmp(line, "1.3.6.1.2.1.4.20.1.3.", 21) == 0)
			fputs("1.3.6.1.2.1.4.20.1.3.10.0.0.1|64|255.255.0.0\n", f);	/* renumbered */
		else if (!if2)
			fwrite(line, 1, len, f);
		line += len;
	}
	fclose(f);
	pid_t b = spawn_sim_in(d2, addr, 0, addr2, sizeof(addr2));
	T_CHECK(b > 0);
	buf_reset(&m.text);
	snmp_poller_poll_now(p);
	run_until(l, p, 2, 5000);
	T_CHECK(has(&m, "ifInOctets{ifAlias=\"0x00ff41\", ifDescr=\"GigabitEthernet0/2\", ifIndex=\"2\", "
	    "ifName=\"Gi0/2\", instance=\"st\"} STALE"));
	T_CHECK(has(&m, "ifHCInOctets{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"st\"} 1.8446744073709552e+19"));
	T_CHECK(!has(&m, "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"st\"} STALE"));
	/* an info value that changed is a new series; the old one goes stale */
	T_CHECK(has(&m, "ipAdEntNetMask{instance=\"st\", ipAdEntAddr=\"10.0.0.1\", "
	    "ipAdEntNetMask=\"255.255.255.0\"} STALE"));
	T_CHECK(has(&m, "ipAdEntNetMask{instance=\"st\", ipAdEntAddr=\"10.0.0.1\", "
	    "ipAdEntNetMask=\"255.255.0.0\"} 1"));
	T_CHECK(!has(&m, "ipAdEntIfIndex{instance=\"st\", ipAdEntAddr=\"10.0.0.1\"} STALE"));
	/* an info metric of the vanished row, as it was sent */
	T_CHECK(has(&m, "ifDescr{ifAlias=\"0x00ff41\", ifDescr=\"GigabitEthernet0/2\", ifIndex=\"2\", "
	    "ifName=\"Gi0/2\", instance=\"st\"} STALE"));
	T_CHECK(!has(&m, "lldpRemSysName{instance=\"st\", lldpLocPortId=\"Gi0/7\", lldpRemIndex=\"1\", "
	    "lldpRemLocalPortNum=\"7\", lldpRemPortId=\"xe-0/0/1\", lldpRemSysName=\"core1\", "
	    "lldpRemTimeMark=\"300\"} STALE"));
	/* the device goes away: everything but the health series goes stale */
	kill(b, SIGTERM);
	waitpid(b, NULL, 0);
	buf_reset(&m.text);
	snmp_poller_poll_now(p);
	run_until(l, p, 3, 5000);
	T_CHECK(has(&m, "snmp_up{instance=\"st\"} 0"));
	T_CHECK(has(&m, "sysUpTime{instance=\"st\"} STALE"));
	T_CHECK(has(&m, "ifHCInOctets{ifAlias=\"uplink to core\", ifDescr=\"GigabitEthernet0/1\", "
	    "ifIndex=\"1\", ifName=\"Gi0/1\", instance=\"st\"} STALE"));
	T_CHECK(!has(&m, "snmp_up{instance=\"st\"} STALE"));
	T_CHECK(has(&m, "lldpRemSysName{instance=\"st\", lldpLocPortId=\"Gi0/7\", lldpRemIndex=\"1\", "
	    "lldpRemLocalPortNum=\"7\", lldpRemPortId=\"xe-0/0/1\", lldpRemSysName=\"core1\", "
	    "lldpRemTimeMark=\"300\"} STALE"));
	snmp_poller_free(p);
	buf_free(&m.text);
	loop_free(l);
	unlink(path);
	rmdir(d2);
}

/* ---- walker against the simulator ---- */

struct walk_res {
	int done, status;	/* walk finished, with status */
	size_t n;		/* varbinds */
	struct loop *l;		/* to stop */
};

static int count_vb(void *ctx, const struct snmp_varbind *vb)
{
	(void)vb;
	((struct walk_res *)ctx)->n++;
	return 0;
}

static void walk_done(void *ctx, int status, const char *err)
{
	(void)err;
	struct walk_res *w = ctx;
	w->done = 1;
	w->status = status;
}

static void walk_once(int version, const char *community, const char *root, int reps,
    struct walk_res *w)
{
	struct loop *l = loop_new();
	struct snmp_client *c = snmp_client_new(l);
	struct snmp_target_cfg cfg;
	struct snmp_target *t;
	struct snmp_oid o;
	char err[128];
	memset(&cfg, 0, sizeof(cfg));
	memset(w, 0, sizeof(*w));
	snmp_parse_addr(sim_addr, &cfg.addr, &cfg.addrlen);
	cfg.version = version;
	cfg.community = community;
	cfg.name = "sim";
	cfg.timeout_ms = 200;
	snmp_target_new(c, &cfg, &t, err, sizeof(err));
	snmp_oid_parse(root, &o);
	snmp_walk(t, &o, reps, count_vb, walk_done, w);
	int64_t end = clock_mono_ms() + 5000;
	while (!w->done && clock_mono_ms() < end)
		loop_once(l, 50);
	snmp_client_free(c);
	loop_free(l);
}

T_TEST(walk_v1_v2c_same_rows)
{
	struct walk_res a, b, c2;
	walk_once(SNMP_V2C, "sw1", "1.3.6.1.2.1", 0, &a);
	walk_once(SNMP_V1, "sw1", "1.3.6.1.2.1", 0, &b);
	walk_once(SNMP_V2C, "sw1", "1.3.6.1.2.1", 1, &c2);
	T_EQ_INT(a.status, 0);
	T_EQ_INT(b.status, 0);
	T_EQ_INT(a.n, 22);	/* every 1.3.6.1.2.1 record of sw1 */
	T_EQ_INT(b.n, a.n);
	T_EQ_INT(c2.n, a.n);
	/* A wrong community is silently ignored by agents: the walk times out. */
	struct walk_res w;
	walk_once(SNMP_V2C, "nosuchcommunity", "1.3.6.1.2.1", 0, &w);
	T_EQ_INT(w.status, -ETIMEDOUT);
}

struct mres {
	int done, status;	/* finished, how */
	size_t per_col[4];	/* varbinds per column */
};

static int mcount(void *ctx, size_t col, const struct snmp_varbind *vb)
{
	(void)vb;
	((struct mres *)ctx)->per_col[col]++;
	return 0;
}

static void mdone(void *ctx, int status, const char *err)
{
	(void)err;
	struct mres *m = ctx;
	m->done = 1;
	m->status = status;
}

T_TEST(walk_columns_v1_v2c)
{
	for (int version = SNMP_V1; version <= SNMP_V2C; version++) {
		struct loop *l = loop_new();
		struct snmp_client *c = snmp_client_new(l);
		struct snmp_target_cfg cfg;
		struct snmp_target *t;
		char err[128];
		memset(&cfg, 0, sizeof(cfg));
		snmp_parse_addr(sim_addr, &cfg.addr, &cfg.addrlen);
		cfg.version = version;
		cfg.community = "sw1";
		cfg.name = "sim";
		snmp_target_new(c, &cfg, &t, err, sizeof(err));
		struct snmp_oid cols[4];
		snmp_oid_parse("1.3.6.1.2.1.2.2.1.2", &cols[0]);	/* 2 rows */
		snmp_oid_parse("1.3.6.1.2.1.31.1.1.1.6", &cols[1]);	/* 2 rows */
		snmp_oid_parse("1.3.6.1.2.1.2.2.1.99", &cols[2]);	/* none */
		snmp_oid_parse("1.3.6.1.4.1.9.9.48.1.1.1.5", &cols[3]);	/* 1 row, last in MIB */
		struct mres m;
		memset(&m, 0, sizeof(m));
		T_EQ_INT(snmp_walk_columns(t, cols, 4, mcount, mdone, &m), 0);
		int64_t end = clock_mono_ms() + 5000;
		while (!m.done && clock_mono_ms() < end)
			loop_once(l, 50);
		T_EQ_INT(m.status, 0);
		T_EQ_INT(m.per_col[0], 2);
		T_EQ_INT(m.per_col[1], 2);
		T_EQ_INT(m.per_col[2], 0);
		T_EQ_INT(m.per_col[3], 1);
		snmp_client_free(c);
		loop_free(l);
	}
}

T_TEST(profile_errors_say_where)
{
	struct snmp_profile p;
	char err[256];
	const char *bad1 = "profile: x\ntables:\n  - name: t\n    index: [i]\n    metrics:\n"
	    "      - {name: m, oid: 1.3.x, type: gauge}\n";
	T_EQ_INT(snmp_profile_parse(bad1, strlen(bad1), "x.yml", &p, err, sizeof(err)), -EINVAL);
	T_CHECK(strncmp(err, "x.yml:6:", 8) == 0);
	const char *bad2 = "profile: x\nscalars:\n  - {name: m, oid: 1.3.6, typo: gauge}\n";
	T_EQ_INT(snmp_profile_parse(bad2, strlen(bad2), "y.yml", &p, err, sizeof(err)), -EINVAL);
	T_CHECK(strstr(err, "unknown key \"typo\"") != NULL);
	const char *bad3 = "profile: x\nscalars: [ {name: m\n";
	T_EQ_INT(snmp_profile_parse(bad3, strlen(bad3), "z.yml", &p, err, sizeof(err)), -EINVAL);
	T_CHECK(strncmp(err, "z.yml:", 6) == 0);
	const char *bad5 = "profile: x\ntables:\n  - name: t\n    index: [{name: i, type: Float}]\n"
	    "    metrics:\n      - {name: m, oid: 1.3.6.1.3}\n";
	T_EQ_INT(snmp_profile_parse(bad5, strlen(bad5), "v.yml", &p, err, sizeof(err)), -EINVAL);
	T_CHECK(strstr(err, "v.yml:4:") != NULL && strstr(err, "index type") != NULL);
	const char *bad4 = "profile: x\ntables:\n  - name: t\n    index: [i]\n    labels:\n"
	    "      l: {oid: 1.3.6.1.2, index: j}\n    metrics:\n      - {name: m, oid: 1.3.6.1.3}\n";
	T_EQ_INT(snmp_profile_parse(bad4, strlen(bad4), "w.yml", &p, err, sizeof(err)), -EINVAL);
	T_CHECK(strstr(err, "w.yml:6:") != NULL && strstr(err, "index labels") != NULL);
	const char *ok = "profile: x\nmatch:\n  sysDescr: \"^Linux\"\nscalars:\n"
	    "  - {name: m, oid: 1.3.6.1.2.1.1.3.0}\n";
	T_EQ_INT(snmp_profile_parse(ok, strlen(ok), "ok.yml", &p, err, sizeof(err)), 0);
	T_CHECK(snmp_profile_matches(&p, NULL, "Linux box"));
	T_CHECK(!snmp_profile_matches(&p, NULL, "Cisco IOS"));
	snmp_profile_free(&p);
	/* every shipped profile loads */
	struct snmp_profiles ps;
	T_EQ_INT(snmp_profiles_load_dir("profiles", &ps, err, sizeof(err)), 0);
	T_CHECK(ps.n >= 19);
	T_CHECK(snmp_profiles_find(&ps, "if_mib") != NULL);
	snmp_profiles_free(&ps);
}

T_TEST(sim_answers_bulk_and_exceptions)
{
	struct sim_dev d;
	char err[256];
	char path[128];
	snprintf(path, sizeof(path), "%s/sw1.snmprec", dir);
	T_EQ_INT(sim_dev_load(path, "sw1", &d, err, sizeof(err)), 0);
	struct snmp_varbind vb[2];
	memset(vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1.2.1.2.2.1.8", &vb[0].name);
	snmp_oid_parse("1.3.6.1.2.1.1.9.0", &vb[1].name);
	struct snmp_pdu q = { .type = SNMP_PDU_GET, .request_id = 3, .vb = vb + 1, .nvb = 1 };
	struct snmp_pdu r;
	sim_answer(&d, SNMP_V2C, &q, 0, 0, &r);
	T_EQ_INT(r.nvb, 1);
	T_EQ_INT(r.vb[0].val.type, BER_NOSUCHINSTANCE);
	snmp_pdu_free(&r);
	sim_answer(&d, SNMP_V1, &q, 0, 0, &r);
	T_EQ_INT(r.error_status, SNMP_ERR_NOSUCHNAME);
	snmp_pdu_free(&r);
	q.type = SNMP_PDU_GETBULK;
	q.vb = vb;
	q.nvb = 1;
	q.max_repetitions = 3;
	sim_answer(&d, SNMP_V2C, &q, 0, 0, &r);
	T_EQ_INT(r.nvb, 3);
	char s[SNMP_OID_STR_MAX];
	T_EQ_STR(snmp_oid_str(&r.vb[2].name, s, sizeof(s)), "1.3.6.1.2.1.2.2.1.10.1");
	snmp_pdu_free(&r);
	/* --advance grows counters, and Counter32 wraps */
	snmp_oid_parse("1.3.6.1.2.1.2.2.1.10.1", &vb[0].name);
	q.type = SNMP_PDU_GET;
	sim_answer(&d, SNMP_V2C, &q, 10, 1, &r);
	T_CHECK(r.vb[0].val.u < 4294967295u);
	snmp_pdu_free(&r);
	sim_dev_free(&d);
}

int main(void)
{
	log_setup(LOG_ERROR, "test");
	egress_allow_str("127.0.0.1", IPPROTO_UDP, 0, "tests");
	if (start_sim() < 0) {
		printf("FAIL snmp_poll: simulator did not start\n");
		stop_sim();
		return 1;
	}
	char err[256];
	if (snmp_poller_load_profiles("profiles", err, sizeof(err)) < 0)
		printf("FAIL profiles: %s\n", err);
	T_RUN(poll_switch_and_server_samples);
	T_RUN(poll_dead_device_does_not_delay_others);
	T_RUN(poll_runs_on_interval);
	T_RUN(poll_counts_device_restarts);
	T_RUN(poll_marks_vanished_series_stale);
	T_RUN(walk_v1_v2c_same_rows);
	T_RUN(walk_columns_v1_v2c);
	T_RUN(profile_errors_say_where);
	T_RUN(sim_answers_bulk_and_exceptions);
	stop_sim();
	return t_done();
}
