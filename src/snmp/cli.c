/*
 * cli.c — `vigil snmpwalk`: walk or get OIDs from one device with vigil's own
 * engine and print them the way net-snmp's tools do with -On -Ob, so the two
 * can be compared line by line. For troubleshooting and tests.
 *
 *   vigil snmpwalk [-v 1|2c|3] [-c COMMUNITY] [-u USER -l LEVEL -a AUTH -A PASS
 *                  -x PRIV -X PASS] [-t SECONDS] [-r RETRIES] [-Cr REPS] [--get]
 *                  ADDR[:PORT] [OID...]
 */
#include "snmp/cli.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "core/batch.h"
#include "core/clock.h"
#include "core/labels.h"
#include "snmp/client.h"
#include "snmp/poll.h"
#include "snmp/walk.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLI_MAX_OIDS 64		/* OIDs on one command line */

void snmp_format_value(const struct snmp_value *v, struct buf *out)
{
	switch (v->type) {
	case BER_INTEGER:
		buf_printf(out, "INTEGER: %lld", (long long)v->i);
		return;
	case BER_COUNTER32:
		buf_printf(out, "Counter32: %llu", (unsigned long long)v->u);
		return;
	case BER_GAUGE32:
		buf_printf(out, "Gauge32: %llu", (unsigned long long)v->u);
		return;
	case BER_COUNTER64:
		buf_printf(out, "Counter64: %llu", (unsigned long long)v->u);
		return;
	case BER_TIMETICKS: {
		unsigned long long t = v->u;
		unsigned long long days = t / 8640000, h = t / 360000 % 24, m = t / 6000 % 60,
		    s = t / 100 % 60, cs = t % 100;
		if (days)
			buf_printf(out, "Timeticks: (%llu) %llu day%s, %llu:%02llu:%02llu.%02llu",
			    t, days, days == 1 ? "" : "s", h, m, s, cs);
		else
			buf_printf(out, "Timeticks: (%llu) %llu:%02llu:%02llu.%02llu", t, h, m, s, cs);
		return;
	}
	case BER_IPADDRESS:
		if (v->len == 4)
			buf_printf(out, "IpAddress: %u.%u.%u.%u", v->s[0], v->s[1], v->s[2], v->s[3]);
		return;
	case BER_OID: {
		struct snmp_oid o;
		char s[SNMP_OID_STR_MAX];
		if (snmp_value_oid(v, &o) == 0)
			buf_printf(out, "OID: .%s", snmp_oid_str(&o, s, sizeof(s)));
		return;
	}
	case BER_OCTET_STRING: {
		int hex = 0;
		for (size_t i = 0; i < v->len; i++) {
			unsigned char ch = v->s[i];
			if (!isprint(ch) && !isspace(ch))
				hex = 1;
		}
		if (hex || v->len == 0) {
			buf_adds(out, v->len ? "Hex-STRING: " : "\"\"");
			for (size_t i = 0; i < v->len; i++) {
				if (i && i % 16 == 0)
					buf_addc(out, '\n');	/* net-snmp wraps at 16 bytes */
				buf_printf(out, "%02X ", v->s[i]);
			}
			return;
		}
		buf_adds(out, "STRING: \"");
		for (size_t i = 0; i < v->len; i++) {
			if (v->s[i] == '"' || v->s[i] == '\\')
				buf_addc(out, '\\');
			if (v->s[i])
				buf_addc(out, (char)v->s[i]);
		}
		buf_addc(out, '"');
		return;
	}
	case BER_OPAQUE: {
		double d;
		int dbl;
		if (snmp_opaque_float(v, &d, &dbl) == 0) {
			buf_printf(out, "Opaque: %s: %f", dbl ? "Double" : "Float", d);
			return;
		}
		buf_adds(out, "OPAQUE: ");
		for (size_t i = 0; i < v->len; i++)
			buf_printf(out, "%02X ", v->s[i]);
		return;
	}
	case BER_NULL:
		buf_adds(out, "NULL");
		return;
	case BER_NOSUCHOBJECT:
		buf_adds(out, "No Such Object available on this agent at this OID");
		return;
	case BER_NOSUCHINSTANCE:
		buf_adds(out, "No Such Instance currently exists at this OID");
		return;
	case BER_ENDOFMIBVIEW:
		buf_adds(out, "No more variables left in this MIB View (It is past the end of the MIB tree)");
		return;
	default:
		buf_printf(out, "Unknown type 0x%02x", v->type);
	}
}

