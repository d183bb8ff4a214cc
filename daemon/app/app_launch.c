// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-daemon.h>

#include "app_launch.h"

int app_launcher_parse(const char *s, enum app_launcher *out)
{
	if (!strcmp(s, "auto"))
		*out = APP_LAUNCH_AUTO;
	else if (!strcmp(s, "systemd"))
		*out = APP_LAUNCH_SYSTEMD;
	else if (!strcmp(s, "exec"))
		*out = APP_LAUNCH_EXEC;
	else
		return -EINVAL;
	return 0;
}

/*
 * The sandbox: the app gets a fresh dynamic user, a read-only view of the
 * system, no devices, no network, no new privileges, no capabilities and the
 * system-service syscall set; hvxd.service is hardened the same way.
 */
static int append_sandbox(sd_bus_message *m, const struct app_launch_spec *spec)
{
	static const char *const bools[] = {
		"DynamicUser", "PrivateTmp", "PrivateDevices", "PrivateNetwork",
		"NoNewPrivileges", "ProtectKernelTunables", "ProtectKernelModules",
		"ProtectKernelLogs", "ProtectControlGroups", "ProtectClock",
		"ProtectHostname", "LockPersonality", "RestrictRealtime",
		"RestrictSUIDSGID", "MemoryDenyWriteExecute", NULL,
	};
	unsigned int i;
	int r;

	r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)",
				  "Description", "s", spec->description,
				  "Type", "s", "exec",
				  "ProtectSystem", "s", "strict",
				  "ProtectHome", "s", "yes",
				  "CapabilityBoundingSet", "t", (uint64_t)0,
				  "UMask", "u", (uint32_t)0077);
	for (i = 0; r >= 0 && bools[i]; i++)
		r = sd_bus_message_append(m, "(sv)", bools[i], "b", 1);
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "SystemCallFilter", "(bas)",
					  1, 1, "@system-service");
	if (r >= 0)
		r = sd_bus_message_append(m, "(sv)", "RestrictAddressFamilies",
					  "(bas)", 1, 1, "AF_UNIX");
	return r;
}

static int append_exec(sd_bus_message *m, const struct app_launch_spec *spec)
{
	unsigned int i;
	int r;

	r = sd_bus_message_open_container(m, 'r', "sv");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", "ExecStart");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'v', "a(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sasb)");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'r', "sasb");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", spec->path);
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "s");
	if (r >= 0)
		r = sd_bus_message_append(m, "s", spec->path);
	for (i = 0; r >= 0 && i < spec->n_args; i++)
		r = sd_bus_message_append(m, "s", spec->args[i]);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "b", 0);
	for (i = 0; r >= 0 && i < 4; i++)
		r = sd_bus_message_close_container(m);
	return r;
}

/*
 * As root we talk to PID 1 on its private socket, as systemctl does: no
 * dependency on dbus-daemon, which a minimal host or test VM may not run.
 */
static int bus_open(sd_bus **bus)
{
	int r;

	if (geteuid() != 0)
		return sd_bus_open_system(bus);
	r = sd_bus_new(bus);
	if (r < 0)
		return r;
	r = sd_bus_set_address(*bus, "unix:path=/run/systemd/private");
	if (r >= 0)
		r = sd_bus_start(*bus);
	if (r < 0)
		*bus = sd_bus_unref(*bus);
	return r;
}

struct app_launch_op {
	sd_bus *bus;
	sd_bus_slot *call;
	sd_event_source *timer, *reaper;
	char unit[256];
	char *job;		/* StartTransientUnit's answer */
	char early_job[256];	/* a JobRemoved that overtook that answer */
	char early_result[32];
	bool done;
	app_launch_fn fn;
	void *userdata;
};

static void op_free(struct app_launch_op *op)
{
	sd_bus_slot_unref(op->call);
	sd_event_source_disable_unref(op->timer);
	sd_event_source_disable_unref(op->reaper);
	sd_bus_flush_close_unref(op->bus);
	free(op->job);
	free(op);
}

/* The bus cannot go away inside its own callback: free from the loop. */
static int on_reap(sd_event_source *s, void *data)
{
	op_free(data);
	return 0;
}

