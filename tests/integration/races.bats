#!/usr/bin/env bats
# Lifecycle races and leaks: commands on one id running at once, a runtime
# killed half-way through create, cgroups shared with processes that are not
# the container's, state files that are damaged.

load helpers

# cg_leftovers NAME: print every cgroup directory NAME (relative to this
# shell's cgroup, as a relative cgroupsPath resolves) that exists in any
# hierarchy: each v1 hierarchy and the v2 one (/sys/fs/cgroup/unified on a
# hybrid host).
cg_leftovers() {
  local name=$1 line ctrls path mnt
  while IFS= read -r line; do
    ctrls=$(cut -d: -f2 <<<"$line")
    path=$(cut -d: -f3- <<<"$line")
    if [ -z "$ctrls" ]; then
      mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
    else
      ctrls=${ctrls#name=}
      mnt=$(awk -v c="$ctrls" '$3 == "cgroup" && ("," $4 ",") ~ ("," c ",") { print $2; exit }' /proc/mounts)
    fi
    [ -n "$mnt" ] || continue
    [ -d "$mnt${path%/}/$name" ] && echo "$mnt${path%/}/$name"
  done </proc/$$/cgroup
  return 0
}

# The processes left in any of NAME's cgroups.
cg_procs() {
  local d
  for d in $(cg_leftovers "$1"); do
    find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null
  done
}

# Nothing of container ID with cgroup CGNAME is left: no state, no cgroup, no
# process.
assert_nothing_left() {
  local cgname=$1 left
  left=$(cg_procs "$cgname")
  [ -z "$left" ] || fail "processes left in cgroup $cgname: $left"
  left=$(cg_leftovers "$cgname")
  [ -z "$left" ] || fail "cgroup dirs left: $left"
  # (the seccomp cache is shared by all containers, not state)
  left=$(ls -A "$NOOK_ROOT" | grep -vx '.seccomp~cache' || true)
  [ -z "$left" ] || fail "state left in $NOOK_ROOT: $left"
}

# One stress worker: random lifecycle commands on one id until END (epoch
# seconds); bats' errexit must not end it.  Every error line goes to W.err; each create that succeeded
# leaves its pid file W-N.pid.
stress_worker() {
  local w=$1 end=$2 dir=$3 n=0 op
  while [ "$(date +%s)" -lt "$end" ]; do
    n=$((n + 1))
    op=$((RANDOM % 6))
    case $op in
    0 | 1) "$NOOK" --root "$NOOK_ROOT" create --bundle "$BUNDLE" --pid-file "$dir/$w-$n.pid" "$ID" ;;
    2) "$NOOK" --root "$NOOK_ROOT" start "$ID" ;;
    3) "$NOOK" --root "$NOOK_ROOT" kill "$ID" KILL ;;
    4) "$NOOK" --root "$NOOK_ROOT" delete "$ID" ;;
    5) "$NOOK" --root "$NOOK_ROOT" delete --force "$ID" ;;
    esac </dev/null >/dev/null 2>>"$dir/$w.err" 3>&- || true
    "$NOOK" --root "$NOOK_ROOT" state "$ID" </dev/null >/dev/null 2>>"$dir/$w.err" 3>&- || true
    "$NOOK" --root "$NOOK_ROOT" list </dev/null >/dev/null 2>>"$dir/$w.err" 3>&- || true
  done
  return 0
}

@test "races: parallel create/start/kill/delete on one id: one winner, no orphan, no leak" {
  setup_bundle sleep 1000
  local cgname="nook-test-$ID"
  update_config "c['linux']['cgroupsPath'] = '$cgname'"
  local dir=$BATS_TEST_TMPDIR/stress w pids=() end
  mkdir -p "$dir"
  end=$(($(date +%s) + 25))
  for w in 1 2 3 4 5 6; do
    stress_worker "$w" "$end" "$dir" &
    pids+=($!)
    BG_PIDS+=($!)
  done
  for w in "${pids[@]}"; do
    wait "$w"
  done

  # Only the refusals a lost race explains.
  local bad
  bad=$(cat "$dir"/*.err | grep -vE 'already exists|does not exist|not running|has stopped|already running|that is not stopped' || true)
  [ -z "$bad" ] || fail "unexpected errors: $(sort "$dir"/*.err | uniq -c | sort -rn | head -20)"

  # Every container a create reported is either gone or the one listed.
  local listed f pid
  listed=$(nook list -f json | jq -r --arg id "$ID" '.[]? | select(.id == $id) | .pid')
  for f in "$dir"/*.pid; do
    [ -e "$f" ] || continue
    pid=$(cat "$f")
    [ -n "$pid" ] || continue
    grep -qF "$cgname" "/proc/$pid/cgroup" 2>/dev/null || continue
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && continue
    [ "$pid" = "$listed" ] || fail "container process $pid is alive but not listed (list: '$listed')"
  done
  ls "$dir"/*.pid >/dev/null 2>&1 || fail "no create succeeded in 25 s"

  run nook delete --force "$ID"
  assert_success
  assert_nothing_left "$cgname"
}
