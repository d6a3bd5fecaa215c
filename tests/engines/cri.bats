#!/usr/bin/env bats
# Kubernetes' path to an OCI runtime: containerd 1.6's CRI plugin with the
# runtime under test as a RuntimeClass handler ("nook": runtime_type
# io.containerd.runc.v2, options.BinaryName = the runtime), driven through the
# CRI gRPC API (runtime.v1) the way the kubelet drives it.  crictl is not
# packaged in Debian 12: cri/cri-client.js is this suite's client (node,
# @grpc/grpc-js, installed by scripts/deps.sh from cri/package-lock.json).
#
# Set-up (README.md): a private containerd with the CRI plugin on, in a
# network namespace of its own made here (so the CNI plugins' bridge and veths
# and the streaming server's 127.0.0.1 are in it, never on the host); pods get
# their own network namespace from Debian's CNI plugins (loopback, and bridge
# with host-local addresses, inside containerd's namespace); images (busybox
# and a busybox-based pause image for sandbox_image) imported with ctr into
# the k8s.io namespace; no registry, no host network.

load helpers
load cri/helpers

setup_file() {
  CRI_WITH_VM=1 cri_setup_file
}

teardown_file() {
  cri_teardown_file
}

# --- the runtime is ready, the handler is the runtime under test -------------------

@test "cri: the runtime and the pod network are ready, the images are there" {
  run cri Version '{"version":"v1"}'
  assert_success
  assert_output --partial '"runtime_api_version": "v1"'
  run cri Status '{}'
  assert_success
  [ "$(jq -r '.status.conditions[] | select(.type == "RuntimeReady") | .status' <<<"$output")" = true ] || fail "$output"
  [ "$(jq -r '.status.conditions[] | select(.type == "NetworkReady") | .status' <<<"$output")" = true ] || fail "$output"
  run cri ListImages '{}'
  assert_success
  assert_output --partial "$IMAGE"
  assert_output --partial "$PAUSE_IMAGE"
}

@test "cri: RunPodSandbox with the nook handler: the sandbox runs under the runtime, in a network namespace of its own" {
  run_pod p1
  local id
  id=$(pod_id p1)
  run cri PodSandboxStatus "{\"pod_sandbox_id\":\"$id\"}"
  assert_success
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_READY ] || fail "$output"
  [ "$(jq -r .status.runtime_handler <<<"$output")" = "$HANDLER" ] || fail "$output"
  local ip
  ip=$(jq -r .status.network.ip <<<"$output")
  [[ $ip == 192.0.2.* ]] || fail "pod ip '$ip' is not from $POD_SUBNET"
  # The handler's runtime ran it: its state of the sandbox.
  run "$RT" --root "$CRI_RUNC_ROOT/k8s.io" state "$id"
  assert_success
  assert_output --partial '"status": "running"'
  local pid
  pid=$(jq -r .pid <<<"$output")
  # Neither the host's network namespace nor containerd's.
  local netns
  netns=$(readlink "/proc/$pid/ns/net")
  [ "$netns" != "$(readlink /proc/self/ns/net)" ] || fail "the pod is in the host's network namespace"
  [ "$netns" != "$(readlink "/proc/$(cat "$ENGINE_TMP/containerd.pid")/ns/net")" ] || fail "the pod is in containerd's network namespace"
  # The sandbox's cgroup is under the pod's cgroup parent.
  run grep -E '^[0-9]+:memory:' "/proc/$pid/cgroup"
  assert_output --partial ":memory:/$CRI_CGROUP/pod-p1/$id"
}

