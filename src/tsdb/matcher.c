/* matcher.c — label matchers with Prometheus's fully-anchored regexes (PCRE2). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tsdb/storage.h"

int matcher_init(struct matcher *m, enum match_type type, const char *name,
    const char *value, char *err, size_t errsz)
{
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->name = xstrdup(name);
	m->value = xstrdup(value);
	if (type != MATCH_RE && type != MATCH_NRE)
		return 0;
	char *pat = xasprintf("^(?:%s)$", value);
	int ecode;
	PCRE2_SIZE eoff;
	/* DOTALL: Prometheus (Go RE2 with (?s)) lets '.' match newlines. */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_DOTALL | PCRE2_UTF, &ecode, &eoff, NULL);
	free(pat);
	if (!re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(ecode, msg, sizeof(msg));
		if (err)
			snprintf(err, errsz, "invalid regular expression \"%s\": %s", value, (char *)msg);
		matcher_free(m);
		return -1;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	m->re = re;
	m->md = pcre2_match_data_create_from_pattern(re, NULL);
	return 0;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	free(m->name);
	free(m->value);
	if (m->md)
		pcre2_match_data_free(m->md);
	if (m->re)
		pcre2_code_free(m->re);
	memset(m, 0, sizeof(*m));
}

int matcher_matches(const struct matcher *m, const char *value)
{
	if (!value)
		value = "";
	switch (m->type) {
	case MATCH_EQ:
		return strcmp(value, m->value) == 0;
	case MATCH_NE:
		return strcmp(value, m->value) != 0;
	case MATCH_RE:
	case MATCH_NRE: {
		int rc = pcre2_match(m->re, (PCRE2_SPTR)value, strlen(value), 0, 0, m->md, NULL);
		int hit = rc >= 0;
		return m->type == MATCH_RE ? hit : !hit;
	}
	}
	return 0;
}

int matcher_matches_empty(const struct matcher *m)
{
	return matcher_matches(m, "");
}

void storage_result_free(struct storage_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		labels_free(r->series[i].labels);
		free(r->series[i].t);
		free(r->series[i].v);
	}
	free(r->series);
	r->series = NULL;
	r->n = 0;
}

void storage_strings_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}
