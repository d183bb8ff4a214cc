// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
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

struct job_wait {
	const char *path;
	char result[32];
	bool done;
};

static int on_job_removed(sd_bus_message *m, void *data, sd_bus_error *e)
{
	struct job_wait *w = data;
	const char *path, *unit, *result;
	uint32_t id;

	if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
		return 0;
	if (w->path && !strcmp(path, w->path)) {
		snprintf(w->result, sizeof(w->result), "%s", result);
		w->done = true;
	}
	return 0;
}

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static int launch_systemd(const struct app_launch_spec *spec,
			  struct app_launched *out, char *err, size_t errlen)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *m = NULL, *reply = NULL;
	struct job_wait w = { 0 };
	const char *job;
	char *upath = NULL;
	uint64_t deadline;
	sd_bus *bus = NULL;
	uint32_t pid = 0;
	int r;

	r = bus_open(&bus);
	if (r < 0) {
		snprintf(err, errlen, "cannot connect to systemd: %s", strerror(-r));
		return r;
	}
	/* Subscribe before starting, or a fast job could finish unseen. */
	r = sd_bus_match_signal(bus, NULL, "org.freedesktop.systemd1",
				"/org/freedesktop/systemd1",
				"org.freedesktop.systemd1.Manager", "JobRemoved",
				on_job_removed, &w);
	if (r >= 0)
		r = sd_bus_call_method(bus, "org.freedesktop.systemd1",
				       "/org/freedesktop/systemd1",
				       "org.freedesktop.systemd1.Manager",
				       "Subscribe", &e, NULL, NULL);
	if (r >= 0)
		r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1",
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
		r = sd_bus_call(bus, m, (uint64_t)spec->timeout_ms * 1000, &e, &reply);
	if (r >= 0)
		r = sd_bus_message_read(reply, "o", &job);
	if (r < 0) {
		snprintf(err, errlen, "StartTransientUnit %s: %s", spec->unit,
			 e.message ?: strerror(-r));
		goto out;
	}
	w.path = job;
	deadline = now_usec() + (uint64_t)spec->timeout_ms * 1000;
	while (!w.done) {
		uint64_t now = now_usec();

		r = sd_bus_process(bus, NULL);
		if (r < 0)
			break;
		if (r > 0)
			continue;
		if (now >= deadline) {
			r = -ETIMEDOUT;
			break;
		}
		r = sd_bus_wait(bus, deadline - now);
		if (r < 0)
			break;
	}
	if (r < 0) {
		snprintf(err, errlen, "waiting for %s: %s", spec->unit, strerror(-r));
		goto out;
	}
	/* Type=exec: "done" means execve() of the app succeeded. */
	if (strcmp(w.result, "done")) {
		snprintf(err, errlen, "unit %s: job %s", spec->unit, w.result);
		r = -EIO;
		goto out;
	}
	r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", spec->unit, &upath);
	if (r >= 0)
		r = sd_bus_get_property_trivial(bus, "org.freedesktop.systemd1", upath,
						"org.freedesktop.systemd1.Service",
						"MainPID", &e, 'u', &pid);
	if (r < 0 || pid == 0) {
		snprintf(err, errlen, "unit %s: no main PID: %s", spec->unit,
			 r < 0 ? (e.message ?: strerror(-r)) : "exited already");
		r = r < 0 ? r : -ESRCH;
		goto out;
	}
	out->pid = (pid_t)pid;
	out->pidfd = -1;
	out->systemd = true;
	snprintf(out->unit, sizeof(out->unit), "%s", spec->unit);
	r = 0;
out:
	free(upath);
	sd_bus_error_free(&e);
	sd_bus_message_unref(m);
	sd_bus_message_unref(reply);
	sd_bus_flush_close_unref(bus);
	return r;
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

int app_launch(enum app_launcher how, const struct app_launch_spec *spec,
	       struct app_launched *out, char *err, size_t errlen)
{
	if (how == APP_LAUNCH_AUTO)
		how = sd_booted() > 0 ? APP_LAUNCH_SYSTEMD : APP_LAUNCH_EXEC;
	if (how == APP_LAUNCH_SYSTEMD)
		return launch_systemd(spec, out, err, errlen);
	return launch_exec(spec, out, err, errlen);
}
