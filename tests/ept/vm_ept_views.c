// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_ept views seen through the guest-memory fd by processes: two views
 * of one GPA give different data; the untrusted view never reads the
 * trusted bytes, across switches back and forth, fork, mremap and
 * munmap; MAP_PRIVATE is refused; violations give SIGBUS and an event
 * with the right GPA and access; the switch ioctl checks its struct; a
 * switch in one VM leaves other VMs' mappings alone; teardown while
 * mapped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ept_test.h"
#include "hvx_test.h"

#define MEM		(4UL << 20)
#define GPA_SECRET	0x10000UL
#define GPA_RO		0x20000UL
#define GPA_BIG		0x200000UL
#define BIG		(2UL << 20)

static const char secret[] = "TRUSTED-SECRET-7f3a9c";
static const char decoy[] = "public decoy";

static struct ept_env env;
static uint32_t v_trusted, v_none, v_ro;

static bool has_secret(const uint8_t *p, size_t len)
{
	return memmem(p, len, secret, sizeof(secret) - 1) != NULL;
}

static bool reads(const uint8_t *p, const char *s)
{
	return !memcmp(p, s, strlen(s));
}

static void *map_mem(int prot, int flags)
{
	return mmap(NULL, MEM, prot, flags, env.memfd, 0);
}

static void test_mmap_rules(void)
{
	void *p;

	p = map_mem(PROT_READ | PROT_WRITE, MAP_PRIVATE);
	tap_ok(p == MAP_FAILED && errno == EINVAL, "MAP_PRIVATE is refused (EINVAL)");
	if (p != MAP_FAILED)
		munmap(p, MEM);
	p = mmap(NULL, MEM + 4096, PROT_READ, MAP_SHARED, env.memfd, 0);
	tap_ok(p == MAP_FAILED && errno == EINVAL, "mapping beyond guest memory is refused");
	if (p != MAP_FAILED)
		munmap(p, MEM + 4096);
	p = mmap(NULL, 4096, PROT_READ, MAP_SHARED, env.memfd, MEM);
	tap_ok(p == MAP_FAILED && errno == EINVAL, "offset at the end of guest memory is refused");
	if (p != MAP_FAILED)
		munmap(p, 4096);
}

static void test_two_views(uint8_t *m)
{
	int i, bad = 0;

	memcpy(m + GPA_SECRET, decoy, sizeof(decoy));
	tap_ok(ept_switch(env.memfd, v_trusted) == 0, "switch to the trusted view (ioctl)");
	memcpy(m + GPA_SECRET, secret, sizeof(secret));
	tap_ok(reads(m + GPA_SECRET, secret), "trusted view reads its secret at GPA 0x%lx",
	       GPA_SECRET);
	for (i = 0; i < 512; i++)
		m[GPA_BIG + i * 4096] = (uint8_t)(i + 1);
	tap_ok(ept_switch_nl(&env, 0) == 0, "switch back to view 0 (netlink)");
	tap_ok(reads(m + GPA_SECRET, decoy), "view 0 reads the decoy at the same GPA");
	for (i = 0; i < 512; i++)
		bad += m[GPA_BIG + i * 4096] != 0;
	tap_ok(!bad, "view 0 reads zeros where the trusted view has a private 2 MiB range");
	tap_ok(!has_secret(m, MEM), "no trusted byte anywhere in view 0's 4 MiB");

	for (i = 0, bad = 0; i < 200; i++) {
		uint32_t v = i % 2 ? 0 : v_trusted;
		int r = i % 4 < 2 ? ept_switch(env.memfd, v) : ept_switch_nl(&env, v);

		if (r || !reads(m + GPA_SECRET, v ? secret : decoy))
			bad++;
	}
	tap_ok(!bad, "200 switches back and forth (ioctl and netlink): every read matches the view");
	tap_ok(!has_secret(m, MEM), "after them view 0 still has no trusted byte");
}

static void test_large_page(void)
{
	uint64_t pde = ept_dump_entry(&env, v_trusted, GPA_BIG, 2);
	uint64_t pte = ept_dump_entry(&env, v_trusted, GPA_SECRET, 1);

	tap_diag("trusted view: PDE for 0x%lx = 0x%016llx, PTE for 0x%lx = 0x%016llx",
		 GPA_BIG, (unsigned long long)pde, GPA_SECRET,
		 (unsigned long long)pte);
	tap_ok((pde & HVX_EPT_E_LARGE) && (pde & HVX_EPT_E_SW_PRIVATE) &&
	       (pde & HVX_EPT_E_PERM_MASK) == 3 &&
	       ((pde & HVX_EPT_E_MT_MASK) >> HVX_EPT_E_MT_SHIFT) == HVX_EPT_MT_WB &&
	       !(pde & 0x1ff000),
	       "private 2 MiB range is one large-page PDE (RW, WB, private, 2 MiB aligned)");
	tap_ok((pte & HVX_EPT_E_SW_PRIVATE) && (pte & HVX_EPT_E_ACCESSED) &&
	       (pte & HVX_EPT_E_DIRTY) && !(pte & HVX_EPT_E_LARGE),
	       "written private 4 KiB page: PTE has accessed and dirty set");
}

