/*
 * agent.c — `vigil agent`: serve the host collectors on /metrics, the way
 * node_exporter does, from a small libmicrohttpd server.
 *
 *   vigil agent [--listen ADDR:PORT] [--interval DUR] [--collectors a,b] [--enable a,b]
 *               [--process-group NAME=REGEX]... [--textfile-dir DIR] [--proc DIR] [--sys DIR]
 *               [--systemd-bus ADDR]
 *
 * With --interval 0 (the default) every scrape runs the collectors; with a
 * duration the collectors run on that period and scrapes get the last
 * result. Prometheus text by default, OpenMetrics when the Accept header
 * asks for application/openmetrics-text. All option parsing is in
 * agent_parse_args so config-file support can be added in one place.
 */
#include "collect/agent.h"
#include "collect/agent_push.h"
#include "core/config.h"
#include "sandbox/sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <pwd.h>
#include <sys/stat.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "collect/collect.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct agent {
	struct agent_opts *o;		/* options */
	struct collect_ctx *c;		/* collectors */
	pthread_mutex_t mu;		/* guards c, text and om */
	struct buf text;		/* last rendering, Prometheus text */
	struct buf om;			/* last rendering, OpenMetrics */
	int text_ok, om_ok;		/* text / om hold the last collection */
	int64_t scrapes;		/* scrapes served */
};

static volatile sig_atomic_t agent_stop;	/* set by SIGINT/SIGTERM */

static void on_signal(int sig)
{
	(void)sig;
	agent_stop = 1;
}

static void usage(FILE *f)
{
	fputs("usage: vigil agent [--listen ADDR:PORT] [--interval DUR] [--collectors a,b,...] [--enable a,b]\n"
	    "                   [--process-group NAME=REGEX]... [--textfile-dir DIR] [--proc DIR] [--sys DIR]\n"
	    "  --listen         address to serve /metrics on (default " AGENT_DEFAULT_LISTEN ")\n"
	    "  --interval       collect every DUR (e.g. 15s); 0 = on each scrape (default)\n"
	    "  --collectors     run only these collectors\n"
	    "  --enable         add collectors that are off by default (processes)\n"
	    "  --process-group  watch processes whose comm or cmdline matches REGEX as group NAME\n"
	    "  --textfile-dir   also serve the *.prom files of DIR (node_exporter's textfile collector;\n"
	    "                   started as root the agent runs as vigil or nobody: DIR must be readable)\n"
	    "  --remote-write URL   also push every collection there (Prometheus remote_write),\n"
	    "                   e.g. http://central:9920/api/v1/write; interval defaults to 15s\n"
	    "  --token-file F   bearer token for --remote-write, from a file of mode 0600\n"
	    "  --job NAME, --instance NAME   labels of pushed series (default node, host name)\n"
	    "  --systemd-bus ADDR   D-Bus address of the systemd manager for unit states\n"
	    "                   (default: the system bus), e.g. unix:path=/run/user/1000/bus\n", f);
}

void agent_opts_free(struct agent_opts *o)
{
	if (!o)
		return;
	free(o->groups);
	memset(o, 0, sizeof(*o));
}

int agent_parse_args(int argc, char **argv, struct agent_opts *o, char *err, size_t errsz)
{
	memset(o, 0, sizeof(*o));
	o->listen = AGENT_DEFAULT_LISTEN;
	o->proc = "/proc";
	o->sys = "/sys";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			o->help = 1;
			return 0;
		}
		if (!v) {
			snprintf(err, errsz, "option %s needs a value", a);
			goto fail;
		}
		i++;
		if (!strcmp(a, "--listen")) {
			o->listen = v;
		} else if (!strcmp(a, "--interval")) {
			if (clock_parse_duration(v, &o->interval_ms) < 0 && strcmp(v, "0") != 0) {
				snprintf(err, errsz, "--interval: bad duration \"%s\"", v);
				goto fail;
			}
			if (!strcmp(v, "0"))
				o->interval_ms = 0;
		} else if (!strcmp(a, "--collectors")) {
			o->collectors = v;
		} else if (!strcmp(a, "--enable")) {
			o->enable = v;
		} else if (!strcmp(a, "--proc")) {
			o->proc = v;
		} else if (!strcmp(a, "--sys")) {
			o->sys = v;
		} else if (!strcmp(a, "--remote-write")) {
			o->remote_write = v;
		} else if (!strcmp(a, "--token-file")) {
			o->token_file = v;
		} else if (!strcmp(a, "--job")) {
			o->job = v;
		} else if (!strcmp(a, "--instance")) {
			o->instance = v;
		} else if (!strcmp(a, "--systemd-bus")) {
			o->systemd_bus = v;
		} else if (!strcmp(a, "--textfile-dir")) {
			o->textfile_dir = v;
		} else if (!strcmp(a, "--process-group")) {
			const char *eq = strchr(v, '=');
			if (!eq || eq == v || !eq[1]) {
				snprintf(err, errsz, "--process-group: want NAME=REGEX, got \"%s\"", v);
				goto fail;
			}
			if (o->ngroups == COLLECT_GROUPS_MAX) {
				snprintf(err, errsz, "more than %d process groups", COLLECT_GROUPS_MAX);
				goto fail;
			}
			o->groups = xreallocarray(o->groups, o->ngroups + 1, sizeof(*o->groups));
			/* argv strings live for the process: point into them */
			o->group_names[o->ngroups] = xstrndup(v, (size_t)(eq - v));
			o->groups[o->ngroups] = (struct collect_procgroup){ o->group_names[o->ngroups], eq + 1, eq + 1 };
			o->ngroups++;
		} else {
			snprintf(err, errsz, "unknown option %s", a);
			goto fail;
		}
	}
	return 0;
