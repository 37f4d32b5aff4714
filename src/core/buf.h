/*
 * buf.h — a growable byte buffer with a hard cap (curl's dynbuf).
 *
 * The cap is set when the buffer is made and is the most it will ever hold;
 * an append that would pass it fails with -E2BIG and leaves the buffer as it
 * was. Contents are always NUL-terminated (the NUL is not counted in len).
 *
 *   struct buf b; buf_init(&b, BUF_CAP_HTTP_BODY);
 *   if (buf_printf(&b, "%d", 42) < 0) ...; use b.data, b.len; buf_free(&b);
 */
#ifndef VIGIL_BUF_H
#define VIGIL_BUF_H

#include <stddef.h>
#include <stdint.h>

#define BUF_CAP_CONFIG      (4u << 20)	/* a config or secrets file */
#define BUF_CAP_IPC_FRAME   (64u << 20)	/* one message between processes */
#define BUF_CAP_HTTP_BODY   (256u << 20)	/* an HTTP response vigil builds */
#define BUF_CAP_SCRAPE      (64u << 20)	/* one scraped exposition body */

struct buf {
	char *data;	/* bytes, NUL-terminated; NULL until the first append */
	size_t len;	/* bytes held, not counting the NUL */
	size_t size;	/* bytes allocated */
	size_t cap;	/* the most len may ever be */
};

/* Make an empty buffer that refuses to grow past cap bytes. */
void buf_init(struct buf *b, size_t cap);
/* Free the contents; b may be NULL. The buffer can be reused after buf_init. */
void buf_free(struct buf *b);
/* Forget the contents but keep the memory. */
void buf_reset(struct buf *b);
/* Append n bytes; 0 or -E2BIG when over cap (buffer unchanged). */
int buf_add(struct buf *b, const void *p, size_t n);
/* Append a NUL-terminated string; 0 or -E2BIG. */
int buf_adds(struct buf *b, const char *s);
/* Append one byte; 0 or -E2BIG. */
int buf_addc(struct buf *b, char c);
/* Append printf output; 0 or -E2BIG (buffer unchanged). */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append a JSON string literal (quotes and escapes included); 0 or -E2BIG. */
int buf_add_json_str(struct buf *b, const char *s, size_t n);
/* Make room for n more bytes without changing len; 0 or -E2BIG. */
int buf_reserve(struct buf *b, size_t n);
/* Take the data out: return it (malloced, NUL-terminated) and empty b. */
char *buf_detach(struct buf *b, size_t *len /* out, may be NULL */);

/* Value of a hexadecimal digit (0-9, a-f, A-F), or -1. */
int hex_digit(int c);

/* Little helpers for binary encodings. */
int buf_add_u8(struct buf *b, uint8_t v);
int buf_add_u32le(struct buf *b, uint32_t v);
int buf_add_u64le(struct buf *b, uint64_t v);
/* Unsigned LEB128 varint; signed uses zigzag. */
int buf_add_uvarint(struct buf *b, uint64_t v);
int buf_add_varint(struct buf *b, int64_t v);

/*
 * A bounds-checked reader over bytes someone else owns. Every get fails
 * (returns -1) once the input is short, and stays failed (rd->err).
 */
struct rd {
	const uint8_t *p;	/* next byte */
	const uint8_t *end;	/* one past the last byte */
	int err;		/* set once a read ran past end or was malformed */
};

void rd_init(struct rd *r, const void *p, size_t n);
int rd_u8(struct rd *r, uint8_t *v /* out */);
int rd_u32le(struct rd *r, uint32_t *v /* out */);
int rd_u64le(struct rd *r, uint64_t *v /* out */);
int rd_uvarint(struct rd *r, uint64_t *v /* out */);
int rd_varint(struct rd *r, int64_t *v /* out */);
/* Point *p at the next n bytes (no copy). */
int rd_bytes(struct rd *r, size_t n, const uint8_t **p /* out */);
/* Bytes left to read. */
size_t rd_left(const struct rd *r);

#endif
