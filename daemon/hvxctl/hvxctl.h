/* SPDX-License-Identifier: GPL-2.0 */
/*
 * hvxctl: `hvxctl [OPTIONS] OBJECT VERB ARGS`, in the ip/wg style.
 *
 * Each object lives in its own file (hvxctl_vm.c, hvxctl_pm.c...) and
 * exports one struct hvxctl_object, listed in the table in hvxctl.c.
 */
#ifndef HVXCTL_H
#define HVXCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "hvx_json.h"
#include "hvx_nl.h"

/* Exit codes scripts can rely on (hvxctl(8), EXIT STATUS). */
enum {
	HVXCTL_EXIT_OK = 0,
	HVXCTL_EXIT_FAIL = 1,	/* the kernel or hvxd refused or failed */
	HVXCTL_EXIT_USAGE = 2,	/* bad command line */
};

struct hvxctl {
	bool json;
	enum hvx_json_style style;
	const char *socket;	/* hvxd control socket */
	const char *object;	/* for the --help hint */
	char what[128];		/* "vm add foo": prefix of error messages */
};

struct hvxctl_cmd {
	const char *name;
	const char *args;	/* synopsis of the arguments */
	const char *help;
	/* argv[0] is the first argument after the verb. */
	int (*run)(struct hvxctl *c, int argc, char **argv);
};

struct hvxctl_object {
	const char *name;
	const char *help;
	const struct hvxctl_cmd *cmds;	/* ends with { .name = NULL } */
	const char *dflt;		/* verb run when none is given */
	/* A first word that is no verb is an argument of dflt. */
	bool dflt_args;
};

extern const struct hvxctl_object hvxctl_vm;
extern const struct hvxctl_object hvxctl_monitor;
extern const struct hvxctl_object hvxctl_daemon;
extern const struct hvxctl_object hvxctl_app;
extern const struct hvxctl_object hvxctl_ept;
extern const struct hvxctl_object hvxctl_cluster;
extern const struct hvxctl_object hvxctl_iommu;
extern const struct hvxctl_object hvxctl_pm;
extern const struct hvxctl_object hvxctl_poll;

/* "hvxctl: WHAT: MESSAGE: strerror(err)" on stderr; returns 1. */
int hvxctl_fail(struct hvxctl *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Same with the kernel's extack message of the failed request, if any. */
int hvxctl_nl_fail(struct hvxctl *c, struct hvx_nl *nl, int err);
/* "hvxctl: WHAT: MESSAGE" and a hint to --help; returns 2. */
int hvxctl_usage(struct hvxctl *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Open a genl family, with a clear message when its module is absent. */
int hvxctl_nl_open(struct hvxctl *c, struct hvx_nl **nl, const char *family,
		   uint8_t version);

/*
 * Send @msg (consumed) on @nl and wait for the answer; with @decode,
 * *@out gets the replies decoded into an array. Returns an exit code.
 */
int hvxctl_nl_request(struct hvxctl *c, struct hvx_nl *nl, struct nl_msg *msg,
		      struct json_object *(*decode)(struct nlmsghdr *, int *),
		      struct json_object **out);

/*
 * Call hvxd's control method @method with @params (consumed, may be NULL),
 * waiting up to @timeout_ms, and print the result as hvxctl_print() does.
 * Returns an exit code.
 */
int hvxctl_call(struct hvxctl *c, const char *method, struct json_object *params,
		int timeout_ms, void (*text)(struct json_object *o));

/*
 * Print @o (consumed) as JSON with -j/-p, else through @text. Returns an
 * exit code.
 */
int hvxctl_print(struct hvxctl *c, struct json_object *o,
		 void (*text)(struct json_object *o));

/* Parse an unsigned number for argument @what; 0 or a usage exit code. */
int hvxctl_parse_u32(struct hvxctl *c, const char *s, const char *what,
		     uint32_t *v);

#endif /* HVXCTL_H */