struct cli {
	struct loop *loop;		/* the loop */
	struct snmp_target *t;		/* device */
	struct snmp_oid oids[CLI_MAX_OIDS]; /* what to walk or get */
	int noids;			/* OIDs */
	int at;				/* next OID to walk */
	int reps;			/* fixed max-repetitions, 0 adaptive */
	int status;			/* exit status */
	size_t count;			/* varbinds printed for the current root */
	struct buf line;		/* output line */
};

static void print_vb(struct cli *c, const struct snmp_varbind *vb)
{
	char s[SNMP_OID_STR_MAX];
	buf_reset(&c->line);
	buf_printf(&c->line, ".%s = ", snmp_oid_str(&vb->name, s, sizeof(s)));
	snmp_format_value(&vb->val, &c->line);
	fputs(c->line.data, stdout);
	fputc('\n', stdout);
}

static int on_vb(void *ctx, const struct snmp_varbind *vb)
{
	struct cli *c = ctx;
	print_vb(c, vb);
	c->count++;
	return 0;
}

static void next_walk(struct cli *c);

static void on_get(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct cli *c = ctx;
	if (status < 0) {
		fprintf(stderr, "snmpwalk: %s\n", snmp_target_error(c->t));
		c->status = 1;
	} else if (resp->error_status) {
		fprintf(stderr, "snmpwalk: agent error %s\n", snmp_err_name(resp->error_status));
		c->status = 1;
	} else {
		for (size_t i = 0; i < resp->nvb; i++)
			print_vb(c, &resp->vb[i]);
	}
	loop_stop(c->loop);
}

static void on_fallback_get(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct cli *c = ctx;
	if (status == 0 && resp->error_status == 0)
		for (size_t i = 0; i < resp->nvb; i++)
			print_vb(c, &resp->vb[i]);
	next_walk(c);
}

static void on_done(void *ctx, int status, const char *err)
{
	struct cli *c = ctx;
	if (status < 0) {
		fprintf(stderr, "snmpwalk: %s\n", err && *err ? err : strerror(-status));
		c->status = 1;
		loop_stop(c->loop);
		return;
	}
	/* Like net-snmp: a walk that found nothing under the OID GETs the OID itself. */
	if (c->count == 0 && snmp_request(c->t, SNMP_PDU_GET, &c->oids[c->at - 1], 1, 0, 0,
	    on_fallback_get, c) == 0)
		return;
	next_walk(c);
}

static void next_walk(struct cli *c)
{
	if (c->at >= c->noids) {
		loop_stop(c->loop);
		return;
	}
	c->count = 0;
	if (snmp_walk(c->t, &c->oids[c->at++], c->reps, on_vb, on_done, c) < 0) {
		c->status = 1;
		loop_stop(c->loop);
	}
}

static int parse_level(const char *s, int *auth, int *priv)
{
	if (strcmp(s, "noAuthNoPriv") == 0)
		*auth = *priv = 0;
	else if (strcmp(s, "authNoPriv") == 0)
		*auth = 1, *priv = 0;
	else if (strcmp(s, "authPriv") == 0)
		*auth = *priv = 1;
	else
		return -EINVAL;
	return 0;
}

