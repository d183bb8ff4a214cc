#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Account the host CPU of a QEMU process's threads per benchmark phase.

usage: qemu-threads.py PID PHASE_FILE OUT

The guest side of bench/poll writes "CONFIG ROUND" to PHASE_FILE (a 9p
share) while a configuration is measured and "-" between. For each phase
this writes one line to OUT: the configuration, the round, and for the
vCPU threads ("CPU n/TCG", named by -name debug-threads=on) and QEMU's main
loop (the thread that runs the hub and virtio-net's backend under TCG) the
share of wall time each ran and waited on a host run queue, from
/proc/PID/task/TID/schedstat (run ns, run-queue wait ns, timeslices).
"""
import os
import sys
import time


def threads(pid):
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                run, wait, _ = (int(x) for x in f.read().split())
        except (OSError, ValueError):
            continue
        if tid == str(pid):
            key = "main"
        elif comm.startswith("CPU ") and comm.endswith("/TCG"):
            key = "vcpu" + comm.split()[1].split("/")[0]
        else:
            key = "other"
        run0, wait0 = out.get(key, (0, 0))
        out[key] = (run0 + run, wait0 + wait)
    return out


def read_phase(path):
    try:
        with open(path) as f:
            return f.read().strip() or "-"
    except OSError:
        return "-"


def main():
    pid, phase_file, out_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    keys = ("vcpu0", "vcpu1", "main", "other")
    cur, start, t0 = "-", None, 0.0
    with open(out_file, "w") as out:
        while os.path.exists(f"/proc/{pid}"):
            ph = read_phase(phase_file)
            if ph != cur:
                now, snap = time.monotonic(), threads(pid)
                if cur != "-" and start is not None:
                    wall = (now - t0) * 1e9
                    cols = []
                    for k in keys:
                        r1, w1 = snap.get(k, (0, 0))
                        r0, w0 = start.get(k, (0, 0))
                        cols += [f"{100 * (r1 - r0) / wall:.1f}",
                                 f"{100 * (w1 - w0) / wall:.1f}"]
                    print(cur, *cols, file=out, flush=True)
                cur, start, t0 = ph, snap, now
            time.sleep(0.02)


if __name__ == "__main__":
    main()
