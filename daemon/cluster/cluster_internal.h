/* SPDX-License-Identifier: GPL-2.0 */
#ifndef HVX_CLUSTER_INTERNAL_H
#define HVX_CLUSTER_INTERNAL_H

#include <netinet/in.h>
#include <openssl/ssl.h>

#include "cluster.h"
#include "cluster_conn.h"
#include "cluster_crypto.h"
#include "cluster_store.h"

#define NONCE_CACHE	2048
/*
 * Accuracy 0 means sd-event's default of 250 ms: discovery rounds and
 * heartbeats of tens of milliseconds need better.
 */
#define CLUSTER_TIMER_ACCURACY	1000	/* usec */
#define HOST_NONCES	4

struct seen_nonce {
	uint8_t host_id[CLUSTER_ID_LEN];
	uint8_t nonce[CLUSTER_NONCE_LEN];
};

/* Why datagrams were dropped; shown by "hvxctl cluster status". */
struct cluster_counters {
	uint64_t rx, tx, garbage, oversized, bad_version, replayed, stale;
	uint64_t unverified, pin_mismatch, answered, rejected_policy;
	uint64_t rejected_token, joins, rejoins, join_failures;
};

enum host_phase {
	HOST_IDLE,		/* neither token nor cluster: nothing to do */
	HOST_DISCOVERING,
	HOST_CONNECTING,
	HOST_JOINED,
	HOST_REJECTED,		/* a verified manager said no; retry slowly */
};

struct mgr_peer {
	struct cluster *cl;
	struct cluster_conn *conn;
	struct mgr_peer *next;
	bool joined;
	bool pending, rejoin;	/* a join waits for the store */
	uint8_t host_id[CLUSTER_ID_LEN];
	uint64_t generation;	/* last membership the host was sent */
	uint64_t since;		/* accepted at, monotonic usec */
};

#define CLUSTER_MANAGERS_MAX	16

struct cluster_manager_seen {
	char name[CLUSTER_NAME_MAX];
	int64_t updated_ms;	/* wall clock, as that manager wrote it */
};

struct cluster;
struct cluster_etcd;
/* err 0 or -errno with msg; called once the store has (or refused) it. */
typedef void (*cluster_store_done)(struct cluster *cl, void *ctx, int err,
				   const char *msg);
typedef void (*cluster_ready_fn)(struct cluster *cl);

struct cluster {
	sd_event *event;
	struct cluster_config cfg;
	int dirfd;
	struct cluster_ident ident;
	SSL_CTX *tls;
	int udp4, udp6;
	sd_event_source *udp4_src, *udp6_src, *timer;
	struct cluster_counters n;
	char last_error[256];

	/* manager */
	struct cluster_state st;
	struct cluster_etcd *etcd;	/* NULL: embedded store */
	sd_event_source *retry;
	cluster_ready_fn ready_fn;
	bool ready, refreshing;
	struct cluster_manager_seen managers_seen[CLUSTER_MANAGERS_MAX];
	size_t n_managers;
	int listen_fd;
	sd_event_source *listen_src;
	struct mgr_peer *peers;
	struct seen_nonce seen[NONCE_CACHE];
	size_t seen_next;

	/* host */
	struct cluster_host_state hs;
	enum host_phase phase;
	char token_id[CLUSTER_TOKEN_ID_LEN + 1];
	char token_secret[CLUSTER_TOKEN_SECRET_LEN + 1];
	uint8_t nonces[HOST_NONCES][CLUSTER_NONCE_LEN];
	unsigned int nonce_next, backoff_ms;
	struct cluster_facts facts;
	struct cluster_conn *conn;
	uint8_t conn_fp[CLUSTER_FP_LEN];
	uint8_t conn_cluster[CLUSTER_ID_LEN];
	struct sockaddr_storage conn_addr;
	uint64_t last_ack_usec, generation;
	struct json_object *members;	/* as the manager last sent them */
	uint64_t joined_usec, started_usec;
};

__attribute__((format(printf, 2, 3)))
void cluster_log(int prio, const char *fmt, ...);

uint64_t cluster_now_usec(struct cluster *cl);
int64_t cluster_wall(void);

int cluster_udp_open(struct cluster *cl, int family, uint16_t port,
		     bool multicast, char *err, size_t err_len);
int cluster_udp_send(struct cluster *cl, int fd, const void *buf, size_t len,
		     const struct sockaddr *sa, socklen_t sa_len);
/* Sends buf to every broadcast address, multicast group and target. */
void cluster_broadcast(struct cluster *cl, const void *buf, size_t len);

/*
 * The manager's store (cluster_backend.c). Embedded: loads state and
 * identity before returning. etcd: agrees on the shared identity and loads
 * members and tokens in the background, then calls ready.
 */
int cluster_store_open(struct cluster *cl, cluster_ready_fn ready, char *err,
		       size_t err_len);
void cluster_store_close(struct cluster *cl);
void cluster_store_member(struct cluster *cl, const struct cluster_member *m,
			  cluster_store_done done, void *ctx);
void cluster_store_token(struct cluster *cl, const struct cluster_token *t,
			 cluster_store_done done, void *ctx);
/* Drops m from the cache at once and from the store. */
void cluster_store_remove(struct cluster *cl, struct cluster_member *m);
/* Whether this manager watches m's heartbeats (always, when embedded). */
bool cluster_store_mine(struct cluster *cl, const struct cluster_member *m);
/* etcd: announce ourselves and refresh the cache; once per heartbeat. */
void cluster_store_tick(struct cluster *cl);

int cluster_mgr_start(struct cluster *cl, char *err, size_t err_len);
void cluster_mgr_stop(struct cluster *cl);
void cluster_mgr_call(struct cluster *cl, const char *method,
		      struct json_object *params, cluster_reply_fn fn, void *ctx);
void cluster_mgr_status(struct cluster *cl, struct json_object *o);

int cluster_host_start(struct cluster *cl, char *err, size_t err_len);
void cluster_host_stop(struct cluster *cl);
void cluster_host_status(struct cluster *cl, struct json_object *o);

#endif
