/* functions.c — the function table and the instant-vector, scalar, label,
 * absent, sort and date functions. Range-vector functions are in
 * rangefn.c, classic histogram functions in histfn.c. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/xmalloc.h"
#include "promql/fn.h"

#define S PQ_VAL_SCALAR
#define V PQ_VAL_VECTOR
#define M PQ_VAL_MATRIX
#define STR PQ_VAL_STRING

void pq_goquote(const char *s, char *out, size_t n)
{
	struct buf b;
	buf_init(&b, n > 1 ? n - 1 : 1);
	buf_addc(&b, '"');
	const unsigned char *u = (const unsigned char *)s;
	for (size_t i = 0; u[i];) {
		unsigned char c = u[i];
		size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
		int valid = len > 0;
		for (size_t j = 1; valid && j < len; j++)
			valid = (u[i + j] & 0xC0) == 0x80;
		if (!valid) {
			buf_printf(&b, "\\x%02x", c);
			i++;
			continue;
		}
		if (len > 1) {
			buf_add(&b, u + i, len);
			i += len;
			continue;
		}
		if (c == '"' || c == '\\')
			buf_printf(&b, "\\%c", c);
		else if (c == '\n')
			buf_adds(&b, "\\n");
		else if (c == '\t')
			buf_adds(&b, "\\t");
		else if (c < 0x20 || c == 0x7f)
			buf_printf(&b, "\\x%02x", c);
		else
			buf_addc(&b, (char)c);
		i++;
	}
	buf_addc(&b, '"');
	snprintf(out, n, "%s", b.data ? b.data : "\"\"");
	buf_free(&b);
}

/* Evaluate argument i (scalar args give per-step arrays). */
static int arg(struct pq_eval *ev, const struct pq_node *n, size_t i, struct pq_val *v)
{
	return pq_eval_node(ev, n->args[i], v);
}

/* ---- element-wise math ---- */

static double f_sgn(double x) { return x > 0 ? 1 : x < 0 ? -1 : x; }
static double f_deg(double x) { return x * 180 / M_PI; }
static double f_rad(double x) { return x * M_PI / 180; }
static double f_ln(double x) { return log(x); }

struct mathfn {
	const char *name;	/* function name */
	double (*f)(double);	/* element function */
};

static const struct mathfn mathfns[] = {
	{ "abs", fabs }, { "ceil", ceil }, { "floor", floor }, { "exp", exp }, { "sqrt", sqrt },
	{ "ln", f_ln }, { "log2", log2 }, { "log10", log10 }, { "sgn", f_sgn }, { "deg", f_deg },
	{ "rad", f_rad }, { "sin", sin }, { "cos", cos }, { "tan", tan }, { "asin", asin },
	{ "acos", acos }, { "atan", atan }, { "sinh", sinh }, { "cosh", cosh }, { "tanh", tanh },
	{ "asinh", asinh }, { "acosh", acosh }, { "atanh", atanh },
};

/* Copy a vector's series headers with fresh value arrays, names dropped. */
static struct pq_ser *vec_like(struct pq_eval *ev, const struct pq_val *in, struct pq_val *out, int copy_ok)
{
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (in->n ? in->n : 1) * sizeof(struct pq_ser));
	out->n = in->n;
	for (size_t i = 0; i < in->n; i++) {
		struct pq_ser *o = &out->s[i];
		o->ls = in->s[i].ls;
		o->drop_name = 1;
		o->v = pq_alloc(ev, ev->nsteps * sizeof(double));
		if (copy_ok) {
			o->ok = in->s[i].ok;
		} else {
			o->ok = pq_alloc(ev, ev->nsteps);
		}
	}
	return out->s;
}

static int fn_math(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	double (*f)(double) = NULL;
	for (size_t i = 0; i < sizeof(mathfns) / sizeof(mathfns[0]); i++)
		if (strcmp(mathfns[i].name, n->func->name) == 0)
			f = mathfns[i].f;
	struct pq_val in;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	struct pq_ser *o = vec_like(ev, &in, out, 1);
	for (size_t i = 0; i < in.n; i++)
		for (size_t k = 0; k < ev->nsteps; k++)
			if (in.s[i].ok[k])
				o[i].v[k] = f(in.s[i].v[k]);
	return 0;
}

