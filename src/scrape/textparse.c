/* textparse.c — Prometheus text 0.0.4 and OpenMetrics 1.0 parser; see textparse.h. */
#include "scrape/textparse.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/hmap.h"

#define TP_NUM_MAX 512		/* longest number token we convert */
#define TP_SCRATCH_CAP (4u << 20)	/* unescaped strings of one line */
#define TP_FAMILY_NAME_MAX 4096	/* bytes in a family name we track */

/* One label as offsets into the scratch buffer (it may move while growing). */
struct tp_loff {
	size_t name;	/* offset of the NUL-terminated name */
	size_t value;	/* offset of the NUL-terminated value */
};

/* Histogram consistency state of the current group (strict mode). */
struct tp_hist {
	int active;		/* a group has started */
	int has_bucket;		/* a bucket was seen */
	double bucket;		/* last le */
	double value;		/* last bucket value */
	int has_count;		/* _count/_gcount seen */
	double count;		/* its value */
	int neg_buckets;	/* some le < 0 */
	int has_sum;		/* _sum seen */
	int has_gsum;		/* _gsum seen */
	int neg_gsum;		/* _gsum < 0 */
};

struct tp {
	const struct tp_callbacks *cb;	/* the caller's callbacks */
	void *ctx;			/* their context */
	enum tp_format fmt;		/* format being parsed */
	int om;				/* OpenMetrics rules apply */
	int strict;			/* value rules apply too */
	size_t line;			/* current line number, 1-based */
	char *err;			/* error message out */
	size_t errsz;			/* its size */
	struct buf scratch;		/* unescaped names and values of the line */
	struct tp_loff loff[TP_MAX_LABELS];	/* labels of the line, as offsets */
	struct label lv[TP_MAX_LABELS];	/* the same as pointers, for the callback */
	size_t nl;			/* labels in loff/lv */

	/* Current family (both formats; grouping state only for OpenMetrics). */
	struct buf fam;			/* family name, NUL-terminated; len 0 = none */
	enum tp_type ftype;		/* its type */
	int ftyped;			/* a TYPE line was seen */
	int fhelp;			/* a HELP line was seen */
	int funit;			/* a UNIT line was seen */
	struct buf funitv;		/* the unit text */
	size_t fsamples;		/* samples seen in the family */
	struct hmap seen_names;		/* names claimed by finished families */
	struct hmap seen_groups;	/* groups of the current family */
	struct buf gkey;		/* group key of the last sample */
	struct buf gkey_tmp;		/* group key being built */
	int have_group;			/* gkey is valid */
	int group_has_ts;		/* the last sample of the group had a timestamp */
	double group_ts;		/* and its value (seconds) */
	struct tp_hist hist;		/* histogram checks */
};

static int tp_fail(struct tp *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int tp_fail(struct tp *t, const char *fmt, ...)
{
	if (t->errsz) {
		int k = snprintf(t->err, t->errsz, "line %zu: ", t->line);
		if (k >= 0 && (size_t)k < t->errsz) {
			va_list ap;
			va_start(ap, fmt);
			vsnprintf(t->err + k, t->errsz - (size_t)k, fmt, ap);
			va_end(ap);
		}
	}
	return -EINVAL;
}

const char *tp_type_name(enum tp_type ty)
{
	switch (ty) {
	case TP_COUNTER: return "counter";
	case TP_GAUGE: return "gauge";
	case TP_HISTOGRAM: return "histogram";
	case TP_GAUGEHISTOGRAM: return "gaugehistogram";
	case TP_SUMMARY: return "summary";
	case TP_INFO: return "info";
	case TP_STATESET: return "stateset";
	case TP_UNTYPED: return "untyped";
	case TP_UNKNOWN: break;
	}
	return "unknown";
}

enum tp_format tp_format_from_content_type(const char *ct)
{
	if (ct && strncasecmp(ct, "application/openmetrics-text", 28) == 0)
		return TP_OPENMETRICS;
	return TP_PROMETHEUS;
}

static int is_name_start(int c, int metric)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (metric && c == ':');
}

static int is_name_char(int c, int metric)
{
	return is_name_start(c, metric) || (c >= '0' && c <= '9');
}

/* Length of the metric (or label) name at s..e; 0 if none. */
static size_t name_len(const char *s, const char *e, int metric)
{
	const char *q = s;
	if (q >= e || !is_name_start((unsigned char)*q, metric))
		return 0;
	while (q < e && is_name_char((unsigned char)*q, metric))
		q++;
	return (size_t)(q - s);
}

static int name_valid(const char *s, size_t n, int metric)
{
	return n > 0 && name_len(s, s + n, metric) == n;
}

