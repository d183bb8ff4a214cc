#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PM negotiation across a real QEMU live migration, on the host.
#
# A guest boots from an initramfs (busybox, the virtio-serial modules,
# hvx-guest-agent built static) on a source QEMU whose _CST is one SSDT,
# and migrates to a destination QEMU whose _CST is another: the table the
# destination's hvxd offers. hvxd runs on the host, watching the
# destination's QMP monitor and agent chardev in its socket_dir; it must
# negotiate by itself when the migration completes, and the guest's
# cpuidle sysfs must then show the destination's constraints, read back
# over the agent and cross-checked over the guest's serial console.
# Then: hvxd killed in the middle of a negotiation (the guest rolls back
# on its own), and a guest that never answers (hvxd fails the round with
# the reason).
#
# Then HVX_PM_HOPS (default 2) more migrations, each to a fresh incoming
# QEMU on the destination host: every one must end enabled by itself, and
# the time from QEMU's MIGRATION completed event to the guest's ENABLED is
# printed for each and summarised (bench/pm/bench_pm.sh asks for more).
#
# Both QEMUs run under the VM lock every test VM takes (/tmp/hvx-vm.lock);
# a lock busy for HVX_PM_LOCK_WAIT seconds (default 240, below tap-run's
# timeout) skips the test.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
HVXD=$B/hvxd CTL=$B/hvxctl AGENT=$B/hvx-guest-agent-static
KERNEL=${HVX_PM_KERNEL:-$(ls /boot/vmlinuz-6.1.*-amd64 2>/dev/null | head -n 1)}
LOCK=/tmp/hvx-vm.lock
HOPS=${HVX_PM_HOPS:-2}

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }
# need DESC CMD...: a check the rest depends on; failing it ends the test
# at once, so that a broken setup does not hold the VM lock for minutes.
need() {
	local d=$1
	shift
	"$@" && { ok "$d"; return; }
	nok "$d"
	echo "Bail out! $d"
	echo "1..$n"
	exit 1
}
skip() { echo "1..0 # SKIP $1"; exit 4; }

if [ -z "${HVX_PM_LOCKED:-}" ]; then
	echo "TAP version 13"
	command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"
	command -v iasl >/dev/null || skip "iasl not installed (acpica-tools)"
	command -v socat >/dev/null || skip "socat not installed"
	command -v modprobe >/dev/null || skip "modprobe not installed (kmod)"
	[ -x /bin/busybox ] || skip "/bin/busybox missing (busybox-static)"
	[ -n "$KERNEL" ] && [ -r "$KERNEL" ] || skip "no /boot/vmlinuz-6.1.*-amd64"
	for bin in $HVXD $CTL $AGENT; do
		[ -x "$bin" ] || skip "$bin not built"
	done
	[[ $HOPS =~ ^[0-9]+$ ]] || skip "HVX_PM_HOPS=$HOPS is not a number"
	# One VM at a time on this machine: hold the lock for both QEMUs.
	# -E: flock's status when the wait runs out, one the test never uses.
	HVX_PM_LOCKED=1 flock -E 75 -w "${HVX_PM_LOCK_WAIT:-240}" "$LOCK" "$0" "$@"
	rc=$?
	[ "$rc" -eq 75 ] && skip "$LOCK busy for ${HVX_PM_LOCK_WAIT:-240} s"
	exit "$rc"
fi

