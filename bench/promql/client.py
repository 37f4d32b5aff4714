#!/usr/bin/env python3
"""Time PromQL range queries against vigil, Prometheus and VictoriaMetrics.

Usage: client.py SAMPLES RUNS VIGIL_URL VIGIL_TOKEN PROM_URL VM_URL

Per query shape and step count: 2 warm-ups, then RUNS timed runs per system
(wall time of one HTTP request, new connection each); prints p50/p99 per
system and the ratios vigil/Prometheus and vigil/VictoriaMetrics. Combos
where a warm-up takes over 2 s on any system are skipped and listed. The
answers are compared: series count, and values within 1e-6 relative for the
first few series (matched by labels); mismatches are printed.
"""
import json
import sys
import time
import urllib.parse
import urllib.request

T0 = 1700000000
SKIP_S = 2.0


def fetch(base, token, q, start, end, step):
    qs = urllib.parse.urlencode({'query': q, 'start': '%d' % start, 'end': '%d' % end, 'step': '%d' % step})
    req = urllib.request.Request(base + '/api/v1/query_range?' + qs)
    if token:
        req.add_header('Authorization', 'Bearer ' + token)
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        body = r.read()
    return time.perf_counter() - t, body


def pct(xs, p):
    xs = sorted(xs)
    i = min(len(xs) - 1, max(0, int(round(p / 100.0 * len(xs) + 0.5)) - 1))
    return xs[i]


def result_map(body):
    d = json.loads(body)
    if d.get('status') != 'success':
        raise RuntimeError(d.get('error', 'status ' + str(d.get('status'))))
    out = {}
    for s in d['data']['result']:
        key = tuple(sorted((k, v) for k, v in s['metric'].items()))
        out[key] = {int(round(float(t))): float(v) for t, v in s['values']}
    return out


def compare(name, ref, other):
    """Mismatch text between the reference (vigil) and another answer, or ''."""
    if len(ref) != len(other):
        return '%s: %d series vs vigil %d' % (name, len(other), len(ref))
    for key in sorted(ref)[:5]:
        if key not in other:
            return '%s: series %s missing' % (name, dict(key))
        a, b = ref[key], other[key]
        if set(a) != set(b):
            return '%s: %s: %d points vs vigil %d' % (name, dict(key), len(b), len(a))
        for t in a:
            x, y = a[t], b[t]
            if abs(x - y) > 1e-6 * max(abs(x), abs(y), 1e-300) and not (x != x and y != y):
                return '%s: %s @%d: %r vs vigil %r' % (name, dict(key), t, y, x)
    return ''


def main():
    samples, runs = int(sys.argv[1]), int(sys.argv[2])
    vurl, vtok, purl, mmurl = sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
    systems = (('vigil', vurl, vtok), ('prometheus', purl, ''), ('victoria', mmurl, ''))
    end = T0 + (samples - 1) * 10
    span = end - T0
    shapes = ['a_X', 'rate(a_X[1m])', 'sum(a_X)', 'sum by (l) (rate(a_X[5m]))', 'a_X + a_X',
              'topk(5, a_X)', 'histogram_quantile(0.9, sum by (le) (rate(h_X_bucket[5m])))']
    sizes = ['one', 'ten', 'hundred', 'two_thousand']
    rows, skipped, mism, errors = [], [], [], []
    tot = {s[0]: 0.0 for s in systems}
    for shape in shapes:
        for size in sizes:
            if shape.startswith('histogram') and size == 'two_thousand':
                continue
            q = shape.replace('X', size)
            for steps in (1, 10, 100, 1000):
                # Steps are multiples of the 10 s spacing and the range ends on a
                # multiple of the step: VictoriaMetrics aligns ranges that way, so
                # all three then evaluate at the same instants.
                step = max(10, span // steps // 10 * 10)
                qend = end - end % step
                start = qend - (steps - 1) * step
                label = '%s steps=%d' % (q, steps)
                try:
                    slow = False
                    answers = {}
                    for name, url, tok in systems:
                        for _ in range(2):
                            dt, body = fetch(url, tok, q, start, qend, step)
                        answers[name] = result_map(body)
                        if dt > SKIP_S:
                            slow = True
                            skipped.append('%s (%s took %.1f s)' % (label, name, dt))
                            break
                    if slow:
                        continue
                    if not answers['vigil']:
                        mism.append('%s: empty answer from vigil' % label)
                    for name in ('prometheus', 'victoria'):
                        m = compare(name, answers['vigil'], answers[name])
                        if m:
                            mism.append('%s: %s' % (label, m))
                    lat = {}
                    for name, url, tok in systems:
                        lat[name] = [fetch(url, tok, q, start, qend, step)[0] for _ in range(runs)]
                        tot[name] += sum(lat[name])
                    rows.append((label, lat))
                except Exception as e:  # report and go on with the next combo
                    errors.append('%s: %s' % (label, e))
                print('.', end='', file=sys.stderr, flush=True)
    print(file=sys.stderr)
    w = max(len(r[0]) for r in rows) if rows else 10
    print('%-*s %9s %9s %9s %9s %9s %9s %7s %7s' % (w, 'query (range, ms)', 'vigil p50', 'p99', 'prom p50', 'p99',
                                                     'vm p50', 'p99', 'v/prom', 'v/vm'))
    for label, lat in rows:
        v50, p50, m50 = (pct(lat[n], 50) for n in ('vigil', 'prometheus', 'victoria'))
        v99, p99, m99 = (pct(lat[n], 99) for n in ('vigil', 'prometheus', 'victoria'))
        print('%-*s %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %7.2f %7.2f' % (
            w, label, v50 * 1e3, v99 * 1e3, p50 * 1e3, p99 * 1e3, m50 * 1e3, m99 * 1e3, v50 / p50, v50 / m50))
    print('total of all timed runs (%d combos x %d runs): vigil %.2f s, prometheus %.2f s, victoria %.2f s; '
          'vigil/prometheus %.2f, vigil/victoria %.2f' % (len(rows), runs, tot['vigil'], tot['prometheus'],
                                                          tot['victoria'], tot['vigil'] / max(tot['prometheus'], 1e-9),
                                                          tot['vigil'] / max(tot['victoria'], 1e-9)))
    print('skipped (> %.0f s on some system): %s' % (SKIP_S, '; '.join(skipped) if skipped else 'none'))
    print('answer mismatches (vs vigil): %d' % len(mism))
    for m in mism:
        print('  MISMATCH ' + m)
    print('errors: %d' % len(errors))
    for e in errors:
        print('  ERROR ' + e)


if __name__ == '__main__':
    main()
