// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of the cluster wire codecs, discovery proof, join tokens,
 * identities, placement policy and the crash-safe store.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/sha.h>
#include <openssl/x509.h>
#include "hvx_check.h"

#include "cluster_crypto.h"
#include "cluster_policy.h"
#include "cluster_store.h"
#include "cluster_token.h"
#include "cluster_wire.h"

static const char secret[] = "0123456789abcdef";

static void fill_discover(struct cluster_discover *d)
{
	memset(d, 0, sizeof(*d));
	memset(d->host_id, 0x11, sizeof(d->host_id));
	memset(d->nonce, 0x22, sizeof(d->nonce));
	strcpy(d->token_id, "abcdef");
	strcpy(d->hostname, "node1");
	strcpy(d->facts.cpu_model, "AMD EPYC 7763 64-Core Processor");
	strcpy(d->facts.features, "svm npt avx2");
	d->facts.memory_mb = 65536;
	strcpy(d->facts.modules, "hvx_core=1");
	strcpy(d->facts.labels, "zone=a rack=r1");
}

static void fill_answer(struct cluster_answer *a)
{
	memset(a, 0, sizeof(*a));
	memset(a->host_id, 0x11, sizeof(a->host_id));
	memset(a->nonce, 0x22, sizeof(a->nonce));
	memset(a->cluster_id, 0x33, sizeof(a->cluster_id));
	memset(a->fingerprint, 0x44, sizeof(a->fingerprint));
	a->tls_port = 7946;
	a->status = CLUSTER_ST_ADMIT;
	strcpy(a->manager, "mgr0");
}

START_TEST(discover_roundtrip)
{
	struct cluster_discover d, out;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why = NULL;
	int len;

	fill_discover(&d);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	ck_assert_int_gt(len, CLUSTER_WIRE_HDR);
	ck_assert_int_eq(cluster_wire_peek(buf, len, &why), CLUSTER_MSG_DISCOVER);
	ck_assert_int_eq(cluster_discover_decode(&out, buf, len, &why), 0);
	ck_assert_mem_eq(&out, &d, sizeof(d));
}
END_TEST

START_TEST(discover_without_optional)
{
	struct cluster_discover d = { 0 }, out;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	d.host_id[0] = 1;
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	ck_assert_int_eq(cluster_discover_decode(&out, buf, len, &why), 0);
	ck_assert_str_eq(out.token_id, "");
	ck_assert_int_eq(out.facts.memory_mb, 0);
}
END_TEST

START_TEST(truncated_every_length)
{
	struct cluster_discover d, out;
	struct cluster_answer a, aout;
	uint8_t buf[CLUSTER_WIRE_MAX], abuf[CLUSTER_WIRE_MAX];
	const char *why;
	int len, alen;

	fill_discover(&d);
	fill_answer(&a);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	alen = cluster_answer_encode(&a, secret, 16, abuf, sizeof(abuf));
	for (int i = 0; i < len; i++) {
		/* A shorter datagram with the length field patched to match. */
		uint8_t t[CLUSTER_WIRE_MAX];

		ck_assert_int_lt(cluster_discover_decode(&out, buf, i, &why), 0);
		memcpy(t, buf, i);
		if (i >= CLUSTER_WIRE_HDR) {
			t[6] = i >> 8;
			t[7] = i & 0xff;
			/* Cut at an attribute boundary after the required
			 * ones it is valid, but then the cut fields are gone.
			 */
			if (!cluster_discover_decode(&out, t, i, &why))
				ck_assert_str_eq(out.facts.labels, "");
		}
	}
	for (int i = 0; i < alen; i++)
		ck_assert_int_lt(cluster_answer_decode(&aout, abuf, i, &why), 0);
}
END_TEST

