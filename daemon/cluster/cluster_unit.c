// SPDX-License-Identifier: GPL-2.0
/*
 * hvxd unit "cluster": section [cluster] of hvxd.conf, methods
 * cluster.status, cluster.members, cluster.token_create/list/revoke.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cluster.h"
#include "cluster_crypto.h"
#include "hvxd.h"

struct unit_conf {
	bool enabled;
	unsigned int role;
	char name[CLUSTER_NAME_MAX];
	char state_dir[200];
	uint64_t port, tls_port;
	char bind[64], interfaces[256], managers[256];
	bool ipv4, ipv6;
	char token[CLUSTER_TOKEN_ID_LEN + CLUSTER_TOKEN_SECRET_LEN + 2];
	char ca_cert_hash[72];
	char labels[CLUSTER_LABELS_MAX];
	uint64_t min_memory_mb;
	char cpu_model[CLUSTER_CPU_MAX], features[CLUSTER_FEATURES_MAX];
	char policy_labels[CLUSTER_LABELS_MAX], modules[CLUSTER_MODULES_MAX];
	unsigned int store;
	char etcd_endpoints[256], etcd_prefix[64];
	uint64_t heartbeat, down_after, remove_after;
	uint64_t discover_min, discover_max, retry;
};

static const char *const roles[] = { "none", "manager", "host", NULL };
static const char *const stores[] = { "embedded", "etcd", NULL };

static int parse_token(const char *v, void *dst, char *err, size_t len)
{
	char id[8], secret[20];

	if (*v && cluster_token_parse(v, id, secret)) {
		snprintf(err, len, "expected a token like abcdef.0123456789abcdef ([a-z0-9]{6}.[a-z0-9]{16})");
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int parse_hash(const char *v, void *dst, char *err, size_t len)
{
	uint8_t fp[CLUSTER_FP_LEN];

	if (*v && cluster_fp_parse(v, fp)) {
		snprintf(err, len, "expected sha256:<64 hex digits>");
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

static int parse_labels(const char *v, void *dst, char *err, size_t len)
{
	if (strlen(v) >= CLUSTER_LABELS_MAX || cluster_labels_valid(v)) {
		snprintf(err, len, "expected \"key=value key=value\" (at most %d characters)",
			 CLUSTER_LABELS_MAX - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

#define O(f) .offset = offsetof(struct unit_conf, f)
#define S(f) O(f), .size = sizeof(((struct unit_conf *)0)->f)
#define MS(ms) ((ms) * 1000ULL)

static const struct hvx_conf_key keys[] = {
	{ "enabled", HVX_CONF_BOOL, O(enabled), .def = "yes" },
	{ "role", HVX_CONF_ENUM, O(role), .def = "none", .choices = roles },
	{ "name", HVX_CONF_STR, S(name) },
	{ "state_dir", HVX_CONF_STR, S(state_dir), .def = "/var/lib/hvx/cluster" },
	{ "port", HVX_CONF_UINT, O(port), .def = "7470", .max = 65535 },
	{ "tls_port", HVX_CONF_UINT, O(tls_port), .def = "7471", .max = 65535 },
	{ "bind", HVX_CONF_STR, S(bind) },
	{ "interfaces", HVX_CONF_STR, S(interfaces) },
	{ "managers", HVX_CONF_STR, S(managers) },
	{ "ipv4", HVX_CONF_BOOL, O(ipv4), .def = "yes" },
	{ "ipv6", HVX_CONF_BOOL, O(ipv6), .def = "yes" },
	{ "token", HVX_CONF_CUSTOM, S(token), .parse = parse_token },
	{ "ca_cert_hash", HVX_CONF_CUSTOM, S(ca_cert_hash), .parse = parse_hash },
	{ "labels", HVX_CONF_CUSTOM, S(labels), .parse = parse_labels },
	{ "policy_min_memory_mb", HVX_CONF_UINT, O(min_memory_mb), .max = UINT64_MAX },
	{ "policy_cpu_model", HVX_CONF_STR, S(cpu_model) },
	{ "policy_features", HVX_CONF_STR, S(features) },
	{ "policy_labels", HVX_CONF_CUSTOM, S(policy_labels), .parse = parse_labels },
	{ "policy_modules", HVX_CONF_STR, S(modules) },
	{ "store", HVX_CONF_ENUM, O(store), .def = "embedded", .choices = stores },
	{ "etcd_endpoints", HVX_CONF_STR, S(etcd_endpoints) },
	{ "etcd_prefix", HVX_CONF_STR, S(etcd_prefix), .def = "/hvx/cluster/" },
	{ "heartbeat_interval", HVX_CONF_DURATION, O(heartbeat), .def = "1s",
	  .min = MS(10), .max = MS(60000) },
	{ "down_after", HVX_CONF_DURATION, O(down_after), .def = "5s",
	  .min = MS(20), .max = MS(3600000) },
	{ "remove_after", HVX_CONF_DURATION, O(remove_after), .def = "1h",
	  .min = MS(20), .max = MS(30ULL * 86400000) },
	{ "discover_min", HVX_CONF_DURATION, O(discover_min), .def = "100ms",
	  .min = MS(1), .max = MS(60000) },
	{ "discover_max", HVX_CONF_DURATION, O(discover_max), .def = "2s",
	  .min = MS(1), .max = MS(600000) },
	{ "retry_interval", HVX_CONF_DURATION, O(retry), .def = "10s",
	  .min = MS(10), .max = MS(3600000) },
	{ NULL }
};

static void log_hvxd(int prio, const char *msg)
{
	hvxd_log(prio, "cluster", "%s", msg);
}

static int to_config(const struct unit_conf *u, struct cluster_config *c,
		     char *err, size_t len)
{
	cluster_config_init(c);
	c->role = u->role;
	if (*u->name)
		strcpy(c->name, u->name);
	c->port = u->port;
	c->tls_port = u->tls_port;
	strcpy(c->bind, u->bind);
	strcpy(c->interfaces, u->interfaces);
	strcpy(c->managers, u->managers);
	c->ipv4 = u->ipv4;
	c->ipv6 = u->ipv6;
	strcpy(c->token, u->token);
	if (*u->ca_cert_hash) {
		cluster_fp_parse(u->ca_cert_hash, c->ca_hash);
		c->has_ca_hash = true;
	}
	strcpy(c->labels, u->labels);
	c->policy.min_memory_mb = u->min_memory_mb;
	strcpy(c->policy.cpu_model, u->cpu_model);
	strcpy(c->policy.features, u->features);
	strcpy(c->policy.labels, u->policy_labels);
	strcpy(c->policy.modules, u->modules);
	c->store = u->store;
	strcpy(c->etcd_endpoints, u->etcd_endpoints);
	strcpy(c->etcd_prefix, u->etcd_prefix);
	c->heartbeat_ms = u->heartbeat / 1000;
	c->down_ms = u->down_after / 1000;
	c->remove_ms = u->remove_after / 1000;
	c->discover_min_ms = u->discover_min / 1000;
	c->discover_max_ms = u->discover_max / 1000;
	c->retry_ms = u->retry / 1000;
	return cluster_config_check(c, err, len);
}

/* mkdir -p, private: the state holds keys and token secrets. */
static int make_dir(const char *path)
{
	char buf[256], *p;

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int unit_init(struct hvxd *d, const void *conf, void **priv)
{
	const struct unit_conf *u = conf;
	struct cluster_config cfg;
	struct cluster *cl;
	char err[512];
	int ret;

	cluster_set_log(log_hvxd);
	ret = to_config(u, &cfg, err, sizeof(err));
	if (ret) {
		hvxd_log(LOG_ERR, "cluster", "[cluster] %s", err);
		return ret;
	}
	if (cfg.role != CLUSTER_ROLE_NONE) {
		ret = make_dir(u->state_dir);
		if (ret) {
			hvxd_log(LOG_ERR, "cluster", "state_dir %s: %s", u->state_dir,
				 strerror(-ret));
			return ret;
		}
	}
	ret = cluster_new(&cl, hvxd_event(d), &cfg,
			  cfg.role != CLUSTER_ROLE_NONE ? u->state_dir : "/", err,
			  sizeof(err));
	if (ret) {
		hvxd_log(LOG_ERR, "cluster", "%s", err);
		return ret;
	}
	*priv = cl;
	return 0;
}

static void unit_fini(struct hvxd *d, void *priv)
{
	cluster_free(priv);
	cluster_set_log(NULL);
}

static void keep(void *ctx, int err, struct json_object *reply, const char *msg)
{
	*(struct json_object **)ctx = err ? NULL : json_object_get(reply);
}

static int unit_status(void *priv, struct json_object *o)
{
	struct json_object *st;

	cluster_call(priv, "status", NULL, keep, &st);
	if (!st)
		return 0;
	/* "state" is hvxd's own field of the unit entry. */
	json_object_object_foreach(st, k, v) {
		if (!strcmp(k, "role"))
			json_object_object_add(o, "role", json_object_get(v));
		else if (!strcmp(k, "state"))
			json_object_object_add(o, "cluster_state", json_object_get(v));
	}
	json_object_put(st);
	return 0;
}

static void answer(void *ctx, int err, struct json_object *reply, const char *msg)
{
	if (err)
		hvxd_call_fail(ctx, -err, "%s", msg);
	else
		hvxd_call_reply(ctx, json_object_get(reply));
}

/* The answer may come later, when the store (etcd) has replied. */
static int forward(struct hvxd_call *call, const char *method,
		   struct json_object *params, void *priv)
{
	cluster_call(priv, method, params, answer, call);
	return 0;
}

#define METHOD(m) \
	static int m_##m(struct hvxd_call *call, struct json_object *params, \
			 void *priv) \
	{ \
		return forward(call, #m, params, priv); \
	}
METHOD(status)
METHOD(members)
METHOD(token_create)
METHOD(token_list)
METHOD(token_revoke)

static const struct hvxd_method methods[] = {
	{ "status", m_status, 0 },
	{ "members", m_members, 0 },
	{ "token_create", m_token_create, HVXD_METHOD_PRIV },
	{ "token_list", m_token_list, HVXD_METHOD_PRIV },
	{ "token_revoke", m_token_revoke, HVXD_METHOD_PRIV },
	{ NULL }
};

const struct hvxd_unit hvxd_cluster_unit = {
	.name = "cluster",
	.conf = keys,
	.conf_size = sizeof(struct unit_conf),
	.init = unit_init,
	.fini = unit_fini,
	.status = unit_status,
	.methods = methods,
};
