// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvx_ctl.h"
#include "hvxctl.h"

static const struct hvxctl_object *const objects[] = {
	&hvxctl_vm,
	&hvxctl_monitor,
	&hvxctl_daemon,
	&hvxctl_app,
	&hvxctl_ept,
	&hvxctl_cluster,
	&hvxctl_iommu,
	&hvxctl_pm,
	&hvxctl_poll,
};

#define N_OBJECTS (sizeof(objects) / sizeof(objects[0]))

int hvxctl_fail(struct hvxctl *c, int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvxctl: %s: ", c->what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fputc('\n', stderr);
	return HVXCTL_EXIT_FAIL;
}

int hvxctl_nl_fail(struct hvxctl *c, struct hvx_nl *nl, int err)
{
	const char *ext = hvx_nl_extack(nl);

	if (!ext) {
		fprintf(stderr, "hvxctl: %s: %s\n", c->what, strerror(-err));
		return HVXCTL_EXIT_FAIL;
	}
	return hvxctl_fail(c, err, "%s", ext);
}

struct collect {
	struct json_object *arr;
	struct json_object *(*decode)(struct nlmsghdr *nlh, int *err);
};

static int collect(struct nlmsghdr *nlh, void *arg)
{
	struct collect *col = arg;
	struct json_object *o;
	int err;

	o = col->decode(nlh, &err);
	if (!o)
		return err;
	if (json_object_array_add(col->arr, o)) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

int hvxctl_nl_request(struct hvxctl *c, struct hvx_nl *nl, struct nl_msg *msg,
		      struct json_object *(*decode)(struct nlmsghdr *, int *),
		      struct json_object **out)
{
	struct collect col = { .decode = decode };
	int ret;

	if (decode) {
		col.arr = json_object_new_array();
		if (!col.arr) {
			nlmsg_free(msg);
			return hvxctl_fail(c, -ENOMEM, "allocating output");
		}
	}
	ret = hvx_nl_request(nl, msg, decode ? collect : NULL, &col);
	if (ret) {
		json_object_put(col.arr);
		return hvxctl_nl_fail(c, nl, ret);
	}
	if (out)
		*out = col.arr;
	return 0;
}

int hvxctl_usage(struct hvxctl *c, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "hvxctl: %s: ", c->what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'hvxctl %s --help'.\n", c->object ? c->object : "");
	return HVXCTL_EXIT_USAGE;
}

int hvxctl_nl_open(struct hvxctl *c, struct hvx_nl **nl, const char *family,
		   uint8_t version)
{
	int ret = hvx_nl_open(nl, family, version);

	if (ret == -ENOENT)
		return hvxctl_fail(c, 0,
				   "generic netlink family \"%s\" not found (is its module loaded?)",
				   family);
	if (ret)
		return hvxctl_fail(c, ret, "cannot open netlink family \"%s\"",
				   family);
	return 0;
}

int hvxctl_call(struct hvxctl *c, const char *method, struct json_object *params,
		int timeout_ms, void (*text)(struct json_object *o))
{
	struct json_object *res;
	char err[512];
	int ret;

	ret = hvx_ctl_call(c->socket, method, params, timeout_ms, &res, err,
			   sizeof(err));
	json_object_put(params);
	if (ret)
		return hvxctl_fail(c, ret, "%s", err);
	return hvxctl_print(c, res, text);
}

int hvxctl_print(struct hvxctl *c, struct json_object *o,
		 void (*text)(struct json_object *o))
{
	int ret = 0;

	if (c->json)
		ret = hvx_json_write(stdout, o, c->style);
	else if (text)
		text(o);
	json_object_put(o);
	if (!ret && fflush(stdout) == EOF)
		ret = -errno;
	if (ret)
		return hvxctl_fail(c, ret, "writing output");
	return HVXCTL_EXIT_OK;
}

int hvxctl_parse_u32(struct hvxctl *c, const char *s, const char *what,
		     uint32_t *v)
{
	unsigned long n;
	char *end;

	errno = 0;
	n = strtoul(s, &end, 10);
	if (!*s || *end || errno || n > UINT32_MAX || *s == '-')
		return hvxctl_usage(c, "invalid %s \"%s\"", what, s);
	*v = n;
	return 0;
}

static void usage_main(FILE *f)
{
	fprintf(f,
		"Usage: hvxctl [OPTIONS] OBJECT [VERB [ARGS]]\n"
		"       hvxctl OBJECT --help\n"
		"\n"
		"Options:\n"
		"  -j, --json          JSON output (one line per object)\n"
		"  -p, --pretty        indented JSON output (implies -j)\n"
		"  -S, --socket PATH   hvxd control socket (default %s)\n"
		"  -V, --version       print the version\n"
		"  -h, --help          this help\n"
		"\nObjects:\n", HVX_CTL_PATH);
	for (size_t i = 0; i < N_OBJECTS; i++)
		fprintf(f, "  %-10s %s\n", objects[i]->name, objects[i]->help);
	fprintf(f, "\nExit status: 0 success, 1 refused or failed, 2 usage error.\n");
}

static void usage_object(FILE *f, const struct hvxctl_object *o)
{
	fprintf(f, "Usage:\n");
	for (const struct hvxctl_cmd *v = o->cmds; v->name; v++)
		fprintf(f, "  hvxctl %s %s%s%s\n", o->name, v->name,
			v->args ? " " : "", v->args ? v->args : "");
	fprintf(f, "\n");
	for (const struct hvxctl_cmd *v = o->cmds; v->name; v++)
		fprintf(f, "  %-8s %s\n", v->name, v->help);
	if (o->dflt)
		fprintf(f, "\nWith no verb: %s.\n", o->dflt);
}

static bool is_help(const char *s)
{
	return !strcmp(s, "--help") || !strcmp(s, "-h") || !strcmp(s, "help");
}

static int run_object(struct hvxctl *c, const struct hvxctl_object *o,
		      int argc, char **argv)
{
	const char *verb = argc ? argv[0] : o->dflt;
	const struct hvxctl_cmd *v;
	size_t off;

	snprintf(c->what, sizeof(c->what), "%s", o->name);
	c->object = o->name;
	if (argc && is_help(argv[0])) {
		usage_object(stdout, o);
		return HVXCTL_EXIT_OK;
	}
	if (!verb)
		return hvxctl_usage(c, "missing verb");
	for (v = o->cmds; v->name; v++)
		if (!strcmp(v->name, verb))
			break;
	if (!v->name && o->dflt_args) {
		for (v = o->cmds; strcmp(v->name, o->dflt); v++)
			;
		verb = NULL;
	}
	if (!v->name)
		return hvxctl_usage(c, "unknown verb \"%s\"", verb);
	if (argc && verb) {
		argc--;
		argv++;
	}
	if (argc && is_help(argv[0])) {
		printf("Usage: hvxctl %s %s%s%s\n  %s\n", o->name, v->name,
		       v->args ? " " : "", v->args ? v->args : "", v->help);
		return HVXCTL_EXIT_OK;
	}
	/* Errors name the object, verb and first argument: "vm add foo". */
	off = snprintf(c->what, sizeof(c->what), "%s %s", o->name, v->name);
	if (argc && off < sizeof(c->what))
		snprintf(c->what + off, sizeof(c->what) - off, " %s", argv[0]);
	return v->run(c, argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 'S' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hvxctl c = { .socket = HVX_CTL_PATH, .what = "hvxctl" };
	int opt;

	if (getenv("HVX_SOCKET"))
		c.socket = getenv("HVX_SOCKET");
	/* "+": options stop at the object, as in ip(8). */
	while ((opt = getopt_long(argc, argv, "+jpS:Vh", opts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			c.json = true;
			break;
		case 'p':
			c.json = true;
			c.style = HVX_JSON_PRETTY;
			break;
		case 'S':
			c.socket = optarg;
			break;
		case 'V':
			printf("hvxctl %s\n", HVX_VERSION);
			return HVXCTL_EXIT_OK;
		case 'h':
			usage_main(stdout);
			return HVXCTL_EXIT_OK;
		default:
			fprintf(stderr, "Try 'hvxctl --help'.\n");
			return HVXCTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc) {
		usage_main(stderr);
		return HVXCTL_EXIT_USAGE;
	}
	if (is_help(argv[0])) {
		usage_main(stdout);
		return HVXCTL_EXIT_OK;
	}
	for (size_t i = 0; i < N_OBJECTS; i++)
		if (!strcmp(objects[i]->name, argv[0]))
			return run_object(&c, objects[i], argc - 1, argv + 1);
	fprintf(stderr, "hvxctl: unknown object \"%s\"\nTry 'hvxctl --help'.\n",
		argv[0]);
	return HVXCTL_EXIT_USAGE;
}
