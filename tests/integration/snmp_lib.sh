# Shared helpers for the snmp_*.sh integration suites (sourced, not run).
# snmp_bin DIR: print a command that runs vigil's snmpsim / snmpwalk /
# snmppoll subcommands: the vigil binary if it dispatches them, else a small
# driver linked against libvigil.a (until src/main.c wires them in).
# snmp_bin DIR rel: the same, release build only (for benchmarks).
snmp_bin() {
	local tmp=$1 mode=${2:-asan} b lib cflags cands="build/asan/vigil ./vigil"
	# Tests prefer the sanitizer build (they then also hunt memory errors under
	# real traffic); benchmarks ask for "rel".
	[ "$mode" = rel ] && cands=./vigil
	for b in $cands; do
		if [ -x "$b" ] && "$b" snmpsim 2>&1 | grep -q 'usage: vigil snmpsim'; then
			echo "$b"
			return 0
		fi
	done
	if [ "$mode" != rel ] && [ -f build/asan/libvigil.a ]; then
		lib=build/asan/libvigil.a
		cflags="-O1 -g -fsanitize=address,undefined -fno-sanitize-recover=undefined"
	else
		[ -f build/rel/libvigil.a ] || make -s build/rel/libvigil.a >/dev/null 2>&1 || return 1
		lib=build/rel/libvigil.a
		cflags="-O2"
	fi
	cat >"$tmp/drv.c" <<'CEOF'
#include <stdio.h>
#include <string.h>
#include "snmp/cli.h"
#include "snmp/sim.h"
int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "snmpsim") == 0)
		return snmpsim_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "snmpwalk") == 0)
		return snmpwalk_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "snmppoll") == 0)
		return snmppoll_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: snmpsim|snmpwalk ...\n");
	return 2;
}
CEOF
	# shellcheck disable=SC2086
	cc -std=c11 -D_GNU_SOURCE -Isrc $cflags -o "$tmp/vigil" "$tmp/drv.c" "$lib" \
		$(pkg-config --libs yaml-0.1 libcrypto libpcre2-8) -lm >"$tmp/cc.log" 2>&1 || {
		cat "$tmp/cc.log" >&2; return 1; }
	echo "$tmp/vigil"
}

# free_udp_port: print a UDP port on 127.0.0.1 nobody is bound to right now.
free_udp_port() {
	python3 - <<'PEOF'
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PEOF
}
