#!/usr/bin/env bash
# Notification delivery to real peers on loopback: Debian's Alertmanager
# (API v2), a webhook receiver and an SMTP sink (tests/integration/
# alert_peers.py). Fired and resolved alerts arrive with their labels and
# annotations; failed deliveries are retried with backoff; a receiver that is
# down at first gets everything once it is up; killing the delivering process
# mid-request loses nothing and duplicates only the batch that was in flight.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
if "$VIGIL" notify-test --help >/dev/null 2>&1; then
	DRIVER=("$VIGIL" notify-test)
else
	DRIVER=(build/asan/tests/alert_notify_test notify-test)
fi
PEERS=tests/integration/alert_peers.py
TMP=$(mktemp -d)
PIDS=()
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT

start_peer() { # kind name [args...]: starts a peer, sets PORT
	local kind=$1 name=$2; shift 2
	python3 "$PEERS" "$kind" "$TMP/$name.port" "$TMP/$name" "$@" 2>"$TMP/$name.log" &
	PIDS+=($!)
	wait_for test -s "$TMP/$name.port" || { fail "start_$name" "peer did not start"; exit 1; }
	PORT=$(cat "$TMP/$name.port")
}
iso() { date -u -d "@$(( $(date +%s) + $1 ))" +%Y-%m-%dT%H:%M:%SZ; }
count() { find "$1" -name "*.$2" 2>/dev/null | wc -l; }

# --- peers ---
start_peer webhook hook; HOOK=$PORT
start_peer smtp mail; SMTP=$PORT
AM=$(free_port)
mkdir -p "$TMP/am"
cat >"$TMP/am.yml" <<YML
route:
  receiver: blackhole
  group_wait: 1h
receivers:
  - name: blackhole
YML
prometheus-alertmanager --config.file="$TMP/am.yml" --storage.path="$TMP/am" \
	--web.listen-address=127.0.0.1:$AM --cluster.listen-address= >"$TMP/am.log" 2>&1 &
PIDS+=($!)
if ! wait_for curl -sf "http://127.0.0.1:$AM/-/ready"; then
	fail alertmanager_ready "$(tail -3 "$TMP/am.log")"; exit 1
fi

cat >"$TMP/vigil.yml" <<YML
alerting:
  external_url: http://vigil.test:9920
  alertmanagers:
  - url: http://127.0.0.1:$AM
  receivers:
  - name: hook
    webhook: {url: "http://localhost:$HOOK/alerts"}   # a name: pinned to its addresses
  - name: mail
    email:
      smarthost: 127.0.0.1:$SMTP
      from: vigil@example.com
      to: [ops@example.com, noc@example.com]
  queue: {min_backoff: 1s, max_backoff: 2s}
YML
START=$(iso -60); FUTURE=$(iso 3600)
cat >"$TMP/fire.json" <<JSON
[{"labels":{"alertname":"InterfaceDown","instance":"sw1","ifName":"Gi0/3","severity":"critical"},
  "annotations":{"summary":"Interface Gi0/3 on sw1 is down"},
  "startsAt":"$START","endsAt":"$FUTURE","generatorURL":"http://vigil.test:9920/graph?g0.expr=up"},
 {"labels":{"alertname":"HostLowMemory","instance":"h1","severity":"warning"},
  "annotations":{"summary":"Memory on h1 is low (5% available)"},
  "startsAt":"$START","endsAt":"$FUTURE"}]
JSON

# --- 1: firing alerts reach all three receivers ---
out=$("${DRIVER[@]}" -c "$TMP/vigil.yml" --db "$TMP/q1.db" --alerts "$TMP/fire.json" --timeout 20 2>"$TMP/d1.log"); rc=$?
if [ $rc = 0 ] && grep -q "^queued 6 notifications" <<<"$out" && grep -q "^queue length 0" <<<"$out" &&
	grep -q 'vigil_notifications_sent_total{receiver="alertmanager-0"} 2' <<<"$out"; then
	pass deliver_firing_to_three_receivers
else
	fail deliver_firing_to_three_receivers "rc=$rc $(echo "$out" | grep -E 'queue|sent_total' | tr '\n' ' ') $(tail -3 "$TMP/d1.log")"
fi

