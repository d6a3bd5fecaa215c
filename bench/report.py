"""docs/benchmarks.md and its chart from the samples bench/run collected."""

import datetime
import os
import re
import shlex
import statistics
import subprocess

from common import (BATCH_RUNS, CONC, PHASES, KiB, MEM_TRIES, MiB, OUT, PNG, QUICK, REPO, RUNS,
                    SEQ, resolve, sh)
from rootless import report_rootless
from vm import report_vm


def parse_strace_c(path):
    """syscall -> (calls, errors) from `strace -c` output, plus '_total'."""
    out = {}
    with open(path) as f:
        for line in f:
            p = line.split()
            if not p or p[0].startswith(("%", "-")) or not p[0][0].isdigit() and p[0] != "100.00":
                continue
            # % time, seconds, usecs/call, calls, [errors], syscall
            name = p[-1]
            try:
                calls = int(p[3])
            except (ValueError, IndexError):
                continue
            errors = int(p[4]) if len(p) == 6 else 0
            out["_total" if name == "total" else name] = (calls, errors)
    return out


def fmt_bytes(b):
    if b is None:
        return "> 64 MiB"
    if b >= MiB and b % MiB == 0:
        return f"{b // MiB} MiB"
    return f"{b / KiB:.0f} KiB"


# ---------------------------------------------------------------------------
# the report


RUN_JOB = "run (job's config)"


