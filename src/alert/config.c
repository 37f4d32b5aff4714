/*
 * config.c — the `rule_files:` and `alerting:` sections of vigil's config
 * (documented key by key in docs/ALERTING.md). Strict like the rest of the
 * config: unknown keys, wrong types and bad values are "FILE:LINE:COL: reason".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alert/alert.h"
#include "alert/notify_fmt.h"
#include "core/clock.h"
#include "core/xmalloc.h"
#include "tsdb/storage.h"

struct cparse {
	yaml_document_t *doc;	/* the parsed config */
	const char *name;	/* file name for messages */
	char *err;		/* error buffer */
	size_t errsz;		/* its size */
	int failed;		/* an error was written */
};

static int cerr(struct cparse *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int cerr(struct cparse *p, const yaml_node_t *n, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	char msg[ALERT_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%s:%lu:%lu: %s", p->name, n ? (unsigned long)n->start_mark.line + 1 : 1,
	    n ? (unsigned long)n->start_mark.column + 1 : 1, msg);
	p->failed = 1;
	return -1;
}

static yaml_node_t *nd(struct cparse *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

static const char *sc(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Check keys of mapping m against allowed; path names it in messages. */
static int keys(struct cparse *p, const yaml_node_t *m, const char *path, const char *const *allowed)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return cerr(p, m, "%s must be a map", path);
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		const yaml_node_t *k = nd(p, pr->key);
		const char *ks = sc(k);
		if (!ks)
			return cerr(p, k, "%s: keys must be strings", path);
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < pr; q++)
			if (sc(nd(p, q->key)) && strcmp(sc(nd(p, q->key)), ks) == 0)
				return cerr(p, k, "%s.%s: repeated key", path, ks);
		size_t i;
		for (i = 0; allowed && allowed[i]; i++)
			if (strcmp(allowed[i], ks) == 0)
				break;
		if (allowed && !allowed[i])
			return cerr(p, k, "%s: unknown key \"%s\"", path, ks);
	}
	return 0;
}

static yaml_node_t *get(struct cparse *p, const yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++)
		if (sc(nd(p, pr->key)) && strcmp(sc(nd(p, pr->key)), key) == 0)
			return nd(p, pr->value);
	return NULL;
}

/* A string value: NULL if absent; error if not a non-empty scalar. */
static int str(struct cparse *p, const yaml_node_t *m, const char *key, const char *path, char **out)
{
	yaml_node_t *v = get(p, m, key);
	if (!v)
		return 0;
	const char *s = sc(v);
	if (!s || !*s)
		return cerr(p, v, "%s.%s: expected a non-empty string", path, key);
	free(*out);
	*out = xstrdup(s);
	return 0;
}

static int dur(struct cparse *p, const yaml_node_t *m, const char *key, const char *path, int64_t *out)
{
	yaml_node_t *v = get(p, m, key);
	if (!v)
		return 0;
	const char *s = sc(v);
	if (!s || clock_parse_duration(s, out) < 0 || *out <= 0)
		return cerr(p, v, "%s.%s: expected a positive duration like 30s, 5m, 1h", path, key);
	return 0;
}

static int boolean(struct cparse *p, const yaml_node_t *m, const char *key, const char *path, int *out)
{
	yaml_node_t *v = get(p, m, key);
	if (!v)
		return 0;
	const char *s = sc(v);
	if (s && strcmp(s, "true") == 0)
		*out = 1;
	else if (s && strcmp(s, "false") == 0)
		*out = 0;
	else
		return cerr(p, v, "%s.%s: expected true or false", path, key);
	return 0;
}

/* http:// or https:// URL with a host; for email smtp:// or smtps://. */
static int check_url(struct cparse *p, const yaml_node_t *at, const char *u, int email)
{
	const char *schemes[] = { "http://", "https://", NULL, "smtp://", "smtps://", NULL };
	const char *const *s = email ? schemes + 3 : schemes;
	for (; *s; s++) {
		size_t l = strlen(*s);
		if (strncmp(u, *s, l) == 0 && u[l] && u[l] != '/' && u[l] != ':')
			return strpbrk(u, " \t\r\n") ? cerr(p, at, "URL \"%s\" contains white space", u) : 0;
	}
	return cerr(p, at, "\"%s\" is not an %s URL", u, email ? "smtp:// or smtps://" : "http:// or https://");
}

