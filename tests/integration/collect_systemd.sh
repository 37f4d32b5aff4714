#!/usr/bin/env bash
# collect_systemd.sh — node_systemd_* against a real systemd manager, side by
# side with Debian's prometheus-node-exporter (--collector.systemd) asking the
# same manager.
#
# This VM has no systemd as PID 1, so the test runs one: a private
# dbus-daemon (a bus config of its own that lets any local user connect, as
# the system bus does) and `systemd --user` on it, in a mount namespace
# where /run/systemd/system exists (systemd refuses to run a user instance
# on a host not booted with systemd). Unit files written here: vt-sleep
# (a running `sleep`) and vt-fail (exits 1: failed).
# vigil agent (started as root, so it drops to the vigil user and enters
# the poller sandbox) is pointed at the bus with --systemd-bus, which is
# host.systemd_bus in vigil serve; node_exporter with DBUS_SYSTEM_BUS_ADDRESS.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/collect_lib.sh
name=collect_systemd
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap - EXIT
for cmd in /lib/systemd/systemd dbus-daemon unshare busctl systemctl prometheus-node-exporter; do
	command -v "$cmd" >/dev/null || { echo "FAIL $name: $cmd not installed"; exit 1; }
done
find_agent "$tmp" >"$tmp/build.log" 2>&1 || { echo "FAIL $name: cannot build the agent: $(tail -3 "$tmp/build.log")"; exit 1; }

rt="$tmp/rt"
mkdir -p "$rt" "$tmp/cfg/systemd/user"
chmod 755 "$rt"
# The user manager connects to its bus at $XDG_RUNTIME_DIR/bus, which its
# dbus.socket unit listens on; the bus daemon it starts there is replaced
# (same unit name, user config dir) by one with this test's bus config.
sock="$rt/bus"
bus="unix:path=$sock"
cat >"$tmp/cfg/systemd/user/dbus.service" <<EOF
[Unit]
Description=vigil test bus (any local user may connect)
Requires=dbus.socket
[Service]
Type=notify
NotifyAccess=main
ExecStart=/usr/bin/dbus-daemon --config-file=$tmp/bus.conf --address=systemd: --nofork --nopidfile --systemd-activation
EOF
cat >"$tmp/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>$bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
cat >"$tmp/cfg/systemd/user/vt-sleep.service" <<'EOF'
[Unit]
Description=vigil test: running
[Service]
Type=simple
ExecStart=/bin/sleep 600
EOF
cat >"$tmp/cfg/systemd/user/vt-fail.service" <<'EOF'
[Unit]
Description=vigil test: failed
[Service]
Type=oneshot
ExecStart=/bin/false
EOF
export XDG_RUNTIME_DIR="$rt" XDG_CONFIG_HOME="$tmp/cfg" XDG_DATA_HOME="$tmp/data" XDG_STATE_HOME="$tmp/state" \
	XDG_CACHE_HOME="$tmp/cache" DBUS_SESSION_BUS_ADDRESS="$bus"
# /run/systemd/system only inside systemd's own mount namespace.
unshare -m --propagation private sh -c \
	'mount -t tmpfs vigil-test /run/systemd && mkdir /run/systemd/system && exec /lib/systemd/systemd --user' \
	>"$tmp/systemd.log" 2>&1 & pids+=($!)
up=0
for _ in $(seq 1 100); do
	if [ -S "$sock" ] && busctl --address="$bus" get-property org.freedesktop.systemd1 /org/freedesktop/systemd1 \
		org.freedesktop.systemd1.Manager Version >/dev/null 2>&1; then up=1; break; fi
	sleep 0.1
done
[ $up = 1 ] || { echo "FAIL $name: systemd --user did not come up: $(tail -3 "$tmp/systemd.log")"; exit 1; }
chmod 666 "$sock"
timeout 10 systemctl --user start vt-sleep.service
timeout 10 systemctl --user start vt-fail.service 2>/dev/null

vp=$(free_port); np=$(free_port)
$AGENT --listen "127.0.0.1:$vp" --collectors systemd --systemd-bus "$bus" >"$tmp/agent.log" 2>&1 & pids+=($!)
DBUS_SYSTEM_BUS_ADDRESS="$bus" prometheus-node-exporter --web.listen-address="127.0.0.1:$np" \
	--collector.disable-defaults --collector.systemd >"$tmp/ne.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$vp/metrics" && wait_http "http://127.0.0.1:$np/metrics" ||
	{ echo "FAIL $name: exporters did not answer"; exit 1; }
curl -fsS "http://127.0.0.1:$vp/metrics" >"$tmp/vigil.txt"
curl -fsS "http://127.0.0.1:$np/metrics" >"$tmp/ne.txt"
fails=0
check() { # case-name condition-result message
	if [ "$2" = 0 ]; then echo "PASS ${name}_$1"; else echo "FAIL ${name}_$1: $3"; fails=1; fi
}
get() { grep -F "$2" "$1" | grep -v '^#' | head -1 | awk '{print $NF}'; }

