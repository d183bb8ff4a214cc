#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hvx_poll benchmark, run inside the VM with two hub-joined NICs:
#   scripts/vm --nics 2 -- bench/poll/poll.sh [ROUNDS [SECONDS]]
# sockperf ping-pong (64 B UDP) from namespace pb (the measured receiver)
# to a sockperf server in pa, alternating per round: default NAPI,
# SO_BUSY_POLL (net.core.busy_read/busy_poll = 50 us), hvx_poll busy and
# hvx_poll adaptive, both with the thread on CPU 1. Prints a Markdown table
# of medians over the rounds with [min-max] spread.
set -euo pipefail
cd "$(dirname "$0")/../.." || exit 1

ROUNDS=${1:-5}
SECS=${2:-4}
HVXCTL=${BUILD:-build}/hvxctl
CONFIGS=(napi so_busy_poll hvx_busy hvx_adaptive)
pa() { ip netns exec hvxpa "$@"; }
pb() { ip netns exec hvxpb "$@"; }

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
pa sockperf server -i 192.0.2.1 -p 11111 >/dev/null 2>&1 &
SRV=$!
sleep 1
pb sockperf ping-pong -i 192.0.2.1 -p 11111 -m 64 -t 1 >/dev/null 2>&1

irqs() { awk -v d="$VDEV-input" '$NF ~ "^" d { for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; else break } END { print s + 0 }' /proc/interrupts; }
rxpk() { pb cat "/sys/class/net/$B/statistics/rx_packets"; }
busyrx() { pb awk '/^TcpExt:/ && !h { for (i = 1; i <= NF; i++) if ($i == "BusyPollRxPackets") c = i; h = 1; next }
	/^TcpExt:/ && h { print $c }' /proc/net/netstat; }
# busy and total jiffies of all CPUs
cpustat() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $2 + $3 + $4 + $5 + $6 + $7 + $8 }' /proc/stat; }

setup() {
	case $1 in
	so_busy_poll) sysctl -qw net.core.busy_read=50 net.core.busy_poll=50 ;;
	hvx_busy) pb "$HVXCTL" poll attach "$B" cpu 1 mode busy ;;
	hvx_adaptive) pb "$HVXCTL" poll attach "$B" cpu 1 mode adaptive ;;
	esac
}
teardown() {
	case $1 in
	so_busy_poll) sysctl -qw net.core.busy_read=0 net.core.busy_poll=0 ;;
	hvx_*) pb "$HVXCTL" poll detach "$B" ;;
	esac
}

RES=$(mktemp)
for ((r = 1; r <= ROUNDS; r++)); do
	for c in "${CONFIGS[@]}"; do
		setup "$c"
		sleep 0.2
		i0=$(irqs); p0=$(rxpk); b0=$(busyrx); read -r cb0 ct0 < <(cpustat)
		out=$(pb sockperf ping-pong -i 192.0.2.1 -p 11111 -m 64 -t "$SECS" 2>&1)
		i1=$(irqs); p1=$(rxpk); b1=$(busyrx); read -r cb1 ct1 < <(cpustat)
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
pb "$HVXCTL" poll attach "$B" cpu 1 mode adaptive
sleep 1
pid=$(pb "$HVXCTL" -j poll show "$B" | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["pid"])')
t0=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
sleep 3
t1=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
idle_pct=$(awk -v d=$((t1 - t0)) -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", 100 * d / hz / 3 }')
pb "$HVXCTL" poll detach "$B"

echo
echo "sockperf ping-pong 64 B UDP, $ROUNDS alternating rounds x ${SECS} s, median [min-max]"
echo
echo "| configuration | p50 µs | p99 µs | p99.9 µs | CPU % of one core (all CPUs) | hard IRQs / packet | packets by busy poll % |"
echo "|---|---|---|---|---|---|---|"
for c in "${CONFIGS[@]}"; do
	printf '| %s |' "$c"
	for col in 3 4 5 6 7 8; do
		awk -v c="$c" -v k="$col" '$1 == c { print $k }' "$RES" | sort -g | awk '
			{ v[NR] = $1 } END {
				m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
				printf " %g [%g-%g] |", m, v[1], v[NR] }'
	done
	echo
done
echo
echo "hvx_adaptive idle: thread uses ${idle_pct}% of a core"
rm -f "$RES"
