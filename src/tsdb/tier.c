/* tier.c — see tier.h; the byte layout is in docs/STORAGE.md. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/kahan.h"
#include "core/xmalloc.h"
#include "tsdb/block.h"
#include "tsdb/chunk.h"
#include "tsdb/crc32c.h"
#include "tsdb/fileutil.h"
#include "tsdb/tier.h"

int64_t tier_bucket_end(int64_t t, int64_t res)
{
	int64_t q = t / res;
	if (t % res > 0)
		q++;
	return q * res;
}

/* Column arrays of one series at one resolution. */
struct cols {
	struct samples agg[4];	/* min, max, sum, count at bucket ends */
	struct samples last;	/* last samples at their own times */
	size_t nb;		/* buckets with any sample */
};

static void cols_reset(struct cols *c)
{
	for (int i = 0; i < 4; i++)
		c->agg[i].n = 0;
	c->last.n = 0;
	c->nb = 0;
}

static void cols_free(struct cols *c)
{
	for (int i = 0; i < 4; i++)
		samples_free(&c->agg[i]);
	samples_free(&c->last);
}

/* Aggregate t/v (ascending) into buckets of res. */
static void aggregate(const int64_t *t, const double *v, size_t n, int64_t res, struct cols *c)
{
	size_t i = 0;
	while (i < n) {
		int64_t end = tier_bucket_end(t[i], res);
		double mn = 0, mx = 0, sum = 0, comp = 0;
		size_t cnt = 0, lastv = SIZE_MAX, j = i;
		for (; j < n && t[j] <= end; j++) {
			if (is_stale_nan(v[j]))
				continue;
			double x = v[j];
			if (cnt == 0) {
				mn = mx = x;
			} else {
				/* The engine's rule: NaN only when every value is NaN. */
				if (x < mn || isnan(mn))
					mn = x;
				if (x > mx || isnan(mx))
					mx = x;
			}
			sum = kahan_inc(x, sum, &comp);
			cnt++;
			lastv = j;
		}
		if (cnt) {
			samples_add(&c->agg[0], end, mn);
			samples_add(&c->agg[1], end, mx);
			samples_add(&c->agg[2], end, isinf(sum) ? sum : sum + comp);
			samples_add(&c->agg[3], end, (double)cnt);
			samples_add(&c->last, t[lastv], v[lastv]);
		}
		if (lastv != j - 1)	/* the bucket ends on a staleness marker */
			samples_add(&c->last, t[j - 1], v[j - 1]);
		c->nb++;
		i = j;
	}
}

/* Append one column: uvarint length (0: empty) and its chunk. 0 or -errno
 * (a column that does not encode would silently lose data otherwise). */
static int put_col(struct buf *out, struct buf *scratch, const struct samples *s)
{
	buf_reset(scratch);
	if (s->n == 0)
		return buf_add_uvarint(out, 0);
	int rc = chunk_encode(s->t, s->v, s->n, scratch);
	if (rc == 0)
		rc = buf_add_uvarint(out, scratch->len);
	if (rc == 0)
		rc = buf_add(out, scratch->data, scratch->len);
	return rc;
}

static int write_all_crc(int fd, const struct buf *b, uint32_t *crc)
{
	*crc = tsdb_crc32c(*crc, b->data, b->len);
	return tsdb_write_all(fd, b->data, b->len);
}

