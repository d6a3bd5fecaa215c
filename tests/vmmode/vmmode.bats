#!/usr/bin/env bats
# VM mode's foundation end to end (issue #14): nook boots a QEMU microVM whose
# init is nook itself, gets the guest's ready over the control channel, runs
# commands from a 9p share in the guest and gets their output and exit
# status back, then powers the VM off.  Under TCG a boot costs seconds, so
# setup_file boots once for most assertions; only the guest-error case
# boots again.  Skips only when qemu-system-x86_64 is missing
# (scripts/deps.sh installs qemu-system-x86).

load helpers

# One VM: three commands, the last killed by a signal.
setup_file() {
  have_qemu || return 0
  local d=$BATS_FILE_TMPDIR
  mkdir -p "$d/share" "$d/root"
  cp /bin/busybox "$d/share/busybox"
  echo "from the host $$" >"$d/share/marker"
  kernel_bundle
  local bb=/mnt/share/busybox rc=0
  timeout 300 "$NOOK" --root "$d/root" vm-exec --timings --vcpus 1 --memory 256 \
    --share share="$d/share":ro -- \
    $bb sh -c 'echo kernel=$(uname -r)
      echo cpus=$(grep -c ^processor /proc/cpuinfo)
      echo mem=$(sed -n "s/^MemTotal: *\([0-9]*\) kB/\1/p" /proc/meminfo)
      grep -m1 "^model name" /proc/cpuinfo
      echo "marker=$(cat /mnt/share/marker)"
      echo "pid1=$(cat /proc/1/comm)"
      echo "cgroup=$(cat /sys/fs/cgroup/cgroup.controllers)"
      echo to-stderr >&2' \; \
    $bb sh -c 'touch /mnt/share/written 2>/dev/null; echo touch=$?' \; \
    $bb sh -c 'kill -9 $$' >"$d/out" 2>"$d/err" || rc=$?
  echo "$rc" >"$d/rc"
}

teardown_file() {
  [ -z "${BATS_FILE_TMPDIR:-}" ] || rm -rf "$BATS_FILE_TMPDIR/root"
}

@test "vm mode: the guest boots, says ready and powers off" {
  need_qemu
  run cat "$BATS_FILE_TMPDIR/err"
  assert_line --regexp '^vm-exec: guest [0-9][^ ]* ready [0-9]+ ms after launch$'
  assert_line 'vm-exec: powered off'
  # Nothing of the VM is left: no QEMU, no work directory.
  run find "$BATS_FILE_TMPDIR/root" -mindepth 1
  assert_output ''
}

@test "vm mode: the guest runs another kernel with its own CPUs and memory" {
  need_qemu
  local out=$BATS_FILE_TMPDIR/out
  run grep '^kernel=' "$out"
  refute_output "kernel=$(uname -r)"
  assert_output --regexp '^kernel=[0-9]+\.[0-9]+'
  run grep '^cpus=' "$out"
  assert_output 'cpus=1'
  # 256 MiB of guest memory, whatever the host has.
  local mem
  mem=$(sed -n 's/^mem=//p' "$out")
  [ "$mem" -gt 150000 ] && [ "$mem" -lt 270000 ]
  run grep '^model name' "$out"
  assert_success
  if ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
    # TCG: QEMU's CPU, not the host's.
    assert_output --partial 'QEMU'
  fi
}

@test "vm mode: nook is the guest's init and mounts the share and cgroup2" {
  need_qemu
  local out=$BATS_FILE_TMPDIR/out
  run grep -E '^(pid1|marker|cgroup)=' "$out"
  assert_line 'pid1=init'
  assert_line "marker=$(cat "$BATS_FILE_TMPDIR/share/marker")"
  assert_line --regexp '^cgroup=.*\bmemory\b.*\bpids\b'
  # The share was given read-only: the guest cannot write to it.
  run grep '^touch=' "$out"
  refute_output 'touch=0'
  [ ! -e "$BATS_FILE_TMPDIR/share/written" ]
}

@test "vm mode: stdout and stderr are relayed apart, and the exit status comes back" {
  need_qemu
  run grep -c to-stderr "$BATS_FILE_TMPDIR/out"
  assert_output 0
  run grep -x to-stderr "$BATS_FILE_TMPDIR/err"
  assert_success
  # The last command was killed by SIGKILL: 128+9.
  run cat "$BATS_FILE_TMPDIR/rc"
  assert_output 137
}

