/* chunk.c — see chunk.h; the bit layout is in docs/STORAGE.md. */
#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "tsdb/chunk.h"

#define DEC_EXP_MAX 18		/* largest decimal exponent CHUNK_DEC uses */
#define DEC_ABS_MAX 9007199254740992.0	/* 2^53: integers exact in a double */
#define DEC_GROUP 16		/* differences sharing one width in mode bit 3 */
#define DEC_APP_EXP_MAX 9	/* largest exponent an open DECA chunk starts with */

static const double pow10_tab[DEC_EXP_MAX + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
};

/* ---- bit writer (MSB first) ---- */

struct bitw {
	uint8_t *b;	/* bytes (owned by the caller's struct) */
	size_t cap;	/* bytes allocated */
	size_t nbits;	/* bits written */
};

static void bw_put(struct bitw *w, uint64_t v, unsigned nbits)
{
	size_t need = (w->nbits + nbits + 7) / 8;
	if (need > w->cap) {
		/* Grow by half: open chunks are most of the head's memory. */
		size_t ncap = w->cap ? w->cap + w->cap / 2 : 32;
		while (ncap < need)
			ncap += ncap / 2;
		w->b = xreallocarray(w->b, ncap, 1);
		memset(w->b + w->cap, 0, ncap - w->cap);
		w->cap = ncap;
	}
	while (nbits) {
		unsigned off = w->nbits & 7;
		unsigned room = 8 - off;
		unsigned take = nbits < room ? nbits : room;
		uint8_t bits = (uint8_t)((v >> (nbits - take)) & ((1u << take) - 1));
		w->b[w->nbits >> 3] |= (uint8_t)(bits << (room - take));
		w->nbits += take;
		nbits -= take;
	}
}

/* ---- bit reader ---- */

/* Read nbits (0..64) at *pos, stopping at end; -1 if short. */
static inline int br_get(const uint8_t *p, size_t *pos, size_t end, unsigned nbits, uint64_t *out)
{
	if (*pos > end || nbits > end - *pos)
		return -1;
	if (!nbits) {	/* regular timestamps take no bits */
		*out = 0;
		return 0;
	}
	uint64_t v = 0;
	size_t at = *pos;
	/* Queries decode millions of samples: take the bits from one 8-byte
	 * big-endian load when it stays inside the stream's bytes. */
	if (nbits <= 56 && (at >> 3) + 8 <= (end + 7) >> 3) {
		uint64_t w;
		memcpy(&w, p + (at >> 3), 8);
		w = __builtin_bswap64(w);
		*out = (w << (at & 7)) >> (64 - nbits);
		*pos = at + nbits;
		return 0;
	}
	while (nbits) {
		unsigned off = at & 7;
		unsigned room = 8 - off;
		unsigned take = nbits < room ? nbits : room;
		uint8_t byte = p[at >> 3];
		v = (v << take) | ((byte >> (room - take)) & ((1u << take) - 1));
		at += take;
		nbits -= take;
	}
	*pos = at;
	*out = v;
	return 0;
}

static int64_t sign_extend(uint64_t x, unsigned k)
{
	if (k < 64 && (x >> (k - 1)) & 1)
		x |= ~(((uint64_t)1 << k) - 1);
	return (int64_t)x;
}

/* ---- timestamps: t0 raw, then delta-of-delta in buckets ---- */

static void put_ts(struct bitw *w, uint32_t i, int64_t *last, int64_t *delta, int64_t t)
{
	if (i == 0) {
		bw_put(w, (uint64_t)t, 64);
		*last = t;
		*delta = 0;
		return;
	}
	int64_t d = (int64_t)((uint64_t)t - (uint64_t)*last);
	int64_t dod = (int64_t)((uint64_t)d - (uint64_t)*delta);
	if (dod == 0)
		bw_put(w, 0, 1);
	else if (dod >= -64 && dod <= 63) {
		bw_put(w, 2, 2);
		bw_put(w, (uint64_t)dod & 0x7f, 7);
	} else if (dod >= -8192 && dod <= 8191) {
		bw_put(w, 6, 3);
		bw_put(w, (uint64_t)dod & 0x3fff, 14);
	} else if (dod >= -524288 && dod <= 524287) {
		bw_put(w, 14, 4);
		bw_put(w, (uint64_t)dod & 0xfffff, 20);
	} else {
		bw_put(w, 15, 4);
		bw_put(w, (uint64_t)dod, 64);
	}
	*last = t;
	*delta = d;
}

