/* wal.c — see wal.h; file layout in docs/STORAGE.md. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "tsdb/crc32c.h"
#include "tsdb/fileutil.h"
#include "tsdb/wal.h"

#define WAL_SEGMENTS_MAX 100000u	/* segment files replay will consider */

const double wal_fsync_bucket_le[8] = { 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, INFINITY };

/* ---- decoding ---- */

static int decode_series(struct rd *r, const struct wal_replay_ops *ops)
{
	uint64_t ref, n;
	if (rd_uvarint(r, &ref) < 0 || rd_uvarint(r, &n) < 0 || n == 0 || n > LABELS_MAX)
		return -1;
	struct label v[LABELS_MAX];
	char *strs[2 * LABELS_MAX];
	size_t ns = 0;
	int rc = 0;
	for (uint64_t i = 0; i < n && rc == 0; i++) {
		for (int k = 0; k < 2; k++) {
			uint64_t len;
			const uint8_t *p;
			if (rd_uvarint(r, &len) < 0 || len == 0 || len > LABEL_VALUE_MAX ||
			    rd_bytes(r, len, &p) < 0 || memchr(p, 0, len)) {
				rc = -1;
				break;
			}
			strs[ns++] = xstrndup((const char *)p, len);
		}
		if (rc == 0) {
			v[i].name = strs[ns - 2];
			v[i].value = strs[ns - 1];
		}
	}
	struct labels *ls = rc == 0 ? labels_new(v, n) : NULL;
	if (ls && ls->n == n && ops && ops->series)
		ops->series(ops->arg, ref, ls);
	if (!ls || ls->n != n)
		rc = -1;
	labels_free(ls);
	for (size_t i = 0; i < ns; i++)
		free(strs[i]);
	return rc;
}

static int decode_samples(struct rd *r, const struct wal_replay_ops *ops)
{
	while (rd_left(r)) {
		uint64_t ref, bits;
		int64_t t;
		if (rd_uvarint(r, &ref) < 0 || rd_varint(r, &t) < 0 || rd_u64le(r, &bits) < 0)
			return -1;
		double v;
		memcpy(&v, &bits, 8);
		if (ops && ops->sample)
			ops->sample(ops->arg, ref, t, v);
	}
	return 0;
}

#define WAL_DELETE_REFS_MAX (WAL_RECORD_MAX / 2)	/* refs in one delete record */

static int decode_delete(struct rd *r, const struct wal_replay_ops *ops)
{
	int64_t mint, maxt;
	uint64_t n;
	if (rd_varint(r, &mint) < 0 || rd_varint(r, &maxt) < 0 || rd_uvarint(r, &n) < 0 ||
	    n > rd_left(r) || n > WAL_DELETE_REFS_MAX || mint > maxt)
		return -1;
	uint64_t *refs = xmalloc((n ? n : 1) * sizeof(*refs));
	for (uint64_t i = 0; i < n; i++)
		if (rd_uvarint(r, &refs[i]) < 0) {
			free(refs);
			return -1;
		}
	if (ops && ops->del)
		ops->del(ops->arg, mint, maxt, refs, n);
	free(refs);
	return 0;
}

size_t wal_decode(const uint8_t *p, size_t n, const struct wal_replay_ops *ops)
{
	size_t off = 0;
	while (n - off >= WAL_HEADER) {
		uint32_t len, crc;
		struct rd r;
		rd_init(&r, p + off, WAL_HEADER);
		rd_u32le(&r, &len);
		rd_u32le(&r, &crc);
		if (len == 0 || len > WAL_RECORD_MAX || len > n - off - WAL_HEADER)
			break;
		const uint8_t *rec = p + off + WAL_HEADER;
		if (tsdb_crc32c(0, rec, len) != crc)
			break;
		rd_init(&r, rec + 1, len - 1);
		int rc = -1;
		if (rec[0] == WAL_SERIES)
			rc = decode_series(&r, ops);
		else if (rec[0] == WAL_SAMPLES)
			rc = decode_samples(&r, ops);
		else if (rec[0] == WAL_DELETE)
			rc = decode_delete(&r, ops);
		if (rc < 0 || rd_left(&r))
			break;
		off += WAL_HEADER + len;
	}
	return off;
}

