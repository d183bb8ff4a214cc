// SPDX-License-Identifier: GPL-2.0
/*
 * The PM wire codec (daemon/pm/pm_proto.c), the agent's round tracker and
 * the host PM table (pm_table.c): every message round-trips, every broken
 * frame is refused with the right errno, mutated frames are either refused
 * or canonical, and the SSDT compiles with iasl.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "hvx_check.h"
#include "pm_proto.h"
#include "pm_table.h"

static struct pm_cst cst3[3] = {
	{ .type = 1, .method = PM_CST_FFH, .latency_us = 1, .power_mw = 1000, .name = "C1" },
	{ .type = 2, .method = PM_CST_SYSTEM_IO, .latency_us = 50, .power_mw = 500,
	  .address = 0x514, .name = "C2" },
	{ .type = 3, .method = PM_CST_SYSTEM_IO, .latency_us = 900, .power_mw = 100,
	  .address = 0x515, .name = "C3" },
};
static const struct pm_table table3 = { .n = 3, .cst = cst3 };

static struct pm_report report2 = {
	.qos_latency_us = 50, .frozen = false, .n = 2,
	.state = {
		{ .index = 0, .latency_us = 0, .residency_us = 0, .name = "POLL" },
		{ .index = 3, .disabled = true, .latency_us = 150, .residency_us = 450,
		  .name = "C3" },
	},
};

static unsigned char buf[PM_MSG_MAX + 64];

static size_t frame_table(void)
{
	ssize_t n = pm_msg_encode_table(buf, sizeof(buf), 42, &table3);

	ck_assert_int_gt(n, 0);
	return n;
}

static void set_len(unsigned char *p, uint32_t len)
{
	p[12] = len >> 24;
	p[13] = len >> 16;
	p[14] = len >> 8;
	p[15] = len;
}

static int decode(size_t len, struct pm_msg *m)
{
	size_t used = 0;
	int ret = pm_msg_decode(buf, len, m, &used);

	if (ret == 1)
		ck_assert_uint_eq(used, len);
	return ret;
}

START_TEST(roundtrip_every_type)
{
	struct pm_msg m;
	ssize_t n;

	n = pm_msg_encode_hello(buf, sizeof(buf), 1);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_HELLO);
	ck_assert_uint_eq(m.min_version, PM_PROTO_VERSION);
	ck_assert_uint_eq(m.max_version, PM_PROTO_VERSION);

	n = pm_msg_encode_freeze(buf, sizeof(buf), 0xdeadbeef);
	ck_assert_int_eq(n, PM_HDR_LEN);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_FREEZE);
	ck_assert_uint_eq(m.seq, 0xdeadbeef);

	n = frame_table();
	ck_assert_int_eq(n, PM_HDR_LEN + 4 + 3 * PM_CST_WIRE);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_TABLE);
	ck_assert_uint_eq(m.seq, 42);
	ck_assert_uint_eq(m.table.n, 3);
	for (int i = 0; i < 3; i++) {
		ck_assert_str_eq(m.table.cst[i].name, cst3[i].name);
		ck_assert_uint_eq(m.table.cst[i].type, cst3[i].type);
		ck_assert_uint_eq(m.table.cst[i].method, cst3[i].method);
		ck_assert_uint_eq(m.table.cst[i].latency_us, cst3[i].latency_us);
		ck_assert_uint_eq(m.table.cst[i].power_mw, cst3[i].power_mw);
		ck_assert_uint_eq(m.table.cst[i].address, cst3[i].address);
	}
	pm_msg_release(&m);
	ck_assert_ptr_null(m.table.cst);

	n = pm_msg_encode_ack(buf, sizeof(buf), 5, 0x3);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_uint_eq(pm_msg_accepted(&m), 0x3);
	ck_assert_ptr_null(pm_msg_reason(&m));

	n = pm_msg_encode_enable(buf, sizeof(buf), 5, 0x5);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_ENABLE);
	ck_assert_uint_eq(pm_msg_accepted(&m), 0x5);

	n = pm_msg_encode_nak(buf, sizeof(buf), 6, "no host C state honours C3");
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_str_eq(pm_msg_reason(&m), "no host C state honours C3");
	ck_assert_uint_eq(pm_msg_accepted(&m), 0);

	n = pm_msg_encode_error(buf, sizeof(buf), 6, ETIMEDOUT, "late");
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_int_eq(m.error, ETIMEDOUT);
	ck_assert_str_eq(pm_msg_reason(&m), "late");

	for (int t = 0; t < 2; t++) {
		n = t ? pm_msg_encode_report(buf, sizeof(buf), 8, &report2) :
			pm_msg_encode_enabled(buf, sizeof(buf), 8, &report2);
		ck_assert_int_eq(decode(n, &m), 1);
		ck_assert_uint_eq(m.type, t ? PM_MSG_REPORT : PM_MSG_ENABLED);
		ck_assert_uint_eq(m.report.qos_latency_us, 50);
		ck_assert_uint_eq(m.report.n, 2);
		ck_assert_str_eq(m.report.state[1].name, "C3");
		ck_assert_uint_eq(m.report.state[1].index, 3);
		ck_assert(m.report.state[1].disabled);
		ck_assert_uint_eq(m.report.state[1].residency_us, 450);
	}

	ck_assert_int_gt(pm_msg_encode_frozen(buf, sizeof(buf), 1), 0);
	ck_assert_int_eq(decode(PM_HDR_LEN, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_FROZEN);
	ck_assert_int_gt(pm_msg_encode_abort(buf, sizeof(buf), 1), 0);
	ck_assert_int_eq(decode(PM_HDR_LEN, &m), 1);
	ck_assert_uint_eq(m.type, PM_MSG_ABORT);
	ck_assert_int_gt(pm_msg_encode_status(buf, sizeof(buf), 1), 0);
	ck_assert_int_eq(decode(PM_HDR_LEN, &m), 1);
	ck_assert_str_eq(pm_msg_type_name(m.type), "status");
	ck_assert_str_eq(pm_msg_type_name(0), "unknown");
	ck_assert_str_eq(pm_msg_type_name(__PM_MSG_MAX), "unknown");
}
END_TEST

START_TEST(report_as_json)
{
	struct json_object *o, *s;
	struct pm_msg m;
	ssize_t n = pm_msg_encode_enabled(buf, sizeof(buf), 8, &report2);

	ck_assert_int_eq(decode(n, &m), 1);
	o = pm_msg_report_json(&m);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "states", &s));
	ck_assert_uint_eq(json_object_array_length(s), 2);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(s, 1), "name")), "C3");
	ck_assert(json_object_get_boolean(json_object_object_get(
		json_object_array_get_idx(s, 1), "disabled")));
	ck_assert_int_eq(json_object_get_int(json_object_object_get(o, "qos_latency_us")), 50);
	json_object_put(o);

	report2.qos_latency_us = PM_QOS_NONE;
	n = pm_msg_encode_report(buf, sizeof(buf), 8, &report2);
	report2.qos_latency_us = 50;
	ck_assert_int_eq(decode(n, &m), 1);
	o = pm_msg_report_json(&m);
	ck_assert(json_object_object_get_ex(o, "qos_latency_us", &s));
	ck_assert_ptr_null(s);
	json_object_put(o);

	n = pm_msg_encode_ack(buf, sizeof(buf), 5, 1);
	ck_assert_int_eq(decode(n, &m), 1);
	ck_assert_ptr_null(pm_msg_report_json(&m));
}
END_TEST

START_TEST(truncated_waits_for_more)
{
	size_t len = frame_table();
	struct pm_msg m;

	/* Every proper prefix of a valid frame is "read more", never an error. */
	for (size_t i = 0; i < len; i++)
		ck_assert_msg(decode(i, &m) == 0, "prefix %zu of %zu", i, len);
	ck_assert_int_eq(decode(len, &m), 1);
	pm_msg_release(&m);
}
END_TEST

