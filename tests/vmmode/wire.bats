#!/usr/bin/env bats
# VM mode's selection, settings and confinement wired into create/run (issue
# #14): a bundle with config.json's `vm` object runs in a VM with the
# object's kernel, parameters, hypervisor, vCPUs and memory; the monitor
# runs QEMU confined in the container's cgroup (linux.cgroupsPath), and
# `delete --force` after kill -9 of the monitor leaves no cgroup; `nook-vm`
# (the binary's name) puts a plain bundle in a VM.  setup_file boots once
# for the vm-object assertions and looks at QEMU from the host while the
# container runs.

load helpers

ID=test-vmwire1
MEM_MIB=320

setup_file() {
  have_qemu || return 0
  local d=$BATS_FILE_TMPDIR
  mkdir -p "$d/seen"
  echo "/test-nook-vmwire-$$" >"$d/cg"
  local kernel qemu
  kernel=$("$NOOK_VM_KERNEL_SCRIPT")/vmlinux
  qemu=$(command -v qemu-system-x86_64)
  "$REPO_ROOT/scripts/mkbundle.sh" "$d/bundle" sh -c \
    'echo cpus=$(grep -c ^processor /proc/cpuinfo); grep ^MemTotal: /proc/meminfo
     echo "cmdline=$(cat /proc/cmdline)"; echo up; sleep 1000' >/dev/null
  # No annotation: the vm object alone selects VM mode.
  jq --arg k "$kernel" --arg q "$qemu" --arg cg "$(cg_name)" --argjson mem $((MEM_MIB << 20)) \
    'del(.annotations) | .vm = {hypervisor: {path: $q}, kernel: {path: $k,
       parameters: ["nook_test_param=1"]}, hwConfig: {vcpus: 2, memory: $mem}}
     | .linux.cgroupsPath = $cg | .linux.resources.pids = {limit: 300}' \
    "$d/bundle/config.json" >"$d/c" && mv "$d/c" "$d/bundle/config.json"
  local root=$d/root out=$d/seen/out
  timeout 300 "$NOOK" --root "$root" run -d -b "$d/bundle" "$ID" >"$out" 2>"$d/seen/err" </dev/null ||
    return 0
  poll "$out" up || return 0
  local pid q
  pid=$("$NOOK" --root "$root" state "$ID" | tee "$d/seen/state" | jq .pid)
  "$NOOK" --root "$root" list >"$d/seen/list"
  q=$(pgrep -P "$pid" qemu-system) || return 0
  cat "/proc/$q/status" >"$d/seen/status"
  cat "/proc/$q/cgroup" >"$d/seen/cgroup"
  cat "/proc/$pid/cgroup" >"$d/seen/monitor-cgroup"
  cat "$(cg_dir memory)/memory.max" "$(cg_dir memory)/memory.limit_in_bytes" 2>/dev/null |
    head -n1 >"$d/seen/memory"
  cat "$(cg_dir pids)/pids.max" >"$d/seen/pids"
  # A monitor killed outright: QEMU dies with it, delete --force cleans.
  kill -9 "$pid"
  poll_gone "$q" || true
  "$NOOK" --root "$root" delete --force "$ID" 2>"$d/seen/delete-err" && echo ok >"$d/seen/deleted"
  left_in_root "$root" >"$d/seen/root-after" || true
  for c in memory pids; do
    [ ! -e "$(cg_dir $c)" ] || echo "$(cg_dir $c)"
  done >"$d/seen/cg-after"
  pgrep -f "qemu-system.*$root" >"$d/seen/qemu-after" || true
  echo "$q" >"$d/seen/qemu"
}

teardown_file() {
  [ -z "${BATS_FILE_TMPDIR:-}" ] || {
    "$NOOK" --root "$BATS_FILE_TMPDIR/root" delete --force "$ID" 2>/dev/null
    rm -rf "$BATS_FILE_TMPDIR/root"
  }
}

seen() {
  [ -e "$BATS_FILE_TMPDIR/seen/qemu" ] ||
    fail "the container never came up: $(cat "$BATS_FILE_TMPDIR/seen/err" "$BATS_FILE_TMPDIR/seen/out" 2>&1)"
}

