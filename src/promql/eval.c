/* eval.c — the evaluator's frame: arena, limits, selectors, subqueries,
 * dispatch, and turning the column-wise values into a pq_result. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "core/clock.h"
#include "core/xmalloc.h"
#include "promql/eval.h"

/* The staleness-marker test, inlined for the per-sample loops. */
static inline int stale(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	return b == STALE_NAN_BITS;
}

#define ARENA_CHUNK (256u << 10)	/* bytes per arena chunk (bigger asks get their own) */
#define DEFAULT_SUBQUERY_STEP 60000	/* ms, Prometheus's default evaluation interval */

struct pq_arena_chunk {
	struct pq_arena_chunk *next;	/* older chunk */
	size_t used, size;		/* bytes used, bytes in data */
	max_align_t data[];		/* the memory */
};

void *pq_alloc(struct pq_eval *ev, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	ev->arena_bytes += n;
	struct pq_arena_chunk *c = ev->arena;
	if (!c || c->size - c->used < n) {
		size_t sz = n > ARENA_CHUNK / 4 ? n : ARENA_CHUNK;
		struct pq_arena_chunk *nc = xmalloc(sizeof(*nc) + sz);
		nc->size = sz;
		nc->used = 0;
		if (c && n > ARENA_CHUNK / 4) {
			/* keep using the current chunk for small asks */
			nc->next = c->next;
			c->next = nc;
		} else {
			nc->next = c;
			ev->arena = nc;
		}
		c = nc;
	}
	void *p = (char *)c->data + c->used;
	c->used += n;
	memset(p, 0, n);
	return p;
}

struct labels *pq_keep(struct pq_eval *ev, struct labels *ls)
{
	if (ev->npool == ev->cappool) {
		ev->cappool = ev->cappool ? ev->cappool * 2 : 64;
		ev->pool = xreallocarray(ev->pool, ev->cappool, sizeof(*ev->pool));
	}
	ev->pool[ev->npool++] = ls;
	return ls;
}

int pq_fail(struct pq_eval *ev, int code, const char *fmt, ...)
{
	if (ev->err && ev->errsz) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(ev->err, ev->errsz, fmt, ap);
		va_end(ap);
	}
	return code;
}

void pq_note(struct pq_eval *ev, int warn, const struct pq_node *n, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	int line = 1, col = 1;
	for (int i = 0; n && i < n->pos && ev->qtext[i]; i++) {
		if (ev->qtext[i] == '\n') {
			line++;
			col = 1;
		} else {
			col++;
		}
	}
	char *s = xasprintf("PromQL %s: %s (%d:%d)", warn ? "warning" : "info", msg, line, col);
	for (size_t i = 0; i < ev->nnotes; i++) {
		if (strcmp(ev->notes[i], s) == 0) {
			free(s);
			return;
		}
	}
	if (ev->nnotes == PQ_NOTES_MAX) {
		free(s);
		return;
	}
	ev->note_warn[ev->nnotes] = warn;
	ev->notes[ev->nnotes++] = s;
}

int pq_check(struct pq_eval *ev)
{
	/* intermediate values count against the sample limit too (16 bytes a point) */
	if (ev->arena_bytes / 16 > ev->max_samples)
		return pq_fail(ev, PQ_ERR_TOO_MANY,
		    "query processing would load too many samples into memory in query execution");
	if (ev->deadline_ns && (++ev->tick & 255) == 0 && clock_mono_ns() > ev->deadline_ns)
		return pq_fail(ev, PQ_ERR_TIMEOUT, "query timed out in expression evaluation");
	return 0;
}

int pq_account(struct pq_eval *ev, size_t n)
{
	ev->cur_samples += n;
	if (ev->cur_samples > ev->max_samples)
		return pq_fail(ev, PQ_ERR_TOO_MANY,
		    "query processing would load too many samples into memory in query execution");
	return pq_check(ev);
}

