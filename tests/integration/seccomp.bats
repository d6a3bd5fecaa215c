#!/usr/bin/env bats
# linux.seccomp: actions, errnoRet/defaultErrnoRet, argument filters, unknown
# names, flags, SCMP_ACT_NOTIFY with a listener (seccomp_listener.py), the
# profile of `nook spec`, and the compiled-filter cache.

load helpers

# The raw-syscall program of the attack suite (busybox makes no raw calls).
setup_file() {
  make -s -C "$REPO_ROOT/tests/security/progs" >&2 || return 1
}
SYSCALL_PROG=$REPO_ROOT/tests/.work/progs/syscall

# set_seccomp PYTHON_EXPR: linux.seccomp = the expression.
set_seccomp() {
  update_config "c['linux']['seccomp'] = $1"
}

# An ALLOW-by-default profile with one rule.  Usage: one_rule NAMES ACTION [EXTRA]
# NAMES is a Python list literal; EXTRA more Python dict entries for the rule.
one_rule() {
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': $1, 'action': '$2'${3:+, $3}}]}"
}

# listener [--answer ERRNO]: start seccomp_listener.py on $SOCK, output in $LISTENER_OUT.
listener() {
  SOCK=$BATS_TEST_TMPDIR/agent.sock
  LISTENER_OUT=$BATS_TEST_TMPDIR/agent.json
  rm -f "$SOCK" "$SOCK.ready" "$LISTENER_OUT"
  bg "$PYTHON" "$INTEGRATION_DIR/seccomp_listener.py" "$@" "$SOCK" "$LISTENER_OUT"
  LISTENER_PID=$BG_PID
  wait_for_file "$SOCK.ready"
}

@test "seccomp: a blocked syscall fails with errnoRet" {
  setup_bundle sh -c 'mkdir /tmp/a; echo "rc=$?"'
  update_config 'c["root"]["readonly"] = False'
  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_ERRNO "'errnoRet': 1"
  run nook run "$ID"
  assert_success
  assert_line --partial "can't create directory '/tmp/a': Operation not permitted"
  assert_line rc=1

  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_ERRNO "'errnoRet': 28"
  run nook run "$ID"
  assert_success
  assert_line --partial "'/tmp/a': No space left on device"
  [ ! -e rootfs/tmp/a ]
}

@test "seccomp: errnoRet defaults to EPERM" {
  setup_bundle sh -c 'mkdir /tmp/a'
  update_config 'c["root"]["readonly"] = False'
  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_ERRNO
  run nook run "$ID"
  assert_failure
  assert_output --partial "Operation not permitted"
}

@test "seccomp: defaultErrnoRet applies to what no rule allows" {
  # The default profile with ENOSYS instead of EPERM for the rest.
  setup_bundle sh -c 'echo ok; unshare -m true'
  update_config 'c["linux"]["seccomp"]["defaultErrnoRet"] = 38'
  run nook run "$ID"
  assert_failure
  assert_line ok
  assert_line --partial "Function not implemented"
}

# nook's default profile, whatever the runtime under test puts in `spec`.
nook_default_profile() {
  local spec=$BATS_TEST_TMPDIR/nook-spec
  [ -x "$REPO_ROOT/nook" ] || skip "needs ./nook for its default profile"
  mkdir -p "$spec"
  (cd "$spec" && "$REPO_ROOT/nook" spec) || fail "nook spec"
  update_config "import json; c['linux']['seccomp'] = json.load(open('$spec/config.json'))['linux']['seccomp']"
}

