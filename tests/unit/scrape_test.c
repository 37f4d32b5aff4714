/* scrape_test.c — the scrape loop against an in-process HTTP server and a real node_exporter. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/loop.h"
#include "sandbox/egress.h"
#include "scrape/scrape.h"
#include "t.h"

#define MAXS 8192

/* ---- the test server ---- */
static pthread_mutex_t srv_mu = PTHREAD_MUTEX_INITIALIZER;
static char srv_body[65536];	/* what /metrics returns */
static char srv_ctype[128];	/* its Content-Type */
static int srv_status = 200;	/* its status */
static char srv_auth[256];	/* last Authorization header */
static char srv_url[512];	/* last URL with query */
static int srv_delay_ms;	/* answer this late */

static enum MHD_Result srv_handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
    const char *ver, const char *up, size_t *upsz, void **cc)
{
	(void)cls; (void)method; (void)ver; (void)up; (void)upsz; (void)cc;
	pthread_mutex_lock(&srv_mu);
	const char *a = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
	snprintf(srv_auth, sizeof(srv_auth), "%s", a ? a : "");
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "module");
	snprintf(srv_url, sizeof(srv_url), "%s?module=%s", url, q ? q : "");
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(srv_body), srv_body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", srv_ctype);
	int st = srv_status, delay = srv_delay_ms;
	pthread_mutex_unlock(&srv_mu);
	if (delay)
		usleep((useconds_t)delay * 1000);
	enum MHD_Result ret = MHD_queue_response(c, (unsigned)st, r);
	MHD_destroy_response(r);
	return ret;
}

static void serve(int status, const char *ctype, const char *body)
{
	pthread_mutex_lock(&srv_mu);
	srv_status = status;
	snprintf(srv_ctype, sizeof(srv_ctype), "%s", ctype);
	snprintf(srv_body, sizeof(srv_body), "%s", body);
	pthread_mutex_unlock(&srv_mu);
}

static int free_port(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

/* ---- the sink ---- */
struct rec {
	char key[256];	/* name{label="v",...} without job/instance */
	char job[64];	/* job label */
	double v;	/* value */
	long long ts;	/* timestamp */
};
static struct rec S[MAXS];
static size_t NS;

static int sink_add(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	(void)ctx;
	if (NS >= MAXS)
		return -E2BIG;
	struct rec *r = &S[NS++];
	size_t off = (size_t)snprintf(r->key, sizeof(r->key), "%s{", labels_get(ls, "__name__"));
	int first = 1;
	for (size_t i = 0; i < ls->n && off < sizeof(r->key); i++) {
		const char *n = ls->v[i].name;
		if (!strcmp(n, "__name__") || !strcmp(n, "instance"))
			continue;
		if (!strcmp(n, "job")) {
			snprintf(r->job, sizeof(r->job), "%s", ls->v[i].value);
			continue;
		}
		off += (size_t)snprintf(r->key + off, sizeof(r->key) - off, "%s%s=\"%s\"", first ? "" : ",", n, ls->v[i].value);
		first = 0;
	}
	if (off < sizeof(r->key) - 1)
		snprintf(r->key + off, sizeof(r->key) - off, "}");
	r->v = v;
	r->ts = (long long)ts;
	return 0;
}

/* Last record with key, or NULL. */
static const struct rec *last(const char *key)
{
	for (size_t i = NS; i > 0; i--)
		if (!strcmp(S[i - 1].key, key))
			return &S[i - 1];
	return NULL;
}

static double lastv(const char *key)
{
	const struct rec *r = last(key);
	return r ? r->v : -12345;
}

/* Run the loop until the manager completed want scrapes (5 s at most). */
static int run_until(struct loop *l, struct scrape_manager *m, uint64_t want)
{
	int64_t end = clock_mono_ms() + 5000;
	while (scrape_manager_scrapes(m) < want && clock_mono_ms() < end)
		loop_once(l, 50);
	return scrape_manager_scrapes(m) >= want;
}

static int port;	/* test server port */
static char target[64];	/* "127.0.0.1:port" */

static struct scrape_manager *start(struct loop *l, struct scrape_config *cfg)
{
	static const char *targets[1];
	char err[256];
	targets[0] = target;
	cfg->job_name = cfg->job_name ? cfg->job_name : "test";
	cfg->targets = targets;
	cfg->ntargets = 1;
	cfg->interval_ms = 100;
	cfg->timeout_ms = 1000;
	NS = 0;
	struct sample_sink sink = { sink_add, NULL };
	struct scrape_manager *m = scrape_manager_new(l, cfg, 1, sink, err, sizeof(err));
	if (!m)
		printf("  scrape_manager_new: %s\n", err);
	return m;
}

T_TEST(scrape_labels_timestamps_and_report)
{
	struct loop *l = loop_new();
	struct scrape_config cfg = { 0 };
	serve(200, "text/plain; version=0.0.4", "# TYPE a counter\na_total{x=\"1\"} 5\nb 2 1700000000000\n");
	struct scrape_manager *m = start(l, &cfg);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("a_total{x=\"1\"}"), 5, 0);
	T_EQ_STR(last("a_total{x=\"1\"}")->job, "test");
	T_EQ_INT(last("b{}")->ts, 1700000000000LL);
	T_EQ_DBL(lastv("up{}"), 1, 0);
	T_EQ_DBL(lastv("scrape_samples_scraped{}"), 2, 0);
	T_EQ_DBL(lastv("scrape_samples_post_metric_relabeling{}"), 2, 0);
	T_CHECK(lastv("scrape_duration_seconds{}") >= 0);
	T_CHECK(llabs(last("up{}")->ts - clock_wall_ms()) < 5000);
	scrape_manager_free(m);
	loop_free(l);
}

