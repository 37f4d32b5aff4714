#!/usr/bin/env bash
# collect_node_exporter_diff.sh — `vigil agent` and Debian's prometheus-node-exporter
# side by side on loopback: the sets of series names + label names must match,
# except for the differences listed with a reason in
# tests/data/collect/node_exporter_diff.txt.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/collect_lib.sh
name=collect_node_exporter_diff
tmp=$(mktemp -d)
# vigil agent started as root switches to an unprivileged user (like
# node_exporter running as its own): the textfile directory must be readable
# by it, as a real one (/var/lib/node_exporter/textfile_collector) is.
chmod 755 "$tmp"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
command -v prometheus-node-exporter >/dev/null || { echo "FAIL $name: prometheus-node-exporter not installed"; exit 1; }
find_agent "$tmp" >"$tmp/build.log" 2>&1 || { echo "FAIL $name: cannot build the agent: $(tail -3 "$tmp/build.log")"; exit 1; }

# Both serve the same textfile directory: a gauge, a counter and a histogram.
mkdir -p "$tmp/textfile"
cat >"$tmp/textfile/backup.prom" <<'PROM'
# HELP backup_last_success_seconds Last good backup.
# TYPE backup_last_success_seconds gauge
backup_last_success_seconds{set="nightly"} 1.7e9
# TYPE backup_runs_total counter
backup_runs_total 12
# TYPE backup_duration_seconds histogram
backup_duration_seconds_bucket{le="60"} 3
backup_duration_seconds_bucket{le="+Inf"} 12
backup_duration_seconds_sum 4000
backup_duration_seconds_count 12
PROM
np=$(free_port); vp=$(free_port)
prometheus-node-exporter --web.listen-address=127.0.0.1:$np --collector.textfile.directory="$tmp/textfile" \
	--collector.processes >"$tmp/ne.log" 2>&1 & pids+=($!)
$AGENT --listen 127.0.0.1:$vp --textfile-dir "$tmp/textfile" --enable processes >"$tmp/agent.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$np/metrics" || { echo "FAIL $name: node_exporter did not start"; exit 1; }
wait_http "http://127.0.0.1:$vp/metrics" || { echo "FAIL $name: vigil agent did not start: $(tail -2 "$tmp/agent.log")"; exit 1; }
curl -fsS "http://127.0.0.1:$np/metrics" >"$tmp/ne.txt"
curl -fsS "http://127.0.0.1:$vp/metrics" >"$tmp/vigil.txt"
series_sigs "$tmp/ne.txt" >"$tmp/ne.sig"
series_sigs "$tmp/vigil.txt" >"$tmp/vigil.sig"
[ -s "$tmp/vigil.sig" ] || { echo "FAIL $name: the agent served no series"; exit 1; }

# Every difference must match a listed pattern: "-" only node_exporter, "+" only vigil.
python3 - "$tmp/ne.sig" "$tmp/vigil.sig" tests/data/collect/node_exporter_diff.txt <<'PY'
import fnmatch, sys
ne = set(open(sys.argv[1]).read().split())
vg = set(open(sys.argv[2]).read().split())
allowed = []
for line in open(sys.argv[3]):
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    side, pat, reason = (line.split(None, 2) + ["", ""])[:3]
    if side not in "+-" or not reason:
        print("FAIL collect_node_exporter_diff: bad line in node_exporter_diff.txt: " + line)
        sys.exit(1)
    allowed.append((side, pat))
bad = 0
for side, diff in (("-", ne - vg), ("+", vg - ne)):
    for sig in sorted(diff):
        if not any(s == side and fnmatch.fnmatchcase(sig, p) for s, p in allowed):
            print("FAIL collect_node_exporter_diff: unlisted difference %s %s" % (side, sig))
            bad += 1
common = len(ne & vg)
if common < 200:
    print("FAIL collect_node_exporter_diff: only %d series signatures in common" % common)
    bad += 1
if not bad:
    print("PASS collect_node_exporter_diff: %d signatures in common, %d + %d listed differences"
          % (common, len(ne - vg), len(vg - ne)))
sys.exit(1 if bad else 0)
PY
rc=$?
# The textfile families keep their TYPE and HELP as node_exporter serves them.
for want in '# TYPE backup_duration_seconds histogram' '# HELP backup_last_success_seconds Last good backup.' \
	'# TYPE backup_runs_total counter' "node_textfile_mtime_seconds{file=\"$tmp/textfile/backup.prom\"}"; do
	if ! grep -qF "$want" "$tmp/ne.txt"; then
		echo "FAIL collect_textfile_like_node_exporter: node_exporter itself lacks '$want'"; rc=1
	elif ! grep -qF "$want" "$tmp/vigil.txt"; then
		echo "FAIL collect_textfile_like_node_exporter: vigil lacks '$want'"; rc=1
	fi
done
[ $rc = 0 ] && echo "PASS collect_textfile_like_node_exporter"
# The same body also has to be valid OpenMetrics when asked for it.
ct=$(curl -fsS -o "$tmp/vigil.om" -w '%{content_type}' -H 'Accept: application/openmetrics-text; version=1.0.0' "http://127.0.0.1:$vp/metrics")
if [[ "$ct" == application/openmetrics-text* ]] && tail -1 "$tmp/vigil.om" | grep -qx '# EOF'; then
	echo "PASS collect_agent_openmetrics_negotiated"
else
	echo "FAIL collect_agent_openmetrics_negotiated: content-type '$ct'"; rc=1
fi
# promtool's lint complaints (camelCase, _bits) are node_exporter's names; only parse errors count.
if promtool check metrics <"$tmp/vigil.txt" 2>&1 | grep -qE 'error while linting|parsing error'; then
	echo "FAIL collect_agent_promtool_parses: $(promtool check metrics <"$tmp/vigil.txt" 2>&1 | grep -E 'error while linting|parsing error' | head -2)"; rc=1
else
	echo "PASS collect_agent_promtool_parses"
fi
exit $rc
