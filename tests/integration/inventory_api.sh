#!/usr/bin/env bash
# inventory_api.sh — GET /api/inventory/{nodes,interfaces,events} from vigil
# serve: two recorded switches served by `vigil snmpsim` on 127.0.0.2 and
# 127.0.0.3, ICMP probes of those addresses and of 127.0.0.1 (this host), and
# a TCP probe of a listener the test stops. Every box is one node; stopping
# the listener and a switch's simulator gives status-change events; the events
# and status_since survive a restart of vigil.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
TD=${VIGIL_TESTDATA:-../shared/testdata}
[ -d "$TD/snmp" ] || TD=/work/shared/testdata
T=$(mktemp -d /tmp/vigil-inv-XXXXXX)
PIDS=()
VPID=""
cleanup() { for p in "${PIDS[@]}" $VPID; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}" $VPID; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
udp_port() { python3 -c 'import socket,sys; s=socket.socket(type=socket.SOCK_DGRAM); s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"; }
VP=$(free_port)
SPA=$(udp_port 127.0.0.2)
SPB=$(udp_port 127.0.0.3)
TP=$(free_port)
mkdir -p "$T/sim"
cp "$TD/snmp/librenms/arubaos.snmprec" "$TD/snmp/librenms/ios_c3560.snmprec" "$T/sim/"
"$VIGIL" snmpsim "$T/sim" --listen 127.0.0.2:$SPA >"$T/sima.log" 2>&1 & SIMA=$!; PIDS+=($SIMA)
"$VIGIL" snmpsim "$T/sim" --listen 127.0.0.3:$SPB >"$T/simb.log" 2>&1 & PIDS+=($!)
# The TCP service a probe watches: a listener that accepts and closes.
python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.4", int(sys.argv[1]))); s.listen(16)
while True:
    c,_=s.accept(); c.close()' "$TP" >/dev/null 2>&1 & SVC=$!; PIDS+=($SVC)
printf 'aruba: arubaos\ncisco: ios_c3560\n' >"$T/secrets.yml"; chmod 600 "$T/secrets.yml"
cat >"$T/vigil.yml" <<YML
global:
  secrets_file: $T/secrets.yml
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  interval: 1s
snmp:
  devices:
    - name: sw-a
      address: 127.0.0.2:$SPA
      credential: aruba
      interval: 1s
      timeout: 1s
      retries: 0
    - name: sw-b
      address: 127.0.0.3:$SPB
      credential: cisco
      interval: 1s
      timeout: 1s
      retries: 0
probes:
  - kind: icmp
    target: 127.0.0.2
    interval: 1s
  - kind: icmp
    target: 127.0.0.3
    node: core-b
    interval: 1s
  - kind: icmp
    target: 127.0.0.1
    node: loopback
    interval: 1s
  - kind: tcp
    target: 127.0.0.4:$TP
    node: svc
    interval: 1s
    timeout: 1s
    retry_interval: 300ms
    down_after: 2
YML
start() {
	"$VIGIL" serve -c "$T/vigil.yml" >>"$T/out" 2>>"$T/err" & VPID=$!
	wait_for curl -sf "http://127.0.0.1:$VP/-/ready"
}
start || { fail inv/starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" --role viewer inv-test)
api() { curl -s -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/inventory/$1"; }
# nodes TABLE: "node|instance|address|status|kind|since" per row, sorted
nodes() { api nodes | python3 2>/dev/null -c 'import json,sys
for n in json.load(sys.stdin)["data"]:
    print("|".join(str(n[k]) for k in ("node","instance","address","status","kind","status_since","vendor")))'; }
HOST=$(hostname)
# ready: both switches and svc up (this host may be warning on a busy machine)
ready() { local out; out=$(nodes); [ "$(echo "$out" | grep -cE '\|(sw-a|sw-b|127.0.0.4:[0-9]+)\|.*\|up\|')" = 3 ]; }
for _ in $(seq 1 80); do ready && break; sleep 0.25; done
N=$(nodes)
echo "$N" | sed 's/^/  /'
[ "$(echo "$N" | wc -l)" = 4 ] && pass "inv/one_node_per_box (4 rows)" || fail inv/one_node_per_box "$(echo "$N" | tr '\n' ';')"
# The ICMP probe of 127.0.0.2 (no node) is switch sw-a; the one named core-b is sw-b.
echo "$N" | grep -q '|sw-a|127.0.0.2|up|snmp|' && pass inv/probe_merged_with_switch_by_address ||
	fail inv/probe_merged_with_switch_by_address "$(echo "$N" | grep 127.0.0.2)"
echo "$N" | grep -q '|sw-b|127.0.0.3|up|snmp|.*|Cisco$' && pass inv/named_probe_merged_with_switch ||
	fail inv/named_probe_merged_with_switch "$(echo "$N" | grep -e 127.0.0.3 -e core-b)"
echo "$N" | grep -qE "\|$HOST\|.*\|(up|warning)\|host\|" && ! echo "$N" | grep -q '^loopback|' && pass inv/loopback_probe_is_this_host ||
	fail inv/loopback_probe_is_this_host "$(echo "$N" | tr '\n' ';')"
echo "$N" | grep -q '^svc|127.0.0.4:'"$TP"'|127.0.0.4|up|probe|' && pass inv/tcp_probe_node ||
	fail inv/tcp_probe_node "$(echo "$N" | grep svc)"
# The host's availability history: up{job="node"} from the collectors.
U=$(curl -s -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=up{job=\"node\",instance=\"$HOST\"}" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
[ "$U" = 1 ] && pass inv/host_up_series || fail inv/host_up_series "$U"
# Interfaces of a switch: as many as the recording has, with names and status.
I=$(api "interfaces?instance=sw-b" | python3 -c 'import json,sys
d=json.load(sys.stdin)["data"]; print(len(d), sum(1 for i in d if i["ifName"] and i["oper_status"] in ("up","down")))')
want=$(grep -c '^1\.3\.6\.1\.2\.1\.2\.2\.1\.8\.' "$T/sim/ios_c3560.snmprec")
[ "$I" = "$want $want" ] && pass "inv/interfaces ($want)" || fail inv/interfaces "got '$I', recording has $want"
I=$(api "interfaces?instance=$HOST" | python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin)["data"] if i["ifName"]=="lo"))')
[ "$I" = 1 ] && pass inv/host_interfaces || fail inv/host_interfaces "lo rows: $I"
[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/inventory/interfaces")" = 400 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/inventory/nope")" = 404 ] &&
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$VP/api/inventory/nodes")" = 401 ] &&
	pass inv/errors_and_auth || fail inv/errors_and_auth "missing instance, unknown path or no token not refused"

# Status changes: stop the TCP service (svc: up -> warning -> down) and sw-a's simulator.
# (events before this are ignored: a loaded machine may time out a poll now and then)
KT=$(date +%s)
kill $SVC; kill $SIMA
ev() { api "events?since=$1" | python3 2>/dev/null -c 'import json,sys
for e in json.load(sys.stdin)["data"]: print("%s|%s|%s|%s|%.3f|%s" % (e["node"], e["from"], e["to"], e["source"], e["time"], e["instance"]))'; }
for _ in $(seq 1 60); do
	E=$(ev $KT)
	echo "$E" | grep -q '^svc|warning|down|' && echo "$E" | grep -q '|up|down|snmp_up|.*|sw-a$' && break
	sleep 0.25
done
echo "$E" | sed 's/^/  /'
echo "$E" | grep -q '^svc|warning|down|vigil_node_status|' && echo "$E" | grep -q '^svc|up|warning|vigil_node_status|' &&
	pass inv/events_node_status_up_warning_down || fail inv/events_node_status_up_warning_down "$(echo "$E" | tr '\n' ';')"
echo "$E" | grep -q '|up|down|snmp_up|.*|sw-a$' && pass inv/events_switch_down || fail inv/events_switch_down "$(echo "$E" | tr '\n' ';')"
sorted=$(echo "$E" | cut -d'|' -f5 | sort -rn | tr '\n' ' ')
[ "$sorted" = "$(echo "$E" | cut -d'|' -f5 | tr '\n' ' ')" ] && pass inv/events_newest_first || fail inv/events_newest_first "$sorted"
N=$(nodes)
echo "$N" | grep -q '^svc|.*|down|probe|' && echo "$N" | grep -q '|sw-a|127.0.0.2|down|' && pass inv/nodes_show_down ||
	fail inv/nodes_show_down "$(echo "$N" | tr '\n' ';')"
SINCE=$(echo "$N" | grep '^svc|' | cut -d'|' -f6)
DOWNT=$(echo "$E" | grep '^svc|warning|down|' | head -1 | cut -d'|' -f5)
python3 -c "import sys; sys.exit(0 if abs(float('$SINCE') - float('$DOWNT')) < 0.01 else 1)" 2>/dev/null &&
	pass inv/status_since_is_the_change || fail inv/status_since_is_the_change "status_since $SINCE, event $DOWNT"
FUT=$(( $(date +%s) + 60 ))
[ -z "$(ev $FUT)" ] && pass inv/events_since_filters || fail inv/events_since_filters "$(ev $FUT | head -2)"

# Restart: the events come back from the stored series.
kill $VPID; for _ in $(seq 1 50); do kill -0 $VPID 2>/dev/null || break; sleep 0.1; done
start || { fail inv/restarts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
E2=""
for _ in $(seq 1 40); do E2=$(ev 0) && echo "$E2" | grep -q '^svc|warning|down|' && break; sleep 0.25; done
missing=$(echo "$E" | grep -E '^svc\||\|sw-a$' | while read -r l; do echo "$E2" | grep -qxF "$l" || echo "$l"; done)
[ -n "$E" ] && [ -z "$missing" ] && pass inv/events_survive_restart || fail inv/events_survive_restart "lost: $(echo "$missing" | tr '\n' ';')"
# sw-a is still down: its status_since is the change before the restart, not the restart.
SA1=$(echo "$N" | grep '|sw-a|' | cut -d'|' -f6)
SA2=$(nodes | grep '|sw-a|' | cut -d'|' -f6)
[ -n "$SA1" ] && [ "$SA1" = "$SA2" ] && pass inv/status_since_survives_restart || fail inv/status_since_survives_restart "$SA1 then $SA2"
[ "$FAILS" = 0 ] || { echo "vigil stderr tail:"; grep -v level=info "$T/err" | tail -8; }
[ "$FAILS" = 0 ]
