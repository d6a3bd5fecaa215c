#!/usr/bin/env bats
# docker 20.10 (dockerd with its own containerd) with the runtime under test
# added with --add-runtime and made the default runtime; data, exec root and
# socket under a private temp dir; no bridge, no iptables; containers in a
# cgroup parent of their own.  See helpers.bash for the knobs.

load helpers

# The tests shared with podman.bats (docker_cli.bash): docker through dk.
ENGINE_CLI=dk
ENGINE_BIN=$DOCKER_CLI
# The daemon has no bridge anyway.
ENGINE_RUN_OPTS=(--network none)
ENGINE_RM_OPTS=()
export ENGINE_BIN
load docker_cli

dk() {
  timeout -k 5 "$ENGINE_CMD_TIMEOUT" "$DOCKER_CLI" "$@" 3>&-
}

docker_start() {
  local d=$ENGINE_TMP/docker
  mkdir -p "$d"
  DOCKER_HOST=unix://$d/docker.sock
  export DOCKER_HOST
  start_daemon dockerd dockerd --data-root "$d/root" --exec-root "$d/exec" -H "$DOCKER_HOST" \
    --pidfile "$d/docker.pid" --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
    --ip-masq=false --userland-proxy=false --exec-opt native.cgroupdriver=cgroupfs \
    --cgroup-parent "/$DK_CGROUP_PARENT" --storage-driver overlay2 \
    --add-runtime "$DK_RUNTIME=$RT" --default-runtime "$DK_RUNTIME"
  wait_until 30 "$DOCKER_CLI" version || fail "dockerd did not start: $(tail -20 "$ENGINE_TMP/dockerd.log")"
  dk load -q -i "$IMG_DIR/busybox-docker.tar" >/dev/null || fail "docker load failed"
  dk load -q -i "$IMG_DIR/noshell-docker.tar" >/dev/null || fail "docker load failed"
}

