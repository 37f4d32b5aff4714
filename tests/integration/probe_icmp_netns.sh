#!/usr/bin/env bash
# ICMP probes between two network namespaces made here (veth pair,
# 192.0.2.0/24 and 2001:db8::/64 exist only inside them): ping-socket and
# raw-socket paths, IPv4 and IPv6, RTT and loss under netem within stated
# tolerances, forged replies counted and survived, and node status
# up -> warning -> down -> up when the link is cut and restored.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/tests/probe_cli
[ -x "$BIN" ] || { echo "FAIL probe_icmp_netns: $BIN not built (make unit-bin)"; exit 1; }
if ! command -v ip >/dev/null || [ "$(id -u)" != 0 ]; then
	echo "FAIL probe_icmp_netns: needs root and iproute2"; exit 1
fi
A=vgpa$$ B=vgpb$$ VA=vga$$ VB=vgb$$
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; fail=1; }
export ASAN_OPTIONS=detect_leaks=1

ip netns add "$A" && ip netns add "$B" &&
ip link add "$VA" netns "$A" type veth peer name "$VB" netns "$B" &&
ip -n "$A" link set lo up && ip -n "$B" link set lo up &&
ip -n "$A" addr add 192.0.2.1/24 dev "$VA" && ip -n "$B" addr add 192.0.2.2/24 dev "$VB" &&
ip -n "$A" addr add 2001:db8::1/64 dev "$VA" nodad && ip -n "$B" addr add 2001:db8::2/64 dev "$VB" nodad &&
ip -n "$A" link set "$VA" up && ip -n "$B" link set "$VB" up ||
	{ echo "FAIL probe_icmp_netns: cannot build namespaces"; exit 1; }
# Unprivileged ping sockets for everyone, in the prober's namespace only.
ip netns exec "$A" sysctl -qw net.ipv4.ping_group_range="0 2147483647"
# Wait (bounded) for the link and IPv6 neighbour to be usable.
for _ in $(seq 1 30); do
	ip netns exec "$A" ping -c1 -W1 -q 2001:db8::2 >/dev/null 2>&1 && break
	sleep 0.2
done

inA() { ip netns exec "$A" "$@"; }
# Metric names, with the phase label where there is one ("name phase").
keys() {
	sed -nE '/^#/d; s/^([a-zA-Z_:]+)(\{[^}]*phase="([a-z]+)"[^}]*\})?.*/\1 \3/p' "$1" | sed 's/ $//' | sort -u
}
val() { # file metric [label-substring]
	grep "^$2{" "$1" | grep -F -- "${3:-}" | head -1 | awk '{print $NF}'
}

# 1. IPv4 through an unprivileged ping socket.
inA "$BIN" probe icmp 192.0.2.2 -c 3 --spacing 20 >"$tmp/o1" 2>"$tmp/e1"
if [ "$(val "$tmp/o1" probe_success)" = 1 ] && [ "$(val "$tmp/o1" probe_icmp_packets_received)" = 3 ] &&
   grep -q 'kind=ping' "$tmp/e1"; then pass icmp_v4_ping_socket
else bad icmp_v4_ping_socket "$(cat "$tmp/o1" "$tmp/e1" | head -5)"; fi

# 2. The raw-socket fallback (the fd the parent would hand over).
inA "$BIN" probe icmp 192.0.2.2 -c 3 --spacing 20 --raw >"$tmp/o2" 2>"$tmp/e2"
if [ "$(val "$tmp/o2" probe_success)" = 1 ] && [ "$(val "$tmp/o2" probe_icmp_packets_received)" = 3 ] &&
   grep -q 'kind=raw' "$tmp/e2" && [ "$(val "$tmp/o2" probe_icmp_reply_hop_limit)" = 64 ]; then
	pass icmp_v4_raw_socket
else bad icmp_v4_raw_socket "$(cat "$tmp/o2" "$tmp/e2" | head -5)"; fi

# 3. IPv6, both paths.
inA "$BIN" probe icmp 2001:db8::2 -c 3 --spacing 20 >"$tmp/o3" 2>/dev/null
inA "$BIN" probe icmp 2001:db8::2 -c 3 --spacing 20 --raw >"$tmp/o3r" 2>/dev/null
if [ "$(val "$tmp/o3" probe_success)" = 1 ] && [ "$(val "$tmp/o3" probe_ip_protocol)" = 6 ] &&
   [ "$(val "$tmp/o3r" probe_icmp_packets_received)" = 3 ]; then pass icmp_v6_both_paths
else bad icmp_v6_both_paths "$(cat "$tmp/o3" "$tmp/o3r" | head -6)"; fi

# 4. An address nobody has: probe fails with reason timeout, loss 1.
inA "$BIN" probe icmp 192.0.2.99 -c 2 --spacing 20 -t 500ms >"$tmp/o4" 2>/dev/null
rc=$?
if [ "$rc" = 1 ] && [ "$(val "$tmp/o4" probe_success)" = 0 ] &&
   [ "$(val "$tmp/o4" probe_icmp_packet_loss_ratio)" = 1 ] &&
   grep -q 'probe_failure_info{.*reason="timeout"' "$tmp/o4"; then pass icmp_unreachable_fails
