/*
 * t.h — the unit-test harness. One test binary per file in tests/unit/.
 *
 *   T_TEST(name) { T_CHECK(x == 1); T_EQ_INT(a, b); T_EQ_STR(s, "x"); }
 *   int main(void) { T_RUN(name); return t_done(); }
 *
 * Each case prints "PASS name" or "FAIL name: file:line: what"; tests/run
 * counts those lines across every binary. A binary that crashes or exits
 * non-zero without printing a FAIL is counted as one failure by tests/run.
 */
#ifndef VIGIL_T_H
#define VIGIL_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int t_case_failed;	/* the running case has failed a check */
static int t_npass, t_nfail;	/* cases passed and failed so far */

#define T_TEST(name) static void name(void)

#define T_FAILF(...) do { \
	if (!t_case_failed) printf("FAIL %s: %s:%d: ", t_case_name, __FILE__, __LINE__); \
	else printf("  also %s:%d: ", __FILE__, __LINE__); \
	printf(__VA_ARGS__); printf("\n"); t_case_failed = 1; } while (0)

#define T_CHECK(c) do { if (!(c)) T_FAILF("%s", #c); } while (0)
#define T_EQ_INT(a, b) do { long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
	if (t_a_ != t_b_) T_FAILF("%s == %lld, want %lld", #a, t_a_, t_b_); } while (0)
#define T_EQ_STR(a, b) do { const char *t_a_ = (a), *t_b_ = (b); \
	if (!t_a_ || !t_b_ || strcmp(t_a_, t_b_) != 0) \
		T_FAILF("%s == \"%s\", want \"%s\"", #a, t_a_ ? t_a_ : "(null)", t_b_ ? t_b_ : "(null)"); } while (0)
#define T_EQ_DBL(a, b, eps) do { double t_a_ = (a), t_b_ = (b); \
	if (!(t_a_ - t_b_ <= (eps) && t_b_ - t_a_ <= (eps))) \
		T_FAILF("%s == %.17g, want %.17g", #a, t_a_, t_b_); } while (0)

static const char *t_case_name = "";

#define T_RUN(name) do { t_case_name = #name; t_case_failed = 0; name(); \
	if (t_case_failed) t_nfail++; else { t_npass++; printf("PASS %s\n", #name); } \
	fflush(stdout); } while (0)

static inline int t_done(void)
{
	return t_nfail ? 1 : 0;
}

#endif
