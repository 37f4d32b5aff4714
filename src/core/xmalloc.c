/* xmalloc.c — see xmalloc.h. */
#include "core/xmalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void oom(size_t sz)
{
	char msg[96];
	int n = snprintf(msg, sizeof(msg), "level=fatal msg=\"out of memory\" bytes=%zu\n", sz);
	if (n > 0)
		(void)!write(2, msg, (size_t)n);
	abort();
}

void *xcalloc(size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		oom(n * sz);
	return p;
}

void *xmalloc(size_t sz)
{
	void *p = malloc(sz ? sz : 1);
	if (!p)
		oom(sz);
	return p;
}

void *xreallocarray(void *p, size_t n, size_t sz)
{
	if (sz && n > (size_t)-1 / sz)
		oom((size_t)-1);
	void *q = realloc(p, (n && sz) ? n * sz : 1);
	if (!q)
		oom(n * sz);
	return q;
}

char *xstrdup(const char *s)
{
	return s ? xstrndup(s, strlen(s)) : NULL;
}

char *xstrndup(const char *s, size_t n)
{
	char *d = xmalloc(n + 1);
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = NULL;
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom(0);
	return s;
}