START_TEST(two_frames_back_to_back)
{
	ssize_t a = pm_msg_encode_freeze(buf, sizeof(buf), 1);
	ssize_t b = pm_msg_encode_ack(buf + a, sizeof(buf) - a, 2, 4);
	struct pm_msg m;
	size_t used;

	ck_assert_int_eq(pm_msg_decode(buf, a + b, &m, &used), 1);
	ck_assert_uint_eq(used, a);
	ck_assert_uint_eq(m.type, PM_MSG_FREEZE);
	ck_assert_int_eq(pm_msg_decode(buf + used, a + b - used, &m, &used), 1);
	ck_assert_uint_eq(m.type, PM_MSG_ACK);
	ck_assert_uint_eq(m.seq, 2);
	ck_assert_uint_eq(used, b);
}
END_TEST

START_TEST(wrong_length_is_garbage)
{
	size_t len = frame_table();
	struct pm_msg m;

	/* A complete frame whose payload is shorter than its type needs... */
	set_len(buf, len - PM_HDR_LEN - 1);
	ck_assert_int_eq(decode(len - 1, &m), -EBADMSG);
	/* ...or longer: no slack. */
	len = pm_msg_encode_ack(buf, sizeof(buf), 1, 1);
	buf[len] = 0;
	set_len(buf, 5);
	ck_assert_int_eq(decode(len + 1, &m), -EBADMSG);
	len = pm_msg_encode_freeze(buf, sizeof(buf), 1);
	buf[len] = 0;
	set_len(buf, 1);
	ck_assert_int_eq(decode(len + 1, &m), -EBADMSG);
}
END_TEST