@test "cri: two containers of a pod join its network, IPC and UTS namespaces by path" {
  create_ctr p1 web 'echo ready; while :; do echo served | nc -l -p 8080; done'
  create_ctr p1 client 'echo ready; while :; do sleep 1; done'
  start_ctr p1 web
  start_ctr p1 client
  wait_log p1 web ready
  wait_log p1 client ready
  # The runtime was given the sandbox's namespaces as paths to join.
  local bundle=$CRI_STATE/io.containerd.runtime.v2.task/k8s.io/$(ctr_id p1 client)
  run jq -r '.linux.namespaces[] | select(.path != null and .path != "") | .type' "$bundle/config.json"
  assert_success
  assert_line network
  assert_line ipc
  assert_line uts
  local sb web client ns
  sb=$(rt_pid p1)
  web=$(rt_pid p1 web)
  client=$(rt_pid p1 client)
  for ns in net ipc uts; do
    [ "$(readlink "/proc/$web/ns/$ns")" = "$(readlink "/proc/$sb/ns/$ns")" ] || fail "web is not in the pod's $ns namespace"
    [ "$(readlink "/proc/$client/ns/$ns")" = "$(readlink "/proc/$sb/ns/$ns")" ] || fail "client is not in the pod's $ns namespace"
  done
  # pid: one per container (the kubelet's default).
  [ "$(readlink "/proc/$web/ns/pid")" != "$(readlink "/proc/$client/ns/pid")" ] || fail "the containers share a pid namespace"
  # The pod's loopback joins them; the hostname is the pod's.
  run exec_sync "$(ctr_id p1 client)" sh -c 'nc 127.0.0.1 8080 </dev/null; hostname; ip -o addr show eth0'
  assert_success
  [ "$(jq -r .exit_code <<<"$output")" = 0 ] || fail "$output"
  local out
  out=$(jq -r .stdout <<<"$output")
  [[ $out == *served* ]] || fail "client did not reach web over the pod's loopback: $output"
  [[ $out == *$'\np1\n'* ]] || fail "hostname is not the pod's: $output"
  [[ $out == *"inet 192.0.2."* ]] || fail "no pod address on eth0: $output"
}

@test "cri: ExecSync: stdout, stderr, exit status, environment, timeout" {
  local id
  id=$(ctr_id p1 client)
  run exec_sync "$id" sh -c 'echo out-$((2+3)); echo err >&2; echo "env=$NOOK_CRI"; exit 7'
  assert_success
  [ "$(jq -r .exit_code <<<"$output")" = 7 ] || fail "$output"
  [ "$(jq -r .stdout <<<"$output")" = $'out-5\nenv=client' ] || fail "$output"
  [ "$(jq -r .stderr <<<"$output")" = err ] || fail "$output"
  run exec_sync "$id" no-such-exec-cmd
  [[ $output == *'executable file not found in $PATH'* ]] || fail "no runtime message: $output"
  run cri ExecSync "$(jq -cn --arg id "$id" '{container_id: $id, cmd: ["sleep", "30"], timeout: 1}')"
  assert_failure
  assert_output --partial DEADLINE_EXCEEDED
}

@test "cri: concurrent ExecSyncs (the kubelet's probes) each get their own output and status" {
  local id i pids=()
  id=$(ctr_id p1 client)
  for i in 1 2 3 4 5 6 7 8; do
    exec_sync "$id" sh -c "echo probe-$i; exit $i" >"$BATS_TEST_TMPDIR/probe-$i.json" &
    pids+=($!)
  done
  for i in "${!pids[@]}"; do
    wait "${pids[$i]}" || fail "ExecSync $((i + 1)) failed: $(cat "$BATS_TEST_TMPDIR/probe-$((i + 1)).json")"
  done
  for i in 1 2 3 4 5 6 7 8; do
    run jq -r '"\(.stdout | rtrimstr("\n")) \(.exit_code)"' "$BATS_TEST_TMPDIR/probe-$i.json"
    assert_output "probe-$i $i"
  done
}

@test "cri: Exec with a terminal (streaming): prompt, input, exit status, terminal size" {
  local id req
  id=$(ctr_id p1 client)
  req=$(jq -cn --arg id "$id" '{container_id: $id, cmd: ["sh"], tty: true, stdin: true, stdout: true}')
  run cri_stream "$req" --expect '# ' --send 'echo hello-$((1+2))\n' --expect hello-3 --send 'exit 3\n'
  assert_failure 3
  assert_output --partial hello-3
  # With stdin: containerd 1.6 streams nothing back from a terminal exec
  # without it (runc alike).
  req=$(jq -cn --arg id "$id" --arg s "tty; [ -t 1 ] && echo stdout-is-tty; $STTY_SIZE" \
    '{container_id: $id, cmd: ["sh", "-c", $s], tty: true, stdin: true, stdout: true}')
  run cri_stream "$req" --resize 33x101 </dev/null
  assert_success
  assert_output --partial /dev/pts/
  assert_output --partial stdout-is-tty
  assert_output --partial "33 101"
}

