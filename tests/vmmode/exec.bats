#!/usr/bin/env bats
# VM mode's exec (issue #15): the process runs in the guest, in the
# container's namespaces and cgroup, set up by the guest's nook as in
# namespace mode; stdio and the exit status come back through the monitor,
# -t through a pty on the host, -d leaves a host proxy that lives as long as
# the process.  Each test boots once and checks many things (TCG: seconds
# per boot).

load helpers

RECVTTY=$REPO_ROOT/tests/integration/recvtty.py

setup_file() {
  kernel_bundle
}

setup() {
  setup_vm_bundle
  NSROOT=$BATS_TEST_TMPDIR/nsroot
  RECVTTY_PID=
}

teardown() {
  delete_all
  local id
  for id in $("$NOOK" --root "$NSROOT" list -q 2>/dev/null); do
    "$NOOK" --root "$NSROOT" delete --force "$id" || true
  done
  [ -z "$RECVTTY_PID" ] || kill "$RECVTTY_PID" 2>/dev/null || true
}

# start_vm ID: create and start the bundle's container in VM mode.
start_vm() {
  nook create -b "$B" "$1" </dev/null >/dev/null
  nook start "$1"
}

# start_twin ID: the same bundle without its annotation, running in
# namespace mode under $NSROOT with the same id: what VM mode must match.
start_twin() {
  local ns=$BATS_TEST_TMPDIR/ns
  mkdir -p "$ns"
  # Its own cgroup: the VM-mode container's (QEMU's) is the id's default.
  jq --arg cg "/nook-test-twin-$$-$1" 'del(.annotations) | .linux.cgroupsPath = $cg' \
    "$B/config.json" >"$ns/config.json"
  ln -sfn "$B/rootfs" "$ns/rootfs"
  "$NOOK" --root "$NSROOT" run -d -b "$ns" "$1" </dev/null >/dev/null
}

# same ID [OPTIONS...] -- CMD...: `exec OPTIONS ID CMD` gives the same exit
# status, stdout and stderr in VM mode as in namespace mode.
same() {
  local id=$1 opts=()
  shift
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  run --separate-stderr "$NOOK" --root "$ROOT" exec "${opts[@]}" "$id" "$@" </dev/null
  local vs=$status vo=$output ve=$stderr
  run --separate-stderr "$NOOK" --root "$NSROOT" exec "${opts[@]}" "$id" "$@" </dev/null
  [ "$vs" = "$status" ] && [ "$vo" = "$output" ] && [ "$ve" = "$stderr" ] ||
    fail "exec ${opts[*]} $id $*
VM mode:        status $vs, stdout <$vo>, stderr <$ve>
namespace mode: status $status, stdout <$output>, stderr <$stderr>"
}

# stderr_has TEXT: the last `same` (or `run --separate-stderr`) wrote TEXT
# to stderr.
stderr_has() {
  [[ $stderr == *"$1"* ]] || fail "stderr <$stderr> lacks <$1>"
}

# recvtty ARGS...: the console-socket receiver in the background on $SOCK,
# copying the terminal to $TTYOUT; waits until it listens.
recvtty() {
  command -v python3 >/dev/null || skip "python3 is missing"
  SOCK=$BATS_TEST_TMPDIR/console.sock
  TTYOUT=$BATS_TEST_TMPDIR/tty.out
  rm -f "$SOCK" "$SOCK.ready"
  python3 "$RECVTTY" --output "$TTYOUT" "$@" "$SOCK" 3>&- &
  RECVTTY_PID=$!
  local i
  for ((i = 0; i < 200; i++)); do
    [ -e "$SOCK.ready" ] && return 0
    sleep 0.05
  done
  fail "recvtty did not listen"
}

