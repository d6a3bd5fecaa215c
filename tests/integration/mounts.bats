#!/usr/bin/env bats
# root, mounts, default devices, maskedPaths/readonlyPaths, sysctl, --no-pivot.

load helpers

# Print "mountpoint fstype options" for every mount (from mountinfo).
MOUNTS_SCRIPT='awk '"'"'{ for (i = 7; $i != "-"; i++); print $5, $(i + 1), $6 }'"'"' /proc/self/mountinfo'

# mount_line OUTPUT MOUNTPOINT: "fstype options" of the last mount there.
mount_of() {
  awk -v m="$2" '$1 == m { l = $2 " " $3 } END { print l }' <<<"$1"
}

@test "default mounts: proc, /dev tmpfs, devpts, shm, mqueue, sysfs" {
  setup_bundle sh -c "$MOUNTS_SCRIPT"
  run nook run "$ID"
  assert_success
  [[ $(mount_of "$output" /proc) == "proc "* ]] || fail "/proc: $(mount_of "$output" /proc)"
  [[ $(mount_of "$output" /dev) == "tmpfs "* ]] || fail "/dev: $(mount_of "$output" /dev)"
  [[ $(mount_of "$output" /dev/pts) == "devpts "* ]] || fail "/dev/pts"
  [[ $(mount_of "$output" /dev/shm) == "tmpfs "* ]] || fail "/dev/shm"
  [[ $(mount_of "$output" /dev/mqueue) == "mqueue "* ]] || fail "/dev/mqueue"
  [[ $(mount_of "$output" /sys) == "sysfs "* ]] || fail "/sys"
  # options from the default spec
  [[ $(mount_of "$output" /sys) == *ro* ]] || fail "/sys not read-only"
  [[ $(mount_of "$output" /dev/shm) == *nosuid*nodev*noexec* ]] || fail "/dev/shm options: $(mount_of "$output" /dev/shm)"
}

@test "the container does not see the host's mounts" {
  setup_bundle sh -c "$MOUNTS_SCRIPT"
  run nook run "$ID"
  assert_success
  # the bundle path (a host path) is not a mount point inside
  refute_output --partial "$BATS_TEST_TMPDIR"
  # exactly one root mount
  [ "$(awk '$1 == "/"' <<<"$output" | wc -l)" -eq 1 ]
}

@test "root.readonly true: writing to / fails; false: it works" {
  setup_bundle sh -c 'touch /newfile && echo wrote'
  update_config 'c["root"]["readonly"] = True'
  run nook run "$ID"
  assert_failure
  refute_output --partial wrote
  assert_output --partial 'Read-only file system'

  update_config 'c["root"]["readonly"] = False'
  run nook run "$ID"
  assert_success
  assert_output wrote
  [ -e rootfs/newfile ]
}

@test "root.readonly: / is mounted ro, tmpfs mounts stay writable" {
  setup_bundle sh -c "$MOUNTS_SCRIPT; echo x > /dev/shm/f && echo shm-ok"
  update_config 'c["root"]["readonly"] = True'
  run nook run "$ID"
  assert_success
  [[ $(awk '$1 == "/" {print $3}' <<<"$output") =~ (^|,)ro(,|$) ]] || fail "/ is not ro"
  assert_line shm-ok
}

@test "root.path may be absolute" {
  setup_bundle cat /etc/hostname
  update_config "c['root']['path'] = '$BUNDLE/rootfs'"
  cd /
  run nook run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output nook-test
}

@test "mounts: a read-only /dev still gets devpts and the default nodes, then is read-only" {
  setup_bundle sh -c "$MOUNTS_SCRIPT"'; [ -c /dev/null ] && echo null-ok; [ -c /dev/pts/ptmx ] && echo pts-ok
touch /dev/new 2>&1 || echo write-refused'
  update_config 'next(m for m in c["mounts"] if m["destination"] == "/dev")["options"].append("ro")'
  run nook run "$ID"
  assert_success
  [[ $(mount_of "$output" /dev) == "tmpfs ro,"* ]] || fail "/dev: $(mount_of "$output" /dev)"
  [[ $(mount_of "$output" /dev/pts) == "devpts "* ]] || fail "/dev/pts: $(mount_of "$output" /dev/pts)"
  assert_line null-ok
  assert_line pts-ok
  assert_line --partial 'Read-only file system'
  assert_line write-refused
}

