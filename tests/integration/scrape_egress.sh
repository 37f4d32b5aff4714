#!/usr/bin/env bash
# vigil serve scrapes a real node_exporter named in scrape_configs; a target
# that redirects to an address the config does not name is refused by the
# egress policy: logged, counted in /metrics, and the target is down.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-scrape-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) NP=$(free_port) RP=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$NP --collector.disable-defaults \
	--collector.loadavg --collector.meminfo >"$T/ne.log" 2>&1 & PIDS+=($!)
# A configured target that answers every request with a redirect to 127.0.0.2
# (the same node_exporter port, but an address the config never names).
cat >"$T/redir.py" <<PY
import http.server
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(302); self.send_header("Location", "http://127.0.0.2:$NP/metrics"); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", $RP), H).serve_forever()
PY
python3 "$T/redir.py" & PIDS+=($!)
cat >"$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  enabled: false
scrape_configs:
  - job_name: ne
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["127.0.0.1:$NP"]
        labels:
          site: lab
  - job_name: redirected
    scrape_interval: 1s
    scrape_timeout: 900ms
    static_configs:
      - targets: ["127.0.0.1:$RP"]
YML
"$VIGIL" check config "$T/vigil.yml" >/dev/null && pass scrape/config_checks || fail scrape/config_checks "$("$VIGIL" check config "$T/vigil.yml" 2>&1)"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail scrape/starts "$(tail -3 "$T/err")"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" scrape-test)
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for i in $(seq 1 40); do [ "$(q 'up{job="ne"}')" = 1 ] && [ "$(q 'up{job="redirected"}')" = 0 ] && break; sleep 0.25; done
[ "$(q "up{job=\"ne\",instance=\"127.0.0.1:$NP\",site=\"lab\"}")" = 1 ] && pass scrape/up_1_with_job_instance_and_group_labels || fail scrape/up_1_with_job_instance_and_group_labels "$(q 'up')"
n=$(q 'count({job="ne"})')
[ "$n" != none ] && [ "$n" -gt 20 ] && pass "scrape/node_exporter_series_stored ($n)" || fail scrape/node_exporter_series_stored "got $n"
mem=$(q 'node_memory_MemTotal_bytes{job="ne"}')
want=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
[ "$mem" = "$want" ] && pass scrape/value_matches_proc || fail scrape/value_matches_proc "got $mem want $want"
[ "$(q 'up{job="redirected"}')" = 0 ] && pass scrape/redirect_target_is_down || fail scrape/redirect_target_is_down "up=$(q 'up{job="redirected"}')"
M="curl -sf http://127.0.0.1:$VP/metrics"
wait_for sh -c "$M | grep -q '^vigil_egress_refused_total{worker=\"poller\"} [1-9]'" &&
	pass scrape/egress_refusal_counted || fail scrape/egress_refusal_counted "$($M | grep egress_refused)"
grep -q 'egress refused: destination not in config.*addr=127.0.0.2' "$T/err" && pass scrape/egress_refusal_logged || fail scrape/egress_refusal_logged "no log line"
[ "$(q "count(scrape_samples_scraped{job=\"ne\"} > 0)")" = 1 ] && pass scrape/scrape_samples_scraped || fail scrape/scrape_samples_scraped ""
[ "$FAILS" = 0 ]
