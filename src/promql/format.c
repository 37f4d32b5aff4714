/* format.c — print an expression in Prometheus's canonical form (what
 * /api/v1/format_query returns for a one-line query). */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"
#include "promql/ast.h"
#include "promql/fn.h"

/* Go's %v for a float64: shortest digits, exponent when exp < -4 or >= 6. */
static void go_float(double v, struct buf *b)
{
	if (isnan(v)) { buf_adds(b, "NaN"); return; }
	/* "Inf", not Go's "+Inf": a leading '+' would read back as a unary
	 * operator binding looser than '^' */
	if (isinf(v)) { buf_adds(b, v > 0 ? "Inf" : "-Inf"); return; }
	char e[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		double back;
		sscanf(e, "%lf", &back);
		if (back == v)
			break;
	}
	const char *x = strchr(e, 'e');
	int exp = x ? atoi(x + 1) : 0;
	if (v != 0 && (exp < -4 || exp >= 6)) {
		/* Go writes e+06 style: at least two exponent digits */
		char mant[64];
		size_t ml = (size_t)(x - e);
		memcpy(mant, e, ml);
		mant[ml] = 0;
		buf_printf(b, "%se%c%02d", mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
		return;
	}
	char f[512];
	pq_fmt_float(v, f, sizeof(f));
	buf_adds(b, f);
}

static void dur(int64_t ms, struct buf *b)
{
	char d[64];
	if (ms < 0) {
		buf_addc(b, '-');
		ms = -ms;
	}
	buf_adds(b, clock_format_duration(ms, d, sizeof(d)));
}

static void quote(const char *s, struct buf *b)
{
	char q[1 << 16];
	pq_goquote(s, q, sizeof(q));
	buf_adds(b, q);
}

static void at_off(const struct pq_node *n, struct buf *b)
{
	if (n->at == PQ_AT_START)
		buf_adds(b, " @ start()");
	else if (n->at == PQ_AT_END)
		buf_adds(b, " @ end()");
	else if (n->at == PQ_AT_TIME)
		buf_printf(b, " @ %.3f", (double)n->at_ms / 1000.0);
	if (n->offset_ms) {
		buf_adds(b, " offset ");
		dur(n->offset_ms, b);
	}
}

static void label_name(const char *s, struct buf *b);

static void strs(const struct pq_strs *s, struct buf *b)
{
	buf_addc(b, '(');
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			buf_adds(b, ", ");
		label_name(s->v[i], b);
	}
	buf_addc(b, ')');
}

/* A label name as written: bare when it is a valid name, else quoted (UTF-8 names). */
static void label_name(const char *s, struct buf *b)
{
	if (label_name_valid(s))
		buf_adds(b, s);
	else
		quote(s, b);
}

/* Names the lexer would read as a keyword or a number if written bare. */
static int reserved(const char *s)
{
	static const char *const kw[] = { "and", "or", "unless", "atan2", "by", "without", "on",
		"ignoring", "group_left", "group_right", "bool", "offset", "inf", "nan" };
	for (size_t i = 0; i < sizeof(kw) / sizeof(kw[0]); i++)
		if (strcasecmp(s, kw[i]) == 0)
			return 1;
	return 0;
}

static void vsel(const struct pq_node *n, struct buf *b)
{
	const char *name = n->str;
	int quoted_name = name && (!metric_name_valid(name) || reserved(name));
	if (name && !quoted_name)
		buf_adds(b, name);
	if (quoted_name) {
		buf_addc(b, '{');
		quote(name, b);
	}
	size_t shown = 0;
	for (size_t i = 0; i < n->nms; i++) {
		const struct matcher *m = &n->ms[i];
		if (name && i == 0 && m->type == MATCH_EQ && strcmp(m->name, "__name__") == 0)
			continue;
		buf_adds(b, shown++ || quoted_name ? ", " : "{");
		label_name(m->name, b);
		static const char *const ops[] = { "=", "!=", "=~", "!~" };
		buf_adds(b, ops[m->type]);
		quote(m->value, b);
	}
	if (shown || quoted_name)
		buf_addc(b, '}');
}

int pq_format_node(const struct pq_node *n, struct buf *b)
{
	switch (n->kind) {
	case PQ_NUM:
		go_float(n->num, b);
		break;
	case PQ_STR:
		quote(n->str, b);
		break;
	case PQ_VSEL:
		vsel(n, b);
		at_off(n, b);
		break;
	case PQ_MSEL:
		vsel(n->sub, b);
		buf_addc(b, '[');
		dur(n->range_ms, b);
		buf_addc(b, ']');
		at_off(n->sub, b);
		break;
	case PQ_SUBQ:
		pq_format_node(n->sub, b);
		buf_addc(b, '[');
		dur(n->range_ms, b);
		buf_addc(b, ':');
		if (n->step_ms)
			dur(n->step_ms, b);
		buf_addc(b, ']');
		at_off(n, b);
		break;
	case PQ_PAREN:
		buf_addc(b, '(');
		pq_format_node(n->sub, b);
		buf_addc(b, ')');
		break;
	case PQ_UNARY:
		buf_adds(b, pq_op_str(n->op));
		pq_format_node(n->sub, b);
		break;
	case PQ_BINARY:
		pq_format_node(n->lhs, b);
		buf_printf(b, " %s", pq_op_str(n->op));
		if (n->return_bool)
			buf_adds(b, " bool");
		if (n->vm_set && (n->vm_on || n->vm_labels.n)) {
			buf_adds(b, n->vm_on ? " on " : " ignoring ");
			strs(&n->vm_labels, b);
			if (n->card == PQ_CARD_MANY_TO_ONE || n->card == PQ_CARD_ONE_TO_MANY) {
				buf_adds(b, n->card == PQ_CARD_MANY_TO_ONE ? " group_left " : " group_right ");
				strs(&n->include, b);
			}
		}
		buf_addc(b, ' ');
		pq_format_node(n->rhs, b);
		break;
	case PQ_CALL:
		buf_adds(b, n->func->name);
		buf_addc(b, '(');
		for (size_t i = 0; i < n->nargs; i++) {
			if (i)
				buf_adds(b, ", ");
			pq_format_node(n->args[i], b);
		}
		buf_addc(b, ')');
		break;
	case PQ_AGG:
		buf_adds(b, pq_agg_str(n->agg));
		if (n->without) {
			buf_adds(b, " without ");
			strs(&n->grouping, b);
			buf_addc(b, ' ');
		} else if (n->grouping.n) {
			buf_adds(b, " by ");
			strs(&n->grouping, b);
			buf_addc(b, ' ');
		}
		buf_addc(b, '(');
		if (n->param) {
			pq_format_node(n->param, b);
			buf_adds(b, ", ");
		}
		pq_format_node(n->sub, b);
		buf_addc(b, ')');
		break;
	}
	return 0;
}

