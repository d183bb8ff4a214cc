/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel types the EPT format core uses, for building it on the host
 * (unit tests) exactly as the module builds it.
 */
#ifndef _HVX_EPT_COMPAT_H
#define _HVX_EPT_COMPAT_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

typedef __u64 u64;
typedef __u32 u32;

#define BIT_ULL(n)	(1ULL << (n))

#endif /* _HVX_EPT_COMPAT_H */