else bad icmp_unreachable_fails "rc=$rc $(head -5 "$tmp/o4")"; fi

# 5. 100 ms +- 20 ms (uniform) delay and 20% loss on the target's side. With
#    sch_netem: `tc qdisc add dev X root netem delay 100ms 20ms loss 20%`. Kernels without it
#    (this machine's) get the same from a responder in the target namespace
#    that answers echo requests itself, late and lossy.
if ip netns exec "$B" tc qdisc add dev "$VB" root netem delay 100ms 20ms loss 20% 2>/dev/null; then
	emu=netem
else
	emu=responder
	ip netns exec "$B" sysctl -qw net.ipv4.icmp_echo_ignore_all=1
	cat >"$tmp/lossy.py" <<'EOF2'
import heapq, random, select, socket, struct, time
random.seed(7)
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def cks(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
due = []
end = time.time() + 20
while time.time() < end:
    wait = max(0.0, due[0][0] - time.time()) if due else 0.5
    r, _, _ = select.select([s], [], [], wait)
    if r:
        pkt, (src, _) = s.recvfrom(4096)
        ihl = (pkt[0] & 15) * 4
        icmp = pkt[ihl:]
        if len(icmp) >= 8 and icmp[0] == 8 and random.random() >= 0.2:
            rep = b'\0\0\0\0' + icmp[4:]
            rep = rep[:2] + struct.pack('>H', cks(rep)) + rep[4:]
            heapq.heappush(due, (time.time() + 0.100 + random.uniform(-0.02, 0.02), src, rep))
    now = time.time()
    while due and due[0][0] <= now:
        _, dst, rep = heapq.heappop(due)
        s.sendto(rep, (dst, 0))
EOF2
	ip netns exec "$B" python3 "$tmp/lossy.py" &
	lossy=$!
	pids+=($lossy)
	sleep 0.3
fi
inA "$BIN" probe icmp 192.0.2.2 -c 60 --spacing 20 -t 4s >"$tmp/o5" 2>/dev/null
avg=$(val "$tmp/o5" probe_icmp_rtt_seconds 'stat="avg"')
mn=$(val "$tmp/o5" probe_icmp_rtt_seconds 'stat="min"')
mx=$(val "$tmp/o5" probe_icmp_rtt_seconds 'stat="max"')
jit=$(val "$tmp/o5" probe_icmp_jitter_seconds)
loss=$(val "$tmp/o5" probe_icmp_packet_loss_ratio)
# Tolerances: mean RTT within [90, 150] ms, every RTT within [78, 170] ms
# (100 +- 20 ms added one way, plus scheduling); jitter, the mean absolute
# difference of consecutive RTTs, is 2/3 of 20 ms = 13.3 ms in theory:
# accept [6, 30] ms; loss of 60 packets at p=0.2 stays within [0.03, 0.42]
# (about 3.5 sigma).
if awk -v a="${avg:-0}" -v m="${mn:-0}" -v x="${mx:-9}" -v j="${jit:-0}" -v l="${loss:-9}" \
	'BEGIN { exit !(a >= 0.090 && a <= 0.150 && m >= 0.078 && x <= 0.170 &&
	    j >= 0.006 && j <= 0.030 && l >= 0.03 && l <= 0.42) }'; then
	pass "icmp_delay_jitter_loss_$emu (avg=${avg}s jitter=${jit}s loss=${loss})"
else bad "icmp_delay_jitter_loss_$emu" "avg=$avg min=$mn max=$mx jitter=$jit loss=$loss"; fi
if [ "$emu" = netem ]; then
	ip netns exec "$B" tc qdisc del dev "$VB" root
else
	kill "$lossy" 2>/dev/null; wait "$lossy" 2>/dev/null
	ip netns exec "$B" sysctl -qw net.ipv4.icmp_echo_ignore_all=0
fi

