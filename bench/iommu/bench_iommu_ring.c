// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_iommu in the VM: the ring path against the trap baseline, measured
 * in the same run on the same VM, maps and host ring.
 *
 * ring: the VMM writes a batch of B commands into the mmap()ed command
 *       buffer, moves the tail and rings once (DOORBELL_SYNC); the kernel
 *       worker translates the batch into the host ring.
 * trap: what an emulated IOMMU costs per doorbell. The guest side writes
 *       one command and rings (an eventfd stands for the MMIO exit); a
 *       separate VMM thread wakes, decodes the command, translates it with
 *       one HVX_IOMMU_SUBMIT ioctl and signals completion back on another
 *       eventfd; the guest waits for that before its next command, as
 *       Linux's amd_iommu driver writes the tail after every command.
 *       B commands cost B exits.
 * trap-batched: the same, but the guest rings once per batch and the VMM
 *       thread submits the B commands one ioctl each before completing:
 *       the best an emulation that defers the exit could do. Reported so
 *       the ratio can be read against both.
 *
 * Both sinks drain the host ring the same way. Usage:
 * bench_iommu_ring [SECONDS per measurement, default 0.5]
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/hvx_iommu.h>

#include "hvx_nl.h"
#include "../../tests/core/hvx_test.h"

#define CMD_LOG2	10	/* 1024 entries: a batch of 256 fits */
#define NDOMS		64
#define NDEVS		64
#define TARGET		20.0

struct ring {
	int fd;
	uint8_t *map;
	size_t map_size;
	volatile uint64_t *regs;
	uint32_t *cmd;
	const uint32_t *host;
	uint32_t cmd_size, host_size;
	uint32_t tail, host_head;
};

#define REG(r, off)	((r)->regs[(off) / 8])

static volatile uint32_t sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "bench_iommu_ring: %s: %s\n", what, strerror(err));
	exit(1);
}

/* The i-th command of the stream: domain and device invalidations. */
static void make_cmd(uint32_t *c, unsigned long i)
{
	memset(c, 0, 16);
	if (i & 1) {
		c[0] = i / 2 % NDEVS;
		c[1] = 0x20000000;		/* INVALIDATE_DEVTAB_ENTRY */
	} else {
		c[1] = 0x30000000 | (i / 2 % NDOMS);	/* _IOMMU_PAGES */
		c[2] = (uint32_t)(i << 12) | 0x2;
	}
}

/* Consume what the kernel appended to the host ring. */
static void host_drain(struct ring *r)
{
	uint64_t tail = __atomic_load_n(&REG(r, HVX_IOMMU_REG_HOST_TAIL),
					__ATOMIC_ACQUIRE);
	uint32_t x = 0;

	while (r->host_head != tail) {
		x ^= r->host[r->host_head / 4 + 1];
		r->host_head = (r->host_head + 16) & (r->host_size - 1);
	}
	__atomic_store_n(&REG(r, HVX_IOMMU_REG_HOST_HEAD), r->host_head,
			 __ATOMIC_RELEASE);
	sink ^= x;
}

static double run_ring(struct ring *r, unsigned int batch, double secs)
{
	struct hvx_iommu_doorbell db = { .size = sizeof(db),
					 .flags = HVX_IOMMU_DOORBELL_SYNC };
	unsigned long n = 0;
	double t0 = now(), t;
	unsigned int i;

	do {
		for (i = 0; i < batch; i++) {
			make_cmd(r->cmd + r->tail / 4, n + i);
			r->tail = (r->tail + 16) & (r->cmd_size - 1);
		}
		__atomic_store_n(&REG(r, HVX_IOMMU_REG_CMD_TAIL), r->tail,
				 __ATOMIC_RELEASE);
		if (ioctl(r->fd, HVX_IOMMU_DOORBELL, &db))
			die("doorbell", errno);
		if (REG(r, HVX_IOMMU_REG_CMD_HEAD) != r->tail)
			die("worker stopped short of the tail", EIO);
		host_drain(r);
		n += batch;
		t = now();
	} while (t - t0 < secs);
	return n / (t - t0);
}