static void test_fork(uint8_t *m)
{
	int to_child[2], to_parent[2], status, i;
	char seen[3] = { 0 };
	pid_t pid;

	if (pipe(to_child) || pipe(to_parent)) {
		tap_ok(false, "fork: pipes");
		return;
	}
	pid = fork();
	if (!pid) {
		char c;

		/* Report what this inherited mapping shows, three times. */
		for (i = 0; i < 3; i++) {
			if (read(to_child[0], &c, 1) != 1)
				_exit(2);
			c = reads(m + GPA_SECRET, secret) ? 'S' :
			    reads(m + GPA_SECRET, decoy) ? 'D' : '?';
			if (i == 2 && has_secret(m, MEM))
				c = 'L';
			if (write(to_parent[1], &c, 1) != 1)
				_exit(2);
		}
		_exit(0);
	}
	for (i = 0; i < 3; i++) {
		ept_switch(env.memfd, i == 1 ? v_trusted : 0);
		if (write(to_child[1], "x", 1) != 1 ||
		    read(to_parent[0], &seen[i], 1) != 1)
			break;
	}
	waitpid(pid, &status, 0);
	tap_ok(seen[0] == 'D' && seen[1] == 'S' && seen[2] == 'D' &&
	       WIFEXITED(status) && !WEXITSTATUS(status),
	       "forked child follows the switches (decoy, secret, decoy: got %c%c%c) and never keeps trusted bytes",
	       seen[0] ?: '-', seen[1] ?: '-', seen[2] ?: '-');
	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

static uint8_t *test_mremap(uint8_t *m)
{
	uint8_t *n;
	bool ok;

	/* Reserve a destination so the move really changes the address. */
	n = mmap(NULL, MEM, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	n = mremap(m, MEM, MEM, MREMAP_MAYMOVE | MREMAP_FIXED, n);
	if (n == MAP_FAILED) {
		tap_ok(false, "mremap: %s", strerror(errno));
		return m;
	}
	ok = reads(n + GPA_SECRET, decoy) && !has_secret(n, MEM);
	ept_switch(env.memfd, v_trusted);
	ok = ok && reads(n + GPA_SECRET, secret);
	ept_switch(env.memfd, 0);
	ok = ok && reads(n + GPA_SECRET, decoy) && !has_secret(n, MEM);
	tap_ok(ok && n != m, "moved by mremap, the mapping still follows the views");
	tap_ok(mremap(n, MEM, MEM * 2, 0) == MAP_FAILED,
	       "mremap cannot grow a guest-memory mapping");
	return n;
}

static uint8_t *test_remap(uint8_t *m)
{
	bool ok;

	munmap(m, MEM);
	m = map_mem(PROT_READ | PROT_WRITE, MAP_SHARED);
	if (m == MAP_FAILED) {
		tap_ok(false, "mmap again: %s", strerror(errno));
		return NULL;
	}
	ok = reads(m + GPA_SECRET, decoy) && !has_secret(m, MEM);
	ept_switch(env.memfd, v_trusted);
	ok = ok && reads(m + GPA_SECRET, secret);
	ept_switch(env.memfd, 0);
	tap_ok(ok, "after munmap + mmap: view 0 has no trusted byte, the trusted view kept its secret");
	return m;
}

static void test_violations(uint8_t *m)
{
	struct ept_violation v = { 0 };
	uint8_t b;
	int sig, r;

	ept_drain_violations(&env);
	ept_switch(env.memfd, v_none);
	sig = ept_touch(m + GPA_SECRET + 8, false, 0, &b);
	tap_ok(sig == SIGBUS, "read of a no-access range: SIGBUS (got %d)", sig);
	/* Apart: tap_ok()'s arguments may be read before the event arrives. */
	r = ept_next_violation(&env, 2000, &v);
	tap_ok(!r && v.vm == env.vm &&
	       v.view == v_none && v.gpa == GPA_SECRET &&
	       v.access == HVX_EPT_PERM_R && v.perm == 0 &&
	       v.pid == (uint32_t)getpid(),
	       "violation event: vm %u view %u gpa 0x%llx access %u perm %u pid %u",
	       v.vm, v.view, (unsigned long long)v.gpa, v.access, v.perm, v.pid);
	tap_ok(!ept_touch(m + GPA_SECRET + 4096, false, 0, &b),
	       "the page next to it is ordinary memory");

	ept_switch(env.memfd, v_ro);
	tap_ok(!ept_touch(m + GPA_RO, false, 0, &b), "read of a read-only range works");
	sig = ept_touch(m + GPA_RO + 16, true, 1, NULL);
	tap_ok(sig == SIGBUS, "write to a read-only range: SIGBUS (got %d)", sig);
	r = ept_next_violation(&env, 2000, &v);
	tap_ok(!r && v.view == v_ro &&
	       v.gpa == GPA_RO && v.access == HVX_EPT_PERM_W &&
	       v.perm == HVX_EPT_PERM_R,
	       "violation event: view %u gpa 0x%llx access %u perm %u",
	       v.view, (unsigned long long)v.gpa, v.access, v.perm);
	tap_ok(!ept_touch(m + GPA_RO + 4096, true, 7, NULL),
	       "write next to the read-only range works");
	ept_switch(env.memfd, 0);
	tap_ok(!ept_touch(m + GPA_RO + 16, true, 1, NULL),
	       "the same write works again in view 0");
}

static void test_ioctl(void)
{
	struct {
		struct hvx_ept_switch sw;
		uint64_t tail;
	} big = { .sw = { .size = sizeof(big) }, .tail = 0 };
	struct hvx_ept_switch sw = { .size = sizeof(sw) };
	int r;

	sw.size = 8;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &sw);
	tap_ok(r == -1 && errno == EINVAL, "switch ioctl: short struct -> EINVAL");
	sw.size = sizeof(sw);
	sw.flags = 1;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &sw);
	tap_ok(r == -1 && errno == EOPNOTSUPP, "switch ioctl: unknown flag -> EOPNOTSUPP");
	sw.flags = 0;
	sw.__reserved = 1;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &sw);
	tap_ok(r == -1 && errno == EINVAL, "switch ioctl: reserved field set -> EINVAL");
	sw.__reserved = 0;
	sw.view_id = 63;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &sw);
	tap_ok(r == -1 && errno == ENOENT, "switch ioctl: unknown view -> ENOENT");
	big.tail = 1;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &big);
	tap_ok(r == -1 && errno == E2BIG, "switch ioctl: larger struct, non-zero tail -> E2BIG");
	big.tail = 0;
	big.sw.view_id = v_trusted;
	r = ioctl(env.memfd, HVX_EPT_IOC_SWITCH, &big);
	tap_ok(r == 0, "switch ioctl: larger struct with zero tail is accepted");
	r = ioctl(env.memfd, 0x1234, &sw);
	tap_ok(r == -1 && errno == ENOTTY, "unknown ioctl -> ENOTTY");
	ept_switch(env.memfd, 0);
}

