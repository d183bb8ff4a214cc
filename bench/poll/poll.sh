#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hvx_poll benchmark, run inside the VM with two hub-joined NICs (use
# bench/poll/run from the host, which also accounts QEMU's threads):
#   scripts/vm --nics 2 -- bench/poll/poll.sh [ROUNDS [SECONDS]]
# sockperf ping-pong (64 B UDP) from namespace pb (the measured receiver)
# to a sockperf server in pa, alternating per round: default NAPI,
# SO_BUSY_POLL (net.core.busy_read/busy_poll = 50 us), hvx_poll busy and
# hvx_poll adaptive. Prints a Markdown table of medians over the rounds with
# [min-max] spread, then rxlat's receive-path delay for NAPI and busy.
# Settings: HVX_BENCH_CONFIGS, HVX_BENCH_POLL_CPU, HVX_BENCH_CLIENT_CPU,
# HVX_BENCH_SERVER_CPU ("" = anywhere), HVX_BENCH_ATTACH (more attach
# arguments), HVX_BENCH_NO_RXLAT.
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1

ROUNDS=${1:-5}
SECS=${2:-4}
HVXCTL=${BUILD:-build}/hvxctl
read -r -a CONFIGS <<<"${HVX_BENCH_CONFIGS:-napi so_busy_poll hvx_busy hvx_adaptive}"
# CPU of the polling thread, and of the sockperf client and server ("" = any).
# By default the measured client shares the polling CPU and the server has
# the other: a 2-vCPU guest has no CPU to spare for the thread alone, and
# every configuration runs with the same placement.
PCPU=${HVX_BENCH_POLL_CPU:-1}
CCPU=${HVX_BENCH_CLIENT_CPU-1}
SCPU=${HVX_BENCH_SERVER_CPU-0}
ATTACH_EXTRA=${HVX_BENCH_ATTACH:-}
pin() { local c=$1; shift; if [ -n "$c" ]; then taskset -c "$c" "$@"; else "$@"; fi; }
pa() { ip netns exec hvxpa "$@"; }
pb() { ip netns exec hvxpb "$@"; }
# The measured client, on its CPU: pingpong SECONDS.
pingpong() { pin "$CCPU" ip netns exec hvxpb sockperf ping-pong -i 192.0.2.1 -p 11111 -m 64 -t "$1"; }

