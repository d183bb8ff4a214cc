// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>

#include "hvx_test.h"
#include "../../kmod/core_test/hvx_core_test.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

int hvx_open(struct hvx_ctx *c)
{
	int one = 1;

	c->sk = nl_socket_alloc();
	if (!c->sk)
		return -ENOMEM;
	if (genl_connect(c->sk) < 0)
		return -ECONNREFUSED;
	/* Bigger than a dump pass, so no message is ever truncated. */
	nl_socket_set_buffer_size(c->sk, 1 << 20, 1 << 20);
	nl_socket_set_msg_buf_size(c->sk, 1 << 16);
	if (setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) ||
	    setsockopt(nl_socket_get_fd(c->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		       &one, sizeof(one)))
		return -errno;
	c->family = genl_ctrl_resolve(c->sk, HVX_GENL_NAME);
	return c->family < 0 ? -ENOENT : 0;
}

void hvx_close(struct hvx_ctx *c)
{
	nl_socket_free(c->sk);
	c->sk = NULL;
}

struct nl_msg *hvx_msg(struct hvx_ctx *c, int cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, c->family, 0,
				 flags, cmd, HVX_GENL_VERSION)) {
		fprintf(stderr, "hvx_msg: out of memory\n");
		exit(1);
	}
	return msg;
}

void hvx_parse_vm(struct nl_msg *msg, struct hvx_vm_info *vm)
{
	struct genlmsghdr *g = nlmsg_data(nlmsg_hdr(msg));
	struct nlattr *tb[HVX_A_VM_MAX + 1], *a;
	int rem;

	memset(vm, 0, sizeof(*vm));
	vm->cmd = g->cmd;
	if (genlmsg_parse(nlmsg_hdr(msg), 0, tb, HVX_A_VM_MAX, NULL))
		return;
	if (tb[HVX_A_VM_ID])
		vm->id = nla_get_u32(tb[HVX_A_VM_ID]);
	if (tb[HVX_A_VM_NAME])
		snprintf(vm->name, sizeof(vm->name), "%s",
			 nla_get_string(tb[HVX_A_VM_NAME]));
	if (tb[HVX_A_VM_STATE])
		vm->state = nla_get_u32(tb[HVX_A_VM_STATE]);
	if (tb[HVX_A_VM_OWNER_PID])
		vm->owner_pid = nla_get_u32(tb[HVX_A_VM_OWNER_PID]);
	if (tb[HVX_A_VM_OWNER_UID])
		vm->owner_uid = nla_get_u32(tb[HVX_A_VM_OWNER_UID]);
	if (tb[HVX_A_VM_USERS])
		vm->users = nla_get_u32(tb[HVX_A_VM_USERS]);
	if (tb[HVX_A_VM_MEM_PID])
		vm->mem_pid = nla_get_u32(tb[HVX_A_VM_MEM_PID]);
	nla_for_each_attr(a, genlmsg_attrdata(g, 0), genlmsg_attrlen(g, 0),
			  rem) {
		struct nlattr *mt[HVX_A_MEM_MAX + 1];
		struct hvx_mem_info *m;

		if (nla_type(a) != HVX_A_VM_MEM || vm->nr_mem == HVX_VM_MEM_MAX)
			continue;
		if (nla_parse_nested(mt, HVX_A_MEM_MAX, a, NULL))
			continue;
		m = &vm->mem[vm->nr_mem++];
		if (mt[HVX_A_MEM_GPA])
			m->gpa = nla_get_u64(mt[HVX_A_MEM_GPA]);
		if (mt[HVX_A_MEM_SIZE])
			m->size = nla_get_u64(mt[HVX_A_MEM_SIZE]);
		if (mt[HVX_A_MEM_UADDR]) {
			m->uaddr = nla_get_u64(mt[HVX_A_MEM_UADDR]);
			m->has_uaddr = true;
		}
	}
}

static int hvx_valid_cb(struct nl_msg *msg, void *arg)
{
	struct hvx_res *res = arg;

	if (nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP_INTR)
		res->intr = true;
	/* Grow by doubling: dumps bring thousands of VMs. */
	if (res->nvms >= 16 && (res->nvms & (res->nvms - 1)))
		goto parse;
	res->vms = realloc(res->vms, (res->nvms < 16 ? 16 : 2 * res->nvms) *
			   sizeof(*res->vms));
	if (!res->vms) {
		fprintf(stderr, "hvx_valid_cb: out of memory\n");
		exit(1);
	}
parse:
	hvx_parse_vm(msg, &res->vms[res->nvms++]);
	return NL_OK;
}

