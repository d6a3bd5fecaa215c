# Shared by the VM-mode suites (tests/vmmode/*.bats, each does `load helpers`):
# the bats libraries, where nook and its kernel script are, and the helpers
# more than one suite uses.  Per-suite helpers stay in their own file.

BATS_LIB_DIR=${BATS_LIB_DIR:-/usr/lib/bats}
load "$BATS_LIB_DIR/bats-support/load"
load "$BATS_LIB_DIR/bats-assert/load"
bats_require_minimum_version 1.5.0

REPO_ROOT=$(cd "$(dirname "$BATS_TEST_FILENAME")/../.." && pwd)
NOOK=${NOOK:-$REPO_ROOT/nook}
# The kernel bundle comes from the checkout's script whatever binary runs.
export NOOK_VM_KERNEL_SCRIPT=${NOOK_VM_KERNEL_SCRIPT:-$REPO_ROOT/scripts/vm-kernel}
# The suite's own compiled seccomp filter cache, not the host's: a VM-mode
# create compiles the config's profile through it for the guest.
export NOOK_SECCOMP_CACHE=$BATS_FILE_TMPDIR/seccomp-cache

# have_qemu: whether QEMU is here (setup_file returns early without it).
have_qemu() {
  command -v qemu-system-x86_64 >/dev/null
}

# need_qemu: skip the test when QEMU is missing (the suites' only skip).
need_qemu() {
  have_qemu || skip "qemu-system-x86_64 is missing (scripts/deps.sh installs qemu-system-x86)"
}

# kernel_bundle: a setup_file step; the kernel bundle may have to be
# downloaded first (minutes, once), so not inside a test's timeout.
kernel_bundle() {
  have_qemu || return 0
  "$NOOK_VM_KERNEL_SCRIPT" >/dev/null
}

# setup_vm_bundle: a test's setup for one container: skip without QEMU,
# ROOT the state directory, B a fresh bundle annotated nook.vm=qemu.
setup_vm_bundle() {
  need_qemu
  ROOT=$BATS_TEST_TMPDIR/root
  B=$BATS_TEST_TMPDIR/bundle
  "$REPO_ROOT/scripts/mkbundle.sh" "$B" >/dev/null
  vm_config '.'
}

# delete_all: a test's teardown: force-delete every container under ROOT.
delete_all() {
  local id
  for id in $("$NOOK" --root "$ROOT" list -q 2>/dev/null); do
    "$NOOK" --root "$ROOT" delete --force "$id" || true
  done
}

# vm_config [JQ_OPTION...] JQ: apply JQ to the bundle's config, with the
# annotation; options before it (--arg NAME VALUE) go to jq.
vm_config() {
  local f=${*: -1}
  jq "${@:1:$#-1}" ".annotations[\"nook.vm\"] = \"qemu\" | $f" "$B/config.json" >"$B/c" &&
    mv "$B/c" "$B/config.json"
}

# nook ARGS...: the binary under test with the test's state directory.
nook() {
  "$NOOK" --root "$ROOT" "$@"
}

# poll FILE TEXT: at most 120 s until FILE has a line TEXT; 1 if it never does.
poll() {
  local i
  for ((i = 0; i < 1200; i++)); do
    grep -qx "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_for FILE TEXT: poll, failing the test if TEXT never comes.
wait_for() {
  poll "$1" "$2" || fail "no line '$2' in $1: $(cat "$1")"
}

# poll_gone PID: at most 10 s until the process is gone; 1 if it stays.
poll_gone() {
  local i
  for ((i = 0; i < 200; i++)); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  return 1
}

# wait_gone PID: poll_gone, failing the test if the process stays.
wait_gone() {
  poll_gone "$1" || fail "process $1 still there"
}

# assert_nothing_left: nothing of the container is left: no state, no QEMU,
# no mount.
assert_nothing_left() {
  run find "$ROOT" -mindepth 1
  [ "$status" -ne 0 ] || assert_output ''
  run pgrep -f "qemu-system.*$ROOT"
  assert_failure
  run grep -c "$ROOT" /proc/self/mountinfo
  assert_output 0
}

# cg_name: the cgroup setup_file chose (it writes it to $BATS_FILE_TMPDIR/cg).
cg_name() { cat "$BATS_FILE_TMPDIR/cg"; }

# cg_dir CONTROLLER: the directory of that cgroup for CONTROLLER (v1 and
# hybrid: the controller's own hierarchy; v2: the unified one).
cg_dir() {
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
    echo "/sys/fs/cgroup$(cg_name)"
  else
    echo "/sys/fs/cgroup/$1$(cg_name)"
  fi
}

# assert_vmm_cgroup SEEN MIB PIDS: what setup_file saved in SEEN (QEMU's
# /proc cgroup, the cgroup's memory and pids limits) shows QEMU in cg_name
# limited to MIB of guest RAM plus the VMM's overhead and to PIDS tasks.
assert_vmm_cgroup() {
  local line cg overhead
  cg=$(cg_name)
  while read -r line; do
    [[ $line == *":$cg" ]] || fail "not in $cg: $line"
  done <"$1/cgroup"
  overhead=$(sed -n 's/^#define VMM_MEMORY_OVERHEAD_MIB \([0-9]*\)$/\1/p' "$REPO_ROOT/vmm/confine.h")
  run cat "$1/memory"
  assert_output "$((($2 + overhead) * 1024 * 1024))"
  run cat "$1/pids"
  assert_output "$3"
}

# run_ns_mode CMD ID: `run -1` CMD (run, create) of the bundle without its
# annotations, in namespace mode: the words a VM-mode error must match.
run_ns_mode() {
  local ns=$BATS_TEST_TMPDIR/ns
  mkdir "$ns"
  jq 'del(.annotations)' "$B/config.json" >"$ns/config.json"
  ln -s "$B/rootfs" "$ns/rootfs"
  run -1 "$NOOK" --root "$BATS_TEST_TMPDIR/nsroot" "$1" -b "$ns" "$2"
}

# own_templates: a setup_file's: the guest kernel bundle, and templates in
# the file's own directory, not the host's.
own_templates() {
  kernel_bundle
  export NOOK_VM_TEMPLATES=$BATS_FILE_TMPDIR/templates
}