static int fn_round(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, to;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	memset(&to, 0, sizeof(to));
	if (n->nargs > 1 && (rc = arg(ev, n, 1, &to)) < 0)
		return rc;
	struct pq_ser *o = vec_like(ev, &in, out, 1);
	for (size_t k = 0; k < ev->nsteps; k++) {
		double inv = 1.0 / (n->nargs > 1 ? to.sc[k] : 1.0);
		for (size_t i = 0; i < in.n; i++)
			if (in.s[i].ok[k])
				o[i].v[k] = floor(in.s[i].v[k] * inv + 0.5) / inv;
	}
	return 0;
}

/* Go's math.Max / math.Min: a NaN argument gives NaN (C's fmax/fmin skip it). */
static double go_max(double a, double b)
{
	return (isnan(a) || isnan(b)) ? NAN : fmax(a, b);
}

static double go_min(double a, double b)
{
	return (isnan(a) || isnan(b)) ? NAN : fmin(a, b);
}

static int fn_clamp(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, a, b;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0 || (rc = arg(ev, n, 1, &a)) < 0)
		return rc;
	int which = strcmp(n->func->name, "clamp") == 0 ? 0 : strcmp(n->func->name, "clamp_min") == 0 ? 1 : 2;
	if (which == 0 && (rc = arg(ev, n, 2, &b)) < 0)
		return rc;
	struct pq_ser *o = vec_like(ev, &in, out, 0);
	for (size_t k = 0; k < ev->nsteps; k++) {
		double lo = which == 2 ? -INFINITY : a.sc[k];
		double hi = which == 0 ? b.sc[k] : which == 2 ? a.sc[k] : INFINITY;
		if (which == 0 && hi < lo)
			continue;
		for (size_t i = 0; i < in.n; i++) {
			if (!in.s[i].ok[k])
				continue;
			double v = in.s[i].v[k];
			if (which == 1)
				v = go_max(lo, v);
			else if (which == 2)
				v = go_min(hi, v);
			else
				v = go_max(lo, go_min(hi, v));
			o[i].v[k] = v;
			o[i].ok[k] = 1;
		}
	}
	return 0;
}

static int fn_minmax_of(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val a, b;
	int rc = arg(ev, n, 0, &a);
	if (rc < 0 || (rc = arg(ev, n, 1, &b)) < 0)
		return rc;
	int mx = strcmp(n->func->name, "max_of") == 0;
	out->type = PQ_VAL_SCALAR;
	out->sc = pq_alloc(ev, ev->nsteps * sizeof(double));
	for (size_t k = 0; k < ev->nsteps; k++) {
		double x = a.sc[k], y = b.sc[k];
		out->sc[k] = (isnan(x) || isnan(y)) ? NAN : mx ? fmax(x, y) : fmin(x, y);
	}
	return 0;
}

static int fn_timestamp(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	/* only a plain selector reports its samples' own timestamps */
	ev->want_ts = pq_unparen(n->args[0])->kind == PQ_VSEL;
	int rc = arg(ev, n, 0, &in);
	ev->want_ts = 0;
	if (rc < 0)
		return rc;
	struct pq_ser *o = vec_like(ev, &in, out, 1);
	for (size_t i = 0; i < in.n; i++)
		for (size_t k = 0; k < ev->nsteps; k++)
			if (in.s[i].ok[k])
				o[i].v[k] = (double)(in.s[i].ts ? in.s[i].ts[k] : pq_step_t(ev, k)) / 1000;
	return 0;
}

static int fn_scalar(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	out->type = PQ_VAL_SCALAR;
	out->sc = pq_alloc(ev, ev->nsteps * sizeof(double));
	for (size_t k = 0; k < ev->nsteps; k++) {
		size_t c = 0;
		double v = NAN;
		for (size_t i = 0; i < in.n && c < 2; i++)
			if (in.s[i].ok[k]) {
				c++;
				v = in.s[i].v[k];
			}
		out->sc[k] = c == 1 ? v : NAN;
	}
	return 0;
}

static int fn_vector(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	struct pq_ser *o = pq_vec_alloc(ev, out, 1);
	o->ls = pq_keep(ev, labels_new(NULL, 0));
	for (size_t k = 0; k < ev->nsteps; k++) {
		o->v[k] = in.sc[k];
		o->ok[k] = 1;
	}
	return 0;
}

static int fn_time(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	out->type = PQ_VAL_SCALAR;
	out->sc = pq_alloc(ev, ev->nsteps * sizeof(double));
	int pi = strcmp(n->func->name, "pi") == 0;
	for (size_t k = 0; k < ev->nsteps; k++)
		out->sc[k] = pi ? M_PI : (double)pq_step_t(ev, k) / 1000;
	return 0;
}

