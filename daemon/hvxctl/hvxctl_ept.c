// SPDX-License-Identifier: GPL-2.0
/* hvxctl ept: EPT dual-view guest memory (family hvx_ept). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/hvx_ept.h>

#include "hvx_ept_msg.h"
#include "hvxctl.h"

static int open_ept(struct hvxctl *c, struct hvx_nl **nl)
{
	return hvxctl_nl_open(c, nl, HVX_EPT_GENL_NAME, HVX_EPT_GENL_VERSION);
}

/* "4096", "0x1000", "64K", "16M", "1G". 0 or a usage exit code. */
static int parse_size(struct hvxctl *c, const char *s, const char *what,
		      uint64_t *v)
{
	unsigned long long n;
	unsigned int shift = 0;
	char *end;

	errno = 0;
	n = strtoull(s, &end, 0);
	if (end != s && *end && !end[1])
		shift = *end == 'K' || *end == 'k' ? 10 :
			*end == 'M' || *end == 'm' ? 20 :
			*end == 'G' || *end == 'g' ? 30 : 64;
	else if (*end)
		shift = 64;
	if (!*s || *s == '-' || errno || shift == 64 ||
	    (shift && n > (UINT64_MAX >> shift)))
		return hvxctl_usage(c, "invalid %s \"%s\"", what, s);
	*v = (uint64_t)n << shift;
	return 0;
}

static int too_many(struct hvxctl *c, int argc, char **argv)
{
	return argc ? hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]) : 0;
}

/* VM and optionally VIEW ids from argv into @msg; words used or -exit code. */
static int put_ids(struct hvxctl *c, struct nl_msg *msg, int argc, char **argv,
		   bool view)
{
	uint32_t vm, v;
	int ret;

	if (argc < 1)
		return -hvxctl_usage(c, "missing VM id");
	ret = hvxctl_parse_u32(c, argv[0], "VM id", &vm);
	if (ret)
		return -ret;
	if (nla_put_u32(msg, HVX_EPT_A_VM_ID, vm) < 0)
		return -hvxctl_fail(c, -EMSGSIZE, "building request");
	if (!view)
		return 1;
	if (argc < 2)
		return -hvxctl_usage(c, "missing VIEW id");
	ret = hvxctl_parse_u32(c, argv[1], "view id", &v);
	if (ret)
		return -ret;
	if (nla_put_u32(msg, HVX_EPT_A_VIEW_ID, v) < 0)
		return -hvxctl_fail(c, -EMSGSIZE, "building request");
	return 2;
}

/*
 * The common shape: open, build CMD with ids (+ @put for the rest), send,
 * print with @text (an array, or its only element when @one).
 */
static int simple(struct hvxctl *c, int argc, char **argv, uint8_t cmd,
		  int flags, int nids,
		  int (*put)(struct hvxctl *, struct nl_msg *, int, char **),
		  struct json_object *(*decode)(struct nlmsghdr *, int *),
		  void (*text)(struct json_object *), bool one)
{
	struct json_object *arr = NULL, *o;
	struct hvx_nl *nl;
	struct nl_msg *msg;
	int ret, used = 0;

	ret = open_ept(c, &nl);
	if (ret)
		return ret;
	msg = hvx_nl_msg(nl, cmd, flags);
	if (!msg) {
		ret = hvxctl_fail(c, -ENOMEM, "building request");
		goto out;
	}
	if (nids) {
		used = put_ids(c, msg, argc, argv, nids > 1);
		if (used < 0) {
			ret = -used;
			goto free;
		}
	}
	ret = put ? put(c, msg, argc - used, argv + used) :
		    too_many(c, argc - used, argv + used);
	if (ret)
		goto free;
	ret = hvxctl_nl_request(c, nl, msg, decode, decode ? &arr : NULL);
	if (ret || !decode)
		goto out;
	if (one) {
		o = json_object_get(json_object_array_get_idx(arr, 0));
		json_object_put(arr);
		if (!o) {
			ret = hvxctl_fail(c, -EBADMSG, "empty reply from the kernel");
			goto out;
		}
		arr = o;
	}
	ret = hvxctl_print(c, arr, text);
	goto out;
free:
	nlmsg_free(msg);
out:
	hvx_nl_close(nl);
	return ret;
}

