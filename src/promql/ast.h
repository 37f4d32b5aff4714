/*
 * ast.h — the PromQL syntax tree, shared by the parser, printer and
 * evaluator (private to src/promql/). struct pq_expr wraps the root node.
 */
#ifndef VIGIL_PQ_AST_H
#define VIGIL_PQ_AST_H

#include <stddef.h>
#include <stdint.h>

#include "promql/promql.h"
#include "tsdb/storage.h"

enum pq_kind {
	PQ_NUM,		/* number literal */
	PQ_STR,		/* string literal */
	PQ_VSEL,	/* instant vector selector */
	PQ_MSEL,	/* range vector selector: sub is a PQ_VSEL */
	PQ_SUBQ,	/* subquery: sub[range:step] */
	PQ_PAREN,	/* (sub) */
	PQ_UNARY,	/* -sub or +sub */
	PQ_BINARY,	/* lhs op rhs */
	PQ_CALL,	/* func(args) */
	PQ_AGG,		/* aggregation */
};

enum pq_op {
	PQ_OP_NONE,
	PQ_OP_ADD, PQ_OP_SUB, PQ_OP_MUL, PQ_OP_DIV, PQ_OP_MOD, PQ_OP_POW, PQ_OP_ATAN2,
	PQ_OP_EQ, PQ_OP_NE, PQ_OP_GT, PQ_OP_LT, PQ_OP_GE, PQ_OP_LE,
	PQ_OP_AND, PQ_OP_OR, PQ_OP_UNLESS,
};

enum pq_agg {
	PQ_AGG_SUM, PQ_AGG_MIN, PQ_AGG_MAX, PQ_AGG_AVG, PQ_AGG_GROUP, PQ_AGG_STDDEV,
	PQ_AGG_STDVAR, PQ_AGG_COUNT, PQ_AGG_COUNT_VALUES, PQ_AGG_BOTTOMK, PQ_AGG_TOPK,
	PQ_AGG_QUANTILE, PQ_AGG_LIMITK, PQ_AGG_LIMIT_RATIO,
};

enum pq_card {
	PQ_CARD_ONE_TO_ONE,	/* default */
	PQ_CARD_MANY_TO_ONE,	/* group_left */
	PQ_CARD_ONE_TO_MANY,	/* group_right */
	PQ_CARD_MANY_TO_MANY,	/* set operators */
};

enum pq_at {
	PQ_AT_NONE,	/* no @ */
	PQ_AT_TIME,	/* @ <timestamp> */
	PQ_AT_START,	/* @ start() */
	PQ_AT_END,	/* @ end() */
};

struct pq_strs {
	char **v;	/* owned strings */
	size_t n;	/* count */
};

struct pq_func;

struct pq_node {
	enum pq_kind kind;		/* what this node is */
	enum pq_value_type type;	/* result type */
	int pos, end;			/* byte range in the query text */
	double num;			/* PQ_NUM value */
	char *str;			/* PQ_STR value; PQ_VSEL metric name or NULL (owned) */
	struct matcher *ms;		/* PQ_VSEL matchers, incl. the name (owned) */
	size_t nms;			/* matchers */
	int64_t range_ms;		/* PQ_MSEL / PQ_SUBQ range */
	int64_t step_ms;		/* PQ_SUBQ step, 0 = the query's default */
	int64_t offset_ms;		/* PQ_VSEL / PQ_SUBQ offset */
	enum pq_at at;			/* PQ_VSEL / PQ_SUBQ @ modifier */
	int64_t at_ms;			/* @ time for PQ_AT_TIME */
	struct pq_node *sub;		/* child of MSEL, SUBQ, PAREN, UNARY; AGG expression */
	enum pq_op op;			/* PQ_UNARY (ADD/SUB) / PQ_BINARY operator */
	int return_bool;		/* binary comparison with `bool` */
	struct pq_node *lhs, *rhs;	/* PQ_BINARY operands */
	int vm_set;			/* on/ignoring given */
	int vm_on;			/* 1: on(...), 0: ignoring(...) */
	enum pq_card card;		/* matching cardinality */
	struct pq_strs vm_labels;	/* on/ignoring labels */
	struct pq_strs include;		/* group_left/right extra labels */
	const struct pq_func *func;	/* PQ_CALL function */
	struct pq_node **args;		/* PQ_CALL arguments (owned) */
	size_t nargs;			/* arguments */
	enum pq_agg agg;		/* PQ_AGG operator */
	struct pq_node *param;		/* PQ_AGG parameter or NULL */
	struct pq_strs grouping;	/* PQ_AGG by/without labels */
	int without;			/* 1: without, 0: by */
	int grouping_set;		/* by/without given (even empty) */
};

struct pq_expr {
	struct pq_node *root;	/* the tree (owned) */
	char *text;		/* the query text (owned) */
};

/* A function's signature and implementation (functions.c). */
struct pq_eval;
struct pq_val;
struct pq_func {
	const char *name;			/* as written */
	enum pq_value_type args[6];		/* argument types */
	int nargs;				/* fixed arguments */
	int variadic;				/* extra optional args: -1 unlimited */
	enum pq_value_type ret;			/* result type */
	int (*call)(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out);	/* implementation */
};

/* Look up a function by name, or NULL. */
const struct pq_func *pq_func_lookup(const char *name);
/* Free a node tree; NULL is fine. */
void pq_node_free(struct pq_node *n);
/* Operator spelling ("+", "and"...). */
const char *pq_op_str(enum pq_op op);
/* Aggregation spelling ("sum"...). */
const char *pq_agg_str(enum pq_agg a);
/* 1 for comparison operators. */
int pq_op_is_cmp(enum pq_op op);
/* 1 for and/or/unless. */
int pq_op_is_set(enum pq_op op);
/* Append a node pretty-printed (format.c). */
int pq_format_node(const struct pq_node *n, struct buf *b);
/* Strip parentheses. */
const struct pq_node *pq_unparen(const struct pq_node *n);

#endif
