#!/usr/bin/env bash
# promql_diff.sh — compares vigil's PromQL engine with a real Prometheus.
# Generates a deterministic OpenMetrics data set and >= 300 queries, backfills
# the data into Prometheus (promtool tsdb create-blocks-from openmetrics), runs
# Prometheus on a free loopback port over that storage, records its answers,
# then has build/asan/conformance/promql_diff load the same data into memstore
# and compare every answer within float tolerance (one PASS/FAIL per query).
#   promql_diff.sh            compare live against Prometheus
#   promql_diff.sh --record   also refresh tests/conformance/promql_diff/
#                             (the golden files the offline conformance run uses)
set -u
cd "$(dirname "$0")/../.."
drv=build/asan/conformance/promql_diff
gold=tests/conformance/promql_diff
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
	echo "FAIL promql_diff: prometheus/promtool not installed (scripts/install-deps)"; exit 1
fi
[ -x "$drv" ] || { echo "FAIL promql_diff: $drv not built (make unit-bin)"; exit 1; }
tmp=$(mktemp -d)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM

python3 - "$tmp" <<'PY' || { echo "FAIL promql_diff: generating the data set failed"; exit 1; }
import math, random, sys
out = sys.argv[1]
random.seed(42)
T0 = 1700000000          # fixed, so the golden files are reproducible
N = 480                  # 2h of 15s scrapes
ts = [T0 + 7 + 15 * k for k in range(N)]   # 7s off the minute: no sample sits on a window edge
lines = []
def series(name, labels, vals):
    lab = ",".join('%s="%s"' % kv for kv in labels)
    for t, v in zip(ts, vals):
        if v is None:
            continue
        vs = "NaN" if isinstance(v, float) and math.isnan(v) else repr(float(v))
        lines.append("%s{%s} %s %d" % (name, lab, vs, t) if lab else "%s %s %d" % (name, vs, t))
for job in ("api", "web"):
    for inst in ("a", "b", "c"):
        for code in ("200", "500"):
            v, vals = random.randint(0, 100), []
            for k in range(N):
                v += random.randint(0, 10) if code == "200" else random.randint(0, 2)
                if job == "web" and inst == "b" and code == "200" and k == 200:
                    v = random.randint(0, 5)          # counter reset
                vals.append(v)
            if job == "api" and inst == "c":
                vals = [None] * 120 + vals[120:]      # starts 30m late
            series("http_requests_total", [("code", code), ("instance", inst), ("job", job)], vals)
for inst in ("a", "b", "c"):
    for sensor in ("cpu", "disk"):
        v, vals = 40.0 + random.random() * 10, []
        for k in range(N):
            v += random.gauss(0, 0.7)
            vals.append(round(v, 3))
        series("node_temp_celsius", [("instance", inst), ("sensor", sensor)], vals)
for job in ("api", "web"):
    for inst in ("a", "b", "c"):
        vals = [0 if (job == "web" and inst == "a" and 300 <= k < 330) else 1 for k in range(N)]
        if job == "api" and inst == "b":
            vals = [v if not (200 <= k < 240) else None for k, v in enumerate(vals)]  # 10m gap
        series("up", [("instance", inst), ("job", job)], vals)
les = ["0.05", "0.1", "0.5", "1", "+Inf"]
for job in ("api", "web"):
    counts, s, c, hist = [0] * 5, 0.0, 0, {le: [] for le in les}
    sums, cnts = [], []
    for k in range(N):
        for _ in range(random.randint(5, 30)):
            x = random.expovariate(4 if job == "api" else 1.5)
            s += x; c += 1
            for i, le in enumerate(les):
                if le == "+Inf" or x <= float(le):
                    counts[i] += 1
        for i, le in enumerate(les):
            hist[le].append(counts[i])
        sums.append(round(s, 6)); cnts.append(c)
    for le in les:
        series("req_duration_seconds_bucket", [("job", job), ("le", le)], hist[le])
    series("req_duration_seconds_sum", [("job", job)], sums)
    series("req_duration_seconds_count", [("job", job)], cnts)
series("queue_depth", [], [random.randint(0, 50) if k % 37 else float("nan") for k in range(N)])
series("build_info", [("version", "1.2.3")], [1] * N)
open(out + "/data.om", "w").write("\n".join(lines) + "\n# EOF\n")

