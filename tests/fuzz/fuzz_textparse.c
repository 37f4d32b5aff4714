/* fuzz_textparse.c — libFuzzer harness: every format level over arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "scrape/textparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int touch(void *ctx, const struct tp_sample *s)
{
	size_t *n = ctx;
	for (size_t i = 0; i < s->nlabels; i++)
		*n += strlen(s->labels[i].name) + strlen(s->labels[i].value);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tp_callbacks cb = { .sample = touch };
	char err[256];
	size_t n = 0;
	/* The first byte picks the format so one corpus covers all three. */
	enum tp_format f = size ? (enum tp_format)(data[0] % 3) : TP_PROMETHEUS;
	textparse((const char *)data + (size ? 1 : 0), size ? size - 1 : 0, f, &cb, &n, err, sizeof(err));
	return 0;
}
