/*
 * template_query.c — the template functions that run PromQL, as Prometheus
 * defines them (template/template.go):
 *
 *   query "EXPR"       the instant vector EXPR gives at the alert's
 *                      evaluation time (a scalar is one sample, no labels)
 *   first R            R's first sample (an error if R is empty)
 *   label "NAME" S     S's label NAME ("" if absent)
 *   value S            S's value
 *   strvalue S         S's label "__value__" (what a string result carries)
 *   sortByLabel "N" R  R sorted by label N's value (stable)
 *
 * and the helpers pathPrefix / externalURL / stripPort / stripDomain /
 * parseDuration / graphLink / tableLink, the fields of a sample
 * ({{ .Labels.x }}, {{ .Value }} inside range/with) and how Go's template
 * prints a sample ({map[k:v] 1}: the pointer is followed). The query
 * itself goes through template_data.query, which the rule engine sets to
 * the same PromQL callback the rule's expr ran through.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/template_int.h"
#include "core/clock.h"
#include "core/xmalloc.h"

static int want(struct texec *x, const struct val *v, enum vkind k, const char *go)
{
	if (v->k == k)
		return 0;
	return template_xerr(x, "wrong type for value; expected %s; got %s", go, template_type_name(v));
}

static const char *sample_label(const struct alert_sample *s, const char *name)
{
	const char *v = s->ls ? labels_get(s->ls, name) : NULL;
	return v ? v : "";
}

static int run_query(struct texec *x, const char *expr, struct val *out)
{
	if (!x->d->query)
		return template_xerr(x, "error calling query: no query engine here");
	if (x->nvecs >= TEMPLATE_MAX_QUERIES)
		return template_xerr(x, "error calling query: more than %d queries in one template",
		    TEMPLATE_MAX_QUERIES);
	x->vecs = xreallocarray(x->vecs, x->nvecs + 1, sizeof(*x->vecs));
	struct alert_vector *vec = &x->vecs[x->nvecs++];
	memset(vec, 0, sizeof(*vec));
	char err[ALERT_ERR_MAX] = "";
	if (x->d->query(x->d->query_ctx, expr, x->d->ts_ms, vec, err, sizeof(err)) < 0)
		return template_xerr(x, "error calling query: %s", err[0] ? err : "query failed");
	out->k = V_VEC;
	out->smp = vec->v;	/* the element array does not move when vecs grows */
	out->nsmp = vec->n;
	return 0;
}

/* Stable sort by one label's value, in place and returned, as Prometheus's
 * sortByLabel does (so a later `first` of the same result sees the order). */
static int sort_by_label(const char *name, const struct val *r, struct val *out)
{
	struct alert_sample *v = r->smp;
	for (size_t i = 1; i < r->nsmp; i++) {
		struct alert_sample cur = v[i];
		size_t j = i;
		while (j > 0 && strcmp(sample_label(&v[j - 1], name), sample_label(&cur, name)) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = cur;
	}
	*out = *r;
	return 0;
}

/* The path of the external URL (url.URL.Path): after scheme://host, before ?/#. */
static const char *url_path(struct texec *x, const char *u)
{
	const char *h = strstr(u, "://");
	const char *p = h ? strchr(h + 3, '/') : NULL;
	if (!p)
		return "";
	size_t n = strcspn(p, "?#");
	return template_keep(x, xstrndup(p, n));
}

/* Go's net.SplitHostPort: 0 with host [*h, *h + *hl) and port after *pp,
 * or -1 where Go returns an error (no port, too many colons, stray brackets). */
static int split_host_port(const char *s, const char **h, size_t *hl, const char **pp)
{
	const char *i = strrchr(s, ':');
	size_t j = 0, k = 0;
	if (!i)
		return -1;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');
		if (!end || end + 1 != i)
			return -1;
		*h = s + 1;
		*hl = (size_t)(end - s - 1);
		j = 1;
		k = (size_t)(end - s) + 1;
	} else {
		*h = s;
		*hl = (size_t)(i - s);
		if (memchr(s, ':', *hl))
			return -1;
	}
	if (strchr(s + j, '[') || strchr(s + k, ']'))
		return -1;
	*pp = i + 1;
	return 0;
}

