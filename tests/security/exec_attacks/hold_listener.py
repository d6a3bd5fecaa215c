#!/usr/bin/env python3
"""A seccomp agent that holds one process still (for the CVE-2016-9962 test).

hold_listener.py SOCKET RELEASE_FILE

Accepts connections on SOCKET (SOCKET.ready appears once it listens); each
brings a notify fd.  Notifications on the first fd (the container's init)
are let through at once; the first notification on any later fd (a process
of `nook exec`) is held until RELEASE_FILE exists, then let through too, so
that process sits inside its set-up for as long as the test needs.
"""
import array
import fcntl
import os
import select
import socket
import struct
import sys
import time

NOTIF_SIZE = 80
RESP_SIZE = 24
FLAG_CONTINUE = 1


def iowr(nr, size):
    return (3 << 30) | (size << 16) | (ord("!") << 8) | nr


RECV = iowr(0, NOTIF_SIZE)
SEND = iowr(1, RESP_SIZE)


def answer(fd, nid):
    resp = struct.pack("=QqiI", nid, 0, 0, FLAG_CONTINUE)
    fcntl.ioctl(fd, SEND, bytearray(resp))


def main():
    path, release = sys.argv[1], sys.argv[2]
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(4)
    with open(path + ".ready", "w") as f:
        f.write("ready\n")
    fds = []  # [fd, index]
    held = None
    deadline = time.time() + 60
    while time.time() < deadline:
        rl = [srv] + [f for f, _ in fds]
        r, _, _ = select.select(rl, [], [], 0.05)
        if held and os.path.exists(release):
            answer(*held)
            held = None
        for s in r:
            if s is srv:
                conn, _ = srv.accept()
                fdarr = array.array("i")
                _, anc, _, _ = conn.recvmsg(65536, socket.CMSG_SPACE(4))
                for lvl, typ, data in anc:
                    if lvl == socket.SOL_SOCKET and typ == socket.SCM_RIGHTS:
                        fdarr.frombytes(data[:4])
                conn.close()
                if fdarr:
                    fds.append((fdarr[0], len(fds)))
                continue
            idx = [i for f, i in fds if f == s][0]
            buf = bytearray(NOTIF_SIZE)
            try:
                fcntl.ioctl(s, RECV, buf)
            except OSError:
                fds = [(f, i) for f, i in fds if f != s]
                continue
            nid = struct.unpack_from("=Q", buf, 0)[0]
            if idx > 0 and held is None and not os.path.exists(release):
                held = (s, nid)
                with open(release + ".held", "w") as f:
                    f.write("held\n")
            else:
                answer(s, nid)


main()
