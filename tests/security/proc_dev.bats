#!/usr/bin/env bats
# The kernel interfaces a root container must not reach, with nook's
# default `spec` config (root inside, no user namespace: uid 0 is the host's
# root, so only mounts, masks, capabilities and the device cgroup stand
# between the container and the host):
#  - /proc/sysrq-trigger and /proc/sys (core_pattern: the classic escape
#    through a core dump helper run on the host; drop_caches) read-only
#  - /dev/mem, /dev/kmem, /dev/port absent, and not creatable/openable
#  - a host disk: mknod of the host's root block device, then open (the
#    device cgroup must refuse)
#  - /proc/kcore and the other maskedPaths unreadable
#  - /sys read-only (and /sys/fs/cgroup)
# Each test has a contrast run with the protection taken out of the config
# (checking with access(2) or a harmless read, never a damaging write), so
# it can fail; writes that a hole would let through are of values put back
# in teardown or of the host's current value.

load ../integration/helpers
load security_helpers

setup() {
  nook_setup
  save_core_pattern
}

teardown() {
  restore_core_pattern
  nook_teardown
}

PROGS=$REPO_ROOT/tests/.work/progs

setup_file() {
  make -s -C "$REPO_ROOT/tests/security/progs" >&2 || return 1
}

# bundle ARGS...: a bundle with the access(2) probe in /bin (busybox's
# `test -w` ignores read-only mounts).
bundle() {
  setup_bundle "$@"
  cp "$PROGS/access" rootfs/bin/
}

# Add capability $1 to the default config's bounding, effective, permitted.
add_cap() {
  update_config "
for k in ('bounding', 'effective', 'permitted'):
    c['process']['capabilities'][k].append('$1')"
}

@test "proc: /proc/sysrq-trigger cannot be written" {
  # 'h' (help) only logs, were the write to go through.
  bundle sh -c 'echo h > /proc/sysrq-trigger && echo sysrq-written; access w /proc/sysrq-trigger'
  run nook run "$ID"
  assert_success
  refute_line sysrq-written
  refute_line "/proc/sysrq-trigger ok"

  # A kernel without CONFIG_MAGIC_SYSRQ (this CI host's) has no file to
  # protect: absent inside as outside, and there is no contrast to make.
  if [ ! -e /proc/sysrq-trigger ]; then
    assert_line "/proc/sysrq-trigger errno=2"
    return 0
  fi
  # Contrast: without the read-only bind the file is writable.
  assert_line "/proc/sysrq-trigger errno=30" # EROFS
  update_config 'c["linux"]["readonlyPaths"].remove("/proc/sysrq-trigger")'
  set_args access w /proc/sysrq-trigger
  run nook run "$ID"
  assert_success
  assert_line "/proc/sysrq-trigger ok"
}

@test "proc: /proc/sys/kernel/core_pattern and /proc/sys/vm/drop_caches cannot be written, the host's core_pattern is unchanged" {
  local files="/proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches"
  bundle sh -c "echo nook-hole-core > /proc/sys/kernel/core_pattern && echo core-written
echo 1 > /proc/sys/vm/drop_caches && echo caches-written
access w $files"
  run nook run "$ID"
  assert_success
  refute_line core-written
  refute_line caches-written
  assert_line "/proc/sys/kernel/core_pattern errno=30"
  assert_line "/proc/sys/vm/drop_caches errno=30"
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$CORE_PATTERN"

  # Contrast: without /proc/sys in readonlyPaths root could write them.
  update_config 'c["linux"]["readonlyPaths"].remove("/proc/sys")'
  set_args access w $files
  run nook run "$ID"
  assert_success
  assert_line "/proc/sys/kernel/core_pattern ok"
  assert_line "/proc/sys/vm/drop_caches ok"
}