/*
 * Check the grammar of a float token strictly (decimal or inf/nan words; no
 * hex, no underscores, no spaces) and convert it. Return 0 or -1.
 */
static int parse_float(const char *s, size_t n, double *out)
{
	char tmp[TP_NUM_MAX + 1];
	size_t i = 0, digits = 0;
	if (n == 0 || n > TP_NUM_MAX)
		return -1;
	if (s[i] == '+' || s[i] == '-')
		i++;
	size_t rest = n - i;
	if ((rest == 3 && strncasecmp(s + i, "inf", 3) == 0) ||
	    (rest == 8 && strncasecmp(s + i, "infinity", 8) == 0)) {
		*out = s[0] == '-' ? -INFINITY : INFINITY;
		return 0;
	}
	if (rest == 3 && strncasecmp(s + i, "nan", 3) == 0) {
		*out = NAN;
		return 0;
	}
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, digits++;
	}
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t ed = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, ed++;
		if (!ed)
			return -1;
	}
	if (i != n)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	*out = strtod(tmp, NULL);
	return 0;
}

/* Prometheus text timestamps: an optionally signed integer of ms. */
static int parse_int_ms(const char *s, size_t n, int64_t *out)
{
	size_t i = 0;
	int neg = 0;
	uint64_t v = 0;
	if (n && (s[0] == '-' || s[0] == '+'))
		neg = s[0] == '-', i++;
	if (i == n)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > (uint64_t)INT64_MAX)
		return -1;
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

static int64_t secs_to_ms(double s)
{
	double ms = s * 1000.0;
	if (ms >= 9.2e18)
		return INT64_MAX;
	if (ms <= -9.2e18)
		return INT64_MIN;
	return (int64_t)llround(ms);
}

/* Append an unescaped copy of s..n to scratch (\\ \" \n; others kept as is). */
static int unescape_into(struct buf *b, const char *s, size_t n, int allow_quote)
{
	size_t i = 0;
	while (i < n) {
		const char *bs = memchr(s + i, '\\', n - i);
		size_t run = bs ? (size_t)(bs - (s + i)) : n - i;
		if (run && buf_add(b, s + i, run) < 0)
			return -E2BIG;
		i += run;
		if (i >= n)
			break;
		if (i + 1 < n && (s[i + 1] == '\\' || s[i + 1] == 'n' || (allow_quote && s[i + 1] == '"'))) {
			if (buf_addc(b, s[i + 1] == 'n' ? '\n' : s[i + 1]) < 0)
				return -E2BIG;
			i += 2;
		} else {
			if (buf_addc(b, '\\') < 0)
				return -E2BIG;
			i++;
		}
	}
	return buf_addc(b, 0);
}

/* Count UTF-8 code points (bytes that are not continuation bytes). */
static size_t runes(const char *s, size_t n)
{
	size_t r = 0;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			r++;
	return r;
}

static const char *skip_blank(const char *q, const char *e)
{
	while (q < e && (*q == ' ' || *q == '\t'))
		q++;
	return q;
}

/*
 * Parse `{name="value",...}` starting at *pq (pointing at '{'). When store is
 * set, the labels go to t->loff/t->nl; otherwise only the sizes are checked
 * and *nrunes gets the code points of names and values (exemplars).
 */
static int parse_labels(struct tp *t, const char **pq, const char *e, int store, size_t *nrunes)
{
	const char *q = *pq + 1;
	size_t first = t->nl;
	if (nrunes)
		*nrunes = 0;
	if (!t->om)
		q = skip_blank(q, e);
	if (q < e && *q == '}') {
		*pq = q + 1;
		return 0;
	}
	for (;;) {
		size_t nn = name_len(q, e, 0);
		if (!nn)
			return tp_fail(t, "invalid label name");
		const char *ln = q;
		q += nn;
		if (!t->om)
			q = skip_blank(q, e);
		if (q >= e || *q != '=')
			return tp_fail(t, "expected '=' after label name \"%.*s\"", (int)nn, ln);
		q++;
		if (!t->om)
			q = skip_blank(q, e);
		if (q >= e || *q != '"')
			return tp_fail(t, "label value of \"%.*s\" must be double-quoted", (int)nn, ln);
		const char *vs = ++q;
		while (q < e && *q != '"') {
			if (*q == '\\' && q + 1 < e)
				q++;
			q++;
		}
		if (q >= e)
			return tp_fail(t, "unterminated label value");
		size_t vn = (size_t)(q - vs);
		q++;
		if (nn > LABEL_VALUE_MAX || vn > LABEL_VALUE_MAX)
			return tp_fail(t, "label name or value longer than %u bytes", LABEL_VALUE_MAX);
		if (nrunes)
			*nrunes += runes(ln, nn) + runes(vs, vn);
		if (store) {
			if (t->nl >= TP_MAX_LABELS)
				return tp_fail(t, "more than %d labels", TP_MAX_LABELS);
			for (size_t i = first; i < t->nl; i++) {
				const char *o = t->scratch.data + t->loff[i].name;
				if (strlen(o) == nn && memcmp(o, ln, nn) == 0)
					return tp_fail(t, "duplicate label \"%.*s\"", (int)nn, ln);
			}
			t->loff[t->nl].name = t->scratch.len;
			if (buf_add(&t->scratch, ln, nn) < 0 || buf_addc(&t->scratch, 0) < 0)
				return tp_fail(t, "line too large");
			t->loff[t->nl].value = t->scratch.len;
			if (unescape_into(&t->scratch, vs, vn, 1) < 0)
				return tp_fail(t, "line too large");
			t->nl++;
		}
		if (!t->om)
			q = skip_blank(q, e);
		if (q < e && *q == ',') {
			q++;
			if (!t->om) {
				q = skip_blank(q, e);
				if (q < e && *q == '}') {	/* Prometheus text allows a trailing comma */
					*pq = q + 1;
					return 0;
				}
			}
			continue;
		}
		if (q < e && *q == '}') {
			*pq = q + 1;
			return 0;
		}
		return tp_fail(t, "expected ',' or '}' after label value");
	}
}

