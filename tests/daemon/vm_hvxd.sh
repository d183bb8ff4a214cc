#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# hvxd: config checking, readiness and watchdog over sd_notify, the control
# socket (status, bad frames, privileges), events from hvx_core, SIGHUP
# reload, and, when systemd is PID 1, the installed hvxd.service.
#
# Part 1 runs hvxd in the foreground with its own socket and a stand-in
# notify socket, so it works with or without systemd (and on the host,
# where the event checks skip). Part 2 checks the systemd service.
. "$(dirname "$0")/tap.sh"
HERE=$(dirname "$0")

[ -x "$HVXD" ] && [ -x "$HVXCTL" ] || skip_all "hvxd/hvxctl not built"

T=$(mktemp -d /tmp/hvxd-test.XXXXXX)
chmod 755 "$T"
SOCK=$T/hvxd.sock
P=hvxd-t$$
HVXD_PID=
SINK_PID=
cleanup() {
	[ -n "$HVXD_PID" ] && kill "$HVXD_PID" 2>/dev/null
	[ -n "$SINK_PID" ] && kill "$SINK_PID" 2>/dev/null
	$HVXCTL vm del name "$P-1" >/dev/null 2>&1
	$HVXCTL vm del name "$P-2" >/dev/null 2>&1
	rm -rf "$T"
}
trap cleanup EXIT

conf() {
	cat >"$T/hvxd.conf" <<-CONF
	# test config
	[daemon]
	socket = $SOCK
	log_level = ${1:-info}

	[core]
	log_events = yes
	CONF
}
status() { $HVXCTL -S "$SOCK" -j daemon status; }
have_core() { $HVXCTL vm list >/dev/null 2>&1; }

tap_plan 32

# --- config checking ---
conf
run_t=$($HVXD -t -c "$T/hvxd.conf" 2>&1)
[ $? -eq 0 ] && [ "$run_t" = "$T/hvxd.conf: OK" ] && ok "hvxd -t accepts a valid config" ||
	{ not_ok "hvxd -t accepts a valid config"; diag "$run_t"; }

printf '[daemon]\nlog_level = info\n\n[core]\nlog_evnts = no\n' >"$T/bad.conf"
run_t=$($HVXD -t -c "$T/bad.conf" 2>&1)
case $? in 1) ;; *) run_t="exit $?: $run_t" ;; esac
case $run_t in *"$T/bad.conf:5: unknown key \"log_evnts\" in section [core]"*) ok "bad config rejected with file:line" ;;
	*) not_ok "bad config rejected with file:line"; diag "$run_t" ;; esac

run_t=$($HVXD -c "$T/none.conf" 2>&1)
[ $? -eq 1 ] && case $run_t in *"$T/none.conf"*"No such file"*) true ;; *) false ;; esac &&
	ok "missing -c file is an error" || { not_ok "missing -c file is an error"; diag "$run_t"; }

# --- start in the foreground with a stand-in notify socket ---
python3 "$HERE/notify_sink.py" "$T/notify" 600 >"$T/notify.log" &
SINK_PID=$!
wait_for 5 test -e "$T/notify.ready"
NOTIFY_SOCKET=$T/notify WATCHDOG_USEC=400000 $HVXD -c "$T/hvxd.conf" >"$T/hvxd.log" 2>&1 &
HVXD_PID=$!

wait_for 10 grep -qx "READY=1" "$T/notify.log" && ok "READY=1 sent" ||
	{ not_ok "READY=1 sent"; diag "$(cat "$T/hvxd.log")"; }
grep -q "^STATUS=.*units running" "$T/notify.log" && ok "STATUS= sent" || not_ok "STATUS= sent"
sleep 1.2
n=$(grep -cx "WATCHDOG=1" "$T/notify.log")
[ "$n" -ge 3 ] && ok "watchdog pinged at half of WATCHDOG_USEC ($n pings)" ||
	{ not_ok "watchdog pinged at half of WATCHDOG_USEC"; diag "$n pings"; }
grep -q "ready, control socket $SOCK" "$T/hvxd.log" && ok "logs readiness to stderr" ||
	{ not_ok "logs readiness to stderr"; diag "$(cat "$T/hvxd.log")"; }
[ "$(stat -c %a "$SOCK" 2>/dev/null)" = 600 ] && ok "control socket is mode 0600" ||
	not_ok "control socket is mode 0600"

st=$(status)
if echo "$st" | json_expr "j['pid'] == $HVXD_PID and j['units'][0]['name'] == 'core' and j['units'][0]['state'] == 'running' and j['config'] == '$T/hvxd.conf'"; then
	ok "daemon status -j"
else
	not_ok "daemon status -j"; diag "$st"
fi

