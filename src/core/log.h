/*
 * log.h — logfmt logging to stderr with levels.
 *
 *   log_info("worker started", "role=%s pid=%d", "store", 42);
 *
 * prints `ts=2026-11-27T22:00:00.000Z level=info proc=store msg="worker started" role=store pid=42`.
 * The second argument is the logfmt tail (key=value ...) and may be NULL.
 * Values that may contain spaces or quotes must go through log_quote().
 */
#ifndef VIGIL_LOG_H
#define VIGIL_LOG_H

#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_FATAL };

/* Set the lowest level printed (default LOG_INFO) and the proc= name. */
void log_setup(enum log_level min, const char *proc);
/* Parse "debug", "info", "warn", "error"; return 0 or -1 if unknown. */
int log_level_parse(const char *s, enum log_level *out /* out */);
/* Write one line at level. fmt (may be NULL) formats the key=value tail. */
void log_msg(enum log_level lvl, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Quote s for a logfmt value into buf (always NUL-terminated); return buf. */
const char *log_quote(char *buf, size_t bufsz, const char *s);
/* Log at LOG_FATAL and exit(code). */
void log_fatal(int code, const char *msg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
