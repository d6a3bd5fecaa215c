#!/usr/bin/env bats
# events: stats in runc's JSON format, the stream, OOM notifications.

load helpers

# jq over the one line `events --stats` printed ($output).
stat() {
  jq -r "$1" <<<"$output"
}

@test "events --stats: one stats object in runc's format" {
  setup_bundle sleep 1000
  run_detached "$ID"
  run nook events --stats "$ID"
  assert_success
  assert_equal "${#lines[@]}" 1
  "$PYTHON" -c 'import json, sys; json.loads(sys.argv[1])' "$output"
  assert_equal "$(stat .type)" stats
  assert_equal "$(stat .id)" "$ID"
  # the members runc's readers use
  for path in .data.cpu.usage.kernel .data.cpu.usage.user .data.memory.usage.limit \
    .data.memory.usage.failcnt .data.memory.swap.limit; do
    [[ $(stat "$path") =~ ^[0-9]+$ ]] || fail "$path: $(stat "$path")"
  done
  [ "$(stat .data.memory.usage.usage)" -gt 0 ]
  assert_equal "$(stat .data.pids.current)" 1
  assert_equal "$(stat '.data.cpu.throttling | type')" object
  assert_equal "$(stat '.data.blkio | type')" object
  assert_equal "$(stat '.data.hugetlb | type')" object
}

@test "events --stats: cpu, memory and pids figures follow the workload" {
  setup_bundle sh -c 'echo ready >/out/ready
    while [ ! -e /out/go ]; do sleep 0.05; done
    head -c 20m /dev/zero >/dev/shm/x
    sleep 1000 & sleep 1000 &
    i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done
    echo done >/out/done
    wait'
  add_out_mount
  run_detached "$ID"
  wait_for_file "$OUTDIR/ready"
  run nook events --stats "$ID"
  assert_success
  mem1=$(stat .data.memory.usage.usage)
  cpu1=$(stat .data.cpu.usage.total)
  touch "$OUTDIR/go"
  wait_for_file "$OUTDIR/done"
  run nook events --stats "$ID"
  assert_success
  mem2=$(stat .data.memory.usage.usage)
  cpu2=$(stat .data.cpu.usage.total)
  # /dev/shm is a tmpfs charged to the container's memory cgroup
  [ $((mem2 - mem1)) -ge $((15 * 1024 * 1024)) ] || fail "memory usage $mem1 -> $mem2"
  [ "$cpu2" -gt "$cpu1" ] || fail "cpu usage $cpu1 -> $cpu2"
  assert_equal "$(stat .data.pids.current)" 3
}

@test "events --stats: the limits set in the config are reported" {
  setup_bundle sleep 1000
  update_config 'c["linux"]["resources"]["memory"] = {"limit": 67108864}'
  update_config 'c["linux"]["resources"]["pids"] = {"limit": 50}'
  run_detached "$ID"
  run nook events --stats "$ID"
  assert_success
  assert_equal "$(stat .data.memory.usage.limit)" 67108864
  assert_equal "$(stat .data.pids.limit)" 50
}

@test "events --stats: a paused container has stats too" {
  setup_bundle sleep 1000
  run_detached "$ID"
  nook pause "$ID"
  run nook events --stats "$ID"
  assert_success
  assert_equal "$(stat .type)" stats
  nook resume "$ID"
}

@test "events: a stats line every interval until the container exits" {
  skip_for_peer "its stream ends when the cgroup is removed (delete), not when the container exits"
  setup_bundle sh -c 'while [ ! -e /out/go ]; do sleep 0.05; done; sleep 1.5'
  add_out_mount
  run_detached "$ID"
  touch "$OUTDIR/go"
  SECONDS=0
  run timeout 60 "$NOOK" --root "$NOOK_ROOT" events --interval 200ms "$ID"
  took=$SECONDS
  assert_success
  # The container lives ~1.5 s; the bound only tells "ended with it" from
  # "hangs", generously for a slow machine.
  [ "$took" -lt 30 ] || fail "events ran ${took}s"
  [ "${#lines[@]}" -ge 3 ] || fail "${#lines[@]} lines: $output"
  for l in "${lines[@]}"; do
    assert_equal "$(jq -r .type <<<"$l")" stats
    assert_equal "$(jq -r .id <<<"$l")" "$ID"
  done
}

@test "events: an OOM kill is reported" {
  # The shell itself grows past the limit, so the OOM killer picks it and
  # the container ends, which ends the stream.
  setup_bundle sh -c 'while [ ! -e /out/go ]; do sleep 0.05; done
    x=$(head -c 64m /dev/zero | tr "\0" a)
    echo survived >/out/survived
    sleep 1000'
  update_config 'c["linux"]["resources"]["memory"] = {"limit": 16777216, "swap": 16777216}'
  add_out_mount
  run_detached "$ID"
  "$NOOK" --root "$NOOK_ROOT" events --interval 10s "$ID" >"$BATS_TEST_TMPDIR/events" 2>&1 3>&- &
  BG_PIDS+=("$!")
  events_pid=$!
  # events takes its OOM baseline when it opens the cgroup's OOM notifier
  # (memory.events on v2, an eventfd on v1; runc: inotify): wait for that
  # fd, not a fixed time, or an OOM before the baseline goes unseen.
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    ls -l "/proc/$events_pid/fd" 2>/dev/null | grep -qE 'memory\.events|eventfd|inotify' && break
    sleep 0.05
  done
  touch "$OUTDIR/go"
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    grep -q '"type":"oom"' "$BATS_TEST_TMPDIR/events" && break
    sleep 0.05
  done
  run cat "$BATS_TEST_TMPDIR/events"
  assert_line "{\"type\":\"oom\",\"id\":\"$ID\"}"
  # runc's stream ends when the cgroup is removed (delete), not with the container
  is_peer_runtime && return 0
  # the stream ends with the container
  [ -e "$OUTDIR/survived" ] && nook kill "$ID" KILL
  wait_for_state "$ID" stopped
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    kill -0 "$events_pid" 2>/dev/null || break
    sleep 0.05
  done
  ! kill -0 "$events_pid" 2>/dev/null || fail "events still running after the container stopped"
  wait "$events_pid"
}

@test "events: a stopped container is an error" {
  setup_bundle true
  run_detached "$ID"
  wait_for_state "$ID" stopped
  run nook events --stats "$ID"
  assert_failure
  assert_output --partial "container with id $ID is not running"
  run nook events "$ID"
  assert_failure
}

@test "events: --interval must be a positive Go duration" {
  setup_bundle sleep 1000
  run_detached "$ID"
  run nook events --interval 0 "$ID"
  assert_failure
  assert_output --partial "duration interval must be greater than 0"
  run nook events --interval -1s "$ID"
  assert_failure
  run nook events --interval 5 "$ID"
  assert_failure
  assert_output --partial 'for flag -interval: parse error'
  run nook events --interval abc "$ID"
  assert_failure
  run nook events --interval 1m30s --stats "$ID"
  assert_success
}

@test "events: usage errors" {
  run nook events
  assert_failure
  assert_output --partial 'requires exactly 1 argument(s)'
  run nook events --stats "nonexistent-$ID"
  assert_failure
  assert_output --partial "does not exist"
}
