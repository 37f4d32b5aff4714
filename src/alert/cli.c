/*
 * cli.c — the egress rules for receivers, and `vigil notify-test`: a driver
 * that enqueues alerts from a JSON file and runs the delivery loop until the
 * queue is empty (for tests and for trying a receiver configuration).
 */
#include <curl/curl.h>
#include <errno.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/xmalloc.h"
#include "sandbox/egress.h"

static uint16_t default_port(const char *url)
{
	if (strncmp(url, "https://", 8) == 0)
		return 443;
	if (strncmp(url, "smtps://", 8) == 0)
		return 465;
	if (strncmp(url, "smtp://", 7) == 0)
		return 25;
	return 80;
}

int notify_allow_receivers(struct alert_config *c, char *err, size_t errsz)
{
	for (size_t i = 0; i < c->nreceivers; i++) {
		struct receiver_config *r = &c->receivers[i];
		CURLU *u = curl_url();
		char *host = NULL, *port = NULL;
		int rc = -1;
		if (!u || curl_url_set(u, CURLUPART_URL, r->url, CURLU_NON_SUPPORT_SCHEME) != CURLUE_OK ||
		    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
			snprintf(err, errsz, "receiver %s: cannot parse URL %s", r->name, r->url);
			goto next;
		}
		uint16_t p = default_port(r->url);
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK && port)
			p = (uint16_t)atoi(port);
		/* curl gives IPv6 literals with their brackets. */
		char h[256];
		snprintf(h, sizeof(h), "%s", host);
		if (h[0] == '[') {
			memmove(h, h + 1, strlen(h));
			h[strcspn(h, "]")] = 0;
		}
		struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST }, *res = NULL;
		int numeric = getaddrinfo(h, NULL, &hints, &res) == 0;
		if (!numeric) {
			hints.ai_flags = 0;
			int g = getaddrinfo(h, NULL, &hints, &res);
			if (g != 0) {
				snprintf(err, errsz, "receiver %s: cannot resolve %s: %s", r->name, h, gai_strerror(g));
				goto next;
			}
		}
		char why[160];
		snprintf(why, sizeof(why), "notification receiver %s", r->name);
		struct buf pin;
		buf_init(&pin, 4096);
		buf_printf(&pin, "%s:%u:", h, (unsigned)p);
		size_t base = pin.len;
		for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
			egress_allow_addr(ai->ai_addr, ai->ai_addrlen, IPPROTO_TCP, p, why);
			char a[INET6_ADDRSTRLEN + 2] = "";
			if (getnameinfo(ai->ai_addr, ai->ai_addrlen, a, sizeof(a), NULL, 0, NI_NUMERICHOST) == 0 &&
			    !strstr(pin.data + base, a))
				buf_printf(&pin, ai->ai_family == AF_INET6 ? "%s[%s]" : "%s%s", pin.len > base ? "," : "", a);
		}
		freeaddrinfo(res);
		free(r->resolve_pin);
		r->resolve_pin = !numeric && pin.len > base ? buf_detach(&pin, NULL) : NULL;
		buf_free(&pin);
		rc = 0;
next:
		curl_free(host);
		curl_free(port);
		curl_url_cleanup(u);
		if (rc < 0)
			return -1;
	}
	return 0;
}

static char *read_file(const char *path, size_t cap, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, cap);
	char tmp[65536];
	size_t n;
	int bad = 0;
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (buf_add(&b, tmp, n) < 0) {
			bad = 1;
			break;
		}
	fclose(f);
	if (bad) {
		buf_free(&b);
		errno = EFBIG;
		return NULL;
	}
	*len = b.len;
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

static volatile sig_atomic_t stop_requested;	/* SIGTERM/SIGINT seen */

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

int notify_cli_main(int argc, char **argv)
{
	const char *cfg_path = NULL, *db = NULL, *alerts = NULL;
	double timeout_s = 30;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
			cfg_path = argv[++i];
		else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
			db = argv[++i];
		else if (strcmp(argv[i], "--alerts") == 0 && i + 1 < argc)
			alerts = argv[++i];
		else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc)
			timeout_s = atof(argv[++i]);
		else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: vigil notify-test -c CONFIG --db FILE [--alerts FILE.json] [--timeout SECONDS]\n\n"
			    "Queues the alerts in FILE.json (a JSON array of Alertmanager API v2 alerts) for every\n"
			    "receiver in CONFIG's alerting: section, then delivers until the queue in FILE is\n"
			    "empty (exit 0) or SECONDS pass (exit 1). Without --alerts it delivers what is queued.\n");
			return 0;
		} else {
			fprintf(stderr, "vigil notify-test: unexpected argument \"%s\" (see --help)\n", argv[i]);
			return 2;
		}
	}
	if (!cfg_path || !db) {
		fprintf(stderr, "usage: vigil notify-test -c CONFIG --db FILE [--alerts FILE.json] [--timeout SECONDS]\n");
		return 2;
	}
	char err[ALERT_ERR_MAX];
	size_t len;
	char *text = read_file(cfg_path, BUF_CAP_CONFIG, &len);
	if (!text) {
		fprintf(stderr, "%s: %s\n", cfg_path, strerror(errno));
		return 2;
	}
	struct alert_config cfg;
	int rc = alert_config_parse(cfg_path, text, len, &cfg, err, sizeof(err));
	free(text);
	if (rc < 0) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (cfg.nreceivers == 0) {
		fprintf(stderr, "%s: alerting: no alertmanagers or receivers configured\n", cfg_path);
		alert_config_free(&cfg);
		return 2;
	}
	egress_reset();
	if (notify_allow_receivers(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		alert_config_free(&cfg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_stop);
	signal(SIGINT, on_stop);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	struct loop *l = loop_new();
	struct notifier *n = NULL;
	int exit_code = 1;
	if (notifier_open(l, db, &n, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		alert_config_free(&cfg);
		goto out;
	}
	notifier_configure(n, &cfg);
	if (alerts) {
		char *j = read_file(alerts, BUF_CAP_IPC_FRAME, &len);
		if (!j) {
			fprintf(stderr, "%s: %s\n", alerts, strerror(errno));
			exit_code = 2;
			goto out;
		}
		int added = notifier_accept(n, j, len, err, sizeof(err));
		free(j);
		if (added < 0) {
			fprintf(stderr, "%s: %s\n", alerts, err);
			exit_code = 2;
			goto out;
		}
		printf("queued %d notifications\n", added);
		fflush(stdout);
	}
	int64_t deadline = clock_mono_ms() + (int64_t)(timeout_s * 1000);
	while (!stop_requested && (notifier_queue_length(n) > 0 || notifier_in_flight(n) > 0) &&
	    clock_mono_ms() < deadline)
		loop_once(l, 100);
	struct buf m;
	buf_init(&m, 1 << 20);
	notifier_metrics(n, &m);
	fputs(m.data ? m.data : "", stdout);
	buf_free(&m);
	printf("queue length %lld\n", (long long)notifier_queue_length(n));
	exit_code = notifier_queue_length(n) == 0 ? 0 : 1;
out:
	notifier_close(n);
	loop_free(l);
	curl_global_cleanup();
	return exit_code;
}
