// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_iommu in the VM: maps over netlink (lib/hvx_nl), guest rings over
 * /dev/hvx_iommu, commands through the kernel worker into the host ring,
 * events and PPR requests back into the guest logs; isolation between
 * VMs, hostile pointers and sizes, log overflow, unmap while commands are
 * in flight, VM destruction under an open ring, bad netlink and ioctl
 * input. VMs are made with the hvx_core test helpers (tests/core).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/hvx_iommu.h>

#include "hvx_nl.h"
#include "../core/hvx_test.h"

#define DEV_PATH	"/dev/" HVX_IOMMU_DEV_NAME
#define DOM		HVX_IOMMU_MAP_DOMAIN
#define DEV		HVX_IOMMU_MAP_DEVICE

/* Guest memory of VM A backing COMPLETION_WAIT stores. */
#define CW_GPA		0x100835000ULL

static struct hvx_ctx core;
static struct hvx_nl *inl;
static int devfd;

/* ---- netlink ---- */

static int nl_map(uint8_t cmd, uint32_t vm, uint32_t type, int guest,
		  int host)
{
	struct nl_msg *m = hvx_nl_msg(inl, cmd, 0);

	if (vm)
		nla_put_u32(m, HVX_IOMMU_A_MAP_VM_ID, vm);
	if (type)
		nla_put_u32(m, HVX_IOMMU_A_MAP_TYPE, type);
	if (guest >= 0)
		nla_put_u16(m, HVX_IOMMU_A_MAP_GUEST_ID, guest);
	if (host >= 0)
		nla_put_u16(m, HVX_IOMMU_A_MAP_HOST_ID, host);
	return hvx_nl_request(inl, m, NULL, NULL);
}

static int map_add(uint32_t vm, uint32_t type, int guest, int host)
{
	return nl_map(HVX_IOMMU_CMD_MAP_ADD, vm, type, guest, host);
}

static int map_del(uint32_t vm, uint32_t type, int guest)
{
	return nl_map(HVX_IOMMU_CMD_MAP_DEL, vm, type, guest, -1);
}

static bool nl_rejected(int err, int want, const char *msg, const char *desc)
{
	const char *ext = hvx_nl_extack(inl);

	return tap_ok(err == want && (!msg || (ext && strstr(ext, msg))),
		      "%s: %s (%s)", desc, strerror(-err), ext ? ext : "");
}

struct dump {
	char text[8192];
	size_t len;
	int n;
};

static int dump_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_IOMMU_A_MAP_MAX + 1];
	struct dump *d = arg;

	if (hvx_nl_parse(nlh, HVX_IOMMU_A_MAP_MAX, NULL, tb) ||
	    !tb[HVX_IOMMU_A_MAP_VM_ID] || !tb[HVX_IOMMU_A_MAP_TYPE] ||
	    !tb[HVX_IOMMU_A_MAP_GUEST_ID] || !tb[HVX_IOMMU_A_MAP_HOST_ID])
		return -EBADMSG;
	if (d->len < sizeof(d->text))
		d->len += snprintf(d->text + d->len, sizeof(d->text) - d->len,
				   "%u/%u/%04x>%04x ",
				   nla_get_u32(tb[HVX_IOMMU_A_MAP_VM_ID]),
				   nla_get_u32(tb[HVX_IOMMU_A_MAP_TYPE]),
				   nla_get_u16(tb[HVX_IOMMU_A_MAP_GUEST_ID]),
				   nla_get_u16(tb[HVX_IOMMU_A_MAP_HOST_ID]));
	d->n++;
	return 0;
}

static int map_dump(uint32_t vm, struct dump *d)
{
	struct nl_msg *m = hvx_nl_msg(inl, HVX_IOMMU_CMD_MAP_GET, NLM_F_DUMP);

	memset(d, 0, sizeof(*d));
	if (vm)
		nla_put_u32(m, HVX_IOMMU_A_MAP_VM_ID, vm);
	return hvx_nl_request(inl, m, dump_cb, d);
}

struct stats {
	uint32_t domains, devices;
	uint8_t ring;
	uint64_t v[HVX_IOMMU_A_STATS_MAX + 1];
};

static int stats_cb(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_IOMMU_A_STATS_MAX + 1];
	struct stats *s = arg;
	int i;

	if (hvx_nl_parse(nlh, HVX_IOMMU_A_STATS_MAX, NULL, tb))
		return -EBADMSG;
	memset(s, 0, sizeof(*s));
	s->domains = nla_get_u32(tb[HVX_IOMMU_A_STATS_DOMAINS]);
	s->devices = nla_get_u32(tb[HVX_IOMMU_A_STATS_DEVICES]);
	s->ring = nla_get_u8(tb[HVX_IOMMU_A_STATS_RING]);
	for (i = HVX_IOMMU_A_STATS_COMMANDS; i <= HVX_IOMMU_A_STATS_MAX; i++)
		s->v[i] = tb[i] ? nla_get_u64(tb[i]) : ~0ULL;
	return 0;
}

static int stats_get(uint32_t vm, struct stats *s)
{
	struct nl_msg *m = hvx_nl_msg(inl, HVX_IOMMU_CMD_STATS_GET, 0);

	nla_put_u32(m, HVX_IOMMU_A_STATS_VM_ID, vm);
	return hvx_nl_request(inl, m, stats_cb, s);
}

