/* alert_evaltime_test.c — Prometheus's rule group evaluation slots (evaltime.c). */
#include <string.h>

#include "alert/alert.h"
#include "t.h"

/* XXH64 reference values (seed 0) published with xxHash. */
T_TEST(evaltime_xxhash64_reference_values)
{
	T_CHECK(alert_xxhash64("", 0, 0) == 0xEF46DB3751D8E999ull);
	T_CHECK(alert_xxhash64("a", 1, 0) == 0xD24EC4F1A98C6E5Bull);
	T_CHECK(alert_xxhash64("abc", 3, 0) == 0x44BC2CF5AD770999ull);
	const char *s = "Nobody inspects the spammish repetition";	/* 39 bytes: every code path */
	T_CHECK(alert_xxhash64(s, strlen(s), 0) == 0xFBCEA83C8A378BF1ull);
}

T_TEST(evaltime_group_hash_is_labels_hash)
{
	const char *b = "file\xff/r.yml\xffname\xffg\xff";
	T_CHECK(alert_group_hash("/r.yml", "g") == alert_xxhash64(b, strlen(b), 0));
	T_CHECK(alert_group_hash("/r.yml", "g") != alert_group_hash("/r.yml", "h"));
}

/* The slot is the latest base + offset <= now, and the same for every now in one interval. */
T_TEST(evaltime_slot_is_stable_within_interval)
{
	struct rule_group g = { .name = "g", .file = "/r.yml" };
	int64_t now = 1700000000000LL, iv = 30000;
	int64_t s = alert_group_eval_ts(&g, iv, now);
	uint64_t off_ns = alert_group_hash("/r.yml", "g") % (uint64_t)(iv * 1000000);
	T_CHECK(s <= now && s > now - iv);
	int64_t k = (now * 1000000 - (int64_t)off_ns) / (iv * 1000000);
	T_EQ_INT(s, (k * iv * 1000000 + (int64_t)off_ns) / 1000000);
	T_EQ_INT(alert_group_eval_ts(&g, iv, s + iv - 1), s);
	T_EQ_INT(alert_group_eval_ts(&g, iv, s + iv + 1), s + iv);
	T_EQ_INT(alert_group_eval_ts(&g, 0, now), now);
}

int main(void)
{
	T_RUN(evaltime_xxhash64_reference_values);
	T_RUN(evaltime_group_hash_is_labels_hash);
	T_RUN(evaltime_slot_is_stable_within_interval);
	return t_done();
}
