#!/usr/bin/env bash
# console_vigil_e2e.sh — the console's acceptance test against `vigil serve`
# itself: a small demo lab (scripts/demo-lab: 6 simulated 48-port switches,
# this host, an ICMP probe) under the ASan daemon, driven through Debian's
# chromium by playwright-core (tests/e2e/console_vigil.test.mjs).
# One PASS/FAIL line per case; screenshots go to tests/out/e2e-vigil/.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
ROOT=$PWD
OUT=$ROOT/tests/out/e2e-vigil
TMP=$(mktemp -d /tmp/vigil-cve2e.XXXXXX)
VPID=""
SVC=""
cleanup() {
	[ -n "$SVC" ] && kill "$SVC" 2>/dev/null
	[ -n "$VPID" ] && kill "$VPID" 2>/dev/null
	[ -f "$TMP/lab/sim.pid" ] && kill "$(cat "$TMP/lab/sim.pid")" 2>/dev/null
	[ -n "$VPID" ] && { for _ in $(seq 1 30); do kill -0 "$VPID" 2>/dev/null || break; sleep 0.1; done; kill -9 "$VPID" 2>/dev/null; }
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
setup_fail() { echo "FAIL console_vigil_setup: $*"; exit 1; }

for b in chromium node npm python3 curl; do
	command -v "$b" >/dev/null 2>&1 || setup_fail "$b is not installed (scripts/install-deps)"
done
[ -x "$VIGIL" ] || setup_fail "$VIGIL is not built (make build/asan/vigil)"
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
	(cd tests/e2e && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error) >"$TMP/npm.log" 2>&1 ||
		setup_fail "npm ci in tests/e2e: $(tail -3 "$TMP/npm.log")"
fi

PORT=$(free_port)
VIGIL="$VIGIL" SNMP_INTERVAL=5s HOST_INTERVAL=2s scripts/demo-lab "$TMP/lab" "$PORT" 6 >"$TMP/lab.log" 2>&1 ||
	setup_fail "demo-lab: $(tail -3 "$TMP/lab.log")"
SWITCHES=$(sed -n 's/^    - name: //p' "$TMP/lab/vigil.yml" | tr '\n' ' ')
# A TCP service the test stops after a while, so the console has a node that
# went up -> warning -> down (overview "recent status changes", node "since").
SVC_PORT=$(free_port)
python3 -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("127.0.0.5", int(sys.argv[1]))); s.listen(16)
while True:
    c,_=s.accept(); c.close()' "$SVC_PORT" >/dev/null 2>&1 &
SVC=$!
sed -i "/^    node: this-host$/{n;s/\$/\n  - kind: tcp\n    target: 127.0.0.5:$SVC_PORT\n    node: web-svc\n    interval: 1s\n    timeout: 1s\n    retry_interval: 300ms\n    down_after: 2/}" "$TMP/lab/vigil.yml"
SWITCH=${SWITCHES%% *}
# For the alerts page: InterfaceDown without its 2 minutes' wait (the dark
# ports of the lab's switches), evaluated every 5 s, so alerts fire in time.
chmod 755 "$TMP"	# the store worker reads it after dropping to an unprivileged user
cat >"$TMP/e2e-rules.yml" <<'YML'
groups:
  - name: e2e
    interval: 5s
    rules:
      - alert: E2EInterfaceDown
        expr: ifOperStatus == 2 and on (instance, ifIndex) ifAdminStatus == 1
        labels: {severity: warning}
        annotations: {summary: "Interface {{ $labels.ifName }} on {{ $labels.instance }} is down"}
YML
sed -i "s|^rule_files: \[\(.*\)\]$|rule_files: [\1, \"$TMP/e2e-rules.yml\"]|" "$TMP/lab/vigil.yml"
grep -q e2e-rules "$TMP/lab/vigil.yml" || setup_fail "could not add the e2e rule file to the lab's config"
"$VIGIL" check config "$TMP/lab/vigil.yml" >"$TMP/check.log" 2>&1 || setup_fail "check config: $(tail -3 "$TMP/check.log")"

"$VIGIL" serve -c "$TMP/lab/vigil.yml" >"$TMP/out" 2>"$TMP/err" &
VPID=$!
PW=""
for _ in $(seq 1 150); do
	PW=$(sed -n 's/^vigil: first start: log in as "admin" with password \([^ ]*\) (shown only now)$/\1/p' "$TMP/out")
	[ -n "$PW" ] && curl -sf "http://127.0.0.1:$PORT/-/healthy" >/dev/null 2>&1 && break
	sleep 0.1
done
[ -n "$PW" ] || setup_fail "no first-start admin password: $(grep -v level=info "$TMP/err" | tail -3)"
TOKEN=$("$VIGIL" token create -d "$TMP/lab/data" --role viewer e2e-viewer 2>"$TMP/tok.err") ||
	setup_fail "token create: $(tail -2 "$TMP/tok.err")"
VIEWER_PW=$("$VIGIL" user add -d "$TMP/lab/data" --role viewer e2e-viewer 2>"$TMP/user.err") ||
	setup_fail "user add: $(tail -2 "$TMP/user.err")"

# History: a few SNMP polls of every switch and host collections.
q() { curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$PORT/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)' 2>/dev/null; }
sleep 10
kill "$SVC"; SVC=""
sleep 10
for _ in $(seq 1 20); do [ "$(q 'count(snmp_up == 1)')" = 6 ] && break; sleep 1; done
[ "$(q 'count(snmp_up == 1)')" = 6 ] || setup_fail "not all 6 switches up: $(q 'count(snmp_up == 1)'); $(grep -i snmp "$TMP/err" | tail -2)"

mkdir -p "$OUT"
BASE_URL=http://127.0.0.1:$PORT ADMIN_PW=$PW OUT_DIR=$OUT PROFILE_DIR="$TMP/chromium" \
	SWITCH=$SWITCH SWITCHES=$SWITCHES HOST_INSTANCE=$(hostname) VIEWER_TOKEN=$TOKEN \
	VIEWER_USER=e2e-viewer VIEWER_PW=$VIEWER_PW \
	timeout 90 node tests/e2e/console_vigil.test.mjs
rc=$?
[ $rc = 0 ] || { echo "vigil stderr tail:"; grep -v level=info "$TMP/err" | tail -5; }
kill -0 "$VPID" 2>/dev/null && pass console_vigil_daemon_alive || { fail console_vigil_daemon_alive "vigil serve exited: $(tail -3 "$TMP/err")"; rc=1; }
exit $rc
