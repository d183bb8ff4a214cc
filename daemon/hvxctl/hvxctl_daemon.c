// SPDX-License-Identifier: GPL-2.0
/* hvxctl daemon: talk to hvxd over its control socket. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hvxctl.h"

/* hvxd answers from its event loop; anything slower is a stuck daemon. */
#define CALL_TIMEOUT_MS 10000

static int call(struct hvxctl *c, const char *method, struct json_object *params,
		void (*text)(struct json_object *))
{
	return hvxctl_call(c, method, params, CALL_TIMEOUT_MS, text);
}

static void text_status(struct json_object *st)
{
	struct json_object *units, *vms;
	uint64_t up = hvx_json_u64(st, "uptime_usec") / 1000000;

	printf("hvxd %s, pid %" PRIu64 ", up %" PRIu64 "s\n",
	       hvx_json_text(st, "version", "?"), hvx_json_u64(st, "pid"), up);
	printf("config %s\n", hvx_json_text(st, "config", "?"));
	printf("socket %s\n", hvx_json_text(st, "socket", "?"));
	if (json_object_object_get_ex(st, "units", &units)) {
		for (size_t i = 0; i < json_object_array_length(units); i++) {
			struct json_object *u = json_object_array_get_idx(units, i);

			printf("unit %s %s\n", hvx_json_text(u, "name", "?"),
			       hvx_json_text(u, "state", "?"));
		}
	}
	if (json_object_object_get_ex(st, "vms", &vms)) {
		for (size_t i = 0; i < json_object_array_length(vms); i++) {
			struct json_object *vm = json_object_array_get_idx(vms, i);

			printf("vm %" PRIu64 ": %s state %s\n", hvx_json_u64(vm, "id"),
			       hvx_json_text(vm, "name", "?"),
			       hvx_json_text(vm, "state", "?"));
		}
	}
}

static void text_raw(struct json_object *res)
{
	hvx_json_write(stdout, res, HVX_JSON_PRETTY);
}

static int daemon_status(struct hvxctl *c, int argc, char **argv)
{
	if (argc)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);
	return call(c, "core.status", NULL, text_status);
}

static int daemon_call(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *params = NULL;

	if (!argc)
		return hvxctl_usage(c, "missing METHOD");
	if (argc > 2)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[2]);
	if (argc == 2) {
		params = json_tokener_parse(argv[1]);
		if (!params || !json_object_is_type(params, json_type_object)) {
			json_object_put(params);
			return hvxctl_usage(c, "PARAMS must be a JSON object");
		}
	}
	return call(c, argv[0], params, text_raw);
}

static const struct hvxctl_cmd daemon_cmds[] = {
	{ "status", NULL, "hvxd's version, uptime, units and the VMs it tracks",
	  daemon_status },
	{ "call", "METHOD [PARAMS-JSON]",
	  "call any control method of hvxd and print its result as JSON",
	  daemon_call },
	{ NULL }
};

const struct hvxctl_object hvxctl_daemon = {
	.name = "daemon",
	.help = "the hvxd daemon, over its control socket",
	.cmds = daemon_cmds,
	.dflt = "status",
};
