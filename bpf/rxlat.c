// SPDX-License-Identifier: GPL-2.0
/*
 * rxlat: log2 histogram of the receive-path delay per packet, from the
 * driver handing the skb to the stack to the socket read.  See rxlat.bpf.c
 * for the hooks.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "hvx_json.h"
#include "hist.h"
#include "rxlat.h"
#include "rxlat.skel.h"

static const char usage_text[] =
"usage: rxlat [-j [-p]] [-m] [-i IFNAME] [-v] [INTERVAL [COUNT]]\n"
"\n"
"Summarize the receive-path delay per packet as a log2 histogram: from the\n"
"driver handing the skb to the stack (GRO, netif_receive_skb, netif_rx) to\n"
"the socket read (first copy to user space, or the UDP consume).\n"
"\n"
"  -i, --interface IFNAME  only packets received on IFNAME (in this\n"
"                          network namespace)\n"
"  -m, --milliseconds      histogram in milliseconds (default microseconds)\n"
"  -j, --json              one JSON object per interval\n"
"  -p, --pretty            indented JSON (with -j)\n"
"  -v, --verbose           libbpf's debug output\n"
"  -h, --help              this text\n"
"\n"
"INTERVAL seconds between outputs (default: print once at Ctrl-C),\n"
"COUNT outputs then exit (default: unlimited).\n"
"\n"
"examples:\n"
"  rxlat              # until Ctrl-C\n"
"  rxlat 1 10         # ten one-second histograms\n"
"  rxlat -j -i eth0 5 # JSON every 5 s, eth0 only\n";

static struct env {
	const char *ifname;
	int ifindex;
	bool ms;
	bool json;
	bool pretty;
	bool verbose;
	unsigned int interval;
	unsigned long count;
} env = {
	.interval = UINT_MAX,
};

static volatile sig_atomic_t exiting;

static void on_signal(int sig)
{
	exiting = 1;
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	fputs("rxlat: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see rxlat --help)\n", stderr);
	exit(2);
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
			va_list args)
{
	/* Its multi-line dumps would bury our one-line errors. */
	if (!env.verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static unsigned long parse_num(const char *what, const char *s,
			       unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v == 0 || v > max)
		die_usage("%s must be a whole number from 1 to %lu, not '%s'",
			  what, max, s);
	return v;
}

