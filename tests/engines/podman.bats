#!/usr/bin/env bats
# podman 4.3 with the runtime under test as its OCI runtime (containers.conf
# [engine] runtime), storage and state under a private temp dir, cgroupfs,
# no network.  See helpers.bash for the knobs.

load helpers

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
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "nook"]

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

podman_stop() {
  [ -n "${CONTAINERS_CONF:-}" ] && [ -f "$CONTAINERS_CONF" ] || return 0
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  # Unmounts podman's storage (it keeps graph/overlay bind-mounted).
  pm system reset --force >/dev/null 2>&1 || true
  rm -f "$CONTAINERS_CONF"
}

setup_file() {
  engine_init podman
  # podman (cgroupfs) puts container cgroups at /libpod_parent/libpod-<id>;
  # the runtime keeps its state in its default root (podman passes no --root).
  ENGINE_CGROUP_PARENTS=libpod_parent
  ENGINE_STATE_DIRS="/run/$RT_NAME:1"
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

teardown_file() {
  podman_stop
  engine_force_cleanup
  engine_final_cleanup
}

# A detached container NAME running SCRIPT; waits until its log says "ready"
# when the script prints it.
run_bg() {
  local name=$1 script=$2
  shift 2
  pm run -d --name "$name" "$@" "$IMAGE" sh -c "$script" >/dev/null || fail "podman run -d $name failed"
  if [[ $script == *ready* ]]; then
    wait_until 10 sh -c "podman logs $name 2>&1 | grep -q ready"
  fi
}

merged_dir() {
  pm inspect -f '{{.GraphDriver.Data.MergedDir}}' "$1"
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
  run "$RT" state "$id"
  assert_success
  assert_output --partial '"status": "running"'
  pm rm -f -t 0 rtcheck >/dev/null
}

# --- run: output, exit status ------------------------------------------------

@test "podman run: output and exit status 0, --rm removes the container" {
  run pm run --rm --name rm1 "$IMAGE" echo hello from the container
  assert_success
  assert_output "hello from the container"
  run pm container exists rm1
  assert_failure
}

@test "podman run: non-zero exit status" {
  run pm run --rm "$IMAGE" sh -c 'echo out; echo err >&2; exit 7'
  assert_failure 7
  assert_line out
  assert_line err
}

@test "podman run: killed by a signal gives 128+N" {
  pm run --rm --name sig1 "$IMAGE" sleep 1000 >/dev/null 2>&1 &
  local runpid=$!
  wait_until 10 sh -c '[ "$(podman inspect -f {{.State.Status}} sig1 2>/dev/null)" = running ]'
  pm kill -s KILL sig1 >/dev/null
  local rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ] || fail "podman run exited $rc, wanted 137"
}

@test "podman run -i: stdin reaches the container" {
  run pm run --rm -i "$IMAGE" sh -c 'read a; echo "got:$a"' <<<"piped-line"
  assert_success
  assert_output "got:piped-line"
}

