#!/usr/bin/env bats
# Replays of container escapes through exec and the container's last execve:
#   CVE-2019-5736  the container overwrites the runtime's binary through
#                  /proc/self/exe (a "#!/proc/self/exe" entry point plus a
#                  library the image preloads into every dynamic program);
#   CVE-2024-21626 a runtime fd reachable as /proc/self/fd/N, or used as
#                  process.cwd, after `run` and after `exec`;
#   CVE-2016-9962  the process `exec` sets up is open to ptrace-class access
#                  (/proc/PID/environ, exe, mem, fd) from the container
#                  before it has become the container's.

load ../integration/helpers
load ../integration/mounts_helpers
load security_helpers

ATTACKS=$BATS_TEST_DIRNAME/exec_attacks

setup() {
  nook_setup
  # A private copy: if an attack ever worked, it would ruin this, not ./nook
  # (nor the binary teardown cleans up with).
  NOOK_ORIG=$NOOK
  cp "$NOOK" "$BATS_TEST_TMPDIR/nook"
  NOOK=$BATS_TEST_TMPDIR/nook
}

teardown() {
  rm -f "$ESCAPE_FILE"
  NOOK=$NOOK_ORIG
  nook_teardown
}

# The image gets the host's dynamic loader and the libraries of nook (so
# the runtime's binary could run in it), a preload library that attacks
# whatever dynamic program runs, and two entry points: /bin/evil, a script
# whose interpreter is /proc/self/exe, and /out/victim, a dynamic program
# of the container's own, on a writable mount (the control: the attack
# works on it; the read-only rootfs would stop it on /bin).
setup_preload_image() {
  local rootfs=$BUNDLE/rootfs lib
  for lib in $(ldd "$NOOK" /usr/bin/true | awk '/=>/ {print $3} /ld-linux/ {print $1}' | sort -u); do
    mkdir -p "$rootfs$(dirname "$lib")"
    cp -L "$lib" "$rootfs$lib"
  done
  cc -D_GNU_SOURCE -O2 -shared -fPIC -o "$rootfs/lib/evil.so" "$ATTACKS/evil_preload.c" || fail "cc evil.so"
  echo /lib/evil.so >"$rootfs/etc/ld.so.preload"
  printf '#!/proc/self/exe\n' >"$rootfs/bin/evil"
  chmod 0755 "$rootfs/bin/evil"
  cp /usr/bin/true "$OUTDIR/victim"
}

@test "CVE-2019-5736: a #!/proc/self/exe entry point cannot reach the runtime's binary" {
  setup_bundle sleep 1000
  add_out_mount
  setup_preload_image
  local before
  before=$(sha256sum "$NOOK" | cut -d' ' -f1)
  run_detached "$ID"

  # Control: the preloaded attack overwrites the image's own dynamic binary
  # once it has exited.  Were the runtime's binary ever the exe of a process
  # in the container, it would get the same treatment.
  run nook exec "$ID" /out/victim
  assert_success
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    grep -q '^OVERWROTE /out/victim' "$OUTDIR/evil.log" 2>/dev/null && break
    sleep 0.05
  done
  grep -q '^OVERWROTE /out/victim' "$OUTDIR/evil.log" ||
    fail "the control attack did not work: $(cat "$OUTDIR/evil.log" 2>&1)"
  [ "$(head -c 5 "$OUTDIR/victim")" = PWNED ]

  # The attack proper, a few times: the script's interpreter is whatever
  # /proc/self/exe is when the container process makes its last execve.
  local statuses=""
  for i in 1 2 3; do
    run nook exec "$ID" /bin/evil
    statuses+="$status "
  done
  sleep 1
  [ "$(sha256sum "$NOOK" | cut -d' ' -f1)" = "$before" ] ||
    fail "the runtime's binary changed: $(cat "$OUTDIR/evil.log")"
  run cat "$OUTDIR/evil.log"
  refute_output --partial nook
  refute_output --partial memfd
  [ "$(grep -c . "$OUTDIR/evil.log")" -eq 2 ] # RAN-IN and OVERWROTE of the control
  # nook's exec shim, started as an interpreter, refuses to run (127).
  [ "$statuses" = "127 127 127 " ]
}

@test "CVE-2019-5736: the same at run: the container's first execve of #!/proc/self/exe" {
  setup_bundle /bin/evil
  add_out_mount
  setup_preload_image
  local before
  before=$(sha256sum "$NOOK" | cut -d' ' -f1)
  # 127: nook's exec shim, started as the interpreter, refuses to run (a
  # runtime whose own binary ran there exits otherwise, or is overwritten).
  run -127 nook run --bundle "$BUNDLE" "$ID"
  sleep 1
  [ "$(sha256sum "$NOOK" | cut -d' ' -f1)" = "$before" ] ||
    fail "the runtime's binary changed: $(cat "$OUTDIR/evil.log")"
  [ ! -s "$OUTDIR/evil.log" ] || fail "the attack ran: $(cat "$OUTDIR/evil.log")"
}

# fds_inside: a script listing every fd >= 3 the shell holds, by stat alone
# (listing /proc/self/fd would open one more).
FDS_SCRIPT='for n in $(seq 3 256); do [ -e /proc/$$/fd/$n ] && echo "fd $n -> $(readlink /proc/$$/fd/$n)"; done; echo fds-checked'

