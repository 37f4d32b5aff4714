#!/usr/bin/env bash
# Keep docs/ true: every config key the loader knows is documented, and the
# README's quick start names the two commands.
set -u
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh
"$VIGIL" help config | grep -o '^| `[a-z_.]*`' | tr -d '|` ' | sort -u >/tmp/vigil-keys.$$
missing=0
while read -r k; do
	grep -q "| \`$k\` |" docs/CONFIG.md || { fail "docs/config_key_$k" "not in docs/CONFIG.md"; missing=1; }
done </tmp/vigil-keys.$$
[ "$missing" = 0 ] && pass "docs/every_config_key_documented ($(wc -l </tmp/vigil-keys.$$) keys)"
rm -f /tmp/vigil-keys.$$
grep -q 'make run' README.md && grep -q 'make test' README.md && pass docs/readme_quick_start || fail docs/readme_quick_start "missing"
for d in ARCHITECTURE CONFIG SECURITY DEPENDENCIES TESTING; do
	[ -s "docs/$d.md" ] && pass "docs/$d.md_exists" || fail "docs/$d.md_exists" "missing"
done
[ "$FAILS" = 0 ]
