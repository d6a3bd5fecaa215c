# Shared helpers for nook's integration tests (bats).
#
# Every test gets:
#   NOOK        the runtime under test (default: the repo's ./nook; NOOK=/usr/sbin/runc works)
#   NOOK_ROOT   a private state root, passed as --root on every `nook` call
#   ID          a container id unique to this test (and this run), ID2 a second one
#   BUNDLE      set by setup_bundle: a busybox bundle in the test's tmpdir (and the cwd)
# and a teardown that force-deletes whatever the test left in NOOK_ROOT.

BATS_LIB_DIR=${BATS_LIB_DIR:-/usr/lib/bats}
load "$BATS_LIB_DIR/bats-support/load"
load "$BATS_LIB_DIR/bats-assert/load"
bats_require_minimum_version 1.5.0

INTEGRATION_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$INTEGRATION_DIR/../.." && pwd)

# Resolve NOOK to an absolute path once, so tests may cd anywhere.
NOOK=${NOOK:-$REPO_ROOT/nook}
if [[ $NOOK != /* ]]; then
  if [[ $NOOK == */* ]]; then
    NOOK=$PWD/$NOOK
  else
    NOOK=$(command -v "$NOOK" || echo "$NOOK")
  fi
fi
export NOOK

# The system python (a version manager's shim on PATH costs ~0.1 s a call).
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
export PYTHON

# Seconds one runtime invocation may take before it is killed (a hung runtime
# must fail its test, not the whole CI run).
NOOK_CMD_TIMEOUT=${NOOK_CMD_TIMEOUT:-60}

# The runtime's program name: tests that check behaviour where nook
# deliberately differs from its peers (default state dir, messages) use it.
runtime_name() {
  basename "$NOOK"
}

is_peer_runtime() {
  case "$(runtime_name)" in
  runc* | crun*) return 0 ;;
  *) return 1 ;;
  esac
}

# Skip a test of a feature that a peer runtime used for validation (runc
# 1.1.x, crun) does not implement.  Never skips for nook.
#   skip_if_peer_lacks "time namespace" '.linux.namespaces | index("time")'
# The jq filter is applied to `features`; a peer whose features output makes
# it null/false (or that has no `features`) is skipped.
skip_if_peer_lacks() {
  local what=$1 filter=$2 res
  is_peer_runtime || return 0
  res=$("$NOOK" features 2>/dev/null | jq -r "$filter" 2>/dev/null || true)
  if [ -z "$res" ] || [ "$res" = null ] || [ "$res" = false ]; then
    skip "$(runtime_name) does not implement $what"
  fi
}

# Skip when the peer runtime is older than VERSION (for features that runc's
# `features` does not report, such as personality or the scheduler).
skip_if_peer_older() {
  local version=$1 what=$2 have
  is_peer_runtime || return 0
  have=$("$NOOK" --version 2>/dev/null | sed -n 's/.*version \([0-9][0-9.]*\).*/\1/p' | head -n1)
  [ -n "$have" ] || return 0
  if [ "$(printf '%s\n%s\n' "$have" "$version" | sort -V | head -n1)" != "$version" ]; then
    skip "$(runtime_name) $have does not implement $what (needs $version)"
  fi
}

# Skip on a peer runtime a test of behaviour where nook deliberately differs
# from it (it follows the spec where the peer does not, or says it in its own
# words).  REASON names the difference.  Never skips for nook.
skip_for_peer() {
  if is_peer_runtime; then
    skip "$(runtime_name) differs: $1"
  fi
}

