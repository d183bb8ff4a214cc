# SPDX-License-Identifier: GPL-2.0
#
# Shared by the cluster network tests: one namespace per node (${P}nI,
# eth0 = 10.77.0.I/24) on a bridge in a switch namespace, one hvxd per node
# with its own config, state directory and control socket, TAP helpers.
# Source it after setting nothing; it installs the EXIT trap.

BUILD=${BUILD:-build}
HVXD=$BUILD/hvxd
HVXCTL=$BUILD/hvxctl
DGRAM=tests/cluster/dgram.py
P=hvxc$$
SW=${P}sw
DIR=
PIDS=()
NS=()
n=0
failed=0

cleanup() {
	local p ns
	exec 2>/dev/null	# no "Killed" notices from the shell
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill -9 "$p" 2>/dev/null
	done
	wait 2>/dev/null
	for ns in "${NS[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	# KEEP=1 leaves the logs and state for a post-mortem.
	[ -n "$DIR" ] && [ -z "${KEEP:-}" ] && rm -rf "$DIR"
}
trap cleanup EXIT

skip_all() {
	echo "1..0 # SKIP $1"
	exit 4
}

[ "$(id -u)" = 0 ] || skip_all "needs root for network namespaces"
[ -x "$HVXD" ] && [ -x "$HVXCTL" ] || skip_all "build hvxd and hvxctl first"
ip netns add "$SW" 2>/dev/null || skip_all "ip netns unavailable"
NS+=("$SW")
DIR=$(mktemp -d /tmp/hvx-cluster-netns.XXXXXX)

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1))
	failed=$((failed + 1))
	echo "not ok $n - $1"
}

check() {
	local desc=$1
	shift
	if "$@"; then ok "$desc"; else not_ok "$desc"; fi
}

# wait_for TIMEOUT_S CMD...: poll CMD every 50 ms.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le "$end" ]; do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

ip -n "$SW" link set lo up
ip -n "$SW" link add br0 type bridge mcast_snooping 0
ip -n "$SW" link set br0 up

# node I: namespace ${P}nI, eth0 = 10.77.0.I/24, veth peer on the bridge.
add_node() {
	local i=$1 ns=${P}n$1
	ip netns add "$ns"
	NS+=("$ns")
	# No duplicate address detection: link-local is usable at once.
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0
	ip -n "$SW" link add "v$i" type veth peer name eth0 netns "$ns"
	ip -n "$SW" link set "v$i" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "10.77.0.$i/24" dev eth0
	ip -n "$ns" link set eth0 up
	mkdir -p "$DIR/n$i"
}

# write_conf I ROLE [KEY=VALUE...]: short test timings unless a KEY=VALUE
# overrides them (hvxd refuses a key set twice).
write_conf() {
	local i=$1 role=$2 kv k
	local -A conf=([heartbeat_interval]=200ms [down_after]=1s
		[remove_after]=60s [discover_min]=50ms [discover_max]=500ms
		[retry_interval]=1s)
	local keys=(heartbeat_interval down_after remove_after discover_min
		discover_max retry_interval)
	shift 2
	for kv in "$@"; do
		k=${kv%%=*}
		[ -n "${conf[$k]+set}" ] || keys+=("$k")
		conf[$k]=${kv#*=}
	done
	{
		echo "[daemon]"
		echo "socket = $DIR/n$i/sock"
		echo "[cluster]"
		echo "role = $role"
		echo "name = node$i"
		echo "state_dir = $DIR/n$i/state"
		for k in "${keys[@]}"; do
			echo "$k = ${conf[$k]}"
		done
	} > "$DIR/n$i/hvxd.conf"
}

start() {
	local i=$1
	ip netns exec "${P}n$i" "$HVXD" -c "$DIR/n$i/hvxd.conf" \
		>> "$DIR/n$i/log" 2>&1 &
	PIDS[$i]=$!
	wait_for 5 test -S "$DIR/n$i/sock"
}

stop9() {
	kill -9 "${PIDS[$1]}" 2>/dev/null
	wait "${PIDS[$1]}" 2>/dev/null
	PIDS[$1]=
	rm -f "$DIR/n$1/sock"
}

ctl() {
	local i=$1
	shift
	"$HVXCTL" -S "$DIR/n$i/sock" "$@"
}

# jf I FIELD [ARGS]: one field of "cluster status -j" of node I.
jf() {
	ctl "$1" -j cluster status | python3 -c \
		'import json,sys; print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2"
}

counter() {
	ctl "$1" -j cluster status | python3 -c \
		'import json,sys; print(json.load(sys.stdin)["counters"][sys.argv[1]])' "$2"
}

members_up() {
	ctl "$1" -j cluster members | python3 -c \
		'import json,sys; print(sum(m["state"] == "up" for m in json.load(sys.stdin)))'
}

n_members() {
	ctl "$1" -j cluster members | python3 -c \
		'import json,sys; print(len(json.load(sys.stdin)))'
}

is_state() { [ "$(jf "$1" state)" = "$2" ]; }
has_up() { [ "$(members_up "$1")" = "$2" ]; }
error_has() { jf "$1" last_error | grep -q -- "$2"; }

