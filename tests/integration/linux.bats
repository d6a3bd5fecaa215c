#!/usr/bin/env bats
# linux.* fields the core issue covers beyond namespaces and mounts:
# memoryPolicy, netDevices, LSM labels and intelRdt on a host without them,
# and cleanup after a runtime killed in the middle of create.

load helpers

@test "linux.memoryPolicy: MPOL_BIND to node 0 is the process's policy" {
  setup_bundle sh -c 'grep -m1 -o "bind:0" /proc/self/numa_maps'
  update_config 'c["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0"}'
  run nook run "$ID"
  assert_success
  assert_output "bind:0"
}

@test "linux.memoryPolicy: a node list that is not one fails naming the field" {
  setup_bundle true
  update_config 'c["linux"]["memoryPolicy"] = {"mode": "MPOL_BIND", "nodes": "0-x"}'
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.memoryPolicy.nodes"
}

@test "linux.netDevices: a host veth moves into the container, renamed and up" {
  command -v ip >/dev/null || fail "iproute2 is required"
  local host=nkv$$$BATS_TEST_NUMBER peer=nkp$$$BATS_TEST_NUMBER
  ip link add "$host" type veth peer name "$peer"
  ip addr add 10.213.$((BATS_TEST_NUMBER % 250)).1/24 dev "$host"
  setup_bundle sh -c 'cat /sys/class/net/ctr0/operstate /sys/class/net/ctr0/flags; ip -4 -o addr show ctr0 | grep -o "10\.213\.[0-9]*\.1/24"'
  update_config "c['linux']['netDevices'] = {'$host': {'name': 'ctr0'}}"
  run nook run "$ID"
  ip link del "$peer" 2>/dev/null || true
  assert_success
  # A veth whose peer is down reports lowerlayerdown; IFF_UP (0x1) is set.
  [[ ${lines[0]} == lowerlayerdown || ${lines[0]} == up ]] || fail "operstate: ${lines[0]}"
  (( ${lines[1]} & 1 )) || fail "flags ${lines[1]}: not up"
  assert_line --index 2 --regexp '^10\.213\.[0-9]+\.1/24$'
  # The device left the host namespace.
  run ip link show "$host"
  assert_failure
}

@test "linux.netDevices without a new network namespace is refused" {
  setup_bundle true
  update_config 'ns_remove("network"); c["linux"]["netDevices"] = {"nope0": {}}'
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.netDevices"
}

@test "process.apparmorProfile on a host without AppArmor: a clear error" {
  [[ -e /sys/kernel/security/apparmor ]] && fail "this host has AppArmor; the test assumes none"
  setup_bundle true
  update_config 'c["process"]["apparmorProfile"] = "docker-default"'
  run nook run "$ID"
  assert_failure
  assert_output --partial "process.apparmorProfile: AppArmor is not enabled"
  run nook state "$ID"
  assert_failure
}

@test "process.selinuxLabel on a host without SELinux: a clear error" {
  setup_bundle true
  update_config 'c["process"]["selinuxLabel"] = "system_u:system_r:container_t:s0"'
  run nook run "$ID"
  assert_failure
  assert_output --partial "process.selinuxLabel: SELinux is not enabled"
}

@test "linux.mountLabel and context= mount options without SELinux: warnings, the container runs" {
  [[ -e /sys/kernel/security/selinux || -e /sys/fs/selinux/enforce ]] &&
    fail "this host has SELinux; the test assumes none"
  setup_bundle sh -c 'grep " /mnt/t " /proc/self/mountinfo'
  update_config 'c["linux"]["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
c["mounts"].append({"destination": "/mnt/t", "type": "tmpfs", "source": "tmpfs",
  "options": ["nosuid", "context=\"system_u:object_r:container_file_t:s0\"", "size=1m"]})'
  log=$BATS_TEST_TMPDIR/runtime.log
  NOOK_OPTS="--log $log --log-format json" run nook run "$ID"
  assert_success
  # the mount is there, with its other options
  assert_output --regexp ' /mnt/t .*nosuid.* - tmpfs tmpfs .*size=1024k'
  log_messages warning
  assert_line --partial 'linux.mountLabel: SELinux is not enabled on this host'
  assert_line --regexp 'mounts\[[0-9]+\]\.options: SELinux is not enabled on this host, "context=.*" is not applied'
  [ "${#lines[@]}" -eq 2 ]
}

@test "linux.intelRdt without resctrl: a clear error" {
  setup_bundle true
  update_config 'c["linux"]["intelRdt"] = {"closID": "nook-test"}'
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.intelRdt"
}

@test "validation errors name config.json and the field" {
  setup_bundle true
  update_config 'c["linux"]["namespaces"].append({"type": "pid"})'
  run nook run "$ID"
  assert_failure
  assert_output --regexp 'config\.json: linux\.namespaces\[[0-9]+\].*pid'
}

# The runtime is SIGKILLed while a createRuntime hook holds it mid-create:
# the container process exists, its cgroup exists, no READY was seen.
# delete --force must leave nothing: no process, no cgroup, no state.
@test "a runtime killed mid-create leaves nothing delete --force cannot clean" {
  setup_bundle true
  update_config "c['linux']['cgroupsPath'] = 'nook-test-$ID'"
  update_config "c.setdefault('hooks', {})['createRuntime'] = [{'path': '/bin/sh', 'args': ['sh', '-c', 'cat > $BATS_TEST_TMPDIR/state.json; echo \$\$ > $BATS_TEST_TMPDIR/hook.pid; touch $BATS_TEST_TMPDIR/hook-ran; exec sleep 30']}]"
  "$NOOK" --root "$NOOK_ROOT" create "$ID" </dev/null >/dev/null 2>&1 3>&- &
  local nook_pid=$!
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do [[ -e $BATS_TEST_TMPDIR/hook-ran ]] && break; sleep 0.05; done
  [[ -e $BATS_TEST_TMPDIR/hook-ran ]] || fail "the hook never ran"
  local cpid
  cpid=$(jq -r .pid "$BATS_TEST_TMPDIR/state.json")
  [[ $cpid -gt 0 ]] && kill -0 "$cpid" || fail "no container process"
  # The container's cgroup directory: its memory hierarchy's on a v1 or
  # hybrid host, the unified one on a pure v2 host.
  local cgdir
  cgdir=$(awk -F: '$2 == "memory" {print "/sys/fs/cgroup/memory" $3}' "/proc/$cpid/cgroup")
  [[ -n $cgdir ]] || cgdir=$(awk -F: '$1 == "0" {print "/sys/fs/cgroup" $3}' "/proc/$cpid/cgroup")
  [[ -d $cgdir ]] || fail "no cgroup $cgdir"
  kill -9 "$nook_pid"
  wait "$nook_pid" || true
  kill -9 "$(cat "$BATS_TEST_TMPDIR/hook.pid")" 2>/dev/null || true

  run nook state "$ID"
  assert_success
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$cpid"
  [[ ! -d $cgdir ]] || fail "cgroup $cgdir left behind"
  [[ $cgdir != /sys/fs/cgroup/memory/* || ! -d /sys/fs/cgroup/pids${cgdir#/sys/fs/cgroup/memory} ]] ||
    fail "pids cgroup left behind"
  run nook state "$ID"
  assert_failure
  [[ ! -e $NOOK_ROOT/$ID ]] || fail "state dir left behind"
}
