/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One TLS 1.3 connection driven by sd-event: non-blocking connect,
 * handshake, and length-prefixed JSON messages (u32 BE length + object).
 * Peers are identified by the SPKI fingerprint of their certificate; a
 * client connection carries the fingerprint it pins and fails the
 * handshake on any other key.
 */
#ifndef HVX_CLUSTER_CONN_H
#define HVX_CLUSTER_CONN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <openssl/ssl.h>
#include <systemd/sd-event.h>

#include "cluster_crypto.h"

#define CLUSTER_FRAME_MAX	(64 * 1024)
#define CLUSTER_TX_MAX		(1024 * 1024)
#define CLUSTER_HANDSHAKE_USEC	(5 * 1000000ULL)

struct cluster_conn;

struct cluster_conn_ops {
	/* Handshake done; the peer's fingerprint is known (if it sent a cert). */
	void (*open)(struct cluster_conn *c);
	void (*msg)(struct cluster_conn *c, struct json_object *m);
	/* Last call: the connection is freed after it returns. */
	void (*closed)(struct cluster_conn *c, const char *why);
};

/* is_server: requests (but does not require) a client certificate. */
SSL_CTX *cluster_tls_ctx(const struct cluster_ident *id, bool is_server,
			 char *err, size_t err_len);

struct cluster_conn *cluster_conn_accept(sd_event *e, SSL_CTX *ctx, int fd,
					 const struct cluster_conn_ops *ops,
					 void *data);
struct cluster_conn *cluster_conn_connect(sd_event *e, SSL_CTX *ctx,
					  const struct sockaddr *sa,
					  socklen_t sa_len, const uint8_t *pin,
					  const struct cluster_conn_ops *ops,
					  void *data, int *err);

/* Queues m (not consumed); -ENOBUFS when the peer does not keep up. */
int cluster_conn_send(struct cluster_conn *c, struct json_object *m);
void cluster_conn_close(struct cluster_conn *c, const char *why);

void *cluster_conn_data(struct cluster_conn *c);
const char *cluster_conn_peer(struct cluster_conn *c);
/* False when the peer sent no certificate. */
bool cluster_conn_peer_fp(struct cluster_conn *c, uint8_t fp[CLUSTER_FP_LEN]);
/* RFC 8446 exporter: binds a proof to this very TLS session. */
int cluster_conn_binding(struct cluster_conn *c, uint8_t out[32]);

/* "10.0.0.1" or "fe80::1%eth0" */
void cluster_sockaddr_str(const struct sockaddr *sa, char *buf, size_t len);

#endif
