#!/usr/bin/env bats
# Symlinked mount destinations (CVE-2021-30465 class): an image whose mount
# destinations, or a component of them, are symlinks meant to lead the
# runtime out of the rootfs.  The container starts with the mount inside its
# own rootfs (where the symlink leads when resolved inside it), or fails with
# an error naming the destination; the host marker is never touched.

load ../integration/helpers
load ../integration/mounts_helpers
load security_helpers

setup() {
  nook_setup
  setup_marker
  setup_payload
}

@test "absolute symlink to a host directory as a bind destination" {
  setup_bundle sh -c "$STARTED"'cat /etc/abs/payload; cat /etc/abs2/sub/dir/payload; true'
  ln -s "$MARKER" rootfs/etc/abs
  ln -s "$MARKER/dir" rootfs/etc/abs2
  add_mount /etc/abs bind "$PAYLOAD" rbind
  add_mount /etc/abs2/sub/dir bind "$PAYLOAD" rbind
  run nook run "$ID"
  if started_or_refused /etc/abs; then
    # the symlinks, resolved inside the container, lead to the mounts
    assert_equal "$(grep -cx payload-content <<<"$output")" 2
    [ -L rootfs/etc/abs ] && [ -L rootfs/etc/abs2 ]
  fi
  assert_marker_untouched
}

@test "relative symlink climbing out of the rootfs as a destination" {
  setup_bundle sh -c "$STARTED"'cat /etc/rel/payload; cat /etc/rel2/new/payload; true'
  # from rootfs/etc, ../../../host-marker is the marker on the host; inside
  # the container it is /host-marker
  ln -s ../../../host-marker rootfs/etc/rel
  ln -s ../../../host-marker/dir rootfs/etc/rel2
  add_mount /etc/rel bind "$PAYLOAD" rbind
  add_mount /etc/rel2/new tmpfs tmpfs size=1m
  add_mount /etc/rel2/new/payload bind "$PAYLOAD/payload" bind
  run nook run "$ID"
  if started_or_refused /etc/rel; then
    assert_equal "$(grep -cx payload-content <<<"$output")" 2
    [ -d rootfs/host-marker ] || fail "the mount did not land at /host-marker in the rootfs"
  fi
  assert_marker_untouched
}

@test "destination with .. components stays in the rootfs" {
  setup_bundle sh -c "$STARTED cat /host-marker/dotdot/payload; true"
  # joined naively to the rootfs path, this is the marker on the host
  add_mount "/../../host-marker/dotdot" bind "$PAYLOAD" rbind
  run nook run "$ID"
  if started_or_refused dotdot; then
    assert_line payload-content
  fi
  assert_marker_untouched
}

@test "dangling symlink destinations (directory and file binds)" {
  setup_bundle sh -c "$STARTED"'cat /etc/dangling/payload; cat /etc/dangling-file; true'
  # nothing at these paths, neither in the rootfs nor on the host
  ln -s "$MARKER/newdir/deeper" rootfs/etc/dangling
  ln -s "$MARKER/new-file" rootfs/etc/dangling-file
  add_mount /etc/dangling bind "$PAYLOAD" rbind
  add_mount /etc/dangling-file bind "$BATS_TEST_TMPDIR/payload-file" bind
  run nook run "$ID"
  if started_or_refused /etc/dangling; then
    assert_line payload-content
    assert_line file-payload
  fi
  assert_marker_untouched
  [ ! -e "$MARKER/newdir" ] && [ ! -e "$MARKER/new-file" ]
}

@test "a file bind onto a symlink to an existing host file" {
  setup_bundle sh -c "$STARTED cat /etc/file-link; true"
  ln -s "$MARKER/file" rootfs/etc/file-link
  add_mount /etc/file-link bind "$BATS_TEST_TMPDIR/payload-file" bind
  run nook run "$ID"
  if started_or_refused /etc/file-link; then
    assert_line file-payload
  fi
  assert_marker_untouched
}

@test "symlink loop as a destination is refused" {
  setup_bundle true
  ln -s loop-b rootfs/etc/loop-a
  ln -s loop-a rootfs/etc/loop-b
  add_mount /etc/loop-a/sub bind "$PAYLOAD" rbind
  run nook run "$ID"
  assert_failure
  assert_output --partial /etc/loop-a
  # and a self-loop as the last component
  ln -s self rootfs/etc/self
  update_config 'c["mounts"][-1]["destination"] = "/etc/self"'
  run nook run "$ID"
  assert_failure
  assert_output --partial /etc/self
  assert_marker_untouched
}

@test "tmpfs destination symlinked to /sys/fs/cgroup stays in the container" {
  local host_cg
  host_cg=$(awk '$5 ~ "^/sys/fs/cgroup"' /proc/self/mountinfo | sort)
  setup_bundle sh -c "$STARTED $MOUNTINFO_SCRIPT; true"
  ln -s /sys/fs/cgroup rootfs/evil
  ln -s "$MARKER" rootfs/evil2
  add_mount /evil tmpfs tmpfs size=1m
  add_mount /evil2 tmpfs tmpfs size=1m
  run nook run "$ID"
  if started_or_refused /evil; then
    # it landed inside the container (where the symlinks lead there)
    assert_opt "$output" /sys/fs/cgroup super size=1024k
    assert_opt "$output" "$MARKER" super size=1024k
  fi
  assert_equal "$(awk '$5 ~ "^/sys/fs/cgroup"' /proc/self/mountinfo | sort)" "$host_cg"
  assert_marker_untouched
}
