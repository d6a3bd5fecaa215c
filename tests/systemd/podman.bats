#!/usr/bin/env bats
# podman with cgroup_manager = "systemd" (its default on a systemd host) and
# nook as its runtime: podman then runs nook with --systemd-cgroup and
# cgroupsPath machine.slice:libpod:<id>.  Storage and state under a private
# temp dir, no network.  Runs under systemd as PID 1 only (helpers.bash).

load helpers

# From the temp dir: conmon writes files into its working directory.
pm() {
  (cd "$PM_TMP" && timeout -k 5 "${PM_TIMEOUT:-300}" podman "$@" 3>&-)
}

setup_file() {
  [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] || return 0
  command -v podman >/dev/null || return 0
  PM_TMP=$(mktemp -d /tmp/nook-sd-podman.XXXXXX)
  export PM_TMP
  local d=$PM_TMP
  mkdir -p "$d"/{graph,run,tmp,volumes,bin}
  cp "$NOOK" "$d/bin/nook"
  cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
netns = "none"

[engine]
cgroup_manager = "systemd"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
volume_path = "$d/volumes"
runtime = "nook"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "nook"]

[engine.runtimes]
nook = ["$d/bin/nook"]
EOF
  cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/graph"
runroot = "$d/run"
EOF
  export CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf
  sd_setup_file || return 1
  tar -C "$SD_BASE/rootfs" -cf "$d/rootfs.tar" .
  pm import -q "$d/rootfs.tar" localhost/nook-busybox:latest >/dev/null
}

teardown_file() {
  [ -n "${PM_TMP:-}" ] || return 0
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  pm system reset --force >/dev/null 2>&1 || true
  rm -rf "$PM_TMP"
}

setup() {
  sd_setup
  command -v podman >/dev/null || skip "podman is not installed"
  [ -n "${PM_TMP:-}" ] || fail "setup_file did not set podman up"
}

@test "podman (cgroup_manager systemd): the container's unit in machine.slice, its limits, exec, pause, and nothing left after rm" {
  local cid
  cid=$(pm run -d --cgroupns=host --memory 64m --pids-limit 40 localhost/nook-busybox:latest sleep 1000)
  UNIT=libpod-$cid.scope
  SD_EXTRA_UNITS+=("libpod-conmon-$cid.scope")
  unit_show "$UNIT"
  assert_equal "${PROP[ActiveState]}" active
  assert_equal "${PROP[Slice]}" machine.slice
  assert_equal "${PROP[Delegate]}" yes
  assert_equal "${PROP[MemoryMax]}" 67108864
  assert_equal "${PROP[TasksMax]}" 40
  assert_equal "$(cat "/sys/fs/cgroup/machine.slice/$UNIT/memory.max")" 67108864
  run pm exec "$cid" cat /proc/self/cgroup
  assert_success
  assert_output "0::/machine.slice/$UNIT"
  run pm pause "$cid"
  assert_success
  run pm unpause "$cid"
  assert_success
  run pm rm -f -t 0 "$cid"
  assert_success
  assert_unit_gone "$UNIT"
  assert_unit_gone "libpod-conmon-$cid.scope"
}
