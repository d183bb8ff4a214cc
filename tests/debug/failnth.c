// SPDX-License-Identifier: GPL-2.0
/*
 * vm_failnth: sweep every registered case with its N-th kernel allocation
 * failing (/proc/self/task/<tid>/fail-nth, failslab + fail_page_alloc with
 * sleeping allocations included), N = 1, 2, ... until the call gets through
 * untouched. After each injected failure the case's check must find a state
 * consistent with the result; at the end the kernel's own count of injected
 * failures must match ours, and kmemleak must find no new hvx leak.
 *
 * TAP output; exit 4 (skip) on a kernel without fault injection.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>
#include <linux/netlink.h>
#include <netlink/genl/ctrl.h>
#include <netlink/msg.h>

#include "failnth.h"
#include "hvx_file.h"
#include "hvx_nl.h"

#define DEBUGFS		"/sys/kernel/debug"
#define KMEMLEAK	DEBUGFS "/kmemleak"
/*
 * No hvx call should need anywhere near this many allocations; reaching it
 * means the sweep does not converge (a call that allocates without end).
 */
#define FN_MAX_POINTS	5000

extern const struct failnth_table *const __start_failnth_tables[];
extern const struct failnth_table *const __stop_failnth_tables[];

static int nth_fd = -1;
static int tap_n;
static int tap_failed;

static void tap(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

int fn_bad(struct fn *f, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f->why, sizeof(f->why), fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- netlink helpers ---------------------------------------------------- */

int fn_genl_open(struct fn_genl *g, const char *family)
{
	struct timeval tv = { .tv_sec = 60 };
	int one = 1;
	int fd;

	memset(g, 0, sizeof(*g));
	g->sk = nl_socket_alloc();
	if (!g->sk)
		return -ENOMEM;
	if (genl_connect(g->sk) < 0)
		goto err;
	fd = nl_socket_get_fd(g->sk);
	/* Extack messages for the diagnostics; capped: no echo of the request. */
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		goto err;
	g->family = genl_ctrl_resolve(g->sk, family);
	if (g->family < 0) {
		fn_genl_close(g);
		return -ENOENT;
	}
	return 0;
err:
	fn_genl_close(g);
	return -EIO;
}

int fn_genl_join(struct fn_genl *g, const char *family, const char *group)
{
	int grp, err;

	err = fn_genl_open(g, family);
	if (err)
		return err;
	grp = genl_ctrl_resolve_grp(g->sk, family, group);
	if (grp < 0 || nl_socket_add_membership(g->sk, grp) < 0 ||
	    fcntl(nl_socket_get_fd(g->sk), F_SETFL, O_NONBLOCK) < 0) {
		fn_genl_close(g);
		return -ENOENT;
	}
	return 0;
}

void fn_genl_close(struct fn_genl *g)
{
	if (g->sk)
		nl_socket_free(g->sk);
	g->sk = NULL;
}

struct nl_msg *fn_msg(struct fn_genl *g, uint8_t cmd, int flags)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg)
		return NULL;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, g->family, 0, flags,
			 cmd, 1)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

int fn_ioctl_result(struct fn *f, int ret)
{
	f->kind = ret < 0 ? FN_ACK : FN_OK;
	f->err = ret < 0 ? -errno : 0;
	return f->err;
}

unsigned int fn_count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	unsigned int n = 0;

	if (!d)
		return 0;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int fn_parse_attrs(struct nlmsghdr *nlh, struct nlattr **tb, int maxtype)
{
	return genlmsg_parse(nlh, 0, tb, maxtype, NULL);
}

int fn_request(struct fn *f, struct fn_genl *g, struct nl_msg *msg,
	       fn_parse_t parse, void *arg)
{
	static char buf[65536];
	struct nlmsghdr *nlh;
	int fd = nl_socket_get_fd(g->sk);
	uint32_t seq;
	ssize_t n;

	f->kind = FN_OK;
	f->err = 0;
	f->extack[0] = '\0';
	if (!msg) {
		f->kind = FN_SEND;
		return f->err = -ENOMEM;
	}
	nl_complete_msg(g->sk, msg);
	nlh = nlmsg_hdr(msg);
	seq = nlh->nlmsg_seq;
	n = send(fd, nlh, nlh->nlmsg_len, 0);
	nlmsg_free(msg);
	if (n < 0) {
		f->kind = FN_SEND;
		return f->err = -errno;
	}

	for (;;) {
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			f->kind = FN_LOST;
			return f->err = errno == EAGAIN ? -ETIMEDOUT : -errno;
		}
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nlh->nlmsg_seq != seq)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR ||
			    nlh->nlmsg_type == NLMSG_DONE) {
				uint32_t off;
				int e;

				if (hvx_nl_parse_error(nlh, nlh->nlmsg_len, &e,
						       f->extack, sizeof(f->extack),
						       &off)) {
					f->kind = FN_ACK;
					return f->err = -EBADMSG;
				}
				if (e) {
					f->kind = FN_ACK;
					f->err = e;
				}
				return f->err;
			}
			if (nlh->nlmsg_type < NLMSG_MIN_TYPE)
				continue;
			if (parse && parse(nlh, arg) < 0) {
				f->kind = FN_ACK;
				return f->err = -EBADMSG;
			}
		}
	}
}

