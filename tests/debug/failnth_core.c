// SPDX-License-Identifier: GPL-2.0
/*
 * vm_failnth cases for hvx_core (family "hvx"): every command, do and dump.
 *
 * The rule each check applies: a request the kernel refused (or that never
 * got in) changed nothing, announced nothing, and left no VM or region
 * behind; a request that succeeded did all of its work; a request whose
 * answer was lost either did all of it or none.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/hvx.h>

#include "failnth.h"
#include "hvx_core_test.h"

#define TEST_CTL	"/sys/kernel/debug/hvx_core_test/ctl"

#define VMS_MAX		64
#define MEM_GPA		0x100000ULL
#define MEM_PAGES	4

struct vm_info {
	uint32_t id;
	char name[HVX_VM_NAME_MAX];
	uint32_t state;
	uint32_t owner_pid;
	uint32_t mem_pid;
	uint32_t users;
	unsigned int nr_mem;
	struct {
		uint64_t gpa, size, uaddr;
	} mem[HVX_VM_MEM_MAX];
};

struct vm_list {
	struct vm_info vm[VMS_MAX];
	unsigned int n;
};

static int parse_vm(struct nlmsghdr *nlh, struct vm_info *v)
{
	struct nlattr *tb[HVX_A_VM_MAX + 1], *mt[HVX_A_MEM_MAX + 1];
	struct nlattr *nla;
	int rem;

	if (fn_parse_attrs(nlh, tb, HVX_A_VM_MAX) < 0 ||
	    !tb[HVX_A_VM_ID] || !tb[HVX_A_VM_NAME])
		return -1;
	memset(v, 0, sizeof(*v));
	v->id = nla_get_u32(tb[HVX_A_VM_ID]);
	nla_strlcpy(v->name, tb[HVX_A_VM_NAME], sizeof(v->name));
	if (tb[HVX_A_VM_STATE])
		v->state = nla_get_u32(tb[HVX_A_VM_STATE]);
	if (tb[HVX_A_VM_OWNER_PID])
		v->owner_pid = nla_get_u32(tb[HVX_A_VM_OWNER_PID]);
	if (tb[HVX_A_VM_MEM_PID])
		v->mem_pid = nla_get_u32(tb[HVX_A_VM_MEM_PID]);
	if (tb[HVX_A_VM_USERS])
		v->users = nla_get_u32(tb[HVX_A_VM_USERS]);
	nlmsg_for_each_attr(nla, nlh, GENL_HDRLEN, rem) {
		if (nla_type(nla) != HVX_A_VM_MEM || v->nr_mem == HVX_VM_MEM_MAX)
			continue;
		if (nla_parse_nested(mt, HVX_A_MEM_MAX, nla, NULL) < 0 ||
		    !mt[HVX_A_MEM_GPA] || !mt[HVX_A_MEM_SIZE])
			return -1;
		v->mem[v->nr_mem].gpa = nla_get_u64(mt[HVX_A_MEM_GPA]);
		v->mem[v->nr_mem].size = nla_get_u64(mt[HVX_A_MEM_SIZE]);
		if (mt[HVX_A_MEM_UADDR])
			v->mem[v->nr_mem].uaddr = nla_get_u64(mt[HVX_A_MEM_UADDR]);
		v->nr_mem++;
	}
	return 0;
}

static int parse_one(struct nlmsghdr *nlh, void *arg)
{
	return parse_vm(nlh, arg);
}

static int parse_list(struct nlmsghdr *nlh, void *arg)
{
	struct vm_list *l = arg;

	if (l->n == VMS_MAX)
		return 0;
	if (parse_vm(nlh, &l->vm[l->n]))
		return -1;
	l->n++;
	return 0;
}

/* The registry as a dump shows it, through its own uninjected socket. */
static int vm_list(struct fn *f, struct vm_list *l)
{
	struct fn tmp = { 0 };
	int ret;

	l->n = 0;
	ret = fn_genl_open(&tmp.nl, HVX_GENL_NAME);
	if (ret)
		return fn_bad(f, "cannot open a socket for the dump");
	ret = fn_request(&tmp, &tmp.nl, fn_msg(&tmp.nl, HVX_CMD_VM_GET, NLM_F_DUMP),
			 parse_list, l);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "dump failed: %s %s", strerror(-ret), tmp.extack);
	return 0;
}

