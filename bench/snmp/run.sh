#!/usr/bin/env bash
# SNMP polling cost, vigil vs prometheus-snmp-exporter (Debian 0.21), both
# reading the same simulated 48-port switches (vigil snmpsim on loopback)
# with the if_mib module of ../shared/peers/snmp_exporter-if_mib.yml.
# Reports OIDs (varbinds) read per CPU second of the poller process, and the
# ratio. Not part of `make test`.
#   bench/snmp/run.sh [DEVICES=50] [ROUNDS=5]
#   SNMP_BENCH_V3=1 bench/snmp/run.sh ...   (both over SNMPv3 authPriv SHA/AES)
set -eu
cd "$(dirname "$0")/../.."
. tests/integration/snmp_lib.sh
N=${1:-50}
R=${2:-5}
PEER=${PEER_CONFIG:-../shared/peers/snmp_exporter-if_mib.yml}
[ -f "$PEER" ] || PEER=/work/shared/peers/snmp_exporter-if_mib.yml
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

make -s vigil >/dev/null
V=$(snmp_bin "$tmp" rel)
mkdir "$tmp/recs"
python3 bench/snmp/gen_switch.py "$tmp/recs/public.snmprec"
V3=${SNMP_BENCH_V3:-0}
simargs=()
[ "$V3" = 1 ] && simargs=(--v3 SHA:authpass1:AES:privpass1)
"$V" snmpsim "$tmp/recs" --listen 127.0.0.1:0 "${simargs[@]}" 2>"$tmp/sim.log" &
pids+=($!)
for _ in $(seq 50); do grep -q ' on ' "$tmp/sim.log" && break; sleep 0.1; done
addr=$(sed -n 's/.* on \(127\.0\.0\.1:[0-9]*\)$/\1/p' "$tmp/sim.log")
echo "simulator: $addr, $N devices x $R rounds, 48 ports each, $([ "$V3" = 1 ] && echo 'SNMPv3 authPriv SHA/AES' || echo v2c)"

# vigil: N devices (same simulated switch), R back-to-back poll cycles.
args=()
for i in $(seq "$N"); do
	if [ "$V3" = 1 ]; then
		args+=("name=sw$i,addr=$addr,v=3,u=public,a=SHA,A=authpass1,x=AES,X=privpass1,t=5")
	else
		args+=("name=sw$i,addr=$addr,v=2c,c=public,t=5")
	fi
done
python3 - "$V" "$R" "${args[@]}" >"$tmp/vigil.res" <<'PEOF'
import resource, subprocess, sys, time
v, rounds, devs = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.time()
p = subprocess.run([v, "snmppoll", "--profiles", "profiles", "--quiet", "--cycles", rounds] + devs,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
wall = time.time() - t0
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
vb = [int(l.split()[1]) for l in p.stderr.splitlines() if l.startswith("varbinds ")]
up = sum(1 for l in p.stderr.splitlines() if " yes " in l)
print(vb[0] if vb else 0, ru.ru_utime + ru.ru_stime, wall, up)
PEOF
read -r v_oids v_cpu v_wall v_up <"$tmp/vigil.res"

# snmp_exporter: N concurrent scrapes per round, R rounds.
if [ "$V3" = 1 ]; then
	# the same module, authenticating as SNMPv3 user "public"
	python3 - "$PEER" >"$tmp/peer.yml" <<'PEOF'
import sys
out = []
for line in open(sys.argv[1]):
    if line.startswith("  version: 2"):
        out.append("  version: 3\n")
    elif line.startswith("    community:"):
        out.append("    username: public\n    security_level: authPriv\n    password: authpass1\n"
                   "    auth_protocol: SHA\n    priv_protocol: AES\n    priv_password: privpass1\n")
    else:
        out.append(line)
sys.stdout.write("".join(out))
PEOF
	PEER=$tmp/peer.yml
fi
port=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
prometheus-snmp-exporter --config.file="$PEER" --web.listen-address=127.0.0.1:"$port" \
	>"$tmp/exp.log" 2>&1 &
epid=$!
pids+=($epid)
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/metrics" >/dev/null && break; sleep 0.1; done
python3 - "$epid" "$port" "$addr" "$N" "$R" >"$tmp/exp.res" <<'PEOF'
import sys, time, urllib.request
from concurrent.futures import ThreadPoolExecutor
pid, port, addr, n, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
tck = 100.0
def cpu():
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / tck
url = f"http://127.0.0.1:{port}/snmp?target={addr}&module=if_mib"
def scrape(_):
    body = urllib.request.urlopen(url, timeout=60).read().decode()
    for l in body.splitlines():
        if l.startswith("snmp_scrape_pdus_returned "):
            return int(float(l.split()[1]))
    return 0
c0, t0, total = cpu(), time.time(), 0
with ThreadPoolExecutor(max_workers=min(n, 32)) as ex:
    for _ in range(rounds):
        total += sum(ex.map(scrape, range(n)))
print(total, cpu() - c0, time.time() - t0, n)
PEOF
read -r e_oids e_cpu e_wall e_up <"$tmp/exp.res"

python3 - "$v_oids" "$v_cpu" "$v_wall" "$v_up" "$e_oids" "$e_cpu" "$e_wall" "$N" <<'PEOF'
import sys
vo, vc, vw, vu, eo, ec, ew, n = [float(x) for x in sys.argv[1:]]
vr = vo / vc if vc else float("inf")
er = eo / ec if ec else float("inf")
print(f"{'poller':<24}{'OIDs':>10}{'CPU s':>9}{'wall s':>9}{'OIDs/CPU-s':>13}")
print(f"{'vigil snmppoll':<24}{vo:>10.0f}{vc:>9.2f}{vw:>9.2f}{vr:>13.0f}   ({vu:.0f}/{n:.0f} devices up)")
print(f"{'snmp_exporter 0.21':<24}{eo:>10.0f}{ec:>9.2f}{ew:>9.2f}{er:>13.0f}")
print(f"ratio vigil/snmp_exporter (OIDs per CPU second): {vr / er:.1f}x")
PEOF
