#!/usr/bin/env bats
# podman 4.3 with the runtime under test as its OCI runtime (containers.conf
# [engine] runtime), storage and state under a private temp dir, cgroupfs,
# no network.  See helpers.bash for the knobs.

load helpers

# The tests shared with docker.bats (docker_cli.bash): podman through pm.
ENGINE_CLI=pm
ENGINE_BIN=podman
ENGINE_RUN_OPTS=()
ENGINE_RM_OPTS=(-t 0)
export ENGINE_BIN
load docker_cli

# From the suite's temp dir: conmon writes an "oom" file into its working
# directory when the container's v1 memory cgroup signals (also on removal).
pm() {
  (cd "$ENGINE_TMP" && timeout -k 5 "$ENGINE_CMD_TIMEOUT" podman "$@" 3>&-)
}

podman_start() {
  local d=$ENGINE_TMP/podman nofile nproc
  mkdir -p "$d"/{graph,run,tmp,volumes}
  # podman's default rlimits (nofile 1048576, ...) are above the hard limits
  # here, and root lacks CAP_SYS_RESOURCE: give containers the hard limits the
  # runtime will have (conmon runs it with nproc at most 32768).
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [ "$nofile" = unlimited ] && nofile=1048576
  if [ "$nproc" = unlimited ] || [ "$nproc" -gt 32768 ]; then nproc=32768; fi
  # static_dir stays at its default (graphroot/libpod): podman's exit command
  # (`podman container cleanup`, run by conmon) is passed --root and then
  # looks for its database there; a static_dir elsewhere makes every
  # attached `podman run` wait 20 s for a cleanup that never finds the
  # container.  runtime_supports_json lists nook so that podman reads the
  # runtime's --log-format json error messages.
  cat >"$d/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$d/events.log"
tmp_dir = "$d/tmp"
volume_path = "$d/volumes"
runtime = "$RT_NAME"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "nook", "nook-vm"]

[engine.runtimes]
$RT_NAME = ["$RT"]
EOF
  cat >"$d/storage.conf" <<EOF
[storage]
driver = "overlay"
graphroot = "$d/graph"
runroot = "$d/run"
EOF
  export CONTAINERS_CONF=$d/containers.conf CONTAINERS_STORAGE_CONF=$d/storage.conf
  pm load -q -i "$IMG_DIR/busybox-oci.tar" >/dev/null || fail "podman load failed"
  pm load -q -i "$IMG_DIR/noshell-oci.tar" >/dev/null || fail "podman load failed"
}

# Removes every container (after a failed test, and when stopping).
podman_rm_all() {
  [ -n "${CONTAINERS_CONF:-}" ] && [ -f "$CONTAINERS_CONF" ] || return 0
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
}

podman_stop() {
  [ -n "${CONTAINERS_CONF:-}" ] && [ -f "$CONTAINERS_CONF" ] || return 0
  podman_rm_all
  # Unmounts podman's storage (it keeps graph/overlay bind-mounted).
  pm system reset --force >/dev/null 2>&1 || true
  rm -f "$CONTAINERS_CONF"
}

setup_file() {
  engine_init podman
  # podman (cgroupfs) puts container cgroups at /libpod_parent/libpod-<id>;
  # the runtime keeps its state in its default root (podman passes no --root).
  ENGINE_CGROUP_PARENTS=libpod_parent
  ENGINE_STATE_DIRS="$RT_DEFAULT_ROOT:1"
  ENGINE_STATE_NAME_RE='[0-9a-f]{64}'
  ENGINE_CGROUP_PARENTS_OWNED=""
  [ -d /sys/fs/cgroup/memory/libpod_parent ] || ENGINE_CGROUP_PARENTS_OWNED=libpod_parent
  export ENGINE_CGROUP_PARENTS ENGINE_STATE_DIRS ENGINE_STATE_NAME_RE ENGINE_CGROUP_PARENTS_OWNED
  engine_snapshot
  podman_start
}

# Every podman (and so conmon) runs in the suite's temp dir (see pm).
setup() {
  cd "$ENGINE_TMP" || fail "cd $ENGINE_TMP"
}

