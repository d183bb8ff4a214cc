// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include "hvx_nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

struct hvx_nl {
	struct nl_sock *sk;
	int family;
	uint8_t version;
	char name[GENL_NAMSIZ];
	char extack[HVX_NL_EXTACK_MAX];
};

/* State of one request while its answer is read. */
struct hvx_nl_req {
	struct hvx_nl *nl;
	hvx_nl_msg_fn fn;
	void *arg;
	bool done;
	int err;	/* kernel's answer */
	int cb_err;	/* first error returned by fn */
};

int hvx_nl_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:			return 0;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_INTR:		return -EINTR;
	case NLE_BAD_SOCK:	return -EBADF;
	case NLE_EXIST:		return -EEXIST;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_PERM:		return -EPERM;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_BUSY:		return -EBUSY;
	case NLE_PROTO_MISMATCH: return -EPROTO;
	/* A dump raced with a change: the caller may simply retry. */
	case NLE_DUMP_INTR:	return -EAGAIN;
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_OVERFLOW:
	case NLE_PARSE_ERR:
	case NLE_SEQ_MISMATCH:	return -EBADMSG;
	default:		return -EIO;
	}
}

static int parse_tlvs(const unsigned char *p, size_t len, char *msg,
		      size_t msgsz, uint32_t *offset)
{
	while (len > 0) {
		const struct nlattr *a = (const void *)p;
		size_t alen, plen;

		if (len < NLA_HDRLEN)
			return -EBADMSG;
		alen = a->nla_len;
		if (alen < NLA_HDRLEN || alen > len)
			return -EBADMSG;
		plen = alen - NLA_HDRLEN;
		switch (a->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			if (msgsz) {
				size_t n = strnlen((const char *)p + NLA_HDRLEN, plen);

				if (n >= msgsz)
					n = msgsz - 1;
				memcpy(msg, p + NLA_HDRLEN, n);
				msg[n] = '\0';
			}
			break;
		case NLMSGERR_ATTR_OFFS:
			if (plen != sizeof(uint32_t))
				return -EBADMSG;
			memcpy(offset, p + NLA_HDRLEN, sizeof(uint32_t));
			break;
		}
		alen = NLA_ALIGN(alen);
		if (alen >= len)
			break;
		p += alen;
		len -= alen;
	}
	return 0;
}

int hvx_nl_parse_error(const struct nlmsghdr *nlh, size_t len, int *error,
		       char *msg, size_t msgsz, uint32_t *offset)
{
	const unsigned char *base = (const void *)nlh;
	size_t tlv, total;
	int e;

	if (msgsz)
		msg[0] = '\0';
	*offset = 0;
	*error = 0;
	if (len < NLMSG_HDRLEN + sizeof(int))
		return -EBADMSG;
	total = nlh->nlmsg_len;
	if (total < NLMSG_HDRLEN + sizeof(int) || total > len)
		return -EBADMSG;
	memcpy(&e, NLMSG_DATA(nlh), sizeof(e));
	if (e > 0)
		return -EBADMSG;

	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR: {
		struct nlmsgerr err;
		size_t echoed;

		if (total < NLMSG_HDRLEN + sizeof(err))
			return -EBADMSG;
		memcpy(&err, NLMSG_DATA(nlh), sizeof(err));
		/*
		 * Unless capped, the kernel echoes the whole request after the
		 * error code; the TLVs follow it.
		 */
		echoed = sizeof(struct nlmsghdr);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED)) {
			if (err.msg.nlmsg_len < sizeof(struct nlmsghdr))
				return -EBADMSG;
			echoed = err.msg.nlmsg_len;
		}
		if (echoed > total - NLMSG_HDRLEN - sizeof(int))
			return -EBADMSG;
		tlv = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int) + echoed);
		break;
	}
	case NLMSG_DONE:
		tlv = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int));
		break;
	default:
		return -EBADMSG;
	}
	*error = e;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || tlv >= total)
		return 0;
	return parse_tlvs(base + tlv, total - tlv, msg, msgsz, offset);
}

int hvx_nl_open(struct hvx_nl **out, const char *family, uint8_t version)
{
	struct hvx_nl *nl;
	int one = 1, ret;

	if (strlen(family) >= GENL_NAMSIZ)
		return -ENAMETOOLONG;
	nl = calloc(1, sizeof(*nl));
	if (!nl)
		return -ENOMEM;
	strcpy(nl->name, family);
	nl->version = version;
	nl->sk = nl_socket_alloc();
	if (!nl->sk) {
		ret = -ENOMEM;
		goto err_free;
	}
	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = hvx_nl_errno(ret);
		goto err_sock;
	}
	/*
	 * Extended acks carry the kernel's reason for a rejection; capped
	 * acks keep the reply from echoing our whole request back.
	 */
	if (setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		       &one, sizeof(one)) < 0 ||
	    setsockopt(nl_socket_get_fd(nl->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		       &one, sizeof(one)) < 0) {
		ret = -errno;
		goto err_sock;
	}
	ret = genl_ctrl_resolve(nl->sk, family);
	if (ret < 0) {
		ret = hvx_nl_errno(ret);
		goto err_sock;
	}
	nl->family = ret;
	*out = nl;
	return 0;

err_sock:
	nl_socket_free(nl->sk);
err_free:
	free(nl);
	return ret;
}

void hvx_nl_close(struct hvx_nl *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk);
	free(nl);
}