/* Label value by name among the line's labels (after index 0), or NULL. */
static const char *line_label(const struct tp *t, const char *name)
{
	for (size_t i = 1; i < t->nl; i++)
		if (strcmp(t->lv[i].name, name) == 0)
			return t->lv[i].value;
	return NULL;
}

/* The sample-name suffixes a type allows, NULL-terminated; NULL: only the bare name. */
static const char *const *type_suffixes(enum tp_type ty)
{
	static const char *const counter[] = { "_total", "_created", NULL };
	static const char *const summary[] = { "", "_count", "_sum", "_created", NULL };
	static const char *const histogram[] = { "_bucket", "_count", "_sum", "_created", NULL };
	static const char *const ghistogram[] = { "_bucket", "_gcount", "_gsum", NULL };
	static const char *const info[] = { "_info", NULL };
	switch (ty) {
	case TP_COUNTER: return counter;
	case TP_SUMMARY: return summary;
	case TP_HISTOGRAM: return histogram;
	case TP_GAUGEHISTOGRAM: return ghistogram;
	case TP_INFO: return info;
	default: return NULL;
	}
}

/* The suffix of sample name after the family name, or NULL if it is not a
 * member of the current family. */
static const char *family_suffix(const struct tp *t, const char *name)
{
	size_t fl = t->fam.len;
	if (!fl || strlen(name) < fl || memcmp(name, t->fam.data, fl) != 0)
		return NULL;
	const char *suf = name + fl;
	static const char *const prom_hist[] = { "_bucket", "_count", "_sum", NULL };
	static const char *const prom_summary[] = { "", "_count", "_sum", NULL };
	const char *const *list = NULL;
	if (t->ftyped && t->om)
		list = type_suffixes(t->ftype);
	else if (t->ftyped && t->ftype == TP_HISTOGRAM)	/* Prometheus text: counters have no suffix */
		list = prom_hist;
	else if (t->ftyped && t->ftype == TP_SUMMARY)
		list = prom_summary;
	if (!list)
		return *suf ? NULL : suf;
	for (; *list; list++)
		if (strcmp(*list, suf) == 0)
			return suf;
	return NULL;
}

/* Claim name+suffix for the finished family; fail if an earlier one had it. */
static int claim_name(struct tp *t, const char *suffix)
{
	char nm[TP_FAMILY_NAME_MAX + 16];
	int k = snprintf(nm, sizeof(nm), "%s%s", t->fam.data, suffix);
	if (k < 0 || (size_t)k >= sizeof(nm))
		return tp_fail(t, "metric name too long");
	if (hmap_get(&t->seen_names, nm, (size_t)k))
		return tp_fail(t, "clashing name \"%s\"", nm);
	hmap_put(&t->seen_names, nm, (size_t)k, (void *)1);
	return 0;
}

