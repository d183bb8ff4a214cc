// SPDX-License-Identifier: GPL-2.0
/*
 * vm_failnth cases for hvx_iommu (family "hvx_iommu" and /dev/hvx_iommu):
 * every genl command and every ioctl. VM_OPEN allocates; the VM fd's
 * DOORBELL, SET_IRQ and SUBMIT allocate nothing in the caller's context
 * today (the runner reports them as skipped), and are here so that an
 * allocation added to them is swept at once.
 *
 * The state a check compares is what user space can see of one VM: its
 * maps (MAP_GET dump), its counters (STATS_GET), its event and PPR logs
 * (the ring's registers and entries through mmap). Beyond "a refused
 * request changed nothing", two invariants catch half-done work: the
 * STATS domain and device counts equal the maps a dump lists, and a
 * refused MAP_ADD leaves its host ID free, so the same MAP_ADD without
 * injection must then succeed.
 *
 * One exception, by design: the per-VM state hvx_iommu attaches on first
 * use (STATS_GET answers instead of ENOENT) may stay after a MAP_ADD or
 * VM_OPEN that failed later on. It holds nothing (no map, no ring, zero
 * counters), is what the retry creates anyway, and goes with the VM; the
 * checks require it to be empty.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/hvx_iommu.h>

#include "failnth.h"

#define IOMMU_VM	"fnth-iommu"
#define IOMMU_DEV	"/dev/" HVX_IOMMU_DEV_NAME
/* Host IDs far from the ones vm_iommu uses, in case a VM of it lingers. */
#define G_DOM		0x0011
#define H_DOM		0xf011
#define G_DEV		0x0022
#define H_DEV		0xf022
#define RING_LOG2	HVX_IOMMU_RING_LOG2_MIN
#define MAPS_MAX	8

/* Slots of struct fn this table uses. */
enum { VM_ID, RING_FD, NEW_FD, FDS_BEFORE, DEV_FD };
/* f->p: the ring mapped read-only, the call's reply, (DOORBELL) rings mapped writable. */
enum { RING_MEM, RESULT, RING_RW };

/* The layout VM_OPEN gave the case's ring (one case runs at a time). */
static struct hvx_iommu_vm_open ring;

struct imap {
	uint32_t type;
	uint16_t guest, host;
};

struct istate {
	unsigned int n;
	struct imap m[MAPS_MAX];
	bool attached;		/* STATS_GET answers */
	uint32_t domains, devices;
	uint8_t ring;
	uint64_t stat[HVX_IOMMU_A_STATS_MAX + 1];
};

static bool refused(const struct fn *f)
{
	return f->kind == FN_ACK || f->kind == FN_SEND;
}

/* ---- requests ------------------------------------------------------------ */

