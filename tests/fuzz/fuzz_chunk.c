/* Fuzz the chunk decoder: any bytes must decode or fail cleanly, never
 * over-read; decoded timestamps must ascend; re-encoding what decoded must
 * give the same samples back bit for bit; the bulk reader agrees with the
 * iterator. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Copy so ASan catches any read past the end. */
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	struct chunk_iter it;
	size_t cap = chunk_count(p, size) + 1;	/* the iterator never yields more */
	int64_t *ts = malloc(sizeof(int64_t) * cap);
	double *vs = malloc(sizeof(double) * cap);
	size_t n = 0;
	/* Shared-timestamp chunks (CHUNK_DECT/XORST) refer into the file around
	 * them: let the input itself be that file. */
	int rc = chunk_iter_init_file(&it, p, size, p, size);
	while (rc == 0 && (rc = chunk_iter_next(&it, &ts[n], &vs[n])) == 1) {
		if ((n > 0 && ts[n] <= ts[n - 1]) || n + 1 >= cap)
			abort();
		n++;
		rc = 0;
	}
	/* The bulk reader (queries) must give the same samples and the same
	 * verdict, read in uneven runs. */
	{
		int64_t *bt = malloc(sizeof(int64_t) * cap);
		double *bv = malloc(sizeof(double) * cap);
		size_t bn = 0, got;
		int brc = chunk_iter_init_file(&it, p, size, p, size);
		int ok = brc == 0;
		while (ok && bn < cap) {
			size_t run = (bn % 7) + 1;
			if (run > cap - bn)
				run = cap - bn;
			if ((brc = chunk_iter_read(&it, bt + bn, bv + bn, run, &got)) < 0)
				ok = 0;
			bn += got;
			if (got < run)
				break;
		}
		size_t good = bn < n ? bn : n;
		for (size_t k = 0; k < good; k++)
			if (bt[k] != ts[k] || memcmp(&bv[k], &vs[k], 8) != 0)
				abort();
		/* same count and same error status as chunk_iter_next */
		if (bn != n || (brc < 0) != (rc < 0))
			abort();
		free(bt);
		free(bv);
	}
	if (rc == 0 && n > 0) {
		struct buf b;
		buf_init(&b, 1u << 26);
		if (chunk_encode(ts, vs, n, &b) != 0)
			abort();
		size_t i = 0;
		int64_t t;
		double v;
		if (chunk_iter_init(&it, b.data, b.len) != 0)
			abort();
		while (chunk_iter_next(&it, &t, &v) == 1) {
			if (t != ts[i] || memcmp(&v, &vs[i], 8) != 0)
				abort();
			i++;
		}
		if (i != n)
			abort();
		buf_free(&b);
		/* The head's appender (DECA, re-encoding, XOR) must agree too. */
		struct chunk_app a;
		chunk_app_init(&a);
		for (size_t k = 0; k < n; k++)
			chunk_app_add(&a, ts[k], vs[k]);
		i = 0;
		if (chunk_iter_init(&it, a.b, chunk_app_len(&a)) != 0)
			abort();
		while (chunk_iter_next(&it, &t, &v) == 1) {
			if (t != ts[i] || memcmp(&v, &vs[i], 8) != 0)
				abort();
			i++;
		}
		if (i != n)
			abort();
		chunk_app_free(&a);
	}
	free(ts);
	free(vs);
	free(p);
	return 0;
}
