/* diskstats.c — node_disk_* from /proc/diskstats (and udev data for node_disk_info). */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collect/collect.h"

#define DISK_MAX 1024		/* devices reported */
#define DISK_NAME_MAX 64	/* bytes of a device name */
#define DISK_FIELDS 17		/* counters after the name */

struct disk {
	char name[DISK_NAME_MAX];	/* device name */
	unsigned maj, min;		/* device numbers */
	double f[DISK_FIELDS];		/* the fields, as read */
	int nf;				/* fields present */
};

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

/* node_exporter's default exclude: ^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$ */
static int disk_excluded(const char *n)
{
	if ((!strncmp(n, "ram", 3) && all_digits(n + 3)) || (!strncmp(n, "loop", 4) && all_digits(n + 4)) ||
	    (!strncmp(n, "fd", 2) && all_digits(n + 2)))
		return 1;
	const char *p = n;
	if (*p == 'h' || *p == 's' || *p == 'v')
		p++;
	else if (!strncmp(p, "xv", 2))
		p += 2;
	else
		p = NULL;
	if (p && p[0] == 'd' && p[1] >= 'a' && p[1] <= 'z' && all_digits(p + 2))
		return 1;
	if (!strncmp(n, "nvme", 4)) {
		p = n + 4;
		char *e;
		strtoul(p, &e, 10);
		if (e != p && *e == 'n') {
			p = e + 1;
			strtoul(p, &e, 10);
			if (e != p && *e == 'p' && all_digits(e + 1))
				return 1;
		}
	}
	return 0;
}

/* Copy udev property key (e.g. "ID_MODEL") of the device into out, or "". */
static void udev_prop(const char *data, const char *key, char *out, size_t outsz)
{
	char pat[64];
	snprintf(pat, sizeof(pat), "E:%s=", key);
	out[0] = 0;
	const char *p = data ? strstr(data, pat) : NULL;
	if (!p)
		return;
	p += strlen(pat);
	size_t n = strcspn(p, "\n");
	snprintf(out, outsz, "%.*s", (int)n, p);
}

