"""VM mode in bench/run: `nook run` of a bundle annotated nook.vm=qemu
running /bin/true, against its floor: the very QEMU argv nook ran (taken
from nook's debug log), the same vmlinux, and an initramfs whose /init only
powers off (bench/poweroff.c).  nook and the floor alternate.

Measured per sample: wall and cpu from bench/measure (the cpu of `nook run`
includes QEMU's: nook reaps QEMU, and wait4's rusage of nook covers the
children it reaped), and the phases of the nook run from the timestamps of
its --debug log lines.  In separate runs, whose times are not used, a
sampler reads /proc of every process below bench/measure every
VM_SAMPLE_MS: VmHWM of nook and of QEMU, and QEMU's RSS without the
guest's RAM (the anonymous mapping of the guest's size in /proc/PID/smaps),
its anonymous part, and that without TCG's translation cache.
Then exec: `nook exec` of /bin/true into one running VM-mode container
(wall and the CLI's cpu from bench/measure, plus the cpu the monitor and
QEMU spent meanwhile, from /proc/PID/task/*/schedstat: the guest's work),
against namespace mode's exec (the exec metric above) and a bare round trip
on monitor.sock (a CHAN_STATE request: connect, ask, answer), the floor of
the exec path on the host.  Then `events --stats` of that container,
alternating with a namespace-mode twin of the bundle (issue #15: <= 2x).
report_vm() writes the section of docs/benchmarks.md."""

import datetime
import glob
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time

from common import KiB, VM, VM_EXEC_RUNS, VM_MEM_RUNS, VM_RUNS, VM_SETTLE_MS, log, resolve

QEMU = "qemu-system-x86_64"
VM_SAMPLE_MS = 50

# The debug lines of one VM-mode run (vmm/session.c, vmm/qemu.c, src/main.c),
# in order: (prefix of msg, name of the mark).
MARKS = [("command run", "start"), ("vm: kernel bundle", "bundle"),
         ("vm: initramfs", "initramfs"), ("vmm: exec", "exec"),
         ("vm: channel connected", "connected"), ("vm: guest ready", "ready"),
         ("vm: container created", "created"), ("vm: container started", "started"),
         ("vm: container exited", "exited"), ("vm: powered off", "off")]

# (phase, from mark, to mark, what it is, constant under KVM?).  None: the
# part of the wall time outside the log (nook's exec up to its first line,
# and its exit after the last).
PHASES = [
    ("nook start + exit", None, None, "exec of nook to its first log line (dynamic loading, "
     "options), and its exit after the last (work directory removed)", True),
    ("kernel bundle", "start", "bundle", "config.json parsed, `scripts/vm-kernel` run (a bash "
     "script that prints the cached bundle)", True),
    ("initramfs", "bundle", "initramfs", "the initramfs cache checked: the static nook-guest "
     "(or nook and its libraries) and the modules identified by stat (built, with the "
     "programs stripped to their segments, only when one changed)", True),
    ("QEMU launch", "initramfs", "exec", "channel socket, work directory, argv", True),
    ("QEMU start", "exec", "connected", "QEMU's own set-up until it connects the channel's "
     "socket (before the guest runs)", True),
    ("guest boot", "connected", "ready", "the machine restored from its template (QEMU loads "
     "the saved guest, parked after its kernel boot, modules, channel and timer), the guest "
     "init unparked (the host's clock and seed), the 9p share mounted, ready; booted "
     "(no template): vmlinux and initramfs loaded, kernel boot, the guest init's modules, "
     "channel, share", False),
    ("container create", "ready", "created", "the monitor's create request, which carries the "
     "share's config.json: a fork of the guest init runs nook's create on the share "
     "(namespaces, mounts, cgroup in the guest)", False),
    ("container start", "created", "started", "the CLI's hooks and start request through the "
     "monitor: a fork of the guest init runs nook's `start`", False),
    ("container run", "started", "exited", "/bin/true in the container, its exit status back "
     "over the channel", False),
    ("power-off", "exited", "off", "power-off request, guest ACPI shutdown, QEMU's exit and "
     "reap", False),
]


def rfc3339(ts):
    """Seconds since the epoch of nook's log time (nanoseconds, UTC)."""
    base, _, frac = ts.rstrip("Z").partition(".")
    t = datetime.datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    return t + (float("0." + frac) if frac else 0.0)


GUEST_MARKS = "vm: guest boot marks"


def guest_marks(msg):
    """[(name, ms since the guest kernel started)] of the guest init's boot
    marks (vmm/guest_init.c): init, each module loaded, channel, timer,
    shares, disk, ready."""
    out = []
    for item in msg.partition("): ")[2].split():
        name, _, v = item.partition("=")
        try:
            out.append((name, float(v)))
        except ValueError:
            pass
    return out


def read_log(path):
    """(marks: name -> time, argv of the VMM or None, error lines) of one
    nook --log-format json --debug log; marks["guest"] holds the guest's own
    boot marks (guest_marks())."""
    marks, argv, errors = {}, None, []
    try:
        with open(path, errors="replace") as f:
            lines = f.readlines()
    except OSError:
        return marks, argv, errors
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        msg = rec.get("msg", "")
        if rec.get("level") == "error":
            errors.append(msg)
        if msg.startswith(GUEST_MARKS) and "guest" not in marks:
            marks["guest"] = guest_marks(msg)
        for prefix, name in MARKS:
            if msg.startswith(prefix) and name not in marks:
                marks[name] = rfc3339(rec["time"])
                if name == "exec":
                    argv = json.loads(msg[len(prefix):])["argv"]
    return marks, argv, errors


