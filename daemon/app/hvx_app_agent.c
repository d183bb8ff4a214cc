// SPDX-License-Identifier: GPL-2.0
/*
 * hvx-app-agent: the guest's side of app protection.  It hands hvxd a
 * signed manifest and the name of the payload in the VM's share, and prints
 * hvxd's decision.  Exit status: 0 accepted, 1 refused, 2 usage, 3 hvxd
 * unreachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_guest.h"

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvx-app-agent --socket ADDR [--app-id ID] {install|verify} MANIFEST PAYLOAD\n"
		"  --socket ADDR   hvxd's guest channel: unix:/path or vsock:CID:PORT\n"
		"  --app-id ID     the app ID to claim (default: the manifest's)\n"
		"  --timeout MS    how long to wait for the decision (default 30000)\n"
		"PAYLOAD is a path beneath the VM's share, as hvxd sees it.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "app-id", required_argument, NULL, 'a' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *addr = NULL, *app_id = NULL;
	char buf[APP_MANIFEST_MAX + 1], *reply;
	struct app_manifest m;
	enum app_reason reason;
	int opt, fd, ret, timeout = 30000;
	char err[256];
	ssize_t n;

	while ((opt = getopt_long(argc, argv, "s:a:t:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's': addr = optarg; break;
		case 'a': app_id = optarg; break;
		case 't': timeout = atoi(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!addr || argc - optind != 3 || timeout <= 0 ||
	    (strcmp(argv[optind], "install") && strcmp(argv[optind], "verify"))) {
		usage(stderr);
		return 2;
	}
	fd = open(argv[optind + 1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "hvx-app-agent: %s: %s\n", argv[optind + 1], strerror(errno));
		return 2;
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0) {
		fprintf(stderr, "hvx-app-agent: %s: %s\n", argv[optind + 1], strerror(errno));
		return 2;
	}
	/* The claim defaults to the manifest's ID; hvxd checks it all again. */
	if (!app_id && app_manifest_parse(buf, (size_t)n, &m, err, sizeof(err)) == 0) {
		app_id = strdupa(m.app_id);
		app_manifest_free(&m);
	}
	if (!app_id) {
		fprintf(stderr, "hvx-app-agent: %s: %s (use --app-id)\n",
			argv[optind + 1], err);
		return 2;
	}
	fd = app_sock_connect(addr, timeout);
	if (fd < 0) {
		fprintf(stderr, "hvx-app-agent: %s: %s\n", addr, strerror(-fd));
		return 3;
	}
	ret = app_guest_call(fd, !strcmp(argv[optind], "install"), app_id, buf,
			     (size_t)n, argv[optind + 2], &reply, &reason);
	close(fd);
	if (ret) {
		fprintf(stderr, "hvx-app-agent: %s: %s\n", addr, strerror(-ret));
		return 3;
	}
	printf("%s\n", reply);
	free(reply);
	return reason == APP_OK ? 0 : 1;
}
