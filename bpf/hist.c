// SPDX-License-Identifier: GPL-2.0
#include <stdbool.h>
#include "hist.h"
#include "hvx_json.h"

#define STARS_MAX 40

static void slot_range(int i, unsigned long long *low, unsigned long long *high)
{
	*low = (1ULL << (i + 1)) >> 1;
	*high = (1ULL << (i + 1)) - 1;
	/* Slot 0 is [0, 1]: a zero delta lands there too. */
	if (*low == *high)
		*low -= 1;
}

static void print_stars(FILE *f, uint32_t val, uint32_t val_max, int width)
{
	int stars = (uint64_t)(val < val_max ? val : val_max) * width / val_max;
	int i;

	for (i = 0; i < stars; i++)
		fputc('*', f);
	for (; i < width; i++)
		fputc(' ', f);
	if (val > val_max)
		fputc('+', f);
}

void hist_print_log2(FILE *f, const uint32_t *slots, int n, const char *unit)
{
	int idx_max = -1, stars, width, i;
	unsigned long long low, high;
	uint32_t val_max = 0;
	bool wide;

	for (i = 0; i < n; i++) {
		if (slots[i])
			idx_max = i;
		if (slots[i] > val_max)
			val_max = slots[i];
	}
	if (idx_max < 0)
		return;

	wide = idx_max > 32;
	stars = wide ? STARS_MAX / 2 : STARS_MAX;
	width = wide ? 20 : 10;
	fprintf(f, "%*s%-*s : count    distribution\n", wide ? 15 : 5, "",
		wide ? 29 : 19, unit);
	for (i = 0; i <= idx_max; i++) {
		slot_range(i, &low, &high);
		fprintf(f, "%*llu -> %-*llu : %-8u |", width, low, width, high,
			slots[i]);
		print_stars(f, slots[i], val_max, stars);
		fputs("|\n", f);
	}
}

struct json_object *hist_json_log2(const uint32_t *slots, int n,
				   const char *unit)
{
	struct json_object *o, *buckets, *b;
	unsigned long long low, high;
	uint64_t total = 0;
	int i;

	o = json_object_new_object();
	buckets = json_object_new_array();
	if (!o || !buckets)
		goto err;
	for (i = 0; i < n; i++) {
		total += slots[i];
		if (!slots[i])
			continue;
		slot_range(i, &low, &high);
		b = json_object_new_object();
		if (!b || json_object_array_add(buckets, b)) {
			json_object_put(b);
			goto err;
		}
		if (hvx_json_add_u64(b, "low", low) ||
		    hvx_json_add_u64(b, "high", high) ||
		    hvx_json_add_u64(b, "count", slots[i]))
			goto err;
	}
	if (hvx_json_add_str(o, "unit", unit) ||
	    hvx_json_add_u64(o, "total", total))
		goto err;
	if (hvx_json_add(o, "buckets", buckets)) {
		json_object_put(o);
		return NULL;
	}
	return o;
err:
	json_object_put(buckets);
	json_object_put(o);
	return NULL;
}
