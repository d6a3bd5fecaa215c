#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a
# transient scope systemd makes, seen through `systemctl show` and the cgroup
# files; the lifecycle commands act through it; nothing is left after delete.
# Runs under systemd as PID 1 only (tests/vm/run --systemd; helpers.bash).
# Under TCG every container and every systemctl call costs seconds: each test
# runs one container through as much as it can carry.  The cgroupsPath parser
# is tested on the host (tests/integration/cgroups.bats, unit tests).

load helpers

setup_file() {
  sd_setup_file
}

setup() {
  sd_setup
  skip_unless_v2
}

@test "systemd driver: create makes the scope of cgroupsPath around the init; resources, unified, annotations and device rules as unit properties and files" {
  sd_bundle sleep 1000
  update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 100663296}
    | .linux.resources.cpu = {"shares": 1024, "quota": 12345, "period": 100000, "cpus": "0", "mems": "0"}
    | .linux.resources.pids = {"limit": 77}
    | .linux.resources.unified = {"memory.high": "50331648", "memory.oom.group": "1"}
    | .linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]
    | .linux.resources.devices = [{"allow": false, "access": "rwm"}]
    | .annotations["org.systemd.property.TimeoutStopSec"] = "17"
    | .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"
    | .annotations["org.systemd.property.Description"] = "'"'a nook test'"'"'
  run_detached "$ID"
  local pid d
  pid=$(state_field "$ID" pid)
  unit_show "$UNIT"
  assert_equal "${PROP[ActiveState]}" active
  assert_equal "${PROP[Slice]}" system.slice
  assert_equal "${PROP[ControlGroup]}" "/system.slice/$UNIT"
  assert_equal "${PROP[Delegate]}" yes
  assert_equal "${PROP[DefaultDependencies]}" no
  assert_equal "${PROP[Transient]}" yes
  assert_equal "${PROP[MemoryAccounting]}" yes
  assert_equal "${PROP[TasksAccounting]}" yes
  assert_equal "$(grep '^0::' "/proc/$pid/cgroup")" "0::/system.slice/$UNIT"
  d=/sys/fs/cgroup/system.slice/$UNIT
  run cat "$d/cgroup.procs"
  assert_output "$pid"
  # Resources systemd has properties for.
  assert_equal "${PROP[MemoryMax]}" 67108864
  assert_equal "${PROP[MemoryLow]}" 33554432
  assert_equal "${PROP[MemoryHigh]}" 50331648
  assert_equal "${PROP[MemorySwapMax]}" 33554432
  assert_equal "${PROP[TasksMax]}" 77
  assert_equal "${PROP[CPUWeight]}" 39
  # systemd keeps whole percent: 12.345 % is 13 %, and cpu.max says the same.
  assert_equal "${PROP[CPUQuotaPerSecUSec]}" 130ms
  assert_equal "${PROP[CPUQuotaPeriodUSec]}" 100ms
  assert_equal "${PROP[AllowedCPUs]}" 0
  assert_equal "${PROP[AllowedMemoryNodes]}" 0
  assert_equal "$(cat "$d/memory.max")" 67108864
  assert_equal "$(cat "$d/memory.low")" 33554432
  assert_equal "$(cat "$d/memory.high")" 50331648
  assert_equal "$(cat "$d/memory.swap.max")" 33554432
  assert_equal "$(cat "$d/pids.max")" 77
  assert_equal "$(cat "$d/cpu.weight")" 39
  assert_equal "$(cat "$d/cpu.max")" "13000 100000"
  assert_equal "$(cat "$d/cpuset.cpus")" 0
  # What systemd has no property for goes to the files.
  assert_equal "$(cat "$d/hugetlb.2MB.max")" 4194304
  assert_equal "$(cat "$d/memory.oom.group")" 1
  # org.systemd.property.* annotations.
  assert_equal "${PROP[TimeoutStopUSec]}" 17s
  assert_equal "${PROP[CollectMode]}" inactive-or-failed
  assert_equal "${PROP[Description]}" "a nook test"
  # Device rules: DevicePolicy=strict with DeviceAllow, and enforced.
  assert_equal "${PROP[DevicePolicy]}" strict
  [[ ${PROP[DeviceAllow]} == *"/dev/char/1:3 rwm"* ]] || fail "DeviceAllow: ${PROP[DeviceAllow]}"
  [[ ${PROP[DeviceAllow]} == *"char-136 rwm"* ]] || fail "DeviceAllow: ${PROP[DeviceAllow]}"
  [[ ${PROP[DeviceAllow]} == *"char-* m"* ]] || fail "DeviceAllow: ${PROP[DeviceAllow]}"
  run nook exec "$ID" sh -c 'echo x >/dev/null && echo null-ok; mknod /dev/mem-test c 1 1 && head -c1 /dev/mem-test'
  assert_failure
  assert_line null-ok
  assert_output --partial "Operation not permitted"
}

