// SPDX-License-Identifier: GPL-2.0
/*
 * hvxctl pm: the host PM table hvxd offers, its SSDT, negotiations and
 * their state (hvxd unit "pm").
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hvxctl.h"

/* A negotiation waits for the guest: up to three timeouts of hvxd's. */
#define CALL_TIMEOUT_MS 120000

static int call(struct hvxctl *c, const char *method, struct json_object *params,
		void (*text)(struct json_object *))
{
	return hvxctl_call(c, method, params, CALL_TIMEOUT_MS, text);
}

static void text_table(struct json_object *t)
{
	struct json_object *states = NULL;

	if (!json_object_object_get_ex(t, "states", &states))
		states = t;
	printf("%-4s %-8s %-5s %12s %10s  %s\n", "IDX", "NAME", "TYPE", "LATENCY(us)",
	       "POWER(mW)", "ENTRY");
	for (size_t i = 0; i < json_object_array_length(states); i++) {
		struct json_object *s = json_object_array_get_idx(states, i);

		printf("%-4zu %-8s C%-4" PRIu64 " %12" PRIu64 " %10" PRIu64 "  %s\n", i,
		       hvx_json_text(s, "name", "?"), hvx_json_u64(s, "type"),
		       hvx_json_u64(s, "latency_us"), hvx_json_u64(s, "power_mw"),
		       hvx_json_text(s, "entry", "?"));
	}
}

static void text_ssdt(struct json_object *o)
{
	fputs(hvx_json_text(o, "asl", ""), stdout);
}

static void text_vm(struct json_object *v)
{
	printf("%-16s %-8s seq %-10" PRIu64 " agent %-10s qmp %-10s",
	       hvx_json_text(v, "name", "?"), hvx_json_text(v, "state", "?"),
	       hvx_json_u64(v, "seq"), hvx_json_text(v, "agent", "-"),
	       hvx_json_text(v, "qmp", "-"));
	if (hvx_json_u64(v, "duration_usec"))
		printf(" %.1f ms", hvx_json_u64(v, "duration_usec") / 1000.0);
	if (*hvx_json_text(v, "reason", ""))
		printf("\n  reason: %s", hvx_json_text(v, "reason", ""));
	putchar('\n');
}

static void text_status(struct json_object *st)
{
	struct json_object *vms, *n;

	if (json_object_object_get_ex(st, "stats", &n)) {
		printf("negotiations:");
		json_object_object_foreach(n, k, v)
			printf(" %s %" PRId64, k, json_object_get_int64(v));
		putchar('\n');
	}
	if (json_object_object_get_ex(st, "vms", &vms))
		for (size_t i = 0; i < json_object_array_length(vms); i++)
			text_vm(json_object_array_get_idx(vms, i));
}

static int no_args(struct hvxctl *c, int argc, char **argv)
{
	return argc ? hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]) : 0;
}

static int pm_table(struct hvxctl *c, int argc, char **argv)
{
	return no_args(c, argc, argv) ?: call(c, "pm.table", NULL, text_table);
}

static int pm_ssdt(struct hvxctl *c, int argc, char **argv)
{
	/* Without -j the ASL itself, for `hvxctl pm ssdt > cst.asl`. */
	return no_args(c, argc, argv) ?: call(c, "pm.ssdt", NULL, text_ssdt);
}

static int pm_status(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *p = NULL;

	if (argc > 1)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]);
	if (argc) {
		p = json_object_new_object();
		json_object_object_add(p, "vm", json_object_new_string(argv[0]));
	}
	return call(c, "pm.status", p, argc ? text_vm : text_status);
}

static int pm_negotiate(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *p;
	bool wait = true;

	if (!argc)
		return hvxctl_usage(c, "missing VM name");
	if (argc > 2 || (argc == 2 && strcmp(argv[1], "nowait")))
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[argc - 1]);
	if (argc == 2)
		wait = false;
	p = json_object_new_object();
	json_object_object_add(p, "vm", json_object_new_string(argv[0]));
	json_object_object_add(p, "wait", json_object_new_boolean(wait));
	return call(c, "pm.negotiate", p, text_vm);
}

static void text_report(struct json_object *r)
{
	struct json_object *states;
	uint64_t qos = hvx_json_u64(r, "qos_latency_us");

	if (qos == UINT32_MAX)
		printf("qos latency cap: none");
	else
		printf("qos latency cap: %" PRIu64 " us", qos);
	printf(", %s\n", json_object_get_boolean(json_object_object_get(r, "frozen")) ?
	       "frozen" : "not frozen");
	if (!json_object_object_get_ex(r, "states", &states))
		return;
	printf("%-5s %-8s %12s %14s  %s\n", "INDEX", "NAME", "LATENCY(us)",
	       "RESIDENCY(us)", "DISABLED");
	for (size_t i = 0; i < json_object_array_length(states); i++) {
		struct json_object *s = json_object_array_get_idx(states, i);

		printf("%-5" PRIu64 " %-8s %12" PRIu64 " %14" PRIu64 "  %s\n",
		       hvx_json_u64(s, "index"), hvx_json_text(s, "name", "?"),
		       hvx_json_u64(s, "latency_us"), hvx_json_u64(s, "residency_us"),
		       json_object_get_boolean(json_object_object_get(s, "disabled")) ?
		       "yes" : "no");
	}
}

static int pm_report(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *p;

	if (argc != 1)
		return argc ? hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]) :
			      hvxctl_usage(c, "missing VM name");
	p = json_object_new_object();
	json_object_object_add(p, "vm", json_object_new_string(argv[0]));
	return call(c, "pm.report", p, text_report);
}

static const struct hvxctl_cmd pm_cmds[] = {
	{ "status", "[VM]", "negotiation state per VM, agent and QMP connections, counters",
	  pm_status },
	{ "table", NULL, "the PM states (ACPI _CST entries) this host offers its guests",
	  pm_table },
	{ "ssdt", NULL, "the host table as an ASL SSDT (_CST), for iasl and -acpitable",
	  pm_ssdt },
	{ "negotiate", "VM [nowait]",
	  "freeze the guest's PM, offer the table, enable what it acks; waits for the end",
	  pm_negotiate },
	{ "report", "VM", "what the guest runs now, asked over the agent channel",
	  pm_report },
	{ NULL }
};

const struct hvxctl_object hvxctl_pm = {
	.name = "pm",
	.help = "power-state negotiation with guests (hvxd unit pm)",
	.cmds = pm_cmds,
	.dflt = "status",
};
