// SPDX-License-Identifier: GPL-2.0
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cluster_internal.h"

static void log_stderr(int prio, const char *msg)
{
	/* A syslog prefix: journald files it at that level. */
	fprintf(stderr, "<%d>cluster: %s\n", prio, msg);
}

static void (*log_fn)(int prio, const char *msg) = log_stderr;

void cluster_set_log(void (*fn)(int prio, const char *msg))
{
	log_fn = fn ? fn : log_stderr;
}

void cluster_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_fn(prio, msg);
}

uint64_t cluster_now_usec(struct cluster *cl)
{
	uint64_t now;

	sd_event_now(cl->event, CLOCK_MONOTONIC, &now);
	return now;
}

int64_t cluster_wall(void)
{
	return time(NULL);
}

void cluster_config_init(struct cluster_config *c)
{
	memset(c, 0, sizeof(*c));
	c->port = CLUSTER_PORT;
	c->tls_port = CLUSTER_TLS_PORT;
	c->ipv4 = c->ipv6 = true;
	c->heartbeat_ms = 1000;
	c->down_ms = 5000;
	c->remove_ms = 3600 * 1000;
	c->discover_min_ms = 100;
	c->discover_max_ms = 2000;
	c->retry_ms = 10000;
	strcpy(c->etcd_prefix, "/hvx/cluster/");
	gethostname(c->name, sizeof(c->name) - 1);
}

static int set_str(char *dst, size_t size, const char *v)
{
	if (strlen(v) >= size)
		return -ENAMETOOLONG;
	strcpy(dst, v);
	return 0;
}

static int set_uint(unsigned int *dst, const char *v, unsigned long max)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -EINVAL;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || *end || n > max)
		return -EINVAL;
	*dst = n;
	return 0;
}

static int set_bool(bool *dst, const char *v)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*dst = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*dst = false;
	else
		return -EINVAL;
	return 0;
}

