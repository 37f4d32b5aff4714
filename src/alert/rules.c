/*
 * rules.c — Prometheus rule files: parsing (libyaml document API) and the
 * same validation Prometheus applies (rulefmt), reported as
 * "FILE:LINE:COL: reason". Also `vigil check rules`.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "alert/alert.h"
#include "core/clock.h"
#include "core/xmalloc.h"

struct rparse {
	yaml_document_t *doc;		/* the parsed file */
	const char *name;		/* file name for messages */
	char *err;			/* error buffer */
	size_t errsz;			/* its size */
	int failed;			/* an error was written */
	alert_expr_check_fn check;	/* expr syntax check (may be NULL) */
	void *check_ctx;		/* its context */
	const char *group;		/* group being parsed (for messages), or NULL */
	size_t rule_no;			/* 1-based rule number within it, or 0 */
	const char *rule_name;		/* its alert/record name, or "" */
};

static int rerr(struct rparse *p, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int rerr(struct rparse *p, const yaml_node_t *n, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	char msg[ALERT_ERR_MAX], ctx[ALERT_ERR_MAX / 2] = "";
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->group && p->rule_no)
		snprintf(ctx, sizeof(ctx), "group \"%.80s\", rule %zu, \"%.80s\": ", p->group, p->rule_no,
		    p->rule_name ? p->rule_name : "");
	else if (p->group)
		snprintf(ctx, sizeof(ctx), "group \"%.80s\": ", p->group);
	snprintf(p->err, p->errsz, "%s:%lu:%lu: %s%s", p->name, n ? (unsigned long)n->start_mark.line + 1 : 1,
	    n ? (unsigned long)n->start_mark.column + 1 : 1, ctx, msg);
	p->failed = 1;
	return -1;
}

static int is_null(const yaml_node_t *n)
{
	if (!n)
		return 1;
	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	const char *v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	    strcmp(v, "NULL") == 0;
}

/* The text of a scalar node (NULL for other nodes); null reads as "". */
static const char *scalar(const yaml_node_t *n)
{
	if (is_null(n))
		return "";
	if (n->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)n->data.scalar.value;
}

static yaml_node_t *node(struct rparse *p, int id)
{
	return yaml_document_get_node(p->doc, id);
}

/* Check a mapping's keys: scalar, known, not repeated. */
static int check_keys(struct rparse *p, const yaml_node_t *m, const char *what, const char *const *allowed)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(p, pr->key);
		const char *ks = scalar(k);
		if (!ks || k->type != YAML_SCALAR_NODE)
			return rerr(p, k, "%s keys must be strings", what);
		for (yaml_node_pair_t *q = m->data.mapping.pairs.start; q < pr; q++) {
			const char *k2 = scalar(node(p, q->key));
			if (k2 && strcmp(k2, ks) == 0)
				return rerr(p, k, "mapping key \"%s\" already defined at line %lu", ks,
				    (unsigned long)node(p, q->key)->start_mark.line + 1);
		}
		if (!allowed)
			continue;
		size_t i;
		for (i = 0; allowed[i]; i++)
			if (strcmp(allowed[i], ks) == 0)
				break;
		if (!allowed[i])
			return rerr(p, k, "field %s not found in %s", ks, what);
	}
	return 0;
}

/* The value of key in mapping m, or NULL. */
static yaml_node_t *get(struct rparse *p, const yaml_node_t *m, const char *key)
{
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++) {
		const char *ks = scalar(node(p, pr->key));
		if (ks && strcmp(ks, key) == 0)
			return node(p, pr->value);
	}
	return NULL;
}

static int get_str(struct rparse *p, const yaml_node_t *m, const char *key, const char **out,
    const yaml_node_t **at)
{
	yaml_node_t *v = get(p, m, key);
	*at = v ? v : m;
	*out = "";
	if (!v)
		return 0;
	const char *s = scalar(v);
	if (!s)
		return rerr(p, v, "%s must be a string", key);
	*out = s;
	return 0;
}

