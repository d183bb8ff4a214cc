// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app_manifest.h"
#include "app_msg.h"

static const char canon_magic[] = "hvx-app-manifest\n";

enum canon_tag {
	CANON_FORMAT = 1,
	CANON_APP_ID,
	CANON_VERSION,
	CANON_SIZE,
	CANON_SHA256,
	CANON_VM,
	CANON_EXPIRES,
	CANON_ARG,
	CANON_KEY_ID,
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/*
 * App IDs and VM names: letters, digits, '.', '_', '-', starting with a
 * letter or digit, so that they are safe in unit names, paths and logs.
 */
bool app_name_valid(const char *s, size_t max)
{
	size_t i, len = strlen(s);

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9');

		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
			return false;
	}
	return true;
}

bool app_manifest_has_vm(const struct app_manifest *m, const char *vm)
{
	unsigned int i;

	for (i = 0; i < m->n_vms; i++)
		if (!strcmp(m->vms[i], vm))
			return true;
	return false;
}

static int get_uint(json_t *v, const char *key, uint64_t min, uint64_t *out,
		    char *err, size_t errlen)
{
	json_int_t i;

	if (!json_is_integer(v))
		return fail(err, errlen, "\"%s\": not an integer", key);
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > APP_UINT_MAX)
		return fail(err, errlen, "\"%s\": %lld out of range [%llu, %llu]",
			    key, (long long)i, (unsigned long long)min,
			    (unsigned long long)APP_UINT_MAX);
	*out = (uint64_t)i;
	return 0;
}

static int get_hex(json_t *v, const char *key, uint8_t *out, size_t len,
		   char *err, size_t errlen)
{
	if (!json_is_string(v) || app_hex_decode(json_string_value(v), out, len))
		return fail(err, errlen, "\"%s\": expected %zu lowercase hex digits",
			    key, 2 * len);
	return 0;
}

static int get_name(json_t *v, const char *key, char *out, size_t max,
		    char *err, size_t errlen)
{
	const char *s;

	if (!json_is_string(v))
		return fail(err, errlen, "\"%s\": not a string", key);
	s = json_string_value(v);
	if (json_string_length(v) != strlen(s) || !app_name_valid(s, max))
		return fail(err, errlen,
			    "\"%s\": must be 1-%zu of [A-Za-z0-9._-], starting alphanumeric",
			    key, max);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int parse_vms(json_t *v, struct app_manifest *m, char *err, size_t errlen)
{
	size_t i, j;
	json_t *e;

	if (!json_is_array(v) || json_array_size(v) == 0 ||
	    json_array_size(v) > APP_VMS_MAX)
		return fail(err, errlen, "\"vms\": expected an array of 1-%d VM names",
			    APP_VMS_MAX);
	json_array_foreach(v, i, e) {
		if (get_name(e, "vms", m->vms[i], APP_VM_MAX, err, errlen))
			return -EINVAL;
		for (j = 0; j < i; j++)
			if (!strcmp(m->vms[i], m->vms[j]))
				return fail(err, errlen, "\"vms\": \"%s\" listed twice",
					    m->vms[i]);
		m->n_vms = (unsigned int)i + 1;
	}
	return 0;
}

static int parse_args(json_t *v, struct app_manifest *m, char *err, size_t errlen)
{
	json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > APP_ARGS_MAX)
		return fail(err, errlen, "\"args\": expected an array of at most %d strings",
			    APP_ARGS_MAX);
	json_array_foreach(v, i, e) {
		/* jansson rejects \u0000 unless asked, so strlen() is the length. */
		if (!json_is_string(e) || json_string_length(e) > APP_ARG_MAX)
			return fail(err, errlen,
				    "\"args\"[%zu]: expected a string of at most %d bytes",
				    i, APP_ARG_MAX);
		m->args[i] = strdup(json_string_value(e));
		if (!m->args[i])
			return -ENOMEM;
		m->n_args = (unsigned int)i + 1;
	}
	return 0;
}

int app_manifest_parse(const char *buf, size_t len, struct app_manifest *m,
		       char *err, size_t errlen)
{
	json_t *format, *app_id, *version, *size, *sha256, *vms, *expires;
	json_t *args, *key_id, *signature, *root;
	json_error_t jerr;
	uint64_t fmt;
	int ret;

	memset(m, 0, sizeof(*m));
	if (len > APP_MANIFEST_MAX)
		return fail(err, errlen, "manifest is %zu bytes, limit %d",
			    len, APP_MANIFEST_MAX);
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root)
		return fail(err, errlen, "JSON: %s at line %d column %d",
			    jerr.text, jerr.line, jerr.column);
	/* "!": every key present, no other key. */
	if (json_unpack_ex(root, &jerr, 0,
			   "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o !}",
			   "format", &format, "app_id", &app_id,
			   "version", &version, "size", &size, "sha256", &sha256,
			   "vms", &vms, "expires", &expires, "args", &args,
			   "key_id", &key_id, "signature", &signature)) {
		ret = fail(err, errlen, "%s", jerr.text);
		goto out;
	}
	ret = get_uint(format, "format", 1, &fmt, err, errlen);
	if (ret)
		goto out;
	if (fmt != APP_MANIFEST_FORMAT) {
		ret = fail(err, errlen, "\"format\": %llu is not supported (expected %d)",
			   (unsigned long long)fmt, APP_MANIFEST_FORMAT);
		goto out;
	}
	ret = get_name(app_id, "app_id", m->app_id, APP_ID_MAX, err, errlen) ?:
	      get_uint(version, "version", 1, &m->version, err, errlen) ?:
	      get_uint(size, "size", 0, &m->size, err, errlen) ?:
	      get_hex(sha256, "sha256", m->sha256, APP_SHA256_LEN, err, errlen) ?:
	      parse_vms(vms, m, err, errlen) ?:
	      get_uint(expires, "expires", 1, &m->expires, err, errlen) ?:
	      parse_args(args, m, err, errlen) ?:
	      get_hex(key_id, "key_id", m->key_id, APP_KEYID_LEN, err, errlen) ?:
	      get_hex(signature, "signature", m->signature, APP_SIG_LEN, err, errlen);
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
out:
	json_decref(root);
	if (ret)
		app_manifest_free(m);
	return ret;
}

