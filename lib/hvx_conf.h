/* SPDX-License-Identifier: GPL-2.0 */
/*
 * INI configuration (libinih) checked against a schema: every section and
 * key must be declared, every value is parsed and range-checked, and the
 * first problem is reported as "FILE:LINE: message". A failed load leaves
 * the destination untouched, so a bad reload keeps the running config.
 */
#ifndef HVX_CONF_H
#define HVX_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HVX_CONF_ERR_MAX 512

enum hvx_conf_type {
	HVX_CONF_STR,		/* char[size] */
	HVX_CONF_BOOL,		/* bool: yes/no, true/false, on/off, 1/0 */
	HVX_CONF_UINT,		/* uint64_t in [min, max] */
	HVX_CONF_DURATION,	/* uint64_t usec in [min, max]: 30s, 5min, 250ms */
	HVX_CONF_ENUM,		/* unsigned: index into choices */
	HVX_CONF_CUSTOM,	/* parse() fills size bytes */
};

struct hvx_conf_key {
	const char *name;
	enum hvx_conf_type type;
	size_t offset;		/* into the section's struct */
	size_t size;		/* STR: buffer size; CUSTOM: field size */
	const char *def;	/* default, parsed like a file value; NULL = zero */
	uint64_t min, max;
	const char *const *choices;	/* ENUM, NULL-terminated */
	/* CUSTOM: 0, or -EINVAL with a reason in err. */
	int (*parse)(const char *val, void *dst, char *err, size_t errlen);
};

struct hvx_conf_section {
	const char *name;
	const struct hvx_conf_key *keys;	/* ends with { .name = NULL } */
	void *dst;
	size_t size;		/* sizeof(*dst) */
};

/* Fill every section with its defaults. 0 or -EINVAL (bad schema). */
int hvx_conf_defaults(const struct hvx_conf_section *secs, size_t n,
		      char *err, size_t errlen);

/*
 * Defaults, then @path on top. Returns 0, -ENOENT when @path does not
 * exist, or -EINVAL/-errno with the reason in @err. On failure no
 * section's dst is changed.
 */
int hvx_conf_load(const char *path, const struct hvx_conf_section *secs,
		  size_t n, char *err, size_t errlen);

/* Value parsers, also for CUSTOM keys and command lines. 0 or -EINVAL. */
int hvx_conf_parse_bool(const char *s, bool *v);
int hvx_conf_parse_uint(const char *s, uint64_t *v);
int hvx_conf_parse_duration(const char *s, uint64_t *usec);

#endif /* HVX_CONF_H */