static void text_vm(struct json_object *vm)
{
	printf("vm %" PRIu64 ": memory %" PRIu64 " bytes, %" PRIu64
	       " views, active view %" PRIu64 "\n",
	       hvx_json_u64(vm, "vm_id"), hvx_json_u64(vm, "mem_size"),
	       hvx_json_u64(vm, "nr_views"), hvx_json_u64(vm, "active_view"));
}

static void text_vms(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		text_vm(json_object_array_get_idx(arr, i));
}

static void text_eptp(struct json_object *eptp)
{
	printf("eptp 0x%016" PRIx64 ": PML4 at 0x%" PRIx64
	       ", memory type %s, page-walk length %" PRIu64 ", A/D %s\n",
	       hvx_json_u64(eptp, "raw"), hvx_json_u64(eptp, "pml4"),
	       hvx_json_text(eptp, "memtype", "?"),
	       hvx_json_u64(eptp, "walk_length"),
	       json_object_get_boolean(json_object_object_get(eptp, "ad")) ?
	       "enabled" : "disabled");
}

static void text_view(struct json_object *v)
{
	struct json_object *ranges;

	printf("view %" PRIu64 "%s: private pages %" PRIu64 ", ",
	       hvx_json_u64(v, "view_id"),
	       json_object_get_boolean(json_object_object_get(v, "active")) ?
	       " (active)" : "", hvx_json_u64(v, "private_pages"));
	text_eptp(json_object_object_get(v, "eptp"));
	if (!json_object_object_get_ex(v, "ranges", &ranges))
		return;
	for (size_t i = 0; i < json_object_array_length(ranges); i++) {
		struct json_object *r = json_object_array_get_idx(ranges, i);
		uint64_t gpa = hvx_json_u64(r, "gpa");

		printf("    gpa 0x%" PRIx64 "-0x%" PRIx64 " %s %s\n", gpa,
		       gpa + hvx_json_u64(r, "size") - 1,
		       hvx_json_text(r, "perm", "?"), hvx_json_text(r, "kind", "?"));
	}
}

static void text_views(struct json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++)
		text_view(json_object_array_get_idx(arr, i));
}

static int put_size(struct hvxctl *c, struct nl_msg *msg, int argc, char **argv)
{
	uint64_t size;
	int ret;

	if (argc < 2 || strcmp(argv[0], "size"))
		return hvxctl_usage(c, "expected \"size SIZE\"");
	ret = parse_size(c, argv[1], "size", &size);
	if (ret)
		return ret;
	if (nla_put_u64(msg, HVX_EPT_A_MEM_SIZE, size) < 0)
		return hvxctl_fail(c, -EMSGSIZE, "building request");
	return too_many(c, argc - 2, argv + 2);
}

static int ept_vm(struct hvxctl *c, int argc, char **argv)
{
	const char *verb = argc ? argv[0] : "list";

	argc -= !!argc;
	argv++;
	if (!strcmp(verb, "add"))
		return simple(c, argc, argv, HVX_EPT_CMD_VM_NEW, 0, 1, put_size,
			      NULL, NULL, false);
	if (!strcmp(verb, "del"))
		return simple(c, argc, argv, HVX_EPT_CMD_VM_DEL, 0, 1, NULL,
			      NULL, NULL, false);
	if (!strcmp(verb, "show"))
		return simple(c, argc, argv, HVX_EPT_CMD_VM_GET, 0, 1, NULL,
			      hvx_ept_vm_json, text_vm, true);
	if (!strcmp(verb, "list"))
		return simple(c, argc, argv, HVX_EPT_CMD_VM_GET, NLM_F_DUMP, 0,
			      NULL, hvx_ept_vm_json, text_vms, false);
	return hvxctl_usage(c, "unknown verb \"vm %s\" (add, del, show, list)", verb);
}

/* VIEW_NEW's reply: the ids only. */
static struct json_object *view_id_json(struct nlmsghdr *nlh, int *err)
{
	struct nlattr *tb[HVX_EPT_A_MAX + 1];
	struct json_object *o;

	*err = hvx_nl_parse(nlh, HVX_EPT_A_MAX, NULL, tb);
	if (*err)
		return NULL;
	if (!tb[HVX_EPT_A_VM_ID] || !tb[HVX_EPT_A_VIEW_ID] ||
	    nla_len(tb[HVX_EPT_A_VIEW_ID]) != sizeof(uint32_t)) {
		*err = -EBADMSG;
		return NULL;
	}
	o = json_object_new_object();
	if (!o || hvx_json_add_u64(o, "vm_id", nla_get_u32(tb[HVX_EPT_A_VM_ID])) ||
	    hvx_json_add_u64(o, "view_id", nla_get_u32(tb[HVX_EPT_A_VIEW_ID]))) {
		json_object_put(o);
		*err = -ENOMEM;
		return NULL;
	}
	return o;
}

