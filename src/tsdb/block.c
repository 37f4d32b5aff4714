/* block.c — see block.h; the byte layout is in docs/STORAGE.md. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "tsdb/block.h"
#include "tsdb/chunk.h"
#include "tsdb/crc32c.h"
#include "tsdb/fileutil.h"
#include "tsdb/tier.h"

#define BLOCK_INDEX_MAX ((uint64_t)1 << 36)	/* bytes in one index file */

/* ---- index parsing ---- */

static int section(struct rd *r, const uint8_t **p, size_t *len)
{
	uint32_t n, crc;
	if (rd_u32le(r, &n) < 0 || rd_bytes(r, n, p) < 0 || rd_u32le(r, &crc) < 0)
		return -1;
	*len = n;
	return tsdb_crc32c(0, *p, n) == crc ? 0 : -2;
}

static int series_decode(const struct block_index *ix, struct rd *r, struct bseries *s)
{
	uint64_t nl, nc;
	if (rd_uvarint(r, &nl) < 0 || nl == 0 || nl > LABELS_MAX)
		return -1;
	s->nl = (uint32_t)nl;
	for (uint64_t i = 0; i < 2 * nl; i++) {
		uint64_t id;
		if (rd_uvarint(r, &id) < 0 || id >= ix->nsyms)
			return -1;
		s->syms[i] = (uint32_t)id;
		if ((i & 1) && !ix->syms[id][0])
			return -1;	/* empty values are never stored */
		if (!(i & 1) && i > 0 && strcmp(ix->syms[s->syms[i - 2]], ix->syms[id]) >= 0)
			return -1;	/* names strictly ascending */
	}
	if (rd_uvarint(r, &nc) < 0 || nc > rd_left(r))
		return -1;
	if (nc > s->capchunks) {
		s->capchunks = nc;
		s->chunks = xreallocarray(s->chunks, nc, sizeof(*s->chunks));
	}
	s->nchunks = nc;
	for (uint64_t i = 0; i < nc; i++) {
		struct bchunk *c = &s->chunks[i];
		uint64_t d;
		if (rd_varint(r, &c->mint) < 0 || rd_uvarint(r, &d) < 0 ||
		    rd_uvarint(r, &c->off) < 0 || rd_uvarint(r, &c->len) < 0)
			return -1;
		if (d > (uint64_t)INT64_MAX - (uint64_t)(c->mint < 0 ? 0 : c->mint))
			return -1;
		c->maxt = (int64_t)((uint64_t)c->mint + d);
		if (c->len < CHUNK_HEADER || c->off < BLOCK_MAGIC_LEN || c->len > ix->meta.chunks_len ||
		    c->off > ix->meta.chunks_len - c->len)
			return -1;
		if (i > 0 && c->mint <= s->chunks[i - 1].maxt)
			return -1;
	}
	return 0;
}

void bseries_free(struct bseries *s)
{
	if (!s)
		return;
	free(s->chunks);
	s->chunks = NULL;
	s->nchunks = s->capchunks = 0;
}

int block_index_series(const struct block_index *ix, uint32_t i, struct bseries *out)
{
	if (i >= ix->nseries)
		return -EINVAL;
	struct rd r;
	rd_init(&r, ix->series + ix->series_off[i], ix->series_len - ix->series_off[i]);
	return series_decode(ix, &r, out) < 0 ? -EINVAL : 0;
}

static void free_values(void *m)
{
	hmap_free(m, NULL);
	free(m);
}

void block_index_free(struct block_index *ix)
{
	if (!ix)
		return;
	free(ix->syms);
	free(ix->series_off);
	hmap_free(&ix->names, free_values);
	memset(ix, 0, sizeof(*ix));
}

#define PARSE_FAIL(...) do { snprintf(err, errsz, __VA_ARGS__); goto fail; } while (0)

static int parse_header(struct block_meta *m, const uint8_t *p, size_t len)
{
	struct rd r;
	uint32_t version;
	uint64_t mint, maxt;
	rd_init(&r, p, len);
	rd_u32le(&r, &version);
	rd_u64le(&r, &mint);
	rd_u64le(&r, &maxt);
	rd_u64le(&r, &m->nseries);
	rd_u64le(&r, &m->nsamples);
	rd_u64le(&r, &m->nchunks);
	rd_u32le(&r, &m->level);
	rd_u64le(&r, &m->chunks_len);
	rd_u32le(&r, &m->chunks_crc);
	m->mint = (int64_t)mint;
	m->maxt = (int64_t)maxt;
	if (r.err || rd_left(&r) || (version != 1 && version != BLOCK_VERSION) || m->mint > m->maxt ||
	    m->chunks_len < BLOCK_MAGIC_LEN)
		return -1;
	return 0;
}