static int get_duration(struct rparse *p, const yaml_node_t *m, const char *key, int64_t *ms)
{
	const char *s;
	const yaml_node_t *at;
	*ms = 0;
	if (get_str(p, m, key, &s, &at) < 0)
		return -1;
	if (!*s)
		return 0;
	if (clock_parse_duration(s, ms) < 0)
		return rerr(p, at, "%s: not a valid duration string: \"%s\"", key, s);
	return 0;
}

static int valid_utf8(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (*u) {
		int n = *u < 0x80 ? 0 : (*u & 0xe0) == 0xc0 ? 1 : (*u & 0xf0) == 0xe0 ? 2 : (*u & 0xf8) == 0xf0 ? 3 : -1;
		if (n < 0 || (n == 1 && *u < 0xc2))
			return 0;
		u++;
		for (int i = 0; i < n; i++, u++)
			if ((*u & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct rule_kv *)a)->name, ((const struct rule_kv *)b)->name);
}

static void kv_free(struct rule_kv *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].text);
		template_free(v[i].tmpl);
	}
	free(v);
}

/* Parse labels: or annotations: into a sorted, compiled array. */
static int parse_kv(struct rparse *p, const yaml_node_t *rule, const char *key, int labels,
    struct rule_kv **out, size_t *nout)
{
	*out = NULL;
	*nout = 0;
	yaml_node_t *m = get(p, rule, key);
	if (is_null(m))
		return 0;
	if (m->type != YAML_MAPPING_NODE)
		return rerr(p, m, "%s must be a map of strings", key);
	if (check_keys(p, m, key, NULL) < 0)
		return -1;
	size_t n = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
	if (n > RULES_MAX_KV)
		return rerr(p, m, "more than %d %s", RULES_MAX_KV, key);
	struct rule_kv *v = xcalloc(n ? n : 1, sizeof(*v));
	size_t i = 0;
	for (yaml_node_pair_t *pr = m->data.mapping.pairs.start; pr < m->data.mapping.pairs.top; pr++, i++) {
		yaml_node_t *k = node(p, pr->key), *val = node(p, pr->value);
		const char *ks = scalar(k), *vs = scalar(val);
		if (!vs) {
			rerr(p, val, "%s value of \"%s\" must be a string", labels ? "label" : "annotation", ks);
			goto fail;
		}
		if (labels && (!label_name_valid(ks) || strcmp(ks, "__name__") == 0)) {
			rerr(p, k, "invalid label name: %s", ks);
			goto fail;
		}
		if (!labels && !label_name_valid(ks)) {
			rerr(p, k, "invalid annotation name: %s", ks);
			goto fail;
		}
		if (!valid_utf8(vs)) {
			rerr(p, val, "invalid %s value: %s", labels ? "label" : "annotation", vs);
			goto fail;
		}
		v[i].name = xstrdup(ks);
		v[i].text = xstrdup(vs);
		char terrbuf[ALERT_ERR_MAX];
		if (template_compile(vs, strlen(vs), &v[i].tmpl, terrbuf, sizeof(terrbuf)) < 0) {
			rerr(p, val, "%s \"%s\": template: %s", labels ? "label" : "annotation", ks, terrbuf);
			i++;
			goto fail;
		}
	}
	qsort(v, n, sizeof(*v), kv_cmp);
	*out = v;
	*nout = n;
	return 0;
fail:
	kv_free(v, i);
	return -1;
}

static void rule_clear(struct rule *r)
{
	free(r->name);
	free(r->expr);
	kv_free(r->labels, r->nlabels);
	kv_free(r->annotations, r->nannotations);
	memset(r, 0, sizeof(*r));
}

static void group_clear(struct rule_group *g)
{
	for (size_t i = 0; i < g->nrules; i++)
		rule_clear(&g->rules[i]);
	free(g->rules);
	free(g->name);
	free(g->file);
	memset(g, 0, sizeof(*g));
}