@test "vm mode: a command that cannot start comes back as the guest's error" {
  need_qemu
  local d=$BATS_FILE_TMPDIR
  run -1 --separate-stderr timeout 300 "$NOOK" --root "$d/root" vm-exec --share share="$d/share":ro \
    -- /mnt/share/busybox echo first \; /mnt/share/no-such-program
  assert_output 'first'
  [[ $stderr == *'exec `/mnt/share/no-such-program`: no such file or directory'* ]]
  run find "$d/root" -mindepth 1
  assert_output ''
}

@test "vm mode: a VMM that fails says why, and leaves nothing behind" {
  need_qemu
  # A bundle whose kernel is not one: QEMU refuses it at once.
  local k=$BATS_TEST_TMPDIR/kernel
  mkdir -p "$k/modules"
  : >"$k/modules.load"
  echo 6.1.0-fake >"$k/kver"
  head -c 4096 /dev/urandom >"$k/vmlinux"
  touch "$k/.complete"
  NOOK_VM_KCACHE=$BATS_TEST_TMPDIR/cache run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" vm-exec \
    --kernel-bundle "$k" -- /bin/true
  assert_output --regexp '^nook: error: qemu-system-x86_64 exited \(status [0-9]+\) before (connecting the channel|the guest was ready): qemu'
  run find "$BATS_FILE_TMPDIR/root" -mindepth 1
  assert_output ''
  run pgrep -f "$k/vmlinux"
  assert_failure
}

@test "vm mode: --debug logs the VMM's argv as JSON and marks the boot's phases" {
  need_qemu
  # bench/run boots this argv with its own initramfs (VM mode's floor) and
  # times the phases from these lines; a kernel that is not one is enough.
  local k=$BATS_TEST_TMPDIR/kernel log=$BATS_TEST_TMPDIR/log.json
  mkdir -p "$k/modules"
  : >"$k/modules.load"
  echo 6.1.0-fake >"$k/kver"
  head -c 4096 /dev/urandom >"$k/vmlinux"
  touch "$k/.complete"
  NOOK_VM_KCACHE=$BATS_TEST_TMPDIR/cache run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" \
    --log "$log" --log-format json --debug vm-exec --kernel-bundle "$k" -- /bin/true
  # (QEMU may or may not connect the channel before it gives up.  A
  # confined QEMU gets its absolute path as argv[0].)
  run jq -r 'select(.level == "debug") | .msg | select(startswith("vm"))
             | split(" ")[0:2] | join(" ")' "$log"
  assert_line --index 0 'vm: kernel'
  assert_line --index 1 'vm: initramfs'
  assert_line --index 2 'vmm: exec'
  run jq -r 'select(.msg | startswith("vmm: exec ")) | .msg | ltrimstr("vmm: exec ")
             | fromjson | .argv as $a
             | [($a[0] | split("/") | last), $a[($a | index(["-kernel"]) + 1)], ($a | index(["-initrd"]) != null)]
             | map(tostring) | join(" ")' "$log"
  assert_output "qemu-system-x86_64 $k/vmlinux true"
}

# fake_kernel DIR: a kernel bundle QEMU refuses at once, after nook has
# built the initramfs for it (no boot: the archive is what is tested).
fake_kernel() {
  mkdir -p "$1/modules"
  : >"$1/modules.load"
  echo 6.1.0-fake >"$1/kver"
  head -c 4096 /dev/urandom >"$1/vmlinux"
  touch "$1/.complete"
}

# initramfs_of BIN CACHE: the initramfs BIN builds under CACHE, listed into
# $BATS_TEST_TMPDIR/list, its /nook into .../guest-nook.
initramfs_of() {
  NOOK_VM_KCACHE=$2 run "$1" --root "$BATS_TEST_TMPDIR/root" vm-exec \
    --kernel-bundle "$BATS_TEST_TMPDIR/kernel" -- /bin/true
  local a
  a=$(ls -t "$2"/initramfs/initramfs-*.cpio | head -n1)
  cpio -it --quiet <"$a" >"$BATS_TEST_TMPDIR/list"
  cpio -i --quiet --to-stdout nook <"$a" >"$BATS_TEST_TMPDIR/guest-nook"
  echo "$a"
}

