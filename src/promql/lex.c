/* lex.c — PromQL tokens: numbers (decimal, hex, Inf/NaN), durations, the
 * three string quotings with Go escapes, identifiers, operators. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "promql/lex.h"

static int is_ident_start(int c) { return isalpha(c) || c == '_' || c == ':'; }
static int is_ident_char(int c) { return isalnum(c) || c == '_' || c == ':'; }

static void tok_err(struct pq_token *t, size_t pos, const char *msg)
{
	t->type = TK_ERR;
	t->pos = (int)pos;
	t->len = 1;
	t->str = xstrdup(msg);
}

static int unit_ms(const char *s, size_t n, size_t *ulen, int64_t *mult)
{
	if (n >= 2 && s[0] == 'm' && s[1] == 's') { *ulen = 2; *mult = 1; return 0; }
	if (n < 1)
		return -1;
	*ulen = 1;
	switch (s[0]) {
	case 's': *mult = 1000; return 0;
	case 'm': *mult = 60000; return 0;
	case 'h': *mult = 3600000; return 0;
	case 'd': *mult = 86400000; return 0;
	case 'w': *mult = 7 * 86400000LL; return 0;
	case 'y': *mult = 365 * 86400000LL; return 0;
	}
	return -1;
}

int pq_parse_duration(const char *s, size_t n, int64_t *ms)
{
	size_t i = 0;
	int64_t total = 0;
	int last = 100;	/* units must come in descending order, each once */
	static const int64_t order[] = { 365 * 86400000LL, 7 * 86400000LL, 86400000, 3600000, 60000, 1000, 1 };
	if (n == 0)
		return -1;
	while (i < n) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		int64_t v = 0;
		while (i < n && isdigit((unsigned char)s[i])) {
			if (v > INT64_MAX / 10)
				return -1;
			v = v * 10 + (s[i++] - '0');
		}
		size_t ul;
		int64_t mult;
		if (unit_ms(s + i, n - i, &ul, &mult) < 0)
			return -1;
		i += ul;
		int idx = 0;
		while (order[idx] != mult)
			idx++;
		if (idx <= last && last != 100)
			return -1;
		last = idx;
		if (v > INT64_MAX / mult || total > INT64_MAX - v * mult)
			return -1;
		total += v * mult;
	}
	*ms = total;
	return 0;
}

static void add_utf8(struct buf *b, uint32_t cp)
{
	char o[4];
	size_t n;
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		cp = 0xFFFD;
	if (cp < 0x80) { o[0] = (char)cp; n = 1; }
	else if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
	else if (cp < 0x10000) { o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F)); n = 3; }
	else { o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F)); o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F)); n = 4; }
	buf_add(b, o, n);
}

