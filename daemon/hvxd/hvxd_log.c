// SPDX-License-Identifier: GPL-2.0
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/uio.h>

#include <systemd/sd-journal.h>

#include "hvxd_priv.h"

/* Config names of the syslog priorities, LOG_EMERG (0) to LOG_DEBUG (7). */
const char *const hvxd_log_levels[] = {
	"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
	NULL
};

static bool to_journal;
static int max_prio = LOG_INFO;

/*
 * Under systemd, stderr is a journal stream and JOURNAL_STREAM names its
 * device and inode: only then does native journal logging reach the same
 * place with structured fields (sd_journal_print(3)).
 */
void hvxd_log_init(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long dev, ino;
	struct stat st;

	to_journal = js && sscanf(js, "%lu:%lu", &dev, &ino) == 2 &&
		     !fstat(STDERR_FILENO, &st) && st.st_dev == dev &&
		     st.st_ino == ino;
}

void hvxd_log_set_level(unsigned int level)
{
	max_prio = level;
}

static void vlog(int prio, const char *unit, const char *vm_id,
		 const char *vm_name, const char *fmt, va_list ap)
{
	char msg[1024], f_msg[1100], f_prio[16], f_unit[64], f_id[32], f_name[96];
	struct iovec iov[6];
	int n = 0;

	if (prio > max_prio)
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (!to_journal) {
		fprintf(stderr, "hvxd: %s%s%s%s\n",
			prio <= LOG_ERR ? "error: " : prio == LOG_WARNING ? "warning: " : "",
			unit ? unit : "", unit ? ": " : "", msg);
		return;
	}
#define IOV(buf, ...) do {						\
		snprintf(buf, sizeof(buf), __VA_ARGS__);		\
		iov[n++] = (struct iovec){ buf, strlen(buf) };		\
	} while (0)
	IOV(f_msg, "MESSAGE=%s%s%s", unit ? unit : "", unit ? ": " : "", msg);
	IOV(f_prio, "PRIORITY=%d", prio);
	if (unit)
		IOV(f_unit, "HVX_UNIT=%s", unit);
	if (vm_id)
		IOV(f_id, "HVX_VM_ID=%s", vm_id);
	if (vm_name)
		IOV(f_name, "HVX_VM_NAME=%s", vm_name);
#undef IOV
	sd_journal_sendv(iov, n);
}

void hvxd_log(int prio, const char *unit, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(prio, unit, NULL, NULL, fmt, ap);
	va_end(ap);
}

void hvxd_log_vm(int prio, const char *unit, uint32_t vm_id,
		 const char *vm_name, const char *fmt, ...)
{
	char id[16];
	va_list ap;

	snprintf(id, sizeof(id), "%u", vm_id);
	va_start(ap, fmt);
	vlog(prio, unit, id, vm_name, fmt, ap);
	va_end(ap);
}