int cluster_config_set(struct cluster_config *c, const char *key,
		       const char *v, char *err, size_t err_len)
{
	char id[8], secret[20];
	unsigned int u;
	int ret = -EINVAL;

	if (!strcmp(key, "role")) {
		if (!strcmp(v, "manager"))
			c->role = CLUSTER_ROLE_MANAGER;
		else if (!strcmp(v, "host"))
			c->role = CLUSTER_ROLE_HOST;
		else if (!strcmp(v, "none"))
			c->role = CLUSTER_ROLE_NONE;
		else
			goto bad;
		return 0;
	}
	if (!strcmp(key, "store")) {
		if (!strcmp(v, "embedded"))
			c->store = CLUSTER_STORE_EMBEDDED;
		else if (!strcmp(v, "etcd"))
			c->store = CLUSTER_STORE_ETCD;
		else
			goto bad;
		return 0;
	}
	if (!strcmp(key, "etcd_endpoints"))
		ret = set_str(c->etcd_endpoints, sizeof(c->etcd_endpoints), v);
	else if (!strcmp(key, "etcd_prefix"))
		ret = set_str(c->etcd_prefix, sizeof(c->etcd_prefix), v);
	else if (!strcmp(key, "name"))
		ret = set_str(c->name, sizeof(c->name), v);
	else if (!strcmp(key, "port") || !strcmp(key, "tls_port")) {
		ret = set_uint(&u, v, 65535);
		if (!ret)
			*(!strcmp(key, "port") ? &c->port : &c->tls_port) = u;
	} else if (!strcmp(key, "bind"))
		ret = set_str(c->bind, sizeof(c->bind), v);
	else if (!strcmp(key, "interfaces"))
		ret = set_str(c->interfaces, sizeof(c->interfaces), v);
	else if (!strcmp(key, "ipv4"))
		ret = set_bool(&c->ipv4, v);
	else if (!strcmp(key, "ipv6"))
		ret = set_bool(&c->ipv6, v);
	else if (!strcmp(key, "managers"))
		ret = set_str(c->managers, sizeof(c->managers), v);
	else if (!strcmp(key, "token")) {
		ret = cluster_token_parse(v, id, secret);
		if (!ret)
			strcpy(c->token, v);
		else
			snprintf(err, err_len,
				 "token: expected [a-z0-9]{6}.[a-z0-9]{16}");
		return ret;
	} else if (!strcmp(key, "ca_cert_hash")) {
		ret = cluster_fp_parse(v, c->ca_hash);
		c->has_ca_hash = !ret;
		if (ret)
			snprintf(err, err_len, "ca_cert_hash: expected sha256:<64 hex digits>");
		return ret;
	} else if (!strcmp(key, "labels")) {
		ret = set_str(c->labels, sizeof(c->labels), v);
		if (!ret)
			ret = cluster_labels_valid(v);
	} else if (!strcmp(key, "policy_min_memory_mb")) {
		unsigned long long mb;
		char *end;

		errno = 0;
		mb = strtoull(v, &end, 10);
		if (*v >= '0' && *v <= '9' && !errno && !*end) {
			c->policy.min_memory_mb = mb;
			ret = 0;
		}
	} else if (!strcmp(key, "policy_cpu_model"))
		ret = set_str(c->policy.cpu_model, sizeof(c->policy.cpu_model), v);
	else if (!strcmp(key, "policy_features"))
		ret = set_str(c->policy.features, sizeof(c->policy.features), v);
	else if (!strcmp(key, "policy_modules"))
		ret = set_str(c->policy.modules, sizeof(c->policy.modules), v);
	else if (!strcmp(key, "policy_labels")) {
		ret = set_str(c->policy.labels, sizeof(c->policy.labels), v);
		if (!ret)
			ret = cluster_labels_valid(v);
	} else {
		static const struct {
			const char *key;
			size_t off;
		} ms[] = {
			{ "heartbeat_ms", offsetof(struct cluster_config, heartbeat_ms) },
			{ "down_ms", offsetof(struct cluster_config, down_ms) },
			{ "remove_ms", offsetof(struct cluster_config, remove_ms) },
			{ "discover_min_ms", offsetof(struct cluster_config, discover_min_ms) },
			{ "discover_max_ms", offsetof(struct cluster_config, discover_max_ms) },
			{ "retry_ms", offsetof(struct cluster_config, retry_ms) },
		};

		for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++)
			if (!strcmp(key, ms[i].key))
				return set_uint((unsigned int *)((char *)c + ms[i].off),
						v, 24U * 3600 * 1000) ?
				       (snprintf(err, err_len,
						 "%s: expected milliseconds", key),
					-EINVAL) : 0;
		snprintf(err, err_len, "unknown key %s", key);
		return -ENOENT;
	}
	if (!ret)
		return 0;
bad:
	snprintf(err, err_len, "%s: invalid value \"%s\"", key, v);
	return ret;
}

int cluster_config_check(const struct cluster_config *c, char *err,
			 size_t err_len)
{
	if (c->role == CLUSTER_ROLE_NONE)
		return 0;
	if (!c->ipv4 && !c->ipv6) {
		snprintf(err, err_len, "ipv4 and ipv6 are both off");
		return -EINVAL;
	}
	if (!c->heartbeat_ms || c->down_ms < 2 * c->heartbeat_ms ||
	    c->remove_ms < c->down_ms) {
		snprintf(err, err_len,
			 "need 0 < heartbeat_ms, 2*heartbeat_ms <= down_ms <= remove_ms");
		return -EINVAL;
	}
	if (!c->discover_min_ms || c->discover_max_ms < c->discover_min_ms) {
		snprintf(err, err_len, "need 0 < discover_min_ms <= discover_max_ms");
		return -EINVAL;
	}
	if (c->role == CLUSTER_ROLE_MANAGER && c->store == CLUSTER_STORE_ETCD &&
	    (!*c->etcd_endpoints || *c->etcd_prefix != '/' ||
	     c->etcd_prefix[strlen(c->etcd_prefix) - 1] != '/')) {
		snprintf(err, err_len,
			 "store etcd needs etcd_endpoints and an etcd_prefix like /hvx/cluster/");
		return -EINVAL;
	}
	return 0;
}