struct pq_ser *pq_vec_alloc(struct pq_eval *ev, struct pq_val *out, size_t n)
{
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (n ? n : 1) * sizeof(struct pq_ser));
	out->n = n;
	for (size_t i = 0; i < n; i++) {
		out->s[i].v = pq_alloc(ev, ev->nsteps * sizeof(double));
		out->s[i].ok = pq_alloc(ev, ev->nsteps);
	}
	return out->s;
}

struct labels *pq_drop_name(struct pq_eval *ev, const struct labels *ls)
{
	if (!labels_get(ls, "__name__"))
		return (struct labels *)(uintptr_t)ls;
	struct label tmp[LABELS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < ls->n && k < LABELS_MAX; i++)
		if (strcmp(ls->v[i].name, "__name__") != 0)
			tmp[k++] = ls->v[i];
	return pq_keep(ev, labels_new(tmp, k));
}

static int in_names(const struct pq_strs *names, const char *s)
{
	for (size_t i = 0; names && i < names->n; i++)
		if (strcmp(names->v[i], s) == 0)
			return 1;
	return 0;
}

void pq_sig(struct pq_eval *ev, const struct labels *ls, const struct pq_strs *names, int include)
{
	buf_reset(&ev->key);
	buf_adds(&ev->key, "");
	for (size_t i = 0; i < ls->n; i++) {
		const char *nm = ls->v[i].name;
		int in = in_names(names, nm);
		if (include ? !in : (in || strcmp(nm, "__name__") == 0))
			continue;
		size_t a = strlen(nm), b = strlen(ls->v[i].value);
		if (buf_reserve(&ev->key, a + b + 2) < 0)
			break;
		char *p = ev->key.data + ev->key.len;
		memcpy(p, nm, a);
		p[a] = '\xff';
		memcpy(p + a + 1, ls->v[i].value, b);
		p[a + 1 + b] = '\xff';
		ev->key.len += a + b + 2;
		ev->key.data[ev->key.len] = 0;
	}
}

static void labels_key(struct buf *b, const struct labels *ls)
{
	buf_reset(b);
	buf_adds(b, "");
	for (size_t i = 0; i < ls->n; i++) {
		buf_adds(b, ls->v[i].name);
		buf_addc(b, '\xff');
		buf_adds(b, ls->v[i].value);
		buf_addc(b, '\xff');
	}
}

int pq_dedup(struct pq_eval *ev, struct pq_val *v)
{
	if (v->n < 2)
		return 0;
	struct hmap m;
	hmap_init(&m);
	size_t k = 0;
	int rc = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct pq_ser *s = &v->s[i];
		labels_key(&ev->key, s->ls);
		struct pq_ser *prev = hmap_get(&m, ev->key.data, ev->key.len);
		if (!prev) {
			v->s[k] = *s;
			hmap_put(&m, ev->key.data, ev->key.len, (void *)(uintptr_t)(k + 1));
			k++;
			continue;
		}
		struct pq_ser *d = &v->s[(uintptr_t)prev - 1];
		for (size_t j = 0; j < ev->nsteps; j++) {
			if (!s->ok[j])
				continue;
			if (d->ok[j]) {
				rc = pq_fail(ev, PQ_ERR_EXEC, "vector cannot contain metrics with the same labelset");
				goto out;
			}
			d->ok[j] = 1;
			d->v[j] = s->v[j];
			if (d->ts && s->ts)
				d->ts[j] = s->ts[j];
		}
	}
	v->n = k;
out:
	hmap_free(&m, NULL);
	return rc;
}

static int64_t at_time(const struct pq_eval *ev, enum pq_at at, int64_t at_ms)
{
	return at == PQ_AT_START ? ev->qstart : at == PQ_AT_END ? ev->qend : at_ms;
}

/* The last evaluation instant (end itself only when end - start is a
 * multiple of the step). Selects end there: a store may take the instants
 * to be maxt - k * step (select_hints.step_ms) and skip what none reads. */