static struct receiver_config *new_receiver(struct alert_config *c, const yaml_node_t *at, struct cparse *p)
{
	if (c->nreceivers >= ALERT_MAX_RECEIVERS) {
		cerr(p, at, "more than %d receivers", ALERT_MAX_RECEIVERS);
		return NULL;
	}
	c->receivers = xreallocarray(c->receivers, c->nreceivers + 1, sizeof(*c->receivers));
	struct receiver_config *r = &c->receivers[c->nreceivers++];
	memset(r, 0, sizeof(*r));
	r->timeout_ms = 10000;
	r->repeat_interval_ms = 4 * 3600 * 1000LL;	/* Alertmanager's default */
	return r;
}

static int parse_alertmanagers(struct cparse *p, const yaml_node_t *seq, struct alert_config *c)
{
	static const char *const k[] = { "name", "url", "timeout", "ca_file", NULL };
	if (seq->type != YAML_SEQUENCE_NODE)
		return cerr(p, seq, "alerting.alertmanagers must be a list");
	int i = 0;
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++, i++) {
		yaml_node_t *m = nd(p, *it);
		if (keys(p, m, "alerting.alertmanagers[]", k) < 0)
			return -1;
		struct receiver_config *r = new_receiver(c, m, p);
		if (!r)
			return -1;
		r->kind = RECV_ALERTMANAGER;
		if (str(p, m, "name", "alertmanager", &r->name) < 0 || str(p, m, "url", "alertmanager", &r->url) < 0 ||
		    dur(p, m, "timeout", "alertmanager", &r->timeout_ms) < 0 ||
		    str(p, m, "ca_file", "alertmanager", &r->ca_file) < 0)
			return -1;
		if (!r->url)
			return cerr(p, m, "alerting.alertmanagers[%d]: url is required", i);
		if (check_url(p, get(p, m, "url"), r->url, 0) < 0)
			return -1;
		while (strlen(r->url) > 8 && r->url[strlen(r->url) - 1] == '/')
			r->url[strlen(r->url) - 1] = 0;
		if (!r->name)
			r->name = xasprintf("alertmanager-%d", i);
	}
	return 0;
}

static int parse_email(struct cparse *p, const yaml_node_t *m, struct receiver_config *r)
{
	static const char *const k[] = { "smarthost", "from", "to", "starttls", "username", "password_secret",
		"timeout", "ca_file", "repeat_interval", "escalate_after", NULL };
	if (keys(p, m, "email", k) < 0)
		return -1;
	r->kind = RECV_EMAIL;
	char *host = NULL;
	if (str(p, m, "smarthost", "email", &host) < 0 || str(p, m, "from", "email", &r->from) < 0 ||
	    boolean(p, m, "starttls", "email", &r->starttls) < 0 || str(p, m, "username", "email", &r->username) < 0 ||
	    str(p, m, "password_secret", "email", &r->password_secret) < 0 || dur(p, m, "timeout", "email", &r->timeout_ms) < 0 ||
	    str(p, m, "ca_file", "email", &r->ca_file) < 0 ||
	    dur(p, m, "repeat_interval", "email", &r->repeat_interval_ms) < 0 ||
	    dur(p, m, "escalate_after", "email", &r->escalate_after_ms) < 0) {
		free(host);
		return -1;
	}
	if (!host || !r->from) {
		free(host);
		return cerr(p, m, "email: smarthost and from are required");
	}
	r->url = strstr(host, "://") ? xstrdup(host) : xasprintf("smtp://%s", host);
	free(host);
	if (check_url(p, get(p, m, "smarthost"), r->url, 1) < 0)
		return -1;
	if (strpbrk(r->from, "\r\n<>"))
		return cerr(p, get(p, m, "from"), "email.from: a plain address like vigil@example.com");
	yaml_node_t *to = get(p, m, "to");
	if (!to)
		return cerr(p, m, "email: to is required");
	if (sc(to)) {
		r->to = xcalloc(1, sizeof(*r->to));
		r->to[r->nto++] = xstrdup(sc(to));
	} else if (to->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *it = to->data.sequence.items.start; it < to->data.sequence.items.top; it++) {
			const char *s = sc(nd(p, *it));
			if (!s || !*s || strpbrk(s, "\r\n<>"))
				return cerr(p, nd(p, *it), "email.to: plain addresses like ops@example.com");
			if (r->nto >= ALERT_MAX_EMAIL_TO)
				return cerr(p, to, "email.to: more than %d recipients", ALERT_MAX_EMAIL_TO);
			r->to = xreallocarray(r->to, r->nto + 1, sizeof(*r->to));
			r->to[r->nto++] = xstrdup(s);
		}
	} else {
		return cerr(p, to, "email.to must be an address or a list of addresses");
	}
	if (r->nto == 0)
		return cerr(p, to, "email.to: at least one recipient");
	if (r->password_secret && !r->username)
		return cerr(p, m, "email: password_secret needs username");
	return 0;
}

