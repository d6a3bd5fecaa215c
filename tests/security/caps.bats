#!/usr/bin/env bats
# Capabilities: what a container process holds must be what its config
# gives, no more.  The five sets in /proc/self/status (CapInh, CapPrm,
# CapEff, CapBnd, CapAmb) are compared with masks computed here from the
# config's names (kernel numbering) and the execve rules of
# capabilities(7): busybox has no file capabilities, so after the exec
#   root:     P' = bounding | inheritable | ambient, E' = P'
#   non-root: P' = E' = ambient
# and inheritable, bounding and ambient are kept (ambient: those also
# permitted and inheritable, the only ones the kernel can raise).  A runtime that leaves a
# capability in the bounding set, or forgets to clear one, shows up as an
# extra bit.  And a setuid-root binary in the image gains nothing under
# noNewPrivileges (with a contrast run without it, where it does).

load ../integration/helpers
load security_helpers

setup_file() {
  make -s -C "$REPO_ROOT/tests/security/progs" >&2 || return 1
}

setup() {
  nook_setup
}

teardown() {
  nook_teardown
}

PROGS=$REPO_ROOT/tests/.work/progs

# Both the process itself (pid 1, sh) and a child it runs (grep) report.
CAPS_SCRIPT='echo "uid $(id -u)"; grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/1/status | sed "s/^/pid1 /"; grep -E "^Cap(Inh|Prm|Eff|Bnd|Amb):" /proc/self/status | sed "s/^/self /"'

# set_caps PYTHON_DICT: process.capabilities = the dict (None: removed).
set_caps() {
  update_config "c['process']['capabilities'] = $1
if c['process']['capabilities'] is None:
    del c['process']['capabilities']"
}

# expected_caps PREFIX: the five lines the kernel should show for
# config.json's process (user and capabilities), as "PREFIX CapXxx:\tHEX".
expected_caps() {
  "$PYTHON" - "$BUNDLE/config.json" "$1" <<'PY'
import json, sys
NAMES = """CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID
SETPCAP LINUX_IMMUTABLE NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW
IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO SYS_CHROOT SYS_PTRACE SYS_PACCT
SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME SYS_TTY_CONFIG MKNOD LEASE
AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG WAKE_ALARM
BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE""".split()
NUMBER = {"CAP_" + n: i for i, n in enumerate(NAMES)}
c = json.load(open(sys.argv[1]))
p = c["process"]
caps = p.get("capabilities", {})
mask = lambda k: sum(1 << NUMBER[n] for n in set(caps.get(k, [])))
bnd, inh = mask("bounding"), mask("inheritable")
# The kernel only raises an ambient capability that is permitted and
# inheritable (runc's `spec` lists ambient ones without inheritable).
amb = mask("ambient") & inh & mask("permitted")
if p["user"]["uid"] == 0:
    prm = eff = bnd | inh | amb
else:
    prm = eff = amb
for name, v in (("Inh", inh), ("Prm", prm), ("Eff", eff), ("Bnd", bnd), ("Amb", amb)):
    print("%s Cap%s:\t%016x" % (sys.argv[2], name, v))
PY
}

# assert_caps_match: the container's sets are the expected ones, for pid 1
# and for a child.
assert_caps_match() {
  local want got
  want=$(expected_caps pid1; expected_caps self)
  got=$(grep -E '^(pid1|self) Cap' <<<"$output")
  [ "$got" = "$want" ] || fail "capability sets differ
--- expected (from config.json)
$want
--- in the container
$got"
}

@test "caps: the default config's sets are exactly its capabilities" {
  setup_bundle sh -c "$CAPS_SCRIPT"
  run nook run "$ID"
  assert_success
  assert_line "uid 0"
  assert_caps_match
  # AUDIT_WRITE (29), KILL (5), NET_BIND_SERVICE (10), nothing else.
  assert_line "$(printf 'pid1 CapEff:\t%016x' $(((1 << 29) | (1 << 5) | (1 << 10))))"
  assert_line "$(printf 'self CapBnd:\t%016x' $(((1 << 29) | (1 << 5) | (1 << 10))))"
}

@test "caps: empty sets leave root with no capability at all" {
  setup_bundle sh -c "$CAPS_SCRIPT"
  set_caps "{'bounding': [], 'effective': [], 'permitted': [], 'inheritable': [], 'ambient': []}"
  run nook run "$ID"
  assert_success
  assert_caps_match
  assert_line "$(printf 'pid1 CapPrm:\t%016x' 0)"
  assert_line "$(printf 'self CapBnd:\t%016x' 0)"
  # ...and it shows: root cannot chown a file it does not own.
  set_args sh -c 'chown 1000 /etc/hostname 2>&1 || echo chown-refused'
  update_config 'c["root"]["readonly"] = False'
  run nook run "$ID"
  assert_line chown-refused
}

