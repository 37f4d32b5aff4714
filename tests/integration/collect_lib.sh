# collect_lib.sh — helpers shared by the collect_*/scrape_* integration scripts (sourced, not run).

# Print a free loopback TCP port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# Set AGENT to a command that runs `vigil agent`. The daemon's dispatch
# (src/main.c) calls agent_main for `vigil agent`; until that is wired in,
# link a two-line shim against the same library so the test still runs
# the real agent code.
find_agent() { # tmpdir
	if [ -x ./vigil ] && ./vigil agent --help 2>/dev/null | grep -q 'usage: vigil agent'; then
		AGENT="./vigil agent"
		return 0
	fi
	[ -f build/rel/libvigil.a ] || { echo "no ./vigil agent and no build/rel/libvigil.a"; return 1; }
	printf '#include "collect/agent.h"\nint main(int argc, char **argv) { argv[0] = (char *)"agent"; return agent_main(argc, argv); }\n' >"$1/shim.c"
	# shellcheck disable=SC2046
	cc -std=c11 -D_GNU_SOURCE -Isrc -O1 -o "$1/vigil-agent" "$1/shim.c" build/rel/libvigil.a \
		$(pkg-config --libs yaml-0.1 sqlite3 libssl libcrypto libcurl libmicrohttpd libseccomp libpcre2-8 libzstd libsodium libprotobuf-c) \
		-lsnappy -lm -lpthread || return 1
	AGENT="$1/vigil-agent"
}

# Wait until URL answers (at most ~10 s). 0 when it does.
wait_http() { # url
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# Series signatures of an exposition body: name{sorted,label,names}, one per line, sorted.
series_sigs() { # file
	python3 - "$1" <<'PY'
import re, sys
out = set()
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    if line.startswith("#") or not line.strip():
        continue
    m = re.match(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?[ \t]', line)
    if not m:
        continue
    names = sorted(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"', m.group(3) or ""))
    out.add(m.group(1) + "{" + ",".join(names) + "}")
print("\n".join(sorted(out)))
PY
}
