// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-primary: the primary (trusted) side of app protection.  It holds the
 * trusted keys and the allowlist, answers hvxd's lookups and records the
 * versions hvxd accepted, so that rollback protection does not depend on
 * anything a guest says.  In production it runs in the primary VM and
 * listens on vsock; in tests on a unix socket.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "app_policy.h"
#include "app_msg.h"

struct conn {
	struct conn *next, **pprev;
	struct primary *pr;
	sd_event_source *io;
};

struct primary {
	sd_event *event;
	struct app_policy policy;
	struct conn *conns;
};

static void conn_free(struct conn *c)
{
	*c->pprev = c->next;
	if (c->next)
		c->next->pprev = c->pprev;
	sd_event_source_disable_unref(c->io);
	free(c);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct conn *c = data;
	json_t *req, *rep;

	req = app_msg_recv(fd);
	if (!req && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (!req) {
		/* EOF or garbage: the conversation is over either way. */
		conn_free(c);
		return 0;
	}
	rep = app_primary_handle(&c->pr->policy, req);
	json_decref(req);
	if (!rep || app_msg_send(fd, rep) < 0)
		conn_free(c);
	json_decref(rep);
	return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *data)
{
	struct primary *pr = data;
	struct conn *c;
	int cfd;

	cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return 0;
	c = calloc(1, sizeof(*c));
	if (!c || sd_event_add_io(pr->event, &c->io, cfd, EPOLLIN, on_client, c) < 0) {
		free(c);
		close(cfd);
		return 0;
	}
	sd_event_source_set_io_fd_own(c->io, 1);
	c->pr = pr;
	c->next = pr->conns;
	if (c->next)
		c->next->pprev = &c->next;
	c->pprev = &pr->conns;
	pr->conns = c;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvx-primary --policy FILE --listen ADDR [--state FILE]\n"
		"  --policy FILE   trusted keys and allowlist (JSON)\n"
		"  --listen ADDR   unix:/path or vsock:PORT\n"
		"  --state FILE    where accepted versions are kept across restarts\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "policy", required_argument, NULL, 'p' },
		{ "listen", required_argument, NULL, 'l' },
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	const char *policy = NULL, *listen_addr = NULL, *state = NULL;
	struct primary pr = { 0 };
	char err[512];
	int c, fd, ret;

	while ((c = getopt_long(argc, argv, "p:l:s:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p': policy = optarg; break;
		case 'l': listen_addr = optarg; break;
		case 's': state = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!policy || !listen_addr || optind != argc) {
		usage(stderr);
		return 2;
	}
	if (app_policy_load(&pr.policy, policy, state, err, sizeof(err))) {
		fprintf(stderr, "hvx-primary: policy: %s\n", err);
		return 1;
	}
	fd = app_sock_listen(listen_addr);
	if (fd < 0) {
		fprintf(stderr, "hvx-primary: listen %s: %s\n", listen_addr,
			strerror(-fd));
		app_policy_free(&pr.policy);
		return 1;
	}
	ret = sd_event_default(&pr.event);
	if (ret >= 0) {
		sigset_t ss;

		sigemptyset(&ss);
		sigaddset(&ss, SIGTERM);
		sigaddset(&ss, SIGINT);
		sigprocmask(SIG_BLOCK, &ss, NULL);
		ret = sd_event_add_signal(pr.event, NULL, SIGTERM, NULL, NULL);
		if (ret >= 0)
			ret = sd_event_add_signal(pr.event, NULL, SIGINT, NULL, NULL);
		if (ret >= 0)
			ret = sd_event_add_io(pr.event, NULL, fd, EPOLLIN, on_accept, &pr);
	}
	if (ret < 0) {
		fprintf(stderr, "hvx-primary: event loop: %s\n", strerror(-ret));
	} else {
		fprintf(stderr, "hvx-primary: %u keys, %u apps, listening on %s\n",
			pr.policy.n_keys, pr.policy.n_apps, listen_addr);
		sd_notify(0, "READY=1");
		ret = sd_event_loop(pr.event);
	}
	while (pr.conns)
		conn_free(pr.conns);
	sd_event_unref(pr.event);
	close(fd);
	if (!strncmp(listen_addr, "unix:", 5))
		unlink(listen_addr + 5);
	app_policy_free(&pr.policy);
	return ret < 0 ? 1 : 0;
}
