// SPDX-License-Identifier: GPL-2.0
/* hvxctl iommu: guest<->host domain and device ID maps (family hvx_iommu). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/hvx_iommu.h>

#include "hvxctl.h"

static const char *const type_names[] = {
	[HVX_IOMMU_MAP_DOMAIN] = "domain",
	[HVX_IOMMU_MAP_DEVICE] = "device",
};

/* Stats attributes in the order printed, with their JSON keys. */
static const struct {
	int attr;
	const char *key;
} counters[] = {
	{ HVX_IOMMU_A_STATS_COMMANDS, "commands" },
	{ HVX_IOMMU_A_STATS_ERRORS, "errors" },
	{ HVX_IOMMU_A_STATS_COMPLETION_WAITS, "completion_waits" },
	{ HVX_IOMMU_A_STATS_EVENTS, "events" },
	{ HVX_IOMMU_A_STATS_PPRS, "pprs" },
	{ HVX_IOMMU_A_STATS_DROPPED, "dropped" },
	{ HVX_IOMMU_A_STATS_OVERFLOWS, "overflows" },
};

#define N_COUNTERS (sizeof(counters) / sizeof(counters[0]))

static int parse_type(struct hvxctl *c, const char *s, uint32_t *type)
{
	if (!strcmp(s, "domain") || !strcmp(s, "dom"))
		*type = HVX_IOMMU_MAP_DOMAIN;
	else if (!strcmp(s, "device") || !strcmp(s, "dev"))
		*type = HVX_IOMMU_MAP_DEVICE;
	else
		return hvxctl_usage(c, "invalid map type \"%s\" (domain, device)", s);
	return 0;
}

/*
 * A 16-bit ID: a number (decimal or 0x...), or for devices a PCI
 * bus:device.function as lspci prints it (8a:00.3).
 */
static int parse_id(struct hvxctl *c, const char *s, uint32_t type,
		    const char *what, uint16_t *id)
{
	unsigned int bus, dev, fn;
	unsigned long n;
	char *end;
	int len = 0;

	if (type == HVX_IOMMU_MAP_DEVICE && strchr(s, ':')) {
		/* sscanf's %x would take a sign or blanks: digits only. */
		if (s[strspn(s, "0123456789abcdefABCDEF:.")] ||
		    sscanf(s, "%2x:%2x.%1u%n", &bus, &dev, &fn, &len) != 3 ||
		    s[len] || bus > 0xff || dev > 31 || fn > 7)
			return hvxctl_usage(c, "invalid %s \"%s\" (BB:DD.F or a number)",
					    what, s);
		*id = bus << 8 | dev << 3 | fn;
		return 0;
	}
	errno = 0;
	n = strtoul(s, &end, 0);
	if (!*s || *s == '-' || *end || errno || n > 0xffff)
		return hvxctl_usage(c, "invalid %s \"%s\" (0 to 0xffff)", what, s);
	*id = n;
	return 0;
}

static void format_id(char *buf, size_t len, uint32_t type, uint64_t id)
{
	if (type == HVX_IOMMU_MAP_DEVICE)
		snprintf(buf, len, "%02x:%02x.%u", (unsigned int)(id >> 8),
			 (unsigned int)(id >> 3) & 31, (unsigned int)id & 7);
	else
		snprintf(buf, len, "%#" PRIx64, id);
}

static struct json_object *map_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_IOMMU_A_MAP_MAX + 1];
	struct json_object *o;
	uint32_t type;

	*err = hvx_nl_parse(nlh, HVX_IOMMU_A_MAP_MAX, NULL, tb);
	if (*err)
		return NULL;
	if (!tb[HVX_IOMMU_A_MAP_VM_ID] || !tb[HVX_IOMMU_A_MAP_TYPE] ||
	    !tb[HVX_IOMMU_A_MAP_GUEST_ID] || !tb[HVX_IOMMU_A_MAP_HOST_ID]) {
		*err = -EBADMSG;
		return NULL;
	}
	type = nla_get_u32(tb[HVX_IOMMU_A_MAP_TYPE]);
	if (type != HVX_IOMMU_MAP_DOMAIN && type != HVX_IOMMU_MAP_DEVICE) {
		*err = -EBADMSG;
		return NULL;
	}
	o = json_object_new_object();
	if (!o ||
	    hvx_json_add_u64(o, "vm_id", nla_get_u32(tb[HVX_IOMMU_A_MAP_VM_ID])) ||
	    hvx_json_add_str(o, "type", type_names[type]) ||
	    hvx_json_add_u64(o, "guest_id", nla_get_u16(tb[HVX_IOMMU_A_MAP_GUEST_ID])) ||
	    hvx_json_add_u64(o, "host_id", nla_get_u16(tb[HVX_IOMMU_A_MAP_HOST_ID]))) {
		json_object_put(o);
		*err = -ENOMEM;
		return NULL;
	}
	return o;
}

