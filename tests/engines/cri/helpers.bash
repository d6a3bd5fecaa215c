# Shared helpers of the CRI files: tests/engines/cri.bats (the whole CRI API
# with the cgroupfs handler) and tests/systemd/cri.bats (the SystemdCgroup
# handler, in the systemd VM).  Loaded after ../helpers.bash.

# The CNI library caches its results under /var/lib/cni (hard-coded): the
# leak check looks there too, and the final cleanup removes it when this run
# created it.
ENGINE_RUN_DIRS+=" /var/lib/cni"

CRI_CLIENT=$ENGINES_DIR/cri/cri-client.js
PAUSE_IMAGE=localhost/nook-pause:latest
# The runtime's two handlers in containerd's config: the cgroupfs one and
# the one with SystemdCgroup = true; HANDLER is the one the pods ask for.
HANDLER_FS=nook
HANDLER_SYSTEMD=nook-systemd
HANDLER_VM=nook-vm
HANDLER=$HANDLER_FS
# Pod addresses: a documentation range, only ever inside containerd's private
# network namespace.
POD_SUBNET=192.0.2.0/24

# cri METHOD [JSON]: one CRI call through the suite's client (started once,
# in containerd_start: a node start-up per call costs seconds on a loaded
# machine).  Prints the response JSON; on a gRPC error prints "CODE: details"
# and fails.
cri() {
  local out rc=0
  out=$(curl -sS --fail-with-body --max-time "$ENGINE_CMD_TIMEOUT" --unix-socket "$CRI_PROXY" \
    --data-binary "${2:-{\}}" "http://cri/$1" 2>&1 3>&-) || rc=$?
  if [ "$rc" -ne 0 ]; then
    # curl's own "(22) ... error: 502" line says nothing the body does not.
    grep -v '^curl: (22)' <<<"$out" >&2
    return 1
  fi
  printf '%s\n' "$out"
}

# The streaming server listens on 127.0.0.1 in containerd's network namespace:
# an exec stream connects from there.
cri_stream() {
  timeout -k 5 "$ENGINE_CMD_TIMEOUT" nsenter --net="/proc/$(cat "$ENGINE_TMP/containerd.pid")/ns/net" \
    node "$CRI_CLIENT" --socket "$CRI_SOCK" exec-stream "$@" 3>&-
}

ctr_() {
  timeout -k 5 "$ENGINE_CMD_TIMEOUT" ctr --address "$CRI_SOCK" --namespace k8s.io "$@" 3>&-
}

# containerd_cri_config DIR: config.toml with the CRI plugin on and the
# runtime under test as the handler "nook".  The same tables, less the
# test-only paths, are what README.md and nook(8) give for a Kubernetes node.
containerd_cri_config() {
  local d=$1
  cat <<EOF
version = 2
root = "$d/root"
state = "$d/state"
[grpc]
  address = "$d/c.sock"
[ttrpc]
  address = "$d/c.sock.ttrpc"
[debug]
  address = "$d/debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Pod network namespaces are bind-mounted under the state dir, not /run/netns.
  netns_mounts_under_state_dir = true
  # Root lacks CAP_SYS_RESOURCE on this host: the sandbox's default
  # oom_score_adj (-998) cannot be set; keep containerd's own.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$d/cni"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    snapshotter = "overlayfs"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
EOF
  runtime_table "$HANDLER_FS" "$RT" false
  # The same runtime with systemd's cgroup driver (a kubelet with
  # cgroupDriver: systemd): the shim passes --systemd-cgroup, and containerd
  # makes the cgroupsPath SLICE:cri-containerd:ID of a pod whose
  # cgroup_parent ends in a slice.  Used only where PID 1 is systemd
  # (tests/systemd/cri.bats, in tests/vm/run --systemd).
  runtime_table "$HANDLER_SYSTEMD" "$RT" true
  # nook-vm, which pods select by a RuntimeClass (README.md, "Engines in VM
  # mode").
  [ -z "${RT_VM:-}" ] || runtime_table "$HANDLER_VM" "$RT_VM" false
}

