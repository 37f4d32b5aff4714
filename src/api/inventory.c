/* inventory.c — see inventory.h. Nodes are built from instant queries of
 * the latest samples; status history from raw samples of the status series. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/inventory.h"
#include "api/promapi.h"
#include "core/batch.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/xmalloc.h"
#include "promql/promql.h"

#define INV_LATE_MS   (5 * 60 * 1000LL)	/* re-read this much before the last scan (late samples) */
#define INV_SLICE_MS  (3600 * 1000LL)	/* history is read in slices this long (bounds memory) */
#define INV_ADDR_AMBIG ((void *)UINTPTR_MAX)	/* an address several SNMP devices share */
#define INV_PARAM_MAX 1024		/* bytes in one query parameter we keep */
#define INV_TOP_MAX   100		/* most rows of /interfaces?top= */
#define INV_TOP_TTL_MS (15 * 1000LL)	/* /interfaces?top= is recomputed at most this often */
#define INV_RATE_MS   (5 * 60 * 1000LL)	/* the window rates are taken over */

/* The series whose values are a node's status, and how their values read. */
static const char *const status_metrics[] = { "vigil_node_status", "snmp_up", "probe_success", "up" };

enum inv_kind {
	INV_SNMP,	/* an SNMP device (snmp_up) */
	INV_HOST,	/* this host, or a node_exporter (node_uname_info) */
	INV_SCRAPE,	/* a scraped target (up) */
	INV_PROBE,	/* only probed (probe_success / vigil_node_status) */
};

struct inv_track {
	double v;		/* the series' last value */
	int64_t since_ms;	/* when it took that value (or was first seen), wall ms */
	int64_t last_ms;	/* timestamp of the last sample read, wall ms */
};

struct inv_event {
	char *key;		/* the status series (labels text, owned) */
	double from, to;	/* values before and after */
	int64_t t;		/* when, wall ms */
};

struct inventory {
	struct hmap tracks;		/* labels text -> struct inv_track */
	struct inv_event *ev;		/* status changes, oldest first */
	size_t nev, evcap;		/* entries, allocated */
	int64_t scanned_to;		/* history read up to here (wall ms), 0: never */
	int64_t history_start;		/* the oldest time history was read from */
	struct buf top;			/* the last /interfaces?top= answer */
	int64_t top_at;			/* when it was made (wall ms), 0: never */
	long top_n;			/* its top= */
};

struct inv_node {
	char *node;		/* display name (owned) */
	char *instance;		/* primary instance label (owned) */
	char *address;		/* management address (owned) */
	char *vendor;		/* vendor (owned) */
	char *model;		/* model / OS (owned) */
	char *group;		/* group: job, "snmp", "probe" (owned) */
	enum inv_kind kind;	/* what made the node first */
	int vstatus;		/* vigil_node_status value, -1: none */
	double vsince;		/* vigil_node_status_changed_timestamp_seconds, NaN: none */
	int n_up, n_down;	/* other status series that are up / down */
	double uptime, resp_ms, cpu, mem, loss;	/* NaN: not known */
	char **keys;		/* status series (labels text) that belong here (owned) */
	size_t nkeys;		/* entries */
	char **insts;		/* every instance label merged here (owned) */
	size_t ninsts;		/* entries */
};

struct inv_build {
	struct inv_node *v;	/* nodes */
	size_t n, cap;		/* entries, allocated */
	struct hmap by_inst;	/* instance label -> index + 1 */
	struct hmap by_name;	/* node / device / host name -> index + 1 */
	struct hmap by_addr;	/* address -> index + 1, or INV_ADDR_AMBIG */
	struct hmap by_key;	/* status series labels text -> index + 1 */
};

struct inventory *inventory_new(void)
{
	struct inventory *inv = xcalloc(1, sizeof(*inv));
	hmap_init(&inv->tracks);
	buf_init(&inv->top, 1 << 20);
	return inv;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	hmap_free(&inv->tracks, free);
	for (size_t i = 0; i < inv->nev; i++)
		free(inv->ev[i].key);
	free(inv->ev);
	buf_free(&inv->top);
	free(inv);
}

void inventory_host_of(const char *in, char *out, size_t outsz)
{
	const char *s = in, *e;
	const char *sch = strstr(s, "://");
	if (outsz == 0)
		return;
	if (sch)
		s = sch + 3;
	if (*s == '[') {
		s++;
		e = strchr(s, ']');
		if (!e)
			e = s + strlen(s);
	} else {
		e = s + strcspn(s, "/?#");
		const char *c = memchr(s, ':', (size_t)(e - s));
		/* one colon is host:port; more is a bare IPv6 address */
		if (c && !memchr(c + 1, ':', (size_t)(e - c - 1)))
			e = c;
	}
	size_t n = (size_t)(e - s);
	if (n >= outsz)
		n = outsz - 1;
	memcpy(out, s, n);
	out[n] = '\0';
}

const char *inventory_vendor_of(const char *oid)
{
	static const struct { unsigned pen; const char *name; } v[] = {
		{ 2, "IBM" }, { 9, "Cisco" }, { 11, "HP" }, { 43, "3Com" }, { 311, "Microsoft" },
		{ 318, "APC" }, { 534, "Eaton" }, { 674, "Dell" }, { 1916, "Extreme" },
		{ 1991, "Brocade" }, { 2011, "Huawei" }, { 2352, "Ericsson" }, { 2636, "Juniper" },
		{ 3375, "F5" }, { 4526, "Netgear" }, { 6027, "Dell" }, { 6486, "Nokia" },
		{ 6876, "VMware" }, { 8072, "Net-SNMP" }, { 11863, "TP-Link" }, { 12356, "Fortinet" },
		{ 14179, "Cisco" }, { 14823, "Aruba" }, { 14988, "MikroTik" }, { 25053, "Ruckus" },
		{ 25461, "Palo Alto" }, { 25506, "H3C" }, { 30065, "Arista" }, { 41112, "Ubiquiti" },
		{ 47196, "HPE Aruba" }, { 50536, "Cumulus" },
	};
	const char *p = oid;
	if (*p == '.')
		p++;
	if (strncmp(p, "1.3.6.1.4.1.", 12) != 0)
		return "";
	char *end;
	unsigned long pen = strtoul(p + 12, &end, 10);
	if (end == p + 12)
		return "";
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (v[i].pen == pen)
			return v[i].name;
	return "";
}

