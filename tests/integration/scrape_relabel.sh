#!/usr/bin/env bash
# vigil serve applies relabel_configs to scrape targets before scraping, as
# Prometheus does: against a real node_exporter, a target dropped by a rule is
# never scraped (no up series at all, unlike a down target), labels made from
# __address__ and a literal land on every series of the kept target, and a
# target whose __address__ a rule rewrites is scraped at the new address
# (which the egress policy then allows).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-relabel-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) NP=$(free_port) DP=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$NP --collector.disable-defaults \
	--collector.loadavg --collector.meminfo >"$T/ne.log" 2>&1 & PIDS+=($!)
cat >"$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  enabled: false
scrape_configs:
  - job_name: relab
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["127.0.0.1:$NP", "127.0.0.1:$DP"]
    relabel_configs:
      - source_labels: [__address__]
        regex: ".*:$DP"
        action: drop
      - source_labels: [__address__]
        regex: "(.*):(\\\\d+)"
        target_label: exporter_port
        replacement: "\$2"
      - target_label: env
        replacement: lab
  - job_name: moved
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["node-a.invalid:9100"]
    relabel_configs:
      - source_labels: [__address__]
        regex: "node-a\\\\.invalid:9100"
        target_label: __address__
        replacement: "127.0.0.1:$NP"
YML
"$VIGIL" check config "$T/vigil.yml" >/dev/null && pass relabel/config_checks || fail relabel/config_checks "$("$VIGIL" check config "$T/vigil.yml" 2>&1)"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail relabel/starts "$(tail -3 "$T/err")"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" relabel-test)
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for i in $(seq 1 40); do [ "$(q 'up{job="relab"}')" = 1 ] && [ "$(q 'up{job="moved"}')" = 1 ] && break; sleep 0.25; done
[ "$(q "up{job=\"relab\",instance=\"127.0.0.1:$NP\",env=\"lab\",exporter_port=\"$NP\"}")" = 1 ] &&
	pass relabel/kept_target_has_relabelled_labels || fail relabel/kept_target_has_relabelled_labels "$(q 'up{job="relab"}')"
[ "$(q "node_memory_MemTotal_bytes{job=\"relab\",env=\"lab\",exporter_port=\"$NP\"}")" != none ] &&
	pass relabel/target_labels_on_every_series || fail relabel/target_labels_on_every_series "no node_memory_MemTotal_bytes with env/exporter_port"
sleep 1.5	# a few more scrape intervals: a dropped target would have reported by now
[ "$(q 'count(up{job="relab"})')" = 1 ] && [ "$(q "up{instance=\"127.0.0.1:$DP\"}")" = none ] &&
	pass relabel/dropped_target_not_scraped || fail relabel/dropped_target_not_scraped "count=$(q 'count(up{job="relab"})') dp=$(q "up{instance=\"127.0.0.1:$DP\"}")"
[ "$(q "up{job=\"moved\",instance=\"127.0.0.1:$NP\"}")" = 1 ] &&
	pass relabel/rewritten_address_scraped || fail relabel/rewritten_address_scraped "$(q 'up{job="moved"}'); $(grep -i moved "$T/err" | tail -2)"
[ "$(q 'count(up{instance="node-a.invalid:9100"})')" = none ] &&
	pass relabel/instance_is_final_address || fail relabel/instance_is_final_address "old address still an instance"
[ "$FAILS" = 0 ]