kver=$(basename "$KERNEL" | sed 's/^vmlinuz-//')
T=$(mktemp -d /tmp/hvx-pm-mig.XXXXXX)
src_pid="" dst_pid="" hvxd_pid="" hop_pids="" readers=""
cleanup() {
	for p in $src_pid $dst_pid $hop_pids $hvxd_pid $readers; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [ -n "${HVX_TEST_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# ---- the guest: busybox, virtio-serial, the agent, a console shell ----
build_initramfs() {
	local root=$T/root m f
	mkdir -p "$root"/{bin,dev,proc,sys,run,lib/modules}
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	cp "$AGENT" "$root/bin/hvx-guest-agent"
	# -a: without it modprobe takes every name after the first as a
	# module option, and the guest would have no virtio-serial port.
	for m in $(modprobe --set-version="$kver" -a --show-depends virtio_pci virtio_console |
		   awk '$1 == "insmod" { print $2 }' | awk '!seen[$0]++'); do
		f=$(basename "$m")
		f=${f%%.ko*}
		case $m in
		*.ko) cp "$m" "$root/lib/modules/$f.ko" ;;
		*.ko.xz) xz -dc "$m" >"$root/lib/modules/$f.ko" ;;
		*.ko.zst) zstd -qdc "$m" >"$root/lib/modules/$f.ko" ;;
		esac
		echo "$f" >>"$root/lib/modules/order"
	done
	cat >"$root/init" <<'EOF'
#!/bin/sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko; done
# The agent finds its port by name and polls while no host is connected.
hvx-guest-agent -v -t 3000 >/run/agent.log 2>&1 &
echo $! >/run/agent.pid
stty -echo 2>/dev/null
echo HVX-GUEST-READY
echo "HVX-DONE 0"
# The test drives the guest over the console: one command per line, each
# answer ends with a marker line.
while read -r line; do
	sh -c "$line" 2>&1
	echo "HVX-DONE $?"
done
EOF
	chmod +x "$root/init"
	(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null) >"$T/initrd.cpio"
}

# ---- QEMU ----
# qemu SIDE AGENT_SOCK QMP_SOCK [extra args]: the console is a pipe pair
# ($T/SIDE.in, $T/SIDE.out) copied to $T/SIDE.log. QMP_SOCK is hvxd's
# monitor (a QMP server takes one client); the test drives $T/SIDE.ctl.
qemu() {
	local side=$1 agent=$2 qmp=$3
	shift 3
	mkfifo "$T/$side.in" "$T/$side.out"
	qemu-system-x86_64 -M pc -m 256M -smp 1 -nodefaults -no-user-config \
		-display none -no-reboot \
		-kernel "$KERNEL" -initrd "$T/initrd.cpio" \
		-append "console=ttyS0 quiet loglevel=1 panic=-1" \
		-serial "pipe:$T/$side" -acpitable "file=$T/$side.aml" \
		-device virtio-serial-pci,id=vs \
		-chardev "socket,id=agent,path=$agent,server=on,wait=off" \
		-device virtserialport,bus=vs.0,chardev=agent,name=org.hvx.pm.0 \
		-qmp "unix:$qmp,server=on,wait=off" \
		-qmp "unix:$T/$side.ctl,server=on,wait=off" "$@" 2>"$T/$side.qemu.log" &
	eval "${side}_pid=$!"
	# The reader is killed at the end: it may still wait for a QEMU that
	# never started. The console's input is opened read-write, which never
	# blocks on a FIFO, for the same reason.
	cat "$T/$side.out" >"$T/$side.log" &
	readers="$readers $!"
	eval "exec {${side}_fd}<>\"$T/$side.in\""
}

