#!/usr/bin/env bash
# bench/tsdb/run.sh — vigil's store against Prometheus (promtool tsdb
# create-blocks-from openmetrics) and VictoriaMetrics, side by side in one run
# on the same files (issue #3). Not part of `make test`; prints figures and
# ratios, never passes or fails on them.
#
#   (a) real node_exporter output, 1 s scrapes (bench/tsdb/data/, recorded by
#       record-node-exporter.sh; REAL=FILE picks another recording)
#   (b) synthetic SERIES series over HOURS at 15 s (gen-synth.py): counters,
#       noisy gauges, constants, histogram buckets
#   (c) downsampled tiers: their bytes beside the raw data, and the CPU of
#       long-range queries over 72 h of gen.py data with and without them
#
# For each: bytes per sample on disk after compaction, and bulk-ingest CPU
# seconds (user + system of the importing process) -> samples per CPU second.
# Then RSS per active series in vigil's head at SERIES series, and the decode
# speed of a full scan of (b).
#
# Usage: bench/tsdb/run.sh [SERIES] [HOURS]     (default 1000000 2: ~480M
#        samples, ~45 GB of text and hours of generation; pass a smaller SERIES
#        on a shared machine). SKIP_REAL=1 / SKIP_TIERS=1 / SKIP_SYNTH=1 skip a set.
set -eu
cd "$(dirname "$0")/../.."
root=$PWD
series=${1:-1000000} hours=${2:-2}
real=${REAL:-bench/tsdb/data/node-exporter-1s.prom.xz}
rss_steps=${RSS_STEPS:-120}
work=$(mktemp -d /tmp/vigil-tsdb-bench.XXXXXX)
vmpid=""
trap '[ -n "$vmpid" ] && kill "$vmpid" 2>/dev/null; rm -rf "$work"' EXIT

make -s build/rel/libvigil.a
cc -std=c11 -D_GNU_SOURCE -Isrc -O2 -o "$work/tsdb_bench" bench/tsdb/tsdb_bench.c \
	build/rel/libvigil.a $(pkg-config --libs libpcre2-8 libzstd) -lm -lpthread

# cputime CMD...: run CMD, print its user+system CPU seconds on fd 3.
cputime() {
	/usr/bin/time -f '%U %S' -o "$work/time" "$@" >/dev/null
	awk '{ printf "%.2f\n", $1 + $2 }' "$work/time"
}

# CPU seconds (user + system) a running process has used so far.
proc_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

# bench_set NAME OMFILE: every store ingests OMFILE; print the table rows.
bench_set() {
	local name=$1 om=$2 samples vc vb pc pb vmc vmb vmall port c0
	samples=$(grep -vc '^#' "$om")
	vc=$(cputime "$work/tsdb_bench" tsdb import -d "$work/vigil-$name" "$om")
	vb=$(du -sb "$work/vigil-$name" | cut -f1)
	mkdir -p "$work/prom-$name"
	pc=$(cd "$work" && cputime promtool tsdb create-blocks-from openmetrics "$om" "prom-$name")
	pb=$(du -sb "$work/prom-$name" | cut -f1)
	vmc="" vmb="" vmall=""
	if command -v victoria-metrics >/dev/null; then
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		victoria-metrics -storageDataPath="$work/vm-$name" -httpListenAddr=127.0.0.1:$port \
			-retentionPeriod=100y -loggerLevel=ERROR >"$work/vm.log" 2>&1 &
		vmpid=$!
		for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.2; done
		c0=$(proc_cpu "$vmpid")
		# VictoriaMetrics takes Prometheus text with millisecond timestamps;
		# streamed (curl -T), as the big set does not fit in memory.
		awk '!/^#/ { ts=$NF; $NF=sprintf("%.0f", ts*1000); print }' "$om" |
			curl -fs -X POST -T - "http://127.0.0.1:$port/api/v1/import/prometheus"
		curl -fs "http://127.0.0.1:$port/internal/force_flush" >/dev/null
		vmc=$(echo "$(proc_cpu "$vmpid") - $c0" | bc)
		curl -fs "http://127.0.0.1:$port/internal/force_merge" >/dev/null || true
		sleep 10
		vmrows=$(curl -fs "http://127.0.0.1:$port/metrics" | awk '/^vm_rows\{type="storage\/(small|big)"\}/ { s += $2 } END { print s + 0 }')
		vmb=$(du -sb "$work/vm-$name/data" | cut -f1)
		vmall=$(du -sb "$work/vm-$name/data" "$work/vm-$name/indexdb" | awk '{ s += $1 } END { print s }')
		kill "$vmpid"; wait "$vmpid" 2>/dev/null || true; vmpid=""
		echo "victoria-metrics reports $vmrows rows stored"
	fi
	awk -v n="$name" -v s="$samples" -v v="$vb" -v vc="$vc" -v p="$pb" -v pc="$pc" \
	    -v m="$vmb" -v ma="$vmall" -v mc="$vmc" '
	BEGIN {
		printf "== data set %s: %d samples\n", n, s
		printf "%-34s %12s %9s %10s %14s\n", "store", "bytes", "B/sample", "ingest CPU", "samples/CPU-s"
		printf "%-34s %12d %9.3f %9.2fs %14.0f\n", "vigil (blocks + index)", v, v / s, vc, s / vc
		printf "%-34s %12d %9.3f %9.2fs %14.0f\n", "prometheus 2.42 (promtool blocks)", p, p / s, pc, s / pc
		if (m != "") {
			printf "%-34s %12d %9.3f %9.2fs %14.0f\n", "victoria-metrics (data/)", m, m / s, mc, s / mc
			printf "%-34s %12d %9.3f\n", "victoria-metrics (data/ + indexdb/)", ma, ma / s
		}
		printf "vigil / prometheus bytes: %.2f   ingest per core: %.1fx\n", v / p, pc / vc
		if (m != "")
			printf "vigil / victoria-metrics bytes: %.2f (vs data/ + indexdb/: %.2f)   ingest per core: %.1fx\n", v / m, v / ma, mc / vc
	}'
}

