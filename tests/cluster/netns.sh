#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Cluster discovery, trust and join across network namespaces: one
# namespace per node, each with its own hvxd (own config, state directory
# and control socket), all on one bridge in a "switch" namespace. Nothing
# touches the machine's own network. Needs root; TAP output.
set -u

# shellcheck source=tests/cluster/lib.sh
. "$(dirname "$0")/lib.sh"

echo "TAP version 13"
echo "1..23"

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

# kill -9 the manager: membership survives, hosts come back. It restarts
# with remove_after 3s for the removal test below.
stop9 1
write_conf 1 manager policy_labels=zone=a remove_after=3s
start 1
after=$(ctl 1 -j cluster members | python3 -c 'import json,sys; print(sorted(m["host_id"] for m in json.load(sys.stdin)))')
check "manager restart keeps all $HOSTS members" test "$before" = "$after"
check "hosts reconnect to the restarted manager" wait_for 10 has_up 1 $HOSTS

# A host away longer than remove_after is dropped; it needs a token again.
stop9 5
has_members() { [ "$(n_members "$1")" = "$2" ]; }
check "host away past remove_after is removed from the membership" \
	wait_for 10 has_members 1 $((HOSTS - 1))
write_conf 5 host labels="zone=a rack=r5"
start 5
check "removed host restarted without a token is refused: not a member" \
	wait_for 5 error_has 5 "is not a member of cluster $CID"
stop9 5
write_conf 5 host token="$TOKEN" labels="zone=a rack=r5"
start 5
check "with a token it joins again" wait_for 10 has_up 1 $HOSTS

# An IPv6-only host: link-local multicast discovery, TLS over fe80::.
write_conf 8 host token="$TOKEN" labels=zone=a ipv4=no
start 8
check "IPv6-only host joins through link-local multicast" wait_for 10 has_up 1 $((HOSTS + 1))
v6_member() {
	ctl 1 -j cluster members | python3 -c 'import json,sys
m = [m for m in json.load(sys.stdin) if m["hostname"] == "node8"]
sys.exit(0 if m and m[0]["address"].startswith("fe80::") else 1)'
}
check "and the manager records its link-local address" v6_member
echo "# hvxctl cluster members -j:"
ctl 1 cluster members -j | sed 's/^/# /'
echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