/* start(), end(), range(), step(): the query's own parameters, in seconds. */
static int fn_query_param(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	const char *f = n->func->name;
	double v;
	if (strcmp(f, "start") == 0)
		v = (double)ev->qstart / 1000;
	else if (strcmp(f, "end") == 0)
		v = (double)ev->qend / 1000;
	else if (strcmp(f, "range") == 0)
		v = (double)(ev->qend - ev->qstart) / 1000;
	else
		v = ev->range_query ? (double)ev->qstep / 1000 : 0;
	out->type = PQ_VAL_SCALAR;
	out->sc = pq_alloc(ev, ev->nsteps * sizeof(double));
	for (size_t k = 0; k < ev->nsteps; k++)
		out->sc[k] = v;
	return 0;
}

static int days_in(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return d[m - 1];
}

static int fn_date(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	const char *f = n->func->name;
	if (n->nargs == 0) {
		struct pq_ser *o = pq_vec_alloc(ev, &in, 1);
		o->ls = pq_keep(ev, labels_new(NULL, 0));
		for (size_t k = 0; k < ev->nsteps; k++) {
			o->v[k] = (double)pq_step_t(ev, k) / 1000;
			o->ok[k] = 1;
		}
	} else {
		int rc = arg(ev, n, 0, &in);
		if (rc < 0)
			return rc;
	}
	struct pq_ser *o = vec_like(ev, &in, out, 1);
	for (size_t i = 0; i < in.n; i++) {
		for (size_t k = 0; k < ev->nsteps; k++) {
			if (!in.s[i].ok[k])
				continue;
			double v = in.s[i].v[k];
			if (isnan(v) || isinf(v) || fabs(v) > 1e15) {
				o[i].v[k] = NAN;
				continue;
			}
			time_t t = (time_t)floor(v);
			struct tm tm;
			gmtime_r(&t, &tm);
			double r;
			if (strcmp(f, "day_of_month") == 0) r = tm.tm_mday;
			else if (strcmp(f, "day_of_week") == 0) r = tm.tm_wday;
			else if (strcmp(f, "day_of_year") == 0) r = tm.tm_yday + 1;
			else if (strcmp(f, "days_in_month") == 0) r = days_in(tm.tm_year + 1900, tm.tm_mon + 1);
			else if (strcmp(f, "hour") == 0) r = tm.tm_hour;
			else if (strcmp(f, "minute") == 0) r = tm.tm_min;
			else if (strcmp(f, "month") == 0) r = tm.tm_mon + 1;
			else r = tm.tm_year + 1900;
			o[i].v[k] = r;
		}
	}
	return 0;
}

/* ---- absent ---- */

static struct labels *absent_labels(struct pq_eval *ev, const struct pq_node *a)
{
	const struct pq_node *vs = a->kind == PQ_MSEL ? a->sub : a->kind == PQ_VSEL ? a : NULL;
	struct labels_builder lb;
	lb_init(&lb);
	if (vs) {
		const char *has[64];
		size_t nh = 0;
		for (size_t i = 0; i < vs->nms; i++) {
			const struct matcher *m = &vs->ms[i];
			if (strcmp(m->name, "__name__") == 0)
				continue;
			int seen = 0;
			for (size_t j = 0; j < nh; j++)
				seen |= strcmp(has[j], m->name) == 0;
			if (m->type == MATCH_EQ && !seen) {
				lb_set(&lb, m->name, m->value);
				if (nh < 64)
					has[nh++] = m->name;
			} else {
				lb_del(&lb, m->name);
			}
		}
	}
	struct labels *ls = lb_finish(&lb);
	lb_free(&lb);
	return pq_keep(ev, ls);
}

static int fn_absent(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	int over = n->args[0]->type == PQ_VAL_MATRIX;
	int rc = over ? pq_eval_matrix_arg(ev, n->args[0], n->func->name, &in) : arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	struct pq_val pres;
	if (over) {
		struct pq_ot_ctx c = { PQ_OT_PRESENT, NULL, NULL };
		if ((rc = pq_range_apply(ev, &in, 0, pq_w_over_time, &c, &pres)) < 0)
			return rc;
	} else {
		pres = in;
	}
	struct pq_ser *o = pq_vec_alloc(ev, out, 1);
	o->ls = absent_labels(ev, n->args[0]);
	for (size_t k = 0; k < ev->nsteps; k++) {
		int any = 0;
		for (size_t i = 0; i < pres.n && !any; i++)
			any = pres.s[i].ok[k];
		if (!any) {
			o->v[k] = 1;
			o->ok[k] = 1;
		}
	}
	return 0;
}

