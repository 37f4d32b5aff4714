/* Unit tests for src/tsdb/chunk.c: exact round-trips of every float pattern,
 * the choice of encoding, and safe failure on damaged input. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tsdb/chunk.h"
#include "t.h"

static uint64_t rng_state = 88172645463325252ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static double bits_double(uint64_t b)
{
	double d;
	memcpy(&d, &b, 8);
	return d;
}

/* Encode with chunk_encode and the open appender; decode both; compare bits. */
static int roundtrip(const int64_t *t, const double *v, size_t n, int *enc)
{
	struct buf b;
	buf_init(&b, 1u << 24);
	if (chunk_encode(t, v, n, &b) != 0)
		return -1;
	*enc = (uint8_t)b.data[0];
	struct chunk_app a;
	chunk_app_init(&a);
	for (size_t i = 0; i < n; i++)
		chunk_app_add(&a, t[i], v[i]);
	const void *srcs[2] = { b.data, a.b };
	size_t lens[2] = { b.len, chunk_app_len(&a) };
	int bad = 0;
	for (int s = 0; s < 2 && !bad; s++) {
		struct chunk_iter it;
		if (chunk_iter_init(&it, srcs[s], lens[s]) != 0) {
			bad = 1;
			break;
		}
		int64_t tt;
		double vv;
		size_t i = 0;
		int rc;
		while ((rc = chunk_iter_next(&it, &tt, &vv)) == 1) {
			if (i >= n || tt != t[i] || memcmp(&vv, &v[i], 8) != 0)
				bad = 1;
			i++;
		}
		if (rc != 0 || i != n)
			bad = 1;
	}
	chunk_app_free(&a);
	buf_free(&b);
	return bad ? -1 : 0;
}

T_TEST(chunk_random_bit_patterns_roundtrip)
{
	int64_t t[CHUNK_CUT_SAMPLES];
	double v[CHUNK_CUT_SAMPLES];
	for (int round = 0; round < 300; round++) {
		size_t n = 1 + rnd() % CHUNK_CUT_SAMPLES;
		int64_t ts = (int64_t)(rnd() >> 1) - (int64_t)(1ull << 62);
		for (size_t i = 0; i < n; i++) {
			ts += 1 + (int64_t)(rnd() % (round % 3 == 0 ? 1000000000ull : 30000));
			t[i] = ts;
			v[i] = bits_double(rnd());
		}
		int enc;
		T_EQ_INT(roundtrip(t, v, n, &enc), 0);
	}
}

T_TEST(chunk_special_values_roundtrip)
{
	uint64_t pats[] = { 0x7ff0000000000002ull /* staleness marker */,
	    0x7ff8000000000001ull, 0xfff8000000000000ull, 0x7ff0000000000000ull,
	    0xfff0000000000000ull, 0x8000000000000000ull /* -0 */, 0, 1 /* denormal */,
	    0x7fefffffffffffffull };
	int64_t t[64];
	double v[64];
	size_t n = 0;
	for (size_t k = 0; k < 9; k++)
		for (int r = 0; r < 3; r++) {
			t[n] = 1000 * (int64_t)n + 5;
			v[n++] = bits_double(pats[(k + (size_t)r * 3) % 9]);
		}
	int enc;
	T_EQ_INT(roundtrip(t, v, n, &enc), 0);
	/* Extreme timestamps: INT64_MIN then INT64_MAX. */
	int64_t te[2] = { INT64_MIN, INT64_MAX };
	double ve[2] = { 1, 2 };
	T_EQ_INT(roundtrip(te, ve, 2, &enc), 0);
}

