#!/usr/bin/env bats
# VM mode's boundary (issue #14): a container given every capability, no
# seccomp filter, no masked or read-only paths and the guest's pid namespace
# reaches out of its own namespaces inside the guest (the guest init's root
# through /proc/1/root) and still finds nothing of the host: not its processes,
# not a marker file that was not shared, not its disks, not its kernel.  A
# process exec'd into the container (issue #15) finds exactly as much.
# One boot for every assertion.

load helpers

ALL_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_DAC_READ_SEARCH","CAP_FOWNER","CAP_FSETID",
  "CAP_KILL","CAP_SETGID","CAP_SETUID","CAP_SETPCAP","CAP_LINUX_IMMUTABLE",
  "CAP_NET_BIND_SERVICE","CAP_NET_BROADCAST","CAP_NET_ADMIN","CAP_NET_RAW","CAP_IPC_LOCK",
  "CAP_IPC_OWNER","CAP_SYS_MODULE","CAP_SYS_RAWIO","CAP_SYS_CHROOT","CAP_SYS_PTRACE",
  "CAP_SYS_PACCT","CAP_SYS_ADMIN","CAP_SYS_BOOT","CAP_SYS_NICE","CAP_SYS_RESOURCE",
  "CAP_SYS_TIME","CAP_SYS_TTY_CONFIG","CAP_MKNOD","CAP_LEASE","CAP_AUDIT_WRITE",
  "CAP_AUDIT_CONTROL","CAP_SETFCAP","CAP_MAC_OVERRIDE","CAP_MAC_ADMIN","CAP_SYSLOG",
  "CAP_WAKE_ALARM","CAP_BLOCK_SUSPEND","CAP_AUDIT_READ","CAP_PERFMON","CAP_BPF",
  "CAP_CHECKPOINT_RESTORE"]'

setup_file() {
  have_qemu || return 0
  kernel_bundle
  local d=$BATS_FILE_TMPDIR b=$BATS_FILE_TMPDIR/bundle
  "$REPO_ROOT/scripts/mkbundle.sh" "$b" >/dev/null
  # A host marker the guest must not reach: a file outside the bundle, and a
  # process with a name to look for.
  echo host-secret >"$d/marker"
  (exec -a "nook-escape-marker-$$" sleep 600) &
  echo $! >"$d/marker.pid"
  echo "nook-escape-marker-$$" >"$d/marker.name"
  # Everything a container can be given, and no pid namespace of its own:
  # the guest init (pid 1) is in reach.
  local script='
    echo kernel=$(uname -r)
    echo pid1=$(tr "\0" " " </proc/1/cmdline)
    for f in /proc/[0-9]*/cmdline; do tr "\0" " " <$f; echo; done | grep -c "nook-escape-marke[r]" | sed "s/^/marker-procs=/"
    echo caps=$(grep CapEff /proc/self/status | cut -f2)
    echo seccomp=$(grep "^Seccomp:" /proc/self/status | cut -f2)
    # Out of the container: the root of the guest init, through /proc/1/root
    # (the initramfs has no shell to nsenter into).
    R=/proc/1/root
    echo escaped-root=$(ls $R | tr "\n" " ")
    echo escaped-mnt=$(ls $R/mnt | tr "\n" " ")
    test -e $R$MARKER && echo marker-file=seen || echo marker-file=absent
    find $R/ -xdev -name marker 2>/dev/null | grep -c . | sed s/^/marker-found=/
    echo block-devices=$(ls /sys/block | tr "\n" " ")
    mkdir -p /tmp/h
    mount -t 9p -o trans=virtio,version=9p2000.L hostroot /tmp/h 2>/dev/null && echo hostroot=mounted || echo hostroot=refused
    echo done'
  script=${script//\$MARKER/$d/marker}
  # The init runs the script and stays; then the same script is exec'd.
  jq --argjson caps "$ALL_CAPS" --arg s "$script; exec sleep 1000" '
    .annotations = {"nook.vm": "qemu"}
    | .process.args = ["sh", "-c", $s]
    | .process.capabilities = {bounding: $caps, effective: $caps, permitted: $caps}
    | del(.linux.seccomp) | .linux.maskedPaths = [] | .linux.readonlyPaths = []
    | .linux.namespaces |= map(select(.type != "pid"))
    | .root.readonly = false' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
  local rc=0 i
  timeout 600 "$NOOK" --root "$d/root" run -d -b "$b" test-vmescape >"$d/out" 2>"$d/err" </dev/null || rc=$?
  for ((i = 0; rc == 0 && i < 1200; i++)); do
    grep -qx done "$d/out" && break
    sleep 0.1
  done
  [ "$rc" != 0 ] || timeout 120 "$NOOK" --root "$d/root" exec test-vmescape sh -c "$script" \
    >"$d/exec.out" 2>"$d/exec.err" </dev/null || rc=$?
  echo $rc >"$d/rc"
  "$NOOK" --root "$d/root" delete --force test-vmescape || true
}

teardown_file() {
  local d=$BATS_FILE_TMPDIR
  [ -f "$d/marker.pid" ] && kill "$(cat "$d/marker.pid")" 2>/dev/null
  "$NOOK" --root "$d/root" delete --force test-vmescape 2>/dev/null || true
}

setup() {
  need_qemu
  D=$BATS_FILE_TMPDIR
  [ "$(cat "$D/rc")" = 0 ] || fail "run failed ($(cat "$D/rc")): $(cat "$D/err") $(cat "$D/out")"
  run cat "$D/out"
}

@test "vm escape: the workload had every capability and no seccomp filter" {
  assert_line "caps=000001ffffffffff"
  assert_line "seccomp=0"
  assert_line done
}

@test "vm escape: the guest's processes only, none of the host's" {
  assert_line --regexp '^kernel=[0-9]'
  refute_line "kernel=$(uname -r)"
  assert_line "marker-procs=0"
  # Pid 1 in reach is nook's guest init, not the host's init.
  assert_line --regexp '^pid1=/init ?$'
  kill -0 "$(cat "$D/marker.pid")" || fail "the host marker process is gone: the check proves nothing"
}

@test "vm escape: out of the container namespaces, the guest's root holds no host files" {
  # The escape worked: the guest init's root is nook's initramfs.
  assert_line --regexp '^escaped-root=.*\bnook\b'
  assert_line --regexp '^escaped-mnt='
  assert_line "marker-file=absent"
  assert_line "marker-found=0"
  [ -f "$D/marker" ] || fail "the host marker is gone: the check proves nothing"
}

@test "vm escape: no host disk and no other share reach the guest" {
  assert_line --regexp '^block-devices= *$'
  assert_line "hostroot=refused"
}

@test "vm escape: an exec'd process is confined exactly like the init: the same findings" {
  run diff "$D/out" "$D/exec.out"
  assert_success
  run cat "$D/exec.out"
  assert_line "marker-procs=0"
  assert_line "marker-file=absent"
  assert_line "hostroot=refused"
  assert_line done
}
