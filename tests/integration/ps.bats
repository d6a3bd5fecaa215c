#!/usr/bin/env bats
# ps: the processes of a container, through ps(1) or as JSON.

load helpers

# Every pid in the container's cgroup (pids hierarchy, else v2), sorted.
cgroup_pids() {
  local pid=$1 line path mnt
  line=$(grep -E '^[0-9]+:([^:]*,)?pids(,[^:]*)?:' "/proc/$pid/cgroup" | head -n1)
  if [ -n "$line" ]; then
    path=${line#*:*:}
    mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)pids(,|$)/ { print $2; exit }' /proc/mounts)
  else
    path=$(grep '^0::' "/proc/$pid/cgroup" | cut -d: -f3)
    mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
  fi
  find "$mnt$path" -name cgroup.procs -exec cat {} + | sort -n
}

# A container with three processes: sh and two sleeps.
start_three() {
  setup_bundle sh -c 'sleep 1000 & sleep 1000 & echo ready >/out/ready; wait'
  add_out_mount
  run_detached "$ID"
  wait_for_file "$OUTDIR/ready"
  PID=$(state_field "$ID" pid)
  # until both children have exec'd sleep
  local i p n
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    n=0
    for p in $(cgroup_pids "$PID"); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" = sleep ] && n=$((n + 1))
    done
    [ "$n" -eq 2 ] && return 0
    sleep 0.05
  done
  fail "the container's sleeps did not start"
}

@test "ps: ps -ef rows of exactly the container's processes" {
  command -v ps >/dev/null || fail "ps(1) is not installed (scripts/deps.sh installs procps)"
  start_three
  run nook ps "$ID"
  assert_success
  assert_line --index 0 --regexp '^UID +PID +PPID +C +STIME +TTY +TIME +CMD$'
  assert_equal "${#lines[@]}" 4
  listed=$(printf '%s\n' "${lines[@]:1}" | awk '{ print $2 }' | sort -n)
  assert_equal "$listed" "$(cgroup_pids "$PID")"
  # the runtime and the test are not in it
  refute_line --regexp "^[^ ]+ +$$ "
}

@test "ps: options after the container id go to ps" {
  command -v ps >/dev/null || fail "ps(1) is not installed (scripts/deps.sh installs procps)"
  start_three
  run nook ps "$ID" -o pid,comm
  assert_success
  assert_line --index 0 --regexp '^ *PID +COMMAND$'
  assert_line --regexp "^ *$PID +sh$"
  assert_equal "$(printf '%s\n' "${lines[@]}" | grep -c ' sleep$')" 2
}

@test "ps -f json: the container's pids" {
  start_three
  run nook ps -f json "$ID"
  assert_success
  assert_equal "$(jq -c 'sort' <<<"$output")" "$(cgroup_pids "$PID" | jq -cs .)"
  assert_equal "$(jq length <<<"$output")" 3
  run nook ps --format json "$ID"
  assert_success
  assert_equal "$(jq length <<<"$output")" 3
}

@test "ps: a paused container's processes are listed" {
  start_three
  nook pause "$ID"
  run nook ps -f json "$ID"
  assert_success
  assert_equal "$(jq length <<<"$output")" 3
  nook resume "$ID"
}

@test "ps -f json: a stopped container has none (null, as runc)" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook ps -f json "$ID"
  assert_success
  assert_output null
}

@test "ps: errors" {
  setup_bundle sleep 1000
  run_detached "$ID"
  run nook ps -f yaml "$ID"
  assert_failure
  assert_output --partial "invalid format option"
  run nook ps "nonexistent-$ID"
  assert_failure
  assert_output --partial "does not exist"
  run nook ps
  assert_failure
  assert_output --partial 'requires a minimum of 1 argument(s)'
  if command -v ps >/dev/null; then
    # ps's own failure, with its output
    run nook ps "$ID" -o no-such-field
    assert_failure
    assert_output --partial "exit status 1"
    # ps output without a PID column
    run nook ps "$ID" -o comm
    assert_failure
    assert_output --partial "couldn't find PID field in ps output"
  fi
}
