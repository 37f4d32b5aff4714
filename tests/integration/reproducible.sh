#!/usr/bin/env bash
# The same source gives the same binary bytes wherever it is built: build the
# committed tree (plus any work in progress) in two different directories.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
A=$(mktemp -d /tmp/vigil-repro-a-XXXXXX) B=$(mktemp -d /tmp/vigil-repro-bb-XXXXXX)
trap 'rm -rf "$A" "$B"' EXIT
for d in "$A" "$B"; do
	git ls-files -z --cached --others --exclude-standard | xargs -0 cp --parents -t "$d" 2>/dev/null
	(cd "$d" && nice make -j2 vigil >"$d/build.log" 2>&1) || { fail repro/builds "build failed in $d: $(tail -3 "$d/build.log")"; exit 1; }
done
ha=$(sha256sum <"$A/vigil"); hb=$(sha256sum <"$B/vigil")
[ "$ha" = "$hb" ] && pass "repro/same_bytes_from_two_build_dirs" || fail repro/same_bytes_from_two_build_dirs "$ha vs $hb"
grep -q "$A" "$A/vigil" && fail repro/no_build_path_in_binary "the build directory is in the binary" || pass repro/no_build_path_in_binary
[ "$FAILS" = 0 ]
