// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_ept netlink API: the good path and bad input. Every rejection must
 * come with the errno and extack text the module promises, and leave the
 * state as it was; non-admin callers get EPERM; the EPT state goes away
 * with the hvx VM.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/hvx.h>

#include "ept_test.h"
#include "hvx_test.h"

#define MEM	(8UL << 20)

static struct ept_env env;

/* ok iff the last request on env.ept failed with @err and extack has @msg. */
static bool rejected(int r, int err, const char *msg, const char *desc)
{
	const char *ext = ept_extack(env.ept);
	bool ok = r == err && strstr(ext, msg);

	if (!ok)
		tap_diag("want %s \"%s\", got %s \"%s\"", strerror(-err), msg,
			 r ? strerror(-r) : "success", ext);
	return tap_ok(ok, "%s: %s \"%s\"", desc, strerror(-err), ext);
}

static struct nl_msg *msg(uint8_t cmd, int flags, uint32_t vm)
{
	struct nl_msg *m = hvx_nl_msg(env.ept, cmd, flags);

	if (vm)
		nla_put_u32(m, HVX_EPT_A_VM_ID, vm);
	return m;
}

static int do_send(struct nl_msg *m)
{
	return hvx_nl_request(env.ept, m, NULL, NULL);
}

static int map(uint32_t view, uint64_t gpa, uint64_t size, uint32_t perm,
	       uint32_t kind)
{
	return ept_map(&env, view, gpa, size, perm, kind);
}

struct state {
	uint32_t nr_views, active, ranges;
};

static int state_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct state *s = arg;

	if (hvx_nl_parse(nlh, HVX_EPT_A_MAX, NULL, tb))
		return -EBADMSG;
	if (tb[HVX_EPT_A_NR_VIEWS])
		s->nr_views = nla_get_u32(tb[HVX_EPT_A_NR_VIEWS]);
	if (tb[HVX_EPT_A_ACTIVE_VIEW])
		s->active = nla_get_u32(tb[HVX_EPT_A_ACTIVE_VIEW]);
	return 0;
}

static int count_ranges(struct nlmsghdr *nlh, void *arg)
{
	struct genlmsghdr *g = NLMSG_DATA(nlh);
	struct nlattr *a;
	int rem;

	nla_for_each_attr(a, (struct nlattr *)((char *)g + GENL_HDRLEN),
			  nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN, rem)
		if (nla_type(a) == HVX_EPT_A_RANGE)
			((struct state *)arg)->ranges++;
	return 0;
}

static struct state snapshot(uint32_t view)
{
	struct state s = { 0 };
	struct nl_msg *m = msg(HVX_EPT_CMD_VM_GET, 0, env.vm);

	hvx_nl_request(env.ept, m, state_cb, &s);
	m = msg(HVX_EPT_CMD_VIEW_GET, 0, env.vm);
	nla_put_u32(m, HVX_EPT_A_VIEW_ID, view);
	hvx_nl_request(env.ept, m, count_ranges, &s);
	return s;
}

static void test_vm_new(void)
{
	struct nl_msg *m;
	int r;

	m = msg(HVX_EPT_CMD_VM_NEW, 0, 999999);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, MEM);
	rejected(do_send(m), -ENOENT, "No VM with this id", "VM_NEW for an unknown VM");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, env.vm);
	rejected(do_send(m), -EINVAL, "Guest memory size is required", "VM_NEW without size");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, env.vm);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, 4097);
	rejected(do_send(m), -EINVAL, "page aligned", "VM_NEW with an unaligned size");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, env.vm);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, 1ULL << 49);
	rejected(do_send(m), -EINVAL, "at most 256 TiB", "VM_NEW beyond a 4-level EPT");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, env.vm);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, MEM);
	rejected(do_send(m), -EEXIST, "VM already has EPT views", "VM_NEW twice");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, 0);
	nla_put_u32(m, HVX_EPT_A_VM_ID, 0);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, MEM);
	r = do_send(m);
	tap_ok(r == -ERANGE && *ept_extack(env.ept),
	       "VM id 0 fails the policy: ERANGE \"%s\"", ept_extack(env.ept));

	m = msg(HVX_EPT_CMD_VM_GET, 0, 0);
	nla_put(m, HVX_EPT_A_VM_ID, 2, "\1\0");
	r = do_send(m);
	tap_ok(r == -EINVAL && *ept_extack(env.ept),
	       "a 2-byte VM id fails the policy: EINVAL \"%s\"", ept_extack(env.ept));

	m = msg(HVX_EPT_CMD_VM_GET, 0, env.vm);
	nla_put_u32(m, 200, 1);
	r = do_send(m);
	tap_ok(r == -EINVAL && *ept_extack(env.ept),
	       "an unknown attribute is rejected: EINVAL \"%s\"", ept_extack(env.ept));

	m = msg(HVX_EPT_CMD_SWITCH, 0, env.vm);
	nla_put_u32(m, HVX_EPT_A_VIEW_ID, 0);
	nla_put_u64(m, HVX_EPT_A_ENTRY, 1);
	r = do_send(m);
	tap_ok(r == -EINVAL && *ept_extack(env.ept),
	       "an attribute the op does not take is rejected: EINVAL \"%s\"",
	       ept_extack(env.ept));
}

