#!/usr/bin/env bash
# Nagios plugins from monitoring-plugins run by the probe engine: real exit
# codes mapped to OK/WARNING/CRITICAL/UNKNOWN, real perfdata parsed into
# series; a hung plugin and its children killed at the timeout; the
# environment cleared; running as an unprivileged uid/gid.
set -u
cd "$(dirname "$0")/../.."
BIN=build/asan/tests/probe_cli
PL=/usr/lib/nagios/plugins
[ -x "$BIN" ] || { echo "FAIL probe_nagios: $BIN not built (make unit-bin)"; exit 1; }
[ -x "$PL/check_tcp" ] || { echo "FAIL probe_nagios: monitoring-plugins not installed"; exit 1; }
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
val() { grep "^$2{" "$1" | grep -F -- "${3:-}" | head -1 | awk '{print $NF}'; }
reason() { grep '^probe_failure_info{' "$1" | sed 's/.*reason="\([a-z_]*\)".*/\1/'; }
run() { local n=$1; shift; "$BIN" probe nagios "$n" "$@" >"$tmp/$n" 2>"$tmp/$n.err"; echo $? >"$tmp/$n.rc"; }

python3 -c '
import http.server, sys
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
open(sys.argv[1] + "/port.tmp", "w").write(str(s.server_port))
import os; os.rename(sys.argv[1] + "/port.tmp", sys.argv[1] + "/port")
s.serve_forever()' "$tmp" >/dev/null 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do [ -s "$tmp/port" ] && break; sleep 0.1; done
P=$(cat "$tmp/port")
CLOSED=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

run tcp_ok -- "$PL/check_tcp" -H 127.0.0.1 -p "$P"
if [ "$(val "$tmp/tcp_ok" vigil_nagios_status)" = 0 ] && [ "$(val "$tmp/tcp_ok" probe_success)" = 1 ] &&
   grep -q '^vigil_nagios_perfdata{instance="tcp_ok", label="time", module="nagios", uom="s"} ' "$tmp/tcp_ok" &&
   [ "$(val "$tmp/tcp_ok" vigil_nagios_perfdata_max 'label="time"')" = 10 ]; then pass nagios_check_tcp_ok
else bad nagios_check_tcp_ok "$(head -5 "$tmp/tcp_ok")"; fi

run tcp_crit -- "$PL/check_tcp" -H 127.0.0.1 -p "$CLOSED"
if [ "$(val "$tmp/tcp_crit" vigil_nagios_status)" = 2 ] && [ "$(val "$tmp/tcp_crit" probe_success)" = 0 ] &&
   [ "$(reason "$tmp/tcp_crit")" = status ] && [ "$(cat "$tmp/tcp_crit.rc")" = 1 ]; then
	pass nagios_check_tcp_critical
else bad nagios_check_tcp_critical "$(head -5 "$tmp/tcp_crit")"; fi

run http_ok -- "$PL/check_http" -H 127.0.0.1 -p "$P" -u /
if [ "$(val "$tmp/http_ok" vigil_nagios_status)" = 0 ] &&
   [ -n "$(val "$tmp/http_ok" vigil_nagios_perfdata 'label="size"')" ] &&
   [ -n "$(val "$tmp/http_ok" vigil_nagios_perfdata 'label="time"')" ]; then pass nagios_check_http_perfdata
else bad nagios_check_http_perfdata "$(head -6 "$tmp/http_ok")"; fi

# check_disk: warning when less than 100% is free (always), critical threshold 0%.
run disk_warn -- "$PL/check_disk" -w 100% -c 0% -p /
want_free=$(df -B1 --output=used / | tail -1 | tr -d ' ')
got=$(val "$tmp/disk_warn" vigil_nagios_perfdata 'label="/"')
if [ "$(val "$tmp/disk_warn" vigil_nagios_status)" = 1 ] && [ -n "$got" ] &&
   awk -v g="$got" -v w="$want_free" 'BEGIN { d = g - w; if (d < 0) d = -d; exit !(d < 0.02 * w + 1e8) }'; then
	pass "nagios_check_disk_warning (used=$got B)"
else bad nagios_check_disk_warning "status=$(val "$tmp/disk_warn" vigil_nagios_status) got=$got want~$want_free $(head -3 "$tmp/disk_warn")"; fi

# check_procs writes its -w/-c ranges into its perfdata: each range becomes
# a pair of series (Telegraf's names): outside-ranges as _lt/_gt, '@' ranges
# as _le/_ge, open ends as -Inf/+Inf (probe_cli prints them as -inf/inf).
run procs_range -- "$PL/check_procs" -w 1:100000 -c @0:0
if [ "$(val "$tmp/procs_range" vigil_nagios_status)" = 0 ] &&
   [ "$(val "$tmp/procs_range" vigil_nagios_perfdata_warning_lt 'label="procs"')" = 1 ] &&
   [ "$(val "$tmp/procs_range" vigil_nagios_perfdata_warning_gt 'label="procs"')" = 100000 ] &&
   [ "$(val "$tmp/procs_range" vigil_nagios_perfdata_critical_le 'label="procs"')" = 0 ] &&
   [ "$(val "$tmp/procs_range" vigil_nagios_perfdata_critical_ge 'label="procs"')" = 0 ]; then
	pass nagios_perfdata_ranges_as_series
