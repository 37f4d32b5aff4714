/* importparse.c — see importparse.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "tsdb/importparse.h"

void importparse_init(struct importparse *ip, const char *p, size_t n)
{
	memset(ip, 0, sizeof(*ip));
	ip->p = p;
	ip->end = p + n;
	lb_init(&ip->lb);
	/* OpenMetrics if the last non-empty line is "# EOF". */
	const char *e = ip->end;
	while (e > p && (e[-1] == '\n'))
		e--;
	ip->openmetrics = e - p >= 5 && memcmp(e - 5, "# EOF", 5) == 0 &&
	    (e - p == 5 || e[-6] == '\n');
}

void importparse_free(struct importparse *ip)
{
	lb_free(&ip->lb);
}

static int is_name_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static int is_name_char(char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Parse a number token (Prometheus value syntax). */
static int parse_value(const char *s, size_t n, double *v)
{
	char tmp[64];
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	if (!strcmp(tmp, "NaN") || !strcmp(tmp, "nan")) {
		*v = NAN;
		return 0;
	}
	if (!strcmp(tmp, "+Inf") || !strcmp(tmp, "Inf") || !strcmp(tmp, "+inf") || !strcmp(tmp, "inf")) {
		*v = INFINITY;
		return 0;
	}
	if (!strcmp(tmp, "-Inf") || !strcmp(tmp, "-inf")) {
		*v = -INFINITY;
		return 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789+-.eE", tmp[i]))
			return -1;
	char *endp;
	errno = 0;
	*v = strtod(tmp, &endp);
	return *endp || errno == ERANGE ? -1 : 0;
}

/* Integer milliseconds, or seconds with up to 9 decimals (OpenMetrics). */
static int parse_ts(const char *s, size_t n, int seconds, int64_t *t)
{
	size_t i = 0;
	int neg = 0;
	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return -1;
	int64_t whole = 0, frac = 0;
	int fdigits = 0;
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		if (whole > (INT64_MAX - 9) / 10)
			return -1;
		whole = whole * 10 + (s[i] - '0');
	}
	if (i < n && s[i] == '.' && seconds) {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
			if (fdigits < 3) {
				frac = frac * 10 + (s[i] - '0');
				fdigits++;
			}
	}
	if (i != n)
		return -1;
	if (seconds) {
		while (fdigits < 3) {
			frac *= 10;
			fdigits++;
		}
		if (whole > INT64_MAX / 1000 - 1)
			return -1;
		whole = whole * 1000 + frac;
	}
	*t = neg ? -whole : whole;
	return 0;
}

#define FAIL(...) do { \
	int o_ = snprintf(err, errsz, "line %zu: ", ip->line); \
	if (o_ >= 0 && (size_t)o_ < errsz) snprintf(err + o_, errsz - (size_t)o_, __VA_ARGS__); \
	goto fail; } while (0)

static int parse_labels(struct importparse *ip, const char **pp, const char *e, char *err,
    size_t errsz)
{
	const char *p = *pp;
	struct buf val;
	char name[256];
	buf_init(&val, LABEL_VALUE_MAX);
	for (;;) {
		if (p < e && *p == '}')
			break;
		const char *n0 = p;
		while (p < e && is_name_char(*p) && *p != ':')
			p++;
		size_t nl = (size_t)(p - n0);
		if (nl == 0 || nl >= sizeof(name) || (*n0 >= '0' && *n0 <= '9'))
			FAIL("bad label name");
		memcpy(name, n0, nl);
		name[nl] = 0;
		if (p + 1 >= e || p[0] != '=' || p[1] != '"')
			FAIL("expected =\" after label name %s", name);
		p += 2;
		buf_reset(&val);
		while (p < e && *p != '"') {
			char c = *p++;
			if (c == '\\') {
				if (p >= e)
					FAIL("unterminated escape in label %s", name);
				c = *p++;
				if (c == 'n')
					c = '\n';
				else if (c != '\\' && c != '"')
					FAIL("bad escape \\%c in label %s", c, name);
			}
			if (buf_addc(&val, c) < 0)
				FAIL("label %s value too long", name);
		}
		if (p >= e)
			FAIL("unterminated value of label %s", name);
		p++;
		if (lb_get(&ip->lb, name))
			FAIL("duplicate label %s", name);
		if (ip->lb.n >= LABELS_MAX)
			FAIL("more than %u labels", LABELS_MAX);
		lb_set(&ip->lb, name, val.data ? val.data : "");
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		if (p < e && *p == '}')
			break;
		FAIL("expected , or } after label %s", name);
	}
	*pp = p + 1;
	buf_free(&val);
	return 0;
fail:
	buf_free(&val);
	return -1;
}