def floor_argv(argv, initrd, console, share):
    """nook's VMM argv with the floor's initramfs, a console file of its own,
    the control channel's socket replaced by a null backend and the 9p
    share's directory by `share` (the devices stay: the guest sees the same
    machine; the container's share is gone once its run ended)."""
    out = []
    for i, a in enumerate(argv):
        prev = argv[i - 1] if i else None
        if prev == "-initrd":
            a = initrd
        elif prev == "-serial" and a.startswith("file:"):
            a = "file:" + console
        elif prev == "-chardev" and a.startswith("socket,"):
            a = ",".join(["null"] + [p for p in a.split(",")[1:] if p.startswith("id=")])
        elif prev == "-fsdev":
            a = re.sub(r"path=(?:[^,]|,,)*", lambda _: "path=" + share.replace(",", ",,"), a)
        out.append(a)
    return out


def floor_init_ms(console):
    """When the bare boot's /init ran (bench/poweroff.c's line on its
    console), ms since the guest kernel started, or None."""
    try:
        with open(console, errors="replace") as f:
            m = re.findall(r"poweroff: /init at ([0-9.]+) ms", f.read())
    except OSError:
        return None
    return float(m[-1]) if m else None


def opt_after(argv, opt):
    return next((argv[i + 1] for i in range(len(argv) - 1) if argv[i] == opt), None)


def cpio_newc(path, files):
    """Write a newc cpio archive of (name, mode, data[, (major, minor)])
    entries; the pair is a device node's."""
    def entry(ino, name, mode, data, rdev=(0, 0)):
        name_b = name.encode() + b"\0"
        hdr = "070701" + "".join(f"{v:08x}" for v in (
            ino, mode, 0, 0, 1, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0))
        out = hdr.encode() + name_b
        out += b"\0" * (-len(out) % 4) + data
        return out + b"\0" * (-len(out) % 4)

    blob = b"".join(entry(i + 1, *f) for i, f in enumerate(files))
    blob += entry(0, "TRAILER!!!", 0, b"")
    with open(path, "wb") as f:
        f.write(blob)


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for t in tasks:
            try:
                with open(f"/proc/{p}/task/{t}/children") as f:
                    kids = [int(x) for x in f.read().split()]
            except OSError:
                continue
            out.extend(kids)
            todo.extend(kids)
    return out


def status_kib(pid, keys):
    vals = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in keys:
                    vals[k] = int(v.split()[0])
    except OSError:
        pass
    return vals


def qemu_maps(pid, guest_kib):
    """(guest RAM, TCG translation cache) Rss in KiB of a QEMU process: the
    private anonymous rw mapping of exactly the guest's size, and the
    anonymous rwx ones (QEMU's code buffer; the vmlinux mapping is a file's).
    None when smaps is gone."""
    guest, tb, cur = 0, 0, None
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if not line[0].isupper():
                    p = line.split()
                    anon = len(p) == 5 and p[4] == "0"
                    cur = ("guest" if p[1] == "rw-p" else "tb" if p[1] == "rwxp" else None) \
                        if anon else None
                    size = None
                elif line.startswith("Size:"):
                    size = int(line.split()[1])
                elif line.startswith("Rss:"):
                    if cur == "guest" and size == guest_kib:
                        guest = max(guest, int(line.split()[1]))
                    elif cur == "tb":
                        tb += int(line.split()[1])
    except OSError:
        return None
    return guest, tb


class TreeSampler(threading.Thread):
    """Peaks of the processes below `root` (bench/measure) while a command
    runs, polled every VM_SAMPLE_MS."""

    def __init__(self, root, guest_kib):
        super().__init__(daemon=True)
        self.root, self.guest_kib = root, guest_kib
        self.done = threading.Event()
        self.peak = {"qemu_hwm": -1, "qemu_noguest": -1, "qemu_anon_noguest": -1,
                     "qemu_anon_notcg": -1, "nook_hwm": -1, "samples": 0}

    def run(self):
        while not self.done.wait(VM_SAMPLE_MS / 1000):
            self.sample()

    def up(self, key, v):
        if v is not None and v > self.peak[key]:
            self.peak[key] = v

    def sample(self):
        self.peak["samples"] += 1
        for pid in descendants(self.root):
            try:
                with open(f"/proc/{pid}/comm") as f:
                    comm = f.read().strip()
            except OSError:
                continue
            st = status_kib(pid, ("VmHWM", "VmRSS", "RssAnon"))
            if comm.startswith("qemu-system"):
                maps = qemu_maps(pid, self.guest_kib)
                self.up("qemu_hwm", st.get("VmHWM"))
                if maps is not None and "VmRSS" in st and "RssAnon" in st:
                    guest, tb = maps
                    self.up("qemu_noguest", st["VmRSS"] - guest)
                    self.up("qemu_anon_noguest", st["RssAnon"] - guest)
                    self.up("qemu_anon_notcg", st["RssAnon"] - guest - tb)
            elif comm == "nook":
                self.up("nook_hwm", st.get("VmHWM"))

    def stop(self):
        self.done.set()
        self.join()


