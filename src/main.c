/* main.c — subcommand dispatch (placeholder until the CLI lands in this commit series). */
#include <stdio.h>
int main(void)
{
	puts("vigil " VIGIL_VERSION);
	return 0;
}