# wait_sleeps ID N: until N sleeps run in the container (an exec sent to
# the background may not have started its process yet), at most 60 s.
wait_sleeps() {
  local id=$1 n=$2 end=$((SECONDS + 60)) c
  while :; do
    c=$(nook exec "$id" sh -c 'ps -o comm | grep -c sleep') || true
    [ "$c" = "$n" ] && return 0
    [ "$SECONDS" -lt "$end" ] || fail "$c sleeps run in $id, not $n"
    sleep 0.2
  done
}

@test "vm exec: process settings, stdio, exit status and errors as in namespace mode" {
  vm_config '.process.args = ["sleep", "1000"] | .process.noNewPrivileges = false
    | .linux.seccomp = {defaultAction: "SCMP_ACT_ALLOW",
        syscalls: [{names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 28}]}'
  start_vm test-vmx1
  start_twin test-vmx1
  # Exit status: a code, and 128+N for signal N.
  same test-vmx1 -- sh -c 'echo out; echo err >&2; exit 3'
  assert_equal "$status" 3
  assert_equal "$output" out
  assert_equal "$stderr" err
  same test-vmx1 -- sh -c 'kill -TERM $$'
  assert_equal "$status" 143
  # The user: numeric, and names from the image's /etc/passwd.
  same test-vmx1 -- id
  same test-vmx1 -u 1000:1000 -- id
  same test-vmx1 -u tester -- sh -c 'id; echo $HOME'
  assert_output $'uid=1000(tester) gid=1000(tester)\n/home/tester'
  same test-vmx1 -u tester --additional-gids 5 -- id
  # Environment and working directory.
  same test-vmx1 -e FOO=bar -e PATH=/bin:/sbin -- sh -c 'echo $FOO $PATH; pwd'
  same test-vmx1 --cwd /tmp -- pwd
  assert_output /tmp
  # Capabilities, no_new_privs, seccomp and rlimits: the config's, as for
  # the init, and the options' changes.
  local status_lines='grep -E "^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Seccomp):" /proc/self/status'
  same test-vmx1 -- sh -c "$status_lines"
  assert_line --regexp $'^Seccomp:\t2$'
  assert_line --regexp $'^NoNewPrivs:\t0$'
  same test-vmx1 --cap CAP_SYS_ADMIN --no-new-privs -- sh -c "$status_lines"
  assert_line --regexp $'^NoNewPrivs:\t1$'
  same test-vmx1 -- sh -c 'ulimit -n; ulimit -Hn; mkdir /tmp/a'
  stderr_has "No space left on device"
  # The process joined the container's pid namespace: the init is pid 1.
  same test-vmx1 -- cat /proc/1/cmdline
  # Errors in namespace mode's words.
  same test-vmx1 -- nosuch
  stderr_has 'exec: "nosuch": executable file not found in $PATH'
  same test-vmx1 --cwd /nonexistent -- true
  same test-vmx1 --cwd tmp -- true
  same test-vmx1 --cap CAP_NO_SUCH -- true
  same test-vmx1 -u nosuchuser -- true
  same test-vmx1 -u 'bad user' -- true
  same test-vmx1 --
  stderr_has "no command"
  same test-vmx1 --process "$BATS_TEST_TMPDIR/nosuch.json" --
  same test-vmx1 -t -d -- true
  same test-vmx1 --console-socket "$BATS_TEST_TMPDIR/x.sock" -- true
  # --process: the file's args, env, cwd and user.
  jq -n '{args: ["sh", "-c", "id -u; pwd; echo $X"], env: ["X=from-file"], cwd: "/home",
          user: {uid: 1000, gid: 1000}}' >"$BATS_TEST_TMPDIR/p.json"
  same test-vmx1 --process "$BATS_TEST_TMPDIR/p.json" --
  assert_output $'1000\n/home\nfrom-file'
  # stdin reaches the process; its EOF too.
  run bash -c "printf 'line1\nline2\n' | $NOOK --root $ROOT exec test-vmx1 sh -c 'cat; echo eof'"
  assert_output $'line1\nline2\neof'
  # An unknown container is namespace mode's error (there is no VM to ask).
  run -255 nook exec test-vmx1-nosuch true
  assert_output --partial 'container "test-vmx1-nosuch" does not exist'
  # An fd cannot cross into the VM: refused, naming the option.
  run -255 nook exec --preserve-fds 1 test-vmx1 true
  assert_output --partial "--preserve-fds"
  # Once the container's init ended, exec is refused as in namespace mode.
  nook kill test-vmx1 KILL
  local i
  for ((i = 0; i < 600; i++)); do
    [ "$(nook state test-vmx1 | jq -r .status)" = stopped ] && break
    sleep 0.1
  done
  run -255 nook exec test-vmx1 true
  assert_output --partial "cannot exec in a stopped container"
}