@test "caps: a few capabilities, above bit 31 too, with an inheritable set" {
  setup_bundle sh -c "$CAPS_SCRIPT"
  local few="['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_NET_RAW', 'CAP_SYS_CHROOT', 'CAP_MKNOD', 'CAP_SETFCAP', 'CAP_SYSLOG', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE']"
  set_caps "{'bounding': $few, 'effective': $few, 'permitted': $few, 'inheritable': ['CAP_CHOWN', 'CAP_NET_RAW']}"
  run nook run "$ID"
  assert_success
  assert_caps_match
  assert_line "$(printf 'self CapInh:\t%016x' $(((1 << 0) | (1 << 13))))"
  assert_line "$(printf 'pid1 CapBnd:\t%016x' $(((1 << 0) | (1 << 1) | (1 << 13) | (1 << 18) | (1 << 27) | (1 << 31) | (1 << 34) | (1 << 39) | (1 << 40))))"
}

@test "caps: a non-root user holds exactly its ambient capabilities" {
  setup_bundle sh -c "$CAPS_SCRIPT"
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  set_caps "{'bounding': ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_CHOWN', 'CAP_KILL'], 'effective': ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_KILL'], 'permitted': ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_KILL'], 'inheritable': ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW', 'CAP_KILL'], 'ambient': ['CAP_NET_BIND_SERVICE', 'CAP_NET_RAW']}"
  run nook run "$ID"
  assert_success
  assert_line "uid 1000"
  assert_caps_match
  assert_line "$(printf 'self CapEff:\t%016x' $(((1 << 10) | (1 << 13))))"
  assert_line "$(printf 'self CapAmb:\t%016x' $(((1 << 10) | (1 << 13))))"

  # Without ambient capabilities the same user has none left after exec.
  update_config 'del c["process"]["capabilities"]["ambient"]'
  run nook run "$ID"
  assert_success
  assert_caps_match
  assert_line "$(printf 'self CapEff:\t%016x' 0)"
  assert_line "$(printf 'pid1 CapPrm:\t%016x' 0)"
}

# A setuid-root copy of the probe in the image, run as uid 1000.
setup_suid() {
  setup_bundle suid_probe
  cp "$PROGS/suid_probe" rootfs/bin/suid_probe
  chown 0:0 rootfs/bin/suid_probe
  chmod 4755 rootfs/bin/suid_probe
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
}

@test "caps: a setuid-root binary gains nothing under noNewPrivileges" {
  setup_suid
  update_config 'c["process"]["noNewPrivileges"] = True'
  run nook run "$ID"
  assert_success
  assert_line "ruid=1000 euid=1000"
  assert_line --regexp $'^CapPrm:\t0000000000000000$'
  assert_line --regexp $'^CapEff:\t0000000000000000$'
  assert_line --regexp $'^NoNewPrivs:\t1$'
}

@test "caps: without noNewPrivileges the same setuid-root binary does become root (the contrast)" {
  setup_suid
  update_config 'c["process"]["noNewPrivileges"] = False'
  run nook run "$ID"
  assert_success
  assert_line "ruid=1000 euid=0"
  assert_line --regexp $'^NoNewPrivs:\t0$'
  # Root by exec gets the bounding set, still no more than the config's.
  assert_line "$(printf 'CapEff:\t%016x' $(((1 << 29) | (1 << 5) | (1 << 10))))"
}

@test "caps: a setuid-root busybox gains nothing under noNewPrivileges (and does without)" {
  # busybox takes the applet from argv[1] when its name starts with
  # "busybox".  It drops a setuid it did not ask for before most applets
  # run (euid back to 1000), but what exec gave it stays in the saved uid
  # and the permitted set: read from the status file of a sleeping applet.
  # Polls until the child has exec'd (its Name changes): a fixed delay reads
  # the forked shell's status on a slow machine.
  setup_bundle sh -c 'busybox-suid sleep 600 & p=$!
    until grep -q "^Name:.busybox-suid" /proc/$p/status; do sleep 0.05; done
    grep -E "^(Uid|CapPrm|NoNewPrivs):" /proc/$p/status; kill $p; wait'
  cp rootfs/bin/busybox rootfs/bin/busybox-suid
  chown 0:0 rootfs/bin/busybox-suid
  chmod 4755 rootfs/bin/busybox-suid
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}; c["process"]["noNewPrivileges"] = True'
  run nook run "$ID"
  assert_success
  assert_line --regexp $'^Uid:\t1000\t1000\t1000\t1000$'
  assert_line --regexp $'^CapPrm:\t0000000000000000$'
  assert_line --regexp $'^NoNewPrivs:\t1$'

  update_config 'c["process"]["noNewPrivileges"] = False'
  run nook run "$ID"
  assert_success
  assert_line --regexp $'^Uid:\t1000\t1000\t0\t1000$'
  assert_line "$(printf 'CapPrm:\t%016x' $(((1 << 29) | (1 << 5) | (1 << 10))))"
}
