/* poll.c — see poll.h. */
#include "snmp/poll.h"
#include "snmp/poll_int.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "snmp/client.h"
#include "snmp/profile.h"
#include "snmp/walk.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SYS_OIDS        4	/* sysDescr, sysObjectID, sysUpTime, sysName */
#define GET_CHUNK       32	/* OIDs per GET request */

static struct snmp_profiles g_profiles;	/* what every poller uses */
static int g_profiles_loaded;		/* g_profiles is set */

static struct snmp_poller *g_pollers;	/* live pollers */

struct tab_ctx {
	struct pdev *d;			/* device */
	struct ptable *t;		/* table */
	size_t ncols;			/* columns walked */
	size_t *col;			/* per walked column: metric index, or nmetrics + label index */
	const struct snmp_oid **roots;	/* the walked column OIDs (the profile's) */
};

static const char *const sys_oid_str[SYS_OIDS] = {
	"1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0",
};

int snmp_poller_load_profiles(const char *dir, char *err, size_t errsz)
{
	struct snmp_profiles ps;
	int rc = snmp_profiles_load_dir(dir, &ps, err, errsz);
	if (rc < 0)
		return rc;
	snmp_profiles_free(&g_profiles);
	g_profiles = ps;
	g_profiles_loaded = 1;
	return 0;
}

/* ---- profile selection ---- */

static int in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Drop the device's tables; emit: first send staleness markers for every
 * row they sent (profiles changed), not when the poller is being freed. */
static void clear_tables(struct pdev *d, int emit)
{
	for (size_t i = 0; i < d->ntables; i++) {
		struct ptable *t = &d->tables[i];
		snmp_poll_sweep_rows(d, t, 1, emit);
		hmap_free(&t->sent, NULL);
		snmp_poll_free_labelmap(&t->cache, t->pt->nlabels);
		snmp_poll_free_labelmap(&t->next, t->pt->nlabels);
		snmp_poll_free_rows(t);
		hmap_free(&t->cache, NULL);
		hmap_free(&t->next, NULL);
		hmap_free(&t->rows, NULL);
		free(t->from_label);
	}
	free(d->tables);
	d->tables = NULL;
	d->ntables = 0;
	for (size_t i = 0; i < d->nsc; i++)
		free(d->sc[i].s);
	free(d->sc);
	d->sc = NULL;
	d->nsc = 0;
	free(d->sel);
	d->sel = NULL;
	d->nsel = 0;
}

/* Choose the profiles for this device; return 1 if the choice changed. */
static int select_profiles(struct pdev *d, const struct snmp_oid *objid)
{
	const struct snmp_profile **sel = xcalloc(g_profiles.n ? g_profiles.n : 1, sizeof(*sel));
	size_t n = 0;
	for (size_t i = 0; i < g_profiles.n; i++) {
		const struct snmp_profile *pr = &g_profiles.v[i];
		if (in_list(d->exclude, d->nexclude, pr->name))
			continue;
		if (in_list(d->force, d->nforce, pr->name) ||
		    snmp_profile_matches(pr, objid, d->sysdescr))
			sel[n++] = pr;
	}
	if (d->selected && n == d->nsel && memcmp(sel, d->sel, n * sizeof(*sel)) == 0) {
		free(sel);
		return 0;	/* same as before: keep the label caches */
	}
	clear_tables(d, 1);
	d->sel = sel;
	d->nsel = n;
	d->selected = 1;
	d->sel_gen++;
	size_t nt = 0, ns = 0;
	for (size_t i = 0; i < n; i++) {
		nt += sel[i]->ntables;
		ns += sel[i]->nscalars;
	}
	d->tables = xcalloc(nt ? nt : 1, sizeof(*d->tables));
	d->sc = xcalloc(ns ? ns : 1, sizeof(*d->sc));
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < sel[i]->nscalars; j++)
			d->sc[d->nsc++].m = &sel[i]->scalars[j];
		for (size_t j = 0; j < sel[i]->ntables; j++) {
			struct ptable *t = &d->tables[d->ntables++];
			t->pt = &sel[i]->tables[j];
			hmap_init(&t->cache);
			hmap_init(&t->next);
			hmap_init(&t->rows);
			hmap_init(&t->sent);
			t->from_label = xcalloc(t->pt->nmetrics, sizeof(int));
			for (size_t k = 0; k < t->pt->nlabels; k++)
				t->nrowlabels += t->pt->labels[k].by_index < 0;
			for (size_t m = 0; m < t->pt->nmetrics; m++) {
				t->from_label[m] = -1;
				for (size_t k = 0; k < t->pt->nlabels; k++)
					if (t->pt->metrics[m].type == PROF_INFO &&
					    t->pt->labels[k].by_index < 0 &&
					    snmp_oid_cmp(&t->pt->metrics[m].oid, &t->pt->labels[k].oid) == 0)
						t->from_label[m] = (int)k;
			}
		}
	}
	char names[512];
	size_t at = 0;
	names[0] = '\0';
	for (size_t i = 0; i < n && at < sizeof(names); i++)
		at += (size_t)snprintf(names + at, sizeof(names) - at, "%s%s", i ? "," : "",
		    sel[i]->name);
	log_debug("snmp profiles selected", "device=%s profiles=%s", d->name, names);
	return 1;
}

