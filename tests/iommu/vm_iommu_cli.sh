#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# hvxctl iommu over the hvx_iommu family: maps in text and JSON, stats,
# one-line errors with the kernel's extack message and the documented exit
# codes; then unloading hvx_iommu with VMs and maps alive (it goes, the
# maps with it), and while a VMM holds a ring with the worker busy (it
# refuses, and goes once the VMM is done).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/daemon/tap.sh

BENCH=${BUILD:-build}/bench/iommu/bench_iommu_ring
tmp=$(mktemp -d)
vms=()

cleanup() {
	local v

	[ -n "${bench_pid:-}" ] && kill "$bench_pid" 2>/dev/null && wait "$bench_pid"
	for v in "${vms[@]}"; do
		$HVXCTL vm del "$v" >/dev/null 2>&1
	done
	modprobe hvx_iommu 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# fails STATUS PATTERN DESC -- hvxctl args: exit STATUS, one stderr line
# matching PATTERN.
fails() {
	local want=$1 pat=$2 desc=$3 st lines
	shift 4
	$HVXCTL "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	lines=$(grep -vc "^Try " "$tmp/err")
	if [ "$st" -eq "$want" ] && grep -q -- "$pat" "$tmp/err" && [ "$lines" -eq 1 ]; then
		ok "$desc: exit $st, $(head -n 1 "$tmp/err")"
	else
		not_ok "$desc"
		diag "exit $st, stderr: $(cat "$tmp/err")"
	fi
}

# jis EXPR EXPECTED DESC -- hvxctl args: python EXPR over `hvxctl -j args`
# (as j) prints EXPECTED.
jis() {
	local expr=$1 want=$2 desc=$3 got
	shift 4
	$HVXCTL -j "$@" >"$tmp/jout" 2>"$tmp/jerr"
	got=$(python3 -c "import json,sys; j=json.load(sys.stdin); print($expr)" \
	      <"$tmp/jout" 2>&1)
	if [ "$got" = "$want" ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "got: $got"
		diag "$(cat "$tmp/jout" "$tmp/jerr")"
	fi
}

new_vm() {
	$HVXCTL -j vm add "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

if ! [ -e /dev/hvx_iommu ] || ! $HVXCTL iommu stats >/dev/null 2>&1; then
	skip_all "hvx_iommu is not loaded"
fi
tap_plan 25

a=$(new_vm cli-iommu-a) && b=$(new_vm cli-iommu-b)
vms+=("$a" "$b")
check "map add: domains and devices of VM $a" \
	sh -c "$HVXCTL iommu map add $a domain 5 0x1234 &&
	       $HVXCTL iommu map add $a domain 0x20 0x1235 &&
	       $HVXCTL iommu map add $a device 00:02.0 8a:00.3 &&
	       $HVXCTL iommu map add $a dev 0xa0 0x100"
check "map add: VM $b" $HVXCTL iommu map add "$b" domain 5 0x2000

$HVXCTL iommu map list "$a" >"$tmp/text"
if grep -q "^vm $a domain guest 0x5 *-> host 0x1234$" "$tmp/text" &&
   grep -q "^vm $a device guest 00:02.0 -> host 8a:00.3$" "$tmp/text" &&
   grep -q "^vm $a device guest 00:14.0 -> host 01:00.0$" "$tmp/text" &&
   [ "$(wc -l <"$tmp/text")" -eq 4 ]; then
	ok "map list $a: 4 lines, devices as BB:DD.F"
else
	not_ok "map list $a"
	diag "$(cat "$tmp/text")"
fi
jis "sorted((m['type'], m['guest_id'], m['host_id']) for m in j)" \
    "[('device', 16, 35331), ('device', 160, 256), ('domain', 5, 4660), ('domain', 32, 4661)]" \
    "map list -j $a: types and numeric IDs" -- iommu map list "$a"
jis "len([m for m in j if m['vm_id'] in ($a, $b)])" 5 \
    "map list -j of every VM holds both VMs' maps" -- iommu map list
jis "(j[0]['vm_id'], j[0]['domains'], j[0]['devices'], j[0]['rings'], j[0]['commands'])" \
    "($a, 2, 2, False, 0)" "stats -j $a: 2 domains, 2 devices, no rings" -- iommu stats "$a"
jis "sorted(s['vm_id'] for s in j if s['vm_id'] in ($a, $b))" "[$a, $b]" \
    "stats -j of every VM" -- iommu stats
if $HVXCTL iommu "$a" | grep -q "^vm $a: 2 domain maps, 2 device maps, rings closed$"; then
	ok "iommu VM (default verb stats): text"
else
	not_ok "iommu VM text"
fi
check "-p prints valid JSON" sh -c "$HVXCTL -p iommu map list $a | python3 -m json.tool"

fails 1 "Host domain ID is already mapped" "host domain of VM $a given to VM $b" \
	-- iommu map add "$b" domain 6 0x1234
fails 1 "Guest domain ID is already mapped" "duplicate guest domain" \
	-- iommu map add "$a" domain 5 0x3000
fails 1 "Host device ID is already mapped" "host device of VM $a given to VM $b" \
	-- iommu map add "$b" device 1 8a:00.3
fails 1 "Guest device ID is not mapped" "unmap of an unmapped device" \
	-- iommu map del "$a" device 00:03.0
fails 1 "No VM with this id" "map add for no VM" -- iommu map add 999999 domain 1 2
fails 2 "invalid host ID" "host ID beyond 16 bits" -- iommu map add "$a" domain 1 0x10000
fails 2 "invalid guest ID" "device 32 in a BDF" -- iommu map add "$a" device 00:20.0 1
fails 2 "invalid guest ID" "a sign in a BDF" -- iommu map add "$a" device -1:00.0 1
fails 2 "invalid map type" "unknown map type" -- iommu map add "$a" bus 1 2
fails 2 "unknown verb" "unknown map verb" -- iommu map frob
jis "sorted((m['type'], m['guest_id'], m['host_id']) for m in j)" \
    "[('device', 16, 35331), ('device', 160, 256), ('domain', 5, 4660), ('domain', 32, 4661)]" \
    "maps of $a unchanged by the refused requests" -- iommu map list "$a"
check "map del" $HVXCTL iommu map del "$a" domain 0x20
jis "len(j)" 3 "3 maps left" -- iommu map list "$a"

# Unload with VMs and maps alive: hvx_iommu lets go of every VM.
if rmmod hvx_iommu && modprobe hvx_iommu; then
	jis "len([m for m in j if m['vm_id'] in ($a, $b)])" 0 \
	    "rmmod with VMs and maps alive, modprobe: no map left" -- iommu map list
else
	not_ok "rmmod hvx_iommu with VMs and maps alive"
fi

# Unload while a VMM holds a ring and keeps the worker busy.
if [ -x "$BENCH" ]; then
	"$BENCH" 0.5 >"$tmp/bench" 2>&1 &
	bench_pid=$!
	wait_for 10 sh -c "$HVXCTL -j iommu stats | grep -q '\"rings\":true'"
	if ! rmmod hvx_iommu 2>"$tmp/rmmod" && grep -q "in use" "$tmp/rmmod"; then
		ok "rmmod while a ring is open and busy: refused ($(cat "$tmp/rmmod"))"
	else
		not_ok "rmmod while a ring is open and busy"
		modprobe hvx_iommu
	fi
	wait "$bench_pid"
	st=$?
	bench_pid=
	if [ "$st" -eq 0 ] && rmmod hvx_iommu && modprobe hvx_iommu; then
		ok "the VMM finished its run (exit $st), then rmmod succeeded"
	else
		not_ok "VMM run or rmmod after it (exit $st)"
		diag "$(cat "$tmp/bench")"
	fi
else
	skip "rmmod while busy" "$BENCH not built"
	skip "rmmod after the VMM" "$BENCH not built"
fi
tap_done
