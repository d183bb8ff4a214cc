// SPDX-License-Identifier: GPL-2.0
/* The manager: answers discovery, admits hosts over TLS, tracks them. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cluster_internal.h"

#define MAX_PEERS		1024
#define UNJOINED_USEC		(10 * 1000000ULL)
#define DEFAULT_TTL_S		(24 * 3600)

static bool replayed(struct cluster *cl, const struct cluster_discover *d)
{
	for (size_t i = 0; i < NONCE_CACHE; i++)
		if (!memcmp(cl->seen[i].nonce, d->nonce, CLUSTER_NONCE_LEN) &&
		    !memcmp(cl->seen[i].host_id, d->host_id, CLUSTER_ID_LEN))
			return true;
	memcpy(cl->seen[cl->seen_next].host_id, d->host_id, CLUSTER_ID_LEN);
	memcpy(cl->seen[cl->seen_next].nonce, d->nonce, CLUSTER_NONCE_LEN);
	cl->seen_next = (cl->seen_next + 1) % NONCE_CACHE;
	return false;
}

static void answer(struct cluster *cl, int fd, const struct cluster_discover *d,
		   const struct sockaddr *src, socklen_t src_len)
{
	struct cluster_answer a = { 0 };
	const struct cluster_member *m;
	struct cluster_token *t = NULL;
	uint8_t buf[CLUSTER_WIRE_MAX];
	char addr[80], hid[33];
	int len;

	cluster_sockaddr_str(src, addr, sizeof(addr));
	cluster_hex(d->host_id, CLUSTER_ID_LEN, hid);
	memcpy(a.host_id, d->host_id, CLUSTER_ID_LEN);
	memcpy(a.nonce, d->nonce, CLUSTER_NONCE_LEN);
	memcpy(a.cluster_id, cl->st.cluster_id, CLUSTER_ID_LEN);
	memcpy(a.fingerprint, cl->ident.fp, CLUSTER_FP_LEN);
	a.tls_port = cl->cfg.tls_port;
	snprintf(a.manager, sizeof(a.manager), "%s", cl->cfg.name);

	m = cluster_state_member(&cl->st, d->host_id);
	if (m) {
		a.status = CLUSTER_ST_MEMBER;
	} else if (!*d->token_id) {
		/*
		 * Only a host that was a member discovers without a token:
		 * it was removed. Unkeyed, so the host comes to hear it again
		 * over TLS, from the key it pinned.
		 */
		a.status = CLUSTER_ST_NOT_MEMBER;
		snprintf(a.reason, sizeof(a.reason), "host %s is not a member", hid);
	} else if (!(t = cluster_tokens_find(&cl->st.tokens, d->token_id))) {
		a.status = CLUSTER_ST_TOKEN_UNKNOWN;
		snprintf(a.reason, sizeof(a.reason), "token %s unknown", d->token_id);
	} else if (cluster_token_check(t, cluster_wall(), a.reason,
				       sizeof(a.reason))) {
		a.status = t->revoked ? CLUSTER_ST_TOKEN_REVOKED :
					CLUSTER_ST_TOKEN_EXPIRED;
	} else if (cluster_policy_check(&cl->cfg.policy, &d->facts, a.reason,
					sizeof(a.reason))) {
		a.status = CLUSTER_ST_POLICY;
	} else {
		a.status = CLUSTER_ST_ADMIT;
	}
	if (a.status == CLUSTER_ST_POLICY) {
		cl->n.rejected_policy++;
		cluster_log(LOG_NOTICE, "host %s (%s, %s) refused: %s",
			    d->hostname, hid, addr, a.reason);
	} else if (a.status >= CLUSTER_ST_TOKEN_UNKNOWN &&
		   a.status <= CLUSTER_ST_TOKEN_REVOKED) {
		cl->n.rejected_token++;
		cluster_log(LOG_NOTICE, "host %s (%s, %s) refused: %s",
			    d->hostname, hid, addr, a.reason);
	}
	/* Keyed with the host's token so it can tell us from a spoofer. */
	len = cluster_answer_encode(&a, t ? t->secret : NULL,
				    t ? CLUSTER_TOKEN_SECRET_LEN : 0, buf,
				    sizeof(buf));
	if (len > 0 && !cluster_udp_send(cl, fd, buf, len, src, src_len))
		cl->n.answered++;
}