class VmBench:
    def __init__(self, b):
        self.b = b
        b.vm = self.res = {"skipped": None, "breakdown": [], "guest": [], "floor_init": [],
                           "accel": None, "argv": None,
                           "floor_argv": None, "kernel_release": None}

    def skip(self, why):
        log("VM mode skipped:", why)
        self.res["skipped"] = why

    def nook_argv(self, cid, logf, debug=True, bundle=None):
        b = self.b
        argv = [b.runtimes["nook"], "--root", self.root]
        if debug:
            argv += ["--log", logf, "--log-format", "json", "--debug"]
        return argv + ["run", "--bundle", bundle or self.bundle, cid]

    def prepare(self):
        b = self.b
        if not VM:
            return self.skip("BENCH_VM=0")
        if "nook" not in b.runtimes:
            return self.skip("nook is not among BENCH_RUNTIMES")
        if not resolve(QEMU):
            return self.skip(f"{QEMU} not found (Debian: qemu-system-x86)")
        # bench/run put NOOK_VM_KERNEL_SCRIPT in the runtimes' environment:
        # nook (a copy outside the repository) finds the script through it.
        script = b.env["NOOK_VM_KERNEL_SCRIPT"]
        r = subprocess.run([script], capture_output=True, text=True, env=b.env)
        kbundle = r.stdout.strip().splitlines()[0] if r.stdout.strip() else ""
        if r.returncode != 0 or not os.path.isfile(os.path.join(kbundle, "vmlinux")):
            said = " ".join(r.stderr.split())[-300:]
            return self.skip(f"no guest kernel bundle: `{script}` exited {r.returncode}" +
                             (f": {said}" if said else ""))
        cc = os.environ.get("CC") or "cc"
        for prog in ("poweroff", "nothp"):
            r = subprocess.run([cc, "-static", "-Os", "-Wall", "-Wextra", "-Werror", "-o",
                                os.path.join(b.bin, prog),
                                os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                             prog + ".c")],
                               capture_output=True, text=True)
            if r.returncode != 0:
                return self.skip(f"`{cc} -static` of bench/{prog}.c failed (no static libc?): " +
                                 " ".join(r.stderr.split())[-200:])
        poweroff = os.path.join(b.bin, "poweroff")
        self.initrd = os.path.join(b.tmp, "poweroff.cpio")
        with open(poweroff, "rb") as f:
            # The console, so that its /init can say when it ran.
            cpio_newc(self.initrd, [("dev", 0o040755, b""),
                                    ("dev/console", 0o020600, b"", (5, 1)),
                                    ("init", 0o100755, f.read())])
        self.root = os.path.join(b.state, "root-nook-vm")
        os.makedirs(self.root)
        d = os.path.join(b.tmp, "bundles", "vm")
        os.makedirs(d)
        c = json.loads(json.dumps(b.base))
        c["process"]["args"] = ["/bin/true"]
        c["annotations"] = {"nook.vm": "qemu"}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        self.bundle = d
        # The same container booted every time: VM mode without templates.
        d = os.path.join(b.tmp, "bundles", "vm-boot")
        os.makedirs(d)
        c["annotations"]["nook.vm.template"] = "false"
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        self.boot_bundle = d
        # The same container given a network namespace with a veth in it
        # (as an engine's): its interface becomes the guest's (tap, tc).
        self.net_bundle = self.netns = None
        ns = f"nook-bench-{os.getpid()}"
        cmds = [["ip", "netns", "add", ns], ["ip", "netns", "add", ns + "-peer"],
                ["ip", "-n", ns, "link", "add", "eth0", "type", "veth", "peer", "name", "peer0",
                 "netns", ns + "-peer"],
                ["ip", "-n", ns, "addr", "add", "192.0.2.2/24", "dev", "eth0"],
                ["ip", "-n", ns, "link", "set", "eth0", "up"],
                ["ip", "-n", ns, "route", "add", "default", "via", "192.0.2.1"],
                ["ip", "-n", ns + "-peer", "addr", "add", "192.0.2.1/24", "dev", "peer0"],
                ["ip", "-n", ns + "-peer", "link", "set", "peer0", "up"]]
        self.netns = ns
        if all(subprocess.run(c, capture_output=True).returncode == 0 for c in cmds):
            d = os.path.join(b.tmp, "bundles", "vm-net")
            os.makedirs(d)
            c["annotations"].pop("nook.vm.template")
            c["linux"]["namespaces"] = [
                dict(n, path=f"/run/netns/{ns}") if n["type"] == "network" else n
                for n in c["linux"]["namespaces"]]
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(c, f, indent=2)
            self.net_bundle = d
        else:
            b.errors[("vm run", "network")] = "could not make the bench's network namespaces"
        return True

    def timed_variant(self, name, i, bundle):
        """One timed `nook run` of a variant's bundle, after the settle time;
        its errors are the series' note."""
        b = self.b
        time.sleep(VM_SETTLE_MS / 1e3)
        logf = os.path.join(b.logs, f"vm-{name}-{i}.json")
        s = b.timed("vm run", name, self.nook_argv(b.cid("vm" + name), logf, bundle=bundle))
        if s["status"] != 0:
            _, _, errors = read_log(logf)
            b.errors[("vm run", name)] = f"exit {s['status']}: " + " ".join(errors)[-300:]

    def drop_netns(self):
        for n in (self.netns, f"{self.netns}-peer") if self.netns else ():
            subprocess.run(["ip", "netns", "del", n], capture_output=True)

    def warm(self):
        """One run of each (page cache, nook's initramfs cache, the template)
        and the argv: the first run boots, and saves the template."""
        b = self.b
        logf = os.path.join(b.logs, "vm-warm.json")
        st = b.quiet("nook", self.nook_argv(b.cid("vmwarm"), logf))
        self.res["template_save_ms"] = template_save_ms(logf)
        marks, argv, errors = read_log(logf)
        if st != 0 or argv is None:
            return self.skip(f"`nook run` of the nook.vm=qemu bundle failed (exit {st}): " +
                             " ".join(" ".join(errors).split())[-300:])
        self.argv = argv
        self.res["argv"] = argv
        self.res["accel"] = (opt_after(argv, "-accel") or "?").split(",")[0]
        self.guest_kib = int((opt_after(argv, "-m") or "256M").rstrip("M")) * KiB
        share = os.path.join(b.tmp, "floor-share")
        os.makedirs(share, exist_ok=True)
        self.floor_console = os.path.join(b.tmp, "floor-console.log")
        # Without transparent huge pages, as nook launches QEMU (bench/nothp.c).
        self.floor = [os.path.join(b.bin, "nothp")] + floor_argv(argv, self.initrd,
                                                                 self.floor_console, share)
        if self.net_bundle:
            # The network's own template: saved here, not in a timed run.
            b.quiet("nook", self.nook_argv(b.cid("vmnetwarm"), None, debug=False,
                                           bundle=self.net_bundle))
        self.res["floor_argv"] = self.floor
        self.res["initrd_kib"] = {"nook": os.path.getsize(opt_after(argv, "-initrd")) / KiB,
                                  "floor": os.path.getsize(self.initrd) / KiB}
        if b.quiet("vm-floor", self.floor) != 0:
            return self.skip("the bare QEMU boot (floor) failed; see " + b.logfile("vm-floor"))
        return True

    def run(self):
        self.res["load"] = [os.getloadavg()]
        try:
            self.run_all()
        finally:
            self.drop_netns()

    def run_all(self):
        if not self.prepare() or not self.warm():
            return
        b = self.b
        log(f"VM mode: run /bin/true: {VM_RUNS} x 3 (nook, bare boot, nook without template)")
        for i in range(VM_RUNS):
            logf = os.path.join(b.logs, f"vm-{i}.json")
            time.sleep(VM_SETTLE_MS / 1e3)
            s = b.timed("vm run", "nook", self.nook_argv(b.cid("vm"), logf))
            marks, _, errors = read_log(logf)
            if s["status"] == 0:
                self.res["breakdown"].append(self.phases(marks, s["wall"]))
                if marks.get("guest"):
                    self.res["guest"].append(marks["guest"])
            elif errors:
                b.errors[("vm run", "nook")] = f"exit {s['status']}: " + " ".join(errors)[-300:]
            time.sleep(VM_SETTLE_MS / 1e3)
            b.timed("vm run", "floor", self.floor)
            at = floor_init_ms(self.floor_console)
            if at is not None:
                self.res["floor_init"].append(at)
            self.timed_variant("booted", i, self.boot_bundle)
            if self.net_bundle:
                self.timed_variant("network", i, self.net_bundle)
        log(f"VM mode: host memory (sampled every {VM_SAMPLE_MS} ms): {VM_MEM_RUNS} x 2")
        for _ in range(VM_MEM_RUNS):
            for n, argv in (("nook", self.nook_argv(b.cid("vmmem"), None, debug=False)),
                            ("floor", self.floor)):
                t = TreeSampler(b.m.p.pid, self.guest_kib)
                t.start()
                s = b.timed("vm memory", n, argv)
                t.stop()
                s.update(t.peak)
        self.exec_bench()
        shutil.rmtree(self.root, ignore_errors=True)
        self.res["load"].append(os.getloadavg())

    def exec_bench(self):
        """exec /bin/true into one running VM-mode container (one boot)."""
        b = self.b
        d = os.path.join(b.tmp, "bundles", "vm-sleep")
        os.makedirs(d)
        c = json.loads(json.dumps(b.base))
        c["process"]["args"] = ["sleep", "100000"]
        c["annotations"] = {"nook.vm": "qemu"}
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        cid = b.cid("vmexec")
        nook = [b.runtimes["nook"], "--root", self.root]
        if b.quiet("nook", nook + ["run", "-d", "--bundle", d, cid]) != 0:
            b.errors[("vm exec", "nook")] = "could not start the VM-mode `sleep` container"
            return
        with open(os.path.join(self.root, cid, "state.json")) as f:
            monitor = json.load(f)["pid"]
        vmm = set(descendants(monitor)) | {monitor}
        dfd = os.open(os.path.join(self.root, cid), os.O_PATH | os.O_DIRECTORY)
        log(f"VM mode: exec /bin/true: {VM_EXEC_RUNS} x 2 (nook exec, monitor round trip)")
        for _ in range(VM_EXEC_RUNS):
            before = tree_cpu_ms(vmm)
            s = b.timed("vm exec", "nook", nook + ["exec", cid, "/bin/true"])
            s["cpu_vmm"] = tree_cpu_ms(vmm) - before
            b.record("vm exec", "round trip", round_trip(dfd))
        os.close(dfd)
        self.events_bench(nook, cid)
        b.quiet("nook", nook + ["delete", "--force", cid])

    def events_bench(self, nook, cid):
        """events --stats of the running VM-mode container, alternating with
        a namespace-mode twin (the same bundle without the annotation)."""
        b = self.b
        d = os.path.join(b.tmp, "bundles", "ns-sleep")
        os.makedirs(d)
        c = json.loads(json.dumps(b.base))
        c["process"]["args"] = ["sleep", "100000"]
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(c, f, indent=2)
        twin = b.cid("vmevents-ns")
        if b.quiet("nook", nook + ["run", "-d", "--bundle", d, twin]) != 0:
            b.errors[("vm events", "namespace")] = "could not start the namespace-mode twin"
            return
        log(f"VM mode: events --stats: {VM_EXEC_RUNS} x 2 (VM mode, namespace mode)")
        for _ in range(VM_EXEC_RUNS):
            b.timed("vm events", "nook", nook + ["events", "--stats", cid])
            b.timed("vm events", "namespace", nook + ["events", "--stats", twin])
        b.quiet("nook", nook + ["delete", "--force", twin])

    @staticmethod
    def phases(marks, wall):
        out = {}
        for name, a, z, _, _ in PHASES:
            if a is None:
                if "start" in marks and "off" in marks:
                    out[name] = wall - (marks["off"] - marks["start"]) * 1e3
            elif a in marks and z in marks:
                out[name] = (marks[z] - marks[a]) * 1e3
        return out


