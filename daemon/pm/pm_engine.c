// SPDX-License-Identifier: GPL-2.0
/*
 * The per-VM negotiation state machine (see pm_engine.h). One deadline
 * timer per VM, armed only while waiting for the guest.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvx_json.h"
#include "pm_engine.h"

#define PM_NAME_MAX 64
#define PM_REASON_MAX 160

struct pm_vm {
	struct pm_vm *next, **pprev;
	struct pm_engine *e;
	char name[PM_NAME_MAX];
	void *priv;
	enum pm_neg_state state;
	enum pm_trigger trigger;
	bool busy;
	uint32_t seq;
	uint32_t accepted;
	char reason[PM_REASON_MAX];
	sd_event_source *timer;
	/* CLOCK_MONOTONIC start of the round, CLOCK_REALTIME of its end. */
	uint64_t start_usec, done_usec, done_realtime_usec;
	uint64_t rounds, failures;
};

struct pm_engine {
	sd_event *ev;
	const struct pm_engine_ops *ops;
	void *userdata;
	struct pm_engine_timeouts to;
	struct pm_vm *vms;
	size_t n_vms;
	/* Sequence numbers never repeat across VMs or rounds of one daemon. */
	uint32_t next_seq;
	struct pm_engine_stats stats;
};

static const char *const state_names[PM_NEG_COUNT] = {
	[PM_IDLE] = "idle",
	[PM_FROZEN] = "frozen",
	[PM_OFFERED] = "offered",
	[PM_ACKED] = "acked",
	[PM_ENABLED] = "enabled",
	[PM_FAILED] = "failed",
};

const char *pm_neg_state_name(enum pm_neg_state s)
{
	return s < PM_NEG_COUNT ? state_names[s] : "?";
}

const char *pm_trigger_name(enum pm_trigger t)
{
	return t == PM_TRIGGER_MIGRATION ? "migration" : "manual";
}