@test "dev: /dev/mem, /dev/kmem and /dev/port are absent and cannot be made (even with CAP_MKNOD and CAP_SYS_RAWIO)" {
  bundle sh -c 'for d in mem:1:1 kmem:1:2 port:1:4; do n=${d%%:*}; [ -e /dev/$n ] && echo "$n present"; done
add() { d=$1; n=${d%%:*}; mm=${d#*:}; mknod /dev/$n c ${mm%:*} ${mm#*:} 2>&1 && echo "$n made"; head -c 1 /dev/$n >/dev/null 2>&1 && echo "$n opened"; }
for d in mem:1:1 kmem:1:2 port:1:4; do add $d; done; true'
  add_cap CAP_MKNOD
  add_cap CAP_SYS_RAWIO
  run nook run "$ID"
  assert_success
  refute_line --partial present
  refute_line --partial opened
  # cgroup v1's device controller refuses the mknod, cgroup v2's the open.
  if grep -q " made" <<<"$output"; then
    true
  else
    assert_output --partial "Operation not permitted"
  fi
}

# The host's root block device as MAJOR MINOR (or another disk's when / is
# not on one).
host_disk() {
  local dev
  dev=$(mountpoint -d /)
  if [ "${dev%%:*}" = 0 ]; then
    dev=$(cat "$(ls -d /sys/block/*/dev | grep -Ev '/(loop|ram|zram)' | head -n1)" 2>/dev/null)
  fi
  [ -n "$dev" ] && [ "${dev%%:*}" != 0 ] || return 1
  echo "${dev%%:*} ${dev#*:}"
}

@test "dev: the host's disk and loop-control cannot be opened, from a node in the image or made inside (device cgroup)" {
  local disk
  disk=$(host_disk) || skip "no host block device found"
  # The image ships the nodes (an image may hold device nodes), and the
  # container, given CAP_MKNOD, tries to make one.  loop-control (10:237)
  # would let it allocate loop devices; opening it is harmless.
  bundle sh -c "mknod /dev/disk2 b $disk 2>&1 && echo mknod-ok
for n in /hostdisk /dev/disk2 /loopctl; do [ -e \$n ] && { if true <\$n; then echo \"\$n opened\"; else echo \"\$n refused\"; fi; }; done; true"
  mknod rootfs/hostdisk b $disk
  mknod rootfs/loopctl c 10 237
  add_cap CAP_MKNOD
  run nook run "$ID"
  assert_success
  refute_line --partial opened
  # Making nodes is allowed (runc's default rules allow "m" on every
  # device, as docker's do): opening them is what the cgroup refuses.
  if [[ $output == *mknod-ok* ]]; then
    assert_line "/dev/disk2 refused"
  fi
  assert_line "/hostdisk refused"
  assert_line "/loopctl refused"
  assert_output --partial "Operation not permitted"

  # Contrast: a device cgroup that allows everything.  (This host may
  # refuse block devices to everyone, root included.)
  update_config 'c["linux"]["resources"]["devices"] = [{"allow": True, "access": "rwm"}]'
  run nook run "$ID"
  assert_success
  assert_line mknod-ok
  assert_line "/loopctl opened"
  if head -c 1 "/dev/block/${disk/ /:}" >/dev/null 2>&1; then
    assert_line "/hostdisk opened"
  fi
}

@test "proc: /proc/kcore and the other masked paths read as nothing" {
  # With CAP_SYS_RAWIO, which /proc/kcore would otherwise need: the mask is
  # what keeps it unreadable.  (This kernel may have no /proc/kcore.)
  local script='for f in /proc/kcore /proc/timer_list /proc/keys /proc/sched_debug /proc/timer_stats /proc/latency_stats; do [ -e $f ] && echo "$f $(head -c 4096 $f 2>/dev/null | wc -c) bytes"; done
for d in /sys/firmware /proc/acpi /proc/scsi /proc/asound; do [ -d $d ] && echo "$d $(ls -A $d | wc -l) entries"; done; true'
  bundle sh -c "$script"
  add_cap CAP_SYS_RAWIO
  run nook run "$ID"
  assert_success
  refute_line --regexp ' [1-9][0-9]* (bytes|entries)$'
  assert_line "/proc/timer_list 0 bytes"
  assert_line "/sys/firmware 0 entries"

  # Contrast: unmasked, the host's timers and firmware tables show (and
  # kcore's ELF header, where there is one).
  update_config 'c["linux"]["maskedPaths"] = []'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^/proc/timer_list [1-9][0-9]* bytes$'
  assert_line --regexp '^/sys/firmware [1-9][0-9]* entries$'
  if [ -e /proc/kcore ]; then
    assert_line "/proc/kcore 4096 bytes"
  fi
}

@test "sys: /sys and /sys/fs/cgroup are read-only" {
  local thp=/sys/kernel/mm/transparent_hugepage/enabled current
  [ -e "$thp" ] || skip "no $thp"
  # The host's current value: a write that went through would change nothing.
  current=$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp")
  bundle sh -c "echo $current > $thp && echo sys-written
access w $thp /sys/fs/cgroup /sys/fs/cgroup/*/ /sys/fs/cgroup/*/release_agent
grep -E ' /sys(/fs/cgroup)? ' /proc/mounts | cut -d' ' -f2,4 | cut -d, -f1; true"
  run nook run "$ID"
  assert_success
  refute_line sys-written
  refute_line --regexp ' ok$'
  assert_line "$thp errno=30"
  assert_line --regexp '^/sys/fs/cgroup/[a-z]+/ errno=30$'
  assert_line "/sys ro"
  assert_equal "$(sed -n 's/.*\[\(.*\)\].*/\1/p' "$thp")" "$current"

  # Contrast: a sysfs mounted without "ro" is writable.
  update_config 'for m in c["mounts"]:
    if m["destination"] == "/sys":
        m["options"].remove("ro")'
  set_args access w $thp
  run nook run "$ID"
  assert_success
  assert_line "$thp ok"
}