/* ---- walks ---- */

static struct row *get_row(struct ptable *t, const char *ix, size_t il)
{
	struct row *r = hmap_get(&t->rows, ix, il);
	if (r || t->rows.len >= SNMP_POLL_ROWS_MAX)
		return r;
	/* One block per row (every device of a cycle holds its rows at once):
	 * the values, then the have flags; info only if an info column answers. */
	size_t n = t->pt->nmetrics;
	r = xcalloc(1, sizeof(*r) + n * sizeof(double) + n);
	r->v = (double *)(r + 1);
	r->have = (uint8_t *)(r->v + n);
	hmap_put(&t->rows, ix, il, r);
	return r;
}

static int on_tab_vb(void *ctx, size_t col, const struct snmp_varbind *vb)
{
	struct tab_ctx *tc = ctx;
	struct pdev *d = tc->d;
	struct ptable *t = tc->t;
	const struct snmp_oid *root = tc->roots[col];
	size_t which = tc->col[col];
	char ix[SNMP_OID_STR_MAX];
	struct snmp_oid suffix;
	if (d->p->closing)
		return 1;
	if (loop_now(d->p->loop) - d->start_mono > d->interval * 9 / 10) {
		/* A device that trickles out a huge table must not run into its next
		 * cycle: stop, keep what was read, say so. */
		if (!d->cut_short)
			snprintf(d->err, sizeof(d->err), "%s: poll cycle ran past 90%% of the "
			    "%lld ms interval; walks cut short", d->name, (long long)d->interval);
		d->cut_short = 1;
		return 1;
	}
	d->pdus++;
	suffix.n = vb->name.n - root->n;
	memcpy(suffix.v, vb->name.v + root->n, suffix.n * sizeof(uint32_t));
	snmp_oid_str(&suffix, ix, sizeof(ix));
	size_t il = strlen(ix);
	if (which >= t->pt->nmetrics) {
		size_t li = which - t->pt->nmetrics;
		const char *key = ix;
		if (t->pt->labels[li].by_index >= 0)
			key = snmp_poll_lookup_key(li, ix);	/* a lookup column: kept apart from the rows */
		size_t kl = strlen(key);
		char **lv = hmap_get(&t->next, key, kl);
		if (!lv) {
			if (t->next.len >= SNMP_POLL_ROWS_MAX)
				return 0;
			lv = xcalloc(t->pt->nlabels, sizeof(char *));
			hmap_put(&t->next, key, kl, lv);
		}
		free(lv[li]);
		lv[li] = snmp_poll_value_text(&vb->val);
		return 0;
	}
	struct row *r = get_row(t, ix, il);
	if (!r)
		return 0;
	const struct prof_metric *pm = &t->pt->metrics[which];
	if (pm->type == PROF_INFO) {
		if (!r->info)
			r->info = xcalloc(t->pt->nmetrics, sizeof(char *));
		free(r->info[which]);
		r->info[which] = snmp_poll_value_text(&vb->val);
	} else if (snmp_poll_value_number(&vb->val, &r->v[which]) == 0) {
		if (pm->unsigned32 && vb->val.type == BER_INTEGER && vb->val.i < 0 &&
		    vb->val.i >= INT32_MIN)
			r->v[which] += 4294967296.0;
		r->have[which] = 1;
	}
	return 0;
}

