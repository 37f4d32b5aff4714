/* profile.c — see profile.h. YAML through libyaml's document API. */
#include "snmp/profile.h"
#include "core/labels.h"
#include "core/xmalloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <dirent.h>
#include <errno.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

struct pctx {
	yaml_document_t *doc;	/* the parsed file */
	const char *fname;	/* for errors */
	char *err;		/* error text out */
	size_t errsz;		/* bytes at err */
};

static int fail_at(struct pctx *c, const yaml_node_t *n, const char *what)
{
	if (n)
		snprintf(c->err, c->errsz, "%s:%zu:%zu: %s", c->fname, n->start_mark.line + 1,
		    n->start_mark.column + 1, what);
	else
		snprintf(c->err, c->errsz, "%s: %s", c->fname, what);
	return -EINVAL;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Value of key in mapping m, or NULL. */
static yaml_node_t *get(struct pctx *c, const yaml_node_t *m, const char *key)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		const char *k = scalar(yaml_document_get_node(c->doc, p->key));
		if (k && strcmp(k, key) == 0)
			return yaml_document_get_node(c->doc, p->value);
	}
	return NULL;
}

/* Refuse keys not in allowed (a typo would otherwise be silently ignored). */
static int check_keys(struct pctx *c, const yaml_node_t *m, const char *const *allowed)
{
	if (!m || m->type != YAML_MAPPING_NODE)
		return fail_at(c, m, "want a mapping");
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		const char *k = scalar(kn);
		int ok = 0;
		for (size_t i = 0; k && allowed[i]; i++)
			if (strcmp(k, allowed[i]) == 0)
				ok = 1;
		if (!ok) {
			char msg[160];
			snprintf(msg, sizeof(msg), "unknown key \"%.60s\"", k ? k : "?");
			return fail_at(c, kn, msg);
		}
	}
	return 0;
}

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static int parse_oid(struct pctx *c, const yaml_node_t *n, struct snmp_oid *o)
{
	const char *s = scalar(n);
	if (!s || snmp_oid_parse(s, o) < 0 || o->n < 2)
		return fail_at(c, n, "want a numeric OID like 1.3.6.1.2.1.1.3.0");
	return 0;
}

static int parse_metric(struct pctx *c, const yaml_node_t *n, struct prof_metric *m)
{
	static const char *const keys[] = { "name", "oid", "type", "unsigned", NULL };
	if (check_keys(c, n, keys) < 0)
		return -EINVAL;
	const char *name = scalar(get(c, n, "name"));
	if (!name || !metric_name_valid(name))
		return fail_at(c, n, "metric needs a valid name");
	if (parse_oid(c, get(c, n, "oid"), &m->oid) < 0)
		return -EINVAL;
	yaml_node_t *tn = get(c, n, "type");
	const char *t = tn ? scalar(tn) : "gauge";
	if (!t)
		return fail_at(c, tn, "type must be gauge, counter or info");
	if (strcmp(t, "gauge") == 0)
		m->type = PROF_GAUGE;
	else if (strcmp(t, "counter") == 0)
		m->type = PROF_COUNTER;
	else if (strcmp(t, "info") == 0)
		m->type = PROF_INFO;
	else
		return fail_at(c, tn, "type must be gauge, counter or info");
	yaml_node_t *un = get(c, n, "unsigned");
	if (un) {
		const char *u = scalar(un);
		if (!u || (strcmp(u, "true") != 0 && strcmp(u, "false") != 0))
			return fail_at(c, un, "unsigned must be true or false");
		m->unsigned32 = strcmp(u, "true") == 0;
	}
	m->name = xstrdup(name);
	return 0;
}

static int parse_metrics(struct pctx *c, const yaml_node_t *n, struct prof_metric **out,
    size_t *nout)
{
	if (!n)
		return 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return fail_at(c, n, "want a list of metrics");
	size_t len = seq_len(n);
	if (len > PROFILE_ITEMS_MAX)
		return fail_at(c, n, "too many metrics");
	*out = xcalloc(len ? len : 1, sizeof(**out));
	for (size_t i = 0; i < len; i++) {
		yaml_node_t *it = yaml_document_get_node(c->doc, n->data.sequence.items.start[i]);
		if (parse_metric(c, it, &(*out)[i]) < 0)
			return -EINVAL;
		(*nout)++;
	}
	return 0;
}

