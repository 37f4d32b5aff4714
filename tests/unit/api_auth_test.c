/*
 * api_auth_test.c — users, sessions, CSRF, rate limiting and API tokens
 * (src/api/auth.c), and the console's HTTP behaviour (src/api/console.c)
 * as a browser or script would see it: status codes, redirects, cookies.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/assets.h"
#include "api/auth.h"
#include "api/console.h"
#include "t.h"

static char dir[64];
static int dbn;

/* A fresh database path and fast (test-only) Argon2id parameters. */
static struct auth *fresh(char *pw, size_t pwsz)
{
	char path[128], err[256];
	struct auth_opts o = { .session_ttl_s = 3600, .pw_ops = crypto_pwhash_OPSLIMIT_MIN,
			       .pw_mem = crypto_pwhash_MEMLIMIT_MIN };
	snprintf(path, sizeof path, "%s/web%d.db", dir, ++dbn);
	struct auth *a = auth_open_opts(path, &o, pw, pwsz, err, sizeof err);
	if (!a)
		printf("auth_open_opts: %s\n", err);
	return a;
}

struct req_b {
	struct http_header h[8];
	size_t n;
	struct http_req r;
};

static void req(struct req_b *b, const char *method, const char *path, const char *query, const char *body)
{
	memset(b, 0, sizeof *b);
	b->r.method = method;
	b->r.path = path;
	b->r.query = query ? query : "";
	b->r.body = body;
	b->r.body_len = body ? strlen(body) : 0;
	b->r.remote_addr = "127.0.0.1";
	b->r.headers = b->h;
}

static void hdr(struct req_b *b, const char *name, const char *value)
{
	b->h[b->n].name = name;
	b->h[b->n].value = value;
	b->n++;
	b->r.nheaders = b->n;
}

static const char *resp_hdr(const struct http_resp *r, const char *name, int nth)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->headers[i].name, name) == 0 && nth-- == 0)
			return r->headers[i].value;
	return NULL;
}

/* Copy "name=value" of a Set-Cookie header into out as "name=value". */
static int set_cookie(const struct http_resp *r, const char *name, char *out, size_t outsz)
{
	for (int i = 0; i < 4; i++) {
		const char *v = resp_hdr(r, "Set-Cookie", i);
		if (v && strncmp(v, name, strlen(name)) == 0 && v[strlen(name)] == '=') {
			const char *semi = strchr(v, ';');
			snprintf(out, outsz, "%.*s", (int)(semi ? semi - v : (long)strlen(v)), v);
			return 1;
		}
	}
	return 0;
}

T_TEST(first_admin_password_once)
{
	char pw[64], err[256], path[128];
	snprintf(path, sizeof path, "%s/first.db", dir);
	struct auth *a = auth_open(path, pw, sizeof pw, err, sizeof err);
	T_CHECK(a != NULL);
	T_EQ_INT(strlen(pw), 24);
	char sid[AUTH_SID_LEN + 1];
	T_EQ_INT(auth_login(a, "admin", pw, "10.0.0.1", sid, NULL), 0);
	T_EQ_INT(strlen(sid), AUTH_SID_LEN);
	auth_close(a);
	char pw2[64] = "x";
	a = auth_open(path, pw2, sizeof pw2, err, sizeof err);
	T_CHECK(a != NULL);
	T_EQ_STR(pw2, "");
	T_EQ_INT(auth_login(a, "admin", pw, "10.0.0.1", sid, NULL), 0);
	auth_close(a);
	struct stat st;
	T_EQ_INT(stat(path, &st), 0);
	T_EQ_INT(st.st_mode & 0777, 0600);
	/* stored as Argon2id; neither the password nor the session id is in the file */
	FILE *f = fopen(path, "rb");
	static char data[1 << 20];
	size_t n = f ? fread(data, 1, sizeof data - 1, f) : 0;
	if (f)
		fclose(f);
	data[n] = '\0';
	T_CHECK(memmem(data, n, "$argon2id$", 10) != NULL);
	T_CHECK(memmem(data, n, pw, strlen(pw)) == NULL);
	T_CHECK(memmem(data, n, sid, strlen(sid)) == NULL);
	T_CHECK(auth_open(path, pw2, 8, err, sizeof err) == NULL);
	T_CHECK(auth_open("/nonexistent-dir/x.db", pw2, sizeof pw2, err, sizeof err) == NULL);
	T_CHECK(strstr(err, "/nonexistent-dir/x.db") != NULL);
}

