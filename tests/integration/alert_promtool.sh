#!/usr/bin/env bash
# Rule files against Prometheus's own checker: promtool accepts every rule
# file vigil ships, the default alerts fire on sample data (promtool test
# rules), and promtool and `vigil check rules` agree on every declarative case
# in tests/data/alert/rules/ (good: both accept with the same rule count;
# bad: both reject).
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
CASES=tests/data/alert/rules
# `vigil check rules` once main.c wires it; until then the same function
# through the unit-test binary's driver mode.
if "$VIGIL" check rules "$CASES/good/minimal.yml" >/dev/null 2>&1; then
	CHECK=("$VIGIL" check rules)
else
	CHECK=(build/asan/tests/alert_rules_test check-rules)
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if ! command -v promtool >/dev/null; then
	fail promtool_present "promtool is not installed (prometheus package)"
	exit 1
fi

for f in rules/*.yml; do
	n=$(basename "$f" .yml)
	if out=$(promtool check rules "$f" 2>&1); then
		pass "promtool_accepts_shipped_$n"
	else
		fail "promtool_accepts_shipped_$n" "$(echo "$out" | tr '\n' ' ')"
	fi
	want=$(echo "$out" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
	if got=$("${CHECK[@]}" "$f" 2>&1) && [ "$got" = "$f: $want rules found" ]; then
		pass "vigil_accepts_shipped_$n"
	else
		fail "vigil_accepts_shipped_$n" "got: $got (promtool found $want)"
	fi
done

if out=$(promtool test rules tests/data/alert/defaults_test.yml 2>&1); then
	pass promtool_test_default_alerts_fire
else
	fail promtool_test_default_alerts_fire "$(echo "$out" | head -20 | tr '\n' ' ')"
fi

agree=0; disagree=()
for f in "$CASES"/good/*.yml "$CASES"/bad/*.yml; do
	p_out=$(promtool check rules "$f" 2>&1); p_rc=$?
	v_out=$("${CHECK[@]}" "$f" 2>&1); v_rc=$?
	p_n=$(echo "$p_out" | sed -n 's/.*SUCCESS: \([0-9]*\) rules found.*/\1/p')
	if [ $p_rc = 0 ] && [ $v_rc = 0 ] && [ "$v_out" = "$f: $p_n rules found" ]; then
		agree=$((agree + 1))
	elif [ $p_rc != 0 ] && [ $v_rc = 2 ] && [[ "$v_out" == "$f:"* ]]; then
		agree=$((agree + 1))
	else
		disagree+=("$f (promtool rc=$p_rc, vigil rc=$v_rc: $v_out)")
	fi