/* stripPort: the host, or the input when Go cannot split it. */
static const char *strip_port(struct texec *x, const char *s)
{
	const char *h, *port;
	size_t hl;
	if (split_host_port(s, &h, &hl, &port) < 0)
		return s;
	return template_keep(x, xstrndup(h, hl));
}

/* stripDomain: the first label of a host name, port kept; IP addresses unchanged. */
static const char *strip_domain(struct texec *x, const char *s)
{
	const char *h = s, *port = "";
	size_t hl = strlen(s);
	if (split_host_port(s, &h, &hl, &port) < 0) {
		h = s;
		hl = strlen(s);
		port = "";
	}
	char *host = xstrndup(h, hl);
	unsigned char ip[16];
	if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
		free(host);
		return s;
	}
	host[strcspn(host, ".")] = 0;
	if (!*port)
		return template_keep(x, host);
	/* net.JoinHostPort brackets a host with a colon */
	char *r = xasprintf(strchr(host, ':') ? "[%s]:%s" : "%s:%s", host, port);
	free(host);
	return template_keep(x, r);
}

/* graphLink / tableLink: "/graph?g0.expr=" + Go's url.QueryEscape(expr) + "&g0.tab=0|1". */
static const char *expr_link(struct texec *x, const char *expr, int tab)
{
	struct buf b;
	buf_init(&b, TEMPLATE_MAX_OUTPUT);
	int rc = buf_adds(&b, "/graph?g0.expr=");
	for (const unsigned char *p = (const unsigned char *)expr; *p && rc == 0; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    *p == '-' || *p == '_' || *p == '.' || *p == '~')
			rc = buf_addc(&b, (char)*p);
		else if (*p == ' ')
			rc = buf_addc(&b, '+');
		else
			rc = buf_printf(&b, "%%%02X", *p);
	}
	if (rc == 0)
		rc = buf_printf(&b, "&g0.tab=%d", tab);
	if (rc < 0) {
		buf_free(&b);
		return NULL;
	}
	return template_keep(x, buf_detach(&b, NULL));
}

/* parseDuration: Prometheus's duration ("1h30m", "500ms") in seconds. */
static int parse_duration(struct texec *x, const char *s, struct val *out)
{
	int64_t ms;
	if (!*s)
		return template_xerr(x, "error calling parseDuration: empty duration string");
	if (clock_parse_duration(s, &ms) < 0)
		return template_xerr(x, "error calling parseDuration: not a valid duration string: \"%.64s\"", s);
	out->k = V_NUM;
	out->num = (double)ms / 1000.0;
	return 0;
}

int template_query_call(struct texec *x, enum fn fn, const struct val *a, size_t n, struct val *out)
{
	(void)n;
	memset(out, 0, sizeof(*out));
	switch (fn) {
	case FN_QUERY:
		if (want(x, &a[0], V_STR, "string") < 0)
			return -1;
		return run_query(x, a[0].s, out);
	case FN_FIRST:
		if (want(x, &a[0], V_VEC, "template.queryResult") < 0)
			return -1;
		if (a[0].nsmp == 0)
			return template_xerr(x, "error calling first: first() called on vector with no elements");
		out->k = V_SAMPLE;
		out->smp = &a[0].smp[0];
		return 0;
	case FN_LABEL:
		if (want(x, &a[0], V_STR, "string") < 0 || want(x, &a[1], V_SAMPLE, "*template.sample") < 0)
			return -1;
		out->k = V_STR;
		out->s = sample_label(a[1].smp, a[0].s);
		return 0;
	case FN_VALUE:
		if (want(x, &a[0], V_SAMPLE, "*template.sample") < 0)
			return -1;
		out->k = V_NUM;
		out->num = a[0].smp->v;
		return 0;
	case FN_STRVALUE:
		if (want(x, &a[0], V_SAMPLE, "*template.sample") < 0)
			return -1;
		out->k = V_STR;
		out->s = sample_label(a[0].smp, "__value__");
		return 0;
	case FN_SORTBYLABEL:
		if (want(x, &a[0], V_STR, "string") < 0 || want(x, &a[1], V_VEC, "template.queryResult") < 0)
			return -1;
		return sort_by_label(a[0].s, &a[1], out);
	case FN_PATHPREFIX: case FN_EXTERNALURL:
		out->k = V_STR;
		out->s = x->d->external_url ? x->d->external_url : "";
		if (fn == FN_PATHPREFIX)
			out->s = url_path(x, out->s);
		return 0;
	case FN_STRIPPORT: case FN_STRIPDOMAIN:
		if (want(x, &a[0], V_STR, "string") < 0)
			return -1;
		out->k = V_STR;
		out->s = fn == FN_STRIPPORT ? strip_port(x, a[0].s) : strip_domain(x, a[0].s);
		return 0;
	case FN_GRAPHLINK: case FN_TABLELINK:
		if (want(x, &a[0], V_STR, "string") < 0)
			return -1;
		out->k = V_STR;
		out->s = expr_link(x, a[0].s, fn == FN_TABLELINK);
		return out->s ? 0 : template_xerr(x, "link longer than %u bytes", TEMPLATE_MAX_OUTPUT);
	case FN_PARSEDURATION:
		if (want(x, &a[0], V_STR, "string") < 0)
			return -1;
		return parse_duration(x, a[0].s, out);
	default:
		return template_xerr(x, "internal: bad function");
	}
}

