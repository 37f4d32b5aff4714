#!/usr/bin/env bash
# vigil agent on a "remote host" pushes its collections with remote_write to a
# central vigil serve; the central vigil answers queries about that host.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-push-XXXXXX); chmod 755 "$T"
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port) AP=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\nhost:\n  enabled: false\n' "$VP" "$T" >"$T/vigil.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail push/central_starts "$(tail -2 "$T/err")"; exit 1; }
"$VIGIL" token create -d "$T/data" --role operator agent-push >"$T/token"
RT=$("$VIGIL" token create -d "$T/data" reader)
chmod 644 "$T/token"
"$VIGIL" agent --listen 127.0.0.1:$AP --remote-write "http://127.0.0.1:$VP/api/v1/write" --token-file "$T/token" 2>"$T/e1"; rc=$?
[ "$rc" = 2 ] && grep -q 'readable by group or others' "$T/e1" && pass push/token_file_must_be_private || fail push/token_file_must_be_private "exit $rc: $(cat "$T/e1")"
chmod 600 "$T/token"
"$VIGIL" agent --listen 127.0.0.1:$AP --interval 1s --instance edge-1 \
	--remote-write "http://127.0.0.1:$VP/api/v1/write" --token-file "$T/token" >"$T/agent.log" 2>&1 & PIDS+=($!)
q() { curl -sf -H "Authorization: Bearer $RT" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for i in $(seq 1 40); do [ "$(q 'count(node_cpu_seconds_total{instance="edge-1",job="node"})')" != none ] && break; sleep 0.25; done
n=$(q 'count(node_cpu_seconds_total{instance="edge-1",job="node"})')
[ "$n" = $(( $(nproc) * 8 )) ] && pass "push/host_series_arrive_with_job_and_instance ($n)" || fail push/host_series_arrive_with_job_and_instance "got $n; agent: $(tail -2 "$T/agent.log")"
curl -sf "http://127.0.0.1:$AP/metrics" | grep -q '^node_load1 ' && pass push/agent_still_serves_metrics || fail push/agent_still_serves_metrics ""
ps -o user= -p "${PIDS[-1]}" | grep -qv root && pass push/agent_runs_unprivileged || fail push/agent_runs_unprivileged "$(ps -o user= -p "${PIDS[-1]}")"
grep -q 'Seccomp:[[:space:]]*2' "/proc/${PIDS[-1]}/status" && pass push/agent_under_seccomp || fail push/agent_under_seccomp "$(grep Seccomp /proc/${PIDS[-1]}/status)"
# A wrong token: the push is refused and the agent says so (and keeps running).
echo nope >"$T/bad"; chmod 600 "$T/bad"
AP2=$(free_port)
"$VIGIL" agent --listen 127.0.0.1:$AP2 --interval 1s --remote-write "http://127.0.0.1:$VP/api/v1/write" --token-file "$T/bad" >"$T/agent2.log" 2>&1 & PIDS+=($!)
wait_for grep -q 'remote_write push failed.*status=401' "$T/agent2.log" && pass push/wrong_token_refused_and_logged || fail push/wrong_token_refused_and_logged "$(tail -2 "$T/agent2.log")"
[ "$FAILS" = 0 ]
