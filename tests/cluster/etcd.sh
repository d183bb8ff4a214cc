#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Two managers sharing membership and tokens through etcd (a single-node
# etcd on the test bridge, in its own namespace): both admit hosts into
# one membership, a host survives the loss of the manager that admitted
# it, and each sees what the other did. Needs root and etcd; TAP output.
set -u

# shellcheck source=tests/cluster/lib.sh
. "$(dirname "$0")/lib.sh"

command -v etcd > /dev/null || skip_all "etcd not installed (Debian etcd-server)"
command -v curl > /dev/null || skip_all "curl not installed (its health probe)"

etcd_up() {
	ip netns exec "${P}n10" curl -sf -m 1 http://10.77.0.10:2379/health |
		grep -q '"health":"true"'
}

echo "TAP version 13"
echo "1..12"

for i in 1 2 3 4 5 6 10; do add_node $i; done
ip netns exec "${P}n10" etcd --name hvx-test --data-dir "$DIR/etcd" \
	--listen-client-urls http://10.77.0.10:2379 \
	--advertise-client-urls http://10.77.0.10:2379 \
	--listen-peer-urls http://127.0.0.1:2380 \
	--initial-advertise-peer-urls http://127.0.0.1:2380 \
	--initial-cluster hvx-test=http://127.0.0.1:2380 \
	> "$DIR/etcd.log" 2>&1 &
PIDS+=($!)
check "etcd is up" wait_for 15 etcd_up

ETCD="store=etcd etcd_endpoints=http://10.77.0.10:2379"
# shellcheck disable=SC2086
write_conf 1 manager $ETCD
# shellcheck disable=SC2086
write_conf 2 manager $ETCD
start 1
start 2
serving() { is_state "$1" serving; }
check "both managers serve" wait_for 10 sh -c \
	"$HVXCTL -S $DIR/n1/sock cluster status | grep -q 'role manager, serving' && \
	 $HVXCTL -S $DIR/n2/sock cluster status | grep -q 'role manager, serving'"
check "one cluster identity: same cluster id and key on both" \
	test "$(jf 1 cluster_id) $(jf 1 fingerprint)" = "$(jf 2 cluster_id) $(jf 2 fingerprint)"
FP=$(jf 1 fingerprint)

TOKEN=$(ctl 1 cluster token create ttl 1h description etcd)
token_on_2() { ctl 2 cluster token list | grep -q "^${TOKEN%%.*} "; }
check "a token created on manager 1 is listed by manager 2" wait_for 5 token_on_2

# Hosts 3, 4 only know manager 1; hosts 5, 6 only manager 2 (no broadcast).
for i in 3 4; do
	write_conf $i host token="$TOKEN" interfaces=none managers=10.77.0.1 ca_cert_hash="$FP"
done
for i in 5 6; do
	write_conf $i host token="$TOKEN" interfaces=none managers=10.77.0.2 ca_cert_hash="$FP"
done
for i in 3 4 5 6; do start $i; done
check "all 4 hosts joined, seen by manager 1" wait_for 10 has_up 1 4
check "and by manager 2: one membership" wait_for 5 has_up 2 4
check "both managers admitted hosts (2 joins each)" \
	test "$(counter 1 joins) $(counter 2 joins)" = "2 2"

# Lose manager 1: its hosts find manager 2 and rejoin there, no token.
for i in 3 4; do
	write_conf $i host interfaces=none managers="10.77.0.1 10.77.0.2"
	stop9 $i
	start $i
done
check "hosts 3, 4 back on manager 1 after their restart" wait_for 10 has_up 1 4
stop9 1
check "manager 1 killed: its hosts rejoin on manager 2" wait_for 10 \
	sh -c "[ \$($HVXCTL -S $DIR/n2/sock -j cluster status | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"counters\"][\"rejoins\"])') -ge 2 ]"
check "manager 2 still lists 4 members up" wait_for 5 has_up 2 4

# A host down on manager 2 is down for everyone; manager 1 restarts
# from etcd with the whole membership.
stop9 5
start 1
check "restarted manager 1 loads the shared membership (4 members)" \
	wait_for 10 sh -c "[ \$($HVXCTL -S $DIR/n1/sock -j cluster members | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))') = 4 ]"
host5_down_on_1() {
	ctl 1 -j cluster members | python3 -c 'import json,sys
m = [m for m in json.load(sys.stdin) if m["hostname"] == "node5"]
sys.exit(0 if m and m[0]["state"] == "down" else 1)'
}
check "host 5 killed: marked down, and manager 1 sees it" wait_for 10 host5_down_on_1
ctl 2 -j cluster members | python3 -c 'import json,sys
for m in json.load(sys.stdin): print("# %s %s %s via %s" % (m["hostname"], m["address"], m["state"], m["manager"]))'

echo "# $((n - failed)) passed, $failed failed"
[ $failed -eq 0 ]
