// SPDX-License-Identifier: GPL-2.0
/*
 * A manager and hosts in one sd-event loop on loopback (in a private
 * network namespace when we may create one): the whole join path, TLS and
 * proof included, under ASan.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include "hvx_check.h"

#include "cluster.h"
#include "cluster_crypto.h"

struct node {
	struct cluster *cl;
	char dir[64];
	struct cluster_config cfg;
};

static sd_event *ev;

static void rmtree(const char *path)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

static void set(struct cluster_config *c, const char *k, const char *v)
{
	char err[200];

	ck_assert_msg(!cluster_config_set(c, k, v, err, sizeof(err)), "%s", err);
}

struct result {
	int err;
	struct json_object *reply;
	char msg[256];
};

static void keep(void *ctx, int err, struct json_object *reply, const char *msg)
{
	struct result *r = ctx;

	r->err = err;
	r->reply = json_object_get(reply);
	snprintf(r->msg, sizeof(r->msg), "%s", msg);
}

/* The embedded store answers at once. */
static struct json_object *call(struct cluster *cl, const char *method,
				struct json_object *params)
{
	struct result r = { .err = 1 };

	cluster_call(cl, method, params, keep, &r);
	ck_assert_msg(!r.err, "%s: %s", method, r.msg);
	json_object_put(params);
	return r.reply;
}

static const char *field(struct json_object *o, const char *k)
{
	struct json_object *v;

	ck_assert(json_object_object_get_ex(o, k, &v));
	return json_object_get_string(v);
}

static void start(struct node *n)
{
	char err[256];

	ck_assert_msg(!cluster_new(&n->cl, ev, &n->cfg, n->dir, err, sizeof(err)),
		      "%s", err);
}