static int parse_receivers(struct cparse *p, const yaml_node_t *seq, struct alert_config *c)
{
	static const char *const k[] = { "name", "webhook", "email", NULL };
	static const char *const wk[] = { "url", "timeout", "bearer_token_secret", "ca_file", "repeat_interval",
		"escalate_after", NULL };
	if (seq->type != YAML_SEQUENCE_NODE)
		return cerr(p, seq, "alerting.receivers must be a list");
	for (yaml_node_item_t *it = seq->data.sequence.items.start; it < seq->data.sequence.items.top; it++) {
		yaml_node_t *m = nd(p, *it);
		if (keys(p, m, "alerting.receivers[]", k) < 0)
			return -1;
		struct receiver_config *r = new_receiver(c, m, p);
		if (!r || str(p, m, "name", "receiver", &r->name) < 0)
			return -1;
		if (!r->name)
			return cerr(p, m, "receiver: name is required");
		yaml_node_t *wh = get(p, m, "webhook"), *em = get(p, m, "email");
		if ((wh != NULL) == (em != NULL))
			return cerr(p, m, "receiver \"%s\": exactly one of webhook or email", r->name);
		if (wh) {
			r->kind = RECV_WEBHOOK;
			if (keys(p, wh, "webhook", wk) < 0 || str(p, wh, "url", "webhook", &r->url) < 0 ||
			    dur(p, wh, "timeout", "webhook", &r->timeout_ms) < 0 ||
			    str(p, wh, "bearer_token_secret", "webhook", &r->bearer_secret) < 0 ||
			    str(p, wh, "ca_file", "webhook", &r->ca_file) < 0 ||
			    dur(p, wh, "repeat_interval", "webhook", &r->repeat_interval_ms) < 0 ||
			    dur(p, wh, "escalate_after", "webhook", &r->escalate_after_ms) < 0)
				return -1;
			if (!r->url)
				return cerr(p, wh, "webhook: url is required");
			if (check_url(p, get(p, wh, "url"), r->url, 0) < 0)
				return -1;
		} else if (parse_email(p, em, r) < 0) {
			return -1;
		}
	}
	return 0;
}

static int hhmm(const char *s, int *min)
{
	int h, m, n = 0;
	if (!s || sscanf(s, "%2d:%2d%n", &h, &m, &n) != 2 || s[n] || h < 0 || h > 24 || m < 0 || m > 59 ||
	    (h == 24 && m != 0))
		return -1;
	*min = h * 60 + m;
	return 0;
}

