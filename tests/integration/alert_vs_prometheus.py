#!/usr/bin/env python3
"""Helper of alert_vs_prometheus.sh: the scenario's data, remote_write to
both servers, and the comparison of what their rules wrote.

  push START_MS URL TOKEN URL2          remote-write the whole timeline to both
  series URL TOKEN EXPR TIME_S OUT      save EXPR's range result (a JSON list)
  compare START_MS PROM.json VIGIL.json  print PASS/FAIL lines; exit 1 on a FAIL
  alerts PROM_URL VIGIL_URL TOKEN       /api/v1/alerts of both between the same two
                                        evaluations: PASS/FAIL line; exit 1 on a FAIL

Remote write is encoded here (protobuf by hand, snappy as literal blocks,
which every snappy decoder accepts), so no Python package is needed.
"""
import datetime
import json
import struct
import sys
import time
import urllib.parse
import urllib.request

# The timeline, in seconds after START (data every second from -20 s to +60 s).
#   cmp_temp{instance="a"} 60 in [5, 30)    pending -> firing (for: 6s) -> resolved
#   cmp_temp{instance="b"} 60 in [10, 14)   pending, gone before `for` passes: never fires
#   cmp_temp{instance="c"} 90 in [20, 40)   fires; max by (job) > 80 fires CmpJobHot
#   cmp_flap{instance="x"} 1 in [15, 24)    fires at once, keep_firing_for: 6s holds it
SPAN = (-20, 61)


def value(series, inst, t):
    if series == "cmp_flap":
        return 1.0 if 15 <= t < 24 else 0.0
    hot = {"a": (5, 30, 60.0), "b": (10, 14, 60.0), "c": (20, 40, 90.0)}[inst]
    return hot[2] if hot[0] <= t < hot[1] else 20.0


def timeline(start_ms):
    out = []
    for name, insts in (("cmp_temp", "abc"), ("cmp_flap", "x")):
        for inst in insts:
            labels = {"__name__": name, "instance": inst, "job": "cmp"}
            samples = [(value(name, inst, t), start_ms + t * 1000) for t in range(*SPAN)]
            out.append((labels, samples))
    return out


def varint(n):
    b = bytearray()
    while True:
        c = n & 0x7F
        n >>= 7
        if n:
            b.append(c | 0x80)
        else:
            b.append(c)
            return bytes(b)


def field(num, payload):
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def write_request(series):
    body = b""
    for labels, samples in series:
        ts = b"".join(field(1, field(1, k.encode()) + field(2, v.encode())) for k, v in sorted(labels.items()))
        for v, t in samples:
            ts += field(2, b"\x09" + struct.pack("<d", v) + b"\x10" + varint(t))
        body += field(1, ts)
    return body


def snappy_literal(data):
    out = bytearray(varint(len(data)))
    for i in range(0, len(data), 65536):
        chunk = data[i:i + 65536]
        n = len(chunk) - 1
        if n < 60:
            out.append(n << 2)
        elif n < 256:
            out += bytes([60 << 2, n])
        else:
            out += bytes([61 << 2]) + struct.pack("<H", n)
        out += chunk
    return bytes(out)


def post(url, token, body):
    req = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy",
        "X-Prometheus-Remote-Write-Version": "0.1.0"})
    if token != "-":
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        if r.status // 100 != 2:
            raise SystemExit("%s: HTTP %d" % (url, r.status))


def series(url, token, expr, at, out):
    q = urllib.parse.urlencode({"query": expr, "time": at})
    req = urllib.request.Request(url + "/api/v1/query?" + q)
    if token != "-":
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        d = json.load(r)["data"]
    rows = []
    for s in d["result"]:
        m = s["metric"]
        for t, v in s.get("values", []):
            rows.append([json.dumps(m, sort_keys=True), round(float(t) * 1000), v])
    json.dump(sorted(rows), open(out, "w"))


def get(url, token, path):
    req = urllib.request.Request(url + path)
    if token != "-":
        req.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)["data"]


def last_eval(url, token):
    r = get(url, token, "/api/v1/query?" + urllib.parse.urlencode({"query": "timestamp(cmp_heartbeat)"}))["result"]
    return r[0]["value"][1] if r else None


def ms(rfc3339):
    # Prometheus prints nanoseconds, vigil milliseconds: compare milliseconds
    base, _, frac = rfc3339.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return int(t.timestamp()) * 1000 + int((frac + "000")[:3])


def alerts(purl, vurl, token):
    """The two /api/v1/alerts answers, taken after the same evaluation in both
    (the heartbeat's timestamp is the same before and after reading them)."""
    for _ in range(20):
        before = (last_eval(purl, "-"), last_eval(vurl, token))
        pa, va = get(purl, "-", "/api/v1/alerts")["alerts"], get(vurl, token, "/api/v1/alerts")["alerts"]
        after = (last_eval(purl, "-"), last_eval(vurl, token))
        if before == after and before[0] == before[1] and before[0] is not None:
            break
        time.sleep(0.3)
    else:
        print("FAIL avp/same_api_alerts: never read both after the same evaluation (%s)" % (before,))
        return 1

    def norm(a):
        return (json.dumps(a["labels"], sort_keys=True), json.dumps(a["annotations"], sort_keys=True),
                a["state"], ms(a["activeAt"]), a["value"])
    p, v = sorted(norm(a) for a in pa), sorted(norm(a) for a in va)
    states = sorted({a["state"] for a in pa})
    if p == v and states == ["firing", "pending"]:
        print("PASS avp/same_api_alerts (%d alerts, labels, annotations, state, activeAt, value)" % len(p))
        return 0
    print("FAIL avp/same_api_alerts: prometheus %s vigil %s" % ([x for x in p if x not in v][:3], [x for x in v if x not in p][:3]) +
          ("" if p != v else " (states %s: the scenario did not reach pending and firing at once)" % states))
    return 1


