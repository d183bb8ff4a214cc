/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvxd: one sd-event loop and one unit per mechanism.
 *
 * A unit (core, pm, cluster, app...) is a struct hvxd_unit listed in the
 * table in hvxd_main.c. It has its own config section [name], registers
 * every fd and timer on the daemon's sd-event loop (no threads), exports
 * control methods "name.method" on hvxd's control socket, and talks to
 * other units only through the loop: hvxd_publish() queues an event that
 * the loop later hands to the subscribers.
 */
#ifndef HVXD_H
#define HVXD_H

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

#include "hvx_conf.h"

struct hvxd;
struct hvxd_call;

/* Control methods. */
enum hvxd_method_flags {
	/* Changes state: only root (or hvxd's own uid) may call it. */
	HVXD_METHOD_PRIV = 1 << 0,
};

/*
 * Answer @call exactly once with hvxd_call_reply() or hvxd_call_fail(),
 * now or later from the loop (keep the pointer: the call lives until
 * answered even if the client goes away). Returning a negative errno
 * without answering fails the call with strerror() as the message.
 */
typedef int (*hvxd_method_fn)(struct hvxd_call *call, struct json_object *params,
			      void *priv);

struct hvxd_method {
	const char *name;	/* "status" -> "<unit>.status" */
	hvxd_method_fn fn;
	unsigned int flags;
};

void hvxd_call_reply(struct hvxd_call *call, struct json_object *result);
void hvxd_call_fail(struct hvxd_call *call, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct hvxd *hvxd_call_daemon(const struct hvxd_call *call);
const struct ucred *hvxd_call_peer(const struct hvxd_call *call);

struct hvxd_unit {
	const char *name;	/* config section, method prefix, log field */
	/*
	 * Keys of section [name]; the unit's config struct is conf_size
	 * bytes. A BOOL key named "enabled" turns the unit on and off.
	 */
	const struct hvx_conf_key *conf;
	size_t conf_size;
	/* @conf stays valid until the next reload() or fini(). */
	int (*init)(struct hvxd *d, const void *conf, void **priv);
	/* SIGHUP with a valid new config; NULL: changes apply at restart. */
	int (*reload)(struct hvxd *d, void *priv, const void *conf);
	void (*fini)(struct hvxd *d, void *priv);
	/* Optional: add the unit's own fields to its core.status entry. */
	int (*status)(void *priv, struct json_object *o);
	const struct hvxd_method *methods;	/* ends with { .name = NULL } */
};

extern const struct hvxd_unit hvxd_core_unit;
extern const struct hvxd_unit hvxd_app_unit;
extern const struct hvxd_unit hvxd_cluster_unit;
extern const struct hvxd_unit hvxd_pm_unit;

sd_event *hvxd_event(struct hvxd *d);
/* hvxd's status as core.status reports it (version, uptime, units). */
struct json_object *hvxd_status(struct hvxd *d);

/* Inter-unit events, delivered from the loop, never synchronously. */
typedef void (*hvxd_event_fn)(struct hvxd *d, const char *topic,
			      struct json_object *data, void *userdata);
/* @prefix "vm." matches "vm.new", "vm.del"...; "" matches every topic. */
int hvxd_subscribe(struct hvxd *d, const char *prefix, hvxd_event_fn fn,
		   void *userdata);
void hvxd_unsubscribe(struct hvxd *d, hvxd_event_fn fn, void *userdata);
/* Takes a reference on @data (may be NULL). 0 or -ENOMEM. */
int hvxd_publish(struct hvxd *d, const char *topic, struct json_object *data);

/*
 * Logging: the journal with priority and HVX_UNIT= (plus HVX_VM_ID= and
 * HVX_VM_NAME= for hvxd_log_vm) under systemd, stderr otherwise.
 */
void hvxd_log(int prio, const char *unit, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void hvxd_log_vm(int prio, const char *unit, uint32_t vm_id,
		 const char *vm_name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

#endif /* HVXD_H */
