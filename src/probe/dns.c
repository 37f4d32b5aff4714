/* dns.c — the DNS codec (see dns.h) and the DNS probe over UDP. */
#include "probe/dns.h"
#include "probe/probe_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

static const struct {
	const char *name;	/* mnemonic */
	uint16_t type;		/* value */
} dns_types[] = {
	{ "A", DNS_T_A }, { "NS", DNS_T_NS }, { "CNAME", DNS_T_CNAME }, { "SOA", DNS_T_SOA },
	{ "PTR", DNS_T_PTR }, { "MX", DNS_T_MX }, { "TXT", DNS_T_TXT }, { "AAAA", DNS_T_AAAA },
};

int dns_type_parse(const char *s, uint16_t *out)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (strcasecmp(s, dns_types[i].name) == 0) {
			*out = dns_types[i].type;
			return 0;
		}
	return -EINVAL;
}

const char *dns_type_name(uint16_t type)
{
	for (size_t i = 0; i < sizeof(dns_types) / sizeof(dns_types[0]); i++)
		if (dns_types[i].type == type)
			return dns_types[i].name;
	return NULL;
}

int dns_build_query(uint16_t id, const char *name, uint16_t qtype, int rd, uint8_t *out,
    size_t outsz, size_t *len)
{
	uint8_t wire[DNS_NAME_MAX + 1];
	size_t w = 0, lab = 0, lablen = 0;
	*len = 0;
	if (*name == '\0')
		return -EINVAL;
	if (strcmp(name, ".") != 0) {
		for (const char *s = name; *s; s++) {
			int c = (unsigned char)*s;
			if (c == '.') {
				if (lablen == 0)
					return s[1] == '\0' && s != name ? 0 : -EINVAL;
				wire[lab] = (uint8_t)lablen;
				lablen = 0;
				continue;
			}
			if (c == '\\') {
				if (isdigit((unsigned char)s[1]) && isdigit((unsigned char)s[2]) &&
				    isdigit((unsigned char)s[3])) {
					c = (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
					if (c > 255)
						return -EINVAL;
					s += 3;
				} else if (s[1]) {
					c = (unsigned char)*++s;
				} else {
					return -EINVAL;
				}
			}
			if (lablen == 0) {
				lab = w++;
				if (w >= sizeof(wire))
					return -EINVAL;
			}
			if (++lablen > 63 || w + 1 >= sizeof(wire))
				return -EINVAL;
			wire[w++] = (uint8_t)c;
		}
		if (lablen)
			wire[lab] = (uint8_t)lablen;
	}
	wire[w++] = 0;
	if (w > DNS_NAME_MAX)
		return -EINVAL;
	size_t need = 12 + w + 4;
	if (need > outsz)
		return -E2BIG;
	memset(out, 0, 12);
	out[0] = (uint8_t)(id >> 8);
	out[1] = (uint8_t)id;
	out[2] = rd ? 0x01 : 0x00;
	out[5] = 1;	/* qdcount */
	memcpy(out + 12, wire, w);
	out[12 + w] = (uint8_t)(qtype >> 8);
	out[13 + w] = (uint8_t)qtype;
	out[14 + w] = 0;
	out[15 + w] = 1;	/* class IN */
	*len = need;
	return 0;
}

/* Reading state over the whole message (names point anywhere before). */
struct dmsg {
	const uint8_t *p;	/* message start */
	size_t n;		/* message length */
	size_t off;		/* read position */
};

static int get_u16(struct dmsg *m, uint16_t *v)
{
	if (m->n - m->off < 2)
		return -1;
	*v = (uint16_t)(m->p[m->off] << 8 | m->p[m->off + 1]);
	m->off += 2;
	return 0;
}

static int get_u32(struct dmsg *m, uint32_t *v)
{
	uint16_t a, b;
	if (get_u16(m, &a) < 0 || get_u16(m, &b) < 0)
		return -1;
	*v = (uint32_t)a << 16 | b;
	return 0;
}

/* Append a character of a label as presentation text. */
static int text_label_char(struct buf *b, uint8_t c)
{
	if (c == '.' || c == '\\' || c == '"' || c == ';' || c == '(' || c == ')')
		return buf_addc(b, '\\') | buf_addc(b, (char)c);
	if (c <= 0x20 || c >= 0x7f)
		return buf_printf(b, "\\%03u", c);
	return buf_addc(b, (char)c);
}

/*
 * Read a possibly compressed name at *off (within [0, end)), appending its
 * text to b; advance *off past the name as it sits in place. Pointers must
 * point strictly before the label that holds them, and at most
 * DNS_MAX_POINTERS are followed, so no message can loop.
 */
static int read_name(const struct dmsg *m, size_t *off, size_t end, struct buf *b)
{
	size_t pos = *off, wire = 0;
	int jumped = 0, jumps = 0;
	for (;;) {
		if (pos >= end)
			return -1;
		uint8_t len = m->p[pos];
		if ((len & 0xc0) == 0xc0) {
			if (pos + 1 >= end)
				return -1;
			size_t target = (size_t)(len & 0x3f) << 8 | m->p[pos + 1];
			if (target >= pos || ++jumps > DNS_MAX_POINTERS)
				return -1;
			if (!jumped)
				*off = pos + 2;
			jumped = 1;
			pos = target;
			continue;
		}
		if (len & 0xc0)
			return -1;	/* 0x40 / 0x80: extended label types, not allowed */
		wire += (size_t)len + 1;
		if (wire > DNS_NAME_MAX)
			return -1;
		if (len == 0) {
			if (!jumped)
				*off = pos + 1;
			if (b->len == 0 && buf_addc(b, '.') < 0)
				return -1;
			return 0;
		}
		if (pos + 1 + len > end)
			return -1;
		for (size_t i = 0; i < len; i++)
			if (text_label_char(b, m->p[pos + 1 + i]) < 0)
				return -1;
		if (buf_addc(b, '.') < 0)
			return -1;
		pos += 1 + (size_t)len;
	}
}

static int rdata_text(const struct dmsg *m, uint16_t type, size_t off, size_t rdlen,
    struct buf *b)
{
	size_t end = off + rdlen, o = off;
	const uint8_t *d = m->p + off;
	char a[INET6_ADDRSTRLEN];
	switch (type) {
	case DNS_T_A:
		if (rdlen != 4)
			return -1;
		inet_ntop(AF_INET, d, a, sizeof(a));
		return buf_adds(b, a);
	case DNS_T_AAAA:
		if (rdlen != 16)
			return -1;
		inet_ntop(AF_INET6, d, a, sizeof(a));
		return buf_adds(b, a);
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		if (read_name(m, &o, end, b) < 0 || o != end)
			return -1;
		return 0;
	case DNS_T_MX: {
		if (rdlen < 3)
			return -1;
		if (buf_printf(b, "%u ", (unsigned)(d[0] << 8 | d[1])) < 0)
			return -1;
		o += 2;
		if (read_name(m, &o, end, b) < 0 || o != end)
			return -1;
		return 0;
	}
	case DNS_T_SOA: {
		if (read_name(m, &o, end, b) < 0 || buf_addc(b, ' ') < 0 ||
		    read_name(m, &o, end, b) < 0 || o > end || end - o != 20)
			return -1;
		struct dmsg mm = *m;
		mm.off = o;
		uint32_t v[5];
		for (int i = 0; i < 5; i++)
			get_u32(&mm, &v[i]);
		return buf_printf(b, " %u %u %u %u %u", v[0], v[1], v[2], v[3], v[4]);
	}
	case DNS_T_TXT:
		while (o < end) {
			size_t sl = m->p[o++];
			if (o + sl > end)
				return -1;
			if (o - 1 > off && buf_addc(b, ' ') < 0)
				return -1;
			if (buf_addc(b, '"') < 0)
				return -1;
			for (size_t i = 0; i < sl; i++) {
				uint8_t c = m->p[o + i];
				int rc = (c == '"' || c == '\\') ? (buf_addc(b, '\\') | buf_addc(b, (char)c)) :
				    (c < 0x20 || c >= 0x7f) ? buf_printf(b, "\\%03u", c) : buf_addc(b, (char)c);
				if (rc < 0)
					return -1;
			}
			if (buf_addc(b, '"') < 0)
				return -1;
			o += sl;
		}
		return rdlen == 0 ? -1 : 0;
	default:
		if (buf_printf(b, "\\# %zu ", rdlen) < 0)
			return -1;
		for (size_t i = 0; i < rdlen; i++)
			if (buf_printf(b, "%02x", d[i]) < 0)
				return -1;
		return 0;
	}
}

/* Walk one RR; when text is not NULL render it there. */
static int read_rr(struct dmsg *m, struct dns_rr_text *text, uint32_t *serial, int *has_serial)
{
	struct buf name;
	buf_init(&name, DNS_NAME_TEXT);
	uint16_t type, cls, rdlen;
	uint32_t ttl;
	int rc = -1;
	if (read_name(m, &m->off, m->n, &name) < 0 || get_u16(m, &type) < 0 ||
	    get_u16(m, &cls) < 0 || get_u32(m, &ttl) < 0 || get_u16(m, &rdlen) < 0 ||
	    m->n - m->off < rdlen)
		goto out;
	size_t rd_off = m->off;
	struct buf rdt;
	/* Big enough for any well-formed rdata as text (\DDD is 4 bytes per
	 * byte; two names at most), so a failure here means malformed. */
	buf_init(&rdt, 4 * (size_t)rdlen + 2 * DNS_NAME_TEXT + 64);
	if (rdata_text(m, type, rd_off, rdlen, &rdt) < 0) {
		buf_free(&rdt);
		goto out;
	}
	if (type == DNS_T_SOA && serial && rdlen >= 20) {
		const uint8_t *s = m->p + rd_off + rdlen - 20;
		*serial = (uint32_t)s[0] << 24 | (uint32_t)s[1] << 16 | (uint32_t)s[2] << 8 | s[3];
		*has_serial = 1;
	}
	if (text) {
		text->type = type;
		const char *tn = dns_type_name(type);
		char tb[16];
		if (!tn) {
			snprintf(tb, sizeof(tb), "TYPE%u", type);
			tn = tb;
		}
		snprintf(text->text, sizeof(text->text), "%s\t%u\t%s\t%s\t%s", name.data, ttl,
		    cls == 1 ? "IN" : "CLASS", tn, rdt.data ? rdt.data : "");
	}
	buf_free(&rdt);
	m->off = rd_off + rdlen;
	rc = 0;
out:
	buf_free(&name);
	return rc;
}

int dns_parse_reply(const uint8_t *p, size_t n, struct dns_reply *out)
{
	memset(out, 0, sizeof(*out));
	struct dmsg m = { p, n, 0 };
	uint16_t id, flags, qd, an, ns, ar;
	if (get_u16(&m, &id) < 0 || get_u16(&m, &flags) < 0 || get_u16(&m, &qd) < 0 ||
	    get_u16(&m, &an) < 0 || get_u16(&m, &ns) < 0 || get_u16(&m, &ar) < 0)
		return -EBADMSG;
	out->id = id;
	out->qr = flags >> 15;
	out->opcode = (flags >> 11) & 0xf;
	out->tc = (flags >> 9) & 1;
	out->rcode = flags & 0xf;
	out->qdcount = qd;
	out->ancount = an;
	out->nscount = ns;
	out->arcount = ar;
	if (qd > 1)
		return -EBADMSG;	/* nobody sends more than one question */
	if (qd == 1) {
		struct buf qn;
		buf_init(&qn, DNS_NAME_TEXT);
		if (read_name(&m, &m.off, n, &qn) < 0 || get_u16(&m, &out->qtype) < 0 ||
		    get_u16(&m, &out->qclass) < 0) {
			buf_free(&qn);
			return -EBADMSG;
		}
		snprintf(out->qname, sizeof(out->qname), "%s", qn.data);
		buf_free(&qn);
	}
	/* Each RR needs at least 11 bytes: reject impossible counts up front. */
	if ((size_t)an + ns + ar > (n - m.off) / 11)
		goto bad;
	size_t keep = an < DNS_MAX_RRS ? an : DNS_MAX_RRS;
	out->an = keep ? xcalloc(keep, sizeof(*out->an)) : NULL;
	for (unsigned i = 0; i < an; i++) {
		if (read_rr(&m, i < keep ? &out->an[i] : NULL, &out->serial, &out->has_serial) < 0)
			goto bad;
		if (i < keep)
			out->nan++;
	}
	for (unsigned i = 0; i < (unsigned)ns + ar; i++)
		if (read_rr(&m, NULL, NULL, NULL) < 0)
			goto bad;
	if (m.off != n)
		goto bad;	/* trailing bytes */
	return 0;
bad:
	dns_reply_free(out);
	return -EBADMSG;
}

void dns_reply_free(struct dns_reply *r)
{
	if (!r)
		return;
	free(r->an);
	r->an = NULL;
	r->nan = 0;
}

int dns_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

/* ---- the probe ---- */

#define DNS_TCP_IN (2 + 65535)	/* a TCP reply with its length prefix */

struct dns_run {
	struct probe_run *r;	/* engine's run */
	int fd;			/* connected UDP or TCP socket */
	int tcp;		/* 1: fd is TCP (configured, or after a truncated UDP reply) */
	int connected;		/* TCP: connect finished */
	uint16_t id;		/* query id */
	int64_t sent_ns;	/* when the query left (TCP: when the connection was up) */
	char qname[DNS_NAME_TEXT];	/* what we asked, as text */
	uint16_t qtype;		/* and its type */
	uint8_t q[2 + 512];	/* TCP length prefix + the query */
	size_t qlen;		/* query bytes (without the prefix) */
	size_t qsent;		/* TCP: bytes of prefix + query written */
	uint8_t *in;		/* TCP: length prefix + reply being read (DNS_TCP_IN bytes) */
	size_t inlen;		/* TCP: bytes of in filled */
};

static void dns_close_fd(struct dns_run *d)
{
	if (d->fd >= 0) {
		loop_del_fd(d->r->loop, d->fd);
		close(d->fd);
		d->fd = -1;
	}
}

static void dns_close(struct dns_run *d)
{
	dns_close_fd(d);
	free(d->in);
	d->r->kstate = NULL;
	free(d);
}

static void dns_end(struct dns_run *d, int ok, const char *reason)
{
	struct probe_run *r = d->r;
	if (!ok)
		probe_run_fail(r, reason);
	dns_close(d);
	probe_run_finish(r, ok);
}

static void dns_timeout(struct probe_run *r)
{
	dns_close(r->kstate);
	probe_run_finish(r, 0);
}

static int dns_start_tcp(struct dns_run *d);

/* Check one reply against our query. Return 1 when it was ours and the run
 * has ended (or moved to TCP), 0 when it was dropped. */
static int dns_handle(struct dns_run *d, const uint8_t *p, size_t n)
{
	struct probe_run *r = d->r;
	const struct probe_dns_opts *o = &r->tgt->cfg->dns;
	struct dns_reply rep;
	if (dns_parse_reply(p, n, &rep) < 0) {
		probe_ctr.dns_malformed++;
		return 0;
	}
	if (rep.id != d->id || !rep.qr || rep.qdcount != 1 || rep.qtype != d->qtype ||
	    rep.qclass != 1 || !dns_name_equal(rep.qname, d->qname)) {
		probe_ctr.dns_mismatched++;
		dns_reply_free(&rep);
		return 0;
	}
	if (rep.tc && !d->tcp) {
		/* Truncated: ask again over TCP, as resolvers do. */
		dns_reply_free(&rep);
		if (dns_start_tcp(d) < 0)
			dns_end(d, 0, "connect");
		return 1;
	}
	struct probe_out *out = &r->out;
	double took = (double)(clock_mono_ns() - d->sent_ns) / 1e9;
	int fam = r->tgt->addr.ss_family;
	pout_add(out, "probe_ip_protocol", fam == AF_INET ? 4 : 6, NULL);
	pout_add(out, "probe_dns_duration_seconds", r->tgt->resolve_s, "phase", "resolve", NULL);
	pout_add(out, "probe_dns_duration_seconds", (double)(d->sent_ns - r->start_ns) / 1e9,
	    "phase", "connect", NULL);
	pout_add(out, "probe_dns_duration_seconds", took, "phase", "request", NULL);
	pout_add(out, "probe_dns_query_succeeded", 1, NULL);
	pout_add(out, "probe_dns_rcode", rep.rcode, NULL);
	pout_add(out, "probe_dns_answer_rrs", rep.ancount, NULL);
	pout_add(out, "probe_dns_authority_rrs", rep.nscount, NULL);
	pout_add(out, "probe_dns_additional_rrs", rep.arcount, NULL);
	pout_add(out, "probe_dns_tcp", d->tcp, NULL);
	if (rep.has_serial)
		pout_add(out, "probe_dns_serial", rep.serial, NULL);
	int ok = rep.rcode == o->rcode;
	const char *why = ok ? NULL : "rcode";
	if (ok && o->answer_regex) {
		int hit = 0;
		for (size_t i = 0; i < rep.nan && !hit; i++)
			hit = probe_regex_match(o->answer_regex, rep.an[i].text,
			    strlen(rep.an[i].text)) == 1;
		if (!hit) {
			ok = 0;
			why = "regex";
		}
		pout_add(out, "probe_failed_due_to_regex", hit ? 0 : 1, NULL);
	}
	dns_reply_free(&rep);
	dns_end(d, ok, why);
	return 1;
}

static void dns_udp_read(struct dns_run *d)
{
	for (int i = 0; i < 64; i++) {
		uint8_t buf[DNS_MSG_MAX];
		ssize_t n = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			dns_end(d, 0, "recv");	/* ICMP port unreachable: a clear failure */
			return;
		}
		if ((size_t)n > sizeof(buf)) {
			probe_ctr.dns_malformed++;
			continue;
		}
		if (dns_handle(d, buf, (size_t)n))
			return;
	}
}