static int inject(uint32_t vm, uint32_t log, const uint32_t *e, int len)
{
	struct nl_msg *m = hvx_nl_msg(inl, HVX_IOMMU_CMD_INJECT, 0);

	nla_put_u32(m, HVX_IOMMU_A_INJECT_VM_ID, vm);
	nla_put_u32(m, HVX_IOMMU_A_INJECT_LOG, log);
	nla_put(m, HVX_IOMMU_A_INJECT_ENTRY, len, e);
	return hvx_nl_request(inl, m, NULL, NULL);
}

/* ---- rings ---- */

struct ring {
	int fd;
	uint8_t *map;
	struct hvx_iommu_vm_open o;
	volatile uint64_t *regs;
	uint32_t *cmd, *evt, *ppr;
	const uint32_t *host;
	uint32_t cmd_size, evt_size, ppr_size, host_size;
	uint32_t tail;		/* the VMM's command tail */
	uint32_t evt_head, host_head;
};

#define REG(r, off)	((r)->regs[(off) / 8])

static int vm_open(uint32_t vm, int cl, int el, int pl,
		   struct hvx_iommu_vm_open *o)
{
	memset(o, 0, sizeof(*o));
	o->size = sizeof(*o);
	o->vm_id = vm;
	o->cmd_log2 = cl;
	o->evt_log2 = el;
	o->ppr_log2 = pl;
	return ioctl(devfd, HVX_IOMMU_VM_OPEN, o) ? -errno : 0;
}

