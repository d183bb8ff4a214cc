// SPDX-License-Identifier: GPL-2.0
/* hvxctl cluster: membership, join tokens and discovery state (hvxd unit "cluster"). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "hvxctl.h"

#define CALL_TIMEOUT_MS 10000

static int call(struct hvxctl *c, const char *method, struct json_object *params,
		void (*text)(struct json_object *))
{
	return hvxctl_call(c, method, params, CALL_TIMEOUT_MS, text);
}

static void text_status(struct json_object *st)
{
	struct json_object *n;

	printf("role %s, %s\n", hvx_json_text(st, "role", "?"),
	       hvx_json_text(st, "state", "?"));
	printf("name %s\n", hvx_json_text(st, "name", "?"));
	if (json_object_object_get_ex(st, "cluster_id", NULL))
		printf("cluster %s\n", hvx_json_text(st, "cluster_id", "?"));
	if (json_object_object_get_ex(st, "fingerprint", NULL))
		printf("key %s\n", hvx_json_text(st, "fingerprint", "?"));
	if (json_object_object_get_ex(st, "manager", NULL))
		printf("manager %s key %s\n", hvx_json_text(st, "manager", "?"),
		       hvx_json_text(st, "manager_fingerprint", "?"));
	if (json_object_object_get_ex(st, "members", NULL))
		printf("members %" PRIu64 " (%" PRIu64 " up), generation %" PRIu64 "\n",
		       hvx_json_u64(st, "members"), hvx_json_u64(st, "members_up"),
		       hvx_json_u64(st, "generation"));
	if (*hvx_json_text(st, "last_error", ""))
		printf("last error: %s\n", hvx_json_text(st, "last_error", ""));
	if (json_object_object_get_ex(st, "counters", &n)) {
		printf("counters:");
		json_object_object_foreach(n, k, v)
			if (json_object_get_int64(v))
				printf(" %s %" PRId64, k, json_object_get_int64(v));
		printf("\n");
	}
}

static void text_members(struct json_object *a)
{
	printf("%-20s %-28s %-5s %s\n", "HOSTNAME", "ADDRESS", "STATE", "HOST-ID");
	for (size_t i = 0; i < json_object_array_length(a); i++) {
		struct json_object *m = json_object_array_get_idx(a, i);

		printf("%-20s %-28s %-5s %s\n", hvx_json_text(m, "hostname", "?"),
		       hvx_json_text(m, "address", "?"), hvx_json_text(m, "state", "?"),
		       hvx_json_text(m, "host_id", "?"));
	}
}

static void text_ttl(int64_t ttl, char *buf, size_t len)
{
	if (ttl <= 0)
		snprintf(buf, len, "-");
	else if (ttl >= 86400)
		snprintf(buf, len, "%" PRId64 "d", ttl / 86400);
	else if (ttl >= 3600)
		snprintf(buf, len, "%" PRId64 "h", ttl / 3600);
	else if (ttl >= 60)
		snprintf(buf, len, "%" PRId64 "m", ttl / 60);
	else
		snprintf(buf, len, "%" PRId64 "s", ttl);
}

static void text_token(struct json_object *t)
{
	struct json_object *v;
	char ttl[24] = "never";

	if (hvx_json_u64(t, "expires") && json_object_object_get_ex(t, "ttl", &v))
		text_ttl(json_object_get_int64(v), ttl, sizeof(ttl));
	printf("%-8s %-8s %-6s %4" PRIu64 "  %s\n", hvx_json_text(t, "id", "?"),
	       hvx_json_text(t, "state", "?"), ttl, hvx_json_u64(t, "uses"),
	       hvx_json_text(t, "description", ""));
}

static void text_tokens(struct json_object *a)
{
	printf("%-8s %-8s %-6s %4s  %s\n", "ID", "STATE", "TTL", "USES", "DESCRIPTION");
	for (size_t i = 0; i < json_object_array_length(a); i++)
		text_token(json_object_array_get_idx(a, i));
}

static void text_created(struct json_object *t)
{
	/* The secret is shown once, on its own line, for scripts. */
	printf("%s\n", hvx_json_text(t, "token", "?"));
}

/*
 * "hvxctl cluster members -j" as scripts and the docs write it: the
 * output options are taken after the verb too, where no argument of
 * these verbs can start with a dash.
 */
static int output_opts(struct hvxctl *c, int argc, char **argv)
{
	int n = 0;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-j") || !strcmp(argv[i], "--json")) {
			c->json = true;
		} else if (!strcmp(argv[i], "-p") || !strcmp(argv[i], "--pretty")) {
			c->json = true;
			c->style = HVX_JSON_PRETTY;
		} else {
			argv[n++] = argv[i];
		}
	}
	return n;
}

static int cluster_status(struct hvxctl *c, int argc, char **argv)
{
	argc = output_opts(c, argc, argv);
	if (argc)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);
	return call(c, "cluster.status", NULL, text_status);
}

static int cluster_members(struct hvxctl *c, int argc, char **argv)
{
	argc = output_opts(c, argc, argv);
	if (argc)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);
	return call(c, "cluster.members", NULL, text_members);
}

static int token_create(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *p = json_object_new_object();

	for (int i = 0; i < argc; i += 2) {
		const char *kw = argv[i] + (!strncmp(argv[i], "--", 2) ? 2 : 0);

		if (strcmp(kw, "ttl") && strcmp(kw, "description")) {
			json_object_put(p);
			return hvxctl_usage(c, "unexpected argument \"%s\"", argv[i]);
		}
		if (i + 1 >= argc) {
			json_object_put(p);
			return hvxctl_usage(c, "%s needs a value", argv[i]);
		}
		json_object_object_add(p, kw, json_object_new_string(argv[i + 1]));
	}
	return call(c, "cluster.token_create", p, text_created);
}

static int cluster_token(struct hvxctl *c, int argc, char **argv)
{
	struct json_object *p;

	if (argc && !strcmp(argv[0], "list"))
		argc = 1 + output_opts(c, argc - 1, argv + 1);
	else if (argc && argv[0][0] == '-')
		argc = output_opts(c, argc, argv);
	if (!argc || !strcmp(argv[0], "list")) {
		if (argc > 1)
			return hvxctl_usage(c, "unexpected argument \"%s\"", argv[1]);
		return call(c, "cluster.token_list", NULL, text_tokens);
	}
	if (!strcmp(argv[0], "create"))
		return token_create(c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "revoke")) {
		if (argc != 2)
			return hvxctl_usage(c, argc < 2 ? "missing token ID" :
					    "unexpected argument \"%s\"", argv[2]);
		/* "abcdef" or a whole token: the id is what names it. */
		p = json_object_new_object();
		json_object_object_add(p, "id", json_object_new_string_len(
			argv[1], strcspn(argv[1], ".")));
		return call(c, "cluster.token_revoke", p, text_token);
	}
	return hvxctl_usage(c, "unknown token command \"%s\" (create, list, revoke)",
			    argv[0]);
}

static const struct hvxctl_cmd cluster_cmds[] = {
	{ "status", NULL, "role, cluster, pinned manager key, last error, drop counters",
	  cluster_status },
	{ "members", NULL, "cluster members: hostname, address, up/down, host id",
	  cluster_members },
	{ "token", "{ create [ttl DURATION] [description TEXT] | list | revoke ID }",
	  "join tokens (manager only); create prints ID.SECRET once",
	  cluster_token },
	{ NULL }
};

const struct hvxctl_object hvxctl_cluster = {
	.name = "cluster",
	.help = "cluster discovery, membership and join tokens (hvxd unit cluster)",
	.cmds = cluster_cmds,
	.dflt = "status",
};
