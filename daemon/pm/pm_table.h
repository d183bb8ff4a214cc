/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host PM table: the ACPI C states this host offers its guests, from
 * hvxd.conf [pm] or from the host's own cpuidle sysfs, rendered as JSON
 * (hvxctl pm table) and as an SSDT adding _CST to QEMU's processor objects
 * \_SB.CPUS.C000.. (hvxctl pm ssdt; iasl, then qemu -acpitable file=).
 *
 *   [pm]
 *   cstates = C1:1:1:1000:ffh, C2:2:50:500:io@0x514, C3:3:150:100:io@0x515
 *   cstates_source = auto	# config, sysfs, or auto (config when set)
 *
 * Entries are NAME:TYPE:LATENCY_US:POWER_MW:ENTRY, shallowest first; ENTRY
 * is "ffh" (HLT for C1), "ffh@ARG" (the FFixedHW argument, MWAIT hint) or
 * "io@PORT" (a P_LVL port read).
 */
#ifndef HVX_PM_TABLE_H
#define HVX_PM_TABLE_H

#include <stddef.h>
#include <stdint.h>

#include "hvx_conf.h"
#include "pm_proto.h"

enum pm_table_source {
	PM_SOURCE_AUTO,
	PM_SOURCE_CONFIG,
	PM_SOURCE_SYSFS,
};

struct pm_table_conf {
	char cstates[512];
	unsigned int source;		/* enum pm_table_source */
	char sysfs_root[96];		/* tests point it at a fake tree */
	uint64_t io_base;		/* sysfs states C2..: io@io_base+i */
	uint64_t ssdt_cpus;		/* processor objects the SSDT covers */
};

extern const char *const pm_table_sources[];

/* hvx_conf_key entries for a struct pm_table_conf at TYPE.MEMBER. */
#define PM_TABLE_CONF_KEYS(type, m)						\
	{ "cstates", HVX_CONF_STR, .offset = offsetof(type, m.cstates),		\
	  .size = sizeof(((type *)0)->m.cstates) },				\
	{ "cstates_source", HVX_CONF_ENUM, .offset = offsetof(type, m.source),	\
	  .def = "auto", .choices = pm_table_sources },			\
	{ "cstates_sysfs", HVX_CONF_STR, .offset = offsetof(type, m.sysfs_root),	\
	  .size = sizeof(((type *)0)->m.sysfs_root), .def = "/sys" },		\
	{ "cstates_io_base", HVX_CONF_UINT, .offset = offsetof(type, m.io_base),	\
	  .def = "0x514", .min = 1, .max = 0xfff8 },				\
	{ "ssdt_cpus", HVX_CONF_UINT, .offset = offsetof(type, m.ssdt_cpus),	\
	  .def = "1", .min = 1, .max = 256 }

/*
 * Build @t from @c. 0, or -EINVAL/-errno with the reason in @err (a bad
 * cstates entry, an unreadable sysfs when the source is sysfs). auto with
 * neither gives an empty table: hvxd then offers nothing and says so.
 */
int pm_table_load(struct pm_table *t, const struct pm_table_conf *c,
		  char *err, size_t errlen);

/* Parse a cstates value into @t (allocated). 0 or -EINVAL with @err. */
int pm_table_parse(struct pm_table *t, const char *s, char *err, size_t errlen);
/* The first cpuN/cpuidle/stateN set under @root/devices/system/cpu. */
int pm_table_from_sysfs(struct pm_table *t, const char *root, uint64_t io_base,
			char *err, size_t errlen);

/* {"source", "states": [{"name", "type", "latency_us", "power_mw", "entry",
 *  "method", "address"}]}; NULL on -ENOMEM. */
struct json_object *pm_table_to_json(const struct pm_table *t);
/* The SSDT's ASL source (malloc'd), NULL on -ENOMEM or an empty table. */
char *pm_table_to_asl(const struct pm_table *t);

#endif /* HVX_PM_TABLE_H */
