/* libFuzzer harness: the frame reader and the sample batch decoder on
 * arbitrary bytes arriving from a peer. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/storeapi.h"
#include "core/batch.h"
#include "core/ipc.h"

static int on_sample(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	(void)ctx;
	(void)ls;
	(void)ts;
	(void)v;
	return 0;
}

static int on_msg(void *ctx, struct ipc_conn *c, uint32_t type, const void *p, uint32_t len)
{
	(void)ctx;
	(void)c;
	if (type == MSG_SAMPLES)
		batch_decode(p, len, on_sample, NULL);
	if (type == MSG_API_REQUEST) {
		struct storeapi_request r;
		storeapi_decode(p, len, &r);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int sv[2];
	if (size > 60000 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	(void)!write(sv[0], data, size);
	close(sv[0]);
	struct ipc_conn c;
	ipc_conn_init(&c, sv[1], "fuzz");
	ipc_conn_read(&c, on_msg, NULL);
	ipc_conn_close(&c);
	/* the batch decoder also on the raw bytes */
	batch_decode(data, size, on_sample, NULL);
	return 0;
}