static void free_tab_ctx(struct tab_ctx *tc)
{
	free(tc->col);
	free(tc->roots);
	free(tc);
}

static void on_tab_done(void *ctx, int status, const char *err)
{
	struct tab_ctx *tc = ctx;
	struct pdev *d = tc->d;
	free_tab_ctx(tc);
	if (d->p->closing)
		return;
	if (status < 0 && err && *err)
		snprintf(d->err, sizeof(d->err), "%s", err);
	snmp_poll_op_done(d);
}

/* One walk for every column of a table this cycle needs. */
static void start_table_walk(struct pdev *d, struct ptable *t)
{
	const struct prof_table *pt = t->pt;
	size_t max = pt->nmetrics + pt->nlabels;
	struct tab_ctx *tc = xcalloc(1, sizeof(*tc));
	tc->d = d;
	tc->t = t;
	tc->col = xcalloc(max, sizeof(size_t));
	tc->roots = xcalloc(max, sizeof(*tc->roots));
	for (size_t m = 0; m < pt->nmetrics; m++)
		if (t->from_label[m] < 0) {
			tc->col[tc->ncols] = m;
			tc->roots[tc->ncols++] = &pt->metrics[m].oid;
		}
	for (size_t k = 0; t->relabel && k < pt->nlabels; k++) {
		tc->col[tc->ncols] = pt->nmetrics + k;
		tc->roots[tc->ncols++] = &pt->labels[k].oid;
	}
	if (tc->ncols == 0) {
		free_tab_ctx(tc);
		return;
	}
	/* snmp_walk_columns copies the OIDs it needs; this array is only for the call */
	struct snmp_oid *tmp = xcalloc(tc->ncols, sizeof(*tmp));
	for (size_t i = 0; i < tc->ncols; i++)
		tmp[i] = *tc->roots[i];
	d->outstanding++;
	int rc = snmp_walk_columns(d->t, tmp, tc->ncols, on_tab_vb, on_tab_done, tc);
	free(tmp);
	if (rc < 0) {
		free_tab_ctx(tc);
		d->outstanding--;
		snprintf(d->err, sizeof(d->err), "%s: too many requests queued", d->name);
	}
}

static void start_walks(struct pdev *d)
{
	for (size_t i = 0; i < d->ntables; i++) {
		struct ptable *t = &d->tables[i];
		t->relabel = t->pt->nlabels > 0 && (t->stale || t->cache.len == 0 ||
		    d->cycle % (uint64_t)d->label_refresh == 0);
		start_table_walk(d, t);
	}
}

/* ---- the GET of system group + scalars ---- */

struct get_ctx {
	struct pdev *d;			/* device */
	int with_sys;			/* the first SYS_OIDS varbinds are the system group */
	size_t from;			/* first scalar index this GET covered */
	uint64_t sel_gen;		/* d->sel_gen when sent: sc_idx is stale if it moved */
	size_t sc_idx[GET_CHUNK];	/* which scalar each further varbind is */
	size_t nsc;			/* scalars in this request */
};

static void on_get(void *ctx, int status, const struct snmp_pdu *resp);

