#!/usr/bin/env bash
# bench/probe/run.sh — ICMP at scale: N targets across 127.0.0.0/8, one echo
# each every INTERVAL ms for CYCLES intervals. CPU seconds per probe for
# vigil's engine, fping (-C, one process doing the same schedule) and
# blackbox_exporter's icmp module (N /probe requests, its CPU only), and the
# ratios. Needs root (raw ICMP sockets). Not part of `make test`.
#   N=10000 INTERVAL=10000 CYCLES=3 bench/probe/run.sh
set -u
cd "$(dirname "$0")/../.."
N=${N:-10000} INTERVAL=${INTERVAL:-10000} CYCLES=${CYCLES:-3}
tmp=$(mktemp -d)
bbpid=
cleanup() { [ -n "$bbpid" ] && kill "$bbpid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

make --no-print-directory -s build/rel/libvigil.a >/dev/null || exit 1
CFLAGS="-std=c11 -D_GNU_SOURCE -Isrc -O2 $(pkg-config --cflags libcurl libpcre2-8)"
LIBS="$(pkg-config --libs libssl libcrypto libcurl libpcre2-8) -lm"
cc $CFLAGS -o "$tmp/icmp_bench" bench/probe/icmp_bench.c build/rel/libvigil.a $LIBS || exit 1

python3 - "$N" >"$tmp/targets" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(n):
    print("127.%d.%d.%d" % (1 + i // 62500, (i // 250) % 250 + 1, i % 250 + 1))
PY

echo "== vigil: $N targets, every $((INTERVAL / 1000)) s, $CYCLES cycles"
out=$(nice "$tmp/icmp_bench" "$N" "$INTERVAL" "$CYCLES")
echo "   $out"
v_ok=$(echo "$out" | sed 's/.*probes_ok=\([0-9]*\).*/\1/')
v_cpu=$(echo "$out" | sed 's/.*cpu_seconds=\([0-9.]*\).*/\1/')

echo "== fping -C $CYCLES -p $INTERVAL -i 1 (same schedule, one process)"
f_cpu=$(nice python3 -c '
import resource, subprocess, sys
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
ok = sum(1 for l in p.stderr.splitlines() for x in l.split(":", 1)[-1].split() if x != "-")
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.3f %d" % (r.ru_utime + r.ru_stime, ok))' fping -q -C "$CYCLES" -p "$INTERVAL" -i 1 -t 2000 -f "$tmp/targets")
f_ok=${f_cpu#* }; f_cpu=${f_cpu% *}
echo "   probes_ok=$f_ok cpu_seconds=$f_cpu"

echo "== blackbox_exporter icmp module: $N /probe requests (exporter CPU only)"
printf 'modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp:\n      preferred_ip_protocol: ip4\n' >"$tmp/bb.yml"
bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
prometheus-blackbox-exporter --config.file="$tmp/bb.yml" --web.listen-address="127.0.0.1:$bport" \
	--log.level=error >"$tmp/bb.log" 2>&1 &
bbpid=$!
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$bport/metrics" >/dev/null && break; sleep 0.1; done
ticks() { awk '{print $14 + $15}' "/proc/$bbpid/stat"; }
t0=$(ticks)
b_ok=$(nice python3 - "$bport" "$tmp/targets" <<'PY'
import concurrent.futures, sys, urllib.request
port, tf = sys.argv[1], sys.argv[2]
targets = open(tf).read().split()
def probe(t):
    with urllib.request.urlopen("http://127.0.0.1:%s/probe?module=icmp&target=%s" % (port, t), timeout=10) as r:
        return b"\nprobe_success 1" in r.read()
with concurrent.futures.ThreadPoolExecutor(32) as ex:
    print(sum(ex.map(probe, targets)))
PY
)
t1=$(ticks)
hz=$(getconf CLK_TCK)
b_cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" 'BEGIN { printf "%.3f", (b - a) / hz }')
echo "   probes_ok=$b_ok cpu_seconds=$b_cpu"

awk -v vc="$v_cpu" -v vn="$v_ok" -v fc="$f_cpu" -v fn="$f_ok" -v bc="$b_cpu" -v bn="$b_ok" 'BEGIN {
	v = vc / vn * 1e6; f = fc / fn * 1e6; b = bc / bn * 1e6
	printf "CPU per probe: vigil %.1f us, fping %.1f us, blackbox_exporter %.1f us\n", v, f, b
	printf "ratios: vigil/fping %.2f, vigil/blackbox_exporter %.3f\n", v / f, v / b
}'
