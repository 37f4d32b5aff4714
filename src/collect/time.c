/* time.c — node_time_seconds, time zone offset and clock sources. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "collect/collect.h"
#include "core/clock.h"

int collect_time(struct collect_ctx *c)
{
	collect_one(c, "node_time_seconds", "System time in seconds since epoch (1970).", COLLECT_GAUGE,
	    (double)clock_wall_ms() / 1000.0);
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm)) {
		collect_family(c, "node_time_zone_offset_seconds", "System time zone offset in seconds.", COLLECT_GAUGE);
		collect_add(c, (double)tm.tm_gmtoff, "time_zone", tm.tm_zone ? tm.tm_zone : "", NULL);
	}
	char avail[1024], cur[128];
	const char *sys = collect_cfg(c)->sys;
	if (collect_read_small(c, sys, "devices/system/clocksource/clocksource0/available_clocksource", avail, sizeof(avail)) == 0) {
		collect_family(c, "node_time_clocksource_available_info",
		    "Available clocksources read from '/sys/devices/system/clocksource'.", COLLECT_GAUGE);
		char *s = avail;
		while (*s) {
			while (*s == ' ')
				s++;
			char *e = s;
			while (*e && *e != ' ')
				e++;
			char save = *e;
			*e = 0;
			if (*s)
				collect_add(c, 1, "clocksource", s, "device", "0", NULL);
			*e = save;
			s = e;
		}
	}
	if (collect_read_small(c, sys, "devices/system/clocksource/clocksource0/current_clocksource", cur, sizeof(cur)) == 0) {
		collect_family(c, "node_time_clocksource_current_info",
		    "Current clocksource read from '/sys/devices/system/clocksource'.", COLLECT_GAUGE);
		collect_add(c, 1, "clocksource", cur, "device", "0", NULL);
	}
	return 0;
}
