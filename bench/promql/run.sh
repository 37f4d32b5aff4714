#!/usr/bin/env bash
# bench/promql/run.sh — PromQL range-query latency of vigil against Debian's
# prometheus and victoria-metrics on the same data (shapes of Prometheus's
# promql/bench_test.go), all three on loopback in one run.
# Not part of `make test`. Usage: bench/promql/run.sh [SAMPLES] [RUNS]
#   SAMPLES per series (default 2000, 10 s apart), RUNS timed runs per query (20).
set -eu
cd "$(dirname "$0")/../.."
samples=${1:-2000} runs=${2:-20}
work=$(mktemp -d /tmp/vigil-promql-bench.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	sleep 0.5
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# wait_url URL [CURL ARGS]: poll up to 60 s
wait_url() { local u=$1; shift; for _ in $(seq 300); do curl -fs "$@" "$u" >/dev/null 2>&1 && return 0; sleep 0.2; done; return 1; }
stamp() { date +%s.%N; }
el() { echo "$2 - $1" | bc; }

[ -x ./vigil ] || make -s -j2 vigil
nice python3 bench/promql/gen.py "$samples" "$work/data.om" "$work/data.prom"
lines=$(($(wc -l <"$work/data.om") - 1))
echo "data: $lines samples ($samples per series, 10 s apart)"

# vigil: import, then serve.
t0=$(stamp)
nice ./vigil tsdb import -d "$work/vigil" "$work/data.om" >/dev/null
t1=$(stamp)
# vigil serve runs its store worker as the unprivileged "vigil" user, which
# cannot read blocks a root import wrote; hand them over.
if [ "$(id -u)" = 0 ] && getent passwd vigil >/dev/null; then chown -R vigil: "$work/vigil"; fi
vport=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/vigil\n  retention: 36500d\nhost:\n  enabled: false\nquery:\n  max_samples: 500000000\n' \
	"$vport" "$work" >"$work/vigil.yml"
./vigil serve -c "$work/vigil.yml" >"$work/vigil.out" 2>"$work/vigil.err" & pids+=($!)
for _ in $(seq 300); do grep -q serving "$work/vigil.out" 2>/dev/null && break; sleep 0.2; done
grep -q serving "$work/vigil.out" || { echo "vigil did not start: $(tail -3 "$work/vigil.err")"; exit 1; }
vtok=$(./vigil token create -d "$work/vigil" bench)

# Prometheus: blocks from the same OpenMetrics file.
t2=$(stamp)
mkdir -p "$work/prom"
(cd "$work" && nice promtool tsdb create-blocks-from openmetrics data.om prom >/dev/null)
t3=$(stamp)
pport=$(free_port)
: >"$work/prom.yml"
prometheus --storage.tsdb.path="$work/prom" --config.file="$work/prom.yml" \
	--web.listen-address=127.0.0.1:$pport --storage.tsdb.retention.time=100y \
	--log.level=error >"$work/prom.log" 2>&1 & pids+=($!)
wait_url "http://127.0.0.1:$pport/-/ready" || { echo "prometheus did not start: $(tail -3 "$work/prom.log")"; exit 1; }

# VictoriaMetrics: import Prometheus text with ms timestamps, flush.
mport=$(free_port)
victoria-metrics -storageDataPath="$work/vm" -httpListenAddr=127.0.0.1:$mport \
	-retentionPeriod=100y -loggerLevel=ERROR -search.latencyOffset=0s -search.disableCache >"$work/vm.log" 2>&1 & pids+=($!)
wait_url "http://127.0.0.1:$mport/health" || { echo "victoria-metrics did not start: $(tail -3 "$work/vm.log")"; exit 1; }
t4=$(stamp)
# -T streams the file (--data-binary reads it all into memory: ~1 GB at 10000 samples)
curl -fs -X POST -T "$work/data.prom" "http://127.0.0.1:$mport/api/v1/import/prometheus"
curl -fs "http://127.0.0.1:$mport/internal/force_flush" >/dev/null
t5=$(stamp)
rm -f "$work/data.prom"

# Every system must see all series before timing starts.
end=$((1700000000 + (samples - 1) * 10))
want=$(grep -v '^#' "$work/data.om" | cut -d' ' -f1 | uniq | wc -l)
count() { curl -fs "$@" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)'; }
for sys in vigil prom vm; do
	case $sys in
	vigil) url="http://127.0.0.1:$vport" auth=(-H "Authorization: Bearer $vtok") ;;
	prom) url="http://127.0.0.1:$pport" auth=() ;;
	vm) url="http://127.0.0.1:$mport" auth=() ;;
	esac
	got=0
	for _ in $(seq 150); do
		got=$(count "${auth[@]}" "$url/api/v1/query" --data-urlencode 'query=count({__name__=~"a_.*|h_.*"})' \
			--data-urlencode "time=$end" || echo 0)
		[ "$got" = "$want" ] && break
		sleep 0.4
	done
	[ "$got" = "$want" ] || echo "WARNING: $sys sees $got of $want series before timing"
done
printf 'load: vigil import %.1f s, promtool create-blocks %.1f s, victoria-metrics import+flush %.1f s\n' \
	"$(el "$t0" "$t1")" "$(el "$t2" "$t3")" "$(el "$t4" "$t5")"

nice python3 bench/promql/client.py "$samples" "$runs" "http://127.0.0.1:$vport" "$vtok" \
	"http://127.0.0.1:$pport" "http://127.0.0.1:$mport"