#define PRETTY_LINE_MAX 100	/* Prometheus splits expressions longer than this */

static size_t node_len(const struct pq_node *n)
{
	struct buf t;
	buf_init(&t, PQ_QUERY_MAX * 8);
	pq_format_node(n, &t);
	size_t l = t.len;
	buf_free(&t);
	return l;
}

static void indent(int level, struct buf *b)
{
	for (int i = 0; i < level; i++)
		buf_adds(b, "  ");
}

/* Prometheus's Pretty(level): one line when it fits, else split by node. */
static void pretty(const struct pq_node *n, int level, struct buf *b)
{
	int split = node_len(n) > PRETTY_LINE_MAX;
	switch (n->kind) {
	case PQ_AGG:
		indent(level, b);
		if (!split) {
			pq_format_node(n, b);
			return;
		}
		buf_adds(b, pq_agg_str(n->agg));
		if (n->without) {
			buf_adds(b, " without ");
			strs(&n->grouping, b);
			buf_addc(b, ' ');
		} else if (n->grouping.n) {
			buf_adds(b, " by ");
			strs(&n->grouping, b);
			buf_addc(b, ' ');
		}
		buf_adds(b, "(\n");
		if (n->param) {
			pretty(n->param, level + 1, b);
			buf_adds(b, ",\n");
		}
		pretty(n->sub, level + 1, b);
		buf_addc(b, '\n');
		indent(level, b);
		buf_addc(b, ')');
		return;
	case PQ_BINARY:
		if (!split) {
			indent(level, b);
			pq_format_node(n, b);
			return;
		}
		pretty(n->lhs, level + 1, b);
		buf_addc(b, '\n');
		indent(level, b);
		buf_adds(b, pq_op_str(n->op));
		if (n->return_bool)
			buf_adds(b, " bool");
		if (n->vm_set && (n->vm_on || n->vm_labels.n)) {
			buf_adds(b, n->vm_on ? " on " : " ignoring ");
			strs(&n->vm_labels, b);
			if (n->card == PQ_CARD_MANY_TO_ONE || n->card == PQ_CARD_ONE_TO_MANY) {
				buf_adds(b, n->card == PQ_CARD_MANY_TO_ONE ? " group_left " : " group_right ");
				strs(&n->include, b);
			}
		}
		buf_addc(b, '\n');
		pretty(n->rhs, level + 1, b);
		return;
	case PQ_CALL:
		indent(level, b);
		if (!split) {
			pq_format_node(n, b);
			return;
		}
		buf_adds(b, n->func->name);
		buf_adds(b, "(\n");
		for (size_t i = 0; i < n->nargs; i++) {
			if (i)
				buf_adds(b, ",\n");
			pretty(n->args[i], level + 1, b);
		}
		buf_addc(b, '\n');
		indent(level, b);
		buf_addc(b, ')');
		return;
	case PQ_PAREN:
		indent(level, b);
		if (!split) {
			pq_format_node(n, b);
			return;
		}
		buf_adds(b, "(\n");
		pretty(n->sub, level + 1, b);
		buf_addc(b, '\n');
		indent(level, b);
		buf_addc(b, ')');
		return;
	case PQ_SUBQ:
		if (!split) {
			pq_format_node(n, b);
			return;
		}
		pretty(n->sub, level, b);
		buf_addc(b, '[');
		dur(n->range_ms, b);
		buf_addc(b, ':');
		if (n->step_ms)
			dur(n->step_ms, b);
		buf_addc(b, ']');
		at_off(n, b);
		return;
	case PQ_UNARY: {
		struct buf c;
		buf_init(&c, PQ_QUERY_MAX * 8);
		pretty(n->sub, level, &c);
		const char *t = c.data ? c.data : "";
		while (*t == ' ' || *t == '\n' || *t == '\t')
			t++;
		indent(level, b);
		buf_adds(b, pq_op_str(n->op));
		buf_adds(b, t);
		buf_free(&c);
		return;
	}
	default:
		indent(level, b);
		pq_format_node(n, b);
	}
}

int pq_format_pretty(const struct pq_expr *e, struct buf *out)
{
	size_t before = out->len;
	pretty(e->root, 0, out);
	return out->len == before ? -7 : 0;
}

int pq_format(const struct pq_expr *e, struct buf *out)
{
	size_t before = out->len;
	pq_format_node(e->root, out);
	/* buf appends fail silently past the cap; report it */
	if (out->len == before && e->root)
		return -7;
	return 0;
}
