// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory regions and kernel-side guest memory access: registration
 * rules (alignment, wrap-around, user range, overlap, count, the VMM's own
 * address space), reads and writes from a kernel worker through
 * hvx_core_test.ko hitting this process's memory, VMM exit, and a VM
 * destroyed while the test driver holds it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvx_test.h"
#include "../../kmod/core_test/hvx_core_test.h"

#define PG 4096UL
#define GPA0 0x100000UL

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

static char *map(size_t pages)
{
	char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* MEM_ADD with a hand-built region nest; a field of ~0 is left out. */
static struct nl_msg *add_msg(uint32_t id, uint64_t gpa, uint64_t size,
			      uint64_t uaddr)
{
	struct nl_msg *msg = hvx_msg(&ctx, HVX_CMD_MEM_ADD, 0);
	struct nlattr *nest;

	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	if (gpa != ~0UL)
		nla_put_u64(msg, HVX_A_MEM_GPA, gpa);
	if (size != ~0UL)
		nla_put_u64(msg, HVX_A_MEM_SIZE, size);
	if (uaddr != ~0UL)
		nla_put_u64(msg, HVX_A_MEM_UADDR, uaddr);
	nla_nest_end(msg, nest);
	return msg;
}

static void bad(struct nl_msg *msg, int err, const char *ext, const char *desc)
{
	char *before = hvx_snapshot(&ctx), *after;
	struct hvx_res res;

	hvx_send(&ctx, msg, &res);
	hvx_res_free(&res);
	after = hvx_snapshot(&ctx);
	tap_ok(res.err == err && strstr(res.ext, ext) && !strcmp(before, after),
	       "%s: %s \"%s\", state intact", desc, strerror(-err), ext);
	if (res.err != err || !strstr(res.ext, ext))
		tap_diag("got %s \"%s\"",
			 res.err ? strerror(-res.err) : "success", res.ext);
	if (strcmp(before, after))
		tap_diag("registry changed:\n%s---\n%s", before, after);
	free(before);
	free(after);
}

static void test_regions(uint32_t id, char *buf, char *buf2)
{
	uintptr_t ub = (uintptr_t)buf;
	struct hvx_vm_info vm;
	struct nl_msg *msg;
	struct nlattr *nest;

	tap_ok(!hvx_mem_add(&ctx, id, GPA0, 4 * PG, ub, NULL),
	       "register 4 pages at gpa %#lx", GPA0);
	tap_ok(!hvx_vm_get(&ctx, id, &vm) && vm.nr_mem == 1 &&
	       vm.mem[0].gpa == GPA0 && vm.mem[0].size == 4 * PG &&
	       vm.mem[0].uaddr == ub && vm.mem_pid == (uint32_t)getpid(),
	       "get shows the region and the VMM pid");

	bad(add_msg(id, GPA0 + 8 * PG + 1, PG, ub), -EINVAL,
	    "Region guest address is not page aligned", "misaligned gpa");
	bad(add_msg(id, GPA0 + 8 * PG, 100, ub), -EINVAL,
	    "Region size is zero or not page aligned", "misaligned size");
	bad(add_msg(id, GPA0 + 8 * PG, 0, ub), -EINVAL,
	    "Region size is zero or not page aligned", "size 0");
	bad(add_msg(id, GPA0 + 8 * PG, PG, ub + 1), -EINVAL,
	    "Region user address is not page aligned", "misaligned uaddr");
	bad(add_msg(id, 0xfffffffffffff000UL, 2 * PG, ub), -EOVERFLOW,
	    "Region wraps around the guest address space", "gpa + size wraps");
	bad(add_msg(id, 0xfffffffffffff000UL, PG, ub), -EOVERFLOW,
	    "Region wraps around the guest address space",
	    "a region ending at 2^64 (end not representable)");
	bad(add_msg(id, GPA0 + 8 * PG, PG, 0xffff888000000000UL), -EFAULT,
	    "Region is outside the user address space", "kernel uaddr");
	bad(add_msg(id, GPA0 + 8 * PG, 2 * PG, 0xfffffffffffff000UL), -EFAULT,
	    "Region is outside the user address space", "uaddr + size wraps");
	/* The top of 5-level user space; 4-level ends lower still. */
	bad(add_msg(id, GPA0 + 8 * PG, 2 * PG, 0xfffffffffff000UL), -EFAULT,
	    "Region is outside the user address space",
	    "uaddr range crossing the top of user space");
	bad(add_msg(id, GPA0 + 2 * PG, 4 * PG, ub), -EEXIST,
	    "Region overlaps a registered region", "overlapping the tail");
	bad(add_msg(id, GPA0 - PG, 2 * PG, ub), -EEXIST,
	    "Region overlaps a registered region", "overlapping the head");
	bad(add_msg(id, GPA0 - PG, 8 * PG, ub), -EEXIST,
	    "Region overlaps a registered region", "covering a region");
	bad(add_msg(id, GPA0 + PG, PG, ub), -EEXIST,
	    "Region overlaps a registered region", "inside a region");
	bad(add_msg(id, GPA0 + 8 * PG, ~0UL, ub), -EINVAL,
	    "Region size is required", "region without size");
	bad(add_msg(id, ~0UL, PG, ub), -EINVAL,
	    "Region guest address is required", "region without gpa");
	bad(add_msg(id, GPA0 + 8 * PG, PG, ~0UL), -EINVAL,
	    "Region user address is required", "region without uaddr");
	msg = hvx_msg(&ctx, HVX_CMD_MEM_ADD, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	bad(msg, -EINVAL, "Memory region is required", "mem-add without region");
	msg = add_msg(id, GPA0 + 8 * PG, PG, ub);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, GPA0 + 9 * PG);
	nla_put_u64(msg, HVX_A_MEM_SIZE, PG);
	nla_put_u64(msg, HVX_A_MEM_UADDR, ub);
	nla_nest_end(msg, nest);
	bad(msg, -EINVAL, "One memory region per request", "two regions at once");
	msg = hvx_msg(&ctx, HVX_CMD_MEM_ADD, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, GPA0 + 8 * PG);
	nla_put_u64(msg, HVX_A_MEM_SIZE, PG);
	nla_put_u64(msg, HVX_A_MEM_UADDR, ub);
	nla_put_u64(msg, 9, 1);
	nla_nest_end(msg, nest);
	bad(msg, -EINVAL, "Unknown attribute type", "unknown attribute in region");
	msg = hvx_msg(&ctx, HVX_CMD_MEM_ADD, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u32(msg, HVX_A_MEM_GPA, 0);
	nla_nest_end(msg, nest);
	bad(msg, -EINVAL, "invalid attribute length", "u32 gpa in region");
	bad(add_msg(0x7ffffff0, GPA0 + 8 * PG, PG, ub), -ENOENT,
	    "No VM with this id", "region for an unknown VM");

	tap_ok(!hvx_mem_add(&ctx, id, GPA0 + 4 * PG, 4 * PG, (uintptr_t)buf2,
			    NULL), "an adjacent region (second mapping)");
	tap_ok(!hvx_mem_add(&ctx, id, 0, PG, ub, NULL) &&
	       !hvx_vm_get(&ctx, id, &vm) && vm.nr_mem == 3 &&
	       vm.mem[0].gpa == 0 && vm.mem[1].gpa == GPA0 &&
	       vm.mem[2].gpa == GPA0 + 4 * PG,
	       "regions are listed sorted by gpa, uaddr may alias");
	tap_ok(!hvx_mem_del(&ctx, id, 0, NULL), "drop the aliasing region");

	msg = hvx_msg(&ctx, HVX_CMD_MEM_DEL, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, GPA0 + PG);
	nla_nest_end(msg, nest);
	bad(msg, -ENOENT, "No region starts at this guest address",
	    "mem-del inside a region");
	msg = hvx_msg(&ctx, HVX_CMD_MEM_DEL, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	/* By hand: libnl drops an empty nest. */
	nla_put(msg, HVX_A_VM_MEM | NLA_F_NESTED, 0, NULL);
	bad(msg, -EINVAL, "Region guest address is required",
	    "mem-del without gpa");
	msg = hvx_msg(&ctx, HVX_CMD_MEM_DEL, 0);
	nla_put_u32(msg, HVX_A_VM_ID, id);
	nest = nla_nest_start(msg, HVX_A_VM_MEM | NLA_F_NESTED);
	nla_put_u64(msg, HVX_A_MEM_GPA, GPA0);
	nla_put_u64(msg, HVX_A_MEM_SIZE, PG);
	nla_nest_end(msg, nest);
	bad(msg, -EINVAL, "Unsupported attribute", "mem-del with a size");
}

struct child_res {
	int err[2];
	char ext[2][256];
};

/* Another process (its own mm) tries to change this VM's regions. */
static void test_other_process(uint32_t id)
{
	char *before = hvx_snapshot(&ctx), *after;
	struct child_res cr = { .err = { 1, 1 } };
	int fd[2], st;
	pid_t pid;

	if (pipe(fd))
		exit(1);
	pid = fork();
	if (pid == 0) {
		struct hvx_ctx c;
		struct hvx_res r;
		char *p = map(1);

		close(fd[0]);
		if (!hvx_open(&c)) {
			hvx_mem_add(&c, id, 0x800000, PG, (uintptr_t)p, &r);
			cr.err[0] = r.err;
			strcpy(cr.ext[0], r.ext);
			hvx_mem_del(&c, id, GPA0, &r);
			cr.err[1] = r.err;
			strcpy(cr.ext[1], r.ext);
		}
		if (write(fd[1], &cr, sizeof(cr)) != sizeof(cr))
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	if (read(fd[0], &cr, sizeof(cr)) != sizeof(cr))
		cr.err[0] = cr.err[1] = 1;
	close(fd[0]);
	waitpid(pid, &st, 0);
	after = hvx_snapshot(&ctx);
	tap_ok(cr.err[0] == -EPERM &&
	       strstr(cr.ext[0], "VM memory is bound to another process"),
	       "mem-add from another process: EPERM \"%s\"", cr.ext[0]);
	tap_ok(cr.err[1] == -EPERM &&
	       strstr(cr.ext[1], "VM memory is bound to another process"),
	       "mem-del from another process: EPERM \"%s\"", cr.ext[1]);
	tap_ok(!strcmp(before, after), "regions unchanged");
	free(before);
	free(after);
}

static void test_count_limit(void)
{
	char *p = map(HVX_VM_MEM_MAX + 1);
	struct hvx_vm_info vm;
	uint32_t id;
	int i, ok = 1;

	if (hvx_vm_new(&ctx, vname("many"), &id)) {
		tap_ok(0, "create a VM for the count limit");
		return;
	}
	for (i = 0; i < HVX_VM_MEM_MAX; i++)
		ok &= !hvx_mem_add(&ctx, id, (uint64_t)i * 2 * PG, PG,
				   (uintptr_t)p + i * PG, NULL);
	tap_ok(ok && !hvx_vm_get(&ctx, id, &vm) && vm.nr_mem == HVX_VM_MEM_MAX,
	       "HVX_VM_MEM_MAX (%d) regions", HVX_VM_MEM_MAX);
	bad(add_msg(id, (uint64_t)HVX_VM_MEM_MAX * 2 * PG, PG,
		    (uintptr_t)p + HVX_VM_MEM_MAX * PG), -ENOSPC,
	    "VM has the most memory regions allowed", "one region more");
	tap_ok(!hvx_vm_del(&ctx, id), "destroy a VM with regions");
	munmap(p, (HVX_VM_MEM_MAX + 1) * PG);
}

static void fill(char *p, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = (char)(i * 7 + seed + (i >> 8));
}

static void test_gpa(int tfd, uint32_t id, char *buf, char *buf2)
{
	static char out[5 * PG], pat[PG];
	uint32_t id2;
	int st, ret;
	pid_t pid;
	char *ro;

	fill(buf, 4 * PG, 1);
	fill(buf2, 4 * PG, 99);
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, GPA0 + 100, out,
			     3 * PG, NULL) && !memcmp(out, buf + 100, 3 * PG),
	       "kernel worker reads 3 pages at an offset, as the VMM sees them");
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, GPA0 + 4 * PG - 50,
			     out, 100, NULL) &&
	       !memcmp(out, buf + 4 * PG - 50, 50) &&
	       !memcmp(out + 50, buf2, 50),
	       "a read across two regions (two mappings)");
	fill(pat, sizeof(pat), 42);
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_WRITE, id, GPA0 + PG - 100,
			     pat, 300, NULL) && !memcmp(buf + PG - 100, pat, 300),
	       "kernel worker writes across a page boundary into VMM memory");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, 0x900000, out, 16,
			    NULL) == -EFAULT, "read where no region is: EFAULT");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, GPA0 + 8 * PG - 8,
			    out, 16, NULL) == -EFAULT,
	       "read running past the last region: EFAULT");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, 0xfffffffffffffff0UL,
			    out, 32, NULL) == -EFAULT,
	       "read whose gpa + len wraps: EFAULT");

	ro = map(1);
	fill(ro, PG, 5);
	mprotect(ro, PG, PROT_READ);
	hvx_mem_add(&ctx, id, 0x400000, PG, (uintptr_t)ro, NULL);
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, 0x400000, out, PG,
			     NULL) && !memcmp(out, ro, PG),
	       "read from a read-only mapping");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_WRITE, id, 0x400000, pat, 8,
			    NULL) == -EFAULT && !memcmp(out, ro, PG),
	       "write to a read-only mapping: EFAULT, memory unchanged");
	hvx_mem_del(&ctx, id, 0x400000, NULL);
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, 0x400000, out, 8,
			    NULL) == -EFAULT, "read after mem-del: EFAULT");

	/* A VMM that exits: its address space is gone, not its VM. */
	if (hvx_vm_new(&ctx, vname("exit"), &id2)) {
		tap_ok(0, "create a VM for the exiting VMM");
		return;
	}
	pid = fork();
	if (pid == 0) {
		struct hvx_ctx c;
		char *p = map(1);

		strcpy(p, "child");
		_exit(hvx_open(&c) ||
		      hvx_mem_add(&c, id2, 0, PG, (uintptr_t)p, NULL) ||
		      hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id2, 0, out, 6,
				   NULL) || strcmp(out, "child"));
	}
	tap_ok(waitpid(pid, &st, 0) == pid && WIFEXITED(st) &&
	       !WEXITSTATUS(st), "a child VMM registers and reads its memory");
	ret = hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id2, 0, out, 6, NULL);
	tap_ok(ret == -ESRCH, "after the VMM exited: ESRCH (%d)", ret);
	tap_ok(!hvx_mem_add(&ctx, id2, GPA0, PG, (uintptr_t)buf, NULL) &&
	       !hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id2, GPA0, out, PG, NULL) &&
	       !memcmp(out, buf, PG),
	       "a new VMM process takes the VM over");
	hvx_vm_del(&ctx, id2);
}

