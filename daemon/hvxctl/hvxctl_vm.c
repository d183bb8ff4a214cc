// SPDX-License-Identifier: GPL-2.0
/* hvxctl vm: the hvx_core VM registry. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <linux/hvx.h>

#include "hvx_vm.h"
#include "hvxctl.h"

static int open_core(struct hvxctl *c, struct hvx_nl **nl)
{
	return hvxctl_nl_open(c, nl, HVX_GENL_NAME, HVX_GENL_VERSION);
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/*
 * A VM is "[id] N" or "[name] NAME"; a bare all-digit word is an id (a VM
 * whose name is all digits needs the "name" keyword). Returns the number of
 * words used, or -exit code.
 */
static int put_vm(struct hvxctl *c, struct nl_msg *msg, int argc, char **argv)
{
	const char *kw = NULL, *val;
	uint32_t id;
	int ret;

	if (argc && (!strcmp(argv[0], "id") || !strcmp(argv[0], "name")))
		kw = argv[0];
	val = argc > !!kw ? argv[!!kw] : NULL;
	if (!val)
		return -hvxctl_usage(c, "missing VM (ID or NAME)");
	if (kw ? !strcmp(kw, "id") : all_digits(val)) {
		ret = hvxctl_parse_u32(c, val, "VM id", &id);
		if (ret)
			return -ret;
		ret = nla_put_u32(msg, HVX_A_VM_ID, id);
	} else {
		ret = nla_put_string(msg, HVX_A_VM_NAME, val);
	}
	if (ret < 0)
		return -hvxctl_fail(c, hvx_nl_errno(ret), "building request");
	return 1 + !!kw;
}

static int too_many(struct hvxctl *c, int argc, char **argv)
{
	return argc ? hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]) : 0;
}

static int collect(struct nlmsghdr *nlh, void *arg)
{
	struct json_object *arr = arg, *vm;
	int err;

	vm = hvx_vm_json(nlh, &err);
	if (!vm)
		return err;
	if (json_object_array_add(arr, vm)) {
		json_object_put(vm);
		return -ENOMEM;
	}
	return 0;
}

static void text_line(struct json_object *vm)
{
	struct json_object *mem;

	printf("%" PRIu64 ": %s state %s owner pid %" PRIu64 " uid %" PRIu64
	       " users %" PRIu64,
	       hvx_json_u64(vm, "id"), hvx_json_text(vm, "name", "?"),
	       hvx_json_text(vm, "state", "?"), hvx_json_u64(vm, "owner_pid"),
	       hvx_json_u64(vm, "owner_uid"), hvx_json_u64(vm, "users"));
	if (json_object_object_get_ex(vm, "mem", &mem))
		printf(" regions %zu", json_object_array_length(mem));
	putchar('\n');
}

static void text_list(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		text_line(json_object_array_get_idx(arr, i));
}

static void text_show(struct json_object *arr)
{
	struct json_object *vm = json_object_array_get_idx(arr, 0), *mem;

	text_line(vm);
	if (!json_object_object_get_ex(vm, "mem", &mem))
		return;
	if (json_object_object_get_ex(vm, "mem_pid", NULL))
		printf("    memory of pid %" PRIu64 "\n", hvx_json_u64(vm, "mem_pid"));
	for (size_t i = 0; i < json_object_array_length(mem); i++) {
		struct json_object *r = json_object_array_get_idx(mem, i);
		uint64_t gpa = hvx_json_u64(r, "gpa");

		printf("    gpa 0x%" PRIx64 "-0x%" PRIx64 " size %" PRIu64,
		       gpa, gpa + hvx_json_u64(r, "size") - 1,
		       hvx_json_u64(r, "size"));
		if (json_object_object_get_ex(r, "uaddr", NULL))
			printf(" uaddr 0x%" PRIx64, hvx_json_u64(r, "uaddr"));
		putchar('\n');
	}
}

/* Send @msg; print the VMs of the answer with @text (NULL: print nothing). */
static int request(struct hvxctl *c, struct hvx_nl *nl, struct nl_msg *msg,
		   void (*text)(struct json_object *), bool one)
{
	struct json_object *arr = json_object_new_array();
	int ret;

	if (!arr) {
		nlmsg_free(msg);
		return hvxctl_fail(c, -ENOMEM, "allocating output");
	}
	ret = hvx_nl_request(nl, msg, collect, arr);
	if (ret) {
		json_object_put(arr);
		return hvxctl_nl_fail(c, nl, ret);
	}
	if (!text) {
		json_object_put(arr);
		return 0;
	}
	/* A single VM prints as an object, a list as an array. */
	if (one && c->json) {
		struct json_object *vm = json_object_get(json_object_array_get_idx(arr, 0));

		json_object_put(arr);
		if (!vm)
			return hvxctl_fail(c, -EBADMSG, "empty reply from the kernel");
		return hvxctl_print(c, vm, text_line);
	}
	return hvxctl_print(c, arr, text);
}

