// SPDX-License-Identifier: GPL-2.0
/*
 * hvx_core unload and reload with VMs alive (some with guest memory, one
 * held by hvx_core_test until its file closes). Modules that depend on
 * hvx_core are unloaded first and loaded again at the end.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hvx_test.h"
#include "../../kmod/core_test/hvx_core_test.h"

#define HOLDERS "/sys/module/hvx_core/holders"

static char holders[16][256];
static int nholders;

static int load(const char *mod)
{
	return hvx_sh("modprobe %s 2>/dev/null || "
		      "insmod $(find kmod -name %s.ko | head -n1) 2>/dev/null",
		      mod, mod);
}

static int unload_holders(void)
{
	DIR *d = opendir(HOLDERS);
	struct dirent *e;
	int ret = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)) && nholders < 16) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(holders[nholders++], sizeof(holders[0]), "%s",
			 e->d_name);
	}
	closedir(d);
	for (int i = 0; i < nholders; i++)
		ret |= hvx_sh("rmmod %s", holders[i]);
	return ret;
}

static bool family_present(void)
{
	struct hvx_ctx c;
	bool ok = !hvx_open(&c);

	if (c.sk)
		hvx_close(&c);
	return ok;
}

static int round_trip(int round)
{
	struct hvx_ctx c;
	struct hvx_res res;
	char name[64], *p;
	uint32_t id = 0;
	int i, ok = 1, tfd;

	if (hvx_open(&c))
		return 0;
	p = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (i = 0; i < 3; i++) {
		snprintf(name, sizeof(name), "mod%d-%d-%d", getpid(), round, i);
		ok &= !hvx_vm_new(&c, name, &id);
	}
	ok &= !hvx_mem_add(&c, id, 0, 4096, (uintptr_t)p, NULL);
	/* A reference the test driver drops when its file closes. */
	tfd = hvx_test_open();
	ok &= tfd >= 0 &&
	      !hvx_test_cmd(tfd, HVX_CORE_TEST_HOLD, id, 0, NULL, 0, NULL) &&
	      !hvx_vm_del(&c, id);
	if (tfd >= 0)
		close(tfd);
	hvx_dump(&c, &res);
	ok &= res.nvms >= 2;
	hvx_res_free(&res);
	hvx_close(&c);
	munmap(p, 4096);
	return ok;
}

int main(void)
{
	struct hvx_ctx c;
	struct hvx_res res;
	int round;

	hvx_require(&c);
	hvx_close(&c);
	tap_begin();
	if (unload_holders()) {
		tap_skip("a module depending on hvx_core would not unload",
			 "unload hvx_core with VMs alive");
		for (int i = 0; i < nholders; i++)
			load(holders[i]);
		return tap_end();
	}
	for (round = 0; round < 3; round++) {
		tap_ok(round_trip(round),
		       "round %d: VMs with memory, one destroyed while held", round);
		tap_ok(!hvx_sh("rmmod hvx_core_test") &&
		       !hvx_sh("rmmod hvx_core"),
		       "round %d: rmmod hvx_core with VMs alive", round);
		tap_ok(access("/sys/module/hvx_core", F_OK) != 0,
		       "round %d: module gone", round);
		/* Installed modules load on demand: MODULE_ALIAS_GENL_FAMILY. */
		if (!hvx_sh("modinfo hvx_core >/dev/null 2>&1")) {
			tap_ok(family_present() &&
			       !access("/sys/module/hvx_core", F_OK),
			       "round %d: resolving the family loads hvx_core",
			       round);
		} else {
			tap_ok(!family_present(), "round %d: family gone", round);
			tap_ok(!load("hvx_core") && family_present(),
			       "round %d: load hvx_core again", round);
		}
		if (hvx_open(&c)) {
			tap_ok(0, "round %d: connect", round);
			continue;
		}
		hvx_dump(&c, &res);
		tap_ok(!res.err && res.nvms == 0,
		       "round %d: the new registry is empty", round);
		hvx_res_free(&res);
		hvx_close(&c);
	}
	for (int i = 0; i < nholders; i++)
		tap_ok(!load(holders[i]), "load %s again", holders[i]);
	return tap_end();
}
