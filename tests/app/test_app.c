// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of app protection: the manifest parser and its canonical
 * encoding, Ed25519 signatures, payload hashing, the primary's policy and
 * rollback floor, and the verification engine talking to a real primary
 * (app_primary_handle() served from a child process over a unix socket).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "hvx_check.h"

#include "app_guest.h"
#include "app_manifest.h"
#include "app_policy.h"
#include "app_proto.h"
#include "app_msg.h"
#include "app_verify.h"

static EVP_PKEY *key_a, *key_b, *key_c;

static void keys_setup(void)
{
	key_a = app_key_generate();
	key_b = app_key_generate();
	key_c = app_key_generate();
	ck_assert(key_a && key_b && key_c);
}

static void keys_teardown(void)
{
	EVP_PKEY_free(key_a);
	EVP_PKEY_free(key_b);
	EVP_PKEY_free(key_c);
}

static void sha256_of(const void *buf, size_t len, uint8_t out[32])
{
	unsigned int n;

	ck_assert(EVP_Digest(buf, len, out, &n, EVP_sha256(), NULL) == 1);
}

/* A valid manifest for @payload, signed with @key. */
static void make(struct app_manifest *m, const char *app_id, uint64_t version,
		 const char *payload, EVP_PKEY *key)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->app_id, sizeof(m->app_id), "%s", app_id);
	m->version = version;
	m->size = strlen(payload);
	sha256_of(payload, m->size, m->sha256);
	m->n_vms = 2;
	strcpy(m->vms[0], "vm1");
	strcpy(m->vms[1], "vm2");
	m->expires = (uint64_t)time(NULL) + 3600;
	m->n_args = 1;
	m->args[0] = strdup("--serve");
	ck_assert_int_eq(app_manifest_sign(m, key), 0);
}

static char *make_json(const char *app_id, uint64_t version, const char *payload,
		       EVP_PKEY *key)
{
	struct app_manifest m;
	char *s;

	make(&m, app_id, version, payload, key);
	s = app_manifest_dump(&m);
	app_manifest_free(&m);
	ck_assert_ptr_nonnull(s);
	return s;
}

static int sig_ok(const struct app_manifest *m, EVP_PKEY *key)
{
	uint8_t pub[32], *canon;
	size_t len;
	int ret;

	ck_assert_int_eq(app_key_raw_public(key, pub), 0);
	ck_assert_int_eq(app_manifest_encode(m, &canon, &len), 0);
	ret = app_sig_check(pub, canon, len, m->signature);
	free(canon);
	return ret;
}

static int parse_str(const char *s, char *err, size_t errlen)
{
	struct app_manifest m;
	int ret;

	ret = app_manifest_parse(s, strlen(s), &m, err, errlen);
	if (!ret)
		app_manifest_free(&m);
	return ret;
}

