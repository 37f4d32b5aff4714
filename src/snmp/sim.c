/* sim.c — see sim.h. */
#include "snmp/sim.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "snmp/client.h"
#include "snmp/usm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SIM_LISTEN_MAX 16	/* --listen options */

static int parse_hex(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s);
	if (n % 2)
		return -EINVAL;
	uint8_t *p = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		int a = hex_digit(s[2 * i]), b = hex_digit(s[2 * i + 1]);
		if (a < 0 || b < 0) {
			free(p);
			return -EINVAL;
		}
		p[i] = (uint8_t)(a << 4 | b);
	}
	*out = p;
	*len = n / 2;
	return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v)
{
	char *end;
	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	unsigned long long x = strtoull(s, &end, 10);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

/* "rate=100,initial=5,deviation=10,cumulative=1" (snmpsim's numeric variation). */
static void parse_numeric(const char *s, struct sim_rec *r)
{
	const char *p = s;
	while (*p) {
		const char *eq = strchr(p, '=');
		if (!eq)
			break;
		double v = strtod(eq + 1, NULL);
		if (strncmp(p, "rate=", 5) == 0)
			r->rate = v;
		else if (strncmp(p, "initial=", 8) == 0)
			r->u = v > 0 ? (uint64_t)v : 0;
		const char *comma = strchr(eq, ',');
		if (!comma)
			break;
		p = comma + 1;
	}
}

static int parse_value(struct sim_rec *r, const char *tag, const char *val)
{
	char *end;
	long t = strtol(tag, &end, 10);
	int hex = 0;
	if (end == tag || t < 0 || t > 255)
		return -EINVAL;
	if (*end == 'x') {
		hex = 1;
		end++;
	}
	r->type = (uint8_t)t;
	if (*end == ':') {
		/* snmpsim variation modules: numeric grows, writecache holds a value. */
		if (strcmp(end + 1, "numeric") == 0) {
			parse_numeric(val, r);
			if (r->type == BER_INTEGER)
				r->i = (int64_t)r->u;
			return 0;
		}
		if (strcmp(end + 1, "writecache") == 0 && strncmp(val, "value=", 6) == 0)
			val += 6;
		else
			return -EINVAL;
	} else if (*end) {
		return -EINVAL;
	}
	if (hex && r->type != BER_OCTET_STRING && r->type != BER_OPAQUE &&
	    r->type != BER_IPADDRESS)
		return -EINVAL;
	switch (r->type) {
	case BER_INTEGER: {
		errno = 0;
		long long x = strtoll(val, &end, 10);
		if (errno || end == val || *end)
			return -EINVAL;
		r->i = x;
		return 0;
	}
	case BER_OCTET_STRING:
	case BER_OPAQUE:
		if (hex)
			return parse_hex(val, &r->s, &r->len);
		r->len = strlen(val);
		r->s = (uint8_t *)xstrndup(val, r->len);
		return 0;
	case BER_IPADDRESS:
		if (hex) {
			if (parse_hex(val, &r->s, &r->len) < 0 || r->len != 4)
				return -EINVAL;
			return 0;
		}
		r->s = xmalloc(4);
		r->len = 4;
		if (inet_pton(AF_INET, val, r->s) == 1)
			return 0;
		if (strlen(val) == 4) {
			memcpy(r->s, val, 4);	/* some recordings hold the 4 raw bytes */
			return 0;
		}
		return -EINVAL;
	case BER_OID: {
		struct snmp_oid o;
		struct ber_enc e;
		if (snmp_oid_parse(val, &o) < 0)
			return -EINVAL;
		ber_enc_init(&e, SNMP_OID_MAX * 5 + 8);
		ber_put_oid(&e, &o);
		if (e.err) {
			ber_enc_free(&e);
			return -EINVAL;
		}
		/* keep the contents only (skip the 2-byte tag + length header) */
		struct ber_rd rd;
		uint8_t tg;
		const uint8_t *v;
		size_t n;
		ber_rd_init(&rd, e.b.data, e.b.len);
		ber_read_tlv(&rd, &tg, &v, &n, NULL);
		r->s = xmalloc(n);
		memcpy(r->s, v, n);
		r->len = n;
		ber_enc_free(&e);
		return 0;
	}
	case BER_COUNTER32:
	case BER_GAUGE32:
	case BER_TIMETICKS:
		return parse_u64(val, UINT32_MAX, &r->u);
	case BER_COUNTER64:
		return parse_u64(val, UINT64_MAX, &r->u);
	case BER_NULL:
	case BER_NOSUCHOBJECT:
	case BER_NOSUCHINSTANCE:
	case BER_ENDOFMIBVIEW:
		return 0;
	default:
		return -EINVAL;
	}
}

static int rec_cmp_oid(const uint32_t *a, uint32_t an, const uint32_t *b, uint32_t bn)
{
	uint32_t n = an < bn ? an : bn;
	for (uint32_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return an < bn ? -1 : an > bn ? 1 : 0;
}

static int rec_cmp(const void *x, const void *y)
{
	const struct sim_rec *a = x, *b = y;
	return rec_cmp_oid(a->sub, a->n, b->sub, b->n);
}

static void rec_free(struct sim_rec *r)
{
	free(r->sub);
	free(r->s);
}

/* Default growth for --advance when the recording gives no rate. */
static double default_rate(const struct sim_rec *r)
{
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < r->n; i++)
		h = (h ^ r->sub[i]) * 1099511628211ull;
	switch (r->type) {
	case BER_COUNTER32:
	case BER_COUNTER64:
		return (double)(h % 100000);
	case BER_TIMETICKS:
		/* sysUpTime and hrSystemUptime tick at 100/s; other TimeTicks stay put. */
		return r->n == 9 && r->sub[6] == 1 && r->sub[7] == 3 ? 100 : 0;
	default:
		return 0;
	}
}

int sim_dev_load(const char *path, const char *name, struct sim_dev *d, char *err, size_t errsz)
{
	memset(d, 0, sizeof(*d));
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -errno;
	}
	char *line = xmalloc(SIM_LINE_MAX);
	size_t cap = 0, lineno = 0, bytes = 0, bad = 0;
	int rc = 0;
	while (fgets(line, (int)SIM_LINE_MAX, f)) {
		lineno++;
		size_t l = strlen(line);
		bytes += l;
		if (bytes > SIM_FILE_MAX) {
			snprintf(err, errsz, "%s:%zu: file larger than %u bytes", path, lineno,
			    SIM_FILE_MAX);
			rc = -E2BIG;
			goto fail;
		}
		if (l && line[l - 1] != '\n' && !feof(f)) {
			snprintf(err, errsz, "%s:%zu: line longer than %u bytes", path, lineno,
			    SIM_LINE_MAX);
			rc = -E2BIG;
			goto fail;
		}
		while (l && (line[l - 1] == '\n' || line[l - 1] == '\r'))
			line[--l] = '\0';
		if (l == 0 || line[0] == '#')
			continue;
		char *p1 = strchr(line, '|');
		char *p2 = p1 ? strchr(p1 + 1, '|') : NULL;
		if (!p2) {
			snprintf(err, errsz, "%s:%zu: want OID|TAG|VALUE", path, lineno);
			rc = -EINVAL;
			goto fail;
		}
		*p1 = *p2 = '\0';
		struct snmp_oid o;
		struct sim_rec r;
		memset(&r, 0, sizeof(r));
		if (snmp_oid_parse(line, &o) < 0 || o.n < 2) {
			snprintf(err, errsz, "%s:%zu: bad OID \"%.60s\"", path, lineno, line);
			rc = -EINVAL;
			goto fail;
		}
		if (parse_value(&r, p1 + 1, p2 + 1) < 0) {
			/* One odd line should not take the whole device away: skip it. */
			rec_free(&r);
			if (bad++ == 0)
				fprintf(stderr, "snmpsim: %s:%zu: bad value for tag %.20s, line skipped\n",
				    path, lineno, p1 + 1);
			continue;
		}
		r.sub = xcalloc(o.n, sizeof(uint32_t));
		memcpy(r.sub, o.v, o.n * sizeof(uint32_t));
		r.n = o.n;
		if (r.rate == 0)
			r.rate = default_rate(&r);
		if (d->n == cap) {
			cap = cap ? cap * 2 : 256;
			d->recs = xreallocarray(d->recs, cap, sizeof(*d->recs));
		}
		d->recs[d->n++] = r;
	}
	qsort(d->recs, d->n, sizeof(*d->recs), rec_cmp);
	/* Recordings sometimes repeat an OID: keep the first. */
	size_t w = 0;
	for (size_t i = 0; i < d->n; i++) {
		if (w && rec_cmp(&d->recs[w - 1], &d->recs[i]) == 0) {
			rec_free(&d->recs[i]);
			continue;
		}
		d->recs[w++] = d->recs[i];
	}
	d->n = w;
	d->name = xstrdup(name);
	free(line);
	fclose(f);
	return 0;
fail:
	free(line);
	fclose(f);
	sim_dev_free(d);
	return rc;
}

