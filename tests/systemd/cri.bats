#!/usr/bin/env bats
# Kubernetes with the systemd cgroup driver (a kubelet with cgroupDriver:
# systemd, kubeadm's default): containerd's CRI plugin with nook as the
# handler nook-systemd, whose SystemdCgroup = true makes the runc shim run nook
# with --systemd-cgroup, and a pod whose cgroup_parent is a slice, which
# containerd turns into the cgroupsPath SLICE:cri-containerd:ID.  The rest of
# the CRI API is tests/engines/cri.bats' (the cgroupfs handler, on the host).
# Needs systemd as PID 1: make check runs it in the systemd pass
# (tests/vm/run --systemd); it skips elsewhere.

load ../engines/helpers
load ../engines/cri/helpers

HANDLER=$HANDLER_SYSTEMD

is_systemd() {
  [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] && [ -d /run/systemd/system ]
}

setup_file() {
  is_systemd || return 0
  # containerd's and the client's start take tens of seconds under TCG.
  export CRI_START_TIMEOUT=180 ENGINE_CMD_TIMEOUT=180
  # The CNI library's cache is /var/lib/cni, hard-coded.  The guest's root
  # is an overlay on the live host root (9p), where a CRI run on the host
  # may remove that directory under containerd's feet: the guest gets a
  # tmpfs of its own there.
  if ! mountpoint -q /var/lib/cni; then
    mkdir -p /var/lib/cni
    mount -t tmpfs -o mode=0700 nook-test-cni /var/lib/cni
    export SD_CNI_TMPFS=1
  fi
  cri_setup_file
  # The pods' slices, as the kubelet names them (a dash nests a slice):
  # SD_SLICE.slice/SD_SLICE-podNAME.slice.
  SD_SLICE=nooktest_$(basename "$ENGINE_TMP" | tr -cd 'a-zA-Z0-9')
  export SD_SLICE
}

teardown_file() {
  if [ -n "${ENGINE_TMP:-}" ]; then
    cri_teardown_file
    # The kubelet removes a pod's slice after the pod; so does the suite.
    systemctl stop "$SD_SLICE.slice" >/dev/null 2>&1 || true
  fi
  [ -z "${SD_CNI_TMPFS:-}" ] || umount /var/lib/cni
}

setup() {
  is_systemd || skip "needs systemd as PID 1 (make check runs this file in tests/vm/run --systemd)"
}

# unit_is UNIT PROPERTY VALUE: `systemctl show` has PROPERTY=VALUE for UNIT.
unit_is() {
  local v
  v=$(systemctl show --value -p "$2" "$1")
  [ "$v" = "$3" ] || fail "$1: $2 is '$v', not '$3'"
}

@test "cri (SystemdCgroup): a pod in a slice: sandbox and containers in scopes systemd made, limits as unit properties, update, exec, stats" {
  local pod_slice=$SD_SLICE-podsd1.slice
  run_pod sd1 ".linux.cgroup_parent = \"/$SD_SLICE.slice/$pod_slice\""
  local sb pid
  sb=$(pod_id sd1)
  pid=$(rt_pid sd1)
  # containerd gave nook the systemd form of the pod's slice.
  run jq -r .linux.cgroupsPath "$CRI_STATE/io.containerd.runtime.v2.task/k8s.io/$sb/config.json"
  assert_output "$pod_slice:cri-containerd:$sb"
  unit_is "cri-containerd-$sb.scope" ActiveState active
  unit_is "cri-containerd-$sb.scope" Slice "$pod_slice"
  run grep '^0::' "/proc/$pid/cgroup"
  assert_output "0::/$SD_SLICE.slice/$pod_slice/cri-containerd-$sb.scope"

  create_ctr sd1 app 'echo ready; while :; do sleep 1; done' '.config.linux.resources.memory_limit_in_bytes = 67108864'
  start_ctr sd1 app
  wait_log sd1 app ready
  local id unit dir
  id=$(ctr_id sd1 app)
  unit=cri-containerd-$id.scope
  dir=/sys/fs/cgroup/$SD_SLICE.slice/$pod_slice/$unit
  unit_is "$unit" Slice "$pod_slice"
  unit_is "$unit" Delegate yes
  unit_is "$unit" MemoryMax 67108864
  # cpu_shares 512 (create_ctr_req) as runc converts shares to a weight.
  unit_is "$unit" CPUWeight 20
  run grep '^0::' "/proc/$(rt_pid sd1 app)/cgroup"
  assert_output "0::/$SD_SLICE.slice/$pod_slice/$unit"
  assert_equal "$(cat "$dir/memory.max")" 67108864

  # The shim runs `nook --systemd-cgroup update`: the unit and the file.
  run cri UpdateContainerResources "$(jq -cn --arg id "$id" '{container_id: $id,
    linux: {memory_limit_in_bytes: 134217728, cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512}}')"
  assert_success
  unit_is "$unit" MemoryMax 134217728
  assert_equal "$(cat "$dir/memory.max")" 134217728
  assert_equal "$(cat "$dir/cpu.max")" "50000 100000"

  # An exec joins the container's scope.
  run exec_sync "$id" sh -c 'cat /proc/self/cgroup; echo done'
  assert_success
  [ "$(jq -r .exit_code <<<"$output")" = 0 ] || fail "$output"
  [[ $(jq -r .stdout <<<"$output") == *done* ]] || fail "$output"
  # The shim reads the scope's files for the stats.
  run cri ContainerStats "{\"container_id\":\"$id\"}"
  assert_success
  [ "$(jq -r .stats.memory.working_set_bytes.value <<<"$output")" -gt 0 ] || fail "$output"
}

@test "cri (SystemdCgroup): StopPodSandbox and RemovePodSandbox leave no unit, no cgroup, nothing else" {
  local sb id
  sb=$(pod_id sd1)
  id=$(ctr_id sd1 app)
  remove_pod sd1
  local u
  for u in "cri-containerd-$sb.scope" "cri-containerd-$id.scope"; do
    unit_is "$u" LoadState not-found
  done
  run find "/sys/fs/cgroup/$SD_SLICE.slice" -name 'cri-containerd-*'
  assert_output ""
  [ ! -e "$CRI_RUNC_ROOT/k8s.io/$sb" ] || fail "runtime state of $sb left"
  # Nor anything else: mounts, processes, runtime state, shim sockets.
  containerd_stop
  engine_leak_check
}