START_TEST(oversized)
{
	struct pm_msg m;

	pm_msg_encode_freeze(buf, sizeof(buf), 1);
	set_len(buf, PM_PAYLOAD_MAX + 1);
	ck_assert_int_eq(decode(PM_HDR_LEN, &m), -EMSGSIZE);
	set_len(buf, UINT32_MAX);
	ck_assert_int_eq(decode(PM_HDR_LEN, &m), -EMSGSIZE);
	/* The largest legal table still fits PM_MSG_MAX. */
	{
		struct pm_cst c[PM_CST_MAX];
		struct pm_table t = { .n = PM_CST_MAX, .cst = c };

		for (int i = 0; i < PM_CST_MAX; i++) {
			c[i] = cst3[0];
			snprintf(c[i].name, sizeof(c[i].name), "state-%d-long", i);
		}
		ck_assert_int_eq(pm_msg_encode_table(buf, PM_MSG_MAX, 1, &t), PM_MSG_MAX);
		ck_assert_int_eq(decode(PM_MSG_MAX, &m), 1);
		ck_assert_str_eq(m.table.cst[7].name, "state-7-long");
		pm_msg_release(&m);
		t.n = PM_CST_MAX + 1;
		ck_assert_int_eq(pm_msg_encode_table(buf, sizeof(buf), 1, &t), -EINVAL);
	}
}
END_TEST

START_TEST(wrong_version)
{
	struct pm_msg m;
	size_t len = frame_table();

	buf[4] = PM_PROTO_VERSION + 1;
	/* Known as soon as the version byte is in. */
	ck_assert_int_eq(decode(5, &m), -EPROTONOSUPPORT);
	ck_assert_int_eq(decode(len, &m), -EPROTONOSUPPORT);
	buf[4] = 0;
	ck_assert_int_eq(decode(len, &m), -EPROTONOSUPPORT);
}
END_TEST

START_TEST(bad_header)
{
	struct pm_msg m;
	size_t len = pm_msg_encode_freeze(buf, sizeof(buf), 1);

	buf[0] = 'X';
	ck_assert_int_eq(decode(1, &m), -EBADMSG);
	buf[0] = 'H';
	buf[3] = 'Q';
	ck_assert_int_eq(decode(4, &m), -EBADMSG);
	buf[3] = 'P';
	buf[5] = 0;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[5] = __PM_MSG_MAX;
	ck_assert_int_eq(decode(6, &m), -EBADMSG);
	buf[5] = PM_MSG_FREEZE;
	buf[7] = 1;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[7] = 0;
	buf[6] = 0x80;
	ck_assert_int_eq(decode(7, &m), -EBADMSG);
	buf[6] = 0;
	ck_assert_int_eq(decode(len, &m), 1);
}
END_TEST

