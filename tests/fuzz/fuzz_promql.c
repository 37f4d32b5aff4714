/*
 * fuzz_promql.c — libFuzzer harness for the PromQL parser, printer and
 * evaluator. Properties: no crash or leak on any input; whatever parses
 * prints back to text that parses again to the same text; evaluation on a
 * small store finishes within its limits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/batch.h"
#include "promql/promql.h"
#include "tsdb/memstore.h"

static struct storage st;
static int ready;

static void setup(void)
{
	memstore_open(&st);
	static const char *const names[] = { "foo", "bar", "up", "x_bucket" };
	static const char *const les[] = { "0.1", "1", "+Inf" };
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 3; j++) {
			struct label l[2] = { { "__name__", names[i] }, { "le", les[j] } };
			struct labels *ls = labels_new(l, 2);
			for (int64_t t = 0; t <= 600000; t += 15000)
				st.ops->append(st.impl, ls, t, t == 300000 ? stale_nan() : (double)(t / 1000 * (j + 1)));
			labels_free(ls);
		}
	st.ops->commit(st.impl);
	ready = 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!ready)
		setup();
	if (size > 8192)
		return 0;
	char *q = malloc(size + 1);
	memcpy(q, data, size);
	q[size] = 0;
	struct pq_expr *e = NULL;
	char err[512];
	if (pq_parse(q, &e, err, sizeof(err)) == 0) {
		struct buf a, b;
		buf_init(&a, 1 << 20);
		buf_init(&b, 1 << 20);
		pq_format(e, &a);
		struct pq_expr *e2 = NULL;
		if (pq_parse(a.data ? a.data : "", &e2, err, sizeof(err)) != 0)
			abort();	/* printed form must parse */
		pq_format(e2, &b);
		if (strcmp(a.data ? a.data : "", b.data ? b.data : "") != 0)
			abort();	/* and print the same again */
		pq_free(e2);
		buf_free(&a);
		buf_free(&b);
		struct pq_opts o = { .timeout_ms = 500, .max_samples = 200000 };
		struct pq_result r;
		if (pq_eval_instant(&st, e, 300000, &o, &r, err, sizeof(err)) == 0)
			pq_result_free(&r);
		enum pq_value_type t = pq_expr_type(e);
		if ((t == PQ_VAL_SCALAR || t == PQ_VAL_VECTOR) &&
		    pq_eval_range(&st, e, 0, 600000, 60000, &o, &r, err, sizeof(err)) == 0)
			pq_result_free(&r);
	}
	pq_free(e);
	free(q);
	return 0;
}
