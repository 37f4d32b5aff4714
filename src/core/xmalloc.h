/*
 * xmalloc.h — allocation for internal bookkeeping. Out of memory aborts the
 * process with one log line (Redis zmalloc): callers never check for NULL.
 * Anything whose size comes from input must have its own cap (see buf.h).
 */
#ifndef VIGIL_XMALLOC_H
#define VIGIL_XMALLOC_H

#include <stddef.h>

/* Return zeroed memory for n objects of size sz; abort on overflow or OOM. */
void *xcalloc(size_t n, size_t sz);
/* Return sz bytes (uninitialised); abort on OOM. sz 0 gives a valid pointer. */
void *xmalloc(size_t sz);
/* Resize p to n*sz bytes; abort on overflow or OOM. p may be NULL. */
void *xreallocarray(void *p, size_t n, size_t sz);
/* Return a malloced copy of s (NULL stays NULL). */
char *xstrdup(const char *s);
/* Return a malloced, NUL-terminated copy of the n bytes at s. */
char *xstrndup(const char *s, size_t n);
/* Return a malloced string formatted like printf; abort on OOM. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
