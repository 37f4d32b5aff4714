#!/usr/bin/env bash
# Crash and disk-full tests for the tsdb.
#   tsdb_kill9_rounds: `tsdb stress` appends and prints each step it has
#     committed; it is killed with SIGKILL at random moments (>= 50 rounds),
#     then the store is reopened and every committed sample must be there
#     with its exact value (stress --verify).
#   tsdb_disk_full: the store on a 1 MiB tmpfs runs out of space; appends
#     fail with ENOSPC, committed data stays readable, and ingest resumes
#     once space is freed. Skipped (reported) if tmpfs cannot be mounted.
set -u
cd "$(dirname "$0")/../.."
if [ -x ./vigil ] && ./vigil tsdb help 2>/dev/null | grep -q 'vigil tsdb import'; then
	cli=(./vigil tsdb)
elif [ -x build/asan/tests/tsdb_cli_test ]; then
	cli=(build/asan/tests/tsdb_cli_test tsdb)
else
	echo "FAIL tsdb_kill9_rounds: no vigil tsdb and no build/asan/tests/tsdb_cli_test (build first)"
	exit 1
fi
work=$(mktemp -d /tmp/vigil-tsdb-crash.XXXXXX)
mnt=""
pid=""
cleanup() {
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -n "$mnt" ] && umount "$mnt" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
status=0

# ---- kill -9 rounds ----
rounds=60 committed=-1 bad="" series=20
for r in $(seq 1 $rounds); do
	"${cli[@]}" stress -d "$work/db" --series $series >"$work/out" 2>"$work/err" &
	pid=$!
	sleep "0.$(printf '%02d' $((RANDOM % 35 + 5)))"
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	pid=""
	last=$(grep '^committed ' "$work/out" | tail -1 | cut -d' ' -f2)
	[ -n "$last" ] && committed=$last
	if [ "$committed" -ge 0 ]; then
		if ! "${cli[@]}" stress -d "$work/db" --series $series --verify "$committed" \
			>"$work/verify" 2>&1; then
			bad="round $r: $(grep -m1 -E 'FAIL|error' "$work/verify")"
			break
		fi
	elif ! "${cli[@]}" analyze "$work/db" >"$work/verify" 2>&1; then
		bad="round $r: store does not open: $(head -1 "$work/verify")"
		break
	fi
done
blocks=$(ls -d "$work"/db/blk-* 2>/dev/null | wc -l)
if [ -n "$bad" ]; then
	echo "FAIL tsdb_kill9_rounds: $bad"; status=1
elif [ "$committed" -lt 20 ]; then
	echo "FAIL tsdb_kill9_rounds: only $committed steps committed in $rounds rounds"; status=1
elif [ "$blocks" -lt 1 ]; then
	echo "FAIL tsdb_kill9_rounds: no block was ever cut (head cut path untested)"; status=1
elif [ -d "$work/db/quarantine" ]; then
	echo "FAIL tsdb_kill9_rounds: a crash left a damaged block: $(ls "$work/db/quarantine")"; status=1
else
	echo "PASS tsdb_kill9_rounds: $rounds SIGKILLs, $((committed + 1)) committed steps x $series series verified, $blocks blocks"
fi

# ---- disk full ----
mnt="$work/mnt"
mkdir -p "$mnt"
if ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
	mnt=""
	echo "PASS tsdb_disk_full: skipped, cannot mount tmpfs here (not root or no CAP_SYS_ADMIN)"
	exit $status
fi
dd if=/dev/zero of="$mnt/filler" bs=1k count=256 status=none
"${cli[@]}" stress -d "$mnt/db" --series 50 --steps 100000 >"$work/out" 2>"$work/err"
rc=$?
last=$(grep '^committed ' "$work/out" | tail -1 | cut -d' ' -f2)
if [ "$rc" = 0 ] || ! grep -q 'No space left on device' "$work/err"; then
	echo "FAIL tsdb_disk_full: expected ENOSPC, got rc=$rc: $(head -2 "$work/err")"; status=1
elif [ -z "$last" ]; then
	echo "FAIL tsdb_disk_full: nothing committed before the disk filled"; status=1
elif ! "${cli[@]}" stress -d "$mnt/db" --series 50 --verify "$last" >"$work/verify" 2>&1; then
	echo "FAIL tsdb_disk_full: committed data lost when full: $(grep -m1 FAIL "$work/verify")"; status=1
else
	rm -f "$mnt/filler"
	"${cli[@]}" stress -d "$mnt/db" --series 50 --steps 20 >"$work/out" 2>"$work/err"
	last2=$(grep '^committed ' "$work/out" | tail -1 | cut -d' ' -f2)
	if [ -z "$last2" ] || [ "$last2" -le "$last" ]; then
		echo "FAIL tsdb_disk_full: ingest did not resume after space was freed: $(head -1 "$work/err")"; status=1
	elif ! "${cli[@]}" stress -d "$mnt/db" --series 50 --verify "$last2" >"$work/verify" 2>&1; then
		echo "FAIL tsdb_disk_full: after resuming: $(grep -m1 FAIL "$work/verify")"; status=1
	else
		echo "PASS tsdb_disk_full: ENOSPC at step $last, data intact, resumed to step $last2"
	fi
fi
exit $status
