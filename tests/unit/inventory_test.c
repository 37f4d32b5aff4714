/* inventory_test.c — the inventory builder over the in-memory store: merging
 * (by address, by probe node name, this host's loopback), status, status_since,
 * events (incremental, newest first, kept over a "restart"), interfaces and
 * the API's errors. */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>

#include "api/inventory.h"
#include "core/labels.h"
#include "tsdb/memstore.h"
#include "t.h"

#define NOW 1700000000000LL	/* ms; every sample is near this */

static struct storage st;

/* Append v at t to the series name{k1="v1",...} (NULL-terminated pairs). */
static void add(const char *name, int64_t t, double v, ...)
{
	struct label l[12];
	size_t n = 0;
	va_list ap;
	l[n++] = (struct label){ "__name__", name };
	va_start(ap, v);
	for (const char *k; (k = va_arg(ap, const char *)) != NULL && n < 12;) {
		const char *val = va_arg(ap, const char *);
		l[n++] = (struct label){ k, val };
	}
	va_end(ap);
	struct labels *ls = labels_new(l, n);
	T_CHECK(ls != NULL);
	T_EQ_INT(st.ops->append(st.impl, ls, t, v), 0);
	st.ops->commit(st.impl);
	labels_free(ls);
}

static int status;
static struct buf body;

static const char *get(struct inventory *inv, const char *path, const char *query, int64_t now)
{
	buf_reset(&body);
	inventory_handle(inv, &st, "GET", path, query, strlen(query), now, &body, &status);
	buf_addc(&body, '\0');
	return body.data;
}

static int count(const char *s, const char *what)
{
	int n = 0;
	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void fresh(void)
{
	if (st.ops)
		st.ops->close(st.impl);
	memstore_open(&st);
}

/* An ICMP probe (no node) of the address an SNMP device is polled at is that device. */
T_TEST(merge_probe_by_address)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("snmp_up", NOW - 1000, 1, "instance", "sw1", NULL);
	add("snmp_device_info", NOW - 1000, 1, "instance", "sw1", "sysName", "core-sw1",
	    "sysObjectID", "1.3.6.1.4.1.9.1.2494", "sysDescr", "Cisco IOS Software, C9300", "target", "10.0.0.1", NULL);
	add("probe_success", NOW - 500, 1, "instance", "10.0.0.1", "module", "icmp", NULL);
	add("probe_icmp_duration_seconds", NOW - 500, 0.0025, "instance", "10.0.0.1", "module", "icmp", "phase", "rtt", NULL);
	const char *j = get(inv, "/nodes", "", NOW);
	T_EQ_INT(status, 200);
	T_EQ_INT(count(j, "\"node\":"), 1);
	T_CHECK(strstr(j, "\"node\":\"core-sw1\",\"instance\":\"sw1\",\"address\":\"10.0.0.1\",\"status\":\"up\"") != NULL);
	T_CHECK(strstr(j, "\"vendor\":\"Cisco\",\"model\":\"Cisco IOS Software\"") != NULL);
	T_CHECK(strstr(j, "\"response_ms\":2.5") != NULL);
	T_CHECK(strstr(j, "\"instances\":[\"sw1\",\"10.0.0.1\"]") != NULL);
	/* one node by any of its instances */
	j = get(inv, "/nodes", "instance=10.0.0.1", NOW);
	T_EQ_INT(count(j, "\"node\":"), 1);
	j = get(inv, "/nodes", "instance=nope", NOW);
	T_EQ_STR(j, "{\"status\":\"success\",\"data\":[]}");
	inventory_free(inv);
}

/* A probe with node: its vigil_node_status decides, and it joins the device by address. */
T_TEST(merge_named_probe_and_status_wins)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("snmp_up", NOW - 1000, 1, "instance", "sw2", NULL);
	add("snmp_device_info", NOW - 1000, 1, "instance", "sw2", "sysName", "sw2", "target", "10.0.0.2", NULL);
	add("probe_success", NOW - 500, 0, "instance", "10.0.0.2", "module", "icmp", "node", "edge", NULL);
	add("vigil_node_status", NOW - 500, 2, "node", "edge", NULL);
	add("vigil_node_status_changed_timestamp_seconds", NOW - 500, (NOW - 500) / 1000.0, "node", "edge", NULL);
	const char *j = get(inv, "/nodes", "", NOW);
	T_EQ_INT(count(j, "\"node\":"), 1);
	T_CHECK(strstr(j, "\"instance\":\"sw2\",\"address\":\"10.0.0.2\",\"status\":\"warning\",\"status_since\":1699999999.5") != NULL);
	inventory_free(inv);
}

