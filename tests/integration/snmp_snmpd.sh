#!/usr/bin/env bash
# vigil's SNMP engine against Debian's real snmpd on a loopback port:
# v2c and SNMPv3 (authPriv SHA/AES-128, authNoPriv SHA-256, authPriv
# SHA-512/AES-256, SHA-224/AES-192, SHA-384/AES-256, authPriv MD5/DES) must read the same values snmpbulkwalk
# reads, the poll engine must produce samples for each, and wrong v3
# credentials must give a clear per-device error quickly, not a hang.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/snmp_lib.sh
tmp=$(mktemp -d)
snmpd_pid=
cleanup() {
	[ -n "$snmpd_pid" ] && kill "$snmpd_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
pass() { echo "PASS $1"; }
failed() { echo "FAIL $1: $2"; fail=1; }

command -v snmpd >/dev/null || { echo "FAIL snmp_snmpd: snmpd missing (apt-get install snmpd)"; exit 1; }
V=$(snmp_bin "$tmp") || { echo "FAIL snmp_snmpd: cannot build the snmp driver"; exit 1; }

port=$(free_udp_port)
A=127.0.0.1:$port
cat >"$tmp/snmpd.conf" <<CONF
agentaddress udp:$A
rocommunity vigiltest 127.0.0.1
createUser vAuthPriv SHA authpass123 AES privpass123
createUser vAuthOnly SHA-256 authpass456
createUser vStrong SHA-512 authpass789 AES-256 privpass789
createUser vLegacy MD5 authpass000 DES privpass000
createUser vMid SHA-224 authpass224 AES-192 privpass224
createUser vBig SHA-384 authpass384 AES-256 privpass384
rouser vAuthPriv priv
rouser vAuthOnly auth
rouser vStrong priv
rouser vLegacy priv
rouser vMid priv
rouser vBig priv
CONF
mkdir "$tmp/persist"
# net-snmp keeps engine boots in the persistent dir; -C skips it, so name it with -c.
start_snmpd() {
	SNMP_PERSISTENT_DIR=$tmp/persist MIBS= snmpd -f -Lf "$tmp/snmpd.log" -C -c "$tmp/snmpd.conf,$tmp/persist/snmpd.conf" \
		-p "$tmp/snmpd.pid" >/dev/null 2>&1 &
	snmpd_pid=$!
	for _ in $(seq 50); do
		snmpget -v2c -c vigiltest -t 0.2 -r 0 -On "$A" 1.3.6.1.2.1.1.5.0 >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
start_snmpd || { echo "FAIL snmp_snmpd_start: snmpd did not answer on $A: $(tail -5 "$tmp/snmpd.log")"; exit 1; }
pass "snmp_snmpd_start: snmpd on $A"

# Columns that do not move while we read them (counters on lo do).
ROOTS="1.3.6.1.2.1.1.1 1.3.6.1.2.1.1.2 1.3.6.1.2.1.2.2.1.2 1.3.6.1.2.1.2.2.1.3 1.3.6.1.2.1.2.2.1.4
	1.3.6.1.2.1.31.1.1.1.1 1.3.6.1.2.1.31.1.1.1.15 1.3.6.1.2.1.25.2.3.1.3 1.3.6.1.2.1.25.2.3.1.4"

printf '%-12s %-30s %6s  %s\n' user security oids result >"$tmp/table"
compare() { # name "net-snmp auth args" "vigil auth args" label
	local name=$1 nargs=$2 vargs=$3 label=$4 n res=same
	: >"$tmp/n.out"
	for r in $ROOTS; do
		# shellcheck disable=SC2086
		snmpbulkwalk $nargs -On -Ob -t 2 -r 1 "$A" "$r" >>"$tmp/n.out" 2>&1
	done
	# shellcheck disable=SC2086
	"$V" snmpwalk $vargs -t 2 -r 1 "$A" $ROOTS >"$tmp/v.out" 2>"$tmp/v.err"
	local rc=$?
	n=$(grep -c '^\.' "$tmp/n.out")
	if [ $rc -ne 0 ]; then
		res=FAIL; failed "$name" "vigil exited $rc: $(head -c 300 "$tmp/v.err")"
	elif [ "$n" -lt 5 ]; then
		res=EMPTY; failed "$name" "snmpbulkwalk read only $n varbinds: $(head -3 "$tmp/n.out")"
	elif ! diff -q "$tmp/v.out" "$tmp/n.out" >/dev/null; then
		res=DIFF; failed "$name" "$(diff "$tmp/v.out" "$tmp/n.out" | head -4 | tr '\n' '|')"
	else
		pass "$name: $n varbinds identical to snmpbulkwalk"
	fi
	printf '%-12s %-30s %6s  %s\n' "${label%% *}" "${label#* }" "$n" "$res" >>"$tmp/table"
}
compare snmp_snmpd_v2c "-v2c -c vigiltest" "-v 2c -c vigiltest" "vigiltest v2c community"
compare snmp_snmpd_v3_sha_aes "-v3 -u vAuthPriv -l authPriv -a SHA -A authpass123 -x AES -X privpass123" \
	"-v 3 -u vAuthPriv -l authPriv -a SHA -A authpass123 -x AES -X privpass123" "vAuthPriv authPriv SHA/AES-128"
compare snmp_snmpd_v3_sha256_noauth "-v3 -u vAuthOnly -l authNoPriv -a SHA-256 -A authpass456" \
	"-v 3 -u vAuthOnly -l authNoPriv -a SHA-256 -A authpass456" "vAuthOnly authNoPriv SHA-256"
compare snmp_snmpd_v3_sha512_aes256 "-v3 -u vStrong -l authPriv -a SHA-512 -A authpass789 -x AES-256 -X privpass789" \
	"-v 3 -u vStrong -l authPriv -a SHA-512 -A authpass789 -x AES-256 -X privpass789" "vStrong authPriv SHA-512/AES-256"
compare snmp_snmpd_v3_md5_des "-v3 -u vLegacy -l authPriv -a MD5 -A authpass000 -x DES -X privpass000" \
	"-v 3 -u vLegacy -l authPriv -a MD5 -A authpass000 -x DES -X privpass000" "vLegacy authPriv MD5/DES"
compare snmp_snmpd_v3_sha224_aes192 "-v3 -u vMid -l authPriv -a SHA-224 -A authpass224 -x AES-192 -X privpass224" \
	"-v 3 -u vMid -l authPriv -a SHA-224 -A authpass224 -x AES-192 -X privpass224" "vMid authPriv SHA-224/AES-192"
compare snmp_snmpd_v3_sha384_aes256 "-v3 -u vBig -l authPriv -a SHA-384 -A authpass384 -x AES-256 -X privpass384" \
	"-v 3 -u vBig -l authPriv -a SHA-384 -A authpass384 -x AES-256 -X privpass384" "vBig authPriv SHA-384/AES-256"
cat "$tmp/table"

# Wrong credentials: a clear one-line reason, well before any long timeout.
expect_error() { # name pattern vigil-args...
	local name=$1 pat=$2 start ms out rc
	shift 2
	start=$(date +%s%N)
	out=$("$V" snmpwalk "$@" -t 1 -r 1 "$A" 1.3.6.1.2.1.1 2>&1)
	rc=$?
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	if [ $rc -eq 1 ] && echo "$out" | grep -q "$pat" && [ $ms -lt 6000 ]; then
		pass "$name: \"$out\" (${ms}ms)"
	else
		failed "$name" "rc=$rc after ${ms}ms: $out"
	fi
}
expect_error snmp_snmpd_wrong_auth_password 'wrong digest' \
	-v 3 -u vAuthPriv -l authPriv -a SHA -A wrongpass1 -x AES -X privpass123
expect_error snmp_snmpd_unknown_user 'unknown user name' \
	-v 3 -u nobody -l authPriv -a SHA -A authpass123 -x AES -X privpass123
expect_error snmp_snmpd_wrong_priv_password 'wrong privacy password' \
	-v 3 -u vAuthPriv -l authPriv -a SHA -A authpass123 -x AES -X wrongpriv1
expect_error snmp_snmpd_wrong_auth_protocol 'wrong digest' \
	-v 3 -u vAuthPriv -l authPriv -a MD5 -A authpass123 -x AES -X privpass123

# The poll engine over the same agent: samples for the good devices, a clear
# per-device error for the bad one, all in one run.
"$V" snmppoll --profiles profiles \
	"name=v2c,addr=$A,v=2c,c=vigiltest" \
	"name=v3,addr=$A,v=3,u=vAuthPriv,a=SHA,A=authpass123,x=AES,X=privpass123" \
	"name=v3strong,addr=$A,v=3,u=vStrong,a=SHA-512,A=authpass789,x=AES-256,X=privpass789" \
	"name=badpass,addr=$A,v=3,u=vAuthPriv,a=SHA,A=wrongpass1,x=AES,X=privpass123,t=1" \
	>"$tmp/poll.out" 2>"$tmp/poll.err"
rc=$?
sed -n '/^device /,$p' "$tmp/poll.err"
lo_mtu=$(snmpbulkwalk -v2c -c vigiltest -On -Oqv "$A" 1.3.6.1.2.1.2.2.1.4 2>/dev/null | head -1)
for d in v2c v3 v3strong; do
	if grep -q "^snmp_up{instance=\"$d\"} 1$" "$tmp/poll.out" &&
	   grep -q "^ifMtu{ifDescr=\"lo\", ifIndex=\"1\", ifName=\"lo\", instance=\"$d\"} $lo_mtu$" "$tmp/poll.out" &&
	   grep -q "^ifHCInOctets{.*instance=\"$d\"} [0-9]" "$tmp/poll.out" &&
	   grep -q "^hrStorageSize{hrStorageDescr=\"Physical memory\", hrStorageIndex=\"1\", instance=\"$d\"} " "$tmp/poll.out" &&
	   grep -q "^snmp_device_info{instance=\"$d\", sysDescr=\"Linux" "$tmp/poll.out"; then
		pass "snmp_snmpd_poll_$d: $(grep -c "instance=\"$d\"" "$tmp/poll.out") samples"
	else
		failed "snmp_snmpd_poll_$d" "missing samples: $(grep "instance=\"$d\"" "$tmp/poll.out" | head -3 | tr '\n' '|')"
	fi