def template_save_ms(logf):
    """The `vm: template ... saved in N ms` of a debug log, or None."""
    try:
        with open(logf) as f:
            for line in f:
                m = re.search(r"vm: template [0-9a-f]+ saved in (\d+) ms", line)
                if m:
                    return int(m.group(1))
    except OSError:
        pass
    return None


def tree_cpu_ms(pids):
    """cpu time (ms) the threads of pids have run, from their schedstat."""
    ns = 0
    for pid in pids:
        for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
            try:
                with open(f) as fh:
                    ns += int(fh.read().split()[0])
            except (OSError, ValueError, IndexError):
                pass
    return ns / 1e6


# vmm/channel.h: the frame header and the types a CHAN_STATE request uses.
CHAN_MAGIC, CHAN_STATE, CHAN_OK = 0x4e4f4f4b, 12, 14


def round_trip(dfd):
    """One request to the monitor as the CLI makes it (connect, CHAN_STATE,
    its answer): a sample with its wall time."""
    t = time.perf_counter()
    status = 0
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sk:
            sk.connect(f"/proc/self/fd/{dfd}/monitor.sock")
            sk.sendall(struct.pack("=IIiI", CHAN_MAGIC, CHAN_STATE, 0, 0))
            head = b""
            while len(head) < 16:
                got = sk.recv(16 - len(head))
                if not got:
                    break
                head += got
            if len(head) < 16 or struct.unpack("=IIiI", head)[1] != CHAN_OK:
                status = 1
    except OSError:
        status = 1
    wall = (time.perf_counter() - t) * 1e3
    return {"status": status, "wall": wall, "cpu": -1, "user": -1, "sys": -1, "rss": -1,
            "hwm": -1}


