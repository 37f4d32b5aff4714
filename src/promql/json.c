/* json.c — see json.h. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/xmalloc.h"
#include "promql/json.h"




struct jp {
	const char *p, *end;	/* input */
	int depth;		/* nesting */
};

void pq_json_free(struct pq_json *v)
{
	for (size_t i = 0; i < v->nk; i++) {
		pq_json_free(&v->kids[i]);
		if (v->keys)
			free(v->keys[i]);
	}
	free(v->kids);
	free(v->keys);
	free(v->s);
}

static void ws(struct jp *j)
{
	while (j->p < j->end && isspace((unsigned char)*j->p))
		j->p++;
}

static int jstr(struct jp *j, char **out)
{
	struct buf b;
	buf_init(&b, PQ_JSON_MAX);
	buf_adds(&b, "");
	j->p++;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if (c != '\\') {
			buf_addc(&b, c);
			continue;
		}
		if (j->p >= j->end)
			break;
		c = *j->p++;
		switch (c) {
		case 'n': buf_addc(&b, '\n'); break;
		case 't': buf_addc(&b, '\t'); break;
		case 'r': buf_addc(&b, '\r'); break;
		case 'b': buf_addc(&b, '\b'); break;
		case 'f': buf_addc(&b, '\f'); break;
		case 'u': {
			unsigned v = 0;
			for (int k = 0; k < 4 && j->p < j->end; k++) {
				char h = *j->p++;
				v = v * 16 + (unsigned)(isdigit((unsigned char)h) ? h - '0' : (tolower((unsigned char)h) - 'a' + 10));
			}
			if (v < 0x80) {
				buf_addc(&b, (char)v);
			} else if (v < 0x800) {
				buf_addc(&b, (char)(0xC0 | (v >> 6)));
				buf_addc(&b, (char)(0x80 | (v & 0x3F)));
			} else {
				buf_addc(&b, (char)(0xE0 | (v >> 12)));
				buf_addc(&b, (char)(0x80 | ((v >> 6) & 0x3F)));
				buf_addc(&b, (char)(0x80 | (v & 0x3F)));
			}
			break;
		}
		default: buf_addc(&b, c);
		}
	}
	if (j->p >= j->end) {
		buf_free(&b);
		return -1;
	}
	j->p++;
	*out = buf_detach(&b, NULL);
	return 0;
}

static int jparse(struct jp *j, struct pq_json *v)
{
	memset(v, 0, sizeof(*v));
	ws(j);
	if (j->p >= j->end || ++j->depth > PQ_JSON_DEPTH)
		return -1;
	int rc = 0;
	char c = *j->p;
	if (c == '"') {
		v->t = PQ_J_STR;
		rc = jstr(j, &v->s);
	} else if (c == '[' || c == '{') {
		int obj = c == '{';
		v->t = obj ? PQ_J_OBJ : PQ_J_ARR;
		j->p++;
		ws(j);
		if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
			j->p++;
		} else {
			for (;;) {
				char *key = NULL;
				if (obj) {
					ws(j);
					if (j->p >= j->end || *j->p != '"' || jstr(j, &key) < 0)
						return -1;
					ws(j);
					if (j->p >= j->end || *j->p++ != ':') {
						free(key);
						return -1;
					}
				}
				v->kids = xreallocarray(v->kids, v->nk + 1, sizeof(*v->kids));
				if (obj)
					v->keys = xreallocarray(v->keys, v->nk + 1, sizeof(char *));
				if (obj)
					v->keys[v->nk] = key;
				rc = jparse(j, &v->kids[v->nk]);
				v->nk++;
				if (rc < 0)
					return -1;
				ws(j);
				if (j->p < j->end && *j->p == ',') {
					j->p++;
					continue;
				}
				if (j->p < j->end && *j->p == (obj ? '}' : ']')) {
					j->p++;
					break;
				}
				return -1;
			}
		}
	} else if (strncmp(j->p, "null", 4) == 0) {
		j->p += 4;
	} else if (strncmp(j->p, "true", 4) == 0 || strncmp(j->p, "false", 5) == 0) {
		v->t = PQ_J_BOOL;
		v->n = *j->p == 't';
		j->p += *j->p == 't' ? 4 : 5;
	} else {
		char *e;
		v->t = PQ_J_NUM;
		v->n = strtod(j->p, &e);
		if (e == j->p)
			return -1;
		j->p = e;
	}
	j->depth--;
	return rc;
}

const struct pq_json *pq_json_get(const struct pq_json *o, const char *key)
{
	if (!o || o->t != PQ_J_OBJ)
		return NULL;
	for (size_t i = 0; i < o->nk; i++)
		if (strcmp(o->keys[i], key) == 0)
			return &o->kids[i];
	return NULL;
}


int pq_json_parse(const char *p, size_t n, struct pq_json *v)
{
	struct jp j = { p, p + n, 0 };
	return jparse(&j, v);
}
