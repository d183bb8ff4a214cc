// SPDX-License-Identifier: GPL-2.0
/*
 * hvxd: config, the sd-event loop, signals, sd_notify and the watchdog,
 * and the units' lifecycle. Every fd and timer lives on one loop.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "hvx_ctl.h"
#include "hvx_json.h"
#include "hvxd_priv.h"

#define HVXD_CONF_PATH "/etc/hvx/hvxd.conf"

/* Units in start order; they stop in reverse. */
static const struct hvxd_unit *const unit_table[] = {
	&hvxd_core_unit,
	&hvxd_app_unit,
	&hvxd_cluster_unit,
	&hvxd_pm_unit,
};

#define N_UNITS (sizeof(unit_table) / sizeof(unit_table[0]))

static const struct hvx_conf_key daemon_keys[] = {
	{ "log_level", HVX_CONF_ENUM, offsetof(struct hvxd_conf, log_level),
	  .def = "info", .choices = hvxd_log_levels },
	{ "socket", HVX_CONF_STR, offsetof(struct hvxd_conf, socket),
	  .size = sizeof(((struct hvxd_conf *)0)->socket), .def = HVX_CTL_PATH },
	{ "max_clients", HVX_CONF_UINT, offsetof(struct hvxd_conf, max_clients),
	  .def = "64", .min = 1, .max = 4096 },
	{ NULL }
};

sd_event *hvxd_event(struct hvxd *d)
{
	return d->event;
}

struct hvxd_unit_inst *hvxd_find_unit(struct hvxd *d, const char *name,
				      size_t len)
{
	for (size_t i = 0; i < d->n_units; i++)
		if (strlen(d->units[i].unit->name) == len &&
		    !strncmp(d->units[i].unit->name, name, len))
			return &d->units[i];
	return NULL;
}

static bool unit_wanted(const struct hvxd_unit_inst *u)
{
	for (const struct hvx_conf_key *k = u->unit->conf; k && k->name; k++)
		if (!strcmp(k->name, "enabled") && k->type == HVX_CONF_BOOL)
			return *(bool *)((char *)u->conf + k->offset);
	return true;
}

static const char *unit_state_name(const struct hvxd_unit_inst *u)
{
	switch (u->state) {
	case HVXD_UNIT_RUNNING:
		return "running";
	case HVXD_UNIT_FAILED:
		return "failed";
	default:
		return "disabled";
	}
}

struct json_object *hvxd_status(struct hvxd *d)
{
	struct json_object *st = json_object_new_object(), *units;
	uint64_t now = 0;

	sd_event_now(d->event, CLOCK_MONOTONIC, &now);
	units = json_object_new_array();
	if (!st || !units ||
	    hvx_json_add_str(st, "version", HVX_VERSION) ||
	    hvx_json_add_u64(st, "pid", getpid()) ||
	    hvx_json_add_u64(st, "uptime_usec", now - d->start_usec) ||
	    hvx_json_add_str(st, "config", d->config_path) ||
	    hvx_json_add_str(st, "socket", d->conf.socket) ||
	    hvx_json_add_u64(st, "watchdog_usec", d->watchdog_usec))
		goto err;
	for (size_t i = 0; i < d->n_units; i++) {
		struct hvxd_unit_inst *u = &d->units[i];
		struct json_object *o = json_object_new_object();

		if (!o || json_object_array_add(units, o)) {
			json_object_put(o);
			goto err;
		}
		if (hvx_json_add_str(o, "name", u->unit->name) ||
		    hvx_json_add_str(o, "state", unit_state_name(u)))
			goto err;
		if (u->state == HVXD_UNIT_FAILED &&
		    hvx_json_add_str(o, "error", strerror(-u->err)))
			goto err;
		if (u->state == HVXD_UNIT_RUNNING && u->unit->status &&
		    u->unit->status(u->priv, o))
			goto err;
	}
	if (hvx_json_add(st, "units", units))
		goto err_st;
	return st;
err:
	json_object_put(units);
err_st:
	json_object_put(st);
	return NULL;
}

static void notify_status(struct hvxd *d)
{
	size_t running = 0, failed = 0;

	for (size_t i = 0; i < d->n_units; i++) {
		running += d->units[i].state == HVXD_UNIT_RUNNING;
		failed += d->units[i].state == HVXD_UNIT_FAILED;
	}
	sd_notifyf(0, "STATUS=%zu units running, %zu failed; control socket %s",
		   running, failed, d->conf.socket);
}

