#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PM negotiation benchmark: a real hvxd, bench_pm playing 1, 64 and 1024
# agents on unix sockets (each keeps one pm.negotiate in flight), then the
# time from migration completed to states enabled in the real-migration
# test (tests/pm/host_pm_migrate.sh, QEMU; skipped without it, or with
# --no-migration). Prints a markdown table.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}
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
for n in 1 64 1024; do
	$B/bench/pm/bench_pm -d "$T/pm" -S "$T/hvxd.sock" -n "$n" -t "$SECONDS_PER_RUN" || rc=1
done
if [ "${1:-}" != --no-migration ]; then
	mig=$(tests/pm/host_pm_migrate.sh 2>/dev/null |
	      sed -n 's/^# migration completed -> states enabled: \([0-9]*\) us$/\1/p')
	echo
	if [ -n "$mig" ]; then
		echo "Real QEMU live migration: MIGRATION completed (QEMU's event timestamp) -> states enabled in the guest: $((mig / 1000)).$(((mig % 1000) / 100)) ms"
	else
		echo "Real QEMU live migration: not measured (tests/pm/host_pm_migrate.sh skipped or failed)"
	fi
fi
exit $rc