static void test_view_del(void)
{
	int r;

	ept_switch(env.memfd, v_none);
	r = ept_view_del(&env, v_none);
	tap_ok(r == -EBUSY && strstr(ept_extack(env.ept), "active"),
	       "deleting the active view -> EBUSY \"%s\"", ept_extack(env.ept));
	ept_switch(env.memfd, 0);
	tap_ok(ept_view_del(&env, v_none) == 0, "deleting an inactive view");
	tap_ok(ept_switch(env.memfd, v_none) == -ENOENT, "switching to it -> ENOENT");
}

static bool resident(const uint8_t *p)
{
	unsigned char vec = 0;

	return !mincore((void *)p, 4096, &vec) && (vec & 1);
}

/*
 * Each VM's memory has an inode of its own: a switch in one VM must not
 * unmap another VM's pages at the same offsets. mincore() shows whether
 * the PTE is still there (these pages are in no page cache).
 */
static void test_isolation(uint8_t *m)
{
	struct ept_env e2 = env;
	uint32_t t2 = 0;
	uint8_t *m2;
	int r, i;

	e2.vm = 0;
	e2.memfd = -1;
	r = ept_setup(&e2, "ept-views-2", MEM) ?: ept_view_new(&e2, &t2) ?:
	    ept_map(&e2, t2, GPA_SECRET, 4096, HVX_EPT_PERM_R | HVX_EPT_PERM_W,
		    HVX_EPT_KIND_PRIVATE) ?: ept_switch(e2.memfd, t2);
	if (!tap_ok(!r, "a second VM with a private page at the same GPA%s%s",
		    r ? ": " : "", r ? strerror(-r) : ""))
		goto out;
	m2 = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, e2.memfd, 0);
	if (!tap_ok(m2 != MAP_FAILED, "its memory mapped"))
		goto out;
	m2[GPA_SECRET] = 0xb2;
	tap_ok(resident(m2 + GPA_SECRET), "its private page is mapped after the write");
	for (i = 0; i < 10; i++) {
		ept_switch(env.memfd, i % 2 ? 0 : v_trusted);
		(void)*(volatile uint8_t *)(m + GPA_SECRET);
	}
	tap_ok(resident(m2 + GPA_SECRET) && m2[GPA_SECRET] == 0xb2,
	       "10 switches of the first VM leave the second VM's page mapped");
	ept_switch(e2.memfd, 0);
	tap_ok(!resident(m2 + GPA_SECRET),
	       "a switch of the second VM unmaps its own page (mincore sees it)");
	tap_ok(m2[GPA_SECRET] == 0, "and its view 0 reads the shared zero page there");
	munmap(m2, MEM);
