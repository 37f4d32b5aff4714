/* promql_cli.c — `vigil query` end to end: the CLI talks HTTP to a small
 * in-process server on 127.0.0.1 that answers with promapi over memstore. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api/promapi.h"
#include "promql/promql.h"
#include "sandbox/egress.h"
#include "tsdb/memstore.h"
#include "t.h"

static struct storage st;
static int lfd;
static char url[64];

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(lfd, NULL, NULL);
		if (c < 0)
			return NULL;
		char req[8192];
		ssize_t n = recv(c, req, sizeof(req) - 1, 0);
		if (n <= 0) {
			close(c);
			continue;
		}
		req[n] = 0;
		char *path = strchr(req, ' ');
		char *end = path ? strchr(path + 1, ' ') : NULL;
		if (!path || !end) {
			close(c);
			continue;
		}
		*end = 0;
		path++;
		char *qs = strchr(path, '?');
		if (qs)
			*qs++ = 0;
		struct promapi_request rq = { .method = "GET", .path = path + 7, .now_ms = 120000 };
		if (qs)
			promapi_parse_params(&rq, qs, strlen(qs));
		struct buf b;
		buf_init(&b, BUF_CAP_HTTP_BODY);
		int status;
		promapi_handle(&st, &rq, &b, &status);
		char hdr[256];
		int hl = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d X\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status, b.len);
		if (send(c, hdr, (size_t)hl, 0) < 0 || send(c, b.data, b.len, 0) < 0)
			fprintf(stderr, "send failed\n");
		buf_free(&b);
		promapi_request_free(&rq);
		close(c);
	}
}

/* Run the CLI with args, capture stdout into out; return its exit code. */
static int run_cli(char *out, size_t n, int argc, char **argv)
{
	fflush(stdout);
	int saved = dup(1);
	FILE *tmp = tmpfile();
	dup2(fileno(tmp), 1);
	int rc = query_cli_main(argc, argv);
	fflush(stdout);
	dup2(saved, 1);
	close(saved);
	rewind(tmp);
	size_t got = fread(out, 1, n - 1, tmp);
	out[got] = 0;
	fclose(tmp);
	return rc;
}

T_TEST(instant_table)
{
	char out[8192];
	char *argv[] = { "query", "--server", url, "sum by (job) (up)" };
	T_EQ_INT(run_cli(out, sizeof(out), 4, argv), 0);
	T_EQ_STR(out, "SERIES     VALUE\n{job=\"a\"}  1\n{job=\"b\"}  0\n");
}

T_TEST(range_sparkline)
{
	char out[8192];
	char *argv[] = { "query", "--server", url, "--range", "0", "120", "30", "ramp" };
	T_EQ_INT(run_cli(out, sizeof(out), 8, argv), 0);
	T_CHECK(strstr(out, "SERIES") != NULL && strstr(out, "TREND") != NULL);
	T_CHECK(strstr(out, "ramp") != NULL);
	/* 0, 30, 60, 90, 120: lowest to highest bar */
	T_CHECK(strstr(out, "▁▃▅▆█") != NULL);
}

T_TEST(scalar_and_error)
{
	char out[8192];
	char *argv[] = { "query", "--server", url, "1 + 1" };
	T_EQ_INT(run_cli(out, sizeof(out), 4, argv), 0);
	T_EQ_STR(out, "2\n");
	char *bad[] = { "query", "--server", url, "sum(" };
	T_EQ_INT(run_cli(out, sizeof(out), 4, bad), 1);
	T_EQ_STR(out, "");
}

T_TEST(usage_errors)
{
	char out[256];
	char *none[] = { "query" };
	T_EQ_INT(run_cli(out, sizeof(out), 1, none), 2);
	char *badurl[] = { "query", "--server", "not a url", "up" };
	T_EQ_INT(run_cli(out, sizeof(out), 4, badurl), 2);
}

int main(void)
{
	memstore_open(&st);
	for (int64_t t = 0; t <= 120000; t += 30000) {
		struct label a[2] = { { "__name__", "up" }, { "job", "a" } }, b[2] = { { "__name__", "up" }, { "job", "b" } };
		struct label r[1] = { { "__name__", "ramp" } };
		struct labels *la = labels_new(a, 2), *lbb = labels_new(b, 2), *lr = labels_new(r, 1);
		st.ops->append(st.impl, la, t, 1);
		st.ops->append(st.impl, lbb, t, 0);
		st.ops->append(st.impl, lr, t, (double)t / 1000);
		labels_free(la);
		labels_free(lbb);
		labels_free(lr);
	}
	st.ops->commit(st.impl);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 8) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
		printf("FAIL setup: cannot listen on loopback\n");
		return 1;
	}
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);
	T_RUN(instant_table);
	T_RUN(range_sparkline);
	T_RUN(scalar_and_error);
	T_RUN(usage_errors);
	shutdown(lfd, SHUT_RDWR);
	close(lfd);
	pthread_join(th, NULL);
	st.ops->close(st.impl);
	return t_done();
}
