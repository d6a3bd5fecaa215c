#!/usr/bin/env bats
# nook exec: a new process in a running (or created) container: exit status,
# namespaces, cgroup and --cgroup, seccomp, capabilities, rlimits,
# noNewPrivileges, env, cwd, user, --process, terminals, --detach,
# signal forwarding, --preserve-fds, errors, and no leftover processes.

load helpers

# A busybox bundle whose init sleeps; config edits go between this and
# start_init.
setup_sleeper() {
  setup_bundle sleep 1000
}

# start_init [ID]: run the bundle detached; sets INIT_PID.
start_init() {
  local id=${1:-$ID}
  run_detached "$id" >/dev/null || fail "run -d $id failed: $(container_output "$id")"
  INIT_PID=$(state_field "$id" pid)
  [ "${INIT_PID:-0}" -gt 1 ] || fail "no init pid for $id"
}

# nook exec in the background, output to FILE; sets EXEC_PID (nook's pid).
# Usage: bg_exec FILE [exec args...]
bg_exec() {
  local out=$1
  shift
  "$NOOK" --root "$NOOK_ROOT" exec "$@" </dev/null >"$out" 2>&1 3>&- &
  EXEC_PID=$!
  BG_PIDS+=("$EXEC_PID")
}

# wait_for_line FILE LINE [TIMEOUT=$NOOK_WAIT_TIMEOUT]: until FILE has the line LINE.
wait_for_line() {
  local f=$1 want=$2 timeout=${3:-$NOOK_WAIT_TIMEOUT} end
  for ((end = SECONDS + timeout; SECONDS < end; )); do
    grep -qxF -- "$want" "$f" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "no line '$want' in $f after ${timeout}s: $(cat "$f" 2>/dev/null)"
}

# The link the process printed for namespace TYPE ("TYPE LINK" lines).
ns_link() {
  awk -v t="$2" '$1 == t { print $2 }' <<<"$1"
}

NS_SCRIPT='for n in pid mnt net ipc uts cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done'

# A field of /proc/self/status as the exec'd process printed it.
status_field() {
  awk -v f="$2:" '$1 == f { print $2 }' <<<"$1"
}

# cgroup_dirs PID: "CONTROLLERS DIR" for each hierarchy PID is in (v1 ones
# by their controller list, v2 as "unified").
cgroup_dirs() {
  local pid=$1 hier ctrls path mnt
  while IFS=: read -r hier ctrls path; do
    if [ -z "$ctrls" ]; then
      mnt=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
      echo "unified $mnt$path"
    else
      mnt=$(awk -v c="${ctrls%%,*}" '$3 == "cgroup" && $4 ~ "(^|,)" c "(,|$)" { print $2; exit }' /proc/mounts)
      echo "$ctrls $mnt$path"
    fi
  done <"/proc/$pid/cgroup"
}

# The directory of PID's cgroup for the v1 controller CTRL.
cgroup_dir() {
  cgroup_dirs "$1" | awk -v c="$2" '{ n = split($1, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) { print $2; exit } }'
}

# The directory of PID's cgroup that lists its processes: the v1 pids one,
# or the v2 one.
procs_dir() {
  local d
  d=$(cgroup_dir "$1" pids)
  [ -n "$d" ] || d=$(cgroup_dirs "$1" | awk '$1 == "unified" { print $2 }')
  echo "$d"
}

# mk_subcgroup DIR: create DIR (removed in teardown, deepest first).
SUB_CGROUPS=()
# A v1 cpuset cgroup starts with no cpus and mems: it gets its parent's.
mk_subcgroup() {
  mkdir "$1" || fail "mkdir $1"
  SUB_CGROUPS=("$1" "${SUB_CGROUPS[@]}")
  local f
  for f in cpuset.cpus cpuset.mems; do
    if [ -e "$1/$f" ]; then
      cat "$(dirname "$1")/$f" >"$1/$f" || fail "init $1/$f"
    fi
  done
}

# Pids of detached exec'd processes ("sleep 1000"), for teardown.
EXEC_CHILDREN=()

teardown() {
  local d pid
  for pid in "${BG_PIDS[@]}"; do
    kill -9 "$pid" 2>/dev/null || true
  done
  # (empty once the attached execs in them are done)
  for d in "${SUB_CGROUPS[@]}"; do
    rmdir "$d" 2>/dev/null || true
  done
  nook_teardown
  # delete -f should have killed them; never leave one behind (checked by
  # its command line, so that a recycled pid is not touched)
  for pid in "${EXEC_CHILDREN[@]}"; do
    if [ "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" = "sleep 1000 " ]; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  done
}

# A program that runs a command with a new pty as its controlling terminal,
# writes INPUT once the shell printed its prompt, prints what the terminal
# showed (CRs removed) and exits with the command's status.
PTYRUN='
import os, pty, select, signal, sys, time
inp = sys.argv[1].encode()
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
out, sent = b"", False
deadline = time.monotonic() + 20
while True:
    if time.monotonic() > deadline:
        os.kill(pid, signal.SIGKILL)
        break
    if not sent and b"# " in out:
        os.write(fd, inp)
        sent = True
    r, _, _ = select.select([fd], [], [], 0.2)
    if fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace").replace("\r", ""))