T_TEST(staleness_on_disappearing_series_and_target_down)
{
	struct loop *l = loop_new();
	struct scrape_config cfg = { 0 };
	serve(200, "text/plain", "a 1\nb 2\n");
	struct scrape_manager *m = start(l, &cfg);
	T_CHECK(run_until(l, m, 1));
	serve(200, "text/plain", "a 1\n");
	T_CHECK(run_until(l, m, 2));
	T_CHECK(is_stale_nan(lastv("b{}")));
	T_EQ_DBL(lastv("a{}"), 1, 0);
	serve(500, "text/plain", "oops\n");
	T_CHECK(run_until(l, m, 3));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	T_CHECK(is_stale_nan(lastv("a{}")));
	T_EQ_DBL(lastv("scrape_samples_scraped{}"), 0, 0);
	scrape_manager_free(m);
	loop_free(l);
}

T_TEST(relabel_and_honor_labels)
{
	struct loop *l = loop_new();
	static const char *const src_name[] = { "__name__" };
	static const char *const src_x[] = { "x" };
	struct scrape_relabel rules[] = {
		{ .action = SCRAPE_RELABEL_DROP, .source_labels = src_name, .nsource = 1, .regex = "drop_.*" },
		{ .action = SCRAPE_RELABEL_REPLACE, .source_labels = src_x, .nsource = 1, .regex = "(.)(.*)",
		  .target_label = "env", .replacement = "e-$1-${2}" },
		{ .action = SCRAPE_RELABEL_LABELDROP, .regex = "junk|x" },
	};
	struct scrape_config cfg = { .metric_relabel = rules, .nrelabel = 3 };
	serve(200, "text/plain", "keep_me{x=\"ab\",junk=\"1\",job=\"other\"} 1\ndrop_me 2\n");
	struct scrape_manager *m = start(l, &cfg);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("keep_me{env=\"e-a-b\",exported_job=\"other\"}"), 1, 0);
	T_EQ_DBL(lastv("drop_me{}"), -12345, 0);
	T_EQ_DBL(lastv("scrape_samples_scraped{}"), 2, 0);
	T_EQ_DBL(lastv("scrape_samples_post_metric_relabeling{}"), 1, 0);
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct scrape_config nots = { .ignore_timestamps = 1 };
	serve(200, "text/plain", "old 1 1000\n");
	m = start(l, &nots);
	T_CHECK(run_until(l, m, 1));
	T_CHECK(llabs(last("old{}")->ts - clock_wall_ms()) < 5000);
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct label tl[] = { { "env", "prod" } };
	struct scrape_config st = { .labels = tl, .nlabels = 1 };
	serve(200, "text/plain", "m{env=\"dev\"} 1\nn 2\n");
	m = start(l, &st);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("m{env=\"prod\",exported_env=\"dev\"}"), 1, 0);
	T_EQ_DBL(lastv("n{env=\"prod\"}"), 2, 0);
	T_EQ_DBL(lastv("up{env=\"prod\"}"), 1, 0);
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct scrape_config hon = { .honor_labels = 1 };
	serve(200, "text/plain", "m{job=\"other\"} 1\n");
	m = start(l, &hon);
	T_CHECK(run_until(l, m, 1));
	T_EQ_STR(last("m{}")->job, "other");
	scrape_manager_free(m);
	loop_free(l);
}