/* A label column: a bare OID (indexed like the table), or {oid, index: LABEL}
 * for a column of another table indexed by the value of the index label
 * LABEL (lldpRemLocalPortNum -> lldpLocPortId). */
static int parse_label(struct pctx *c, const yaml_node_t *n, const struct prof_table *t,
    struct prof_label *l)
{
	static const char *const keys[] = { "oid", "index", NULL };
	l->by_index = -1;
	if (!n || n->type != YAML_MAPPING_NODE)
		return parse_oid(c, n, &l->oid);
	if (check_keys(c, n, keys) < 0 || parse_oid(c, get(c, n, "oid"), &l->oid) < 0)
		return -EINVAL;
	yaml_node_t *in = get(c, n, "index");
	const char *s = in ? scalar(in) : NULL;
	for (size_t i = 0; s && i < t->nindex; i++)
		if (strcmp(t->index[i], s) == 0)
			l->by_index = (int)i;
	if (l->by_index < 0)
		return fail_at(c, in ? in : n, "label index: must name one of the table's index labels");
	return 0;
}

static int parse_table(struct pctx *c, const yaml_node_t *n, struct prof_table *t)
{
	static const char *const keys[] = { "name", "index", "labels", "metrics", NULL };
	if (check_keys(c, n, keys) < 0)
		return -EINVAL;
	const char *name = scalar(get(c, n, "name"));
	t->name = xstrdup(name ? name : "table");
	yaml_node_t *ix = get(c, n, "index");
	if (!ix || ix->type != YAML_SEQUENCE_NODE || seq_len(ix) == 0 ||
	    seq_len(ix) > PROFILE_INDEX_MAX)
		return fail_at(c, ix ? ix : n, "table needs index: [label, ...] (1..8 names)");
	for (size_t i = 0; i < seq_len(ix); i++) {
		yaml_node_t *it = yaml_document_get_node(c->doc, ix->data.sequence.items.start[i]);
		uint8_t type = PROF_IX_INT;
		const char *s = scalar(it);
		if (it && it->type == YAML_MAPPING_NODE) {
			static const char *const ikeys[] = { "name", "type", NULL };
			if (check_keys(c, it, ikeys) < 0)
				return -EINVAL;
			s = scalar(get(c, it, "name"));
			yaml_node_t *tn = get(c, it, "type");
			const char *ts = tn ? scalar(tn) : "Integer";
			if (!ts)
				ts = "";
			if (strcmp(ts, "Integer") == 0)
				type = PROF_IX_INT;
			else if (strcmp(ts, "IpAddress") == 0)
				type = PROF_IX_IPADDR;
			else if (strcmp(ts, "InetAddress") == 0)
				type = PROF_IX_INETADDR;
			else if (strcmp(ts, "String") == 0)
				type = PROF_IX_STRING;
			else
				return fail_at(c, tn, "index type must be Integer, IpAddress, InetAddress "
				    "or String");
		}
		if (!s || !label_name_valid(s))
			return fail_at(c, it, "index entries must be label names");
		t->index_type[t->nindex] = type;
		t->index[t->nindex++] = xstrdup(s);
	}
	yaml_node_t *lb = get(c, n, "labels");
	if (lb) {
		if (lb->type != YAML_MAPPING_NODE)
			return fail_at(c, lb, "labels: want a mapping of label name to column OID");
		size_t len = (size_t)(lb->data.mapping.pairs.top - lb->data.mapping.pairs.start);
		if (len > PROFILE_ITEMS_MAX)
			return fail_at(c, lb, "too many labels");
		t->labels = xcalloc(len ? len : 1, sizeof(*t->labels));
		for (size_t i = 0; i < len; i++) {
			yaml_node_pair_t *p = &lb->data.mapping.pairs.start[i];
			yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
			const char *k = scalar(kn);
			if (!k || !label_name_valid(k))
				return fail_at(c, kn, "label names must match [a-zA-Z_][a-zA-Z0-9_]*");
			if (parse_label(c, yaml_document_get_node(c->doc, p->value), t,
			    &t->labels[i]) < 0)
				return -EINVAL;
			t->labels[i].name = xstrdup(k);
			t->nlabels++;
		}
	}
	if (parse_metrics(c, get(c, n, "metrics"), &t->metrics, &t->nmetrics) < 0)
		return -EINVAL;
	if (t->nmetrics == 0)
		return fail_at(c, n, "table needs at least one metric");
	return 0;
}

