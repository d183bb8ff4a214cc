// SPDX-License-Identifier: GPL-2.0
/*
 * A real KVM guest on hvx_ept memory: a tiny test VMM creates a KVM VM
 * whose only memslot is a MAP_SHARED mapping of the guest-memory fd, and
 * runs three instructions of real-mode code that read GPA 0x2000 and
 * report the byte through an I/O port exit, in a loop. Between KVM_RUNs
 * the host switches views (no memslot change): the guest must read the
 * byte of whichever view is active, and an access the view forbids must
 * make KVM_RUN fail with EFAULT and raise a violation event.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "ept_test.h"
#include "hvx_test.h"

#define MEM		(1UL << 20)
#define GPA_CODE	0x1000UL
#define GPA_DATA	0x2000UL
#define PORT		0x10

/*
 * 0x1000: a0 00 20   mov al, [0x2000]
 * 0x1003: e6 10      out 0x10, al
 * 0x1005: eb f9      jmp 0x1000
 */
static const uint8_t code[] = { 0xa0, 0x00, 0x20, 0xe6, PORT, 0xeb, 0xf9 };

static struct ept_env env;

struct vcpu {
	int vm, fd;
	struct kvm_run *run;
};

static int kvm_open(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		hvx_sh("modprobe kvm_amd 2>/dev/null || modprobe kvm_intel 2>/dev/null");
		fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	}
	return fd;
}

static int vcpu_setup(int kvm, uint8_t *mem, struct vcpu *v)
{
	struct kvm_userspace_memory_region slot = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = MEM,
		.userspace_addr = (uintptr_t)mem,
	};
	struct kvm_regs regs = { .rip = GPA_CODE, .rflags = 2 };
	struct kvm_sregs sregs;
	int size;

	v->vm = ioctl(kvm, KVM_CREATE_VM, 0);
	if (v->vm < 0)
		return -errno;
	if (ioctl(v->vm, KVM_SET_USER_MEMORY_REGION, &slot))
		return -errno;
	v->fd = ioctl(v->vm, KVM_CREATE_VCPU, 0);
	size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (v->fd < 0 || size < 0)
		return -errno;
	v->run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED)
		return -errno;
	if (ioctl(v->fd, KVM_GET_SREGS, &sregs))
		return -errno;
	/* Real mode, flat at 0: CS:IP = 0:0x1000, DS = 0. */
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	sregs.ds.base = 0;
	sregs.ds.selector = 0;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) || ioctl(v->fd, KVM_SET_REGS, &regs))
		return -errno;
	return 0;
}

/* One KVM_RUN: the byte the guest reported, or -errno from KVM_RUN. */
static int guest_read(struct vcpu *v)
{
	struct kvm_run *r = v->run;

	if (ioctl(v->fd, KVM_RUN, 0))
		return -errno;
	if (r->exit_reason != KVM_EXIT_IO || r->io.direction != KVM_EXIT_IO_OUT ||
	    r->io.port != PORT || r->io.size != 1) {
		tap_diag("unexpected exit %u", r->exit_reason);
		return -EPROTO;
	}
	return *((uint8_t *)r + r->io.data_offset);
}

int main(void)
{
	static const struct {
		const char *name;
		bool trusted;
		char want;
	} steps[] = {
		{ "view 0", false, 'U' }, { "trusted", true, 'T' },
		{ "view 0", false, 'U' }, { "trusted", true, 'T' },
		{ "trusted", true, 'T' }, { "view 0", false, 'U' },
	};
	uint32_t v_trusted, v_none;
	struct ept_violation ev = { 0 };
	struct vcpu vcpu = { .vm = -1, .fd = -1 };
	uint8_t *mem;
	int kvm, r, i, bad = 0;

	ept_require(&env);
	kvm = kvm_open();
	if (kvm < 0) {
		printf("TAP version 13\n1..0 # SKIP no /dev/kvm\n");
		return 4;
	}
	tap_begin();
	r = ept_setup(&env, "ept-kvm", MEM) ?: ept_view_new(&env, &v_trusted) ?:
	    ept_view_new(&env, &v_none) ?:
	    ept_map(&env, v_trusted, GPA_DATA, 4096,
		    HVX_EPT_PERM_R | HVX_EPT_PERM_W, HVX_EPT_KIND_PRIVATE) ?:
	    ept_map(&env, v_none, GPA_DATA, 4096, 0, HVX_EPT_KIND_SHARED);
	if (!tap_ok(!r, "EPT VM, a trusted view with a private page at 0x%lx, a no-access view%s%s",
		    GPA_DATA, r ? ": " : "", r ? ept_extack(env.ept) : ""))
		goto out;
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_SHARED, env.memfd, 0);
	if (!tap_ok(mem != MAP_FAILED, "guest memory mapped MAP_SHARED"))
		goto out;
	/* The code is ordinary memory, the same in every view. */
	memcpy(mem + GPA_CODE, code, sizeof(code));
	mem[GPA_DATA] = 'U';
	ept_switch(env.memfd, v_trusted);
	mem[GPA_DATA] = 'T';
	ept_switch(env.memfd, 0);

	r = vcpu_setup(kvm, mem, &vcpu);
	if (!tap_ok(!r, "KVM VM with one memslot on the hvx_ept mapping, one vCPU in real mode%s%s",
		    r ? ": " : "", r ? strerror(-r) : ""))
		goto out;

	for (i = 0; i < (int)(sizeof(steps) / sizeof(steps[0])); i++) {
		ept_switch(env.memfd, steps[i].trusted ? v_trusted : 0);
		r = guest_read(&vcpu);
		tap_diag("KVM_RUN %d, host switched to %-7s: guest read GPA 0x%lx = '%c'",
			 i + 1, steps[i].name, GPA_DATA, r > 0 ? r : '?');
		bad += r != steps[i].want;
	}
	tap_ok(!bad, "the guest reads the active view's byte at each KVM_RUN (U/T/U/T/T/U)");

	ept_drain_violations(&env);
	ept_switch(env.memfd, v_none);
	r = guest_read(&vcpu);
	tap_diag("KVM_RUN with the no-access view: %s", r < 0 ? strerror(-r) : "no error");
	tap_ok(r == -EFAULT, "guest access the view forbids: KVM_RUN fails with EFAULT");
	/* Apart: tap_ok()'s arguments may be read before the event arrives. */
	r = ept_next_violation(&env, 2000, &ev);
	tap_ok(!r && ev.vm == env.vm &&
	       ev.view == v_none && ev.gpa == GPA_DATA && ev.access == HVX_EPT_PERM_R,
	       "violation event: view %u gpa 0x%llx access %u",
	       ev.view, (unsigned long long)ev.gpa, ev.access);

	ept_switch(env.memfd, 0);
	r = guest_read(&vcpu);
	tap_ok(r == 'U', "after switching back the guest runs on and reads 'U' (got '%c')",
	       r > 0 ? r : '?');
	ept_switch(env.memfd, v_trusted);
	r = guest_read(&vcpu);
	tap_ok(r == 'T', "and 'T' in the trusted view (got '%c')", r > 0 ? r : '?');
out:
	ept_teardown(&env);
	return tap_end();
}