sys.exit(os.waitstatus_to_exitcode(st) if os.WIFEXITED(st) else 128 + os.WTERMSIG(st))
'

# ---- basics ------------------------------------------------------------------

@test "exec: a failure of the runtime exits 255, a process that exits 1 gives 1" {
  setup_sleeper
  start_init
  run nook exec "$ID" sh -c 'exit 1'
  assert_equal "$status" 1
  run nook exec "$ID" /no/such/program
  assert_equal "$status" 255
  assert_output --partial /no/such/program
  run nook exec "$ID-missing" true
  assert_equal "$status" 255
  assert_output --partial "does not exist"
}

@test "exec: output and exit status pass through; a signal gives 128+N" {
  setup_sleeper
  start_init
  run nook exec "$ID" echo hello from exec
  assert_success
  assert_output "hello from exec"
  run nook exec "$ID" sh -c 'echo out; echo err >&2; exit 7'
  assert_equal "$status" 7
  assert_line out
  assert_line err
  run nook exec "$ID" sh -c 'kill -KILL $$'
  assert_equal "$status" 137
  run nook exec "$ID" sh -c 'kill -USR1 $$'
  assert_equal "$status" 138
  # stdin is passed through too
  run bash -c 'echo piped-in | "$NOOK" --root "$NOOK_ROOT" exec "$ID" cat'
  assert_success
  assert_output piped-in
  # the init is untouched
  assert_equal "$(state_field "$ID" status)" running
}

@test "exec: the process joins every namespace of the container; pid 1 is the init" {
  setup_sleeper
  update_config 'for t in ["pid", "network", "ipc", "uts", "mount", "cgroup"]: ns_add(t)'
  start_init
  run nook exec "$ID" sh -c "$NS_SCRIPT"'; echo "mypid $$"; echo "init $(tr "\0" " " </proc/1/cmdline)"'
  assert_success
  for t in pid mnt net ipc uts cgroup user time; do
    inside=$(ns_link "$output" $t)
    [ -n "$inside" ] || fail "no $t link printed"
    assert_equal "$inside" "$(readlink /proc/$INIT_PID/ns/$t)"
  done
  # the new ones really are new (else the comparison proves nothing)
  for t in pid mnt net ipc uts cgroup; do
    [ "$(ns_link "$output" $t)" != "$(host_ns $t)" ] || fail "$t is the host's"
  done
  assert_line "init sleep 1000 "
  mypid=$(ns_link "$output" mypid)
  [ "$mypid" -gt 1 ] || fail "exec'd process has pid $mypid in the container"
}

@test "exec: the container's user namespace (with mappings) is joined" {
  open_tmpdir_for_userns
  setup_sleeper
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  start_init
  run nook exec "$ID" sh -c "$NS_SCRIPT"'; cat /proc/self/uid_map; id -u'
  assert_success
  for t in user pid mnt net ipc uts; do
    assert_equal "$(ns_link "$output" $t)" "$(readlink /proc/$INIT_PID/ns/$t)"
  done
  [ "$(ns_link "$output" user)" != "$(host_ns user)" ] || fail "user namespace is the host's"
  assert_line --regexp '^ *0 +100000 +65536$'
  assert_line --index 9 0
  # seen from the host, the exec'd process runs as the mapped uid
  nook exec -u 1000:1000 -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 1000 </dev/null >/dev/null 2>&1 3>&-
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  EXEC_CHILDREN+=("$pid")
  run awk '/^(Uid|Gid):/ {print $1, $2}' "/proc/$pid/status"
  assert_line "Uid: 101000"
  assert_line "Gid: 101000"
}

@test "exec: the container's time namespace (with offsets) is joined" {
  skip_if_peer_lacks "time namespace" '.linux.namespaces | index("time")'
  setup_sleeper
  update_config 'ns_add("time")
c["linux"]["timeOffsets"] = {"monotonic": {"secs": 864000, "nanosecs": 0}, "boottime": {"secs": 1728000, "nanosecs": 0}}'
  start_init
  run nook exec "$ID" sh -c "$NS_SCRIPT"'; cat /proc/self/timens_offsets; cut -d" " -f1 /proc/uptime'
  assert_success
  assert_equal "$(ns_link "$output" time)" "$(readlink /proc/$INIT_PID/ns/time)"
  [ "$(ns_link "$output" time)" != "$(host_ns time)" ] || fail "time namespace is the host's"
  assert_line --regexp '^monotonic +864000 +0$'
  assert_line --regexp '^boottime +1728000 +0$'
  inner_up=${lines[-1]%.*}
  host_up=$(cut -d' ' -f1 /proc/uptime)
  host_up=${host_up%.*}
  ((inner_up - host_up >= 1728000 - 60 && inner_up - host_up <= 1728000 + 60)) ||
    fail "uptime inside $inner_up, host $host_up"
}

# ---- cgroups -----------------------------------------------------------------

