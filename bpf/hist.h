/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 histograms as the bcc and libbpf-tools print them, and the same data
 * as JSON, so every BPF tool here reports one way.
 */
#ifndef HVX_BPF_HIST_H
#define HVX_BPF_HIST_H

#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* Slot i holds [2^i, 2^(i+1) - 1]; slot 0 also holds 0. */
void hist_print_log2(FILE *f, const uint32_t *slots, int n, const char *unit);
/* {"unit":..,"total":..,"buckets":[{"low":..,"high":..,"count":..}...]}, or NULL. */
struct json_object *hist_json_log2(const uint32_t *slots, int n,
				   const char *unit);

#endif /* HVX_BPF_HIST_H */
