// SPDX-License-Identifier: GPL-2.0
/*
 * The negotiation state machine on a real sd-event loop: every transition,
 * every timeout, rollback, stale and replayed sequence numbers, many VMs
 * at once. The transport records what the engine sends.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hvx_check.h"
#include "pm_engine.h"

#define MAX_SENT 64

struct rec {
	enum pm_send what[MAX_SENT];
	uint32_t seq[MAX_SENT];
	int n;
	int fail_on;		/* -1, or the pm_send to fail with -EPIPE */
	enum pm_neg_state from[MAX_SENT], to[MAX_SENT];
	int changes;
};

static int rec_send(struct pm_vm *vm, enum pm_send what, uint32_t seq, void *u)
{
	struct rec *r = u;

	if (r->fail_on == (int)what)
		return -EPIPE;
	ck_assert_int_lt(r->n, MAX_SENT);
	r->what[r->n] = what;
	r->seq[r->n++] = seq;
	return 0;
}

static void rec_changed(struct pm_vm *vm, enum pm_neg_state from, void *u)
{
	struct rec *r = u;

	ck_assert_int_lt(r->changes, MAX_SENT);
	r->from[r->changes] = from;
	r->to[r->changes++] = pm_vm_state(vm);
}

static const struct pm_engine_ops ops = { rec_send, rec_changed };

static sd_event *ev;
static struct pm_engine *e;
static struct rec rec;
static struct pm_vm *vm;

static void setup(void)
{
	memset(&rec, 0, sizeof(rec));
	rec.fail_on = -1;
	ck_assert_int_ge(sd_event_new(&ev), 0);
	ck_assert_int_eq(pm_engine_new(&e, ev, &ops, &rec), 0);
	ck_assert_int_eq(pm_vm_add(e, "vm0", &vm), 0);
}

static void teardown(void)
{
	pm_engine_free(e);
	sd_event_unref(ev);
}

/* Run the loop until @vm is no longer busy or @ms pass. */
static void run_until_done(struct pm_vm *v, int ms)
{
	for (int i = 0; i < ms && pm_vm_busy(v); i++)
		sd_event_run(ev, 1000);
}

/* Start a round on vm and answer its first @replies steps: FROZEN, ACK. */
static uint32_t start_round(int replies, uint32_t mask)
{
	uint32_t seq;

	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	seq = pm_vm_seq(vm);
	if (replies >= 1)
		ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), 0);
	if (replies >= 2)
		ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ACK, seq, mask, NULL), 0);
	return seq;
}

static void full_round(struct pm_vm *v)
{
	uint32_t seq;

	ck_assert_int_eq(pm_vm_negotiate(v, PM_TRIGGER_MANUAL), 0);
	seq = pm_vm_seq(v);
	ck_assert_int_eq(pm_vm_recv(v, PM_REPLY_FROZEN, seq, 0, NULL), 0);
	ck_assert_int_eq(pm_vm_recv(v, PM_REPLY_ACK, seq, 0x5, NULL), 0);
	ck_assert_int_eq(pm_vm_recv(v, PM_REPLY_ENABLED, seq, 0, NULL), 0);
}

START_TEST(happy_path)
{
	uint32_t seq;

	ck_assert_int_eq(pm_vm_state(vm), PM_IDLE);
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MIGRATION), 0);
	seq = pm_vm_seq(vm);
	ck_assert_int_eq(pm_vm_state(vm), PM_FROZEN);
	ck_assert(pm_vm_busy(vm));
	ck_assert_int_eq(rec.n, 1);
	ck_assert_int_eq(rec.what[0], PM_SEND_FREEZE);
	ck_assert_uint_eq(rec.seq[0], seq);

	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_OFFERED);
	ck_assert_int_eq(rec.what[1], PM_SEND_TABLE);

	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ACK, seq, 0x6, NULL), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_ACKED);
	ck_assert_uint_eq(pm_vm_accepted(vm), 0x6);
	ck_assert_int_eq(rec.what[2], PM_SEND_ENABLE);

	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ENABLED, seq, 0, NULL), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
	ck_assert(!pm_vm_busy(vm));
	ck_assert_int_eq(rec.n, 3);
	ck_assert_str_eq(pm_vm_reason(vm), "");

	/* Every change was reported, in order. */
	ck_assert_int_eq(rec.changes, 4);
	ck_assert_int_eq(rec.from[0], PM_IDLE);
	ck_assert_int_eq(rec.to[0], PM_FROZEN);
	ck_assert_int_eq(rec.to[1], PM_OFFERED);
	ck_assert_int_eq(rec.to[2], PM_ACKED);
	ck_assert_int_eq(rec.to[3], PM_ENABLED);
}
END_TEST

