/* Fuzz the downsampled tiers reader: parse any bytes as a tiers file and,
 * when they parse, decode every column of every series and tier. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/block.h"
#include "tsdb/crc32c.h"
#include "tsdb/tier.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	/* Half the inputs (by their first byte after the magic) get a valid
	 * checksum, so mutations reach the structure behind it. */
	if (size >= 20 && (data[8] & 1) == 0) {
		uint32_t crc = tsdb_crc32c(0, p + BLOCK_MAGIC_LEN, size - BLOCK_MAGIC_LEN - 4);
		for (int i = 0; i < 4; i++)
			p[size - 4 + i] = (uint8_t)(crc >> (8 * i));
	}
	struct tiers t;
	char err[256];
	memset(&t, 0, sizeof(t));
	if (tier_parse(p, size, UINT32_MAX, &t, err, sizeof(err)) == 0) {
		t.base = p;
		t.len = size;
		struct samples s = { 0 };
		for (uint32_t i = 0; i < t.nseries; i++)
			for (uint32_t k = 0; k < t.nres; k++)
				for (int c = 0; c < TIER_NCOLS; c++) {
					s.n = 0;
					tier_read(&t, i, (int)k, (enum tier_col)c, INT64_MIN, INT64_MAX, &s);
				}
		samples_free(&s);
		free(t.off);
	}
	free(p);
	return 0;
}
