/* SPDX-License-Identifier: GPL-2.0 */
/* hvxd internals shared by hvxd_main.c, hvxd_ctl.c, hvxd_bus.c, hvxd_log.c. */
#ifndef HVXD_PRIV_H
#define HVXD_PRIV_H

#include "hvxd.h"

enum hvxd_unit_state {
	HVXD_UNIT_DISABLED,
	HVXD_UNIT_RUNNING,
	HVXD_UNIT_FAILED,
};

struct hvxd_unit_inst {
	const struct hvxd_unit *unit;
	enum hvxd_unit_state state;
	void *priv;
	void *conf;
	int err;
};

struct hvxd_sub;
struct hvxd_ev;
struct hvxd_ctl;

/* [daemon] section. */
struct hvxd_conf {
	unsigned int log_level;		/* index into hvxd_log_levels */
	char socket[108];
	uint64_t max_clients;
};

struct hvxd {
	sd_event *event;
	const char *config_path;
	bool config_explicit;
	struct hvxd_conf conf;
	struct hvxd_unit_inst *units;
	size_t n_units;
	uint64_t start_usec;
	uint64_t watchdog_usec;
	struct hvxd_ctl *ctl;
	/* bus */
	struct hvxd_sub *subs;
	struct hvxd_ev *ev_head, **ev_tail;
	sd_event_source *ev_defer;
};

extern const char *const hvxd_log_levels[];
void hvxd_log_init(void);
void hvxd_log_set_level(unsigned int level);

int hvxd_ctl_open(struct hvxd *d, const char *path, unsigned int max_clients);
void hvxd_ctl_close(struct hvxd *d);
void hvxd_ctl_set_max_clients(struct hvxd *d, unsigned int max_clients);

int hvxd_bus_init(struct hvxd *d);
void hvxd_bus_fini(struct hvxd *d);

/* The running unit called @name, or NULL. */
struct hvxd_unit_inst *hvxd_find_unit(struct hvxd *d, const char *name,
				      size_t len);

#endif /* HVXD_PRIV_H */