int snmpwalk_main(int argc, char **argv)
{
	struct snmp_target_cfg cfg;
	struct cli c;
	int get = 0, want_auth = -1, want_priv = -1, i;
	char err[256];
	const char *addr = NULL;
	memset(&cfg, 0, sizeof(cfg));
	memset(&c, 0, sizeof(c));
	cfg.version = SNMP_V2C;
	cfg.community = "public";
	cfg.timeout_ms = 1000;
	cfg.retries = 1;
	cfg.auth = USM_AUTH_SHA1;
	cfg.priv = USM_PRIV_AES128;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--get") == 0) {
			get = 1;
			continue;
		}
		if (a[0] != '-') {
			if (!addr)
				addr = a;
			else if (c.noids < CLI_MAX_OIDS && snmp_oid_parse(a, &c.oids[c.noids]) == 0)
				c.noids++;
			else {
				fprintf(stderr, "snmpwalk: bad OID %s (numeric only)\n", a);
				return 2;
			}
			continue;
		}
		if (!v)
			goto usage;
		i++;
		if (strcmp(a, "-v") == 0)
			cfg.version = strcmp(v, "1") == 0 ? SNMP_V1 : strcmp(v, "3") == 0 ? SNMP_V3 : SNMP_V2C;
		else if (strcmp(a, "-c") == 0)
			cfg.community = v;
		else if (strcmp(a, "-u") == 0)
			cfg.user = v;
		else if (strcmp(a, "-l") == 0) {
			if (parse_level(v, &want_auth, &want_priv) < 0)
				goto usage;
		} else if (strcmp(a, "-a") == 0) {
			if (usm_auth_parse(v, &cfg.auth) < 0)
				goto usage;
		} else if (strcmp(a, "-A") == 0)
			cfg.auth_pass = v;
		else if (strcmp(a, "-x") == 0) {
			if (usm_priv_parse(v, &cfg.priv) < 0)
				goto usage;
		} else if (strcmp(a, "-X") == 0)
			cfg.priv_pass = v;
		else if (strcmp(a, "-t") == 0)
			cfg.timeout_ms = (int)(atof(v) * 1000);
		else if (strcmp(a, "-r") == 0)
			cfg.retries = atoi(v) == 0 ? -1 : atoi(v);
		else if (strcmp(a, "-Cr") == 0)
			c.reps = atoi(v);
		else
			goto usage;
	}
	if (!addr)
		goto usage;
	if (want_auth == 0)
		cfg.auth = USM_AUTH_NONE;
	if (want_priv == 0 || cfg.auth == USM_AUTH_NONE)
		cfg.priv = USM_PRIV_NONE;
	if (c.noids == 0) {
		snmp_oid_parse("1.3.6.1.2.1", &c.oids[0]);
		c.noids = 1;
	}
	if (snmp_parse_addr(addr, &cfg.addr, &cfg.addrlen) < 0) {
		fprintf(stderr, "snmpwalk: bad address %s (numeric ADDR[:PORT])\n", addr);
		return 2;
	}
	cfg.name = addr;
	usm_crypto_init();
	egress_allow_addr((const struct sockaddr *)&cfg.addr, cfg.addrlen, IPPROTO_UDP,
	    ntohs(((const struct sockaddr_in *)&cfg.addr)->sin_port), "snmpwalk target");
	c.loop = loop_new();
	struct snmp_client *cl = snmp_client_new(c.loop);
	buf_init(&c.line, 1u << 20);
	if (snmp_target_new(cl, &cfg, &c.t, err, sizeof(err)) < 0) {
		fprintf(stderr, "snmpwalk: %s\n", err);
		c.status = 2;
		goto out;
	}
	if (get) {
		if (snmp_request(c.t, SNMP_PDU_GET, c.oids, (size_t)c.noids, 0, 0, on_get, &c) < 0)
			c.status = 1;
	} else {
		next_walk(&c);
	}
	if (!c.status || get)
		loop_run(c.loop);
out:
	fflush(stdout);
	snmp_client_free(cl);
	loop_free(c.loop);
	buf_free(&c.line);
	return c.status;
usage:
	fprintf(stderr, "usage: vigil snmpwalk [-v 1|2c|3] [-c COMMUNITY] [-u USER] [-l LEVEL]\n"
	    "  [-a MD5|SHA|SHA-224|SHA-256|SHA-384|SHA-512] [-A PASS] [-x DES|AES|AES-192|AES-256]\n"
	    "  [-X PASS] [-t SECONDS] [-r RETRIES] [-Cr REPS] [--get] ADDR[:PORT] [OID...]\n");
	return 2;
}

/* ---- vigil snmppoll ---- */

#define POLL_CLI_MAX 100000	/* devices on one command line */

static int quiet_samples;	/* snmppoll --quiet: count samples, do not print */
static uint64_t nsamples;	/* samples seen */
static uint64_t nvarbinds;	/* varbinds the devices returned (snmp_scrape_pdus_returned) */

static int print_sample(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct buf *b = ctx;
	(void)ts;
	nsamples++;
	const char *name = labels_get(ls, "__name__");
	if (name && strcmp(name, "snmp_scrape_pdus_returned") == 0)
		nvarbinds += (uint64_t)v;
	if (quiet_samples)
		return 0;
	buf_reset(b);
	labels_format(ls, b);
	printf("%s %.17g\n", b->data, v);
	return 0;
}

