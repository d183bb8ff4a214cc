// SPDX-License-Identifier: GPL-2.0
/*
 * Where a manager keeps members and tokens: the embedded store (a file under
 * the state directory) or etcd, shared by several managers. The manager
 * works on a cache (cl->st) either way; a change is acknowledged only once
 * the store has it. With etcd the managers also share one identity (key,
 * certificate, cluster id), created by whichever starts first in a
 * create-if-absent transaction, so that hosts pin one key for the cluster.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <openssl/crypto.h>

#include "cluster_etcd.h"
#include "cluster_internal.h"

struct op {
	struct cluster *cl;
	cluster_store_done done;
	void *ctx;
	bool is_token;
	union {
		struct cluster_member m;
		struct cluster_token t;
	};
};

static void apply_member(struct cluster *cl, const struct cluster_member *m)
{
	struct cluster_member *old = cluster_state_member(&cl->st, m->host_id);

	if (old) {
		*old = *m;
		cl->st.generation++;
	} else {
		cluster_state_add(&cl->st, m);
	}
}

static void apply_token(struct cluster *cl, const struct cluster_token *t)
{
	struct cluster_token *old = cluster_tokens_find(&cl->st.tokens, t->id);

	if (old)
		*old = *t;
	else
		cluster_tokens_add(&cl->st.tokens, t);
}

static int save_file(struct cluster *cl, char *msg, size_t len)
{
	int ret = cluster_state_save(&cl->st, cl->dirfd);

	if (ret)
		snprintf(msg, len, "saving %s: %s", CLUSTER_STATE_FILE, strerror(-ret));
	return ret;
}

static void key_of(struct cluster *cl, char *key, size_t len, const char *kind,
		   const char *name)
{
	snprintf(key, len, "%s%s/%s", cl->cfg.etcd_prefix, kind, name);
}

static void op_done(void *data, int err, struct json_object *resp,
		    const char *errmsg)
{
	struct op *op = data;
	struct cluster *cl = op->cl;

	if (!err) {
		if (op->is_token)
			apply_token(cl, &op->t);
		else
			apply_member(cl, &op->m);
	} else {
		cluster_log(LOG_ERR, "%s", errmsg);
	}
	if (op->done)
		op->done(cl, op->ctx, err, errmsg);
	OPENSSL_cleanse(op, sizeof(*op));
	free(op);
}

static void put(struct cluster *cl, struct op *op)
{
	struct json_object *val, *body;
	char key[256], hid[33];
	int ret;

	if (op->is_token) {
		key_of(cl, key, sizeof(key), "tokens", op->t.id);
		val = cluster_token_to_json(&op->t, 0, 1);
	} else {
		cluster_hex(op->m.host_id, CLUSTER_ID_LEN, hid);
		key_of(cl, key, sizeof(key), "members", hid);
		val = cluster_member_to_json(&op->m);
	}
	body = cluster_etcd_put(key, json_object_to_json_string_ext(val,
				JSON_C_TO_STRING_PLAIN));
	json_object_put(val);
	ret = cluster_etcd_call(cl->etcd, "/v3/kv/put", body, op_done, op);
	json_object_put(body);
	if (ret)
		op_done(op, ret, NULL, "etcd: cannot send the request");
}

void cluster_store_member(struct cluster *cl, const struct cluster_member *m,
			  cluster_store_done done, void *ctx)
{
	struct cluster_member *old, saved;
	char msg[256];
	struct op *op;
	int ret;

	if (!cl->etcd) {
		old = cluster_state_member(&cl->st, m->host_id);
		if (old)
			saved = *old;
		apply_member(cl, m);
		ret = save_file(cl, msg, sizeof(msg));
		if (ret) {
			/* The cache never runs ahead of the disk. */
			if (old)
				*cluster_state_member(&cl->st, m->host_id) = saved;
			else
				cluster_state_remove(&cl->st,
						     cluster_state_member(&cl->st, m->host_id));
			cluster_log(LOG_ERR, "%s", msg);
		}
		if (done)
			done(cl, ctx, ret, msg);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		if (done)
			done(cl, ctx, -ENOMEM, "out of memory");
		return;
	}
	*op = (struct op){ .cl = cl, .done = done, .ctx = ctx, .m = *m };
	put(cl, op);
}

