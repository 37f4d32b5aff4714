/* logfmt output: one line per call, levels filtered, values quoted. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "t.h"

static char *capture(void (*fn)(void))
{
	char path[] = "/tmp/vigil-log-test-XXXXXX";
	int fd = mkstemp(path), saved = dup(2);
	dup2(fd, 2);
	fn();
	dup2(saved, 2);
	close(saved);
	static char out[8192];
	lseek(fd, 0, SEEK_SET);
	ssize_t n = read(fd, out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return out;
}

static void emit(void)
{
	char q[64];
	log_setup(LOG_WARN, "store");
	log_info("hidden", NULL);
	log_warn("disk \"nearly\" full", "path=%s free=%d", log_quote(q, sizeof(q), "/var/lib a"), 5);
	log_error("plain", NULL);
}

T_TEST(logfmt_lines_levels_and_quoting)
{
	char *out = capture(emit);
	T_CHECK(strstr(out, "hidden") == NULL);
	char *l1 = strstr(out, "level=warn proc=store msg=\"disk \\\"nearly\\\" full\" path=\"/var/lib a\" free=5\n");
	T_CHECK(l1 != NULL);
	T_CHECK(strstr(out, "level=error proc=store msg=\"plain\"\n") != NULL);
	T_CHECK(strncmp(out, "ts=", 3) == 0);
	int lines = 0;
	for (char *s = out; *s; s++)
		lines += *s == '\n';
	T_EQ_INT(lines, 2);
	enum log_level l;
	T_EQ_INT(log_level_parse("debug", &l), 0);
	T_EQ_INT(l, LOG_DEBUG);
	T_EQ_INT(log_level_parse("fatal", &l), -1);
}

T_TEST(quote_escapes_and_truncates)
{
	char q[16];
	T_EQ_STR(log_quote(q, sizeof(q), "a\nb"), "\"a\\nb\"");
	log_quote(q, sizeof(q), "0123456789abcdefghij");
	T_CHECK(strlen(q) < sizeof(q) && q[0] == '"' && q[strlen(q) - 1] == '"');
}

int main(void)
{
	T_RUN(logfmt_lines_levels_and_quoting);
	T_RUN(quote_escapes_and_truncates);
	return t_done();
}