static int get_ts(const uint8_t *p, size_t *pos, size_t end, uint32_t i, int64_t *last,
    int64_t *delta, int strict)
{
	uint64_t x;
	if (i == 0) {
		if (br_get(p, pos, end, 64, &x) < 0)
			return -1;
		*last = (int64_t)x;
		*delta = 0;
		return 0;
	}
	unsigned prefix = 0, bits;
	while (prefix < 4) {
		if (br_get(p, pos, end, 1, &x) < 0)
			return -1;
		if (!x)
			break;
		prefix++;
	}
	static const unsigned widths[5] = { 0, 7, 14, 20, 64 };
	bits = widths[prefix];
	int64_t dod = 0;
	if (bits) {
		if (br_get(p, pos, end, bits, &x) < 0)
			return -1;
		dod = sign_extend(x, bits);
	}
	*delta = (int64_t)((uint64_t)*delta + (uint64_t)dod);
	int64_t t = (int64_t)((uint64_t)*last + (uint64_t)*delta);
	/* Timestamps must ascend strictly; anything else is corruption. */
	if (strict && t <= *last)
		return -1;
	*last = t;
	return 0;
}

/* ---- XOR values ---- */

static void put_xor(struct bitw *w, uint64_t *prev, uint8_t *lead, uint8_t *trail, uint64_t nb)
{
	uint64_t x = nb ^ *prev;
	*prev = nb;
	if (!x) {
		bw_put(w, 0, 1);
		return;
	}
	unsigned l = (unsigned)__builtin_clzll(x), tr = (unsigned)__builtin_ctzll(x);
	if (l > 31)
		l = 31;
	if (*lead != 0xff && l >= *lead && tr >= *trail) {
		bw_put(w, 2, 2);
		bw_put(w, x >> *trail, 64 - *lead - *trail);
		return;
	}
	unsigned sig = 64 - l - tr;
	bw_put(w, 3, 2);
	bw_put(w, l, 5);
	bw_put(w, sig & 63, 6);
	bw_put(w, x >> tr, sig);
	*lead = (uint8_t)l;
	*trail = (uint8_t)tr;
}

static int get_xor(const uint8_t *p, size_t *pos, size_t end, uint64_t *prev, uint8_t *lead,
    uint8_t *trail)
{
	uint64_t x, bit;
	if (br_get(p, pos, end, 1, &bit) < 0)
		return -1;
	if (!bit)
		return 0;
	if (br_get(p, pos, end, 1, &bit) < 0)
		return -1;
	if (bit) {
		uint64_t l, sig;
		if (br_get(p, pos, end, 5, &l) < 0 || br_get(p, pos, end, 6, &sig) < 0)
			return -1;
		if (sig == 0)
			sig = 64;
		if (l + sig > 64)
			return -1;
		*lead = (uint8_t)l;
		*trail = (uint8_t)(64 - l - sig);
	} else if (*lead == 0xff) {
		return -1;	/* "reuse the window" before any window exists */
	}
	unsigned sig = 64u - *lead - *trail;
	if (br_get(p, pos, end, sig, &x) < 0)
		return -1;
	*prev ^= *trail < 64 ? x << *trail : 0;
	return 0;
}

/* ---- open chunk ---- */

static int dec_exact(double v, unsigned e, int64_t *m)
{
	double s = v * pow10_tab[e];
	if (!(fabs(s) < DEC_ABS_MAX))
		return 0;
	int64_t c = llrint(s);
	for (int k = -1; k <= 1; k++) {
		int64_t cand = c + k;
		double back = (double)cand / pow10_tab[e];
		if (memcmp(&back, &v, 8) == 0) {
			*m = cand;
			return 1;
		}
	}
	return 0;
}

/* Smallest exponent e <= DEC_APP_EXP_MAX with v == m / 10^e; -1 if none. */
static int dec_min_exp(double v, int64_t *m)
{
	for (unsigned e = 0; e <= DEC_APP_EXP_MAX; e++)
		if (dec_exact(v, e, m))
			return (int)e;
	return -1;
}

