/* binop.c — binary operators: scalar/scalar, vector/scalar, vector matching
 * (on/ignoring, group_left/right) and the set operators and/or/unless. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "promql/eval.h"
#include "promql/fn.h"

/* Apply op; return 1 to keep (comparisons filter), value in *out. */
static int elem(enum pq_op op, double l, double r, double *out)
{
	*out = l;
	switch (op) {
	case PQ_OP_ADD: *out = l + r; return 1;
	case PQ_OP_SUB: *out = l - r; return 1;
	case PQ_OP_MUL: *out = l * r; return 1;
	case PQ_OP_DIV: *out = l / r; return 1;
	case PQ_OP_MOD: *out = fmod(l, r); return 1;
	case PQ_OP_POW: *out = pow(l, r); return 1;
	case PQ_OP_ATAN2: *out = atan2(l, r); return 1;
	case PQ_OP_EQ: return l == r;
	case PQ_OP_NE: return l != r;
	case PQ_OP_GT: return l > r;
	case PQ_OP_LT: return l < r;
	case PQ_OP_GE: return l >= r;
	case PQ_OP_LE: return l <= r;
	default: return 0;
	}
}

static int drops_name(enum pq_op op)
{
	return !pq_op_is_cmp(op) && !pq_op_is_set(op);
}

static int scalar_scalar(struct pq_eval *ev, const struct pq_node *n, struct pq_val *l,
    struct pq_val *r, struct pq_val *out)
{
	out->type = PQ_VAL_SCALAR;
	out->sc = l->sc;
	for (size_t k = 0; k < ev->nsteps; k++) {
		double v;
		int keep = elem(n->op, l->sc[k], r->sc[k], &v);
		out->sc[k] = pq_op_is_cmp(n->op) ? (keep ? 1 : 0) : v;
	}
	return 0;
}

static int vector_scalar(struct pq_eval *ev, const struct pq_node *n, struct pq_val *vec,
    const double *sc, int swap, struct pq_val *out)
{
	int cmp = pq_op_is_cmp(n->op);
	*out = *vec;
	out->s = pq_alloc(ev, (vec->n ? vec->n : 1) * sizeof(struct pq_ser));
	out->n = 0;
	for (size_t i = 0; i < vec->n; i++) {
		const struct pq_ser *s = &vec->s[i];
		struct pq_ser *o = &out->s[out->n];
		o->ls = s->ls;
		o->v = pq_alloc(ev, ev->nsteps * sizeof(double));
		o->ok = pq_alloc(ev, ev->nsteps);
		o->drop_name = s->drop_name || drops_name(n->op) || n->return_bool;
		size_t any = 0;
		for (size_t k = 0; k < ev->nsteps; k++) {
			if (!s->ok[k])
				continue;
			double l = s->v[k], r = sc[k], v;
			if (swap) {
				l = sc[k];
				r = s->v[k];
			}
			int keep = elem(n->op, l, r, &v);
			if (cmp && swap)
				v = r;
			if (n->return_bool) {
				v = keep ? 1 : 0;
				keep = 1;
			}
			if (!keep)
				continue;
			o->v[k] = v;
			o->ok[k] = 1;
			any++;
		}
		if (any)
			out->n++;
	}
	return pq_check(ev);
}

/* Intern each series' matching signature as a small id. */
static size_t *sig_ids(struct pq_eval *ev, const struct pq_node *n, const struct pq_val *v,
    struct hmap *m, size_t *nids)
{
	size_t *ids = pq_alloc(ev, (v->n ? v->n : 1) * sizeof(size_t));
	for (size_t i = 0; i < v->n; i++) {
		pq_sig(ev, v->s[i].ls, &n->vm_labels, n->vm_set && n->vm_on);
		void *x = hmap_get(m, ev->key.data, ev->key.len);
		if (!x) {
			x = (void *)(uintptr_t)(++*nids);
			hmap_put(m, ev->key.data, ev->key.len, x);
		}
		ids[i] = (size_t)(uintptr_t)x - 1;
	}
	return ids;
}