static int64_t last_step(const struct pq_eval *ev)
{
	return pq_step_t(ev, ev->nsteps - 1);
}

static int do_select(struct pq_eval *ev, const struct pq_node *sel, int64_t mint, int64_t maxt,
    int64_t range, const char *func, struct storage_result **out)
{
	if (ev->nres == ev->capres) {
		ev->capres = ev->capres ? ev->capres * 2 : 8;
		ev->res = xreallocarray(ev->res, ev->capres, sizeof(*ev->res));
	}
	struct storage_result *r = &ev->res[ev->nres];
	memset(r, 0, sizeof(*r));
	struct select_hints h = {
		.step_ms = ev->nsteps > 1 ? ev->interval : 0,
		.range_ms = range,
		.func = func,
		.lookback_ms = range ? 0 : ev->lookback,	/* lets a store serve a tier's last */
		.max_samples = ev->max_samples - ev->cur_samples + 1,
	};
	char e[256] = "";
	int rc = ev->st->ops->select(ev->st->impl, sel->ms, sel->nms, mint, maxt, &h, r, e, sizeof(e));
	if (rc == -E2BIG)
		return pq_fail(ev, PQ_ERR_TOO_MANY,
		    "query processing would load too many samples into memory in query execution");
	if (rc < 0)
		return pq_fail(ev, PQ_ERR_EXEC, "%s", e[0] ? e : "select failed");
	ev->nres++;
	size_t total = 0;
	for (size_t i = 0; i < r->n; i++)
		total += r->series[i].n;
	*out = r;
	return pq_account(ev, total);
}

static int eval_vsel(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	int64_t off = n->offset_ms;
	int fixed = n->at != PQ_AT_NONE;
	int64_t at = at_time(ev, n->at, n->at_ms);
	int64_t tmin = (fixed ? at : ev->start) - off, tmax = (fixed ? at : last_step(ev)) - off;
	struct storage_result *r;
	int rc = do_select(ev, n, tmin - ev->lookback + 1, tmax, 0, NULL, &r);
	if (rc < 0)
		return rc;
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (r->n ? r->n : 1) * sizeof(struct pq_ser));
	out->n = 0;
	size_t points = 0;
	for (size_t i = 0; i < r->n; i++) {
		const struct storage_series *ss = &r->series[i];
		struct pq_ser *o = &out->s[out->n];
		o->ls = ss->labels;
		o->v = pq_alloc(ev, ev->nsteps * sizeof(double));
		o->ok = pq_alloc(ev, ev->nsteps);
		o->ts = ev->want_ts ? pq_alloc(ev, ev->nsteps * sizeof(int64_t)) : NULL;
		size_t j = 0, any = 0;
		for (size_t k = 0; k < ev->nsteps; k++) {
			int64_t T = (fixed ? at : pq_step_t(ev, k)) - off;
			while (j < ss->n && ss->t[j] <= T)
				j++;
			if (j == 0)
				continue;
			size_t x = j - 1;
			if (ss->t[x] <= T - ev->lookback || stale(ss->v[x]))
				continue;
			o->v[k] = ss->v[x];
			o->ok[k] = 1;
			if (o->ts)
				o->ts[k] = ss->t[x];
			any++;
		}
		if (any) {
			out->n++;
			points += any;
		}
		if ((rc = pq_check(ev)) < 0)
			return rc;
	}
	return pq_account(ev, points);
}

/* Drop staleness markers from a raw series (copying only when there are any). */
static void raw_from(struct pq_eval *ev, struct pq_raw *o, const struct labels *ls,
    const int64_t *t, const double *v, size_t n)
{
	size_t stale_n = 0;
	for (size_t i = 0; i < n; i++)
		stale_n += stale(v[i]);
	o->ls = (struct labels *)(uintptr_t)ls;
	if (!stale_n) {
		o->t = t;
		o->v = v;
		o->n = n;
		return;
	}
	int64_t *tt = pq_alloc(ev, (n - stale_n + 1) * sizeof(int64_t));
	double *vv = pq_alloc(ev, (n - stale_n + 1) * sizeof(double));
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (stale(v[i]))
			continue;
		tt[k] = t[i];
		vv[k++] = v[i];
	}
	o->t = tt;
	o->v = vv;
	o->n = k;
}

