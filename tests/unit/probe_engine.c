/* Unit tests for the probe engine on a real loop: config validation, many
 * ICMP targets through one socket, TCP to an in-process listener, node
 * status callbacks, and freeing an engine with work in flight. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/labels.h"
#include "core/loop.h"
#include "probe/probe.h"
#include "sandbox/egress.h"
#include "t.h"

struct rec {
	int n;			/* samples seen */
	int success;		/* probe_success == 1 seen */
	int failure;		/* probe_success == 0 seen */
	int status_series;	/* vigil_node_status samples */
	char reason[64];	/* last probe_failure_info reason */
	struct batch *b;	/* also append every sample here (NULL: no) */
};

static int rec_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct rec *r = ctx;
	const char *name = labels_get(ls, "__name__");
	r->n++;
	if (strcmp(name, "probe_success") == 0) {
		if (v == 1)
			r->success++;
		else
			r->failure++;
	}
	if (strcmp(name, "vigil_node_status") == 0)
		r->status_series++;
	if (strcmp(name, "probe_failure_info") == 0)
		snprintf(r->reason, sizeof(r->reason), "%s", labels_get(ls, "reason"));
	/* every result carries instance and module */
	if (strncmp(name, "probe_", 6) == 0 && (!labels_get(ls, "instance") || !labels_get(ls, "module")))
		r->n = -100000;
	/* and every name is one Prometheus accepts */
	if (!metric_name_valid(name))
		r->n = -100000;
	for (size_t i = 0; i < ls->n; i++)
		if (!label_name_valid(ls->v[i].name) || !*ls->v[i].value)
			r->n = -100000;
	if (r->b && batch_add(r->b, ls, ts, v) < 0)
		r->n = -100000;
	return 0;
}

static int count_cb(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	size_t *n = ctx;
	(void)ls;
	(void)ts;
	(void)v;
	(*n)++;
	return 0;
}

static void stop_cb(struct loop *l, uint64_t id, void *ctx)
{
	(void)id;
	(void)ctx;
	loop_stop(l);
}

T_TEST(engine_rejects_bad_config)
{
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct sample_sink sink = { rec_add, &r };
	struct probe_engine *e = NULL;
	struct probe_cfg bad[] = {
		{ .target = "127.0.0.1", .kind = PROBE_TCP },			/* no port */
		{ .target = "127.0.0.1:99999", .kind = PROBE_TCP },		/* bad port */
		{ .target = "127.0.0.1:22", .kind = PROBE_ICMP },		/* port on ICMP */
		{ .target = "ftp://x/", .kind = PROBE_HTTP },			/* not http(s) */
		{ .target = "127.0.0.1", .kind = PROBE_DNS },			/* no query name */
		{ .target = "x", .kind = PROBE_NAGIOS },			/* no argv */
		{ .target = "127.0.0.1:80", .kind = PROBE_TCP, .tcp = { .expect = "(" } },	/* bad regex */
		{ .target = "", .kind = PROBE_ICMP },				/* empty */
		{ .target = "no-such-host.invalid", .kind = PROBE_ICMP },	/* unresolvable */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ_INT(probe_engine_new(l, &bad[i], 1, sink, NULL, &e), -EINVAL);
		T_CHECK(e == NULL);
	}
	loop_free(l);
}

T_TEST(engine_many_icmp_targets_one_socket)
{
	enum { N = 300 };
	static struct probe_cfg c[N];
	static char addr[N][32];
	egress_reset();
	for (int i = 0; i < N; i++) {
		snprintf(addr[i], sizeof(addr[i]), "127.0.%d.%d", 1 + i / 250, 1 + i % 250);
		c[i] = (struct probe_cfg){ .target = addr[i], .kind = PROBE_ICMP, .timeout_ms = 2000,
			.icmp = { .count = 2, .spacing_ms = 5 } };
	}
	T_EQ_INT(probe_egress_allow(c, N), 0);
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct sample_sink sink = { rec_add, &r };
	struct probe_env env = { .icmp4_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP),
		.icmp6_raw_fd = -1, .oneshot = 1 };
	struct probe_engine *e;
	T_EQ_INT(probe_engine_new(l, c, N, sink, &env, &e), 0);
	loop_add_timer(l, 5000, stop_cb, NULL);	/* a bound, never reached when all is well */
	loop_run(l);
	T_EQ_INT(r.success, N);
	T_EQ_INT(r.failure, 0);
	T_CHECK(r.n > 0);
	struct buf b;
	buf_init(&b, 1 << 16);
	T_EQ_INT(probe_metrics_text(&b), 0);
	T_CHECK(strstr(b.data, "vigil_probe_icmp_replies_total") != NULL);
	T_CHECK(strstr(b.data, "vigil_probe_runs_total{kind=\"icmp\"}") != NULL);
	buf_free(&b);
	probe_engine_free(e);
	loop_free(l);
}

