#!/usr/bin/env bash
# bench/tsdb/run.sh — bytes/sample and ingest speed of vigil's tsdb against
# Prometheus (promtool tsdb create-blocks-from openmetrics) and
# VictoriaMetrics on the same generated node_exporter-like data.
# Not part of `make test`. Usage: bench/tsdb/run.sh [HOSTS] [HOURS]
set -eu
cd "$(dirname "$0")/../.."
hosts=${1:-10} hours=${2:-12}
work=$(mktemp -d /tmp/vigil-tsdb-bench.XXXXXX)
vmpid=""
trap '[ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null; rm -rf "$work"' EXIT

make -s build/rel/libvigil.a
cc -std=c11 -D_GNU_SOURCE -Isrc -O2 -o "$work/tsdb_bench" bench/tsdb/tsdb_bench.c \
	build/rel/libvigil.a $(pkg-config --libs libpcre2-8 libzstd) -lm -lpthread
python3 bench/tsdb/gen.py "$hosts" "$hours" "$work/data.om"
samples=$(grep -vc '^#' "$work/data.om")

t0=$(date +%s.%N)
"$work/tsdb_bench" tsdb import -d "$work/vigil" "$work/data.om" >/dev/null
t1=$(date +%s.%N)
vbytes=$(du -sb "$work/vigil" | cut -f1)

mkdir -p "$work/prom"
(cd "$work" && promtool tsdb create-blocks-from openmetrics data.om prom >/dev/null)
t2=$(date +%s.%N)
pbytes=$(du -sb "$work/prom" | cut -f1)

vmbytes=""
if command -v victoria-metrics >/dev/null; then
	# VictoriaMetrics takes Prometheus text with millisecond timestamps.
	awk '!/^#/ { ts=$NF; $NF=sprintf("%.0f", ts*1000); print }' "$work/data.om" >"$work/data.prom"
	port=$((20000 + RANDOM % 20000))
	victoria-metrics -storageDataPath="$work/vm" -httpListenAddr=127.0.0.1:$port \
		-retentionPeriod=100y -loggerLevel=ERROR >"$work/vm.log" 2>&1 &
	vmpid=$!
	for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
	t3=$(date +%s.%N)
	curl -fs --data-binary @"$work/data.prom" "http://127.0.0.1:$port/api/v1/import/prometheus"
	curl -fs "http://127.0.0.1:$port/internal/force_flush" >/dev/null
	t4=$(date +%s.%N)
	curl -fs "http://127.0.0.1:$port/internal/force_merge" >/dev/null || true
	sleep 5
	vmbytes=$(du -sb "$work/vm/data" | cut -f1)
	vmall=$(du -sb "$work/vm/data" "$work/vm/indexdb" | awk '{ s += $1 } END { print s }')
	kill "$vmpid"; wait "$vmpid" 2>/dev/null || true; vmpid=""
fi

awk -v s="$samples" -v v="$vbytes" -v p="$pbytes" -v m="$vmbytes" -v ma="${vmall:-}" \
    -v tv="$(echo "$t1 - $t0" | bc)" -v tp="$(echo "$t2 - $t1" | bc)" '
BEGIN {
	printf "samples: %d\n", s
	printf "vigil:           %10d bytes  %.3f bytes/sample  import %.1f s\n", v, v / s, tv
	printf "prometheus:      %10d bytes  %.3f bytes/sample  promtool %.1f s\n", p, p / s, tp
	if (m != "") printf "victoria-metrics:%10d bytes  %.3f bytes/sample (data/ only; with indexdb/ %.3f)\n", m, m / s, ma / s
	printf "vigil / prometheus bytes: %.2f\n", v / p
	if (m != "") printf "vigil / victoria-metrics bytes: %.2f (vs data/ + indexdb/: %.2f)\n", v / m, v / ma
	printf "import speed vigil / promtool: %.1fx\n", tp / tv
}'
for mode in wal batch; do
	rm -rf "$work/ingest"
	"$work/tsdb_bench" ingest "$work/ingest" 100000 30 $mode
done
