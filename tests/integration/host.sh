#!/usr/bin/env bash
# vigil serve monitors this host: node_exporter's names with job and instance,
# queryable through /api/v1, and still there after a restart.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-host-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; sleep 0.3; [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\nhost:\n  interval: 1s\n  instance: testhost\n' "$PORT" "$T" >"$T/vigil.yml"
start() { "$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PID=$!; wait_for grep -q serving "$T/out"; }
start || { fail host/starts "$(tail -2 "$T/err")"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" --role viewer host-test)
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
ncpu=$(nproc)
wait_for sh -c "[ \"\$(curl -sf -H 'Authorization: Bearer $TOK' 'http://127.0.0.1:$PORT/api/v1/query?query=count(node_cpu_seconds_total)' | grep -c '\"$((ncpu * 8))\"')\" = 1 ]"
got=$(q 'count(node_cpu_seconds_total{job="node",instance="testhost"})')
[ "$got" = $((ncpu * 8)) ] && pass "host/cpu_series_with_job_and_instance ($got)" || fail host/cpu_series_with_job_and_instance "got $got, want $((ncpu * 8))"
mem=$(q 'node_memory_MemTotal_bytes')
want=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)
[ "$mem" = "$want" ] && pass host/memtotal_matches_proc || fail host/memtotal_matches_proc "got $mem want $want"
sleep 2.5
r=$(q 'rate(node_cpu_seconds_total{mode="idle",cpu="0"}[5s])')
python3 -c "import sys; v=float('$r'); sys.exit(0 if 0 <= v <= 1.05 else 1)" 2>/dev/null &&
	pass "host/idle_rate_is_a_fraction_of_a_second ($r)" || fail host/idle_rate_is_a_fraction_of_a_second "got $r"
up=$(q 'node_uname_info{job="node"}')
[ "$up" = 1 ] && pass host/uname_info || fail host/uname_info "got $up"
before=$(q 'count_over_time(node_load1[1h])')
kill -TERM "$PID"; wait "$PID"; PID=
start || fail host/restarts "$(tail -2 "$T/err")"
after=$(q 'count_over_time(node_load1[1h])')
python3 -c "import sys; sys.exit(0 if float('$after') >= float('$before') > 0 else 1)" 2>/dev/null &&
	pass "host/samples_survive_restart ($before before, $after after)" || fail host/samples_survive_restart "before $before after $after"
# The terminal client: a table, and a chart per series for a range.
out=$(VIGIL_TOKEN=$TOK timeout 20 "$VIGIL" query --server "http://127.0.0.1:$PORT" 'node_load1')
echo "$out" | grep -q 'node_load1{.*instance="testhost".*}' && pass host/vigil_query_table || fail host/vigil_query_table "$out"
out=$(timeout 20 "$VIGIL" query --token "$TOK" --server "http://127.0.0.1:$PORT" --range now-1m now 5s 'node_load1')
echo "$out" | grep -q '[▁▂▃▄▅▆▇█]' && pass host/vigil_query_range_chart || fail host/vigil_query_range_chart "$out"
out=$(timeout 20 "$VIGIL" query --server "http://127.0.0.1:$PORT" 'up' 2>&1); rc=$?
[ "$rc" != 0 ] && pass host/vigil_query_without_token_fails || fail host/vigil_query_without_token_fails "$out"
# Limits apply on reload: a query over query.max_samples fails with Prometheus's error.
printf 'query:\n  max_samples: 1000\n' >>"$T/vigil.yml"
kill -HUP "$PID"
ok=0
for i in $(seq 1 30); do
	code=$(curl -s -o "$T/big" -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/v1/query" \
		--data-urlencode 'query=count_over_time({__name__=~"node_.+"}[1h])')
	[ "$code" = 422 ] && grep -q 'too many samples' "$T/big" && { ok=1; break; }
	sleep 0.2
done
[ "$ok" = 1 ] && pass host/query_max_samples_enforced || fail host/query_max_samples_enforced "HTTP $code $(head -c 200 "$T/big")"
[ "$FAILS" = 0 ]