void cluster_store_token(struct cluster *cl, const struct cluster_token *t,
			 cluster_store_done done, void *ctx)
{
	struct cluster_token *old, saved;
	char msg[256];
	struct op *op;
	int ret;

	if (!cl->etcd) {
		old = cluster_tokens_find(&cl->st.tokens, t->id);
		if (old)
			saved = *old;
		apply_token(cl, t);
		ret = save_file(cl, msg, sizeof(msg));
		if (ret) {
			if (old)
				*cluster_tokens_find(&cl->st.tokens, t->id) = saved;
			else
				cl->st.tokens.n--;	/* added last */
			cluster_log(LOG_ERR, "%s", msg);
		}
		if (done)
			done(cl, ctx, ret, msg);
		return;
	}
	op = calloc(1, sizeof(*op));
	if (!op) {
		if (done)
			done(cl, ctx, -ENOMEM, "out of memory");
		return;
	}
	*op = (struct op){ .cl = cl, .done = done, .ctx = ctx, .is_token = true, .t = *t };
	put(cl, op);
}

static void deleted(void *data, int err, struct json_object *resp,
		    const char *errmsg)
{
	if (err)
		cluster_log(LOG_ERR, "removing a member: %s", errmsg);
}

void cluster_store_remove(struct cluster *cl, struct cluster_member *m)
{
	struct json_object *body;
	char key[256], hid[33], msg[256];

	cluster_hex(m->host_id, CLUSTER_ID_LEN, hid);
	cluster_state_remove(&cl->st, m);
	if (!cl->etcd) {
		if (save_file(cl, msg, sizeof(msg)))
			cluster_log(LOG_ERR, "%s", msg);
		return;
	}
	key_of(cl, key, sizeof(key), "members", hid);
	body = cluster_etcd_delete(key);
	if (cluster_etcd_call(cl->etcd, "/v3/kv/deleterange", body, deleted, cl))
		cluster_log(LOG_ERR, "removing member %s: cannot reach etcd", hid);
	json_object_put(body);
}

/* etcd: the shared picture, refreshed every heartbeat interval. */

static bool manager_alive(struct cluster *cl, const char *name)
{
	int64_t now_ms = cluster_wall() * 1000;

	if (!strcmp(name, cl->cfg.name))
		return true;
	for (size_t i = 0; i < cl->n_managers; i++)
		if (!strcmp(cl->managers_seen[i].name, name))
			return now_ms - cl->managers_seen[i].updated_ms <=
			       (int64_t)cl->cfg.down_ms;
	return false;
}

bool cluster_store_mine(struct cluster *cl, const struct cluster_member *m)
{
	/* Members of a manager that stopped reporting are everyone's. */
	return !cl->etcd || manager_alive(cl, m->manager);
}

static void merge(struct cluster *cl, struct json_object *resp)
{
	struct json_object *kvs, *hdr, *rev;
	struct cluster_state fresh = { 0 };
	uint64_t now = cluster_now_usec(cl);
	size_t plen = strlen(cl->cfg.etcd_prefix), n;

	if (!json_object_object_get_ex(resp, "kvs", &kvs))
		kvs = NULL;
	n = kvs ? json_object_array_length(kvs) : 0;
	cl->n_managers = 0;
	for (size_t i = 0; i < n; i++) {
		struct json_object *o;
		char *key, *val = cluster_etcd_kv(kvs, i, &key);
		const char *k;

		if (!val)
			continue;
		k = key + plen;
		o = json_tokener_parse(val);
		if (!strncmp(k, "members/", 8) && o) {
			struct cluster_member m, *old;

			if (!cluster_member_from_json(&m, o)) {
				old = cluster_state_member(&cl->st, m.host_id);
				/* Keep our own view of when we last heard it. */
				m.seen_usec = old ? old->seen_usec : now;
				cluster_state_add(&fresh, &m);
			}
		} else if (!strncmp(k, "tokens/", 7) && o) {
			struct cluster_token t;

			if (!cluster_token_from_json(&t, o))
				cluster_tokens_add(&fresh.tokens, &t);
			OPENSSL_cleanse(&t, sizeof(t));
		} else if (!strncmp(k, "managers/", 9) && o &&
			   cl->n_managers < CLUSTER_MANAGERS_MAX) {
			struct json_object *u;

			snprintf(cl->managers_seen[cl->n_managers].name,
				 CLUSTER_NAME_MAX, "%s", k + 9);
			cl->managers_seen[cl->n_managers++].updated_ms =
				json_object_object_get_ex(o, "updated_ms", &u) ?
				json_object_get_int64(u) : 0;
		}
		json_object_put(o);
		free(key);
		OPENSSL_cleanse(val, strlen(val));
		free(val);
	}
	memcpy(fresh.cluster_id, cl->st.cluster_id, CLUSTER_ID_LEN);
	/* etcd's revision only grows: a fine membership generation. */
	if (json_object_object_get_ex(resp, "header", &hdr) &&
	    json_object_object_get_ex(hdr, "revision", &rev))
		fresh.generation = strtoull(json_object_get_string(rev), NULL, 10);
	cluster_state_free(&cl->st);
	cl->st = fresh;
}