/* Byte offsets in a TABLE frame. */
#define T_COUNT (PM_HDR_LEN)
#define T_ENTRY(i) (PM_HDR_LEN + 4 + (i) * PM_CST_WIRE)

START_TEST(bad_table_fields)
{
	static const struct { size_t off; unsigned char v; const char *what; } bad[] = {
		{ T_COUNT, 0, "count 0" },
		{ T_COUNT, 2, "count short of the payload" },
		{ T_COUNT, 4, "count past the payload" },
		{ T_COUNT + 1, 1, "reserved after count" },
		{ T_ENTRY(0), 0, "type 0" },
		{ T_ENTRY(0), 4, "type 4" },
		{ T_ENTRY(1) + 1, __PM_CST_METHOD_MAX, "unknown method" },
		{ T_ENTRY(1) + 2, 1, "reserved in entry" },
		{ T_ENTRY(2) + 20, 0, "empty name" },
		{ T_ENTRY(2) + 20, 0x07, "control character in name" },
		{ T_ENTRY(2) + 23, 'x', "text after the name's NUL" },
		{ T_ENTRY(2) + 35, 'x', "name without NUL" },
	};
	struct pm_msg m;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = frame_table();

		buf[bad[i].off] = bad[i].v;
		ck_assert_msg(decode(len, &m) == -EBADMSG, "%s accepted", bad[i].what);
	}
}
END_TEST

START_TEST(bad_payload_fields)
{
	struct pm_msg m;
	size_t len;

	/* ACK and ENABLE name at least one entry, none past PM_CST_MAX. */
	ck_assert_int_eq(pm_msg_encode_ack(buf, sizeof(buf), 1, 0), -EINVAL);
	ck_assert_int_eq(pm_msg_encode_enable(buf, sizeof(buf), 1, 1u << PM_CST_MAX), -EINVAL);
	len = pm_msg_encode_ack(buf, sizeof(buf), 1, 1);
	buf[len - 1] = 0;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[len - 2] = 1;	/* bit 8 */
	ck_assert_int_eq(decode(len, &m), -EBADMSG);

	/* Text: bounded and printable. */
	len = pm_msg_encode_nak(buf, sizeof(buf), 1, "why");
	buf[PM_HDR_LEN + 2] = '\n';
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[PM_HDR_LEN + 2] = 'w';
	buf[PM_HDR_LEN + 1] = 4;	/* says 4, has 3 */
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	{
		char longtext[PM_TEXT_MAX + 50];

		memset(longtext, 'a', sizeof(longtext) - 1);
		longtext[sizeof(longtext) - 1] = '\0';
		len = pm_msg_encode_nak(buf, sizeof(buf), 1, longtext);
		ck_assert_int_eq(len, PM_HDR_LEN + 2 + PM_TEXT_MAX);
		ck_assert_int_eq(decode(len, &m), 1);
		ck_assert_uint_eq(strlen(m.text), PM_TEXT_MAX);
		buf[PM_HDR_LEN] = 0;
		buf[PM_HDR_LEN + 1] = PM_TEXT_MAX + 1;
		memset(buf + len, 'a', 1);
		set_len(buf, 2 + PM_TEXT_MAX + 1);
		ck_assert_int_eq(decode(len + 1, &m), -EBADMSG);
	}

	/* ERROR carries a positive errno. */
	ck_assert_int_eq(pm_msg_encode_error(buf, sizeof(buf), 1, 0, "x"), -EINVAL);
	len = pm_msg_encode_error(buf, sizeof(buf), 1, EIO, "x");
	memset(buf + PM_HDR_LEN, 0xff, 4);
	ck_assert_int_eq(decode(len, &m), -EBADMSG);

	/* Reports: booleans are 0 or 1, at most PM_STATE_MAX states. */
	len = pm_msg_encode_report(buf, sizeof(buf), 1, &report2);
	buf[PM_HDR_LEN + 4] = 2;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[PM_HDR_LEN + 4] = 0;
	buf[PM_HDR_LEN + 5] = PM_STATE_MAX + 1;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[PM_HDR_LEN + 5] = 2;
	buf[PM_HDR_LEN + 8 + PM_STATE_WIRE + 1] = 3;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);

	/* HELLO: min <= max, min >= 1. */
	len = pm_msg_encode_hello(buf, sizeof(buf), 1);
	buf[PM_HDR_LEN + 1] = 2;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
	buf[PM_HDR_LEN + 1] = 0;
	ck_assert_int_eq(decode(len, &m), -EBADMSG);
}
END_TEST