static void new_dir(struct node *n)
{
	strcpy(n->dir, "/tmp/hvx-cluster-join.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(n->dir));
}

static struct node mgr;
static char mgr_addr[64];

/* Ports are the kernel's choice: hosts learn them from mgr_addr. */
static void mgr_start(void)
{
	struct json_object *st;

	start(&mgr);
	st = call(mgr.cl, "status", NULL);
	snprintf(mgr_addr, sizeof(mgr_addr), "127.0.0.1:%s", field(st, "port"));
	json_object_put(st);
}

static void setup(void)
{
	ck_assert_int_ge(sd_event_new(&ev), 0);
	new_dir(&mgr);
	cluster_config_init(&mgr.cfg);
	set(&mgr.cfg, "role", "manager");
	set(&mgr.cfg, "name", "mgr0");
	set(&mgr.cfg, "bind", "127.0.0.1");
	set(&mgr.cfg, "port", "0");
	set(&mgr.cfg, "tls_port", "0");
	set(&mgr.cfg, "ipv6", "no");
	set(&mgr.cfg, "heartbeat_ms", "50");
	set(&mgr.cfg, "down_ms", "300");
	set(&mgr.cfg, "remove_ms", "100000");
	set(&mgr.cfg, "policy_labels", "zone=a");
	mgr_start();
}

static void teardown(void)
{
	cluster_free(mgr.cl);
	rmtree(mgr.dir);
	sd_event_unref(ev);
}

static void host_init(struct node *h, const char *name, const char *token,
		      const char *labels)
{
	new_dir(h);
	cluster_config_init(&h->cfg);
	set(&h->cfg, "role", "host");
	set(&h->cfg, "name", name);
	set(&h->cfg, "ipv6", "no");
	/* No broadcast: the manager is reached by unicast on loopback. */
	set(&h->cfg, "interfaces", "none");
	set(&h->cfg, "managers", mgr_addr);
	set(&h->cfg, "heartbeat_ms", "50");
	set(&h->cfg, "down_ms", "300");
	set(&h->cfg, "discover_min_ms", "20");
	set(&h->cfg, "discover_max_ms", "100");
	set(&h->cfg, "retry_ms", "100");
	if (token)
		set(&h->cfg, "token", token);
	set(&h->cfg, "labels", labels);
}

static const char *host_state(struct node *h, char *buf, size_t len,
			      char *err, size_t err_len)
{
	struct json_object *st = call(h->cl, "status", NULL);

	snprintf(buf, len, "%s", field(st, "state"));
	snprintf(err, err_len, "%s", field(st, "last_error"));
	json_object_put(st);
	return buf;
}

/* Runs the loop until h reaches state or timeout_ms passes. */
static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

static bool run_until(struct node *h, const char *state, int timeout_ms)
{
	uint64_t end = now_ms() + timeout_ms;
	char buf[32], err[256];

	while (now_ms() < end) {
		sd_event_run(ev, 5000);
		if (!strcmp(host_state(h, buf, sizeof(buf), err, sizeof(err)), state))
			return true;
	}
	return false;
}

static void run_for(int ms)
{
	uint64_t end = now_ms() + ms;

	while (now_ms() < end)
		sd_event_run(ev, 5000);
}

static char *new_token(const char *ttl)
{
	struct json_object *p = json_object_new_object(), *r;
	char *tok;

	json_object_object_add(p, "ttl", json_object_new_string(ttl));
	r = call(mgr.cl, "token_create", p);
	tok = strdup(field(r, "token"));
	json_object_put(r);
	return tok;
}

static int64_t counter(struct cluster *cl, const char *name)
{
	struct json_object *st = call(cl, "status", NULL), *c, *v;
	int64_t n;

	ck_assert(json_object_object_get_ex(st, "counters", &c));
	ck_assert(json_object_object_get_ex(c, name, &v));
	n = json_object_get_int64(v);
	json_object_put(st);
	return n;
}

static size_t n_members(struct cluster *cl)
{
	struct json_object *m = call(cl, "members", NULL);
	size_t n = json_object_array_length(m);

	json_object_put(m);
	return n;
}

static void host_free(struct node *h)
{
	cluster_free(h->cl);
	rmtree(h->dir);
}

START_TEST(join_and_rejoin)
{
	struct node h;
	char *tok = new_token("1h");
	struct json_object *m, *p;

	host_init(&h, "h1", tok, "zone=a");
	start(&h);
	ck_assert(run_until(&h, "joined", 3000));
	ck_assert_int_eq(n_members(mgr.cl), 1);
	ck_assert_int_eq(n_members(h.cl), 1);
	m = call(mgr.cl, "members", NULL);
	ck_assert_str_eq(field(json_object_array_get_idx(m, 0), "hostname"), "h1");
	ck_assert_str_eq(field(json_object_array_get_idx(m, 0), "state"), "up");
	json_object_put(m);

	/* Restart without a token: the persisted identity is enough. */
	cluster_free(h.cl);
	memset(h.cfg.token, 0, sizeof(h.cfg.token));
	start(&h);
	ck_assert(run_until(&h, "joined", 3000));
	ck_assert_int_eq(counter(mgr.cl, "rejoins"), 1);
	ck_assert_int_eq(n_members(mgr.cl), 1);

	/* Stop the host: the manager marks it down after down_ms. */
	cluster_free(h.cl);
	h.cl = NULL;
	run_for(600);
	m = call(mgr.cl, "members", NULL);
	ck_assert_str_eq(field(json_object_array_get_idx(m, 0), "state"), "down");
	json_object_put(m);

	/* Revoking the token does not evict members that joined with it. */
	p = json_object_new_object();
	json_object_object_add(p, "id", json_object_new_string_len(tok, 6));
	json_object_put(call(mgr.cl, "token_revoke", p));
	start(&h);
	ck_assert(run_until(&h, "joined", 3000));
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(removed_host_needs_token)
{
	struct node h;
	char *tok;
	char err[256], buf[32];

	cluster_free(mgr.cl);
	set(&mgr.cfg, "remove_ms", "600");
	mgr_start();
	tok = new_token("1h");
	host_init(&h, "h6", tok, "zone=a");
	start(&h);
	ck_assert(run_until(&h, "joined", 3000));

	/* Away past remove_ms: down, then out of the membership. */
	cluster_free(h.cl);
	h.cl = NULL;
	run_for(1200);
	ck_assert_int_eq(n_members(mgr.cl), 0);

	/* Back without a token: told so over TLS, and it stops trying. */
	memset(h.cfg.token, 0, sizeof(h.cfg.token));
	start(&h);
	ck_assert(run_until(&h, "idle", 3000));
	host_state(&h, buf, sizeof(buf), err, sizeof(err));
	ck_assert_msg(strstr(err, "is not a member of cluster") &&
		      strstr(err, "a token is needed to join again"), "%s", err);
	ck_assert_int_eq(n_members(mgr.cl), 0);

	/* With a token it joins again, as a new member. */
	cluster_free(h.cl);
	set(&h.cfg, "token", tok);
	start(&h);
	ck_assert(run_until(&h, "joined", 3000));
	ck_assert_int_eq(n_members(mgr.cl), 1);
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(wrong_secret_is_unverified)
{
	struct node h;
	char *tok = new_token("1h");
	char err[256], buf[32];

	/* Right id, wrong secret: the manager's proof does not verify. */
	memcpy(tok + 7, "0000000000000000", 16);
	host_init(&h, "h2", tok, "zone=a");
	start(&h);
	run_for(400);
	ck_assert_str_eq(host_state(&h, buf, sizeof(buf), err, sizeof(err)),
			 "discovering");
	ck_assert_int_gt(counter(h.cl, "unverified"), 0);
	ck_assert_int_eq(n_members(mgr.cl), 0);
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(policy_names_rule)
{
	struct node h;
	char *tok = new_token("1h");
	char err[256], buf[32];

	host_init(&h, "h3", tok, "zone=b");
	start(&h);
	ck_assert(run_until(&h, "rejected", 3000));
	host_state(&h, buf, sizeof(buf), err, sizeof(err));
	ck_assert_msg(strstr(err, "rule labels: host label zone=b does not match a"),
		      "%s", err);
	ck_assert_int_gt(counter(mgr.cl, "rejected_policy"), 0);
	ck_assert_int_eq(n_members(mgr.cl), 0);
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(revoked_token_is_precise)
{
	struct node h;
	char *tok = new_token("1h");
	char err[256], buf[32], id[7];
	struct json_object *p = json_object_new_object();

	snprintf(id, sizeof(id), "%.6s", tok);
	json_object_object_add(p, "id", json_object_new_string(id));
	json_object_put(call(mgr.cl, "token_revoke", p));
	host_init(&h, "h4", tok, "zone=a");
	start(&h);
	ck_assert(run_until(&h, "rejected", 3000));
	host_state(&h, buf, sizeof(buf), err, sizeof(err));
	ck_assert_msg(strstr(err, "refused this host: token ") &&
		      strstr(err, " revoked 0s ago") && strstr(err, id), "%s", err);
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(pinned_hash_mismatch)
{
	struct node h;
	char *tok = new_token("1h");
	char err[256], buf[32];

	host_init(&h, "h5", tok, "zone=a");
	set(&h.cfg, "ca_cert_hash",
	    "sha256:0000000000000000000000000000000000000000000000000000000000000000");
	start(&h);
	run_for(300);
	ck_assert_str_eq(host_state(&h, buf, sizeof(buf), err, sizeof(err)),
			 "discovering");
	ck_assert_int_gt(counter(h.cl, "pin_mismatch"), 0);
	host_free(&h);
	free(tok);
}
END_TEST

START_TEST(many_hosts)
{
	struct node h[16];
	char *tok = new_token("1h"), name[16];
	int joined = 0;

	for (int i = 0; i < 16; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		host_init(&h[i], name, tok, "zone=a");
		start(&h[i]);
	}
	uint64_t end = now_ms() + 5000;

	while (now_ms() < end && joined < 16) {
		char buf[32], err[256];

		sd_event_run(ev, 5000);
		joined = 0;
		for (int i = 0; i < 16; i++)
			joined += !strcmp(host_state(&h[i], buf, sizeof(buf), err,
						     sizeof(err)), "joined");
	}
	ck_assert_int_eq(joined, 16);
	ck_assert_int_eq(n_members(mgr.cl), 16);
	for (int i = 0; i < 16; i++)
		host_free(&h[i]);
	free(tok);
}
END_TEST

/*
 * A client that sends requests and vanishes: the manager's replies and
 * close_notify hit a dead socket, which must not raise SIGPIPE on us.
 */
START_TEST(peer_vanishes)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct json_object *st = call(mgr.cl, "status", NULL);
	struct cluster_ident id;
	char err[256], frame[64];
	SSL_CTX *ctx;
	SSL *ssl;
	int fd, len;

	sin.sin_port = htons(atoi(field(st, "tls_port")));
	json_object_put(st);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(cluster_ident_create(&id, "vanishing", err, sizeof(err)), 0);
	ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_use_certificate(ctx, id.cert);
	SSL_CTX_use_PrivateKey(ctx, id.key);
	for (int round = 0; round < 20; round++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		/* The manager's loop must run for the handshake to finish. */
		fcntl(fd, F_SETFL, O_NONBLOCK);
		for (int i = 0; i < 2000 && SSL_connect(ssl) != 1; i++)
			sd_event_run(ev, 1000);
		len = snprintf(frame + 4, sizeof(frame) - 4, "{\"op\":\"heartbeat\"}");
		frame[0] = frame[1] = frame[2] = 0;
		frame[3] = len;
		for (int i = 0; i < 8; i++)
			SSL_write(ssl, frame, len + 4);
		/* Reset, not FIN: the manager's next write meets EPIPE. */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
			   sizeof(struct linger));
		if (round & 1)
			run_for(5);
		SSL_free(ssl);
		close(fd);
		run_for(20);
	}
	SSL_CTX_free(ctx);
	cluster_ident_free(&id);
	/* Still here, and still serving. */
	ck_assert_str_eq(field(st = call(mgr.cl, "status", NULL), "state"), "serving");
	json_object_put(st);
}
END_TEST

START_TEST(config_errors)
{
	struct cluster_config c;
	char err[200];

	cluster_config_init(&c);
	ck_assert_int_eq(cluster_config_set(&c, "token", "abc.def", err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "token: expected [a-z0-9]{6}.[a-z0-9]{16}");
	ck_assert_int_eq(cluster_config_set(&c, "role", "boss", err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(cluster_config_set(&c, "port", "70000", err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(cluster_config_set(&c, "bogus", "1", err, sizeof(err)),
			 -ENOENT);
	ck_assert_int_eq(cluster_config_set(&c, "labels", "novalue", err, sizeof(err)),
			 -EINVAL);
	ck_assert_int_eq(cluster_config_set(&c, "ca_cert_hash", "md5:00", err,
					    sizeof(err)), -EINVAL);
	cluster_config_set(&c, "role", "host", err, sizeof(err));
	cluster_config_set(&c, "down_ms", "10", err, sizeof(err));
	ck_assert_int_eq(cluster_config_check(&c, err, sizeof(err)), -EINVAL);
	cluster_config_set(&c, "down_ms", "5000", err, sizeof(err));
	cluster_config_set(&c, "managers", "10.0.0.1:99999", err, sizeof(err));
	ck_assert_int_eq(cluster_new(&mgr.cl, ev, &c, "/tmp", err, sizeof(err)),
			 -EINVAL);
	ck_assert_str_eq(err, "managers: bad address \"10.0.0.1:99999\"");
}
END_TEST

static void config_setup(void)
{
	ck_assert_int_ge(sd_event_new(&ev), 0);
}

static void config_teardown(void)
{
	sd_event_unref(ev);
}

/* Our own loopback, so nothing here touches the machine's network. */
static void private_net(void)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int fd;

	if (unshare(CLONE_NEWNET))
		return;
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	ioctl(fd, SIOCGIFFLAGS, &ifr);
	ifr.ifr_flags |= IFF_UP;
	ioctl(fd, SIOCSIFFLAGS, &ifr);
	close(fd);
}

int main(void)
{
	Suite *s = suite_create("cluster-join");
	TCase *tc = tcase_create("join"), *cfg = tcase_create("config");

	private_net();
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, join_and_rejoin);
	tcase_add_test(tc, removed_host_needs_token);
	tcase_add_test(tc, wrong_secret_is_unverified);
	tcase_add_test(tc, policy_names_rule);
	tcase_add_test(tc, revoked_token_is_precise);
	tcase_add_test(tc, pinned_hash_mismatch);
	tcase_add_test(tc, many_hosts);
	tcase_add_test(tc, peer_vanishes);
	tcase_set_timeout(tc, 30);
	tcase_add_checked_fixture(cfg, config_setup, config_teardown);
	tcase_add_test(cfg, config_errors);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, cfg);
	return hvx_check_run(s);
}