@test "exec: the process is in the container's cgroup" {
  setup_sleeper
  start_init
  # inside, as the container sees its init's (a cgroup namespace shows
  # both relative to its root)
  run nook exec "$ID" sh -c 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup'
  assert_success
  assert_equal "${output%%--*}" "${output#*--
}
"
  # seen from the host too, for a detached one
  nook exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 1000 </dev/null >/dev/null 2>&1 3>&-
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  EXEC_CHILDREN+=("$pid")
  assert_equal "$(cat /proc/$pid/cgroup)" "$(cat /proc/$INIT_PID/cgroup)"
  grep -qx "$pid" "$(procs_dir "$INIT_PID")/cgroup.procs"
}

@test "exec --cgroup CTRL:SUB: the process is in the sub-cgroup of those controllers only" {
  setup_sleeper
  start_init
  mem=$(cgroup_dir "$INIT_PID" memory)
  pids=$(cgroup_dir "$INIT_PID" pids)
  if [ -z "$mem" ]; then
    # cgroup v2: one hierarchy, which a controller prefix names too
    local unified
    unified=$(cgroup_dirs "$INIT_PID" | awk '$1 == "unified" { print $2 }')
    mk_subcgroup "$unified/sub"
    run nook exec --cgroup memory:sub --cgroup pids:sub "$ID" cat /proc/self/cgroup
    assert_success
    assert_output --regexp '^0::/(.*/)?sub$'
    return 0
  fi
  [ -d "$mem" ] && [ -d "$pids" ] || fail "no memory/pids cgroup dirs: '$mem' '$pids'"
  mk_subcgroup "$mem/sub"
  mk_subcgroup "$pids/sub"
  run nook exec --cgroup memory:sub --cgroup pids:sub "$ID" cat /proc/self/cgroup
  assert_success
  while IFS=: read -r hier ctrls path; do
    line=$(grep "^$hier:" <<<"$output")
    case ",$ctrls," in
    *,memory,* | *,pids,*) assert_equal "$line" "$hier:$ctrls:$path/sub" ;;
    *) assert_equal "$line" "$hier:$ctrls:$path" ;;
    esac
  done <"/proc/$INIT_PID/cgroup"
  # several controllers in one entry
  run nook exec --cgroup memory,pids:sub "$ID" sh -c 'grep -E ":(memory|pids):" /proc/self/cgroup'
  assert_success
  assert_equal "${#lines[@]}" 2
  for l in "${lines[@]}"; do
    [[ $l == */sub ]] || fail "not in the sub-cgroup: $l"
  done
}

@test "exec --cgroup SUB: without a controller, every hierarchy" {
  setup_sleeper
  start_init
  while read -r _ dir; do
    mk_subcgroup "$dir/all"
  done < <(cgroup_dirs "$INIT_PID")
  run nook exec --cgroup all "$ID" cat /proc/self/cgroup
  assert_success
  assert_equal "${#lines[@]}" "$(wc -l </proc/$INIT_PID/cgroup)"
  for l in "${lines[@]}"; do
    [[ $l == */all ]] || fail "not in the sub-cgroup: $l"
  done
}

@test "exec --cgroup /: the container's own cgroup, also to undo an earlier entry" {
  setup_sleeper
  start_init
  while read -r _ dir; do
    mk_subcgroup "$dir/all"
  done < <(cgroup_dirs "$INIT_PID")
  # Both read from inside the container, in one view: with a cgroup
  # namespace (the v2 pass) the host's view of the init differs from it.
  local same='[ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroup || { cat /proc/self/cgroup /proc/1/cgroup; }'
  run nook exec --cgroup / "$ID" sh -c "$same"
  assert_success
  assert_output same-cgroup
  # the control: a sub-cgroup is not the container's own
  run nook exec --cgroup all "$ID" sh -c "$same"
  assert_success
  refute_output same-cgroup
  # the last entry for a hierarchy wins (runc takes one entry without a
  # controller only)
  is_peer_runtime && return 0
  run nook exec --cgroup all --cgroup / "$ID" sh -c "$same"
  assert_success
  assert_output same-cgroup
}

@test "exec --cgroup: ../x, /abs, unknown controller and a missing sub-cgroup are errors; nothing runs" {
  skip_for_peer "nook's own error messages"
  setup_sleeper
  add_out_mount
  start_init
  for spec in ../x /abs memory:../x "pids:a/../../x" sub/ .; do
    run nook exec --cgroup "$spec" "$ID" touch /out/ran
    assert_failure
    assert_output --partial "--cgroup \"$spec\": expected [CONTROLLER[,...]:]PATH with a relative PATH"
  done
  run nook exec --cgroup nosuchctrl:x "$ID" touch /out/ran
  assert_failure
  assert_output --partial 'the container has no such controller'
  run nook exec --cgroup memory:missing "$ID" touch /out/ran
  assert_failure
  assert_output --partial "join the container's cgroup"
  assert_output --partial "missing"
  [ -z "$(ls "$OUTDIR")" ] || fail "a rejected exec ran: $(ls "$OUTDIR")"
}

# ---- security settings -----------------------------------------------------------