else bad nagios_perfdata_ranges_as_series "$(grep -i 'procs\|status' "$tmp/procs_range" | head -8)"; fi
run procs_warn -- "$PL/check_procs" -w '~:1' -c 1:
if [ "$(val "$tmp/procs_warn" vigil_nagios_status)" = 1 ] &&
   [ "$(val "$tmp/procs_warn" vigil_nagios_perfdata_warning_lt 'label="procs"' | tr A-Z a-z)" = -inf ] &&
   [ "$(val "$tmp/procs_warn" vigil_nagios_perfdata_warning_gt 'label="procs"')" = 1 ] &&
   [ "$(val "$tmp/procs_warn" vigil_nagios_perfdata_critical_gt 'label="procs"' | tr A-Z a-z | tr -d +)" = inf ]; then
	pass nagios_open_ranges_infinite
else bad nagios_open_ranges_infinite "$(grep -i 'procs\|status' "$tmp/procs_warn" | head -8)"; fi

run disk_unknown -- "$PL/check_disk" --no-such-option
if [ "$(val "$tmp/disk_unknown" vigil_nagios_status)" = 3 ]; then pass nagios_unknown_exit
else bad nagios_unknown_exit "$(head -3 "$tmp/disk_unknown")"; fi

# A plugin that hangs, with a child of its own: both die at the timeout.
start=$(date +%s%3N)
run hang -t 1s -- /bin/sh -c 'sleep 31.7 & sleep 31.7; echo never'
took=$(( $(date +%s%3N) - start ))
sleep 0.2
left=$(pgrep -fc 'sleep 31.7')
if [ "$(reason "$tmp/hang")" = timeout ] && [ "$(val "$tmp/hang" vigil_nagios_status)" = 2 ] &&
   [ "$took" -lt 2500 ] && [ "$left" = 0 ]; then pass "nagios_timeout_kills_group (${took}ms)"
else bad nagios_timeout_kills_group "took=$took left=$left $(reason "$tmp/hang")"; fi

# The environment is cleared: nothing of ours leaks into the plugin.
export VIGIL_SECRET_TOKEN=hunter2
run env -- /bin/sh -c 'if [ -z "${VIGIL_SECRET_TOKEN:-}" ] && [ "$LC_ALL" = C ] && [ -z "${HOME:-}" ]; then echo "OK|vars=$(env | wc -l)"; else echo LEAK; exit 2; fi'
if [ "$(val "$tmp/env" vigil_nagios_status)" = 0 ] && [ "$(val "$tmp/env" vigil_nagios_perfdata 'label="vars"')" -le 4 ]; then
	pass nagios_environment_cleared
else bad nagios_environment_cleared "$(head -3 "$tmp/env")"; fi
unset VIGIL_SECRET_TOKEN

# Nothing but stdin, stdout and stderr is inherited (ls adds its own dir fd);
# an fd the caller leaked without CLOEXEC (9 here) must not reach the plugin.
run fds -- /bin/sh -c 'echo "OK|fds=$(ls /proc/self/fd | wc -l)"' 9</dev/null
if [ "$(val "$tmp/fds" vigil_nagios_perfdata 'label="fds"')" = 4 ]; then pass nagios_no_inherited_fds
else bad nagios_no_inherited_fds "$(head -3 "$tmp/fds")"; fi

# Runs as the uid/gid given, with no supplementary groups.
run drop --uid 65534 --gid 65534 -- /bin/sh -c 'if [ "$(id -u):$(id -g):$(id -G)" = "65534:65534:65534" ]; then echo "OK|uid=$(id -u)"; else echo "CRITICAL $(id)"; exit 2; fi'
if [ "$(val "$tmp/drop" vigil_nagios_status)" = 0 ] && [ "$(val "$tmp/drop" vigil_nagios_perfdata 'label="uid"')" = 65534 ]; then
	pass nagios_runs_unprivileged
else bad nagios_runs_unprivileged "$(head -3 "$tmp/drop")"; fi

run missing -- /usr/lib/nagios/plugins/check_does_not_exist
if [ "$(reason "$tmp/missing")" = exec ] && [ "$(val "$tmp/missing" vigil_nagios_status)" = 3 ]; then
	pass nagios_missing_plugin
else bad nagios_missing_plugin "$(head -3 "$tmp/missing")"; fi
exit $fail
