#!/usr/bin/env bats
# maskedPaths/readonlyPaths planted as symlinks in the image (CVE-2025-31133
# class: a mask or a read-only remount redirected elsewhere), file/directory
# mismatches between a bind source and its destination, and very long and
# very deep destinations (path-joining truncation and depth limits).

load ../integration/helpers
load ../integration/mounts_helpers
load security_helpers

setup() {
  nook_setup
  setup_marker
  setup_payload
}

@test "maskedPaths entries that are symlinks to host paths" {
  setup_bundle sh -c "$STARTED"'cat /etc/secret; cat /etc/secret-dir/inner; echo "real=$(cat /etc/real-secret)"; true'
  ln -s "$MARKER/file" rootfs/etc/secret
  ln -s ../../../host-marker/dir rootfs/etc/secret-dir
  echo image-secret >rootfs/etc/real-secret
  update_config 'c["linux"]["maskedPaths"] += ["/etc/secret", "/etc/secret-dir", "/etc/real-secret"]'
  run nook run "$ID"
  if started_or_refused /etc/secret; then
    # the host's files never show up inside; the plain file is masked
    refute_output --partial host-secret
    refute_line inner
    assert_line real=
  fi
  assert_marker_untouched
}

@test "readonlyPaths entries that are symlinks to host paths" {
  setup_bundle sh -c "$STARTED"'touch /etc/ro-real/new 2>&1 || echo ro-real-refused; ls /etc/ro-link 2>&1; true'
  ln -s "$MARKER" rootfs/etc/ro-link
  ln -s ../../../host-marker/file rootfs/etc/ro-file-link
  mkdir rootfs/etc/ro-real
  update_config 'c["root"]["readonly"] = False
c["linux"]["readonlyPaths"] += ["/etc/ro-link", "/etc/ro-file-link", "/etc/ro-real"]'
  run nook run "$ID"
  if started_or_refused /etc/ro-; then
    refute_output --partial host-secret
    assert_line ro-real-refused
    [ ! -e rootfs/etc/ro-real/new ]
  fi
  assert_marker_untouched
}

@test "bind of a file onto a directory of the image, and of a directory onto a file, are refused" {
  setup_bundle sh -c "$STARTED true"
  local before
  before=$(cd rootfs && find etc -printf '%p %y %s %T@\n' | sort && cat etc/hostname)
  add_mount /etc bind "$BATS_TEST_TMPDIR/payload-file" bind
  run nook run "$ID"
  assert_failure
  refute_line container-started
  assert_output --partial /etc

  update_config 'c["mounts"][-1] = {"destination": "/etc/hostname", "type": "bind", "source": "'"$PAYLOAD"'", "options": ["rbind"]}'
  run nook run "$ID"
  assert_failure
  refute_line container-started
  assert_output --partial /etc/hostname

  update_config 'c["mounts"][-1] = {"destination": "/etc/hostname", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}'
  run nook run "$ID"
  assert_failure
  refute_line container-started
  assert_output --partial /etc/hostname

  # the image is as it was: no entry replaced to make the mount fit
  assert_equal "$(cd rootfs && find etc -printf '%p %y %s %T@\n' | sort && cat etc/hostname)" "$before"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/payload-file")" file-payload
  assert_marker_untouched
}

# A destination just under PATH_MAX: fine inside the container (4070
# characters), but the rootfs path plus the destination is over PATH_MAX on
# the host, so a runtime that joins strings fails (or truncates).
@test "a destination near PATH_MAX: mounted in the rootfs, or a clear error" {
  local c255 dest="" i
  c255=$(printf 'l%.0s' $(seq 1 255))
  for i in $(seq 1 15); do dest+="/$c255"; done
  dest+="/$(printf 'm%.0s' $(seq 1 229))"
  [ ${#dest} -eq 4070 ] || fail "dest is ${#dest} long"
  setup_bundle sh -c "$STARTED"' cat "$LONGDEST/payload"; true'
  update_config "c['process']['env'].append('LONGDEST=$dest')"
  add_mount "$dest" bind "$PAYLOAD" rbind
  run nook run "$ID"
  if started_or_refused "$(printf 'l%.0s' $(seq 1 30))"; then
    assert_line payload-content
  fi
  assert_marker_untouched
}

@test "a destination hundreds of components deep is created and mounted" {
  local dest="/deep" i
  for i in $(seq 1 400); do dest+="/d"; done
  setup_bundle sh -c "$STARTED"' cat "$DEEPDEST/payload"; true'
  update_config "c['process']['env'].append('DEEPDEST=$dest')"
  add_mount "$dest" bind "$PAYLOAD" rbind
  run nook run "$ID"
  assert_success
  assert_line payload-content
  [ -d "rootfs$dest" ]
  assert_marker_untouched
}

@test "a deep destination whose middle component is a symlink out of the rootfs" {
  local dest="/deep" i
  for i in $(seq 1 100); do dest+="/d"; done
  setup_bundle sh -c "$STARTED"' cat "$DEEPDEST/x/y/payload"; true'
  mkdir -p "rootfs$dest"
  # the last d is a symlink that climbs to the marker on the host: it sits
  # in a directory 100 levels below the rootfs, so 102 levels up is the
  # test's tmpdir
  rmdir "rootfs$dest"
  ln -s "$(printf '../%.0s' $(seq 1 102))host-marker" "rootfs$dest"
  [ "$(readlink -f "rootfs$dest")" = "$MARKER" ] || fail "the symlink does not lead to the marker on the host"
  update_config "c['process']['env'].append('DEEPDEST=$dest')"
  add_mount "$dest/x/y" bind "$PAYLOAD" rbind
  run nook run "$ID"
  if started_or_refused /deep/d; then
    assert_line payload-content
  fi
  assert_marker_untouched
  [ ! -e "$MARKER/x" ]
}

@test "a lookup in the rootfs that keeps answering EAGAIN ends in a clear error, not a hang" {
  # openat2 says EAGAIN while host renames or mounts race a RESOLVE_IN_ROOT
  # walk; the wrapper makes it say so for ever.
  make -s -C "$REPO_ROOT/tests/security/progs" >&2
  setup_bundle true
  run timeout --foreground -k 5 60 "$REPO_ROOT/tests/.work/progs/openat2_eagain" \
    "$NOOK" --root "$NOOK_ROOT" run "$ID"
  [ "$status" -ne 124 ] && [ "$status" -ne 137 ] || fail "nook kept retrying openat2 (status $status)"
  assert_failure
  assert_output --partial "in the rootfs: gave up after 128 tries"
}