static int on_udp(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct cluster *cl = data;

	/* Bounded so that a flood cannot starve the rest of the loop. */
	for (int i = 0; i < 64; i++) {
		uint8_t buf[CLUSTER_WIRE_MAX + 1];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct cluster_discover d;
		const char *why = "";
		char addr[80];
		ssize_t n;
		int ret;

		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		cl->n.rx++;
		ret = cluster_discover_decode(&d, buf, n, &why);
		if (ret) {
			if (ret == -EMSGSIZE)
				cl->n.oversized++;
			else if (ret == -EPROTONOSUPPORT)
				cl->n.bad_version++;
			else
				cl->n.garbage++;
			cluster_sockaddr_str((struct sockaddr *)&ss, addr, sizeof(addr));
			cluster_log(LOG_DEBUG, "dropped datagram from %s: %s",
				    addr, why);
			continue;
		}
		if (replayed(cl, &d)) {
			cl->n.replayed++;
			cluster_sockaddr_str((struct sockaddr *)&ss, addr, sizeof(addr));
			if (!(cl->n.replayed & (cl->n.replayed - 1)))
				cluster_log(LOG_NOTICE, "dropped replayed discovery from %s (%llu so far)",
					    addr, (unsigned long long)cl->n.replayed);
			continue;
		}
		answer(cl, fd, &d, (struct sockaddr *)&ss, sl);
	}
	return 0;
}

static struct json_object *brief_members(struct cluster *cl)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < cl->st.n_members; i++) {
		const struct cluster_member *m = &cl->st.members[i];
		struct json_object *o = json_object_new_object();
		char hid[33];

		cluster_hex(m->host_id, CLUSTER_ID_LEN, hid);
		json_object_object_add(o, "host_id", json_object_new_string(hid));
		json_object_object_add(o, "hostname", json_object_new_string(m->hostname));
		json_object_object_add(o, "address", json_object_new_string(m->address));
		json_object_object_add(o, "state", json_object_new_string(
			cluster_member_state_name(m->state)));
		json_object_array_add(a, o);
	}
	return a;
}

static void send_error(struct mgr_peer *p, const char *code, const char *msg)
{
	struct json_object *o = json_object_new_object();

	json_object_object_add(o, "op", json_object_new_string("error"));
	json_object_object_add(o, "code", json_object_new_string(code));
	json_object_object_add(o, "error", json_object_new_string(msg));
	cluster_conn_send(p->conn, o);
	json_object_put(o);
	p->cl->n.join_failures++;
	cluster_log(LOG_NOTICE, "join from %s refused: %s",
		    cluster_conn_peer(p->conn), msg);
}

static void send_members(struct mgr_peer *p, const char *op)
{
	struct cluster *cl = p->cl;
	struct json_object *o = json_object_new_object();
	char cid[33];

	cluster_hex(cl->st.cluster_id, CLUSTER_ID_LEN, cid);
	json_object_object_add(o, "op", json_object_new_string(op));
	json_object_object_add(o, "cluster_id", json_object_new_string(cid));
	json_object_object_add(o, "generation",
			       json_object_new_int64(cl->st.generation));
	json_object_object_add(o, "heartbeat_ms",
			       json_object_new_int64(cl->cfg.heartbeat_ms));
	if (p->generation != cl->st.generation || !strcmp(op, "welcome"))
		json_object_object_add(o, "members", brief_members(cl));
	p->generation = cl->st.generation;
	cluster_conn_send(p->conn, o);
	json_object_put(o);
}