T_TEST(limits_and_egress_fail_the_scrape)
{
	struct loop *l = loop_new();
	struct scrape_config cfg = { .sample_limit = 1 };
	serve(200, "text/plain", "a 1\nb 2\n");
	struct scrape_manager *m = start(l, &cfg);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	T_EQ_DBL(lastv("a{}"), -12345, 0);	/* nothing of a bad scrape is kept */
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct scrape_config small = { .body_limit = 4 };
	m = start(l, &small);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct scrape_config bad = { 0 };
	serve(200, "text/plain", "a{ 1\n");
	m = start(l, &bad);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	scrape_manager_free(m);
	loop_free(l);

	/* slower than scrape_timeout */
	l = loop_new();
	struct scrape_config slow = { 0 };
	serve(200, "text/plain", "a 1\n");
	srv_delay_ms = 600;
	m = start(l, &slow);
	/* start() sets a 1 s timeout; make it shorter than the delay */
	scrape_manager_free(m);
	slow.timeout_ms = 200;
	static const char *ts[1];
	ts[0] = target;
	slow.targets = ts;
	slow.ntargets = 1;
	slow.interval_ms = 100;
	char e2[256];
	struct sample_sink sk = { sink_add, NULL };
	NS = 0;
	m = scrape_manager_new(l, &slow, 1, sk, e2, sizeof(e2));
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	T_CHECK(lastv("scrape_duration_seconds{}") < 0.59);	/* did not wait for the 0.6 s answer */
	scrape_manager_free(m);
	loop_free(l);
	srv_delay_ms = 0;
	usleep(700000);	/* let the server finish the slow answer */

	/* no egress rule for the target: refused before connecting */
	egress_reset();
	uint64_t before = egress_refused_count();
	l = loop_new();
	struct scrape_config eg = { 0 };
	serve(200, "text/plain", "a 1\n");
	m = start(l, &eg);
	T_CHECK(run_until(l, m, 1));
	T_EQ_DBL(lastv("up{}"), 0, 0);
	T_CHECK(egress_refused_count() > before);
	scrape_manager_free(m);
	loop_free(l);
	egress_allow_str("127.0.0.1", IPPROTO_TCP, (uint16_t)port, "scrape test server");
}

