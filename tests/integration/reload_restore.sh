#!/usr/bin/env bash
# A reload the parent accepts but the poller cannot apply (a scrape target
# whose name does not resolve) is rejected by the poller, which goes back to
# the running config: the scrape it had keeps working.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-rr-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) NP=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$NP --collector.disable-defaults --collector.loadavg >"$T/ne.log" 2>&1 & PIDS+=($!)
cfg() { printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\nhost:\n  enabled: false\nscrape_configs:\n  - job_name: ne\n    scrape_interval: 1s\n    scrape_timeout: 900ms\n    static_configs:\n      - targets: ["%s"]\n' "$VP" "$T" "$1"; }
cfg "127.0.0.1:$NP" >"$T/vigil.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
VPID=${PIDS[-1]}
wait_for grep -q serving "$T/out" || { fail rr/starts "$(tail -2 "$T/err")"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" rr)
n() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode 'query=count_over_time(up{job="ne"}[1m])' |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(int(float(r[0]["value"][1])) if r else 0)'; }
wait_for sh -c "[ \$(curl -sf -H 'Authorization: Bearer $TOK' 'http://127.0.0.1:$VP/api/v1/query?query=up' | grep -c '\"1\"') -ge 1 ]"
cfg "no-such-host.invalid:$NP" >"$T/vigil.yml"
kill -HUP "$VPID"
wait_for grep -q 'proc=poller msg="config rejected".*no-such-host.invalid' "$T/err" && pass rr/poller_rejects_unresolvable_target || fail rr/poller_rejects_unresolvable_target "$(grep -i reject "$T/err" | tail -1)"
wait_for sh -c "curl -sf http://127.0.0.1:$VP/metrics | grep -q '^vigil_config_last_reload_successful 0$'" &&
	pass rr/reload_reported_as_failed || fail rr/reload_reported_as_failed "$(curl -sf http://127.0.0.1:$VP/metrics | grep reload)"
a=$(n); sleep 3; b=$(n)
[ "$b" -gt "$a" ] && pass "rr/old_scrape_keeps_running ($a -> $b scrapes)" || fail rr/old_scrape_keeps_running "$a -> $b"
[ "$FAILS" = 0 ]
