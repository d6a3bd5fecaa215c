#!/usr/bin/env bats
# nook job --vm (issue #17): one job in a microVM (slow under TCG: one
# test).  The job's timeout, the grace's kill of the VMM's cgroup and the
# teardown: nothing of the VM is left.

load helpers

setup_file() {
  kernel_bundle
}

setup() {
  setup_vm_bundle
}

teardown() {
  delete_all
}

@test "job --vm: the job runs in the VM; on timeout the VM goes, the report says timeout" {
  run timeout -k 5 600 "$NOOK" --root "$ROOT" job --vm --name vmjob --rootfs "$B/rootfs" \
    --timeout 5 --kill-after 2 --report "$BATS_TEST_TMPDIR/r.json" -- \
    sh -c 'echo "in-vm $(uname -r)"; exec sleep 1000'
  assert_failure 124
  assert_output --regexp '^in-vm [0-9]'
  refute_output --partial "$(uname -r)"
  run jq -r '[.reason, .exit_status, .cpu_user_seconds, .limits.timeout_seconds] | @tsv' "$BATS_TEST_TMPDIR/r.json"
  assert_output "$(printf 'timeout\t124\t\t5')"
  run "$NOOK" --root "$ROOT" list -q
  assert_output ""
  run find /sys/fs/cgroup -maxdepth 8 -type d -name vmjob
  assert_output ""
  run grep -ls "[${ROOT:0:1}]${ROOT:1}/vmjob" /proc/[0-9]*/cmdline
  assert_output ""
}
