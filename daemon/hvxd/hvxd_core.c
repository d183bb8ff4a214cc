// SPDX-License-Identifier: GPL-2.0
/*
 * Unit "core": follows the hvx_core VM registry. It dumps the registry,
 * then keeps its copy current from the "events" multicast group, logs each
 * change and republishes it to the other units as "vm.new", "vm.del",
 * "vm.set" (data: the VM as JSON). A receive-queue overrun triggers a
 * fresh dump.
 *
 * It also watches the genl controller's "notify" group, so it follows
 * hvx_core being loaded after hvxd, unloaded and reloaded, and republishes
 * every family appearing or going as "family.new" / "family.del" (data:
 * {"name": ...}) for the units of feature modules.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <linux/genetlink.h>
#include <linux/hvx.h>

#include "hvx_json.h"
#include "hvx_nl.h"
#include "hvx_vm.h"
#include "hvxd.h"

struct core_conf {
	bool log_events;
};

struct core {
	struct hvxd *d;
	struct core_conf conf;
	struct hvx_nl *req, *ev;	/* hvx: requests, events */
	struct hvx_nl *ctrl;		/* nlctrl: families coming and going */
	sd_event_source *io, *ctrl_io;
	struct json_object *vms;	/* "id" -> VM object */
	uint64_t events, resyncs;
};

static const struct hvx_conf_key core_keys[] = {
	{ "log_events", HVX_CONF_BOOL, offsetof(struct core_conf, log_events),
	  .def = "yes" },
	{ NULL }
};

static void core_disconnect(struct core *c)
{
	c->io = sd_event_source_disable_unref(c->io);
	hvx_nl_close(c->ev);
	hvx_nl_close(c->req);
	c->ev = c->req = NULL;
}

/* hvx_core went away: its VMs went with it. */
static void core_lost(struct core *c)
{
	struct json_object *vms = json_object_new_object();

	core_disconnect(c);
	if (!vms)
		return;
	json_object_put(c->vms);
	c->vms = vms;
	hvxd_publish(c->d, "vm.resync", vms);
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

static int core_connect(struct core *c);

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
		hvxd_log(LOG_ERR, "core", "reading hvx events: %s; reconnecting",
			 strerror(-ret));
		core_lost(c);
		core_connect(c);
	}
	return 0;
}

static const struct nla_policy ctrl_policy[CTRL_ATTR_MAX + 1] = {
	[CTRL_ATTR_FAMILY_NAME] = { .type = NLA_NUL_STRING },
};

static int on_ctrl_event(struct nlmsghdr *nlh, void *arg)
{
	struct core *c = arg;
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	unsigned int cmd = hvx_nl_cmd(nlh);
	struct json_object *data;
	const char *name;
	bool ours;

	if ((cmd != CTRL_CMD_NEWFAMILY && cmd != CTRL_CMD_DELFAMILY) ||
	    hvx_nl_parse(nlh, CTRL_ATTR_MAX, ctrl_policy, tb) ||
	    !tb[CTRL_ATTR_FAMILY_NAME])
		return 0;
	name = nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]);
	ours = !strcmp(name, HVX_GENL_NAME);
	if (cmd == CTRL_CMD_DELFAMILY && ours && c->ev) {
		hvxd_log(LOG_WARNING, "core", "hvx_core was unloaded; waiting for it");
		core_lost(c);
	} else if (cmd == CTRL_CMD_NEWFAMILY && ours && !c->ev) {
		core_connect(c);
	}
	data = json_object_new_object();
	if (data && !hvx_json_add_str(data, "name", name))
		hvxd_publish(c->d, cmd == CTRL_CMD_NEWFAMILY ? "family.new" :
			     "family.del", data);
	json_object_put(data);
	return 0;
}

static int on_ctrl_readable(sd_event_source *s, int fd, uint32_t revents,
			    void *userdata)
{
	struct core *c = userdata;
	int ret = hvx_nl_dispatch(c->ctrl, on_ctrl_event, c);

	/* Missed controller events: find out where hvx_core stands now. */
	if (ret == -ENOBUFS && !c->ev)
		core_connect(c);
	else if (ret && ret != -ENOBUFS)
		hvxd_log(LOG_ERR, "core", "reading genl controller events: %s",
			 strerror(-ret));
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
			hvxd_log(LOG_NOTICE, "core",
				 "generic netlink family \"%s\" not found; waiting for hvx_core",
				 HVX_GENL_NAME);
		else
			hvxd_log(LOG_ERR, "core", "connecting to hvx_core: %s",
				 strerror(-ret));
		core_disconnect(c);
		return ret;
	}
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
	/*
	 * Watch the controller before looking for hvx: a module loaded in
	 * between is then seen either way.
	 */
	ret = hvx_nl_open(&c->ctrl, "nlctrl", 2);
	if (!ret)
		ret = hvx_nl_subscribe(c->ctrl, "notify");
	if (!ret)
		ret = sd_event_add_io(hvxd_event(d), &c->ctrl_io, hvx_nl_fd(c->ctrl),
				      EPOLLIN, on_ctrl_readable, c);
	if (ret) {
		hvx_nl_close(c->ctrl);
		json_object_put(c->vms);
		free(c);
		return ret;
	}
	core_connect(c);
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
	sd_event_source_disable_unref(c->ctrl_io);
	hvx_nl_close(c->ctrl);
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
