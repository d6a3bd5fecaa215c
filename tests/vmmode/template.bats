#!/usr/bin/env bats
# VM templates (vmm/template.h): the first VM of a machine is saved where
# its guest init parks, later ones are restored from it; each restored copy
# gets the host's clock and fresh entropy; only our own private templates
# are loaded, and a broken one costs a boot, not the container.

load helpers

setup_file() {
  own_templates
}

setup() {
  setup_vm_bundle
  rm -rf "$NOOK_VM_TEMPLATES"
}

teardown() {
  delete_all
}

# vm_run ID: `run` the bundle's container with a debug log at $BATS_TEST_TMPDIR/ID.log.
vm_run() {
  run "$NOOK" --root "$ROOT" --debug --log "$BATS_TEST_TMPDIR/$1.log" run --bundle "$B" "$1"
}

# the_template: the one template file there is.
the_template() {
  local t
  t=$(find "$NOOK_VM_TEMPLATES" -maxdepth 1 -name 'template-*')
  [ "$(wc -l <<<"$t")" -eq 1 ] && [ -n "$t" ] || fail "templates: '$t'"
  echo "$t"
}

@test "templates: the first VM is saved, the next are restored, each with the host's clock and its own entropy" {
  vm_config '.process.args = ["sh", "-c", "date +%s; head -c 16 /dev/urandom | od -An -tx1 | tr -d \" \\n\"; echo; cat /proc/sys/kernel/random/boot_id"]'
  vm_run first
  assert_success
  grep -q 'vm: template [0-9a-f]* saved' "$BATS_TEST_TMPDIR/first.log" ||
    fail "no template saved: $(grep 'vm:' "$BATS_TEST_TMPDIR/first.log")"
  local t
  t=$(the_template)
  [ "$(stat -c %a "$t")" = 600 ] || fail "mode $(stat -c %a "$t")"
  [ "$(stat -c %a "$NOOK_VM_TEMPLATES")" = 700 ] || fail "directory mode"
  # Restored copies would otherwise read the clock the template was saved with.
  sleep 3
  local before after i
  for i in 1 2; do
    before=$(date +%s)
    vm_run "r$i"
    after=$(date +%s)
    assert_success
    grep -q 'vm: restoring template' "$BATS_TEST_TMPDIR/r$i.log" || fail "r$i was not restored"
    [ "${lines[0]}" -ge "$before" ] && [ "${lines[0]}" -le "$after" ] ||
      fail "r$i: guest clock ${lines[0]}, host $before..$after"
    eval "rand$i=${lines[1]} boot$i=${lines[2]}"
  done
  [ ${#rand1} -eq 32 ] || fail "random bytes: '$rand1'"
  [ "$rand1" != "$rand2" ] || fail "two restored VMs read the same random bytes $rand1"
  [ "$boot1" != "$boot2" ] || fail "two restored VMs have one boot id $boot1"
}

@test "templates: only our own private saved machines are loaded; a bad one costs a boot and is replaced" {
  vm_config '.process.args = ["true"]'
  vm_run make
  assert_success
  local t
  t=$(the_template)
  chmod 0620 "$t"
  vm_run writable
  assert_success
  grep -q "writable by other users: not used" "$BATS_TEST_TMPDIR/writable.log" ||
    fail "$(grep 'vm:' "$BATS_TEST_TMPDIR/writable.log")"
  ! grep -q 'vm: restoring template' "$BATS_TEST_TMPDIR/writable.log" || fail "restored from it"
  # The boot saved a good one in its place.
  [ "$(stat -c %a "$t")" = 600 ] || fail "not replaced: mode $(stat -c %a "$t")"

  chown 1:1 "$t"
  vm_run foreign
  assert_success
  grep -q "owned by another user: not used" "$BATS_TEST_TMPDIR/foreign.log" ||
    fail "$(grep 'vm:' "$BATS_TEST_TMPDIR/foreign.log")"
  [ "$(stat -c %u "$t")" = 0 ] || fail "not replaced"

  # A truncated stream passes the checks and fails to load: QEMU ends, the
  # VM boots instead, and its template replaces the broken one.
  truncate -s 1M "$t"
  vm_run broken
  assert_success
  grep -q "booting instead" "$BATS_TEST_TMPDIR/broken.log" ||
    fail "$(grep 'vm:' "$BATS_TEST_TMPDIR/broken.log")"
  [ "$(stat -c %s "$t")" -gt 1048576 ] || fail "not replaced"
  vm_run after
  assert_success
  grep -q 'vm: restoring template' "$BATS_TEST_TMPDIR/after.log" || fail "not restored after"
  ! grep -q "booting instead" "$BATS_TEST_TMPDIR/after.log" || fail "the new one did not load"
}

@test "templates: nook.vm.template=false boots without one; another value is refused, naming it" {
  vm_config '.process.args = ["true"] | .annotations["nook.vm.template"] = "false"'
  vm_run off
  assert_success
  ! grep -q 'template' "$BATS_TEST_TMPDIR/off.log" || fail "$(grep template "$BATS_TEST_TMPDIR/off.log")"
  [ ! -e "$NOOK_VM_TEMPLATES" ] || fail "$(ls -la "$NOOK_VM_TEMPLATES")"

  vm_config '.annotations["nook.vm.template"] = "sometimes"'
  run "$NOOK" --root "$ROOT" run --bundle "$B" bad
  assert_failure
  assert_output --partial 'annotations["nook.vm.template"]: "sometimes": must be "true" or "false"'
  run "$NOOK" --root "$ROOT" list -q
  assert_output ""
}

@test "templates: two first VMs at once both run; one template is left, no temporary file" {
  vm_config '.process.args = ["true"]'
  "$NOOK" --root "$ROOT" run --bundle "$B" one &
  local p1=$! rc1=0 rc2=0
  "$NOOK" --root "$ROOT" run --bundle "$B" two || rc2=$?
  wait "$p1" || rc1=$?
  [ "$rc1" -eq 0 ] && [ "$rc2" -eq 0 ] || fail "exit statuses $rc1 and $rc2"
  [ "$(find "$NOOK_VM_TEMPLATES" -mindepth 1 | wc -l)" -eq 1 ] ||
    fail "$(ls -la "$NOOK_VM_TEMPLATES")"
  the_template >/dev/null
}
