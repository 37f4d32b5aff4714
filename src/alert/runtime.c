/*
 * runtime.c — everything the store worker needs to run alerting, in one
 * object: load `rule_files` (globs, relative to the config file), keep the
 * engine, evaluate on a tick, hand notifications over as one MSG_ALERTS
 * payload, and persist alert state to a file so it survives restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/alert.h"
#include "core/log.h"
#include "core/xmalloc.h"

#define STATE_FILE_MAX (256u << 20)	/* a saved alert state file */

struct alert_runtime {
	struct alert_engine *e;		/* the engine (owns the rules) */
	struct alert_config cfg;	/* the alerting section in force */
	char *state_path;		/* where state is saved (NULL: not persisted) */
	int dirty;			/* evaluated since the last save */
	struct alert_ops *ops;		/* acknowledgements, silences, API maintenance windows */
	int64_t last_gc_ms;		/* last time acknowledgements were checked against alerts */
};

/* Resolve a rule_files entry against the config file's directory. */
static char *rel_to(const char *cfg_name, const char *p)
{
	if (p[0] == '/' || !strchr(cfg_name, '/'))
		return xstrdup(p);
	const char *slash = strrchr(cfg_name, '/');
	return xasprintf("%.*s/%s", (int)(slash - cfg_name), cfg_name, p);
}

static int load_rules(const struct alert_config *c, const char *cfg_name, alert_expr_check_fn check,
    void *cctx, struct rule_set *rs, char *err, size_t errsz)
{
	for (size_t i = 0; i < c->nrule_files; i++) {
		char *pat = rel_to(cfg_name, c->rule_files[i]);
		if (!strpbrk(pat, "*?[")) {
			int rc = rules_load_file(rs, pat, check, cctx, err, errsz);
			free(pat);
			if (rc < 0)
				return -1;
			continue;
		}
		glob_t g;
		int gr = glob(pat, GLOB_ERR, NULL, &g);
		if (gr != 0 && gr != GLOB_NOMATCH) {
			snprintf(err, errsz, "rule_files: %s: cannot list", pat);
			free(pat);
			return -1;
		}
		free(pat);
		for (size_t k = 0; gr == 0 && k < g.gl_pathc; k++) {
			if (rules_load_file(rs, g.gl_pathv[k], check, cctx, err, errsz) < 0) {
				globfree(&g);
				return -1;
			}
		}
		if (gr == 0)
			globfree(&g);
	}
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	struct buf b;
	buf_init(&b, STATE_FILE_MAX);
	char tmp[65536];
	ssize_t n;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		if (buf_add(&b, tmp, (size_t)n) < 0) {
			n = -1;
			break;
		}
	close(fd);
	if (n < 0) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.data ? buf_detach(&b, NULL) : xstrdup("");
}

int alert_runtime_new(const char *cfg_name, const char *cfg_text, size_t len, alert_expr_check_fn check,
    alert_expr_format_fn format, void *cctx, const char *state_path, struct alert_runtime **out,
    char *err, size_t errsz)
{
	*out = NULL;
	struct alert_runtime *rt = xcalloc(1, sizeof(*rt));
	if (alert_config_parse(cfg_name, cfg_text, len, &rt->cfg, err, errsz) < 0) {
		free(rt);
		return -1;
	}
	struct rule_set *rs = rule_set_new();
	if (load_rules(&rt->cfg, cfg_name, check, cctx, rs, err, errsz) < 0) {
		rule_set_free(rs);
		alert_config_free(&rt->cfg);
		free(rt);
		return -1;
	}
	struct alert_engine_opts o = { .default_interval_ms = rt->cfg.evaluation_interval_ms,
		.resend_delay_ms = rt->cfg.resend_delay_ms, .external_labels = rt->cfg.external_labels,
		.external_url = rt->cfg.external_url, .format_expr = format, .format_ctx = cctx };
	rt->e = alert_engine_new(rs, &o);
	/* Operator actions live beside the state file (in memory when there is none). */
	char *ops_path = NULL;
	if (state_path) {
		const char *slash = strrchr(state_path, '/');
		ops_path = slash ? xasprintf("%.*s/%s", (int)(slash - state_path), state_path, ALERT_OPS_DB)
		    : xstrdup(ALERT_OPS_DB);
	}
	if (alert_ops_open(ops_path, &rt->ops, err, errsz) < 0) {
		free(ops_path);
		alert_engine_free(rt->e);
		alert_config_free(&rt->cfg);
		free(rt);
		return -1;
	}
	free(ops_path);
	rt->e->ops = rt->ops;
	if (state_path) {
		rt->state_path = xstrdup(state_path);
		size_t n;
		char *s = read_all(state_path, &n);
		if (s && alert_engine_restore(rt->e, s, n) < 0)
			log_error("saved alert state is damaged; starting without it", "file=%s", state_path);
		free(s);
	}
	*out = rt;
	return 0;
}

int alert_runtime_save(struct alert_runtime *rt)
{
	if (!rt->state_path)
		return 0;
	struct buf b;
	buf_init(&b, STATE_FILE_MAX);
	char *tmp = xasprintf("%s.tmp", rt->state_path);
	int rc = alert_engine_save(rt->e, &b);
	int fd = rc == 0 ? open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600) : -1;
	if (fd < 0) {
		rc = rc ? rc : -errno;
	} else {
		size_t off = 0;
		while (off < b.len) {
			ssize_t w = write(fd, b.data + off, b.len - off);
			if (w < 0) {
				rc = -errno;
				break;
			}
			off += (size_t)w;
		}
		if (rc == 0 && fsync(fd) < 0)
			rc = -errno;
		close(fd);
		/* rename is atomic: a crash leaves the old state or the new, never half */
		if (rc == 0 && rename(tmp, rt->state_path) < 0)
			rc = -errno;
	}
	if (rc < 0)
		log_error("cannot save alert state", "file=%s err=\"%s\"", rt->state_path, strerror(-rc));
	else
		rt->dirty = 0;
	free(tmp);
	buf_free(&b);
	return rc;
}

int alert_runtime_tick(struct alert_runtime *rt, int64_t now_ms, alert_query_fn q, void *qctx,
    const struct sample_sink *sink, struct buf *msg)
{
	uint64_t before = rt->e->evaluations;
	struct buf notify;
	buf_init(&notify, ALERT_MSG_MAX - 2);
	int failed = alert_engine_eval_due(rt->e, now_ms, q, qctx, sink, &notify);
	if (notify.len) {
		buf_addc(msg, '[');
		buf_add(msg, notify.data, notify.len);
		buf_addc(msg, ']');
	}
	buf_free(&notify);
	if (rt->e->evaluations != before) {
		rt->dirty = 1;
		alert_runtime_save(rt);
		if (now_ms - rt->last_gc_ms >= 5000) {
			rt->last_gc_ms = now_ms;
			alert_ops_gc_acks(rt);
		}
	}
	return failed;
}

struct alert_engine *alert_runtime_engine(const struct alert_runtime *rt)
{
	return rt->e;
}

struct alert_ops *alert_runtime_ops(const struct alert_runtime *rt)
{
	return rt->ops;
}

const struct alert_config *alert_runtime_config(const struct alert_runtime *rt)
{
	return &rt->cfg;
}

void alert_runtime_free(struct alert_runtime *rt)
{
	if (!rt)
		return;
	if (rt->dirty)
		alert_runtime_save(rt);
	alert_engine_free(rt->e);
	alert_ops_close(rt->ops);
	alert_config_free(&rt->cfg);
	free(rt->state_path);
	free(rt);
}
