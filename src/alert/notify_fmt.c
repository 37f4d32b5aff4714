/* notify_fmt.c — see notify_fmt.h. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/notify_fmt.h"
#include "core/xmalloc.h"

#define EMAIL_LINE_MAX 900	/* bytes of one value in an email line (RFC 5322 allows 998) */
#define EMAIL_SUBJECT_MAX 200	/* bytes of the Subject text */

int notify_parse_time(const char *s, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int n = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
	    &tm.tm_sec, &n) != 6 || n != 19)
		return -1;
	if (tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
	    tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	const char *p = s + 19;
	int64_t frac = 0;
	if (*p == '.') {
		int digits = 0;
		for (p++; isdigit((unsigned char)*p); p++, digits++)
			if (digits < 3)
				frac = frac * 10 + (*p - '0');
		if (digits == 0)
			return -1;
		for (; digits < 3; digits++)
			frac *= 10;
	}
	int64_t off = 0;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int hh, mm;
		if (sscanf(p + 1, "%2d:%2d", &hh, &mm) != 2 || strlen(p) != 6 || hh > 23 || mm > 59)
			return -1;
		off = (hh * 3600 + mm * 60) * (*p == '+' ? 1 : -1);
		p += 6;
	} else {
		return -1;
	}
	if (*p)
		return -1;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - off) * 1000 + frac;
	return 0;
}

static int check_str_map(const struct ajson *m, const char *what, int need, char *err, size_t errsz)
{
	if (!m) {
		if (need)
			snprintf(err, errsz, "%s missing", what);
		return need ? -1 : 0;
	}
	if (m->t != AJSON_OBJ || (need && m->n == 0)) {
		snprintf(err, errsz, "%s must be a %sobject of strings", what, need ? "non-empty " : "");
		return -1;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (m->v[i]->t != AJSON_STR || !label_name_valid(m->keys[i])) {
			snprintf(err, errsz, "%s: \"%.64s\" must be a valid name with a string value", what, m->keys[i]);
			return -1;
		}
	}
	return 0;
}

int notify_alert_check(const struct ajson *a, char *err, size_t errsz)
{
	if (!a || a->t != AJSON_OBJ) {
		snprintf(err, errsz, "not an object");
		return -1;
	}
	if (check_str_map(ajson_get(a, "labels"), "labels", 1, err, errsz) < 0 ||
	    check_str_map(ajson_get(a, "annotations"), "annotations", 0, err, errsz) < 0)
		return -1;
	static const char *const times[] = { "startsAt", "endsAt" };
	for (int i = 0; i < 2; i++) {
		const struct ajson *t = ajson_get(a, times[i]);
		int64_t ms;
		if (t && (t->t != AJSON_STR || notify_parse_time(t->str, &ms) < 0)) {
			snprintf(err, errsz, "%s must be an RFC 3339 time", times[i]);
			return -1;
		}
	}
	const struct ajson *g = ajson_get(a, "generatorURL");
	if (g && g->t != AJSON_STR) {
		snprintf(err, errsz, "generatorURL must be a string");
		return -1;
	}
	return 0;
}

int notify_batch_add(struct notify_batch *b, const char *json, size_t len)
{
	struct ajson *j;
	char err[128];
	if (ajson_parse(json, len, &j, err, sizeof(err)) < 0)
		return -1;
	if (notify_alert_check(j, err, sizeof(err)) < 0) {
		ajson_free(j);
		return -1;
	}
	b->v = xreallocarray(b->v, b->n + 1, sizeof(*b->v));
	struct notify_alert *a = &b->v[b->n++];
	memset(a, 0, sizeof(*a));
	a->j = j;
	a->labels = ajson_get(j, "labels");
	a->annotations = ajson_get(j, "annotations");
	const char *s;
	if ((s = ajson_get_str(j, "startsAt")))
		notify_parse_time(s, &a->starts_ms);
	if ((s = ajson_get_str(j, "endsAt")))
		notify_parse_time(s, &a->ends_ms);
	return 0;
}

void notify_batch_free(struct notify_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		ajson_free(b->v[i].j);
	free(b->v);
	b->v = NULL;
	b->n = 0;
}