START_TEST(encode_needs_room)
{
	unsigned char small[PM_MSG_MAX];
	ssize_t len = pm_msg_encode_table(small, sizeof(small), 1, &table3);

	for (ssize_t i = 0; i < len; i++)
		ck_assert_int_eq(pm_msg_encode_table(small, i, 1, &table3), -ENOSPC);
	ck_assert_int_eq(pm_msg_encode_status(small, PM_HDR_LEN - 1, 1), -ENOSPC);
}
END_TEST

/* A frame the decoder accepts re-encodes to the same bytes: no slack. */
static void check_canonical(size_t len)
{
	static unsigned char again[PM_MSG_MAX];
	struct pm_msg m;
	size_t used;
	ssize_t n = -1;
	int ret = pm_msg_decode(buf, len, &m, &used);

	ck_assert_msg(ret == 1 || ret == 0 || ret == -EBADMSG || ret == -EMSGSIZE ||
		      ret == -EPROTONOSUPPORT, "decode returned %d", ret);
	if (ret != 1)
		return;
	switch (m.type) {
	case PM_MSG_HELLO:
		n = pm_msg_encode_hello(again, sizeof(again), m.seq);
		if (m.min_version != 1 || m.max_version != 1)
			return;	/* a range we do not emit but may accept */
		break;
	case PM_MSG_TABLE:
		n = pm_msg_encode_table(again, sizeof(again), m.seq, &m.table);
		break;
	case PM_MSG_ACK:
		n = pm_msg_encode_ack(again, sizeof(again), m.seq, m.accepted);
		break;
	case PM_MSG_REPORT:
		n = pm_msg_encode_report(again, sizeof(again), m.seq, &m.report);
		break;
	case PM_MSG_NAK:
		n = pm_msg_encode_nak(again, sizeof(again), m.seq, m.text);
		break;
	case PM_MSG_ERROR:
		n = pm_msg_encode_error(again, sizeof(again), m.seq, m.error, m.text);
		break;
	default:
		pm_msg_release(&m);
		return;
	}
	pm_msg_release(&m);
	ck_assert_int_eq(n, used);
	ck_assert_msg(!memcmp(again, buf, used), "accepted a non-canonical frame");
}

START_TEST(mutated_frames)
{
	unsigned int seed = 7;
	ssize_t lens[5];
	static unsigned char orig[5][PM_MSG_MAX];

	lens[0] = pm_msg_encode_table(orig[0], PM_MSG_MAX, 9, &table3);
	lens[1] = pm_msg_encode_report(orig[1], PM_MSG_MAX, 9, &report2);
	lens[2] = pm_msg_encode_ack(orig[2], PM_MSG_MAX, 9, 3);
	lens[3] = pm_msg_encode_error(orig[3], PM_MSG_MAX, 9, EIO, "disk on fire");
	lens[4] = pm_msg_encode_hello(orig[4], PM_MSG_MAX, 9);
	for (int iter = 0; iter < 20000; iter++) {
		int f = iter % 5, flips = 1 + rand_r(&seed) % 3;

		memcpy(buf, orig[f], lens[f]);
		for (int i = 0; i < flips; i++)
			buf[rand_r(&seed) % lens[f]] ^= 1 + rand_r(&seed) % 255;
		check_canonical(lens[f]);
	}
	/* Pure noise never decodes. */
	for (int iter = 0; iter < 2000; iter++) {
		struct pm_msg m;
		size_t used;

		for (size_t i = 0; i < 64; i++)
			buf[i] = rand_r(&seed);
		if (buf[0] == 'H')
			buf[0] = 'h';
		ck_assert_int_eq(pm_msg_decode(buf, 64, &m, &used), -EBADMSG);
	}
}
END_TEST

static struct pm_msg msg(uint8_t type, uint32_t seq)
{
	return (struct pm_msg){ .type = type, .seq = seq };
}