/* ---- history: status_since and events ---- */

static char *labels_text(const struct labels *ls)
{
	struct buf b;
	buf_init(&b, 1 << 16);
	labels_format(ls, &b);
	buf_addc(&b, '\0');
	return buf_detach(&b, NULL);
}

static void add_event(struct inventory *inv, const char *key, double from, double to, int64_t t)
{
	if (inv->nev == INV_EVENTS_MAX) {
		/* full: drop the oldest */
		free(inv->ev[0].key);
		memmove(inv->ev, inv->ev + 1, (inv->nev - 1) * sizeof(*inv->ev));
		inv->nev--;
	}
	if (inv->nev == inv->evcap) {
		inv->evcap = inv->evcap ? inv->evcap * 2 : 64;
		inv->ev = xreallocarray(inv->ev, inv->evcap, sizeof(*inv->ev));
	}
	inv->ev[inv->nev++] = (struct inv_event){ xstrdup(key), from, to, t };
}

/* Read the status series' samples in [a, b] and extend the tracks and events. */
static int scan_slice(struct inventory *inv, struct storage *st, int64_t a, int64_t b)
{
	for (size_t m = 0; m < sizeof(status_metrics) / sizeof(status_metrics[0]); m++) {
		struct matcher mt;
		struct storage_result r = { 0 };
		char err[256];
		if (matcher_init(&mt, MATCH_EQ, "__name__", status_metrics[m], err, sizeof(err)) < 0)
			return -EINVAL;
		int rc = st->ops->select(st->impl, &mt, 1, a, b, NULL, &r, err, sizeof(err));
		matcher_free(&mt);
		if (rc < 0)
			return rc;
		for (size_t i = 0; i < r.n; i++) {
			const struct storage_series *s = &r.series[i];
			char *key = labels_text(s->labels);
			struct inv_track *tr = hmap_get(&inv->tracks, key, strlen(key));
			for (size_t j = 0; j < s->n; j++) {
				double v = s->v[j];
				if (isnan(v) || is_stale_nan(v))
					continue;
				if (!tr) {
					tr = xcalloc(1, sizeof(*tr));
					*tr = (struct inv_track){ v, s->t[j], s->t[j] };
					hmap_put(&inv->tracks, key, strlen(key), tr);
					continue;
				}
				if (s->t[j] <= tr->last_ms)
					continue;
				if (v != tr->v) {
					add_event(inv, key, tr->v, v, s->t[j]);
					tr->v = v;
					tr->since_ms = s->t[j];
				}
				tr->last_ms = s->t[j];
			}
			free(key);
		}
		storage_result_free(&r);
	}
	return 0;
}

/* Bring the history up to now: INV_HISTORY_MS the first time, then what is new. */
static int refresh(struct inventory *inv, struct storage *st, int64_t now)
{
	int64_t from = inv->scanned_to ? inv->scanned_to - INV_LATE_MS : now - INV_HISTORY_MS;
	if (!inv->scanned_to)
		inv->history_start = from;
	for (int64_t a = from; a <= now; a += INV_SLICE_MS) {
		int64_t b = a + INV_SLICE_MS - 1 < now ? a + INV_SLICE_MS - 1 : now;
		int rc = scan_slice(inv, st, a, b);
		if (rc < 0)
			return rc;
	}
	inv->scanned_to = now;
	/* series not heard of for the whole window go (a removed device or probe) */
	char **gone = NULL;
	size_t ngone = 0, it = 0, kl;
	const char *key;
	void *val;
	while (hmap_next(&inv->tracks, &it, &key, &kl, &val)) {
		if (((struct inv_track *)val)->last_ms >= now - INV_HISTORY_MS)
			continue;
		gone = xreallocarray(gone, ngone + 1, sizeof(*gone));
		gone[ngone] = xmalloc(kl + 1);
		memcpy(gone[ngone], key, kl);
		gone[ngone++][kl] = '\0';
	}
	for (size_t i = 0; i < ngone; i++) {
		free(hmap_del(&inv->tracks, gone[i], strlen(gone[i])));
		free(gone[i]);
	}
	free(gone);
	/* events older than the history window go */
	size_t k = 0;
	while (k < inv->nev && inv->ev[k].t < now - INV_HISTORY_MS)
		free(inv->ev[k++].key);
	if (k) {
		memmove(inv->ev, inv->ev + k, (inv->nev - k) * sizeof(*inv->ev));
		inv->nev -= k;
	}
	return 0;
}

/* ---- building the node rows ---- */

static void build_init(struct inv_build *b)
{
	memset(b, 0, sizeof(*b));
	hmap_init(&b->by_inst);
	hmap_init(&b->by_name);
	hmap_init(&b->by_addr);
	hmap_init(&b->by_key);
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void build_free(struct inv_build *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct inv_node *n = &b->v[i];
		free(n->node);
		free(n->instance);
		free(n->address);
		free(n->vendor);
		free(n->model);
		free(n->group);
		strv_free(n->keys, n->nkeys);
		strv_free(n->insts, n->ninsts);
	}
	free(b->v);
	hmap_free(&b->by_inst, NULL);
	hmap_free(&b->by_name, NULL);
	hmap_free(&b->by_addr, NULL);
	hmap_free(&b->by_key, NULL);
}

static void set_str(char **dst, const char *s)
{
	free(*dst);
	*dst = xstrdup(s ? s : "");
}

