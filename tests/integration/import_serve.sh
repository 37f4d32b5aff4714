#!/usr/bin/env bash
# vigil tsdb import (run as root, as an admin would) writes blocks that vigil
# serve then opens with storage.path: the samples are queryable, nothing is
# quarantined.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-imp-XXXXXX)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
now=$(date +%s)
python3 - "$T/in.om" "$now" <<'PY'
import sys
out, now = sys.argv[1], int(sys.argv[2])
with open(out, "w") as f:
    f.write("# TYPE imported_total counter\n")
    for i in range(720):                      # 2 hours, one sample every 10 s
        t = now - 7200 + i * 10
        for s in ("a", "b"):
            f.write(f'imported_total{{series="{s}"}} {i * (2 if s == "b" else 1)} {t}\n')
    f.write("# EOF\n")
PY
"$VIGIL" tsdb import -d "$T/data" "$T/in.om" >"$T/imp.log" 2>&1 && pass import/import_ok || fail import/import_ok "$(tail -2 "$T/imp.log")"
ls -d "$T"/data/blk-* >/dev/null 2>&1 && pass import/blocks_written || fail import/blocks_written "$(ls "$T/data")"
VP=$(free_port)
printf 'web:\n  listen: 127.0.0.1:%s\nstorage:\n  path: %s/data\nhost:\n  enabled: false\n' "$VP" "$T" >"$T/vigil.yml"
"$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail import/serve_starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" imp)
v=$(curl -sf -H "Authorization: Bearer $TOK" "http://127.0.0.1:$VP/api/v1/query" \
	--data-urlencode "query=count_over_time(imported_total{series=\"b\"}[3h])" --data-urlencode "time=$now" |
	python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "none")')
[ "$v" = 720 ] && pass import/all_imported_samples_served || fail import/all_imported_samples_served "got $v"
grep -q quarantine "$T/err" && fail import/nothing_quarantined "$(grep quarantine "$T/err" | head -1)" || pass import/nothing_quarantined
[ ! -d "$T/data/quarantine" ] || [ -z "$(ls -A "$T/data/quarantine")" ] && pass import/quarantine_empty || fail import/quarantine_empty "$(ls "$T/data/quarantine")"
[ "$FAILS" = 0 ]
