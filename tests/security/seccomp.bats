#!/usr/bin/env bats
# Seccomp bypasses through other system call ABIs.  An x86_64 process can
# still enter the kernel through `int $0x80` (the i386 ABI, i386 numbers:
# getpid 20, chmod 15, mkdir 39, unshare 310) and with x32 numbers (bit 30
# set); seccomp sees those as another architecture (AUDIT_ARCH_I386) or as
# numbers a 64-bit rule does not match.  A profile written for x86_64 must
# not be bypassed that way: the filter's architecture check has to stop
# them (libseccomp's bad-architecture action, SECCOMP_RET_KILL_THREAD, as in
# runc; the runtime-spec says nothing of architectures not listed), and when
# the profile lists SCMP_ARCH_X86 its rules apply to the i386 numbers.
# Also: the configured errno / kill actions on x86_64, and the ENOSYS stub
# (numbers newer than the profile) on each ABI.
#
# The programs (tests/security/progs) are static; busybox cannot make raw
# system calls.

load ../integration/helpers
load security_helpers

# Exit status of a container killed by SIGSYS (128 + 31).
SIGSYS_STATUS=159

setup_file() {
  make -s -C "$REPO_ROOT/tests/security/progs" >&2 || return 1
  # Whether this host runs `int $0x80` from a 64-bit process at all, with no
  # seccomp filter: on some (a PVM guest) it dies with SIGSEGV, and the i386
  # tests can only run elsewhere (tests/run-all's VM pass runs this file).
  local rc=0
  "$PROGS/int80" 20 >/dev/null 2>&1 || rc=$?
  if [ "$rc" -eq 0 ]; then
    export NO_I386_ABI=
  else
    export NO_I386_ABI="int \$0x80 dies on this host without seccomp (exit $rc): the i386 ABI cannot be tested here (it is in the VM pass)"
  fi
}

# require_i386: skip unless the host runs the i386 ABI.
require_i386() {
  [ -z "$NO_I386_ABI" ] || skip "$NO_I386_ABI"
}

setup() {
  nook_setup
  setup_marker
}

teardown() {
  nook_teardown
}

PROGS=$REPO_ROOT/tests/.work/progs

# bundle ARGS...: a writable busybox bundle with the test programs in /bin.
bundle() {
  setup_bundle "$@"
  cp "$PROGS/int80" "$PROGS/syscall" rootfs/bin/
  update_config 'c["root"]["readonly"] = False'
}

# default_profile: make sure linux.seccomp is nook's default profile (a
# peer's `spec` may have none): deny by default, x86_64 + x86 + x32.
default_profile() {
  local spec=$BATS_TEST_TMPDIR/nook-spec
  if ! jq -e .linux.seccomp config.json >/dev/null; then
    [ -x "$REPO_ROOT/nook" ] || skip "no default seccomp profile (build ./nook)"
    mkdir -p "$spec"
    (cd "$spec" && "$REPO_ROOT/nook" spec) || fail "nook spec"
    update_config "import json; c['linux']['seccomp'] = json.load(open('$spec/config.json'))['linux']['seccomp']"
  fi
}

# profile DEFAULT_ACTION ARCHES RULES: linux.seccomp with these Python literals.
profile() {
  update_config "c['linux']['seccomp'] = {'defaultAction': '$1', 'architectures': $2, 'syscalls': $3}"
}

X86_64_ONLY="['SCMP_ARCH_X86_64']"
X86_BOTH="['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86']"
MKDIR_CHMOD="['mkdir', 'mkdirat', 'chmod', 'fchmodat']"

@test "i386 ABI: a profile for x86_64 only kills int 0x80 calls (the mkdir it blocks does not happen)" {
  require_i386
  bundle sh -c "$STARTED"'int80 39:@/tmp/by-int80:0755; echo "int80 status $?"'
  profile SCMP_ACT_ALLOW "$X86_64_ONLY" "[{'names': $MKDIR_CHMOD, 'action': 'SCMP_ACT_ERRNO'}]"
  run nook run "$ID"
  assert_success
  assert_line container-started
  assert_line "int80 status $SIGSYS_STATUS"
  refute_line --partial "ret="
  [ ! -e rootfs/tmp/by-int80 ] || fail "mkdir through int 0x80 bypassed the x86_64 profile"

  # Any i386 call, even one the profile would allow on x86_64.
  set_args int80 20
  run nook run "$ID"
  assert_equal "$status" "$SIGSYS_STATUS"

  # Control: the same call on x86_64 gets the rule, and without seccomp
  # int 0x80 mkdir works (so the check above can fail).
  set_args sh -c 'mkdir /tmp/by-x86-64; echo "rc=$?"'
  run nook run "$ID"
  assert_success
  assert_line --partial "Operation not permitted"
  assert_line rc=1
  update_config 'del c["linux"]["seccomp"]'
  set_args int80 39:@/tmp/by-int80:0755
  run nook run "$ID"
  assert_success
  assert_line "39 ret=0 errno=0"
  [ -d rootfs/tmp/by-int80 ]
  assert_marker_untouched
}