# A failed test's containers go at once: in VM mode each is a running VM.
teardown() {
  [ -n "${BATS_TEST_COMPLETED:-}" ] || podman_rm_all
}

teardown_file() {
  podman_stop
  engine_force_cleanup
  engine_final_cleanup
}

# --- the runtime under test is the one podman uses -----------------------------

@test "podman: uses the runtime under test" {
  run pm info --format '{{.Host.OCIRuntime.Path}}'
  assert_success
  assert_output "$RT"
  run_bg rtcheck "$TRAP_SCRIPT"
  id=$(pm inspect -f '{{.Id}}' rtcheck)
  run pm inspect -f '{{.OCIRuntime}}' rtcheck
  assert_output "$RT_NAME"
  # The runtime's own state of the container, in its default root.
  assert_rt_state "$id"
  pm rm -f -t 0 rtcheck >/dev/null
}

# --- run: output, exit status ------------------------------------------------

@test "podman run: output and exit status 0, --rm removes the container" {
  cli_test_run_output
  run pm container exists rm1
  assert_failure
}

@test "podman run: non-zero exit status" { cli_test_run_exit_status; }
@test "podman run: killed by a signal gives 128+N" { cli_test_run_killed; }
@test "podman run -i: stdin reaches the container" { cli_test_run_stdin; }
@test "podman run: signals sent to the client reach the container" { cli_test_run_client_signals; }

# --- terminal ---------------------------------------------------------------------

@test "podman run -it: interactive shell on a terminal" { cli_test_run_it; }
# podman's terminal has its size from the start: no waiting for a resize.
@test "podman run -t: the container's stdio is a terminal of the given size" { cli_test_run_t 'stty size'; }

# --- detached: logs, stop, kill, restart -----------------------------------------

@test "podman run -d, logs, stop sends SIGTERM" { cli_test_stop_term; }
@test "podman stop: SIGKILL after the timeout when SIGTERM is ignored" { cli_test_stop_kill; }
@test "podman kill -s: the signal reaches the container" { cli_test_kill_signal; }
@test "podman restart: the container runs again" { cli_test_restart; }

# --- exec ---------------------------------------------------------------------------

@test "podman exec: output, exit status, -u, -e, -w, -i, -d" { cli_test_exec; }
@test "podman exec -it / -t: a terminal in a running container" { cli_test_exec_tty; }
@test "podman exec: a missing executable is reported with the runtime's message" { cli_test_exec_missing 127; }

# --- pause, stats, top, update ------------------------------------------------

@test "podman pause/unpause: the container's processes stop and go on" { cli_test_pause; }

@test "podman stats and top: usage and processes of a running container" {
  run_bg s1 "$TRAP_SCRIPT" --memory 64m --pids-limit 40
  run pm stats --no-stream --format json s1
  assert_success
  local mem pids
  mem=$(jq -r '.[0].mem_usage' <<<"$output")
  pids=$(jq -r '.[0].pids' <<<"$output")
  [[ $mem == *"64MB"* || $mem == *"67.11MB"* ]] || fail "mem_usage $mem does not show the 64m limit"
  [ "$pids" -ge 2 ] || fail "pids $pids"
  if [ "$ENGINE_VM" = 1 ]; then
    # podman's own ps (psgo) reads /proc in the mount namespace of the
    # container's pid: in VM mode the monitor's, which shows the host's
    # processes.  ps(1) options make podman run ps in the container (exec).
    run pm top s1 -o pid,args
  else
    run pm top s1 pid args
  fi
  assert_success
  assert_output --partial "sleep 0.1"
  pm rm -f -t 0 s1 >/dev/null
}