# runtime_table HANDLER BINARY SYSTEMD_CGROUP: a handler of the runc shim.
runtime_table() {
  cat <<EOF
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$1.options]
    BinaryName = "$2"
    Root = "$CRI_RUNC_ROOT"
    SystemdCgroup = $3
EOF
}

containerd_start() {
  local d=$ENGINE_TMP/containerd
  mkdir -p "$d/cni" "$ENGINE_TMP/pods"
  containerd_cri_config "$d" >"$d/config.toml"
  # Loopback comes from the CRI plugin itself; the pod's eth0 from a bridge
  # in containerd's network namespace, addresses from host-local.
  cat >"$d/cni/10-nook-cri.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "nook-cri",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "nookcri0",
      "isGateway": false,
      "ipMasq": false,
      "ipam": {
        "type": "host-local",
        "ranges": [[{ "subnet": "$POD_SUBNET" }]],
        "dataDir": "$d/cni-ipam"
      }
    }
  ]
}
EOF
  # A network namespace of containerd's own (lo up): the CNI plugins make
  # their bridge and veths there, and the streaming server listens there.
  start_daemon containerd unshare --net -- sh -c 'ip link set lo up && exec containerd --config "$1"' sh "$d/config.toml"
  CRI_SOCK=$d/c.sock
  CRI_STATE=$d/state
  export CRI_SOCK CRI_STATE
  wait_until "${CRI_START_TIMEOUT:-30}" ctr --address "$CRI_SOCK" version || fail "containerd did not start: $(tail -20 "$ENGINE_TMP/containerd.log")"
  CRI_PROXY=$ENGINE_TMP/cri-client.sock
  export CRI_PROXY
  start_daemon cri-client node "$CRI_CLIENT" --socket "$CRI_SOCK" serve "$CRI_PROXY"
  wait_until "${CRI_START_TIMEOUT:-30}" test -S "$CRI_PROXY" || fail "the CRI client did not start: $(cat "$ENGINE_TMP/cri-client.log")"
  local img
  for img in busybox pause; do
    ctr_ image import "$IMG_DIR/$img-oci.tar" >/dev/null || fail "ctr image import $img failed"
  done
  # The CRI plugin learns of imported images from containerd's events.
  for img in "$IMAGE" "$PAUSE_IMAGE"; do
    wait_until "${CRI_START_TIMEOUT:-30}" image_known "$img" || fail "the CRI plugin does not see $img: $(tail -20 "$ENGINE_TMP/containerd.log")"
  done
}

image_known() {
  cri ImageStatus "{\"image\":{\"image\":\"$1\"}}" | jq -e '.image.repo_tags | length > 0'
}

containerd_stop() {
  [ -f "$ENGINE_TMP/containerd.pid" ] || return 0
  local id
  # What a failed test left: pods go with their containers.
  for id in $(cri ListPodSandbox 2>/dev/null | jq -r '.items[].id' 2>/dev/null); do
    cri StopPodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null 2>&1 || true
    cri RemovePodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null 2>&1 || true
  done
  stop_daemon cri-client
  stop_daemon containerd
}