@test "vm exec: -t: a console socket gets a host pty (size, resize, input); in the foreground the CLI's terminal; -d lets the CLI's stdio go" {
  command -v script >/dev/null || skip "script is missing"
  vm_config '.process.args = ["sleep", "1000"]'
  start_vm test-vmx2
  recvtty --size 25x90 --resize resize-me=40x120 --input $'hello-exec\n'
  # The process runs as the engine gets the master (as in namespace mode,
  # where the master is sent once the process runs): it waits for the size.
  nook exec -t -d --console-socket "$SOCK" --pid-file "$BATS_TEST_TMPDIR/pid" test-vmx2 sh -c '
    i=0; while [ $i -lt 300 ] && [ "$(stty size 2>/dev/null)" != "25 90" ]; do sleep 0.1; i=$((i+1)); done
    tty; stty size; [ -t 0 ] && echo is-a-tty; echo resize-me
    i=0; while [ $i -lt 300 ] && [ "$(stty size)" != "40 120" ]; do sleep 0.1; i=$((i+1)); done
    echo now $(stty size); read line; echo got:$line; exit 3'
  [ -s "$BATS_TEST_TMPDIR/pid" ]
  local i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.1
  done
  run tr -d '\r' <"$TTYOUT"
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line '25 90'
  assert_line is-a-tty
  assert_line 'now 40 120'
  assert_line got:hello-exec
  wait_gone "$(cat "$BATS_TEST_TMPDIR/pid")"
  # In the foreground without a console socket, the CLI's own terminal:
  # in the terminal's foreground process group (timeout --foreground), then
  # in a background one, as under a plain timeout that sh does not exec
  # (a CI runner's): putting the terminal in raw mode there must not stop
  # the CLI (SIGTTOU) with nothing to continue it (CI saw it hang).
  local how
  for how in "timeout --foreground" timeout; do
    SHELL=/bin/sh run script -qec "stty rows 22 cols 77; $how -k 5 120 $NOOK --root $ROOT --debug --log $BATS_TEST_TMPDIR/fg.log exec -t test-vmx2 sh -c 'tty; stty size; echo fg-tty; exit 4'" /dev/null
    # What the CLI saw, should it end otherwise (a failing test prints it).
    echo "$how: output: $output"
    cat "$BATS_TEST_TMPDIR/fg.log"
    assert_equal "$status" 4
    output=$(tr -d '\r' <<<"$output")
    assert_output --partial fg-tty
    assert_output --partial '22 77'
  done
  # With a terminal, the -d CLI's stdout and stderr are not the process's:
  # nothing keeps them open once it exits (containerd's runc shim reads
  # them to EOF before it goes on), while the process still runs.
  kill "$RECVTTY_PID" 2>/dev/null || true
  recvtty
  run timeout 120 bash -c '"$@" 2>&1 | cat >"$0"' "$BATS_TEST_TMPDIR/exec.out" "$NOOK" --root "$ROOT" \
    exec -t -d --console-socket "$SOCK" --pid-file "$BATS_TEST_TMPDIR/pid2" test-vmx2 sleep 1000
  assert_success
  kill -0 "$(cat "$BATS_TEST_TMPDIR/pid2")"
}

