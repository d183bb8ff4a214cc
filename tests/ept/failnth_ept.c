// SPDX-License-Identifier: GPL-2.0
/*
 * vm_failnth cases for hvx_ept (family "hvx_ept" and /dev/hvx_ept): every
 * command and ioctl. The checks compare a snapshot of the VM's EPT state
 * (VM_GET + a VIEW_GET dump: views, EPT pointers, ranges, private pages):
 * a refused request leaves it byte for byte as it was; a successful one
 * made exactly its change.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/hvx_ept.h>

#include "failnth.h"

#define EPT_NAME	"fnth-ept"
#define EPT_PAGES	16
#define SNAP_VIEWS	8
#define SNAP_RANGES	8

struct ept_snap {
	int exists;
	uint64_t mem_size;
	uint32_t nr_views;
	uint32_t active;
	unsigned int n;
	struct {
		uint32_t id;
		uint32_t active;
		uint64_t eptp;
		uint64_t priv;
		unsigned int nr;
		struct {
			uint64_t gpa, size;
			uint32_t perm, kind;
		} r[SNAP_RANGES];
	} v[SNAP_VIEWS];
};

static long page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

/* Slots of struct fn this table uses. */
enum { VM_ID, VIEW_ID, DEV_FD, MEM_FD, NEW_FD, FDS_BEFORE };

static struct ept_snap before;

static int parse_vm(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct ept_snap *s = arg;

	if (fn_parse_attrs(nlh, tb, HVX_EPT_A_MAX) < 0 ||
	    !tb[HVX_EPT_A_MEM_SIZE] || !tb[HVX_EPT_A_NR_VIEWS])
		return -1;
	s->exists = 1;
	s->mem_size = nla_get_u64(tb[HVX_EPT_A_MEM_SIZE]);
	s->nr_views = nla_get_u32(tb[HVX_EPT_A_NR_VIEWS]);
	s->active = tb[HVX_EPT_A_ACTIVE_VIEW] ?
		    nla_get_u32(tb[HVX_EPT_A_ACTIVE_VIEW]) : UINT32_MAX;
	return 0;
}

static int parse_view(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1], *rt[HVX_EPT_A_MAX + 1], *nla;
	struct ept_snap *s = arg;
	int rem;

	if (s->n == SNAP_VIEWS)
		return -1;
	if (fn_parse_attrs(nlh, tb, HVX_EPT_A_MAX) < 0 || !tb[HVX_EPT_A_VIEW_ID])
		return -1;
	s->v[s->n].id = nla_get_u32(tb[HVX_EPT_A_VIEW_ID]);
	s->v[s->n].active = !!tb[HVX_EPT_A_ACTIVE];
	if (tb[HVX_EPT_A_EPTP])
		s->v[s->n].eptp = nla_get_u64(tb[HVX_EPT_A_EPTP]);
	if (tb[HVX_EPT_A_PRIVATE_PAGES])
		s->v[s->n].priv = nla_get_u64(tb[HVX_EPT_A_PRIVATE_PAGES]);
	nlmsg_for_each_attr(nla, nlh, GENL_HDRLEN, rem) {
		unsigned int i = s->v[s->n].nr;

		if (nla_type(nla) != HVX_EPT_A_RANGE)
			continue;
		if (i == SNAP_RANGES ||
		    nla_parse_nested(rt, HVX_EPT_A_MAX, nla, NULL) < 0 ||
		    !rt[HVX_EPT_A_GPA] || !rt[HVX_EPT_A_SIZE] ||
		    !rt[HVX_EPT_A_PERM] || !rt[HVX_EPT_A_KIND])
			return -1;
		s->v[s->n].r[i].gpa = nla_get_u64(rt[HVX_EPT_A_GPA]);
		s->v[s->n].r[i].size = nla_get_u64(rt[HVX_EPT_A_SIZE]);
		s->v[s->n].r[i].perm = nla_get_u32(rt[HVX_EPT_A_PERM]);
		s->v[s->n].r[i].kind = nla_get_u32(rt[HVX_EPT_A_KIND]);
		s->v[s->n].nr++;
	}
	s->n++;
	return 0;
}

