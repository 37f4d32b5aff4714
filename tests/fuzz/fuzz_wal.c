/* Fuzz the WAL record decoder: any bytes must decode to a valid prefix
 * without over-reading; labels handed out must be valid label sets. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/wal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_series(void *arg, uint64_t ref, const struct labels *ls)
{
	(void)arg;
	(void)ref;
	if (ls->n == 0)
		abort();
	for (size_t i = 1; i < ls->n; i++)
		if (strcmp(ls->v[i - 1].name, ls->v[i].name) >= 0)
			abort();
}

static void on_sample(void *arg, uint64_t ref, int64_t t, double v)
{
	(void)ref;
	(void)t;
	(void)v;
	(*(size_t *)arg)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	size_t samples = 0;
	struct wal_replay_ops ops = { &samples, on_series, on_sample, 1 };
	size_t good = wal_decode(p, size, &ops);
	if (good > size)
		abort();
	/* The valid prefix must decode again to exactly itself. */
	if (wal_decode(p, good, NULL) != good)
		abort();
	free(p);
	return 0;
}
