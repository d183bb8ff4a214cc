/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keys and hashes. Every node has an Ed25519 key in a self-signed X.509
 * certificate (OpenSSL 3.0 has no raw-public-key TLS); peers are pinned by
 * the SHA-256 of the certificate's SubjectPublicKeyInfo, the same hash
 * kubeadm's --discovery-token-ca-cert-hash uses, so
 *   openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum
 * gives it.
 */
#ifndef HVX_CLUSTER_CRYPTO_H
#define HVX_CLUSTER_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cluster_wire.h"

struct cluster_ident {
	EVP_PKEY *key;
	X509 *cert;
	uint8_t fp[CLUSTER_FP_LEN];
};

void cluster_hmac(const void *key, size_t key_len, const void *data,
		  size_t len, uint8_t out[32]);
int cluster_random(void *buf, size_t len);

/* Lower-case hex; out holds 2 * len + 1. */
void cluster_hex(const uint8_t *in, size_t len, char *out);
/* Exactly 2 * len hex digits, else -EINVAL. */
int cluster_unhex(const char *in, uint8_t *out, size_t len);

int cluster_spki_fp(X509 *cert, uint8_t fp[CLUSTER_FP_LEN]);
/* "sha256:<64 hex>" as kubeadm writes it. */
int cluster_fp_parse(const char *s, uint8_t fp[CLUSTER_FP_LEN]);
void cluster_fp_format(const uint8_t fp[CLUSTER_FP_LEN], char out[72]);

/*
 * Load <dir>/<name>.key and <name>.crt, or create both (key mode 0600,
 * written atomically) when neither exists. err gets one line on failure.
 */
int cluster_ident_load(struct cluster_ident *id, int dirfd, const char *name,
		       const char *cn, char *err, size_t err_len);
void cluster_ident_free(struct cluster_ident *id);
/* A new identity in memory only. */
int cluster_ident_create(struct cluster_ident *id, const char *cn, char *err,
			 size_t err_len);
/* PEM texts (malloc'd) of key and certificate, to share them. */
int cluster_ident_to_pem(const struct cluster_ident *id, char **key, char **cert);
int cluster_ident_from_pem(struct cluster_ident *id, const char *key,
			   const char *cert, char *err, size_t err_len);

#endif
