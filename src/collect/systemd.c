/* systemd.c — systemd presence only. Unit states need systemd's D-Bus API,
 * which vigil does not link, so no node_systemd_unit_state series are made;
 * the collector fails (node_scrape_collector_success 0) when systemd is not
 * the init system, as node_exporter's systemd collector does on such hosts. */
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "collect/collect.h"

int collect_systemd(struct collect_ctx *c)
{
	struct stat st;
	(void)c;
	if (stat("/run/systemd/system", &st) != 0 || !S_ISDIR(st.st_mode))
		return -ENOENT;	/* systemd is not running here */
	return 0;
}
