#!/usr/bin/env bats
# Rootless podman (4.3) as the test user, with nook as its OCI runtime: podman
# runs the runtime as root of a user namespace of its own (the user's uid
# and its subordinate ranges), so nook must find itself rootless there.
# Storage under the user's home (a directory of this run's), cgroupfs, no
# network.  The last test checks that nothing is left behind.

load helpers

IMAGE=localhost/nook-busybox:latest
TRAP_SCRIPT='trap "echo got-TERM; exit 42" TERM; echo ready; while :; do sleep 0.1; done'

# podman as the user, in the run's home, with its containers.conf; from the
# run's directory (conmon writes files into its working directory).
pm() {
  (cd "$PM_HOME" && timeout -k 5 "${PM_TIMEOUT:-120}" setpriv --reuid "$RL_UID" --regid "$RL_GID" \
    --init-groups --inh-caps=-all env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$PM_HOME" \
    USER="$RL_USER" LOGNAME="$RL_USER" XDG_RUNTIME_DIR="$PM_HOME/run" \
    CONTAINERS_CONF="$PM_HOME/containers.conf" podman "$@" 3>&-)
}

setup_file() {
  command -v podman >/dev/null || skip "podman is not installed (scripts/deps.sh)"
  rootless_user_setup
  [ -x "${NOOK:-}" ] || NOOK=$REPO_ROOT/nook
  # A short name: podman refuses a rootless runroot ($XDG_RUNTIME_DIR/containers)
  # over 50 characters, and then conmon's exit command (`podman container
  # cleanup`) fails, so every exit would wait out podman's 20 s conmon timeout.
  PM_HOME=$(mktemp -d "$RL_HOME/pm.XXXXXX")
  local runroot=$PM_HOME/run/containers
  [ "${#runroot}" -le 50 ] || fail "podman's runroot $runroot is over 50 characters (a shorter RL_USER home)"
  mkdir -p "$PM_HOME"/{bin,run,tmp,volumes,vol}
  chmod 0700 "$PM_HOME/run"
  # a copy: a rebuild of ./nook during the run must not race with podman
  cp "$NOOK" "$PM_HOME/bin/nook"
  cat >"$PM_HOME/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PM_HOME/events.log"
tmp_dir = "$PM_HOME/tmp"
volume_path = "$PM_HOME/volumes"
runtime = "nook"
runtime_supports_json = ["crun", "runc", "nook"]

[engine.runtimes]
nook = ["$PM_HOME/bin/nook"]
EOF
  local img=$PM_HOME/img
  NOOK=$NOOK "$REPO_ROOT/scripts/mkbundle.sh" "$img" true >/dev/null || fail "mkbundle.sh failed"
  tar -C "$img/rootfs" -cf "$PM_HOME/rootfs.tar" .
  rm -rf "$img"
  chown -R "$RL_UID:$RL_GID" "$PM_HOME"
  export PM_HOME NOOK
  pm import -q "$PM_HOME/rootfs.tar" "$IMAGE" >/dev/null || fail "podman import failed"
}

teardown_file() {
  [ -n "${PM_HOME:-}" ] && [ -d "$PM_HOME" ] || return 0
  pm rm --all --force --time 0 >/dev/null 2>&1 || true
  pm system reset --force >/dev/null 2>&1 || true
  # what a failed run left: the suite's own processes, by their paths
  pm_pids | xargs -r kill -9 2>/dev/null || true
  rm -rf "$PM_HOME"
}

setup() {
  rootless_setup
  cd "$PM_HOME" || fail "cd $PM_HOME"
}

teardown() {
  cd /
}

# The user's processes that belong to this run (their command line or
# environment names the run's home): podman's pause process, conmon, the
# containers (conmon's children).
pm_pids() {
  local p
  for p in $(pgrep -u "$RL_UID" 2>/dev/null); do
    # (a process may be gone by the time it is read: the shell's own
    # redirection error is silenced too)
    if { tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF "$PM_HOME" ||
      { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qF "$PM_HOME"; then
      echo "$p"
    fi
  done
}

@test "rootless podman: nook is its runtime, and runs rootless in podman's user namespace" {
  run pm info --format '{{.Host.Security.Rootless}} {{.Host.OCIRuntime.Path}}'
  assert_success
  assert_output "true $PM_HOME/bin/nook"
  run pm run --rm "$IMAGE" sh -c 'id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 --regexp "^ +0 +$RL_UID +1\$"
  assert_line --index 2 --regexp "^ +1 +$RL_SUBUID +$RL_COUNT\$"
  # podman gives no --root: nook's state went to $XDG_RUNTIME_DIR/nook
  [ -d "$PM_HOME/run/nook" ]
  # and the compiled seccomp filter to the user's cache (~/.cache: podman
  # passes HOME on), trusted in podman's user namespace, where the host's
  # root, owner of / and of /home, shows as the overflow uid
  run find "$PM_HOME/.cache/nook/seccomp" -type f -user "$RL_UID"
  assert_success
  [ "${#lines[@]}" -ge 1 ] || fail "no entry in the user's seccomp cache"
  run pm run --rm "$IMAGE" true
  assert_success
  run find "$PM_HOME/.cache/nook/seccomp" -type f
  [ "${#lines[@]}" -eq 1 ] || fail "the second run did not hit the entry: ${lines[*]}"
}

@test "rootless podman: run prints the output and gives the exit status" {
  run pm run --rm "$IMAGE" echo hello from the container
  assert_success
  assert_output "hello from the container"
  run pm run --rm "$IMAGE" sh -c 'echo out; exit 7'
  assert_failure 7
  assert_output out
}

@test "rootless podman: exec into a running container" {
  run pm run -d --name ex1 "$IMAGE" sleep 100
  assert_success
  run pm exec ex1 sh -c 'echo exec-$((3*4)); exit 5'
  assert_failure 5
  assert_output exec-12
  run pm top ex1
  assert_success
  assert_output --partial 'sleep 100'
  pm rm -f -t 0 ex1 >/dev/null
}

@test "rootless podman: run -it gives a terminal" {
  rl_cmd
  run "$PYTHON" "$REPO_ROOT/tests/engines/ptyrun.py" --timeout 120 \
    --expect '# ' --send 'tty; echo hello-$((1+2))\n' --expect 'hello-3' --send 'exit 3\n' -- \
    setpriv --reuid "$RL_UID" --regid "$RL_GID" --init-groups --inh-caps=-all env -i \
    PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME="$PM_HOME" USER="$RL_USER" XDG_RUNTIME_DIR="$PM_HOME/run" \
    CONTAINERS_CONF="$PM_HOME/containers.conf" podman run -it --rm "$IMAGE" sh
  assert_equal "$status" 3
  assert_output --regexp '/dev/pts/[0-9]+'
  assert_output --partial hello-3
}

@test "rootless podman: stop delivers SIGTERM, kill SIGKILL" {
  run pm run -d --name st1 "$IMAGE" sh -c "$TRAP_SCRIPT"
  assert_success
  wait_until_logs st1 ready
  run pm stop -t 30 st1
  assert_success
  run pm logs st1
  assert_line got-TERM
  run pm inspect -f '{{.State.Status}} {{.State.ExitCode}}' st1
  assert_output "exited 42"
  run pm run -d --name k1 "$IMAGE" sleep 100
  assert_success
  run pm kill k1
  assert_success
  run pm wait k1
  assert_output 137
  pm rm -f -t 0 st1 k1 >/dev/null
}

# wait_until_logs NAME TEXT: until the container's log has TEXT.
wait_until_logs() {
  local end=$((SECONDS + 60))
  while [ $SECONDS -lt $end ]; do
    pm logs "$1" 2>/dev/null | grep -q "$2" && return 0
    sleep 0.2
  done
  fail "$1: no '$2' in its log"
}

@test "rootless podman: a volume of the user's, written as root and as a subordinate uid" {
  local vol=$PM_HOME/vol
  run pm run --rm -v "$vol:/vol" "$IMAGE" sh -c 'echo by-root > /vol/root-file && chmod 777 /vol'
  assert_success
  run pm run --rm --user 1000:1000 -v "$vol:/vol" "$IMAGE" sh -c 'echo by-1000 > /vol/user-file'
  assert_success
  assert_equal "$(cat "$vol/root-file")" by-root
  # container root is the user; uid 1000 is subordinate id 999 past the start
  assert_equal "$(stat -c %u "$vol/root-file")" "$RL_UID"
  assert_equal "$(stat -c %u "$vol/user-file")" "$((RL_SUBUID + 999))"
  # a named volume too
  run pm run --rm -v data1:/data "$IMAGE" sh -c 'echo kept > /data/f'
  assert_success
  run pm run --rm -v data1:/data "$IMAGE" cat /data/f
  assert_output kept
  pm volume rm data1 >/dev/null
}

@test "rootless podman: nothing is left behind" {
  run pm run -d --name last1 "$IMAGE" sleep 100
  assert_success
  run pm rm -f -t 0 last1
  assert_success
  run pm ps -a --format '{{.Names}}'
  assert_output ''
  # nook's own state: no container left in its root
  run find "$PM_HOME/run/nook" -mindepth 1 -maxdepth 1 ! -name '.*'
  assert_output ''
  pm system reset --force >/dev/null 2>&1
  # podman's pause process and every conmon are gone with the reset
  local end=$((SECONDS + 30))
  while [ -n "$(pm_pids)" ] && [ $SECONDS -lt $end ]; do sleep 0.2; done
  run pm_pids
  assert_output ''
  run grep -F "$PM_HOME" /proc/self/mountinfo
  assert_output ''
}
