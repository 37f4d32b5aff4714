/* schedule.c — run a collector set on the event loop and hand each run to a sink. */
#include <stdlib.h>

#include "collect/collect.h"
#include "core/clock.h"
#include "core/xmalloc.h"

struct collect_sched {
	struct loop *l;			/* the loop the timer lives on */
	struct collect_ctx *c;		/* collectors (not owned) */
	struct sample_sink sink;	/* where each run goes */
	int64_t interval_ms;		/* period */
	int64_t next_ms;		/* monotonic time of the next run */
	uint64_t timer;			/* pending timer id */
	uint64_t runs;			/* runs done */
};

static void sched_tick(struct loop *l, uint64_t id, void *ctx)
{
	struct collect_sched *s = ctx;
	(void)id;
	s->timer = 0;
	collect_run(s->c);
	int64_t ts = clock_wall_ms();
	collect_emit(s->c, &s->sink, ts);
	/* up = 1 per run, as a Prometheus scraping node_exporter records it, so this
	 * host has an availability history (the sink adds job and instance) */
	struct label up = { "__name__", "up" };
	struct labels *ls = labels_new(&up, 1);
	s->sink.add(s->sink.ctx, ls, ts, 1);
	labels_free(ls);
	s->runs++;
	int64_t now = loop_now(l);
	s->next_ms += s->interval_ms;
	if (s->next_ms < now)	/* a run took longer than the period: skip ahead */
		s->next_ms = now + s->interval_ms;
	s->timer = loop_add_timer(l, s->next_ms - now, sched_tick, s);
}

struct collect_sched *collect_schedule(struct loop *l, struct collect_ctx *c, int64_t interval_ms,
    struct sample_sink sink)
{
	struct collect_sched *s = xcalloc(1, sizeof(*s));
	s->l = l;
	s->c = c;
	s->sink = sink;
	s->interval_ms = interval_ms > 0 ? interval_ms : 15000;
	s->next_ms = loop_now(l);
	s->timer = loop_add_timer(l, 0, sched_tick, s);
	return s;
}

void collect_unschedule(struct collect_sched *s)
{
	if (!s)
		return;
	if (s->timer)
		loop_del_timer(s->l, s->timer);
	free(s);
}

uint64_t collect_sched_runs(const struct collect_sched *s)
{
	return s->runs;
}