static int parse_window(struct cparse *p, const yaml_node_t *m, struct maint_window *w)
{
	static const char *const k[] = { "name", "matchers", "start", "end", "weekly", NULL };
	static const char *const wk[] = { "days", "from", "to", NULL };
	static const char *const days[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };
	if (keys(p, m, "alerting.maintenance[]", k) < 0 || str(p, m, "name", "maintenance", &w->name) < 0)
		return -1;
	if (!w->name)
		return cerr(p, m, "maintenance: name is required");
	yaml_node_t *ms = get(p, m, "matchers");
	if (ms) {
		if (ms->type != YAML_SEQUENCE_NODE)
			return cerr(p, ms, "maintenance \"%s\": matchers must be a list like ['job=\"node\"']", w->name);
		size_t n = (size_t)(ms->data.sequence.items.top - ms->data.sequence.items.start);
		if (n > ALERT_MAX_MATCHERS)
			return cerr(p, ms, "maintenance \"%s\": more than %d matchers", w->name, ALERT_MAX_MATCHERS);
		w->m = xcalloc(n ? n : 1, sizeof(*w->m));
		for (yaml_node_item_t *it = ms->data.sequence.items.start; it < ms->data.sequence.items.top; it++) {
			char e[ALERT_ERR_MAX];
			const char *s = sc(nd(p, *it));
			if (!s || maint_parse_matcher(s, &w->m[w->nm], e, sizeof(e)) < 0)
				return cerr(p, nd(p, *it), "maintenance \"%s\": %s", w->name, s ? e : "matchers are strings");
			w->nm++;
		}
	}
	yaml_node_t *st = get(p, m, "start"), *en = get(p, m, "end"), *wy = get(p, m, "weekly");
	if (wy ? (st || en) : (!st || !en))
		return cerr(p, m, "maintenance \"%s\": either start and end, or weekly", w->name);
	if (!wy) {
		if (!sc(st) || notify_parse_time(sc(st), &w->start_ms) < 0)
			return cerr(p, st, "maintenance \"%s\": start must be an RFC 3339 time", w->name);
		if (!sc(en) || notify_parse_time(sc(en), &w->end_ms) < 0 || w->end_ms <= w->start_ms)
			return cerr(p, en, "maintenance \"%s\": end must be an RFC 3339 time after start", w->name);
		return 0;
	}
	if (keys(p, wy, "weekly", wk) < 0)
		return -1;
	yaml_node_t *dl = get(p, wy, "days");
	if (!dl || dl->type != YAML_SEQUENCE_NODE)
		return cerr(p, dl ? dl : wy, "maintenance \"%s\": weekly.days is a list like [sat, sun]", w->name);
	for (yaml_node_item_t *it = dl->data.sequence.items.start; it < dl->data.sequence.items.top; it++) {
		const char *s = sc(nd(p, *it));
		int d;
		for (d = 0; d < 7 && !(s && strcmp(s, days[d]) == 0); d++)
			;
		if (d == 7)
			return cerr(p, nd(p, *it), "maintenance \"%s\": days are sun, mon, tue, wed, thu, fri, sat", w->name);
		w->weekdays |= 1u << d;
	}
	if (!w->weekdays)
		return cerr(p, dl, "maintenance \"%s\": weekly.days is empty", w->name);
	yaml_node_t *fr = get(p, wy, "from"), *to = get(p, wy, "to");
	const yaml_node_t *bad = !fr ? wy : hhmm(sc(fr), &w->from_min) < 0 ? fr : !to ? wy :
	    hhmm(sc(to), &w->to_min) < 0 || w->from_min == w->to_min ? to : NULL;
	if (bad)
		return cerr(p, bad, "maintenance \"%s\": weekly.from and weekly.to are different "
		    "times like \"02:00\" (UTC)", w->name);
	return 0;
}

static int parse_alerting(struct cparse *p, const yaml_node_t *m, struct alert_config *c)
{
	static const char *const k[] = { "evaluation_interval", "resend_delay", "external_url", "external_labels",
		"alertmanagers", "receivers", "queue", "maintenance", NULL };
	static const char *const qk[] = { "max_age", "min_backoff", "max_backoff", "max_length", NULL };
	if (keys(p, m, "alerting", k) < 0 || dur(p, m, "evaluation_interval", "alerting", &c->evaluation_interval_ms) < 0 ||
	    dur(p, m, "resend_delay", "alerting", &c->resend_delay_ms) < 0 ||
	    str(p, m, "external_url", "alerting", &c->external_url) < 0)
		return -1;
	if (c->external_url && check_url(p, get(p, m, "external_url"), c->external_url, 0) < 0)
		return -1;
	yaml_node_t *el = get(p, m, "external_labels");
	if (el) {
		if (keys(p, el, "alerting.external_labels", NULL) < 0)
			return -1;
		struct labels_builder lb;
		lb_init(&lb);
		for (yaml_node_pair_t *pr = el->data.mapping.pairs.start; pr < el->data.mapping.pairs.top; pr++) {
			const char *ks = sc(nd(p, pr->key)), *vs = sc(nd(p, pr->value));
			if (!label_name_valid(ks) || strcmp(ks, "__name__") == 0 || !vs || !*vs) {
				lb_free(&lb);
				return cerr(p, nd(p, pr->key), "alerting.external_labels: \"%s\" needs a valid label name "
				    "and a non-empty string value", ks);
			}
			lb_set(&lb, ks, vs);
		}
		c->external_labels = lb_finish(&lb);
		lb_free(&lb);
	}
	yaml_node_t *v;
	if ((v = get(p, m, "alertmanagers")) && parse_alertmanagers(p, v, c) < 0)
		return -1;
	if ((v = get(p, m, "receivers")) && parse_receivers(p, v, c) < 0)
		return -1;
	for (size_t i = 0; i < c->nreceivers; i++)
		for (size_t j = 0; j < i; j++)
			if (strcmp(c->receivers[i].name, c->receivers[j].name) == 0)
				return cerr(p, m, "alerting: two receivers are called \"%s\"", c->receivers[i].name);
	if ((v = get(p, m, "maintenance"))) {
		if (v->type != YAML_SEQUENCE_NODE)
			return cerr(p, v, "alerting.maintenance must be a list");
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			if (c->nwindows >= ALERT_MAX_WINDOWS)
				return cerr(p, v, "alerting.maintenance: more than %d windows", ALERT_MAX_WINDOWS);
			c->windows = xreallocarray(c->windows, c->nwindows + 1, sizeof(*c->windows));
			memset(&c->windows[c->nwindows], 0, sizeof(*c->windows));
			c->nwindows++;
			if (parse_window(p, nd(p, *it), &c->windows[c->nwindows - 1]) < 0)
				return -1;
		}
	}
	if ((v = get(p, m, "queue"))) {
		if (keys(p, v, "alerting.queue", qk) < 0 || dur(p, v, "max_age", "queue", &c->queue_max_age_ms) < 0 ||
		    dur(p, v, "min_backoff", "queue", &c->queue_min_backoff_ms) < 0 ||
		    dur(p, v, "max_backoff", "queue", &c->queue_max_backoff_ms) < 0)
			return -1;
		yaml_node_t *ml = get(p, v, "max_length");
		if (ml) {
			char *end;
			const char *s = sc(ml);
			long long n = s ? strtoll(s, &end, 10) : 0;
			if (!s || *end || n < 1 || n > 100000000)
				return cerr(p, ml, "alerting.queue.max_length: a number from 1 to 100000000");
			c->queue_max_length = n;
		}
		if (c->queue_min_backoff_ms > c->queue_max_backoff_ms)
			return cerr(p, v, "alerting.queue: min_backoff is longer than max_backoff");
	}
	return 0;
}

