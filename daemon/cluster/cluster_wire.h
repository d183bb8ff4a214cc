/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Discovery datagrams: what a host without a cluster broadcasts and what a
 * manager answers. Versioned binary TLV so that a decoder can bound every
 * field before looking at it; nothing here trusts the sender.
 *
 *   header:  magic "HVXC" | version u8 | type u8 | total length u16 (BE)
 *   attrs:   type u16 | length u16 | value          (BE, no padding)
 *
 * An answer's proof is HMAC-SHA256, keyed with the secret of the host's
 * token, over every byte of the datagram before the proof attribute, which
 * must come last. It covers the host's nonce, so it cannot be replayed to
 * another discovery round, and the manager's key fingerprint, so a relay
 * cannot substitute its own key.
 */
#ifndef HVX_CLUSTER_WIRE_H
#define HVX_CLUSTER_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_WIRE_MAGIC	"HVXC"
#define CLUSTER_WIRE_VERSION	1
/* One Ethernet frame minus IPv6 and UDP headers, no fragmentation. */
#define CLUSTER_WIRE_MAX	1232
#define CLUSTER_WIRE_HDR	8

#define CLUSTER_ID_LEN		16
#define CLUSTER_NONCE_LEN	16
#define CLUSTER_FP_LEN		32
#define CLUSTER_PROOF_LEN	32

/* String limits, terminating NUL included. */
#define CLUSTER_NAME_MAX	65
#define CLUSTER_CPU_MAX		128
#define CLUSTER_FEATURES_MAX	384
#define CLUSTER_MODULES_MAX	192
#define CLUSTER_LABELS_MAX	192
#define CLUSTER_REASON_MAX	200
#define CLUSTER_TOKEN_ID_MAX	7

enum cluster_msg_type {
	CLUSTER_MSG_DISCOVER = 1,
	CLUSTER_MSG_ANSWER = 2,
};

enum cluster_attr {
	CLUSTER_A_HOST_ID = 1,		/* 16 bytes */
	CLUSTER_A_NONCE,		/* 16 bytes */
	CLUSTER_A_TOKEN_ID,		/* string, [a-z0-9]{6} */
	CLUSTER_A_HOSTNAME,		/* string */
	CLUSTER_A_CPU_MODEL,		/* string */
	CLUSTER_A_FEATURES,		/* string, space separated */
	CLUSTER_A_MEMORY_MB,		/* u64 */
	CLUSTER_A_MODULES,		/* string, "name=version ..." */
	CLUSTER_A_LABELS,		/* string, "key=value ..." */
	CLUSTER_A_CLUSTER_ID,		/* 16 bytes */
	CLUSTER_A_FINGERPRINT,		/* 32 bytes, SHA-256 of the SPKI */
	CLUSTER_A_TLS_PORT,		/* u16 */
	CLUSTER_A_STATUS,		/* u8, enum cluster_status */
	CLUSTER_A_REASON,		/* string */
	CLUSTER_A_MANAGER,		/* string, manager's name */
	CLUSTER_A_PROOF,		/* 32 bytes, last */
	__CLUSTER_A_MAX,
};

enum cluster_status {
	CLUSTER_ST_ADMIT,		/* join with your token */
	CLUSTER_ST_MEMBER,		/* known member: rejoin with your key */
	CLUSTER_ST_POLICY,		/* placement policy refused the host */
	CLUSTER_ST_TOKEN_UNKNOWN,
	CLUSTER_ST_TOKEN_EXPIRED,
	CLUSTER_ST_TOKEN_REVOKED,
	CLUSTER_ST_NOT_MEMBER,		/* no token and not (or no longer) a member */
	__CLUSTER_ST_MAX,
};

/* What a host tells managers about itself; placement policy reads it. */
struct cluster_facts {
	char cpu_model[CLUSTER_CPU_MAX];
	char features[CLUSTER_FEATURES_MAX];
	uint64_t memory_mb;
	char modules[CLUSTER_MODULES_MAX];
	char labels[CLUSTER_LABELS_MAX];
};

struct cluster_discover {
	uint8_t host_id[CLUSTER_ID_LEN];
	uint8_t nonce[CLUSTER_NONCE_LEN];
	char token_id[CLUSTER_TOKEN_ID_MAX];	/* "" when rejoining */
	char hostname[CLUSTER_NAME_MAX];
	struct cluster_facts facts;
};

struct cluster_answer {
	uint8_t host_id[CLUSTER_ID_LEN];
	uint8_t nonce[CLUSTER_NONCE_LEN];
	uint8_t cluster_id[CLUSTER_ID_LEN];
	uint8_t fingerprint[CLUSTER_FP_LEN];
	uint16_t tls_port;
	uint8_t status;
	char reason[CLUSTER_REASON_MAX];
	char manager[CLUSTER_NAME_MAX];
	bool has_proof;
	uint8_t proof[CLUSTER_PROOF_LEN];
	size_t signed_len;	/* decode: bytes the proof covers */
};

/*
 * Encoders return the datagram length or -EMSGSIZE. Decoders return 0,
 * -EPROTONOSUPPORT (other version), -EMSGSIZE (oversized) or -EBADMSG, and
 * point *why at a static description for the drop counters and debug log.
 */
int cluster_discover_encode(const struct cluster_discover *d, uint8_t *buf,
			    size_t size);
int cluster_discover_decode(struct cluster_discover *d, const uint8_t *buf,
			    size_t len, const char **why);

/* secret NULL: no proof attribute. */
int cluster_answer_encode(const struct cluster_answer *a, const void *secret,
			  size_t secret_len, uint8_t *buf, size_t size);
int cluster_answer_decode(struct cluster_answer *a, const uint8_t *buf,
			  size_t len, const char **why);
/* True when a's proof is the HMAC of buf under secret. */
bool cluster_answer_verify(const struct cluster_answer *a, const uint8_t *buf,
			   const void *secret, size_t secret_len);

/* Message type of a datagram that passed the header checks, or -errno. */
int cluster_wire_peek(const uint8_t *buf, size_t len, const char **why);

const char *cluster_status_name(enum cluster_status st);

#endif