static void unit_start(struct hvxd *d, struct hvxd_unit_inst *u)
{
	int ret = u->unit->init(d, u->conf, &u->priv);

	if (ret < 0) {
		/* The other units keep running; core.status shows the failure. */
		u->state = HVXD_UNIT_FAILED;
		u->err = ret;
		hvxd_log(LOG_ERR, u->unit->name, "failed to start: %s", strerror(-ret));
		return;
	}
	u->state = HVXD_UNIT_RUNNING;
	hvxd_log(LOG_DEBUG, u->unit->name, "started");
}

static void unit_stop(struct hvxd *d, struct hvxd_unit_inst *u)
{
	if (u->state == HVXD_UNIT_RUNNING)
		u->unit->fini(d, u->priv);
	u->priv = NULL;
	u->state = HVXD_UNIT_DISABLED;
}

/*
 * The config sections: [daemon], then one per unit. @dsts gets the
 * destination of each (d->conf and the units' conf buffers, or scratch
 * buffers for a reload).
 */
static size_t sections(struct hvxd *d, struct hvx_conf_section *secs,
		       void *daemon_dst, void **unit_dsts)
{
	secs[0] = (struct hvx_conf_section){ "daemon", daemon_keys, daemon_dst,
					     sizeof(struct hvxd_conf) };
	for (size_t i = 0; i < d->n_units; i++)
		secs[i + 1] = (struct hvx_conf_section){
			d->units[i].unit->name, d->units[i].unit->conf,
			unit_dsts[i], d->units[i].unit->conf_size };
	return d->n_units + 1;
}

/* Load the config into the given buffers; 0 or -errno, logged. */
static int load_config(struct hvxd *d, void *daemon_dst, void **unit_dsts)
{
	struct hvx_conf_section secs[N_UNITS + 1];
	char err[HVX_CONF_ERR_MAX];
	size_t n = sections(d, secs, daemon_dst, unit_dsts);
	int ret;

	ret = hvx_conf_load(d->config_path, secs, n, err, sizeof(err));
	if (ret == -ENOENT && !d->config_explicit) {
		hvxd_log(LOG_NOTICE, NULL, "%s not found; using defaults",
			 d->config_path);
		ret = hvx_conf_defaults(secs, n, err, sizeof(err));
	}
	if (ret)
		hvxd_log(LOG_ERR, NULL, "%s", err);
	return ret;
}

static void reload(struct hvxd *d)
{
	struct hvxd_conf nc;
	void *bufs[N_UNITS];
	size_t i;

	sd_notify(0, "RELOADING=1");
	hvxd_log(LOG_INFO, NULL, "reloading %s", d->config_path);
	for (i = 0; i < d->n_units; i++) {
		bufs[i] = calloc(1, d->units[i].unit->conf_size ?: 1);
		if (!bufs[i]) {
			hvxd_log(LOG_ERR, NULL, "reload: out of memory");
			goto out;
		}
	}
	if (load_config(d, &nc, bufs)) {
		hvxd_log(LOG_ERR, NULL, "reload failed; keeping the running configuration");
		goto out;
	}
	if (strcmp(nc.socket, d->conf.socket))
		hvxd_log(LOG_WARNING, NULL, "[daemon] socket changes at restart only");
	snprintf(nc.socket, sizeof(nc.socket), "%s", d->conf.socket);
	d->conf = nc;
	hvxd_log_set_level(d->conf.log_level);
	hvxd_ctl_set_max_clients(d, d->conf.max_clients);
	for (i = 0; i < d->n_units; i++) {
		struct hvxd_unit_inst *u = &d->units[i];
		void *old = u->conf;
		int ret;

		u->conf = bufs[i];
		bufs[i] = old;
		if (!unit_wanted(u)) {
			if (u->state != HVXD_UNIT_DISABLED)
				hvxd_log(LOG_INFO, u->unit->name, "disabled");
			unit_stop(d, u);
			continue;
		}
		if (u->state != HVXD_UNIT_RUNNING) {
			unit_start(d, u);
			continue;
		}
		ret = u->unit->reload ? u->unit->reload(d, u->priv, u->conf) : 0;
		if (ret < 0)
			hvxd_log(LOG_ERR, u->unit->name, "reload failed: %s",
				 strerror(-ret));
	}
	hvxd_log(LOG_INFO, NULL, "configuration reloaded");
out:
	for (size_t j = 0; j < i; j++)
		free(bufs[j]);
	notify_status(d);
	sd_notify(0, "READY=1");
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si,
		     void *userdata)
{
	struct hvxd *d = userdata;

	if (si->ssi_signo == SIGHUP) {
		reload(d);
		return 0;
	}
	hvxd_log(LOG_INFO, NULL, "%s received, stopping", strsignal(si->ssi_signo));
	return sd_event_exit(d->event, 0);
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct hvxd *d = userdata;

	sd_notify(0, "WATCHDOG=1");
	sd_event_source_set_time(s, usec + d->watchdog_usec / 2);
	return 0;
}

