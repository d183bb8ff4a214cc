#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hvx_poll in the VM: two virtio-net NICs on one QEMU hub (scripts/vm
# --nics 2), each moved into its own network namespace, pa (192.0.2.1) and
# pb (192.0.2.2). The polling thread serves pb's NIC; sockperf ping-pong
# from pb to pa makes traffic whose replies the thread must take.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1

HVXCTL=${BUILD:-build}/hvxctl
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $*"; fail=1; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else not_ok "$d"; fi; }
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
echo "TAP version 13"
if [ ${#nics[@]} -lt 2 ] || ! command -v sockperf >/dev/null; then
	echo "1..0 # SKIP needs two virtio-net NICs (scripts/vm --nics 2) and sockperf"
	exit 4
fi
if ! grep -q '^hvx_poll ' /proc/modules; then
	modprobe hvx_poll || { echo "1..0 # SKIP hvx_poll not loadable"; exit 4; }
fi
echo "1..25"

SP_PIDS=()
cleanup() {
	local p
	for p in "${SP_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del hvxpa 2>/dev/null
	ip netns del hvxpb 2>/dev/null
	true
}
trap cleanup EXIT

A=${nics[0]}
B=${nics[1]}
ip netns add hvxpa && ip netns add hvxpb
ip link set "$A" netns hvxpa && ip link set "$B" netns hvxpb
pa ip addr add 192.0.2.1/24 dev "$A" && pa ip link set "$A" up && pa ip link set lo up
pb ip addr add 192.0.2.2/24 dev "$B" && pb ip link set "$B" up && pb ip link set lo up
# Only what the kernel logs from here on; scripts/vm checks the rest.
dmesg_start=$(dmesg | wc -l)

pa sockperf server -i 192.0.2.1 -p 11111 >/dev/null 2>&1 &
SP_PIDS+=($!)
sleep 1

# expect_fail DESC EXIT REGEX CMD...: exit code, and a first line of
# stderr naming the object and matching REGEX (usage errors add a hint).
expect_fail() {
	local desc=$1 want=$2 re=$3 out rc
	shift 3
	out=$("$@" 2>&1 >/dev/null)
	rc=$?
	out=${out%%$'\n'*}
	if [ "$rc" = "$want" ] && [[ $out =~ ^hvxctl:\ poll ]] && [[ $out =~ $re ]]; then
		ok "$desc"
	else
		echo "# exit $rc, stderr: $out"
		not_ok "$desc"
	fi
}

show() { pb "$HVXCTL" -j poll show "$B"; }
field() { show | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['$1'])"; }
busy_rx() { pb awk '/^TcpExt:/ && !h { for (i = 1; i <= NF; i++) if ($i == "BusyPollRxPackets") c = i; h = 1; next }
	/^TcpExt:/ && h { print $c }' /proc/net/netstat; }
cputicks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
traffic() { pb sockperf ping-pong -i 192.0.2.1 -p 11111 -m 64 -t "$1" >/dev/null 2>&1; }

expect_fail "attach: unknown device" 1 "nosuchdev" pb "$HVXCTL" poll attach nosuchdev
expect_fail "attach: budget 0 refused by policy" 1 "budget|range|Numeric" pb "$HVXCTL" poll attach "$B" budget 0
expect_fail "attach: budget 65 refused by policy" 1 "budget|range|Numeric" pb "$HVXCTL" poll attach "$B" budget 65
expect_fail "attach: idle-us 0 refused" 1 "range|Numeric|idle" pb "$HVXCTL" poll attach "$B" idle-us 0
expect_fail "attach: offline CPU refused" 1 "CPU is not online" pb "$HVXCTL" poll attach "$B" cpu 4095
expect_fail "attach: unknown mode is a usage error" 2 "mode" pb "$HVXCTL" poll attach "$B" mode sometimes
expect_fail "attach: loopback has no NAPI" 1 "NAPI" pb "$HVXCTL" poll attach lo
expect_fail "set: device not attached" 1 "not attached" pb "$HVXCTL" poll set "$B" mode busy
check "no device attached after refusals" test "$(pb "$HVXCTL" -j poll show)" = "[]"

check "attach $B busy on CPU 1" pb "$HVXCTL" poll attach "$B" --cpu 1 --mode busy
expect_fail "attach twice refused" 1 "already attached" pb "$HVXCTL" poll attach "$B"
pid=$(field pid)
check "thread runs on CPU 1 only" sh -c "grep -q 'Cpus_allowed_list:[[:space:]]*1$' /proc/$pid/status"
check "not visible from another netns" test "$(pa "$HVXCTL" -j poll show)" = "[]"

rx0=$(busy_rx)
pk0=$(field packets)
traffic 3
rx1=$(busy_rx)
pk1=$(field packets)
echo "# busy: thread packets $pk0 -> $pk1, BusyPollRxPackets $rx0 -> $rx1"
check "busy: thread took packets" test "$pk1" -gt $((pk0 + 500))
check "busy: BusyPollRxPackets rose in the NIC's netns" test "$rx1" -gt $((rx0 + 500))

# A busy thread never sleeps, yet RCU Tasks grace periods must still end:
# attaching a BPF trampoline (rxlat's fentry probes) waits for one.
RXLAT=${BUILD:-build}/rxlat
if [ -x "$RXLAT" ]; then
	"$RXLAT" 1 1 >/dev/null 2>&1 &
	rx=$!
	for ((i = 0; i < 120; i++)); do
		kill -0 "$rx" 2>/dev/null || break
		sleep 0.5
	done
	if kill -0 "$rx" 2>/dev/null; then
		# The thread's sleep or detach below releases it.
		not_ok "busy: a BPF trampoline attaches while the thread polls (rxlat blocked 60 s)"
	else
		wait "$rx"
		check "busy: a BPF trampoline attaches while the thread polls" test $? = 0
	fi
else
	ok "# SKIP $RXLAT not built"
fi

check "set adaptive, idle 500 us" pb "$HVXCTL" poll set "$B" mode adaptive idle-us 500
sleep 1
t0=$(cputicks "$pid")
sleep 2
t1=$(cputicks "$pid")
st=$(field state)
echo "# adaptive idle: state $st, thread CPU ticks over 2 s: $((t1 - t0))"
check "adaptive: asleep when idle" test "$st" = idle
check "adaptive: idle thread uses < 5% of a core" test $((t1 - t0)) -le $((2 * $(getconf CLK_TCK) / 20))

w0=$(field wakeups)
pk0=$(field packets)
traffic 2
w1=$(field wakeups)
pk1=$(field packets)
echo "# adaptive traffic: wakeups $w0 -> $w1, packets $pk0 -> $pk1"
check "adaptive: traffic wakes the thread, which takes packets" \
	test "$w1" -gt "$w0" -a "$pk1" -gt $((pk0 + 100))

pb ip link set "$B" down
sleep 0.5
check "link down: thread parks" test "$(field state)" = down
pb ip link set "$B" up
sleep 1
pk0=$(field packets)
traffic 1
check "link up: thread polls again" test "$(field packets)" -gt "$pk0"

# Unload while the thread is polling and traffic flows.
pb "$HVXCTL" poll set "$B" mode busy
traffic 4 &
SP_PIDS+=($!)
sleep 2
check "rmmod hvx_poll under traffic" rmmod hvx_poll
wait "${SP_PIDS[-1]}" 2>/dev/null
modprobe hvx_poll

# Removal: deleting the netns unregisters the NIC there (it returns to
# init_net), which must detach it.
pb "$HVXCTL" poll attach "$B" mode busy
ip netns del hvxpb
sleep 1
check "device gone from its netns: detached" test "$("$HVXCTL" -j poll show)" = "[]"

splat=$(dmesg | tail -n +$((dmesg_start + 1)) | grep -E "rcu.*(stall|detected)|soft lockup|hard LOCKUP|BUG:|WARNING:|Call Trace" | head -5)
[ -n "$splat" ] && echo "$splat" | sed 's/^/# /'
check "no RCU stall, lockup or warning in dmesg" test -z "$splat"
exit $fail