class Report:
    # (metric, what it is, floor equivalent)
    TIMED = [
        ("run", "`run` of /bin/true", "run"),
        ("create", "`create`", None),
        ("start", "`start`", None),
        ("delete", "`delete` (of the stopped container)", None),
        ("create+start+delete", "sum of the three, cpu including the container init", "run"),
        ("exec", "`exec` of /bin/true into a running container", "exec"),
        ("run + seccomp (warm)", "`run` with the docker-sized seccomp profile", "run"),
        ("run + seccomp (cold)", "same, the first container under a new --root", "run"),
        ("run + seccomp (compile)", "same, nook's compiled-filter cache emptied first", "run"),
        (f"{SEQ} sequential runs", f"{SEQ} `run`s one after the other (total)",
         f"{SEQ} sequential runs"),
        (f"{CONC} concurrent c+s+d", f"{CONC} containers created, started and deleted at once "
         "(total)", f"{CONC} concurrent c+s+d"),
    ]
    CHART = ["run", "create", "start", "delete", "exec", "run + seccomp (warm)",
             f"{SEQ} sequential runs", f"{CONC} concurrent c+s+d"]

    def __init__(self, b):
        self.b = b
        self.lines = []

    def stats(self, metric, name, key):
        samples = [s for s in self.b.results.get(metric, {}).get(name, []) if s["status"] == 0]
        vals = [s[key] for s in samples if s[key] is not None and s[key] >= 0]
        if not vals:
            return None
        return {"med": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}

    def med(self, metric, name, key):
        s = self.stats(metric, name, key)
        return s["med"] if s else None

    def fails(self, metric, name):
        return sum(1 for s in self.b.results.get(metric, {}).get(name, []) if s["status"] != 0)

    def w(self, s=""):
        self.lines.append(s)

    @staticmethod
    def ratio(a, b):
        return f"{a / b:.2f}" if a is not None and b else "–"

    @staticmethod
    def ms(v):
        if v is None:
            return "n/a"
        return f"{v:.0f}" if v >= 100 else f"{v:.1f}" if v >= 10 else f"{v:.2f}"

    def cell(self, st):
        if not st:
            return "n/a"
        return f"**{self.ms(st['med'])}** ({self.ms(st['min'])}–{self.ms(st['max'])})"

    # -- sections -------------------------------------------------------------

    def header(self):
        b = self.b
        now = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
        model = ""
        for line in sh(["lscpu"]).splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
        mem = ""
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = f"{int(line.split()[1]) / MiB:.0f} GiB"
        commit = sh(["git", "-C", REPO, "describe", "--always", "--dirty"])
        env = []
        for k in ("BENCH_RUNS", "BENCH_BATCH_RUNS", "BENCH_QUICK", "BENCH_RUNTIMES", "BENCH_VM",
                  "BENCH_VM_RUNS", "BENCH_VM_MEM_RUNS", "BENCH_PHASES"):
            if os.environ.get(k):
                env.append(f"{k}={shlex.quote(os.environ[k])}")
        self.w("# Benchmarks: nook vs runc vs crun")
        self.w()
        self.w("<!-- Written by bench/run (make bench). Edits are overwritten. -->")
        self.w()
        self.w(f"- date: {now}; the run took {b.elapsed / 60:.1f} min")
        self.w(f"- machine: {model or '?'}, {os.cpu_count()} cpus (nproc {sh(['nproc'])}), "
               f"{mem}, kernel {os.uname().release}")
        self.w(f"- cgroups: {'hybrid (v1 controllers + controller-less unified, unmounted for the run)' if b.hybrid else b.cgmode}")
        for n in b.names:
            self.w(f"- {n}: {b.versions_.get(n, '?')} (`{b.runtimes[n] if n != 'nook' else os.environ.get('BENCH_NOOK_ORIG')}`)")
        self.w(f"- nook source: {commit or '?'}")
        if b.missing:
            self.w(f"- not found, left out: {', '.join(b.missing)}")
        self.w(f"- samples: {RUNS} per single-operation metric, {BATCH_RUNS} of the {SEQ}-run and "
               f"{CONC}-container metrics{'; QUICK mode' if QUICK else ''}")
        self.w(f"- reproduce: `{' '.join(env + ['make', 'bench'])}` as root at the top of the "
               "repository (`make bench` builds nook, then runs `bench/run`)")
        self.w()
        if os.path.exists(PNG):
            self.w(f"![medians normalized to crun]({os.path.basename(PNG)})")
            self.w()
            self.w("The floor has no create/start/delete bars, and its bar under run+seccomp is its "
                   "plain `run` (it loads no filter).")
            self.w()

    def method(self):
        b = self.b
        nsc = sum(len(g.get("names", [])) for g in (b.seccomp or {}).get("syscalls", []))
        self.w("## How it is measured")
        self.w()
        self.w(f"""- One bundle for all: the busybox rootfs of `scripts/mkbundle.sh` (read-only,
  shared by every bundle) and `nook spec`'s config with args `/bin/true`, without
  `linux.seccomp` (runc's default spec shape: same namespaces, mounts, masked and read-only
  paths, capabilities, rlimit, devices rule; nook's spec differs from `runc spec` only in
  hostname, one extra masked path that does not exist here and no ambient capabilities).
  ociVersion is set to 1.0.2-dev (what `runc spec` writes) because crun 1.8.1 refuses
  {b.spec_version}. No cgroupsPath: every runtime makes a cgroup named after the container in
  every v1 hierarchy.
- Each runtime has its own `--root` on a tmpfs (as /run usually is; mounted in the private
  namespace below); nook is a copy of the binary taken at the start.
- Everything (every runtime and the floor) runs in one private mount namespace made by
  `unshare -m --propagation private`, where /sys/fs/cgroup/unified is unmounted (crun refuses
  hybrid mode otherwise; nook and runc then use their v1 code too).
- Runtimes alternate (nook, runc, crun, floor, nook, ...) so that drift of the machine hits all
  alike. Numbers are medians with (min–max) of the successful samples.
- `bench/measure.c` spawns each command (posix_spawn) and reaps it with wait4: **wall** is
  CLOCK_MONOTONIC around spawn and reap; **cpu** is user+sys from wait4's rusage: the runtime
  process plus every descendant it reaped (for `run` and `exec`, also the container process
  and /bin/true). measure is a child subreaper: the init that `create` leaves behind is
  reparented to it and reaped after `start` (its cpu is the `init` line, counted in
  create+start+delete; the init's set-up work happens there, not in the `create` process).
- **peak RSS**: `ru_maxrss` from wait4 of the runtime process, which is the largest peak of the
  runtime and of the descendants it reaped (for `run`, also the container's /bin/true); and
  VmHWM of the runtime's own main process alone, read when it exits and before each execve
  it makes (crun and nook re-execute; ptrace, in separate runs whose times are not used).
  The 2.5 MiB target is checked against both.
- **floor** (`bench/floor.c`): only the kernel work of the same `run`: cgroup mkdir in every
  hierarchy (cpuset copied from the parent, the devices rules the runtimes write), clone3 with
  the same namespaces, joining the cgroups, the config's mounts (proc, /dev tmpfs + mknod of
  null zero full random urandom tty + symlinks, devpts, shm, mqueue, sysfs ro, cgroup tmpfs
  with a read-only bind per hierarchy, masked and read-only paths), pivot_root, read-only root,
  hostname, lo up, session keyring, rlimit, ids, capabilities, no_new_privs, exec, wait, rmdir.
  No parsing, no state, no sync. `floor exec` joins a container (setns on a pidfd, cgroups),
  forks and execs /bin/true.
- **exec**: each runtime execs `/bin/true` into its own running `sleep 1000` container.
- **seccomp**: the profile is `nook spec`'s linux.seccomp (docker-sized: {nsc} syscall names,
  default SCMP_ACT_ERRNO), the same for all three. nook's compiled-filter cache is the bench's
  own (`NOOK_SECCOMP_CACHE`, on the disk like root's `/var/cache/nook/seccomp`), filled at the
  start by `nook seccomp-precompile` as `make install` fills the host's. Each iteration runs
  without the profile, with it (warm), with it under a new empty `--root` (cold: the first
  container with it in a new engine namespace) and with it after emptying the cache (compile:
  libseccomp's work; runc and crun compile on every run anyway). The deltas are medians of
  per-iteration differences.
- **memory limit**: `linux.resources.memory.limit` (memory.limit_in_bytes on v1) bisected in
  4 KiB steps between 64 MiB and 64 KiB; a limit passes when {MEM_TRIES} run(s) of /bin/true in a
  row exit 0. The floor writes the same limit before its child joins the cgroup.
""")

    def timing_table(self):
        b = self.b
        self.w("## Time (ms)")
        self.w()
        self.w("| metric | runtime | wall: median (min–max) | cpu: median (min–max) | wall ÷ crun | "
               "cpu ÷ crun | wall ÷ floor | cpu ÷ floor | n |")
        self.w("|---|---|---|---|---|---|---|---|---|")
        for metric, _, floor_metric in self.TIMED + [("init", "", None)]:
            if metric not in b.results:
                continue
            for n in b.all:
                if n == "floor" and floor_metric != metric:
                    continue
                wst, cst = self.stats(metric, n, "wall"), self.stats(metric, n, "cpu")
                if metric == "init":
                    wst = None
                if not wst and not cst and n not in b.results[metric]:
                    continue
                cw, cc = self.med(metric, "crun", "wall"), self.med(metric, "crun", "cpu")
                fw = fc = None
                if floor_metric:
                    fw, fc = self.med(floor_metric, "floor", "wall"), self.med(floor_metric, "floor", "cpu")
                nfail = self.fails(metric, n)
                ns = (cst or wst or {"n": 0})["n"]
                label = metric if metric != "init" else "init (container process of c+s+d)"
                self.w(f"| {label} | {n} | {self.cell(wst) if metric != 'init' else '–'} | "
                       f"{self.cell(cst)} | {self.ratio(wst and wst['med'], cw)} | "
                       f"{self.ratio(cst and cst['med'], cc)} | "
                       f"{self.ratio(wst and wst['med'], fw) if n != 'floor' else '1'} | "
                       f"{self.ratio(cst and cst['med'], fc) if n != 'floor' else '1'} | "
                       f"{ns}{f' ({nfail} failed)' if nfail else ''} |")
        self.w()
        self.w("For create+start+delete the floor column compares with the floor's `run`, which "
               "does the same kernel work.")
        self.w()

    def seccomp_table(self):
        b = self.b
        if "run + seccomp (warm)" not in b.results:
            return
        self.w("## Cost of the docker-sized seccomp profile (ms, median of per-run differences)")
        self.w()
        self.w("| runtime | run without | Δ wall warm | Δ cpu warm | Δ wall cold | Δ cpu cold "
               "| Δ wall compile | Δ cpu compile |")
        self.w("|---|---|---|---|---|---|---|---|")
        self.sc_delta = {}
        for n in b.names:
            plain = b.results.get("sc:plain", {}).get(n, [])
            row = [n, self.ms(self.med("sc:plain", n, "wall"))]
            for kind in ("warm", "cold", "compile"):
                with_ = b.results.get(f"run + seccomp ({kind})", {}).get(n, [])
                for key in ("wall", "cpu"):
                    d = [w[key] - p[key] for p, w in zip(plain, with_)
                         if p["status"] == 0 and w["status"] == 0]
                    v = statistics.median(d) if d else None
                    self.sc_delta[(n, kind, key)] = v
                    row.append("n/a" if v is None else f"{v:+.2f}")
            self.w("| " + " | ".join(row) + " |")
        self.w()
        sc = getattr(b, "sc_cost", None)
        if sc:
            parse = sc["parse_seccomp"] - sc["parse_plain"]
            rest = sc["attach"] + sc["lookup"] + parse
            self.w(f"Where nook's warm Δ goes (`bench/seccomp_cost`: nook's library in one "
                   f"process, medians of {sc['n']}, µs): parsing the profile {parse:.0f} (the config "
                   f"with it, {sc['parse_seccomp']:.0f}, against without, {sc['parse_plain']:.0f}); "
                   f"the cache lookup {sc['lookup']:.0f} (SHA-256 key of the profile, the directory "
                   f"chain checked from /, the entry read and its checksum; ~100 before the "
                   f"host-wide cache, whose key hashed more and whose SHA-256 over the instructions "
                   f"cost ~45); the kernel's `seccomp(2)` of the {sc['insns']}-instruction program "
                   f"**{sc['attach']:.0f}**, measured in a forked child. Together {rest:.0f} µs. "
                   f"The attach is the floor: the kernel copies and checks the classic BPF, "
                   f"converts it to eBPF and JIT-compiles it (`perf record` of the attach alone: "
                   f"`do_jit` 54% of the samples, `bpf_convert_filter` 7%), then fills the "
                   f"per-syscall action cache; it grows with the program's length (libseccomp's "
                   f"binary tree for the three x86 ABIs) and every runtime pays it for this profile "
                   f"(libseccomp's list layout, 20% fewer instructions, took 3x as long to attach: "
                   f"the action cache walks the list per syscall). libseccomp's compile, what a "
                   f"cache miss costs: {sc['compile'] / 1000:.1f} ms.")
            self.w()

    def rss_table(self):
        b = self.b
        self.w("## Peak RSS (KiB)")
        self.w()
        self.w("| metric | runtime | median (min–max) | ÷ crun | ÷ floor |")
        self.w("|---|---|---|---|---|")
        rows = [("run", "rss", "run: wait4 ru_maxrss (runtime + reaped children)"),
                ("run (VmHWM)", "hwm", "run: VmHWM of the runtime process"),
                ("exec", "rss", "exec: wait4 ru_maxrss (runtime + reaped children)"),
                ("exec (VmHWM)", "hwm", "exec: VmHWM of the runtime process")]
        for metric, key, label in rows:
            for n in b.all:
                st = self.stats(metric, n, key)
                if not st and n not in b.results.get(metric, {}):
                    continue
                c, f = self.med(metric, "crun", key), self.med(metric, "floor", key)
                cell = "n/a" if not st else f"**{st['med']:.0f}** ({st['min']:.0f}–{st['max']:.0f})"
                self.w(f"| {label} | {n} | {cell} | {self.ratio(st and st['med'], c)} | "
                       f"{self.ratio(st and st['med'], f)} |")
        self.w()

    def memory_table(self):
        b = self.b
        self.w("## Smallest memory limit under which `run /bin/true` succeeds")
        self.w()
        self.w("| runtime | smallest passing limit | 512 KiB | 256 KiB |")
        self.w("|---|---|---|---|")
        for n in b.all:
            m = b.mem.get(n)
            if m:
                best = m["smallest"]
                s = fmt_bytes(best) if best != 64 * KiB else "≤ 64 KiB (lowest probed)"
                self.w(f"| {n} | {s} | {'yes' if m['512K'] else 'no'} | "
                       f"{'yes' if m['256K'] else 'no'} |")
        self.w()

    def targets(self):
        b = self.b
        T = []

        def add(name, value, ok):
            T.append((name, value, "n/a" if ok is None else ("met" if ok else "**missed**")))

        def cmp(metric, key, ref_name, factor, ref_metric=None):
            v = self.med(metric, "nook", key)
            r = self.med(ref_metric or metric, ref_name, key)
            if v is None or not r:
                return "n/a", None
            return f"{v / r:.2f}x ({self.ms(v)} vs {self.ms(r)} ms)", v <= factor * r

        add("run cpu ≤ 0.6x crun", *cmp("run", "cpu", "crun", 0.6))
        add("run wall ≤ 0.7x crun", *cmp("run", "wall", "crun", 0.7))
        add("run cpu ≤ 1.5x floor", *cmp("run", "cpu", "floor", 1.5))
        for op in ("create", "start", "delete"):
            for key in ("wall", "cpu"):
                add(f"{op} {key} ≤ crun", *cmp(op, key, "crun", 1.0))
        for metric, key, label in (("run", "rss", "run, ru_maxrss"), ("run (VmHWM)", "hwm", "run, VmHWM"),
                                   ("exec", "rss", "exec, ru_maxrss"),
                                   ("exec (VmHWM)", "hwm", "exec, VmHWM")):
            v = self.med(metric, "nook", key)
            add(f"peak RSS ≤ 2.5 MiB ({label})", "n/a" if v is None else f"{v:.0f} KiB",
                None if v is None else v <= 2560)
        m = b.mem.get("nook")
        add("runs under a 512 KiB memory limit", fmt_bytes(m["smallest"]) + " smallest" if m else "n/a",
            m["512K"] if m else None)
        add("runs under a 256 KiB memory limit (if possible)",
            ("yes" if m["256K"] else "no") if m else "n/a", m["256K"] if m else None)
        # Issue #19's targets, on cpu (wall, shown too, carries the machine's
        # scheduling noise of a 2-core box).
        for kind, limit in (("warm", 0.3), ("cold", 3.0)):
            v = getattr(self, "sc_delta", {}).get(("nook", kind, "wall"))
            c = getattr(self, "sc_delta", {}).get(("nook", kind, "cpu"))
            add(f"seccomp profile adds ≤ {limit:g} ms ({kind}, cpu; wall shown)",
                "n/a" if c is None else f"{c:+.2f} ms cpu, {v:+.2f} ms wall",
                None if c is None else c <= limit)
        add("exec cpu ≤ 0.7x crun", *cmp("exec", "cpu", "crun", 0.7))
        add("rootless run cpu ≤ 0.6x crun's rootless run", *cmp("rootless run", "cpu", "crun", 0.6))
        if "job" in b.results:
            self.job_targets(add)
        self.w("## Targets (nook)")
        self.w()
        self.w("| target | measured | status |")
        self.w("|---|---|---|")
        for name, value, st in T:
            self.w(f"| {name} | {value} | {st} |")
        self.w()

    def syscalls(self):
        b = self.b
        st = getattr(b, "strace", {})
        if not st:
            return
        cols = [n for n in ("nook", "floor", "crun") if n in st]
        self.w("## Syscalls of one run")
        self.w()
        self.w("`strace -f -c` of one `run` of /bin/true (all processes: runtime, its children, the "
               "container's /bin/true). Totals: " +
               ", ".join(f"{n} {st[n].get('_total', (0, 0))[0]} calls "
                         f"({st[n].get('_total', (0, 0))[1]} failed)" for n in cols) + ".")
        self.w()
        self.w("| syscall | " + " | ".join(f"{n} calls (errors)" for n in cols) + " | why (nook) |")
        self.w("|---|" + "---|" * len(cols) + "---|")
        names = sorted({k for n in cols for k in st[n] if k != "_total"},
                       key=lambda k: (-st.get("nook", {}).get(k, (0, 0))[0], k))
        why = {}
        try:
            with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "syscalls-why.tsv")) as f:
                for line in f:
                    if line.startswith("#") or "\t" not in line:
                        continue
                    k, v = line.rstrip("\n").split("\t", 1)
                    why[k] = v
        except OSError:
            pass
        for k in names:
            cells = []
            for n in cols:
                c, e = st[n].get(k, (0, 0))
                cells.append("" if not c else f"{c}" + (f" ({e})" if e else ""))
            self.w(f"| {k} | " + " | ".join(cells) + f" | {why.get(k, '') if st.get('nook', {}).get(k) else ''} |")
        self.w()

    def job_figures(self):
        """(job ÷ nook run of the job's config, wall and cpu), and the paired
        median of what --report adds, wall and cpu; None where unmeasured."""
        b = self.b
        out = {}
        for key in ("wall", "cpu"):
            j, r = self.med("job", "nook", key), self.med("run (job's config)", "nook", key)
            out[("ratio", key)] = j / r if j is not None and r else None
            plain = b.results.get("job", {}).get("nook", [])
            rep = b.results.get("job + report", {}).get("nook", [])
            d = [w[key] - p[key] for p, w in zip(plain, rep) if p["status"] == 0 and w["status"] == 0]
            out[("report", key)] = statistics.median(d) if d else None
        return out

    def job_targets(self, add):
        f = self.job_figures()
        for key in ("wall", "cpu"):
            v = f[("ratio", key)]
            add(f"nook job ≤ 1.1x nook run of the job's config ({key})",
                "n/a" if v is None else f"{v:.2f}x ({self.ms(self.med('job', 'nook', key))} vs "
                f"{self.ms(self.med(RUN_JOB, 'nook', key))} ms)",
                None if v is None else v <= 1.1)
        rc = self.b.report_cost
        if rc:
            w = (rc["usage_wall"] + rc["write_wall"]) / 1000
            c = (rc["usage_cpu"] + rc["write_cpu"]) / 1000
            add("--report adds ≤ 0.2 ms (in nook's process, wall; cpu shown)",
                f"{w:.3f} ms wall, {c:.3f} ms cpu", w <= 0.2)
        else:
            w, c = f[("report", "wall")], f[("report", "cpu")]
            add("--report adds ≤ 0.2 ms (end to end, wall; cpu shown)",
                "n/a" if w is None else f"{w:+.2f} ms wall, {c:+.2f} ms cpu",
                None if w is None else w <= 0.2)

    def job_table(self):
        b = self.b
        if "job" not in b.results:
            return
        self.w("## nook job")
        self.w()
        self.w("`nook job --rootfs ROOTFS -- /bin/true` (its config: `nook spec`'s defaults, "
               "seccomp profile included, around the shared busybox rootfs, with the private tmpfs "
               "layer `--rootfs` gives), the same with `--report FILE` (on the state tmpfs), and "
               "`run` of a bundle whose config.json is that config. crun ignores the "
               "`nook.rootfs.overlay` annotation: it binds the rootfs instead of mounting the "
               "overlay, so its row does a little less work. The four alternate in each of the "
               f"{RUNS} iterations; what `--report` adds is the median of the per-iteration "
               "differences.")
        self.w()
        self.w("| metric | runtime | wall: median (min–max) | cpu: median (min–max) | n |")
        self.w("|---|---|---|---|---|")
        for metric in ("job", "job + report", "run (job's config)"):
            for n in b.names:
                if n not in b.results.get(metric, {}):
                    continue
                wst, cst = self.stats(metric, n, "wall"), self.stats(metric, n, "cpu")
                self.w(f"| {metric} | {n} | {self.cell(wst)} | {self.cell(cst)} | "
                       f"{wst['n'] if wst else 0} |")
        self.w()
        f = self.job_figures()
        w, c = f[("report", "wall")], f[("report", "cpu")]
        if w is not None:
            self.w(f"`--report` end to end (median of the per-iteration differences): {w:+.2f} ms "
                   f"wall, {c:+.2f} ms cpu (one job varies by milliseconds on a shared machine: the "
                   "target is checked in the process instead, below).")
        rc = b.report_cost
        if rc:
            self.w(f"Inside nook's process (`bench/report_cost.c`, linked with nook's library, "
                   f"medians of {rc['n']}): reading the job's figures from its cgroup "
                   f"(`cgroup_usage`) {rc['usage_wall']:.1f} µs wall, {rc['usage_cpu']:.1f} µs cpu; "
                   f"writing the report to a file on the state tmpfs {rc['write_wall']:.1f} µs "
                   f"wall, {rc['write_cpu']:.1f} µs cpu. Without `--report` neither happens.")
        self.w()
        T = []
        self.job_targets(lambda name, value, ok: T.append(
            (name, value, "n/a" if ok is None else ("met" if ok else "**missed**"))))
        self.w("| target | measured | status |")
        self.w("|---|---|---|")
        for name, value, st in T:
            self.w(f"| {name} | {value} | {st} |")
        self.w()

    def errors(self):
        b = self.b
        if not b.errors and not b.notes:
            return
        self.w("## Failures and notes")
        self.w()
        for (metric, n), text in sorted(b.errors.items()):
            if metric.startswith("sc:"):
                metric = "run (seccomp pairs)"
            self.w(f"- {metric} / {n}: {text}")
        for note in b.notes:
            self.w(f"- {note}")
        self.w()

    def chart(self):
        """Grouped bars of median wall and cpu per metric and runtime,
        normalized to crun (gnuplot; skipped without it)."""
        b = self.b
        if not resolve("gnuplot") or "crun" not in b.names:
            if os.path.exists(PNG):
                os.unlink(PNG)
            self.b.notes.append("no chart: gnuplot (or crun) missing.")
            return
        floor_of = {m: f for m, _, f in self.TIMED}
        data = os.path.join(b.tmp, "chart.dat")
        short = {"run + seccomp (warm)": "run+seccomp", f"{SEQ} sequential runs": f"{SEQ}x run",
                 f"{CONC} concurrent c+s+d": f"{CONC}x c+s+d (parallel)"}
        with open(data, "w") as f:
            for key in ("wall", "cpu"):
                f.write("metric " + " ".join(b.all) + "\n")
                for metric in self.CHART:
                    row = [f'"{short.get(metric, metric)}"']
                    ref = self.med(metric, "crun", key)
                    for n in b.all:
                        src = floor_of.get(metric) if n == "floor" else metric
                        v = self.med(src, n, key) if src else None
                        row.append(f"{v / ref:.3f}" if v is not None and ref else "?")
                    f.write(" ".join(row) + "\n")
                f.write("\n\n")
        ncol = len(b.all)
        script = f"""
set terminal pngcairo size 1200,820 font "sans,10"
set output "{PNG}"
set multiplot layout 2,1 title "nook vs runc vs crun vs floor: medians normalized to crun (lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key top left
set yrange [0:*]
set xtics scale 0
set datafile missing "?"
set ylabel "wall / crun"
plot for [i=2:{ncol + 1}] "{data}" index 0 using i:xtic(1) title columnheader(i), 1 notitle with lines dt 2 lc rgb "black"
set ylabel "cpu / crun"
plot for [i=2:{ncol + 1}] "{data}" index 1 using i:xtic(1) title columnheader(i), 1 notitle with lines dt 2 lc rgb "black"
unset multiplot
"""
        os.makedirs(os.path.dirname(PNG), exist_ok=True)
        r = subprocess.run(["gnuplot"], input=script.encode(), capture_output=True)
        if r.returncode != 0:
            self.b.notes.append("gnuplot failed: " +
                                " ".join(r.stderr.decode(errors="replace").split())[-200:])

    def write(self):
        if PHASES:
            # Some phases only: their sections, no chart, no targets of the rest.
            if any(p not in ("job", "rootless", "vm") for p in PHASES):
                self.timing_table()
            if "seccomp" in PHASES:
                self.seccomp_table()
            self.job_table()
            if "rootless" in PHASES:
                report_rootless(self)
            if "vm" in PHASES:
                report_vm(self)
            self.errors()
            body = self.lines
            self.lines = []
            self.header()
            os.makedirs(os.path.dirname(OUT), exist_ok=True)
            with open(OUT, "w") as f:
                f.write("\n".join(self.lines + body).rstrip() + "\n")
            return
        self.chart()
        # header() is written last into place: it needs the chart's existence.
        self.method()
        self.targets_placeholder = len(self.lines)
        self.seccomp_table()  # computes the deltas the targets use
        sc = self.lines[self.targets_placeholder:]
        del self.lines[self.targets_placeholder:]
        self.targets()
        self.timing_table()
        self.lines.extend(sc)
        self.job_table()
        self.rss_table()
        self.memory_table()
        report_rootless(self)
        report_vm(self)
        self.syscalls()
        self.errors()
        body = self.lines
        self.lines = []
        self.header()
        # The systemd driver's section is measured elsewhere (bench/systemd,
        # in a VM with systemd as PID 1): kept as it is.
        kept = ""
        if os.path.exists(OUT):
            with open(OUT) as f:
                m = re.search(r"<!-- systemd-driver:.*?<!-- /systemd-driver -->", f.read(), re.S)
            kept = "\n\n" + m.group(0) if m else ""
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        with open(OUT, "w") as f:
            f.write(("\n".join(self.lines + body).rstrip() + kept).rstrip() + "\n")