cri_setup_file() {
  [ -d "$ENGINES_DIR/cri/node_modules/@grpc/grpc-js" ] ||
    fail "the CRI test client's npm packages are not installed (scripts/deps.sh)"
  [ -x /usr/lib/cni/bridge ] || fail "containernetworking-plugins is not installed (scripts/deps.sh)"
  # The sandboxes' pause image (sandbox_image) too.
  ENGINE_PAUSE_IMAGE=1 engine_init cri
  CRI_RUNC_ROOT=$ENGINE_TMP/runc-root
  # The VM-mode handler (CRI_WITH_VM=1: tests/engines/cri.bats, where the
  # runtime under test is nook, not runc), installed beside it.
  if [ "${CRI_WITH_VM:-0}" = 1 ] && [ "$(basename "$ENGINE_RUNTIME")" = nook ]; then
    engine_layout_vm "$ENGINE_TMP/vm"
    RT_VM=$ENGINE_TMP/vm/sbin/nook-vm
    export RT_VM
  fi
  # Pods' cgroup parents live under this one.
  CRI_CGROUP=nook-test-$(basename "$ENGINE_TMP" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9')
  ENGINE_CGROUP_PARENTS=$CRI_CGROUP
  ENGINE_CGROUP_PARENTS_OWNED=$CRI_CGROUP
  # The shim runs the runtime with --root <Root>/<containerd namespace>.
  ENGINE_STATE_DIRS="$CRI_RUNC_ROOT:2"
  export CRI_RUNC_ROOT CRI_CGROUP ENGINE_CGROUP_PARENTS ENGINE_CGROUP_PARENTS_OWNED ENGINE_STATE_DIRS
  engine_snapshot
  snapshot_cni >"$ENGINE_TMP/before/cni"
  containerd_start
}

cri_teardown_file() {
  containerd_stop
  engine_force_cleanup
  if [ -n "${ENGINE_TMP:-}" ] && [ -f "$ENGINE_TMP/before/cni" ]; then
    comm -13 "$ENGINE_TMP/before/cni" <(snapshot_cni) | xargs -r rm -f
  fi
  engine_final_cleanup
}

snapshot_cni() {
  find /var/lib/cni -type f 2>/dev/null | sort
}

# --- pods and containers ------------------------------------------------------------

# pod_config NAME [JQ_FILTER]: a PodSandboxConfig as the kubelet writes it
# (pid namespace per container, cgroupfs parent, a log directory), changed by
# JQ_FILTER.
pod_config() {
  local name=$1 filter=${2:-.}
  jq -cn --arg name "$name" --arg logdir "$ENGINE_TMP/pods/$name" --arg cg "/$CRI_CGROUP/pod-$name" '{
    metadata: {name: $name, uid: ("uid-" + $name), namespace: "nook-test", attempt: 0},
    hostname: $name,
    log_directory: $logdir,
    labels: {"nook-test": $name},
    linux: {cgroup_parent: $cg, security_context: {namespace_options: {network: "POD", pid: "CONTAINER", ipc: "POD"}}}
  }' | jq -c "$filter"
}

