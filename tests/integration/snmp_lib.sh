# Shared helpers for the snmp_*.sh integration suites (sourced, not run).
# snmp_bin DIR: print a command that runs vigil's snmpsim / snmpwalk
# subcommands: ./vigil if it dispatches them, else a small driver linked
# against build/rel/libvigil.a (until src/main.c wires the subcommands in).
snmp_bin() {
	local tmp=$1
	if ./vigil snmpsim 2>&1 | grep -q 'usage: vigil snmpsim'; then
		echo "./vigil"
		return 0
	fi
	[ -f build/rel/libvigil.a ] || make -s build/rel/libvigil.a >/dev/null 2>&1 || return 1
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
	cc -std=c11 -D_GNU_SOURCE -Isrc -O2 -o "$tmp/vigil" "$tmp/drv.c" build/rel/libvigil.a \
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
