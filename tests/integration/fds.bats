#!/usr/bin/env bats
# File descriptors: --preserve-fds, LISTEN_FDS (socket activation), and no
# fd of the runtime or its caller reaching the container.

load helpers

# The fds PID 1 of the container (the shell) holds, one per line, listed by
# a child while the shell waits for it (the trailing true keeps sh from
# exec-ing ls).
FD_SCRIPT='ls /proc/1/fd; true'

@test "only fds 0, 1 and 2 reach the container by default" {
  setup_bundle sh -c "$FD_SCRIPT"
  echo leak >"$BATS_TEST_TMPDIR/leak"
  run nook run "$ID" 5<"$BATS_TEST_TMPDIR/leak" 7<"$BATS_TEST_TMPDIR/leak"
  assert_success
  assert_equal "$(echo $output)" "0 1 2"
}

@test "create/start: only fds 0, 1 and 2 reach the container" {
  setup_bundle sh -c "$FD_SCRIPT"
  echo leak >"$BATS_TEST_TMPDIR/leak"
  create_container "$ID" 6<"$BATS_TEST_TMPDIR/leak"
  nook start "$ID" 6<"$BATS_TEST_TMPDIR/leak"
  wait_for_state "$ID" stopped
  run container_output "$ID"
  assert_equal "$(echo $output)" "0 1 2"
}

@test "run --preserve-fds N: fds 3..3+N-1 are passed and readable" {
  setup_bundle sh -c 'cat <&3; cat <&4; [ -e /proc/self/fd/5 ] && echo fd5-leaked; true'
  echo content-of-3 >"$BATS_TEST_TMPDIR/f3"
  echo content-of-4 >"$BATS_TEST_TMPDIR/f4"
  run nook run --preserve-fds 2 "$ID" 3<"$BATS_TEST_TMPDIR/f3" 4<"$BATS_TEST_TMPDIR/f4" 5<"$BATS_TEST_TMPDIR/f4"
  assert_success
  assert_line --index 0 content-of-3
  assert_line --index 1 content-of-4
  refute_line fd5-leaked
}

@test "create --preserve-fds: a pipe passed as fd 3 is written by the container" {
  setup_bundle sh -c 'echo through-fd3 >&3'
  mkfifo "$BATS_TEST_TMPDIR/fifo"
  bg bash -c 'cat "$1" > "$2"' _ "$BATS_TEST_TMPDIR/fifo" "$BATS_TEST_TMPDIR/fifo.out"
  # (not create_container: it closes fd 3, bats' own)
  nook create --bundle "$BUNDLE" --preserve-fds 1 "$ID" 3>"$BATS_TEST_TMPDIR/fifo" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1
  nook start "$ID"
  wait_for_state "$ID" stopped
  wait_for_file "$BATS_TEST_TMPDIR/fifo.out"
  assert_equal "$(cat "$BATS_TEST_TMPDIR/fifo.out")" through-fd3
}

@test "run --preserve-fds 0 passes nothing extra" {
  setup_bundle sh -c "$FD_SCRIPT"
  run nook run --preserve-fds 0 "$ID" 3</dev/null
  assert_success
  assert_equal "$(echo $output)" "0 1 2"
}

@test "run and exec --preserve-fds near INT_MAX: a clear error, no container, no crash" {
  skip_for_peer "nook bounds --preserve-fds by the open-file limit"
  setup_bundle sh -c 'echo ran'
  local n
  for n in 2147483646 2147483647; do
    run nook run --preserve-fds "$n" "$ID"
    assert_equal "$status" 1
    assert_output --partial "--preserve-fds $n: more fds than this process can have open"
    refute_output --partial ran
    run nook state "$ID"
    assert_failure
  done
  # exec checks the same bound.
  setup_bundle sleep 600
  run_detached "$ID"
  run nook exec --preserve-fds 2147483646 "$ID" echo ran
  assert_failure
  assert_output --partial "--preserve-fds 2147483646: more fds than this process can have open"
  refute_output --partial ran
}

@test "LISTEN_FDS: socket-activation fds are passed with LISTEN_FDS and LISTEN_PID=1" {
  setup_bundle sh -c 'echo "fds=$LISTEN_FDS pid=$LISTEN_PID"; cat <&3; cat <&4'
  echo listen-3 >"$BATS_TEST_TMPDIR/l3"
  echo listen-4 >"$BATS_TEST_TMPDIR/l4"
  # LISTEN_PID must name the runtime's own pid (sd_listen_fds), hence exec.
  run bash -c 'export LISTEN_FDS=2 LISTEN_PID=$$; exec "$@"' _ \
    "$NOOK" --root "$NOOK_ROOT" run "$ID" 3<"$BATS_TEST_TMPDIR/l3" 4<"$BATS_TEST_TMPDIR/l4"
  assert_success
  assert_line --index 0 "fds=2 pid=1"
  assert_line --index 1 listen-3
  assert_line --index 2 listen-4
}

@test "LISTEN_FDS for another pid is ignored" {
  setup_bundle sh -c "echo \"fds=\$LISTEN_FDS\"; $FD_SCRIPT"
  run bash -c 'export LISTEN_FDS=1 LISTEN_PID=1; exec "$@"' _ \
    "$NOOK" --root "$NOOK_ROOT" run "$ID" 3</dev/null
  assert_success
  assert_line --index 0 "fds="
  refute_line 3
}
