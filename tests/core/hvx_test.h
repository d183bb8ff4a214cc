/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the hvx_core VM tests: raw generic netlink requests through
 * libnl-genl (so tests can craft malformed messages), the kernel's answer
 * with its extack, TAP output, and the hvx_core_test driver.
 */
#ifndef HVX_TEST_H
#define HVX_TEST_H

#include <stdbool.h>
#include <stdint.h>
#include <netlink/genl/genl.h>
#include <linux/hvx.h>

struct hvx_mem_info {
	uint64_t gpa, size, uaddr;
	bool has_uaddr;
};

struct hvx_vm_info {
	uint32_t id, state, owner_pid, owner_uid, users, mem_pid;
	char name[HVX_VM_NAME_MAX + 8];
	int cmd;
	int nr_mem;
	struct hvx_mem_info mem[HVX_VM_MEM_MAX];
};

/* What the kernel answered to one request. */
struct hvx_res {
	int err;		/* 0 or -errno */
	char ext[256];		/* extack message, "" if none */
	int miss_type;		/* extack missing attribute, -1 if none */
	bool intr;		/* a dump message carried NLM_F_DUMP_INTR */
	bool done;		/* the ack, error or end of dump arrived */
	int nvms;
	struct hvx_vm_info *vms;
};

struct hvx_ctx {
	struct nl_sock *sk;
	int family;
};

int hvx_open(struct hvx_ctx *c);
void hvx_close(struct hvx_ctx *c);
/* A request for cmd; flags e.g. NLM_F_DUMP. */
struct nl_msg *hvx_msg(struct hvx_ctx *c, int cmd, int flags);
/* Sends and frees msg, fills res (caller frees with hvx_res_free). */
int hvx_send(struct hvx_ctx *c, struct nl_msg *msg, struct hvx_res *res);
void hvx_res_free(struct hvx_res *res);

/* Shorthands; return the kernel's -errno. */
int hvx_vm_new(struct hvx_ctx *c, const char *name, uint32_t *id);
int hvx_vm_del(struct hvx_ctx *c, uint32_t id);
int hvx_vm_get(struct hvx_ctx *c, uint32_t id, struct hvx_vm_info *vm);
int hvx_vm_set_state(struct hvx_ctx *c, uint32_t id, uint32_t state);
int hvx_mem_add(struct hvx_ctx *c, uint32_t id, uint64_t gpa, uint64_t size,
		uint64_t uaddr, struct hvx_res *res);
int hvx_mem_del(struct hvx_ctx *c, uint32_t id, uint64_t gpa,
		struct hvx_res *res);
/* Dump; returns -errno, res->vms holds the VMs. */
int hvx_dump(struct hvx_ctx *c, struct hvx_res *res);
/* A printable summary of the whole registry, to show state is unchanged. */
char *hvx_snapshot(struct hvx_ctx *c);

/* Parses one VM message into vm. */
void hvx_parse_vm(struct nl_msg *msg, struct hvx_vm_info *vm);

/* TAP. */
void tap_begin(void);
int tap_end(void);
bool tap_ok(bool cond, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_skip(const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tap_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* ok iff res failed with err and an extack message containing msg. */
bool tap_rejected(const struct hvx_res *res, int err, const char *msg,
		  const char *desc);
/* Exit 4 (skip) if hvx_core is not there; 1 on other setup errors. */
void hvx_require(struct hvx_ctx *c);

/* Loads hvx_core_test and opens its control file; -1 if unavailable. */
int hvx_test_open(void);
int hvx_test_cmd(int fd, uint32_t op, uint32_t vm_id, uint64_t gpa,
		 void *buf, uint64_t len, void *out);
/* hvx_core's count of live VM structs (debugfs); -1 if unavailable. */
long hvx_vm_objects(void);
/* Runs a shell command; returns its exit status. */
int hvx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