int fn_drain(struct fn_genl *g, fn_parse_t parse, void *arg)
{
	static char buf[65536];
	int fd = nl_socket_get_fd(g->sk);
	struct nlmsghdr *nlh;
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? 0 : -errno;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, n);
		     nlh = NLMSG_NEXT(nlh, n))
			if (nlh->nlmsg_type >= NLMSG_MIN_TYPE && parse)
				parse(nlh, arg);
	}
}

/* ---- fault injection setup ---------------------------------------------- */

struct knob {
	const char *path;	/* under DEBUGFS */
	const char *val;
	char old[32];
	bool set;
};

/*
 * failslab and fail_page_alloc skip sleeping allocations by default, which
 * is nearly every allocation on a netlink control path, and fail_page_alloc
 * skips single pages (min-order 1), which is what vmalloc() and most page
 * allocations ask for. fail-nth itself is
 * checked before task-filter and probability (lib/fault-inject.c), so
 * task-filter only keeps any other user of these knobs away from other
 * tasks; times counts down once per failure actually injected, so it is
 * set high enough never to reach 0 during a sweep.
 */
static struct knob knobs[] = {
	{ .path = "failslab/ignore-gfp-wait", .val = "N" },
	{ .path = "failslab/task-filter", .val = "Y" },
	{ .path = "failslab/verbose", .val = "0" },
	{ .path = "fail_page_alloc/ignore-gfp-wait", .val = "N" },
	{ .path = "fail_page_alloc/ignore-gfp-highmem", .val = "N" },
	{ .path = "fail_page_alloc/min-order", .val = "0" },
	{ .path = "fail_page_alloc/task-filter", .val = "Y" },
	{ .path = "fail_page_alloc/verbose", .val = "0" },
	{ .path = "failslab/times", .val = "1000000" },
	{ .path = "fail_page_alloc/times", .val = "1000000" },
};

static int write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n < 0 ? -errno : 0;
}

static void knobs_restore(void)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		if (!knobs[i].set)
			continue;
		snprintf(path, sizeof(path), DEBUGFS "/%s", knobs[i].path);
		write_file(path, knobs[i].old);
	}
}

static int knobs_apply(void)
{
	char path[256];
	size_t i;

	for (i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++) {
		snprintf(path, sizeof(path), DEBUGFS "/%s", knobs[i].path);
		if (hvx_read_line(path, knobs[i].old, sizeof(knobs[i].old)) ||
		    write_file(path, knobs[i].val)) {
			fprintf(stderr, "vm_failnth: cannot set %s: %m\n", path);
			return -1;
		}
		knobs[i].set = true;
	}
	return 0;
}

static long fn_times(const char *attr)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), DEBUGFS "/%s/times", attr);
	if (hvx_read_line(path, buf, sizeof(buf)))
		return -1;
	return strtol(buf, NULL, 10);
}

static int debugfs_mount(void)
{
	struct statfs st;

	if (statfs(DEBUGFS, &st) == 0 && st.f_type == DEBUGFS_MAGIC)
		return 0;
	return mount("debugfs", DEBUGFS, "debugfs", 0, NULL) ? -errno : 0;
}

static int nth_set(unsigned int n)
{
	char buf[16];
	int len = snprintf(buf, sizeof(buf), "%u", n);

	return pwrite(nth_fd, buf, len, 0) == len ? 0 : -errno;
}

/* The budget fail-nth has left: 0 once the N-th allocation was failed. */
static long nth_left(void)
{
	char buf[16];
	ssize_t n = pread(nth_fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtol(buf, NULL, 10);
}

/* ---- kmemleak ----------------------------------------------------------- */

struct leaks {
	char **addr;
	size_t n;
};

static void leaks_free(struct leaks *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->addr[i]);
	free(l->addr);
	l->addr = NULL;
	l->n = 0;
}