static void on_vm_change(struct hvxd *d, const char *topic,
			 struct json_object *data, void *userdata)
{
	notify_status(d);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: hvxd [-c FILE] [-t]\n"
		"  -c, --config FILE  configuration file (default %s)\n"
		"  -t, --test         check the configuration and exit\n"
		"  -V, --version      print the version\n"
		"  -h, --help         this help\n", HVXD_CONF_PATH);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "test", no_argument, NULL, 't' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct hvxd_unit_inst units[N_UNITS] = { 0 };
	struct hvxd d = { .config_path = HVXD_CONF_PATH, .units = units,
			  .n_units = N_UNITS };
	sd_event_source *wd = NULL;
	void *bufs[N_UNITS];
	bool test = false;
	sigset_t mask;
	int opt, ret = 1;
	size_t i;

	while ((opt = getopt_long(argc, argv, "c:tVh", opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			d.config_path = optarg;
			d.config_explicit = true;
			break;
		case 't':
			test = true;
			break;
		case 'V':
			printf("hvxd %s\n", HVX_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hvxd: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}
	hvxd_log_init();

	for (i = 0; i < N_UNITS; i++) {
		units[i].unit = unit_table[i];
		units[i].conf = calloc(1, unit_table[i]->conf_size ?: 1);
		if (!units[i].conf)
			goto out_conf;
		bufs[i] = units[i].conf;
	}
	if (load_config(&d, &d.conf, bufs))
		goto out_conf;
	if (test) {
		printf("%s: OK\n", d.config_path);
		ret = 0;
		goto out_conf;
	}
	hvxd_log_set_level(d.conf.log_level);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	ret = sd_event_default(&d.event);
	if (ret < 0)
		goto out_err;
	sd_event_now(d.event, CLOCK_MONOTONIC, &d.start_usec);
	if ((ret = sd_event_add_signal(d.event, NULL, SIGTERM, on_signal, &d)) < 0 ||
	    (ret = sd_event_add_signal(d.event, NULL, SIGINT, on_signal, &d)) < 0 ||
	    (ret = sd_event_add_signal(d.event, NULL, SIGHUP, on_signal, &d)) < 0)
		goto out_err;
	ret = hvxd_bus_init(&d);
	if (ret < 0)
		goto out_err;
	ret = hvxd_subscribe(&d, "vm.", on_vm_change, NULL);
	if (ret < 0)
		goto out_bus;
	if (sd_watchdog_enabled(0, &d.watchdog_usec) > 0) {
		ret = sd_event_add_time_relative(d.event, &wd, CLOCK_MONOTONIC,
						 d.watchdog_usec / 2, 0,
						 on_watchdog, &d);
		if (ret < 0)
			goto out_bus;
		sd_event_source_set_enabled(wd, SD_EVENT_ON);
	}
	ret = hvxd_ctl_open(&d, d.conf.socket, d.conf.max_clients);
	if (ret < 0) {
		hvxd_log(LOG_ERR, NULL, "control socket %s: %s", d.conf.socket,
			 strerror(-ret));
		goto out_wd;
	}
	for (i = 0; i < N_UNITS; i++) {
		if (unit_wanted(&units[i]))
			unit_start(&d, &units[i]);
	}
	notify_status(&d);
	sd_notify(0, "READY=1");
	hvxd_log(LOG_INFO, NULL, "hvxd %s ready, control socket %s", HVX_VERSION,
		 d.conf.socket);

	ret = sd_event_loop(d.event);
	sd_notify(0, "STOPPING=1");
	for (i = N_UNITS; i-- > 0;)
		unit_stop(&d, &units[i]);
	hvxd_ctl_close(&d);
out_wd:
	sd_event_source_disable_unref(wd);
out_bus:
	hvxd_bus_fini(&d);
out_err:
	if (ret < 0)
		hvxd_log(LOG_ERR, NULL, "exiting: %s", strerror(-ret));
	sd_event_unref(d.event);
	ret = ret < 0;
out_conf:
	for (i = 0; i < N_UNITS; i++)
		free(units[i].conf);
	return ret;
}
