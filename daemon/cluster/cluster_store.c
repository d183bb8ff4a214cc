// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cluster_crypto.h"
#include "cluster_store.h"

#define STATE_VERSION 1

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int cluster_write_atomic(int dirfd, const char *name, const void *data,
			 size_t len, mode_t mode)
{
	char tmp[256];
	uint8_t rnd[6];
	char hex[13];
	int fd, ret;

	if (cluster_random(rnd, sizeof(rnd)))
		return -EIO;
	cluster_hex(rnd, sizeof(rnd), hex);
	if (snprintf(tmp, sizeof(tmp), ".%s.%s.tmp", name, hex) >=
	    (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, len);
	if (!ret && fsync(fd))
		ret = -errno;
	if (close(fd) && !ret)
		ret = -errno;
	if (!ret && renameat(dirfd, tmp, dirfd, name))
		ret = -errno;
	if (ret) {
		unlinkat(dirfd, tmp, 0);
		return ret;
	}
	/* The rename itself must reach the disk before we report success. */
	return fsync(dirfd) ? -errno : 0;
}

int cluster_read_file(int dirfd, const char *name, size_t max, char **out)
{
	struct stat sb;
	size_t got = 0;
	char *buf;
	int fd, ret = 0;

	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb)) {
		ret = -errno;
		goto out;
	}
	if ((size_t)sb.st_size > max) {
		ret = -EFBIG;
		goto out;
	}
	buf = malloc(sb.st_size + 1);
	if (!buf) {
		ret = -ENOMEM;
		goto out;
	}
	while (got < (size_t)sb.st_size) {
		ssize_t n = read(fd, buf + got, sb.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ret = n ? -errno : -EIO;
			free(buf);
			goto out;
		}
		got += n;
	}
	buf[got] = '\0';
	*out = buf;
out:
	close(fd);
	return ret;
}

static struct json_object *bytes_json(const uint8_t *b, size_t len)
{
	char hex[2 * 64 + 1];

	cluster_hex(b, len, hex);
	return json_object_new_string(hex);
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	json_object_object_add(o, k, v);
}

static struct json_object *facts_json(const struct cluster_facts *f)
{
	struct json_object *o = json_object_new_object();

	add(o, "cpu_model", json_object_new_string(f->cpu_model));
	add(o, "features", json_object_new_string(f->features));
	add(o, "memory_mb", json_object_new_int64(f->memory_mb));
	add(o, "modules", json_object_new_string(f->modules));
	add(o, "labels", json_object_new_string(f->labels));
	return o;
}

const char *cluster_member_state_name(enum cluster_member_state s)
{
	return s == CLUSTER_MEMBER_UP ? "up" : "down";
}

struct json_object *cluster_member_to_json(const struct cluster_member *m)
{
	struct json_object *o = json_object_new_object();
	char fp[72];

	cluster_fp_format(m->fp, fp);
	add(o, "host_id", bytes_json(m->host_id, sizeof(m->host_id)));
	add(o, "hostname", json_object_new_string(m->hostname));
	add(o, "address", json_object_new_string(m->address));
	add(o, "state", json_object_new_string(cluster_member_state_name(m->state)));
	add(o, "fingerprint", json_object_new_string(fp));
	add(o, "token", json_object_new_string(m->token_id));
	add(o, "manager", json_object_new_string(m->manager));
	add(o, "joined", json_object_new_int64(m->joined));
	add(o, "last_seen", json_object_new_int64(m->last_seen));
	add(o, "facts", facts_json(&m->facts));
	return o;
}

struct json_object *cluster_members_to_json(const struct cluster_state *st)
{
	struct json_object *a = json_object_new_array();

	for (size_t i = 0; i < st->n_members; i++)
		json_object_array_add(a, cluster_member_to_json(&st->members[i]));
	return a;
}

/* Strict field readers: wrong type, missing or oversized is an error. */
static int jstr(struct json_object *o, const char *k, char *dst, size_t size)
{
	struct json_object *f;
	const char *s;

	if (!json_object_object_get_ex(o, k, &f) ||
	    !json_object_is_type(f, json_type_string))
		return -EINVAL;
	s = json_object_get_string(f);
	if (strlen(s) >= size)
		return -EINVAL;
	strcpy(dst, s);
	return 0;
}

static int jbytes(struct json_object *o, const char *k, uint8_t *dst,
		  size_t len)
{
	char hex[2 * 64 + 1];

	if (jstr(o, k, hex, sizeof(hex)))
		return -EINVAL;
	return cluster_unhex(hex, dst, len);
}

static int jint(struct json_object *o, const char *k, int64_t *v)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, k, &f) ||
	    !json_object_is_type(f, json_type_int))
		return -EINVAL;
	*v = json_object_get_int64(f);
	return *v < 0 ? -EINVAL : 0;
}