fail:
	for (size_t k = 0; k < o->ngroups; k++)
		free(o->group_names[k]);
	agent_opts_free(o);
	return -EINVAL;
}

/* Collect; the renderings are made when a scrape asks for them. Caller holds a->mu. */
static void agent_refresh(struct agent *a)
{
	collect_run(a->c);
	a->text_ok = a->om_ok = 0;
}

/* The rendering in the asked format, made once per collection. Caller holds a->mu. */
static const struct buf *agent_body(struct agent *a, int om)
{
	struct buf *b = om ? &a->om : &a->text;
	int *ok = om ? &a->om_ok : &a->text_ok;
	if (!*ok) {
		buf_reset(b);
		if (collect_render(a->c, b, om) < 0)
			log_warn("agent render too large", "cap=%u", COLLECT_RENDER_MAX);
		*ok = 1;
	}
	return b;
}

static enum MHD_Result agent_handle(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct agent *a = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	(void)version;
	(void)upload;
	(void)upload_size;
	(void)con_cls;
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
		static const char msg[] = "method not allowed\n";
		r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)(uintptr_t)msg, MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/metrics") != 0) {
		static const char page[] = "<html><head><title>vigil agent</title></head><body>"
		    "<h1>vigil agent</h1><p><a href=\"/metrics\">Metrics</a></p></body></html>\n";
		r = MHD_create_response_from_buffer(sizeof(page) - 1, (void *)(uintptr_t)page, MHD_RESPMEM_PERSISTENT);
		ret = MHD_queue_response(conn, strcmp(url, "/") ? MHD_HTTP_NOT_FOUND : MHD_HTTP_OK, r);
		MHD_destroy_response(r);
		return ret;
	}
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept");
	int om = accept && strstr(accept, "application/openmetrics-text") != NULL;
	pthread_mutex_lock(&a->mu);
	if (!a->o->interval_ms)
		agent_refresh(a);
	const struct buf *b = agent_body(a, om);
	r = MHD_create_response_from_buffer(b->len, b->data ? b->data : (void *)(uintptr_t)"", MHD_RESPMEM_MUST_COPY);
	a->scrapes++;
	pthread_mutex_unlock(&a->mu);
	MHD_add_response_header(r, "Content-Type", om ? "application/openmetrics-text; version=1.0.0; charset=utf-8" :
	    "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* Parse "ADDR:PORT" ("[v6]:port" too) into sa. 0 or -EINVAL. */
static int parse_listen(const char *s, struct sockaddr_storage *sa, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(host))
		return -EINVAL;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = 0;
	char *e;
	long port = strtol(colon + 1, &e, 10);
	if (*e || port <= 0 || port > 65535)
		return -EINVAL;
	memset(sa, 0, sizeof(*sa));
	struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		host[strlen(host) - 1] = 0;
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1)
			return -EINVAL;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*s6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
		return -EINVAL;
	s4->sin_family = AF_INET;
	s4->sin_port = htons((uint16_t)port);
	*len = sizeof(*s4);
	return 0;
}

