/*
 * maint.c — maintenance windows: while one is active, notifications for the
 * alerts its matchers select are not sent (the alerts themselves keep their
 * state, series and API view). One-off windows are [start, end); weekly ones
 * repeat on the given UTC weekdays between two times of day.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "core/xmalloc.h"
#include "tsdb/storage.h"

int maint_parse_matcher(const char *s, struct matcher *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	const char *p = s;
	while (isspace((unsigned char)*p))
		p++;
	const char *n0 = p;
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	size_t nl = (size_t)(p - n0);
	char name[256];
	if (nl == 0 || nl >= sizeof(name)) {
		snprintf(err, errsz, "matcher \"%.64s\": expected a label name", s);
		return -1;
	}
	memcpy(name, n0, nl);
	name[nl] = 0;
	while (isspace((unsigned char)*p))
		p++;
	enum match_type t;
	if (strncmp(p, "=~", 2) == 0) t = MATCH_RE, p += 2;
	else if (strncmp(p, "!~", 2) == 0) t = MATCH_NRE, p += 2;
	else if (strncmp(p, "!=", 2) == 0) t = MATCH_NE, p += 2;
	else if (*p == '=') t = MATCH_EQ, p += 1;
	else {
		snprintf(err, errsz, "matcher \"%.64s\": expected =, !=, =~ or !~ after the name", s);
		return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"') {
		snprintf(err, errsz, "matcher \"%.64s\": the value must be in double quotes", s);
		return -1;
	}
	struct buf v;
	buf_init(&v, LABEL_VALUE_MAX);
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1])
			p++;
		if (buf_addc(&v, *p) < 0)
			break;
	}
	if (*p != '"') {
		buf_free(&v);
		snprintf(err, errsz, "matcher \"%.64s\": unterminated value", s);
		return -1;
	}
	for (p++; isspace((unsigned char)*p); p++)
		;
	if (*p) {
		buf_free(&v);
		snprintf(err, errsz, "matcher \"%.64s\": unexpected text after the value", s);
		return -1;
	}
	char merr[256];
	int rc = matcher_init(out, t, name, v.data ? v.data : "", merr, sizeof(merr));
	buf_free(&v);
	if (rc < 0)
		snprintf(err, errsz, "matcher \"%.64s\": %s", s, merr);
	return rc;
}

int maint_active(const struct maint_window *w, int64_t now_ms)
{
	if (!w->weekdays)
		return now_ms >= w->start_ms && now_ms < w->end_ms;
	int64_t day = now_ms >= 0 ? now_ms / 86400000 : (now_ms - 86399999) / 86400000;
	int min = (int)((now_ms - day * 86400000) / 60000);
	int wd = (int)((day + 4) % 7);	/* 1970-01-01 was a Thursday */
	int yd = (wd + 6) % 7;
	if (w->from_min < w->to_min)
		return (w->weekdays >> wd & 1) && min >= w->from_min && min < w->to_min;
	/* crosses midnight: the evening of a listed day, or the morning after one */
	return ((w->weekdays >> wd & 1) && min >= w->from_min) || ((w->weekdays >> yd & 1) && min < w->to_min);
}

int maint_matches(const struct maint_window *w, const struct labels *ls)
{
	for (size_t i = 0; i < w->nm; i++) {
		const char *v = labels_get(ls, w->m[i].name);
		if (!matcher_matches(&w->m[i], v ? v : ""))
			return 0;
	}
	return 1;
}

void maint_window_clear(struct maint_window *w)
{
	for (size_t i = 0; i < w->nm; i++)
		matcher_free(&w->m[i]);
	free(w->m);
	free(w->name);
	memset(w, 0, sizeof(*w));
}