# wait_for SECONDS CMD...: poll every 0.1 s.
wait_for() {
	local i t=$(($1 * 10))
	shift
	for ((i = 0; i < t; i++)); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

# guest SIDE CMD: run CMD in the guest over its console, print its output.
guest() {
	local side=$1 fd done
	shift
	eval "fd=\$${side}_fd"
	done=$(grep -c '^HVX-DONE' "$T/$side.log")
	echo "$*" >&"$fd"
	wait_for 30 eval "[ \$(grep -c '^HVX-DONE' '$T/$side.log') -gt $done ]" || return 1
	awk -v skip="$done" '/^HVX-DONE/ { n++; next } n == skip' "$T/$side.log" |
		tr -d '\r'
}

# qmp SOCK JSON...: one QMP session running each command, replies on stdout.
qmp() {
	local sock=$1
	shift
	{ echo '{"execute":"qmp_capabilities"}'; printf '%s\n' "$@"; sleep 0.3; } |
		socat -t 2 - "UNIX-CONNECT:$sock" 2>/dev/null
}

ctl() { $CTL -S "$T/hvxd.sock" "$@"; }
vm_field() { # FIELD of vm0 in hvxctl -j pm status vm0
	ctl -j pm status vm0 2>/dev/null | python3 -c 'import json,sys
print(json.load(sys.stdin).get(sys.argv[1], ""))' "$1" 2>/dev/null
}
vm_state_is() { [ "$(vm_field state)" = "$1" ]; }
vm_ok() { # VM FIELD VALUE
	[ "$(ctl -j pm status "$1" 2>/dev/null | python3 -c 'import json,sys
print(json.load(sys.stdin).get(sys.argv[1], ""))' "$2" 2>/dev/null)" = "$3" ]
}

start_hvxd() {
	$HVXD -c "$1" 2>>"$T/hvxd.log" &
	hvxd_pid=$!
	wait_for 10 test -S "$T/hvxd.sock"
}


# ---- the test ----
mkdir -p "$T/src" "$T/pm"
build_initramfs

# hvxd.conf for host SIDE with C states CSTATES.
conf() {
	cat >"$T/$1.conf" <<EOC
[daemon]
socket = $T/hvxd.sock
max_clients = 16
[core]
log_events = no
[app]
enabled = no
[cluster]
enabled = no
[pm]
socket_dir = $T/${3:-pm}
freeze_timeout = 2s
ack_timeout = 2s
enable_timeout = 2s
cstates = $2
EOC
}
# The source host: C3 leaves in 150 us. The destination: the same C states
# entered the same way, but its C3 takes 900 us to leave.
conf src "C1:1:1:1000:ffh, C2:2:50:500:io@0x514, C3:3:150:100:io@0x515" src-pm
conf dst "C1:1:1:1000:ffh, C2:2:50:500:io@0x514, C3:3:900:100:io@0x515"

# Each host's SSDT is what its hvxd offers (hvxctl pm ssdt).
ssdt() {
	$HVXD -c "$T/$1.conf" 2>>"$T/hvxd.log" &
	hvxd_pid=$!
	wait_for 10 test -S "$T/hvxd.sock" &&
		ctl pm ssdt >"$T/$1.asl" &&
		iasl -p "$T/$1" "$T/$1.asl" >"$T/$1.iasl.log" 2>&1
	local ret=$?
	kill "$hvxd_pid"
	wait "$hvxd_pid" 2>/dev/null
	hvxd_pid=""
	return $ret
}
mkdir -p "$T/src-pm"
need "each host's hvxctl pm ssdt compiles (iasl)" eval 'ssdt src && ssdt dst'
state() { # SIDE INDEX FILE
	guest "$1" cat "/sys/devices/system/cpu/cpu0/cpuidle/state$2/$3"
}

qemu src "$T/src/vm0.agent" "$T/src/vm0.qmp"
# booted: the guest is up, or its QEMU has exited (no use waiting then).
booted() {
	wait_for 90 eval 'grep -q HVX-GUEST-READY "$T/src.log" || ! kill -0 $src_pid 2>/dev/null'
	grep -q HVX-GUEST-READY "$T/src.log"
}
need "source guest boots with hvx-guest-agent" booted
need "source guest has the virtio-serial port org.hvx.pm.0" \
	eval 'guest src cat /sys/class/virtio-ports/*/name | grep -qx org.hvx.pm.0'
# No host on the source's port: it reads EOF and polls POLLHUP at once, so
# an agent polling it would wake all the time; this one waits for SIGIO.
switches() { # the agent's voluntary context switches over one second
	local p='/proc/$(cat /run/agent.pid)/status'
	guest src "a=\$(awk '/^voluntary_ctxt/ { print \$2 }' $p); sleep 1; b=\$(awk '/^voluntary_ctxt/ { print \$2 }' $p); echo \$((b - a))"
}
check "source guest: with no host connected the agent sleeps (<= 1 wakeup/s)" \
	eval '[ "$(switches)" -le 1 ]'
check "source guest: acpi_idle with the source's C3 (150 us)" \
	eval '[ "$(state src 3 name)" = C3 ] && [ "$(state src 3 latency)" = 150 ]'

# The destination host: hvxd watches its socket_dir, where the incoming
# QEMU puts the agent chardev and a QMP monitor.
start_hvxd "$T/dst.conf"
port=$((20000 + RANDOM % 20000))
qemu dst "$T/pm/vm0.agent" "$T/pm/vm0.qmp" -incoming "tcp:127.0.0.1:$port"
need "hvxd attaches the incoming VM's QMP monitor (events on)" \
	wait_for 20 eval '[ "$(vm_field qmp)" = ready ]'

qmp "$T/src/vm0.qmp" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port\"}}" >"$T/migrate.log"
migrated() { qmp "$T/src/vm0.qmp" '{"execute":"query-migrate"}' | grep -q '"status": *"completed"'; }
need "live migration completes" wait_for 60 migrated
need "hvxd negotiates by itself after the migration: enabled" \
	wait_for 30 vm_state_is enabled
check "the round was started by the migration" eval '[ "$(vm_field trigger)" = migration ]'
check "the agent was woken by virtio_console's SIGIO when the migrated port's host connected" \
	eval 'guest dst cat /run/agent.log | grep -q "SIGIO, the host side changed"'
ctl -j pm status vm0 >"$T/status.json"
cp "$T/status.json" "${HVX_PM_STATUS_OUT:-/dev/null}"
echo "# hvxctl -j pm status vm0 after the migration:"
sed 's/^/# /' "$T/status.json"
times=$(vm_field migration_to_enabled_usec)
echo "# migration completed -> states enabled: $times us"

# The guest's own view, over the agent: C3 (900 us here, the guest plans
# with 150) is off, C1 and C2 stay, the QoS cap is the deepest honoured
# host latency (C2, 50 us), and the freeze is released.
ctl -j pm report vm0 >"$T/report.json"
jq_state() { # INDEX FIELD: from the agent's report
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))
s=[x for x in r["states"] if x["index"]==int(sys.argv[2])][0]; print(str(s[sys.argv[3]]).lower())' \
		"$T/report.json" "$1" "$2"
}
report() { python3 -c 'import json,sys; print(str(json.load(open(sys.argv[1]))[sys.argv[2]]).lower())' "$T/report.json" "$1"; }
check "agent report: C3 disabled, C1 and C2 enabled" \
	eval '[ "$(jq_state 3 disabled)" = true ] && [ "$(jq_state 2 disabled)" = false ] && [ "$(jq_state 1 disabled)" = false ]'