static const struct vm_info *vm_find(const struct vm_list *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->vm[i].name, name))
			return &l->vm[i];
	return NULL;
}

static bool vm_same(const struct vm_info *a, const struct vm_info *b)
{
	return a->id == b->id && !strcmp(a->name, b->name) &&
	       a->state == b->state && a->owner_pid == b->owner_pid &&
	       a->users == b->users &&
	       a->mem_pid == b->mem_pid && a->nr_mem == b->nr_mem &&
	       !memcmp(a->mem, b->mem, a->nr_mem * sizeof(a->mem[0]));
}

static int vm_new(struct fn *f, struct fn_genl *g, const char *name,
		  struct vm_info *out)
{
	struct nl_msg *msg = fn_msg(g, HVX_CMD_VM_NEW, 0);

	if (msg && nla_put_string(msg, HVX_A_VM_NAME, name) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, g, msg, parse_one, out);
}

/* Remove a VM by name, whatever state a case left it in. */
static void vm_del_name(const char *name)
{
	struct fn tmp = { 0 };
	struct nl_msg *msg;

	if (fn_genl_open(&tmp.nl, HVX_GENL_NAME))
		return;
	msg = fn_msg(&tmp.nl, HVX_CMD_VM_DEL, 0);
	if (msg && nla_put_string(msg, HVX_A_VM_NAME, name) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	fn_request(&tmp, &tmp.nl, msg, NULL, NULL);
	fn_genl_close(&tmp.nl);
}

/* A setup step: must succeed, without injection. */
static int vm_make(struct fn *f, const char *name, struct vm_info *out)
{
	struct fn tmp = { 0 };
	int ret;

	vm_del_name(name);
	if (fn_genl_open(&tmp.nl, HVX_GENL_NAME))
		return fn_bad(f, "cannot open a socket");
	ret = vm_new(&tmp, &tmp.nl, name, out);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "creating %s failed: %s %s", name,
			      strerror(-ret), tmp.extack);
	return 0;
}

int fn_vm_make(struct fn *f, const char *name, uint32_t *id)
{
	struct vm_info v;

	if (vm_make(f, name, &v))
		return -1;
	*id = v.id;
	return 0;
}

void fn_vm_del(const char *name)
{
	vm_del_name(name);
}

/* Events seen on f->ev for one VM name, by command. */
struct ev_count {
	const char *name;
	unsigned int cmd[HVX_CMD_MAX + 1];
};

static int parse_event(struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *gh = nlmsg_data(nlh);
	struct ev_count *c = arg;
	struct vm_info v;

	if (parse_vm(nlh, &v) == 0 && !strcmp(v.name, c->name) &&
	    gh->cmd <= HVX_CMD_MAX)
		c->cmd[gh->cmd]++;
	return 0;
}

/*
 * A refused request must not have announced anything. The events socket
 * may itself have lost messages to an injected failure (the clone for a
 * listener is allocated in the sender's context): then there is nothing to
 * conclude, and that is not an error.
 */
static int no_event(struct fn *f, const char *name, uint8_t cmd)
{
	struct ev_count c = { .name = name };
	int ret = fn_drain(&f->ev, parse_event, &c);

	if (ret == -ENOBUFS)
		return 0;
	if (ret)
		return fn_bad(f, "reading events failed: %s", strerror(-ret));
	if (c.cmd[cmd])
		return fn_bad(f, "a refused request announced %s on the events group (cmd %u)",
			      name, cmd);
	return 0;
}

static int open_events(struct fn *f)
{
	if (fn_genl_join(&f->ev, HVX_GENL_NAME, HVX_MCGRP_EVENTS))
		return fn_bad(f, "cannot join the events group");
	return 0;
}

static bool refused(const struct fn *f)
{
	return f->kind == FN_ACK || f->kind == FN_SEND;
}

/* ---- VM_NEW ------------------------------------------------------------- */

#define NEW_NAME "fnth-new"

static int new_setup(struct fn *f)
{
	vm_del_name(NEW_NAME);
	return open_events(f);
}

static int new_call(struct fn *f)
{
	static struct vm_info reply;

	f->p[0] = &reply;
	memset(&reply, 0, sizeof(reply));
	return vm_new(f, &f->nl, NEW_NAME, &reply);
}

