#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# rxlat in the VM (scripts/vm -- tests/run-vm tests/bpf/vm_rxlat.sh): UDP
# over a veth pair between two network namespaces, rxlat attached in the
# receiver's namespace with -i; the histogram must count the datagrams the
# receiver read (no more, at most a few fewer), -j must be valid JSON with
# the same total, -i on another device must count none, and bad options
# must exit non-zero with one line on stderr.  Skips without kernel BTF.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
RXLAT=$(realpath "$B/rxlat")
NPKT=300

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

echo "TAP version 13"
if [ ! -r /sys/kernel/btf/vmlinux ]; then
	echo "1..0 # SKIP the kernel has no BTF (/sys/kernel/btf/vmlinux)"
	exit 4
fi
echo "1..12"

T=$(mktemp -d)
ns0=rxlat0-$$ ns1=rxlat1-$$
rxlat_pid=""
cleanup() {
	[ -n "$rxlat_pid" ] && kill "$rxlat_pid" 2>/dev/null
	wait 2>/dev/null
	ip netns del "$ns0" 2>/dev/null
	ip netns del "$ns1" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
n0() { ip netns exec "$ns0" "$@"; }
n1() { ip netns exec "$ns1" "$@"; }

# One line on stderr, nothing on stdout, exit status $1.
fails_one_line() {
	local want=$1; shift
	"$RXLAT" "$@" >"$T/out" 2>"$T/err"
	local rc=$?
	[ "$rc" = "$want" ] && [ ! -s "$T/out" ] &&
		[ "$(wc -l <"$T/err")" = 1 ] && grep -q '^rxlat: ' "$T/err"
}

check "--help prints the usage and exits 0" \
	sh -c "'$RXLAT' --help | grep -q '^usage: rxlat'"
check "unknown option: exit 2, one line" fails_one_line 2 --bogus
check "INTERVAL 0: exit 2, one line" fails_one_line 2 0
check "-i without a name: exit 2, one line" fails_one_line 2 -i
check "unknown interface: exit 1, one line" fails_one_line 1 -i rxlat-none0

ip netns add "$ns0" && ip netns add "$ns1" &&
	ip link add v0 netns "$ns0" type veth peer name v1 netns "$ns1" &&
	n0 ip addr add 10.199.0.1/24 dev v0 && n0 ip link set v0 up &&
	n1 ip addr add 10.199.0.2/24 dev v1 && n1 ip link set v1 up &&
	n0 ip link set lo up && n1 ip link set lo up || {
	echo "Bail out! cannot set up the namespaces"
	exit 1
}

# Start rxlat in ns1 and wait until its programs are attached (the banner
# on stderr); loading is slow under software emulation.
start_rxlat() {
	local i
	# Not through n1: $! must be rxlat itself (ip netns exec execs it).
	ip netns exec "$ns1" "$RXLAT" "$@" >"$T/hist" 2>"$T/rxlat.err" &
	rxlat_pid=$!
	for ((i = 0; i < 600; i++)); do
		grep -q '^Tracing' "$T/rxlat.err" && return 0
		kill -0 "$rxlat_pid" 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/# /' "$T/rxlat.err"
	return 1
}

stop_rxlat() {
	kill -INT "$rxlat_pid" && wait "$rxlat_pid"
	local rc=$?
	rxlat_pid=""
	return $rc
}

# $NPKT datagrams v0 -> v1, read one by one; prints how many were read.
traffic() {
	n1 python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("10.199.0.2", 9000))
s.settimeout(3)
print("ready", flush=True)
got = 0
try:
    while got < int(sys.argv[1]):
        s.recv(2048)
        got += 1
except socket.timeout:
    pass
print(got)' "$NPKT" >"$T/recv" &
	local rpid=$! i
	for ((i = 0; i < 400; i++)); do
		grep -q ready "$T/recv" && break
		sleep 0.05
	done
	n0 python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(int(sys.argv[1])):
    s.sendto(b"x" * 64, ("10.199.0.2", 9000))
    time.sleep(0.001)' "$NPKT"
	wait "$rpid"
	tail -n 1 "$T/recv"
}

# Sum of the count column of a text histogram.
text_total() {
	awk -F'|' '/->/ { split($1, a, ":"); s += a[2] } END { print s + 0 }' "$1"
}

# The count must match what the receiver read: a datagram read is counted
# once; a few may be missed when the skb address was reused (LRU eviction).
close_to() {
	local got=$1 want=$2
	[ "$want" -gt 0 ] && [ "$got" -le "$want" ] && [ $((got * 100)) -ge $((want * 95)) ]
}

if start_rxlat -i v1; then
	recv=$(traffic)
	stop_rxlat
	rc=$?
	sed 's/^/# /' "$T/hist"
	total=$(text_total "$T/hist")
	check "text: exits 0 on SIGINT" test "$rc" = 0
	check "text: 'usecs : count distribution' header" \
		grep -Eq '^ +usecs +: count +distribution$' "$T/hist"
	check "text: counts $total of the $recv datagrams read (sent $NPKT)" \
		close_to "$total" "$recv"
else
	for d in "text: exits 0" "text: header" "text: counts"; do nok "$d (rxlat did not start)"; done
fi

if start_rxlat -j -i v1; then
	recv=$(traffic)
	stop_rxlat
	sed 's/^/# /' "$T/hist"
	jtotal=$(python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["unit"] == "usecs" and o["interface"] == "v1"
s = sum(b["count"] for b in o["buckets"])
assert s == o["total"] and all(b["low"] <= b["high"] for b in o["buckets"])
print(s)' "$T/hist")
	check "-j: one valid JSON object, buckets add up to total" test -n "$jtotal"
	check "-j: total ${jtotal:-none} of the $recv datagrams read" \
		close_to "${jtotal:-0}" "$recv"
else
	nok "-j: valid JSON (rxlat did not start)"
	nok "-j: total (rxlat did not start)"
fi

# Filter: watching another device of ns1 (its lo) counts none of it.
if start_rxlat -j -i lo; then
	recv=$(traffic)
	stop_rxlat
	ftotal=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$T/hist")
	check "-i lo: none of the $recv datagrams on v1 counted" \
		test "${ftotal:-x}" = 0 -a "$recv" -gt 0
else
	nok "-i lo: rxlat did not start"
fi

# Received skbs the stack consumes without a socket read (ICMP echo) must
# not leave stamps that a local datagram reusing the address would pick up.
if start_rxlat -j -i v1; then
	n1 python3 -c '
import socket, time
a, b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
end = time.monotonic() + 3
while time.monotonic() < end:
    a.send(b"x" * 64)
    b.recv(64)' &
	upid=$!
	# Echo requests by hand: the VM has no ping.
	n0 python3 -c '
import socket, struct, time
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(1)
got = 0
for seq in range(300):
    h = struct.pack("!BBHHH", 8, 0, 0, 0x4858, seq) + b"x" * 56
    s.sendto(h[:2] + struct.pack("!H", csum(h)) + h[4:], ("10.199.0.2", 0))
    try:
        got += s.recv(2048)[20] == 0
    except socket.timeout:
        pass
    time.sleep(0.005)
exit(got < 290)'
	pinged=$?
	wait "$upid"
	stop_rxlat
	ctotal=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["total"])' "$T/hist")
	check "echo requests (replied: $([ "$pinged" = 0 ] && echo yes || echo no)) and local datagrams only: ${ctotal:-none} counted" \
		test "${ctotal:-x}" = 0 -a "$pinged" = 0
else
	nok "consumed skbs: rxlat did not start"
fi

[ "$failed" -eq 0 ]