static void defaults(struct alert_config *c)
{
	memset(c, 0, sizeof(*c));
	c->evaluation_interval_ms = 60000;
	c->resend_delay_ms = 60000;
	c->queue_max_age_ms = 24 * 3600 * 1000LL;
	c->queue_min_backoff_ms = 1000;
	c->queue_max_backoff_ms = 5 * 60 * 1000;
	c->queue_max_length = 100000;
}

int alert_config_parse(const char *name, const char *text, size_t len, struct alert_config *out,
    char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct cparse p = { .doc = &doc, .name = name, .err = err, .errsz = errsz };
	defaults(out);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%lu:%lu: %s", name, (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return -1;
	}
	int rc = 0;
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && root->type == YAML_MAPPING_NODE) {
		yaml_node_t *rf = get(&p, root, "rule_files");
		if (rf && sc(rf) && !*sc(rf))
			rf = NULL;
		if (rf && rf->type != YAML_SEQUENCE_NODE) {
			rc = cerr(&p, rf, "rule_files must be a list of paths");
		} else if (rf) {
			for (yaml_node_item_t *it = rf->data.sequence.items.start; it < rf->data.sequence.items.top; it++) {
				const char *s = sc(nd(&p, *it));
				if (!s || !*s) {
					rc = cerr(&p, nd(&p, *it), "rule_files: each entry is a path or glob");
					break;
				}
				if (out->nrule_files >= ALERT_MAX_RULE_FILES) {
					rc = cerr(&p, rf, "rule_files: more than %d entries", ALERT_MAX_RULE_FILES);
					break;
				}
				out->rule_files = xreallocarray(out->rule_files, out->nrule_files + 1, sizeof(char *));
				out->rule_files[out->nrule_files++] = xstrdup(s);
			}
		}
		yaml_node_t *al = get(&p, root, "alerting");
		if (rc == 0 && al)
			rc = parse_alerting(&p, al, out);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0)
		alert_config_free(out);
	return rc;
}

void alert_config_free(struct alert_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nrule_files; i++)
		free(c->rule_files[i]);
	free(c->rule_files);
	free(c->external_url);
	labels_free(c->external_labels);
	for (size_t i = 0; i < c->nreceivers; i++) {
		struct receiver_config *r = &c->receivers[i];
		free(r->name);
		free(r->url);
		free(r->from);
		for (size_t j = 0; j < r->nto; j++)
			free(r->to[j]);
		free(r->to);
		free(r->username);
		free(r->password_secret);
		if (r->password)
			explicit_bzero(r->password, strlen(r->password));
		free(r->password);
		free(r->bearer_secret);
		if (r->bearer)
			explicit_bzero(r->bearer, strlen(r->bearer));
		free(r->bearer);
		free(r->ca_file);
		free(r->resolve_pin);
	}
	free(c->receivers);
	for (size_t i = 0; i < c->nwindows; i++)
		maint_window_clear(&c->windows[i]);
	free(c->windows);
	memset(c, 0, sizeof(*c));
}