static int hist_check(struct tp *t)
{
	struct tp_hist *h = &t->hist;
	if (!h->active)
		return 0;
	h->active = 0;
	if (!h->has_bucket || h->bucket != INFINITY)
		return tp_fail(t, "histogram %s: +Inf bucket missing", t->fam.data);
	if (h->has_count && h->value != h->count)
		return tp_fail(t, "histogram %s: count does not match the +Inf bucket", t->fam.data);
	if (h->has_sum && !h->has_count)
		return tp_fail(t, "histogram %s: _sum without _count", t->fam.data);
	if (h->has_gsum && !h->has_count)
		return tp_fail(t, "histogram %s: _gsum without _gcount", t->fam.data);
	if (!h->has_sum && !h->has_gsum && h->has_count)
		return tp_fail(t, "histogram %s: _count without _sum", t->fam.data);
	if (h->neg_buckets && h->has_sum)
		return tp_fail(t, "histogram %s: _sum with negative buckets", t->fam.data);
	if (!h->neg_buckets && h->neg_gsum)
		return tp_fail(t, "histogram %s: negative _gsum with non-negative buckets", t->fam.data);
	return 0;
}

/* Close the current family: claim its names, check unit and histogram rules. */
static int family_end(struct tp *t)
{
	if (!t->fam.len)
		return 0;
	if (t->om) {
		const char *f = t->fam.data;
		if (!name_valid(f, t->fam.len, 1))
			return tp_fail(t, "invalid metric name \"%s\"", f);
		if (t->funit && t->funitv.len) {
			size_t ul = t->funitv.len, fl = t->fam.len;
			if (fl < ul + 1 || f[fl - ul - 1] != '_' || memcmp(f + fl - ul, t->funitv.data, ul) != 0)
				return tp_fail(t, "unit \"%s\" is not a suffix of metric \"%s\"", t->funitv.data, f);
			if (t->ftype == TP_INFO || t->ftype == TP_STATESET)
				return tp_fail(t, "metric \"%s\" of type %s cannot have a unit", f, tp_type_name(t->ftype));
		}
		if (t->strict && (t->ftype == TP_HISTOGRAM || t->ftype == TP_GAUGEHISTOGRAM)) {
			int rc = hist_check(t);
			if (rc)
				return rc;
		}
		const char *const *list = type_suffixes(t->ftype);
		int rc = claim_name(t, "");
		for (; list && *list && !rc; list++)
			rc = **list ? claim_name(t, *list) : 0;
		if (rc)
			return rc;
	}
	buf_reset(&t->fam);
	buf_reset(&t->funitv);
	t->ftype = TP_UNKNOWN;
	t->ftyped = t->fhelp = t->funit = 0;
	t->fsamples = 0;
	t->have_group = 0;
	hmap_free(&t->seen_groups, NULL);
	hmap_init(&t->seen_groups);
	memset(&t->hist, 0, sizeof(t->hist));
	return 0;
}

static int family_start(struct tp *t, const char *name, size_t n)
{
	int rc = family_end(t);
	if (rc)
		return rc;
	if (n > TP_FAMILY_NAME_MAX)
		return tp_fail(t, "metric name longer than %d bytes", TP_FAMILY_NAME_MAX);
	if (buf_add(&t->fam, name, n) < 0)
		return tp_fail(t, "metric name too long");
	if (t->om && hmap_get(&t->seen_names, name, n))
		return tp_fail(t, "clashing name \"%s\"", t->fam.data);
	return 0;
}

static enum tp_type parse_type_word(const char *s, size_t n, int om, int *ok)
{
	static const struct { const char *w; enum tp_type t; int om; } words[] = {
		{ "counter", TP_COUNTER, 2 }, { "gauge", TP_GAUGE, 2 },
		{ "histogram", TP_HISTOGRAM, 2 }, { "summary", TP_SUMMARY, 2 },
		{ "untyped", TP_UNTYPED, 0 }, { "unknown", TP_UNKNOWN, 1 },
		{ "gaugehistogram", TP_GAUGEHISTOGRAM, 1 }, { "info", TP_INFO, 1 },
		{ "stateset", TP_STATESET, 1 },
	};
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i].w) == n && memcmp(words[i].w, s, n) == 0 &&
		    (words[i].om == 2 || words[i].om == om)) {
			*ok = 1;
			return words[i].t;
		}
	}
	*ok = 0;
	return TP_UNKNOWN;
}

