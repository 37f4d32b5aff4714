/* Fuzz the block index reader: parse any bytes, and when they parse, walk
 * every series, label and postings list the way queries do. */
#include <stdlib.h>
#include <string.h>

#include "tsdb/block.h"
#include "tsdb/crc32c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	struct ixreader *ix;	/* reader */
	const char *name;	/* label being walked */
	uint32_t nseries;	/* bound for ids */
};

static void on_value(void *arg, const char *value)
{
	struct walk *w = arg;
	struct postings p = { 0 };
	w->ix->postings(w->ix->impl, w->name, value, &p);
	for (size_t i = 0; i < p.n; i++)
		if (p.v[i] >= w->nseries || (i && p.v[i] <= p.v[i - 1]))
			abort();
	postings_free(&p);
}

/* Rewrite each section's CRC so mutations reach the parser behind it. */
static void fix_crcs(uint8_t *p, size_t n)
{
	size_t off = BLOCK_MAGIC_LEN;
	while (off + 4 <= n) {
		uint32_t len = (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
		    (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
		if (len > n - off - 4 || n - off - 4 - len < 4)
			return;
		uint32_t crc = tsdb_crc32c(0, p + off + 4, len);
		for (int i = 0; i < 4; i++)
			p[off + 4 + len + i] = (uint8_t)(crc >> (8 * i));
		off += 8 + len;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *p = malloc(size ? size : 1);
	memcpy(p, data, size);
	/* Half the inputs (by their last byte) get valid checksums. */
	if (size && (data[size - 1] & 1) == 0)
		fix_crcs(p, size);
	struct block b;
	char err[256];
	memset(&b, 0, sizeof(b));
	if (block_index_parse(p, size, UINT64_MAX, &b.ix, err, sizeof(err)) == 0) {
		struct bseries s = { 0 };
		for (uint32_t i = 0; i < b.ix.nseries; i++) {
			if (block_index_series(&b.ix, i, &s) != 0)
				abort();	/* parse checked every series */
			labels_free(block_series_labels(&b, &s));
		}
		bseries_free(&s);
		struct ixreader ix;
		block_ixreader(&b, &ix);
		size_t it = 0, klen;
		const char *key;
		void *val;
		while (hmap_next(&b.ix.names, &it, &key, &klen, &val)) {
			struct walk w = { &ix, key, b.ix.nseries };
			ix.values(ix.impl, key, on_value, &w);
		}
		block_index_free(&b.ix);
	}
	free(p);
	return 0;
}
