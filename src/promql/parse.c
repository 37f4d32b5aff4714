/* parse.c — recursive-descent PromQL parser with Prometheus's precedence,
 * type checks and error messages ("1:5: parse error: ..."). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xmalloc.h"
#include "promql/ast.h"
#include "promql/lex.h"

struct parser {
	struct pq_lexer lx;	/* token source */
	struct pq_token tok;	/* current token */
	char *err;		/* message out */
	size_t errsz;		/* its size */
	int failed;		/* an error was recorded */
	int depth;		/* nesting, capped at PQ_DEPTH_MAX */
};

static const char *const agg_names[] = {
	"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
	"count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio",
};

const char *pq_agg_str(enum pq_agg a) { return agg_names[a]; }

const char *pq_op_str(enum pq_op op)
{
	static const char *const s[] = { "", "+", "-", "*", "/", "%", "^", "atan2",
		"==", "!=", ">", "<", ">=", "<=", "and", "or", "unless" };
	return s[op];
}

int pq_op_is_cmp(enum pq_op op) { return op >= PQ_OP_EQ && op <= PQ_OP_LE; }
int pq_op_is_set(enum pq_op op) { return op >= PQ_OP_AND && op <= PQ_OP_UNLESS; }

const struct pq_node *pq_unparen(const struct pq_node *n)
{
	while (n && n->kind == PQ_PAREN)
		n = n->sub;
	return n;
}

static const char *type_name(enum pq_value_type t)
{
	switch (t) {
	case PQ_VAL_SCALAR: return "scalar";
	case PQ_VAL_VECTOR: return "instant vector";
	case PQ_VAL_MATRIX: return "range vector";
	case PQ_VAL_STRING: return "string";
	default: return "none";
	}
}