static bool leaks_has(const struct leaks *l, const char *addr)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->addr[i], addr))
			return true;
	return false;
}

/*
 * Scan and collect the objects whose report names an hvx module
 * ("[hvx_core]" in a backtrace line). Returns -1 when kmemleak is absent
 * or off. With verbose, print each new report as TAP diagnostics.
 */
static int kmemleak_hvx(struct leaks *out, const struct leaks *old, bool verbose)
{
	char *report = NULL, *line, *save = NULL;
	char *cur = NULL, *block = NULL;
	size_t cap = 0, len = 0, blen = 0;
	bool hvx = false;
	FILE *f;
	int pass;

	/*
	 * Twice: an object referenced only from a stale register or stack
	 * slot in the first scan is seen correctly in the second.
	 */
	for (pass = 0; pass < 2; pass++)
		if (write_file(KMEMLEAK, "scan"))
			return -1;
	f = fopen(KMEMLEAK, "re");
	if (!f)
		return -1;
	for (;;) {
		if (len + 4096 > cap) {
			cap = cap ? cap * 2 : 65536;
			report = realloc(report, cap);
			if (!report) {
				fclose(f);
				return -1;
			}
		}
		size_t n = fread(report + len, 1, cap - len - 1, f);

		if (!n)
			break;
		len += n;
	}
	fclose(f);
	report[len] = '\0';

	/* The NULL after the last line flushes the last block. */
	for (line = strtok_r(report, "\n", &save);; line = strtok_r(NULL, "\n", &save)) {
		if (!line || !strncmp(line, "unreferenced object ", 20)) {
			if (cur && hvx && !leaks_has(old, cur)) {
				out->addr = realloc(out->addr, (out->n + 1) * sizeof(char *));
				out->addr[out->n++] = strdup(cur);
				if (verbose)
					printf("%s", block);
			}
			free(cur);
			cur = NULL;
			hvx = false;
			blen = 0;
			if (!line)
				break;
			cur = strndup(line + 20, strcspn(line + 20, " "));
		}
		if (strstr(line, "[hvx"))
			hvx = true;
		block = realloc(block, blen + strlen(line) + 4);
		blen += sprintf(block + blen, "# %s\n", line);
	}
	free(block);
	free(report);
	return 0;
}

/* ---- the sweep ---------------------------------------------------------- */

static long fired_total;

static void sweep(const struct failnth_table *t, const struct failnth_case *c)
{
	unsigned int ack = 0, absorbed = 0, lost = 0, sent = 0, fired = 0;
	unsigned int n;
	struct fn f;
	long left;

	for (n = 1; n <= FN_MAX_POINTS; n++) {
		memset(&f, 0, sizeof(f));
		f.case_name = c->name;
		if (fn_genl_open(&f.nl, t->family)) {
			tap(false, "%s/%s: cannot open a %s socket", t->name,
			    c->name, t->family);
			return;
		}
		if (c->setup && c->setup(&f)) {
			printf("# setup: %s\n", f.why);
			tap(false, "%s/%s: setup failed at point %u", t->name,
			    c->name, n);
			goto out;
		}
		if (nth_set(n)) {
			tap(false, "%s/%s: cannot arm fail-nth: %s", t->name,
			    c->name, strerror(errno));
			goto out;
		}
		c->call(&f);
		left = nth_left();
		nth_set(0);
		if (left == 0)
			fired++;

		if (c->check(&f)) {
			printf("# point %u: call returned %d (%s)%s%s\n# %s\n", n,
			       f.err, f.kind == FN_ACK ? "kernel error" :
			       f.kind == FN_SEND ? "send failed" :
			       f.kind == FN_LOST ? "answer lost" : "success",
			       f.extack[0] ? ": " : "", f.extack, f.why);
			tap(false, "%s/%s: inconsistent state after failing allocation %u",
			    t->name, c->name, n);
			goto out;
		}
		if (c->teardown)
			c->teardown(&f);
		fn_genl_close(&f.ev);
		fn_genl_close(&f.nl);

		if (left != 0) {
			/* The call got through with fewer than n allocations. */
			if (f.kind != FN_OK) {
				printf("# error %d without an injected failure%s%s\n",
				       f.err, f.extack[0] ? ": " : "", f.extack);
				tap(false, "%s/%s: fails with nothing injected",
				    t->name, c->name);
				return;
			}
			fired_total += fired;
			/*
			 * Nothing to sweep on this path today; the case stays
			 * so that an allocation added to it is swept at once.
			 */
			if (n == 1) {
				tap(true, "%s/%s: no allocation on this path # SKIP nothing to sweep",
				    t->name, c->name);
				return;
			}
			tap(true, "%s/%s: %u allocation points, %u refused cleanly, %u absorbed, %u answers lost, %u sends failed",
			    t->name, c->name, n - 1, ack, absorbed, lost, sent);
			return;
		}
		switch (f.kind) {
		case FN_OK:
			absorbed++;
			break;
		case FN_ACK:
			ack++;
			break;
		case FN_LOST:
			lost++;
			break;
		case FN_SEND:
			sent++;
			break;
		}
	}
	fired_total += fired;
	tap(false, "%s/%s: still failing after %u injected allocation failures",
	    t->name, c->name, FN_MAX_POINTS);
	return;
out:
	if (c->teardown)
		c->teardown(&f);
	fn_genl_close(&f.ev);
	fn_genl_close(&f.nl);
	fired_total += fired;
}

