# Helpers for the attack suite (tests/security/*.bats), loaded after
# ../integration/helpers and ../integration/mounts_helpers.
#
# Every attack plants something in the image that, if the runtime resolved a
# path on the host instead of inside the rootfs, would lead to the "host
# marker": $BATS_TEST_TMPDIR/host-marker, a directory with known content.
# The rootfs is $BATS_TEST_TMPDIR/bundle/rootfs, so an absolute symlink to
# "$MARKER" is dangling inside the container but names the marker on the
# host, and "../../../host-marker" from rootfs/etc climbs to it on the host.
# The marker's state (names, types, sizes, modes, owners, mtimes, ctimes,
# inodes, link counts, checksums, and any mount of the host on it) is taken
# before the runtime runs and must be the same afterwards.

setup_marker() {
  MARKER=$BATS_TEST_TMPDIR/host-marker
  mkdir -p "$MARKER/dir"
  echo host-secret >"$MARKER/file"
  echo inner >"$MARKER/dir/inner"
  touch -d '2001-02-03 04:05:06' "$MARKER/file" "$MARKER/dir/inner" "$MARKER/dir" "$MARKER"
  MARKER_STATE=$(marker_state)
  export MARKER MARKER_STATE
}

marker_state() {
  find "$MARKER" -printf '%p %y %s %m %u:%g %T@ %C@ %i %n\n' | sort
  find "$MARKER" -type f -exec md5sum {} + | sort
  echo "host mounts on the marker:"
  grep -F "$MARKER" /proc/self/mountinfo || true
}

assert_marker_untouched() {
  local now
  now=$(marker_state)
  [ "$now" = "$MARKER_STATE" ] ||
    fail "the host marker changed:
--- before
$MARKER_STATE
--- after
$now"
}

# A host directory to bind into the container: $PAYLOAD/payload holds
# "payload-content".
setup_payload() {
  PAYLOAD=$BATS_TEST_TMPDIR/payload
  mkdir -p "$PAYLOAD"
  echo payload-content >"$PAYLOAD/payload"
  echo file-payload >"$BATS_TEST_TMPDIR/payload-file"
}

# Container scripts of the attacks start with $STARTED and end with `true`:
# the container printing "container-started" tells a container that ran
# from a runtime that refused to start it.
STARTED='echo container-started;'

# The outcome of `run nook run ...` for an attack: either the container
# started (it printed container-started and exited 0; the caller then checks
# where things landed inside), or the runtime failed with a clear error:
# non-empty, naming WHAT (the destination or the key).  Returns 0 when the
# container started, 1 when it was refused.
started_or_refused() {
  local what=$1
  [ -n "${SEC_DEBUG:-}" ] && echo "# $BATS_TEST_DESCRIPTION: status $status: ${output:0:300}" >&3
  if [[ $output == *container-started* ]]; then
    [ "$status" -eq 0 ] || fail "the container started but exited $status: $output"
    return 0
  fi
  [ "$status" -ne 0 ] || fail "status 0 but the container's output is not there (where did it go?): '$output'"
  [ -n "$output" ] || fail "refused without an error message"
  [[ $output == *"$what"* ]] || fail "the error does not name $what: $output"
  return 1
}

# Drop the /dev tmpfs from mounts[] (the image's /dev is then the
# container's /dev: the runtime must still supply the default devices, and
# must not follow what the image planted there).
drop_dev_mount() {
  update_config 'c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/dev"]'
}

# Tests that plant symlinks to /proc/sys/kernel/core_pattern: a vulnerable
# runtime may write the container's output into the host's core_pattern
# (runc 1.1.5 does, reopening stdio on the image's /dev/null): save it in
# setup, put it back in teardown.
save_core_pattern() {
  CORE_PATTERN=$(cat /proc/sys/kernel/core_pattern)
}

restore_core_pattern() {
  if [ -n "${CORE_PATTERN:-}" ] && [ "$(cat /proc/sys/kernel/core_pattern)" != "$CORE_PATTERN" ]; then
    echo "$CORE_PATTERN" >/proc/sys/kernel/core_pattern
  fi
}