/* Queue one GET: the system group if asked, then scalars from index from
 * until GET_CHUNK OIDs. Return the index after the last scalar taken. */
static size_t send_get(struct pdev *d, int with_sys, size_t from)
{
	struct snmp_oid oids[GET_CHUNK];
	struct get_ctx *g = xcalloc(1, sizeof(*g));
	size_t n = 0, i;
	g->d = d;
	g->with_sys = with_sys;
	g->from = from;
	g->sel_gen = d->sel_gen;
	if (with_sys)
		for (int k = 0; k < SYS_OIDS; k++)
			snmp_oid_parse(sys_oid_str[k], &oids[n++]);
	for (i = from; i < d->nsc && n < GET_CHUNK; i++) {
		if (d->sc[i].skip)
			continue;
		oids[n++] = d->sc[i].m->oid;
		g->sc_idx[g->nsc++] = i;
	}
	if (n == 0) {
		free(g);
		return i;
	}
	d->outstanding++;
	if (snmp_request(d->t, SNMP_PDU_GET, oids, n, 0, 0, on_get, g) < 0) {
		free(g);
		d->outstanding--;
	}
	return i;
}

/* Queue GETs for the system group (if with_sys) and, if with_scalars, every scalar. */
static void send_gets(struct pdev *d, int with_sys, int with_scalars)
{
	size_t from = with_scalars ? 0 : d->nsc;
	do {
		from = send_get(d, with_sys, from);
		with_sys = 0;
	} while (from < d->nsc);
}

static void set_str(char **dst, const struct snmp_value *v)
{
	free(*dst);
	*dst = snmp_poll_value_text(v);
	if (!*dst)
		*dst = xstrdup("");
}

static void take_system(struct pdev *d, const struct snmp_pdu *resp, struct snmp_oid *objid)
{
	objid->n = 0;
	set_str(&d->sysdescr, &resp->vb[0].val);
	set_str(&d->sysobjid, &resp->vb[1].val);
	set_str(&d->sysname, &resp->vb[3].val);
	snmp_value_oid(&resp->vb[1].val, objid);
	if (resp->vb[2].val.type == BER_TIMETICKS) {
		uint64_t up = resp->vb[2].val.u;
		/* sysUpTime wraps after 497 days: a drop from its last day to its
		 * first is a wrap, not a restart */
		int wrapped = d->uptime > 0xffffffffull - 8640000 && up < 8640000;
		if (d->have_uptime && up < d->uptime && !wrapped) {
			d->restarts++;
			log_info("snmp device restarted", "device=%s sysUpTime=%llu", d->name,
			    (unsigned long long)up);
		}
		d->uptime = up;
		d->have_uptime = 1;
	}
}

static void set_down(struct pdev *d, const char *why)
{
	if (d->up || !d->err[0] || strcmp(d->err, why) != 0) {
		char q[sizeof(d->err) * 2];
		log_warn("snmp device down", "device=%s reason=%s", d->name,
		    log_quote(q, sizeof(q), why));
	}
	snprintf(d->err, sizeof(d->err), "%s", why);
	d->up = 0;
}