/* A `# ...` line. s..e excludes the newline. */
static int parse_meta(struct tp *t, const char *s, const char *e)
{
	const char *q = s + 1;
	const char *kw, *nm, *rest;
	size_t kwn, nmn, restn;
	if (t->om) {
		/* "# KW NAME REST": single spaces, REST may be empty. */
		if (q >= e || *q != ' ')
			return tp_fail(t, "invalid comment line (OpenMetrics allows only HELP, TYPE, UNIT and EOF)");
		kw = ++q;
		while (q < e && *q != ' ')
			q++;
		kwn = (size_t)(q - kw);
		if (q >= e)
			return tp_fail(t, "invalid metadata line");
		nm = ++q;
		while (q < e && *q != ' ')
			q++;
		nmn = (size_t)(q - nm);
		if (q >= e)
			return tp_fail(t, "metadata line needs a name and a value");
		rest = q + 1;
		restn = (size_t)(e - rest);
		if (!((kwn == 4 && (!memcmp(kw, "HELP", 4) || !memcmp(kw, "TYPE", 4) || !memcmp(kw, "UNIT", 4)))))
			return tp_fail(t, "invalid metadata keyword \"%.*s\"", (int)kwn, kw);
	} else {
		q = skip_blank(q, e);
		kw = q;
		while (q < e && *q != ' ' && *q != '\t')
			q++;
		kwn = (size_t)(q - kw);
		if (!(kwn == 4 && (!memcmp(kw, "HELP", 4) || !memcmp(kw, "TYPE", 4))))
			return 0;	/* an ordinary comment */
		q = skip_blank(q, e);
		nm = q;
		while (q < e && *q != ' ' && *q != '\t')
			q++;
		nmn = (size_t)(q - nm);
		if (!name_valid(nm, nmn, 1))
			return tp_fail(t, "invalid metric name in %.4s line", kw);
		if (q < e)
			q++;
		rest = q;
		restn = (size_t)(e - rest);
		if (kw[0] == 'T') {
			rest = skip_blank(rest, e);
			const char *re = e;
			while (re > rest && (re[-1] == ' ' || re[-1] == '\t'))
				re--;
			restn = (size_t)(re - rest);
		}
	}
	if (nmn == 0)
		return tp_fail(t, "metadata line without a metric name");
	if (!name_valid(nm, nmn, 1))
		return tp_fail(t, "invalid metric name \"%.*s\"", (int)(nmn > 64 ? 64 : nmn), nm);
	if (t->fam.len != nmn || memcmp(t->fam.data, nm, nmn) != 0) {
		int rc = family_start(t, nm, nmn);
		if (rc)
			return rc;
	} else if (t->fsamples && t->om) {
		return tp_fail(t, "metadata for \"%.*s\" after its samples", (int)nmn, nm);
	}
	buf_reset(&t->scratch);
	if (kw[0] == 'H') {
		if (t->fhelp && t->om)
			return tp_fail(t, "more than one HELP for \"%s\"", t->fam.data);
		t->fhelp = 1;
		if (unescape_into(&t->scratch, rest, restn, t->om) < 0)
			return tp_fail(t, "HELP too long");
		if (t->cb->help)
			return t->cb->help(t->ctx, t->fam.data, t->scratch.data, t->scratch.len - 1);
		return 0;
	}
	if (kw[0] == 'T') {
		int ok;
		if (t->ftyped && t->om)
			return tp_fail(t, "more than one TYPE for \"%s\"", t->fam.data);
		enum tp_type ty = parse_type_word(rest, restn, t->om, &ok);
		if (!ok)
			return tp_fail(t, "invalid TYPE \"%.*s\"", (int)(restn > 64 ? 64 : restn), rest);
		t->ftype = ty;
		t->ftyped = 1;
		if (t->cb->type)
			return t->cb->type(t->ctx, t->fam.data, ty);
		return 0;
	}
	/* UNIT */
	if (t->funit)
		return tp_fail(t, "more than one UNIT for \"%s\"", t->fam.data);
	t->funit = 1;
	if (buf_add(&t->funitv, rest, restn) < 0)
		return tp_fail(t, "UNIT too long");
	if (restn) {	/* check now so the error names this line */
		size_t fl = t->fam.len;
		const char *f = t->fam.data;
		if (fl < restn + 1 || f[fl - restn - 1] != '_' || memcmp(f + fl - restn, rest, restn) != 0)
			return tp_fail(t, "unit \"%s\" is not a suffix of metric \"%s\"", t->funitv.data, f);
		if (t->ftype == TP_INFO || t->ftype == TP_STATESET)
			return tp_fail(t, "metric \"%s\" of type %s cannot have a unit", f, tp_type_name(t->ftype));
	}
	if (t->cb->unit)
		return t->cb->unit(t->ctx, t->fam.data, t->funitv.data ? t->funitv.data : "");
	return 0;
}

/* Parse the exemplar that starts at q (just after " # "). */
static int parse_exemplar(struct tp *t, const char *q, const char *e)
{
	size_t nr;
	double v;
	if (q >= e || *q != '{')
		return tp_fail(t, "exemplar must start with a label set");
	int rc = parse_labels(t, &q, e, 0, &nr);
	if (rc)
		return rc;
	if (nr > TP_EXEMPLAR_MAX_RUNES)
		return tp_fail(t, "exemplar labels longer than %d characters", TP_EXEMPLAR_MAX_RUNES);
	if (q >= e || *q != ' ')
		return tp_fail(t, "expected a space after the exemplar labels");
	const char *vs = ++q;
	while (q < e && *q != ' ')
		q++;
	if (parse_float(vs, (size_t)(q - vs), &v) < 0)
		return tp_fail(t, "invalid exemplar value");
	if (q < e) {
		const char *ts = ++q;
		while (q < e && *q != ' ')
			q++;
		if (q != e || parse_float(ts, (size_t)(q - ts), &v) < 0 || !isfinite(v))
			return tp_fail(t, "invalid exemplar timestamp");
	}
	return 0;
}