@test "exec: the container's seccomp filter applies (and none when the config has none)" {
  setup_sleeper
  update_config 'c["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 28}]}'
  start_init
  run nook exec "$ID" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/a'
  assert_failure
  assert_line --regexp $'^Seccomp:\t2$'
  assert_output --partial "No space left on device"

  update_config 'del c["linux"]["seccomp"]'
  start_init "$ID2"
  run nook exec "$ID2" sh -c 'grep "^Seccomp:" /proc/self/status; mkdir /tmp/a'
  assert_failure
  assert_line --regexp $'^Seccomp:\t0$'
  assert_output --partial "Read-only file system"
}

@test "exec: SCMP_ACT_NOTIFY: the agent gets the fd and the exec'd process's state" {
  skip_for_peer "runc 1.1.5 SIGKILLs an exec whose filter has SCMP_ACT_NOTIFY"
  setup_sleeper
  SOCK=$BATS_TEST_TMPDIR/agent.sock
  update_config "c['linux']['seccomp'] = {'defaultAction': 'SCMP_ACT_ALLOW', 'listenerPath': '$SOCK', 'syscalls': [{'names': ['mkdir', 'mkdirat'], 'action': 'SCMP_ACT_NOTIFY'}]}"
  # one agent for the init, one for the exec
  for who in init exec; do
    rm -f "$SOCK" "$SOCK.ready"
    bg "$PYTHON" "$INTEGRATION_DIR/seccomp_listener.py" "$SOCK" "$BATS_TEST_TMPDIR/agent-$who.json"
    wait_for_file "$SOCK.ready"
    if [ $who = init ]; then
      start_init
      wait_for_file "$BATS_TEST_TMPDIR/agent-init.json"
    fi
  done
  run nook exec --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sh -c 'mkdir /tmp/a 2>&1; echo done'
  assert_success
  # the agent closed the fd unanswered: ENOSYS
  assert_line --partial "Function not implemented"
  assert_line done
  wait_for_file "$BATS_TEST_TMPDIR/agent-exec.json"
  run jq -r '.state.pid, .state.state.id' "$BATS_TEST_TMPDIR/agent-exec.json"
  assert_line --index 0 "$(cat "$BATS_TEST_TMPDIR/pid")"
  assert_line --index 1 "$ID"
  [ "${lines[0]}" != "$INIT_PID" ] || fail "the agent got the init's pid"
}

@test "exec: capabilities are the config's; --cap adds to the bounding, effective and permitted sets" {
  setup_sleeper
  start_init
  # CAP_KILL (5), CAP_NET_BIND_SERVICE (10), CAP_AUDIT_WRITE (29): the spec's set
  run nook exec "$ID" cat /proc/self/status
  assert_success
  for f in CapEff CapPrm CapBnd; do
    assert_equal "$(status_field "$output" $f)" 0000000020000420
  done
  assert_equal "$(status_field "$output" CapAmb)" 0000000000000000
  run nook exec --cap CAP_SYS_ADMIN "$ID" cat /proc/self/status
  assert_success
  for f in CapEff CapPrm CapBnd; do
    assert_equal "$(status_field "$output" $f)" 0000000020200420
  done
  # the init is not affected
  assert_equal "$(awk '/^CapBnd:/ {print $2}' /proc/$INIT_PID/status)" 0000000020000420
}

@test "exec: rlimits, noNewPrivileges and oomScoreAdj are the config's; --no-new-privs sets it" {
  setup_sleeper
  update_config 'c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888}]
c["process"]["noNewPrivileges"] = False
c["process"]["oomScoreAdj"] = 123'
  start_init
  run nook exec "$ID" sh -c 'ulimit -n; ulimit -Hn; grep ^NoNewPrivs: /proc/self/status; cat /proc/self/oom_score_adj'
  assert_success
  assert_line --index 0 777
  assert_line --index 1 888
  assert_line --index 2 --regexp $'^NoNewPrivs:\t0$'
  assert_line --index 3 123
  run nook exec --no-new-privs "$ID" grep ^NoNewPrivs: /proc/self/status
  assert_success
  assert_output --regexp $'^NoNewPrivs:\t1$'
}

@test "exec: process.user.umask is the config's" {
  skip_for_peer "runc 1.1.5 ignores process.user.umask in exec"
  setup_sleeper
  update_config 'c["process"]["user"]["umask"] = 63'
  start_init
  run nook exec "$ID" sh -c 'umask'
  assert_success
  assert_output 0077
}

# ---- env, cwd, user ------------------------------------------------------------

@test "exec: env is the config's; -e adds and replaces" {
  setup_sleeper
  update_config 'c["process"]["env"] = ["PATH=/usr/bin:/bin", "CFG=from-config", "KEEP=1"]'
  start_init
  run nook exec "$ID" env
  assert_success
  assert_line PATH=/usr/bin:/bin
  assert_line CFG=from-config
  refute_line --partial FOO=
  run nook exec -e FOO=bar -e CFG=replaced -e PATH=/bin "$ID" env
  assert_success
  assert_line FOO=bar
  assert_line CFG=replaced
  assert_line KEEP=1
  assert_line PATH=/bin
  assert_equal "$(grep -c '^PATH=' <<<"$output")" 1
  assert_equal "$(grep -c '^CFG=' <<<"$output")" 1
}