@test "vm mode: the guest's /init is the static nook-guest of the build; without one, nook and its libraries" {
  need_qemu
  local d=$BATS_TEST_TMPDIR guest a1 a2
  guest=$(dirname "$NOOK")/nook-guest
  [ -e "$guest" ] || guest=$(dirname "$NOOK")/../libexec/nook/nook-guest
  [ -f "$guest" ] || fail "no nook-guest beside $NOOK nor in ../libexec/nook: the build makes it"
  fake_kernel "$d/kernel"
  mkdir "$d/both" "$d/alone"
  cp "$NOOK" "$guest" "$d/both/"
  cp "$NOOK" "$d/alone/"

  a1=$(initramfs_of "$d/both/nook" "$d/c1")
  run cat "$d/list"
  assert_line nook
  assert_line --regexp '^init$'
  refute_output --partial '.so'
  # /nook is the static binary: no program interpreter.
  run readelf -lW "$d/guest-nook"
  refute_output --partial INTERP
  # The archive is cached by the guest binary's identity: a new build of it
  # is a new archive.
  cat "$guest" >"$d/both/nook-guest.new" && mv "$d/both/nook-guest.new" "$d/both/nook-guest"
  a2=$(initramfs_of "$d/both/nook" "$d/c1")
  [ "$a1" != "$a2" ] || fail "same archive $a1 for another nook-guest"

  # Without nook-guest: nook itself and the libraries it was loaded with.
  initramfs_of "$d/alone/nook" "$d/c2" >/dev/null
  run cat "$d/list"
  assert_line --regexp '^lib.*/libc\.so\.6$'
  run readelf -lW "$d/guest-nook"
  assert_output --partial INTERP

  # A nook-guest that another user could have written is not taken.
  chmod o+w "$d/both/nook-guest"
  initramfs_of "$d/both/nook" "$d/c3" >/dev/null
  run cat "$d/list"
  assert_line --regexp '^lib.*/libc\.so\.6$'
  chmod o-w "$d/both/nook-guest"
  chmod o+w "$d/both"
  initramfs_of "$d/both/nook" "$d/c4" >/dev/null
  run cat "$d/list"
  assert_line --regexp '^lib.*/libc\.so\.6$'
}

@test "vm mode: a nook-guest of another build is refused at the guest's ready, naming both builds" {
  need_qemu
  local d=$BATS_TEST_TMPDIR guest commit id other b=$BATS_TEST_TMPDIR/bundle
  guest=$(dirname "$NOOK")/nook-guest
  [ -e "$guest" ] || guest=$(dirname "$NOOK")/../libexec/nook/nook-guest
  commit=$("$NOOK" --version | sed -n 's/^commit: //p')
  id=$("$NOOK" --version | sed -n 's/^nook version //p')+$commit
  # The same binary with another commit in its build id (same length).
  other=${id%+*}+$(printf '%s' "$commit" | tr '0-9a-z' 'z')
  [ "$other" != "$id" ] || other=${id%+*}+$(printf '%s' "$commit" | tr 'z' 'y')
  mkdir "$d/pair"
  cp "$NOOK" "$d/pair/"
  grep -c -a -F "$id" "$guest" >/dev/null || fail "no build id $id in $guest"
  ID="$id" OTHER="$other" perl -pe 's/\Q$ENV{ID}\E/$ENV{OTHER}/g' "$guest" >"$d/pair/nook-guest"
  chmod 0755 "$d/pair/nook-guest"
  "$REPO_ROOT/scripts/mkbundle.sh" "$b" true >/dev/null
  jq '.annotations = {"nook.vm": "qemu"}' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
  run -1 timeout 300 "$d/pair/nook" --root "$d/root" run -b "$b" test-vmbuild
  assert_output --partial "the guest's nook is build \`$other\`, not this nook's \`$id\`"
  # Nothing left: no state, no VMM.
  run "$d/pair/nook" --root "$d/root" list -q
  assert_output ""
}

@test "vm mode: host-side errors need no boot; vm-exec is not in the help" {
  need_qemu
  run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" vm-exec --kernel-bundle /nonexistent -- true
  assert_output --partial 'kernel bundle `/nonexistent`'
  run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" vm-exec --share 'bad tag=/tmp' -- true
  assert_output --partial "share tag \`bad tag\`"
  run "$NOOK" help
  refute_output --partial vm-exec
}

