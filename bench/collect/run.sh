#!/usr/bin/env bash
# bench/collect/run.sh — side by side with Debian's prometheus-node-exporter:
#   1. process CPU (utime+stime from /proc/PID/stat) spent serving N full
#      scrapes of /metrics, vigil agent vs node_exporter (collect on scrape),
#      scraped alternately so both run under the same machine load;
#   2. resident memory of both after the run;
#   3. text-parse throughput of textparse() on node_exporter's own output.
# Not part of `make test`. Usage: [VIGIL=BINARY] bench/collect/run.sh [N=1000]
set -u
cd "$(dirname "$0")/../.."
. tests/integration/collect_lib.sh
N=${1:-1000}
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
[ -f build/rel/libvigil.a ] || make -j2 vigil >/dev/null
# VIGIL=path/to/an/older/vigil measures that build instead of ./vigil
if [ -n "${VIGIL:-}" ]; then AGENT="$VIGIL agent"; else find_agent "$tmp" || exit 1; fi
cputicks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
hz=$(getconf CLK_TCK)

np=$(free_port); vp=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$np >/dev/null 2>&1 & nepid=$!; pids+=($nepid)
$AGENT --listen 127.0.0.1:$vp >/dev/null 2>&1 & vpid=$!; pids+=($vpid)
wait_http "http://127.0.0.1:$np/metrics" && wait_http "http://127.0.0.1:$vp/metrics" || exit 1

# Scrapes alternate between the two exporters so both see the same load
# from whatever else runs on the machine; CPU is each process's own.
curl -fsS "http://127.0.0.1:$np/metrics" >"$tmp/node_exporter.txt"
curl -fsS "http://127.0.0.1:$vp/metrics" >"$tmp/vigil_agent.txt"
n0=$(cputicks "$nepid"); v0=$(cputicks "$vpid"); s0=$(date +%s.%N)
for _ in $(seq 1 "$N"); do
	curl -fsS -o /dev/null "http://127.0.0.1:$np/metrics"
	curl -fsS -o /dev/null "http://127.0.0.1:$vp/metrics"
done
n1=$(cputicks "$nepid"); v1=$(cputicks "$vpid"); s1=$(date +%s.%N)
report() { # name ticks pid
	local cpu; cpu=$(echo "scale=3; $2 / $hz" | bc)
	printf '%-16s %6d scrapes  %5d samples  cpu %7.2f s  (%.3f ms/scrape)  rss %d KiB\n' \
		"$1" "$N" "$(grep -vc '^#' "$tmp/$1.txt")" "$cpu" "$(echo "scale=4; $cpu * 1000 / $N" | bc)" "$(rss_kb "$3")"
}
report node_exporter $((n1 - n0)) "$nepid"
report vigil_agent $((v1 - v0)) "$vpid"
echo "ratio            node_exporter / vigil agent CPU per scrape: $(echo "scale=1; ($n1 - $n0) / ($v1 - $v0)" | bc)  (wall $(echo "$s1 - $s0" | bc) s)"

cat >"$tmp/tp.c" <<'C'
#include <stdio.h>
#include <stdlib.h>
#include "core/clock.h"
#include "scrape/textparse.h"
static int cb(void *c, const struct tp_sample *s) { (void)s; (*(size_t *)c)++; return 0; }
int main(int argc, char **argv) {
	FILE *f = fopen(argv[1], "rb"); static char b[64 << 20]; size_t n = fread(b, 1, sizeof b, f); fclose(f);
	int reps = atoi(argv[2]); size_t samples = 0; char err[256];
	struct tp_callbacks c = { .sample = cb };
	int64_t t0 = clock_mono_ns();
	for (int i = 0; i < reps; i++) if (textparse(b, n, TP_PROMETHEUS, &c, &samples, err, sizeof err)) { puts(err); return 1; }
	double s = (double)(clock_mono_ns() - t0) / 1e9;
	printf("textparse        %zu bytes x %d: %.1f MB/s, %.2f M samples/s\n", n, reps, n * (double)reps / s / 1e6, samples / s / 1e6);
	return 0;
}
C
# shellcheck disable=SC2046
cc -std=c11 -D_GNU_SOURCE -Isrc -O2 -o "$tmp/tp" "$tmp/tp.c" build/rel/libvigil.a \
	$(pkg-config --libs libpcre2-8 libcurl libmicrohttpd) -lm -lpthread && "$tmp/tp" "$tmp/node_exporter.txt" 2000