void sim_dev_free(struct sim_dev *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++)
		rec_free(&d->recs[i]);
	free(d->recs);
	free(d->name);
	memset(d, 0, sizeof(*d));
}

void sim_rec_value(const struct sim_rec *r, double elapsed_s, int advance, struct snmp_value *v)
{
	memset(v, 0, sizeof(*v));
	v->type = r->type;
	v->i = r->i;
	v->u = r->u;
	v->s = r->s;
	v->len = r->len;
	if (!advance || r->rate == 0)
		return;
	double grow = r->rate * elapsed_s;
	switch (r->type) {
	case BER_COUNTER32:
	case BER_TIMETICKS:
		v->u = (r->u + (uint64_t)grow) & 0xffffffffu;	/* wraps like the real thing */
		break;
	case BER_GAUGE32:
		v->u = r->u + (uint64_t)grow > UINT32_MAX ? UINT32_MAX : r->u + (uint64_t)grow;
		break;
	case BER_COUNTER64:
		v->u = r->u + (uint64_t)grow;
		break;
	default:
		break;
	}
}

/* Index of the first record > oid (strictly), or d->n. */
static size_t find_next(const struct sim_dev *d, const struct snmp_oid *o)
{
	size_t lo = 0, hi = d->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (rec_cmp_oid(d->recs[mid].sub, d->recs[mid].n, o->v, o->n) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void set_vb(struct snmp_varbind *vb, const struct sim_rec *r, double el, int adv)
{
	vb->name.n = r->n;
	memcpy(vb->name.v, r->sub, r->n * sizeof(uint32_t));
	sim_rec_value(r, el, adv, &vb->val);
}

/* GETNEXT on one OID: 1 with vb filled, 0 at the end of the MIB. */
static int next_of(const struct sim_dev *d, const struct snmp_oid *o, struct snmp_varbind *vb,
    double el, int adv)
{
	size_t i = find_next(d, o);
	if (i >= d->n) {
		vb->name = *o;
		memset(&vb->val, 0, sizeof(vb->val));
		vb->val.type = BER_ENDOFMIBVIEW;
		return 0;
	}
	set_vb(vb, &d->recs[i], el, adv);
	return 1;
}

void sim_answer(const struct sim_dev *d, int version, const struct snmp_pdu *req,
    double el, int adv, struct snmp_pdu *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->type = SNMP_PDU_RESPONSE;
	resp->request_id = req->request_id;
	size_t n = req->nvb;
	size_t nonrep = 0, reps = 0;
	if (req->type == SNMP_PDU_GETBULK) {
		nonrep = req->non_repeaters < 0 ? 0 : (size_t)req->non_repeaters;
		if (nonrep > n)
			nonrep = n;
		reps = req->max_repetitions < 0 ? 0 : (size_t)req->max_repetitions;
		if (n > nonrep && reps > SNMP_MAX_VARBINDS / (n - nonrep))
			reps = SNMP_MAX_VARBINDS / (n - nonrep);
		n = nonrep + (n - nonrep) * reps;
	}
	resp->vb = xcalloc(n ? n : 1, sizeof(*resp->vb));
	if (req->type == SNMP_PDU_GET || req->type == SNMP_PDU_GETNEXT) {
		for (size_t i = 0; i < req->nvb; i++) {
			struct snmp_varbind *vb = &resp->vb[i];
			const struct snmp_oid *o = &req->vb[i].name;
			int found;
			if (req->type == SNMP_PDU_GET) {
				size_t k = find_next(d, o);
				found = k > 0 && rec_cmp_oid(d->recs[k - 1].sub, d->recs[k - 1].n,
				    o->v, o->n) == 0;
				if (found)
					set_vb(vb, &d->recs[k - 1], el, adv);
				else {
					vb->name = *o;
					vb->val.type = BER_NOSUCHINSTANCE;
				}
			} else {
				found = next_of(d, o, vb, el, adv);
			}
			if (!found && version == SNMP_V1) {
				/* v1 has no exceptions: noSuchName with the request's varbinds */
				resp->error_status = SNMP_ERR_NOSUCHNAME;
				resp->error_index = (int32_t)i + 1;
				for (size_t j = 0; j < req->nvb; j++) {
					resp->vb[j].name = req->vb[j].name;
					memset(&resp->vb[j].val, 0, sizeof(resp->vb[j].val));
					resp->vb[j].val.type = BER_NULL;
				}
				resp->nvb = req->nvb;
				return;
			}
		}
		resp->nvb = req->nvb;
		return;
	}
	if (req->type != SNMP_PDU_GETBULK) {
		resp->error_status = SNMP_ERR_GENERR;
		resp->error_index = 0;
		resp->nvb = 0;
		return;
	}
	size_t at = 0;
	for (size_t i = 0; i < nonrep; i++)
		next_of(d, &req->vb[i].name, &resp->vb[at++], el, adv);
	size_t ncol = req->nvb - nonrep;
	for (size_t r = 0; r < reps; r++) {
		int any = 0;
		for (size_t c = 0; c < ncol; c++) {
			const struct snmp_oid *from = r == 0 ? &req->vb[nonrep + c].name :
			    &resp->vb[at - ncol].name;
			if (next_of(d, from, &resp->vb[at], el, adv))
				any = 1;
			at++;
		}
		if (!any)
			break;	/* every column at endOfMibView: stop repeating */
	}
	resp->nvb = at;
}

/* ---- the server ---- */

struct sim_server {
	struct sim_dev *devs;		/* every device, indexed via byname */
	size_t ndevs;			/* devices */
	struct hmap byname;		/* community -> struct sim_dev */
	int advance;			/* grow counters over time */
	int64_t start_ms;		/* monotonic start, for --advance */
	uint64_t served, dropped;	/* requests answered / ignored */
	struct ber_enc enc;		/* response encoder */
	uint8_t rbuf[SNMP_MSG_MAX + 1];	/* request buffer */
	/* --v3: every recording is also a v3 user of its own name, sharing these keys */
	int v3;				/* SNMPv3 is served */
	enum usm_auth auth;		/* users' auth protocol (NONE: noAuthNoPriv) */
	enum usm_priv priv;		/* users' privacy protocol */
	uint8_t kul[USM_KEY_MAX];	/* auth key localized to the simulator's engine */
	uint8_t pkey[USM_KEY_MAX];	/* privacy key localized (and extended) */
	uint64_t salt;			/* privacy salt for responses */
	uint32_t reports[7];		/* usmStats counters by report kind */
	uint8_t plain[SNMP_MSG_MAX];	/* decryption scratch */
};

/* The simulator's snmpEngineID: enterprise 8072 (net-snmp) text format "vigilsim". */
static const uint8_t sim_engine[] = { 0x80, 0x00, 0x1f, 0x88, 0x04,
	'v', 'i', 'g', 'i', 'l', 's', 'i', 'm' };

/* "SHA:authpass[:AES:privpass]" */
static int parse_v3(struct sim_server *s, const char *spec)
{
	char buf[512];
	char *f[4] = { NULL };
	int nf = 0;
	if (strlen(spec) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, spec, strlen(spec) + 1);
	for (char *p = buf; p && nf < 4; nf++) {
		f[nf] = p;
		p = strchr(p, ':');
		if (p)
			*p++ = '\0';
	}
	if ((nf != 2 && nf != 4) || usm_auth_parse(f[0], &s->auth) < 0 || s->auth == USM_AUTH_NONE ||
	    strlen(f[1]) < 8)
		return -EINVAL;
	uint8_t ku[USM_KEY_MAX], pku[USM_KEY_MAX], pkul[USM_KEY_MAX];
	size_t kl;
	usm_password_to_key(s->auth, f[1], strlen(f[1]), ku);
	usm_localize_key(s->auth, ku, sim_engine, sizeof(sim_engine), s->kul);
	s->priv = USM_PRIV_NONE;
	if (nf == 4) {
		if (usm_priv_parse(f[2], &s->priv) < 0 || s->priv == USM_PRIV_NONE || strlen(f[3]) < 8)
			return -EINVAL;
		usm_password_to_key(s->auth, f[3], strlen(f[3]), pku);
		usm_localize_key(s->auth, pku, sim_engine, sizeof(sim_engine), pkul);
		usm_priv_key(s->auth, s->priv, pkul, s->pkey, &kl);
	}
	s->v3 = 1;
	return 0;
}

static uint32_t sim_boots = 1;	/* snmpEngineBoots the simulator reports */

static uint32_t engine_time(const struct sim_server *s)
{
	return (uint32_t)((clock_mono_ms() - s->start_ms) / 1000);
}

static void send_enc(struct sim_server *s, int fd, const struct sockaddr_storage *from,
    socklen_t fl)
{
	if (sendto(fd, s->enc.b.data, s->enc.b.len, 0, (const struct sockaddr *)from, fl) >= 0)
		s->served++;
}

/* Answer a v3 request with a usmStats report (unauthenticated, as agents do). */
static void v3_report(struct sim_server *s, int fd, const struct usm_msg *m, int32_t reqid,
    enum usm_report kind, const struct sockaddr_storage *from, socklen_t fl)
{
	struct snmp_varbind vb;
	memset(&vb, 0, sizeof(vb));
	snmp_oid_parse("1.3.6.1.6.3.15.1.1.0.0", &vb.name);
	vb.name.v[9] = (uint32_t)kind;
	vb.val.type = BER_COUNTER32;
	vb.val.u = ++s->reports[kind];
	struct snmp_pdu r = { .type = SNMP_PDU_REPORT, .request_id = reqid, .vb = &vb, .nvb = 1 };
	struct usm_out o = { .msg_id = m->msg_id, .engine_id = sim_engine,
		.engine_id_len = sizeof(sim_engine), .boots = sim_boots, .time = engine_time(s),
		.context_engine_id = sim_engine, .context_engine_id_len = sizeof(sim_engine) };
	if (usm_msg_encode(&s->enc, &o, &r) == 0)
		send_enc(s, fd, from, fl);
}

static void serve_v3(struct sim_server *s, int fd, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from, socklen_t fl)
{
	struct usm_msg m;
	struct snmp_pdu req;
	if (!s->v3 || usm_msg_decode(p, n, &m) < 0) {
		s->dropped++;
		return;
	}
	if (m.engine_id_len != sizeof(sim_engine) ||
	    memcmp(m.engine_id, sim_engine, sizeof(sim_engine)) != 0) {
		/* discovery: the request is plaintext, so its request-id can be echoed */
		int32_t id = 0;
		if (!(m.flags & USM_FLAG_PRIV) && usm_msg_open(&m, USM_PRIV_NONE, NULL, s->plain, &req) == 0) {
			id = req.request_id;
			snmp_pdu_free(&req);
		}
		v3_report(s, fd, &m, id, USM_REPORT_UNKNOWN_ENGINE_ID, from, fl);
		return;
	}
	const struct sim_dev *d = hmap_get(&s->byname, m.user, m.user_len);
	if (!d) {
		v3_report(s, fd, &m, 0, USM_REPORT_UNKNOWN_USER, from, fl);
		return;
	}
	int want_auth = s->auth != USM_AUTH_NONE, want_priv = s->priv != USM_PRIV_NONE;
	if (((m.flags & USM_FLAG_AUTH) != 0) != want_auth || ((m.flags & USM_FLAG_PRIV) != 0) != want_priv) {
		v3_report(s, fd, &m, 0, USM_REPORT_UNSUPPORTED_SECLEVEL, from, fl);
		return;
	}
	if (want_auth && usm_msg_verify(&m, p, n, s->auth, s->kul) != 0) {
		v3_report(s, fd, &m, 0, USM_REPORT_WRONG_DIGEST, from, fl);
		return;
	}
	if (usm_msg_open(&m, s->priv, s->pkey, s->plain, &req) < 0) {
		v3_report(s, fd, &m, 0, USM_REPORT_DECRYPTION_ERROR, from, fl);
		return;
	}
	if (req.type != SNMP_PDU_GET && req.type != SNMP_PDU_GETNEXT && req.type != SNMP_PDU_GETBULK) {
		snmp_pdu_free(&req);
		s->dropped++;
		return;
	}
	double el = (double)(clock_mono_ms() - s->start_ms) / 1000.0;
	struct snmp_pdu resp;
	sim_answer(d, SNMP_V3, &req, el, s->advance, &resp);
	char user[USM_USER_MAX + 1];
	memcpy(user, m.user, m.user_len);
	user[m.user_len] = '\0';
	struct usm_out o = { .msg_id = m.msg_id, .flags = m.flags & (USM_FLAG_AUTH | USM_FLAG_PRIV),
		.engine_id = sim_engine, .engine_id_len = sizeof(sim_engine), .boots = sim_boots,
		.time = engine_time(s), .user = user, .auth = s->auth, .auth_key = s->kul,
		.priv = s->priv, .priv_key = s->pkey, .salt = ++s->salt,
		.context_engine_id = sim_engine, .context_engine_id_len = sizeof(sim_engine) };
	for (;;) {
		int rc = usm_msg_encode(&s->enc, &o, &resp);
		if (rc == 0 && s->enc.b.len <= SIM_RESPONSE_MAX)
			break;
		if (req.type == SNMP_PDU_GETBULK && resp.nvb > 1) {
			resp.nvb /= 2;
			continue;
		}
		resp.error_status = SNMP_ERR_TOOBIG;
		resp.error_index = 0;
		resp.nvb = 0;
	}
	send_enc(s, fd, from, fl);
	snmp_pdu_free(&resp);
	snmp_pdu_free(&req);
}

static void serve_one(struct sim_server *s, int fd, const uint8_t *p, size_t n,
    const struct sockaddr_storage *from, socklen_t fl)
{
	struct snmp_msg m;
	if (snmp_msg_version(p, n) == SNMP_V3) {
		serve_v3(s, fd, p, n, from, fl);
		return;
	}
	if (snmp_msg_decode(p, n, &m) < 0) {
		s->dropped++;
		return;
	}
	const struct sim_dev *d = hmap_get(&s->byname, m.community, m.community_len);
	if (!d || (m.pdu.type != SNMP_PDU_GET && m.pdu.type != SNMP_PDU_GETNEXT &&
	    m.pdu.type != SNMP_PDU_GETBULK)) {
		s->dropped++;	/* agents stay silent on a wrong community */
		snmp_pdu_free(&m.pdu);
		return;
	}
	double el = (double)(clock_mono_ms() - s->start_ms) / 1000.0;
	struct snmp_pdu resp;
	sim_answer(d, m.version, &m.pdu, el, s->advance, &resp);
	for (;;) {
		snmp_msg_encode(&s->enc, m.version, m.community, m.community_len, &resp);
		if (s->enc.err == 0 && s->enc.b.len <= SIM_RESPONSE_MAX)
			break;
		if (m.pdu.type == SNMP_PDU_GETBULK && resp.nvb > 1) {
			resp.nvb = resp.nvb / 2;	/* GETBULK may return fewer */
			continue;
		}
		resp.error_status = SNMP_ERR_TOOBIG;
		resp.error_index = 0;
		resp.nvb = 0;
	}
	if (sendto(fd, s->enc.b.data, s->enc.b.len, 0, (const struct sockaddr *)from, fl) >= 0)
		s->served++;
	snmp_pdu_free(&resp);
	snmp_pdu_free(&m.pdu);
}

static void on_request(struct loop *l, int fd, unsigned events, void *ctx)
{
	(void)l;
	(void)events;
	struct sim_server *s = ctx;
	for (int i = 0; i < 256; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, s->rbuf, sizeof(s->rbuf), MSG_TRUNC,
		    (struct sockaddr *)&from, &fl);
		if (n < 0)
			return;
		if ((size_t)n > SNMP_MSG_MAX) {
			s->dropped++;
			continue;
		}
		serve_one(s, fd, s->rbuf, (size_t)n, &from, fl);
	}
}

static int is_loopback(const struct sockaddr_storage *a)
{
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)a;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	const struct sockaddr_in6 *s6 = (const void *)a;
	return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
}

