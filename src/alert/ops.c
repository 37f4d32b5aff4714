/*
 * ops.c — operator actions on alerts: silences (Alertmanager v2's shape),
 * acknowledgements and maintenance windows created through the API. They
 * live in memory for matching and in SQLite (the store worker's data
 * directory, "alerting.db") so they survive restarts. Each object is kept as
 * one row holding its API JSON, read back with the same parser the API uses.
 */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "alert/notify_fmt.h"
#include "alert/ops.h"
#include "core/log.h"
#include "core/sqlite_rel.h"
#include "core/xmalloc.h"
#include "tsdb/storage.h"

static const char ops_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS silences (id TEXT PRIMARY KEY, json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS acks (fingerprint TEXT PRIMARY KEY, json TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS windows (id TEXT PRIMARY KEY, json TEXT NOT NULL);"
    "SELECT COUNT(*) FROM silences;";

uint64_t alert_fingerprint(const struct labels *ls)
{
	uint64_t h = 14695981039346656037ull;
	/* labels are sorted by name, as Prometheus's LabelSet.Fingerprint sorts them */
	for (size_t i = 0; ls && i < ls->n; i++) {
		for (const unsigned char *p = (const unsigned char *)ls->v[i].name; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
		for (const unsigned char *p = (const unsigned char *)ls->v[i].value; *p; p++)
			h = (h ^ *p) * 1099511628211ull;
		h = (h ^ 0xff) * 1099511628211ull;
	}
	return h;
}

static void new_id(char out[ALERT_OPS_ID_LEN + 1])
{
	unsigned char r[16];
	/* 16 bytes never come back short from getrandom once the pool is ready */
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r))
		log_fatal(1, "getrandom failed", "for=\"an operator action id\"");
	r[6] = (unsigned char)((r[6] & 0x0f) | 0x40);	/* version 4 */
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	snprintf(out, ALERT_OPS_ID_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	    r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

/* ---- JSON pieces ---- */

static int add_time(struct buf *out, int64_t ms)
{
	int rc = buf_addc(out, '"');
	rc |= alert_time_rfc3339(ms, out);
	rc |= buf_addc(out, '"');
	return rc;
}

static int add_str(struct buf *out, const char *s)
{
	return buf_add_json_str(out, s ? s : "", strlen(s ? s : ""));
}

/* A string member no longer than ALERT_OPS_TEXT_MAX; absent: def. */
static int get_text(const struct ajson *j, const char *key, const char *def, char **out, char *err, size_t errsz)
{
	const struct ajson *v = ajson_get(j, key);
	*out = NULL;
	if (v && v->t == AJSON_NULL)
		v = NULL;
	if (v && v->t != AJSON_STR) {
		snprintf(err, errsz, "%s must be a string", key);
		return -1;
	}
	if (v && (v->len > ALERT_OPS_TEXT_MAX || strlen(v->str) != v->len)) {
		snprintf(err, errsz, "%s: at most %d bytes, no NUL", key, ALERT_OPS_TEXT_MAX);
		return -1;
	}
	*out = xstrdup(v ? v->str : def);
	return 0;
}

/* A time member (RFC 3339); absent: def. */
static int get_time(const struct ajson *j, const char *key, int64_t def, int64_t *out, char *err, size_t errsz)
{
	const struct ajson *v = ajson_get(j, key);
	*out = def;
	if (!v || v->t == AJSON_NULL)
		return 0;
	if (v->t != AJSON_STR || notify_parse_time(v->str, out) < 0) {
		snprintf(err, errsz, "%s must be an RFC 3339 time such as 2026-11-28T03:00:00Z", key);
		return -1;
	}
	return 0;
}

int ops_matchers_from_json(const struct ajson *arr, struct matcher **m, size_t *nm, char *err, size_t errsz)
{
	*m = NULL;
	*nm = 0;
	if (!arr || arr->t == AJSON_NULL)
		return 0;
	if (arr->t != AJSON_ARR) {
		snprintf(err, errsz, "matchers must be an array of {name, value, isRegex, isEqual}");
		return -1;
	}
	if (arr->n > ALERT_MAX_MATCHERS) {
		snprintf(err, errsz, "at most %d matchers", ALERT_MAX_MATCHERS);
		return -1;
	}
	struct matcher *v = xcalloc(arr->n ? arr->n : 1, sizeof(*v));
	size_t i;
	for (i = 0; i < arr->n; i++) {
		const struct ajson *x = arr->v[i];
		const char *name = ajson_get_str(x, "name"), *value = ajson_get_str(x, "value");
		const struct ajson *re = ajson_get(x, "isRegex"), *eq = ajson_get(x, "isEqual");
		if (!name || !label_name_valid(name)) {
			snprintf(err, errsz, "matcher %zu: name must be a label name", i);
			goto fail;
		}
		if (!value || strlen(value) > LABEL_VALUE_MAX) {
			snprintf(err, errsz, "matcher %zu (%s): value must be a string", i, name);
			goto fail;
		}
		if ((re && re->t != AJSON_BOOL) || (eq && eq->t != AJSON_BOOL)) {
			snprintf(err, errsz, "matcher %zu (%s): isRegex and isEqual must be true or false", i, name);
			goto fail;
		}
		int isre = re && re->num != 0, iseq = !eq || eq->num != 0;
		enum match_type t = isre ? (iseq ? MATCH_RE : MATCH_NRE) : (iseq ? MATCH_EQ : MATCH_NE);
		char merr[256];
		if (matcher_init(&v[i], t, name, value, merr, sizeof(merr)) < 0) {
			snprintf(err, errsz, "matcher %zu (%s): %s", i, name, merr);
			goto fail;
		}
	}
	*m = v;
	*nm = arr->n;
	return 0;
fail:
	for (size_t k = 0; k < i; k++)
		matcher_free(&v[k]);
	free(v);
	return -1;
}

int ops_matchers_json(const struct matcher *m, size_t nm, struct buf *out)
{
	int rc = buf_addc(out, '[');
	for (size_t i = 0; i < nm; i++) {
		int re = m[i].type == MATCH_RE || m[i].type == MATCH_NRE;
		int eq = m[i].type == MATCH_EQ || m[i].type == MATCH_RE;
		rc |= buf_adds(out, i ? ",{\"name\":" : "{\"name\":");
		rc |= add_str(out, m[i].name);
		rc |= buf_adds(out, ",\"value\":");
		rc |= add_str(out, m[i].value);
		rc |= buf_printf(out, ",\"isRegex\":%s,\"isEqual\":%s}", re ? "true" : "false", eq ? "true" : "false");
	}
	rc |= buf_addc(out, ']');
	return rc ? -E2BIG : 0;
}

static void matchers_free(struct matcher *m, size_t nm)
{
	for (size_t i = 0; i < nm; i++)
		matcher_free(&m[i]);
	free(m);
}

static int matchers_match(const struct matcher *m, size_t nm, const struct labels *ls)
{
	for (size_t i = 0; i < nm; i++) {
		const char *v = labels_get(ls, m[i].name);
		if (!matcher_matches(&m[i], v ? v : ""))
			return 0;
	}
	return 1;
}

/* The id member if present: a UUID-shaped string. */
static int get_id(const struct ajson *j, char id[ALERT_OPS_ID_LEN + 1], char *err, size_t errsz)
{
	const struct ajson *v = ajson_get(j, "id");
	id[0] = 0;
	if (!v || v->t == AJSON_NULL || (v->t == AJSON_STR && v->len == 0))
		return 0;
	if (v->t != AJSON_STR || v->len != ALERT_OPS_ID_LEN || strspn(v->str, "0123456789abcdef-") != v->len) {
		snprintf(err, errsz, "id must be a silence id as returned by POST (a UUID)");
		return -1;
	}
	memcpy(id, v->str, ALERT_OPS_ID_LEN + 1);
	return 0;
}

/* ---- silences ---- */

const char *ops_silence_state(const struct alert_silence *s, int64_t now_ms)
{
	return now_ms < s->starts_ms ? "pending" : now_ms < s->ends_ms ? "active" : "expired";
}

void ops_silence_clear(struct alert_silence *s)
{
	matchers_free(s->m, s->nm);
	free(s->created_by);
	free(s->comment);
	memset(s, 0, sizeof(*s));
}

int ops_silence_from_json(const struct ajson *j, int64_t now_ms, struct alert_silence *s, char *err, size_t errsz)
{
	memset(s, 0, sizeof(*s));
	if (!j || j->t != AJSON_OBJ) {
		snprintf(err, errsz, "a silence must be a JSON object");
		return -1;
	}
	if (get_id(j, s->id, err, errsz) < 0 ||
	    ops_matchers_from_json(ajson_get(j, "matchers"), &s->m, &s->nm, err, errsz) < 0 ||
	    get_time(j, "startsAt", now_ms, &s->starts_ms, err, errsz) < 0 ||
	    get_time(j, "endsAt", 0, &s->ends_ms, err, errsz) < 0 ||
	    get_time(j, "updatedAt", now_ms, &s->updated_ms, err, errsz) < 0 ||
	    get_text(j, "createdBy", "", &s->created_by, err, errsz) < 0 ||
	    get_text(j, "comment", "", &s->comment, err, errsz) < 0)
		goto fail;
	if (s->nm == 0) {
		snprintf(err, errsz, "a silence needs at least one matcher");
		goto fail;
	}
	int selective = 0;
	for (size_t i = 0; i < s->nm; i++)
		selective |= !matcher_matches_empty(&s->m[i]);
	if (!selective) {
		/* Alertmanager's rule: a silence must not select every alert. */
		snprintf(err, errsz, "at least one matcher must not match the empty string");
		goto fail;
	}
	if (!ajson_get(j, "endsAt")) {
		snprintf(err, errsz, "endsAt is required");
		goto fail;
	}
	if (s->ends_ms <= s->starts_ms) {
		snprintf(err, errsz, "endsAt must be after startsAt");
		goto fail;
	}
	return 0;
fail:
	ops_silence_clear(s);
	return -1;
}

int ops_silence_json(const struct alert_silence *s, int64_t now_ms, struct buf *out)
{
	int rc = buf_adds(out, "{\"id\":");
	rc |= add_str(out, s->id);
	rc |= buf_printf(out, ",\"status\":{\"state\":\"%s\"},\"updatedAt\":", ops_silence_state(s, now_ms));
	rc |= add_time(out, s->updated_ms);
	rc |= buf_adds(out, ",\"matchers\":");
	rc |= ops_matchers_json(s->m, s->nm, out);
	rc |= buf_adds(out, ",\"startsAt\":");
	rc |= add_time(out, s->starts_ms);
	rc |= buf_adds(out, ",\"endsAt\":");
	rc |= add_time(out, s->ends_ms);
	rc |= buf_adds(out, ",\"createdBy\":");
	rc |= add_str(out, s->created_by);
	rc |= buf_adds(out, ",\"comment\":");
	rc |= add_str(out, s->comment);
	rc |= buf_addc(out, '}');
	return rc ? -E2BIG : 0;
}

/* ---- acknowledgements ---- */

void ops_ack_clear(struct alert_ack *a)
{
	labels_free(a->labels);
	free(a->by);
	free(a->comment);
	memset(a, 0, sizeof(*a));
}

int ops_ack_from_json(const struct ajson *j, struct alert_ack *a, char *err, size_t errsz)
{
	memset(a, 0, sizeof(*a));
	const char *fp = ajson_get_str(j, "fingerprint");
	char *end = NULL;
	if (!fp || strlen(fp) != 16 || (a->fp = strtoull(fp, &end, 16), *end)) {
		snprintf(err, errsz, "fingerprint must be 16 hex digits");
		return -1;
	}
	const struct ajson *lj = ajson_get(j, "labels");
	struct labels_builder lb;
	lb_init(&lb);
	for (size_t i = 0; lj && lj->t == AJSON_OBJ && i < lj->n; i++)
		if (lj->v[i]->t == AJSON_STR)
			lb_set(&lb, lj->keys[i], lj->v[i]->str);
	a->labels = lb_finish(&lb);
	lb_free(&lb);
	if (get_time(j, "activeAt", 0, &a->active_at_ms, err, errsz) < 0 ||
	    get_time(j, "acknowledgedAt", 0, &a->at_ms, err, errsz) < 0 ||
	    get_text(j, "acknowledgedBy", "", &a->by, err, errsz) < 0 ||
	    get_text(j, "comment", "", &a->comment, err, errsz) < 0) {
		ops_ack_clear(a);
		return -1;
	}
	return 0;
}

int ops_ack_json(const struct alert_ack *a, struct buf *out)
{
	int rc = buf_printf(out, "{\"fingerprint\":\"%016llx\",\"labels\":", (unsigned long long)a->fp);
	rc |= alert_labels_json(a->labels, out);
	rc |= buf_adds(out, ",\"activeAt\":");
	rc |= add_time(out, a->active_at_ms);
	rc |= buf_adds(out, ",\"acknowledgedBy\":");
	rc |= add_str(out, a->by);
	rc |= buf_adds(out, ",\"acknowledgedAt\":");
	rc |= add_time(out, a->at_ms);
	rc |= buf_adds(out, ",\"comment\":");
	rc |= add_str(out, a->comment);
	rc |= buf_addc(out, '}');
	return rc ? -E2BIG : 0;
}

/* ---- maintenance windows ---- */

void ops_window_clear(struct alert_ops_window *w)
{
	free(w->name);
	free(w->node);
	free(w->group);
	matchers_free(w->m, w->nm);
	free(w->created_by);
	free(w->comment);
	memset(w, 0, sizeof(*w));
}

static const char *const weekday_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat" };

/* "HH:MM" (00:00..23:59) -> minutes of the day; -1 if malformed. */
static int hhmm(const char *s)
{
	if (!s || strlen(s) != 5 || s[2] != ':' || strspn(s, "0123456789:") != 5)
		return -1;
	int h = (s[0] - '0') * 10 + (s[1] - '0'), m = (s[3] - '0') * 10 + (s[4] - '0');
	return h < 24 && m < 60 ? h * 60 + m : -1;
}

/* The optional "weekly": {"days": [...], "from": "HH:MM", "to": "HH:MM"}. */
static int get_weekly(const struct ajson *j, struct alert_ops_window *w, char *err, size_t errsz)
{
	const struct ajson *wy = ajson_get(j, "weekly");
	if (!wy || wy->t == AJSON_NULL)
		return 0;
	const struct ajson *days = ajson_get(wy, "days");
	for (size_t i = 0; days && days->t == AJSON_ARR && i < days->n; i++) {
		int d;
		for (d = 0; d < 7 && !(days->v[i]->t == AJSON_STR && strcmp(days->v[i]->str, weekday_names[d]) == 0); d++)
			;
		if (d == 7) {
			snprintf(err, errsz, "weekly.days are sun, mon, tue, wed, thu, fri, sat");
			return -1;
		}
		w->weekdays |= 1u << d;
	}
	w->from_min = hhmm(ajson_get_str(wy, "from"));
	w->to_min = hhmm(ajson_get_str(wy, "to"));
	if (wy->t != AJSON_OBJ || !w->weekdays || w->from_min < 0 || w->to_min < 0 || w->from_min == w->to_min) {
		snprintf(err, errsz, "weekly is {\"days\": [\"sat\", ...], \"from\": \"HH:MM\", \"to\": \"HH:MM\"} "
		    "(UTC, from and to different)");
		return -1;
	}
	return 0;
}

int alert_ops_window_active(const struct alert_ops_window *w, int64_t now_ms)
{
	if (now_ms < w->starts_ms || now_ms >= w->ends_ms)
		return 0;
	if (!w->weekdays)
		return 1;
	struct maint_window m = { .weekdays = w->weekdays, .from_min = w->from_min, .to_min = w->to_min };
	return maint_active(&m, now_ms);
}

int ops_window_from_json(const struct ajson *j, int64_t now_ms, struct alert_ops_window *w, char *err, size_t errsz)
{
	memset(w, 0, sizeof(*w));
	if (!j || j->t != AJSON_OBJ) {
		snprintf(err, errsz, "a maintenance window must be a JSON object");
		return -1;
	}
	if (get_id(j, w->id, err, errsz) < 0 || get_text(j, "name", "", &w->name, err, errsz) < 0 ||
	    get_text(j, "node", "", &w->node, err, errsz) < 0 || get_text(j, "group", "", &w->group, err, errsz) < 0 ||
	    ops_matchers_from_json(ajson_get(j, "matchers"), &w->m, &w->nm, err, errsz) < 0 ||
	    get_time(j, "startsAt", now_ms, &w->starts_ms, err, errsz) < 0 ||
	    get_time(j, "endsAt", INT64_MAX, &w->ends_ms, err, errsz) < 0 ||
	    get_weekly(j, w, err, errsz) < 0 ||
	    get_text(j, "createdBy", "", &w->created_by, err, errsz) < 0 ||
	    get_text(j, "comment", "", &w->comment, err, errsz) < 0)
		goto fail;
	if (!w->node[0] && !w->group[0] && w->nm == 0) {
		snprintf(err, errsz, "a maintenance window needs a node, a group or matchers");
		goto fail;
	}
	if ((!w->weekdays && w->ends_ms == INT64_MAX) || w->ends_ms <= w->starts_ms) {
		snprintf(err, errsz, "endsAt is required (optional for a weekly window) and must be after startsAt");
		goto fail;
	}
	if (!w->name[0]) {
		free(w->name);
		w->name = xasprintf("%s%s", w->node[0] ? "node " : w->group[0] ? "group " : "api",
		    w->node[0] ? w->node : w->group);
	}
	return 0;
fail:
	ops_window_clear(w);
	return -1;
}

int ops_weekly_json(unsigned weekdays, int from_min, int to_min, struct buf *out)
{
	int rc = buf_adds(out, ",\"weekly\":{\"days\":[");
	for (int d = 0, k = 0; d < 7; d++)
		if (weekdays >> d & 1)
			rc |= buf_printf(out, "%s\"%s\"", k++ ? "," : "", weekday_names[d]);
	rc |= buf_printf(out, "],\"from\":\"%02d:%02d\",\"to\":\"%02d:%02d\"}", from_min / 60,
	    from_min % 60, to_min / 60, to_min % 60);
	return rc;
}

int ops_window_json(const struct alert_ops_window *w, int64_t now_ms, struct buf *out)
{
	int rc = buf_adds(out, "{\"id\":");
	rc |= add_str(out, w->id);
	rc |= buf_adds(out, ",\"source\":\"api\",\"name\":");
	rc |= add_str(out, w->name);
	rc |= buf_adds(out, ",\"node\":");
	rc |= add_str(out, w->node);
	rc |= buf_adds(out, ",\"group\":");
	rc |= add_str(out, w->group);
	rc |= buf_adds(out, ",\"matchers\":");
	rc |= ops_matchers_json(w->m, w->nm, out);
	if (w->weekdays)
		rc |= ops_weekly_json(w->weekdays, w->from_min, w->to_min, out);
	rc |= buf_adds(out, ",\"startsAt\":");
	rc |= add_time(out, w->starts_ms);
	rc |= buf_adds(out, ",\"endsAt\":");
	rc |= w->ends_ms == INT64_MAX ? buf_adds(out, "null") : add_time(out, w->ends_ms);
	rc |= buf_printf(out, ",\"active\":%s,\"createdBy\":", alert_ops_window_active(w, now_ms) ? "true" : "false");
	rc |= add_str(out, w->created_by);
	rc |= buf_adds(out, ",\"comment\":");
	rc |= add_str(out, w->comment);
	rc |= buf_addc(out, '}');
	return rc ? -E2BIG : 0;
}

int alert_ops_window_matches(const struct alert_ops_window *w, const struct labels *ls)
{
	if (w->node[0]) {
		/* A node is named by vigil's node label or by its instance, with or without a port. */
		const char *node = labels_get(ls, "node"), *inst = labels_get(ls, "instance");
		size_t nl = strlen(w->node);
		int hit = (node && strcmp(node, w->node) == 0) || (inst && strcmp(inst, w->node) == 0);
		if (!hit && inst && strncmp(inst, w->node, nl) == 0 && inst[nl] == ':' && inst[nl + 1] &&
		    strspn(inst + nl + 1, "0123456789") == strlen(inst + nl + 1))
			hit = 1;
		if (!hit)
			return 0;
	}
	if (w->group[0]) {
		const char *g = labels_get(ls, "group");
		if (!g || strcmp(g, w->group) != 0)
			return 0;
	}
	return matchers_match(w->m, w->nm, ls);
}

/* ---- the store ---- */

static int db_put(struct alert_ops *o, const char *table, const char *key, const struct buf *json)
{
	if (!o->db)
		return 0;
	char sql[128];
	snprintf(sql, sizeof(sql), "INSERT OR REPLACE INTO %s VALUES (?1, ?2)", table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, json->data ? json->data : "{}", (int)json->len, SQLITE_STATIC);
	int rc = sqlite3_step(st) == SQLITE_DONE ? 0 : -EIO;
	if (rc < 0)
		log_error("cannot store an operator action", "table=%s err=\"%s\"", table, sqlite3_errmsg(o->db));
	sqlite3_finalize(st);
	return rc;
}

static void db_del(struct alert_ops *o, const char *table, const char *col, const char *key)
{
	if (!o->db)
		return;
	char sql[128];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s = ?1", table, col);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("cannot delete an operator action", "table=%s err=\"%s\"", table, sqlite3_errmsg(o->db));
	sqlite3_finalize(st);
}

static int save_silence(struct alert_ops *o, const struct alert_silence *s)
{
	struct buf b;
	buf_init(&b, ALERT_OPS_BODY_MAX * 4);
	int rc = ops_silence_json(s, s->updated_ms, &b) < 0 ? -EIO : db_put(o, "silences", s->id, &b);
	buf_free(&b);
	return rc;
}

static struct alert_silence *silence_find(const struct alert_ops *o, const char *id)
{
	for (size_t i = 0; i < o->nsilences; i++)
		if (strcmp(o->silences[i]->id, id) == 0)
			return o->silences[i];
	return NULL;
}

const struct alert_silence *ops_silence_get(const struct alert_ops *o, const char *id)
{
	return silence_find(o, id);
}

int ops_silence_put(struct alert_ops *o, struct alert_silence *s, int64_t now_ms, char id_out[ALERT_OPS_ID_LEN + 1],
    char *err, size_t errsz)
{
	struct alert_silence *old = s->id[0] ? silence_find(o, s->id) : NULL;
	if (s->id[0] && !old) {
		snprintf(err, errsz, "no silence with id %s", s->id);
		return -ENOENT;
	}
	if (old && old->ends_ms <= now_ms)
		old = NULL;	/* an expired silence is not changed: a new one is made */
	if (!old && o->nsilences >= ALERT_OPS_MAX_SILENCES) {
		snprintf(err, errsz, "too many silences (%d)", ALERT_OPS_MAX_SILENCES);
		return -ENOSPC;
	}
	struct alert_silence *n = xmalloc(sizeof(*n));
	*n = *s;
	memset(s, 0, sizeof(*s));
	n->updated_ms = now_ms;
	if (old)
		memcpy(n->id, old->id, sizeof(n->id));
	else
		new_id(n->id);
	if (save_silence(o, n) < 0) {
		ops_silence_clear(n);
		free(n);
		snprintf(err, errsz, "cannot store the silence");
		return -EIO;
	}
	if (old) {
		for (size_t i = 0; i < o->nsilences; i++)
			if (o->silences[i] == old)
				o->silences[i] = n;
		ops_silence_clear(old);
		free(old);
	} else {
		o->silences = xreallocarray(o->silences, o->nsilences + 1, sizeof(*o->silences));
		o->silences[o->nsilences++] = n;
	}
	memcpy(id_out, n->id, ALERT_OPS_ID_LEN + 1);
	return 0;
}

int ops_silence_expire(struct alert_ops *o, const char *id, int64_t now_ms)
{
	struct alert_silence *s = silence_find(o, id);
	if (!s)
		return -ENOENT;
	if (s->ends_ms <= now_ms)
		return 0;	/* already expired */
	int64_t ends = s->ends_ms, starts = s->starts_ms, upd = s->updated_ms;
	s->ends_ms = now_ms;
	if (s->starts_ms >= now_ms)
		s->starts_ms = now_ms - 1;	/* a pending silence expires without ever starting */
	s->updated_ms = now_ms;
	if (save_silence(o, s) < 0) {
		s->ends_ms = ends;
		s->starts_ms = starts;
		s->updated_ms = upd;
		return -EIO;
	}
	return 0;
}

size_t alert_ops_silenced_by(const struct alert_ops *o, const struct labels *ls, int64_t now_ms, const char **ids,
    size_t max)
{
	size_t n = 0;
	for (size_t i = 0; o && i < o->nsilences; i++) {
		const struct alert_silence *s = o->silences[i];
		if (now_ms >= s->starts_ms && now_ms < s->ends_ms && matchers_match(s->m, s->nm, ls)) {
			if (n < max)
				ids[n] = s->id;
			n++;
		}
	}
	return n;
}

static void fp_key(uint64_t fp, char key[17])
{
	snprintf(key, 17, "%016llx", (unsigned long long)fp);
}

int ops_ack_put(struct alert_ops *o, struct alert_ack *a)
{
	size_t at = o->nacks;
	for (size_t i = 0; i < o->nacks; i++)
		if (o->acks[i]->fp == a->fp)
			at = i;
	if (at == o->nacks && o->nacks >= ALERT_OPS_MAX_ACKS)
		return -ENOSPC;
	struct buf b;
	buf_init(&b, ALERT_OPS_BODY_MAX * 4);
	char key[17];
	fp_key(a->fp, key);
	int rc = ops_ack_json(a, &b) < 0 ? -EIO : db_put(o, "acks", key, &b);
	buf_free(&b);
	if (rc < 0)
		return rc;
	struct alert_ack *n = xmalloc(sizeof(*n));
	*n = *a;
	memset(a, 0, sizeof(*a));
	if (at < o->nacks) {
		ops_ack_clear(o->acks[at]);
		free(o->acks[at]);
		o->acks[at] = n;
	} else {
		o->acks = xreallocarray(o->acks, o->nacks + 1, sizeof(*o->acks));
		o->acks[o->nacks++] = n;
	}
	return 0;
}

int ops_ack_delete(struct alert_ops *o, uint64_t fp)
{
	for (size_t i = 0; i < o->nacks; i++) {
		if (o->acks[i]->fp != fp)
			continue;
		char key[17];
		fp_key(fp, key);
		db_del(o, "acks", "fingerprint", key);
		ops_ack_clear(o->acks[i]);
		free(o->acks[i]);
		o->acks[i] = o->acks[--o->nacks];
		return 0;
	}
	return -ENOENT;
}

const struct alert_ack *alert_ops_ack_find(const struct alert_ops *o, uint64_t fp, int64_t active_at_ms)
{
	for (size_t i = 0; o && i < o->nacks; i++)
		if (o->acks[i]->fp == fp && o->acks[i]->active_at_ms == active_at_ms)
			return o->acks[i];
	return NULL;
}

int ops_window_put(struct alert_ops *o, struct alert_ops_window *w, char id_out[ALERT_OPS_ID_LEN + 1])
{
	if (o->nwindows >= ALERT_OPS_MAX_WINDOWS)
		return -ENOSPC;
	if (!w->id[0])
		new_id(w->id);
	struct buf b;
	buf_init(&b, ALERT_OPS_BODY_MAX * 4);
	int rc = ops_window_json(w, 0, &b) < 0 ? -EIO : db_put(o, "windows", w->id, &b);
	buf_free(&b);
	if (rc < 0)
		return rc;
	struct alert_ops_window *n = xmalloc(sizeof(*n));
	*n = *w;
	memset(w, 0, sizeof(*w));
	o->windows = xreallocarray(o->windows, o->nwindows + 1, sizeof(*o->windows));
	o->windows[o->nwindows++] = n;
	memcpy(id_out, n->id, ALERT_OPS_ID_LEN + 1);
	return 0;
}

int ops_window_delete(struct alert_ops *o, const char *id)
{
	for (size_t i = 0; i < o->nwindows; i++) {
		if (strcmp(o->windows[i]->id, id) != 0)
			continue;
		db_del(o, "windows", "id", id);
		ops_window_clear(o->windows[i]);
		free(o->windows[i]);
		memmove(&o->windows[i], &o->windows[i + 1], (o->nwindows - i - 1) * sizeof(*o->windows));
		o->nwindows--;
		return 0;
	}
	return -ENOENT;
}

const struct alert_ops_window *alert_ops_window_hit(const struct alert_ops *o, const struct labels *ls, int64_t now_ms)
{
	for (size_t i = 0; o && i < o->nwindows; i++) {
		const struct alert_ops_window *w = o->windows[i];
		if (alert_ops_window_active(w, now_ms) && alert_ops_window_matches(w, ls))
			return w;
	}
	return NULL;
}

void ops_gc(struct alert_ops *o, int64_t now_ms)
{
	for (size_t i = 0; i < o->nsilences;) {
		struct alert_silence *s = o->silences[i];
		if (s->ends_ms > now_ms - ALERT_OPS_SILENCE_KEEP_MS) {
			i++;
			continue;
		}
		db_del(o, "silences", "id", s->id);
		ops_silence_clear(s);
		free(s);
		o->silences[i] = o->silences[--o->nsilences];
	}
	for (size_t i = 0; i < o->nwindows;) {
		if (o->windows[i]->ends_ms > now_ms - ALERT_OPS_SILENCE_KEEP_MS)	/* INT64_MAX: kept */
			i++;
		else
			ops_window_delete(o, o->windows[i]->id);
	}
}

int alert_ops_mark(const struct alert_ops *o, const struct labels *ls, uint64_t fp, int64_t active_at_ms,
    int64_t now_ms, struct buf *out)
{
	const char *ids[8];
	size_t ns = alert_ops_silenced_by(o, ls, now_ms, ids, 8);
	const struct alert_ack *ack = alert_ops_ack_find(o, fp, active_at_ms);
	const struct alert_ops_window *w = alert_ops_window_hit(o, ls, now_ms);
	if (!ns && !ack && !w)
		return 0;
	int rc = buf_adds(out, ",\"vigil\":{");
	const char *sep = "";
	if (ns) {
		rc |= buf_adds(out, "\"silencedBy\":[");
		for (size_t i = 0; i < ns && i < 8; i++)
			rc |= (i ? buf_addc(out, ',') : 0) | add_str(out, ids[i]);
		rc |= buf_addc(out, ']');
		sep = ",";
	}
	if (ack) {
		rc |= buf_printf(out, "%s\"acknowledged\":true", sep);
		sep = ",";
	}
	if (w) {
		rc |= buf_printf(out, "%s\"maintenance\":", sep);
		rc |= add_str(out, w->name);
	}
	rc |= buf_addc(out, '}');
	return rc ? -E2BIG : 0;
}

/* ---- open / load / close ---- */

static int load_table(struct alert_ops *o, const char *table, int64_t now_ms)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "SELECT json FROM %s", table);
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(o->db, sql, -1, &st, NULL) != SQLITE_OK)
		return -1;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(st, 0);
		int len = sqlite3_column_bytes(st, 0);
		struct ajson *j;
		char err[256];
		int rc = -1;
		if (ajson_parse(p ? p : "", (size_t)(len > 0 ? len : 0), &j, err, sizeof(err)) < 0)
			goto bad;
		if (strcmp(table, "silences") == 0) {
			struct alert_silence s;
			/* Stored silences may be expired: validate the shape, keep the times. */
			if ((rc = ops_silence_from_json(j, now_ms, &s, err, sizeof(err))) == 0) {
				struct alert_silence *n = xmalloc(sizeof(*n));
				*n = s;
				o->silences = xreallocarray(o->silences, o->nsilences + 1, sizeof(*o->silences));
				o->silences[o->nsilences++] = n;
			}
		} else if (strcmp(table, "acks") == 0) {
			struct alert_ack a;
			if ((rc = ops_ack_from_json(j, &a, err, sizeof(err))) == 0) {
				struct alert_ack *n = xmalloc(sizeof(*n));
				*n = a;
				o->acks = xreallocarray(o->acks, o->nacks + 1, sizeof(*o->acks));
				o->acks[o->nacks++] = n;
			}
		} else {
			struct alert_ops_window w;
			if ((rc = ops_window_from_json(j, now_ms, &w, err, sizeof(err))) == 0) {
				struct alert_ops_window *n = xmalloc(sizeof(*n));
				*n = w;
				o->windows = xreallocarray(o->windows, o->nwindows + 1, sizeof(*o->windows));
				o->windows[o->nwindows++] = n;
			}
		}
		ajson_free(j);