static const char *jget(struct json_object *m, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(m, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static int facts_from_msg(struct cluster_facts *f, struct json_object *m)
{
	struct json_object *o, *mem;
	const char *s;

	memset(f, 0, sizeof(*f));
	if (!json_object_object_get_ex(m, "facts", &o) ||
	    !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, "memory_mb", &mem) ||
	    !json_object_is_type(mem, json_type_int))
		return -EINVAL;
	f->memory_mb = json_object_get_int64(mem);
#define F(name) \
	s = jget(o, #name); \
	if (!s || strlen(s) >= sizeof(f->name)) \
		return -EINVAL; \
	strcpy(f->name, s)
	F(cpu_model);
	F(features);
	F(modules);
	F(labels);
#undef F
	return cluster_labels_valid(f->labels);
}

static void joined(struct cluster *cl, void *ctx, int err, const char *msg)
{
	struct mgr_peer *p = ctx;
	const struct cluster_member *m;
	char hid[33];

	/* The connection may have gone while the store worked. */
	if (!p->conn) {
		free(p);
		return;
	}
	p->pending = false;
	if (err)
		return send_error(p, "internal", "manager cannot store membership");
	m = cluster_state_member(&cl->st, p->host_id);
	if (!m)
		return send_error(p, "internal", "membership vanished");
	p->joined = true;
	if (p->rejoin)
		cl->n.rejoins++;
	else
		cl->n.joins++;
	cluster_hex(p->host_id, CLUSTER_ID_LEN, hid);
	cluster_log(LOG_INFO, "host %s (%s) %s from %s", m->hostname, hid,
		    p->rejoin ? "rejoined" : "joined", m->address);
	send_members(p, "welcome");
}

static void handle_join(struct mgr_peer *p, struct json_object *m, bool rejoin)
{
	struct cluster *cl = p->cl;
	struct cluster_member nm = { 0 }, *mem;
	uint8_t fp[CLUSTER_FP_LEN], bind[32], mac[32], auth[32];
	const char *hid = jget(m, "host_id"), *name = jget(m, "hostname");
	const char *tid = jget(m, "token_id"), *auth_hex = jget(m, "auth");
	struct cluster_token *t = NULL;
	char msg[256], cid[33];

	if (p->joined || p->pending)
		return send_error(p, "proto", "already joined on this connection");
	if (!hid || cluster_unhex(hid, nm.host_id, CLUSTER_ID_LEN) || !name ||
	    strlen(name) >= sizeof(nm.hostname) || facts_from_msg(&nm.facts, m))
		return send_error(p, "proto", "malformed join request");
	if (!cluster_conn_peer_fp(p->conn, fp))
		return send_error(p, "proto", "a client certificate is required");
	mem = cluster_state_member(&cl->st, nm.host_id);
	cluster_hex(cl->st.cluster_id, CLUSTER_ID_LEN, cid);
	if (rejoin) {
		if (!mem) {
			snprintf(msg, sizeof(msg), "host %s is not a member of cluster %s",
				 hid, cid);
			return send_error(p, "not_member", msg);
		}
		if (memcmp(mem->fp, fp, CLUSTER_FP_LEN)) {
			snprintf(msg, sizeof(msg),
				 "host %s presented another key than the one it joined with",
				 hid);
			return send_error(p, "key_mismatch", msg);
		}
	} else {
		if (!tid || !auth_hex || cluster_unhex(auth_hex, auth, sizeof(auth)))
			return send_error(p, "proto", "join without token proof");
		t = cluster_tokens_find(&cl->st.tokens, tid);
		if (!t) {
			snprintf(msg, sizeof(msg), "token %.6s unknown", tid);
			return send_error(p, "token", msg);
		}
		if (cluster_token_check(t, cluster_wall(), msg, sizeof(msg)))
			return send_error(p, "token", msg);
		/* The MAC covers this TLS session: a captured proof is useless. */
		if (cluster_conn_binding(p->conn, bind))
			return send_error(p, "proto", "no TLS exporter");
		cluster_hmac(t->secret, CLUSTER_TOKEN_SECRET_LEN, bind, sizeof(bind), mac);
		if (CRYPTO_memcmp(mac, auth, sizeof(mac))) {
			snprintf(msg, sizeof(msg), "token %s: wrong secret", t->id);
			return send_error(p, "token", msg);
		}
		if (cluster_policy_check(&cl->cfg.policy, &nm.facts, msg, sizeof(msg)))
			return send_error(p, "policy", msg);
		if (mem && memcmp(mem->fp, fp, CLUSTER_FP_LEN)) {
			snprintf(msg, sizeof(msg),
				 "host %s is already a member with another key", hid);
			return send_error(p, "key_mismatch", msg);
		}
	}
	strcpy(nm.hostname, name);
	snprintf(nm.address, sizeof(nm.address), "%s", cluster_conn_peer(p->conn));
	snprintf(nm.manager, sizeof(nm.manager), "%s", cl->cfg.name);
	memcpy(nm.fp, fp, CLUSTER_FP_LEN);
	nm.state = CLUSTER_MEMBER_UP;
	nm.last_seen = cluster_wall();
	nm.seen_usec = cluster_now_usec(cl);
	if (mem) {
		nm.joined = mem->joined;
		memcpy(nm.token_id, mem->token_id, sizeof(nm.token_id));
	} else {
		struct cluster_token used = *t;

		nm.joined = nm.last_seen;
		memcpy(nm.token_id, t->id, sizeof(t->id));
		used.uses++;
		cluster_store_token(cl, &used, NULL, NULL);
		OPENSSL_cleanse(&used, sizeof(used));
	}
	/* Acknowledge only what the store has. */
	p->pending = true;
	p->rejoin = !!mem;
	memcpy(p->host_id, nm.host_id, CLUSTER_ID_LEN);
	cluster_store_member(cl, &nm, joined, p);
}

static void handle_heartbeat(struct mgr_peer *p)
{
	struct cluster *cl = p->cl;
	struct cluster_member *m;

	if (!p->joined)
		return send_error(p, "proto", "heartbeat before join");
	m = cluster_state_member(&cl->st, p->host_id);
	if (!m) {
		send_error(p, "not_member", "removed from the cluster");
		p->joined = false;
		return;
	}
	m->seen_usec = cluster_now_usec(cl);
	if (m->state != CLUSTER_MEMBER_UP || strcmp(m->manager, cl->cfg.name)) {
		struct cluster_member up = *m;

		up.state = CLUSTER_MEMBER_UP;
		up.last_seen = cluster_wall();
		snprintf(up.manager, sizeof(up.manager), "%s", cl->cfg.name);
		cluster_log(LOG_INFO, "host %s is up again", m->hostname);
		cluster_store_member(cl, &up, NULL, NULL);
	}
	send_members(p, "ack");
}

static void peer_msg(struct cluster_conn *c, struct json_object *m)
{
	struct mgr_peer *p = cluster_conn_data(c);
	const char *op = jget(m, "op");

	if (!op)
		send_error(p, "proto", "message without op");
	else if (!strcmp(op, "join"))
		handle_join(p, m, false);
	else if (!strcmp(op, "rejoin"))
		handle_join(p, m, true);
	else if (!strcmp(op, "heartbeat"))
		handle_heartbeat(p);
	else
		send_error(p, "proto", "unknown op");
}

static void peer_open(struct cluster_conn *c)
{
}

static void peer_closed(struct cluster_conn *c, const char *why)
{
	struct mgr_peer *p = cluster_conn_data(c), **pp;

	for (pp = &p->cl->peers; *pp; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	cluster_log(LOG_DEBUG, "connection from %s closed: %s",
		    cluster_conn_peer(c), why);
	p->conn = NULL;
	/* A store request still holds p: its callback frees it. */
	if (!p->pending)
		free(p);
}

static const struct cluster_conn_ops peer_ops = {
	.open = peer_open,
	.msg = peer_msg,
	.closed = peer_closed,
};

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct cluster *cl = data;

	for (int i = 0; i < 64; i++) {
		struct mgr_peer *p;
		size_t n = 0;
		int cfd;

		cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd < 0)
			break;
		for (p = cl->peers; p; p = p->next)
			n++;
		p = n < MAX_PEERS ? calloc(1, sizeof(*p)) : NULL;
		if (!p) {
			close(cfd);
			continue;
		}
		p->cl = cl;
		p->since = cluster_now_usec(cl);
		p->conn = cluster_conn_accept(cl->event, cl->tls, cfd, &peer_ops, p);
		if (!p->conn) {
			close(cfd);
			free(p);
			continue;
		}
		p->next = cl->peers;
		cl->peers = p;
	}
	return 0;
}

static struct mgr_peer *peer_of(struct cluster *cl, const uint8_t *host_id)
{
	for (struct mgr_peer *p = cl->peers; p; p = p->next)
		if (p->joined && !memcmp(p->host_id, host_id, CLUSTER_ID_LEN))
			return p;
	return NULL;
}

static int on_sweep(sd_event_source *s, uint64_t usec, void *data)
{
	struct cluster *cl = data;
	uint64_t now = cluster_now_usec(cl);
	struct mgr_peer *p, *next;

	for (size_t i = 0; i < cl->st.n_members;) {
		struct cluster_member *m = &cl->st.members[i];
		uint64_t idle = now - m->seen_usec;

		if (!cluster_store_mine(cl, m)) {
			i++;
			continue;
		}
		if (m->state == CLUSTER_MEMBER_UP &&
		    idle > cl->cfg.down_ms * 1000ULL) {
			struct cluster_member down = *m;

			cluster_log(LOG_WARNING, "host %s (%s) is down: no heartbeat for %llu ms",
				    m->hostname, m->address,
				    (unsigned long long)idle / 1000);
			down.state = CLUSTER_MEMBER_DOWN;
			down.last_seen = cluster_wall();
			snprintf(down.manager, sizeof(down.manager), "%s", cl->cfg.name);
			/* Stays down locally even before the store answers. */
			m->state = CLUSTER_MEMBER_DOWN;
			cluster_store_member(cl, &down, NULL, NULL);
		} else if (m->state == CLUSTER_MEMBER_DOWN &&
			   idle > cl->cfg.remove_ms * 1000ULL) {
			cluster_log(LOG_WARNING, "host %s (%s) removed: down for %llu ms",
				    m->hostname, m->address,
				    (unsigned long long)idle / 1000);
			p = peer_of(cl, m->host_id);
			if (p)
				p->joined = false;
			cluster_store_remove(cl, m);
			continue;
		}
		i++;
	}
	cluster_store_tick(cl);
	/* Connections that never joined hold a slot for nothing. */
	for (p = cl->peers; p; p = next) {
		next = p->next;
		if (!p->joined && !p->pending && now - p->since > UNJOINED_USEC)
			cluster_conn_close(p->conn, "did not join in time");
	}
	sd_event_source_set_time(s, now + cl->cfg.heartbeat_ms * 1000ULL);
	sd_event_source_set_enabled(s, SD_EVENT_ON);
	return 0;
}

static int listen_tls(struct cluster *cl, char *err, size_t err_len)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd, one = 1, zero = 0;
	bool v4 = *cl->cfg.bind || !cl->cfg.ipv6;

	fd = socket(v4 ? AF_INET : AF_INET6,
		    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (v4) {
		sin.sin_port = htons(cl->cfg.tls_port);
		if (*cl->cfg.bind &&
		    inet_pton(AF_INET, cl->cfg.bind, &sin.sin_addr) != 1) {
			errno = EINVAL;
			goto fail;
		}
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
			goto fail;
	} else {
		/* One dual-stack socket serves both families. */
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		sin6.sin6_port = htons(cl->cfg.tls_port);
		if (bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)))
			goto fail;
	}
	if (listen(fd, 128) || getsockname(fd, (struct sockaddr *)&ss, &len))
		goto fail;
	cl->cfg.tls_port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	cl->listen_fd = fd;
	return 0;