static struct nl_msg *map_msg(struct fn_genl *g, uint8_t cmd, uint32_t vm,
			      uint32_t type, uint16_t guest, int host)
{
	struct nl_msg *msg = fn_msg(g, cmd, 0);

	if (!msg)
		return NULL;
	if (nla_put_u32(msg, HVX_IOMMU_A_MAP_VM_ID, vm) < 0 ||
	    nla_put_u32(msg, HVX_IOMMU_A_MAP_TYPE, type) < 0 ||
	    nla_put_u16(msg, HVX_IOMMU_A_MAP_GUEST_ID, guest) < 0 ||
	    (host >= 0 && nla_put_u16(msg, HVX_IOMMU_A_MAP_HOST_ID, host) < 0)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

/* One request on a fresh socket, without injection; returns -errno. */
static int plain_map(struct fn *f, uint8_t cmd, uint32_t type, uint16_t guest,
		     int host)
{
	struct fn tmp = { 0 };
	int ret;

	if (fn_genl_open(&tmp.nl, HVX_IOMMU_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_IOMMU_GENL_NAME);
	ret = fn_request(&tmp, &tmp.nl,
			 map_msg(&tmp.nl, cmd, (uint32_t)f->v[VM_ID], type,
				 guest, host), NULL, NULL);
	fn_genl_close(&tmp.nl);
	if (ret)
		snprintf(f->why, sizeof(f->why), "%s", tmp.extack);
	return ret;
}

static int parse_map(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_IOMMU_A_MAP_MAX + 1];
	struct istate *s = arg;

	if (fn_parse_attrs(nlh, tb, HVX_IOMMU_A_MAP_MAX) < 0 ||
	    !tb[HVX_IOMMU_A_MAP_TYPE] || !tb[HVX_IOMMU_A_MAP_GUEST_ID] ||
	    !tb[HVX_IOMMU_A_MAP_HOST_ID])
		return -1;
	if (s->n == MAPS_MAX)
		return 0;
	s->m[s->n].type = nla_get_u32(tb[HVX_IOMMU_A_MAP_TYPE]);
	s->m[s->n].guest = nla_get_u16(tb[HVX_IOMMU_A_MAP_GUEST_ID]);
	s->m[s->n].host = nla_get_u16(tb[HVX_IOMMU_A_MAP_HOST_ID]);
	s->n++;
	return 0;
}

static int parse_stats(struct nlmsghdr *nlh, struct istate *s)
{
	struct nlattr *tb[HVX_IOMMU_A_STATS_MAX + 1];
	int i;

	if (fn_parse_attrs(nlh, tb, HVX_IOMMU_A_STATS_MAX) < 0 ||
	    !tb[HVX_IOMMU_A_STATS_DOMAINS] || !tb[HVX_IOMMU_A_STATS_DEVICES] ||
	    !tb[HVX_IOMMU_A_STATS_RING])
		return -1;
	s->attached = true;
	s->domains = nla_get_u32(tb[HVX_IOMMU_A_STATS_DOMAINS]);
	s->devices = nla_get_u32(tb[HVX_IOMMU_A_STATS_DEVICES]);
	s->ring = nla_get_u8(tb[HVX_IOMMU_A_STATS_RING]);
	for (i = HVX_IOMMU_A_STATS_COMMANDS; i <= HVX_IOMMU_A_STATS_MAX; i++)
		s->stat[i] = tb[i] ? nla_get_u64(tb[i]) : 0;
	return 0;
}

static int parse_stats_one(struct nlmsghdr *nlh, void *arg)
{
	return parse_stats(nlh, arg);
}

/* A dump's entry for vm (in arg's first slot) fills the state after it. */
struct stats_pick {
	uint32_t vm;
	unsigned int seen;
	struct istate s;
};

static int parse_stats_pick(struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[HVX_IOMMU_A_STATS_MAX + 1];
	struct stats_pick *p = arg;

	if (fn_parse_attrs(nlh, tb, HVX_IOMMU_A_STATS_MAX) < 0 ||
	    !tb[HVX_IOMMU_A_STATS_VM_ID])
		return -1;
	if (nla_get_u32(tb[HVX_IOMMU_A_STATS_VM_ID]) != p->vm)
		return 0;
	p->seen++;
	return parse_stats(nlh, &p->s);
}

/* What user space sees of the case's VM, through uninjected sockets. */
static int state(struct fn *f, struct istate *s)
{
	uint32_t vm = (uint32_t)f->v[VM_ID];
	struct fn tmp = { 0 };
	struct nl_msg *msg;
	int ret;

	memset(s, 0, sizeof(*s));
	if (fn_genl_open(&tmp.nl, HVX_IOMMU_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_IOMMU_GENL_NAME);
	msg = fn_msg(&tmp.nl, HVX_IOMMU_CMD_MAP_GET, NLM_F_DUMP);
	if (msg && nla_put_u32(msg, HVX_IOMMU_A_MAP_VM_ID, vm) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = fn_request(&tmp, &tmp.nl, msg, parse_map, s);
	if (ret) {
		fn_genl_close(&tmp.nl);
		return fn_bad(f, "MAP_GET dump failed: %s %s", strerror(-ret),
			      tmp.extack);
	}
	msg = fn_msg(&tmp.nl, HVX_IOMMU_CMD_STATS_GET, 0);
	if (msg && nla_put_u32(msg, HVX_IOMMU_A_STATS_VM_ID, vm) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	ret = fn_request(&tmp, &tmp.nl, msg, parse_stats_one, s);
	fn_genl_close(&tmp.nl);
	if (ret && ret != -ENOENT)
		return fn_bad(f, "STATS_GET failed: %s %s", strerror(-ret),
			      tmp.extack);
	if (!s->attached && s->n)
		return fn_bad(f, "the dump lists %u maps of a VM without IOMMU state",
			      s->n);
	return 0;
}

static unsigned int count_type(const struct istate *s, uint32_t type)
{
	unsigned int i, n = 0;

	for (i = 0; i < s->n; i++)
		n += s->m[i].type == type;
	return n;
}

static const struct imap *find_map(const struct istate *s, uint32_t type,
				   uint16_t guest)
{
	unsigned int i;

	for (i = 0; i < s->n; i++)
		if (s->m[i].type == type && s->m[i].guest == guest)
			return &s->m[i];
	return NULL;
}

/* The counters agree with the maps; an attachment without maps is empty. */
static int consistent(struct fn *f, const struct istate *s)
{
	int i;

	if (!s->attached)
		return 0;
	if (s->domains != count_type(s, HVX_IOMMU_MAP_DOMAIN) ||
	    s->devices != count_type(s, HVX_IOMMU_MAP_DEVICE))
		return fn_bad(f, "STATS counts %u domains and %u devices, the dump lists %u and %u",
			      s->domains, s->devices,
			      count_type(s, HVX_IOMMU_MAP_DOMAIN),
			      count_type(s, HVX_IOMMU_MAP_DEVICE));
	if (!f->v[RING_FD] && s->ring)
		return fn_bad(f, "STATS says a ring is open; the case opened none");
	for (i = HVX_IOMMU_A_STATS_COMMANDS; i <= HVX_IOMMU_A_STATS_MAX; i++)
		if (i != HVX_IOMMU_A_STATS_EVENTS && i != HVX_IOMMU_A_STATS_PPRS &&
		    i != HVX_IOMMU_A_STATS_COMMANDS &&
		    i != HVX_IOMMU_A_STATS_PAD && s->stat[i])
			return fn_bad(f, "counter %d is %llu; nothing ran that counts it",
				      i, (unsigned long long)s->stat[i]);
	return 0;
}

static int has_map(struct fn *f, const struct istate *s, uint32_t type,
		   uint16_t guest, uint16_t host)
{
	const struct imap *m = find_map(s, type, guest);

	if (!m || m->host != host)
		return fn_bad(f, "map %u:%#x->%#x missing (%u maps listed)", type,
			      guest, host, s->n);
	return 0;
}

/* ---- setup and teardown ---------------------------------------------------- */

static int vm_setup(struct fn *f)
{
	uint32_t id;

	if (fn_vm_make(f, IOMMU_VM, &id))
		return -1;
	f->v[VM_ID] = id;
	return 0;
}

static int setup_map(struct fn *f, uint32_t type, uint16_t guest, uint16_t host)
{
	int ret = plain_map(f, HVX_IOMMU_CMD_MAP_ADD, type, guest, host);

	if (ret)
		return fn_bad(f, "MAP_ADD in setup failed: %s %s", strerror(-ret),
			      f->why);
	return 0;
}

static int vm_maps_setup(struct fn *f)
{
	if (vm_setup(f) || setup_map(f, HVX_IOMMU_MAP_DOMAIN, G_DOM, H_DOM) ||
	    setup_map(f, HVX_IOMMU_MAP_DEVICE, G_DEV, H_DEV))
		return -1;
	return 0;
}

/* VM_OPEN on an open /dev/hvx_iommu; returns -errno. */
static int vm_open(struct fn *f, int dev, struct hvx_iommu_vm_open *a)
{
	memset(a, 0, sizeof(*a));
	a->size = sizeof(*a);
	a->vm_id = (uint32_t)f->v[VM_ID];
	a->cmd_log2 = RING_LOG2;
	a->evt_log2 = RING_LOG2;
	a->ppr_log2 = RING_LOG2;
	return ioctl(dev, HVX_IOMMU_VM_OPEN, a) < 0 ? -errno : 0;
}

static int dev_open(struct fn *f)
{
	int fd = open(IOMMU_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return fn_bad(f, "%s: %s", IOMMU_DEV, strerror(errno));
	f->v[DEV_FD] = fd;
	return 0;
}

/* A VM with both maps and its rings open and mapped. */
static int ring_setup(struct fn *f)
{
	struct hvx_iommu_vm_open a;
	void *mem;
	int ret;

	if (vm_maps_setup(f) || dev_open(f))
		return -1;
	ret = vm_open(f, (int)f->v[DEV_FD], &a);
	if (ret)
		return fn_bad(f, "VM_OPEN in setup failed: %s", strerror(-ret));
	f->v[RING_FD] = a.out_fd;
	ring = a;
	/* Read-only up to the host ring, which may only be mapped so. */
	mem = mmap(NULL, a.out_map_size, PROT_READ, MAP_SHARED, a.out_fd, 0);
	if (mem == MAP_FAILED)
		return fn_bad(f, "mmap of the rings: %s", strerror(errno));
	f->p[RING_MEM] = mem;
	return 0;
}

static void vm_teardown(struct fn *f)
{
	if (f->p[RING_RW])
		munmap(f->p[RING_RW], ring.out_host_offset);
	if (f->p[RING_MEM])
		munmap(f->p[RING_MEM], ring.out_map_size);
	if (f->v[RING_FD])
		close((int)f->v[RING_FD]);
	if (f->v[NEW_FD])
		close((int)f->v[NEW_FD]);
	if (f->v[DEV_FD])
		close((int)f->v[DEV_FD]);
	fn_vm_del(IOMMU_VM);
}

/* ---- MAP_ADD --------------------------------------------------------------- */

static int map_add(struct fn *f, uint32_t type, uint16_t guest, uint16_t host)
{
	return fn_request(f, &f->nl, map_msg(&f->nl, HVX_IOMMU_CMD_MAP_ADD,
					     (uint32_t)f->v[VM_ID], type,
					     guest, host), NULL, NULL);
}

static int map_add_check(struct fn *f, uint32_t type, uint16_t guest,
			 uint16_t host)
{
	struct istate s;
	int ret;

	if (state(f, &s) || consistent(f, &s))
		return -1;
	if (f->kind == FN_OK || (f->kind == FN_LOST && find_map(&s, type, guest)))
		return s.n == 1 ? has_map(f, &s, type, guest, host) :
		       fn_bad(f, "MAP_ADD made %u maps", s.n);
	if (s.n)
		return fn_bad(f, "MAP_ADD failed (%s) but %u maps are listed",
			      strerror(-f->err), s.n);
	/* Nothing half-made: the guest ID and the host ID are both free. */
	ret = plain_map(f, HVX_IOMMU_CMD_MAP_ADD, type, guest, host);
	if (ret)
		return fn_bad(f, "MAP_ADD failed (%s), and without injection it then fails: %s %s",
			      strerror(-f->err), strerror(-ret), f->why);
	if (state(f, &s) || consistent(f, &s))
		return -1;
	return has_map(f, &s, type, guest, host);
}

static int add_dom_call(struct fn *f)
{
	return map_add(f, HVX_IOMMU_MAP_DOMAIN, G_DOM, H_DOM);
}

static int add_dom_check(struct fn *f)
{
	return map_add_check(f, HVX_IOMMU_MAP_DOMAIN, G_DOM, H_DOM);
}

static int add_dev_call(struct fn *f)
{
	return map_add(f, HVX_IOMMU_MAP_DEVICE, G_DEV, H_DEV);
}

static int add_dev_check(struct fn *f)
{
	return map_add_check(f, HVX_IOMMU_MAP_DEVICE, G_DEV, H_DEV);
}

/* ---- MAP_DEL --------------------------------------------------------------- */

static int del_call(struct fn *f)
{
	return fn_request(f, &f->nl, map_msg(&f->nl, HVX_IOMMU_CMD_MAP_DEL,
					     (uint32_t)f->v[VM_ID],
					     HVX_IOMMU_MAP_DOMAIN, G_DOM, -1),
			  NULL, NULL);
}

static int del_check(struct fn *f)
{
	struct istate s;
	int ret;

	if (state(f, &s) || consistent(f, &s))
		return -1;
	if (has_map(f, &s, HVX_IOMMU_MAP_DEVICE, G_DEV, H_DEV))
		return -1;
	if (refused(f) || (f->kind == FN_LOST &&
			   find_map(&s, HVX_IOMMU_MAP_DOMAIN, G_DOM)))
		return has_map(f, &s, HVX_IOMMU_MAP_DOMAIN, G_DOM, H_DOM);
	if (s.n != 1)
		return fn_bad(f, "MAP_DEL succeeded but %u maps are listed", s.n);
	/* The host ID is released with the map. */
	ret = plain_map(f, HVX_IOMMU_CMD_MAP_ADD, HVX_IOMMU_MAP_DOMAIN, G_DOM + 1,
			H_DOM);
	if (ret)
		return fn_bad(f, "host domain %#x not free after MAP_DEL: %s %s",
			      H_DOM, strerror(-ret), f->why);
	return 0;
}

/* ---- MAP_GET dump ---------------------------------------------------------- */

static int dump_call(struct fn *f)
{
	static struct istate got;
	struct nl_msg *msg = fn_msg(&f->nl, HVX_IOMMU_CMD_MAP_GET, NLM_F_DUMP);

	memset(&got, 0, sizeof(got));
	f->p[RESULT] = &got;
	if (msg && nla_put_u32(msg, HVX_IOMMU_A_MAP_VM_ID, (uint32_t)f->v[VM_ID]) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, parse_map, &got);
}

static int two_maps(struct fn *f, const struct istate *s)
{
	if (s->n != 2 || has_map(f, s, HVX_IOMMU_MAP_DOMAIN, G_DOM, H_DOM) ||
	    has_map(f, s, HVX_IOMMU_MAP_DEVICE, G_DEV, H_DEV))
		return fn_bad(f, "%u maps listed, want the domain and the device map",
			      s->n);
	return 0;
}

static int dump_check(struct fn *f)
{
	struct istate s;

	if (state(f, &s) || consistent(f, &s) || two_maps(f, &s))
		return -1;
	if (f->kind == FN_OK && two_maps(f, f->p[RESULT]))
		return fn_bad(f, "MAP_GET dump succeeded without both maps: %s", f->why);
	return 0;
}

/* ---- STATS_GET do and dump ------------------------------------------------- */

static int stats_do_call(struct fn *f)
{
	static struct istate got;
	struct nl_msg *msg = fn_msg(&f->nl, HVX_IOMMU_CMD_STATS_GET, 0);

	memset(&got, 0, sizeof(got));
	f->p[RESULT] = &got;
	if (msg && nla_put_u32(msg, HVX_IOMMU_A_STATS_VM_ID, (uint32_t)f->v[VM_ID]) < 0) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, parse_stats_one, &got);
}

static int stats_got(struct fn *f, const struct istate *got)
{
	if (!got->attached || got->domains != 1 || got->devices != 1 || got->ring)
		return fn_bad(f, "STATS_GET succeeded with %u domains, %u devices, ring %u",
			      got->domains, got->devices, got->ring);
	return 0;
}

static int stats_do_check(struct fn *f)
{
	struct istate s;

	if (state(f, &s) || consistent(f, &s) || two_maps(f, &s))
		return -1;
	return f->kind == FN_OK ? stats_got(f, f->p[RESULT]) : 0;
}

static int stats_dump_call(struct fn *f)
{
	static struct stats_pick pick;

	memset(&pick, 0, sizeof(pick));
	pick.vm = (uint32_t)f->v[VM_ID];
	f->p[RESULT] = &pick;
	return fn_request(f, &f->nl,
			  fn_msg(&f->nl, HVX_IOMMU_CMD_STATS_GET, NLM_F_DUMP),
			  parse_stats_pick, &pick);
}

static int stats_dump_check(struct fn *f)
{
	const struct stats_pick *pick = f->p[RESULT];
	struct istate s;

	if (state(f, &s) || consistent(f, &s) || two_maps(f, &s))
		return -1;
	if (f->kind != FN_OK)
		return 0;
	if (pick->seen != 1)
		return fn_bad(f, "STATS_GET dump listed VM %u %u times",
			      pick->vm, pick->seen);
	return stats_got(f, &pick->s);
}

/* ---- INJECT ---------------------------------------------------------------- */

static uint64_t reg(struct fn *f, unsigned int off)
{
	return ((volatile uint64_t *)f->p[RING_MEM])[off / sizeof(uint64_t)];
}

static int inject(struct fn *f, uint32_t log, const uint32_t e[4])
{
	struct nl_msg *msg = fn_msg(&f->nl, HVX_IOMMU_CMD_INJECT, 0);

	if (msg && (nla_put_u32(msg, HVX_IOMMU_A_INJECT_VM_ID, (uint32_t)f->v[VM_ID]) < 0 ||
		    nla_put_u32(msg, HVX_IOMMU_A_INJECT_LOG, log) < 0 ||
		    nla_put(msg, HVX_IOMMU_A_INJECT_ENTRY, HVX_IOMMU_ENTRY_SIZE, e) < 0)) {
		nlmsg_free(msg);
		msg = NULL;
	}
	return fn_request(f, &f->nl, msg, NULL, NULL);
}

/*
 * After an inject into an empty log: either nothing (tail 0, counter 0)
 * or exactly one entry, its device ID translated back to the guest's.
 */
static int inject_check(struct fn *f, unsigned int tail_reg, uint64_t off,
			int counter, const char *what)
{
	const uint32_t *entry = (const uint32_t *)((char *)f->p[RING_MEM] + off);
	uint64_t tail = reg(f, tail_reg) & HVX_IOMMU_PTR_MASK;
	struct istate s;

	if (state(f, &s) || consistent(f, &s) || two_maps(f, &s))
		return -1;
	if (!s.ring)
		return fn_bad(f, "STATS says the ring is gone");
	if (refused(f) || (f->kind == FN_LOST && !tail)) {
		if (tail || s.stat[counter])
			return fn_bad(f, "%s refused (%s) but the tail is %#llx, counter %llu",
				      what, strerror(-f->err),
				      (unsigned long long)tail,
				      (unsigned long long)s.stat[counter]);
		return 0;
	}
	if (tail != HVX_IOMMU_ENTRY_SIZE || s.stat[counter] != 1)
		return fn_bad(f, "%s done but the tail is %#llx, counter %llu", what,
			      (unsigned long long)tail,
			      (unsigned long long)s.stat[counter]);
	if ((entry[0] & 0xffff) != G_DEV)
		return fn_bad(f, "%s entry names device %#x, want the guest's %#x",
			      what, entry[0] & 0xffff, G_DEV);
	return 0;
}

static int inject_evt_call(struct fn *f)
{
	const uint32_t e[4] = {
		H_DEV, (uint32_t)HVX_IOMMU_EV_ILLEGAL_DEV_TABLE_ENTRY << 28, 0, 0,
	};

	return inject(f, HVX_IOMMU_LOG_EVENT, e);
}

static int inject_evt_check(struct fn *f)
{
	return inject_check(f, HVX_IOMMU_REG_EVT_TAIL, ring.out_evt_offset,
			    HVX_IOMMU_A_STATS_EVENTS, "event");
}

static int inject_ppr_call(struct fn *f)
{
	const uint32_t e[4] = {
		H_DEV, (uint32_t)HVX_IOMMU_PPR_REQUEST << 28, 0, 0,
	};

	return inject(f, HVX_IOMMU_LOG_PPR, e);
}

static int inject_ppr_check(struct fn *f)
{
	return inject_check(f, HVX_IOMMU_REG_PPR_TAIL, ring.out_ppr_offset,
			    HVX_IOMMU_A_STATS_PPRS, "PPR request");
}

/* ---- the VM fd's ioctls --------------------------------------------------- */

/* INVALIDATE_DEVTAB_ENTRY for the guest's device: translated to the host's. */
static const uint32_t inv_dte[4] = {
	G_DEV, (uint32_t)HVX_IOMMU_CMD_INVALIDATE_DEVTAB_ENTRY << 28, 0, 0,
};

/* One command through the host ring: there (translated) or not at all. */
static int host_check(struct fn *f, const char *what)
{
	const uint32_t *host = (const uint32_t *)((char *)f->p[RING_MEM] + ring.out_host_offset);
	uint64_t tail = reg(f, HVX_IOMMU_REG_HOST_TAIL) & HVX_IOMMU_PTR_MASK;
	struct istate s;

	if (state(f, &s) || consistent(f, &s) || two_maps(f, &s))
		return -1;
	if (f->kind != FN_OK) {
		if (tail || s.stat[HVX_IOMMU_A_STATS_COMMANDS])
			return fn_bad(f, "%s failed (%s) but the host tail is %#llx, %llu commands",
				      what, strerror(-f->err), (unsigned long long)tail,
				      (unsigned long long)s.stat[HVX_IOMMU_A_STATS_COMMANDS]);
		return 0;
	}
	if (tail != HVX_IOMMU_ENTRY_SIZE || s.stat[HVX_IOMMU_A_STATS_COMMANDS] != 1)
		return fn_bad(f, "%s done but the host tail is %#llx, %llu commands", what,
			      (unsigned long long)tail,
			      (unsigned long long)s.stat[HVX_IOMMU_A_STATS_COMMANDS]);
	if ((host[0] & 0xffff) != H_DEV)
		return fn_bad(f, "host command names device %#x, want %#x",
			      host[0] & 0xffff, H_DEV);
	return 0;
}

static int submit_call(struct fn *f)
{
	static struct hvx_iommu_submit a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	memcpy(a.cmd, inv_dte, sizeof(a.cmd));
	f->p[RESULT] = &a;
	return fn_ioctl_result(f, ioctl((int)f->v[RING_FD], HVX_IOMMU_SUBMIT, &a));
}

static int submit_check(struct fn *f)
{
	const struct hvx_iommu_submit *a = f->p[RESULT];

	if (f->kind == FN_OK && (a->out_cmd[0] & 0xffff) != H_DEV)
		return fn_bad(f, "SUBMIT returned device %#x, want %#x",
			      a->out_cmd[0] & 0xffff, H_DEV);
	return host_check(f, "SUBMIT");
}

/* The command in the guest's buffer and its tail moved: the doorbell is due. */
static int doorbell_setup(struct fn *f)
{
	uint64_t *regs;
	void *rw;

	if (ring_setup(f))
		return -1;
	rw = mmap(NULL, ring.out_host_offset, PROT_READ | PROT_WRITE, MAP_SHARED,
		  (int)f->v[RING_FD], 0);
	if (rw == MAP_FAILED)
		return fn_bad(f, "writable mmap of the rings: %s", strerror(errno));
	f->p[RING_RW] = rw;
	memcpy((char *)rw + HVX_IOMMU_REG_SIZE, inv_dte, sizeof(inv_dte));
	regs = rw;
	__atomic_store_n(&regs[HVX_IOMMU_REG_CMD_TAIL / 8], HVX_IOMMU_ENTRY_SIZE,
			 __ATOMIC_RELEASE);
	return 0;
}

static int doorbell_call(struct fn *f)
{
	struct hvx_iommu_doorbell a = {
		.size = sizeof(a), .flags = HVX_IOMMU_DOORBELL_SYNC,
	};

	return fn_ioctl_result(f, ioctl((int)f->v[RING_FD], HVX_IOMMU_DOORBELL, &a));
}

static int doorbell_check(struct fn *f)
{
	uint64_t head = reg(f, HVX_IOMMU_REG_CMD_HEAD) & HVX_IOMMU_PTR_MASK;

	if (f->kind == FN_OK && head != HVX_IOMMU_ENTRY_SIZE)
		return fn_bad(f, "DOORBELL done but the command head is %#llx",
			      (unsigned long long)head);
	return host_check(f, "DOORBELL");
}

static int irq_setup(struct fn *f)
{
	int efd;

	if (ring_setup(f))
		return -1;
	efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (efd < 0)
		return fn_bad(f, "eventfd: %s", strerror(errno));
	f->v[NEW_FD] = efd;
	return 0;
}

static int irq_call(struct fn *f)
{
	struct hvx_iommu_set_irq a = {
		.size = sizeof(a), .irq = HVX_IOMMU_IRQ_EVT, .fd = (int)f->v[NEW_FD],
	};

	return fn_ioctl_result(f, ioctl((int)f->v[RING_FD], HVX_IOMMU_SET_IRQ, &a));
}

/* Attached or not: an event delivered now signals the eventfd, or not. */
static int irq_check(struct fn *f)
{
	const uint32_t e[4] = {
		H_DEV, (uint32_t)HVX_IOMMU_EV_ILLEGAL_DEV_TABLE_ENTRY << 28, 0, 0,
	};
	struct fn tmp = { 0 };
	uint64_t n = 0;
	ssize_t got;
	int ret;

	if (fn_genl_open(&tmp.nl, HVX_IOMMU_GENL_NAME))
		return fn_bad(f, "cannot open a %s socket", HVX_IOMMU_GENL_NAME);
	tmp.v[VM_ID] = f->v[VM_ID];
	ret = inject(&tmp, HVX_IOMMU_LOG_EVENT, e);
	fn_genl_close(&tmp.nl);
	if (ret)
		return fn_bad(f, "INJECT after SET_IRQ failed: %s %s", strerror(-ret),
			      tmp.extack);
	got = read((int)f->v[NEW_FD], &n, sizeof(n));
	if (f->kind == FN_OK && (got != sizeof(n) || n != 1))
		return fn_bad(f, "SET_IRQ done but the event did not signal the eventfd");
	if (f->kind != FN_OK && got >= 0)
		return fn_bad(f, "SET_IRQ failed (%s) but the eventfd was signalled",
			      strerror(-f->err));
	return 0;
}

/* ---- VM_OPEN ioctl --------------------------------------------------------- */

static int open_setup(struct fn *f)
{
	if (vm_maps_setup(f) || dev_open(f))
		return -1;
	f->v[FDS_BEFORE] = fn_count_fds();
	return 0;
}

static int open_call(struct fn *f)
{
	struct hvx_iommu_vm_open a;
	int ret = vm_open(f, (int)f->v[DEV_FD], &a);

	fn_ioctl_result(f, ret ? -1 : 0);
	f->err = ret;
	if (!ret)
		f->v[NEW_FD] = a.out_fd;
	return ret;
}

static int open_check(struct fn *f)
{
	struct hvx_iommu_vm_open a;
	unsigned int fds = fn_count_fds();
	struct istate s;
	int ret;

	if (state(f, &s) || two_maps(f, &s))
		return -1;
	if (f->kind == FN_OK) {
		if (!s.ring)
			return fn_bad(f, "VM_OPEN succeeded but STATS shows no ring");
		if (fcntl((int)f->v[NEW_FD], F_GETFD) < 0)
			return fn_bad(f, "VM_OPEN returned fd %llu, which is not open",
				      (unsigned long long)f->v[NEW_FD]);
		return 0;
	}
	if (fds != f->v[FDS_BEFORE])
		return fn_bad(f, "VM_OPEN failed (%s) but %u fds became %u",
			      strerror(-f->err), (unsigned int)f->v[FDS_BEFORE], fds);
	if (s.ring)
		return fn_bad(f, "VM_OPEN failed (%s) but STATS shows a ring",
			      strerror(-f->err));
	if (consistent(f, &s))
		return -1;
	/* No ring half-attached: opening again must work. */
	ret = vm_open(f, (int)f->v[DEV_FD], &a);
	if (ret)
		return fn_bad(f, "VM_OPEN failed (%s), and without injection then fails: %s",
			      strerror(-f->err), strerror(-ret));
	f->v[NEW_FD] = a.out_fd;
	return 0;
}

static const struct failnth_case iommu_cases[] = {
	{ "MAP_ADD domain", vm_setup, add_dom_call, add_dom_check, vm_teardown },
	{ "MAP_ADD device", vm_setup, add_dev_call, add_dev_check, vm_teardown },
	{ "MAP_DEL", vm_maps_setup, del_call, del_check, vm_teardown },
	{ "MAP_GET dump", vm_maps_setup, dump_call, dump_check, vm_teardown },
	{ "STATS_GET", vm_maps_setup, stats_do_call, stats_do_check, vm_teardown },
	{ "STATS_GET dump", vm_maps_setup, stats_dump_call, stats_dump_check,
	  vm_teardown },
	{ "INJECT event", ring_setup, inject_evt_call, inject_evt_check,
	  vm_teardown },
	{ "INJECT ppr", ring_setup, inject_ppr_call, inject_ppr_check,
	  vm_teardown },
	{ "VM_OPEN", open_setup, open_call, open_check, vm_teardown },
	{ "SUBMIT", ring_setup, submit_call, submit_check, vm_teardown },
	{ "DOORBELL", doorbell_setup, doorbell_call, doorbell_check, vm_teardown },
	{ "SET_IRQ", irq_setup, irq_call, irq_check, vm_teardown },
};

static const struct failnth_table iommu_table = {
	.name = "hvx_iommu",
	.family = HVX_IOMMU_GENL_NAME,
	.cases = iommu_cases,
	.n = sizeof(iommu_cases) / sizeof(iommu_cases[0]),
};
FAILNTH_TABLE(iommu_table);