START_TEST(round_in_order)
{
	struct pm_round r = { 0 };
	struct pm_msg m;

	m = msg(PM_MSG_FREEZE, 10);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	m = msg(PM_MSG_STATUS, 77);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	m = msg(PM_MSG_TABLE, 10);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	pm_round_acked(&r);
	m = msg(PM_MSG_ENABLE, 10);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	ck_assert_int_eq(r.phase, PM_ROUND_NONE);
	m = msg(PM_MSG_FREEZE, 11);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	m = msg(PM_MSG_ABORT, 11);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	ck_assert_int_eq(r.phase, PM_ROUND_NONE);
}
END_TEST

START_TEST(round_replay_and_order)
{
	struct pm_round r = { 0 };
	struct pm_msg m;

	m = msg(PM_MSG_TABLE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -EPROTO);	/* before FREEZE */
	m = msg(PM_MSG_ENABLE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -EPROTO);
	m = msg(PM_MSG_ACK, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -EPROTO);	/* a guest's type */
	m = msg(PM_MSG_FREEZE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);	/* replayed */
	m = msg(PM_MSG_ENABLE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -EPROTO);	/* before ACK */
	m = msg(PM_MSG_TABLE, 6);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);	/* another round */
	m = msg(PM_MSG_TABLE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	ck_assert_int_eq(pm_round_check(&r, &m), -EPROTO);	/* twice */
	/* A new round replaces the abandoned one; the old one is dead. */
	m = msg(PM_MSG_FREEZE, 6);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
	m = msg(PM_MSG_TABLE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);
	pm_round_close(&r);
	m = msg(PM_MSG_ABORT, 6);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);	/* late abort */
	m = msg(PM_MSG_FREEZE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);
	/* The history is bounded: the oldest seq is forgotten. */
	for (uint32_t s = 100; s < 100 + PM_ROUND_HISTORY; s++) {
		m = msg(PM_MSG_FREEZE, s);
		ck_assert_int_eq(pm_round_check(&r, &m), 0);
	}
	m = msg(PM_MSG_FREEZE, 100 + PM_ROUND_HISTORY - 1);
	ck_assert_int_eq(pm_round_check(&r, &m), -ESTALE);
	m = msg(PM_MSG_FREEZE, 5);
	ck_assert_int_eq(pm_round_check(&r, &m), 0);
}
END_TEST

/* ---- the host table ---- */

static char tmpdir[64];

static void mkfile(const char *path, const char *content)
{
	FILE *f;
	char cmd[600];

	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	ck_assert_int_eq(system(cmd), 0);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(content, f);
	fclose(f);
}

static void fake_state(const char *root, int cpu, int i, const char *name, const char *lat,
		       const char *power)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu%d/cpuidle/state%d/name", root, cpu, i);
	mkfile(p, name);
	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu%d/cpuidle/state%d/latency", root, cpu, i);
	mkfile(p, lat);
	snprintf(p, sizeof(p), "%s/devices/system/cpu/cpu%d/cpuidle/state%d/power", root, cpu, i);
	mkfile(p, power);
}