curl -sf "http://127.0.0.1:$AM/api/v2/alerts" >"$TMP/am1.json"
if python3 - "$TMP/am1.json" <<'PY'
import json, sys
alerts = {a["labels"]["alertname"]: a for a in json.load(open(sys.argv[1]))}
a = alerts["InterfaceDown"]
assert a["labels"] == {"alertname": "InterfaceDown", "instance": "sw1", "ifName": "Gi0/3", "severity": "critical"}, a
assert a["annotations"] == {"summary": "Interface Gi0/3 on sw1 is down"}, a
assert a["status"]["state"] == "active", a
assert a["generatorURL"] == "http://vigil.test:9920/graph?g0.expr=up", a
assert alerts["HostLowMemory"]["annotations"]["summary"] == "Memory on h1 is low (5% available)"
PY
then pass alertmanager_has_fired_alerts_with_labels_and_annotations
else fail alertmanager_has_fired_alerts_with_labels_and_annotations "$(head -c 400 "$TMP/am1.json")"; fi

if python3 - "$TMP/hook" "$TMP/am1.json" <<'PY'
import glob, json, sys
bodies = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
assert len(bodies) == 1, len(bodies)
b = bodies[0]
assert b["version"] == "4" and b["status"] == "firing" and b["receiver"] == "hook", b
assert b["externalURL"] == "http://vigil.test:9920"
got = {a["labels"]["alertname"]: a for a in b["alerts"]}
assert got["InterfaceDown"]["status"] == "firing"
assert got["InterfaceDown"]["annotations"]["summary"] == "Interface Gi0/3 on sw1 is down"
# vigil computes the same fingerprint Alertmanager does
am = {a["labels"]["alertname"]: a["fingerprint"] for a in json.load(open(sys.argv[2]))}
for name, a in got.items():
    assert a["fingerprint"] == am[name], (name, a["fingerprint"], am[name])
PY
then pass webhook_payload_matches_alertmanager_format
else fail webhook_payload_matches_alertmanager_format "$(cat "$TMP"/hook/*.json 2>/dev/null | head -c 400)"; fi

