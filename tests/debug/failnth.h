/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Allocation-failure sweep (vm_failnth), as iommufd's fail_nth selftest:
 * every case's call runs with its N-th kernel allocation failing, for
 * N = 1, 2, ... until the call gets through without reaching the N-th one.
 *
 * Each hvx module adds its own table in tests/<area>/failnth_<area>.c
 * (picked up by tests/debug/debug.mk) and registers it with
 * FAILNTH_TABLE(); the runner does the rest.
 *
 * A case is four callbacks, all given the same struct fn:
 *   setup     builds what the call needs, without injection;
 *   call      the one request under test: returns 0 or an FN_* error;
 *   check     after every call, success or not, looks at the state
 *             (dumps) and returns 0 when it is consistent with the result,
 *             or calls fn_bad() and returns -1;
 *   teardown  removes everything the case made, without injection.
 */
#ifndef HVX_FAILNTH_H
#define HVX_FAILNTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netlink/genl/genl.h>

/*
 * How a request failed. The kernel refused it (FN_ACK: an NLMSG_ERROR or
 * an error in NLMSG_DONE): nothing may have changed. The request never got
 * in (FN_SEND: sendmsg failed): nothing may have changed either. Only the
 * answer was lost (FN_LOST: recvmsg failed, e.g. the ack's skb could not be
 * allocated): the request may or may not have taken effect, but if it did,
 * it did so completely.
 */
enum fn_kind { FN_OK, FN_ACK, FN_SEND, FN_LOST };

struct fn_genl {
	struct nl_sock *sk;
	int family;
	uint32_t seq;
};

/* Up to this many ids/values a case may keep between its callbacks. */
#define FN_SLOTS 8

struct fn {
	const char *case_name;
	/* Result of the last fn_request(). */
	enum fn_kind kind;
	int err;			/* -errno, 0 on FN_OK */
	char extack[256];		/* kernel's message, if any */
	/* Scratch for the case. */
	struct fn_genl nl;		/* opened by the runner before setup */
	struct fn_genl ev;		/* events socket, if the case opens one */
	uint64_t v[FN_SLOTS];
	void *p[FN_SLOTS];
	/* Set by fn_bad(); printed as TAP diagnostics. */
	char why[512];
};

struct failnth_case {
	const char *name;
	int (*setup)(struct fn *f);
	int (*call)(struct fn *f);
	int (*check)(struct fn *f);
	void (*teardown)(struct fn *f);
};

struct failnth_table {
	const char *name;		/* in the TAP lines: module or driver */
	const char *family;		/* genl family of the runner's f->nl */
	const struct failnth_case *cases;
	size_t n;
};

#define FAILNTH_TABLE(sym)						\
	static const struct failnth_table *const failnth_ptr_##sym	\
	__attribute__((used, section("failnth_tables"))) = &(sym)

/* Record why a check failed; always returns -1. */
int fn_bad(struct fn *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Socket helpers (all without injection unless inside ->call). */
int fn_genl_open(struct fn_genl *g, const char *family);
int fn_genl_join(struct fn_genl *g, const char *family, const char *group);
void fn_genl_close(struct fn_genl *g);

/* A request message for g's family; NULL only on out-of-memory. */
struct nl_msg *fn_msg(struct fn_genl *g, uint8_t cmd, int flags);

/*
 * Send msg (consumed) and read the answer up to its ack or NLMSG_DONE,
 * calling parse for each data message (may be NULL). Sets f->kind, f->err
 * and f->extack; returns f->err.
 */
typedef int (*fn_parse_t)(struct nlmsghdr *nlh, void *arg);
int fn_request(struct fn *f, struct fn_genl *g, struct nl_msg *msg,
	       fn_parse_t parse, void *arg);

/* Read whatever is queued on an events socket without blocking. */
int fn_drain(struct fn_genl *g, fn_parse_t parse, void *arg);

/*
 * The result of an ioctl or syscall as a request's: @ret < 0 is a refusal
 * (FN_ACK, f->err = -errno). Returns f->err.
 */
int fn_ioctl_result(struct fn *f, int ret);

/* Open file descriptors of this process, to see a call leak none. */
unsigned int fn_count_fds(void);

/* Generic attribute parsing of a genl message; tb has maxtype + 1 slots. */
int fn_parse_attrs(struct nlmsghdr *nlh, struct nlattr **tb, int maxtype);

/*
 * hvx_core helpers for the feature modules' tables (failnth_core.c), both
 * without injection: a fresh VM named @name (an older one is removed
 * first), and removing it by name.
 */
int fn_vm_make(struct fn *f, const char *name, uint32_t *id);
void fn_vm_del(const char *name);

#endif /* HVX_FAILNTH_H */
