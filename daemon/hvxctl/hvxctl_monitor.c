// SPDX-License-Identifier: GPL-2.0
/* hvxctl monitor: print hvx netlink events as they arrive. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <linux/hvx.h>
#include <linux/hvx_ept.h>

#include "hvx_ept_msg.h"
#include "hvx_vm.h"
#include "hvxctl.h"

/*
 * Event sources: a family's multicast group and how to decode its
 * messages. A family whose module is not loaded is skipped.
 */
static const struct mon_source {
	const char *family;
	uint8_t version;
	const char *group;
	const char *key;	/* JSON member holding the decoded object */
	struct json_object *(*decode)(struct nlmsghdr *nlh, int *err);
	const char *(*cmd_name)(unsigned int cmd);
} sources[] = {
	{ HVX_GENL_NAME, HVX_GENL_VERSION, HVX_MCGRP_EVENTS, "vm",
	  hvx_vm_json, hvx_vm_cmd_name },
	{ HVX_EPT_GENL_NAME, HVX_EPT_GENL_VERSION, HVX_EPT_MCGRP_VIOLATION,
	  "violation", hvx_ept_violation_json, hvx_ept_cmd_name },
};

#define N_SOURCES (sizeof(sources) / sizeof(sources[0]))

struct mon {
	struct hvxctl *c;
	const struct mon_source *src;
	uint64_t left;		/* events still to print; 0 = no limit */
	bool limited;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int print_event(struct nlmsghdr *nlh, void *arg)
{
	struct mon *m = arg;
	const char *cmd = m->src->cmd_name(hvx_nl_cmd(nlh));
	struct json_object *obj, *ev;
	int err, ret;

	obj = m->src->decode(nlh, &err);
	if (!obj) {
		fprintf(stderr, "hvxctl: monitor: skipping malformed %s event: %s\n",
			m->src->family, strerror(-err));
		return 0;
	}
	ev = json_object_new_object();
	if (!ev || hvx_json_add_str(ev, "family", m->src->family) ||
	    hvx_json_add_str(ev, "event", cmd ? cmd : "unknown") ||
	    hvx_json_add(ev, m->src->key, json_object_get(obj))) {
		json_object_put(ev);
		json_object_put(obj);
		return -ENOMEM;
	}
	if (m->c->json) {
		ret = hvx_json_write(stdout, ev, m->c->style);
	} else {
		printf("%s %s", m->src->family, cmd ? cmd : "unknown");
		json_object_object_foreach(obj, k, v) {
			if (json_object_is_type(v, json_type_array))
				printf(" %s %zu", k, json_object_array_length(v));
			else
				printf(" %s %s", k, json_object_get_string(v));
		}
		putchar('\n');
		ret = fflush(stdout) == EOF ? -errno : 0;
	}
	json_object_put(obj);
	json_object_put(ev);
	if (ret)
		return ret;
	if (m->limited && !--m->left)
		stop = 1;
	return 0;
}

static int monitor_events(struct hvxctl *c, int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct pollfd pfd[N_SOURCES];
	struct hvx_nl *nl[N_SOURCES] = { 0 };
	struct mon m = { .c = c };
	size_t n = 0, i;
	int ret = 0;

	if (argc >= 1 && !strcmp(argv[0], "count")) {
		uint32_t cnt;

		if (argc < 2)
			return hvxctl_usage(c, "missing N after \"count\"");
		ret = hvxctl_parse_u32(c, argv[1], "count", &cnt);
		if (ret)
			return ret;
		if (!cnt)
			return hvxctl_usage(c, "count must be at least 1");
		m.left = cnt;
		m.limited = true;
		argc -= 2;
		argv += 2;
	}
	if (argc)
		return hvxctl_usage(c, "unexpected argument \"%s\"", argv[0]);

	for (i = 0; i < N_SOURCES; i++) {
		ret = hvx_nl_open(&nl[i], sources[i].family, sources[i].version);
		if (ret == -ENOENT) {
			nl[i] = NULL;
			continue;
		}
		if (!ret)
			ret = hvx_nl_subscribe(nl[i], sources[i].group);
		if (ret) {
			ret = hvxctl_fail(c, ret, "subscribing to %s/%s",
					  sources[i].family, sources[i].group);
			goto out;
		}
		pfd[i] = (struct pollfd){ .fd = hvx_nl_fd(nl[i]), .events = POLLIN };
		n++;
	}
	if (!n) {
		ret = hvxctl_fail(c, 0, "no hvx netlink family found (is hvx_core loaded?)");
		goto out;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	while (!stop) {
		for (i = 0; i < N_SOURCES; i++)
			pfd[i].fd = nl[i] ? hvx_nl_fd(nl[i]) : -1;
		if (poll(pfd, N_SOURCES, -1) < 0) {
			if (errno == EINTR)
				continue;
			ret = hvxctl_fail(c, -errno, "poll");
			goto out;
		}
		for (i = 0; i < N_SOURCES && !stop; i++) {
			if (!nl[i] || !(pfd[i].revents & POLLIN))
				continue;
			m.src = &sources[i];
			ret = hvx_nl_dispatch(nl[i], print_event, &m);
			if (ret == -ENOBUFS) {
				fprintf(stderr, "hvxctl: monitor: %s events were lost (receive buffer overrun)\n",
					sources[i].family);
				continue;
			}
			if (ret) {
				ret = hvxctl_fail(c, ret, "reading %s events",
						  sources[i].family);
				goto out;
			}
		}
	}
	ret = 0;
out:
	for (i = 0; i < N_SOURCES; i++)
		hvx_nl_close(nl[i]);
	return ret;
}

static const struct hvxctl_cmd monitor_cmds[] = {
	{ "events", "[count N]",
	  "print hvx events as they arrive (JSON: one object per line); stop after N",
	  monitor_events },
	{ NULL }
};

const struct hvxctl_object hvxctl_monitor = {
	.name = "monitor",
	.help = "print hvx events as they arrive",
	.cmds = monitor_cmds,
	.dflt = "events",
	.dflt_args = true,
};