@test "i386 ABI: with SCMP_ARCH_X86 listed, the rules apply to int 0x80 calls (i386 numbers)" {
  require_i386
  bundle sh -c "$STARTED"'touch /tmp/f; chmod 0644 /tmp/f; int80 20 39:@/tmp/by-int80:0755 15:@/tmp/f:0777; stat -c "mode %a" /tmp/f'
  profile SCMP_ACT_ALLOW "$X86_BOTH" "[{'names': $MKDIR_CHMOD, 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 28}]"
  run nook run "$ID"
  assert_success
  assert_line --regexp '^20 ret=[1-9][0-9]* errno=0$'
  assert_line "39 ret=-28 errno=28"
  assert_line "15 ret=-28 errno=28"
  assert_line "mode 644"
  [ ! -e rootfs/tmp/by-int80 ]
}

@test "i386 ABI: SCMP_ACT_KILL and SCMP_ACT_KILL_PROCESS rules kill an int 0x80 caller with SIGSYS" {
  require_i386
  local action
  for action in SCMP_ACT_KILL SCMP_ACT_KILL_PROCESS; do
    bundle sh -c "$STARTED"'exec int80 20 39:@/tmp/by-int80:0755'
    profile SCMP_ACT_ALLOW "$X86_BOTH" "[{'names': $MKDIR_CHMOD, 'action': '$action'}]"
    run nook run "$ID"
    assert_equal "$status" "$SIGSYS_STATUS"
    assert_line --regexp '^20 ret=[1-9][0-9]* errno=0$'
    refute_line --partial "39 ret="
    [ ! -e rootfs/tmp/by-int80 ]
  done
}

@test "i386 ABI under the default profile: getpid works, unshare is refused, unknown numbers get ENOSYS" {
  require_i386
  # The default profile lists SCMP_ARCH_X86 (a 32-bit userland may run).
  bundle int80 20 310:0x20000 1000
  default_profile
  run nook run "$ID"
  assert_success
  assert_line --regexp '^20 ret=[1-9][0-9]* errno=0$'
  assert_line "310 ret=-1 errno=1"
  assert_line "1000 ret=-38 errno=38"
}

@test "x32 ABI: numbers with bit 30 are stopped by a profile without SCMP_ARCH_X32" {
  # x32 getpid is 39 | 0x40000000.  With x32 unlisted, every such number is
  # a bad architecture: killed, not ENOSYS (the ENOSYS stub must leave them
  # to the architecture check) and not the profile's errno.  The default
  # profile (deny by default, so with the stub) for x86_64 alone:
  bundle sh -c "$STARTED"'syscall 39 0x40000027; echo "syscall status $?"'
  default_profile
  update_config 'c["linux"]["seccomp"]["architectures"] = ["SCMP_ARCH_X86_64"]'
  run nook run "$ID"
  assert_success
  assert_line container-started
  assert_line --regexp '^39 ret=[1-9][0-9]* errno=0$'
  refute_line --partial "1073741863 ret="
  assert_line "syscall status $SIGSYS_STATUS"
  set_args syscall 0x400003e8
  run nook run "$ID"
  assert_equal "$status" "$SIGSYS_STATUS"

  # Listed (as in the default profile): no kill; the call gets the rules
  # (this kernel may lack x32 support and answer ENOSYS itself), and a
  # number above the profile ENOSYS.
  update_config 'c["linux"]["seccomp"]["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_X32"]'
  set_args sh -c "$STARTED"'syscall 39 0x40000027 0x400003e8; echo "syscall status $?"'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^1073741863 ret=(-1 errno=38|[1-9][0-9]* errno=0)$'
  assert_line "1073742824 ret=-1 errno=38"
  assert_line "syscall status 0"
}

@test "x86_64: a blocked call gets the configured errno, or kills with SIGSYS, as configured" {
  # mkdir is 83 on x86_64.
  bundle sh -c "$STARTED"'exec syscall 39 83:@/tmp/by-syscall:0755'
  local action status_want line_want
  while IFS='|' read -r action status_want line_want; do
    profile SCMP_ACT_ALLOW "$X86_64_ONLY" "[{'names': ['mkdir'], $action}]"
    run nook run "$ID"
    assert_equal "$status" "$status_want"
    assert_line --regexp '^39 ret=[1-9][0-9]* errno=0$'
    if [ "$line_want" = none ]; then
      refute_line --partial "83 ret="
    else
      assert_line "$line_want"
    fi
    [ ! -e rootfs/tmp/by-syscall ] || fail "$action: mkdir happened"
  done <<EOF
'action': 'SCMP_ACT_ERRNO'|0|83 ret=-1 errno=1
'action': 'SCMP_ACT_ERRNO', 'errnoRet': 13|0|83 ret=-1 errno=13
'action': 'SCMP_ACT_ERRNO', 'errnoRet': 0|0|83 ret=0 errno=0
'action': 'SCMP_ACT_KILL'|$SIGSYS_STATUS|none
'action': 'SCMP_ACT_KILL_THREAD'|$SIGSYS_STATUS|none
'action': 'SCMP_ACT_KILL_PROCESS'|$SIGSYS_STATUS|none
EOF
}