int cluster_udp_open(struct cluster *cl, int family, uint16_t port,
		     bool multicast, char *err, size_t err_len)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	int fd, one = 1;

	fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		if (setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof(one)))
			goto fail;
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		if (*cl->cfg.bind && port &&
		    inet_pton(AF_INET, cl->cfg.bind, &sin->sin_addr) != 1)
			sin->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*sin);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		if (setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)))
			goto fail;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		sin6->sin6_addr = in6addr_any;
		len = sizeof(*sin6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len))
		goto fail;
	if (family == AF_INET6 && multicast) {
		struct if_nameindex *ifs = if_nameindex(), *i;
		struct ipv6_mreq mreq;

		inet_pton(AF_INET6, CLUSTER_MCAST6, &mreq.ipv6mr_multiaddr);
		for (i = ifs; i && i->if_index; i++) {
			if (*cl->cfg.interfaces && !strstr(cl->cfg.interfaces, i->if_name))
				continue;
			mreq.ipv6mr_interface = i->if_index;
			/* Interfaces without multicast simply refuse. */
			setsockopt(fd, IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP, &mreq,
				   sizeof(mreq));
		}
		if_freenameindex(ifs);
	}
	return fd;
fail:
	snprintf(err, err_len, "UDP %s port %u: %s",
		 family == AF_INET ? "IPv4" : "IPv6", port, strerror(errno));
	if (fd >= 0)
		close(fd);
	return -errno;
}

int cluster_udp_send(struct cluster *cl, int fd, const void *buf, size_t len,
		     const struct sockaddr *sa, socklen_t sa_len)
{
	if (fd < 0)
		return -EAFNOSUPPORT;
	if (sendto(fd, buf, len, 0, sa, sa_len) < 0)
		return -errno;
	cl->n.tx++;
	return 0;
}

static bool iface_wanted(struct cluster *cl, const char *name)
{
	const char *p = cl->cfg.interfaces;
	size_t n = strlen(name);

	if (!*p)
		return true;
	while (*p) {
		size_t w;

		while (*p == ' ' || *p == ',')
			p++;
		w = strcspn(p, " ,");
		if (w == n && !strncmp(p, name, n))
			return true;
		p += w;
	}
	return false;
}

