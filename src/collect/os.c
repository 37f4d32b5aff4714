/* os.c — node_os_info and node_os_version from os-release. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define OS_VALUE_MAX 256	/* bytes of one os-release value */

/* Copy the value of KEY= from an os-release text into out, unquoted; "" if absent. */
static void osr_get(const char *p, const char *key, char *out)
{
	size_t kl = strlen(key);
	out[0] = 0;
	for (const char *q = p; q && *q; q = strchr(q, '\n'), q = q ? q + 1 : NULL) {
		if (strncmp(q, key, kl) != 0 || q[kl] != '=')
			continue;
		const char *v = q + kl + 1;
		size_t n = strcspn(v, "\n");
		if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
			v++, n -= 2;
		size_t w = 0;
		for (size_t i = 0; i < n && w < OS_VALUE_MAX - 1; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			out[w++] = v[i];
		}
		out[w] = 0;
		return;
	}
}

int collect_os(struct collect_ctx *c)
{
	static const char *const keys[] = { "BUILD_ID", "ID", "ID_LIKE", "IMAGE_ID", "IMAGE_VERSION", "NAME",
		"PRETTY_NAME", "VARIANT", "VARIANT_ID", "VERSION", "VERSION_CODENAME", "VERSION_ID" };
	static const char *const labels[] = { "build_id", "id", "id_like", "image_id", "image_version", "name",
		"pretty_name", "variant", "variant_id", "version", "version_codename", "version_id" };
	char v[12][OS_VALUE_MAX];
	const struct collect_config *cfg = collect_cfg(c);
	const char *p = collect_read_once(c, cfg->etc, "os-release", NULL);
	if (!p)
		p = collect_read_once(c, cfg->usr_lib, "os-release", NULL);
	if (!p)
		return -1;
	for (int i = 0; i < 12; i++)
		osr_get(p, keys[i], v[i]);
	collect_family(c, "node_os_info", "A metric with a constant '1' value labeled by build_id, id, id_like, "
	    "image_id, image_version, name, pretty_name, variant, variant_id, version, version_codename, version_id.",
	    COLLECT_GAUGE);
	collect_add(c, 1, labels[0], v[0], labels[1], v[1], labels[2], v[2], labels[3], v[3], labels[4], v[4],
	    labels[5], v[5], labels[6], v[6], labels[7], v[7], labels[8], v[8], labels[9], v[9],
	    labels[10], v[10], labels[11], v[11], NULL);
	/* major.minor of VERSION_ID, as a number */
	char *e;
	double maj = strtod(v[11], &e);
	if (e != v[11]) {
		collect_family(c, "node_os_version", "Metric containing the major.minor part of the OS version.", COLLECT_GAUGE);
		collect_add(c, maj, "id", v[1], "id_like", v[2], "name", v[5], NULL);
	}
	return 0;
}