out:
	if (e2.memfd >= 0)
		close(e2.memfd);
	if (e2.vm)
		ept_vm_destroy(&e2);
}

static void test_teardown(uint8_t *m)
{
	uint8_t *m2 = map_mem(PROT_READ, MAP_SHARED);
	uint8_t b;
	int sig, status;
	pid_t pid;

	ept_switch(env.memfd, v_trusted);
	(void)*(volatile uint8_t *)(m2 + GPA_SECRET);
	pid = fork();
	if (!pid) {
		/* Hold the mapping until the parent destroyed the VM. */
		sleep(1);
		_exit(ept_touch(m + GPA_SECRET, false, 0, &b) == SIGBUS ? 0 : 1);
	}
	tap_ok(ept_vm_destroy(&env) == 0, "destroy the hvx VM while its memory is mapped twice and forked");
	sig = ept_touch(m + GPA_SECRET, false, 0, &b);
	tap_ok(sig == SIGBUS, "access after teardown: SIGBUS (got %d)", sig);
	sig = ept_touch(m2 + 0x1000, false, 0, &b);
	tap_ok(sig == SIGBUS, "second mapping after teardown: SIGBUS (got %d)", sig);
	waitpid(pid, &status, 0);
	tap_ok(WIFEXITED(status) && !WEXITSTATUS(status), "forked child gets SIGBUS too");
	tap_ok(ept_switch(env.memfd, 0) == -ENOENT, "switch on the dead fd -> ENOENT");
	tap_ok(munmap(m, MEM) == 0 && munmap(m2, MEM) == 0, "munmap after teardown");
}

int main(void)
{
	uint8_t *m;
	int r;

	ept_require(&env);
	tap_begin();
	r = ept_setup(&env, "ept-views", MEM);
	if (!tap_ok(!r, "hvx VM with 4 MiB of EPT guest memory and its fd%s%s",
		    r ? ": " : "", r ? strerror(-r) : ""))
		return tap_end();
	r = ept_view_new(&env, &v_trusted) ?: ept_view_new(&env, &v_none) ?:
	    ept_view_new(&env, &v_ro);
	tap_ok(!r && v_trusted && v_none && v_ro, "three views: %u %u %u", v_trusted,
	       v_none, v_ro);
	r = ept_map(&env, v_trusted, GPA_SECRET, 4096, HVX_EPT_PERM_R | HVX_EPT_PERM_W,
		    HVX_EPT_KIND_PRIVATE) ?:
	    ept_map(&env, v_trusted, GPA_BIG, BIG, HVX_EPT_PERM_R | HVX_EPT_PERM_W,
		    HVX_EPT_KIND_PRIVATE) ?:
	    ept_map(&env, v_none, GPA_SECRET, 4096, 0, HVX_EPT_KIND_SHARED) ?:
	    ept_map(&env, v_ro, GPA_RO, 4096, HVX_EPT_PERM_R, HVX_EPT_KIND_SHARED);
	tap_ok(!r, "ranges: private RW page and 2 MiB, a no-access page, a read-only page%s%s",
	       r ? ": " : "", r ? ept_extack(env.ept) : "");

	test_mmap_rules();
	m = map_mem(PROT_READ | PROT_WRITE, MAP_SHARED);
	if (!tap_ok(m != MAP_FAILED, "MAP_SHARED mapping of all guest memory"))
		goto out;
	test_two_views(m);
	test_large_page();
	test_fork(m);
	m = test_mremap(m);
	m = test_remap(m);
	if (!m)
		goto out;
	test_violations(m);
	test_ioctl();
	test_view_del();
	test_isolation(m);
	test_teardown(m);
out:
	ept_teardown(&env);
	return tap_end();
}
