// SPDX-License-Identifier: GPL-2.0
#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cluster_policy.h"

/* Finds word (a whole space-separated item) in list. */
static bool has_word(const char *list, const char *word, size_t len)
{
	const char *p = list;

	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n == len && !strncmp(p, word, len))
			return true;
		p += n;
	}
	return false;
}

/* Value of key in "k=v k=v", copied to out; false when absent. */
static bool label_value(const char *labels, const char *key, size_t klen,
			char *out, size_t out_len)
{
	const char *p = labels;

	while (*p) {
		size_t n;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n > klen && p[klen] == '=' && !strncmp(p, key, klen)) {
			snprintf(out, out_len, "%.*s", (int)(n - klen - 1),
				 p + klen + 1);
			return true;
		}
		p += n;
	}
	return false;
}

int cluster_policy_check(const struct cluster_policy *p,
			 const struct cluster_facts *f, char *why,
			 size_t why_len)
{
	const char *w;

	if (p->min_memory_mb && f->memory_mb < p->min_memory_mb) {
		snprintf(why, why_len,
			 "rule min_memory_mb: host has %" PRIu64
			 " MiB, policy requires %" PRIu64 " MiB",
			 f->memory_mb, p->min_memory_mb);
		return -EPERM;
	}
	if (*p->cpu_model && fnmatch(p->cpu_model, f->cpu_model, 0)) {
		snprintf(why, why_len,
			 "rule cpu_model: host cpu \"%s\" does not match \"%s\"",
			 f->cpu_model, p->cpu_model);
		return -EPERM;
	}
	for (w = p->features; *w;) {
		size_t n;

		while (*w == ' ')
			w++;
		n = strcspn(w, " ");
		if (n && !has_word(f->features, w, n)) {
			snprintf(why, why_len,
				 "rule features: host lacks cpu feature %.*s",
				 (int)n, w);
			return -EPERM;
		}
		w += n;
	}
	for (w = p->modules; *w;) {
		size_t n;

		while (*w == ' ')
			w++;
		n = strcspn(w, " ");
		if (n && !label_value(f->modules, w, n, (char[2]){ 0 }, 1)) {
			snprintf(why, why_len,
				 "rule modules: host has no %.*s loaded",
				 (int)n, w);
			return -EPERM;
		}
		w += n;
	}
	for (w = p->labels; *w;) {
		char key[CLUSTER_LABELS_MAX], pat[CLUSTER_LABELS_MAX];
		char val[CLUSTER_LABELS_MAX];
		size_t n, k;

		while (*w == ' ')
			w++;
		n = strcspn(w, " ");
		if (!n)
			break;
		k = strcspn(w, "=");
		snprintf(key, sizeof(key), "%.*s", (int)k, w);
		snprintf(pat, sizeof(pat), "%.*s", (int)(n - k - 1), w + k + 1);
		if (!label_value(f->labels, key, k, val, sizeof(val))) {
			snprintf(why, why_len,
				 "rule labels: host has no label %s (policy wants %s=%s)",
				 key, key, pat);
			return -EPERM;
		}
		if (fnmatch(pat, val, 0)) {
			snprintf(why, why_len,
				 "rule labels: host label %s=%s does not match %s",
				 key, val, pat);
			return -EPERM;
		}
		w += n;
	}
	return 0;
}

int cluster_labels_valid(const char *labels)
{
	const char *p = labels;

	while (*p) {
		size_t n, k;

		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (!n)
			break;
		k = strcspn(p, "=");
		if (k == 0 || k >= n)
			return -EINVAL;
		p += n;
	}
	return 0;
}

/*
 * CPU flags that matter for placing hvx VMs; the full flag list is longer
 * than a datagram allows.
 */
static const char *const relevant_flags[] = {
	"vmx", "svm", "ept", "npt", "vpid", "ept_ad", "nrip_save",
	"x2apic", "pdpe1gb", "aes", "avx", "avx2", "avx512f", "sse4_2",
	"rdrand", "rdseed", "sha_ni", "invpcid", "pcid", "la57", "tsc",
	"constant_tsc", "nonstop_tsc", "hypervisor", "sev", "sev_es", "tdx",
};

static void gather_cpu(struct cluster_facts *f, const char *procfs)
{
	char path[256], line[4096];
	bool model = false, flags = false;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/cpuinfo", procfs);
	fp = fopen(path, "re");
	if (!fp)
		return;
	while ((!model || !flags) && fgets(line, sizeof(line), fp)) {
		char *v = strchr(line, ':');

		if (!v)
			continue;
		v += 1 + (v[1] == ' ');
		v[strcspn(v, "\n")] = '\0';
		if (!model && !strncmp(line, "model name", 10)) {
			snprintf(f->cpu_model, sizeof(f->cpu_model), "%s", v);
			model = true;
		} else if (!flags && !strncmp(line, "flags", 5)) {
			size_t used = 0;

			for (size_t i = 0; i < sizeof(relevant_flags) /
						sizeof(relevant_flags[0]); i++) {
				const char *fl = relevant_flags[i];

				if (!has_word(v, fl, strlen(fl)))
					continue;
				used += snprintf(f->features + used,
						 sizeof(f->features) - used,
						 "%s%s", used ? " " : "", fl);
				if (used >= sizeof(f->features))
					break;
			}
			flags = true;
		}
	}
	fclose(fp);
}

static void gather_memory(struct cluster_facts *f, const char *procfs)
{
	char path[256], line[256];
	unsigned long long kb;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/meminfo", procfs);
	fp = fopen(path, "re");
	if (!fp)
		return;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
			f->memory_mb = kb / 1024;
			break;
		}
	fclose(fp);
}

static void gather_modules(struct cluster_facts *f, const char *sysfs)
{
	char path[512], ver[64];
	struct dirent *de;
	size_t used = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s/module", sysfs);
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		FILE *fp;
		int n;

		if (strncmp(de->d_name, "hvx", 3))
			continue;
		snprintf(ver, sizeof(ver), "loaded");
		snprintf(path, sizeof(path), "%s/module/%s/version", sysfs,
			 de->d_name);
		fp = fopen(path, "re");
		if (fp) {
			if (fgets(ver, sizeof(ver), fp))
				ver[strcspn(ver, "\n")] = '\0';
			fclose(fp);
		}
		n = snprintf(f->modules + used, sizeof(f->modules) - used,
			     "%s%s=%s", used ? " " : "", de->d_name, ver);
		if (used + n >= sizeof(f->modules)) {
			f->modules[used] = '\0';
			break;
		}
		used += n;
	}
	closedir(d);
}

int cluster_facts_gather(struct cluster_facts *f, const char *labels,
			 const char *procfs, const char *sysfs)
{
	memset(f, 0, sizeof(*f));
	if (strlen(labels) >= sizeof(f->labels) || cluster_labels_valid(labels))
		return -EINVAL;
	strcpy(f->labels, labels);
	gather_cpu(f, procfs);
	gather_memory(f, procfs);
	gather_modules(f, sysfs);
	/* A model name with characters the wire refuses would drop us. */
	for (char *c = f->cpu_model; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			*c = '?';
	return 0;
}
