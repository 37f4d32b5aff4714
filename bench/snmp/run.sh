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

# Like for like: vigil polls with the system and if_mib profiles only, as
# snmp_exporter does with its if_mib module (the generic entity, lldp and
# ip_mib profiles would add walks the peer does not make).
mkdir "$tmp/profiles"
cp profiles/system.yml profiles/if_mib.yml "$tmp/profiles/"

# vigil: N devices (same simulated switch), R back-to-back poll cycles.
args=()
for i in $(seq "$N"); do
	if [ "$V3" = 1 ]; then
		args+=("name=sw$i,addr=$addr,v=3,u=public,a=SHA,A=authpass1,x=AES,X=privpass1,t=5")
	else
		args+=("name=sw$i,addr=$addr,v=2c,c=public,t=5")
	fi
done
python3 - "$V" "$R" "$tmp/profiles" "${args[@]}" >"$tmp/vigil.res" <<'PEOF'
import resource, subprocess, sys, time
v, rounds, prof, devs = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
def run(d, r):
    # one child per measurement: ru_maxrss of RUSAGE_CHILDREN is the largest
    # child so far, so the one-device baseline runs first
    t0 = time.time()
    p = subprocess.run([v, "snmppoll", "--profiles", prof, "--quiet", "--cycles", r] + d,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return p, time.time() - t0, ru
_, _, ru1 = run(devs[:1], "1")
base_rss, base_cpu = ru1.ru_maxrss, ru1.ru_utime + ru1.ru_stime
p, wall, ru = run(devs, rounds)
vb = [int(l.split()[1]) for l in p.stderr.splitlines() if l.startswith("varbinds ")]
up = sum(1 for l in p.stderr.splitlines() if " yes " in l)
print(vb[0] if vb else 0, ru.ru_utime + ru.ru_stime - base_cpu, wall, up, ru.ru_maxrss, base_rss)
PEOF
read -r v_oids v_cpu v_wall v_up v_rss v_rss1 <"$tmp/vigil.res"

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
hwm = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("VmHWM:")][0]
print(total, cpu() - c0, time.time() - t0, n, hwm)
PEOF
read -r e_oids e_cpu e_wall e_up e_rss <"$tmp/exp.res"

python3 - "$v_oids" "$v_cpu" "$v_wall" "$v_up" "$e_oids" "$e_cpu" "$e_wall" "$N" "$R" \
	"$v_rss" "$v_rss1" "$e_rss" <<'PEOF'
import sys
vo, vc, vw, vu, eo, ec, ew, n, r, vrss, vrss1, erss = [float(x) for x in sys.argv[1:]]
vr = vo / vc if vc else float("inf")
er = eo / ec if ec else float("inf")
print(f"{'poller':<22}{'OIDs':>10}{'CPU s':>8}{'wall s':>8}{'OIDs/CPU-s':>12}{'cycle s':>9}"
      f"{'CPU s/cycle':>12}{'RSS MiB':>9}{'KiB/dev':>9}")
print(f"{'vigil snmppoll':<22}{vo:>10.0f}{vc:>8.2f}{vw:>8.2f}{vr:>12.0f}{vw / r:>9.2f}{vc / r:>12.2f}"
      f"{vrss / 1024:>9.1f}{(vrss - vrss1) / max(n - 1, 1):>9.2f}   ({vu:.0f}/{n:.0f} devices up)")
print(f"{'snmp_exporter 0.21':<22}{eo:>10.0f}{ec:>8.2f}{ew:>8.2f}{er:>12.0f}{ew / r:>9.2f}{ec / r:>12.2f}"
      f"{erss / 1024:>9.1f}{erss / n:>9.2f}")
print(f"ratio vigil/snmp_exporter (OIDs per CPU second): {vr / er:.1f}x")
print("cycle s: wall time of one poll of every device (both share 2 cores with the simulator);")
print("KiB/dev: vigil (max RSS - max RSS polling one device) / (N - 1); snmp_exporter VmHWM / N")
PEOF
