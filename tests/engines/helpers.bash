# Shared helpers of the engine suite (tests/engines/*.bats): nook as the OCI
# runtime of podman, containerd (ctr) and docker, driven the way their users
# drive them.
#
# Knobs:
#   ENGINE_RUNTIME      the runtime under test (default: the repo's ./nook;
#                       ENGINE_RUNTIME=/usr/sbin/runc validates the suite).  It is
#                       copied to a private directory for the run, so a rebuild
#                       of ./nook during the run does not race with the engines.
#   ENGINE_CMD_TIMEOUT  seconds one engine command may take (default 60; 120
#                       in VM mode).
#   ENGINE_VM=1         VM mode: the engines get nook-vm (engine_install_vm);
#                       tests/engines/vm.list names the tests run so.
#   ENGINE_TRACE=FILE   every runtime invocation an engine makes is appended
#                       to FILE with its start and end times and exit status.
#
# Each .bats file starts its engine in setup_file (engine_init, then
# <engine>_start), runs its tests, and ends with a test that stops the engine
# and checks that nothing leaked (engine_leak_check).  teardown_file repeats
# the stop (idempotent) and force-cleans whatever a failed run left, by the pids
# the suite started and the paths under its own temp dir.

BATS_LIB_DIR=${BATS_LIB_DIR:-/usr/lib/bats}
load "$BATS_LIB_DIR/bats-support/load"
load "$BATS_LIB_DIR/bats-assert/load"
bats_require_minimum_version 1.5.0

ENGINES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$ENGINES_DIR/../.." && pwd)
PYTHON=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
ENGINE_RUNTIME=${ENGINE_RUNTIME:-$REPO_ROOT/nook}
if [[ $ENGINE_RUNTIME != /* ]]; then
  if [[ $ENGINE_RUNTIME == */* ]]; then
    ENGINE_RUNTIME=$PWD/$ENGINE_RUNTIME
  else
    ENGINE_RUNTIME=$(command -v "$ENGINE_RUNTIME" || echo "$ENGINE_RUNTIME")
  fi
fi
ENGINE_VM=${ENGINE_VM:-0}
# A VM-mode create boots a VM: seconds under TCG, more on a loaded machine.
if [ "$ENGINE_VM" = 1 ]; then
  ENGINE_CMD_TIMEOUT=${ENGINE_CMD_TIMEOUT:-120}
else
  ENGINE_CMD_TIMEOUT=${ENGINE_CMD_TIMEOUT:-60}
fi
export PYTHON ENGINE_RUNTIME ENGINE_CMD_TIMEOUT ENGINE_VM

IMAGE=localhost/nook-busybox:latest
NOSHELL_IMAGE=localhost/nook-noshell:latest
# Directories outside the temp dir that the engines create and keep: the runc
# shim's sockets and fifos (hard-coded /run/containerd), dockerd's plugin dir,
# podman's network run dir.  Removed at the end when this run created them.
ENGINE_RUN_DIRS="/run/containerd /run/docker /run/containers"
# docker.io's CLI; a newer one elsewhere on PATH may shadow it.
DOCKER_CLI=${DOCKER_CLI:-/usr/bin/docker}
export DOCKER_CLI

