/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvxd's side of a power-management negotiation, one state machine per VM:
 *
 *   idle -> frozen -> offered -> acked -> enabled
 *              \         \         \
 *               +---------+---------+--> failed (rollback sent to the guest)
 *
 * A state is entered when the host has done its part: "frozen" once FREEZE
 * is sent (the guest must hold its PM QoS request), "offered" once the
 * guest confirmed the freeze and TABLE is sent, "acked" once the guest
 * accepted a subset and ENABLE is sent, "enabled" once the guest applied
 * it. Every waiting state has a deadline on the sd-event loop; nothing here
 * blocks, so any number of VMs negotiate at once.
 *
 * The engine knows no wire format: the unit encodes what send() asks for
 * and feeds decoded replies to pm_vm_recv(). Each negotiation uses a fresh
 * sequence number; a reply carrying another one is a replay or a late
 * answer to an abandoned round and is dropped (counted, never acted on).
 */
#ifndef HVX_PM_ENGINE_H
#define HVX_PM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

enum pm_neg_state {
	PM_IDLE,
	PM_FROZEN,
	PM_OFFERED,
	PM_ACKED,
	PM_ENABLED,
	PM_FAILED,
	PM_NEG_COUNT,
};

/* What the engine asks the transport to send. */
enum pm_send {
	PM_SEND_FREEZE,
	PM_SEND_TABLE,
	PM_SEND_ENABLE,
	PM_SEND_ABORT,		/* rollback: thaw to the pre-freeze state */
};

/* What the guest answered, decoded by the transport. */
enum pm_reply {
	PM_REPLY_FROZEN,
	PM_REPLY_ACK,		/* with the accepted subset of the table */
	PM_REPLY_NAK,		/* with the guest's reason */
	PM_REPLY_ENABLED,
	PM_REPLY_ERROR,		/* the guest refused a frame, with its reason */
};

/* Why a negotiation started. */
enum pm_trigger {
	PM_TRIGGER_MANUAL,	/* hvxctl pm negotiate */
	PM_TRIGGER_MIGRATION,	/* RESUME after an incoming migration */
};

struct pm_engine;
struct pm_vm;

struct pm_engine_ops {
	/* Send @what with @seq to @vm's agent; 0 or -errno (fails the round). */
	int (*send)(struct pm_vm *vm, enum pm_send what, uint32_t seq,
		    void *userdata);
	/* After every state change, for logs and waiters; may be NULL. */
	void (*changed)(struct pm_vm *vm, enum pm_neg_state from, void *userdata);
};

struct pm_engine_timeouts {
	uint64_t freeze_usec;	/* FREEZE sent -> FROZEN */
	uint64_t ack_usec;	/* TABLE sent -> ACK/NAK */
	uint64_t enable_usec;	/* ENABLE sent -> ENABLED */
};

int pm_engine_new(struct pm_engine **e, sd_event *ev,
		  const struct pm_engine_ops *ops, void *userdata);
/* Fails every negotiation in flight (rolling it back), frees every VM. */
void pm_engine_free(struct pm_engine *e);
void pm_engine_set_timeouts(struct pm_engine *e, const struct pm_engine_timeouts *t);

/* @name is unique; -EEXIST, -EINVAL (empty or over 63 bytes), -ENOMEM. */
int pm_vm_add(struct pm_engine *e, const char *name, struct pm_vm **vm);
/* A round in flight fails with "VM removed" (and is rolled back). */
void pm_vm_del(struct pm_vm *vm);
struct pm_vm *pm_vm_find(struct pm_engine *e, const char *name);
const char *pm_vm_name(const struct pm_vm *vm);
void pm_vm_set_priv(struct pm_vm *vm, void *priv);
void *pm_vm_priv(const struct pm_vm *vm);
enum pm_neg_state pm_vm_state(const struct pm_vm *vm);
/* The failure of the last round, "" unless failed. */
const char *pm_vm_reason(const struct pm_vm *vm);
/* Accepted subset (bit i = table entry i) of the last acked round. */
uint32_t pm_vm_accepted(const struct pm_vm *vm);
/* The sequence number the current (or last) round uses. */
uint32_t pm_vm_seq(const struct pm_vm *vm);
bool pm_vm_busy(const struct pm_vm *vm);

/*
 * Start a round: -EBUSY while one is in flight; from idle, enabled or
 * failed. A send() failure fails the round at once (the error is
 * returned and the VM is left failed, with the reason).
 */
int pm_vm_negotiate(struct pm_vm *vm, enum pm_trigger why);
/*
 * A decoded reply. Returns 0 when acted on, -ESTALE for a sequence number
 * other than the round's (dropped), -EPROTO for a reply the current state
 * does not expect (the round fails: the guest is confused, roll it back).
 * @accepted for ACK, @reason for NAK and ERROR (may be NULL). ERROR is
 * taken in any waiting state and fails the round.
 */
int pm_vm_recv(struct pm_vm *vm, enum pm_reply r, uint32_t seq,
	       uint32_t accepted, const char *reason);
/* The agent's connection went away: a round in flight fails. */
void pm_vm_disconnected(struct pm_vm *vm, const char *why);

const char *pm_neg_state_name(enum pm_neg_state s);
const char *pm_trigger_name(enum pm_trigger t);

/* {"name", "state", "seq", "reason", "trigger", timings...} */
struct json_object *pm_vm_status(const struct pm_vm *vm);
/* Array of every VM's status, in name order; NULL on -ENOMEM. */
struct json_object *pm_engine_status(struct pm_engine *e);

struct pm_engine_stats {
	uint64_t started, enabled, failed, timeouts, stale, in_flight;
};

void pm_engine_stats(const struct pm_engine *e, struct pm_engine_stats *s);

#endif /* HVX_PM_ENGINE_H */