static int facts_from_json(struct cluster_facts *f, struct json_object *o)
{
	int64_t mem;

	if (!json_object_is_type(o, json_type_object) ||
	    jstr(o, "cpu_model", f->cpu_model, sizeof(f->cpu_model)) ||
	    jstr(o, "features", f->features, sizeof(f->features)) ||
	    jint(o, "memory_mb", &mem) ||
	    jstr(o, "modules", f->modules, sizeof(f->modules)) ||
	    jstr(o, "labels", f->labels, sizeof(f->labels)))
		return -EINVAL;
	f->memory_mb = mem;
	return 0;
}

int cluster_member_from_json(struct cluster_member *m, struct json_object *o)
{
	struct json_object *facts;
	char state[8], fp[72];

	if (!json_object_is_type(o, json_type_object) ||
	    jbytes(o, "host_id", m->host_id, sizeof(m->host_id)) ||
	    jstr(o, "hostname", m->hostname, sizeof(m->hostname)) ||
	    jstr(o, "address", m->address, sizeof(m->address)) ||
	    jstr(o, "state", state, sizeof(state)) ||
	    jstr(o, "fingerprint", fp, sizeof(fp)) ||
	    cluster_fp_parse(fp, m->fp) ||
	    jstr(o, "token", m->token_id, sizeof(m->token_id)) ||
	    jstr(o, "manager", m->manager, sizeof(m->manager)) ||
	    jint(o, "joined", &m->joined) ||
	    jint(o, "last_seen", &m->last_seen) ||
	    !json_object_object_get_ex(o, "facts", &facts) ||
	    facts_from_json(&m->facts, facts))
		return -EINVAL;
	if (!strcmp(state, "up"))
		m->state = CLUSTER_MEMBER_UP;
	else if (!strcmp(state, "down"))
		m->state = CLUSTER_MEMBER_DOWN;
	else
		return -EINVAL;
	return 0;
}

struct cluster_member *cluster_state_member(struct cluster_state *st,
					    const uint8_t *host_id)
{
	for (size_t i = 0; i < st->n_members; i++)
		if (!memcmp(st->members[i].host_id, host_id, CLUSTER_ID_LEN))
			return &st->members[i];
	return NULL;
}

struct cluster_member *cluster_state_add(struct cluster_state *st,
					 const struct cluster_member *m)
{
	if (st->n_members == st->cap_members) {
		size_t cap = st->cap_members ? 2 * st->cap_members : 16;
		struct cluster_member *v;

		v = reallocarray(st->members, cap, sizeof(*v));
		if (!v)
			return NULL;
		st->members = v;
		st->cap_members = cap;
	}
	st->members[st->n_members] = *m;
	st->generation++;
	return &st->members[st->n_members++];
}

void cluster_state_remove(struct cluster_state *st, struct cluster_member *m)
{
	size_t i = m - st->members;

	memmove(m, m + 1, (st->n_members - i - 1) * sizeof(*m));
	st->n_members--;
	st->generation++;
}

static int parse_json(const char *text, struct json_object **out)
{
	struct json_tokener *tok = json_tokener_new();
	struct json_object *o;
	size_t len = strlen(text);

	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != len ||
	    !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		json_tokener_free(tok);
		return -EINVAL;
	}
	json_tokener_free(tok);
	*out = o;
	return 0;
}

int cluster_state_load(struct cluster_state *st, int dirfd, char *err,
		       size_t err_len)
{
	struct json_object *o = NULL, *members, *tokens;
	int64_t version, gen;
	char *text, msg[128];
	size_t n;
	int ret;

	memset(st, 0, sizeof(*st));
	ret = cluster_read_file(dirfd, CLUSTER_STATE_FILE, CLUSTER_FILE_MAX, &text);
	if (ret == -ENOENT) {
		/* First start: a new cluster. */
		ret = cluster_random(st->cluster_id, sizeof(st->cluster_id));
		if (!ret)
			ret = cluster_state_save(st, dirfd);
		if (ret)
			snprintf(err, err_len, "creating %s: %s",
				 CLUSTER_STATE_FILE, strerror(-ret));
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "%s: %s", CLUSTER_STATE_FILE, strerror(-ret));
		return ret;
	}
	ret = parse_json(text, &o);
	free(text);
	if (ret) {
		snprintf(err, err_len, "%s: not valid JSON", CLUSTER_STATE_FILE);
		return ret;
	}
	ret = -EINVAL;
	if (jint(o, "version", &version) || version != STATE_VERSION) {
		snprintf(err, err_len, "%s: unsupported version", CLUSTER_STATE_FILE);
		goto out;
	}
	if (jbytes(o, "cluster_id", st->cluster_id, sizeof(st->cluster_id)) ||
	    jint(o, "generation", &gen) ||
	    !json_object_object_get_ex(o, "members", &members) ||
	    !json_object_is_type(members, json_type_array) ||
	    !json_object_object_get_ex(o, "tokens", &tokens)) {
		snprintf(err, err_len, "%s: missing or bad field", CLUSTER_STATE_FILE);
		goto out;
	}
	n = json_object_array_length(members);
	for (size_t i = 0; i < n; i++) {
		struct cluster_member m = { 0 };

		if (cluster_member_from_json(&m, json_object_array_get_idx(members, i)) ||
		    cluster_state_member(st, m.host_id)) {
			snprintf(err, err_len, "%s: members[%zu] is malformed",
				 CLUSTER_STATE_FILE, i);
			goto out;
		}
		if (!cluster_state_add(st, &m)) {
			ret = -ENOMEM;
			goto out;
		}
	}
	st->generation = gen;
	ret = cluster_tokens_from_json(&st->tokens, tokens, msg, sizeof(msg));
	if (ret)
		snprintf(err, err_len, "%s: %s", CLUSTER_STATE_FILE, msg);
