/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest channel: a guest agent asks hvxd to verify or install an app.
 *
 *   request  {"op": "install"|"verify", "app_id": ID, "manifest": TEXT,
 *             "payload": PATH beneath the VM's share, "vm": NAME (optional)}
 *   reply    {"ok": BOOL, "reason": REASON, "detail": TEXT,
 *             "app_id": ID, "version": N, "pid": N, "unit": NAME}
 *
 * The VM a request comes from is the channel's (its socket, or its vsock
 * CID), never the "vm" field: that field, when present, must agree.
 * This header stays free of jansson so that json-c users can include it.
 */
#ifndef HVX_APP_GUEST_H
#define HVX_APP_GUEST_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "app_manifest.h"
#include "app_proto.h"

struct app_guest_req {
	bool install;
	char app_id[APP_ID_MAX + 1];
	char vm[APP_VM_MAX + 1];	/* "" when the guest named none */
	char *manifest;
	size_t manifest_len;
	char payload[PATH_MAX];
};

/*
 * 0 with @req filled; -EPROTO (message unreadable, detail in @err: reply
 * bad-request and carry on); other -errno: the connection is finished.
 */
int app_guest_recv(int fd, struct app_guest_req *req, char *err, size_t errlen);
void app_guest_req_free(struct app_guest_req *req);

struct app_guest_reply {
	enum app_reason reason;
	const char *detail;
	const char *app_id;	/* NULL: not known */
	uint64_t version;
	pid_t pid;		/* 0: not launched */
	const char *unit;	/* NULL: not a systemd unit */
};

int app_guest_send(int fd, const struct app_guest_reply *r);

/* The agent's side: one request, the reply as JSON text (malloc'd). */
int app_guest_call(int fd, bool install, const char *app_id, const char *manifest,
		   size_t manifest_len, const char *payload, char **reply,
		   enum app_reason *reason);

#endif
