/* libFuzzer harness: remote_write bodies (snappy + protobuf) from the network. */
#include <stddef.h>
#include <stdint.h>

#include "api/remote_write.h"

static int cb(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	(void)ctx;
	(void)ls;
	(void)ts;
	(void)v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	rw_decode(data, size, cb, NULL, err, sizeof(err));
	return 0;
}