static int parse_match(struct pctx *c, const yaml_node_t *n, struct snmp_profile *p)
{
	static const char *const keys[] = { "sysObjectID", "sysDescr", NULL };
	if (!n) {
		p->always = 1;
		return 0;
	}
	if (check_keys(c, n, keys) < 0)
		return -EINVAL;
	yaml_node_t *so = get(c, n, "sysObjectID");
	if (so) {
		if (so->type != YAML_SEQUENCE_NODE || seq_len(so) > PROFILE_ITEMS_MAX)
			return fail_at(c, so, "sysObjectID: want a list of OID prefixes");
		p->prefixes = xcalloc(seq_len(so) ? seq_len(so) : 1, sizeof(*p->prefixes));
		for (size_t i = 0; i < seq_len(so); i++) {
			if (parse_oid(c, yaml_document_get_node(c->doc, so->data.sequence.items.start[i]),
			    &p->prefixes[i]) < 0)
				return -EINVAL;
			p->nprefixes++;
		}
	}
	yaml_node_t *sd = get(c, n, "sysDescr");
	if (sd) {
		const char *re = scalar(sd);
		int ec;
		PCRE2_SIZE eo;
		if (!re)
			return fail_at(c, sd, "sysDescr: want a regex string");
		pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, 0, &ec, &eo, NULL);
		if (!code)
			return fail_at(c, sd, "sysDescr: invalid regex");
		p->descr_re = xstrdup(re);
		p->descr_code = code;
	}
	if (!so && !sd)
		return fail_at(c, n, "match needs sysObjectID or sysDescr (omit match for every device)");
	return 0;
}

int snmp_profile_parse(const char *text, size_t len, const char *fname,
    struct snmp_profile *p, char *err, size_t errsz)
{
	static const char *const keys[] = { "profile", "match", "scalars", "tables", NULL };
	yaml_parser_t parser;
	yaml_document_t doc;
	struct pctx c = { &doc, fname, err, errsz };
	int rc = -EINVAL;
	memset(p, 0, sizeof(*p));
	if (len > PROFILE_FILE_MAX) {
		snprintf(err, errsz, "%s: larger than %u bytes", fname, PROFILE_FILE_MAX);
		return -E2BIG;
	}
	if (!yaml_parser_initialize(&parser))
		return -ENOMEM;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%zu:%zu: %s", fname, parser.problem_mark.line + 1,
		    parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return -EINVAL;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (!root) {
		fail_at(&c, NULL, "empty file");
		goto out;
	}
	if (check_keys(&c, root, keys) < 0)
		goto out;
	const char *name = scalar(get(&c, root, "profile"));
	if (!name || !*name) {
		fail_at(&c, root, "missing profile: NAME");
		goto out;
	}
	p->name = xstrdup(name);
	if (parse_match(&c, get(&c, root, "match"), p) < 0)
		goto out;
	if (parse_metrics(&c, get(&c, root, "scalars"), &p->scalars, &p->nscalars) < 0)
		goto out;
	yaml_node_t *tb = get(&c, root, "tables");
	if (tb) {
		if (tb->type != YAML_SEQUENCE_NODE || seq_len(tb) > PROFILE_ITEMS_MAX) {
			fail_at(&c, tb, "tables: want a list");
			goto out;
		}
		p->tables = xcalloc(seq_len(tb) ? seq_len(tb) : 1, sizeof(*p->tables));
		for (size_t i = 0; i < seq_len(tb); i++) {
			p->ntables++;
			if (parse_table(&c, yaml_document_get_node(&doc, tb->data.sequence.items.start[i]),
			    &p->tables[i]) < 0)
				goto out;
		}
	}
	if (p->nscalars == 0 && p->ntables == 0) {
		fail_at(&c, root, "profile polls nothing (no scalars or tables)");
		goto out;
	}
	rc = 0;
out:
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	if (rc < 0)
		snmp_profile_free(p);
	return rc;
}