# traced ARGS...: `nook --systemd-cgroup ARGS` under strace, as bats' run
# would run it; loaded_libsystemd then says whether nook loaded libsystemd.
traced() {
  strace -e trace=openat -o "$BATS_TEST_TMPDIR/trace" "$NOOK" --systemd-cgroup --root "$NOOK_ROOT" "$@"
}

# no_libsystemd CMD: the traced command did not load libsystemd (its
# children may: procps' ps is linked with it).
no_libsystemd() {
  if grep -q libsystemd "$BATS_TEST_TMPDIR/trace"; then
    fail "\`nook $1\` loaded libsystemd"
  fi
}

@test "systemd driver: exec joins the scope; ps, events, pause, resume, state, kill --all use its files without systemd; update sets the unit's properties" {
  sd_bundle sleep 1000
  # Without a cgroup namespace the container sees its own cgroup's path.
  update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
  run_detached "$ID"
  local pid d
  pid=$(state_field "$ID" pid)
  d=$(scope_dir)
  run traced exec "$ID" cat /proc/self/cgroup
  assert_success
  assert_output "0::/system.slice/$UNIT"
  no_libsystemd exec
  nook exec -d "$ID" sleep 999
  run traced ps "$ID"
  assert_success
  assert_output --partial "sleep 999"
  no_libsystemd ps
  run nook events --stats "$ID"
  assert_success
  [ "$(jq '.data.pids.current' <<<"$output")" -ge 2 ]
  [ "$(jq '.data.memory.usage.usage' <<<"$output")" -gt 0 ]
  run traced pause "$ID"
  assert_success
  no_libsystemd pause
  assert_equal "$(state_field "$ID" status)" paused
  assert_equal "$(grep frozen "$d/cgroup.events")" "frozen 1"
  run traced resume "$ID"
  assert_success
  no_libsystemd resume
  run traced state "$ID"
  assert_success
  no_libsystemd state
  [ "$(jq -r .status <<<"$output")" = running ] || fail "$output"
  assert_equal "$(grep frozen "$d/cgroup.events")" "frozen 0"
  # update talks to systemd (SetUnitProperties) and writes the files.
  run nook update --memory 128m --pids-limit 55 --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 "$ID"
  assert_success
  unit_show "$UNIT"
  assert_equal "${PROP[ActiveState]}" active
  assert_equal "${PROP[MemoryMax]}" 134217728
  assert_equal "${PROP[TasksMax]}" 55
  assert_equal "${PROP[CPUQuotaPerSecUSec]}" 200ms
  assert_equal "${PROP[CPUWeight]}" 20
  assert_equal "$(cat "$d/memory.max")" 134217728
  assert_equal "$(cat "$d/pids.max")" 55
  assert_equal "$(cat "$d/cpu.max")" "20000 100000"
  assert_equal "$(cat "$d/cpu.weight")" 20
  # A daemon-reload re-applies the unit's settings: the limits stay.
  systemctl daemon-reload
  assert_equal "$(cat "$d/memory.max")" 134217728
  assert_equal "$(cat "$d/pids.max")" 55
  run nook kill --all "$ID" KILL
  assert_success
  wait_pid_gone "$pid"
  # Emptied, the scope stops and systemd removes its cgroup.
  [ -z "$(cat "$d/cgroup.procs" 2>/dev/null)" ]
  # delete talks to systemd (it stops and resets the unit).
  run traced delete -f "$ID"
  assert_success
  grep -q libsystemd "$BATS_TEST_TMPDIR/trace" || fail "delete did not talk to systemd"
  assert_unit_gone "$UNIT"
}