/* Read a bearer token from a file nobody else can read. */
static int read_token(const char *path, char *tok, size_t toksz, char *err, size_t errsz)
{
	struct stat st;
	FILE *f = fopen(path, "re");
	if (!f || fstat(fileno(f), &st) < 0) {
		snprintf(err, errsz, "--token-file %s: %s", path, strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errsz, "--token-file %s: readable by group or others (mode %04o); run: chmod 600 %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		fclose(f);
		return -1;
	}
	if (!fgets(tok, (int)toksz, f))
		tok[0] = '\0';
	fclose(f);
	tok[strcspn(tok, "\r\n")] = '\0';
	return 0;
}

int agent_main(int argc, char **argv)
{
	struct agent_opts o;
	struct agent a;
	char err[256];
	struct sockaddr_storage sa;
	socklen_t salen;
	int rc = 1;
	if (agent_parse_args(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "vigil agent: %s\n", err);
		usage(stderr);
		return 2;
	}
	if (o.help) {
		usage(stdout);
		agent_opts_free(&o);
		return 0;
	}
	if (parse_listen(o.listen, &sa, &salen) < 0) {
		fprintf(stderr, "vigil agent: --listen: want ADDR:PORT, got \"%s\"\n", o.listen);
		agent_opts_free(&o);
		return 2;
	}
	struct agent_push *push = NULL;
	if (o.remote_write) {
		char tok[512] = "", inst[256];
		if (o.token_file && read_token(o.token_file, tok, sizeof(tok), err, sizeof(err)) < 0) {
			fprintf(stderr, "vigil agent: %s\n", err);
			agent_opts_free(&o);
			return 2;
		}
		if (!o.instance && gethostname(inst, sizeof(inst) - 1) < 0)
			snprintf(inst, sizeof(inst), "localhost");
		push = agent_push_new(o.remote_write, tok[0] ? tok : NULL, o.job ? o.job : "node",
		    o.instance ? o.instance : inst, err, sizeof(err));
		explicit_bzero(tok, sizeof(tok));
		if (!push) {
			fprintf(stderr, "vigil agent: %s\n", err);
			agent_opts_free(&o);
			return 2;
		}
		if (!o.interval_ms)
			o.interval_ms = 15000;
	}
	/* The same sandbox as the poller worker, before any thread starts. */
	char sberr[256];
	int landlock_on = 0;
	struct sandbox_spec sb = { .role = ROLE_POLLER };
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("vigil");
		if (!pw)
			pw = getpwnam("nobody");
		if (pw) {
			sb.drop_user = 1;
			sb.uid = pw->pw_uid;
			sb.gid = pw->pw_gid;
		}
	}
	struct collect_config cfg = COLLECT_CONFIG_DEFAULT;
	cfg.proc = o.proc;
	cfg.sys = o.sys;
	cfg.only = o.collectors;
	cfg.enable = o.enable;
	cfg.textfile_dir = o.textfile_dir;
	cfg.systemd_bus = o.systemd_bus;
	cfg.groups = o.groups;
	cfg.ngroups = o.ngroups;
	memset(&a, 0, sizeof(a));
	a.o = &o;
	a.c = collect_new(&cfg, err, sizeof(err));
	if (!a.c) {
		fprintf(stderr, "vigil agent: %s\n", err);
		goto out;
	}
	if (sandbox_enter(&sb, &landlock_on, sberr, sizeof(sberr)) < 0) {
		fprintf(stderr, "vigil agent: cannot enter the sandbox: %s\n", sberr);
		goto out_collect_only;
	}
	pthread_mutex_init(&a.mu, NULL);
	buf_init(&a.text, COLLECT_RENDER_MAX);
	buf_init(&a.om, COLLECT_RENDER_MAX);
	agent_refresh(&a);
	struct MHD_Daemon *d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_USE_ERROR_LOG |
	    (sa.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0), 0, NULL, NULL, agent_handle, &a,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT, (unsigned)64,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
	if (!d) {
		log_error("agent cannot listen", "listen=%s errno=%d", o.listen, errno);
		goto out_collect;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	log_info("agent listening", "listen=%s interval_ms=%lld", o.listen, (long long)o.interval_ms);
	int64_t next = clock_mono_ms() + o.interval_ms;
	while (!agent_stop) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
		if (o.interval_ms && clock_mono_ms() >= next) {
			pthread_mutex_lock(&a.mu);
			agent_refresh(&a);
			if (push)
				agent_push_run(push, a.c, clock_wall_ms());
			pthread_mutex_unlock(&a.mu);
			next += o.interval_ms;
		}
	}
	MHD_stop_daemon(d);
	rc = 0;
out_collect:
	buf_free(&a.text);
	buf_free(&a.om);
	pthread_mutex_destroy(&a.mu);
out_collect_only:
	collect_free(a.c);
	agent_push_free(push);
out:
	for (size_t k = 0; k < o.ngroups; k++)
		free(o.group_names[k]);
	agent_opts_free(&o);
	return rc;
}