/* The trap baseline: a guest-side thread and a VMM thread. */
struct trap {
	struct ring *r;
	int exit_fd, done_fd;
	unsigned int per_exit;		/* commands per doorbell */
	uint32_t slot[256][4];		/* the guest's command buffer */
	volatile int stop;
	int err;
};

static void *vmm_thread(void *arg)
{
	struct trap *t = arg;
	struct hvx_iommu_submit s = { .size = sizeof(s) };
	uint64_t v;
	unsigned int i;

	for (;;) {
		if (read(t->exit_fd, &v, sizeof(v)) != sizeof(v)) {
			t->err = errno;
			break;
		}
		if (t->stop)
			break;
		for (i = 0; i < t->per_exit; i++) {
			/* Decode: only the opcode decides what to do. */
			if (t->slot[i][1] >> 28 == 0 || t->slot[i][1] >> 28 > 8) {
				t->err = EINVAL;
				break;
			}
			memcpy(s.cmd, t->slot[i], sizeof(s.cmd));
			if (ioctl(t->r->fd, HVX_IOMMU_SUBMIT, &s)) {
				t->err = errno;
				break;
			}
		}
		host_drain(t->r);
		v = 1;
		if (write(t->done_fd, &v, sizeof(v)) != sizeof(v))
			t->err = errno;
		if (t->err)
			break;
	}
	return NULL;
}

static double run_trap(struct ring *r, unsigned int batch, unsigned int per_exit,
		       double secs)
{
	struct trap *t = calloc(1, sizeof(*t));
	unsigned long n = 0;
	pthread_t th;
	double t0, t1;
	uint64_t v;
	unsigned int i, j;

	if (!t)
		die("calloc", ENOMEM);
	t->r = r;
	t->per_exit = per_exit;
	t->exit_fd = eventfd(0, 0);
	t->done_fd = eventfd(0, 0);
	if (t->exit_fd < 0 || t->done_fd < 0)
		die("eventfd", errno);
	if (pthread_create(&th, NULL, vmm_thread, t))
		die("pthread_create", EAGAIN);
	t0 = now();
	do {
		for (i = 0; i < batch; i += per_exit) {
			for (j = 0; j < per_exit; j++)
				make_cmd(t->slot[j], n + i + j);
			v = 1;
			if (write(t->exit_fd, &v, sizeof(v)) != sizeof(v) ||
			    read(t->done_fd, &v, sizeof(v)) != sizeof(v))
				die("eventfd", errno);
			if (t->err)
				die("trap path", t->err);
		}
		n += batch;
		t1 = now();
	} while (t1 - t0 < secs);
	t->stop = 1;
	v = 1;
	if (write(t->exit_fd, &v, sizeof(v)) != sizeof(v))
		die("eventfd", errno);
	pthread_join(th, NULL);
	close(t->exit_fd);
	close(t->done_fd);
	free(t);
	return n / (t1 - t0);
}

static int map_add(struct hvx_nl *nl, uint32_t vm, uint32_t type, uint16_t g,
		   uint16_t h)
{
	struct nl_msg *m = hvx_nl_msg(nl, HVX_IOMMU_CMD_MAP_ADD, 0);

	if (!m || nla_put_u32(m, HVX_IOMMU_A_MAP_VM_ID, vm) ||
	    nla_put_u32(m, HVX_IOMMU_A_MAP_TYPE, type) ||
	    nla_put_u16(m, HVX_IOMMU_A_MAP_GUEST_ID, g) ||
	    nla_put_u16(m, HVX_IOMMU_A_MAP_HOST_ID, h)) {
		nlmsg_free(m);
		return -ENOMEM;
	}
	return hvx_nl_request(nl, m, NULL, NULL);
}

