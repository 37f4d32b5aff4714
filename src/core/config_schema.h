/*
 * config_schema.h — how config keys are described (private to the config
 * loader and the per-module schema tables). One table per section; each entry
 * says the key, its type, where it goes (an offset into the struct the section
 * fills), its range, default and documentation. Parsing, freeing, `vigil help
 * config` and config_get() all walk the same tables.
 */
#ifndef VIGIL_CONFIG_SCHEMA_H
#define VIGIL_CONFIG_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

enum ftype {
	F_SECTION,	/* nested map: sub fields, same base (or base + off for F_SUBSTRUCT) */
	F_STRING,	/* non-empty string -> char * */
	F_HOSTPORT,	/* "ADDR:PORT" with a numeric address -> char * */
	F_DURATION,	/* Prometheus duration in [min, max] ms -> int64_t */
	F_BYTES,	/* size with optional unit in [min, max] -> int64_t */
	F_BOOL,		/* true / false -> int */
	F_LOGLEVEL,	/* debug / info / warn / error -> enum log_level */
	F_INT,		/* integer in [min, max] -> int64_t */
	F_UINT,		/* integer in [min, max] -> unsigned */
	F_FLOAT,	/* number -> double */
	F_ENUM,		/* one of names[] -> int (its index) */
	F_STRLIST,	/* list of strings -> char ** at off, size_t count at off2 */
	F_STRMAP,	/* map of string to string -> struct config_strmap at off */
	F_LIST,		/* list of maps -> array of elem_size structs at off, count at off2 */
	F_SECRET,	/* name of a secret (recorded for config_load_secrets) -> char *;
			 * min holds the enum config_role that uses it */
	F_OPAQUE,	/* any value, read by another module's own parser (rule_files,
			 * alerting: alert_config_parse); only its position is kept */
	F_KVMAP,	/* a map of any keys, flattened to "a.b" = "v" pairs (lists repeat
			 * the key) -> struct config_kv at off; checked whole by kv_check */
};

struct field {
	const char *key;		/* YAML key */
	enum ftype type;		/* how the value is read */
	size_t off;			/* where the value goes, from the section's base */
	int64_t min, max;		/* range (durations, sizes, integers) */
	const struct field *sub;	/* fields of a section or of a list element */
	const char *def;		/* default, as documented */
	const char *doc;		/* one-line description */
	size_t off2;			/* F_STRLIST, F_LIST: offset of the size_t count */
	size_t elem_size;		/* F_LIST: size of one element */
	const char *const *names;	/* F_ENUM: the names, NULL-terminated */
	/* F_LIST: set an element's defaults before its keys are read (may be NULL) */
	void (*init)(void *elem);
	/* F_LIST, F_SECTION: check the whole element/section after its keys are
	 * read; return 0 or -1 with a reason in err (reported at its position) */
	int (*check)(void *elem, char *err, size_t errsz);
	int required;			/* the key must be present (in list elements) */
	/* F_KVMAP: check the pairs; on error set *bad to the offending pair's
	 * index and return -1 with "reason" in err */
	int (*kv_check)(const struct config_kv *kv, size_t *bad, char *err, size_t errsz);
};

#define FIELD_END { .key = NULL }



/* A table row for the common case; other members by designated initializer. */
#define FLD(k, t, o, mn, mx, sb, df, dc) \
	{ .key = (k), .type = (t), .off = (o), .min = (mn), .max = (mx), .sub = (sb), .def = (df), .doc = (dc) }
#endif
