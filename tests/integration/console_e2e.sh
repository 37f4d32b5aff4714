#!/usr/bin/env bash
# console_e2e.sh — the web console in a real browser (Debian's chromium driven
# by playwright-core) against real data: Prometheus on loopback scraping
# node_exporter, snmp_exporter (over snmpd) and blackbox_exporter, behind
# tests/e2e/devserver — a DEVELOPMENT HARNESS that serves vigil's real console
# and auth handlers and forwards /api/v1 to that Prometheus. It is not the
# acceptance test of `vigil serve`; set VIGIL_URL/VIGIL_ADMIN_PW to run the
# same browser cases against a running daemon instead.
# Prints one PASS/FAIL line per case; screenshots go to tests/out/e2e/.
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/tests/out/e2e
TMP=$(mktemp -d /tmp/vigil-e2e.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

fail() { echo "FAIL console_e2e_setup: $*"; exit 1; }

for b in chromium prometheus prometheus-node-exporter prometheus-snmp-exporter prometheus-blackbox-exporter snmpd node npm python3 curl; do
	command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] || fail "$b is not installed (scripts/install-deps)"
done
[ -x build/asan/e2e-devserver ] || nice make --no-print-directory build/asan/e2e-devserver >"$TMP/make.log" 2>&1 ||
	fail "cannot build build/asan/e2e-devserver: $(tail -3 "$TMP/make.log")"
if [ ! -d tests/e2e/node_modules/playwright-core ]; then
	(cd tests/e2e && npm ci --no-audit --no-fund --ignore-scripts --prefer-offline --loglevel=error) >"$TMP/npm.log" 2>&1 ||
		fail "npm ci in tests/e2e: $(tail -3 "$TMP/npm.log")"
fi

# Nine free loopback ports, all different.
read -r P_PROM P_NODE P_NODE2 P_SNMPX P_BB P_SNMPD P_WEB P_DEAD P_X < <(python3 - <<'EOF'
import socket
socks = []
for _ in range(9):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
)

start() { # log-name, command...
	local name=$1; shift
	"$@" >"$TMP/$name.log" 2>&1 &
	PIDS+=($!)
}

cat >"$TMP/snmpd.conf" <<EOF
rocommunity public 127.0.0.1
sysName e2e-router
sysLocation vigil e2e harness
EOF
start snmpd /usr/sbin/snmpd -f -Lo -C -c "$TMP/snmpd.conf" -p "$TMP/snmpd.pid" "udp:127.0.0.1:$P_SNMPD"
start snmpx prometheus-snmp-exporter --config.file="$ROOT/tests/e2e/snmp.yml" --web.listen-address="127.0.0.1:$P_SNMPX"
start node prometheus-node-exporter --web.listen-address="127.0.0.1:$P_NODE"
start node2 prometheus-node-exporter --web.listen-address="127.0.0.1:$P_NODE2" --collector.disable-defaults --collector.uname
NODE2_PID=${PIDS[-1]}
cat >"$TMP/blackbox.yml" <<EOF
modules:
  http_2xx: { prober: http, timeout: 2s }
  icmp: { prober: icmp, timeout: 2s }
EOF
start bb prometheus-blackbox-exporter --config.file="$TMP/blackbox.yml" --web.listen-address="127.0.0.1:$P_BB"

cat >"$TMP/rules.yml" <<EOF
groups:
- name: e2e
  interval: 1s
  rules:
  - alert: TargetDown
    expr: up == 0
    labels: { severity: critical }
    annotations: { summary: "{{ \$labels.instance }} does not answer scrapes" }
  - alert: HostUp
    expr: up{job="node"} == 1
    labels: { severity: info }
    annotations: { summary: "node exporter answers" }
EOF
cat >"$TMP/prometheus.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: ["$TMP/rules.yml"]
scrape_configs:
- job_name: node
  static_configs: [{ targets: ["127.0.0.1:$P_NODE", "127.0.0.1:$P_NODE2", "127.0.0.1:$P_DEAD"] }]
- job_name: snmp
  metrics_path: /snmp
  params: { module: [if_mib] }
  static_configs: [{ targets: ["127.0.0.1:$P_SNMPD"] }]
  relabel_configs:
  - { source_labels: [__address__], target_label: __param_target }
  - { source_labels: [__param_target], target_label: instance }
  - { target_label: __address__, replacement: "127.0.0.1:$P_SNMPX" }
- job_name: blackbox_icmp
  metrics_path: /probe
  params: { module: [icmp] }
  static_configs: [{ targets: ["127.0.0.2"] }]
  relabel_configs:
  - { source_labels: [__address__], target_label: __param_target }
  - { source_labels: [__param_target], target_label: instance }
  - { target_label: __address__, replacement: "127.0.0.1:$P_BB" }
- job_name: blackbox_http
  metrics_path: /probe
  params: { module: [http_2xx] }
  static_configs: [{ targets: ["http://127.0.0.1:$P_PROM/-/healthy"] }]
  relabel_configs:
  - { source_labels: [__address__], target_label: __param_target }
  - { source_labels: [__param_target], target_label: instance }
  - { target_label: __address__, replacement: "127.0.0.1:$P_BB" }
EOF
start prom prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/prom" \
	--web.listen-address="127.0.0.1:$P_PROM"

if [ -n "${VIGIL_URL:-}" ]; then
	BASE=$VIGIL_URL
	PW=${VIGIL_ADMIN_PW:?set VIGIL_ADMIN_PW with VIGIL_URL}
else
	start web build/asan/e2e-devserver "$P_WEB" "http://127.0.0.1:$P_PROM" "$TMP/web.db"
	BASE=http://127.0.0.1:$P_WEB
	PW=""
	for _ in $(seq 1 100); do
		PW=$(sed -n 's/^admin-password: //p' "$TMP/web.log")
		[ -n "$PW" ] && grep -q '^listening:' "$TMP/web.log" && break
		sleep 0.1
	done
	[ -n "$PW" ] || fail "devserver did not start: $(tail -3 "$TMP/web.log")"
fi

# Wait for Prometheus, then let some history build up; one node goes away
# part-way so that "down", a firing alert and a status change are real.
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$P_PROM/-/ready" >/dev/null && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$P_PROM/-/ready" >/dev/null || fail "prometheus did not start: $(tail -3 "$TMP/prom.log")"
sleep 20
kill "$NODE2_PID" 2>/dev/null
sleep 15
n=$(curl -sf "http://127.0.0.1:$P_PROM/api/v1/query?query=count(ifHCInOctets)" | python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else 0)')
[ "${n:-0}" -gt 0 ] 2>/dev/null || fail "no SNMP interface data reached Prometheus: $(tail -3 "$TMP/snmpx.log")"

mkdir -p "$OUT"
BASE_URL=$BASE ADMIN_PW=$PW OUT_DIR=$OUT PROFILE_DIR="$TMP/chromium" SNMP_INSTANCE="127.0.0.1:$P_SNMPD" \
	NODE_INSTANCE="127.0.0.1:$P_NODE" DOWN_INSTANCE="127.0.0.1:$P_NODE2" \
	timeout 100 node tests/e2e/console.test.mjs
rc=$?
# Developers: E2E_HOLD=SECONDS keeps everything running afterwards to look around.
if [ -n "${E2E_HOLD:-}" ]; then
	echo "holding: console $BASE (admin / $PW), prometheus http://127.0.0.1:$P_PROM" >&2
	sleep "$E2E_HOLD"
fi
[ $rc = 0 ] || { echo "devserver log tail:"; tail -5 "$TMP/web.log" 2>/dev/null; }
exit $rc
