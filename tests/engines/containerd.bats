#!/usr/bin/env bats
# containerd 1.6 driven with ctr: the io.containerd.runc.v2 shim with the
# runtime under test as its binary (ctr run --runc-binary), the runtime's
# state root under the temp dir (--runc-root), a private containerd on unix
# sockets, no network.  ctr 1.6 has no `task update` and its `run` has no
# --user, --hostname, --ulimit, --pids-limit or --cpuset-cpus: those are
# covered by the podman and docker files.

load helpers

ctr_() {
  timeout -k 5 "$ENGINE_CMD_TIMEOUT" ctr --address "$CTR_SOCK" --namespace "$CTR_NS" "$@" 3>&-
}

# ctr run with the runtime under test.  --fifo-dir: ctr's stdio fifos go
# under the temp dir (a detached ctr leaves them behind in /run/containerd/fifo).
ctr_run() {
  ctr_ run --fifo-dir "$CTR_FIFO_DIR" --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$CTR_RUNC_ROOT" "$@"
}

ctr_exec() {
  ctr_ task exec --fifo-dir "$CTR_FIFO_DIR" "$@"
}

containerd_start() {
  local d=$ENGINE_TMP/containerd
  mkdir -p "$d"
  cat >"$d/config.toml" <<EOF
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
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
EOF
  start_daemon containerd containerd --config "$d/config.toml"
  CTR_SOCK=$d/c.sock
  CTR_STATE=$d/state
  export CTR_SOCK CTR_STATE
  wait_until 20 ctr --address "$CTR_SOCK" version || fail "containerd did not start: $(cat "$ENGINE_TMP/containerd.log")"
  ctr_ image import "$IMG_DIR/busybox-oci.tar" >/dev/null || fail "ctr image import failed"
  ctr_ image import "$IMG_DIR/noshell-oci.tar" >/dev/null || fail "ctr image import failed"
}

# Removes every task and container (after a failed test, and when stopping).
ctr_rm_all() {
  [ -f "$ENGINE_TMP/containerd.pid" ] || return 0
  local id
  for id in $(ctr_ task ls -q 2>/dev/null); do
    ctr_ task kill -s KILL "$id" >/dev/null 2>&1 || true
    ctr_ task rm -f "$id" >/dev/null 2>&1 || true
  done
  for id in $(ctr_ container ls -q 2>/dev/null); do
    ctr_ container rm "$id" >/dev/null 2>&1 || true
  done
}

containerd_stop() {
  [ -f "$ENGINE_TMP/containerd.pid" ] || return 0
  ctr_rm_all
  stop_daemon containerd
}

setup_file() {
  engine_init containerd
  # A namespace of our own: ctr puts a container's cgroup at /<namespace>/<id>.
  CTR_NS=nook-$(basename "$ENGINE_TMP" | tr '[:upper:]' '[:lower:]' | tr -cd 'a-z0-9')
  CTR_RUNC_ROOT=$ENGINE_TMP/runc-root
  CTR_FIFO_DIR=$ENGINE_TMP/fifo
  ENGINE_CGROUP_PARENTS=$CTR_NS
  ENGINE_CGROUP_PARENTS_OWNED=$CTR_NS
  # The shim runs the runtime with --root <runc-root>/<namespace>.
  ENGINE_STATE_DIRS="$CTR_RUNC_ROOT:2"
  export CTR_NS CTR_RUNC_ROOT CTR_FIFO_DIR ENGINE_CGROUP_PARENTS ENGINE_CGROUP_PARENTS_OWNED ENGINE_STATE_DIRS
  engine_snapshot
  containerd_start
}

# A failed test's tasks go at once: in VM mode each is a running VM.
teardown() {
  [ -n "${BATS_TEST_COMPLETED:-}" ] || ctr_rm_all
}

teardown_file() {
  containerd_stop
  engine_force_cleanup
  engine_final_cleanup
}