# 6. Forged and garbage ICMP aimed at the prober while it probes: counted as
#    dropped, and the probe still gets its real replies.
cat >"$tmp/forge.py" <<'EOF'
import socket, struct, time
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
def cks(b):
    if len(b) % 2: b += b'\0'
    t = sum(struct.unpack('>%dH' % (len(b) // 2), b))
    while t >> 16: t = (t & 0xffff) + (t >> 16)
    return ~t & 0xffff
end = time.time() + 1.5
n = 0
while time.time() < end and n < 3000:
    body = b'VGLP' + struct.pack('>IIHH', n % 7, 12345, 0, 0) + bytes(range(40))
    p = struct.pack('>BBHHH', 0, 0, 0, n & 0xffff, n & 0xffff) + body
    good = p[:2] + struct.pack('>H', cks(p)) + p[4:]
    s.sendto(good, ('192.0.2.1', 0))                    # right shape, wrong cookie
    s.sendto(p[:2] + b'\x12\x34' + p[4:], ('192.0.2.1', 0))  # bad checksum
    s.sendto(bytes([0, 0]) + bytes(n % 9), ('192.0.2.1', 0))  # truncated garbage
    n += 1
    time.sleep(0.002)
EOF
ip netns exec "$B" python3 "$tmp/forge.py" &
pids+=($!)
sleep 0.2
inA "$BIN" probe icmp 192.0.2.2 -c 20 --spacing 50 --raw --metrics >"$tmp/o6" 2>/dev/null
mal=$(grep '^vigil_probe_icmp_dropped_total{reason="malformed"}' "$tmp/o6" | awk '{print $2}')
forn=$(grep '^vigil_probe_icmp_dropped_total{reason="foreign"}' "$tmp/o6" | awk '{print $2}')
if [ "$(val "$tmp/o6" probe_success)" = 1 ] && [ "$(val "$tmp/o6" probe_icmp_packets_received)" = 20 ] &&
   [ "${mal:-0}" -gt 10 ] && [ "${forn:-0}" -gt 10 ]; then
	pass "icmp_forged_replies_dropped (malformed=$mal foreign=$forn)"
else bad icmp_forged_replies_dropped "malformed=$mal foreign=$forn $(head -3 "$tmp/o6")"; fi

# 7. Node status: poll every 1 s (retry 200 ms, timeout 300 ms, down after
#    3 failures); cut the link, then restore it.
inA "$BIN" probe icmp 192.0.2.2 -c 1 -t 300ms --interval 1s --retry 200ms --down-after 3 \
	--node edge1 --duration 7s >"$tmp/o7" 2>/dev/null &
sp=$!
pids+=($sp)
sleep 1.8
cut=$(date +%s%3N)
ip -n "$B" link set "$VB" down
sleep 2.6
restore=$(date +%s%3N)
ip -n "$B" link set "$VB" up
wait "$sp"
st() { grep "^# status" "$tmp/o7" | grep "new=$1" | head -1 | sed 's/.*ts_ms=//'; }
t_up=$(st up) t_warn=$(st warning) t_down=$(st down)
t_back=$(grep "^# status" "$tmp/o7" | grep 'old=down new=up' | head -1 | sed 's/.*ts_ms=//')
seq=$(grep "^# status" "$tmp/o7" | sed 's/.*old=\([a-z]*\) new=\([a-z]*\).*/\1>\2/' | tr '\n' ' ')
# warning within one interval + timeout of the cut; down within 3 fast polls
# (3 x 300 ms timeout) after warning plus slack; up within 2.5 s of restore (link up + one interval).
if [ -n "$t_up" ] && [ -n "$t_warn" ] && [ -n "$t_down" ] && [ -n "$t_back" ] &&
   [ $((t_warn - cut)) -le 1700 ] && [ $((t_down - t_warn)) -le 1200 ] &&
   [ "$t_down" -gt "$t_warn" ] && [ $((t_back - restore)) -le 2500 ] && [ "$t_back" -gt "$restore" ]; then
	pass "node_status_cut_and_restore (warn +$((t_warn - cut))ms, down +$((t_down - cut))ms, up +$((t_back - restore))ms after restore)"
else bad node_status_cut_and_restore "seq=[$seq] cut=$cut warn=$t_warn down=$t_down restore=$restore back=$t_back"; fi
if grep -q '^vigil_node_status{node="edge1"} 3' "$tmp/o7" &&
   grep -q '^vigil_node_status_changed_timestamp_seconds{node="edge1"}' "$tmp/o7"; then
	pass node_status_series
else bad node_status_series "$(grep vigil_node "$tmp/o7" | head -3)"; fi

# 8. blackbox_exporter's names for the same ICMP probe (on the host's loopback)
if command -v prometheus-blackbox-exporter >/dev/null; then
	printf 'modules:\n  icmp:\n    prober: icmp\n    timeout: 2s\n    icmp:\n      preferred_ip_protocol: ip4\n' >"$tmp/bb.yml"
	bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	prometheus-blackbox-exporter --config.file="$tmp/bb.yml" --web.listen-address="127.0.0.1:$bport" \
		>"$tmp/bb.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$bport/probe?module=icmp&target=127.0.0.1" >"$tmp/bb.out" 2>/dev/null && break
		sleep 0.1
	done
	"$BIN" probe icmp 127.0.0.1 -c 1 >"$tmp/o8" 2>/dev/null
	keys "$tmp/bb.out" >"$tmp/bb.names"
	keys "$tmp/o8" >"$tmp/ours.names"
	missing=$(comm -23 "$tmp/bb.names" "$tmp/ours.names" | tr '\n' ' ')
	bbhash=$(grep '^probe_ip_addr_hash ' "$tmp/bb.out" | awk '{printf "%.0f", $2}')
	ourhash=$(val "$tmp/o8" probe_ip_addr_hash | awk '{printf "%.0f", $1}')
	if [ -s "$tmp/bb.names" ] && [ -z "$missing" ] && [ "$bbhash" = "$ourhash" ]; then
		pass "icmp_names_match_blackbox_exporter ($(wc -l <"$tmp/bb.names") names and phases, same ip hash)"
	else bad icmp_names_match_blackbox_exporter "missing: $missing hash $bbhash vs $ourhash"; fi
else
	bad icmp_names_match_blackbox_exporter "prometheus-blackbox-exporter not installed"
fi

exit $fail
