#!/usr/bin/env bash
# Vendor profiles against values worked out by hand from the recordings
# (tests/data/snmp/expected/*.txt, format in its README.md). Each recording is
# read in place from ../shared/testdata/snmp (the LibreNMS ones are GPL-3.0 and
# stay there), served by `vigil snmpsim`, polled once by `vigil snmppoll` with
# the repository's profiles, and every expected sample must be there with the
# expected value. Prints a per-device table.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/snmp_lib.sh
TD=${VIGIL_TESTDATA:-../shared/testdata}
[ -d "$TD/snmp" ] || TD=/work/shared/testdata
tmp=$(mktemp -d)
sim_pid=
cleanup() { [ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
EXP=tests/data/snmp/expected

V=$(snmp_bin "$tmp") || { echo "FAIL snmp_expected: cannot build the snmp driver"; exit 1; }
mkdir "$tmp/recs"
devs=()
for f in "$EXP"/*.txt; do
	rec=$(sed -n 's/^@recording \(.*\)$/\1/p' "$f")
	name=$(basename "$rec")
	if [ ! -f "$TD/snmp/$rec.snmprec" ]; then
		echo "FAIL snmp_expected_$name: recording $TD/snmp/$rec.snmprec missing"
		exit 1
	fi
	ln -s "$(realpath "$TD/snmp/$rec.snmprec")" "$tmp/recs/$name.snmprec"
	devs+=("$name")
done
"$V" snmpsim "$tmp/recs" --listen 127.0.0.1:0 2>"$tmp/sim.log" &
sim_pid=$!
addr=
for _ in $(seq 50); do
	addr=$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/sim.log")
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "FAIL snmp_expected: simulator did not start: $(cat "$tmp/sim.log")"; exit 1; }

args=()
for d in "${devs[@]}"; do args+=("name=$d,addr=$addr,v=2c,c=$d,t=2"); done
"$V" snmppoll --profiles profiles "${args[@]}" >"$tmp/poll.out" 2>"$tmp/poll.err"
rc=$?
[ $rc -eq 0 ] || echo "snmppoll exited $rc: $(tail -5 "$tmp/poll.err")"

python3 - "$tmp/poll.out" "$EXP" <<'PEOF'
import glob, os, re, sys
samples = {}
lab = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')
for line in open(sys.argv[1]):
    m = re.match(r'^(\w+)\{(.*)\} (\S+)$', line.rstrip("\n"))
    if m:
        samples.setdefault(m.group(1), []).append((dict(lab.findall(m.group(2))), float(m.group(3))))
rows, ok = [], True
for f in sorted(glob.glob(os.path.join(sys.argv[2], "*.txt"))):
    dev, vendor, n, good, bad = None, "", 0, 0, []
    for ln, line in enumerate(open(f), 1):
        line = line.rstrip("\n")
        if line.startswith("@recording "):
            dev = os.path.basename(line.split(None, 1)[1].strip())
            continue
        if not line.strip() or line.startswith("#"):
            if ln == 1:
                vendor = re.split(r"[,(]", line.lstrip("# "))[0].strip()[:34]
            continue
        m = re.match(r'^(\w+)\{(.*?)\}\s+(-?[0-9.e+]+)\s+<-\s+(.+)$', line)
        if not m or dev is None:
            print(f"FAIL snmp_expected_format: {f}:{ln}: not METRIC{{labels}} VALUE <- OID|TAG|RAW")
            ok = False
            continue
        name, want, val = m.group(1), dict(lab.findall(m.group(2))), float(m.group(3))
        want["instance"] = dev
        n += 1
        got = [v for l, v in samples.get(name, []) if all(l.get(k) == w for k, w in want.items())]
        if got and abs(got[0] - val) <= 1e-9 * max(1.0, abs(val)):
            good += 1
        else:
            bad.append(f"{os.path.basename(f)}:{ln}: {name}{m.group(2) and '{'+m.group(2)+'}'} want {val:g}, "
                       f"vigil {'no such sample' if not got else f'{got[0]:g}'}")
    rows.append((dev, vendor, n, good))
    if n and not bad:
        print(f"PASS snmp_expected_{dev}: {good}/{n} hand-worked values")
    else:
        ok = False
        print(f"FAIL snmp_expected_{dev}: {good}/{n}; " + " | ".join(bad[:4]))
print(f"{'device':<24} {'device model':<36} {'values':>6} {'equal':>6}")
for dev, vendor, n, good in rows:
    print(f"{dev:<24} {vendor:<36} {n:>6} {good:>6}")
vendors = len(rows)
if vendors < 10:
    print(f"FAIL snmp_expected_devices: only {vendors} devices have expected values (want >= 10)")
    ok = False
sys.exit(0 if ok else 1)
PEOF
