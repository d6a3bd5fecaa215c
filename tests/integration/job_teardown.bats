#!/usr/bin/env bats
# nook job's teardown through its cgroup (issue #17): what the job left
# (a daemon outside its pid namespace, a fork bomb, an OOM kill) dies with
# the cgroup's kill, and the report's figures follow the workload.  Also
# run in the cgroup v2 VM pass (tests/run-all), where the kill is the pure
# v2 manager's cgroup.kill and the figures memory.peak, pids.peak and
# memory.events; each test costs 13-33 s under TCG there, so this file
# holds only those (the timeout and the cancels: job_cancel.bats).

load helpers
load job_helpers

setup() {
  nook_setup
  skip_for_peer "nook job is nook's own command"
  setup_bundle
  job_setup
}

teardown() {
  nook_teardown
}

@test "job: the init exiting ends the job: a daemon it left outside a pid namespace is killed too" {
  # No pid namespace: nothing but the cgroup takes the daemon along.
  update_config "ns_remove('pid')"
  run job --bundle "$BUNDLE" --bind "$OUT:/out" --report "$OUT/r.json" -- sh -c '
sh -c "sh -c \"trap \\\"\\\" TERM; touch /out/daemon; exec sleep 1000\" &" &
while [ ! -e /out/daemon ]; do sleep 0.05; done
exit 5'
  assert_failure 5
  assert_equal "$(report_field "$OUT/r.json" .reason)" exited
  assert_job_gone
}

@test "job --pids with --timeout: a fork bomb is bounded and torn down" {
  # Every bomb forks in a loop; a fork refused at the limit ends that shell,
  # which frees a slot for another: the cgroup stays full until the kill.
  run job --rootfs "$JOB_ROOTFS" --pids 48 --timeout 3 --kill-after 0.5 --report "$OUT/r.json" -- \
    sh -c 'exec 2>/dev/null; bomb() { while :; do bomb & done; }; (bomb &); exec sleep 1000'
  assert_failure 124
  # pids.peak: Linux 6.1 and later (null on older kernels)
  run jq -e "(.pids_peak // 48) == 48" "$OUT/r.json"
  assert_success
  assert_equal "$(report_field "$OUT/r.json" .limits.pids)" 48
  assert_job_gone
}

@test "job: an OOM-killed job exits 137 with reason oom" {
  run job --rootfs "$JOB_ROOTFS" --memory 32m --memory-swap 32m --report "$OUT/r.json" -- \
    dd if=/dev/zero of=/dev/null bs=100M count=1
  assert_failure 137
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status, .signal] | @tsv')" \
    "$(printf 'oom\t137\tSIGKILL')"
  run jq -e '.oom_kill >= 1 and .memory_peak_bytes <= 33554432 and .limits.memory_bytes == 33554432' "$OUT/r.json"
  assert_success
  assert_job_gone
}

@test "job --report: the figures follow the workload" {
  # 64 MiB touched at once (dd's buffer): the peak is at least that.
  run job --rootfs "$JOB_ROOTFS" --report "$OUT/mem.json" -- dd if=/dev/zero of=/dev/null bs=64M count=1
  assert_success
  run jq -e '.memory_peak_bytes >= 67108864' "$OUT/mem.json"
  assert_success || fail "memory_peak_bytes: $(jq .memory_peak_bytes "$OUT/mem.json")"

  # CPU-bound until the kernel counted 1 s of cpu for the process (its own
  # /proc/PID/stat, 100 ticks): the cgroup's figure is that second plus the
  # shell's start and last rounds, and never more than the wall time.  (On
  # a quiet machine the two are about the same: 1.51 s of cpu in 1.54 s in
  # the v2 VM; on a loaded host the wall time is longer, which is why the
  # bound below is the process's own count.)
  run job --rootfs "$JOB_ROOTFS" --report "$OUT/cpu.json" -- sh -c '
t=0
while [ $t -lt 100 ]; do
  i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done
  read -r l < /proc/$$/stat; set -- $l; t=$((${14} + ${15}))
done'
  assert_success
  run jq -e '(.cpu_user_seconds + .cpu_system_seconds) as $cpu |
    $cpu >= 0.95 and $cpu <= 3 and $cpu <= .wall_seconds + 0.05' "$OUT/cpu.json"
  assert_success || fail "$(jq -c '{wall_seconds, cpu_user_seconds, cpu_system_seconds}' "$OUT/cpu.json")"

  # Idle for 2 s: little cpu.
  run job --rootfs "$JOB_ROOTFS" --report "$OUT/idle.json" -- sleep 2
  assert_success
  run jq -e '(.cpu_user_seconds + .cpu_system_seconds) < 0.2 * .wall_seconds and .wall_seconds >= 2' "$OUT/idle.json"
  assert_success || fail "$(jq -c '{wall_seconds, cpu_user_seconds, cpu_system_seconds}' "$OUT/idle.json")"

  # Figures this host has are numbers; pids_peak counts the processes.
  run job --rootfs "$JOB_ROOTFS" --report "$OUT/pids.json" -- sh -c 'sleep 1 & sleep 1 & sleep 1 & wait'
  assert_success
  run jq -e '.pids_peak == null or .pids_peak >= 4' "$OUT/pids.json"
  assert_success
  run jq -e '[.cpu_user_seconds, .cpu_system_seconds, .memory_peak_bytes, .oom_kill] | all(type == "number")' "$OUT/pids.json"
  assert_success
  assert_job_gone
}