# run_bg ID SCRIPT [ctr run flags...]: a detached task logging to
# $ENGINE_TMP/ID.log; waits for "ready" when the script prints it.
run_bg() {
  local id=$1 script=$2
  shift 2
  ctr_run -d --log-uri "file://$ENGINE_TMP/$id.log" "$@" "$IMAGE" "$id" sh -c "$script" >/dev/null ||
    fail "ctr run -d $id failed"
  if [[ $script == *ready* ]]; then
    wait_until 10 grep -q ready "$ENGINE_TMP/$id.log"
  fi
}

task_status() {
  ctr_ task ls | awk -v id="$1" '$1 == id {print $3}'
}

# remove ID: kill the task, delete it and the container.
remove() {
  ctr_ task kill -s KILL "$1" >/dev/null 2>&1 || true
  wait_until 10 sh -c "! ctr --address $CTR_SOCK --namespace $CTR_NS task ls | grep -q '^$1 .*RUNNING'"
  ctr_ task rm -f "$1" >/dev/null 2>&1 || true
  ctr_ container rm "$1" >/dev/null
}

rootfs_of() {
  echo "$CTR_STATE/io.containerd.runtime.v2.task/$CTR_NS/$1/rootfs"
}

# --- the runtime under test is the one the shim uses --------------------------------

@test "ctr: the shim runs the runtime under test" {
  run_bg rtcheck "$TRAP_SCRIPT"
  run ctr_ container info rtcheck
  assert_success
  local opts
  opts=$(jq -r '.Runtime.Options.value' <<<"$output" | base64 -d | tr -c '[:print:]' ' ')
  [[ $opts == *"$RT"* ]] || fail "runtime options do not name $RT: $opts"
  assert_rt_state --root "$CTR_RUNC_ROOT/$CTR_NS" rtcheck
  remove rtcheck
}

# --- run: output, exit status --------------------------------------------------------

@test "ctr run: output and exit status 0, --rm removes the container" {
  run ctr_run --rm "$IMAGE" rm1 echo hello from the container
  assert_success
  assert_output "hello from the container"
  run ctr_ container ls -q
  [[ $'\n'$output$'\n' != *$'\n'rm1$'\n'* ]] || fail "container rm1 still exists"
}

@test "ctr run: non-zero exit status" {
  run ctr_run --rm "$IMAGE" nz1 sh -c 'echo out; echo err >&2; exit 7'
  assert_failure 7
  assert_line out
  assert_line err
}

@test "ctr run: killed by a signal gives 128+N" {
  ctr_run --rm "$IMAGE" sig1 sleep 1000 >/dev/null 2>&1 &
  local runpid=$!
  wait_until 10 sh -c "ctr --address $CTR_SOCK --namespace $CTR_NS task ls | grep -q '^sig1 .*RUNNING'"
  ctr_ task kill -s KILL sig1
  local rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ] || fail "ctr run exited $rc, wanted 137"
}

@test "ctr run: stdin reaches the container" {
  run ctr_run --rm "$IMAGE" in1 sh -c 'read a; echo "got:$a"' <<<"piped-line"
  assert_success
  assert_output "got:piped-line"
}