static int parse_postings(struct block_index *ix, char *err, size_t errsz)
{
	struct rd r;
	uint64_t count;
	rd_init(&r, ix->post, ix->post_len);
	if (rd_uvarint(&r, &count) < 0 || count > ix->post_len)
		PARSE_FAIL("postings: bad count");
	for (uint64_t k = 0; k < count; k++) {
		uint64_t ns, vs, n;
		if (rd_uvarint(&r, &ns) < 0 || rd_uvarint(&r, &vs) < 0 || ns >= ix->nsyms ||
		    vs >= ix->nsyms)
			PARSE_FAIL("postings entry %" PRIu64 ": bad symbol", k);
		size_t at = ix->post_len - rd_left(&r);
		if (rd_uvarint(&r, &n) < 0 || n > ix->nseries || n == 0)
			PARSE_FAIL("postings entry %" PRIu64 ": bad length", k);
		uint64_t id = 0;
		for (uint64_t i = 0; i < n; i++) {
			uint64_t d;
			if (rd_uvarint(&r, &d) < 0 || (i > 0 && d == 0) || d >= ix->nseries ||
			    id + d >= ix->nseries)
				PARSE_FAIL("postings entry %" PRIu64 ": bad id", k);
			id += d;
		}
		const char *name = ix->syms[ns], *value = ix->syms[vs];
		struct hmap *vals = hmap_get(&ix->names, name, strlen(name));
		if (!vals) {
			vals = xcalloc(1, sizeof(*vals));
			hmap_init(vals);
			hmap_put(&ix->names, name, strlen(name), vals);
		}
		if (hmap_put(vals, value, strlen(value), (void *)(uintptr_t)(at + 1)))
			PARSE_FAIL("postings entry %" PRIu64 ": duplicate label pair", k);
	}
	if (rd_left(&r))
		PARSE_FAIL("postings: trailing bytes");
	return 0;
fail:
	return -1;
}

int block_index_parse(const uint8_t *p, size_t n, uint64_t chunks_len,
    struct block_index *ix, char *err, size_t errsz)
{
	memset(ix, 0, sizeof(*ix));
	hmap_init(&ix->names);
	struct bseries s = { 0 };
	const uint8_t *sp;
	size_t slen;
	struct rd r;
	if (n < BLOCK_MAGIC_LEN || memcmp(p, BLOCK_INDEX_MAGIC, BLOCK_MAGIC_LEN) != 0)
		PARSE_FAIL("index: bad magic");
	rd_init(&r, p + BLOCK_MAGIC_LEN, n - BLOCK_MAGIC_LEN);
	static const char *names[4] = { "header", "symbols", "series", "postings" };
	for (int sec = 0; sec < 4; sec++) {
		int rc = section(&r, &sp, &slen);
		if (rc == -1)
			PARSE_FAIL("index: %s section truncated", names[sec]);
		if (rc == -2)
			PARSE_FAIL("index: %s section checksum mismatch", names[sec]);
		if (sec == 0) {
			if (slen != BLOCK_HEADER_LEN || parse_header(&ix->meta, sp, slen) < 0)
				PARSE_FAIL("index: bad header");
			if (chunks_len != UINT64_MAX && ix->meta.chunks_len != chunks_len)
				PARSE_FAIL("index: chunks file is %" PRIu64 " bytes, header says %" PRIu64,
				    chunks_len, ix->meta.chunks_len);
		} else if (sec == 1) {
			struct rd sr;
			uint64_t count;
			rd_init(&sr, sp, slen);
			if (rd_uvarint(&sr, &count) < 0 || count > slen || count > BLOCK_SYMBOLS_MAX)
				PARSE_FAIL("symbols: bad count");
			ix->syms = xcalloc(count ? count : 1, sizeof(*ix->syms));
			ix->nsyms = (uint32_t)count;
			for (uint64_t i = 0; i < count; i++) {
				uint64_t l;
				const uint8_t *b;
				if (rd_uvarint(&sr, &l) < 0 || l > LABEL_VALUE_MAX ||
				    rd_bytes(&sr, l + 1, &b) < 0 || b[l] != 0 || memchr(b, 0, l))
					PARSE_FAIL("symbol %" PRIu64 ": malformed", i);
				ix->syms[i] = (const char *)b;
				if (i > 0 && strcmp(ix->syms[i - 1], ix->syms[i]) >= 0)
					PARSE_FAIL("symbol %" PRIu64 ": out of order", i);
			}
			if (rd_left(&sr))
				PARSE_FAIL("symbols: trailing bytes");
		} else if (sec == 2) {
			struct rd sr;
			uint64_t count;
			rd_init(&sr, sp, slen);
			if (rd_uvarint(&sr, &count) < 0 || count != ix->meta.nseries || count > slen)
				PARSE_FAIL("series: bad count");
			ix->series = sp;
			ix->series_len = slen;
			ix->nseries = (uint32_t)count;
			ix->series_off = xcalloc(count ? count : 1, sizeof(*ix->series_off));
			for (uint64_t i = 0; i < count; i++) {
				ix->series_off[i] = slen - rd_left(&sr);
				if (series_decode(ix, &sr, &s) < 0)
					PARSE_FAIL("series %" PRIu64 ": malformed", i);
			}
			if (rd_left(&sr))
				PARSE_FAIL("series: trailing bytes");
		} else {
			ix->post = sp;
			ix->post_len = slen;
			if (parse_postings(ix, err, errsz) < 0)
				goto fail;
		}
	}
	if (rd_left(&r))
		PARSE_FAIL("index: trailing bytes");
	bseries_free(&s);
	return 0;
fail:
	bseries_free(&s);
	block_index_free(ix);
	return -EINVAL;
}

/* ---- open ---- */

static int read_tombstones(struct block *b, char *err, size_t errsz);

static int map_file(const char *path, void **map, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	if (fstat(fd, &st) < 0 || st.st_size == 0 || (uint64_t)st.st_size > BLOCK_INDEX_MAX) {
		int e = st.st_size == 0 ? -EINVAL : -errno;
		close(fd);
		return e ? e : -EFBIG;
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_SHARED, fd, 0);
	close(fd);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return -errno;
	}
	return 0;
}

