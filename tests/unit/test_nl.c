// SPDX-License-Identifier: GPL-2.0
/*
 * lib/hvx_nl and lib/hvx_vm on crafted buffers: request building, the
 * kernel's error/extack layouts (capped or not, NLMSG_DONE of a dump),
 * malformed answers, and VM message decoding.
 */
#include <errno.h>
#include <string.h>

#include <netlink/genl/genl.h>
#include <linux/hvx.h>
#include "hvx_check.h"

#include "hvx_json.h"
#include "hvx_nl.h"
#include "hvx_vm.h"

static unsigned char buf[4096] __attribute__((aligned(4)));

/* Append one TLV at *off. */
static void tlv(size_t *off, uint16_t type, const void *data, uint16_t len)
{
	struct nlattr *a = (void *)(buf + *off);

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy(buf + *off + NLA_HDRLEN, data, len);
	*off += NLA_ALIGN(a->nla_len);
}

/*
 * An NLMSG_ERROR as netlink_ack() builds it: error, echoed request
 * (whole, or its header only when capped), then TLVs.
 */
static size_t error_msg(int err, bool capped, size_t req_payload,
			const char *msg, int32_t offs)
{
	struct nlmsghdr *nlh = (void *)buf;
	struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off;

	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_type = NLMSG_ERROR;
	e->error = err;
	e->msg.nlmsg_len = NLMSG_HDRLEN + req_payload;
	e->msg.nlmsg_type = 0x1234;
	off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int) +
		(capped ? sizeof(struct nlmsghdr) : e->msg.nlmsg_len));
	if (capped)
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	if (msg || offs >= 0)
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	if (msg)
		tlv(&off, NLMSGERR_ATTR_MSG, msg, strlen(msg) + 1);
	if (offs >= 0)
		tlv(&off, NLMSGERR_ATTR_OFFS, &offs, sizeof(offs));
	nlh->nlmsg_len = off;
	return off;
}

START_TEST(build_request)
{
	struct nl_msg *msg = hvx_nl_msg_build(0x42, HVX_GENL_VERSION, HVX_CMD_VM_NEW, 0);
	struct nlattr *tb[HVX_A_VM_MAX + 1];
	struct nlmsghdr *nlh;
	struct genlmsghdr *g;

	ck_assert_ptr_nonnull(msg);
	ck_assert_int_eq(nla_put_string(msg, HVX_A_VM_NAME, "guest-1"), 0);
	ck_assert_int_eq(nla_put_u32(msg, HVX_A_VM_FLAGS, 0), 0);
	nlh = nlmsg_hdr(msg);
	ck_assert_uint_eq(nlh->nlmsg_type, 0x42);
	ck_assert(nlh->nlmsg_flags & NLM_F_REQUEST);
	ck_assert(!(nlh->nlmsg_flags & NLM_F_DUMP));
	g = nlmsg_data(nlh);
	ck_assert_uint_eq(g->cmd, HVX_CMD_VM_NEW);
	ck_assert_uint_eq(g->version, HVX_GENL_VERSION);
	ck_assert_uint_eq(hvx_nl_cmd(nlh), HVX_CMD_VM_NEW);
	ck_assert_int_eq(hvx_nl_parse(nlh, HVX_A_VM_MAX, NULL, tb), 0);
	ck_assert_ptr_nonnull(tb[HVX_A_VM_NAME]);
	ck_assert_str_eq(nla_get_string(tb[HVX_A_VM_NAME]), "guest-1");
	/* NUL-terminated, as the kernel's NLA_NUL_STRING policy demands. */
	ck_assert_uint_eq(nla_len(tb[HVX_A_VM_NAME]), 8);
	ck_assert_uint_eq(nla_get_u32(tb[HVX_A_VM_FLAGS]), 0);
	nlmsg_free(msg);

	msg = hvx_nl_msg_build(0x42, 1, HVX_CMD_VM_GET, NLM_F_DUMP);
	ck_assert((nlmsg_hdr(msg)->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP);
	nlmsg_free(msg);
}
END_TEST

START_TEST(extack_capped)
{
	char m[HVX_NL_EXTACK_MAX];
	uint32_t off;
	int err;
	size_t len = error_msg(-EEXIST, true, 40, "VM name is already in use", 24);

	ck_assert_int_eq(hvx_nl_parse_error((void *)buf, len, &err, m, sizeof(m), &off), 0);
	ck_assert_int_eq(err, -EEXIST);
	ck_assert_str_eq(m, "VM name is already in use");
	ck_assert_uint_eq(off, 24);
}
END_TEST

START_TEST(extack_uncapped)
{
	char m[HVX_NL_EXTACK_MAX];
	uint32_t off;
	int err;
	/* An odd request length checks the alignment of the TLV start. */
	size_t len = error_msg(-EINVAL, false, 37, "Attribute failed policy validation", -1);

	ck_assert_int_eq(hvx_nl_parse_error((void *)buf, len, &err, m, sizeof(m), &off), 0);
	ck_assert_int_eq(err, -EINVAL);
	ck_assert_str_eq(m, "Attribute failed policy validation");
	ck_assert_uint_eq(off, 0);
}
END_TEST

START_TEST(ack_and_plain_error)
{
	char m[HVX_NL_EXTACK_MAX] = "stale";
	uint32_t off;
	int err;
	size_t len = error_msg(0, true, 20, NULL, -1);

	ck_assert_int_eq(hvx_nl_parse_error((void *)buf, len, &err, m, sizeof(m), &off), 0);
	ck_assert_int_eq(err, 0);
	ck_assert_str_eq(m, "");
	len = error_msg(-EPERM, false, 20, NULL, -1);
	ck_assert_int_eq(hvx_nl_parse_error((void *)buf, len, &err, m, sizeof(m), &off), 0);
	ck_assert_int_eq(err, -EPERM);
	ck_assert_str_eq(m, "");
}
END_TEST

START_TEST(dump_done_error)
{
	struct nlmsghdr *nlh = (void *)buf;
	char m[HVX_NL_EXTACK_MAX];
	int e = -ENOBUFS, err;
	uint32_t off;
	size_t len;

	memset(buf, 0, sizeof(buf));
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI | NLM_F_ACK_TLVS;
	memcpy(NLMSG_DATA(nlh), &e, sizeof(e));
	len = NLMSG_HDRLEN + 4;
	tlv(&len, NLMSGERR_ATTR_MSG, "dump failed", 12);
	nlh->nlmsg_len = len;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), 0);
	ck_assert_int_eq(err, -ENOBUFS);
	ck_assert_str_eq(m, "dump failed");
}
END_TEST

