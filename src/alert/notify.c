/*
 * notify.c — the durable notification queue and its delivery.
 *
 * Queue: one SQLite table in the notifier's data directory. A notification
 * (one alert for one receiver) is a row; it is deleted only after the
 * receiver accepted it (HTTP 2xx, or the SMTP server's 250 after DATA), so a
 * crash at any point leaves it queued: delivery is at-least-once, and the
 * only duplicates are the rows of a request that was in flight when the
 * process died or was reconfigured (at most NOTIFY_BATCH_MAX per receiver).
 * Failed attempts are retried with exponential backoff (min_backoff doubling
 * to max_backoff) until delivered or older than max_age.
 *
 * Delivery: at most one request per receiver at a time, each carrying up to
 * NOTIFY_BATCH_MAX queued rows, over libcurl's multi interface driven by the
 * worker's event loop (core/loop.h). Every socket libcurl opens is checked
 * with egress_check first (CURLOPT_OPENSOCKETFUNCTION).
 */
#include <curl/curl.h>
#include <errno.h>
#include <netinet/in.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/json.h"
#include "alert/notify_fmt.h"
#include "core/clock.h"
#include "core/curlloop.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/sqlite_rel.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

struct recv_stats {
	char *name;		/* receiver name (metrics label) */
	uint64_t sent;		/* notifications delivered */
	uint64_t failed;	/* delivery attempts that failed */
	uint64_t expired;	/* notifications dropped after max_age */
	uint64_t rejected;	/* notifications the receiver refused for good (4xx) */
	uint64_t overflow;	/* notifications dropped because the queue was full */
	uint64_t deduped;	/* repeats not sent to a direct receiver (dedup()) */
	uint64_t acked;		/* firing notifications not sent because the alert is acknowledged */
};

struct request {
	struct notifier *n;		/* owner */
	size_t recv;			/* index into n->cfg.receivers */
	CURL *easy;			/* the transfer */
	struct buf body;		/* request body */
	size_t body_off;		/* SMTP upload position */
	struct buf resp;		/* response body (capped) */
	struct curl_slist *hdrs;	/* HTTP headers */
	struct curl_slist *rcpt;	/* SMTP recipients */
	struct curl_slist *pin;		/* CURLOPT_RESOLVE entry: the host's vetted addresses */
	int64_t *ids;			/* queue rows carried */
	size_t nids;			/* entries in ids */
	char errbuf[CURL_ERROR_SIZE];	/* libcurl's error text */
};

struct notifier {
	struct loop *loop;		/* event loop everything runs on */
	sqlite3 *db;			/* the queue */
	struct curl_loop cl;		/* libcurl multi on the loop (core/curlloop.h) */
	uint64_t pump_timer;		/* next queue scan (0: none) */
	struct alert_config cfg;	/* receivers and queue settings (owned) */
	struct request **inflight;	/* per receiver: its request or NULL */
	struct recv_stats *stats;	/* counters by receiver name */
	size_t nstats;			/* entries in stats */
	int64_t queue_len;		/* rows in the queue */
	struct recv_stats *wstats;	/* per maintenance window: .sent counts suppressed alerts */
	size_t nwstats;			/* entries in wstats */
	uint64_t silenced;		/* alerts not notified because a silence covered them */
	int configured;			/* notifier_configure was called */
};

/* ---- SQLite helpers ---- */

