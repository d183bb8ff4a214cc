/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Launch a verified app: as a sandboxed transient systemd service when
 * systemd runs, else by fork/exec with the privileges dropped.
 */
#ifndef HVX_APP_LAUNCH_H
#define HVX_APP_LAUNCH_H

#include <stdbool.h>
#include <sys/types.h>

#include <systemd/sd-event.h>

struct app_launch_spec {
	const char *path;		/* the stored, verified payload */
	char *const *args;		/* from the signed manifest */
	unsigned int n_args;
	const char *unit;		/* transient unit name, "….service" */
	const char *description;
	const char *user;		/* fork/exec as root: run as this user */
	int timeout_ms;			/* for systemd's job */
};

struct app_launched {
	pid_t pid;
	int pidfd;			/* fork/exec: ours to watch and reap */
	bool systemd;
	char unit[256];
};

/* "auto" picks systemd when it is PID 1 (sd_booted()). */
enum app_launcher { APP_LAUNCH_AUTO, APP_LAUNCH_SYSTEMD, APP_LAUNCH_EXEC };

int app_launcher_parse(const char *s, enum app_launcher *out);

struct app_launch_op;

/* @l is NULL when @err is set; @msg says why. */
typedef void (*app_launch_fn)(void *userdata, int err,
			      const struct app_launched *l, const char *msg);

/*
 * Start @spec.  fork/exec completes at once: 0 with @out filled.  systemd
 * answers later on @e's loop: 1, then @fn is called exactly once, unless
 * app_launch_cancel(*@op) comes first.  -errno with @err when nothing could
 * be started.
 */
int app_launch(sd_event *e, enum app_launcher how,
	       const struct app_launch_spec *spec, struct app_launched *out,
	       app_launch_fn fn, void *userdata, struct app_launch_op **op,
	       char *err, size_t errlen);
void app_launch_cancel(struct app_launch_op *op);

#endif
