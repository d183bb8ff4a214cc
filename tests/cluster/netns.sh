#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cluster discovery, trust and join across network namespaces: one
# namespace per node, each with its own hvxd (own config, state directory
# and control socket), all on one bridge in a "switch" namespace. Nothing
# touches the machine's own network. Needs root; TAP output.
set -u

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
	[ -n "$DIR" ] && rm -rf "$DIR"
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

# write_conf I ROLE [KEY=VALUE...]
write_conf() {
	local i=$1 role=$2 kv
	shift 2
	{
		echo "[daemon]"
		echo "socket = $DIR/n$i/sock"
		echo "[cluster]"
		echo "role = $role"
		echo "name = node$i"
		echo "state_dir = $DIR/n$i/state"
		echo "heartbeat_interval = 200ms"
		echo "down_after = 1s"
		echo "remove_after = 60s"
		echo "discover_min = 50ms"
		echo "discover_max = 500ms"
		echo "retry_interval = 1s"
		for kv in "$@"; do
			echo "${kv%%=*} = ${kv#*=}"
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

echo "TAP version 13"
echo "1..18"

HOSTS=4
for i in 1 2 3 4 5 6 7 8 9; do add_node $i; done

# node 1: the manager; policy wants zone=a.
write_conf 1 manager policy_labels=zone=a
check "manager starts" start 1
FP=$(jf 1 fingerprint)
CID=$(jf 1 cluster_id)

# A TLS client nobody here wrote completes the handshake and sees our key.
sc_fp() {
	echo | ip netns exec "${P}n2" timeout 5 openssl s_client -connect 10.77.0.1:7471 \
		-tls1_3 2>/dev/null | openssl x509 -pubkey -noout |
		openssl pkey -pubin -outform der | sha256sum | cut -d' ' -f1
}
check "openssl s_client: TLS 1.3 handshake, manager key is the pinned $FP" \
	test "sha256:$(sc_fp)" = "$FP"

TOKEN=$(ctl 1 cluster token create ttl 1h description netns)
check "token create prints [a-z0-9]{6}.[a-z0-9]{16}" \
	grep -Eqx '[a-z0-9]{6}\.[a-z0-9]{16}' <<< "$TOKEN"

# Hosts that start before the manager hear only a spoofing manager on
# node 9: it has no token and answers every discover with ADMIT.
stop_graceful() {
	kill "${PIDS[$1]}" && wait "${PIDS[$1]}" 2>/dev/null
	PIDS[$1]=
}
stop_graceful 1
ip netns exec "${P}n9" python3 "$DGRAM" spoof 7470 3 > "$DIR/spoof.out" 2>&1 &
SPOOF=$!
PIDS+=("$SPOOF")
sleep 0.2

# nodes 2..5: hosts with the token, node 2 also pins the key by hash.
write_conf 2 host token="$TOKEN" labels=zone=a ca_cert_hash="$FP"
for i in 3 4 5; do write_conf $i host token="$TOKEN" labels="zone=a rack=r$i"; done
for i in 2 3 4 5; do start $i; done
sleep 1
spoof_ignored() {
	local i total=0
	for i in 2 3 4 5; do
		is_state $i discovering || return 1
		total=$((total + $(counter $i unverified)))
	done
	echo "# spoofed answers the hosts refused as unverified: $total"
	[ "$total" -gt 4 ]
}
check "spoofing manager (no token) is ignored: hosts keep discovering" spoof_ignored
wait $SPOOF 2>/dev/null
sed 's/^/# /' "$DIR/spoof.out"
check "manager starts after the hosts" start 1
check "all $HOSTS hosts join" wait_for 10 has_up 1 $HOSTS
joined_cluster() {
	local i
	for i in 2 3 4 5; do
		[ "$(jf $i cluster_id)" = "$CID" ] &&
			[ "$(jf $i manager_fingerprint)" = "$FP" ] || return 1
	done
}
check "every host pinned the manager key and cluster id" joined_cluster

# node 6: an expired token.
EXPIRED=$(ctl 1 cluster token create ttl 1s)
sleep 2.1
write_conf 6 host token="$EXPIRED" labels=zone=a
start 6
check "expired token fails clearly: token ${EXPIRED%%.*} expired" \
	wait_for 5 error_has 6 "refused this host: token ${EXPIRED%%.*} expired [0-9]*s ago"
check "manager logs the expired token too" \
	grep -q "refused: token ${EXPIRED%%.*} expired" "$DIR/n1/log"
stop9 6

# node 7: policy mismatch.
write_conf 7 host token="$TOKEN" labels=zone=b
start 7
check "policy mismatch names the rule (labels)" \
	wait_for 5 error_has 7 "rule labels: host label zone=b does not match a"
stop9 7

# node 8: revoked token.
REVOKED=$(ctl 1 cluster token create ttl 1h)
ctl 1 cluster token revoke "${REVOKED%%.*}" > /dev/null
write_conf 8 host token="$REVOKED" labels=zone=a
start 8
check "revoked token fails clearly" \
	wait_for 5 error_has 8 "token ${REVOKED%%.*} revoked"
stop9 8

# Hostile datagrams: dropped, counted, daemon unharmed.
g0=$(( $(counter 1 garbage) + $(counter 1 oversized) + $(counter 1 bad_version) ))
check "garbage datagrams get no answer" \
	ip netns exec "${P}n9" python3 "$DGRAM" garbage 10.77.0.1 7470
g1=$(( $(counter 1 garbage) + $(counter 1 oversized) + $(counter 1 bad_version) ))
echo "# manager drop counters: $g0 -> $g1 (garbage+oversized+bad_version)"
check "garbage datagrams counted (7 sent)" test $((g1 - g0)) -ge 6
check "replayed discover answered once, replay counted" \
	sh -c "ip netns exec ${P}n9 python3 $DGRAM replay 10.77.0.1 7470 && \
	       [ \$($HVXCTL -S $DIR/n1/sock -j cluster status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"replayed\"])') -ge 1 ]"

# kill -9 a host: down, then back without a token.
before=$(ctl 1 -j cluster members | python3 -c 'import json,sys; print(sorted(m["host_id"] for m in json.load(sys.stdin)))')
stop9 3
check "killed host is marked down" wait_for 5 has_up 1 $((HOSTS - 1))
write_conf 3 host labels="zone=a rack=r3"
start 3
check "restarted host rejoins without a token" wait_for 10 has_up 1 $HOSTS

# kill -9 the manager: membership survives, hosts come back.
stop9 1
start 1
after=$(ctl 1 -j cluster members | python3 -c 'import json,sys; print(sorted(m["host_id"] for m in json.load(sys.stdin)))')
check "manager restart keeps all $HOSTS members" test "$before" = "$after"
check "hosts reconnect to the restarted manager" wait_for 10 has_up 1 $HOSTS
ctl 1 -j cluster members | python3 -c 'import json,sys
for m in json.load(sys.stdin): print("# %s %s %s %s" % (m["hostname"], m["address"], m["state"], m["host_id"]))'

echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