# Without udev (busybox init) nothing loads the NIC driver.
modprobe -q virtio_net 2>/dev/null
udevadm settle 2>/dev/null
sleep 0.5
nics=()
for d in /sys/class/net/*; do
	[ "$(basename "$(readlink -f "$d/device/driver" 2>/dev/null)")" = virtio_net ] &&
		nics+=("$(basename "$d")")
done
[ ${#nics[@]} -ge 2 ] || { echo "poll bench: needs scripts/vm --nics 2" >&2; exit 4; }
grep -q '^hvx_poll ' /proc/modules || modprobe hvx_poll 2>/dev/null ||
	insmod kmod/poll/hvx_poll.ko
A=${nics[0]}
B=${nics[1]}
# The interrupt lines of B's receive queues, named after its virtio device.
VDEV=$(basename "$(readlink -f "/sys/class/net/$B/device")")

cleanup() {
	sysctl -qw net.core.busy_read=0 net.core.busy_poll=0
	[ -n "${SRV:-}" ] && kill "$SRV" 2>/dev/null
	wait 2>/dev/null
	# Hand the NICs back now: a deleted namespace returns them only later.
	ip -n hvxpa link set "$A" netns 1 2>/dev/null
	ip -n hvxpb link set "$B" netns 1 2>/dev/null
	ip netns del hvxpa 2>/dev/null
	ip netns del hvxpb 2>/dev/null
	true
}
trap cleanup EXIT
ip netns add hvxpa
ip netns add hvxpb
ip link set "$A" netns hvxpa
ip link set "$B" netns hvxpb
pa ip addr add 192.0.2.1/24 dev "$A"
pa ip link set "$A" up
pb ip addr add 192.0.2.2/24 dev "$B"
pb ip link set "$B" up
pin "$SCPU" ip netns exec hvxpa sockperf server -i 192.0.2.1 -p 11111 >/dev/null 2>&1 &
SRV=$!
sleep 1
pingpong 1 >/dev/null 2>&1

irqs() { awk -v d="$VDEV-input" '$NF ~ "^" d { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break } END { print s + 0 }' /proc/interrupts; }
rxpk() { pb cat "/sys/class/net/$B/statistics/rx_packets"; }
busyrx() { pb awk '/^TcpExt:/ && !h { for (i = 1; i <= NF; i++) if ($i == "BusyPollRxPackets") c = i; h = 1; next }
	/^TcpExt:/ && h { print $c }' /proc/net/netstat; }
# NET_RX softirqs on all CPUs; CPU ticks of all ksoftirqd threads.
netrx() { awk '$1 == "NET_RX:" { for (i = 2; i <= NF; i++) s += $i } END { print s + 0 }' /proc/softirqs; }
ksoftirqd() {
	local p t=0
	for p in $(pgrep -x 'ksoftirqd/[0-9]+'); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$t"
}
# busy and total jiffies of all CPUs
cpustat() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

setup() {
	case $1 in
	so_busy_poll) sysctl -qw net.core.busy_read=50 net.core.busy_poll=50 ;;
	hvx_busy) pb "$HVXCTL" poll attach "$B" cpu "$PCPU" mode busy $ATTACH_EXTRA ;;
	hvx_adaptive) pb "$HVXCTL" poll attach "$B" cpu "$PCPU" mode adaptive $ATTACH_EXTRA ;;
	esac
}
teardown() {
	case $1 in
	so_busy_poll) sysctl -qw net.core.busy_read=0 net.core.busy_poll=0 ;;
	hvx_*) pb "$HVXCTL" poll detach "$B" ;;
	esac
}

# While HVX_BENCH_PHASE names a file on a share, it says what runs, so that
# bench/poll/run can account QEMU's host threads per configuration.
phase() { [ -z "${HVX_BENCH_PHASE:-}" ] || echo "$*" >"$HVX_BENCH_PHASE"; }

RES=$(mktemp)
for ((r = 1; r <= ROUNDS; r++)); do
	for c in "${CONFIGS[@]}"; do
		setup "$c"
		sleep 0.2
		phase "$c" "$r"
		i0=$(irqs); p0=$(rxpk); b0=$(busyrx); read -r cb0 ct0 < <(cpustat)
		out=$(pingpong "$SECS" 2>&1)
		i1=$(irqs); p1=$(rxpk); b1=$(busyrx); read -r cb1 ct1 < <(cpustat)
		phase -
		teardown "$c"
		pct() { awk -v p="$1" '$0 ~ "percentile " p " =" { print $NF }' <<<"$out"; }
		printf '%s %s %s %s %s %s %s %s\n' "$c" "$r" "$(pct 50.000)" \
			"$(pct 99.000)" "$(pct 99.900)" \
			"$(awk -v b=$((cb1 - cb0)) -v t=$((ct1 - ct0)) -v n="$(nproc)" 'BEGIN { printf "%.1f", t ? 100 * n * b / t : 0 }')" \
			"$(awk -v i=$((i1 - i0)) -v p=$((p1 - p0)) 'BEGIN { printf "%.4f", p ? i / p : 0 }')" \
			"$(awk -v b=$((b1 - b0)) -v p=$((p1 - p0)) 'BEGIN { printf "%.1f", p ? 100 * b / p : 0 }')" >>"$RES"
	done
	echo "# round $r done" >&2
done

# Idle cost of adaptive mode: thread CPU over 3 s without traffic.
pb "$HVXCTL" poll attach "$B" cpu "$PCPU" mode adaptive
sleep 1
pid=$(pb "$HVXCTL" -j poll show "$B" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
sleep 3
t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
idle_pct=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * d / hz / 3 }')
pb "$HVXCTL" poll detach "$B"

echo
echo "sockperf ping-pong 64 B UDP, $ROUNDS alternating rounds x ${SECS} s, median [min-max];"
echo "polling thread on CPU $PCPU, client on CPU ${CCPU:-any}, server on CPU ${SCPU:-any}"
echo
echo "| configuration | p50 µs | p99 µs | p99.9 µs | CPU % of one core (all CPUs) | hard IRQs / packet | packets by busy poll % |"
echo "|---|---|---|---|---|---|---|"
awk -f bench/poll/median.awk -v cols="3 4 5 6 7 8" -v order="${CONFIGS[*]}" "$RES"
echo
echo "hvx_adaptive idle: thread uses ${idle_pct}% of a core"
rm -f "$RES"

# The receive-path delay of B's packets (netif_receive_skb to the socket
# read) by the BPF tool, in separate runs: its probes add their own cost.
# rxlat prints on SIGINT, so its window is exactly the traffic's.
RXLAT=${BUILD:-build}/rxlat
if [ -x "$RXLAT" ] && [ -z "${HVX_BENCH_NO_RXLAT:-}" ]; then
	for c in napi hvx_busy; do
		setup "$c"
		sleep 0.2
		# Not through pb: $! must be rxlat itself (ip netns exec execs it).
		ip netns exec hvxpb "$RXLAT" -i "$B" >"/tmp/rxlat.$c" 2>&1 &
		rx=$!
		while kill -0 "$rx" 2>/dev/null && ! grep -q '^Tracing' "/tmp/rxlat.$c"; do
			sleep 0.1
		done
		i0=$(irqs); p0=$(rxpk); s0=$(netrx); k0=$(ksoftirqd)
		pingpong "$SECS" >/dev/null 2>&1
		i1=$(irqs); p1=$(rxpk); s1=$(netrx); k1=$(ksoftirqd)
		kill -INT "$rx" 2>/dev/null
		wait "$rx" || true
		teardown "$c"
		echo
		echo "rxlat -i $B, $c: $((p1 - p0)) packets received on $B, $((i1 - i0)) hard IRQs on its input queue,"
		echo "$((s1 - s0)) NET_RX softirqs (both NICs), ksoftirqd ran $((k1 - k0)) ticks;" \
			"rxlat counted $(awk -F'|' '/->/ { split($1, a, ":"); s += a[2] } END { print s + 0 }' "/tmp/rxlat.$c") socket reads"
		cat "/tmp/rxlat.$c"
		rm -f "/tmp/rxlat.$c"
	done
fi