static struct inv_node *idx_get(struct inv_build *b, const struct hmap *m, const char *k)
{
	void *p = k && *k ? hmap_get(m, k, strlen(k)) : NULL;
	if (!p || p == INV_ADDR_AMBIG)
		return NULL;
	return &b->v[(uintptr_t)p - 1];
}

static void idx_put(struct inv_build *b, struct hmap *m, const char *k, const struct inv_node *n)
{
	if (k && *k && !hmap_get(m, k, strlen(k)))
		hmap_put(m, k, strlen(k), (void *)(uintptr_t)(n - b->v + 1));
}

static void add_inst(struct inv_build *b, struct inv_node *n, const char *inst)
{
	if (!inst || !*inst || hmap_get(&b->by_inst, inst, strlen(inst)))
		return;
	idx_put(b, &b->by_inst, inst, n);
	n->insts = xreallocarray(n->insts, n->ninsts + 1, sizeof(char *));
	n->insts[n->ninsts++] = xstrdup(inst);
}

static void add_key(struct inv_build *b, struct inv_node *n, const struct labels *ls)
{
	char *k = labels_text(ls);
	if (hmap_get(&b->by_key, k, strlen(k))) {
		free(k);
		return;
	}
	n->keys = xreallocarray(n->keys, n->nkeys + 1, sizeof(char *));
	n->keys[n->nkeys++] = k;
	idx_put(b, &b->by_key, k, n);
}

/* A new node; NULL past INV_NODES_MAX. Pointers into b->v move: use the result at once. */
static struct inv_node *new_node(struct inv_build *b, enum inv_kind kind, const char *name,
    const char *instance, const char *address, const char *group)
{
	if (b->n == INV_NODES_MAX)
		return NULL;
	if (b->n == b->cap) {
		b->cap = b->cap ? b->cap * 2 : 64;
		b->v = xreallocarray(b->v, b->cap, sizeof(*b->v));
	}
	struct inv_node *n = &b->v[b->n++];
	memset(n, 0, sizeof(*n));
	n->kind = kind;
	n->vstatus = -1;
	n->vsince = n->uptime = n->resp_ms = n->cpu = n->mem = n->loss = NAN;
	set_str(&n->node, name);
	set_str(&n->instance, instance);
	set_str(&n->address, address);
	set_str(&n->vendor, "");
	set_str(&n->model, "");
	set_str(&n->group, group);
	add_inst(b, n, instance);
	idx_put(b, &b->by_name, name, n);
	return n;
}

static int run_query(struct storage *st, const char *q, int64_t now, struct pq_result *r)
{
	struct pq_expr *e;
	char err[256];
	struct pq_opts o = { 0 };
	memset(r, 0, sizeof(*r));
	if (pq_parse(q, &e, err, sizeof(err)) < 0)
		return -EINVAL;
	int rc = pq_eval_instant(st, e, now, &o, r, err, sizeof(err));
	pq_free(e);
	if (rc == 0 && r->type != PQ_VAL_VECTOR) {
		pq_result_free(r);
		memset(r, 0, sizeof(*r));
	}
	return rc;
}

static const char *lbl(const struct pq_series *s, const char *name)
{
	const char *v = labels_get(s->labels, name);
	return v ? v : "";
}

/* SNMP devices: snmp_up, then what snmp_device_info says about them. */
static void add_snmp(struct inv_build *b, struct storage *st, int64_t now)
{
	struct pq_result r;
	if (run_query(st, "snmp_up", now, &r) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const char *inst = lbl(&r.series[i], "instance");
			struct inv_node *n = idx_get(b, &b->by_inst, inst);
			if (!n)
				n = new_node(b, INV_SNMP, inst, inst, inst, "snmp");
			if (!n)
				break;
			r.series[i].v[0] == 1 ? n->n_up++ : n->n_down++;
			add_key(b, n, r.series[i].labels);
		}
	}
	pq_result_free(&r);
	/* the last hour's, so a device that stopped answering keeps its name and address */
	if (run_query(st, "last_over_time(snmp_device_info[1h])", now, &r) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const struct pq_series *s = &r.series[i];
			struct inv_node *n = idx_get(b, &b->by_inst, lbl(s, "instance"));
			if (!n || n->kind != INV_SNMP)
				continue;
			if (*lbl(s, "sysName")) {
				set_str(&n->node, lbl(s, "sysName"));
				idx_put(b, &b->by_name, n->node, n);
			}
			if (*lbl(s, "target"))
				set_str(&n->address, lbl(s, "target"));
			set_str(&n->vendor, inventory_vendor_of(lbl(s, "sysObjectID")));
			/* the model: sysDescr's first line, up to a comma, at most 64 bytes */
			const char *d = lbl(s, "sysDescr");
			size_t len = strcspn(d, ",\r\n");
			char model[65];
			snprintf(model, sizeof(model), "%.*s", (int)(len < 64 ? len : 64), d);
			set_str(&n->model, model);
		}
	}
	pq_result_free(&r);
	/* every device by its address; a shared address (a simulated lab) merges nothing */
	for (size_t i = 0; i < b->n; i++) {
		struct inv_node *n = &b->v[i];
		void *p = hmap_get(&b->by_addr, n->address, strlen(n->address));
		if (p)
			hmap_put(&b->by_addr, n->address, strlen(n->address), INV_ADDR_AMBIG);
		else
			idx_put(b, &b->by_addr, n->address, n);
	}
}

/* Hosts: node_uname_info. This host (an instance without a port) also owns
 * the loopback addresses, so a probe of 127.0.0.1 is this host. */