static int load_dir(struct sim_server *s, const char *dir)
{
	DIR *dp = opendir(dir);
	if (!dp) {
		fprintf(stderr, "snmpsim: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	struct dirent *de;
	size_t cap = 0;
	while ((de = readdir(dp))) {
		size_t l = strlen(de->d_name);
		if (l <= 8 || strcmp(de->d_name + l - 8, ".snmprec") != 0)
			continue;
		if (s->ndevs >= SIM_DEVICES_MAX) {
			fprintf(stderr, "snmpsim: more than %d recordings\n", SIM_DEVICES_MAX);
			break;
		}
		char path[4096], name[256], err[512];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path) ||
		    l - 8 >= sizeof(name))
			continue;
		memcpy(name, de->d_name, l - 8);
		name[l - 8] = '\0';
		if (hmap_get(&s->byname, name, strlen(name))) {
			fprintf(stderr, "snmpsim: %s: community \"%s\" already served, skipped\n",
			    path, name);
			continue;
		}
		if (s->ndevs == cap) {
			cap = cap ? cap * 2 : 64;
			s->devs = xreallocarray(s->devs, cap, sizeof(*s->devs));
		}
		if (sim_dev_load(path, name, &s->devs[s->ndevs], err, sizeof(err)) < 0) {
			fprintf(stderr, "snmpsim: skipped %s\n", err);
			continue;
		}
		s->ndevs++;
	}
	closedir(dp);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vigil snmpsim DIR... [--listen ADDR:PORT]... [--advance] [--quiet]\n"
	    "       [--v3 AUTH:PASSWORD[:PRIV:PASSWORD]]\n"
	    "  serves DIR/NAME.snmprec with v1/v2c community NAME, and with --v3 as SNMPv3\n"
	    "  user NAME with those protocols and passwords (loopback only;\n"
	    "  default --listen 127.0.0.1:1161)\n");
}

