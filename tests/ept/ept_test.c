// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/hvx.h>

#include "ept_test.h"
#include "hvx_json.h"
#include "hvx_vm.h"

static int open_family(struct hvx_nl **nl, const char *name, uint8_t ver)
{
	int ret = hvx_nl_open(nl, name, ver);

	if (ret == -ENOENT) {
		printf("TAP version 13\n1..0 # SKIP %s is not loaded\n", name);
		exit(4);
	}
	if (ret) {
		fprintf(stderr, "netlink %s: %s\n", name, strerror(-ret));
		exit(1);
	}
	return 0;
}

void ept_require(struct ept_env *e)
{
	memset(e, 0, sizeof(*e));
	e->memfd = -1;
	open_family(&e->core, HVX_GENL_NAME, HVX_GENL_VERSION);
	open_family(&e->ept, HVX_EPT_GENL_NAME, HVX_EPT_GENL_VERSION);
	open_family(&e->events, HVX_EPT_GENL_NAME, HVX_EPT_GENL_VERSION);
	if (hvx_nl_subscribe(e->events, HVX_EPT_MCGRP_VIOLATION)) {
		fprintf(stderr, "cannot subscribe to violations\n");
		exit(1);
	}
}

const char *ept_extack(struct hvx_nl *nl)
{
	const char *s = hvx_nl_extack(nl);

	return s ? s : "";
}

static int vm_id_cb(struct nlmsghdr *nlh, void *arg)
{
	struct json_object *vm;
	int err;

	vm = hvx_vm_json(nlh, &err);
	if (!vm)
		return err;
	*(uint32_t *)arg = hvx_json_u64(vm, "id");
	json_object_put(vm);
	return 0;
}

int ept_hvx_vm_new(struct ept_env *e, const char *name, uint32_t *id)
{
	struct nl_msg *msg = hvx_nl_msg(e->core, HVX_CMD_VM_NEW, 0);

	nla_put_string(msg, HVX_A_VM_NAME, name);
	return hvx_nl_request(e->core, msg, vm_id_cb, id);
}

int ept_hvx_vm_del(struct ept_env *e, uint32_t id)
{
	struct nl_msg *msg = hvx_nl_msg(e->core, HVX_CMD_VM_DEL, 0);

	nla_put_u32(msg, HVX_A_VM_ID, id);
	return hvx_nl_request(e->core, msg, NULL, NULL);
}

int ept_setup(struct ept_env *e, const char *name, uint64_t size)
{
	struct nl_msg *msg;
	int ret;

	ret = ept_hvx_vm_new(e, name, &e->vm);
	if (ret)
		return ret;
	msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_VM_NEW, 0);
	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	nla_put_u64(msg, HVX_EPT_A_MEM_SIZE, size);
	ret = hvx_nl_request(e->ept, msg, NULL, NULL);
	if (ret)
		return ret;
	e->size = size;
	e->memfd = ept_memfd(e->vm);
	return e->memfd < 0 ? e->memfd : 0;
}

int ept_vm_destroy(struct ept_env *e)
{
	int ret = ept_hvx_vm_del(e, e->vm);

	if (!ret)
		e->vm = 0;
	return ret;
}

void ept_teardown(struct ept_env *e)
{
	if (e->memfd >= 0)
		close(e->memfd);
	if (e->vm)
		ept_vm_destroy(e);
	hvx_nl_close(e->events);
	hvx_nl_close(e->ept);
	hvx_nl_close(e->core);
}

static int view_id_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	int ret = hvx_nl_parse(nlh, HVX_EPT_A_MAX, NULL, tb);

	if (ret)
		return ret;
	if (!tb[HVX_EPT_A_VIEW_ID])
		return -EBADMSG;
	*(uint32_t *)arg = nla_get_u32(tb[HVX_EPT_A_VIEW_ID]);
	return 0;
}

int ept_view_new(struct ept_env *e, uint32_t *view)
{
	struct nl_msg *msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_VIEW_NEW, 0);

	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	return hvx_nl_request(e->ept, msg, view_id_cb, view);
}

int ept_view_del(struct ept_env *e, uint32_t view)
{
	struct nl_msg *msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_VIEW_DEL, 0);

	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	nla_put_u32(msg, HVX_EPT_A_VIEW_ID, view);
	return hvx_nl_request(e->ept, msg, NULL, NULL);
}

int ept_map(struct ept_env *e, uint32_t view, uint64_t gpa, uint64_t size,
	    uint32_t perm, uint32_t kind)
{
	struct nl_msg *msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_MAP, 0);

	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	nla_put_u32(msg, HVX_EPT_A_VIEW_ID, view);
	nla_put_u64(msg, HVX_EPT_A_GPA, gpa);
	nla_put_u64(msg, HVX_EPT_A_SIZE, size);
	nla_put_u32(msg, HVX_EPT_A_PERM, perm);
	nla_put_u32(msg, HVX_EPT_A_KIND, kind);
	return hvx_nl_request(e->ept, msg, NULL, NULL);
}

