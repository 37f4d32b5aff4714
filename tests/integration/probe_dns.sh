#!/usr/bin/env bash
# DNS probes against dnsmasq on a loopback port (A, AAAA, TXT, MX, CNAME,
# rcodes, answer regexes), against a hostile fake server that sends garbage,
# compression loops and wrong ids before the real answer (dropped, counted,
# never a crash or a stall), and blackbox_exporter's names for the same probe.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/tests/probe_cli
[ -x "$BIN" ] || { echo "FAIL probe_dns: $BIN not built (make unit-bin)"; exit 1; }
command -v dnsmasq >/dev/null || { echo "FAIL probe_dns: dnsmasq not installed"; exit 1; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
pass() { echo "PASS $1"; }
bad() { echo "FAIL $1: $2"; fail=1; }
# Metric names, with the phase label where there is one ("name phase").
keys() {
	sed -nE '/^#/d; s/^([a-zA-Z_:]+)(\{[^}]*phase="([a-z]+)"[^}]*\})?.*/\1 \3/p' "$1" | sed 's/ $//' | sort -u
}
val() { grep "^$2{" "$1" | grep -F -- "${3:-}" | head -1 | awk '{print $NF}'; }
reason() { grep '^probe_failure_info{' "$1" | sed 's/.*reason="\([a-z_]*\)".*/\1/'; }
freeport() { python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# dnsmasq; retried on another port if the one picked was taken meanwhile.
for _ in 1 2 3; do
	D=$(freeport)
	dnsmasq --no-daemon --port="$D" --listen-address=127.0.0.1 --bind-interfaces --no-resolv \
		--no-hosts --pid-file="$tmp/dnsmasq.pid" \
		--address=/test.example/127.0.0.5 --address=/v6.example/2001:db8::5 \
		--txt-record=txt.example,"hello world" --mx-host=mx.example,mail.example,10 \
		--cname=alias.example,test.example --local=/nx.invalid/ >"$tmp/dnsmasq.log" 2>&1 &
	dp=$!
	sleep 0.3
	kill -0 "$dp" 2>/dev/null && break
done
pids+=($dp)
kill -0 "$dp" 2>/dev/null || { echo "FAIL probe_dns: dnsmasq did not start: $(head -3 "$tmp/dnsmasq.log")"; exit 1; }

run() { local n=$1; shift; "$BIN" probe dns "$@" >"$tmp/$n" 2>"$tmp/$n.err"; echo $? >"$tmp/$n.rc"; }

run a "127.0.0.1:$D" --name test.example --regex '^test\.example\.\t[0-9]+\tIN\tA\t127\.0\.0\.5$'
if [ "$(cat "$tmp/a.rc")" = 0 ] && [ "$(val "$tmp/a" probe_success)" = 1 ] &&
   [ "$(val "$tmp/a" probe_dns_answer_rrs)" = 1 ] && [ "$(val "$tmp/a" probe_dns_query_succeeded)" = 1 ]; then
	pass dns_a_answer
else bad dns_a_answer "$(head -5 "$tmp/a" "$tmp/a.err")"; fi

run aaaa "127.0.0.1:$D" --name v6.example --type AAAA --regex 'AAAA\t2001:db8::5$'
run txt "127.0.0.1:$D" --name txt.example --type TXT --regex 'TXT\t"hello world"$'
run mx "127.0.0.1:$D" --name mx.example --type MX --regex 'MX\t10 mail\.example\.$'
run cn "127.0.0.1:$D" --name alias.example --type A --regex 'CNAME\ttest\.example\.$'
ok=1
for n in aaaa txt mx cn; do [ "$(val "$tmp/$n" probe_success)" = 1 ] || { ok=0; bad "dns_record_types" "$n: $(head -12 "$tmp/$n" | tr '\n' ' ')"; }; done
[ "$ok" = 1 ] && pass dns_record_types_aaaa_txt_mx_cname

run nx "127.0.0.1:$D" --name foo.nx.invalid
run nxok "127.0.0.1:$D" --name foo.nx.invalid --rcode 3
if [ "$(val "$tmp/nx" probe_success)" = 0 ] && [ "$(reason "$tmp/nx")" = rcode ] &&
   [ "$(val "$tmp/nx" probe_dns_rcode)" = 3 ] && [ "$(val "$tmp/nxok" probe_success)" = 1 ]; then
	pass dns_expected_rcode
else bad dns_expected_rcode "$(reason "$tmp/nx") $(val "$tmp/nx" probe_dns_rcode)"; fi

run rx "127.0.0.1:$D" --name test.example --regex '10\.9\.9\.9'
if [ "$(val "$tmp/rx" probe_success)" = 0 ] && [ "$(reason "$tmp/rx")" = regex ] &&
   [ "$(val "$tmp/rx" probe_failed_due_to_regex)" = 1 ]; then pass dns_answer_regex_mismatch
else bad dns_answer_regex_mismatch "$(reason "$tmp/rx")"; fi

# A server that answers every query with garbage, a compression loop, the
# wrong id and the wrong question first, then (in "good" mode) the truth.
cat >"$tmp/evil.py" <<'EOF'
import socket, struct, sys, time
mode, pf = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', 0))
open(pf, 'w').write(str(s.getsockname()[1]))
s.settimeout(0.5)
end = time.time() + 30
while time.time() < end:
    try:
        q, peer = s.recvfrom(4096)
    except socket.timeout:
        continue
    qid = q[:2]; question = q[12:]
    hdr = lambda i, an: i + b'\x81\x80' + struct.pack('>HHHH', 1, an, 0, 0)
    s.sendto(b'\xde\xad', peer)                                        # short
    s.sendto(hdr(qid, 1) + question + b'\xc0\x0c'[:0] + b'\xc0\x1d\x00\x01\x00\x01\0\0\0\0\0\x04\1\2\3\4', peer)  # pointer loop
    s.sendto(hdr(b'\x00\x00' if qid != b'\x00\x00' else b'\x00\x01', 1) + question +
             b'\xc0\x0c\x00\x01\x00\x01\0\0\0\x3c\0\x04\x0a\0\0\x09', peer)  # wrong id
    s.sendto(hdr(qid, 0xffff) + question, peer)                        # impossible count
    if mode == 'good':
        s.sendto(hdr(qid, 1) + question + b'\xc0\x0c\x00\x01\x00\x01\0\0\0\x3c\0\x04\x7f\0\0\x07', peer)
EOF
python3 "$tmp/evil.py" good "$tmp/evil1.port" &
pids+=($!)
python3 "$tmp/evil.py" bad "$tmp/evil2.port" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/evil1.port" ] && [ -s "$tmp/evil2.port" ] && break; sleep 0.1; done
E1=$(cat "$tmp/evil1.port") E2=$(cat "$tmp/evil2.port")
"$BIN" probe dns "127.0.0.1:$E1" --name test.example --regex '127\.0\.0\.7' --metrics >"$tmp/ev1" 2>&1
mal=$(grep '^vigil_probe_dns_dropped_total{reason="malformed"}' "$tmp/ev1" | awk '{print $2}')
mis=$(grep '^vigil_probe_dns_dropped_total{reason="mismatched"}' "$tmp/ev1" | awk '{print $2}')
if [ "$(val "$tmp/ev1" probe_success)" = 1 ] && [ "${mal:-0}" -ge 3 ] && [ "${mis:-0}" -ge 1 ]; then
	pass "dns_hostile_replies_dropped (malformed=$mal mismatched=$mis)"
else bad dns_hostile_replies_dropped "malformed=$mal mismatched=$mis $(head -3 "$tmp/ev1")"; fi
start=$(date +%s%3N)
"$BIN" probe dns "127.0.0.1:$E2" --name test.example -t 1s >"$tmp/ev2" 2>&1
took=$(( $(date +%s%3N) - start ))
if [ "$(val "$tmp/ev2" probe_success)" = 0 ] && [ "$(reason "$tmp/ev2")" = timeout ] && [ "$took" -lt 2500 ]; then
	pass "dns_only_garbage_times_out (${took}ms)"
else bad dns_only_garbage_times_out "took=$took $(reason "$tmp/ev2")"; fi

# TCP: asked for, and as the fallback when a UDP answer is truncated.
run tcp "127.0.0.1:$D" --name test.example --set dns.transport=tcp --regex '127\.0\.0\.5'
if [ "$(val "$tmp/tcp" probe_success)" = 1 ] && [ "$(val "$tmp/tcp" probe_dns_tcp)" = 1 ]; then
	pass dns_over_tcp
else bad dns_over_tcp "$(head -12 "$tmp/tcp" | tr '\n' ' ')"; fi
cat >"$tmp/tc.py" <<'EOF'
import socket, struct, sys, threading, time
pf = sys.argv[1]
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 0))
port = u.getsockname()[1]
t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
t.bind(('127.0.0.1', port)); t.listen(4)
def answer(q, tc):
    hdr = q[:2] + (b'\x83\x80' if tc else b'\x81\x80') + struct.pack('>HHHH', 1, 0 if tc else 1, 0, 0)
    body = q[12:]
    if not tc:
        body += b'\xc0\x0c\x00\x01\x00\x01\0\0\0\x3c\0\x04\x7f\0\0\x08'
    return hdr + body
