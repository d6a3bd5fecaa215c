#!/usr/bin/env bats
# /dev redirection: an image whose /dev is a symlink to a host directory, or
# whose /dev/null, /dev/console, ... are symlinks or directories, for a
# runtime that creates device nodes and binds over them.  Replays
#  - /dev symlink redirection (device nodes or the /dev tmpfs made on the host)
#  - CVE-2025-31133: maskedPaths are bind mounts of /dev/null; a /dev/null
#    that is a symlink to a procfs file turns the mask into a writable bind
#    of that file
#  - CVE-2025-52565: the pty is bind-mounted onto /dev/console; a symlinked
#    /dev/console redirects that bind onto a procfs file
# Without a /dev mount in mounts[] the image's /dev is the container's /dev,
# so what the image planted there is what the runtime meets.

load ../integration/helpers
load ../integration/mounts_helpers
load security_helpers

setup() {
  nook_setup
  setup_marker
  save_core_pattern
}

teardown() {
  restore_core_pattern
  nook_teardown
}

# Inside: the numbers and type of the default nodes, and that they work.
DEV_CHECK='echo container-started
for d in null zero full tty; do stat -c "node %n %F %t:%T" /dev/$d; done
echo x > /dev/null && [ -z "$(cat /dev/null)" ] && echo null-works
[ "$(head -c 4 /dev/zero | od -An -tx1 | tr -d " ")" = 00000000 ] && echo zero-works
[ -c /dev/pts/ptmx ] && echo pts-works
true'

assert_default_nodes() {
  assert_line "node /dev/null character special file 1:3"
  assert_line "node /dev/zero character special file 1:5"
  assert_line "node /dev/full character special file 1:7"
  assert_line "node /dev/tty character special file 5:0"
  assert_line null-works
  assert_line zero-works
  assert_line pts-works
}

@test "/dev in the image is a symlink to a host directory (absolute and relative)" {
  local target
  for target in "$MARKER" ../../host-marker; do
    setup_bundle sh -c "$DEV_CHECK"
    rm -rf rootfs/dev
    ln -s "$target" rootfs/dev
    run nook run "$ID"
    if started_or_refused /dev; then
      assert_default_nodes
    fi
    assert_marker_untouched
  done
}

@test "/dev/null, /dev/zero, /dev/full, /dev/tty replaced by symlinks and directories (no /dev mount)" {
  setup_bundle sh -c "$DEV_CHECK"
  drop_dev_mount
  ln -s "$MARKER/file" rootfs/dev/null
  mkdir rootfs/dev/zero
  ln -s "$MARKER/new-full" rootfs/dev/full
  ln -s ../../../host-marker/dir rootfs/dev/tty
  run nook run "$ID"
  if started_or_refused /dev/; then
    assert_default_nodes
  fi
  assert_marker_untouched
  [ ! -e "$MARKER/new-full" ] && [ ! -e "$MARKER/dir/tty" ]
}

@test "CVE-2025-31133: /dev/null symlinked to a procfs file does not unmask maskedPaths" {
  setup_bundle sh -c "$STARTED"'stat -c "node %n %F %t:%T" /dev/null /proc/timer_list /proc/keys; echo "timer_list=$(head -c 40 /proc/timer_list)"; echo "keys=$(head -c 40 /proc/keys)"; true'
  drop_dev_mount
  ln -s /proc/sys/kernel/core_pattern rootfs/dev/null
  [[ $(jq -r '.linux.maskedPaths[]' config.json) == *"/proc/timer_list"* ]]
  run nook run "$ID"
  if started_or_refused /dev/null; then
    assert_line "node /dev/null character special file 1:3"
    assert_line "node /proc/timer_list character special file 1:3"
    assert_line "node /proc/keys character special file 1:3"
    assert_line timer_list=
    assert_line keys=
  fi
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$CORE_PATTERN"
  assert_marker_untouched
}

# with process.terminal: the pty must end up at /dev/console, nowhere else
run_with_console() {
  local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/tty.out i
  update_config 'c["process"]["terminal"] = True'
  recvtty "$sock" "$out"
  run create_container "$ID" --console-socket "$sock"
  if [ "$status" -ne 0 ]; then
    return 0
  fi
  nook start "$ID"
  wait_for_state "$ID" stopped
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.05
  done
  run tr -d '\r' <"$out"
}

CONSOLE_CHECK='echo container-started; stat -c "node %n %F %t" /dev/console; stat -L -c "stdin %t:%T" /proc/self/fd/0; stat -c "console %t:%T" /dev/console
stat -f -c "core_pattern fs %T" /proc/sys/kernel/core_pattern; stat -c "core_pattern %F" /proc/sys/kernel/core_pattern; true'

assert_console_is_pty() {
  assert_line "node /dev/console character special file 88"
  local console stdin
  console=$(sed -n 's/^console //p' <<<"$output")
  stdin=$(sed -n 's/^stdin //p' <<<"$output")
  assert_equal "$console" "$stdin"
  assert_line "core_pattern fs proc"
  assert_line --regexp '^core_pattern regular (empty )?file$'
}

@test "CVE-2025-52565: /dev/console symlinked to a procfs file (no /dev mount)" {
  setup_bundle sh -c "$CONSOLE_CHECK"
  drop_dev_mount
  ln -s /proc/sys/kernel/core_pattern rootfs/dev/console
  run_with_console
  if started_or_refused /dev/console; then
    assert_console_is_pty
  fi
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$CORE_PATTERN"
  assert_marker_untouched
}

@test "/dev/console symlinked to a host path or a directory in the image (no /dev mount)" {
  local kind
  for kind in symlink directory; do
    setup_bundle sh -c "$CONSOLE_CHECK"
    drop_dev_mount
    if [ $kind = symlink ]; then
      ln -s "$MARKER/console" rootfs/dev/console
    else
      mkdir rootfs/dev/console
    fi
    run_with_console
    if started_or_refused /dev/console; then
      assert_console_is_pty
    fi
    assert_marker_untouched
    nook delete --force "$ID" 2>/dev/null || true
  done
}
