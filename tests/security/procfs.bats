#!/usr/bin/env bats
# procfs write redirection (CVE-2025-52881 class): the runtime writes to
# procfs (sysctls, and masks/read-only remounts of /proc paths) after the
# image has had a say in what /proc and its subpaths are.  An image whose
# /proc is a symlink, a mount destination symlinked into /proc, and sysctl
# keys with ".." or "/" components must not make those writes land anywhere
# but the container's own procfs.

load ../integration/helpers
load ../integration/mounts_helpers
load security_helpers

# Host sysctls a vulnerable runtime could write through a crafted key:
# compared after each test and put back in teardown.
SYSCTLS="vm/swappiness kernel/panic kernel/shmmax net/ipv4/ip_forward"

setup() {
  nook_setup
  setup_marker
  local k
  SYSCTL_BEFORE=$(for k in $SYSCTLS; do echo "$k $(cat /proc/sys/$k)"; done)
}

teardown() {
  local k v
  while read -r k v; do
    [ "$(cat "/proc/sys/$k")" = "$v" ] || echo "$v" >"/proc/sys/$k"
  done <<<"$SYSCTL_BEFORE"
  nook_teardown
}

assert_host_sysctls_unchanged() {
  local k now
  now=$(for k in $SYSCTLS; do echo "$k $(cat /proc/sys/$k)"; done)
  assert_equal "$now" "$SYSCTL_BEFORE"
}

PROC_CHECK='echo container-started
stat -f -c "proc fs %T" /proc/sys/net/ipv4/ip_forward
echo "ip_forward $(cat /proc/sys/net/ipv4/ip_forward)"
stat -c "timer_list %F %t:%T" /proc/timer_list
( exec 3>>/proc/sys/kernel/printk_ratelimit ) 2>&1 || echo sys-ro
true'

assert_real_proc() {
  assert_line "proc fs proc"
  assert_line "ip_forward 1"
  assert_line "timer_list character special file 1:3"
  # readonlyPaths (/proc/sys) applied to the container's procfs
  assert_line sys-ro
  assert_output --partial "Read-only file system"
}

@test "/proc in the image is a symlink to a host directory" {
  local target
  for target in "$MARKER" ../../host-marker; do
    setup_bundle sh -c "$PROC_CHECK"
    update_config 'ns_add("network")
c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}'
    rmdir rootfs/proc
    ln -s "$target" rootfs/proc
    run nook run "$ID"
    if started_or_refused /proc; then
      assert_real_proc
    fi
    assert_marker_untouched
    assert_host_sysctls_unchanged
  done
}

@test "/proc in the image is a symlink to a fake proc tree inside the image" {
  setup_bundle sh -c "$PROC_CHECK"
  update_config 'ns_add("network")
c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}'
  mkdir -p rootfs/fakeproc/sys/net/ipv4 rootfs/fakeproc/sys/kernel
  echo fake-0 >rootfs/fakeproc/sys/net/ipv4/ip_forward
  echo fake-timer >rootfs/fakeproc/timer_list
  rmdir rootfs/proc
  ln -s /fakeproc rootfs/proc
  local before
  before=$(cd rootfs/fakeproc && find . -printf '%p %y %s %T@\n' | sort && cat sys/net/ipv4/ip_forward timer_list)
  run nook run "$ID"
  if started_or_refused /proc; then
    assert_real_proc
  fi
  # the runtime's writes went to procfs, not into the image's fake files
  assert_equal "$(cd rootfs/fakeproc && find . -printf '%p %y %s %T@\n' | sort && cat sys/net/ipv4/ip_forward timer_list)" "$before"
  assert_host_sysctls_unchanged
  assert_marker_untouched
}

@test "a tmpfs destination symlinked to /proc/sys/kernel does not swallow sysctl writes" {
  setup_bundle sh -c "$STARTED"'echo "shmmax $(cat /proc/sys/kernel/shmmax)"; stat -f -c "kernel fs %T" /proc/sys/kernel/shmmax; true'
  update_config 'ns_add("ipc")
c["linux"]["sysctl"] = {"kernel.shmmax": "12345678"}'
  ln -s /proc/sys/kernel rootfs/evil
  add_mount /evil tmpfs tmpfs size=1m
  run nook run "$ID"
  if started_or_refused /evil; then
    # the sysctl is in the container's procfs, which nothing covers
    assert_line "shmmax 12345678"
    assert_line "kernel fs proc"
  fi
  assert_host_sysctls_unchanged
  assert_marker_untouched
}

@test "sysctl keys with .. or / components are refused" {
  setup_bundle sh -c "$STARTED true"
  update_config 'ns_add("network"); ns_add("ipc")'
  local key
  for key in "net/../vm/swappiness" "net.ipv4/../../vm/swappiness" \
    "net/ipv4/conf/all/../../../../kernel/panic" "net.ipv4.conf..all.forwarding/../../../../../kernel/shmmax" \
    "kernel.shm/../../vm/swappiness" "net/./../vm/swappiness"; do
    update_config "c['linux']['sysctl'] = {'$key': '$(($(cat /proc/sys/vm/swappiness) == 60 ? 61 : 60))'}"
    run nook run "$ID"
    assert_failure
    refute_line container-started
    # (runc 1.1.5 refuses them too, by accident: it turns the dots into
    # slashes and fails to open the resulting path, naming the path)
    is_peer_runtime || assert_output --partial "$key"
    assert_host_sysctls_unchanged
  done
}