const char *hvx_nl_family_name(const struct hvx_nl *nl)
{
	return nl->name;
}

int hvx_nl_family_id(const struct hvx_nl *nl)
{
	return nl->family;
}

int hvx_nl_fd(const struct hvx_nl *nl)
{
	return nl_socket_get_fd(nl->sk);
}

const char *hvx_nl_extack(const struct hvx_nl *nl)
{
	return nl->extack[0] ? nl->extack : NULL;
}

struct nl_msg *hvx_nl_msg_build(int family, uint8_t version, uint8_t cmd,
				int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, family, 0,
			 flags | NLM_F_REQUEST, cmd, version)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct nl_msg *hvx_nl_msg(struct hvx_nl *nl, uint8_t cmd, int flags)
{
	return hvx_nl_msg_build(nl->family, nl->version, cmd, flags);
}

int hvx_nl_parse(struct nlmsghdr *nlh, int maxattr,
		 const struct nla_policy *policy, struct nlattr **tb)
{
	int ret = genlmsg_parse(nlh, 0, tb, maxattr,
				(struct nla_policy *)policy);

	return ret < 0 ? hvx_nl_errno(ret) : 0;
}

uint8_t hvx_nl_cmd(const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *g = NLMSG_DATA(nlh);

	return g->cmd;
}

static int req_valid(struct nl_msg *msg, void *arg)
{
	struct hvx_nl_req *r = arg;

	if (r->fn && !r->cb_err) {
		int ret = r->fn(nlmsg_hdr(msg), r->arg);

		/* Keep reading so the rest of the answer does not linger. */
		if (ret < 0)
			r->cb_err = ret;
	}
	return NL_OK;
}

static void req_finish_error(struct hvx_nl_req *r, const struct nlmsghdr *nlh)
{
	uint32_t off;
	int e;

	r->done = true;
	if (hvx_nl_parse_error(nlh, nlh->nlmsg_len, &e, r->nl->extack,
			       sizeof(r->nl->extack), &off) < 0) {
		r->err = -EBADMSG;
		return;
	}
	r->err = e;
}

static int req_err(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	/* libnl hands us the payload; the header sits right before it. */
	const struct nlmsghdr *nlh = (const void *)((const char *)e - NLMSG_HDRLEN);

	req_finish_error(arg, nlh);
	return NL_STOP;
}

static int req_finish(struct nl_msg *msg, void *arg)
{
	req_finish_error(arg, nlmsg_hdr(msg));
	return NL_STOP;
}

static int req_ack(struct nl_msg *msg, void *arg)
{
	struct hvx_nl_req *r = arg;

	r->done = true;
	return NL_STOP;
}

int hvx_nl_request(struct hvx_nl *nl, struct nl_msg *msg, hvx_nl_msg_fn fn,
		   void *arg)
{
	struct hvx_nl_req r = { .nl = nl, .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	nl->extack[0] = '\0';
	cb = nl_cb_clone(nl_socket_get_cb(nl->sk));
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, req_valid, &r);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, req_finish, &r);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, req_ack, &r);
	nl_cb_err(cb, NL_CB_CUSTOM, req_err, &r);

	ret = nl_send_auto(nl->sk, msg);
	nlmsg_free(msg);
	if (ret < 0) {
		ret = hvx_nl_errno(ret);
		goto out;
	}
	while (!r.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (r.done)
			break;
		if (ret < 0) {
			ret = hvx_nl_errno(ret);
			goto out;
		}
	}
	ret = r.err ? r.err : r.cb_err;
out:
	nl_cb_put(cb);
	return ret;
}

int hvx_nl_subscribe(struct hvx_nl *nl, const char *group)
{
	int grp, ret;

	grp = genl_ctrl_resolve_grp(nl->sk, nl->name, group);
	if (grp < 0)
		return hvx_nl_errno(grp);
	ret = nl_socket_add_membership(nl->sk, grp);
	if (ret < 0)
		return hvx_nl_errno(ret);
	/* Events carry no sequence number of ours. */
	nl_socket_disable_seq_check(nl->sk);
	ret = nl_socket_set_nonblocking(nl->sk);
	return ret < 0 ? hvx_nl_errno(ret) : 0;
}

struct hvx_nl_ev {
	hvx_nl_msg_fn fn;
	void *arg;
	int err;
};

static int ev_valid(struct nl_msg *msg, void *arg)
{
	struct hvx_nl_ev *ev = arg;
	int ret = ev->fn(nlmsg_hdr(msg), ev->arg);

	if (ret < 0) {
		ev->err = ret;
		return NL_STOP;
	}
	return NL_OK;
}

int hvx_nl_dispatch(struct hvx_nl *nl, hvx_nl_msg_fn fn, void *arg)
{
	struct hvx_nl_ev ev = { .fn = fn, .arg = arg };
	struct nl_cb *cb;
	int ret;

	cb = nl_cb_clone(nl_socket_get_cb(nl->sk));
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, ev_valid, &ev);
	for (;;) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ev.err) {
			ret = ev.err;
			break;
		}
		if (ret == -NLE_AGAIN) {
			ret = 0;
			break;
		}
		if (ret < 0) {
			/* libnl reports the receive queue overrun as NLE_NOMEM. */
			ret = ret == -NLE_NOMEM ? -ENOBUFS : hvx_nl_errno(ret);
			break;
		}
	}
	nl_cb_put(cb);
	return ret;
}
