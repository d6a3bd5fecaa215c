#!/usr/bin/env bats
# A rootless container in a delegated cgroup v2 subtree (systemd's
# user@UID.service delegation, or one made by hand as here): every limit the
# user can write is applied and reads back; a controller the delegation
# lacks is skipped with a warning; pause, update, events and ps work.  Pure
# cgroup v2 only: tests/run-all runs this file in the cgroup v2 VM.

load helpers

setup() {
  rootless_setup
  local fs
  fs=$(stat -f -c %T /sys/fs/cgroup)
  # A hybrid or v1 host has no v2 controllers to delegate (runc and crun
  # delegate none on v1 either); the v2 pass of tests/run-all runs this file.
  [ "$fs" = cgroup2fs ] ||
    skip "needs pure cgroup v2 to delegate controllers, and /sys/fs/cgroup here is $fs (v1 or hybrid): tests/vm/run bats tests/rootless/cgroups.bats runs it"
  # OUTER (root's) passes memory, pids and cpu down; DELEG below it is the
  # user's: the directory and the files delegation hands over
  # (cgroup-v2.rst, "Delegation").  The runtime runs in DELEG/caller.
  OUTER=/sys/fs/cgroup/nook-test-rl-$ID
  DELEG=$OUTER/user
  mkdir "$OUTER" "$DELEG"
  echo "+memory +pids +cpu" >"$OUTER/cgroup.subtree_control"
  chown "$RL_UID:$RL_GID" "$DELEG" "$DELEG/cgroup.procs" "$DELEG/cgroup.subtree_control" "$DELEG/cgroup.threads"
  as_user mkdir "$DELEG/caller" || fail "the user cannot make a cgroup in its delegation"
}

HAND_MADE=()
teardown() {
  rootless_teardown
  local d top
  # deepest first; what a failed test left running in them is killed
  for top in ${OUTER:-} "${HAND_MADE[@]}"; do
    [ -d "$top" ] || continue
    for d in $(find "$top" -mindepth 1 -type d | sort -r) "$top"; do
      [ -e "$d/cgroup.kill" ] && echo 1 >"$d/cgroup.kill" 2>/dev/null
      rmdir "$d" 2>/dev/null || true
    done
  done
}

# The runtime as the user, started in DELEG/caller.
nook_deleg() {
  rl_cmd
  sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$DELEG/caller" \
    timeout --foreground -k 5 "$NOOK_CMD_TIMEOUT" "${RL_CMD[@]}" "$NOOK" --root "$NOOK_ROOT" "$@"
}

@test "rootless cgroup v2 delegation: limits applied and read back; an undelegated controller is a warning" {
  setup_bundle sleep 100
  update_config 'c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 50}, "cpu": {"quota": 50000, "period": 100000}, "blockIO": {"weight": 500}}'
  # (the container keeps the runtime's stdio: a file, not bats' pipe)
  nook_deleg run -d "$ID" </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- ||
    fail "run: $(cat "$BATS_TEST_TMPDIR/run.out")"
  run cat "$BATS_TEST_TMPDIR/run.out"
  local cg=$DELEG/$ID
  [ -d "$cg" ] || fail "no cgroup $cg"
  assert_equal "$(stat -c %u "$cg")" "$RL_UID"
  # the one warning: io is not in the delegation
  assert_output --partial "level=warning msg=\"linux.resources.blockIO: not applied: running rootless, and the io controller is not enabled for \`$cg\`"
  assert_equal "$(grep -c level=warning <<<"$output")" 1
  assert_equal "$(cat "$cg/memory.max")" 67108864
  assert_equal "$(cat "$cg/pids.max")" 50
  assert_equal "$(cat "$cg/cpu.max")" "50000 100000"
  local pid
  pid=$(state_field "$ID" pid)
  assert_equal "$(cat "/proc/$pid/cgroup")" "0::${cg#/sys/fs/cgroup}"
}

@test "rootless cgroup v2 delegation: update, pause, resume, events, ps, exec and delete" {
  setup_bundle sleep 100
  update_config 'c["linux"]["resources"] = {"memory": {"limit": 67108864}}'
  nook_deleg run -d "$ID" </dev/null >"$BATS_TEST_TMPDIR/run.out" 2>&1 3>&- || fail "run: $(cat "$BATS_TEST_TMPDIR/run.out")"
  local cg=$DELEG/$ID
  run nook update --memory 134217728 --pids-limit 20 "$ID"
  assert_success
  assert_equal "$(cat "$cg/memory.max")" 134217728
  assert_equal "$(cat "$cg/pids.max")" 20
  run nook pause "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" paused
  assert_equal "$(grep frozen "$cg/cgroup.events")" "frozen 1"
  run nook resume "$ID"
  assert_success
  assert_equal "$(state_field "$ID" status)" running
  run nook events --stats "$ID"
  assert_success
  assert_equal "$(jq -r .type <<<"$output")" stats
  [ "$(jq -r .data.memory.usage.usage <<<"$output")" -gt 0 ]
  nook_deleg exec -d "$ID" sleep 200
  run nook ps --format json "$ID"
  assert_equal "$(jq length <<<"$output")" 2
  # from outside the delegation the exec cannot join: said so
  run nook exec "$ID" true
  assert_failure
  assert_output --partial "join the container's cgroup (rootless: exec from a cgroup inside the subtree delegated to the user)"
  run nook_deleg exec "$ID" sh -c 'cat /proc/self/cgroup'
  assert_success
  assert_output "0::/"
  run nook delete --force "$ID"
  assert_success
  [ ! -e "$cg" ]
}

@test "rootless cgroup v2: a cgroupsPath outside the delegation means no cgroup, with warnings" {
  setup_bundle sh -c 'cat /proc/self/cgroup'
  update_config "c['linux']['cgroupsPath'] = '/nook-test-rl-outside-$ID'
c['linux']['resources'] = {'pids': {'limit': 50}}
ns_remove('cgroup')"
  run nook_deleg run "$ID"
  assert_success
  assert_output --partial "level=warning msg=\"linux.resources.pids: not applied: running rootless without a cgroup ("
  assert_output --partial "/sys/fs/cgroup/nook-test-rl-outside-$ID"
  # it stays where the runtime was
  assert_line "0::${DELEG#/sys/fs/cgroup}/caller"
  [ ! -e "/sys/fs/cgroup/nook-test-rl-outside-$ID" ]
}

@test "rootless cgroup v2: a directory the user owns outside its own subtree cannot be joined: removed, warned" {
  # the user may make cgroups there, but moving its process in needs the
  # cgroup.procs of the common ancestor (the root's)
  local own=/sys/fs/cgroup/nook-test-rl-own-$ID
  mkdir "$own"
  chown "$RL_UID:$RL_GID" "$own" "$own/cgroup.procs"
  setup_bundle sh -c 'cat /proc/self/cgroup'
  update_config "c['linux']['cgroupsPath'] = '${own#/sys/fs/cgroup}/ctr'
c['linux']['resources'] = {'pids': {'limit': 50}}
ns_remove('cgroup')"
  HAND_MADE+=("$own")
  run nook run "$ID"
  assert_success
  assert_output --partial 'level=warning msg="linux.resources.pids: not applied: running rootless, and the container could not join its cgroup ('
  assert_equal "$(grep -c level=warning <<<"$output")" 1
  # it stays where the runtime was
  assert_line "0::/"
  # what it made there is gone again
  [ ! -e "$own/ctr" ]
}
