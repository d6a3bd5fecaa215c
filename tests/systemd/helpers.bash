# Shared helpers of the systemd cgroup driver's suite (tests/systemd/*.bats).
# It needs systemd as PID 1, which this machine does not have: make check runs
# it in the test VM booted with systemd (tests/vm/run --systemd, one boot for
# the whole suite), and every test skips elsewhere.
#
# On top of tests/integration/helpers.bash (NOOK, NOOK_ROOT, ID, setup_bundle,
# update_config, ...), every test gets:
#   NOOK_OPTS  --systemd-cgroup, so every `nook` call uses the driver
#   UNIT       nook-test-$ID.scope, the unit of cgroupsPath
#              system.slice:nook-test:$ID (set by sd_bundle)

load ../integration/helpers

sd_setup() {
  if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
    skip "needs systemd as PID 1 (make check runs this suite in tests/vm/run --systemd)"
  fi
  nook_setup
  NOOK_OPTS=--systemd-cgroup
  UNIT=nook-test-$ID.scope
  SD_EXTRA_UNITS=()
  export NOOK_OPTS UNIT
}

sd_teardown() {
  nook_teardown
  local u
  # A unit a failed test left behind, and the ones a test made itself.
  for u in "${UNIT:-}" "${SD_EXTRA_UNITS[@]}"; do
    [ -n "$u" ] || continue
    systemctl stop "$u" >/dev/null 2>&1 || true
    systemctl reset-failed "$u" >/dev/null 2>&1 || true
  done
}

setup() {
  sd_setup
}

teardown() {
  sd_teardown
}

# sd_bundle [ARGS...]: setup_bundle with cgroupsPath system.slice:nook-test:$ID.
sd_bundle() {
  setup_bundle "$@"
  update_config ".linux.cgroupsPath = \"system.slice:nook-test:$ID\""
}

# unit_prop UNIT PROPERTY: the property's value as `systemctl show` has it.
unit_prop() {
  systemctl show --value -p "$2" "$1"
}

# assert_unit_gone UNIT: systemd has no such unit loaded, and its cgroup is
# gone.
assert_unit_gone() {
  local u=$1 load
  load=$(unit_prop "$u" LoadState)
  [ "$load" = not-found ] || fail "unit $u is still loaded ($load, $(unit_prop "$u" ActiveState))"
  if find /sys/fs/cgroup -name "$u" -print -quit | grep -q .; then
    fail "the cgroup of $u is still there: $(find /sys/fs/cgroup -name "$u")"
  fi
}

# skip_unless_v2 / skip_unless_v1: the suites that read cgroup v2 files
# (driver.bats) and v1 files (v1.bats); tests/vm/run --systemd boots pure v2,
# VM_CMDLINE=systemd.unified_cgroup_hierarchy=0 systemd's hybrid layout.
skip_unless_v2() {
  [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] || skip "the host's cgroups are not pure v2"
}

skip_unless_v1() {
  [ "$(stat -f -c %T /sys/fs/cgroup)" != cgroup2fs ] ||
    skip "pure cgroup v2 here (VM_CMDLINE=systemd.unified_cgroup_hierarchy=0 boots v1)"
}

# scope_dir: the v2 directory of $UNIT (driver.bats runs on pure cgroup v2).
scope_dir() {
  echo "/sys/fs/cgroup$(unit_prop "${1:-$UNIT}" ControlGroup)"
}