static int set_op(struct pq_eval *ev, const struct pq_node *n, struct pq_val *l,
    struct pq_val *r, struct pq_val *out)
{
	struct hmap m;
	hmap_init(&m);
	size_t nids = 0;
	size_t *lid = sig_ids(ev, n, l, &m, &nids);
	size_t *rid = sig_ids(ev, n, r, &m, &nids);
	hmap_free(&m, NULL);
	size_t *stamp = pq_alloc(ev, (nids ? nids : 1) * sizeof(size_t));
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (l->n + r->n + 1) * sizeof(struct pq_ser));
	out->n = 0;
	/* lhs side: copy presence so we can filter per step */
	for (size_t i = 0; i < l->n; i++) {
		struct pq_ser *o = &out->s[out->n++];
		*o = l->s[i];
		if (n->op != PQ_OP_OR) {
			o->ok = pq_alloc(ev, ev->nsteps);
			memcpy(o->ok, l->s[i].ok, ev->nsteps);
		}
	}
	size_t nl = out->n;
	if (n->op == PQ_OP_OR) {
		for (size_t i = 0; i < r->n; i++) {
			struct pq_ser *o = &out->s[out->n++];
			*o = r->s[i];
			o->ok = pq_alloc(ev, ev->nsteps);
			memcpy(o->ok, r->s[i].ok, ev->nsteps);
		}
	}
	for (size_t k = 0; k < ev->nsteps; k++) {
		size_t gen = k + 1;
		const struct pq_val *mark = n->op == PQ_OP_OR ? l : r;
		const size_t *mid = n->op == PQ_OP_OR ? lid : rid;
		for (size_t i = 0; i < mark->n; i++)
			if (mark->s[i].ok[k])
				stamp[mid[i]] = gen;
		if (n->op == PQ_OP_OR) {
			for (size_t i = 0; i < r->n; i++)
				if (stamp[rid[i]] == gen)
					out->s[nl + i].ok[k] = 0;
		} else {
			for (size_t i = 0; i < l->n; i++) {
				int has = stamp[lid[i]] == gen;
				if (n->op == PQ_OP_AND ? !has : has)
					out->s[i].ok[k] = 0;
			}
		}
		int rc = pq_check(ev);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* {a="b", c="d"} with every label, __name__ included. */
static void fmt_full(const struct labels *ls, char *out, size_t n)
{
	struct buf b;
	buf_init(&b, n > 1 ? n - 1 : 1);
	buf_addc(&b, '{');
	for (size_t i = 0; i < ls->n; i++) {
		char q[1024];
		pq_goquote(ls->v[i].value, q, sizeof(q));
		buf_printf(&b, "%s%s=%s", i ? ", " : "", ls->v[i].name, q);
	}
	buf_addc(&b, '}');
	snprintf(out, n, "%s", b.data ? b.data : "{}");
	buf_free(&b);
}

static void fmt_match(struct pq_eval *ev, const struct pq_node *n, const struct labels *ls,
    char *buf, size_t bsz)
{
	struct label tmp[LABELS_MAX];
	size_t k = 0;
	for (size_t i = 0; i < ls->n && k < LABELS_MAX; i++) {
		int in = 0;
		for (size_t j = 0; j < n->vm_labels.n; j++)
			if (strcmp(n->vm_labels.v[j], ls->v[i].name) == 0)
				in = 1;
		if (n->vm_on ? in : (!in && strcmp(ls->v[i].name, "__name__") != 0))
			tmp[k++] = ls->v[i];
	}
	struct labels *m = labels_new(tmp, k);
	fmt_full(m, buf, bsz);
	labels_free(m);
	(void)ev;
}

static struct labels *result_labels(struct pq_eval *ev, const struct pq_node *n,
    const struct labels *ls, const struct labels *rs)
{
	struct labels_builder lb;
	lb_init(&lb);
	lb_reset(&lb, ls);
	if (n->card == PQ_CARD_ONE_TO_ONE) {
		if (n->vm_set && n->vm_on) {
			for (size_t i = 0; i < ls->n; i++) {
				int in = 0;
				for (size_t j = 0; j < n->vm_labels.n; j++)
					if (strcmp(n->vm_labels.v[j], ls->v[i].name) == 0)
						in = 1;
				if (!in)
					lb_del(&lb, ls->v[i].name);
			}
		} else {
			for (size_t j = 0; j < n->vm_labels.n; j++)
				lb_del(&lb, n->vm_labels.v[j]);
		}
	}
	for (size_t j = 0; j < n->include.n; j++) {
		const char *v = labels_get(rs, n->include.v[j]);
		if (v)
			lb_set(&lb, n->include.v[j], v);
		else
			lb_del(&lb, n->include.v[j]);
	}
	struct labels *out = lb_finish(&lb);
	lb_free(&lb);
	return pq_keep(ev, out);
}

static int vector_vector(struct pq_eval *ev, const struct pq_node *n, struct pq_val *l,
    struct pq_val *r, struct pq_val *out)
{
	int swap = n->card == PQ_CARD_ONE_TO_MANY;
	struct pq_val *L = swap ? r : l, *R = swap ? l : r;
	struct hmap m;
	hmap_init(&m);
	size_t nids = 0;
	size_t *lid = sig_ids(ev, n, L, &m, &nids);
	size_t *rid = sig_ids(ev, n, R, &m, &nids);
	hmap_free(&m, NULL);
	size_t sz = nids ? nids : 1;
	size_t *rstamp = pq_alloc(ev, sz * sizeof(size_t));
	size_t *ridx = pq_alloc(ev, sz * sizeof(size_t));
	size_t *lstamp = pq_alloc(ev, sz * sizeof(size_t));
	size_t *last_j = pq_alloc(ev, (L->n ? L->n : 1) * sizeof(size_t));	/* partner+1 last step */
	size_t *last_o = pq_alloc(ev, (L->n ? L->n : 1) * sizeof(size_t));	/* its output series */
	struct hmap pairs, bylabels;
	hmap_init(&pairs);
	hmap_init(&bylabels);
	out->type = PQ_VAL_VECTOR;
	size_t cap = 16;
	out->s = xcalloc(cap, sizeof(struct pq_ser));
	out->n = 0;
	int rc = 0;
	int cmp = pq_op_is_cmp(n->op);
	for (size_t k = 0; k < ev->nsteps && rc == 0; k++) {
		size_t gen = k + 1, lpresent = 0, rpresent = 0;
		for (size_t i = 0; i < L->n && !lpresent; i++)
			lpresent = L->s[i].ok[k];
		for (size_t j = 0; j < R->n && !rpresent; j++)
			rpresent = R->s[j].ok[k];
		if (!lpresent || !rpresent)
			continue;
		for (size_t j = 0; j < R->n; j++) {
			if (!R->s[j].ok[k])
				continue;
			size_t id = rid[j];
			if (rstamp[id] == gen) {
				char mb[1024], a[2048], b[2048];
				fmt_match(ev, n, R->s[j].ls, mb, sizeof(mb));
				fmt_full(R->s[j].ls, a, sizeof(a));
				fmt_full(R->s[ridx[id]].ls, b, sizeof(b));
				if (strcmp(a, b) > 0) {
					char t[2048];
					memcpy(t, a, sizeof(t));
					memcpy(a, b, sizeof(a));
					memcpy(b, t, sizeof(b));
				}
				rc = pq_fail(ev, PQ_ERR_EXEC, "found duplicate series for the match group %s on the %s hand-side of the operation: [%s, %s];many-to-many matching not allowed: matching labels must be unique on one side",
				    mb, swap ? "left" : "right", a, b);
				break;
			}
			rstamp[id] = gen;
			ridx[id] = j;
		}
		for (size_t i = 0; i < L->n && rc == 0; i++) {
			if (!L->s[i].ok[k])
				continue;
			size_t id = lid[i];
			if (rstamp[id] != gen)
				continue;
			if (n->card == PQ_CARD_ONE_TO_ONE) {
				if (lstamp[id] == gen) {
					rc = pq_fail(ev, PQ_ERR_EXEC, "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
					break;
				}
				lstamp[id] = gen;
			}
			size_t j = ridx[id];
			double fl = L->s[i].v[k], fr = R->s[j].v[k], v;
			if (swap) {
				double t = fl;
				fl = fr;
				fr = t;
			}
			int keep = elem(n->op, fl, fr, &v);
			if (n->return_bool) {
				v = keep ? 1 : 0;
				keep = 1;
			}
			if (!keep)
				continue;
			/* find or make the output series for this pair; a series
			 * usually meets the same partner at every step, so try the
			 * last one before the map */
			size_t key[2] = { i, j };
			size_t oi;
			void *x = NULL;
			if (last_j[i] == j + 1) {
				oi = last_o[i];
			} else if ((x = hmap_get(&pairs, key, sizeof(key)))) {
				oi = (size_t)(uintptr_t)x - 1;
			} else {
				struct labels *ls = result_labels(ev, n, L->s[i].ls, R->s[j].ls);
				buf_reset(&ev->key);
				labels_format(ls, &ev->key);
				void *y = hmap_get(&bylabels, ev->key.data, ev->key.len);
				if (y) {
					oi = (size_t)(uintptr_t)y - 1;
				} else {
					if (out->n == cap) {
						cap *= 2;
						out->s = xreallocarray(out->s, cap, sizeof(struct pq_ser));
					}
					oi = out->n++;
					struct pq_ser *o = &out->s[oi];
					memset(o, 0, sizeof(*o));
					o->ls = ls;
					o->v = pq_alloc(ev, ev->nsteps * sizeof(double));
					o->ok = pq_alloc(ev, ev->nsteps);
					o->drop_name = n->return_bool || drops_name(n->op) || (cmp && L->s[i].drop_name);
					hmap_put(&bylabels, ev->key.data, ev->key.len, (void *)(uintptr_t)(oi + 1));
				}
				hmap_put(&pairs, key, sizeof(key), (void *)(uintptr_t)(oi + 1));
			}
			last_j[i] = j + 1;
			last_o[i] = oi;
			struct pq_ser *o = &out->s[oi];
			if (o->ok[k]) {
				rc = pq_fail(ev, PQ_ERR_EXEC, n->card == PQ_CARD_ONE_TO_ONE ?
				    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)" :
				    "multiple matches for labels: grouping labels must ensure unique matches");
				break;
			}
			o->ok[k] = 1;
			o->v[k] = v;
		}
		if (rc == 0)
			rc = pq_check(ev);
	}
	hmap_free(&pairs, NULL);
	hmap_free(&bylabels, NULL);
	/* move the output into the arena so every value lives as long */
	struct pq_ser *s = pq_alloc(ev, (out->n ? out->n : 1) * sizeof(struct pq_ser));
	memcpy(s, out->s, out->n * sizeof(struct pq_ser));
	free(out->s);
	out->s = s;
	return rc;
}

int pq_eval_binary(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val l, r;
	int rc = pq_eval_node(ev, n->lhs, &l);
	if (rc < 0)
		return rc;
	rc = pq_eval_node(ev, n->rhs, &r);
	if (rc < 0)
		return rc;
	memset(out, 0, sizeof(*out));
	if (l.type == PQ_VAL_SCALAR && r.type == PQ_VAL_SCALAR)
		return scalar_scalar(ev, n, &l, &r, out);
	if (l.type == PQ_VAL_VECTOR && r.type == PQ_VAL_SCALAR)
		return vector_scalar(ev, n, &l, r.sc, 0, out);
	if (l.type == PQ_VAL_SCALAR && r.type == PQ_VAL_VECTOR)
		return vector_scalar(ev, n, &r, l.sc, 1, out);
	if (pq_op_is_set(n->op))
		return set_op(ev, n, &l, &r, out);
	return vector_vector(ev, n, &l, &r, out);
}
