/* SPDX-License-Identifier: GPL-2.0 */
/* Shared between rxlat.bpf.c and rxlat.c. */
#ifndef RXLAT_H
#define RXLAT_H

/* log2 slots: 2^26 us is over a minute, far beyond any receive delay. */
#define RXLAT_SLOTS 27

struct rxlat_hist {
	__u32 slots[RXLAT_SLOTS];
};

#endif /* RXLAT_H */