static int eval_msel(struct pq_eval *ev, const struct pq_node *n, const char *func, struct pq_val *out)
{
	const struct pq_node *vs = n->sub;
	int64_t off = vs->offset_ms;
	int fixed = vs->at != PQ_AT_NONE;
	int64_t at = at_time(ev, vs->at, vs->at_ms);
	int64_t tmin = (fixed ? at : ev->start) - off, tmax = (fixed ? at : last_step(ev)) - off;
	struct storage_result *r;
	int rc = do_select(ev, vs, tmin - n->range_ms + 1, tmax, n->range_ms, func, &r);
	if (rc < 0)
		return rc;
	out->type = PQ_VAL_MATRIX;
	out->m = pq_alloc(ev, (r->n ? r->n : 1) * sizeof(struct pq_raw));
	out->nm = r->n;
	out->range = n->range_ms;
	out->off = off;
	out->at = vs->at;
	out->at_ms = at;
	for (size_t i = 0; i < r->n; i++)
		raw_from(ev, &out->m[i], r->series[i].labels, r->series[i].t, r->series[i].v, r->series[i].n);
	return 0;
}

static int eval_subq(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	int64_t off = n->offset_ms, range = n->range_ms;
	int fixed = n->at != PQ_AT_NONE;
	int64_t at = at_time(ev, n->at, n->at_ms);
	int64_t ostart = fixed ? at : ev->start, oend = fixed ? at : ev->end;
	int64_t step = n->step_ms ? n->step_ms : DEFAULT_SUBQUERY_STEP;
	int64_t lo = ostart - off - range;
	int64_t s = step * (lo / step);
	if (s <= lo)
		s += step;
	int64_t e = oend - off;
	/* save the outer range, evaluate the inner one */
	int64_t sv_start = ev->start, sv_end = ev->end, sv_int = ev->interval;
	size_t sv_n = ev->nsteps;
	struct pq_val in;
	memset(&in, 0, sizeof(in));
	int rc = 0;
	if (e >= s) {
		if ((e - s) / step + 1 > (int64_t)PQ_STEPS_MAX * 100)
			return pq_fail(ev, PQ_ERR_EXEC, "subquery has too many steps");
		ev->start = s;
		ev->end = e;
		ev->interval = step;
		ev->nsteps = (size_t)((e - s) / step + 1);
		rc = pq_eval_node(ev, n->sub, &in);
	}
	size_t inner_n = ev->nsteps;
	int64_t inner_start = ev->start;
	ev->start = sv_start;
	ev->end = sv_end;
	ev->interval = sv_int;
	ev->nsteps = sv_n;
	if (rc < 0)
		return rc;
	out->type = PQ_VAL_MATRIX;
	out->range = range;
	out->off = off;
	out->at = n->at;
	out->at_ms = at;
	if (e < s)
		return 0;
	out->m = pq_alloc(ev, (in.n ? in.n : 1) * sizeof(struct pq_raw));
	size_t points = 0;
	for (size_t i = 0; i < in.n; i++) {
		struct pq_ser *x = &in.s[i];
		size_t c = 0;
		for (size_t k = 0; k < inner_n; k++)
			c += x->ok[k];
		if (!c)
			continue;
		int64_t *t = pq_alloc(ev, c * sizeof(int64_t));
		double *v = pq_alloc(ev, c * sizeof(double));
		c = 0;
		for (size_t k = 0; k < inner_n; k++) {
			if (!x->ok[k])
				continue;
			t[c] = inner_start + (int64_t)k * step;
			v[c++] = x->v[k];
		}
		struct pq_raw *o = &out->m[out->nm++];
		o->ls = x->ls;
		o->t = t;
		o->v = v;
		o->n = c;
		o->drop_name = x->drop_name;
		points += c;
	}
	return pq_account(ev, points);
}