if [ -z "${SKIP_REAL:-}" ]; then
	if [ -f "$real" ]; then
		# The recording is in scrape order with ms timestamps; promtool wants
		# OpenMetrics (seconds) grouped series by series, so regroup it once
		# and give every store that same file.
		xz -dc "$real" | python3 -c '
import sys
by = {}
for line in sys.stdin:
    if line.startswith("#") or not line.strip():
        continue
    key, v, t = line.rstrip("\n").rsplit(" ", 2)
    by.setdefault(key, []).append("%s %s %d.%03d\n" % (key, v, int(t) // 1000, int(t) % 1000))
out = open(sys.argv[1], "w")
for key in by:
    out.write("".join(by[key]))
out.write("# EOF\n")
print("real: %d series, %d samples" % (len(by), sum(len(v) for v in by.values())))
' "$work/real.om"
		bench_set real "$work/real.om"
		rm -f "$work/real.om"
	else
		echo "no recording at $real: run bench/tsdb/record-node-exporter.sh first"
	fi
fi

if [ -z "${SKIP_TIERS:-}" ]; then
	# (c) downsampled tiers: 72 h of gen.py's node_exporter-like data at 15 s;
	# blocks older than a day get tiers on import. Their size, and the CPU
	# of long-range queries with and without them (same answers).
	python3 bench/tsdb/gen.py 10 72 "$work/g72.om" >/dev/null
	"$work/tsdb_bench" tsdb import -d "$work/tiers" "$work/g72.om" >/dev/null
	rm -f "$work/g72.om"
	tb=$(cat "$work"/tiers/blk-*/tiers | wc -c)
	raw=0
	for d in "$work"/tiers/blk-*; do
		[ -f "$d/tiers" ] && raw=$((raw + $(cat "$d/chunks" "$d/index" | wc -c)))
	done
	echo "== tiers: $tb bytes of tiers beside $raw bytes of raw chunks + index in the tiered blocks ($(echo "scale=1; 100 * $tb / $raw" | bc)%)"
	cp -r "$work/tiers" "$work/notiers"
	rm -f "$work"/notiers/blk-*/tiers
	start=1700002800000 end=1700024400000	# 6 h inside the tiered block, hour-aligned
	for q in 'max_over_time(node_cpu_seconds_total[1h])' 'min_over_time(node_memory_MemFree_bytes[1h])' \
	    'sum_over_time(node_load1[1h])' 'last_over_time(node_network_receive_bytes_total[1h])'; do
		"$work/tsdb_bench" query "$work/tiers" "$q" $start $end 3600000
		"$work/tsdb_bench" query "$work/notiers" "$q" $start $end 3600000
	done
	rm -rf "$work/tiers" "$work/notiers"
fi

if [ -z "${SKIP_SYNTH:-}" ]; then
	python3 bench/tsdb/gen-synth.py "$series" "$hours" "$work/synth.om"
	bench_set synth "$work/synth.om"
	rm -f "$work/synth.om"
	"$work/tsdb_bench" scan "$work/vigil-synth"
	rm -rf "$work/ingest"
	"$work/tsdb_bench" ingest "$work/ingest" "$series" "$rss_steps" batch
fi