T_TEST(chunk_counter_uses_decimal_and_is_small)
{
	int64_t t[CHUNK_CUT_SAMPLES];
	double v[CHUNK_CUT_SAMPLES];
	double c = 1234567;
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++) {
		t[i] = 1700000000000 + (int64_t)i * 15000;
		c += (double)(rnd() % 100);
		v[i] = c;
	}
	struct buf b;
	buf_init(&b, 1 << 20);
	T_EQ_INT(chunk_encode(t, v, CHUNK_CUT_SAMPLES, &b), 0);
	T_EQ_INT((uint8_t)b.data[0], CHUNK_DEC);
	T_CHECK(b.len < CHUNK_CUT_SAMPLES * 3 / 2);	/* < 1.5 bytes/sample (XOR: ~3) */
	buf_free(&b);
	/* Two-decimal gauges (e.g. temperatures) also go decimal. */
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++)
		v[i] = (double)(2000 + (int)(rnd() % 300)) / 100.0;
	int enc;
	T_EQ_INT(roundtrip(t, v, CHUNK_CUT_SAMPLES, &enc), 0);
	T_EQ_INT(enc, CHUNK_DEC);
	/* A single NaN rules out DEC; the XOR forms keep it exact. */
	v[7] = bits_double(0x7ff0000000000002ull);
	T_EQ_INT(roundtrip(t, v, CHUNK_CUT_SAMPLES, &enc), 0);
	T_CHECK(enc == CHUNK_XOR || enc == CHUNK_XORS);
	/* Non-decimal floats on jittery timestamps: separate streams win. */
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++) {
		t[i] = 1700000000000 + (int64_t)i * 15000 + (int64_t)(rnd() % 20);
		v[i] = sin((double)i / 10) / 3;
	}
	T_EQ_INT(roundtrip(t, v, CHUNK_CUT_SAMPLES, &enc), 0);
	T_EQ_INT(enc, CHUNK_XORS);
	struct chunk_app a;
	chunk_app_init(&a);
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++)
		chunk_app_add(&a, t[i], v[i]);
	buf_init(&b, 1 << 20);
	chunk_encode(t, v, CHUNK_CUT_SAMPLES, &b);
	T_CHECK(b.len + CHUNK_CUT_SAMPLES / 4 < chunk_app_len(&a));	/* >= 2 bits/sample saved */
	buf_free(&b);
	chunk_app_free(&a);
	/* Constant values: timestamps dominate, ~2 bits/sample. */
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++) {
		t[i] = 1700000000000 + (int64_t)i * 15000;
		v[i] = 1;
	}
	buf_init(&b, 1 << 20);
	chunk_encode(t, v, CHUNK_CUT_SAMPLES, &b);
	T_CHECK(b.len < 40);
	/* Exactly regular timestamps and one value: a fixed-size chunk. */
	T_CHECK(b.len <= 30);
	buf_free(&b);
}

T_TEST(chunk_decimal_random_roundtrip)
{
	int64_t t[CHUNK_CUT_SAMPLES];
	double v[CHUNK_CUT_SAMPLES];
	for (int round = 0; round < 200; round++) {
		size_t n = 1 + rnd() % CHUNK_CUT_SAMPLES;
		int e = (int)(rnd() % 8);
		double p = pow(10, e);
		int64_t m = (int64_t)(rnd() % 100000000) - 50000000;
		for (size_t i = 0; i < n; i++) {
			t[i] = (int64_t)i * 1000 + (int64_t)(rnd() % 3);
			m += (int64_t)(rnd() % 1000) - (round % 2 ? 0 : 500);
			v[i] = (double)m / p;
		}
		int enc;
		T_EQ_INT(roundtrip(t, v, n, &enc), 0);
		if (n >= 20)
			T_EQ_INT(enc, CHUNK_DEC);
	}
}