START_TEST(extack_truncated_to_buffer)
{
	char m[8];
	uint32_t off;
	int err;
	size_t len = error_msg(-EINVAL, true, 20, "a long message", -1);

	ck_assert_int_eq(hvx_nl_parse_error((void *)buf, len, &err, m, sizeof(m), &off), 0);
	ck_assert_str_eq(m, "a long ");
}
END_TEST

START_TEST(extack_without_nul)
{
	char m[HVX_NL_EXTACK_MAX];
	size_t len = error_msg(-EINVAL, true, 20, NULL, -1);
	struct nlmsghdr *nlh = (void *)buf;
	uint32_t off;
	int err;

	nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	tlv(&len, NLMSGERR_ATTR_MSG, "abcd", 4);
	nlh->nlmsg_len = len;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), 0);
	ck_assert_str_eq(m, "abcd");
}
END_TEST

/* Every malformed answer is -EBADMSG, never a read past the buffer. */
START_TEST(malformed)
{
	struct nlmsghdr *nlh = (void *)buf;
	char m[HVX_NL_EXTACK_MAX];
	uint32_t off;
	int err;
	size_t len;

	len = error_msg(-EINVAL, true, 20, "x", -1);
	/* Shorter than a header + error code. */
	ck_assert_int_eq(hvx_nl_parse_error(nlh, 10, &err, m, sizeof(m), &off), -EBADMSG);
	/* nlmsg_len claims more than was received. */
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len - 4, &err, m, sizeof(m), &off), -EBADMSG);
	/* A positive error code. */
	len = error_msg(5, true, 20, NULL, -1);
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* Uncapped, but the echoed request overruns the message. */
	len = error_msg(-EINVAL, false, 20, NULL, -1);
	((struct nlmsgerr *)NLMSG_DATA(nlh))->msg.nlmsg_len = 4000;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* Uncapped with an echoed length below a header. */
	((struct nlmsgerr *)NLMSG_DATA(nlh))->msg.nlmsg_len = 3;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* A TLV whose length runs past the end. */
	len = error_msg(-EINVAL, true, 20, "hello", -1);
	((struct nlattr *)(buf + NLMSG_HDRLEN + 20))->nla_len = 200;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* A TLV shorter than its own header. */
	((struct nlattr *)(buf + NLMSG_HDRLEN + 20))->nla_len = 2;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* An offset attribute of the wrong size. */
	len = error_msg(-EINVAL, true, 20, NULL, -1);
	nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
	tlv(&len, NLMSGERR_ATTR_OFFS, "ab", 2);
	nlh->nlmsg_len = len;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
	/* Neither an error nor a done message. */
	len = error_msg(-EINVAL, true, 20, NULL, -1);
	nlh->nlmsg_type = 0x20;
	ck_assert_int_eq(hvx_nl_parse_error(nlh, len, &err, m, sizeof(m), &off), -EBADMSG);
}
END_TEST

