/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Persistent cluster state under hvxd's state directory. Every write goes
 * to a temporary file that is fsynced and renamed over the old one (and
 * the directory fsynced), so a crash at any point leaves either the old or
 * the new state, never a mix.
 */
#ifndef HVX_CLUSTER_STORE_H
#define HVX_CLUSTER_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "cluster_token.h"
#include "cluster_wire.h"

#define CLUSTER_STATE_FILE	"cluster.json"
#define CLUSTER_HOST_FILE	"host.json"
#define CLUSTER_FILE_MAX	(4 << 20)
#define CLUSTER_ADDR_MAX	64

enum cluster_member_state {
	CLUSTER_MEMBER_UP,
	CLUSTER_MEMBER_DOWN,
};

struct cluster_member {
	uint8_t host_id[CLUSTER_ID_LEN];
	uint8_t fp[CLUSTER_FP_LEN];
	char hostname[CLUSTER_NAME_MAX];
	char address[CLUSTER_ADDR_MAX];
	char token_id[CLUSTER_TOKEN_ID_MAX];
	char manager[CLUSTER_NAME_MAX];	/* the manager that serves it */
	int64_t joined;		/* unix seconds */
	int64_t last_seen;	/* unix seconds, at the last state change */
	enum cluster_member_state state;
	struct cluster_facts facts;
	/* Not stored: monotonic usec of the last heartbeat. */
	uint64_t seen_usec;
};

/* What a manager persists. */
struct cluster_state {
	uint8_t cluster_id[CLUSTER_ID_LEN];
	uint64_t generation;	/* bumped by every membership change */
	struct cluster_member *members;
	size_t n_members, cap_members;
	struct cluster_tokens tokens;
};

/* What a host persists. */
struct cluster_host_state {
	uint8_t host_id[CLUSTER_ID_LEN];
	bool joined;
	uint8_t cluster_id[CLUSTER_ID_LEN];
	uint8_t fp[CLUSTER_FP_LEN];
	char manager[CLUSTER_ADDR_MAX];	/* last manager address */
	uint16_t manager_port;
};

int cluster_write_atomic(int dirfd, const char *name, const void *data,
			 size_t len, mode_t mode);
/* NUL-terminated contents; -ENOENT when absent, -EFBIG over max. */
int cluster_read_file(int dirfd, const char *name, size_t max, char **out);

int cluster_state_load(struct cluster_state *st, int dirfd, char *err,
		       size_t err_len);
int cluster_state_save(const struct cluster_state *st, int dirfd);
void cluster_state_free(struct cluster_state *st);

struct cluster_member *cluster_state_member(struct cluster_state *st,
					    const uint8_t *host_id);
struct cluster_member *cluster_state_add(struct cluster_state *st,
					 const struct cluster_member *m);
void cluster_state_remove(struct cluster_state *st, struct cluster_member *m);

const char *cluster_member_state_name(enum cluster_member_state s);
struct json_object *cluster_member_to_json(const struct cluster_member *m);
struct json_object *cluster_members_to_json(const struct cluster_state *st);
int cluster_member_from_json(struct cluster_member *m, struct json_object *o);


int cluster_host_load(struct cluster_host_state *hs, int dirfd, char *err,
		      size_t err_len);
int cluster_host_save(const struct cluster_host_state *hs, int dirfd);

#endif
