#!/usr/bin/env bats
# docker 20.10 (dockerd with its own containerd) with the runtime under test
# added with --add-runtime and made the default runtime; data, exec root and
# socket under a private temp dir; no bridge, no iptables; containers in a
# cgroup parent of their own.  See helpers.bash for the knobs.

load helpers

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

docker_stop() {
  [ -f "$ENGINE_TMP/dockerd.pid" ] || return 0
  local ids
  mapfile -t ids < <(dk ps -aq 2>/dev/null)
  [ ${#ids[@]} -eq 0 ] || dk rm -f "${ids[@]}" >/dev/null 2>&1 || true
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

teardown_file() {
  docker_stop
  engine_force_cleanup
  engine_final_cleanup
}

run_bg() {
  local name=$1 script=$2
  shift 2
  dk run -d --network none --name "$name" "$@" "$IMAGE" sh -c "$script" >/dev/null || fail "docker run -d $name failed"
  if [[ $script == *ready* ]]; then
    wait_until 10 sh -c "$DOCKER_CLI logs $name 2>&1 | grep -q ready"
  fi
}

merged_dir() {
  dk inspect -f '{{.GraphDriver.Data.MergedDir}}' "$1"
}

# docker run with no network (the daemon has no bridge anyway).
dkrun() {
  dk run --network none "$@"
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
  run "$RT" --root "$ENGINE_TMP/docker/exec/runtime-runc/moby" state "$id"
  assert_success
  assert_output --partial '"status": "running"'
  dk rm -f rtcheck >/dev/null
}

# --- run: output, exit status --------------------------------------------------------

@test "docker run: output and exit status 0, --rm removes the container" {
  run dkrun --rm --name rm1 "$IMAGE" echo hello from the container
  assert_success
  assert_output "hello from the container"
  run dk ps -aq --filter name=rm1
  assert_output ""
}

@test "docker run: non-zero exit status" {
  run dkrun --rm "$IMAGE" sh -c 'echo out; echo err >&2; exit 7'
  assert_failure 7
  assert_line out
  assert_line err
}

@test "docker run: killed by a signal gives 128+N" {
  dkrun --rm --name sig1 "$IMAGE" sleep 1000 >/dev/null 2>&1 &
  local runpid=$!
  wait_until 10 sh -c '[ "$($DOCKER_CLI inspect -f {{.State.Status}} sig1 2>/dev/null)" = running ]'
  dk kill -s KILL sig1 >/dev/null
  local rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ] || fail "docker run exited $rc, wanted 137"
}

@test "docker run -i: stdin reaches the container" {
  run dkrun --rm -i "$IMAGE" sh -c 'read a; echo "got:$a"' <<<"piped-line"
  assert_success
  assert_output "got:piped-line"
}

@test "docker run: signals sent to the client reach the container" {
  local out=$BATS_TEST_TMPDIR/sp1.out
  "$DOCKER_CLI" run --rm --network none --name sp1 "$IMAGE" sh -c "$TRAP_SCRIPT" </dev/null >"$out" 2>&1 3>&- &
  local client=$!
  wait_until 20 grep -q ready "$out"
  # The engine may print the container's output before it records the
  # container as running, and drops a signal that arrives in between: resend.
  local i
  for ((i = 0; i < 20; i++)); do
    kill -USR1 "$client"
    sleep 0.5
    grep -q got-USR1 "$out" && break
  done
  grep -q got-USR1 "$out" || fail "SIGUSR1 never reached the container: $(cat "$out")"
  kill -TERM "$client"
  local rc=0
  wait "$client" || rc=$?
  run cat "$out"
  assert_line got-TERM
  [ "$rc" -eq 42 ] || fail "the client exited $rc, wanted 42 (the container's exit status)"
}

# --- terminal -----------------------------------------------------------------------------

@test "docker run -it: interactive shell on a terminal" {
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- "$DOCKER_CLI" run --rm -it --network none "$IMAGE" sh
  assert_failure 3
  assert_output --partial hello-3
}

@test "docker run -t: the container's stdio is a terminal of the given size" {
  run pty_run --rows 33 --cols 101 -- "$DOCKER_CLI" run --rm -t --network none "$IMAGE" \
    sh -c "tty; [ -t 0 ] && echo stdin-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/0
  assert_output --partial "33 101"
  assert_output --partial stdin-is-tty
}

# --- detached: logs, stop, kill, restart ------------------------------------------------

@test "docker run -d, logs, stop sends SIGTERM" {
  run_bg st1 "$TRAP_SCRIPT"
  run dk inspect -f '{{.State.Status}}' st1
  assert_output running
  run dk stop -t 20 st1
  assert_success
  run dk logs st1
  assert_line ready
  assert_line got-TERM
  run dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' st1
  assert_output "exited 42"
  dk rm st1 >/dev/null
}

@test "docker stop: SIGKILL after the timeout when SIGTERM is ignored" {
  run_bg st2 "$DEAF_SCRIPT"
  local t0=$SECONDS
  run dk stop -t 2 st2
  assert_success
  [ $((SECONDS - t0)) -ge 2 ] || fail "stopped after $((SECONDS - t0))s, before the 2 s timeout"
  run dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' st2
  assert_output "exited 137"
  dk rm st2 >/dev/null
}

@test "docker kill -s: the signal reaches the container" {
  run_bg k1 "$TRAP_SCRIPT"
  dk kill -s USR1 k1 >/dev/null
  wait_until 10 sh -c "$DOCKER_CLI logs k1 2>&1 | grep -q got-USR1"
  run dk inspect -f '{{.State.Status}}' k1
  assert_output running
  dk kill -s TERM k1 >/dev/null
  wait_until 10 sh -c '[ "$($DOCKER_CLI inspect -f {{.State.Status}} k1)" = exited ]'
  run dk inspect -f '{{.State.ExitCode}}' k1
  assert_output 42
  dk rm k1 >/dev/null
}

@test "docker restart: the container runs again" {
  run_bg r1 "$TRAP_SCRIPT"
  local pid1
  pid1=$(dk inspect -f '{{.State.Pid}}' r1)
  run dk restart -t 10 r1
  assert_success
  wait_until 10 sh -c "[ \"\$($DOCKER_CLI logs r1 2>&1 | grep -c ^ready)\" -ge 2 ]"
  run dk inspect -f '{{.State.Status}}' r1
  assert_output running
  [ "$(dk inspect -f '{{.State.Pid}}' r1)" != "$pid1" ] || fail "same pid after restart"
  run dk logs r1
  assert_line got-TERM
  dk rm -f r1 >/dev/null
}

# --- exec -------------------------------------------------------------------------------

@test "docker exec: output, exit status, -u, -e, -w, -i, -d" {
  run_bg ex1 "$TRAP_SCRIPT"
  run dk exec ex1 echo exec-output
  assert_success
  assert_output exec-output
  run dk exec ex1 sh -c 'exit 5'
  assert_failure 5
  run dk exec ex1 sh -c 'kill -9 $$'
  assert_failure 137
  run dk exec -u 1000:1000 ex1 id
  assert_output --regexp '^uid=1000\(tester\) gid=1000\(tester\)'
  run dk exec -u nobody ex1 id -un
  assert_output nobody
  run dk exec -e FOO=bar -e HELLO=world ex1 sh -c 'echo "$FOO $HELLO"'
  assert_output "bar world"
  run dk exec -w /tmp ex1 pwd
  assert_output /tmp
  run dk exec -i ex1 cat <<<"exec-stdin"
  assert_output exec-stdin
  run dk exec -d ex1 sh -c 'echo detached-exec >/tmp/exec-d'
  assert_success
  wait_until 10 dk exec ex1 test -s /tmp/exec-d
  run dk exec ex1 cat /tmp/exec-d
  assert_output detached-exec
  dk rm -f ex1 >/dev/null
}

@test "docker exec -it / -t: a terminal in a running container" {
  run_bg ex2 "$TRAP_SCRIPT"
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- "$DOCKER_CLI" exec -it ex2 sh
  assert_failure 3
  assert_output --partial hello-3
  run pty_run --rows 33 --cols 101 -- "$DOCKER_CLI" exec -t ex2 sh -c "tty; [ -t 1 ] && echo stdout-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/
  assert_output --partial stdout-is-tty
  assert_output --partial "33 101"
  dk rm -f ex2 >/dev/null
}

@test "docker exec: a missing executable is reported with the runtime's message" {
  run_bg ex3 "$TRAP_SCRIPT"
  # docker maps every exec start failure to 126.
  run dk exec ex3 no-such-exec-cmd
  assert_failure 126
  assert_output --partial 'exec: "no-such-exec-cmd": executable file not found in $PATH'
  dk rm -f ex3 >/dev/null
}

# --- pause, stats, top, update ---------------------------------------------------------

@test "docker pause/unpause: the container's processes stop and go on" {
  run_bg p1 "$COUNT_SCRIPT"
  local m
  m=$(merged_dir p1)
  wait_until 10 test -s "$m/tmp/count"
  run dk pause p1
  assert_success
  run dk inspect -f '{{.State.Status}}' p1
  assert_output paused
  local a b
  a=$(cat "$m/tmp/count")
  sleep 0.5
  b=$(cat "$m/tmp/count")
  [ "$a" = "$b" ] || fail "the count went on while paused: $a -> $b"
  run dk unpause p1
  assert_success
  run dk inspect -f '{{.State.Status}}' p1
  assert_output running
  wait_until 10 sh -c "[ \"\$(cat $m/tmp/count)\" -gt $b ]"
  dk rm -f p1 >/dev/null
}

@test "docker stats and top: usage and processes of a running container" {
  run_bg s1 "$TRAP_SCRIPT" --memory 64m --pids-limit 40
  run dk stats --no-stream --format '{{json .}}' s1
  assert_success
  local mem pids
  mem=$(jq -r '.MemUsage' <<<"$output")
  pids=$(jq -r '.PIDs' <<<"$output")
  [[ $mem == *"/ 64MiB" ]] || fail "MemUsage $mem does not show the 64MiB limit"
  [[ $mem != "0B /"* ]] || fail "MemUsage $mem: no usage"
  [ "$pids" -ge 2 ] || fail "PIDs $pids"
  run dk top s1
  assert_success
  assert_output --partial "sleep 0.1"
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

@test "docker run --memory --cpus --pids-limit --cpuset-cpus: cgroup limits" {
  run dkrun --rm --memory 96m --cpus 0.25 --pids-limit 33 --cpuset-cpus 0 "$IMAGE" sh -c '
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
        /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpuset/cpuset.cpus'
  assert_success
  assert_output $'100663296\n25000\n100000\n33\n0'
}

@test "docker run: the memory limit is enforced (OOM kill)" {
  run dkrun --rm --memory 16m --memory-swap 16m "$IMAGE" sh -c 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived'
  assert_failure 137
  refute_output --partial survived
}

@test "docker run --device: the device node is there and usable" {
  [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
  run dkrun --rm --device /dev/net/tun:/dev/mytun "$IMAGE" sh -c 'ls -l /dev/mytun; exec 3<>/dev/mytun && echo opened'
  assert_success
  assert_output --partial "10, 200"
  assert_line opened
  run dkrun --rm "$IMAGE" sh -c 'test -e /dev/mytun || echo absent'
  assert_output absent
}

@test "docker run --cap-add/--cap-drop: capability sets" {
  run dkrun --rm --cap-drop all --cap-add NET_RAW "$IMAGE" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  assert_success
  assert_line -e 'CapEff:[[:space:]]+0000000000002000'
  assert_line -e 'CapBnd:[[:space:]]+0000000000002000'
  run dkrun --rm --cap-add SYS_ADMIN --cap-drop CHOWN "$IMAGE" sh -c 'grep ^CapEff /proc/self/status'
  local eff=$((16#${output##*[[:space:]]}))
  ((eff & (1 << 21))) || fail "CAP_SYS_ADMIN not in $output"
  ((!(eff & 1))) || fail "CAP_CHOWN still in $output"
}

@test "docker run --read-only, --tmpfs: read-only rootfs, writable tmpfs" {
  run dkrun --rm --read-only --tmpfs /scratch:size=1m "$IMAGE" sh -c '
    touch /x 2>&1; touch /scratch/y && echo scratch-ok; grep " /scratch " /proc/mounts'
  assert_success
  assert_line --partial "Read-only file system"
  assert_line scratch-ok
  assert_line --partial "tmpfs /scratch tmpfs"
}

@test "docker run -v: bind mounts, read-write and read-only" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  run dkrun --rm -v "$vol:/data" -v "$vol:/rodata:ro" "$IMAGE" sh -c '
    cat /data/in; echo from-container >/data/out; touch /rodata/z 2>&1 || true'
  assert_success
  assert_line from-host
  assert_line --partial "Read-only file system"
  run cat "$vol/out"
  assert_output from-container
}

@test "docker run: no-new-privileges and the default seccomp profile" {
  run dkrun --rm --security-opt no-new-privileges "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_success
  assert_line -e 'NoNewPrivs:[[:space:]]+1'
  assert_line -e 'Seccomp:[[:space:]]+2'
  run dkrun --rm --security-opt seccomp=unconfined "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_line -e 'NoNewPrivs:[[:space:]]+0'
  assert_line -e 'Seccomp:[[:space:]]+0'
  # The profile refuses unshare() to a container without CAP_SYS_ADMIN; a new
  # user namespace needs no capability, so only the filter stops it.
  run dkrun --rm "$IMAGE" sh -c 'unshare -U true 2>/dev/null && echo unshare-allowed || echo unshare-denied'
  assert_output unshare-denied
  run dkrun --rm --security-opt seccomp=unconfined "$IMAGE" sh -c 'unshare -U true && echo unshare-allowed'
  assert_output unshare-allowed
}

@test "docker run --ulimit, --user, --workdir, --hostname, --env" {
  run dkrun --rm --ulimit nofile=1024:2048 --ulimit nproc=500:600 --user 1000:1000 --workdir /home/tester \
    --hostname box-one --env FOO=bar "$IMAGE" sh -c 'ulimit -n; ulimit -Hn; ulimit -u; id; pwd; hostname; echo "FOO=$FOO"'
  assert_success
  assert_output "1024
2048
500
uid=1000(tester) gid=1000(tester) groups=1000(tester)
/home/tester
box-one
FOO=bar"
}

@test "docker run --restart on-failure: dockerd runs the container again" {
  run dkrun -d --name rs1 --restart on-failure:2 "$IMAGE" sh -c 'echo attempt; exit 3'
  assert_success
  wait_until 20 sh -c '[ "$($DOCKER_CLI inspect -f "{{.RestartCount}} {{.State.Status}}" rs1)" = "2 exited" ]'
  run dk inspect -f '{{.State.ExitCode}}' rs1
  assert_output 3
  run dk logs rs1
  [ "$(grep -c attempt <<<"$output")" -eq 3 ] || fail "ran $(grep -c attempt <<<"$output") times, wanted 3"
  dk rm rs1 >/dev/null
}

@test "docker run --init, --group-add, --sysctl, --shm-size, --oom-score-adj" {
  run dkrun --rm --init --user 1000:1000 --group-add 2000 --sysctl net.ipv4.ip_forward=1 --shm-size 8m \
    --oom-score-adj 500 "$IMAGE" sh -c '
      cat /proc/1/comm; id -G; cat /proc/sys/net/ipv4/ip_forward; df -k /dev/shm | tail -n 1; cat /proc/self/oom_score_adj'
  assert_success
  assert_line --index 0 docker-init
  assert_line --index 1 "1000 2000"
  assert_line --index 2 1
  assert_line --index 3 --regexp '^shm +8192 '
  assert_line --index 4 500
}

@test "docker run --pid/--ipc/--network container:X: joins another container's namespaces" {
  run_bg ns1 "$TRAP_SCRIPT" --ipc shareable
  local pid
  pid=$(dk inspect -f '{{.State.Pid}}' ns1)
  run dk run --rm --pid container:ns1 --ipc container:ns1 --network container:ns1 "$IMAGE" sh -c '
    grep -q got-TERM /proc/1/cmdline && echo sees-its-pid-1; for n in ipc net pid; do readlink /proc/self/ns/$n; done'
  assert_success
  assert_line sees-its-pid-1
  assert_line "$(readlink "/proc/$pid/ns/ipc")"
  assert_line "$(readlink "/proc/$pid/ns/net")"
  assert_line "$(readlink "/proc/$pid/ns/pid")"
  dk rm -f ns1 >/dev/null
}

# --- failures an engine user meets -------------------------------------------------------

@test "docker run: a missing executable comes back with the runtime's message" {
  run -127 dkrun --rm "$IMAGE" no-such-cmd
  assert_failure 127
  assert_output --partial 'exec: "no-such-cmd": executable file not found in $PATH'
  run dkrun --rm "$IMAGE" /etc/passwd
  assert_failure 126
  assert_output --partial 'exec: "/etc/passwd": permission denied'
}

@test "docker run: a working dir that is not a directory (docker's own check)" {
  run dkrun --rm --workdir /etc/passwd "$IMAGE" pwd
  assert_failure
  assert_output --partial '/etc/passwd'
  assert_output --partial 'not a directory'
}

@test "docker run: a working dir hidden by a mount comes back with the runtime's message" {
  # docker finds (or makes) /proc/nook-wd in the image; /proc is mounted over it.
  # The docker CLI picks its exit status from the message: 127 when it holds
  # "no such file or directory" (case-sensitive), 126 for "permission denied".
  run -127 dkrun --rm --workdir /proc/nook-wd "$IMAGE" pwd
  assert_failure 127
  assert_output --partial '/proc/nook-wd'
  assert_output --regexp '[Nn]o such file or directory'
}

@test "docker run: an image without a shell" {
  run -127 dkrun --rm "$NOSHELL_IMAGE"
  assert_failure 127
  assert_output --partial '/bin/sh'
  assert_output --partial 'no such file or directory'
  run dkrun --rm "$NOSHELL_IMAGE" /bin/busybox echo busybox-ok
  assert_success
  assert_output busybox-ok
}

# --- nothing leaks ----------------------------------------------------------------------

@test "docker: nothing is left behind (mounts, processes, cgroups, runtime state, shim sockets)" {
  docker_stop
  engine_leak_check
}
