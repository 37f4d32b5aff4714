#!/usr/bin/env bash
# vigil serve as a user runs it: start, /metrics, reload with a broken
# config, a killed worker, clean shutdown; and every start-up failure.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
# A 0700 temp dir on purpose: the workers' user cannot search it, as with a
# checkout under /root; they must still reach their data directory.
T=$(mktemp -d /tmp/vigil-serve-XXXXXX)
PID=
cleanup() { [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null; pkill -9 -f "$T" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=$(free_port)
cat > "$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$PORT
storage:
  path: $T/data
YML
cp "$T/vigil.yml" "$T/good.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" &
PID=$!
if wait_for grep -q "serving http://127.0.0.1:$PORT/" "$T/out"; then pass serve/starts_and_prints_url
else fail serve/starts_and_prints_url "no URL line; stderr: $(tail -3 "$T/err")"; exit 1; fi

M="curl -sf http://127.0.0.1:$PORT/metrics"
wait_for sh -c "$M | grep -q 'vigil_worker_up{worker=\"web\"} 1'"
$M >"$T/m1"
up=$(grep -c '^vigil_worker_up{.*} 1$' "$T/m1")
[ "$up" = 4 ] && pass serve/all_four_workers_up || fail serve/all_four_workers_up "$up of 4 up"
if promtool check metrics <"$T/m1" >"$T/promtool" 2>&1; then pass serve/metrics_pass_promtool
else fail serve/metrics_pass_promtool "$(head -3 "$T/promtool")"; fi
for fam in vigil_worker_cpu_seconds_total vigil_worker_resident_memory_bytes vigil_ipc_messages_total \
	vigil_ipc_bytes_total vigil_worker_restarts_total vigil_egress_refused_total; do
	grep -q "^$fam{worker=\"store\"" "$T/m1" || grep -q "^$fam{worker=\"store\",direction" "$T/m1" ||
		fail serve/metrics_family_$fam "missing"
done
wait_for sh -c "$M | grep -q '^vigil_ipc_messages_total{worker=\"store\",direction=\"in\"} [1-9]'" &&
	pass serve/ipc_counters_move || fail serve/ipc_counters_move "store shows no messages in"
# workers run unprivileged when started as root
if [ "$(id -u)" = 0 ]; then
	bad=$(ps -o user=,args= --ppid "$PID" | grep -c '^root ')
	[ "$bad" = 0 ] && pass serve/workers_not_root || fail serve/workers_not_root "$bad workers run as root"
fi

# Authentication: the API needs a token; /metrics and health checks do not.
grep -q '^vigil: first start: log in as "admin" with password [A-Za-z0-9_-]\{16,\} (shown only now)$' "$T/out" &&
	pass serve/first_admin_password_printed_once || fail serve/first_admin_password_printed_once "$(cat "$T/out")"
grep -q 'password' "$T/err" && fail serve/password_not_in_log "the log mentions a password" || pass serve/password_not_in_log
code=$(curl -s -o "$T/noauth" -w '%{http_code}' "http://127.0.0.1:$PORT/api/v1/query?query=up")
[ "$code" = 401 ] && grep -q '"status":"error"' "$T/noauth" && pass serve/api_without_token_is_401 || fail serve/api_without_token_is_401 "HTTP $code"
VT=$("$VIGIL" token create -d "$T/data" --role viewer viewer-test)
code=$(curl -s -o "$T/q" -w '%{http_code}' -H "Authorization: Bearer $VT" "http://127.0.0.1:$PORT/api/v1/query?query=vector(1)")
[ "$code" = 200 ] && grep -q '"resultType":"vector"' "$T/q" && pass serve/api_with_viewer_token || fail serve/api_with_viewer_token "HTTP $code $(cat "$T/q")"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer nope" "http://127.0.0.1:$PORT/api/v1/query?query=1")
[ "$code" = 401 ] && pass serve/bad_token_is_401 || fail serve/bad_token_is_401 "HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $VT" "http://127.0.0.1:$PORT/api/v1/write")
[ "$code" = 403 ] && pass serve/viewer_cannot_remote_write || fail serve/viewer_cannot_remote_write "HTTP $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/")
[ "$code" = 303 ] && pass serve/console_redirects_to_login || fail serve/console_redirects_to_login "HTTP $code"

