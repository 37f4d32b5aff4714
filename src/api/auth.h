/*
 * auth.h — who may use the web console and the HTTP API.
 *
 * Local users live in an SQLite file owned by the web worker (e.g.
 * DATA/web.db, created mode 0600). Passwords are stored as Argon2id hashes
 * (libsodium crypto_pwhash_str). On first start, when the file has no user,
 * auth_open() makes the user "admin" with a random password and hands it back
 * once so the caller can print it; it is never stored in clear.
 *
 * A successful login makes a session: a random 256-bit id sent to the
 * browser in the cookie `vigil_session` (HttpOnly, SameSite=Strict, Secure
 * under TLS) and stored only as a hash, with an absolute expiry. Each session
 * has a CSRF token (a keyed hash of its id) that the console sends back in the
 * X-CSRF-Token header; auth_check() refuses any state-changing request
 * (anything but GET/HEAD/OPTIONS) made with a session cookie and without it.
 * Scripts and Grafana use API tokens ("Authorization: Bearer vgt_..."),
 * stored hashed, each with a role; bearer requests carry no ambient authority
 * and need no CSRF token.
 *
 *   char pw[64], err[256];
 *   struct auth *a = auth_open("data/web.db", pw, sizeof pw, err, sizeof err);
 *   if (!a) fatal(err);
 *   if (pw[0]) printf("first admin password: %s\n", pw);
 *   ...
 *   struct auth_principal who;
 *   int role = auth_check(a, req, &who);   // >0 role, <0 refuse
 *
 * Every function is safe to call from several threads at once.
 */
#ifndef VIGIL_AUTH_H
#define VIGIL_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "api/http.h"
#include "core/buf.h"

#define AUTH_COOKIE         "vigil_session"	/* session cookie name */
#define AUTH_NAME_MAX       64		/* user and token names, bytes */
#define AUTH_PW_MIN         8		/* shortest password accepted */
#define AUTH_PW_MAX         512		/* longest password accepted, bytes */
#define AUTH_SID_LEN        43		/* session id: base64url of 32 random bytes */
#define AUTH_TOKEN_LEN      47		/* "vgt_" + base64url of 32 random bytes */
#define AUTH_CSRF_LEN       43		/* CSRF token: base64url of a 32-byte keyed hash */
#define AUTH_SESSION_TTL_S  (12 * 3600)	/* default absolute session lifetime */
#define AUTH_RATE_FAILS     10		/* failed logins allowed per address per window */
#define AUTH_RATE_WINDOW_S  300		/* the rate-limit window, seconds */
#define AUTH_RATE_SLOTS     1024	/* remote addresses tracked at once */
#define AUTH_MAX_HASHING    4		/* Argon2id verifications running at once */
#define AUTH_TOKENS_MAX     1000	/* API tokens kept at most */
#define AUTH_USERS_MAX      1000	/* users kept at most */

enum auth_role {
	AUTH_ROLE_NONE = 0,	/* not authenticated */
	AUTH_ROLE_VIEWER = 1,	/* read dashboards and query */
	AUTH_ROLE_OPERATOR = 2,	/* also acknowledge/silence alerts, manage nodes */
	AUTH_ROLE_ADMIN = 3,	/* also users, tokens, admin APIs */
};

enum auth_via {
	AUTH_VIA_NONE = 0,	/* no credentials */
	AUTH_VIA_SESSION = 1,	/* the vigil_session cookie */
	AUTH_VIA_TOKEN = 2,	/* an Authorization: Bearer API token */
};

struct auth_principal {
	char user[AUTH_NAME_MAX + 1];	/* user name, or the token's name for tokens */
	enum auth_role role;		/* what it may do */
	enum auth_via via;		/* how it proved who it is */
	char csrf[AUTH_CSRF_LEN + 1];	/* sessions: the token to echo in X-CSRF-Token; "" for tokens */
	int64_t token_id;		/* tokens: the token's id; 0 for sessions */
	int64_t expires;		/* sessions: expiry, Unix seconds; 0 for tokens */
};

struct auth_opts {
	int64_t session_ttl_s;		/* session lifetime, seconds (0: AUTH_SESSION_TTL_S) */
	unsigned long long pw_ops;	/* Argon2id opslimit for new hashes (0: interactive) */
	size_t pw_mem;			/* Argon2id memlimit, bytes, for new hashes (0: interactive) */
};

struct auth;

