// SPDX-License-Identifier: GPL-2.0
/*
 * Host micro-benchmark of the hvx_iommu translation core: decode,
 * validate, look up and re-encode, in ns per command. Built from the
 * module's own kmod/iommu/hvx_iommu_xlat.c.
 *
 * The stream mixes every opcode the way a guest driver issues them, with
 * IDs spread over many map leaves so that lookups are not all one cache
 * line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hvx_iommu_xlat.h"

#define NCMDS		4096
#define TARGET_NS	30.0

/* Keeps the compiler from dropping translations whose output is unused. */
static volatile u32 sink;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void build_stream(struct hvx_iommu_entry *c, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u16 dev = (i * 37) & 0x3ff, dom = (i * 11) & 0x1ff;

		memset(&c[i], 0, sizeof(c[i]));
		switch (i % 8) {
		case 0:		/* INVALIDATE_IOMMU_PAGES, 4 KiB */
		case 1:
		case 2:
			c[i].dw[1] = 0x30000000 | dom;
			c[i].dw[2] = (i << 12) | 0x2;
			break;
		case 3:
			c[i].dw[0] = dev;
			c[i].dw[1] = 0x20000000;
			break;
		case 4:
			c[i].dw[0] = dev;
			c[i].dw[1] = 0x50000000;
			break;
		case 5:		/* INVALIDATE_IOTLB_PAGES */
			c[i].dw[0] = dev | 32 << 24;
			c[i].dw[1] = 0x40000000 | dev;
			c[i].dw[2] = i << 12;
			break;
		case 6:
			c[i].dw[0] = dev;
			c[i].dw[1] = 0x70000000 | i;
			c[i].dw[3] = i & 0x1ff;
			break;
		default:	/* COMPLETION_WAIT with store */
			c[i].dw[0] = 0x00835001;
			c[i].dw[1] = 0x10000001;
			c[i].dw[2] = i;
			break;
		}
	}
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 1.0;
	static struct hvx_iommu_entry in[NCMDS], out[NCMDS];
	struct hvx_iommu_maps *maps = calloc(1, sizeof(*maps));
	unsigned long long n = 0, errs = 0;
	unsigned int i;
	double t0, t, ns;

	if (!maps || secs <= 0) {
		fprintf(stderr, "usage: bench_iommu_xlat [SECONDS]\n");
		return 1;
	}
	for (i = 0; i < 0x400; i++) {
		if (hvx_iommu_idmap_set(&maps->dev_g2h, i, 0x8000 + i) ||
		    hvx_iommu_idmap_set(&maps->dom_g2h, i, 0x4000 + i)) {
			fprintf(stderr, "bench_iommu_xlat: out of memory\n");
			return 1;
		}
	}
	build_stream(in, NCMDS);

	t0 = now();
	do {
		for (i = 0; i < NCMDS; i++)
			errs += hvx_iommu_xlat_cmd(maps, &in[i], &out[i]) != 0;
		sink ^= out[n % NCMDS].dw[0];
		n += NCMDS;
		t = now();
	} while (t - t0 < secs);

	if (errs) {
		fprintf(stderr, "bench_iommu_xlat: %llu commands refused\n", errs);
		return 1;
	}
	ns = (t - t0) * 1e9 / n;
	printf("xlat core: %llu commands in %.2f s: %.1f ns/command (target <= %.0f ns: %s)\n",
	       n, t - t0, ns, TARGET_NS, ns <= TARGET_NS ? "met" : "MISSED");
	hvx_iommu_idmap_free(&maps->dev_g2h);
	hvx_iommu_idmap_free(&maps->dom_g2h);
	free(maps);
	return 0;
}