static const char *const rule_keys[] = { "record", "alert", "expr", "for", "keep_firing_for",
	"labels", "annotations", NULL };
static const char *const group_keys[] = { "name", "interval", "limit", "rules", NULL };

static int parse_rule(struct rparse *p, const yaml_node_t *n, struct rule *r)
{
	memset(r, 0, sizeof(*r));
	p->rule_name = "";
	if (n->type != YAML_MAPPING_NODE)
		return rerr(p, n, "a rule must be a map");
	r->line = (int)n->start_mark.line + 1;
	const char *rec, *alert, *expr;
	const yaml_node_t *rec_at, *alert_at, *expr_at;
	if (get_str(p, n, "record", &rec, &rec_at) < 0 || get_str(p, n, "alert", &alert, &alert_at) < 0)
		return -1;
	p->rule_name = *alert ? alert : rec;
	if (check_keys(p, n, "rule", rule_keys) < 0 || get_str(p, n, "expr", &expr, &expr_at) < 0)
		return -1;
	if (*rec && *alert)
		return rerr(p, rec_at, "only one of 'record' and 'alert' must be set");
	if (!*rec && !*alert)
		return rerr(p, n, "one of 'record' or 'alert' must be set");
	if (!*expr)
		return rerr(p, expr_at, "field 'expr' must be set in rule");
	if (p->check) {
		char cerr[ALERT_ERR_MAX];
		if (p->check(p->check_ctx, expr, cerr, sizeof(cerr)) < 0)
			return rerr(p, expr_at, "could not parse expression: %s", cerr);
	}
	if (get_duration(p, n, "for", &r->for_ms) < 0 ||
	    get_duration(p, n, "keep_firing_for", &r->keep_firing_for_ms) < 0)
		return -1;
	if (*rec) {
		yaml_node_t *ann = get(p, n, "annotations");
		if (ann && ann->type == YAML_MAPPING_NODE && ann->data.mapping.pairs.top > ann->data.mapping.pairs.start)
			return rerr(p, rec_at, "invalid field 'annotations' in recording rule");
		if (r->for_ms)
			return rerr(p, rec_at, "invalid field 'for' in recording rule");
		if (r->keep_firing_for_ms)
			return rerr(p, rec_at, "invalid field 'keep_firing_for' in recording rule");
		if (!metric_name_valid(rec))
			return rerr(p, rec_at, "invalid recording rule name: %s", rec);
	}
	r->type = *alert ? RULE_ALERTING : RULE_RECORDING;
	r->name = xstrdup(*alert ? alert : rec);
	r->expr = xstrdup(expr);
	if (parse_kv(p, n, "labels", 1, &r->labels, &r->nlabels) < 0 ||
	    parse_kv(p, n, "annotations", 0, &r->annotations, &r->nannotations) < 0) {
		rule_clear(r);
		return -1;
	}
	return 0;
}

