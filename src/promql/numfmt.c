/* numfmt.c — sample values as Prometheus prints them (Go's strconv 'f'/'e'
 * with precision -1: the shortest digits that read back to the same double).
 *
 * A range query answer holds up to millions of values, so the digits come
 * from exact 128-bit integer arithmetic, not from printf/strtod: the value
 * m * 2^e scaled by 10^k is a fraction num/den held exactly, rounded half to
 * even to 15, 16 or 17 significant digits (as printf's %.*e does), and the
 * first of those that lies within half an ulp of the value is the answer
 * (the rule the printf/strtod loop below applies, which stays as the
 * fallback for values outside the range the integers cover). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/promql.h"

typedef unsigned __int128 u128;

#define FAST_K_MAX 27		/* 5^27 < 2^63: largest power of five in one u64 */
#define FAST_J_MAX 24		/* largest power of ten a divisor may hold */

/* 5^k for 0 <= k <= FAST_K_MAX, filled on first use. */
static uint64_t pow5_tab[FAST_K_MAX + 1];

static uint64_t pow5(int k)
{
	if (!pow5_tab[0]) {
		uint64_t r = 1;
		for (int i = 0; i <= FAST_K_MAX; i++, r *= 5)
			pow5_tab[i] = r;
	}
	return pow5_tab[k];
}

/* 10^k for 0 <= k <= FAST_J_MAX. */
static u128 pow10u(int k)
{
	static uint64_t tab[20];
	if (!tab[0]) {
		uint64_t r = 1;
		for (int i = 0; i < 20; i++, r *= 10)
			tab[i] = r;
	}
	if (k < 20)
		return tab[k];
	return (u128)tab[19] * tab[k - 19];
}

/* The exact value v * 10^k as num/den, and v's ulp in the same units as
 * ulp/den; *sh is log2(den) when den is a power of two (the usual case, so
 * the division is a shift), else -1. Return 0, or -1 when the integers would
 * not hold it. */
