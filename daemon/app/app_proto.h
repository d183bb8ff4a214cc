/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages between a guest and hvxd, and between hvxd and hvx-primary: one
 * JSON object per SOCK_SEQPACKET message, over a unix socket (tests) or
 * AF_VSOCK (production), parsed with duplicate keys rejected (app_msg.h).
 * This header stays free of jansson so that json-c users can include it.
 */
#ifndef HVX_APP_PROTO_H
#define HVX_APP_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "app_crypto.h"

#define APP_MSG_MAX	65536

/* Why an install was refused; the names are part of the protocol. */
enum app_reason {
	APP_OK,
	APP_BAD_REQUEST,
	APP_BAD_MANIFEST,
	APP_BAD_SIGNATURE,
	APP_UNKNOWN_KEY,
	APP_HASH_MISMATCH,
	APP_EXPIRED,
	APP_ROLLED_BACK,
	APP_NOT_ALLOWLISTED,
	APP_VM_NOT_PERMITTED,
	APP_PRIMARY_UNREACHABLE,
	APP_PAYLOAD_UNREADABLE,
	APP_LAUNCH_FAILED,
	APP_INTERNAL,
	__APP_REASON_MAX
};

const char *app_reason_name(enum app_reason r);
/* -1 for a name that is not a reason. */
int app_reason_from_name(const char *name);

/*
 * Addresses: "unix:/path" or "vsock:CID:PORT" to connect, "vsock:PORT" to
 * listen on any CID.  Sockets are SOCK_SEQPACKET, close-on-exec.
 */
int app_sock_listen(const char *addr);
int app_sock_connect(const char *addr, int timeout_ms);
/* Non-blocking; the connection may still be in progress (wait for EPOLLOUT,
 * then SO_ERROR). */
int app_sock_connect_nb(const char *addr);

/* hvxd's side of the conversation with hvx-primary. */
struct app_primary {
	char *addr;
	int fd;
	int timeout_ms;
};

struct app_lookup {
	uint8_t pub[APP_PUBKEY_LEN];
	uint64_t min_version;
};

void app_primary_init(struct app_primary *p, const char *addr, int timeout_ms);
void app_primary_close(struct app_primary *p);
/*
 * Ask the primary for the key @key_id may use to sign @app_id and the lowest
 * version it still accepts.  Returns APP_OK, APP_NOT_ALLOWLISTED,
 * APP_UNKNOWN_KEY or APP_PRIMARY_UNREACHABLE; @detail gets the why.
 */
enum app_reason app_primary_lookup(struct app_primary *p, const char *app_id,
				   const uint8_t key_id[APP_KEYID_LEN],
				   struct app_lookup *out, char *detail,
				   size_t len);
/*
 * Record that @version of @app_id was accepted: the primary raises its floor
 * so that older manifests are refused from now on, and refuses (APP_ROLLED_BACK)
 * when a newer version was committed since the lookup.
 */
enum app_reason app_primary_commit(struct app_primary *p, const char *app_id,
				   uint64_t version, char *detail, size_t len);

/*
 * The same conversation in steps, for an event loop: one connection per
 * request, each reply read when the socket is readable.  A missing or bad
 * reply is APP_PRIMARY_UNREACHABLE with the why in @detail.
 */
int app_primary_send_lookup(int fd, const char *app_id,
			    const uint8_t key_id[APP_KEYID_LEN]);
enum app_reason app_primary_read_lookup(int fd, const char *addr,
					struct app_lookup *out, char *detail,
					size_t len);
int app_primary_send_commit(int fd, const char *app_id, uint64_t version);
enum app_reason app_primary_read_commit(int fd, const char *addr, char *detail,
					size_t len);

#endif