fail:
	snprintf(err, err_len, "TLS port %u: %s", cl->cfg.tls_port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

/* Identity and state are known: open the doors. */
static int serve(struct cluster *cl, char *err, size_t err_len)
{
	uint64_t now;
	int ret;

	cl->tls = cluster_tls_ctx(&cl->ident, true, err, err_len);
	if (!cl->tls)
		return -EIO;
	ret = listen_tls(cl, err, err_len);
	if (ret)
		return ret;
	if (cl->cfg.ipv4) {
		cl->udp4 = cluster_udp_open(cl, AF_INET, cl->cfg.port, false, err, err_len);
		if (cl->udp4 < 0)
			return cl->udp4;
		if (!cl->cfg.port) {
			struct sockaddr_in sin;
			socklen_t l = sizeof(sin);

			getsockname(cl->udp4, (struct sockaddr *)&sin, &l);
			cl->cfg.port = ntohs(sin.sin_port);
		}
	}
	if (cl->cfg.ipv6) {
		cl->udp6 = cluster_udp_open(cl, AF_INET6, cl->cfg.port, true, err, err_len);
		if (cl->udp6 < 0)
			return cl->udp6;
	}
	now = cluster_now_usec(cl);
	/* Members get a full down period to come back after our restart. */
	for (size_t i = 0; i < cl->st.n_members; i++)
		cl->st.members[i].seen_usec = now;
	if ((cl->udp4 >= 0 &&
	     sd_event_add_io(cl->event, &cl->udp4_src, cl->udp4, EPOLLIN, on_udp, cl) < 0) ||
	    (cl->udp6 >= 0 &&
	     sd_event_add_io(cl->event, &cl->udp6_src, cl->udp6, EPOLLIN, on_udp, cl) < 0) ||
	    sd_event_add_io(cl->event, &cl->listen_src, cl->listen_fd, EPOLLIN,
			    on_accept, cl) < 0 ||
	    sd_event_add_time(cl->event, &cl->timer, CLOCK_MONOTONIC,
			      now + cl->cfg.heartbeat_ms * 1000ULL,
			      CLUSTER_TIMER_ACCURACY, on_sweep, cl) < 0) {
		snprintf(err, err_len, "event sources: out of memory");
		return -ENOMEM;
	}
	cluster_log(LOG_INFO, "manager %s: %zu members, discovery on UDP %u, TLS on %u, %s store",
		    cl->cfg.name, cl->st.n_members, cl->cfg.port, cl->cfg.tls_port,
		    cl->etcd ? "etcd" : "embedded");
	return 0;
}

static void store_ready(struct cluster *cl)
{
	if (serve(cl, cl->last_error, sizeof(cl->last_error)))
		cluster_log(LOG_ERR, "manager cannot serve: %s", cl->last_error);
	else
		cl->last_error[0] = '\0';
}

int cluster_mgr_start(struct cluster *cl, char *err, size_t err_len)
{
	int ret = cluster_store_open(cl, store_ready, err, err_len);

	if (ret || cl->etcd)
		return ret;
	return serve(cl, err, err_len);
}

void cluster_mgr_stop(struct cluster *cl)
{
	while (cl->peers)
		cluster_conn_close(cl->peers->conn, "manager stopping");
	sd_event_source_disable_unref(cl->listen_src);
	if (cl->listen_fd >= 0)
		close(cl->listen_fd);
	cluster_store_close(cl);
	cluster_state_free(&cl->st);
}

void cluster_mgr_status(struct cluster *cl, struct json_object *o)
{
	char cid[33];
	size_t up = 0;

	cluster_hex(cl->st.cluster_id, CLUSTER_ID_LEN, cid);
	for (size_t i = 0; i < cl->st.n_members; i++)
		up += cl->st.members[i].state == CLUSTER_MEMBER_UP;
	json_object_object_add(o, "state", json_object_new_string(
		cl->listen_src ? "serving" : "waiting for store"));
	json_object_object_add(o, "store", json_object_new_string(
		cl->etcd ? "etcd" : "embedded"));
	json_object_object_add(o, "cluster_id", json_object_new_string(cid));
	json_object_object_add(o, "port", json_object_new_int(cl->cfg.port));
	json_object_object_add(o, "tls_port", json_object_new_int(cl->cfg.tls_port));
	json_object_object_add(o, "generation", json_object_new_int64(cl->st.generation));
	json_object_object_add(o, "members", json_object_new_int64(cl->st.n_members));
	json_object_object_add(o, "members_up", json_object_new_int64(up));
}

struct token_op {
	cluster_reply_fn fn;
	void *ctx;
	bool create;
	char tok[CLUSTER_TOKEN_ID_LEN + CLUSTER_TOKEN_SECRET_LEN + 2];
	char id[CLUSTER_TOKEN_ID_LEN + 1];
};

static void token_stored(struct cluster *cl, void *ctx, int err, const char *msg)
{
	struct token_op *op = ctx;
	struct cluster_token *t = cluster_tokens_find(&cl->st.tokens, op->id);
	struct json_object *o;
	char why[300];

	if (err || !t) {
		snprintf(why, sizeof(why), "token %s: %s", op->create ? "create" : "revoke",
			 err ? msg : "vanished");
		op->fn(op->ctx, err ? err : -EIO, NULL, why);
	} else {
		o = cluster_token_to_json(t, cluster_wall(), 0);
		if (op->create)
			json_object_object_add(o, "token", json_object_new_string(op->tok));
		cluster_log(LOG_INFO, "token %s %s", op->id, op->create ? "created" : "revoked");
		op->fn(op->ctx, 0, o, "");
		json_object_put(o);
	}
	OPENSSL_cleanse(op, sizeof(*op));
	free(op);
}

static void token_create(struct cluster *cl, struct json_object *params,
			 cluster_reply_fn fn, void *ctx)
{
	struct json_object *v;
	struct cluster_token t;
	int64_t ttl = DEFAULT_TTL_S, now = cluster_wall();
	const char *desc = "";
	struct token_op *op;
	char err[200];

	if (params && json_object_object_get_ex(params, "ttl", &v)) {
		if (cluster_parse_duration(json_object_get_string(v), &ttl)) {
			snprintf(err, sizeof(err), "token create: bad ttl \"%s\" (e.g. 90s, 30m, 1h, 7d, 0 = never)",
				 json_object_get_string(v));
			return fn(ctx, -EINVAL, NULL, err);
		}
	}
	if (params && json_object_object_get_ex(params, "description", &v)) {
		desc = json_object_get_string(v);
		if (strlen(desc) >= sizeof(t.description)) {
			snprintf(err, sizeof(err), "token create: description longer than %zu bytes",
				 sizeof(t.description) - 1);
			return fn(ctx, -EINVAL, NULL, err);
		}
	}
	do {
		if (cluster_token_generate(&t, now, ttl))
			return fn(ctx, -EIO, NULL, "token create: no randomness");
	} while (cluster_tokens_find(&cl->st.tokens, t.id));
	strcpy(t.description, desc);
	op = calloc(1, sizeof(*op));
	if (!op)
		return fn(ctx, -ENOMEM, NULL, "token create: out of memory");
	*op = (struct token_op){ .fn = fn, .ctx = ctx, .create = true };
	snprintf(op->tok, sizeof(op->tok), "%s.%s", t.id, t.secret);
	strcpy(op->id, t.id);
	cluster_tokens_gc(&cl->st.tokens, now);
	cluster_store_token(cl, &t, token_stored, op);
	OPENSSL_cleanse(&t, sizeof(t));
}

static void token_revoke(struct cluster *cl, struct json_object *params,
			 cluster_reply_fn fn, void *ctx)
{
	struct cluster_token *t, copy;
	struct json_object *v;
	struct token_op *op;
	char err[100];
	const char *id;

	if (!params || !json_object_object_get_ex(params, "id", &v) ||
	    !json_object_is_type(v, json_type_string))
		return fn(ctx, -EINVAL, NULL, "token revoke: which token id?");
	id = json_object_get_string(v);
	t = cluster_tokens_find(&cl->st.tokens, id);
	if (!t) {
		snprintf(err, sizeof(err), "token %.16s unknown", id);
		return fn(ctx, -ENOENT, NULL, err);
	}
	if (t->revoked) {
		snprintf(err, sizeof(err), "token %s already revoked", id);
		return fn(ctx, -EALREADY, NULL, err);
	}
	op = calloc(1, sizeof(*op));
	if (!op)
		return fn(ctx, -ENOMEM, NULL, "token revoke: out of memory");
	*op = (struct token_op){ .fn = fn, .ctx = ctx };
	strcpy(op->id, t->id);
	copy = *t;
	copy.revoked = cluster_wall();
	cluster_store_token(cl, &copy, token_stored, op);
	OPENSSL_cleanse(&copy, sizeof(copy));
}

void cluster_mgr_call(struct cluster *cl, const char *method,
		      struct json_object *params, cluster_reply_fn fn, void *ctx)
{
	struct json_object *o = NULL;
	char err[100];

	if (!strcmp(method, "token_create"))
		return token_create(cl, params, fn, ctx);
	if (!strcmp(method, "token_revoke"))
		return token_revoke(cl, params, fn, ctx);
	if (!strcmp(method, "members"))
		o = cluster_members_to_json(&cl->st);
	else if (!strcmp(method, "token_list"))
		o = cluster_tokens_to_json(&cl->st.tokens, cluster_wall(), 0);
	if (!o) {
		snprintf(err, sizeof(err), "cluster: unknown method %s", method);
		return fn(ctx, -EOPNOTSUPP, NULL, err);
	}
	fn(ctx, 0, o, "");
	json_object_put(o);
}