static int new_check(struct fn *f)
{
	const struct vm_info *reply = f->p[0], *v;
	static struct vm_list l;

	if (vm_list(f, &l))
		return -1;
	v = vm_find(&l, NEW_NAME);
	if (refused(f)) {
		if (v)
			return fn_bad(f, "VM_NEW failed (%s) but VM %s exists (id %u)",
				      strerror(-f->err), NEW_NAME, v->id);
		return no_event(f, NEW_NAME, HVX_CMD_VM_NEW);
	}
	if (!v) {
		if (f->kind == FN_LOST)
			return 0;
		return fn_bad(f, "VM_NEW succeeded but the dump has no %s", NEW_NAME);
	}
	if (v->state != HVX_VM_STATE_CREATED || v->owner_pid != (uint32_t)getpid())
		return fn_bad(f, "new VM is incomplete: state %u owner %u",
			      v->state, v->owner_pid);
	if (f->kind == FN_OK && reply->id != v->id)
		return fn_bad(f, "VM_NEW replied id %u, the dump says %u",
			      reply->id, v->id);
	return 0;
}

static void new_teardown(struct fn *f)
{
	vm_del_name(NEW_NAME);
}

/* ---- VM_DEL ------------------------------------------------------------- */

#define DEL_NAME "fnth-del"

static struct vm_info del_before;

static int del_setup(struct fn *f)
{
	static struct vm_list l;
	const struct vm_info *v;

	if (vm_make(f, DEL_NAME, &del_before) || vm_list(f, &l))
		return -1;
	v = vm_find(&l, DEL_NAME);
	if (!v)
		return fn_bad(f, "created %s is not in the dump", DEL_NAME);
	del_before = *v;
	return open_events(f);
}

static int del_call(struct fn *f)
{
	struct nl_msg *msg = fn_msg(&f->nl, HVX_CMD_VM_DEL, 0);

	if (msg && nla_put_u32(msg, HVX_A_VM_ID, del_before.id) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, NULL, NULL);
}

static int del_check(struct fn *f)
{
	static struct vm_list l;
	const struct vm_info *v;

	if (vm_list(f, &l))
		return -1;
	v = vm_find(&l, DEL_NAME);
	if (refused(f)) {
		if (!v)
			return fn_bad(f, "VM_DEL failed (%s) but the VM is gone",
				      strerror(-f->err));
		if (!vm_same(v, &del_before))
			return fn_bad(f, "VM_DEL failed (%s) and changed the VM",
				      strerror(-f->err));
		return no_event(f, DEL_NAME, HVX_CMD_VM_DEL);
	}
	if (v && f->kind == FN_OK)
		return fn_bad(f, "VM_DEL succeeded but VM %u is still listed", v->id);
	if (v && !vm_same(v, &del_before))
		return fn_bad(f, "VM_DEL answer lost and the VM changed");
	return 0;
}

static void del_teardown(struct fn *f)
{
	vm_del_name(DEL_NAME);
}

/* ---- VM_GET do ---------------------------------------------------------- */

#define GET_NAME "fnth-get"

static struct vm_info get_before;

static int get_setup(struct fn *f)
{
	return vm_make(f, GET_NAME, &get_before);
}

static int get_call(struct fn *f)
{
	static struct vm_info reply;
	struct nl_msg *msg = fn_msg(&f->nl, HVX_CMD_VM_GET, 0);

	f->p[0] = &reply;
	memset(&reply, 0, sizeof(reply));
	if (msg && nla_put_u32(msg, HVX_A_VM_ID, get_before.id) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, parse_one, &reply);
}

static int get_check(struct fn *f)
{
	const struct vm_info *reply = f->p[0], *v;
	static struct vm_list l;

	if (vm_list(f, &l))
		return -1;
	v = vm_find(&l, GET_NAME);
	if (!v || v->id != get_before.id || v->state != get_before.state)
		return fn_bad(f, "VM_GET changed the VM it read");
	if (f->kind == FN_OK && (reply->id != v->id || strcmp(reply->name, GET_NAME)))
		return fn_bad(f, "VM_GET succeeded with a wrong reply (id %u name '%s')",
			      reply->id, reply->name);
	return 0;
}

static void get_teardown(struct fn *f)
{
	vm_del_name(GET_NAME);
}

/* ---- VM_GET dump -------------------------------------------------------- */

