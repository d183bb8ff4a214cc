/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few kernel facilities the translation core uses, so that the same
 * hvx_iommu_xlat.c builds into hvx_iommu.ko and into the host unit tests
 * and micro-benchmark.
 */
#ifndef _HVX_IOMMU_COMPAT_H
#define _HVX_IOMMU_COMPAT_H

#ifdef __KERNEL__

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/compiler.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>

#define hvx_rcu_deref(p)	rcu_dereference(p)
/* Writers hold hvx_iommu_lock; RCU readers never free anything. */
#define hvx_rcu_deref_locked(p)	rcu_dereference_protected(p, 1)
#define hvx_rcu_assign(p, v)	rcu_assign_pointer(p, v)
#define hvx_zalloc(size)	kzalloc(size, GFP_KERNEL)
#define hvx_free(p)		kfree(p)

#else /* host build */

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <errno.h>

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;

#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define likely(x)		__builtin_expect(!!(x), 1)
#define unlikely(x)		__builtin_expect(!!(x), 0)
#define fallthrough		__attribute__((__fallthrough__))

#define __rcu
#define BIT(n)			(1UL << (n))
#define hvx_rcu_deref(p)	__atomic_load_n(&(p), __ATOMIC_ACQUIRE)
#define hvx_rcu_deref_locked(p)	(p)
#define hvx_rcu_assign(p, v)	__atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define hvx_zalloc(size)	calloc(1, size)
#define hvx_free(p)		free(p)

#endif /* __KERNEL__ */

#endif /* _HVX_IOMMU_COMPAT_H */