/* Replace the first @from in @s by @to (malloc'd). */
static char *subst(const char *s, const char *from, const char *to)
{
	const char *p = strstr(s, from);
	char *out;

	ck_assert_msg(p, "\"%s\" not in manifest", from);
	out = malloc(strlen(s) - strlen(from) + strlen(to) + 1);
	ck_assert_ptr_nonnull(out);
	sprintf(out, "%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
	return out;
}

START_TEST(test_roundtrip)
{
	struct app_manifest m, back;
	uint8_t *c1, *c2;
	size_t l1, l2;
	char err[256], *s;

	make(&m, "org.example.calc", 7, "payload", key_a);
	s = app_manifest_dump(&m);
	ck_assert_int_eq(app_manifest_parse(s, strlen(s), &back, err, sizeof(err)), 0);
	ck_assert_str_eq(back.app_id, "org.example.calc");
	ck_assert_uint_eq(back.version, 7);
	ck_assert_uint_eq(back.n_vms, 2);
	ck_assert_str_eq(back.vms[1], "vm2");
	ck_assert_uint_eq(back.n_args, 1);
	ck_assert_str_eq(back.args[0], "--serve");
	ck_assert_int_eq(app_manifest_encode(&m, &c1, &l1), 0);
	ck_assert_int_eq(app_manifest_encode(&back, &c2, &l2), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert_mem_eq(c1, c2, l1);
	ck_assert_int_eq(sig_ok(&back, key_a), 1);
	ck_assert_int_eq(sig_ok(&back, key_b), 0);
	free(c1);
	free(c2);
	free(s);
	app_manifest_free(&m);
	app_manifest_free(&back);
}
END_TEST

START_TEST(test_truncated)
{
	char *s = make_json("org.example.calc", 1, "x", key_a), err[256];
	size_t len = strlen(s), i;
	struct app_manifest m;

	/* Every proper prefix is an error, never a shorter valid manifest. */
	for (i = 0; i < len; i++) {
		if (s[len - 1] == '\n' && i == len - 1)
			continue;
		ck_assert_msg(app_manifest_parse(s, i, &m, err, sizeof(err)) == -EINVAL,
			      "prefix of %zu bytes accepted", i);
	}
	ck_assert_int_eq(app_manifest_parse(s, len, &m, err, sizeof(err)), 0);
	app_manifest_free(&m);
	free(s);
}
END_TEST

START_TEST(test_oversized)
{
	char id[APP_ID_MAX + 2], err[256], *s, *t, *big;
	char vm[HVX_VM_NAME_MAX + 1], arg[APP_ARG_MAX + 4], buf[4096];
	int i;

	s = make_json("org.example.calc", 1, "x", key_a);
	memset(id, 'a', sizeof(id) - 1);
	id[APP_ID_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "\"%s\"", id);
	t = subst(s, "\"org.example.calc\"", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "app_id"), "%s", err);
	free(t);
	id[APP_ID_MAX] = '\0';	/* exactly the limit parses */
	snprintf(buf, sizeof(buf), "\"%s\"", id);
	t = subst(s, "\"org.example.calc\"", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), 0);
	free(t);

	memset(vm, 'v', sizeof(vm) - 1);
	vm[HVX_VM_NAME_MAX] = '\0';
	snprintf(buf, sizeof(buf), "\"%s\"", vm);
	t = subst(s, "\"vm1\"", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "vms"), "%s", err);
	free(t);

	buf[0] = '\0';
	for (i = 0; i <= APP_VMS_MAX; i++)
		sprintf(buf + strlen(buf), "%s\"v%d\"", i ? "," : "", i);
	t = subst(s, "\"vm1\",\n    \"vm2\"", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "vms"), "%s", err);
	free(t);

	memset(arg, 'x', sizeof(arg) - 1);
	arg[APP_ARG_MAX + 1] = '\0';
	snprintf(buf, sizeof(buf), "\"%s\"", arg);
	t = subst(s, "\"--serve\"", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "args"), "%s", err);
	free(t);

	strcpy(buf, "\"args\": [");
	for (i = 0; i < APP_ARGS_MAX; i++)
		strcat(buf, "\"a\", ");
	t = subst(s, "\"args\": [", buf);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "args"), "%s", err);
	free(t);

	/* Whole document: whitespace alone must not get past the cap. */
	big = malloc(APP_MANIFEST_MAX + strlen(s) + 1);
	memset(big, ' ', APP_MANIFEST_MAX);
	strcpy(big + APP_MANIFEST_MAX, s);
	ck_assert_int_eq(parse_str(big, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "limit"), "%s", err);
	free(big);
	free(s);
}
END_TEST

START_TEST(test_duplicate_keys)
{
	char *s = make_json("org.example.calc", 1, "x", key_a), *t, err[256];

	/* A second "version" that a lax parser would let win. */
	t = subst(s, "{", "{\"version\": 99, ");
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "duplicate"), "%s", err);
	free(t);
	t = subst(s, "\"vm1\"", "\"vm2\"");
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "twice"), "%s", err);
	free(t);
	free(s);
}
END_TEST

