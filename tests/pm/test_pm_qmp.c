// SPDX-License-Identifier: GPL-2.0
/*
 * The QMP watcher against a scripted QMP server on a unix socket, both on
 * one sd-event loop: the handshake QEMU expects, MIGRATION and RESUME
 * events, errors, garbage, a server that goes away and comes back. The
 * real QEMU side is covered by tests/pm/host_pm_migrate.sh.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "hvx_check.h"
#include "pm_qmp.h"

static sd_event *ev;
static char dir[64], path[128];
static int lfd = -1, cfd = -1;
static char got[8192];		/* what the server received */
static size_t got_len;

static struct {
	int migrations, resumes, incoming, ready, drops;
	char last_status[32];
	uint64_t last_t;
} seen;

static void on_migration(struct pm_qmp *q, const char *status, uint64_t t, void *u)
{
	seen.migrations++;
	snprintf(seen.last_status, sizeof(seen.last_status), "%s", status);
	seen.last_t = t;
}

static void on_resume(struct pm_qmp *q, bool incoming, uint64_t t, void *u)
{
	seen.resumes++;
	seen.incoming += incoming;
}

static void on_state(struct pm_qmp *q, enum pm_qmp_state s, const char *err, void *u)
{
	if (s == PM_QMP_READY)
		seen.ready++;
	if (s == PM_QMP_CONNECTING)
		seen.drops++;
}

static const struct pm_qmp_ops ops = { on_migration, on_resume, on_state };

static void listen_sock(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	strcpy(sa.sun_path, path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
}

static void setup(void)
{
	memset(&seen, 0, sizeof(seen));
	got_len = 0;
	strcpy(dir, "/tmp/hvx-qmp-test.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp", dir);
	ck_assert_int_ge(sd_event_new(&ev), 0);
	listen_sock();
}

static void teardown(void)
{
	if (cfd >= 0)
		close(cfd);
	if (lfd >= 0)
		close(lfd);
	cfd = lfd = -1;
	unlink(path);
	rmdir(dir);
	sd_event_unref(ev);
}

/* Run the loop for about @ms, accepting the client and collecting its bytes. */
static void pump(int ms)
{
	for (int i = 0; i < ms; i++) {
		ssize_t n;

		sd_event_run(ev, 1000);
		if (cfd < 0 && lfd >= 0)
			cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
		if (cfd < 0)
			continue;
		n = recv(cfd, got + got_len, sizeof(got) - 1 - got_len, MSG_DONTWAIT);
		if (n > 0)
			got_len += n;
		got[got_len] = '\0';
	}
}

static void say(const char *s)
{
	ck_assert_int_ge(cfd, 0);
	ck_assert_int_eq(send(cfd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

#define GREETING "{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, \"capabilities\": []}}\r\n"

/* Bring @q to READY the way QEMU answers. */
static void handshake(struct pm_qmp *q)
{
	pump(20);
	ck_assert_int_ge(cfd, 0);
	say(GREETING);
	pump(20);
	ck_assert_ptr_nonnull(strstr(got, "\"qmp_capabilities\""));
	say("{\"return\": {}, \"id\": \"hvx-cap\"}\r\n");
	pump(20);
	ck_assert_ptr_nonnull(strstr(got, "migrate-set-capabilities"));
	ck_assert_ptr_nonnull(strstr(got, "\"events\""));
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_HANDSHAKE);
	say("{\"return\": {}, \"id\": \"hvx-events\"}\r\n");
	pump(20);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_READY);
	ck_assert_str_eq(pm_qmp_error(q), "");
}

START_TEST(incoming_migration)
{
	struct pm_qmp *q;

	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	handshake(q);
	ck_assert_int_eq(seen.ready, 1);
	say("{\"timestamp\": {\"seconds\": 1700000000, \"microseconds\": 250}, "
	    "\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}\r\n");
	/* One event split across two writes. */
	say("{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 5}, \"event\": \"MIG");
	pump(5);
	say("RATION\", \"data\": {\"status\": \"completed\"}}\r\n"
	    "{\"timestamp\": {\"seconds\": 1700000001, \"microseconds\": 9}, "
	    "\"event\": \"RESUME\"}\r\n");
	pump(20);
	ck_assert_int_eq(seen.migrations, 2);
	ck_assert_str_eq(seen.last_status, "completed");
	ck_assert_uint_eq(seen.last_t, 1700000001000005ULL);
	ck_assert_str_eq(pm_qmp_migration(q), "completed");
	ck_assert_int_eq(seen.resumes, 1);
	ck_assert_int_eq(seen.incoming, 1);
	/* A later plain RESUME (after a stop/cont) is no incoming migration. */
	say("{\"event\": \"STOP\"}\r\n{\"event\": \"RESUME\"}\r\n");
	pump(20);
	ck_assert_int_eq(seen.resumes, 2);
	ck_assert_int_eq(seen.incoming, 1);
	pm_qmp_free(q);
}
END_TEST

/* QEMU's own order on the destination: RESUME, then MIGRATION completed. */
START_TEST(incoming_resume_first)
{
	struct pm_qmp *q;

	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	handshake(q);
	say("{\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}\r\n"
	    "{\"event\": \"RESUME\"}\r\n");
	pump(20);
	ck_assert_int_eq(seen.resumes, 0);
	say("{\"event\": \"MIGRATION\", \"data\": {\"status\": \"completed\"}}\r\n");
	pump(20);
	ck_assert_int_eq(seen.resumes, 1);
	ck_assert_int_eq(seen.incoming, 1);
	/* A failed migration followed by a RESUME is no incoming one. */
	say("{\"event\": \"MIGRATION\", \"data\": {\"status\": \"active\"}}\r\n"
	    "{\"event\": \"MIGRATION\", \"data\": {\"status\": \"failed\"}}\r\n"
	    "{\"event\": \"RESUME\"}\r\n");
	pump(20);
	ck_assert_int_eq(seen.resumes, 2);
	ck_assert_int_eq(seen.incoming, 1);
	pm_qmp_free(q);
}
END_TEST

START_TEST(not_qmp)
{
	struct pm_qmp *q;

	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	pump(20);
	say("{\"hello\": 1}\r\n");
	pump(20);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_CONNECTING);
	ck_assert_ptr_nonnull(strstr(pm_qmp_error(q), "no QMP greeting"));
	pm_qmp_free(q);
}
END_TEST

START_TEST(garbage)
{
	struct pm_qmp *q;

	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	handshake(q);
	say("this is not json\r\n");
	pump(20);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_CONNECTING);
	ck_assert_ptr_nonnull(strstr(pm_qmp_error(q), "malformed"));
	pm_qmp_free(q);
}
END_TEST