@test "seccomp: a syscall newer than the profile fails with ENOSYS, a known unlisted one with the default errno" {
  # 1000: beyond every table.  462 (mseal): newer than libseccomp 2.5.4 and
  # the default profile, but this kernel has it (mseal(0, 0, 0) is a no-op).
  # 272 (unshare) with 0: known and below the profile's newest call, not
  # allowed: the default errno.
  run "$SYSCALL_PROG" 462:0:0:0
  [ "$output" = "462 ret=0 errno=0" ] || skip "the kernel has no mseal (Linux >= 6.10): $output"
  setup_bundle syscall 1000 462:0:0:0 272:0 39
  cp "$SYSCALL_PROG" rootfs/bin/
  nook_default_profile
  run nook run "$ID"
  assert_success
  assert_line "1000 ret=-1 errno=38"
  assert_line "462 ret=-1 errno=38"
  assert_line "272 ret=-1 errno=1"
  assert_line --regexp "^39 ret=[1-9][0-9]* errno=0$"

  # defaultErrnoRet changes the errno of known calls only.
  update_config 'c["linux"]["seccomp"]["defaultErrnoRet"] = 13'
  run nook run "$ID"
  assert_success
  assert_line "1000 ret=-1 errno=38"
  assert_line "462 ret=-1 errno=38"
  assert_line "272 ret=-1 errno=13"

  # So does a KILL default: newer calls are ENOSYS, not death.
  update_config 'del c["linux"]["seccomp"]["defaultErrnoRet"]; c["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_KILL_PROCESS"'
  run nook run "$ID"
  assert_equal "$status" 159
  assert_line "1000 ret=-1 errno=38"
  assert_line "462 ret=-1 errno=38"
  refute_line --partial "272 ret="

  # Control: with an ALLOW default the kernel answers (mseal runs).
  update_config 'c["linux"]["seccomp"]["defaultAction"] = "SCMP_ACT_ALLOW"; c["linux"]["seccomp"]["syscalls"] = [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}]'
  run nook run "$ID"
  assert_success
  assert_line "1000 ret=-1 errno=38"
  assert_line "462 ret=0 errno=0"
  assert_line "272 ret=0 errno=0"
}

@test "seccomp: ENOSYS starts above the largest syscall the profile names" {
  # The default profile without the calls numbered 425 and up (io_uring,
  # clone3, faccessat2, ...; numbers from libseccomp, for this machine):
  # faccessat2 (439) is now newer than the profile, ENOSYS; unshare (272)
  # is still a known call the profile does not allow, EPERM.
  setup_bundle syscall 439:-100:@/:0:0 272:0 39
  cp "$SYSCALL_PROG" rootfs/bin/
  nook_default_profile
  run nook run "$ID"
  assert_success
  assert_line "439 ret=0 errno=0"
  assert_line "272 ret=-1 errno=1"

  update_config '
import ctypes
nr = ctypes.CDLL("libseccomp.so.2").seccomp_syscall_resolve_name
s = c["linux"]["seccomp"]
for r in s["syscalls"]:
    r["names"] = [n for n in r["names"] if nr(n.encode()) < 425]
s["syscalls"] = [r for r in s["syscalls"] if r["names"]]'
  run nook run "$ID"
  assert_success
  assert_line "439 ret=-1 errno=38"
  assert_line "272 ret=-1 errno=1"
  assert_line --regexp "^39 ret=[1-9][0-9]* errno=0$"
}

@test "seccomp: SCMP_ACT_KILL_PROCESS kills the container with SIGSYS (status 159)" {
  setup_bundle mkdir /tmp/a
  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_KILL_PROCESS
  run nook run "$ID"
  assert_equal "$status" 159
}

@test "seccomp: SCMP_ACT_KILL (thread) kills a single-threaded process too" {
  setup_bundle mkdir /tmp/a
  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_KILL
  run nook run "$ID"
  assert_equal "$status" 159
}

@test "seccomp: argument filters (kill with a given signal, personality with a given value)" {
  setup_bundle sh -c 'kill -0 $$ && echo sig0-ok; kill -USR1 $$ || echo usr1-blocked'
  # SIGUSR1 is 10 on x86 and arm.
  one_rule "['kill']" SCMP_ACT_ERRNO "'args': [{'index': 1, 'value': 10, 'op': 'SCMP_CMP_EQ'}]"
  run nook run "$ID"
  assert_success
  assert_line sig0-ok
  assert_line usr1-blocked

  set_args sh -c 'linux64 uname -m; linux32 uname -m || echo linux32-blocked'
  one_rule "['personality']" SCMP_ACT_ERRNO "'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'}]"
  run nook run "$ID"
  assert_success
  assert_line "$(uname -m)"
  assert_line linux32-blocked
}

@test "seccomp: SCMP_CMP_MASKED_EQ and two conditions on one argument (OR)" {
  setup_bundle sh -c 'trap "" USR1 USR2 TERM; for s in 10 12 15; do kill -$s $$ 2>/dev/null && echo "$s ok" || echo "$s blocked"; done'
  # kill(pid, sig) fails when sig & 0xe == 0xa (10, 11) or sig == 12: as in
  # runc and crun, conditions that repeat an index are alternatives.
  one_rule "['kill']" SCMP_ACT_ERRNO "'args': [{'index': 1, 'value': 14, 'valueTwo': 10, 'op': 'SCMP_CMP_MASKED_EQ'}, {'index': 1, 'value': 12, 'op': 'SCMP_CMP_EQ'}]"
  run nook run "$ID"
  assert_success
  assert_line "10 blocked"
  assert_line "12 blocked"
  assert_line "15 ok"
}

