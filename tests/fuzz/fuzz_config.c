/* libFuzzer harness: the config loader on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c;
	char err[CONFIG_ERR_MAX];
	if (config_parse("fuzz.yml", (const char *)data, size, &c, err, sizeof(err)) == 0) {
		struct buf b;
		buf_init(&b, 1 << 16);
		config_get(c, "web.listen", &b);
		config_get(c, "storage.retention", &b);
		buf_free(&b);
		config_free(c);
	}
	return 0;
}