static int scaled(uint64_t m, int e, int k, u128 *num, u128 *den, u128 *ulp, int *sh)
{
	*sh = -1;
	if (k >= 0) {
		if (k > FAST_K_MAX)
			return -1;
		u128 n = (u128)m * pow5(k);
		if (e + k >= 0) {
			if (e + k > 10)
				return -1;
			*num = n << (e + k);
			*den = 1;
			*sh = 0;
			*ulp = (u128)pow5(k) << (e + k);
		} else {
			if (-(e + k) > 100)
				return -1;
			*num = n;
			*den = (u128)1 << -(e + k);
			*sh = -(e + k);
			*ulp = pow5(k);
		}
		return 0;
	}
	int j = -k;
	if (j > FAST_J_MAX)
		return -1;
	if (e >= 0) {
		if (e > 70)
			return -1;
		*num = (u128)m << e;
		*den = pow10u(j);
		*ulp = (u128)1 << e;
	} else {
		if (-e > 40)
			return -1;
		*num = m;
		*den = pow10u(j) << -e;
		*ulp = 1;
	}
	return 0;
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

/* Write the n lowest decimal digits of d (n <= 20, leading zeros kept) at
 * p, two at a time. */
static void put_digits(uint64_t d, char *p, size_t n)
{
	while (n >= 2) {
		unsigned r = (unsigned)(d % 100);
		d /= 100;
		n -= 2;
		memcpy(p + n, digit_pairs + 2 * r, 2);
	}
	if (n)
		p[0] = (char)('0' + (int)(d % 10));
}

/* Does the decimal d (in the units num/den is scaled to) lie within half an
 * ulp of the value num/den, so that it reads back to the same double? Ties
 * go to the even mantissa; the gap below a power of two is half as wide. */
static int reads_back(u128 d, u128 num, u128 den, u128 ulp, int even, int narrow_below)
{
	u128 dd = d * den;
	int above = dd >= num;
	u128 diff = above ? dd - num : num - dd;
	u128 d2 = (above || !narrow_below) ? 2 * diff : 4 * diff;
	return d2 < ulp || (even && d2 == ulp);
}

/* q rounded half to even after dividing by f, given the remainder r of q's
 * own division (q + r/den is the exact value): (q / f) with the fraction
 * ((q % f) * den + r) / (f * den). */
static inline __attribute__((always_inline)) uint64_t round_div(uint64_t q, u128 r, u128 den,
    uint64_t f)
{
	uint64_t d = q / f;
	u128 rem = (u128)(q % f) * den + r, half = (u128)f * den;
	if (2 * rem > half || (2 * rem == half && (d & 1)))
		d++;
	return d;
}

/*
 * The shortest of v's correctly rounded 15, 16 or 17 significant digits that
 * reads back to v: digits (no trailing zeros) and the decimal exponent of the
 * first one. v finite and positive. The value is scaled once to 17 digits
 * (q + r/den exactly); 15 and 16 digits are that rounded further. Return 0,
 * or -1 to use the slow path.
 */
static int fast_digits(double v, char *digits, size_t *nd, int *exp10)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	int ef = (int)(bits >> 52 & 0x7ff);
	if (ef == 0 || ef == 0x7ff)
		return -1;
	uint64_t m = (bits & (((uint64_t)1 << 52) - 1)) | (uint64_t)1 << 52;
	int e = ef - 1075;
	int narrow_below = m == (uint64_t)1 << 52 && ef > 1, even = !(m & 1);
	/* estimate of floor(log10(v)), corrected below */
	int x = (int)floor((ef - 1023) * 0.30102999566398120);
	const uint64_t lo17 = 10000000000000000ull, hi17 = lo17 * 10;
	u128 num, den, ulp, q;
	int sh, tries = 0;
	for (;;) {
		if (scaled(m, e, 16 - x, &num, &den, &ulp, &sh) < 0)
			return -1;
		q = sh >= 0 ? num >> sh : num / den;
		if (q >= hi17)
			x++;
		else if (q < lo17)
			x--;
		else
			break;
		if (++tries > 3)
			return -1;
	}
	u128 r = num - q * den;
	uint64_t q64 = (uint64_t)q;
	for (int p = 15; p <= 17; p++) {
		/* constant divisors, so the compiler multiplies instead */
		uint64_t f = p == 15 ? 100 : p == 16 ? 10 : 1;
		uint64_t d = p == 15 ? round_div(q64, r, den, 100) :
		    p == 16 ? round_div(q64, r, den, 10) : round_div(q64, r, den, 1);
		if (!reads_back((u128)d * f, num, den, ulp, even, narrow_below))
			continue;
		int x_out = x;
		uint64_t top = lo17 / f * 10;	/* 10^p */
		if (d == top) {
			d /= 10;
			x_out++;
		}
		size_t n = (size_t)p;
		put_digits(d, digits, n);
		while (n > 1 && digits[n - 1] == '0')
			n--;
		*nd = n;
		*exp10 = x_out;
		return 0;
	}
	return -1;
}