/* "name=sw1,addr=127.0.0.1:161,v=2c,c=public" or with u=,l=,a=,A=,x=,X= for v3 */
static int parse_dev(char *spec, struct snmp_device_cfg *d)
{
	memset(d, 0, sizeof(*d));
	d->version = SNMP_V2C;
	d->community = "public";
	d->auth = USM_AUTH_NONE;
	d->priv = USM_PRIV_NONE;
	d->retries = 1;
	for (char *kv = spec, *next; kv && *kv; kv = next) {
		next = strchr(kv, ',');
		if (next)
			*next++ = '\0';
		char *eq = strchr(kv, '=');
		if (!eq)
			return -EINVAL;
		*eq = '\0';
		const char *k = kv, *v = eq + 1;
		if (strcmp(k, "name") == 0)
			d->name = v;
		else if (strcmp(k, "addr") == 0)
			d->address = v;
		else if (strcmp(k, "v") == 0)
			d->version = strcmp(v, "1") == 0 ? SNMP_V1 : strcmp(v, "3") == 0 ? SNMP_V3 : SNMP_V2C;
		else if (strcmp(k, "c") == 0)
			d->community = v;
		else if (strcmp(k, "u") == 0)
			d->user = v;
		else if (strcmp(k, "a") == 0) {
			if (usm_auth_parse(v, &d->auth) < 0)
				return -EINVAL;
		} else if (strcmp(k, "A") == 0)
			d->auth_pass = v;
		else if (strcmp(k, "x") == 0) {
			if (usm_priv_parse(v, &d->priv) < 0)
				return -EINVAL;
		} else if (strcmp(k, "X") == 0)
			d->priv_pass = v;
		else if (strcmp(k, "t") == 0)
			d->timeout_ms = (int)(atof(v) * 1000);
		else
			return -EINVAL;
	}
	if (!d->name)
		d->name = d->address;
	return d->address ? 0 : -EINVAL;
}

int snmppoll_main(int argc, char **argv)
{
	struct snmp_device_cfg *devs = xcalloc((size_t)argc, sizeof(*devs));
	const char *profiles = NULL;
	size_t n = 0;
	unsigned long cycles = 1;
	long gap_ms = 0;	/* idle time between cycles */
	char err[512];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--profiles") == 0 && i + 1 < argc) {
			profiles = argv[++i];
			continue;
		}
		if (strcmp(argv[i], "--cycles") == 0 && i + 1 < argc) {
			cycles = strtoul(argv[++i], NULL, 10);
			continue;
		}
		if (strcmp(argv[i], "--gap") == 0 && i + 1 < argc) {
			gap_ms = strtol(argv[++i], NULL, 10);
			continue;
		}
		if (strcmp(argv[i], "--quiet") == 0) {
			quiet_samples = 1;
			continue;
		}
		if (n >= POLL_CLI_MAX || parse_dev(argv[i], &devs[n]) < 0) {
			fprintf(stderr, "usage: vigil snmppoll [--profiles DIR] [--cycles N] [--gap MS] [--quiet] "
			    "name=N,addr=IP[:PORT][,v=1|2c|3][,c=COMMUNITY][,u=USER,a=SHA,A=PASS,"
			    "x=AES,X=PASS][,t=SECONDS]...\n");
			free(devs);
			return 2;
		}
		n++;
	}
	if (profiles && snmp_poller_load_profiles(profiles, err, sizeof(err)) < 0) {
		fprintf(stderr, "snmppoll: %s\n", err);
		free(devs);
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		struct sockaddr_storage a;
		socklen_t al;
		if (snmp_parse_addr(devs[i].address, &a, &al) == 0)
			egress_allow_addr((const struct sockaddr *)&a, al, IPPROTO_UDP, 0, "snmppoll");
		devs[i].interval_ms = 3600000;
	}
	struct loop *l = loop_new();
	struct buf b;
	buf_init(&b, 1u << 20);
	struct sample_sink sink = { print_sample, &b };
	struct snmp_poller *p = snmp_poller_new(l, devs, n, sink);
	int64_t end = clock_mono_ms() + 600000;
	for (unsigned long k = 1; k <= cycles && clock_mono_ms() < end; k++) {
		snmp_poller_poll_now(p);
		while (snmp_poller_cycles(p) < n * k && clock_mono_ms() < end)
			loop_once(l, 100);
		int64_t idle = k < cycles ? clock_mono_ms() + gap_ms : 0;
		while (clock_mono_ms() < idle)
			loop_once(l, 50);
	}
	int rc = 0;
	if (quiet_samples) {
		struct buf m;
		buf_init(&m, 1 << 20);
		snmp_poller_metrics_text(&m);
		fprintf(stderr, "samples %llu\nvarbinds %llu\n%s", (unsigned long long)nsamples,
		    (unsigned long long)nvarbinds, m.data ? m.data : "");
		buf_free(&m);
	}
	fprintf(stderr, "%-20s %-4s %s\n", "device", "up", "error");
	for (size_t i = 0; i < n; i++) {
		int up = 0;
		const char *e = "not polled";
		snmp_poller_status(p, i, &up, &e);
		fprintf(stderr, "%-20s %-4s %s\n", devs[i].name, up ? "yes" : "no", e);
		if (!up)
			rc = 1;
	}
	fflush(stdout);
	snmp_poller_free(p);
	loop_free(l);
	buf_free(&b);
	free(devs);
	return rc;
}
