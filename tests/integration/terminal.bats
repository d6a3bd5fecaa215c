#!/usr/bin/env bats
# process.terminal, --console-socket, consoleSize.

load helpers

# A bundle with process.terminal true and ARGS.
setup_tty_bundle() {
  setup_bundle "$@"
  update_config 'c["process"]["terminal"] = True'
  SOCK=$BATS_TEST_TMPDIR/console.sock
  TTYOUT=$BATS_TEST_TMPDIR/tty.out
}

# The terminal output with CRs removed, once the receiver has finished.
tty_output() {
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.05
  done
  tr -d '\r' <"$TTYOUT"
}

@test "create --console-socket: the pty master is sent; stdio is the terminal" {
  setup_tty_bundle sh -c 'tty; for f in 0 1 2; do readlink /proc/self/fd/$f; done; [ -t 0 ] && echo is-a-tty'
  recvtty "$SOCK" "$TTYOUT"
  run create_container "$ID" --console-socket "$SOCK"
  assert_success
  nook start "$ID"
  wait_for_state "$ID" stopped
  run tty_output
  assert_line --index 0 --regexp '^/dev/pts/[0-9]+$'
  pts=${lines[0]}
  assert_line --index 1 "$pts"
  assert_line --index 2 "$pts"
  assert_line --index 3 "$pts"
  assert_line is-a-tty
}

@test "console socket: input written to the master reaches the process" {
  setup_tty_bundle sh -c 'read line; echo "got:$line"'
  recvtty "$SOCK" "$TTYOUT" $'hello-tty\n'
  create_container "$ID" --console-socket "$SOCK"
  nook start "$ID"
  wait_for_state "$ID" stopped
  run tty_output
  assert_line got:hello-tty
}

@test "console socket: process.consoleSize sets the window size" {
  setup_tty_bundle stty size
  update_config 'c["process"]["consoleSize"] = {"height": 30, "width": 100}'
  recvtty "$SOCK" "$TTYOUT"
  create_container "$ID" --console-socket "$SOCK"
  nook start "$ID"
  wait_for_state "$ID" stopped
  run tty_output
  assert_line "30 100"
}

@test "console socket: a non-root process.user owns its terminal (group stays tty)" {
  setup_tty_bundle sh -c 'stat -c "tty %u:%g" "$(tty)"; [ -w "$(tty)" ] && echo writable'
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  recvtty "$SOCK" "$TTYOUT"
  create_container "$ID" --console-socket "$SOCK"
  nook start "$ID"
  wait_for_state "$ID" stopped
  run tty_output
  assert_line "tty 1000:5"
  assert_line writable
}

@test "console socket: /dev/console is the container's pty" {
  setup_tty_bundle sh -c 'stat -c "%t" /dev/console; stat -L -c "%t" /proc/self/fd/0'
  recvtty "$SOCK" "$TTYOUT"
  create_container "$ID" --console-socket "$SOCK"
  nook start "$ID"
  wait_for_state "$ID" stopped
  run tty_output
  # major 136 (0x88): a Unix98 pty slave
  assert_line --index 0 88
  assert_line --index 1 88
}

@test "run -d --console-socket: detached run with a terminal" {
  setup_tty_bundle sh -c 'echo detached-tty; tty'
  recvtty "$SOCK" "$TTYOUT"
  run run_detached "$ID" --console-socket "$SOCK"
  assert_success
  wait_for_state "$ID" stopped
  run tty_output
  assert_line detached-tty
  assert_line --regexp '^/dev/pts/[0-9]+$'
}

@test "run with terminal in the foreground: the runtime proxies the pty" {
  setup_tty_bundle sh -c 'tty; echo fg-tty; exit 4'
  # script(1) gives the runtime a terminal of its own.
  run script -qec "timeout -k 5 30 $NOOK --root $NOOK_ROOT run $ID" /dev/null
  assert_equal "$status" 4
  output=$(tr -d '\r' <<<"$output")
  assert_output --partial fg-tty
  assert_output --regexp '/dev/pts/[0-9]+'
}

@test "terminal: true with --detach and no console socket is an error" {
  setup_tty_bundle true
  run run_detached "$ID"
  assert_failure
  assert_output --partial console
  run nook state "$ID"
  assert_failure
}

@test "create with terminal: true and no console socket is an error" {
  setup_tty_bundle true
  run create_container "$ID"
  assert_failure
  assert_output --partial console
  run nook state "$ID"
  assert_failure
}

@test "--console-socket without terminal: true is an error" {
  setup_bundle true
  SOCK=$BATS_TEST_TMPDIR/console.sock
  recvtty "$SOCK" "$BATS_TEST_TMPDIR/tty.out"
  run create_container "$ID" --console-socket "$SOCK"
  assert_failure
  assert_output --partial console
  run nook state "$ID"
  assert_failure
}

@test "--console-socket that nobody listens on fails create" {
  setup_tty_bundle true
  run create_container "$ID" --console-socket "$BATS_TEST_TMPDIR/nobody.sock"
  assert_failure
  run nook state "$ID"
  assert_failure
}

@test "terminal: false: stdio is not a terminal" {
  setup_bundle sh -c '[ -t 0 ] || [ -t 1 ] && echo tty || echo no-tty'
  run nook run "$ID"
  assert_success
  assert_output no-tty
}