static void text_view_id(struct json_object *o)
{
	printf("%" PRIu64 "\n", hvx_json_u64(o, "view_id"));
}

static int ept_view(struct hvxctl *c, int argc, char **argv)
{
	const char *verb = argc ? argv[0] : "";

	argc -= !!argc;
	argv++;
	if (!strcmp(verb, "add"))
		return simple(c, argc, argv, HVX_EPT_CMD_VIEW_NEW, 0, 1, NULL,
			      view_id_json, text_view_id, true);
	if (!strcmp(verb, "del"))
		return simple(c, argc, argv, HVX_EPT_CMD_VIEW_DEL, 0, 2, NULL,
			      NULL, NULL, false);
	if (!strcmp(verb, "show"))
		return simple(c, argc, argv, HVX_EPT_CMD_VIEW_GET, 0, 2, NULL,
			      hvx_ept_view_json, text_view, true);
	if (!strcmp(verb, "list"))
		return simple(c, argc, argv, HVX_EPT_CMD_VIEW_GET, NLM_F_DUMP, 1,
			      NULL, hvx_ept_view_json, text_views, false);
	return hvxctl_usage(c, "unknown verb \"view %s\" (add, del, show, list)",
			    verb);
}

/* gpa GPA size SIZE perm PERM [private | shared] */
static int put_map(struct hvxctl *c, struct nl_msg *msg, int argc, char **argv)
{
	uint64_t gpa = 0, size = 0;
	bool has_gpa = false, has_size = false;
	int perm = -1, ret;
	uint32_t kind = HVX_EPT_KIND_SHARED;

	while (argc) {
		if (!strcmp(argv[0], "private") || !strcmp(argv[0], "shared")) {
			kind = !strcmp(argv[0], "private") ? HVX_EPT_KIND_PRIVATE :
							     HVX_EPT_KIND_SHARED;
			argc--;
			argv++;
			continue;
		}
		if (argc < 2)
			return hvxctl_usage(c, "missing value after \"%s\"", argv[0]);
		if (!strcmp(argv[0], "gpa")) {
			ret = parse_size(c, argv[1], "GPA", &gpa);
			has_gpa = true;
		} else if (!strcmp(argv[0], "size")) {
			ret = parse_size(c, argv[1], "size", &size);
			has_size = true;
		} else if (!strcmp(argv[0], "perm")) {
			perm = hvx_ept_perm_parse(argv[1]);
			ret = perm < 0 ?
			      hvxctl_usage(c, "invalid perm \"%s\" (letters of rwx, or none)",
					   argv[1]) : 0;
		} else {
			ret = hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);
		}
		if (ret)
			return ret;
		argc -= 2;
		argv += 2;
	}
	if (!has_gpa || !has_size || perm < 0)
		return hvxctl_usage(c, "need gpa GPA size SIZE perm PERM");
	if (nla_put_u64(msg, HVX_EPT_A_GPA, gpa) < 0 ||
	    nla_put_u64(msg, HVX_EPT_A_SIZE, size) < 0 ||
	    nla_put_u32(msg, HVX_EPT_A_PERM, perm) < 0 ||
	    nla_put_u32(msg, HVX_EPT_A_KIND, kind) < 0)
		return hvxctl_fail(c, -EMSGSIZE, "building request");
	return 0;
}

static int ept_map(struct hvxctl *c, int argc, char **argv)
{
	return simple(c, argc, argv, HVX_EPT_CMD_MAP, 0, 2, put_map, NULL, NULL,
		      false);
}

static int ept_switch(struct hvxctl *c, int argc, char **argv)
{
	return simple(c, argc, argv, HVX_EPT_CMD_SWITCH, 0, 2, NULL, NULL, NULL,
		      false);
}