static void test_views(uint32_t *v1)
{
	struct nl_msg *m;
	uint32_t other, v;
	int r, n;

	tap_ok(!ept_view_new(&env, v1) && *v1 == 1, "VIEW_NEW gives view 1");

	r = ept_hvx_vm_new(&env, "ept-nl-plain", &other);
	m = msg(HVX_EPT_CMD_VIEW_NEW, 0, other);
	rejected(r ?: do_send(m), -ENOENT, "VM has no EPT views", "VIEW_NEW on a VM without EPT state");
	ept_hvx_vm_del(&env, other);

	m = msg(HVX_EPT_CMD_VIEW_DEL, 0, env.vm);
	rejected(do_send(m), -EINVAL, "View id is required", "VIEW_DEL without a view");
	rejected(ept_view_del(&env, 0), -EINVAL, "The default view cannot be deleted",
		 "VIEW_DEL of view 0");
	rejected(ept_view_del(&env, 63), -ENOENT, "No view with this id", "VIEW_DEL of an unknown view");
	r = ept_view_del(&env, 64);
	tap_ok(r == -ERANGE || (r == -EINVAL && *ept_extack(env.ept)),
	       "view id 64 fails the policy: %s \"%s\"", strerror(-r), ept_extack(env.ept));

	for (n = 2; !(r = ept_view_new(&env, &v)); n++)
		;
	rejected(r, -ENOSPC, "most views", "VIEW_NEW beyond 64 views");
	tap_ok(n == HVX_EPT_VIEWS_MAX, "exactly %d views fit (got %d)", HVX_EPT_VIEWS_MAX, n);
	for (v = 2; v < HVX_EPT_VIEWS_MAX; v++)
		ept_view_del(&env, v);

	rejected(ept_switch_nl(&env, 9), -ENOENT, "No view with this id", "SWITCH to an unknown view");
	m = msg(HVX_EPT_CMD_DUMP, NLM_F_DUMP, env.vm);
	rejected(do_send(m), -EINVAL, "View id is required", "DUMP without a view");
}

