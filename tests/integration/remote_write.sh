#!/usr/bin/env bash
# A real Prometheus scrapes a real node_exporter and remote-writes to vigil;
# vigil takes the samples. A malformed body gets 400 and a reason.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-rw-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) NP=$(free_port) PP=$(free_port)
# host collection off: only what Prometheus sends is in vigil, to compare like with like
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\nhost:\n  enabled: false\n' "$VP" "$T" >"$T/vigil.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/vigil.out" 2>"$T/vigil.err" & PIDS+=($!)
wait_for grep -q serving "$T/vigil.out" || { fail rw/vigil_starts "$(tail -2 "$T/vigil.err")"; exit 1; }
prometheus-node-exporter --web.listen-address=127.0.0.1:$NP --collector.disable-defaults \
	--collector.cpu --collector.meminfo --collector.loadavg >"$T/ne.log" 2>&1 & PIDS+=($!)
wait_for test -s "$T/data/web.db" || true
wait_for grep -q serving "$T/vigil.out"
WT=$("$VIGIL" token create -d "$T/data" --role operator prometheus-rw)
RT=$("$VIGIL" token create -d "$T/data" --role viewer reader)
cat >"$T/prom.yml" <<YML
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: node
    static_configs:
      - targets: ["127.0.0.1:$NP"]
remote_write:
  - url: http://127.0.0.1:$VP/api/v1/write
    authorization:
      credentials: $WT
    queue_config:
      batch_send_deadline: 1s
YML
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" \
	--web.listen-address=127.0.0.1:$PP >"$T/prom.log" 2>&1 & PIDS+=($!)
wait_for grep -q serving "$T/vigil.out" || { fail rw/vigil_starts "$(tail -2 "$T/vigil.err")"; exit 1; }
M="curl -sf http://127.0.0.1:$VP/metrics"
got=0
for i in $(seq 1 60); do
	got=$($M | awk '/^vigil_remote_write_samples_total\{result="appended"\}/ {print $2}')
	[ "${got:-0}" -gt 200 ] && break
	sleep 0.5
done
[ "${got:-0}" -gt 200 ] && pass "rw/prometheus_remote_write_accepted ($got samples)" ||
	fail rw/prometheus_remote_write_accepted "only ${got:-0} samples; prometheus log: $(grep -i 'remote' "$T/prom.log" | tail -2)"
$M | grep -q '^vigil_remote_write_requests_total{result="success"} [1-9]' && pass rw/requests_counted || fail rw/requests_counted "no successful requests counted"
grep -qi 'non-recoverable\|status 4\|status 5' "$T/prom.log" && fail rw/prometheus_sees_no_errors "$(grep -i 'non-recoverable\|status' "$T/prom.log" | tail -1)" || pass rw/prometheus_sees_no_errors
# The same question to both: how many CPU series, and which job/instance.
q() { curl -sf -H "Authorization: Bearer $RT" "http://127.0.0.1:$1/api/v1/query" --data-urlencode "query=$2" | python3 -c '
import json,sys; d=json.load(sys.stdin)["data"]["result"]; print(sorted((r["metric"].get("job",""), r["metric"].get("instance",""), r["value"][1]) for r in d))'; }
vc=$(q "$VP" 'count by (job, instance) (node_cpu_seconds_total)')
pc=$(q "$PP" 'count by (job, instance) (node_cpu_seconds_total)')
[ -n "$vc" ] && [ "$vc" = "$pc" ] && pass "rw/query_back_matches_prometheus $vc" || fail rw/query_back_matches_prometheus "vigil $vc prometheus $pc"
# promtool 2.42 cannot send a bearer token; it sends Basic auth from the URL.
if promtool query instant "http://promtool:$RT@127.0.0.1:$VP" 'up{job="node"}' >"$T/pt" 2>&1 && grep -q '=> 1 @' "$T/pt"; then
	pass rw/promtool_query_instant_against_vigil
else fail rw/promtool_query_instant_against_vigil "$(head -3 "$T/pt")"; fi
# Debian's promtool gives the same answers from vigil as from Prometheus for
# the same samples (a window that remote_write has certainly delivered).
sleep 3
END=$(( $(date +%s) - 4 )); START=$((END - 8))
pq() { promtool query "$@" 2>&1; }
a=$(pq labels "http://promtool:$RT@127.0.0.1:$VP" job); b=$(pq labels "http://127.0.0.1:$PP" job)
[ -n "$a" ] && [ "$a" = "$b" ] && pass "rw/promtool_labels_same ($a)" || fail rw/promtool_labels_same "vigil [$a] prometheus [$b]"
a=$(pq series --match='node_load1' --start=$START --end=$END "http://promtool:$RT@127.0.0.1:$VP")
b=$(pq series --match='node_load1' --start=$START --end=$END "http://127.0.0.1:$PP")
[ -n "$a" ] && [ "$a" = "$b" ] && pass rw/promtool_series_same || fail rw/promtool_series_same "vigil [$a] prometheus [$b]"
a=$(pq range --start=$START --end=$END --step=2s "http://promtool:$RT@127.0.0.1:$VP" 'sum by (job) (node_memory_MemTotal_bytes)')
b=$(pq range --start=$START --end=$END --step=2s "http://127.0.0.1:$PP" 'sum by (job) (node_memory_MemTotal_bytes)')
[ -n "$a" ] && [ "$a" = "$b" ] && pass rw/promtool_range_same || fail rw/promtool_range_same "vigil [$a] prometheus [$b]"
code=$(curl -s -o "$T/resp" -w '%{http_code}' -X POST --data-binary 'garbage' -H "Authorization: Bearer $WT" \
	-H 'Content-Type: application/x-protobuf' -H 'Content-Encoding: snappy' "http://127.0.0.1:$VP/api/v1/write")
[ "$code" = 400 ] && grep -q 'snappy' "$T/resp" && pass rw/malformed_body_400_with_reason || fail rw/malformed_body_400_with_reason "HTTP $code: $(cat "$T/resp")"
wait_for sh -c "$M | grep -q '^vigil_remote_write_requests_total{result=\"malformed\"} 1'" && pass rw/malformed_counted || fail rw/malformed_counted ""
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $WT" "http://127.0.0.1:$VP/api/v1/write")
[ "$code" = 405 ] && pass rw/get_is_405 || fail rw/get_is_405 "HTTP $code"
[ "$FAILS" = 0 ]
