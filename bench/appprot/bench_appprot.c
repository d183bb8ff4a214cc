// SPDX-License-Identifier: GPL-2.0
/*
 * bench_appprot: how many install verifications per second hvxd decides end
 * to end (a guest's request in over its channel, the primary's lookup,
 * signature, expiry, version, VM, payload SHA-256, the decision back; the
 * launch excluded: the requests use op "verify"), against the floor set by
 * libcrypto alone: SHA-256 of the same payload bytes in memory plus the
 * Ed25519 verification of the same signed bytes.  Both run in this run, in
 * interleaved rounds, and the median of the rounds' ratios is printed.
 *
 * It starts the real hvx-primary and hvxd from the build directory, in a
 * temporary directory, and stops them at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "app_guest.h"
#include "app_manifest.h"

static char tdir[] = "/tmp/hvx-bench-appprot.XXXXXX";
static pid_t primary_pid, hvxd_pid;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench_appprot: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void put(const char *name, const void *buf, size_t len)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	f = fopen(path, "w");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f))
		die(path);
}

static pid_t spawn(char *const argv[], const char *log)
{
	char path[256];
	pid_t pid;
	int fd;

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		snprintf(path, sizeof(path), "%s/%s", tdir, log);
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0)
			dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static void wait_for(const char *name)
{
	char path[256];
	struct stat st;
	int i;

	snprintf(path, sizeof(path), "%s/%s", tdir, name);
	for (i = 0; i < 100; i++) {
		if (!stat(path, &st))
			return;
		usleep(50000);
	}
	fprintf(stderr, "bench_appprot: %s did not appear (see the logs in %s)\n",
		path, tdir);
	exit(1);
}

static void cleanup(void)
{
	char cmd[128];

	if (hvxd_pid > 0)
		kill(hvxd_pid, SIGTERM);
	if (primary_pid > 0)
		kill(primary_pid, SIGTERM);
	while (wait(NULL) > 0)
		;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tdir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_appprot: could not remove %s\n", tdir);
}

struct sized {
	const char *label;
	size_t size;
	char name[32];
	uint8_t *bytes;
	char *manifest;
	uint8_t *canon;
	size_t canon_len;
	struct app_manifest m;
};

static void make_case(struct sized *c, EVP_PKEY *key)
{
	unsigned int mdlen;
	size_t i;

	snprintf(c->name, sizeof(c->name), "payload-%zu", c->size);
	c->bytes = malloc(c->size);
	if (!c->bytes)
		die("malloc");
	for (i = 0; i < c->size; i++)
		c->bytes[i] = (uint8_t)(i * 2654435761u >> 13);
	snprintf(c->m.app_id, sizeof(c->m.app_id), "org.bench.app");
	c->m.version = 1;
	c->m.size = c->size;
	EVP_Digest(c->bytes, c->size, c->m.sha256, &mdlen, EVP_sha256(), NULL);
	c->m.n_vms = 1;
	strcpy(c->m.vms[0], "vm1");
	c->m.expires = (uint64_t)time(NULL) + 3600;
	if (app_manifest_sign(&c->m, key) ||
	    app_manifest_encode(&c->m, &c->canon, &c->canon_len))
		die("sign");
	c->manifest = app_manifest_dump(&c->m);
	if (!c->manifest)
		die("dump");
}

/* The floor: what any verifier must do at least, straight on libcrypto. */
static double raw_rate(const struct sized *c, EVP_PKEY *pub, double secs)
{
	uint8_t md[32];
	unsigned int mdlen;
	double t0 = now(), t;
	unsigned long n = 0;

	do {
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();

		if (EVP_Digest(c->bytes, c->size, md, &mdlen, EVP_sha256(), NULL) != 1 ||
		    memcmp(md, c->m.sha256, 32) ||
		    EVP_DigestVerifyInit_ex(ctx, NULL, NULL, NULL, NULL, pub, NULL) != 1 ||
		    EVP_DigestVerify(ctx, c->m.signature, APP_SIG_LEN, c->canon,
				     c->canon_len) != 1) {
			fprintf(stderr, "bench_appprot: raw verification failed\n");
			exit(1);
		}
		EVP_MD_CTX_free(ctx);
		n++;
		t = now();
	} while (t - t0 < secs);
	return (double)n / (t - t0);
}

static double e2e_rate(const struct sized *c, const char *addr, double secs)
{
	double t0 = now(), t;
	unsigned long n = 0;
	enum app_reason r;
	char *reply;
	int fd;

	fd = app_sock_connect(addr, 30000);
	if (fd < 0) {
		errno = -fd;
		die(addr);
	}
	do {
		if (app_guest_call(fd, false, c->m.app_id, c->manifest,
				   strlen(c->manifest), c->name, &reply, &r) ||
		    r != APP_OK) {
			fprintf(stderr, "bench_appprot: hvxd refused: %s\n",
				r != APP_OK ? reply : "no reply");
			exit(1);
		}
		free(reply);
		n++;
		t = now();
	} while (t - t0 < secs);
	close(fd);
	return (double)n / (t - t0);
}

