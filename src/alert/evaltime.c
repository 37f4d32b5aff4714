/*
 * evaltime.c — when a rule group is evaluated, the way Prometheus does it
 * (rules/manager.go, Group.EvalTimestamp in 2.42): every group has its own
 * slot inside the interval, offset = hash(labels{file, name}) % interval
 * nanoseconds, and evaluates at base + offset where base is a multiple of
 * the interval. The hash is Prometheus's labels.Hash: XXH64 (seed 0) of
 * "file\xffFILE\xffname\xffNAME\xff". So the same group in the same file
 * evaluates at the same instants in vigil and in Prometheus, and different
 * groups do not all query the store in the same millisecond.
 */
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "core/xmalloc.h"

#define P1 0x9E3779B185EBCA87ull
#define P2 0xC2B2AE3D27D4EB4Full
#define P3 0x165667B19E3779F9ull
#define P4 0x85EBCA77C2B2AE63ull
#define P5 0x27D4EB2F165667C5ull

static uint64_t rotl(uint64_t x, int r)
{
	return (x << r) | (x >> (64 - r));
}

static uint64_t rd64(const unsigned char *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t rd32(const unsigned char *p)
{
	return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24;
}

static uint64_t xround(uint64_t acc, uint64_t in)
{
	acc += in * P2;
	return rotl(acc, 31) * P1;
}

static uint64_t xmerge(uint64_t h, uint64_t v)
{
	h ^= xround(0, v);
	return h * P1 + P4;
}

uint64_t alert_xxhash64(const void *data, size_t n, uint64_t seed)
{
	const unsigned char *p = data, *end = p + n;
	uint64_t h;
	if (n >= 32) {
		uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
		for (; end - p >= 32; p += 32) {
			v1 = xround(v1, rd64(p));
			v2 = xround(v2, rd64(p + 8));
			v3 = xround(v3, rd64(p + 16));
			v4 = xround(v4, rd64(p + 24));
		}
		h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
		h = xmerge(xmerge(xmerge(xmerge(h, v1), v2), v3), v4);
	} else {
		h = seed + P5;
	}
	h += (uint64_t)n;
	for (; end - p >= 8; p += 8)
		h = rotl(h ^ xround(0, rd64(p)), 27) * P1 + P4;
	if (end - p >= 4) {
		h = rotl(h ^ (rd32(p) * P1), 23) * P2 + P3;
		p += 4;
	}
	for (; p < end; p++)
		h = rotl(h ^ (*p * P5), 11) * P1;
	h ^= h >> 33;
	h *= P2;
	h ^= h >> 29;
	h *= P3;
	h ^= h >> 32;
	return h;
}

uint64_t alert_group_hash(const char *file, const char *name)
{
	/* labels sorted by name: "file" < "name"; 0xff after every name and value */
	size_t fl = strlen(file), nl = strlen(name), n = 4 + 1 + fl + 1 + 4 + 1 + nl + 1;
	char *b = xmalloc(n), *q = b;
	memcpy(q, "file\xff", 5);
	q += 5;
	memcpy(q, file, fl);
	q += fl;
	*q++ = (char)0xff;
	memcpy(q, "name\xff", 5);
	q += 5;
	memcpy(q, name, nl);
	q += nl;
	*q++ = (char)0xff;
	uint64_t h = alert_xxhash64(b, n, 0);
	free(b);
	return h;
}

int64_t alert_group_eval_ts(const struct rule_group *g, int64_t interval_ms, int64_t now_ms)
{
	if (interval_ms <= 0)
		return now_ms;
	/* nanoseconds, as Prometheus computes it; the result truncated to ms
	 * is what Prometheus's timestamp.FromTime gives the query and the series */
	int64_t iv = interval_ms * 1000000;
	int64_t off = (int64_t)(alert_group_hash(g->file ? g->file : "", g->name) % (uint64_t)iv);
	int64_t adj = now_ms * 1000000 - off;
	int64_t m = adj % iv;
	if (m < 0)
		m += iv;
	int64_t slot = adj - m + off;
	return slot >= 0 ? slot / 1000000 : -((-slot + 999999) / 1000000);
}