@test "podman update: memory and cpu limits change, inspect and the container see them" {
  run_bg u1 "$LIMITS_SCRIPT" --memory 64m --cpus 0.5
  local m
  m=$(merged_dir u1)
  wait_until 10 test -s "$m/tmp/limits"
  run cat "$m/tmp/limits"
  assert_output $'67108864\n50000'
  run pm inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' u1
  assert_output "67108864 500000000"
  run pm update --memory 128m --cpus 1.5 u1
  assert_success
  wait_until 10 sh -c "[ \"\$(cat $m/tmp/limits)\" = \"\$(printf '134217728\n150000')\" ]"
  # podman 4.3's inspect keeps showing the limits the container was created
  # with; the cgroup has the new ones.  (In VM mode the host's cgroup is
  # QEMU's: the container's limits are the guest's, seen above.)
  if [ "$ENGINE_VM" = 1 ]; then
    pm rm -f -t 0 u1 >/dev/null
    return
  fi
  local cg
  cg=/sys/fs/cgroup/memory/libpod_parent/libpod-$(pm inspect -f '{{.Id}}' u1)
  run cat "$cg/memory.limit_in_bytes"
  assert_output 134217728
  pm rm -f -t 0 u1 >/dev/null
}

# --- resource and security flags, checked from inside ------------------------------

@test "podman run --memory --cpus --pids-limit --cpuset-cpus: cgroup limits" { cli_test_cgroup_limits; }
@test "podman run: the memory limit is enforced (OOM kill)" { cli_test_oom; }
@test "podman run --device: the device node is there and usable" { cli_test_device; }
@test "podman run --cap-add/--cap-drop: capability sets" { cli_test_caps; }
# podman mounts tmpfs on /tmp, /var/tmp, ... of a read-only rootfs unless told not to.
@test "podman run --read-only, --tmpfs: read-only rootfs, writable tmpfs" { cli_test_read_only --read-only-tmpfs=false; }
@test "podman run -v: bind mounts, read-write and read-only" { cli_test_bind_mounts; }
@test "podman run: no-new-privileges and the default seccomp profile" { cli_test_nnp_seccomp; }
# With any --ulimit podman drops default_ulimits and sets nproc to a value
# above this host's hard limit (root lacks CAP_SYS_RESOURCE): the test gives
# nproc too.
@test "podman run --ulimit, --user, --workdir, --hostname, --env" { cli_test_process_flags; }

@test "podman run --uidmap/--gidmap: a user namespace" {
  run pm run --rm --uidmap 0:200000:65536 --gidmap 0:200000:65536 "$IMAGE" sh -c '
    cat /proc/self/uid_map /proc/self/gid_map; id -u; touch /tmp/x && stat -c %u /tmp/x; ls -ln /bin/busybox'
  assert_success
  assert_line --regexp '^ +0 +200000 +65536$'
  assert_line --index 2 0
  assert_line --index 3 0
  assert_line --regexp '^-rwxr-xr-x +1 +0 +0 .*/bin/busybox$'
}

@test "podman run --privileged: all capabilities, host devices, no seccomp" {
  run pm run --rm --privileged "$IMAGE" sh -c 'grep -E "^(CapEff|Seccomp):" /proc/self/status; test -c /dev/net/tun && echo has-tun; mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo mounted'
  assert_success
  assert_line -e 'CapEff:[[:space:]]+000001ffffffffff|CapEff:[[:space:]]+000001fffeffffff|CapEff:[[:space:]]+0000003fffffffff'
  assert_line -e 'Seccomp:[[:space:]]+0'
  assert_line has-tun
  assert_line mounted
}

@test "podman run --pid/--ipc/--network container:X: joins another container's namespaces" { cli_test_join_ns; }

# --- failures an engine user meets --------------------------------------------------

@test "podman run: a missing executable comes back with the runtime's message" { cli_test_missing_executable; }
@test "podman run: a working dir that is not a directory (podman's own check)" { cli_test_workdir_not_dir; }
# /proc/nook-wd is in the image, so podman accepts it; /proc is mounted over it.
@test "podman run: a working dir hidden by a mount comes back with the runtime's message" { cli_test_workdir_hidden; }
@test "podman run: an image without a shell" { cli_test_noshell_image; }

# --- nothing leaks --------------------------------------------------------------------

@test "podman: nothing is left behind (mounts, processes, cgroups, runtime state)" {
  podman_stop
  engine_leak_check
}