def udp():
    while True:
        q, peer = u.recvfrom(4096)
        u.sendto(answer(q, True), peer)
def tcp():
    while True:
        c, _ = t.accept()
        n = struct.unpack('>H', c.recv(2))[0]
        q = b''
        while len(q) < n: q += c.recv(n - len(q))
        a = answer(q, False)
        c.sendall(struct.pack('>H', len(a)) + a); c.close()
threading.Thread(target=udp, daemon=True).start()
threading.Thread(target=tcp, daemon=True).start()
open(pf, 'w').write(str(port))
time.sleep(30)
EOF
python3 "$tmp/tc.py" "$tmp/tc.port" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/tc.port" ] && break; sleep 0.1; done
run tc "127.0.0.1:$(cat "$tmp/tc.port")" --name big.example --regex '127\.0\.0\.8'
if [ "$(val "$tmp/tc" probe_success)" = 1 ] && [ "$(val "$tmp/tc" probe_dns_tcp)" = 1 ]; then
	pass dns_truncated_udp_falls_back_to_tcp
else bad dns_truncated_udp_falls_back_to_tcp "$(head -12 "$tmp/tc" "$tmp/tc.err" | tr '\n' ' ')"; fi

# Nothing listening: the ICMP port-unreachable ends the probe early.
NP=$(freeport)
run closed "127.0.0.1:$NP" --name test.example -t 3s
if [ "$(val "$tmp/closed" probe_success)" = 0 ] && [ "$(reason "$tmp/closed")" = recv ]; then
	pass dns_port_unreachable