# A second vigil on the same data directory is refused (the store is not shared).
P2=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\n' "$P2" "$T" >"$T/second.yml"
timeout -k 2 20 "$VIGIL" serve -c "$T/second.yml" >/dev/null 2>"$T/e2"; rc=$?
[ "$rc" = 1 ] && grep -q "^vigil: storage.path $T/data: in use by another vigil$" "$T/e2" &&
	pass serve/second_instance_on_same_data_dir_refused || fail serve/second_instance_on_same_data_dir_refused "exit $rc: $(cat "$T/e2")"

# SIGHUP with a broken config: rejected with file:line:col, old config keeps serving
printf 'web:\n  listen: 127.0.0.1:%s\n  bogus: 1\n' "$PORT" >"$T/vigil.yml"
kill -HUP "$PID"
if wait_for grep -q "reload rejected.*vigil.yml:3:3: unknown key" "$T/err"; then pass serve/bad_reload_rejected_with_position
else fail serve/bad_reload_rejected_with_position "$(grep reload "$T/err" | tail -1)"; fi
wait_for sh -c "$M | grep -q '^vigil_config_reloads_total{result=\"failure\"} 1$'" && $M | grep -q '^vigil_config_last_reload_successful 0$' &&
	pass serve/still_serving_after_bad_reload || fail serve/still_serving_after_bad_reload "metrics not served or counters wrong"
cp "$T/good.yml" "$T/vigil.yml"
kill -HUP "$PID"
wait_for sh -c "$M | grep -q '^vigil_config_reloads_total{result=\"success\"} 1$'" &&
	pass serve/good_reload_applied || fail serve/good_reload_applied "success counter did not move"

# SIGKILL the store worker: logged, restarted, the API works through the new store
SPID=$(pgrep -P "$PID" -f '__worker store')
kill -9 "$SPID"
if wait_for grep -q 'worker crashed; restarting.*worker=store reason="killed by signal KILL"' "$T/err"; then
	pass serve/killed_store_is_logged
else fail serve/killed_store_is_logged "no crash line"; fi
if wait_for sh -c "$M | grep -q 'vigil_worker_restarts_total{worker=\"store\"} 1'" &&
	wait_for sh -c "$M | grep -q 'vigil_worker_up{worker=\"store\"} 1'"; then
	NSPID=$(pgrep -P "$PID" -f '__worker store')
	[ -n "$NSPID" ] && [ "$NSPID" != "$SPID" ] && pass serve/store_restarted || fail serve/store_restarted "pid $NSPID"
else fail serve/store_restarted "restart not visible in /metrics"; fi
TOK=$("$VIGIL" token create -d "$T/data" --role viewer serve-test 2>"$T/tokerr")
code=$(curl -s -o "$T/api" -w '%{http_code}' -H "Authorization: Bearer $TOK" "http://127.0.0.1:$PORT/api/v1/does-not-exist")
grep -q '"errorType":"not_found"' "$T/api" && [ "$code" = 404 ] &&
	pass serve/api_reaches_restarted_store || fail serve/api_reaches_restarted_store "HTTP $code $(cat "$T/api")"

# SIGTERM: exit 0 within 2 s, no worker left behind
KIDS=$(pgrep -P "$PID" | tr '\n' ' ')
start=$(date +%s%N)
kill -TERM "$PID"
wait "$PID"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
PID=
[ "$rc" = 0 ] && pass serve/sigterm_exit_0 || fail serve/sigterm_exit_0 "exit $rc"
[ "$ms" -lt 2000 ] && pass serve/sigterm_within_2s || fail serve/sigterm_within_2s "${ms} ms"
left=0
for k in $KIDS; do kill -0 "$k" 2>/dev/null && left=$((left + 1)); done
[ "$left" = 0 ] && pass serve/no_orphans || fail serve/no_orphans "$left workers still running"