static const struct {
	const char *from, *to, *why;
} bad_values[] = {
	{ "\"format\": 1", "\"format\": 2", "format" },
	{ "\"version\": 1", "\"version\": 0", "version" },
	{ "\"version\": 1", "\"version\": -1", "version" },
	{ "\"version\": 1", "\"version\": 9007199254740992", "version" },
	{ "\"version\": 1", "\"version\": 99999999999999999999999", "JSON" },
	{ "\"version\": 1", "\"version\": 1.5", "version" },
	{ "\"version\": 1", "\"version\": \"1\"", "version" },
	{ "\"org.example.calc\"", "\"../etc\"", "app_id" },
	{ "\"org.example.calc\"", "\"a\\u0000b\"", "JSON" },
	{ "\"org.example.calc\"", "\"\"", "app_id" },
	{ "\"vm1\"", "\"vm 1\"", "vms" },
	{ "\"vm1\",\n    \"vm2\"", "", "vms" },
	{ "\"args\": [", "\"args\": [1, ", "args" },
	{ "\"sha256\": \"", "\"sha256\": \"A", "sha256" },
	{ "\"sha256\": \"", "\"sha256\": \"", NULL },
	{ "\"format\": 1", "\"format\": 1, \"comment\": \"x\"", "unpacked: comment" },
	{ "\"format\": 1,", "", "not found: format" },
	{ "{", "[{", "JSON" },
};

START_TEST(test_bad_values)
{
	char *s = make_json("org.example.calc", 1, "x", key_a), *t, err[256];
	int ret;

	t = subst(s, "\"signature\": \"", "\"signature\": \"0");
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	free(t);
	t = malloc(strlen(s) + 8);
	sprintf(t, "%s {}", s);
	ck_assert_int_eq(parse_str(t, err, sizeof(err)), -EINVAL);
	free(t);
	t = subst(s, bad_values[_i].from, bad_values[_i].to);
	ret = parse_str(t, err, sizeof(err));
	if (!bad_values[_i].why) {
		ck_assert_int_eq(ret, 0);
	} else {
		ck_assert_msg(ret == -EINVAL, "accepted: %s", bad_values[_i].to);
		ck_assert_msg(strstr(err, bad_values[_i].why), "%s: %s",
			      bad_values[_i].to, err);
	}
	free(t);
	free(s);
}
END_TEST

START_TEST(test_encoding_unambiguous)
{
	struct app_manifest m1, m2;
	uint8_t *c1, *c2;
	size_t l1, l2;

	make(&m1, "org.example.calc", 1, "x", key_a);
	make(&m2, "org.example.calc", 1, "x", key_a);
	free(m2.args[0]);
	m2.args[0] = strdup("--ser");
	m2.args[1] = strdup("ve");
	m2.n_args = 2;
	ck_assert_int_eq(app_manifest_encode(&m1, &c1, &l1), 0);
	ck_assert_int_eq(app_manifest_encode(&m2, &c2, &l2), 0);
	ck_assert(l1 != l2 || memcmp(c1, c2, l1));
	ck_assert_int_eq(sig_ok(&m2, key_a), 0);
	free(c2);
	/* The order of the VMs is signed too. */
	strcpy(m2.vms[0], "vm2");
	strcpy(m2.vms[1], "vm1");
	app_manifest_free(&m2);
	m2.n_args = 1;
	m2.args[0] = strdup("--serve");
	ck_assert_int_eq(app_manifest_encode(&m2, &c2, &l2), 0);
	ck_assert_uint_eq(l1, l2);
	ck_assert(memcmp(c1, c2, l1));
	free(c1);
	free(c2);
	app_manifest_free(&m1);
	app_manifest_free(&m2);
}
END_TEST

START_TEST(test_sig_tamper)
{
	struct app_manifest m;

	make(&m, "org.example.calc", 3, "payload", key_a);
	ck_assert_int_eq(sig_ok(&m, key_a), 1);
	switch (_i) {
	case 0: m.version++; break;
	case 1: m.size++; break;
	case 2: m.sha256[31] ^= 1; break;
	case 3: strcpy(m.vms[m.n_vms++], "vm3"); break;
	case 4: m.expires += 86400; break;
	case 5: m.args[0][0] = 'X'; break;
	case 6: m.key_id[0] ^= 1; break;
	case 7: m.signature[0] ^= 0x80; break;
	case 8: strcpy(m.app_id, "org.example.cald"); break;
	}
	ck_assert_int_eq(sig_ok(&m, key_a), 0);
	app_manifest_free(&m);
}
END_TEST