/* Scan a quoted string starting at lx->pos (the quote). */
static void lex_string(struct pq_lexer *lx, struct pq_token *t)
{
	const char *s = lx->src;
	size_t start = lx->pos, i = start + 1;
	char q = s[start];
	struct buf b;
	buf_init(&b, lx->len + 1);
	buf_adds(&b, "");
	while (i < lx->len && s[i] != q) {
		unsigned char c = (unsigned char)s[i];
		if (q != '`' && c == '\n') {
			buf_free(&b);
			tok_err(t, start, "unterminated quoted string");
			return;
		}
		if (q == '`' || c != '\\') {
			buf_addc(&b, (char)c);
			i++;
			continue;
		}
		if (++i >= lx->len)
			break;
		c = (unsigned char)s[i++];
		int nd = 0;
		switch (c) {
		case 'a': buf_addc(&b, '\a'); break;
		case 'b': buf_addc(&b, '\b'); break;
		case 'f': buf_addc(&b, '\f'); break;
		case 'n': buf_addc(&b, '\n'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'v': buf_addc(&b, '\v'); break;
		case '\\': buf_addc(&b, '\\'); break;
		case '"': case '\'':
			if (c != (unsigned char)q) {
				buf_free(&b);
				tok_err(t, i - 2, "unknown escape sequence");
				return;
			}
			buf_addc(&b, (char)c);
			break;
		case 'x': nd = 2; break;
		case 'u': nd = 4; break;
		case 'U': nd = 8; break;
		default:
			if (c >= '0' && c <= '7') {
				int v = c - '0';
				for (int k = 0; k < 2; k++) {
					if (i >= lx->len || s[i] < '0' || s[i] > '7') {
						buf_free(&b);
						tok_err(t, i, "invalid escape sequence");
						return;
					}
					v = v * 8 + (s[i++] - '0');
				}
				if (v > 255) {
					buf_free(&b);
					tok_err(t, i, "octal escape value > 255");
					return;
				}
				buf_addc(&b, (char)v);
				break;
			}
			buf_free(&b);
			tok_err(t, i - 2, "unknown escape sequence");
			return;
		}
		if (nd) {
			uint32_t v = 0;
			for (int k = 0; k < nd; k++) {
				int h = i < lx->len ? hex_digit((unsigned char)s[i]) : -1;
				if (h < 0) {
					buf_free(&b);
					tok_err(t, i, "invalid escape sequence");
					return;
				}
				v = v * 16 + (uint32_t)h;
				i++;
			}
			if (c == 'x')
				buf_addc(&b, (char)v);
			else
				add_utf8(&b, v);
		}
	}
	if (i >= lx->len) {
		buf_free(&b);
		tok_err(t, start, "unterminated quoted string");
		return;
	}
	lx->pos = i + 1;
	t->type = TK_STR;
	t->pos = (int)start;
	t->len = (int)(lx->pos - start);
	t->str = buf_detach(&b, NULL);
}

static void lex_number(struct pq_lexer *lx, struct pq_token *t)
{
	const char *s = lx->src;
	size_t start = lx->pos, i = start;
	if (s[i] == '0' && i + 1 < lx->len && (s[i + 1] == 'x' || s[i + 1] == 'X')) {
		i += 2;
		while (i < lx->len && isxdigit((unsigned char)s[i]))
			i++;
	} else {
		while (i < lx->len && isdigit((unsigned char)s[i]))
			i++;
		/* a duration: digits followed by a unit */
		size_t ul;
		int64_t mult;
		if (i > start && i < lx->len && unit_ms(s + i, lx->len - i, &ul, &mult) == 0) {
			size_t j = i;
			while (j < lx->len && (isalnum((unsigned char)s[j])))
				j++;
			int64_t ms;
			if (pq_parse_duration(s + start, j - start, &ms) < 0) {
				tok_err(t, start, "bad number or duration syntax");
				lx->pos = j;
				return;
			}
			t->type = TK_DUR;
			t->pos = (int)start;
			t->len = (int)(j - start);
			t->num = (double)ms;
			lx->pos = j;
			return;
		}
		if (i < lx->len && s[i] == '.') {
			i++;
			while (i < lx->len && isdigit((unsigned char)s[i]))
				i++;
		}
		if (i < lx->len && (s[i] == 'e' || s[i] == 'E')) {
			size_t j = i + 1;
			if (j < lx->len && (s[j] == '+' || s[j] == '-'))
				j++;
			if (j < lx->len && isdigit((unsigned char)s[j])) {
				while (j < lx->len && isdigit((unsigned char)s[j]))
					j++;
				i = j;
			}
		}
	}
	if (i < lx->len && ((is_ident_char((unsigned char)s[i]) && !(lx->brackets && s[i] == ':')) || s[i] == '.')) {
		while (i < lx->len && ((is_ident_char((unsigned char)s[i]) && !(lx->brackets && s[i] == ':')) || s[i] == '.'))
			i++;
		tok_err(t, start, "bad number or duration syntax");
		t->len = (int)(i - start);
		lx->pos = i;
		return;
	}
	char tmp[128];
	size_t n = i - start;
	if (n >= sizeof(tmp) || (n == 1 && s[start] == '.')) {
		tok_err(t, start, "bad number or duration syntax");
		lx->pos = i;
		return;
	}
	memcpy(tmp, s + start, n);
	tmp[n] = 0;
	char *end;
	double v;
	if (n > 2 && tmp[0] == '0' && (tmp[1] == 'x' || tmp[1] == 'X'))
		v = (double)strtoull(tmp + 2, &end, 16);
	else
		v = strtod(tmp, &end);
	t->type = TK_NUM;
	t->pos = (int)start;
	t->len = (int)n;
	t->num = v;
	lx->pos = i;
}

void pq_lex_next(struct pq_lexer *lx, struct pq_token *t)
{
	const char *s = lx->src;
	memset(t, 0, sizeof(*t));
	for (;;) {
		while (lx->pos < lx->len && isspace((unsigned char)s[lx->pos]))
			lx->pos++;
		if (lx->pos < lx->len && s[lx->pos] == '#') {
			while (lx->pos < lx->len && s[lx->pos] != '\n')
				lx->pos++;
			continue;
		}
		break;
	}
	t->pos = (int)lx->pos;
	if (lx->pos >= lx->len) {
		/* Prometheus's lexer reports what is left open */
		if (lx->braces)
			tok_err(t, lx->pos, "unexpected end of input inside braces");
		else if (lx->parens)
			tok_err(t, lx->pos, "unclosed left parenthesis");
		else if (lx->brackets)
			tok_err(t, lx->pos, "unclosed left bracket");
		else
			t->type = TK_EOF;
		return;
	}
	unsigned char c = (unsigned char)s[lx->pos];
	char c1 = lx->pos + 1 < lx->len ? s[lx->pos + 1] : 0;
	if (c == '"' || c == '\'' || c == '`') {
		lex_string(lx, t);
		return;
	}
	if (isdigit(c) || (c == '.' && isdigit((unsigned char)c1))) {
		lex_number(lx, t);
		return;
	}
	if (is_ident_start(c) && !(lx->brackets && c == ':')) {
		size_t i = lx->pos;
		while (i < lx->len && is_ident_char((unsigned char)s[i]) && !(lx->brackets && s[i] == ':'))
			i++;
		size_t n = i - lx->pos;
		if ((n == 3 && (strncasecmp(s + lx->pos, "inf", 3) == 0 ||
		    strncasecmp(s + lx->pos, "nan", 3) == 0))) {
			t->type = TK_NUM;
			t->num = tolower((unsigned char)s[lx->pos]) == 'i' ? INFINITY : NAN;
		} else {
			t->type = TK_IDENT;
			t->str = xstrndup(s + lx->pos, n);
		}
		t->len = (int)n;
		lx->pos = i;
		return;
	}
	int len = 1;
	switch (c) {
	case '(': t->type = TK_LPAREN; lx->parens++; break;
	case ')':
		if (!lx->parens) {
			tok_err(t, lx->pos, "unexpected right parenthesis ')'");
			lx->pos++;
			return;
		}
		t->type = TK_RPAREN;
		lx->parens--;
		break;
	case '{':
		if (c1 == '{') { t->type = TK_OPEN_HIST; len = 2; }
		else { t->type = TK_LBRACE; lx->braces = 1; }
		break;
	case '}':
		if (!lx->braces) {
			tok_err(t, lx->pos, "unexpected character: '}'");
			lx->pos++;
			return;
		}
		t->type = TK_RBRACE;
		lx->braces = 0;
		break;
	case '[': t->type = TK_LBRACK; lx->brackets++; break;
	case ']':
		if (!lx->brackets) {
			tok_err(t, lx->pos, "unexpected right bracket ']'");
			lx->pos++;
			return;
		}
		t->type = TK_RBRACK;
		lx->brackets--;
		break;
	case ',': t->type = TK_COMMA; break;
	case ':': t->type = TK_COLON; break;
	case '@': t->type = TK_AT; break;
	case '+': t->type = TK_ADD; break;
	case '-': t->type = TK_SUB; break;
	case '*': t->type = TK_MUL; break;
	case '/': t->type = TK_DIV; break;
	case '%': t->type = TK_MOD; break;
	case '^': t->type = TK_POW; break;
	case '=':
		if (c1 == '=') { t->type = TK_EQLC; len = 2; }
		else if (c1 == '~') { t->type = TK_EQ_RE; len = 2; }
		else t->type = TK_ASSIGN;
		break;
	case '!':
		if (c1 == '=') { t->type = TK_NEQ; len = 2; }
		else if (c1 == '~') { t->type = TK_NEQ_RE; len = 2; }
		else { tok_err(t, lx->pos, "unexpected character after '!'"); lx->pos++; return; }
		break;
	case '<':
		if (c1 == '=') { t->type = TK_LTE; len = 2; } else t->type = TK_LT;
		break;
	case '>':
		if (c1 == '=') { t->type = TK_GTE; len = 2; } else t->type = TK_GT;
		break;
	default: {
		char msg[64];
		if (c >= 0x20 && c < 0x7f)
			snprintf(msg, sizeof(msg), "unexpected character: '%c'", c);
		else
			snprintf(msg, sizeof(msg), "unexpected character: '\\x%02x'", c);
		tok_err(t, lx->pos, msg);
		lx->pos++;
		return;
	}
	}
	t->len = len;
	lx->pos += (size_t)len;
}

const char *pq_tok_desc(const struct pq_lexer *lx, const struct pq_token *t, char *buf, size_t n)
{
	switch (t->type) {
	case TK_EOF: return "end of input";
	case TK_NUM: snprintf(buf, n, "number \"%.*s\"", t->len, lx->src + t->pos); return buf;
	case TK_DUR: snprintf(buf, n, "duration \"%.*s\"", t->len, lx->src + t->pos); return buf;
	case TK_STR: snprintf(buf, n, "string \"%.*s\"", t->len > 2 ? t->len - 2 : 0, lx->src + t->pos + 1); return buf;
	case TK_IDENT: snprintf(buf, n, "identifier \"%.*s\"", t->len, lx->src + t->pos); return buf;
	case TK_LPAREN: return "(";
	case TK_RPAREN: return "right parenthesis ')'";
	case TK_LBRACE: return "{";
	case TK_RBRACE: return "}";
	case TK_LBRACK: return "[";
	case TK_RBRACK: return "]";
	case TK_COMMA: return "\",\"";
	case TK_COLON: return "colon ':'";
	case TK_AT: return "@";
	case TK_ASSIGN: return "\"=\"";
	default:
		snprintf(buf, n, "\"%.*s\"", t->len, lx->src + t->pos);
		return buf;
	}
}