static struct nl_msg *new_msg(struct hvxctl *c, struct hvx_nl *nl, uint8_t cmd,
			      int flags)
{
	struct nl_msg *msg = hvx_nl_msg(nl, cmd, flags);

	if (!msg)
		hvxctl_fail(c, -ENOMEM, "building request");
	return msg;
}

static int vm_add(struct hvxctl *c, int argc, char **argv)
{
	struct hvx_nl *nl;
	struct nl_msg *msg;
	int ret;

	if (!argc)
		return hvxctl_usage(c, "missing NAME");
	ret = too_many(c, argc - 1, argv + 1);
	if (ret || (ret = open_core(c, &nl)))
		return ret;
	ret = HVXCTL_EXIT_FAIL;
	msg = new_msg(c, nl, HVX_CMD_VM_NEW, 0);
	if (msg && nla_put_string(msg, HVX_A_VM_NAME, argv[0]) < 0) {
		nlmsg_free(msg);
		msg = NULL;
		hvxctl_fail(c, -EMSGSIZE, "building request");
	}
	if (msg)
		ret = request(c, nl, msg, text_list, true);
	hvx_nl_close(nl);
	return ret;
}

static int vm_list(struct hvxctl *c, int argc, char **argv)
{
	struct hvx_nl *nl;
	struct nl_msg *msg;
	int ret;

	ret = too_many(c, argc, argv);
	if (ret || (ret = open_core(c, &nl)))
		return ret;
	ret = HVXCTL_EXIT_FAIL;
	msg = new_msg(c, nl, HVX_CMD_VM_GET, NLM_F_DUMP);
	if (msg)
		ret = request(c, nl, msg, text_list, false);
	hvx_nl_close(nl);
	return ret;
}

/* show, del, set: a VM selector, then @extra words handled by @put. */
static int vm_one(struct hvxctl *c, int argc, char **argv, uint8_t cmd,
		  void (*text)(struct json_object *),
		  int (*put)(struct hvxctl *, struct nl_msg *, int, char **))
{
	struct hvx_nl *nl;
	struct nl_msg *msg;
	int ret, used;

	ret = open_core(c, &nl);
	if (ret)
		return ret;
	ret = HVXCTL_EXIT_FAIL;
	msg = new_msg(c, nl, cmd, 0);
	if (!msg)
		goto out;
	used = put_vm(c, msg, argc, argv);
	if (used < 0) {
		ret = -used;
		goto free;
	}
	ret = put ? put(c, msg, argc - used, argv + used) :
		    too_many(c, argc - used, argv + used);
	if (ret)
		goto free;
	ret = request(c, nl, msg, text, true);
	goto out;
free:
	nlmsg_free(msg);
out:
	hvx_nl_close(nl);
	return ret;
}

static int vm_show(struct hvxctl *c, int argc, char **argv)
{
	return vm_one(c, argc, argv, HVX_CMD_VM_GET, text_show, NULL);
}

static int vm_del(struct hvxctl *c, int argc, char **argv)
{
	return vm_one(c, argc, argv, HVX_CMD_VM_DEL, NULL, NULL);
}

static int put_state(struct hvxctl *c, struct nl_msg *msg, int argc, char **argv)
{
	int state;

	if (!argc || strcmp(argv[0], "state"))
		return hvxctl_usage(c, "expected \"state STATE\"");
	if (argc < 2)
		return hvxctl_usage(c, "missing STATE");
	state = hvx_vm_state_parse(argv[1]);
	if (state < 0)
		return hvxctl_usage(c, "unknown state \"%s\" (created, running, paused, migrating)",
				    argv[1]);
	if (nla_put_u32(msg, HVX_A_VM_STATE, state) < 0)
		return hvxctl_fail(c, -EMSGSIZE, "building request");
	return too_many(c, argc - 2, argv + 2);
}

static int vm_set(struct hvxctl *c, int argc, char **argv)
{
	return vm_one(c, argc, argv, HVX_CMD_VM_SET, NULL, put_state);
}

static const struct hvxctl_cmd vm_cmds[] = {
	{ "add", "NAME", "create a VM named NAME ([A-Za-z0-9._-], at most 63)", vm_add },
	{ "list", NULL, "list every VM", vm_list },
	{ "show", "{ID | NAME}", "show one VM and its guest memory regions", vm_show },
	{ "del", "{ID | NAME}", "destroy a VM", vm_del },
	{ "set", "{ID | NAME} state {created | running | paused | migrating}",
	  "change a VM's state", vm_set },
	{ NULL }
};

const struct hvxctl_object hvxctl_vm = {
	.name = "vm",
	.help = "VMs in the hvx_core registry",
	.cmds = vm_cmds,
	.dflt = "list",
};