/* Simulated devices sharing one address stay apart; a probe of it is its own node. */
T_TEST(shared_address_merges_nothing)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("snmp_up", NOW - 1000, 1, "instance", "a", NULL);
	add("snmp_up", NOW - 1000, 0, "instance", "b", NULL);
	add("snmp_device_info", NOW - 1000, 1, "instance", "a", "target", "127.0.0.9", NULL);
	add("snmp_device_info", NOW - 1000, 1, "instance", "b", "target", "127.0.0.9", NULL);
	add("probe_success", NOW - 500, 1, "instance", "127.0.0.9", "module", "icmp", NULL);
	const char *j = get(inv, "/nodes", "", NOW);
	T_EQ_INT(count(j, "\"node\":"), 3);
	T_CHECK(strstr(j, "\"node\":\"b\",\"instance\":\"b\",\"address\":\"127.0.0.9\",\"status\":\"down\"") != NULL);
	T_CHECK(strstr(j, "\"node\":\"127.0.0.9\",\"instance\":\"127.0.0.9\",\"address\":\"127.0.0.9\",\"status\":\"up\"") != NULL);
	/* ... but with this host present, a probe of 127.0.0.1 is this host even so */
	add("snmp_device_info", NOW - 1000, 1, "instance", "a", "target", "127.0.0.1", NULL);
	add("snmp_device_info", NOW - 900, 1, "instance", "b", "target", "127.0.0.1", NULL);
	add("node_uname_info", NOW - 1000, 1, "instance", "h1", "job", "node", "nodename", "h1", NULL);
	add("probe_success", NOW - 500, 1, "instance", "127.0.0.1", "module", "icmp", NULL);
	get(inv, "/nodes", "", NOW);
	T_CHECK(strstr(body.data, "\"instances\":[\"h1\",\"127.0.0.1\"]") != NULL);
	inventory_free(inv);
}

/* This host: node_uname_info + up; a probe of 127.0.0.1 named after nothing is it. */
T_TEST(host_owns_loopback)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("node_uname_info", NOW - 1000, 1, "instance", "h1", "job", "node", "nodename", "h1",
	    "sysname", "Linux", "machine", "x86_64", "release", "6.1.0", NULL);
	add("up", NOW - 1000, 1, "instance", "h1", "job", "node", NULL);
	add("probe_success", NOW - 500, 1, "instance", "127.0.0.1", "module", "icmp", "node", "loopback", NULL);
	add("vigil_node_status", NOW - 500, 1, "node", "loopback", NULL);
	/* 95 % memory used: warning */
	add("node_memory_MemAvailable_bytes", NOW - 1000, 5, "instance", "h1", "job", "node", NULL);
	add("node_memory_MemTotal_bytes", NOW - 1000, 100, "instance", "h1", "job", "node", NULL);
	const char *j = get(inv, "/nodes", "", NOW);
	T_EQ_INT(count(j, "\"node\":"), 1);
	T_CHECK(strstr(j, "\"node\":\"h1\",\"instance\":\"h1\",\"address\":\"h1\",\"status\":\"warning\"") != NULL);
	T_CHECK(strstr(j, "\"vendor\":\"Linux\",\"model\":\"x86_64 6.1.0\"") != NULL);
	T_CHECK(strstr(j, "\"group\":\"node\",\"kind\":\"host\"") != NULL);
	T_CHECK(strstr(j, "\"memory_percent\":95") != NULL);
	inventory_free(inv);
}

/* A scraped node_exporter and an ICMP probe of its address are one node, down if either is. */
T_TEST(scrape_target_and_probe)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("up", NOW - 1000, 0, "instance", "10.1.1.1:9100", "job", "nodes", NULL);
	add("probe_success", NOW - 500, 1, "instance", "10.1.1.1", "module", "icmp", NULL);
	const char *j = get(inv, "/nodes", "", NOW);
	T_EQ_INT(count(j, "\"node\":"), 1);
	T_CHECK(strstr(j, "\"node\":\"10.1.1.1\",\"instance\":\"10.1.1.1:9100\",\"address\":\"10.1.1.1\",\"status\":\"down\"") != NULL);
	inventory_free(inv);
}