int block_open(const char *dir, struct block **out, char *err, size_t errsz)
{
	struct block *b = xcalloc(1, sizeof(*b));
	char path[PATH_MAX], perr[200];
	int rc;
	b->dir = xstrdup(dir);
	const char *slash = strrchr(dir, '/');
	b->name = xstrdup(slash ? slash + 1 : dir);
	snprintf(path, sizeof(path), "%s/" BLOCK_RAW_GONE, dir);
	b->raw_gone = access(path, F_OK) == 0;
	snprintf(path, sizeof(path), "%s/chunks", dir);
	if (!b->raw_gone && (rc = map_file(path, &b->chk_map, &b->chk_len)) < 0) {
		snprintf(err, errsz, "%s: %s", path, rc == -EINVAL ? "empty" : strerror(-rc));
		goto fail;
	}
	snprintf(path, sizeof(path), "%s/index", dir);
	if ((rc = map_file(path, &b->idx_map, &b->idx_len)) < 0) {
		snprintf(err, errsz, "%s: %s", path, rc == -EINVAL ? "empty" : strerror(-rc));
		goto fail;
	}
	if (block_index_parse(b->idx_map, b->idx_len, b->raw_gone ? UINT64_MAX : b->chk_len, &b->ix,
	    perr, sizeof(perr)) < 0) {
		snprintf(err, errsz, "%s/index: %s", dir, perr);
		rc = -EINVAL;
		goto fail;
	}
	if (!b->raw_gone && (b->chk_len < BLOCK_MAGIC_LEN || memcmp(b->chk_map, BLOCK_CHUNKS_MAGIC, BLOCK_MAGIC_LEN) ||
	    tsdb_crc32c(0, (const uint8_t *)b->chk_map + BLOCK_MAGIC_LEN,
	    b->chk_len - BLOCK_MAGIC_LEN) != b->ix.meta.chunks_crc)) {
		snprintf(err, errsz, "%s/chunks: checksum mismatch", dir);
		rc = -EINVAL;
		goto fail;
	}
	if ((rc = read_tombstones(b, err, errsz)) < 0)
		goto fail;
	/* A damaged tiers file of a block that still has its raw chunks is
	 * only ignored (and rebuilt by maintenance); without raw chunks the
	 * tiers are the data, so the block is damaged. */
	rc = tier_open(dir, b->ix.nseries, &b->tiers, perr, sizeof(perr));
	if (rc < 0 && (b->raw_gone || rc != -EINVAL)) {
		snprintf(err, errsz, "%s", perr);
		goto fail;
	}
	b->tiers_bad = rc < 0;
	rc = 0;
	b->bytes = tsdb_du(dir);
	*out = b;
	return 0;
fail:
	block_close(b);
	*out = NULL;
	return rc;
}

void block_close(struct block *b)
{
	if (!b)
		return;
	block_index_free(&b->ix);
	tier_close(b->tiers);
	free(b->tomb);
	if (b->idx_map)
		munmap(b->idx_map, b->idx_len);
	if (b->chk_map)
		munmap(b->chk_map, b->chk_len);
	free(b->dir);
	free(b->name);
	free(b);
}

/* ---- reading ---- */

static void bix_values(void *impl, const char *name, void (*fn)(void *, const char *), void *arg)
{
	struct block *b = impl;
	struct hmap *vals = hmap_get(&b->ix.names, name, strlen(name));
	size_t it = 0, klen;
	const char *key;
	void *val;
	while (vals && hmap_next(vals, &it, &key, &klen, &val))
		fn(arg, key);
}

static void bix_postings(void *impl, const char *name, const char *value, struct postings *out)
{
	struct block *b = impl;
	struct hmap *vals = hmap_get(&b->ix.names, name, strlen(name));
	uintptr_t at = vals ? (uintptr_t)hmap_get(vals, value, strlen(value)) : 0;
	if (!at)
		return;
	struct rd r;
	uint64_t n, id = 0, d;
	rd_init(&r, b->ix.post + at - 1, b->ix.post_len - (at - 1));
	rd_uvarint(&r, &n);
	for (uint64_t i = 0; i < n && rd_uvarint(&r, &d) == 0; i++) {
		id += d;
		postings_add(out, (uint32_t)id);
	}
}

static void bix_all(void *impl, struct postings *out)
{
	struct block *b = impl;
	for (uint32_t i = 0; i < b->ix.nseries; i++)
		postings_add(out, i);
}

void block_ixreader(struct block *b, struct ixreader *ix)
{
	ix->impl = b;
	ix->values = bix_values;
	ix->postings = bix_postings;
	ix->all = bix_all;
}

struct labels *block_series_labels(const struct block *b, const struct bseries *s)
{
	struct label v[LABELS_MAX];
	for (uint32_t i = 0; i < s->nl; i++) {
		v[i].name = b->ix.syms[s->syms[2 * i]];
		v[i].value = b->ix.syms[s->syms[2 * i + 1]];
	}
	return labels_new(v, s->nl);
}

static int write_file(const char *path, const void *p, size_t n);

/* Smallest evaluation instant >= x, or INT64_MAX when there is none. */
static int64_t qwin_next(const struct qwin *w, int64_t x)
{
	if (x > w->last)
		return INT64_MAX;
	uint64_t d = (uint64_t)w->last - (uint64_t)x;
	return (int64_t)((uint64_t)w->last - d / (uint64_t)w->step * (uint64_t)w->step);
}

/* Does any instant read chunk k of s? A range window (T - range, T] reads it
 * when it overlaps the chunk; an instant-vector selector at T reads only the
 * newest sample <= T, which lies in chunk k when the chunk starts at or
 * before T and the next chunk (within this block) starts after T. */