@test "vm wire: a bundle with a vm object runs in a VM with its vCPUs, memory and kernel parameters" {
  need_qemu
  seen
  local out=$BATS_FILE_TMPDIR/seen/out
  run grep '^cpus=' "$out"
  assert_output 'cpus=2'
  local kb
  kb=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' "$out")
  # 320 MiB less what the guest kernel keeps: more than all of the 256 MiB default.
  [ "$kb" -gt $((256 * 1024)) ] && [ "$kb" -le $((MEM_MIB * 1024)) ] || fail "MemTotal $kb kB"
  run grep '^cmdline=' "$out"
  assert_output --partial 'nook_test_param=1'
}

@test "vm wire: nook state names the backend; nook list lists the container" {
  need_qemu
  seen
  run jq -r '.annotations["nook.vm"]' "$BATS_FILE_TMPDIR/seen/state"
  assert_output qemu
  run jq -r .status "$BATS_FILE_TMPDIR/seen/state"
  assert_output running
  run cat "$BATS_FILE_TMPDIR/seen/list"
  assert_line --regexp "^$ID +[0-9]+ +running "
}

@test "vm wire: the monitor runs QEMU confined in the container's cgroup with guest RAM plus overhead" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  run grep -E '^(CapPrm|CapEff|CapBnd|NoNewPrivs|Seccomp):' "$s/status"
  # The rootfs share is writable: CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FOWNER,
  # CAP_FSETID (bits 0, 1, 3, 4) and nothing else.
  assert_line --regexp '^CapPrm:\s+0+1b$'
  assert_line --regexp '^CapEff:\s+0+1b$'
  assert_line --regexp '^CapBnd:\s+0+1b$'
  assert_line --regexp '^NoNewPrivs:\s+1$'
  assert_line --regexp '^Seccomp:\s+2$'
  assert_vmm_cgroup "$s" "$MEM_MIB" 300
}

# Engines find a container's cgroup through its pid's /proc/PID/cgroup
# (containerd's runc shim for metrics and OOM events, podman for stats).
@test "vm wire: the container's pid (the monitor) is in the container's cgroup" {
  need_qemu
  seen
  local line n=0
  while read -r line; do
    [[ $line == *":$(cg_name)" ]] || fail "the monitor is not in $(cg_name): $line"
    n=$((n + 1))
  done <"$BATS_FILE_TMPDIR/seen/monitor-cgroup"
  [ "$n" -gt 0 ] || fail "no /proc/PID/cgroup of the monitor"
}

@test "vm wire: delete --force after kill -9 of the monitor leaves no QEMU, state or cgroup" {
  need_qemu
  seen
  local s=$BATS_FILE_TMPDIR/seen
  [ -e "$s/deleted" ] || fail "delete --force failed: $(cat "$s/delete-err")"
  run cat "$s/root-after" "$s/cg-after" "$s/qemu-after"
  assert_output ''
}

@test "vm wire: nook-vm runs a plain bundle in a VM" {
  need_qemu
  local d=$BATS_TEST_TMPDIR
  ln -s "$NOOK" "$d/nook-vm"
  "$REPO_ROOT/scripts/mkbundle.sh" "$d/bundle" sh -c 'echo kernel=$(uname -r)' >/dev/null
  run jq -e '.annotations["nook.vm"] // .vm' "$d/bundle/config.json"
  assert_failure
  run --separate-stderr timeout 300 "$d/nook-vm" --root "$d/root" run -b "$d/bundle" test-vmwire2 </dev/null
  assert_success
  assert_output --regexp '^kernel=[0-9]'
  refute_output "kernel=$(uname -r)"
  run left_in_root "$d/root"
  assert_output ''
}

@test "vm wire: an invalid vm object is refused before a boot, naming the field" {
  need_qemu
  local d=$BATS_TEST_TMPDIR
  "$REPO_ROOT/scripts/mkbundle.sh" "$d/bundle" true >/dev/null
  jq '.vm = {kernel: {path: "/no/such/vmlinux"}}' "$d/bundle/config.json" >"$d/c"
  mv "$d/c" "$d/bundle/config.json"
  run -1 "$NOOK" --root "$d/root" run -b "$d/bundle" test-vmwire3 </dev/null
  assert_output --partial 'vm.kernel.path'
  [ ! -e "$d/root" ] || [ -z "$(find "$d/root" -mindepth 1)" ]
}
