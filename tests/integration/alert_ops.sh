#!/usr/bin/env bash
# Operator actions against `vigil serve` (loopback only): a silence posted
# with an operator token stops a webhook's notifications and expiring it
# brings them back; an acknowledgement keeps an alert from escalating to a
# second receiver while an unacknowledged one escalates; a maintenance window
# for a node keeps its alert quiet; all of them survive a restart; a viewer
# token and a cookie session without its CSRF token are refused.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
T=$(mktemp -d /tmp/vigil-ops-XXXXXX); chmod 755 "$T"
PIDS=()
cleanup() { [ -n "${KEEP:-}" ] && return; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; sleep 0.3
	for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$T"; }
trap cleanup EXIT
VP=$(free_port)
mkdir -p "$T/hook" "$T/mgr"
python3 tests/integration/alert_peers.py webhook "$T/hook.port" "$T/hook" & PIDS+=($!)
python3 tests/integration/alert_peers.py webhook "$T/mgr.port" "$T/mgr" & PIDS+=($!)
wait_for test -s "$T/hook.port" && wait_for test -s "$T/mgr.port" || { fail ops/webhooks_start "no port"; exit 1; }
HP=$(cat "$T/hook.port") MP=$(cat "$T/mgr.port")
cat >"$T/rules.yml" <<'YML'
groups:
  - name: ops
    interval: 1s
    rules:
      - alert: OpsSilenceMe
        expr: vector(1)
        labels: {severity: warning}
      - alert: OpsAckMe
        expr: vector(1)
        labels: {severity: critical}
      - alert: OpsNoAck
        expr: vector(1)
        labels: {severity: critical}
      - alert: OpsMaint
        expr: vector(1)
        for: 8s
        labels: {severity: info, instance: "mnode:9100"}
YML
cat >"$T/vigil.yml" <<YML
web:
  listen: 127.0.0.1:$VP
storage:
  path: $T/data
rule_files:
  - rules.yml
alerting:
  evaluation_interval: 1s
  resend_delay: 1s
  receivers:
    - name: hook
      webhook: {url: "http://127.0.0.1:$HP/", repeat_interval: 1s}
    - name: manager
      webhook: {url: "http://127.0.0.1:$MP/", repeat_interval: 1s, escalate_after: 10s}
YML
start_vigil() {
	"$VIGIL" serve -c "$T/vigil.yml" >"$T/out$1" 2>"$T/err$1" & PIDS+=($!)
	VPID=${PIDS[-1]}
	wait_for grep -q serving "$T/out$1"
}
start_vigil 1 || { fail ops/starts "$(grep -v level=info "$T/err1" | tail -3)"; exit 1; }
OPTOK=$("$VIGIL" token create -d "$T/data" --role operator ops-test)
VIEWTOK=$("$VIGIL" token create -d "$T/data" --role viewer ops-viewer)
PW=$(sed -n 's/^vigil: first start: log in as "admin" with password \([^ ]*\) (shown only now)$/\1/p' "$T/out1")
U="http://127.0.0.1:$VP"
# api METHOD PATH [JSON] -> body on stdout, HTTP status in $T/code
api() { curl -s -o "$T/body" -w '%{http_code}' -X "$1" -H "Authorization: Bearer ${TOKEN:-$OPTOK}" \
	${3:+-H 'Content-Type: application/json' --data "$3"} "$U/api/alerting/$2" >"$T/code"; cat "$T/body"; }
# count DIR ALERTNAME: webhook bodies that announce ALERTNAME firing
count() { python3 - "$1" "$2" <<'PY'
import glob, json, sys
n = 0
for f in glob.glob(sys.argv[1] + "/*.json"):
    try:
        d = json.load(open(f))
    except Exception:
        continue
    n += any(a["labels"].get("alertname") == sys.argv[2] and a["status"] == "firing" for a in d["alerts"])
print(n)
PY
}
field() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
future() { date -u -d "+$1 seconds" +%Y-%m-%dT%H:%M:%SZ; }

# The alerts are firing and listed with their fingerprints.
for i in $(seq 1 80); do api GET alerts | grep -q OpsAckMe && break; sleep 0.25; done
FP=$(api GET alerts | field '[a["fingerprint"] for a in d if a["labels"]["alertname"]=="OpsAckMe"][0]')
[ "${#FP}" = 16 ] && pass ops/alerts_listed_with_fingerprint || fail ops/alerts_listed_with_fingerprint "$(cat "$T/body" | head -c 300)"

# Acknowledge OpsAckMe at once, long before the manager's escalate_after (10 s).
api POST ack "{\"fingerprint\":\"$FP\",\"comment\":\"on it\"}" >/dev/null
[ "$(cat "$T/code")" = 200 ] && grep -q '"acknowledgedBy":"ops-test"' "$T/body" &&
	pass ops/ack_accepted || fail ops/ack_accepted "HTTP $(cat "$T/code") $(cat "$T/body")"
api GET alerts | field '[a["acknowledged"]["comment"] for a in d if a["labels"]["alertname"]=="OpsAckMe"][0]' | grep -qx 'on it' &&
	pass ops/alert_shows_acknowledged || fail ops/alert_shows_acknowledged "$(head -c 300 "$T/body")"

# Maintenance window for node mnode (its instance is mnode:9100).
api POST maintenance "{\"node\":\"mnode\",\"endsAt\":\"$(future 3600)\",\"comment\":\"swap PSU\"}" >/dev/null
[ "$(cat "$T/code")" = 200 ] && pass ops/maintenance_created || fail ops/maintenance_created "HTTP $(cat "$T/code") $(cat "$T/body")"

# A weekly window (no end) is accepted and listed as weekly.
api POST maintenance '{"group":"backup","weekly":{"days":["sat","sun"],"from":"23:00","to":"01:30"},"comment":"backups"}' >/dev/null
[ "$(cat "$T/code")" = 200 ] && api GET maintenance | field 'sorted([w["weekly"]["days"] for w in d if w.get("group")=="backup"][0])' | grep -qx "\['sat', 'sun'\]" &&
	pass ops/weekly_window_created || fail ops/weekly_window_created "HTTP $(cat "$T/code") $(head -c 300 "$T/body")"

# Notifications for OpsSilenceMe repeat (repeat_interval 1s) until silenced.
for i in $(seq 1 60); do [ "$(count "$T/hook" OpsSilenceMe)" -ge 2 ] && break; sleep 0.25; done
[ "$(count "$T/hook" OpsSilenceMe)" -ge 2 ] && pass ops/webhook_repeats_before_silence || fail ops/webhook_repeats_before_silence "$(count "$T/hook" OpsSilenceMe)"
SIL="{\"matchers\":[{\"name\":\"alertname\",\"value\":\"OpsSilenceMe\",\"isRegex\":false,\"isEqual\":true}],\"startsAt\":\"$(future 0)\",\"endsAt\":\"$(future 3600)\",\"createdBy\":\"tester\",\"comment\":\"known\"}"
SID=$(api POST silences "$SIL" | field 'd["silenceID"]')
[ "$(cat "$T/code")" = 200 ] && [ "${#SID}" = 36 ] && pass ops/silence_created || fail ops/silence_created "HTTP $(cat "$T/code") $(cat "$T/body")"
sleep 2	# what was in flight lands
S0=$(count "$T/hook" OpsSilenceMe); N0=$(count "$T/hook" OpsNoAck)
sleep 4
S1=$(count "$T/hook" OpsSilenceMe); N1=$(count "$T/hook" OpsNoAck)
[ "$S1" = "$S0" ] && [ "$N1" -gt "$N0" ] && pass ops/silence_stops_notifications ||
	fail ops/silence_stops_notifications "silenced alert $S0 -> $S1, unsilenced $N0 -> $N1"
api GET silences | field '[s["status"]["state"] for s in d if s["id"]=="'"$SID"'"][0]' | grep -qx active &&
	pass ops/silence_listed_active || fail ops/silence_listed_active "$(head -c 300 "$T/body")"

# The acknowledged alert stops repeating; the unacknowledged one escalates to the manager.
A0=$(count "$T/hook" OpsAckMe); sleep 3; A1=$(count "$T/hook" OpsAckMe)
[ "$A1" = "$A0" ] && pass ops/ack_stops_renotification || fail ops/ack_stops_renotification "$A0 -> $A1"
for i in $(seq 1 60); do [ "$(count "$T/mgr" OpsNoAck)" -ge 1 ] && break; sleep 0.25; done
[ "$(count "$T/mgr" OpsNoAck)" -ge 1 ] && [ "$(count "$T/mgr" OpsAckMe)" = 0 ] && pass ops/ack_stops_escalation ||
	fail ops/ack_stops_escalation "manager got OpsNoAck $(count "$T/mgr" OpsNoAck)x, OpsAckMe $(count "$T/mgr" OpsAckMe)x"
[ "$(count "$T/hook" OpsMaint)" = 0 ] && [ "$(count "$T/mgr" OpsMaint)" = 0 ] && pass ops/maintenance_window_keeps_node_quiet ||
	fail ops/maintenance_window_keeps_node_quiet "OpsMaint notified $(count "$T/hook" OpsMaint)x"
curl -s "$U/metrics" | grep -q '^vigil_notifications_suppressed_total{window="node mnode"} [1-9]' &&
	curl -s "$U/metrics" | grep -q '^vigil_notifications_silenced_total [1-9]' &&
	pass ops/suppression_counted_in_metrics || fail ops/suppression_counted_in_metrics "$(curl -s "$U/metrics" | grep -E 'suppressed|silenced' | head -4)"

# Refusals: a viewer token, a cookie session without its CSRF token.
TOKEN=$VIEWTOK api POST silences "$SIL" >/dev/null
[ "$(cat "$T/code")" = 403 ] && pass ops/viewer_token_post_forbidden || fail ops/viewer_token_post_forbidden "HTTP $(cat "$T/code")"
TOKEN=$VIEWTOK api GET silences >/dev/null
[ "$(cat "$T/code")" = 200 ] && pass ops/viewer_token_can_read || fail ops/viewer_token_can_read "HTTP $(cat "$T/code")"
python3 - "$U" "$PW" "$SIL" >"$T/csrf" 2>&1 <<'PY'
import http.cookiejar, json, re, sys, urllib.error, urllib.parse, urllib.request
u, pw, sil = sys.argv[1:4]
jar = http.cookiejar.CookieJar()
op = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
page = op.open(u + "/login?next=/").read().decode()
tok = re.search(r'name="login_token" value="([^"]+)"', page).group(1)
form = urllib.parse.urlencode({"user": "admin", "password": pw, "login_token": tok, "next": "/"}).encode()
op.open(urllib.request.Request(u + "/login", data=form))
def post(headers):
    r = urllib.request.Request(u + "/api/alerting/silences", data=sil.encode(), method="POST",
                               headers=dict({"Content-Type": "application/json"}, **headers))
    try:
        return op.open(r).status
    except urllib.error.HTTPError as e:
        return e.code
csrf = json.load(op.open(u + "/api/auth/whoami"))["csrf_token"]
print(post({}), post({"X-CSRF-Token": csrf}))
PY
[ "$(cat "$T/csrf")" = "403 200" ] && pass ops/cookie_post_needs_csrf || fail ops/cookie_post_needs_csrf "without, with CSRF: $(tail -c 300 "$T/csrf")"

# Expire the first silence: notifications for OpsSilenceMe resume.
api DELETE "silences/$SID" >/dev/null
[ "$(cat "$T/code")" = 200 ] && pass ops/silence_expired || fail ops/silence_expired "HTTP $(cat "$T/code")"
# The cookie test made a second silence for the same alert: expire every active one.
for id in $(api GET silences | field '" ".join(s["id"] for s in d if s["status"]["state"]=="active")'); do api DELETE "silences/$id" >/dev/null; done
E0=$(count "$T/hook" OpsSilenceMe)
for i in $(seq 1 60); do [ "$(count "$T/hook" OpsSilenceMe)" -gt "$E0" ] && break; sleep 0.25; done
[ "$(count "$T/hook" OpsSilenceMe)" -gt "$E0" ] && pass ops/notifications_resume_after_expiry || fail ops/notifications_resume_after_expiry "$E0 -> $(count "$T/hook" OpsSilenceMe)"

# A new silence, then a restart: silence, acknowledgement and window are still there and still work.
SID2=$(api POST silences "$SIL" | field 'd["silenceID"]')
kill -TERM "$VPID"; wait "$VPID" 2>/dev/null
start_vigil 2 || fail ops/restarts "$(grep -v level=info "$T/err2" | tail -3)"
for i in $(seq 1 80); do api GET alerts | grep -q OpsAckMe && break; sleep 0.25; done
api GET silences | field '[s["status"]["state"] for s in d if s["id"]=="'"$SID2"'"][0]' | grep -qx active &&
	api GET alerts | field '[a["acknowledged"]["acknowledgedBy"] for a in d if a["labels"]["alertname"]=="OpsAckMe"][0]' | grep -qx ops-test &&
	api GET maintenance | field '[w["node"] for w in d if w["source"]=="api"][0]' | grep -qx mnode &&
	pass ops/actions_survive_restart || fail ops/actions_survive_restart "$(api GET alerts | head -c 400)"
sleep 2
R0=$(count "$T/hook" OpsSilenceMe) A0=$(count "$T/hook" OpsAckMe) N0=$(count "$T/hook" OpsNoAck)
sleep 4
R1=$(count "$T/hook" OpsSilenceMe) A1=$(count "$T/hook" OpsAckMe) N1=$(count "$T/hook" OpsNoAck)
[ "$R1" = "$R0" ] && [ "$A1" = "$A0" ] && [ "$N1" -gt "$N0" ] && pass ops/actions_still_apply_after_restart ||
	fail ops/actions_still_apply_after_restart "silenced $R0->$R1 acked $A0->$A1 plain $N0->$N1"
[ "$(count "$T/mgr" OpsAckMe)" = 0 ] && pass ops/no_escalation_after_restart || fail ops/no_escalation_after_restart "manager got OpsAckMe"

# The fingerprint a webhook receiver is sent is the one to acknowledge with.
WFP=$(python3 - "$T/hook" <<'PY'
import glob, json, sys
for f in sorted(glob.glob(sys.argv[1] + "/*.json")):
    for a in json.load(open(f))["alerts"]:
        if a["labels"].get("alertname") == "OpsAckMe":
            print(a["fingerprint"]); sys.exit(0)
PY
)
[ -n "$WFP" ] && [ "$WFP" = "$FP" ] && pass ops/webhook_fingerprint_is_the_ack_key || fail ops/webhook_fingerprint_is_the_ack_key "webhook $WFP, API $FP"

# A reload (SIGHUP) keeps them as well.
kill -HUP "$VPID"
wait_for grep -q 'config reloaded' "$T/err2" || fail ops/reload "$(grep -i reload "$T/err2" | tail -1)"
sleep 2
R0=$(count "$T/hook" OpsSilenceMe); sleep 3; R1=$(count "$T/hook" OpsSilenceMe)
[ "$R1" = "$R0" ] && api GET alerts | grep -q '"acknowledgedBy":"ops-test"' && pass ops/actions_survive_reload ||
	fail ops/actions_survive_reload "silenced alert notified $R0 -> $R1; $(head -c 200 "$T/body")"

# Alertmanager's own client: amtool adds, lists and expires silences through
# --alertmanager.url=.../api/alerting (it reads the JSON with its generated
# Alertmanager API v2 client, so the shapes must be exactly Alertmanager's).
if command -v amtool >/dev/null; then
	printf 'authorization:\n  credentials: %s\n' "$OPTOK" >"$T/amtool.yml"
	am() { amtool --alertmanager.url="$U/api/alerting" --http.config.file="$T/amtool.yml" "$@" 2>"$T/amtool.err"; }
	AID=$(am silence add alertname=OpsNoAck 'instance=~"no.*"' -c "via amtool" -a amuser -d 1h)
	api GET alerts >/dev/null
	am silence query >"$T/amq" && grep -q "$AID" "$T/amq" && grep -q 'alertname="OpsNoAck" instance=~"no.\*"' "$T/amq" &&
		api GET "silences/$AID" | field 'd["createdBy"]+" "+d["status"]["state"]' | grep -qx 'amuser active' &&
		pass ops/amtool_silence_add_and_query || fail ops/amtool_silence_add_and_query "$AID $(cat "$T/amq" "$T/amtool.err" | head -c 300)"
	am silence expire "$AID" && api GET "silences/$AID" | field 'd["status"]["state"]' | grep -qx expired &&
		pass ops/amtool_silence_expire || fail ops/amtool_silence_expire "$(head -c 300 "$T/amtool.err") $(cat "$T/body")"
else
	fail ops/amtool "amtool (prometheus-alertmanager) is not installed"
fi

# Bad input is refused with a reason.
api POST silences '{"matchers":[{"name":"alertname","value":".*","isRegex":true}],"endsAt":"2099-01-01T00:00:00Z"}' >/dev/null
[ "$(cat "$T/code")" = 400 ] && grep -q 'empty string' "$T/body" && pass ops/silence_matching_everything_refused ||
	fail ops/silence_matching_everything_refused "HTTP $(cat "$T/code") $(cat "$T/body")"
api POST ack '{"fingerprint":"0000000000000000"}' >/dev/null
[ "$(cat "$T/code")" = 404 ] && pass ops/ack_unknown_alert_404 || fail ops/ack_unknown_alert_404 "HTTP $(cat "$T/code")"
[ "$FAILS" = 0 ]