/*
 * Open (creating if needed, mode 0600) the user database at db_path. If it
 * holds no user, create "admin" with a random password, copy that password
 * into first_admin_pw (NUL-terminated; pwsz must be at least 32) and never
 * show it again; otherwise set first_admin_pw to "". Return NULL with a
 * one-line reason in err on failure.
 */
struct auth *auth_open(const char *db_path, char *first_admin_pw /* out */, size_t pwsz,
		       char *err, size_t errsz);
/* auth_open with explicit options (o may be NULL for the defaults). */
struct auth *auth_open_opts(const char *db_path, const struct auth_opts *o,
			    char *first_admin_pw /* out */, size_t pwsz, char *err, size_t errsz);
/* Close the database and free a; a may be NULL. */
void auth_close(struct auth *a);

/*
 * Decide who sent req: a Bearer token in Authorization, else the session
 * cookie. Return the principal's role (> 0) and fill *out; return -EACCES
 * when there are no valid credentials (missing, unknown, expired or revoked),
 * -EPERM when a session-cookie request that changes state (not GET, HEAD or
 * OPTIONS) lacks the session's X-CSRF-Token or comes from another Origin.
 * out is zeroed on failure.
 */
int auth_check(struct auth *a, const struct http_req *req, struct auth_principal *out /* out */);

/*
 * Check user/password for a login from remote (an address, used for rate
 * limiting) and make a session: its id goes to sid (AUTH_SID_LEN + 1 bytes).
 * Return 0; -EACCES for a wrong name or password (the same answer for both);
 * -EAGAIN when remote failed too often lately or too many hashes are running
 * (*retry_s, if not NULL, gets the seconds to wait); -EINVAL for
 * over-long input; -EIO on a database error.
 */
int auth_login(struct auth *a, const char *user, const char *password, const char *remote,
	       char sid[AUTH_SID_LEN + 1] /* out */, int *retry_s /* out, may be NULL */);
/* End the session with this id (no-op if unknown). Return 0 or -EIO. */
int auth_logout(struct auth *a, const char *sid);
/* Write the CSRF token of session id sid into csrf (AUTH_CSRF_LEN + 1 bytes). */
void auth_csrf_token(const struct auth *a, const char *sid, char csrf[AUTH_CSRF_LEN + 1] /* out */);

/*
 * Add a user. Names are 1..AUTH_NAME_MAX of [A-Za-z0-9._@-]; passwords
 * AUTH_PW_MIN..AUTH_PW_MAX bytes. Return 0, -EEXIST, -EINVAL, -ENOSPC (over
 * AUTH_USERS_MAX) or -EIO.
 */
int auth_user_add(struct auth *a, const char *user, const char *password, enum auth_role role);
/* Set a user's password and end all of its sessions. 0, -ENOENT, -EINVAL, -EIO. */
int auth_user_set_password(struct auth *a, const char *user, const char *password);
/* Check a user's current password without making a session (no rate limit). 0 or -EACCES. */
int auth_user_verify(struct auth *a, const char *user, const char *password);
/* Delete a user and its sessions; the last admin cannot be deleted. 0, -ENOENT, -EBUSY, -EIO. */
int auth_user_delete(struct auth *a, const char *user);
/* Append the users as a JSON array [{"name","role","created"}] to out. 0, -E2BIG or -EIO. */
int auth_user_list_json(struct auth *a, struct buf *out);

/*
 * Make an API token with a name (same rules as user names) and role,
 * recorded as made by created_by. The token text (AUTH_TOKEN_LEN + 1 bytes)
 * goes to token and is not kept; *id gets its id. 0, -EINVAL, -ENOSPC, -EIO.
 */
int auth_token_create(struct auth *a, const char *name, enum auth_role role, const char *created_by,
		      char token[AUTH_TOKEN_LEN + 1] /* out */, int64_t *id /* out */);
/* Append the tokens as a JSON array [{"id","name","role","created","last_used","created_by"}]. */
int auth_token_list_json(struct auth *a, struct buf *out);
/* Revoke a token. 0, -ENOENT or -EIO. */
int auth_token_delete(struct auth *a, int64_t id);

/* "viewer", "operator", "admin" ("none" for AUTH_ROLE_NONE). */
const char *auth_role_name(enum auth_role r);
/* Parse a role name; 0 or -EINVAL. */
int auth_role_parse(const char *s, enum auth_role *out /* out */);

#ifdef VIGIL_TESTING
/* Pretend the time is unix_s (0: use the real clock again). */
void auth_test_set_now(struct auth *a, int64_t unix_s);
#endif

#endif