/* TCP: write the rest of the query, or read the reply. A bad reply ends the
 * run (a stream cannot be resynchronised). */
static void dns_tcp_io(struct dns_run *d)
{
	if (!d->connected) {
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			dns_end(d, 0, "connect");
			return;
		}
		d->connected = 1;
		d->sent_ns = clock_mono_ns();
	}
	if (d->qsent < d->qlen + 2) {
		ssize_t w = send(d->fd, d->q + d->qsent, d->qlen + 2 - d->qsent, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno != EAGAIN && errno != EINTR)
				dns_end(d, 0, "send");
			return;
		}
		d->qsent += (size_t)w;
		if (d->qsent == d->qlen + 2)
			loop_mod_fd(d->r->loop, d->fd, LOOP_READ);
		return;
	}
	size_t want = d->inlen < 2 ? 2 : 2 + (size_t)(d->in[0] << 8 | d->in[1]);
	ssize_t n = recv(d->fd, d->in + d->inlen, want - d->inlen, MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		dns_end(d, 0, "recv");
		return;
	}
	d->inlen += (size_t)n;
	if (d->inlen == 2 && (d->in[0] << 8 | d->in[1]) < 12) {
		probe_ctr.dns_malformed++;
		dns_end(d, 0, "malformed");
		return;
	}
	want = 2 + (size_t)(d->in[0] << 8 | d->in[1]);
	if (d->inlen < 2 || d->inlen < want)
		return;
	if (!dns_handle(d, d->in + 2, d->inlen - 2))
		dns_end(d, 0, "malformed");
}

