// SPDX-License-Identifier: GPL-2.0
/*
 * hvx genl API: create/get/dump/set/del, events on the "events" group,
 * CAP_NET_ADMIN for changes, and malformed requests, each of which must be
 * rejected with the expected errno and extack message and leave the
 * registry as it was.
 */
#include <errno.h>
#include <grp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <netlink/genl/ctrl.h>

#include "hvx_test.h"

static struct hvx_ctx ctx;
static char pfx[32];

static const char *vname(const char *s)
{
	static char buf[4][HVX_VM_NAME_MAX + 8];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s%s", pfx, s);
	return buf[i];
}

/* Send msg, expect err + message, and the registry as it was. */
static void bad(struct nl_msg *msg, int err, const char *ext, const char *desc)
{
	char *before = hvx_snapshot(&ctx), *after;
	struct hvx_res res;

	hvx_send(&ctx, msg, &res);
	hvx_res_free(&res);
	after = hvx_snapshot(&ctx);
	if (strcmp(before, after))
		tap_diag("registry changed:\n%s---\n%s", before, after);
	tap_ok(res.err == err && strstr(res.ext, ext) && !strcmp(before, after),
	       "%s: %s \"%s\", state intact", desc, strerror(-err), ext);
	if (res.err != err || !strstr(res.ext, ext))
		tap_diag("got %s \"%s\"",
			 res.err ? strerror(-res.err) : "success", res.ext);
	free(before);
	free(after);
}

static struct nl_msg *new_msg(const char *name)
{
	struct nl_msg *msg = hvx_msg(&ctx, HVX_CMD_VM_NEW, 0);

	if (name)
		nla_put_string(msg, HVX_A_VM_NAME, name);
	return msg;
}

static void test_basic(uint32_t *ida, uint32_t *idb)
{
	struct hvx_vm_info vm;
	struct hvx_res res;
	struct nl_msg *msg;
	uint32_t id2;
	int i, seen;

	tap_ok(!hvx_vm_new(&ctx, vname("a"), ida) && *ida,
	       "create VM, kernel assigns an id (%u)", *ida);
	hvx_vm_get(&ctx, *ida, &vm);
	tap_diag("vm %u %s state %u owner %u/%u users %u", vm.id, vm.name,
		 vm.state, vm.owner_pid, vm.owner_uid, vm.users);
	tap_ok(!hvx_vm_get(&ctx, *ida, &vm) && !strcmp(vm.name, vname("a")) &&
	       vm.state == HVX_VM_STATE_CREATED &&
	       vm.owner_pid == (uint32_t)getpid() && vm.owner_uid == getuid() &&
	       vm.users == 0 && vm.nr_mem == 0 && vm.cmd == HVX_CMD_VM_GET,
	       "get by id: name, created state, owner pid/uid, no users");

	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_string(msg, HVX_A_VM_NAME, vname("a"));
	hvx_send(&ctx, msg, &res);
	tap_ok(!res.err && res.nvms == 1 && res.vms[0].id == *ida,
	       "get by name");
	hvx_res_free(&res);

	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, *ida);
	nla_put_string(msg, HVX_A_VM_NAME, vname("a"));
	hvx_send(&ctx, msg, &res);
	tap_ok(!res.err && res.nvms == 1, "get by matching id and name");
	hvx_res_free(&res);

	tap_ok(!hvx_vm_new(&ctx, vname("b"), idb) && *idb && *idb != *ida,
	       "second VM gets another id");
	hvx_dump(&ctx, &res);
	for (i = 0, seen = 0; i < res.nvms; i++)
		seen += res.vms[i].id == *ida || res.vms[i].id == *idb;
	tap_ok(!res.err && seen == 2 && !res.intr, "dump lists both");
	hvx_res_free(&res);

	tap_ok(!hvx_vm_set_state(&ctx, *ida, HVX_VM_STATE_RUNNING) &&
	       !hvx_vm_get(&ctx, *ida, &vm) && vm.state == HVX_VM_STATE_RUNNING,
	       "set state running");
	tap_ok(!hvx_vm_set_state(&ctx, *ida, HVX_VM_STATE_RUNNING),
	       "setting the same state again succeeds");

	tap_ok(!hvx_vm_new(&ctx, vname("tmp"), &id2) &&
	       !hvx_vm_del(&ctx, id2) && hvx_vm_get(&ctx, id2, NULL) == -ENOENT,
	       "delete: the VM is gone at once");
	tap_ok(!hvx_vm_new(&ctx, vname("tmp"), &id2) && id2 > *idb,
	       "ids are not reused at once (%u after %u)", id2, *idb);
	msg = hvx_msg(&ctx, HVX_CMD_VM_DEL, 0);
	nla_put_string(msg, HVX_A_VM_NAME, vname("tmp"));
	hvx_send(&ctx, msg, &res);
	hvx_res_free(&res);
	tap_ok(!res.err && hvx_vm_get(&ctx, id2, NULL) == -ENOENT,
	       "delete by name");

	{
		char name[HVX_VM_NAME_MAX];

		memset(name, 'x', sizeof(name) - 1);
		name[sizeof(name) - 1] = 0;
		memcpy(name, pfx, strlen(pfx));
		tap_ok(!hvx_vm_new(&ctx, name, &id2) && !hvx_vm_del(&ctx, id2),
		       "a name of HVX_VM_NAME_MAX - 1 bytes is accepted");
	}
	msg = new_msg(vname("flags0"));
	nla_put_u32(msg, HVX_A_VM_FLAGS, 0);
	hvx_send(&ctx, msg, &res);
	id2 = res.nvms ? res.vms[0].id : 0;
	hvx_res_free(&res);
	tap_ok(!res.err && id2 && !hvx_vm_del(&ctx, id2),
	       "flags 0 is accepted");
}