/* A request of this family, built on g, with the VM id and maybe a view. */
static struct nl_msg *ept_msg(struct fn *f, struct fn_genl *g, uint8_t cmd,
			      int flags, int64_t view)
{
	struct nl_msg *msg = fn_msg(g, cmd, flags);

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, HVX_EPT_A_VM_ID, (uint32_t)f->v[VM_ID]) < 0 ||
	    (view >= 0 && nla_put_u32(msg, HVX_EPT_A_VIEW_ID, (uint32_t)view) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *ept_vm_new_msg(struct fn *f, struct fn_genl *g)
{
	struct nl_msg *msg = ept_msg(f, g, HVX_EPT_CMD_VM_NEW, 0, -1);

	if (msg && nla_put_u64(msg, HVX_EPT_A_MEM_SIZE, EPT_PAGES * page_size()) < 0) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

static struct nl_msg *ept_map_msg(struct fn *f, struct fn_genl *g, uint32_t view,
				  uint64_t gpa, uint64_t size, uint32_t perm,
				  uint32_t kind)
{
	struct nl_msg *msg = ept_msg(f, g, HVX_EPT_CMD_MAP, 0, view);

	if (msg && (nla_put_u64(msg, HVX_EPT_A_GPA, gpa) < 0 ||
		    nla_put_u64(msg, HVX_EPT_A_SIZE, size) < 0 ||
		    nla_put_u32(msg, HVX_EPT_A_PERM, perm) < 0 ||
		    nla_put_u32(msg, HVX_EPT_A_KIND, kind) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* One uninjected request on a socket of its own; fn_bad() on failure. */
static int ept_setup_req(struct fn *f, struct nl_msg *(*build)(struct fn *,
			 struct fn_genl *, void *), void *arg, fn_parse_t parse,
			 void *parg, const char *what)
{
	struct fn tmp = { 0 };
	int ret;

	memcpy(tmp.v, f->v, sizeof(tmp.v));
	if (fn_genl_open(&tmp.nl, HVX_EPT_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_EPT_GENL_NAME);
	ret = fn_request(&tmp, &tmp.nl, build(&tmp, &tmp.nl, arg), parse, parg);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "%s failed: %s %s", what, strerror(-ret), tmp.extack);
	return 0;
}

static int snap(struct fn *f, struct ept_snap *s)
{
	struct fn tmp = { 0 };
	int ret;

	memset(s, 0, sizeof(*s));
	memcpy(tmp.v, f->v, sizeof(tmp.v));
	if (fn_genl_open(&tmp.nl, HVX_EPT_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_EPT_GENL_NAME);
	ret = fn_request(&tmp, &tmp.nl, ept_msg(&tmp, &tmp.nl, HVX_EPT_CMD_VM_GET, 0, -1),
			 parse_vm, s);
	if (ret == -ENOENT) {
		memset(s, 0, sizeof(*s));
		ret = 0;
	} else if (!ret) {
		ret = fn_request(&tmp, &tmp.nl,
				 ept_msg(&tmp, &tmp.nl, HVX_EPT_CMD_VIEW_GET, NLM_F_DUMP, -1),
				 parse_view, s);
	}
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "reading the EPT state failed: %s %s",
			      strerror(-ret), tmp.extack);
	return 0;
}

static int same_as_before(struct fn *f)
{
	struct ept_snap now;

	if (snap(f, &now))
		return -1;
	if (memcmp(&now, &before, sizeof(now)))
		return fn_bad(f, "request failed (%s) but the EPT state changed: views %u->%u, active %u->%u, exists %d->%d",
			      strerror(-f->err), before.nr_views, now.nr_views,
			      before.active, now.active, before.exists, now.exists);
	return 0;
}

static bool refused(const struct fn *f)
{
	return f->kind == FN_ACK || f->kind == FN_SEND;
}

/* ---- setups ------------------------------------------------------------- */

static struct nl_msg *build_vm_new(struct fn *f, struct fn_genl *g, void *arg)
{
	return ept_vm_new_msg(f, g);
}

static struct nl_msg *build_view_new(struct fn *f, struct fn_genl *g, void *arg)
{
	return ept_msg(f, g, HVX_EPT_CMD_VIEW_NEW, 0, -1);
}

static struct nl_msg *build_map_private(struct fn *f, struct fn_genl *g, void *arg)
{
	return ept_map_msg(f, g, (uint32_t)f->v[VIEW_ID], 0, 2 * page_size(),
			   HVX_EPT_PERM_R | HVX_EPT_PERM_W, HVX_EPT_KIND_PRIVATE);
}

static int parse_view_id(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	uint64_t *id = arg;

	if (fn_parse_attrs(nlh, tb, HVX_EPT_A_MAX) < 0 || !tb[HVX_EPT_A_VIEW_ID])
		return -1;
	*id = nla_get_u32(tb[HVX_EPT_A_VIEW_ID]);
	return 0;
}

/* A core VM only. */
static int s_core(struct fn *f)
{
	uint32_t id;

	if (fn_vm_make(f, EPT_NAME, &id))
		return -1;
	f->v[VM_ID] = id;
	return snap(f, &before);
}

/* A core VM with EPT views enabled. */
static int s_ept(struct fn *f)
{
	if (s_core(f) ||
	    ept_setup_req(f, build_vm_new, NULL, NULL, NULL, "ept VM_NEW"))
		return -1;
	return snap(f, &before);
}

/* ... and a second view, in f->v[VIEW_ID]. */
static int s_view(struct fn *f)
{
	if (s_ept(f) ||
	    ept_setup_req(f, build_view_new, NULL, parse_view_id, &f->v[VIEW_ID],
			  "ept VIEW_NEW"))
		return -1;
	return snap(f, &before);
}

/* ... with a private range in that view (page tables and pages to dump). */
static int s_mapped(struct fn *f)
{
	if (s_view(f) ||
	    ept_setup_req(f, build_map_private, NULL, NULL, NULL, "ept MAP"))
		return -1;
	return snap(f, &before);
}

static int open_dev(struct fn *f)
{
	int fd = open(HVX_EPT_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fn_bad(f, "%s: %s", HVX_EPT_DEV, strerror(errno));
	f->v[DEV_FD] = fd + 1;
	return 0;
}

static int s_dev(struct fn *f)
{
	return s_ept(f) || open_dev(f);
}

static int memfd_new(struct fn *f)
{
	struct hvx_ept_memfd req = {
		.size = sizeof(req), .vm_id = (uint32_t)f->v[VM_ID],
	};

	return ioctl((int)f->v[DEV_FD] - 1, HVX_EPT_IOC_MEMFD, &req);
}

static int s_memfd(struct fn *f)
{
	int fd;

	if (s_view(f) || open_dev(f))
		return -1;
	fd = memfd_new(f);
	if (fd < 0)
		return fn_bad(f, "HVX_EPT_IOC_MEMFD: %s", strerror(errno));
	f->v[MEM_FD] = fd + 1;
	return 0;
}

static void t_all(struct fn *f)
{
	int slot[] = { DEV_FD, MEM_FD, NEW_FD };
	size_t i;

	for (i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		if (f->v[slot[i]])
			close((int)f->v[slot[i]] - 1);
	/* hvx_ept drops the VM's views on hvx_core's DEL notification. */
	fn_vm_del(EPT_NAME);
}

/* ---- calls and checks --------------------------------------------------- */

static int c_vm_new(struct fn *f)
{
	return fn_request(f, &f->nl, ept_vm_new_msg(f, &f->nl), NULL, NULL);
}

static int k_vm_new(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (!now.exists && f->kind == FN_LOST)
		return 0;
	if (!now.exists || now.mem_size != EPT_PAGES * (uint64_t)page_size() ||
	    now.nr_views != 1 || now.active != HVX_EPT_VIEW_DEFAULT || now.n != 1)
		return fn_bad(f, "VM_NEW succeeded but the state is off: exists %d size %llu views %u active %u",
			      now.exists, (unsigned long long)now.mem_size,
			      now.nr_views, now.active);
	return 0;
}

static int c_vm_del(struct fn *f)
{
	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VM_DEL, 0, -1),
			  NULL, NULL);
}

static int k_vm_del(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (now.exists && f->kind == FN_OK)
		return fn_bad(f, "VM_DEL succeeded but the VM still has views");
	if (now.exists && memcmp(&now, &before, sizeof(now)))
		return fn_bad(f, "VM_DEL answer lost and the state changed");
	return 0;
}

static int c_vm_get(struct fn *f)
{
	struct ept_snap s = { 0 };

	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VM_GET, 0, -1),
			  parse_vm, &s);
}

static int c_vm_dump(struct fn *f)
{
	/* Every VM's message, the state of none is kept: only the call counts. */
	return fn_request(f, &f->nl, fn_msg(&f->nl, HVX_EPT_CMD_VM_GET, NLM_F_DUMP),
			  NULL, NULL);
}

static int c_view_new(struct fn *f)
{
	f->v[VIEW_ID] = UINT32_MAX;
	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VIEW_NEW, 0, -1),
			  parse_view_id, &f->v[VIEW_ID]);
}

static int k_view_new(struct fn *f)
{
	struct ept_snap now;
	unsigned int i;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (f->kind == FN_LOST && now.nr_views == before.nr_views)
		return same_as_before(f);
	if (now.nr_views != before.nr_views + 1 || now.n != before.n + 1)
		return fn_bad(f, "VIEW_NEW succeeded but views went %u -> %u",
			      before.nr_views, now.nr_views);
	for (i = 0; i < now.n; i++)
		if (f->kind == FN_LOST || now.v[i].id == f->v[VIEW_ID])
			return 0;
	return fn_bad(f, "VIEW_NEW replied view %llu, which is not listed",
		      (unsigned long long)f->v[VIEW_ID]);
}

static int c_view_del(struct fn *f)
{
	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VIEW_DEL, 0,
					     (int64_t)f->v[VIEW_ID]), NULL, NULL);
}

