#!/usr/bin/env bash
# HTTP(S) and TLS probes against python3 http.server on loopback, with a CA
# and certificates made here by openssl: status codes, body regexes,
# redirects (and a redirect the egress policy refuses), timeouts, a good
# certificate's expiry, an expired and a wrong-host certificate reported as
# such; and the metric names blackbox_exporter gives for the same probe.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/tests/probe_cli
[ -x "$BIN" ] || { echo "FAIL probe_http: $BIN not built (make unit-bin)"; exit 1; }
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

# ---- certificates ----
(
	cd "$tmp" || exit 1
	openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3 \
		-subj /CN=vigil-test-ca 2>/dev/null
	for c in good:DNS:localhost,IP:127.0.0.1 expired:DNS:localhost,IP:127.0.0.1 \
		wronghost:DNS:wrong.example client:DNS:client.example; do
		n=${c%%:*} san=${c#*:}
		openssl req -newkey rsa:2048 -nodes -keyout "$n.key" -out "$n.csr" -subj "/CN=$n" \
			-addext "subjectAltName=$san" 2>/dev/null
	done
	printf '[ca]\ndefault_ca=c\n[c]\ndatabase=index.txt\nnew_certs_dir=.\nserial=serial\ndefault_md=sha256\npolicy=p\ncopy_extensions=copy\n[p]\ncommonName=supplied\n' >ca.cnf
	: >index.txt; echo 01 >serial
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in good.csr -out good.pem \
		-days 20 -notext 2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in wronghost.csr \
		-out wronghost.pem -days 20 -notext 2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in client.csr -out client.pem \
		-days 20 -notext 2>/dev/null
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
		-startdate 20200101000000Z -enddate 20200201000000Z -notext 2>/dev/null
) && [ -s "$tmp/good.pem" ] && [ -s "$tmp/expired.pem" ] && [ -s "$tmp/wronghost.pem" ] ||
	{ echo "FAIL probe_http: could not make certificates"; exit 1; }

# ---- servers ----
cat >"$tmp/srv.py" <<'EOF'
import http.server, ssl, sys, threading, time
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'   # keep-alive, so connection reuse would show
    def log_message(self, *a): pass
    def do_GET(self):
        if self.path == '/redirect':
            self.send_response(302); self.send_header('Location', '/')
            self.send_header('Content-Length', '0'); self.end_headers(); return
        if self.path == '/away':
            self.send_response(302)
            self.send_header('Location', 'http://127.0.0.2:%d/' % self.server.server_port)
            self.send_header('Content-Length', '0'); self.end_headers(); return
        if self.path == '/slow':
            time.sleep(3)
        if self.path == '/missing':
            self.send_response(404); self.send_header('Content-Length', '0'); self.end_headers(); return
        body = b'<html>hello vigil, all systems nominal</html>\n'
        self.send_response(200)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
ports = []
for cert in [None, 'good', 'expired', 'wronghost', 'mtls']:
    s = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        if cert == 'mtls':
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations('%s/ca.pem' % d)
            cert = 'good'
        ctx.load_cert_chain('%s/%s.pem' % (d, cert), '%s/%s.key' % (d, cert))
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
    ports.append(s.server_port)
    threading.Thread(target=s.serve_forever, daemon=True).start()
open(d + '/ports.tmp', 'w').write(' '.join(map(str, ports)) + '\n')
import os; os.rename(d + '/ports.tmp', d + '/ports')
time.sleep(100)
EOF
python3 "$tmp/srv.py" "$tmp" 2>"$tmp/srv.log" &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/ports" ] && break; sleep 0.1; done
read -r P PG PE PW PM <"$tmp/ports" || { echo "FAIL probe_http: server did not start"; exit 1; }

run() { # name, args...
	local n=$1; shift
	"$BIN" probe "$@" >"$tmp/$n" 2>"$tmp/$n.err"
	echo $? >"$tmp/$n.rc"
}

# 1. status and body
run ok http "http://127.0.0.1:$P/" --regex 'hello vigil'
if [ "$(cat "$tmp/ok.rc")" = 0 ] && [ "$(val "$tmp/ok" probe_success)" = 1 ] &&
   [ "$(val "$tmp/ok" probe_http_status_code)" = 200 ] &&
   [ "$(val "$tmp/ok" probe_failed_due_to_regex)" = 0 ] &&
   [ "$(val "$tmp/ok" probe_http_content_length)" = 46 ]; then pass http_status_and_body
else bad http_status_and_body "$(head -5 "$tmp/ok" "$tmp/ok.err")"; fi

# 2. body regex that does not match
run re http "http://127.0.0.1:$P/" --regex 'maintenance'
if [ "$(val "$tmp/re" probe_success)" = 0 ] && [ "$(val "$tmp/re" probe_failed_due_to_regex)" = 1 ] &&
   [ "$(reason "$tmp/re")" = regex ]; then pass http_body_regex_mismatch
else bad http_body_regex_mismatch "$(head -5 "$tmp/re")"; fi
run nre http "http://127.0.0.1:$P/" --not-regex 'nominal'
if [ "$(val "$tmp/nre" probe_success)" = 0 ] && [ "$(reason "$tmp/nre")" = regex ]; then
	pass http_body_not_regex
else bad http_body_not_regex "$(head -5 "$tmp/nre")"; fi

# 3. status codes
run s404 http "http://127.0.0.1:$P/missing"
run s404ok http "http://127.0.0.1:$P/missing" --status 404 --status 410
if [ "$(val "$tmp/s404" probe_success)" = 0 ] && [ "$(reason "$tmp/s404")" = status ] &&
   [ "$(val "$tmp/s404" probe_http_status_code)" = 404 ] &&
   [ "$(val "$tmp/s404ok" probe_success)" = 1 ]; then pass http_status_codes
else bad http_status_codes "$(head -3 "$tmp/s404" "$tmp/s404ok")"; fi

# 4. redirects: followed, or not
run rd http "http://127.0.0.1:$P/redirect"
run rdn http "http://127.0.0.1:$P/redirect" --no-follow
if [ "$(val "$tmp/rd" probe_success)" = 1 ] && [ "$(val "$tmp/rd" probe_http_redirects)" = 1 ] &&
   [ "$(val "$tmp/rdn" probe_http_status_code)" = 302 ] && [ "$(val "$tmp/rdn" probe_success)" = 0 ]; then
	pass http_redirects
else bad http_redirects "$(head -3 "$tmp/rd" "$tmp/rdn")"; fi

# 5. a redirect to an address outside the config is refused by the egress policy
run away http "http://127.0.0.1:$P/away"
if [ "$(val "$tmp/away" probe_success)" = 0 ] && [ "$(reason "$tmp/away")" = egress ] &&
   grep -q 'egress refused' "$tmp/away.err"; then pass http_redirect_egress_refused
else bad http_redirect_egress_refused "$(reason "$tmp/away") $(head -3 "$tmp/away.err")"; fi

# 6. timeout
start=$(date +%s%3N)
run slow http "http://127.0.0.1:$P/slow" -t 1s
took=$(( $(date +%s%3N) - start ))
if [ "$(val "$tmp/slow" probe_success)" = 0 ] && [ "$(reason "$tmp/slow")" = timeout ] && [ "$took" -lt 2500 ]; then
	pass "http_timeout (${took}ms)"
else bad http_timeout "took=${took}ms $(reason "$tmp/slow")"; fi

# 7. TLS: good certificate, trusted through --ca; expiry as the cert says
want=$(date -d "$(openssl x509 -in "$tmp/good.pem" -noout -enddate | cut -d= -f2)" +%s)
run tg http "https://localhost:$PG/" --ca "$tmp/ca.pem"
got=$(val "$tmp/tg" probe_ssl_earliest_cert_expiry)
if [ "$(val "$tmp/tg" probe_success)" = 1 ] && [ "$(val "$tmp/tg" probe_http_ssl)" = 1 ] &&
   awk -v g="${got:-0}" -v w="$want" 'BEGIN { exit !(g - w < 1 && w - g < 1) }'; then
	pass https_good_cert_expiry
else bad https_good_cert_expiry "got=$got want=$want $(head -3 "$tmp/tg.err")"; fi
run tgu http "https://localhost:$PG/"
if [ "$(val "$tmp/tgu" probe_success)" = 0 ] && [ "$(reason "$tmp/tgu")" = tls_verify ]; then
	pass https_untrusted_ca
else bad https_untrusted_ca "$(reason "$tmp/tgu")"; fi

# 8. expired certificate: fails as tls_expired; insecure mode still reports the past expiry
run te http "https://localhost:$PE/" --ca "$tmp/ca.pem"
run tei http "https://localhost:$PE/" --insecure
exp=$(val "$tmp/tei" probe_ssl_earliest_cert_expiry)
if [ "$(val "$tmp/te" probe_success)" = 0 ] && [ "$(reason "$tmp/te")" = tls_expired ] &&
   [ "$(val "$tmp/tei" probe_success)" = 1 ] &&
   awk -v e="${exp:-0}" 'BEGIN { exit !(e > 1577836800 && e < 1580601600) }'; then
	pass https_expired_cert
else bad https_expired_cert "$(reason "$tmp/te") exp=$exp"; fi

# 9. certificate for another host name
run tw http "https://localhost:$PW/" --ca "$tmp/ca.pem"
if [ "$(val "$tmp/tw" probe_success)" = 0 ] && [ "$(reason "$tmp/tw")" = tls_hostname ]; then
	pass https_wrong_host_cert
else bad https_wrong_host_cert "$(reason "$tmp/tw")"; fi

# 9a. repeated probes each make a new connection (TLS time every run)
"$BIN" probe http "https://localhost:$PG/" --ca "$tmp/ca.pem" --interval 300ms --duration 1100ms >"$tmp/rep" 2>/dev/null
runs=$(grep -c '^probe_success{.*} 1$' "$tmp/rep")
tls=$(grep '^probe_http_duration_seconds{.*phase="tls"}' "$tmp/rep" | awk '$NF > 0' | wc -l)
if [ "$runs" -ge 3 ] && [ "$tls" = "$runs" ]; then pass "https_fresh_connection_each_run ($runs runs)"
else bad https_fresh_connection_each_run "runs=$runs with_tls_time=$tls"; fi

# 9b. client certificate required by the server
run mt http "https://localhost:$PM/" --ca "$tmp/ca.pem" --cert "$tmp/client.pem" --key "$tmp/client.key"
run mtn http "https://localhost:$PM/" --ca "$tmp/ca.pem"
if [ "$(val "$tmp/mt" probe_success)" = 1 ] && [ "$(val "$tmp/mtn" probe_success)" = 0 ]; then
	pass https_client_certificate
else bad https_client_certificate "with=$(val "$tmp/mt" probe_success) without=$(val "$tmp/mtn" probe_success) $(head -3 "$tmp/mt.err")"; fi

# 10. the TCP prober's own TLS handshake says the same things
run kg tcp "127.0.0.1:$PG" --tls --ca "$tmp/ca.pem" --sni localhost
run ke tcp "127.0.0.1:$PE" --tls --ca "$tmp/ca.pem" --sni localhost
run kw tcp "127.0.0.1:$PW" --tls --ca "$tmp/ca.pem" --sni localhost
if [ "$(val "$tmp/kg" probe_success)" = 1 ] && grep -q 'probe_tls_version_info{.*version="TLS 1.[23]"' "$tmp/kg" &&
   [ "$(val "$tmp/ke" probe_success)" = 0 ] && [ "$(reason "$tmp/ke")" = tls_expired ] &&
   [ -n "$(val "$tmp/ke" probe_ssl_earliest_cert_expiry)" ] &&
   [ "$(reason "$tmp/kw")" = tls_hostname ]; then pass tcp_tls_handshake_checks
else bad tcp_tls_handshake_checks "$(reason "$tmp/ke") $(reason "$tmp/kw") $(head -3 "$tmp/kg")"; fi

# 11. TCP send/expect
run kx tcp "127.0.0.1:$P" --send $'GET / HTTP/1.0\r\n\r\n' --expect 'HTTP/1\.[01] 200'
run kxn tcp "127.0.0.1:$P" --send $'GET / HTTP/1.0\r\n\r\n' --expect 'SSH-2\.0'
run kxt tcp "127.0.0.1:$PG" --tls --ca "$tmp/ca.pem" --sni localhost \
	--send $'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n' --expect 'all systems nominal'
if [ "$(val "$tmp/kx" probe_success)" = 1 ] && [ "$(val "$tmp/kxn" probe_success)" = 0 ] &&
   [ "$(reason "$tmp/kxn")" = regex ] && [ "$(val "$tmp/kxt" probe_success)" = 1 ]; then pass tcp_send_expect_plain_and_tls
else bad tcp_send_expect_plain_and_tls "$(head -3 "$tmp/kx" "$tmp/kxn" "$tmp/kxt")"; fi

# 12. blackbox_exporter's names for the same HTTP probe are all there
if command -v prometheus-blackbox-exporter >/dev/null; then
	printf 'modules:\n  http_2xx:\n    prober: http\n    timeout: 3s\n  https:\n    prober: http\n    http:\n      tls_config:\n        ca_file: %s\n  tls:\n    prober: tcp\n    tcp:\n      tls: true\n      tls_config:\n        ca_file: %s\n        server_name: localhost\n' "$tmp/ca.pem" "$tmp/ca.pem" >"$tmp/bb.yml"
	bport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	prometheus-blackbox-exporter --config.file="$tmp/bb.yml" --web.listen-address="127.0.0.1:$bport" \
		>"$tmp/bb.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 1 50); do
		curl -sf "http://127.0.0.1:$bport/probe?module=http_2xx&target=http://127.0.0.1:$P/" \
			>"$tmp/bb.out" 2>/dev/null && break
		sleep 0.1
	done
	keys "$tmp/bb.out" >"$tmp/bb.names"
	keys "$tmp/ok" >"$tmp/ours.names"
	missing=$(comm -23 "$tmp/bb.names" "$tmp/ours.names" | tr '\n' ' ')
	if [ -s "$tmp/bb.names" ] && [ -z "$missing" ]; then
		pass "http_names_match_blackbox_exporter ($(wc -l <"$tmp/bb.names") names and phases)"
	else bad http_names_match_blackbox_exporter "missing: $missing"; fi
	curl -sf "http://127.0.0.1:$bport/probe?module=https&target=https://localhost:$PG/" >"$tmp/bbs.out" 2>/dev/null
	keys "$tmp/bbs.out" >"$tmp/bbs.names"
	keys "$tmp/tg" >"$tmp/ours.names"
	missing=$(comm -23 "$tmp/bbs.names" "$tmp/ours.names" | tr '\n' ' ')
	if grep -q '^probe_success 1' "$tmp/bbs.out" && [ -z "$missing" ]; then
		pass "https_names_match_blackbox_exporter ($(wc -l <"$tmp/bbs.names") names and phases)"
	else bad https_names_match_blackbox_exporter "missing: $missing"; fi
	curl -sf "http://127.0.0.1:$bport/probe?module=tls&target=127.0.0.1:$PG" >"$tmp/bbt.out" 2>/dev/null
	keys "$tmp/bbt.out" >"$tmp/bbt.names"
	keys "$tmp/kg" >"$tmp/ourt.names"
	missing=$(comm -23 "$tmp/bbt.names" "$tmp/ourt.names" | tr '\n' ' ')
	bfp=$(grep -o 'fingerprint_sha256="[0-9a-f]*"' "$tmp/bbt.out")
	ofp=$(grep -o 'fingerprint_sha256="[0-9a-f]*"' "$tmp/kg")
	if grep -q '^probe_success 1' "$tmp/bbt.out" && [ -z "$missing" ] && [ -n "$bfp" ] && [ "$bfp" = "$ofp" ]; then
		pass "tls_names_match_blackbox_exporter ($(wc -l <"$tmp/bbt.names") names, same fingerprint)"
	else bad tls_names_match_blackbox_exporter "missing: $missing fp: $bfp vs $ofp"; fi
else
	bad http_names_match_blackbox_exporter "prometheus-blackbox-exporter not installed"
fi

exit $fail