# ---------------------------------------------------------------------------
# Setup common to every engine (call from setup_file).
#   ENGINE_TMP  private temp dir (short: unix socket paths live under it)
#   RT_NAME     basename of the runtime (nook, runc)
#   RT          the private copy of the runtime the engine is given
#   IMG_DIR     image archives: busybox-oci.tar, busybox-docker.tar,
#               noshell-oci.tar, noshell-docker.tar, and with
#               ENGINE_PAUSE_IMAGE=1 pause-oci.tar (tests/engines/build-images),
#               built here, or $ENGINE_IMAGES when that names a directory
#               the script made beforehand
engine_init() {
  local engine=$1 tool
  [ "$(id -u)" -eq 0 ] || fail "the engine suite needs root"
  [ -x "$ENGINE_RUNTIME" ] || fail "runtime $ENGINE_RUNTIME is not built (make nook, or set ENGINE_RUNTIME=)"
  for tool in umoci skopeo; do
    command -v "$tool" >/dev/null || fail "$tool is not installed (scripts/deps.sh)"
  done
  ENGINE_TMP=$(mktemp -d "/tmp/nook-$engine.XXXXXX")
  chmod 0755 "$ENGINE_TMP"
  ENGINE_NAME=$engine
  mkdir -p "$ENGINE_TMP/bin" "$ENGINE_TMP/before"
  touch "$ENGINE_TMP"/before/{cgroups,state,run-containerd,run-dirs}
  if [ "$ENGINE_VM" = 1 ]; then
    engine_install_vm
  else
    RT_NAME=$(basename "$ENGINE_RUNTIME")
    RT=$ENGINE_TMP/bin/$RT_NAME
    RT_DEFAULT_ROOT=/run/$RT_NAME
    cp "$ENGINE_RUNTIME" "$RT"
  fi
  [ -z "${ENGINE_TRACE:-}" ] || engine_trace_wrap
  # nook's compiled seccomp filters go to a cache of the run's own, filled
  # as `make install` fills the host's (the engines' default profiles
  # precompiled), in VM mode too: the host compiles the profile there and
  # seeds the guest's cache with it.  dockerd and containerd pass their
  # environment on to the runtime; podman's conmon does not (its nook uses
  # the host's cache).
  unset NOOK_SECCOMP_CACHE
  if "$ENGINE_RUNTIME" seccomp-precompile --help >/dev/null 2>&1; then
    export NOOK_SECCOMP_CACHE=$ENGINE_TMP/seccomp-cache
    "$ENGINE_RUNTIME" seccomp-precompile "$REPO_ROOT"/profiles/*.json >/dev/null ||
      fail "nook seccomp-precompile of profiles/ failed"
  fi
  if [ -n "${ENGINE_IMAGES:-}" ]; then
    IMG_DIR=$ENGINE_IMAGES
  else
    IMG_DIR=$ENGINE_TMP/img
    build_images "$IMG_DIR" ${ENGINE_PAUSE_IMAGE:+--pause}
  fi
  export ENGINE_TMP ENGINE_NAME RT_NAME RT RT_DEFAULT_ROOT IMG_DIR
  # What /run/containerd held before: the runc shim keeps its sockets there
  # (hard-coded), whichever containerd started it.
  snapshot_run_containerd >"$ENGINE_TMP/before/run-containerd"
  local d
  for d in $ENGINE_RUN_DIRS $RT_DEFAULT_ROOT; do
    if [ -e "$d" ]; then echo "$d"; fi
  done >"$ENGINE_TMP/before/run-dirs"
}

# engine_layout_vm DIR: DIR/sbin/nook, DIR/sbin/nook-vm and
# DIR/libexec/nook/vm-kernel, as `make install` lays them out.
engine_layout_vm() {
  command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 is missing (scripts/deps.sh)"
  mkdir -p "$1/sbin" "$1/libexec/nook"
  cp "$ENGINE_RUNTIME" "$1/sbin/nook"
  ln -s nook "$1/sbin/nook-vm"
  cp "$REPO_ROOT/scripts/vm-kernel" "$1/libexec/nook/vm-kernel"
}

# engine_install_vm: nook laid out as `make install` does (sbin/nook, the
# sbin/nook-vm symlink, libexec/nook/vm-kernel, which nook-vm runs to find
# its guest kernel) under the temp dir; the engines get the nook-vm path, as
# a user configures them for VM mode.
engine_install_vm() {
  engine_layout_vm "$ENGINE_TMP"
  RT_NAME=nook-vm
  RT=$ENGINE_TMP/sbin/nook-vm
  # nook-vm is nook: the same default state root.
  RT_DEFAULT_ROOT=/run/nook
  # The kernel bundle may have to be downloaded first (minutes, once): not
  # inside the first container's create.
  "$ENGINE_TMP/libexec/nook/vm-kernel" >/dev/null || fail "libexec/nook/vm-kernel failed"
}

# engine_trace_wrap: $RT becomes a script that runs the runtime under its
# name (argv[0]) and appends "START END rc=STATUS ARGS" to $ENGINE_TRACE.
engine_trace_wrap() {
  local real=$ENGINE_TMP/sbin/nook
  if [ "$ENGINE_VM" != 1 ]; then
    real=$RT.real
    mv "$RT" "$real"
  fi
  rm -f "$RT"
  printf '#!/bin/bash\nt0=$(date +%%s.%%N)\n(exec -a %q %q "$@")\nrc=$?\necho "$t0 $(date +%%s.%%N) rc=$rc $*" >>%q\nexit $rc\n' \
    "$RT" "$real" "$ENGINE_TRACE" >"$RT"
  chmod 0755 "$RT"
}

# seccomp_cache_arm: from now on, see which precompiled seccomp entries the
# runtime reads (relatime moves an atime that is not after the mtime) and
# whether it compiles anything.  Without nook's cache (another runtime),
# assert_seccomp_precompiled checks nothing.
seccomp_cache_arm() {
  [ -d "${NOOK_SECCOMP_CACHE:-}" ] || return 0
  find "$NOOK_SECCOMP_CACHE" -type f ! -perm 0400 -delete
  find "$NOOK_SECCOMP_CACHE" -type f -exec touch -a -d @0 {} +
}

# assert_seccomp_precompiled: since seccomp_cache_arm, the engine's default
# profile came from the entries `make install` precompiles (profiles/), and
# nothing was compiled.  A failure means the engine sends another profile
# than the one captured there: capture it again (docs/design.md, "Seccomp").
assert_seccomp_precompiled() {
  [ -d "${NOOK_SECCOMP_CACHE:-}" ] || return 0
  run find "$NOOK_SECCOMP_CACHE" -type f ! -perm 0400
  [ -z "$output" ] || fail "nook compiled a profile that is not among profiles/: $output"
  run find "$NOOK_SECCOMP_CACHE" -type f -perm 0400 -newerat @1
  [ -n "$output" ] || fail "no precompiled seccomp entry was read"
}

# build_images DIR [--pause]: the images of tests/engines/build-images in DIR.
build_images() {
  local dir=$1
  mkdir -p "$dir"
  NOOK=$RT IMAGE=$IMAGE NOSHELL_IMAGE=$NOSHELL_IMAGE PAUSE_IMAGE=${PAUSE_IMAGE:-} "$ENGINES_DIR/build-images" "$@" >"$dir/build.log" 2>&1 ||
    fail "building the images failed: $(cat "$dir/build.log")"
}

# ---------------------------------------------------------------------------
# Small tools.

# wait_until TIMEOUT_SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
# The bound is wall time: a CMD that itself takes seconds (a Go client's
# start under TCG) must not stretch it to hundreds.
# In VM mode the container runs emulated (TCG): three times the time.
wait_until() {
  local timeout=$1 end
  shift
  [ "$ENGINE_VM" != 1 ] || timeout=$((timeout * 3))
  end=$((SECONDS + timeout))
  while :; do
    "$@" >/dev/null 2>&1 && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.1
  done
  fail "timed out after ${timeout}s waiting for: $*"
}

# assert_rt_state [RUNTIME OPTIONS...] ID: the runtime's own state of the
# container says running; in VM mode also that the container is a VM
# (nook-vm's state names the backend in the annotation nook.vm).
assert_rt_state() {
  run "$RT" "${@:1:$#-1}" state "${!#}"
  assert_success
  assert_output --partial '"status": "running"'
  if [ "$ENGINE_VM" = 1 ]; then
    assert_output --partial '"nook.vm": "qemu"'
  fi
}

# vm_memory_limit_mib: in VM mode, the memory limit of the container's cgroup
# on the host, which is QEMU's: the guest's RAM (the default: the engines
# give no vm object) plus the VMM's overhead (vmm/mode.h, vmm/confine.h).
vm_memory_limit_mib() {
  local ram overhead
  ram=$(sed -n 's/^#define VMM_DEFAULT_MEM_MIB \([0-9]*\)$/\1/p' "$REPO_ROOT/vmm/mode.h")
  overhead=$(sed -n 's/^#define VMM_MEMORY_OVERHEAD_MIB \([0-9]*\)$/\1/p' "$REPO_ROOT/vmm/confine.h")
  echo $((ram + overhead))
}

# rt_pids [RUNTIME OPTIONS...] ID: the pids the runtime's `ps --format json`
# gives for the container, one a line, sorted.  Engines take them as host
# pids; in VM mode they are the guest's (README "VM mode": ps).
rt_pids() {
  "$RT" "${@:1:$#-1}" ps --format json "${!#}" | jq -r '.[]' | sort -n
}

# pty_run [ptyrun.py options] -- CMD...: CMD with a terminal (ptyrun.py).
pty_run() {
  "$PYTHON" "$ENGINES_DIR/ptyrun.py" --timeout "$ENGINE_CMD_TIMEOUT" "$@"
}

# The interactive exchange every engine must carry: a prompt, a line whose
# output only the shell can produce (hello-3), and an exit status.
PTY_SHELL_DIALOGUE=(--expect '# ' --send 'echo hello-$((1+2))\n' --expect 'hello-3' --send 'exit 3\n')

# Shell code printing the terminal size ("ROWS COLS") once the engine has set
# it: ctr and docker resize the terminal only after the process started.
STTY_SIZE='for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); case $s in [1-9]*) break;; esac; sleep 0.2; done; echo "$s"'

# start_daemon NAME CMD...: CMD in the background (stdin /dev/null, output in
# $ENGINE_TMP/NAME.log, bats' fd 3 closed); its pid in $ENGINE_TMP/NAME.pid.
start_daemon() {
  local name=$1
  shift
  "$@" </dev/null >"$ENGINE_TMP/$name.log" 2>&1 3>&- &
  echo $! >"$ENGINE_TMP/$name.pid"
}

# pid_alive PID: running (a zombie not yet reaped counts as gone).
pid_alive() {
  local st
  st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
  [ -n "$st" ] && [ "$st" != Z ]
}

# stop_daemon NAME [TIMEOUT=20]: SIGTERM the pid in NAME.pid, SIGKILL it after
# TIMEOUT seconds.  Reaps it when it is our child.
stop_daemon() {
  local name=$1 timeout=${2:-20} pidfile="$ENGINE_TMP/$1.pid" pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  rm -f "$pidfile"
  if pid_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < timeout * 10; i++)); do
      pid_alive "$pid" || break
      sleep 0.1
    done
    if pid_alive "$pid"; then
      echo "# $name ($pid) ignored SIGTERM for ${timeout}s: SIGKILL" >&3
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------------------
# Leak checks.  Each engine file sets, in its setup_file:
#   ENGINE_CGROUP_PARENTS  cgroup dirs (relative to a hierarchy) under which
#                          the engine puts its containers' cgroups
#   ENGINE_STATE_DIRS      "DIR:DEPTH" entries: the runtime state root(s); a
#                          container is a directory DEPTH levels below DIR
#   ENGINE_STATE_NAME_RE   (optional) the engine's container ids, when the
#                          root is shared (podman uses the runtime's default)
# and the snapshots are taken by engine_snapshot (before anything ran).

# Shim sockets, the shim's default runc root, ctr's default fifo dirs.
snapshot_run_containerd() {
  find /run/containerd -mindepth 1 \( -type s -o -path '/run/containerd/runc/*' -o -path '/run/containerd/fifo/*' \) \
    -prune 2>/dev/null | sort
}

snapshot_cgroups() {
  local parent
  for parent in ${ENGINE_CGROUP_PARENTS:-}; do
    # Hierarchies are mounted at /sys/fs/cgroup/<name>; the engines use
    # absolute cgroup paths.  (conmon's cgroup is podman's, not a container's.)
    find /sys/fs/cgroup/*/"$parent" -mindepth 1 -type d ! -name conmon 2>/dev/null
  done | sort
}

