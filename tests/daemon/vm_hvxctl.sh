#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# hvxctl against a live hvx_core: VM add/list/show/set/del, JSON output,
# errors carrying the kernel's extack message with their exit codes, and
# monitor receiving events.
. "$(dirname "$0")/tap.sh"

[ -x "$HVXCTL" ] || skip_all "$HVXCTL not built"
$HVXCTL vm list >/dev/null 2>&1 || modprobe hvx_core 2>/dev/null ||
	insmod kmod/core/hvx_core.ko 2>/dev/null
$HVXCTL vm list >/dev/null 2>&1 || skip_all "hvx_core not loaded"

T=$(mktemp -d)
P=hvxctl-t$$
cleanup() {
	[ -n "$MON" ] && kill "$MON" 2>/dev/null
	for n in "$P-a" "$P-m" "$P-1"; do $HVXCTL vm del name "$n" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap cleanup EXIT

# run CMD...: sets rc, out, err
run() {
	"$@" >"$T/out" 2>"$T/err"
	rc=$?
	out=$(cat "$T/out")
	err=$(cat "$T/err")
}
# expect_fail DESC RC TEXT... CMD is in $@ after --: exit RC, one stderr
# line starting "hvxctl: " and containing every TEXT.
expect_fail() {
	local desc=$1 want=$2 good=1 t
	shift 2
	local texts=()
	while [ "$1" != -- ]; do texts+=("$1"); shift; done
	shift
	run "$@"
	[ "$rc" -eq "$want" ] || good=0
	if [ "$want" -eq 1 ]; then
		[ "$(wc -l <"$T/err")" -eq 1 ] || good=0
	fi
	case $err in hvxctl:*) ;; *) good=0 ;; esac
	for t in "${texts[@]}"; do
		case $err in *"$t"*) ;; *) good=0 ;; esac
	done
	if [ $good = 1 ]; then
		ok "$desc"
	else
		not_ok "$desc"
		diag "exit $rc (want $want), stderr: $err"
	fi
}

tap_plan 23

run $HVXCTL -j vm add "$P-a"
if [ $rc -eq 0 ] && echo "$out" | json_expr "j['name'] == '$P-a' and j['state'] == 'created' and j['id'] > 0"; then
	ok "vm add prints the new VM as JSON"
else
	not_ok "vm add prints the new VM as JSON"; diag "$rc $out $err"
fi
ID=$(echo "$out" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])' 2>/dev/null)

run $HVXCTL -j vm list
check "vm list -j is valid JSON" json_ok <<<"$out"
if echo "$out" | json_expr "any(v['name'] == '$P-a' and v['id'] == $ID for v in j)"; then
	ok "vm list -j contains the new VM"
else
	not_ok "vm list -j contains the new VM"; diag "$out"
fi

run $HVXCTL -p vm list
if [ $rc -eq 0 ] && [ "$(echo "$out" | wc -l)" -gt 1 ] && echo "$out" | json_ok; then
	ok "vm list -p is indented JSON"
else
	not_ok "vm list -p is indented JSON"
fi

run $HVXCTL vm list
case $out in *"$ID: $P-a state created"*) ok "vm list text shows the VM" ;;
	*) not_ok "vm list text shows the VM"; diag "$out" ;; esac

run $HVXCTL -j vm show "$P-a"
if [ $rc -eq 0 ] && echo "$out" | json_expr "j['id'] == $ID and j['owner_uid'] == 0"; then
	ok "vm show by name"
else
	not_ok "vm show by name"; diag "$out $err"
fi
run $HVXCTL -j vm show "$ID"
if [ $rc -eq 0 ] && echo "$out" | json_expr "j['name'] == '$P-a'"; then
	ok "vm show by id"
else
	not_ok "vm show by id"; diag "$out $err"
fi

run $HVXCTL vm set "$P-a" state running
run2=$($HVXCTL -j vm show id "$ID")
if [ $rc -eq 0 ] && echo "$run2" | json_expr "j['state'] == 'running'"; then
	ok "vm set state running"
else
	not_ok "vm set state running"; diag "$rc $err $run2"
fi

# A name that is all digits needs the "name" keyword.
run $HVXCTL vm add 12345
if [ $rc -eq 0 ]; then
	run $HVXCTL -j vm show name 12345
	if [ $rc -eq 0 ] && echo "$out" | json_expr "j['name'] == '12345'"; then
		ok "all-digit name via the name keyword"
	else
		not_ok "all-digit name via the name keyword"; diag "$out $err"
	fi
	$HVXCTL vm del name 12345