static void add_hosts(struct inv_build *b, struct storage *st, int64_t now)
{
	struct pq_result r;
	if (run_query(st, "node_uname_info", now, &r) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const struct pq_series *s = &r.series[i];
			const char *inst = lbl(s, "instance");
			char host[256];
			inventory_host_of(inst, host, sizeof(host));
			struct inv_node *n = idx_get(b, &b->by_inst, inst);
			if (!n) {
				const char *name = *lbl(s, "nodename") ? lbl(s, "nodename") : host;
				n = new_node(b, INV_HOST, name, inst, host, lbl(s, "job"));
			}
			if (!n)
				break;
			set_str(&n->vendor, lbl(s, "sysname"));
			char model[256];
			snprintf(model, sizeof(model), "%s%s%s", lbl(s, "machine"),
			    *lbl(s, "machine") && *lbl(s, "release") ? " " : "", lbl(s, "release"));
			set_str(&n->model, model);
			idx_put(b, &b->by_name, lbl(s, "nodename"), n);
			idx_put(b, &b->by_name, inst, n);
			idx_put(b, &b->by_addr, host, n);
			idx_put(b, &b->by_addr, lbl(s, "nodename"), n);
			if (strcmp(host, inst) == 0) {
				/* this host; loopback simulators sharing 127.0.0.1 do not own it */
				static const char *const lo[] = { "127.0.0.1", "::1", "localhost" };
				for (size_t k = 0; k < sizeof(lo) / sizeof(lo[0]); k++) {
					if (hmap_get(&b->by_addr, lo[k], strlen(lo[k])) == INV_ADDR_AMBIG)
						hmap_del(&b->by_addr, lo[k], strlen(lo[k]));
					idx_put(b, &b->by_addr, lo[k], n);
				}
			}
		}
	}
	pq_result_free(&r);
}

/* up{job,instance}: this host's collectors and scraped targets. */
static void add_up(struct inv_build *b, struct storage *st, int64_t now)
{
	struct pq_result r;
	if (run_query(st, "up", now, &r) == 0) {
		for (size_t i = 0; i < r.n; i++) {
			const struct pq_series *s = &r.series[i];
			const char *inst = lbl(s, "instance");
			char host[256];
			inventory_host_of(inst, host, sizeof(host));
			struct inv_node *n = idx_get(b, &b->by_inst, inst);
			if (!n && (n = idx_get(b, &b->by_addr, host)) != NULL)
				add_inst(b, n, inst);
			if (!n && (n = new_node(b, INV_SCRAPE, host, inst, host, lbl(s, "job"))) != NULL)
				idx_put(b, &b->by_addr, host, n);
			if (!n)
				break;
			s->v[0] == 1 ? n->n_up++ : n->n_down++;
			add_key(b, n, s->labels);
		}
	}
	pq_result_free(&r);
}

/* The node a probe target or node name belongs to, by name, instance, then address. */
static struct inv_node *find_probed(struct inv_build *b, const char *name, const char *target)
{
	char host[256];
	struct inv_node *n = idx_get(b, &b->by_name, name);
	if (!n)
		n = idx_get(b, &b->by_inst, name);
	if (!n && target && *target) {
		n = idx_get(b, &b->by_inst, target);
		if (!n) {
			inventory_host_of(target, host, sizeof(host));
			n = idx_get(b, &b->by_addr, host);
		}
	}
	if (!n && name && *name) {
		inventory_host_of(name, host, sizeof(host));
		n = idx_get(b, &b->by_addr, host);
	}
	return n;
}

/* vigil_node_status{node} and probe_success{instance,module[,node]}. */
static void add_probes(struct inv_build *b, struct storage *st, int64_t now)
{
	struct pq_result ps, vs, vt;
	run_query(st, "probe_success", now, &ps);
	run_query(st, "vigil_node_status", now, &vs);
	run_query(st, "vigil_node_status_changed_timestamp_seconds", now, &vt);
	for (size_t i = 0; i < vs.n; i++) {
		const char *name = lbl(&vs.series[i], "node");
		const char *target = NULL;
		for (size_t j = 0; j < ps.n && !target; j++)
			if (strcmp(lbl(&ps.series[j], "node"), name) == 0)
				target = lbl(&ps.series[j], "instance");
		struct inv_node *n = find_probed(b, name, target);
		if (!n) {
			char host[256];
			inventory_host_of(target ? target : name, host, sizeof(host));
			n = new_node(b, INV_PROBE, name, target ? target : name, host, "probe");
		}
		if (!n)
			break;
		idx_put(b, &b->by_name, name, n);
		n->vstatus = (int)vs.series[i].v[0];
		add_key(b, n, vs.series[i].labels);
		for (size_t j = 0; j < vt.n; j++)
			if (strcmp(lbl(&vt.series[j], "node"), name) == 0 && vt.series[j].v[0] > 0)
				n->vsince = vt.series[j].v[0];
	}
	for (size_t i = 0; i < ps.n; i++) {
		const struct pq_series *s = &ps.series[i];
		const char *inst = lbl(s, "instance"), *node = lbl(s, "node");
		struct inv_node *n = *node ? idx_get(b, &b->by_name, node) : NULL;
		if (!n)
			n = find_probed(b, NULL, inst);
		if (!n) {
			char host[256];
			inventory_host_of(inst, host, sizeof(host));
			n = new_node(b, INV_PROBE, *node ? node : host, inst, host, "probe");
			if (n)
				idx_put(b, &b->by_addr, host, n);
		}
		if (!n)
			break;
		add_inst(b, n, inst);
		s->v[0] == 1 ? n->n_up++ : n->n_down++;
		add_key(b, n, s->labels);
	}
	pq_result_free(&ps);
	pq_result_free(&vs);
	pq_result_free(&vt);
}

/* The same figures the console's PromQL fallback reads (docs/CONSOLE.md). */
static const struct {
	const char *q;		/* query, by (instance) */
	size_t off;		/* field of struct inv_node */
	double scale;		/* multiplier */
} figures[] = {
	{ "max by (instance) (node_time_seconds - node_boot_time_seconds) or max by (instance) (sysUpTime) / 100",
	  offsetof(struct inv_node, uptime), 1 },
	{ "max by (instance) (probe_icmp_duration_seconds{phase=\"rtt\"}) or max by (instance) (probe_duration_seconds)",
	  offsetof(struct inv_node, resp_ms), 1000 },
	{ "100 * (1 - avg by (instance) (rate(node_cpu_seconds_total{mode=\"idle\"}[5m]))) or avg by (instance) (hrProcessorLoad)",
	  offsetof(struct inv_node, cpu), 1 },
	{ "100 * (1 - max by (instance) (node_memory_MemAvailable_bytes) / max by (instance) (node_memory_MemTotal_bytes))",
	  offsetof(struct inv_node, mem), 1 },
	{ "100 * (1 - avg by (instance) (avg_over_time(probe_success[1h])))",
	  offsetof(struct inv_node, loss), 1 },
};

