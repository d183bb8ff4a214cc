#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PM negotiation benchmark: a real hvxd, bench_pm playing 1, 64 and 1024
# agents on unix sockets (each keeps one pm.negotiate in flight), then the
# time from migration completed to states enabled over MIGRATIONS (default
# 10) real QEMU live migrations of one guest, hop after hop, in the
# real-migration test (tests/pm/host_pm_migrate.sh, which takes the VM lock;
# skipped without QEMU, or with --no-migration). Prints markdown tables.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
MIGRATIONS=${MIGRATIONS:-10}
[[ $MIGRATIONS =~ ^[1-9][0-9]*$ ]] || { echo "bench_pm.sh: MIGRATIONS=$MIGRATIONS: want >= 1" >&2; exit 2; }
for bin in $B/hvxd $B/bench/pm/bench_pm; do
	[ -x "$bin" ] || { echo "bench_pm.sh: $bin not built (make user)" >&2; exit 1; }
done
T=$(mktemp -d /tmp/hvx-pm-bench.XXXXXX)
hvxd_pid=""
cleanup() {
	[ -n "$hvxd_pid" ] && kill "$hvxd_pid" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/pm"
cat >"$T/hvxd.conf" <<EOC
[daemon]
socket = $T/hvxd.sock
log_level = notice
max_clients = 4096
[core]
log_events = no
[app]
enabled = no
[cluster]
enabled = no
[pm]
socket_dir = $T/pm
cstates = C1:1:1:1000:ffh, C2:2:50:500:io@0x514, C3:3:150:100:io@0x515
EOC
# hvxd raises its own soft limit to max_open_files; the hard limit must allow it.
ulimit -Hn 1048576 2>/dev/null || ulimit -Hn "$(ulimit -Hn)"
$B/hvxd -c "$T/hvxd.conf" 2>"$T/hvxd.log" &
hvxd_pid=$!
for _ in $(seq 50); do [ -S "$T/hvxd.sock" ] && break; sleep 0.1; done

echo "PM negotiation through hvxd (FREEZE/FROZEN/TABLE/ACK/ENABLE/ENABLED per round), $(nproc) CPUs, ${SECONDS_PER_RUN}s per row"
echo
echo "| agents | rounds | failed | p50 (us) | p99 (us) | negotiations/s |"
echo "|---:|---:|---:|---:|---:|---:|"
rc=0
# 1024 agents keep both cores busy: hold the VM lock meanwhile, so that no
# VM (latency benchmarks run there) shares the machine with them.
exec 9>/tmp/hvx-vm.lock
flock 9
for n in 1 64 1024; do
	$B/bench/pm/bench_pm -d "$T/pm" -S "$T/hvxd.sock" -n "$n" -t "$SECONDS_PER_RUN" || rc=1
done
exec 9>&-
# The agents' hvxd is done: the migration test runs its own.
kill "$hvxd_pid"
wait "$hvxd_pid" 2>/dev/null
hvxd_pid=""
if [ "${1:-}" != --no-migration ]; then
	echo
	echo "Real QEMU live migration (TCG, 256 MiB initramfs guest, hvx-guest-agent on virtio-serial): QEMU's MIGRATION completed event on the destination -> the guest's ENABLED at hvxd, over $MIGRATIONS migrations"
	echo
	HVX_PM_HOPS=$((MIGRATIONS - 1)) HVX_PM_LOCK_WAIT=${HVX_PM_LOCK_WAIT:-600} \
		tests/pm/host_pm_migrate.sh >"$T/migrate.tap" 2>&1
	mrc=$?
	sum=$(sed -n 's/^# migration completed -> states enabled over \([0-9]*\) migrations (us): median \([0-9]*\) min \([0-9]*\) max \([0-9]*\) stdev \([0-9]*\) all \(.*\)$/\1 \2 \3 \4 \5 \6/p' "$T/migrate.tap")
	if [ "$mrc" -eq 0 ] && [ -n "$sum" ]; then
		read -r cnt med min max sd all <<<"$sum"
		ms() { printf '%d.%d' $(($1 / 1000)) $((($1 % 1000) / 100)); }
		echo "| migrations | median (ms) | min (ms) | max (ms) | stdev (ms) |"
		echo "|---:|---:|---:|---:|---:|"
		echo "| $cnt | $(ms "$med") | $(ms "$min") | $(ms "$max") | $(ms "$sd") |"
		echo
		echo "each (us): $all"
	else
		echo "not measured: tests/pm/host_pm_migrate.sh exited $mrc:"
		grep -E '^(not ok|1\.\.0)' "$T/migrate.tap"
		[ "$mrc" -eq 4 ] || rc=1
	fi
fi
exit $rc