/* Matrix arguments: a range selector or a subquery. */
static int eval_matrix(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	n = pq_unparen(n);
	if (n->kind == PQ_MSEL)
		return eval_msel(ev, n, NULL, out);
	if (n->kind == PQ_SUBQ)
		return eval_subq(ev, n, out);
	return pq_fail(ev, PQ_ERR_EXEC, "unexpected range vector expression");
}

static int eval_unary(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	int rc = pq_eval_node(ev, n->sub, out);
	if (rc < 0 || n->op != PQ_OP_SUB)
		return rc;
	if (out->type == PQ_VAL_SCALAR) {
		for (size_t k = 0; k < ev->nsteps; k++)
			out->sc[k] = -out->sc[k];
		return 0;
	}
	/* copy: selector arrays may be shared */
	for (size_t i = 0; i < out->n; i++) {
		struct pq_ser *s = &out->s[i];
		double *v = pq_alloc(ev, ev->nsteps * sizeof(double));
		for (size_t k = 0; k < ev->nsteps; k++)
			v[k] = -s->v[k];
		s->v = v;
		s->ts = NULL;
		s->drop_name = 1;
	}
	return 0;
}

int pq_eval_node(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	memset(out, 0, sizeof(*out));
	int rc = pq_check(ev);
	if (rc < 0)
		return rc;
	switch (n->kind) {
	case PQ_NUM:
		out->type = PQ_VAL_SCALAR;
		out->sc = pq_alloc(ev, ev->nsteps * sizeof(double));
		for (size_t k = 0; k < ev->nsteps; k++)
			out->sc[k] = n->num;
		return 0;
	case PQ_STR:
		out->type = PQ_VAL_STRING;
		out->str = n->str;
		return 0;
	case PQ_VSEL:
		return eval_vsel(ev, n, out);
	case PQ_MSEL:
	case PQ_SUBQ:
		return eval_matrix(ev, n, out);
	case PQ_PAREN:
		return pq_eval_node(ev, n->sub, out);
	case PQ_UNARY:
		return eval_unary(ev, n, out);
	case PQ_BINARY:
		return pq_eval_binary(ev, n, out);
	case PQ_CALL:
		return pq_eval_call(ev, n, out);
	case PQ_AGG:
		return pq_eval_agg(ev, n, out);
	}
	return pq_fail(ev, PQ_ERR_EXEC, "unknown expression");
}

/* Exported for functions.c: a matrix argument with a hint about the function. */
int pq_eval_matrix_arg(struct pq_eval *ev, const struct pq_node *n, const char *func, struct pq_val *out);
int pq_eval_matrix_arg(struct pq_eval *ev, const struct pq_node *n, const char *func, struct pq_val *out)
{
	memset(out, 0, sizeof(*out));
	const struct pq_node *u = pq_unparen(n);
	if (u->kind == PQ_MSEL)
		return eval_msel(ev, u, func, out);
	return eval_matrix(ev, u, out);
}

static void ev_free(struct pq_eval *ev)
{
	while (ev->arena) {
		struct pq_arena_chunk *c = ev->arena;
		ev->arena = c->next;
		free(c);
	}
	for (size_t i = 0; i < ev->npool; i++)
		labels_free(ev->pool[i]);
	free(ev->pool);
	for (size_t i = 0; i < ev->nres; i++)
		storage_result_free(&ev->res[i]);
	free(ev->res);
	for (size_t i = 0; i < ev->nnotes; i++)
		free(ev->notes[i]);
	buf_free(&ev->key);
}

void pq_result_free(struct pq_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		labels_free(r->series[i].labels);
		free(r->series[i].t);
		free(r->series[i].v);
	}
	free(r->series);
	free(r->str);
	for (size_t i = 0; i < r->nnotes; i++)
		free(r->notes[i]);
	free(r->notes);
	free(r->note_is_warn);
	memset(r, 0, sizeof(*r));
}

