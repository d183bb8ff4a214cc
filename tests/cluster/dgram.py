#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Hostile peers for the cluster tests, written independently of the C codec.

  dgram.py garbage ADDR PORT          random, oversized, wrong-version, truncated
  dgram.py replay ADDR PORT           a valid discover, sent twice: 1 answer expected
  dgram.py spoof PORT SECONDS         a manager without the token: answers every
                                      discover with ADMIT and a made-up proof
Exit 0 when the peer behaved as expected, 1 otherwise.
"""
import hashlib
import hmac
import os
import socket
import struct
import sys
import time

MAGIC = b"HVXC"
DISCOVER, ANSWER = 1, 2
A_HOST_ID, A_NONCE, A_TOKEN_ID, A_HOSTNAME = 1, 2, 3, 4
A_MEMORY_MB = 7
A_CLUSTER_ID, A_FINGERPRINT, A_TLS_PORT, A_STATUS = 10, 11, 12, 13
A_MANAGER, A_PROOF = 15, 16


def attr(t, v):
    return struct.pack(">HH", t, len(v)) + v


def datagram(mtype, attrs, version=1):
    body = b"".join(attrs)
    return MAGIC + struct.pack(">BBH", version, mtype, 8 + len(body)) + body


def discover(host_id, nonce, token_id=b"abcdef"):
    return datagram(DISCOVER, [attr(A_HOST_ID, host_id), attr(A_NONCE, nonce),
                               attr(A_TOKEN_ID, token_id),
                               attr(A_HOSTNAME, b"replayer"),
                               attr(A_MEMORY_MB, struct.pack(">Q", 1024))])


def sock_for(addr):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.settimeout(0.5)
    return s


def garbage(addr, port):
    s = sock_for(addr)
    good = discover(os.urandom(16), os.urandom(16))
    sent = [os.urandom(64), os.urandom(1), b"",
            os.urandom(2000),                         # oversized
            good[:4] + b"\x07" + good[5:],            # wrong version
            good[:-3],                                # truncated
            good[:8] + attr(999, b"x") + good[8:]]    # unknown attribute
    for d in sent:
        s.sendto(d, (addr, port))
    try:
        data, _ = s.recvfrom(2048)
        print("# got an answer to garbage: %r" % data[:16])
        return 1
    except socket.timeout:
        return 0


def replay(addr, port):
    s = sock_for(addr)
    d = discover(os.urandom(16), os.urandom(16))
    answers = 0
    for _ in range(2):
        s.sendto(d, (addr, port))
        try:
            s.recvfrom(2048)
            answers += 1
        except socket.timeout:
            pass
    print("# %d answer(s) to the same discover sent twice" % answers)
    return 0 if answers == 1 else 1


def parse(data):
    out, off = {}, 8
    while off + 4 <= len(data):
        t, l = struct.unpack(">HH", data[off:off + 4])
        out[t] = data[off + 4:off + 4 + l]
        off += 4 + l
    return out


def spoof(port, seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port))
    s.settimeout(0.2)
    end, n = time.time() + seconds, 0
    while time.time() < end:
        try:
            data, src = s.recvfrom(2048)
        except socket.timeout:
            continue
        if len(data) < 8 or data[5] != DISCOVER:
            continue
        a = parse(data)
        if A_HOST_ID not in a or A_NONCE not in a:
            continue
        ans = datagram(ANSWER, [attr(A_HOST_ID, a[A_HOST_ID]), attr(A_NONCE, a[A_NONCE]),
                                attr(A_CLUSTER_ID, os.urandom(16)),
                                attr(A_FINGERPRINT, hashlib.sha256(b"spoofer").digest()),
                                attr(A_TLS_PORT, struct.pack(">H", 7471)),
                                attr(A_STATUS, b"\x00"), attr(A_MANAGER, b"spoofer")])
        # A proof needs the token secret; the spoofer can only guess.
        hdr_len = len(ans) + 4 + 32
        ans = ans[:6] + struct.pack(">H", hdr_len) + ans[8:]
        mac = hmac.new(b"not-the-secret!!", ans, hashlib.sha256).digest()
        s.sendto(ans + attr(A_PROOF, mac), src)
        n += 1
    print("# spoofer answered %d discover(s)" % n)
    return 0 if n else 1


def main():
    cmd = sys.argv[1]
    if cmd == "garbage":
        return garbage(sys.argv[2], int(sys.argv[3]))
    if cmd == "replay":
        return replay(sys.argv[2], int(sys.argv[3]))
    if cmd == "spoof":
        return spoof(int(sys.argv[2]), float(sys.argv[3]))
    print(__doc__)
    return 2


sys.exit(main())