static void setup_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/hvx-pm-table.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(table_parse)
{
	struct pm_table t = { .cpus = 1 };
	char err[256];

	ck_assert_int_eq(pm_table_parse(&t, " C1:1:1:1000:ffh , C2:2:50:500:io@0x514,"
					"C3:3:900:100:io@1301", err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 3);
	ck_assert_uint_eq(t.source, PM_SOURCE_CONFIG);
	ck_assert_uint_eq(t.cst[2].address, 0x515);
	ck_assert_uint_eq(t.cst[2].latency_us, 900);
	ck_assert_uint_eq(t.cst[0].method, PM_CST_FFH);
	pm_table_release(&t);
	ck_assert_int_eq(pm_table_parse(&t, "C1:1:1:1000:ffh@0x20", err, sizeof(err)), 0);
	ck_assert_uint_eq(t.cst[0].address, 0x20);
	pm_table_release(&t);
}
END_TEST

START_TEST(table_parse_errors)
{
	static const struct { const char *in, *err; } bad[] = {
		{ "", "lists no state" },
		{ "C1:1:1:1000", "want NAME:TYPE" },
		{ "C1:1:1:1000:ffh:x", "too many fields" },
		{ "C1:0:1:1000:ffh", "type \"0\"" },
		{ "C1:4:1:1000:ffh", "type \"4\"" },
		{ "C1:1:65536:1000:ffh", "latency \"65536\"" },
		{ "C1:1:-1:1000:ffh", "latency" },
		{ "C1:1:1:lots:ffh", "power" },
		{ "C1:1:1:1:hlt", "is not ffh" },
		{ "C2:2:1:1:io", "io needs a port" },
		{ "C2:2:1:1:io@0x10000", "io needs a port" },
		{ "C2:2:1:1:ffh@zz", "FFixedHW argument" },
		{ "averyveryverylongname:1:1:1:ffh", "1 to 15 characters" },
		{ "C 1:1:1:1:ffh", "letters, digits" },
		{ "C1:1:1:1:ffh,C1:2:5:1:io@1", "listed twice" },
		{ "C1:1:10:1:ffh,C2:2:5:1:io@1", "shallowest first" },
		{ "C2:2:10:1:io@1,C1:1:20:1:ffh", "shallowest first" },
		{ "a:1:1:1:ffh,b:1:1:1:ffh,c:1:1:1:ffh,d:1:1:1:ffh,e:1:1:1:ffh,"
		  "f:1:1:1:ffh,g:1:1:1:ffh,h:1:1:1:ffh,i:1:1:1:ffh", "more than 8" },
	};
	struct pm_table t = { .cpus = 1 };
	char err[256];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		ck_assert_msg(pm_table_parse(&t, bad[i].in, err, sizeof(err)) == -EINVAL,
			      "\"%s\" accepted", bad[i].in);
		ck_assert_msg(strstr(err, bad[i].err), "\"%s\": \"%s\" lacks \"%s\"", bad[i].in,
			      err, bad[i].err);
		ck_assert_ptr_null(t.cst);
	}
}
END_TEST

START_TEST(table_from_sysfs)
{
	struct pm_table_conf c = { .source = PM_SOURCE_SYSFS, .io_base = 0x514, .ssdt_cpus = 2 };
	struct pm_table t;
	char err[256];

	snprintf(c.sysfs_root, sizeof(c.sysfs_root), "%s", tmpdir);
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "no cpuidle states"), "%s", err);
	/* auto: no cpuidle (a VM without _CST) is an empty offer, not an error. */
	c.source = PM_SOURCE_AUTO;
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 0);
	ck_assert_ptr_null(pm_table_to_asl(&t));

	fake_state(tmpdir, 0, 0, "POLL\n", "0\n", "4294967295\n");
	fake_state(tmpdir, 0, 1, "C1\n", "1\n", "0\n");
	fake_state(tmpdir, 0, 2, "C1E\n", "10\n", "0\n");
	fake_state(tmpdir, 0, 3, "C6\n", "133\n", "4294967295\n");
	fake_state(tmpdir, 0, 4, "C10\n", "99999\n", "0\n");
	c.source = PM_SOURCE_SYSFS;
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 4);
	ck_assert_uint_eq(t.cpus, 2);
	ck_assert_str_eq(t.cst[0].name, "C1");
	ck_assert_uint_eq(t.cst[0].type, 1);
	ck_assert_uint_eq(t.cst[0].method, PM_CST_FFH);
	ck_assert_str_eq(t.cst[1].name, "C1E");
	ck_assert_uint_eq(t.cst[1].type, 2);
	ck_assert_uint_eq(t.cst[1].address, 0x514);
	ck_assert_uint_eq(t.cst[2].type, 3);
	ck_assert_uint_eq(t.cst[2].address, 0x515);
	ck_assert_uint_eq(t.cst[2].power_mw, UINT32_MAX);
	ck_assert_uint_eq(t.cst[3].type, 3);
	ck_assert_uint_eq(t.cst[3].latency_us, 0xffff);
	pm_table_release(&t);

	/* The config wins in auto when set; a bad one is an error. */
	c.source = PM_SOURCE_AUTO;
	snprintf(c.cstates, sizeof(c.cstates), "C1:1:2:3:ffh");
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), 0);
	ck_assert_uint_eq(t.n, 1);
	ck_assert_uint_eq(t.source, PM_SOURCE_CONFIG);
	pm_table_release(&t);
	snprintf(c.cstates, sizeof(c.cstates), "C1:9:2:3:ffh");
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), -EINVAL);
	c.source = PM_SOURCE_CONFIG;
	c.cstates[0] = '\0';
	ck_assert_int_eq(pm_table_load(&t, &c, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, "cstates is empty"), "%s", err);
}
END_TEST

