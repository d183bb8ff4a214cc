/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the hvx_ept VM tests: an hvx VM with EPT state, its views and
 * ranges over netlink (requests go through libhvx's hvx_nl, so each answer
 * comes with the kernel's extack), its guest-memory fd, violation events,
 * and faults turned into results (SIGBUS caught). TAP output comes from
 * tests/core/hvx_test.c.
 */
#ifndef EPT_TEST_H
#define EPT_TEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/hvx_ept.h>

#include "hvx_nl.h"

struct ept_env {
	struct hvx_nl *core;	/* family hvx */
	struct hvx_nl *ept;	/* family hvx_ept */
	struct hvx_nl *events;	/* hvx_ept, subscribed to violations */
	uint32_t vm;
	uint64_t size;
	int memfd;
};

/* Exits 4 (skip) when the modules are absent, 1 on other setup errors. */
void ept_require(struct ept_env *e);
/* An hvx VM named @name with @size bytes of EPT guest memory, and its fd. */
int ept_setup(struct ept_env *e, const char *name, uint64_t size);
void ept_teardown(struct ept_env *e);

int ept_view_new(struct ept_env *e, uint32_t *view);
int ept_view_del(struct ept_env *e, uint32_t view);
int ept_map(struct ept_env *e, uint32_t view, uint64_t gpa, uint64_t size,
	    uint32_t perm, uint32_t kind);
int ept_switch_nl(struct ept_env *e, uint32_t view);
/* The fast path: HVX_EPT_IOC_SWITCH on the guest-memory fd. */
int ept_switch(int memfd, uint32_t view);
/* A new guest-memory fd for VM @vm; -errno on failure. */
int ept_memfd(uint32_t vm);
/* A plain hvx VM (no EPT state), and its destruction. */
int ept_hvx_vm_new(struct ept_env *e, const char *name, uint32_t *id);
int ept_hvx_vm_del(struct ept_env *e, uint32_t id);
/* The hvx_core VM itself: destroying it drops the EPT state. */
int ept_vm_destroy(struct ept_env *e);

/* hvx_nl's extack of the last failed request on @nl, "" if none. */
const char *ept_extack(struct hvx_nl *nl);

/* A raw EPT entry of @view covering @gpa at @level, from the dump; 0 if none. */
uint64_t ept_dump_entry(struct ept_env *e, uint32_t view, uint64_t gpa,
			int level);

struct ept_violation {
	uint32_t vm, view, access, perm, pid;
	uint64_t gpa;
};
/* Wait up to @ms for the next violation event; 0 or -ETIMEDOUT. */
int ept_next_violation(struct ept_env *e, int ms, struct ept_violation *v);
/* Drop queued violation events. */
void ept_drain_violations(struct ept_env *e);

/*
 * Touch @p: read (or write @val when @write) one byte. Returns 0, or
 * SIGBUS/SIGSEGV when the access faulted (the signal is caught).
 */
int ept_touch(volatile uint8_t *p, bool write, uint8_t val, uint8_t *out);

#endif