# Removes every container (after a failed test, and when stopping).
docker_rm_all() {
  [ -f "$ENGINE_TMP/dockerd.pid" ] || return 0
  local ids
  mapfile -t ids < <(dk ps -aq 2>/dev/null)
  [ ${#ids[@]} -eq 0 ] || dk rm -f "${ids[@]}" >/dev/null 2>&1 || true
}

docker_stop() {
  [ -f "$ENGINE_TMP/dockerd.pid" ] || return 0
  docker_rm_all
  # dockerd stops its containerd and unmounts what it mounted.
  stop_daemon dockerd 30
}

setup_file() {
  engine_init docker
  # "runc" is reserved by dockerd: name the runtime under test after itself.
  DK_RUNTIME=$RT_NAME-under-test
  DK_CGROUP_PARENT=nook-$(basename "$ENGINE_TMP" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9')
  ENGINE_CGROUP_PARENTS=$DK_CGROUP_PARENT
  ENGINE_CGROUP_PARENTS_OWNED=$DK_CGROUP_PARENT
  # The shim runs the runtime with --root <exec-root>/runtime-runc/moby
  # (whatever the runtime's name).
  ENGINE_STATE_DIRS="$ENGINE_TMP/docker/exec/runtime-runc:2"
  export DK_RUNTIME DK_CGROUP_PARENT ENGINE_CGROUP_PARENTS ENGINE_CGROUP_PARENTS_OWNED ENGINE_STATE_DIRS
  engine_snapshot
  docker_start
}

# A failed test's containers go at once: in VM mode each is a running VM.
teardown() {
  [ -n "${BATS_TEST_COMPLETED:-}" ] || docker_rm_all
}

teardown_file() {
  docker_stop
  engine_force_cleanup
  engine_final_cleanup
}

# --- the runtime under test is the one docker uses --------------------------------

@test "docker: uses the runtime under test" {
  run dk info --format '{{.DefaultRuntime}}'
  assert_output "$DK_RUNTIME"
  run_bg rtcheck "$TRAP_SCRIPT"
  run dk inspect -f '{{.HostConfig.Runtime}}' rtcheck
  assert_output "$DK_RUNTIME"
  local id
  id=$(dk inspect -f '{{.Id}}' rtcheck)
  # dockerd 20.10 gives every runc-like runtime the root <exec-root>/runtime-runc/moby.
  assert_rt_state --root "$ENGINE_TMP/docker/exec/runtime-runc/moby" "$id"
  dk rm -f rtcheck >/dev/null
}

# --- run: output, exit status --------------------------------------------------------

@test "docker run: output and exit status 0, --rm removes the container" {
  cli_test_run_output
  run dk ps -aq --filter name=rm1
  assert_output ""
}

@test "docker run: non-zero exit status" { cli_test_run_exit_status; }
@test "docker run: killed by a signal gives 128+N" { cli_test_run_killed; }
@test "docker run -i: stdin reaches the container" { cli_test_run_stdin; }
@test "docker run: signals sent to the client reach the container" { cli_test_run_client_signals; }

# --- terminal -----------------------------------------------------------------------------

@test "docker run -it: interactive shell on a terminal" { cli_test_run_it; }
# docker resizes the terminal after the process started.
@test "docker run -t: the container's stdio is a terminal of the given size" { cli_test_run_t "$STTY_SIZE"; }

# --- detached: logs, stop, kill, restart ------------------------------------------------

@test "docker run -d, logs, stop sends SIGTERM" { cli_test_stop_term; }
@test "docker stop: SIGKILL after the timeout when SIGTERM is ignored" { cli_test_stop_kill; }
@test "docker kill -s: the signal reaches the container" { cli_test_kill_signal; }
@test "docker restart: the container runs again" { cli_test_restart; }

# --- exec -------------------------------------------------------------------------------

@test "docker exec: output, exit status, -u, -e, -w, -i, -d" { cli_test_exec; }
@test "docker exec -it / -t: a terminal in a running container" { cli_test_exec_tty; }
# docker maps every exec start failure to 126.
@test "docker exec: a missing executable is reported with the runtime's message" { cli_test_exec_missing 126; }

# --- pause, stats, top, update ---------------------------------------------------------

@test "docker pause/unpause: the container's processes stop and go on" { cli_test_pause; }

@test "docker stats and top: usage and processes of a running container" {
  run_bg s1 "$STILL_SCRIPT" --memory 64m --pids-limit 40
  run dk stats --no-stream --format '{{json .}}' s1
  assert_success
  local mem pids
  mem=$(jq -r '.MemUsage' <<<"$output")
  pids=$(jq -r '.PIDs' <<<"$output")
  # VM mode: the figures of the container's cgroup on the host, QEMU's
  # (the 64m are the guest's business).
  local limit=64MiB
  [ "$ENGINE_VM" != 1 ] || limit=$(vm_memory_limit_mib)MiB
  [[ $mem == *"/ $limit" ]] || fail "MemUsage $mem does not show the $limit limit"
  [[ $mem != "0B /"* ]] || fail "MemUsage $mem: no usage"
  [ "$pids" -ge 2 ] || fail "PIDs $pids"
  run dk top s1
  assert_success
  if [ "$ENGINE_VM" = 1 ]; then
    # docker keeps the rows of the host's ps(1) whose pids the runtime's ps
    # gave: the guest's, so what it shows is unrelated host processes, or
    # none (README "VM mode").
    local p want
    want=$(rt_pids --root "$ENGINE_TMP/docker/exec/runtime-runc/moby" "$(dk inspect -f '{{.Id}}' s1)")
    [ "$(wc -l <<<"$want")" -ge 2 ] || fail "the runtime's ps: $want"
    for p in $(awk 'NR > 1 {print $2}' <<<"$output"); do
      grep -qx "$p" <<<"$want" || fail "docker top lists pid $p, which the runtime's ps did not give: $want"
    done
  else
    assert_output --partial "sleep 1000"
  fi
  dk rm -f s1 >/dev/null
}

@test "docker update: memory and cpu limits change, inspect and the container see them" {
  run_bg u1 "$LIMITS_SCRIPT" --memory 64m --memory-swap 512m --cpus 0.5
  local m
  m=$(merged_dir u1)
  wait_until 10 test -s "$m/tmp/limits"
  run cat "$m/tmp/limits"
  assert_output $'67108864\n50000'
  run dk update --memory 128m --cpus 1.5 u1
  assert_success
  wait_until 10 sh -c "[ \"\$(cat $m/tmp/limits)\" = \"\$(printf '134217728\n150000')\" ]"
  run dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' u1
  assert_output "134217728 1500000000"
  dk rm -f u1 >/dev/null
}

# --- resource and security flags, checked from inside ---------------------------------

@test "docker run --memory --cpus --pids-limit --cpuset-cpus: cgroup limits" { cli_test_cgroup_limits; }
@test "docker run: the memory limit is enforced (OOM kill)" { cli_test_oom; }
@test "docker run --device: the device node is there and usable" { cli_test_device; }
@test "docker run --cap-add/--cap-drop: capability sets" { cli_test_caps; }
@test "docker run --read-only, --tmpfs: read-only rootfs, writable tmpfs" { cli_test_read_only; }
@test "docker run -v: bind mounts, read-write and read-only" { cli_test_bind_mounts; }

@test "docker run: no-new-privileges and the default seccomp profile" {
  seccomp_cache_arm
  cli_test_nnp_seccomp
  assert_seccomp_precompiled
  # The profile refuses unshare() to a container without CAP_SYS_ADMIN; a new
  # user namespace needs no capability, so only the filter stops it.
  run cli_run --rm "$IMAGE" sh -c 'unshare -U true 2>/dev/null && echo unshare-allowed || echo unshare-denied'
  assert_output unshare-denied
  run cli_run --rm --security-opt seccomp=unconfined "$IMAGE" sh -c 'unshare -U true && echo unshare-allowed'
  assert_output unshare-allowed
}

@test "docker run --ulimit, --user, --workdir, --hostname, --env" { cli_test_process_flags; }

@test "docker run --restart on-failure: dockerd runs the container again" {
  run cli_run -d --name rs1 --restart on-failure:2 "$IMAGE" sh -c 'echo attempt; exit 3'
  assert_success
  wait_until 20 sh -c '[ "$($DOCKER_CLI inspect -f "{{.RestartCount}} {{.State.Status}}" rs1)" = "2 exited" ]'
  run dk inspect -f '{{.State.ExitCode}}' rs1
  assert_output 3
  run dk logs rs1
  [ "$(grep -c attempt <<<"$output")" -eq 3 ] || fail "ran $(grep -c attempt <<<"$output") times, wanted 3"
  dk rm rs1 >/dev/null
}

@test "docker run --init, --group-add, --sysctl, --shm-size, --oom-score-adj" {
  run cli_run --rm --init --user 1000:1000 --group-add 2000 --sysctl net.ipv4.ip_forward=1 --shm-size 8m \
    --oom-score-adj 500 "$IMAGE" sh -c '
      cat /proc/1/comm; id -G; cat /proc/sys/net/ipv4/ip_forward; df -k /dev/shm | tail -n 1; cat /proc/self/oom_score_adj'
  assert_success
  assert_line --index 0 docker-init
  assert_line --index 1 "1000 2000"
  assert_line --index 2 1
  assert_line --index 3 --regexp '^shm +8192 '
  assert_line --index 4 500
}

# The joined container's IPC namespace must be shareable.
@test "docker run --pid/--ipc/--network container:X: joins another container's namespaces" { cli_test_join_ns --ipc shareable; }

# --- failures an engine user meets -------------------------------------------------------

@test "docker run: a missing executable comes back with the runtime's message" { cli_test_missing_executable; }
@test "docker run: a working dir that is not a directory (docker's own check)" { cli_test_workdir_not_dir; }
# docker finds (or makes) /proc/nook-wd in the image; /proc is mounted over it.
# The docker CLI picks its exit status from the message: 127 when it holds
# "no such file or directory" (case-sensitive), 126 for "permission denied".
@test "docker run: a working dir hidden by a mount comes back with the runtime's message" { cli_test_workdir_hidden; }
@test "docker run: an image without a shell" { cli_test_noshell_image; }

# --- nothing leaks ----------------------------------------------------------------------

@test "docker: nothing is left behind (mounts, processes, cgroups, runtime state, shim sockets)" {
  docker_stop
  engine_leak_check
}
