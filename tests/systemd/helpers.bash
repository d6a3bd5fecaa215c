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

# The suite's busybox bundle, made once per file, or once for the whole
# systemd pass on the host before the boot (NOOK_SD_BASE: scripts/mkbundle.sh
# costs ~10-30 s under TCG): every test gets a config.json of its own whose
# root.path is this rootfs, which the containers mount read-only.
sd_setup_file() {
  [ "$(cat /proc/1/comm 2>/dev/null)" = systemd ] || return 0
  if [ -n "${NOOK_SD_BASE:-}" ] && [ -f "$NOOK_SD_BASE/config.json" ]; then
    SD_BASE=$NOOK_SD_BASE
  else
    SD_BASE=$BATS_FILE_TMPDIR/base
    "$REPO_ROOT/scripts/mkbundle.sh" "$SD_BASE" true >/dev/null || return 1
  fi
  export SD_BASE
}

# sd_bundle_at CGROUPS_PATH [ARGS...]: BUNDLE, a config.json of the base
# bundle with process.args ARGS (default sh) and linux.cgroupsPath (none
# when empty); cd into it.
sd_bundle_at() {
  local path=$1
  shift
  [ $# -gt 0 ] || set -- sh
  [ -n "${SD_BASE:-}" ] || fail "setup_file did not call sd_setup_file"
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  mkdir -p "$BUNDLE"
  # Each arg as --arg: jq 1.6 would take a "-c" after --args as its option.
  local jargs=() list="" i=0 a
  for a in "$@"; do
    jargs+=(--arg "a$i" "$a")
    list+="${list:+,}\$a$i"
    i=$((i + 1))
  done
  jq --arg root "$SD_BASE/rootfs" --arg path "$path" "${jargs[@]}" \
    ".root.path = \$root | .process.args = [$list]
     | if \$path == \"\" then del(.linux.cgroupsPath) else .linux.cgroupsPath = \$path end" \
    "$SD_BASE/config.json" >"$BUNDLE/config.json" || fail "sd_bundle_at: jq failed"
  export BUNDLE
  cd "$BUNDLE" || fail "cd $BUNDLE"
}

# sd_bundle [ARGS...]: sd_bundle_at with cgroupsPath system.slice:nook-test:$ID.
sd_bundle() {
  sd_bundle_at "system.slice:nook-test:$ID" "$@"
}

# unit_prop UNIT PROPERTY: the property's value as `systemctl show` has it.
unit_prop() {
  systemctl show --value -p "$2" "$1"
}

# unit_show UNIT: every property of UNIT into the array PROP, in one
# systemctl call (each costs ~0.7 s under TCG).  A property systemctl
# prints once per entry (DeviceAllow) gets them one a line.
declare -gA PROP
unit_show() {
  local k v
  PROP=()
  while IFS='=' read -r k v; do
    PROP[$k]+=${PROP[$k]+$'\n'}$v
  done < <(systemctl show "$1")
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
