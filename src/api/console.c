/*
 * console.c — HTTP handlers for the web console, login/logout and /api/auth
 * (see console.h; routes and shapes in docs/CONSOLE.md).
 *
 * Login CSRF: the login form carries a pre-session token that must match the
 * HttpOnly cookie vigil_login set when the form was served (double submit),
 * and a POST whose Origin names another host is refused. Every other
 * state-changing request needs the session's X-CSRF-Token (auth_check).
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/assets.h"
#include "api/console.h"
#include "core/xmalloc.h"

#define LOGIN_TOKEN_LEN 43	/* base64url of 32 random bytes */
#define FORM_FIELD_MAX  1024	/* longest form value accepted by /login and /api/auth */

struct console {
	struct auth *auth;	/* users, sessions, tokens (borrowed) */
};

/* A page may run only our own bundle; no inline script, no third-party origin. */
static const char CSP[] =
	"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
	"frame-ancestors 'none'";

const struct web_asset *web_asset_find(const char *path)
{
	size_t lo = 0, hi = web_assets_count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, web_assets[mid].path);
		if (c == 0)
			return &web_assets[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

struct console *console_new(struct auth *a)
{
	struct console *c = xcalloc(1, sizeof *c);
	c->auth = a;
	return c;
}

void console_free(struct console *c)
{
	free(c);
}

static void common_headers(struct http_resp *r)
{
	http_resp_header(r, "Content-Security-Policy", CSP);
	http_resp_header(r, "X-Content-Type-Options", "nosniff");
	http_resp_header(r, "Referrer-Policy", "same-origin");
}

/* Reset resp to a fresh response: handlers may run after a half-built one. */
static void resp_reset(struct http_resp *r, int status, const char *type)
{
	http_resp_free(r);
	http_resp_init(r);
	r->status = status;
	r->content_type = type;
	common_headers(r);
}

static void json_error(struct http_resp *r, int status, const char *type, const char *msg)
{
	resp_reset(r, status, "application/json");
	http_resp_header(r, "Cache-Control", "no-store");
	if (status == 401)
		http_resp_header(r, "WWW-Authenticate", "Bearer realm=\"vigil\"");
	buf_printf(&r->body, "{\"status\":\"error\",\"errorType\":\"%s\",\"error\":", type);
	buf_add_json_str(&r->body, msg, strlen(msg));
	buf_addc(&r->body, '}');
}

static void json_ok(struct http_resp *r, int status)
{
	resp_reset(r, status, "application/json");
	http_resp_header(r, "Cache-Control", "no-store");
}

static void redirect(struct http_resp *r, const char *location)
{
	resp_reset(r, 303, "text/plain; charset=utf-8");
	http_resp_header(r, "Location", location);
	http_resp_header(r, "Cache-Control", "no-store");
	buf_adds(&r->body, "See Other\n");
}

static void method_not_allowed(struct http_resp *r, const char *allow)
{
	json_error(r, 405, "bad_data", "method not allowed");
	http_resp_header(r, "Allow", allow);
}

static int is(const char *m, const char *want)
{
	return strcmp(m, want) == 0;
}

/* Append s to b with HTML special characters escaped. */
static void html_esc(struct buf *b, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': buf_adds(b, "&amp;"); break;
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *s);
		}
	}
}

/* A redirect target after login: a local path only, never "//host" or "/\host". */
static const char *safe_next(const char *next)
{
	if (!next || next[0] != '/' || next[1] == '/' || next[1] == '\\' || strlen(next) > CONSOLE_NEXT_MAX)
		return "/";
	for (const char *p = next; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f || *p == '\\')
			return "/";
	return next;
}

static void serve_asset(const struct http_req *req, struct http_resp *r, const struct web_asset *a)
{
	const char *inm = http_req_header(req, "If-None-Match");
	resp_reset(r, 200, a->content_type);
	http_resp_header(r, "ETag", a->etag);
	/* Revalidate every time: the ETag makes that a 304 with no body. */
	http_resp_header(r, "Cache-Control", "no-cache");
	if (inm && strstr(inm, a->etag)) {
		r->status = 304;
		return;
	}
	const char *ae = http_req_header(req, "Accept-Encoding");
	if (a->gz) {
		http_resp_header(r, "Vary", "Accept-Encoding");
		if (ae && strstr(ae, "gzip")) {
			http_resp_header(r, "Content-Encoding", "gzip");
			buf_add(&r->body, a->gz, a->gz_len);
			return;
		}
	}
	buf_add(&r->body, a->data, a->len);
}