static void refreshed(void *data, int err, struct json_object *resp,
		      const char *errmsg)
{
	struct cluster *cl = data;

	cl->refreshing = false;
	if (err) {
		snprintf(cl->last_error, sizeof(cl->last_error), "%s", errmsg);
		cluster_log(LOG_WARNING, "refreshing from etcd: %s", errmsg);
		return;
	}
	merge(cl, resp);
}

static void alive_put(void *data, int err, struct json_object *resp,
		      const char *errmsg)
{
	if (err)
		cluster_log(LOG_WARNING, "etcd: %s", errmsg);
}

void cluster_store_tick(struct cluster *cl)
{
	struct json_object *body;
	char key[256], val[64];

	if (!cl->etcd || !cl->ready)
		return;
	key_of(cl, key, sizeof(key), "managers", cl->cfg.name);
	snprintf(val, sizeof(val), "{\"updated_ms\":%lld}",
		 (long long)cluster_wall() * 1000);
	body = cluster_etcd_put(key, val);
	cluster_etcd_call(cl->etcd, "/v3/kv/put", body, alive_put, cl);
	json_object_put(body);
	if (cl->refreshing)
		return;
	body = cluster_etcd_range_prefix(cl->cfg.etcd_prefix);
	if (!cluster_etcd_call(cl->etcd, "/v3/kv/range", body, refreshed, cl))
		cl->refreshing = true;
	json_object_put(body);
}

/* Startup with etcd: agree on the identity, load, then serve. */

static void bootstrap(struct cluster *cl);
static void wait_etcd(struct cluster *cl, const char *errmsg);

static int retry_bootstrap(sd_event_source *s, uint64_t usec, void *data)
{
	bootstrap(data);
	return 0;
}

static void wait_etcd(struct cluster *cl, const char *errmsg)
{
	snprintf(cl->last_error, sizeof(cl->last_error), "%s", errmsg);
	cluster_log(LOG_WARNING, "waiting for etcd: %s", errmsg);
	sd_event_source_set_time_relative(cl->retry, cl->cfg.retry_ms * 1000ULL);
	sd_event_source_set_enabled(cl->retry, SD_EVENT_ONESHOT);
}

static void loaded(void *data, int err, struct json_object *resp,
		   const char *errmsg)
{
	struct cluster *cl = data;

	if (err) {
		wait_etcd(cl, errmsg);
		return;
	}
	merge(cl, resp);
	cl->ready = true;
	cl->ready_fn(cl);
}

static int take_identity(struct cluster *cl, const char *json, char *err,
			 size_t len)
{
	struct json_object *o = json_tokener_parse(json), *k, *c, *id;
	struct cluster_ident ident;
	int ret = -EINVAL;

	if (o && json_object_object_get_ex(o, "key", &k) &&
	    json_object_object_get_ex(o, "cert", &c) &&
	    json_object_object_get_ex(o, "cluster_id", &id) &&
	    !cluster_unhex(json_object_get_string(id), cl->st.cluster_id,
			   CLUSTER_ID_LEN)) {
		ret = cluster_ident_from_pem(&ident, json_object_get_string(k),
					     json_object_get_string(c), err, len);
		if (!ret) {
			cluster_ident_free(&cl->ident);
			cl->ident = ident;
		}
	} else {
		snprintf(err, len, "etcd: %sidentity is malformed", cl->cfg.etcd_prefix);
	}
	json_object_put(o);
	return ret;
}