static int key_cmp(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

uint64_t notify_fingerprint(const struct ajson *labels)
{
	uint64_t h = 14695981039346656037ull;
	if (!labels || labels->t != AJSON_OBJ)
		return h;
	char **k = xcalloc(labels->n ? labels->n : 1, sizeof(*k));
	for (size_t i = 0; i < labels->n; i++)
		k[i] = labels->keys[i];
	qsort(k, labels->n, sizeof(*k), key_cmp);
	for (size_t i = 0; i < labels->n; i++) {
		const char *v = ajson_get_str(labels, k[i]);
		for (const unsigned char *p = (const unsigned char *)k[i]; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const unsigned char *p = (const unsigned char *)(v ? v : ""); *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	free(k);
	return h;
}

int notify_format_alertmanager(const struct notify_batch *b, struct buf *out)
{
	int rc = buf_addc(out, '[');
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		if (i)
			rc = buf_addc(out, ',');
		if (rc == 0)
			rc = ajson_write(b->v[i].j, out);
	}
	return rc ? -E2BIG : buf_addc(out, ']');
}

static int resolved(const struct notify_alert *a, int64_t now)
{
	return a->ends_ms > 0 && a->ends_ms <= now;
}

static int add_time(struct buf *out, int64_t ms)
{
	int rc = buf_addc(out, '"');
	rc |= alert_time_rfc3339(ms, out);
	return rc | buf_addc(out, '"');
}

/* The pairs every alert of the batch shares, as a JSON object (key: "labels" or "annotations"). */
static int common_json(const struct notify_batch *b, const char *key, struct buf *out)
{
	int rc = buf_addc(out, '{'), first = 1;
	const struct ajson *m0 = b->n ? ajson_get(b->v[0].j, key) : NULL;
	for (size_t k = 0; m0 && k < m0->n && rc == 0; k++) {
		const char *v0 = m0->v[k]->str;
		int all = 1;
		for (size_t i = 1; i < b->n && all; i++) {
			const char *v = ajson_get_str(ajson_get(b->v[i].j, key), m0->keys[k]);
			all = v && strcmp(v, v0) == 0;
		}
		if (!all)
			continue;
		if (!first)
			rc |= buf_addc(out, ',');
		first = 0;
		rc |= buf_add_json_str(out, m0->keys[k], strlen(m0->keys[k]));
		rc |= buf_addc(out, ':');
		rc |= buf_add_json_str(out, v0, m0->v[k]->len);
	}
	return rc | buf_addc(out, '}');
}

static int obj_or_empty(const struct ajson *j, struct buf *out)
{
	return j ? ajson_write(j, out) : buf_adds(out, "{}");
}

int notify_format_webhook(const struct notify_batch *b, const char *receiver, const char *external_url,
    int64_t now_ms, struct buf *out)
{
	int firing = 0;
	for (size_t i = 0; i < b->n; i++)
		firing |= !resolved(&b->v[i], now_ms);
	int rc = buf_adds(out, "{\"version\":\"4\",\"groupKey\":");
	char *gk = xasprintf("{}:{receiver=\"%s\"}", receiver);
	rc |= buf_add_json_str(out, gk, strlen(gk));
	free(gk);
	rc |= buf_printf(out, ",\"truncatedAlerts\":0,\"status\":\"%s\",\"receiver\":", firing ? "firing" : "resolved");
	rc |= buf_add_json_str(out, receiver, strlen(receiver));
	rc |= buf_adds(out, ",\"groupLabels\":{},\"commonLabels\":");
	rc |= common_json(b, "labels", out);
	rc |= buf_adds(out, ",\"commonAnnotations\":");
	rc |= common_json(b, "annotations", out);
	rc |= buf_adds(out, ",\"externalURL\":");
	rc |= buf_add_json_str(out, external_url ? external_url : "", external_url ? strlen(external_url) : 0);
	rc |= buf_adds(out, ",\"alerts\":[");
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		const struct notify_alert *a = &b->v[i];
		const char *gen = ajson_get_str(a->j, "generatorURL");
		rc |= buf_printf(out, "%s{\"status\":\"%s\",\"labels\":", i ? "," : "", resolved(a, now_ms) ? "resolved" : "firing");
		rc |= ajson_write(a->labels, out);
		rc |= buf_adds(out, ",\"annotations\":");
		rc |= obj_or_empty(a->annotations, out);
		rc |= buf_adds(out, ",\"startsAt\":");
		rc |= add_time(out, a->starts_ms);
		rc |= buf_adds(out, ",\"endsAt\":");
		rc |= add_time(out, resolved(a, now_ms) ? a->ends_ms : 0);
		rc |= buf_adds(out, ",\"generatorURL\":");
		rc |= buf_add_json_str(out, gen ? gen : "", gen ? strlen(gen) : 0);
		rc |= buf_printf(out, ",\"fingerprint\":\"%016llx\"}", (unsigned long long)notify_fingerprint(a->labels));
	}
	rc |= buf_adds(out, "]}");
	return rc ? -E2BIG : 0;
}

/* Append s to an email line: no CR/LF (header injection), capped length. */
static int add_safe(struct buf *out, const char *s, size_t max, int ascii_only)
{
	int rc = 0;
	for (size_t i = 0; s[i] && i < max && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\r' || c == '\n' || c == '\t')
			c = ' ';
		else if (c < 0x20 || c == 0x7f || (ascii_only && c >= 0x80))
			c = '?';
		rc = buf_addc(out, (char)c);
	}
	return rc;
}

static int add_pairs(struct buf *out, const char *title, const struct ajson *m)
{
	int rc = buf_printf(out, "%s:\r\n", title);
	for (size_t i = 0; m && i < m->n && rc == 0; i++) {
		rc |= buf_adds(out, "  ");
		rc |= add_safe(out, m->keys[i], 128, 0);
		rc |= buf_adds(out, " = ");
		/* Multi-line annotation values: one email line per value line. */
		const char *v = m->v[i]->str;
		while (rc == 0) {
			size_t l = strcspn(v, "\n");
			char *line = xstrndup(v, l);
			rc |= add_safe(out, line, EMAIL_LINE_MAX, 0);
			free(line);
			rc |= buf_adds(out, "\r\n");
			if (!v[l] || !v[l + 1])
				break;
			v += l + 1;
			rc |= buf_adds(out, "    ");
		}
	}
	return rc;
}

int notify_format_email(const struct notify_batch *b, const struct receiver_config *r, int64_t now_ms,
    struct buf *out)
{
	size_t nfiring = 0;
	for (size_t i = 0; i < b->n; i++)
		nfiring += !resolved(&b->v[i], now_ms);
	char date[64];
	time_t t = (time_t)(now_ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	static const char *const wd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mo[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
		"Nov", "Dec" };
	snprintf(date, sizeof(date), "%s, %02d %s %04d %02d:%02d:%02d +0000", wd[tm.tm_wday], tm.tm_mday,
	    mo[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	int rc = buf_printf(out, "Date: %s\r\nFrom: <%s>\r\nTo: ", date, r->from);
	for (size_t i = 0; i < r->nto; i++)
		rc |= buf_printf(out, "%s<%s>", i ? ", " : "", r->to[i]);
	rc |= buf_printf(out, "\r\nMessage-ID: <%lld.%u.%016llx@vigil>\r\n", (long long)now_ms, (unsigned)b->n,
	    (unsigned long long)(b->n ? notify_fingerprint(b->v[0].labels) : 0));
	/* Subject: "[FIRING:2] HostDown InterfaceDown" like Alertmanager's default. */
	struct buf subj;
	buf_init(&subj, 4096);
	if (nfiring)
		buf_printf(&subj, "[FIRING:%zu]", nfiring);
	else
		buf_adds(&subj, "[RESOLVED]");
	for (size_t i = 0; i < b->n && subj.len < EMAIL_SUBJECT_MAX; i++) {
		const char *an = ajson_get_str(b->v[i].labels, "alertname");
		if (!an)
			continue;
		int dup = 0;
		for (size_t k = 0; k < i && !dup; k++) {
			const char *o = ajson_get_str(b->v[k].labels, "alertname");
			dup = o && strcmp(o, an) == 0;
		}
		if (!dup)
			buf_printf(&subj, " %s", an);
	}
	rc |= buf_adds(out, "Subject: ");
	rc |= add_safe(out, subj.data ? subj.data : "", EMAIL_SUBJECT_MAX, 1);
	buf_free(&subj);
	rc |= buf_adds(out, "\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
	    "Content-Transfer-Encoding: 8bit\r\nAuto-Submitted: auto-generated\r\n\r\n");
	for (size_t i = 0; i < b->n && rc == 0; i++) {
		const struct notify_alert *a = &b->v[i];
		const char *an = ajson_get_str(a->labels, "alertname"), *gen = ajson_get_str(a->j, "generatorURL");
		rc |= buf_adds(out, resolved(a, now_ms) ? "[RESOLVED] " : "[FIRING] ");
		rc |= add_safe(out, an ? an : "(no alertname)", 200, 0);
		rc |= buf_adds(out, "\r\n");
		rc |= add_pairs(out, "Labels", a->labels);
		if (a->annotations && a->annotations->n)
			rc |= add_pairs(out, "Annotations", a->annotations);
		rc |= buf_adds(out, "Started: ");
		rc |= alert_time_rfc3339(a->starts_ms, out);
		if (resolved(a, now_ms)) {
			rc |= buf_adds(out, "\r\nEnded: ");
			rc |= alert_time_rfc3339(a->ends_ms, out);
		}
		if (gen && *gen) {
			rc |= buf_adds(out, "\r\nSource: ");
			rc |= add_safe(out, gen, EMAIL_LINE_MAX, 0);
		}
		rc |= buf_adds(out, "\r\n\r\n");
	}
	rc |= buf_adds(out, "-- \r\nSent by vigil.\r\n");
	return rc ? -E2BIG : 0;
}