@test "seccomp: names unknown to libseccomp are skipped (logged at debug level)" {
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  one_rule "['no_such_syscall_at_all', 'mkdir', 'mkdirat']" SCMP_ACT_ERRNO
  run nook --debug --log "$BATS_TEST_TMPDIR/log" run "$ID"
  assert_success
  assert_line --partial "Operation not permitted"
  assert_line done
  run cat "$BATS_TEST_TMPDIR/log"
  assert_output --partial 'unknown system call `no_such_syscall_at_all` ignored'
}

@test "seccomp: flags LOG, SPEC_ALLOW and TSYNC are accepted" {
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_TSYNC'], 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_ERRNO'}]}"
  run nook run "$ID"
  assert_success
  assert_line --partial "Operation not permitted"
}

@test "seccomp: WAIT_KILLABLE_RECV without SCMP_ACT_NOTIFY is an error naming the flag" {
  setup_bundle true
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV']}"
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.seccomp.flags: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"
  run nook list -q
  refute_output --partial "$ID"
}

@test "seccomp: defaultErrnoRet with an action that returns no errno is an error" {
  setup_bundle true
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}"
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.seccomp.defaultErrnoRet: not supported with action SCMP_ACT_ALLOW"
}

@test "seccomp: without noNewPrivileges the filter goes in before the user switch" {
  # Loaded while the process still has CAP_SYS_ADMIN; the rest of the
  # setup (setgroups, setresuid, capset, ...) then runs under the default
  # profile, which must let it through.
  setup_bundle sh -c 'id -u; grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'
  update_config 'c["process"]["noNewPrivileges"] = False; c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10]}'
  run nook run "$ID"
  assert_success
  assert_line 1000
  assert_line --regexp "^NoNewPrivs:[[:space:]]+0$"
  assert_line --regexp "^Seccomp:[[:space:]]+2$"
}

@test "seccomp: the default profile runs a shell and blocks unshare and mount, even with CAP_SYS_ADMIN" {
  setup_bundle sh -c 'echo ok; unshare -m true 2>&1 && echo unshare-ok; mount -t tmpfs x /tmp 2>&1 && echo mount-ok; linux32 true && echo linux32-ok; true'
  update_config 'for k in ("bounding", "effective", "permitted"): c["process"]["capabilities"][k].append("CAP_SYS_ADMIN")'
  run nook run "$ID"
  assert_success
  assert_line ok
  assert_line linux32-ok
  refute_line unshare-ok
  refute_line mount-ok
  assert_line --partial "unshare(0x20000): Operation not permitted"

  # Control: without the profile, the capability is enough.
  update_config 'del c["linux"]["seccomp"]'
  run nook run "$ID"
  assert_success
  assert_line unshare-ok
  assert_line mount-ok
}

@test "seccomp: the default profile lets a shell fork, exec, pipe and wait" {
  setup_bundle sh -c 'a=$(echo sub); echo "$a" | cat; ls / >/dev/null && echo ls-ok; sleep 0 & wait $! && echo bg-ok; nproc >/dev/null && echo nproc-ok'
  run nook run "$ID"
  assert_success
  assert_line sub
  assert_line ls-ok
  assert_line bg-ok
  assert_line nproc-ok
}

@test "seccomp: SCMP_ACT_NOTIFY sends the fd and the container process state to listenerPath" {
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  update_config 'c["root"]["readonly"] = False'
  listener
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'listenerMetadata': 'hello agent', 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  run nook run "$ID"
  assert_success
  # The listener closed the fd without answering: the kernel fails the call
  # with ENOSYS.
  assert_line --partial "'/tmp/a': Function not implemented"
  assert_line done
  wait_for_file "$LISTENER_OUT"
  run jq -c '[.nfds, .state.ociVersion, .state.fds, .state.metadata, .state.state.id, .state.state.status, .state.state.bundle, (.state.pid > 0), (.state.pid == .state.state.pid)]' "$LISTENER_OUT"
  assert_output "[1,\"1.3.0\",[\"seccompFd\"],\"hello agent\",\"$ID\",\"creating\",\"$BUNDLE\",true,true]"
}

