#!/usr/bin/env python3
"""Run a command with a pseudo-terminal as its stdin/stdout/stderr, the way a
user at a terminal runs `podman run -it` / `ctr run -t` / `docker run -it`.

  ptyrun.py [--timeout S] [--expect REGEX --send TEXT]... [--close] -- CMD...

Each --expect waits (up to the timeout) until REGEX matches what the command
has printed since the previous match, then --send writes TEXT to the terminal
(backslash escapes such as \\n, \\r and \\x03 are interpreted).  A --send with no
--expect before it is written right away.  --close closes the master's input
side (sends ^D).  Everything the command printed goes to our stdout; the exit
status is the command's (128+N when a signal killed it, 124 on timeout).
"""
import argparse
import codecs
import os
import pty
import re
import select
import signal
import sys
import time


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--expect", action="append", dest="steps", type=lambda s: ("expect", s))
    ap.add_argument("--send", action="append", dest="steps", type=lambda s: ("send", s))
    ap.add_argument("--cols", type=int, default=80)
    ap.add_argument("--rows", type=int, default=24)
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    steps = a.steps or []

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            os.write(2, f"ptyrun: exec {cmd[0]}: {e}\n".encode())
            os._exit(127)

    import fcntl
    import struct
    import termios

    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))

    deadline = time.monotonic() + a.timeout
    out = bytearray()
    seen = 0  # offset after the last --expect match
    step = 0
    status = None
    eof = False

    def flush_steps():
        nonlocal step, seen
        while step < len(steps):
            kind, arg = steps[step]
            if kind == "send":
                data = codecs.decode(arg, "unicode_escape").encode("latin-1")
                try:
                    os.write(fd, data)
                except OSError:
                    return
                step += 1
                continue
            m = re.search(arg.encode(), bytes(out[seen:]))
            if not m:
                return
            seen += m.end()
            step += 1

    while True:
        flush_steps()
        if eof:
            break
        left = deadline - time.monotonic()
        if left <= 0:
            break
        r, _, _ = select.select([fd], [], [], min(left, 0.5))
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:  # EIO: the slave side is closed
                data = b""
            if not data:
                eof = True
                continue
            out += data
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()

    if not eof:
        sys.stdout.buffer.write(b"\nptyrun: timeout; ")
        if step < len(steps):
            sys.stdout.buffer.write(f"still waiting for {steps[step][0]} {steps[step][1]!r}\n".encode())
        else:
            sys.stdout.buffer.write(b"the command did not exit\n")
        sys.stdout.buffer.flush()
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        sys.exit(124)

    end = time.monotonic() + max(1.0, deadline - time.monotonic())
    while True:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            status = st
            break
        if time.monotonic() > end:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            sys.exit(124)
        time.sleep(0.02)
    if step < len(steps):
        sys.stdout.buffer.write(f"\nptyrun: exited before {steps[step][0]} {steps[step][1]!r}\n".encode())
    if os.WIFSIGNALED(status):
        sys.exit(128 + os.WTERMSIG(status))
    sys.exit(os.WEXITSTATUS(status))


if __name__ == "__main__":
    main()