static int hvx_intr_cb(struct nl_msg *msg, void *arg)
{
	((struct hvx_res *)arg)->intr = true;
	return NL_OK;
}

/* The extack TLVs follow the error and, unless capped, the request. */
static int hvx_err_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct nlmsghdr *nlh = (struct nlmsghdr *)((char *)e - NLMSG_HDRLEN);
	struct hvx_res *res = arg;
	struct nlattr *a;
	int off = sizeof(*e), len, rem;

	res->err = e->error;
	res->done = true;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NL_STOP;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	len = (int)nlh->nlmsg_len - NLMSG_HDRLEN - off;
	nla_for_each_attr(a, (struct nlattr *)((char *)e + off), len, rem) {
		if (nla_type(a) == NLMSGERR_ATTR_MSG)
			snprintf(res->ext, sizeof(res->ext), "%.*s",
				 nla_len(a), (char *)nla_data(a));
		else if (nla_type(a) == NLMSGERR_ATTR_MISS_TYPE)
			res->miss_type = nla_get_u32(a);
	}
	return NL_STOP;
}

static int hvx_stop_cb(struct nl_msg *msg, void *arg)
{
	((struct hvx_res *)arg)->done = true;
	return NL_STOP;
}

int hvx_send(struct hvx_ctx *c, struct nl_msg *msg, struct hvx_res *res)
{
	struct nl_cb *cb;
	int ret;

	memset(res, 0, sizeof(*res));
	res->miss_type = -1;
	ret = nl_send_auto(c->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		res->err = -EIO;
		return res->err;
	}
	cb = nl_cb_alloc(NL_CB_CUSTOM);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, hvx_valid_cb, res);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, hvx_intr_cb, res);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, hvx_stop_cb, res);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, hvx_stop_cb, res);
	nl_cb_err(cb, NL_CB_CUSTOM, hvx_err_cb, res);
	/* A reply and its ack may come in separate reads. */
	do {
		ret = nl_recvmsgs(c->sk, cb);
	} while (ret >= 0 && !res->done);
	nl_cb_put(cb);
	if (ret < 0 && !res->err)
		res->err = -EIO;
	return res->err;
}

void hvx_res_free(struct hvx_res *res)
{
	free(res->vms);
	res->vms = NULL;
	res->nvms = 0;
}

int hvx_vm_new(struct hvx_ctx *c, const char *name, uint32_t *id)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_VM_NEW, 0);
	struct hvx_res res;

	nla_put_string(msg, HVX_A_VM_NAME, name);
	hvx_send(c, msg, &res);
	if (!res.err && id)
		*id = res.nvms ? res.vms[0].id : 0;
	hvx_res_free(&res);
	return res.err;
}

int hvx_vm_del(struct hvx_ctx *c, uint32_t id)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_VM_DEL, 0);
	struct hvx_res res;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	hvx_send(c, msg, &res);
	hvx_res_free(&res);
	return res.err;
}

int hvx_vm_get(struct hvx_ctx *c, uint32_t id, struct hvx_vm_info *vm)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_VM_GET, 0);
	struct hvx_res res;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	hvx_send(c, msg, &res);
	if (!res.err && vm) {
		if (res.nvms == 1)
			*vm = res.vms[0];
		else
			res.err = -EPROTO;
	}
	hvx_res_free(&res);
	return res.err;
}

int hvx_vm_set_state(struct hvx_ctx *c, uint32_t id, uint32_t state)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_VM_SET, 0);
	struct hvx_res res;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	nla_put_u32(msg, HVX_A_VM_STATE, state);
	hvx_send(c, msg, &res);
	hvx_res_free(&res);
	return res.err;
}

int hvx_mem_add(struct hvx_ctx *c, uint32_t id, uint64_t gpa, uint64_t size,
		uint64_t uaddr, struct hvx_res *res)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_MEM_ADD, 0);
	struct hvx_res local;
	struct nlattr *nest;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, gpa);
	nla_put_u64(msg, HVX_A_MEM_SIZE, size);
	nla_put_u64(msg, HVX_A_MEM_UADDR, uaddr);
	nla_nest_end(msg, nest);
	hvx_send(c, msg, res ? res : &local);
	if (!res) {
		hvx_res_free(&local);
		return local.err;
	}
	return res->err;
}