static void strs_free(struct pq_strs *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void strs_add(struct pq_strs *s, const char *v)
{
	s->v = xreallocarray(s->v, s->n + 1, sizeof(char *));
	s->v[s->n++] = xstrdup(v);
}

void pq_node_free(struct pq_node *n)
{
	if (!n)
		return;
	free(n->str);
	for (size_t i = 0; i < n->nms; i++)
		matcher_free(&n->ms[i]);
	free(n->ms);
	pq_node_free(n->sub);
	pq_node_free(n->lhs);
	pq_node_free(n->rhs);
	pq_node_free(n->param);
	for (size_t i = 0; i < n->nargs; i++)
		pq_node_free(n->args[i]);
	free(n->args);
	strs_free(&n->vm_labels);
	strs_free(&n->include);
	strs_free(&n->grouping);
	free(n);
}

static struct pq_node *node_new(enum pq_kind k, int pos)
{
	struct pq_node *n = xcalloc(1, sizeof(*n));
	n->kind = k;
	n->pos = pos;
	n->end = pos;
	return n;
}

static void perr_at(struct parser *p, int pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void perr_at(struct parser *p, int pos, const char *fmt, ...)
{
	if (p->failed)
		return;
	p->failed = 1;
	int line = 1, col = 1;
	for (int i = 0; i < pos && (size_t)i < p->lx.len; i++) {
		if (p->lx.src[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (p->err)
		snprintf(p->err, p->errsz, "%d:%d: parse error: %s", line, col, msg);
}

static void next(struct parser *p)
{
	free(p->tok.str);
	pq_lex_next(&p->lx, &p->tok);
	if (p->tok.type == TK_ERR)
		perr_at(p, p->tok.pos, "%s", p->tok.str);
	else if (p->tok.type == TK_OPEN_HIST)
		perr_at(p, p->tok.pos, "native histograms are not supported");
}

static void unexpected(struct parser *p, const char *ctx)
{
	char d[128];
	const char *desc = pq_tok_desc(&p->lx, &p->tok, d, sizeof(d));
	if (ctx)
		perr_at(p, p->tok.pos, "unexpected %s in %s", desc, ctx);
	else
		perr_at(p, p->tok.pos, "unexpected %s", desc);
}

static int is_kw(const struct parser *p, const char *kw)
{
	return p->tok.type == TK_IDENT && strcasecmp(p->tok.str, kw) == 0;
}

static int expect(struct parser *p, enum pq_tok t, const char *ctx)
{
	if (p->failed)
		return -1;
	if (p->tok.type != t) {
		unexpected(p, ctx);
		return -1;
	}
	next(p);
	return p->failed ? -1 : 0;
}

static int agg_lookup(const char *s)
{
	for (size_t i = 0; i < sizeof(agg_names) / sizeof(agg_names[0]); i++)
		if (strcasecmp(s, agg_names[i]) == 0)
			return (int)i;
	return -1;
}

static struct pq_node *parse_expr(struct parser *p, int min_prec);

/* "(a, b, c)" label lists for by/without/on/ignoring/group_x. */
static int parse_label_list(struct parser *p, struct pq_strs *out, const char *ctx)
{
	if (p->tok.type != TK_LPAREN) {
		char d[128];
		perr_at(p, p->tok.pos, "unexpected %s in %s, expected \"(\"", pq_tok_desc(&p->lx, &p->tok, d, sizeof(d)), ctx);
		return -1;
	}
	next(p);
	while (!p->failed && p->tok.type != TK_RPAREN) {
		if (p->tok.type == TK_IDENT || p->tok.type == TK_STR) {
			if (p->tok.type == TK_IDENT && !label_name_valid(p->tok.str)) {
				perr_at(p, p->tok.pos, "invalid label name \"%s\"", p->tok.str);
				return -1;
			}
			strs_add(out, p->tok.str);
			next(p);
		} else if (p->tok.type == TK_NUM && p->tok.len == 3) {
			/* "inf"/"nan" lexed as numbers are still label names here */
			char *s = xstrndup(p->lx.src + p->tok.pos, 3);
			strs_add(out, s);
			free(s);
			next(p);
		} else {
			unexpected(p, "grouping opts");
			return -1;
		}
		if (p->tok.type == TK_COMMA)
			next(p);
		else if (p->tok.type != TK_RPAREN) {
			unexpected(p, "grouping opts");
			return -1;
		}
	}
	return expect(p, TK_RPAREN, ctx);
}

/* A duration: "5m", or a number of seconds. */
static int parse_dur(struct parser *p, int64_t *ms, int allow_neg, const char *ctx)
{
	int neg = 0;
	if (allow_neg && (p->tok.type == TK_SUB || p->tok.type == TK_ADD)) {
		neg = p->tok.type == TK_SUB;
		next(p);
	}
	if (p->tok.type == TK_DUR) {
		*ms = (int64_t)p->tok.num;
	} else if (p->tok.type == TK_NUM && isfinite(p->tok.num) && fabs(p->tok.num) < 9e15) {
		*ms = (int64_t)llround(p->tok.num * 1000);
	} else if (ctx) {
		char d[128];
		perr_at(p, p->tok.pos, "unexpected %s in %s, expected duration", pq_tok_desc(&p->lx, &p->tok, d, sizeof(d)), ctx);
		return -1;
	} else {
		unexpected(p, NULL);
		return -1;
	}
	if (neg)
		*ms = -*ms;
	next(p);
	return p->failed ? -1 : 0;
}

/* 1 if s is valid UTF-8 (regexes are compiled without PCRE2's own check). */
static int utf8_valid(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	while (*u) {
		size_t len = *u < 0x80 ? 1 : (*u >> 5) == 6 ? 2 : (*u >> 4) == 14 ? 3 : (*u >> 3) == 30 ? 4 : 0;
		if (!len || (len == 2 && *u < 0xC2))
			return 0;
		for (size_t j = 1; j < len; j++)
			if ((u[j] & 0xC0) != 0x80)
				return 0;
		u += len;
	}
	return 1;
}

static int parse_matchers(struct parser *p, struct pq_node *n)
{
	/* after '{' */
	while (!p->failed && p->tok.type != TK_RBRACE) {
		char *lname = NULL;
		int lpos = p->tok.pos;
		if (p->tok.type == TK_IDENT) {
			lname = xstrdup(p->tok.str);
		} else if (p->tok.type == TK_STR) {
			lname = xstrdup(p->tok.str);
		} else if (p->tok.type == TK_NUM && p->tok.len == 3) {
			lname = xstrndup(p->lx.src + p->tok.pos, 3);
		} else {
			unexpected(p, "label matching");
			return -1;
		}
		int was_str = p->tok.type == TK_STR;
		next(p);
		enum match_type mt;
		switch (p->tok.type) {
		case TK_ASSIGN: mt = MATCH_EQ; break;
		case TK_NEQ: mt = MATCH_NE; break;
		case TK_EQ_RE: mt = MATCH_RE; break;
		case TK_NEQ_RE: mt = MATCH_NRE; break;
		case TK_COMMA: case TK_RBRACE:
			if (was_str) {
				/* {"metric.name"} quoted metric name */
				if (n->str) {
					perr_at(p, lpos, "metric name must not be set twice: \"%s\" or \"%s\"", n->str, lname);
					free(lname);
					return -1;
				}
				n->str = lname;
				if (p->tok.type == TK_COMMA)
					next(p);
				continue;
			}
			/* fallthrough */
		default:
			free(lname);
			unexpected(p, "label matching");
			return -1;
		}
		if (!was_str && !label_name_valid(lname)) {
			perr_at(p, lpos, "invalid label name \"%s\"", lname);
			free(lname);
			return -1;
		}
		next(p);
		if (p->tok.type != TK_STR) {
			free(lname);
			unexpected(p, "label matching");
			return -1;
		}
		if ((mt == MATCH_RE || mt == MATCH_NRE) && !utf8_valid(p->tok.str)) {
			perr_at(p, p->tok.pos, "invalid regular expression: invalid UTF-8");
			free(lname);
			return -1;
		}
		n->ms = xreallocarray(n->ms, n->nms + 1, sizeof(*n->ms));
		char e[256];
		if (matcher_init(&n->ms[n->nms], mt, lname, p->tok.str, e, sizeof(e)) < 0) {
			perr_at(p, lpos, "%s", e);
			free(lname);
			return -1;
		}
		n->nms++;
		free(lname);
		next(p);
		if (p->tok.type == TK_COMMA)
			next(p);
		else if (p->tok.type != TK_RBRACE) {
			unexpected(p, "label matching");
			return -1;
		}
	}
	n->end = p->tok.pos + 1;
	return expect(p, TK_RBRACE, "label matching");
}

static struct pq_node *parse_selector(struct parser *p, char *name, int pos)
{
	struct pq_node *n = node_new(PQ_VSEL, pos);
	n->type = PQ_VAL_VECTOR;
	n->str = name;
	n->end = pos + (name ? (int)strlen(name) : 0);
	if (p->tok.type == TK_LBRACE) {
		char *given = name ? xstrdup(name) : NULL;
		free(n->str);
		n->str = NULL;
		next(p);
		if (parse_matchers(p, n) < 0) {
			free(given);
			goto fail;
		}
		if (given && n->str) {
			perr_at(p, pos, "metric name must not be set twice: \"%s\" or \"%s\"", given, n->str);
			free(given);
			goto fail;
		}
		if (given)
			n->str = given;
	}
	/* name from __name__="x" matcher also counts; a literal name becomes a matcher */
	for (size_t i = 0; i < n->nms; i++) {
		if (strcmp(n->ms[i].name, "__name__") == 0 && n->str) {
			perr_at(p, pos, "metric name must not be set twice: \"%s\" or \"%s\"", n->str, n->ms[i].value);
			goto fail;
		}
	}
	if (n->str) {
		n->ms = xreallocarray(n->ms, n->nms + 1, sizeof(*n->ms));
		memmove(n->ms + 1, n->ms, n->nms * sizeof(*n->ms));
		matcher_init(&n->ms[0], MATCH_EQ, "__name__", n->str, NULL, 0);
		n->nms++;
	}
	int nonempty = 0;
	for (size_t i = 0; i < n->nms; i++)
		if (!matcher_matches_empty(&n->ms[i]))
			nonempty = 1;
	if (!nonempty) {
		perr_at(p, pos, "vector selector must contain at least one non-empty matcher");
		goto fail;
	}
	return n;
fail:
	pq_node_free(n);
	return NULL;
}

static int check_agg_types(struct parser *p, struct pq_node *n)
{
	if (n->sub->type != PQ_VAL_VECTOR) {
		perr_at(p, n->sub->pos, "expected type instant vector in aggregation expression, got %s", type_name(n->sub->type));
		return -1;
	}
	enum pq_value_type want = PQ_VAL_NONE;
	switch (n->agg) {
	case PQ_AGG_TOPK: case PQ_AGG_BOTTOMK: case PQ_AGG_QUANTILE:
	case PQ_AGG_LIMITK: case PQ_AGG_LIMIT_RATIO:
		want = PQ_VAL_SCALAR;
		break;
	case PQ_AGG_COUNT_VALUES:
		want = PQ_VAL_STRING;
		break;
	default:
		break;
	}
	if (want == PQ_VAL_NONE && n->param) {
		perr_at(p, n->pos, "wrong number of arguments for aggregate expression provided, expected 1, got 2");
		return -1;
	}
	if (want != PQ_VAL_NONE) {
		if (!n->param) {
			perr_at(p, n->pos, "wrong number of arguments for aggregate expression provided, expected 2, got 1");
			return -1;
		}
		if (n->param->type != want) {
			perr_at(p, n->param->pos, "expected type %s in aggregation parameter, got %s", type_name(want), type_name(n->param->type));
			return -1;
		}
	}
	/* count_values' label may be any UTF-8 name (Prometheus 3); invalid UTF-8
	 * is rejected at evaluation with Prometheus's message */
	return 0;
}

static struct pq_node *parse_agg(struct parser *p, int agg, int pos)
{
	struct pq_node *n = node_new(PQ_AGG, pos);
	n->agg = (enum pq_agg)agg;
	n->type = PQ_VAL_VECTOR;
	if (is_kw(p, "by") || is_kw(p, "without")) {
		n->without = is_kw(p, "without");
		n->grouping_set = 1;
		next(p);
		if (parse_label_list(p, &n->grouping, "grouping opts") < 0)
			goto fail;
	}
	if (expect(p, TK_LPAREN, "aggregation") < 0)
		goto fail;
	struct pq_node *a = parse_expr(p, 0);
	if (!a)
		goto fail;
	if (p->tok.type == TK_COMMA) {
		next(p);
		n->param = a;
		n->sub = parse_expr(p, 0);
		if (!n->sub)
			goto fail;
	} else {
		n->sub = a;
	}
	if (p->tok.type == TK_COMMA) {
		perr_at(p, p->tok.pos, "wrong number of arguments for aggregate expression provided, expected 2, got 3");
		goto fail;
	}
	n->end = p->tok.pos + 1;
	if (expect(p, TK_RPAREN, "aggregation") < 0)
		goto fail;
	if (is_kw(p, "by") || is_kw(p, "without")) {
		if (n->grouping_set) {
			perr_at(p, p->tok.pos, "aggregation must only contain one grouping clause");
			goto fail;
		}
		n->without = is_kw(p, "without");
		n->grouping_set = 1;
		next(p);
		n->end = p->tok.pos;
		if (parse_label_list(p, &n->grouping, "grouping opts") < 0)
			goto fail;
	}
	if (check_agg_types(p, n) < 0)
		goto fail;
	return n;
fail:
	pq_node_free(n);
	return NULL;
}

static struct pq_node *parse_call(struct parser *p, const struct pq_func *f, int pos)
{
	struct pq_node *n = node_new(PQ_CALL, pos);
	n->func = f;
	n->type = f->ret;
	next(p);	/* '(' */
	while (!p->failed && p->tok.type != TK_RPAREN) {
		struct pq_node *a = parse_expr(p, 0);
		if (!a)
			goto fail;
		n->args = xreallocarray(n->args, n->nargs + 1, sizeof(*n->args));
		n->args[n->nargs++] = a;
		if (p->tok.type == TK_COMMA) {
			next(p);
			if (p->tok.type == TK_RPAREN) {
				unexpected(p, "function call");
				goto fail;
			}
		} else if (p->tok.type != TK_RPAREN) {
			unexpected(p, "function call");
			goto fail;
		}
	}
	n->end = p->tok.pos + 1;
	if (expect(p, TK_RPAREN, "function call") < 0)
		goto fail;
	int na = (int)n->nargs;
	if (f->variadic == 0 && na != f->nargs) {
		perr_at(p, pos, "expected %d argument(s) in call to \"%s\", got %d", f->nargs, f->name, na);
		goto fail;
	}
	if (f->variadic > 0 && (na < f->nargs || na > f->nargs + f->variadic)) {
		if (na < f->nargs)
			perr_at(p, pos, "expected at least %d argument(s) in call to \"%s\", got %d", f->nargs, f->name, na);
		else
			perr_at(p, pos, "expected at most %d argument(s) in call to \"%s\", got %d", f->nargs + f->variadic, f->name, na);
		goto fail;
	}
	if (f->variadic < 0 && na < f->nargs) {
		perr_at(p, pos, "expected at least %d argument(s) in call to \"%s\", got %d", f->nargs, f->name, na);
		goto fail;
	}
	for (int i = 0; i < na; i++) {
		enum pq_value_type want = PQ_VAL_NONE;
		for (int k = i < 6 ? i : 5; k >= 0 && want == PQ_VAL_NONE; k--)
			want = f->args[k];
		if (n->args[i]->type != want) {
			perr_at(p, n->args[i]->pos, "expected type %s in call to function \"%s\", got %s",
			    type_name(want), f->name, type_name(n->args[i]->type));
			goto fail;
		}
	}
	return n;
fail:
	pq_node_free(n);
	return NULL;
}

static struct pq_node *parse_primary(struct parser *p)
{
	int pos = p->tok.pos;
	struct pq_node *n;
	switch (p->tok.type) {
	case TK_NUM:
	case TK_DUR:
		n = node_new(PQ_NUM, pos);
		n->type = PQ_VAL_SCALAR;
		n->num = p->tok.type == TK_DUR ? p->tok.num / 1000.0 : p->tok.num;
		n->end = pos + p->tok.len;
		next(p);
		return n;
	case TK_STR:
		n = node_new(PQ_STR, pos);
		n->type = PQ_VAL_STRING;
		n->str = xstrdup(p->tok.str);
		n->end = pos + p->tok.len;
		next(p);
		return n;
	case TK_LPAREN: {
		next(p);
		struct pq_node *in = parse_expr(p, 0);
		if (!in)
			return NULL;
		n = node_new(PQ_PAREN, pos);
		n->sub = in;
		n->type = in->type;
		n->end = p->tok.pos + 1;
		if (expect(p, TK_RPAREN, "paren expression") < 0) {
			pq_node_free(n);
			return NULL;
		}
		return n;
	}
	case TK_LBRACE:
		return parse_selector(p, NULL, pos);
	case TK_IDENT: {
		char *name = xstrdup(p->tok.str);
		next(p);
		if (p->failed) {
			free(name);
			return NULL;
		}
		int agg = agg_lookup(name);
		if (agg >= 0 && (p->tok.type == TK_LPAREN || is_kw(p, "by") || is_kw(p, "without"))) {
			free(name);
			return parse_agg(p, agg, pos);
		}
		if (p->tok.type == TK_LPAREN) {
			const struct pq_func *f = pq_func_lookup(name);
			if (!f) {
				perr_at(p, pos, "unknown function with name \"%s\"", name);
				free(name);
				return NULL;
			}
			free(name);
			return parse_call(p, f, pos);
		}
		static const char *const kws[] = { "and", "or", "unless", "atan2", "by", "without",
			"on", "ignoring", "group_left", "group_right", "bool", "offset" };
		for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++) {
			if (strcasecmp(name, kws[i]) == 0) {
				perr_at(p, pos, "unexpected <op:%s>", kws[i]);
				free(name);
				return NULL;
			}
		}
		return parse_selector(p, name, pos);
	}
	case TK_EOF:
		perr_at(p, pos, "unexpected end of input");
		return NULL;
	default:
		unexpected(p, NULL);
		return NULL;
	}
}

static int parse_at(struct parser *p, enum pq_at *at, int64_t *at_ms)
{
	if (*at != PQ_AT_NONE) {
		perr_at(p, p->tok.pos, "@ <timestamp> may not be set multiple times");
		return -1;
	}
	next(p);
	if (is_kw(p, "start") || is_kw(p, "end")) {
		*at = is_kw(p, "start") ? PQ_AT_START : PQ_AT_END;
		next(p);
		if (expect(p, TK_LPAREN, NULL) < 0 || expect(p, TK_RPAREN, NULL) < 0)
			return -1;
		return 0;
	}
	int neg = 0;
	if (p->tok.type == TK_SUB || p->tok.type == TK_ADD) {
		neg = p->tok.type == TK_SUB;
		next(p);
	}
	if (p->tok.type != TK_NUM && p->tok.type != TK_DUR) {
		char d[128];
		perr_at(p, p->tok.pos, "unexpected %s in @, expected timestamp", pq_tok_desc(&p->lx, &p->tok, d, sizeof(d)));
		return -1;
	}
	double v = p->tok.type == TK_DUR ? p->tok.num / 1000 : p->tok.num;
	if (neg)
		v = -v;
	if (!isfinite(v) || fabs(v) * 1000 > 9.2e18) {
		perr_at(p, p->tok.pos, "timestamp out of bounds for @ modifier: %g", v);
		return -1;
	}
	*at = PQ_AT_TIME;
	*at_ms = (int64_t)llround(v * 1000);
	next(p);
	return p->failed ? -1 : 0;
}

/* [range], [range:step], offset, @ after an expression. */
static struct pq_node *parse_postfix(struct parser *p, struct pq_node *n)
{
	while (n && !p->failed) {
		if (p->tok.type == TK_LBRACK) {
			int bpos = p->tok.pos;
			next(p);
			int64_t range;
			int dpos = p->tok.pos;
			if (parse_dur(p, &range, 0, NULL) < 0)
				goto fail;
			if (p->tok.type == TK_COLON) {
				next(p);
				int64_t step = 0;
				if (p->tok.type != TK_RBRACK && parse_dur(p, &step, 0, NULL) < 0)
					goto fail;
				if (n->type != PQ_VAL_VECTOR) {
					perr_at(p, n->pos, "subquery is only allowed on instant vector, got %s instead", type_name(n->type));
					goto fail;
				}
				struct pq_node *s = node_new(PQ_SUBQ, n->pos);
				s->sub = n;
				s->range_ms = range;
				s->step_ms = step;
				s->type = PQ_VAL_MATRIX;
				n = s;
			} else {
				if (n->kind != PQ_VSEL || n->offset_ms || n->at != PQ_AT_NONE) {
					perr_at(p, bpos, n->kind == PQ_VSEL ? "no offset modifiers allowed before range" : "ranges only allowed for vector selectors");
					goto fail;
				}
				struct pq_node *m = node_new(PQ_MSEL, n->pos);
				m->sub = n;
				m->range_ms = range;
				m->type = PQ_VAL_MATRIX;
				n = m;
			}
			if (n->range_ms <= 0 && !p->failed) {
				perr_at(p, dpos, "duration must be greater than 0");
				goto fail;
			}
			n->end = p->tok.pos + 1;
			if (expect(p, TK_RBRACK, NULL) < 0)
				goto fail;
		} else if (is_kw(p, "offset") || p->tok.type == TK_AT) {
			struct pq_node *t = n->kind == PQ_MSEL ? n->sub : n;
			if (t->kind != PQ_VSEL && t->kind != PQ_SUBQ) {
				perr_at(p, p->tok.pos, is_kw(p, "offset") ?
				    "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery" :
				    "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery");
				goto fail;
			}
			if (p->tok.type == TK_AT) {
				if (parse_at(p, &t->at, &t->at_ms) < 0)
					goto fail;
			} else {
				if (t->offset_ms) {
					perr_at(p, p->tok.pos, "offset may not be set multiple times");
					goto fail;
				}
				next(p);
				if (parse_dur(p, &t->offset_ms, 1, "offset") < 0)
					goto fail;
			}
			n->end = p->tok.pos;
		} else {
			break;
		}
	}
	return n;
fail:
	pq_node_free(n);
	return NULL;
}

static int binop_of(const struct parser *p, enum pq_op *op, int *prec, int *right)
{
	*right = 0;
	switch (p->tok.type) {
	case TK_POW: *op = PQ_OP_POW; *prec = 6; *right = 1; return 1;
	case TK_MUL: *op = PQ_OP_MUL; *prec = 5; return 1;
	case TK_DIV: *op = PQ_OP_DIV; *prec = 5; return 1;
	case TK_MOD: *op = PQ_OP_MOD; *prec = 5; return 1;
	case TK_ADD: *op = PQ_OP_ADD; *prec = 4; return 1;
	case TK_SUB: *op = PQ_OP_SUB; *prec = 4; return 1;
	case TK_EQLC: *op = PQ_OP_EQ; *prec = 3; return 1;
	case TK_NEQ: *op = PQ_OP_NE; *prec = 3; return 1;
	case TK_LT: *op = PQ_OP_LT; *prec = 3; return 1;
	case TK_LTE: *op = PQ_OP_LE; *prec = 3; return 1;
	case TK_GT: *op = PQ_OP_GT; *prec = 3; return 1;
	case TK_GTE: *op = PQ_OP_GE; *prec = 3; return 1;
	case TK_IDENT:
		if (is_kw(p, "atan2")) { *op = PQ_OP_ATAN2; *prec = 5; return 1; }
		if (is_kw(p, "and")) { *op = PQ_OP_AND; *prec = 2; return 1; }
		if (is_kw(p, "unless")) { *op = PQ_OP_UNLESS; *prec = 2; return 1; }
		if (is_kw(p, "or")) { *op = PQ_OP_OR; *prec = 1; return 1; }
		return 0;
	default:
		return 0;
	}
}

static int parse_bin_mods(struct parser *p, struct pq_node *b)
{
	if (is_kw(p, "bool")) {
		b->return_bool = 1;
		next(p);
	}
	if (is_kw(p, "on") || is_kw(p, "ignoring")) {
		b->vm_set = 1;
		b->vm_on = is_kw(p, "on");
		next(p);
		if (parse_label_list(p, &b->vm_labels, "grouping opts") < 0)
			return -1;
		if (is_kw(p, "group_left") || is_kw(p, "group_right")) {
			b->card = is_kw(p, "group_left") ? PQ_CARD_MANY_TO_ONE : PQ_CARD_ONE_TO_MANY;
			next(p);
			if (p->tok.type == TK_LPAREN && parse_label_list(p, &b->include, "grouping opts") < 0)
				return -1;
		}
	} else if (is_kw(p, "group_left") || is_kw(p, "group_right")) {
		unexpected(p, NULL);
		return -1;
	}
	return p->failed ? -1 : 0;
}

/* Prometheus's checks, each reported where Prometheus points: at the
 * operator (op_pos), at the bad operand, or at the whole expression. */
static int check_binary(struct parser *p, struct pq_node *b, int op_pos)
{
	enum pq_value_type lt = b->lhs->type, rt = b->rhs->type;
	if (b->return_bool && !pq_op_is_cmp(b->op)) {
		perr_at(p, op_pos, "bool modifier can only be used on comparison operators");
		return -1;
	}
	if (pq_op_is_cmp(b->op) && !b->return_bool && lt == PQ_VAL_SCALAR && rt == PQ_VAL_SCALAR) {
		perr_at(p, op_pos, "comparisons between scalars must use BOOL modifier");
		return -1;
	}
	if (b->vm_on)
		for (size_t j = 0; j < b->vm_labels.n; j++)
			for (size_t i = 0; i < b->include.n; i++)
				if (strcmp(b->include.v[i], b->vm_labels.v[j]) == 0) {
					perr_at(p, op_pos, "label \"%s\" must not occur in ON and GROUP clause at once", b->include.v[i]);
					return -1;
				}
	if (lt != PQ_VAL_SCALAR && lt != PQ_VAL_VECTOR) {
		perr_at(p, b->lhs->pos, "binary expression must contain only scalar and instant vector types");
		return -1;
	}
	if (rt != PQ_VAL_SCALAR && rt != PQ_VAL_VECTOR) {
		perr_at(p, b->rhs->pos, "binary expression must contain only scalar and instant vector types");
		return -1;
	}
	if (lt != PQ_VAL_VECTOR || rt != PQ_VAL_VECTOR) {
		if (b->vm_set && b->vm_labels.n) {
			perr_at(p, b->pos, "vector matching only allowed between instant vectors");
			return -1;
		}
		/* on()/ignoring() with no labels against a scalar is dropped silently */
		b->vm_set = 0;
		b->vm_on = 0;
	} else if (pq_op_is_set(b->op) && (b->card == PQ_CARD_MANY_TO_ONE || b->card == PQ_CARD_ONE_TO_MANY)) {
		perr_at(p, b->pos, "no grouping allowed for \"%s\" operation", pq_op_str(b->op));
		return -1;
	}
	if (pq_op_is_set(b->op)) {
		if (lt == PQ_VAL_SCALAR || rt == PQ_VAL_SCALAR) {
			perr_at(p, b->pos, "set operator \"%s\" not allowed in binary scalar expression", pq_op_str(b->op));
			return -1;
		}
		b->card = PQ_CARD_MANY_TO_MANY;
	}
	b->type = (lt == PQ_VAL_VECTOR || rt == PQ_VAL_VECTOR) ? PQ_VAL_VECTOR : PQ_VAL_SCALAR;
	return 0;
}

static struct pq_node *parse_unary(struct parser *p)
{
	if (p->tok.type == TK_ADD || p->tok.type == TK_SUB) {
		int pos = p->tok.pos;
		enum pq_op op = p->tok.type == TK_ADD ? PQ_OP_ADD : PQ_OP_SUB;
		next(p);
		struct pq_node *in = parse_expr(p, 6);
		if (!in)
			return NULL;
		if (in->type != PQ_VAL_SCALAR && in->type != PQ_VAL_VECTOR) {
			perr_at(p, pos, "unary expression only allowed on expressions of type scalar or instant vector, got \"%s\"", type_name(in->type));
			pq_node_free(in);
			return NULL;
		}
		if (in->kind == PQ_NUM) {
			if (op == PQ_OP_SUB)
				in->num = -in->num;
			in->pos = pos;
			return in;
		}
		struct pq_node *u = node_new(PQ_UNARY, pos);
		u->op = op;
		u->sub = in;
		u->type = in->type;
		u->end = in->end;
		return u;
	}
	struct pq_node *n = parse_primary(p);
	return parse_postfix(p, n);
}

static struct pq_node *parse_expr(struct parser *p, int min_prec)
{
	if (++p->depth > PQ_DEPTH_MAX) {
		perr_at(p, p->tok.pos, "expression nested too deeply");
		p->depth--;
		return NULL;
	}
	struct pq_node *lhs = parse_unary(p);
	enum pq_op op;
	int prec, right;
	while (lhs && !p->failed && binop_of(p, &op, &prec, &right) && prec >= min_prec) {
		struct pq_node *b = node_new(PQ_BINARY, lhs->pos);
		int op_pos = p->tok.pos;
		b->op = op;
		b->lhs = lhs;
		lhs = NULL;
		next(p);
		if (parse_bin_mods(p, b) < 0) {
			pq_node_free(b);
			break;
		}
		b->rhs = parse_expr(p, right ? prec : prec + 1);
		if (!b->rhs) {
			pq_node_free(b);
			break;
		}
		b->end = b->rhs->end;
		if (check_binary(p, b, op_pos) < 0) {
			pq_node_free(b);
			break;
		}
		lhs = b;
	}
	if (p->failed) {
		pq_node_free(lhs);
		lhs = NULL;
	}
	p->depth--;
	return lhs;
}

int pq_parse(const char *q, struct pq_expr **out, char *err, size_t errsz)
{
	struct parser p;
	memset(&p, 0, sizeof(p));
	*out = NULL;
	p.err = err;
	p.errsz = errsz;
	p.lx.src = q;
	p.lx.len = strlen(q);
	if (p.lx.len > PQ_QUERY_MAX) {
		snprintf(err, errsz, "1:1: parse error: query longer than %u bytes", PQ_QUERY_MAX);
		return PQ_ERR_BAD_DATA;
	}
	next(&p);
	struct pq_node *root = NULL;
	if (!p.failed && p.tok.type == TK_EOF)
		perr_at(&p, 0, "no expression found in input");
	else if (!p.failed)
		root = parse_expr(&p, 0);
	if (root && !p.failed && p.tok.type != TK_EOF)
		unexpected(&p, NULL);
	free(p.tok.str);
	if (p.failed || !root) {
		pq_node_free(root);
		if (!p.failed && err)
			snprintf(err, errsz, "1:1: parse error: invalid expression");
		return PQ_ERR_BAD_DATA;
	}
	struct pq_expr *e = xcalloc(1, sizeof(*e));
	e->root = root;
	e->text = xstrdup(q);
	*out = e;
	return 0;
}

void pq_free(struct pq_expr *e)
{
	if (!e)
		return;
	pq_node_free(e->root);
	free(e->text);
	free(e);
}

enum pq_value_type pq_expr_type(const struct pq_expr *e)
{
	return e->root->type;
}

const char *pq_value_type_name(enum pq_value_type t)
{
	switch (t) {
	case PQ_VAL_SCALAR: return "scalar";
	case PQ_VAL_VECTOR: return "vector";
	case PQ_VAL_MATRIX: return "matrix";
	case PQ_VAL_STRING: return "string";
	default: return "none";
	}
}

int pq_expr_is_selector(const struct pq_expr *e)
{
	return e && e->root->kind == PQ_VSEL;
}

const struct matcher *pq_expr_matchers(const struct pq_expr *e, size_t *n)
{
	if (!pq_expr_is_selector(e)) {
		*n = 0;
		return NULL;
	}
	*n = e->root->nms;
	return e->root->ms;
}
