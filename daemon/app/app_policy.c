// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "app_policy.h"
#include "app_msg.h"

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static json_t *load_json(const char *path, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		fail(err, errlen, "%s:%d:%d: %s", path, jerr.line, jerr.column,
		     jerr.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		fail(err, errlen, "%s: not a JSON object", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

static int load_keys(struct app_policy *p, json_t *keys, char *err, size_t errlen)
{
	json_error_t jerr;
	size_t i, j;
	json_t *k;

	if (!json_is_array(keys))
		return fail(err, errlen, "\"keys\": expected an array");
	p->keys = calloc(json_array_size(keys) ?: 1, sizeof(*p->keys));
	if (!p->keys)
		return -ENOMEM;
	json_array_foreach(keys, i, k) {
		struct app_policy_key *pk = &p->keys[i];
		const char *name, *pub;

		if (json_unpack_ex(k, &jerr, 0, "{s:s, s:s !}", "name", &name,
				   "public", &pub))
			return fail(err, errlen, "\"keys\"[%zu]: %s", i, jerr.text);
		if ( !app_name_valid(name, APP_KEY_NAME_MAX))
			return fail(err, errlen, "\"keys\"[%zu]: bad or missing \"name\"", i);
		if (app_hex_decode(pub, pk->pub, APP_PUBKEY_LEN))
			return fail(err, errlen,
				    "\"keys\"[%zu]: \"public\" must be 64 lowercase hex digits", i);
		strcpy(pk->name, name);
		app_key_id(pk->pub, pk->id);
		for (j = 0; j < i; j++)
			if (!strcmp(p->keys[j].name, name) ||
			    !memcmp(p->keys[j].id, pk->id, APP_KEYID_LEN))
				return fail(err, errlen, "key \"%s\" listed twice", name);
		p->n_keys = (unsigned int)i + 1;
	}
	return 0;
}

static int load_apps(struct app_policy *p, json_t *apps, char *err, size_t errlen)
{
	json_error_t jerr;
	size_t i, j;
	json_t *a;

	if (!json_is_array(apps))
		return fail(err, errlen, "\"apps\": expected an array");
	p->apps = calloc(json_array_size(apps) ?: 1, sizeof(*p->apps));
	if (!p->apps)
		return -ENOMEM;
	json_array_foreach(apps, i, a) {
		struct app_policy_app *pa = &p->apps[i];
		json_t *minv, *keys, *kn;
		const char *id;

		if (json_unpack_ex(a, &jerr, 0, "{s:s, s:o, s:o !}", "app_id", &id,
				   "min_version", &minv, "keys", &keys))
			return fail(err, errlen, "\"apps\"[%zu]: %s", i, jerr.text);
		if (!app_name_valid(id, APP_ID_MAX))
			return fail(err, errlen, "\"apps\"[%zu]: bad or missing \"app_id\"", i);
		if (!json_is_integer(minv) || json_integer_value(minv) < 1 ||
		    (uint64_t)json_integer_value(minv) > APP_UINT_MAX)
			return fail(err, errlen, "app %s: \"min_version\" must be an integer >= 1", id);
		if (!json_is_array(keys) || json_array_size(keys) == 0 ||
		    json_array_size(keys) > APP_APP_KEYS_MAX)
			return fail(err, errlen, "app %s: \"keys\" must list 1-%d key names",
				    id, APP_APP_KEYS_MAX);
		strcpy(pa->app_id, id);
		pa->min_version = (uint64_t)json_integer_value(minv);
		json_array_foreach(keys, j, kn) {
			const char *name = json_string_value(kn);
			unsigned int k;

			for (k = 0; name && k < p->n_keys; k++)
				if (!strcmp(p->keys[k].name, name))
					break;
			if (!name || k == p->n_keys)
				return fail(err, errlen, "app %s: no key named \"%s\"",
					    id, name ?: "?");
			pa->keys[j] = k;
			pa->n_keys = (unsigned int)j + 1;
		}
		for (j = 0; j < i; j++)
			if (!strcmp(p->apps[j].app_id, id))
				return fail(err, errlen, "app %s listed twice", id);
		p->n_apps = (unsigned int)i + 1;
	}
	return 0;
}

/* Floors of apps no longer in the policy are dropped on the next commit. */
static int load_state(struct app_policy *p, char *err, size_t errlen)
{
	json_t *root, *floors, *v;
	json_error_t jerr;
	unsigned int i;
	int ret = 0;

	if (access(p->state_path, F_OK) < 0 && errno == ENOENT)
		return 0;
	root = load_json(p->state_path, err, errlen);
	if (!root)
		return -EINVAL;
	if (json_unpack_ex(root, &jerr, 0, "{s:o !}", "floors", &floors) ||
	    !json_is_object(floors)) {
		ret = fail(err, errlen, "%s: expected {\"floors\": {...}}", p->state_path);
		goto out;
	}
	for (i = 0; i < p->n_apps; i++) {
		v = app_jget(floors, p->apps[i].app_id);
		if (!v)
			continue;
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			ret = fail(err, errlen, "%s: floor of %s is not an integer",
				   p->state_path, p->apps[i].app_id);
			goto out;
		}
		p->apps[i].floor = (uint64_t)json_integer_value(v);
	}
out:
	json_decref(root);
	return ret;
}

int app_policy_load(struct app_policy *p, const char *path,
		    const char *state_path, char *err, size_t errlen)
{
	json_t *root, *keys, *apps;
	json_error_t jerr;
	int ret;

	memset(p, 0, sizeof(*p));
	root = load_json(path, err, errlen);
	if (!root)
		return -EINVAL;
	if (json_unpack_ex(root, &jerr, 0, "{s:o, s:o !}", "keys", &keys,
			   "apps", &apps))
		ret = fail(err, errlen, "%s: %s", path, jerr.text);
	else
		ret = load_keys(p, keys, err, errlen) ?:
		      load_apps(p, apps, err, errlen);
	json_decref(root);
	if (!ret && state_path) {
		p->state_path = strdup(state_path);
		ret = p->state_path ? load_state(p, err, errlen) : -ENOMEM;
	}
	if (ret == -ENOMEM)
		snprintf(err, errlen, "out of memory");
	if (ret)
		app_policy_free(p);
	return ret;
}

void app_policy_free(struct app_policy *p)
{
	free(p->keys);
	free(p->apps);
	free(p->state_path);
	memset(p, 0, sizeof(*p));
}

struct app_policy_app *app_policy_find(struct app_policy *p, const char *app_id)
{
	unsigned int i;

	for (i = 0; i < p->n_apps; i++)
		if (!strcmp(p->apps[i].app_id, app_id))
			return &p->apps[i];
	return NULL;
}

const struct app_policy_key *app_policy_key_for(const struct app_policy *p,
						const struct app_policy_app *a,
						const uint8_t id[APP_KEYID_LEN],
						bool *known)
{
	unsigned int i;

	*known = false;
	for (i = 0; i < p->n_keys; i++)
		if (!memcmp(p->keys[i].id, id, APP_KEYID_LEN))
			*known = true;
	for (i = 0; i < a->n_keys; i++)
		if (!memcmp(p->keys[a->keys[i]].id, id, APP_KEYID_LEN))
			return &p->keys[a->keys[i]];
	return NULL;
}

uint64_t app_policy_min(const struct app_policy_app *a)
{
	return a->floor > a->min_version ? a->floor : a->min_version;
}

/* Write to a temporary file, fsync, rename: a crash leaves old or new. */
static int save_state(const struct app_policy *p)
{
	char tmp[4096];
	json_t *root, *floors;
	unsigned int i;
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", p->state_path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	floors = json_object();
	root = json_pack("{s:o}", "floors", floors);
	if (!root)
		return -ENOMEM;
	for (i = 0; i < p->n_apps; i++)
		if (p->apps[i].floor)
			json_object_set_new(floors, p->apps[i].app_id,
					    json_integer((json_int_t)p->apps[i].floor));
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		json_decref(root);
		return -errno;
	}
	ret = json_dumpfd(root, fd, JSON_INDENT(2) | JSON_SORT_KEYS) ? -EIO : 0;
	json_decref(root);
	if (!ret && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && !ret)
		ret = -errno;
	if (!ret && rename(tmp, p->state_path) < 0)
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

int app_policy_commit(struct app_policy *p, struct app_policy_app *a,
		      uint64_t version)
{
	uint64_t old = a->floor;
	int ret;

	if (version < app_policy_min(a))
		return -ERANGE;
	if (version == a->floor)
		return 0;
	a->floor = version;
	if (!p->state_path)
		return 0;
	ret = save_state(p);
	if (ret)
		a->floor = old;
	return ret;
}

static json_t *refuse(enum app_reason r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *refuse(enum app_reason r, const char *fmt, ...)
{
	char detail[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:s}", "ok", 0, "reason", app_reason_name(r),
			 "detail", detail);
}

static json_t *handle_lookup(struct app_policy *policy, json_t *req)
{
	const char *app_id = json_string_value(app_jget(req, "app_id"));
	const char *hex = json_string_value(app_jget(req, "key_id"));
	char pub[2 * APP_PUBKEY_LEN + 1];
	const struct app_policy_key *k;
	uint8_t key_id[APP_KEYID_LEN];
	struct app_policy_app *a;
	bool known;

	if (!app_id || !hex || app_hex_decode(hex, key_id, APP_KEYID_LEN))
		return refuse(APP_BAD_REQUEST, "lookup needs app_id and key_id");
	a = app_policy_find(policy, app_id);
	if (!a)
		return refuse(APP_NOT_ALLOWLISTED, "app %.128s is not on the allowlist",
			      app_id);
	k = app_policy_key_for(policy, a, key_id, &known);
	if (!k)
		return refuse(APP_UNKNOWN_KEY, known ?
			      "key %.16s... may not sign app %s" :
			      "key %.16s... is not a trusted key", hex, app_id);
	app_hex_encode(k->pub, APP_PUBKEY_LEN, pub);
	return json_pack("{s:b, s:s, s:s, s:I}", "ok", 1, "public", pub,
			 "key", k->name, "min_version",
			 (json_int_t)app_policy_min(a));
}

static json_t *handle_commit(struct app_policy *policy, json_t *req)
{
	const char *app_id = json_string_value(app_jget(req, "app_id"));
	json_t *v = app_jget(req, "version");
	struct app_policy_app *a;
	int ret;

	if (!app_id || !json_is_integer(v) || json_integer_value(v) < 1)
		return refuse(APP_BAD_REQUEST, "commit needs app_id and version");
	a = app_policy_find(policy, app_id);
	if (!a)
		return refuse(APP_NOT_ALLOWLISTED, "app %.128s is not on the allowlist",
			      app_id);
	ret = app_policy_commit(policy, a, (uint64_t)json_integer_value(v));
	if (ret == -ERANGE)
		return refuse(APP_ROLLED_BACK, "version %lld of %s is below %llu",
			      (long long)json_integer_value(v), app_id,
			      (unsigned long long)app_policy_min(a));
	if (ret)
		return refuse(APP_INTERNAL, "cannot save state: %s", strerror(-ret));
	return json_pack("{s:b, s:I}", "ok", 1, "min_version",
			 (json_int_t)app_policy_min(a));
}

json_t *app_primary_handle(struct app_policy *policy, json_t *req)
{
	const char *op = json_string_value(app_jget(req, "op"));

	if (op && !strcmp(op, "lookup"))
		return handle_lookup(policy, req);
	if (op && !strcmp(op, "commit"))
		return handle_commit(policy, req);
	return refuse(APP_BAD_REQUEST, "unknown op");
}
