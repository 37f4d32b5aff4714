#!/usr/bin/env bash
# bench/console/run.sh — time to first render of the console's overview, node
# list and node page in headless chromium, on a synthetic network of NODES
# switches with IFACES interfaces each (default 1000 x 48 = 48,000), backfilled
# with `vigil tsdb import` (bench/console/gen.py), served by `vigil serve`.
# Also times the inventory API itself with curl. Reports; never fails on time.
# Usage: bench/console/run.sh [NODES=1000] [IFACES=48] [RUNS=5]
set -eu
cd "$(dirname "$0")/../.."
nodes=${1:-1000} ifaces=${2:-48} runs=${3:-5}
work=$(mktemp -d /tmp/vigil-console-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
command -v chromium >/dev/null || { echo "console bench: chromium is not installed (scripts/install-deps)"; exit 0; }
[ -x ./vigil ] || make -s -j2 vigil
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
	(cd tests/e2e && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error) >/dev/null
fi

# 10 samples 2 minutes apart, the last 15 minutes ahead: the newest sample at or
# before "now" stays within PromQL's 5-minute lookback for 20 minutes, however
# long the import and start-up take on a busy machine. (bench/run runs this
# under nice already.)
end=$(( $(date +%s) + 900 ))
python3 bench/console/gen.py "$nodes" "$ifaces" 10 "$end" "$work/data.prom" 120
t0=$(date +%s.%N)
./vigil tsdb import -d "$work/db" "$work/data.prom"
t1=$(date +%s.%N)
rm -f "$work/data.prom"
if [ "$(id -u)" = 0 ] && getent passwd vigil >/dev/null; then chown -R vigil: "$work/db"; fi
port=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/db\nhost:\n  enabled: false\n' "$port" "$work" >"$work/vigil.yml"
./vigil serve -c "$work/vigil.yml" >"$work/out" 2>"$work/err" & pids+=($!)
pw=""
for _ in $(seq 300); do
	pw=$(sed -n 's/^vigil: first start: log in as "admin" with password \([^ ]*\) (shown only now)$/\1/p' "$work/out")
	[ -n "$pw" ] && curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
	sleep 0.2
done
[ -n "$pw" ] || { echo "vigil did not start: $(tail -3 "$work/err")"; exit 1; }
tok=$(./vigil token create -d "$work/db" bench)
printf 'data: %d nodes, %d interfaces, %d series; import %.1f s\n' "$nodes" $((nodes * ifaces)) \
	$((nodes * (8 + 7 * ifaces))) "$(echo "$t1 - $t0" | bc)"

# The inventory API alone: wall time of each request (curl), and the store
# worker's CPU time for them (/proc/PID/stat utime+stime of the store worker).
store=$(pgrep -f -- "__worker store" | while read -r p; do
	grep -q "$work" "/proc/$p/cmdline" 2>/dev/null || [ "$(readlink "/proc/$p/cwd")" = "$work/db" ] && echo "$p"; done | head -1)
cpu() { [ -n "$store" ] && awk '{print $14 + $15}' "/proc/$store/stat" || echo 0; }
api() {
	local path=$1 c0 c1 ts=() t
	c0=$(cpu)
	for _ in $(seq "$runs"); do
		t=$(curl -s -o "$work/api.json" -w '%{time_total}' -H "Authorization: Bearer $tok" "http://127.0.0.1:$port$path")
		ts+=("$t")
	done
	c1=$(cpu)
	printf '%-40s median %4.0f ms wall, %4.0f ms store CPU per request, %s bytes\n' "GET $path" \
		"$(printf '%s\n' "${ts[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)] * 1000}')" \
		"$(echo "($c1 - $c0) * 1000 / $(getconf CLK_TCK) / $runs" | bc -l)" "$(wc -c <"$work/api.json")"
}
api /api/inventory/nodes
api /api/inventory/events
api "/api/inventory/interfaces?instance=sw-0001"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))["data"]; print("  (interfaces of sw-0001: %d rows)" % len(d))' "$work/api.json"
curl -s -H "Authorization: Bearer $tok" "http://127.0.0.1:$port/api/inventory/nodes" |
	python3 -c 'import json,sys,collections; d=json.load(sys.stdin)["data"]; print("  (nodes: %d rows, by status %s)" % (len(d), dict(collections.Counter(n["status"] for n in d))))'

BASE_URL=http://127.0.0.1:$port ADMIN_PW=$pw PROFILE_DIR="$work/chromium" NODE_INSTANCE=sw-0001 RUNS=$runs \
	SHOT_DIR=${SHOT_DIR:-} timeout 600 node bench/console/measure.mjs
