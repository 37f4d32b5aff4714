#!/usr/bin/env python3
"""Generate the PromQL benchmark data (shapes of Prometheus's promql bench).

Usage: gen.py SAMPLES OM_OUT PROM_OUT

Metrics a_one (1 series), a_ten (10), a_hundred (100), a_two_thousand (2000),
each series labelled l="0".."4" (round robin) and s="<index>"; SAMPLES
samples per series at 10 s spacing, counters going up by 0..100 each step.
Classic histograms h_one, h_ten, h_hundred (not h_two_thousand: 8000 more
series would not fit the time budget) as h_X_bucket with le 0.1, 1, 10, +Inf.
OM_OUT is OpenMetrics with float-second timestamps ending in "# EOF" (for
vigil and promtool); PROM_OUT is the same samples as Prometheus text with
millisecond timestamps (for VictoriaMetrics). Seeded: same file every run.
"""
import random
import sys

T0 = 1700000000
SIZES = (('one', 1), ('ten', 10), ('hundred', 100), ('two_thousand', 2000))
HIST = ('one', 'ten', 'hundred')
LES = ('0.1', '1', '10', '+Inf')


def main():
    samples, om_out, prom_out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rnd = random.Random(4)
    series = []  # (name, labels, list of per-step increment ranges)
    for word, n in SIZES:
        for i in range(n):
            series.append(('a_' + word, 'l="%d",s="%d"' % (i % 5, i), None))
    for word, n in SIZES:
        if word not in HIST:
            continue
        for i in range(n):
            for k, le in enumerate(LES):
                # Cumulative buckets: each bucket gets at least the one below.
                series.append(('h_%s_bucket' % word, 'l="%d",le="%s",s="%d"' % (i % 5, le, i), k))
    with open(om_out, 'w') as om, open(prom_out, 'w') as pm:
        for name, labels, k in series:
            if k is None:
                r = random.Random(rnd.random())
                v = r.randint(0, 1000)
                om_lines, pm_lines = [], []
                for j in range(samples):
                    v += r.randint(0, 100)
                    ts = T0 + j * 10
                    om_lines.append('%s{%s} %d %d.000\n' % (name, labels, v, ts))
                    pm_lines.append('%s{%s} %d %d000\n' % (name, labels, v, ts))
            else:
                # Same seed per s= so the buckets of one histogram stay cumulative.
                r = random.Random(labels.split('s="')[1])
                v = 0
                om_lines, pm_lines = [], []
                for j in range(samples):
                    inc = [r.randint(0, 20) for _ in LES]
                    v += sum(inc[:k + 1])
                    ts = T0 + j * 10
                    om_lines.append('%s{%s} %d %d.000\n' % (name, labels, v, ts))
                    pm_lines.append('%s{%s} %d %d000\n' % (name, labels, v, ts))
            om.writelines(om_lines)
            pm.writelines(pm_lines)
        om.write('# EOF\n')


if __name__ == '__main__':
    main()