/* ---- labels ---- */

static int expand_repl(pcre2_code *re, pcre2_match_data *md, const char *subj,
    const char *tmpl, struct buf *b)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
	uint32_t ngroups = pcre2_get_ovector_count(md);
	for (const char *p = tmpl; *p;) {
		if (*p != '$') {
			buf_addc(b, *p++);
			continue;
		}
		p++;
		if (*p == '$') {
			buf_addc(b, '$');
			p++;
			continue;
		}
		char name[128];
		size_t nl = 0;
		int braced = *p == '{';
		const char *q = braced ? p + 1 : p;
		while ((isalnum((unsigned char)*q) || *q == '_') && nl < sizeof(name) - 1)
			name[nl++] = *q++;
		name[nl] = 0;
		if (braced) {
			if (*q != '}' || nl == 0) {
				buf_addc(b, '$');
				continue;
			}
			q++;
		} else if (nl == 0) {
			buf_addc(b, '$');
			continue;
		}
		p = q;
		long idx = -1;
		char *end;
		long num = strtol(name, &end, 10);
		if (*end == 0 && name[0] >= '0' && name[0] <= '9')
			idx = num;
		else
			idx = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
		if (idx >= 0 && (uint32_t)idx < ngroups && ov[2 * idx] != PCRE2_UNSET)
			buf_add(b, subj + ov[2 * idx], ov[2 * idx + 1] - ov[2 * idx]);
	}
	return 0;
}

static int fn_label_replace(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, dst, repl, src, rx;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0 || (rc = arg(ev, n, 1, &dst)) < 0 || (rc = arg(ev, n, 2, &repl)) < 0 ||
	    (rc = arg(ev, n, 3, &src)) < 0 || (rc = arg(ev, n, 4, &rx)) < 0)
		return rc;
	char *pat = xasprintf("^(?:%s)$", rx.str);
	int ecode;
	PCRE2_SIZE eoff;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_DOTALL | PCRE2_UTF, &ecode, &eoff, NULL);
	free(pat);
	if (!re) {
		PCRE2_UCHAR msg[128];
		pcre2_get_error_message(ecode, msg, sizeof(msg));
		return pq_fail(ev, PQ_ERR_EXEC, "invalid regular expression in label_replace(): %s", rx.str);
	}
	char q[512];
	pq_goquote(dst.str, q, sizeof(q));
	int valid = dst.str[0] != 0;
	for (const unsigned char *u = (const unsigned char *)dst.str; *u && valid; u++)
		if (*u >= 0x80 || (!isalnum(*u) && *u != '_') || (u == (const unsigned char *)dst.str && isdigit(*u)))
			valid = 0;
	if (!valid) {
		pcre2_code_free(re);
		return pq_fail(ev, PQ_ERR_EXEC, "invalid destination label name in label_replace(): %s", dst.str);
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (in.n ? in.n : 1) * sizeof(struct pq_ser));
	out->n = in.n;
	struct buf b;
	buf_init(&b, LABEL_VALUE_MAX);
	for (size_t i = 0; i < in.n; i++) {
		struct pq_ser *o = &out->s[i];
		*o = in.s[i];
		o->ts = NULL;
		const char *sv = labels_get(in.s[i].ls, src.str);
		if (!sv)
			sv = "";
		if (pcre2_match(re, (PCRE2_SPTR)sv, strlen(sv), 0, 0, md, NULL) < 0)
			continue;
		buf_reset(&b);
		buf_adds(&b, "");
		expand_repl(re, md, sv, repl.str, &b);
		struct labels_builder lb;
		lb_init(&lb);
		lb_reset(&lb, in.s[i].ls);
		lb_set(&lb, dst.str, b.data);
		o->ls = pq_keep(ev, lb_finish(&lb));
		lb_free(&lb);
		if (strcmp(dst.str, "__name__") == 0)
			o->drop_name = 0;
	}
	buf_free(&b);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return pq_dedup(ev, out);
}