START_TEST(status_json)
{
	struct json_object *o, *v;

	full_round(vm);
	o = pm_vm_status(vm);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "state", &v));
	ck_assert_str_eq(json_object_get_string(v), "enabled");
	ck_assert(json_object_object_get_ex(o, "accepted_mask", &v));
	ck_assert_int_eq(json_object_get_int(v), 5);
	ck_assert(json_object_object_get_ex(o, "trigger", &v));
	ck_assert_str_eq(json_object_get_string(v), "manual");
	ck_assert(!json_object_object_get_ex(o, "reason", NULL));
	json_object_put(o);
}
END_TEST

START_TEST(busy_rejected)
{
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), -EBUSY);
	ck_assert_int_eq(rec.n, 1);
}
END_TEST

START_TEST(renegotiate_from_enabled_and_failed)
{
	uint32_t first;

	full_round(vm);
	first = pm_vm_seq(vm);
	full_round(vm);
	ck_assert_uint_ne(pm_vm_seq(vm), first);
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	pm_vm_disconnected(vm, "test");
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	full_round(vm);
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
}
END_TEST

START_TEST(nak_rolls_back)
{
	uint32_t seq;

	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	seq = pm_vm_seq(vm);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), 0);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_NAK, seq, 0, "no cpuidle driver"), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
	ck_assert_uint_eq(rec.seq[rec.n - 1], seq);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "no cpuidle driver"));
}
END_TEST

START_TEST(error_in_each_state)
{
	for (int at = 0; at < 3; at++) {
		uint32_t seq;

		rec.n = 0;
		seq = start_round(at, 1);
		ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ERROR, seq, 0, "bad TABLE"), 0);
		ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
		ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
		ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "bad TABLE"));
	}
}
END_TEST

START_TEST(nak_while_frozen)
{
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_NAK, pm_vm_seq(vm), 0, ""), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "no reason given"));
}
END_TEST

START_TEST(empty_ack_fails)
{
	uint32_t seq;

	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	seq = pm_vm_seq(vm);
	pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ACK, seq, 0, NULL), 0);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "none of the host"));
}
END_TEST

/* Replies out of order are protocol errors and roll back. */
START_TEST(out_of_order)
{
	static const struct { enum pm_reply r; int at; } cases[] = {
		{ PM_REPLY_ACK, 0 },		/* ACK before FROZEN */
		{ PM_REPLY_ENABLED, 0 },	/* ENABLED before FROZEN */
		{ PM_REPLY_ENABLED, 1 },	/* ENABLED before ACK */
		{ PM_REPLY_FROZEN, 1 },		/* FROZEN twice */
		{ PM_REPLY_ACK, 2 },		/* ACK twice */
		{ PM_REPLY_NAK, 2 },		/* NAK after ACK */
		{ PM_REPLY_FROZEN, 2 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint32_t seq;

		rec.n = 0;
		ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
		seq = pm_vm_seq(vm);
		if (cases[i].at >= 1)
			ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), 0);
		if (cases[i].at >= 2)
			ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ACK, seq, 1, NULL), 0);
		ck_assert_int_eq(pm_vm_recv(vm, cases[i].r, seq, 1, NULL), -EPROTO);
		ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
		ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
		ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "protocol error"));
	}
}
END_TEST

/* Another round's sequence number changes nothing. */
START_TEST(stale_seq_dropped)
{
	struct pm_engine_stats st;
	uint32_t old, seq;

	full_round(vm);
	old = pm_vm_seq(vm);
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	seq = pm_vm_seq(vm);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, old, 0, NULL), -ESTALE);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq + 1, 0, NULL), -ESTALE);
	ck_assert_int_eq(pm_vm_state(vm), PM_FROZEN);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), 0);
	/* A replayed FROZEN after the state moved on is a protocol error. */
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, old, 0, NULL), -ESTALE);
	ck_assert_int_eq(pm_vm_state(vm), PM_OFFERED);
	pm_engine_stats(e, &st);
	ck_assert_uint_eq(st.stale, 3);
}
END_TEST

/* Replies after the round ended are stale, whatever their sequence. */
START_TEST(reply_after_end)
{
	uint32_t seq;

	full_round(vm);
	seq = pm_vm_seq(vm);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ENABLED, seq, 0, NULL), -ESTALE);
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
	ck_assert_int_eq(pm_vm_recv(vm, 99, seq, 0, NULL), -EINVAL);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_ERROR, seq, 0, "late"), -ESTALE);
}
END_TEST