T_TEST(engine_egress_refusal_is_a_failure)
{
	struct probe_cfg c = { .target = "127.0.0.9", .kind = PROBE_ICMP, .timeout_ms = 300,
		.icmp = { .count = 1 } };
	egress_reset();	/* nothing allowed */
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct sample_sink sink = { rec_add, &r };
	struct probe_env env = { .icmp4_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP),
		.icmp6_raw_fd = -1, .oneshot = 1 };
	struct probe_engine *e;
	uint64_t before = egress_refused_count();
	T_EQ_INT(probe_engine_new(l, &c, 1, sink, &env, &e), 0);
	loop_add_timer(l, 3000, stop_cb, NULL);
	loop_run(l);
	T_EQ_INT(r.failure, 1);
	T_EQ_STR(r.reason, "egress");
	T_CHECK(egress_refused_count() > before);
	probe_engine_free(e);
	loop_free(l);
}

struct changes {
	int n;		/* changes seen */
	int last;	/* last new status */
};

static void on_change(void *ctx, const char *node, int o, int n, int64_t ts)
{
	struct changes *c = ctx;
	(void)node;
	(void)o;
	(void)ts;
	c->n++;
	c->last = n;
}

T_TEST(engine_tcp_and_node_status)
{
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	T_EQ_INT(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ_INT(listen(ls, 16), 0);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	char open_t[32], closed_t[32];
	snprintf(open_t, sizeof(open_t), "127.0.0.1:%u", ntohs(sa.sin_port));
	/* A port that was free a moment ago: nothing listens there. */
	int tmp = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sb = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sbl = sizeof(sb);
	bind(tmp, (struct sockaddr *)&sb, sizeof(sb));
	getsockname(tmp, (struct sockaddr *)&sb, &sbl);
	close(tmp);
	snprintf(closed_t, sizeof(closed_t), "127.0.0.1:%u", ntohs(sb.sin_port));
	struct probe_cfg c[2] = {
		{ .target = open_t, .kind = PROBE_TCP, .interval_ms = 100, .timeout_ms = 100,
		  .node = "web1" },
		{ .target = closed_t, .kind = PROBE_TCP, .interval_ms = 100, .timeout_ms = 100,
		  .node = "web2", .down_after = 2, .retry_interval_ms = 20 },
	};
	egress_reset();
	T_EQ_INT(probe_egress_allow(c, 2), 0);
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct changes ch = { 0, 0 };
	struct sample_sink sink = { rec_add, &r };
	struct probe_env env = { .icmp4_raw_fd = -1, .icmp6_raw_fd = -1, .on_change = on_change,
		.on_change_ctx = &ch };
	struct probe_engine *e;
	T_EQ_INT(probe_engine_new(l, c, 2, sink, &env, &e), 0);
	/* web1 was up before a (pretend) config reload: no event for it */
	probe_engine_seed_status(e, "web1", PROBE_NODE_UP, 1000);
	loop_add_timer(l, 600, stop_cb, NULL);
	loop_run(l);
	T_CHECK(r.success >= 3);	/* ~6 polls of web1 in 600 ms */
	T_CHECK(r.failure >= 2);
	T_CHECK(r.status_series >= 5);
	/* web2 unknown->warning->down; web1 stays up: two changes in all. */
	T_EQ_INT(ch.n, 2);
	T_EQ_INT(ch.last, PROBE_NODE_DOWN);
	int64_t changed;
	T_EQ_INT(probe_engine_node_status(e, "web1", &changed), PROBE_NODE_UP);
	T_EQ_INT(changed, 1000);
	T_EQ_INT(probe_engine_node_status(e, "web2", NULL), PROBE_NODE_DOWN);
	T_EQ_INT(probe_engine_node_status(e, "nobody", NULL), PROBE_NODE_UNKNOWN);
	T_EQ_STR(r.reason, "connect");
	probe_engine_free(e);
	loop_free(l);
	close(ls);
}

/* A tiny HTTP/1.1 server in a child process: answers `conns` connections
 * with 200 "ok" (or 503 for paths containing "bad"), then exits. */
static pid_t http_child(int ls, int conns)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	for (int i = 0; i < conns; i++) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		char req[2048];
		size_t got = 0;
		while (got < sizeof(req) - 1) {
			ssize_t n = read(c, req + got, sizeof(req) - 1 - got);
			if (n <= 0)
				break;
			got += (size_t)n;
			req[got] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		const char *resp = strstr(req, "bad") ?
		    "HTTP/1.1 503 Unavailable\r\nContent-Length: 2\r\nConnection: close\r\n\r\nno" :
		    "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
		(void)!write(c, resp, strlen(resp));
		close(c);
	}
	_exit(0);
}