START_TEST(table_json)
{
	struct pm_table t = table3;
	struct json_object *o, *s, *e;

	t.source = PM_SOURCE_CONFIG;
	o = pm_table_to_json(&t);
	ck_assert_ptr_nonnull(o);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "source")), "config");
	ck_assert(json_object_object_get_ex(o, "states", &s));
	ck_assert_uint_eq(json_object_array_length(s), 3);
	e = json_object_array_get_idx(s, 2);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(e, "name")), "C3");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(e, "latency_us")), 900);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(e, "entry")),
			 "SystemIO 0x515");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(
		json_object_array_get_idx(s, 0), "entry")), "FFixedHW");
	json_object_put(o);
}
END_TEST

START_TEST(table_ssdt_compiles)
{
	struct pm_table t = table3;
	char path[128], cmd[512], *asl;

	t.cpus = 4;
	asl = pm_table_to_asl(&t);
	ck_assert_ptr_nonnull(asl);
	ck_assert_ptr_nonnull(strstr(asl, "Scope (\\_SB.CPUS.C003)"));
	ck_assert_ptr_null(strstr(asl, "C004"));
	ck_assert_ptr_nonnull(strstr(asl, "Register (SystemIO, 0x08, 0x00, 0x0515"));
	snprintf(path, sizeof(path), "%s/cst.asl", tmpdir);
	mkfile(path, asl);
	free(asl);
	ck_assert_msg(!system("command -v iasl >/dev/null"),
		      "iasl not installed (Debian acpica-tools, scripts/setup)");
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -p cst cst.asl >iasl.log 2>&1", tmpdir);
	ck_assert_msg(!system(cmd), "iasl refused the SSDT");
	snprintf(path, sizeof(path), "%s/cst.aml", tmpdir);
	{
		struct stat st;

		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_gt(st.st_size, 36);	/* an ACPI table header and more */
	}
	/* The AML says what the ASL says: iasl -d round-trips the latencies. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && iasl -d cst.aml >/dev/null 2>&1 && "
		 "grep -q 0x0384 cst.dsl && grep -q 'SystemIO' cst.dsl", tmpdir);
	ck_assert_msg(!system(cmd), "disassembled SSDT lacks the table");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("pm_proto");
	TCase *tc = tcase_create("codec");
	TCase *tr = tcase_create("round");
	TCase *tt = tcase_create("table");

	tcase_add_test(tc, roundtrip_every_type);
	tcase_add_test(tc, report_as_json);
	tcase_add_test(tc, truncated_waits_for_more);
	tcase_add_test(tc, two_frames_back_to_back);
	tcase_add_test(tc, wrong_length_is_garbage);
	tcase_add_test(tc, oversized);
	tcase_add_test(tc, wrong_version);
	tcase_add_test(tc, bad_header);
	tcase_add_test(tc, bad_table_fields);
	tcase_add_test(tc, bad_payload_fields);
	tcase_add_test(tc, encode_needs_room);
	tcase_add_test(tc, mutated_frames);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tcase_add_test(tr, round_in_order);
	tcase_add_test(tr, round_replay_and_order);
	suite_add_tcase(s, tr);
	tcase_add_checked_fixture(tt, setup_tmp, teardown_tmp);
	tcase_add_test(tt, table_parse);
	tcase_add_test(tt, table_parse_errors);
	tcase_add_test(tt, table_from_sysfs);
	tcase_add_test(tt, table_json);
	tcase_add_test(tt, table_ssdt_compiles);
	tcase_set_timeout(tt, 30);
	suite_add_tcase(s, tt);
	return hvx_check_run(s);
}