static void test_bad_input(uint32_t ida)
{
	char longname[HVX_VM_NAME_MAX + 1];
	struct genlmsghdr *g;
	struct nl_msg *msg;
	uint16_t u16 = 1;
	uint64_t u64 = ida;
	struct hvx_vm_info vm;

	bad(new_msg(NULL), -EINVAL, "VM name is required", "create without name");
	bad(new_msg(""), -EINVAL, "VM name is empty", "create with empty name");
	memset(longname, 'y', HVX_VM_NAME_MAX);
	longname[HVX_VM_NAME_MAX] = 0;
	bad(new_msg(longname), -EINVAL, "Attribute failed policy validation",
	    "create with a name of HVX_VM_NAME_MAX bytes");
	msg = hvx_msg(&ctx, HVX_CMD_VM_NEW, 0);
	nla_put(msg, HVX_A_VM_NAME, 3, "abc");
	bad(msg, -EINVAL, "Attribute failed policy validation",
	    "create with an unterminated name");
	bad(new_msg(vname("a b")), -EINVAL, "VM name may hold only",
	    "create with a space in the name");
	bad(new_msg(vname("a/b")), -EINVAL, "VM name may hold only",
	    "create with a slash in the name");
	bad(new_msg(vname("a")), -EEXIST, "VM name is already in use",
	    "create with a duplicate name");
	msg = new_msg(vname("f1"));
	nla_put_u32(msg, HVX_A_VM_FLAGS, 1);
	bad(msg, -EOPNOTSUPP, "Unknown VM flags", "create with flag bit 0");
	msg = new_msg(vname("f2"));
	nla_put_u32(msg, HVX_A_VM_FLAGS, 0x80000000u);
	bad(msg, -EOPNOTSUPP, "Unknown VM flags", "create with flag bit 31");
	msg = new_msg(vname("t1"));
	nla_put_u32(msg, 200, 1);
	bad(msg, -EINVAL, "Unknown attribute type", "create with attribute 200");
	msg = new_msg(vname("t2"));
	nla_put_u32(msg, HVX_A_VM_STATE, 1);
	bad(msg, -EINVAL, "Unsupported attribute",
	    "create with an attribute the op does not take (state)");
	msg = new_msg(vname("t3"));
	nla_put_u32(msg, HVX_A_VM_ID, 5);
	bad(msg, -EINVAL, "Unsupported attribute", "create with an id");
	msg = hvx_msg(&ctx, HVX_CMD_VM_NEW, 0);
	nla_put_u32(msg, HVX_A_VM_NAME, 0x41414141);
	bad(msg, -EINVAL, "Attribute failed policy validation",
	    "create with a u32 where the name goes");

	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put(msg, HVX_A_VM_ID, sizeof(u16), &u16);
	bad(msg, -EINVAL, "invalid attribute length", "get with a 2-byte id");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put(msg, HVX_A_VM_ID, sizeof(u64), &u64);
	bad(msg, -EINVAL, "invalid attribute length", "get with an 8-byte id");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, 0);
	bad(msg, -ERANGE, "integer out of range", "get id 0");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, 0x7ffffff0);
	bad(msg, -ENOENT, "No VM with this id", "get an unknown id");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_string(msg, HVX_A_VM_NAME, vname("nosuch"));
	bad(msg, -ENOENT, "No VM with this name", "get an unknown name");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	nla_put_string(msg, HVX_A_VM_NAME, vname("b"));
	bad(msg, -EINVAL, "VM name does not match the VM id",
	    "get with id and name of different VMs");
	{
		struct hvx_res res;

		hvx_send(&ctx, hvx_msg(&ctx, HVX_CMD_VM_GET, 0), &res);
		hvx_res_free(&res);
		tap_ok(res.err == -EINVAL &&
		       strstr(res.ext, "VM id or name is required") &&
		       res.miss_type == HVX_A_VM_ID,
		       "get without id or name: EINVAL, message, missing-type id");
	}
	bad(hvx_msg(&ctx, HVX_CMD_VM_DEL, 0), -EINVAL,
	    "VM id or name is required", "delete without id or name");
	msg = hvx_msg(&ctx, HVX_CMD_VM_DEL, 0);
	nla_put_u32(msg, HVX_A_VM_ID, 0x7ffffff0);
	bad(msg, -ENOENT, "No VM with this id", "delete an unknown id");

	{
		struct hvx_res res;
		char *before = hvx_snapshot(&ctx), *after;

		msg = hvx_msg(&ctx, HVX_CMD_VM_SET, 0);
		nla_put_u32(msg, HVX_A_VM_ID, ida);
		hvx_send(&ctx, msg, &res);
		hvx_res_free(&res);
		after = hvx_snapshot(&ctx);
		tap_ok(res.err == -EINVAL && strstr(res.ext, "VM state is required") &&
		       res.miss_type == HVX_A_VM_STATE && !strcmp(before, after),
		       "set without state: EINVAL, message, missing-type state");
		free(before);
		free(after);
	}
	msg = hvx_msg(&ctx, HVX_CMD_VM_SET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	nla_put_u32(msg, HVX_A_VM_STATE, HVX_VM_STATE_MAX + 1);
	bad(msg, -ERANGE, "integer out of range", "set state MAX + 1");
	msg = hvx_msg(&ctx, HVX_CMD_VM_SET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	nla_put_u32(msg, HVX_A_VM_STATE, 0xffffffffu);
	bad(msg, -ERANGE, "integer out of range", "set state 0xffffffff");
	msg = hvx_msg(&ctx, HVX_CMD_VM_SET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	nla_put_u32(msg, HVX_A_VM_STATE, HVX_VM_STATE_PAUSED);
	nla_put_u32(msg, HVX_A_VM_FLAGS, 0);
	bad(msg, -EINVAL, "Unsupported attribute", "set with flags");
	tap_ok(!hvx_vm_get(&ctx, ida, &vm) && vm.state == HVX_VM_STATE_RUNNING,
	       "state still running after the rejected sets");

	/* libnl's nla_nest_start() sets NLA_F_NESTED: build the nest by hand. */
	{
		struct {
			struct nlattr nla;
			uint64_t gpa;
		} __attribute__((packed)) inner = {
			{ .nla_len = sizeof(inner), .nla_type = HVX_A_MEM_GPA },
			0,
		};

		msg = hvx_msg(&ctx, HVX_CMD_MEM_DEL, 0);
		nla_put_u32(msg, HVX_A_VM_ID, ida);
		nla_put(msg, HVX_A_VM_MEM, sizeof(inner), &inner);
	}
	bad(msg, -EINVAL, "NLA_F_NESTED is missing",
	    "region nest without NLA_F_NESTED");

	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, 0);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	g = nlmsg_data(nlmsg_hdr(msg));
	g->reserved = 1;
	bad(msg, -EINVAL, "genlmsghdr.reserved field is not 0",
	    "non-zero reserved header field");
	msg = hvx_msg(&ctx, HVX_CMD_VM_GET, NLM_F_REPLACE);
	nla_put_u32(msg, HVX_A_VM_ID, ida);
	bad(msg, -EINVAL, "ambiguous or reserved bits set in nlmsg_flags",
	    "NLM_F_REPLACE on a get");
	{
		struct hvx_res res;

		hvx_send(&ctx, hvx_msg(&ctx, HVX_CMD_MAX + 1, 0), &res);
		hvx_res_free(&res);
		tap_ok(res.err == -EOPNOTSUPP, "unknown command: EOPNOTSUPP");
	}
}

/* Runs fn in a child without CAP_NET_ADMIN (uid/gid 65534). */
static int unprivileged(int (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(100);
		_exit(fn());
	}
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static uint32_t perm_id;

/* Exit code: bit per op that was not refused with EPERM. */
static int perm_child(void)
{
	struct hvx_ctx c;
	struct hvx_vm_info vm = { 0 };
	int bits = 0;

	if (hvx_open(&c))
		return 99;
	bits |= (hvx_vm_new(&c, vname("unpriv"), NULL) != -EPERM) << 0;
	bits |= (hvx_vm_del(&c, perm_id) != -EPERM) << 1;
	bits |= (hvx_vm_set_state(&c, perm_id, 2) != -EPERM) << 2;
	bits |= (hvx_mem_add(&c, perm_id, 0x200000, 4096, 0x10000000, NULL) !=
		 -EPERM) << 3;
	bits |= (hvx_mem_del(&c, perm_id, 0, NULL) != -EPERM) << 4;
	/* Reading is open to all, but region addresses are not shown. */
	bits |= (hvx_vm_get(&c, perm_id, &vm) != 0) << 5;
	bits |= (vm.nr_mem != 1 || vm.mem[0].has_uaddr) << 6;
	return bits;
}

static void test_perm(uint32_t ida)
{
	static char page[4096] __attribute__((aligned(4096)));
	struct hvx_vm_info vm;
	char *before, *after;
	int bits;

	perm_id = ida;
	page[0] = 1;
	tap_ok(!hvx_mem_add(&ctx, ida, 0, sizeof(page), (uintptr_t)page, NULL),
	       "register a region for the permission test");
	before = hvx_snapshot(&ctx);
	bits = unprivileged(perm_child);
	after = hvx_snapshot(&ctx);
	tap_ok(bits >= 0 && !(bits & 0x1f) && bits != 99 && bits != 100,
	       "without CAP_NET_ADMIN: new/del/set/mem-add/mem-del get EPERM");
	tap_ok(bits >= 0 && !(bits & 0x60) && bits != 99 && bits != 100,
	       "without CAP_NET_ADMIN: get works, region address hidden");
	if (bits)
		tap_diag("child result %#x", bits);
	tap_ok(!strcmp(before, after), "registry unchanged by the refused ops");
	tap_ok(!hvx_vm_get(&ctx, ida, &vm) && vm.nr_mem == 1 &&
	       vm.mem[0].has_uaddr && vm.mem[0].uaddr == (uintptr_t)page,
	       "the admin sees the region address");
	tap_ok(!hvx_mem_del(&ctx, ida, 0, NULL), "drop the region");
	free(before);
	free(after);
}

static struct nl_sock *ev_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct timeval tv = { .tv_sec = 5 };
	int grp;

	if (!sk || genl_connect(sk))
		return NULL;
	grp = genl_ctrl_resolve_grp(sk, HVX_GENL_NAME, HVX_MCGRP_EVENTS);
	if (grp < 0 || nl_socket_add_membership(sk, grp))
		return NULL;
	nl_socket_disable_seq_check(sk);
	setsockopt(nl_socket_get_fd(sk), SOL_SOCKET, SO_RCVTIMEO, &tv,
		   sizeof(tv));
	return sk;
}

static int ev_cb(struct nl_msg *msg, void *arg)
{
	hvx_parse_vm(msg, arg);
	return NL_STOP;
}

/* The next event, skipping those of VMs other tests make. */
static int ev_next(struct nl_sock *sk, struct hvx_vm_info *vm)
{
	int ret;

	nl_socket_modify_cb(sk, NL_CB_VALID, NL_CB_CUSTOM, ev_cb, vm);
	do {
		memset(vm, 0, sizeof(*vm));
		ret = nl_recvmsgs_default(sk);
		if (ret < 0)
			return ret;
	} while (strncmp(vm->name, pfx, strlen(pfx)));
	return 0;
}

static void test_events(void)
{
	struct nl_sock *sk = ev_open();
	struct hvx_vm_info ev;
	uint32_t id;

	if (!tap_ok(sk != NULL, "subscribe to the events group"))
		return;
	tap_ok(!hvx_vm_new(&ctx, vname("ev"), &id), "create a VM");
	tap_ok(!ev_next(sk, &ev) && ev.cmd == HVX_CMD_VM_NEW && ev.id == id &&
	       !strcmp(ev.name, vname("ev")) && ev.state == HVX_VM_STATE_CREATED,
	       "event: new, with id, name and state");
	hvx_vm_set_state(&ctx, id, HVX_VM_STATE_PAUSED);
	tap_ok(!ev_next(sk, &ev) && ev.cmd == HVX_CMD_VM_SET && ev.id == id &&
	       ev.state == HVX_VM_STATE_PAUSED, "event: state change");
	hvx_vm_set_state(&ctx, id, HVX_VM_STATE_PAUSED);
	hvx_vm_del(&ctx, id);
	tap_ok(!ev_next(sk, &ev) && ev.cmd == HVX_CMD_VM_DEL && ev.id == id,
	       "event: del (no event for a state set to what it was)");
	nl_socket_free(sk);
}

/* The registry is host-wide: only the initial netns sees the family. */
static void test_netns(void)
{
	struct hvx_ctx c;
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (unshare(CLONE_NEWNET))
			_exit(2);
		_exit(hvx_open(&c) == -ENOENT ? 0 : 1);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) == 2) {
		tap_skip("cannot unshare the network namespace",
			 "family hidden from other network namespaces");
		return;
	}
	tap_ok(!WEXITSTATUS(st), "family hidden from other network namespaces");
}

int main(void)
{
	uint32_t ida = 0, idb = 0;
	char *start, *end;

	hvx_require(&ctx);
	tap_begin();
	snprintf(pfx, sizeof(pfx), "nl%d-", getpid());
	start = hvx_snapshot(&ctx);

	test_basic(&ida, &idb);
	test_bad_input(ida);
	test_perm(ida);
	test_events();
	test_netns();

	tap_ok(!hvx_vm_del(&ctx, ida) && !hvx_vm_del(&ctx, idb),
	       "delete the test VMs");
	tap_ok(hvx_vm_del(&ctx, ida) == -ENOENT, "a second delete: ENOENT");
	end = hvx_snapshot(&ctx);
	tap_ok(!strcmp(start, end), "registry back to where it started");
	free(start);
	free(end);
	hvx_close(&ctx);
	return tap_end();
}