static int k_view_del(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (f->kind == FN_LOST && now.nr_views == before.nr_views)
		return same_as_before(f);
	if (now.nr_views != before.nr_views - 1)
		return fn_bad(f, "VIEW_DEL succeeded but views went %u -> %u",
			      before.nr_views, now.nr_views);
	return 0;
}

static int c_view_get(struct fn *f)
{
	struct ept_snap s = { 0 };

	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VIEW_GET, 0,
					     (int64_t)f->v[VIEW_ID]), parse_view, &s);
}

static int c_view_dump(struct fn *f)
{
	struct ept_snap s = { 0 };

	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_VIEW_GET,
					     NLM_F_DUMP, -1), parse_view, &s);
}

static int c_ept_dump(struct fn *f)
{
	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_DUMP, NLM_F_DUMP,
					     (int64_t)f->v[VIEW_ID]), NULL, NULL);
}

/* Reads change nothing, whatever their result. */
static int k_read(struct fn *f)
{
	return same_as_before(f);
}

/* The view's ranges, private pages and EPT pointer as MAP should leave them. */
static int mapped_as_asked(struct fn *f, const struct ept_snap *now,
			   uint32_t view, uint64_t gpa, uint64_t size,
			   uint32_t perm, uint32_t kind)
{
	unsigned int i, j;

	for (i = 0; i < now->n; i++) {
		if (now->v[i].id != view)
			continue;
		for (j = 0; j < now->v[i].nr; j++)
			if (now->v[i].r[j].gpa == gpa && now->v[i].r[j].size == size &&
			    now->v[i].r[j].perm == perm && now->v[i].r[j].kind == kind)
				break;
		if (j == now->v[i].nr)
			return fn_bad(f, "MAP succeeded but view %u has no such range", view);
		if (kind == HVX_EPT_KIND_PRIVATE &&
		    now->v[i].priv != size / (uint64_t)page_size())
			return fn_bad(f, "MAP succeeded but view %u has %llu private pages",
				      view, (unsigned long long)now->v[i].priv);
		return 0;
	}
	return fn_bad(f, "view %u disappeared", view);
}