bad:
		if (rc < 0)
			log_error("skipping a damaged operator action", "table=%s err=\"%s\"", table, err);
	}
	sqlite3_finalize(st);
	return 0;
}

static int open_db(struct alert_ops *o, const char *path, char *err, size_t errsz)
{
	return sqlite_open_schema(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    ops_schema, "", &o->db, err, errsz);
}

int alert_ops_open(const char *db_path, struct alert_ops **out, char *err, size_t errsz)
{
	*out = NULL;
	struct alert_ops *o = xcalloc(1, sizeof(*o));
	if (!db_path) {
		*out = o;
		return 0;
	}
	int rc = open_db(o, db_path, err, errsz);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		/* Silences lost are better than alerting that cannot start. */
		sqlite3_close(o->db);
		o->db = NULL;
		char *aside = sqlite_move_aside(db_path, (long long)time(NULL) * 1000);
		log_error("operator action store is damaged; moved aside, starting empty", "file=%s moved_to=%s",
		    db_path, aside ? aside : "(rename failed)");
		if (aside)
			rc = open_db(o, db_path, err, errsz);
		free(aside);
	}
	if (rc != SQLITE_OK) {
		sqlite3_close(o->db);
		free(o);
		return -1;
	}
	int64_t now = (int64_t)time(NULL) * 1000;
	load_table(o, "silences", now);
	load_table(o, "acks", now);
	load_table(o, "windows", now);
	*out = o;
	return 0;
}

void alert_ops_close(struct alert_ops *o)
{
	if (!o)
		return;
	for (size_t i = 0; i < o->nsilences; i++) {
		ops_silence_clear(o->silences[i]);
		free(o->silences[i]);
	}
	for (size_t i = 0; i < o->nacks; i++) {
		ops_ack_clear(o->acks[i]);
		free(o->acks[i]);
	}
	for (size_t i = 0; i < o->nwindows; i++) {
		ops_window_clear(o->windows[i]);
		free(o->windows[i]);
	}
	free(o->silences);
	free(o->acks);
	free(o->windows);
	sqlite3_close(o->db);
	free(o);
}
