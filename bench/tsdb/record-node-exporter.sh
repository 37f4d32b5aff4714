#!/usr/bin/env bash
# bench/tsdb/record-node-exporter.sh — record real node_exporter output for the
# storage benchmark (issue #3, data set (a)).
#
# Starts Debian's prometheus-node-exporter on a free loopback port, scrapes it
# every second for MINUTES (default 20) and writes every sample as Prometheus
# text with a millisecond timestamp (the scrape's start time, as Prometheus
# stamps it), xz-compressed, to OUT (default
# bench/tsdb/data/node-exporter-1s.prom.xz). Comment lines are dropped; each
# scrape's samples follow the previous scrape's, so the file is in time order.
# bench/tsdb/run.sh regroups it per series for promtool.
#
# Usage: bench/tsdb/record-node-exporter.sh [MINUTES] [OUT]
set -eu
cd "$(dirname "$0")/../.."
minutes=${1:-20}
out=${2:-bench/tsdb/data/node-exporter-1s.prom.xz}
command -v prometheus-node-exporter >/dev/null || { echo "prometheus-node-exporter is not installed" >&2; exit 1; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
tmp="$out.tmp"
nepid=""
trap '[ -n "$nepid" ] && kill "$nepid" 2>/dev/null; rm -f "$tmp" "$tmp.raw"' EXIT
prometheus-node-exporter --web.listen-address=127.0.0.1:$port >/dev/null 2>&1 &
nepid=$!
python3 - "$port" "$minutes" "$tmp" <<'PY'
import sys, time, urllib.request
port, minutes, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
url = 'http://127.0.0.1:%d/metrics' % port
for _ in range(100):                       # wait for the exporter (at most 10 s)
    try:
        urllib.request.urlopen(url, timeout=2).read(); break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit('node_exporter did not come up on port %d' % port)
n = int(minutes * 60)
lines = scrapes = missed = 0
# Raw text first (compressing inline would slow the scrape loop down on a
# busy machine); xz at the end. A slot more than half an interval late is
# skipped, as Prometheus's ticker drops missed ticks.
with open(out + '.raw', 'w') as f:
    f.write('# node_exporter recorded by bench/tsdb/record-node-exporter.sh, 1 s interval, ms timestamps\n')
    start = time.time()
    for i in range(n):
        due = start + i
        now = time.time()
        if now > due + 0.5:
            missed += 1
            continue
        if due > now:
            time.sleep(due - now)
        ts = int(time.time() * 1000)
        try:
            body = urllib.request.urlopen(url, timeout=5).read().decode()
        except OSError as e:
            print('scrape %d failed: %s' % (i, e), file=sys.stderr)
            continue
        for line in body.splitlines():
            if not line or line[0] == '#':
                continue
            f.write('%s %d\n' % (line, ts))
            lines += 1
        scrapes += 1
print('%d scrapes (%d slots missed), %d samples' % (scrapes, missed, lines))
PY
xz -9e -T1 -c "$tmp.raw" >"$tmp"
rm -f "$tmp.raw"
mv "$tmp" "$out"
ls -l "$out"
