#!/usr/bin/env bash
# vigil's walker against `vigil snmpsim` serving the recorded devices (read
# in place from ../shared/testdata), compared with Debian's snmpbulkwalk
# reading the same simulator: interface tables and whole trees must print
# identically (-On -Ob form: hex strings, OIDs, Counter64, TimeTicks, Opaque).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/snmp_lib.sh
TD=${VIGIL_TESTDATA:-../shared/testdata}
[ -d "$TD/snmp" ] || TD=/work/shared/testdata
tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
fail=0
pass() { echo "PASS $1"; }
failed() { echo "FAIL $1: $2"; fail=1; }

V=$(snmp_bin "$tmp") || { echo "FAIL snmp_sim: cannot build the snmp driver"; exit 1; }
command -v snmpbulkwalk >/dev/null || { echo "FAIL snmp_sim: snmpbulkwalk missing (apt-get install snmp)"; exit 1; }
mkdir "$tmp/recs"
ln -s "$(realpath "$TD")"/snmp/librenms/*.snmprec "$(realpath "$TD")"/snmp/snmpsim/*.snmprec "$tmp/recs/"

start_sim() { # extra snmpsim args
	if [ -n "$sim_pid" ]; then kill "$sim_pid"; wait "$sim_pid" 2>/dev/null; fi
	"$V" snmpsim "$tmp/recs" --listen 127.0.0.1:0 "$@" 2>"$tmp/sim.log" &
	sim_pid=$!
	addr=
	for _ in $(seq 50); do
		addr=$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/sim.log")
		[ -n "$addr" ] && return 0
		sleep 0.1
	done
	return 1
}
start_sim || { echo "FAIL snmp_sim_start: $(cat "$tmp/sim.log")"; exit 1; }
ndev=$(sed -n 's/.*serving \([0-9]*\) devices.*/\1/p' "$tmp/sim.log")
if [ "${ndev:-0}" -ge 25 ]; then pass "snmp_sim_start: $ndev recordings on $addr"
else failed snmp_sim_start "only ${ndev:-0} devices: $(cat "$tmp/sim.log")"; fi

# net-snmp ends a walk that runs off the MIB with an endOfMibView line;
# vigil's walker just stops. Everything else must match byte for byte.
nsnmp() { snmpbulkwalk -v2c -c "$1" -On -Ob -t 2 -r 1 "$addr" "$2" 2>&1 |
	grep -v 'No more variables left in this MIB View'; }

printf '%-18s %-22s %7s  %s\n' device subtree oids result >"$tmp/table"
compare() { # test-name community root
	local name=$1 c=$2 root=$3 rc n res
	"$V" snmpwalk -v 2c -c "$c" -t 2 "$addr" "$root" >"$tmp/v.out" 2>"$tmp/v.err"
	rc=$?
	nsnmp "$c" "$root" >"$tmp/n.out"
	n=$(grep -c '^\.' "$tmp/n.out")
	if [ $rc -ne 0 ]; then
		res=FAIL; failed "$name" "vigil walk exited $rc: $(head -c 300 "$tmp/v.err")"
	elif [ "$n" -lt 1 ]; then
		res=EMPTY; failed "$name" "snmpbulkwalk returned nothing"
	elif ! diff -q "$tmp/v.out" "$tmp/n.out" >/dev/null; then
		res=DIFF
		failed "$name" "differs from snmpbulkwalk: $(diff "$tmp/v.out" "$tmp/n.out" | head -4 | tr '\n' '|')"
	else
		res=same; pass "$name: $n varbinds identical to snmpbulkwalk"
	fi
	printf '%-18s %-22s %7s  %s\n' "$c" "$root" "$n" "$res" >>"$tmp/table"
}

for d in ios_c3560 junos routeros dell-os10 nxos_lag-mib 3com_4200 edgeos arubaos swos \
	airos-af-ltu vmware-esxi linux-full-walk winxp-full-walk public; do
	compare "snmp_sim_iftable_$d" "$d" 1.3.6.1.2.1.2.2.1
	compare "snmp_sim_ifxtable_$d" "$d" 1.3.6.1.2.1.31.1.1.1
