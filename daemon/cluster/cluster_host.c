// SPDX-License-Identifier: GPL-2.0
/* The host: discovers a manager, verifies it, joins and stays joined. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "cluster_internal.h"

static const char *const phase_names[] = {
	[HOST_IDLE] = "idle",
	[HOST_DISCOVERING] = "discovering",
	[HOST_CONNECTING] = "joining",
	[HOST_JOINED] = "joined",
	[HOST_REJECTED] = "rejected",
};

static void arm(struct cluster *cl, uint64_t delay_ms)
{
	sd_event_source_set_time(cl->timer, cluster_now_usec(cl) + delay_ms * 1000);
	sd_event_source_set_enabled(cl->timer, SD_EVENT_ON);
}

static void set_error(struct cluster *cl, int prio, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void set_error(struct cluster *cl, int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cl->last_error, sizeof(cl->last_error), fmt, ap);
	va_end(ap);
	cluster_log(prio, "%s", cl->last_error);
}

static void discover(struct cluster *cl)
{
	struct cluster_discover d = { 0 };
	uint8_t buf[CLUSTER_WIRE_MAX];
	unsigned int jitter;
	int len;

	memcpy(d.host_id, cl->hs.host_id, CLUSTER_ID_LEN);
	/* A fresh nonce per round: answers to it cannot be old ones. */
	if (cluster_random(d.nonce, sizeof(d.nonce)))
		return;
	memcpy(cl->nonces[cl->nonce_next], d.nonce, CLUSTER_NONCE_LEN);
	cl->nonce_next = (cl->nonce_next + 1) % HOST_NONCES;
	strcpy(d.token_id, cl->token_id);
	snprintf(d.hostname, sizeof(d.hostname), "%s", cl->cfg.name);
	d.facts = cl->facts;
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	if (len < 0) {
		set_error(cl, LOG_ERR, "discovery datagram too large for our facts");
		return;
	}
	cluster_broadcast(cl, buf, len);
	if (cl->hs.joined) {
		/* The last manager may sit beyond the link. */
		struct sockaddr_storage ss = cl->conn_addr;

		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)&ss)->sin_port = htons(cl->cfg.port);
		else if (ss.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&ss)->sin6_port = htons(cl->cfg.port);
		if (ss.ss_family)
			cluster_udp_send(cl, ss.ss_family == AF_INET ? cl->udp4 : cl->udp6,
					 buf, len, (struct sockaddr *)&ss,
					 ss.ss_family == AF_INET ?
					 sizeof(struct sockaddr_in) :
					 sizeof(struct sockaddr_in6));
	}
	/* Exponential backoff with jitter so that many hosts spread out. */
	cluster_random(&jitter, sizeof(jitter));
	arm(cl, cl->backoff_ms / 2 + jitter % (cl->backoff_ms / 2 + 1));
	cl->backoff_ms *= 2;
	if (cl->backoff_ms > cl->cfg.discover_max_ms)
		cl->backoff_ms = cl->cfg.discover_max_ms;
}

static void start_discovery(struct cluster *cl, uint64_t delay_ms)
{
	cl->phase = HOST_DISCOVERING;
	cl->backoff_ms = cl->cfg.discover_min_ms;
	arm(cl, delay_ms);
}

