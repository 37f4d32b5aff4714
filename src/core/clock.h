/* clock.h — time in the units vigil uses: int64 milliseconds. */
#ifndef VIGIL_CLOCK_H
#define VIGIL_CLOCK_H

#include <stdint.h>

/* Milliseconds on a monotonic clock (for timers and durations). */
int64_t clock_mono_ms(void);
/* Nanoseconds on a monotonic clock (for latency measurements). */
int64_t clock_mono_ns(void);
/* Milliseconds since the Unix epoch (for sample timestamps). */
int64_t clock_wall_ms(void);
/*
 * Parse a Prometheus duration ("1s", "1m30s", "500ms", "2h", "1d", "1w", "1y")
 * into milliseconds. Return 0, or -1 if malformed or out of range.
 */
int clock_parse_duration(const char *s, int64_t *ms /* out */);
/* Format ms as a Prometheus duration ("1m30s") into buf; return buf. */
char *clock_format_duration(int64_t ms, char *buf, unsigned bufsz);

#endif