@test "cri: Exec without a terminal: stdout and stderr apart, exit status" {
  local id req
  id=$(ctr_id p1 client)
  req=$(jq -cn --arg id "$id" '{container_id: $id, cmd: ["sh", "-c", "echo to-out; echo to-err >&2; exit 4"], stdout: true, stderr: true}')
  run --separate-stderr cri_stream "$req"
  assert_failure 4
  assert_output to-out
  [ "$stderr" = to-err ] || fail "stderr: $stderr"
}

@test "cri: ContainerStats: cpu, memory, writable layer" {
  local id
  id=$(ctr_id p1 client)
  run cri ContainerStats "{\"container_id\":\"$id\"}"
  assert_success
  [ "$(jq -r .stats.attributes.id <<<"$output")" = "$id" ] || fail "$output"
  [ "$(jq -r .stats.cpu.usage_core_nano_seconds.value <<<"$output")" -gt 0 ] || fail "$output"
  [ "$(jq -r .stats.memory.working_set_bytes.value <<<"$output")" -gt 0 ] || fail "$output"
  [ "$(jq -r .stats.memory.timestamp <<<"$output")" -gt 0 ] || fail "$output"
  [ "$(jq -r .stats.writable_layer.fs_id.mountpoint <<<"$output")" != "" ] || fail "$output"
}

@test "cri: UpdateContainerResources: new memory and cpu limits reach the container's cgroup" {
  local id pid
  id=$(ctr_id p1 client)
  pid=$(rt_pid p1 client)
  run cri UpdateContainerResources "$(jq -cn --arg id "$id" '{container_id: $id,
    linux: {memory_limit_in_bytes: 134217728, cpu_period: 100000, cpu_quota: 50000, cpu_shares: 256}}')"
  assert_success
  local mem cpu
  mem=$(awk -F: '$2 == "memory" {print $3}' "/proc/$pid/cgroup")
  cpu=$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' "/proc/$pid/cgroup")
  run cat "/sys/fs/cgroup/memory$mem/memory.limit_in_bytes" "/sys/fs/cgroup/cpu$cpu/cpu.cfs_quota_us" \
    "/sys/fs/cgroup/cpu$cpu/cpu.shares"
  assert_output $'134217728\n50000\n256'
  run cri ContainerStatus "{\"container_id\":\"$id\"}"
  [ "$(jq -r .status.resources.linux.memory_limit_in_bytes <<<"$output")" = 134217728 ] || fail "$output"
}

@test "cri: StopContainer: SIGTERM, the exit status, the log; RemoveContainer" {
  create_ctr p1 trap "$TRAP_SCRIPT"
  start_ctr p1 trap
  wait_log p1 trap ready
  local id
  id=$(ctr_id p1 trap)
  run cri StopContainer "{\"container_id\":\"$id\",\"timeout\":20}"
  assert_success
  run cri ContainerStatus "{\"container_id\":\"$id\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ] || fail "$output"
  [ "$(jq -r .status.exit_code <<<"$output")" = 42 ] || fail "$output"
  # The CRI log format: time, stream, tag, text.
  run cat "$ENGINE_TMP/pods/p1/trap.log"
  assert_line --regexp '^[0-9T:.+Z-]+ stdout F ready$'
  assert_line --regexp '^[0-9T:.+Z-]+ stdout F got-TERM$'
  run cri RemoveContainer "{\"container_id\":\"$id\"}"
  assert_success
  run "$RT" --root "$CRI_RUNC_ROOT/k8s.io" state "$id"
  assert_failure
}

@test "cri: StopContainer with a timeout: SIGKILL for a container that ignores SIGTERM" {
  create_ctr p1 deaf "$DEAF_SCRIPT"
  start_ctr p1 deaf
  wait_log p1 deaf ready
  local id
  id=$(ctr_id p1 deaf)
  run cri StopContainer "{\"container_id\":\"$id\",\"timeout\":1}"
  assert_success
  run cri ContainerStatus "{\"container_id\":\"$id\"}"
  [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ] || fail "$output"
  [ "$(jq -r .status.exit_code <<<"$output")" = 137 ] || fail "$output"
  cri RemoveContainer "{\"container_id\":\"$id\"}" >/dev/null
}

