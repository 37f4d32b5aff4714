/*
 * notify_fmt.h — what the notifier sends (private header of the alert
 * module): a batch of queued alerts (Alertmanager API v2 objects) rendered
 * as an Alertmanager POST body, an Alertmanager-style webhook payload, or an
 * email message (RFC 5322, CRLF lines).
 */
#ifndef VIGIL_ALERT_NOTIFY_FMT_H
#define VIGIL_ALERT_NOTIFY_FMT_H

#include <stdint.h>

#include "alert/alert.h"
#include "alert/json.h"

struct notify_alert {
	struct ajson *j;			/* the parsed alert (owned) */
	const struct ajson *labels;		/* its "labels" object */
	const struct ajson *annotations;	/* its "annotations" object (may be NULL) */
	int64_t starts_ms;			/* startsAt (0: absent) */
	int64_t ends_ms;			/* endsAt (0: absent) */
};

struct notify_batch {
	struct notify_alert *v;	/* alerts in queue order */
	size_t n;		/* entries in v */
};

/* Check one alert object: labels is a non-empty object of strings, the
 * optional annotations likewise, times are RFC 3339. 0 or -1 with err. */
int notify_alert_check(const struct ajson *a, char *err, size_t errsz);
/* Parse one queued alert and add it. 0, or -1 if it does not pass the check. */
int notify_batch_add(struct notify_batch *b, const char *json, size_t len);
void notify_batch_free(struct notify_batch *b);
/* Parse "2006-01-02T15:04:05(.fff...)(Z|+hh:mm)" into ms since the epoch. 0 or -1. */
int notify_parse_time(const char *s, int64_t *ms /* out */);
/* Alertmanager's fingerprint of a label set (FNV-1a 64 over sorted pairs). */
uint64_t notify_fingerprint(const struct ajson *labels);
/* POST /api/v2/alerts body: the alerts as a JSON array. 0 or -E2BIG. */
int notify_format_alertmanager(const struct notify_batch *b, struct buf *out);
/* Alertmanager's webhook payload (version 4). 0 or -E2BIG. */
int notify_format_webhook(const struct notify_batch *b, const char *receiver, const char *external_url,
    int64_t now_ms, struct buf *out);
/* A whole email message (headers + text body). 0 or -E2BIG. */
int notify_format_email(const struct notify_batch *b, const struct receiver_config *r, int64_t now_ms,
    struct buf *out);

#endif