# --- events from hvx_core ---
if have_core; then
	wait_for 5 sh -c "$HVXCTL -S $SOCK -j daemon status | grep -q '\"connected\":true'" &&
		ok "core unit connected to hvx_core" || not_ok "core unit connected to hvx_core"
	$HVXCTL vm add "$P-1" >/dev/null
	if wait_for 5 grep -q "vm.new $P-1 " "$T/hvxd.log" &&
	   wait_for 5 sh -c "$HVXCTL -S $SOCK -j daemon status | grep -q '\"name\":\"$P-1\"'"; then
		ok "VM creation logged and tracked"
	else
		not_ok "VM creation logged and tracked"; diag "$(tail -5 "$T/hvxd.log")"
	fi
	$HVXCTL vm del "$P-1"
	if wait_for 5 grep -q "vm.del $P-1 " "$T/hvxd.log" &&
	   wait_for 5 sh -c "! $HVXCTL -S $SOCK -j daemon status | grep -q '\"name\":\"$P-1\"'"; then
		ok "VM destruction logged and untracked"
	else
		not_ok "VM destruction logged and untracked"; diag "$(tail -5 "$T/hvxd.log")"
	fi
	# Unload and reload hvx_core under the running daemon (only possible
	# when no other hvx module holds it).
	connected() { $HVXCTL -S $SOCK -j daemon status | grep -q "\"connected\":$1"; }
	if rmmod hvx_core 2>/dev/null; then
		wait_for 5 connected false && wait_for 5 grep -q "hvx_core was unloaded" "$T/hvxd.log"
		gone=$?
		modprobe hvx_core 2>/dev/null || insmod kmod/core/hvx_core.ko
		$HVXCTL vm add "$P-1" >/dev/null
		if [ $gone -eq 0 ] && wait_for 5 connected true &&
		   wait_for 5 sh -c "$HVXCTL -S $SOCK -j daemon status | grep -q '\"name\":\"$P-1\"'"; then
			ok "follows hvx_core being unloaded and loaded again"
		else
			not_ok "follows hvx_core being unloaded and loaded again"; diag "$(tail -5 "$T/hvxd.log")"
		fi
		$HVXCTL vm del "$P-1"
	else
		skip "follows hvx_core being unloaded and loaded again" "hvx_core is in use"
	fi
else
	skip "core unit connected to hvx_core" "hvx_core not loaded"
	skip "VM creation logged and tracked" "hvx_core not loaded"
	skip "VM destruction logged and untracked" "hvx_core not loaded"
	skip "follows hvx_core being unloaded and loaded again" "hvx_core not loaded"
fi

# --- control socket abuse ---
ctl() { python3 "$HERE/ctl_client.py" "$SOCK" "$1"; }
out=$(ctl garbage)
echo "$out" | json_expr "j['error']['name'] == 'EBADMSG'" && ok "garbage frame: EBADMSG" ||
	{ not_ok "garbage frame: EBADMSG"; diag "$out"; }
out=$(ctl oversized)
echo "$out" | json_expr "j['error']['name'] == 'EMSGSIZE'" && ok "oversized frame: EMSGSIZE" ||
	{ not_ok "oversized frame: EMSGSIZE"; diag "$out"; }
ctl truncated >/dev/null && ok "truncated frame: closed without an answer" ||
	not_ok "truncated frame: closed without an answer"
out=$(ctl pipeline)
[ $? -eq 0 ] && [ "$(echo "$out" | grep -c '"result"')" -eq 3 ] &&
	ok "pipelined requests answered in order" || { not_ok "pipelined requests answered in order"; diag "$out"; }
out=$(ctl badreq)
echo "$out" | json_expr "j['error']['name'] == 'EINVAL' and 'must be an object' in j['error']['message']" &&
	ok "params that are not an object: EINVAL" || { not_ok "params that are not an object: EINVAL"; diag "$out"; }
out=$($HVXCTL -S "$SOCK" daemon call core.nope 2>&1)
[ $? -eq 1 ] && case $out in *"unknown method \"core.nope\": Operation not supported"*) true ;; *) false ;; esac &&
	ok "unknown method: one-line error, exit 1" || { not_ok "unknown method: one-line error, exit 1"; diag "$out"; }
if command -v setpriv >/dev/null; then
	chmod 666 "$SOCK"	# let an unprivileged peer reach the credential check
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups $HVXCTL -S "$SOCK" daemon call core.resync 2>&1)
	rc=$?
	out2=$(setpriv --reuid=65534 --regid=65534 --clear-groups $HVXCTL -S "$SOCK" -j daemon status 2>&1)
	chmod 600 "$SOCK"
	[ $rc -eq 1 ] && case $out in *"needs root (caller uid 65534): Operation not permitted"*) true ;; *) false ;; esac &&
		echo "$out2" | json_ok && ok "privileged method refused to uid 65534, status allowed" ||
		{ not_ok "privileged method refused to uid 65534, status allowed"; diag "$out / $out2"; }