static int ring_open(uint32_t vm, int cl, int el, struct ring *r)
{
	int ret;

	memset(r, 0, sizeof(*r));
	ret = vm_open(vm, cl, el, 8, &r->o);
	if (ret)
		return ret;
	r->fd = r->o.out_fd;
	/* Everything but the host ring read-write, the host ring read-only. */
	r->map = mmap(NULL, r->o.out_map_size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED)
		return -errno;
	if (mmap(r->map, r->o.out_host_offset, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED)
		return -errno;
	r->regs = (volatile uint64_t *)r->map;
	r->cmd = (uint32_t *)(r->map + r->o.out_cmd_offset);
	r->evt = (uint32_t *)(r->map + r->o.out_evt_offset);
	r->ppr = (uint32_t *)(r->map + r->o.out_ppr_offset);
	r->host = (const uint32_t *)(r->map + r->o.out_host_offset);
	r->cmd_size = 16 << cl;
	r->evt_size = 16 << el;
	r->ppr_size = 16 << 8;
	r->host_size = 2 * r->cmd_size;
	return 0;
}

static void ring_close(struct ring *r)
{
	munmap(r->map, r->o.out_map_size);
	close(r->fd);
}

static void push(struct ring *r, uint32_t a, uint32_t b, uint32_t c, uint32_t d)
{
	uint32_t *s = r->cmd + r->tail / 4;

	s[0] = a;
	s[1] = b;
	s[2] = c;
	s[3] = d;
	r->tail = (r->tail + 16) & (r->cmd_size - 1);
}

static int doorbell(struct ring *r, uint32_t flags)
{
	struct hvx_iommu_doorbell db = { .size = sizeof(db), .flags = flags };

	return ioctl(r->fd, HVX_IOMMU_DOORBELL, &db) ? -errno : 0;
}

static int kick(struct ring *r)
{
	__atomic_store_n(&REG(r, HVX_IOMMU_REG_CMD_TAIL), r->tail,
			 __ATOMIC_RELEASE);
	return doorbell(r, HVX_IOMMU_DOORBELL_SYNC);
}

/* Host ring entries the kernel produced since the last call. */
static int host_take(struct ring *r, uint32_t (*out)[4], int max)
{
	uint64_t tail = __atomic_load_n(&REG(r, HVX_IOMMU_REG_HOST_TAIL),
					__ATOMIC_ACQUIRE);
	int n = 0;

	while (r->host_head != tail && n < max) {
		memcpy(out[n++], r->host + r->host_head / 4, 16);
		r->host_head = (r->host_head + 16) & (r->host_size - 1);
	}
	REG(r, HVX_IOMMU_REG_HOST_HEAD) = r->host_head;
	return n;
}

static int evt_take(struct ring *r, uint32_t (*out)[4], int max)
{
	uint64_t tail = __atomic_load_n(&REG(r, HVX_IOMMU_REG_EVT_TAIL),
					__ATOMIC_ACQUIRE);
	int n = 0;

	while (r->evt_head != tail && n < max) {
		memcpy(out[n++], r->evt + r->evt_head / 4, 16);
		r->evt_head = (r->evt_head + 16) & (r->evt_size - 1);
	}
	REG(r, HVX_IOMMU_REG_EVT_HEAD) = r->evt_head;
	return n;
}

static bool eq4(const uint32_t *e, uint32_t a, uint32_t b, uint32_t c,
		uint32_t d)
{
	return e[0] == a && e[1] == b && e[2] == c && e[3] == d;
}

static int submit(struct ring *r, const uint32_t *in, uint32_t *out)
{
	struct hvx_iommu_submit s = { .size = sizeof(s) };

	memcpy(s.cmd, in, sizeof(s.cmd));
	if (ioctl(r->fd, HVX_IOMMU_SUBMIT, &s))
		return -errno;
	if (out)
		memcpy(out, s.out_cmd, sizeof(s.out_cmd));
	return 0;
}

/* ---- tests ---- */

static uint32_t vm_a, vm_b;
static struct ring ra, rb;
static uint64_t *guest_mem;

static void test_maps(void)
{
	struct dump d;
	int err;

	tap_ok(!map_add(vm_a, DOM, 5, 0x1234) && !map_add(vm_a, DOM, 0xffff, 1) &&
	       !map_add(vm_a, DEV, 0x10, 0x8a03) &&
	       !map_add(vm_a, DEV, 0xa0, 0x100), "map: VM A domains and devices");
	tap_ok(!map_add(vm_b, DOM, 5, 0x2000) && !map_add(vm_b, DEV, 0x10, 0x8b00),
	       "map: VM B uses the same guest IDs on other host IDs");
	/* Dump first: the message reads what the dump filled in. */
	err = map_dump(0, &d);
	tap_ok(!err && d.n == 6, "map dump: %d entries: %s", d.n, d.text);
	err = map_dump(vm_b, &d);
	tap_ok(!err && d.n == 2, "map dump of VM B only: %s", d.text);
}

static void test_nl_bad_input(void)
{
	struct dump before, after;
	struct nl_msg *m;
	int err;

	map_dump(0, &before);
	nl_rejected(map_add(vm_a, 0, 1, 2), -EINVAL, "Map type is required",
		    "map-add without type");
	nl_rejected(map_add(vm_a, DOM, -1, 2), -EINVAL, "Guest ID is required",
		    "map-add without guest ID");
	nl_rejected(map_add(vm_a, DOM, 1, -1), -EINVAL, "Host ID is required",
		    "map-add without host ID");
	nl_rejected(map_add(0, DOM, 1, 2), -EINVAL, "VM id is required",
		    "map-add without VM");
	nl_rejected(map_add(999999, DOM, 1, 2), -ENOENT, "No VM with this id",
		    "map-add for no VM");
	err = map_add(vm_a, 3, 1, 2);
	tap_ok(err == -ERANGE || err == -EINVAL, "map-add of type 3: %s",
	       strerror(-err));
	nl_rejected(map_add(vm_a, DOM, 5, 0x3000), -EEXIST,
		    "Guest domain ID is already mapped", "duplicate guest domain");
	nl_rejected(map_add(vm_b, DOM, 6, 0x1234), -EBUSY,
		    "Host domain ID is already mapped",
		    "host domain of VM A given to VM B");
	nl_rejected(map_add(vm_b, DEV, 0x11, 0x8a03), -EBUSY,
		    "Host device ID is already mapped",
		    "host device of VM A given to VM B");
	nl_rejected(map_del(vm_a, DEV, 0x77), -ENOENT,
		    "Guest device ID is not mapped", "unmap of an unmapped ID");

	/* A u32 where a u16 belongs. */
	m = hvx_nl_msg(inl, HVX_IOMMU_CMD_MAP_ADD, 0);
	nla_put_u32(m, HVX_IOMMU_A_MAP_VM_ID, vm_a);
	nla_put_u32(m, HVX_IOMMU_A_MAP_TYPE, DOM);
	nla_put_u32(m, HVX_IOMMU_A_MAP_GUEST_ID, 9);
	nla_put_u16(m, HVX_IOMMU_A_MAP_HOST_ID, 0x999);
	err = hvx_nl_request(inl, m, NULL, NULL);
	tap_ok(err == -EINVAL, "guest ID of the wrong size: %s", strerror(-err));
	/* An attribute the family does not know. */
	m = hvx_nl_msg(inl, HVX_IOMMU_CMD_MAP_ADD, 0);
	nla_put_u32(m, HVX_IOMMU_A_MAP_VM_ID, vm_a);
	nla_put_u32(m, HVX_IOMMU_A_MAP_TYPE, DOM);
	nla_put_u16(m, HVX_IOMMU_A_MAP_GUEST_ID, 9);
	nla_put_u16(m, HVX_IOMMU_A_MAP_HOST_ID, 0x999);
	nla_put_u32(m, 42, 1);
	err = hvx_nl_request(inl, m, NULL, NULL);
	tap_ok(err == -EINVAL, "unknown attribute: %s", strerror(-err));
	/* An entry that is not 16 bytes. */
	err = inject(vm_a, HVX_IOMMU_LOG_EVENT, (uint32_t[4]){ 0 }, 12);
	tap_ok(err == -EINVAL || err == -ERANGE, "inject of a 12-byte entry: %s",
	       strerror(-err));
	map_dump(0, &after);
	tap_ok(before.n == after.n && !strcmp(before.text, after.text),
	       "maps unchanged by the rejected requests");
}

static void test_nl_unprivileged(void)
{
	pid_t pid = fork();
	int st;

	if (!pid) {
		struct hvx_nl *nl;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534) ||
		    hvx_nl_open(&nl, HVX_IOMMU_GENL_NAME, HVX_IOMMU_GENL_VERSION))
			_exit(2);
		inl = nl;
		_exit(map_add(vm_a, DOM, 0x42, 0x4242) == -EPERM &&
		      map_del(vm_a, DOM, 5) == -EPERM ? 0 : 1);
	}
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && !WEXITSTATUS(st),
	       "map-add and map-del as nobody: EPERM");
}

