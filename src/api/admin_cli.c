/*
 * admin_cli.c — `vigil token` and `vigil user`: manage API tokens and users
 * in a data directory's web.db from the host, e.g. to give Grafana, promtool
 * or a remote-writing Prometheus a token, or to reset a lost password.
 * Whoever can run this can read the data directory; that is the trust line.
 */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/admin_cli.h"
#include "api/auth.h"

#define EXIT_USAGE 2

static const char token_usage[] =
	"usage: vigil token create [-d DIR] [--role viewer|operator|admin] NAME\n"
	"       vigil token list [-d DIR]\n"
	"       vigil token delete [-d DIR] ID\n"
	"DIR is the data directory (storage.path, default ./data). create prints the\n"
	"token once: use it as \"Authorization: Bearer TOKEN\".\n";

static const char user_usage[] =
	"usage: vigil user reset-password [-d DIR] NAME\n"
	"       vigil user add [-d DIR] [--role viewer|operator|admin] NAME\n"
	"       vigil user list [-d DIR]\n"
	"reset-password and add print a new random password once.\n";

/* Open DIR/web.db; when root, leave it owned by the data directory's owner
 * so the web worker (running as that user) can still open it. */
static struct auth *open_db(const char *dir)
{
	char path[4096], pw[64], err[256];
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "vigil: %s: not a data directory\n", dir);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/web.db", dir);
	struct auth *a = auth_open(path, pw, sizeof(pw), err, sizeof(err));
	if (!a) {
		fprintf(stderr, "vigil: %s: %s\n", path, err);
		return NULL;
	}
	if (pw[0])
		printf("first start: user \"admin\" has password %s (shown only now)\n", pw);
	if (geteuid() == 0 && st.st_uid != 0) {
		static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
		for (size_t i = 0; i < 4; i++) {
			char f[4200];
			snprintf(f, sizeof(f), "%s%s", path, sfx[i]);
			if (chown(f, st.st_uid, st.st_gid) < 0 && errno != ENOENT)
				fprintf(stderr, "vigil: %s: %s\n", f, strerror(errno));
		}
	}
	return a;
}

/* Parse [-d DIR] [--role R] and one positional; return 0 or -1 (usage). */
static int parse(int argc, char **argv, const char **dir, enum auth_role *role, const char **arg, int need_arg)
{
	*dir = "./data";
	*arg = NULL;
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-d") == 0 && i + 1 < argc) {
			*dir = argv[++i];
		} else if (strcmp(argv[i], "--role") == 0 && i + 1 < argc && role) {
			if (auth_role_parse(argv[++i], role) < 0 || *role == AUTH_ROLE_NONE)
				return -1;
		} else if (argv[i][0] != '-' && !*arg && need_arg) {
			*arg = argv[i];
		} else {
			return -1;
		}
	}
	return need_arg && !*arg ? -1 : 0;
}

int token_cli_main(int argc, char **argv)
{
	const char *dir, *arg;
	enum auth_role role = AUTH_ROLE_VIEWER;
	if (argc < 2)
		goto usage;
	int create = strcmp(argv[1], "create") == 0, list = strcmp(argv[1], "list") == 0,
	    del = strcmp(argv[1], "delete") == 0;
	if ((!create && !list && !del) || parse(argc, argv, &dir, create ? &role : NULL, &arg, !list) < 0)
		goto usage;
	struct auth *a = open_db(dir);
	if (!a)
		return 1;
	int rc = 0;
	if (create) {
		char tok[AUTH_TOKEN_LEN + 1];
		int64_t id;
		rc = auth_token_create(a, arg, role, "cli", tok, &id);
		if (rc == 0)
			printf("%s\n", tok);
		else
			fprintf(stderr, "vigil token create: %s\n", rc == -EINVAL ? "invalid name (1-64 of A-Za-z0-9._@-)" : strerror(-rc));
		sodium_memzero(tok, sizeof(tok));
	} else if (list) {
		struct buf b;
		buf_init(&b, 1 << 20);
		rc = auth_token_list_json(a, &b);
		if (rc == 0)
			printf("%s\n", b.data ? b.data : "[]");
		buf_free(&b);
	} else {
		char *end;
		long long id = strtoll(arg, &end, 10);
		rc = *end ? -EINVAL : auth_token_delete(a, id);
		if (rc < 0)
			fprintf(stderr, "vigil token delete: %s: %s\n", arg, strerror(-rc));
	}
	auth_close(a);
	return rc < 0 ? 1 : 0;
usage:
	fputs(token_usage, stderr);
	return EXIT_USAGE;
}

int user_cli_main(int argc, char **argv)
{
	const char *dir, *arg;
	enum auth_role role = AUTH_ROLE_VIEWER;
	if (argc < 2)
		goto usage;
	int reset = strcmp(argv[1], "reset-password") == 0, add = strcmp(argv[1], "add") == 0,
	    list = strcmp(argv[1], "list") == 0;
	if ((!reset && !add && !list) || parse(argc, argv, &dir, add ? &role : NULL, &arg, !list) < 0)
		goto usage;
	struct auth *a = open_db(dir);
	if (!a)
		return 1;
	int rc = 0;
	if (list) {
		struct buf b;
		buf_init(&b, 1 << 20);
		rc = auth_user_list_json(a, &b);
		if (rc == 0)
			printf("%s\n", b.data ? b.data : "[]");
		buf_free(&b);
	} else {
		unsigned char raw[18];
		char pw[32];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		rc = add ? auth_user_add(a, arg, pw, role) : auth_user_set_password(a, arg, pw);
		if (rc == 0)
			printf("%s\n", pw);
		else
			fprintf(stderr, "vigil user %s: %s: %s\n", argv[1], arg,
			    rc == -ENOENT ? "no such user" : rc == -EEXIST ? "already exists" : strerror(-rc));
		sodium_memzero(pw, sizeof(pw));
	}
	auth_close(a);
	return rc < 0 ? 1 : 0;
usage:
	fputs(user_usage, stderr);
	return EXIT_USAGE;
}
