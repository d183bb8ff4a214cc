/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one JSON writer behind every -j/-p output and the control socket.
 * Commands build a json-c tree (the single source of truth for what they
 * report) and either write it as JSON or format text from it.
 */
#ifndef HVX_JSON_H
#define HVX_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

enum hvx_json_style {
	HVX_JSON_COMPACT,	/* one line: -j, control socket, NDJSON streams */
	HVX_JSON_PRETTY,	/* indented: -p */
};

/* Serialise @o; the string lives as long as @o. */
const char *hvx_json_str(struct json_object *o, enum hvx_json_style style);
/* Write @o and a newline to @f and flush; 0 or -errno (e.g. -ENOSPC). */
int hvx_json_write(FILE *f, struct json_object *o, enum hvx_json_style style);

/* Builders: each returns 0 or -ENOMEM; @o must be an object. */
int hvx_json_add_str(struct json_object *o, const char *key, const char *v);
int hvx_json_add_u64(struct json_object *o, const char *key, uint64_t v);
int hvx_json_add_i64(struct json_object *o, const char *key, int64_t v);
int hvx_json_add_bool(struct json_object *o, const char *key, bool v);
/* Takes ownership of @v, also on failure. */
int hvx_json_add(struct json_object *o, const char *key, struct json_object *v);

/*
 * Typed getters for parsing what others sent: -ENOENT when @key is absent,
 * -EINVAL when it has another type or is out of range.
 */
int hvx_json_get_str(struct json_object *o, const char *key, const char **v);
int hvx_json_get_u64(struct json_object *o, const char *key, uint64_t *v);
int hvx_json_get_bool(struct json_object *o, const char *key, bool *v);

/* Text helpers, so every tool prints the same value the same way. */
const char *hvx_json_text(struct json_object *o, const char *key,
			  const char *dflt);
uint64_t hvx_json_u64(struct json_object *o, const char *key);

#endif /* HVX_JSON_H */