@test "vm mode: nook run of a bundle annotated nook.vm=qemu runs process.args in the guest" {
  need_qemu
  local b=$BATS_TEST_TMPDIR/bundle
  # A copy of nook without nook-guest beside it: this boot is the one that
  # covers the fallback guest (nook and its shared libraries; every other
  # boot runs the static nook-guest).
  mkdir "$BATS_TEST_TMPDIR/alone"
  cp "$NOOK" "$BATS_TEST_TMPDIR/alone/"
  "$REPO_ROOT/scripts/mkbundle.sh" "$b" >/dev/null
  jq '.annotations = {"nook.vm": "qemu"}
    | .process.args = ["sh", "-c", "echo kernel=$(uname -r) cwd=$(pwd) foo=$FOO; head -n1 /etc/passwd; touch /x 2>/dev/null; echo touch=$?; exit 5"]
    | .process.env += ["FOO=bar"] | .process.cwd = "/etc" | .root.readonly = true' \
    "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
  run -5 --separate-stderr timeout 300 "$BATS_TEST_TMPDIR/alone/nook" --root "$BATS_FILE_TMPDIR/root" \
    run -b "$b" test-vmrun
  refute_line --partial "kernel=$(uname -r) "
  assert_line --regexp '^kernel=[0-9][^ ]* cwd=/etc foo=bar$'
  # The bundle's rootfs is the process's root, read-only as the config says.
  assert_line 'root:x:0:0:root:/root:/bin/sh'
  refute_line 'touch=0'
  run find "$BATS_FILE_TMPDIR/root" -mindepth 1
  assert_output ''
}

@test "vm mode: an unknown backend is refused, never run in namespaces" {
  need_qemu
  local b=$BATS_TEST_TMPDIR/bundle
  "$REPO_ROOT/scripts/mkbundle.sh" "$b" >/dev/null
  jq '.annotations = {"nook.vm": "firecracker"}' "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
  run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" run -b "$b" test-vmcreate
  assert_output --partial 'config.json: annotations["nook.vm"]: unknown VM backend "firecracker": the backends are: qemu'
  run -1 "$NOOK" --root "$BATS_FILE_TMPDIR/root" create -b "$b" test-vmcreate
  assert_output --partial 'config.json: annotations["nook.vm"]: unknown VM backend "firecracker": the backends are: qemu'
  run find "$BATS_FILE_TMPDIR/root" -mindepth 1
  assert_output ''
}

@test "vm mode: a signal to nook run reaches the process in the guest" {
  need_qemu
  local b=$BATS_TEST_TMPDIR/bundle out=$BATS_TEST_TMPDIR/out
  "$REPO_ROOT/scripts/mkbundle.sh" "$b" >/dev/null
  jq '.annotations = {"nook.vm": "qemu"}
    | .process.args = ["sh", "-c", "trap \"echo got-term; exit 3\" TERM; echo waiting; while :; do sleep 0.1; done"]' \
    "$b/config.json" >"$b/c" && mv "$b/c" "$b/config.json"
  # No timeout(1) in between: the signal must reach nook itself.
  "$NOOK" --root "$BATS_FILE_TMPDIR/root" run -b "$b" test-vmsig >"$out" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 600; i++)); do
    grep -q waiting "$out" && break
    sleep 0.1
  done
  if ! grep -qx waiting "$out"; then
    kill -KILL "$pid"
    fail "the guest's process never said waiting: $(cat "$out")"
  fi
  kill -TERM "$pid"
  local rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 3 ]
  run cat "$out"
  assert_line got-term
  run find "$BATS_FILE_TMPDIR/root" -mindepth 1
  assert_output ''
}

@test "test VM: a guest kernel without a timer is booted again, whether it hangs before init or reaches it" {
  need_qemu
  # noapictimer leaves the kernel as a failed calibration of its local APIC
  # timer under TCG does (seen on a busy host).  One vCPU: it reaches the
  # initramfs's init, which finds no timer; two: SMP bring-up hangs before
  # init, and the boot watchdog ends it.  Without either check tests/vm/run
  # waited for its VM_TIMEOUT (a whole CI run).
  run -125 env VM_SMP=1 VM_CMDLINE=noapictimer VM_TIMEOUT=300 "$REPO_ROOT/tests/vm/run" true
  assert_line 'vm/run: boot 1 of 3: the guest kernel has no working timer (its local APIC timer calibration failed)'
  assert_line 'vm/run: boot 3 of 3: the guest kernel has no working timer (its local APIC timer calibration failed)'
  run -125 env VM_SMP=2 VM_BOOT_TIMEOUT=5 VM_CMDLINE=noapictimer VM_TIMEOUT=300 "$REPO_ROOT/tests/vm/run" true
  assert_line 'vm/run: boot 1 of 3: the kernel did not start init in 5s (VM_BOOT_TIMEOUT)'
  assert_line 'vm/run: boot 3 of 3: the kernel did not start init in 5s (VM_BOOT_TIMEOUT)'
  # And a kernel with its timer boots once and runs the command.
  run env VM_SMP=1 "$REPO_ROOT/tests/vm/run" sh -c 'sleep 0.1; echo slept'
  assert_success
  assert_output slept
}
