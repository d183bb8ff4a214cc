// SPDX-License-Identifier: GPL-2.0
/*
 * The host PM table: parsed from [pm] cstates or read from the host's
 * cpuidle sysfs, checked against what ACPI _CST and Linux's acpi_idle
 * accept (at most 8 states, types 1..3, WORD latencies), rendered as JSON
 * and as an SSDT.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "hvx_file.h"
#include "hvx_json.h"
#include "pm_table.h"

/* _CST's Latency is a WORD. */
#define CST_LATENCY_MAX 0xffff

const char *const pm_table_sources[] = { "auto", "config", "sysfs", NULL };

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_u32(const char *s, uint64_t max, uint32_t *v)
{
	char *end;
	unsigned long long x;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno || *end || x > max)
		return -EINVAL;
	*v = x;
	return 0;
}

static int parse_entry(char *s, struct pm_cst *c, char *err, size_t errlen)
{
	char *f[5], *save = NULL, *addr;
	uint32_t v;
	size_t n = 0;

	for (char *tok = strtok_r(s, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		if (n == 5)
			return fail(err, errlen, "\"%s\": too many fields", s);
		f[n++] = tok;
	}
	if (n != 5)
		return fail(err, errlen, "\"%s\": want NAME:TYPE:LATENCY_US:POWER_MW:ENTRY", s);
	if (!*f[0] || strlen(f[0]) >= PM_NAME_LEN)
		return fail(err, errlen, "state name \"%s\": 1 to %d characters", f[0],
			    PM_NAME_LEN - 1);
	for (const char *p = f[0]; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return fail(err, errlen, "state name \"%s\": letters, digits, - and _ only",
				    f[0]);
	snprintf(c->name, sizeof(c->name), "%s", f[0]);
	if (parse_u32(f[1], 3, &v) || !v)
		return fail(err, errlen, "%s: type \"%s\" is not 1, 2 or 3", f[0], f[1]);
	c->type = v;
	if (parse_u32(f[2], CST_LATENCY_MAX, &c->latency_us))
		return fail(err, errlen, "%s: latency \"%s\" is not 0..%u us", f[0], f[2],
			    CST_LATENCY_MAX);
	if (parse_u32(f[3], UINT32_MAX, &c->power_mw))
		return fail(err, errlen, "%s: power \"%s\" is not a number of mW", f[0], f[3]);
	addr = strchr(f[4], '@');
	if (addr)
		*addr++ = '\0';
	if (!strcmp(f[4], "ffh")) {
		c->method = PM_CST_FFH;
		c->address = 0;
		if (addr && parse_u32(addr, UINT32_MAX, &v))
			return fail(err, errlen, "%s: bad FFixedHW argument \"%s\"", f[0], addr);
		if (addr)
			c->address = v;
	} else if (!strcmp(f[4], "io")) {
		c->method = PM_CST_SYSTEM_IO;
		if (!addr || parse_u32(addr, 0xffff, &v) || !v)
			return fail(err, errlen, "%s: io needs a port, io@0x514", f[0]);
		c->address = v;
	} else {
		return fail(err, errlen, "%s: entry \"%s\" is not ffh, ffh@ARG or io@PORT",
			    f[0], f[4]);
	}
	return 0;
}

/* What acpi_idle would refuse or reorder, refused here. */
static int check_table(const struct pm_table *t, char *err, size_t errlen)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct pm_cst *c = &t->cst[i];

		for (size_t j = 0; j < i; j++)
			if (!strcmp(c->name, t->cst[j].name))
				return fail(err, errlen, "state %s listed twice", c->name);
		if (i && (c->type < t->cst[i - 1].type ||
			  c->latency_us < t->cst[i - 1].latency_us))
			return fail(err, errlen, "%s: states go shallowest first (type and latency)",
				    c->name);
	}
	return 0;
}