snapshot_state() {
  local e dir depth
  for e in ${ENGINE_STATE_DIRS:-}; do
    dir=${e%:*}
    depth=${e##*:}
    find "$dir" -mindepth "$depth" -maxdepth "$depth" ! -name '.*' 2>/dev/null
  done | grep -E "/${ENGINE_STATE_NAME_RE:-[^/]+}\$" | sort
}

engine_snapshot() {
  snapshot_cgroups >"$ENGINE_TMP/before/cgroups"
  snapshot_state >"$ENGINE_TMP/before/state"
}

# Processes that belong to this run: their command line, executable, root or
# cwd is under ENGINE_TMP (daemons, shims, conmon, the runtime copy, and the
# container processes, whose root is a rootfs mounted under ENGINE_TMP).
# One find and one grep over /proc: a few processes per pid cost tens of
# seconds per scan on a loaded machine.  (They match themselves, but are gone
# by the time their cmdline is read.)
leaked_processes() {
  local pid parts
  for pid in $( {
    find /proc -mindepth 2 -maxdepth 2 \( -name exe -o -name root -o -name cwd \) \
      -lname "$ENGINE_TMP*" -printf '%h\n' 2>/dev/null
    grep -lsF -- "$ENGINE_TMP" /proc/[0-9]*/cmdline
  } | sed -n 's|^/proc/\([0-9][0-9]*\).*|\1|p' | sort -un); do
    [ "$pid" = $$ ] && continue
    [ "$pid" = "$BASHPID" ] && continue
    mapfile -d '' -t parts 2>/dev/null <"/proc/$pid/cmdline" || continue
    [ ${#parts[@]} -gt 0 ] || continue
    echo "$pid ${parts[*]}"
  done
  return 0
}

# engine_leak_check: fails listing everything the engine and runtime left:
# mounts, processes, container cgroups, runtime state dirs, shim sockets.
engine_leak_check() {
  local problems="" x i
  # Engines finish some cleanup asynchronously (podman's conmon runs
  # `podman container cleanup` after the container exits): give it time.
  for ((i = 0; i < 100; i++)); do
    [ -z "$(leaked_processes)" ] && break
    sleep 0.1
  done
  x=$(grep -F "$ENGINE_TMP" /proc/self/mountinfo | awk '{print $5}')
  [ -z "$x" ] || problems+=$'mounts left under the temp dir:\n'"$x"$'\n'
  x=$(leaked_processes)
  [ -z "$x" ] || problems+=$'processes left:\n'"$x"$'\n'
  x=$(comm -13 "$ENGINE_TMP/before/cgroups" <(snapshot_cgroups))
  [ -z "$x" ] || problems+=$'cgroups left:\n'"$x"$'\n'
  x=$(comm -13 "$ENGINE_TMP/before/state" <(snapshot_state))
  [ -z "$x" ] || problems+=$'runtime state left:\n'"$x"$'\n'
  x=$(comm -13 "$ENGINE_TMP/before/run-containerd" <(snapshot_run_containerd))
  [ -z "$x" ] || problems+=$'left in /run/containerd:\n'"$x"$'\n'
  [ -z "$problems" ] || fail "$problems"
}

# engine_force_cleanup: after a failed run, remove by pid and by path what the
# engine left (only things under ENGINE_TMP or created since engine_init).
engine_force_cleanup() {
  [ -n "${ENGINE_TMP:-}" ] && [ -d "$ENGINE_TMP" ] || return 0
  local pid cmd x i
  for i in 1 2 3; do
    x=$(leaked_processes)
    [ -z "$x" ] && break
    while read -r pid cmd; do
      kill -KILL "$pid" 2>/dev/null || true
    done <<<"$x"
    sleep 0.3
  done
  # Runtime state the engine did not delete (the container is dead by now).
  local d root
  for d in $(comm -13 "$ENGINE_TMP/before/state" <(snapshot_state)); do
    root=$(dirname "$d")
    timeout -k 2 20 "$RT" --root "$root" delete --force "$(basename "$d")" >/dev/null 2>&1 || true
  done
  # Mounts under our temp dir, deepest first.
  grep -F "$ENGINE_TMP" /proc/self/mountinfo | awk '{print $5}' | sort -r | while read -r x; do
    umount -l "$x" 2>/dev/null || true
  done
  for d in $(comm -13 "$ENGINE_TMP/before/cgroups" <(snapshot_cgroups) | sort -r); do
    rmdir "$d" 2>/dev/null || true
  done
  for d in $(comm -13 "$ENGINE_TMP/before/run-containerd" <(snapshot_run_containerd)); do
    rm -rf "$d"
  done
  return 0
}

# engine_final_cleanup: the engines' persistent parents (empty cgroup parent
# dirs, /run/containerd, /run/docker) when this run created them, and the
# temp dir.
engine_final_cleanup() {
  [ -n "${ENGINE_TMP:-}" ] && [ -d "$ENGINE_TMP" ] || return 0
  local parent d
  for parent in ${ENGINE_CGROUP_PARENTS_OWNED:-}; do
    for d in /sys/fs/cgroup/*/"$parent"; do
      [ -d "$d" ] || continue
      find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
    done
  done
  for d in $ENGINE_RUN_DIRS; do
    grep -qx "$d" "$ENGINE_TMP/before/run-dirs" && continue
    if [ -d "$d" ]; then
      find "$d" -depth -type d -empty -delete 2>/dev/null || true
    fi
  done
  # The runtime's default root (podman passes no --root): created by this
  # run and holding no container, it goes.
  d=$RT_DEFAULT_ROOT
  if [ -d "$d" ] && ! grep -qx "$d" "$ENGINE_TMP/before/run-dirs" &&
    [ -z "$(find "$d" -mindepth 1 -maxdepth 1 ! -name '.*')" ]; then
    rm -rf "$d"
  fi
  rm -rf "$ENGINE_TMP"
}

# ---------------------------------------------------------------------------
# Container commands used by every engine file.

# A shell loop that reports "ready", traps TERM (prints got-TERM, exits 42)
# and USR1 (prints got-USR1) and otherwise sleeps.
TRAP_SCRIPT='trap "echo got-TERM; exit 42" TERM; trap "echo got-USR1" USR1; echo ready; while :; do sleep 0.1; done'
# Two processes that stay (sh and a sleep): a process list taken twice is
# the same.
STILL_SCRIPT='sleep 1000 & echo ready; wait'
# Ignores TERM: only SIGKILL stops it.
DEAF_SCRIPT='trap "" TERM; echo ready; while :; do sleep 0.1; done'
# Defines put FILE, which replaces FILE with its stdin as the host sees it
# at once: whole (a reader never finds it truncated, even when the container
# is paused in between) and flushed (in VM mode the rootfs is the guest's 9p
# mount, whose page cache writes back later, and not at all while paused).
PUT_FN='put() { dd of="$1.new" conv=fsync 2>/dev/null; mv "$1.new" "$1"; }'
# Counts in /tmp/count, ten times a second (pause tests read it from the host).
COUNT_SCRIPT="$PUT_FN"'; i=0; while :; do i=$((i+1)); echo $i | put /tmp/count; sleep 0.1; done'
# Defines cg_limits, which prints the cgroup limits the container sees, one a
# line: memory limit, cpu quota, cpu period, pids limit, cpuset cpus.  From
# cgroup v1 files (this host, namespace mode) or v2 files (a VM-mode guest
# has cgroup v2 only), so one expected output fits both.  In v2 the
# container's own cgroup is found from /proc/self/cgroup: without a cgroup
# namespace (docker and ctr on a v1 host ask for none) /sys/fs/cgroup shows
# the whole hierarchy.
CG_LIMITS_FN='cg_limits() {
  c=/sys/fs/cgroup
  if [ -f $c/cgroup.controllers ]; then
    c=$c$(sed -n "s/^0:://p" /proc/self/cgroup)
    cat $c/memory.max; read q p <$c/cpu.max; echo "$q"; echo "$p"; cat $c/pids.max $c/cpuset.cpus
  else
    cat $c/memory/memory.limit_in_bytes $c/cpu/cpu.cfs_quota_us $c/cpu/cpu.cfs_period_us $c/pids/pids.max $c/cpuset/cpuset.cpus
  fi 2>&1
}'
# Writes the memory limit and cpu quota it sees, ten times a second, to
# /tmp/limits (update tests read it from the host: what the container sees,
# without exec).
LIMITS_SCRIPT="$CG_LIMITS_FN; $PUT_FN"'; while :; do cg_limits | head -n 2 | put /tmp/limits; sleep 0.1; done'