@test "CVE-2024-21626: after run, the container holds only fds 0-2 (and the preserved ones)" {
  setup_bundle sh -c "$FDS_SCRIPT"
  run nook run --bundle "$BUNDLE" "$ID"
  assert_success
  assert_output fds-checked
  run nook run --bundle "$BUNDLE" --preserve-fds 1 "$ID" 3</dev/null
  assert_success
  assert_output "fd 3 -> /dev/null
fds-checked"
}

@test "CVE-2024-21626: after exec, the process holds only fds 0-2 (and the preserved ones)" {
  setup_bundle sleep 1000
  run_detached "$ID"
  run nook exec "$ID" sh -c "$FDS_SCRIPT"
  assert_success
  assert_output fds-checked
  run nook exec --preserve-fds 1 "$ID" sh -c "$FDS_SCRIPT" 3</dev/null
  assert_success
  assert_output "fd 3 -> /dev/null
fds-checked"
  # -t and -d with --pid-file take other paths through the runtime.
  nook exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 100 </dev/null >/dev/null 2>&1
  local pid
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  run ls "/proc/$pid/fd"
  assert_output "0
1
2"
  kill -9 "$pid"
}

# A file only the host has: reached from the container only by escaping.
ESCAPE_FILE=/tmp/nook-escape-marker-$$

escape_script() {
  echo "cat ../../../../../../../../../../../..$ESCAPE_FILE 2>/dev/null && echo ESCAPED; pwd; echo cwd-checked"
}

@test "CVE-2024-21626: process.cwd /proc/self/fd/N never lands outside the rootfs (run)" {
  echo secret >"$ESCAPE_FILE"
  setup_bundle sh -c "$(escape_script)"
  local n
  for n in $(seq 3 12); do
    update_config "c['process']['cwd'] = '/proc/self/fd/$n'"
    run nook run --bundle "$BUNDLE" "$ID"
    refute_output --partial ESCAPED
    refute_output --partial secret
    nook delete -f "$ID" >/dev/null 2>&1 || true
  done
  rm -f "$ESCAPE_FILE"
}

@test "CVE-2024-21626: a cwd outside the root through any open fd is refused, whoever opened the fd" {
  # Whatever directory fd reaches the container process during set-up (here
  # one passed on purpose with --preserve-fds; before, a state-root fd the
  # runtime leaked), the workload must not start with its cwd there.
  echo secret >"$ESCAPE_FILE"
  setup_bundle sh -c "$(escape_script)"
  update_config "c['process']['cwd'] = '/proc/self/fd/3'"
  run nook run --preserve-fds 1 "$ID" 3<"$(dirname "$ESCAPE_FILE")"
  refute_output --partial ESCAPED
  refute_output --partial secret
  assert_failure
  assert_output --partial 'process.cwd: `/proc/self/fd/3` is outside the container'"'"'s root'
  nook delete -f "$ID" >/dev/null 2>&1 || true
  setup_bundle sleep 1000
  run_detached "$ID2"
  run nook exec --preserve-fds 1 --cwd /proc/self/fd/3 "$ID2" sh -c "$(escape_script)" 3<"$(dirname "$ESCAPE_FILE")"
  refute_output --partial ESCAPED
  assert_failure
  assert_output --partial 'is outside the container'"'"'s root'
  rm -f "$ESCAPE_FILE"
}

@test "CVE-2024-21626: exec --cwd /proc/self/fd/N never lands outside the rootfs" {
  echo secret >"$ESCAPE_FILE"
  setup_bundle sleep 1000
  run_detached "$ID"
  local n
  for n in $(seq 3 12); do
    run nook exec --cwd "/proc/self/fd/$n" "$ID" sh -c "$(escape_script)"
    refute_output --partial ESCAPED
    refute_output --partial secret
  done
  rm -f "$ESCAPE_FILE"
}

@test "CVE-2016-9962: the process exec sets up is not dumpable until it runs the workload" {
  cc -D_GNU_SOURCE -O2 -static -o "$BATS_TEST_TMPDIR/observer" "$ATTACKS/observer.c" || fail "cc observer"
  setup_bundle /observer
  add_out_mount
  cp "$BATS_TEST_TMPDIR/observer" "$BUNDLE/rootfs/observer"
  SOCK=$BATS_TEST_TMPDIR/agent.sock
  local release=$BATS_TEST_TMPDIR/release
  bg "$PYTHON" "$ATTACKS/hold_listener.py" "$SOCK" "$release" 2>"$BATS_TEST_TMPDIR/listener.err"
  wait_for_file "$SOCK.ready" || fail "listener: $(cat "$BATS_TEST_TMPDIR/listener.err")"
  # umask is the exec'd process's last call before the exec attr, seccomp
  # and execve: the agent holds it there, past the capability drop, where
  # the container's processes have the same uid and capabilities as it.
  update_config "c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'syscalls': [{'names': ['umask'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  run_detached "$ID"
  bg nook exec "$ID" true
  wait_for_file "$release.held"
  touch "$OUTDIR/go"
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    grep -q observer-done "$BATS_TEST_TMPDIR/$ID.out" && break
    sleep 0.05
  done
  touch "$release"
  run container_output "$ID"
  assert_output --partial "found nook"
  assert_output --partial observer-done
  refute_output --partial LEAK
  [ "$(grep -c '^denied' <<<"$output")" -eq 5 ]
}
