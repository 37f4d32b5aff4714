/* timex.c — node_timex_* from adjtimex(2) (read-only: modes 0). */
#include <sys/timex.h>

#include "collect/collect.h"

int collect_timex(struct collect_ctx *c)
{
	struct timex tx = { 0 };
	int st = adjtimex(&tx);
	if (st < 0)
		return -1;
	double div = (tx.status & STA_NANO) ? 1e9 : 1e6;	/* offset/jitter unit */
	const double ppm16 = 65536.0 * 1e6;			/* scaled-ppm to ratio */
	collect_one(c, "node_timex_estimated_error_seconds", "Estimated error in seconds.", COLLECT_GAUGE, (double)tx.esterror / 1e6);
	collect_one(c, "node_timex_frequency_adjustment_ratio", "Local clock frequency adjustment.", COLLECT_GAUGE, 1 + (double)tx.freq / ppm16);
	collect_one(c, "node_timex_loop_time_constant", "Phase-locked loop time constant.", COLLECT_GAUGE, (double)tx.constant);
	collect_one(c, "node_timex_maxerror_seconds", "Maximum error in seconds.", COLLECT_GAUGE, (double)tx.maxerror / 1e6);
	collect_one(c, "node_timex_offset_seconds", "Time offset in between local system and reference clock.", COLLECT_GAUGE, (double)tx.offset / div);
	collect_one(c, "node_timex_pps_calibration_total", "Pulse per second count of calibration intervals.", COLLECT_COUNTER, (double)tx.calcnt);
	collect_one(c, "node_timex_pps_error_total", "Pulse per second count of calibration errors.", COLLECT_COUNTER, (double)tx.errcnt);
	collect_one(c, "node_timex_pps_frequency_hertz", "Pulse per second frequency.", COLLECT_GAUGE, (double)tx.ppsfreq / ppm16);
	collect_one(c, "node_timex_pps_jitter_seconds", "Pulse per second jitter.", COLLECT_GAUGE, (double)tx.jitter / div);
	collect_one(c, "node_timex_pps_jitter_total", "Pulse per second count of jitter limit exceeded events.", COLLECT_COUNTER, (double)tx.jitcnt);
	collect_one(c, "node_timex_pps_shift_seconds", "Pulse per second interval duration.", COLLECT_GAUGE, (double)tx.shift);
	collect_one(c, "node_timex_pps_stability_exceeded_total", "Pulse per second count of stability limit exceeded events.", COLLECT_COUNTER, (double)tx.stbcnt);
	collect_one(c, "node_timex_pps_stability_hertz", "Pulse per second stability, average of recent frequency changes.", COLLECT_GAUGE, (double)tx.stabil / ppm16);
	collect_one(c, "node_timex_status", "Value of the status array bits.", COLLECT_GAUGE, (double)tx.status);
	collect_one(c, "node_timex_sync_status", "Is clock synchronized to a reliable server (1 = yes, 0 = no).", COLLECT_GAUGE, st == TIME_ERROR ? 0 : 1);
	collect_one(c, "node_timex_tai_offset_seconds", "International Atomic Time (TAI) offset.", COLLECT_GAUGE, (double)tx.tai);
	collect_one(c, "node_timex_tick_seconds", "Seconds between clock ticks.", COLLECT_GAUGE, (double)tx.tick / 1e6);
	return 0;
}