check "agent report: QoS latency capped at 50 us, not frozen" \
	eval '[ "$(report qos_latency_us)" = 50 ] && [ "$(report frozen)" = false ]'
check "guest sysfs (console) agrees: state3 disable=1, state2 disable=0" \
	eval '[ "$(state dst 3 disable)" = 1 ] && [ "$(state dst 2 disable)" = 0 ]'

# hvxd killed in the middle of a round: the agent is stopped so that the
# FREEZE waits in its port, hvxd dies, then the agent takes the FREEZE and
# finds no host: it must roll back by itself.
apid=$(guest dst cat /run/agent.pid)
qos() { guest dst 'od -An -tu4 /dev/cpu_dma_latency' | tr -d ' '; }
guest dst "kill -STOP $apid" >/dev/null
ctl pm negotiate vm0 nowait >/dev/null
# "frozen": hvxd has sent FREEZE and waits for FROZEN.
wait_for 5 vm_state_is frozen
kill -9 "$hvxd_pid"
wait "$hvxd_pid" 2>/dev/null
hvxd_pid=""
guest dst "kill -CONT $apid" >/dev/null
check "hvxd killed mid-round: the guest rolls back by itself" \
	wait_for 20 eval 'guest dst cat /run/agent.log | grep -q "rolled back"'