START_TEST(test_keys_files)
{
	char dir[] = "/tmp/hvx-app-test-XXXXXX", path[256];
	uint8_t p1[32], p2[32];
	bool priv;
	EVP_PKEY *k;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	ck_assert_int_eq(app_key_save(key_a, path), 0);
	ck_assert_int_eq(app_key_save(key_a, path), -EEXIST);
	k = app_key_load(path, &priv);
	ck_assert_ptr_nonnull(k);
	ck_assert(priv);
	ck_assert_int_eq(app_key_raw_public(k, p1), 0);
	ck_assert_int_eq(app_key_raw_public(key_a, p2), 0);
	ck_assert_mem_eq(p1, p2, 32);
	EVP_PKEY_free(k);
	unlink(path);
	rmdir(dir);
}
END_TEST

static int write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
	return 0;
}

START_TEST(test_hash_copy)
{
	static const uint8_t abc[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40,
		0xde, 0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17,
		0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad,
	};
	char src[] = "/tmp/hvx-app-src-XXXXXX", dst[] = "/tmp/hvx-app-dst-XXXXXX";
	uint8_t out[32], *big, back[32];
	size_t bigsz = (3 << 20) + 17;
	int s, d;

	s = mkstemp(src);
	d = mkstemp(dst);
	ck_assert(s >= 0 && d >= 0);
	write_file(src, "abc", 3);
	ck_assert_int_eq(app_hash_copy(s, -1, 3, out), 0);
	ck_assert_mem_eq(out, abc, 32);
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	ck_assert_int_eq(app_hash_copy(s, -1, 2, out), -EFBIG);
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	ck_assert_int_eq(app_hash_copy(s, -1, 4, out), -ENODATA);

	/* Several chunks: what lands in @dst is what was hashed. */
	big = malloc(bigsz);
	for (size_t i = 0; i < bigsz; i++)
		big[i] = (uint8_t)(i * 7 + (i >> 13));
	write_file(src, big, bigsz);
	ck_assert_int_eq(lseek(s, 0, SEEK_SET), 0);
	ck_assert_int_eq(app_hash_copy(s, d, bigsz, out), 0);
	sha256_of(big, bigsz, back);
	ck_assert_mem_eq(out, back, 32);
	ck_assert_int_eq(pread(d, big, bigsz, 0), (ssize_t)bigsz);
	sha256_of(big, bigsz, back);
	ck_assert_mem_eq(out, back, 32);
	free(big);
	close(s);
	close(d);
	s = open("/tmp", O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(app_hash_copy(s, -1, 0, out), -EINVAL);
	close(s);
	unlink(src);
	unlink(dst);
}
END_TEST

/* A test directory with a policy: app org.test.app signed by key "a" from
 * version 2, app org.test.other by "b"; key "c" is not trusted at all. */
static char tdir[64];
static char policy_path[128], state_path[128], sock_path[128];

static void write_policy(int min_version)
{
	char pa[65], pb[65], buf[1024];
	uint8_t raw[32];
	FILE *f;

	ck_assert_int_eq(app_key_raw_public(key_a, raw), 0);
	app_hex_encode(raw, 32, pa);
	ck_assert_int_eq(app_key_raw_public(key_b, raw), 0);
	app_hex_encode(raw, 32, pb);
	snprintf(buf, sizeof(buf),
		 "{\"keys\": [{\"name\": \"a\", \"public\": \"%s\"},\n"
		 "           {\"name\": \"b\", \"public\": \"%s\"}],\n"
		 " \"apps\": [{\"app_id\": \"org.test.app\", \"min_version\": %d, \"keys\": [\"a\"]},\n"
		 "          {\"app_id\": \"org.test.other\", \"min_version\": 1, \"keys\": [\"b\"]}]}\n",
		 pa, pb, min_version);
	f = fopen(policy_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(buf, f);
	fclose(f);
}

static void dir_setup(void)
{
	keys_setup();
	strcpy(tdir, "/tmp/hvx-app-test-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", tdir);
	snprintf(state_path, sizeof(state_path), "%s/state.json", tdir);
	snprintf(sock_path, sizeof(sock_path), "%s/primary.sock", tdir);
	write_policy(2);
}

static void dir_teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	ck_assert_int_eq(system(cmd), 0);
	keys_teardown();
}

START_TEST(test_policy_load_errors)
{
	static const char *const bad[] = {
		"{\"keys\": [], \"apps\": [], \"keys\": []}",
		"{\"keys\": [], \"apps\": [], \"extra\": 1}",
		"{\"keys\": [{\"name\": \"a\", \"public\": \"00\"}], \"apps\": []}",
		"{\"keys\": [], \"apps\": [{\"app_id\": \"x\", \"min_version\": 1, \"keys\": [\"nokey\"]}]}",
		"{\"keys\": [], \"apps\": [{\"app_id\": \"x\", \"min_version\": 0, \"keys\": []}]}",
		"[]",
	};
	struct app_policy p;
	char err[512];
	unsigned int i;
	FILE *f;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = fopen(policy_path, "w");
		fputs(bad[i], f);
		fclose(f);
		ck_assert_msg(app_policy_load(&p, policy_path, NULL, err, sizeof(err)) == -EINVAL,
			      "accepted %s", bad[i]);
	}
}
END_TEST