static int fn_label_join(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in, dst, sep;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0 || (rc = arg(ev, n, 1, &dst)) < 0 || (rc = arg(ev, n, 2, &sep)) < 0)
		return rc;
	const char **srcs = pq_alloc(ev, (n->nargs + 1) * sizeof(char *));
	size_t ns = 0;
	for (size_t j = 3; j < n->nargs; j++) {
		struct pq_val s;
		if ((rc = arg(ev, n, j, &s)) < 0)
			return rc;
		srcs[ns++] = s.str;
	}
	out->type = PQ_VAL_VECTOR;
	out->s = pq_alloc(ev, (in.n ? in.n : 1) * sizeof(struct pq_ser));
	out->n = in.n;
	struct buf b;
	buf_init(&b, LABELS_MAX * (size_t)LABEL_VALUE_MAX);
	for (size_t i = 0; i < in.n; i++) {
		struct pq_ser *o = &out->s[i];
		*o = in.s[i];
		o->ts = NULL;
		buf_reset(&b);
		buf_adds(&b, "");
		for (size_t j = 0; j < ns; j++) {
			const char *v = labels_get(in.s[i].ls, srcs[j]);
			if (j)
				buf_adds(&b, sep.str);
			buf_adds(&b, v ? v : "");
		}
		struct labels_builder lb;
		lb_init(&lb);
		lb_reset(&lb, in.s[i].ls);
		lb_set(&lb, dst.str, b.data);
		o->ls = pq_keep(ev, lb_finish(&lb));
		lb_free(&lb);
		if (strcmp(dst.str, "__name__") == 0)
			o->drop_name = 0;
	}
	buf_free(&b);
	return pq_dedup(ev, out);
}

/* ---- sorting (instant queries only change order) ---- */

struct sort_ctx {
	int mode;		/* 0 asc, 1 desc, 2 by label, 3 by label desc */
	const char **names;	/* sort_by_label names */
	size_t nn;		/* names */
};


