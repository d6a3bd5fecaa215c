#!/usr/bin/env bats
# VM mode's terminal and stdio relay (issue #14): process.terminal with
# --console-socket hands the engine a pty master on the host wired to the
# container's pty in the guest (window size changes forwarded), a foreground
# `run` with a terminal proxies the CLI's own, and the stdio relay's flow
# control: a container that never reads its stdin does not hang the VM, a
# reader that stalls loses nothing.  One boot per test (TCG: seconds each).

load helpers

# The namespace-mode terminal tests' console-socket receiver.
RECVTTY=$REPO_ROOT/tests/integration/recvtty.py

setup_file() {
  kernel_bundle
}

setup() {
  setup_vm_bundle
  SOCK=$BATS_TEST_TMPDIR/console.sock
  TTYOUT=$BATS_TEST_TMPDIR/tty.out
  RECVTTY_PID=
}

teardown() {
  delete_all
  [ -z "$RECVTTY_PID" ] || kill "$RECVTTY_PID" 2>/dev/null || true
}

# recvtty ARGS...: the receiver in the background, listening on $SOCK,
# copying the terminal to $TTYOUT; waits until it listens.
recvtty() {
  command -v python3 >/dev/null || skip "python3 is missing"
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

# The terminal's output, CRs removed, once the receiver saw it hang up.
tty_output() {
  local i
  for ((i = 0; i < 1200; i++)); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.1
  done
  tr -d '\r' <"$TTYOUT"
}

@test "vm terminal: the engine gets a pty master; tty, size, resize while running, input; create's stdio is let go" {
  # The receiver sets 25x90 on the master as it arrives, types a line, and
  # sets 40x120 once the container said resize-me.
  vm_config '.process.terminal = true | .process.args = ["sh", "-c",
    "tty; stty size; [ -t 0 ] && echo is-a-tty; echo resize-me;
     i=0; while [ $i -lt 300 ] && [ \"$(stty size)\" != \"40 120\" ]; do sleep 0.1; i=$((i+1)); done;
     echo now $(stty size); read line; echo got:$line; exit 3"]'
  recvtty --size 25x90 --resize resize-me=40x120 --input $'hello-vm\n'
  # With a terminal, create's stdout and stderr are not the container's:
  # nothing keeps them open once create exits (containerd's runc shim reads
  # them to EOF before it goes on).
  run timeout 120 bash -c '"$@" 2>&1 | cat >"$0"' "$BATS_TEST_TMPDIR/create.out" \
    "$NOOK" --root "$ROOT" create -b "$B" --console-socket "$SOCK" --pid-file "$BATS_TEST_TMPDIR/pid" test-vmt1
  assert_success
  # The master is the engine's at create, as in namespace mode.
  [ -s "$TTYOUT.name" ]
  run cat "$TTYOUT.name"
  assert_output --regexp '^/dev/pts/[0-9]+$'
  nook start test-vmt1
  run tty_output
  # (The guest's pty echoes the typed line wherever it arrived.)
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line '25 90'
  assert_line is-a-tty
  assert_line 'now 40 120'
  assert_line got:hello-vm
  # The monitor ends with the container's status.
  local pid i
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  for ((i = 0; i < 600; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  run nook state test-vmt1
  [ "$(jq -r .status <<<"$output")" = stopped ]
  nook delete test-vmt1
}

@test "vm terminal: run in the foreground proxies the CLI's own terminal" {
  command -v script >/dev/null || skip "script is missing"
  vm_config '.process.terminal = true | .process.args = ["sh", "-c", "tty; stty size; echo fg-tty; exit 4"]'
  # script(1) gives the runtime a terminal of its own, sized here.
  run script -qec "stty rows 22 cols 77; timeout -k 5 120 $NOOK --root $ROOT run -b $B test-vmt2" /dev/null
  assert_equal "$status" 4
  output=$(tr -d '\r' <<<"$output")
  assert_output --partial fg-tty
  assert_output --regexp '/dev/pts/[0-9]+'
  assert_output --partial '22 77'
  run nook state test-vmt2
  assert_failure
}

@test "vm terminal: namespace mode's console-socket errors, before any boot" {
  vm_config '.process.terminal = true | .process.args = ["true"]'
  run -1 nook create -b "$B" test-vmt3
  assert_output --partial console
  run -1 nook run -d -b "$B" test-vmt3
  assert_output --partial console
  vm_config '.process.terminal = false'
  run -1 nook create -b "$B" --console-socket "$SOCK" test-vmt3
  assert_output --partial console
  run nook state test-vmt3
  assert_failure
}

@test "vm stdio: stdin never read does not hang the VM; a stalled reader loses no output" {
  head -c 8000000 /dev/zero >"$BATS_TEST_TMPDIR/in"
  vm_config '.process.args = ["sh", "-c", "head -c 3000000 /dev/zero; echo done >&2; exit 3"]'
  # stdout's reader sleeps first: the container waits for it, then all of
  # its output arrives; the 8 MB it never reads are no reason to hang.
  run --separate-stderr bash -c "timeout -k 5 180 $NOOK --root $ROOT run -b $B test-vmt4 \
    <$BATS_TEST_TMPDIR/in | (sleep 2; wc -c); exit \${PIPESTATUS[0]}"
  assert_equal "$status" 3
  assert_output 3000000
  [ "$stderr" = done ]
}