done
if [ ${#disagree[@]} = 0 ] && [ $agree -ge 25 ]; then
	pass "promtool_and_vigil_agree_on_${agree}_cases"
else
	fail promtool_and_vigil_agree "${disagree[*]:-only $agree cases}"
fi

# Several files at once, one bad: every good one is reported, exit 2.
out=$("${CHECK[@]}" "$CASES/good/minimal.yml" "$CASES/bad/missing_expr.yml" 2>"$TMP/err"); rc=$?
if [ $rc = 2 ] && [ "$out" = "$CASES/good/minimal.yml: 1 rules found" ] &&
	grep -q "^$CASES/bad/missing_expr.yml:5:5: " "$TMP/err"; then
	pass check_rules_many_files_exit_2
else
	fail check_rules_many_files_exit_2 "rc=$rc out=$out err=$(cat "$TMP/err")"
fi
# /api/v1/rules: the same document shape and the same rule data as a real
# Prometheus serving the same files (queries aside: Prometheus reprints them).
PORT=$(free_port)
# Prometheus's own notifications go to a recording HTTP peer standing in for Alertmanager.
python3 tests/integration/alert_peers.py webhook "$TMP/am.port" "$TMP/am" 2>"$TMP/am.log" &
AMREC=$!
wait_for test -s "$TMP/am.port"
cat >"$TMP/prom.yml" <<YML
global: {evaluation_interval: 1m, external_labels: {site: lon}}
alerting:
  alertmanagers:
  - api_version: v2
    static_configs: [{targets: ["127.0.0.1:$(cat "$TMP/am.port")"]}]
rule_files: ["$PWD/rules/vigil-defaults.yml", "$PWD/$CASES/good/full.yml",
             "$PWD/tests/data/alert/template_conformance.yml"]
YML
prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.external-url=http://vigil.test:9090 --rules.alert.resend-delay=1s \
	--web.listen-address=127.0.0.1:$PORT >"$TMP/prom.log" 2>&1 &
PROM=$!
trap 'kill $PROM $AMREC 2>/dev/null; wait $PROM $AMREC 2>/dev/null; rm -rf "$TMP"' EXIT
if wait_for curl -sf "http://127.0.0.1:$PORT/api/v1/rules" &&
	curl -sf "http://127.0.0.1:$PORT/api/v1/rules" >"$TMP/prom_rules.json" &&
	build/asan/tests/alert_rules_test api-rules "$PWD/rules/vigil-defaults.yml" >"$TMP/v1.json" &&
	build/asan/tests/alert_rules_test api-rules "$PWD/$CASES/good/full.yml" >"$TMP/v2.json" &&
	build/asan/tests/alert_rules_test api-rules "$PWD/tests/data/alert/template_conformance.yml" >"$TMP/v3.json" &&
	python3 - "$TMP/prom_rules.json" "$TMP/v1.json" "$TMP/v2.json" "$TMP/v3.json" <<'PY'
import json, sys
prom = json.load(open(sys.argv[1]))
ours = [json.load(open(f)) for f in sys.argv[2:]]
assert prom["status"] == "success"
pg = prom["data"]["groups"]
vg = [g for o in ours for g in o["data"]["groups"]]
assert [g["name"] for g in pg] == [g["name"] for g in vg], ([g["name"] for g in pg], [g["name"] for g in vg])
def shape(x):
    if isinstance(x, dict):
        return {k: shape(v) for k, v in x.items()}
    if isinstance(x, list):
        return [shape(x[0])] if x else []
    return type(x).__name__.replace("int", "float")
for p, v in zip(pg, vg):
    for k in ("name", "file", "interval", "limit"):
        assert p[k] == v[k], (k, p[k], v[k])
    assert len(p["rules"]) == len(v["rules"])
    for pr, vr in zip(p["rules"], v["rules"]):
        # the evaluation may or may not have run yet in Prometheus
        for r in (pr, vr):
            for k in ("health", "lastError", "evaluationTime", "lastEvaluation", "state", "alerts", "query"):
                r.pop(k, None)
        assert pr == vr, (pr, vr)
    p0, v0 = dict(p), dict(v)
    for g in (p0, v0):
        g.pop("rules"); g.pop("evaluationTime"); g.pop("lastEvaluation")
    assert shape(p0) == shape(v0)
# key sets of every rule object, evaluated or not
for p, v in zip(pg, vg):
    for pr, vr in zip(p["rules"], v["rules"]):
        assert set(pr) - {"lastError"} <= set(vr) | {"lastError"}, (set(pr), set(vr))
PY
then pass api_v1_rules_matches_prometheus
else fail api_v1_rules_matches_prometheus "$(tail -3 "$TMP/prom.log")"; fi
# Templates: Prometheus renders the conformance rules' labels and annotations
# (Go's text/template and Prometheus's functions); vigil must render the same.
if wait_for sh -c "curl -sf http://127.0.0.1:$PORT/api/v1/alerts | grep -q '\"alertname\":\"Edge\"'" &&
	curl -sf "http://127.0.0.1:$PORT/api/v1/alerts" >"$TMP/prom_alerts.json" &&
	build/asan/tests/alert_rules_test api-alerts "$PWD/tests/data/alert/template_conformance.yml" >"$TMP/v_alerts.json" &&
	python3 - "$TMP/prom_alerts.json" "$TMP/v_alerts.json" <<'PY'
import json, sys
prom = [a for a in json.load(open(sys.argv[1]))["data"]["alerts"]
        if a["labels"]["alertname"] in ("Numbers", "Small", "Durations", "Logic", "Edge", "Queries", "Helpers")]
ours = json.load(open(sys.argv[2]))["data"]["alerts"]
key = lambda a: json.dumps(a["labels"], sort_keys=True)
mine = {key(a): a for a in ours}
assert len(prom) == 7 and len(ours) == 7, (len(prom), len(ours))
bad = []
for p in prom:
    v = mine.get(key(p))
    if v is None:
        bad.append("labels differ: prometheus %s; vigil has %s" % (p["labels"], [a["labels"] for a in ours]))
        continue
    for k in sorted(set(p["annotations"]) | set(v["annotations"])):
        if p["annotations"].get(k) != v["annotations"].get(k):
            bad.append("%s.%s: prometheus %r vigil %r" % (p["labels"]["alertname"], k,
                       p["annotations"].get(k), v["annotations"].get(k)))
    if p["value"] != v["value"] or p["state"] != v["state"]:
        bad.append("%s: value/state %s/%s vs %s/%s" % (p["labels"]["alertname"], p["value"], p["state"], v["value"], v["state"]))
    assert set(p) == set(v), (set(p), set(v))
assert not bad, "\n".join(bad)
print("compared %d alerts, %d annotations" % (len(prom), sum(len(p["annotations"]) for p in prom)))
PY
then pass templates_render_like_prometheus
else fail templates_render_like_prometheus "see above"; fi

# What Prometheus POSTs to Alertmanager and what vigil queues for it: the same
# alerts (labels with external labels, annotations, generatorURL, the fields).
# (Prometheus learns its Alertmanager targets about 5 s after start.)
wait_for sh -c "cat '$TMP'/am/*.json 2>/dev/null | grep -q '\"alertname\":\"Edge\"'" ||
	wait_for sh -c "cat '$TMP'/am/*.json 2>/dev/null | grep -q '\"alertname\":\"Edge\"'"
if cat "$TMP"/am/*.json 2>/dev/null | grep -q '"alertname":"Edge"' &&
	build/asan/tests/alert_rules_test notify-json "$PWD/tests/data/alert/template_conformance.yml" >"$TMP/v_notify.json" &&
	python3 - "$TMP/am" "$TMP/v_notify.json" <<'PY'
import glob, json, sys
prom = {}
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    for a in json.load(open(f)):
        prom[json.dumps(a["labels"], sort_keys=True)] = a
ours = json.load(open(sys.argv[2]))
assert len(ours) == 7, len(ours)
for v in ours:
    p = prom.get(json.dumps(v["labels"], sort_keys=True))
    assert p is not None, ("no Prometheus alert with labels", v["labels"], list(prom))
    assert set(p) == set(v), (sorted(p), sorted(v))
    assert p["annotations"] == v["annotations"], (p["annotations"], v["annotations"])
    assert p["generatorURL"] == v["generatorURL"], (p["generatorURL"], v["generatorURL"])
print("compared %d notifications" % len(ours))
PY
then pass notifications_match_what_prometheus_sends
else fail notifications_match_what_prometheus_sends "see above"; fi
[ $FAILS = 0 ]
