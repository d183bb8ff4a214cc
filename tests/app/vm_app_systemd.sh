#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The transient-unit launcher, in the VM booted with systemd as init
# (scripts/vm --systemd -- tests/app/vm_app_systemd.sh): hvxd's app unit
# verifies an install against hvx-primary and starts the app through
# StartTransientUnit; the app must run in its unit with the sandbox applied
# (dynamic user, read-only system, no capabilities, no new privileges),
# hvxd must report the unit and its main PID, and notice when it stops.
# Skips where systemd is not PID 1 (the fork/exec path is tests/app/host_app.sh).
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
HVXD=$B/hvxd PRIMARY=$B/hvx-primary AGENT=$B/hvx-app-agent CTL=$B/hvxctl

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

echo "TAP version 13"
if [ "$(cat /proc/1/comm)" != systemd ]; then
	echo "1..0 # SKIP systemd is not PID 1 (run under scripts/vm --systemd)"
	exit 4
fi
for bin in $HVXD $PRIMARY $AGENT $CTL; do
	[ -x "$bin" ] || { echo "1..0 # SKIP $bin not built"; exit 4; }
done

# Not under /tmp: the app gets a private /tmp and would not see the store.
T=$(mktemp -d /var/lib/hvx-apptest.XXXXXX)
chmod 755 "$T"
primary_pid="" hvxd_pid="" units=() conf_saved=""
cleanup() {
	local u
	for u in "${units[@]}"; do systemctl stop "$u" 2>/dev/null; done
	if [ -n "$conf_saved" ]; then
		cp "$conf_saved" /etc/hvx/hvxd.conf
		systemctl restart hvxd.service
	fi
	[ -n "$hvxd_pid" ] && kill "$hvxd_pid" 2>/dev/null
	[ -n "$primary_pid" ] && kill "$primary_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

$CTL app keygen "$T/a.pem" >/dev/null
pub=$($CTL -j app pubkey "$T/a.pem" | sed 's/.*"public":"\([0-9a-f]*\)".*/\1/')
cat >"$T/policy.json" <<EOP
{"keys": [{"name": "release", "public": "$pub"}],
 "apps": [{"app_id": "org.test.sleeper", "min_version": 1, "keys": ["release"]}]}
EOP
cat >"$T/hvxd.conf" <<EOC
[daemon]
socket = $T/hvxd.sock
[app]
enabled = yes
primary = unix:$T/primary.sock
guest_dir = $T/guest
guests = vm1
share_dir = $T/share
store_dir = $T/store
launcher = systemd
EOC
mkdir -p "$T/share/vm1"
printf '#!/bin/sh\ntrap '"'"'kill $! 2>/dev/null; exit 0'"'"' TERM\nsleep 600 &\nwait\n' \
	>"$T/share/vm1/sleeper.sh"
printf 'not a program\n' >"$T/share/vm1/text"

$PRIMARY --policy "$T/policy.json" --listen "unix:$T/primary.sock" 2>"$T/primary.log" &
primary_pid=$!
$HVXD -c "$T/hvxd.conf" 2>"$T/hvxd.log" &
hvxd_pid=$!
for _ in $(seq 100); do [ -S "$T/guest/vm1.sock" ] && break; sleep 0.1; done

echo "1..16"
if ! [ -S "$T/guest/vm1.sock" ]; then
	echo "Bail out! hvxd did not open the guest channel"
	sed 's/^/# /' "$T/hvxd.log" "$T/primary.log"
	exit 1
fi
ok "hvxd (launcher = systemd) and hvx-primary are up"

$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 1 --vm vm1 \
	--arg 1 "$T/share/vm1/sleeper.sh" >"$T/m.json"
out=$($AGENT --socket "unix:$T/guest/vm1.sock" install "$T/m.json" sleeper.sh)
echo "# $out"
pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$out")
unit=$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$out")
[ -n "$unit" ] && units+=("$unit")
check "install accepted, launched as a transient unit with a pid" \
	test -n "$pid" -a -n "$unit"
check "the unit is active" systemctl is-active --quiet "$unit"
check "its main PID is the pid hvxd reported" \
	test "$(systemctl show -P MainPID "$unit")" = "$pid"
sha=$(sha256sum "$T/share/vm1/sleeper.sh" | cut -d' ' -f1)
check "it runs the verified copy from the store" \
	test "$(tr '\0' ' ' <"/proc/$pid/cmdline")" = "/bin/sh $T/store/$sha 1 "
sandboxed() {
	local uid
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$1/status")
	[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] &&		# DynamicUser range
		grep -q '^NoNewPrivs:[[:space:]]*1' "/proc/$1/status" &&
		grep -q '^CapBnd:[[:space:]]*0000000000000000' "/proc/$1/status" &&
		grep -q '^Seccomp:[[:space:]]*2' "/proc/$1/status"
}
check "sandbox: dynamic user, no new privileges, no capabilities, seccomp" sandboxed "$pid"
# ProtectSystem=strict: / is read-only in the app's mount namespace.
check "sandbox: the system is read-only for the app" \
	grep -Eq '^[0-9]+ [0-9]+ [^ ]+ / / ro[, ]' "/proc/$pid/mountinfo"
check "sandbox: properties of the unit" \
	test "$(systemctl show -P DynamicUser "$unit"):$(systemctl show -P ProtectSystem "$unit"):$(systemctl show -P PrivateNetwork "$unit")" = "yes:strict:yes"
list=$($CTL -S "$T/hvxd.sock" -j app list)
check "app list -j shows the unit and pid, running" \
	grep -q "\"pid\":$pid,\"launcher\":\"systemd\",\"unit\":\"$unit\",\"state\":\"running\"" <<<"$list"

systemctl stop "$unit"
sleep 0.5
list=$($CTL -S "$T/hvxd.sock" -j app list)
check "app list notices the unit stopped" grep -q "\"unit\":\"$unit\",\"state\":\"exited\"" <<<"$list"

$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 2 --vm vm1 \
	"$T/share/vm1/text" >"$T/text.json"
out=$($AGENT --socket "unix:$T/guest/vm1.sock" install "$T/text.json" text)
echo "# $out"
check "a payload systemd cannot execute: launch-failed" grep -q '"reason":"launch-failed"' <<<"$out"
check "decisions are in hvxd's log" grep -q "accepted: .*launched as unit $unit" "$T/hvxd.log"

# The same through the installed, hardened hvxd.service (UMask=0077,
# ProtectSystem=strict, CapabilityBoundingSet=CAP_NET_ADMIN...).
if ! systemctl cat hvxd.service >/dev/null 2>&1; then
	for _ in 13 14 15 16; do ok "hvxd.service # SKIP not installed in this VM"; done
else
	conf_saved=$T/hvxd.conf.orig
	cp /etc/hvx/hvxd.conf "$conf_saved" 2>/dev/null || : >"$conf_saved"
	cat >/etc/hvx/hvxd.conf <<EOC
[app]
enabled = yes
primary = unix:$T/primary.sock
guests = vm1
EOC
	systemctl restart hvxd.service
	for _ in $(seq 100); do [ -S /run/hvx/app/vm1.sock ] && break; sleep 0.1; done
	check "hvxd.service restarted with [app]: guest channel in /run/hvx/app" \
		test -S /run/hvx/app/vm1.sock
	cp "$T/share/vm1/sleeper.sh" /var/lib/hvx/share/vm1/sleeper.sh
	$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 3 --vm vm1 \
		--arg 2 /var/lib/hvx/share/vm1/sleeper.sh >"$T/m3.json"
	out=$($AGENT --socket unix:/run/hvx/app/vm1.sock install "$T/m3.json" sleeper.sh)
	echo "# $out"
	pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$out")
	unit=$(sed -n 's/.*"unit":"\([^"]*\)".*/\1/p' <<<"$out")
	[ -n "$unit" ] && units+=("$unit")
	check "install through hvxd.service: launched as $unit" \
		test -n "$pid" -a -n "$unit"
	runs_stored() {
		sandboxed "$1" &&
			test "$(tr '\0' ' ' <"/proc/$1/cmdline")" = "/bin/sh /var/lib/hvx/apps/$sha 2 "
	}
	check "the app runs sandboxed from /var/lib/hvx/apps" runs_stored "$pid"
	check "hvxctl app list (default socket) shows it" \
		grep -q "\"unit\":\"$unit\",\"state\":\"running\"" <($CTL -j app list)
fi

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
