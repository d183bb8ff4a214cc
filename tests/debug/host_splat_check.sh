#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host test of tests/debug/splat-check on made-up kernel logs: what must
# fail, what an allowlist may excuse, and what it never may.
set -u
cd "$(dirname "$0")/../.." || exit 1
check=tests/debug/splat-check
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
failed=0
# klog LINE... then expect NAME WANT_RC ALLOWLIST (not in a pipe: n counts)
klog() {
	printf "%s\n" "$@" >"$tmp/log"
}
expect() {
	n=$((n + 1))
	"$check" "$3" <"$tmp/log" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = "$2" ]; then
		echo "ok $n - $1"
	else
		echo "not ok $n - $1 (exit $rc, want $2)"
		sed 's/^/# /' "$tmp/out"
		failed=1
	fi
}

: >"$tmp/empty"
printf 'lockdep\tp9_client_rpc\t9p: base kernel, reviewed\n' >"$tmp/allow9p"
printf 'kasan\t.*\tanything\n' >"$tmp/allowall"
printf 'lockdep p9_client_rpc no tabs\n' >"$tmp/bad"
printf 'lockdep\tp9\t\n' >"$tmp/noreason"

echo "TAP version 13"
echo "1..15"

klog '[ 1.0] hvx_core: loaded' '[ 2.0] ok'
expect "clean log passes" 0 "$tmp/empty"

klog '[ 3.0] ==================' \
	'[ 3.0] BUG: KASAN: slab-use-after-free in netlink_unicast+0x1/0x2' \
	'[ 3.0] Read of size 8' '[ 3.0] =================='
expect "KASAN outside hvx fails" 1 "$tmp/empty"

klog '[ 3.0] BUG: KASAN: use-after-free in hvx_vm_put+0x1/0x2 [hvx_core]' \
	'[ 3.0] =================='
expect "KASAN in hvx fails even with a catch-all allowlist" 1 "$tmp/allowall"

klog '[ 4.0] WARNING: possible circular locking dependency detected' \
	'[ 4.0]  p9_client_rpc+0x1/0x2'
expect "lockdep splat fails" 1 "$tmp/empty"

klog '[ 4.0] WARNING: possible circular locking dependency detected' \
	'[ 4.0]  p9_client_rpc+0x1/0x2'
expect "allowlisted base-kernel lockdep splat passes" 0 "$tmp/allow9p"

klog '[ 4.0] WARNING: possible circular locking dependency detected' \
	'[ 4.0]  p9_client_rpc+0x1/0x2' '[ 4.0]  hvx_nl_vm_new+0x1/0x2 [hvx_core]'
expect "allowlist never excuses a splat naming hvx" 1 "$tmp/allow9p"

klog '[ 5.0] BUG: sleeping function called from invalid context at mm/slab.h:1'
expect "sleep in atomic fails" 1 "$tmp/empty"

klog '[ 6.0] rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
expect "RCU stall fails" 1 "$tmp/empty"

klog '[ 7.0] WARNING: CPU: 0 PID: 1 at net/core/dev.c:1 f+0x1/0x2' \
	'[ 7.0] Modules linked in: hvx_core' '[ 7.0] ---[ end trace 0 ]---'
expect "WARN outside hvx passes (Modules linked in does not count)" 0 "$tmp/empty"

klog '[ 7.0] WARNING: CPU: 0 PID: 1 at kmod/core/x.c:1 hvx_x+0x1/0x2 [hvx_core]' \
	'[ 7.0] ---[ end trace 0 ]---'
expect "WARN in hvx fails" 1 "$tmp/empty"

klog '[ 8.0] kmemleak: Kernel memory leak detector disabled'
expect "kmemleak turning itself off fails" 1 "$tmp/empty"

klog '[ 9.0] traps: hvxctl[1016] general protection fault ip:7fc39e5ad89b sp:7ffe6b964d48 error:0 in libc.so.6[7fc39e575000+156000]' \
	'[ 9.0] hvxctl[1017]: segfault at 0 ip 000055d0 sp 00007ffc error 4 in hvxctl[55d0+1000]'
expect "a user process's fault is not a kernel problem" 0 "$tmp/empty"

klog '[ 9.0] general protection fault, probably for non-canonical address 0xdead: 0000 [#1] PREEMPT SMP KASAN' \
	'[ 9.0] RIP: 0010:hvx_vm_put+0x1/0x2 [hvx_core]' '[ 9.0] ---[ end trace 0 ]---'
expect "a kernel general protection fault fails" 1 "$tmp/empty"

klog '[ 1.0] ok'
expect "allowlist entry without a reason is rejected" 2 "$tmp/noreason"

klog '[ 1.0] ok'
expect "allowlist entry that is not kind<TAB>regex<TAB>reason is rejected" 2 "$tmp/bad"

exit $failed