@test "podman run: signals sent to the client reach the container" {
  local out=$BATS_TEST_TMPDIR/sp1.out
  podman run --rm --name sp1 "$IMAGE" sh -c "$TRAP_SCRIPT" </dev/null >"$out" 2>&1 3>&- &
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

# --- terminal ---------------------------------------------------------------------

@test "podman run -it: interactive shell on a terminal" {
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- podman run --rm -it "$IMAGE" sh
  assert_failure 3
  assert_output --partial hello-3
}

@test "podman run -t: the container's stdio is a terminal of the given size" {
  run pty_run --rows 33 --cols 101 -- podman run --rm -t "$IMAGE" sh -c 'tty; stty size; [ -t 0 ] && echo stdin-is-tty'
  assert_success
  assert_output --partial /dev/pts/0
  assert_output --partial "33 101"
  assert_output --partial stdin-is-tty
}

# --- detached: logs, stop, kill, restart -----------------------------------------

@test "podman run -d, logs, stop sends SIGTERM" {
  run_bg st1 "$TRAP_SCRIPT"
  run pm inspect -f '{{.State.Status}}' st1
  assert_output running
  run pm stop -t 20 st1
  assert_success
  run pm logs st1
  assert_line ready
  assert_line got-TERM
  run pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' st1
  assert_output "exited 42"
  pm rm st1 >/dev/null
}

@test "podman stop: SIGKILL after the timeout when SIGTERM is ignored" {
  run_bg st2 "$DEAF_SCRIPT"
  local t0=$SECONDS
  run pm stop -t 2 st2
  assert_success
  [ $((SECONDS - t0)) -ge 2 ] || fail "stopped after $((SECONDS - t0))s, before the 2 s timeout"
  run pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' st2
  assert_output "exited 137"
  pm rm st2 >/dev/null
}

@test "podman kill -s: the signal reaches the container" {
  run_bg k1 "$TRAP_SCRIPT"
  pm kill -s USR1 k1 >/dev/null
  wait_until 10 sh -c 'podman logs k1 2>&1 | grep -q got-USR1'
  run pm inspect -f '{{.State.Status}}' k1
  assert_output running
  pm kill -s TERM k1 >/dev/null
  wait_until 10 sh -c '[ "$(podman inspect -f {{.State.Status}} k1)" = exited ]'
  run pm inspect -f '{{.State.ExitCode}}' k1
  assert_output 42
  pm rm k1 >/dev/null
}

@test "podman restart: the container runs again" {
  run_bg r1 "$TRAP_SCRIPT"
  local pid1
  pid1=$(pm inspect -f '{{.State.Pid}}' r1)
  run pm restart -t 10 r1
  assert_success
  wait_until 10 sh -c '[ "$(podman logs r1 2>&1 | grep -c ^ready)" -ge 2 ]'
  run pm inspect -f '{{.State.Status}}' r1
  assert_output running
  [ "$(pm inspect -f '{{.State.Pid}}' r1)" != "$pid1" ] || fail "same pid after restart"
  run pm logs r1
  assert_line got-TERM
  pm rm -f -t 0 r1 >/dev/null
}

# --- exec ---------------------------------------------------------------------------

@test "podman exec: output, exit status, -u, -e, -w, -i, -d" {
  run_bg ex1 "$TRAP_SCRIPT"
  run pm exec ex1 echo exec-output
  assert_success
  assert_output exec-output
  run pm exec ex1 sh -c 'exit 5'
  assert_failure 5
  run pm exec ex1 sh -c 'kill -9 $$'
  assert_failure 137
  run pm exec -u 1000:1000 ex1 id
  assert_output --regexp '^uid=1000\(tester\) gid=1000\(tester\)'
  run pm exec -u nobody ex1 id -un
  assert_output nobody
  run pm exec -e FOO=bar -e HELLO=world ex1 sh -c 'echo "$FOO $HELLO"'
  assert_output "bar world"
  run pm exec -w /tmp ex1 pwd
  assert_output /tmp
  run pm exec -i ex1 cat <<<"exec-stdin"
  assert_output exec-stdin
  run pm exec -d ex1 sh -c 'echo detached-exec >/tmp/exec-d'
  assert_success
  wait_until 10 pm exec ex1 test -s /tmp/exec-d
  run pm exec ex1 cat /tmp/exec-d
  assert_output detached-exec
  pm rm -f -t 0 ex1 >/dev/null
}

@test "podman exec -it / -t: a terminal in a running container" {
  run_bg ex2 "$TRAP_SCRIPT"
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- podman exec -it ex2 sh
  assert_failure 3
  assert_output --partial hello-3
  run pty_run --rows 33 --cols 101 -- podman exec -t ex2 sh -c "tty; [ -t 1 ] && echo stdout-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/
  assert_output --partial stdout-is-tty
  assert_output --partial "33 101"
  pm rm -f -t 0 ex2 >/dev/null
}

@test "podman exec: a missing executable is reported with the runtime's message" {
  run_bg ex3 "$TRAP_SCRIPT"
  run -127 pm exec ex3 no-such-exec-cmd
  assert_failure 127
  assert_output --partial 'exec: "no-such-exec-cmd": executable file not found in $PATH'
  pm rm -f -t 0 ex3 >/dev/null
}

# --- pause, stats, top, update ------------------------------------------------

@test "podman pause/unpause: the container's processes stop and go on" {
  run_bg p1 "$COUNT_SCRIPT"
  local m
  m=$(merged_dir p1)
  wait_until 10 test -s "$m/tmp/count"
  run pm pause p1
  assert_success
  run pm inspect -f '{{.State.Status}}' p1
  assert_output paused
  local a b
  a=$(cat "$m/tmp/count")
  sleep 0.5
  b=$(cat "$m/tmp/count")
  [ "$a" = "$b" ] || fail "the count went on while paused: $a -> $b"
  run pm unpause p1
  assert_success
  run pm inspect -f '{{.State.Status}}' p1
  assert_output running
  wait_until 10 sh -c "[ \"\$(cat $m/tmp/count)\" -gt $b ]"
  pm rm -f -t 0 p1 >/dev/null
}

@test "podman stats and top: usage and processes of a running container" {
  run_bg s1 "$TRAP_SCRIPT" --memory 64m --pids-limit 40
  run pm stats --no-stream --format json s1
  assert_success
  local mem pids
  mem=$(jq -r '.[0].mem_usage' <<<"$output")
  pids=$(jq -r '.[0].pids' <<<"$output")
  [[ $mem == *"64MB"* || $mem == *"67.11MB"* ]] || fail "mem_usage $mem does not show the 64m limit"
  [ "$pids" -ge 2 ] || fail "pids $pids"
  run pm top s1 pid args
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
  # with; the cgroup has the new ones.
  local cg
  cg=/sys/fs/cgroup/memory/libpod_parent/libpod-$(pm inspect -f '{{.Id}}' u1)
  run cat "$cg/memory.limit_in_bytes"
  assert_output 134217728
  pm rm -f -t 0 u1 >/dev/null
}

# --- resource and security flags, checked from inside ------------------------------

@test "podman run --memory --cpus --pids-limit --cpuset-cpus: cgroup limits" {
  run pm run --rm --memory 96m --cpus 0.25 --pids-limit 33 --cpuset-cpus 0 "$IMAGE" sh -c '
    cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us \
        /sys/fs/cgroup/cpu/cpu.cfs_period_us /sys/fs/cgroup/pids/pids.max /sys/fs/cgroup/cpuset/cpuset.cpus'
  assert_success
  assert_output $'100663296\n25000\n100000\n33\n0'
}

@test "podman run: the memory limit is enforced (OOM kill)" {
  run pm run --rm --memory 16m --memory-swap 16m "$IMAGE" sh -c 'x=$(head -c 64000000 /dev/zero | tr "\0" a); echo survived'
  assert_failure 137
  refute_output --partial survived
}

@test "podman run --device: the device node is there and usable" {
  [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
  run pm run --rm --device /dev/net/tun:/dev/mytun "$IMAGE" sh -c 'ls -l /dev/mytun; exec 3<>/dev/mytun && echo opened'
  assert_success
  assert_output --partial "10, 200"
  assert_line opened
  run pm run --rm "$IMAGE" sh -c 'test -e /dev/mytun || echo absent'
  assert_output absent
}

@test "podman run --cap-add/--cap-drop: capability sets" {
  run pm run --rm --cap-drop all --cap-add NET_RAW "$IMAGE" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  assert_success
  assert_line -e 'CapEff:[[:space:]]+0000000000002000'
  assert_line -e 'CapBnd:[[:space:]]+0000000000002000'
  run pm run --rm --cap-add SYS_ADMIN --cap-drop CHOWN "$IMAGE" sh -c 'grep ^CapEff /proc/self/status'
  local eff=$((16#${output##*[[:space:]]}))
  ((eff & (1 << 21))) || fail "CAP_SYS_ADMIN not in $output"
  ((!(eff & 1))) || fail "CAP_CHOWN still in $output"
}

@test "podman run --read-only, --tmpfs: read-only rootfs, writable tmpfs" {
  run pm run --rm --read-only --read-only-tmpfs=false --tmpfs /scratch:size=1m "$IMAGE" sh -c '
    touch /x 2>&1; touch /scratch/y && echo scratch-ok; grep " /scratch " /proc/mounts'
  assert_success
  assert_line --partial "Read-only file system"
  assert_line scratch-ok
  assert_line --partial "tmpfs /scratch tmpfs"
}

@test "podman run -v: bind mounts, read-write and read-only" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  run pm run --rm -v "$vol:/data" -v "$vol:/rodata:ro" "$IMAGE" sh -c '
    cat /data/in; echo from-container >/data/out; touch /rodata/z 2>&1 || true'
  assert_success
  assert_line from-host
  assert_line --partial "Read-only file system"
  run cat "$vol/out"
  assert_output from-container
}

@test "podman run: no-new-privileges and the default seccomp profile" {
  run pm run --rm --security-opt no-new-privileges "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_success
  assert_line -e 'NoNewPrivs:[[:space:]]+1'
  assert_line -e 'Seccomp:[[:space:]]+2'
  run pm run --rm --security-opt seccomp=unconfined "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_line -e 'NoNewPrivs:[[:space:]]+0'
  assert_line -e 'Seccomp:[[:space:]]+0'
}

@test "podman run --ulimit, --user, --workdir, --hostname, --env" {
  # With any --ulimit podman drops default_ulimits and sets nproc to a value
  # above this host's hard limit (root lacks CAP_SYS_RESOURCE): give nproc too.
  run pm run --rm --ulimit nofile=1024:2048 --ulimit nproc=500:600 --user 1000:1000 --workdir /home/tester \
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

@test "podman run --pid/--ipc/--network container:X: joins another container's namespaces" {
  run_bg ns1 "$TRAP_SCRIPT"
  local pid
  pid=$(pm inspect -f '{{.State.Pid}}' ns1)
  run pm run --rm --pid container:ns1 --ipc container:ns1 --network container:ns1 "$IMAGE" sh -c '
    grep -q got-TERM /proc/1/cmdline && echo sees-its-pid-1; for n in ipc net pid; do readlink /proc/self/ns/$n; done'
  assert_success
  assert_line sees-its-pid-1
  assert_line "$(readlink "/proc/$pid/ns/ipc")"
  assert_line "$(readlink "/proc/$pid/ns/net")"
  assert_line "$(readlink "/proc/$pid/ns/pid")"
  pm rm -f -t 0 ns1 >/dev/null
}

# --- failures an engine user meets --------------------------------------------------

@test "podman run: a missing executable comes back with the runtime's message" {
  run -127 pm run --rm "$IMAGE" no-such-cmd
  assert_failure 127
  assert_output --partial 'exec: "no-such-cmd": executable file not found in $PATH'
  run pm run --rm "$IMAGE" /etc/passwd
  assert_failure 126
  assert_output --partial 'exec: "/etc/passwd": permission denied'
}

@test "podman run: a working dir that is not a directory (podman's own check)" {
  run pm run --rm --workdir /etc/passwd "$IMAGE" pwd
  assert_failure
  assert_output --partial '/etc/passwd'
  assert_output --partial 'not a directory'
}

@test "podman run: a working dir hidden by a mount comes back with the runtime's message" {
  # /proc/nook-wd is in the image, so podman accepts it; /proc is mounted over it.
  run -127 pm run --rm --workdir /proc/nook-wd "$IMAGE" pwd
  assert_failure 127
  assert_output --partial '/proc/nook-wd'
  assert_output --regexp '[Nn]o such file or directory'
}

@test "podman run: an image without a shell" {
  run -127 pm run --rm "$NOSHELL_IMAGE"
  assert_failure 127
  assert_output --partial '/bin/sh'
  assert_output --partial 'no such file or directory'
  run pm run --rm "$NOSHELL_IMAGE" /bin/busybox echo busybox-ok
  assert_success
  assert_output busybox-ok
}

# --- nothing leaks --------------------------------------------------------------------

@test "podman: nothing is left behind (mounts, processes, cgroups, runtime state)" {
  podman_stop
  engine_leak_check
}