out:
	json_object_put(o);
	if (ret)
		cluster_state_free(st);
	return ret;
}

int cluster_state_save(const struct cluster_state *st, int dirfd)
{
	struct json_object *o = json_object_new_object();
	const char *text;
	int ret;

	add(o, "version", json_object_new_int(STATE_VERSION));
	add(o, "cluster_id", bytes_json(st->cluster_id, sizeof(st->cluster_id)));
	add(o, "generation", json_object_new_int64(st->generation));
	add(o, "members", cluster_members_to_json(st));
	add(o, "tokens", cluster_tokens_to_json(&st->tokens, 0, 1));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	/* 0600: the file holds token secrets. */
	ret = cluster_write_atomic(dirfd, CLUSTER_STATE_FILE, text,
				   strlen(text), 0600);
	json_object_put(o);
	return ret;
}

void cluster_state_free(struct cluster_state *st)
{
	free(st->members);
	cluster_tokens_free(&st->tokens);
	memset(st, 0, sizeof(*st));
}

int cluster_host_load(struct cluster_host_state *hs, int dirfd, char *err,
		      size_t err_len)
{
	struct json_object *o = NULL, *c;
	char *text, fp[72];
	int64_t port;
	int ret;

	memset(hs, 0, sizeof(*hs));
	ret = cluster_read_file(dirfd, CLUSTER_HOST_FILE, CLUSTER_FILE_MAX, &text);
	if (ret == -ENOENT) {
		ret = cluster_random(hs->host_id, sizeof(hs->host_id));
		if (!ret)
			ret = cluster_host_save(hs, dirfd);
		if (ret)
			snprintf(err, err_len, "creating %s: %s",
				 CLUSTER_HOST_FILE, strerror(-ret));
		return ret;
	}
	if (ret) {
		snprintf(err, err_len, "%s: %s", CLUSTER_HOST_FILE, strerror(-ret));
		return ret;
	}
	ret = parse_json(text, &o);
	free(text);
	if (ret) {
		snprintf(err, err_len, "%s: not valid JSON", CLUSTER_HOST_FILE);
		return ret;
	}
	ret = -EINVAL;
	if (jbytes(o, "host_id", hs->host_id, sizeof(hs->host_id)))
		goto bad;
	if (json_object_object_get_ex(o, "cluster", &c)) {
		if (jbytes(c, "cluster_id", hs->cluster_id,
			   sizeof(hs->cluster_id)) ||
		    jstr(c, "fingerprint", fp, sizeof(fp)) ||
		    cluster_fp_parse(fp, hs->fp) ||
		    jstr(c, "manager", hs->manager, sizeof(hs->manager)) ||
		    jint(c, "port", &port) || !port || port > 65535)
			goto bad;
		hs->manager_port = port;
		hs->joined = true;
	}
	ret = 0;
	goto out;
bad:
	snprintf(err, err_len, "%s: missing or bad field", CLUSTER_HOST_FILE);
out:
	json_object_put(o);
	return ret;
}

int cluster_host_save(const struct cluster_host_state *hs, int dirfd)
{
	struct json_object *o = json_object_new_object(), *c;
	const char *text;
	char fp[72];
	int ret;

	add(o, "host_id", bytes_json(hs->host_id, sizeof(hs->host_id)));
	if (hs->joined) {
		c = json_object_new_object();
		cluster_fp_format(hs->fp, fp);
		add(c, "cluster_id", bytes_json(hs->cluster_id,
						sizeof(hs->cluster_id)));
		add(c, "fingerprint", json_object_new_string(fp));
		add(c, "manager", json_object_new_string(hs->manager));
		add(c, "port", json_object_new_int(hs->manager_port));
		add(o, "cluster", c);
	}
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
	ret = cluster_write_atomic(dirfd, CLUSTER_HOST_FILE, text,
				   strlen(text), 0600);
	json_object_put(o);
	return ret;
}
