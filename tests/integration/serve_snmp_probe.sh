#!/usr/bin/env bash
# vigil serve polls a recorded real switch (served by vigil snmpsim) with a
# community from the secrets file, and probes this host (ICMP node status,
# HTTP): what a user sees through /api/v1 matches the recording and the host.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
TD=${VIGIL_TESTDATA:-../shared/testdata}
[ -d "$TD/snmp" ] || TD=/work/shared/testdata
T=$(mktemp -d /tmp/vigil-sp-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port)
SP=$(python3 -c 'import socket; s=socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$VIGIL" snmpsim "$TD/snmp/librenms" --listen 127.0.0.1:$SP >"$T/sim.log" 2>&1 & PIDS+=($!)
printf 'switch: arubaos\n' >"$T/secrets.yml"; chmod 600 "$T/secrets.yml"
cat >"$T/vigil.yml" <<YML
global:
  secrets_file: $T/secrets.yml
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  enabled: false
snmp:
  devices:
    - name: aruba
      address: 127.0.0.1:$SP
      credential: switch
      interval: 2s
probes:
  - kind: icmp
    target: 127.0.0.1
    node: loopback
    interval: 1s
  - kind: http
    target: http://127.0.0.1:$VP/-/healthy
    interval: 1s
YML
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail sp/starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" sp-test)
q() { curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
for i in $(seq 1 60); do [ "$(q 'snmp_up{instance="aruba"}')" = 1 ] && [ "$(q 'vigil_node_status{node="loopback"}')" = 1 ] && break; sleep 0.25; done
[ "$(q 'snmp_up{instance="aruba"}')" = 1 ] && pass sp/snmp_device_up || fail sp/snmp_device_up "$(q 'snmp_up') $(grep -i snmp "$T/err" | tail -2)"
# Every interface of the recording, with its 64-bit counter, as net-snmp reads it.
want=$(snmpbulkwalk -v2c -c arubaos -On -Ob 127.0.0.1:$SP 1.3.6.1.2.1.31.1.1.1.6 2>/dev/null | grep -c Counter64)
got=$(q 'count(ifHCInOctets{instance="aruba"})')
[ "$want" -gt 0 ] && [ "$got" = "$want" ] && pass "sp/every_interface_polled ($got)" || fail sp/every_interface_polled "vigil $got, snmpbulkwalk $want"
idx=$(snmpbulkwalk -v2c -c arubaos -On -Ob 127.0.0.1:$SP 1.3.6.1.2.1.31.1.1.1.6 2>/dev/null | head -1 | sed -E 's/^\.1\.3\.6\.1\.2\.1\.31\.1\.1\.1\.6\.([0-9]+) = Counter64: ([0-9]+)$/\1 \2/')
set -- $idx
v=$(q "ifHCInOctets{instance=\"aruba\",ifIndex=\"$1\"}")
[ "$v" = "$2" ] && pass sp/counter_value_matches_snmpbulkwalk || fail sp/counter_value_matches_snmpbulkwalk "ifIndex $1: vigil $v, snmpbulkwalk $2"
name=$(snmpget -v2c -c arubaos -Oqv 127.0.0.1:$SP 1.3.6.1.2.1.1.5.0 2>/dev/null | tr -d '"')
[ "$(q "snmp_device_info{instance=\"aruba\",sysName=\"$name\"}")" = 1 ] && pass sp/device_info_has_sysName || fail sp/device_info_has_sysName "sysName $name"
[ "$(q 'vigil_node_status{node="loopback"}')" = 1 ] && pass sp/icmp_node_status_up || fail sp/icmp_node_status_up "$(q 'vigil_node_status')"
[ "$(q 'probe_success{module="icmp",instance="127.0.0.1"}')" = 1 ] && pass sp/icmp_probe_success || fail sp/icmp_probe_success "$(q 'probe_success')"
rtt=$(q 'probe_icmp_duration_seconds{phase="rtt",instance="127.0.0.1"}')
python3 -c "import sys; sys.exit(0 if 0 < float('$rtt') < 0.1 else 1)" 2>/dev/null && pass "sp/icmp_rtt_measured ($rtt s)" || fail sp/icmp_rtt_measured "$rtt"
for i in $(seq 1 20); do [ "$(q 'probe_http_status_code{module="http"}')" = 200 ] && break; sleep 0.25; done
[ "$(q 'probe_http_status_code{module="http"}')" = 200 ] && pass sp/http_probe_of_vigil_itself || fail sp/http_probe_of_vigil_itself "$(q 'probe_success{module="http"}')"
# The community reached the poller and nobody else: the web worker never had it.
M="curl -sf http://127.0.0.1:$VP/metrics"
$M | grep -q '^vigil_snmp' && pass sp/snmp_self_metrics || fail sp/snmp_self_metrics "none in /metrics"
[ "$FAILS" = 0 ]
