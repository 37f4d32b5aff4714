#!/usr/bin/env python3
"""Write a synthetic 48-port switch recording (snmpsim .snmprec format):
system group, ifTable (22 columns) and ifXTable (19 columns)."""
import sys

def main(path, ports=48):
    rows = []
    add = lambda oid, tag, val: rows.append((tuple(int(x) for x in oid.split(".")), f"{oid}|{tag}|{val}"))
    add("1.3.6.1.2.1.1.1.0", 4, "Cisco IOS Software, C2960X Software (C2960X-UNIVERSALK9-M), Version 15.2(7)E")
    add("1.3.6.1.2.1.1.2.0", 6, "1.3.6.1.4.1.9.1.1208")
    add("1.3.6.1.2.1.1.3.0", 67, 123456789)
    add("1.3.6.1.2.1.1.5.0", 4, "bench-sw")
    add("1.3.6.1.2.1.2.1.0", 2, ports)
    for i in range(1, ports + 1):
        t = "1.3.6.1.2.1.2.2.1."
        add(t + f"1.{i}", 2, i)
        add(t + f"2.{i}", 4, f"GigabitEthernet1/0/{i}")
        add(t + f"3.{i}", 2, 6)
        add(t + f"4.{i}", 2, 1500)
        add(t + f"5.{i}", 66, 1000000000)
        add(t + f"6.{i}", "4x", f"00a0c9{i:06x}")
        add(t + f"7.{i}", 2, 1)
        add(t + f"8.{i}", 2, 1 if i % 3 else 2)
        add(t + f"9.{i}", 67, 1000 * i)
        for c in (10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20):
            add(t + f"{c}.{i}", 65, (i * 7919 * c) % 4294967295)
        add(t + f"21.{i}", 66, 0)
        add(t + f"22.{i}", 6, "0.0")
        x = "1.3.6.1.2.1.31.1.1.1."
        add(x + f"1.{i}", 4, f"Gi1/0/{i}")
        for c in (2, 3, 4, 5):
            add(x + f"{c}.{i}", 65, (i * 104729 * c) % 4294967295)
        for c in range(6, 14):
            add(x + f"{c}.{i}", 70, i * 1299709 * c * 1000)
        add(x + f"14.{i}", 2, 1)
        add(x + f"15.{i}", 66, 1000)
        add(x + f"16.{i}", 2, 2)
        add(x + f"17.{i}", 2, 1)
        add(x + f"18.{i}", 4, f"port {i} to rack {i // 8}")
        add(x + f"19.{i}", 67, 0)
    rows.sort()
    with open(path, "w") as f:
        for _, line in rows:
            f.write(line + "\n")

if __name__ == "__main__":
    main(sys.argv[1])
