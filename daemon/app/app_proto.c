// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vm_sockets.h>

#include "app_msg.h"

static const char *const reason_names[__APP_REASON_MAX] = {
	[APP_OK] = "ok",
	[APP_BAD_REQUEST] = "bad-request",
	[APP_BAD_MANIFEST] = "bad-manifest",
	[APP_BAD_SIGNATURE] = "bad-signature",
	[APP_UNKNOWN_KEY] = "unknown-key",
	[APP_HASH_MISMATCH] = "hash-mismatch",
	[APP_EXPIRED] = "expired",
	[APP_ROLLED_BACK] = "rolled-back",
	[APP_NOT_ALLOWLISTED] = "not-allowlisted",
	[APP_VM_NOT_PERMITTED] = "vm-not-permitted",
	[APP_PRIMARY_UNREACHABLE] = "primary-unreachable",
	[APP_PAYLOAD_UNREADABLE] = "payload-unreadable",
	[APP_LAUNCH_FAILED] = "launch-failed",
	[APP_INTERNAL] = "internal-error",
};

const char *app_reason_name(enum app_reason r)
{
	return (unsigned int)r < __APP_REASON_MAX ? reason_names[r] : "?";
}

int app_reason_from_name(const char *name)
{
	int i;

	for (i = 0; i < __APP_REASON_MAX; i++)
		if (!strcmp(name, reason_names[i]))
			return i;
	return -1;
}

union app_sockaddr {
	struct sockaddr sa;
	struct sockaddr_un un;
	struct sockaddr_vm vm;
};

static int parse_addr(const char *addr, bool listen, union app_sockaddr *sa,
		      socklen_t *len)
{
	unsigned int cid, port;
	char end;

	memset(sa, 0, sizeof(*sa));
	if (!strncmp(addr, "unix:", 5)) {
		if (strlen(addr + 5) == 0 ||
		    strlen(addr + 5) >= sizeof(sa->un.sun_path))
			return -ENAMETOOLONG;
		sa->un.sun_family = AF_UNIX;
		strcpy(sa->un.sun_path, addr + 5);
		*len = sizeof(sa->un);
		return AF_UNIX;
	}
	if (!strncmp(addr, "vsock:", 6)) {
		if (listen) {
			cid = VMADDR_CID_ANY;
			if (sscanf(addr + 6, "%u%c", &port, &end) != 1)
				return -EINVAL;
		} else if (sscanf(addr + 6, "%u:%u%c", &cid, &port, &end) != 2) {
			return -EINVAL;
		}
		sa->vm.svm_family = AF_VSOCK;
		sa->vm.svm_cid = cid;
		sa->vm.svm_port = port;
		*len = sizeof(sa->vm);
		return AF_VSOCK;
	}
	return -EINVAL;
}

