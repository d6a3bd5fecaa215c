#!/usr/bin/env bats
# The overlay rootfs, nook's own (no peer has it), driven by annotations:
#   nook.rootfs.overlay       "tmpfs": the upper layer on a tmpfs that lives
#                             as long as the container; or an absolute
#                             directory: a persistent upper layer there
#   nook.rootfs.overlay.size  the tmpfs's size (e.g. "16m")
# root.path is the read-only lower layer: the image is never written.

load helpers
load mounts_helpers

# A writable-root bundle with the overlay annotations (VALUE [SIZE]).
setup_overlay_bundle() {
  local value=$1 size=$2
  shift 2
  setup_bundle "$@"
  update_config "c['root']['readonly'] = False
c.setdefault('annotations', {})['nook.rootfs.overlay'] = '$value'"
  if [ -n "$size" ]; then
    update_config "c['annotations']['nook.rootfs.overlay.size'] = '$size'"
  fi
}

# What the state root holds besides runtime-wide dot entries (caches, locks):
# the containers' directories (and whatever they left).
state_entries() {
  find "$NOOK_ROOT" -mindepth 1 ! -path "$NOOK_ROOT/.*" | sort
}

# Mounts of the host's namespace that belong to this test: anything that
# names its tmpdir (the image, the state root, an upper dir: overlay mounts
# name their lower/upper dirs in their options) or its container ids.
# (Counting all overlay/tmpfs mounts would flake: other work on the machine,
# podman for one, mounts overlays in the host's namespace.)
host_mount_state() {
  grep -F -e "$BATS_TEST_TMPDIR" -e "$ID" /proc/self/mountinfo || true
}

@test "overlay tmpfs: / is an overlay of root.path; writes inside never reach the image" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  setup_overlay_bundle tmpfs "" sh -c "$MOUNTINFO_SCRIPT"'
echo "hostname=$(cat /etc/hostname)"
echo changed > /etc/hostname && echo new > /newfile && mkdir /newdir && rm /etc/group && rm /bin/ls && chmod 700 /home/tester
echo "after=$(cat /etc/hostname) $(cat /newfile) $([ -e /etc/group ] && echo group-still-there)"'
  local before
  before=$(image_state rootfs)
  run nook run "$ID"
  assert_success
  assert_equal "$(mnt "$output" / fstype)" overlay
  assert_line hostname=nook-test
  assert_line "after=changed new "
  assert_equal "$(image_state rootfs)" "$before"
}

@test "overlay tmpfs: nook.rootfs.overlay.size sizes the upper tmpfs" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  setup_overlay_bundle tmpfs 16m sh -c 'df -k / | awk "NR == 2 { print \"blocks\", \$2 }"
dd if=/dev/zero of=/big bs=1M count=20 2>&1; echo "dd-status $?"'
  run nook run "$ID"
  assert_success
  assert_line "blocks 16384"
  assert_output --partial 'No space left on device'
  refute_line "dd-status 0"
}

@test "overlay tmpfs: the upper layer is gone after delete; no mount or directory is left" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  # the container writes the mark reversed, so that it is in no file of the
  # test (config.json holds it the right way round)
  local mark=upper-mark-$RANDOM$RANDOM rmark
  rmark=$(rev <<<"$mark")
  setup_overlay_bundle tmpfs 8m sh -c "echo $mark | rev > /marker && mkdir -p /a/b && cp /marker /a/b/c && echo written && sleep 100"
  local mounts_before state_before
  mounts_before=$(host_mount_state)
  state_before=$(state_entries)
  run_detached "$ID"
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    grep -q written "$BATS_TEST_TMPDIR/$ID.out" && break
    sleep 0.05
  done
  assert_equal "$(container_output "$ID")" written
  # while it runs: visible inside, not on the host
  pid=$(state_field "$ID" pid)
  assert_equal "$(cat "/proc/$pid/root/marker")" "$rmark"
  [ ! -e rootfs/marker ]
  nook kill "$ID" KILL
  wait_for_state "$ID" stopped
  nook delete "$ID"
  # the marker exists nowhere any more
  run grep -rl "$rmark" "$BATS_TEST_TMPDIR" "$NOOK_ROOT"
  assert_output ""
  assert_equal "$(host_mount_state)" "$mounts_before"
  assert_equal "$(state_entries)" "$state_before"
}

