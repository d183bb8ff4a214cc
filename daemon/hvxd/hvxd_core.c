// SPDX-License-Identifier: GPL-2.0
/*
 * Unit "core": follows the hvx_core VM registry. It dumps the registry,
 * then keeps its copy current from the "events" multicast group, logs each
 * change and republishes it to the other units as "vm.new", "vm.del",
 * "vm.set" (data: the VM as JSON). A receive-queue overrun or hvx_core
 * appearing later triggers a fresh dump.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <linux/hvx.h>

#include "hvx_json.h"
#include "hvx_nl.h"
#include "hvx_vm.h"
#include "hvxd.h"

struct core_conf {
	bool log_events;
	uint64_t retry_usec;
};

struct core {
	struct hvxd *d;
	struct core_conf conf;
	struct hvx_nl *req, *ev;
	sd_event_source *io, *retry;
	struct json_object *vms;	/* "id" -> VM object */
	uint64_t events, resyncs;
	bool absent_logged;	/* "not loaded" said once, not every retry */
};

static const struct hvx_conf_key core_keys[] = {
	{ "log_events", HVX_CONF_BOOL, offsetof(struct core_conf, log_events),
	  .def = "yes" },
	{ "retry_interval", HVX_CONF_DURATION, offsetof(struct core_conf, retry_usec),
	  .def = "5s", .min = 100000, .max = 3600000000ULL },
	{ NULL }
};

static void core_disconnect(struct core *c)
{
	c->io = sd_event_source_disable_unref(c->io);
	hvx_nl_close(c->ev);
	hvx_nl_close(c->req);
	c->ev = c->req = NULL;
}

static int dump_one(struct nlmsghdr *nlh, void *arg)
{
	struct json_object *vms = arg, *vm;
	char key[16];
	int err;

	vm = hvx_vm_json(nlh, &err);
	if (!vm)
		return err;
	snprintf(key, sizeof(key), "%" PRIu64, hvx_json_u64(vm, "id"));
	return hvx_json_add(vms, key, vm);
}

/* Replace the VM table with a fresh dump; the table is untouched on error. */
static int core_resync(struct core *c)
{
	struct json_object *vms = json_object_new_object();
	struct nl_msg *msg;
	int ret, tries = 0;

	if (!vms)
		return -ENOMEM;
	do {
		/* A dump that raced with a change (-EAGAIN) is simply redone. */
		json_object_object_foreach(vms, k, v) {
			(void)v;
			json_object_object_del(vms, k);
		}
		msg = hvx_nl_msg(c->req, HVX_CMD_VM_GET, NLM_F_DUMP);
		ret = msg ? hvx_nl_request(c->req, msg, dump_one, vms) : -ENOMEM;
	} while (ret == -EAGAIN && ++tries < 5);
	if (ret) {
		json_object_put(vms);
		hvxd_log(LOG_ERR, "core", "VM dump failed: %s%s%s", strerror(-ret),
			 hvx_nl_extack(c->req) ? ": " : "",
			 hvx_nl_extack(c->req) ? hvx_nl_extack(c->req) : "");
		return ret;
	}
	json_object_put(c->vms);
	c->vms = vms;
	c->resyncs++;
	hvxd_log(LOG_INFO, "core", "tracking %d VMs", json_object_object_length(vms));
	return hvxd_publish(c->d, "vm.resync", vms);
}

static int on_event(struct nlmsghdr *nlh, void *arg)
{
	struct core *c = arg;
	unsigned int cmd = hvx_nl_cmd(nlh);
	const char *topic, *name;
	struct json_object *vm;
	char key[16];
	uint64_t id;
	int err;

	switch (cmd) {
	case HVX_CMD_VM_NEW:
		topic = "vm.new";
		break;
	case HVX_CMD_VM_DEL:
		topic = "vm.del";
		break;
	case HVX_CMD_VM_SET:
		topic = "vm.set";
		break;
	default:
		hvxd_log(LOG_DEBUG, "core", "ignoring event command %u", cmd);
		return 0;
	}
	vm = hvx_vm_json(nlh, &err);
	if (!vm) {
		hvxd_log(LOG_WARNING, "core", "malformed %s event: %s", topic,
			 strerror(-err));
		return 0;
	}
	c->events++;
	id = hvx_json_u64(vm, "id");
	name = hvx_json_text(vm, "name", "?");
	if (c->conf.log_events)
		hvxd_log_vm(LOG_INFO, "core", id, name, "%s %s (id %" PRIu64 ") state %s",
			    topic, name, id, hvx_json_text(vm, "state", "?"));
	snprintf(key, sizeof(key), "%" PRIu64, id);
	if (cmd == HVX_CMD_VM_DEL)
		json_object_object_del(c->vms, key);
	else if (hvx_json_add(c->vms, key, json_object_get(vm)))
		hvxd_log(LOG_ERR, "core", "out of memory tracking VM %s", name);
	err = hvxd_publish(c->d, topic, vm);
	json_object_put(vm);
	return err;
}

static int core_connect(struct core *c);

static int on_readable(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct core *c = userdata;
	int ret = hvx_nl_dispatch(c->ev, on_event, c);

	if (ret == -ENOBUFS) {
		hvxd_log(LOG_WARNING, "core", "events were lost; re-reading the VM registry");
		core_resync(c);
		return 0;
	}
	if (ret) {
		/* The family went away (module unloaded) or the socket broke. */
		hvxd_log(LOG_ERR, "core", "reading hvx events: %s; reconnecting",
			 strerror(-ret));
		core_disconnect(c);
		sd_event_source_set_enabled(c->retry, SD_EVENT_ONESHOT);
	}
	return 0;
}

