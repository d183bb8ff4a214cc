// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "hvx_json.h"

const char *hvx_json_str(struct json_object *o, enum hvx_json_style style)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |= style == HVX_JSON_PRETTY ?
		 JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED :
		 JSON_C_TO_STRING_PLAIN;
	return json_object_to_json_string_ext(o, flags);
}

int hvx_json_write(FILE *f, struct json_object *o, enum hvx_json_style style)
{
	const char *s = hvx_json_str(o, style);

	if (!s)
		return -ENOMEM;
	if (fputs(s, f) == EOF || fputc('\n', f) == EOF || fflush(f) == EOF)
		return errno ? -errno : -EIO;
	return 0;
}

int hvx_json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int hvx_json_add_str(struct json_object *o, const char *key, const char *v)
{
	return hvx_json_add(o, key, json_object_new_string(v));
}

int hvx_json_add_u64(struct json_object *o, const char *key, uint64_t v)
{
	return hvx_json_add(o, key, json_object_new_uint64(v));
}

int hvx_json_add_i64(struct json_object *o, const char *key, int64_t v)
{
	return hvx_json_add(o, key, json_object_new_int64(v));
}

int hvx_json_add_bool(struct json_object *o, const char *key, bool v)
{
	return hvx_json_add(o, key, json_object_new_boolean(v));
}

static int get(struct json_object *o, const char *key, json_type type,
	       struct json_object **v)
{
	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, v))
		return -ENOENT;
	return json_object_is_type(*v, type) ? 0 : -EINVAL;
}

int hvx_json_get_str(struct json_object *o, const char *key, const char **v)
{
	struct json_object *j;
	int ret = get(o, key, json_type_string, &j);

	if (!ret)
		*v = json_object_get_string(j);
	return ret;
}

int hvx_json_get_u64(struct json_object *o, const char *key, uint64_t *v)
{
	struct json_object *j;
	int ret = get(o, key, json_type_int, &j);

	if (ret)
		return ret;
	/* json-c keeps integers as int64 or uint64; reject negatives. */
	if (json_object_get_int64(j) < 0 &&
	    json_object_get_uint64(j) <= (uint64_t)INT64_MAX)
		return -EINVAL;
	*v = json_object_get_uint64(j);
	return 0;
}

int hvx_json_get_bool(struct json_object *o, const char *key, bool *v)
{
	struct json_object *j;
	int ret = get(o, key, json_type_boolean, &j);

	if (!ret)
		*v = json_object_get_boolean(j);
	return ret;
}

const char *hvx_json_text(struct json_object *o, const char *key,
			  const char *dflt)
{
	struct json_object *j;

	if (!json_object_object_get_ex(o, key, &j) || !j)
		return dflt;
	return json_object_get_string(j);
}

uint64_t hvx_json_u64(struct json_object *o, const char *key)
{
	uint64_t v;

	return hvx_json_get_u64(o, key, &v) ? 0 : v;
}