/* ---- replay ---- */

static int is_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* Replay one file; truncate it to its valid prefix if truncate_bad. */
static int replay_file(const char *path, const struct wal_replay_ops *ops, int truncate_bad)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	size_t size = (size_t)st.st_size, good = 0;
	if (size) {
		void *m = mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (m == MAP_FAILED) {
			int e = -errno;
			close(fd);
			return e;
		}
		good = wal_decode(m, size, ops);
		munmap(m, size);
	}
	close(fd);
	if (good < size) {
		char q[PATH_MAX + 8];
		log_warn("wal: torn or corrupt tail cut off", "file=%s offset=%zu dropped_bytes=%zu",
		    log_quote(q, sizeof(q), path), good, size - good);
		if (truncate_bad && truncate(path, (off_t)good) < 0)
			return -errno;
	}
	return 0;
}

int wal_replay(const char *dir, const struct wal_replay_ops *ops, uint32_t *next_seg,
    char *err, size_t errsz)
{
	DIR *d = opendir(dir);
	*next_seg = 1;
	if (!d) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errsz, "%s: %s", dir, strerror(errno));
		return -errno;
	}
	uint32_t *segs = NULL, nseg = 0, capseg = 0, cp = 0;
	int have_cp = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		size_t l = strlen(e->d_name);
		if (l > 4 && !strcmp(e->d_name + l - 4, ".tmp")) {
			if (!ops->read_only)
				unlink(path);	/* an unfinished checkpoint */
		} else if (!strncmp(e->d_name, "checkpoint.", 11) && is_digits(e->d_name + 11)) {
			uint32_t n = (uint32_t)strtoul(e->d_name + 11, NULL, 10);
			if (!have_cp || n > cp)
				cp = n;
			have_cp = 1;
		} else if (is_digits(e->d_name) && nseg < WAL_SEGMENTS_MAX) {
			if (nseg == capseg) {
				capseg = capseg ? capseg * 2 : 16;
				segs = xreallocarray(segs, capseg, sizeof(*segs));
			}
			segs[nseg++] = (uint32_t)strtoul(e->d_name, NULL, 10);
		}
	}
	closedir(d);
	qsort(segs, nseg, sizeof(*segs), cmp_u32);
	int rc = 0;
	char path[PATH_MAX];
	if (have_cp) {
		snprintf(path, sizeof(path), "%s/checkpoint.%08" PRIu32, dir, cp);
		rc = replay_file(path, ops, 0);
		*next_seg = cp;
	}
	for (uint32_t i = 0; i < nseg && rc == 0; i++) {
		if (have_cp && segs[i] < cp)
			continue;
		snprintf(path, sizeof(path), "%s/%08" PRIu32, dir, segs[i]);
		rc = replay_file(path, ops, !ops->read_only);
		*next_seg = segs[i] + 1;
	}
	free(segs);
	if (rc < 0)
		snprintf(err, errsz, "wal replay %s: %s", path, strerror(-rc));
	return rc;
}

/* ---- writing ---- */

static int open_file(struct wal *w, const char *path, char *err, size_t errsz)
{
	w->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_TRUNC | O_CLOEXEC, 0640);
	if (w->fd < 0) {
		int e = -errno;
		if (err)
			snprintf(err, errsz, "%s: %s", path, strerror(errno));
		return e;
	}
	w->off = 0;
	return 0;
}

int wal_open(struct wal *w, const char *dir, uint32_t seg, uint64_t seg_max,
    int64_t fsync_interval_ms, char *err, size_t errsz)
{
	memset(w, 0, sizeof(*w));
	w->fd = -1;
	int rc = tsdb_mkdir(dir);
	if (rc < 0) {
		snprintf(err, errsz, "%s: %s", dir, strerror(-rc));
		return rc;
	}
	w->dir = xstrdup(dir);
	w->seg = seg;
	w->seg_max = seg_max;
	w->fsync_interval_ms = fsync_interval_ms;
	w->last_sync_ms = clock_mono_ms();
	buf_init(&w->rec, WAL_RECORD_MAX + WAL_HEADER);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%08" PRIu32, dir, seg);
	rc = open_file(w, path, err, errsz);
	if (rc == 0)
		tsdb_fsync_dir(dir);
	return rc;
}

