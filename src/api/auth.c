/*
 * auth.c — users, sessions, API tokens and login rate limiting (see auth.h).
 *
 * Secrets are never stored: session ids and API tokens are kept as BLAKE2b
 * hashes, passwords as Argon2id strings. One mutex guards the database
 * handle and the rate-limit table; the slow Argon2id work runs outside it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/auth.h"
#include "core/clock.h"
#include "core/sqlite_rel.h"
#include "core/xmalloc.h"

#define HASH_HEX_LEN   64	/* hex of a 32-byte BLAKE2b hash */
#define ADDR_MAX       64	/* remote address bytes kept for rate limiting */
#define RATE_PROBE     8	/* slots probed per address before evicting */
#define FIRST_PW_BYTES 18	/* random bytes in the first admin password (24 chars) */
#define TOUCH_EVERY_S  60	/* write a token's last_used at most this often */

struct rate_slot {
	char addr[ADDR_MAX];	/* remote address; "" = free */
	int64_t window_start;	/* Unix seconds the current window began */
	int fails;		/* failed logins in the window */
};

struct auth {
	sqlite3 *db;			/* the user database */
	pthread_mutex_t mu;		/* guards db, rate, hashing */
	unsigned char csrf_key[32];	/* key for session CSRF tokens, kept in the db */
	int64_t ttl_s;			/* session lifetime, seconds */
	unsigned long long pw_ops;	/* Argon2id opslimit for new hashes */
	size_t pw_mem;			/* Argon2id memlimit for new hashes, bytes */
	int hashing;			/* Argon2id verifications running now */
	int64_t fake_now;		/* tests: pretend time, 0 = real clock */
	struct rate_slot rate[AUTH_RATE_SLOTS];	/* failed-login counters by address */
	char dummy_hash[crypto_pwhash_STRBYTES];	/* verified for unknown users: same timing */
};

static const char SCHEMA[] =
	"CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS users (name TEXT PRIMARY KEY, pwhash TEXT NOT NULL,"
	" role INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS sessions (id_hash TEXT PRIMARY KEY, user TEXT NOT NULL,"
	" created INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS sessions_user ON sessions(user);"
	"CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,"
	" role INTEGER NOT NULL, hash TEXT NOT NULL UNIQUE, created INTEGER NOT NULL,"
	" last_used INTEGER, created_by TEXT NOT NULL);"
	"PRAGMA user_version = 1;";

static int64_t now_s(const struct auth *a)
{
	return a->fake_now ? a->fake_now : clock_wall_ms() / 1000;
}

static void b64url(const unsigned char *bin, size_t n, char *out, size_t outsz)
{
	sodium_bin2base64(out, outsz, bin, n, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

/* BLAKE2b-256 of s as lowercase hex: how session ids and tokens are stored. */
static void hash_hex(const char *s, char out[HASH_HEX_LEN + 1])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)s, strlen(s), NULL, 0);
	sodium_bin2hex(out, HASH_HEX_LEN + 1, h, sizeof h);
}

const char *auth_role_name(enum auth_role r)
{
	switch (r) {
	case AUTH_ROLE_VIEWER: return "viewer";
	case AUTH_ROLE_OPERATOR: return "operator";
	case AUTH_ROLE_ADMIN: return "admin";
	default: return "none";
	}
}

int auth_role_parse(const char *s, enum auth_role *out)
{
	if (strcmp(s, "viewer") == 0)
		*out = AUTH_ROLE_VIEWER;
	else if (strcmp(s, "operator") == 0)
		*out = AUTH_ROLE_OPERATOR;
	else if (strcmp(s, "admin") == 0)
		*out = AUTH_ROLE_ADMIN;
	else
		return -EINVAL;
	return 0;
}

static int valid_name(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > AUTH_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '@' || c == '-'))
			return 0;
	}
	return 1;
}

static int valid_role(enum auth_role r)
{
	return r == AUTH_ROLE_VIEWER || r == AUTH_ROLE_OPERATOR || r == AUTH_ROLE_ADMIN;
}