/* Build the group key of the current sample (labels minus the one that varies). */
static void group_key(struct tp *t, const char *suffix, struct buf *k)
{
	const char *skip = NULL;
	size_t idx[TP_MAX_LABELS];
	size_t n = 0;
	buf_reset(k);
	if (t->ftype == TP_INFO) {
		buf_addc(k, 0);
		return;
	}
	if (t->ftype == TP_SUMMARY && !*suffix)
		skip = "quantile";
	else if (t->ftype == TP_STATESET)
		skip = t->fam.data;
	else if ((t->ftype == TP_HISTOGRAM || t->ftype == TP_GAUGEHISTOGRAM) && !strcmp(suffix, "_bucket"))
		skip = "le";
	for (size_t i = 1; i < t->nl; i++)
		if (!skip || strcmp(t->lv[i].name, skip) != 0)
			idx[n++] = i;
	for (size_t i = 1; i < n; i++)	/* insertion sort: label counts are small */
		for (size_t j = i; j > 0 && strcmp(t->lv[idx[j - 1]].name, t->lv[idx[j]].name) > 0; j--) {
			size_t x = idx[j];
			idx[j] = idx[j - 1];
			idx[j - 1] = x;
		}
	buf_addc(k, 1);
	for (size_t i = 0; i < n; i++) {
		buf_adds(k, t->lv[idx[i]].name);
		buf_addc(k, 0);
		buf_adds(k, t->lv[idx[i]].value);
		buf_addc(k, 0);
	}
}

static int is_counterlike(const char *suf)
{
	return !strcmp(suf, "_total") || !strcmp(suf, "_sum") || !strcmp(suf, "_count") ||
	    !strcmp(suf, "_bucket") || !strcmp(suf, "_gcount") || !strcmp(suf, "_gsum");
}

static int is_integer(double v)
{
	return isfinite(v) && v == floor(v);
}

/* Per-group timestamp rules and histogram group checks (OpenMetrics). */
static int om_group(struct tp *t, const char *suf, int has_ts, double ts_s)
{
	group_key(t, suf, &t->gkey_tmp);
	int same = t->have_group && t->gkey.len == t->gkey_tmp.len &&
	    memcmp(t->gkey.data, t->gkey_tmp.data, t->gkey.len) == 0;
	if (!same && hmap_get(&t->seen_groups, t->gkey_tmp.data, t->gkey_tmp.len))
		return tp_fail(t, "samples of one group are not together");
	if (same) {
		if (has_ts != t->group_has_ts)
			return tp_fail(t, "mix of samples with and without timestamps in a group");
		if (has_ts && t->group_ts > ts_s && t->ftype != TP_INFO)
			return tp_fail(t, "timestamps went backwards within a group");
	}
	if (t->strict && (t->ftype == TP_HISTOGRAM || t->ftype == TP_GAUGEHISTOGRAM) &&
	    (!same || has_ts != t->group_has_ts || (has_ts && ts_s != t->group_ts))) {
		int rc = hist_check(t);
		if (rc)
			return rc;
		memset(&t->hist, 0, sizeof(t->hist));
		t->hist.active = 1;
	}
	if (!same) {
		hmap_put(&t->seen_groups, t->gkey_tmp.data, t->gkey_tmp.len, (void *)1);
		struct buf x = t->gkey;
		t->gkey = t->gkey_tmp;
		t->gkey_tmp = x;
	}
	t->have_group = 1;
	t->group_has_ts = has_ts;
	t->group_ts = ts_s;
	return 0;
}