/* The printf/strtod form of fast_digits, for what the integers cannot hold. */
static void slow_digits(double v, char *digits, size_t *nd, int *exp10)
{
	char e[48];
	for (int p = 15; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	size_t n = 0;
	const char *c = e;
	for (; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9' && n < 23)
			digits[n++] = *c;
	while (n > 1 && digits[n - 1] == '0')
		n--;
	*nd = n;
	*exp10 = atoi(c + 1);
}

/* Shortest round-trip digits of |v| (finite, nonzero). */
static void shortest(double v, char digits[24], size_t *nd, int *exp10)
{
	double a = fabs(v);
	if (fast_digits(a, digits, nd, exp10) < 0)
		slow_digits(a, digits, nd, exp10);
}

/* Write s (len bytes) into buf of n, NUL-terminated, truncating; return len. */
static size_t put(char *buf, size_t n, const char *s, size_t len)
{
	if (n == 0)
		return len;
	size_t c = len < n - 1 ? len : n - 1;
	memcpy(buf, s, c);
	buf[c] = 0;
	return len;
}


size_t pq_fmt_u64(uint64_t u, char *p)
{
	/* count the digits, then write them in place from the end (a
	 * variable-length memcpy would be a library call per number) */
	size_t n = 1;
	for (uint64_t x = u; x >= 10 && n < 20; x /= 10)
		n++;
	put_digits(u, p, n);
	return n;
}

/* Integers below 1e15 in plain decimal, as Go prints them. */
static size_t fmt_int(double v, char *buf, size_t n)
{
	char tmp[24];
	char *out = n >= sizeof(tmp) ? buf : tmp;	/* in place when it fits */
	size_t o = 0;
	if (v < 0)
		out[o++] = '-';
	o += pq_fmt_u64((uint64_t)fabs(v), out + o);
	if (out == buf) {
		buf[o] = 0;
		return o;
	}
	return put(buf, n, tmp, o);
}

size_t pq_fmt_float(double v, char *buf, size_t n)
{
	if (isnan(v))
		return put(buf, n, "NaN", 3);
	if (isinf(v))
		return put(buf, n, v > 0 ? "+Inf" : "-Inf", 4);
	if (v == 0)
		return signbit(v) ? put(buf, n, "-0", 2) : put(buf, n, "0", 1);
	if (fabs(v) < 1e15 && v == (double)(int64_t)v)
		return fmt_int(v, buf, n);
	char digits[24];
	size_t nd;
	int exp;
	shortest(v, digits, &nd, &exp);
	char big[400];	/* '-' + "0." + 323 zeros + 17 digits at most */
	/* write straight into buf when it surely fits (no copy: this runs
	 * once per point of an answer) */
	char *out = n >= 48 && exp > -20 && exp < 24 ? buf : big;
	size_t o = 0;
	if (v < 0)
		out[o++] = '-';
	if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = 0; i < -exp - 1; i++)
			out[o++] = '0';
		memcpy(out + o, digits, nd);
		o += nd;
	} else if ((size_t)exp + 1 >= nd) {
		memcpy(out + o, digits, nd);
		o += nd;
		for (size_t i = nd; i < (size_t)exp + 1; i++)
			out[o++] = '0';
	} else {
		memcpy(out + o, digits, (size_t)exp + 1);
		o += (size_t)exp + 1;
		out[o++] = '.';
		memcpy(out + o, digits + exp + 1, nd - (size_t)exp - 1);
		o += nd - (size_t)exp - 1;
	}
	if (out == buf) {
		buf[o] = 0;
		return o;
	}
	return put(buf, n, out, o);
}

size_t pq_fmt_json_float(double v, char *buf, size_t n)
{
	double a = fabs(v);
	if (isnan(v) || isinf(v) || a == 0 || (a >= 1e-6 && a < 1e21))
		return pq_fmt_float(v, buf, n);
	/* Prometheus's JSON writer switches to Go's 'e' form out there:
	 * shortest digits, "d.ddde-07" with at least two exponent digits */
	char digits[24];
	size_t nd;
	int exp;
	shortest(v, digits, &nd, &exp);
	char out[48];
	size_t o = 0;
	if (v < 0)
		out[o++] = '-';
	out[o++] = digits[0];
	if (nd > 1) {
		out[o++] = '.';
		memcpy(out + o, digits + 1, nd - 1);
		o += nd - 1;
	}
	out[o++] = 'e';
	out[o++] = exp < 0 ? '-' : '+';
	unsigned ae = (unsigned)(exp < 0 ? -exp : exp);
	if (ae >= 100)
		out[o++] = (char)('0' + ae / 100);
	out[o++] = (char)('0' + ae / 10 % 10);
	out[o++] = (char)('0' + ae % 10);
	return put(buf, n, out, o);
}
