// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ini.h>

#include "hvx_conf.h"

int hvx_conf_parse_bool(const char *s, bool *v)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (!strcasecmp(s, yes[i])) {
			*v = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*v = false;
			return 0;
		}
	}
	return -EINVAL;
}

int hvx_conf_parse_uint(const char *s, uint64_t *v)
{
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return -EINVAL;
	return 0;
}

int hvx_conf_parse_duration(const char *s, uint64_t *usec)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "", 1000000 }, { "us", 1 }, { "ms", 1000 }, { "s", 1000000 },
		{ "min", 60000000ULL }, { "m", 60000000ULL },
		{ "h", 3600000000ULL },
	};
	uint64_t n;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return -EINVAL;
		*usec = n * units[i].mult;
		return 0;
	}
	return -EINVAL;
}

static int parse_value(const struct hvx_conf_section *sec,
		       const struct hvx_conf_key *k, const char *val,
		       void *base, char *err, size_t errlen)
{
	void *dst = (char *)base + k->offset;
	uint64_t u;
	bool b;

	switch (k->type) {
	case HVX_CONF_STR:
		if (strlen(val) >= k->size) {
			snprintf(err, errlen, "[%s] %s: longer than %zu characters",
				 sec->name, k->name, k->size - 1);
			return -EINVAL;
		}
		strcpy(dst, val);
		return 0;
	case HVX_CONF_BOOL:
		if (hvx_conf_parse_bool(val, &b)) {
			snprintf(err, errlen, "[%s] %s: expected yes or no, got \"%s\"",
				 sec->name, k->name, val);
			return -EINVAL;
		}
		*(bool *)dst = b;
		return 0;
	case HVX_CONF_UINT:
		if (hvx_conf_parse_uint(val, &u) || u < k->min || u > k->max) {
			snprintf(err, errlen,
				 "[%s] %s: expected an integer from %" PRIu64 " to %" PRIu64 ", got \"%s\"",
				 sec->name, k->name, k->min, k->max, val);
			return -EINVAL;
		}
		*(uint64_t *)dst = u;
		return 0;
	case HVX_CONF_DURATION:
		if (hvx_conf_parse_duration(val, &u) || u < k->min || u > k->max) {
			snprintf(err, errlen,
				 "[%s] %s: expected a duration (e.g. 500ms, 30s, 5min) from %" PRIu64 "ms to %" PRIu64 "ms, got \"%s\"",
				 sec->name, k->name, k->min / 1000, k->max / 1000, val);
			return -EINVAL;
		}
		*(uint64_t *)dst = u;
		return 0;
	case HVX_CONF_ENUM:
		for (unsigned int i = 0; k->choices[i]; i++) {
			if (!strcmp(val, k->choices[i])) {
				*(unsigned int *)dst = i;
				return 0;
			}
		}
		{
			size_t off = snprintf(err, errlen, "[%s] %s: \"%s\" is not one of",
					      sec->name, k->name, val);

			for (unsigned int i = 0; k->choices[i] && off < errlen; i++)
				off += snprintf(err + off, errlen - off, " %s",
						k->choices[i]);
		}
		return -EINVAL;
	case HVX_CONF_CUSTOM: {
		char why[HVX_CONF_ERR_MAX / 2] = "invalid value";

		if (k->parse(val, dst, why, sizeof(why))) {
			snprintf(err, errlen, "[%s] %s: %s", sec->name, k->name, why);
			return -EINVAL;
		}
		return 0;
	}
	}
	snprintf(err, errlen, "[%s] %s: bad schema", sec->name, k->name);
	return -EINVAL;
}

static int fill_defaults(const struct hvx_conf_section *secs, size_t n,
			 void **bufs, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		memset(bufs[i], 0, secs[i].size);
		for (const struct hvx_conf_key *k = secs[i].keys; k && k->name; k++) {
			if (k->def && parse_value(&secs[i], k, k->def, bufs[i],
						  err, errlen))
				return -EINVAL;
		}
	}
	return 0;
}

