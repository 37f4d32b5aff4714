/*
 * template.c — the subset of Go's text/template that Prometheus alert labels
 * and annotations use in practice (the exact list is in docs/ALERTING.md).
 * Anything outside it is refused when the rule file loads, with line:col.
 *
 * A template compiles to a list of nodes: text, a pipeline to print, or an
 * if/else-if/else block. A pipeline is commands joined by '|'; a command is
 * an operand or a function with arguments; the piped value is the last
 * argument, as in Go.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "alert/template_int.h"
#include "core/xmalloc.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <time.h>

enum var { VAR_LABELS, VAR_VALUE, VAR_EXTLABELS, VAR_EXTURL, VAR_DOT };

enum opd_kind { OPD_VAR, OPD_STR, OPD_NUM, OPD_BOOL, OPD_PIPE };

struct pipe;

struct operand {
	enum opd_kind kind;	/* what it is */
	enum var var;		/* OPD_VAR: which variable */
	char *dfield;		/* VAR_DOT: field of the dot (.Labels; NULL: the dot itself) */
	char *field;		/* OPD_VAR: map key after the variable (NULL: none) */
	char *s;		/* OPD_STR: the literal (owned) */
	double num;		/* OPD_NUM / OPD_BOOL value */
	int is_int;		/* OPD_NUM: written without '.', 'e' */
	struct pipe *sub;	/* OPD_PIPE: parenthesised pipeline */
};

static const struct {
	const char *name;	/* function name */
	int min, max;		/* argument count range (including a piped value) */
} fns[FN_COUNT] = {
	[FN_HUMANIZE] = { "humanize", 1, 1 }, [FN_HUMANIZE1024] = { "humanize1024", 1, 1 },
	[FN_HUMANIZE_PCT] = { "humanizePercentage", 1, 1 },
	[FN_HUMANIZE_DUR] = { "humanizeDuration", 1, 1 }, [FN_PRINTF] = { "printf", 1, 16 },
	[FN_TOUPPER] = { "toUpper", 1, 1 }, [FN_TOLOWER] = { "toLower", 1, 1 },
	[FN_TITLE] = { "title", 1, 1 }, [FN_EQ] = { "eq", 2, 2 }, [FN_NE] = { "ne", 2, 2 },
	[FN_LT] = { "lt", 2, 2 }, [FN_LE] = { "le", 2, 2 }, [FN_GT] = { "gt", 2, 2 },
	[FN_GE] = { "ge", 2, 2 }, [FN_AND] = { "and", 1, 16 }, [FN_OR] = { "or", 1, 16 },
	[FN_NOT] = { "not", 1, 1 }, [FN_INDEX] = { "index", 2, 2 },
	[FN_REREPLACEALL] = { "reReplaceAll", 3, 3 }, [FN_MATCH] = { "match", 2, 2 },
	[FN_HUMANIZE_TS] = { "humanizeTimestamp", 1, 1 }, [FN_SAFEHTML] = { "safeHtml", 1, 1 },
	[FN_QUERY] = { "query", 1, 1 }, [FN_FIRST] = { "first", 1, 1 }, [FN_LABEL] = { "label", 2, 2 },
	[FN_VALUE] = { "value", 1, 1 }, [FN_STRVALUE] = { "strvalue", 1, 1 },
	[FN_SORTBYLABEL] = { "sortByLabel", 2, 2 }, [FN_PATHPREFIX] = { "pathPrefix", 0, 0 },
	[FN_EXTERNALURL] = { "externalURL", 0, 0 }, [FN_STRIPPORT] = { "stripPort", 1, 1 },
	[FN_STRIPDOMAIN] = { "stripDomain", 1, 1 }, [FN_PARSEDURATION] = { "parseDuration", 1, 1 },
	[FN_TOTIME] = { "toTime", 1, 1 }, [FN_GRAPHLINK] = { "graphLink", 1, 1 },
	[FN_TABLELINK] = { "tableLink", 1, 1 },
};

struct cmd {
	enum fn fn;		/* function, or FN_NONE for a bare operand */
	struct operand *args;	/* arguments (or the one operand) */
	size_t nargs;		/* entries in args */
};

struct pipe {
	struct cmd *cmds;	/* commands joined by '|' */
	size_t n;		/* entries in cmds */
};

enum node_kind { NODE_TEXT, NODE_PRINT, NODE_IF, NODE_WITH, NODE_RANGE };

struct node {
	enum node_kind kind;	/* what it is */
	const char *text;	/* NODE_TEXT: start in the template's copy */
	size_t len;		/* NODE_TEXT: bytes */
	struct pipe *pipe;	/* NODE_PRINT: value to print; NODE_IF/WITH/RANGE: its argument */
	struct nodes *then;	/* NODE_IF/WITH/RANGE: body */
	struct nodes *els;	/* NODE_IF/WITH/RANGE: else body (NULL: none) */
};

struct nodes {
	struct node *v;		/* nodes in order */
	size_t n, cap;		/* used / allocated */
};

struct template {
	char *src;		/* copy of the source text; NODE_TEXT points into it */
	struct nodes *root;	/* top-level nodes */
};

/* ---- parsing ---- */

struct tparse {
	const char *src;	/* the template copy */
	size_t n;		/* its length */
	size_t pos;		/* next byte (text or inside an action) */
	size_t act_end;		/* end of the current action's body */
	size_t act_close;	/* just past the current action's closing braces */
	int trim_pending;	/* the last action ended with "-}}": trim the next text */
	char *err;		/* error buffer */
	size_t errsz;		/* its size */
	int failed;		/* an error was reported */
	int depth;		/* nesting */
	int scope;		/* inside with/range bodies: the dot is not the data */
};

