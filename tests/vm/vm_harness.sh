#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Self-test of the VM harness (scripts/vm, scripts/vm-init), run inside the
# VM by tests/run-vm: the root, the shares and the API filesystems are what
# the other tests rely on.
# shellcheck disable=SC2317 # the checks are called through check()
set -uo pipefail

n=0 fail=0
check() {
	local desc=$1
	shift
	n=$((n + 1))
	if "$@" >/dev/null 2>&1; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc"
		fail=1
	fi
}

fstype() {
	awk -v m="$1" '$2 == m { t = $3 } END { print t }' /proc/mounts
}
is_fs() {
	[ "$(fstype "$1")" = "$2" ]
}
root_lower_ro() {
	grep -E '^hostroot .* 9p (ro,|.*,ro,)' /proc/mounts
}
root_writable_not_host() {
	local f
	f=/etc/hvx-vm-harness.$$
	echo x >"$f" && [ "$(cat "$f")" = x ] && rm "$f"
}
repo_visible() {
	local repo
	repo=$(cd "$(dirname "$0")/../.." && pwd -P)
	[ -f "$repo/Makefile" ] && [ -x "$repo/scripts/vm" ] && [ "$repo" = "$(pwd -P)" ]
}
kvm_works() {
	modprobe kvm_amd && [ -c /dev/kvm ] &&
		python3 -c 'import fcntl, os
fd = os.open("/dev/kvm", os.O_RDWR)
assert fcntl.ioctl(fd, 0xae00) == 12	# KVM_GET_API_VERSION'
}
init_is() {
	[ "$(cat /proc/1/comm)" = "$1" ]
}
hvxd_ready() {
	! systemctl cat hvxd.service || systemctl is-active hvxd.service
}
systemd_ready() {
	init_is systemd && hvxd_ready
}
harness_init() {
	init_is sh || init_is dash || init_is bash
}
status_share_rw() {
	touch /run/hvx/xfer/harness.$$ && rm /run/hvx/xfer/harness.$$
}

echo "TAP version 13"
echo "1..14"
check "root is an overlay" is_fs / overlay
check "host root mounted read-only over 9p" root_lower_ro
check "root is writable (tmpfs upper)" root_writable_not_host
check "repo visible at its host path, cwd is the repo root" repo_visible
check "host tools run (make, cc)" sh -c 'make --version && cc --version'
check "/proc is procfs" is_fs /proc proc
check "/sys is sysfs" is_fs /sys sysfs
check "/dev is devtmpfs" is_fs /dev devtmpfs
check "debugfs at /sys/kernel/debug" is_fs /sys/kernel/debug debugfs
check "/tmp is tmpfs" is_fs /tmp tmpfs
check "/run is tmpfs" is_fs /run tmpfs
check "status share writable" status_share_rw
check "kvm_amd loads and /dev/kvm answers KVM_GET_API_VERSION" kvm_works
if [ "${HVX_VM_MODE:-}" = systemd ]; then
	check "systemd is PID 1 and hvxd (when installed) is active" systemd_ready
else
	check "PID 1 is the harness's init (busybox mode)" harness_init
fi
exit $fail
