#!/usr/bin/env python3
"""Console-socket receiver for terminal tests.

Listens on a unix socket, accepts one connection from the runtime, receives
the pty master through SCM_RIGHTS, writes --input into it, and copies
everything the container writes to its terminal into --output until the
terminal hangs up (all slave fds closed: read gives EIO) or --timeout passes.

--size ROWSxCOLS sets the terminal's size as soon as the master arrives;
--resize TEXT=ROWSxCOLS sets it again once the output holds TEXT (a
window resized while the process runs).

Creates SOCKET.ready once it listens, so a test can wait for it.  Writes the
name the runtime sent along with the fd (runc sends the pty's path) to
OUTPUT.name.
"""
import argparse
import array
import fcntl
import os
import select
import socket
import struct
import sys
import termios
import time


def set_size(master, size):
    rows, cols = (int(v) for v in size.split("x"))
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def recv_fd(conn):
    fds = array.array("i")
    msg, ancdata, _flags, _addr = conn.recvmsg(4096, socket.CMSG_SPACE(4 * fds.itemsize))
    for level, ctype, data in ancdata:
        if level == socket.SOL_SOCKET and ctype == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - (len(data) % fds.itemsize)])
    if not fds:
        raise SystemExit("recvtty: no fd received")
    for extra in fds[1:]:
        os.close(extra)
    return fds[0], msg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("socket")
    ap.add_argument("--output", required=True)
    ap.add_argument("--input", default="")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--size", default="")
    ap.add_argument("--resize", default="")
    args = ap.parse_args()

    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(args.socket)
    srv.listen(1)
    with open(args.socket + ".ready", "w") as f:
        f.write("ready\n")

    deadline = time.monotonic() + args.timeout
    srv.settimeout(args.timeout)
    conn, _ = srv.accept()
    master, name = recv_fd(conn)
    conn.close()
    srv.close()
    with open(args.output + ".name", "wb") as f:
        f.write(name)

    if args.size:
        set_size(master, args.size)
    if args.input:
        os.write(master, args.input.encode())
    resize_on, _, resize_to = args.resize.rpartition("=")
    seen = b""

    with open(args.output, "wb", buffering=0) as out:
        while time.monotonic() < deadline:
            r, _, _ = select.select([master], [], [], max(0.0, deadline - time.monotonic()))
            if not r:
                break
            try:
                data = os.read(master, 4096)
            except OSError:  # EIO: the container side closed the terminal
                break
            if not data:
                break
            out.write(data)
            if resize_on:
                seen += data
                if resize_on.encode() in seen:
                    set_size(master, resize_to)
                    resize_on = ""
    os.close(master)
    return 0


if __name__ == "__main__":
    sys.exit(main())