else
	not_ok "all-digit name via the name keyword"; diag "$err"
fi

expect_fail "duplicate name: extack and EEXIST" 1 \
	"vm add $P-a" "VM name is already in use" "File exists" -- $HVXCTL vm add "$P-a"
LONG=$(printf 'x%.0s' $(seq 64))
expect_fail "oversized name: rejected by the kernel's policy" 1 \
	"vm add $LONG" "Attribute failed policy validation" "Invalid argument" \
	-- $HVXCTL vm add "$LONG"
expect_fail "bad characters in name" 1 "may hold only letters" "Invalid argument" \
	-- $HVXCTL vm add "a b"
expect_fail "unknown VM name" 1 "vm show $P-nope" "No VM with this name" \
	"No such file or directory" -- $HVXCTL vm show "$P-nope"
expect_fail "unknown VM id" 1 "vm del 4000000000" "No such file or directory" \
	-- $HVXCTL vm del 4000000000
if command -v setpriv >/dev/null; then
	expect_fail "non-admin caller gets EPERM" 1 "vm add" "Operation not permitted" \
		-- setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		$HVXCTL vm add "$P-1"
else
	skip "non-admin caller gets EPERM" "no setpriv"
fi
expect_fail "usage: missing NAME exits 2" 2 "missing NAME" -- $HVXCTL vm add
expect_fail "usage: unknown verb exits 2" 2 "unknown verb" -- $HVXCTL vm frob
expect_fail "usage: unknown state exits 2" 2 "unknown state" -- $HVXCTL vm set "$P-a" state bogus
expect_fail "usage: unknown object exits 2" 2 "unknown object" -- $HVXCTL frob

run $HVXCTL vm --help
case $out in *"hvxctl vm add NAME"*) [ $rc -eq 0 ] && ok "vm --help" || not_ok "vm --help" ;;
	*) not_ok "vm --help" ;; esac

# monitor: three events for one VM's life, as NDJSON.
$HVXCTL -j monitor count 3 >"$T/mon" 2>"$T/mon.err" &
MON=$!
sleep 1	# subscribed well before the first change
$HVXCTL vm add "$P-m" >/dev/null
$HVXCTL vm set "$P-m" state paused
$HVXCTL vm del "$P-m"
if wait_for 10 sh -c "! kill -0 $MON"; then
	wait $MON
	mrc=$?
	MON=
	if [ $mrc -eq 0 ] && python3 - "$T/mon" "$P-m" <<-'PY'
	import json, sys
	lines = open(sys.argv[1]).read().splitlines()
	ev = [json.loads(l) for l in lines]
	assert [e["event"] for e in ev] == ["vm-new", "vm-set", "vm-del"], ev
	assert all(e["family"] == "hvx" and e["vm"]["name"] == sys.argv[2] for e in ev)
	assert ev[1]["vm"]["state"] == "paused"
	PY
	then
		ok "monitor -j: vm-new, vm-set, vm-del in order"
	else
		not_ok "monitor -j: vm-new, vm-set, vm-del in order"; diag "$(cat "$T/mon" "$T/mon.err")"
	fi
else
	not_ok "monitor -j: vm-new, vm-set, vm-del in order"; diag "monitor did not finish: $(cat "$T/mon")"
fi

# Text monitor, stopped by SIGINT with status 0.
$HVXCTL monitor >"$T/mon2" 2>&1 &
MON=$!
sleep 1
$HVXCTL vm add "$P-m" >/dev/null
wait_for 5 grep -q "vm-new" "$T/mon2"
kill -INT $MON
wait $MON
mrc=$?
MON=
if [ $mrc -eq 0 ] && grep -q "^hvx vm-new .*name $P-m" "$T/mon2"; then
	ok "monitor text output; SIGINT exits 0"
else
	not_ok "monitor text output; SIGINT exits 0"; diag "rc $mrc: $(cat "$T/mon2")"
fi
$HVXCTL vm del "$P-m"

run $HVXCTL vm del "$P-a"
run2=$($HVXCTL -j vm list)
if [ $rc -eq 0 ] && echo "$run2" | json_expr "not any(v['name'] == '$P-a' for v in j)"; then
	ok "vm del removes the VM"
else
	not_ok "vm del removes the VM"; diag "$err"
fi

tap_done