# The pod's cgroup in every hierarchy.  The kubelet makes it before
# RunPodSandbox and removes it after RemovePodSandbox; so does the suite: the
# runtime must leave it as it found it (and empty).
pod_cgroups() {
  local h
  for h in /sys/fs/cgroup/*/; do
    case $(stat -f -c %T "$h") in cgroupfs | cgroup2fs) echo "$h$CRI_CGROUP/pod-$1" ;; esac
  done
}

remove_pod_cgroups() {
  local d left=""
  for d in $(pod_cgroups "$1"); do
    rmdir "$d" 2>/dev/null || left+=" $d"
  done
  [ -z "$left" ] || fail "pod $1's cgroup is missing or not empty:$left"
}

# run_pod NAME [JQ_FILTER]: RunPodSandbox with the handler under test; the
# pod's id in $ENGINE_TMP/pods/NAME.id, its config in NAME.json.
run_pod() {
  local name=$1 cfg out
  cfg=$(pod_config "$@")
  mkdir -p "$ENGINE_TMP/pods/$name"
  echo "$cfg" >"$ENGINE_TMP/pods/$name.json"
  # A slice parent (systemd's driver) is systemd's to make.
  pod_in_slice "$name" || mkdir -p $(pod_cgroups "$name")
  out=$(cri RunPodSandbox "$(jq -cn --argjson c "$cfg" --arg h "$HANDLER" '{config: $c, runtime_handler: $h}')") ||
    fail "RunPodSandbox $name failed: $out"
  jq -r .pod_sandbox_id <<<"$out" >"$ENGINE_TMP/pods/$name.id"
}

pod_id() {
  cat "$ENGINE_TMP/pods/$1.id"
}

# create_ctr POD NAME SCRIPT [JQ_FILTER]: CreateContainer of `sh -c SCRIPT`
# in POD (busybox image, log NAME.log in the pod's log directory); its id in
# $ENGINE_TMP/pods/POD.NAME.id.  create_ctr_req prints the request only.
create_ctr_req() {
  local pod=$1 name=$2 script=$3 filter=${4:-.}
  jq -cn --arg pod "$(pod_id "$pod")" --arg name "$name" --arg img "$IMAGE" --arg script "$script" \
    --argjson sc "$(cat "$ENGINE_TMP/pods/$pod.json")" '{
    pod_sandbox_id: $pod,
    config: {
      metadata: {name: $name, attempt: 0},
      image: {image: $img},
      command: ["sh", "-c", $script],
      envs: [{key: "NOOK_CRI", value: $name}],
      log_path: ($name + ".log"),
      labels: {"nook-test": $name},
      linux: {resources: {cpu_shares: 512}, security_context: {namespace_options: $sc.linux.security_context.namespace_options}}
    },
    sandbox_config: $sc
  }' | jq -c "$filter"
}

create_ctr() {
  local pod=$1 name=$2 req out
  req=$(create_ctr_req "$@")
  out=$(cri CreateContainer "$req") || fail "CreateContainer $name failed: $out"
  jq -r .container_id <<<"$out" >"$ENGINE_TMP/pods/$pod.$name.id"
}

ctr_id() {
  cat "$ENGINE_TMP/pods/$1.$2.id"
}

# start_ctr POD NAME: StartContainer; waits for "ready" in the log when the
# container prints it.
start_ctr() {
  local id out
  id=$(ctr_id "$1" "$2")
  out=$(cri StartContainer "{\"container_id\":\"$id\"}") || fail "StartContainer $2 failed: $out"
}

# wait_log POD NAME TEXT: the container's CRI log has a line with TEXT.
wait_log() {
  wait_until 20 grep -q -- "$3" "$ENGINE_TMP/pods/$1/$2.log"
}

# ctr_is STATE POD NAME: the container's CRI state is STATE.
ctr_is() {
  [ "$(cri ContainerStatus "{\"container_id\":\"$(ctr_id "$2" "$3")\"}" | jq -r .status.state)" = "$1" ]
}

# The pid of a container (or, with one argument, the pod's sandbox) from the
# runtime under test's own state.
rt_pid() {
  local id
  if [ $# -eq 1 ]; then id=$(pod_id "$1"); else id=$(ctr_id "$1" "$2"); fi
  "$RT" --root "$CRI_RUNC_ROOT/k8s.io" state "$id" | jq -r .pid
}

exec_sync() {
  local id=$1
  shift
  # "--": jq would take an argument like -c for one of its options.
  cri ExecSync "$(jq -cn --arg id "$id" '{container_id: $id, cmd: $ARGS.positional, timeout: 30}' --args -- "$@")"
}

remove_pod() {
  local id
  id=$(pod_id "$1")
  cri StopPodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null || fail "StopPodSandbox $1 failed"
  cri RemovePodSandbox "{\"pod_sandbox_id\":\"$id\"}" >/dev/null || fail "RemovePodSandbox $1 failed"
  pod_in_slice "$1" || remove_pod_cgroups "$1"
}

# pod_in_slice NAME: the pod's cgroup_parent is a systemd slice.
pod_in_slice() {
  [[ $(jq -r .linux.cgroup_parent "$ENGINE_TMP/pods/$1.json" 2>/dev/null) == *.slice ]]
}