static void add_figures(struct inv_build *b, struct storage *st, int64_t now)
{
	for (size_t f = 0; f < sizeof(figures) / sizeof(figures[0]); f++) {
		struct pq_result r;
		if (run_query(st, figures[f].q, now, &r) == 0) {
			for (size_t i = 0; i < r.n; i++) {
				struct inv_node *n = idx_get(b, &b->by_inst, lbl(&r.series[i], "instance"));
				double v = r.series[i].v[0] * figures[f].scale;
				double *dst = n ? (double *)((char *)n + figures[f].off) : NULL;
				/* a node with several probes: the worst figure */
				if (dst && isfinite(v) && (isnan(*dst) || v > *dst))
					*dst = v;
			}
		}
		pq_result_free(&r);
	}
}

static const char *status_name(const struct inv_node *n)
{
	static const char *const vnames[] = { "unknown", "up", "warning", "down" };
	const char *s;
	if (n->vstatus >= 0)
		s = vnames[n->vstatus <= 3 ? n->vstatus : 0];
	else if (n->n_down)
		s = "down";
	else if (n->n_up)
		s = "up";
	else
		s = "unknown";
	/* up but hot, or (without vigil's own status, which has its warning) losing
	 * probes: warning, as the console's fallback says */
	if (strcmp(s, "up") == 0 && ((!isnan(n->cpu) && n->cpu >= 90) || (!isnan(n->mem) && n->mem >= 90) ||
	    (n->vstatus < 0 && !isnan(n->loss) && n->loss > 0)))
		s = "warning";
	return s;
}

/* When the node's status last changed (wall ms), from its status series; 0: unknown. */
static int64_t node_since(const struct inventory *inv, const struct inv_node *n)
{
	if (n->vstatus >= 0 && !isnan(n->vsince))
		return (int64_t)(n->vsince * 1000);
	int64_t best = 0;
	for (size_t i = 0; i < n->nkeys; i++) {
		/* with vigil_node_status, only it counts */
		if (n->vstatus >= 0 && strncmp(n->keys[i], "vigil_node_status{", 18) != 0)
			continue;
		const struct inv_track *t = hmap_get(&inv->tracks, n->keys[i], strlen(n->keys[i]));
		if (t && t->since_ms > best)
			best = t->since_ms;
	}
	return best;
}

/* The nodes at now; without figures only who they are (events need no more). */
static int build(struct inv_build *b, struct storage *st, int64_t now, int with_figures)
{
	build_init(b);
	add_snmp(b, st, now);
	add_hosts(b, st, now);
	add_up(b, st, now);
	add_probes(b, st, now);
	if (with_figures)
		add_figures(b, st, now);
	return 0;
}

static void json_num(struct buf *o, const char *name, double v)
{
	char f[64];
	buf_printf(o, ",\"%s\":", name);
	if (!isfinite(v)) {
		buf_adds(o, "null");
		return;
	}
	pq_fmt_float(v, f, sizeof(f));
	buf_adds(o, f);
}

static void json_str(struct buf *o, const char *name, const char *v)
{
	buf_printf(o, "\"%s\":", name);
	buf_add_json_str(o, v, strlen(v));
}

static int cmp_node(const void *a, const void *b)
{
	const struct inv_node *x = a, *y = b;
	int c = strcmp(x->node, y->node);
	return c ? c : strcmp(x->instance, y->instance);
}

static int has_instance(const struct inv_node *n, const char *inst)
{
	for (size_t k = 0; k < n->ninsts; k++)
		if (strcmp(n->insts[k], inst) == 0)
			return 1;
	return 0;
}

/* The rows, or with only (not NULL) the node that has that instance label. */
static void nodes_json(struct inventory *inv, struct inv_build *b, const char *only, struct buf *o)
{
	size_t out = 0;
	/* sorting moves the nodes: the index maps are not used after this */
	if (b->n)
		qsort(b->v, b->n, sizeof(*b->v), cmp_node);
	buf_adds(o, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < b->n; i++) {
		const struct inv_node *n = &b->v[i];
		static const char *const kinds[] = { "snmp", "host", "scrape", "probe" };
		if (only && !has_instance(n, only))
			continue;
		buf_adds(o, out++ ? ",{" : "{");
		json_str(o, "node", n->node);
		buf_addc(o, ',');
		json_str(o, "instance", n->instance);
		buf_addc(o, ',');
		json_str(o, "address", n->address);
		buf_addc(o, ',');
		json_str(o, "status", status_name(n));
		int64_t since = node_since(inv, n);
		json_num(o, "status_since", since ? (double)since / 1000.0 : NAN);
		buf_addc(o, ',');
		json_str(o, "vendor", n->vendor);
		buf_addc(o, ',');
		json_str(o, "model", n->model);
		json_num(o, "uptime_seconds", n->uptime);
		json_num(o, "response_ms", n->resp_ms);
		buf_addc(o, ',');
		json_str(o, "group", n->group);
		buf_addc(o, ',');
		json_str(o, "kind", kinds[n->kind]);
		json_num(o, "cpu_percent", n->cpu);
		json_num(o, "memory_percent", n->mem);
		json_num(o, "packet_loss_percent", n->loss);
		buf_adds(o, ",\"instances\":[");
		for (size_t k = 0; k < n->ninsts; k++) {
			if (k)
				buf_addc(o, ',');
			buf_add_json_str(o, n->insts[k], strlen(n->insts[k]));
		}
		buf_adds(o, "]}");
	}
	buf_adds(o, "]}");
}