static int cmp_table(const void *a, const void *b)
{
	const struct failnth_table *const *x = a, *const *y = b;

	return strcmp((*x)->name, (*y)->name);
}

int main(void)
{
	const struct failnth_table *tables[64];
	size_t nt = __stop_failnth_tables - __start_failnth_tables;
	long slab0, page0, slab1, page1;
	struct leaks base = { 0 }, after = { 0 };
	bool have_kmemleak, kmemleak_broken = false;
	char path[64];
	size_t i, j, total = 0;
	time_t t0 = time(NULL);

	printf("TAP version 13\n");
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	nth_fd = open(path, O_RDWR | O_CLOEXEC);
	if (nth_fd < 0) {
		printf("1..0 # SKIP kernel without fail-nth (CONFIG_FAULT_INJECTION)\n");
		return 4;
	}
	if (debugfs_mount() || access(DEBUGFS "/failslab", F_OK) ||
	    access(DEBUGFS "/fail_page_alloc", F_OK)) {
		printf("1..0 # SKIP kernel without failslab/fail_page_alloc in debugfs\n");
		return 4;
	}
	if (nt > sizeof(tables) / sizeof(tables[0]))
		nt = sizeof(tables) / sizeof(tables[0]);
	for (i = 0; i < nt; i++) {
		tables[i] = __start_failnth_tables[i];
		total += tables[i]->n;
	}
	qsort(tables, nt, sizeof(tables[0]), cmp_table);
	printf("1..%zu\n", total + 2);

	have_kmemleak = access(KMEMLEAK, F_OK) == 0;
	if (have_kmemleak && kmemleak_hvx(&base, &base, false)) {
		printf("# %s is there but cannot scan: %m (kmemleak disabled?)\n",
		       KMEMLEAK);
		have_kmemleak = false;
		kmemleak_broken = true;
	}
	if (base.n)
		printf("# %zu hvx leak(s) reported before the sweep (not counted here)\n",
		       base.n);
	if (knobs_apply()) {
		knobs_restore();
		return 1;
	}
	slab0 = fn_times("failslab");
	page0 = fn_times("fail_page_alloc");

	for (i = 0; i < nt; i++)
		for (j = 0; j < tables[i]->n; j++)
			sweep(tables[i], &tables[i]->cases[j]);

	slab1 = fn_times("failslab");
	page1 = fn_times("fail_page_alloc");
	knobs_restore();
	tap(slab0 - slab1 + page0 - page1 == fired_total && fired_total > 0,
	    "kernel injected %ld failures (failslab %ld, fail_page_alloc %ld), sweep counted %ld",
	    slab0 - slab1 + page0 - page1, slab0 - slab1, page0 - page1, fired_total);

	if (kmemleak_broken) {
		tap(false, "kmemleak is configured but does not scan");
	} else if (!have_kmemleak) {
		tap(true, "no hvx leak # SKIP kernel without kmemleak");
	} else {
		/* kmemleak ignores objects younger than 5 s (MSECS_MIN_AGE). */
		sleep(6);
		if (kmemleak_hvx(&after, &base, true))
			tap(false, "kmemleak scan failed");
		else
			tap(after.n == 0, "kmemleak: %zu new hvx leak(s)", after.n);
	}
	leaks_free(&base);
	leaks_free(&after);
	printf("# swept %ld allocation points in %ld s\n", fired_total,
	       (long)(time(NULL) - t0));
	return tap_failed ? 1 : 0;
}