@test "exec: cwd is the config's; --cwd overrides it" {
  setup_sleeper
  update_config 'c["process"]["cwd"] = "/tmp"'
  start_init
  run nook exec "$ID" pwd
  assert_success
  assert_output /tmp
  run nook exec --cwd /etc "$ID" pwd
  assert_success
  assert_output /etc
}

@test "exec -u: numeric and named users, additional gids, HOME from /etc/passwd" {
  skip_for_peer "nook also takes user and group names in -u"
  setup_sleeper
  start_init
  run nook exec "$ID" sh -c 'id -u; id -g; echo "HOME=$HOME"'
  assert_success
  assert_output $'0\n0\nHOME=/root'
  run nook exec -u 1000:1000 "$ID" sh -c 'id -u; id -g; echo "HOME=$HOME"'
  assert_success
  assert_output $'1000\n1000\nHOME=/home/tester'
  run nook exec -u tester "$ID" sh -c 'id -un; id -g; echo "HOME=$HOME"'
  assert_success
  assert_output $'tester\n1000\nHOME=/home/tester'
  run nook exec -u nobody:tester "$ID" sh -c 'id -u; id -g; echo "HOME=$HOME"'
  assert_success
  assert_output $'65534\n1000\nHOME=/nonexistent'
  run nook exec -u tester -e HOME=/custom "$ID" sh -c 'echo "HOME=$HOME"'
  assert_success
  assert_output HOME=/custom
  run nook exec -u 1000:1000 --additional-gids 10 -g 20 "$ID" id -G
  assert_success
  assert_output "1000 10 20"
  # the process's real ids, seen from the host
  nook exec -u 1000:1000 -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 1000 </dev/null >/dev/null 2>&1 3>&-
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  EXEC_CHILDREN+=("$pid")
  run awk '/^(Uid|Gid):/ {print $1, $2, $3, $4, $5}' "/proc/$pid/status"
  assert_line "Uid: 1000 1000 1000 1000"
  assert_line "Gid: 1000 1000 1000 1000"
}

@test "exec -u: invalid values are rejected before anything runs" {
  skip_for_peer "nook's stricter -u parsing and its messages"
  setup_sleeper
  add_out_mount
  start_init
  # control: a valid user does run the command
  run nook exec -u 1000 "$ID" touch /out/control
  assert_success
  [ -e "$OUTDIR/control" ]
  rm "$OUTDIR/control"
  local i=0
  for u in "abc:" ":0" "0:0:0" "-1" "+1" " 1" "1 " "4294967295" "99999999999" "0x10" "" "1000:" "1000:x y"; do
    i=$((i + 1))
    run nook exec -u "$u" "$ID" touch "/out/ran-$i"
    assert_failure
    assert_output --partial "--user \"$u\""
  done
  run nook exec -u 1000 --additional-gids abc "$ID" touch /out/ran-gids
  assert_failure
  assert_output --partial '--additional-gids: invalid group id "abc"'
  run nook exec -u 1000 -g -5 "$ID" touch /out/ran-gids2
  assert_failure
  run nook exec -u nosuchuser "$ID" touch /out/ran-name
  assert_failure
  assert_output --partial 'no user "nosuchuser"'
  run nook exec -u 1000:nosuchgroup "$ID" touch /out/ran-group
  assert_failure
  assert_output --partial 'no group "nosuchgroup"'
  [ -z "$(ls "$OUTDIR")" ] || fail "rejected execs ran: $(ls "$OUTDIR")"
}

@test "exec --additional-gids adds to the config's additionalGids (as runc)" {
  setup_sleeper
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [30]}'
  start_init
  run nook exec "$ID" id -G
  assert_success
  assert_output "1000 30"
  run nook exec -g 10 -g 20 "$ID" id -G
  assert_success
  # (the kernel keeps supplementary groups sorted)
  assert_equal "$(tr ' ' '\n' <<<"$output" | sort -n | xargs)" "10 20 30 1000"
}

# ---- --process -------------------------------------------------------------------

@test "exec --process: args, env, cwd and user come from the file" {
  setup_sleeper
  update_config 'c["process"]["env"] = ["PATH=/bin", "CFG=from-config"]'
  start_init
  cat >"$BATS_TEST_TMPDIR/process.json" <<'EOF'
{
  "terminal": false,
  "args": ["sh", "-c", "echo \"$PFILE\"; echo \"cfg=$CFG\"; pwd; id -u; id -g; id -G"],
  "env": ["PATH=/usr/bin:/bin", "PFILE=from-file"],
  "cwd": "/etc",
  "user": {"uid": 1000, "gid": 1000, "additionalGids": [10]}
}
EOF
  run nook exec --process "$BATS_TEST_TMPDIR/process.json" "$ID"
  assert_success
  assert_output $'from-file\ncfg=\n/etc\n1000\n1000\n1000 10'
  # -p, relative to the caller's cwd
  cd "$BATS_TEST_TMPDIR"
  run nook exec -p process.json "$ID"
  assert_success
  assert_line --index 0 from-file
}