/* ---- events ---- */

static const char *value_name(const char *key, double v)
{
	static const char *const vnames[] = { "unknown", "up", "warning", "down" };
	if (strncmp(key, "vigil_node_status{", 18) == 0)
		return v >= 0 && v <= 3 && v == (int)v ? vnames[(int)v] : "unknown";
	return v == 1 ? "up" : "down";
}

static int cmp_event(const void *a, const void *b)
{
	const struct inv_event *x = *(const struct inv_event *const *)a, *y = *(const struct inv_event *const *)b;
	return x->t < y->t ? 1 : x->t > y->t ? -1 : strcmp(x->key, y->key);
}

static void events_json(struct inventory *inv, struct inv_build *b, int64_t since, size_t limit,
    struct buf *o)
{
	size_t out = 0, nsel = 0;
	/* newest first: the list is in the order the series were read, not by time */
	const struct inv_event **sel = xcalloc(inv->nev + 1, sizeof(*sel));
	for (size_t i = 0; i < inv->nev; i++)
		if (inv->ev[i].t >= since)
			sel[nsel++] = &inv->ev[i];
	qsort(sel, nsel, sizeof(*sel), cmp_event);
	buf_adds(o, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < nsel && out < limit; i++) {
		const struct inv_event *e = sel[i];
		const struct inv_node *n = idx_get(b, &b->by_key, e->key);
		/* a node with vigil_node_status reports only its changes */
		if (n && n->vstatus >= 0 && strncmp(e->key, "vigil_node_status{", 18) != 0)
			continue;
		size_t mlen = strcspn(e->key, "{");
		char metric[128];
		snprintf(metric, sizeof(metric), "%.*s", (int)(mlen < 127 ? mlen : 127), e->key);
		buf_adds(o, out++ ? ",{" : "{");
		json_str(o, "node", n ? n->node : e->key);
		buf_addc(o, ',');
		json_str(o, "instance", n ? n->instance : "");
		buf_addc(o, ',');
		json_str(o, "from", value_name(e->key, e->from));
		buf_addc(o, ',');
		json_str(o, "to", value_name(e->key, e->to));
		json_num(o, "time", (double)e->t / 1000.0);
		buf_addc(o, ',');
		json_str(o, "source", metric);
		buf_addc(o, ',');
		json_str(o, "series", e->key);
		buf_addc(o, '}');
	}
	buf_adds(o, "]}");
	free(sel);
}

/* ---- interfaces ---- */

struct inv_if {
	char *key;		/* ifIndex or device (owned) */
	struct labels *ls;	/* labels of the first series seen (owned) */
	double v[8];		/* type, speed bit/s, admin, oper, in bps, out bps, (unused) */
};

enum { IF_TYPE, IF_SPEED, IF_ADMIN, IF_OPER, IF_IN, IF_OUT };

static void interfaces_json(struct storage *st, const char *inst, int64_t now, struct buf *o)
{
	/* SNMP (keyed by ifIndex) and host (keyed by device) interfaces */
	static const struct { const char *q; int field; double scale; int host; } qs[] = {
		{ "ifType", IF_TYPE, 1, 0 },
		{ "ifHighSpeed", IF_SPEED, 1e6, 0 },
		{ "ifAdminStatus", IF_ADMIN, 1, 0 },
		{ "ifOperStatus", IF_OPER, 1, 0 },
		{ "8 * rate(ifHCInOctets[5m])", IF_IN, 1, 0 },
		{ "8 * rate(ifHCOutOctets[5m])", IF_OUT, 1, 0 },
		{ "node_network_speed_bytes", IF_SPEED, 8, 1 },
		{ "node_network_up", IF_OPER, 1, 1 },
		{ "8 * rate(node_network_receive_bytes_total[5m])", IF_IN, 1, 1 },
		{ "8 * rate(node_network_transmit_bytes_total[5m])", IF_OUT, 1, 1 },
	};
	struct hmap ifs;
	struct inv_if **list = NULL;
	size_t nlist = 0;
	hmap_init(&ifs);
	for (size_t k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
		struct buf q;
		struct pq_result r;
		buf_init(&q, PQ_QUERY_MAX);
		/* the selector is the first name in the expression; add the instance there */
		const char *sel = strstr(qs[k].q, qs[k].host ? "node_" : "if");
		size_t nlen = strcspn(sel, "[) ");
		buf_add(&q, qs[k].q, (size_t)(sel - qs[k].q) + nlen);
		buf_adds(&q, "{instance=");
		buf_add_json_str(&q, inst, strlen(inst));
		buf_adds(&q, "}");
		buf_adds(&q, sel + nlen);
		buf_addc(&q, '\0');
		if (run_query(st, q.data, now, &r) == 0) {
			for (size_t i = 0; i < r.n; i++) {
				const struct pq_series *s = &r.series[i];
				const char *key = labels_get(s->labels, qs[k].host ? "device" : "ifIndex");
				if (!key)
					continue;
				struct inv_if *f = hmap_get(&ifs, key, strlen(key));
				if (!f) {
					f = xcalloc(1, sizeof(*f));
					f->key = xstrdup(key);
					f->ls = labels_dup(s->labels);
					for (size_t j = 0; j < 8; j++)
						f->v[j] = NAN;
					hmap_put(&ifs, key, strlen(key), f);
					list = xreallocarray(list, nlist + 1, sizeof(*list));
					list[nlist++] = f;
				}
				/* keep the richest label set (ifOperStatus has ifDescr, ifAlias; ifHighSpeed may not) */
				if (s->labels->n > f->ls->n) {
					labels_free(f->ls);
					f->ls = labels_dup(s->labels);
				}
				double v = s->v[0];
				if (qs[k].host && qs[k].field == IF_OPER)
					v = v == 1 ? 1 : 2;	/* node_network_up 0 is ifOperStatus down (2) */
				f->v[qs[k].field] = v * qs[k].scale;
			}
		}
		pq_result_free(&r);
		buf_free(&q);
	}
	buf_adds(o, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; i < nlist; i++) {
		const struct inv_if *f = list[i];
		const char *name = labels_get(f->ls, "ifName");
		const char *dev = labels_get(f->ls, "device");
		buf_adds(o, i ? ",{" : "{");
		if (dev) {
			buf_adds(o, "\"ifIndex\":null,");
			json_str(o, "ifName", dev);
			buf_addc(o, ',');
			json_str(o, "ifDescr", dev);
			buf_addc(o, ',');
			json_str(o, "ifAlias", "");
		} else {
			buf_printf(o, "\"ifIndex\":%s,", f->key);
			json_str(o, "ifName", name ? name : f->key);
			buf_addc(o, ',');
			json_str(o, "ifDescr", labels_get(f->ls, "ifDescr") ? labels_get(f->ls, "ifDescr") : "");
			buf_addc(o, ',');
			json_str(o, "ifAlias", labels_get(f->ls, "ifAlias") ? labels_get(f->ls, "ifAlias") : "");
		}
		json_num(o, "type", f->v[IF_TYPE]);
		json_num(o, "speed", f->v[IF_SPEED]);
		static const char *const st_names[] = { "", "up", "down", "testing", "unknown", "dormant",
			"notPresent", "lowerLayerDown" };
		for (int k = IF_ADMIN; k <= IF_OPER; k++) {
			double v = f->v[k];
			buf_printf(o, ",\"%s\":", k == IF_ADMIN ? "admin_status" : "oper_status");
			if (v >= 1 && v <= 7 && v == (int)v)
				buf_printf(o, "\"%s\"", st_names[(int)v]);
			else
				buf_adds(o, "null");
		}
		json_num(o, "in_bps", f->v[IF_IN]);
		json_num(o, "out_bps", f->v[IF_OUT]);
		buf_addc(o, '}');
	}
	buf_adds(o, "]}");
	for (size_t i = 0; i < nlist; i++) {
		free(list[i]->key);
		labels_free(list[i]->ls);
		free(list[i]);
	}
	free(list);
	hmap_free(&ifs, NULL);
}