static void finish(struct app_launch_op *op, int err, pid_t pid, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void finish(struct app_launch_op *op, int err, pid_t pid, const char *fmt, ...)
{
	struct app_launched l = { .pid = pid, .pidfd = -1, .systemd = true };
	char msg[512] = "";
	va_list ap;

	if (op->done)
		return;
	op->done = true;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	snprintf(l.unit, sizeof(l.unit), "%s", op->unit);
	sd_event_source_set_enabled(op->timer, SD_EVENT_OFF);
	op->fn(op->userdata, err, err ? NULL : &l, msg);
	sd_event_source_set_enabled(op->reaper, SD_EVENT_ONESHOT);
}

static int on_main_pid(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct app_launch_op *op = data;
	const sd_bus_error *err = sd_bus_message_get_error(m);
	uint32_t pid = 0;
	int r;

	if (err) {
		finish(op, -EIO, 0, "unit %s: no main PID: %s", op->unit, err->message);
		return 0;
	}
	r = sd_bus_message_read(m, "v", "u", &pid);
	if (r < 0 || pid == 0)
		finish(op, r < 0 ? r : -ESRCH, 0, "unit %s: no main PID: %s", op->unit,
		       r < 0 ? strerror(-r) : "exited already");
	else
		finish(op, 0, (pid_t)pid, NULL);
	return 0;
}

/* Type=exec: "done" means execve() of the app succeeded. */
static void job_finished(struct app_launch_op *op, const char *result)
{
	char *upath = NULL;
	int r;

	if (strcmp(result, "done")) {
		finish(op, -EIO, 0, "unit %s: job %s", op->unit, result);
		return;
	}
	sd_bus_slot_unref(op->call);
	op->call = NULL;
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", op->unit, &upath);
	if (r >= 0)
		r = sd_bus_call_method_async(op->bus, &op->call, "org.freedesktop.systemd1",
					     upath, "org.freedesktop.DBus.Properties",
					     "Get", on_main_pid, op, "ss",
					     "org.freedesktop.systemd1.Service", "MainPID");
	free(upath);
	if (r < 0)
		finish(op, r, 0, "unit %s: %s", op->unit, strerror(-r));
}

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct app_launch_op *op = data;
	const char *path, *unit, *result;
	uint32_t id;

	if (op->done || sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (!op->job) {
		snprintf(op->early_job, sizeof(op->early_job), "%s", path);
		snprintf(op->early_result, sizeof(op->early_result), "%s", result);
	} else if (!strcmp(path, op->job)) {
		job_finished(op, result);
	}
	return 0;
}

static int on_started(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct app_launch_op *op = data;
	const sd_bus_error *err = sd_bus_message_get_error(m);
	const char *job;
	int r;

	if (err) {
		finish(op, -EIO, 0, "StartTransientUnit %s: %s", op->unit, err->message);
		return 0;
	}
	r = sd_bus_message_read(m, "o", &job);
	if (r >= 0) {
		op->job = strdup(job);
		r = op->job ? 0 : -ENOMEM;
	}
	if (r < 0)
		finish(op, r, 0, "StartTransientUnit %s: %s", op->unit, strerror(-r));
	else if (!strcmp(op->early_job, job))
		job_finished(op, op->early_result);
	return 0;
}

static int on_timeout(sd_event_source *s, uint64_t usec, void *data)
{
	struct app_launch_op *op = data;

	finish(op, -ETIMEDOUT, 0, "unit %s: systemd did not start it in time", op->unit);
	return 0;
}

static int launch_systemd(sd_event *e, const struct app_launch_spec *spec,
			  app_launch_fn fn, void *userdata,
			  struct app_launch_op **out, char *err, size_t errlen)
{
	struct app_launch_op *op;
	sd_bus_message *m = NULL;
	int r;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->fn = fn;
	op->userdata = userdata;
	snprintf(op->unit, sizeof(op->unit), "%s", spec->unit);
	r = bus_open(&op->bus);
	if (r < 0) {
		snprintf(err, errlen, "cannot connect to systemd: %s", strerror(-r));
		free(op);
		return r;
	}
	r = sd_bus_attach_event(op->bus, e, 0);
	if (r >= 0)
		r = sd_event_add_time_relative(e, &op->timer, CLOCK_MONOTONIC,
					       (uint64_t)spec->timeout_ms * 1000, 0,
					       on_timeout, op);
	if (r >= 0)
		r = sd_event_add_defer(e, &op->reaper, on_reap, op);
	if (r >= 0)
		r = sd_event_source_set_enabled(op->reaper, SD_EVENT_OFF);
	/* Watch for the job before starting it, or a fast one goes unseen. */
	if (r >= 0)
		r = sd_bus_match_signal_async(op->bus, NULL, "org.freedesktop.systemd1",
					      "/org/freedesktop/systemd1",
					      "org.freedesktop.systemd1.Manager",
					      "JobRemoved", on_job_removed, NULL, op);
	if (r >= 0)
		r = sd_bus_call_method_async(op->bus, NULL, "org.freedesktop.systemd1",
					     "/org/freedesktop/systemd1",
					     "org.freedesktop.systemd1.Manager",
					     "Subscribe", NULL, NULL, NULL);
	if (r >= 0)
		r = sd_bus_message_new_method_call(op->bus, &m, "org.freedesktop.systemd1",
						   "/org/freedesktop/systemd1",
						   "org.freedesktop.systemd1.Manager",
						   "StartTransientUnit");
	if (r >= 0)
		r = sd_bus_message_append(m, "ss", spec->unit, "fail");
	if (r >= 0)
		r = sd_bus_message_open_container(m, 'a', "(sv)");
	if (r >= 0)
		r = append_sandbox(m, spec);
	if (r >= 0)
		r = append_exec(m, spec);
	if (r >= 0)
		r = sd_bus_message_close_container(m);
	if (r >= 0)
		r = sd_bus_message_append(m, "a(sa(sv))", 0);
	if (r >= 0)
		r = sd_bus_call_async(op->bus, &op->call, m, on_started, op,
				      (uint64_t)spec->timeout_ms * 1000);
	sd_bus_message_unref(m);
	if (r < 0) {
		snprintf(err, errlen, "StartTransientUnit %s: %s", spec->unit, strerror(-r));
		op_free(op);
		return r;
	}
	*out = op;
	return 1;
}

void app_launch_cancel(struct app_launch_op *op)
{
	if (op)
		op_free(op);
}

/* Only async-signal-safe calls between fork() and execv(). */
static void __attribute__((noreturn))
child(const struct app_launch_spec *spec, char **argv, const struct passwd *pw,
      int status_fd)
{
	sigset_t none;
	int fd, err, sig;

	sigemptyset(&none);
	for (sig = 1; sig < _NSIG; sig++)
		signal(sig, SIG_DFL);
	sigprocmask(SIG_SETMASK, &none, NULL);
	setsid();
	fd = open("/dev/null", O_RDWR);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
		goto fail;
	if (fd > 2)
		close(fd);
	/* Nothing of hvxd's (sockets, store, primary link) reaches the app. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	umask(0077);
	if (chdir("/") < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		goto fail;
	if (pw && (setgroups(0, NULL) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
		   setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0))
		goto fail;
	execv(spec->path, argv);
fail:
	err = errno;
	if (write(status_fd, &err, sizeof(err)) < 0)
		_exit(126);
	_exit(127);
}

static int launch_exec(const struct app_launch_spec *spec,
		       struct app_launched *out, char *err, size_t errlen)
{
	struct passwd *pw = NULL;
	int pipefd[2], cerr = 0;
	char **argv;
	unsigned int i;
	ssize_t n;
	pid_t pid;

	if (geteuid() == 0) {
		pw = getpwnam(spec->user);
		if (!pw || pw->pw_uid == 0) {
			snprintf(err, errlen, "user %s: %s", spec->user,
				 pw ? "is root" : "does not exist");
			return -EINVAL;
		}
	}
	argv = calloc(spec->n_args + 2, sizeof(*argv));
	if (!argv)
		return -ENOMEM;
	argv[0] = (char *)spec->path;
	for (i = 0; i < spec->n_args; i++)
		argv[i + 1] = spec->args[i];
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		free(argv);
		return -errno;
	}
	pid = fork();
	if (pid == 0)
		child(spec, argv, pw, pipefd[1]);
	free(argv);
	close(pipefd[1]);
	if (pid < 0) {
		cerr = errno;
		close(pipefd[0]);
		snprintf(err, errlen, "fork: %s", strerror(cerr));
		return -cerr;
	}
	/* EOF means the close-on-exec pipe went away in a successful execv(). */
	do {
		n = read(pipefd[0], &cerr, sizeof(cerr));
	} while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n > 0) {
		waitpid(pid, NULL, 0);
		snprintf(err, errlen, "exec %s: %s", spec->path, strerror(cerr));
		return -cerr;
	}
	out->pid = pid;
	out->systemd = false;
	out->unit[0] = '\0';
	out->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (out->pidfd < 0) {
		cerr = errno;
		snprintf(err, errlen, "pidfd_open: %s", strerror(cerr));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		return -cerr;
	}
	return 0;
}

int app_launch(sd_event *e, enum app_launcher how,
	       const struct app_launch_spec *spec, struct app_launched *out,
	       app_launch_fn fn, void *userdata, struct app_launch_op **op,
	       char *err, size_t errlen)
{
	if (how == APP_LAUNCH_AUTO)
		how = sd_booted() > 0 ? APP_LAUNCH_SYSTEMD : APP_LAUNCH_EXEC;
	if (how == APP_LAUNCH_SYSTEMD)
		return launch_systemd(e, spec, fn, userdata, op, err, errlen);
	return launch_exec(spec, out, err, errlen);
}