def compare(start_ms, pfile, vfile):
    prom, vig = json.load(open(pfile)), json.load(open(vfile))
    fails = 0

    def check(name, ok, why):
        nonlocal fails
        print(("PASS %s" % name) if ok else ("FAIL %s: %s" % (name, why)))
        fails += 0 if ok else 1

    def of(rows, name):
        return [r for r in rows if json.loads(r[0])["__name__"] == name]

    hp = sorted(r[1] for r in of(prom, "cmp_heartbeat"))
    hv = sorted(r[1] for r in of(vig, "cmp_heartbeat"))
    if not hp or not hv:
        check("avp/both_evaluated", False, "heartbeats: prometheus %d, vigil %d" % (len(hp), len(hv)))
        return 1
    # Both must have been evaluating before the scenario starts, so alert
    # state cannot depend on when each server happened to start.
    lo, hi = start_ms - 1000, min(hp[-1], hv[-1])
    check("avp/both_evaluating_before_scenario", hp[0] < lo and hv[0] < lo,
          "first evaluation prometheus %d, vigil %d, scenario starts %d" % (hp[0], hv[0], start_ms))
    wp = [t for t in hp if lo <= t <= hi]
    wv = [t for t in hv if lo <= t <= hi]
    check("avp/same_evaluation_times (%d evaluations)" % len(wp), wp == wv and len(wp) >= 15,
          "only in prometheus %s, only in vigil %s" % (sorted(set(wp) - set(wv))[:5], sorted(set(wv) - set(wp))[:5]))

    def window(rows):
        return sorted(r for r in rows if lo <= r[1] <= hi)

    def rel(t):
        return (t - start_ms) / 1000.0

    def alerts(rows, alert, state=None, **lab):
        return [r[1] for r in of(rows, "ALERTS") if json.loads(r[0])["alertname"] == alert and
                (state is None or json.loads(r[0])["alertstate"] == state) and
                all(json.loads(r[0]).get(k) == v for k, v in lab.items())]

    p = window(prom)
    # The scenario happened as worked out by hand (on Prometheus's side),
    # so an agreement below is not two empty sets.
    a_pend, a_fire = alerts(p, "CmpHighTemp", "pending", instance="a"), alerts(p, "CmpHighTemp", "firing", instance="a")
    check("avp/prometheus_for_pending_firing_resolved",
          a_pend and a_fire and max(a_pend) < min(a_fire) and rel(min(a_pend)) >= 5 and
          min(a_fire) - min(a_pend) >= 6000 and rel(max(a_fire)) < 30,
          "pending at %s, firing at %s" % ([rel(t) for t in a_pend], [rel(t) for t in a_fire]))
    check("avp/prometheus_short_blip_never_fires",
          alerts(p, "CmpHighTemp", "pending", instance="b") and not alerts(p, "CmpHighTemp", "firing", instance="b"),
          "b: %s" % [r for r in of(p, "ALERTS") if '"b"' in r[0]])
    hot = [r for r in of(p, "ALERTS") if json.loads(r[0])["alertname"] == "CmpHighTemp" and
           json.loads(r[0])["alertstate"] == "firing"]
    check("avp/prometheus_multi_series_labels_from_expr",
          {json.loads(r[0])["where"] for r in hot} == {"a-rack", "c-rack"}, "firing: %s" % {r[0] for r in hot})
    jh = alerts(p, "CmpJobHot", "firing", job="cmp")
    check("avp/prometheus_recording_rule_feeds_alert", jh and 20 <= rel(min(jh)) < 24 and rel(max(jh)) < 43,
          "CmpJobHot firing at %s" % [rel(t) for t in jh])
    fl = alerts(p, "CmpFlap", "firing")
    check("avp/prometheus_keep_firing_for_holds",
          fl and any(rel(t) > 24 for t in fl) and rel(max(fl)) < 24 + 6 + 1,
          "CmpFlap firing at %s" % [rel(t) for t in fl])
    # The claim itself: every sample every rule wrote, at every evaluation
    # in the common window, is the same in vigil (labels, timestamp, value).
    for name in ("ALERTS", "ALERTS_FOR_STATE", "job:cmp_temp:max"):
        sp, sv = window(of(prom, name)), window(of(vig, name))
        onlyp = [r for r in sp if r not in sv]
        onlyv = [r for r in sv if r not in sp]
        check("avp/same_%s_samples (%d)" % (name.replace(":", "_"), len(sp)), sp == sv and len(sp) > 0,
              "only in prometheus %s; only in vigil %s" % (onlyp[:3], onlyv[:3]))
    return 1 if fails else 0


def main():
    cmd = sys.argv[1]
    if cmd == "push":
        body = snappy_literal(write_request(timeline(int(sys.argv[2]))))
        post(sys.argv[3], sys.argv[4], body)
        post(sys.argv[5], "-", body)
    elif cmd == "series":
        series(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6])
    elif cmd == "alerts":
        sys.exit(alerts(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif cmd == "compare":
        sys.exit(compare(int(sys.argv[2]), sys.argv[3], sys.argv[4]))
    else:
        raise SystemExit("usage: see the top of this file")


if __name__ == "__main__":
    main()
