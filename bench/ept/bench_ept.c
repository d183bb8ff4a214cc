// SPDX-License-Identifier: GPL-2.0
/*
 * Time until a process sees the other EPT view: the view switch plus
 * re-touching every page of guest memory, against rebuilding the mapping
 * from scratch (switch, munmap, mmap, touch every page), for 1 MiB, 64 MiB
 * and 1 GiB of guest memory with 1% of the pages trusted (private to the
 * trusted view, in up to 32 ranges spread over the memory). Runs in the VM
 * with hvx_core and hvx_ept loaded. Every round checks that the trusted
 * marker is visible exactly in the trusted view.
 *
 * usage: bench_ept [SIZE_MIB...]   (default 1 64 1024)
 *
 * From the host, one VM boot (about 2 minutes):
 *   scripts/vm -- sh -c 'tests/vm/hvx-modules load >/dev/null &&
 *                        build/bench/ept/bench_ept'
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ept_test.h"

#define PAGE	4096UL

struct layout {
	uint64_t size, pages, trusted, nranges, per_range, stride;
};

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* Read one byte of every page; the sum keeps the loads. */
static unsigned int touch_all(const volatile uint8_t *m, uint64_t pages)
{
	unsigned int sum = 0;
	uint64_t i;

	for (i = 0; i < pages; i++)
		sum += m[i * PAGE];
	return sum;
}

static uint64_t range_gpa(const struct layout *l, uint64_t i)
{
	return i * l->stride * PAGE;
}

static int bench(struct ept_env *e, uint64_t mib, int rounds)
{
	struct layout l = { .size = mib << 20 };
	double t, sw = 0, rb = 0;
	uint32_t trusted;
	uint8_t *m;
	uint64_t i;
	int r, k, bad = 0;
	char name[32];

	l.pages = l.size / PAGE;
	l.trusted = l.pages / 100 ?: 1;
	l.nranges = l.trusted < 32 ? l.trusted : 32;
	l.per_range = l.trusted / l.nranges;
	l.trusted = l.per_range * l.nranges;
	l.stride = l.pages / l.nranges;

	snprintf(name, sizeof(name), "bench-ept-%llu", (unsigned long long)mib);
	r = ept_setup(e, name, l.size) ?: ept_view_new(e, &trusted);
	for (i = 0; !r && i < l.nranges; i++)
		r = ept_map(e, trusted, range_gpa(&l, i), l.per_range * PAGE,
			    HVX_EPT_PERM_R | HVX_EPT_PERM_W, HVX_EPT_KIND_PRIVATE);
	if (r) {
		fprintf(stderr, "bench_ept: setup %llu MiB: %s (%s)\n",
			(unsigned long long)mib, strerror(-r), ept_extack(e->ept));
		return 1;
	}
	m = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED, e->memfd, 0);
	if (m == MAP_FAILED) {
		perror("bench_ept: mmap");
		return 1;
	}
	/* Warm up: every page exists in both views, markers in the trusted one. */
	touch_all(m, l.pages);
	ept_switch(e->memfd, trusted);
	for (i = 0; i < l.nranges; i++)
		m[range_gpa(&l, i)] = 0x5a;
	touch_all(m, l.pages);
	ept_switch(e->memfd, 0);

	for (k = 0; k < rounds * 2; k++) {
		uint32_t view = k % 2 ? 0 : trusted;

		t = now_us();
		ept_switch(e->memfd, view);
		touch_all(m, l.pages);
		sw += now_us() - t;
		bad += (m[0] == 0x5a) != !!view;
	}
	for (k = 0; k < rounds * 2; k++) {
		uint32_t view = k % 2 ? 0 : trusted;

		t = now_us();
		ept_switch(e->memfd, view);
		munmap(m, l.size);
		m = mmap(NULL, l.size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 e->memfd, 0);
		if (m == MAP_FAILED) {
			perror("bench_ept: mmap");
			return 1;
		}
		touch_all(m, l.pages);
		rb += now_us() - t;
		bad += (m[0] == 0x5a) != !!view;
	}
	sw /= rounds * 2;
	rb /= rounds * 2;
	printf("%8llu MiB %8llu %8llu %8d %14.1f %14.1f %8.1fx%s\n",
	       (unsigned long long)mib, (unsigned long long)l.pages,
	       (unsigned long long)l.trusted, rounds * 2, sw, rb, rb / sw,
	       bad ? "  WRONG VIEW SEEN" : "");
	fflush(stdout);
	munmap(m, l.size);
	close(e->memfd);
	e->memfd = -1;
	ept_vm_destroy(e);
	return bad ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const uint64_t dflt[] = { 1, 64, 1024 };
	struct ept_env e;
	int i, n = argc > 1 ? argc - 1 : 3, ret = 0;

	ept_require(&e);
	printf("hvx_ept: view switch + touch every page vs munmap + mmap + touch every page\n");
	printf("%12s %8s %8s %8s %14s %14s %9s\n", "memory", "pages", "trusted",
	       "rounds", "switch us", "rebuild us", "speedup");
	for (i = 0; i < n; i++) {
		uint64_t mib = argc > 1 ? strtoull(argv[i + 1], NULL, 0) : dflt[i];

		if (!mib) {
			fprintf(stderr, "bench_ept: bad size \"%s\"\n", argv[i + 1]);
			return 2;
		}
		ret |= bench(&e, mib, mib >= 1024 ? 1 : mib >= 64 ? 5 : 50);
	}
	ept_teardown(&e);
	return ret;
}