@test "exec: process.execCPUAffinity: the final CPU list applies inside; bad lists are errors" {
  setup_sleeper
  start_init
  local last=$(($(nproc) - 1)) all
  printf '{"args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"], "cwd": "/", "execCPUAffinity": {"initial": "0", "final": "%s"}}' "$last" >"$BATS_TEST_TMPDIR/p1.json"
  run nook exec --process "$BATS_TEST_TMPDIR/p1.json" "$ID"
  assert_success
  assert_output --regexp "^Cpus_allowed_list:[[:space:]]+$last\$"
  # Without final, the kernel decides after the cgroup move: the cgroup's
  # CPUs, or (6.2 and later keep a user-set mask) the initial list.
  printf '{"args": ["sh", "-c", "grep Cpus_allowed_list /proc/self/status"], "cwd": "/", "execCPUAffinity": {"initial": "%s"}}' "$last" >"$BATS_TEST_TMPDIR/p2.json"
  run nook exec --process "$BATS_TEST_TMPDIR/p2.json" "$ID"
  assert_success
  all=$(grep Cpus_allowed_list /proc/self/status | awk '{print $2}')
  assert_output --regexp "^Cpus_allowed_list:[[:space:]]+($all|$last)\$"
  printf '{"args": ["true"], "cwd": "/", "execCPUAffinity": {"final": "0-x"}}' >"$BATS_TEST_TMPDIR/p3.json"
  run nook exec --process "$BATS_TEST_TMPDIR/p3.json" "$ID"
  assert_failure
  assert_output --partial 'p3.json: execCPUAffinity.final: invalid CPU list "0-x"'
}

@test "exec --process without capabilities: the container's apply (as runc); with them, the file's" {
  setup_sleeper
  update_config 'c["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 777, "hard": 888}]'
  start_init
  # (without rlimits in the file, runc 1.1 leaves the caller's: not checked)
  cat >"$BATS_TEST_TMPDIR/process.json" <<'EOF'
{"args": ["sh", "-c", "ulimit -n; grep -E '^Cap(Eff|Bnd):' /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"]}
EOF
  run nook exec -p "$BATS_TEST_TMPDIR/process.json" "$ID"
  assert_success
  assert_line --regexp $'^CapEff:\t0000000020000420$'
  assert_line --regexp $'^CapBnd:\t0000000020000420$'
  # with their own, the file's apply
  cat >"$BATS_TEST_TMPDIR/process.json" <<'EOF'
{"args": ["sh", "-c", "ulimit -n; grep -E '^Cap(Eff|Bnd):' /proc/self/status"], "cwd": "/", "env": ["PATH=/bin"],
 "rlimits": [{"type": "RLIMIT_NOFILE", "soft": 555, "hard": 555}],
 "capabilities": {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}}
EOF
  run nook exec -p "$BATS_TEST_TMPDIR/process.json" "$ID"
  assert_success
  assert_line --index 0 555
  assert_line --regexp $'^CapEff:\t0000000000000020$'
  assert_line --regexp $'^CapBnd:\t0000000000000020$'
}

@test "exec --process: bad JSON and bad fields are errors naming the file and the field" {
  skip_for_peer "nook's own error messages"
  setup_sleeper
  add_out_mount
  start_init
  p=$BATS_TEST_TMPDIR/p.json
  echo '{"args": ["touch", "/out/ran"], ' >"$p"
  run nook exec -p "$p" "$ID"
  assert_failure
  assert_output --partial "$p"
  assert_output --partial "invalid JSON"

  echo '{"args": "touch /out/ran", "cwd": "/"}' >"$p"
  run nook exec -p "$p" "$ID"
  assert_failure
  assert_output --partial "$p"
  assert_output --regexp 'args: expected an array'

  echo '{"args": ["touch", "/out/ran"], "cwd": "relative"}' >"$p"
  run nook exec -p "$p" "$ID"
  assert_failure
  assert_output --partial "$p"
  assert_output --partial 'cwd: must be an absolute path'

  echo '{"args": ["touch", "/out/ran"], "cwd": "/", "user": {"uid": -1, "gid": 0}}' >"$p"
  run nook exec -p "$p" "$ID"
  assert_failure
  assert_output --partial "$p"
  assert_output --partial 'user.uid'

  echo '{"cwd": "/"}' >"$p"
  run nook exec -p "$p" "$ID"
  assert_failure
  assert_output --partial "$p"
  assert_output --partial 'args'

  run nook exec -p "$BATS_TEST_TMPDIR/nosuch.json" "$ID"
  assert_failure
  assert_output --partial "nosuch.json"
  [ ! -e "$OUTDIR/ran" ] || fail "a rejected process ran"
}

# ---- terminals -------------------------------------------------------------------

@test "exec -t: the process gets a pty; input reaches it; its exit status passes through" {
  setup_sleeper
  start_init
  run "$PYTHON" -c "$PTYRUN" $'tty\necho hello-$((1+2))\nexit 3\n' \
    "$NOOK" --root "$NOOK_ROOT" exec -t "$ID" sh
  assert_equal "$status" 3
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line hello-3
}