/* Parse " value timestamp [# exemplar]" from p (at the space) to e. */
static int parse_tail(struct importparse *ip, const char *p, const char *e, int64_t *t,
    double *v, char *err, size_t errsz)
{
	if (p >= e || *p != ' ')
		FAIL("expected a space before the value");
	p++;
	const char *v0 = p;
	while (p < e && *p != ' ')
		p++;
	if (parse_value(v0, (size_t)(p - v0), v) < 0)
		FAIL("bad value \"%.*s\"", (int)(p - v0 > 40 ? 40 : p - v0), v0);
	if (p >= e)
		FAIL("sample without a timestamp (import needs one on every line)");
	p++;
	const char *t0 = p;
	while (p < e && *p != ' ')
		p++;
	if (parse_ts(t0, (size_t)(p - t0), ip->openmetrics, t) < 0)
		FAIL("bad timestamp \"%.*s\"", (int)(p - t0 > 40 ? 40 : p - t0), t0);
	if (p < e && (e - p < 3 || memcmp(p, " # ", 3) != 0))
		FAIL("unexpected text after the timestamp");
	return 0;
fail:
	return -1;
}

static int next_sample(struct importparse *ip, struct labels **ls, int *same, int64_t *t,
    double *v, char *err, size_t errsz);

int importparse_next(struct importparse *ip, struct labels **ls, int64_t *t, double *v,
    char *err, size_t errsz)
{
	return next_sample(ip, ls, NULL, t, v, err, errsz);
}

int importparse_next_same(struct importparse *ip, struct labels **ls, int *same, int64_t *t,
    double *v, char *err, size_t errsz)
{
	*same = 0;
	return next_sample(ip, ls, same, t, v, err, errsz);
}

static int next_sample(struct importparse *ip, struct labels **ls, int *same, int64_t *t,
    double *v, char *err, size_t errsz)
{
	*ls = NULL;
	while (ip->p < ip->end) {
		const char *s = ip->p, *nl = memchr(s, '\n', (size_t)(ip->end - s));
		const char *e = nl ? nl : ip->end;
		ip->p = nl ? nl + 1 : ip->end;
		ip->line++;
		if ((size_t)(e - s) > IMPORT_LINE_MAX)
			FAIL("line longer than %u bytes", IMPORT_LINE_MAX);
		if (ip->eof_seen)
			FAIL("content after # EOF");
		if (e == s)
			continue;
		if (*s == '#') {
			if (e - s == 5 && !memcmp(s, "# EOF", 5))
				ip->eof_seen = 1;
			continue;
		}
		if (same && ip->keylen && (size_t)(e - s) > ip->keylen && s[ip->keylen] == ' ' &&
		    !memcmp(s, ip->key, ip->keylen)) {
			if (parse_tail(ip, s + ip->keylen, e, t, v, err, errsz) < 0)
				return -1;
			*same = 1;
			return 1;
		}
		lb_reset(&ip->lb, NULL);
		const char *p = s;
		if (is_name_start(*p)) {
			const char *n0 = p;
			while (p < e && is_name_char(*p))
				p++;
			char *name = xstrndup(n0, (size_t)(p - n0));
			lb_set(&ip->lb, "__name__", name);
			free(name);
		} else if (*p != '{') {
			FAIL("expected a metric name");
		}
		if (p < e && *p == '{') {
			p++;
			if (parse_labels(ip, &p, e, err, errsz) < 0)
				return -1;
		}
		if (!lb_get(&ip->lb, "__name__"))
			FAIL("sample without a metric name");
		ip->keylen = 0;
		if (parse_tail(ip, p, e, t, v, err, errsz) < 0)
			return -1;
		*ls = lb_labels(&ip->lb);
		if (!*ls)
			FAIL("bad label set");
		ip->key = s;
		ip->keylen = (size_t)(p - s);
		return 1;
	}
	return 0;
fail:
	labels_free(*ls);
	*ls = NULL;
	return -1;
}