static const char *const dump_names[] = { "fnth-dump-0", "fnth-dump-1", "fnth-dump-2" };
#define DUMP_N (sizeof(dump_names) / sizeof(dump_names[0]))

static int dump_setup(struct fn *f)
{
	struct vm_info v;
	size_t i;

	for (i = 0; i < DUMP_N; i++)
		if (vm_make(f, dump_names[i], &v))
			return -1;
	return 0;
}

static int dump_call(struct fn *f)
{
	static struct vm_list l;

	f->p[0] = &l;
	l.n = 0;
	return fn_request(f, &f->nl, fn_msg(&f->nl, HVX_CMD_VM_GET, NLM_F_DUMP),
			  parse_list, &l);
}

static int dump_check(struct fn *f)
{
	const struct vm_list *got = f->p[0];
	static struct vm_list l;
	size_t i;

	if (vm_list(f, &l))
		return -1;
	for (i = 0; i < DUMP_N; i++) {
		if (!vm_find(&l, dump_names[i]))
			return fn_bad(f, "%s vanished during a dump", dump_names[i]);
		if (f->kind == FN_OK && !vm_find(got, dump_names[i]))
			return fn_bad(f, "dump succeeded without %s", dump_names[i]);
	}
	return 0;
}

static void dump_teardown(struct fn *f)
{
	size_t i;

	for (i = 0; i < DUMP_N; i++)
		vm_del_name(dump_names[i]);
}

/* ---- VM_SET ------------------------------------------------------------- */

#define SET_NAME "fnth-set"

static struct vm_info set_before;

static int set_setup(struct fn *f)
{
	if (vm_make(f, SET_NAME, &set_before))
		return -1;
	return open_events(f);
}

static int set_call(struct fn *f)
{
	struct nl_msg *msg = fn_msg(&f->nl, HVX_CMD_VM_SET, 0);

	if (msg && (nla_put_u32(msg, HVX_A_VM_ID, set_before.id) < 0 ||
		    nla_put_u32(msg, HVX_A_VM_STATE, HVX_VM_STATE_RUNNING) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, NULL, NULL);
}

static int set_check(struct fn *f)
{
	static struct vm_list l;
	const struct vm_info *v;

	if (vm_list(f, &l))
		return -1;
	v = vm_find(&l, SET_NAME);
	if (!v)
		return fn_bad(f, "VM_SET made the VM disappear");
	if (refused(f)) {
		if (v->state != HVX_VM_STATE_CREATED)
			return fn_bad(f, "VM_SET failed (%s) but state is %u",
				      strerror(-f->err), v->state);
		return no_event(f, SET_NAME, HVX_CMD_VM_SET);
	}
	if (f->kind == FN_OK && v->state != HVX_VM_STATE_RUNNING)
		return fn_bad(f, "VM_SET succeeded but state is %u", v->state);
	return 0;
}

static void set_teardown(struct fn *f)
{
	vm_del_name(SET_NAME);
}

/* ---- MEM_ADD / MEM_DEL -------------------------------------------------- */

#define MEM_NAME "fnth-mem"

static struct vm_info mem_vm;

static size_t mem_len(void)
{
	return MEM_PAGES * (size_t)sysconf(_SC_PAGESIZE);
}

static struct nl_msg *mem_msg(struct fn *f, uint8_t cmd, bool add)
{
	struct nl_msg *msg = fn_msg(&f->nl, cmd, 0);
	struct nlattr *nest;

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, HVX_A_VM_ID, mem_vm.id) < 0)
		goto err;
	nest = nla_nest_start(msg, HVX_A_VM_MEM);
	if (!nest || nla_put_u64(msg, HVX_A_MEM_GPA, MEM_GPA) < 0)
		goto err;
	if (add && (nla_put_u64(msg, HVX_A_MEM_SIZE, mem_len()) < 0 ||
		    nla_put_u64(msg, HVX_A_MEM_UADDR, (uintptr_t)f->p[1]) < 0))
		goto err;
	nla_nest_end(msg, nest);
	return msg;
err:
	nlmsg_free(msg);
	return NULL;
}

