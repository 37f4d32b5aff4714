/* Fuzz the WAL record decoder: any bytes must decode to a valid prefix
 * without over-reading; labels handed out must be valid label sets. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/crc32c.h"
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

/* Rewrite each record's CRC so mutations reach the record decoders. */
static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = 0;
	while (n - off >= WAL_HEADER) {
		uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
		    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
		if (len == 0 || len > n - off - WAL_HEADER)
			return;
		uint32_t crc = tsdb_crc32c(0, p + off + WAL_HEADER, len);
		for (int i = 0; i < 4; i++)
			p[off + 4 + i] = (uint8_t)(crc >> (8 * i));
		off += WAL_HEADER + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	if (size && (data[size - 1] & 1) == 0)
		fix_crcs(p, size);
	size_t samples = 0;
	struct wal_replay_ops ops = { &samples, on_series, on_sample, NULL, 1 };
	size_t good = wal_decode(p, size, &ops);
	if (good > size)
		abort();
	/* The valid prefix must decode again to exactly itself. */
	if (wal_decode(p, good, NULL) != good)
		abort();
	free(p);
	return 0;
}
