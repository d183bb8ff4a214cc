/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Signed application manifests: the JSON file format, its strict parser and
 * the canonical byte encoding that the Ed25519 signature covers.
 * Documentation/hvx-app-manifest.rst is the reference.
 */
#ifndef HVX_APP_MANIFEST_H
#define HVX_APP_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/hvx.h>

#include "app_crypto.h"

#define APP_MANIFEST_FORMAT	1
#define APP_MANIFEST_MAX	16384	/* bytes of JSON */
#define APP_ID_MAX		128	/* characters, NUL excluded */
#define APP_VM_MAX		(HVX_VM_NAME_MAX - 1)
#define APP_VMS_MAX		32
#define APP_ARGS_MAX		32
#define APP_ARG_MAX		1024
/* Integers stay exact in every JSON implementation up to 2^53 - 1. */
#define APP_UINT_MAX		((1ULL << 53) - 1)

struct app_manifest {
	char app_id[APP_ID_MAX + 1];
	uint64_t version;
	uint64_t size;
	uint8_t sha256[APP_SHA256_LEN];
	unsigned int n_vms;
	char vms[APP_VMS_MAX][APP_VM_MAX + 1];
	uint64_t expires;	/* seconds since the epoch, UTC */
	unsigned int n_args;
	char *args[APP_ARGS_MAX];
	uint8_t key_id[APP_KEYID_LEN];
	uint8_t signature[APP_SIG_LEN];
};

/*
 * Parse and validate a signed manifest.  Duplicate and unknown keys, wrong
 * types, out-of-range values and trailing bytes are all errors; @err gets a
 * one-line reason.  The signature is only decoded, not checked.
 */
int app_manifest_parse(const char *buf, size_t len, struct app_manifest *m,
		       char *err, size_t errlen);
void app_manifest_free(struct app_manifest *m);

/* The bytes the signature covers (malloc'd). */
int app_manifest_encode(const struct app_manifest *m, uint8_t **out,
			size_t *outlen);

/* Set key_id from @pkey and sign. */
int app_manifest_sign(struct app_manifest *m, EVP_PKEY *pkey);

/* The manifest as a JSON document (malloc'd), signature included. */
char *app_manifest_dump(const struct app_manifest *m);

bool app_name_valid(const char *s, size_t max);
bool app_manifest_has_vm(const struct app_manifest *m, const char *vm);

#endif
