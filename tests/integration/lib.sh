# Shared helpers for integration scripts (sourced, not run).
# pass/fail print the lines tests/run counts; cleanup runs on exit.
VIGIL=${VIGIL:-$PWD/build/asan/vigil}
# Workers run under seccomp, which forbids ptrace, so LeakSanitizer (which
# needs it) is off for the daemon; the unit tests keep it.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=0}
FAILS=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; FAILS=$((FAILS + 1)); }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
# wait_for CMD... : retry for up to 10 s
wait_for() { local i; for i in $(seq 1 100); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