static void timeout_in(int replies, const char *what)
{
	struct pm_engine_timeouts to = { 20000, 20000, 20000 };
	struct pm_engine_stats st;
	uint32_t seq;

	pm_engine_set_timeouts(e, &to);
	seq = start_round(replies, 3);
	run_until_done(vm, 2000);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	ck_assert(!pm_vm_busy(vm));
	ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "timeout"));
	ck_assert_msg(strstr(pm_vm_reason(vm), what), "reason: %s", pm_vm_reason(vm));
	pm_engine_stats(e, &st);
	ck_assert_uint_eq(st.timeouts, 1);
	/* A late reply is stale and changes nothing. */
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, seq, 0, NULL), -ESTALE);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
}

START_TEST(timeout_frozen)
{
	timeout_in(0, "did not confirm FREEZE");
}
END_TEST

START_TEST(timeout_offered)
{
	timeout_in(1, "did not acknowledge");
}
END_TEST

START_TEST(timeout_acked)
{
	timeout_in(2, "did not confirm ENABLE");
}
END_TEST

/* A finished round's timer never fires later. */
START_TEST(no_timeout_after_enabled)
{
	struct pm_engine_timeouts to = { 10000, 10000, 10000 };
	struct pm_engine_stats st;

	pm_engine_set_timeouts(e, &to);
	full_round(vm);
	for (int i = 0; i < 5; i++)
		sd_event_run(ev, 10000);
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
	pm_engine_stats(e, &st);
	ck_assert_uint_eq(st.timeouts, 0);
}
END_TEST

START_TEST(disconnect_in_each_state)
{
	for (int at = 0; at < 3; at++) {
		rec.n = 0;
		start_round(at, 1);
		pm_vm_disconnected(vm, "EOF");
		ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
		/* Nothing can reach the guest: no ABORT is attempted. */
		ck_assert_int_ne(rec.what[rec.n - 1], PM_SEND_ABORT);
		ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "connection lost"));
	}
	/* Disconnecting an idle VM changes nothing. */
	full_round(vm);
	pm_vm_disconnected(vm, "EOF");
	ck_assert_int_eq(pm_vm_state(vm), PM_ENABLED);
}
END_TEST

START_TEST(send_freeze_fails)
{
	rec.fail_on = PM_SEND_FREEZE;
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), -EPIPE);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	ck_assert(!pm_vm_busy(vm));
	ck_assert_int_eq(rec.n, 0);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "cannot send FREEZE"));
}
END_TEST

START_TEST(send_table_fails)
{
	rec.fail_on = PM_SEND_TABLE;
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	ck_assert_int_eq(pm_vm_recv(vm, PM_REPLY_FROZEN, pm_vm_seq(vm), 0, NULL),
			 -EPIPE);
	ck_assert_int_eq(pm_vm_state(vm), PM_FAILED);
	/* The guest is frozen: it is told to roll back. */
	ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
	ck_assert_ptr_nonnull(strstr(pm_vm_reason(vm), "cannot send TABLE"));
}
END_TEST

START_TEST(del_in_flight)
{
	struct pm_engine_stats st;

	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	pm_vm_del(vm);
	ck_assert_int_eq(rec.what[rec.n - 1], PM_SEND_ABORT);
	ck_assert_ptr_null(pm_vm_find(e, "vm0"));
	pm_engine_stats(e, &st);
	ck_assert_uint_eq(st.in_flight, 0);
	/* The timer went with the VM. */
	for (int i = 0; i < 3; i++)
		sd_event_run(ev, 1000);
}
END_TEST

START_TEST(vm_names)
{
	struct pm_vm *v;
	char big[80];

	ck_assert_int_eq(pm_vm_add(e, "vm0", &v), -EEXIST);
	ck_assert_int_eq(pm_vm_add(e, "", &v), -EINVAL);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	ck_assert_int_eq(pm_vm_add(e, big, &v), -EINVAL);
	ck_assert_ptr_eq(pm_vm_find(e, "vm0"), vm);
	ck_assert_ptr_null(pm_vm_find(e, "vm1"));
}
END_TEST