grep -q '^node_scrape_collector_success{collector="systemd"} 1' "$tmp/vigil.txt"
check collector_succeeds $? "$(grep collector=.systemd "$tmp/vigil.txt"; tail -3 "$tmp/agent.log")"
[ "$(get "$tmp/vigil.txt" 'node_systemd_unit_state{name="vt-sleep.service",state="active",type="simple"}')" = 1 ]
check running_unit_active $? "$(grep vt-sleep "$tmp/vigil.txt" | head -5)"
[ "$(get "$tmp/vigil.txt" 'node_systemd_unit_state{name="vt-fail.service",state="failed",type="oneshot"}')" = 1 ] &&
	[ "$(get "$tmp/vigil.txt" 'node_systemd_unit_state{name="vt-fail.service",state="active",type="oneshot"}')" = 0 ]
check failed_unit_failed $? "$(grep vt-fail "$tmp/vigil.txt" | head -5)"
[ "$(get "$tmp/vigil.txt" 'node_systemd_system_running ')" = 0 ]	# a failed unit: "degraded"
check system_degraded_not_running $? "$(grep system_running "$tmp/vigil.txt")"
[ "$(get "$tmp/vigil.txt" 'node_systemd_units{state="failed"}')" -ge 1 ] 2>/dev/null
check units_summary_counts_failed $? "$(grep 'node_systemd_units' "$tmp/vigil.txt")"

# The same series, label sets and values as node_exporter (the manager is
# the same; connection counts of sockets may move between the two scrapes).
sys_series() { grep '^node_systemd_' "$1" | grep -v '_connections' | sort; }
if diff <(sys_series "$tmp/ne.txt") <(sys_series "$tmp/vigil.txt") >"$tmp/diff.txt"; then
	echo "PASS ${name}_same_as_node_exporter ($(sys_series "$tmp/vigil.txt" | wc -l) series)"
else
	echo "FAIL ${name}_same_as_node_exporter: $(head -10 "$tmp/diff.txt" | tr '\n' ' ')"
	fails=1
fi
sock_names() { grep '^node_systemd_socket' "$1" | sed 's/ [^ ]*$//' | sort; }
diff <(sock_names "$tmp/ne.txt") <(sock_names "$tmp/vigil.txt") >/dev/null
check socket_series_match $? "$(diff <(sock_names "$tmp/ne.txt") <(sock_names "$tmp/vigil.txt") | head -5)"

# vigil serve: host.systemd_bus in the config, the collector in the
# sandboxed poller worker, the series stored and queried back.
SP=$(free_port)
cat >"$tmp/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$SP
storage:
  path: $tmp/data
host:
  interval: 1s
  systemd_bus: "$bus"
YML
VIGIL_BIN=./vigil
[ -x "$VIGIL_BIN" ] || VIGIL_BIN=build/asan/vigil
"$VIGIL_BIN" serve -c "$tmp/vigil.yml" >"$tmp/serve.out" 2>"$tmp/serve.err" & pids+=($!)
for _ in $(seq 1 100); do grep -q serving "$tmp/serve.out" && break; sleep 0.1; done
tok=$("$VIGIL_BIN" token create -d "$tmp/data" systemd-test 2>/dev/null)
q() { curl -sf -H "Authorization: Bearer $tok" "http://127.0.0.1:$SP/api/v1/query" --data-urlencode "query=$1" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")'; }
got=none
for _ in $(seq 1 40); do
	got=$(q 'node_systemd_unit_state{name="vt-fail.service",state="failed",job="node"}')
	[ "$got" = 1 ] && break
	sleep 0.25
done
[ "$got" = 1 ]
check serve_poller_reads_units $? "got $got; $(grep -i -m3 'systemd\|error' "$tmp/serve.err")"

# The manager stops the unit and forgets the failure: the next scrape says
# so (the stopped unit is unloaded, so it is no longer listed as active) and
# the system is "running" again.
timeout 10 systemctl --user stop vt-sleep.service
timeout 10 systemctl --user reset-failed
curl -fsS "http://127.0.0.1:$vp/metrics" >"$tmp/vigil2.txt"
[ "$(get "$tmp/vigil2.txt" 'node_systemd_unit_state{name="vt-sleep.service",state="active"')" != 1 ]
check stopped_unit_not_active $? "$(grep vt-sleep "$tmp/vigil2.txt" | head -5)"
[ "$(get "$tmp/vigil2.txt" 'node_systemd_system_running ')" = 1 ]
check system_running_after_reset $? "$(grep '^node_systemd_system_running' "$tmp/vigil2.txt")"
exit $fails