/* ---- the busiest interfaces of all nodes ---- */

struct inv_rate {
	char *inst, *key, *name;	/* instance, ifIndex or device, ifName or device (owned) */
	double in, out, speed;		/* bit/s, bit/s, bit/s; NaN: not known */
};

/* Per-second increase of a counter over its samples, counter resets counted
 * as from zero (PromQL's rate without extrapolation); NaN with < 2 samples. */
static double counter_rate(const struct storage_series *s)
{
	double inc = 0, prev = NAN;
	int64_t t0 = 0, t1 = 0;
	size_t n = 0;
	for (size_t j = 0; j < s->n; j++) {
		double v = s->v[j];
		if (isnan(v))
			continue;
		if (n++ == 0)
			t0 = s->t[j];
		else
			inc += v >= prev ? v - prev : v;
		prev = v;
		t1 = s->t[j];
	}
	return n < 2 || t1 == t0 ? NAN : inc * 1000.0 / (double)(t1 - t0);
}

static double last_value(const struct storage_series *s)
{
	for (size_t j = s->n; j-- > 0;)
		if (!isnan(s->v[j]))
			return s->v[j];
	return NAN;
}

/* Select name's series in [a, b] and apply fn to each; 0 or a negative errno. */
static int each_series(struct storage *st, const char *name, int64_t a, int64_t b,
    void (*fn)(void *ctx, const struct storage_series *s), void *ctx)
{
	struct matcher mt;
	struct storage_result r = { 0 };
	char err[256];
	if (matcher_init(&mt, MATCH_EQ, "__name__", name, err, sizeof(err)) < 0)
		return -EINVAL;
	int rc = st->ops->select(st->impl, &mt, 1, a, b, NULL, &r, err, sizeof(err));
	matcher_free(&mt);
	for (size_t i = 0; rc == 0 && i < r.n; i++)
		fn(ctx, &r.series[i]);
	storage_result_free(&r);
	return rc;
}

struct top_ctx {
	struct hmap rates;	/* "instance\x1fkey" -> struct inv_rate */
	int field;		/* 0 in, 1 out, 2 speed */
	int host;		/* node_network_* (keyed by device) */
	double scale;		/* multiplier of the value */
};

static void top_take(void *ctx, const struct storage_series *s)
{
	struct top_ctx *c = ctx;
	const char *inst = labels_get(s->labels, "instance");
	const char *key = labels_get(s->labels, c->host ? "device" : "ifIndex");
	char k[1024];
	if (!inst || !key || snprintf(k, sizeof(k), "%s\x1f%s", inst, key) >= (int)sizeof(k))
		return;
	struct inv_rate *r = hmap_get(&c->rates, k, strlen(k));
	if (!r) {
		const char *name = labels_get(s->labels, c->host ? "device" : "ifName");
		r = xcalloc(1, sizeof(*r));
		*r = (struct inv_rate){ xstrdup(inst), xstrdup(key), xstrdup(name ? name : key), NAN, NAN, NAN };
		hmap_put(&c->rates, k, strlen(k), r);
	}
	double v = c->field == 2 ? last_value(s) : counter_rate(s);
	(&r->in)[c->field] = v * c->scale;
}

static void rate_free(void *p)
{
	struct inv_rate *r = p;
	free(r->inst);
	free(r->key);
	free(r->name);
	free(r);
}

static double util_of(const struct inv_rate *r)
{
	double m = isnan(r->in) ? r->out : isnan(r->out) ? r->in : r->in > r->out ? r->in : r->out;
	return r->speed > 0 ? 100 * m / r->speed : NAN;
}

/* The top interfaces by utilization (percent of speed, the larger of in and out)
 * over the last 5 minutes, from the raw samples: what the console's overview
 * asks PromQL for, at a fraction of the cost. */
