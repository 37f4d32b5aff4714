/*
 * ops.h — the operator-action store's inside (private to src/alert): the
 * objects as JSON (the API's shapes, also how they are kept in SQLite) and
 * the changes opsapi.c makes. The public part is in alert.h.
 *
 *   struct alert_ops *o; alert_ops_open("alerting.db", &o, err, sizeof err);
 *   struct alert_silence s; ops_silence_from_json(j, now, &s, err, sizeof err);
 *   ops_silence_put(o, &s, now, id, err, sizeof err);   // takes s's contents
 *   alert_ops_silenced_by(o, labels, now, ids, 8);
 */
#ifndef VIGIL_ALERT_OPS_H
#define VIGIL_ALERT_OPS_H

#include "alert/alert.h"
#include "alert/json.h"

struct alert_ops {
	struct sqlite3 *db;			/* where everything is kept */
	struct alert_silence **silences;	/* every silence, expired ones for ALERT_OPS_SILENCE_KEEP_MS */
	size_t nsilences;			/* entries in silences */
	struct alert_ack **acks;		/* every acknowledgement */
	size_t nacks;				/* entries in acks */
	struct alert_ops_window **windows;	/* API maintenance windows */
	size_t nwindows;			/* entries in windows */
};

/* "pending", "active" or "expired" at now_ms. */
const char *ops_silence_state(const struct alert_silence *s, int64_t now_ms);

/*
 * Read a silence from Alertmanager v2's PostableSilence shape (id optional,
 * matchers [{name, value, isRegex, isEqual}], startsAt, endsAt, createdBy,
 * comment; updatedAt too when reading the store back). startsAt defaults to
 * now_ms. 0, or -1 with a reason in err (s is then empty).
 */
int ops_silence_from_json(const struct ajson *j, int64_t now_ms, struct alert_silence *s /* out */,
    char *err, size_t errsz);
/* Append s as a GettableSilence ({id, status:{state}, updatedAt, matchers, ...}). 0 or -E2BIG. */
int ops_silence_json(const struct alert_silence *s, int64_t now_ms, struct buf *out);
/* Free a silence's contents (s itself is the caller's). */
void ops_silence_clear(struct alert_silence *s);

/*
 * Store s (its contents are taken; s is zeroed). An empty id, or the id of
 * an expired silence, makes a new silence with a new id; the id of a current
 * one replaces it. The id is copied to id_out. 0; -ENOENT for an unknown
 * id; -ENOSPC when full; -EIO if it could not be written.
 */
int ops_silence_put(struct alert_ops *o, struct alert_silence *s, int64_t now_ms,
    char id_out[ALERT_OPS_ID_LEN + 1], char *err, size_t errsz);
/* Expire silence id at now_ms (ends = now). 0, -ENOENT, -EIO. */
int ops_silence_expire(struct alert_ops *o, const char *id, int64_t now_ms);
/* The silence with this id, or NULL. */
const struct alert_silence *ops_silence_get(const struct alert_ops *o, const char *id);

/* Read / write an acknowledgement ({fingerprint, activeAt, labels, acknowledgedBy,
 * acknowledgedAt, comment}). from_json: 0 or -1 with err. */
int ops_ack_from_json(const struct ajson *j, struct alert_ack *a /* out */, char *err, size_t errsz);
int ops_ack_json(const struct alert_ack *a, struct buf *out);
void ops_ack_clear(struct alert_ack *a);
/* Store a (taken; replaces an earlier one of the same fingerprint). 0, -ENOSPC, -EIO. */
int ops_ack_put(struct alert_ops *o, struct alert_ack *a);
/* Remove the acknowledgement of fp. 0 or -ENOENT. */
int ops_ack_delete(struct alert_ops *o, uint64_t fp);

/* Read / write an API maintenance window ({id, name, node, group, matchers,
 * startsAt, endsAt, createdBy, comment}). One of node, group, matchers needed. */
int ops_window_from_json(const struct ajson *j, int64_t now_ms, struct alert_ops_window *w /* out */,
    char *err, size_t errsz);
int ops_window_json(const struct alert_ops_window *w, int64_t now_ms, struct buf *out);
void ops_window_clear(struct alert_ops_window *w);
/* Store w (taken) under a new id, copied to id_out. 0, -ENOSPC, -EIO. */
int ops_window_put(struct alert_ops *o, struct alert_ops_window *w, char id_out[ALERT_OPS_ID_LEN + 1]);
/* Remove window id. 0 or -ENOENT. */
int ops_window_delete(struct alert_ops *o, const char *id);

/* Drop silences expired longer than ALERT_OPS_SILENCE_KEEP_MS and windows that
 * ended that long ago. */
void ops_gc(struct alert_ops *o, int64_t now_ms);

/* Matchers as JSON: parse Alertmanager's [{name, value, isRegex, isEqual}]
 * (at most ALERT_MAX_MATCHERS) and write them back. */
int ops_matchers_from_json(const struct ajson *arr, struct matcher **m /* out */, size_t *nm /* out */,
    char *err, size_t errsz);
int ops_matchers_json(const struct matcher *m, size_t nm, struct buf *out);
/* Append `,"weekly":{"days":[...],"from":"HH:MM","to":"HH:MM"}` for a weekly
 * window (bit d of weekdays = day d, Sunday 0). 0, or nonzero past out's cap. */
int ops_weekly_json(unsigned weekdays, int from_min, int to_min, struct buf *out);

#endif
