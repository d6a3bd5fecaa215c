#!/usr/bin/env bats
# kill: default signal, names and numbers, --all, states that allow it.

load helpers

# A container whose init traps signals and reports them on its stdout.
TRAP_SCRIPT='for s in HUP USR1 USR2 INT; do trap "echo got-$s" $s; done
trap "echo got-TERM; exit 0" TERM
echo ready
while :; do sleep 0.05; done'

# wait_for_output ID TEXT: until the container printed a line TEXT.
wait_for_output() {
  local end=$((SECONDS + NOOK_WAIT_TIMEOUT))
  until grep -qx "$2" "$BATS_TEST_TMPDIR/$1.out" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "container $1 did not print '$2' within ${NOOK_WAIT_TIMEOUT}s; output: $(container_output "$1")"
    sleep 0.05
  done
}

start_trap_container() {
  setup_bundle sh -c "$TRAP_SCRIPT"
  run_detached "$ID"
  wait_for_output "$ID" ready
}

@test "kill: the default signal is SIGTERM" {
  start_trap_container
  run nook kill "$ID"
  assert_success
  wait_for_output "$ID" got-TERM
  wait_for_state "$ID" stopped
}

@test "kill: signal names with and without SIG, and numbers" {
  start_trap_container
  nook kill "$ID" USR1
  wait_for_output "$ID" got-USR1
  nook kill "$ID" SIGUSR2
  wait_for_output "$ID" got-USR2
  nook kill "$ID" 1
  wait_for_output "$ID" got-HUP
  nook kill "$ID" sigint
  wait_for_output "$ID" got-INT
  run nook state "$ID"
  assert_equal "$(jq -r .status <<<"$output")" running
  nook kill "$ID" 15
  wait_for_output "$ID" got-TERM
  wait_for_state "$ID" stopped
}

@test "kill KILL: the container stops" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook kill "$ID" KILL
  assert_success
  wait_for_state "$ID" stopped
  wait_pid_gone "$pid"
}

@test "kill: a created container can be signalled" {
  setup_bundle sleep 100
  create_container "$ID"
  pid=$(state_field "$ID" pid)
  run nook kill "$ID" KILL
  assert_success
  wait_for_state "$ID" stopped
  wait_pid_gone "$pid"
}

@test "kill: signal 0 checks the container is alive, with and without --all" {
  setup_bundle sleep 100
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run nook kill "$ID" 0
  assert_success
  run nook kill -a "$ID" 0
  assert_success
  # delivers nothing
  assert_equal "$(state_field "$ID" status)" running
  [ -d "/proc/$pid" ]
  nook kill "$ID" KILL
  wait_for_state "$ID" stopped
  run nook kill "$ID" 0
  assert_failure
}

@test "kill: a stopped container gives an error" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook kill "$ID" KILL
  assert_failure
  # and changes nothing
  assert_equal "$(state_field "$ID" status)" stopped
}

@test "kill -a of a stopped container: what its init left in the cgroup dies" {
  # Without a pid namespace of its own, the init's exit leaves its children
  # running in the container's cgroup; containerd's runc shim then runs
  # `kill --all ID KILL` (runc 1.1: they die, and it succeeds).
  setup_bundle sh -c 'sleep 100 & echo $! > /tmp/child'
  update_config 'ns_remove("pid"); c["root"]["readonly"] = False'
  run_detached "$ID"
  wait_for_state "$ID" stopped
  wait_for_file "$BUNDLE/rootfs/tmp/child"
  child=$(cat "$BUNDLE/rootfs/tmp/child")
  [ -d "/proc/$child" ] || fail "the child $child is already gone"
  run nook kill -a "$ID" KILL
  assert_success
  wait_pid_gone "$child"
  assert_equal "$(state_field "$ID" status)" stopped
  # Nothing left: still no error.
  run nook kill --all "$ID" KILL
  assert_success
}

@test "kill: an unknown signal name gives an error" {
  start_trap_container
  run nook kill "$ID" NOSUCHSIG
  assert_failure
  run nook kill "$ID" 12345
  assert_failure
  assert_equal "$(state_field "$ID" status)" running
}

@test "kill --all: the signal reaches every process of the container" {
  # PID 1 ignores TERM (no handler); its child sleep does not.  Only when
  # the child gets the signal too does the shell go on to print.
  setup_bundle sh -c 'sleep 100 & echo ready; wait; echo child-gone; sleep 100'
  run_detached "$ID"
  wait_for_output "$ID" ready
  run nook kill --all "$ID" TERM
  assert_success
  wait_for_output "$ID" child-gone
}

@test "kill without --all signals the init process and no other" {
  # Init and a child shell each trap TERM and say so.  Seeing the init's
  # line proves a signal was sent; the child answers a ping only after any
  # TERM sent before it (the shell runs pending traps between commands), so
  # "pong" without "child-got-TERM" proves the child was not signalled,
  # with no wait for something not to happen.
  setup_bundle sh -c 'trap "echo init-got-TERM" TERM
    sh -c "trap \"echo child-got-TERM; exit 0\" TERM; echo child-ready
      while :; do if [ -e /out/ping ]; then echo pong; rm /out/ping; fi; sleep 0.05; done" &
    while :; do sleep 0.05; done'
  add_out_mount
  run_detached "$ID"
  wait_for_output "$ID" child-ready
  run nook kill "$ID" TERM
  assert_success
  wait_for_output "$ID" init-got-TERM
  touch "$OUTDIR/ping"
  wait_for_output "$ID" pong
  run container_output "$ID"
  refute_line child-got-TERM
  assert_equal "$(state_field "$ID" status)" running
}

@test "kill -a KILL: every process dies, also without a pid namespace" {
  setup_bundle sh -c 'sleep 100 & sleep 100 & echo $! > /tmp/child; wait'
  update_config 'ns_remove("pid"); c["root"]["readonly"] = False'
  run_detached "$ID"
  wait_for_file "$BUNDLE/rootfs/tmp/child"
  pid=$(state_field "$ID" pid)
  child=$(cat "$BUNDLE/rootfs/tmp/child")
  run nook kill -a "$ID" KILL
  assert_success
  wait_pid_gone "$pid"
  wait_pid_gone "$child"
}
