#!/usr/bin/env bats
# The systemd cgroup driver (--systemd-cgroup): the container's cgroup is a
# transient scope systemd makes, seen through `systemctl show` and the cgroup
# files; the lifecycle commands act through it; nothing is left after delete.
# Runs under systemd as PID 1 only (tests/vm/run --systemd; helpers.bash).

load helpers

setup_file() {
  sd_setup_file
}

setup() {
  sd_setup
  skip_unless_v2
}

@test "systemd driver: run makes the scope of cgroupsPath, with the init in it" {
  sd_bundle sleep 1000
  run_detached "$ID"
  local pid
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
  run cat "$(scope_dir)/cgroup.procs"
  assert_output "$pid"
}

@test "systemd driver: no cgroupsPath gives nook-<id>.scope in system.slice" {
  sd_bundle_at "" sleep 1000
  UNIT=nook-$ID.scope
  run_detached "$ID"
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  assert_equal "$(unit_prop "$UNIT" ControlGroup)" "/system.slice/$UNIT"
  run nook delete --force "$ID"
  assert_success
  assert_unit_gone "$UNIT"
}

@test "systemd driver: a nested slice (kubepods-besteffort-podX.slice) as runc expands it" {
  # (Dashes nest slices: the pod's name has none.)
  local pod=pod${ID//-/_} slice
  slice=kubepods-besteffort-$pod.slice
  sd_bundle_at "$slice:cri-containerd:$ID" sleep 1000
  UNIT=cri-containerd-$ID.scope
  SD_EXTRA_UNITS+=("$slice" kubepods-besteffort.slice kubepods.slice)
  run_detached "$ID"
  assert_equal "$(unit_prop "$UNIT" Slice)" "$slice"
  assert_equal "$(unit_prop "$UNIT" ControlGroup)" \
    "/kubepods.slice/kubepods-besteffort.slice/$slice/$UNIT"
  run nook delete --force "$ID"
  assert_success
  assert_unit_gone "$UNIT"
}

@test "systemd driver: a malformed cgroupsPath is refused, naming it, and nothing is made" {
  sd_bundle sleep 1000
  local p
  for p in "a:b" "system.slice:x:y:z" "notaslice:p:$ID" "a--b.slice:p:$ID" \
    "system.slice:p:$ID.slice" "system.slice:p:a/b"; do
    update_config ".linux.cgroupsPath = \"$p\""
    run nook run -d --bundle "$BUNDLE" "$ID"
    assert_failure
    assert_output --partial "cgroupsPath"
    assert_output --partial "$p"
  done
  run nook list -q
  assert_output ""
  # The cgroupfs driver refuses the systemd form, and says which flag it needs.
  update_config ".linux.cgroupsPath = \"system.slice:nook-test:$ID\""
  NOOK_OPTS= run nook run -d --bundle "$BUNDLE" "$ID"
  assert_failure
  assert_output --partial "pass --systemd-cgroup"
  assert_unit_gone "$UNIT"
}

@test "systemd driver: resources become unit properties and cgroup files" {
  sd_bundle sleep 1000
  update_config '.linux.resources.memory = {"limit": 67108864, "reservation": 33554432, "swap": 100663296}
    | .linux.resources.cpu = {"shares": 1024, "quota": 12345, "period": 100000, "cpus": "0", "mems": "0"}
    | .linux.resources.pids = {"limit": 77}
    | .linux.resources.unified = {"memory.high": "50331648"}'
  run_detached "$ID"
  local d
  d=$(scope_dir)
  unit_show "$UNIT"
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
}

@test "systemd driver: what systemd has no property for is written to the cgroup files" {
  sd_bundle sleep 1000
  update_config '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]
    | .linux.resources.unified = {"memory.oom.group": "1"}'
  run_detached "$ID"
  local d
  d=$(scope_dir)
  assert_equal "$(cat "$d/hugetlb.2MB.max")" 4194304
  assert_equal "$(cat "$d/memory.oom.group")" 1
}

@test "systemd driver: device rules are DevicePolicy=strict with DeviceAllow, and enforced" {
  sd_bundle sleep 1000
  update_config '.linux.resources.devices = [{"allow": false, "access": "rwm"}]'
  run_detached "$ID"
  assert_equal "$(unit_prop "$UNIT" DevicePolicy)" strict
  run unit_prop "$UNIT" DeviceAllow
  assert_output --partial "/dev/char/1:3 rwm"
  assert_output --partial "char-136 rwm"
  assert_output --partial "char-* m"
  # /dev/null works; a node the rules do not allow cannot be opened.
  run nook exec "$ID" sh -c 'echo x >/dev/null && echo null-ok'
  assert_output null-ok
  run nook exec "$ID" sh -c 'mknod /dev/mem-test c 1 1 && head -c1 /dev/mem-test'
  assert_failure
  assert_output --partial "Operation not permitted"
}

@test "systemd driver: org.systemd.property.* annotations become unit properties" {
  sd_bundle sleep 1000
  update_config '.annotations["org.systemd.property.TimeoutStopSec"] = "17"
    | .annotations["org.systemd.property.CollectMode"] = "'"'inactive-or-failed'"'"
    | .annotations["org.systemd.property.Description"] = "'"'a nook test'"'"'
  run_detached "$ID"
  assert_equal "$(unit_prop "$UNIT" TimeoutStopUSec)" 17s
  assert_equal "$(unit_prop "$UNIT" CollectMode)" inactive-or-failed
  assert_equal "$(unit_prop "$UNIT" Description)" "a nook test"
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

@test "systemd driver: update changes the unit's properties and the files" {
  sd_bundle sleep 1000
  run_detached "$ID"
  run nook update --memory 128m --pids-limit 55 --cpu-quota 20000 --cpu-period 100000 --cpu-share 512 "$ID"
  assert_success
  local d
  d=$(scope_dir)
  unit_show "$UNIT"
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
}

@test "systemd driver: pause and resume freeze the scope's cgroup" {
  sd_bundle sleep 1000
  run_detached "$ID"
  run nook pause "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" paused
  assert_equal "$(grep frozen "$(scope_dir)/cgroup.events")" "frozen 1"
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  run nook resume "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" running
  assert_equal "$(grep frozen "$(scope_dir)/cgroup.events")" "frozen 0"
}

@test "systemd driver: exec joins the scope's cgroup; ps, kill --all and events see it" {
  sd_bundle sleep 1000
  # Without a cgroup namespace the container sees its own cgroup's path.
  update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
  run_detached "$ID"
  run nook exec "$ID" cat /proc/self/cgroup
  assert_success
  assert_output "0::/system.slice/$UNIT"
  nook exec -d "$ID" sleep 999
  run nook ps "$ID"
  assert_success
  assert_output --partial "sleep 999"
  run nook events --stats "$ID"
  assert_success
  [ "$(jq '.data.pids.current' <<<"$output")" -ge 2 ]
  [ "$(jq '.data.memory.usage.usage' <<<"$output")" -gt 0 ]
  local pid dir
  pid=$(state_field "$ID" pid)
  dir=$(scope_dir)
  run nook kill --all "$ID" KILL
  assert_success
  wait_pid_gone "$pid"
  # Emptied, the scope stops and systemd removes its cgroup.
  [ -z "$(cat "$dir/cgroup.procs" 2>/dev/null)" ]
}

@test "systemd driver: delete stops the unit; nothing is left in systemd's tree" {
  sd_bundle sleep 1000
  run_detached "$ID"
  local pid
  pid=$(state_field "$ID" pid)
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  assert_unit_gone "$UNIT"
  run systemctl list-units --all --no-legend "nook-test-$ID*"
  assert_output ""
}

@test "systemd driver: create then delete (never started); a stopped container's delete" {
  sd_bundle sleep 1000
  create_container "$ID"
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  run nook delete "$ID"
  assert_success
  assert_unit_gone "$UNIT"
  # The init exits: systemd collects the empty scope by itself; delete is
  # still clean.
  sd_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook delete "$ID"
  assert_success
  assert_unit_gone "$UNIT"
}

@test "systemd driver: run in the foreground; the scope goes with the container" {
  sd_bundle sh -c 'cat /proc/self/cgroup; exit 3'
  update_config '.linux.namespaces |= map(select(.type != "cgroup"))'
  run nook run --bundle "$BUNDLE" "$ID"
  assert_failure 3
  assert_output "0::/system.slice/$UNIT"
  assert_unit_gone "$UNIT"
}

@test "systemd driver: a second container with the same cgroupsPath is refused" {
  sd_bundle sleep 1000
  run_detached "$ID"
  run nook run -d --bundle "$BUNDLE" "$ID2"
  assert_failure
  assert_output --partial "$UNIT"
  assert_output --partial "exists already"
  # The first one is untouched.
  assert_equal "$(unit_prop "$UNIT" ActiveState)" active
  assert_equal "$(state_field "$ID" status)" running
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
  systemctl daemon-reload
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
  systemctl daemon-reload
}

@test "systemd driver: --systemd-cgroup only talks to systemd when it has to" {
  sd_bundle sleep 1000
  run_detached "$ID"
  # ps, pause, resume, state and exec work on the files: nook itself does
  # not load libsystemd (its children may: procps' ps is linked with it).
  local cmd
  for cmd in "ps $ID" "pause $ID" "resume $ID" "state $ID" "exec $ID true"; do
    # shellcheck disable=SC2086 # the words of cmd
    run strace -e trace=openat -o "$BATS_TEST_TMPDIR/trace" "$NOOK" --systemd-cgroup --root "$NOOK_ROOT" $cmd
    assert_success
    if grep -q libsystemd "$BATS_TEST_TMPDIR/trace"; then
      fail "\`nook $cmd\` loaded libsystemd"
    fi
  done
  run strace -e trace=openat -o "$BATS_TEST_TMPDIR/trace" "$NOOK" --systemd-cgroup --root "$NOOK_ROOT" delete -f "$ID"
  assert_success
  grep -q libsystemd "$BATS_TEST_TMPDIR/trace"
}