/* Type-specific label and value rules for one OpenMetrics sample. */
static int om_sample_rules(struct tp *t, const char *suf, double v, int has_exemplar)
{
	const char *fam = t->fam.data;
	enum tp_type ty = t->ftype;
	double x;
	if (ty == TP_STATESET && !line_label(t, fam))
		return tp_fail(t, "stateset sample without a \"%s\" label", fam);
	if ((ty == TP_HISTOGRAM || ty == TP_GAUGEHISTOGRAM) && !strcmp(suf, "_bucket")) {
		const char *le = line_label(t, "le");
		if (!le || parse_float(le, strlen(le), &x) < 0 || isnan(x) ||
		    (isinf(x) && strcmp(le, "+Inf") != 0 && strcmp(le, "-Inf") != 0))
			return tp_fail(t, "bucket needs a valid \"le\" label");
		if (t->strict) {
			struct tp_hist *h = &t->hist;
			if (x < 0)
				h->neg_buckets = 1;
			if (h->has_bucket && x <= h->bucket)
				return tp_fail(t, "buckets out of order");
			if (h->has_bucket && v < h->value)
				return tp_fail(t, "bucket values are not cumulative");
			h->has_bucket = 1;
			h->bucket = x;
			h->value = v;
		}
	}
	if (ty == TP_SUMMARY && !*suf) {
		const char *qs = line_label(t, "quantile");
		if (!qs || parse_float(qs, strlen(qs), &x) < 0 || !(x >= 0 && x <= 1))
			return tp_fail(t, "summary quantile needs a \"quantile\" label between 0 and 1");
	}
	if (has_exemplar && !(((ty == TP_HISTOGRAM || ty == TP_GAUGEHISTOGRAM) && !strcmp(suf, "_bucket")) ||
	    (ty == TP_COUNTER && !strcmp(suf, "_total"))))
		return tp_fail(t, "only histogram buckets and counter totals can have exemplars");
	if (!t->strict)
		return 0;
	if (ty == TP_HISTOGRAM || ty == TP_GAUGEHISTOGRAM) {
		struct tp_hist *h = &t->hist;
		if (!strcmp(suf, "_count") || !strcmp(suf, "_gcount"))
			h->has_count = 1, h->count = v;
		else if (!strcmp(suf, "_sum"))
			h->has_sum = 1;
		else if (!strcmp(suf, "_gsum"))
			h->has_gsum = 1, h->neg_gsum |= v < 0;
	}
	if (!strcmp(suf, "_bucket") || !strcmp(suf, "_count") || !strcmp(suf, "_gcount"))
		if (!isnan(v) && !is_integer(v) && v >= 0)
			return tp_fail(t, "bucket and count values must be integers");
	if (ty == TP_STATESET && v != 0 && v != 1)
		return tp_fail(t, "stateset values must be 0 or 1");
	if (ty == TP_INFO && v != 1)
		return tp_fail(t, "info values must be 1");
	if (ty == TP_SUMMARY && !*suf && v < 0)
		return tp_fail(t, "quantile values cannot be negative");
	if (is_counterlike(suf) && isnan(v))
		return tp_fail(t, "counter-like values cannot be NaN");
	if (is_counterlike(suf) && strcmp(suf, "_gsum") != 0 && v < 0)
		return tp_fail(t, "counter-like values cannot be negative");
	return 0;
}

/* A sample line s..e. */
static int parse_sample(struct tp *t, const char *s, const char *e)
{
	const char *q = t->om ? s : skip_blank(s, e);
	size_t nn = name_len(q, e, 1);
	double v;
	int64_t ts_ms = 0;
	double ts_s = 0;
	int has_ts = 0, has_ex = 0;
	if (!nn)
		return tp_fail(t, "invalid metric name");
	buf_reset(&t->scratch);
	t->nl = 0;
	t->loff[0].name = 0;
	buf_add(&t->scratch, "__name__", 9);
	t->loff[0].value = t->scratch.len;
	if (buf_add(&t->scratch, q, nn) < 0 || buf_addc(&t->scratch, 0) < 0)
		return tp_fail(t, "metric name too long");
	t->nl = 1;
	q += nn;
	const char *b = q;	/* where the blank before the value must start */
	if (!t->om)
		q = skip_blank(q, e);
	if (q < e && *q == '{') {
		int rc = parse_labels(t, &q, e, 1, NULL);
		if (rc)
			return rc;
		b = q;
	}
	if (t->om) {
		if (q >= e || *q != ' ')
			return tp_fail(t, "expected a space before the value");
		q++;
	} else {
		q = skip_blank(q, e);
		if (q == b)
			return tp_fail(t, "expected a space before the value");
	}
	const char *vs = q;
	while (q < e && *q != ' ' && *q != '\t')
		q++;
	if (q == vs)
		return tp_fail(t, "missing value");
	if (parse_float(vs, (size_t)(q - vs), &v) < 0)
		return tp_fail(t, "invalid value \"%.*s\"", (int)((q - vs) > 64 ? 64 : (q - vs)), vs);
	if (t->om) {
		if (q < e && !(e - q >= 3 && !memcmp(q, " # ", 3))) {
			if (*q != ' ')
				return tp_fail(t, "invalid text after the value");
			const char *ts = ++q;
			while (q < e && *q != ' ')
				q++;
			if (parse_float(ts, (size_t)(q - ts), &ts_s) < 0 || !isfinite(ts_s))
				return tp_fail(t, "invalid timestamp");
			has_ts = 1;
			ts_ms = secs_to_ms(ts_s);
		}
		if (q < e) {
			if (!(e - q >= 3 && !memcmp(q, " # ", 3)))
				return tp_fail(t, "invalid text after the sample");
			int rc = parse_exemplar(t, q + 3, e);
			if (rc)
				return rc;
			has_ex = 1;
		}
	} else {
		q = skip_blank(q, e);
		if (q < e) {
			const char *ts = q;
			while (q < e && *q != ' ' && *q != '\t')
				q++;
			if (parse_int_ms(ts, (size_t)(q - ts), &ts_ms) < 0)
				return tp_fail(t, "invalid timestamp");
			has_ts = 1;
			if (skip_blank(q, e) != e)
				return tp_fail(t, "invalid text after the timestamp");
		}
	}
	for (size_t i = 0; i < t->nl; i++) {
		t->lv[i].name = t->scratch.data + t->loff[i].name;
		t->lv[i].value = t->scratch.data + t->loff[i].value;
	}
	const char *name = t->lv[0].value;
	const char *suf = family_suffix(t, name);
	if (!suf) {
		int rc = family_start(t, name, nn);
		if (rc)
			return rc;
		t->ftype = t->om ? TP_UNKNOWN : TP_UNTYPED;
		suf = t->fam.data + t->fam.len;
		/* the sample's own name is the family: no suffixes */
		t->ftyped = 0;
	}
	if (t->om) {
		int rc = om_group(t, suf, has_ts, ts_s);
		if (rc)
			return rc;
		rc = om_sample_rules(t, suf, v, has_ex);
		if (rc)
			return rc;
	}
	t->fsamples++;
	if (t->cb->sample) {
		struct tp_sample smp = {
			.labels = t->lv, .nlabels = t->nl, .value = v, .has_ts = has_ts,
			.ts_ms = ts_ms, .type = t->ftype, .line = t->line,
		};
		return t->cb->sample(t->ctx, &smp);
	}
	return 0;
}