static void parse_args(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interface", required_argument, NULL, 'i' },
		{ "milliseconds", no_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{}
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":i:mjpvh", opts, NULL)) != -1) {
		switch (c) {
		case 'i':
			if (!*optarg || strlen(optarg) >= IF_NAMESIZE)
				die_usage("'%s' is not an interface name", optarg);
			env.ifname = optarg;
			break;
		case 'm':
			env.ms = true;
			break;
		case 'j':
			env.json = true;
			break;
		case 'p':
			env.pretty = true;
			break;
		case 'v':
			env.verbose = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			die_usage("option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt)
				die_usage("unknown option '-%c'", optopt);
			die_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (env.pretty && !env.json)
		die_usage("-p needs -j");
	if (optind < argc)
		env.interval = parse_num("INTERVAL", argv[optind++], 86400);
	if (optind < argc)
		env.count = parse_num("COUNT", argv[optind++], ULONG_MAX - 1);
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

static int netns_inum(__u32 *inum)
{
	struct stat st;

	if (stat("/proc/self/ns/net", &st))
		return -errno;
	*inum = st.st_ino;
	return 0;
}

/* Read the interval's histogram and start the next one from zero. */
static int take_hist(int fd, struct rxlat_hist *h)
{
	static const struct rxlat_hist zero;
	__u32 key = 0;

	if (bpf_map_lookup_elem(fd, &key, h) ||
	    bpf_map_update_elem(fd, &key, &zero, BPF_EXIST))
		return -errno;
	return 0;
}

static int print_hist(const struct rxlat_hist *h)
{
	const char *unit = env.ms ? "msecs" : "usecs";
	struct json_object *o;
	char ts[32];
	time_t now;
	int err;

	if (!env.json) {
		hist_print_log2(stdout, h->slots, RXLAT_SLOTS, unit);
		putchar('\n');
		return fflush(stdout) ? -errno : 0;
	}
	o = hist_json_log2(h->slots, RXLAT_SLOTS, unit);
	now = time(NULL);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	err = o ? 0 : -ENOMEM;
	if (!err)
		err = hvx_json_add_str(o, "time", ts);
	if (!err && env.ifname)
		err = hvx_json_add_str(o, "interface", env.ifname);
	if (!err)
		err = hvx_json_write(stdout, o, env.pretty ? HVX_JSON_PRETTY :
							    HVX_JSON_COMPACT);
	json_object_put(o);
	return err;
}

static struct rxlat_bpf *start(int ifindex, __u32 netns, bool fentry, int *err)
{
	struct rxlat_bpf *obj = rxlat_bpf__open();

	if (!obj) {
		*err = -errno;
		return NULL;
	}
	obj->rodata->targ_ifindex = ifindex;
	obj->rodata->targ_netns = netns;
	obj->rodata->targ_ms = env.ms;
	bpf_program__set_autoload(obj->progs.rxlat_udp, fentry);
	bpf_program__set_autoload(obj->progs.rxlat_udp_kprobe, !fentry);
	*err = rxlat_bpf__load(obj);
	if (!*err)
		*err = rxlat_bpf__attach(obj);
	if (*err) {
		rxlat_bpf__destroy(obj);
		return NULL;
	}
	return obj;
}

int main(int argc, char **argv)
{
	struct rxlat_bpf *obj = NULL;
	struct rxlat_hist hist;
	__u32 netns = 0;
	unsigned long n;
	int err;

	parse_args(argc, argv);
	libbpf_set_print(libbpf_print);

	if (env.ifname) {
		env.ifindex = if_nametoindex(env.ifname);
		if (!env.ifindex) {
			fprintf(stderr, "rxlat: interface '%s': %s\n",
				env.ifname, strerror(errno));
			return 1;
		}
		err = netns_inum(&netns);
		if (err) {
			fprintf(stderr, "rxlat: /proc/self/ns/net: %s\n",
				strerror(-err));
			return 1;
		}
	}
	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		fprintf(stderr, "rxlat: the kernel has no BTF (/sys/kernel/btf/vmlinux: %s)\n",
			strerror(errno));
		return 1;
	}

	/* fentry is cheaper; a kprobe stands in where trampolines are missing. */
	obj = start(env.ifindex, netns, true, &err);
	if (!obj)
		obj = start(env.ifindex, netns, false, &err);
	if (!obj) {
		fprintf(stderr, "rxlat: cannot load and attach the BPF programs: %s%s\n",
			strerror(-err), err == -EPERM ?
			" (needs CAP_BPF and CAP_PERFMON, and BPF not blocked by a sandbox)" :
			" (-v shows the verifier's log)");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	/* On stderr: stdout carries only histograms (or JSON). */
	fprintf(stderr, "Tracing receive-path delay%s%s... Hit Ctrl-C to end.\n",
		env.ifname ? " on " : "", env.ifname ? env.ifname : "");

	for (n = 0; !env.count || n < env.count; n++) {
		sleep(env.interval);
		err = take_hist(bpf_map__fd(obj->maps.hists), &hist);
		if (err) {
			fprintf(stderr, "rxlat: cannot read the histogram: %s\n",
				strerror(-err));
			goto out;
		}
		err = print_hist(&hist);
		if (err) {
			fprintf(stderr, "rxlat: cannot write the output: %s\n",
				strerror(-err));
			goto out;
		}
		if (exiting)
			break;
	}
out:
	rxlat_bpf__destroy(obj);
	return err ? 1 : 0;
}