T_TEST(openmetrics_auth_and_params)
{
	struct loop *l = loop_new();
	struct scrape_param p[] = { { "module", "if mib" } };
	struct scrape_config cfg = { .bearer_token = "s3cret", .params = p, .nparams = 1, .metrics_path = "/snmp" };
	serve(200, "application/openmetrics-text; version=1.0.0; charset=utf-8",
	    "# TYPE c counter\nc_total 3 1700000000.5\n# EOF\n");
	struct scrape_manager *m = start(l, &cfg);
	T_CHECK(run_until(l, m, 1));
	T_EQ_INT(last("c_total{}")->ts, 1700000000500LL);
	pthread_mutex_lock(&srv_mu);
	T_EQ_STR(srv_auth, "Bearer s3cret");
	T_EQ_STR(srv_url, "/snmp?module=if mib");
	pthread_mutex_unlock(&srv_mu);
	scrape_manager_free(m);
	loop_free(l);

	l = loop_new();
	struct scrape_config basic = { .basic_user = "u", .basic_password = "p" };
	m = start(l, &basic);
	T_CHECK(run_until(l, m, 1));
	pthread_mutex_lock(&srv_mu);
	T_EQ_STR(srv_auth, "Basic dTpw");
	pthread_mutex_unlock(&srv_mu);
	scrape_manager_free(m);
	loop_free(l);

	char err[256];
	static const char *const t1[] = { "127.0.0.1:1" };
	struct scrape_relabel r = { .action = SCRAPE_RELABEL_KEEP, .regex = "(" };
	struct scrape_config badre = { .job_name = "j", .targets = t1, .ntargets = 1, .metric_relabel = &r, .nrelabel = 1 };
	struct sample_sink sink = { sink_add, NULL };
	l = loop_new();
	T_CHECK(scrape_manager_new(l, &badre, 1, sink, err, sizeof(err)) == NULL);
	T_CHECK(strstr(err, "metric_relabel_configs rule 1") != NULL);
	loop_free(l);
}

/* Collects the addresses scrape_config_addresses reports. */
static int collect_addr(void *ctx, const char *a)
{
	char *out = ctx;
	size_t n = strlen(out);
	snprintf(out + n, 512 - n, "%s%s", n ? " " : "", a);
	return 0;
}

T_TEST(target_relabel_drop_rewrite_labels_params)
{
	/* relabel_configs over targets: a drop by __address__, a label from a
	 * regex group of __address__, hashmod, labelmap of a static label, and
	 * __metrics_path__ / __param_ rewriting the URL the scrape uses */
	static const char *const src_addr[] = { "__address__" };
	static const char *const src_env[] = { "env" };
	struct scrape_relabel rules[] = {
		{ .action = SCRAPE_RELABEL_DROP, .source_labels = src_addr, .nsource = 1, .regex = ".*:1" },
		{ .action = SCRAPE_RELABEL_REPLACE, .source_labels = src_addr, .nsource = 1, .regex = "(.*):(\\d+)",
		  .target_label = "port", .replacement = "$2" },
		{ .action = SCRAPE_RELABEL_HASHMOD, .source_labels = src_env, .nsource = 1, .target_label = "shard",
		  .modulus = 1000 },
		{ .action = SCRAPE_RELABEL_LABELMAP, .regex = "e(n)v", .replacement = "site_$1" },
		{ .action = SCRAPE_RELABEL_REPLACE, .target_label = "__metrics_path__", .replacement = "/probe" },
		{ .action = SCRAPE_RELABEL_REPLACE, .target_label = "__param_module", .replacement = "m1" },
	};
	static const char *targets[2];
	targets[0] = "127.0.0.1:1";	/* dropped */
	targets[1] = target;
	struct label tl[] = { { "env", "baz" } };
	struct scrape_config cfg = { .job_name = "tr", .targets = targets, .ntargets = 2, .labels = tl, .nlabels = 1,
		.target_relabel = rules, .ntarget_relabel = 6, .interval_ms = 100, .timeout_ms = 1000 };
	char addrs[512] = "", err[256] = "";
	T_EQ_INT(scrape_config_addresses(&cfg, collect_addr, addrs, err, sizeof(err)), 0);
	T_EQ_STR(addrs, target);	/* only the kept target's address needs egress */

	struct loop *l = loop_new();
	struct sample_sink sink = { sink_add, NULL };
	NS = 0;
	serve(200, "text/plain", "a 1\n");
	struct scrape_manager *m = scrape_manager_new(l, &cfg, 1, sink, err, sizeof(err));
	T_CHECK(m != NULL);
	T_EQ_INT(scrape_manager_dropped(m), 1);
	T_CHECK(run_until(l, m, 1));
	char port_s[16];
	snprintf(port_s, sizeof(port_s), "%d", port);
	char key[256];
	/* hashmod of "baz" mod 1000 is 976, as in Prometheus's own tests */
	snprintf(key, sizeof(key), "a{env=\"baz\",port=\"%s\",shard=\"976\",site_n=\"baz\"}", port_s);
	T_EQ_DBL(lastv(key), 1, 0);
	pthread_mutex_lock(&srv_mu);
	T_EQ_STR(srv_url, "/probe?module=m1");
	pthread_mutex_unlock(&srv_mu);
	scrape_manager_free(m);
	loop_free(l);

	/* hashmod without a modulus and replace without a target are refused */
	struct scrape_relabel bad = { .action = SCRAPE_RELABEL_HASHMOD, .source_labels = src_env, .nsource = 1,
		.target_label = "x" };
	struct scrape_config badc = { .job_name = "b", .targets = targets, .ntargets = 1, .target_relabel = &bad,
		.ntarget_relabel = 1 };
	T_EQ_INT(scrape_config_addresses(&badc, collect_addr, addrs, err, sizeof(err)), -EINVAL);
	T_CHECK(strstr(err, "relabel_configs rule 1: hashmod needs a modulus") != NULL);
}

