# The tests podman.bats and docker.bats share: both engines have the docker
# command line, so the same test drives either through the variables below,
# which each file sets before `load docker_cli`.  A test whose checks differ
# between the engines keeps its own body in its file.
#
#   ENGINE_CLI       the file's wrapper of the client (pm, dk): a timeout,
#                    bats' fd 3 closed
#   ENGINE_BIN       the client itself (exported: also run through sh -c),
#                    for clients in the background and under a terminal
#   ENGINE_RUN_OPTS  options every `run` gets (docker: --network none)
#   ENGINE_RM_OPTS   options of `rm -f` that make it stop at once (podman: -t 0)
#   ENGINE_NAME      the engine's name in messages (set by engine_init)

# The client, through the file's wrapper.
cli() {
  "$ENGINE_CLI" "$@"
}

# `run` with the options every container of the suite gets.
cli_run() {
  "$ENGINE_CLI" run "${ENGINE_RUN_OPTS[@]}" "$@"
}

# Removes containers now, whatever they are doing.
cli_rm_f() {
  "$ENGINE_CLI" rm -f "${ENGINE_RM_OPTS[@]}" "$@" >/dev/null
}

# run_bg NAME SCRIPT [RUN OPTIONS...]: a detached container NAME running
# SCRIPT; waits until its log says "ready" when the script prints it.
run_bg() {
  local name=$1 script=$2
  shift 2
  cli_run -d --name "$name" "$@" "$IMAGE" sh -c "$script" >/dev/null || fail "$ENGINE_NAME run -d $name failed"
  if [[ $script == *ready* ]]; then
    wait_until 10 sh -c "$ENGINE_BIN logs $name 2>&1 | grep -q ready"
  fi
}

merged_dir() {
  cli inspect -f '{{.GraphDriver.Data.MergedDir}}' "$1"
}

# --- run: output, exit status ------------------------------------------------

# The output and exit status 0; the caller checks that --rm removed rm1.
cli_test_run_output() {
  run cli_run --rm --name rm1 "$IMAGE" echo hello from the container
  assert_success
  assert_output "hello from the container"
}

cli_test_run_exit_status() {
  run cli_run --rm "$IMAGE" sh -c 'echo out; echo err >&2; exit 7'
  assert_failure 7
  assert_line out
  assert_line err
}

cli_test_run_killed() {
  cli_run --rm --name sig1 "$IMAGE" sleep 1000 >/dev/null 2>&1 &
  local runpid=$!
  wait_until 10 sh -c '[ "$($ENGINE_BIN inspect -f {{.State.Status}} sig1 2>/dev/null)" = running ]'
  cli kill -s KILL sig1 >/dev/null
  local rc=0
  wait "$runpid" || rc=$?
  [ "$rc" -eq 137 ] || fail "$ENGINE_NAME run exited $rc, wanted 137"
}

cli_test_run_stdin() {
  run cli_run --rm -i "$IMAGE" sh -c 'read a; echo "got:$a"' <<<"piped-line"
  assert_success
  assert_output "got:piped-line"
}