# ---------------------------------------------------------------------------
# the report's VM-mode section


def mib(kib):
    return "n/a" if kib is None or kib < 0 else f"{kib / KiB:.1f}"


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def report_vm(r):
    b = r.b
    res = getattr(b, "vm", None)
    r.w("## VM mode (`nook.vm=qemu`)")
    r.w()
    if res is None:
        r.w("Not run.")
        r.w()
        return
    if res["skipped"]:
        r.w(f"Skipped: {res['skipped']}.")
        r.w()
        return
    accel = res["accel"]
    load = res.get("load", [])
    no_kvm = " (this machine has no usable KVM)" if accel == "tcg" else ""
    ram, cpus = opt_after(res["argv"], "-m"), opt_after(res["argv"], "-smp")
    tb = next((o for o in (opt_after(res["argv"], "-accel") or "").split(",")
               if o.startswith("tb-size=")), None)
    save_ms = res.get("template_save_ms")
    save_ms = "n/a" if save_ms is None else save_ms
    r.w(f"""- What: `nook run` of the one bundle above (busybox rootfs, /bin/true) with the
  annotation `nook.vm=qemu`: QEMU `-M microvm`, accelerator **{accel}**{no_kvm},
  guest {ram} RAM and {cpus} vCPU, nook's own initramfs (nook as the guest's init), the
  rootfs over virtio-9p. {VM_RUNS} samples (BENCH_VM_RUNS; BENCH_VM=0 leaves the
  section out).
- **templates** (docs/design.md, "Templates"): the bench's first VM-mode run boots and saves
  the machine where its guest init parks ({save_ms} ms for the save, once); every timed
  `nook run` is restored from that template. **booted** is the same container with
  `nook.vm.template=false`: every run boots, as before templates. **network** is the
  restored container given a network namespace of the bench's own (a veth to a peer
  namespace, 192.0.2.2/24, a default route): the tap beside eth0, the tc redirect both
  ways, and the guest moving its virtio-net device into the container with eth0's MAC,
  MTU, address and route (docs/design.md, "Networking"); its template is saved untimed.
- **bare boot** (VM mode's floor): the QEMU argv nook ran, taken from its `--debug` log (the
  `vmm: exec` line), with the same vmlinux and an initramfs holding only `bench/poweroff.c`
  (static; `reboot(RB_POWER_OFF)`); the channel's socket is replaced by a null chardev and
  the console goes to a file of its own; QEMU runs without transparent huge pages, as nook
  runs it (`bench/nothp.c`, one exec). nook and the bare boot alternate, each timed
  boot after {VM_SETTLE_MS} ms idle (BENCH_VM_SETTLE_MS: back to back, one boot in two
  runs its guest ~60-100 ms faster on this machine, which decided the nook/bare gap).
- **wall** and **cpu** as above (bench/measure); the cpu of `nook run` includes QEMU's (all
  its threads): nook reaps QEMU, and wait4 of nook returns the time of the children it
  reaped. The timed nook runs log with `--debug --log-format json` (a few lines per run)
  for the phase breakdown below.
- **host memory**: {VM_MEM_RUNS} separate runs of each (times not used) while a sampler reads
  /proc of every process below bench/measure every {VM_SAMPLE_MS} ms: VmHWM of nook and of
  QEMU, and QEMU's RSS without the guest's RAM (the Rss of the anonymous rw mapping of the
  guest's size in /proc/PID/smaps): all of it, only its anonymous (private) part, and that
  without TCG's translation cache (QEMU's anonymous rwx mappings; KVM has none).
  Guest RAM touched by the guest is not host overhead; the rest of QEMU's RSS is. QEMU's
  file-backed pages (its binary and libraries, the vmlinux it keeps mapped) are page cache
  that every VM on the host shares; the anonymous rest (translation cache, heap, device
  state) is what one more VM costs.
- Load average (1 min) at the section's start and end: {' and '.join(f'{l[0]:.2f}' for l in load)}
  (2 cpus, a machine shared with other builds: absolute boot times vary with it).
""")
    nw, fw = r.med("vm run", "nook", "wall"), r.med("vm run", "floor", "wall")
    nc, fc = r.med("vm run", "nook", "cpu"), r.med("vm run", "floor", "cpu")
    mem = {n: [s for s in b.results.get("vm memory", {}).get(n, []) if s["status"] == 0]
           for n in ("nook", "floor")}

    def mmed(n, key):
        return median(s.get(key) if s.get(key, -1) >= 0 else None for s in mem[n])

    priv = [s["qemu_anon_noguest"] + s["nook_hwm"] for s in mem["nook"]
            if s.get("qemu_anon_noguest", -1) >= 0 and s.get("nook_hwm", -1) >= 0]
    full = [s["qemu_noguest"] + s["nook_hwm"] for s in mem["nook"]
            if s.get("qemu_noguest", -1) >= 0 and s.get("nook_hwm", -1) >= 0]
    notcg = [s["qemu_anon_notcg"] + s["nook_hwm"] for s in mem["nook"]
             if s.get("qemu_anon_notcg", -1) >= 0 and s.get("nook_hwm", -1) >= 0]
    T = []

    def add(name, value, ok):
        T.append((name, value, "n/a" if ok is None else ("met" if ok else "**missed**")))

    add("VM-mode run wall ≤ 1.2x the bare boot",
        f"{nw / fw:.2f}x ({r.ms(nw)} vs {r.ms(fw)} ms)" if nw and fw else "n/a",
        nw <= 1.2 * fw if nw and fw else None)
    add("VM-mode run cpu (nook + QEMU) vs the bare boot (no target)",
        f"{nc / fc:.2f}x ({r.ms(nc)} vs {r.ms(fc)} ms)" if nc and fc else "n/a", None)
    bw = r.med("vm run", "booted", "wall")
    add("VM-mode run booted (`nook.vm.template=false`) wall vs the bare boot (no target)",
        f"{bw / fw:.2f}x ({r.ms(bw)} vs {r.ms(fw)} ms)" if bw and fw else "n/a", None)
    if accel == "tcg":
        add("run /bin/true wall ≤ 4 s under TCG (quiet machine)",
            f"{nw / 1000:.2f} s" if nw else "n/a", nw <= 4000 if nw else None)
    else:
        add("run /bin/true wall ≤ 250 ms under KVM", f"{r.ms(nw)} ms" if nw else "n/a",
            nw <= 250 if nw else None)
    # The target is what one more VM costs: its private memory.  QEMU's
    # binary and libraries are page cache every QEMU on the host shares
    # (the same pages however many VMs run), so that reading has no target.
    for label, vals, target in (
            ("host memory ≤ 48 MiB per VM without guest RAM: private (QEMU anonymous − guest "
             "RAM, + nook VmHWM)", priv, True),
            ("same, without TCG's translation cache (as under KVM)", notcg, True),
            ("same, with QEMU's shared file pages, one VM alone (QEMU RSS − guest RAM, + nook "
             "VmHWM; no target: page cache shared by every VM)", full, False)):
        v = median(vals)
        add(label, f"{mib(v)} MiB" if v is not None else "n/a",
            v <= 48 * KiB if v is not None and target else None)
    ew = r.med("vm exec", "nook", "wall")
    if accel == "tcg":
        add("VM-mode exec /bin/true wall ≤ 50 ms median under TCG",
            f"{r.ms(ew)} ms" if ew else "n/a", ew <= 50 if ew else None)
    vw, tw = r.med("vm events", "nook", "wall"), r.med("vm events", "namespace", "wall")
    add("VM-mode events --stats wall ≤ 2x namespace mode",
        f"{vw / tw:.1f}x ({r.ms(vw)} vs {r.ms(tw)} ms)" if vw and tw else "n/a",
        vw <= 2 * tw if vw and tw else None)
    r.w("### Targets (VM mode)")
    r.w()
    r.w("| target | measured | status |")
    r.w("|---|---|---|")
    for row in T:
        r.w("| " + " | ".join(row) + " |")
    r.w()

    r.w("### Time (ms)")
    r.w()
    r.w("| what | wall: median (min–max) | cpu: median (min–max) | wall ÷ bare boot | "
        "cpu ÷ bare boot | n |")
    r.w("|---|---|---|---|---|---|")
    for n, label in (("nook", "`nook run` /bin/true, VM mode (restored from its template)"),
                     ("booted", "same, booted (`nook.vm.template=false`)"),
                     ("network", "same, restored, with a network namespace's veth as the "
                      "guest's interface (tap, tc redirect)"),
                     ("floor", "bare boot (floor)")):
        wst, cst = r.stats("vm run", n, "wall"), r.stats("vm run", n, "cpu")
        nf = r.fails("vm run", n)
        r.w(f"| {label} | {r.cell(wst)} | {r.cell(cst)} | "
            f"{r.ratio(wst and wst['med'], fw) if n != 'floor' else '1'} | "
            f"{r.ratio(cst and cst['med'], fc) if n != 'floor' else '1'} | "
            f"{(wst or {'n': 0})['n']}{f' ({nf} failed)' if nf else ''} |")
    r.w()

    report_vm_exec(r)

    r.w("### Host memory (MiB, median of the per-run peaks)")
    r.w()
    r.w("| what | QEMU VmHWM (with guest RAM) | QEMU RSS − guest RAM | QEMU anonymous − guest "
        "RAM | same − TCG cache | nook VmHWM | ru_maxrss (largest process) | n |")
    r.w("|---|---|---|---|---|---|---|---|")
    for n, label in (("nook", "`nook run`, VM mode"), ("floor", "bare boot (floor)")):
        rss = median(s["rss"] for s in mem[n])
        r.w(f"| {label} | {mib(mmed(n, 'qemu_hwm'))} | {mib(mmed(n, 'qemu_noguest'))} | "
            f"{mib(mmed(n, 'qemu_anon_noguest'))} | {mib(mmed(n, 'qemu_anon_notcg'))} | "
            f"{mib(mmed(n, 'nook_hwm')) if n == 'nook' else '–'} | {mib(rss)} | {len(mem[n])} |")
    r.w()

    bd = res["breakdown"]
    r.w(f"### Where the time of a VM-mode run goes (median ms of {len(bd)} runs)")
    r.w()
    r.w("From the timestamps of `nook --debug` log lines (vmm/session.c, vmm/qemu.c, "
        "vmm/monitor.c). The last "
        "column says whether the phase runs on the host at native speed (constant from TCG to "
        "KVM) or is guest execution (scales with the accelerator).")
    r.w()
    r.w("| phase | median | share of the wall | what | host or guest |")
    r.w("|---|---|---|---|---|")
    med = {}
    for name, _, _, what, const in PHASES:
        med[name] = median(x.get(name) for x in bd)
        share = f"{100 * med[name] / nw:.0f} %" if med[name] is not None and nw else "n/a"
        r.w(f"| {name} | {r.ms(med[name])} | {share} | {what} | "
            f"{'host: constant' if const else 'guest: scales'} |")
    r.w()
    guest_boot_table(r, res)
    host = sum(v for (name, _, _, _, c), v in zip(PHASES, med.values()) if c and v is not None)
    guest = sum(v for (name, _, _, _, c), v in zip(PHASES, med.values())
                if not c and v is not None)
    lo, hi = (r.ms(guest / 20), r.ms(guest / 10)) if guest else ("n/a", "n/a")
    top = sorted(((med[n], n) for n, _, _, _, c in PHASES if c and med[n] is not None),
                 reverse=True)[:2]
    top_s = " and ".join(f"{n} ({r.ms(v)} ms)" for v, n in top) or "n/a"
    ik = res.get("initrd_kib", {})
    extra = f"{r.ms(nw - fw)} ms" if nw and fw else "n/a"
    r.w("### From TCG to KVM")
    r.w()
    r.w(f"""Under TCG every guest instruction is translated and run by QEMU on the host's CPU
(about 15x slower than native for this kernel, shared/notes/vm-boot.md); with KVM the guest
runs on the CPU itself. With templates the kernel's boot is gone from every run but a
machine's first: what is left is QEMU's start, loading the saved machine (host work: reading
tens of MiB from the page cache), and the guest's part after its park. So a VM-mode `run`
splits into two parts:

- **Host work, the same under KVM** (here {r.ms(host)} ms of the {r.ms(nw)} ms median):
  nook's own start and exit, resolving the kernel bundle and checking the initramfs cache
  (the identity of nook-guest (or nook and its libraries) and the modules; built only when one
  of them changed), QEMU's process start and device set-up, and each channel round trip's host
  side (0.3–0.4 ms). QEMU's start grows a little with KVM (vCPU and memory-slot set-up) and
  loses the translation cache.
- **Guest execution, which scales with the accelerator** (here {r.ms(guest)} ms): the
  kernel's boot, the guest init loading the virtio and 9p modules, mounting the share, the
  guest nook's create and start of the container on the share, /bin/true, the ACPI
  power-off. The "guest
  boot" phase also holds QEMU loading the ELF vmlinux (~66 MB) and the initramfs into guest
  memory, host work that does not shrink. Under KVM guest code runs near native speed:
  Firecracker and Cloud Hypervisor boot a similar kernel to userspace in ~100–125 ms (public
  figures), which puts this {r.ms(fw)} ms TCG bare boot at roughly 100–200 ms with KVM.
- So with KVM, VM mode's `run` is expected at roughly {r.ms(host)} ms of host work plus the
  guest part divided by 10–20 ({lo}–{hi} ms), against the design target of ≤ 250 ms end to
  end. The largest host-side phases, {top_s}, are what stays: under KVM they are a large
  share of the budget.
- The ratio to the bare boot is the number that carries over between machines: the bare
  boot pays the same QEMU start and kernel boot, and the difference ({extra} in medians here)
  is VM mode's own cost: nook on the host, then in the guest the larger initramfs
  ({ik.get('nook', 0) / KiB:.1f} MiB: nook and its libraries stripped, the modules this container
  needs, against the bare boot's {ik.get('floor', 0) / KiB:.1f} MiB) and the start of a dynamically
  linked nook as /init (the size costs little, the dynamic loading more: docs/design.md, "What
  is left"), the modules loaded, the 9p mount, the channel and the container. Under TCG that difference is guest code, so it
  shrinks with KVM about as the boot does.
- TCG wall times follow the machine's load (every guest instruction competes for the two
  host cpus): the min–max spread above is mostly that. The cpu ratio is the steadier one.
- Memory does not scale with the accelerator except QEMU's translation cache
  (`{tb or "tb-size"}`, TCG only: KVM has none): the targets table shows the private figure with
  and without it. The bare boot's QEMU has most of VM mode's host memory: the rest is nook
  (its VmHWM) and what QEMU spends on the channel and the 9p share.
""")


