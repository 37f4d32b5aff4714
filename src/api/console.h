/*
 * console.h — the web console's HTTP handlers: the single-page app and its
 * files (compiled in, see assets.h), the login form, logout, and the
 * /api/auth endpoints (who am I, API tokens, users, password change).
 * docs/CONSOLE.md lists every route, status code and JSON shape.
 *
 * The web worker calls console_handle() first for every request; when it
 * returns 0 the path is not the console's and the worker routes it on
 * (/api/v1, /metrics, ...), guarding those with console_authorize():
 *
 *   struct http_resp resp; http_resp_init(&resp);
 *   if (console_handle(c, req, &resp) == 0) {
 *       struct auth_principal who;
 *       if (console_authorize(c, req, &resp, AUTH_ROLE_VIEWER, &who) == 0)
 *           api_v1_handle(..., req, &resp);
 *   }
 *   send resp; http_resp_free(&resp);
 */
#ifndef VIGIL_CONSOLE_H
#define VIGIL_CONSOLE_H

#include "api/auth.h"
#include "api/http.h"

#define CONSOLE_LOGIN_COOKIE   "vigil_login"	/* pre-session token of the login form */
#define CONSOLE_LOGIN_TTL_S    900		/* how long a login form stays valid */
#define CONSOLE_NEXT_MAX       512		/* longest ?next= redirect target kept */

struct console;

/* Make the console handlers over a (borrowed; must outlive the console). */
struct console *console_new(struct auth *a);
/* Free c; c may be NULL. */
void console_free(struct console *c);

/*
 * Handle req if its path belongs to the console ("/", "/index.html", the
 * bundled files, "/login", "/logout", "/api/auth/..."): fill resp and return
 * 1. Return 0, leaving resp untouched, for any other path.
 * Pages answer an unauthenticated request with 303 to /login?next=...;
 * /api/auth answers it with 401 JSON.
 */
int console_handle(struct console *c, const struct http_req *req, struct http_resp *resp);

/*
 * Guard any other route: return 0 and fill *who when req is authenticated
 * with at least role min (and, for a session, carries its CSRF token if it
 * changes state). Otherwise fill resp with the refusal in Prometheus's error
 * JSON shape — 401 (no or expired credentials, with WWW-Authenticate), 403
 * (role too low or CSRF check failed) — and return -EACCES or -EPERM.
 */
int console_authorize(struct console *c, const struct http_req *req, struct http_resp *resp,
		      enum auth_role min, struct auth_principal *who /* out */);

/*
 * The least role the daemon's own routes need, by method and path: admin for
 * /api/v1/admin/..., operator for other state-changing requests, viewer
 * for the rest. For use with console_authorize().
 */
enum auth_role console_role_for(const char *method, const char *path);

#endif