void app_manifest_free(struct app_manifest *m)
{
	unsigned int i;

	for (i = 0; i < m->n_args; i++)
		free(m->args[i]);
	m->n_args = 0;
}

struct canon {
	uint8_t *buf;
	size_t len, cap;
};

static int canon_put(struct canon *c, uint8_t tag, const void *val, size_t len)
{
	uint8_t hdr[5] = { tag, len >> 24, len >> 16, len >> 8, len };
	size_t need = c->len + sizeof(hdr) + len;

	if (need > c->cap) {
		size_t cap = need * 2;
		uint8_t *p = realloc(c->buf, cap);

		if (!p)
			return -ENOMEM;
		c->buf = p;
		c->cap = cap;
	}
	memcpy(c->buf + c->len, hdr, sizeof(hdr));
	memcpy(c->buf + c->len + sizeof(hdr), val, len);
	c->len = need;
	return 0;
}

static int canon_u64(struct canon *c, uint8_t tag, uint64_t v)
{
	uint8_t be[8];
	int i;

	for (i = 0; i < 8; i++)
		be[i] = (uint8_t)(v >> (56 - 8 * i));
	return canon_put(c, tag, be, sizeof(be));
}

int app_manifest_encode(const struct app_manifest *m, uint8_t **out,
			size_t *outlen)
{
	struct canon c = { 0 };
	unsigned int i;
	int ret;

	c.cap = 512;
	c.buf = malloc(c.cap);
	if (!c.buf)
		return -ENOMEM;
	memcpy(c.buf, canon_magic, sizeof(canon_magic) - 1);
	c.len = sizeof(canon_magic) - 1;
	ret = canon_u64(&c, CANON_FORMAT, APP_MANIFEST_FORMAT) ?:
	      canon_put(&c, CANON_APP_ID, m->app_id, strlen(m->app_id)) ?:
	      canon_u64(&c, CANON_VERSION, m->version) ?:
	      canon_u64(&c, CANON_SIZE, m->size) ?:
	      canon_put(&c, CANON_SHA256, m->sha256, APP_SHA256_LEN);
	for (i = 0; !ret && i < m->n_vms; i++)
		ret = canon_put(&c, CANON_VM, m->vms[i], strlen(m->vms[i]));
	if (!ret)
		ret = canon_u64(&c, CANON_EXPIRES, m->expires);
	for (i = 0; !ret && i < m->n_args; i++)
		ret = canon_put(&c, CANON_ARG, m->args[i], strlen(m->args[i]));
	if (!ret)
		ret = canon_put(&c, CANON_KEY_ID, m->key_id, APP_KEYID_LEN);
	if (ret) {
		free(c.buf);
		return ret;
	}
	*out = c.buf;
	*outlen = c.len;
	return 0;
}

char *app_manifest_dump(const struct app_manifest *m)
{
	char hex[2 * APP_SIG_LEN + 1];
	json_t *root, *vms, *args;
	unsigned int i;
	char *s = NULL;

	root = json_object();
	vms = json_array();
	args = json_array();
	if (!root || !vms || !args)
		goto out;
	for (i = 0; i < m->n_vms; i++)
		json_array_append_new(vms, json_string(m->vms[i]));
	for (i = 0; i < m->n_args; i++)
		json_array_append_new(args, json_string(m->args[i]));
	json_object_set_new(root, "format", json_integer(APP_MANIFEST_FORMAT));
	json_object_set_new(root, "app_id", json_string(m->app_id));
	json_object_set_new(root, "version", json_integer((json_int_t)m->version));
	json_object_set_new(root, "size", json_integer((json_int_t)m->size));
	app_hex_encode(m->sha256, APP_SHA256_LEN, hex);
	json_object_set_new(root, "sha256", json_string(hex));
	json_object_set(root, "vms", vms);
	json_object_set_new(root, "expires", json_integer((json_int_t)m->expires));
	json_object_set(root, "args", args);
	app_hex_encode(m->key_id, APP_KEYID_LEN, hex);
	json_object_set_new(root, "key_id", json_string(hex));
	app_hex_encode(m->signature, APP_SIG_LEN, hex);
	json_object_set_new(root, "signature", json_string(hex));
	s = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
out:
	json_decref(vms);
	json_decref(args);
	json_decref(root);
	return s;
}

int app_manifest_sign(struct app_manifest *m, EVP_PKEY *pkey)
{
	uint8_t pub[APP_PUBKEY_LEN], *canon;
	size_t len;
	int ret;

	ret = app_key_raw_public(pkey, pub);
	if (ret)
		return ret;
	app_key_id(pub, m->key_id);
	ret = app_manifest_encode(m, &canon, &len);
	if (ret)
		return ret;
	ret = app_sign(pkey, canon, len, m->signature);
	free(canon);
	return ret;
}