static void on_get(void *ctx, int status, const struct snmp_pdu *resp)
{
	struct get_ctx *g = ctx;
	struct pdev *d = g->d;
	if (d->p->closing) {
		free(g);
		return;
	}
	if (status < 0) {
		if (g->with_sys)
			set_down(d, snmp_target_error(d->t));
		goto out;
	}
	if (resp->error_status == SNMP_ERR_NOSUCHNAME && resp->error_index > 0) {
		/* v1: one missing object fails the whole GET; drop it and ask again. */
		size_t bad = (size_t)resp->error_index - 1;
		if (g->with_sys && bad < SYS_OIDS) {
			set_down(d, "device lacks the SNMPv2-MIB system group");
			goto out;
		}
		bad -= g->with_sys ? SYS_OIDS : 0;
		if (bad < g->nsc && g->sel_gen == d->sel_gen) {
			d->sc[g->sc_idx[bad]].skip = 1;
			send_get(d, g->with_sys, g->from);
		}
		goto out;
	}
	if (resp->error_status != SNMP_ERR_NOERROR ||
	    resp->nvb != g->nsc + (g->with_sys ? SYS_OIDS : 0)) {
		char why[128];
		snprintf(why, sizeof(why), "%s: GET failed: %s", d->name,
		    snmp_err_name(resp->error_status));
		if (g->with_sys)
			set_down(d, why);
		goto out;
	}
	d->pdus += resp->nvb;
	if (g->sel_gen != d->sel_gen)
		g->nsc = 0;	/* the selection changed under this GET: its scalar slots are gone */
	size_t at = 0;
	if (g->with_sys) {
		struct snmp_oid objid;
		take_system(d, resp, &objid);
		if (!d->up && d->err[0])
			log_info("snmp device up again", "device=%s", d->name);
		d->up = 1;
		d->err[0] = '\0';
		at = SYS_OIDS;
		if ((!d->selected || d->cycle % (uint64_t)d->label_refresh == 0) &&
		    select_profiles(d, objid.n ? &objid : NULL)) {
			/* new selection: its scalars were not in this GET (and the old
			 * scalar slots this GET refers to are gone) */
			g->nsc = 0;
			send_gets(d, 0, 1);
		}
		start_walks(d);
	}
	for (size_t i = 0; i < g->nsc && at + i < resp->nvb; i++) {
		struct scalar *s = &d->sc[g->sc_idx[i]];
		const struct snmp_value *v = &resp->vb[at + i].val;
		if (s->m->type == PROF_INFO) {
			free(s->s);
			s->s = snmp_poll_value_text(v);
			s->have = s->s != NULL;
		} else {
			s->have = snmp_poll_value_number(v, &s->v) == 0;
			if (s->have && s->m->unsigned32 && v->type == BER_INTEGER && v->i < 0 &&
			    v->i >= INT32_MIN)
				s->v += 4294967296.0;
		}
	}
out:
	free(g);
	snmp_poll_op_done(d);
}

/* ---- scheduling ---- */

static void start_cycle(struct pdev *d)
{
	if (d->busy) {
		d->p->overruns++;
		return;
	}
	d->busy = 1;
	d->cut_short = 0;
	d->start_mono = clock_mono_ms();
	d->start_wall = clock_wall_ms();
	d->pdus = 0;
	d->outstanding = 1;	/* held until every request of the cycle is queued */
	for (size_t i = 0; i < d->nsc; i++)
		d->sc[i].have = 0;
	/* system group, plus the scalars of an earlier selection, in as few GETs as fit */
	send_gets(d, 1, 1);
	d->cycle++;
	snmp_poll_op_done(d);
}

static void due_up(struct snmp_poller *p, size_t i)
{
	while (i > 0 && p->due[i]->due < p->due[(i - 1) / 2]->due) {
		struct pdev *x = p->due[i];
		p->due[i] = p->due[(i - 1) / 2];
		p->due[(i - 1) / 2] = x;
		i = (i - 1) / 2;
	}
}

static void due_down(struct snmp_poller *p, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		if (l < p->ndue && p->due[l]->due < p->due[m]->due)
			m = l;
		if (l + 1 < p->ndue && p->due[l + 1]->due < p->due[m]->due)
			m = l + 1;
		if (m == i)
			return;
		struct pdev *x = p->due[i];
		p->due[i] = p->due[m];
		p->due[m] = x;
		i = m;
	}
}

static void on_due(struct loop *l, uint64_t id, void *ctx);

static void arm_due(struct snmp_poller *p)
{
	if (p->ndue == 0)
		return;
	int64_t now = loop_now(p->loop), at = p->due[0]->due;
	p->loop_timer = loop_add_timer(p->loop, at > now ? at - now : 0, on_due, p);
}