static int top_json(struct storage *st, long topn, int64_t now, struct buf *o)
{
	static const struct { const char *name; int field, host; double scale; } src[] = {
		{ "ifHCInOctets", 0, 0, 8 }, { "ifHCOutOctets", 1, 0, 8 }, { "ifHighSpeed", 2, 0, 1e6 },
		{ "node_network_receive_bytes_total", 0, 1, 8 }, { "node_network_transmit_bytes_total", 1, 1, 8 },
		{ "node_network_speed_bytes", 2, 1, 8 },
	};
	struct top_ctx c = { .scale = 1 };
	const struct inv_rate *best[INV_TOP_MAX];
	size_t nbest = 0;
	int rc = 0;
	hmap_init(&c.rates);
	for (size_t i = 0; rc == 0 && i < sizeof(src) / sizeof(src[0]); i++) {
		c.field = src[i].field;
		c.host = src[i].host;
		c.scale = src[i].scale;
		rc = each_series(st, src[i].name, now - INV_RATE_MS, now, top_take, &c);
	}
	size_t it = 0;
	const char *k;
	size_t kl;
	void *val;
	while (rc == 0 && hmap_next(&c.rates, &it, &k, &kl, &val)) {
		const struct inv_rate *r = val;
		double u = util_of(r);
		if (isnan(u))
			continue;
		/* insertion into the sorted top list */
		size_t pos = nbest;
		while (pos > 0 && util_of(best[pos - 1]) < u)
			pos--;
		if (pos >= (size_t)topn)
			continue;
		if (nbest < (size_t)topn)
			nbest++;
		memmove(best + pos + 1, best + pos, (nbest - 1 - pos) * sizeof(*best));
		best[pos] = r;
	}
	buf_adds(o, "{\"status\":\"success\",\"data\":[");
	for (size_t i = 0; rc == 0 && i < nbest; i++) {
		const struct inv_rate *r = best[i];
		buf_adds(o, i ? ",{" : "{");
		json_str(o, "instance", r->inst);
		buf_addc(o, ',');
		json_str(o, "ifName", r->name);
		buf_addc(o, ',');
		json_str(o, "key", r->key);
		json_num(o, "util_percent", util_of(r));
		json_num(o, "in_bps", r->in);
		json_num(o, "out_bps", r->out);
		json_num(o, "speed", r->speed);
		buf_addc(o, '}');
	}
	buf_adds(o, "]}");
	hmap_free(&c.rates, rate_free);
	return rc;
}

/* ---- dispatch ---- */

static void error(struct buf *o, int *status, int code, const char *type, const char *msg)
{
	buf_reset(o);
	*status = code;
	buf_printf(o, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_add_json_str(o, msg, strlen(msg));
	buf_addc(o, '}');
}

void inventory_handle(struct inventory *inv, struct storage *st, const char *method,
    const char *path, const char *query, size_t query_len, int64_t now_ms,
    struct buf *body, int *status)
{
	struct promapi_request rq = { .method = method, .path = path };
	struct inv_build b;
	int built = 0;
	*status = 200;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		error(body, status, 405, "bad_data", "the inventory API takes GET");
		return;
	}
	if (promapi_parse_request(&rq, query, query_len, NULL, 0, NULL) < 0) {
		error(body, status, 400, "bad_data", "malformed query string");
		goto out;
	}
	if (strcmp(path, "/nodes") == 0 || strcmp(path, "/events") == 0) {
		if (refresh(inv, st, now_ms) < 0) {
			error(body, status, 500, "internal", "cannot read the status history");
			goto out;
		}
		build(&b, st, now_ms, strcmp(path, "/nodes") == 0);
		built = 1;
	}
	if (strcmp(path, "/nodes") == 0) {
		nodes_json(inv, &b, promapi_param(&rq, "instance"), body);
	} else if (strcmp(path, "/events") == 0) {
		const char *s = promapi_param(&rq, "since"), *l = promapi_param(&rq, "limit");
		char *end;
		double since = s ? strtod(s, &end) : (double)(now_ms - INV_HISTORY_MS) / 1000.0;
		if (s && (end == s || *end || !isfinite(since))) {
			error(body, status, 400, "bad_data", "since: not a Unix time in seconds");
			goto out;
		}
		long limit = l ? strtol(l, &end, 10) : 1000;
		if (l && (end == l || *end || limit < 1 || limit > INV_LIMIT_MAX)) {
			error(body, status, 400, "bad_data", "limit: not a number from 1 to 10000");
			goto out;
		}
		events_json(inv, &b, (int64_t)(since * 1000), (size_t)limit, body);
	} else if (strcmp(path, "/interfaces") == 0 && promapi_param(&rq, "top")) {
		const char *t = promapi_param(&rq, "top");
		char *end;
		long n = strtol(t, &end, 10);
		if (end == t || *end || n < 1 || n > INV_TOP_MAX) {
			error(body, status, 400, "bad_data", "top: not a number from 1 to 100");
			goto out;
		}
		/* a cached answer while it is fresh: the overview asks on every load */
		if (!inv->top_at || inv->top_n != n || now_ms - inv->top_at >= INV_TOP_TTL_MS ||
		    now_ms < inv->top_at) {
			buf_reset(&inv->top);
			if (top_json(st, n, now_ms, &inv->top) < 0) {
				inv->top_at = 0;
				error(body, status, 500, "internal", "cannot read interface counters");
				goto out;
			}
			inv->top_at = now_ms;
			inv->top_n = n;
		}
		buf_add(body, inv->top.data, inv->top.len);
	} else if (strcmp(path, "/interfaces") == 0) {
		const char *inst = promapi_param(&rq, "instance");
		if (!inst || !*inst || strlen(inst) > INV_PARAM_MAX) {
			error(body, status, 400, "bad_data", "instance: required");
			goto out;
		}
		interfaces_json(st, inst, now_ms, body);
	} else {
		error(body, status, 404, "not_found", "no such inventory resource");
	}
out:
	if (built)
		build_free(&b);
	promapi_request_free(&rq);
}