int template_field(struct texec *x, const struct val *v, const char *name, struct val *out)
{
	memset(out, 0, sizeof(*out));
	int labels = strcmp(name, "Labels") == 0, value = strcmp(name, "Value") == 0;
	switch (v->k) {
	case V_SAMPLE:
		if (labels) {
			out->k = V_MAP;
			out->map = v->smp->ls;
			return 0;
		}
		if (value) {
			out->k = V_NUM;
			out->num = v->smp->v;
			return 0;
		}
		break;
	case V_ROOT:
		if (labels || strcmp(name, "ExternalLabels") == 0) {
			out->k = V_MAP;
			out->map = labels ? x->d->labels : x->d->external_labels;
			return 0;
		}
		if (value) {
			out->k = V_NUM;
			out->num = x->d->value;
			return 0;
		}
		if (strcmp(name, "ExternalURL") == 0) {
			out->k = V_STR;
			out->s = x->d->external_url ? x->d->external_url : "";
			return 0;
		}
		break;
	case V_MAP: {
		/* missingkey=zero, as Prometheus expands */
		const char *s = v->map ? labels_get(v->map, name) : NULL;
		out->k = V_STR;
		out->s = s ? s : "";
		return 0;
	}
	default:
		break;
	}
	return template_xerr(x, "can't evaluate field %s in type %s", name, template_type_name(v));
}

static int print_map(const struct labels *m, struct buf *b)
{
	int rc = buf_adds(b, "map[");
	for (size_t i = 0; m && i < m->n && rc == 0; i++)
		rc = buf_printf(b, "%s%s:%s", i ? " " : "", m->v[i].name, m->v[i].value);
	return rc ? rc : buf_addc(b, ']');
}

static int print_one(const struct alert_sample *s, struct buf *b)
{
	char num[64];
	template_go_float(s->v, num, sizeof(num));
	if (buf_addc(b, '{') < 0 || print_map(s->ls, b) < 0)
		return -1;
	return buf_printf(b, " %s}", num);
}

int template_print_sample(const struct val *v, struct buf *b)
{
	if (v->k == V_SAMPLE)
		return print_one(v->smp, b);
	if (v->k == V_VEC) {
		/* Go prints the element pointers' addresses here; vigil prints the elements */
		int rc = buf_addc(b, '[');
		for (size_t i = 0; i < v->nsmp && rc == 0; i++)
			rc = (i ? buf_addc(b, ' ') : 0) < 0 ? -1 : print_one(&v->smp[i], b);
		return rc < 0 ? rc : buf_addc(b, ']');
	}
	return buf_adds(b, "<no value>");
}

void template_query_free(struct texec *x)
{
	for (size_t i = 0; i < x->nvecs; i++)
		alert_vector_free(&x->vecs[i]);
	free(x->vecs);
	x->vecs = NULL;
	x->nvecs = 0;
}