static int mem_setup(struct fn *f)
{
	void *p = mmap(NULL, mem_len(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return fn_bad(f, "mmap: %s", strerror(errno));
	f->p[1] = p;
	return vm_make(f, MEM_NAME, &mem_vm);
}

/* The region as MEM_ADD would leave it, or -1 when it is absent. */
static int mem_state(struct fn *f, const struct vm_info **out)
{
	static struct vm_list l;

	if (vm_list(f, &l))
		return -1;
	*out = vm_find(&l, MEM_NAME);
	if (!*out)
		return fn_bad(f, "%s disappeared", MEM_NAME);
	return 0;
}

static int mem_is_added(struct fn *f, const struct vm_info *v)
{
	if (v->nr_mem != 1 || v->mem[0].gpa != MEM_GPA ||
	    v->mem[0].size != mem_len() || v->mem[0].uaddr != (uintptr_t)f->p[1] ||
	    v->mem_pid != (uint32_t)getpid())
		return fn_bad(f, "region incomplete: %u regions, gpa %#llx size %llu uaddr %#llx mem_pid %u",
			      v->nr_mem, (unsigned long long)v->mem[0].gpa,
			      (unsigned long long)v->mem[0].size,
			      (unsigned long long)v->mem[0].uaddr, v->mem_pid);
	return 0;
}

static int mem_is_empty(struct fn *f, const struct vm_info *v)
{
	if (v->nr_mem || v->mem_pid)
		return fn_bad(f, "%u regions left, mem_pid %u", v->nr_mem, v->mem_pid);
	return 0;
}

static int mem_add_call(struct fn *f)
{
	return fn_request(f, &f->nl, mem_msg(f, HVX_CMD_MEM_ADD, true), NULL, NULL);
}

static int mem_add_check(struct fn *f)
{
	const struct vm_info *v;

	if (mem_state(f, &v))
		return -1;
	if (refused(f))
		return mem_is_empty(f, v);
	if (f->kind == FN_LOST && !v->nr_mem)
		return mem_is_empty(f, v);
	return mem_is_added(f, v);
}

static int mem_del_setup(struct fn *f)
{
	struct fn tmp = { 0 };
	int ret;

	if (mem_setup(f))
		return -1;
	tmp.p[1] = f->p[1];
	if (fn_genl_open(&tmp.nl, HVX_GENL_NAME))
		return fn_bad(f, "cannot open a socket");
	ret = fn_request(&tmp, &tmp.nl, mem_msg(&tmp, HVX_CMD_MEM_ADD, true),
			 NULL, NULL);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "MEM_ADD in setup failed: %s %s", strerror(-ret),
			      tmp.extack);
	return 0;
}

static int mem_del_call(struct fn *f)
{
	return fn_request(f, &f->nl, mem_msg(f, HVX_CMD_MEM_DEL, false), NULL, NULL);
}

static int mem_del_check(struct fn *f)
{
	const struct vm_info *v;

	if (mem_state(f, &v))
		return -1;
	if (refused(f))
		return mem_is_added(f, v);
	if (f->kind == FN_LOST && v->nr_mem)
		return mem_is_added(f, v);
	/* The last region gone unbinds the VMM too. */
	return mem_is_empty(f, v);
}

static void mem_teardown(struct fn *f)
{
	vm_del_name(MEM_NAME);
	if (f->p[1])
		munmap(f->p[1], mem_len());
}

/* ---- hvx_core_test: the kernel API feature modules use ----------------- */

/*
 * Through the self-test driver's ioctl: taking a reference (HOLD) and
 * copying guest memory (READ, WRITE). The copy itself runs in a workqueue
 * kthread, where fail-nth (per task) does not reach; what is swept is the
 * ioctl's own path.
 */
#define T_NAME "fnth-test"
#define T_LEN (2 * (size_t)sysconf(_SC_PAGESIZE))

static int t_ioctl(struct fn *f, uint32_t op, void *buf)
{
	struct hvx_core_test_cmd cmd = {
		.size = sizeof(cmd), .op = op, .vm_id = mem_vm.id,
		.gpa = MEM_GPA, .len = T_LEN, .uptr = (uintptr_t)buf,
	};

	f->kind = FN_OK;
	f->err = 0;
	if (ioctl((int)f->v[0], HVX_CORE_TEST_IOCTL, &cmd) < 0) {
		f->kind = FN_ACK;
		f->err = -errno;
	}
	return f->err;
}

static int t_users(struct fn *f, uint32_t want)
{
	const struct vm_info *v;

	if (mem_state(f, &v))
		return -1;
	if (v->users != want)
		return fn_bad(f, "VM has %u users, want %u", v->users, want);
	return 0;
}

/* Setup shared by the three: a VM, a region with a known pattern, the ctl file. */
static int t_setup(struct fn *f)
{
	int fd;

	if (mem_del_setup(f))
		return -1;
	memset(f->p[1], 0xa5, mem_len());
	f->p[2] = calloc(1, T_LEN);
	if (!f->p[2])
		return fn_bad(f, "out of memory");
	fd = open(TEST_CTL, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return fn_bad(f, "%s: %s (is hvx_core_test loaded?)", TEST_CTL,
			      strerror(errno));
	f->v[0] = fd;
	f->v[1] = 1;
	return 0;
}

static void t_teardown(struct fn *f)
{
	if (f->v[1])
		close((int)f->v[0]);
	free(f->p[2]);
	mem_teardown(f);
}

static int hold_call(struct fn *f)
{
	return t_ioctl(f, HVX_CORE_TEST_HOLD, NULL);
}

static int hold_check(struct fn *f)
{
	struct fn st = *f;

	/* STATUS answers only for a VM this file holds. */
	t_ioctl(&st, HVX_CORE_TEST_STATUS, NULL);
	if (f->kind == FN_OK) {
		if (st.err)
			return fn_bad(f, "HOLD succeeded but STATUS says %s",
				      strerror(-st.err));
		return t_users(f, 1);
	}
	if (st.err != -ENOENT)
		return fn_bad(f, "HOLD failed (%s) but the file holds the VM",
			      strerror(-f->err));
	return t_users(f, 0);
}

static int read_call(struct fn *f)
{
	return t_ioctl(f, HVX_CORE_TEST_READ, f->p[2]);
}

static int read_check(struct fn *f)
{
	const unsigned char *buf = f->p[2];
	size_t i;

	if (f->kind == FN_OK)
		for (i = 0; i < T_LEN; i++)
			if (buf[i] != 0xa5)
				return fn_bad(f, "READ succeeded but byte %zu is %#x",
					      i, buf[i]);
	return t_users(f, 0);
}

static int write_call(struct fn *f)
{
	memset(f->p[2], 0x3c, T_LEN);
	return t_ioctl(f, HVX_CORE_TEST_WRITE, f->p[2]);
}

static int write_check(struct fn *f)
{
	const unsigned char *mem = f->p[1];
	unsigned char want = f->kind == FN_OK ? 0x3c : 0xa5;
	size_t i;

	for (i = 0; i < T_LEN; i++)
		if (mem[i] != want)
			return fn_bad(f, "WRITE %s but guest byte %zu is %#x",
				      f->kind == FN_OK ? "succeeded" : "failed",
				      i, mem[i]);
	return t_users(f, 0);
}

static const struct failnth_case test_cases[] = {
	{ "HOLD", t_setup, hold_call, hold_check, t_teardown },
	{ "READ", t_setup, read_call, read_check, t_teardown },
	{ "WRITE", t_setup, write_call, write_check, t_teardown },
};

static const struct failnth_table test_table = {
	.name = "hvx_core_test",
	.family = HVX_GENL_NAME,
	.cases = test_cases,
	.n = sizeof(test_cases) / sizeof(test_cases[0]),
};
FAILNTH_TABLE(test_table);

static const struct failnth_case core_cases[] = {
	{ "VM_NEW", new_setup, new_call, new_check, new_teardown },
	{ "VM_DEL", del_setup, del_call, del_check, del_teardown },
	{ "VM_GET", get_setup, get_call, get_check, get_teardown },
	{ "VM_GET dump", dump_setup, dump_call, dump_check, dump_teardown },
	{ "VM_SET", set_setup, set_call, set_check, set_teardown },
	{ "MEM_ADD", mem_setup, mem_add_call, mem_add_check, mem_teardown },
	{ "MEM_DEL", mem_del_setup, mem_del_call, mem_del_check, mem_teardown },
};

static const struct failnth_table core_table = {
	.name = "hvx",
	.family = HVX_GENL_NAME,
	.cases = core_cases,
	.n = sizeof(core_cases) / sizeof(core_cases[0]),
};
FAILNTH_TABLE(core_table);
