#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Stand-in for systemd's notify socket: bind an AF_UNIX datagram socket at
argv[1], then print every sd_notify() message received, one per line,
until argv[2] seconds have passed."""
import os
import socket
import sys
import time

path, secs = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".ready", "w").close()
end = time.monotonic() + secs
while True:
    left = end - time.monotonic()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        msg = s.recv(4096)
    except socket.timeout:
        break
    for line in msg.decode().splitlines():
        print(line, flush=True)
os.unlink(path)
