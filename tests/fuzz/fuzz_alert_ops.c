/*
 * libFuzzer harness: the /api/alerting request handler (opsapi.c, ops.c) on
 * arbitrary bodies. The first byte picks the route and method (POST ack,
 * silences or maintenance; DELETE or GET by id), the rest is the body or id.
 * The runtime has no rule files and an in-memory store; it is remade every
 * 1000 inputs so the store's caps are not what every input meets.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "alert/alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct alert_runtime *rt;
static unsigned runs;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const routes[] = { "/api/alerting/ack", "/api/alerting/silences",
		"/api/alerting/maintenance", "/api/alerting/alerts" };
	if (size < 1 || size > ALERT_OPS_BODY_MAX + 1)
		return 0;
	if (!rt || ++runs % 1000 == 0) {
		char err[ALERT_ERR_MAX];
		const char *cfg = "alerting:\n  evaluation_interval: 1s\n";
		alert_runtime_free(rt);
		rt = NULL;
		if (alert_runtime_new("f.yml", cfg, strlen(cfg), NULL, NULL, NULL, NULL, &rt, err, sizeof(err)) < 0)
			return 0;
	}
	const char *route = routes[data[0] % 4];
	const char *body = (const char *)data + 1;
	size_t n = size - 1;
	struct buf out;
	buf_init(&out, 16u << 20);
	if (data[0] & 0x80) {
		/* by id: the rest of the input (up to 200 bytes, NULs cut) after the route */
		char path[300];
		snprintf(path, sizeof(path), "%s/%.*s", route, (int)(n < 200 ? n : 200), body);
		alert_ops_http(rt, (data[0] & 0x40) ? "GET" : "DELETE", path, "fuzz", NULL, 0,
		    1800000000000LL, &out);
	} else {
		alert_ops_http(rt, "POST", route, "fuzz", body, n, 1800000000000LL, &out);
		buf_reset(&out);
		alert_ops_http(rt, "GET", route, "fuzz", NULL, 0, 1800000000000LL, &out);
	}
	buf_free(&out);
	return 0;
}