@test "cri: a container whose executable is missing: the runtime's message comes back" {
  run cri CreateContainer "$(create_ctr_req p1 bad x '.config.command = ["no-such-cmd"] | .config.args = []')"
  local id
  if [ "$status" -eq 0 ]; then
    id=$(jq -r .container_id <<<"$output")
    run cri StartContainer "{\"container_id\":\"$id\"}"
    cri RemoveContainer "{\"container_id\":\"$id\"}" >/dev/null || true
  fi
  assert_failure
  assert_output --partial 'exec: "no-such-cmd": executable file not found in $PATH'
}

@test "cri: security context: user, read-only rootfs, capabilities, no_new_privs, RuntimeDefault seccomp" {
  create_ctr p1 sec 'id -u; id -g; touch /x 2>&1; grep -E "^(CapEff|NoNewPrivs|Seccomp):" /proc/self/status' \
    '.config.linux.security_context += {run_as_user: {value: 1000}, run_as_group: {value: 1000}, readonly_rootfs: true,
      no_new_privs: true, capabilities: {drop_capabilities: ["ALL"]}, seccomp: {profile_type: "RuntimeDefault"}}'
  start_ctr p1 sec
  local id
  id=$(ctr_id p1 sec)
  wait_until 20 ctr_is CONTAINER_EXITED p1 sec
  run cat "$ENGINE_TMP/pods/p1/sec.log"
  assert_line --regexp ' F 1000$'
  assert_line --partial 'Read-only file system'
  assert_line --regexp 'CapEff:[[:space:]]+0000000000000000$'
  assert_line --regexp 'NoNewPrivs:[[:space:]]+1$'
  assert_line --regexp 'Seccomp:[[:space:]]+2$'
  cri RemoveContainer "{\"container_id\":\"$id\"}" >/dev/null
}

# wait_exited POD NAME: the container has exited; its status in $output.
wait_exited() {
  wait_until 30 ctr_is CONTAINER_EXITED "$1" "$2"
  output=$(cri ContainerStatus "{\"container_id\":\"$(ctr_id "$1" "$2")\"}")
}

rm_ctr() {
  cri RemoveContainer "{\"container_id\":\"$(ctr_id "$1" "$2")\"}" >/dev/null || fail "RemoveContainer $2 failed"
}

@test "cri: the memory limit is enforced and the container's status says OOMKilled" {
  create_ctr p1 oom 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived' \
    '.config.linux.resources.memory_limit_in_bytes = 16777216'
  start_ctr p1 oom
  wait_exited p1 oom
  [ "$(jq -r .status.exit_code <<<"$output")" = 137 ] || fail "$output"
  [ "$(jq -r .status.reason <<<"$output")" = OOMKilled ] || fail "$output"
  run cat "$ENGINE_TMP/pods/p1/oom.log"
  refute_output --partial survived
  rm_ctr p1 oom
}

@test "cri: a working dir missing from the image is created; a terminal container logs what it prints" {
  create_ctr p1 wd 'pwd; tty' '.config.working_dir = "/new/work/dir" | .config.tty = true | .config.stdin = true'
  start_ctr p1 wd
  wait_exited p1 wd
  [ "$(jq -r .status.exit_code <<<"$output")" = 0 ] || fail "$output $(cat "$ENGINE_TMP/pods/p1/wd.log")"
  run cat "$ENGINE_TMP/pods/p1/wd.log"
  assert_line --regexp ' F /new/work/dir.?$'
  assert_line --regexp ' F /dev/pts/0.?$'
  rm_ctr p1 wd
}

@test "cri: a Localhost seccomp profile is applied" {
  local prof=$ENGINE_TMP/pods/no-mkdir.json
  echo '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}' >"$prof"
  create_ctr p1 scmp 'mkdir /tmp/d 2>&1; echo done' \
    ".config.linux.security_context.seccomp = {profile_type: \"Localhost\", localhost_ref: \"$prof\"}"
  start_ctr p1 scmp
  wait_exited p1 scmp
  run cat "$ENGINE_TMP/pods/p1/scmp.log"
  assert_line --partial 'Operation not permitted'
  assert_line --regexp ' F done$'
  rm_ctr p1 scmp
}