static int cmp_res_series(const void *a, const void *b)
{
	return labels_cmp(((const struct pq_series *)a)->labels, ((const struct pq_series *)b)->labels);
}

static int finish(struct pq_eval *ev, const struct pq_val *v, int range_query, struct pq_result *out)
{
	out->t = ev->start;
	if (v->type == PQ_VAL_SCALAR) {
		if (!range_query) {
			out->type = PQ_VAL_SCALAR;
			out->scalar = v->sc[0];
			return 0;
		}
		out->type = PQ_VAL_MATRIX;
		out->series = xcalloc(1, sizeof(*out->series));
		out->n = 1;
		out->series[0].labels = labels_new(NULL, 0);
		out->series[0].t = xcalloc(ev->nsteps, sizeof(int64_t));
		out->series[0].v = xcalloc(ev->nsteps, sizeof(double));
		out->series[0].n = ev->nsteps;
		for (size_t k = 0; k < ev->nsteps; k++) {
			out->series[0].t[k] = pq_step_t(ev, k);
			out->series[0].v[k] = v->sc[k];
		}
		return 0;
	}
	if (v->type == PQ_VAL_STRING) {
		out->type = PQ_VAL_STRING;
		out->str = xstrdup(v->str);
		return 0;
	}
	if (v->type == PQ_VAL_MATRIX) {
		out->type = PQ_VAL_MATRIX;
		out->series = xcalloc(v->nm ? v->nm : 1, sizeof(*out->series));
		int64_t T = (v->at != PQ_AT_NONE ? v->at_ms : ev->start) - v->off;
		for (size_t i = 0; i < v->nm; i++) {
			const struct pq_raw *r = &v->m[i];
			size_t lo = 0, hi = 0;
			while (lo < r->n && r->t[lo] <= T - v->range)
				lo++;
			hi = lo;
			while (hi < r->n && r->t[hi] <= T)
				hi++;
			if (hi == lo)
				continue;
			struct pq_series *o = &out->series[out->n++];
			o->labels = r->drop_name ? labels_dup(pq_drop_name(ev, r->ls)) : labels_dup(r->ls);
			o->n = hi - lo;
			o->t = xmalloc(o->n * sizeof(int64_t));
			o->v = xmalloc(o->n * sizeof(double));
			memcpy(o->t, r->t + lo, o->n * sizeof(int64_t));
			memcpy(o->v, r->v + lo, o->n * sizeof(double));
		}
		qsort(out->series, out->n, sizeof(*out->series), cmp_res_series);
		return 0;
	}
	/* vector: drop names now (delayed name removal), then check for collisions */
	struct pq_val w = *v;
	w.s = pq_alloc(ev, (v->n ? v->n : 1) * sizeof(struct pq_ser));
	w.n = 0;
	for (size_t i = 0; i < v->n; i++) {
		struct pq_ser s = v->s[i];
		if (s.drop_name)
			s.ls = pq_drop_name(ev, s.ls);
		w.s[w.n++] = s;
	}
	int rc = pq_dedup(ev, &w);
	if (rc < 0)
		return rc;
	out->type = range_query ? PQ_VAL_MATRIX : PQ_VAL_VECTOR;
	out->series = xcalloc(w.n ? w.n : 1, sizeof(*out->series));
	for (size_t i = 0; i < w.n; i++) {
		const struct pq_ser *s = &w.s[i];
		size_t c = 0;
		for (size_t k = 0; k < ev->nsteps; k++)
			c += s->ok[k];
		if (!c)
			continue;
		struct pq_series *o = &out->series[out->n++];
		o->labels = labels_dup(s->ls);
		o->t = xmalloc(c * sizeof(int64_t));
		o->v = xmalloc(c * sizeof(double));
		for (size_t k = 0; k < ev->nsteps; k++) {
			if (!s->ok[k])
				continue;
			o->t[o->n] = pq_step_t(ev, k);
			o->v[o->n++] = s->v[k];
		}
	}
	if (range_query)
		qsort(out->series, out->n, sizeof(*out->series), cmp_res_series);
	return 0;
}