# What each of the guest init's marks (vmm/guest_init.c) ends.
GUEST_STEPS = {"channel": "the channel's virtio port found (a uevent wait) and opened",
               "timer": "the timer check (a 1 ms timerfd)",
               "unparked": "parked, saved or restored, unparked: the host's clock and seed "
                           "taken (guest clock: a stopped machine's does not advance)",
               "shares": "the 9p share mounted",
               "disk": "vm.image's disk (none here), cgroup2 mounted",
               "ready": "ready sent"}


def guest_steps(g):
    """[(name, ms since the previous mark)] of one run's guest marks."""
    return [(n, t - (g[i - 1][1] if i else 0.0)) for i, (n, t) in enumerate(g)]


def guest_boot_table(r, res):
    """The guest's part of "guest boot", from the guest init's own marks."""
    runs = [guest_steps(g) for g in res.get("guest") or []]
    if not runs:
        return
    r.w(f"### Inside the guest boot (guest clock, median ms of {len(runs)} runs)")
    r.w()
    r.w("The guest init's marks (ms since the guest kernel started, sent with its ready and "
        "logged by `nook --debug` as `vm: guest boot marks`); each row is the time since the "
        "previous mark. The kernel's own boot, up to /init, is compared with the bare boot's "
        "(bench/poweroff.c, static, says when it ran): nook's mark is taken in its main(), "
        "after the static nook-guest relocated itself (the dynamic loader's work too where "
        "the build has no nook-guest; docs/design.md, \"Static archives\"). Measured apart "
        "(issue #14, rested boots, medians of 5), the two differ by ~20-30 ms: the kernel reaches "
        "\"Run /init\" ~15 ms later with nook's larger archive (its unpacking is asynchronous "
        "but shares the one vCPU), and the exec of the larger nook-guest up to its main() "
        "costs ~4 ms more than the bare boot's (~30 ms against ~27). With templates, the "
        "marks up to `timer` are the template's own boot, the same in every restored run: "
        "what a restored run pays in the guest starts at `unparked`.")
    r.w()
    r.w("| step | median | what |")
    r.w("|---|---|---|")
    floor_init = median(res.get("floor_init") or [])
    for name, _ in runs[0]:
        m = median(dict(g).get(name) for g in runs)
        if name == "init":
            what = "kernel boot, the initramfs unpacked, nook started as /init"
            if floor_init is not None:
                what += f"; the bare boot's: {r.ms(floor_init)}"
            r.w(f"| kernel → /init | {r.ms(m)} | {what} |")
        elif name.endswith(".ko"):
            r.w(f"| {name} | {r.ms(m)} | module loaded (finit_module) |")
        else:
            r.w(f"| {name} | {r.ms(m)} | {GUEST_STEPS.get(name, '')} |")
    total = median(sum(v for n, v in g[1:]) for g in runs)
    mods = median(sum(v for n, v in g if n.endswith(".ko")) for g in runs)
    r.w(f"| **/init → ready** | **{r.ms(total)}** | of which modules {r.ms(mods)} |")
    r.w()
    r.w("The guest loads only the modules its container needs (scripts/vm-kernel's "
        "VM_MODE_NEEDS, picked by vmm_mode_needs()): virtio-mmio, virtio-console and 9p "
        "always, virtio_blk and ext4 with `vm.image`, overlay with the `nook.rootfs.overlay` "
        "annotation or an overlay mount; this bundle needs none of the last two.")
    r.w()