static int c_map_private(struct fn *f)
{
	return fn_request(f, &f->nl, build_map_private(f, &f->nl, NULL), NULL, NULL);
}

static int k_map_private(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (f->kind == FN_LOST && !memcmp(&now, &before, sizeof(now)))
		return 0;
	return mapped_as_asked(f, &now, (uint32_t)f->v[VIEW_ID], 0, 2 * page_size(),
			       HVX_EPT_PERM_R | HVX_EPT_PERM_W, HVX_EPT_KIND_PRIVATE);
}

#define SHARED_GPA(p)	(4 * (uint64_t)(p))

static int c_map_shared(struct fn *f)
{
	return fn_request(f, &f->nl, ept_map_msg(f, &f->nl, HVX_EPT_VIEW_DEFAULT,
						 SHARED_GPA(page_size()), page_size(),
						 HVX_EPT_PERM_R, HVX_EPT_KIND_SHARED),
			  NULL, NULL);
}

static int k_map_shared(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (f->kind == FN_LOST && !memcmp(&now, &before, sizeof(now)))
		return 0;
	return mapped_as_asked(f, &now, HVX_EPT_VIEW_DEFAULT, SHARED_GPA(page_size()),
			       page_size(), HVX_EPT_PERM_R, HVX_EPT_KIND_SHARED);
}