static void on_due(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	struct snmp_poller *p = ctx;
	int64_t now = loop_now(l);
	p->loop_timer = 0;
	while (p->ndue && p->due[0]->due <= now) {
		struct pdev *d = p->due[0];
		d->due += d->interval;
		if (d->due <= now)
			d->due = now + d->interval;	/* fell far behind: do not burst */
		due_down(p, 0);
		start_cycle(d);
	}
	arm_due(p);
}

static char **copy_strv(const char *const *v, size_t n)
{
	char **out = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		out[i] = xstrdup(v[i]);
	return out;
}

/* Password-to-key costs 1 MiB of hashing; fleets share a few credentials,
 * so each (protocol, password) is hashed once per poller. */
static const uint8_t *cached_ku(struct hmap *cache, enum usm_auth a, const char *pw)
{
	if (a == USM_AUTH_NONE || !pw || strlen(pw) < 8 || strlen(pw) > 1024)
		return NULL;
	char key[1100];
	int kl = snprintf(key, sizeof(key), "%d:%s", (int)a, pw);
	uint8_t *ku = hmap_get(cache, key, (size_t)kl);
	if (!ku) {
		ku = xcalloc(1, USM_KEY_MAX);
		if (usm_password_to_key(a, pw, strlen(pw), ku) < 0) {
			free(ku);
			return NULL;
		}
		hmap_put(cache, key, (size_t)kl, ku);
	}
	explicit_bzero(key, sizeof(key));
	return ku;
}

static void free_ku(void *p)
{
	explicit_bzero(p, USM_KEY_MAX);
	free(p);
}

static int init_dev(struct snmp_poller *p, struct pdev *d, const struct snmp_device_cfg *cfg,
    struct hmap *kucache)
{
	struct snmp_target_cfg tc;
	char err[256];
	memset(&tc, 0, sizeof(tc));
	d->p = p;
	d->name = xstrdup(cfg->name ? cfg->name : cfg->address ? cfg->address : "?");
	d->interval = cfg->interval_ms > 0 ? cfg->interval_ms : 60000;
	d->label_refresh = cfg->label_refresh > 0 ? cfg->label_refresh : 10;
	d->force = copy_strv(cfg->profiles, cfg->nprofiles);
	d->nforce = cfg->nprofiles;
	d->exclude = copy_strv(cfg->exclude, cfg->nexclude);
	d->nexclude = cfg->nexclude;
	d->ls = xmalloc(sizeof(struct labels) + SAMPLE_LABELS * sizeof(struct label));
	hmap_init(&d->series);
	if (!cfg->address || snmp_parse_addr(cfg->address, &tc.addr, &tc.addrlen) < 0) {
		snprintf(d->err, sizeof(d->err), "%s: bad address \"%s\" (numeric IP[:port])",
		    d->name, cfg->address ? cfg->address : "");
		return -EINVAL;
	}
	/* the address without its port: the inventory merges probes of it with this device */
	if (tc.addr.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&tc.addr)->sin_addr, d->addr, sizeof(d->addr));
	else
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&tc.addr)->sin6_addr, d->addr, sizeof(d->addr));
	if (cfg->port && !strchr(cfg->address, ']') && !(strchr(cfg->address, ':') &&
	    !strchr(strchr(cfg->address, ':') + 1, ':'))) {
		/* no port in the address string: use cfg->port */
		if (tc.addr.ss_family == AF_INET)
			((struct sockaddr_in *)&tc.addr)->sin_port = htons(cfg->port);
		else
			((struct sockaddr_in6 *)&tc.addr)->sin6_port = htons(cfg->port);
	}
	tc.name = d->name;
	tc.version = cfg->version;
	tc.community = cfg->community;
	tc.user = cfg->user;
	tc.auth = cfg->auth;
	tc.auth_pass = cfg->auth_pass;
	tc.priv = cfg->priv;
	tc.priv_pass = cfg->priv_pass;
	if (cfg->version == SNMP_V3) {
		tc.auth_ku = cached_ku(kucache, cfg->auth, cfg->auth_pass);
		if (cfg->priv != USM_PRIV_NONE)
			tc.priv_ku = cached_ku(kucache, cfg->auth, cfg->priv_pass);
	}
	tc.timeout_ms = cfg->timeout_ms;
	tc.retries = cfg->retries;
	tc.max_inflight = cfg->max_inflight;
	if (snmp_target_new(p->c, &tc, &d->t, err, sizeof(err)) < 0) {
		snprintf(d->err, sizeof(d->err), "%s", err);
		return -EINVAL;
	}
	return 0;
}

