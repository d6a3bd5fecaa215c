#!/usr/bin/env bats
# linux.cgroupsPath placement and removal, and a few resource limits as seen
# in the cgroup filesystem (v1, hybrid or v2, whichever the host has).

load helpers

# cgroup_dir PID CONTROLLER: the directory of PID's cgroup for CONTROLLER
# (a v1 hierarchy when it has one, else the v2 hierarchy).
cgroup_dir() {
  local pid=$1 ctrl=$2 line path
  line=$(grep -E "^[0-9]+:([^:]*,)?$ctrl(,[^:]*)?:" "/proc/$pid/cgroup" | head -n1)
  if [ -n "$line" ]; then
    path=${line#*:*:}
    local mnt
    mnt=$(awk -v c="$ctrl" '$3 == "cgroup" && $4 ~ "(^|,)" c "(,|$)" { print $2; exit }' /proc/mounts)
    echo "$mnt$path"
    return
  fi
  path=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
  local v2
  v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  echo "$v2$path"
}

# Caller-relative cgroupsPath with a test prefix (cleaned by delete).
setup_cgroup_bundle() {
  setup_bundle "$@"
  CGPATH="nook-test-$ID"
  update_config "c['linux']['cgroupsPath'] = '$CGPATH'"
}

@test "cgroupsPath: the container is placed in it; delete removes it" {
  setup_cgroup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  dir=$(cgroup_dir "$pid" pids)
  [[ $dir == */nook-test-$ID ]] || fail "pids cgroup of the container: $dir"
  [ -d "$dir" ]
  grep -qx "$pid" "$dir/cgroup.procs"
  # every hierarchy the host has puts it under the same name
  run cat "/proc/$pid/cgroup"
  for l in "${lines[@]}"; do
    [[ $l == *"/nook-test-$ID" ]] || fail "not in $CGPATH: $l"
  done
  run nook delete --force "$ID"
  assert_success
  [ ! -d "$dir" ]
}

@test "cgroupsPath: a relative path lands under the caller's cgroup" {
  setup_cgroup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  # for each hierarchy: container path = caller path + /nook-test-ID
  while IFS= read -r l; do
    hier=${l%:*}
    mine=${l##*:}
    theirs=$(grep -F "$hier:" "/proc/$pid/cgroup" | head -n1)
    theirs=${theirs##*:}
    assert_equal "$theirs" "${mine%/}/$CGPATH"
  done < <(grep -v '^0::' /proc/$$/cgroup)
}

@test "resources.pids.limit: pids.max is set" {
  setup_cgroup_bundle sleep 100
  update_config 'c["linux"].setdefault("resources", {})["pids"] = {"limit": 42}'
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  assert_equal "$(cat "$(cgroup_dir "$pid" pids)/pids.max")" 42
}

@test "resources.memory.limit: the memory limit is set" {
  setup_cgroup_bundle sleep 100
  update_config 'c["linux"].setdefault("resources", {})["memory"] = {"limit": 67108864}'
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  dir=$(cgroup_dir "$pid" memory)
  if [ -e "$dir/memory.limit_in_bytes" ]; then
    assert_equal "$(cat "$dir/memory.limit_in_bytes")" 67108864
  else
    assert_equal "$(cat "$dir/memory.max")" 67108864
  fi
}

@test "resources.memory.kernel where the kernel has no kmem limits: one warning, the container runs" {
  setup_cgroup_bundle sh -c 'echo ran'
  update_config 'c["linux"].setdefault("resources", {})["memory"] = {"limit": 67108864, "kernel": 33554432}'
  dir=$(cgroup_dir $$ memory)
  if [ -e "$dir/memory.kmem.limit_in_bytes" ]; then
    # 6.x keeps the v1 file but ignores writes: probe it on a scratch cgroup
    # of our own (test-prefixed, removed right away)
    probe=$dir/nook-test-$ID-probe
    mkdir "$probe"
    echo 33554432 >"$probe/memory.kmem.limit_in_bytes" 2>/dev/null || true
    got=$(cat "$probe/memory.kmem.limit_in_bytes")
    rmdir "$probe"
    [ "$got" != 33554432 ] || skip "this kernel still enforces kernel memory limits"
  fi
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  assert_output ran
  run jq -r 'select(.level == "warning") | .msg' "$log"
  assert_line --partial 'linux.resources.memory.kernel: '
  assert_output --partial 'not applied'
  assert_equal "$(grep -c 'linux.resources.memory.kernel: ' <<<"$output")" 1
}

@test "a container without cgroupsPath gets a cgroup of its own, removed on delete" {
  setup_bundle sleep 100
  update_config 'c["linux"].pop("cgroupsPath", None)'
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  dir=$(cgroup_dir "$pid" pids)
  [ "$dir" != "$(cgroup_dir $$ pids)" ] || fail "container left in the caller's cgroup"
  run nook delete --force "$ID"
  assert_success
  [ ! -d "$dir" ]
}