/* A real Debian prometheus-node-exporter on loopback. */
T_TEST(scrape_real_node_exporter)
{
	int np = free_port();
	char listen[64], tgt[64];
	snprintf(listen, sizeof(listen), "--web.listen-address=127.0.0.1:%d", np);
	snprintf(tgt, sizeof(tgt), "127.0.0.1:%d", np);
	pid_t pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);
		dup2(dn, 1);
		dup2(dn, 2);
		execlp("prometheus-node-exporter", "prometheus-node-exporter", listen, (char *)NULL);
		_exit(127);
	}
	egress_allow_str("127.0.0.1", IPPROTO_TCP, (uint16_t)np, "node_exporter");
	struct loop *l = loop_new();
	static const char *targets[1];
	targets[0] = tgt;
	struct scrape_config cfg = { .job_name = "node", .targets = targets, .ntargets = 1, .interval_ms = 300, .timeout_ms = 2000 };
	struct sample_sink sink = { sink_add, NULL };
	char err[256];
	usleep(300000);	/* let it bind; a first failed scrape is retried anyway */
	NS = 0;
	struct scrape_manager *m = scrape_manager_new(l, &cfg, 1, sink, err, sizeof(err));
	int64_t end = clock_mono_ms() + 8000;
	while (clock_mono_ms() < end && !(last("up{}") && lastv("up{}") == 1))
		loop_once(l, 50);
	T_EQ_DBL(lastv("up{}"), 1, 0);
	T_CHECK(lastv("node_cpu_seconds_total{cpu=\"0\",mode=\"idle\"}") > 0);
	T_CHECK(lastv("scrape_samples_scraped{}") > 200);
	T_EQ_DBL(lastv("scrape_samples_post_metric_relabeling{}"), lastv("scrape_samples_scraped{}"), 0);
	T_EQ_STR(last("node_load1{}")->job, "node");
	scrape_manager_free(m);
	loop_free(l);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

int main(void)
{
	port = free_port();
	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, srv_handle, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&a, MHD_OPTION_END);
	if (!d) {
		printf("FAIL scrape_test: cannot start the test server\n");
		return 1;
	}
	egress_allow_str("127.0.0.1", IPPROTO_TCP, (uint16_t)port, "scrape test server");
	T_RUN(scrape_labels_timestamps_and_report);
	T_RUN(staleness_on_disappearing_series_and_target_down);
	T_RUN(relabel_and_honor_labels);
	T_RUN(limits_and_egress_fail_the_scrape);
	T_RUN(openmetrics_auth_and_params);
	T_RUN(target_relabel_drop_rewrite_labels_params);
	T_RUN(scrape_real_node_exporter);
	MHD_stop_daemon(d);
	return t_done();
}