@test "cri: a restarted container (next attempt) runs again in the pod's namespaces" {
  create_ctr p1 rs 'readlink /proc/self/ns/net; echo "attempt-$NOOK_CRI"'
  start_ctr p1 rs
  wait_exited p1 rs
  rm_ctr p1 rs
  # The kubelet restarts a container as a new one with the next attempt.
  create_ctr p1 rs 'readlink /proc/self/ns/net; echo "attempt-$NOOK_CRI"' '.config.metadata.attempt = 1 | .config.log_path = "rs.1.log"'
  start_ctr p1 rs
  wait_exited p1 rs
  [ "$(jq -r .status.metadata.attempt <<<"$output")" = 1 ] || fail "$output"
  run cat "$ENGINE_TMP/pods/p1/rs.1.log"
  assert_line --partial "$(readlink "/proc/$(rt_pid p1)/ns/net")"
  rm_ctr p1 rs
}

@test "cri: hostPath mounts: read-write, read-only, and host-to-container propagation" {
  local vol=$ENGINE_TMP/pods/vol shared=$ENGINE_TMP/pods/shared
  mkdir -p "$vol" "$shared"
  echo from-host >"$vol/in"
  # Propagation from the host needs a shared (or slave) source mount: a
  # shared bind mount of a directory of ours.
  mount --bind "$shared" "$shared"
  mount --make-shared "$shared"
  create_ctr p1 vols 'echo ready; cat /data/in; echo from-container >/data/out; touch /rodata/x 2>&1; while :; do sleep 1; done' \
    ".config.mounts = [{container_path: \"/data\", host_path: \"$vol\"},
      {container_path: \"/rodata\", host_path: \"$vol\", readonly: true},
      {container_path: \"/shared\", host_path: \"$shared\", propagation: \"PROPAGATION_HOST_TO_CONTAINER\"}]"
  start_ctr p1 vols
  wait_log p1 vols ready
  # A mount made on the host after the start reaches the container.
  mkdir -p "$shared/late"
  mount -t tmpfs -o size=1m nook-cri-late "$shared/late"
  echo late-mount >"$shared/late/f"
  run exec_sync "$(ctr_id p1 vols)" cat /shared/late/f
  umount "$shared/late"
  umount "$shared"
  [ "$(jq -r .stdout <<<"$output")" = late-mount ] || fail "the host's new mount did not propagate: $output"
  run cat "$ENGINE_TMP/pods/p1/vols.log"
  assert_line --regexp ' F from-host$'
  assert_line --partial 'Read-only file system'
  run cat "$vol/out"
  assert_output from-container
  cri StopContainer "{\"container_id\":\"$(ctr_id p1 vols)\",\"timeout\":0}" >/dev/null
  rm_ctr p1 vols
}

@test "cri: devices and added capabilities" {
  [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
  create_ctr p1 dev 'ls -l /dev/mytun; exec 3<>/dev/mytun && echo opened; ip link set lo mtu 9000 && echo net-admin' \
    '.config.devices = [{container_path: "/dev/mytun", host_path: "/dev/net/tun", permissions: "rwm"}]
     | .config.linux.security_context.capabilities = {add_capabilities: ["NET_ADMIN"]}'
  start_ctr p1 dev
  wait_exited p1 dev
  run cat "$ENGINE_TMP/pods/p1/dev.log"
  assert_output --partial '10, 200'
  assert_line --regexp ' F opened$'
  assert_line --regexp ' F net-admin$'
  rm_ctr p1 dev
}

@test "cri: RemovePodSandbox of a running pod stops and removes its containers" {
  run_pod p4
  create_ctr p4 a "$TRAP_SCRIPT"
  start_ctr p4 a
  wait_log p4 a ready
  local sb id
  sb=$(pod_id p4)
  id=$(ctr_id p4 a)
  run cri RemovePodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  if [ "$status" -ne 0 ]; then
    # containerd 1.6 wants the pod stopped first: that is the kubelet's order.
    assert_output --partial 'stop'
    cri StopPodSandbox "{\"pod_sandbox_id\":\"$sb\"}" >/dev/null
    run cri RemovePodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  fi
  assert_success
  run cri ContainerStatus "{\"container_id\":\"$id\"}"
  assert_failure
  [ ! -e "$CRI_RUNC_ROOT/k8s.io/$id" ] || fail "runtime state of $id left"
  [ ! -e "$CRI_RUNC_ROOT/k8s.io/$sb" ] || fail "runtime state of $sb left"
  remove_pod_cgroups p4
}

@test "cri: pod sysctls reach its containers" {
  run_pod p3 '.linux.sysctls = {"kernel.shm_rmid_forced": "1", "net.ipv4.ip_unprivileged_port_start": "99"}'
  create_ctr p3 s 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start'
  start_ctr p3 s
  wait_exited p3 s
  run cat "$ENGINE_TMP/pods/p3/s.log"
  assert_line --regexp ' F 1$'
  assert_line --regexp ' F 99$'
  remove_pod p3
}

@test "cri: a pod sharing its pid namespace: the containers see the sandbox's processes" {
  run_pod p2 '.linux.security_context.namespace_options.pid = "POD"'
  create_ctr p2 a 'echo ready; while :; do sleep 1; done'
  start_ctr p2 a
  wait_log p2 a ready
  run exec_sync "$(ctr_id p2 a)" sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo'
  assert_success
  [[ $(jq -r .stdout <<<"$output") == *'while :; do sleep 86400'* ]] || fail "pid 1 is not the pause process: $output"
  local sb pid
  sb=$(rt_pid p2)
  pid=$(rt_pid p2 a)
  [ "$(readlink "/proc/$pid/ns/pid")" = "$(readlink "/proc/$sb/ns/pid")" ] || fail "not in the pod's pid namespace"
  remove_pod p2
}

@test "cri: in a pod sharing its pid namespace, the shim's kill --all after a container's exit succeeds" {
  run_pod p5 '.linux.security_context.namespace_options.pid = "POD"'
  create_ctr p5 bg 'sleep 1000 & echo "started $!"'
  start_ctr p5 bg
  wait_exited p5 bg
  local id
  id=$(ctr_id p5 bg)
  rm_ctr p5 bg
  remove_pod p5
  # A container without a pid namespace of its own leaves its main process's
  # children behind in its cgroup: the shim kills them with the runtime's
  # `kill --all ID KILL` as soon as the main process exits (the container is
  # stopped by then) and logs a failure through containerd.
  run grep -F "failed to kill init's children" "$ENGINE_TMP/containerd.log"
  refute_output --partial "$id"
}

@test "cri: StopPodSandbox and RemovePodSandbox take the pod's containers, namespaces, cgroups and state" {
  local sb id
  sb=$(pod_id p1)
  local ids
  ids=$(cri ListContainers "{\"filter\":{\"pod_sandbox_id\":\"$sb\"}}" | jq -r '.containers[].id')
  [ -n "$ids" ] || fail "p1 has no containers"
  run cri StopPodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  assert_success
  run cri PodSandboxStatus "{\"pod_sandbox_id\":\"$sb\"}"
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_NOTREADY ] || fail "$output"
  for id in $ids; do
    run cri ContainerStatus "{\"container_id\":\"$id\"}"
    [ "$(jq -r .status.state <<<"$output")" = CONTAINER_EXITED ] || fail "$output"
  done
  run cri RemovePodSandbox "{\"pod_sandbox_id\":\"$sb\"}"
  assert_success
  run cri ListPodSandbox '{}'
  [ "$(jq '.items | length' <<<"$output")" = 0 ] || fail "pods left: $output"
  run cri ListContainers '{}'
  [ "$(jq '.containers | length' <<<"$output")" = 0 ] || fail "containers left: $output"
  for id in $sb $ids; do
    [ ! -e "$CRI_RUNC_ROOT/k8s.io/$id" ] || fail "runtime state of $id left"
  done
  remove_pod_cgroups p1
  run grep -F "$CRI_STATE" /proc/self/mountinfo
  assert_failure
}

@test "cri: a pod with the nook-vm handler runs in one VM that owns the pod's interface; its containers run in that VM, in the pod's namespaces; nothing is left" {
  [ -n "${RT_VM:-}" ] || fail "no nook-vm handler (the runtime under test is $(basename "$ENGINE_RUNTIME"), not nook)"
  HANDLER=$HANDLER_VM run_pod pv
  local id ip state bundle netns cpid
  id=$(pod_id pv)
  run cri PodSandboxStatus "{\"pod_sandbox_id\":\"$id\"}"
  assert_success
  [ "$(jq -r .status.state <<<"$output")" = SANDBOX_READY ] || fail "$output"
  ip=$(jq -r .status.network.ip <<<"$output")
  [[ $ip == 192.0.2.* ]] || fail "pod ip '$ip' is not from $POD_SUBNET"
  state=$("$RT_VM" --root "$CRI_RUNC_ROOT/k8s.io" state "$id") || fail "no state of $id"
  [ "$(jq -r '.annotations["nook.vm"]' <<<"$state")" = qemu ] || fail "not in VM mode: $state"
  bundle=$(jq -r .bundle <<<"$state")
  netns=$(jq -r '.linux.namespaces[] | select(.type == "network") | .path' "$bundle/config.json")
  [ -e "$netns" ] || fail "no network namespace path: '$netns'"
  # The interface CNI made is redirected to the VM's tap...
  run nsenter --net="$netns" ip -o link show
  [[ $output == *nookvm* ]] || fail "no tap beside the pod's interface: $output"
  run nsenter --net="$netns" tc filter show dev eth0 ingress
  [[ $output == *"Redirect to device nookvm"* ]] || fail "eth0 is not redirected: $output"
  # ...and the pod's address answers from the guest: the namespace's own
  # stack sees none of eth0's frames.
  # (The bridge has no address of its own, isGateway false: one for the
  # ping, from the end of the range host-local hands out from the start.)
  cpid=$(cat "$ENGINE_TMP/containerd.pid")
  nsenter --net="/proc/$cpid/ns/net" ip addr add 192.0.2.254/24 dev nookcri0
  run nsenter --net="/proc/$cpid/ns/net" busybox ping -c 1 -W 10 "$ip"
  nsenter --net="/proc/$cpid/ns/net" ip addr del 192.0.2.254/24 dev nookcri0
  [ "$status" -eq 0 ] || fail "the pod's address $ip does not answer: $output"
  # A container of the pod joins the sandbox's namespaces by host path:
  # it runs in the pod's VM, in the sandbox's uts, ipc and network
  # namespaces there (vmm/pod.h), and exits with its own status.
  local spid qemu
  spid=$(jq -r .pid <<<"$state")
  qemu=$(pgrep -P "$spid" -f qemu-system-x86_64) || fail "no QEMU under the sandbox's monitor $spid"
  create_ctr pv c1 'echo host=$(hostname); ip -o -4 addr show eth0; exit 3'
  start_ctr pv c1
  wait_exited pv c1
  [ "$(jq -r .status.exit_code <<<"$output")" = 3 ] || fail "$output"
  run cat "$ENGINE_TMP/pods/pv/c1.log"
  assert_line --partial "host=pv"
  assert_line --partial "inet $ip/"
  # One VM for the pod.
  [ "$(pgrep -c -f qemu-system-x86_64 -P "$spid")" = 1 ] || fail "more than one QEMU for the pod"
  rm_ctr pv c1
  [ ! -e "$CRI_RUNC_ROOT/k8s.io/$(ctr_id pv c1)" ] || fail "runtime state of c1 left"
  ! grep -q "/members/" "/proc/$qemu/mountinfo" || fail "c1's share is still mounted for QEMU"
  run cri StopPodSandbox "{\"pod_sandbox_id\":\"$id\"}"
  assert_success
  run cri RemovePodSandbox "{\"pod_sandbox_id\":\"$id\"}"
  assert_success
  [ ! -e "$CRI_RUNC_ROOT/k8s.io/$id" ] || fail "runtime state of $id left"
  remove_pod_cgroups pv
}

@test "cri: an unknown runtime handler is refused" {
  run cri RunPodSandbox "$(jq -cn --argjson c "$(pod_config p9)" '{config: $c, runtime_handler: "no-such-handler"}')"
  assert_failure
  assert_output --partial no-such-handler
}

# --- nothing leaks ------------------------------------------------------------------

@test "cri: nothing is left behind (mounts, processes, cgroups, runtime state, shim sockets, CNI cache)" {
  containerd_stop
  engine_leak_check
  run comm -13 "$ENGINE_TMP/before/cni" <(snapshot_cni)
  assert_output ""
}