static int db_exec(struct notifier *n, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(n->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_error("notification queue statement failed", "err=\"%s\"", msg ? msg : "?");
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

static int64_t db_count(struct notifier *n)
{
	sqlite3_stmt *st;
	int64_t c = 0;
	if (sqlite3_prepare_v2(n->db, "SELECT COUNT(*) FROM queue", -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		c = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return c;
}

static struct recv_stats *stats_for(struct notifier *n, const char *name)
{
	for (size_t i = 0; i < n->nstats; i++)
		if (strcmp(n->stats[i].name, name) == 0)
			return &n->stats[i];
	n->stats = xreallocarray(n->stats, n->nstats + 1, sizeof(*n->stats));
	memset(&n->stats[n->nstats], 0, sizeof(*n->stats));
	n->stats[n->nstats].name = xstrdup(name);
	return &n->stats[n->nstats++];
}

static const char queue_schema[] =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
    "CREATE TABLE IF NOT EXISTS queue ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " receiver TEXT NOT NULL,"
    " payload TEXT NOT NULL,"
    " enqueued_ms INTEGER NOT NULL,"
    " next_try_ms INTEGER NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT);"
    "CREATE INDEX IF NOT EXISTS queue_due ON queue (receiver, next_try_ms);"
    /* What each direct receiver was last told about each alert (see dedup()). */
    "CREATE TABLE IF NOT EXISTS notified ("
    " receiver TEXT NOT NULL,"
    " fingerprint INTEGER NOT NULL,"
    " firing INTEGER NOT NULL,"
    " sent_ms INTEGER NOT NULL,"
    " PRIMARY KEY (receiver, fingerprint));"
    "SELECT COUNT(*) FROM queue;";

#define NOTIFIED_KEEP_MS (7 * 86400000LL)	/* forget what a receiver was told after this */

/* Open db_path and make sure the queue table is there. 0, or the SQLite error code. */
static int open_queue(struct notifier *n, const char *db_path, char *err, size_t errsz)
{
	/* synchronous=FULL: a row is on disk before notifier_accept returns. */
	return sqlite_open_schema(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
	    queue_schema, "cannot use the queue: ", &n->db, err, errsz);
}

static void after_io(void *ctx);

int notifier_open(struct loop *l, const char *db_path, struct notifier **out, char *err, size_t errsz)
{
	*out = NULL;
	struct notifier *n = xcalloc(1, sizeof(*n));
	n->loop = l;
	int rc = open_queue(n, db_path, err, errsz);
	if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT) {
		/* A damaged queue must not keep vigil from starting: keep it aside for
		 * inspection and start an empty one (its notifications are lost). */
		char q[ALERT_ERR_MAX + 8];
		sqlite3_close(n->db);
		n->db = NULL;
		char *aside = sqlite_move_aside(db_path, (long long)clock_wall_ms());
		log_error("notification queue is damaged; moved aside, starting empty", "file=%s moved_to=%s err=%s",
		    db_path, aside ? aside : "(rename failed)", log_quote(q, sizeof(q), err));
		if (aside)
			rc = open_queue(n, db_path, err, errsz);
		free(aside);
	}
	if (rc != SQLITE_OK)
		goto fail;
	curl_loop_init(&n->cl, l, after_io, n);
	n->queue_len = db_count(n);
	*out = n;
	return 0;
fail:
	if (n->db)
		sqlite3_close(n->db);
	free(n);
	return -1;
}

/* ---- libcurl on the event loop ---- */

static void pump(struct notifier *n);
static void finish(struct notifier *n, struct request *rq, CURLcode res);

static void check_done(struct notifier *n)
{
	CURLMsg *m;
	int left;
	while ((m = curl_multi_info_read(n->cl.multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		struct request *rq = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&rq);
		if (rq)
			finish(n, rq, m->data.result);
	}
}

static void after_io(void *ctx)
{
	check_done(ctx);
}

/* Every connection libcurl makes passes the egress policy first. */
static size_t on_resp(char *p, size_t sz, size_t nm, void *ctx)
{
	struct request *rq = ctx;
	size_t n = sz * nm;
	size_t room = NOTIFY_RESPONSE_MAX - rq->resp.len;
	buf_add(&rq->resp, p, n < room ? n : room);
	return n;	/* read (and drop) the rest too */
}

static size_t on_upload(char *p, size_t sz, size_t nm, void *ctx)
{
	struct request *rq = ctx;
	size_t left = rq->body.len - rq->body_off, n = sz * nm;
	if (n > left)
		n = left;
	memcpy(p, rq->body.data + rq->body_off, n);
	rq->body_off += n;
	return n;
}

static void request_free(struct request *rq)
{
	if (!rq)
		return;
	if (rq->easy) {
		curl_multi_remove_handle(rq->n->cl.multi, rq->easy);
		curl_easy_cleanup(rq->easy);
	}
	buf_free(&rq->body);
	buf_free(&rq->resp);
	curl_slist_free_all(rq->hdrs);
	curl_slist_free_all(rq->rcpt);
	curl_slist_free_all(rq->pin);
	free(rq->ids);
	free(rq);
}

/* ---- the queue ---- */

static void expire(struct notifier *n, int64_t now)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(n->db, "SELECT receiver, COUNT(*) FROM queue WHERE enqueued_ms < ?1 AND next_try_ms >= 0"
	    " GROUP BY receiver",
	    -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_int64(st, 1, now - n->cfg.queue_max_age_ms);
	int any = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *r = (const char *)sqlite3_column_text(st, 0);
		int64_t c = sqlite3_column_int64(st, 1);
		stats_for(n, r ? r : "?")->expired += (uint64_t)c;
		log_error("notifications expired undelivered", "receiver=%s count=%lld", r ? r : "?", (long long)c);
		any = 1;
	}
	sqlite3_finalize(st);
	if (!any)
		return;
	/* Rows being sent right now stay: their request decides. */
	if (sqlite3_prepare_v2(n->db, "DELETE FROM queue WHERE enqueued_ms < ?1 AND next_try_ms >= 0", -1, &st,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now - n->cfg.queue_max_age_ms);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	n->queue_len = db_count(n);
}

/* Rows of one receiver: delete them all, or push their next try back. */
static void settle(struct notifier *n, struct request *rq, int delete, const char *why)
{
	int64_t now = clock_wall_ms();
	sqlite3_stmt *st;
	const char *sql = delete ? "DELETE FROM queue WHERE id = ?1" :
	    "UPDATE queue SET attempts = attempts + 1, last_error = ?2,"
	    " next_try_ms = ?3 + min(?4 * (1 << min(attempts, 30)), ?5) WHERE id = ?1";
	db_exec(n, "BEGIN IMMEDIATE");
	if (sqlite3_prepare_v2(n->db, sql, -1, &st, NULL) == SQLITE_OK) {
		for (size_t i = 0; i < rq->nids; i++) {
			sqlite3_reset(st);
			sqlite3_bind_int64(st, 1, rq->ids[i]);
			if (!delete) {
				sqlite3_bind_text(st, 2, why, -1, SQLITE_TRANSIENT);
				sqlite3_bind_int64(st, 3, now);
				sqlite3_bind_int64(st, 4, n->cfg.queue_min_backoff_ms);
				sqlite3_bind_int64(st, 5, n->cfg.queue_max_backoff_ms);
			}
			sqlite3_step(st);
		}
		sqlite3_finalize(st);
	}
	db_exec(n, "COMMIT");
	n->queue_len = db_count(n);
}

static void finish(struct notifier *n, struct request *rq, CURLcode res)
{
	const struct receiver_config *r = &n->cfg.receivers[rq->recv];
	struct recv_stats *s = stats_for(n, r->name);
	long code = 0;
	curl_easy_getinfo(rq->easy, CURLINFO_RESPONSE_CODE, &code);
	int ok = res == CURLE_OK && (r->kind == RECV_EMAIL || (code >= 200 && code < 300));
	int permanent = !ok && res == CURLE_OK && r->kind != RECV_EMAIL && code >= 400 && code < 500 &&
	    code != 408 && code != 429;
	char why[CURL_ERROR_SIZE + 96], q[CURL_ERROR_SIZE + 128];
	if (res != CURLE_OK)
		snprintf(why, sizeof(why), "%s", rq->errbuf[0] ? rq->errbuf : curl_easy_strerror(res));
	else
		snprintf(why, sizeof(why), "HTTP %ld: %.80s", code, rq->resp.data ? rq->resp.data : "");
	if (ok) {
		s->sent += rq->nids;
		settle(n, rq, 1, NULL);
		log_info("notifications delivered", "receiver=%s count=%zu", r->name, rq->nids);
	} else if (permanent) {
		s->failed++;
		s->rejected += rq->nids;
		settle(n, rq, 1, NULL);
		log_error("receiver refused notifications; dropped", "receiver=%s count=%zu err=%s", r->name,
		    rq->nids, log_quote(q, sizeof(q), why));
	} else {
		s->failed++;
		settle(n, rq, 0, why);
		log_warn("notification delivery failed; will retry", "receiver=%s count=%zu err=%s", r->name,
		    rq->nids, log_quote(q, sizeof(q), why));
	}
	n->inflight[rq->recv] = NULL;
	request_free(rq);
	pump(n);
}

static int start_request(struct notifier *n, size_t ri, struct request *rq)
{
	const struct receiver_config *r = &n->cfg.receivers[ri];
	CURL *e = curl_easy_init();
	if (!e)
		return -1;
	rq->easy = e;
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)rq);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, rq->errbuf);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)r->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(r->timeout_ms < 5000 ? r->timeout_ms : 5000));
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, curl_egress_socket);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_resp);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, rq);
	if (r->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, r->ca_file);
	if (r->resolve_pin) {
		/* libcurl uses these addresses and resolves nothing itself. */
		rq->pin = curl_slist_append(NULL, r->resolve_pin);
		curl_easy_setopt(e, CURLOPT_RESOLVE, rq->pin);
	}
	if (r->kind == RECV_EMAIL) {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
		curl_easy_setopt(e, CURLOPT_URL, r->url);
		char *from = xasprintf("<%s>", r->from);
		curl_easy_setopt(e, CURLOPT_MAIL_FROM, from);
		free(from);
		for (size_t i = 0; i < r->nto; i++) {
			char *to = xasprintf("<%s>", r->to[i]);
			rq->rcpt = curl_slist_append(rq->rcpt, to);
			free(to);
		}
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, rq->rcpt);
		curl_easy_setopt(e, CURLOPT_USE_SSL, (long)(r->starttls ? CURLUSESSL_ALL : CURLUSESSL_NONE));
		if (r->username)
			curl_easy_setopt(e, CURLOPT_USERNAME, r->username);
		if (r->password)
			curl_easy_setopt(e, CURLOPT_PASSWORD, r->password);
		curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(e, CURLOPT_READFUNCTION, on_upload);
		curl_easy_setopt(e, CURLOPT_READDATA, rq);
	} else {
		curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
		if (r->kind == RECV_ALERTMANAGER) {
			char *u = xasprintf("%s/api/v2/alerts", r->url);
			curl_easy_setopt(e, CURLOPT_URL, u);
			free(u);
		} else {
			curl_easy_setopt(e, CURLOPT_URL, r->url);
		}
		rq->hdrs = curl_slist_append(rq->hdrs, "Content-Type: application/json");
		rq->hdrs = curl_slist_append(rq->hdrs, "User-Agent: vigil/" VIGIL_VERSION);
		if (r->bearer) {
			char *h = xasprintf("Authorization: Bearer %s", r->bearer);
			rq->hdrs = curl_slist_append(rq->hdrs, h);
			explicit_bzero(h, strlen(h));
			free(h);
		}
		curl_easy_setopt(e, CURLOPT_HTTPHEADER, rq->hdrs);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, rq->body.data);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)rq->body.len);
	}
	if (curl_multi_add_handle(n->cl.multi, e) != CURLM_OK)
		return -1;
	return 0;
}

