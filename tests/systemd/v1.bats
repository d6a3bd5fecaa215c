#!/usr/bin/env bats
# The systemd cgroup driver on a v1 (hybrid or legacy) systemd host: the v1
# unit properties, the hierarchies systemd manages and the ones nook makes
# the scope's directory in, and nothing left in any of them after delete.
# Runs where systemd is PID 1 with v1 controllers (tests/vm/run --systemd
# with VM_CMDLINE=systemd.unified_cgroup_hierarchy=0; helpers.bash).

load helpers

setup_file() {
  sd_setup_file
}

setup() {
  sd_setup
  skip_unless_v1
}

# v1_dir CONTROLLER: the container's directory in that controller's hierarchy.
v1_dir() {
  local mnt
  mnt=$(awk -v c="$1" '$3 == "cgroup" && $4 ~ "(^|,)" c "(,|$)" { print $2; exit }' /proc/mounts)
  echo "$mnt/system.slice/$UNIT"
}

@test "systemd driver (v1): the scope in every hierarchy, v1 properties and files" {
  sd_bundle sleep 1000
  update_config '.linux.resources.memory = {"limit": 67108864}
    | .linux.resources.cpu = {"shares": 512, "cpus": "0"}
    | .linux.resources.pids = {"limit": 77}'
  run_detached "$ID"
  local pid line
  pid=$(state_field "$ID" pid)
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  assert_equal "$(unit_prop "$UNIT" MemoryLimit)" 67108864
  assert_equal "$(unit_prop "$UNIT" CPUShares)" 512
  assert_equal "$(unit_prop "$UNIT" TasksMax)" 77
  # In every hierarchy, the ones systemd manages and the ones nook made.
  while read -r line; do
    [[ $line == *":/system.slice/$UNIT" ]] || fail "$pid is elsewhere: $line"
  done <"/proc/$pid/cgroup"
  assert_equal "$(cat "$(v1_dir memory)/memory.limit_in_bytes")" 67108864
  assert_equal "$(cat "$(v1_dir cpu)/cpu.shares")" 512
  assert_equal "$(cat "$(v1_dir pids)/pids.max")" 77
  assert_equal "$(cat "$(v1_dir cpuset)/cpuset.cpus")" 0
}

@test "systemd driver (v1): update, pause, exec; delete leaves no directory anywhere" {
  sd_bundle sleep 1000
  run_detached "$ID"
  run nook update --memory 100m "$ID"
  assert_success
  assert_equal "$(unit_prop "$UNIT" MemoryLimit)" 104857600
  assert_equal "$(cat "$(v1_dir memory)/memory.limit_in_bytes")" 104857600
  run nook pause "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" paused
  run nook resume "$ID"
  assert_success
  run nook exec "$ID" echo in
  assert_output in
  run nook delete --force "$ID"
  assert_success
  assert_unit_gone "$UNIT"
}