struct snmp_poller *snmp_poller_new(struct loop *l, const struct snmp_device_cfg *devs,
    size_t n, struct sample_sink sink)
{
	struct snmp_poller *p = xcalloc(1, sizeof(*p));
	char err[512];
	p->loop = l;
	p->sink = sink;
	p->c = snmp_client_new(l);
	usm_crypto_init();
	if (!g_profiles_loaded) {
		const char *dir = getenv("VIGIL_PROFILES_DIR");
		if (snmp_poller_load_profiles(dir ? dir : "profiles", err, sizeof(err)) < 0)
			log_error("snmp profiles not loaded: only health series will be sent",
			    "error=\"%s\"", err);
	}
	if (n > SNMP_POLL_DEVICES_MAX) {
		log_error("too many snmp devices", "n=%zu max=%d", n, SNMP_POLL_DEVICES_MAX);
		n = SNMP_POLL_DEVICES_MAX;
	}
	p->devs = xcalloc(n ? n : 1, sizeof(*p->devs));
	p->due = xcalloc(n ? n : 1, sizeof(*p->due));
	p->ndevs = n;
	struct hmap kucache;
	hmap_init(&kucache);
	for (size_t i = 0; i < n; i++) {
		struct pdev *d = &p->devs[i];
		if (init_dev(p, d, &devs[i], &kucache) < 0) {
			log_error("snmp device skipped", "reason=\"%s\"", d->err);
			continue;
		}
		/* Spread first polls over the interval so devices do not all fire at once. */
		int64_t off = (int64_t)(hmap_hash(d->name, strlen(d->name)) % (uint64_t)d->interval);
		d->due = loop_now(l) + off;
		p->due[p->ndue++] = d;
		due_up(p, p->ndue - 1);
	}
	hmap_free(&kucache, free_ku);
	arm_due(p);
	p->next = g_pollers;
	g_pollers = p;
	return p;
}