# ---- start-up failures: one line, right exit code, nothing left running ----
expect_fail() { # name, want_rc, want_regex, args...
	local name=$1 want=$2 re=$3; shift 3
	timeout -k 2 20 "$VIGIL" "$@" >"$T/o" 2>"$T/e"; local rc=$?
	local lines; lines=$(grep -vc '^ts=' "$T/e")
	if [ "$rc" = "$want" ] && grep -Eq "$re" "$T/e" && [ "$lines" = 1 ]; then pass "serve/$name"
	else fail "serve/$name" "exit $rc (want $want), stderr: $(head -c 300 "$T/e")"; fi
}
expect_fail missing_config 2 "^vigil: $T/nope.yml: cannot open: No such file or directory$" serve -c "$T/nope.yml"
printf 'web:\n  listen: [\n' >"$T/bad.yml"
expect_fail malformed_config 2 "^vigil: $T/bad.yml:[0-9]+:[0-9]+: YAML syntax error" serve -c "$T/bad.yml"
printf 'tok: x\n' >"$T/secrets.yml"; chmod 644 "$T/secrets.yml"
printf 'global:\n  secrets_file: %s\nweb:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s\n' "$T/secrets.yml" "$PORT" "$T/data" >"$T/sec.yml"
expect_fail secrets_too_open 2 "secrets file is accessible by group or others \(mode 0644\)" serve -c "$T/sec.yml"
chmod 600 "$T/secrets.yml"
[ "$("$VIGIL" check config "$T/sec.yml" 2>&1)" = "$T/sec.yml: ok" ] && pass cli/check_config_ok || fail cli/check_config_ok "not ok"
# Hold a fresh port (the one vigil used may still be in TIME_WAIT).
python3 -c "import socket,time; s=socket.socket(); s.bind(('127.0.0.1',0)); s.listen(); print(s.getsockname()[1], flush=True); time.sleep(15)" >"$T/held" &
HOLD=$!
wait_for test -s "$T/held"
HP=$(cat "$T/held")
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\n' "$HP" "$T" >"$T/held.yml"
expect_fail port_in_use 1 "^vigil: web.listen 127.0.0.1:$HP: Address already in use$" serve -c "$T/held.yml"
kill $HOLD 2>/dev/null; wait $HOLD 2>/dev/null
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: /proc/vigil-data\n' "$PORT" >"$T/ro.yml"
expect_fail unwritable_data_dir 1 "^vigil: storage.path /proc/vigil-data: cannot create: " serve -c "$T/ro.yml"
touch "$T/afile"
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/afile\n' "$PORT" "$T" >"$T/file.yml"
expect_fail data_dir_is_a_file 1 "^vigil: storage.path $T/afile: (cannot create: File exists|not a directory)$" serve -c "$T/file.yml"
# A worker that fails during start-up (its users database cannot be opened):
# vigil stops what it started and exits 1 with the reason.
mkdir -p "$T/broken/web.db"
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/broken\n' "$PORT" "$T" >"$T/broken.yml"
timeout -k 2 20 "$VIGIL" serve -c "$T/broken.yml" >"$T/o" 2>"$T/e"; rc=$?
[ "$rc" = 1 ] && grep -q '^vigil: .*web.db' "$T/e" && pass serve/worker_failing_at_start_stops_everything ||
	fail serve/worker_failing_at_start_stops_everything "exit $rc: $(grep -v level=info "$T/e" | tail -2)"
n=$(pgrep -fc "__worker.*$T" || true)
[ "$n" = 0 ] && pass serve/failed_starts_leave_nothing_running || fail serve/failed_starts_leave_nothing_running "$n workers"
"$VIGIL" check config "$T/bad.yml" 2>"$T/e"; rc=$?
[ "$rc" = 2 ] && grep -q "^$T/bad.yml:[0-9]*:[0-9]*: " "$T/e" && pass cli/check_config_reports_position || fail cli/check_config_reports_position "exit $rc"
"$VIGIL" frobnicate 2>/dev/null; [ $? = 2 ] && pass cli/unknown_command_exit_2 || fail cli/unknown_command_exit_2 "wrong exit"
"$VIGIL" serve --help | grep -q 'usage: vigil serve' && pass cli/serve_help || fail cli/serve_help "no usage"
"$VIGIL" help | grep -q 'Exit codes: 0 ok, 1 runtime failure' && pass cli/help_documents_exit_codes || fail cli/help_documents_exit_codes ""
[ "$FAILS" = 0 ]