static int parse_group(struct rparse *p, const yaml_node_t *n, struct rule_group *g)
{
	memset(g, 0, sizeof(*g));
	p->group = NULL;
	p->rule_no = 0;
	if (n->type != YAML_MAPPING_NODE)
		return rerr(p, n, "a group must be a map");
	const char *name;
	const yaml_node_t *at;
	if (get_str(p, n, "name", &name, &at) < 0)
		return -1;
	p->group = *name ? name : NULL;
	if (check_keys(p, n, "group", group_keys) < 0)
		return -1;
	if (!*name)
		return rerr(p, n, "Groupname must not be empty");
	g->name = xstrdup(name);
	g->file = xstrdup(p->name);
	if (get_duration(p, n, "interval", &g->interval_ms) < 0)
		goto fail;
	const char *lim;
	if (get_str(p, n, "limit", &lim, &at) < 0)
		goto fail;
	if (*lim) {
		char *end;
		errno = 0;
		long long v = strtoll(lim, &end, 10);
		if (*end || errno) {
			rerr(p, at, "limit must be an integer: \"%s\"", lim);
			goto fail;
		}
		g->limit = v > 0 ? v : 0;	/* Prometheus: zero or less is no limit */
	}
	yaml_node_t *rules = get(p, n, "rules");
	if (is_null(rules))
		return 0;
	if (rules->type != YAML_SEQUENCE_NODE) {
		rerr(p, rules, "rules must be a list");
		goto fail;
	}
	size_t nr = (size_t)(rules->data.sequence.items.top - rules->data.sequence.items.start);
	if (nr > RULES_MAX_PER_GROUP) {
		rerr(p, rules, "more than %d rules in one group", RULES_MAX_PER_GROUP);
		goto fail;
	}
	g->rules = xcalloc(nr ? nr : 1, sizeof(*g->rules));
	for (yaml_node_item_t *it = rules->data.sequence.items.start; it < rules->data.sequence.items.top; it++) {
		p->rule_no = g->nrules + 1;
		if (parse_rule(p, node(p, *it), &g->rules[g->nrules]) < 0)
			goto fail;
		g->nrules++;
	}
	p->rule_no = 0;
	return 0;
fail:
	group_clear(g);
	return -1;
}

struct rule_set *rule_set_new(void)
{
	return xcalloc(1, sizeof(struct rule_set));
}

void rule_set_free(struct rule_set *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->ngroups; i++)
		group_clear(&rs->groups[i]);
	free(rs->groups);
	free(rs);
}

size_t rule_set_count(const struct rule_set *rs)
{
	size_t n = 0;
	for (size_t i = 0; rs && i < rs->ngroups; i++)
		n += rs->groups[i].nrules;
	return n;
}