@test "exec -t -u 1000: the process owns its terminal (group stays tty)" {
  setup_sleeper
  start_init
  run "$PYTHON" -c "$PTYRUN" '' \
    "$NOOK" --root "$NOOK_ROOT" exec -t -u 1000 "$ID" sh -c 'stat -c "tty %u:%g" "$(tty)"'
  assert_success
  assert_line "tty 1000:5"
}

@test "exec -t -d --console-socket: the pty master goes to the socket" {
  setup_sleeper
  start_init
  SOCK=$BATS_TEST_TMPDIR/console.sock
  TTYOUT=$BATS_TEST_TMPDIR/tty.out
  recvtty "$SOCK" "$TTYOUT" $'typed-in\n'
  run nook exec -t -d --console-socket "$SOCK" "$ID" sh -c 'tty; read l; echo "got:$l"; [ -t 1 ] && echo stdout-is-tty' </dev/null 3>&-
  assert_success
  for ((end = SECONDS + NOOK_WAIT_TIMEOUT; SECONDS < end; )); do
    kill -0 "$RECVTTY_PID" 2>/dev/null || break
    sleep 0.05
  done
  run tr -d '\r' <"$TTYOUT"
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line got:typed-in
  assert_line stdout-is-tty
}

@test "exec: -t -d without --console-socket, and --console-socket without -t, are errors" {
  skip_for_peer "nook's own error messages"
  setup_sleeper
  add_out_mount
  start_init
  run nook exec -t -d "$ID" touch /out/ran
  assert_failure
  assert_output --partial "without --console-socket"
  run nook exec --console-socket "$BATS_TEST_TMPDIR/x.sock" "$ID" touch /out/ran
  assert_failure
  assert_output --partial "console-socket"
  [ ! -e "$OUTDIR/ran" ]
}

# ---- detach, signals, fds -------------------------------------------------------

@test "exec -d --pid-file: returns at once; the pid file holds the live process" {
  setup_sleeper
  start_init
  SECONDS=0
  nook exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 1000 </dev/null >"$BATS_TEST_TMPDIR/exec.out" 2>&1 3>&-
  ((SECONDS < 5)) || fail "exec -d took ${SECONDS}s"
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  EXEC_CHILDREN+=("$pid")
  [ -d "/proc/$pid" ] || fail "pid $pid from the pid file is not alive"
  assert_equal "$(tr '\0' ' ' <"/proc/$pid/cmdline")" "sleep 1000 "
  assert_equal "$(readlink /proc/$pid/ns/pid)" "$(readlink /proc/$INIT_PID/ns/pid)"
  ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status")
  [ "$(readlink "/proc/$ppid/exe" 2>/dev/null)" != "$(readlink -f "$NOOK")" ] ||
    fail "the process's parent $ppid is nook"
  # it is ours to kill, by that pid
  kill -9 "$pid"
  wait_pid_gone "$pid"
  assert_equal "$(state_field "$ID" status)" running
}

@test "exec: signals sent to nook exec are forwarded to the process" {
  setup_sleeper
  start_init
  out=$BATS_TEST_TMPDIR/exec.out
  bg_exec "$out" "$ID" sh -c 'trap "echo got-TERM; exit 42" TERM; trap "echo got-HUP" HUP; echo ready; while :; do sleep 0.1; done'
  wait_for_line "$out" ready
  kill -HUP "$EXEC_PID"
  wait_for_line "$out" got-HUP
  kill -TERM "$EXEC_PID"
  rc=0
  wait "$EXEC_PID" || rc=$?
  assert_equal "$rc" 42
  run cat "$out"
  assert_line got-TERM
}

@test "exec --preserve-fds 1: fd 3 reaches the process, and nothing else" {
  setup_sleeper
  start_init
  echo content-of-3 >"$BATS_TEST_TMPDIR/f3"
  echo leak >"$BATS_TEST_TMPDIR/f5"
  run nook exec --preserve-fds 1 "$ID" sh -c 'cat <&3; ls /proc/$$/fd; true' \
    3<"$BATS_TEST_TMPDIR/f3" 5<"$BATS_TEST_TMPDIR/f5"
  assert_success
  assert_line --index 0 content-of-3
  assert_equal "$(echo "${lines[@]:1}")" "0 1 2 3"
  # without it, only stdio
  run nook exec "$ID" sh -c 'ls /proc/$$/fd; true' 3<"$BATS_TEST_TMPDIR/f3"
  assert_success
  assert_equal "$(echo $output)" "0 1 2"
}

@test "exec --preserve-fds 2 with fd 4 closed is an error" {
  skip_for_peer "nook checks that the preserved fds are open"
  setup_sleeper
  add_out_mount
  start_init
  run nook exec --preserve-fds 2 "$ID" touch /out/ran 3</dev/null 4>&-
  assert_failure
  assert_output --partial "fd 4 is not open"
  run nook exec --preserve-fds x "$ID" touch /out/ran
  assert_failure
  [ ! -e "$OUTDIR/ran" ]
}

# ---- container states ------------------------------------------------------------