/* Many VMs at once: independent rounds, independent deadlines. */
START_TEST(many_concurrent)
{
	struct pm_engine_timeouts to = { 50000, 50000, 50000 };
	struct pm_engine_stats st;
	struct json_object *all;
	struct pm_vm *v[200];
	char name[16];

	pm_engine_set_timeouts(e, &to);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "m%03d", i);
		ck_assert_int_eq(pm_vm_add(e, name, &v[i]), 0);
		rec.n = 0;
		rec.changes = 0;
		ck_assert_int_eq(pm_vm_negotiate(v[i], PM_TRIGGER_MANUAL), 0);
	}
	/* Even VMs complete, odd ones never answer. */
	for (int i = 0; i < 200; i += 2) {
		uint32_t s = pm_vm_seq(v[i]);

		ck_assert_int_eq(pm_vm_recv(v[i], PM_REPLY_FROZEN, s, 0, NULL), 0);
		ck_assert_int_eq(pm_vm_recv(v[i], PM_REPLY_ACK, s, 1, NULL), 0);
		ck_assert_int_eq(pm_vm_recv(v[i], PM_REPLY_ENABLED, s, 0, NULL), 0);
		rec.n = 0;
		rec.changes = 0;
	}
	for (int i = 0; i < 2000; i++) {
		pm_engine_stats(e, &st);
		if (!st.in_flight)
			break;
		sd_event_run(ev, 1000);
		rec.n = 0;
		rec.changes = 0;
	}
	pm_engine_stats(e, &st);
	ck_assert_uint_eq(st.in_flight, 0);
	ck_assert_uint_eq(st.enabled, 100);
	ck_assert_uint_eq(st.failed, 100);
	ck_assert_uint_eq(st.timeouts, 100);
	for (int i = 0; i < 200; i++)
		ck_assert_int_eq(pm_vm_state(v[i]), i % 2 ? PM_FAILED : PM_ENABLED);
	/* Sequence numbers are unique across VMs. */
	for (int i = 1; i < 200; i++)
		ck_assert_uint_ne(pm_vm_seq(v[i]), pm_vm_seq(v[i - 1]));
	all = pm_engine_status(e);
	ck_assert_int_eq(json_object_array_length(all), 201);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(all, 0), "name")), "m000");
	json_object_put(all);
}
END_TEST

/* Freeing the engine mid-round rolls every guest back. */
START_TEST(free_in_flight)
{
	struct pm_vm *v2;

	ck_assert_int_eq(pm_vm_add(e, "vm1", &v2), 0);
	ck_assert_int_eq(pm_vm_negotiate(vm, PM_TRIGGER_MANUAL), 0);
	ck_assert_int_eq(pm_vm_negotiate(v2, PM_TRIGGER_MANUAL), 0);
	rec.n = 0;
	pm_engine_free(e);
	e = NULL;
	ck_assert_int_eq(rec.n, 2);
	ck_assert_int_eq(rec.what[0], PM_SEND_ABORT);
	ck_assert_int_eq(rec.what[1], PM_SEND_ABORT);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(pm_neg_state_name(PM_IDLE), "idle");
	ck_assert_str_eq(pm_neg_state_name(PM_ACKED), "acked");
	ck_assert_str_eq(pm_neg_state_name(PM_FAILED), "failed");
	ck_assert_str_eq(pm_neg_state_name(PM_NEG_COUNT), "?");
	ck_assert_str_eq(pm_trigger_name(PM_TRIGGER_MIGRATION), "migration");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pm_engine");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, happy_path);
	tcase_add_test(tc, status_json);
	tcase_add_test(tc, busy_rejected);
	tcase_add_test(tc, renegotiate_from_enabled_and_failed);
	tcase_add_test(tc, nak_rolls_back);
	tcase_add_test(tc, nak_while_frozen);
	tcase_add_test(tc, error_in_each_state);
	tcase_add_test(tc, empty_ack_fails);
	tcase_add_test(tc, out_of_order);
	tcase_add_test(tc, stale_seq_dropped);
	tcase_add_test(tc, reply_after_end);
	tcase_add_test(tc, timeout_frozen);
	tcase_add_test(tc, timeout_offered);
	tcase_add_test(tc, timeout_acked);
	tcase_add_test(tc, no_timeout_after_enabled);
	tcase_add_test(tc, disconnect_in_each_state);
	tcase_add_test(tc, send_freeze_fails);
	tcase_add_test(tc, send_table_fails);
	tcase_add_test(tc, del_in_flight);
	tcase_add_test(tc, vm_names);
	tcase_add_test(tc, many_concurrent);
	tcase_add_test(tc, free_in_flight);
	tcase_add_test(tc, names);
	suite_add_tcase(s, tc);
	return hvx_check_run(s);
}
