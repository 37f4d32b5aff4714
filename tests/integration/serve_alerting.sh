#!/usr/bin/env bash
# vigil serve evaluates a Prometheus rule file against what it stores, shows
# the rules and alerts in Prometheus's API shapes and as ALERTS series, and
# its notifier delivers the firing alert to a real Alertmanager. A reload with
# a broken rule file is rejected and the running rules stay.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-al-XXXXXX); chmod 755 "$T"
PIDS=()
cleanup() { [ -n "${KEEP:-}" ] && return; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) AP=$(free_port)
cat >"$T/am.yml" <<YML
route:
  receiver: "null"
receivers:
  - name: "null"
YML
prometheus-alertmanager --config.file="$T/am.yml" --storage.path="$T/am" --web.listen-address=127.0.0.1:$AP \
	--cluster.listen-address= >"$T/am.log" 2>&1 & PIDS+=($!)
cat >"$T/rules.yml" <<'YML'
groups:
  - name: test
    interval: 1s
    rules:
      - alert: HostLoadPresent
        expr: node_load1{job="node"} >= 0
        labels:
          severity: info
        annotations:
          summary: "load on {{ $labels.instance }} is {{ $value }}"
      - record: job:node_load1:sum
        expr: sum by (job) (node_load1)
YML
cat >"$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  interval: 1s
  instance: alhost
rule_files:
  - rules.yml
alerting:
  evaluation_interval: 1s
  resend_delay: 1s
  alertmanagers:
    - url: http://127.0.0.1:$AP
YML
"$VIGIL" check config "$T/vigil.yml" >/dev/null 2>"$T/chk" && pass al/check_config_with_rules || fail al/check_config_with_rules "$(cat "$T/chk")"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
VPID=${PIDS[-1]}
wait_for grep -q serving "$T/out" || { fail al/starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" al-test)
api() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/$1"; }
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for i in $(seq 1 60); do api alerts | grep -q '"state":"firing"' && break; sleep 0.25; done
api alerts >"$T/alerts.json"
python3 - "$T/alerts.json" <<'PY' && pass al/api_alerts_firing_with_annotation || fail al/api_alerts_firing_with_annotation "$(head -c 300 "$T/alerts.json")"
import json, sys
a = json.load(open(sys.argv[1]))["data"]["alerts"]
ok = [x for x in a if x["labels"]["alertname"] == "HostLoadPresent" and x["state"] == "firing"
      and x["labels"]["instance"] == "alhost" and x["annotations"]["summary"].startswith("load on alhost is ")]
sys.exit(0 if ok else 1)
PY
api rules >"$T/rules.json"
python3 - "$T/rules.json" <<'PY' && pass al/api_rules_shape || fail al/api_rules_shape "$(head -c 300 "$T/rules.json")"
import json, sys
g = json.load(open(sys.argv[1]))["data"]["groups"]
r = {x["name"]: x for x in g[0]["rules"]}
sys.exit(0 if g[0]["name"] == "test" and r["HostLoadPresent"]["type"] == "alerting" and r["HostLoadPresent"]["health"] == "ok"
         and r["job:node_load1:sum"]["type"] == "recording" else 1)
PY
[ "$(q 'ALERTS{alertname="HostLoadPresent",alertstate="firing"}')" = 1 ] && pass al/ALERTS_series || fail al/ALERTS_series "$(q 'ALERTS')"
for i in $(seq 1 20); do [ "$(q 'job:node_load1:sum{job="node"}')" != none ] && break; sleep 0.25; done
[ "$(q 'job:node_load1:sum{job="node"}')" != none ] && pass al/recording_rule_series || fail al/recording_rule_series "none"
for i in $(seq 1 60); do curl -sf "http://127.0.0.1:$AP/api/v2/alerts" | grep -q HostLoadPresent && break; sleep 0.25; done
curl -sf "http://127.0.0.1:$AP/api/v2/alerts" >"$T/am.json"
python3 - "$T/am.json" <<'PY' && pass al/alertmanager_received_it || fail al/alertmanager_received_it "$(head -c 300 "$T/am.json")"
import json, sys
a = json.load(open(sys.argv[1]))
ok = [x for x in a if x["labels"].get("alertname") == "HostLoadPresent" and x["labels"].get("severity") == "info"
      and x["annotations"].get("summary", "").startswith("load on alhost")]
sys.exit(0 if ok else 1)
PY
# A broken rule file on reload: rejected with its position, the old rules keep running.
cp "$T/rules.yml" "$T/rules.good"
printf 'groups:\n  - name: test\n    rules:\n      - alert: Bad\n        expr: sum(\n' >"$T/rules.yml"
kill -HUP "$VPID"
wait_for grep -q 'reload rejected.*rules.yml' "$T/err" && pass al/bad_rule_file_reload_rejected || fail al/bad_rule_file_reload_rejected "$(grep -i reload "$T/err" | tail -1)"
sleep 1.5
api alerts | grep -q '"state":"firing"' && pass al/old_rules_still_running || fail al/old_rules_still_running ""
# Alert state survives a restart (restored from alerts.state).
kill -TERM "$VPID"; wait "$VPID" 2>/dev/null
cp "$T/rules.good" "$T/rules.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out2" 2>"$T/err2" & PIDS+=($!)
wait_for grep -q serving "$T/out2" || fail al/restarts "$(tail -2 "$T/err2")"
sleep 0.5
api alerts | grep -q 'HostLoadPresent' && pass al/alert_state_restored_after_restart || fail al/alert_state_restored_after_restart "$(api alerts | head -c 200)"
[ "$FAILS" = 0 ]