static void login_page(struct http_resp *r, int status, const char *next, const char *msg, const char *user)
{
	unsigned char rnd[32];
	char tok[LOGIN_TOKEN_LEN + 1], cookie[128];
	randombytes_buf(rnd, sizeof rnd);
	sodium_bin2base64(tok, sizeof tok, rnd, sizeof rnd, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	resp_reset(r, status, "text/html; charset=utf-8");
	http_resp_header(r, "Cache-Control", "no-store");
	snprintf(cookie, sizeof cookie, CONSOLE_LOGIN_COOKIE "=%s; Path=/login; HttpOnly; SameSite=Strict; Max-Age=%d",
		 tok, CONSOLE_LOGIN_TTL_S);
	http_resp_header(r, "Set-Cookie", cookie);
	struct buf *b = &r->body;
	buf_adds(b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
		    "<title>vigil — sign in</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">"
		    "<link rel=\"stylesheet\" href=\"/app.css\"></head>\n<body class=\"login\">"
		    "<form method=\"post\" action=\"/login\" class=\"panel\">\n<h1>vigil</h1>\n");
	if (msg) {
		buf_adds(b, "<p class=\"err\" role=\"alert\">");
		html_esc(b, msg);
		buf_adds(b, "</p>\n");
	}
	buf_adds(b, "<label>User <input name=\"user\" autocomplete=\"username\" required autofocus value=\"");
	html_esc(b, user ? user : "");
	buf_adds(b, "\"></label>\n<label>Password <input name=\"password\" type=\"password\" "
		    "autocomplete=\"current-password\" required></label>\n<input type=\"hidden\" name=\"login_token\" value=\"");
	buf_adds(b, tok);
	buf_adds(b, "\"><input type=\"hidden\" name=\"next\" value=\"");
	html_esc(b, safe_next(next));
	buf_adds(b, "\">\n<button class=\"primary\" type=\"submit\">Sign in</button>\n</form></body></html>\n");
}

static char *form_field(const struct http_req *req, const char *name)
{
	char *v = NULL;
	if (!req->body || http_form_get(req->body, req->body_len, name, &v) != 1)
		return NULL;
	if (strlen(v) > FORM_FIELD_MAX) {
		free(v);
		return NULL;
	}
	return v;
}

static char *query_field(const struct http_req *req, const char *name)
{
	char *v = NULL;
	if (!req->query || http_form_get(req->query, strlen(req->query), name, &v) != 1)
		return NULL;
	return v;
}

/* Copy a cookie's value out of the Cookie header; 1 if present and fits. */
static int cookie_value(const struct http_req *req, const char *name, char *out, size_t outsz)
{
	const char *h = http_req_header(req, "Cookie");
	size_t nl = strlen(name);
	while (h && *h) {
		while (*h == ' ' || *h == ';')
			h++;
		const char *end = strchr(h, ';');
		size_t len = end ? (size_t)(end - h) : strlen(h);
		if (len > nl && strncmp(h, name, nl) == 0 && h[nl] == '=' && len - nl - 1 < outsz) {
			memcpy(out, h + nl + 1, len - nl - 1);
			out[len - nl - 1] = '\0';
			return 1;
		}
		h = end;
	}
	return 0;
}

static int origin_matches_host(const struct http_req *req)
{
	const char *origin = http_req_header(req, "Origin"), *host = http_req_header(req, "Host");
	if (!origin)
		return 1;
	const char *p = strstr(origin, "://");
	return host && p && strcmp(p + 3, host) == 0;
}

static void session_cookie(struct http_resp *r, const struct http_req *req, const char *sid)
{
	char cookie[160];
	snprintf(cookie, sizeof cookie, AUTH_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict%s", sid,
		 req->tls ? "; Secure" : "");
	http_resp_header(r, "Set-Cookie", cookie);
}

static void clear_session_cookie(struct http_resp *r, const struct http_req *req)
{
	http_resp_header(r, "Set-Cookie", req->tls ? AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0; Secure"
						   : AUTH_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

static void login_post(struct console *c, const struct http_req *req, struct http_resp *r)
{
	char *user = form_field(req, "user"), *pw = form_field(req, "password");
	char *tok = form_field(req, "login_token"), *next = form_field(req, "next");
	char cookie_tok[LOGIN_TOKEN_LEN + 2], sid[AUTH_SID_LEN + 1];
	int retry = 0;
	if (!origin_matches_host(req) || !tok || !cookie_value(req, CONSOLE_LOGIN_COOKIE, cookie_tok, sizeof cookie_tok) ||
	    strlen(tok) != LOGIN_TOKEN_LEN || strlen(cookie_tok) != LOGIN_TOKEN_LEN ||
	    sodium_memcmp(tok, cookie_tok, LOGIN_TOKEN_LEN) != 0) {
		login_page(r, 403, next, "The sign-in form expired or came from another site. Please try again.", user);
		goto out;
	}
	if (!user || !pw) {
		login_page(r, 400, next, "Enter a user name and a password.", user);
		goto out;
	}
	int rc = auth_login(c->auth, user, pw, req->remote_addr, sid, &retry);
	if (rc == 0) {
		redirect(r, safe_next(next));
		session_cookie(r, req, sid);
		http_resp_header(r, "Set-Cookie", CONSOLE_LOGIN_COOKIE "=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
		sodium_memzero(sid, sizeof sid);
	} else if (rc == -EAGAIN) {
		char ra[24];
		login_page(r, 429, next, "Too many failed sign-ins from your address. Wait a few minutes and try again.", user);
		snprintf(ra, sizeof ra, "%d", retry > 0 ? retry : 1);
		http_resp_header(r, "Retry-After", ra);
	} else if (rc == -EIO) {
		login_page(r, 500, next, "The user database could not be read; see the server log.", user);
	} else {
		login_page(r, 401, next, "Wrong user name or password.", user);
	}
out:
	if (pw)
		sodium_memzero(pw, strlen(pw));
	free(user);
	free(pw);
	free(tok);
	free(next);
}

static void handle_login(struct console *c, const struct http_req *req, struct http_resp *r)
{
	struct auth_principal who;
	if (is(req->method, "GET") || is(req->method, "HEAD")) {
		char *next = query_field(req, "next");
		if (auth_check(c->auth, req, &who) > 0)
			redirect(r, safe_next(next));
		else
			login_page(r, 200, next, NULL, NULL);
		free(next);
	} else if (is(req->method, "POST")) {
		login_post(c, req, r);
	} else {
		method_not_allowed(r, "GET, HEAD, POST");
	}
}

static void handle_logout(struct console *c, const struct http_req *req, struct http_resp *r)
{
	struct auth_principal who;
	char sid[AUTH_SID_LEN + 2];
	if (!is(req->method, "POST")) {
		method_not_allowed(r, "POST");
		return;
	}
	int rc = auth_check(c->auth, req, &who);
	if (rc == -EPERM) {
		json_error(r, 403, "forbidden", "missing or wrong X-CSRF-Token");
		return;
	}
	if (rc > 0 && who.via == AUTH_VIA_SESSION && cookie_value(req, AUTH_COOKIE, sid, sizeof sid))
		auth_logout(c->auth, sid);
	redirect(r, "/login");
	clear_session_cookie(r, req);
}

int console_authorize(struct console *c, const struct http_req *req, struct http_resp *resp, enum auth_role min,
		      struct auth_principal *who)
{
	int rc = auth_check(c->auth, req, who);
	if (rc == -EPERM) {
		json_error(resp, 403, "forbidden", "missing or wrong X-CSRF-Token, or a foreign Origin");
		return -EPERM;
	}
	if (rc < 0) {
		json_error(resp, 401, "unauthorized", "sign in or send an API token (Authorization: Bearer ...)");
		return -EACCES;
	}
	if ((int)who->role < (int)min) {
		char msg[96];
		snprintf(msg, sizeof msg, "this needs the %s role; you have %s", auth_role_name(min),
			 auth_role_name(who->role));
		json_error(resp, 403, "forbidden", msg);
		return -EPERM;
	}
	return 0;
}

enum auth_role console_role_for(const char *method, const char *path)
{
	if (strncmp(path, "/api/v1/admin/", 14) == 0 || strncmp(path, "/api/auth/users", 15) == 0 ||
	    strncmp(path, "/api/auth/tokens", 16) == 0)
		return AUTH_ROLE_ADMIN;
	/* Prometheus accepts queries as POST; they read only. */
	if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 || strcmp(method, "OPTIONS") == 0 ||
	    strcmp(path, "/api/v1/query") == 0 || strcmp(path, "/api/v1/query_range") == 0 ||
	    strcmp(path, "/api/v1/series") == 0 || strcmp(path, "/api/v1/labels") == 0 ||
	    strcmp(path, "/api/v1/query_exemplars") == 0)
		return AUTH_ROLE_VIEWER;
	return AUTH_ROLE_OPERATOR;
}

static void whoami(const struct auth_principal *who, struct http_resp *r)
{
	json_ok(r, 200);
	buf_adds(&r->body, "{\"user\":");
	buf_add_json_str(&r->body, who->user, strlen(who->user));
	buf_printf(&r->body, ",\"role\":\"%s\",\"via\":\"%s\",\"csrf_token\":\"%s\",\"expires\":%lld}",
		   auth_role_name(who->role), who->via == AUTH_VIA_SESSION ? "session" : "token", who->csrf,
		   (long long)who->expires);
}

static void tokens_api(struct console *c, const struct http_req *req, struct http_resp *r,
		       const struct auth_principal *who, const char *rest)
{
	if (*rest == '\0' && (is(req->method, "GET") || is(req->method, "HEAD"))) {
		json_ok(r, 200);
		if (auth_token_list_json(c->auth, &r->body) < 0)
			json_error(r, 500, "internal", "cannot list tokens");
	} else if (*rest == '\0' && is(req->method, "POST")) {
		char *name = form_field(req, "name"), *role = form_field(req, "role");
		char tok[AUTH_TOKEN_LEN + 1];
		enum auth_role ro;
		int64_t id;
		int rc = !name || !role || auth_role_parse(role, &ro) < 0 ? -EINVAL
			 : auth_token_create(c->auth, name, ro, who->user, tok, &id);
		if (rc == 0) {
			json_ok(r, 201);
			buf_printf(&r->body, "{\"id\":%lld,\"name\":", (long long)id);
			buf_add_json_str(&r->body, name, strlen(name));
			buf_printf(&r->body, ",\"role\":\"%s\",\"token\":\"%s\"}", auth_role_name(ro), tok);
			sodium_memzero(tok, sizeof tok);
		} else if (rc == -EINVAL) {
			json_error(r, 400, "bad_data",
				   "need name (1-64 of A-Z a-z 0-9 . _ @ -) and role (viewer, operator, admin)");
		} else if (rc == -ENOSPC) {
			json_error(r, 409, "conflict", "too many tokens");
		} else {
			json_error(r, 500, "internal", "cannot store the token");
		}
		free(name);
		free(role);
	} else if (*rest == '/' && is(req->method, "DELETE")) {
		char *end = NULL;
		long long id = strtoll(rest + 1, &end, 10);
		if (!end || *end || end == rest + 1 || id <= 0)
			json_error(r, 400, "bad_data", "token id must be a positive integer");
		else if (auth_token_delete(c->auth, id) == 0)
			json_ok(r, 204);
		else
			json_error(r, 404, "not_found", "no such token");
	} else {
		method_not_allowed(r, *rest ? "DELETE" : "GET, HEAD, POST");
	}
}

static void users_api(struct console *c, const struct http_req *req, struct http_resp *r, const char *rest)
{
	if (*rest == '\0' && (is(req->method, "GET") || is(req->method, "HEAD"))) {
		json_ok(r, 200);
		if (auth_user_list_json(c->auth, &r->body) < 0)
			json_error(r, 500, "internal", "cannot list users");
	} else if (*rest == '\0' && is(req->method, "POST")) {
		char *name = form_field(req, "name"), *pw = form_field(req, "password"), *role = form_field(req, "role");
		enum auth_role ro;
		int rc = !name || !pw || !role || auth_role_parse(role, &ro) < 0 ? -EINVAL
			 : auth_user_add(c->auth, name, pw, ro);
		if (rc == 0) {
			json_ok(r, 201);
			buf_adds(&r->body, "{\"name\":");
			buf_add_json_str(&r->body, name, strlen(name));
			buf_printf(&r->body, ",\"role\":\"%s\"}", auth_role_name(ro));
		} else if (rc == -EEXIST) {
			json_error(r, 409, "conflict", "a user with that name exists");
		} else if (rc == -EINVAL) {
			json_error(r, 400, "bad_data", "need name, role and a password of 8-512 bytes");
		} else {
			json_error(r, 500, "internal", "cannot store the user");
		}
		if (pw)
			sodium_memzero(pw, strlen(pw));
		free(name);
		free(pw);
		free(role);
	} else if (*rest == '/' && is(req->method, "DELETE")) {
		int rc = auth_user_delete(c->auth, rest + 1);
		if (rc == 0)
			json_ok(r, 204);
		else if (rc == -EBUSY)
			json_error(r, 409, "conflict", "the last admin cannot be deleted");
		else if (rc == -ENOENT)
			json_error(r, 404, "not_found", "no such user");
		else
			json_error(r, 500, "internal", "cannot delete the user");
	} else {
		method_not_allowed(r, *rest ? "DELETE" : "GET, HEAD, POST");
	}
}

static void password_api(struct console *c, const struct http_req *req, struct http_resp *r,
			 const struct auth_principal *who)
{
	if (!is(req->method, "POST")) {
		method_not_allowed(r, "POST");
		return;
	}
	if (who->via != AUTH_VIA_SESSION) {
		json_error(r, 403, "forbidden", "API tokens cannot change passwords");
		return;
	}
	char *old = form_field(req, "old"), *nw = form_field(req, "new");
	int rc;
	if (!old || !nw)
		json_error(r, 400, "bad_data", "need old and new");
	else if ((rc = auth_user_verify(c->auth, who->user, old)) == -EAGAIN)
		json_error(r, 429, "unavailable", "busy; try again");
	else if (rc < 0)
		json_error(r, 403, "forbidden", "the old password is wrong");
	else if ((rc = auth_user_set_password(c->auth, who->user, nw)) == -EINVAL)
		json_error(r, 400, "bad_data", "a password has 8-512 bytes");
	else if (rc < 0)
		json_error(r, 500, "internal", "cannot store the password");
	else {
		json_ok(r, 204);
		clear_session_cookie(r, req);
	}
	if (old)
		sodium_memzero(old, strlen(old));
	if (nw)
		sodium_memzero(nw, strlen(nw));
	free(old);
	free(nw);
}

static void auth_api(struct console *c, const struct http_req *req, struct http_resp *r)
{
	struct auth_principal who;
	const char *p = req->path + strlen("/api/auth");
	enum auth_role need = console_role_for(req->method, req->path);
	if (console_authorize(c, req, r, need, &who) < 0)
		return;
	if (strcmp(p, "/whoami") == 0) {
		if (is(req->method, "GET") || is(req->method, "HEAD"))
			whoami(&who, r);
		else
			method_not_allowed(r, "GET, HEAD");
	} else if (strncmp(p, "/tokens", 7) == 0 && (p[7] == '\0' || p[7] == '/')) {
		tokens_api(c, req, r, &who, p + 7);
	} else if (strncmp(p, "/users", 6) == 0 && (p[6] == '\0' || p[6] == '/')) {
		users_api(c, req, r, p + 6);
	} else if (strcmp(p, "/password") == 0) {
		password_api(c, req, r, &who);
	} else {
		json_error(r, 404, "not_found", "no such /api/auth endpoint");
	}
}

int console_handle(struct console *c, const struct http_req *req, struct http_resp *resp)
{
	const char *p = req->path;
	struct auth_principal who;
	if (strcmp(p, "/login") == 0) {
		handle_login(c, req, resp);
		return 1;
	}
	if (strcmp(p, "/logout") == 0) {
		handle_logout(c, req, resp);
		return 1;
	}
	if (strcmp(p, "/api/auth") == 0 || strncmp(p, "/api/auth/", 10) == 0) {
		auth_api(c, req, resp);
		return 1;
	}
	if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0) {
		if (!is(req->method, "GET") && !is(req->method, "HEAD")) {
			method_not_allowed(resp, "GET, HEAD");
			return 1;
		}
		/* The app shell needs a session; its files (no data in them) do not. */
		if (auth_check(c->auth, req, &who) <= 0) {
			redirect(resp, "/login?next=%2F");
			return 1;
		}
		const struct web_asset *a = web_asset_find("/index.html");
		if (!a) {
			json_error(resp, 500, "internal", "the console was built without its files");
			return 1;
		}
		serve_asset(req, resp, a);
		return 1;
	}
	const struct web_asset *a = web_asset_find(p);
	if (!a || strcmp(p, "/index.html") == 0)
		return 0;
	if (!is(req->method, "GET") && !is(req->method, "HEAD"))
		method_not_allowed(resp, "GET, HEAD");
	else
		serve_asset(req, resp, a);
	return 1;
}
