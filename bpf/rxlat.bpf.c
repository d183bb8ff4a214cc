// SPDX-License-Identifier: GPL-2.0
/*
 * rxlat: receive-path delay per packet, from the driver handing the skb to
 * the stack to the socket read, as a log2 histogram.
 *
 * Start: every entry point a driver uses to hand over an skb (GRO,
 * netif_receive_skb[_list], netif_rx, which also covers veth and loopback).
 * Each overwrites the stamp (a decapsulated packet restarts), and an skb
 * address recycled after a free the tool did not see (GRO merges, TCP
 * coalescing) starts afresh.
 * End: the first copy to user space (skb_copy_datagram_iter, used by TCP and
 * non-linear UDP) or skb_consume_udp, which every UDP read reaches, also the
 * linear copy that has no tracepoint.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "rxlat.h"

/* Set by rxlat.c before load; 0 = every device. */
const volatile int targ_ifindex;
const volatile __u32 targ_netns;
const volatile bool targ_ms;

/* LRU: skbs dropped or freed unseen must not fill the table. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, u64);
} start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct rxlat_hist);
} hists SEC(".maps");

static __always_inline bool wanted(const struct sk_buff *skb)
{
	const struct net_device *dev;

	if (!targ_ifindex)
		return true;
	dev = BPF_CORE_READ(skb, dev);
	if (!dev || BPF_CORE_READ(dev, ifindex) != targ_ifindex)
		return false;
	/* ifindexes repeat across namespaces: veth peers often share one. */
	return BPF_CORE_READ(dev, nd_net.net, ns.inum) == targ_netns;
}

static __always_inline int stamp(const struct sk_buff *skb)
{
	u64 key = (u64)skb;
	u64 ts;

	if (!wanted(skb))
		return 0;
	ts = bpf_ktime_get_ns();
	bpf_map_update_elem(&start, &key, &ts, BPF_ANY);
	return 0;
}

/* Branch-free, so the verifier sees no loop (as libbpf-tools' bits.bpf.h). */
static __always_inline u32 log2_u32(u32 v)
{
	u32 r, shift;

	r = (v > 0xffff) << 4;
	v >>= r;
	shift = (v > 0xff) << 3;
	v >>= shift;
	r |= shift;
	shift = (v > 0xf) << 2;
	v >>= shift;
	r |= shift;
	shift = (v > 0x3) << 1;
	v >>= shift;
	r |= shift;
	return r | (v >> 1);
}

static __always_inline u32 log2_u64(u64 v)
{
	u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

static __always_inline int record(const struct sk_buff *skb)
{
	u64 key = (u64)skb;
	struct rxlat_hist *h;
	u64 *tsp, delta, slot;
	u32 zero = 0;

	tsp = bpf_map_lookup_elem(&start, &key);
	if (!tsp)
		return 0;
	delta = bpf_ktime_get_ns() - *tsp;
	/* Later reads of the same skb (TCP partial reads) are not new packets. */
	bpf_map_delete_elem(&start, &key);

	delta /= targ_ms ? 1000000 : 1000;
	/* 64-bit: a u32 slot gets zero-extended in a copy of the register,
	 * and the 6.1 verifier then does not see the bound on the one used
	 * as the index.
	 */
	slot = log2_u64(delta);
	if (slot >= RXLAT_SLOTS)
		slot = RXLAT_SLOTS - 1;
	h = bpf_map_lookup_elem(&hists, &zero);
	if (h)
		__sync_fetch_and_add(&h->slots[slot], 1);
	return 0;
}

SEC("tp_btf/napi_gro_receive_entry")
int BPF_PROG(rxlat_gro, const struct sk_buff *skb)
{
	return stamp(skb);
}

SEC("tp_btf/napi_gro_frags_entry")
int BPF_PROG(rxlat_gro_frags, const struct sk_buff *skb)
{
	return stamp(skb);
}

SEC("tp_btf/netif_receive_skb_entry")
int BPF_PROG(rxlat_rcv, const struct sk_buff *skb)
{
	return stamp(skb);
}

SEC("tp_btf/netif_receive_skb_list_entry")
int BPF_PROG(rxlat_rcv_list, const struct sk_buff *skb)
{
	return stamp(skb);
}

SEC("tp_btf/netif_rx")
int BPF_PROG(rxlat_rx, const struct sk_buff *skb)
{
	return stamp(skb);
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(rxlat_copy, const struct sk_buff *skb, int len)
{
	return record(skb);
}

SEC("fentry/skb_consume_udp")
int BPF_PROG(rxlat_udp, struct sock *sk, struct sk_buff *skb, int len)
{
	return record(skb);
}

/* For kernels without BPF trampolines; rxlat.c loads one of the two. */
SEC("kprobe/skb_consume_udp")
int BPF_KPROBE(rxlat_udp_kprobe, struct sock *sk, struct sk_buff *skb)
{
	return record(skb);
}

/*
 * A freed skb's address comes back, possibly for a local datagram (netlink,
 * unix) whose read would pick up the stale stamp: forget stamps of skbs
 * dropped or consumed without a read (ARP, ICMP, an unread socket queue).
 */
static __always_inline int forget(const struct sk_buff *skb)
{
	u64 key = (u64)skb;

	bpf_map_delete_elem(&start, &key);
	return 0;
}

SEC("tp_btf/kfree_skb")
int BPF_PROG(rxlat_drop, struct sk_buff *skb)
{
	return forget(skb);
}

SEC("tp_btf/consume_skb")
int BPF_PROG(rxlat_consume, struct sk_buff *skb)
{
	return forget(skb);
}

char LICENSE[] SEC("license") = "GPL";