@test "vm exec -d: the pid file's process lives as long as the exec'd one and ends as it ended; signals reach it" {
  command -v python3 >/dev/null || skip "python3 is missing"
  vm_config '.process.args = ["sleep", "1000"]'
  start_vm test-vmx3
  # An engine's subreaper: it reaps the proxies once the CLIs have exited.
  run python3 - "$NOOK" "$ROOT" "$BATS_TEST_TMPDIR" <<'EOF'
import ctypes, os, subprocess, sys, time
nook, root, d = sys.argv[1:4]
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER

def exec_d(name, script):
    out = open(f"{d}/{name}.out", "w")
    subprocess.run([nook, "--root", root, "exec", "-d", "--pid-file", f"{d}/{name}.pid",
                    "test-vmx3", "sh", "-c", script],
                   stdin=subprocess.DEVNULL, stdout=out, stderr=out, check=True)
    return int(open(f"{d}/{name}.pid").read())

def wait_line(name, line):
    for _ in range(1200):
        if line in open(f"{d}/{name}.out").read().split("\n"):
            return
        time.sleep(0.1)
    sys.exit(f"{name}: no line {line}")

def outcome(status):
    return f"signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"

pids = {}
pids[exec_d("code", "exit 5")] = "code"
pids[exec_d("selfkill", "kill -TERM $$")] = "selfkill"
pids[exec_d("trap", 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done')] = "trap"
pids[exec_d("killed", 'echo $$; echo ready; exec sleep 1000')] = "killed"
wait_line("trap", "ready")
trap = [p for p, n in pids.items() if n == "trap"][0]
os.kill(trap, 15)
wait_line("killed", "ready")
killed = [p for p, n in pids.items() if n == "killed"][0]
os.kill(killed, 9)
seen = {}
while len(seen) < len(pids):
    pid, status = os.wait()
    if pid in pids:
        seen[pids[pid]] = outcome(status)
for name in sorted(seen):
    print(name, seen[name])
print("trap-out", open(f"{d}/trap.out").read().split())
EOF
  assert_success
  assert_line "code exit 5"
  assert_line "selfkill signal 15"
  assert_line "trap exit 7"
  assert_line "trap-out ['ready', 'got-term']"
  # SIGKILL cannot be passed on: the proxy's death kills the process.
  assert_line "killed signal 9"
  local i gone= guest_pid
  guest_pid=$(head -1 "$BATS_TEST_TMPDIR/killed.out")
  [ "$guest_pid" -gt 1 ] || fail "no guest pid: $guest_pid"
  nook exec test-vmx3 test -d /proc/1
  for ((i = 0; i < 100; i++)); do
    if ! nook exec test-vmx3 test -d "/proc/$guest_pid"; then
      gone=1
      break
    fi
    sleep 0.2
  done
  [ -n "$gone" ] || fail "the exec'd process outlived its proxy"
}

@test "vm exec: concurrent execs, a slow reader of a big output, kill --all, delete --force with execs running" {
  vm_config '.process.args = ["sleep", "1000"]'
  start_vm test-vmx4
  local d=$BATS_TEST_TMPDIR i pids=()
  # Several at once, their output interleaved in time, each its own.
  for i in 1 2 3 4 5; do
    nook exec test-vmx4 sh -c "for j in 1 2 3 4 5; do echo $i-\$j; echo e$i-\$j >&2; sleep 0.1; done; exit $i" \
      >"$d/c$i.out" 2>"$d/c$i.err" </dev/null &
    pids+=($!)
  done
  for i in 1 2 3 4 5; do
    local rc=0
    wait "${pids[$((i - 1))]}" || rc=$?
    assert_equal "$rc" "$i"
    assert_equal "$(cat "$d/c$i.out")" "$(printf '%s\n' "$i-1" "$i-2" "$i-3" "$i-4" "$i-5")"
    assert_equal "$(cat "$d/c$i.err")" "$(printf '%s\n' "e$i-1" "e$i-2" "e$i-3" "e$i-4" "e$i-5")"
  done
  # Several MiB through a reader that stalls first: all of it arrives, and
  # meanwhile other execs and the init are not held up.
  bash -c "$NOOK --root $ROOT exec test-vmx4 seq 1 700000 </dev/null | (sleep 4; sha256sum) >$d/big.sum" &
  local big=$!
  run nook exec test-vmx4 echo alive
  assert_output alive
  kill -0 "$big" || fail "the big output was done before the other exec: it proves nothing"
  wait "$big"
  assert_equal "$(cat "$d/big.sum")" "$(seq 1 700000 | sha256sum)"
  # kill --all reaches the exec'd processes (the init, pid 1 of its
  # namespace without a handler, ignores SIGTERM).
  nook exec test-vmx4 sleep 1000 </dev/null &
  local fg=$!
  nook exec -d --pid-file "$d/bg.pid" test-vmx4 sleep 1000 </dev/null >/dev/null
  wait_sleeps test-vmx4 3
  nook kill --all test-vmx4 TERM
  local rc=0
  wait "$fg" || rc=$?
  assert_equal "$rc" 143
  wait_gone "$(cat "$d/bg.pid")"
  [ "$(nook state test-vmx4 | jq -r .status)" = running ]
  # delete --force with execs running: every client ends (137, killed with
  # the VM) and nothing is left.
  nook exec test-vmx4 sleep 1000 </dev/null &
  fg=$!
  nook exec -d --pid-file "$d/bg2.pid" test-vmx4 sleep 1000 </dev/null >/dev/null
  wait_sleeps test-vmx4 3
  nook delete --force test-vmx4
  rc=0
  wait "$fg" || rc=$?
  assert_equal "$rc" 137
  wait_gone "$(cat "$d/bg2.pid")"
  assert_nothing_left
}

# The guest init runs the container commands (create, start, exec, ...) in
# forked children without an exec, so FD_CLOEXEC no longer keeps its own fds
# (the channel's port, its signalfd, the other processes' stdio, memfds)
# from them: the children close them.  A created container's init is still
# nook's code, holding only what namespace mode's holds; the workload and an
# exec'd process have exactly 0, 1 and 2.  And the same boot: the host
# compiled the config's seccomp profile through its cache into the share,
# for the guest's create to import.
@test "vm: no fd of the guest init reaches the container's init or an exec'd process; the share holds the host's compiled seccomp profile" {
  vm_config '.process.args = ["sh", "-c", "ls /proc/1/fd; echo end; exec sleep 1000"]'
  local out=$BATS_TEST_TMPDIR/init.out
  nook create -b "$B" test-vmfd </dev/null >"$out" 2>&1
  run ls -A "$ROOT/test-vmfd/share/.seccomp~cache"
  assert_output --regexp '^[0-9a-f]{64}$'
  [ -f "$NOOK_SECCOMP_CACHE/$output" ] || fail "$output is not in the host's cache $NOOK_SECCOMP_CACHE"
  # While created, pid 1 of the container is nook waiting for start: its
  # log, the exec shim's memfd, its sockets to the runtime, and its stdio.
  run nook exec test-vmfd sh -c 'for f in /proc/1/fd/*; do echo "${f##*/} $(readlink "$f")"; done'
  assert_success
  local fd target
  while read -r fd target; do
    case $fd:$target in
    [012]:pipe:*) ;;
    *:/run/nook.log | *:"/memfd:nook-exec-shim (deleted)" | *:socket:*)
      [ "$fd" -ge 3 ] || fail "fd $fd -> $target: $output" ;;
    *) fail "the created container's init holds fd $fd -> $target: $output" ;;
    esac
  done <<<"$output"
  run nook exec test-vmfd sh -c 'ls /proc/$$/fd; true'
  assert_output $'0\n1\n2'
  nook start test-vmfd
  wait_for "$out" end
  assert_equal "$(cat "$out")" $'0\n1\n2\nend'
  run nook exec test-vmfd sh -c 'ls /proc/$$/fd; true'
  assert_output $'0\n1\n2'
}