START_TEST(test_policy_rollback_floor)
{
	const struct app_policy_key *k;
	struct app_policy_app *a;
	struct app_policy p;
	uint8_t pub[32], id[32];
	char err[512];
	bool known;

	ck_assert_int_eq(app_policy_load(&p, policy_path, state_path, err, sizeof(err)), 0);
	a = app_policy_find(&p, "org.test.app");
	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_null(app_policy_find(&p, "org.test.nope"));

	app_key_raw_public(key_a, pub);
	app_key_id(pub, id);
	k = app_policy_key_for(&p, a, id, &known);
	ck_assert(k && known);
	app_key_raw_public(key_b, pub);
	app_key_id(pub, id);
	ck_assert_ptr_null(app_policy_key_for(&p, a, id, &known));
	ck_assert(known);	/* trusted, but not for this app */
	app_key_raw_public(key_c, pub);
	app_key_id(pub, id);
	ck_assert_ptr_null(app_policy_key_for(&p, a, id, &known));
	ck_assert(!known);

	ck_assert_uint_eq(app_policy_min(a), 2);
	ck_assert_int_eq(app_policy_commit(&p, a, 1), -ERANGE);
	ck_assert_int_eq(app_policy_commit(&p, a, 5), 0);
	ck_assert_uint_eq(app_policy_min(a), 5);
	ck_assert_int_eq(app_policy_commit(&p, a, 4), -ERANGE);
	ck_assert_int_eq(app_policy_commit(&p, a, 5), 0);
	app_policy_free(&p);

	/* The floor survives a restart of the primary. */
	ck_assert_int_eq(app_policy_load(&p, policy_path, state_path, err, sizeof(err)), 0);
	ck_assert_uint_eq(app_policy_min(app_policy_find(&p, "org.test.app")), 5);
	app_policy_free(&p);
	ck_assert_int_eq(app_policy_load(&p, policy_path, NULL, err, sizeof(err)), 0);
	ck_assert_uint_eq(app_policy_min(app_policy_find(&p, "org.test.app")), 2);
	app_policy_free(&p);
}
END_TEST

/* The primary, in a child: the same request handler hvx-primary runs. */
static pid_t primary_pid;

static void primary_start(void)
{
	char err[512], addr[160];
	struct app_policy p;
	int lfd;

	ck_assert_int_eq(app_policy_load(&p, policy_path, state_path, err, sizeof(err)), 0);
	snprintf(addr, sizeof(addr), "unix:%s", sock_path);
	lfd = app_sock_listen(addr);
	ck_assert_int_ge(lfd, 0);
	primary_pid = fork();
	ck_assert_int_ge(primary_pid, 0);
	if (primary_pid == 0) {
		for (;;) {
			int fd = accept(lfd, NULL, NULL);
			json_t *req, *rep;

			if (fd < 0) {
				struct timespec ts = { 0, 1000000 };

				nanosleep(&ts, NULL);
				continue;
			}
			while ((req = app_msg_recv(fd))) {
				rep = app_primary_handle(&p, req);
				app_msg_send(fd, rep);
				json_decref(rep);
				json_decref(req);
			}
			close(fd);
		}
	}
	close(lfd);
	app_policy_free(&p);
}

static void primary_stop(void)
{
	if (primary_pid > 0) {
		kill(primary_pid, SIGKILL);
		waitpid(primary_pid, NULL, 0);
	}
	primary_pid = 0;
}

static struct app_verifier verifier;
static int share_fd;