START_TEST(errno_mapping)
{
	ck_assert_int_eq(hvx_nl_errno(-NLE_OBJ_NOTFOUND), -ENOENT);
	ck_assert_int_eq(hvx_nl_errno(-NLE_PERM), -EPERM);
	ck_assert_int_eq(hvx_nl_errno(-NLE_DUMP_INTR), -EAGAIN);
	ck_assert_int_eq(hvx_nl_errno(-NLE_SEQ_MISMATCH), -EBADMSG);
	ck_assert_int_eq(hvx_nl_errno(0), 0);
	ck_assert_int_eq(hvx_nl_errno(-NLE_FAILURE), -EIO);
}
END_TEST

/* A VM message as hvx_core sends it (reply, dump entry or event). */
static struct nl_msg *vm_msg(bool with_mem, bool with_name)
{
	struct nl_msg *msg = hvx_nl_msg_build(0x42, 1, HVX_CMD_VM_NEW, 0);
	struct nlattr *nest;

	nla_put_u32(msg, HVX_A_VM_ID, 3);
	if (with_name)
		nla_put_string(msg, HVX_A_VM_NAME, "g1");
	nla_put_u32(msg, HVX_A_VM_OWNER_PID, 100);
	nla_put_u32(msg, HVX_A_VM_OWNER_UID, 0);
	nla_put_u32(msg, HVX_A_VM_STATE, HVX_VM_STATE_PAUSED);
	nla_put_u32(msg, HVX_A_VM_USERS, 2);
	if (with_mem) {
		nla_put_u32(msg, HVX_A_VM_MEM_PID, 100);
		for (int i = 0; i < 2; i++) {
			nest = nla_nest_start(msg, HVX_A_VM_MEM);
			nla_put_u64(msg, HVX_A_MEM_GPA, 0x100000ULL * (i + 1));
			nla_put_u64(msg, HVX_A_MEM_SIZE, 0x1000);
			if (i)
				nla_put_u64(msg, HVX_A_MEM_UADDR, 0x7f0000000000ULL);
			nla_nest_end(msg, nest);
		}
	}
	return msg;
}

START_TEST(vm_decode)
{
	struct nl_msg *msg = vm_msg(true, true);
	struct json_object *vm;
	int err = 0;

	vm = hvx_vm_json(nlmsg_hdr(msg), &err);
	ck_assert_ptr_nonnull(vm);
	ck_assert_str_eq(hvx_json_str(vm, HVX_JSON_COMPACT),
		"{\"id\":3,\"name\":\"g1\",\"state\":\"paused\",\"owner_pid\":100,"
		"\"owner_uid\":0,\"users\":2,\"mem_pid\":100,\"mem\":["
		"{\"gpa\":1048576,\"size\":4096},"
		"{\"gpa\":2097152,\"size\":4096,\"uaddr\":139637976727552}]}");
	json_object_put(vm);
	nlmsg_free(msg);

	msg = vm_msg(false, false);
	ck_assert_ptr_null(hvx_vm_json(nlmsg_hdr(msg), &err));
	ck_assert_int_eq(err, -EBADMSG);
	nlmsg_free(msg);
}
END_TEST

START_TEST(vm_names)
{
	ck_assert_str_eq(hvx_vm_state_name(HVX_VM_STATE_MIGRATING), "migrating");
	ck_assert_ptr_null(hvx_vm_state_name(HVX_VM_STATE_MAX + 1));
	ck_assert_int_eq(hvx_vm_state_parse("running"), HVX_VM_STATE_RUNNING);
	ck_assert_int_eq(hvx_vm_state_parse("Running"), -EINVAL);
	ck_assert_str_eq(hvx_vm_cmd_name(HVX_CMD_VM_DEL), "vm-del");
	ck_assert_ptr_null(hvx_vm_cmd_name(HVX_CMD_MAX + 1));
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("nl");
	TCase *tc = tcase_create("nl");

	tcase_add_test(tc, build_request);
	tcase_add_test(tc, extack_capped);
	tcase_add_test(tc, extack_uncapped);
	tcase_add_test(tc, ack_and_plain_error);
	tcase_add_test(tc, dump_done_error);
	tcase_add_test(tc, extack_truncated_to_buffer);
	tcase_add_test(tc, extack_without_nul);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, errno_mapping);
	tcase_add_test(tc, vm_decode);
	tcase_add_test(tc, vm_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hvx_check_run(suite());
}