/* Status changes: newest first, only new ones on later requests, back after a restart. */
T_TEST(events_from_history)
{
	fresh();
	struct inventory *inv = inventory_new();
	static const double vals[] = { 1, 1, 2, 3, 3, 1 };
	for (int i = 0; i < 6; i++)
		add("vigil_node_status", NOW - 60000 + i * 10000, vals[i], "node", "r1", NULL);
	add("snmp_up", NOW - 30000, 1, "instance", "sw", NULL);
	add("snmp_up", NOW - 20000, 0, "instance", "sw", NULL);
	const char *j = get(inv, "/events", "", NOW);
	T_EQ_INT(status, 200);
	T_EQ_INT(count(j, "\"from\":"), 4);
	const char *a = strstr(j, "\"node\":\"r1\",\"instance\":\"r1\",\"from\":\"down\",\"to\":\"up\",\"time\":1699999990");
	const char *b = strstr(j, "\"node\":\"sw\",\"instance\":\"sw\",\"from\":\"up\",\"to\":\"down\",\"time\":1699999980");
	const char *c = strstr(j, "\"from\":\"warning\",\"to\":\"down\",\"time\":1699999970");
	const char *d = strstr(j, "\"from\":\"up\",\"to\":\"warning\",\"time\":1699999960");
	T_CHECK(a && b && c && d && a < b && b < c && c < d);
	/* status_since from the history: r1 has no changed-timestamp series */
	j = get(inv, "/nodes", "", NOW);
	T_CHECK(strstr(j, "\"node\":\"r1\",\"instance\":\"r1\",\"address\":\"r1\",\"status\":\"up\",\"status_since\":1699999990") != NULL);
	T_CHECK(strstr(j, "\"node\":\"sw\",\"instance\":\"sw\",\"address\":\"sw\",\"status\":\"down\",\"status_since\":1699999980") != NULL);
	/* later: one more change, reported once */
	add("vigil_node_status", NOW + 5000, 3, "node", "r1", NULL);
	j = get(inv, "/events", "", NOW + 6000);
	T_EQ_INT(count(j, "\"from\":"), 5);
	static const char first[] = "{\"status\":\"success\",\"data\":[{\"node\":\"r1\",\"instance\":\"r1\",\"from\":\"up\",\"to\":\"down\",\"time\":1700000005,";
	if (strncmp(j, first, strlen(first)) != 0)
		T_FAILF("%.300s", j);
	/* since and limit */
	j = get(inv, "/events", "since=1699999975&limit=2", NOW + 6000);
	T_EQ_INT(count(j, "\"from\":"), 2);
	j = get(inv, "/events", "since=1699999985", NOW + 6000);
	T_EQ_INT(count(j, "\"from\":"), 2);
	/* a restarted store worker reads the same history */
	inventory_free(inv);
	inv = inventory_new();
	j = get(inv, "/events", "", NOW + 7000);
	T_EQ_INT(count(j, "\"from\":"), 5);
	/* a day later they have aged out, and so have the series' tracks */
	j = get(inv, "/events", "since=0", NOW + INV_HISTORY_MS + 60000);
	T_EQ_INT(count(j, "\"from\":"), 0);
	j = get(inv, "/nodes", "", NOW + INV_HISTORY_MS + 60000);
	T_EQ_STR(j, "{\"status\":\"success\",\"data\":[]}");
	inventory_free(inv);
}

T_TEST(interfaces)
{
	fresh();
	struct inventory *inv = inventory_new();
	add("ifOperStatus", NOW - 1000, 1, "instance", "sw", "ifIndex", "3", "ifName", "Gi0/3",
	    "ifDescr", "GigabitEthernet0/3", "ifAlias", "uplink", NULL);
	add("ifAdminStatus", NOW - 1000, 2, "instance", "sw", "ifIndex", "3", "ifName", "Gi0/3", NULL);
	add("ifHighSpeed", NOW - 1000, 1000, "instance", "sw", "ifIndex", "3", "ifName", "Gi0/3", NULL);
	add("ifHCInOctets", NOW - 61000, 0, "instance", "sw", "ifIndex", "3", "ifName", "Gi0/3", NULL);
	add("ifHCInOctets", NOW - 1000, 7500000, "instance", "sw", "ifIndex", "3", "ifName", "Gi0/3", NULL);
	add("ifOperStatus", NOW - 1000, 1, "instance", "other", "ifIndex", "1", NULL);
	add("node_network_up", NOW - 1000, 0, "instance", "h", "device", "eth1", NULL);
	/* rate over [5m] of two samples 60 s apart: 7.5 MB in 60 s, extrapolated by PromQL's rules */
	const char *j = get(inv, "/interfaces", "instance=sw", NOW);
	T_EQ_INT(status, 200);
	T_EQ_INT(count(j, "\"ifIndex\":"), 1);
	if (!strstr(j, "{\"ifIndex\":3,\"ifName\":\"Gi0/3\",\"ifDescr\":\"GigabitEthernet0/3\",\"ifAlias\":\"uplink\","
	    "\"type\":null,\"speed\":1000000000,\"admin_status\":\"down\",\"oper_status\":\"up\",\"in_bps\":") || strstr(j, "\"in_bps\":null"))
		T_FAILF("%.400s", j);
	j = get(inv, "/interfaces", "instance=h", NOW);
	T_CHECK(strstr(j, "\"ifName\":\"eth1\"") && strstr(j, "\"oper_status\":\"down\""));
	inventory_free(inv);
}

