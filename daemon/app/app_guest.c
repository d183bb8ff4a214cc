// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_guest.h"
#include "app_msg.h"

int app_guest_recv(int fd, struct app_guest_req *req, char *err, size_t errlen)
{
	const char *op, *app_id, *manifest, *payload, *vm = NULL;
	json_error_t jerr;
	json_t *msg;
	size_t mlen;

	memset(req, 0, sizeof(*req));
	msg = app_msg_recv(fd);
	if (!msg) {
		if (errno != EPROTO && errno != EMSGSIZE)
			return -errno;
		snprintf(err, errlen, "%s", errno == EPROTO ?
			 "request is not one JSON object without duplicate keys" :
			 "request too large");
		return -EPROTO;
	}
	if (json_unpack_ex(msg, &jerr, 0, "{s:s, s:s, s:s%, s:s, s?:s !}",
			   "op", &op, "app_id", &app_id, "manifest", &manifest,
			   &mlen, "payload", &payload, "vm", &vm)) {
		snprintf(err, errlen, "request: %s", jerr.text);
		goto bad;
	}
	if (strcmp(op, "install") && strcmp(op, "verify")) {
		snprintf(err, errlen, "request: unknown op \"%.32s\"", op);
		goto bad;
	}
	if (!app_name_valid(app_id, APP_ID_MAX) || (vm && !app_name_valid(vm, APP_VM_MAX)) ||
	    strlen(payload) >= sizeof(req->payload) || !*payload ||
	    mlen > APP_MANIFEST_MAX) {
		snprintf(err, errlen, "request: bad app_id, vm, payload or manifest size");
		goto bad;
	}
	req->install = !strcmp(op, "install");
	strcpy(req->app_id, app_id);
	if (vm)
		strcpy(req->vm, vm);
	strcpy(req->payload, payload);
	req->manifest = malloc(mlen + 1);
	if (!req->manifest) {
		json_decref(msg);
		return -ENOMEM;
	}
	memcpy(req->manifest, manifest, mlen + 1);
	req->manifest_len = mlen;
	json_decref(msg);
	return 0;
bad:
	json_decref(msg);
	return -EPROTO;
}

void app_guest_req_free(struct app_guest_req *req)
{
	free(req->manifest);
	req->manifest = NULL;
}

int app_guest_send(int fd, const struct app_guest_reply *r)
{
	json_t *msg;
	int ret;

	msg = json_pack("{s:b, s:s, s:s}", "ok", r->reason == APP_OK,
			"reason", app_reason_name(r->reason),
			"detail", r->detail ?: "");
	if (!msg)
		return -ENOMEM;
	if (r->app_id) {
		json_object_set_new(msg, "app_id", json_string(r->app_id));
		json_object_set_new(msg, "version", json_integer((json_int_t)r->version));
	}
	if (r->pid)
		json_object_set_new(msg, "pid", json_integer(r->pid));
	if (r->unit)
		json_object_set_new(msg, "unit", json_string(r->unit));
	ret = app_msg_send(fd, msg);
	json_decref(msg);
	return ret;
}

int app_guest_call(int fd, bool install, const char *app_id, const char *manifest,
		   size_t manifest_len, const char *payload, char **reply,
		   enum app_reason *reason)
{
	const char *name = NULL;
	json_t *req, *rep;
	int ret, r;

	req = json_pack("{s:s, s:s, s:s%, s:s}", "op", install ? "install" : "verify",
			"app_id", app_id, "manifest", manifest, manifest_len,
			"payload", payload);
	if (!req)
		return -EINVAL;
	ret = app_msg_send(fd, req);
	json_decref(req);
	if (ret)
		return ret;
	rep = app_msg_recv(fd);
	if (!rep)
		return -errno;
	if (json_unpack(rep, "{s:s}", "reason", &name) ||
	    (r = app_reason_from_name(name)) < 0) {
		json_decref(rep);
		return -EPROTO;
	}
	*reason = r;
	*reply = json_dumps(rep, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(rep);
	return *reply ? 0 : -ENOMEM;
}
