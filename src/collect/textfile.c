/*
 * textfile.c — node_exporter's textfile collector: every *.prom file in the
 * configured directory (written by cron jobs and the like) is parsed as
 * Prometheus text and served with the host metrics.
 *
 * Samples keep their names, labels, TYPE and HELP (histograms and
 * summaries stay whole families). A file with a timestamped sample or a
 * syntax error is skipped whole and sets node_textfile_scrape_error to 1.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "collect/collect.h"
#include "scrape/textparse.h"

#define TEXTFILE_FILES_MAX 256	/* files read from the directory */
#define TEXTFILE_HELP_MAX 512	/* bytes of a HELP kept */

struct tf_state {
	struct collect_ctx *c;		/* the collector set */
	char fam[256];			/* family of the last TYPE/HELP */
	char help[TEXTFILE_HELP_MAX];	/* its HELP */
	enum tp_type type;		/* its TYPE */
	int pass;			/* 0: check the file, 1: emit */
	const char *path;		/* the file, for the default HELP */
};

static int tf_help(void *ctx, const char *fam, const char *text, size_t n)
{
	struct tf_state *s = ctx;
	if (strcmp(s->fam, fam) != 0) {
		snprintf(s->fam, sizeof(s->fam), "%s", fam);
		s->type = TP_UNTYPED;
	}
	snprintf(s->help, sizeof(s->help), "%.*s", (int)(n < TEXTFILE_HELP_MAX ? n : TEXTFILE_HELP_MAX - 1), text);
	return 0;
}

static int tf_type(void *ctx, const char *fam, enum tp_type t)
{
	struct tf_state *s = ctx;
	if (strcmp(s->fam, fam) != 0) {
		snprintf(s->fam, sizeof(s->fam), "%s", fam);
		s->help[0] = 0;
	}
	s->type = t;
	return 0;
}

static int tf_sample(void *ctx, const struct tp_sample *smp)
{
	struct tf_state *s = ctx;
	const char *name = smp->labels[0].value;
	if (smp->has_ts)
		return 1;	/* node_exporter refuses timestamps in textfiles */
	if (smp->nlabels > COLLECT_LABELS_MAX)
		return 1;
	if (s->pass == 0)
		return 0;
	size_t fl = strlen(s->fam);
	int member = !strncmp(name, s->fam, fl) && (smp->type == TP_HISTOGRAM || smp->type == TP_SUMMARY);
	int own = member || !strcmp(name, s->fam);
	enum collect_type t = !own ? COLLECT_UNTYPED : s->type == TP_COUNTER ? COLLECT_COUNTER :
	    s->type == TP_GAUGE ? COLLECT_GAUGE : s->type == TP_HISTOGRAM ? COLLECT_HISTOGRAM :
	    s->type == TP_SUMMARY ? COLLECT_SUMMARY : COLLECT_UNTYPED;
	char help[TEXTFILE_HELP_MAX + 4096];
	if (own && s->help[0])
		snprintf(help, sizeof(help), "%s", s->help);
	else
		snprintf(help, sizeof(help), "Metric read from %s", s->path);
	collect_family(s->c, own ? s->fam : name, help, t);
	/* members of a histogram or summary keep their own names (labels[0] is __name__) */
	return collect_addv(s->c, smp->value, smp->labels + (member ? 0 : 1), smp->nlabels - (member ? 0 : 1));
}

int collect_textfile(struct collect_ctx *c)
{
	const char *dir = collect_cfg(c)->textfile_dir;
	double error = 0;
	static char names[TEXTFILE_FILES_MAX][4096];
	static double mtimes[TEXTFILE_FILES_MAX];
	size_t n = 0;
	if (dir) {
		DIR *d = opendir(dir);
		if (!d) {
			error = 1;
		} else {
			struct dirent *de;
			while ((de = readdir(d)) && n < TEXTFILE_FILES_MAX) {
				size_t l = strlen(de->d_name);
				if (l < 6 || strcmp(de->d_name + l - 5, ".prom") != 0)
					continue;
				size_t len;
				const char *body = collect_read_once(c, dir, de->d_name, &len);
				if (!body) {
					error = 1;
					continue;
				}
				char path[4096];
				snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
				struct tf_state st = { .c = c, .type = TP_UNTYPED, .path = path };
				struct tp_callbacks cb = { .sample = tf_sample, .help = tf_help, .type = tf_type };
				char err[256];
				/* check the whole file before serving any of it */
				if (textparse(body, len, TP_PROMETHEUS, &cb, &st, err, sizeof(err)) != 0) {
					error = 1;
					continue;
				}
				memset(&st, 0, sizeof(st));
				st.c = c;
				st.type = TP_UNTYPED;
				st.pass = 1;
				st.path = path;
				textparse(body, len, TP_PROMETHEUS, &cb, &st, err, sizeof(err));
				struct stat sb;
				snprintf(names[n], sizeof(names[n]), "%s", path);
				mtimes[n] = stat(path, &sb) == 0 ? (double)sb.st_mtim.tv_sec + (double)sb.st_mtim.tv_nsec / 1e9 : 0;
				n++;
			}
			closedir(d);
		}
	}
	if (n) {
		collect_family(c, "node_textfile_mtime_seconds", "Unixtime mtime of textfiles successfully read.", COLLECT_GAUGE);
		for (size_t i = 0; i < n; i++)
			collect_add(c, mtimes[i], "file", names[i], NULL);
	}
	collect_one(c, "node_textfile_scrape_error", "1 if there was an error opening or reading a file, 0 otherwise",
	    COLLECT_GAUGE, error);
	return 0;
}