/* The busiest interfaces of all nodes, from raw counters; cached for 15 s. */
T_TEST(top_interfaces)
{
	fresh();
	struct inventory *inv = inventory_new();
	/* a: 100 Mbit/s port at 50 % in; b: 1 Gbit/s port at 20 % out; c: no speed */
	static const struct { const char *inst, *idx; double speed, in_Bps, out_Bps; } ifs[] = {
		{ "a", "1", 100, 6.25e6, 1e3 }, { "b", "7", 1000, 1e3, 25e6 }, { "c", "2", 0, 1e9, 1e9 },
	};
	for (size_t i = 0; i < 3; i++) {
		for (int k = 0; k < 5; k++) {
			int64_t t = NOW - 240000 + k * 60000;
			add("ifHCInOctets", t, ifs[i].in_Bps * 60 * k, "instance", ifs[i].inst, "ifIndex", ifs[i].idx, "ifName", "p", NULL);
			add("ifHCOutOctets", t, ifs[i].out_Bps * 60 * k, "instance", ifs[i].inst, "ifIndex", ifs[i].idx, "ifName", "p", NULL);
		}
		add("ifHighSpeed", NOW - 1000, ifs[i].speed, "instance", ifs[i].inst, "ifIndex", ifs[i].idx, "ifName", "p", NULL);
	}
	const char *j = get(inv, "/interfaces", "top=10", NOW);
	T_EQ_INT(status, 200);
	T_EQ_INT(count(j, "\"instance\":"), 2);
	const char *a = strstr(j, "{\"instance\":\"a\",\"ifName\":\"p\",\"key\":\"1\",\"util_percent\":50,\"in_bps\":50000000,");
	const char *b = strstr(j, "{\"instance\":\"b\",\"ifName\":\"p\",\"key\":\"7\",\"util_percent\":20,");
	T_CHECK(a && b && a < b);
	j = get(inv, "/interfaces", "top=1", NOW);
	T_EQ_INT(count(j, "\"instance\":"), 1);
	/* within 15 s the same answer, even if the data moved on */
	add("ifHighSpeed", NOW + 5000, 10000, "instance", "a", "ifIndex", "1", "ifName", "p", NULL);
	j = get(inv, "/interfaces", "top=1", NOW + 6000);
	T_CHECK(strstr(j, "\"instance\":\"a\"") != NULL);
	j = get(inv, "/interfaces", "top=1", NOW + 16000);
	T_CHECK(strstr(j, "\"instance\":\"b\"") != NULL);
	get(inv, "/interfaces", "top=0", NOW);
	T_EQ_INT(status, 400);
	inventory_free(inv);
}

T_TEST(errors)
{
	fresh();
	struct inventory *inv = inventory_new();
	get(inv, "/interfaces", "", NOW);
	T_EQ_INT(status, 400);
	get(inv, "/events", "since=yesterday", NOW);
	T_EQ_INT(status, 400);
	get(inv, "/events", "limit=0", NOW);
	T_EQ_INT(status, 400);
	get(inv, "/nope", "", NOW);
	T_EQ_INT(status, 404);
	buf_reset(&body);
	inventory_handle(inv, &st, "POST", "/nodes", "", 0, NOW, &body, &status);
	T_EQ_INT(status, 405);
	/* an empty store: an empty list */
	T_EQ_STR(get(inv, "/nodes", "", NOW), "{\"status\":\"success\",\"data\":[]}");
	inventory_free(inv);
}

T_TEST(host_of_and_vendor)
{
	char h[64];
	static const char *const c[][2] = {
		{ "10.0.0.1:9100", "10.0.0.1" }, { "[::1]:161", "::1" }, { "fe80::1", "fe80::1" },
		{ "http://web:8080/x", "web" }, { "https://[2001:db8::1]/", "2001:db8::1" }, { "db1", "db1" },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		inventory_host_of(c[i][0], h, sizeof(h));
		T_EQ_STR(h, c[i][1]);
	}
	T_EQ_STR(inventory_vendor_of("1.3.6.1.4.1.9.1.2494"), "Cisco");
	T_EQ_STR(inventory_vendor_of(".1.3.6.1.4.1.2636.1.1.1.2.29"), "Juniper");
	T_EQ_STR(inventory_vendor_of("1.3.6.1.4.1.99999.1"), "");
	T_EQ_STR(inventory_vendor_of("1.3.6.1.2.1"), "");
}

int main(void)
{
	buf_init(&body, 1 << 24);
	T_RUN(merge_probe_by_address);
	T_RUN(merge_named_probe_and_status_wins);
	T_RUN(shared_address_merges_nothing);
	T_RUN(host_owns_loopback);
	T_RUN(scrape_target_and_probe);
	T_RUN(events_from_history);
	T_RUN(interfaces);
	T_RUN(top_interfaces);
	T_RUN(errors);
	T_RUN(host_of_and_vendor);
	st.ops->close(st.impl);
	buf_free(&body);
	return t_done();
}