int tier_build(struct block *b, const int64_t *res, size_t nres, char *err, size_t errsz)
{
	char tmp[PATH_MAX], fin[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/tiers.tmp", b->dir);
	snprintf(fin, sizeof(fin), "%s/tiers", b->dir);
	if (nres == 0 || nres > TIER_RES_MAX) {
		snprintf(err, errsz, "tiers: %zu resolutions", nres);
		return -EINVAL;
	}
	struct buf head, ent, scratch;
	struct bseries bs = { 0 };
	struct samples sm = { 0 };
	struct cols c;
	memset(&c, 0, sizeof(c));
	buf_init(&head, 64);
	buf_init(&ent, (size_t)1 << 26);
	buf_init(&scratch, (size_t)1 << 20);
	uint32_t crc = 0;
	int rc = 0;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	buf_add(&head, TIER_MAGIC, BLOCK_MAGIC_LEN);
	buf_add_u32le(&head, (uint32_t)nres);
	for (size_t k = 0; k < nres; k++)
		buf_add_u32le(&head, (uint32_t)res[k]);
	buf_add_u32le(&head, b->ix.nseries);
	rc = tsdb_write_all(fd, head.data, head.len);
	crc = tsdb_crc32c(0, head.data + BLOCK_MAGIC_LEN, head.len - BLOCK_MAGIC_LEN);
	for (uint32_t i = 0; i < b->ix.nseries && rc == 0; i++) {
		sm.n = 0;
		if ((rc = block_series_samples(b, i, &bs, INT64_MIN, INT64_MAX, &sm)) < 0)
			break;
		buf_reset(&ent);
		for (size_t k = 0; k < nres && rc == 0; k++) {
			cols_reset(&c);
			aggregate(sm.t, sm.v, sm.n, res[k], &c);
			if (c.nb > TIER_BUCKETS_MAX) {
				rc = -E2BIG;
				break;
			}
			buf_add_uvarint(&ent, c.nb);
			if (c.nb == 0)
				continue;
			for (int col = 0; col < 4 && rc == 0; col++)
				rc = put_col(&ent, &scratch, &c.agg[col]);
			if (rc == 0)
				rc = put_col(&ent, &scratch, &c.last);
		}
		if (rc == 0)
			rc = write_all_crc(fd, &ent, &crc);
	}
	if (rc == 0) {
		buf_reset(&head);
		buf_add_u32le(&head, crc);
		rc = tsdb_write_all(fd, head.data, head.len);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	fd = -1;
	if (rc == 0 && rename(tmp, fin) < 0)
		rc = -errno;
	if (rc == 0)
		rc = tsdb_fsync_dir(b->dir);
	if (rc == 0) {
		tier_close(b->tiers);
		b->tiers = NULL;
		rc = tier_open(b->dir, b->ix.nseries, &b->tiers, err, errsz);
		b->bytes = tsdb_du(b->dir);
	}
out:
	if (rc < 0) {
		if (rc != -EINVAL || !err[0])
			snprintf(err, errsz, "%s: %s", tmp, strerror(-rc));
		unlink(tmp);
	}
	cols_free(&c);
	samples_free(&sm);
	bseries_free(&bs);
	buf_free(&head);
	buf_free(&ent);
	buf_free(&scratch);
	return rc;
}

#define TIER_FAIL(...) do { snprintf(err, errsz, __VA_ARGS__); goto fail; } while (0)

int tier_parse(const uint8_t *p, size_t len, uint32_t nseries, struct tiers *t, char *err,
    size_t errsz)
{
	uint32_t crc;
	struct rd r;
	t->off = NULL;
	if (len < 20 || memcmp(p, TIER_MAGIC, BLOCK_MAGIC_LEN) != 0)
		TIER_FAIL("bad magic");
	crc = (uint32_t)p[len - 4] | (uint32_t)p[len - 3] << 8 | (uint32_t)p[len - 2] << 16 |
	    (uint32_t)p[len - 1] << 24;
	if (tsdb_crc32c(0, p + BLOCK_MAGIC_LEN, len - BLOCK_MAGIC_LEN - 4) != crc)
		TIER_FAIL("checksum mismatch");
	rd_init(&r, p + BLOCK_MAGIC_LEN, len - BLOCK_MAGIC_LEN - 4);
	if (rd_u32le(&r, &t->nres) < 0 || t->nres == 0 || t->nres > TIER_RES_MAX)
		TIER_FAIL("bad resolution count");
	for (uint32_t k = 0; k < t->nres; k++) {
		uint32_t v;
		if (rd_u32le(&r, &v) < 0 || v == 0 || (k && (int64_t)v <= t->res[k - 1]))
			TIER_FAIL("bad resolution");
		t->res[k] = v;
	}
	if (rd_u32le(&r, &t->nseries) < 0 || (nseries != UINT32_MAX && t->nseries != nseries))
		TIER_FAIL("series count does not match the index");
	/* Every entry takes at least one byte. */
	if ((uint64_t)t->nseries * t->nres > rd_left(&r))
		TIER_FAIL("truncated");
	t->off = xcalloc((size_t)t->nseries * t->nres + 1, sizeof(*t->off));
	for (uint64_t i = 0; i < (uint64_t)t->nseries * t->nres; i++) {
		uint64_t nb, clen;
		const uint8_t *skip;
		t->off[i] = len - 4 - rd_left(&r);
		if (rd_uvarint(&r, &nb) < 0 || nb > TIER_BUCKETS_MAX)
			TIER_FAIL("entry %llu: bad bucket count", (unsigned long long)i);
		for (int col = 0; nb && col < TIER_NCOLS; col++)
			if (rd_uvarint(&r, &clen) < 0 || rd_bytes(&r, clen, &skip) < 0 ||
			    (clen && chunk_count(skip, clen) == 0))
				TIER_FAIL("entry %llu: bad column", (unsigned long long)i);
	}
	if (rd_left(&r))
		TIER_FAIL("trailing bytes");
	return 0;
fail:
	free(t->off);
	t->off = NULL;
	return -EINVAL;
}

int tier_open(const char *dir, uint32_t nseries, struct tiers **out, char *err, size_t errsz)
{
	char path[PATH_MAX], perr[200];
	struct stat st;
	*out = NULL;
	snprintf(path, sizeof(path), "%s/tiers", dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct tiers *t = xcalloc(1, sizeof(*t));
	if (fstat(fd, &st) < 0 || st.st_size < 20 || (uint64_t)st.st_size > TIER_FILE_MAX) {
		close(fd);
		snprintf(err, errsz, "%s: bad size", path);
		goto fail;
	}
	t->len = (size_t)st.st_size;
	t->map = mmap(NULL, t->len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (t->map == MAP_FAILED) {
		t->map = NULL;
		snprintf(err, errsz, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (tier_parse(t->map, t->len, nseries, t, perr, sizeof(perr)) < 0) {
		snprintf(err, errsz, "%s: %s", path, perr);
		goto fail;
	}
	*out = t;
	return 0;
fail:
	tier_close(t);
	return -EINVAL;
}

void tier_close(struct tiers *t)
{
	if (!t)
		return;
	if (t->map)
		munmap(t->map, t->len);
	free(t->off);
	free(t);
}

int tier_index(const struct tiers *t, int64_t res)
{
	for (uint32_t k = 0; t && k < t->nres; k++)
		if (t->res[k] == res)
			return (int)k;
	return -1;
}

int tier_read(const struct tiers *t, uint32_t series, int k, enum tier_col col, int64_t mint,
    int64_t maxt, struct samples *out)
{
	const uint8_t *base = t->base ? t->base : t->map;
	if (series >= t->nseries || k < 0 || (uint32_t)k >= t->nres)
		return -EINVAL;
	struct rd r;
	uint64_t off = t->off[(size_t)series * t->nres + (size_t)k], nb, len;
	const uint8_t *p = NULL;
	rd_init(&r, base + off, t->len - 4 - off);
	if (rd_uvarint(&r, &nb) < 0)
		return -EINVAL;
	if (nb == 0)
		return 0;
	for (int c = 0; c <= (int)col; c++)
		if (rd_uvarint(&r, &len) < 0 || rd_bytes(&r, len, &p) < 0)
			return -EINVAL;
	if (len == 0)
		return 0;
	struct chunk_iter it;
	int64_t ts;
	double v;
	int rc;
	if (chunk_iter_init(&it, p, len) < 0)
		return -EINVAL;
	while ((rc = chunk_iter_next(&it, &ts, &v)) == 1) {
		if (ts > maxt)
			break;
		if (ts >= mint)
			samples_add(out, ts, v);
	}
	return rc < 0 ? -EINVAL : 0;
}
