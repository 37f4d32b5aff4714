#!/usr/bin/env bash
# collect_agent_prometheus.sh — a real Prometheus scrapes `vigil agent` on
# loopback: the target must be up and Prometheus must count exactly the
# samples the agent serves.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/collect_lib.sh
name=collect_agent_prometheus
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; rm -rf "$tmp"; }
trap cleanup EXIT
command -v prometheus >/dev/null || { echo "FAIL $name: prometheus not installed"; exit 1; }
find_agent "$tmp" >"$tmp/build.log" 2>&1 || { echo "FAIL $name: cannot build the agent: $(tail -3 "$tmp/build.log")"; exit 1; }

vp=$(free_port); pp=$(free_port)
$AGENT --listen 127.0.0.1:$vp >"$tmp/agent.log" 2>&1 & pids+=($!)
cat >"$tmp/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: vigil
    static_configs:
      - targets: ['127.0.0.1:$vp']
YML
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/data" \
	--web.listen-address=127.0.0.1:$pp >"$tmp/prom.log" 2>&1 & pids+=($!)
wait_http "http://127.0.0.1:$vp/metrics" || { echo "FAIL $name: agent did not start"; exit 1; }
wait_http "http://127.0.0.1:$pp/-/ready" || { echo "FAIL $name: prometheus did not start: $(tail -2 "$tmp/prom.log")"; exit 1; }

query() { # promql -> first value, or empty
	curl -fsS "http://127.0.0.1:$pp/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'
}

up=""
for _ in $(seq 1 60); do
	up=$(query 'up{job="vigil"}')
	[ "$up" = 1 ] && break
	sleep 0.5
done
if [ "$up" = 1 ]; then echo "PASS ${name}_up"; else echo "FAIL ${name}_up: up='$up'"; exit 1; fi

# The series count is stable between scrapes on a quiet host; compare a few
# times so one scrape racing a new ARP entry does not decide the outcome.
ok=0
for _ in $(seq 1 10); do
	want=$(curl -fsS "http://127.0.0.1:$vp/metrics" | grep -vc '^#')
	sleep 1.2
	got=$(query 'scrape_samples_scraped{job="vigil"}')
	if [ "$got" = "$want" ]; then ok=1; break; fi
done
if [ $ok = 1 ]; then
	echo "PASS ${name}_samples: prometheus scraped $got samples, the agent serves $want"
else
	echo "FAIL ${name}_samples: prometheus scraped '$got', the agent serves '$want'"; exit 1
fi
cpu=$(query 'count(node_cpu_seconds_total{job="vigil",mode="idle"})')
ncpu=$(grep -c '^processor' /proc/cpuinfo)
if [ "$cpu" = "$ncpu" ]; then echo "PASS ${name}_cpu_series"; else echo "FAIL ${name}_cpu_series: $cpu idle series for $ncpu CPUs"; exit 1; fi
