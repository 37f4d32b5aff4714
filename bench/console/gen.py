#!/usr/bin/env python3
"""Synthetic network for the console benchmark, as `vigil tsdb import` reads it.

Usage: gen.py NODES IFACES SAMPLES END OUT [STEP]

NODES SNMP switches sw-0001.. (default run: 1000), each with IFACES
interfaces (48) and an ICMP probe of its address with `node` = its name, so
the inventory merges them: the series vigil's SNMP poller and probes write
(snmp_up, snmp_device_info, sysUpTime, hrProcessorLoad, probe_success,
probe_icmp_duration_seconds, vigil_node_status(+_changed_timestamp_seconds),
and per interface ifOperStatus, ifAdminStatus, ifHighSpeed, ifHCInOctets,
ifHCOutOctets, ifInErrors, ifOutErrors with ifIndex/ifName/ifDescr/ifAlias).
SAMPLES samples per series, STEP seconds apart (60), the last at END (Unix seconds).
2 % of the switches are down, 3 % warning. Prometheus text, ms timestamps.
Seeded: the same file every run.
"""
import random
import sys


def main():
    nodes, ifaces, samples, end, out = (int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]),
                                        int(sys.argv[4]), sys.argv[5])
    step = int(sys.argv[6]) if len(sys.argv) > 6 else 60
    rnd = random.Random(7)
    ts = [(end - (samples - 1 - j) * step) * 1000 for j in range(samples)]
    with open(out, 'w') as f:
        w = f.write
        for n in range(1, nodes + 1):
            name = 'sw-%04d' % n
            addr = '10.%d.%d.%d' % (n // 65536, (n // 256) % 256, n % 256)
            state = 3 if n % 50 == 0 else 2 if n % 33 == 0 else 1
            up = 0 if state == 3 else 1
            inst = 'instance="%s"' % name
            lines = []
            for j, t in enumerate(ts):
                lines.append('snmp_up{%s} %d %d\n' % (inst, up, t))
                lines.append('sysUpTime{%s} %d %d\n' % (inst, 100 * (86400 * 30 + n * 1000 + j * step), t))
                lines.append('hrProcessorLoad{hrDeviceIndex="1",%s} %d %d\n' % (inst, (n * 7 + j) % 100, t))
                lines.append('snmp_device_info{%s,sysDescr="Cisco IOS Software, C9300 Software",sysName="%s",'
                             'sysObjectID="1.3.6.1.4.1.9.1.2494",target="%s"} 1 %d\n' % (inst, name, addr, t))
                p = 'instance="%s",module="icmp",node="%s"' % (addr, name)
                lines.append('probe_success{%s} %d %d\n' % (p, 0 if state == 3 else 1, t))
                lines.append('probe_icmp_duration_seconds{%s,phase="rtt"} %.6f %d\n' % (p, 0.0005 + (n % 97) / 10000, t))
                lines.append('vigil_node_status{node="%s"} %d %d\n' % (name, state, t))
                lines.append('vigil_node_status_changed_timestamp_seconds{node="%s"} %d %d\n' % (name, ts[0] // 1000 - 3600, t))
            w(''.join(lines))
            for i in range(1, ifaces + 1):
                lab = '%s,ifAlias="port %d",ifDescr="GigabitEthernet1/0/%d",ifIndex="%d",ifName="Gi1/0/%d"' % (
                    inst, i, i, i, i)
                oper = 1 if up and i % 6 else 2
                rate_in = rnd.uniform(1e5, 3e7) if oper == 1 else 0
                rate_out = rnd.uniform(1e5, 3e7) if oper == 1 else 0
                cin, cout = rnd.randint(0, 1 << 40), rnd.randint(0, 1 << 40)
                lines = []
                for j, t in enumerate(ts):
                    lines.append('ifOperStatus{%s} %d %d\n' % (lab, oper, t))
                    lines.append('ifAdminStatus{%s} %d %d\n' % (lab, 1 if i % 12 else 2, t))
                    lines.append('ifHighSpeed{%s} 1000 %d\n' % (lab, t))
                    lines.append('ifHCInOctets{%s} %d %d\n' % (lab, cin + int(rate_in * step * j), t))
                    lines.append('ifHCOutOctets{%s} %d %d\n' % (lab, cout + int(rate_out * step * j), t))
                    lines.append('ifInErrors{%s} %d %d\n' % (lab, j // 3, t))
                    lines.append('ifOutErrors{%s} 0 %d\n' % (lab, t))
                w(''.join(lines))


if __name__ == '__main__':
    main()