/* Run one statement with optional text/int binds given as a tiny format: 't' text, 'i' int64. */
static int exec_bind(sqlite3 *db, const char *sql, const char *fmt, const void *const *args)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	for (int i = 0; fmt && fmt[i]; i++) {
		int r = fmt[i] == 't' ? sqlite3_bind_text(st, i + 1, args[i], -1, SQLITE_TRANSIENT)
				      : sqlite3_bind_int64(st, i + 1, *(const int64_t *)args[i]);
		if (r != SQLITE_OK)
			goto fail;
	}
	int s = sqlite3_step(st);
	if (s == SQLITE_CONSTRAINT)
		rc = -EEXIST;
	else if (s == SQLITE_DONE || s == SQLITE_ROW)
		rc = sqlite3_changes(db);
fail:
	sqlite3_finalize(st);
	return rc;
}

/* One integer from a query with one text bind (or none); -1 if no row, -2 on error. */
static int64_t query_int(sqlite3 *db, const char *sql, const char *bind)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -2;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		goto fail;
	if (bind && sqlite3_bind_text(st, 1, bind, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto fail;
	int s = sqlite3_step(st);
	v = s == SQLITE_ROW ? sqlite3_column_int64(st, 0) : s == SQLITE_DONE ? -1 : -2;
fail:
	sqlite3_finalize(st);
	return v;
}

static int hash_password(const struct auth *a, const char *pw, char out[crypto_pwhash_STRBYTES])
{
	if (crypto_pwhash_str(out, pw, strlen(pw), a->pw_ops, a->pw_mem) != 0)
		return -ENOMEM;
	return 0;
}

/* Load or make the CSRF key. */
static int load_csrf_key(struct auth *a)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(a->db, "SELECT v FROM meta WHERE k = 'csrf_key'", -1, &st, NULL) != SQLITE_OK)
		goto fail;
	int s = sqlite3_step(st);
	if (s == SQLITE_ROW && sqlite3_column_bytes(st, 0) == (int)sizeof a->csrf_key) {
		memcpy(a->csrf_key, sqlite3_column_blob(st, 0), sizeof a->csrf_key);
		rc = 0;
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	randombytes_buf(a->csrf_key, sizeof a->csrf_key);
	if (sqlite3_prepare_v2(a->db, "INSERT OR REPLACE INTO meta (k, v) VALUES ('csrf_key', ?)", -1, &st,
			       NULL) != SQLITE_OK ||
	    sqlite3_bind_blob(st, 1, a->csrf_key, sizeof a->csrf_key, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	rc = 0;
fail:
	sqlite3_finalize(st);
	return rc;
}

static int add_user_locked(struct auth *a, const char *user, const char *hash, enum auth_role role)
{
	int64_t r = role, t = now_s(a);
	const void *args[] = { user, hash, &r, &t };
	return exec_bind(a->db, "INSERT INTO users (name, pwhash, role, created) VALUES (?, ?, ?, ?)", "ttii",
			 args);
}

struct auth *auth_open(const char *db_path, char *first_admin_pw, size_t pwsz, char *err, size_t errsz)
{
	return auth_open_opts(db_path, NULL, first_admin_pw, pwsz, err, errsz);
}

struct auth *auth_open_opts(const char *db_path, const struct auth_opts *o, char *first_admin_pw, size_t pwsz,
			    char *err, size_t errsz)
{
	struct auth *a = NULL;
	if (first_admin_pw && pwsz)
		first_admin_pw[0] = '\0';
	if (!first_admin_pw || pwsz < 32) {
		snprintf(err, errsz, "auth: first_admin_pw buffer must hold 32 bytes");
		return NULL;
	}
	if (sodium_init() < 0) {
		snprintf(err, errsz, "auth: libsodium failed to initialise");
		return NULL;
	}
	/* Make the file private before SQLite opens it: it holds password hashes. */
	int fd = open(db_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		snprintf(err, errsz, "%s: %s", db_path, strerror(errno));
		return NULL;
	}
	close(fd);
	a = xcalloc(1, sizeof *a);
	pthread_mutex_init(&a->mu, NULL);
	a->ttl_s = o && o->session_ttl_s > 0 ? o->session_ttl_s : AUTH_SESSION_TTL_S;
	a->pw_ops = o && o->pw_ops ? o->pw_ops : crypto_pwhash_OPSLIMIT_INTERACTIVE;
	a->pw_mem = o && o->pw_mem ? o->pw_mem : crypto_pwhash_MEMLIMIT_INTERACTIVE;
	if (sqlite_open_schema(db_path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, SCHEMA, "schema: ",
	    &a->db, err, errsz) != SQLITE_OK)
		goto fail;
	if (load_csrf_key(a) < 0) {
		snprintf(err, errsz, "%s: cannot store the CSRF key: %s", db_path, sqlite3_errmsg(a->db));
		goto fail;
	}
	/* Verified for unknown user names so that a miss costs what a hit does. */
	randombytes_buf(a->dummy_hash, 16);
	if (crypto_pwhash_str(a->dummy_hash, "vigil-no-such-user", 18, a->pw_ops, a->pw_mem) != 0) {
		snprintf(err, errsz, "auth: out of memory hashing");
		goto fail;
	}
	int64_t users = query_int(a->db, "SELECT count(*) FROM users", NULL);
	if (users < 0) {
		snprintf(err, errsz, "%s: %s", db_path, sqlite3_errmsg(a->db));
		goto fail;
	}
	if (users == 0) {
		unsigned char rnd[FIRST_PW_BYTES];
		char hash[crypto_pwhash_STRBYTES];
		randombytes_buf(rnd, sizeof rnd);
		b64url(rnd, sizeof rnd, first_admin_pw, pwsz);
		if (hash_password(a, first_admin_pw, hash) < 0 ||
		    add_user_locked(a, "admin", hash, AUTH_ROLE_ADMIN) != 1) {
			sodium_memzero(first_admin_pw, pwsz);
			snprintf(err, errsz, "%s: cannot create the first admin: %s", db_path, sqlite3_errmsg(a->db));
			goto fail;
		}
	}
	return a;
fail:
	auth_close(a);
	return NULL;
}

void auth_close(struct auth *a)
{
	if (!a)
		return;
	sqlite3_close(a->db);
	pthread_mutex_destroy(&a->mu);
	sodium_memzero(a->csrf_key, sizeof a->csrf_key);
	free(a);
}

#ifdef VIGIL_TESTING
void auth_test_set_now(struct auth *a, int64_t unix_s)
{
	a->fake_now = unix_s;
}
#endif

void auth_csrf_token(const struct auth *a, const char *sid, char csrf[AUTH_CSRF_LEN + 1])
{
	unsigned char h[32];
	crypto_generichash(h, sizeof h, (const unsigned char *)sid, strlen(sid), a->csrf_key, sizeof a->csrf_key);
	b64url(h, sizeof h, csrf, AUTH_CSRF_LEN + 1);
}

/* ---- rate limiting ---- */

static struct rate_slot *rate_slot(struct auth *a, const char *addr, int create)
{
	uint64_t h = 1469598103934665603ull;
	for (const char *p = addr; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	struct rate_slot *oldest = NULL;
	for (int i = 0; i < RATE_PROBE; i++) {
		struct rate_slot *s = &a->rate[(h + (uint64_t)i) % AUTH_RATE_SLOTS];
		if (strcmp(s->addr, addr) == 0)
			return s;
		/* reuse a free slot first, else the one whose window is oldest */
		if (!oldest || (oldest->addr[0] &&
				(s->addr[0] == '\0' || s->window_start < oldest->window_start)))
			oldest = s;
	}
	if (!create)
		return NULL;
	memset(oldest, 0, sizeof *oldest);
	snprintf(oldest->addr, sizeof oldest->addr, "%s", addr);
	return oldest;
}

/* 0 if remote may try now, else the seconds to wait. Caller holds mu. */
static int rate_wait(struct auth *a, const char *remote, int64_t now)
{
	struct rate_slot *s = rate_slot(a, remote, 0);
	if (!s || now - s->window_start >= AUTH_RATE_WINDOW_S || s->fails < AUTH_RATE_FAILS)
		return 0;
	return (int)(s->window_start + AUTH_RATE_WINDOW_S - now);
}

static void rate_fail(struct auth *a, const char *remote, int64_t now)
{
	struct rate_slot *s = rate_slot(a, remote, 1);
	if (now - s->window_start >= AUTH_RATE_WINDOW_S) {
		s->window_start = now;
		s->fails = 0;
	}
	s->fails++;
}

/* ---- login, sessions ---- */

/* Fetch a user's hash and role under the lock; -ENOENT if no such user. */
static int user_get(struct auth *a, const char *user, char hash[crypto_pwhash_STRBYTES], enum auth_role *role)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO;
	if (sqlite3_prepare_v2(a->db, "SELECT pwhash, role FROM users WHERE name = ?", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, user, -1, SQLITE_TRANSIENT) != SQLITE_OK)
		goto fail;
	int s = sqlite3_step(st);
	if (s == SQLITE_DONE) {
		rc = -ENOENT;
		goto fail;
	}
	if (s != SQLITE_ROW)
		goto fail;
	snprintf(hash, crypto_pwhash_STRBYTES, "%s", (const char *)sqlite3_column_text(st, 0));
	*role = (enum auth_role)sqlite3_column_int(st, 1);
	rc = 0;
fail:
	sqlite3_finalize(st);
	return rc;
}

/* Verify password against user's hash; the Argon2id work runs unlocked. 0, -EACCES, -EAGAIN, -EIO. */
static int verify(struct auth *a, const char *user, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	enum auth_role role;
	pthread_mutex_lock(&a->mu);
	if (a->hashing >= AUTH_MAX_HASHING) {
		pthread_mutex_unlock(&a->mu);
		return -EAGAIN;
	}
	int rc = valid_name(user) ? user_get(a, user, hash, &role) : -ENOENT;
	if (rc == -ENOENT)
		memcpy(hash, a->dummy_hash, sizeof hash);
	a->hashing++;
	pthread_mutex_unlock(&a->mu);
	if (rc == -EIO)
		goto out;
	int ok = crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	rc = rc == 0 && ok ? 0 : -EACCES;
out:
	pthread_mutex_lock(&a->mu);
	a->hashing--;
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int auth_user_verify(struct auth *a, const char *user, const char *password)
{
	if (strlen(password) > AUTH_PW_MAX)
		return -EACCES;
	int rc = verify(a, user, password);
	return rc == -EAGAIN || rc == -EIO ? rc : rc == 0 ? 0 : -EACCES;
}

int auth_login(struct auth *a, const char *user, const char *password, const char *remote,
	       char sid[AUTH_SID_LEN + 1], int *retry_s)
{
	char idh[HASH_HEX_LEN + 1];
	unsigned char rnd[32];
	int rc;
	sid[0] = '\0';
	if (retry_s)
		*retry_s = 0;
	if (strlen(user) > AUTH_NAME_MAX || strlen(password) > AUTH_PW_MAX)
		return -EINVAL;
	if (!remote)
		remote = "";
	pthread_mutex_lock(&a->mu);
	int64_t now = now_s(a);
	int wait = rate_wait(a, remote, now);
	pthread_mutex_unlock(&a->mu);
	if (wait > 0) {
		if (retry_s)
			*retry_s = wait;
		return -EAGAIN;
	}
	rc = verify(a, user, password);
	pthread_mutex_lock(&a->mu);
	if (rc == -EACCES) {
		rate_fail(a, remote, now);
		goto out;
	}
	if (rc == -EAGAIN && retry_s)
		*retry_s = 1;
	if (rc < 0)
		goto out;
	struct rate_slot *s = rate_slot(a, remote, 0);
	if (s)
		memset(s, 0, sizeof *s);
	randombytes_buf(rnd, sizeof rnd);
	b64url(rnd, sizeof rnd, sid, AUTH_SID_LEN + 1);
	hash_hex(sid, idh);
	int64_t exp = now + a->ttl_s;
	const void *args[] = { idh, user, &now, &exp };
	exec_bind(a->db, "DELETE FROM sessions WHERE expires <= ?", "i", (const void *[]){ &now });
	if (exec_bind(a->db, "INSERT INTO sessions (id_hash, user, created, expires) VALUES (?, ?, ?, ?)", "ttii",
		      args) != 1) {
		sid[0] = '\0';
		rc = -EIO;
	}
out:
	pthread_mutex_unlock(&a->mu);
	sodium_memzero(rnd, sizeof rnd);
	return rc;
}

int auth_logout(struct auth *a, const char *sid)
{
	char idh[HASH_HEX_LEN + 1];
	hash_hex(sid, idh);
	pthread_mutex_lock(&a->mu);
	int rc = exec_bind(a->db, "DELETE FROM sessions WHERE id_hash = ?", "t", (const void *[]){ idh });
	pthread_mutex_unlock(&a->mu);
	return rc < 0 ? -EIO : 0;
}

/* ---- auth_check ---- */

/* Copy the value of cookie name from a Cookie header into out; 1 if found. */
static int cookie_get(const char *hdr, const char *name, char *out, size_t outsz)
{
	size_t nl = strlen(name);
	const char *p = hdr;
	while (p && *p) {
		while (*p == ' ' || *p == ';')
			p++;
		const char *end = strchr(p, ';');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			size_t vl = len - nl - 1;
			if (vl >= outsz)
				return 0;
			memcpy(out, p + nl + 1, vl);
			out[vl] = '\0';
			return 1;
		}
		p = end;
	}
	return 0;
}

static int safe_method(const char *m)
{
	return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 || strcmp(m, "OPTIONS") == 0;
}

/* An Origin header, when sent, must name the host the request was sent to. */
static int origin_ok(const struct http_req *req)
{
	const char *origin = http_req_header(req, "Origin");
	const char *host = http_req_header(req, "Host");
	if (!origin)
		return 1;
	if (!host)
		return 0;
	const char *p = strstr(origin, "://");
	if (!p)
		return 0;
	p += 3;
	return strcmp(p, host) == 0;
}

static int check_token(struct auth *a, const char *tok, struct auth_principal *out)
{
	char h[HASH_HEX_LEN + 1];
	sqlite3_stmt *st = NULL;
	int rc = -EACCES;
	if (strlen(tok) != AUTH_TOKEN_LEN || strncmp(tok, "vgt_", 4) != 0)
		return -EACCES;
	hash_hex(tok, h);
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db, "SELECT id, name, role, coalesce(last_used, 0) FROM tokens WHERE hash = ?", -1,
			       &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	out->token_id = sqlite3_column_int64(st, 0);
	snprintf(out->user, sizeof out->user, "%s", (const char *)sqlite3_column_text(st, 1));
	out->role = (enum auth_role)sqlite3_column_int(st, 2);
	out->via = AUTH_VIA_TOKEN;
	int64_t last = sqlite3_column_int64(st, 3), now = now_s(a);
	sqlite3_finalize(st);
	st = NULL;
	if (now - last >= TOUCH_EVERY_S)
		exec_bind(a->db, "UPDATE tokens SET last_used = ? WHERE id = ?", "ii",
			  (const void *[]){ &now, &out->token_id });
	rc = valid_role(out->role) ? (int)out->role : -EACCES;
fail:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

static int check_session(struct auth *a, const struct http_req *req, const char *sid, struct auth_principal *out)
{
	char h[HASH_HEX_LEN + 1];
	sqlite3_stmt *st = NULL;
	int rc = -EACCES;
	if (strlen(sid) != AUTH_SID_LEN)
		return -EACCES;
	hash_hex(sid, h);
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db,
			       "SELECT s.user, u.role, s.expires FROM sessions s JOIN users u ON u.name = s.user"
			       " WHERE s.id_hash = ? AND s.expires > ?",
			       -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_bind_text(st, 1, h, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
	    sqlite3_bind_int64(st, 2, now_s(a)) != SQLITE_OK || sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	snprintf(out->user, sizeof out->user, "%s", (const char *)sqlite3_column_text(st, 0));
	out->role = (enum auth_role)sqlite3_column_int(st, 1);
	out->expires = sqlite3_column_int64(st, 2);
	out->via = AUTH_VIA_SESSION;
	auth_csrf_token(a, sid, out->csrf);
	rc = valid_role(out->role) ? (int)out->role : -EACCES;
fail:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->mu);
	if (rc > 0 && !safe_method(req->method)) {
		const char *t = http_req_header(req, "X-CSRF-Token");
		if (!t || strlen(t) != AUTH_CSRF_LEN || sodium_memcmp(t, out->csrf, AUTH_CSRF_LEN) != 0 ||
		    !origin_ok(req))
			rc = -EPERM;
	}
	return rc;
}

/*
 * HTTP Basic with an API token as the password (any user name), the way
 * Grafana takes API keys: for clients that can send Basic auth but not a
 * bearer token (promtool 2.x takes it from http://user:TOKEN@host/).
 * Passwords of console users are not accepted here: those need the login
 * form and its rate limit.
 */
static int check_basic_token(struct auth *a, const char *b64, struct auth_principal *out)
{
	unsigned char dec[AUTH_TOKEN_LEN + 256];
	size_t n = 0;
	if (sodium_base642bin(dec, sizeof(dec) - 1, b64, strlen(b64), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		return -EACCES;
	dec[n] = '\0';
	char *colon = memchr(dec, ':', n);
	int rc = colon ? check_token(a, colon + 1, out) : -EACCES;
	sodium_memzero(dec, sizeof(dec));
	return rc;
}

int auth_check(struct auth *a, const struct http_req *req, struct auth_principal *out)
{
	char sid[AUTH_SID_LEN + 2];
	int rc = -EACCES;
	memset(out, 0, sizeof *out);
	const char *authz = http_req_header(req, "Authorization");
	if (authz) {
		if (strncasecmp(authz, "Bearer ", 7) == 0)
			rc = check_token(a, authz + 7, out);
		else if (strncasecmp(authz, "Basic ", 6) == 0)
			rc = check_basic_token(a, authz + 6, out);
	} else {
		const char *cookie = http_req_header(req, "Cookie");
		if (cookie && cookie_get(cookie, AUTH_COOKIE, sid, sizeof sid))
			rc = check_session(a, req, sid, out);
	}
	if (rc < 0)
		memset(out, 0, sizeof *out);
	return rc;
}

/* ---- users ---- */

int auth_user_add(struct auth *a, const char *user, const char *password, enum auth_role role)
{
	char hash[crypto_pwhash_STRBYTES];
	size_t pl = strlen(password);
	if (!valid_name(user) || !valid_role(role) || pl < AUTH_PW_MIN || pl > AUTH_PW_MAX)
		return -EINVAL;
	if (hash_password(a, password, hash) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&a->mu);
	int rc;
	if (query_int(a->db, "SELECT count(*) FROM users", NULL) >= AUTH_USERS_MAX)
		rc = -ENOSPC;
	else
		rc = add_user_locked(a, user, hash, role);
	pthread_mutex_unlock(&a->mu);
	return rc == 1 ? 0 : rc == 0 ? -EIO : rc;
}

int auth_user_set_password(struct auth *a, const char *user, const char *password)
{
	char hash[crypto_pwhash_STRBYTES];
	size_t pl = strlen(password);
	if (!valid_name(user) || pl < AUTH_PW_MIN || pl > AUTH_PW_MAX)
		return -EINVAL;
	if (hash_password(a, password, hash) < 0)
		return -ENOMEM;
	pthread_mutex_lock(&a->mu);
	int rc = exec_bind(a->db, "UPDATE users SET pwhash = ? WHERE name = ?", "tt", (const void *[]){ hash, user });
	if (rc == 1)
		exec_bind(a->db, "DELETE FROM sessions WHERE user = ?", "t", (const void *[]){ user });
	pthread_mutex_unlock(&a->mu);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}

int auth_user_delete(struct auth *a, const char *user)
{
	int rc;
	pthread_mutex_lock(&a->mu);
	int64_t role = query_int(a->db, "SELECT role FROM users WHERE name = ?", user);
	int64_t admins = query_int(a->db, "SELECT count(*) FROM users WHERE role = 3", NULL);
	if (role == -1)
		rc = -ENOENT;
	else if (role < 0 || admins < 0)
		rc = -EIO;
	else if (role == AUTH_ROLE_ADMIN && admins <= 1)
		rc = -EBUSY;
	else {
		rc = exec_bind(a->db, "DELETE FROM users WHERE name = ?", "t", (const void *[]){ user });
		exec_bind(a->db, "DELETE FROM sessions WHERE user = ?", "t", (const void *[]){ user });
		rc = rc == 1 ? 0 : -EIO;
	}
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int auth_user_list_json(struct auth *a, struct buf *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO, first = 1;
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db, "SELECT name, role, created FROM users ORDER BY name", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	if ((rc = buf_addc(out, '[')) < 0)
		goto fail;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if ((rc = buf_adds(out, first ? "{\"name\":" : ",{\"name\":")) < 0 ||
		    (rc = buf_add_json_str(out, name, strlen(name))) < 0 ||
		    (rc = buf_printf(out, ",\"role\":\"%s\",\"created\":%lld}",
				     auth_role_name((enum auth_role)sqlite3_column_int(st, 1)),
				     (long long)sqlite3_column_int64(st, 2))) < 0)
			goto fail;
		first = 0;
	}
	rc = s == SQLITE_DONE ? buf_addc(out, ']') : -EIO;
fail:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

/* ---- API tokens ---- */

int auth_token_create(struct auth *a, const char *name, enum auth_role role, const char *created_by,
		      char token[AUTH_TOKEN_LEN + 1], int64_t *id)
{
	unsigned char rnd[32];
	char h[HASH_HEX_LEN + 1];
	int rc;
	token[0] = '\0';
	*id = 0;
	if (!valid_name(name) || !valid_role(role) || !created_by)
		return -EINVAL;
	randombytes_buf(rnd, sizeof rnd);
	memcpy(token, "vgt_", 4);
	b64url(rnd, sizeof rnd, token + 4, AUTH_TOKEN_LEN + 1 - 4);
	sodium_memzero(rnd, sizeof rnd);
	hash_hex(token, h);
	int64_t r = role;
	pthread_mutex_lock(&a->mu);
	int64_t now = now_s(a);
	if (query_int(a->db, "SELECT count(*) FROM tokens", NULL) >= AUTH_TOKENS_MAX) {
		rc = -ENOSPC;
	} else {
		rc = exec_bind(a->db,
			       "INSERT INTO tokens (name, role, hash, created, created_by) VALUES (?, ?, ?, ?, ?)",
			       "titit", (const void *[]){ name, &r, h, &now, created_by });
		*id = sqlite3_last_insert_rowid(a->db);
		rc = rc == 1 ? 0 : -EIO;
	}
	pthread_mutex_unlock(&a->mu);
	if (rc < 0) {
		sodium_memzero(token, AUTH_TOKEN_LEN + 1);
		*id = 0;
	}
	return rc;
}

int auth_token_list_json(struct auth *a, struct buf *out)
{
	sqlite3_stmt *st = NULL;
	int rc = -EIO, first = 1;
	pthread_mutex_lock(&a->mu);
	if (sqlite3_prepare_v2(a->db,
			       "SELECT id, name, role, created, last_used, created_by FROM tokens ORDER BY id", -1,
			       &st, NULL) != SQLITE_OK)
		goto fail;
	if ((rc = buf_addc(out, '[')) < 0)
		goto fail;
	int s;
	while ((s = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);
		const char *by = (const char *)sqlite3_column_text(st, 5);
		if ((rc = buf_printf(out, "%s{\"id\":%lld,\"name\":", first ? "" : ",",
				     (long long)sqlite3_column_int64(st, 0))) < 0 ||
		    (rc = buf_add_json_str(out, name, strlen(name))) < 0 ||
		    (rc = buf_printf(out, ",\"role\":\"%s\",\"created\":%lld,\"last_used\":",
				     auth_role_name((enum auth_role)sqlite3_column_int(st, 2)),
				     (long long)sqlite3_column_int64(st, 3))) < 0)
			goto fail;
		if (sqlite3_column_type(st, 4) == SQLITE_NULL)
			rc = buf_adds(out, "null");
		else
			rc = buf_printf(out, "%lld", (long long)sqlite3_column_int64(st, 4));
		if (rc < 0 || (rc = buf_adds(out, ",\"created_by\":")) < 0 ||
		    (rc = buf_add_json_str(out, by, strlen(by))) < 0 || (rc = buf_addc(out, '}')) < 0)
			goto fail;
		first = 0;
	}
	rc = s == SQLITE_DONE ? buf_addc(out, ']') : -EIO;
fail:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&a->mu);
	return rc;
}

int auth_token_delete(struct auth *a, int64_t id)
{
	pthread_mutex_lock(&a->mu);
	int rc = exec_bind(a->db, "DELETE FROM tokens WHERE id = ?", "i", (const void *[]){ &id });
	pthread_mutex_unlock(&a->mu);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : -EIO;
}