static void test_ioctl_bad_input(void)
{
	struct hvx_iommu_vm_open o;
	struct {
		struct hvx_iommu_vm_open o;
		uint64_t extra;
	} big;

	memset(&o, 0, sizeof(o));
	o.size = 4;
	o.vm_id = vm_a;
	o.cmd_log2 = o.evt_log2 = o.ppr_log2 = 8;
	tap_ok(ioctl(devfd, HVX_IOMMU_VM_OPEN, &o) && errno == EINVAL,
	       "vm-open: size shorter than version 1: EINVAL");
	memset(&big, 0, sizeof(big));
	big.o = o;
	big.o.size = sizeof(big);
	big.extra = 1;
	tap_ok(ioctl(devfd, HVX_IOMMU_VM_OPEN, &big) && errno == E2BIG,
	       "vm-open: unknown trailing field set: E2BIG");
	o.size = sizeof(o);
	o.flags = 1;
	tap_ok(ioctl(devfd, HVX_IOMMU_VM_OPEN, &o) && errno == EOPNOTSUPP,
	       "vm-open: unknown flag: EOPNOTSUPP");
	o.flags = 0;
	o.__reserved = 1;
	tap_ok(ioctl(devfd, HVX_IOMMU_VM_OPEN, &o) && errno == EINVAL,
	       "vm-open: reserved field set: EINVAL");
	tap_ok(vm_open(vm_a, 7, 8, 8, &o) == -EINVAL &&
	       vm_open(vm_a, 8, 16, 8, &o) == -EINVAL &&
	       vm_open(vm_a, 8, 8, 255, &o) == -EINVAL,
	       "vm-open: ring sizes outside 2^8..2^15 entries: EINVAL");
	tap_ok(vm_open(999999, 8, 8, 8, &o) == -ENOENT, "vm-open: no such VM");
	tap_ok(ioctl(devfd, _IO(HVX_IOMMU_TYPE, 0x7f), &o) && errno == ENOTTY,
	       "unknown ioctl: ENOTTY");
}

static void test_open_and_mmap(void)
{
	struct hvx_iommu_vm_open o;
	void *p;
	int err = ring_open(vm_a, 8, 8, &ra);

	tap_ok(!err, "vm-open A: map of %llu bytes",
	       (unsigned long long)ra.o.out_map_size);
	tap_ok(vm_open(vm_a, 8, 8, 8, &o) == -EBUSY, "second vm-open of A: EBUSY");
	tap_ok(!ring_open(vm_b, 9, 8, &rb), "vm-open B");
	p = mmap(NULL, ra.o.out_map_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		 ra.fd, 0);
	tap_ok(p == MAP_FAILED && errno == EACCES,
	       "mmap of the host ring writable: EACCES");
	tap_ok(mprotect((void *)ra.host, 4096, PROT_READ | PROT_WRITE) &&
	       errno == EACCES, "mprotect of the host ring writable: EACCES");
	p = mmap(NULL, 8192, PROT_READ, MAP_SHARED, ra.fd,
		 ra.o.out_map_size - 4096);
	tap_ok(p == MAP_FAILED && errno == EINVAL, "mmap past the end: EINVAL");
	tap_ok((REG(&ra, HVX_IOMMU_REG_STATUS) & (HVX_IOMMU_STATUS_CMD_RUN |
		HVX_IOMMU_STATUS_EVT_RUN)) == (HVX_IOMMU_STATUS_CMD_RUN |
		HVX_IOMMU_STATUS_EVT_RUN), "status: command buffer and event log run");
}

