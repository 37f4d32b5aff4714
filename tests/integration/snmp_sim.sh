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
	: >"$tmp/sim.log"
	"$V" snmpsim "$tmp/recs" --listen 127.0.0.1:0 "$@" 2>>"$tmp/sim.log" &
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
# Every LibreNMS recording, whole: every value a profile can poll decodes as
# net-snmp decodes it (hex strings, OIDs, Counter64, TimeTicks).
for f in "$TD"/snmp/librenms/*.snmprec; do
	d=$(basename "$f" .snmprec)
	compare "snmp_sim_fulltree_$d" "$d" 1.3.6.1
done
compare snmp_sim_fulltree_linux-full-walk linux-full-walk 1.3.6.1
# a subtree the device lacks: both fall back to a GET of the OID itself
compare snmp_sim_missing_subtree arista_eos 1.3.6.1.2.1.2.2.1
cat "$tmp/table"

# The poll engine over the recordings: vendor profiles are chosen by
# sysObjectID, and what they read equals LibreNMS's expected results
# (../shared/testdata/snmp/librenms/*.json, read in place).
devs=()
for d in junos_ex aix_net-snmp ios_c3560 routeros arista_eos linux-full-walk nxos_lag-mib; do
	devs+=("name=$d,addr=$addr,v=2c,c=$d")
done
"$V" snmppoll --profiles profiles "${devs[@]}" >"$tmp/poll.out" 2>"$tmp/poll.err"
rc=$?
sed -n '/^device /,$p' "$tmp/poll.err"
python3 - "$tmp/poll.out" "$TD/snmp/librenms" <<'PEOF'
import json, re, sys
samples = {}
for line in open(sys.argv[1]):
    m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line.strip())
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2)))
    samples.setdefault(m.group(1), []).append((labels, float(m.group(3))))
def find(name, **want):
    for labels, v in samples.get(name, []):
        if all(labels.get(k) == w for k, w in want.items()):
            return v
    return None
ok = True
def check(test, got, want):
    global ok
    if got is None or abs(got - want) > 1e-6 * max(1, abs(want)):
        print(f"FAIL {test}: vigil {got}, LibreNMS expects {want}")
        ok = False
    else:
        print(f"PASS {test}: {want:g}")
lib = sys.argv[2]
j = json.load(open(f"{lib}/junos_ex.json"))
for p in j["processors"]["discovery"]["processors"]:
    i = p["processor_index"].split(".")
    got = find("jnxOperatingCPU", instance="junos_ex", jnxOperatingContentsIndex=i[0],
               jnxOperatingL1Index=i[1], jnxOperatingL2Index=i[2], jnxOperatingL3Index=i[3])
    check(f"snmp_sim_librenms_junos_ex_cpu_{p['processor_index']}", got, p["processor_usage"])
a = json.load(open(f"{lib}/aix_net-snmp.json"))
for p in a["processors"]["discovery"]["processors"]:
    got = find("hrProcessorLoad", instance="aix_net-snmp", hrDeviceIndex=p["processor_index"])
    check(f"snmp_sim_librenms_aix_cpu_{p['processor_index']}", got, p["processor_usage"])
def storage(idx):
    u = find("hrStorageAllocationUnits", instance="aix_net-snmp", hrStorageIndex=idx)
    s = find("hrStorageSize", instance="aix_net-snmp", hrStorageIndex=idx)
    d = find("hrStorageUsed", instance="aix_net-snmp", hrStorageIndex=idx)
    return (None, None) if None in (u, s, d) else (s * u, d * u)
for m in a["mempools"]["discovery"]["mempools"]:
    if m["mempool_type"] != "hrstorage":
        continue
    total, used = storage(m["mempool_index"])
    check(f"snmp_sim_librenms_aix_mem_{m['mempool_index']}_used", used, m["mempool_used"])
    check(f"snmp_sim_librenms_aix_mem_{m['mempool_index']}_total", total, m["mempool_total"])
for s in a["storage"]["discovery"]["storage"]:
    total, used = storage(s["storage_index"])
    check(f"snmp_sim_librenms_aix_storage_{s['storage_descr']}", used, s["storage_used"])
# vendor profiles picked by sysObjectID read the recorded values
check("snmp_sim_profile_cisco_cpu", find("cpmCPUTotal5minRev", instance="ios_c3560", cpmCPUTotalIndex="1"), 7)
check("snmp_sim_profile_mikrotik_temp", find("mtxrHlTemperature", instance="routeros"), 330)
check("snmp_sim_profile_mikrotik_cpu", find("hrProcessorLoad", instance="routeros", hrDeviceIndex="1"), 21)
check("snmp_sim_profile_arista_sensor", find("entPhySensorValue", instance="arista_eos",
      entPhysicalIndex="100006001"), 533)
check("snmp_sim_profile_ucd_load", find("laLoad", instance="linux-full-walk", laNames="Load-1"), 0.46)
check("snmp_sim_profile_if_hc", find("ifHCInOctets", instance="nxos_lag-mib", ifName="Ethernet1/36"),
      857405639773526)
for bad in ("cpmCPUTotal5minRev", "jnxOperatingCPU"):
    if any(l.get("instance") in ("aix_net-snmp", "linux-full-walk") for l, _ in samples.get(bad, [])):
        print(f"FAIL snmp_sim_profile_not_matched_{bad}: vendor profile applied to a server"); ok = False
sys.exit(0 if ok else 1)
PEOF
[ $? -eq 0 ] || fail=1
if [ $rc -ne 0 ]; then failed snmp_sim_poll_all_up "snmppoll exited $rc"; else pass snmp_sim_poll_all_up; fi

# The same device polled over v1 (GETNEXT, noSuchName for missing scalars)
# and v2c gives the same samples.
"$V" snmppoll --profiles profiles "name=X,addr=$addr,v=1,c=linux-full-walk" 2>/dev/null |
	grep -v '^snmp_scrape_' | sort >"$tmp/p1.out"
"$V" snmppoll --profiles profiles "name=X,addr=$addr,v=2c,c=linux-full-walk" 2>/dev/null |
	grep -v '^snmp_scrape_' | sort >"$tmp/p2.out"
if [ "$(wc -l <"$tmp/p1.out")" -gt 50 ] && diff -q "$tmp/p1.out" "$tmp/p2.out" >/dev/null; then
	pass "snmp_sim_poll_v1_equals_v2c: $(wc -l <"$tmp/p1.out") samples"
else failed snmp_sim_poll_v1_equals_v2c "$(diff "$tmp/p1.out" "$tmp/p2.out" | head -3 | tr '\n' '|')"; fi

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

# IPv6 loopback: the same client and simulator over [::1].
if python3 -c 'import socket;s=socket.socket(socket.AF_INET6,socket.SOCK_DGRAM);s.bind(("::1",0))' 2>/dev/null; then
	: >"$tmp/sim6.log"
	"$V" snmpsim "$tmp/recs" --listen '[::1]:0' 2>>"$tmp/sim6.log" &
	pid6=$!
	a6=
	for _ in $(seq 50); do
		a6=$(sed -n 's/.* on \(\[::1\]:[0-9]*\)$/\1/p' "$tmp/sim6.log")
		[ -n "$a6" ] && break
		sleep 0.1
	done
	"$V" snmpwalk -v 2c -c ios_c3560 "$a6" 1.3.6.1.2.1.2.2.1 >"$tmp/v6.out" 2>&1
	snmpbulkwalk -v2c -c ios_c3560 -On -Ob "udp6:$a6" 1.3.6.1.2.1.2.2.1 2>&1 |
		grep -v 'No more variables' >"$tmp/n6.out"
	kill "$pid6"; wait "$pid6" 2>/dev/null
	if [ -n "$a6" ] && [ -s "$tmp/v6.out" ] && diff -q "$tmp/v6.out" "$tmp/n6.out" >/dev/null; then
		pass "snmp_sim_ipv6: $(wc -l <"$tmp/v6.out") lines identical over $a6"
	else failed snmp_sim_ipv6 "addr='$a6' $(diff "$tmp/v6.out" "$tmp/n6.out" | head -3 | tr '\n' '|')"; fi
else
	echo "SKIP snmp_sim_ipv6: this machine has no IPv6 loopback"
fi

# SNMPv3 served by the simulator (every recording is a user of its own name):
# net-snmp and vigil read the same, and vigil polls 50 v3 devices at once.
if start_sim --v3 SHA-256:authpass1:AES-256:privpass1; then
	for d in junos dell-os10; do
		"$V" snmpwalk -v 3 -u "$d" -l authPriv -a SHA-256 -A authpass1 -x AES-256 -X privpass1 \
			"$addr" 1.3.6.1.2.1.2.2.1 >"$tmp/v3.out" 2>&1
		snmpbulkwalk -v3 -u "$d" -l authPriv -a SHA-256 -A authpass1 -x AES-256 -X privpass1 \
			-On -Ob "$addr" 1.3.6.1.2.1.2.2.1 2>&1 | grep -v 'No more variables' >"$tmp/n3.out"
		if [ -s "$tmp/v3.out" ] && diff -q "$tmp/v3.out" "$tmp/n3.out" >/dev/null; then
			pass "snmp_sim_v3_$d: $(wc -l <"$tmp/v3.out") lines identical to snmpbulkwalk over v3"
		else failed "snmp_sim_v3_$d" "$(diff "$tmp/v3.out" "$tmp/n3.out" | head -3 | tr '\n' '|')"; fi
	done
	out=$("$V" snmpwalk -v 3 -u junos -l authPriv -a SHA-256 -A wrongpass1 -x AES-256 -X privpass1 \
		"$addr" 1.3.6.1.2.1.1 2>&1)
	if echo "$out" | grep -q 'wrong digest'; then pass "snmp_sim_v3_wrong_password: $out"
	else failed snmp_sim_v3_wrong_password "$out"; fi
	devs=()
	for i in $(seq 50); do
		devs+=("name=v3dev$i,addr=$addr,v=3,u=ios_c3560,a=SHA-256,A=authpass1,x=AES-256,X=privpass1")
	done
	start=$(date +%s%N)
	"$V" snmppoll --profiles profiles --quiet "${devs[@]}" >/dev/null 2>"$tmp/p3.err"
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	up=$(sed -n 's/^vigil_snmp_devices_up //p' "$tmp/p3.err")
	if [ $rc -eq 0 ] && [ "$up" = 50 ]; then pass "snmp_sim_v3_poll_50_devices: all up in ${ms}ms"
	else failed snmp_sim_v3_poll_50_devices "rc=$rc up=$up"; fi
else failed snmp_sim_v3 "simulator with --v3 did not start"; fi

# --advance: a Counter64 moves between two reads 1.1 s apart.
if start_sim --advance; then
	g1=$("$V" snmpwalk -v 2c -c dell-os10 "$addr" 1.3.6.1.2.1.31.1.1.1.6 | head -1)
	sleep 1.1
	g2=$("$V" snmpwalk -v 2c -c dell-os10 "$addr" 1.3.6.1.2.1.31.1.1.1.6 | head -1)
	if [ -n "$g1" ] && [ "$g1" != "$g2" ]; then pass "snmp_sim_advance: ifHCInOctets.1 ${g1##*: } -> ${g2##*: }"
	else failed snmp_sim_advance "counter did not move: '$g1' '$g2'"; fi
else failed snmp_sim_advance "simulator did not restart"; fi
exit $fail
