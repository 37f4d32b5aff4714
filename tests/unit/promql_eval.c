/* promql_eval.c — evaluator behaviour the script corpus does not pin down:
 * select hints reach the store, limits and timeouts, staleness, errors. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/batch.h"
#include "promql/promql.h"
#include "tsdb/memstore.h"
#include "t.h"

static struct storage mem;
static struct select_hints last_hints;	/* what the store was last asked */
static int64_t last_mint, last_maxt;
static int nselects;

/* A store that records the hints and forwards to memstore. */
static int spy_select(void *impl, const struct matcher *ms, size_t nm, int64_t mint, int64_t maxt,
    const struct select_hints *h, struct storage_result *out, char *err, size_t errsz)
{
	(void)impl;
	last_hints = *h;
	last_mint = mint;
	last_maxt = maxt;
	nselects++;
	return mem.ops->select(mem.impl, ms, nm, mint, maxt, h, out, err, errsz);
}

static struct storage_ops spy_ops;
static struct storage spy;

static int eval(const char *q, int64_t t, const struct pq_opts *o, struct pq_result *r, char *err, size_t n)
{
	struct pq_expr *e;
	int rc = pq_parse(q, &e, err, n);
	if (rc < 0)
		return rc;
	rc = pq_eval_instant(&spy, e, t, o, r, err, n);
	pq_free(e);
	return rc;
}

static void add(const char *name, const char *job, int64_t t, double v)
{
	struct label l[2] = { { "__name__", name }, { "job", job } };
	struct labels *ls = labels_new(l, 2);
	mem.ops->append(mem.impl, ls, t, v);
	labels_free(ls);
}

T_TEST(hints_reach_store)
{
	struct pq_result r;
	char err[256];
	T_EQ_INT(eval("rate(cnt[5m] offset 1m)", 600000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(last_hints.range_ms, 300000);
	T_EQ_STR(last_hints.func, "rate");
	T_EQ_INT(last_maxt, 540000);
	T_EQ_INT(last_mint, 240001);
	T_CHECK(last_hints.max_samples > 0);
	pq_result_free(&r);
	T_EQ_INT(eval("cnt", 600000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(last_hints.range_ms, 0);
	T_CHECK(last_hints.func == NULL);
	T_EQ_INT(last_mint, 600000 - 300000 + 1);
	pq_result_free(&r);
}

T_TEST(staleness_and_lookback)
{
	struct pq_result r;
	char err[256];
	/* gauge{job=a} has samples every 15s to 120s, then a staleness marker at 135s */
	T_EQ_INT(eval("gauge", 130000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 1);
	pq_result_free(&r);
	T_EQ_INT(eval("gauge", 136000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 0);
	pq_result_free(&r);
	/* 5m lookback is left-open: the 120s sample is gone at exactly 420s */
	T_EQ_INT(eval("gauge", 120000 + 299999, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 0);	/* the marker at 135s hides it */
	pq_result_free(&r);
	struct pq_opts o = { .lookback_ms = 1000 };
	T_EQ_INT(eval("cnt{job=\"a\"}", 600999, &o, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 1);
	pq_result_free(&r);
	T_EQ_INT(eval("cnt{job=\"a\"}", 601000, &o, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 0);
	pq_result_free(&r);
	/* range vectors drop staleness markers; the window (0, 600s] is left-open */
	T_EQ_INT(eval("count_over_time(gauge[10m])", 600000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.n, 1);
	T_EQ_DBL(r.series[0].v[0], 8, 0);
	pq_result_free(&r);
}

T_TEST(sample_limit)
{
	struct pq_result r;
	char err[256];
	struct pq_opts o = { .max_samples = 10 };
	T_EQ_INT(eval("sum_over_time(cnt[10m])", 600000, &o, &r, err, sizeof(err)), PQ_ERR_TOO_MANY);
	T_EQ_STR(err, "query processing would load too many samples into memory in query execution");
	o.max_samples = 1000;
	T_EQ_INT(eval("sum_over_time(cnt[10m])", 600000, &o, &r, err, sizeof(err)), 0);
	pq_result_free(&r);
	/* intermediate points count too: a million-step subquery is refused */
	o.max_samples = 100000;
	T_EQ_INT(eval("max_over_time(sum(cnt)[1000000s:1s])", 1000000000, &o, &r, err, sizeof(err)), PQ_ERR_TOO_MANY);
}

T_TEST(timeout)
{
	struct pq_result r;
	char err[256];
	struct pq_opts o = { .timeout_ms = 1 };
	/* a subquery with a million steps cannot finish in 1ms */
	int rc = eval("max_over_time(sum(cnt)[1000000s:1s])", 1000000000, &o, &r, err, sizeof(err));
	T_EQ_INT(rc, PQ_ERR_TIMEOUT);
	T_EQ_STR(err, "query timed out in expression evaluation");
}

T_TEST(execution_errors)
{
	struct pq_result r;
	char err[512];
	T_EQ_INT(eval("cnt + on() cnt", 600000, NULL, &r, err, sizeof(err)), PQ_ERR_EXEC);
	T_CHECK(strncmp(err, "found duplicate series for the match group {} on the right hand-side", 67) == 0);
	T_EQ_INT(eval("label_replace(cnt, \"job\", \"x\", \"job\", \".*\")", 600000, NULL, &r, err, sizeof(err)), PQ_ERR_EXEC);
	T_EQ_STR(err, "vector cannot contain metrics with the same labelset");
	T_EQ_INT(eval("topk(scalar(nothing), cnt)", 600000, NULL, &r, err, sizeof(err)), PQ_ERR_EXEC);
	T_EQ_STR(err, "Parameter value is NaN");
}

T_TEST(range_query_shape)
{
	struct pq_expr *e;
	char err[256];
	T_EQ_INT(pq_parse("sum(cnt)", &e, err, sizeof(err)), 0);
	struct pq_result r;
	T_EQ_INT(pq_eval_range(&spy, e, 0, 600000, 60000, NULL, &r, err, sizeof(err)), 0);
	T_EQ_INT(r.type, PQ_VAL_MATRIX);
	T_EQ_INT(r.n, 1);
	T_EQ_INT(r.series[0].n, 11);
	T_EQ_DBL(r.series[0].v[10], 2 * 40, 0);
	T_EQ_INT(last_hints.step_ms, 60000);
	pq_result_free(&r);
	T_EQ_INT(pq_eval_range(&spy, e, 600000, 0, 60000, NULL, &r, err, sizeof(err)), PQ_ERR_BAD_DATA);
	pq_free(e);
}

int main(void)
{
	memstore_open(&mem);
	spy_ops = *mem.ops;
	spy_ops.select = spy_select;
	spy.ops = &spy_ops;
	spy.impl = mem.impl;
	for (int64_t t = 0; t <= 600000; t += 15000) {
		add("cnt", "a", t, (double)t / 15000);
		add("cnt", "b", t, (double)t / 15000);
		if (t <= 120000)
			add("gauge", "a", t, 1);
	}
	add("gauge", "a", 135000, stale_nan());
	mem.ops->commit(mem.impl);
	T_RUN(hints_reach_store);
	T_RUN(staleness_and_lookback);
	T_RUN(sample_limit);
	T_RUN(timeout);
	T_RUN(execution_errors);
	T_RUN(range_query_shape);
	mem.ops->close(mem.impl);
	return t_done();
}