/* "10.0.0.1", "10.0.0.1:7470", "fe80::1%eth0", "[fe80::1%eth0]:7470" */
static int parse_target(const char *s, uint16_t def_port,
			struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *port = NULL;
	unsigned long p = def_port;
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	char *pct;

	if (*s == '[') {
		const char *e = strchr(s, ']');

		if (!e || e - s - 1 >= (long)sizeof(host))
			return -EINVAL;
		snprintf(host, sizeof(host), "%.*s", (int)(e - s - 1), s + 1);
		if (e[1] == ':')
			port = e + 2;
		else if (e[1])
			return -EINVAL;
	} else if (strchr(s, ':') && strchr(s, ':') == strrchr(s, ':')) {
		snprintf(host, sizeof(host), "%.*s", (int)(strchr(s, ':') - s), s);
		port = strchr(s, ':') + 1;
	} else {
		if (strlen(s) >= sizeof(host))
			return -EINVAL;
		strcpy(host, s);
	}
	if (port) {
		char *end;

		p = strtoul(port, &end, 10);
		if (*end || !p || p > 65535)
			return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(p);
		*len = sizeof(*sin);
		return 0;
	}
	pct = strchr(host, '%');
	if (pct) {
		*pct = '\0';
		sin6->sin6_scope_id = if_nametoindex(pct + 1);
		if (!sin6->sin6_scope_id)
			return -ENODEV;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(p);
	*len = sizeof(*sin6);
	return 0;
}

static void send_to(struct cluster *cl, const void *buf, size_t len,
		    const struct sockaddr *sa, socklen_t sa_len)
{
	int fd = sa->sa_family == AF_INET ? cl->udp4 : cl->udp6;
	char addr[80];
	int ret;

	ret = cluster_udp_send(cl, fd, buf, len, sa, sa_len);
	if (ret && ret != -EAFNOSUPPORT && ret != -ENETUNREACH) {
		cluster_sockaddr_str(sa, addr, sizeof(addr));
		cluster_log(LOG_DEBUG, "discovery to %s: %s", addr, strerror(-ret));
	}
}

void cluster_broadcast(struct cluster *cl, const void *buf, size_t len)
{
	struct ifaddrs *ifa, *i;
	unsigned int done6[64];
	size_t n6 = 0;
	const char *p;

	if (!getifaddrs(&ifa)) {
		for (i = ifa; i; i = i->ifa_next) {
			if (!i->ifa_addr || !(i->ifa_flags & IFF_UP) ||
			    (i->ifa_flags & IFF_LOOPBACK) ||
			    !iface_wanted(cl, i->ifa_name))
				continue;
			if (i->ifa_addr->sa_family == AF_INET && cl->udp4 >= 0 &&
			    (i->ifa_flags & IFF_BROADCAST) && i->ifa_netmask) {
				struct sockaddr_in sin = *(struct sockaddr_in *)i->ifa_addr;

				/*
				 * From address and mask: "ip addr add" without
				 * "brd +" leaves the broadcast address 0.0.0.0.
				 */
				sin.sin_addr.s_addr |=
					~((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
				sin.sin_port = htons(cl->cfg.port);
				send_to(cl, buf, len, (struct sockaddr *)&sin, sizeof(sin));
			} else if (i->ifa_addr->sa_family == AF_INET6 && cl->udp6 >= 0 &&
				   (i->ifa_flags & IFF_MULTICAST)) {
				struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
				unsigned int idx = if_nametoindex(i->ifa_name);
				size_t k;

				/* One datagram per link, not per address. */
				for (k = 0; k < n6 && done6[k] != idx; k++)
					;
				if (k < n6 || n6 == sizeof(done6) / sizeof(done6[0]))
					continue;
				done6[n6++] = idx;
				inet_pton(AF_INET6, CLUSTER_MCAST6, &sin6.sin6_addr);
				sin6.sin6_port = htons(cl->cfg.port);
				sin6.sin6_scope_id = idx;
				send_to(cl, buf, len, (struct sockaddr *)&sin6, sizeof(sin6));
			}
		}
		freeifaddrs(ifa);
	}
	for (p = cl->cfg.managers; *p;) {
		struct sockaddr_storage ss;
		char t[128];
		socklen_t sl;
		size_t w;

		while (*p == ' ' || *p == ',')
			p++;
		w = strcspn(p, " ,");
		if (!w)
			break;
		snprintf(t, sizeof(t), "%.*s", (int)w, p);
		p += w;
		if (!parse_target(t, cl->cfg.port, &ss, &sl))
			send_to(cl, buf, len, (struct sockaddr *)&ss, sl);
	}
}

static int check_targets(const struct cluster_config *c, char *err,
			 size_t err_len)
{
	const char *p = c->managers;

	while (*p) {
		struct sockaddr_storage ss;
		char t[128];
		socklen_t sl;
		size_t w;

		while (*p == ' ' || *p == ',')
			p++;
		w = strcspn(p, " ,");
		if (!w)
			break;
		snprintf(t, sizeof(t), "%.*s", (int)w, p);
		p += w;
		if (parse_target(t, c->port, &ss, &sl)) {
			snprintf(err, err_len, "managers: bad address \"%s\"", t);
			return -EINVAL;
		}
	}
	return 0;
}

int cluster_new(struct cluster **out, sd_event *e,
		const struct cluster_config *cfg, const char *state_dir,
		char *err, size_t err_len)
{
	struct cluster *cl;
	int ret;

	ret = cluster_config_check(cfg, err, err_len);
	if (!ret)
		ret = check_targets(cfg, err, err_len);
	if (ret)
		return ret;
	cl = calloc(1, sizeof(*cl));
	if (!cl)
		return -ENOMEM;
	cl->event = sd_event_ref(e);
	cl->cfg = *cfg;
	cl->udp4 = cl->udp6 = cl->listen_fd = -1;
	cl->dirfd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cl->dirfd < 0) {
		ret = -errno;
		snprintf(err, err_len, "state directory %s: %s", state_dir,
			 strerror(errno));
		goto fail;
	}
	switch (cfg->role) {
	case CLUSTER_ROLE_MANAGER:
		ret = cluster_mgr_start(cl, err, err_len);
		break;
	case CLUSTER_ROLE_HOST:
		ret = cluster_host_start(cl, err, err_len);
		break;
	default:
		ret = 0;
	}
	if (ret)
		goto fail;
	*out = cl;
	return 0;
fail:
	cluster_free(cl);
	return ret;
}

void cluster_free(struct cluster *cl)
{
	if (!cl)
		return;
	if (cl->cfg.role == CLUSTER_ROLE_MANAGER)
		cluster_mgr_stop(cl);
	else if (cl->cfg.role == CLUSTER_ROLE_HOST)
		cluster_host_stop(cl);
	sd_event_source_disable_unref(cl->udp4_src);
	sd_event_source_disable_unref(cl->udp6_src);
	sd_event_source_disable_unref(cl->timer);
	if (cl->udp4 >= 0)
		close(cl->udp4);
	if (cl->udp6 >= 0)
		close(cl->udp6);
	SSL_CTX_free(cl->tls);
	cluster_ident_free(&cl->ident);
	if (cl->dirfd >= 0)
		close(cl->dirfd);
	sd_event_unref(cl->event);
	free(cl);
}

bool cluster_ready(struct cluster *cl)
{
	return cl->cfg.role != CLUSTER_ROLE_HOST || cl->phase == HOST_JOINED;
}

static struct json_object *counters_json(const struct cluster_counters *n)
{
	struct json_object *o = json_object_new_object();

#define C(f) json_object_object_add(o, #f, json_object_new_int64(n->f))
	C(rx); C(tx); C(garbage); C(oversized); C(bad_version); C(replayed);
	C(stale); C(unverified); C(pin_mismatch); C(answered);
	C(rejected_policy); C(rejected_token); C(joins); C(rejoins);
	C(join_failures);
#undef C
	return o;
}

void cluster_call(struct cluster *cl, const char *method,
		  struct json_object *params, cluster_reply_fn fn, void *ctx)
{
	static const char *const roles[] = { "none", "manager", "host" };
	struct json_object *o;
	char fp[72], err[128];

	if (!strcmp(method, "status")) {
		o = json_object_new_object();
		json_object_object_add(o, "role",
				       json_object_new_string(roles[cl->cfg.role]));
		json_object_object_add(o, "name", json_object_new_string(cl->cfg.name));
		if (cl->ident.cert) {
			cluster_fp_format(cl->ident.fp, fp);
			json_object_object_add(o, "fingerprint",
					       json_object_new_string(fp));
		}
		if (cl->cfg.role == CLUSTER_ROLE_MANAGER)
			cluster_mgr_status(cl, o);
		else if (cl->cfg.role == CLUSTER_ROLE_HOST)
			cluster_host_status(cl, o);
		json_object_object_add(o, "last_error",
				       json_object_new_string(cl->last_error));
		json_object_object_add(o, "counters", counters_json(&cl->n));
		fn(ctx, 0, o, "");
		json_object_put(o);
		return;
	}
	if (cl->cfg.role == CLUSTER_ROLE_MANAGER) {
		cluster_mgr_call(cl, method, params, fn, ctx);
		return;
	}
	if (!strcmp(method, "members") && cl->cfg.role == CLUSTER_ROLE_HOST) {
		o = cl->members ? json_object_get(cl->members) : json_object_new_array();
		fn(ctx, 0, o, "");
		json_object_put(o);
		return;
	}
	if (cl->cfg.role == CLUSTER_ROLE_NONE)
		snprintf(err, sizeof(err), "cluster: this hvxd has no cluster role");
	else
		snprintf(err, sizeof(err), "cluster %s: only a manager can do this", method);
	fn(ctx, -EOPNOTSUPP, NULL, err);
}