@test "mounts: a bind mount shows the host directory; ro prevents writes" {
  setup_bundle sh -c 'cat /data/hello; echo new > /data/new && echo wrote'
  mkdir -p "$BATS_TEST_TMPDIR/data"
  echo hello-from-host >"$BATS_TEST_TMPDIR/data/hello"
  update_config "c['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$BATS_TEST_TMPDIR/data', 'options': ['rbind', 'rw']})"
  run nook run "$ID"
  assert_success
  assert_line hello-from-host
  assert_line wrote
  [ "$(cat "$BATS_TEST_TMPDIR/data/new")" = new ]

  update_config "c['mounts'][-1]['options'] = ['rbind', 'ro']"
  run nook run "$ID"
  assert_failure
  assert_line hello-from-host
  refute_line wrote
}

@test "mounts: the destination is created when missing" {
  setup_bundle sh -c 'cat /deep/inside/dir/hello'
  mkdir -p "$BATS_TEST_TMPDIR/data"
  echo deep >"$BATS_TEST_TMPDIR/data/hello"
  update_config "c['mounts'].append({'destination': '/deep/inside/dir', 'type': 'bind', 'source': '$BATS_TEST_TMPDIR/data', 'options': ['rbind', 'ro']})"
  run nook run "$ID"
  assert_success
  assert_output deep
}

@test "mounts: a bind-mounted file" {
  setup_bundle cat /etc/motd
  echo motd-from-host >"$BATS_TEST_TMPDIR/motd"
  update_config "c['mounts'].append({'destination': '/etc/motd', 'type': 'bind', 'source': '$BATS_TEST_TMPDIR/motd', 'options': ['bind', 'ro']})"
  run nook run "$ID"
  assert_success
  assert_output motd-from-host
}

@test "mounts: tmpfs with options; noexec is enforced" {
  setup_bundle sh -c "$MOUNTS_SCRIPT; cp /bin/busybox /scratch/bb && /scratch/bb true && echo exec-ok"
  update_config 'c["mounts"].append({"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev", "noexec", "size=16m", "mode=1777"]})'
  run nook run "$ID"
  [[ $(mount_of "$output" /scratch) == tmpfs* ]] || fail "no tmpfs at /scratch"
  [[ $(mount_of "$output" /scratch) == *noexec* ]] || fail "noexec missing"
  refute_line exec-ok
}

@test "maskedPaths: masked files read empty, masked dirs are empty" {
  [ "$(head -c 1 /proc/timer_list 2>/dev/null | wc -c)" = 1 ] && [ -n "$(ls -A /sys/firmware 2>/dev/null)" ] ||
    skip "host has no /proc/timer_list or /sys/firmware content to mask"
  setup_bundle sh -c 'wc -c < /proc/timer_list; ls -A /sys/firmware | wc -l'
  update_config 'c["linux"]["maskedPaths"] = ["/proc/timer_list", "/sys/firmware", "/does/not/exist"]'
  run nook run "$ID"
  assert_success
  assert_line --index 0 0
  assert_line --index 1 0

  # unmasked, they have content (so the check above means something)
  update_config 'c["linux"]["maskedPaths"] = []'
  run nook run "$ID"
  assert_success
  [ "${lines[0]}" -gt 0 ]
  [ "${lines[1]}" -gt 0 ]
}

@test "readonlyPaths: writes there fail" {
  setup_bundle sh -c 'echo 1 > /proc/sys/kernel/domainname && echo wrote'
  update_config 'c["linux"]["readonlyPaths"] = ["/proc/sys"]
c["process"]["capabilities"]["bounding"].append("CAP_SYS_ADMIN")
c["process"]["capabilities"]["effective"].append("CAP_SYS_ADMIN")
c["process"]["capabilities"]["permitted"].append("CAP_SYS_ADMIN")'
  run nook run "$ID"
  assert_failure
  refute_output --partial wrote

  # the same write works without the read-only path (and with CAP_SYS_ADMIN)
  update_config 'c["linux"]["readonlyPaths"] = []'
  run nook run "$ID"
  assert_success
  assert_output wrote
}

