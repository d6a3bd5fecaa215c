# Helpers of the nook job suites (job.bats, job_teardown.bats).
#
# Each test's job is named $ID (--name), so its cgroup ends in /$ID and its
# state is $NOOK_ROOT/$ID; its processes carry NOOK_JOB_TOKEN=$JOB_TOKEN in
# their environment (job_env), so the host's process table can be searched
# for them whatever cgroup they ended up in.

# A private token per test, in the job's environment.
job_setup() {
  JOB_TOKEN="nookjob-$ID-$RANDOM$RANDOM"
  JOB_ROOTFS=$BUNDLE/rootfs
  OUT=$BATS_TEST_TMPDIR/out
  mkdir -p "$OUT"
  chmod 0777 "$OUT"
}

# job [OPTIONS...] [-- CMD...]: `nook job --name $ID` with the token, through
# the nook wrapper (private --root, a time limit).
job() {
  nook job --name "$ID" --env "NOOK_JOB_TOKEN=$JOB_TOKEN" "$@"
}

# job_bg [OPTIONS...] [-- CMD...]: the same in the background, without the
# timeout wrapper (a signal the test sends reaches nook itself); JOB_PID is
# nook's pid, its exit status is collected with job_wait.
job_bg() {
  "$NOOK" --root "$NOOK_ROOT" job --name "$ID" --env "NOOK_JOB_TOKEN=$JOB_TOKEN" "$@" \
    </dev/null >"$BATS_TEST_TMPDIR/job.out" 2>&1 3>&- &
  JOB_PID=$!
  BG_PIDS+=("$JOB_PID")
}

# job_wait: wait for job_bg's nook (bounded) and set JOB_STATUS.
job_wait() {
  local end=$((SECONDS + NOOK_WAIT_TIMEOUT))
  while kill -0 "$JOB_PID" 2>/dev/null; do
    [ "$SECONDS" -lt "$end" ] || fail "nook job $JOB_PID still running after ${NOOK_WAIT_TIMEOUT}s"
    sleep 0.05
  done
  JOB_STATUS=0
  wait "$JOB_PID" || JOB_STATUS=$?
}

# A job that leaves behind what a CI build leaves: a double-forked daemon,
# a setsid grandchild, a process that ignores TERM; it reports each one's
# start in /out, then waits.
ESCAPERS='
sh -c "sh -c \"trap \\\"\\\" TERM HUP INT; touch /out/daemon; exec sleep 1000\" &" &
setsid sh -c "touch /out/setsid; exec sleep 1000" &
sh -c "trap \"\" TERM; touch /out/ignores-term; while :; do sleep 1; done" &
while [ ! -e /out/daemon ] || [ ! -e /out/setsid ] || [ ! -e /out/ignores-term ]; do sleep 0.05; done
echo ready > /out/ready
wait'

# Host pids whose environment holds this test's token (one grep over the
# whole process table: a fork per process would take seconds).
job_token_pids() {
  grep -lzxF "NOOK_JOB_TOKEN=$JOB_TOKEN" /proc/[0-9]*/environ 2>/dev/null |
    sed -E 's|^/proc/([0-9]+)/environ$|\1|' || true
}

# Cgroup directories of the job, in every hierarchy.
job_cgroups() {
  find /sys/fs/cgroup -maxdepth 8 -type d -name "$ID" 2>/dev/null || true
}

# Nothing of job $ID remains: no process (by token, and none in a cgroup
# named after it), no cgroup directory, no mount naming it, its rootfs or
# the state root, no state.
assert_job_gone() {
  local pids cgs p
  pids=$(job_token_pids)
  [ -z "$pids" ] || fail "processes of job $ID left: $(for p in $pids; do tr '\0' ' ' <"/proc/$p/cmdline"; echo; done)"
  p=$(grep -ls "/$ID\$" /proc/[0-9]*/cgroup || true)
  [ -z "$p" ] || fail "processes in a cgroup of job $ID: $p"
  # pasta or a nook of this test's state root (the bracket keeps grep's
  # own command line from matching)
  p=$(grep -ls "[${NOOK_ROOT:0:1}]${NOOK_ROOT:1}" /proc/[0-9]*/cmdline || true)
  [ -z "$p" ] || fail "processes naming the state root left: $p"
  cgs=$(job_cgroups)
  [ -z "$cgs" ] || fail "cgroups of job $ID left: $cgs"
  if grep -F -e "/$ID" -e "$NOOK_ROOT" /proc/self/mountinfo; then
    fail "mounts of job $ID left"
  fi
  [ ! -e "$NOOK_ROOT/$ID" ] || fail "state of job $ID left: $(ls -la "$NOOK_ROOT/$ID")"
  run nook list -q
  assert_success
  assert_output ""
}

# report_field FILE JQ: one field of a report.
report_field() {
  jq -r "$2" "$1"
}
