/*
 * Config loader tests: the declarative cases in tests/data/config/cases.txt
 * (each case is one PASS/FAIL line), plus the secrets file rules.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "t.h"

static char tmpdir[] = "/tmp/vigil-config-test-XXXXXX";

static char *write_tmp(const char *name, const char *text, mode_t mode)
{
	char *path = malloc(512);
	snprintf(path, 512, "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

struct kcase {
	char name[128];		/* case name */
	char yaml[8192];	/* config text */
	char expect[1024];	/* "error: ..." / "error-secrets: ..." / "ok" */
	char checks[16][256];	/* key = value lines for ok */
	int nchecks;
};

static void run_case(const struct kcase *k, int idx)
{
	char fname[32], err[CONFIG_ERR_MAX], want[1200];
	snprintf(fname, sizeof(fname), "case%d.yml", idx);
	char *path = write_tmp(fname, k->yaml, 0600);
	struct config *c = NULL;
	int rc = config_load_file(path, &c, err, sizeof(err));
	int secrets = 0;
	if (rc == 0 && strncmp(k->expect, "error-secrets:", 14) == 0) {
		secrets = 1;
		rc = config_load_secrets(c, err, sizeof(err));
	}
	printf("%s", "");
	if (strncmp(k->expect, "error", 5) == 0) {
		const char *msg = strchr(k->expect, ':') + 2;
		/* "error:" messages follow "FILE:"; "error-nofile:" ones follow "FILE: ";
		 * "error-secrets:" ones are whole, with CONFIGFILE standing for FILE. */
		if (secrets && strncmp(msg, "CONFIGFILE", 10) == 0)
			snprintf(want, sizeof(want), "%s%s", path, msg + 10);
		else if (secrets)
			snprintf(want, sizeof(want), "%s", msg);
		else if (strncmp(k->expect, "error-nofile:", 13) == 0)
			snprintf(want, sizeof(want), "%s: %s", path, msg);
		else
			snprintf(want, sizeof(want), "%s:%s", path, msg);
		if (rc == 0)
			printf("FAIL config/%s: accepted, want error \"%s\"\n", k->name, want);
		else if (strcmp(err, want) != 0)
			printf("FAIL config/%s:\n   got: %s\n  want: %s\n", k->name, err, want);
		else
			printf("PASS config/%s\n", k->name);
		t_npass += rc != 0 && strcmp(err, want) == 0;
		t_nfail += !(rc != 0 && strcmp(err, want) == 0);
	} else {
		int ok = rc == 0;
		if (!ok)
			printf("FAIL config/%s: rejected: %s\n", k->name, err);
		for (int i = 0; ok && i < k->nchecks; i++) {
			char key[128], val[128];
			if (sscanf(k->checks[i], "%127s = %127[^\n]", key, val) != 2) {
				printf("FAIL config/%s: bad check line %s\n", k->name, k->checks[i]);
				ok = 0;
				break;
			}
			struct buf b;
			buf_init(&b, 4096);
			if (config_get(c, key, &b) < 0 || strcmp(b.data ? b.data : "", val) != 0) {
				printf("FAIL config/%s: %s = \"%s\", want \"%s\"\n", k->name, key,
				    b.data ? b.data : "(unknown key)", val);
				ok = 0;
			}
			buf_free(&b);
		}
		if (ok)
			printf("PASS config/%s\n", k->name);
		t_npass += ok;
		t_nfail += !ok;
	}
	config_free(c);
	unlink(path);
	free(path);
}

static int run_cases(const char *file)
{
	FILE *f = fopen(file, "r");
	if (!f) {
		printf("FAIL config/cases: cannot open %s\n", file);
		t_nfail++;
		return 0;
	}
	static struct kcase k;
	char line[4096];
	int in = 0, n = 0, after = 0;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "=== ", 4) == 0) {
			if (in)
				run_case(&k, n++);
			memset(&k, 0, sizeof(k));
			snprintf(k.name, sizeof(k.name), "%.100s", line + 4);
			k.name[strcspn(k.name, "\n")] = '\0';
			for (char *s = k.name; *s; s++)
				if (*s == ' ')
					*s = '_';
			in = 1;
			after = 0;
			continue;
		}
		if (!in)
			continue;
		if (strncmp(line, "--- ", 4) == 0 && !after) {
			snprintf(k.expect, sizeof(k.expect), "%.1000s", line + 4);
			k.expect[strcspn(k.expect, "\n")] = '\0';
			after = 1;
			continue;
		}
		if (after) {
			if (line[0] != '\n' && k.nchecks < 16) {
				snprintf(k.checks[k.nchecks], sizeof(k.checks[0]), "%.250s", line);
				k.checks[k.nchecks][strcspn(k.checks[k.nchecks], "\n")] = '\0';
				k.nchecks++;
			}
		} else {
			strncat(k.yaml, line, sizeof(k.yaml) - strlen(k.yaml) - 1);
		}
	}
	if (in)
		run_case(&k, n++);
	fclose(f);
	return n;
}

