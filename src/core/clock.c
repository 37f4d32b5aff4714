/* clock.c — see clock.h. */
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_mono_ms(void)
{
	return clock_mono_ns() / 1000000;
}

int64_t clock_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int clock_parse_duration(const char *s, int64_t *ms)
{
	/* units from smallest to largest; each must be smaller than the one before */
	static const struct { const char *u; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "w", 604800000 }, { "y", 31536000000 },
	};
	int64_t total = 0;
	int prev = 7;	/* rank of the previous unit */
	if (!s || !*s)
		return -1;
	if (strcmp(s, "0") == 0) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		if (*s < '0' || *s > '9')
			return -1;
		int64_t n = 0;
		while (*s >= '0' && *s <= '9') {
			if (n > (INT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (*s++ - '0');
		}
		int u = -1;
		if (s[0] == 'm' && s[1] == 's')
			u = 0;	/* "ms" before "m" */
		else
			for (int i = 1; i < 7; i++)
				if (*s == units[i].u[0])
					u = i;
		if (u < 0 || u >= prev)
			return -1;
		prev = u;
		s += strlen(units[u].u);
		if (n > INT64_MAX / units[u].ms || total > INT64_MAX - n * units[u].ms)
			return -1;
		total += n * units[u].ms;
	}
	*ms = total;
	return 0;
}

char *clock_format_duration(int64_t ms, char *buf, unsigned bufsz)
{
	static const struct { char u; int64_t ms; } units[] = {
		{ 'y', 31536000000 }, { 'w', 604800000 }, { 'd', 86400000 },
		{ 'h', 3600000 }, { 'm', 60000 }, { 's', 1000 },
	};
	size_t o = 0;
	if (ms == 0) {
		snprintf(buf, bufsz, "0s");
		return buf;
	}
	buf[0] = '\0';
	for (int i = 0; i < 6 && ms > 0; i++) {
		if (ms >= units[i].ms) {
			int n = snprintf(buf + o, bufsz - o, "%lld%c", (long long)(ms / units[i].ms), units[i].u);
			if (n < 0 || (size_t)n >= bufsz - o)
				return buf;
			o += (size_t)n;
			ms %= units[i].ms;
		}
	}
	if (ms > 0)
		snprintf(buf + o, bufsz - o, "%lldms", (long long)ms);
	return buf;
}
