/* uname.c — node_uname_info from uname(2). */
#include <sys/utsname.h>

#include "collect/collect.h"

int collect_uname(struct collect_ctx *c)
{
	struct utsname u;
	if (uname(&u) != 0)
		return -1;
	collect_family(c, "node_uname_info", "Labeled system information as provided by the uname system call.", COLLECT_GAUGE);
	return collect_add(c, 1, "domainname", u.domainname, "machine", u.machine, "nodename", u.nodename,
	    "release", u.release, "sysname", u.sysname, "version", u.version, NULL);
}
