/* log.c — see log.h. One write(2) per line so lines from workers never interleave. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_min = LOG_INFO;	/* lowest level printed */
static char log_proc[16] = "vigil";		/* proc= value on every line */

static const char *const level_names[] = { "debug", "info", "warn", "error", "fatal" };

void log_setup(enum log_level min, const char *proc)
{
	log_min = min;
	if (proc)
		snprintf(log_proc, sizeof(log_proc), "%s", proc);
}

int log_level_parse(const char *s, enum log_level *out)
{
	for (int i = LOG_DEBUG; i <= LOG_ERROR; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *log_quote(char *buf, size_t bufsz, const char *s)
{
	size_t o = 0;
	if (bufsz < 3) {
		if (bufsz)
			buf[0] = '\0';
		return buf;
	}
	buf[o++] = '"';
	for (; s && *s && o + 3 < bufsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else if (c < 0x20) {
			buf[o++] = '?';
		} else {
			buf[o++] = (char)c;
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

static void log_vmsg(enum log_level lvl, const char *msg, const char *fmt, va_list ap)
{
	char line[2048], q[512];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	int n = snprintf(line, sizeof(line),
	    "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ level=%s proc=%s msg=%s",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
	    ts.tv_nsec / 1000000, level_names[lvl], log_proc, log_quote(q, sizeof(q), msg));
	if (n < 0)
		return;
	size_t len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
	if (fmt && *fmt && len + 2 < sizeof(line)) {
		line[len++] = ' ';
		int m = vsnprintf(line + len, sizeof(line) - len, fmt, ap);
		if (m > 0)
			len += (size_t)m < sizeof(line) - len ? (size_t)m : sizeof(line) - len - 1;
	}
	if (len + 1 >= sizeof(line))
		len = sizeof(line) - 2;
	line[len++] = '\n';
	(void)!write(2, line, len);
}

void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
{
	if (lvl < log_min)
		return;
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(lvl, msg, fmt, ap);
	va_end(ap);
}

void log_fatal(int code, const char *msg, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vmsg(LOG_FATAL, msg, fmt, ap);
	va_end(ap);
	exit(code);
}