static void test_destroy_held(int tfd)
{
	struct hvx_core_test_cmd ev0, ev1, st;
	struct hvx_vm_info vm;
	struct hvx_res res;
	char *p = map(1), out[8];
	uint32_t id, id2;
	long objs;
	int i, listed = 0;

	hvx_test_cmd(tfd, HVX_CORE_TEST_EVENTS, 0, 0, NULL, 0, &ev0);
	if (hvx_vm_new(&ctx, vname("held"), &id) ||
	    hvx_mem_add(&ctx, id, 0, PG, (uintptr_t)p, NULL)) {
		tap_ok(0, "create a VM to hold");
		return;
	}
	objs = hvx_vm_objects();
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_HOLD, id, 0, NULL, 0, NULL) &&
	       !hvx_vm_get(&ctx, id, &vm) && vm.users == 1,
	       "the test driver holds the VM: users 1");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_HOLD, id, 0, NULL, 0, NULL) ==
	       -EBUSY, "holding it twice from one file: EBUSY");
	hvx_vm_set_state(&ctx, id, HVX_VM_STATE_RUNNING);
	tap_ok(!hvx_vm_del(&ctx, id), "destroy the held VM");
	tap_ok(hvx_vm_get(&ctx, id, NULL) == -ENOENT,
	       "lookups fail at once");
	hvx_dump(&ctx, &res);
	for (i = 0; i < res.nvms; i++)
		listed |= res.vms[i].id == id;
	hvx_res_free(&res);
	tap_ok(!listed, "dumps no longer list it");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_HOLD, id, 0, NULL, 0, NULL) ==
	       -ENOENT, "no new holder can find it");
	tap_ok(!hvx_vm_new(&ctx, vname("held"), &id2) && !hvx_vm_del(&ctx, id2),
	       "its name is free again");
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_STATUS, id, 0, NULL, 0, &st) &&
	       st.dead == 1, "the holder sees it dead");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_READ, id, 0, out, 8, NULL) ==
	       -ESRCH, "guest memory access on the dead VM: ESRCH");
	tap_ok(objs > 0 && hvx_vm_objects() == objs,
	       "its memory is still there while held (%ld objects)", objs);
	tap_ok(!hvx_test_cmd(tfd, HVX_CORE_TEST_PUT, id, 0, NULL, 0, NULL) &&
	       hvx_vm_objects() == objs - 1, "freed at the last put");
	tap_ok(hvx_test_cmd(tfd, HVX_CORE_TEST_PUT, id, 0, NULL, 0, NULL) ==
	       -ENOENT, "a second put from the driver: ENOENT");
	hvx_test_cmd(tfd, HVX_CORE_TEST_EVENTS, 0, 0, NULL, 0, &ev1);
	tap_ok(ev1.ev_new - ev0.ev_new >= 2 && ev1.ev_del - ev0.ev_del >= 2 &&
	       ev1.ev_state - ev0.ev_state >= 1 && ev1.ev_bad == 0,
	       "the driver's notifier saw new/state/del per its contract "
	       "(+%u/+%u/+%u, %u bad)", ev1.ev_new - ev0.ev_new,
	       ev1.ev_state - ev0.ev_state, ev1.ev_del - ev0.ev_del,
	       ev1.ev_bad);
	munmap(p, PG);
}

int main(void)
{
	char *buf, *buf2;
	uint32_t id;
	int tfd;

	hvx_require(&ctx);
	tap_begin();
	snprintf(pfx, sizeof(pfx), "mem%d-", getpid());
	buf = map(4);
	buf2 = map(4);
	if (!tap_ok(!hvx_vm_new(&ctx, vname("vm"), &id), "create a VM"))
		return tap_end();
	test_regions(id, buf, buf2);
	test_other_process(id);
	test_count_limit();

	tfd = hvx_test_open();
	if (tfd < 0) {
		tap_skip("hvx_core_test.ko not available",
			 "guest memory access and held VMs");
	} else {
		test_gpa(tfd, id, buf, buf2);
		test_destroy_held(tfd);
		close(tfd);
	}
	tap_ok(!hvx_mem_del(&ctx, id, GPA0, NULL) &&
	       !hvx_mem_del(&ctx, id, GPA0 + 4 * PG, NULL),
	       "drop the regions");
	tap_ok(!hvx_vm_del(&ctx, id), "destroy the VM");
	hvx_close(&ctx);
	return tap_end();
}
