"""Settings and small helpers shared by bench/run (measuring) and
bench/report.py (writing docs/benchmarks.md and the chart)."""

import os
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
MiB = 1024 * 1024
KiB = 1024


def env_int(name, default):
    v = os.environ.get(name, "")
    return int(v) if v.strip() else default


QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
RUNS = env_int("BENCH_RUNS", 5 if QUICK else 100)
BATCH_RUNS = env_int("BENCH_BATCH_RUNS", 1 if QUICK else 10)
SEQ = 100  # the "100 sequential runs" metric
CONC = 20  # the "20 concurrent containers" metric
HWM_RUNS = 2 if QUICK else 5
MEM_TRIES = 1 if QUICK else 2  # runs per probed memory limit; all must pass
# VM mode: a boot costs seconds, so few samples.
VM = os.environ.get("BENCH_VM", "1") != "0"
VM_RUNS = env_int("BENCH_VM_RUNS", 2 if QUICK else 10)
VM_MEM_RUNS = env_int("BENCH_VM_MEM_RUNS", 1 if QUICK else 3)
# ms of idle before each timed boot.  A QEMU started right after another
# one exited runs its guest faster on this machine (TCG; the guest reaches
# /init ~60-100 ms sooner), one boot in two when they come back to back, and
# after ~2 s of rest that is gone: without the pause the nook/bare pairs
# always fell on the same sides of that and the bare boot looked ~100 ms
# faster to /init than nook's (issue #14).  Resting before each makes every
# boot a lone one, as a user's `nook run` is.
VM_SETTLE_MS = env_int("BENCH_VM_SETTLE_MS", 3000)
# VM-mode exec: one boot, then many execs into it.
VM_EXEC_RUNS = env_int("BENCH_VM_EXEC_RUNS", 5 if QUICK else 30)
# Only these phases of bench/run (none given: all of them).
PHASES = [p for p in os.environ.get("BENCH_PHASES", "").replace(",", " ").split() if p]
ROOTLESS = os.environ.get("BENCH_ROOTLESS", "1") != "0"
OUT = os.path.abspath(os.environ.get("BENCH_OUT", os.path.join(REPO, "docs", "benchmarks.md")))
PNG = os.path.splitext(OUT)[0] + ".png"


def log(*a):
    print("bench:", *a, file=sys.stderr, flush=True)


def die(msg):
    log("error:", msg)
    sys.exit(1)


def sh(cmd, **kw):
    """Output of a command, '' when it fails (for version strings and such)."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, **kw).stdout.strip()
    except OSError:
        return ""


def resolve(cmd):
    if os.sep in cmd:
        return os.path.abspath(cmd) if os.access(cmd, os.X_OK) else None
    return shutil.which(cmd) or next(
        (p for p in (f"/usr/sbin/{cmd}", f"/usr/bin/{cmd}") if os.access(p, os.X_OK)), None)