static void test_every_opcode(void)
{
	uint32_t h[16][4];
	struct stats s0 = { 0 }, s1 = { 0 };
	int n;

	stats_get(vm_a, &s0);
	/* The reference encodings, then one of each opcode. */
	push(&ra, 0x00835001, 0x10000001, 0x00003c00, 0);
	push(&ra, 0x00000000, 0x30000005, 0xfffff003, 0x7fffffff);
	push(&ra, 0x0010, 0x20000000, 0, 0);
	push(&ra, 0x201200a0, 0x403400a0, 0x45678005, 0x123);
	push(&ra, 0x00a0, 0x50000000, 0, 0);
	push(&ra, 0x04000010, 0x60000007, 0xabcde005, 1);
	push(&ra, 0x0010, 0x70012345, 0x4, 0x11ff);
	push(&ra, 0, 0x80000000, 0, 0);
	push(&ra, 0, 0x3000ffff, 0x1000, 0);
	tap_ok(!kick(&ra), "doorbell after 9 commands");
	tap_ok(REG(&ra, HVX_IOMMU_REG_CMD_HEAD) == ra.tail,
	       "worker consumed up to the tail (head %#llx)",
	       (unsigned long long)REG(&ra, HVX_IOMMU_REG_CMD_HEAD));
	n = host_take(&ra, h, 16);
	tap_ok(n == 9, "9 host commands");
	tap_ok(eq4(h[0], 0x00835001, 0x10000001, 0x00003c00, 0),
	       "COMPLETION_WAIT passes unchanged");
	tap_ok(guest_mem[0] == 0x3c00,
	       "COMPLETION_WAIT stored 0x3c00 at guest-physical %#llx",
	       CW_GPA);
	tap_ok(eq4(h[1], 0, 0x30001234, 0xfffff003, 0x7fffffff),
	       "INVALIDATE_IOMMU_PAGES domain 5 -> 0x1234");
	tap_ok(eq4(h[2], 0x8a03, 0x20000000, 0, 0),
	       "INVALIDATE_DEVTAB_ENTRY 00:02.0 -> 8a:00.3");
	tap_ok(eq4(h[3], 0x20120100, 0x40340100, 0x45678005, 0x123),
	       "INVALIDATE_IOTLB_PAGES DeviceID and QueueId 0xa0 -> 0x100");
	tap_ok(eq4(h[4], 0x0100, 0x50000000, 0, 0),
	       "INVALIDATE_INTERRUPT_TABLE 0xa0 -> 0x100");
	tap_ok(eq4(h[5], 0x04008a03, 0x60000007, 0xabcde005, 1),
	       "PREFETCH_IOMMU_PAGES 0x10 -> 0x8a03");
	tap_ok(eq4(h[6], 0x8a03, 0x70012345, 0x4, 0x11ff),
	       "COMPLETE_PPR_REQUEST 0x10 -> 0x8a03");
	tap_ok(eq4(h[7], 0, 0x80000000, 0, 0), "INVALIDATE_IOMMU_ALL unchanged");
	tap_ok(eq4(h[8], 0, 0x30000001, 0x1000, 0),
	       "INVALIDATE_IOMMU_PAGES domain 0xffff -> 1");
	stats_get(vm_a, &s1);
	tap_ok(s1.v[HVX_IOMMU_A_STATS_COMMANDS] - s0.v[HVX_IOMMU_A_STATS_COMMANDS] == 9 &&
	       s1.v[HVX_IOMMU_A_STATS_COMPLETION_WAITS] -
	       s0.v[HVX_IOMMU_A_STATS_COMPLETION_WAITS] == 1,
	       "stats: 9 commands, 1 completion wait");
}