/* Take up to NOTIFY_BATCH_MAX due rows of receiver ri and send them. */
static void start_batch(struct notifier *n, size_t ri, int64_t now)
{
	const struct receiver_config *r = &n->cfg.receivers[ri];
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(n->db, "SELECT id, payload FROM queue WHERE receiver = ?1 AND next_try_ms <= ?2"
	    " ORDER BY id LIMIT ?3", -1, &st, NULL) != SQLITE_OK)
		return;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int(st, 3, NOTIFY_BATCH_MAX);
	struct request *rq = xcalloc(1, sizeof(*rq));
	rq->n = n;
	rq->recv = ri;
	buf_init(&rq->body, BUF_CAP_IPC_FRAME);
	buf_init(&rq->resp, NOTIFY_RESPONSE_MAX + 1);
	rq->ids = xcalloc(NOTIFY_BATCH_MAX, sizeof(*rq->ids));
	struct notify_batch b = { 0 };
	while (sqlite3_step(st) == SQLITE_ROW && rq->nids < NOTIFY_BATCH_MAX) {
		const char *p = (const char *)sqlite3_column_text(st, 1);
		int len = sqlite3_column_bytes(st, 1);
		/* An unreadable row goes out with the batch's rows and is deleted
		 * with them, rather than retried forever. */
		if (notify_batch_add(&b, p ? p : "", (size_t)(len > 0 ? len : 0)) < 0)
			stats_for(n, r->name)->rejected++;
		rq->ids[rq->nids++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (rq->nids == 0) {
		notify_batch_free(&b);
		request_free(rq);
		return;
	}
	int rc;
	if (r->kind == RECV_ALERTMANAGER)
		rc = notify_format_alertmanager(&b, &rq->body);
	else if (r->kind == RECV_WEBHOOK)
		rc = notify_format_webhook(&b, r->name, n->cfg.external_url, now, &rq->body);
	else
		rc = notify_format_email(&b, r, now, &rq->body);
	notify_batch_free(&b);
	if (rc < 0 || start_request(n, ri, rq) < 0) {
		log_error("cannot build a notification request", "receiver=%s", r->name);
		settle(n, rq, 0, "cannot build the request");
		request_free(rq);
		return;
	}
	n->inflight[ri] = rq;
	/* Rows in flight are marked so expiry leaves them to this request. */
	sqlite3_stmt *mk;
	if (sqlite3_prepare_v2(n->db, "UPDATE queue SET next_try_ms = -1 WHERE id = ?1", -1, &mk, NULL) == SQLITE_OK) {
		db_exec(n, "BEGIN");
		for (size_t i = 0; i < rq->nids; i++) {
			sqlite3_reset(mk);
			sqlite3_bind_int64(mk, 1, rq->ids[i]);
			sqlite3_step(mk);
		}
		db_exec(n, "COMMIT");
		sqlite3_finalize(mk);
	}
}

static void on_pump_timer(struct loop *l, uint64_t id, void *ctx)
{
	struct notifier *n = ctx;
	(void)l;
	if (id == n->pump_timer)
		n->pump_timer = 0;
	pump(n);
}

/* Start what is due; arrange to look again when the next row is due. */
static void pump(struct notifier *n)
{
	if (!n->configured)
		return;
	int64_t now = clock_wall_ms();
	expire(n, now);
	for (size_t i = 0; i < n->cfg.nreceivers; i++)
		if (!n->inflight[i])
			start_batch(n, i, now);
	int running;
	curl_multi_socket_action(n->cl.multi, CURL_SOCKET_TIMEOUT, 0, &running);
	if (n->pump_timer)
		loop_del_timer(n->loop, n->pump_timer);
	n->pump_timer = 0;
	sqlite3_stmt *st;
	int64_t next = -1;
	if (sqlite3_prepare_v2(n->db, "SELECT MIN(next_try_ms) FROM queue WHERE next_try_ms >= 0", -1, &st,
	    NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			next = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	if (next >= 0) {
		int64_t d = next - now;
		d = d < 100 ? 100 : d > 5000 ? 5000 : d;
		n->pump_timer = loop_add_timer(n->loop, d, on_pump_timer, n);
	}
	check_done(n);
}

static void abandon_all(struct notifier *n)
{
	for (size_t i = 0; n->inflight && i < n->cfg.nreceivers; i++) {
		struct request *rq = n->inflight[i];
		if (!rq)
			continue;
		/* Still queued: make them due again (at-least-once). */
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(n->db, "UPDATE queue SET next_try_ms = ?2 WHERE id = ?1", -1, &st, NULL) == SQLITE_OK) {
			for (size_t k = 0; k < rq->nids; k++) {
				sqlite3_reset(st);
				sqlite3_bind_int64(st, 1, rq->ids[k]);
				sqlite3_bind_int64(st, 2, clock_wall_ms());
				sqlite3_step(st);
			}
			sqlite3_finalize(st);
		}
		request_free(rq);
		n->inflight[i] = NULL;
	}
}

void notifier_configure(struct notifier *n, struct alert_config *c)
{
	abandon_all(n);
	free(n->inflight);
	alert_config_free(&n->cfg);
	n->cfg = *c;
	memset(c, 0, sizeof(*c));
	n->inflight = xcalloc(n->cfg.nreceivers ? n->cfg.nreceivers : 1, sizeof(*n->inflight));
	for (size_t i = 0; i < n->cfg.nreceivers; i++)
		stats_for(n, n->cfg.receivers[i].name);
	/* A restart may have left rows marked in flight: they are due now. */
	db_exec(n, "UPDATE queue SET next_try_ms = 0 WHERE next_try_ms < 0");
	n->configured = 1;
	pump(n);
}

/* The active maintenance window that covers alert a (NULL: none). */
static const struct maint_window *in_maintenance(const struct notifier *n, const struct ajson *a, int64_t now)
{
	if (!n->cfg.nwindows)
		return NULL;
	const struct ajson *lj = ajson_get(a, "labels");
	struct labels_builder lb;
	lb_init(&lb);
	for (size_t i = 0; lj && i < lj->n; i++)
		lb_set(&lb, lj->keys[i], lj->v[i]->str);
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	const struct maint_window *hit = NULL;
	for (size_t i = 0; i < n->cfg.nwindows && !hit; i++)
		if (maint_active(&n->cfg.windows[i], now) && maint_matches(&n->cfg.windows[i], ls))
			hit = &n->cfg.windows[i];
	labels_free(ls);
	return hit;
}

static void count_suppressed(struct notifier *n, const char *window)
{
	for (size_t i = 0; i < n->nwstats; i++)
		if (strcmp(n->wstats[i].name, window) == 0) {
			n->wstats[i].sent++;
			return;
		}
	n->wstats = xreallocarray(n->wstats, n->nwstats + 1, sizeof(*n->wstats));
	memset(&n->wstats[n->nwstats], 0, sizeof(*n->wstats));
	n->wstats[n->nwstats].name = xstrdup(window);
	n->wstats[n->nwstats++].sent = 1;
}

/*
 * Whether direct receiver r should hear about alert a now. The store re-sends
 * firing alerts every resend_delay and resolved ones for 15 minutes, which
 * Alertmanager de-duplicates; webhooks and email would not, so for them the
 * notifier sends a firing alert once (again after repeat_interval) and a
 * resolution only for an alert it had announced. The decision is recorded
 * in the same transaction as the queue rows. An acknowledged firing alert is
 * not announced to them at all (no repeat, no escalation). Return 1 to
 * queue it, 0 for a repeat they were already told, -1 for acknowledged.
 */
static int dedup(struct notifier *n, const struct receiver_config *r, const struct ajson *a, int acked, int64_t now)
{
	if (r->kind == RECV_ALERTMANAGER)
		return 1;
	int64_t ends = 0;
	const char *e = ajson_get_str(a, "endsAt");
	if (e)
		notify_parse_time(e, &ends);
	int firing = !(ends > 0 && ends <= now);
	if (firing && acked) {
		/* Someone is on it: no first, repeated or escalated announcement.
		 * Its resolution still reaches whoever heard that it fired. */
		stats_for(n, r->name)->acked++;
		return -1;
	}
	if (firing && r->escalate_after_ms > 0) {
		/* Escalation: only alerts that have been firing long enough; the
		 * store's re-sends bring the others back until they qualify. */
		int64_t starts = 0;
		const char *s = ajson_get_str(a, "startsAt");
		if (!s || notify_parse_time(s, &starts) < 0 || now - starts < r->escalate_after_ms)
			return 0;
	}
	sqlite3_int64 fp = (sqlite3_int64)notify_fingerprint(ajson_get(a, "labels"));
	sqlite3_stmt *st;
	int have = 0, was_firing = 0;
	int64_t sent = 0;
	if (sqlite3_prepare_v2(n->db, "SELECT firing, sent_ms FROM notified WHERE receiver = ?1 AND fingerprint = ?2",
	    -1, &st, NULL) != SQLITE_OK)
		return 1;
	sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, fp);
	if (sqlite3_step(st) == SQLITE_ROW) {
		have = 1;
		was_firing = sqlite3_column_int(st, 0);
		sent = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	int send = firing ? !have || !was_firing || now - sent >= r->repeat_interval_ms : have && was_firing;
	if (!send)
		return 0;
	if (sqlite3_prepare_v2(n->db, "INSERT OR REPLACE INTO notified (receiver, fingerprint, firing, sent_ms)"
	    " VALUES (?1, ?2, ?3, ?4)", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, r->name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, fp);
		sqlite3_bind_int(st, 3, firing);
		sqlite3_bind_int64(st, 4, now);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	return 1;
}

/* Remove member key from object o and return its value (the caller frees it), or NULL. */
static struct ajson *take_member(struct ajson *o, const char *key)
{
	for (size_t i = 0; o && o->t == AJSON_OBJ && i < o->n; i++) {
		if (strcmp(o->keys[i], key) != 0)
			continue;
		struct ajson *v = o->v[i];
		free(o->keys[i]);
		memmove(&o->keys[i], &o->keys[i + 1], (o->n - i - 1) * sizeof(*o->keys));
		memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(*o->v));
		o->n--;
		return v;
	}
	return NULL;
}

int notifier_accept(struct notifier *n, const char *json, size_t len, char *err, size_t errsz)
{
	struct ajson *j;
	if (ajson_parse(json, len, &j, err, errsz) < 0)
		return -1;
	int rc = -1, added = 0;
	if (j->t != AJSON_ARR) {
		snprintf(err, errsz, "expected a JSON array of alerts");
		goto out;
	}
	for (size_t i = 0; i < j->n; i++) {
		if (notify_alert_check(j->v[i], err, errsz) < 0) {
			char tmp[ALERT_ERR_MAX];
			snprintf(tmp, sizeof(tmp), "alert %zu: %s", i, err);
			snprintf(err, errsz, "%s", tmp);
			goto out;
		}
	}
	int64_t now = clock_wall_ms();
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(n->db, "INSERT INTO queue (receiver, payload, enqueued_ms, next_try_ms)"
	    " VALUES (?1, ?2, ?3, ?3)", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errsz, "queue: %s", sqlite3_errmsg(n->db));
		goto out;
	}
	db_exec(n, "BEGIN IMMEDIATE");
	struct buf one;
	buf_init(&one, AJSON_MAX_BYTES);
	for (size_t i = 0; i < j->n; i++) {
		/* Operator actions the store found for this alert (ops.c), then
		 * the config's maintenance windows: one point decides. */
		struct ajson *ops = take_member(j->v[i], "vigil");
		const struct ajson *sil = ajson_get(ops, "silencedBy"), *ack = ajson_get(ops, "acknowledged");
		const char *mw = ajson_get_str(ops, "maintenance");
		int acked = ack && ack->t == AJSON_BOOL && ack->num != 0;
		int silenced = sil && sil->t == AJSON_ARR && sil->n;
		const struct maint_window *w = mw ? NULL : in_maintenance(n, j->v[i], now);
		if (mw || w) {
			count_suppressed(n, mw ? mw : w->name);
			log_debug("notification suppressed by a maintenance window", "window=%s", mw ? mw : w->name);
		} else if (silenced) {
			n->silenced++;
			log_debug("notification silenced", "silence=%s", sil->v[0]->t == AJSON_STR ? sil->v[0]->str : "?");
		}
		int skip = mw || w || silenced;
		ajson_free(ops);
		if (skip)
			continue;
		buf_reset(&one);
		ajson_write(j->v[i], &one);
		for (size_t k = 0; k < n->cfg.nreceivers; k++) {
			int d = dedup(n, &n->cfg.receivers[k], j->v[i], acked, now);
			if (d <= 0) {
				if (d == 0)
					stats_for(n, n->cfg.receivers[k].name)->deduped++;
				continue;
			}
			sqlite3_reset(st);
			sqlite3_bind_text(st, 1, n->cfg.receivers[k].name, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, one.data, (int)one.len, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, now);
			if (sqlite3_step(st) != SQLITE_DONE) {
				snprintf(err, errsz, "queue: %s", sqlite3_errmsg(n->db));
				sqlite3_finalize(st);
				buf_free(&one);
				db_exec(n, "ROLLBACK");
				goto out;
			}
			added++;
		}
	}
	sqlite3_finalize(st);
	buf_free(&one);
	if (sqlite3_prepare_v2(n->db, "DELETE FROM notified WHERE sent_ms < ?1", -1, &st, NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, now - NOTIFIED_KEEP_MS);
		sqlite3_step(st);
		sqlite3_finalize(st);
	}
	/* Over the cap: the oldest rows go (counted), so the newest state gets through. */
	int64_t count = db_count(n), excess = count - n->cfg.queue_max_length;
	if (excess > 0 && sqlite3_prepare_v2(n->db, "SELECT receiver FROM queue ORDER BY id LIMIT ?1", -1, &st,
	    NULL) == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, excess);
		while (sqlite3_step(st) == SQLITE_ROW)
			stats_for(n, (const char *)sqlite3_column_text(st, 0))->overflow++;
		sqlite3_finalize(st);
		if (sqlite3_prepare_v2(n->db, "DELETE FROM queue WHERE id IN (SELECT id FROM queue ORDER BY id LIMIT ?1)",
		    -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, excess);
			sqlite3_step(st);
			sqlite3_finalize(st);
		}
		log_error("notification queue full; oldest dropped", "dropped=%lld", (long long)excess);
	}
	if (db_exec(n, "COMMIT") < 0) {
		snprintf(err, errsz, "queue: commit failed: %s", sqlite3_errmsg(n->db));
		db_exec(n, "ROLLBACK");
		goto out;
	}
	n->queue_len = db_count(n);
	rc = added;
	pump(n);
out:
	ajson_free(j);
	return rc;
}

