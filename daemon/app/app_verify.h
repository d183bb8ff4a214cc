/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The verification engine: one install request in, one decision out.  The
 * guest supplies a manifest and the name of a payload in its own share; the
 * primary supplies the key and the version floor; what is launched is the
 * copy that was hashed, kept in a store only hvxd writes.
 */
#ifndef HVX_APP_VERIFY_H
#define HVX_APP_VERIFY_H

#include <limits.h>
#include <stdbool.h>

#include "app_manifest.h"
#include "app_proto.h"

struct app_verifier {
	struct app_primary primary;
	int store_fd;		/* directory of verified payloads */
	char *store_dir;
};

struct app_request {
	const char *vm;		/* from the channel, never from the guest */
	const char *app_id;	/* what the guest claims; must match */
	const char *manifest;
	size_t manifest_len;
	int payload_dirfd;	/* the VM's share */
	const char *payload;	/* path beneath it */
	bool store;		/* install: keep the copy and commit the version */
};

struct app_decision {
	enum app_reason reason;
	char detail[512];
	bool have_manifest;
	struct app_manifest m;
	char path[PATH_MAX];	/* the stored payload, on success with store */
};

int app_verifier_init(struct app_verifier *v, const char *primary_addr,
		      int timeout_ms, const char *store_dir);
void app_verifier_free(struct app_verifier *v);

/* The whole decision, talking to the primary synchronously. */
enum app_reason app_verify(struct app_verifier *v, const struct app_request *req,
			   struct app_decision *d);

/*
 * The same in steps, for an event loop that talks to the primary itself:
 * parse (APP_OK: look the key up), then local checks with the primary's
 * answer (APP_OK: commit when storing), then accepted once committed.
 * app_verify_refuse() records the primary's refusals.
 */
enum app_reason app_verify_parse(const struct app_request *req,
				 struct app_decision *d);
enum app_reason app_verify_local(struct app_verifier *v,
				 const struct app_request *req,
				 const struct app_lookup *lk,
				 struct app_decision *d);
enum app_reason app_verify_refuse(struct app_decision *d, enum app_reason r,
				  const char *detail);
void app_verify_accepted(const struct app_request *req, struct app_decision *d);
void app_decision_free(struct app_decision *d);

/*
 * The steps of app_verify(), for hvxctl's offline check too.  On entry
 * d->m holds a parsed manifest; @vm NULL skips the VM check.
 */
enum app_reason app_check_signed(struct app_decision *d,
				 const uint8_t pub[APP_PUBKEY_LEN],
				 uint64_t min_version, const char *vm);
/* Hash @src against the manifest, copying it to @dst when >= 0. */
enum app_reason app_check_payload(struct app_decision *d, int src, int dst,
				  const char *name);

#endif