int wal_sync(struct wal *w)
{
	if (w->fd < 0 || !w->dirty)
		return 0;
	int64_t t0 = clock_mono_ns();
	int rc = fdatasync(w->fd) < 0 ? -errno : 0;
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	w->fsyncs++;
	w->fsync_seconds += secs;
	for (int i = 0; i < 8; i++)
		if (secs <= wal_fsync_bucket_le[i]) {
			w->fsync_buckets[i]++;
			break;
		}
	w->last_sync_ms = clock_mono_ms();
	if (rc == 0)
		w->dirty = 0;
	return rc;
}

int wal_sync_due(struct wal *w)
{
	if (w->dirty && clock_mono_ms() - w->last_sync_ms >= w->fsync_interval_ms)
		return wal_sync(w);
	return 0;
}

void wal_close(struct wal *w)
{
	if (!w)
		return;
	if (w->fd >= 0) {
		wal_sync(w);
		close(w->fd);
	}
	w->fd = -1;
	buf_free(&w->rec);
	free(w->dir);
	w->dir = NULL;
}

int wal_rotate(struct wal *w, uint32_t *seg)
{
	int rc = wal_sync(w);
	if (rc < 0)
		return rc;
	close(w->fd);
	w->fd = -1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%08" PRIu32, w->dir, w->seg + 1);
	rc = open_file(w, path, NULL, 0);
	if (rc < 0) {
		/* Keep appending to the old segment rather than lose the WAL. */
		snprintf(path, sizeof(path), "%s/%08" PRIu32, w->dir, w->seg);
		w->fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
		struct stat st;
		if (w->fd >= 0 && fstat(w->fd, &st) == 0)
			w->off = (uint64_t)st.st_size;
		return rc;
	}
	w->seg++;
	tsdb_fsync_dir(w->dir);
	if (seg)
		*seg = w->seg;
	return 0;
}

int wal_encode(struct buf *out, enum wal_type type, const void *payload, size_t n)
{
	if (n + 1 > WAL_RECORD_MAX)
		return -E2BIG;
	size_t start = out->len;
	if (buf_add_u32le(out, (uint32_t)(n + 1)) < 0 || buf_add_u32le(out, 0) < 0 ||
	    buf_add_u8(out, (uint8_t)type) < 0 || buf_add(out, payload, n) < 0) {
		out->len = start;
		return -E2BIG;
	}
	uint32_t crc = tsdb_crc32c(0, out->data + start + WAL_HEADER, n + 1);
	for (int i = 0; i < 4; i++)
		out->data[start + 4 + i] = (char)(crc >> (8 * i));
	return 0;
}

static int write_buf(struct wal *w, const struct buf *b)
{
	if (w->fd < 0)
		return -EBADF;
	int rc = tsdb_write_all(w->fd, b->data, b->len);
	if (rc < 0) {
		/* Leave only whole records behind so later ones stay replayable. */
		if (ftruncate(w->fd, (off_t)w->off) < 0)
			log_error("wal: cannot undo a partial write", "errno=%d", errno);
		return rc;
	}
	w->off += b->len;
	w->dirty = 1;
	if (w->off >= w->seg_max && w->seg_max)
		wal_rotate(w, NULL);
	return wal_sync_due(w);
}

/* Write the record in w->rec (header included); undo a partial write. */
static int write_rec(struct wal *w)
{
	return write_buf(w, &w->rec);
}

int wal_write_records(struct wal *w, const struct buf *recs)
{
	return recs->len ? write_buf(w, recs) : 0;
}

int wal_encode_series(struct buf *out, uint64_t ref, const struct labels *ls)
{
	struct buf p;
	buf_init(&p, WAL_RECORD_MAX - 1);
	int bad = buf_add_uvarint(&p, ref) < 0 || buf_add_uvarint(&p, ls->n) < 0;
	for (size_t i = 0; i < ls->n && !bad; i++)
		bad = buf_add_uvarint(&p, strlen(ls->v[i].name)) < 0 || buf_adds(&p, ls->v[i].name) < 0 ||
		    buf_add_uvarint(&p, strlen(ls->v[i].value)) < 0 || buf_adds(&p, ls->v[i].value) < 0;
	/* a label set too large for one record is refused, never cut short */
	int rc = bad ? -E2BIG : wal_encode(out, WAL_SERIES, p.data, p.len);
	buf_free(&p);
	return rc;
}

