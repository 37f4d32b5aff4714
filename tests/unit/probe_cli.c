/*
 * probe_cli — with arguments, the `vigil probe ...` one-shot CLI (used by
 * tests/integration/probe_*.sh until main.c dispatches to probe_cli_main);
 * without, checks of its argument handling.
 */
#include <stdio.h>

#include "probe/probe.h"
#include "t.h"

T_TEST(cli_rejects_bad_usage)
{
	char *a1[] = { "probe", NULL };
	T_EQ_INT(probe_cli_main(1, a1), 2);
	char *a2[] = { "probe", "smtp", "x", NULL };
	T_EQ_INT(probe_cli_main(3, a2), 2);
	char *a3[] = { "probe", "icmp", "127.0.0.1", "--bogus", NULL };
	T_EQ_INT(probe_cli_main(4, a3), 2);
	char *a4[] = { "probe", "dns", "127.0.0.1", NULL };	/* no --name */
	T_EQ_INT(probe_cli_main(3, a4), 2);
	char *a5[] = { "probe", "nagios", "x", NULL };	/* no plugin */
	T_EQ_INT(probe_cli_main(3, a5), 2);
	char *a6[] = { "probe", "icmp", "127.0.0.1", "-c", "lots", NULL };	/* checked like config */
	T_EQ_INT(probe_cli_main(5, a6), 2);
	char *a7[] = { "probe", "http", "http://127.0.0.1/", "--set", "http.follow_redirects=maybe", NULL };
	T_EQ_INT(probe_cli_main(5, a7), 2);
	char *a8[] = { "probe", "tcp", "127.0.0.1:1", "-t", "soon", NULL };
	T_EQ_INT(probe_cli_main(5, a8), 2);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		return probe_cli_main(argc - 1, argv + 1);
	T_RUN(cli_rejects_bad_usage);
	return t_done();
}
