// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/sha.h>

#include "app_crypto.h"

void app_hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
}

static int hex_nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int app_hex_decode(const char *in, uint8_t *out, size_t len)
{
	size_t i;

	if (strlen(in) != 2 * len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		int hi = hex_nibble(in[2 * i]), lo = hex_nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void app_key_id(const uint8_t pub[APP_PUBKEY_LEN], uint8_t id[APP_KEYID_LEN])
{
	SHA256(pub, APP_PUBKEY_LEN, id);
}

EVP_PKEY *app_key_generate(void)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
}

int app_key_save(EVP_PKEY *pkey, const char *path)
{
	FILE *f;
	int fd, ok;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		unlink(path);
		return -ENOMEM;
	}
	ok = PEM_write_PrivateKey(f, pkey, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0)
		ok = 0;
	if (!ok) {
		unlink(path);
		return -EIO;
	}
	return 0;
}

EVP_PKEY *app_key_load(const char *path, bool *is_private)
{
	EVP_PKEY *pkey;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return NULL;
	pkey = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	*is_private = pkey != NULL;
	if (!pkey) {
		rewind(f);
		pkey = PEM_read_PUBKEY(f, NULL, NULL, NULL);
	}
	fclose(f);
	if (pkey && EVP_PKEY_get_id(pkey) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(pkey);
		errno = EPROTONOSUPPORT;
		return NULL;
	}
	if (!pkey)
		errno = EINVAL;
	return pkey;
}

int app_key_raw_public(EVP_PKEY *pkey, uint8_t pub[APP_PUBKEY_LEN])
{
	size_t len = APP_PUBKEY_LEN;

	if (EVP_PKEY_get_raw_public_key(pkey, pub, &len) != 1 ||
	    len != APP_PUBKEY_LEN)
		return -EINVAL;
	return 0;
}

int app_sign(EVP_PKEY *pkey, const uint8_t *msg, size_t len,
	     uint8_t sig[APP_SIG_LEN])
{
	size_t siglen = APP_SIG_LEN;
	EVP_MD_CTX *ctx;
	int ok;

	ctx = EVP_MD_CTX_new();
	if (!ctx)
		return -ENOMEM;
	/* Ed25519 is "pure": no digest, the message is signed whole. */
	ok = EVP_DigestSignInit_ex(ctx, NULL, NULL, NULL, NULL, pkey, NULL) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 &&
	     siglen == APP_SIG_LEN;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EINVAL;
}

int app_sig_check(const uint8_t pub[APP_PUBKEY_LEN], const uint8_t *msg,
		  size_t len, const uint8_t sig[APP_SIG_LEN])
{
	EVP_MD_CTX *ctx;
	EVP_PKEY *pkey;
	int ret = -1;

	pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub,
					   APP_PUBKEY_LEN);
	if (!pkey)
		return -1;
	ctx = EVP_MD_CTX_new();
	if (ctx && EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pkey,
					   NULL) == 1)
		ret = EVP_DigestVerify(ctx, sig, APP_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	EVP_PKEY_free(pkey);
	return ret;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Each chunk is read into our own buffer, hashed and written from that same
 * buffer: a guest (or anyone) rewriting the source file while we work can
 * make the hash fail, never make the stored copy differ from what was hashed.
 * Reading through a shared mapping would not give that guarantee.
 */
#define HASH_CHUNK	(1 << 20)

int app_hash_copy(int src, int dst, uint64_t size, uint8_t out[APP_SHA256_LEN])
{
	uint64_t done = 0;
	unsigned int mdlen;
	EVP_MD_CTX *ctx;
	struct stat st;
	uint8_t *buf;
	int ret = 0;

	if (fstat(src, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	if ((uint64_t)st.st_size > size)
		return -EFBIG;
	if ((uint64_t)st.st_size < size)
		return -ENODATA;
	buf = malloc(HASH_CHUNK);
	ctx = EVP_MD_CTX_new();
	if (!buf || !ctx) {
		ret = -ENOMEM;
		goto out;
	}
	if (EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1) {
		ret = -EIO;
		goto out;
	}
	for (;;) {
		/* One byte more than expected tells a file that grew. */
		size_t want = size - done < HASH_CHUNK ? size - done + 1 : HASH_CHUNK;
		ssize_t n = read(src, buf, want);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			goto out;
		}
		if (n == 0)
			break;
		if (done + (uint64_t)n > size) {
			ret = -EFBIG;
			goto out;
		}
		if (EVP_DigestUpdate(ctx, buf, (size_t)n) != 1) {
			ret = -EIO;
			goto out;
		}
		if (dst >= 0) {
			ret = write_all(dst, buf, (size_t)n);
			if (ret)
				goto out;
		}
		done += (uint64_t)n;
	}
	if (done < size) {
		ret = -ENODATA;
		goto out;
	}
	if (EVP_DigestFinal_ex(ctx, out, &mdlen) != 1)
		ret = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	free(buf);
	return ret;
}
