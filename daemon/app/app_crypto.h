/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Ed25519 keys and signatures, SHA-256 of payloads, hex encoding: the
 * OpenSSL 3 EVP calls the app-protection code needs, in one place.
 */
#ifndef HVX_APP_CRYPTO_H
#define HVX_APP_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define APP_PUBKEY_LEN	32
#define APP_KEYID_LEN	32
#define APP_SIG_LEN	64
#define APP_SHA256_LEN	32

/* Lowercase only, so that a value has exactly one spelling. */
void app_hex_encode(const uint8_t *in, size_t len, char *out);
int app_hex_decode(const char *in, uint8_t *out, size_t len);

/* Key ID: SHA-256 of the raw 32-byte public key. */
void app_key_id(const uint8_t pub[APP_PUBKEY_LEN], uint8_t id[APP_KEYID_LEN]);

EVP_PKEY *app_key_generate(void);
/* Private key as PKCS#8 PEM, created 0600 and never overwritten. */
int app_key_save(EVP_PKEY *pkey, const char *path);
/* Private or public key, PEM; Ed25519 only. */
EVP_PKEY *app_key_load(const char *path, bool *is_private);
int app_key_raw_public(EVP_PKEY *pkey, uint8_t pub[APP_PUBKEY_LEN]);

int app_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
	     uint8_t sig[APP_SIG_LEN]);
/* 1: valid, 0: invalid, -1: the key could not be used. */
int app_sig_check(const uint8_t pub[APP_PUBKEY_LEN], const uint8_t *msg,
		  size_t len, const uint8_t sig[APP_SIG_LEN]);

/*
 * Read exactly @size bytes from @src, hash them and, when @dst >= 0, write
 * them to @dst, so that what is hashed is what is stored: the launch never
 * rereads the guest's file.  -EFBIG when @src holds more than @size bytes,
 * -ENODATA when it holds fewer, other -errno on I/O errors.
 */
int app_hash_copy(int src, int dst, uint64_t size,
		  uint8_t out[APP_SHA256_LEN]);

#endif
