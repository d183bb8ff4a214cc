/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Generic netlink, written once for every hvx family (hvx, hvx_iommu,
 * hvx_ept, hvx_poll...): resolve a family and its multicast groups, send a
 * request and collect its replies or its error together with the kernel's
 * extack message, iterate dumps, and deliver multicast events to an event
 * loop through a pollable fd.
 */
#ifndef HVX_NL_H
#define HVX_NL_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#define HVX_NL_EXTACK_MAX 256

struct hvx_nl;

/*
 * Called for every reply or event message; return 0 to go on, a negative
 * errno to stop and make the request (or dispatch) return that error.
 */
typedef int (*hvx_nl_msg_fn)(struct nlmsghdr *nlh, void *arg);

/* -ENOENT when the family is not registered (module not loaded). */
int hvx_nl_open(struct hvx_nl **out, const char *family, uint8_t version);
void hvx_nl_close(struct hvx_nl *nl);

const char *hvx_nl_family_name(const struct hvx_nl *nl);
int hvx_nl_family_id(const struct hvx_nl *nl);

/* A request header for this family; NLM_F_REQUEST is implied. */
struct nl_msg *hvx_nl_msg(struct hvx_nl *nl, uint8_t cmd, int flags);
struct nl_msg *hvx_nl_msg_build(int family, uint8_t version, uint8_t cmd,
				int flags);

/*
 * Send @msg (consumed) and wait for the answer: each reply message (one for
 * a "do", many for a dump) goes to @fn, which may be NULL. Returns 0 or the
 * kernel's -errno; hvx_nl_extack() then holds the kernel's message, if any.
 */
int hvx_nl_request(struct hvx_nl *nl, struct nl_msg *msg, hvx_nl_msg_fn fn,
		   void *arg);
/* The extack message of the last failed request, or NULL. */
const char *hvx_nl_extack(const struct hvx_nl *nl);

/* Parse a genl message's attributes (policy may be NULL). */
int hvx_nl_parse(struct nlmsghdr *nlh, int maxattr,
		 const struct nla_policy *policy, struct nlattr **tb);
uint8_t hvx_nl_cmd(const struct nlmsghdr *nlh);

/*
 * Join multicast @group of the family. The socket becomes non-blocking and
 * is then meant for events only: poll hvx_nl_fd() and call
 * hvx_nl_dispatch() when readable.
 */
int hvx_nl_subscribe(struct hvx_nl *nl, const char *group);
int hvx_nl_fd(const struct hvx_nl *nl);
/*
 * Deliver every queued event to @fn. Returns 0 once the socket is drained,
 * -ENOBUFS when the kernel dropped events (the caller must resynchronise,
 * e.g. with a dump), or another -errno.
 */
int hvx_nl_dispatch(struct hvx_nl *nl, hvx_nl_msg_fn fn, void *arg);

/*
 * Decode an NLMSG_ERROR or NLMSG_DONE message of @len bytes: *@error gets
 * the (negative or zero) errno, @msg the extack message (empty when none),
 * *@offset the extack offset of the offending attribute (0 when none).
 * Returns 0, or -EBADMSG for a malformed message.
 */
int hvx_nl_parse_error(const struct nlmsghdr *nlh, size_t len, int *error,
		       char *msg, size_t msgsz, uint32_t *offset);

/* libnl's NLE_* codes to -errno, for calls that fail before the kernel. */
int hvx_nl_errno(int nlerr);

#endif /* HVX_NL_H */