int app_sock_listen(const char *addr)
{
	union app_sockaddr sa;
	socklen_t len;
	int fd, family;

	family = parse_addr(addr, true, &sa, &len);
	if (family < 0)
		return family;
	fd = socket(family, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (family == AF_UNIX)
		unlink(sa.un.sun_path);
	if (bind(fd, &sa.sa, len) < 0 || listen(fd, 64) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int app_sock_connect_nb(const char *addr)
{
	union app_sockaddr sa;
	socklen_t len;
	int fd, family;

	family = parse_addr(addr, false, &sa, &len);
	if (family < 0)
		return family;
	fd = socket(family, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, &sa.sa, len) < 0 && errno != EINPROGRESS) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int app_sock_connect(const char *addr, int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	union app_sockaddr sa;
	socklen_t len;
	int fd, family;

	family = parse_addr(addr, false, &sa, &len);
	if (family < 0)
		return family;
	fd = socket(family, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* A primary that hangs must not hang hvxd: fail closed instead. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    connect(fd, &sa.sa, len) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int app_msg_send(int fd, json_t *msg)
{
	char *s = json_dumps(msg, JSON_COMPACT);
	ssize_t n;
	size_t len;

	if (!s)
		return -ENOMEM;
	len = strlen(s);
	if (len > APP_MSG_MAX) {
		free(s);
		return -EMSGSIZE;
	}
	do {
		n = send(fd, s, len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	free(s);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

json_t *app_msg_recv(int fd)
{
	json_error_t jerr;
	char *buf;
	json_t *msg;
	ssize_t n;

	buf = malloc(APP_MSG_MAX);
	if (!buf)
		return NULL;
	do {
		n = recv(fd, buf, APP_MSG_MAX, MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n <= 0) {
		free(buf);
		errno = n == 0 ? ECONNRESET : errno;
		return NULL;
	}
	if (n > APP_MSG_MAX) {
		free(buf);
		errno = EMSGSIZE;
		return NULL;
	}
	msg = json_loadb(buf, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
	free(buf);
	if (!msg || !json_is_object(msg)) {
		json_decref(msg);
		errno = EPROTO;
		return NULL;
	}
	return msg;
}

void app_primary_init(struct app_primary *p, const char *addr, int timeout_ms)
{
	p->addr = strdup(addr);
	p->fd = -1;
	p->timeout_ms = timeout_ms;
}

void app_primary_close(struct app_primary *p)
{
	if (p->fd >= 0)
		close(p->fd);
	p->fd = -1;
	free(p->addr);
	p->addr = NULL;
}

/*
 * One request, one reply.  The connection is kept between requests; a
 * primary that restarted shows up as a failed send or an EOF, and gets one
 * fresh connection before we give up on it.
 */
static json_t *primary_call(struct app_primary *p, json_t *req, char *detail,
			    size_t len)
{
	int attempt, err = 0;
	json_t *rep;

	for (attempt = 0; attempt < 2; attempt++) {
		if (p->fd < 0) {
			p->fd = app_sock_connect(p->addr, p->timeout_ms);
			if (p->fd < 0) {
				err = -p->fd;
				p->fd = -1;
				break;
			}
		}
		err = -app_msg_send(p->fd, req);
		if (!err) {
			rep = app_msg_recv(p->fd);
			if (rep)
				return rep;
			err = errno;
		}
		close(p->fd);
		p->fd = -1;
		if (err == EAGAIN || err == EPROTO || err == EMSGSIZE)
			break;
	}
	snprintf(detail, len, "primary %s: %s", p->addr,
		 err == EAGAIN ? "timed out" : strerror(err));
	return NULL;
}

static enum app_reason reply_status(json_t *rep, char *detail, size_t len)
{
	json_t *ok = app_jget(rep, "ok");
	const char *reason, *why;
	int r;

	if (json_is_true(ok))
		return APP_OK;
	reason = json_string_value(app_jget(rep, "reason"));
	why = json_string_value(app_jget(rep, "detail"));
	r = reason ? app_reason_from_name(reason) : -1;
	if (!json_is_false(ok) || r <= APP_OK) {
		snprintf(detail, len, "primary sent a malformed reply");
		return APP_PRIMARY_UNREACHABLE;
	}
	snprintf(detail, len, "%s", why ?: reason);
	return r;
}

static json_t *lookup_msg(const char *app_id, const uint8_t key_id[APP_KEYID_LEN])
{
	char hex[2 * APP_KEYID_LEN + 1];

	app_hex_encode(key_id, APP_KEYID_LEN, hex);
	return json_pack("{s:s, s:s, s:s}", "op", "lookup", "app_id", app_id,
			 "key_id", hex);
}

static json_t *commit_msg(const char *app_id, uint64_t version)
{
	return json_pack("{s:s, s:s, s:I}", "op", "commit", "app_id", app_id,
			 "version", (json_int_t)version);
}

static enum app_reason lookup_reply(json_t *rep, struct app_lookup *out,
				    char *detail, size_t len)
{
	enum app_reason r = reply_status(rep, detail, len);
	json_t *minv;
	const char *pub;

	if (r != APP_OK)
		return r;
	pub = json_string_value(app_jget(rep, "public"));
	minv = app_jget(rep, "min_version");
	if (!pub || app_hex_decode(pub, out->pub, APP_PUBKEY_LEN) ||
	    !json_is_integer(minv) || json_integer_value(minv) < 0) {
		snprintf(detail, len, "primary sent a malformed reply");
		return APP_PRIMARY_UNREACHABLE;
	}
	out->min_version = (uint64_t)json_integer_value(minv);
	return APP_OK;
}

enum app_reason app_primary_lookup(struct app_primary *p, const char *app_id,
				   const uint8_t key_id[APP_KEYID_LEN],
				   struct app_lookup *out, char *detail,
				   size_t len)
{
	json_t *req, *rep;
	enum app_reason r;

	req = lookup_msg(app_id, key_id);
	if (!req)
		return APP_INTERNAL;
	rep = primary_call(p, req, detail, len);
	json_decref(req);
	if (!rep)
		return APP_PRIMARY_UNREACHABLE;
	r = lookup_reply(rep, out, detail, len);
	json_decref(rep);
	return r;
}

enum app_reason app_primary_commit(struct app_primary *p, const char *app_id,
				   uint64_t version, char *detail, size_t len)
{
	enum app_reason r;
	json_t *req, *rep;

	req = commit_msg(app_id, version);
	if (!req)
		return APP_INTERNAL;
	rep = primary_call(p, req, detail, len);
	json_decref(req);
	if (!rep)
		return APP_PRIMARY_UNREACHABLE;
	r = reply_status(rep, detail, len);
	json_decref(rep);
	return r;
}

static int send_msg(int fd, json_t *msg)
{
	int ret;

	if (!msg)
		return -ENOMEM;
	ret = app_msg_send(fd, msg);
	json_decref(msg);
	return ret;
}

int app_primary_send_lookup(int fd, const char *app_id,
			    const uint8_t key_id[APP_KEYID_LEN])
{
	return send_msg(fd, lookup_msg(app_id, key_id));
}

int app_primary_send_commit(int fd, const char *app_id, uint64_t version)
{
	return send_msg(fd, commit_msg(app_id, version));
}

static json_t *read_reply(int fd, const char *addr, char *detail, size_t len)
{
	json_t *rep = app_msg_recv(fd);

	if (!rep)
		snprintf(detail, len, "primary %s: %s", addr,
			 errno == ECONNRESET ? "closed the connection" : strerror(errno));
	return rep;
}

enum app_reason app_primary_read_lookup(int fd, const char *addr,
					struct app_lookup *out, char *detail,
					size_t len)
{
	json_t *rep = read_reply(fd, addr, detail, len);
	enum app_reason r;

	if (!rep)
		return APP_PRIMARY_UNREACHABLE;
	r = lookup_reply(rep, out, detail, len);
	json_decref(rep);
	return r;
}

enum app_reason app_primary_read_commit(int fd, const char *addr, char *detail,
					size_t len)
{
	json_t *rep = read_reply(fd, addr, detail, len);
	enum app_reason r;

	if (!rep)
		return APP_PRIMARY_UNREACHABLE;
	r = reply_status(rep, detail, len);
	json_decref(rep);
	return r;
}