START_TEST(capability_refused)
{
	struct pm_qmp *q;

	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	pump(20);
	say(GREETING);
	pump(20);
	say("{\"return\": {}, \"id\": \"hvx-cap\"}\r\n");
	pump(20);
	say("{\"id\": \"hvx-events\", \"error\": {\"class\": \"GenericError\", "
	    "\"desc\": \"There's a migration process in progress\"}}\r\n");
	pump(20);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_CONNECTING);
	ck_assert_ptr_nonnull(strstr(pm_qmp_error(q), "migration process in progress"));
	pm_qmp_free(q);
}
END_TEST

/* No server yet, then one; then it goes away and comes back. */
START_TEST(reconnect)
{
	struct pm_qmp *q;

	close(lfd);
	lfd = -1;
	unlink(path);
	ck_assert_int_eq(pm_qmp_new(&q, ev, path, &ops, NULL), 0);
	pump(30);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_CONNECTING);
	ck_assert_ptr_nonnull(strstr(pm_qmp_error(q), "No such file"));
	listen_sock();
	/* The first retries back off from 50 ms. */
	for (int i = 0; i < 100 && cfd < 0; i++)
		pump(10);
	handshake(q);
	close(cfd);
	cfd = -1;
	got_len = 0;
	pump(20);
	ck_assert_int_eq(pm_qmp_state(q), PM_QMP_CONNECTING);
	ck_assert_ptr_nonnull(strstr(pm_qmp_error(q), "closed"));
	for (int i = 0; i < 100 && cfd < 0; i++)
		pump(10);
	handshake(q);
	ck_assert_int_eq(seen.ready, 2);
	pm_qmp_free(q);
}
END_TEST

static int count(struct json_object *msg, void *ctx)
{
	(*(int *)ctx)++;
	return 0;
}

START_TEST(parse_lines)
{
	char buf[256];
	size_t len;
	int n = 0;

	strcpy(buf, "{\"a\":1}\r\n\r\n{\"b\":2}\n{\"c\":");
	len = strlen(buf);
	ck_assert_int_eq(pm_qmp_parse(buf, &len, count, &n), 0);
	ck_assert_int_eq(n, 2);
	ck_assert_uint_eq(len, 5);
	ck_assert(!memcmp(buf, "{\"c\":", 5));
	strcpy(buf, "[1,2]\n");
	len = strlen(buf);
	ck_assert_int_eq(pm_qmp_parse(buf, &len, count, &n), -EBADMSG);
	strcpy(buf, "{\"a\":1} trailing\n");
	len = strlen(buf);
	ck_assert_int_eq(pm_qmp_parse(buf, &len, count, &n), -EBADMSG);
}
END_TEST

START_TEST(parse_oversized)
{
	size_t len = (1u << 20) + 10;
	char *buf = malloc(len);
	int n = 0;

	memset(buf, ' ', len);
	ck_assert_int_eq(pm_qmp_parse(buf, &len, count, &n), -EMSGSIZE);
	free(buf);
}
END_TEST

START_TEST(path_too_long)
{
	struct pm_qmp *q;
	char p[200];

	memset(p, 'x', sizeof(p) - 1);
	p[sizeof(p) - 1] = '\0';
	ck_assert_int_eq(pm_qmp_new(&q, ev, p, &ops, NULL), -ENAMETOOLONG);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pm_qmp");
	TCase *tc = tcase_create("qmp");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, incoming_migration);
	tcase_add_test(tc, incoming_resume_first);
	tcase_add_test(tc, not_qmp);
	tcase_add_test(tc, garbage);
	tcase_add_test(tc, capability_refused);
	tcase_add_test(tc, reconnect);
	tcase_add_test(tc, parse_lines);
	tcase_add_test(tc, parse_oversized);
	tcase_add_test(tc, path_too_long);
	suite_add_tcase(s, tc);
	return hvx_check_run(s);
}
