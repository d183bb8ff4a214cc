/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A QMP client on the sd-event loop that watches a destination QEMU for
 * the end of an incoming migration.
 *
 * It connects to a QMP monitor socket (QEMU is the server: `-qmp
 * unix:PATH,server=on,wait=off`; where libvirt owns the main monitor, a
 * second -qmp monitor of its own), negotiates capabilities, turns on the
 * "events" migration capability (MIGRATION events are off by default),
 * and reports MIGRATION status changes and RESUME. Reconnects while the
 * socket file exists; never blocks.
 */
#ifndef HVX_PM_QMP_H
#define HVX_PM_QMP_H

#include <stdbool.h>
#include <stdint.h>

#include <json-c/json.h>
#include <systemd/sd-event.h>

struct pm_qmp;

enum pm_qmp_state {
	PM_QMP_CONNECTING,	/* or waiting to retry */
	PM_QMP_HANDSHAKE,	/* greeting, qmp_capabilities, events=on */
	PM_QMP_READY,		/* MIGRATION events enabled */
};

struct pm_qmp_ops {
	/* @status of a MIGRATION event ("active", "completed", "failed"...). */
	void (*migration)(struct pm_qmp *q, const char *status,
			  uint64_t realtime_usec, void *userdata);
	/* RESUME: the guest runs again. @incoming: a migration completed first. */
	void (*resume)(struct pm_qmp *q, bool incoming, uint64_t realtime_usec,
		       void *userdata);
	/* Connection state changes, with the error that caused a drop. */
	void (*state)(struct pm_qmp *q, enum pm_qmp_state s, const char *err,
		      void *userdata);
};

int pm_qmp_new(struct pm_qmp **q, sd_event *ev, const char *path,
	       const struct pm_qmp_ops *ops, void *userdata);
void pm_qmp_free(struct pm_qmp *q);
enum pm_qmp_state pm_qmp_state(const struct pm_qmp *q);
const char *pm_qmp_state_name(enum pm_qmp_state s);
const char *pm_qmp_path(const struct pm_qmp *q);
/* The last error ("" if none), e.g. why the handshake failed. */
const char *pm_qmp_error(const struct pm_qmp *q);
/* The last MIGRATION status seen, "" before any. */
const char *pm_qmp_migration(const struct pm_qmp *q);

/*
 * Parse the QMP stream in @buf (@len bytes; consumed ones are removed):
 * calls @fn for each complete JSON object. Returns 0, or -EBADMSG for
 * bytes that are not JSON, -EMSGSIZE past the message size limit.
 * Exported for the unit tests.
 */
int pm_qmp_parse(char *buf, size_t *len,
		 int (*fn)(struct json_object *msg, void *ctx), void *ctx);

#endif /* HVX_PM_QMP_H */
