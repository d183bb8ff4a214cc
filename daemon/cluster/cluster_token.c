// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cluster_crypto.h"
#include "cluster_token.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";

static int is_token_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int cluster_token_parse(const char *s, char id[CLUSTER_TOKEN_ID_LEN + 1],
			char secret[CLUSTER_TOKEN_SECRET_LEN + 1])
{
	size_t i;

	if (strlen(s) != CLUSTER_TOKEN_ID_LEN + 1 + CLUSTER_TOKEN_SECRET_LEN ||
	    s[CLUSTER_TOKEN_ID_LEN] != '.')
		return -EINVAL;
	for (i = 0; s[i]; i++)
		if (i != CLUSTER_TOKEN_ID_LEN && !is_token_char(s[i]))
			return -EINVAL;
	memcpy(id, s, CLUSTER_TOKEN_ID_LEN);
	id[CLUSTER_TOKEN_ID_LEN] = '\0';
	memcpy(secret, s + CLUSTER_TOKEN_ID_LEN + 1, CLUSTER_TOKEN_SECRET_LEN);
	secret[CLUSTER_TOKEN_SECRET_LEN] = '\0';
	return 0;
}

static int random_chars(char *out, size_t n)
{
	/* 36 * 7 = 252: reject bytes >= 252 so every char is equally likely. */
	uint8_t b[64];
	size_t got = 0;

	while (got < n) {
		if (cluster_random(b, sizeof(b)))
			return -EIO;
		for (size_t i = 0; i < sizeof(b) && got < n; i++)
			if (b[i] < 252)
				out[got++] = alphabet[b[i] % 36];
	}
	out[n] = '\0';
	return 0;
}

int cluster_token_generate(struct cluster_token *t, int64_t now,
			   int64_t ttl_s)
{
	memset(t, 0, sizeof(*t));
	if (random_chars(t->id, CLUSTER_TOKEN_ID_LEN) ||
	    random_chars(t->secret, CLUSTER_TOKEN_SECRET_LEN))
		return -EIO;
	t->created = now;
	t->expires = ttl_s ? now + ttl_s : 0;
	return 0;
}

void cluster_fmt_duration(int64_t s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s >= 86400)
		snprintf(buf, len, "%" PRId64 "d", s / 86400);
	else if (s >= 3600)
		snprintf(buf, len, "%" PRId64 "h", s / 3600);
	else if (s >= 60)
		snprintf(buf, len, "%" PRId64 "m", s / 60);
	else
		snprintf(buf, len, "%" PRId64 "s", s);
}

int cluster_parse_duration(const char *s, int64_t *out)
{
	unsigned long long v;
	int64_t mult = 1;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	switch (*end) {
	case '\0':
	case 's':
		break;
	case 'm':
		mult = 60;
		break;
	case 'h':
		mult = 3600;
		break;
	case 'd':
		mult = 86400;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	/* Ten years is plenty and keeps now + ttl far from overflow. */
	if (v > 10ULL * 365 * 86400 / mult)
		return -ERANGE;
	*out = (int64_t)v * mult;
	return 0;
}

int cluster_token_check(const struct cluster_token *t, int64_t now,
			char *msg, size_t msg_len)
{
	char ago[32];

	if (t->revoked) {
		cluster_fmt_duration(now - t->revoked, ago, sizeof(ago));
		snprintf(msg, msg_len, "token %s revoked %s ago", t->id, ago);
		return -EKEYREVOKED;
	}
	if (t->expires && now >= t->expires) {
		cluster_fmt_duration(now - t->expires, ago, sizeof(ago));
		snprintf(msg, msg_len, "token %s expired %s ago", t->id, ago);
		return -EKEYEXPIRED;
	}
	return 0;
}

struct cluster_token *cluster_tokens_find(struct cluster_tokens *ts,
					  const char *id)
{
	for (size_t i = 0; i < ts->n; i++)
		if (!strcmp(ts->v[i].id, id))
			return &ts->v[i];
	return NULL;
}

int cluster_tokens_add(struct cluster_tokens *ts, const struct cluster_token *t)
{
	if (cluster_tokens_find(ts, t->id))
		return -EEXIST;
	if (ts->n == ts->cap) {
		size_t cap = ts->cap ? 2 * ts->cap : 8;
		struct cluster_token *v = reallocarray(ts->v, cap, sizeof(*v));

		if (!v)
			return -ENOMEM;
		ts->v = v;
		ts->cap = cap;
	}
	ts->v[ts->n++] = *t;
	return 0;
}

static int64_t dead_since(const struct cluster_token *t)
{
	if (t->revoked)
		return t->revoked;
	return t->expires;
}

void cluster_tokens_gc(struct cluster_tokens *ts, int64_t now)
{
	size_t j = 0;

	for (size_t i = 0; i < ts->n; i++) {
		int64_t dead = dead_since(&ts->v[i]);

		if (dead && now - dead > CLUSTER_TOKEN_KEEP_S) {
			OPENSSL_cleanse(&ts->v[i], sizeof(ts->v[i]));
			continue;
		}
		ts->v[j++] = ts->v[i];
	}
	ts->n = j;
}

void cluster_tokens_free(struct cluster_tokens *ts)
{
	if (ts->v)
		OPENSSL_cleanse(ts->v, ts->cap * sizeof(*ts->v));
	free(ts->v);
	memset(ts, 0, sizeof(*ts));
}

struct json_object *cluster_token_to_json(const struct cluster_token *t,
					  int64_t now, int with_secret)
{
	struct json_object *o = json_object_new_object();
	const char *state = "valid";
	char msg[96];

	if (cluster_token_check(t, now, msg, sizeof(msg)))
		state = t->revoked ? "revoked" : "expired";
	json_object_object_add(o, "id", json_object_new_string(t->id));
	if (with_secret)
		json_object_object_add(o, "secret",
				       json_object_new_string(t->secret));
	json_object_object_add(o, "created", json_object_new_int64(t->created));
	json_object_object_add(o, "expires", json_object_new_int64(t->expires));
	json_object_object_add(o, "revoked", json_object_new_int64(t->revoked));
	json_object_object_add(o, "description",
			       json_object_new_string(t->description));
	json_object_object_add(o, "uses", json_object_new_int64(t->uses));
	if (!with_secret) {
		json_object_object_add(o, "state", json_object_new_string(state));
		json_object_object_add(o, "ttl",
				       json_object_new_int64(t->expires ?
							     t->expires - now : 0));
	}
	return o;
}

struct json_object *cluster_tokens_to_json(const struct cluster_tokens *ts,
					   int64_t now, int with_secret)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < ts->n; i++)
		json_object_array_add(a, cluster_token_to_json(&ts->v[i], now,
							       with_secret));
	return a;
}