void snmp_poller_free(struct snmp_poller *p)
{
	if (!p)
		return;
	p->closing = 1;
	for (struct snmp_poller **pp = &g_pollers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	if (p->loop_timer)
		loop_del_timer(p->loop, p->loop_timer);
	snmp_client_free(p->c);	/* cancels every walk and request (callbacks see closing) */
	for (size_t i = 0; i < p->ndevs; i++) {
		struct pdev *d = &p->devs[i];
		clear_tables(d, 0);
		snmp_poll_free_strv(d->force, d->nforce);
		snmp_poll_free_strv(d->exclude, d->nexclude);
		free(d->name);
		free(d->sysdescr);
		free(d->sysname);
		free(d->sysobjid);
		free(d->ls);
		hmap_free(&d->series, snmp_poll_free_seen);
		free(d->order);
		free(d->next);
	}
	free(p->devs);
	free(p->due);
	free(p);
}

int snmp_poller_status(const struct snmp_poller *p, size_t i, int *up, const char **err)
{
	if (i >= p->ndevs)
		return -ENOENT;
	*up = p->devs[i].up;
	*err = p->devs[i].err;
	return 0;
}

void snmp_poller_poll_now(struct snmp_poller *p)
{
	for (size_t i = 0; i < p->ndevs; i++)
		if (p->devs[i].t)
			start_cycle(&p->devs[i]);
}

uint64_t snmp_poller_cycles(const struct snmp_poller *p)
{
	return p->cycles;
}

int snmp_poller_metrics_text(struct buf *out)
{
	struct snmp_client_stats s;
	uint64_t devices = 0, up = 0, cycles = 0, overruns = 0, samples = 0, sinkerr = 0, stale = 0;
	memset(&s, 0, sizeof(s));
	for (struct snmp_poller *p = g_pollers; p; p = p->next) {
		const struct snmp_client_stats *cs = snmp_client_stats(p->c);
		s.requests += cs->requests;
		s.sent += cs->sent;
		s.retries += cs->retries;
		s.timeouts += cs->timeouts;
		s.responses += cs->responses;
		s.dropped_unknown += cs->dropped_unknown;
		s.dropped_bad += cs->dropped_bad;
		s.auth_failures += cs->auth_failures;
		s.send_errors += cs->send_errors;
		s.v3_resyncs += cs->v3_resyncs;
		devices += p->ndevs;
		for (size_t i = 0; i < p->ndevs; i++) {
			up += p->devs[i].up;
			stale += p->devs[i].stale_sent;
		}
		cycles += p->cycles;
		overruns += p->overruns;
		samples += p->samples;
		sinkerr += p->sink_errors;
	}
	int rc = 0;
#define C(name, help, v) rc |= buf_printf(out, "# HELP " name " " help "\n# TYPE " name \
	" counter\n" name " %llu\n", (unsigned long long)(v))
#define G(name, help, v) rc |= buf_printf(out, "# HELP " name " " help "\n# TYPE " name \
	" gauge\n" name " %llu\n", (unsigned long long)(v))
	C("vigil_snmp_requests_total", "SNMP requests completed or failed.", s.requests);
	C("vigil_snmp_datagrams_sent_total", "SNMP datagrams sent, retries included.", s.sent);
	C("vigil_snmp_retries_total", "SNMP requests re-sent after a timeout.", s.retries);
	C("vigil_snmp_timeouts_total", "SNMP requests that got no reply after every retry.",
	    s.timeouts);
	C("vigil_snmp_responses_total", "SNMP replies matched to a request.", s.responses);
	rc |= buf_printf(out, "# HELP vigil_snmp_replies_dropped_total SNMP replies dropped.\n"
	    "# TYPE vigil_snmp_replies_dropped_total counter\n"
	    "vigil_snmp_replies_dropped_total{reason=\"unknown_request\"} %llu\n"
	    "vigil_snmp_replies_dropped_total{reason=\"bad\"} %llu\n",
	    (unsigned long long)s.dropped_unknown, (unsigned long long)s.dropped_bad);
	C("vigil_snmp_auth_failures_total", "SNMPv3 requests refused by a usmStats report.",
	    s.auth_failures);
	C("vigil_snmp_send_errors_total", "SNMP datagrams that could not be sent.", s.send_errors);
	C("vigil_snmp_v3_resyncs_total", "SNMPv3 requests re-sent after the agent's clock or "
	    "engine id changed.", s.v3_resyncs);
	C("vigil_snmp_poll_cycles_total", "Device poll cycles completed.", cycles);
	C("vigil_snmp_poll_overruns_total", "Poll ticks skipped because the last cycle still ran.",
	    overruns);
	C("vigil_snmp_samples_total", "Samples handed to the store.", samples);
	C("vigil_snmp_sink_errors_total", "Samples the sink refused.", sinkerr);
	C("vigil_snmp_stale_markers_total", "Staleness markers sent for series that went away.",
	    stale);
	G("vigil_snmp_devices", "SNMP devices configured.", devices);
	G("vigil_snmp_devices_up", "SNMP devices whose last poll worked.", up);
#undef C
#undef G
	return rc ? -E2BIG : 0;
}