static void tp_free(struct tp *t)
{
	buf_free(&t->scratch);
	buf_free(&t->fam);
	buf_free(&t->funitv);
	buf_free(&t->gkey);
	buf_free(&t->gkey_tmp);
	hmap_free(&t->seen_names, NULL);
	hmap_free(&t->seen_groups, NULL);
}

int textparse(const char *p, size_t n, enum tp_format fmt, const struct tp_callbacks *cb,
    void *ctx, char *err, size_t errsz)
{
	static const struct tp_callbacks none;
	struct tp *t = calloc(1, sizeof(*t));
	const char *s = p, *end = p + n;
	int rc = 0, eof = 0;
	if (!t)
		return -ENOMEM;
	if (errsz)
		err[0] = 0;
	t->cb = cb ? cb : &none;
	t->ctx = ctx;
	t->fmt = fmt;
	t->om = fmt != TP_PROMETHEUS;
	t->strict = fmt == TP_OPENMETRICS_STRICT;
	t->err = err;
	t->errsz = errsz;
	buf_init(&t->scratch, TP_SCRATCH_CAP);
	buf_init(&t->fam, TP_FAMILY_NAME_MAX + 1);
	buf_init(&t->funitv, TP_FAMILY_NAME_MAX + 1);
	buf_init(&t->gkey, TP_SCRATCH_CAP);
	buf_init(&t->gkey_tmp, TP_SCRATCH_CAP);
	hmap_init(&t->seen_names);
	hmap_init(&t->seen_groups);
	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *e = nl ? nl : end;
		t->line++;
		if (eof) {
			rc = tp_fail(t, "text after # EOF");
			goto out;
		}
		if (t->om) {
			if (e == s) {
				rc = tp_fail(t, "blank line");
				goto out;
			}
			if (e - s == 5 && !memcmp(s, "# EOF", 5)) {
				eof = 1;
				rc = family_end(t);
				if (rc)
					goto out;
			} else if (!nl) {
				rc = tp_fail(t, "last line is not terminated by a newline");
				goto out;
			} else if (*s == '#') {
				rc = parse_meta(t, s, e);
			} else {
				rc = parse_sample(t, s, e);
			}
		} else {
			const char *b = skip_blank(s, e);
			if (b == e)
				rc = 0;
			else if (*b == '#')
				rc = parse_meta(t, b, e);
			else
				rc = parse_sample(t, s, e);
		}
		if (rc)
			goto out;
		s = nl ? nl + 1 : end;
	}
	if (t->om && !eof) {
		t->line++;
		rc = tp_fail(t, "missing # EOF at the end");
	}
out:
	tp_free(t);
	free(t);
	return rc;
}