static void ring_open(uint32_t vm, struct ring *r)
{
	struct hvx_iommu_vm_open o = {
		.size = sizeof(o), .vm_id = vm, .cmd_log2 = CMD_LOG2,
		.evt_log2 = 8, .ppr_log2 = 8,
	};
	int dev = open("/dev/" HVX_IOMMU_DEV_NAME, O_RDWR);

	if (dev < 0 || ioctl(dev, HVX_IOMMU_VM_OPEN, &o))
		die("/dev/" HVX_IOMMU_DEV_NAME, errno);
	close(dev);
	r->fd = o.out_fd;
	r->map_size = o.out_map_size;
	/* Writable up to the host ring, which the kernel maps read-only. */
	r->map = mmap(NULL, o.out_map_size, PROT_READ, MAP_SHARED, r->fd, 0);
	if (r->map == MAP_FAILED ||
	    mmap(r->map, o.out_host_offset, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_FIXED, r->fd, 0) == MAP_FAILED)
		die("mmap", errno);
	r->regs = (volatile uint64_t *)r->map;
	r->cmd = (uint32_t *)(r->map + o.out_cmd_offset);
	r->host = (const uint32_t *)(r->map + o.out_host_offset);
	r->cmd_size = 16 << CMD_LOG2;
	r->host_size = 2 * r->cmd_size;
}

int main(int argc, char **argv)
{
	static const unsigned int batches[] = { 1, 16, 256 };
	double secs = argc > 1 ? atof(argv[1]) : 0.5;
	double ring[3], trap[3], trapb[3];
	struct hvx_ctx core;
	struct hvx_nl *nl;
	struct ring r = { 0 };
	uint32_t vm;
	unsigned int i;
	int ret;

	if (secs <= 0 || argc > 2) {
		fprintf(stderr, "usage: bench_iommu_ring [SECONDS]\n");
		return 2;
	}
	ret = hvx_open(&core);
	if (ret)
		die("hvx_core", -ret);
	ret = hvx_nl_open(&nl, HVX_IOMMU_GENL_NAME, HVX_IOMMU_GENL_VERSION);
	if (ret)
		die("hvx_iommu", -ret);
	ret = hvx_vm_new(&core, "bench-iommu", &vm);
	if (ret)
		die("vm-new", -ret);
	for (i = 0; i < NDOMS && !ret; i++)
		ret = map_add(nl, vm, HVX_IOMMU_MAP_DOMAIN, i, 0x4000 + i);
	for (i = 0; i < NDEVS && !ret; i++)
		ret = map_add(nl, vm, HVX_IOMMU_MAP_DEVICE, i, 0x8000 + i);
	if (ret)
		die("map-add", -ret);
	ring_open(vm, &r);

	/* Warm up both paths (page tables, worker, thread). */
	run_ring(&r, 16, secs / 5);
	run_trap(&r, 16, 1, secs / 5);
	for (i = 0; i < 3; i++) {
		ring[i] = run_ring(&r, batches[i], secs);
		trap[i] = run_trap(&r, batches[i], 1, secs);
		trapb[i] = run_trap(&r, batches[i], batches[i], secs);
	}

	printf("hvx_iommu ring path vs trap baseline (%.2f s per cell, commands/s)\n",
	       secs);
	printf("%6s %14s %14s %8s %14s %8s\n", "batch", "ring", "trap",
	       "ratio", "trap-batched", "ratio");
	for (i = 0; i < 3; i++)
		printf("%6u %14.0f %14.0f %7.1fx %14.0f %7.1fx\n", batches[i],
		       ring[i], trap[i], ring[i] / trap[i], trapb[i],
		       ring[i] / trapb[i]);
	printf("ring/trap at batch 256: %.1fx (target >= %.0fx: %s)\n",
	       ring[2] / trap[2], TARGET, ring[2] / trap[2] >= TARGET ?
	       "met" : "MISSED");

	munmap(r.map, r.map_size);
	close(r.fd);
	hvx_vm_del(&core, vm);
	hvx_nl_close(nl);
	hvx_close(&core);
	return 0;
}
