#!/usr/bin/env python3
"""Synthetic data set (b) of issue #3: SERIES series over HOURS at a 15 s
interval, as OpenMetrics with timestamps (seconds, ms precision), grouped
series by series as promtool wants.

Usage: gen-synth.py SERIES HOURS OUT

Series come in groups of 100 per target (instance), sharing the target's
scrape timestamps (15 s apart with 0-20 ms jitter per scrape):
  40 integer counters (bytes/packets, bursty increments, some idle),
  15 decimal counters (CPU seconds with 2 decimals),
  10 noisy gauges, 2 decimals (load, temperatures),
   5 noisy gauges at full float precision (ratios),
   5 integer gauges (page-sized memory random walks),
  10 constants (info metrics, boot time, limits),
  15 histogram series (12 cumulative buckets, _sum, _count).
Seeded, so every run makes the same file.
"""
import math
import random
import sys

BUCKETS = ('0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf')


def series_of(target, rnd):
    """Return [(name, labels, kind, state)] for one target (100 series)."""
    inst = 'instance="host%05d:9100",job="synth"' % target
    out = []
    for i in range(40):
        out.append(('net_bytes_total', '%s,dev="if%02d"' % (inst, i), 'icounter',
                    [rnd.randint(0, 1 << 40), rnd.choice((0, 0, 10, 1000, 100000, 5000000)), 0]))
    for i in range(15):
        out.append(('cpu_seconds_total', '%s,cpu="%d",mode="m%d"' % (inst, i // 5, i % 5), 'dcounter',
                    [rnd.uniform(1e4, 1e6), rnd.choice((0.01, 0.3, 0.6, 14.0))]))
    for i in range(10):
        out.append(('temperature_celsius', '%s,sensor="s%d"' % (inst, i), 'dgauge',
                    [rnd.uniform(20, 80), rnd.uniform(0.01, 0.5)]))
    for i in range(5):
        out.append(('disk_busy_ratio', '%s,disk="d%d"' % (inst, i), 'fgauge', [rnd.random()]))
    for i in range(5):
        out.append(('memory_bytes', '%s,kind="k%d"' % (inst, i), 'igauge',
                    [rnd.randint(1 << 28, 1 << 34) // 4096 * 4096]))
    for i in range(10):
        out.append(('build_info' if i == 0 else 'limit_value', '%s,item="i%d"' % (inst, i), 'const',
                    [1.0 if i == 0 else float(rnd.choice((1024, 65536, 1699000000, 4096)))]))
    # One histogram: 12 cumulative buckets + _sum + _count (14), plus 1 spare counter.
    h = {'obs': [0] * len(BUCKETS), 'sum': 0.0, 'rate': rnd.choice((0, 2, 20, 200))}
    for j, le in enumerate(BUCKETS):
        out.append(('http_request_duration_seconds_bucket', '%s,handler="/api",le="%s"' % (inst, le),
                    'bucket', [h, j]))
    out.append(('http_request_duration_seconds_sum', '%s,handler="/api"' % inst, 'hsum', [h]))
    out.append(('http_request_duration_seconds_count', '%s,handler="/api"' % inst, 'hcount', [h]))
    out.append(('scrape_errors_total', inst, 'icounter', [0, 0, 0]))
    return out


def main():
    nseries, hours, path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    rnd = random.Random(7)
    steps = int(hours * 3600 / 15)
    t0 = 1700000000000
    total = 0
    with open(path, 'w', buffering=1 << 20) as f:
        for target in range((nseries + 99) // 100):
            ts = [t0 + k * 15000 + rnd.randint(0, 20) for k in range(steps)]
            sers = series_of(target, rnd)[:nseries - target * 100]
            # Histogram observations per step, shared by its buckets.
            h = sers[-4][3][0] if len(sers) == 100 else None
            hist = []
            if h is not None:
                cum = [0] * len(BUCKETS)
                s = 0.0
                for k in range(steps):
                    n = rnd.randint(0, h['rate'] * 2) if h['rate'] else 0
                    for _ in range(n):
                        x = rnd.lognormvariate(-3, 1.2)
                        s += x
                        for j, le in enumerate(BUCKETS):
                            if le == '+Inf' or x <= float(le):
                                cum[j] += 1
                    hist.append((list(cum), s))
            for name, labels, kind, st in sers:
                lines = []
                for k in range(steps):
                    if kind == 'icounter':
                        if rnd.random() < 0.8:
                            st[0] += rnd.randint(0, st[1] * 2) if st[1] else 0
                        v = '%d' % st[0]
                    elif kind == 'dcounter':
                        st[0] += max(0.0, rnd.gauss(st[1] * 15, st[1] * 2))
                        v = '%.2f' % st[0]
                    elif kind == 'dgauge':
                        st[0] += rnd.gauss(0, st[1])
                        v = '%.2f' % st[0]
                    elif kind == 'fgauge':
                        st[0] = min(1.0, max(0.0, st[0] + rnd.gauss(0, 0.02)))
                        v = repr(st[0])
                    elif kind == 'igauge':
                        st[0] = max(0, st[0] + rnd.randint(-100, 100) * 4096)
                        v = '%d' % st[0]
                    elif kind == 'const':
                        v = repr(st[0])
                    elif kind == 'bucket':
                        v = '%d' % hist[k][0][st[1]]
                    elif kind == 'hsum':
                        v = repr(hist[k][1])
                    else:
                        v = '%d' % hist[k][0][-1]
                    lines.append('%s{%s} %s %d.%03d\n' % (name, labels, v, ts[k] // 1000, ts[k] % 1000))
                f.write(''.join(lines))
                total += steps
        f.write('# EOF\n')
    print('%d series, %d samples' % (nseries, total))


main()
