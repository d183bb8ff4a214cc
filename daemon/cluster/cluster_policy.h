/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Placement policy: the rules a manager applies to a host's facts before it
 * answers. Every rejection names the rule that failed and what the host
 * reported, so an operator never has to guess.
 */
#ifndef HVX_CLUSTER_POLICY_H
#define HVX_CLUSTER_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "cluster_wire.h"

struct cluster_policy {
	uint64_t min_memory_mb;			/* 0: any */
	char cpu_model[CLUSTER_CPU_MAX];	/* fnmatch glob, "": any */
	char features[CLUSTER_FEATURES_MAX];	/* all required */
	char labels[CLUSTER_LABELS_MAX];	/* key=glob, all required */
	char modules[CLUSTER_MODULES_MAX];	/* names, all required loaded */
};

/* 0 to admit; -EPERM with why = "rule <name>: ..." otherwise. */
int cluster_policy_check(const struct cluster_policy *p,
			 const struct cluster_facts *f, char *why,
			 size_t why_len);

/* Facts of this machine; labels come from the configuration. */
int cluster_facts_gather(struct cluster_facts *f, const char *labels,
			 const char *procfs, const char *sysfs);

/* Checks a "key=value key=value" list; used for config and wire input. */
int cluster_labels_valid(const char *labels);

#endif
