"""Rootless in bench/run (issue #18): nook and crun run by an unprivileged
user, `run` and `exec` of /bin/true, alternating.

The user is the one the test suite makes (scripts/rootless-user.sh: made if
missing).  A second bench/measure runs as that user (setpriv: its uid, gid
and groups, no capabilities), so that what is timed is the runtime exactly as
the user starts it.  Each runtime gets a --root of the user's on the bench's
tmpfs.  The config is `nook spec --rootless` (run as the user: a user
namespace mapping its uid to 0, no network namespace, /sys bound), args
/bin/true, the bench's shared read-only rootfs, no seccomp (as the root
bundle), ociVersion 1.0.2-dev (crun 1.8.1).  No cgroup: the user can write
none here (crun and nook alike run without one).  report_rootless() writes
the section of docs/benchmarks.md."""

import json
import os
import pwd
import subprocess

from common import REPO, ROOTLESS, RUNS, log, resolve

RUNTIMES = ("nook", "crun")


class RootlessBench:
    def __init__(self, b, measure_class):
        self.b = b
        self.measure_class = measure_class
        b.rootless = self.res = {"skipped": None, "user": None}

    def skip(self, why):
        log("rootless skipped:", why)
        self.res["skipped"] = why

    def prepare(self):
        b = self.b
        if not ROOTLESS:
            return self.skip("BENCH_ROOTLESS=0")
        self.names = [n for n in RUNTIMES if n in b.runtimes]
        if "nook" not in self.names:
            return self.skip("nook is not among BENCH_RUNTIMES")
        if not resolve("setpriv"):
            return self.skip("setpriv not found (util-linux)")
        r = subprocess.run([os.path.join(REPO, "scripts", "rootless-user.sh")],
                           capture_output=True, text=True)
        if r.returncode != 0 or not r.stdout.strip():
            return self.skip("scripts/rootless-user.sh failed: " + " ".join(r.stderr.split())[-200:])
        name, uid, gid = r.stdout.strip().splitlines()[-1].split()[:3]
        self.uid, self.gid = int(uid), int(gid)
        self.res["user"] = name
        home = pwd.getpwnam(name).pw_dir
        self.dir = os.path.join(b.state, "rootless")
        self.logs = os.path.join(b.logs, "rootless")
        for d in (self.dir, self.logs):
            os.makedirs(d)
        for n in self.names:
            os.makedirs(self.root(n))
            open(self.logfile(n), "a").close()
        bundle = os.path.join(self.dir, "bundle")
        os.makedirs(bundle)
        for dirpath, dirnames, filenames in os.walk(self.dir):
            for e in [dirpath] + [os.path.join(dirpath, f) for f in filenames]:
                os.chown(e, self.uid, self.gid)
        for e in [self.logs] + [self.logfile(n) for n in self.names]:
            os.chown(e, self.uid, self.gid)
        self.prefix_argv = ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid),
                            "--init-groups", "--inh-caps=-all"]
        env = {"PATH": b.env["PATH"], "HOME": home, "USER": name, "LANG": "C.UTF-8"}
        r = subprocess.run(self.prefix_argv + [b.runtimes["nook"], "spec", "--rootless"],
                           cwd=bundle, env=env, capture_output=True, text=True)
        if r.returncode != 0:
            return self.skip("`nook spec --rootless` as the user failed: " +
                             " ".join(r.stderr.split())[-200:])
        with open(os.path.join(bundle, "config.json")) as f:
            c = json.load(f)
        c["process"]["args"] = ["/bin/true"]
        c["process"]["terminal"] = False
        c["linux"].pop("seccomp", None)
        c["ociVersion"] = "1.0.2-dev"
        c["root"]["path"] = b.rootfs
        self.config = c
        self.bundles = {}
        for bname, args in (("true", ["/bin/true"]), ("sleep", ["/bin/sleep", "1000"])):
            d = os.path.join(self.dir, "bundle-" + bname)
            os.makedirs(d)
            c["process"]["args"] = args
            with open(os.path.join(d, "config.json"), "w") as f:
                json.dump(c, f, indent=2)
            os.chown(d, self.uid, self.gid)
            self.bundles[bname] = d
        self.m = self.measure_class(os.path.join(b.bin, "measure"), env, prefix=self.prefix_argv)
        return True

    def root(self, n):
        return os.path.join(self.dir, "root-" + n)

    def logfile(self, n):
        return os.path.join(self.logs, n + ".log")

    def rt(self, n, *args):
        return [self.b.runtimes[n], "--root", self.root(n), *args]

    def timed(self, metric, n, argv):
        b = self.b
        logf = self.logfile(n)
        mark = b.mark(logf)
        s = self.m.run(metric, logf, argv)
        b.record(metric, n, s, logf, mark)
        return s

    def quiet(self, n, argv):
        return self.m.run("setup", self.logfile(n), argv)["status"]

    def run(self):
        if not self.prepare():
            return
        try:
            self.measure()
        finally:
            for n in self.names:
                for e in os.listdir(self.root(n)):
                    if not e.startswith("."):
                        self.quiet(n, self.rt(n, "delete", "-f", e))
            self.m.close()

    def measure(self):
        b = self.b
        log(f"rootless run and exec of /bin/true (as {self.res['user']}): "
            f"{RUNS} x {len(self.names)}")
        for n in self.names:  # warm up (page cache, nook's state root)
            if self.quiet(n, self.rt(n, "run", "--bundle", self.bundles["true"], b.cid("rlwarm"))):
                log(f"warning: {n} failed to run rootless; see the report")
        for _ in range(RUNS):
            for n in self.names:
                cid = b.cid("rl")
                if self.timed("rootless run", n, self.rt(n, "run", "--bundle",
                                                         self.bundles["true"], cid))["status"]:
                    self.quiet(n, self.rt(n, "delete", "-f", cid))
        cids = {}
        for n in self.names:
            cid = b.cid("rlexec")
            if self.quiet(n, self.rt(n, "run", "-d", "--bundle", self.bundles["sleep"], cid)) == 0:
                cids[n] = cid
            else:
                b.errors[("rootless exec", n)] = "could not start the `sleep` container"
        for _ in range(RUNS):
            for n, cid in cids.items():
                self.timed("rootless exec", n, self.rt(n, "exec", cid, "/bin/true"))
        for n, cid in cids.items():
            self.quiet(n, self.rt(n, "delete", "-f", cid))