static void text_entry(struct json_object *e)
{
	uint64_t level = hvx_json_u64(e, "level");
	bool leaf = json_object_get_boolean(json_object_object_get(e, "leaf"));

	printf("%*s%-5s gpa 0x%012" PRIx64 " 0x%016" PRIx64 " %s",
	       (int)(HVX_EPT_LEVELS - level) * 2, "",
	       hvx_json_text(e, "table", "?"), hvx_json_u64(e, "gpa"),
	       hvx_json_u64(e, "raw"), hvx_json_text(e, "perm", "?"));
	if (json_object_get_boolean(json_object_object_get(e, "accessed")))
		printf(" A");
	if (!leaf) {
		printf(" -> table 0x%" PRIx64 "\n", hvx_json_u64(e, "next_table"));
		return;
	}
	if (json_object_get_boolean(json_object_object_get(e, "dirty")))
		printf(" D");
	printf(" %s%s %s page 0x%" PRIx64 "%s\n",
	       hvx_json_text(e, "memtype", "?"),
	       json_object_get_boolean(json_object_object_get(e, "ignore_pat")) ?
	       " IPAT" : "",
	       hvx_json_u64(e, "page_size") == 4096 ? "4K" :
	       hvx_json_u64(e, "page_size") == 1ULL << 21 ? "2M" : "1G",
	       hvx_json_u64(e, "hpa"),
	       json_object_get_boolean(json_object_object_get(e, "private")) ?
	       " private" : "");
}

static void text_dump(struct json_object *d)
{
	struct json_object *entries = json_object_object_get(d, "entries");

	printf("view %" PRIu64 " ", hvx_json_u64(d, "view_id"));
	text_eptp(json_object_object_get(d, "eptp"));
	for (size_t i = 0; i < json_object_array_length(entries); i++)
		text_entry(json_object_array_get_idx(entries, i));
}

/* The view (for its EPTP), then every entry of its EPT. */
static int ept_dump(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *views = NULL, *entries = NULL, *out, *eptp;
	struct hvx_nl *nl;
	struct nl_msg *msg[2] = { 0 };
	int ret, used = 0, i;

	ret = open_ept(c, &nl);
	if (ret)
		return ret;
	for (i = 0; i < 2; i++) {
		msg[i] = hvx_nl_msg(nl, i ? HVX_EPT_CMD_DUMP : HVX_EPT_CMD_VIEW_GET,
				    i ? NLM_F_DUMP : 0);
		if (!msg[i]) {
			ret = hvxctl_fail(c, -ENOMEM, "building request");
			goto free;
		}
		used = put_ids(c, msg[i], argc, argv, true);
		if (used < 0) {
			ret = -used;
			goto free;
		}
	}
	ret = too_many(c, argc - used, argv + used);
	if (ret)
		goto free;
	ret = hvxctl_nl_request(c, nl, msg[0], hvx_ept_view_json, &views);
	msg[0] = NULL;
	if (ret)
		goto free;
	ret = hvxctl_nl_request(c, nl, msg[1], hvx_ept_entry_json, &entries);
	msg[1] = NULL;
	if (ret)
		goto free;
	out = json_object_new_object();
	eptp = json_object_object_get(json_object_array_get_idx(views, 0), "eptp");
	if (!out || hvx_json_add_u64(out, "vm_id", strtoul(argv[0], NULL, 10)) ||
	    hvx_json_add_u64(out, "view_id", strtoul(argv[1], NULL, 10)) ||
	    hvx_json_add(out, "eptp", json_object_get(eptp)) ||
	    hvx_json_add(out, "entries", json_object_get(entries))) {
		json_object_put(out);
		ret = hvxctl_fail(c, -ENOMEM, "building output");
		goto free;
	}
	ret = hvxctl_print(c, out, text_dump);
free:
	json_object_put(views);
	json_object_put(entries);
	for (i = 0; i < 2; i++)
		if (msg[i])
			nlmsg_free(msg[i]);
	hvx_nl_close(nl);
	return ret;
}

static const struct hvxctl_cmd ept_cmds[] = {
	{ "vm", "{add VM size SIZE | del VM | show VM | list}",
	  "give a VM EPT state and guest memory, drop it, show it", ept_vm },
	{ "view", "{add VM | del VM VIEW | show VM VIEW | list VM}",
	  "add (prints the new id), delete and show views", ept_view },
	{ "map", "VM VIEW gpa GPA size SIZE perm {[r][w][x] | none} [private | shared]",
	  "add an explicit range to a view", ept_map },
	{ "switch", "VM VIEW", "make VIEW the active view", ept_switch },
	{ "dump", "VM VIEW", "walk the view's EPT, print entries in SDM terms",
	  ept_dump },
	{ NULL }
};

const struct hvxctl_object hvxctl_ept = {
	.name = "ept",
	.help = "EPT dual-view guest memory (hvx_ept)",
	.cmds = ept_cmds,
	.dflt = "vm",
};
