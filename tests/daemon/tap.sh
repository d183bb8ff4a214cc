# SPDX-License-Identifier: GPL-2.0
# TAP helpers for the daemon tests (sourced). Tests run from the repo root.

HVXCTL=${HVXCTL:-build/hvxctl}
HVXD=${HVXD:-build/hvxd}
TAP_N=0
TAP_FAIL=0

tap_plan() { echo "TAP version 13"; echo "1..$1"; }
ok() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $*"; }
not_ok() { TAP_N=$((TAP_N + 1)); TAP_FAIL=$((TAP_FAIL + 1)); echo "not ok $TAP_N - $*"; }
skip() { TAP_N=$((TAP_N + 1)); echo "ok $TAP_N - $1 # SKIP $2"; }
# check DESC CMD...: ok when CMD succeeds; its output goes to the log on failure.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		not_ok "$desc"
		printf '%s\n' "$out" | sed 's/^/# /'
	fi
}
diag() { printf '%s\n' "$*" | sed 's/^/# /'; }
tap_done() {
	[ "$TAP_FAIL" -eq 0 ] && exit 0
	diag "$TAP_FAIL of $TAP_N failed"
	exit 1
}
skip_all() { echo "TAP version 13"; echo "1..0 # SKIP $*"; exit 4; }

# Valid JSON on stdin (python3 is on every machine that builds hvx).
json_ok() { python3 -m json.tool >/dev/null; }
# Evaluate a python expression on the JSON in stdin as `j`; true when truthy.
json_expr() { python3 -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# Wait up to $1 seconds for CMD to succeed.
wait_for() {
	local t=$(($1 * 10))
	shift
	while [ $t -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		t=$((t - 1))
	done
	return 1
}
