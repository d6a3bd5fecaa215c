# Helpers for the mount, device and overlay tests (mounts_options.bats,
# devices.bats, overlay.bats) and the attack suite (tests/security).
# Load after helpers: `load helpers; load mounts_helpers`.

# A script for the container: one line per mount, from /proc/self/mountinfo:
#   M MOUNTPOINT FSTYPE MOUNT_OPTIONS SUPER_OPTIONS PROPAGATION
# PROPAGATION is the optional fields joined by commas (shared:N, master:N,
# unbindable), or "-" when there are none (a private mount).
MOUNTINFO_SCRIPT='awk '"'"'{ o = ""; for (i = 7; $i != "-"; i++) o = o (o == "" ? "" : ",") $i; print "M", $5, $(i + 1), $6, $(i + 3), (o == "" ? "-" : o) }'"'"' /proc/self/mountinfo'

# mnt OUTPUT MOUNTPOINT [FIELD]: the line of MOUNTINFO_SCRIPT output for the
# last (topmost) mount at MOUNTPOINT, or only FIELD of it (fstype, opts,
# super, prop).  Empty when nothing is mounted there.  Lines not starting
# with "M " (other output of the container) are ignored.
mnt() {
  local field=0
  case "${3:-}" in
  fstype) field=3 ;;
  opts) field=4 ;;
  super) field=5 ;;
  prop) field=6 ;;
  esac
  awk -v m="$2" -v f="$field" '$1 == "M" && $2 == m { l = (f ? $f : substr($0, 3)) } END { print l }' <<<"$1"
}

# mnt_count OUTPUT MOUNTPOINT: how many mounts are stacked at MOUNTPOINT.
mnt_count() {
  awk -v m="$2" '$1 == "M" && $2 == m { n++ } END { print n + 0 }' <<<"$1"
}

# has_opt LIST OPT: LIST (comma-separated) contains OPT exactly.
has_opt() {
  [[ ,$1, == *,$2,* ]]
}

# assert_opt OUTPUT MOUNTPOINT FIELD OPT / refute_opt ...: the FIELD (opts,
# super, prop) of the mount at MOUNTPOINT does / does not hold OPT
# (exactly, or with a trailing ":" a prefix such as "shared:").
_opt_in() {
  local list=$1 opt=$2
  if [[ $opt == *: ]]; then
    [[ ,$list, == *,"$opt"* ]]
  else
    has_opt "$list" "$opt"
  fi
}
assert_opt() {
  local line list
  line=$(mnt "$1" "$2")
  [ -n "$line" ] || fail "nothing mounted at $2"
  list=$(mnt "$1" "$2" "$3")
  _opt_in "$list" "$4" || fail "$2: $3 '$list' lacks $4 (mount: $line)"
}
refute_opt() {
  local line list
  line=$(mnt "$1" "$2")
  [ -n "$line" ] || fail "nothing mounted at $2"
  list=$(mnt "$1" "$2" "$3")
  if _opt_in "$list" "$4"; then
    fail "$2: $3 '$list' has $4 (mount: $line)"
  fi
}

# add_mount DEST TYPE SOURCE [OPTIONS...]: append a mounts[] entry.
add_mount() {
  local dest=$1 type=$2 src=$3
  shift 3
  "$PYTHON" - "$BUNDLE/config.json" "$dest" "$type" "$src" "$@" <<'PY' || fail "add_mount failed"
import json, sys
path, dest, typ, src, opts = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]
with open(path) as f:
    c = json.load(f)
m = {"destination": dest, "type": typ, "source": src}
if opts:
    m["options"] = opts
c["mounts"].append(m)
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PY
}

# add_mounts SPEC...: append several mounts[] entries in one go (one Python
# run instead of one per entry); SPEC is "DEST TYPE SOURCE [OPT,OPT...]"
# (no spaces in the fields).
add_mounts() {
  "$PYTHON" - "$BUNDLE/config.json" "$@" <<'PY' || fail "add_mounts failed"
import json, sys
path, specs = sys.argv[1], sys.argv[2:]
with open(path) as f:
    c = json.load(f)
for spec in specs:
    f = spec.split()
    m = {"destination": f[0], "type": f[1], "source": f[2]}
    if len(f) > 3 and f[3]:
        m["options"] = f[3].split(",")
    c["mounts"].append(m)
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PY
}

# add_caps CAP...: add capabilities to the bounding, effective and
# permitted sets of process.capabilities.
add_caps() {
  local caps
  caps=$(printf '"%s",' "$@")
  update_config "for s in ('bounding', 'effective', 'permitted'):
    c['process']['capabilities'].setdefault(s, []).extend([${caps%,}])"
}

# --- a private mount namespace for the test --------------------------------
# Tests that need mounts on the "host" side (submounts of a bind source,
# shared peer groups, mounts made after the container started) make them in
# a mount namespace of their own, never in the real host's: private_mntns
# starts `unshare -m --propagation private sleep` (killed in teardown, which
# frees the namespace and every mount made in it); in_ns runs a command in
# it, nook_ns runs the runtime in it (so the container's mount namespace is
# a copy of the test's one and propagation between them is what is tested).
private_mntns() {
  bg unshare -m --propagation private sleep 600
  NSPID=$BG_PID
  local i
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    if [ "$(readlink "/proc/$NSPID/ns/mnt" 2>/dev/null)" != "$(readlink /proc/$$/ns/mnt)" ] &&
      [ "$(cat "/proc/$NSPID/comm" 2>/dev/null)" = sleep ]; then
      return 0
    fi
    sleep 0.02
  done
  fail "private mount namespace did not come up"
}

# (nsenter would start in /: keep the working directory)
in_ns() {
  nsenter -t "$NSPID" -m --wd="$PWD" -- "$@"
}

nook_ns() {
  in_ns timeout -k 5 "$NOOK_CMD_TIMEOUT" "$NOOK" ${NOOK_OPTS:-} --root "$NOOK_ROOT" "$@"
}

# nook_ns_detached ID SUBCOMMAND [FLAGS...]: like nook_detached, in the
# test's mount namespace (output in $BATS_TEST_TMPDIR/ID.out).
nook_ns_detached() {
  local id=$1 sub=$2 rc=0
  shift 2
  local out=$BATS_TEST_TMPDIR/$id.out
  : >"$out"
  nook_ns "$sub" "$@" "$id" </dev/null >>"$out" 2>&1 3>&- || rc=$?
  cat "$out"
  return $rc
}

# The mountinfo of the test's mount namespace, as MOUNTINFO_SCRIPT prints it.
ns_mounts() {
  in_ns sh -c "$MOUNTINFO_SCRIPT"
}
