// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <linux/openat2.h>

#include "app_verify.h"

int app_verifier_init(struct app_verifier *v, const char *primary_addr,
		      int timeout_ms, const char *store_dir)
{
	memset(v, 0, sizeof(*v));
	v->store_fd = -1;
	/*
	 * Apps run as other users (DynamicUser, "nobody") and must reach
	 * their copy, whatever umask hvxd runs with (hvxd.service: 0077).
	 */
	if (mkdir(store_dir, 0755) < 0) {
		if (errno != EEXIST)
			return -errno;
	} else if (chmod(store_dir, 0755) < 0) {
		return -errno;
	}
	v->store_fd = open(store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (v->store_fd < 0)
		return -errno;
	v->store_dir = strdup(store_dir);
	if (!v->store_dir) {
		close(v->store_fd);
		return -ENOMEM;
	}
	app_primary_init(&v->primary, primary_addr, timeout_ms);
	return v->primary.addr ? 0 : -ENOMEM;
}

void app_verifier_free(struct app_verifier *v)
{
	app_primary_close(&v->primary);
	if (v->store_fd >= 0)
		close(v->store_fd);
	free(v->store_dir);
	v->store_fd = -1;
	v->store_dir = NULL;
}

void app_decision_free(struct app_decision *d)
{
	if (d->have_manifest)
		app_manifest_free(&d->m);
	d->have_manifest = false;
}

static enum app_reason refuse(struct app_decision *d, enum app_reason r,
			      const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum app_reason refuse(struct app_decision *d, enum app_reason r,
			      const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(d->detail, sizeof(d->detail), fmt, ap);
	va_end(ap);
	d->reason = r;
	return r;
}

/*
 * The guest names its payload; we open it beneath its own share only, so a
 * path with "..", an absolute path or a symlink out of the share cannot make
 * hvxd read (or launch) a host file.
 */
static int open_payload(const struct app_request *req)
{
	struct open_how how = {
		.flags = O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	fd = (int)syscall(SYS_openat2, req->payload_dirfd, req->payload,
			  &how, sizeof(how));
	return fd < 0 ? -errno : fd;
}

enum app_reason app_check_payload(struct app_decision *d, int src, int dst,
				  const char *name)
{
	char hex[2 * APP_SHA256_LEN + 1], want[2 * APP_SHA256_LEN + 1];
	uint8_t sha[APP_SHA256_LEN];
	int ret;

	ret = app_hash_copy(src, dst, d->m.size, sha);
	if (ret == -EFBIG || ret == -ENODATA)
		return refuse(d, APP_HASH_MISMATCH,
			      "payload %s is %s than the %llu bytes the manifest says",
			      name, ret == -EFBIG ? "larger" : "smaller",
			      (unsigned long long)d->m.size);
	if (ret)
		return refuse(d, APP_PAYLOAD_UNREADABLE, "payload %s: %s", name,
			      strerror(-ret));
	if (memcmp(sha, d->m.sha256, APP_SHA256_LEN)) {
		app_hex_encode(sha, APP_SHA256_LEN, hex);
		app_hex_encode(d->m.sha256, APP_SHA256_LEN, want);
		return refuse(d, APP_HASH_MISMATCH,
			      "payload %s has sha256 %.16s..., the manifest says %.16s...",
			      name, hex, want);
	}
	return APP_OK;
}

static enum app_reason store_payload(struct app_verifier *v,
				     const struct app_request *req,
				     struct app_decision *d)
{
	char tmp[8 + 2 * APP_SHA256_LEN], hex[2 * APP_SHA256_LEN + 1];
	uint8_t rnd[8];
	int src, dst = -1;

	src = open_payload(req);
	if (src == -EXDEV)
		return refuse(d, APP_PAYLOAD_UNREADABLE,
			      "payload %s: outside vm %s's share", req->payload, req->vm);
	if (src < 0)
		return refuse(d, APP_PAYLOAD_UNREADABLE, "payload %s: %s",
			      req->payload, strerror(-src));
	if (!req->store) {
		app_check_payload(d, src, -1, req->payload);
		close(src);
		return d->reason;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd)) {
		close(src);
		return refuse(d, APP_INTERNAL, "getrandom: %s", strerror(errno));
	}
	app_hex_encode(rnd, sizeof(rnd), hex);
	snprintf(tmp, sizeof(tmp), ".stage-%s", hex);
	dst = openat(v->store_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0500);
	if (dst < 0) {
		close(src);
		return refuse(d, APP_INTERNAL, "store %s: %s", v->store_dir,
			      strerror(errno));
	}
	app_check_payload(d, src, dst, req->payload);
	close(src);
	if (!d->reason && (fchmod(dst, 0555) < 0 || fsync(dst) < 0))
		refuse(d, APP_INTERNAL, "store: %s", strerror(errno));
	close(dst);
	if (d->reason) {
		unlinkat(v->store_fd, tmp, 0);
		return d->reason;
	}
	/*
	 * Content-addressed: the same bytes always land on the same name, and
	 * rename() over a running binary leaves the running inode alone.
	 */
	app_hex_encode(d->m.sha256, APP_SHA256_LEN, hex);
	if (renameat(v->store_fd, tmp, v->store_fd, hex) < 0) {
		unlinkat(v->store_fd, tmp, 0);
		return refuse(d, APP_INTERNAL, "store: %s", strerror(errno));
	}
	snprintf(d->path, sizeof(d->path), "%s/%s", v->store_dir, hex);
	return APP_OK;
}

enum app_reason app_check_signed(struct app_decision *d,
				 const uint8_t pub[APP_PUBKEY_LEN],
				 uint64_t min_version, const char *vm)
{
	char kid[2 * APP_KEYID_LEN + 1];
	uint8_t *canon;
	size_t clen;
	int ret;

	ret = app_manifest_encode(&d->m, &canon, &clen);
	if (ret)
		return refuse(d, APP_INTERNAL, "encode: %s", strerror(-ret));
	ret = app_sig_check(pub, canon, clen, d->m.signature);
	free(canon);
	app_hex_encode(d->m.key_id, APP_KEYID_LEN, kid);
	if (ret != 1)
		return refuse(d, APP_BAD_SIGNATURE,
			      "signature does not verify with key %.16s...", kid);

	/* From here on the manifest's fields are the signer's word. */
	if ((uint64_t)time(NULL) >= d->m.expires)
		return refuse(d, APP_EXPIRED, "manifest expired at %llu",
			      (unsigned long long)d->m.expires);
	if (d->m.version < min_version)
		return refuse(d, APP_ROLLED_BACK,
			      "version %llu of %s is below the accepted %llu",
			      (unsigned long long)d->m.version, d->m.app_id,
			      (unsigned long long)min_version);
	if (vm && !app_manifest_has_vm(&d->m, vm))
		return refuse(d, APP_VM_NOT_PERMITTED,
			      "manifest of %s does not permit vm %s",
			      d->m.app_id, vm);
	return APP_OK;
}

enum app_reason app_verify_parse(const struct app_request *req,
				 struct app_decision *d)
{
	char err[256];

	memset(d, 0, sizeof(*d));
	if (app_manifest_parse(req->manifest, req->manifest_len, &d->m, err,
			       sizeof(err)))
		return refuse(d, APP_BAD_MANIFEST, "%s", err);
	d->have_manifest = true;
	if (req->app_id && strcmp(req->app_id, d->m.app_id))
		return refuse(d, APP_BAD_REQUEST,
			      "request names app %.128s, the manifest %s",
			      req->app_id, d->m.app_id);
	return APP_OK;
}

enum app_reason app_verify_local(struct app_verifier *v,
				 const struct app_request *req,
				 const struct app_lookup *lk,
				 struct app_decision *d)
{
	enum app_reason r;

	r = app_check_signed(d, lk->pub, lk->min_version, req->vm);
	if (r != APP_OK)
		return r;
	return store_payload(v, req, d);
}

enum app_reason app_verify_refuse(struct app_decision *d, enum app_reason r,
				  const char *detail)
{
	return refuse(d, r, "%s", detail);
}

void app_verify_accepted(const struct app_request *req, struct app_decision *d)
{
	char kid[2 * APP_KEYID_LEN + 1];

	app_hex_encode(d->m.key_id, APP_KEYID_LEN, kid);
	snprintf(d->detail, sizeof(d->detail),
		 "%s version %llu signed by key %.16s... for vm %s",
		 d->m.app_id, (unsigned long long)d->m.version, kid, req->vm);
}

enum app_reason app_verify(struct app_verifier *v, const struct app_request *req,
			   struct app_decision *d)
{
	struct app_lookup lk;
	enum app_reason r;
	char err[256];

	r = app_verify_parse(req, d);
	if (r != APP_OK)
		return r;
	/* Only the primary says which key may sign this app ID. */
	r = app_primary_lookup(&v->primary, d->m.app_id, d->m.key_id, &lk,
			       err, sizeof(err));
	if (r != APP_OK)
		return refuse(d, r, "%s", err);
	r = app_verify_local(v, req, &lk, d);
	if (r != APP_OK || !req->store)
		return r;
	/*
	 * Commit last: a version only raises the floor once everything else
	 * passed, and a concurrent install that committed a newer version in
	 * the meantime turns this one into a rollback.
	 */
	r = app_primary_commit(&v->primary, d->m.app_id, d->m.version,
			       err, sizeof(err));
	if (r != APP_OK)
		return refuse(d, r, "%s", err);
	app_verify_accepted(req, d);
	return APP_OK;
}
