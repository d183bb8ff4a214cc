/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Cluster membership for hvxd: discovery, trust and join (issue 8).
 *
 * A manager holds the cluster identity (Ed25519 key, self-signed
 * certificate pinned by SPKI hash), the join tokens and the membership. A
 * host without a cluster broadcasts discovery datagrams carrying its facts;
 * managers whose placement policy admits it answer with a proof keyed by
 * the host's token; the host pins the manager's key and joins over TLS 1.3,
 * then keeps the connection with heartbeats. Everything runs on hvxd's
 * sd-event loop, no threads.
 */
#ifndef HVX_CLUSTER_H
#define HVX_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "cluster_policy.h"
#include "cluster_token.h"

#define CLUSTER_PORT		7470	/* UDP discovery */
#define CLUSTER_TLS_PORT	7471	/* TCP join and heartbeats */
/* Link-local group the IPv6 discovery is sent to ("HV" "XC"). */
#define CLUSTER_MCAST6		"ff02::4856:5843"

enum cluster_role {
	CLUSTER_ROLE_NONE,
	CLUSTER_ROLE_MANAGER,
	CLUSTER_ROLE_HOST,
};

enum cluster_store_kind {
	CLUSTER_STORE_EMBEDDED,		/* state_dir/cluster.json */
	CLUSTER_STORE_ETCD,		/* shared by several managers */
};

struct cluster_config {
	enum cluster_role role;
	char name[CLUSTER_NAME_MAX];		/* default: gethostname() */
	uint16_t port, tls_port;		/* 0 in tests: any free port */
	char bind[64];				/* manager: TLS/UDP address */
	char interfaces[256];			/* "": every up interface */
	bool ipv4, ipv6;
	/* Unicast discovery targets, for managers beyond the link. */
	char managers[256];
	/* host */
	char token[CLUSTER_TOKEN_ID_LEN + CLUSTER_TOKEN_SECRET_LEN + 2];
	bool has_ca_hash;
	uint8_t ca_hash[CLUSTER_FP_LEN];
	char labels[CLUSTER_LABELS_MAX];
	/* manager */
	struct cluster_policy policy;
	enum cluster_store_kind store;
	char etcd_endpoints[256];
	char etcd_prefix[64];
	/* timing, milliseconds */
	unsigned int heartbeat_ms, down_ms, remove_ms;
	unsigned int discover_min_ms, discover_max_ms, retry_ms;
};

void cluster_config_init(struct cluster_config *c);
/* One "key = value" of the [cluster] section; err names the key. */
int cluster_config_set(struct cluster_config *c, const char *key,
		       const char *value, char *err, size_t err_len);
int cluster_config_check(const struct cluster_config *c, char *err,
			 size_t err_len);

struct cluster;

/* state_dir must exist; the cluster keeps its own fd to it. */
int cluster_new(struct cluster **out, sd_event *e,
		const struct cluster_config *cfg, const char *state_dir,
		char *err, size_t err_len);
void cluster_free(struct cluster *cl);

/*
 * Control methods (hvxctl cluster ...): "status", "members",
 * "token_create" {ttl, description}, "token_list", "token_revoke" {id}.
 * fn gets the reply (borrowed) or -errno and one line; now or, when the
 * store is etcd, later from the loop.
 */
typedef void (*cluster_reply_fn)(void *ctx, int err, struct json_object *reply,
				 const char *errmsg);
void cluster_call(struct cluster *cl, const char *method,
		  struct json_object *params, cluster_reply_fn fn, void *ctx);

/* Where log lines go; NULL: stderr with a syslog priority prefix. */
void cluster_set_log(void (*fn)(int prio, const char *msg));

/* True once a host has joined (or a manager is serving). */
bool cluster_ready(struct cluster *cl);

#endif