static struct json_object *stats_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_IOMMU_A_STATS_MAX + 1];
	struct json_object *o;
	size_t i;

	*err = hvx_nl_parse(nlh, HVX_IOMMU_A_STATS_MAX, NULL, tb);
	if (*err)
		return NULL;
	if (!tb[HVX_IOMMU_A_STATS_VM_ID] || !tb[HVX_IOMMU_A_STATS_DOMAINS] ||
	    !tb[HVX_IOMMU_A_STATS_DEVICES] || !tb[HVX_IOMMU_A_STATS_RING]) {
		*err = -EBADMSG;
		return NULL;
	}
	o = json_object_new_object();
	if (!o ||
	    hvx_json_add_u64(o, "vm_id", nla_get_u32(tb[HVX_IOMMU_A_STATS_VM_ID])) ||
	    hvx_json_add_u64(o, "domains", nla_get_u32(tb[HVX_IOMMU_A_STATS_DOMAINS])) ||
	    hvx_json_add_u64(o, "devices", nla_get_u32(tb[HVX_IOMMU_A_STATS_DEVICES])) ||
	    hvx_json_add_bool(o, "rings", nla_get_u8(tb[HVX_IOMMU_A_STATS_RING])))
		goto nomem;
	for (i = 0; i < N_COUNTERS; i++) {
		struct nlattr *a = tb[counters[i].attr];

		if (!a || nla_len(a) != sizeof(uint64_t)) {
			json_object_put(o);
			*err = -EBADMSG;
			return NULL;
		}
		if (hvx_json_add_u64(o, counters[i].key, nla_get_u64(a)))
			goto nomem;
	}
	return o;
nomem:
	json_object_put(o);
	*err = -ENOMEM;
	return NULL;
}

static void text_maps(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *m = json_object_array_get_idx(arr, i);
		const char *t = hvx_json_text(m, "type", "?");
		uint32_t type = strcmp(t, "device") ? HVX_IOMMU_MAP_DOMAIN :
						      HVX_IOMMU_MAP_DEVICE;
		char g[16], h[16];

		format_id(g, sizeof(g), type, hvx_json_u64(m, "guest_id"));
		format_id(h, sizeof(h), type, hvx_json_u64(m, "host_id"));
		printf("vm %" PRIu64 " %-6s guest %-7s -> host %s\n",
		       hvx_json_u64(m, "vm_id"), t, g, h);
	}
}

static void text_stats(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		struct json_object *s = json_object_array_get_idx(arr, i);
		bool rings = json_object_get_boolean(json_object_object_get(s, "rings"));

		printf("vm %" PRIu64 ": %" PRIu64 " domain maps, %" PRIu64
		       " device maps, rings %s\n", hvx_json_u64(s, "vm_id"),
		       hvx_json_u64(s, "domains"), hvx_json_u64(s, "devices"),
		       rings ? "open" : "closed");
		printf("   ");
		for (size_t j = 0; j < N_COUNTERS; j++)
			printf(" %s %" PRIu64, counters[j].key,
			       hvx_json_u64(s, counters[j].key));
		printf("\n");
	}
}

static int too_many(struct hvxctl *c, int argc, char **argv)
{
	return argc ? hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]) : 0;
}

struct args {
	uint32_t vm, type;
	uint16_t guest, host;
	bool has_vm;
};

/* VM TYPE GUEST [HOST]: the arguments of map add (@host) and map del. */
static int parse_map(struct hvxctl *c, int argc, char **argv, bool host,
		     struct args *a)
{
	int n = host ? 4 : 3, ret;

	if (argc < n)
		return hvxctl_usage(c, host ? "need VM TYPE GUEST HOST" :
					      "need VM TYPE GUEST");
	ret = hvxctl_parse_u32(c, argv[0], "VM id", &a->vm);
	if (!ret)
		ret = parse_type(c, argv[1], &a->type);
	if (!ret)
		ret = parse_id(c, argv[2], a->type, "guest ID", &a->guest);
	if (!ret && host)
		ret = parse_id(c, argv[3], a->type, "host ID", &a->host);
	if (!ret)
		ret = too_many(c, argc - n, argv + n);
	a->has_vm = true;
	return ret;
}