static int terr(struct tparse *p, size_t at, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int terr(struct tparse *p, size_t at, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	int line = 1, col = 1;
	for (size_t i = 0; i < at && i < p->n; i++) {
		if (p->src[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char msg[ALERT_ERR_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errsz, "%d:%d: %s", line, col, msg);
	p->failed = 1;
	return -1;
}

static void pipe_free(struct pipe *pp);

static void operand_free(struct operand *o)
{
	free(o->field);
	free(o->dfield);
	free(o->s);
	pipe_free(o->sub);
}

static void pipe_free(struct pipe *pp)
{
	if (!pp)
		return;
	for (size_t i = 0; i < pp->n; i++) {
		for (size_t j = 0; j < pp->cmds[i].nargs; j++)
			operand_free(&pp->cmds[i].args[j]);
		free(pp->cmds[i].args);
	}
	free(pp->cmds);
	free(pp);
}

static void nodes_free(struct nodes *ns)
{
	if (!ns)
		return;
	for (size_t i = 0; i < ns->n; i++) {
		pipe_free(ns->v[i].pipe);
		nodes_free(ns->v[i].then);
		nodes_free(ns->v[i].els);
	}
	free(ns->v);
	free(ns);
}

static struct node *nodes_push(struct nodes *ns)
{
	if (ns->n == ns->cap) {
		ns->cap = ns->cap ? ns->cap * 2 : 4;
		ns->v = xreallocarray(ns->v, ns->cap, sizeof(*ns->v));
	}
	struct node *nd = &ns->v[ns->n++];
	memset(nd, 0, sizeof(*nd));
	return nd;
}

static void skip_ws(struct tparse *p)
{
	while (p->pos < p->act_end && isspace((unsigned char)p->src[p->pos]))
		p->pos++;
}

static int is_ident(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* Read an identifier at pos into buf; return its length (0: none). */
static size_t read_ident(struct tparse *p, char *buf, size_t bufsz)
{
	size_t s = p->pos;
	while (p->pos < p->act_end && is_ident(p->src[p->pos]))
		p->pos++;
	size_t len = p->pos - s;
	if (len >= bufsz)
		len = bufsz - 1;
	memcpy(buf, p->src + s, len);
	buf[len] = 0;
	return p->pos - s;
}

static struct pipe *parse_pipe(struct tparse *p, int in_paren);

static int parse_string(struct tparse *p, struct operand *o)
{
	size_t start = p->pos;
	char q = p->src[p->pos++];
	struct buf b;
	buf_init(&b, TEMPLATE_MAX_BYTES);
	while (p->pos < p->act_end && p->src[p->pos] != q) {
		char c = p->src[p->pos++];
		if (q == '"' && c == '\\') {
			if (p->pos >= p->act_end)
				break;
			char e = p->src[p->pos++];
			switch (e) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case '\\': case '"': case '\'': c = e; break;
			default:
				buf_free(&b);
				return terr(p, p->pos - 2, "unknown escape sequence \\%c", e);
			}
		} else if (q == '"' && c == '\n') {
			buf_free(&b);
			return terr(p, start, "unterminated quoted string");
		}
		if (buf_addc(&b, c) < 0) {
			buf_free(&b);
			return terr(p, start, "string too long");
		}
	}
	if (p->pos >= p->act_end) {
		buf_free(&b);
		return terr(p, start, "unterminated %s string", q == '"' ? "quoted" : "raw");
	}
	p->pos++;
	o->kind = OPD_STR;
	o->s = b.data ? buf_detach(&b, NULL) : xstrdup("");
	return 0;
}

static int parse_number(struct tparse *p, struct operand *o)
{
	size_t start = p->pos;
	char tmp[64];
	size_t len = 0;
	while (p->pos < p->act_end && len + 1 < sizeof(tmp) &&
	    (isalnum((unsigned char)p->src[p->pos]) || strchr(".+-_", p->src[p->pos]))) {
		char c = p->src[p->pos];
		if ((c == '+' || c == '-') && len > 0 && tmp[len - 1] != 'e' && tmp[len - 1] != 'E')
			break;
		tmp[len++] = c;
		p->pos++;
	}
	tmp[len] = 0;
	char *end;
	errno = 0;
	double v = strtod(tmp, &end);
	if (len == 0 || *end || errno == ERANGE || isnan(v) || isinf(v) ||
	    (len > 1 && (tmp[0] == 'i' || tmp[0] == 'I' || tmp[0] == 'n' || tmp[0] == 'N')))
		return terr(p, start, "bad number syntax: \"%s\"", tmp);
	o->kind = OPD_NUM;
	o->num = v;
	o->is_int = strpbrk(tmp, ".eEpP") == NULL || (tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'));
	return 0;
}

static int parse_var(struct tparse *p, struct operand *o)
{
	size_t start = p->pos;
	char name[64], field[256];
	int dot = p->src[p->pos] == '.';
	p->pos++;	/* '$' or '.' */
	size_t len = read_ident(p, name, sizeof(name));
	o->kind = OPD_VAR;
	if (dot && p->scope > 0) {
		/* inside with/range: resolved against the dot when it runs */
		o->var = VAR_DOT;
		if (len >= sizeof(name))
			return terr(p, start, "bad field name");
		o->dfield = len ? xstrdup(name) : NULL;
	} else if (dot) {
		if (len == 0)
			return terr(p, start, "\".\" alone is not supported outside with/range; use .Labels, "
			    ".Value, .ExternalLabels or .ExternalURL");
		if (strcmp(name, "Labels") == 0) o->var = VAR_LABELS;
		else if (strcmp(name, "Value") == 0) o->var = VAR_VALUE;
		else if (strcmp(name, "ExternalLabels") == 0) o->var = VAR_EXTLABELS;
		else if (strcmp(name, "ExternalURL") == 0) o->var = VAR_EXTURL;
		else
			return terr(p, start, "unknown field .%s (have .Labels, .Value, .ExternalLabels, .ExternalURL)", name);
	} else {
		if (strcmp(name, "labels") == 0) o->var = VAR_LABELS;
		else if (strcmp(name, "value") == 0) o->var = VAR_VALUE;
		else if (strcmp(name, "externalLabels") == 0) o->var = VAR_EXTLABELS;
		else if (strcmp(name, "externalURL") == 0) o->var = VAR_EXTURL;
		else {
			size_t q = p->pos;
			while (q < p->act_end && isspace((unsigned char)p->src[q]))
				q++;
			if (q + 1 < p->act_end && (p->src[q] == ':' || p->src[q] == '=') )
				return terr(p, q, "variable declarations are not supported");
			return terr(p, start, "undefined variable \"$%s\"", name);
		}
	}
	if (p->pos < p->act_end && p->src[p->pos] == '.') {
		size_t fpos = p->pos;
		p->pos++;
		size_t flen = read_ident(p, field, sizeof(field));
		if (flen == 0 || flen >= sizeof(field))
			return terr(p, fpos, "bad field name after \"%s\"", name);
		if (o->var != VAR_LABELS && o->var != VAR_EXTLABELS && o->var != VAR_DOT)
			return terr(p, fpos, "can't evaluate field %s of a %s", field,
			    o->var == VAR_VALUE ? "number" : "string");
		if (p->pos < p->act_end && p->src[p->pos] == '.')
			return terr(p, p->pos, "a label value has no fields");
		o->field = xstrdup(field);
	}
	return 0;
}

static int parse_operand(struct tparse *p, struct operand *o, int *is_fn, enum fn *fn)
{
	*is_fn = 0;
	memset(o, 0, sizeof(*o));
	char c = p->src[p->pos];
	if (c == '"' || c == '`')
		return parse_string(p, o);
	if (c == '$' || (c == '.' && p->pos + 1 < p->act_end && isalpha((unsigned char)p->src[p->pos + 1])))
		return parse_var(p, o);
	if (c == '.' && (p->pos + 1 >= p->act_end || !isdigit((unsigned char)p->src[p->pos + 1])))
		return parse_var(p, o);
	if (isdigit((unsigned char)c) || c == '-' || c == '+' || c == '.')
		return parse_number(p, o);
	if (c == '(') {
		size_t start = p->pos++;
		if (++p->depth > TEMPLATE_MAX_DEPTH)
			return terr(p, start, "nesting too deep");
		o->kind = OPD_PIPE;
		o->sub = parse_pipe(p, 1);
		p->depth--;
		if (!o->sub)
			return -1;
		if (p->pos >= p->act_end || p->src[p->pos] != ')')
			return terr(p, start, "unclosed left paren");
		p->pos++;
		return 0;
	}
	if (isalpha((unsigned char)c) || c == '_') {
		size_t start = p->pos;
		char name[64];
		size_t len = read_ident(p, name, sizeof(name));
		if (len >= sizeof(name))
			return terr(p, start, "identifier too long");
		if (strcmp(name, "true") == 0 || strcmp(name, "false") == 0) {
			o->kind = OPD_BOOL;
			o->num = name[0] == 't';
			return 0;
		}
		for (int i = 0; i < FN_COUNT; i++) {
			if (strcmp(fns[i].name, name) == 0) {
				*is_fn = 1;
				*fn = (enum fn)i;
				return 0;
			}
		}
		if (strcmp(name, "if") == 0 || strcmp(name, "else") == 0 || strcmp(name, "end") == 0 ||
		    strcmp(name, "range") == 0 || strcmp(name, "with") == 0)
			return terr(p, start, "unexpected \"%s\" in operand", name);
		if (strcmp(name, "define") == 0 || strcmp(name, "template") == 0 || strcmp(name, "block") == 0)
			return terr(p, start, "\"%s\" is not supported by vigil's templates", name);
		return terr(p, start, "function \"%s\" not defined", name);
	}
	return terr(p, p->pos, "unexpected \"%c\" in command", c);
}

/* Parse one command: an operand, or a function and its arguments. */
static int parse_cmd(struct tparse *p, struct cmd *cmd, int first)
{
	size_t start = p->pos;
	cmd->fn = FN_NONE;
	for (;;) {
		skip_ws(p);
		if (p->pos >= p->act_end || p->src[p->pos] == '|' || p->src[p->pos] == ')')
			break;
		if (p->src[p->pos] == ':' || p->src[p->pos] == '=')
			return terr(p, p->pos, "variable declarations are not supported");
		if (cmd->nargs >= 16)
			return terr(p, p->pos, "too many arguments");
		struct operand o;
		int is_fn;
		enum fn fn;
		if (parse_operand(p, &o, &is_fn, &fn) < 0) {
			operand_free(&o);
			return -1;
		}
		if (is_fn) {
			if (cmd->nargs > 0 || cmd->fn != FN_NONE)
				return terr(p, start, "function \"%s\" must come first in a command", fns[fn].name);
			cmd->fn = fn;
			continue;
		}
		cmd->args = xreallocarray(cmd->args, cmd->nargs + 1, sizeof(*cmd->args));
		cmd->args[cmd->nargs++] = o;
		if (p->pos < p->act_end && !isspace((unsigned char)p->src[p->pos]) &&
		    p->src[p->pos] != '|' && p->src[p->pos] != ')')
			return terr(p, p->pos, "unexpected \"%c\" in operand", p->src[p->pos]);
	}
	size_t total = cmd->nargs + (first ? 0 : 1);
	if (cmd->fn == FN_NONE) {
		if (cmd->nargs == 0)
			return terr(p, start, "missing value for command");
		if (cmd->nargs > 1)
			return terr(p, start, "can't give argument to non-function");
		if (!first)
			return terr(p, start, "a piped value needs a function to receive it");
	} else if ((int)total < fns[cmd->fn].min || (int)total > fns[cmd->fn].max) {
		return terr(p, start, "wrong number of args for %s: want %d got %zu", fns[cmd->fn].name,
		    fns[cmd->fn].min, total);
	}
	return 0;
}

static struct pipe *parse_pipe(struct tparse *p, int in_paren)
{
	struct pipe *pp = xcalloc(1, sizeof(*pp));
	for (;;) {
		pp->cmds = xreallocarray(pp->cmds, pp->n + 1, sizeof(*pp->cmds));
		memset(&pp->cmds[pp->n], 0, sizeof(pp->cmds[0]));
		pp->n++;
		if (parse_cmd(p, &pp->cmds[pp->n - 1], pp->n == 1) < 0)
			goto fail;
		skip_ws(p);
		if (p->pos < p->act_end && p->src[p->pos] == '|') {
			p->pos++;
			continue;
		}
		if (p->pos < p->act_end && p->src[p->pos] == ')' && !in_paren) {
			terr(p, p->pos, "unexpected right paren");
			goto fail;
		}
		break;
	}
	return pp;
fail:
	pipe_free(pp);
	return NULL;
}

/* Find the next "{{"; set trim flags and the action's body bounds. */
static int next_action(struct tparse *p, size_t *open, size_t *body, size_t *body_end,
    size_t *close_end, int *ltrim, int *rtrim)
{
	const char *s = p->src + p->pos;
	const char *o = memmem(s, p->n - p->pos, "{{", 2);
	if (!o)
		return 0;
	*open = (size_t)(o - p->src);
	size_t b = *open + 2;
	*ltrim = 0;
	if (b + 1 < p->n && p->src[b] == '-' && isspace((unsigned char)p->src[b + 1])) {
		*ltrim = 1;
		b += 2;
	}
	/* Find the closing braces, skipping quoted strings and comments. */
	size_t i = b;
	int in_comment = 0;
	while (i + 1 < p->n) {
		char c = p->src[i];
		if (!in_comment && i + 1 < p->n && c == '/' && p->src[i + 1] == '*') {
			in_comment = 1;
			i += 2;
			continue;
		}
		if (in_comment) {
			if (c == '*' && p->src[i + 1] == '/')
				in_comment = 0, i += 2;
			else
				i++;
			continue;
		}
		if (c == '"' || c == '`') {
			char q = c;
			i++;
			while (i < p->n && p->src[i] != q) {
				if (q == '"' && p->src[i] == '\\')
					i++;
				if (q == '"' && i < p->n && p->src[i] == '\n')
					break;
				i++;
			}
			i++;
			continue;
		}
		if (c == '}' && p->src[i + 1] == '}')
			break;
		i++;
	}
	if (i + 1 >= p->n)
		return terr(p, *open, "unclosed action");
	*rtrim = 0;
	size_t e = i;
	if (e >= b + 2 && p->src[e - 1] == '-' && isspace((unsigned char)p->src[e - 2])) {
		*rtrim = 1;
		e -= 2;
	}
	*body = b;
	*body_end = e < b ? b : e;
	*close_end = i + 2;
	return 1;
}

enum stop { STOP_EOF, STOP_ELSE, STOP_END, STOP_ELSE_IF };

/* Parse nodes until EOF, {{else}} or {{end}}; sets *why. */
static struct nodes *parse_list(struct tparse *p, enum stop *why, int nested);

/* {{ if P }}, {{ with P }}, {{ range P }} up to its {{ end }}; with and range
 * set the dot for their body (not for the else branch), as in Go. */
static int parse_if(struct tparse *p, struct node *nd, size_t open, enum node_kind kind)
{
	static const char *const kw[] = { [NODE_IF] = "if", [NODE_WITH] = "with", [NODE_RANGE] = "range" };
	if (++p->depth > TEMPLATE_MAX_DEPTH)
		return terr(p, open, "nesting too deep");
	nd->kind = kind;
	skip_ws(p);
	if (p->pos >= p->act_end)
		return terr(p, open, "missing value for %s", kw[kind]);
	nd->pipe = parse_pipe(p, 0);
	if (!nd->pipe)
		return -1;
	skip_ws(p);
	if (p->pos < p->act_end)
		return terr(p, p->pos, "unexpected \"%c\" in %s", p->src[p->pos], kw[kind]);
	p->pos = p->act_close;
	enum stop why;
	p->scope += kind != NODE_IF;
	nd->then = parse_list(p, &why, 1);
	p->scope -= kind != NODE_IF;
	if (!nd->then)
		return -1;
	if (why == STOP_ELSE) {
		nd->els = parse_list(p, &why, 1);
		if (!nd->els)
			return -1;
		if (why != STOP_END)
			return terr(p, p->n, why == STOP_EOF ? "unexpected EOF: missing {{ end }}" :
			    "expected end; found else");
	} else if (why == STOP_ELSE_IF) {
		/* {{ else if X }} is an if nested in the else branch that shares the end. */
		nd->els = xcalloc(1, sizeof(*nd->els));
		struct node *sub = nodes_push(nd->els);
		if (parse_if(p, sub, open, NODE_IF) < 0)
			return -1;
	} else if (why != STOP_END) {
		return terr(p, open, "unexpected EOF: missing {{ end }}");
	}
	p->depth--;
	return 0;
}

static struct nodes *parse_list(struct tparse *p, enum stop *why, int nested)
{
	struct nodes *ns = xcalloc(1, sizeof(*ns));
	for (;;) {
		size_t open = 0, body = 0, body_end = 0, close_end = 0;
		int lt = 0, rt = 0;
		int r = next_action(p, &open, &body, &body_end, &close_end, &lt, &rt);
		if (r < 0)
			goto fail;
		size_t tstart = p->pos, tend = r ? open : p->n;
		if (p->trim_pending)
			while (tstart < tend && isspace((unsigned char)p->src[tstart]))
				tstart++;
		if (r && lt)
			while (tend > tstart && isspace((unsigned char)p->src[tend - 1]))
				tend--;
		if (tend > tstart) {
			struct node *nd = nodes_push(ns);
			nd->kind = NODE_TEXT;
			nd->text = p->src + tstart;
			nd->len = tend - tstart;
		}
		if (!r) {
			p->pos = p->n;
			*why = STOP_EOF;
			return ns;
		}
		p->trim_pending = rt;
		p->pos = body;
		p->act_end = body_end;
		p->act_close = close_end;
		skip_ws(p);
		if (p->pos + 1 < p->act_end && p->src[p->pos] == '/' && p->src[p->pos + 1] == '*') {
			p->pos = close_end;
			continue;	/* a comment */
		}
		if (p->pos >= p->act_end) {
			terr(p, open, "missing value for command");
			goto fail;
		}
		char word[16];
		size_t save = p->pos;
		size_t wl = read_ident(p, word, sizeof(word));
		if (wl && (p->pos >= p->act_end || !is_ident(p->src[p->pos]))) {
			enum node_kind bk = strcmp(word, "if") == 0 ? NODE_IF : strcmp(word, "with") == 0 ? NODE_WITH :
			    strcmp(word, "range") == 0 ? NODE_RANGE : NODE_TEXT;
			if (bk != NODE_TEXT) {
				struct node *nd = nodes_push(ns);
				if (parse_if(p, nd, open, bk) < 0)
					goto fail;
				continue;
			}
			if (strcmp(word, "else") == 0 || strcmp(word, "end") == 0) {
				if (!nested) {
					terr(p, open, "unexpected {{ %s }}", word);
					goto fail;
				}
				skip_ws(p);
				if (word[1] == 'l') {
					char w2[8];
					size_t s2 = p->pos;
					if (read_ident(p, w2, sizeof(w2)) == 2 && strcmp(w2, "if") == 0) {
						/* parse_if reads the condition from here */
						*why = STOP_ELSE_IF;
						return ns;
					}
					p->pos = s2;
				}
				if (p->pos < p->act_end) {
					terr(p, p->pos, "unexpected \"%c\" after %s", p->src[p->pos], word);
					goto fail;
				}
				p->pos = close_end;
				*why = word[1] == 'l' ? STOP_ELSE : STOP_END;
				return ns;
			}
		}
		p->pos = save;
		struct node *nd = nodes_push(ns);
		nd->kind = NODE_PRINT;
		nd->pipe = parse_pipe(p, 0);
		if (!nd->pipe)
			goto fail;
		skip_ws(p);
		if (p->pos < p->act_end) {
			terr(p, p->pos, "unexpected \"%c\" in command", p->src[p->pos]);
			goto fail;
		}
		p->pos = close_end;
	}
fail:
	nodes_free(ns);
	return NULL;
}

int template_compile(const char *text, size_t n, struct template **out, char *err, size_t errsz)
{
	*out = NULL;
	if (n > TEMPLATE_MAX_BYTES) {
		snprintf(err, errsz, "template longer than %u bytes", TEMPLATE_MAX_BYTES);
		return -1;
	}
	if (!memmem(text, n, "{{", 2))
		return 0;
	struct template *t = xcalloc(1, sizeof(*t));
	t->src = xstrndup(text, n);
	struct tparse p = { .src = t->src, .n = n, .err = err, .errsz = errsz };
	enum stop why;
	t->root = parse_list(&p, &why, 0);
	if (!t->root) {
		template_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

void template_free(struct template *t)
{
	if (!t)
		return;
	nodes_free(t->root);
	free(t->src);
	free(t);
}

/* ---- number formatting as Go and Prometheus do it ---- */

/* Go's %v / strconv 'g' shortest form of a float64. */
void template_go_float(double v, char *out, size_t outsz)
{
	if (isnan(v)) {
		snprintf(out, outsz, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(out, outsz, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		snprintf(out, outsz, signbit(v) ? "-0" : "0");
		return;
	}
	char tmp[64];
	int p;
	for (p = 1; p <= 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (p > 17)
		p = 17;
	const char *e = strchr(tmp, 'e');
	int exp = e ? atoi(e + 1) : 0;
	/* strconv's shortest 'g': exponent form below 1e-4 and from 1e6 up */
	if (exp < -4 || exp >= 6) {
		snprintf(out, outsz, "%s", tmp);
		return;
	}
	int dec = p - 1 - exp;
	snprintf(out, outsz, "%.*f", dec > 0 ? dec : 0, v);
}

/* C's %.4g with Go's spelling of NaN and the infinities. */
static void g4(double v, const char *suffix, char *out, size_t outsz)
{
	if (isnan(v))
		snprintf(out, outsz, "NaN%s", suffix);
	else if (isinf(v))
		snprintf(out, outsz, "%s%s", v > 0 ? "+Inf" : "-Inf", suffix);
	else
		snprintf(out, outsz, "%.4g%s", v, suffix);
}

void template_humanize(double v, char *out, size_t outsz)
{
	static const char *const big[] = { "k", "M", "G", "T", "P", "E", "Z", "Y" };
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
	if (v == 0 || isnan(v) || isinf(v)) {
		g4(v, "", out, outsz);
		return;
	}
	const char *prefix = "";
	if (fabs(v) >= 1) {
		for (size_t i = 0; i < 8 && fabs(v) >= 1000; i++) {
			prefix = big[i];
			v /= 1000;
		}
	} else {
		for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
			prefix = small[i];
			v *= 1000;
		}
	}
	g4(v, prefix, out, outsz);
}

static void humanize1024(double v, char *out, size_t outsz)
{
	static const char *const big[] = { "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi" };
	if (fabs(v) <= 1 || isnan(v) || isinf(v)) {
		g4(v, "", out, outsz);
		return;
	}
	const char *prefix = "";
	for (size_t i = 0; i < 8 && fabs(v) >= 1024; i++) {
		prefix = big[i];
		v /= 1024;
	}
	g4(v, prefix, out, outsz);
}

void template_humanize_percentage(double v, char *out, size_t outsz)
{
	g4(v * 100, "%", out, outsz);
}

void template_humanize_duration(double v, char *out, size_t outsz)
{
	static const char *const small[] = { "m", "u", "n", "p", "f", "a", "z", "y" };
	if (isnan(v) || isinf(v)) {
		g4(v, "", out, outsz);
		return;
	}
	if (v == 0) {
		g4(v, "s", out, outsz);
		return;
	}
	if (fabs(v) >= 1) {
		const char *sign = "";
		if (v < 0) {
			sign = "-";
			v = -v;
		}
		long long d = v >= 9.2e18 ? INT64_MAX : (long long)v;
		long long secs = d % 60, mins = (d / 60) % 60, hours = (d / 3600) % 24, days = d / 86400;
		if (days)
			snprintf(out, outsz, "%s%lldd %lldh %lldm %llds", sign, days, hours, mins, secs);
		else if (hours)
			snprintf(out, outsz, "%s%lldh %lldm %llds", sign, hours, mins, secs);
		else if (mins)
			snprintf(out, outsz, "%s%lldm %llds", sign, mins, secs);
		else
			snprintf(out, outsz, "%s%.4gs", sign, v);
		return;
	}
	const char *prefix = "";
	for (size_t i = 0; i < 8 && fabs(v) < 1; i++) {
		prefix = small[i];
		v *= 1000;
	}
	char suf[8];
	snprintf(suf, sizeof(suf), "%ss", prefix);
	g4(v, suf, out, outsz);
}

/* ---- execution ---- */

int template_xerr(struct texec *x, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(x->err, x->errsz, fmt, ap);
	va_end(ap);
	return -1;
}

const char *template_keep(struct texec *x, char *s)
{
	x->arena = xreallocarray(x->arena, x->narena + 1, sizeof(*x->arena));
	x->arena[x->narena++] = s;
	return s;
}

const char *template_type_name(const struct val *v)
{
	switch (v->k) {
	case V_STR: return "string";
	case V_NUM: return v->is_int ? "int" : "float64";
	case V_BOOL: return "bool";
	case V_MAP: return "map[string]string";
	case V_VEC: return "template.queryResult";
	case V_SAMPLE: return "*template.sample";
	case V_ROOT: return "struct";
	default: return "<nil>";
	}
}

/* Append v as Go's %v prints it. */
static int print_val(const struct val *v, struct buf *b)
{
	char tmp[64];
	switch (v->k) {
	case V_STR:
		return buf_adds(b, v->s);
	case V_NUM:
		if (v->is_int && fabs(v->num) < 9e18) {
			snprintf(tmp, sizeof(tmp), "%lld", (long long)v->num);
		} else {
			template_go_float(v->num, tmp, sizeof(tmp));
		}
		return buf_adds(b, tmp);
	case V_BOOL:
		return buf_adds(b, v->num != 0 ? "true" : "false");
	case V_MAP: {
		int rc = buf_adds(b, "map[");
		for (size_t i = 0; v->map && i < v->map->n && rc == 0; i++)
			rc = buf_printf(b, "%s%s:%s", i ? " " : "", v->map->v[i].name, v->map->v[i].value);
		return rc ? rc : buf_addc(b, ']');
	}
	case V_VEC: case V_SAMPLE: case V_ROOT:
		return template_print_sample(v, b);
	default:
		return buf_adds(b, "<no value>");
	}
}

static int truth(const struct val *v)
{
	switch (v->k) {
	case V_STR: return v->s[0] != 0;
	case V_NUM: case V_BOOL: return v->num != 0;
	case V_MAP: return v->map && v->map->n > 0;
	case V_VEC: return v->nsmp > 0;
	case V_SAMPLE: case V_ROOT: return 1;	/* a non-nil pointer / struct */
	default: return 0;
	}
}

static int to_float(struct texec *x, const struct val *v, double *out)
{
	if (v->k == V_NUM) {
		*out = v->num;
		return 0;
	}
	if (v->k == V_STR) {
		char *end;
		errno = 0;
		*out = strtod(v->s, &end);
		if (v->s[0] && !*end && !isspace((unsigned char)v->s[0]))
			return 0;
		return template_xerr(x, "strconv.ParseFloat: parsing \"%.64s\": invalid syntax", v->s);
	}
	return template_xerr(x, "can't convert %s to float", template_type_name(v));
}

static int eval_pipe(struct texec *x, const struct pipe *pp, struct val *out);

static int eval_operand(struct texec *x, const struct operand *o, struct val *out)
{
	memset(out, 0, sizeof(*out));
	switch (o->kind) {
	case OPD_STR:
		out->k = V_STR;
		out->s = o->s;
		return 0;
	case OPD_NUM:
		out->k = V_NUM;
		out->num = o->num;
		out->is_int = o->is_int;
		return 0;
	case OPD_BOOL:
		out->k = V_BOOL;
		out->num = o->num;
		return 0;
	case OPD_PIPE:
		return eval_pipe(x, o->sub, out);
	case OPD_VAR:
		break;
	}
	const struct labels *m = NULL;
	if (o->var == VAR_DOT) {
		struct val dv = x->dot;
		if (o->dfield && template_field(x, &x->dot, o->dfield, &dv) < 0)
			return -1;
		if (!o->field) {
			*out = dv;
			return 0;
		}
		return template_field(x, &dv, o->field, out);
	}
	switch (o->var) {
	case VAR_VALUE:
		out->k = V_NUM;
		out->num = x->d->value;
		return 0;
	case VAR_EXTURL:
		out->k = V_STR;
		out->s = x->d->external_url ? x->d->external_url : "";
		return 0;
	case VAR_LABELS:
		m = x->d->labels;
		break;
	case VAR_EXTLABELS:
		m = x->d->external_labels;
		break;
	case VAR_DOT:
		break;
	}
	if (!o->field) {
		out->k = V_MAP;
		out->map = m;
		return 0;
	}
	/* Prometheus expands with missingkey=zero: an absent label is "". */
	const char *s = m ? labels_get(m, o->field) : NULL;
	out->k = V_STR;
	out->s = s ? s : "";
	return 0;
}

static int compare(struct texec *x, enum fn fn, const struct val *a, const struct val *b, int *res)
{
	int c;
	if ((a->k == V_NUM || a->k == V_BOOL) && (b->k == V_NUM || b->k == V_BOOL)) {
		if (a->k != b->k)
			return template_xerr(x, "incompatible types for comparison");
		if (a->k == V_BOOL && fn != FN_EQ && fn != FN_NE)
			return template_xerr(x, "invalid type for comparison");
		c = a->num < b->num ? -1 : a->num > b->num ? 1 : 0;
		if (isnan(a->num) || isnan(b->num)) {
			*res = fn == FN_NE;
			return 0;
		}
	} else if (a->k == V_STR && b->k == V_STR) {
		c = strcmp(a->s, b->s);
	} else if (a->k == V_NOVALUE || b->k == V_NOVALUE) {
		return template_xerr(x, "invalid type for comparison");
	} else {
		return template_xerr(x, "incompatible types for comparison");
	}
	switch (fn) {
	case FN_EQ: *res = c == 0; break;
	case FN_NE: *res = c != 0; break;
	case FN_LT: *res = c < 0; break;
	case FN_LE: *res = c <= 0; break;
	case FN_GT: *res = c > 0; break;
	default: *res = c >= 0; break;
	}
	return 0;
}

static int go_printf(struct texec *x, const struct val *args, size_t n, struct val *out);

/* reReplaceAll PATTERN REPL TEXT and match PATTERN TEXT (Go regexp, unanchored), via PCRE2. */
static int regex_fn(struct texec *x, enum fn fn, const struct val *a, struct val *out)
{
	size_t np = fn == FN_MATCH ? 2 : 3;
	for (size_t i = 0; i < np; i++)
		if (a[i].k != V_STR)
			return template_xerr(x, "wrong type for value; expected string; got %s", template_type_name(&a[i]));
	int ec;
	PCRE2_SIZE eo;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)a[0].s, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &ec, &eo, NULL);
	if (!re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		return template_xerr(x, "regexp: error parsing \"%.64s\": %s", a[0].s, (const char *)msg);
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = 0;
	if (fn == FN_MATCH) {
		out->k = V_BOOL;
		out->num = pcre2_match(re, (PCRE2_SPTR)a[1].s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0;
	} else {
		PCRE2_SIZE cap = strlen(a[2].s) * 2 + strlen(a[1].s) + 64;
		if (cap > TEMPLATE_MAX_OUTPUT)
			cap = TEMPLATE_MAX_OUTPUT;
		PCRE2_UCHAR *buf = xmalloc(cap);
		PCRE2_SIZE outlen = cap;
		int r = pcre2_substitute(re, (PCRE2_SPTR)a[2].s, PCRE2_ZERO_TERMINATED, 0,
		    PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH | PCRE2_SUBSTITUTE_UNKNOWN_UNSET |
		    PCRE2_SUBSTITUTE_UNSET_EMPTY, md, NULL, (PCRE2_SPTR)a[1].s, PCRE2_ZERO_TERMINATED, buf, &outlen);
		if (r == PCRE2_ERROR_NOMEMORY && outlen <= TEMPLATE_MAX_OUTPUT) {
			buf = xreallocarray(buf, outlen + 1, 1);
			cap = outlen + 1;
			outlen = cap;
			r = pcre2_substitute(re, (PCRE2_SPTR)a[2].s, PCRE2_ZERO_TERMINATED, 0,
			    PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_UNKNOWN_UNSET | PCRE2_SUBSTITUTE_UNSET_EMPTY,
			    md, NULL, (PCRE2_SPTR)a[1].s, PCRE2_ZERO_TERMINATED, buf, &outlen);
		}
		if (r < 0) {
			free(buf);
			rc = template_xerr(x, "reReplaceAll: bad replacement or result too long");
		} else {
			out->k = V_STR;
			out->s = template_keep(x, xstrndup((const char *)buf, outlen));
			free(buf);
		}
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return rc;
}

static int call(struct texec *x, enum fn fn, const struct val *a, size_t n, struct val *out)
{
	char tmp[128];
	double f = 0;
	memset(out, 0, sizeof(*out));
	switch (fn) {
	case FN_HUMANIZE: case FN_HUMANIZE1024: case FN_HUMANIZE_PCT: case FN_HUMANIZE_DUR:
		if (to_float(x, &a[0], &f) < 0)
			return -1;
		if (fn == FN_HUMANIZE) template_humanize(f, tmp, sizeof(tmp));
		else if (fn == FN_HUMANIZE1024) humanize1024(f, tmp, sizeof(tmp));
		else if (fn == FN_HUMANIZE_PCT) template_humanize_percentage(f, tmp, sizeof(tmp));
		else template_humanize_duration(f, tmp, sizeof(tmp));
		out->k = V_STR;
		out->s = template_keep(x, xstrdup(tmp));
		return 0;
	case FN_PRINTF:
		return go_printf(x, a, n, out);
	case FN_TOUPPER: case FN_TOLOWER: case FN_TITLE: {
		if (a[0].k != V_STR)
			return template_xerr(x, "wrong type for value; expected string; got %s", template_type_name(&a[0]));
		char *s = xstrdup(a[0].s);
		int start = 1;
		for (char *c = s; *c; c++) {
			if (fn == FN_TOUPPER)
				*c = (char)toupper((unsigned char)*c);
			else if (fn == FN_TOLOWER)
				*c = (char)tolower((unsigned char)*c);
			else {
				if (start && isalpha((unsigned char)*c))
					*c = (char)toupper((unsigned char)*c);
				/* Go's strings.Title: any other ASCII byte starts a word ("It'S") */
				start = !isalnum((unsigned char)*c) && *c != '_' && !((unsigned char)*c & 0x80);
			}
		}
		out->k = V_STR;
		out->s = template_keep(x, s);
		return 0;
	}
	case FN_EQ: case FN_NE: case FN_LT: case FN_LE: case FN_GT: case FN_GE: {
		int r = 0;
		if (compare(x, fn, &a[0], &a[1], &r) < 0)
			return -1;
		out->k = V_BOOL;
		out->num = r;
		return 0;
	}
	case FN_AND: case FN_OR:
		for (size_t i = 0; i < n; i++) {
			*out = a[i];
			if ((fn == FN_AND) != truth(&a[i]))
				return 0;
		}
		return 0;
	case FN_NOT:
		out->k = V_BOOL;
		out->num = !truth(&a[0]);
		return 0;
	case FN_REREPLACEALL: case FN_MATCH:
		return regex_fn(x, fn, a, out);
	case FN_SAFEHTML:
		if (a[0].k != V_STR)
			return template_xerr(x, "wrong type for value; expected string; got %s", template_type_name(&a[0]));
		*out = a[0];
		return 0;
	case FN_HUMANIZE_TS: case FN_TOTIME: {
		/* Go's time.Time.String() of the Unix time, in UTC (toTime's *time.Time
		 * prints the same; it only refuses NaN and Inf) */
		if (to_float(x, &a[0], &f) < 0)
			return -1;
		if (fn == FN_TOTIME && (isnan(f) || isinf(f)))
			return template_xerr(x, "error calling toTime: value is NaN or Inf");
		if (isnan(f) || isinf(f)) {
			g4(f, "", tmp, sizeof(tmp));
		} else if (fabs(f) > 9.2e9) {
			return template_xerr(x, "%g cannot be represented as a nanoseconds timestamp since it overflows int64", f);
		} else {
			/* model.Time: whole milliseconds, truncated like Prometheus */
			int64_t ms = (int64_t)(f * 1e9) / 1000000;
			int64_t sec = ms / 1000, frac_ms = ms % 1000;
			if (frac_ms < 0) {
				frac_ms += 1000;
				sec--;
			}
			time_t tsec = (time_t)sec;
			struct tm tm;
			gmtime_r(&tsec, &tm);
			char base[64], frac[8] = "";
			strftime(base, sizeof(base), "%Y-%m-%d %H:%M:%S", &tm);
			if (frac_ms) {
				snprintf(frac, sizeof(frac), ".%03d", (int)frac_ms);
				for (size_t i = strlen(frac) - 1; frac[i] == '0'; i--)
					frac[i] = 0;
			}
			snprintf(tmp, sizeof(tmp), "%s%s +0000 UTC", base, frac);
		}
		out->k = V_STR;
		out->s = template_keep(x, xstrdup(tmp));
		return 0;
	}
	case FN_INDEX: {
		if (a[0].k != V_MAP)
			return template_xerr(x, "can't index item of type %s", template_type_name(&a[0]));
		if (a[1].k != V_STR)
			return template_xerr(x, "value has type %s; should be string", template_type_name(&a[1]));
		const char *s = a[0].map ? labels_get(a[0].map, a[1].s) : NULL;
		out->k = V_STR;
		out->s = s ? s : "";
		return 0;
	}
	default:
		if (fn >= FN_QUERY && fn < FN_COUNT)
			return template_query_call(x, fn, a, n, out);
		return template_xerr(x, "internal: bad function");
	}
}

static int eval_pipe(struct texec *x, const struct pipe *pp, struct val *out)
{
	struct val prev;
	memset(&prev, 0, sizeof(prev));
	for (size_t i = 0; i < pp->n; i++) {
		const struct cmd *c = &pp->cmds[i];
		struct val args[17];
		size_t n = 0;
		for (size_t j = 0; j < c->nargs; j++)
			if (eval_operand(x, &c->args[j], &args[n++]) < 0)
				return -1;
		if (i > 0)
			args[n++] = prev;
		if (c->fn == FN_NONE)
			prev = args[0];
		else if (call(x, c->fn, args, n, &prev) < 0)
			return -1;
	}
	*out = prev;
	return 0;
}

/* Go's fmt.Sprintf for the verbs alert templates use. */
static int go_printf(struct texec *x, const struct val *a, size_t n, struct val *out)
{
	if (a[0].k != V_STR)
		return template_xerr(x, "wrong type for value; expected string; got %s", template_type_name(&a[0]));
	const char *f = a[0].s;
	size_t ai = 1;
	struct buf b;
	buf_init(&b, TEMPLATE_MAX_OUTPUT);
	int rc = 0;
	while (*f && rc == 0) {
		if (*f != '%') {
			rc = buf_addc(&b, *f++);
			continue;
		}
		const char *spec = f++;
		while (*f && strchr("+-# 0", *f))
			f++;
		while (isdigit((unsigned char)*f))
			f++;
		if (*f == '.') {
			f++;
			while (isdigit((unsigned char)*f))
				f++;
		}
		if (!*f) {
			rc = buf_adds(&b, "%!(NOVERB)");
			break;
		}
		char verb = *f++;
		if (verb == '%') {
			rc = buf_addc(&b, '%');
			continue;
		}
		/* The spec without the verb, at most "%+-# 0" plus two numbers. */
		size_t slen = (size_t)(f - 1 - spec);
		if (slen > 24) {
			rc = buf_adds(&b, "%!(BADWIDTH)");
			continue;
		}
		char cs[40];
		memcpy(cs, spec, slen);
		cs[slen] = 0;
		int has_prec = strchr(cs, '.') != NULL;
		if (ai >= n) {
			rc = buf_printf(&b, "%%!%c(MISSING)", verb);
			continue;
		}
		const struct val *v = &a[ai++];
		char fmtbuf[48], tmp[512];
		if (verb == 't' && v->k == V_BOOL) {
			snprintf(fmtbuf, sizeof(fmtbuf), "%ss", cs);
			rc = buf_printf(&b, fmtbuf, v->num != 0 ? "true" : "false");
		} else if ((verb == 'x' || verb == 'X') && v->k == V_STR) {
			/* Go: the bytes in hex */
			for (const unsigned char *c = (const unsigned char *)v->s; *c && rc == 0; c++)
				rc = buf_printf(&b, verb == 'x' ? "%02x" : "%02X", *c);
		} else if (verb == 'v' || (verb == 's' && (v->k == V_STR || v->k == V_MAP || v->k == V_NOVALUE))) {
			struct buf t;
			buf_init(&t, TEMPLATE_MAX_OUTPUT);
			rc = print_val(v, &t);
			snprintf(fmtbuf, sizeof(fmtbuf), "%ss", cs);
			if (rc == 0)
				rc = buf_printf(&b, fmtbuf, t.data ? t.data : "");
			buf_free(&t);
		} else if (strchr("dfFeEgGxXob", verb) && v->k == V_NUM) {
			if (strchr("dxXob", verb)) {
				if (!v->is_int && v->num != floor(v->num)) {
					template_go_float(v->num, tmp, sizeof(tmp));
					rc = buf_printf(&b, "%%!%c(float64=%s)", verb, tmp);
					continue;
				}
				if (verb == 'b') {
					rc = buf_printf(&b, "%%!b(unsupported)");
					continue;
				}
				snprintf(fmtbuf, sizeof(fmtbuf), "%sll%c", cs, verb == 'd' ? 'd' : verb);
				snprintf(tmp, sizeof(tmp), fmtbuf, (long long)v->num);
			} else if (!isfinite(v->num)) {
				template_go_float(v->num, tmp, sizeof(tmp));
			} else if ((verb == 'g' || verb == 'G') && !has_prec) {
				template_go_float(v->num, tmp, sizeof(tmp));
				if (verb == 'G')
					for (char *c = tmp; *c; c++)
						*c = *c == 'e' ? 'E' : *c;
			} else {
				snprintf(fmtbuf, sizeof(fmtbuf), "%s%c", cs, verb == 'F' ? 'f' : verb);
				snprintf(tmp, sizeof(tmp), fmtbuf, v->num);
			}
			rc = buf_adds(&b, tmp);
		} else if (verb == 'q' && v->k == V_STR) {
			rc = buf_add_json_str(&b, v->s, strlen(v->s));
		} else {
			struct buf t;
			buf_init(&t, TEMPLATE_MAX_OUTPUT);
			rc = print_val(v, &t);
			if (rc == 0)
				rc = buf_printf(&b, "%%!%c(%s=%s)", verb, template_type_name(v), t.data ? t.data : "");
			buf_free(&t);
		}
	}
	for (; ai < n && rc == 0; ai++) {
		struct buf t;
		buf_init(&t, TEMPLATE_MAX_OUTPUT);
		rc = print_val(&a[ai], &t);
		if (rc == 0)
			rc = buf_printf(&b, "%%!(EXTRA %s=%s)", template_type_name(&a[ai]), t.data ? t.data : "");
		buf_free(&t);
	}
	if (rc < 0) {
		buf_free(&b);
		return template_xerr(x, "printf output too long");
	}
	out->k = V_STR;
	out->s = template_keep(x, b.data ? buf_detach(&b, NULL) : xstrdup(""));
	return 0;
}

static int exec_nodes(struct texec *x, const struct nodes *ns);

/* {{ range }}: over a query result's samples or a map's values (in key order,
 * as Go does); an empty one runs the else branch. */
static int exec_range(struct texec *x, const struct node *nd, const struct val *v)
{
	size_t n = v->k == V_VEC ? v->nsmp : v->k == V_MAP && v->map ? v->map->n : 0;
	if (v->k != V_VEC && v->k != V_MAP && v->k != V_NOVALUE) {
		struct buf b;
		buf_init(&b, 256);
		print_val(v, &b);
		template_xerr(x, "range can't iterate over %s", b.data ? b.data : "");
		buf_free(&b);
		return -1;
	}
	if (n == 0)
		return nd->els ? exec_nodes(x, nd->els) : 0;
	struct val saved = x->dot;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		memset(&x->dot, 0, sizeof(x->dot));
		if (v->k == V_VEC) {
			x->dot.k = V_SAMPLE;
			x->dot.smp = &v->smp[i];
		} else {
			x->dot.k = V_STR;
			x->dot.s = v->map->v[i].value;
		}
		rc = exec_nodes(x, nd->then);
	}
	x->dot = saved;
	return rc;
}

static int exec_nodes(struct texec *x, const struct nodes *ns)
{
	for (size_t i = 0; i < ns->n; i++) {
		const struct node *nd = &ns->v[i];
		struct val v;
		switch (nd->kind) {
		case NODE_TEXT:
			if (buf_add(x->out, nd->text, nd->len) < 0)
				return template_xerr(x, "expansion longer than %u bytes", TEMPLATE_MAX_OUTPUT);
			break;
		case NODE_PRINT:
			if (eval_pipe(x, nd->pipe, &v) < 0)
				return -1;
			if (print_val(&v, x->out) < 0)
				return template_xerr(x, "expansion longer than %u bytes", TEMPLATE_MAX_OUTPUT);
			break;
		case NODE_IF: case NODE_WITH:
			if (eval_pipe(x, nd->pipe, &v) < 0)
				return -1;
			if (truth(&v)) {
				struct val saved = x->dot;
				if (nd->kind == NODE_WITH)
					x->dot = v;
				int rc = exec_nodes(x, nd->then);
				x->dot = saved;
				if (rc < 0)
					return -1;
			} else if (nd->els && exec_nodes(x, nd->els) < 0) {
				return -1;
			}
			break;
		case NODE_RANGE:
			if (eval_pipe(x, nd->pipe, &v) < 0 || exec_range(x, nd, &v) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

int template_expand(const struct template *t, const char *src, const struct template_data *d,
    struct buf *out, char *err, size_t errsz)
{
	if (!t)
		return buf_adds(out, src ? src : "") < 0 ? (snprintf(err, errsz, "expansion too long"), -1) : 0;
	struct texec x = { .d = d, .out = out, .err = err, .errsz = errsz, .dot = { .k = V_ROOT } };
	int rc = exec_nodes(&x, t->root);
	template_query_free(&x);
	for (size_t i = 0; i < x.narena; i++)
		free(x.arena[i]);
	free(x.arena);
	return rc;
}