else
	skip "privileged method refused to uid 65534, status allowed" "no setpriv"
fi

# --- reload ---
conf debug
kill -HUP $HVXD_PID
if wait_for 5 grep -q "configuration reloaded" "$T/hvxd.log" &&
   wait_for 5 grep -qx "RELOADING=1" "$T/notify.log"; then
	ok "SIGHUP reloads (RELOADING=1, then READY=1)"
else
	not_ok "SIGHUP reloads (RELOADING=1, then READY=1)"; diag "$(tail -5 "$T/hvxd.log")"
fi
printf '[daemon]\nsocket = %s\nmax_clients = 0\n' "$SOCK" >"$T/hvxd.conf"
kill -HUP $HVXD_PID
if wait_for 5 grep -q "$T/hvxd.conf:3: \[daemon\] max_clients: expected an integer from 1 to 4096" "$T/hvxd.log" &&
   grep -q "keeping the running configuration" "$T/hvxd.log" && status | json_ok; then
	ok "bad config on SIGHUP: file:line logged, daemon keeps running"
else
	not_ok "bad config on SIGHUP: file:line logged, daemon keeps running"; diag "$(tail -5 "$T/hvxd.log")"
fi

conf
out=$($HVXD -c "$T/hvxd.conf" 2>&1)
[ $? -eq 1 ] && case $out in *"control socket $SOCK: Address already in use"*) true ;; *) false ;; esac &&
	ok "a second hvxd on the same socket refuses to start" ||
	{ not_ok "a second hvxd on the same socket refuses to start"; diag "$out"; }

kill -TERM $HVXD_PID
wait $HVXD_PID
rc=$?
HVXD_PID=
[ $rc -eq 0 ] && [ ! -e "$SOCK" ] && grep -qx "STOPPING=1" "$T/notify.log" &&
	ok "SIGTERM: STOPPING=1, socket removed, exit 0" ||
	{ not_ok "SIGTERM: STOPPING=1, socket removed, exit 0"; diag "exit $rc"; }

# --- under systemd ---
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ]; then
	for t in "hvxd.service is active" "StatusText set" "watchdog configured" \
		 "daemon status on /run/hvx/hvxd.sock" "journal entry with HVX_VM_NAME" \
		 "systemctl reload" "systemd-analyze verify" "/run/hvx/hvxd.sock is 0600"; do
		skip "$t" "systemd is not PID 1"
	done
	tap_done
fi
if ! systemctl cat hvxd.service >/dev/null 2>&1; then
	for t in 1 2 3 4 5 6 7 8; do skip "hvxd.service check $t" "hvxd.service not installed"; done
	tap_done
fi
check "hvxd.service is active" systemctl is-active hvxd.service
st=$(systemctl show -p StatusText --value hvxd.service)
case $st in *"units running"*) ok "StatusText set: $st" ;; *) not_ok "StatusText set"; diag "$st" ;; esac
[ "$(systemctl show -p WatchdogUSec --value hvxd.service)" = 30s ] &&
	ok "watchdog configured (30s)" || not_ok "watchdog configured (30s)"
st=$($HVXCTL -j daemon status)
echo "$st" | json_expr "j['watchdog_usec'] == 30000000 and j['pid'] == $(systemctl show -p MainPID --value hvxd.service)" &&
	ok "daemon status on /run/hvx/hvxd.sock" || { not_ok "daemon status on /run/hvx/hvxd.sock"; diag "$st"; }
if have_core; then
	$HVXCTL vm add "$P-2" >/dev/null
	wait_for 10 sh -c "journalctl -q -u hvxd.service HVX_VM_NAME=$P-2 PRIORITY=6 | grep -q 'vm.new $P-2'" &&
		ok "journal entry with HVX_VM_NAME and PRIORITY" ||
		{ not_ok "journal entry with HVX_VM_NAME and PRIORITY"; diag "$(journalctl -q -u hvxd.service | tail -5)"; }
	$HVXCTL vm del "$P-2"
else
	skip "journal entry with HVX_VM_NAME and PRIORITY" "hvx_core not loaded"
fi
systemctl reload hvxd.service
wait_for 10 sh -c "journalctl -q -u hvxd.service | grep -q 'configuration reloaded'" &&
	systemctl is-active -q hvxd.service && ok "systemctl reload" || not_ok "systemctl reload"
out=$(systemd-analyze verify /lib/systemd/system/hvxd.service 2>&1)
[ $? -eq 0 ] && [ -z "$out" ] && ok "systemd-analyze verify hvxd.service" ||
	{ not_ok "systemd-analyze verify hvxd.service"; diag "$out"; }
[ "$(stat -c %a /run/hvx/hvxd.sock)" = 600 ] && ok "/run/hvx/hvxd.sock is 0600" ||
	not_ok "/run/hvx/hvxd.sock is 0600"
tap_done