else bad dns_port_unreachable "$(reason "$tmp/closed")"; fi

# blackbox_exporter's names for the same DNS probe
if command -v prometheus-blackbox-exporter >/dev/null; then
	printf 'modules:\n  dns_a:\n    prober: dns\n    dns:\n      query_name: test.example\n      query_type: A\n      preferred_ip_protocol: ip4\n' >"$tmp/bb.yml"
	bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	prometheus-blackbox-exporter --config.file="$tmp/bb.yml" --web.listen-address="127.0.0.1:$bport" \
		>"$tmp/bb.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$bport/probe?module=dns_a&target=127.0.0.1:$D" >"$tmp/bb.out" 2>/dev/null && break
		sleep 0.1
	done
	keys "$tmp/bb.out" >"$tmp/bb.names"
	keys "$tmp/a" >"$tmp/ours.names"
	missing=$(comm -23 "$tmp/bb.names" "$tmp/ours.names" | tr '\n' ' ')
	if [ -s "$tmp/bb.names" ] && [ -z "$missing" ] && grep -q '^probe_success 1' "$tmp/bb.out"; then
		pass "dns_names_match_blackbox_exporter ($(wc -l <"$tmp/bb.names") names and phases)"
	else bad dns_names_match_blackbox_exporter "missing: $missing"; fi
else
	bad dns_names_match_blackbox_exporter "prometheus-blackbox-exporter not installed"
fi
exit $fail
