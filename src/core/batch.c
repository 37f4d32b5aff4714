/* batch.c — see batch.h. */
#include "core/batch.h"
#include "core/xmalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

double stale_nan(void)
{
	uint64_t bits = STALE_NAN_BITS;
	double v;
	memcpy(&v, &bits, sizeof(v));
	return v;
}

int is_stale_nan(double v)
{
	uint64_t bits;
	memcpy(&bits, &v, sizeof(bits));
	return bits == STALE_NAN_BITS;
}

void batch_init(struct batch *b)
{
	buf_init(&b->body, BATCH_MAX_BYTES - 16);
	b->n = 0;
}

void batch_free(struct batch *b)
{
	if (b)
		buf_free(&b->body);
}

void batch_reset(struct batch *b)
{
	buf_reset(&b->body);
	b->n = 0;
}

int batch_add(struct batch *b, const struct labels *ls, int64_t ts_ms, double v)
{
	size_t mark = b->body.len;
	uint64_t bits;
	int rc = buf_add_uvarint(&b->body, ls->n);
	for (size_t i = 0; rc == 0 && i < ls->n; i++) {
		size_t nl = strlen(ls->v[i].name), vl = strlen(ls->v[i].value);
		rc = buf_add_uvarint(&b->body, nl);
		if (!rc) rc = buf_add(&b->body, ls->v[i].name, nl);
		if (!rc) rc = buf_add_uvarint(&b->body, vl);
		if (!rc) rc = buf_add(&b->body, ls->v[i].value, vl);
	}
	memcpy(&bits, &v, sizeof(bits));
	if (!rc) rc = buf_add_varint(&b->body, ts_ms);
	if (!rc) rc = buf_add_u64le(&b->body, bits);
	if (rc) {
		b->body.len = mark;
		return -E2BIG;
	}
	b->n++;
	return 0;
}

int batch_encode(const struct batch *b, struct buf *out)
{
	if (buf_add_uvarint(out, b->n) || buf_add(out, b->body.data, b->body.len))
		return -E2BIG;
	return 0;
}

int batch_decode(const void *p, size_t n,
    int (*cb)(void *ctx, const struct labels *ls, int64_t ts_ms, double v), void *ctx)
{
	struct rd r;
	uint64_t count;
	struct label lv[LABELS_MAX];
	char *strs = NULL;
	size_t strs_cap = 0;
	int rc = 0;

	rd_init(&r, p, n);
	if (rd_uvarint(&r, &count) < 0)
		return -EBADMSG;
	for (uint64_t i = 0; i < count; i++) {
		uint64_t nl;
		if (rd_uvarint(&r, &nl) < 0 || nl > LABELS_MAX) {
			rc = -EBADMSG;
			break;
		}
		/* Copy strings out so each is NUL-terminated. */
		const uint8_t *sp[LABELS_MAX * 2];
		uint64_t sl[LABELS_MAX * 2];
		size_t need = 0;
		for (uint64_t j = 0; j < nl * 2; j++) {
			if (rd_uvarint(&r, &sl[j]) < 0 || sl[j] > LABEL_VALUE_MAX ||
			    rd_bytes(&r, sl[j], &sp[j]) < 0) {
				rc = -EBADMSG;
				goto out;
			}
			need += sl[j] + 1;
		}
		if (need > strs_cap) {
			strs_cap = need * 2;
			strs = xreallocarray(strs, strs_cap, 1);
		}
		char *o = strs;
		for (uint64_t j = 0; j < nl * 2; j++) {
			memcpy(o, sp[j], sl[j]);
			o[sl[j]] = '\0';
			if (j % 2 == 0)
				lv[j / 2].name = o;
			else
				lv[j / 2].value = o;
			o += sl[j] + 1;
		}
		int64_t ts;
		uint64_t bits;
		if (rd_varint(&r, &ts) < 0 || rd_u64le(&r, &bits) < 0) {
			rc = -EBADMSG;
			break;
		}
		struct labels *ls = labels_new(lv, nl);
		if (!ls) {
			rc = -EBADMSG;	/* duplicate label names */
			break;
		}
		double v;
		memcpy(&v, &bits, sizeof(v));
		rc = cb(ctx, ls, ts, v);
		labels_free(ls);
		if (rc)
			break;
	}
out:
	free(strs);
	if (rc == 0 && rd_left(&r) != 0)
		rc = -EBADMSG;
	return rc;
}