int hvx_conf_defaults(const struct hvx_conf_section *secs, size_t n,
		      char *err, size_t errlen)
{
	void *bufs[n ? n : 1];

	for (size_t i = 0; i < n; i++)
		bufs[i] = secs[i].dst;
	return fill_defaults(secs, n, bufs, err, errlen);
}

struct load_state {
	const struct hvx_conf_section *secs;
	size_t n;
	void **bufs;
	unsigned char *seen;	/* per key, in schema order */
	FILE *f;
	int line;		/* lines read so far: the handler's line */
	int err_line;
	char err[HVX_CONF_ERR_MAX];
};

static int handle(struct load_state *st, const char *section, const char *name,
		  const char *value);

/* inih's reader, counting lines so errors can name theirs. */
static char *reader(char *str, int num, void *stream)
{
	struct load_state *st = stream;
	char *ret = fgets(str, num, st->f);

	if (ret)
		st->line++;
	return ret;
}

static int handler(void *user, const char *section, const char *name,
		   const char *value)
{
	struct load_state *st = user;
	int ret = handle(st, section, name, value);

	/* Keep only the first problem, as inih does. */
	if (!ret && !st->err_line)
		st->err_line = st->line;
	return ret;
}

static int handle(struct load_state *st, const char *section, const char *name,
		  const char *value)
{
	size_t idx = 0;

	if (st->err_line)
		return 0;
	if (!name) /* a section header alone (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	if (!section[0]) {
		snprintf(st->err, sizeof(st->err),
			 "\"%s\" is outside any [section]", name);
		return 0;
	}
	for (size_t i = 0; i < st->n; i++) {
		const struct hvx_conf_section *sec = &st->secs[i];

		if (strcmp(sec->name, section)) {
			for (const struct hvx_conf_key *k = sec->keys; k && k->name; k++)
				idx++;
			continue;
		}
		for (const struct hvx_conf_key *k = sec->keys; k && k->name; k++, idx++) {
			if (strcmp(k->name, name))
				continue;
			if (st->seen[idx]) {
				snprintf(st->err, sizeof(st->err),
					 "[%s] %s is set twice", section, name);
				return 0;
			}
			st->seen[idx] = 1;
			return !parse_value(sec, k, value, st->bufs[i], st->err,
					    sizeof(st->err));
		}
		snprintf(st->err, sizeof(st->err),
			 "unknown key \"%s\" in section [%s]", name, section);
		return 0;
	}
	snprintf(st->err, sizeof(st->err), "unknown section [%s]", section);
	return 0;
}

int hvx_conf_load(const char *path, const struct hvx_conf_section *secs,
		  size_t n, char *err, size_t errlen)
{
	struct load_state st = { .secs = secs, .n = n };
	size_t nkeys = 0;
	void *bufs[n ? n : 1];
	int ret = -ENOMEM, line;
	FILE *f;

	for (size_t i = 0; i < n; i++)
		for (const struct hvx_conf_key *k = secs[i].keys; k && k->name; k++)
			nkeys++;
	memset(bufs, 0, sizeof(bufs));
	for (size_t i = 0; i < n; i++) {
		bufs[i] = malloc(secs[i].size ? secs[i].size : 1);
		if (!bufs[i])
			goto out;
	}
	st.bufs = bufs;
	st.seen = calloc(nkeys ? nkeys : 1, 1);
	if (!st.seen)
		goto out;
	ret = fill_defaults(secs, n, bufs, err, errlen);
	if (ret)
		goto out;

	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	st.f = f;
	line = ini_parse_stream(reader, &st, handler, &st);
	fclose(f);
	if (line) {
		ret = line < 0 ? -ENOMEM : -EINVAL;
		/* inih's own (syntax) error may come before ours. */
		if (line > 0)
			snprintf(err, errlen, "%s:%d: %s", path, line,
				 line == st.err_line ? st.err :
				 "syntax error (expected [section] or key = value)");
		else
			snprintf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		memcpy(secs[i].dst, bufs[i], secs[i].size);
	ret = 0;
out:
	free(st.seen);
	for (size_t i = 0; i < n; i++)
		free(bufs[i]);
	return ret;
}