/* [VM]: a VM id to filter on, all VMs without. */
static int parse_vm(struct hvxctl *c, int argc, char **argv, struct args *a)
{
	int ret;

	if (!argc)
		return 0;
	ret = hvxctl_parse_u32(c, argv[0], "VM id", &a->vm);
	if (!ret)
		ret = too_many(c, argc - 1, argv + 1);
	a->has_vm = true;
	return ret;
}

enum verb { MAP_ADD, MAP_DEL, MAP_LIST, STATS };

static int put_args(struct nl_msg *msg, enum verb verb, const struct args *a)
{
	if (verb == STATS)
		return a->has_vm ?
		       nla_put_u32(msg, HVX_IOMMU_A_STATS_VM_ID, a->vm) : 0;
	if (a->has_vm && nla_put_u32(msg, HVX_IOMMU_A_MAP_VM_ID, a->vm) < 0)
		return -EMSGSIZE;
	if (verb == MAP_LIST)
		return 0;
	if (nla_put_u32(msg, HVX_IOMMU_A_MAP_TYPE, a->type) < 0 ||
	    nla_put_u16(msg, HVX_IOMMU_A_MAP_GUEST_ID, a->guest) < 0 ||
	    (verb == MAP_ADD &&
	     nla_put_u16(msg, HVX_IOMMU_A_MAP_HOST_ID, a->host) < 0))
		return -EMSGSIZE;
	return 0;
}

static int run(struct hvxctl *c, enum verb verb, int argc, char **argv)
{
	static const uint8_t cmds[] = {
		[MAP_ADD] = HVX_IOMMU_CMD_MAP_ADD,
		[MAP_DEL] = HVX_IOMMU_CMD_MAP_DEL,
		[MAP_LIST] = HVX_IOMMU_CMD_MAP_GET,
		[STATS] = HVX_IOMMU_CMD_STATS_GET,
	};
	struct json_object *arr = NULL;
	struct args a = { 0 };
	struct hvx_nl *nl;
	struct nl_msg *msg;
	int ret, flags = 0;

	if (verb == MAP_ADD || verb == MAP_DEL)
		ret = parse_map(c, argc, argv, verb == MAP_ADD, &a);
	else
		ret = parse_vm(c, argc, argv, &a);
	if (ret)
		return ret;
	/* One VM's stats is a do; all VMs' a dump, as is every map list. */
	if (verb == MAP_LIST || (verb == STATS && !a.has_vm))
		flags = NLM_F_DUMP;
	ret = hvxctl_nl_open(c, &nl, HVX_IOMMU_GENL_NAME, HVX_IOMMU_GENL_VERSION);
	if (ret)
		return ret;
	msg = hvx_nl_msg(nl, cmds[verb], flags);
	if (!msg || put_args(msg, verb, &a)) {
		nlmsg_free(msg);
		ret = hvxctl_fail(c, -EMSGSIZE, "building request");
		goto out;
	}
	if (verb == MAP_ADD || verb == MAP_DEL) {
		ret = hvxctl_nl_request(c, nl, msg, NULL, NULL);
		goto out;
	}
	ret = hvxctl_nl_request(c, nl, msg, verb == STATS ? stats_json : map_json, &arr);
	if (!ret)
		ret = hvxctl_print(c, arr, verb == STATS ? text_stats : text_maps);
out:
	hvx_nl_close(nl);
	return ret;
}

static int iommu_map(struct hvxctl *c, int argc, char **argv)
{
	const char *verb = argc ? argv[0] : "list";

	argc -= !!argc;
	argv++;
	if (!strcmp(verb, "add"))
		return run(c, MAP_ADD, argc, argv);
	if (!strcmp(verb, "del"))
		return run(c, MAP_DEL, argc, argv);
	if (!strcmp(verb, "list") || !strcmp(verb, "show"))
		return run(c, MAP_LIST, argc, argv);
	return hvxctl_usage(c, "unknown verb \"map %s\" (add, del, list)", verb);
}

static int iommu_stats(struct hvxctl *c, int argc, char **argv)
{
	return run(c, STATS, argc, argv);
}

static const struct hvxctl_cmd iommu_cmds[] = {
	{ "map", "add VM domain|device GUEST HOST | del VM domain|device GUEST | list [VM]",
	  "translation maps (device IDs as BB:DD.F or numbers)", iommu_map },
	{ "stats", "[VM]",
	  "maps, rings and counters: commands translated, errors, events delivered",
	  iommu_stats },
	{ .name = NULL },
};

const struct hvxctl_object hvxctl_iommu = {
	.name = "iommu",
	.help = "guest<->host IOMMU domain and device ID translation (hvx_iommu)",
	.cmds = iommu_cmds,
	.dflt = "stats",
	.dflt_args = true,
};
