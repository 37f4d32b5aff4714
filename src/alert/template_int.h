/*
 * template_int.h — what template.c (parser, core functions, execution) and
 * template_query.c (the functions that run PromQL: query, first, label,
 * value, strvalue, sortByLabel; and pathPrefix, externalURL, stripPort,
 * stripDomain, parseDuration, graphLink, tableLink)
 * share. Private to src/alert.
 */
#ifndef VIGIL_ALERT_TEMPLATE_INT_H
#define VIGIL_ALERT_TEMPLATE_INT_H

#include "alert/alert.h"

#define TEMPLATE_MAX_QUERIES 64	/* query calls in one expansion */

enum fn {
	FN_NONE = -1, FN_HUMANIZE, FN_HUMANIZE1024, FN_HUMANIZE_PCT, FN_HUMANIZE_DUR, FN_PRINTF,
	FN_TOUPPER, FN_TOLOWER, FN_TITLE, FN_EQ, FN_NE, FN_LT, FN_LE, FN_GT, FN_GE, FN_AND, FN_OR,
	FN_NOT, FN_INDEX, FN_REREPLACEALL, FN_MATCH, FN_HUMANIZE_TS, FN_SAFEHTML, FN_TOTIME,
	/* template_query.c */
	FN_QUERY, FN_FIRST, FN_LABEL, FN_VALUE, FN_STRVALUE, FN_SORTBYLABEL, FN_PATHPREFIX,
	FN_EXTERNALURL, FN_STRIPPORT, FN_STRIPDOMAIN, FN_PARSEDURATION, FN_GRAPHLINK, FN_TABLELINK,
	FN_COUNT
};

enum vkind {
	V_NOVALUE, V_STR, V_NUM, V_BOOL, V_MAP,
	V_VEC,		/* a query result: Prometheus's queryResult ([]*sample) */
	V_SAMPLE,	/* one element of it: *sample {Labels, Value} */
	V_ROOT		/* the template's data ({{ . }} outside with/range) */
};

struct val {
	enum vkind k;				/* type */
	const char *s;				/* V_STR: text (borrowed or in the arena) */
	double num;				/* V_NUM / V_BOOL */
	int is_int;				/* V_NUM: an integer literal */
	const struct labels *map;		/* V_MAP (NULL: empty) */
	struct alert_sample *smp;		/* V_VEC: elements; V_SAMPLE: the element (in texec.vecs) */
	size_t nsmp;				/* V_VEC: elements */
};

struct texec {
	const struct template_data *d;	/* the data */
	struct buf *out;		/* where output goes */
	char **arena;			/* strings made during this expansion */
	size_t narena;			/* entries in arena */
	struct alert_vector *vecs;	/* query results made during this expansion (owned) */
	size_t nvecs;			/* entries in vecs */
	struct val dot;			/* {{ . }}: the data, or what with/range set */
	char *err;			/* error buffer */
	size_t errsz;			/* its size */
};

/* Put a message in x->err; returns -1. */
int template_xerr(struct texec *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Keep s (malloced) until the expansion ends; returns s. */
const char *template_keep(struct texec *x, char *s);
/* Go's name for v's type in error messages. */
const char *template_type_name(const struct val *v);
/* Go's %v of a float64 ("0.5", "1.234567e+06"). */
void template_go_float(double v, char *out, size_t outsz);
/*
 * Call one of template_query.c's functions (fn >= FN_QUERY) with n
 * evaluated arguments (the piped value last). 0, or -1 with x->err set.
 */
int template_query_call(struct texec *x, enum fn fn, const struct val *a, size_t n, struct val *out);
/*
 * Field NAME of v ({{ .NAME }} inside with/range): .Labels / .Value of a
 * sample, a key of a map, the data's own fields. 0, or -1 with x->err set.
 */
int template_field(struct texec *x, const struct val *v, const char *name, struct val *out);
/* Append v as Go's %v prints it (sample and query result included); 0 or -E2BIG. */
int template_print_sample(const struct val *v, struct buf *b);
/* Free what an expansion's query functions made. */
void template_query_free(struct texec *x);

#endif