static void test_map(uint32_t v1)
{
	const uint32_t rw = HVX_EPT_PERM_R | HVX_EPT_PERM_W;
	struct state before, after;
	struct nl_msg *m;
	int r, i;

	tap_ok(!map(v1, 0x100000, 0x10000, rw, HVX_EPT_KIND_PRIVATE),
	       "MAP a private range");
	before = snapshot(v1);

	m = msg(HVX_EPT_CMD_MAP, 0, env.vm);
	nla_put_u32(m, HVX_EPT_A_VIEW_ID, v1);
	rejected(do_send(m), -EINVAL, "GPA is required", "MAP without GPA");
	rejected(map(v1, 0x1800, 4096, rw, 0), -EINVAL, "GPA must be page aligned",
		 "MAP at an unaligned GPA");
	rejected(map(v1, 0x2000, 0, rw, 0), -EINVAL, "Size must be page aligned",
		 "MAP of size 0");
	rejected(map(v1, 0x2000, 100, rw, 0), -EINVAL, "Size must be page aligned",
		 "MAP of an unaligned size");
	rejected(map(v1, 0x2000, 4096, HVX_EPT_PERM_W, 0), -EINVAL,
		 "Write without read", "MAP write-only");
	rejected(map(v1, 0x2000, 4096, 0, HVX_EPT_KIND_PRIVATE), -EINVAL,
		 "A private range needs some access", "MAP private with no access");
	r = map(v1, 0x2000, 4096, 8, 0);
	tap_ok(r == -EINVAL && *ept_extack(env.ept),
	       "perm bit 3 fails the policy: EINVAL \"%s\"", ept_extack(env.ept));
	r = map(v1, 0x2000, 4096, rw, 2);
	tap_ok(r == -ERANGE || (r == -EINVAL && *ept_extack(env.ept)),
	       "kind 2 fails the policy: %s \"%s\"", strerror(-r), ept_extack(env.ept));
	rejected(map(v1, MEM - 4096, 8192, rw, 0), -ERANGE,
		 "Range is beyond the VM's memory", "MAP across the end of memory");
	rejected(map(v1, (uint64_t)-4096, 8192, rw, 0), -ERANGE,
		 "Range is beyond the VM's memory", "MAP whose end wraps around");
	rejected(map(v1, 0x10f000, 0x2000, rw, 0), -EEXIST,
		 "Range overlaps", "MAP overlapping a range");
	rejected(map(9, 0x2000, 4096, rw, 0), -ENOENT, "No view with this id",
		 "MAP into an unknown view");

	after = snapshot(v1);
	tap_ok(before.nr_views == after.nr_views && before.active == after.active &&
	       before.ranges == after.ranges && after.ranges == 1,
	       "state unchanged by the rejections (views %u, active %u, ranges %u)",
	       after.nr_views, after.active, after.ranges);

	for (i = 1, r = 0; !r && i <= HVX_EPT_RANGES_MAX; i++)
		r = map(v1, (uint64_t)i * 0x10000 + 0x200000, 4096, HVX_EPT_PERM_R, 0);
	rejected(r, -ENOSPC, "too many ranges", "MAP beyond 64 ranges");
}

static void test_perm(void)
{
	int status;
	pid_t pid = fork();

	if (!pid) {
		uint32_t v;

		/* nobody: no CAP_NET_ADMIN left. */
		if (setgid(65534) || setuid(65534))
			_exit(3);
		_exit(ept_view_new(&env, &v) == -EPERM ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status), "a non-admin caller gets EPERM");
}

static void test_del(void)
{
	uint32_t id = env.vm;
	struct nl_msg *m;
	int r;

	m = msg(HVX_EPT_CMD_VM_DEL, 0, env.vm);
	tap_ok(!do_send(m), "VM_DEL drops the EPT state");
	m = msg(HVX_EPT_CMD_VM_GET, 0, env.vm);
	rejected(do_send(m), -ENOENT, "VM has no EPT views", "VM_GET after VM_DEL");
	m = msg(HVX_EPT_CMD_VM_DEL, 0, env.vm);
	rejected(do_send(m), -ENOENT, "VM has no EPT views", "VM_DEL twice");

	m = msg(HVX_EPT_CMD_VM_NEW, 0, env.vm);
	nla_put_u64(m, HVX_EPT_A_MEM_SIZE, MEM);
	r = do_send(m);
	tap_ok(!r && !ept_vm_destroy(&env), "EPT state again, then the hvx VM destroyed");
	m = msg(HVX_EPT_CMD_VM_GET, 0, 0);
	nla_put_u32(m, HVX_EPT_A_VM_ID, id);
	tap_ok(do_send(m) == -ENOENT, "the EPT state went with the hvx VM");
}

int main(void)
{
	uint32_t v1 = 0;
	int r;

	ept_require(&env);
	tap_begin();
	r = ept_setup(&env, "ept-nl", MEM);
	if (!tap_ok(!r, "hvx VM with EPT state (%s)", ept_extack(env.ept)))
		goto out;
	test_vm_new();
	test_views(&v1);
	test_map(v1);
	test_perm();
	test_del();
out:
	ept_teardown(&env);
	return tap_end();
}
