/* admin_cli.h — `vigil token ...` and `vigil user ...` (see admin_cli.c). */
#ifndef VIGIL_ADMIN_CLI_H
#define VIGIL_ADMIN_CLI_H

/* argv[0] is "token" / "user"; return the process exit code. */
int token_cli_main(int argc, char **argv);
int user_cli_main(int argc, char **argv);

#endif