def report_vm_exec(r):
    b = r.b
    samples = [s for s in b.results.get("vm exec", {}).get("nook", []) if s["status"] == 0]
    r.w("### exec /bin/true into a running VM-mode container (ms)")
    r.w()
    if not samples:
        why = b.errors.get(("vm exec", "nook"), "no sample")
        r.w(f"Not measured: {why}.")
        r.w()
        return
    vmm = median(s.get("cpu_vmm") for s in samples)
    total = median(s["cpu"] + s["cpu_vmm"] for s in samples if s.get("cpu_vmm") is not None)
    ew, rt = r.med("vm exec", "nook", "wall"), r.med("vm exec", "round trip", "wall")
    nw = r.med("exec", "nook", "wall")
    r.w(f"""One VM-mode container (`sleep`, the bundle above with `nook.vm=qemu`), then
{len(samples)} `nook exec CID /bin/true`, each followed by a bare round trip on its
monitor.sock (what every CLI request to the monitor costs: connect, a CHAN_STATE
request, its answer; measured in Python). The CLI's cpu is its own; the guest's
work is QEMU's (and the monitor's) cpu meanwhile, read from their threads'
schedstat. Namespace mode's exec is the `exec` metric above.
""")
    r.w("| what | wall: median (min–max) | cpu: median (min–max) | n |")
    r.w("|---|---|---|---|")
    wst, cst = r.stats("vm exec", "nook", "wall"), r.stats("vm exec", "nook", "cpu")
    r.w(f"| `nook exec` /bin/true, VM mode | {r.cell(wst)} | {r.cell(cst)} (the CLI) | "
        f"{wst['n'] if wst else 0} |")
    r.w(f"| same: cpu of the monitor and QEMU (the guest's work) | – | **{r.ms(vmm)}** | "
        f"{len(samples)} |")
    r.w(f"| same: cpu in all | – | **{r.ms(total)}** | {len(samples)} |")
    nst, ncst = r.stats("exec", "nook", "wall"), r.stats("exec", "nook", "cpu")
    r.w(f"| `nook exec` /bin/true, namespace mode | {r.cell(nst)} | {r.cell(ncst)} | "
        f"{nst['n'] if nst else 0} |")
    rst = r.stats("vm exec", "round trip", "wall")
    r.w(f"| monitor.sock round trip (the floor) | {r.cell(rst)} | – | {rst['n'] if rst else 0} |")
    r.w()
    if ew and nw and rt:
        r.w(f"VM-mode exec is {ew / nw:.1f}x namespace mode's wall and {ew / rt:.0f}x the bare "
            "round trip: the rest is the guest's `nook exec` (a fork of the guest init that "
            "joins the container as namespace mode does) and /bin/true, emulated.")
        r.w()
    report_vm_events(r)