@test "overlay with a persistent upper directory: writes land there and outlive the container" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  local upper=$BATS_TEST_TMPDIR/persist mark=persist-mark-$RANDOM$RANDOM
  mkdir -p "$upper"
  setup_overlay_bundle "$upper" "" sh -c "echo $mark > /marker && echo changed > /etc/hostname && echo done"
  local before
  before=$(image_state rootfs)
  run nook run "$ID"
  assert_success
  assert_output done
  assert_equal "$(image_state rootfs)" "$before"
  # the writes are files somewhere under the upper directory
  run grep -rlx "$mark" "$upper"
  assert_success
  [[ ${lines[0]} == */marker ]] || fail "marker not under $upper: $output"
  run grep -rlx changed "$upper"
  [[ $output == */etc/hostname ]] || fail "changed hostname not under $upper: $output"

  # a second container with the same upper directory sees them
  set_args sh -c 'cat /marker /etc/hostname'
  run nook run "$ID2"
  assert_success
  assert_line --index 0 "$mark"
  assert_line --index 1 changed
  assert_equal "$(image_state rootfs)" "$before"
}

@test "overlay: ten containers from one image at once each see only their own writes" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  setup_bundle true
  local image=$BATS_TEST_TMPDIR/image out=$BATS_TEST_TMPDIR/out
  mv rootfs "$image"
  mkdir -p "$out"
  chmod 0777 "$out"
  local before mounts_before state_before
  before=$(image_state "$image")
  mounts_before=$(host_mount_state)
  state_before=$(state_entries)
  local i ids=() pids=()
  for i in $(seq 1 10); do
    mkdir -p "$BATS_TEST_TMPDIR/b$i"
    "$PYTHON" - "$BUNDLE/config.json" "$BATS_TEST_TMPDIR/b$i/config.json" "$image" "$out" "$i" <<'PY'
import json, sys
src, dst, image, out, i = sys.argv[1:]
with open(src) as f:
    c = json.load(f)
c["root"] = {"path": image, "readonly": False}
c.setdefault("annotations", {})["nook.rootfs.overlay"] = "tmpfs"
c["annotations"]["nook.rootfs.overlay.size"] = "4m"
c["mounts"].append({"destination": "/out", "type": "bind", "source": out, "options": ["rbind", "rw"]})
c["process"]["args"] = ["sh", "-c",
    "echo %s > /marker-%s && until [ -e /out/go ]; do sleep 0.02; done; "
    "ls / | grep marker > /out/result-%s; cat /marker-* >> /out/result-%s" % (i, i, i, i)]
with open(dst, "w") as f:
    json.dump(c, f)
PY
    ids+=("$ID-c$i")
  done
  # create all ten at once, then start them all at once
  for i in $(seq 1 10); do
    nook_detached "$ID-c$i" create --bundle "$BATS_TEST_TMPDIR/b$i" >/dev/null &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || fail "a create failed: $(cat "$BATS_TEST_TMPDIR"/"$ID"-c*.out)"
  done
  pids=()
  for i in $(seq 1 10); do
    nook start "$ID-c$i" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do
    wait "$i" || fail "a start failed"
  done
  # every container has written its marker before any of them lists /
  for i in $(seq 1 10); do
    wait_for_state "$ID-c$i" running
  done
  touch "$out/go"
  for i in $(seq 1 10); do
    wait_for_state "$ID-c$i" stopped
    assert_equal "$(cat "$out/result-$i")" "$(printf 'marker-%s\n%s' "$i" "$i")"
  done
  for i in $(seq 1 10); do
    nook delete "$ID-c$i"
  done
  assert_equal "$(image_state "$image")" "$before"
  assert_equal "$(host_mount_state)" "$mounts_before"
  assert_equal "$(state_entries)" "$state_before"
}

@test "overlay: a value that is neither tmpfs nor an absolute directory is an error naming the annotation" {
  skip_for_peer "the nook.rootfs.overlay annotation is nook's"
  setup_overlay_bundle relative/dir "" echo started
  run nook run "$ID"
  assert_failure
  refute_line started
  assert_output --partial nook.rootfs.overlay
  [ ! -e relative ] && [ ! -e rootfs/relative ]

  update_config 'c["annotations"]["nook.rootfs.overlay"] = "tmpfs"
c["annotations"]["nook.rootfs.overlay.size"] = "lots"'
  run nook run "$ID"
  assert_failure
  refute_line started
  assert_output --partial nook.rootfs.overlay.size
}