int ept_switch_nl(struct ept_env *e, uint32_t view)
{
	struct nl_msg *msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_SWITCH, 0);

	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	nla_put_u32(msg, HVX_EPT_A_VIEW_ID, view);
	return hvx_nl_request(e->ept, msg, NULL, NULL);
}

int ept_switch(int memfd, uint32_t view)
{
	struct hvx_ept_switch sw = { .size = sizeof(sw), .view_id = view };

	return ioctl(memfd, HVX_EPT_IOC_SWITCH, &sw) ? -errno : 0;
}

int ept_memfd(uint32_t vm)
{
	struct hvx_ept_memfd req = { .size = sizeof(req), .vm_id = vm };
	int dev, fd;

	dev = open(HVX_EPT_DEV, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -errno;
	fd = ioctl(dev, HVX_EPT_IOC_MEMFD, &req);
	if (fd < 0)
		fd = -errno;
	close(dev);
	return fd;
}

struct find_entry {
	uint64_t gpa;
	int level;
	uint64_t entry;
};

static int find_entry_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct find_entry *f = arg;
	uint64_t gpa, size;
	int ret, level;

	ret = hvx_nl_parse(nlh, HVX_EPT_A_MAX, NULL, tb);
	if (ret)
		return ret;
	if (!tb[HVX_EPT_A_LEVEL] || !tb[HVX_EPT_A_GPA] || !tb[HVX_EPT_A_ENTRY])
		return -EBADMSG;
	level = nla_get_u32(tb[HVX_EPT_A_LEVEL]);
	gpa = nla_get_u64(tb[HVX_EPT_A_GPA]);
	size = 1ULL << (12 + 9 * (level - 1));
	if (level == f->level && f->gpa >= gpa && f->gpa < gpa + size)
		f->entry = nla_get_u64(tb[HVX_EPT_A_ENTRY]);
	return 0;
}

uint64_t ept_dump_entry(struct ept_env *e, uint32_t view, uint64_t gpa,
			int level)
{
	struct nl_msg *msg = hvx_nl_msg(e->ept, HVX_EPT_CMD_DUMP, NLM_F_DUMP);
	struct find_entry f = { .gpa = gpa, .level = level };

	nla_put_u32(msg, HVX_EPT_A_VM_ID, e->vm);
	nla_put_u32(msg, HVX_EPT_A_VIEW_ID, view);
	if (hvx_nl_request(e->ept, msg, find_entry_cb, &f))
		return 0;
	return f.entry;
}

struct viol_wait {
	struct ept_violation *v;
	bool got;
};

static int violation_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct viol_wait *w = arg;
	int ret;

	if (w->got || hvx_nl_cmd(nlh) != HVX_EPT_CMD_VIOLATION)
		return 0;
	ret = hvx_nl_parse(nlh, HVX_EPT_A_MAX, NULL, tb);
	if (ret)
		return ret;
	if (!tb[HVX_EPT_A_VM_ID] || !tb[HVX_EPT_A_VIEW_ID] ||
	    !tb[HVX_EPT_A_GPA] || !tb[HVX_EPT_A_ACCESS] ||
	    !tb[HVX_EPT_A_PERM] || !tb[HVX_EPT_A_PID])
		return -EBADMSG;
	w->v->vm = nla_get_u32(tb[HVX_EPT_A_VM_ID]);
	w->v->view = nla_get_u32(tb[HVX_EPT_A_VIEW_ID]);
	w->v->gpa = nla_get_u64(tb[HVX_EPT_A_GPA]);
	w->v->access = nla_get_u32(tb[HVX_EPT_A_ACCESS]);
	w->v->perm = nla_get_u32(tb[HVX_EPT_A_PERM]);
	w->v->pid = nla_get_u32(tb[HVX_EPT_A_PID]);
	w->got = true;
	return 0;
}

int ept_next_violation(struct ept_env *e, int ms, struct ept_violation *v)
{
	struct pollfd pfd = { .fd = hvx_nl_fd(e->events), .events = POLLIN };
	struct viol_wait w = { .v = v };

	while (!w.got) {
		if (poll(&pfd, 1, ms) <= 0)
			return -ETIMEDOUT;
		if (hvx_nl_dispatch(e->events, violation_cb, &w) < 0)
			return -EIO;
	}
	return 0;
}

static int ignore_cb(struct nlmsghdr *nlh, void *arg)
{
	return 0;
}

void ept_drain_violations(struct ept_env *e)
{
	hvx_nl_dispatch(e->events, ignore_cb, NULL);
}

static sigjmp_buf touch_env;

static void touch_signal(int sig)
{
	siglongjmp(touch_env, sig);
}

int ept_touch(volatile uint8_t *p, bool write, uint8_t val, uint8_t *out)
{
	struct sigaction sa = { .sa_handler = touch_signal }, obus, osegv;
	int sig;

	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	sig = sigsetjmp(touch_env, 1);
	if (!sig) {
		if (write)
			*p = val;
		else if (out)
			*out = *p;
		else
			(void)*p;
	}
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	return sig;
}
