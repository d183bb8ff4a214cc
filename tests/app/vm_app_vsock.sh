#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The production transport, AF_VSOCK, in the VM through the loopback
# transport (vsock_loopback: every connection comes from CID 1): hvxd asks
# hvx-primary over vsock, and serves a guest identified by its CID. The
# guest's VM is the one configured for its CID, whatever it claims.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
HVXD=$B/hvxd PRIMARY=$B/hvx-primary AGENT=$B/hvx-app-agent CTL=$B/hvxctl
PPORT=7301 GPORT=7302

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

echo "TAP version 13"
for bin in $HVXD $PRIMARY $AGENT $CTL; do
	[ -x "$bin" ] || { echo "1..0 # SKIP $bin not built"; exit 4; }
done
if ! modprobe vsock_loopback 2>/dev/null; then
	echo "1..0 # SKIP no vsock_loopback module (vsock tests run in the VM)"
	exit 4
fi

T=$(mktemp -d /var/tmp/hvx-appvsock.XXXXXX)
chmod 755 "$T"
primary_pid="" hvxd_pid=""
cleanup() {
	[ -n "$hvxd_pid" ] && kill "$hvxd_pid" 2>/dev/null
	[ -n "$primary_pid" ] && kill "$primary_pid" 2>/dev/null
	[ -f "$T/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
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
primary = vsock:1:$PPORT
guest_dir = $T/guest
guests = local@1
vsock_port = $GPORT
share_dir = $T/share
store_dir = $T/store
launcher = exec
EOC
mkdir -p "$T/share/local"
printf '#!/bin/sh\nexec sleep 600\n' >"$T/share/local/sleeper.sh"

$PRIMARY --policy "$T/policy.json" --listen "vsock:$PPORT" 2>"$T/primary.log" &
primary_pid=$!
sleep 0.5
$HVXD -c "$T/hvxd.conf" 2>"$T/hvxd.log" &
hvxd_pid=$!
for _ in $(seq 50); do grep -q 'vsock port' "$T/hvxd.log" && break; sleep 0.1; done

echo "1..5"
check "hvxd listens for vsock guests" grep -q "vsock port $GPORT" "$T/hvxd.log"
$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 1 --vm local \
	"$T/share/local/sleeper.sh" >"$T/m.json"
out=$($AGENT --socket "vsock:1:$GPORT" install "$T/m.json" sleeper.sh)
echo "# $out"
pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$out")
[ -n "$pid" ] && echo "$pid" >>"$T/pids"
check "install over vsock, key from the primary over vsock: launched" \
	test -n "$pid" -a -d "/proc/$pid"
$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 1 --vm other \
	"$T/share/local/sleeper.sh" >"$T/other.json"
out=$($AGENT --socket "vsock:1:$GPORT" install "$T/other.json" sleeper.sh)
check "CID 1 is vm 'local': a manifest for vm 'other' is refused" \
	grep -q '"reason":"vm-not-permitted"' <<<"$out"
kill "$primary_pid"
wait "$primary_pid" 2>/dev/null
primary_pid=""
out=$($AGENT --socket "vsock:1:$GPORT" install "$T/m.json" sleeper.sh)
check "primary gone from vsock: refused, fail closed" \
	grep -q '"reason":"primary-unreachable"' <<<"$out"
check "app list shows the vsock guest's app" \
	grep -q "\"vm\":\"local\",\"app_id\":\"org.test.sleeper\"" <($CTL -S "$T/hvxd.sock" -j app list)

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
