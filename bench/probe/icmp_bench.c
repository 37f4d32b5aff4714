/*
 * icmp_bench — vigil's side of bench/probe/run.sh: N ICMP targets across
 * 127.0.0.0/8, one echo each every INTERVAL ms, for CYCLES intervals, on one
 * raw socket. Prints replies, failures and the process's CPU seconds.
 *
 *   icmp_bench N INTERVAL_MS CYCLES
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "core/labels.h"
#include "core/log.h"
#include "core/loop.h"
#include "probe/probe.h"

static long ok, bad;	/* probe_success samples by value */

static int count(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	(void)ctx;
	(void)ts;
	if (strcmp(labels_get(ls, "__name__"), "probe_success") == 0) {
		if (v == 1)
			ok++;
		else
			bad++;
	}
	return 0;
}

static void stop(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	loop_stop(l);
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: icmp_bench N INTERVAL_MS CYCLES\n");
		return 2;
	}
	int n = atoi(argv[1]), cycles = atoi(argv[3]);
	long interval = atol(argv[2]);
	log_setup(LOG_WARN, "bench");
	struct probe_cfg *c = calloc((size_t)n, sizeof(*c));
	char (*addr)[20] = calloc((size_t)n, 20);
	for (int i = 0; i < n; i++) {
		snprintf(addr[i], 20, "127.%d.%d.%d", 1 + i / 62500, (i / 250) % 250 + 1, i % 250 + 1);
		c[i] = (struct probe_cfg){ .target = addr[i], .kind = PROBE_ICMP, .interval_ms = interval,
			.timeout_ms = 2000, .icmp = { .count = 1 } };
	}
	if (probe_egress_allow(c, (size_t)n) < 0)
		return 1;
	struct loop *l = loop_new();
	struct probe_env env = { .icmp4_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP),
		.icmp6_raw_fd = -1 };
	struct probe_engine *e;
	struct sample_sink sink = { count, NULL };
	if (probe_engine_new(l, c, (size_t)n, sink, &env, &e) < 0)
		return 1;
	loop_add_timer(l, interval * cycles, stop, NULL);
	loop_run(l);
	probe_engine_free(e);
	loop_free(l);
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	printf("probes_ok=%ld probes_failed=%ld cpu_seconds=%.3f\n", ok, bad, cpu);
	free(c);
	free(addr);
	return 0;
}