nook_setup() {
  if [ ! -x "$NOOK" ]; then
    fail "runtime $NOOK is not built (run make, or set NOOK=/usr/sbin/runc)"
  fi
  NOOK_ROOT=$BATS_TEST_TMPDIR/state
  mkdir -p "$NOOK_ROOT"
  # The test's own compiled seccomp filter cache, not the host's: what a
  # test sees (a compile and its debug lines) does not depend on the tests
  # before it, or on another checkout's nook.
  export NOOK_SECCOMP_CACHE=$BATS_TEST_TMPDIR/seccomp-cache
  # A short token unique to this bats run, so that ids (and the cgroups the
  # runtime derives from them) never clash with another run or test.
  local run_token
  run_token=$(basename "$BATS_RUN_TMPDIR")
  run_token=${run_token##*-}
  ID="nt${run_token:0:6}-${BATS_SUITE_TEST_NUMBER:-$BATS_TEST_NUMBER}"
  ID2="$ID-b"
  BG_PIDS=()
  EXTRA_CLEANUP=()
  HOST_PID=$$
  export NOOK_ROOT ID ID2
}

# Every runtime call goes through here: private --root, a time limit.
# NOOK_OPTS may hold extra global options (e.g. --log FILE --log-format json).
nook() {
  # --foreground keeps the runtime in our process group (terminal tests,
  # signal forwarding); -k kills it when it ignores the TERM.
  timeout --foreground -k 5 "$NOOK_CMD_TIMEOUT" "$NOOK" ${NOOK_OPTS:-} --root "$NOOK_ROOT" "$@"
}

# Runtime calls whose container outlives them (create, run -d): the
# container inherits the runtime's stdio, so a pipe (as bats `run` uses)
# would keep the test waiting for it.  stdin is /dev/null, stdout and stderr
# go to $BATS_TEST_TMPDIR/<id>.out; what the runtime printed is echoed back.
# Usage: nook_detached ID SUBCOMMAND [FLAGS...]   (ID is appended last)
nook_detached() {
  local id=$1 sub=$2 rc=0
  shift 2
  local out=$BATS_TEST_TMPDIR/$id.out
  : >"$out"
  nook "$sub" "$@" "$id" </dev/null >>"$out" 2>&1 3>&- || rc=$?
  cat "$out"
  return $rc
}

# create_container ID [create flags...]: `create --bundle $BUNDLE`.
create_container() {
  local id=$1
  shift
  nook_detached "$id" create --bundle "$BUNDLE" "$@"
}

# run_detached ID [run flags...]: `run -d --bundle $BUNDLE`.
run_detached() {
  local id=$1
  shift
  nook_detached "$id" run -d --bundle "$BUNDLE" "$@"
}

# What the container wrote to its stdout/stderr (see nook_detached).
container_output() {
  cat "$BATS_TEST_TMPDIR/$1.out"
}

# setup_bundle [ARGS...]: a fresh busybox bundle at $BATS_TEST_TMPDIR/bundle
# with process.args ARGS (default sh); cd into it.
setup_bundle() {
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  NOOK="$NOOK" "$REPO_ROOT/scripts/mkbundle.sh" "$BUNDLE" "$@" >&2 ||
    fail "mkbundle.sh failed"
  # NOOK_TEST_VM=1 runs the suite's containers in VM mode (tests/vmmode
  # names the files and tests that pass so).
  if [ "${NOOK_TEST_VM:-0}" = 1 ]; then
    jq '.annotations["nook.vm"] = "qemu"' "$BUNDLE/config.json" >"$BUNDLE/config.vm" &&
      mv "$BUNDLE/config.vm" "$BUNDLE/config.json" || fail "NOOK_TEST_VM: no annotation"
  fi
  export BUNDLE
  cd "$BUNDLE" || fail "cd $BUNDLE"
}

# update_config 'PYTHON' [CONFIG]: edit config.json with Python statements
# where `c` is the parsed document.  Helpers available to the code:
#   ns_remove(type), ns_add(type, path=None), ns_set_path(type, path)
# Example: update_config 'c["process"]["cwd"] = "/tmp"'
# An edit starting with "." is a jq filter instead:
#          update_config '.process.cwd = "/tmp"'
update_config() {
  local code=$1 file=${2:-$BUNDLE/config.json}
  if [[ $code == .* ]]; then
    jq "$code" "$file" >"$file.new" && mv "$file.new" "$file" || fail "update_config failed: $code"
    return
  fi
  "$PYTHON" - "$file" "$code" <<'PY' || fail "update_config failed: $code"
import json, sys
path, code = sys.argv[1], sys.argv[2]
with open(path) as f:
    c = json.load(f)

def _nss():
    return c.setdefault("linux", {}).setdefault("namespaces", [])

def ns_remove(t):
    c["linux"]["namespaces"] = [n for n in _nss() if n["type"] != t]

def ns_add(t, path=None):
    ns_remove(t)
    n = {"type": t}
    if path:
        n["path"] = path
    _nss().append(n)

def ns_set_path(t, path):
    ns_add(t, path)

exec(code)
with open(path, "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PY
}

# set_args ARGS...: process.args = ARGS.
set_args() {
  "$PYTHON" - "$BUNDLE/config.json" "$@" <<'PY' || fail "set_args failed"
import json, sys
path = sys.argv[1]
with open(path) as f:
    c = json.load(f)
c["process"]["args"] = sys.argv[2:]
with open(path, "w") as f:
    json.dump(c, f, indent=2)
PY
}

# A host directory bind-mounted read-write at /out in the container, for
# results that do not fit on stdout (and for hooks in the container).
# Sets OUTDIR.
add_out_mount() {
  OUTDIR=$BATS_TEST_TMPDIR/out
  mkdir -p "$OUTDIR"
  chmod 0777 "$OUTDIR"
  update_config "c['mounts'].append({'destination': '/out', 'type': 'bind', 'source': '$OUTDIR', 'options': ['rbind', 'rw']})"
}

# state_field ID FIELD: one field of `nook state ID` (jq path without the dot).
state_field() {
  nook state "$1" | jq -r ".$2"
}

# The waits below poll against the wall clock with a generous default bound:
# this machine is shared and slow (the TCG VM of the v2 pass ~15x more), and a
# poll that counts iterations stretches or shrinks with the cost of each
# probe.  A poll returns as soon as its condition holds: the bound costs
# nothing unless a test fails.
NOOK_WAIT_TIMEOUT=${NOOK_WAIT_TIMEOUT:-120}

# wait_for_state ID STATUS [TIMEOUT_SECONDS=$NOOK_WAIT_TIMEOUT]
wait_for_state() {
  local id=$1 want=$2 timeout=${3:-$NOOK_WAIT_TIMEOUT} got="" end
  end=$((SECONDS + timeout))
  while :; do
    got=$(nook state "$id" 2>/dev/null | jq -r .status 2>/dev/null || true)
    [ "$got" = "$want" ] && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.05
  done
  fail "container $id: status '$got' after ${timeout}s, wanted '$want'"
}

# image_state DIR: every entry of an image with type, size, mode, mtime and
# inode, and the checksum of every regular file (overlay.bats, job.bats: the
# image must come out of a container unchanged).
image_state() {
  (cd "$1" && find . -printf '%p %y %s %m %T@ %i\n' | sort && find . -type f -exec md5sum {} + | sort)
}

# wait_for_file FILE [TIMEOUT_SECONDS=$NOOK_WAIT_TIMEOUT]: until FILE exists and is non-empty.
wait_for_file() {
  local f=$1 timeout=${2:-$NOOK_WAIT_TIMEOUT} end
  end=$((SECONDS + timeout))
  while :; do
    [ -s "$f" ] && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.05
  done
  fail "$f did not appear within ${timeout}s"
}

# wait_pid_gone PID [TIMEOUT_SECONDS=$NOOK_WAIT_TIMEOUT]
wait_pid_gone() {
  local pid=$1 timeout=${2:-$NOOK_WAIT_TIMEOUT} end
  end=$((SECONDS + timeout))
  while :; do
    kill -0 "$pid" 2>/dev/null || return 0
    # A zombie (not reaped yet by its parent) counts as gone.
    [ "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" = Z ] && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.05
  done
  fail "process $pid still alive after ${timeout}s"
}

# Make the test's tmpdir traversable for ids mapped into a user namespace
# (bats creates its temp dirs 0700).
open_tmpdir_for_userns() {
  local d=$BATS_TEST_TMPDIR
  while [ "$d" != / ] && [ "$d" != /tmp ]; do
    chmod o+x "$d"
    d=$(dirname "$d")
  done
}

# The host's namespace link for TYPE (as this test process sees it).
host_ns() {
  readlink "/proc/$HOST_PID/ns/$1"
}

# bg CMD...: start CMD in the background with bats' fd 3 closed; its pid is
# killed (by pid) in teardown if still alive.  Sets BG_PID.
bg() {
  "$@" 3>&- &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# recvtty SOCKET OUTFILE [INPUT]: a console-socket receiver in the
# background (tests/integration/recvtty.py): it takes the pty master sent
# by the runtime, writes INPUT into it and copies the container's terminal
# output to OUTFILE until the terminal hangs up.  Waits until it listens.
recvtty() {
  local sock=$1 outfile=$2 input=${3:-}
  rm -f "$sock" "$sock.ready"
  bg "$PYTHON" "$INTEGRATION_DIR/recvtty.py" --input "$input" --output "$outfile" "$sock"
  RECVTTY_PID=$BG_PID
  wait_for_file "$sock.ready"
}

# register_cleanup ROOT ID: also force-delete container ID of state root
# ROOT in teardown (tests that use the runtime's default root, which may hold
# containers that are none of our business: only ID is touched there).
# An empty ROOT means the runtime's default (no --root).
register_cleanup() {
  EXTRA_CLEANUP+=("$1" "$2")
}

_cleanup_root() {
  local root=$1 id ids pid
  [ -d "$root" ] || return 0
  ids=$( {
    timeout -k 2 20 "$NOOK" --root "$root" list -q 2>/dev/null
    find "$root" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null
  } | sort -u)
  for id in $ids; do
    [[ $id == .* ]] && continue
    pid=$(timeout -k 2 20 "$NOOK" --root "$root" state "$id" 2>/dev/null | jq -r '.pid // 0' 2>/dev/null || echo 0)
    timeout -k 2 20 "$NOOK" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    # A runtime that failed to delete must not leave the process behind.
    if [ "${pid:-0}" -gt 1 ] 2>/dev/null && [ -d "/proc/$pid" ]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

nook_teardown() {
  local pid
  for pid in "${BG_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  _cleanup_root "$NOOK_ROOT"
  local i
  for ((i = 0; i + 1 < ${#EXTRA_CLEANUP[@]}; i += 2)); do
    local rootopt=()
    [ -n "${EXTRA_CLEANUP[i]}" ] && rootopt=(--root "${EXTRA_CLEANUP[i]}")
    timeout -k 2 20 "$NOOK" "${rootopt[@]}" delete --force "${EXTRA_CLEANUP[i + 1]}" >/dev/null 2>&1 || true
  done
  cd /
  rm -rf "${BATS_TEST_TMPDIR:?}"/* 2>/dev/null || true
}

setup() {
  nook_setup
}

teardown() {
  nook_teardown
}

# log_messages LEVEL [FILE=$log]: `run` over the messages of one level in a
# --log-format json log (one JSON object a line).
log_messages() {
  run jq -r --arg l "$1" 'select(.level == $l) | .msg' "${2:-$log}"
}