START_TEST(oversized_rejected)
{
	uint8_t buf[CLUSTER_WIRE_MAX + 100];
	struct cluster_discover d;
	const char *why;

	fill_discover(&d);
	cluster_discover_encode(&d, buf, sizeof(buf));
	ck_assert_int_eq(cluster_discover_decode(&d, buf, sizeof(buf), &why),
			 -EMSGSIZE);
	ck_assert_str_eq(why, "oversized datagram");
	/* A string longer than its field does not fit the encoder either. */
	memset(d.facts.features, 'a', sizeof(d.facts.features));
	d.facts.features[sizeof(d.facts.features) - 1] = '\0';
	memset(d.facts.labels, 'b', sizeof(d.facts.labels) - 1);
	memset(d.facts.modules, 'c', sizeof(d.facts.modules) - 1);
	memset(d.facts.cpu_model, 'd', sizeof(d.facts.cpu_model) - 1);
	ck_assert_int_eq(cluster_discover_encode(&d, buf, 64), -EMSGSIZE);
}
END_TEST

START_TEST(string_over_field_limit)
{
	struct cluster_discover d, out;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	char host[200];
	int len;

	fill_discover(&d);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	/* Re-encode by hand with a 100-byte hostname (limit is 64). */
	memset(host, 'h', 100);
	buf[len] = 0;
	buf[len + 1] = CLUSTER_A_HOSTNAME;
	buf[len + 2] = 0;
	buf[len + 3] = 100;
	memcpy(buf + len + 4, host, 100);
	len += 104;
	buf[6] = len >> 8;
	buf[7] = len & 0xff;
	ck_assert_int_eq(cluster_discover_decode(&out, buf, len, &why), -EBADMSG);
}
END_TEST

START_TEST(wrong_version)
{
	struct cluster_discover d;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	fill_discover(&d);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	buf[4] = 2;
	ck_assert_int_eq(cluster_discover_decode(&d, buf, len, &why),
			 -EPROTONOSUPPORT);
	buf[4] = 0;
	ck_assert_int_eq(cluster_discover_decode(&d, buf, len, &why),
			 -EPROTONOSUPPORT);
}
END_TEST

START_TEST(bad_header)
{
	struct cluster_discover d;
	struct cluster_answer a;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	fill_discover(&d);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	buf[0] = 'X';
	ck_assert_int_eq(cluster_discover_decode(&d, buf, len, &why), -EBADMSG);
	ck_assert_str_eq(why, "bad magic");
	buf[0] = 'H';
	ck_assert_int_eq(cluster_discover_decode(&d, buf, len - 1, &why), -EBADMSG);
	/* A discover is not an answer. */
	ck_assert_int_eq(cluster_answer_decode(&a, buf, len, &why), -EBADMSG);
	buf[5] = 9;
	ck_assert_int_eq(cluster_discover_decode(&d, buf, len, &why), -EBADMSG);
}
END_TEST

/* Appends a raw attribute and fixes the length field. */
static int append(uint8_t *buf, int len, int type, const void *v, int l)
{
	buf[len] = type >> 8;
	buf[len + 1] = type & 0xff;
	buf[len + 2] = l >> 8;
	buf[len + 3] = l & 0xff;
	memcpy(buf + len + 4, v, l);
	len += 4 + l;
	buf[6] = len >> 8;
	buf[7] = len & 0xff;
	return len;
}

START_TEST(bad_attributes)
{
	struct cluster_discover d, out;
	uint8_t buf[CLUSTER_WIRE_MAX], t[CLUSTER_WIRE_MAX];
	uint8_t zero[32] = { 0 };
	const char *why;
	int len, l;

	fill_discover(&d);
	d.token_id[0] = '\0';
	len = cluster_discover_encode(&d, buf, sizeof(buf));

	memcpy(t, buf, len);
	l = append(t, len, CLUSTER_A_HOST_ID, zero, 16);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "duplicate attribute");

	memcpy(t, buf, len);
	l = append(t, len, 200, zero, 4);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "unknown attribute");

	memcpy(t, buf, len);
	l = append(t, len, CLUSTER_A_FINGERPRINT, zero, 32);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "attribute not valid in this message");

	memcpy(t, buf, len);
	l = append(t, len, CLUSTER_A_TOKEN_ID, "ABCDEF", 6);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "malformed token id");

	memcpy(t, buf, len);
	l = append(t, len, CLUSTER_A_TOKEN_ID, "ab\ncde", 6);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "string is not printable ASCII");

	memcpy(t, buf, len);
	l = append(t, len, CLUSTER_A_TOKEN_ID, "", 0);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "attribute has a bad length");

	/* The nonce is required: a datagram with only the host id is not enough. */
	memcpy(t, buf, CLUSTER_WIRE_HDR);
	l = append(t, CLUSTER_WIRE_HDR, CLUSTER_A_HOST_ID, zero, 16);
	ck_assert_int_eq(cluster_discover_decode(&out, t, l, &why), -EBADMSG);
	ck_assert_str_eq(why, "required attribute missing");
}
END_TEST

