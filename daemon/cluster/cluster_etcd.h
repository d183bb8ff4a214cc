/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal etcd v3 client over the JSON gateway (/v3/kv/...) with libcurl's
 * multi interface on sd-event: every request is asynchronous. Debian has no
 * C etcd client; the gateway is etcd's supported HTTP/JSON front end.
 */
#ifndef HVX_CLUSTER_ETCD_H
#define HVX_CLUSTER_ETCD_H

#include <stddef.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#define CLUSTER_ETCD_TIMEOUT_MS	3000

struct cluster_etcd;

/* err: 0 or -errno; resp: the parsed reply (borrowed), NULL on error. */
typedef void (*cluster_etcd_cb)(void *data, int err, struct json_object *resp,
				const char *errmsg);

/* endpoints: "http://127.0.0.1:2379 http://127.0.0.1:22379"; tried in turn. */
int cluster_etcd_new(struct cluster_etcd **out, sd_event *e,
		     const char *endpoints, char *err, size_t err_len);
void cluster_etcd_free(struct cluster_etcd *etcd);

/* POST body (not consumed) to <endpoint><path>, e.g. "/v3/kv/range". */
int cluster_etcd_call(struct cluster_etcd *etcd, const char *path,
		      struct json_object *body, cluster_etcd_cb cb, void *data);

/* Request bodies: keys and values are base64 in the gateway's JSON. */
struct json_object *cluster_etcd_put(const char *key, const char *value);
struct json_object *cluster_etcd_range_prefix(const char *prefix);
struct json_object *cluster_etcd_delete(const char *key);
/* Put key only if it does not exist yet; else the txn returns it. */
struct json_object *cluster_etcd_create(const char *key, const char *value);

/* Decoded value of kvs[i] of a range response (malloc'd), key in *key. */
char *cluster_etcd_kv(struct json_object *kvs, size_t i, char **key);

#endif
