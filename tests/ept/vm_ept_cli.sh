#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# hvxctl ept: the CLI over the hvx_ept family, in text and JSON: views,
# ranges, switch, the EPT dump in SDM terms, and one-line errors carrying
# the kernel's extack message with the documented exit codes.
set -u

HVXCTL=${HVXCTL:-build/hvxctl}
n=0
failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() {
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

# run EXPECTED_STATUS STDERR_PATTERN DESC -- hvxctl args
fails() {
	want=$1 pat=$2 desc=$3
	shift 4
	$HVXCTL "$@" >"$tmp/out" 2>"$tmp/err"
	st=$?
	lines=$(wc -l <"$tmp/err")
	if [ "$st" -eq "$want" ] && grep -q -- "$pat" "$tmp/err" && [ "$lines" -le 2 ]; then
		ok 0 "$desc: exit $st, $(head -n 1 "$tmp/err")"
	else
		echo "# exit $st, stderr: $(cat "$tmp/err")"
		ok 1 "$desc"
	fi
}

# json EXPR: EXPR over the JSON on stdin; a list of expressions prints as
# a tuple.
json() {
	python3 -c "import json,sys; d=json.load(sys.stdin); print(($1))"
}

# diag FILE: FILE as TAP comments, for a failed check to show what it saw.
diag() {
	sed 's/^/#   /' "$1"
}

# jis EXPR EXPECTED DESC -- hvxctl args: EXPR over `hvxctl -j args` must
# print EXPECTED; on a mismatch the value, hvxctl's output and its stderr
# go to the log.
jis() {
	expr=$1 want=$2 desc=$3
	shift 4
	$HVXCTL -j "$@" >"$tmp/jout" 2>"$tmp/jerr"
	got=$(json "$expr" <"$tmp/jout" 2>&1)
	if [ "$got" = "$want" ]; then
		ok 0 "$desc"
	else
		echo "# got:      $got"
		echo "# expected: $want"
		echo "# hvxctl -j $* stdout:"
		diag "$tmp/jout"
		echo "# stderr:"
		diag "$tmp/jerr"
		ok 1 "$desc"
	fi
}

# has REGEX FILE DESC: FILE has a line matching REGEX, else FILE is shown.
has() {
	if grep -Eq -- "$1" "$2"; then
		ok 0 "$3"
	else
		echo "# no line matches: $1"
		diag "$2"
		ok 1 "$3"
	fi
}

echo "TAP version 13"
# Skip on the module alone: an hvxctl that fails to run is a failure.
if [ ! -d /sys/module/hvx_ept ]; then
	echo "1..0 # SKIP hvx_ept is not loaded"
	exit 4
fi
if ! $HVXCTL ept vm list >"$tmp/out" 2>&1; then
	echo "# $HVXCTL ept vm list:"
	diag "$tmp/out"
	echo "not ok 1 - hvxctl ept vm list runs"
	echo "1..1"
	exit 1
fi

id=$($HVXCTL -j vm add ept-cli | json 'd["id"]')
cleanup() {
	$HVXCTL vm del "$id" >/dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT

$HVXCTL ept vm add "$id" size 4M
ok $? "ept vm add $id size 4M"
jis 'd["mem_size"], d["nr_views"], d["active_view"]' "(4194304, 1, 0)" \
	"ept vm show -j: 4 MiB, one view, view 0 active" -- ept vm show "$id"

v=$($HVXCTL ept view add "$id" 2>&1)
if [ "$v" = 1 ]; then
	ok 0 "ept view add prints the new view id"
else
	echo "# got: $v"
	ok 1 "ept view add prints the new view id"
fi
v=1
$HVXCTL ept map "$id" "$v" gpa 0x200000 size 2M perm rw private
ok $? "ept map: a private 2 MiB range"
$HVXCTL ept map "$id" "$v" gpa 0x1000 size 4K perm r
ok $? "ept map: a shared read-only page"
jis '[(r["gpa"], r["size"], r["perm"], r["kind"]) for r in d["ranges"]], d["private_pages"]' \
	"([(4096, 4096, 'r--', 'shared'), (2097152, 2097152, 'rw-', 'private')], 512)" \
	"ept view show -j lists both ranges in GPA order, 512 private pages" \
	-- ept view show "$id" "$v"

$HVXCTL ept dump "$id" "$v" >"$tmp/dump"
has "^view 1 eptp 0x[0-9a-f]{16}: PML4 at 0x[0-9a-f]+, memory type WB, page-walk length 4, A/D enabled$" "$tmp/dump" \
	"ept dump: EPTP decoded (WB, walk length 4, A/D)"
has "^    PDE   gpa 0x000000200000 0x[0-9a-f]{13}8f3 rw- WB IPAT 2M page 0x[0-9a-f]*00000 private$" "$tmp/dump" \
	"ept dump: the private range is a 2 MiB PDE (bits 0x8f3: RW, WB, IPAT, large, private)"
has "^PML4E gpa 0x000000000000 0x[0-9a-f]{13}007 rwx -> table 0x" "$tmp/dump" \
	"ept dump: PML4E points to a PDPT with full access"
jis '[(e["table"], e["page_size"], e["private"], e["hpa"] % 2097152) for e in d["entries"] if e["leaf"]]' \
	"[('PDE', 2097152, True, 0)]" "ept dump -j: one leaf, a 2 MiB-aligned private PDE" \
	-- ept dump "$id" "$v"

$HVXCTL ept switch "$id" "$v"
ok $? "ept switch to view $v"
jis 'd["active_view"]' 1 "view $v is active" -- ept vm show "$id"
$HVXCTL ept view list "$id" >"$tmp/list"
if grep -q "^view 1 (active): private pages 512" "$tmp/list" &&
   grep -q "^view 0: " "$tmp/list"; then
	ok 0 "ept view list shows both views, view 1 active"
else
	diag "$tmp/list"
	ok 1 "ept view list shows both views, view 1 active"
fi

# A process writes to view 1's read-only page through the guest-memory
# file and dies of SIGBUS; hvxctl monitor prints the violation. The writer
# repeats until the monitor, subscribed at some point, has its event.
$HVXCTL -j monitor events count 1 >"$tmp/mon" 2>"$tmp/monerr" &
mon=$!
st=0
i=0
while kill -0 "$mon" 2>/dev/null && [ $i -lt 50 ]; do
	python3 -c '
import fcntl, mmap, os, struct, sys
d = os.open("/dev/hvx_ept", os.O_RDWR)
fd = fcntl.ioctl(d, 0xE700, bytearray(struct.pack("4I", 16, 0, int(sys.argv[1]), 0)))
m = mmap.mmap(fd, 4 << 20, mmap.MAP_SHARED)
m[0x1000] = 1
' "$id" 2>/dev/null
	st=$?
	i=$((i + 1))
	sleep 0.1
done
kill "$mon" 2>/dev/null
wait "$mon"
got=$(json '[d["family"], d["event"]] + [d["violation"][k] for k in ("vm_id", "view_id", "gpa", "access", "perm")]' \
	<"$tmp/mon" 2>&1)
want="['hvx_ept', 'violation', $id, 1, 4096, '-w-', 'r--']"
if [ "$st" -eq 135 ] && [ "$got" = "$want" ]; then
	ok 0 "write to a read-only page: SIGBUS, hvxctl monitor prints the violation"
else
	echo "# writer exit $st (SIGBUS is 135); monitor: $got"
	echo "# expected: $want"
	diag "$tmp/mon"
	diag "$tmp/monerr"
	ok 1 "write to a read-only page: SIGBUS, hvxctl monitor prints the violation"
fi

fails 1 "View is active; switch away first" "deleting the active view" -- ept view del "$id" 1
fails 1 "Write without read is an EPT misconfiguration" "write-only map" -- ept map "$id" 1 gpa 0x3000 size 4K perm w
fails 1 "Range overlaps a range of this view" "overlapping map" -- ept map "$id" 1 gpa 0x201000 size 4K perm r
fails 1 "No view with this id" "switch to an unknown view" -- ept switch "$id" 7
fails 1 "VM has no EPT views" "ept on a VM without EPT state" -- ept view add 999999
fails 2 "invalid perm" "a bad perm is a usage error" -- ept map "$id" 1 gpa 0x3000 size 4K perm q
fails 2 "invalid size" "a bad size is a usage error" -- ept vm add "$id" size 12Q
fails 2 "missing VIEW id" "a missing view is a usage error" -- ept switch "$id"

$HVXCTL ept switch "$id" 0 && $HVXCTL ept view del "$id" 1
ok $? "switch back and delete view 1"
$HVXCTL ept vm del "$id"
ok $? "ept vm del"
fails 1 "VM has no EPT views" "ept vm show after del" -- ept vm show "$id"

echo "1..$n"
[ "$failed" -eq 0 ]
