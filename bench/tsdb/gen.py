#!/usr/bin/env python3
"""Generate node_exporter-like samples as OpenMetrics with timestamps (seconds).

Usage: gen.py HOSTS HOURS OUT   (15 s scrape interval with a few ms of jitter)

Per host: CPU seconds counters (8 cpus x 8 modes, 2 decimals), memory and
filesystem gauges in bytes (page-sized random walks), network byte/packet
counters, load averages (2 decimals), a few constant-ish gauges. Seeded, so
every run makes the same file.
"""
import random
import sys

def main():
    hosts, hours, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    rnd = random.Random(42)
    steps = int(hours * 3600 / 15)
    t0 = 1700000000.0
    series = []  # (name, labels, kind, state)
    for h in range(hosts):
        inst = 'host%03d:9100' % h
        for cpu in range(8):
            for mode in ('user', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal', 'nice'):
                rate = {'idle': 14.0, 'user': 0.6, 'system': 0.3}.get(mode, 0.01)
                series.append(('node_cpu_seconds_total', 'cpu="%d",instance="%s",mode="%s"' % (cpu, inst, mode),
                               'cpu', [rnd.uniform(1e4, 1e6), rate]))
        for m in ('MemFree', 'Cached', 'Buffers', 'Active', 'Inactive', 'Dirty', 'Slab', 'MemAvailable'):
            series.append(('node_memory_%s_bytes' % m, 'instance="%s"' % inst, 'bytes', [rnd.randint(1 << 28, 1 << 33) // 4096 * 4096]))
        for dev in ('eth0', 'eth1', 'lo'):
            for d in ('receive', 'transmit'):
                series.append(('node_network_%s_bytes_total' % d, 'device="%s",instance="%s"' % (dev, inst), 'counter', [rnd.randint(0, 1 << 40), rnd.randint(100, 200000)]))
                series.append(('node_network_%s_packets_total' % d, 'device="%s",instance="%s"' % (dev, inst), 'counter', [rnd.randint(0, 1 << 30), rnd.randint(1, 300)]))
        for fs in ('/', '/var', '/home'):
            series.append(('node_filesystem_avail_bytes', 'device="/dev/vda",instance="%s",mountpoint="%s"' % (inst, fs), 'bytes', [rnd.randint(1 << 30, 1 << 36) // 4096 * 4096]))
        for l in ('1', '5', '15'):
            series.append(('node_load' + l, 'instance="%s"' % inst, 'load', [rnd.uniform(0, 4)]))
        series.append(('node_boot_time_seconds', 'instance="%s"' % inst, 'const', [1699000000.0]))
        series.append(('up', 'instance="%s",job="node"' % inst, 'const', [1.0]))
    with open(out, 'w') as f:
        # Series by series (each in time order), as promtool wants them grouped.
        for name, labels, kind, st in series:
            t = t0
            for i in range(steps):
                ts = t0 + i * 15 + rnd.randint(0, 20) / 1000.0
                if kind == 'cpu':
                    st[0] += max(0.0, rnd.gauss(st[1] * 15, st[1] * 2))
                    v = '%.2f' % st[0]
                elif kind == 'bytes':
                    st[0] = max(0, st[0] + rnd.randint(-200, 200) * 4096)
                    v = '%d' % st[0]
                elif kind == 'counter':
                    st[0] += rnd.randint(0, st[1] * 30)
                    v = '%d' % st[0]
                elif kind == 'load':
                    st[0] = max(0.0, st[0] + rnd.gauss(0, 0.05))
                    v = '%.2f' % st[0]
                else:
                    v = repr(st[0])
                f.write('%s{%s} %s %.3f\n' % (name, labels, v, ts))
        f.write('# EOF\n')
    print('%d series, %d samples' % (len(series), len(series) * steps))

main()