cli_test_run_client_signals() {
  local out=$BATS_TEST_TMPDIR/sp1.out
  "$ENGINE_BIN" run --rm "${ENGINE_RUN_OPTS[@]}" --name sp1 "$IMAGE" sh -c "$TRAP_SCRIPT" </dev/null >"$out" 2>&1 3>&- &
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

# --- terminal ----------------------------------------------------------------------

cli_test_run_it() {
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- "$ENGINE_BIN" run --rm -it "${ENGINE_RUN_OPTS[@]}" "$IMAGE" sh
  assert_failure 3
  assert_output --partial hello-3
}

# cli_test_run_t SIZE_CMD: SIZE_CMD prints the terminal's size ("ROWS COLS").
cli_test_run_t() {
  local size_cmd=$1
  run pty_run --rows 33 --cols 101 -- "$ENGINE_BIN" run --rm -t "${ENGINE_RUN_OPTS[@]}" "$IMAGE" \
    sh -c "tty; [ -t 0 ] && echo stdin-is-tty; $size_cmd"
  assert_success
  assert_output --partial /dev/pts/0
  assert_output --partial "33 101"
  assert_output --partial stdin-is-tty
}

# --- detached: logs, stop, kill, restart -----------------------------------------

cli_test_stop_term() {
  run_bg st1 "$TRAP_SCRIPT"
  run cli inspect -f '{{.State.Status}}' st1
  assert_output running
  run cli stop -t 20 st1
  assert_success
  run cli logs st1
  assert_line ready
  assert_line got-TERM
  run cli inspect -f '{{.State.Status}} {{.State.ExitCode}}' st1
  assert_output "exited 42"
  cli rm st1 >/dev/null
}

cli_test_stop_kill() {
  run_bg st2 "$DEAF_SCRIPT"
  local t0=$SECONDS
  run cli stop -t 2 st2
  assert_success
  [ $((SECONDS - t0)) -ge 2 ] || fail "stopped after $((SECONDS - t0))s, before the 2 s timeout"
  run cli inspect -f '{{.State.Status}} {{.State.ExitCode}}' st2
  assert_output "exited 137"
  cli rm st2 >/dev/null
}

cli_test_kill_signal() {
  run_bg k1 "$TRAP_SCRIPT"
  cli kill -s USR1 k1 >/dev/null
  wait_until 10 sh -c '$ENGINE_BIN logs k1 2>&1 | grep -q got-USR1'
  run cli inspect -f '{{.State.Status}}' k1
  assert_output running
  cli kill -s TERM k1 >/dev/null
  wait_until 10 sh -c '[ "$($ENGINE_BIN inspect -f {{.State.Status}} k1)" = exited ]'
  run cli inspect -f '{{.State.ExitCode}}' k1
  assert_output 42
  cli rm k1 >/dev/null
}

cli_test_restart() {
  run_bg r1 "$TRAP_SCRIPT"
  local pid1
  pid1=$(cli inspect -f '{{.State.Pid}}' r1)
  run cli restart -t 10 r1
  assert_success
  wait_until 10 sh -c '[ "$($ENGINE_BIN logs r1 2>&1 | grep -c ^ready)" -ge 2 ]'
  run cli inspect -f '{{.State.Status}}' r1
  assert_output running
  [ "$(cli inspect -f '{{.State.Pid}}' r1)" != "$pid1" ] || fail "same pid after restart"
  run cli logs r1
  assert_line got-TERM
  cli_rm_f r1
}

# --- exec ---------------------------------------------------------------------------

cli_test_exec() {
  run_bg ex1 "$TRAP_SCRIPT"
  run cli exec ex1 echo exec-output
  assert_success
  assert_output exec-output
  run cli exec ex1 sh -c 'exit 5'
  assert_failure 5
  run cli exec ex1 sh -c 'kill -9 $$'
  assert_failure 137
  run cli exec -u 1000:1000 ex1 id
  assert_output --regexp '^uid=1000\(tester\) gid=1000\(tester\)'
  run cli exec -u nobody ex1 id -un
  assert_output nobody
  run cli exec -e FOO=bar -e HELLO=world ex1 sh -c 'echo "$FOO $HELLO"'
  assert_output "bar world"
  run cli exec -w /tmp ex1 pwd
  assert_output /tmp
  run cli exec -i ex1 cat <<<"exec-stdin"
  assert_output exec-stdin
  run cli exec -d ex1 sh -c 'echo detached-exec >/tmp/exec-d'
  assert_success
  wait_until 10 cli exec ex1 test -s /tmp/exec-d
  run cli exec ex1 cat /tmp/exec-d
  assert_output detached-exec
  cli_rm_f ex1
}

cli_test_exec_tty() {
  run_bg ex2 "$TRAP_SCRIPT"
  run pty_run "${PTY_SHELL_DIALOGUE[@]}" -- "$ENGINE_BIN" exec -it ex2 sh
  assert_failure 3
  assert_output --partial hello-3
  run pty_run --rows 33 --cols 101 -- "$ENGINE_BIN" exec -t ex2 sh -c "tty; [ -t 1 ] && echo stdout-is-tty; $STTY_SIZE"
  assert_success
  assert_output --partial /dev/pts/
  assert_output --partial stdout-is-tty
  assert_output --partial "33 101"
  cli_rm_f ex2
}

# cli_test_exec_missing STATUS: the engine's exit status for it.
cli_test_exec_missing() {
  local status=$1
  run_bg ex3 "$TRAP_SCRIPT"
  run "-$status" cli exec ex3 no-such-exec-cmd
  assert_failure "$status"
  assert_output --partial 'exec: "no-such-exec-cmd": executable file not found in $PATH'
  cli_rm_f ex3
}

# --- pause -------------------------------------------------------------------------

cli_test_pause() {
  run_bg p1 "$COUNT_SCRIPT"
  local m
  m=$(merged_dir p1)
  wait_until 10 test -s "$m/tmp/count"
  run cli pause p1
  assert_success
  run cli inspect -f '{{.State.Status}}' p1
  assert_output paused
  local a b
  a=$(cat "$m/tmp/count")
  sleep 0.5
  b=$(cat "$m/tmp/count")
  [ "$a" = "$b" ] || fail "the count went on while paused: $a -> $b"
  run cli unpause p1
  assert_success
  run cli inspect -f '{{.State.Status}}' p1
  assert_output running
  wait_until 10 sh -c "[ \"\$(cat $m/tmp/count)\" -gt $b ]"
  cli_rm_f p1
}

# --- resource and security flags, checked from inside ------------------------------

cli_test_cgroup_limits() {
  # Three quarters of a CPU: in VM mode the limit is QEMU's too, and under a
  # quarter of one the VM takes 10-15 s to boot.
  run cli_run --rm --memory 96m --cpus 0.75 --pids-limit 33 --cpuset-cpus 0 "$IMAGE" sh -c "$CG_LIMITS_FN; cg_limits"
  assert_success
  assert_output $'100663296\n75000\n100000\n33\n0'
}

cli_test_oom() {
  # The container's init allocates 64 MiB at once (dd's buffer, touched by
  # the read): a shell variable grown through a pipe takes tens of seconds
  # in an emulated VM.
  run cli_run --rm --memory 16m --memory-swap 16m "$IMAGE" dd if=/dev/zero of=/dev/null bs=64M count=1
  assert_failure 137
  refute_output --partial 'records out'
}

cli_test_device() {
  [ -c /dev/net/tun ] || skip "no /dev/net/tun on this host"
  run cli_run --rm --device /dev/net/tun:/dev/mytun "$IMAGE" sh -c 'ls -l /dev/mytun; exec 3<>/dev/mytun && echo opened'
  assert_success
  assert_output --partial "10, 200"
  assert_line opened
  run cli_run --rm "$IMAGE" sh -c 'test -e /dev/mytun || echo absent'
  assert_output absent
}

cli_test_caps() {
  run cli_run --rm --cap-drop all --cap-add NET_RAW "$IMAGE" sh -c 'grep -E "^Cap(Eff|Prm|Bnd)" /proc/self/status'
  assert_success
  assert_line -e 'CapEff:[[:space:]]+0000000000002000'
  assert_line -e 'CapBnd:[[:space:]]+0000000000002000'
  run cli_run --rm --cap-add SYS_ADMIN --cap-drop CHOWN "$IMAGE" sh -c 'grep ^CapEff /proc/self/status'
  local eff=$((16#${output##*[[:space:]]}))
  ((eff & (1 << 21))) || fail "CAP_SYS_ADMIN not in $output"
  ((!(eff & 1))) || fail "CAP_CHOWN still in $output"
}

# cli_test_read_only [RUN OPTIONS...]: options the engine needs besides
# --read-only for a rootfs that is read-only everywhere.
cli_test_read_only() {
  run cli_run --rm --read-only "$@" --tmpfs /scratch:size=1m "$IMAGE" sh -c '
    touch /x 2>&1; touch /scratch/y && echo scratch-ok; grep " /scratch " /proc/mounts'
  assert_success
  assert_line --partial "Read-only file system"
  assert_line scratch-ok
  assert_line --partial "tmpfs /scratch tmpfs"
}

cli_test_bind_mounts() {
  local vol=$BATS_TEST_TMPDIR/vol
  mkdir -p "$vol"
  echo from-host >"$vol/in"
  run cli_run --rm -v "$vol:/data" -v "$vol:/rodata:ro" "$IMAGE" sh -c '
    cat /data/in; echo from-container >/data/out; touch /rodata/z 2>&1 || true'
  assert_success
  assert_line from-host
  assert_line --partial "Read-only file system"
  run cat "$vol/out"
  assert_output from-container
}

cli_test_nnp_seccomp() {
  run cli_run --rm --security-opt no-new-privileges "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_success
  assert_line -e 'NoNewPrivs:[[:space:]]+1'
  assert_line -e 'Seccomp:[[:space:]]+2'
  run cli_run --rm --security-opt seccomp=unconfined "$IMAGE" grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
  assert_line -e 'NoNewPrivs:[[:space:]]+0'
  assert_line -e 'Seccomp:[[:space:]]+0'
}

cli_test_process_flags() {
  run cli_run --rm --ulimit nofile=1024:2048 --ulimit nproc=500:600 --user 1000:1000 --workdir /home/tester \
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

# cli_test_join_ns [RUN OPTIONS...]: options of the container whose
# namespaces the other one joins.  No ENGINE_RUN_OPTS for the one that joins:
# it takes the network of the other.
cli_test_join_ns() {
  run_bg ns1 "$TRAP_SCRIPT" "$@"
  local pid
  pid=$(cli inspect -f '{{.State.Pid}}' ns1)
  run cli run --rm --pid container:ns1 --ipc container:ns1 --network container:ns1 "$IMAGE" sh -c '
    grep -q got-TERM /proc/1/cmdline && echo sees-its-pid-1; for n in ipc net pid; do readlink /proc/self/ns/$n; done'
  assert_success
  assert_line sees-its-pid-1
  assert_line "$(readlink "/proc/$pid/ns/ipc")"
  assert_line "$(readlink "/proc/$pid/ns/net")"
  assert_line "$(readlink "/proc/$pid/ns/pid")"
  cli_rm_f ns1
}

# --- failures an engine user meets --------------------------------------------------

cli_test_missing_executable() {
  run -127 cli_run --rm "$IMAGE" no-such-cmd
  assert_failure 127
  assert_output --partial 'exec: "no-such-cmd": executable file not found in $PATH'
  run cli_run --rm "$IMAGE" /etc/passwd
  assert_failure 126
  assert_output --partial 'exec: "/etc/passwd": permission denied'
}

# The engine refuses it itself.
cli_test_workdir_not_dir() {
  run cli_run --rm --workdir /etc/passwd "$IMAGE" pwd
  assert_failure
  assert_output --partial '/etc/passwd'
  assert_output --partial 'not a directory'
}

# /proc/nook-wd is in the image, so the engine accepts it; /proc is mounted
# over it.
cli_test_workdir_hidden() {
  run -127 cli_run --rm --workdir /proc/nook-wd "$IMAGE" pwd
  assert_failure 127
  assert_output --partial '/proc/nook-wd'
  assert_output --regexp '[Nn]o such file or directory'
}

cli_test_noshell_image() {
  run -127 cli_run --rm "$NOSHELL_IMAGE"
  assert_failure 127
  assert_output --partial '/bin/sh'
  assert_output --partial 'no such file or directory'
  run cli_run --rm "$NOSHELL_IMAGE" /bin/busybox echo busybox-ok
  assert_success
  assert_output busybox-ok
}
