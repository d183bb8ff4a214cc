// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include "cluster_crypto.h"
#include "cluster_store.h"

void cluster_hmac(const void *key, size_t key_len, const void *data,
		  size_t len, uint8_t out[32])
{
	unsigned int out_len = 32;

	HMAC(EVP_sha256(), key, key_len, data, len, out, &out_len);
}

int cluster_random(void *buf, size_t len)
{
	return RAND_bytes(buf, len) == 1 ? 0 : -EIO;
}

void cluster_hex(const uint8_t *in, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * len] = '\0';
}

static int nibble(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cluster_unhex(const char *in, uint8_t *out, size_t len)
{
	if (strlen(in) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		int hi = nibble(in[2 * i]), lo = nibble(in[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = hi << 4 | lo;
	}
	return 0;
}

int cluster_spki_fp(X509 *cert, uint8_t fp[CLUSTER_FP_LEN])
{
	unsigned char *der = NULL;
	int len;

	len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (len <= 0)
		return -EINVAL;
	SHA256(der, len, fp);
	OPENSSL_free(der);
	return 0;
}

int cluster_fp_parse(const char *s, uint8_t fp[CLUSTER_FP_LEN])
{
	if (strncmp(s, "sha256:", 7))
		return -EINVAL;
	return cluster_unhex(s + 7, fp, CLUSTER_FP_LEN);
}

void cluster_fp_format(const uint8_t fp[CLUSTER_FP_LEN], char out[72])
{
	memcpy(out, "sha256:", 7);
	cluster_hex(fp, CLUSTER_FP_LEN, out + 7);
}

static void ssl_err(char *err, size_t err_len, const char *what)
{
	char buf[160];

	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	snprintf(err, err_len, "%s: %s", what, buf);
	ERR_clear_error();
}

int cluster_ident_create(struct cluster_ident *id, const char *cn, char *err,
			 size_t err_len)
{
	X509_NAME *name;
	uint8_t serial[16];
	BIGNUM *bn;

	id->key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!id->key) {
		ssl_err(err, err_len, "Ed25519 key generation");
		return -EIO;
	}
	id->cert = X509_new();
	if (!id->cert || cluster_random(serial, sizeof(serial)))
		goto fail;
	serial[0] &= 0x7f;	/* positive, as RFC 5280 requires */
	bn = BN_bin2bn(serial, sizeof(serial), NULL);
	if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(id->cert))) {
		BN_free(bn);
		goto fail;
	}
	BN_free(bn);
	name = X509_get_subject_name(id->cert);
	if (!X509_set_version(id->cert, X509_VERSION_3) ||
	    !X509_gmtime_adj(X509_getm_notBefore(id->cert), -3600) ||
	    !X509_gmtime_adj(X509_getm_notAfter(id->cert),
			     100L * 365 * 24 * 3600) ||
	    !X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					(const unsigned char *)cn, -1, -1, 0) ||
	    !X509_set_issuer_name(id->cert, name) ||
	    !X509_set_pubkey(id->cert, id->key) ||
	    !X509_sign(id->cert, id->key, NULL) ||
	    cluster_spki_fp(id->cert, id->fp))
		goto fail;
	return 0;
fail:
	ssl_err(err, err_len, "self-signed certificate");
	return -EIO;
}

static char *pem(int (*write)(BIO *, void *), void *obj, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data, *out = NULL;
	long n;

	if (bio && write(bio, obj)) {
		n = BIO_get_mem_data(bio, &data);
		out = malloc(n + 1);
		if (out) {
			memcpy(out, data, n);
			out[n] = '\0';
			*len = n;
		}
	}
	BIO_free(bio);
	return out;
}

