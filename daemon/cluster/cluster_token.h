/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Join tokens in kubeadm's bootstrap-token shape, "abcdef.0123456789abcdef":
 * the id is public (it names the token in datagrams and logs), the secret
 * never crosses the network; hosts prove they hold it with HMACs.
 */
#ifndef HVX_CLUSTER_TOKEN_H
#define HVX_CLUSTER_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define CLUSTER_TOKEN_ID_LEN	6
#define CLUSTER_TOKEN_SECRET_LEN 16
#define CLUSTER_TOKEN_DESC_MAX	64
/* Expired and revoked tokens are kept this long so that late users get a
 * precise error rather than "unknown token".
 */
#define CLUSTER_TOKEN_KEEP_S	(7 * 24 * 3600)

struct cluster_token {
	char id[CLUSTER_TOKEN_ID_LEN + 1];
	char secret[CLUSTER_TOKEN_SECRET_LEN + 1];
	int64_t created;	/* unix seconds */
	int64_t expires;	/* unix seconds, 0: never */
	int64_t revoked;	/* unix seconds, 0: not revoked */
	char description[CLUSTER_TOKEN_DESC_MAX];
	unsigned int uses;
};

struct cluster_tokens {
	struct cluster_token *v;
	size_t n, cap;
};

/* Strict "[a-z0-9]{6}.[a-z0-9]{16}". */
int cluster_token_parse(const char *s, char id[CLUSTER_TOKEN_ID_LEN + 1],
			char secret[CLUSTER_TOKEN_SECRET_LEN + 1]);
int cluster_token_generate(struct cluster_token *t, int64_t now,
			   int64_t ttl_s);

/*
 * 0 when usable, else -EKEYEXPIRED / -EKEYREVOKED with msg set to the
 * operator's sentence, e.g. "token abcdef expired 3m ago".
 */
int cluster_token_check(const struct cluster_token *t, int64_t now,
			char *msg, size_t msg_len);

/* "3m", "2h", "45s", "5d"; rounds down to the largest unit. */
void cluster_fmt_duration(int64_t s, char *buf, size_t len);
/* "90", "90s", "30m", "1h", "7d", "0" (never); -EINVAL otherwise. */
int cluster_parse_duration(const char *s, int64_t *out);

struct cluster_token *cluster_tokens_find(struct cluster_tokens *ts,
					  const char *id);
int cluster_tokens_add(struct cluster_tokens *ts, const struct cluster_token *t);
/* Drops tokens dead for longer than CLUSTER_TOKEN_KEEP_S. */
void cluster_tokens_gc(struct cluster_tokens *ts, int64_t now);
void cluster_tokens_free(struct cluster_tokens *ts);

/* with_secret: the store keeps secrets, listings do not show them. */
struct json_object *cluster_token_to_json(const struct cluster_token *t,
					  int64_t now, int with_secret);
struct json_object *cluster_tokens_to_json(const struct cluster_tokens *ts,
					   int64_t now, int with_secret);
int cluster_token_from_json(struct cluster_token *t, struct json_object *o);
int cluster_tokens_from_json(struct cluster_tokens *ts, struct json_object *o,
			     char *err, size_t err_len);

#endif