def report_vm_events(r):
    b = r.b
    r.w("### events --stats of a running VM-mode container (ms)")
    r.w()
    vst, nst = r.stats("vm events", "nook", "wall"), r.stats("vm events", "namespace", "wall")
    if not vst or not nst:
        why = (b.errors.get(("vm events", "namespace")) or b.errors.get(("vm events", "nook"))
               or "no sample")
        r.w(f"Not measured: {why}.")
        r.w()
        return
    r.w("""The same `sleep` container, then `nook events --stats CID` alternating with
the same command on a namespace-mode twin (the bundle without the annotation).
In VM mode the CLI asks the monitor, which asks the guest init: it reads the
figures itself (`CHAN_STATS`: no fork; the state read and the cgroup found at
the first request, the cgroup's files kept open) with namespace mode's code
and sends them as numbers; the CLI, which read the VMM's host usage
meanwhile, writes the line.  Issue #15's target: at most 2x namespace mode.
""")
    r.w("| what | wall: median (min–max) | cpu: median (min–max) (the CLI) | n |")
    r.w("|---|---|---|---|")
    for n, label, st in (("nook", "`nook events --stats`, VM mode", vst),
                         ("namespace", "`nook events --stats`, namespace mode", nst)):
        r.w(f"| {label} | {r.cell(st)} | {r.cell(r.stats('vm events', n, 'cpu'))} | "
            f"{st['n']} |")
    r.w()
    ratio = vst["med"] / nst["med"]
    r.w(f"VM mode is {ratio:.1f}x namespace mode ({'met' if ratio <= 2 else '**missed**'}: "
        "target ≤ 2x). Under TCG the guest's part (reading ~20 cgroup files, emulated at "
        "~15x, and the channel: under 1 ms) is most of the difference; under KVM it runs at "
        "about namespace mode's speed.")
    r.w()