static void free_metrics(struct prof_metric *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].name);
	free(m);
}

void snmp_profile_free(struct snmp_profile *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->prefixes);
	free(p->descr_re);
	pcre2_code_free(p->descr_code);
	free_metrics(p->scalars, p->nscalars);
	for (size_t i = 0; i < p->ntables; i++) {
		struct prof_table *t = &p->tables[i];
		free(t->name);
		for (size_t j = 0; j < t->nindex; j++)
			free(t->index[j]);
		for (size_t j = 0; j < t->nlabels; j++)
			free(t->labels[j].name);
		free(t->labels);
		free_metrics(t->metrics, t->nmetrics);
	}
	free(p->tables);
	memset(p, 0, sizeof(*p));
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct snmp_profile *)a)->name, ((const struct snmp_profile *)b)->name);
}

int snmp_profiles_load_dir(const char *dir, struct snmp_profiles *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	DIR *dp = opendir(dir);
	if (!dp) {
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(dp)) && rc == 0) {
		size_t l = strlen(de->d_name);
		if (!((l > 4 && strcmp(de->d_name + l - 4, ".yml") == 0) ||
		    (l > 5 && strcmp(de->d_name + l - 5, ".yaml") == 0)))
			continue;
		if (out->n >= PROFILES_MAX) {
			snprintf(err, errsz, "%s: more than %d profiles", dir, PROFILES_MAX);
			rc = -E2BIG;
			break;
		}
		char path[4096];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= sizeof(path))
			continue;
		FILE *f = fopen(path, "r");
		if (!f) {
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
			rc = -errno;
			break;
		}
		char *text = xmalloc(PROFILE_FILE_MAX + 1);
		size_t n = fread(text, 1, PROFILE_FILE_MAX + 1, f);
		fclose(f);
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		rc = snmp_profile_parse(text, n, path, &out->v[out->n], err, errsz);
		free(text);
		if (rc == 0) {
			if (snmp_profiles_find(out, out->v[out->n].name)) {
				snprintf(err, errsz, "%s: profile \"%s\" defined twice", path,
				    out->v[out->n].name);
				snmp_profile_free(&out->v[out->n]);
				rc = -EINVAL;
			} else {
				out->n++;
			}
		}
	}
	closedir(dp);
	if (rc < 0) {
		snmp_profiles_free(out);
		return rc;
	}
	if (out->n)
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	return 0;
}

void snmp_profiles_free(struct snmp_profiles *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->n; i++)
		snmp_profile_free(&ps->v[i]);
	free(ps->v);
	ps->v = NULL;
	ps->n = 0;
}

const struct snmp_profile *snmp_profiles_find(const struct snmp_profiles *ps, const char *name)
{
	for (size_t i = 0; i < ps->n; i++)
		if (ps->v[i].name && strcmp(ps->v[i].name, name) == 0)
			return &ps->v[i];
	return NULL;
}

int snmp_profile_matches(const struct snmp_profile *p, const struct snmp_oid *sysobjectid,
    const char *sysdescr)
{
	if (p->always)
		return 1;
	for (size_t i = 0; sysobjectid && i < p->nprefixes; i++)
		if (snmp_oid_has_prefix(sysobjectid, &p->prefixes[i]))
			return 1;
	if (p->descr_code && sysdescr) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->descr_code, NULL);
		int rc = pcre2_match(p->descr_code, (PCRE2_SPTR)sysdescr, strlen(sysdescr), 0, 0, md,
		    NULL);
		pcre2_match_data_free(md);
		if (rc >= 0)
			return 1;
	}
	return 0;
}
