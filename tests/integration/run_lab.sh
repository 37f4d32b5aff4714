#!/usr/bin/env bash
# `make run` (scripts/run) starts the demo lab with vigil: the simulated
# switches it writes are polled by the vigil it starts (snmp_up == 1 for each,
# counters moving, as a user sees through /api/v1), and stopping vigil stops
# the lab's simulator. Runs the ASan build with a small lab on free ports.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-run-XXXXXX)
RUNPID=
cleanup() {
	[ -n "$RUNPID" ] && kill "$RUNPID" 2>/dev/null
	[ -f "$T/lab/sim.pid" ] && kill "$(cat "$T/lab/sim.pid")" 2>/dev/null
	[ -n "${VPID:-}" ] && kill -9 "$VPID" 2>/dev/null
	sleep 0.3; rm -rf "$T"
}
trap cleanup EXIT
VP=$(free_port)
N=4
VIGIL=$VIGIL LAB_DIR=$T/lab DATA_DIR=$T/data VIGIL_PORT=$VP LAB_SWITCHES=$N \
	SNMP_INTERVAL=2s HOST_INTERVAL=2s setsid ./scripts/run >"$T/out" 2>"$T/err" &
RUNPID=$!
wait_for grep -q serving "$T/out" || wait_for grep -q serving "$T/out" ||
	{ fail run/starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
pass "run/starts_vigil_and_lab ($(grep -c '^    - name: sw-' "$T/lab/vigil.yml") switches in its config)"
SIM=$(cat "$T/lab/sim.pid")
VPID=$(pgrep -P "$RUNPID" -f 'serve -c' | head -1)
TOK=$("$VIGIL" token create -d "$T/data" run-test)
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for _ in $(seq 1 60); do [ "$(q 'count(snmp_up == 1)')" = "$N" ] && break; sleep 0.25; done
up=$(q 'count(snmp_up == 1)')
[ "$up" = "$N" ] && pass "run/lab_switches_polled (snmp_up == 1 for $up)" ||
	fail run/lab_switches_polled "count(snmp_up == 1) = $up, want $N; $(grep -i snmp "$T/err" | tail -2)"
[ "$(q 'snmp_up{instance="sw-fra-core"}')" = 1 ] && pass run/named_switch_up || fail run/named_switch_up "$(q 'snmp_up')"
ports=$(q 'count(ifHCInOctets{instance="sw-fra-core"})')
[ "$ports" = 48 ] && pass "run/every_port ($ports)" || fail run/every_port "$ports ifHCInOctets series, want 48"
# A moving network: an up port's counter grows between two polls.
q1=$(q 'max(ifHCInOctets{instance="sw-fra-core",ifIndex="1"})')
for _ in $(seq 1 40); do
	q2=$(q 'max(ifHCInOctets{instance="sw-fra-core",ifIndex="1"})')
	python3 -c "import sys; sys.exit(0 if float('$q2') > float('$q1') else 1)" 2>/dev/null && break
	sleep 0.25
done
python3 -c "import sys; sys.exit(0 if float('$q2') > float('$q1') else 1)" 2>/dev/null &&
	pass "run/counters_move ($q1 -> $q2)" || fail run/counters_move "$q1 -> $q2"
[ "$(q 'count(node_cpu_seconds_total)')" != none ] && pass run/this_host_collected || fail run/this_host_collected none
# Stopping make run stops vigil, then the simulator.
kill -TERM "$RUNPID"
for _ in $(seq 1 100); do kill -0 "$RUNPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUNPID" 2>/dev/null && fail run/stops "scripts/run still running 10 s after TERM" || pass run/stops
if [ -z "$VPID" ]; then fail run/vigil_stopped "no vigil serve child of scripts/run was found"
elif kill -0 "$VPID" 2>/dev/null; then fail run/vigil_stopped "vigil $VPID still running"
else pass run/vigil_stopped; fi
for _ in $(seq 1 30); do kill -0 "$SIM" 2>/dev/null || break; sleep 0.1; done
kill -0 "$SIM" 2>/dev/null && fail run/lab_stopped "simulator $SIM still running" || pass run/lab_stopped
RUNPID=
[ "$FAILS" = 0 ]