static int c_switch(struct fn *f)
{
	return fn_request(f, &f->nl, ept_msg(f, &f->nl, HVX_EPT_CMD_SWITCH, 0,
					     (int64_t)f->v[VIEW_ID]), NULL, NULL);
}

static int k_switch(struct fn *f)
{
	struct ept_snap now;

	if (refused(f))
		return same_as_before(f);
	if (snap(f, &now))
		return -1;
	if (f->kind == FN_LOST && now.active == before.active)
		return same_as_before(f);
	if (now.active != f->v[VIEW_ID])
		return fn_bad(f, "SWITCH succeeded but view %u is active", now.active);
	return 0;
}

static int c_ioc_memfd(struct fn *f)
{
	int fd;

	f->v[FDS_BEFORE] = fn_count_fds();
	fd = memfd_new(f);
	if (fd >= 0)
		f->v[NEW_FD] = fd + 1;
	return fn_ioctl_result(f, fd);
}

static int k_ioc_memfd(struct fn *f)
{
	unsigned int fds = fn_count_fds();

	if (refused(f) && fds != f->v[FDS_BEFORE])
		return fn_bad(f, "MEMFD failed (%s) but %u fds became %u",
			      strerror(-f->err), (unsigned int)f->v[FDS_BEFORE], fds);
	if (f->kind == FN_OK && fcntl((int)f->v[NEW_FD] - 1, F_GETFD) != FD_CLOEXEC)
		return fn_bad(f, "MEMFD succeeded without an O_CLOEXEC fd");
	return same_as_before(f);
}

static int c_ioc_switch(struct fn *f)
{
	struct hvx_ept_switch sw = {
		.size = sizeof(sw), .view_id = (uint32_t)f->v[VIEW_ID],
	};

	return fn_ioctl_result(f, ioctl((int)f->v[MEM_FD] - 1, HVX_EPT_IOC_SWITCH, &sw));
}

static const struct failnth_case ept_cases[] = {
	{ "VM_NEW", s_core, c_vm_new, k_vm_new, t_all },
	{ "VM_DEL", s_ept, c_vm_del, k_vm_del, t_all },
	{ "VM_GET", s_ept, c_vm_get, k_read, t_all },
	{ "VM_GET dump", s_ept, c_vm_dump, k_read, t_all },
	{ "VIEW_NEW", s_ept, c_view_new, k_view_new, t_all },
	{ "VIEW_DEL", s_view, c_view_del, k_view_del, t_all },
	{ "VIEW_GET", s_view, c_view_get, k_read, t_all },
	{ "VIEW_GET dump", s_view, c_view_dump, k_read, t_all },
	{ "MAP private", s_view, c_map_private, k_map_private, t_all },
	{ "MAP shared", s_ept, c_map_shared, k_map_shared, t_all },
	{ "SWITCH", s_view, c_switch, k_switch, t_all },
	{ "DUMP", s_mapped, c_ept_dump, k_read, t_all },
	{ "IOC_MEMFD", s_dev, c_ioc_memfd, k_ioc_memfd, t_all },
	{ "IOC_SWITCH", s_memfd, c_ioc_switch, k_switch, t_all },
};

static const struct failnth_table ept_table = {
	.name = "hvx_ept",
	.family = HVX_EPT_GENL_NAME,
	.cases = ept_cases,
	.n = sizeof(ept_cases) / sizeof(ept_cases[0]),
};
FAILNTH_TABLE(ept_table);