void chunk_app_init(struct chunk_app *a)
{
	memset(a, 0, sizeof(*a));
	a->lead = 0xff;
	struct bitw w = { 0 };
	bw_put(&w, CHUNK_XOR, 8);
	bw_put(&w, 0, 16);
	a->b = w.b;
	a->cap = w.cap;
	a->nbits = w.nbits;
}

void chunk_app_free(struct chunk_app *a)
{
	if (!a)
		return;
	free(a->b);
	memset(a, 0, sizeof(*a));
}

/* Re-encode an open DECA chunk: as DECA with exponent at least min_e, or as
 * XOR (min_e < 0) — a value with more decimals came. */
static void app_recode(struct chunk_app *a, int min_e)
{
	struct chunk_iter it;
	size_t n = a->n, k = 0;
	int64_t *ts = xmalloc((n ? n : 1) * sizeof(*ts));
	double *vs = xmalloc((n ? n : 1) * sizeof(*vs));
	if (chunk_iter_init(&it, a->b, chunk_app_len(a)) == 0)
		while (k < n && chunk_iter_next(&it, &ts[k], &vs[k]) == 1)
			k++;
	assert(k == n);
	chunk_app_free(a);
	chunk_app_init(a);
	a->xor_only = min_e < 0;
	a->min_e = (uint8_t)(min_e < 0 ? 0 : min_e);
	for (size_t i = 0; i < k; i++)
		chunk_app_add(a, ts[i], vs[i]);
	free(ts);
	free(vs);
}

void chunk_app_add(struct chunk_app *a, int64_t t, double v)
{
	assert(a->n < CHUNK_SAMPLES_MAX);
	assert(a->n == 0 || t > a->t);
	int64_t m = 0;
	if (a->n == 0 && !a->xor_only) {
		int e = dec_min_exp(v, &m);
		if (e >= 0 && e < a->min_e) {
			e = a->min_e;
			if (!dec_exact(v, (unsigned)e, &m))
				e = -1;
		}
		if (e >= 0) {
			/* Decimal values: start a DECA chunk (one more header byte). */
			a->b[0] = CHUNK_DECA;
			struct bitw w = { a->b, a->cap, a->nbits };
			bw_put(&w, (uint64_t)e, 8);
			a->b = w.b;
			a->cap = w.cap;
			a->nbits = w.nbits;
			a->e = (uint8_t)e;
		}
	} else if (a->b[0] == CHUNK_DECA && !dec_exact(v, a->e, &m)) {
		/* More decimals than so far: a larger exponent if one fits. */
		int e = dec_min_exp(v, &m);
		app_recode(a, e > a->e ? e : -1);
		if (a->b[0] == CHUNK_DECA && !dec_exact(v, a->e, &m))
			app_recode(a, -1);
	}
	int deca = a->b[0] == CHUNK_DECA;	/* (w may move a->b below) */
	struct bitw w = { a->b, a->cap, a->nbits };
	uint64_t nb;
	memcpy(&nb, &v, 8);
	put_ts(&w, a->n, &a->t, &a->delta, t);
	if (deca) {
		if (a->n == 0)
			dec_exact(v, a->e, &m);
		put_ts(&w, a->n, &a->m, &a->mdelta, m);
	} else if (a->n == 0) {
		bw_put(&w, nb, 64);
		a->vbits = nb;
	} else {
		put_xor(&w, &a->vbits, &a->lead, &a->trail, nb);
	}
	a->b = w.b;
	a->cap = w.cap;
	a->nbits = w.nbits;
	a->n++;
	a->b[1] = (uint8_t)(a->n & 0xff);
	a->b[2] = (uint8_t)(a->n >> 8);
}

size_t chunk_app_len(const struct chunk_app *a)
{
	return (a->nbits + 7) / 8;
}

/* ---- scaled decimal values ---- */

static uint64_t zz(int64_t x)
{
	return ((uint64_t)x << 1) ^ (uint64_t)(x >> 63);
}