int snmpsim_main(int argc, char **argv)
{
	const char *listen[SIM_LISTEN_MAX];
	const char *dirs[64];
	int nlisten = 0, ndirs = 0, quiet = 0, rc = 1;
	struct sim_server *s = xcalloc(1, sizeof(*s));
	hmap_init(&s->byname);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc && nlisten < SIM_LISTEN_MAX)
			listen[nlisten++] = argv[++i];
		else if (strcmp(argv[i], "--advance") == 0)
			s->advance = 1;
		else if (strcmp(argv[i], "--v3") == 0 && i + 1 < argc) {
			if (parse_v3(s, argv[++i]) < 0) {
				fprintf(stderr, "snmpsim: --v3 wants AUTH:PASSWORD[:PRIV:PASSWORD] "
				    "(e.g. SHA:authpass1:AES:privpass1, passwords of 8+ characters)\n");
				goto out;
			}
		}
		else if (strcmp(argv[i], "--quiet") == 0)
			quiet = 1;
		else if (argv[i][0] != '-' && ndirs < 64)
			dirs[ndirs++] = argv[i];
		else {
			usage();
			goto out;
		}
	}
	if (ndirs == 0) {
		usage();
		goto out;
	}
	if (nlisten == 0)
		listen[nlisten++] = "127.0.0.1:1161";
	for (int i = 0; i < ndirs; i++)
		if (load_dir(s, dirs[i]) < 0)
			goto out;
	size_t nrec = 0;
	for (size_t i = 0; i < s->ndevs; i++) {
		hmap_put(&s->byname, s->devs[i].name, strlen(s->devs[i].name), &s->devs[i]);
		nrec += s->devs[i].n;
	}
	if (s->ndevs == 0) {
		fprintf(stderr, "snmpsim: no .snmprec files found\n");
		goto out;
	}
	struct loop *l = loop_new();
	int fds[SIM_LISTEN_MAX];
	int nfds = 0;
	for (int i = 0; i < nlisten; i++) {
		struct sockaddr_storage a;
		socklen_t al;
		if (snmp_parse_addr(listen[i], &a, &al) < 0 || !is_loopback(&a)) {
			fprintf(stderr, "snmpsim: --listen %s: want a loopback ADDR:PORT\n", listen[i]);
			goto close;
		}
		int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int sz = 4 << 20;
		if (fd >= 0)
			(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, al) < 0) {
			fprintf(stderr, "snmpsim: cannot listen on %s: %s\n", listen[i], strerror(errno));
			if (fd >= 0)
				close(fd);
			goto close;
		}
		fds[nfds++] = fd;
		loop_add_fd(l, fd, LOOP_READ, on_request, s);
		if (!quiet) {
			/* Print the port the kernel chose for ":0", so tests need no port guessing. */
			char host[INET6_ADDRSTRLEN];
			struct sockaddr_storage b;
			socklen_t bl = sizeof(b);
			getsockname(fd, (struct sockaddr *)&b, &bl);
			if (b.ss_family == AF_INET6) {
				const struct sockaddr_in6 *b6 = (const void *)&b;
				inet_ntop(AF_INET6, &b6->sin6_addr, host, sizeof(host));
				fprintf(stderr, "snmpsim: serving %zu devices (%zu records) on [%s]:%u\n",
				    s->ndevs, nrec, host, ntohs(b6->sin6_port));
			} else {
				const struct sockaddr_in *b4 = (const void *)&b;
				inet_ntop(AF_INET, &b4->sin_addr, host, sizeof(host));
				fprintf(stderr, "snmpsim: serving %zu devices (%zu records) on %s:%u\n",
				    s->ndevs, nrec, host, ntohs(b4->sin_port));
			}
			fflush(stderr);
		}
	}
	ber_enc_init(&s->enc, SNMP_MSG_MAX);
	s->start_ms = clock_mono_ms();
	rc = loop_run(l) < 0 ? 1 : 0;
close:
	for (int i = 0; i < nfds; i++) {
		loop_del_fd(l, fds[i]);
		close(fds[i]);
	}
	loop_free(l);
out:
	for (size_t i = 0; i < s->ndevs; i++)
		sim_dev_free(&s->devs[i]);
	free(s->devs);
	hmap_free(&s->byname, NULL);
	ber_enc_free(&s->enc);
	free(s);
	return rc;
}