static int qwin_reads(const struct qwin *w, const struct bseries *s, size_t k)
{
	const struct bchunk *c = &s->chunks[k];
	int64_t t = qwin_next(w, c->mint);
	if (t == INT64_MAX)
		return 0;
	if (w->range > 0)
		return t < c->maxt || (uint64_t)t - (uint64_t)c->maxt < (uint64_t)w->range;
	return k + 1 == s->nchunks || t < s->chunks[k + 1].mint;
}

/* First index in [x, hi) of sorted t whose value is > lim (hi if none):
 * galloping, so skipping a long run costs its logarithm. */
static size_t after(const int64_t *t, size_t x, size_t hi, int64_t lim)
{
	size_t step = 1, lo = x;
	while (lo + step < hi && t[lo + step] <= lim) {
		lo += step;
		step *= 2;
	}
	if (lo < hi && t[lo] <= lim)
		lo++;
	size_t top = lo - 1 + step < hi ? lo - 1 + step : hi;
	if (top < lo)
		top = lo;
	while (lo < top) {
		size_t mid = lo + (top - lo) / 2;
		if (t[mid] <= lim)
			lo = mid + 1;
		else
			top = mid;
	}
	return lo;
}

/* The first instant >= t, knowing the previous answer prev (INT64_MIN:
 * none): the next one along costs no division. */
static int64_t instant_from(const struct qwin *w, int64_t prev, int64_t t)
{
	if (prev != INT64_MIN && t > prev && (uint64_t)t - (uint64_t)prev <= (uint64_t)w->step)
		return prev + w->step;
	return qwin_next(w, t);
}

/*
 * Keep, of the sorted samples t/v[x, hi), those some instant of w reads,
 * moved down to start at index keep; return the new end. Range windows
 * (T - range, T] keep every sample inside one. An instant-vector selector
 * keeps the newest sample at or before each instant, and always the last
 * one (the next chunk may start after the next instant).
 */
static size_t thin(const struct qwin *w, int64_t *t, double *v, size_t keep, size_t x,
    size_t hi)
{
	int64_t T = INT64_MIN;
	while (x < hi) {
		T = instant_from(w, T, t[x]);
		if (T == INT64_MAX)
			break;
		int64_t wstart = T < INT64_MIN + w->range ? INT64_MIN : T - w->range;
		if (w->range > 0 && t[x] <= wstart) {
			x = after(t, x, hi, wstart);
			continue;
		}
		size_t end = after(t, x, hi, T);
		if (w->range <= 0)
			x = end - 1;	/* only the newest at or before T */
		for (; x < end; x++, keep++) {
			t[keep] = t[x];
			v[keep] = v[x];
		}
	}
	return keep;
}

/* Make room for n more samples in out. */
static void room_for(struct samples *out, size_t n)
{
	if (out->cap - out->n >= n)
		return;
	out->cap = out->n + n;
	out->t = xreallocarray(out->t, out->cap, sizeof(*out->t));
	out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
}