int hvx_mem_del(struct hvx_ctx *c, uint32_t id, uint64_t gpa,
		struct hvx_res *res)
{
	struct nl_msg *msg = hvx_msg(c, HVX_CMD_MEM_DEL, 0);
	struct hvx_res local;
	struct nlattr *nest;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, gpa);
	nla_nest_end(msg, nest);
	hvx_send(c, msg, res ? res : &local);
	if (!res) {
		hvx_res_free(&local);
		return local.err;
	}
	return res->err;
}

int hvx_dump(struct hvx_ctx *c, struct hvx_res *res)
{
	return hvx_send(c, hvx_msg(c, HVX_CMD_VM_GET, NLM_F_DUMP), res);
}

char *hvx_snapshot(struct hvx_ctx *c)
{
	struct hvx_res res;
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	int i, j;

	f = open_memstream(&buf, &len);
	if (!f)
		exit(1);
	if (hvx_dump(c, &res))
		fprintf(f, "dump failed: %d\n", res.err);
	for (i = 0; i < res.nvms; i++) {
		struct hvx_vm_info *vm = &res.vms[i];

		fprintf(f, "%u %s %u %u %u:", vm->id, vm->name, vm->state,
			vm->users, vm->mem_pid);
		for (j = 0; j < vm->nr_mem; j++)
			fprintf(f, " %#llx+%#llx@%#llx",
				(unsigned long long)vm->mem[j].gpa,
				(unsigned long long)vm->mem[j].size,
				(unsigned long long)vm->mem[j].uaddr);
		fputc('\n', f);
	}
	fclose(f);
	hvx_res_free(&res);
	return buf;
}

static int tap_n, tap_failed;

void tap_begin(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
}

int tap_end(void)
{
	printf("1..%d\n", tap_n);
	if (tap_failed)
		printf("# %d of %d failed\n", tap_failed, tap_n);
	return tap_failed ? 1 : 0;
}

bool tap_ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (!cond)
		tap_failed++;
	return cond;
}

void tap_skip(const char *reason, const char *fmt, ...)
{
	va_list ap;

	printf("ok %d - ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf(" # SKIP %s\n", reason);
}

void tap_diag(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

bool tap_rejected(const struct hvx_res *res, int err, const char *msg,
		  const char *desc)
{
	bool ok = res->err == err && strstr(res->ext, msg);

	if (!ok)
		tap_diag("want %s \"%s\", got %s \"%s\"", strerror(-err), msg,
			 res->err ? strerror(-res->err) : "success", res->ext);
	return tap_ok(ok, "%s: %s", desc, strerror(-err));
}

void hvx_require(struct hvx_ctx *c)
{
	int ret = hvx_open(c);

	if (ret == -ENOENT) {
		printf("TAP version 13\n1..0 # SKIP hvx_core is not loaded\n");
		exit(4);
	}
	if (ret) {
		fprintf(stderr, "netlink: %s\n", strerror(-ret));
		exit(1);
	}
}

int hvx_sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

#define HVX_TEST_CTL "/sys/kernel/debug/hvx_core_test/ctl"

int hvx_test_open(void)
{
	if (access(HVX_TEST_CTL, F_OK))
		hvx_sh("mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug; "
		       "modprobe hvx_core_test 2>/dev/null || "
		       "insmod kmod/core_test/hvx_core_test.ko 2>/dev/null");
	return open(HVX_TEST_CTL, O_RDWR | O_CLOEXEC);
}

int hvx_test_cmd(int fd, uint32_t op, uint32_t vm_id, uint64_t gpa,
		 void *buf, uint64_t len, void *out)
{
	struct hvx_core_test_cmd cmd = {
		.size = sizeof(cmd),
		.op = op,
		.vm_id = vm_id,
		.gpa = gpa,
		.len = len,
		.uptr = (uintptr_t)buf,
	};

	if (ioctl(fd, HVX_CORE_TEST_IOCTL, &cmd))
		return -errno;
	if (out)
		memcpy(out, &cmd, sizeof(cmd));
	return 0;
}

long hvx_vm_objects(void)
{
	FILE *f = fopen("/sys/kernel/debug/hvx_core/vm_objects", "r");
	long n = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}