static void engine_setup(void)
{
	char path[160], addr[160];

	dir_setup();
	primary_start();
	snprintf(path, sizeof(path), "%s/share", tdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	share_fd = open(path, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(share_fd, 0);
	snprintf(path, sizeof(path), "%s/store", tdir);
	snprintf(addr, sizeof(addr), "unix:%s", sock_path);
	ck_assert_int_eq(app_verifier_init(&verifier, addr, 1000, path), 0);
	ck_assert_int_eq(mkdirat(share_fd, "sub", 0755), 0);
	ck_assert_int_eq(symlinkat("/etc/passwd", share_fd, "sub/escape"), 0);
}

static void engine_teardown(void)
{
	primary_stop();
	app_verifier_free(&verifier);
	close(share_fd);
	dir_teardown();
}

static void put_payload(const char *name, const char *content)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/share/%s", tdir, name);
	write_file(path, content, strlen(content));
}

static enum app_reason try(const char *vm, const char *manifest,
			   const char *payload, bool store, struct app_decision *d)
{
	struct app_request req = {
		.vm = vm, .manifest = manifest, .manifest_len = strlen(manifest),
		.payload_dirfd = share_fd, .payload = payload, .store = store,
	};
	enum app_reason r = app_verify(&verifier, &req, d);

	ck_assert_int_eq(r, d->reason);
	return r;
}

#define expect(want, vm, manifest, payload, store)				\
	do {									\
		struct app_decision d_;						\
		enum app_reason r_ = try(vm, manifest, payload, store, &d_);	\
		ck_assert_msg(r_ == (want), "got %s (%s), want %s",		\
			      app_reason_name(r_), d_.detail,			\
			      app_reason_name(want));				\
		app_decision_free(&d_);						\
	} while (0)

START_TEST(test_engine_accepts_and_stores)
{
	char *good = make_json("org.test.app", 3, "#!/bin/sh\nexit 0\n", key_a);
	struct app_decision d;
	struct stat st;
	char buf[64];
	int fd;

	put_payload("app.sh", "#!/bin/sh\nexit 0\n");
	ck_assert_int_eq(try("vm1", good, "app.sh", true, &d), APP_OK);
	ck_assert(d.path[0]);
	ck_assert_int_eq(stat(d.path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0555);
	fd = open(d.path, O_RDONLY);
	ck_assert_int_eq(read(fd, buf, sizeof(buf)), 17);
	close(fd);
	ck_assert_mem_eq(buf, "#!/bin/sh\nexit 0\n", 17);
	app_decision_free(&d);
	/* The same version again is fine: reinstalling is not a rollback. */
	expect(APP_OK, "vm2", good, "app.sh", true);
	free(good);
}
END_TEST

START_TEST(test_engine_rejections)
{
	const char *pl = "payload-bytes";
	struct app_manifest m;
	char *s;

	put_payload("p", pl);
	put_payload("swapped", "payload-bytez");
	put_payload("long", "payload-bytes!");

	s = make_json("org.test.app", 3, pl, key_a);
	expect(APP_OK, "vm1", s, "p", false);
	expect(APP_HASH_MISMATCH, "vm1", s, "swapped", false);
	expect(APP_HASH_MISMATCH, "vm1", s, "long", false);
	expect(APP_PAYLOAD_UNREADABLE, "vm1", s, "missing", false);
	expect(APP_PAYLOAD_UNREADABLE, "vm1", s, "../policy.json", false);
	expect(APP_PAYLOAD_UNREADABLE, "vm1", s, "/etc/passwd", false);
	expect(APP_PAYLOAD_UNREADABLE, "vm1", s, "sub/escape", false);
	expect(APP_VM_NOT_PERMITTED, "vm3", s, "p", false);
	free(s);

	/* Signed by a trusted key that may not sign this app, by an unknown
	 * one, and a manifest altered after signing. */
	s = make_json("org.test.app", 3, pl, key_b);
	expect(APP_UNKNOWN_KEY, "vm1", s, "p", false);
	free(s);
	s = make_json("org.test.app", 3, pl, key_c);
	expect(APP_UNKNOWN_KEY, "vm1", s, "p", false);
	free(s);
	make(&m, "org.test.app", 3, pl, key_a);
	m.version = 4;
	s = app_manifest_dump(&m);
	expect(APP_BAD_SIGNATURE, "vm1", s, "p", false);
	free(s);
	app_manifest_free(&m);

	make(&m, "org.test.app", 3, pl, key_a);
	m.expires = (uint64_t)time(NULL) - 1;
	app_manifest_sign(&m, key_a);
	s = app_manifest_dump(&m);
	expect(APP_EXPIRED, "vm1", s, "p", false);
	free(s);
	app_manifest_free(&m);

	s = make_json("org.test.app", 1, pl, key_a);
	expect(APP_ROLLED_BACK, "vm1", s, "p", false);
	free(s);
	s = make_json("org.test.unknown", 1, pl, key_a);
	expect(APP_NOT_ALLOWLISTED, "vm1", s, "p", false);
	free(s);
	expect(APP_BAD_MANIFEST, "vm1", "{\"format\": 1}", "p", false);
}
END_TEST

START_TEST(test_engine_replay_after_upgrade)
{
	const char *pl = "payload";
	char *v3 = make_json("org.test.app", 3, pl, key_a);
	char *v4 = make_json("org.test.app", 4, pl, key_a);

	put_payload("p", pl);
	expect(APP_OK, "vm1", v3, "p", true);
	expect(APP_OK, "vm1", v4, "p", true);
	/* v3 is still validly signed and unexpired: only the floor stops it. */
	expect(APP_ROLLED_BACK, "vm1", v3, "p", true);
	expect(APP_ROLLED_BACK, "vm1", v3, "p", false);
	/* ... and the floor outlives the primary. */
	primary_stop();
	primary_start();
	expect(APP_ROLLED_BACK, "vm1", v3, "p", true);
	expect(APP_OK, "vm1", v4, "p", true);
	free(v3);
	free(v4);
}
END_TEST

START_TEST(test_engine_primary_down)
{
	char *s = make_json("org.test.app", 3, "p", key_a);
	struct app_decision d;
	struct dirent *de;
	char store[160];
	DIR *dir;

	put_payload("p", "p");
	expect(APP_OK, "vm1", s, "p", false);
	primary_stop();
	ck_assert_int_eq(try("vm1", s, "p", true, &d), APP_PRIMARY_UNREACHABLE);
	ck_assert_msg(strstr(d.detail, "primary"), "%s", d.detail);
	app_decision_free(&d);
	/* Nothing was stored, not even a staging file, for a refused install. */
	snprintf(store, sizeof(store), "%s/store", tdir);
	dir = opendir(store);
	ck_assert_ptr_nonnull(dir);
	while ((de = readdir(dir)))
		ck_assert_msg(de->d_name[0] == '.' && (!de->d_name[1] ||
			      !strcmp(de->d_name, "..")), "left %s", de->d_name);
	closedir(dir);
	free(s);
}
END_TEST

START_TEST(test_proto_oversized_message)
{
	char *big = malloc(APP_MSG_MAX + 2);
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	memset(big, ' ', APP_MSG_MAX + 1);
	big[0] = '{';
	big[APP_MSG_MAX] = '}';
	ck_assert_int_eq(send(sv[0], big, APP_MSG_MAX + 1, 0), APP_MSG_MAX + 1);
	ck_assert_ptr_null(app_msg_recv(sv[1]));
	ck_assert_int_eq(errno, EMSGSIZE);
	ck_assert_int_eq(send(sv[0], "{\"a\":1,\"a\":2}", 13, 0), 13);
	ck_assert_ptr_null(app_msg_recv(sv[1]));
	ck_assert_int_eq(errno, EPROTO);
	close(sv[0]);
	ck_assert_ptr_null(app_msg_recv(sv[1]));
	ck_assert_int_eq(errno, ECONNRESET);
	close(sv[1]);
	free(big);
}
END_TEST

START_TEST(test_guest_requests)
{
	static const char *const bad[] = {
		"{\"op\": \"install\", \"app_id\": \"a\", \"manifest\": \"{}\", \"payload\": \"p\", \"x\": 1}",
		"{\"op\": \"erase\", \"app_id\": \"a\", \"manifest\": \"{}\", \"payload\": \"p\"}",
		"{\"op\": \"install\", \"app_id\": \"../a\", \"manifest\": \"{}\", \"payload\": \"p\"}",
		"{\"op\": \"install\", \"app_id\": \"a\", \"manifest\": \"{}\", \"payload\": \"\"}",
		"{\"op\": \"install\", \"app_id\": \"a\", \"manifest\": \"{}\", \"payload\": \"p\", \"vm\": \"v m\"}",
		"{\"op\": \"install\", \"app_id\": \"a\", \"manifest\": 7, \"payload\": \"p\"}",
		"{\"op\": \"install\", \"op\": \"verify\", \"app_id\": \"a\", \"manifest\": \"{}\", \"payload\": \"p\"}",
	};
	const char *good = "{\"op\": \"verify\", \"app_id\": \"org.a\", \"manifest\": \"{\\\"k\\\": 1}\", "
			   "\"payload\": \"dir/p\", \"vm\": \"vm1\"}";
	struct app_guest_req req;
	char err[256];
	unsigned int i;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(send(sv[0], bad[i], strlen(bad[i]), 0), (ssize_t)strlen(bad[i]));
		ck_assert_msg(app_guest_recv(sv[1], &req, err, sizeof(err)) == -EPROTO,
			      "accepted %s", bad[i]);
		ck_assert(err[0]);
	}
	ck_assert_int_eq(send(sv[0], good, strlen(good), 0), (ssize_t)strlen(good));
	ck_assert_int_eq(app_guest_recv(sv[1], &req, err, sizeof(err)), 0);
	ck_assert(!req.install);
	ck_assert_str_eq(req.app_id, "org.a");
	ck_assert_str_eq(req.vm, "vm1");
	ck_assert_str_eq(req.payload, "dir/p");
	ck_assert_str_eq(req.manifest, "{\"k\": 1}");
	ck_assert_uint_eq(req.manifest_len, 8);
	app_guest_req_free(&req);
	close(sv[0]);
	ck_assert_int_eq(app_guest_recv(sv[1], &req, err, sizeof(err)), -ECONNRESET);
	close(sv[1]);
}
END_TEST

START_TEST(test_guest_reply_roundtrip)
{
	struct app_guest_reply rep = {
		.reason = APP_ROLLED_BACK, .detail = "version 1 is below 2",
		.app_id = "org.a", .version = 1,
	};
	enum app_reason reason;
	char *text;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	/* The reply is queued first: app_guest_call() sends, then reads it. */
	ck_assert_int_eq(app_guest_send(sv[1], &rep), 0);
	ck_assert_int_eq(app_guest_call(sv[0], true, "org.a", "{}", 2, "p", &text,
					&reason), 0);
	ck_assert_int_eq(reason, APP_ROLLED_BACK);
	ck_assert_str_eq(text, "{\"ok\":false,\"reason\":\"rolled-back\","
			 "\"detail\":\"version 1 is below 2\",\"app_id\":\"org.a\",\"version\":1}");
	free(text);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

static Suite *app_suite(void)
{
	Suite *s = suite_create("app");
	TCase *tc;

	tc = tcase_create("manifest");
	tcase_add_checked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_test(tc, test_roundtrip);
	tcase_add_test(tc, test_truncated);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_duplicate_keys);
	tcase_add_loop_test(tc, test_bad_values, 0,
			    sizeof(bad_values) / sizeof(bad_values[0]));
	tcase_add_test(tc, test_encoding_unambiguous);
	suite_add_tcase(s, tc);

	tc = tcase_create("crypto");
	tcase_add_checked_fixture(tc, keys_setup, keys_teardown);
	tcase_add_loop_test(tc, test_sig_tamper, 0, 9);
	tcase_add_test(tc, test_keys_files);
	tcase_add_test(tc, test_hash_copy);
	tcase_add_test(tc, test_proto_oversized_message);
	tcase_add_test(tc, test_guest_requests);
	tcase_add_test(tc, test_guest_reply_roundtrip);
	suite_add_tcase(s, tc);

	tc = tcase_create("policy");
	tcase_add_checked_fixture(tc, dir_setup, dir_teardown);
	tcase_add_test(tc, test_policy_load_errors);
	tcase_add_test(tc, test_policy_rollback_floor);
	suite_add_tcase(s, tc);

	tc = tcase_create("engine");
	tcase_add_checked_fixture(tc, engine_setup, engine_teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_engine_accepts_and_stores);
	tcase_add_test(tc, test_engine_rejections);
	tcase_add_test(tc, test_engine_replay_after_upgrade);
	tcase_add_test(tc, test_engine_primary_down);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(app_suite());
}