static int parse_root(struct rparse *p, yaml_node_t *root, struct rule_group **gv, size_t *ng)
{
	if (is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return rerr(p, root, "a rule file must be a map with a \"groups\" key");
	static const char *const root_keys[] = { "groups", NULL };
	if (check_keys(p, root, "rule file", root_keys) < 0)
		return -1;
	yaml_node_t *groups = get(p, root, "groups");
	if (is_null(groups))
		return 0;
	if (groups->type != YAML_SEQUENCE_NODE)
		return rerr(p, groups, "groups must be a list");
	size_t n = (size_t)(groups->data.sequence.items.top - groups->data.sequence.items.start);
	if (n > RULES_MAX_GROUPS)
		return rerr(p, groups, "more than %d groups", RULES_MAX_GROUPS);
	*gv = xcalloc(n ? n : 1, sizeof(**gv));
	for (yaml_node_item_t *it = groups->data.sequence.items.start; it < groups->data.sequence.items.top; it++) {
		yaml_node_t *gn = node(p, *it);
		if (parse_group(p, gn, &(*gv)[*ng]) < 0)
			return -1;
		for (size_t j = 0; j < *ng; j++) {
			if (strcmp((*gv)[j].name, (*gv)[*ng].name) == 0) {
				p->group = NULL;
				rerr(p, gn, "groupname: \"%s\" is repeated in the same file", (*gv)[*ng].name);
				group_clear(&(*gv)[*ng]);
				return -1;
			}
		}
		(*ng)++;
	}
	return 0;
}

int rules_parse(struct rule_set *rs, const char *name, const char *text, size_t len,
    alert_expr_check_fn check, void *check_ctx, char *err, size_t errsz)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct rparse p = { .doc = &doc, .name = name, .err = err, .errsz = errsz, .check = check,
		.check_ctx = check_ctx };
	struct rule_group *gv = NULL;
	size_t ng = 0;
	int rc = -1;
	if (len > RULES_FILE_MAX_BYTES) {
		snprintf(err, errsz, "%s: larger than %u bytes", name, RULES_FILE_MAX_BYTES);
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errsz, "%s:%lu:%lu: %s", name, (unsigned long)parser.problem_mark.line + 1,
		    (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root) {
		yaml_document_t extra;
		if (!yaml_parser_load(&parser, &extra)) {
			snprintf(err, errsz, "%s:%lu:%lu: %s", name, (unsigned long)parser.problem_mark.line + 1,
			    (unsigned long)parser.problem_mark.column + 1, parser.problem ? parser.problem : "YAML error");
			goto out;
		}
		int more = yaml_document_get_root_node(&extra) != NULL;
		yaml_node_t *r2 = yaml_document_get_root_node(&extra);
		unsigned long l2 = r2 ? (unsigned long)r2->start_mark.line + 1 : 0;
		yaml_document_delete(&extra);
		if (more) {
			snprintf(err, errsz, "%s:%lu:1: a rule file holds one YAML document", name, l2);
			goto out;
		}
	}
	if (parse_root(&p, root, &gv, &ng) < 0)
		goto out;
	/* Group names are unique across every file loaded into one set too. */
	for (size_t i = 0; i < ng; i++)
		for (size_t j = 0; j < rs->ngroups; j++)
			if (strcmp(gv[i].name, rs->groups[j].name) == 0 && strcmp(gv[i].file, rs->groups[j].file) == 0) {
				snprintf(err, errsz, "%s: group \"%s\" is loaded twice", name, gv[i].name);
				goto out;
			}
	if (rs->ngroups + ng > RULES_MAX_GROUPS) {
		snprintf(err, errsz, "%s: more than %d groups in all rule files", name, RULES_MAX_GROUPS);
		goto out;
	}
	if (rs->ngroups + ng > rs->cap) {
		rs->cap = rs->ngroups + ng + 8;
		rs->groups = xreallocarray(rs->groups, rs->cap, sizeof(*rs->groups));
	}
	if (ng)
		memcpy(rs->groups + rs->ngroups, gv, ng * sizeof(*gv));
	rs->ngroups += ng;
	ng = 0;
	rc = 0;
out:
	for (size_t i = 0; i < ng; i++)
		group_clear(&gv[i]);
	free(gv);
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return rc;
}

int rules_load_file(struct rule_set *rs, const char *path, alert_expr_check_fn check,
    void *check_ctx, char *err, size_t errsz)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return -1;
	}
	struct buf b;
	buf_init(&b, RULES_FILE_MAX_BYTES);
	char tmp[65536];
	size_t n;
	int rc = 0;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
		if (buf_add(&b, tmp, n) < 0) {
			snprintf(err, errsz, "%s: larger than %u bytes", path, RULES_FILE_MAX_BYTES);
			rc = -1;
			break;
		}
	}
	if (rc == 0 && ferror(f)) {
		snprintf(err, errsz, "%s: read error", path);
		rc = -1;
	}
	fclose(f);
	if (rc == 0)
		rc = rules_parse(rs, path, b.data ? b.data : "", b.len, check, check_ctx, err, errsz);
	buf_free(&b);
	return rc;
}

static alert_expr_check_fn cli_check;	/* expr checker for `vigil check rules` */
static void *cli_check_ctx;		/* its context */

void rules_cli_set_checker(alert_expr_check_fn check, void *ctx)
{
	cli_check = check;
	cli_check_ctx = ctx;
}

int rules_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: vigil check rules FILE...\n");
		return 2;
	}
	int rc = 0;
	for (int i = 1; i < argc; i++) {
		struct rule_set *rs = rule_set_new();
		char err[ALERT_ERR_MAX];
		if (rules_load_file(rs, argv[i], cli_check, cli_check_ctx, err, sizeof(err)) < 0) {
			fprintf(stderr, "%s\n", err);
			rc = 2;
		} else {
			printf("%s: %zu rules found\n", argv[i], rule_set_count(rs));
		}
		rule_set_free(rs);
	}
	return rc;
}
