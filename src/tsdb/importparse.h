/*
 * importparse.h — a small, strict parser for the sample lines `vigil tsdb
 * import` reads: Prometheus text or OpenMetrics with a timestamp on every
 * sample.
 *
 *   name{label="value",...} value timestamp
 *
 * `# HELP`, `# TYPE`, `# UNIT` and other comment lines are skipped; `# EOF`
 * ends an OpenMetrics file and nothing may follow it. A file that ends with
 * `# EOF` is OpenMetrics and its timestamps are seconds (fractions allowed);
 * otherwise timestamps are integer milliseconds (Prometheus text). Exemplars
 * (` # {...}` after the timestamp) are ignored. Any other deviation is an
 * error naming the line.
 */
#ifndef VIGIL_TSDB_IMPORTPARSE_H
#define VIGIL_TSDB_IMPORTPARSE_H
#include <stddef.h>
#include <stdint.h>

#include "core/labels.h"

#define IMPORT_LINE_MAX (1u << 20)	/* bytes in one line */

struct importparse {
	const char *p;		/* next unread byte */
	const char *end;	/* end of input */
	size_t line;		/* line number of the last line read (1-based) */
	int openmetrics;	/* 1: timestamps in seconds (input ends with # EOF) */
	int eof_seen;		/* 1 once `# EOF` was read */
	struct labels_builder lb;	/* scratch */
	const char *key;	/* series text (name and labels) of the last sample read, in the input */
	size_t keylen;		/* its length (0: none yet) */
};

/* Start parsing n bytes at p (not copied; must outlive the parser). */
void importparse_init(struct importparse *ip, const char *p, size_t n);
/* Free the parser's scratch. */
void importparse_free(struct importparse *ip);
/* Read the next sample: 1 with *ls (caller frees), *t (ms) and *v set; 0 at
 * the end; -1 with "line N: reason" in err. */
int importparse_next(struct importparse *ip, struct labels **ls /* out */,
    int64_t *t /* out */, double *v /* out */, char *err, size_t errsz);

/* As importparse_next, but when a line's series text is byte for byte the
 * previous sample's (files grouped by series), the labels are not parsed
 * again: *ls is NULL and *same 1 (the caller reuses its previous labels);
 * otherwise *same is 0 and *ls as importparse_next. */
int importparse_next_same(struct importparse *ip, struct labels **ls /* out */,
    int *same /* out */, int64_t *t /* out */, double *v /* out */, char *err, size_t errsz);

#endif
