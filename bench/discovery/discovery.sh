#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Discovery + join benchmark: N hosts (one hvxd per network namespace, on
# one bridge) find the manager, verify its proof, join over TLS 1.3 and are
# recorded. Namespaces, addresses and the manager are set up before the
# clock starts (IPv6 DAD off); the clock runs from launching the N host
# daemons until the manager lists N members up. Needs root.
#
#   bench/discovery/discovery.sh [N...]      default: 1 8 32
set -u

BUILD=${BUILD:-build}
HVXD=$BUILD/hvxd
HVXCTL=$BUILD/hvxctl
P=hvxb$$
SW=${P}sw
DIR=
PIDS=()
NS=()

cleanup() {
	local p ns
	exec 2>/dev/null
	for p in "${PIDS[@]}"; do
		[ -n "$p" ] && kill -9 "$p"
	done
	wait
	for ns in "${NS[@]}"; do
		ip netns del "$ns"
	done
	[ -n "$DIR" ] && rm -rf "$DIR"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "discovery bench: needs root" >&2; exit 4; }
[ -x "$HVXD" ] && [ -x "$HVXCTL" ] || { echo "discovery bench: build hvxd and hvxctl first" >&2; exit 4; }
DIR=$(mktemp -d /tmp/hvx-bench-discovery.XXXXXX)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

ip netns add "$SW"
NS+=("$SW")
ip -n "$SW" link set lo up
ip -n "$SW" link add br0 type bridge mcast_snooping 0
ip -n "$SW" link set br0 up

add_node() {
	local i=$1 ns=${P}n$1
	ip netns add "$ns"
	NS+=("$ns")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.default.accept_dad=0 \
		net.ipv6.conf.all.accept_dad=0
	ip -n "$SW" link add "v$i" type veth peer name eth0 netns "$ns"
	ip -n "$SW" link set "v$i" master br0 up
	ip -n "$ns" link set lo up
	ip -n "$ns" addr add "10.78.$((i / 250)).$((i % 250 + 1))/16" dev eth0
	ip -n "$ns" link set eth0 up
}

# Defaults everywhere but paths: the numbers are what an operator gets.
write_conf() {
	local i=$1 role=$2 dir=$DIR/run$3/n$1
	mkdir -p "$dir"
	cat > "$dir/hvxd.conf" <<-CONF
	[daemon]
	socket = $dir/sock
	[cluster]
	role = $role
	name = node$i
	state_dir = $dir/state
	${4:-}
	CONF
}

[ $# -eq 0 ] && set -- 1 8 32
MAXN=0
for n in "$@"; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
for ((i = 0; i <= MAXN; i++)); do add_node $i; done

printf "%6s %10s %10s %12s %12s\n" hosts wall_ms joins/s "median_ms" "max_ms"
for N in "$@"; do
	run=$N
	write_conf 0 manager $run
	mdir=$DIR/run$run/n0
	ip netns exec "${P}n0" "$HVXD" -c "$mdir/hvxd.conf" > "$mdir/log" 2>&1 &
	PIDS+=($!)
	mpid=$!
	for _ in $(seq 100); do [ -S "$mdir/sock" ] && break; sleep 0.05; done
	tok=$("$HVXCTL" -S "$mdir/sock" cluster token create ttl 10m)
	for ((i = 1; i <= N; i++)); do write_conf $i host $run "token = $tok"; done

	hpids=()
	t0=$(now_ms)
	for ((i = 1; i <= N; i++)); do
		ip netns exec "${P}n$i" "$HVXD" -c "$DIR/run$run/n$i/hvxd.conf" \
			> "$DIR/run$run/n$i/log" 2>&1 &
		hpids+=($!)
		PIDS+=($!)
	done
	up=0
	while [ $(( $(now_ms) - t0 )) -lt 20000 ]; do
		# Text output and a bash match: polling must cost little.
		st=$("$HVXCTL" -S "$mdir/sock" cluster status 2>/dev/null)
		[[ $st =~ members\ [0-9]+\ \(([0-9]+)\ up\) ]] && up=${BASH_REMATCH[1]}
		[ "$up" -ge "$N" ] && break
		sleep 0.005
	done
	t1=$(now_ms)
	wall=$((t1 - t0))
	# Each host's own view: hvxd start to "joined", from its status.
	lat=$(for ((i = 1; i <= N; i++)); do
		"$HVXCTL" -S "$DIR/run$run/n$i/sock" -j cluster status |
			python3 -c 'import json,sys; print(json.load(sys.stdin).get("joined_ms", -1))'
	done | sort -n)
	med=$(echo "$lat" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
	max=$(echo "$lat" | tail -1)
	if [ "${up:-0}" -ge "$N" ]; then
		printf "%6d %10d %10s %12s %12s\n" "$N" "$wall" \
			"$(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.1f", n * 1000 / w }')" \
			"$med" "$max"
	else
		printf "%6d %10s (only %s of %d joined in 20 s)\n" "$N" timeout "${up:-0}" "$N"
	fi
	{
		for p in "${hpids[@]}" "$mpid"; do kill -9 "$p"; done
		wait
	} 2>/dev/null
done