done
if [ $rc -eq 1 ] && grep -q '^snmp_up{instance="badpass"} 0$' "$tmp/poll.out" &&
   grep -q '^badpass .*no .*wrong digest' "$tmp/poll.err"; then
	pass "snmp_snmpd_poll_badpass: down with a clear reason"
else
	failed snmp_snmpd_poll_badpass "rc=$rc $(grep badpass "$tmp/poll.err" | tail -2 | tr '\n' '|')"
fi
# The agent restarts between two poll cycles: its engine boots moves on and
# its clock starts again, so the second cycle's v3 request gets a
# notInTimeWindow report; the client must re-sync and still read the device.
boots() { snmpget -v3 -u vAuthPriv -l authPriv -a SHA -A authpass123 -x AES -X privpass123 \
	-On -Oqv -t 1 "$A" 1.3.6.1.6.3.10.2.1.2.0 2>/dev/null; }
b1=$(boots)
"$V" snmppoll --profiles profiles --quiet --cycles 2 --gap 3000 \
	"name=v3,addr=$A,v=3,u=vAuthPriv,a=SHA,A=authpass123,x=AES,X=privpass123,t=1" \
	>"$tmp/poll2.out" 2>"$tmp/poll2.err" &
pp=$!
sleep 1.2
kill "$snmpd_pid"; wait "$snmpd_pid" 2>/dev/null
start_snmpd || failed snmp_snmpd_restart "snmpd did not come back"
b2=$(boots)
wait "$pp"
rc=$?
ups=$(sed -n 's/^vigil_snmp_poll_cycles_total //p' "$tmp/poll2.err")
resync=$(sed -n 's/^vigil_snmp_v3_resyncs_total //p' "$tmp/poll2.err")
if [ $rc -eq 0 ] && [ "$ups" = 2 ] && [ "${resync:-0}" -ge 1 ] && [ -n "$b1" ] && [ "$b1" != "$b2" ]; then
	pass "snmp_snmpd_v3_agent_restart: engine boots $b1 -> $b2, re-synced $resync time(s), device up after"
else
	failed snmp_snmpd_v3_agent_restart "rc=$rc cycles=$ups resyncs=$resync boots $b1 -> $b2: $(grep -v '^ts=' "$tmp/poll2.err" | tail -2 | tr '\n' '|')"
fi
exit $fail