# queries: MODE \t PARAMS \t QUERY
C, G, H = "http_requests_total", "node_temp_celsius", "req_duration_seconds_bucket"
qs = []
sel = [C, C + '{job="api"}', C + '{code=~"5.."}', C + '{instance!="a",code="200"}', G, G + '{sensor="cpu"}',
       "up", "up == 0", "queue_depth", "build_info", C + " offset 10m", G + " offset 30m"]
qs += sel
for r in ("1m", "5m", "10m"):
    for f in ("rate", "irate", "increase", "resets", "changes"):
        qs.append("%s(%s[%s])" % (f, C, r))
    for f in ("delta", "idelta", "deriv", "changes"):
        qs.append("%s(%s[%s])" % (f, G, r))
for r in ("5m", "30m"):
    for f in ("avg", "min", "max", "sum", "count", "stddev", "stdvar", "last", "present"):
        qs.append("%s_over_time(%s[%s])" % (f, G, r))
    qs.append("quantile_over_time(0.9, %s[%s])" % (G, r))
    qs.append("quantile_over_time(0.5, %s[%s])" % (C, r))
    qs.append("max_over_time(queue_depth[%s])" % r)
for a in ("sum", "avg", "min", "max", "count", "stddev", "stdvar", "group"):
    qs.append("%s(rate(%s[5m]))" % (a, C))
    qs.append("%s by (job) (rate(%s[5m]))" % (a, C))
    qs.append("%s without (instance) (%s)" % (a, G))
    qs.append("%s by (sensor) (%s)" % (a, G))
for k in ("1", "2", "5"):
    qs.append("topk(%s, rate(%s[5m]))" % (k, C))
    qs.append("bottomk(%s, %s)" % (k, G))
    qs.append("topk by (job) (%s, rate(%s[5m]))" % (k, C))
for q in ("0", "0.25", "0.5", "0.9", "1", "1.5", "-1"):
    qs.append("quantile(%s, %s)" % (q, G))
qs += ['count_values("v", up)', 'count_values by (job) ("v", up)', "count(up == 1) by (job)"]
for q in ("0.5", "0.9", "0.99", "0.1"):
    qs.append("histogram_quantile(%s, rate(%s[5m]))" % (q, H))
    qs.append("histogram_quantile(%s, sum by (le) (rate(%s[10m])))" % (q, H))
    qs.append("histogram_quantile(%s, sum by (le, job) (increase(%s[30m])))" % (q, H))
qs += ["rate(req_duration_seconds_sum[5m]) / rate(req_duration_seconds_count[5m])",
       "sum(rate(%s[5m])) by (job) / ignoring(job) group_left sum(rate(%s[5m]))" % (C, C),
       'sum by (job, instance) (rate(%s{code="500"}[5m])) / on(job, instance) sum by (job, instance) (rate(%s[5m]))' % (C, C),
       "rate(%s[5m]) * on(job, instance) group_left up" % C,
       "up + ignoring(job) group_left build_info",
       "%s > 45" % G, "%s > bool 45" % G, "45 < %s" % G, "%s == bool %s" % (G, G),
       "%s - %s offset 5m" % (G, G), "%s / 2 + 1" % G, "2 ^ %s / 1e40" % G, "%s %% 7" % G,
       "-%s" % G, "%s atan2 10" % G, "up and %s" % C, "up or rate(%s[5m])" % C, "%s unless up" % C,
       "up unless on(job) (up == 0)", "rate(%s[5m]) and on(job) (up == 0)" % C,
       'up{job="api"} or on(instance) up{job="web"}', "1 + 2 * 3", "2 ^ 3 ^ 2", "(1 + 2) * 3 > bool 8",
       "time()", "vector(time())", "scalar(queue_depth)", "scalar(up)", "vector(1) + 1"]
for f in ("abs", "ceil", "floor", "round", "exp", "ln", "log2", "log10", "sqrt", "sgn", "timestamp",
          "hour", "minute", "day_of_week", "day_of_month", "day_of_year", "days_in_month", "month", "year",
          "sort", "sort_desc", "absent", "deg", "rad", "sin", "cos", "tanh"):
    qs.append("%s(%s)" % (f, G if f not in ("exp",) else G + " / 10"))