static void dns_on_io(struct loop *l, int fd, unsigned ev, void *ctx)
{
	struct dns_run *d = ctx;
	(void)l;
	(void)fd;
	(void)ev;
	if (d->tcp)
		dns_tcp_io(d);
	else
		dns_udp_read(d);
}

static int dns_start_tcp(struct dns_run *d)
{
	struct probe_target *t = d->r->tgt;
	dns_close_fd(d);
	d->tcp = 1;
	d->fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0)
		return -errno;
	if (egress_connect(d->fd, (const struct sockaddr *)&t->addr, t->addrlen, IPPROTO_TCP) < 0 &&
	    errno != EINPROGRESS) {
		int err = errno;
		if (err == EACCES)
			probe_run_fail(d->r, "egress");
		return -err;
	}
	if (!d->in)
		d->in = xmalloc(DNS_TCP_IN);	/* only TCP runs pay for a 64 KiB reply */
	d->q[0] = (uint8_t)(d->qlen >> 8);
	d->q[1] = (uint8_t)d->qlen;
	d->qsent = 0;
	d->inlen = 0;
	loop_add_fd(d->r->loop, d->fd, LOOP_WRITE, dns_on_io, d);
	return 0;
}

int probe_dns_start(struct probe_run *r)
{
	struct probe_target *t = r->tgt;
	const struct probe_dns_opts *o = &t->cfg->dns;
	struct dns_run *d = xcalloc(1, sizeof(*d));
	d->r = r;
	d->fd = -1;
	d->qtype = o->qtype ? o->qtype : DNS_T_A;
	if (getrandom(&d->id, sizeof(d->id), 0) != (ssize_t)sizeof(d->id))
		d->id = (uint16_t)clock_mono_ns();
	snprintf(d->qname, sizeof(d->qname), "%s", o->query_name);
	if (dns_build_query(d->id, o->query_name, d->qtype, !o->no_recursion, d->q + 2,
	    sizeof(d->q) - 2, &d->qlen) < 0) {
		free(d);
		return -EINVAL;
	}
	r->kstate = d;
	r->on_timeout = dns_timeout;
	d->sent_ns = clock_mono_ns();
	if (o->tcp) {
		int rc = dns_start_tcp(d);
		if (rc < 0) {
			probe_run_fail(r, "connect");
			dns_close(d);
		}
		return rc;
	}
	d->fd = socket(t->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int err = d->fd < 0 ? errno : 0;
	if (!err && egress_connect(d->fd, (const struct sockaddr *)&t->addr, t->addrlen, IPPROTO_UDP) < 0) {
		err = errno;
		probe_run_fail(r, err == EACCES ? "egress" : "connect");
	}
	if (!err && send(d->fd, d->q + 2, d->qlen, 0) != (ssize_t)d->qlen) {
		err = errno ? errno : EIO;
		probe_run_fail(r, "send");
	}
	if (err) {
		dns_close(d);
		return -err;
	}
	loop_add_fd(r->loop, d->fd, LOOP_READ, dns_on_io, d);
	return 0;
}