T_TEST(secrets_too_open_is_refused)
{
	char *sec = write_tmp("open-secrets.yml", "core-v2: public\n", 0644);
	char cfgtext[600], err[CONFIG_ERR_MAX];
	snprintf(cfgtext, sizeof(cfgtext), "global:\n  secrets_file: %s\n", sec);
	struct config *c;
	T_EQ_INT(config_parse("x.yml", cfgtext, strlen(cfgtext), &c, err, sizeof(err)), 0);
	T_EQ_INT(config_load_secrets(c, err, sizeof(err)), -1);
	T_CHECK(strstr(err, "accessible by group or others (mode 0644)") != NULL);
	T_CHECK(strncmp(err, sec, strlen(sec)) == 0);
	config_free(c);
	chmod(sec, 0600);
	T_EQ_INT(config_parse("x.yml", cfgtext, strlen(cfgtext), &c, err, sizeof(err)), 0);
	T_EQ_INT(config_load_secrets(c, err, sizeof(err)), 0);
	T_EQ_STR(config_secret_find(c, "core-v2")->value, "public");
	config_free(c);
	unlink(sec);
	free(sec);
}

T_TEST(secrets_structured_and_malformed)
{
	char *sec = write_tmp("secrets.yml",
	    "v3user:\n  user: admin\n  auth_password: s3cret!\n  priv_password: other\ntoken: abc\n", 0600);
	char cfgtext[600], err[CONFIG_ERR_MAX];
	snprintf(cfgtext, sizeof(cfgtext), "global:\n  secrets_file: %s\n", sec);
	struct config *c;
	T_EQ_INT(config_parse("x.yml", cfgtext, strlen(cfgtext), &c, err, sizeof(err)), 0);
	T_EQ_INT(config_load_secrets(c, err, sizeof(err)), 0);
	const struct config_secret *s = config_secret_find(c, "v3user");
	T_CHECK(s && s->nkv == 3 && strcmp(s->vals[1], "s3cret!") == 0);
	config_free(c);
	unlink(sec);
	free(sec);
	sec = write_tmp("bad-secrets.yml", "a: x\na: y\n", 0600);
	snprintf(cfgtext, sizeof(cfgtext), "global:\n  secrets_file: %s\n", sec);
	T_EQ_INT(config_parse("x.yml", cfgtext, strlen(cfgtext), &c, err, sizeof(err)), 0);
	T_EQ_INT(config_load_secrets(c, err, sizeof(err)), -1);
	T_CHECK(strstr(err, ":2:1: duplicate secret \"a\"") != NULL);
	config_free(c);
	unlink(sec);
	free(sec);
}

T_TEST(missing_file_and_nul_byte)
{
	struct config *c;
	char err[CONFIG_ERR_MAX];
	T_EQ_INT(config_load_file("/nonexistent/vigil.yml", &c, err, sizeof(err)), -1);
	T_EQ_STR(err, "/nonexistent/vigil.yml: cannot open: No such file or directory");
	T_CHECK(c == NULL);
	T_EQ_INT(config_parse("n.yml", "web:\0x", 6, &c, err, sizeof(err)), -1);
	T_EQ_STR(err, "n.yml:1:1: file contains a NUL byte");
}

T_TEST(default_config_parses_and_doc_lists_every_key)
{
	struct config *c;
	char err[CONFIG_ERR_MAX];
	T_EQ_INT(config_load_default(&c, err, sizeof(err)), 0);
	T_EQ_STR(c->web_listen, "127.0.0.1:9920");
	T_EQ_STR(c->storage_path, "./data");
	config_free(c);
	struct buf b;
	buf_init(&b, 1 << 20);
	config_doc(&b);
	T_CHECK(strstr(b.data, "| `web.listen` |") != NULL);
	T_CHECK(strstr(b.data, "| `storage.retention_size` |") != NULL);
	buf_free(&b);
}

int main(int argc, char **argv)
{
	if (!mkdtemp(tmpdir))
		return 1;
	const char *cases = argc > 1 ? argv[1] : "tests/data/config/cases.txt";
	int n = run_cases(cases);
	printf("# %d declarative cases\n", n);
	T_RUN(secrets_too_open_is_refused);
	T_RUN(secrets_structured_and_malformed);
	T_RUN(missing_file_and_nul_byte);
	T_RUN(default_config_parses_and_doc_lists_every_key);
	rmdir(tmpdir);
	return t_done();
}