static void identity_done(void *data, int err, struct json_object *resp,
			  const char *errmsg)
{
	struct cluster *cl = data;
	struct json_object *ok, *rs, *r0, *rr, *kvs, *body;
	char msg[256], *key, *val;

	if (err) {
		wait_etcd(cl, errmsg);
		return;
	}
	/* Lost the race (or not first): adopt the identity that is there. */
	if (!json_object_object_get_ex(resp, "succeeded", &ok) ||
	    !json_object_get_boolean(ok)) {
		if (!json_object_object_get_ex(resp, "responses", &rs) ||
		    !(r0 = json_object_array_get_idx(rs, 0)) ||
		    !json_object_object_get_ex(r0, "response_range", &rr) ||
		    !json_object_object_get_ex(rr, "kvs", &kvs) ||
		    !(val = cluster_etcd_kv(kvs, 0, &key))) {
			wait_etcd(cl, "etcd: unexpected transaction reply");
			return;
		}
		err = take_identity(cl, val, msg, sizeof(msg));
		OPENSSL_cleanse(val, strlen(val));
		free(val);
		free(key);
		if (err) {
			wait_etcd(cl, msg);
			return;
		}
	}
	body = cluster_etcd_range_prefix(cl->cfg.etcd_prefix);
	if (cluster_etcd_call(cl->etcd, "/v3/kv/range", body, loaded, cl))
		wait_etcd(cl, "etcd: cannot send the request");
	json_object_put(body);
}

static void bootstrap(struct cluster *cl)
{
	struct json_object *o = json_object_new_object(), *body;
	char *kpem, *cpem, key[256], cid[33];

	if (cluster_ident_to_pem(&cl->ident, &kpem, &cpem)) {
		json_object_put(o);
		wait_etcd(cl, "out of memory");
		return;
	}
	cluster_hex(cl->st.cluster_id, CLUSTER_ID_LEN, cid);
	json_object_object_add(o, "cluster_id", json_object_new_string(cid));
	json_object_object_add(o, "key", json_object_new_string(kpem));
	json_object_object_add(o, "cert", json_object_new_string(cpem));
	OPENSSL_cleanse(kpem, strlen(kpem));
	free(kpem);
	free(cpem);
	snprintf(key, sizeof(key), "%sidentity", cl->cfg.etcd_prefix);
	body = cluster_etcd_create(key, json_object_to_json_string(o));
	json_object_put(o);
	if (cluster_etcd_call(cl->etcd, "/v3/kv/txn", body, identity_done, cl))
		wait_etcd(cl, "etcd: cannot send the request");
	json_object_put(body);
}

int cluster_store_open(struct cluster *cl, cluster_ready_fn ready, char *err,
		       size_t err_len)
{
	char cn[96];
	int ret;

	cl->ready_fn = ready;
	if (cl->cfg.store != CLUSTER_STORE_ETCD) {
		ret = cluster_state_load(&cl->st, cl->dirfd, err, err_len);
		if (!ret) {
			snprintf(cn, sizeof(cn), "hvx-manager %s", cl->cfg.name);
			ret = cluster_ident_load(&cl->ident, cl->dirfd, "manager", cn,
						 err, err_len);
		}
		/* The caller serves at once: no callback. */
		cl->ready = !ret;
		return ret;
	}
	/* Our candidate identity, used only if no manager made one before. */
	snprintf(cn, sizeof(cn), "hvx-cluster %s", cl->cfg.etcd_prefix);
	ret = cluster_ident_create(&cl->ident, cn, err, err_len);
	if (!ret)
		ret = cluster_random(cl->st.cluster_id, CLUSTER_ID_LEN);
	if (!ret)
		ret = cluster_etcd_new(&cl->etcd, cl->event, cl->cfg.etcd_endpoints,
				       err, err_len);
	if (ret)
		return ret;
	if (sd_event_add_time_relative(cl->event, &cl->retry, CLOCK_MONOTONIC, 0,
				       CLUSTER_TIMER_ACCURACY, retry_bootstrap, cl) < 0) {
		snprintf(err, err_len, "event sources: out of memory");
		return -ENOMEM;
	}
	sd_event_source_set_enabled(cl->retry, SD_EVENT_OFF);
	bootstrap(cl);
	return 0;
}

void cluster_store_close(struct cluster *cl)
{
	cluster_etcd_free(cl->etcd);
	cl->etcd = NULL;
	sd_event_source_disable_unref(cl->retry);
	cl->retry = NULL;
}