int64_t notifier_queue_length(const struct notifier *n)
{
	return n->queue_len;
}

int notifier_in_flight(const struct notifier *n)
{
	int c = 0;
	for (size_t i = 0; n->inflight && i < n->cfg.nreceivers; i++)
		c += n->inflight[i] != NULL;
	return c;
}

int notifier_metrics(const struct notifier *n, struct buf *b)
{
	int rc = buf_adds(b, "# HELP vigil_notifications_sent_total Notifications a receiver accepted.\n"
	    "# TYPE vigil_notifications_sent_total counter\n");
	for (size_t i = 0; i < n->nstats; i++)
		rc |= buf_printf(b, "vigil_notifications_sent_total{receiver=\"%s\"} %llu\n", n->stats[i].name,
		    (unsigned long long)n->stats[i].sent);
	rc |= buf_adds(b, "# HELP vigil_notifications_failed_total Delivery attempts that failed (each is retried "
	    "unless the receiver refused it).\n# TYPE vigil_notifications_failed_total counter\n");
	for (size_t i = 0; i < n->nstats; i++)
		rc |= buf_printf(b, "vigil_notifications_failed_total{receiver=\"%s\"} %llu\n", n->stats[i].name,
		    (unsigned long long)n->stats[i].failed);
	rc |= buf_adds(b, "# HELP vigil_notifications_dropped_total Notifications given up on.\n"
	    "# TYPE vigil_notifications_dropped_total counter\n");
	for (size_t i = 0; i < n->nstats; i++) {
		const struct recv_stats *s = &n->stats[i];
		rc |= buf_printf(b, "vigil_notifications_dropped_total{receiver=\"%s\",reason=\"expired\"} %llu\n"
		    "vigil_notifications_dropped_total{receiver=\"%s\",reason=\"rejected\"} %llu\n"
		    "vigil_notifications_dropped_total{receiver=\"%s\",reason=\"queue_full\"} %llu\n",
		    s->name, (unsigned long long)s->expired, s->name, (unsigned long long)s->rejected, s->name,
		    (unsigned long long)s->overflow);
	}
	rc |= buf_adds(b, "# HELP vigil_notifications_deduplicated_total Repeats of an alert's state a webhook or "
	    "email receiver was already told.\n# TYPE vigil_notifications_deduplicated_total counter\n");
	for (size_t i = 0; i < n->nstats; i++)
		rc |= buf_printf(b, "vigil_notifications_deduplicated_total{receiver=\"%s\"} %llu\n", n->stats[i].name,
		    (unsigned long long)n->stats[i].deduped);
	rc |= buf_adds(b, "# HELP vigil_notifications_suppressed_total Alerts not notified because a maintenance "
	    "window covered them.\n# TYPE vigil_notifications_suppressed_total counter\n");
	for (size_t i = 0; i < n->nwstats; i++)
		rc |= buf_printf(b, "vigil_notifications_suppressed_total{window=\"%s\"} %llu\n", n->wstats[i].name,
		    (unsigned long long)n->wstats[i].sent);
	rc |= buf_adds(b, "# HELP vigil_notifications_acknowledged_total Firing notifications a webhook or email "
	    "receiver was not sent because the alert is acknowledged.\n"
	    "# TYPE vigil_notifications_acknowledged_total counter\n");
	for (size_t i = 0; i < n->nstats; i++)
		rc |= buf_printf(b, "vigil_notifications_acknowledged_total{receiver=\"%s\"} %llu\n", n->stats[i].name,
		    (unsigned long long)n->stats[i].acked);
	rc |= buf_printf(b, "# HELP vigil_notifications_silenced_total Alerts not notified because a silence "
	    "covered them.\n# TYPE vigil_notifications_silenced_total counter\nvigil_notifications_silenced_total %llu\n",
	    (unsigned long long)n->silenced);
	rc |= buf_printf(b, "# HELP vigil_notification_queue_length Notifications waiting for delivery.\n"
	    "# TYPE vigil_notification_queue_length gauge\nvigil_notification_queue_length %lld\n",
	    (long long)n->queue_len);
	return rc ? -E2BIG : 0;
}

void notifier_close(struct notifier *n)
{
	if (!n)
		return;
	abandon_all(n);
	free(n->inflight);
	if (n->pump_timer)
		loop_del_timer(n->loop, n->pump_timer);
	curl_loop_free(&n->cl);
	sqlite3_close(n->db);
	alert_config_free(&n->cfg);
	for (size_t i = 0; i < n->nstats; i++)
		free(n->stats[i].name);
	free(n->stats);
	for (size_t i = 0; i < n->nwstats; i++)
		free(n->wstats[i].name);
	free(n->wstats);
	free(n);
}
