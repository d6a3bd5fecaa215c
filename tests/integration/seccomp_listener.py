#!/usr/bin/env python3
"""A minimal seccomp agent for the SCMP_ACT_NOTIFY tests.

seccomp_listener.py [--answer ERRNO] [--max N] SOCKET OUTPUT

Listens on the unix socket SOCKET (SOCKET.ready appears once it does),
accepts one connection from the runtime and receives the container process
state (JSON) with the seccomp notify fd (SCM_RIGHTS).  It writes OUTPUT as
JSON: {"state": <what was received>, "nfds": <fds received>,
       "notifications": [<syscall numbers seen>]}.

Without --answer it closes the fd at once: the kernel then fails the
notified syscalls with ENOSYS.  With --answer ERRNO it answers up to N
notifications (default 16) with -ERRNO (0: success, return value 0) until
the container exits, then writes OUTPUT.
"""

import argparse
import array
import fcntl
import json
import os
import select
import socket
import struct
import sys

# linux/seccomp.h: _IOWR('!', 0, struct seccomp_notif) and
# _IOWR('!', 1, struct seccomp_notif_resp).
NOTIF_SIZE = 80  # id u64, pid u32, flags u32, seccomp_data (64 bytes)
RESP_SIZE = 24  # id u64, val s64, error s32, flags u32


def iowr(nr, size):
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


SECCOMP_IOCTL_NOTIF_RECV = iowr(0, NOTIF_SIZE)
SECCOMP_IOCTL_NOTIF_SEND = iowr(1, RESP_SIZE)


def receive(conn):
    fds = array.array("i")
    data = b""
    nfds = 0
    while True:
        msg, anc, _flags, _addr = conn.recvmsg(65536, socket.CMSG_SPACE(16 * fds.itemsize))
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                got = array.array("i")
                got.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
                fds.extend(got)
                nfds += len(got)
        if not msg:
            break
        data += msg
    return data, list(fds), nfds


def answer(fd, errno_, limit):
    seen = []
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    while len(seen) < limit:
        events = poller.poll(30000)
        if not events:
            break
        if any(ev & (select.POLLHUP | select.POLLERR) for _fd, ev in events):
            break
        buf = bytearray(NOTIF_SIZE)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_RECV, buf, True)
        except OSError:
            break
        notif_id, _pid, _flags, nr = struct.unpack_from("=QIIi", buf)
        seen.append(nr)
        resp = struct.pack("=QqiI", notif_id, 0, -errno_, 0)
        try:
            fcntl.ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, bytearray(resp), True)
        except OSError:
            # The task may have died meanwhile (ENOENT).
            pass
    return seen


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--answer", type=int, default=None)
    ap.add_argument("--max", type=int, default=16)
    ap.add_argument("socket")
    ap.add_argument("output")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    srv.listen(1)
    with open(args.socket + ".ready", "w") as f:
        f.write("ready\n")
    conn, _ = srv.accept()
    data, fds, nfds = receive(conn)
    conn.close()
    srv.close()

    out = {"nfds": nfds, "notifications": []}
    try:
        out["state"] = json.loads(data.decode())
    except ValueError:
        out["state"] = None
        out["raw"] = data.decode(errors="replace")
    if fds:
        if args.answer is not None:
            out["notifications"] = answer(fds[0], args.answer, args.max)
        for fd in fds:
            os.close(fd)
    tmp = args.output + ".tmp"
    with open(tmp, "w") as f:
        json.dump(out, f)
    os.rename(tmp, args.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