start_hvxd "$T/dst.conf"
wait_for 20 eval '[ "$(vm_field agent)" = connected ]'
ctl -j pm report vm0 >"$T/report.json"
check "after the rollback (read over the agent): not frozen, C3 still off, cap 50 us" \
	eval '[ "$(report frozen)" = false ] && [ "$(jq_state 3 disabled)" = true ] && [ "$(report qos_latency_us)" = 50 ]'
check "guest PM QoS back to the 50 us cap (no freeze request left)" eval '[ "$(qos)" = 50 ]'

# A guest that never answers: hvxd fails the round with the reason.
guest dst "kill -STOP $apid" >/dev/null
out=$(ctl pm negotiate vm0 2>&1)
rc=$?
echo "# $out"
check "a guest that never answers: negotiate fails (exit 1)" test "$rc" = 1
check "... with the reason: timeout in state frozen" \
	eval 'grep -q "timeout in state frozen: the guest did not confirm FREEZE within 2000 ms" <<<"$out"'
check "... and hvxctl pm status shows failed with that reason" \
	eval '[ "$(vm_field state)" = failed ] && ctl -j pm status vm0 | grep -q "did not confirm FREEZE"'
guest dst "kill -CONT $apid" >/dev/null
# STATUS queues behind FREEZE and ABORT: the report is from after both.
ctl -j pm report vm0 >"$T/report.json"
check "the guest took FREEZE then hvxd's ABORT: not frozen" eval '[ "$(report frozen)" = false ]'
check "a new round after the failures succeeds" eval 'ctl pm negotiate vm0 >/dev/null && vm_state_is enabled'
# For comparison with the first round: the same guest, long after its
# migration (under TCG a fresh destination QEMU translates every guest code
# path anew, which the first round pays for).
echo "# a later round on the migrated guest took $(vm_field duration_usec) us"

# More migrations, each to a fresh incoming QEMU on this host: VM vmK in
# hvxd's socket_dir. The guest's port stays open in the agent throughout.
prev=vm0 prev_pid=$dst_pid prev_side=dst
for ((k = 1; k <= HOPS; k++)); do
	vm=vm$k
	port=$((20000 + RANDOM % 20000))
	cp "$T/dst.aml" "$T/hop$k.aml"
	qemu "hop$k" "$T/pm/$vm.agent" "$T/pm/$vm.qmp" -incoming "tcp:127.0.0.1:$port"
	eval "pid=\$hop${k}_pid"
	hop_pids="$hop_pids $pid"
	if ! wait_for 20 vm_ok "$vm" qmp ready; then
		nok "migration $((k + 1)): hvxd attaches $vm's QMP monitor"
		break
	fi
	qmp "$T/$prev_side.ctl" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port\"}}" >>"$T/migrate.log"
	if ! wait_for 60 vm_ok "$vm" state enabled || ! vm_ok "$vm" trigger migration; then
		nok "migration $((k + 1)) ($prev -> $vm): enabled by itself"
		break
	fi
	ctl -j pm report "$vm" >"$T/report.json"
	check "migration $((k + 1)) ($prev -> $vm): enabled by itself; agent report: C3 off, cap 50 us" \
		eval '[ "$(jq_state 3 disabled)" = true ] && [ "$(report qos_latency_us)" = 50 ] && [ "$(report frozen)" = false ]'
	us=$(ctl -j pm status "$vm" | python3 -c 'import json,sys
print(json.load(sys.stdin).get("migration_to_enabled_usec", ""))')
	echo "# migration $((k + 1)): completed -> states enabled: $us us"
	times="$times $us"
	kill "$prev_pid"
	prev=$vm prev_pid=$pid prev_side=hop$k
done
# Every migration's time, then the summary bench/pm/bench_pm.sh prints.
python3 - $times <<'EOP'
import statistics, sys
t = sorted(int(x) for x in sys.argv[1:] if x.isdigit())
if t:
    print("# migration completed -> states enabled over %d migrations (us):" % len(t),
          "median %d min %d max %d stdev %d" % (statistics.median(t), t[0], t[-1],
          statistics.pstdev(t)), "all", " ".join(map(str, t)))
EOP

echo "1..$n"
[ "$failed" -eq 0 ]