eml=$(ls "$TMP"/mail/*.eml 2>/dev/null | head -1)
if [ -n "$eml" ] && grep -q "^Subject: \[FIRING:2\] InterfaceDown HostLowMemory" "$eml" &&
	grep -q "summary = Interface Gi0/3 on sw1 is down" "$eml" &&
	grep -q "FROM <vigil@example.com>" "${eml%.eml}.env" &&
	grep -q "TO <ops@example.com> <noc@example.com>" "${eml%.eml}.env"; then
	pass email_delivered_over_smtp
else
	fail email_delivered_over_smtp "$(head -c 400 "$eml" 2>/dev/null) $(tail -3 "$TMP/mail.log")"
fi

# --- 2: the resolution of one alert ---
sleep 1
END=$(iso -1)
cat >"$TMP/resolve.json" <<JSON
[{"labels":{"alertname":"InterfaceDown","instance":"sw1","ifName":"Gi0/3","severity":"critical"},
  "annotations":{"summary":"Interface Gi0/3 on sw1 is down"},
  "startsAt":"$START","endsAt":"$END","generatorURL":"http://vigil.test:9920/graph?g0.expr=up"}]
JSON
"${DRIVER[@]}" -c "$TMP/vigil.yml" --db "$TMP/q1.db" --alerts "$TMP/resolve.json" --timeout 20 >"$TMP/d2.out" 2>"$TMP/d2.log"; rc=$?
curl -sf "http://127.0.0.1:$AM/api/v2/alerts" >"$TMP/am2.json"
if [ $rc = 0 ] && python3 - "$TMP/am2.json" "$TMP/hook" <<'PY'
import glob, json, sys
names = sorted(a["labels"]["alertname"] for a in json.load(open(sys.argv[1])))
assert names == ["HostLowMemory"], names      # Alertmanager lists only unresolved alerts
last = json.load(open(sorted(glob.glob(sys.argv[2] + "/*.json"))[-1]))
assert last["status"] == "resolved", last["status"]
assert last["alerts"][0]["status"] == "resolved" and last["alerts"][0]["endsAt"] != "0001-01-01T00:00:00Z"
PY
then pass resolved_alert_reaches_alertmanager_and_webhook
else fail resolved_alert_reaches_alertmanager_and_webhook "rc=$rc $(head -c 300 "$TMP/am2.json")"; fi
eml=$(ls "$TMP"/mail/*.eml | tail -1)
if grep -q "^Subject: \[RESOLVED\] InterfaceDown" "$eml" && grep -q "^Ended: " "$eml"; then
	pass resolved_email
else
	fail resolved_email "$(grep Subject "$eml")"
fi

# --- 2b: the store re-sends firing alerts every resend_delay: Alertmanager gets
# them again (it de-duplicates), the webhook and email hear only what changed
# (InterfaceDown fires again after its resolution; HostLowMemory they know) ---
out=$("${DRIVER[@]}" -c "$TMP/vigil.yml" --db "$TMP/q1.db" --alerts "$TMP/fire.json" --timeout 20 2>"$TMP/d2b.log"); rc=$?
if [ $rc = 0 ] && grep -q "^queued 4 notifications" <<<"$out" &&
	grep -q 'vigil_notifications_deduplicated_total{receiver="hook"} 1' <<<"$out" && python3 - "$TMP/hook" <<'PY'
import glob, json, sys
last = json.load(open(sorted(glob.glob(sys.argv[1] + "/*.json"))[-1]))
assert [a["labels"]["alertname"] for a in last["alerts"]] == ["InterfaceDown"], last["alerts"]
assert last["status"] == "firing"
PY
then pass direct_receivers_hear_only_changes
else fail direct_receivers_hear_only_changes "rc=$rc $(grep -E 'queued|dedup' <<<"$out" | tr '\n' ' ')"; fi

# --- 3: a receiver that fails twice (503) gets it on the third try ---
start_peer webhook flaky --fail 2; FLAKY=$PORT
cat >"$TMP/flaky.yml" <<YML
alerting:
  receivers:
  - name: flaky
    webhook: {url: "http://127.0.0.1:$FLAKY/"}
  queue: {min_backoff: 1s, max_backoff: 2s}
YML
t0=$SECONDS
out=$("${DRIVER[@]}" -c "$TMP/flaky.yml" --db "$TMP/q2.db" --alerts "$TMP/fire.json" --timeout 20 2>"$TMP/d3.log"); rc=$?
if [ $rc = 0 ] && [ "$(count "$TMP/flaky" json)" = 1 ] &&
	grep -q 'vigil_notifications_failed_total{receiver="flaky"} 2' <<<"$out" &&
	grep -q 'vigil_notifications_sent_total{receiver="flaky"} 2' <<<"$out" &&
	grep -q 'notification delivery failed; will retry' "$TMP/d3.log" && [ $((SECONDS - t0)) -ge 2 ]; then
	pass retry_with_backoff_after_503
else
	fail retry_with_backoff_after_503 "rc=$rc bodies=$(count "$TMP/flaky" json) $(grep -E 'total' <<<"$out" | tr '\n' ' ')"
fi

# --- 4: receiver down at first, up later: delivered once it is up ---
LATE=$(free_port)
cat >"$TMP/late.yml" <<YML
alerting:
  receivers:
  - name: late
    webhook: {url: "http://127.0.0.1:$LATE/"}
  queue: {min_backoff: 1s, max_backoff: 1s}
YML
"${DRIVER[@]}" -c "$TMP/late.yml" --db "$TMP/q3.db" --alerts "$TMP/fire.json" --timeout 20 >"$TMP/d4.out" 2>"$TMP/d4.log" &
DPID=$!; PIDS+=($DPID)
sleep 2.5
start_peer webhook late --port "$LATE"
wait $DPID; rc=$?
if [ $rc = 0 ] && [ "$(count "$TMP/late" json)" = 1 ] && grep -q "Couldn't connect\|Connection refused" "$TMP/d4.log"; then
	pass delivered_when_receiver_comes_up
else
	fail delivered_when_receiver_comes_up "rc=$rc bodies=$(count "$TMP/late" json) $(tail -2 "$TMP/d4.log")"
fi

# --- 5: kill -9 mid-delivery: nothing lost, duplicates only of the in-flight batch ---
start_peer webhook slow --delay 2; SLOW=$PORT
cat >"$TMP/slow.yml" <<YML
alerting:
  receivers:
  - name: slow
    webhook: {url: "http://127.0.0.1:$SLOW/", timeout: 10s}
  queue: {min_backoff: 1s, max_backoff: 1s}
YML
python3 - "$TMP/many.json" "$START" "$FUTURE" <<'PY'
import json, sys
json.dump([{"labels": {"alertname": "A%03d" % i, "instance": "x"}, "startsAt": sys.argv[2], "endsAt": sys.argv[3]}
           for i in range(100)], open(sys.argv[1], "w"))
PY
"${DRIVER[@]}" -c "$TMP/slow.yml" --db "$TMP/q4.db" --alerts "$TMP/many.json" --timeout 30 >"$TMP/d5.out" 2>"$TMP/d5.log" &
DPID=$!; PIDS+=($DPID)
wait_for grep -q "^queued 100" "$TMP/d5.out"
sleep 0.5
kill -9 $DPID; wait $DPID 2>/dev/null
sleep 2.5	# the receiver finishes the request the dead process had in flight
"${DRIVER[@]}" -c "$TMP/slow.yml" --db "$TMP/q4.db" --timeout 30 >"$TMP/d6.out" 2>"$TMP/d6.log"; rc=$?
if [ $rc = 0 ] && python3 - "$TMP/slow" <<'PY'
import collections, glob, json, sys
bodies = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/*.json"))]
seen = collections.Counter(a["labels"]["alertname"] for b in bodies for a in b["alerts"])
assert set(seen) == {"A%03d" % i for i in range(100)}, "lost: %s" % sorted({"A%03d" % i for i in range(100)} - set(seen))
dups = sorted(n for n, c in seen.items() if c > 1)
assert all(c <= 2 for c in seen.values()), seen
first = sorted(a["labels"]["alertname"] for a in bodies[0]["alerts"])
assert dups == first, (dups, first)          # only the batch that was in flight
assert len(dups) <= 64
print("bodies=%d duplicates=%d" % (len(bodies), len(dups)))
PY
then pass kill_mid_delivery_loses_nothing
else fail kill_mid_delivery_loses_nothing "rc=$rc $(tail -2 "$TMP/d6.log")"; fi

# --- 6: STARTTLS: required and offered -> the mail goes encrypted; required but
# not offered (the plain sink) -> nothing is sent in clear, it stays queued ---
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1
start_peer smtp tlsmail --tls "$TMP/cert.pem" "$TMP/key.pem"; TLSMAIL=$PORT
cat >"$TMP/tls.yml" <<YML
alerting:
  receivers:
  - name: tlsmail
    email: {smarthost: "127.0.0.1:$TLSMAIL", from: vigil@example.com, to: ops@example.com,
            starttls: true, ca_file: "$TMP/cert.pem"}
YML
"${DRIVER[@]}" -c "$TMP/tls.yml" --db "$TMP/q6.db" --alerts "$TMP/fire.json" --timeout 15 >"$TMP/d7.out" 2>"$TMP/d7.log"; rc=$?
env=$(ls "$TMP"/tlsmail/*.env 2>/dev/null | head -1)
if [ $rc = 0 ] && [ -n "$env" ] && grep -q "^TLS yes" "$env" && grep -q "^Subject: \[FIRING:2\]" "${env%.env}.eml"; then
	pass email_over_starttls
else
	fail email_over_starttls "rc=$rc $(tail -2 "$TMP/d7.log") $(tail -2 "$TMP/tlsmail.log")"
fi
sed "s/$TLSMAIL/$SMTP/" "$TMP/tls.yml" >"$TMP/notls.yml"
before=$(count "$TMP/mail" eml)
"${DRIVER[@]}" -c "$TMP/notls.yml" --db "$TMP/q7.db" --alerts "$TMP/fire.json" --timeout 3 >"$TMP/d8.out" 2>"$TMP/d8.log"; rc=$?
if [ $rc = 1 ] && [ "$(count "$TMP/mail" eml)" = "$before" ] && grep -q "^queue length 2" "$TMP/d8.out" &&
	grep -q "notification delivery failed" "$TMP/d8.log"; then
	pass starttls_required_never_sends_in_clear
else
	fail starttls_required_never_sends_in_clear "rc=$rc mails $before -> $(count "$TMP/mail" eml) $(tail -1 "$TMP/d8.log")"
fi

# --- 7: a config the driver refuses ---
echo "alerting: {receivers: [{name: x, webhook: {url: 'ftp://x'}}]}" >"$TMP/bad.yml"
out=$("${DRIVER[@]}" -c "$TMP/bad.yml" --db "$TMP/q5.db" 2>&1); rc=$?
if [ $rc = 2 ] && grep -q "bad.yml:1:49: \"ftp://x\" is not an http:// or https:// URL" <<<"$out"; then
	pass bad_receiver_config_refused
else
	fail bad_receiver_config_refused "rc=$rc $out"
fi
[ $FAILS = 0 ]
