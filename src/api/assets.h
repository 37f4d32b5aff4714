/*
 * assets.h — the web console's files, compiled into the binary.
 *
 * scripts/embed-web turns web/dist (the bundled TypeScript console) into
 * build/web_assets.c, which defines web_assets[] sorted by path. Nothing is
 * read from disk at run time, so the console cannot be swapped under a
 * running daemon and the web worker needs no file access for it.
 *
 *   const struct web_asset *a = web_asset_find("/app.js");
 *   if (a) serve a->data, a->len with a->content_type and ETag a->etag;
 */
#ifndef VIGIL_ASSETS_H
#define VIGIL_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path;		/* URL path, e.g. "/app.js"; sorted ascending */
	const char *content_type;	/* MIME type with charset where it applies */
	const unsigned char *data;	/* file bytes (NUL follows, not counted) */
	size_t len;			/* bytes in data */
	const unsigned char *gz;	/* gzip of data, or NULL when it would not save space */
	size_t gz_len;			/* bytes in gz, 0 when gz is NULL */
	const char *etag;		/* quoted strong ETag: a hash of data */
};

extern const struct web_asset web_assets[];	/* every file, sorted by path */
extern const size_t web_assets_count;		/* entries in web_assets */

/*
 * Return the asset whose path is exactly path (e.g. "/index.html"), or NULL.
 * The result points into static data; it is never freed.
 */
const struct web_asset *web_asset_find(const char *path);

#endif