static int get_int(struct json_object *o, const char *key, int64_t *v)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, key, &f) ||
	    !json_object_is_type(f, json_type_int))
		return -EINVAL;
	*v = json_object_get_int64(f);
	return *v < 0 ? -EINVAL : 0;
}

static int get_str(struct json_object *o, const char *key, char *dst,
		   size_t size)
{
	struct json_object *f;
	const char *s;

	if (!json_object_object_get_ex(o, key, &f) ||
	    !json_object_is_type(f, json_type_string))
		return -EINVAL;
	s = json_object_get_string(f);
	if (strlen(s) >= size)
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

int cluster_token_from_json(struct cluster_token *t, struct json_object *o)
{
	char tok[CLUSTER_TOKEN_ID_LEN + CLUSTER_TOKEN_SECRET_LEN + 2];
	int64_t uses;
	int ret;

	memset(t, 0, sizeof(*t));
	if (!json_object_is_type(o, json_type_object) ||
	    get_str(o, "id", t->id, sizeof(t->id)) ||
	    get_str(o, "secret", t->secret, sizeof(t->secret)) ||
	    get_str(o, "description", t->description, sizeof(t->description)) ||
	    get_int(o, "created", &t->created) ||
	    get_int(o, "expires", &t->expires) ||
	    get_int(o, "revoked", &t->revoked) ||
	    get_int(o, "uses", &uses))
		return -EINVAL;
	t->uses = uses;
	snprintf(tok, sizeof(tok), "%s.%s", t->id, t->secret);
	ret = cluster_token_parse(tok, t->id, t->secret);
	OPENSSL_cleanse(tok, sizeof(tok));
	return ret;
}

int cluster_tokens_from_json(struct cluster_tokens *ts, struct json_object *a,
			     char *err, size_t err_len)
{
	size_t n;

	if (!json_object_is_type(a, json_type_array)) {
		snprintf(err, err_len, "tokens: not an array");
		return -EINVAL;
	}
	n = json_object_array_length(a);
	for (size_t i = 0; i < n; i++) {
		struct cluster_token t;
		int ret;

		if (cluster_token_from_json(&t, json_object_array_get_idx(a, i))) {
			snprintf(err, err_len, "tokens[%zu]: missing, bad or malformed field", i);
			return -EINVAL;
		}
		ret = cluster_tokens_add(ts, &t);
		if (ret) {
			snprintf(err, err_len, "tokens[%zu]: %s", i,
				 ret == -EEXIST ? "duplicate id" : strerror(-ret));
			return ret;
		}
	}
	return 0;
}