size_t block_tomb_first(const struct block *b, uint32_t idx)
{
	size_t lo = 0, hi = b->ntomb;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->tomb[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int block_series_samples(const struct block *b, uint32_t i, struct bseries *s,
    int64_t mint, int64_t maxt, struct samples *out)
{
	return block_series_samples_win(b, i, s, mint, maxt, NULL, out);
}

int block_series_samples_win(const struct block *b, uint32_t i, struct bseries *s,
    int64_t mint, int64_t maxt, const struct qwin *w, struct samples *out)
{
	size_t start = out->n;
	if (block_index_series(&b->ix, i, s) < 0)
		return -EINVAL;
	if (b->raw_gone)
		return 0;	/* past raw retention: only its tiers are left */
	/* Tombstones are sorted by series index. A deleted newest sample would
	 * make an earlier chunk the one to read: no skipping then. */
	size_t lo = block_tomb_first(b, i);
	int deleted = lo < b->ntomb && b->tomb[lo].idx == i;
	if (deleted || (w && w->step <= 0))
		w = NULL;
	/* Size the arrays once from the chunk headers, then decode straight
	 * into them (a query may read millions of samples). */
	size_t want = out->n;
	for (size_t k = 0; k < s->nchunks; k++) {
		const struct bchunk *c = &s->chunks[k];
		if (c->maxt >= mint && c->mint <= maxt && (!w || qwin_reads(w, s, k)))
			want += chunk_count((const uint8_t *)b->chk_map + c->off, c->len);
	}
	room_for(out, want - out->n);
	for (size_t k = 0; k < s->nchunks; k++) {
		const struct bchunk *c = &s->chunks[k];
		if (c->maxt < mint || c->mint > maxt || (w && !qwin_reads(w, s, k)))
			continue;
		struct chunk_iter it;
		if (chunk_iter_init_file(&it, (const uint8_t *)b->chk_map + c->off, c->len,
		    b->chk_map, b->chk_len) < 0)
			return -EINVAL;
		if (out->cap - out->n < it.n)	/* a header that undercounts */
			room_for(out, it.n);
		/* decode in place (in runs, stopping past maxt), then keep what
		 * is asked for */
		size_t got = 0, at = out->n, keep = out->n;
		while (got < it.n) {
			size_t run;
			if (chunk_iter_read(&it, out->t + at + got, out->v + at + got,
			    it.n - got < 64 ? it.n - got : 64, &run) < 0)
				return -EINVAL;
			got += run;
			if (run == 0 || out->t[at + got - 1] > maxt)
				break;
		}
		size_t from = mint == INT64_MIN ? at : after(out->t, at, at + got, mint - 1);
		size_t to = after(out->t, from, at + got, maxt);
		if (w) {
			keep = thin(w, out->t, out->v, keep, from, to);
		} else {
			memmove(out->t + keep, out->t + from, (to - from) * sizeof(*out->t));
			memmove(out->v + keep, out->v + from, (to - from) * sizeof(*out->v));
			keep += to - from;
		}
		out->n = keep;
	}
	/* Drop deleted ranges. */
	if (deleted) {
		size_t keep = start;
		for (size_t k = start; k < out->n; k++) {
			int gone = 0;
			for (size_t x = lo; x < b->ntomb && b->tomb[x].idx == i && !gone; x++)
				gone = out->t[k] >= b->tomb[x].mint && out->t[k] <= b->tomb[x].maxt;
			if (!gone) {
				out->t[keep] = out->t[k];
				out->v[keep++] = out->v[k];
			}
		}
		out->n = keep;
	}
	return 0;
}

static int cmp_tomb(const void *a, const void *b)
{
	const struct btomb *x = a, *y = b;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Read dir/tombstones if present. 0, or -EINVAL with err set. */
static int read_tombstones(struct block *b, char *err, size_t errsz)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/tombstones", b->dir);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	struct stat st;
	uint8_t *p = NULL;
	int rc = -EINVAL;
	if (fstat(fd, &st) < 0 || st.st_size < 16 ||
	    (uint64_t)st.st_size > 16 + (uint64_t)BLOCK_TOMBS_MAX * 20)
		goto out;
	p = xmalloc((size_t)st.st_size);
	if (pread(fd, p, (size_t)st.st_size, 0) != st.st_size)
		goto out;
	struct rd r;
	uint32_t count, crc;
	rd_init(&r, p + BLOCK_MAGIC_LEN, (size_t)st.st_size - BLOCK_MAGIC_LEN);
	if (memcmp(p, BLOCK_TOMBS_MAGIC, BLOCK_MAGIC_LEN) || rd_u32le(&r, &count) < 0 ||
	    (uint64_t)st.st_size != 16 + (uint64_t)count * 20)
		goto out;
	b->tomb = xcalloc(count ? count : 1, sizeof(*b->tomb));
	for (uint32_t k = 0; k < count; k++) {
		uint64_t a, z;
		rd_u32le(&r, &b->tomb[k].idx);
		rd_u64le(&r, &a);
		rd_u64le(&r, &z);
		b->tomb[k].mint = (int64_t)a;
		b->tomb[k].maxt = (int64_t)z;
		if (b->tomb[k].idx >= b->ix.nseries || (k && b->tomb[k].idx < b->tomb[k - 1].idx))
			goto out;
	}
	b->ntomb = count;
	rd_u32le(&r, &crc);
	if (r.err || tsdb_crc32c(0, p + BLOCK_MAGIC_LEN, (size_t)st.st_size - 12) != crc)
		goto out;
	rc = 0;
out:
	if (rc < 0) {
		snprintf(err, errsz, "%s: malformed or checksum mismatch", path);
		b->ntomb = 0;
	}
	free(p);
	close(fd);
	return rc;
}

int block_delete(struct block *b, const uint32_t *idx, size_t n, int64_t mint, int64_t maxt)
{
	if (b->ntomb + n > BLOCK_TOMBS_MAX)
		return -E2BIG;
	struct btomb *t = xreallocarray(NULL, b->ntomb + n + 1, sizeof(*t));
	if (b->ntomb)
		memcpy(t, b->tomb, b->ntomb * sizeof(*t));
	for (size_t i = 0; i < n; i++)
		t[b->ntomb + i] = (struct btomb){ idx[i], mint, maxt };
	size_t nt = b->ntomb + n;
	qsort(t, nt, sizeof(*t), cmp_tomb);
	struct buf f;
	buf_init(&f, 16 + nt * 20);
	buf_add(&f, BLOCK_TOMBS_MAGIC, BLOCK_MAGIC_LEN);
	buf_add_u32le(&f, (uint32_t)nt);
	for (size_t i = 0; i < nt; i++) {
		buf_add_u32le(&f, t[i].idx);
		buf_add_u64le(&f, (uint64_t)t[i].mint);
		buf_add_u64le(&f, (uint64_t)t[i].maxt);
	}
	buf_add_u32le(&f, tsdb_crc32c(0, f.data + BLOCK_MAGIC_LEN, f.len - BLOCK_MAGIC_LEN));
	char tmp[PATH_MAX], fin[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/tombstones.tmp", b->dir);
	snprintf(fin, sizeof(fin), "%s/tombstones", b->dir);
	int rc = write_file(tmp, f.data, f.len);
	if (rc == 0 && rename(tmp, fin) < 0)
		rc = -errno;
	if (rc == 0)
		rc = tsdb_fsync_dir(b->dir);
	buf_free(&f);
	if (rc < 0) {
		unlink(tmp);
		free(t);
		return rc;
	}
	free(b->tomb);
	b->tomb = t;
	b->ntomb = nt;
	return 0;
}

int block_drop_raw(struct block *b)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/" BLOCK_RAW_GONE, b->dir);
	int rc = write_file(path, "", 0);
	if (rc == 0)
		rc = tsdb_fsync_dir(b->dir);
	if (rc < 0)
		return rc;
	b->raw_gone = 1;
	if (b->chk_map)
		munmap(b->chk_map, b->chk_len);
	b->chk_map = NULL;
	b->chk_len = 0;
	snprintf(path, sizeof(path), "%s/chunks", b->dir);
	if (unlink(path) < 0 && errno != ENOENT)
		return -errno;
	rc = tsdb_fsync_dir(b->dir);
	b->bytes = tsdb_du(b->dir);
	return rc;
}

/* ---- writing ---- */

struct wseries {
	struct labels *ls;	/* identity (owned) */
	struct bchunk *chunks;	/* its chunks (owned) */
	size_t nchunks;		/* chunks */
};

struct block_writer {
	char *dbdir;		/* database directory (owned) */
	char *tmpdir;		/* block being built: <final>.tmp (owned) */
	char *final;		/* its final path (owned) */
	uint32_t level;		/* compaction level */
	int chk_fd;		/* chunks file */
	uint64_t chk_off;	/* bytes written to it */
	uint32_t chk_crc;	/* CRC32C of them after the magic */
	struct wseries *series;	/* series added (owned) */
	size_t nseries, capseries;	/* added, allocated */
	struct hmap syms;	/* every label string */
	uint64_t nsamples, nchunks;	/* totals */
	int64_t mint, maxt;	/* sample range */
	struct buf cbuf;	/* scratch chunk */
	struct buf sbuf;	/* scratch: a chunk rewritten to share its timestamps */
	struct hmap ts_streams;	/* mode byte + timestamp field -> its offset + 1 in chunks */
};

#define BLOCK_TS_STREAMS_MAX (1u << 22)	/* distinct shared timestamp streams per block */

/* Series scraped together have identical timestamps: store a chunk's
 * timestamp field once per block and let CHUNK_DECT/XORST chunks refer to
 * it (most of a jittery 1 s recording's bytes were timestamps). Writes the
 * field to the chunks file the first time; may replace w->cbuf's contents
 * with the shared form. 0 or -errno. */
static int share_timestamps(struct block_writer *w)
{
	size_t f, fl;
	const uint8_t *c = (const uint8_t *)w->cbuf.data;
	if (!chunk_ts_field(c, w->cbuf.len, &f, &fl) || fl < 4)
		return 0;
	uint8_t mode = c[0] == CHUNK_DEC ? (c[4] & 4) : (c[3] & 4);
	buf_reset(&w->sbuf);
	buf_add_u8(&w->sbuf, mode);
	if (buf_add(&w->sbuf, c + f, fl) < 0)
		return 0;
	uintptr_t at = (uintptr_t)hmap_get(&w->ts_streams, w->sbuf.data, w->sbuf.len);
	if (!at) {
		if (w->ts_streams.len >= BLOCK_TS_STREAMS_MAX)
			return 0;
		int rc = tsdb_write_all(w->chk_fd, c + f, fl);
		if (rc < 0)
			return rc;
		w->chk_crc = tsdb_crc32c(w->chk_crc, c + f, fl);
		at = (uintptr_t)w->chk_off + 1;
		w->chk_off += fl;
		hmap_put(&w->ts_streams, w->sbuf.data, w->sbuf.len, (void *)at);
	}
	buf_reset(&w->sbuf);
	buf_add_u8(&w->sbuf, c[0] == CHUNK_DEC ? CHUNK_DECT : CHUNK_XORST);
	buf_add(&w->sbuf, c + 1, f - 1);
	buf_add_uvarint(&w->sbuf, (uint64_t)(at - 1));
	if (buf_add(&w->sbuf, c + f + fl, w->cbuf.len - f - fl) < 0)
		return -E2BIG;
	struct buf tmp = w->cbuf;
	w->cbuf = w->sbuf;
	w->sbuf = tmp;
	return 0;
}

int block_writer_new(const char *dbdir, int64_t wmint, int64_t wmaxt, uint32_t level,
    struct block_writer **out, char *err, size_t errsz)
{
	struct block_writer *w = xcalloc(1, sizeof(*w));
	w->dbdir = xstrdup(dbdir);
	w->final = xasprintf("%s/blk-%" PRId64 "-%" PRId64, dbdir, wmint, wmaxt);
	w->tmpdir = xasprintf("%s.tmp", w->final);
	w->level = level;
	w->chk_fd = -1;
	w->mint = INT64_MAX;
	w->maxt = INT64_MIN;
	hmap_init(&w->syms);
	hmap_init(&w->ts_streams);
	buf_init(&w->cbuf, (size_t)1 << 24);
	buf_init(&w->sbuf, (size_t)1 << 24);
	tsdb_rmtree(w->tmpdir);
	int rc = tsdb_mkdir(w->tmpdir);
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/chunks", w->tmpdir);
	if (rc == 0) {
		w->chk_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
		rc = w->chk_fd < 0 ? -errno : tsdb_write_all(w->chk_fd, BLOCK_CHUNKS_MAGIC,
		    BLOCK_MAGIC_LEN);
	}
	if (rc < 0) {
		snprintf(err, errsz, "%s: %s", w->tmpdir, strerror(-rc));
		block_writer_abort(w);
		*out = NULL;
		return rc;
	}
	w->chk_off = BLOCK_MAGIC_LEN;
	*out = w;
	return 0;
}

int block_writer_add(struct block_writer *w, const struct labels *ls, const int64_t *t,
    const double *v, size_t n)
{
	if (n == 0 || ls->n == 0)
		return -EINVAL;
	if (w->nseries == w->capseries) {
		w->capseries = w->capseries ? w->capseries * 2 : 64;
		w->series = xreallocarray(w->series, w->capseries, sizeof(*w->series));
	}
	struct wseries *s = &w->series[w->nseries];
	memset(s, 0, sizeof(*s));
	size_t nc = (n + BLOCK_CHUNK_SAMPLES - 1) / BLOCK_CHUNK_SAMPLES;
	s->chunks = xcalloc(nc, sizeof(*s->chunks));
	for (size_t i = 0; i < n; i += BLOCK_CHUNK_SAMPLES) {
		size_t k = n - i < BLOCK_CHUNK_SAMPLES ? n - i : BLOCK_CHUNK_SAMPLES;
		buf_reset(&w->cbuf);
		int rc = chunk_encode(t + i, v + i, k, &w->cbuf);
		if (rc == 0)
			rc = share_timestamps(w);
		if (rc == 0)
			rc = tsdb_write_all(w->chk_fd, w->cbuf.data, w->cbuf.len);
		if (rc < 0) {
			free(s->chunks);
			return rc;
		}
		w->chk_crc = tsdb_crc32c(w->chk_crc, w->cbuf.data, w->cbuf.len);
		s->chunks[s->nchunks++] = (struct bchunk){ t[i], t[i + k - 1], w->chk_off, w->cbuf.len };
		w->chk_off += w->cbuf.len;
	}
	s->ls = labels_dup(ls);
	for (size_t i = 0; i < ls->n; i++) {
		hmap_put(&w->syms, ls->v[i].name, strlen(ls->v[i].name), NULL);
		hmap_put(&w->syms, ls->v[i].value, strlen(ls->v[i].value), NULL);
	}
	w->nseries++;
	w->nsamples += n;
	w->nchunks += nc;
	w->mint = t[0] < w->mint ? t[0] : w->mint;
	w->maxt = t[n - 1] > w->maxt ? t[n - 1] : w->maxt;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_wseries(const void *a, const void *b)
{
	return labels_cmp(((const struct wseries *)a)->ls, ((const struct wseries *)b)->ls);
}

struct pkey {
	const char *key;	/* "name\0value" */
	size_t len;		/* its length */
	struct postings *p;	/* series indexes */
};

static int cmp_pkey(const void *a, const void *b)
{
	const struct pkey *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->key, y->key, n);
	return c ? c : (x->len > y->len) - (x->len < y->len);
}

static void put_section(struct buf *out, const struct buf *payload)
{
	buf_add_u32le(out, (uint32_t)payload->len);
	buf_add(out, payload->data, payload->len);
	buf_add_u32le(out, tsdb_crc32c(0, payload->data, payload->len));
}

static void free_postings(void *p)
{
	postings_free(p);
	free(p);
}

/* Build the index bytes. */
static int build_index(struct block_writer *w, struct buf *out)
{
	struct buf sec;
	buf_init(&sec, (size_t)1 << 31);
	int rc = 0;
	/* Symbols, sorted; ids are positions. */
	size_t nsyms = w->syms.len, it = 0, klen, k = 0;
	const char **syms = xcalloc(nsyms + 1, sizeof(*syms));
	const char *key;
	void *val;
	while (hmap_next(&w->syms, &it, &key, &klen, &val))
		syms[k++] = key;
	qsort(syms, nsyms, sizeof(*syms), cmp_str);
	for (size_t i = 0; i < nsyms; i++)
		hmap_put(&w->syms, syms[i], strlen(syms[i]), (void *)(uintptr_t)i);
	qsort(w->series, w->nseries, sizeof(*w->series), cmp_wseries);

	buf_add(out, BLOCK_INDEX_MAGIC, BLOCK_MAGIC_LEN);
	buf_add_u32le(&sec, BLOCK_VERSION);
	buf_add_u64le(&sec, (uint64_t)w->mint);
	buf_add_u64le(&sec, (uint64_t)w->maxt);
	buf_add_u64le(&sec, w->nseries);
	buf_add_u64le(&sec, w->nsamples);
	buf_add_u64le(&sec, w->nchunks);
	buf_add_u32le(&sec, w->level);
	buf_add_u64le(&sec, w->chk_off);
	buf_add_u32le(&sec, w->chk_crc);
	put_section(out, &sec);

	buf_reset(&sec);
	buf_add_uvarint(&sec, nsyms);
	for (size_t i = 0; i < nsyms; i++) {
		buf_add_uvarint(&sec, strlen(syms[i]));
		buf_add(&sec, syms[i], strlen(syms[i]) + 1);
	}
	put_section(out, &sec);

	struct hmap pmap;
	hmap_init(&pmap);
	struct buf pk;
	buf_init(&pk, 2 * LABEL_VALUE_MAX + 2);
	buf_reset(&sec);
	buf_add_uvarint(&sec, w->nseries);
	for (size_t i = 0; i < w->nseries; i++) {
		const struct wseries *s = &w->series[i];
		buf_add_uvarint(&sec, s->ls->n);
		for (size_t j = 0; j < s->ls->n; j++) {
			const struct label *l = &s->ls->v[j];
			buf_add_uvarint(&sec, (uintptr_t)hmap_get(&w->syms, l->name, strlen(l->name)));
			buf_add_uvarint(&sec, (uintptr_t)hmap_get(&w->syms, l->value, strlen(l->value)));
			buf_reset(&pk);
			buf_add(&pk, l->name, strlen(l->name) + 1);
			buf_adds(&pk, l->value);
			struct postings *p = hmap_get(&pmap, pk.data, pk.len);
			if (!p) {
				p = xcalloc(1, sizeof(*p));
				hmap_put(&pmap, pk.data, pk.len, p);
			}
			postings_add(p, (uint32_t)i);
		}
		buf_add_uvarint(&sec, s->nchunks);
		for (size_t j = 0; j < s->nchunks; j++) {
			const struct bchunk *c = &s->chunks[j];
			buf_add_varint(&sec, c->mint);
			buf_add_uvarint(&sec, (uint64_t)c->maxt - (uint64_t)c->mint);
			buf_add_uvarint(&sec, c->off);
			if (buf_add_uvarint(&sec, c->len) < 0)
				rc = -E2BIG;
		}
	}
	put_section(out, &sec);

	struct pkey *keys = xcalloc(pmap.len + 1, sizeof(*keys));
	size_t nk = 0;
	it = 0;
	while (hmap_next(&pmap, &it, &key, &klen, &val))
		keys[nk++] = (struct pkey){ key, klen, val };
	qsort(keys, nk, sizeof(*keys), cmp_pkey);
	buf_reset(&sec);
	buf_add_uvarint(&sec, nk);
	for (size_t i = 0; i < nk; i++) {
		const char *name = keys[i].key, *value = name + strlen(name) + 1;
		buf_add_uvarint(&sec, (uintptr_t)hmap_get(&w->syms, name, strlen(name)));
		buf_add_uvarint(&sec, (uintptr_t)hmap_get(&w->syms, value, strlen(value)));
		buf_add_uvarint(&sec, keys[i].p->n);
		uint32_t prev = 0;
		for (size_t j = 0; j < keys[i].p->n; j++) {
			if (buf_add_uvarint(&sec, keys[i].p->v[j] - prev) < 0)
				rc = -E2BIG;
			prev = keys[i].p->v[j];
		}
	}
	put_section(out, &sec);
	if (out->len == 0 || sec.len >= sec.cap)
		rc = -E2BIG;
	free(keys);
	hmap_free(&pmap, free_postings);
	buf_free(&pk);
	buf_free(&sec);
	free(syms);
	return rc;
}

static int write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0)
		return -errno;
	int rc = tsdb_write_all(fd, p, n);
	if (rc == 0 && fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

int block_writer_finish(struct block_writer *w, char **dir_out, char *err, size_t errsz)
{
	struct buf ix, meta;
	buf_init(&ix, (size_t)BLOCK_INDEX_MAX);
	buf_init(&meta, 4096);
	char path[PATH_MAX];
	int rc = w->nseries ? 0 : -ENODATA;
	if (rc == 0)
		rc = fsync(w->chk_fd) < 0 ? -errno : 0;
	if (rc == 0)
		rc = build_index(w, &ix);
	if (rc == 0) {
		snprintf(path, sizeof(path), "%s/index", w->tmpdir);
		rc = write_file(path, ix.data, ix.len);
	}
	if (rc == 0) {
		buf_printf(&meta, "{\n  \"version\": %d,\n  \"minTime\": %" PRId64 ",\n"
		    "  \"maxTime\": %" PRId64 ",\n  \"level\": %" PRIu32 ",\n"
		    "  \"stats\": {\"numSeries\": %zu, \"numSamples\": %" PRIu64
		    ", \"numChunks\": %" PRIu64 "},\n  \"chunksBytes\": %" PRIu64 ",\n"
		    "  \"indexBytes\": %zu\n}\n", BLOCK_VERSION, w->mint, w->maxt, w->level, w->nseries,
		    w->nsamples, w->nchunks, w->chk_off, ix.len);
		snprintf(path, sizeof(path), "%s/meta.json", w->tmpdir);
		rc = write_file(path, meta.data, meta.len);
	}
	if (rc == 0)
		rc = tsdb_fsync_dir(w->tmpdir);
	/* Never replace a block: a second block for the same window (a bulk
	 * import into a store that has one) gets a numbered name. */
	for (int i = 1; rc == 0 && i < 1000 && access(w->final, F_OK) == 0; i++) {
		char *base = xstrdup(w->final);
		char *dash = strrchr(base, '-');
		if (i > 1 && dash)
			*dash = 0;
		free(w->final);
		w->final = xasprintf("%s-%d", base, i);
		free(base);
	}
	if (rc == 0)
		rc = rename(w->tmpdir, w->final) < 0 ? -errno : 0;
	if (rc == 0)
		rc = tsdb_fsync_dir(w->dbdir);
	buf_free(&ix);
	buf_free(&meta);
	if (rc < 0) {
		snprintf(err, errsz, "writing block %s: %s", w->final, strerror(-rc));
		block_writer_abort(w);
		*dir_out = NULL;
		return rc;
	}
	*dir_out = w->final;
	w->final = NULL;
	block_writer_abort(w);	/* frees the writer; the block is in place */
	return 0;
}

void block_writer_abort(struct block_writer *w)
{
	if (!w)
		return;
	if (w->chk_fd >= 0)
		close(w->chk_fd);
	if (w->tmpdir)
		tsdb_rmtree(w->tmpdir);
	for (size_t i = 0; i < w->nseries; i++) {
		labels_free(w->series[i].ls);
		free(w->series[i].chunks);
	}
	free(w->series);
	hmap_free(&w->syms, NULL);
	hmap_free(&w->ts_streams, NULL);
	buf_free(&w->cbuf);
	buf_free(&w->sbuf);
	free(w->dbdir);
	free(w->tmpdir);
	free(w->final);
	free(w);
}
