/* lex.h — the PromQL lexer (private to src/promql/). */
#ifndef VIGIL_PQ_LEX_H
#define VIGIL_PQ_LEX_H

#include <stddef.h>

enum pq_tok {
	TK_EOF, TK_ERR, TK_IDENT, TK_NUM, TK_DUR, TK_STR,
	TK_LPAREN, TK_RPAREN, TK_LBRACE, TK_RBRACE, TK_LBRACK, TK_RBRACK,
	TK_COMMA, TK_COLON, TK_AT, TK_ASSIGN, TK_EQLC, TK_NEQ, TK_LT, TK_LTE,
	TK_GT, TK_GTE, TK_EQ_RE, TK_NEQ_RE, TK_ADD, TK_SUB, TK_MUL, TK_DIV,
	TK_MOD, TK_POW, TK_OPEN_HIST,
};

struct pq_token {
	enum pq_tok type;	/* kind */
	int pos;		/* byte offset of the first byte */
	int len;		/* bytes */
	double num;		/* TK_NUM value; TK_DUR value in ms */
	char *str;		/* TK_STR unquoted value, TK_ERR message (owned) */
};

struct pq_lexer {
	const char *src;	/* query text */
	size_t len;		/* bytes */
	size_t pos;		/* next byte */
	int brackets;		/* '[' nesting: ':' is a token there, not part of a name */
	int parens;		/* '(' nesting, for "unclosed left parenthesis" */
	int braces;		/* inside '{' ... '}' */
};

/* Scan the next token into t (t->str is malloced for TK_STR and TK_ERR). */
void pq_lex_next(struct pq_lexer *lx, struct pq_token *t /* out */);
/* Describe a token for "unexpected X" messages into buf. */
const char *pq_tok_desc(const struct pq_lexer *lx, const struct pq_token *t, char *buf, size_t n);
/* Parse a duration like "1h30m" at s (n bytes) into ms; 0 or -1. */
int pq_parse_duration(const char *s, size_t n, int64_t *ms);

#endif