@test "exec: unknown and stopped containers are errors" {
  skip_for_peer "nook's own error messages"
  run nook exec "nosuch-$ID" true
  assert_failure
  assert_output --partial "container \"nosuch-$ID\" does not exist"
  setup_bundle true
  create_container "$ID"
  nook start "$ID"
  wait_for_state "$ID" stopped
  run nook exec "$ID" true
  assert_failure
  assert_output --partial "cannot exec in a stopped container"
}

@test "exec: a paused container needs --ignore-paused; the process then waits for resume" {
  setup_sleeper
  add_out_mount
  start_init
  nook pause "$ID"
  run nook exec "$ID" touch /out/ran
  assert_failure
  assert_output --partial "cannot exec in a paused container"
  assert_output --partial "--ignore-paused"
  [ ! -e "$OUTDIR/ran" ]

  bg_exec "$BATS_TEST_TMPDIR/exec.out" --ignore-paused "$ID" sh -c 'echo resumed >/out/ran'
  # frozen with the container: nothing runs while it is paused (a wait is
  # the only way to see that something does not happen)
  sleep 0.5
  [ ! -e "$OUTDIR/ran" ] || fail "the process ran in a paused container"
  kill -0 "$EXEC_PID" || fail "nook exec returned while the container is paused: $(cat "$BATS_TEST_TMPDIR/exec.out")"
  assert_equal "$(state_field "$ID" status)" paused
  nook resume "$ID"
  rc=0
  wait "$EXEC_PID" || rc=$?
  assert_equal "$rc" 0
  assert_equal "$(cat "$OUTDIR/ran")" resumed
}

@test "exec into a created (not started) container works; it stays created" {
  setup_sleeper
  create_container "$ID"
  run nook exec "$ID" sh -c 'echo in-created; echo "pid $$"'
  assert_success
  assert_line in-created
  [ "${lines[1]}" != "pid 1" ] || fail "exec'd process is pid 1"
  assert_equal "$(state_field "$ID" status)" created
  nook start "$ID"
  wait_for_state "$ID" running
}

# ---- other errors ----------------------------------------------------------------

@test "exec errors: missing cwd, unknown --cap, executable not found, no command" {
  skip_for_peer "nook's own error messages"
  setup_sleeper
  add_out_mount
  start_init
  run nook exec --cwd /nonexistent "$ID" touch /out/ran
  assert_failure
  assert_output --partial "/nonexistent"
  run nook exec --cwd tmp "$ID" touch /out/ran
  assert_failure
  assert_output --partial 'must be an absolute path, got "tmp"'
  run nook exec --cap CAP_NO_SUCH "$ID" touch /out/ran
  assert_failure
  assert_output --partial 'unknown capability "CAP_NO_SUCH"'
  run nook exec "$ID" nosuch
  assert_failure
  assert_output --partial 'exec: "nosuch": executable file not found in $PATH'
  run nook exec "$ID"
  assert_failure
  assert_output --partial "no command"
  [ ! -e "$OUTDIR/ran" ]
}

@test "exec --apparmor and --process-label on a host without these LSMs: a clear error" {
  skip_for_peer "nook's own error messages"
  [[ -e /sys/kernel/security/apparmor ]] && fail "this host has AppArmor; the test assumes none"
  setup_sleeper
  add_out_mount
  start_init
  run nook exec --apparmor x "$ID" touch /out/ran
  assert_failure
  assert_output --partial "AppArmor is not enabled"
  run nook exec --process-label x "$ID" touch /out/ran
  assert_failure
  assert_output --partial "SELinux is not enabled"
  [ ! -e "$OUTDIR/ran" ]
}

# ---- cleanup ---------------------------------------------------------------------

@test "exec: failed execs leave no process; delete -f kills the exec'd ones" {
  setup_sleeper
  start_init
  procs=$(procs_dir "$INIT_PID")/cgroup.procs
  nook exec -d --pid-file "$BATS_TEST_TMPDIR/pid" "$ID" sleep 1000 </dev/null >/dev/null 2>&1 3>&-
  pid=$(cat "$BATS_TEST_TMPDIR/pid")
  EXEC_CHILDREN+=("$pid")
  run nook exec "$ID" nosuch
  assert_failure
  run nook exec -u nosuchuser "$ID" true
  assert_failure
  run nook exec --cwd /nonexistent "$ID" true
  assert_failure
  run nook exec --apparmor x "$ID" true
  assert_failure
  run nook exec "$ID" sh -c 'exit 3'
  assert_equal "$status" 3
  assert_equal "$(sort -n "$procs" | tr '\n' ' ')" "$(printf '%s\n' "$INIT_PID" "$pid" | sort -n | tr '\n' ' ')"
  run nook delete -f "$ID"
  assert_success
  wait_pid_gone "$pid"
  wait_pid_gone "$INIT_PID"

  # without a pid namespace of its own, delete -f must kill them too
  update_config 'ns_remove("pid")'
  start_init "$ID2"
  nook exec -d --pid-file "$BATS_TEST_TMPDIR/pid2" "$ID2" sleep 1000 </dev/null >/dev/null 2>&1 3>&-
  pid2=$(cat "$BATS_TEST_TMPDIR/pid2")
  EXEC_CHILDREN+=("$pid2")
  run nook delete -f "$ID2"
  assert_success
  wait_pid_gone "$pid2"
}