qs += ["round(%s, 0.5)" % G, "clamp(%s, 42, 48)" % G, "clamp_min(%s, 45)" % G, "clamp_max(%s, 45)" % G,
       'label_replace(up, "host", "h-$1", "instance", "(.*)")', 'label_replace(up, "job", "", "job", ".*")',
       'label_join(up, "id", "/", "job", "instance")', "absent(nonexistent)", 'absent(nonexistent{job="x"})',
       "absent_over_time(up[5m])", 'absent_over_time(up{instance="b",job="api"}[2m])',
       "predict_linear(%s[30m], 3600)" % G, "predict_linear(%s[10m], 600)" % C,
       "max_over_time(rate(%s[5m])[30m:1m])" % C, "avg_over_time(%s[10m:30s])" % G,
       "min_over_time(sum(rate(%s[5m]))[20m:2m])" % C, "rate(%s[10m:1m])" % C,
       "sum_over_time(up[30m:5m] offset 10m)", "count_over_time(up[10m])", "changes(up[30m])",
       "timestamp(up)", "timestamp(%s offset 1m)" % G, "%s @ %d" % (G, T0 + 3600), "rate(%s[5m] @ %d)" % (C, T0 + 3000),
       "sum by (job) (up) * on(job) group_right count by (job, instance) (up)",
       "sort(sum by (instance) (rate(%s[5m])))" % C, "sort_desc(max by (sensor) (%s))" % G]
times = [T0 + 1800, T0 + 3660, T0 + 3300, T0 + 5400, T0 + 7140]
rows = []
for i, q in enumerate(qs):
    t = times[i % len(times)]
    rows.append("instant\t%d\t%s" % (t, q))
    if not q.startswith("sort") and "@" not in q:
        step = (60, 300, 120)[i % 3]
        rows.append("range\t%d,%d,%d\t%s" % (T0 + 1200, T0 + 7200, step, q))
open(out + "/queries.tsv", "w").write("\n".join(rows) + "\n")
PY

promtool tsdb create-blocks-from openmetrics "$tmp/data.om" "$tmp/tsdb" >"$tmp/promtool.log" 2>&1 ||
	{ echo "FAIL promql_diff: promtool could not backfill"; tail -5 "$tmp/promtool.log"; exit 1; }
printf 'global:\n  scrape_interval: 1m\n' >"$tmp/prometheus.yml"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--storage.tsdb.retention.time=100y --web.listen-address="127.0.0.1:$port" \
	--query.lookback-delta=5m >"$tmp/prometheus.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 && break
	sleep 0.2
done
curl -sf "http://127.0.0.1:$port/-/ready" >/dev/null 2>&1 ||
	{ echo "FAIL promql_diff: prometheus did not become ready"; tail -5 "$tmp/prometheus.log"; exit 1; }

# Record Prometheus's answer for each query: MODE \t PARAMS \t QUERY \t JSON
python3 - "$tmp" "$port" <<'PY' || { echo "FAIL promql_diff: querying prometheus failed"; exit 1; }
import sys, urllib.error, urllib.parse, urllib.request
tmp, port = sys.argv[1], sys.argv[2]
out = open(tmp + "/expected.tsv", "w")
for row in open(tmp + "/queries.tsv"):
    mode, params, q = row.rstrip("\n").split("\t", 2)
    if mode == "instant":
        args = {"query": q, "time": params}
        path = "query"
    else:
        s, e, st = params.split(",")
        args = {"query": q, "start": s, "end": e, "step": st}
        path = "query_range"
    url = "http://127.0.0.1:%s/api/v1/%s?%s" % (port, path, urllib.parse.urlencode(args))
    try:
        body = urllib.request.urlopen(url, timeout=30).read().decode()
    except urllib.error.HTTPError as e:
        body = e.read().decode()
    out.write("%s\t%s\t%s\t%s\n" % (mode, params, q, body.replace("\n", " ")))
PY
if [ "${1:-}" = --record ]; then
	cp "$tmp/data.om" "$tmp/expected.tsv" "$gold/"
	echo "recorded $(wc -l <"$tmp/expected.tsv") answers into $gold/"
fi
"$drv" --dir "$tmp"