#define ROUNDS 7

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "build", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 }
	};
	struct sized cases[] = {
		{ .label = "64 KiB", .size = 64 << 10 },
		{ .label = "16 MiB", .size = 16 << 20 },
	};
	const char *build = "build";
	char path[256], addr[300], conf[2048], policy[512], hex[65];
	char primary[256], hvxd[256], pconf[256], ppol[256], pstate[256], plisten[300];
	uint8_t pub[APP_PUBKEY_LEN];
	double secs = 4.0, worst = 0;
	EVP_PKEY *key;
	unsigned int i;
	int opt;

	while ((opt = getopt_long(argc, argv, "b:s:", opts, NULL)) != -1) {
		switch (opt) {
		case 'b': build = optarg; break;
		case 's': secs = atof(optarg); break;
		default:
			fprintf(stderr, "Usage: bench_appprot [--build DIR] [--seconds S]\n");
			return 2;
		}
	}
	if (secs <= 0)
		secs = 4.0;
	if (!mkdtemp(tdir))
		die("mkdtemp");
	atexit(cleanup);

	key = app_key_generate();
	if (!key || app_key_raw_public(key, pub))
		die("keygen");
	app_hex_encode(pub, APP_PUBKEY_LEN, hex);
	snprintf(policy, sizeof(policy),
		 "{\"keys\": [{\"name\": \"bench\", \"public\": \"%s\"}],\n"
		 " \"apps\": [{\"app_id\": \"org.bench.app\", \"min_version\": 1, \"keys\": [\"bench\"]}]}\n",
		 hex);
	put("policy.json", policy, strlen(policy));
	snprintf(conf, sizeof(conf),
		 "[daemon]\nsocket = %s/hvxd.sock\nlog_level = warning\n"
		 "[app]\nenabled = yes\nprimary = unix:%s/primary.sock\n"
		 "guest_dir = %s/guest\nguests = vm1\nshare_dir = %s/share\n"
		 "store_dir = %s/store\nlauncher = exec\n",
		 tdir, tdir, tdir, tdir, tdir);
	put("hvxd.conf", conf, strlen(conf));
	snprintf(path, sizeof(path), "%s/share", tdir);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/share/vm1", tdir);
	mkdir(path, 0755);
	for (i = 0; i < 2; i++) {
		char name[64];

		make_case(&cases[i], key);
		snprintf(name, sizeof(name), "share/vm1/%s", cases[i].name);
		put(name, cases[i].bytes, cases[i].size);
	}

	snprintf(primary, sizeof(primary), "%s/hvx-primary", build);
	snprintf(hvxd, sizeof(hvxd), "%s/hvxd", build);
	snprintf(ppol, sizeof(ppol), "%s/policy.json", tdir);
	snprintf(pstate, sizeof(pstate), "%s/state.json", tdir);
	snprintf(plisten, sizeof(plisten), "unix:%s/primary.sock", tdir);
	snprintf(pconf, sizeof(pconf), "%s/hvxd.conf", tdir);
	primary_pid = spawn((char *[]){ primary, "--policy", ppol, "--state", pstate,
					"--listen", plisten, NULL }, "primary.log");
	wait_for("primary.sock");
	hvxd_pid = spawn((char *[]){ hvxd, "-c", pconf, NULL }, "hvxd.log");
	wait_for("guest/vm1.sock");
	snprintf(addr, sizeof(addr), "unix:%s/guest/vm1.sock", tdir);

	/*
	 * The two are interleaved in short rounds and the ratio is the
	 * median of the rounds' ratios: whatever else the machine runs
	 * (builds, VMs) then weighs on both sides alike.
	 */
	printf("# %d rounds of %.2fs each side, interleaved; ratio = median of the rounds' libcrypto/hvxd\n",
	       ROUNDS, secs / ROUNDS);
	printf("%-8s %14s %14s %7s %7s %7s\n", "payload", "hvxd verif/s",
	       "libcrypto/s", "ratio", "best", "worst");
	for (i = 0; i < 2; i++) {
		const struct sized *c = &cases[i];
		double e2e = 0, raw = 0, ratios[ROUNDS], ratio;
		int r;

		/* Warm both paths (page cache, connections) before measuring. */
		e2e_rate(c, addr, secs / 10);
		raw_rate(c, key, secs / 10);
		for (r = 0; r < ROUNDS; r++) {
			double a = raw_rate(c, key, secs / ROUNDS);
			double b = e2e_rate(c, addr, secs / ROUNDS);

			raw += a / ROUNDS;
			e2e += b / ROUNDS;
			ratios[r] = a / b;
		}
		qsort(ratios, ROUNDS, sizeof(ratios[0]), cmp_double);
		ratio = ratios[ROUNDS / 2];
		if (ratio > worst)
			worst = ratio;
		printf("%-8s %14.1f %14.1f %6.2fx %6.2fx %6.2fx\n", c->label, e2e,
		       raw, ratio, ratios[0], ratios[ROUNDS - 1]);
	}
	printf("target: within 2x of libcrypto: %s (worst median %.2fx)\n",
	       worst <= 2.0 ? "met" : "MISSED", worst);
	for (i = 0; i < 2; i++) {
		free(cases[i].bytes);
		free(cases[i].manifest);
		free(cases[i].canon);
	}
	EVP_PKEY_free(key);
	return worst <= 2.0 ? 0 : 1;
}
