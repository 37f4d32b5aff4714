/* httputil.c — request and response helpers from http.h that need no transport. */
#include <errno.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include "api/http.h"
#include "core/buf.h"
#include "core/xmalloc.h"

const char *http_req_header(const struct http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	return NULL;
}

/* Decode n bytes of a form component into a new string; NULL if malformed. */
static char *form_decode(const char *s, size_t n)
{
	char *o = xmalloc(n + 1);
	size_t j = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '+') {
			o[j++] = ' ';
		} else if (s[i] == '%') {
			int a, b;
			if (i + 2 >= n) {
				free(o);
				return NULL;
			}
			a = hex_digit(s[i + 1]);
			b = hex_digit(s[i + 2]);
			if (a < 0 || b < 0) {
				free(o);
				return NULL;
			}
			o[j++] = (char)(a * 16 + b);
			i += 2;
		} else {
			o[j++] = s[i];
		}
	}
	o[j] = '\0';
	return o;
}

int http_form_get(const char *form, size_t len, const char *name, char **out)
{
	size_t nl = strlen(name), i = 0;
	*out = NULL;
	while (i < len) {
		size_t end = i;
		while (end < len && form[end] != '&')
			end++;
		size_t eq = i;
		while (eq < end && form[eq] != '=')
			eq++;
		char *key = form_decode(form + i, eq - i);
		if (!key)
			return -1;
		int hit = strlen(key) == nl && memcmp(key, name, nl) == 0;
		free(key);
		if (hit) {
			*out = eq < end ? form_decode(form + eq + 1, end - eq - 1) : xstrdup("");
			return *out ? 1 : -1;
		}
		i = end + 1;
	}
	return 0;
}

void http_resp_init(struct http_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->content_type = "text/plain; charset=utf-8";
	buf_init(&r->body, BUF_CAP_HTTP_BODY);
}

void http_resp_free(struct http_resp *r)
{
	if (!r)
		return;
	buf_free(&r->body);
	for (size_t i = 0; i < r->nheaders; i++) {
		free((void *)(uintptr_t)r->headers[i].name);
		free((void *)(uintptr_t)r->headers[i].value);
	}
	r->nheaders = 0;
}

int http_resp_header(struct http_resp *r, const char *name, const char *value)
{
	if (r->nheaders >= HTTP_MAX_RESP_HEADERS)
		return -E2BIG;
	r->headers[r->nheaders].name = xstrdup(name);
	r->headers[r->nheaders].value = xstrdup(value);
	r->nheaders++;
	return 0;
}