static int on_retry(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct core *c = userdata;

	if (core_connect(c) < 0) {
		sd_event_source_set_time_relative(s, c->conf.retry_usec);
		sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	}
	return 0;
}

static int core_connect(struct core *c)
{
	int ret;

	/* Subscribe first, then dump: no change can fall in between. */
	ret = hvx_nl_open(&c->ev, HVX_GENL_NAME, HVX_GENL_VERSION);
	if (!ret)
		ret = hvx_nl_subscribe(c->ev, HVX_MCGRP_EVENTS);
	if (!ret)
		ret = hvx_nl_open(&c->req, HVX_GENL_NAME, HVX_GENL_VERSION);
	if (!ret)
		ret = sd_event_add_io(hvxd_event(c->d), &c->io, hvx_nl_fd(c->ev),
				      EPOLLIN, on_readable, c);
	if (!ret)
		ret = core_resync(c);
	if (ret) {
		if (ret == -ENOENT)
			hvxd_log(c->absent_logged ? LOG_DEBUG : LOG_NOTICE, "core",
				 "generic netlink family \"%s\" not found (hvx_core not loaded); retrying every %" PRIu64 "ms",
				 HVX_GENL_NAME, c->conf.retry_usec / 1000);
		else
			hvxd_log(LOG_ERR, "core", "connecting to hvx_core: %s",
				 strerror(-ret));
		c->absent_logged = ret == -ENOENT;
		core_disconnect(c);
		return ret;
	}
	c->absent_logged = false;
	hvxd_log(LOG_INFO, "core", "subscribed to %s/%s", HVX_GENL_NAME,
		 HVX_MCGRP_EVENTS);
	return 0;
}

static int core_init(struct hvxd *d, const void *conf, void **priv)
{
	struct core *c = calloc(1, sizeof(*c));
	int ret;

	if (!c)
		return -ENOMEM;
	c->d = d;
	c->conf = *(const struct core_conf *)conf;
	c->vms = json_object_new_object();
	if (!c->vms) {
		free(c);
		return -ENOMEM;
	}
	ret = sd_event_add_time_relative(hvxd_event(d), &c->retry, CLOCK_MONOTONIC,
					 c->conf.retry_usec, 0, on_retry, c);
	if (ret < 0) {
		json_object_put(c->vms);
		free(c);
		return ret;
	}
	sd_event_source_set_enabled(c->retry, SD_EVENT_OFF);
	/* hvx_core may be loaded after hvxd starts: keep trying. */
	if (core_connect(c) < 0)
		sd_event_source_set_enabled(c->retry, SD_EVENT_ONESHOT);
	*priv = c;
	return 0;
}

static int core_reload(struct hvxd *d, void *priv, const void *conf)
{
	struct core *c = priv;

	c->conf = *(const struct core_conf *)conf;
	return 0;
}

static void core_fini(struct hvxd *d, void *priv)
{
	struct core *c = priv;

	core_disconnect(c);
	sd_event_source_disable_unref(c->retry);
	json_object_put(c->vms);
	free(c);
}

static int core_unit_status(void *priv, struct json_object *o)
{
	struct core *c = priv;
	int ret;

	ret = hvx_json_add_bool(o, "connected", c->ev != NULL);
	if (!ret)
		ret = hvx_json_add_u64(o, "events", c->events);
	if (!ret)
		ret = hvx_json_add_u64(o, "resyncs", c->resyncs);
	return ret;
}

static int m_status(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct core *c = priv;
	struct json_object *st = hvxd_status(c->d);
	struct json_object *arr = json_object_new_array();

	if (!st || !arr)
		goto nomem;
	json_object_object_foreach(c->vms, k, v) {
		(void)k;
		if (json_object_array_add(arr, json_object_get(v))) {
			json_object_put(v);
			goto nomem;
		}
	}
	if (hvx_json_add(st, "vms", arr))
		goto nomem_st;
	hvxd_call_reply(call, st);
	return 0;
nomem:
	json_object_put(arr);
nomem_st:
	json_object_put(st);
	return -ENOMEM;
}

/* Re-read the registry now (after suspected drift); privileged. */
static int m_resync(struct hvxd_call *call, struct json_object *params, void *priv)
{
	struct core *c = priv;
	struct json_object *res;
	int ret;

	if (!c->req) {
		hvxd_call_fail(call, ENOENT, "hvx_core is not loaded");
		return 0;
	}
	ret = core_resync(c);
	if (ret) {
		hvxd_call_fail(call, -ret, "VM dump failed: %s", strerror(-ret));
		return 0;
	}
	res = json_object_new_object();
	if (!res || hvx_json_add_u64(res, "vms", json_object_object_length(c->vms))) {
		json_object_put(res);
		return -ENOMEM;
	}
	hvxd_call_reply(call, res);
	return 0;
}

static const struct hvxd_method core_methods[] = {
	{ "status", m_status, 0 },
	{ "resync", m_resync, HVXD_METHOD_PRIV },
	{ NULL }
};

const struct hvxd_unit hvxd_core_unit = {
	.name = "core",
	.conf = core_keys,
	.conf_size = sizeof(struct core_conf),
	.init = core_init,
	.reload = core_reload,
	.fini = core_fini,
	.status = core_unit_status,
	.methods = core_methods,
};