T_TEST(login_right_and_wrong)
{
	char pw[64], sid[AUTH_SID_LEN + 1];
	struct auth *a = fresh(pw, sizeof pw);
	T_EQ_INT(auth_login(a, "admin", "wrong-password", "1.2.3.4", sid, NULL), -EACCES);
	T_EQ_STR(sid, "");
	T_EQ_INT(auth_login(a, "nobody", pw, "1.2.3.4", sid, NULL), -EACCES);
	T_EQ_INT(auth_login(a, "bad name!", pw, "1.2.3.4", sid, NULL), -EACCES);
	T_EQ_INT(auth_user_add(a, "ann", "ann-password", AUTH_ROLE_VIEWER), 0);
	T_EQ_INT(auth_user_add(a, "ann", "ann-password", AUTH_ROLE_VIEWER), -EEXIST);
	T_EQ_INT(auth_user_add(a, "bob", "short", AUTH_ROLE_VIEWER), -EINVAL);
	T_EQ_INT(auth_user_add(a, "b b", "long-enough", AUTH_ROLE_VIEWER), -EINVAL);
	T_EQ_INT(auth_login(a, "ann", "ann-password", "1.2.3.4", sid, NULL), 0);
	T_EQ_INT(auth_user_set_password(a, "ann", "new-password"), 0);
	T_EQ_INT(auth_login(a, "ann", "ann-password", "1.2.3.4", sid, NULL), -EACCES);
	T_EQ_INT(auth_login(a, "ann", "new-password", "1.2.3.4", sid, NULL), 0);
	T_EQ_INT(auth_user_delete(a, "admin"), -EBUSY);
	T_EQ_INT(auth_user_delete(a, "ann"), 0);
	T_EQ_INT(auth_user_delete(a, "ann"), -ENOENT);
	auth_close(a);
}