static void test_completion_irq(void)
{
	struct hvx_iommu_set_irq si = { .size = sizeof(si),
					.irq = HVX_IOMMU_IRQ_COMWAIT };
	int efd = eventfd(0, EFD_NONBLOCK);
	uint32_t h[4][4];
	uint64_t cnt = 0;

	si.fd = efd;
	tap_ok(!ioctl(ra.fd, HVX_IOMMU_SET_IRQ, &si), "set-irq: completion eventfd");
	REG(&ra, HVX_IOMMU_REG_STATUS) &= ~HVX_IOMMU_STATUS_COMWAIT_INT;
	/* S and I: store 0x77 to the second quadword of guest memory. */
	push(&ra, (uint32_t)(CW_GPA + 8) | 3, 0x10000000 | (uint32_t)(CW_GPA >> 32),
	     0x77, 0);
	kick(&ra);
	host_take(&ra, h, 4);
	tap_ok(read(efd, &cnt, 8) == 8 && cnt == 1, "eventfd signalled once");
	tap_ok(REG(&ra, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_COMWAIT_INT,
	       "status: ComWaitInt set");
	tap_ok(guest_mem[1] == 0x77, "store data 0x77 at %#llx", CW_GPA + 8);
	si.fd = -1;
	tap_ok(!ioctl(ra.fd, HVX_IOMMU_SET_IRQ, &si), "set-irq: detach");
	si.irq = __HVX_IOMMU_IRQ_MAX;
	si.fd = efd;
	tap_ok(ioctl(ra.fd, HVX_IOMMU_SET_IRQ, &si) && errno == EINVAL,
	       "set-irq: unknown interrupt: EINVAL");
	close(efd);
}

/* Expect the ring halted at the command at @off with event @code. */
static void check_halt(struct ring *r, uint32_t off, uint32_t code,
		       const char *what)
{
	uint32_t ev[4][4];
	uint64_t base = REG(r, HVX_IOMMU_REG_CMD_BASE) & 0xffffffffff000ULL;
	int n = evt_take(r, ev, 4);

	tap_ok(n == 1 && ev[0][1] >> 28 == code && ev[0][0] == 0 &&
	       ((uint64_t)ev[0][3] << 32 | ev[0][2]) == base + off,
	       "%s: event %u at guest address %#llx", what,
	       n ? ev[0][1] >> 28 : 0, (unsigned long long)base + off);
	tap_ok(!(REG(r, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_CMD_RUN) &&
	       REG(r, HVX_IOMMU_REG_CMD_HEAD) == off,
	       "%s: CmdBufRun clear, head left at the command", what);
}

static void skip_and_restart(struct ring *r)
{
	REG(r, HVX_IOMMU_REG_CMD_HEAD) =
		(REG(r, HVX_IOMMU_REG_CMD_HEAD) + 16) & (r->cmd_size - 1);
	doorbell(r, HVX_IOMMU_DOORBELL_RESTART | HVX_IOMMU_DOORBELL_SYNC);
}

static void test_illegal(void)
{
	uint32_t h[8][4];
	uint32_t off;

	/* As the guest's base register would say: 0xabc000, 256 entries. */
	REG(&ra, HVX_IOMMU_REG_CMD_BASE) = 8ULL << 56 | 0xabc000;
	host_take(&ra, h, 8);

	off = ra.tail;
	push(&ra, 0, 0x30000006, 0, 0);		/* unmapped domain */
	push(&ra, 0, 0x30000005, 0, 0);
	kick(&ra);
	check_halt(&ra, off, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR, "unmapped domain");
	tap_ok(host_take(&ra, h, 8) == 0, "nothing reached the host ring");
	tap_ok(doorbell(&ra, 0) == -EIO, "doorbell while halted: EIO");
	skip_and_restart(&ra);
	tap_ok(host_take(&ra, h, 8) == 1 && h[0][1] == 0x30001234,
	       "restart past it: the next command runs");

	off = ra.tail;
	push(&ra, 0x0010, 0x90000000, 0, 0);		/* opcode 9 */
	kick(&ra);
	check_halt(&ra, off, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR, "unknown opcode");
	skip_and_restart(&ra);

	off = ra.tail;
	push(&ra, 0x00010010, 0x20000000, 0, 0);	/* reserved bit 16 */
	kick(&ra);
	check_halt(&ra, off, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR, "reserved bit");
	skip_and_restart(&ra);

	off = ra.tail;
	push(&ra, 0x8a03, 0x20000000, 0, 0);		/* a host ID */
	kick(&ra);
	check_halt(&ra, off, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR,
		   "host device ID named by the guest");
	skip_and_restart(&ra);

	off = ra.tail;
	push(&ra, 0x1001, 0x10000000, 1, 0);		/* store to no memory */
	kick(&ra);
	check_halt(&ra, off, HVX_IOMMU_EV_COMMAND_HARDWARE_ERROR,
		   "COMPLETION_WAIT store outside guest memory");
	skip_and_restart(&ra);
	host_take(&ra, h, 8);
	tap_ok(REG(&ra, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_CMD_RUN,
	       "running again after restart");
}

static void test_events(void)
{
	uint32_t ev[4][4];
	struct stats s0 = { 0 }, s1 = { 0 };
	int err;

	stats_get(vm_a, &s0);
	err = inject(vm_a, HVX_IOMMU_LOG_EVENT,
		     (uint32_t[4]){ 0x8a03, 0x20281234, 0xdead0000, 0x7f }, 16);
	tap_ok(!err && evt_take(&ra, ev, 4) == 1 &&
	       eq4(ev[0], 0x0010, 0x20280005, 0xdead0000, 0x7f),
	       "IO_PAGE_FAULT 8a:00.3/0x1234 reaches A as 00:02.0/5");
	err = inject(vm_a, HVX_IOMMU_LOG_EVENT,
		     (uint32_t[4]){ 0x0100, 0x10000000, 0x1000, 0 }, 16);
	tap_ok(!err && evt_take(&ra, ev, 4) == 1 && ev[0][0] == 0xa0,
	       "ILLEGAL_DEV_TABLE_ENTRY 0x100 reaches A as 0xa0");
	err = inject(vm_a, HVX_IOMMU_LOG_PPR,
		     (uint32_t[4]){ 0x23458a03, 0x100707ff, 0xcafe0000, 1 }, 16);
	tap_ok(!err && ((uint32_t *)ra.ppr)[0] == 0x23450010 &&
	       REG(&ra, HVX_IOMMU_REG_PPR_TAIL) == 16,
	       "PPR request from 0x8a03 reaches A from 0x10");
	nl_rejected(inject(vm_a, HVX_IOMMU_LOG_EVENT,
			   (uint32_t[4]){ 0x8b00, 0x70000000, 0, 0 }, 16),
		    -ENOENT, "not mapped in this VM",
		    "event for VM B's device injected into A");
	nl_rejected(inject(vm_a, HVX_IOMMU_LOG_EVENT,
			   (uint32_t[4]){ 0x8a03, 0x20282000, 0, 0 }, 16),
		    -ENOENT, "not mapped in this VM",
		    "page fault naming VM B's domain injected into A");
	nl_rejected(inject(vm_a, HVX_IOMMU_LOG_EVENT,
			   (uint32_t[4]){ 0, 0x50000000, 0, 0 }, 16),
		    -EINVAL, "names no device", "ILLEGAL_COMMAND_ERROR injected");
	tap_ok(evt_take(&ra, ev, 4) == 0, "none of them was delivered");
	stats_get(vm_a, &s1);
	tap_ok(s1.v[HVX_IOMMU_A_STATS_EVENTS] - s0.v[HVX_IOMMU_A_STATS_EVENTS] == 2 &&
	       s1.v[HVX_IOMMU_A_STATS_PPRS] - s0.v[HVX_IOMMU_A_STATS_PPRS] == 1 &&
	       s1.v[HVX_IOMMU_A_STATS_DROPPED] - s0.v[HVX_IOMMU_A_STATS_DROPPED] == 3,
	       "stats: 2 events, 1 PPR, 3 dropped");
}

static void test_isolation(void)
{
	uint32_t h[8][4], ev[4][4];
	uint32_t off;
	int n, i;
	bool leak = false;

	host_take(&ra, h, 8);
	push(&rb, 0, 0x30000005, 0, 0);
	push(&rb, 0x0010, 0x20000000, 0, 0);
	kick(&rb);
	n = host_take(&rb, h, 8);
	tap_ok(n == 2 && h[0][1] == 0x30002000 && h[1][0] == 0x8b00,
	       "VM B's guest IDs 5 and 0x10 go to B's host IDs");
	off = rb.tail;
	push(&rb, 0, 0x3000ffff, 0, 0);		/* mapped in A only */
	kick(&rb);
	check_halt(&rb, off, HVX_IOMMU_EV_ILLEGAL_COMMAND_ERROR,
		   "VM B naming a domain only A maps");
	skip_and_restart(&rb);
	n = host_take(&rb, h, 8);
	for (i = 0; i < n; i++)
		leak |= (h[i][1] & 0xffff) == 0x1234 || (h[i][1] & 0xffff) == 1;
	tap_ok(!leak, "B's host ring holds none of A's host IDs");
	tap_ok(evt_take(&ra, ev, 4) == 0 && host_take(&ra, h, 8) == 0,
	       "A's logs and host ring untouched by B");
}

static void test_hostile_pointers(void)
{
	uint8_t *copy = malloc(ra.o.out_map_size);
	uint32_t cmd[4] = { 0, 0x80000000, 0, 0 };
	uint32_t saved = ra.tail;
	bool same;

	REG(&ra, HVX_IOMMU_REG_CMD_TAIL) = 0x8;
	tap_ok(doorbell(&ra, 0) == -EINVAL, "misaligned tail: EINVAL");
	REG(&ra, HVX_IOMMU_REG_CMD_TAIL) = ra.cmd_size;
	tap_ok(doorbell(&ra, 0) == -EINVAL, "tail at the ring's size: EINVAL");
	REG(&ra, HVX_IOMMU_REG_CMD_TAIL) = 0xffffffffffff0000ULL;
	tap_ok(doorbell(&ra, 0) == -EINVAL, "tail with high bits: EINVAL");
	REG(&ra, HVX_IOMMU_REG_CMD_TAIL) = saved;
	REG(&ra, HVX_IOMMU_REG_CMD_HEAD) = 0x12345678;
	tap_ok(doorbell(&ra, HVX_IOMMU_DOORBELL_RESTART) == -EINVAL,
	       "restart at a head outside the ring: EINVAL");
	REG(&ra, HVX_IOMMU_REG_CMD_HEAD) = saved;
	tap_ok(!doorbell(&ra, HVX_IOMMU_DOORBELL_SYNC),
	       "ring usable again with sane pointers");

	/* A corrupt event head: the log counts as full, nothing is written. */
	memcpy(copy, ra.map + HVX_IOMMU_REG_SIZE,
	       ra.o.out_map_size - HVX_IOMMU_REG_SIZE);
	REG(&ra, HVX_IOMMU_REG_EVT_HEAD) = 0x100000;
	tap_ok(inject(vm_a, HVX_IOMMU_LOG_EVENT,
		      (uint32_t[4]){ 0x8a03, 0x70000000, 0, 0 }, 16) == -ENOSPC,
	       "inject with a corrupt event head: ENOSPC");
	same = !memcmp(copy, ra.map + HVX_IOMMU_REG_SIZE,
		       ra.o.out_map_size - HVX_IOMMU_REG_SIZE);
	tap_ok(same, "no ring byte changed");
	tap_ok(REG(&ra, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_EVT_OVERFLOW,
	       "EventOverflow set");
	REG(&ra, HVX_IOMMU_REG_EVT_HEAD) = ra.evt_head;
	REG(&ra, HVX_IOMMU_REG_STATUS) &= ~HVX_IOMMU_STATUS_EVT_OVERFLOW;

	/* A corrupt host head: the host ring counts as full. */
	REG(&ra, HVX_IOMMU_REG_HOST_HEAD) = 0x3;
	tap_ok(submit(&ra, cmd, NULL) == -ENOSPC,
	       "submit with a corrupt host head: ENOSPC");
	REG(&ra, HVX_IOMMU_REG_HOST_HEAD) = ra.host_head;
	tap_ok(!submit(&ra, cmd, NULL), "submit with a sane host head");
	free(copy);
}

static void test_overflow(uint32_t vm)
{
	uint32_t e[4] = { 0x8c00, 0x70000000, 0, 0 };
	struct ring r;
	int i, ok = 0, err;

	if (!tap_ok(!ring_open(vm, 8, 8, &r) && !map_add(vm, DEV, 1, 0x8c00),
		    "VM C: 256-entry event log"))
		return;
	for (i = 0; i < 255; i++) {
		e[2] = i;
		ok += !inject(vm, HVX_IOMMU_LOG_EVENT, e, 16);
	}
	tap_ok(ok == 255, "255 events fit in 256 entries");
	err = inject(vm, HVX_IOMMU_LOG_EVENT, e, 16);
	tap_ok(err == -ENOSPC &&
	       REG(&r, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_EVT_OVERFLOW &&
	       REG(&r, HVX_IOMMU_REG_EVT_TAIL) == 255 * 16,
	       "the 256th: ENOSPC, EventOverflow, tail unchanged");
	REG(&r, HVX_IOMMU_REG_EVT_HEAD) = 255 * 16;
	tap_ok(inject(vm, HVX_IOMMU_LOG_EVENT, e, 16) == -ENOSPC,
	       "still refused while EventOverflow is set");
	REG(&r, HVX_IOMMU_REG_STATUS) &= ~HVX_IOMMU_STATUS_EVT_OVERFLOW;
	tap_ok(!inject(vm, HVX_IOMMU_LOG_EVENT, e, 16) &&
	       REG(&r, HVX_IOMMU_REG_EVT_TAIL) == 0,
	       "delivered again once cleared; the tail wraps to 0");

	/* VM destroyed under the open ring. */
	tap_ok(!hvx_vm_del(&core, vm), "destroy VM C with its ring open");
	tap_ok(doorbell(&r, 0) == -ENODEV, "doorbell after destruction: ENODEV");
	tap_ok(!(REG(&r, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_CMD_RUN),
	       "CmdBufRun cleared");
	tap_ok(submit(&r, e, NULL) == -ENODEV, "submit after destruction: ENODEV");
	tap_ok(map_add(vm, DEV, 2, 0x8c01) == -ENOENT, "no map-add for it");
	tap_ok(!map_add(vm_a, DEV, 0x30, 0x8c00),
	       "its host device ID is free for another VM");
	map_del(vm_a, DEV, 0x30);
	ring_close(&r);
}

/*
 * Unmap while a VMM thread keeps the worker busy on the same domain. The
 * host ring is not drained meanwhile (400 commands fit in its 512
 * entries), so its tail at the moment the unmap returns splits what was
 * emitted before from what came after.
 */
static atomic_int stop;

static void *hammer(void *arg)
{
	struct ring *r = arg;
	int i;

	for (i = 0; i < 400 && !atomic_load(&stop); i++) {
		push(r, 0, 0x30000007, 0x1000, 0);
		if (kick(r))
			break;	/* halted: the unmap won */
		usleep(100);
	}
	return NULL;
}

static void test_unmap_in_flight(void)
{
	static uint32_t h[512][4];
	uint32_t start, mark;
	pthread_t t;
	int n, i, before = 0;
	bool stale = false;

	map_add(vm_a, DOM, 7, 0x0777);
	host_take(&ra, h, 512);
	start = ra.host_head;
	atomic_store(&stop, 0);
	pthread_create(&t, NULL, hammer, &ra);
	usleep(20000);
	tap_ok(!map_del(vm_a, DOM, 7), "unmap domain 7 under load");
	mark = REG(&ra, HVX_IOMMU_REG_HOST_TAIL);
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	n = host_take(&ra, h, 512);
	for (i = 0; i < n; i++) {
		if (((start + 16 * i) & (ra.host_size - 1)) == mark)
			break;
		before += (h[i][1] & 0xffff) == 0x0777;
	}
	for (; i < n; i++)
		stale |= (h[i][1] & 0xffff) == 0x0777;
	tap_ok(!stale, "no host command names 0x777 after the unmap returned "
	       "(%d did before)", before);
	tap_ok(!(REG(&ra, HVX_IOMMU_REG_STATUS) & HVX_IOMMU_STATUS_CMD_RUN),
	       "the next command for domain 7 halted the ring");
	evt_take(&ra, h, 64);
	REG(&ra, HVX_IOMMU_REG_CMD_HEAD) = ra.tail;
	tap_ok(!doorbell(&ra, HVX_IOMMU_DOORBELL_RESTART |
			 HVX_IOMMU_DOORBELL_SYNC), "restart with the ring emptied");
}

static void test_stats(void)
{
	struct stats s = { 0 };
	int err = stats_get(vm_a, &s);

	tap_ok(!err && s.domains == 2 && s.devices == 2 &&
	       s.ring == 1 && s.v[HVX_IOMMU_A_STATS_ERRORS] >= 6,
	       "stats of A: %u domains, %u devices, %llu commands, %llu errors",
	       s.domains, s.devices,
	       (unsigned long long)s.v[HVX_IOMMU_A_STATS_COMMANDS],
	       (unsigned long long)s.v[HVX_IOMMU_A_STATS_ERRORS]);
}

int main(void)
{
	uint32_t vm_c;
	int ret;

	hvx_require(&core);
	ret = hvx_nl_open(&inl, HVX_IOMMU_GENL_NAME, HVX_IOMMU_GENL_VERSION);
	devfd = open(DEV_PATH, O_RDWR);
	if (ret || devfd < 0) {
		printf("TAP version 13\n1..0 # SKIP hvx_iommu is not loaded\n");
		return 4;
	}
	tap_begin();
	guest_mem = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (!tap_ok(!hvx_vm_new(&core, "iommu-a", &vm_a) &&
		    !hvx_vm_new(&core, "iommu-b", &vm_b) &&
		    !hvx_vm_new(&core, "iommu-c", &vm_c) &&
		    !hvx_mem_add(&core, vm_a, CW_GPA, 4096,
				 (uintptr_t)guest_mem, NULL),
		    "VMs A, B, C; A's guest memory at %#llx", CW_GPA))
		return tap_end();

	test_maps();
	test_nl_bad_input();
	test_nl_unprivileged();
	test_ioctl_bad_input();
	test_open_and_mmap();
	test_every_opcode();
	test_completion_irq();
	test_illegal();
	test_events();
	test_isolation();
	test_hostile_pointers();
	test_overflow(vm_c);
	test_unmap_in_flight();
	test_stats();

	ring_close(&ra);
	ring_close(&rb);
	hvx_vm_del(&core, vm_a);
	hvx_vm_del(&core, vm_b);
	{
		struct dump d;

		tap_ok(!map_dump(0, &d) && d.n == 0,
		       "no map left once the VMs are gone");
	}
	return tap_end();
}
