#!/usr/bin/env bash
# collect_mount_change.sh — the filesystem collector re-reads the mount table
# only when poll(2) on it reports a change (collect.c, FDK_MOUNTS): a tmpfs
# mounted and unmounted while `vigil agent` runs must appear in and leave
# node_filesystem_size_bytes at the very next scrape.
# Needs permission to mount in the initial mount namespace (root in this
# VM); without it the case reports FAIL with the reason rather than passing.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/collect_lib.sh
name=collect_mount_change
tmp=$(mktemp -d)
chmod 755 "$tmp"
mnt="$tmp/mnt"
mkdir -p "$mnt"
pids=()
cleanup() {
	mountpoint -q "$mnt" 2>/dev/null && umount "$mnt"
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
find_agent "$tmp" >"$tmp/build.log" 2>&1 || { echo "FAIL $name: cannot build the agent: $(tail -3 "$tmp/build.log")"; exit 1; }
port=$(free_port)
$AGENT --listen "127.0.0.1:$port" --collectors filesystem >"$tmp/agent.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$port/metrics" || { echo "FAIL $name: agent did not answer"; exit 1; }
series() { curl -fsS "http://127.0.0.1:$port/metrics" | grep -c "^node_filesystem_size_bytes{.*mountpoint=\"$mnt\"}"; }
fails=0
[ "$(series)" = 0 ] || { echo "FAIL $name: $mnt reported before it is mounted"; exit 1; }
series >/dev/null	# a second scrape: the table is now served from the kept copy
if ! mount -t tmpfs -o size=1m vigil-test "$mnt" 2>"$tmp/mount.err"; then
	echo "FAIL $name: cannot mount a tmpfs here: $(cat "$tmp/mount.err")"
	exit 1
fi
if [ "$(series)" = 1 ]; then echo "PASS ${name}_mount_seen"; else echo "FAIL ${name}_mount_seen: no series for $mnt"; fails=1; fi
umount "$mnt"
if [ "$(series)" = 0 ]; then echo "PASS ${name}_unmount_seen"; else echo "FAIL ${name}_unmount_seen: $mnt still reported"; fails=1; fi
exit $fails