static int natcmp(const char *a, const char *b)
{
	while (*a && *b) {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *as = a, *bs = b;
			while (*as == '0') as++;
			while (*bs == '0') bs++;
			const char *ae = as, *be = bs;
			while (isdigit((unsigned char)*ae)) ae++;
			while (isdigit((unsigned char)*be)) be++;
			if (ae - as != be - bs)
				return (ae - as) < (be - bs) ? -1 : 1;
			int c = strncmp(as, bs, (size_t)(ae - as));
			if (c)
				return c;
			a = ae;
			b = be;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	return *a ? 1 : *b ? -1 : 0;
}

static int sort_cmp(const struct sort_ctx *sc, const struct pq_ser *a, const struct pq_ser *b)
{
	if (sc->mode < 2) {
		double va = a->v[0], vb = b->v[0];
		if (isnan(va) || isnan(vb))
			return isnan(va) && isnan(vb) ? 0 : isnan(va) ? 1 : -1;
		if (va == vb)
			return 0;
		return (sc->mode == 0) == (va < vb) ? -1 : 1;
	}
	for (size_t i = 0; i < sc->nn; i++) {
		const char *la = labels_get(a->ls, sc->names[i]), *lb = labels_get(b->ls, sc->names[i]);
		int c = natcmp(la ? la : "", lb ? lb : "");
		if (c)
			return sc->mode == 3 ? -c : c;
	}
	int c = labels_cmp(a->ls, b->ls);
	return sc->mode == 3 ? -c : c;
}

/* Stable merge sort of v[0..n) using tmp (n slots): ties keep input order. */
static void merge_sort(const struct sort_ctx *c, struct pq_ser *v, struct pq_ser *tmp, size_t n)
{
	if (n < 2)
		return;
	size_t h = n / 2;
	merge_sort(c, v, tmp, h);
	merge_sort(c, v + h, tmp, n - h);
	size_t i = 0, j = h, k = 0;
	while (i < h && j < n)
		tmp[k++] = sort_cmp(c, &v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	memcpy(v, tmp, n * sizeof(*v));
}

static int fn_sort(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	int rc = arg(ev, n, 0, out);
	if (rc < 0)
		return rc;
	const char *f = n->func->name;
	if (ev->range_query)
		pq_note(ev, 1, n, "sort is ineffective for range queries since results are always ordered by labels");
	if (ev->nsteps != 1)
		return 0;
	struct sort_ctx c = { 0, NULL, 0 };
	if (strcmp(f, "sort_desc") == 0)
		c.mode = 1;
	else if (strncmp(f, "sort_by_label", 13) == 0) {
		c.mode = strcmp(f, "sort_by_label_desc") == 0 ? 3 : 2;
		c.names = pq_alloc(ev, n->nargs * sizeof(char *));
		for (size_t j = 1; j < n->nargs; j++) {
			struct pq_val s;
			if ((rc = arg(ev, n, j, &s)) < 0)
				return rc;
			c.names[c.nn++] = s.str;
		}
	}
	struct pq_ser *tmp = pq_alloc(ev, (out->n ? out->n : 1) * sizeof(struct pq_ser));
	merge_sort(&c, out->s, tmp, out->n);
	return 0;
}

/* ---- range-vector dispatch ---- */

static int fn_range(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	const char *f = n->func->name;
	size_t mi = 0;
	while (mi < n->nargs && n->args[mi]->type != PQ_VAL_MATRIX)
		mi++;
	struct pq_val p0, p1, p2;
	memset(&p0, 0, sizeof(p0));
	memset(&p1, 0, sizeof(p1));
	memset(&p2, 0, sizeof(p2));
	int rc;
	/* scalar parameters first, in order */
	if (mi > 0 && (rc = arg(ev, n, 0, &p0)) < 0)
		return rc;
	if (n->nargs > mi + 1 && (rc = arg(ev, n, mi + 1, &p1)) < 0)
		return rc;
	if (n->nargs > mi + 2 && (rc = arg(ev, n, mi + 2, &p2)) < 0)
		return rc;
	struct pq_val m;
	if ((rc = pq_eval_matrix_arg(ev, n->args[mi], f, &m)) < 0)
		return rc;
	int mode;
	if (strcmp(f, "rate") == 0 || strcmp(f, "increase") == 0 || strcmp(f, "delta") == 0) {
		mode = (strcmp(f, "delta") != 0) | (strcmp(f, "rate") == 0 ? 2 : 0);
		if (mode & 1) {
			const struct pq_node *a = pq_unparen(n->args[0]);
			for (size_t i = 0; a->kind == PQ_MSEL && i < m.nm; i++) {
				const char *name = labels_get(m.m[i].ls, "__name__");
				size_t l = name ? strlen(name) : 0;
				if (!name || m.m[i].n == 0)
					continue;
#define ENDS(s) (l >= strlen(s) && strcmp(name + l - strlen(s), s) == 0)
				if (!ENDS("_total") && !ENDS("_sum") && !ENDS("_count") && !ENDS("_bucket")) {
					char q[512];
					pq_goquote(name, q, sizeof(q));
					pq_note(ev, 0, n->args[0], "metric might not be a counter, name does not end in _total/_sum/_count/_bucket: %s", q);
				}
#undef ENDS
			}
		}
		return pq_range_apply(ev, &m, 0, pq_w_extrapolated, &mode, out);
	}
	if (strcmp(f, "irate") == 0 || strcmp(f, "idelta") == 0) {
		mode = strcmp(f, "irate") == 0;
		return pq_range_apply(ev, &m, 0, pq_w_instant, &mode, out);
	}
	if (strcmp(f, "deriv") == 0)
		return pq_range_apply(ev, &m, 0, pq_w_deriv, NULL, out);
	if (strcmp(f, "predict_linear") == 0)
		return pq_range_apply(ev, &m, 0, pq_w_predict, p1.sc, out);
	if (strcmp(f, "changes") == 0 || strcmp(f, "resets") == 0) {
		mode = strcmp(f, "resets") == 0;
		return pq_range_apply(ev, &m, 0, pq_w_changes, &mode, out);
	}
	static const struct { const char *name; enum pq_ot k; int keep; } ots[] = {
		{ "avg_over_time", PQ_OT_AVG, 0 }, { "sum_over_time", PQ_OT_SUM, 0 },
		{ "count_over_time", PQ_OT_COUNT, 0 }, { "present_over_time", PQ_OT_PRESENT, 0 },
		{ "last_over_time", PQ_OT_LAST, 1 }, { "first_over_time", PQ_OT_FIRST, 1 },
		{ "ts_of_last_over_time", PQ_OT_TS_LAST, 0 }, { "ts_of_first_over_time", PQ_OT_TS_FIRST, 0 },
		{ "min_over_time", PQ_OT_MIN, 0 }, { "max_over_time", PQ_OT_MAX, 0 },
		{ "ts_of_min_over_time", PQ_OT_TS_MIN, 0 }, { "ts_of_max_over_time", PQ_OT_TS_MAX, 0 },
		{ "stddev_over_time", PQ_OT_STDDEV, 0 }, { "stdvar_over_time", PQ_OT_STDVAR, 0 },
		{ "quantile_over_time", PQ_OT_QUANTILE, 0 }, { "mad_over_time", PQ_OT_MAD, 0 },
		{ "double_exponential_smoothing", PQ_OT_HOLT, 0 },
	};
	for (size_t i = 0; i < sizeof(ots) / sizeof(ots[0]); i++) {
		if (strcmp(ots[i].name, f) != 0)
			continue;
		struct pq_ot_ctx c = { ots[i].k, NULL, NULL };
		if (ots[i].k == PQ_OT_QUANTILE) {
			c.param = p0.sc;
			for (size_t k = 0; k < ev->nsteps; k++) {
				double q = p0.sc[k];
				if (isnan(q) || q < 0 || q > 1) {
					char a[64];
					pq_fmt_float(q, a, sizeof(a));
					pq_note(ev, 1, n->args[0], "quantile value should be between 0 and 1, got %s", a);
				}
			}
		}
		if (ots[i].k == PQ_OT_HOLT) {
			c.param = p1.sc;
			c.param2 = p2.sc;
			for (size_t k = 0; k < ev->nsteps; k++) {
				if (!(p1.sc[k] > 0 && p1.sc[k] < 1))
					return pq_fail(ev, PQ_ERR_EXEC, "invalid smoothing factor. Expected: 0 < sf < 1, got: %f", p1.sc[k]);
				if (!(p2.sc[k] > 0 && p2.sc[k] < 1))
					return pq_fail(ev, PQ_ERR_EXEC, "invalid trend factor. Expected: 0 < tf < 1, got: %f", p2.sc[k]);
			}
		}
		return pq_range_apply(ev, &m, ots[i].keep, pq_w_over_time, &c, out);
	}
	return pq_fail(ev, PQ_ERR_EXEC, "unknown function %s", f);
}

/* Native-histogram-only functions: float samples are ignored, so nothing comes out. */
static int fn_native_only(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	struct pq_val in;
	int rc = arg(ev, n, 0, &in);
	if (rc < 0)
		return rc;
	out->type = PQ_VAL_VECTOR;
	out->n = 0;
	out->s = NULL;
	return 0;
}

static const struct pq_func funcs[] = {
	{ "abs", { V }, 1, 0, V, fn_math },
	{ "absent", { V }, 1, 0, V, fn_absent },
	{ "absent_over_time", { M }, 1, 0, V, fn_absent },
	{ "acos", { V }, 1, 0, V, fn_math },
	{ "acosh", { V }, 1, 0, V, fn_math },
	{ "asin", { V }, 1, 0, V, fn_math },
	{ "asinh", { V }, 1, 0, V, fn_math },
	{ "atan", { V }, 1, 0, V, fn_math },
	{ "atanh", { V }, 1, 0, V, fn_math },
	{ "avg_over_time", { M }, 1, 0, V, fn_range },
	{ "ceil", { V }, 1, 0, V, fn_math },
	{ "changes", { M }, 1, 0, V, fn_range },
	{ "clamp", { V, S, S }, 3, 0, V, fn_clamp },
	{ "clamp_max", { V, S }, 2, 0, V, fn_clamp },
	{ "clamp_min", { V, S }, 2, 0, V, fn_clamp },
	{ "cos", { V }, 1, 0, V, fn_math },
	{ "cosh", { V }, 1, 0, V, fn_math },
	{ "count_over_time", { M }, 1, 0, V, fn_range },
	{ "day_of_month", { V }, 0, 1, V, fn_date },
	{ "day_of_week", { V }, 0, 1, V, fn_date },
	{ "day_of_year", { V }, 0, 1, V, fn_date },
	{ "days_in_month", { V }, 0, 1, V, fn_date },
	{ "deg", { V }, 1, 0, V, fn_math },
	{ "delta", { M }, 1, 0, V, fn_range },
	{ "deriv", { M }, 1, 0, V, fn_range },
	{ "double_exponential_smoothing", { M, S, S }, 3, 0, V, fn_range },
	{ "end", { PQ_VAL_NONE }, 0, 0, S, fn_query_param },
	{ "exp", { V }, 1, 0, V, fn_math },
	{ "first_over_time", { M }, 1, 0, V, fn_range },
	{ "floor", { V }, 1, 0, V, fn_math },
	{ "histogram_avg", { V }, 1, 0, V, fn_native_only },
	{ "histogram_count", { V }, 1, 0, V, fn_native_only },
	{ "histogram_fraction", { S, S, V }, 3, 0, V, pq_fn_histogram_fraction },
	{ "histogram_quantile", { S, V }, 2, 0, V, pq_fn_histogram_quantile },
	{ "histogram_quantiles", { V, STR, S }, 3, -1, V, pq_fn_histogram_quantiles },
	{ "histogram_stddev", { V }, 1, 0, V, fn_native_only },
	{ "histogram_stdvar", { V }, 1, 0, V, fn_native_only },
	{ "histogram_sum", { V }, 1, 0, V, fn_native_only },
	{ "hour", { V }, 0, 1, V, fn_date },
	{ "idelta", { M }, 1, 0, V, fn_range },
	{ "increase", { M }, 1, 0, V, fn_range },
	{ "irate", { M }, 1, 0, V, fn_range },
	{ "label_join", { V, STR, STR, STR }, 3, -1, V, fn_label_join },
	{ "label_replace", { V, STR, STR, STR, STR }, 5, 0, V, fn_label_replace },
	{ "last_over_time", { M }, 1, 0, V, fn_range },
	{ "ln", { V }, 1, 0, V, fn_math },
	{ "log10", { V }, 1, 0, V, fn_math },
	{ "log2", { V }, 1, 0, V, fn_math },
	{ "mad_over_time", { M }, 1, 0, V, fn_range },
	{ "max_of", { S, S }, 2, 0, S, fn_minmax_of },
	{ "max_over_time", { M }, 1, 0, V, fn_range },
	{ "min_of", { S, S }, 2, 0, S, fn_minmax_of },
	{ "min_over_time", { M }, 1, 0, V, fn_range },
	{ "minute", { V }, 0, 1, V, fn_date },
	{ "month", { V }, 0, 1, V, fn_date },
	{ "pi", { PQ_VAL_NONE }, 0, 0, S, fn_time },
	{ "predict_linear", { M, S }, 2, 0, V, fn_range },
	{ "present_over_time", { M }, 1, 0, V, fn_range },
	{ "quantile_over_time", { S, M }, 2, 0, V, fn_range },
	{ "rad", { V }, 1, 0, V, fn_math },
	{ "range", { PQ_VAL_NONE }, 0, 0, S, fn_query_param },
	{ "rate", { M }, 1, 0, V, fn_range },
	{ "resets", { M }, 1, 0, V, fn_range },
	{ "round", { V, S }, 1, 1, V, fn_round },
	{ "scalar", { V }, 1, 0, S, fn_scalar },
	{ "sgn", { V }, 1, 0, V, fn_math },
	{ "sin", { V }, 1, 0, V, fn_math },
	{ "sinh", { V }, 1, 0, V, fn_math },
	{ "sort", { V }, 1, 0, V, fn_sort },
	{ "sort_by_label", { V, STR }, 1, -1, V, fn_sort },
	{ "sort_by_label_desc", { V, STR }, 1, -1, V, fn_sort },
	{ "sort_desc", { V }, 1, 0, V, fn_sort },
	{ "sqrt", { V }, 1, 0, V, fn_math },
	{ "start", { PQ_VAL_NONE }, 0, 0, S, fn_query_param },
	{ "stddev_over_time", { M }, 1, 0, V, fn_range },
	{ "step", { PQ_VAL_NONE }, 0, 0, S, fn_query_param },
	{ "stdvar_over_time", { M }, 1, 0, V, fn_range },
	{ "sum_over_time", { M }, 1, 0, V, fn_range },
	{ "tan", { V }, 1, 0, V, fn_math },
	{ "tanh", { V }, 1, 0, V, fn_math },
	{ "time", { PQ_VAL_NONE }, 0, 0, S, fn_time },
	{ "timestamp", { V }, 1, 0, V, fn_timestamp },
	{ "ts_of_first_over_time", { M }, 1, 0, V, fn_range },
	{ "ts_of_last_over_time", { M }, 1, 0, V, fn_range },
	{ "ts_of_max_over_time", { M }, 1, 0, V, fn_range },
	{ "ts_of_min_over_time", { M }, 1, 0, V, fn_range },
	{ "vector", { S }, 1, 0, V, fn_vector },
	{ "year", { V }, 0, 1, V, fn_date },
};

const struct pq_func *pq_func_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (strcmp(funcs[i].name, name) == 0)
			return &funcs[i];
	return NULL;
}

int pq_eval_call(struct pq_eval *ev, const struct pq_node *n, struct pq_val *out)
{
	memset(out, 0, sizeof(*out));
	return n->func->call(ev, n, out);
}
