/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The primary's policy: the trusted Ed25519 keys, the allowlist of app IDs
 * with the keys allowed to sign each and the lowest version still accepted,
 * and the persistent "highest version seen" floor that makes rollback
 * protection survive restarts.
 */
#ifndef HVX_APP_POLICY_H
#define HVX_APP_POLICY_H

#include <stdint.h>

#include <jansson.h>

#include "app_manifest.h"

#define APP_POLICY_MAX		(1 << 20)	/* bytes of JSON */
#define APP_KEY_NAME_MAX	64
#define APP_APP_KEYS_MAX	8

struct app_policy_key {
	char name[APP_KEY_NAME_MAX + 1];
	uint8_t pub[APP_PUBKEY_LEN];
	uint8_t id[APP_KEYID_LEN];
};

struct app_policy_app {
	char app_id[APP_ID_MAX + 1];
	uint64_t min_version;	/* from the policy file */
	uint64_t floor;		/* highest version committed, from the state */
	unsigned int n_keys;
	unsigned int keys[APP_APP_KEYS_MAX];	/* indexes into policy->keys */
};

struct app_policy {
	unsigned int n_keys, n_apps;
	struct app_policy_key *keys;
	struct app_policy_app *apps;
	char *state_path;	/* NULL: floors live in memory only */
};

int app_policy_load(struct app_policy *p, const char *path,
		    const char *state_path, char *err, size_t errlen);
void app_policy_free(struct app_policy *p);

struct app_policy_app *app_policy_find(struct app_policy *p,
				       const char *app_id);
const struct app_policy_key *app_policy_key_for(const struct app_policy *p,
						const struct app_policy_app *a,
						const uint8_t id[APP_KEYID_LEN],
						bool *known);
uint64_t app_policy_min(const struct app_policy_app *a);
/* Raise @a's floor to @version and persist it; -ERANGE if below the floor. */
int app_policy_commit(struct app_policy *p, struct app_policy_app *a,
		      uint64_t version);

/* The primary's answer to one lookup or commit request from hvxd. */
json_t *app_primary_handle(struct app_policy *policy, json_t *req);

#endif