int pm_table_parse(struct pm_table *t, const char *s, char *err, size_t errlen)
{
	struct pm_table n = { 0 };
	char *copy = strdup(s), *save = NULL;
	int ret = -ENOMEM;

	if (!copy) {
		fail(err, errlen, "out of memory");
		return -ENOMEM;
	}
	n.cst = calloc(PM_CST_MAX, sizeof(*n.cst));
	if (!n.cst)
		goto out;
	for (char *e = strtok_r(copy, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*e))
			e++;
		for (char *end = e + strlen(e); end > e && isspace((unsigned char)end[-1]); )
			*--end = '\0';
		if (n.n == PM_CST_MAX) {
			ret = fail(err, errlen, "more than %d C states", PM_CST_MAX);
			goto out;
		}
		ret = parse_entry(e, &n.cst[n.n], err, errlen);
		if (ret)
			goto out;
		n.n++;
	}
	if (!n.n) {
		ret = fail(err, errlen, "cstates lists no state");
		goto out;
	}
	ret = check_table(&n, err, errlen);
	if (ret)
		goto out;
	n.source = PM_SOURCE_CONFIG;
	n.cpus = t->cpus;
	*t = n;
	n.cst = NULL;
out:
	free(n.cst);
	free(copy);
	return ret;
}