def report_rootless(r):
    b = r.b
    res = getattr(b, "rootless", None)
    r.w("## Rootless")
    r.w()
    if res is None:
        r.w("Not run.")
        r.w()
        return
    if res["skipped"]:
        r.w(f"Skipped: {res['skipped']}.")
        r.w()
        return
    r.w(f"""- What: `run` of /bin/true and `exec` of /bin/true into a running container, by the
  unprivileged user `{res['user']}` (scripts/rootless-user.sh), nook and crun alternating,
  {RUNS} samples each (BENCH_ROOTLESS=0 leaves the section out).
- A second bench/measure runs as the user (setpriv: its uid, gid and groups, no
  capabilities) and spawns the runtimes; each has a `--root` of the user's on the tmpfs.
- The config: `nook spec --rootless` run as the user (a user namespace mapping its uid to 0,
  no network namespace, /sys bound from the host), /bin/true, the shared read-only rootfs,
  no seccomp, ociVersion 1.0.2-dev (crun 1.8.1). The user can write no cgroup here, so
  neither runtime makes one; nook binds /dev's nodes from the host (no mknod in a user
  namespace), as crun does.""")
    r.w()
    r.w("| metric | | nook | crun | nook/crun |")
    r.w("|---|---|---|---|---|")
    for metric in ("rootless run", "rootless exec"):
        for key, unit in (("wall", "ms"), ("cpu", "ms")):
            n = r.stats(metric, "nook", key)
            c = r.stats(metric, "crun", key)
            r.w(f"| {metric[9:]} | {key} ({unit}) | {r.cell(n)} | {r.cell(c)} | "
                f"{r.ratio(n['med'] if n else None, c['med'] if c else None)} |")
        n = r.med(metric, "nook", "rss")
        c = r.med(metric, "crun", "rss")
        r.w(f"| {metric[9:]} | peak RSS (KiB, ru_maxrss) | {n if n is None else f'{n:.0f}'} | "
            f"{c if c is None else f'{c:.0f}'} | {r.ratio(n, c)} |")
    r.w()
