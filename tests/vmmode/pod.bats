#!/usr/bin/env bats
# A pod in VM mode (vmm/pod.h): a sandbox container in its VM and a member
# that joins the sandbox's namespaces by /proc/PID/ns paths, as the CRI
# plugin and podman write them: the member runs in the sandbox's VM, in its
# ipc, uts and network namespaces, with its own rootfs and mount namespace;
# its pid is a host process that ends as its init ended.

load helpers

setup_file() {
  kernel_bundle
  own_templates
}

setup() {
  setup_vm_bundle
  vm_config '.hostname = "podhost" | .process.args = ["sleep", "1000"]'
  M=$BATS_TEST_TMPDIR/member
  "$REPO_ROOT/scripts/mkbundle.sh" "$M" >/dev/null
}

teardown() {
  delete_all
}

# member_config SANDBOX_PID JQ: the member's config joining the sandbox's
# ipc, uts and network namespaces, then JQ.
member_config() {
  jq --arg p "/proc/$1/ns" "del(.hostname) | .annotations[\"nook.vm\"] = \"qemu\" |
      .linux.namespaces |= map(if .type == \"ipc\" then .path = \$p + \"/ipc\"
        elif .type == \"uts\" then .path = \$p + \"/uts\"
        elif .type == \"network\" then .path = \$p + \"/net\" else . end) | $2" \
    "$M/config.json" >"$M/c" && mv "$M/c" "$M/config.json"
}

@test "pod: a member runs in its sandbox's VM, in its ipc, uts and network namespaces; its pid ends with it; delete unmounts its share" {
  need_qemu
  nook run -d --bundle "$B" sb </dev/null >/dev/null
  local spid qemu
  spid=$(nook state sb | jq -r .pid)
  qemu=$(pgrep -P "$spid" -f qemu-system-x86_64)
  member_config "$spid" '.process.args = ["sh", "-c",
      "echo host=$(hostname); echo ipc=$(readlink /proc/self/ns/ipc); echo net=$(readlink /proc/self/ns/net); echo mnt=$(readlink /proc/self/ns/mnt); test -e /etc/member-only || echo own-rootfs-missing; exit 7"]'
  touch "$M/rootfs/etc/member-only"
  local out=$BATS_TEST_TMPDIR/m1.out
  nook create --bundle "$M" m1 </dev/null >"$out" 2>&1 || fail "create m1: $(cat "$out")"
  # No VM of its own: one QEMU for the pod.
  [ "$(pgrep -c -f qemu-system-x86_64 -P "$spid")" = 1 ]
  run nook state m1
  assert_success
  [ "$(jq -r .status <<<"$output")" = created ] || fail "m1 is not created: $output"
  local mpid
  mpid=$(jq -r .pid <<<"$output")
  # Its share is mounted in the VMM's mount namespace.
  grep -q "/members/m1 " "/proc/$qemu/mountinfo" || fail "no members/m1 mount for QEMU"
  nook start m1
  wait_gone "$mpid"
  [ "$(nook state m1 | jq -r .status)" = stopped ]
  # The sandbox's namespaces, seen from inside the sandbox.
  local sb_ipc sb_net sb_mnt
  sb_ipc=$(nook exec sb readlink /proc/self/ns/ipc)
  sb_net=$(nook exec sb readlink /proc/self/ns/net)
  sb_mnt=$(nook exec sb readlink /proc/self/ns/mnt)
  run cat "$out"
  assert_line host=podhost
  assert_line "ipc=$sb_ipc"
  assert_line "net=$sb_net"
  refute_line "mnt=$sb_mnt"
  refute_line own-rootfs-missing
  nook delete m1
  ! grep -q "/members/m1 " "/proc/$qemu/mountinfo" || fail "members/m1 is still mounted for QEMU"
  [ ! -e "$ROOT/m1" ] || fail "m1's state is left"
  # Another member from the same host directories, after the first's
  # delete (the guest's 9p cache must not hold the first's on to them).
  member_config "$spid" '.process.args = ["sh", "-c", "test -e /etc/member-only && echo again"]'
  nook create --bundle "$M" m3 </dev/null >"$out" 2>&1 || fail "create m3: $(cat "$out")"
  mpid=$(nook state m3 | jq -r .pid)
  nook start m3
  wait_gone "$mpid"
  run cat "$out"
  assert_output again
  nook delete m3
  # The sandbox runs on.
  [ "$(nook state sb | jq -r .status)" = running ]
  nook delete --force sb
  assert_nothing_left
}