static unsigned bitlen(uint64_t x)
{
	return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

/* Build the timestamp stream of a chunk with separate streams: delta-of-delta
 * buckets, or (return 1) each delta minus the smallest at one fixed width,
 * whichever is smaller (regular scrapes with a few ms of jitter cost a few
 * bits per sample that way, and none at all without jitter). */
static int build_ts(const int64_t *t, size_t n, struct bitw *ts)
{
	struct bitw tf = { 0 };
	int64_t last = 0, delta = 0;
	for (size_t i = 0; i < n; i++)
		put_ts(ts, (uint32_t)i, &last, &delta, t[i]);
	uint64_t dmin = UINT64_MAX, dmax = 0;
	for (size_t i = 1; i < n; i++) {
		uint64_t d = (uint64_t)t[i] - (uint64_t)t[i - 1];
		dmin = d < dmin ? d : dmin;
		dmax = d > dmax ? d : dmax;
	}
	if (n < 2)
		dmin = dmax = 1;
	unsigned lmin = bitlen(dmin), wt = bitlen(dmax - dmin);
	bw_put(&tf, lmin, 7);
	bw_put(&tf, dmin, lmin);
	bw_put(&tf, wt, 7);
	bw_put(&tf, (uint64_t)t[0], 64);
	for (size_t i = 1; i < n; i++)
		bw_put(&tf, (uint64_t)t[i] - (uint64_t)t[i - 1] - dmin, wt);
	if (tf.nbits < ts->nbits) {
		free(ts->b);
		*ts = tf;
		return 1;
	}
	free(tf.b);
	return 0;
}

/* Encode as CHUNK_XORS: separate timestamp stream, then XOR values. */
static void xors_encode(const int64_t *t, const double *v, size_t n, struct bitw *out)
{
	struct bitw ts = { 0 }, vs = { 0 };
	int mode = build_ts(t, n, &ts) ? 4 : 0;
	uint64_t prev = 0;
	uint8_t lead = 0xff, trail = 0;
	for (size_t i = 0; i < n; i++) {
		uint64_t nb;
		memcpy(&nb, &v[i], 8);
		if (i == 0) {
			bw_put(&vs, nb, 64);
			prev = nb;
		} else {
			put_xor(&vs, &prev, &lead, &trail, nb);
		}
	}
	size_t tsbytes = (ts.nbits + 7) / 8;
	struct buf h;
	buf_init(&h, 16);
	buf_add_uvarint(&h, tsbytes);
	bw_put(out, CHUNK_XORS, 8);
	bw_put(out, n & 0xff, 8);
	bw_put(out, n >> 8, 8);
	bw_put(out, (uint64_t)mode, 8);
	for (size_t i = 0; i < h.len; i++)
		bw_put(out, (uint8_t)h.data[i], 8);
	for (size_t i = 0; i < tsbytes; i++)
		bw_put(out, ts.b[i], 8);
	for (size_t i = 0; i < (vs.nbits + 7) / 8; i++)
		bw_put(out, vs.b[i], 8);
	buf_free(&h);
	free(ts.b);
	free(vs.b);
}

/* Encode as CHUNK_DEC into out; -1 if the values are not all decimals. */
static int dec_encode(const int64_t *t, const double *v, size_t n, struct bitw *out)
{
	unsigned e = 0;
	int64_t m;
	for (size_t i = 0; i < n; i++) {
		while (e <= DEC_EXP_MAX && !dec_exact(v[i], e, &m))
			e++;
		if (e > DEC_EXP_MAX)
			return -1;
	}
	int64_t *ms = xmalloc(n * sizeof(*ms));
	for (size_t i = 0; i < n; i++) {
		if (!dec_exact(v[i], e, &ms[i])) {
			free(ms);
			return -1;
		}
	}
	/* Differences share a factor (4096-byte pages, steps of 5): divide it out. */
	uint64_t g = 0;
	for (size_t i = 1; i < n; i++) {
		int64_t d = ms[i] - ms[i - 1];
		uint64_t a = d < 0 ? (uint64_t)0 - (uint64_t)d : (uint64_t)d, b = g;
		while (b) {
			uint64_t r = a % b;
			a = b;
			b = r;
		}
		g = a;
	}
	if (g == 0)
		g = 1;
	/* Choose delta or delta-of-delta, and flagged zeros, one fixed width,
	 * or a width per group of DEC_GROUP (outliers cost only their group). */
	uint64_t *zs[2] = { xcalloc(n, sizeof(uint64_t)), xcalloc(n, sizeof(uint64_t)) };
	uint64_t maxz[2] = { 0, 0 }, nz[2] = { 0, 0 }, grouped[2] = { 0, 0 };
	int64_t pd = 0;
	for (size_t i = 1; i < n; i++) {
		int64_t d = (ms[i] - ms[i - 1]) / (int64_t)g;
		zs[0][i] = zz(d);
		zs[1][i] = zz(d - pd);
		pd = d;
		for (int k = 0; k < 2; k++) {
			maxz[k] = zs[k][i] > maxz[k] ? zs[k][i] : maxz[k];
			nz[k] += zs[k][i] != 0;
		}
	}
	for (int k = 0; k < 2; k++)
		for (size_t i = 1; i < n; i += DEC_GROUP) {
			uint64_t gm = 0;
			size_t end = i + DEC_GROUP < n ? i + DEC_GROUP : n;
			for (size_t j = i; j < end; j++)
				gm = zs[k][j] > gm ? zs[k][j] : gm;
			grouped[k] += 7 + (end - i) * bitlen(gm);
		}
	static const unsigned modes[6] = { 0, 1, 2, 3, 8, 9 };
	unsigned best = 0;
	uint64_t best_cost = UINT64_MAX;
	for (unsigned k = 0; k < 6; k++) {
		unsigned mode = modes[k], dod = mode & 1, w = bitlen(maxz[dod]);
		uint64_t cost = (mode & 8) ? grouped[dod] : (mode & 2) ? (uint64_t)(n - 1) * w :
		    (w ? (n - 1) + nz[dod] * w : 0);
		if (cost < best_cost) {
			best_cost = cost;
			best = mode;
		}
	}
	unsigned w = bitlen(maxz[best & 1]);
	const uint64_t *z = zs[best & 1];
	struct bitw ts = { 0 }, vs = { 0 };
	if (build_ts(t, n, &ts))
		best |= 4;
	unsigned gw = 0;
	for (size_t i = 1; i < n && w; i++) {
		if (best & 8) {
			if ((i - 1) % DEC_GROUP == 0) {
				uint64_t gm = 0;
				for (size_t j = i; j < i + DEC_GROUP && j < n; j++)
					gm = z[j] > gm ? z[j] : gm;
				gw = bitlen(gm);
				bw_put(&vs, gw, 7);
			}
			bw_put(&vs, z[i], gw);
		} else if (best & 2) {
			bw_put(&vs, z[i], w);
		} else if (!z[i]) {
			bw_put(&vs, 0, 1);
		} else {
			bw_put(&vs, 1, 1);
			bw_put(&vs, z[i], w);
		}
	}
	free(zs[0]);
	free(zs[1]);
	bw_put(out, CHUNK_DEC, 8);
	bw_put(out, n & 0xff, 8);
	bw_put(out, n >> 8, 8);
	bw_put(out, e, 8);
	bw_put(out, best, 8);
	bw_put(out, w, 8);
	size_t tsbytes = (ts.nbits + 7) / 8;
	/* tsbytes varint, the timestamp stream, m0 varint, the value stream. */
	struct buf h1, h2;
	buf_init(&h1, 16);
	buf_init(&h2, 16);
	buf_add_uvarint(&h1, g);
	buf_add_uvarint(&h1, tsbytes);
	buf_add_varint(&h2, ms[0]);
	for (size_t i = 0; i < h1.len; i++)
		bw_put(out, (uint8_t)h1.data[i], 8);
	for (size_t i = 0; i < tsbytes; i++)
		bw_put(out, ts.b[i], 8);
	for (size_t i = 0; i < h2.len; i++)
		bw_put(out, (uint8_t)h2.data[i], 8);
	for (size_t i = 0; i < (vs.nbits + 7) / 8; i++)
		bw_put(out, vs.b[i], 8);
	buf_free(&h1);
	buf_free(&h2);
	free(ts.b);
	free(vs.b);
	free(ms);
	return 0;
}

int chunk_encode(const int64_t *t, const double *v, size_t n, struct buf *out)
{
	if (n == 0 || n > CHUNK_SAMPLES_MAX)
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (t[i] <= t[i - 1])
			return -EINVAL;
	struct chunk_app a;
	chunk_app_init(&a);
	for (size_t i = 0; i < n; i++)
		chunk_app_add(&a, t[i], v[i]);
	struct bitw d = { 0 }, x = { 0 };
	const uint8_t *best = a.b;
	size_t best_len = chunk_app_len(&a);
	if (dec_encode(t, v, n, &d) == 0 && (d.nbits + 7) / 8 < best_len) {
		best = d.b;
		best_len = (d.nbits + 7) / 8;
	}
	if (n > 1 && best == a.b) {
		xors_encode(t, v, n, &x);
		if ((x.nbits + 7) / 8 < best_len) {
			best = x.b;
			best_len = (x.nbits + 7) / 8;
		}
	}
	int rc = buf_add(out, best, best_len);
	chunk_app_free(&a);
	free(d.b);
	free(x.b);
	return rc;
}

/* ---- reader ---- */

uint32_t chunk_count(const void *p, size_t len)
{
	const uint8_t *b = p;
	if (len < CHUNK_HEADER)
		return 0;
	return (uint32_t)b[1] | (uint32_t)b[2] << 8;
}

/* With mode bit 2, read the frame-of-reference timestamp header. */
static int for_header(struct chunk_iter *it)
{
	if (!(it->mode & 4))
		return 0;
	uint64_t l, wt;
	if (br_get(it->tp, &it->tpos, it->tend, 7, &l) < 0 || l > 64 ||
	    br_get(it->tp, &it->tpos, it->tend, (unsigned)l, &it->dmin) < 0 ||
	    br_get(it->tp, &it->tpos, it->tend, 7, &wt) < 0 || wt > 64)
		return -EINVAL;
	it->wt = (uint8_t)wt;
	return 0;
}

/* Read the timestamp field at r: `uvarint T` + T bytes in the chunk, or
 * for a shared one `uvarint offset` of that field in file. Set tp, tpos,
 * tend. */
static int ts_field(struct chunk_iter *it, struct rd *r, int shared, const uint8_t *file,
    size_t file_len)
{
	uint64_t tsbytes, off;
	const uint8_t *ts;
	if (!shared) {
		if (rd_uvarint(r, &tsbytes) < 0 || rd_bytes(r, tsbytes, &ts) < 0)
			return -EINVAL;
	} else {
		struct rd fr;
		if (!file || rd_uvarint(r, &off) < 0 || off >= file_len)
			return -EINVAL;
		rd_init(&fr, file + off, file_len - off);
		if (rd_uvarint(&fr, &tsbytes) < 0 || rd_bytes(&fr, tsbytes, &ts) < 0)
			return -EINVAL;
	}
	if (tsbytes > SIZE_MAX / 8)
		return -EINVAL;
	it->tp = ts;
	it->tpos = 0;
	it->tend = tsbytes * 8;
	return 0;
}

int chunk_ts_field(const uint8_t *p, size_t len, size_t *field, size_t *field_len)
{
	struct rd r;
	uint64_t g, tsbytes;
	const uint8_t *ts;
	if (len < CHUNK_HEADER + 3 || (p[0] != CHUNK_DEC && p[0] != CHUNK_XORS))
		return 0;
	rd_init(&r, p + (p[0] == CHUNK_DEC ? 6 : 4), len - (p[0] == CHUNK_DEC ? 6 : 4));
	if (p[0] == CHUNK_DEC && rd_uvarint(&r, &g) < 0)
		return 0;
	*field = len - rd_left(&r);
	if (rd_uvarint(&r, &tsbytes) < 0 || rd_bytes(&r, tsbytes, &ts) < 0)
		return 0;
	*field_len = len - rd_left(&r) - *field;
	return 1;
}

int chunk_iter_init(struct chunk_iter *it, const void *p, size_t len)
{
	return chunk_iter_init_file(it, p, len, NULL, 0);
}

int chunk_iter_init_file(struct chunk_iter *it, const void *p, size_t len, const void *file,
    size_t file_len)
{
	memset(it, 0, sizeof(*it));
	const uint8_t *b = p;
	if (len < CHUNK_HEADER || len > SIZE_MAX / 8)
		return -EINVAL;
	it->p = b;
	it->tp = b;
	it->len = len;
	it->enc = b[0];
	it->n = chunk_count(p, len);
	it->lead = 0xff;
	if (it->enc == CHUNK_XOR) {
		it->tpos = CHUNK_HEADER * 8;
		it->tend = len * 8;
		return 0;
	}
	if (it->enc == CHUNK_DECA) {
		if (len < CHUNK_HEADER + 1 || b[3] > DEC_EXP_MAX)
			return -EINVAL;
		it->e = b[3];
		it->tpos = (CHUNK_HEADER + 1) * 8;
		it->tend = len * 8;
		return 0;
	}
	int shared = it->enc == CHUNK_DECT || it->enc == CHUNK_XORST;
	if (it->enc == CHUNK_XORS || it->enc == CHUNK_XORST) {
		struct rd r;
		if (len < CHUNK_HEADER + 2)
			return -EINVAL;
		it->mode = b[3];
		rd_init(&r, b + 4, len - 4);
		if ((it->mode & ~4) || ts_field(it, &r, shared, file, file_len) < 0)
			return -EINVAL;
		it->enc = CHUNK_XORS;
		it->vpos = (len - rd_left(&r)) * 8;
		it->vend = len * 8;
		return for_header(it);
	}
	if ((it->enc != CHUNK_DEC && it->enc != CHUNK_DECT) || len < CHUNK_HEADER + 3)
		return -EINVAL;
	it->enc = CHUNK_DEC;
	it->e = b[3];
	it->mode = b[4];
	it->w = b[5];
	if (it->e > DEC_EXP_MAX || (it->mode & ~15u) || ((it->mode & 8) && (it->mode & 2)) ||
	    it->w > 64)
		return -EINVAL;
	struct rd r;
	rd_init(&r, b + 6, len - 6);
	if (rd_uvarint(&r, &it->g) < 0 || it->g == 0 || ts_field(it, &r, shared, file, file_len) < 0)
		return -EINVAL;
	if (rd_varint(&r, &it->m) < 0)
		return -EINVAL;
	it->vpos = (len - rd_left(&r)) * 8;
	it->vend = len * 8;
	return for_header(it);
}

/* The body of chunk_iter_next, inlined into chunk_iter_read's loop. */
static inline __attribute__((always_inline)) int iter_next(struct chunk_iter *it, int64_t *t,
    double *v)
{
	if (it->i >= it->n)
		return 0;
	if (it->enc != CHUNK_XOR && (it->mode & 4)) {
		uint64_t x;
		if (br_get(it->tp, &it->tpos, it->tend, it->i ? it->wt : 64, &x) < 0)
			return -EINVAL;
		int64_t nt = it->i ? (int64_t)((uint64_t)it->t + it->dmin + x) : (int64_t)x;
		if (it->i && nt <= it->t)
			return -EINVAL;
		it->t = nt;
	} else if (get_ts(it->tp, &it->tpos, it->tend, it->i, &it->t, &it->delta, 1) < 0) {
		return -EINVAL;
	}
	if (it->enc == CHUNK_XOR) {
		if (it->i == 0) {
			if (br_get(it->p, &it->tpos, it->tend, 64, &it->vbits) < 0)
				return -EINVAL;
		} else if (get_xor(it->p, &it->tpos, it->tend, &it->vbits, &it->lead,
		    &it->trail) < 0) {
			return -EINVAL;
		}
		memcpy(v, &it->vbits, 8);
	} else if (it->enc == CHUNK_DECA) {
		if (get_ts(it->p, &it->tpos, it->tend, it->i, &it->m, &it->md, 0) < 0)
			return -EINVAL;
		*v = it->e ? (double)it->m / pow10_tab[it->e] : (double)it->m;
	} else if (it->enc == CHUNK_XORS) {
		if (it->i == 0) {
			if (br_get(it->p, &it->vpos, it->vend, 64, &it->vbits) < 0)
				return -EINVAL;
		} else if (get_xor(it->p, &it->vpos, it->vend, &it->vbits, &it->lead,
		    &it->trail) < 0) {
			return -EINVAL;
		}
		memcpy(v, &it->vbits, 8);
	} else {
		if (it->i > 0 && it->w) {
			uint64_t z = 0, flag = 1, gw;
			if ((it->mode & 8) && (it->i - 1) % DEC_GROUP == 0) {
				if (br_get(it->p, &it->vpos, it->vend, 7, &gw) < 0 || gw > it->w)
					return -EINVAL;
				it->gw = (uint8_t)gw;
			}
			if (!(it->mode & 10) && br_get(it->p, &it->vpos, it->vend, 1, &flag) < 0)
				return -EINVAL;
			if (flag && br_get(it->p, &it->vpos, it->vend,
			    (it->mode & 8) ? it->gw : it->w, &z) < 0)
				return -EINVAL;
			int64_t d = (int64_t)(((z >> 1) ^ -(z & 1)) * it->g);
			if (it->mode & 1) {
				it->md = (int64_t)((uint64_t)it->md + (uint64_t)d);
				it->m = (int64_t)((uint64_t)it->m + (uint64_t)it->md);
			} else {
				it->m = (int64_t)((uint64_t)it->m + (uint64_t)d);
			}
		}
		/* x / 1.0 == x: skip the division for integers */
		*v = it->e ? (double)it->m / pow10_tab[it->e] : (double)it->m;
	}
	*t = it->t;
	it->i++;
	return 1;
}

int chunk_iter_next(struct chunk_iter *it, int64_t *t, double *v)
{
	return iter_next(it, t, v);
}

/*
 * chunk_iter_read for CHUNK_DEC chunks with frame-of-reference timestamps
 * and no per-difference flag bit (mode bit 2, and bit 1 or 3): what regular
 * counters and gauges encode to. The same steps as iter_next with the
 * state in locals. Return 0 or -EINVAL if the chunk is corrupt; *got
 * samples were read either way.
 */
static int read_dec_for(struct chunk_iter *it, int64_t *t, double *v, size_t max, size_t *got)
{
	const uint8_t *p = it->p, *tp = it->tp;	/* values; timestamps (maybe a shared stream) */
	size_t tpos = it->tpos, vpos = it->vpos;
	const size_t tend = it->tend, vend = it->vend;
	int64_t ts = it->t, m = it->m, md = it->md;
	uint32_t i = it->i;
	const uint32_t n = it->n;
	const unsigned wt = it->wt, w = it->w, grouped = it->mode & 8, dod = it->mode & 1;
	unsigned gw = it->gw;
	const uint64_t dmin = it->dmin, g = it->g;
	const double scale = pow10_tab[it->e];
	const int e = it->e;
	size_t k = 0;
	int rc = 0;
	while (k < max && i < n) {
		uint64_t x;
		if (br_get(tp, &tpos, tend, i ? wt : 64, &x) < 0) {
			rc = -1;
			break;
		}
		int64_t nt = i ? (int64_t)((uint64_t)ts + dmin + x) : (int64_t)x;
		if (i && nt <= ts) {
			rc = -1;
			break;
		}
		if (i > 0 && w) {
			uint64_t z, gv;
			if (grouped && (i - 1) % DEC_GROUP == 0) {
				if (br_get(p, &vpos, vend, 7, &gv) < 0 || gv > w) {
					rc = -1;
					break;
				}
				gw = (unsigned)gv;
			}
			if (br_get(p, &vpos, vend, grouped ? gw : w, &z) < 0) {
				rc = -1;
				break;
			}
			int64_t d = (int64_t)(((z >> 1) ^ -(z & 1)) * g);
			if (dod) {
				md = (int64_t)((uint64_t)md + (uint64_t)d);
				m = (int64_t)((uint64_t)m + (uint64_t)md);
			} else {
				m = (int64_t)((uint64_t)m + (uint64_t)d);
			}
		}
		ts = nt;
		t[k] = ts;
		v[k] = e ? (double)m / scale : (double)m;
		k++;
		i++;
	}
	it->tpos = tpos;
	it->vpos = vpos;
	it->t = ts;
	it->m = m;
	it->md = md;
	it->i = i;
	it->gw = (uint8_t)gw;
	*got = k;
	return rc < 0 ? -EINVAL : 0;
}

int chunk_iter_read(struct chunk_iter *it, int64_t *t, double *v, size_t max, size_t *got)
{
	if (it->enc == CHUNK_DEC && (it->mode & 4) && (it->mode & 10))
		return read_dec_for(it, t, v, max, got);
	size_t n = 0;
	int rc = 1;
	while (n < max && (rc = iter_next(it, &t[n], &v[n])) == 1)
		n++;
	*got = n;
	return rc < 0 ? rc : 0;
}
