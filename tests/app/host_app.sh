#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# App protection end to end on the host, no VM: a real hvx-primary and a
# real hvxd (app unit, fork/exec launcher) in a temporary directory, guests
# played by hvx-app-agent over unix sockets. Every rejection reason is
# provoked once and must come back with that exact reason.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${BUILD:-build}
HVXD=$B/hvxd PRIMARY=$B/hvx-primary AGENT=$B/hvx-app-agent CTL=$B/hvxctl

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else nok "$d"; fi; }

echo "TAP version 13"
for bin in $HVXD $PRIMARY $AGENT $CTL; do
	if [ ! -x "$bin" ]; then
		echo "1..0 # SKIP $bin not built"
		exit 4
	fi
done
if [ "$(id -u)" -ne 0 ] || ! id nobody >/dev/null 2>&1; then
	echo "1..0 # SKIP needs root and a 'nobody' user (the launcher drops to it)"
	exit 4
fi

# hvxd.service runs with UMask=0077: so do we, so that the store still
# comes out traversable for the apps' users.
umask 077
T=$(mktemp -d /tmp/hvx-app-host.XXXXXX)
# The launched apps run as nobody and must reach the store.
chmod 755 "$T"
primary_pid="" hvxd_pid=""
cleanup() {
	[ -n "$hvxd_pid" ] && kill "$hvxd_pid" 2>/dev/null
	[ -n "$primary_pid" ] && kill "$primary_pid" 2>/dev/null
	wait 2>/dev/null
	# Apps outlive hvxd by design; ours end with the test.
	[ -f "$T/pids" ] && while read -r p; do kill "$p" 2>/dev/null; done <"$T/pids"
	if [ -n "${HVX_TEST_KEEP:-}" ]; then echo "# kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT

$CTL app keygen "$T/a.pem" >/dev/null
$CTL app keygen "$T/b.pem" >/dev/null
pub_a=$($CTL -j app pubkey "$T/a.pem" | sed 's/.*"public":"\([0-9a-f]*\)".*/\1/')
pub_b=$($CTL -j app pubkey "$T/b.pem" | sed 's/.*"public":"\([0-9a-f]*\)".*/\1/')
cat >"$T/policy.json" <<EOP
{"keys": [{"name": "release", "public": "$pub_a"},
          {"name": "other", "public": "$pub_b"}],
 "apps": [{"app_id": "org.test.sleeper", "min_version": 2, "keys": ["release"]},
          {"app_id": "org.test.other", "min_version": 1, "keys": ["other"]}]}
EOP
cat >"$T/hvxd.conf" <<EOC
[daemon]
socket = $T/hvxd.sock
[app]
enabled = yes
primary = unix:$T/primary.sock
primary_timeout = 1s
guest_dir = $T/guest
guests = vm1 vm2
share_dir = $T/share
store_dir = $T/store
launcher = exec
user = nobody
EOC
mkdir -p "$T/share/vm1" "$T/share/vm2"
# The shell stays, so /proc/PID/cmdline shows which file it runs.
printf '#!/bin/sh\ntrap '"'"'kill $! 2>/dev/null; exit 0'"'"' TERM\nsleep 600 &\nwait\n' \
	>"$T/share/vm1/sleeper.sh"
cp "$T/share/vm1/sleeper.sh" "$T/share/vm2/sleeper.sh"

start_primary() {
	rm -f "$T/primary.sock"
	$PRIMARY --policy "$T/policy.json" --state "$T/state.json" \
		--listen "unix:$T/primary.sock" 2>>"$T/primary.log" &
	primary_pid=$!
	for _ in $(seq 50); do [ -S "$T/primary.sock" ] && return 0; sleep 0.1; done
	return 1
}
start_primary
$HVXD -c "$T/hvxd.conf" 2>"$T/hvxd.log" &
hvxd_pid=$!
for _ in $(seq 50); do [ -S "$T/guest/vm2.sock" ] && break; sleep 0.1; done

sign() { # VERSION OUT [extra sign args]
	local v=$1 out=$2
	shift 2
	$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version "$v" \
		--vm vm1 --arg 1 "$@" "$T/share/vm1/sleeper.sh" >"$out"
}
agent() { # VM install|verify MANIFEST PAYLOAD
	$AGENT --socket "unix:$T/guest/$1.sock" "$2" "$3" "$4" 2>&1
}
# The reason hvxd gave: the agent prints its reply as one JSON line.
reason() { sed -n 's/.*"reason":"\([a-z-]*\)".*/\1/p' <<<"$1"; }
expect() { # DESC WANT VM OP MANIFEST PAYLOAD
	local out got
	out=$(agent "$3" "$4" "$5" "$6")
	got=$(reason "$out")
	if [ "$got" = "$2" ]; then
		ok "$1: $2"
		echo "#   $out"
	else
		nok "$1: want $2, got ${got:-nothing} ($out)"
	fi
}

echo "1..30"
if ! test -S "$T/guest/vm1.sock"; then
	echo "Bail out! hvxd did not open the guest channels"
	sed 's/^/# /' "$T/hvxd.log"
	exit 1
fi
ok "hvxd and hvx-primary are up"
# jansson and json-c both export json_object_get: hvxd and hvxctl must
# bind it (and json_object_iter_next) to json-c, which lib/ calls.
binds_jsonc() {
	! nm -D --undefined-only "$HVXD" "$CTL" |
		grep -E ' json_object_(get|iter_next)(@|$)' | grep -qv JSONC
}
check "json_object_get binds to json-c in hvxd and hvxctl" binds_jsonc

sign 2 "$T/v2.json"
sign 3 "$T/v3.json"
out=$(agent vm1 install "$T/v2.json" sleeper.sh)
pid=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$out")
echo "$pid" >>"$T/pids"
check "install v2: accepted with a pid ($out)" test "$(reason "$out")" = ok -a -n "$pid"
sleep 0.3
sha=$(sha256sum "$T/share/vm1/sleeper.sh" | cut -d' ' -f1)
cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
check "the app runs, from the verified copy in the store ($cmdline)" \
	test "$cmdline" = "/bin/sh $T/store/$sha 1 "
runs_as_nobody() {
	grep -q "^Uid:[[:space:]]*$(id -u nobody)[[:space:]]" "/proc/$1/status" &&
		grep -q "^NoNewPrivs:[[:space:]]*1" "/proc/$1/status"
}
check "the app runs as nobody, with no_new_privs" runs_as_nobody "$pid"
list=$($CTL -S "$T/hvxd.sock" -j app list)
check "app list -j shows it running with its pid" \
	grep -q "\"app_id\":\"org.test.sleeper\",\"version\":2,.*\"pid\":$pid,.*\"state\":\"running\"" <<<"$list"
check "the store file is read-only" test "$(stat -c %a "$T/store/$sha")" = 555

# Forged: the version changed after signing.
sed 's/"version": 3/"version": 9/' "$T/v3.json" >"$T/forged.json"
expect "forged manifest" bad-signature vm1 install "$T/forged.json" sleeper.sh
$CTL app sign --key "$T/b.pem" --app-id org.test.sleeper --version 3 --vm vm1 \
	"$T/share/vm1/sleeper.sh" >"$T/wrongkey.json"
expect "signed by a key not trusted for this app" unknown-key vm1 install "$T/wrongkey.json" sleeper.sh
$CTL app keygen "$T/c.pem" >/dev/null
$CTL app sign --key "$T/c.pem" --app-id org.test.sleeper --version 3 --vm vm1 \
	"$T/share/vm1/sleeper.sh" >"$T/unknown.json"
expect "signed by an unknown key" unknown-key vm1 install "$T/unknown.json" sleeper.sh
# Same size, one byte changed: only the digest can tell.
sed 's/600/601/' "$T/share/vm1/sleeper.sh" >"$T/share/vm1/swapped.sh"
expect "swapped payload" hash-mismatch vm1 install "$T/v3.json" swapped.sh
sign 3 "$T/expired.json" --expires-at 1000
expect "expired manifest" expired vm1 install "$T/expired.json" sleeper.sh
$CTL app sign --key "$T/a.pem" --app-id org.test.unlisted --version 1 --vm vm1 \
	"$T/share/vm1/sleeper.sh" >"$T/unlisted.json"
expect "app not on the allowlist" not-allowlisted vm1 install "$T/unlisted.json" sleeper.sh
expect "manifest for vm1 sent on vm2's channel" vm-not-permitted vm2 install "$T/v3.json" sleeper.sh
expect "payload path escaping the VM's share" payload-unreadable vm1 install "$T/v3.json" ../vm2/sleeper.sh
sign 1 "$T/v1.json"
expect "version below the allowlist's minimum" rolled-back vm1 install "$T/v1.json" sleeper.sh

expect "upgrade to v3" ok vm1 install "$T/v3.json" sleeper.sh
expect "replayed v2 manifest after v3" rolled-back vm1 install "$T/v2.json" sleeper.sh

# hvxctl app verify gives a human the same verdicts, offline or via the primary.
msg=$($CTL app verify "$T/v2.json" --primary "unix:$T/primary.sock" 2>&1)
rc=$?
check "hvxctl app verify --primary: v2 rolled-back, exit 1 ($msg)" \
	test $rc = 1 -a "${msg#*: rolled-back: }" != "$msg"
check "hvxctl app verify --key --payload --vm: v3 valid" \
	"$CTL" app verify "$T/v3.json" --key "$T/a.pem" --payload "$T/share/vm1/sleeper.sh" --vm vm1

kill "$primary_pid"
wait "$primary_pid" 2>/dev/null
primary_pid=
expect "primary down: fail closed" primary-unreachable vm1 install "$T/v3.json" sleeper.sh
# A primary that accepts and never answers: the request waits at most
# primary_timeout, and hvxd keeps serving everything else meanwhile.
python3 - "$T/primary.sock" <<'EOPY' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(8)
held = []
while True:
    held.append(s.accept()[0])
EOPY
hung_pid=$!
for _ in $(seq 50); do [ -S "$T/primary.sock" ] && break; sleep 0.1; done
agent vm1 install "$T/v3.json" sleeper.sh >"$T/hung.out" &
hung_agent=$!
sleep 0.3
t0=$(date +%s%N)
$CTL -S "$T/hvxd.sock" -j app list >/dev/null
t1=$(date +%s%N)
check "hvxd answers app list in $(( (t1 - t0) / 1000000 ))ms while a request waits for a hung primary" \
	test $(( (t1 - t0) / 1000000 )) -lt 500
wait "$hung_agent"
check "hung primary: refused after primary_timeout ($(cat "$T/hung.out"))" \
	grep -q '"reason":"primary-unreachable","detail":"primary .*: no answer within 1000ms"' "$T/hung.out"
kill "$hung_pid"
wait "$hung_pid" 2>/dev/null

start_primary
expect "primary back: the v3 floor survived its restart" rolled-back vm1 install "$T/v2.json" sleeper.sh

# Concurrent installs from both guests.
sign 4 "$T/v4.json"
$CTL app sign --key "$T/a.pem" --app-id org.test.sleeper --version 4 --vm vm1 --vm vm2 \
	"$T/share/vm1/sleeper.sh" >"$T/v4both.json"
agents=()
for i in $(seq 8); do
	vm=vm$(( (i % 2) + 1 ))
	agent "$vm" install "$T/v4both.json" sleeper.sh >"$T/conc.$i" &
	agents+=($!)
done
wait "${agents[@]}"
sleep 0.2
good=0
for i in $(seq 8); do
	r=$(cat "$T/conc.$i")
	p=$(sed -n 's/.*"pid":\([0-9]*\).*/\1/p' <<<"$r")
	[ -n "$p" ] && echo "$p" >>"$T/pids"
	[ "$(reason "$r")" = ok ] && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && good=$((good + 1))
done
check "8 concurrent installs from 2 guests: all accepted and running ($good/8)" test "$good" = 8

kill "$pid"
sleep 0.3
list=$($CTL -S "$T/hvxd.sock" -j app list)
check "app list notices an app that exited" \
	grep -q "\"version\":2,[^}]*\"pid\":$pid,[^}]*\"state\":\"exited\"" <<<"$list"
logged() {
	local r
	for r in bad-signature unknown-key hash-mismatch expired not-allowlisted \
		vm-not-permitted payload-unreadable rolled-back primary-unreachable; do
		grep -q "refused: $r: " "$T/hvxd.log" || return 1
	done
}
check "every refusal is logged with its reason" logged

# Raw guest messages: malformed requests get bad-request and the connection
# stays usable; a guest cannot hold more than 16 connections open.
raw_guest() {
	python3 - "$T/guest/vm1.sock" "$T/v4both.json" <<'EOPY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
manifest = open(sys.argv[2]).read()
out = []
for raw in [b'{"op": "verify", "op": "install"}', b'[1, 2]', b'\xff\xfe',
            json.dumps({"op": "verify", "app_id": "org.test.sleeper",
                        "manifest": manifest, "payload": "sleeper.sh",
                        "extra": 1}).encode(),
            json.dumps({"op": "verify", "app_id": "org.test.sleeper",
                        "manifest": manifest, "payload": "sleeper.sh"}).encode()]:
    s.send(raw)
    out.append(json.loads(s.recv(65536))["reason"])
print(" ".join(out))
EOPY
}
got=$(raw_guest 2>&1)
check "malformed requests: bad-request, then the same connection works ($got)" \
	test "$got" = "bad-request bad-request bad-request bad-request ok"
conn_limit() {
	python3 - "$T/guest/vm1.sock" <<'EOPY'
import socket, sys, time
time.sleep(0.2)  # let hvxd see the earlier connections go
conns = []
for i in range(17):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.connect(sys.argv[1])
    s.settimeout(2)
    conns.append(s)
def answers(s):
    try:
        s.send(b'{}')
        return b'bad-request' in s.recv(1000)
    except OSError:
        return False
print(" ".join("y" if answers(s) else "n" for s in conns))
EOPY
}
got=$(conn_limit 2>&1)
check "the 17th connection of a guest is closed, the others work ($got)" \
	test "$got" = "y y y y y y y y y y y y y y y y n"

# Config errors are caught before anything starts.
sed 's/^guests = .*/guests = vm1 vm2@2/' "$T/hvxd.conf" >"$T/bad.conf"
msg=$($HVXD --test -c "$T/bad.conf" 2>&1)
check "a guest with a reserved CID is a config error ($msg)" \
	grep -q 'bad.conf:.*vm2@2' <<<"$msg"

echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