@test "ctr run: signals sent to the client reach the container" {
  local out=$BATS_TEST_TMPDIR/sp1.out
  ctr --address "$CTR_SOCK" --namespace "$CTR_NS" run --rm --fifo-dir "$CTR_FIFO_DIR" --runtime io.containerd.runc.v2 \
    --runc-binary "$RT" --runc-root "$CTR_RUNC_ROOT" "$IMAGE" sp1 sh -c "$TRAP_SCRIPT" </dev/null >"$out" 2>&1 3>&- &
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

# --- terminal ---------------------------------------------------------------------------

@test "ctr run -t: interactive shell on a terminal" {
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- ctr --address "$CTR_SOCK" --namespace "$CTR_NS" run --rm -t \
    --fifo-dir "$CTR_FIFO_DIR" --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$CTR_RUNC_ROOT" "$IMAGE" tty1 sh
  assert_failure 3
  assert_output --partial hello-3
}

@test "ctr run -t: the container's stdio is a terminal of the given size" {
  run pty_run --rows 33 --cols 101 -- ctr --address "$CTR_SOCK" --namespace "$CTR_NS" run --rm -t \
    --fifo-dir "$CTR_FIFO_DIR" --runtime io.containerd.runc.v2 --runc-binary "$RT" --runc-root "$CTR_RUNC_ROOT" "$IMAGE" tty2 \
    sh -c "tty; [ -t 0 ] && echo stdin-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/0
  assert_output --partial "33 101"
  assert_output --partial stdin-is-tty
}

# --- detached: logs, kill, restart -------------------------------------------------------

@test "ctr run -d, log, task kill (SIGTERM), exit status on task rm" {
  run_bg st1 "$TRAP_SCRIPT"
  run task_status st1
  assert_output RUNNING
  ctr_ task kill st1
  wait_until 10 sh -c "ctr --address $CTR_SOCK --namespace $CTR_NS task ls | grep -q '^st1 .*STOPPED'"
  run cat "$ENGINE_TMP/st1.log"
  assert_line ready
  assert_line got-TERM
  run ctr_ task rm st1
  assert_success
  assert_output --partial "exit code 42"
  ctr_ container rm st1
}

@test "ctr task kill -s KILL: stops a container that ignores SIGTERM" {
  run_bg st2 "$DEAF_SCRIPT"
  ctr_ task kill -s TERM st2
  sleep 1
  run task_status st2
  assert_output RUNNING
  ctr_ task kill -s KILL st2
  wait_until 10 sh -c "ctr --address $CTR_SOCK --namespace $CTR_NS task ls | grep -q '^st2 .*STOPPED'"
  run ctr_ task rm st2
  assert_output --partial "exit code 137"
  ctr_ container rm st2
}

@test "ctr task kill -s: the signal reaches the container" {
  run_bg k1 "$TRAP_SCRIPT"
  ctr_ task kill -s USR1 k1
  wait_until 10 grep -q got-USR1 "$ENGINE_TMP/k1.log"
  run task_status k1
  assert_output RUNNING
  remove k1
}

@test "ctr task start after task rm: the container runs again" {
  run_bg r1 "$TRAP_SCRIPT"
  local pid1
  pid1=$(ctr_ task ls | awk '$1 == "r1" {print $2}')
  ctr_ task kill r1
  wait_until 10 sh -c "ctr --address $CTR_SOCK --namespace $CTR_NS task ls | grep -q '^r1 .*STOPPED'"
  ctr_ task rm r1 >/dev/null 2>&1
  run ctr_ task start -d --fifo-dir "$CTR_FIFO_DIR" --log-uri "file://$ENGINE_TMP/r1.log" r1
  assert_success
  wait_until 10 sh -c "[ \"\$(grep -c ^ready $ENGINE_TMP/r1.log)\" -ge 2 ]"
  run task_status r1
  assert_output RUNNING
  [ "$(ctr_ task ls | awk '$1 == "r1" {print $2}')" != "$pid1" ] || fail "same pid after restart"
  remove r1
}

# --- exec ---------------------------------------------------------------------------------

@test "ctr task exec: output, exit status, --user, --cwd, stdin, -d" {
  run_bg ex1 "$TRAP_SCRIPT"
  run ctr_exec --exec-id e1 ex1 echo exec-output
  assert_success
  assert_output exec-output
  run ctr_exec --exec-id e2 ex1 sh -c 'exit 5'
  assert_failure 5
  run ctr_exec --exec-id e2k ex1 sh -c 'kill -9 $$'
  assert_failure 137
  run ctr_exec --exec-id e4 --cwd /tmp ex1 pwd
  assert_output /tmp
  run ctr_exec --exec-id e5 ex1 cat <<<"exec-stdin"
  assert_output exec-stdin
  run ctr_exec -d --exec-id e6 ex1 sh -c 'echo detached-exec >/tmp/exec-d'
  assert_success
  wait_until 10 test -s "$(rootfs_of ex1)/tmp/exec-d"
  run cat "$(rootfs_of ex1)/tmp/exec-d"
  assert_output detached-exec
  # Last: ctr 1.6 resolves --user by mounting the container's snapshot a
  # second time, which breaks writes to the running container's overlay
  # upper dir ("upperdir is in-use" in dmesg) with any runtime.
  run ctr_exec --exec-id e3 --user 1000 ex1 id -u
  assert_output 1000
  remove ex1
}

@test "ctr task exec -t: a terminal in a running container" {
  run_bg ex2 "$TRAP_SCRIPT"
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- ctr --address "$CTR_SOCK" --namespace "$CTR_NS" task exec --fifo-dir "$CTR_FIFO_DIR" -t --exec-id t1 ex2 sh
  assert_failure 3
  assert_output --partial hello-3
  run pty_run --rows 33 --cols 101 -- ctr --address "$CTR_SOCK" --namespace "$CTR_NS" task exec --fifo-dir "$CTR_FIFO_DIR" -t --exec-id t2 ex2 \
    sh -c "tty; [ -t 1 ] && echo stdout-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/
  assert_output --partial stdout-is-tty
  assert_output --partial "33 101"
  remove ex2
}

@test "ctr task exec: a missing executable is reported with the runtime's message" {
  run_bg ex3 "$TRAP_SCRIPT"
  run ctr_exec --exec-id e1 ex3 no-such-exec-cmd
  assert_failure
  assert_output --partial 'exec: "no-such-exec-cmd": executable file not found in $PATH'
  remove ex3
}

# --- pause, metrics, ps ----------------------------------------------------------------

@test "ctr task pause/resume: the container's processes stop and go on" {
  run_bg p1 "$COUNT_SCRIPT"
  local f
  f=$(rootfs_of p1)/tmp/count
  wait_until 10 test -s "$f"
  run ctr_ task pause p1
  assert_success
  run task_status p1
  assert_output PAUSED
  local a b
  a=$(cat "$f")
  sleep 0.5
  b=$(cat "$f")
  [ "$a" = "$b" ] || fail "the count went on while paused: $a -> $b"
  run ctr_ task resume p1
  assert_success
  run task_status p1
  assert_output RUNNING
  wait_until 10 sh -c "[ \"\$(cat $f)\" -gt $b ]"
  remove p1
}

@test "ctr task metrics and ps: usage and processes of a running container" {
  run_bg s1 "$STILL_SCRIPT" --memory-limit 67108864
  run ctr_ task metrics --format json s1
  assert_success
  # Metrics of a cgroup v1 container: memory usage and limit, pids.
  local limit usage pids
  limit=$(jq -r '.data.memory.usage.limit // .memory.usage.limit' <<<"$output")
  usage=$(jq -r '.data.memory.usage.usage // .memory.usage.usage' <<<"$output")
  pids=$(jq -r '.data.pids.current // .pids.current' <<<"$output")
  # VM mode: the figures of the container's cgroup on the host, QEMU's
  # (the 64 MiB are the guest's business).
  local want=67108864
  [ "$ENGINE_VM" != 1 ] || want=$(($(vm_memory_limit_mib) * 1024 * 1024))
  [ "$limit" = "$want" ] || fail "memory limit $limit in $output"
  [ "$usage" -gt 0 ] || fail "memory usage $usage"
  [ "$pids" -ge 2 ] || fail "pids $pids"
  run ctr_ task ps s1
  assert_success
  local pid
  pid=$(ctr_ task ls | awk '$1 == "s1" {print $2}')
  [ "${#lines[@]}" -ge 3 ] || fail "ctr task ps lists fewer than 2 processes"
  if [ "$ENGINE_VM" = 1 ]; then
    # The shim lists what the runtime's ps gives: the guest's pids (the
    # container's pid, the monitor's, is not among them).
    local listed
    listed=$(awk 'NR > 1 {print $1}' <<<"$output" | sort -n)
    [ "$listed" = "$(rt_pids --root "$CTR_RUNC_ROOT/$CTR_NS" s1)" ] || fail "ctr task ps: $output"
  else
    assert_line --regexp "^${pid}[[:space:]]"
  fi
  remove s1
}

# --- resource and security flags, checked from inside -------------------------------------

@test "ctr run --memory-limit --cpus: cgroup limits" {
  if [ "$ENGINE_VM" = 1 ]; then
    # The host's cgroup /<namespace>/<id> is QEMU's; the container's limits
    # are the guest's, read through a cgroupfs the test mounts.  The CPU
    # limit is QEMU's too: under a quarter of a CPU the VM takes 10-15 s to
    # boot, so three quarters.
    run ctr_run --rm --memory-limit 100663296 --cpus 0.75 \
      --mount type=cgroup,src=cgroup,dst=/sys/fs/cgroup,options=ro:nosuid:nodev:noexec \
      "$IMAGE" res1 sh -c "$CG_LIMITS_FN; cg_limits | head -n 3"
    assert_success
    assert_output $'100663296\n75000\n100000'
    return
  fi
  # ctr's default spec mounts no cgroupfs in the container: read the
  # container's cgroup (/<namespace>/<id>) from the host.
  run_bg res1 "$TRAP_SCRIPT" --memory-limit 100663296 --cpus 0.25
  run cat "/sys/fs/cgroup/memory/$CTR_NS/res1/memory.limit_in_bytes" \
    "/sys/fs/cgroup/cpu/$CTR_NS/res1/cpu.cfs_quota_us" "/sys/fs/cgroup/cpu/$CTR_NS/res1/cpu.cfs_period_us"
  assert_success
  assert_output $'100663296\n25000\n100000'
  local pid
  pid=$(ctr_ task ls | awk '$1 == "res1" {print $2}')
  run grep -E '^[0-9]+:(memory|cpu,cpuacct|cpu):' "/proc/$pid/cgroup"
  assert_output --partial ":memory:/$CTR_NS/res1"
  remove res1
}

@test "ctr run: the memory limit is enforced (OOM kill)" {
  # The container's init allocates 64 MiB at once (dd's buffer, touched by
  # the read).
  run ctr_run --rm --memory-limit 16777216 "$IMAGE" oom1 dd if=/dev/zero of=/dev/null bs=64M count=1
  assert_failure 137
  refute_output --partial 'records out'
}

@test "ctr run --device: the device node is there and usable" {
  [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
  run ctr_run --rm --device /dev/net/tun "$IMAGE" dev1 sh -c 'ls -l /dev/net/tun; exec 3<>/dev/net/tun && echo opened'
  assert_success
  assert_output --partial "10, 200"
  assert_line opened
}

@test "ctr run --cap-add/--cap-drop: capability sets" {
  run ctr_run --rm --cap-add CAP_SYS_ADMIN --cap-drop CAP_CHOWN "$IMAGE" cap1 sh -c 'grep ^CapEff /proc/self/status'
  assert_success
  local eff=$((16#${output##*[[:space:]]}))
  ((eff & (1 << 21))) || fail "CAP_SYS_ADMIN not in $output"
  ((!(eff & 1))) || fail "CAP_CHOWN still in $output"
}

@test "ctr run --read-only, --mount tmpfs: read-only rootfs, writable tmpfs" {
  run ctr_run --rm --read-only --mount type=tmpfs,src=tmpfs,dst=/scratch,options=size=1m "$IMAGE" ro1 sh -c '
    touch /x 2>&1; touch /scratch/y && echo scratch-ok; grep " /scratch " /proc/mounts'
  assert_success
  assert_line --partial "Read-only file system"
  assert_line scratch-ok
  assert_line --partial "tmpfs /scratch tmpfs"
}

@test "ctr run --mount bind: read-write and read-only" {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  run ctr_run --rm --mount "type=bind,src=$vol,dst=/data,options=rbind:rw" \
    --mount "type=bind,src=$vol,dst=/rodata,options=rbind:ro" "$IMAGE" bind1 sh -c '
    cat /data/in; echo from-container >/data/out; touch /rodata/z 2>&1 || true'
  assert_success
  assert_line from-host
  assert_line --partial "Read-only file system"
  run cat "$vol/out"
  assert_output from-container
}

@test "ctr run: no-new-privileges (default) and the default seccomp profile" {
  seccomp_cache_arm
  run ctr_run --rm --seccomp "$IMAGE" sec1 grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_success
  assert_line -e 'NoNewPrivs:[[:space:]]+1'
  assert_line -e 'Seccomp:[[:space:]]+2'
  assert_seccomp_precompiled
  run ctr_run --rm --allow-new-privs "$IMAGE" sec2 grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_line -e 'NoNewPrivs:[[:space:]]+0'
  assert_line -e 'Seccomp:[[:space:]]+0'
}

@test "ctr run --env, --cwd" {
  run ctr_run --rm --env FOO=bar --env HELLO=world --cwd /home/tester "$IMAGE" env1 sh -c 'echo "$FOO $HELLO"; pwd'
  assert_success
  assert_output $'bar world\n/home/tester'
}

@test "ctr run --privileged: all capabilities, host devices" {
  run ctr_run --rm --privileged "$IMAGE" priv1 sh -c 'grep -E "^CapEff:" /proc/self/status; test -c /dev/net/tun && echo has-tun; mkdir -p /tmp/m && mount -t tmpfs t /tmp/m && echo mounted'
  assert_success
  assert_line -e 'CapEff:[[:space:]]+000001ffffffffff|CapEff:[[:space:]]+000001fffeffffff|CapEff:[[:space:]]+0000003fffffffff'
  assert_line has-tun
  assert_line mounted
}

@test "ctr run --with-ns: joins another container's pid and network namespaces" {
  run_bg ns1 "$TRAP_SCRIPT"
  local pid
  pid=$(ctr_ task ls | awk '$1 == "ns1" {print $2}')
  run ctr_run --rm --with-ns "pid:/proc/$pid/ns/pid" --with-ns "network:/proc/$pid/ns/net" "$IMAGE" ns2 sh -c '
    grep -q got-TERM /proc/1/cmdline && echo sees-its-pid-1; for n in net pid; do readlink /proc/self/ns/$n; done'
  assert_success
  assert_line sees-its-pid-1
  assert_line "$(readlink "/proc/$pid/ns/net")"
  assert_line "$(readlink "/proc/$pid/ns/pid")"
  remove ns1
}

# --- failures an engine user meets ---------------------------------------------------------

@test "ctr run: a missing executable comes back with the runtime's message" {
  run ctr_run --rm "$IMAGE" f1 no-such-cmd
  assert_failure
  assert_output --partial 'exec: "no-such-cmd": executable file not found in $PATH'
  run ctr_run --rm "$IMAGE" f2 /etc/passwd
  assert_failure
  assert_output --partial 'exec: "/etc/passwd": permission denied'
}

@test "ctr run: a working dir that is not a directory" {
  run ctr_run --rm --cwd /etc/passwd "$IMAGE" f3 pwd
  assert_failure
  assert_output --partial '/etc/passwd'
  assert_output --regexp '[Nn]ot a directory'
}

@test "ctr run: a working dir hidden by a mount" {
  run ctr_run --rm --cwd /proc/nook-wd "$IMAGE" f6 pwd
  assert_failure
  assert_output --partial '/proc/nook-wd'
  assert_output --regexp '[Nn]o such file or directory'
}

@test "ctr run: an image without a shell" {
  run ctr_run --rm "$NOSHELL_IMAGE" f4
  assert_failure
  assert_output --partial '/bin/sh'
  assert_output --partial 'no such file or directory'
  run ctr_run --rm "$NOSHELL_IMAGE" f5 /bin/busybox echo busybox-ok
  assert_success
  assert_output busybox-ok
}

# --- nothing leaks ------------------------------------------------------------------------

@test "ctr: nothing is left behind (mounts, processes, cgroups, runtime state, shim sockets)" {
  containerd_stop
  engine_leak_check
}
