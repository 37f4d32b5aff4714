#!/usr/bin/env bash
# The same rule file, evaluated by vigil and by a real Prometheus (Debian's
# 2.42) on the same data, fires the same alerts at the same evaluation times.
#
# Both servers run live on loopback with the same rule file (same absolute
# path, so Prometheus's per-group evaluation slot — hash(file, group) mod
# interval — is the same in both) and the same evaluation interval (3 s).
# The whole data timeline, from 20 s before the scenario to 60 s after it,
# is remote-written to both before the scenario starts (future timestamps
# included), so an evaluation at time t sees exactly the samples <= t in
# either server no matter how late in wall time it runs. When it is over,
# every sample the rules wrote (ALERTS, ALERTS_FOR_STATE, a recording rule
# feeding an alert, a heartbeat recording rule marking each evaluation) is
# read back from both and must be identical: labels, millisecond timestamp
# and value. Tolerance: none inside the window both were evaluating in.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-avp-XXXXXX); chmod 755 "$T"
PIDS=()
cleanup() { [ -n "${KEEP:-}" ] && return; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
H=tests/integration/alert_vs_prometheus.py
if ! command -v prometheus >/dev/null; then fail avp/prometheus_present "prometheus is not installed"; exit 1; fi
VP=$(free_port) PP=$(free_port)
cat >"$T/rules.yml" <<'YML'
groups:
  - name: compare
    interval: 3s
    rules:
      - record: cmp_heartbeat
        expr: vector(1)
      - record: job:cmp_temp:max
        expr: max by (job) (cmp_temp)
      - alert: CmpHighTemp
        expr: cmp_temp > 50
        for: 6s
        labels:
          severity: page
          where: "{{ $labels.instance }}-rack"
        annotations:
          summary: "{{ $labels.instance }} is at {{ $value }}"
      - alert: CmpJobHot
        expr: job:cmp_temp:max > 80
        labels:
          severity: info
      - alert: CmpFlap
        expr: cmp_flap > 0
        keep_firing_for: 6s
YML
cat >"$T/prom.yml" <<YML
global:
  evaluation_interval: 3s
rule_files: ["$T/rules.yml"]
YML
cat >"$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
host:
  enabled: false
rule_files:
  - $T/rules.yml
alerting:
  evaluation_interval: 3s
YML
prometheus --config.file="$T/prom.yml" --storage.tsdb.path="$T/prom" --web.listen-address=127.0.0.1:$PP \
	--web.enable-remote-write-receiver >"$T/prom.log" 2>&1 & PIDS+=($!)
nice "$VIGIL" serve -c "$T/vigil.yml" >"$T/out" 2>"$T/err" & PIDS+=($!)
wait_for grep -q serving "$T/out" || { fail avp/vigil_starts "$(grep -v level=info "$T/err" | tail -3)"; exit 1; }
wait_for curl -sf "http://127.0.0.1:$PP/-/ready" || { fail avp/prometheus_starts "$(tail -3 "$T/prom.log")"; exit 1; }
TOK=$("$VIGIL" token create -d "$T/data" --role operator avp)
# The scenario starts 9 s from now (three evaluations after both are up),
# on a whole second.
START=$(( ($(date +%s) + 9) * 1000 ))
if python3 "$H" push "$START" "http://127.0.0.1:$VP/api/v1/write" "$TOK" "http://127.0.0.1:$PP/api/v1/write" 2>"$T/push"; then
	pass avp/same_data_written_to_both
else
	fail avp/same_data_written_to_both "$(tail -2 "$T/push")"; exit 1
fi
# At +23.5 s the last evaluation is in (+20.5, +23.5]: a firing, c just
# pending, b gone, CmpFlap and CmpJobHot firing. The alerts API of both must
# agree (read between the same two evaluations).
for i in $(seq 1 400); do [ "$(date +%s%3N)" -ge $(( START + 23500 )) ] && break; sleep 0.1; done
python3 "$H" alerts "http://127.0.0.1:$PP" "http://127.0.0.1:$VP" "$TOK" || ALERTS_RC=1
# Last state change is at +40 s (+24 s + keep_firing_for for CmpFlap); wait
# for the evaluation after it and one more.
END=$(( START / 1000 + 48 ))
for i in $(seq 1 80); do [ "$(date +%s)" -ge "$END" ] && break; sleep 1; done
AT=$(date +%s)
for e in cmp_heartbeat ALERTS ALERTS_FOR_STATE 'job:cmp_temp:max'; do
	python3 "$H" series "http://127.0.0.1:$PP" - "$e[2m]" "$AT" "$T/p.$e.json" &&
		python3 "$H" series "http://127.0.0.1:$VP" "$TOK" "$e[2m]" "$AT" "$T/v.$e.json" ||
		{ fail avp/read_back "$e: $(tail -1 "$T/err")"; exit 1; }
done
python3 - "$T" <<'PY'
import json, sys, glob
for side in "pv":
    rows = []
    for f in sorted(glob.glob("%s/%s.*.json" % (sys.argv[1], side))):
        rows += json.load(open(f))
    json.dump(sorted(rows), open("%s/%s.all" % (sys.argv[1], side), "w"))
PY
python3 "$H" compare "$START" "$T/p.all" "$T/v.all"
rc=$?
[ "${ALERTS_RC:-0}" = 0 ] || rc=1
[ $rc = 0 ] || { [ -n "${KEEP:-}" ] && echo "kept $T"; }
exit $rc