T_TEST(chunk_decimal_group_widths_for_outliers)
{
	/* Small steps with a rare large jump: per-group widths (mode bit 3). */
	int64_t t[480];
	double v[480];
	int64_t m = 1000;
	for (size_t i = 0; i < 480; i++) {
		t[i] = 1700000000000 + (int64_t)i * 15000;
		m += (int64_t)(rnd() % 8) + (i % 100 == 50 ? 1000000 : 0);
		v[i] = (double)m;
	}
	struct buf b;
	buf_init(&b, 1 << 20);
	T_EQ_INT(chunk_encode(t, v, 480, &b), 0);
	T_EQ_INT((uint8_t)b.data[0], CHUNK_DEC);
	T_CHECK(((uint8_t)b.data[4] & 8) != 0);
	T_CHECK(b.len < 480);	/* < 1 byte/sample; one width for all would be 2.6 */
	buf_free(&b);
	int enc;
	T_EQ_INT(roundtrip(t, v, 480, &enc), 0);
	/* Groups of zero width (a flat stretch) between busy ones. */
	for (size_t i = 0; i < 480; i++) {
		if (i > 40 && i < 200)
			continue;
		m += (int64_t)(rnd() % 3) * 8 + (i % 50 == 0 ? 4000 : 0);
		v[i] = (double)m / 100;
	}
	for (size_t i = 41; i < 200; i++)
		v[i] = v[40];
	T_EQ_INT(roundtrip(t, v, 480, &enc), 0);
	T_EQ_INT(enc, CHUNK_DEC);
}

T_TEST(chunk_open_decimal_chunk_switches_to_xor_in_place)
{
	int64_t t[CHUNK_CUT_SAMPLES];
	double v[CHUNK_CUT_SAMPLES];
	struct chunk_app a;
	for (int round = 0; round < 50; round++) {
		size_t n = 2 + rnd() % (CHUNK_CUT_SAMPLES - 2), sw = rnd() % n;
		for (size_t i = 0; i < n; i++) {
			t[i] = 1000 * (int64_t)i + (int64_t)(rnd() % 10);
			/* Whole numbers, then from sw on two decimals or arbitrary bits. */
			v[i] = i < sw ? (double)(rnd() % 1000) :
			    round % 2 ? (double)(rnd() % 100000) / 100 : bits_double(rnd());
		}
		chunk_app_init(&a);
		for (size_t i = 0; i < n; i++)
			chunk_app_add(&a, t[i], v[i]);
		/* Two decimals after whole numbers: DECA again with e = 2. */
		T_EQ_INT(a.b[0], round % 2 ? CHUNK_DECA : CHUNK_XOR);
		chunk_app_free(&a);
		int enc;
		T_EQ_INT(roundtrip(t, v, n, &enc), 0);
	}
	/* Counters stay DECA in the open chunk, at about 2 bits per sample. */
	chunk_app_init(&a);
	for (size_t i = 0; i < CHUNK_CUT_SAMPLES; i++)
		chunk_app_add(&a, 1700000000000 + (int64_t)i * 15000, 1e6 + (double)i * 25);
	T_EQ_INT(a.b[0], CHUNK_DECA);
	T_CHECK(chunk_app_len(&a) < 64);	/* XOR would take ~4x */
	chunk_app_free(&a);
}

T_TEST(chunk_rejects_bad_input)
{
	int64_t t[2] = { 5, 5 };
	double v[2] = { 1, 2 };
	struct buf b;
	buf_init(&b, 100);
	T_EQ_INT(chunk_encode(t, v, 2, &b), -EINVAL);
	T_EQ_INT(chunk_encode(t, v, 0, &b), -EINVAL);
	buf_free(&b);
	struct chunk_iter it;
	uint8_t junk[3] = { 9, 1, 0 };
	T_EQ_INT(chunk_iter_init(&it, junk, 3), -EINVAL);
	T_EQ_INT(chunk_iter_init(&it, junk, 2), -EINVAL);
	/* A valid chunk cut short reports corruption, never reads past the end. */
	int64_t tt[50];
	double vv[50];
	for (int i = 0; i < 50; i++) {
		tt[i] = i * 1000;
		vv[i] = bits_double(rnd());
	}
	buf_init(&b, 1 << 16);
	chunk_encode(tt, vv, 50, &b);
	for (size_t cut = 3; cut < b.len; cut += 7) {
		uint8_t *copy = malloc(cut);
		memcpy(copy, b.data, cut);
		int rc = chunk_iter_init(&it, copy, cut), got = 0;
		int64_t ot;
		double ov;
		while (rc == 0 && (rc = chunk_iter_next(&it, &ot, &ov)) == 1) {
			got++;
			rc = 0;
		}
		T_CHECK(rc == -EINVAL && got < 50);
		free(copy);
	}
	buf_free(&b);
}