T_TEST(session_cookie_csrf_and_expiry)
{
	char pw[64], sid[AUTH_SID_LEN + 1], cookie[128];
	struct auth *a = fresh(pw, sizeof pw);
	struct auth_principal who;
	struct req_b b;
	auth_test_set_now(a, 1000000);
	T_EQ_INT(auth_login(a, "admin", pw, "::1", sid, NULL), 0);
	snprintf(cookie, sizeof cookie, "theme=dark; " AUTH_COOKIE "=%s; other=1", sid);
	req(&b, "GET", "/api/v1/query", "query=up", NULL);
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	hdr(&b, "Cookie", cookie);
	T_EQ_INT(auth_check(a, &b.r, &who), AUTH_ROLE_ADMIN);
	T_EQ_STR(who.user, "admin");
	T_EQ_INT(who.via, AUTH_VIA_SESSION);
	T_EQ_INT(strlen(who.csrf), AUTH_CSRF_LEN);
	T_EQ_INT(who.expires, 1000000 + 3600);
	char csrf[AUTH_CSRF_LEN + 1];
	snprintf(csrf, sizeof csrf, "%s", who.csrf);
	/* state-changing with the cookie alone: refused */
	req(&b, "POST", "/api/auth/tokens", NULL, "name=x&role=viewer");
	hdr(&b, "Cookie", cookie);
	T_EQ_INT(auth_check(a, &b.r, &who), -EPERM);
	T_EQ_STR(who.user, "");
	hdr(&b, "X-CSRF-Token", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	T_EQ_INT(auth_check(a, &b.r, &who), -EPERM);
	req(&b, "POST", "/api/auth/tokens", NULL, "name=x&role=viewer");
	hdr(&b, "Cookie", cookie);
	hdr(&b, "X-CSRF-Token", csrf);
	T_EQ_INT(auth_check(a, &b.r, &who), AUTH_ROLE_ADMIN);
	hdr(&b, "Host", "vigil.example:9920");
	hdr(&b, "Origin", "https://evil.example");
	T_EQ_INT(auth_check(a, &b.r, &who), -EPERM);
	/* a forged or truncated id is unknown */
	req(&b, "GET", "/", NULL, NULL);
	hdr(&b, "Cookie", AUTH_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	/* expiry: one second before works, at expiry it does not */
	req(&b, "GET", "/", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	auth_test_set_now(a, 1000000 + 3599);
	T_EQ_INT(auth_check(a, &b.r, &who), AUTH_ROLE_ADMIN);
	auth_test_set_now(a, 1000000 + 3600);
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	/* logout ends the session */
	auth_test_set_now(a, 1000000);
	T_EQ_INT(auth_check(a, &b.r, &who), AUTH_ROLE_ADMIN);
	T_EQ_INT(auth_logout(a, sid), 0);
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	auth_close(a);
}

T_TEST(login_rate_limit_per_address)
{
	char pw[64], sid[AUTH_SID_LEN + 1];
	struct auth *a = fresh(pw, sizeof pw);
	int retry = 0;
	auth_test_set_now(a, 5000);
	for (int i = 0; i < AUTH_RATE_FAILS; i++)
		T_EQ_INT(auth_login(a, "admin", "guess-guess", "192.0.2.7", sid, NULL), -EACCES);
	/* now even the right password is refused from that address */
	T_EQ_INT(auth_login(a, "admin", pw, "192.0.2.7", sid, &retry), -EAGAIN);
	T_CHECK(retry > 0 && retry <= AUTH_RATE_WINDOW_S);
	/* another address is not affected */
	T_EQ_INT(auth_login(a, "admin", pw, "192.0.2.8", sid, NULL), 0);
	/* the window passes */
	auth_test_set_now(a, 5000 + AUTH_RATE_WINDOW_S);
	T_EQ_INT(auth_login(a, "admin", pw, "192.0.2.7", sid, NULL), 0);
	/* a success clears the count */
	for (int i = 0; i < AUTH_RATE_FAILS - 1; i++)
		T_EQ_INT(auth_login(a, "admin", "guess-guess", "192.0.2.7", sid, NULL), -EACCES);
	T_EQ_INT(auth_login(a, "admin", pw, "192.0.2.7", sid, NULL), 0);
	T_EQ_INT(auth_login(a, "admin", "guess-guess", "192.0.2.7", sid, NULL), -EACCES);
	T_EQ_INT(auth_login(a, "admin", pw, "192.0.2.7", sid, NULL), 0);
	/* many addresses do not break the table */
	for (int i = 0; i < 3 * AUTH_RATE_SLOTS; i++) {
		char addr[32];
		snprintf(addr, sizeof addr, "10.%d.%d.1", i / 256, i % 256);
		T_EQ_INT(auth_login(a, "nobody", "x-x-x-x-x", addr, sid, NULL), -EACCES);
	}
	auth_close(a);
}

T_TEST(api_tokens)
{
	char pw[64], tok[AUTH_TOKEN_LEN + 1], auth_hdr[96];
	struct auth *a = fresh(pw, sizeof pw);
	struct auth_principal who;
	struct req_b b;
	int64_t id = 0;
	T_EQ_INT(auth_token_create(a, "grafana", AUTH_ROLE_VIEWER, "admin", tok, &id), 0);
	T_CHECK(id > 0);
	T_EQ_INT(strlen(tok), AUTH_TOKEN_LEN);
	T_CHECK(strncmp(tok, "vgt_", 4) == 0);
	T_EQ_INT(auth_token_create(a, "bad name", AUTH_ROLE_VIEWER, "admin", tok + 0, &id) , -EINVAL);
	int64_t id2;
	char tok2[AUTH_TOKEN_LEN + 1];
	T_EQ_INT(auth_token_create(a, "ops", AUTH_ROLE_OPERATOR, "admin", tok2, &id2), 0);
	/* the first create call's token was overwritten by the -EINVAL call: make it again */
	T_EQ_INT(auth_token_create(a, "grafana2", AUTH_ROLE_VIEWER, "admin", tok, &id), 0);
	snprintf(auth_hdr, sizeof auth_hdr, "Bearer %s", tok);
	req(&b, "POST", "/api/v1/query", NULL, "query=up");
	hdr(&b, "Authorization", auth_hdr);
	T_EQ_INT(auth_check(a, &b.r, &who), AUTH_ROLE_VIEWER);	/* bearer needs no CSRF token */
	T_EQ_STR(who.user, "grafana2");
	T_EQ_INT(who.via, AUTH_VIA_TOKEN);
	T_EQ_INT(who.token_id, id);
	struct buf out;
	buf_init(&out, 1 << 16);
	T_EQ_INT(auth_token_list_json(a, &out), 0);
	T_CHECK(strstr(out.data, "\"name\":\"grafana2\"") != NULL);
	T_CHECK(strstr(out.data, "\"role\":\"operator\"") != NULL);
	T_CHECK(strstr(out.data, "\"last_used\":") != NULL);
	T_CHECK(strstr(out.data, tok + 4) == NULL);
	buf_free(&out);
	T_EQ_INT(auth_token_delete(a, id), 0);
	T_EQ_INT(auth_token_delete(a, id), -ENOENT);
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	req(&b, "GET", "/api/v1/query", NULL, NULL);
	hdr(&b, "Authorization", "Bearer vgt_nope");
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	hdr(&b, "Cookie", "x=1");
	T_EQ_INT(auth_check(a, &b.r, &who), -EACCES);
	auth_close(a);
}

T_TEST(assets_embedded)
{
	T_CHECK(web_assets_count >= 3);
	for (size_t i = 1; i < web_assets_count; i++)
		T_CHECK(strcmp(web_assets[i - 1].path, web_assets[i].path) < 0);
	const struct web_asset *idx = web_asset_find("/index.html");
	T_CHECK(idx != NULL);
	if (idx)
		T_CHECK(strstr((const char *)idx->data, "/app.js") != NULL);
	T_CHECK(web_asset_find("/app.js") != NULL);
	T_CHECK(web_asset_find("/app.css") != NULL);
	T_CHECK(web_asset_find("/nope.js") == NULL);
	T_CHECK(web_asset_find("") == NULL);
	/* nothing in the bundle reaches outside: no CDN, no web fonts */
	for (size_t i = 0; i < web_assets_count; i++) {
		const char *d = (const char *)web_assets[i].data;
		T_CHECK(strstr(d, "https://fonts.") == NULL);
		T_CHECK(strstr(d, "cdn.jsdelivr") == NULL && strstr(d, "unpkg.com") == NULL);
	}
}

/* Log in through the HTTP handlers like a browser; fills cookie "vigil_session=..." and csrf. */
static int browser_login(struct console *c, const char *user, const char *pw, char *cookie, size_t cookiesz,
			 int *status)
{
	struct req_b b;
	struct http_resp r;
	char lc[128], body[512], tok[64] = "";
	http_resp_init(&r);
	req(&b, "GET", "/login", "next=%2F%23%2Fnodes", NULL);
	console_handle(c, &b.r, &r);
	if (!set_cookie(&r, CONSOLE_LOGIN_COOKIE, lc, sizeof lc)) {
		http_resp_free(&r);
		return -1;
	}
	const char *v = strstr(r.body.data, "name=\"login_token\" value=\"");
	if (v)
		snprintf(tok, sizeof tok, "%.43s", v + strlen("name=\"login_token\" value=\""));
	http_resp_free(&r);
	snprintf(body, sizeof body, "user=%s&password=%s&login_token=%s&next=%%2F%%23%%2Fnodes", user, pw, tok);
	req(&b, "POST", "/login", NULL, body);
	hdr(&b, "Cookie", lc);
	hdr(&b, "Host", "127.0.0.1:9920");
	hdr(&b, "Origin", "http://127.0.0.1:9920");
	http_resp_init(&r);
	console_handle(c, &b.r, &r);
	*status = r.status;
	int ok = set_cookie(&r, AUTH_COOKIE, cookie, cookiesz);
	if (ok && r.status == 303)
		ok = resp_hdr(&r, "Location", 0) && strcmp(resp_hdr(&r, "Location", 0), "/#/nodes") == 0;
	http_resp_free(&r);
	return ok ? 0 : -1;
}

T_TEST(console_pages_and_login_flow)
{
	char pw[64], cookie[128];
	struct auth *a = fresh(pw, sizeof pw);
	struct console *c = console_new(a);
	struct req_b b;
	struct http_resp r;
	int status = 0;

	/* the app shell needs a session */
	http_resp_init(&r);
	req(&b, "GET", "/", NULL, NULL);
	T_EQ_INT(console_handle(c, &b.r, &r), 1);
	T_EQ_INT(r.status, 303);
	T_EQ_STR(resp_hdr(&r, "Location", 0), "/login?next=%2F");
	http_resp_free(&r);

	/* its files do not, and revalidate by ETag */
	http_resp_init(&r);
	req(&b, "GET", "/app.js", NULL, NULL);
	T_EQ_INT(console_handle(c, &b.r, &r), 1);
	T_EQ_INT(r.status, 200);
	T_CHECK(strncmp(r.content_type, "text/javascript", 15) == 0);
	T_CHECK(r.body.len > 1000);
	char etag[80];
	snprintf(etag, sizeof etag, "%s", resp_hdr(&r, "ETag", 0) ? resp_hdr(&r, "ETag", 0) : "");
	T_CHECK(etag[0] == '"');
	T_CHECK(resp_hdr(&r, "Content-Security-Policy", 0) != NULL);
	http_resp_free(&r);
	http_resp_init(&r);
	req(&b, "GET", "/app.js", NULL, NULL);
	hdr(&b, "If-None-Match", etag);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 304);
	T_EQ_INT(r.body.len, 0);
	http_resp_free(&r);
	http_resp_init(&r);
	req(&b, "GET", "/app.js", NULL, NULL);
	hdr(&b, "Accept-Encoding", "gzip, deflate");
	console_handle(c, &b.r, &r);
	T_EQ_STR(resp_hdr(&r, "Content-Encoding", 0), "gzip");
	T_CHECK(r.body.len > 2 && (unsigned char)r.body.data[0] == 0x1f && (unsigned char)r.body.data[1] == 0x8b);
	http_resp_free(&r);

	/* paths that are not the console's are left to the caller */
	http_resp_init(&r);
	req(&b, "GET", "/api/v1/query", "query=up", NULL);
	T_EQ_INT(console_handle(c, &b.r, &r), 0);
	req(&b, "GET", "/metrics", NULL, NULL);
	T_EQ_INT(console_handle(c, &b.r, &r), 0);
	http_resp_free(&r);

	/* wrong password: 401 and the form again */
	T_EQ_INT(browser_login(c, "admin", "not-the-password", cookie, sizeof cookie, &status), -1);
	T_EQ_INT(status, 401);
	/* right password: 303 to the page asked for, with the session cookie */
	T_EQ_INT(browser_login(c, "admin", pw, cookie, sizeof cookie, &status), 0);
	T_EQ_INT(status, 303);

	/* the shell now loads */
	http_resp_init(&r);
	req(&b, "GET", "/", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 200);
	T_CHECK(strstr(r.body.data, "<script src=\"/app.js\"") != NULL);
	http_resp_free(&r);

	/* whoami gives the CSRF token */
	http_resp_init(&r);
	req(&b, "GET", "/api/auth/whoami", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 200);
	T_CHECK(strstr(r.body.data, "\"user\":\"admin\",\"role\":\"admin\",\"via\":\"session\"") != NULL);
	char csrf[AUTH_CSRF_LEN + 1] = "";
	const char *cp = strstr(r.body.data, "\"csrf_token\":\"");
	if (cp)
		snprintf(csrf, sizeof csrf, "%.43s", cp + 14);
	http_resp_free(&r);

	/* make a token through the API: needs CSRF */
	http_resp_init(&r);
	req(&b, "POST", "/api/auth/tokens", NULL, "name=grafana&role=viewer");
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	http_resp_free(&r);
	http_resp_init(&r);
	hdr(&b, "X-CSRF-Token", csrf);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 201);
	T_CHECK(strstr(r.body.data, "\"token\":\"vgt_") != NULL);
	char tok[AUTH_TOKEN_LEN + 1] = "", bearer[80];
	cp = strstr(r.body.data, "\"token\":\"");
	if (cp)
		snprintf(tok, sizeof tok, "%.47s", cp + 9);
	http_resp_free(&r);

	/* the viewer token may read but not manage tokens */
	snprintf(bearer, sizeof bearer, "Bearer %s", tok);
	http_resp_init(&r);
	req(&b, "GET", "/api/auth/tokens", NULL, NULL);
	hdr(&b, "Authorization", bearer);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	http_resp_free(&r);
	struct auth_principal who;
	http_resp_init(&r);
	req(&b, "GET", "/api/v1/query", "query=up", NULL);
	hdr(&b, "Authorization", bearer);
	T_EQ_INT(console_authorize(c, &b.r, &r, console_role_for("GET", "/api/v1/query"), &who), 0);
	req(&b, "POST", "/api/v1/admin/tsdb/delete_series", NULL, NULL);
	hdr(&b, "Authorization", bearer);
	T_EQ_INT(console_authorize(c, &b.r, &r, console_role_for("POST", "/api/v1/admin/tsdb/delete_series"), &who),
		 -EPERM);
	T_EQ_INT(r.status, 403);
	T_CHECK(strstr(r.body.data, "\"status\":\"error\"") != NULL);
	http_resp_free(&r);

	/* logout: CSRF required, then the session is gone and APIs answer 401 */
	http_resp_init(&r);
	req(&b, "POST", "/logout", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	http_resp_free(&r);
	http_resp_init(&r);
	hdr(&b, "X-CSRF-Token", csrf);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 303);
	T_EQ_STR(resp_hdr(&r, "Location", 0), "/login");
	T_CHECK(resp_hdr(&r, "Set-Cookie", 0) && strstr(resp_hdr(&r, "Set-Cookie", 0), "Max-Age=0"));
	http_resp_free(&r);
	http_resp_init(&r);
	req(&b, "GET", "/api/auth/whoami", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 401);
	T_EQ_STR(r.content_type, "application/json");
	T_CHECK(resp_hdr(&r, "WWW-Authenticate", 0) != NULL);
	http_resp_free(&r);
	http_resp_init(&r);
	req(&b, "GET", "/", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 303);
	http_resp_free(&r);

	console_free(c);
	auth_close(a);
}

T_TEST(login_form_csrf_and_redirects)
{
	char pw[64], body[512];
	struct auth *a = fresh(pw, sizeof pw);
	struct console *c = console_new(a);
	struct req_b b;
	struct http_resp r;

	/* a POST without the form's pre-session cookie is refused */
	snprintf(body, sizeof body, "user=admin&password=%s&login_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw);
	http_resp_init(&r);
	req(&b, "POST", "/login", NULL, body);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	T_CHECK(!set_cookie(&r, AUTH_COOKIE, body, 8));
	http_resp_free(&r);
	/* nor with a cookie that does not match */
	snprintf(body, sizeof body, "user=admin&password=%s&login_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw);
	http_resp_init(&r);
	req(&b, "POST", "/login", NULL, body);
	hdr(&b, "Cookie", CONSOLE_LOGIN_COOKIE "=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB");
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	http_resp_free(&r);
	/* matching token but a foreign Origin */
	snprintf(body, sizeof body, "user=admin&password=%s&login_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", pw);
	http_resp_init(&r);
	req(&b, "POST", "/login", NULL, body);
	hdr(&b, "Cookie", CONSOLE_LOGIN_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	hdr(&b, "Host", "127.0.0.1:9920");
	hdr(&b, "Origin", "http://evil.example");
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 403);
	http_resp_free(&r);
	/* matching token, same origin, an off-site next: lands on / instead */
	snprintf(body, sizeof body,
		 "user=admin&password=%s&login_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA&next=%%2F%%2Fevil.example", pw);
	http_resp_init(&r);
	req(&b, "POST", "/login", NULL, body);
	hdr(&b, "Cookie", CONSOLE_LOGIN_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	hdr(&b, "Host", "127.0.0.1:9920");
	hdr(&b, "Origin", "http://127.0.0.1:9920");
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 303);
	T_EQ_STR(resp_hdr(&r, "Location", 0), "/");
	char sc[128];
	T_CHECK(set_cookie(&r, AUTH_COOKIE, sc, sizeof sc));
	const char *full = NULL;
	for (int i = 0; i < 3; i++)
		if (resp_hdr(&r, "Set-Cookie", i) && strncmp(resp_hdr(&r, "Set-Cookie", i), AUTH_COOKIE, 13) == 0)
			full = resp_hdr(&r, "Set-Cookie", i);
	T_CHECK(full && strstr(full, "HttpOnly") && strstr(full, "SameSite=Strict") && !strstr(full, "Secure"));
	http_resp_free(&r);
	/* under TLS the cookie is Secure */
	http_resp_init(&r);
	req(&b, "POST", "/login", NULL, body);
	hdr(&b, "Cookie", CONSOLE_LOGIN_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	b.r.tls = 1;
	console_handle(c, &b.r, &r);
	full = NULL;
	for (int i = 0; i < 3; i++)
		if (resp_hdr(&r, "Set-Cookie", i) && strncmp(resp_hdr(&r, "Set-Cookie", i), AUTH_COOKIE, 13) == 0)
			full = resp_hdr(&r, "Set-Cookie", i);
	T_CHECK(full && strstr(full, "; Secure"));
	http_resp_free(&r);
	/* the login form escapes what it echoes */
	http_resp_init(&r);
	req(&b, "GET", "/login", "next=%2F%22%3E%3Cscript%3E", NULL);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 200);
	T_CHECK(strstr(r.body.data, "<script>") == NULL);
	T_CHECK(strstr(r.body.data, "&quot;&gt;&lt;script&gt;") != NULL);
	http_resp_free(&r);
	/* GET /logout is not allowed (it would be a CSRF hole) */
	http_resp_init(&r);
	req(&b, "GET", "/logout", NULL, NULL);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 405);
	T_EQ_STR(resp_hdr(&r, "Allow", 0), "POST");
	http_resp_free(&r);
	/* too many failures: 429 with Retry-After */
	for (int i = 0; i <= AUTH_RATE_FAILS; i++) {
		http_resp_init(&r);
		req(&b, "POST", "/login", NULL,
		    "user=admin&password=nope-nope&login_token=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		hdr(&b, "Cookie", CONSOLE_LOGIN_COOKIE "=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
		b.r.remote_addr = "198.51.100.9";
		console_handle(c, &b.r, &r);
		if (i < AUTH_RATE_FAILS)
			T_EQ_INT(r.status, 401);
		else
			T_EQ_INT(r.status, 429);
		if (i == AUTH_RATE_FAILS)
			T_CHECK(resp_hdr(&r, "Retry-After", 0) != NULL);
		http_resp_free(&r);
	}
	console_free(c);
	auth_close(a);
}

T_TEST(roles_for_routes)
{
	T_EQ_INT(console_role_for("GET", "/api/v1/query"), AUTH_ROLE_VIEWER);
	T_EQ_INT(console_role_for("POST", "/api/v1/query"), AUTH_ROLE_VIEWER);
	T_EQ_INT(console_role_for("POST", "/api/v1/query_range"), AUTH_ROLE_VIEWER);
	T_EQ_INT(console_role_for("GET", "/api/v1/admin/tsdb/snapshot"), AUTH_ROLE_ADMIN);
	T_EQ_INT(console_role_for("POST", "/api/v1/admin/tsdb/delete_series"), AUTH_ROLE_ADMIN);
	T_EQ_INT(console_role_for("GET", "/api/auth/tokens"), AUTH_ROLE_ADMIN);
	T_EQ_INT(console_role_for("DELETE", "/api/auth/users/x"), AUTH_ROLE_ADMIN);
	T_EQ_INT(console_role_for("POST", "/api/inventory/nodes"), AUTH_ROLE_OPERATOR);
	T_EQ_INT(console_role_for("GET", "/api/inventory/nodes"), AUTH_ROLE_VIEWER);
	enum auth_role r;
	T_EQ_INT(auth_role_parse("operator", &r), 0);
	T_EQ_INT(r, AUTH_ROLE_OPERATOR);
	T_EQ_INT(auth_role_parse("root", &r), -EINVAL);
	T_EQ_STR(auth_role_name(AUTH_ROLE_ADMIN), "admin");
}

/* Users over HTTP: admin-only, bad input, duplicates, the last admin stays. */
T_TEST(users_api_over_http)
{
	char pw[64], cookie[128], csrf[AUTH_CSRF_LEN + 1] = "";
	struct auth *a = fresh(pw, sizeof pw);
	struct console *c = console_new(a);
	struct req_b b;
	struct http_resp r;
	int status;
	T_EQ_INT(browser_login(c, "admin", pw, cookie, sizeof cookie, &status), 0);
	http_resp_init(&r);
	req(&b, "GET", "/api/auth/whoami", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	const char *cp = strstr(r.body.data, "\"csrf_token\":\"");
	if (cp)
		snprintf(csrf, sizeof csrf, "%.43s", cp + 14);
	http_resp_free(&r);
	static const struct {
		const char *method, *path, *body;
		int status;
	} cases[] = {
		{ "POST", "/api/auth/users", "name=op1&password=op1-password&role=operator", 201 },
		{ "POST", "/api/auth/users", "name=op1&password=op1-password&role=operator", 409 },
		{ "POST", "/api/auth/users", "name=op2&password=short&role=operator", 400 },
		{ "POST", "/api/auth/users", "name=op2&password=long-enough&role=god", 400 },
		{ "POST", "/api/auth/users", "password=long-enough&role=viewer", 400 },
		{ "GET", "/api/auth/users", NULL, 200 },
		{ "DELETE", "/api/auth/users/admin", NULL, 409 },
		{ "DELETE", "/api/auth/users/nobody", NULL, 404 },
		{ "DELETE", "/api/auth/users/op1", NULL, 204 },
		{ "PUT", "/api/auth/users", NULL, 405 },
		{ "DELETE", "/api/auth/tokens/abc", NULL, 400 },
		{ "DELETE", "/api/auth/tokens/99", NULL, 404 },
		{ "POST", "/api/auth/tokens", "name=t1&role=nope", 400 },
		{ "GET", "/api/auth/nothing", NULL, 404 },
		{ "POST", "/api/auth/password", "old=wrong-password&new=new-password", 403 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		http_resp_init(&r);
		req(&b, cases[i].method, cases[i].path, NULL, cases[i].body);
		hdr(&b, "Cookie", cookie);
		hdr(&b, "X-CSRF-Token", csrf);
		T_EQ_INT(console_handle(c, &b.r, &r), 1);
		if (r.status != cases[i].status)
			T_FAILF("%s %s -> %d, want %d (%s)", cases[i].method, cases[i].path, r.status, cases[i].status,
				r.body.data ? r.body.data : "");
		if (i == 5)
			T_CHECK(strstr(r.body.data, "\"name\":\"op1\",\"role\":\"operator\"") != NULL);
		http_resp_free(&r);
	}
	/* password change ends the session; the new password works */
	char body[160];
	snprintf(body, sizeof body, "old=%s&new=brand-new-password", pw);
	http_resp_init(&r);
	req(&b, "POST", "/api/auth/password", NULL, body);
	hdr(&b, "Cookie", cookie);
	hdr(&b, "X-CSRF-Token", csrf);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 204);
	http_resp_free(&r);
	http_resp_init(&r);
	req(&b, "GET", "/api/auth/whoami", NULL, NULL);
	hdr(&b, "Cookie", cookie);
	console_handle(c, &b.r, &r);
	T_EQ_INT(r.status, 401);
	http_resp_free(&r);
	T_EQ_INT(browser_login(c, "admin", "brand-new-password", cookie, sizeof cookie, &status), 0);
	console_free(c);
	auth_close(a);
}

struct race {
	struct auth *a;		/* shared */
	const char *pw;		/* admin password */
	int fails;		/* unexpected results seen by this thread */
};

static void *race_thread(void *p)
{
	struct race *r = p;
	char sid[AUTH_SID_LEN + 1], cookie[96];
	struct auth_principal who;
	for (int i = 0; i < 20; i++) {
		if (auth_login(r->a, "admin", r->pw, "127.0.0.9", sid, NULL) != 0) {
			r->fails++;
			continue;
		}
		snprintf(cookie, sizeof cookie, AUTH_COOKIE "=%s", sid);
		struct http_header h = { "Cookie", cookie };
		struct http_req q = { .method = "GET", .path = "/", .query = "", .headers = &h, .nheaders = 1 };
		if (auth_check(r->a, &q, &who) != AUTH_ROLE_ADMIN)
			r->fails++;
		auth_logout(r->a, sid);
		if (auth_check(r->a, &q, &who) != -EACCES)
			r->fails++;
	}
	return NULL;
}

/* Several threads logging in and out at once (the web worker may use a thread pool). */
T_TEST(concurrent_sessions)
{
	char pw[64];
	struct auth *a = fresh(pw, sizeof pw);
	pthread_t t[AUTH_MAX_HASHING];
	struct race r[AUTH_MAX_HASHING];
	for (int i = 0; i < AUTH_MAX_HASHING; i++) {
		r[i] = (struct race){ a, pw, 0 };
		pthread_create(&t[i], NULL, race_thread, &r[i]);
	}
	for (int i = 0; i < AUTH_MAX_HASHING; i++) {
		pthread_join(t[i], NULL);
		T_EQ_INT(r[i].fails, 0);
	}
	auth_close(a);
}

int main(void)
{
	snprintf(dir, sizeof dir, "/tmp/vigil-auth-XXXXXX");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	T_RUN(first_admin_password_once);
	T_RUN(login_right_and_wrong);
	T_RUN(session_cookie_csrf_and_expiry);
	T_RUN(login_rate_limit_per_address);
	T_RUN(api_tokens);
	T_RUN(assets_embedded);
	T_RUN(console_pages_and_login_flow);
	T_RUN(login_form_csrf_and_redirects);
	T_RUN(roles_for_routes);
	T_RUN(users_api_over_http);
	T_RUN(concurrent_sessions);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		printf("could not remove %s\n", dir);
	return t_done();
}
