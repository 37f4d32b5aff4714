/* promql_numfmt.c — the fast float formatter against a printf/strtod
 * reference (the shortest-digits rule Prometheus's Go strconv applies:
 * the first of 15, 16, 17 correctly rounded digits that reads back). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promql/promql.h"
#include "t.h"

#define RANDOM_CASES 150000	/* random doubles compared per run */

/* Reference: Go 'f', -1 through printf and strtod. */
static void ref_f(double v, char *buf, size_t n)
{
	if (isnan(v)) { snprintf(buf, n, "NaN"); return; }
	if (isinf(v)) { snprintf(buf, n, v > 0 ? "+Inf" : "-Inf"); return; }
	if (v == 0) { snprintf(buf, n, signbit(v) ? "-0" : "0"); return; }
	if (fabs(v) < 1e15 && v == (double)(int64_t)v) {
		snprintf(buf, n, "%lld", (long long)v);
		return;
	}
	char e[48];
	for (int p = 15; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	char digits[24];
	size_t nd = 0;
	const char *c = e;
	int neg = *c == '-';
	if (neg)
		c++;
	for (; *c && *c != 'e'; c++)
		if (*c >= '0' && *c <= '9' && nd < sizeof(digits) - 1)
			digits[nd++] = *c;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	int exp = atoi(c + 1);
	char out[400];
	size_t o = 0;
	if (neg)
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
	out[o] = 0;
	snprintf(buf, n, "%s", out);
}

/* Reference for the JSON form ('e' below 1e-6 and from 1e21). */
static void ref_json(double v, char *buf, size_t n)
{
	double a = fabs(v);
	if (isnan(v) || isinf(v) || a == 0 || (a >= 1e-6 && a < 1e21)) {
		ref_f(v, buf, n);
		return;
	}
	char e[48];
	for (int p = 15; p <= 17; p++) {
		snprintf(e, sizeof(e), "%.*e", p - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	char *x = strchr(e, 'e');
	char mant[40];
	size_t ml = (size_t)(x - e);
	memcpy(mant, e, ml);
	mant[ml] = 0;
	if (strchr(mant, '.')) {
		while (ml > 0 && mant[ml - 1] == '0')
			mant[--ml] = 0;
		if (ml > 0 && mant[ml - 1] == '.')
			mant[--ml] = 0;
	}
	int exp = atoi(x + 1);
	snprintf(buf, n, "%se%c%02d", mant, exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
}

static int failures;

static void same(double v)
{
	char a[512], b[512];
	size_t n = pq_fmt_float(v, a, sizeof(a));
	ref_f(v, b, sizeof(b));
	if ((strcmp(a, b) != 0 || n != strlen(a)) && failures++ < 10)
		T_FAILF("pq_fmt_float(%a) = %s, want %s", v, a, b);
	n = pq_fmt_json_float(v, a, sizeof(a));
	ref_json(v, b, sizeof(b));
	if ((strcmp(a, b) != 0 || n != strlen(a)) && failures++ < 10)
		T_FAILF("pq_fmt_json_float(%a) = %s, want %s", v, a, b);
}

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

T_TEST(known_values)
{
	char b[64];
	pq_fmt_float(0.1, b, sizeof(b));
	T_EQ_STR(b, "0.1");
	pq_fmt_float(217.0 / 60, b, sizeof(b));
	T_EQ_STR(b, "3.6166666666666667");
	pq_fmt_float(1e15, b, sizeof(b));
	T_EQ_STR(b, "1000000000000000");
	pq_fmt_float(123456789012345680.0, b, sizeof(b));
	T_EQ_STR(b, "123456789012345680");
	pq_fmt_json_float(1.5e-7, b, sizeof(b));
	T_EQ_STR(b, "1.5e-07");
	pq_fmt_json_float(1e21, b, sizeof(b));
	T_EQ_STR(b, "1e+21");
	pq_fmt_json_float(-2.5e-300, b, sizeof(b));
	T_EQ_STR(b, "-2.5e-300");
	pq_fmt_float(5e-324, b, sizeof(b));
	T_CHECK(strncmp(b, "0.000", 5) == 0);
	/* truncation keeps the NUL and reports the whole length */
	T_EQ_INT(pq_fmt_float(0.125, b, 3), 5);
	T_EQ_STR(b, "0.");
}

T_TEST(edges_match_reference)
{
	failures = 0;
	for (int x = -30; x <= 30; x++) {
		double p = pow(10, x);
		same(p);
		same(nextafter(p, 0));
		same(nextafter(p, INFINITY));
		same(-p);
	}
	for (int x = -60; x <= 80; x++) {
		double p = ldexp(1, x);
		same(p);
		same(nextafter(p, 0));
		same(nextafter(p, INFINITY));
		same(p * 3);
	}
	same(DBL_MAX);
	same(DBL_MIN);
	same(-DBL_MAX);
}

T_TEST(rates_match_reference)
{
	failures = 0;
	/* values a rate() or an average produces: small integers over windows */
	for (int a = 0; a < 3000; a++)
		for (int w = 1; w < 40; w++) {
			same((double)a / (w * 6));
			same((double)a / w * 1.1);
			same((double)a * 0.001 * w);
		}
}

T_TEST(random_match_reference)
{
	failures = 0;
	for (int i = 0; i < RANDOM_CASES; i++) {
		uint64_t bits = next();
		double v;
		memcpy(&v, &bits, sizeof(v));
		same(v);
		/* and uniformly spread over the magnitudes samples usually have */
		int x = (int)(next() % 50) - 20;
		same((double)(next() >> 11) / 9007199254740992.0 * pow(10, x));
	}
}

int main(void)
{
	T_RUN(known_values);
	T_RUN(edges_match_reference);
	T_RUN(rates_match_reference);
	T_RUN(random_match_reference);
	return t_done();
}
