// SPDX-License-Identifier: GPL-2.0
/*
 * Dump consistency: a dump that spans several messages while another
 * process creates and destroys VMs is either complete and ordered, or
 * flagged NLM_F_DUMP_INTR; never silently torn.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hvx_test.h"

#define NVMS 1000
#define DUMPS 60

static struct hvx_ctx ctx;
static uint32_t ids[NVMS];

/* Ids strictly increasing; returns how many of ours the dump lists. */
static int check_dump(const struct hvx_res *res, bool *ordered)
{
	int i, j = 0, found = 0;

	*ordered = true;
	for (i = 0; i < res->nvms; i++) {
		if (i && res->vms[i].id <= res->vms[i - 1].id)
			*ordered = false;
		while (j < NVMS && ids[j] < res->vms[i].id)
			j++;
		if (j < NVMS && ids[j] == res->vms[i].id)
			found++;
	}
	return found;
}

static void churn(const char *name)
{
	struct hvx_ctx c;
	uint32_t id;

	/* Never outlive the test, however it ends. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() == 1 || hvx_open(&c))
		_exit(1);
	for (;;) {
		if (!hvx_vm_new(&c, name, &id))
			hvx_vm_del(&c, id);
	}
}

int main(void)
{
	int i, intr = 0, clean = 0, torn = 0, unordered = 0, made = 0;
	char name[64], churn_name[64];
	struct hvx_res res;
	bool ordered;
	pid_t pid;

	hvx_require(&ctx);
	tap_begin();
	for (i = 0; i < NVMS; i++) {
		snprintf(name, sizeof(name), "dump%d-%04d", getpid(), i);
		made += !hvx_vm_new(&ctx, name, &ids[i]);
	}
	if (!tap_ok(made == NVMS, "create %d VMs", NVMS))
		goto out;

	hvx_dump(&ctx, &res);
	tap_ok(!res.err && !res.intr && check_dump(&res, &ordered) == NVMS &&
	       ordered, "a quiet dump is complete, ordered and not flagged");
	hvx_res_free(&res);

	snprintf(churn_name, sizeof(churn_name), "dump%d-churn", getpid());
	pid = fork();
	if (pid == 0)
		churn(churn_name);
	for (i = 0; i < DUMPS && (intr < 3 || clean < 1 || i < 10); i++) {
		int found;

		hvx_dump(&ctx, &res);
		found = check_dump(&res, &ordered);
		if (res.err)
			torn++;
		else if (res.intr)
			intr++;
		else if (found == NVMS)
			clean++;
		else
			torn++;
		unordered += !ordered;
		hvx_res_free(&res);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	tap_diag("%d dumps under churn: %d flagged, %d clean, %d torn", i,
		 intr, clean, torn);
	tap_ok(torn == 0, "no unflagged dump under churn misses a VM");
	tap_ok(unordered == 0, "every dump lists ids in order, none twice");
	tap_ok(intr > 0, "concurrent changes flag dumps NLM_F_DUMP_INTR");

	{
		struct nl_msg *msg = hvx_msg(&ctx, HVX_CMD_VM_DEL, 0);

		nla_put_string(msg, HVX_A_VM_NAME, churn_name);
		hvx_send(&ctx, msg, &res);
		hvx_res_free(&res);
	}
out:
	made = 0;
	for (i = 0; i < NVMS; i++)
		made += ids[i] && !hvx_vm_del(&ctx, ids[i]);
	tap_ok(made == NVMS, "delete the %d VMs", NVMS);
	hvx_close(&ctx);
	return tap_end();
}