T_TEST(engine_many_http_probes_on_one_multi_handle)
{
	enum { N = 40 };
	int ls = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	T_EQ_INT(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	T_EQ_INT(listen(ls, 64), 0);
	getsockname(ls, (struct sockaddr *)&sa, &sl);
	static char urls[N][64];
	static struct probe_cfg c[N];
	for (int i = 0; i < N; i++) {
		snprintf(urls[i], sizeof(urls[i]), "http://127.0.0.1:%u/%s%d", ntohs(sa.sin_port),
		    i % 4 == 0 ? "bad" : "good", i);
		c[i] = (struct probe_cfg){ .target = urls[i], .kind = PROBE_HTTP, .timeout_ms = 3000,
			.http = { .body_regex = "^ok$" } };
	}
	pid_t child = http_child(ls, N);
	egress_reset();
	T_EQ_INT(probe_egress_allow(c, N), 0);
	struct loop *l = loop_new();
	static struct batch batch;
	batch_init(&batch);
	struct rec r = { .b = &batch };
	struct sample_sink sink = { rec_add, &r };
	struct probe_env env = { .icmp4_raw_fd = -1, .icmp6_raw_fd = -1, .oneshot = 1 };
	struct probe_engine *e;
	T_EQ_INT(probe_engine_new(l, c, N, sink, &env, &e), 0);
	loop_add_timer(l, 5000, stop_cb, NULL);
	loop_run(l);
	T_EQ_INT(r.success, N - N / 4);
	T_EQ_INT(r.failure, N / 4);
	T_EQ_STR(r.reason, "status");
	T_CHECK(r.n > 0);
	/* what went into the batch decodes back to as many samples */
	struct buf enc;
	buf_init(&enc, BATCH_MAX_BYTES);
	T_EQ_INT(batch_encode(r.b, &enc), 0);
	size_t decoded = 0;
	T_EQ_INT(batch_decode(enc.data, enc.len, count_cb, &decoded), 0);
	T_EQ_INT(decoded, r.b->n);
	T_EQ_INT(decoded, r.n);
	buf_free(&enc);
	batch_free(r.b);
	probe_engine_free(e);
	loop_free(l);
	close(ls);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
}

T_TEST(engine_free_with_work_in_flight)
{
	static const char *const argv[] = { "/bin/sleep", "30", NULL };
	struct probe_cfg c[3] = {
		{ .target = "sleeper", .kind = PROBE_NAGIOS, .timeout_ms = 10000,
		  .nagios = { .argv = argv } },
		{ .target = "127.0.0.1", .kind = PROBE_ICMP, .timeout_ms = 10000,
		  .icmp = { .count = 5, .spacing_ms = 1000 } },
		{ .target = "http://127.0.0.1:9/", .kind = PROBE_HTTP, .timeout_ms = 10000 },
	};
	egress_reset();
	T_EQ_INT(probe_egress_allow(c, 3), 0);
	struct loop *l = loop_new();
	struct rec r = { 0 };
	struct sample_sink sink = { rec_add, &r };
	struct probe_env env = { .icmp4_raw_fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMP),
		.icmp6_raw_fd = -1, .oneshot = 1 };
	struct probe_engine *e;
	T_EQ_INT(probe_engine_new(l, c, 3, sink, &env, &e), 0);
	loop_add_timer(l, 200, stop_cb, NULL);
	loop_run(l);
	probe_engine_free(e);	/* kills the plugin, drops the ICMP run; ASan checks leaks */
	loop_free(l);
	T_CHECK(r.success <= 1);	/* at most the HTTP refusal... which is a failure */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(engine_rejects_bad_config);
	T_RUN(engine_many_icmp_targets_one_socket);
	T_RUN(engine_egress_refusal_is_a_failure);
	T_RUN(engine_tcp_and_node_status);
	T_RUN(engine_many_http_probes_on_one_multi_handle);
	T_RUN(engine_free_with_work_in_flight);
	return t_done();
}