static int run(struct storage *st, const struct pq_expr *e, int64_t start, int64_t end,
    int64_t step, int range_query, const struct pq_opts *o, struct pq_result *out,
    char *err, size_t errsz)
{
	struct pq_eval ev;
	memset(&ev, 0, sizeof(ev));
	memset(out, 0, sizeof(*out));
	ev.st = st;
	ev.start = ev.qstart = start;
	ev.end = ev.qend = end;
	ev.interval = step > 0 ? step : 1;
	ev.qstep = ev.interval;
	ev.range_query = range_query;
	ev.nsteps = (size_t)((end - start) / ev.interval + 1);
	ev.lookback = o && o->lookback_ms > 0 ? o->lookback_ms : PQ_DEFAULT_LOOKBACK;
	ev.max_samples = o && o->max_samples ? o->max_samples : PQ_DEFAULT_MAX_SAMPLES;
	ev.deadline_ns = o && o->timeout_ms > 0 ? clock_mono_ns() + o->timeout_ms * 1000000 : 0;
	ev.qtext = e->text;
	ev.err = err;
	ev.errsz = errsz;
	buf_init(&ev.key, LABELS_MAX * 2 * (size_t)LABEL_VALUE_MAX);
	if (err && errsz)
		err[0] = 0;
	struct pq_val v;
	int rc = pq_eval_node(&ev, e->root, &v);
	if (rc == 0)
		rc = finish(&ev, &v, range_query, out);
	if (rc == 0 && ev.nnotes) {
		out->notes = xcalloc(ev.nnotes, sizeof(char *));
		out->note_is_warn = xcalloc(ev.nnotes, sizeof(int));
		for (size_t i = 0; i < ev.nnotes; i++) {
			out->notes[i] = ev.notes[i];
			out->note_is_warn[i] = ev.note_warn[i];
			ev.notes[i] = NULL;
		}
		out->nnotes = ev.nnotes;
		ev.nnotes = 0;
	}
	if (rc < 0)
		pq_result_free(out);
	ev_free(&ev);
	return rc;
}

int pq_eval_instant(struct storage *st, const struct pq_expr *e, int64_t t_ms,
    const struct pq_opts *o, struct pq_result *out, char *err, size_t errsz)
{
	return run(st, e, t_ms, t_ms, 1, 0, o, out, err, errsz);
}

int pq_eval_range(struct storage *st, const struct pq_expr *e, int64_t start_ms,
    int64_t end_ms, int64_t step_ms, const struct pq_opts *o,
    struct pq_result *out, char *err, size_t errsz)
{
	memset(out, 0, sizeof(*out));
	enum pq_value_type t = e->root->type;
	if (t != PQ_VAL_SCALAR && t != PQ_VAL_VECTOR) {
		snprintf(err, errsz, "invalid expression type \"%s\" for range query, must be Scalar or instant Vector",
		    t == PQ_VAL_MATRIX ? "range vector" : "string");
		return PQ_ERR_BAD_DATA;
	}
	if (step_ms <= 0) {
		snprintf(err, errsz, "zero or negative query resolution step widths are not accepted. Try a positive integer");
		return PQ_ERR_BAD_DATA;
	}
	if (end_ms < start_ms) {
		snprintf(err, errsz, "end timestamp must not be before start time");
		return PQ_ERR_BAD_DATA;
	}
	if ((end_ms - start_ms) / step_ms > PQ_STEPS_MAX) {
		snprintf(err, errsz, "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
		return PQ_ERR_BAD_DATA;
	}
	return run(st, e, start_ms, end_ms, step_ms, 1, o, out, err, errsz);
}
