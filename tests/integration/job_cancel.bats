#!/usr/bin/env bats
# nook job ended from outside (issue #17): its timeout, the runner's cancel
# (SIGINT, SIGTERM, during the set-up), nook job itself killed, and the v1
# kill on a host without its unified hierarchy.  Nothing of the job
# survives: its init's death takes the pid namespace along, whatever the
# cgroup layout.  Host only: the cgroup v2 VM pass runs job_teardown.bats,
# the tests whose kill or figures are the cgroup's.

load helpers
load job_helpers

setup() {
  nook_setup
  skip_for_peer "nook job is nook's own command"
  setup_bundle
  job_setup
}

# A cgroup a test made by hand (thawed and removed after the runtime's
# cleanup).
HAND_MADE_CGROUP=
teardown() {
  if [ -n "$HAND_MADE_CGROUP" ]; then echo THAWED >"$HAND_MADE_CGROUP/freezer.state" || true; fi
  nook_teardown
  if [ -n "$HAND_MADE_CGROUP" ]; then rmdir "$HAND_MADE_CGROUP" || true; fi
}

# job_v1 [OPTIONS...] [-- CMD...]: job on this hybrid host as on a v1 host:
# its unified hierarchy unmounted in a private mount namespace only (as
# bench/run does for crun).  Skips where there is no unified hierarchy
# beside v1.
job_v1() {
  mountpoint -q /sys/fs/cgroup/unified ||
    skip "no cgroup v2 hierarchy beside v1 here (pure v2 or pure v1): cgroup.kill or the v1 path is the only one"
  unshare -m --propagation private sh -c 'umount /sys/fs/cgroup/unified && exec "$@"' sh \
    timeout -k 5 "$NOOK_CMD_TIMEOUT" "$NOOK" --root "$NOOK_ROOT" job --name "$ID" --env "NOOK_JOB_TOKEN=$JOB_TOKEN" "$@"
}

@test "job --timeout: a double-forked daemon, a setsid grandchild and a TERM-ignoring process all die" {
  run job --rootfs "$JOB_ROOTFS" --bind "$OUT:/out" --timeout 3 --kill-after 1 \
    --report "$OUT/r.json" -- sh -c "$ESCAPERS"
  assert_failure 124
  [ -e "$OUT/ready" ] || fail "the job's processes never all started: $(ls "$OUT")"
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status] | @tsv')" "$(printf 'timeout\t124')"
  assert_job_gone
}

@test "job on cgroup v1 alone: a fork bomb is torn down by the v1 kill (freezer, SIGKILL sweep, thaw)" {
  # (The sweep alone also wins against this bomb here: the test holds the
  # v1 path, not the freeze's edge over the sweep.)
  run job_v1 --rootfs "$JOB_ROOTFS" --pids 48 --timeout 2 --kill-after 0.5 --report "$OUT/r.json" -- \
    sh -c 'exec 2>/dev/null; bomb() { while :; do bomb & done; }; (bomb &); exec sleep 1000'
  assert_failure 124
  assert_equal "$(report_field "$OUT/r.json" .reason)" timeout
  assert_job_gone
}

@test "job on cgroup v1 alone: the kill of a cgroup its init emptied leaves the freezer thawed" {
  # nook job kills the job's cgroup after every job; the v1 kill freezes
  # first.  A cgroup nook did not make outlives the job: left FROZEN, the
  # next process put in it would never run.
  local freezer
  freezer=$(awk '$3 == "cgroup" && $4 ~ /(^|,)freezer(,|$)/ { print $2; exit }' /proc/mounts)
  [ -n "$freezer" ] || skip "no v1 freezer hierarchy here"
  HAND_MADE_CGROUP=$freezer/nook-test-$ID-v1
  mkdir "$HAND_MADE_CGROUP"
  update_config "c['linux']['cgroupsPath'] = '/nook-test-$ID-v1'"
  run job_v1 --bundle "$BUNDLE" -- true
  assert_success
  assert_equal "$(cat "$HAND_MADE_CGROUP/freezer.state")" THAWED
  assert_equal "$(cat "$HAND_MADE_CGROUP/cgroup.procs")" ""
  assert_job_gone
}

@test "job cancelled by SIGINT: forwarded to the job, which ends on its own within the grace" {
  job_bg --rootfs "$JOB_ROOTFS" --bind "$OUT:/out" --kill-after 60 --report "$OUT/r.json" -- \
    sh -c 'trap "echo got-INT >/out/int; exit 3" INT; echo ready > /out/ready; while :; do sleep 0.1; done'
  wait_for_file "$OUT/ready"
  kill -INT "$JOB_PID"
  job_wait
  assert_equal "$JOB_STATUS" 3
  assert_equal "$(cat "$OUT/int")" got-INT
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status, .cancelled_by] | @tsv')" \
    "$(printf 'exited\t3\tSIGINT')"
  assert_job_gone
}

@test "job cancelled by SIGTERM: a job that ignores it is killed after the grace, with everything it started" {
  job_bg --rootfs "$JOB_ROOTFS" --bind "$OUT:/out" --kill-after 1 --report "$OUT/r.json" -- \
    sh -c "trap '' TERM; $ESCAPERS"
  wait_for_file "$OUT/ready"
  kill -TERM "$JOB_PID"
  job_wait
  assert_equal "$JOB_STATUS" 137
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .signal, .cancelled_by] | @tsv')" \
    "$(printf 'signaled\tSIGKILL\tSIGTERM')"
  # The grace was given: at least 1 s between the cancel and the end.
  run jq -e '.wall_seconds >= 1' "$OUT/r.json"
  assert_success
  assert_job_gone
}

@test "job cancelled during its set-up: never started, 128+N, reason signaled" {
  # A prestart hook (on the host, during the create) holds the set-up.
  update_config "c['hooks'] = {'prestart': [{'path': '/bin/sh', 'args': ['sh', '-c', 'echo hook > $OUT/hook; sleep 2']}]}"
  job_bg --bundle "$BUNDLE" --bind "$OUT:/out" --report "$OUT/r.json" -- sh -c 'echo ran > /out/ran'
  wait_for_file "$OUT/hook"
  kill -TERM "$JOB_PID"
  job_wait
  assert_equal "$JOB_STATUS" 143
  [ ! -e "$OUT/ran" ] || fail "the job ran"
  assert_equal "$(report_field "$OUT/r.json" '[.reason, .exit_status, .cancelled_by, .wall_seconds] | @tsv')" \
    "$(printf 'signaled\t143\tSIGTERM\t')"
  assert_job_gone
}

@test "job: nook job killed by SIGKILL takes its job along; delete --force cleans what is left" {
  job_bg --rootfs "$JOB_ROOTFS" --bind "$OUT:/out" -- sh -c "$ESCAPERS"
  wait_for_file "$OUT/ready"
  [ -n "$(job_token_pids)" ] || fail "the job's processes are not visible"
  kill -KILL "$JOB_PID"
  job_wait
  assert_equal "$JOB_STATUS" 137
  # Its init got the death signal: every process of the pid namespace goes.
  local end=$((SECONDS + NOOK_WAIT_TIMEOUT))
  while [ -n "$(job_token_pids)" ]; do
    [ "$SECONDS" -lt "$end" ] || fail "job processes still alive: $(job_token_pids)"
    sleep 0.05
  done
  # What is left is a stopped container that delete --force removes.
  run nook list
  assert_line --regexp "^$ID +0 +stopped "
  run nook delete --force "$ID"
  assert_success
  assert_job_gone
}