static uint64_t now(const struct pm_engine *e, clockid_t clk)
{
	struct timespec ts;
	uint64_t t = 0;

	/* The loop's cached time keeps one iteration's timestamps consistent. */
	if (clk == CLOCK_MONOTONIC && sd_event_now(e->ev, clk, &t) >= 0)
		return t;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int pm_engine_new(struct pm_engine **ep, sd_event *ev,
		  const struct pm_engine_ops *ops, void *userdata)
{
	struct pm_engine *e = calloc(1, sizeof(*e));
	struct timespec ts;

	if (!e)
		return -ENOMEM;
	e->ev = sd_event_ref(ev);
	e->ops = ops;
	e->userdata = userdata;
	e->to = (struct pm_engine_timeouts){ 5000000, 5000000, 5000000 };
	/* Start somewhere unpredictable so a restarted hvxd never reuses one. */
	clock_gettime(CLOCK_REALTIME, &ts);
	e->next_seq = (uint32_t)(ts.tv_nsec ^ ts.tv_sec) | 1;
	*ep = e;
	return 0;
}

void pm_engine_set_timeouts(struct pm_engine *e, const struct pm_engine_timeouts *t)
{
	e->to = *t;
}

void pm_engine_free(struct pm_engine *e)
{
	if (!e)
		return;
	while (e->vms)
		pm_vm_del(e->vms);
	sd_event_unref(e->ev);
	free(e);
}

int pm_vm_add(struct pm_engine *e, const char *name, struct pm_vm **out)
{
	struct pm_vm *vm;

	if (!*name || strlen(name) >= PM_NAME_MAX)
		return -EINVAL;
	if (pm_vm_find(e, name))
		return -EEXIST;
	vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->e = e;
	strcpy(vm->name, name);
	vm->next = e->vms;
	if (e->vms)
		e->vms->pprev = &vm->next;
	vm->pprev = &e->vms;
	e->vms = vm;
	e->n_vms++;
	*out = vm;
	return 0;
}

struct pm_vm *pm_vm_find(struct pm_engine *e, const char *name)
{
	for (struct pm_vm *vm = e->vms; vm; vm = vm->next)
		if (!strcmp(vm->name, name))
			return vm;
	return NULL;
}

const char *pm_vm_name(const struct pm_vm *vm) { return vm->name; }
void pm_vm_set_priv(struct pm_vm *vm, void *priv) { vm->priv = priv; }
void *pm_vm_priv(const struct pm_vm *vm) { return vm->priv; }
enum pm_neg_state pm_vm_state(const struct pm_vm *vm) { return vm->state; }
const char *pm_vm_reason(const struct pm_vm *vm) { return vm->reason; }
uint32_t pm_vm_accepted(const struct pm_vm *vm) { return vm->accepted; }
uint32_t pm_vm_seq(const struct pm_vm *vm) { return vm->seq; }
bool pm_vm_busy(const struct pm_vm *vm) { return vm->busy; }

static void disarm(struct pm_vm *vm)
{
	if (vm->timer)
		sd_event_source_set_enabled(vm->timer, SD_EVENT_OFF);
}

static void set_state(struct pm_vm *vm, enum pm_neg_state s)
{
	enum pm_neg_state from = vm->state;

	vm->state = s;
	if (vm->e->ops->changed)
		vm->e->ops->changed(vm, from, vm->e->userdata);
}

static void finish(struct pm_vm *vm)
{
	struct pm_engine *e = vm->e;

	disarm(vm);
	vm->busy = false;
	e->stats.in_flight--;
	vm->done_usec = now(e, CLOCK_MONOTONIC);
	vm->done_realtime_usec = now(e, CLOCK_REALTIME);
}

/*
 * The round fails. The guest gets ABORT so that it thaws to its pre-freeze
 * state now rather than at its own timeout; if even that cannot be sent
 * (connection gone), the agent's own timeout or its EOF does the same.
 */
static void fail(struct pm_vm *vm, bool rollback, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct pm_vm *vm, bool rollback, const char *fmt, ...)
{
	struct pm_engine *e = vm->e;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(vm->reason, sizeof(vm->reason), fmt, ap);
	va_end(ap);
	finish(vm);
	vm->failures++;
	e->stats.failed++;
	if (rollback)
		e->ops->send(vm, PM_SEND_ABORT, vm->seq, e->userdata);
	set_state(vm, PM_FAILED);
}

static int on_deadline(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct pm_vm *vm = userdata;
	static const char *const waiting[PM_NEG_COUNT] = {
		[PM_FROZEN] = "the guest did not confirm FREEZE",
		[PM_OFFERED] = "the guest did not acknowledge the PM table",
		[PM_ACKED] = "the guest did not confirm ENABLE",
	};

	if (!vm->busy)
		return 0;
	vm->e->stats.timeouts++;
	fail(vm, true, "timeout in state %s: %s within %llu ms",
	     pm_neg_state_name(vm->state), waiting[vm->state] ?: "no answer",
	     (unsigned long long)(usec - vm->start_usec) / 1000);
	return 0;
}

static int arm(struct pm_vm *vm, uint64_t timeout)
{
	uint64_t t = now(vm->e, CLOCK_MONOTONIC) + timeout;
	int ret;

	if (!vm->timer) {
		ret = sd_event_add_time(vm->e->ev, &vm->timer, CLOCK_MONOTONIC, t,
					1000, on_deadline, vm);
		if (ret < 0)
			return ret;
		sd_event_source_set_description(vm->timer, "pm-deadline");
	}
	ret = sd_event_source_set_time(vm->timer, t);
	if (ret >= 0)
		ret = sd_event_source_set_enabled(vm->timer, SD_EVENT_ONESHOT);
	return ret < 0 ? ret : 0;
}

/* Send @what and wait up to @timeout in state @s; on error the round fails. */
static int step(struct pm_vm *vm, enum pm_send what, enum pm_neg_state s,
		uint64_t timeout)
{
	static const char *const names[] = { "FREEZE", "TABLE", "ENABLE", "ABORT" };
	struct pm_engine *e = vm->e;
	int ret;

	ret = arm(vm, timeout);
	if (ret < 0) {
		fail(vm, s != PM_FROZEN, "cannot arm the deadline: %s", strerror(-ret));
		return ret;
	}
	ret = e->ops->send(vm, what, vm->seq, e->userdata);
	if (ret < 0) {
		/* Nothing reached the guest after a failed FREEZE: no rollback. */
		fail(vm, what != PM_SEND_FREEZE, "cannot send %s: %s", names[what],
		     strerror(-ret));
		return ret;
	}
	set_state(vm, s);
	return 0;
}

int pm_vm_negotiate(struct pm_vm *vm, enum pm_trigger why)
{
	struct pm_engine *e = vm->e;

	if (vm->busy)
		return -EBUSY;
	vm->busy = true;
	vm->trigger = why;
	vm->seq = e->next_seq++;
	if (!e->next_seq)
		e->next_seq = 1;
	vm->accepted = 0;
	vm->reason[0] = '\0';
	vm->start_usec = now(e, CLOCK_MONOTONIC);
	vm->done_usec = vm->done_realtime_usec = 0;
	vm->rounds++;
	e->stats.started++;
	e->stats.in_flight++;
	if (vm->state != PM_IDLE)
		set_state(vm, PM_IDLE);
	return step(vm, PM_SEND_FREEZE, PM_FROZEN, e->to.freeze_usec);
}

int pm_vm_recv(struct pm_vm *vm, enum pm_reply r, uint32_t seq,
	       uint32_t accepted, const char *reason)
{
	struct pm_engine *e = vm->e;
	static const enum pm_neg_state expects[] = {
		[PM_REPLY_FROZEN] = PM_FROZEN,
		[PM_REPLY_ACK] = PM_OFFERED,
		[PM_REPLY_NAK] = PM_OFFERED,
		[PM_REPLY_ENABLED] = PM_ACKED,
	};
	static const char *const names[] = { "FROZEN", "ACK", "NAK", "ENABLED" };

	if (r > PM_REPLY_ERROR)
		return -EINVAL;
	if (!vm->busy || seq != vm->seq) {
		e->stats.stale++;
		return -ESTALE;
	}
	if (r != PM_REPLY_ERROR && vm->state != expects[r] &&
	    !(r == PM_REPLY_NAK && vm->state == PM_FROZEN)) {
		fail(vm, true, "protocol error: %s in state %s", names[r],
		     pm_neg_state_name(vm->state));
		return -EPROTO;
	}
	switch (r) {
	case PM_REPLY_ERROR:
		fail(vm, true, "the guest refused our frame in state %s: %s",
		     pm_neg_state_name(vm->state), reason && *reason ? reason :
		     "no reason given");
		return 0;
	case PM_REPLY_FROZEN:
		return step(vm, PM_SEND_TABLE, PM_OFFERED, e->to.ack_usec);
	case PM_REPLY_ACK:
		if (!accepted) {
			/* Nothing in common: enabling would leave no idle state. */
			fail(vm, true, "the guest accepted none of the host's PM states");
			return 0;
		}
		vm->accepted = accepted;
		return step(vm, PM_SEND_ENABLE, PM_ACKED, e->to.enable_usec);
	case PM_REPLY_NAK:
		fail(vm, true, "the guest refused: %s", reason && *reason ? reason :
		     "no reason given");
		return 0;
	case PM_REPLY_ENABLED:
		finish(vm);
		e->stats.enabled++;
		set_state(vm, PM_ENABLED);
		return 0;
	}
	return 0;
}

void pm_vm_disconnected(struct pm_vm *vm, const char *why)
{
	if (vm->busy)
		fail(vm, false, "agent connection lost in state %s: %s",
		     pm_neg_state_name(vm->state), why);
}

void pm_vm_del(struct pm_vm *vm)
{
	struct pm_engine *e = vm->e;

	if (vm->busy) {
		/* The caller is done with the VM: no state-change callback. */
		vm->busy = false;
		e->stats.in_flight--;
		e->stats.failed++;
		e->ops->send(vm, PM_SEND_ABORT, vm->seq, e->userdata);
	}
	sd_event_source_disable_unref(vm->timer);
	*vm->pprev = vm->next;
	if (vm->next)
		vm->next->pprev = vm->pprev;
	e->n_vms--;
	free(vm);
}

struct json_object *pm_vm_status(const struct pm_vm *vm)
{
	struct json_object *o = json_object_new_object();
	uint64_t dur = 0;

	if (!o)
		return NULL;
	if (vm->done_usec)
		dur = vm->done_usec - vm->start_usec;
	else if (vm->busy)
		dur = now(vm->e, CLOCK_MONOTONIC) - vm->start_usec;
	if (hvx_json_add_str(o, "name", vm->name) ||
	    hvx_json_add_str(o, "state", pm_neg_state_name(vm->state)) ||
	    hvx_json_add_bool(o, "busy", vm->busy) ||
	    hvx_json_add_u64(o, "seq", vm->seq) ||
	    hvx_json_add_u64(o, "rounds", vm->rounds) ||
	    hvx_json_add_u64(o, "failures", vm->failures) ||
	    hvx_json_add_str(o, "trigger", vm->rounds ? pm_trigger_name(vm->trigger) : "") ||
	    hvx_json_add_u64(o, "accepted_mask", vm->accepted) ||
	    hvx_json_add_u64(o, "duration_usec", dur) ||
	    hvx_json_add_u64(o, "done_realtime_usec", vm->done_realtime_usec) ||
	    (vm->state == PM_FAILED && hvx_json_add_str(o, "reason", vm->reason))) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct pm_vm *const *)a)->name,
		      (*(struct pm_vm *const *)b)->name);
}

struct json_object *pm_engine_status(struct pm_engine *e)
{
	struct json_object *arr = json_object_new_array();
	struct pm_vm **v = calloc(e->n_vms ?: 1, sizeof(*v));
	size_t n = 0;

	if (!arr || !v)
		goto err;
	for (struct pm_vm *vm = e->vms; vm; vm = vm->next)
		v[n++] = vm;
	qsort(v, n, sizeof(*v), by_name);
	for (size_t i = 0; i < n; i++) {
		struct json_object *o = pm_vm_status(v[i]);

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			goto err;
		}
	}
	free(v);
	return arr;
err:
	free(v);
	json_object_put(arr);
	return NULL;
}

void pm_engine_stats(const struct pm_engine *e, struct pm_engine_stats *s)
{
	*s = e->stats;
}
