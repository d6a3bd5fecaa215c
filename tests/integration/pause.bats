#!/usr/bin/env bats
# pause and resume: the freezer through the container's cgroup.

load helpers

# A container whose init appends a line to /out/count as fast as it can.
start_counter() {
  setup_bundle sh -c 'i=0; while :; do i=$((i+1)); echo $i >>/out/count; done'
  add_out_mount
  run_detached "$ID"
  wait_for_file "$OUTDIR/count"
}

count() {
  wc -l <"$OUTDIR/count"
}

# "frozen" when PID's cgroup is frozen by either freezer: the unified
# hierarchy's cgroup.freeze (cgroup.events says "frozen 1") or the v1 freezer
# (freezer.state FROZEN); a runtime on a hybrid host may use either.
freezer_state() {
  local pid=$1 path v2 dir
  path=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
  v2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  if [ -n "$path" ] && [ -n "$v2" ] && grep -qx 'frozen 1' "$v2$path/cgroup.events" 2>/dev/null; then
    echo frozen
    return
  fi
  path=$(grep -E '^[0-9]+:([^:]*,)?freezer(,[^:]*)?:' "/proc/$pid/cgroup" | cut -d: -f3)
  dir=$(awk '$3 == "cgroup" && $4 ~ /(^|,)freezer(,|$)/ { print $2; exit }' /proc/mounts)
  if [ -n "$path" ] && [ -n "$dir" ] && [ "$(cat "$dir$path/freezer.state" 2>/dev/null)" = FROZEN ]; then
    echo frozen
    return
  fi
  echo thawed
}

proc_state() {
  awk '/^State:/ { print $2 }' "/proc/$1/status"
}

@test "pause: a busy loop stops advancing while paused and goes on after resume" {
  start_counter
  run nook pause "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" paused
  c1=$(count)
  sleep 0.5
  c2=$(count)
  assert_equal "$c2" "$c1"

  run nook resume "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" running
  local end=$((SECONDS + NOOK_WAIT_TIMEOUT))
  until c3=$(count) && [ "$c3" -gt "$c2" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "counter did not advance within ${NOOK_WAIT_TIMEOUT}s of resume: $c2 -> $c3"
    sleep 0.05
  done
}

@test "pause: the container's cgroup is frozen, and thawed by resume" {
  start_counter
  pid=$(state_field "$ID" pid)
  assert_equal "$(freezer_state "$pid")" thawed
  nook pause "$ID"
  assert_equal "$(freezer_state "$pid")" frozen
  # A busy loop that is frozen is not runnable.
  [ "$(proc_state "$pid")" != R ] || fail "process $pid is still running: $(grep State: /proc/$pid/status)"
  nook resume "$ID"
  assert_equal "$(freezer_state "$pid")" thawed
}

@test "pause: every process of the container is frozen, not only init" {
  setup_bundle sh -c 'sh -c "i=0; while :; do i=\$((i+1)); echo \$i >>/out/child; done" & wait'
  add_out_mount
  run_detached "$ID"
  wait_for_file "$OUTDIR/child"
  nook pause "$ID"
  c1=$(wc -l <"$OUTDIR/child")
  sleep 0.4
  assert_equal "$(wc -l <"$OUTDIR/child")" "$c1"
  nook resume "$ID"
  local end=$((SECONDS + NOOK_WAIT_TIMEOUT))
  until [ "$(wc -l <"$OUTDIR/child")" -gt "$c1" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "the child did not go on within ${NOOK_WAIT_TIMEOUT}s of resume"
    sleep 0.05
  done
}

@test "pause: list shows a paused container as paused" {
  start_counter
  nook pause "$ID"
  run nook list
  assert_success
  assert_line --regexp "^$ID +[0-9]+ +paused "
  nook resume "$ID"
}

@test "pause: pausing a paused container fails, resuming a running one fails" {
  start_counter
  run nook resume "$ID"
  assert_failure
  assert_output --partial "container not paused"
  nook pause "$ID"
  run nook pause "$ID"
  assert_failure
  assert_output --partial "container not running"
  # and the container stays paused
  assert_equal "$(state_field "$ID" status)" paused
  nook resume "$ID"
  run nook resume "$ID"
  assert_failure
  assert_output --partial "container not paused"
}

@test "pause: a stopped container cannot be paused or resumed" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook pause "$ID"
  assert_failure
  assert_output --partial "container not running"
  run nook resume "$ID"
  assert_failure
  assert_output --partial "container not paused"
}

@test "pause: an unknown container is an error" {
  run nook pause "nonexistent-$ID"
  assert_failure
  assert_output --partial "does not exist"
  run nook resume "nonexistent-$ID"
  assert_failure
  assert_output --partial "does not exist"
}

@test "pause: usage errors" {
  run nook pause
  assert_failure
  assert_output --partial 'requires exactly 1 argument(s)'
  run nook resume a b
  assert_failure
  assert_output --partial 'requires exactly 1 argument(s)'
  run nook pause --help
  assert_success
  assert_output --partial "pause suspends all processes inside the container"
}

@test "pause: a created container can be paused, resumed and then started" {
  setup_bundle sh -c 'echo started >/out/started; sleep 100'
  add_out_mount
  create_container "$ID"
  run nook pause "$ID"
  assert_success
  run nook resume "$ID"
  assert_success
  run nook start "$ID"
  assert_success
  wait_for_file "$OUTDIR/started"
  assert_equal "$(state_field "$ID" status)" running
}

@test "pause: delete --force removes a paused container" {
  start_counter
  pid=$(state_field "$ID" pid)
  nook pause "$ID"
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  run nook state "$ID"
  assert_failure
}

@test "pause: kill KILL stops a paused container" {
  start_counter
  pid=$(state_field "$ID" pid)
  nook pause "$ID"
  run nook kill "$ID" KILL
  assert_success
  # The v2 freezer lets SIGKILL through; the v1 freezer delivers it on thaw.
  nook resume "$ID" || true
  wait_for_state "$ID" stopped
  wait_pid_gone "$pid"
}
