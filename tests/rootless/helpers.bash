# Shared helpers of the rootless suite (tests/rootless/*.bats): the
# integration suite's harness (../integration/helpers.bash), with every
# runtime call made by an unprivileged user.
#
# bats runs as root (to make the user and clean up whatever a failure left);
# the runtime, the bundle's config and the container run as the user made by
# scripts/rootless-user.sh (default nook-rootless, RL_USER to change), through
# setpriv: uid, gid and groups of the user, no capabilities, an environment
# of PATH, HOME, USER and XDG_RUNTIME_DIR only.
#
# Every test gets, besides the integration harness's NOOK, ID, ID2:
#   RL_USER RL_UID RL_GID   the user
#   RL_SUBUID RL_SUBGID     the start of its /etc/subuid and /etc/subgid ranges
#   RL_COUNT                their size
#   RL_XDG                  its XDG_RUNTIME_DIR for the test (0700, its own)
#   NOOK_ROOT               a state root the user owns (given as --root)
#   BUNDLE                  set by setup_bundle: a bundle the user owns, with
#                           `nook spec --rootless` (run as the user) as config

load ../integration/helpers

ROOTLESS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RL_USER=${RL_USER:-nook-rootless}

# The command prefix that runs a program as the test user: uid, gid and
# groups of the user, no capabilities, and an environment of PATH, HOME,
# USER, LOGNAME and XDG_RUNTIME_DIR only, plus RL_ENV (NAME=VALUE words).
rl_cmd() {
  RL_CMD=(setpriv --reuid "$RL_UID" --regid "$RL_GID" --init-groups --inh-caps=-all
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME="$RL_HOME"
    USER="$RL_USER" LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$RL_XDG" ${RL_ENV:-})
}

# as_user CMD...: CMD as the test user.
as_user() {
  rl_cmd
  "${RL_CMD[@]}" "$@"
}

# The runtime as the user, with the test's state root (NOOK_OPTS as in the
# integration suite).  nook_default_root: without --root.
nook() {
  rl_cmd
  timeout --foreground -k 5 "$NOOK_CMD_TIMEOUT" "${RL_CMD[@]}" "$NOOK" ${NOOK_OPTS:-} --root "$NOOK_ROOT" "$@"
}

nook_default_root() {
  rl_cmd
  timeout --foreground -k 5 "$NOOK_CMD_TIMEOUT" "${RL_CMD[@]}" "$NOOK" ${NOOK_OPTS:-} "$@"
}

rootless_user_setup() {
  local info
  info=$("$REPO_ROOT/scripts/rootless-user.sh" "$RL_USER" | tail -n 1) ||
    fail "scripts/rootless-user.sh failed"
  read -r _ RL_UID RL_GID RL_SUBUID RL_SUBGID RL_COUNT <<<"$info"
  RL_HOME=$(getent passwd "$RL_USER" | cut -d: -f6)
  export RL_UID RL_GID RL_SUBUID RL_SUBGID RL_COUNT RL_HOME
}

rootless_setup() {
  [ "$(id -u)" -eq 0 ] || fail "the rootless suite runs as root (it makes its user and runs the runtime as it)"
  command -v setpriv >/dev/null || fail "setpriv is missing (util-linux)"
  rootless_user_setup
  nook_setup
  # The user must reach the test's directory: bats makes its dirs 0700.
  open_tmpdir_for_userns
  chown "$RL_UID:$RL_GID" "$BATS_TEST_TMPDIR"
  NOOK_ROOT=$BATS_TEST_TMPDIR/state
  RL_XDG=$BATS_TEST_TMPDIR/xdg
  rm -rf "$NOOK_ROOT"
  mkdir -m 0700 "$NOOK_ROOT" "$RL_XDG"
  chown "$RL_UID:$RL_GID" "$NOOK_ROOT" "$RL_XDG"
  export NOOK_ROOT RL_XDG
}

# setup_bundle [ARGS...]: the integration suite's busybox bundle, given to
# the user, with the config `nook spec --rootless` writes for it (process.args
# ARGS, default sh; no terminal).
setup_bundle() {
  BUNDLE=$BATS_TEST_TMPDIR/bundle
  NOOK="$NOOK" "$REPO_ROOT/scripts/mkbundle.sh" "$BUNDLE" true >&2 || fail "mkbundle.sh failed"
  rm -f "$BUNDLE/config.json"
  chown -R "$RL_UID:$RL_GID" "$BUNDLE"
  (cd "$BUNDLE" && as_user "$NOOK" spec --rootless) || fail "nook spec --rootless failed"
  [ $# -gt 0 ] || set -- sh
  "$PYTHON" - "$BUNDLE/config.json" "$@" <<'PY' || fail "setup_bundle: config edit failed"
import json, sys
path, args = sys.argv[1], sys.argv[2:]
with open(path) as f:
    c = json.load(f)
c["process"]["args"] = args
c["process"]["terminal"] = False
c["root"]["path"] = "rootfs"
with open(path, "w") as f:
    json.dump(c, f, indent=2)
    f.write("\n")
PY
  export BUNDLE
  cd "$BUNDLE" || fail "cd $BUNDLE"
}

# A directory of the user's at /out (rw bind), for results.  Sets OUTDIR.
add_out_mount() {
  OUTDIR=$BATS_TEST_TMPDIR/out
  mkdir -p "$OUTDIR"
  chown "$RL_UID:$RL_GID" "$OUTDIR"
  update_config "c['mounts'].append({'destination': '/out', 'type': 'bind', 'source': '$OUTDIR', 'options': ['rbind', 'rw']})"
}

# The container's uid/gid maps: container 0 is the user, 1..COUNT its
# subordinate range (newuidmap/newgidmap write them).
map_subids() {
  update_config "c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': $RL_UID, 'size': 1}, {'containerID': 1, 'hostID': $RL_SUBUID, 'size': $RL_COUNT}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': $RL_GID, 'size': 1}, {'containerID': 1, 'hostID': $RL_SUBGID, 'size': $RL_COUNT}]"
}


rootless_teardown() {
  local root id
  rl_cmd
  # The user's own delete first (what a user has to clean up with), then the
  # integration harness's as root for whatever is left.
  for root in "$NOOK_ROOT" "$RL_XDG/nook"; do
    [ -d "$root" ] || continue
    for id in $(find "$root" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' 2>/dev/null); do
      timeout -k 2 20 "${RL_CMD[@]}" "$NOOK" --root "$root" delete --force "$id" >/dev/null 2>&1 || true
    done
  done
  _cleanup_root "$RL_XDG/nook"
  nook_teardown
}

setup() {
  rootless_setup
}

teardown() {
  rootless_teardown
}