@test "seccomp: SCMP_ACT_NOTIFY: the agent's answer reaches the container" {
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  update_config 'c["root"]["readonly"] = False'
  listener --answer 95 # EOPNOTSUPP
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  run nook run "$ID"
  assert_success
  assert_line --partial "'/tmp/a': Operation not supported"
  wait_for_file "$LISTENER_OUT"
  run jq '.notifications | length' "$LISTENER_OUT"
  assert_output 1
  [ ! -e rootfs/tmp/a ]
}

@test "seccomp: SCMP_ACT_NOTIFY with noNewPrivileges and create/start" {
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  update_config 'c["root"]["readonly"] = False; c["process"]["noNewPrivileges"] = True'
  listener --answer 0
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  create_container "$ID"
  wait_for_state "$ID" created
  pid=$(state_field "$ID" pid)
  run nook start "$ID"
  assert_success
  wait_for_file "$LISTENER_OUT"
  run jq -c '[.state.pid, .state.state.status, (.notifications | length)]' "$LISTENER_OUT"
  assert_output "[$pid,\"creating\",1]"
  # Answered with success (0) without running: the directory was not made.
  run container_output "$ID"
  assert_line done
  refute_output --partial "can't create"
  [ ! -e rootfs/tmp/a ]
}

# Regression: the notify fd used to reach the agent only after READY, so a
# NOTIFY rule on a syscall the container process makes during its own set-up
# (chdir, before READY) hung `run` forever.
@test "seccomp: a NOTIFY rule hit during set-up (chdir) is answered, run does not hang" {
  setup_bundle sh -c 'echo started in $(pwd)'
  update_config 'c["process"]["cwd"] = "/tmp"'
  listener --answer 0
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'syscalls': [{'names': ['chdir'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  NOOK_CMD_TIMEOUT=60 run nook run "$ID"
  [ "$status" -ne 124 ] || fail "nook run hung on a NOTIFY rule hit before READY"
  assert_success
  wait_for_file "$LISTENER_OUT"
  run jq '.notifications | length' "$LISTENER_OUT"
  [ "$output" -ge 1 ] || fail "the agent saw no notification"
}

@test "seccomp: an unreachable listenerPath fails create and leaves nothing behind" {
  setup_bundle true
  set_seccomp "{'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$BATS_TEST_TMPDIR/nobody.sock', 'syscalls': [{'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  run nook run "$ID"
  assert_failure
  assert_output --partial "linux.seccomp.listenerPath: connect to \`$BATS_TEST_TMPDIR/nobody.sock\`"
  run nook list -q
  refute_output --partial "$ID"
}

# cache_env: CACHE is the test's own compiled-filter cache (nook_setup; the
# host's is /var/cache/nook/seccomp).
cache_env() {
  CACHE=$NOOK_SECCOMP_CACHE
  [ "$CACHE" = "$BATS_TEST_TMPDIR/seccomp-cache" ] || fail "NOOK_SECCOMP_CACHE=$CACHE"
}

# The one entry of $CACHE (fails unless there is exactly one).
cache_entry() {
  local f
  f=$(find "$CACHE" -type f)
  [ -n "$f" ] && [ "$(wc -l <<<"$f")" -eq 1 ] || fail "want one entry in $CACHE, have: $f"
  echo "$f"
}

@test "seccomp: the compiled-filter cache is host-wide: a second --root hits the entry the first made" {
  cache_env
  setup_bundle true
  run nook --debug run "$ID"
  assert_success
  assert_output --partial "seccomp cache: stored \`$CACHE/"
  file=$(cache_entry)
  [[ $(basename "$file") =~ ^[0-9a-f]{64}$ ]] || fail "entry name: $file"
  run stat -c '%a %u' "$file" "$CACHE"
  assert_output "600 $(id -u)
700 $(id -u)"
  # Nothing of it in the state root: only containers live there.
  run ls -A "$NOOK_ROOT"
  assert_output ""
  # Another state root (another engine namespace) finds the same entry.
  run "$NOOK" --root "$BATS_TEST_TMPDIR/other-root" --debug run "$ID"
  assert_success
  assert_output --partial "seccomp cache: hit \`$file\`"
  refute_output --partial "seccomp cache: stored"
  # A changed profile is another entry.
  update_config 'c["linux"]["seccomp"]["defaultErrnoRet"] = 38'
  run nook run "$ID"
  assert_success
  run find "$CACHE" -type f
  assert_equal "${#lines[@]}" 2
}

@test "seccomp: a tampered cache entry is ignored with a warning, and made again" {
  [ "$(id -u)" -eq 0 ] || skip "needs root to chown"
  cache_env
  setup_bundle sh -c 'mkdir /tmp/a 2>&1; echo done'
  one_rule "['mkdir', 'mkdirat']" SCMP_ACT_ERRNO "'errnoRet': 28"
  run nook run "$ID"
  assert_line --partial "No space left on device"
  file=$(cache_entry)
  inode=$(stat -c %i "$file")
  # Another owner, writable by the group, corrupt instructions: each is a
  # warning, the filter compiled again (still enforced) and the entry replaced.
  for tamper in "chown 1000:1000" "chmod 0660" "corrupt"; do
    case $tamper in
    corrupt) printf '\377' | dd of="$file" bs=1 seek=100 conv=notrunc status=none ;;
    *) $tamper "$file" ;;
    esac
    run nook run "$ID"
    assert_line --partial "No space left on device"
    assert_output --regexp "level=warning.*seccomp cache: .*$(basename "$file").*not used, compiled again"
    run stat -c '%u %a' "$file"
    assert_output "0 600"
    [ "$(stat -c %i "$file")" != "$inode" ] || fail "$tamper: the entry was not replaced"
    inode=$(stat -c %i "$file")
  done
  # An untrusted directory is not used at all.
  chmod 0770 "$CACHE"
  run nook run "$ID"
  assert_line --partial "No space left on device"
  assert_output --partial "may be changed by users other than root"
  [ "$(stat -c %i "$file")" = "$inode" ] || fail "an entry in an untrusted directory was rewritten"
}

@test "seccomp: root's cache is /var/cache/nook/seccomp, private, and out of the container's sight" {
  [ "$(id -u)" -eq 0 ] || skip "root's cache (rootless: tests/rootless)"
  unset NOOK_SECCOMP_CACHE
  setup_bundle sh -c 'ls /proc/self/fd/ | wc -l; readlink /proc/self/fd/* 2>/dev/null; ls /var/cache/nook 2>&1; echo end'
  run nook --debug run "$ID"
  assert_success
  assert_output --regexp "seccomp cache: (hit|stored) \`/var/cache/nook/seccomp/[0-9a-f]{64}\`"
  # 0, 1, 2 and the fd ls itself reads: no fd of the runtime's.
  assert_line 4
  assert_line --partial "/var/cache/nook: No such file or directory"
  run stat -c '%a %u' /var/cache/nook/seccomp
  assert_output "700 0"
  run find /var/cache/nook/seccomp -type f ! -user 0
  assert_output ""
}

@test "seccomp: NOOK_SECCOMP_CACHE=off compiles every time and keeps nothing" {
  setup_bundle true
  NOOK_SECCOMP_CACHE=off run nook --debug run "$ID"
  assert_success
  refute_output --partial "seccomp cache"
  NOOK_SECCOMP_CACHE=relative/dir run nook run "$ID"
  assert_success
  assert_output --partial "NOOK_SECCOMP_CACHE=relative/dir: not an absolute path or \\\"off\\\": no seccomp cache"
  [ ! -e relative ]
}

@test "seccomp-precompile: the profile's entry is made ahead of the first container, pinned" {
  cache_env
  setup_bundle true
  run "$NOOK" seccomp-precompile "$BUNDLE/config.json"
  assert_success
  file=$(cache_entry)
  assert_output "$BUNDLE/config.json: $file ($(( ($(stat -c %s "$file") - 56) / 8 )) instructions)"
  run stat -c '%a' "$file"
  assert_output 400
  run nook --debug run "$ID"
  assert_success
  assert_output --partial "seccomp cache: hit \`$file\`"
  # The engines' default profiles (what `make install` precompiles) compile.
  run "$NOOK" seccomp-precompile "$REPO_ROOT"/profiles/*.json
  assert_success
  assert_equal "${#lines[@]}" "$(ls "$REPO_ROOT"/profiles/*.json | wc -l)"
  # Bad input names the file.
  echo '{"ociVersion": "1.0.2"}' >"$BATS_TEST_TMPDIR/none.json"
  run "$NOOK" seccomp-precompile "$BATS_TEST_TMPDIR/none.json"
  assert_failure
  assert_output "nook: error: $BATS_TEST_TMPDIR/none.json: no linux.seccomp"
  run "$NOOK" seccomp-precompile "$BATS_TEST_TMPDIR/missing.json"
  assert_failure
  assert_output --partial "missing.json"
  run "$NOOK" seccomp-precompile
  assert_failure
}