@test "systemd driver: a nested slice (kubepods-besteffort-podX.slice) as runc expands it; a second container with the same cgroupsPath is refused; delete --force leaves nothing" {
  # (Dashes nest slices: the pod's name has none.)
  local pod=pod${ID//-/_} slice
  slice=kubepods-besteffort-$pod.slice
  sd_bundle_at "$slice:cri-containerd:$ID" sleep 1000
  UNIT=cri-containerd-$ID.scope
  SD_EXTRA_UNITS+=("$slice" kubepods-besteffort.slice kubepods.slice)
  run_detached "$ID"
  local pid
  pid=$(state_field "$ID" pid)
  unit_show "$UNIT"
  assert_equal "${PROP[Slice]}" "$slice"
  assert_equal "${PROP[ControlGroup]}" "/kubepods.slice/kubepods-besteffort.slice/$slice/$UNIT"
  run nook run -d --bundle "$BUNDLE" "$ID2"
  assert_failure
  assert_output --partial "$UNIT"
  assert_output --partial "exists already"
  # The first one is untouched.
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  assert_equal "$(state_field "$ID" status)" running
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  assert_unit_gone "$UNIT"
  run systemctl list-units --all --no-legend "cri-containerd-$ID*"
  assert_output ""
}

@test "systemd driver: no cgroupsPath is nook-<id>.scope; create then delete (never started); a stopped container's delete; run in the foreground" {
  sd_bundle_at "" sleep 1000
  create_container "$ID"
  unit_show "nook-$ID.scope"
  assert_equal "${PROP[ActiveState]}" active
  assert_equal "${PROP[ControlGroup]}" "/system.slice/nook-$ID.scope"
  run nook delete "$ID"
  assert_success
  assert_unit_gone "nook-$ID.scope"
  # The init exits: systemd collects the empty scope by itself; delete is
  # still clean.
  sd_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook delete "$ID"
  assert_success
  assert_unit_gone "$UNIT"
  sd_bundle sh -c 'cat /proc/self/cgroup; exit 3'
  update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
  run nook run --bundle "$BUNDLE" "$ID"
  assert_failure 3
  assert_output "0::/system.slice/$UNIT"
  assert_unit_gone "$UNIT"
}

@test "systemd driver: a bad annotation or property fails create, naming it, with nothing left" {
  sd_bundle sleep 1000
  update_config '.annotations["org.systemd.property.TimeoutStopSec"] = "'"'soon'"'"'
  run nook run -d --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "org.systemd.property.TimeoutStopSec"
  assert_unit_gone "$UNIT"
  # A property systemd does not know: its refusal comes back with the unit.
  update_config '.annotations = {"org.systemd.property.NoSuchThing": "1"}'
  run nook run -d --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "$UNIT"
  assert_output --partial "NoSuchThing"
  assert_unit_gone "$UNIT"
  run nook list -q
  assert_output ""
}

@test "systemd driver: a systemd job that does not finish times out, naming the unit, and leaves nothing" {
  # The scope's slice waits (After=) for a service that never finishes
  # starting: the scope's start job waits with it.
  local slice=nooktestblock$RANDOM.slice slow=nook-test-slow-$ID.service
  SD_EXTRA_UNITS+=("$slow" "$slice")
  mkdir -p /run/systemd/system
  # DefaultDependencies=no: the default ones would start sysinit.target in
  # the test VM, whose tmpfiles run empties /tmp (bats' own files).
  printf '[Unit]\nDefaultDependencies=no\n[Service]\nType=oneshot\nExecStart=/bin/sleep 600\n' \
    >"/run/systemd/system/$slow"
  printf '[Unit]\nDefaultDependencies=no\nWants=%s\nAfter=%s\n' "$slow" "$slow" \
    >"/run/systemd/system/$slice"
  # No daemon-reload (seconds under TCG): systemd loads a unit file it has
  # not seen on first use.
  sd_bundle_at "$slice:nook-test:$ID" sleep 987654
  local start=$SECONDS
  NOOK_SYSTEMD_TIMEOUT=2 run nook run -d --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "did not start unit \`$UNIT\` within 2.000 s"
  [ $((SECONDS - start)) -lt 60 ] || fail "the timeout was not kept: $((SECONDS - start)) s"
  # The job was cancelled: the scope never starts around a dead process.
  assert_unit_gone "$UNIT"
  run nook list -q
  assert_output ""
  run pgrep -f "sleep 987654"
  assert_failure
  systemctl stop "$slow" "$slice" || true
  rm -f "/run/systemd/system/$slow" "/run/systemd/system/$slice"
}
