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
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;

#endif /* _HVX_EPT_COMPAT_H */