static int write_key(BIO *bio, void *key)
{
	return PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(BIO *bio, void *cert)
{
	return PEM_write_bio_X509(bio, cert);
}

static int save(struct cluster_ident *id, int dirfd, const char *name,
		char *err, size_t err_len)
{
	char path[128];
	size_t len;
	char *data;
	int ret;

	snprintf(path, sizeof(path), "%s.key", name);
	data = pem(write_key, id->key, &len);
	if (!data)
		return -ENOMEM;
	ret = cluster_write_atomic(dirfd, path, data, len, 0600);
	OPENSSL_cleanse(data, len);
	free(data);
	if (ret)
		goto fail;
	snprintf(path, sizeof(path), "%s.crt", name);
	data = pem(write_cert, id->cert, &len);
	if (!data)
		return -ENOMEM;
	ret = cluster_write_atomic(dirfd, path, data, len, 0644);
	free(data);
	if (!ret)
		return 0;
fail:
	snprintf(err, err_len, "writing %s: %s", path, strerror(-ret));
	return ret;
}

static FILE *open_at(int dirfd, const char *path, int *err)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	FILE *f;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	f = fdopen(fd, "r");
	if (!f) {
		*err = -errno;
		close(fd);
	}
	return f;
}

int cluster_ident_load(struct cluster_ident *id, int dirfd, const char *name,
		       const char *cn, char *err, size_t err_len)
{
	char kpath[128], cpath[128];
	FILE *kf, *cf;
	int kerr = 0, cerr = 0, ret;

	memset(id, 0, sizeof(*id));
	snprintf(kpath, sizeof(kpath), "%s.key", name);
	snprintf(cpath, sizeof(cpath), "%s.crt", name);
	kf = open_at(dirfd, kpath, &kerr);
	cf = open_at(dirfd, cpath, &cerr);
	if (!kf && !cf && kerr == -ENOENT && cerr == -ENOENT) {
		ret = cluster_ident_create(id, cn, err, err_len);
		if (!ret)
			ret = save(id, dirfd, name, err, err_len);
		goto out;
	}
	if (!kf || !cf) {
		snprintf(err, err_len, "%s: %s", kf ? cpath : kpath,
			 strerror(kf ? -cerr : -kerr));
		ret = kf ? cerr : kerr;
		goto close;
	}
	id->key = PEM_read_PrivateKey(kf, NULL, NULL, NULL);
	id->cert = PEM_read_X509(cf, NULL, NULL, NULL);
	if (!id->key || !id->cert) {
		ssl_err(err, err_len, id->key ? cpath : kpath);
		ret = -EINVAL;
		goto close;
	}
	if (EVP_PKEY_get_id(id->key) != EVP_PKEY_ED25519 ||
	    !X509_check_private_key(id->cert, id->key)) {
		snprintf(err, err_len, "%s is not the Ed25519 key of %s",
			 kpath, cpath);
		ERR_clear_error();
		ret = -EINVAL;
		goto close;
	}
	ret = 0;
close:
	if (kf)
		fclose(kf);
	if (cf)
		fclose(cf);
out:
	if (!ret)
		ret = cluster_spki_fp(id->cert, id->fp);
	if (ret)
		cluster_ident_free(id);
	return ret;
}

void cluster_ident_free(struct cluster_ident *id)
{
	EVP_PKEY_free(id->key);
	X509_free(id->cert);
	id->key = NULL;
	id->cert = NULL;
}

int cluster_ident_to_pem(const struct cluster_ident *id, char **key, char **cert)
{
	size_t len;

	*key = pem(write_key, id->key, &len);
	*cert = pem(write_cert, id->cert, &len);
	if (*key && *cert)
		return 0;
	free(*key);
	free(*cert);
	return -ENOMEM;
}

int cluster_ident_from_pem(struct cluster_ident *id, const char *key,
			   const char *cert, char *err, size_t err_len)
{
	BIO *kb = BIO_new_mem_buf(key, -1), *cb = BIO_new_mem_buf(cert, -1);
	int ret = -EINVAL;

	memset(id, 0, sizeof(*id));
	if (kb && cb) {
		id->key = PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL);
		id->cert = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	}
	BIO_free(kb);
	BIO_free(cb);
	if (!id->key || !id->cert || EVP_PKEY_get_id(id->key) != EVP_PKEY_ED25519 ||
	    !X509_check_private_key(id->cert, id->key) ||
	    cluster_spki_fp(id->cert, id->fp)) {
		snprintf(err, err_len, "shared identity: not an Ed25519 key and its certificate");
		ERR_clear_error();
		cluster_ident_free(id);
		return ret;
	}
	return 0;
}