static void host_open(struct cluster_conn *c)
{
	struct cluster *cl = cluster_conn_data(c);
	struct json_object *o = json_object_new_object(), *f;
	bool rejoin = cl->hs.joined &&
		      !memcmp(cl->conn_cluster, cl->hs.cluster_id, CLUSTER_ID_LEN);
	uint8_t bind[32], mac[32];
	char hid[33], auth[65];

	cluster_hex(cl->hs.host_id, CLUSTER_ID_LEN, hid);
	json_object_object_add(o, "op", json_object_new_string(rejoin ? "rejoin" : "join"));
	json_object_object_add(o, "host_id", json_object_new_string(hid));
	json_object_object_add(o, "hostname", json_object_new_string(cl->cfg.name));
	f = json_object_new_object();
	json_object_object_add(f, "cpu_model", json_object_new_string(cl->facts.cpu_model));
	json_object_object_add(f, "features", json_object_new_string(cl->facts.features));
	json_object_object_add(f, "memory_mb", json_object_new_int64(cl->facts.memory_mb));
	json_object_object_add(f, "modules", json_object_new_string(cl->facts.modules));
	json_object_object_add(f, "labels", json_object_new_string(cl->facts.labels));
	json_object_object_add(o, "facts", f);
	if (!rejoin) {
		/* Prove the token without sending it: MAC over this session. */
		if (cluster_conn_binding(c, bind)) {
			json_object_put(o);
			cluster_conn_close(c, "no TLS exporter");
			return;
		}
		cluster_hmac(cl->token_secret, CLUSTER_TOKEN_SECRET_LEN, bind,
			     sizeof(bind), mac);
		cluster_hex(mac, sizeof(mac), auth);
		json_object_object_add(o, "token_id", json_object_new_string(cl->token_id));
		json_object_object_add(o, "auth", json_object_new_string(auth));
	}
	cluster_conn_send(c, o);
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

static void take_members(struct cluster *cl, struct json_object *m)
{
	struct json_object *v;

	if (json_object_object_get_ex(m, "generation", &v))
		cl->generation = json_object_get_int64(v);
	if (json_object_object_get_ex(m, "members", &v) &&
	    json_object_is_type(v, json_type_array)) {
		json_object_put(cl->members);
		cl->members = json_object_get(v);
	}
}

static void welcome(struct cluster *cl, struct cluster_conn *c,
		    struct json_object *m)
{
	const char *cid = jget(m, "cluster_id");
	uint8_t id[CLUSTER_ID_LEN];
	struct cluster_host_state hs = cl->hs;
	char cids[33];
	int ret;

	if (!cid || cluster_unhex(cid, id, sizeof(id)) ||
	    memcmp(id, cl->conn_cluster, CLUSTER_ID_LEN)) {
		cluster_conn_close(c, "manager welcomed us into another cluster");
		return;
	}
	hs.joined = true;
	memcpy(hs.cluster_id, id, CLUSTER_ID_LEN);
	memcpy(hs.fp, cl->conn_fp, CLUSTER_FP_LEN);
	snprintf(hs.manager, sizeof(hs.manager), "%s", cluster_conn_peer(c));
	hs.manager_port = ntohs(cl->conn_addr.ss_family == AF_INET ?
				((struct sockaddr_in *)&cl->conn_addr)->sin_port :
				((struct sockaddr_in6 *)&cl->conn_addr)->sin6_port);
	if (memcmp(&hs, &cl->hs, sizeof(hs))) {
		/* Persist first: a restart must find the pinned key. */
		ret = cluster_host_save(&hs, cl->dirfd);
		if (ret) {
			set_error(cl, LOG_ERR, "saving %s: %s", CLUSTER_HOST_FILE,
				  strerror(-ret));
			cluster_conn_close(c, "cannot persist membership");
			return;
		}
		cl->hs = hs;
	}
	take_members(cl, m);
	cl->phase = HOST_JOINED;
	cl->last_error[0] = '\0';
	cl->last_ack_usec = cl->joined_usec = cluster_now_usec(cl);
	cluster_hex(id, CLUSTER_ID_LEN, cids);
	cluster_log(LOG_INFO, "joined cluster %s via %s in %llu ms", cids,
		    hs.manager,
		    (unsigned long long)(cl->joined_usec - cl->started_usec) / 1000);
	arm(cl, cl->cfg.heartbeat_ms);
}

static void refused(struct cluster *cl, struct cluster_conn *c,
		    struct json_object *m)
{
	const char *code = jget(m, "code"), *msg = jget(m, "error");
	bool removed = code && !strcmp(code, "not_member") && cl->hs.joined;

	/* Without a token no answer could be verified: nothing to retry. */
	set_error(cl, LOG_ERR, "manager %s refused the join: %s%s",
		  cluster_conn_peer(c), msg ? msg : "no reason given",
		  removed && !*cl->token_id ? "; a token is needed to join again" : "");
	cl->n.join_failures++;
	if (removed) {
		/* Removed while away: forget it, and rejoin by token if we can. */
		cl->hs.joined = false;
		cluster_host_save(&cl->hs, cl->dirfd);
		if (*cl->token_id) {
			cluster_conn_close(c, "removed from the cluster");
			start_discovery(cl, 0);
			return;
		}
		cl->phase = HOST_IDLE;
		cluster_conn_close(c, "removed from the cluster");
		sd_event_source_set_enabled(cl->timer, SD_EVENT_OFF);
		return;
	}
	cl->phase = HOST_REJECTED;
	cluster_conn_close(c, "join refused");
	arm(cl, cl->cfg.retry_ms);
}

static void host_msg(struct cluster_conn *c, struct json_object *m)
{
	struct cluster *cl = cluster_conn_data(c);
	const char *op = jget(m, "op");

	if (!op)
		return;
	if (!strcmp(op, "welcome") && cl->phase == HOST_CONNECTING) {
		welcome(cl, c, m);
	} else if (!strcmp(op, "ack") && cl->phase == HOST_JOINED) {
		cl->last_ack_usec = cluster_now_usec(cl);
		take_members(cl, m);
	} else if (!strcmp(op, "error")) {
		refused(cl, c, m);
	}
}

static void host_closed(struct cluster_conn *c, const char *why)
{
	struct cluster *cl = cluster_conn_data(c);

	cl->conn = NULL;
	if (cl->phase == HOST_CONNECTING || cl->phase == HOST_JOINED) {
		set_error(cl, cl->phase == HOST_JOINED ? LOG_WARNING : LOG_ERR,
			  "connection to manager %s: %s", cluster_conn_peer(c), why);
		start_discovery(cl, cl->cfg.discover_min_ms);
	}
}

static const struct cluster_conn_ops host_ops = {
	.open = host_open,
	.msg = host_msg,
	.closed = host_closed,
};

static void connect_manager(struct cluster *cl, const struct cluster_answer *a,
			    const struct sockaddr_storage *src, socklen_t sl)
{
	char addr[80];
	int err = 0;

	cl->conn_addr = *src;
	if (src->ss_family == AF_INET)
		((struct sockaddr_in *)&cl->conn_addr)->sin_port = htons(a->tls_port);
	else
		((struct sockaddr_in6 *)&cl->conn_addr)->sin6_port = htons(a->tls_port);
	memcpy(cl->conn_fp, a->fingerprint, CLUSTER_FP_LEN);
	memcpy(cl->conn_cluster, a->cluster_id, CLUSTER_ID_LEN);
	cl->phase = HOST_CONNECTING;
	sd_event_source_set_enabled(cl->timer, SD_EVENT_OFF);
	/* The key the proof vouched for is the only one TLS will accept. */
	cl->conn = cluster_conn_connect(cl->event, cl->tls,
					(struct sockaddr *)&cl->conn_addr, sl,
					a->fingerprint, &host_ops, cl, &err);
	if (!cl->conn) {
		cluster_sockaddr_str((struct sockaddr *)src, addr, sizeof(addr));
		set_error(cl, LOG_ERR, "connecting to manager %s: %s", addr,
			  strerror(-err));
		start_discovery(cl, cl->cfg.discover_min_ms);
	}
}

static bool our_nonce(struct cluster *cl, const uint8_t *nonce)
{
	for (int i = 0; i < HOST_NONCES; i++)
		if (!memcmp(cl->nonces[i], nonce, CLUSTER_NONCE_LEN))
			return true;
	return false;
}

static void handle_answer(struct cluster *cl, const uint8_t *buf, size_t len,
			  const struct sockaddr_storage *src, socklen_t sl)
{
	struct cluster_answer a;
	const char *why = "";
	char addr[80], fp[72];
	bool verified;
	int ret;

	cluster_sockaddr_str((struct sockaddr *)src, addr, sizeof(addr));
	ret = cluster_answer_decode(&a, buf, len, &why);
	if (ret) {
		if (ret == -EMSGSIZE)
			cl->n.oversized++;
		else if (ret == -EPROTONOSUPPORT)
			cl->n.bad_version++;
		else
			cl->n.garbage++;
		cluster_log(LOG_DEBUG, "dropped datagram from %s: %s", addr, why);
		return;
	}
	if (memcmp(a.host_id, cl->hs.host_id, CLUSTER_ID_LEN) ||
	    !our_nonce(cl, a.nonce)) {
		cl->n.stale++;
		cluster_log(LOG_DEBUG, "dropped answer from %s: not for a recent round", addr);
		return;
	}
	if (cl->phase != HOST_DISCOVERING && cl->phase != HOST_REJECTED)
		return;	/* a second manager answering the same round */
	/* One answer per round: a replay of it finds the nonce gone. */
	for (int i = 0; i < HOST_NONCES; i++)
		if (!memcmp(cl->nonces[i], a.nonce, CLUSTER_NONCE_LEN))
			memset(cl->nonces[i], 0, CLUSTER_NONCE_LEN);
	cluster_fp_format(a.fingerprint, fp);

	if (cl->hs.joined && !memcmp(a.cluster_id, cl->hs.cluster_id, CLUSTER_ID_LEN)) {
		/*
		 * Rejoin, whatever the status says: TLS checks the key we
		 * pinned when we joined, so only the real manager can tell
		 * us that we are no longer a member.
		 */
		if (memcmp(a.fingerprint, cl->hs.fp, CLUSTER_FP_LEN)) {
			cl->n.pin_mismatch++;
			cluster_log(LOG_WARNING, "ignoring %s: claims our cluster with key %s",
				    addr, fp);
			return;
		}
		connect_manager(cl, &a, src, sl);
		return;
	}
	if (!*cl->token_id) {
		cl->n.unverified++;
		return;
	}
	if (cl->cfg.has_ca_hash &&
	    memcmp(a.fingerprint, cl->cfg.ca_hash, CLUSTER_FP_LEN)) {
		cl->n.pin_mismatch++;
		cluster_log(LOG_WARNING, "ignoring manager %s at %s: key %s is not ca_cert_hash",
			    a.manager, addr, fp);
		return;
	}
	verified = cluster_answer_verify(&a, buf, cl->token_secret,
					 CLUSTER_TOKEN_SECRET_LEN);
	if (!verified) {
		/*
		 * Anyone can claim anything: without the proof it is noise.
		 * Logged at the 1st, 2nd, 4th, 8th... so a flood cannot
		 * flood the journal.
		 */
		cl->n.unverified++;
		if (!(cl->n.unverified & (cl->n.unverified - 1)))
			cluster_log(LOG_NOTICE,
				    "ignoring unverified answer from %s (\"%s\", %s%s%s): no valid proof for token %s (%llu so far)",
				    addr, a.manager, cluster_status_name(a.status),
				    *a.reason ? ": " : "", a.reason, cl->token_id,
				    (unsigned long long)cl->n.unverified);
		return;
	}
	if (a.status != CLUSTER_ST_ADMIT) {
		set_error(cl, LOG_ERR, "manager %s at %s refused this host: %s",
			  a.manager, addr, *a.reason ? a.reason :
			  cluster_status_name(a.status));
		if (a.status == CLUSTER_ST_POLICY)
			cl->n.rejected_policy++;
		else
			cl->n.rejected_token++;
		cl->phase = HOST_REJECTED;
		arm(cl, cl->cfg.retry_ms);
		return;
	}
	connect_manager(cl, &a, src, sl);
}

static int on_udp(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct cluster *cl = data;

	for (int i = 0; i < 64; i++) {
		uint8_t buf[CLUSTER_WIRE_MAX + 1];
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		ssize_t n;

		n = recvfrom(fd, buf, sizeof(buf), MSG_TRUNC,
			     (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		cl->n.rx++;
		handle_answer(cl, buf, n, &ss, sl);
	}
	return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *data)
{
	struct cluster *cl = data;
	struct json_object *o;
	uint64_t now = cluster_now_usec(cl);

	switch (cl->phase) {
	case HOST_REJECTED:
		cl->backoff_ms = cl->cfg.discover_min_ms;
		cl->phase = HOST_DISCOVERING;
		/* fall through */
	case HOST_DISCOVERING:
		discover(cl);
		break;
	case HOST_JOINED:
		if (now - cl->last_ack_usec > cl->cfg.down_ms * 1000ULL) {
			cluster_conn_close(cl->conn, "manager stopped answering heartbeats");
			break;
		}
		o = json_object_new_object();
		json_object_object_add(o, "op", json_object_new_string("heartbeat"));
		json_object_object_add(o, "generation", json_object_new_int64(cl->generation));
		cluster_conn_send(cl->conn, o);
		json_object_put(o);
		arm(cl, cl->cfg.heartbeat_ms);
		break;
	default:
		break;
	}
	return 0;
}

static void restore_manager_addr(struct cluster *cl)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&cl->conn_addr;

	memset(&cl->conn_addr, 0, sizeof(cl->conn_addr));
	if (inet_pton(AF_INET, cl->hs.manager, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(cl->hs.manager_port);
	}
}

int cluster_host_start(struct cluster *cl, char *err, size_t err_len)
{
	char cn[96], secret_buf[20];
	int ret;

	cl->started_usec = cluster_now_usec(cl);
	ret = cluster_host_load(&cl->hs, cl->dirfd, err, err_len);
	if (ret)
		return ret;
	snprintf(cn, sizeof(cn), "hvx-host %s", cl->cfg.name);
	ret = cluster_ident_load(&cl->ident, cl->dirfd, "host", cn, err, err_len);
	if (ret)
		return ret;
	cl->tls = cluster_tls_ctx(&cl->ident, false, err, err_len);
	if (!cl->tls)
		return -EIO;
	if (*cl->cfg.token) {
		cluster_token_parse(cl->cfg.token, cl->token_id, secret_buf);
		memcpy(cl->token_secret, secret_buf, sizeof(cl->token_secret));
		OPENSSL_cleanse(secret_buf, sizeof(secret_buf));
	}
	ret = cluster_facts_gather(&cl->facts, cl->cfg.labels, "/proc", "/sys");
	if (ret) {
		snprintf(err, err_len, "labels: expected \"key=value ...\"");
		return ret;
	}
	if (cl->cfg.ipv4) {
		cl->udp4 = cluster_udp_open(cl, AF_INET, 0, false, err, err_len);
		if (cl->udp4 < 0)
			return cl->udp4;
	}
	if (cl->cfg.ipv6) {
		cl->udp6 = cluster_udp_open(cl, AF_INET6, 0, false, err, err_len);
		if (cl->udp6 < 0)
			return cl->udp6;
	}
	if ((cl->udp4 >= 0 &&
	     sd_event_add_io(cl->event, &cl->udp4_src, cl->udp4, EPOLLIN, on_udp, cl) < 0) ||
	    (cl->udp6 >= 0 &&
	     sd_event_add_io(cl->event, &cl->udp6_src, cl->udp6, EPOLLIN, on_udp, cl) < 0) ||
	    sd_event_add_time(cl->event, &cl->timer, CLOCK_MONOTONIC, 0,
			      CLUSTER_TIMER_ACCURACY, on_timer, cl) < 0) {
		snprintf(err, err_len, "event sources: out of memory");
		return -ENOMEM;
	}
	if (cl->hs.joined)
		restore_manager_addr(cl);
	if (!cl->hs.joined && !*cl->token_id) {
		cl->phase = HOST_IDLE;
		sd_event_source_set_enabled(cl->timer, SD_EVENT_OFF);
		set_error(cl, LOG_NOTICE, "no token configured and not a member: not joining");
		return 0;
	}
	start_discovery(cl, 0);
	return 0;
}

void cluster_host_stop(struct cluster *cl)
{
	cl->phase = HOST_IDLE;
	if (cl->conn)
		cluster_conn_close(cl->conn, "host stopping");
	json_object_put(cl->members);
	OPENSSL_cleanse(cl->token_secret, sizeof(cl->token_secret));
}

void cluster_host_status(struct cluster *cl, struct json_object *o)
{
	char buf[72];

	json_object_object_add(o, "state", json_object_new_string(phase_names[cl->phase]));
	json_object_object_add(o, "token", json_object_new_string(cl->token_id));
	if (cl->hs.joined) {
		cluster_hex(cl->hs.cluster_id, CLUSTER_ID_LEN, buf);
		json_object_object_add(o, "cluster_id", json_object_new_string(buf));
		cluster_fp_format(cl->hs.fp, buf);
		json_object_object_add(o, "manager_fingerprint", json_object_new_string(buf));
		json_object_object_add(o, "manager", json_object_new_string(cl->hs.manager));
	}
	if (cl->phase == HOST_JOINED)
		json_object_object_add(o, "joined_ms", json_object_new_int64(
			(cl->joined_usec - cl->started_usec) / 1000));
}