int collect_diskstats(struct collect_ctx *c)
{
	static const struct { const char *name, *help; int field; double scale; enum collect_type t; } m[] = {
		{ "node_disk_discard_time_seconds_total", "This is the total number of seconds spent by all discards.", 14, 0.001, COLLECT_COUNTER },
		{ "node_disk_discarded_sectors_total", "The total number of sectors discarded successfully.", 13, 1, COLLECT_COUNTER },
		{ "node_disk_discards_completed_total", "The total number of discards completed successfully.", 11, 1, COLLECT_COUNTER },
		{ "node_disk_discards_merged_total", "The total number of discards merged.", 12, 1, COLLECT_COUNTER },
		{ "node_disk_flush_requests_time_seconds_total", "This is the total number of seconds spent by all flush requests.", 16, 0.001, COLLECT_COUNTER },
		{ "node_disk_flush_requests_total", "The total number of flush requests completed successfully", 15, 1, COLLECT_COUNTER },
		{ "node_disk_io_now", "The number of I/Os currently in progress.", 8, 1, COLLECT_GAUGE },
		{ "node_disk_io_time_seconds_total", "Total seconds spent doing I/Os.", 9, 0.001, COLLECT_COUNTER },
		{ "node_disk_io_time_weighted_seconds_total", "The weighted # of seconds spent doing I/Os.", 10, 0.001, COLLECT_COUNTER },
		{ "node_disk_read_bytes_total", "The total number of bytes read successfully.", 2, 512, COLLECT_COUNTER },
		{ "node_disk_read_time_seconds_total", "The total number of seconds spent by all reads.", 3, 0.001, COLLECT_COUNTER },
		{ "node_disk_reads_completed_total", "The total number of reads completed successfully.", 0, 1, COLLECT_COUNTER },
		{ "node_disk_reads_merged_total", "The total number of reads merged.", 1, 1, COLLECT_COUNTER },
		{ "node_disk_write_time_seconds_total", "This is the total number of seconds spent by all writes.", 7, 0.001, COLLECT_COUNTER },
		{ "node_disk_writes_completed_total", "The total number of writes completed successfully.", 4, 1, COLLECT_COUNTER },
		{ "node_disk_writes_merged_total", "The number of writes merged.", 5, 1, COLLECT_COUNTER },
		{ "node_disk_written_bytes_total", "The total number of bytes written successfully.", 6, 512, COLLECT_COUNTER },
	};
	static struct disk disks[DISK_MAX];	/* reused between runs (one collector thread) */
	size_t nd = 0, len;
	const char *p = collect_read(c, collect_cfg(c)->proc, "diskstats", &len);
	if (!p)
		return -1;
	const char *end = p + len;
	for (const char *q = p; q < end && nd < DISK_MAX; q = collect_next_line(q, end)) {
		struct disk *d = &disks[nd];
		/* "   7       0 loop0 ..." */
		const char *le = collect_next_line(q, end), *s = q;
		char *e;
		unsigned long mj = strtoul(s, &e, 10);
		if (e == s)
			continue;
		s = e;
		unsigned long mn = strtoul(s, &e, 10);
		if (e == s || *e != ' ')
			continue;
		s = e;
		while (s < le && *s == ' ')
			s++;
		const char *ne = s;
		while (ne < le && *ne != ' ' && *ne != '\n')
			ne++;
		if (ne == s || ne - s >= (ptrdiff_t)sizeof(d->name) || mj > UINT32_MAX || mn > UINT32_MAX)
			continue;
		memcpy(d->name, s, (size_t)(ne - s));
		d->name[ne - s] = 0;
		d->maj = (unsigned)mj;
		d->min = (unsigned)mn;
		if (disk_excluded(d->name))
			continue;
		s = ne;
		d->nf = 0;
		while (d->nf < DISK_FIELDS && s < le && *s == ' ') {
			d->f[d->nf] = collect_num(s, &e);
			if (e == s)
				break;
			d->nf++;
			s = e;
		}
		nd++;
	}
	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		collect_family(c, m[i].name, m[i].help, m[i].t);
		for (size_t k = 0; k < nd; k++)
			if (disks[k].nf > m[i].field)
				collect_add(c, disks[k].f[m[i].field] * m[i].scale, "device", disks[k].name, NULL);
	}
	collect_family(c, "node_disk_info", "Info of /sys/block/<block_device>.", COLLECT_GAUGE);
	for (size_t k = 0; k < nd; k++) {
		char rel[64], maj[16], min[16], model[256], path[256], rev[256], serial[256], wwn[256];
		snprintf(rel, sizeof(rel), "udev/data/b%u:%u", disks[k].maj, disks[k].min);
		/* udev's database lives under /run, next to /proc in fixture trees */
		char runroot[4096];
		snprintf(runroot, sizeof(runroot), "%s/../run", collect_cfg(c)->proc);
		const char *data = collect_read_once(c, strcmp(collect_cfg(c)->proc, "/proc") ? runroot : "/run", rel, NULL);
		udev_prop(data, "ID_MODEL", model, sizeof(model));
		udev_prop(data, "ID_PATH", path, sizeof(path));
		udev_prop(data, "ID_REVISION", rev, sizeof(rev));
		udev_prop(data, "ID_SERIAL_SHORT", serial, sizeof(serial));
		udev_prop(data, "ID_WWN", wwn, sizeof(wwn));
		snprintf(maj, sizeof(maj), "%u", disks[k].maj);
		snprintf(min, sizeof(min), "%u", disks[k].min);
		collect_add(c, 1, "device", disks[k].name, "major", maj, "minor", min, "model", model,
		    "path", path, "revision", rev, "serial", serial, "wwn", wwn, NULL);
	}
	return 0;
}