int wal_log_series(struct wal *w, uint64_t ref, const struct labels *ls)
{
	buf_reset(&w->rec);
	int rc = wal_encode_series(&w->rec, ref, ls);
	return rc < 0 ? rc : write_rec(w);
}

int wal_log_sample(struct wal *w, uint64_t ref, int64_t t, double v)
{
	uint8_t p[32];
	struct buf b;
	uint64_t bits;
	memcpy(&bits, &v, 8);
	buf_init(&b, sizeof(p));
	buf_add_uvarint(&b, ref);
	buf_add_varint(&b, t);
	buf_add_u64le(&b, bits);
	memcpy(p, b.data, b.len);
	size_t n = b.len;
	buf_free(&b);
	buf_reset(&w->rec);
	wal_encode(&w->rec, WAL_SAMPLES, p, n);
	return write_rec(w);
}

int wal_log_delete(struct wal *w, int64_t mint, int64_t maxt, const uint64_t *refs, size_t n)
{
	struct buf p;
	buf_init(&p, WAL_RECORD_MAX - 1);
	buf_add_varint(&p, mint);
	buf_add_varint(&p, maxt);
	buf_add_uvarint(&p, n);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = buf_add_uvarint(&p, refs[i]);
	buf_reset(&w->rec);
	if (rc == 0)
		rc = wal_encode(&w->rec, WAL_DELETE, p.data, p.len);
	buf_free(&p);
	return rc < 0 ? rc : write_rec(w);
}

int wal_log_samples(struct wal *w, uint64_t ref, const int64_t *t, const double *v, size_t n)
{
	struct buf p;
	buf_init(&p, WAL_RECORD_MAX - 1);
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++) {
		uint64_t bits;
		memcpy(&bits, &v[i], 8);
		buf_add_uvarint(&p, ref);
		buf_add_varint(&p, t[i]);
		buf_add_u64le(&p, bits);
		if (p.len > (1u << 16) || i + 1 == n) {
			buf_reset(&w->rec);
			rc = wal_encode(&w->rec, WAL_SAMPLES, p.data, p.len);
			if (rc == 0)
				rc = write_rec(w);
			buf_reset(&p);
		}
	}
	buf_free(&p);
	return rc;
}

int wal_checkpoint_begin(struct wal *w, uint32_t seg, struct wal *cp)
{
	memset(cp, 0, sizeof(*cp));
	cp->dir = xstrdup(w->dir);
	cp->seg = seg;
	cp->fsync_interval_ms = INT64_MAX / 2;
	cp->last_sync_ms = clock_mono_ms();
	buf_init(&cp->rec, WAL_RECORD_MAX + WAL_HEADER);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/checkpoint.%08" PRIu32 ".tmp", w->dir, seg);
	return open_file(cp, path, NULL, 0);
}

int wal_checkpoint_finish(struct wal *w, struct wal *cp, uint32_t seg)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/checkpoint.%08" PRIu32 ".tmp", w->dir, seg);
	snprintf(fin, sizeof(fin), "%s/checkpoint.%08" PRIu32, w->dir, seg);
	cp->dirty = 1;
	int rc = wal_sync(cp);
	wal_close(cp);
	if (rc == 0 && rename(tmp, fin) < 0)
		rc = -errno;
	if (rc < 0) {
		unlink(tmp);
		return rc;
	}
	tsdb_fsync_dir(w->dir);
	DIR *d = opendir(w->dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char path[PATH_MAX];
		snprintf(path, sizeof(path), "%s/%s", w->dir, e->d_name);
		if (is_digits(e->d_name) && strtoul(e->d_name, NULL, 10) < seg)
			unlink(path);
		else if (!strncmp(e->d_name, "checkpoint.", 11) && is_digits(e->d_name + 11) &&
		    strtoul(e->d_name + 11, NULL, 10) < seg)
			unlink(path);
	}
	if (d)
		closedir(d);
	return 0;
}

uint64_t wal_disk_bytes(const char *dir)
{
	return tsdb_du(dir);
}