@test "default devices exist with their numbers" {
  setup_bundle sh -c 'for d in null zero full random urandom tty; do stat -c "%n %F %t:%T" /dev/$d; done; readlink /dev/ptmx; readlink /dev/fd; echo data > /dev/null && echo null-ok'
  run nook run "$ID"
  assert_success
  assert_line "/dev/null character special file 1:3"
  assert_line "/dev/zero character special file 1:5"
  assert_line "/dev/full character special file 1:7"
  assert_line "/dev/random character special file 1:8"
  assert_line "/dev/urandom character special file 1:9"
  assert_line "/dev/tty character special file 5:0"
  assert_line --regexp '^(/dev/)?pts/ptmx$'
  assert_line /proc/self/fd
  assert_line null-ok
}

@test "linux.devices: an extra device node is created" {
  setup_bundle stat -c "%n %F %t:%T %a" /dev/mydev
  update_config 'c["linux"]["devices"] = [{"path": "/dev/mydev", "type": "c", "major": 1, "minor": 5, "fileMode": 0o640, "uid": 0, "gid": 0}]'
  run nook run "$ID"
  assert_success
  assert_output "/dev/mydev character special file 1:5 640"
}

@test "linux.sysctl: applied inside the container's namespaces" {
  setup_bundle cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax
  update_config 'ns_add("network"); ns_add("ipc")
c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1", "kernel.msgmax": "4321"}'
  run nook run "$ID"
  assert_success
  assert_line --index 0 1
  assert_line --index 1 4321
  [ "$(cat /proc/sys/kernel/msgmax)" != 4321 ]
}

# traced TRACE ARGS...: the runtime (global options and --root included) run
# with ARGS under strace, its pivot_root and chroot calls (and its children's)
# written to TRACE.  From inside, a chroot after MS_MOVE onto / and a
# pivot_root look the same; the calls themselves tell them apart.
traced() {
  local trace=$1
  shift
  timeout --foreground -k 5 "$NOOK_CMD_TIMEOUT" strace -f -qq -e trace=pivot_root,chroot -e signal=none \
    -o "$trace" "$NOOK" ${NOOK_OPTS:-} --root "$NOOK_ROOT" "$@"
}

# assert_pivot TRACE yes|no: whether the container's root came from pivot_root
# (yes) or from chroot without any pivot_root (no).
assert_pivot() {
  local calls
  calls=$(grep -oE '(pivot_root|chroot)\(' "$1" | sort -u | tr -d '(' | tr '\n' ' ')
  if [ "$2" = yes ]; then
    [[ $calls == *pivot_root* ]] || fail "no pivot_root call; calls: '$calls'"
  else
    [[ $calls == *chroot* && $calls != *pivot_root* ]] || fail "wanted chroot and no pivot_root; calls: '$calls'"
  fi
}

@test "run --no-pivot: the container runs in its rootfs, entered by chroot, not pivot_root" {
  setup_bundle sh -c 'cat /etc/hostname; ls /bin/busybox'
  run traced "$BATS_TEST_TMPDIR/trace" run --no-pivot "$ID"
  assert_success
  assert_line nook-test
  assert_line /bin/busybox
  assert_pivot "$BATS_TEST_TMPDIR/trace" no
  # Control: the trace sees pivot_root when it happens.
  run traced "$BATS_TEST_TMPDIR/trace" run "$ID"
  assert_success
  assert_line nook-test
  assert_pivot "$BATS_TEST_TMPDIR/trace" yes
}

@test "create --no-pivot: the container runs in its rootfs, entered by chroot, not pivot_root" {
  setup_bundle sh -c 'cat /etc/hostname'
  # strace follows the container's init past create, until it exits.
  local trace=$BATS_TEST_TMPDIR/trace out=$BATS_TEST_TMPDIR/$ID.out
  traced "$trace" create --no-pivot --bundle "$BUNDLE" "$ID" </dev/null >"$out" 2>&1 3>&- &
  local strace_pid=$!
  BG_PIDS+=("$strace_pid")
  wait_for_state "$ID" created
  run nook start "$ID"
  assert_success
  wait_for_state "$ID" stopped
  wait_pid_gone "$strace_pid"
  run container_output "$ID"
  assert_output nook-test
  assert_pivot "$trace" no
}