/* Decode a chunk that lies in file; 0 if it gives back t/v exactly. */
static int decode_in_file(const uint8_t *file, size_t flen, size_t off, size_t len,
    const int64_t *t, const double *v, size_t n)
{
	struct chunk_iter it;
	int64_t tt;
	double vv;
	size_t i = 0;
	int rc;
	if (chunk_iter_init_file(&it, file + off, len, file, flen) != 0)
		return -1;
	while ((rc = chunk_iter_next(&it, &tt, &vv)) == 1) {
		if (i >= n || tt != t[i] || memcmp(&vv, &v[i], 8) != 0)
			return -1;
		i++;
	}
	return rc == 0 && i == n ? 0 : -1;
}

/* Two series scraped together share one timestamp field in a file: the
 * chunks that refer to it decode exactly; a bad reference is refused. */
T_TEST(chunk_shared_timestamps_roundtrip)
{
	int64_t t[480];
	double a[480], b[480];
	for (int i = 0; i < 480; i++) {
		t[i] = 1700000000000 + i * 1000 + (int64_t)(rnd() % 300);	/* jittery 1 s */
		a[i] = (double)(i * 7 + (int)(rnd() % 5)) / 100;		/* decimals: DEC */
		b[i] = bits_double(0x3ff0000000000000ull | (rnd() >> 12));	/* floats: XORS */
	}
	struct buf file;
	buf_init(&file, 1u << 24);
	buf_add(&file, "HEADER!!", 8);
	size_t field_off = 0, offs[2], lens[2];
	const double *vals[2] = { a, b };
	for (int s = 0; s < 2; s++) {
		struct buf c;
		size_t f, fl;
		buf_init(&c, 1u << 24);
		T_EQ_INT(chunk_encode(t, vals[s], 480, &c), 0);
		T_EQ_INT((uint8_t)c.data[0], s == 0 ? CHUNK_DEC : CHUNK_XORS);
		T_EQ_INT(chunk_ts_field((const uint8_t *)c.data, c.len, &f, &fl), 1);
		if (s == 0) {
			field_off = file.len;
			buf_add(&file, c.data + f, fl);
		}
		offs[s] = file.len;
		buf_addc(&file, (char)(s == 0 ? CHUNK_DECT : CHUNK_XORST));
		buf_add(&file, c.data + 1, f - 1);
		buf_add_uvarint(&file, field_off);
		buf_add(&file, c.data + f + fl, c.len - f - fl);
		lens[s] = file.len - offs[s];
		T_CHECK(lens[s] + 100 < c.len);	/* the timestamps were most of it */
		buf_free(&c);
	}
	const uint8_t *p = (const uint8_t *)file.data;
	T_EQ_INT(decode_in_file(p, file.len, offs[0], lens[0], t, a, 480), 0);
	T_EQ_INT(decode_in_file(p, file.len, offs[1], lens[1], t, b, 480), 0);
	/* Without the file, or with the reference pointing past it: refused. */
	struct chunk_iter it;
	T_EQ_INT(chunk_iter_init(&it, p + offs[0], lens[0]), -EINVAL);
	T_EQ_INT(chunk_iter_init_file(&it, p + offs[0], lens[0], p, field_off), -EINVAL);
	buf_free(&file);
}

int main(void)
{
	T_RUN(chunk_random_bit_patterns_roundtrip);
	T_RUN(chunk_special_values_roundtrip);
	T_RUN(chunk_counter_uses_decimal_and_is_small);
	T_RUN(chunk_decimal_random_roundtrip);
	T_RUN(chunk_decimal_group_widths_for_outliers);
	T_RUN(chunk_open_decimal_chunk_switches_to_xor_in_place);
	T_RUN(chunk_rejects_bad_input);
	T_RUN(chunk_shared_timestamps_roundtrip);
	return t_done();
}
