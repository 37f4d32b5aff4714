/* Unit tests for src/core: buffers, hash map, clock, labels, batches. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "core/batch.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/hmap.h"
#include "core/labels.h"
#include "t.h"

T_TEST(buf_cap_refuses_and_keeps_contents)
{
	struct buf b;
	buf_init(&b, 8);
	T_EQ_INT(buf_adds(&b, "12345"), 0);
	T_EQ_INT(buf_adds(&b, "6789"), -E2BIG);
	T_EQ_STR(b.data, "12345");
	T_EQ_INT(buf_printf(&b, "%d", 678), 0);
	T_EQ_STR(b.data, "12345678");
	T_EQ_INT(buf_addc(&b, 'x'), -E2BIG);
	buf_free(&b);
}

T_TEST(buf_json_escapes)
{
	struct buf b;
	buf_init(&b, 100);
	buf_add_json_str(&b, "a\"b\\c\n\x01", 7);
	T_EQ_STR(b.data, "\"a\\\"b\\\\c\\n\\u0001\"");
	buf_free(&b);
}

T_TEST(varints_roundtrip_and_truncation)
{
	struct buf b;
	buf_init(&b, 1000);
	int64_t vals[] = { 0, 1, -1, 63, -64, 300, INT64_MAX, INT64_MIN };
	for (size_t i = 0; i < 8; i++)
		buf_add_varint(&b, vals[i]);
	struct rd r;
	rd_init(&r, b.data, b.len);
	for (size_t i = 0; i < 8; i++) {
		int64_t v;
		T_EQ_INT(rd_varint(&r, &v), 0);
		T_EQ_INT(v, vals[i]);
	}
	T_EQ_INT(rd_left(&r), 0);
	rd_init(&r, b.data, b.len - 1);	/* cut the last varint short */
	int64_t v;
	for (size_t i = 0; i < 7; i++)
		rd_varint(&r, &v);
	T_EQ_INT(rd_varint(&r, &v), -1);
	T_CHECK(r.err);
	buf_free(&b);
}

T_TEST(hmap_put_get_del_grow)
{
	struct hmap m;
	hmap_init(&m);
	char k[32];
	for (int i = 0; i < 5000; i++) {
		int n = snprintf(k, sizeof(k), "key%d", i);
		hmap_put(&m, k, (size_t)n, (void *)(intptr_t)(i + 1));
	}
	T_EQ_INT(m.len, 5000);
	for (int i = 0; i < 5000; i += 2) {
		int n = snprintf(k, sizeof(k), "key%d", i);
		T_EQ_INT((intptr_t)hmap_del(&m, k, (size_t)n), i + 1);
	}
	T_EQ_INT(m.len, 2500);
	T_CHECK(hmap_get(&m, "key2", 4) == NULL);
	T_EQ_INT((intptr_t)hmap_get(&m, "key3", 4), 4);
	size_t it = 0, kl, seen = 0;
	const char *key;
	void *val;
	while (hmap_next(&m, &it, &key, &kl, &val))
		seen++;
	T_EQ_INT(seen, 2500);
	hmap_free(&m, NULL);
}

T_TEST(durations_parse_like_prometheus)
{
	int64_t ms;
	T_EQ_INT(clock_parse_duration("1m30s", &ms), 0);
	T_EQ_INT(ms, 90000);
	T_EQ_INT(clock_parse_duration("500ms", &ms), 0);
	T_EQ_INT(ms, 500);
	T_EQ_INT(clock_parse_duration("1h1m1s1ms", &ms), 0);
	T_EQ_INT(ms, 3661001);
	T_EQ_INT(clock_parse_duration("2d", &ms), 0);
	T_EQ_INT(ms, 172800000);
	T_EQ_INT(clock_parse_duration("1s1m", &ms), -1);
	T_EQ_INT(clock_parse_duration("1x", &ms), -1);
	T_EQ_INT(clock_parse_duration("", &ms), -1);
	T_EQ_INT(clock_parse_duration("s", &ms), -1);
	T_EQ_INT(clock_parse_duration("99999999999999999999s", &ms), -1);
	char b[32];
	T_EQ_STR(clock_format_duration(90500, b, sizeof(b)), "1m30s500ms");
}

T_TEST(labels_sorted_formatted_and_compared)
{
	struct labels_builder lb;
	lb_init(&lb);
	lb_set(&lb, "job", "node");
	lb_set(&lb, "__name__", "up");
	lb_set(&lb, "instance", "a\"b");
	lb_set(&lb, "empty", "");
	struct labels *ls = lb_finish(&lb);
	T_EQ_INT(ls->n, 3);
	T_EQ_STR(ls->v[0].name, "__name__");
	T_EQ_STR(labels_get(ls, "job"), "node");
	T_CHECK(labels_get(ls, "empty") == NULL);
	struct buf b;
	buf_init(&b, 1000);
	labels_format(ls, &b);
	T_EQ_STR(b.data, "up{instance=\"a\\\"b\", job=\"node\"}");
	struct labels *c = labels_dup(ls);
	T_EQ_INT(labels_cmp(ls, c), 0);
	T_CHECK(labels_hash(ls) == labels_hash(c));
	struct label dup[] = { { "a", "1" }, { "a", "2" } };
	T_CHECK(labels_new(dup, 2) == NULL);
	T_CHECK(label_name_valid("_a1") && !label_name_valid("1a") && !label_name_valid("a:b"));
	T_CHECK(metric_name_valid("a:b") && !metric_name_valid(""));
	buf_free(&b);
	labels_free(ls);
	labels_free(c);
	lb_free(&lb);
}

struct seen { int n; int64_t ts[4]; double v[4]; };
static int batch_cb(void *ctx, const struct labels *ls, int64_t ts, double v)
{
	struct seen *s = ctx;
	if (s->n < 4) {
		s->ts[s->n] = ts;
		s->v[s->n] = v;
	}
	s->n++;
	return labels_get(ls, "__name__") ? 0 : 1;
}

T_TEST(batch_roundtrip_keeps_stale_nan_bits)
{
	struct label l[] = { { "__name__", "x" }, { "k", "v" } };
	struct labels *ls = labels_new(l, 2);
	struct batch b;
	batch_init(&b);
	batch_add(&b, ls, 1000, 1.5);
	batch_add(&b, ls, -5, stale_nan());
	struct buf enc;
	buf_init(&enc, 1 << 20);
	batch_encode(&b, &enc);
	struct seen s = { 0 };
	T_EQ_INT(batch_decode(enc.data, enc.len, batch_cb, &s), 0);
	T_EQ_INT(s.n, 2);
	T_EQ_INT(s.ts[1], -5);
	T_CHECK(is_stale_nan(s.v[1]));
	T_CHECK(!is_stale_nan(NAN));
	/* every truncation of the encoding is rejected, never over-read */
	for (size_t cut = 0; cut < enc.len; cut++) {
		struct seen s2 = { 0 };
		T_CHECK(batch_decode(enc.data, cut, batch_cb, &s2) == -EBADMSG);
	}
	buf_free(&enc);
	batch_free(&b);
	labels_free(ls);
}

int main(void)
{
	T_RUN(buf_cap_refuses_and_keeps_contents);
	T_RUN(buf_json_escapes);
	T_RUN(varints_roundtrip_and_truncation);
	T_RUN(hmap_put_get_del_grow);
	T_RUN(durations_parse_like_prometheus);
	T_RUN(labels_sorted_formatted_and_compared);
	T_RUN(batch_roundtrip_keeps_stale_nan_bits);
	return t_done();
}
