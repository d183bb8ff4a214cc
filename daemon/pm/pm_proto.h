/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Power-management negotiation between hvxd and hvx-guest-agent.
 *
 * Wire format, version 1. Every integer is big-endian. A stream (virtio
 * serial port, AF_VSOCK or AF_UNIX stream) carries frames back to back:
 *
 *   offset size field
 *        0    4 magic    "HVXP" (0x48565850)
 *        4    1 version  PM_PROTO_VERSION; anything else: -EPROTONOSUPPORT
 *        5    1 type     enum pm_msg_type
 *        6    2 flags    must be 0
 *        8    4 seq      the negotiation round (see below)
 *       12    4 len      payload bytes that follow, <= PM_PAYLOAD_MAX
 *       16  len payload  fixed per type; exactly len bytes, no slack
 *
 * Payloads (host -> guest: H, guest -> host: G):
 *   HELLO   H,G u16 min_version, u16 max_version
 *   FREEZE  H   empty: hold the PM QoS request, answer FROZEN
 *   FROZEN  G   empty
 *   TABLE   H   u8 count (1..PM_CST_MAX), u8 0, u16 0, then count entries of
 *               PM_CST_WIRE bytes: u8 type (1..3, ACPI C1..C3), u8 method
 *               (enum pm_cst_method), u16 0, u32 latency_us, u32 power_mw,
 *               u64 address (I/O port, or the FFH argument), char name[16]
 *               (NUL-padded, printable)
 *   ACK     G   u32 accepted: bit i = TABLE entry i, at least one bit
 *   NAK     G   text: why the guest refuses the table
 *   ENABLE  H   u32 accepted: what to apply (the ACK's set)
 *   ENABLED G   report, after applying and releasing the freeze
 *   ABORT   H   empty: roll back to the pre-freeze state now
 *   STATUS  H   empty: ask for a REPORT (any time, changes nothing)
 *   REPORT  G   report
 *   ERROR   H,G u32 errno, then text: the peer's last frame was refused
 *
 *   text:   u16 n (<= PM_TEXT_MAX), n printable bytes, no NUL
 *   report: u32 qos_latency_us (PM_QOS_NONE: no cap), u8 frozen (0/1),
 *           u8 count (<= PM_STATE_MAX), u16 0, then count entries of
 *           PM_STATE_WIRE bytes: u8 index, u8 disabled (0/1), u16 0,
 *           u32 latency_us, u32 residency_us, char name[16]
 *
 * Sequence numbers: the host picks a fresh seq for every round and puts it
 * on FREEZE; TABLE, ENABLE and ABORT of that round and every answer carry
 * the same one. The guest tracks rounds with struct pm_round: a FREEZE
 * reusing a recent seq is a replay, a TABLE or ENABLE with another seq or
 * out of order (TABLE before FREEZE, ENABLE before ACK, twice) is refused
 * and answered with ERROR; the host drops answers for other rounds.
 *
 * The codec is strict: a frame is accepted only when every field is in
 * range and the payload is exactly the length its type needs, so garbage
 * never reaches the state machines. A stream that produced an error
 * cannot be resynchronised: the reader drops the connection.
 */
#ifndef HVX_PM_PROTO_H
#define HVX_PM_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PM_PROTO_MAGIC		0x48565850u
#define PM_PROTO_VERSION	1
#define PM_HDR_LEN		16
#define PM_CST_MAX		8	/* ACPI allows more; no CPU has them */
#define PM_CST_WIRE		36
#define PM_STATE_MAX		10	/* CPUIDLE_STATE_MAX */
#define PM_STATE_WIRE		28
#define PM_NAME_LEN		16	/* with the NUL */
#define PM_TEXT_MAX		200
#define PM_QOS_NONE		UINT32_MAX
#define PM_PAYLOAD_MAX		(4 + PM_CST_MAX * PM_CST_WIRE)
#define PM_MSG_MAX		(PM_HDR_LEN + PM_PAYLOAD_MAX)

enum pm_msg_type {
	PM_MSG_HELLO = 1,
	PM_MSG_FREEZE,
	PM_MSG_FROZEN,
	PM_MSG_TABLE,
	PM_MSG_ACK,
	PM_MSG_NAK,
	PM_MSG_ENABLE,
	PM_MSG_ENABLED,
	PM_MSG_ABORT,
	PM_MSG_STATUS,
	PM_MSG_REPORT,
	PM_MSG_ERROR,
	__PM_MSG_MAX,
};

/* How a C state is entered, as the _CST Register() says. */
enum pm_cst_method {
	PM_CST_FFH,		/* Register (FFixedHW): HLT/MWAIT */
	PM_CST_SYSTEM_IO,	/* Register (SystemIO): read the P_LVL port */
	__PM_CST_METHOD_MAX,
};

struct pm_cst {
	uint8_t type;		/* 1..3 */
	uint8_t method;		/* enum pm_cst_method */
	uint32_t latency_us;
	uint32_t power_mw;
	uint64_t address;
	char name[PM_NAME_LEN];
};

/* The host's offer: n entries, deepest last. */
struct pm_table {
	size_t n;
	struct pm_cst *cst;
	/* Host side, not on the wire: enum pm_table_source, SSDT CPU count. */
	unsigned int source, cpus;
};

/* One guest cpuidle state, as the guest reports it. */
struct pm_state {
	uint8_t index;
	bool disabled;
	uint32_t latency_us;
	uint32_t residency_us;
	char name[PM_NAME_LEN];
};

struct pm_report {
	uint32_t qos_latency_us;
	bool frozen;
	size_t n;
	struct pm_state state[PM_STATE_MAX];
};

struct pm_msg {
	uint8_t type;
	uint32_t seq;
	uint16_t min_version, max_version;	/* HELLO */
	struct pm_table table;			/* TABLE: owned, see release */
	uint32_t accepted;			/* ACK, ENABLE */
	int32_t error;				/* ERROR: positive errno */
	char text[PM_TEXT_MAX + 1];		/* NAK, ERROR */
	struct pm_report report;		/* ENABLED, REPORT */
};

/*
 * Decode the frame at the start of @buf. Returns 1 with *@m filled (release
 * it) and *@used set to the frame's length; 0 when @buf holds only a valid
 * prefix (read more); -EBADMSG (bad magic, flags, type, reserved bytes,
 * payload of the wrong length or with out-of-range fields),
 * -EPROTONOSUPPORT (another version), -EMSGSIZE (len over PM_PAYLOAD_MAX).
 */
int pm_msg_decode(const void *buf, size_t len, struct pm_msg *m, size_t *used);
void pm_msg_release(struct pm_msg *m);

/* Encoders: the frame's length, or -ENOSPC (@size too small), -EINVAL. */
ssize_t pm_msg_encode_hello(void *buf, size_t size, uint32_t seq);
ssize_t pm_msg_encode_freeze(void *buf, size_t size, uint32_t seq);
ssize_t pm_msg_encode_frozen(void *buf, size_t size, uint32_t seq);
ssize_t pm_msg_encode_table(void *buf, size_t size, uint32_t seq,
			    const struct pm_table *t);
ssize_t pm_msg_encode_ack(void *buf, size_t size, uint32_t seq, uint32_t accepted);
ssize_t pm_msg_encode_nak(void *buf, size_t size, uint32_t seq, const char *why);
ssize_t pm_msg_encode_enable(void *buf, size_t size, uint32_t seq, uint32_t accepted);
ssize_t pm_msg_encode_enabled(void *buf, size_t size, uint32_t seq,
			      const struct pm_report *r);
ssize_t pm_msg_encode_abort(void *buf, size_t size, uint32_t seq);
ssize_t pm_msg_encode_status(void *buf, size_t size, uint32_t seq);
ssize_t pm_msg_encode_report(void *buf, size_t size, uint32_t seq,
			     const struct pm_report *r);
ssize_t pm_msg_encode_error(void *buf, size_t size, uint32_t seq, int err,
			    const char *why);

const char *pm_msg_type_name(unsigned int type);
/* ACK/ENABLE: the set; 0 otherwise. */
uint32_t pm_msg_accepted(const struct pm_msg *m);
/* NAK/ERROR: the peer's reason; NULL otherwise. */
const char *pm_msg_reason(const struct pm_msg *m);

/*
 * ENABLED/REPORT as {"qos_latency_us", "frozen", "states": [{"index",
 * "name", "latency_us", "residency_us", "disabled"}]}; NULL for other types
 * or -ENOMEM. Host side only (json-c): pm_proto_json.c.
 */
struct json_object *pm_msg_report_json(const struct pm_msg *m);

void pm_table_release(struct pm_table *t);

/* The guest's view of the rounds, see the wire format above. */
#define PM_ROUND_HISTORY 16

enum pm_round_phase {
	PM_ROUND_NONE,		/* no round open */
	PM_ROUND_FROZEN,	/* FREEZE taken */
	PM_ROUND_OFFERED,	/* TABLE taken, not acked (NAK: wait for ABORT) */
	PM_ROUND_ACKED,		/* the guest sent its ACK */
};

struct pm_round {
	enum pm_round_phase phase;
	uint32_t seq;
	uint32_t seen[PM_ROUND_HISTORY];	/* seqs of past FREEZEs */
	unsigned int nseen;
};

/*
 * Check host message @m against the round state: 0 and the phase advanced,
 * -ESTALE (a replayed FREEZE, or a TABLE/ENABLE/ABORT of another round) or
 * -EPROTO (out of order). STATUS and HELLO are always accepted. ACKED is
 * entered by pm_round_acked() once the guest sent its ACK; ENABLE and ABORT
 * close the round.
 */
int pm_round_check(struct pm_round *r, const struct pm_msg *m);
void pm_round_acked(struct pm_round *r);
/* Close the open round without an ENABLE (timeout, host gone). */
void pm_round_close(struct pm_round *r);

#endif /* HVX_PM_PROTO_H */
