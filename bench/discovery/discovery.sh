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
#   STORE=etcd bench/discovery/discovery.sh  manager on etcd (etcd-server)
set -u
STORE=${STORE:-embedded}

BUILD=${BUILD:-build}
HVXD=$BUILD/hvxd
HVXCTL=$BUILD/hvxctl
P=hvxb$$
SW=${P}sw
DIR=
PIDS=()
NS=()
status=0

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

# write_conf I ROLE RUN [KEY=VALUE...]: defaults everywhere but paths, so
# the numbers are what an operator gets. No leading blanks: inih reads an
# indented line as the continuation of the previous value.
write_conf() {
	local i=$1 role=$2 dir=$DIR/run$3/n$1 kv
	shift 3
	mkdir -p "$dir"
	{
		echo "[daemon]"
		echo "socket = $dir/sock"
		echo "[cluster]"
		echo "role = $role"
		echo "name = node$i"
		echo "state_dir = $dir/state"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
		done
	} > "$dir/hvxd.conf"
}

# all_sockets RUN N: every host daemon of the run has bound its control
# socket (a file test, no fork: polling must not slow what it measures).
all_sockets() {
	local i
	for ((i = 1; i <= $2; i++)); do
		[ -S "$DIR/run$1/n$i/sock" ] || return 1
	done
}

[ $# -eq 0 ] && set -- 1 8 32
MAXN=0
for n in "$@"; do [ "$n" -gt "$MAXN" ] && MAXN=$n; done
for ((i = 0; i <= MAXN; i++)); do add_node $i; done
ETCD_CONF=()
if [ "$STORE" = etcd ]; then
	command -v etcd > /dev/null && command -v curl > /dev/null ||
		{ echo "discovery bench: needs etcd and curl (Debian etcd-server, curl)" >&2; exit 4; }
	E=$((MAXN + 1))
	add_node $E
	EADDR=10.78.$((E / 250)).$((E % 250 + 1))
	ip netns exec "${P}n$E" etcd --name bench --data-dir "$DIR/etcd" \
		--listen-client-urls "http://$EADDR:2379" --advertise-client-urls "http://$EADDR:2379" \
		--listen-peer-urls http://127.0.0.1:2380 --initial-advertise-peer-urls http://127.0.0.1:2380 \
		--initial-cluster bench=http://127.0.0.1:2380 > "$DIR/etcd.log" 2>&1 &
	PIDS+=($!)
	ready=
	for _ in $(seq 100); do
		ip netns exec "${P}n$E" curl -sf -m 1 "http://$EADDR:2379/health" > /dev/null &&
			{ ready=1; break; }
		sleep 0.1
	done
	[ -n "$ready" ] || { echo "discovery bench: etcd did not start (see $DIR/etcd.log)" >&2; exit 1; }
	ETCD_CONF=(store=etcd etcd_endpoints="http://$EADDR:2379")
elif [ "$STORE" != embedded ]; then
	echo "discovery bench: STORE is embedded or etcd, not '$STORE'" >&2
	exit 2
fi
echo "# store: $STORE; $(nproc) CPUs; target: 32 hosts joined in < 2000 ms"
echo "# floor_ms: the same N hvxd started in the same namespaces with the"
echo "# cluster unit off (role none), until all N control sockets exist;"
echo "# x_floor = wall_ms / floor_ms: what discovery, proof, TLS and join add."

printf "%6s %9s %9s %8s %9s %10s %7s\n" hosts wall_ms joins/s med_ms max_ms floor_ms x_floor
for N in "$@"; do
	run=$N

	# Baseline first: bare daemon start-up in the N namespaces.
	for ((i = 1; i <= N; i++)); do write_conf $i none "b$run"; done
	bpids=()
	t0=$(now_ms)
	for ((i = 1; i <= N; i++)); do
		ip netns exec "${P}n$i" "$HVXD" -c "$DIR/runb$run/n$i/hvxd.conf" \
			> "$DIR/runb$run/n$i/log" 2>&1 &
		bpids+=($!)
		PIDS+=($!)
	done
	while ! all_sockets "b$run" "$N" && [ $(( $(now_ms) - t0 )) -lt 20000 ]; do
		sleep 0.005
	done
	floor=$(( $(now_ms) - t0 ))
	all_sockets "b$run" "$N" || floor=
	{
		for p in "${bpids[@]}"; do kill -9 "$p"; done
		wait "${bpids[@]}"
	} 2>/dev/null

	if [ "$STORE" = etcd ]; then
		write_conf 0 manager "$run" "${ETCD_CONF[@]}" etcd_prefix="/bench$run/"
	else
		write_conf 0 manager "$run"
	fi
	mdir=$DIR/run$run/n0
	ip netns exec "${P}n0" "$HVXD" -c "$mdir/hvxd.conf" > "$mdir/log" 2>&1 &
	PIDS+=($!)
	mpid=$!
	for _ in $(seq 100); do
		"$HVXCTL" -S "$mdir/sock" cluster status 2>/dev/null | grep -q serving && break
		sleep 0.05
	done
	tok=$("$HVXCTL" -S "$mdir/sock" cluster token create ttl 10m)
	for ((i = 1; i <= N; i++)); do write_conf $i host "$run" token="$tok"; done

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
	if [ "${up:-0}" -ge "$N" ] && [ -n "$floor" ]; then
		[ "$N" = 32 ] && wall32=$wall
		printf "%6d %9d %9s %8s %9s %10d %7s\n" "$N" "$wall" \
			"$(awk -v n="$N" -v w="$wall" 'BEGIN { printf "%.1f", n * 1000 / w }')" \
			"$med" "$max" "$floor" \
			"$(awk -v w="$wall" -v f="$floor" 'BEGIN { printf "%.2f", w / (f ? f : 1) }')"
	elif [ -z "$floor" ]; then
		printf "%6d %9s (baseline: not all %d daemons started in 20 s)\n" "$N" error "$N"
		status=1
	else
		printf "%6d %9s (only %s of %d joined in 20 s)\n" "$N" timeout "${up:-0}" "$N"
		status=1
	fi
	{
		for p in "${hpids[@]}" "$mpid"; do kill -9 "$p"; done
		wait "${hpids[@]}" "$mpid"
	} 2>/dev/null
done
if [ -n "${wall32:-}" ]; then
	[ "$wall32" -lt 2000 ] && verdict=met || { verdict=MISSED; status=1; }
	echo "target: 32 hosts joined with verified trust in < 2000 ms: $verdict ($wall32 ms)"
fi
exit $status