int pm_table_from_sysfs(struct pm_table *t, const char *root, uint64_t io_base,
			char *err, size_t errlen)
{
	struct pm_table n = { 0 };
	char dir[256], cpu[160], path[320];
	int ret = 0, cpun;

	for (cpun = 0; cpun < 4096; cpun++) {
		snprintf(cpu, sizeof(cpu), "%s/devices/system/cpu/cpu%d", root, cpun);
		snprintf(dir, sizeof(dir), "%s/cpuidle/state0", cpu);
		if (!access(dir, R_OK))
			break;
		snprintf(dir, sizeof(dir), "%s", cpu);
		if (access(dir, F_OK))
			return fail(err, errlen, "%s/devices/system/cpu: no cpuidle states", root);
	}
	if (cpun == 4096)
		return fail(err, errlen, "%s/devices/system/cpu: no cpuidle states", root);
	n.cst = calloc(PM_CST_MAX, sizeof(*n.cst));
	if (!n.cst)
		return -ENOMEM;
	for (int i = 0; n.n < PM_CST_MAX; i++) {
		struct pm_cst *c = &n.cst[n.n];
		char name[64];

		snprintf(dir, sizeof(dir), "%s/cpuidle/state%d", cpu, i);
		if (access(dir, F_OK))
			break;
		snprintf(path, sizeof(path), "%s/name", dir);
		ret = hvx_read_line(path, name, sizeof(name));
		if (ret)
			goto bad;
		/* Busy polling is the kernel's, not an ACPI C state. */
		if (!strcmp(name, "POLL"))
			continue;
		if (!*name || strlen(name) >= PM_NAME_LEN) {
			ret = fail(err, errlen, "%s/name: \"%s\" is not a state name", dir, name);
			goto out;
		}
		for (char *p = name; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
				*p = '_';
		snprintf(c->name, sizeof(c->name), "%s", name);
		snprintf(path, sizeof(path), "%s/latency", dir);
		ret = hvx_read_u32(path, &c->latency_us);
		if (ret)
			goto bad;
		snprintf(path, sizeof(path), "%s/power", dir);
		ret = hvx_read_u32(path, &c->power_mw);
		if (ret)
			goto bad;
		if (c->latency_us > CST_LATENCY_MAX)
			c->latency_us = CST_LATENCY_MAX;
		c->type = n.n < 3 ? n.n + 1 : 3;
		if (n.n) {
			c->method = PM_CST_SYSTEM_IO;
			c->address = io_base + n.n - 1;
		}
		n.n++;
	}
	if (!n.n) {
		ret = fail(err, errlen, "%s: only POLL, no C state", cpu);
		goto out;
	}
	/* Mirror what the hardware has, but keep the order acpi_idle expects. */
	ret = check_table(&n, err, errlen);
	if (ret)
		goto out;
	n.source = PM_SOURCE_SYSFS;
	n.cpus = t->cpus;
	*t = n;
	return 0;
bad:
	ret = fail(err, errlen, "%s: %s", dir, strerror(-ret));
out:
	free(n.cst);
	return ret;
}

int pm_table_load(struct pm_table *t, const struct pm_table_conf *c,
		  char *err, size_t errlen)
{
	struct pm_table n = { .cpus = c->ssdt_cpus ? c->ssdt_cpus : 1 };
	int ret;

	switch (c->source) {
	case PM_SOURCE_CONFIG:
		if (!*c->cstates)
			return fail(err, errlen, "cstates_source = config but cstates is empty");
		ret = pm_table_parse(&n, c->cstates, err, errlen);
		break;
	case PM_SOURCE_SYSFS:
		ret = pm_table_from_sysfs(&n, c->sysfs_root, c->io_base, err, errlen);
		break;
	default:
		if (*c->cstates) {
			ret = pm_table_parse(&n, c->cstates, err, errlen);
			break;
		}
		ret = pm_table_from_sysfs(&n, c->sysfs_root, c->io_base, err, errlen);
		if (ret == -EINVAL) {
			/* No cpuidle here (a VM without _CST): offer nothing. */
			n.source = PM_SOURCE_AUTO;
			ret = 0;
		}
		break;
	}
	if (ret)
		return ret;
	*t = n;
	return 0;
}

static const char *method_name(uint8_t m)
{
	return m == PM_CST_SYSTEM_IO ? "io" : "ffh";
}

struct json_object *pm_table_to_json(const struct pm_table *t)
{
	struct json_object *o = json_object_new_object();
	struct json_object *a = json_object_new_array();

	if (!o || !a || json_object_object_add(o, "states", a)) {
		json_object_put(a);
		goto err;
	}
	if (hvx_json_add_str(o, "source", pm_table_sources[t->source]))
		goto err;
	for (size_t i = 0; i < t->n; i++) {
		const struct pm_cst *c = &t->cst[i];
		struct json_object *s = json_object_new_object();
		char entry[48];

		if (c->method == PM_CST_SYSTEM_IO)
			snprintf(entry, sizeof(entry), "SystemIO 0x%" PRIx64, c->address);
		else if (c->address)
			snprintf(entry, sizeof(entry), "FFixedHW 0x%" PRIx64, c->address);
		else
			snprintf(entry, sizeof(entry), "FFixedHW");
		if (!s || json_object_array_add(a, s)) {
			json_object_put(s);
			goto err;
		}
		if (hvx_json_add_str(s, "name", c->name) ||
		    hvx_json_add_u64(s, "type", c->type) ||
		    hvx_json_add_u64(s, "latency_us", c->latency_us) ||
		    hvx_json_add_u64(s, "power_mw", c->power_mw) ||
		    hvx_json_add_str(s, "entry", entry) ||
		    hvx_json_add_str(s, "method", method_name(c->method)) ||
		    hvx_json_add_u64(s, "address", c->address))
			goto err;
	}
	return o;
err:
	json_object_put(o);
	return NULL;
}

char *pm_table_to_asl(const struct pm_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	if (!t->n)
		return NULL;
	f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "/* hvx host PM table: %zu C states, as hvxd offers them. */\n"
		"DefinitionBlock (\"\", \"SSDT\", 2, \"HVX\", \"HVXCST\", 1)\n{\n", t->n);
	for (unsigned int cpu = 0; cpu < t->cpus; cpu++)
		fprintf(f, "    External (\\_SB.CPUS.C%03X, DeviceObj)\n", cpu);
	/* One package, every processor returns it: the table is per host. */
	fprintf(f, "\n    Name (\\_SB.HCST, Package (0x%02zX)\n    {\n        0x%02zX,\n",
		t->n + 1, t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct pm_cst *c = &t->cst[i];

		fprintf(f, "        Package (0x04)  /* %s */\n        {\n"
			"            ResourceTemplate ()\n            {\n", c->name);
		if (c->method == PM_CST_SYSTEM_IO)
			fprintf(f, "                Register (SystemIO, 0x08, 0x00, 0x%04" PRIX64
				", ,)\n", c->address);
		else
			fprintf(f, "                Register (FFixedHW, 0x00, 0x00, 0x%016" PRIX64
				", ,)\n", c->address);
		fprintf(f, "            },\n            0x%02X,\n            0x%04X,\n"
			"            0x%08X\n        }%s\n", c->type, c->latency_us, c->power_mw,
			i + 1 < t->n ? "," : "");
	}
	fprintf(f, "    })\n");
	for (unsigned int cpu = 0; cpu < t->cpus; cpu++)
		fprintf(f, "\n    Scope (\\_SB.CPUS.C%03X)\n    {\n"
			"        Method (_CST, 0, NotSerialized)\n        {\n"
			"            Return (\\_SB.HCST)\n        }\n    }\n", cpu);
	fprintf(f, "}\n");
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	return buf;
}
