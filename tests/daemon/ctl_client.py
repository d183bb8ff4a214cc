#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Raw client of hvxd's control socket, for tests that send what hvxctl
never would. Usage: ctl_client.py SOCKET MODE; prints the daemon's answer
(one JSON object per line) and exits 0, or 1 when the connection broke
before an answer. MODE: garbage, oversized, truncated, pipeline, badreq."""
import json
import socket
import struct
import sys


def frame(payload):
    return struct.pack(">I", len(payload)) + payload


def read_replies(s, n):
    buf = b""
    out = []
    while len(out) < n:
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 4:
            (ln,) = struct.unpack(">I", buf[:4])
            if len(buf) < 4 + ln:
                break
            out.append(json.loads(buf[4:4 + ln]))
            buf = buf[4 + ln:]
    return out


def main():
    path, mode = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    want = 1
    if mode == "garbage":
        s.sendall(frame(b"this is not json"))
    elif mode == "oversized":
        s.sendall(struct.pack(">I", 64 << 20))
    elif mode == "truncated":
        s.sendall(frame(b'{"method":"core.status"}')[:10])
        s.shutdown(socket.SHUT_WR)
        want = 0
    elif mode == "pipeline":
        req = frame(json.dumps({"method": "core.status"}).encode())
        s.sendall(req * 3)
        want = 3
    elif mode == "badreq":
        s.sendall(frame(b'{"method":"core.status","params":[1]}'))
    else:
        sys.exit(2)
    replies = read_replies(s, want)
    for r in replies:
        print(json.dumps(r))
    if want == 0:
        # The daemon must close without answering a cut-off request.
        sys.exit(0 if not replies and s.recv(1) == b"" else 1)
    sys.exit(0 if len(replies) == want else 1)


main()