@test "pod: a member whose namespace paths name no VM-mode sandbox is refused, naming the field; one the guest cannot create leaves nothing" {
  need_qemu
  # A process that is no VM-mode container of this root: the old refusal.
  member_config $$ '.'
  run -1 nook create --bundle "$M" m2
  assert_output --partial "linux.namespaces["
  assert_output --partial "VM mode cannot join the host's ipc namespace \`/proc/$$/ns/ipc\`"
  [ ! -e "$ROOT/m2" ] || fail "m2's state is left"
  # A member the guest's nook cannot create: its error, nothing left of it.
  nook run -d --bundle "$B" sb </dev/null >/dev/null
  local spid qemu
  spid=$(nook state sb | jq -r .pid)
  qemu=$(pgrep -P "$spid" -f qemu-system-x86_64)
  member_config "$spid" '.process.args = ["/no/such/program"]'
  run -1 nook create --bundle "$M" m3 </dev/null
  assert_output --partial "/no/such/program"
  [ ! -e "$ROOT/m3" ] || fail "m3's state is left"
  ! grep -q "/members/m3 " "/proc/$qemu/mountinfo" || fail "members/m3 is still mounted for QEMU"
  # One the host fails after the guest made it (a createRuntime hook): out
  # of the guest again, so the id is free there.
  member_config "$spid" '.process.args = ["true"] | .hooks.createRuntime = [{"path": "/bin/false"}]'
  run -1 nook create --bundle "$M" m4 </dev/null
  assert_output --partial createRuntime
  [ ! -e "$ROOT/m4" ] || fail "m4's state is left"
  ! grep -q "/members/m4 " "/proc/$qemu/mountinfo" || fail "members/m4 is still mounted for QEMU"
  member_config "$spid" 'del(.hooks)'
  nook create --bundle "$M" m4 </dev/null >/dev/null 2>&1 || fail "m4 again: the guest kept the first"
  nook delete --force m4
  [ "$(nook state sb | jq -r .status)" = running ]
}

@test "pod: exec, ps, events --stats, pause, resume and kill of a running member act on it in the VM; the sandbox's delete --force ends its members, whose delete leaves nothing" {
  need_qemu
  nook run -d --bundle "$B" sb </dev/null >/dev/null
  local spid mpid
  spid=$(nook state sb | jq -r .pid)
  member_config "$spid" '.process.args = ["sleep", "1000"]'
  touch "$M/rootfs/etc/member-only"
  nook create --bundle "$M" m1 </dev/null >/dev/null 2>&1
  nook start m1
  [ "$(nook state m1 | jq -r .status)" = running ]
  # exec joins the member, not the sandbox: its rootfs, the pod's hostname.
  run nook exec m1 sh -c 'test -e /etc/member-only && echo member-rootfs; hostname'
  assert_success
  assert_line member-rootfs
  assert_line podhost
  run nook exec sb sh -c 'test -e /etc/member-only || echo sandbox-rootfs'
  assert_output sandbox-rootfs
  run nook ps -f json m1
  assert_success
  [ "$(jq length <<<"$output")" = 1 ] || fail "the member's processes: $output"
  # Its figures are its own cgroup's in the guest, not the sandbox's.
  nook exec -d m1 sleep 300
  nook exec -d m1 sleep 300
  run nook events --stats m1
  assert_success
  [ "$(jq -r '.id, .data.pids.current' <<<"$output" | tr '\n' ' ')" = "m1 3 " ] ||
    fail "m1's stats: $output"
  run nook events --stats sb
  [ "$(jq -r .data.pids.current <<<"$output")" = 1 ] || fail "sb's stats: $output"
  mpid=$(nook state m1 | jq -r .pid)
  # pause freezes the member alone: the sandbox runs on.
  nook pause m1
  [ "$(nook state m1 | jq -r .status)" = paused ]
  [ "$(nook state sb | jq -r .status)" = running ]
  run nook exec m1 true
  assert_failure
  assert_output --partial "paused"
  nook resume m1
  [ "$(nook state m1 | jq -r .status)" = running ]
  nook kill m1 KILL
  wait_gone "$mpid"
  [ "$(nook state m1 | jq -r .status)" = stopped ]
  nook delete m1
  # A member still running when its sandbox goes goes with it.
  local M2=$BATS_TEST_TMPDIR/member2
  "$REPO_ROOT/scripts/mkbundle.sh" "$M2" >/dev/null
  cp "$M/config.json" "$M2/config.json"
  # (Its proxy relays the member's output to create's stdout as long as it
  # lives: a file, as engines give, not bats' `run` pipe.)
  nook create --bundle "$M2" m2 </dev/null >"$BATS_TEST_TMPDIR/m2.out" 2>&1 ||
    fail "create m2: $(cat "$BATS_TEST_TMPDIR/m2.out")"
  nook start m2
  mpid=$(nook state m2 | jq -r .pid)
  nook delete --force sb
  wait_gone "$mpid"
  [ "$(nook state m2 | jq -r .status)" = stopped ]
  nook delete m2
  assert_nothing_left
}