START_TEST(garbage_never_decodes)
{
	uint8_t buf[CLUSTER_WIRE_MAX + 1];
	struct cluster_discover d;
	struct cluster_answer a;
	const char *why;

	srand(42);
	for (int i = 0; i < 20000; i++) {
		size_t len = rand() % sizeof(buf);

		for (size_t j = 0; j < len; j++)
			buf[j] = rand();
		/* Half of them with a valid header so the attribute parser runs. */
		if (i & 1 && len >= CLUSTER_WIRE_HDR) {
			memcpy(buf, "HVXC\1", 5);
			buf[5] = 1 + (i & 2) / 2;
			buf[6] = len >> 8;
			buf[7] = len & 0xff;
		}
		ck_assert_int_lt(cluster_discover_decode(&d, buf, len, &why), 0);
		ck_assert_int_lt(cluster_answer_decode(&a, buf, len, &why), 0);
	}
}
END_TEST

START_TEST(mutated_never_crashes)
{
	struct cluster_discover d, out;
	uint8_t buf[CLUSTER_WIRE_MAX], t[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	fill_discover(&d);
	len = cluster_discover_encode(&d, buf, sizeof(buf));
	srand(7);
	for (int i = 0; i < 20000; i++) {
		memcpy(t, buf, len);
		for (int k = 0; k < 3; k++)
			t[CLUSTER_WIRE_HDR + rand() % (len - CLUSTER_WIRE_HDR)] = rand();
		/* Whatever the outcome, decoded strings stay within bounds. */
		if (!cluster_discover_decode(&out, t, len, &why)) {
			ck_assert_uint_lt(strlen(out.hostname), sizeof(out.hostname));
			ck_assert_uint_lt(strlen(out.facts.labels),
					  sizeof(out.facts.labels));
		}
	}
}
END_TEST

START_TEST(answer_proof)
{
	struct cluster_answer a, out;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	fill_answer(&a);
	strcpy(a.reason, "admitted");
	len = cluster_answer_encode(&a, secret, 16, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(cluster_answer_decode(&out, buf, len, &why), 0);
	ck_assert(out.has_proof);
	ck_assert_int_eq(out.tls_port, 7946);
	ck_assert_str_eq(out.reason, "admitted");
	ck_assert_mem_eq(out.fingerprint, a.fingerprint, CLUSTER_FP_LEN);
	ck_assert(cluster_answer_verify(&out, buf, secret, 16));
	ck_assert(!cluster_answer_verify(&out, buf, "0123456789abcdeX", 16));

	/* A relay that swaps in its own key breaks the proof. */
	for (int i = CLUSTER_WIRE_HDR; i < len - CLUSTER_PROOF_LEN - 4; i++) {
		buf[i] ^= 1;
		if (!cluster_answer_decode(&out, buf, len, &why))
			ck_assert(!cluster_answer_verify(&out, buf, secret, 16));
		buf[i] ^= 1;
	}
}
END_TEST

START_TEST(answer_without_proof)
{
	struct cluster_answer a, out;
	uint8_t buf[CLUSTER_WIRE_MAX];
	const char *why;
	int len;

	fill_answer(&a);
	a.status = CLUSTER_ST_TOKEN_UNKNOWN;
	len = cluster_answer_encode(&a, NULL, 0, buf, sizeof(buf));
	ck_assert_int_eq(cluster_answer_decode(&out, buf, len, &why), 0);
	ck_assert(!out.has_proof);
	ck_assert(!cluster_answer_verify(&out, buf, secret, 16));

	/* Nothing may follow the proof: it would be unsigned. */
	len = cluster_answer_encode(&a, secret, 16, buf, sizeof(buf));
	len = append(buf, len, CLUSTER_A_REASON, "x", 1);
	ck_assert_int_eq(cluster_answer_decode(&out, buf, len, &why), -EBADMSG);
	ck_assert_str_eq(why, "attribute after the proof");

	/* Unknown status and port 0 are refused. */
	a.status = 77;
	len = cluster_answer_encode(&a, NULL, 0, buf, sizeof(buf));
	ck_assert_int_eq(cluster_answer_decode(&out, buf, len, &why), -EBADMSG);
	a.status = 0;
	a.tls_port = 0;
	len = cluster_answer_encode(&a, NULL, 0, buf, sizeof(buf));
	ck_assert_int_eq(cluster_answer_decode(&out, buf, len, &why), -EBADMSG);
}
END_TEST

START_TEST(token_parse)
{
	char id[7], sec[17];

	ck_assert_int_eq(cluster_token_parse("abcdef.0123456789abcdef", id, sec), 0);
	ck_assert_str_eq(id, "abcdef");
	ck_assert_str_eq(sec, "0123456789abcdef");
	ck_assert_int_eq(cluster_token_parse("abcde.0123456789abcdef", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("abcdef.0123456789abcde", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("ABCDEF.0123456789abcdef", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("abcdef-0123456789abcdef", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("abcdef.0123456789abcde.", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("abcdef.0123456789abcdef0", id, sec), -EINVAL);
	ck_assert_int_eq(cluster_token_parse("", id, sec), -EINVAL);
}
END_TEST

START_TEST(token_generate)
{
	struct cluster_token t, u;
	char s[32], id[7], sec[17];

	ck_assert_int_eq(cluster_token_generate(&t, 1000, 3600), 0);
	snprintf(s, sizeof(s), "%s.%s", t.id, t.secret);
	ck_assert_int_eq(cluster_token_parse(s, id, sec), 0);
	ck_assert_int_eq(t.expires, 4600);
	ck_assert_int_eq(cluster_token_generate(&u, 1000, 0), 0);
	ck_assert_int_eq(u.expires, 0);
	ck_assert_str_ne(t.secret, u.secret);
}
END_TEST

START_TEST(token_expiry_and_revoke)
{
	struct cluster_token t;
	char msg[96];

	cluster_token_generate(&t, 1000, 60);
	strcpy(t.id, "abcdef");
	ck_assert_int_eq(cluster_token_check(&t, 1059, msg, sizeof(msg)), 0);
	ck_assert_int_eq(cluster_token_check(&t, 1060 + 180, msg, sizeof(msg)),
			 -EKEYEXPIRED);
	ck_assert_str_eq(msg, "token abcdef expired 3m ago");
	ck_assert_int_eq(cluster_token_check(&t, 1060 + 7200, msg, sizeof(msg)),
			 -EKEYEXPIRED);
	ck_assert_str_eq(msg, "token abcdef expired 2h ago");
	t.revoked = 1010;
	ck_assert_int_eq(cluster_token_check(&t, 1055, msg, sizeof(msg)),
			 -EKEYREVOKED);
	ck_assert_str_eq(msg, "token abcdef revoked 45s ago");
}
END_TEST

START_TEST(durations)
{
	int64_t v;

	ck_assert_int_eq(cluster_parse_duration("1h", &v), 0);
	ck_assert_int_eq(v, 3600);
	ck_assert_int_eq(cluster_parse_duration("90", &v), 0);
	ck_assert_int_eq(v, 90);
	ck_assert_int_eq(cluster_parse_duration("2d", &v), 0);
	ck_assert_int_eq(v, 172800);
	ck_assert_int_eq(cluster_parse_duration("0", &v), 0);
	ck_assert_int_eq(v, 0);
	ck_assert_int_eq(cluster_parse_duration("1hh", &v), -EINVAL);
	ck_assert_int_eq(cluster_parse_duration("-1h", &v), -EINVAL);
	ck_assert_int_eq(cluster_parse_duration("h", &v), -EINVAL);
	ck_assert_int_eq(cluster_parse_duration("1w", &v), -EINVAL);
	ck_assert_int_eq(cluster_parse_duration("99999999999d", &v), -ERANGE);
}
END_TEST

START_TEST(token_list_gc_json)
{
	struct cluster_tokens ts = { 0 }, back = { 0 };
	struct cluster_token t;
	struct json_object *j;
	char err[128];
	int64_t now = 100000000;

	for (int i = 0; i < 20; i++) {
		cluster_token_generate(&t, now, i % 2 ? 60 : 0);
		ck_assert_int_eq(cluster_tokens_add(&ts, &t), 0);
	}
	ck_assert_int_eq(cluster_tokens_add(&ts, &t), -EEXIST);
	ck_assert_ptr_nonnull(cluster_tokens_find(&ts, t.id));
	ts.v[0].revoked = now;
	j = cluster_tokens_to_json(&ts, now, 1);
	ck_assert_int_eq(cluster_tokens_from_json(&back, j, err, sizeof(err)), 0);
	json_object_put(j);
	ck_assert_int_eq(back.n, 20);
	ck_assert_mem_eq(back.v, ts.v, 20 * sizeof(t));
	/* Expired/revoked more than a week ago are dropped, live ones kept. */
	cluster_tokens_gc(&ts, now + CLUSTER_TOKEN_KEEP_S + 61);
	ck_assert_int_eq(ts.n, 9);
	cluster_tokens_free(&ts);
	cluster_tokens_free(&back);
}
END_TEST

static int tmpdir(char *path)
{
	strcpy(path, "/tmp/hvx-cluster-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(path));
	return open(path, O_RDONLY | O_DIRECTORY);
}

static void rmtree(const char *path)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(ident_create_and_reload)
{
	struct cluster_ident a, b;
	unsigned char *der = NULL;
	uint8_t fp[32];
	char dir[64], err[256];
	int dfd = tmpdir(dir), len;
	struct stat sb;

	ck_assert_int_eq(cluster_ident_load(&a, dfd, "manager", "hvx-test",
					    err, sizeof(err)), 0);
	ck_assert_int_eq(cluster_ident_load(&b, dfd, "manager", "hvx-test",
					    err, sizeof(err)), 0);
	ck_assert_mem_eq(a.fp, b.fp, 32);
	/* The pin is the SHA-256 of the DER SubjectPublicKeyInfo. */
	len = i2d_PUBKEY(a.key, &der);
	SHA256(der, len, fp);
	OPENSSL_free(der);
	ck_assert_mem_eq(a.fp, fp, 32);
	ck_assert_int_eq(fstatat(dfd, "manager.key", &sb, 0), 0);
	ck_assert_int_eq(sb.st_mode & 0777, 0600);
	cluster_ident_free(&a);
	cluster_ident_free(&b);

	/* A damaged key is an error, never silently replaced. */
	ck_assert_int_eq(cluster_write_atomic(dfd, "manager.key", "junk", 4, 0600), 0);
	ck_assert_int_eq(cluster_ident_load(&a, dfd, "manager", "x", err,
					    sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "manager.key"));
	/* Half an identity too. */
	ck_assert_int_eq(unlinkat(dfd, "manager.crt", 0), 0);
	ck_assert_int_eq(cluster_ident_load(&a, dfd, "manager", "x", err,
					    sizeof(err)), -ENOENT);
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(ident_pem_roundtrip)
{
	struct cluster_ident a, b;
	char err[256], *key, *cert;

	ck_assert_int_eq(cluster_ident_create(&a, "hvx-test", err, sizeof(err)), 0);
	ck_assert_int_eq(cluster_ident_to_pem(&a, &key, &cert), 0);
	ck_assert_int_eq(cluster_ident_from_pem(&b, key, cert, err, sizeof(err)), 0);
	ck_assert_mem_eq(a.fp, b.fp, CLUSTER_FP_LEN);
	cluster_ident_free(&b);
	/* A certificate of another key is refused. */
	cluster_ident_free(&a);
	ck_assert_int_eq(cluster_ident_create(&a, "other", err, sizeof(err)), 0);
	free(cert);
	free(key);
	ck_assert_int_eq(cluster_ident_to_pem(&a, &key, &cert), 0);
	ck_assert_int_eq(cluster_ident_from_pem(&b, key, "junk", err, sizeof(err)), -EINVAL);
	free(key);
	free(cert);
	cluster_ident_free(&a);
}
END_TEST

START_TEST(fp_format_parse)
{
	uint8_t fp[32], back[32];
	char s[72];

	for (int i = 0; i < 32; i++)
		fp[i] = i * 7;
	cluster_fp_format(fp, s);
	ck_assert_int_eq(strlen(s), 71);
	ck_assert_int_eq(cluster_fp_parse(s, back), 0);
	ck_assert_mem_eq(fp, back, 32);
	ck_assert_int_eq(cluster_fp_parse(s + 7, back), -EINVAL);
	s[20] = 'g';
	ck_assert_int_eq(cluster_fp_parse(s, back), -EINVAL);
	ck_assert_int_eq(cluster_fp_parse("sha256:00", back), -EINVAL);
}
END_TEST

static void add_member(struct cluster_state *st, int i)
{
	struct cluster_member m = { 0 };

	memset(m.host_id, i, sizeof(m.host_id));
	memset(m.fp, 0xa0 + i, sizeof(m.fp));
	snprintf(m.hostname, sizeof(m.hostname), "node%d", i);
	snprintf(m.address, sizeof(m.address), "10.0.0.%d", i);
	strcpy(m.token_id, "abcdef");
	m.joined = 1000 + i;
	m.last_seen = 2000 + i;
	m.state = i % 2 ? CLUSTER_MEMBER_DOWN : CLUSTER_MEMBER_UP;
	m.facts.memory_mb = 1024 * i;
	strcpy(m.facts.labels, "zone=a");
	ck_assert_ptr_nonnull(cluster_state_add(st, &m));
}

START_TEST(state_roundtrip)
{
	struct cluster_state st, back;
	struct cluster_token t;
	char dir[64], err[256];
	int dfd = tmpdir(dir);

	ck_assert_int_eq(cluster_state_load(&st, dfd, err, sizeof(err)), 0);
	ck_assert_int_eq(st.n_members, 0);
	for (int i = 1; i <= 40; i++)
		add_member(&st, i);
	cluster_token_generate(&t, 5, 60);
	cluster_tokens_add(&st.tokens, &t);
	cluster_state_remove(&st, cluster_state_member(&st, st.members[3].host_id));
	ck_assert_int_eq(cluster_state_save(&st, dfd), 0);
	ck_assert_int_eq(cluster_state_load(&back, dfd, err, sizeof(err)), 0);
	ck_assert_mem_eq(back.cluster_id, st.cluster_id, CLUSTER_ID_LEN);
	ck_assert_int_eq(back.generation, st.generation);
	ck_assert_int_eq(back.n_members, 39);
	ck_assert_int_eq(back.generation, 41);
	ck_assert_mem_eq(back.members, st.members, 39 * sizeof(*st.members));
	ck_assert_int_eq(back.tokens.n, 1);
	ck_assert_str_eq(back.tokens.v[0].secret, t.secret);
	cluster_state_free(&back);
	cluster_state_free(&st);
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(state_corrupt_is_error)
{
	static const char *const bad[] = {
		"{", "[]", "{\"version\":2}", "{} trailing",
		"{\"version\":1,\"cluster_id\":\"00\",\"generation\":1,"
		"\"members\":[],\"tokens\":[]}",
		"{\"version\":1,\"cluster_id\":\"000102030405060708090a0b0c0d0e0f\","
		"\"generation\":1,\"members\":[{}],\"tokens\":[]}",
		"{\"version\":1,\"cluster_id\":\"000102030405060708090a0b0c0d0e0f\","
		"\"generation\":1,\"members\":[],\"tokens\":[{\"id\":\"ABCDEF\"}]}",
	};
	struct cluster_state st;
	char dir[64], err[256], *text;
	int dfd = tmpdir(dir);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(cluster_write_atomic(dfd, CLUSTER_STATE_FILE, bad[i],
						      strlen(bad[i]), 0600), 0);
		ck_assert_int_eq(cluster_state_load(&st, dfd, err, sizeof(err)),
				 -EINVAL);
		ck_assert_ptr_nonnull(strstr(err, CLUSTER_STATE_FILE));
		/* The file is left for the operator, not overwritten. */
		ck_assert_int_eq(cluster_read_file(dfd, CLUSTER_STATE_FILE, 1 << 20,
						   &text), 0);
		ck_assert_str_eq(text, bad[i]);
		free(text);
	}
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(write_failure_keeps_old)
{
	struct cluster_state st, back;
	struct rlimit old, lim = { 4096, 4096 };
	char dir[64], err[256];
	int dfd = tmpdir(dir), n = 0;
	struct dirent *de;
	DIR *d;

	ck_assert_int_eq(cluster_state_load(&st, dfd, err, sizeof(err)), 0);
	add_member(&st, 1);
	ck_assert_int_eq(cluster_state_save(&st, dfd), 0);
	for (int i = 2; i < 60; i++)
		add_member(&st, i);
	/* The file size limit makes the write of the bigger state fail. */
	signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	setrlimit(RLIMIT_FSIZE, &lim);
	ck_assert_int_eq(cluster_state_save(&st, dfd), -EFBIG);
	setrlimit(RLIMIT_FSIZE, &old);
	ck_assert_int_eq(cluster_state_load(&back, dfd, err, sizeof(err)), 0);
	ck_assert_int_eq(back.n_members, 1);
	/* And no temporary file is left behind. */
	d = fdopendir(dup(dfd));
	while ((de = readdir(d)))
		n += de->d_name[0] != '.' || strstr(de->d_name, ".tmp");
	closedir(d);
	ck_assert_int_eq(n, 1);
	cluster_state_free(&back);
	cluster_state_free(&st);
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(crash_mid_write)
{
	char dir[64], err[256];
	int dfd = tmpdir(dir);

	for (int round = 0; round < 15; round++) {
		struct cluster_state st;
		pid_t pid;

		pid = fork();
		ck_assert_int_ge(pid, 0);
		if (!pid) {
			/* Save ever larger states until killed. */
			if (cluster_state_load(&st, dfd, err, sizeof(err)))
				_exit(2);
			for (int i = 1;; i++) {
				if (i < 200)
					add_member(&st, i);
				if (cluster_state_save(&st, dfd))
					_exit(3);
			}
		}
		usleep(20000 + round * 3000);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		/* Whatever moment it died, the file is one complete state. */
		ck_assert_msg(!cluster_state_load(&st, dfd, err, sizeof(err)),
			      "round %d: %s", round, err);
		ck_assert_int_eq(st.generation, st.n_members);
		for (size_t i = 0; i < st.n_members; i++)
			ck_assert_int_eq(st.members[i].joined,
					 1000 + st.members[i].host_id[0]);
		cluster_state_free(&st);
		ck_assert_int_eq(unlinkat(dfd, CLUSTER_STATE_FILE, 0), 0);
	}
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(host_state_roundtrip)
{
	struct cluster_host_state hs, back;
	char dir[64], err[256];
	int dfd = tmpdir(dir);

	ck_assert_int_eq(cluster_host_load(&hs, dfd, err, sizeof(err)), 0);
	ck_assert(!hs.joined);
	ck_assert_int_eq(cluster_host_load(&back, dfd, err, sizeof(err)), 0);
	ck_assert_mem_eq(back.host_id, hs.host_id, CLUSTER_ID_LEN);
	hs.joined = true;
	memset(hs.cluster_id, 5, sizeof(hs.cluster_id));
	memset(hs.fp, 6, sizeof(hs.fp));
	strcpy(hs.manager, "fe80::1%veth0");
	hs.manager_port = 7947;
	ck_assert_int_eq(cluster_host_save(&hs, dfd), 0);
	ck_assert_int_eq(cluster_host_load(&back, dfd, err, sizeof(err)), 0);
	ck_assert_mem_eq(&back, &hs, sizeof(hs));
	close(dfd);
	rmtree(dir);
}
END_TEST

START_TEST(policy_rules)
{
	struct cluster_policy p = { 0 };
	struct cluster_discover d;
	char why[CLUSTER_REASON_MAX];

	fill_discover(&d);
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), 0);

	p.min_memory_mb = 131072;
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "rule min_memory_mb: host has 65536 MiB, policy requires 131072 MiB");
	p.min_memory_mb = 4096;

	strcpy(p.cpu_model, "*Xeon*");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_ptr_nonnull(strstr(why, "rule cpu_model:"));
	strcpy(p.cpu_model, "*EPYC*");

	strcpy(p.features, "svm  avx512f");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "rule features: host lacks cpu feature avx512f");
	strcpy(p.features, "svm npt");

	strcpy(p.modules, "hvx_core hvx_iommu");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "rule modules: host has no hvx_iommu loaded");
	strcpy(p.modules, "hvx_core");

	strcpy(p.labels, "zone=b");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "rule labels: host label zone=a does not match b");
	strcpy(p.labels, "zone=a pool=*");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), -EPERM);
	ck_assert_str_eq(why, "rule labels: host has no label pool (policy wants pool=*)");
	strcpy(p.labels, "zone=[ab] rack=r*");
	ck_assert_int_eq(cluster_policy_check(&p, &d.facts, why, sizeof(why)), 0);
}
END_TEST

START_TEST(facts_of_this_machine)
{
	struct cluster_facts f;

	ck_assert_int_eq(cluster_facts_gather(&f, "zone=a", "/proc", "/sys"), 0);
	ck_assert_uint_gt(f.memory_mb, 0);
	ck_assert_str_eq(f.labels, "zone=a");
	ck_assert_int_eq(cluster_facts_gather(&f, "zone", "/proc", "/sys"), -EINVAL);
	ck_assert_int_eq(cluster_facts_gather(&f, "=a", "/proc", "/sys"), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("cluster");
	TCase *wire = tcase_create("wire"), *tok = tcase_create("token");
	TCase *store = tcase_create("store"), *pol = tcase_create("policy");

	tcase_add_test(wire, discover_roundtrip);
	tcase_add_test(wire, discover_without_optional);
	tcase_add_test(wire, truncated_every_length);
	tcase_add_test(wire, oversized_rejected);
	tcase_add_test(wire, string_over_field_limit);
	tcase_add_test(wire, wrong_version);
	tcase_add_test(wire, bad_header);
	tcase_add_test(wire, bad_attributes);
	tcase_add_test(wire, garbage_never_decodes);
	tcase_add_test(wire, mutated_never_crashes);
	tcase_add_test(wire, answer_proof);
	tcase_add_test(wire, answer_without_proof);
	tcase_set_timeout(wire, 60);
	tcase_add_test(tok, token_parse);
	tcase_add_test(tok, token_generate);
	tcase_add_test(tok, token_expiry_and_revoke);
	tcase_add_test(tok, durations);
	tcase_add_test(tok, token_list_gc_json);
	tcase_add_test(store, ident_create_and_reload);
	tcase_add_test(store, ident_pem_roundtrip);
	tcase_add_test(store, fp_format_parse);
	tcase_add_test(store, state_roundtrip);
	tcase_add_test(store, state_corrupt_is_error);
	tcase_add_test(store, write_failure_keeps_old);
	tcase_add_test(store, crash_mid_write);
	tcase_add_test(store, host_state_roundtrip);
	tcase_set_timeout(store, 60);
	tcase_add_test(pol, policy_rules);
	tcase_add_test(pol, facts_of_this_machine);
	suite_add_tcase(s, wire);
	suite_add_tcase(s, tok);
	suite_add_tcase(s, store);
	suite_add_tcase(s, pol);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