done
for d in linux-full-walk ios_c3560 junos_ex cyberpower arista_eos; do
	compare "snmp_sim_fulltree_$d" "$d" 1.3.6.1
done
# a subtree the device lacks: both fall back to a GET of the OID itself
compare snmp_sim_missing_subtree arista_eos 1.3.6.1.2.1.2.2.1
cat "$tmp/table"

# v1 (GETNEXT) walk equals net-snmp's v1 walk.
"$V" snmpwalk -v 1 -c junos "$addr" 1.3.6.1.2.1.2.2.1 >"$tmp/v1.out" 2>&1
snmpwalk -v1 -c junos -On -Ob "$addr" 1.3.6.1.2.1.2.2.1 >"$tmp/n1.out" 2>&1
if [ -s "$tmp/v1.out" ] && diff -q "$tmp/v1.out" "$tmp/n1.out" >/dev/null; then
	pass "snmp_sim_v1_getnext: $(wc -l <"$tmp/v1.out") lines identical"
else failed snmp_sim_v1_getnext "$(diff "$tmp/v1.out" "$tmp/n1.out" | head -3 | tr '\n' '|')"; fi

# max-repetitions 1 (one row per request) reads the same table.
"$V" snmpwalk -v 2c -c ios_c3560 -Cr 1 "$addr" 1.3.6.1.2.1.2.2.1 >"$tmp/r1.out" 2>&1
nsnmp ios_c3560 1.3.6.1.2.1.2.2.1 >"$tmp/nr.out"
if [ -s "$tmp/r1.out" ] && diff -q "$tmp/r1.out" "$tmp/nr.out" >/dev/null; then pass "snmp_sim_maxreps_1"
else failed snmp_sim_maxreps_1 "$(diff "$tmp/r1.out" "$tmp/nr.out" | head -3 | tr '\n' '|')"; fi

# A wrong community gets no answer: a clear timeout, quickly.
start=$(date +%s%N)
out=$("$V" snmpwalk -v 2c -c no-such-device -t 0.3 -r 1 "$addr" 1.3.6.1.2.1.1 2>&1)
rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
if [ $rc -eq 1 ] && echo "$out" | grep -q 'timed out' && [ $ms -lt 3000 ]; then
	pass "snmp_sim_wrong_community: '$out' after ${ms}ms"
else failed snmp_sim_wrong_community "rc=$rc after ${ms}ms: $out"; fi

# Garbage datagrams do not take the simulator down.
python3 - "$addr" <<'PEOF'
import socket, sys, random
host, port = sys.argv[1].rsplit(":", 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
random.seed(7)
for i in range(2000):
    s.sendto(bytes(random.getrandbits(8) for _ in range(random.randint(0, 600))), (host, int(port)))
s.sendto(b"\x30\x84\xff\xff\xff\xff", (host, int(port)))
PEOF
sleep 0.2
if "$V" snmpwalk -v 2c -c junos --get "$addr" 1.3.6.1.2.1.1.5.0 2>&1 | grep -q 'STRING'; then
	pass "snmp_sim_survives_garbage"
else failed snmp_sim_survives_garbage "no answer after 2000 garbage datagrams"; fi

# --advance: a Counter64 moves between two reads 1.1 s apart.
if start_sim --advance; then
	g1=$("$V" snmpwalk -v 2c -c dell-os10 "$addr" 1.3.6.1.2.1.31.1.1.1.6 | head -1)
	sleep 1.1
	g2=$("$V" snmpwalk -v 2c -c dell-os10 "$addr" 1.3.6.1.2.1.31.1.1.1.6 | head -1)
	if [ -n "$g1" ] && [ "$g1" != "$g2" ]; then pass "snmp_sim_advance: ifHCInOctets.1 ${g1##*: } -> ${g2##*: }"
	else failed snmp_sim_advance "counter did not move: '$g1' '$g2'"; fi
else failed snmp_sim_advance "simulator did not restart"; fi
exit $fail
