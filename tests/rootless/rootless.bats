#!/usr/bin/env bats
# nook run by an unprivileged user (issue #18): detection, the state root,
# the lifecycle, exec, terminals, mounts, the overlay rootfs, user namespaces
# with subordinate ranges, what cannot be done without a cgroup, error
# messages and cleanup.  helpers.bash runs every runtime call as the user.

load helpers

# The runtime's debug line names the mode: "command X, root R, rootless".
mode_line() {
  grep -o 'msg="command [a-z]*, root [^"]*"' <<<"$1"
}

@test "rootless: detected for an unprivileged user and in a user namespace without the host's root" {
  run nook --debug state nonexistent
  assert_failure
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT, rootless\""
  # root on the host is not rootless
  run "$NOOK" --debug --root "$NOOK_ROOT" state nonexistent
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT\""
  # uid 0 of the user's own user namespace (where rootless podman runs its
  # runtime) is rootless: the namespace maps no host root
  run as_user unshare --user --map-root-user "$NOOK" --debug --root "$NOOK_ROOT" state nonexistent
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT, rootless\""
  # uid 0 of a user namespace that maps the host's root as its own is root
  run unshare --user --map-root-user "$NOOK" --debug --root "$NOOK_ROOT" state nonexistent
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT\""
}

@test "rootless: --rootless true|false overrides the detection" {
  run nook --rootless false --debug state nonexistent
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT\""
  run "$NOOK" --rootless true --debug --root "$NOOK_ROOT" state nonexistent
  assert_equal "$(mode_line "$output")" "msg=\"command state, root $NOOK_ROOT, rootless\""
  run nook --rootless maybe list
  assert_failure
  assert_output --partial 'invalid --rootless value "maybe": want true, false or auto'
  # --rootless false for a user: root's state root, which the user cannot use
  setup_bundle true
  run nook_default_root --rootless false run "$ID"
  assert_failure
  assert_output --partial '/run/nook'
  assert_output --partial 'permission denied'
}

@test "rootless: the state lives under \$XDG_RUNTIME_DIR/nook by default, the user's own" {
  setup_bundle sleep 100
  # (the container keeps the runtime's stdio: a file, not bats' pipe)
  nook_default_root create --bundle "$BUNDLE" "$ID" </dev/null >"$BATS_TEST_TMPDIR/create.out" 2>&1 3>&- ||
    fail "create: $(cat "$BATS_TEST_TMPDIR/create.out")"
  [ -d "$RL_XDG/nook/$ID" ]
  assert_equal "$(stat -c %u "$RL_XDG/nook" "$RL_XDG/nook/$ID" | sort -u)" "$RL_UID"
  # the compiled seccomp filter (the rootless spec has a profile) is not
  # state: it goes to the user's own cache, not root's
  run find "$RL_XDG/nook" -name '.*' -mindepth 1
  assert_output ""
  run nook_default_root list -q
  assert_output "$ID"
  run nook_default_root state "$ID"
  assert_output --partial '"status": "created"'
  run nook_default_root delete --force "$ID"
  assert_success
  [ ! -e "$RL_XDG/nook/$ID" ]
  # root's state root was never used
  [ ! -e "/run/nook/$ID" ]
}

@test "rootless: compiled seccomp filters go to the user's own cache, never root's" {
  setup_bundle true
  # The user's cache: $XDG_CACHE_HOME/nook/seccomp, else ~/.cache/nook/seccomp.
  RL_ENV="XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg-cache" run nook --debug run "$ID"
  assert_success
  assert_output --regexp "seccomp cache: (stored|hit) \`$BATS_TEST_TMPDIR/xdg-cache/nook/seccomp/[0-9a-f]{64}\`"
  run find "$BATS_TEST_TMPDIR/xdg-cache" -mindepth 3 -type f ! -user "$RL_UID"
  assert_output ""
  run find "$BATS_TEST_TMPDIR/xdg-cache/nook/seccomp" -type f -user "$RL_UID" -perm 0600
  assert_equal "${#lines[@]}" 1
  RL_ENV="XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg-cache" run nook --debug run "$ID"
  assert_output --partial "seccomp cache: hit \`$BATS_TEST_TMPDIR/xdg-cache/nook/seccomp/"
  run nook --debug run "$ID"
  assert_success
  assert_output --regexp "seccomp cache: (stored|hit) \`$RL_HOME/.cache/nook/seccomp/"
  # Root's cache, made by root, is not the user's to use or write.
  [ -d /var/cache/nook/seccomp ] || "$NOOK" seccomp-precompile "$BUNDLE/config.json"
  RL_ENV="NOOK_SECCOMP_CACHE=/var/cache/nook/seccomp" run nook --debug run "$ID"
  assert_success
  assert_output --partial "seccomp cache: \`seccomp\` of \`/var/cache/nook/seccomp\`: Permission denied"
  refute_output --partial "seccomp cache: hit"
  run find /var/cache/nook -user "$RL_UID"
  assert_output ""
}

@test "rootless: without XDG_RUNTIME_DIR and --root, a clear error; spec needs no state root" {
  setup_bundle true
  rl_cmd
  run "${RL_CMD[@]}" env -u XDG_RUNTIME_DIR "$NOOK" run "$ID"
  assert_failure
  assert_output "nook: error: running rootless and XDG_RUNTIME_DIR is not set: give the state directory with --root DIR (a directory the user owns, ideally on a tmpfs)"
  run "${RL_CMD[@]}" env -u XDG_RUNTIME_DIR "$NOOK" list
  assert_failure
  assert_output --partial 'XDG_RUNTIME_DIR is not set'
  mkdir "$BATS_TEST_TMPDIR/spec" && chown "$RL_UID" "$BATS_TEST_TMPDIR/spec"
  run "${RL_CMD[@]}" env -u XDG_RUNTIME_DIR sh -c "cd '$BATS_TEST_TMPDIR/spec' && '$NOOK' spec --rootless"
  assert_success
  [ -s "$BATS_TEST_TMPDIR/spec/config.json" ]
}

@test "rootless: spec --rootless changes runc's spec exactly as runc spec --rootless does" {
  command -v runc >/dev/null || skip "runc is not installed (scripts/deps.sh)"
  local r n
  for r in runc nook; do
    n=$BATS_TEST_TMPDIR/$r
    mkdir -p "$n/plain" "$n/rootless"
    chown -R "$RL_UID" "$n"
    local bin=$NOOK
    [ $r = runc ] && bin=$(command -v runc)
    as_user sh -c "cd '$n/plain' && '$bin' spec && cd '$n/rootless' && '$bin' spec --rootless" ||
      fail "$r spec failed"
  done
  # What --rootless changes, leaf by leaf (mounts by destination, namespaces
  # by type): the same for both runtimes.
  run "$PYTHON" - "$BATS_TEST_TMPDIR" <<'PY'
import json, sys
base = sys.argv[1]

def flat(v, path, out):
    if isinstance(v, dict):
        for k, x in v.items():
            flat(x, path + "." + k, out)
    elif isinstance(v, list) and path in (".mounts", ".linux.namespaces"):
        key = "destination" if path == ".mounts" else "type"
        for x in v:
            flat(x, "%s[%s]" % (path, x[key]), out)
    elif isinstance(v, list):
        out[path] = json.dumps(v)
    else:
        out[path] = json.dumps(v)
    return out

def delta(rt):
    a = flat(json.load(open("%s/%s/plain/config.json" % (base, rt))), "", {})
    b = flat(json.load(open("%s/%s/rootless/config.json" % (base, rt))), "", {})
    return {k: (a.get(k), b.get(k)) for k in set(a) | set(b) if a.get(k) != b.get(k)}

r, n = delta("runc"), delta("nook")
for k in sorted(set(r) | set(n)):
    if r.get(k) != n.get(k):
        print("differs at %s: runc %s, nook %s" % (k, r.get(k), n.get(k)))
print("changed:", " ".join(sorted(r)))
PY
  assert_success
  refute_output --partial 'differs at'
  # the changes themselves (runc's ToRootless): a user namespace mapping the
  # caller, no network namespace, /sys a bind, devpts without gid=5, no
  # resources
  assert_output --partial '.linux.uidMappings'
  assert_output --partial '.linux.namespaces[network]'
  assert_output --partial '.linux.namespaces[user]'
  assert_output --partial '.mounts[/sys].type'
  assert_output --partial '.mounts[/dev/pts].options'
  assert_output --partial '.linux.resources.devices'
  run jq -c '.linux.uidMappings, .linux.gidMappings' "$BATS_TEST_TMPDIR/nook/rootless/config.json"
  assert_line --index 0 "[{\"containerID\":0,\"hostID\":$RL_UID,\"size\":1}]"
  assert_line --index 1 "[{\"containerID\":0,\"hostID\":$RL_GID,\"size\":1}]"
}

@test "rootless: create, start, state, exec, kill, delete; the container runs as the user" {
  setup_bundle sleep 100
  create_container "$ID"
  run nook state "$ID"
  assert_output --partial '"status": "created"'
  nook start "$ID"
  wait_for_state "$ID" running
  local pid
  pid=$(state_field "$ID" pid)
  # root in the container, the user on the host
  assert_equal "$(awk '/^Uid:/ { print $2, $3 }' "/proc/$pid/status")" "$RL_UID $RL_UID"
  run nook exec "$ID" sh -c 'id -u; cat /proc/self/uid_map'
  assert_success
  assert_line --index 0 0
  assert_line --index 1 --regexp "^ +0 +$RL_UID +1\$"
  run nook list
  assert_output --partial "$RL_USER"
  nook kill "$ID" KILL
  wait_for_state "$ID" stopped
  run nook delete "$ID"
  assert_success
  [ ! -e "$NOOK_ROOT/$ID" ]
}

@test "rootless: run gives the container's exit status" {
  setup_bundle sh -c 'echo out-$((6*7)); exit 3'
  run nook run "$ID"
  assert_equal "$status" 3
  assert_output out-42
}

@test "rootless: ps and kill --all go by the pid namespace when there is no cgroup" {
  setup_bundle sleep 100
  run_detached "$ID"
  nook exec -d "$ID" sleep 200
  nook exec -d "$ID" sleep 300
  run nook ps "$ID"
  assert_success
  assert_output --partial 'sleep 100'
  assert_output --partial 'sleep 200'
  assert_output --partial 'sleep 300'
  local pids
  pids=$(nook ps --format json "$ID")
  assert_equal "$(jq length <<<"$pids")" 3
  # TERM: pid 1 of the namespace ignores it, the others die of it
  nook kill --all "$ID" TERM
  local p
  for p in $(jq -r '.[]' <<<"$pids"); do
    [ "$p" = "$(state_field "$ID" pid)" ] || wait_pid_gone "$p"
  done
  run nook ps --format json "$ID"
  assert_output "[$(state_field "$ID" pid)]"
}

@test "rootless: pause, resume, update and events say they need a cgroup the user lacks" {
  setup_bundle sleep 100
  run_detached "$ID"
  local hint='it has no cgroup (created rootless, where the user could not write one: a delegated cgroup v2 subtree gives it one)'
  run nook pause "$ID"
  assert_failure
  assert_output "nook: error: cannot pause container \"$ID\": $hint"
  run nook update --pids-limit 10 "$ID"
  assert_failure
  assert_output "nook: error: cannot update container \"$ID\": $hint"
  run nook events --stats "$ID"
  assert_failure
  assert_output "nook: error: cannot get the stats of container \"$ID\": $hint"
  run nook exec --cgroup / "$ID" true
  assert_failure
  assert_output --partial 'the container has no cgroup'
  # and the container is untouched
  run nook state "$ID"
  assert_output --partial '"status": "running"'
}

@test "rootless: resources without a cgroup are skipped with one warning each" {
  setup_bundle sh -c 'echo ran'
  update_config 'c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 50}, "cpu": {"shares": 512}, "unified": {"memory.high": "50000000"}}'
  run nook run "$ID"
  assert_success
  assert_line ran
  local w
  for w in 'linux.resources.memory' 'linux.resources.pids' 'linux.resources.cpu' \
    'linux.resources.unified[\"memory.high\"]'; do
    assert_equal "$(grep -cF "level=warning msg=\"$w: not applied: running rootless without a cgroup (" <<<"$output")" 1
  done
  assert_equal "$(grep -c 'level=warning' <<<"$output")" 4
  # a config without resources gets no warning at all
  update_config 'del c["linux"]["resources"]'
  run nook run "$ID"
  assert_success
  assert_output ran
}

@test "rootless: a terminal, through the console socket and for exec -t" {
  setup_bundle sh -c 'tty; stat -c "%u %t" "$(tty)"; [ -t 0 ] && echo is-a-tty; read line; echo "got:$line"'
  update_config 'c["process"]["terminal"] = True'
  local sock=$BATS_TEST_TMPDIR/console.sock out=$BATS_TEST_TMPDIR/tty.out
  rl_cmd
  rm -f "$sock" "$sock.ready"
  bg "${RL_CMD[@]}" "$PYTHON" "$INTEGRATION_DIR/recvtty.py" --input $'hello-tty\n' --output "$out" "$sock"
  wait_for_file "$sock.ready"
  create_container "$ID" --console-socket "$sock"
  nook start "$ID"
  wait_for_state "$ID" stopped
  wait_pid_gone "$BG_PID"
  run tr -d '\r' <"$out"
  assert_line --regexp '^/dev/pts/[0-9]+$'
  assert_line '0 88'
  assert_line is-a-tty
  assert_line got:hello-tty
  # exec -t, driven through a pty
  setup_bundle sleep 100
  run_detached "$ID2"
  run "${RL_CMD[@]}" "$PYTHON" "$REPO_ROOT/tests/engines/ptyrun.py" --timeout 60 \
    --expect '# ' --send 'echo exec-$((2+3)); tty; exit 4\n' --expect 'exec-5' -- \
    "$NOOK" --root "$NOOK_ROOT" exec -t "$ID2" sh
  assert_equal "$status" 4
  assert_output --regexp '/dev/pts/[0-9]+'
}

@test "rootless: /sys, device nodes and binds of the user's directories" {
  setup_bundle sh -c 'grep -E " /sys | /dev/null | /data | /ro " /proc/self/mountinfo
echo w > /data/new && echo wrote-data
echo w > /ro/new || echo ro-refused
ls /sys/kernel >/dev/null && echo sys-ok
echo x > /dev/null && echo null-ok'
  local data=$BATS_TEST_TMPDIR/data ro=$BATS_TEST_TMPDIR/ro
  mkdir "$data" "$ro"
  chown "$RL_UID:$RL_GID" "$data" "$ro"
  update_config "c['mounts'] += [{'destination': '/data', 'type': 'bind', 'source': '$data', 'options': ['rbind', 'rw']},
  {'destination': '/ro', 'type': 'bind', 'source': '$ro', 'options': ['rbind', 'ro']}]"
  run nook run "$ID"
  assert_success
  # /sys: the host's sysfs, bound read-only (the rootless spec's mount)
  assert_line --regexp ' /sys ro,.* - sysfs '
  # /dev/null: the host's node, bound (a user namespace cannot mknod)
  assert_line --regexp ' /dev/null .* - devtmpfs '
  assert_line wrote-data
  assert_line ro-refused
  assert_line sys-ok
  assert_line null-ok
  assert_equal "$(stat -c %u "$data/new")" "$RL_UID"
  [ ! -e "$ro/new" ]
}

@test "rootless: a sysfs mount the user namespace may not make is the host's /sys, bound" {
  # runc's root spec mounts sysfs; without a network namespace of the
  # container's own the kernel refuses it, and crun binds /sys instead.
  setup_bundle sh -c 'grep " /sys " /proc/self/mountinfo; cat /sys/kernel/ostype 2>/dev/null || ls /sys/kernel | head -n 1'
  update_config 'c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"] + [{"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]}]'
  run nook run "$ID"
  assert_success
  assert_line --regexp ' /sys ro,.* - sysfs '
  # with a network namespace it is a sysfs of its own
  update_config 'ns_add("network")'
  run nook run "$ID"
  assert_success
  assert_line --regexp ' /sys ro,.* - sysfs '
}

@test "rootless: linux.devices are bound from the host" {
  [ -c /dev/fuse ] || skip "no /dev/fuse on this host"
  setup_bundle sh -c 'stat -c "%F %t:%T" /dev/fuse; grep " /dev/fuse " /proc/self/mountinfo | wc -l'
  update_config 'c["linux"]["devices"] = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]'
  run nook run "$ID"
  assert_success
  assert_line --index 0 'character special file a:e5'
  assert_line --index 1 1
}

@test "rootless: the overlay rootfs annotation, tmpfs and persistent upper" {
  setup_bundle sh -c 'grep " / " /proc/self/mountinfo | grep -o " - overlay "; echo new > /newfile && cat /newfile; rm /etc/group && echo removed'
  update_config 'c["root"]["readonly"] = False
c.setdefault("annotations", {})["nook.rootfs.overlay"] = "tmpfs"'
  run nook run "$ID"
  assert_success
  assert_line ' - overlay '
  assert_line new
  assert_line removed
  [ ! -e "$BUNDLE/rootfs/newfile" ]
  [ -e "$BUNDLE/rootfs/etc/group" ]
  local upper=$BATS_TEST_TMPDIR/upper
  mkdir "$upper" && chown "$RL_UID:$RL_GID" "$upper"
  update_config "c['annotations']['nook.rootfs.overlay'] = '$upper'"
  run nook run "$ID"
  assert_success
  assert_line new
  assert_equal "$(cat "$upper/upper/newfile")" new
  assert_equal "$(stat -c %u "$upper/upper/newfile")" "$RL_UID"
  [ ! -e "$BUNDLE/rootfs/newfile" ]
}

@test "rootless: a user namespace with the user's subordinate ranges (newuidmap, newgidmap)" {
  command -v newuidmap >/dev/null || fail "newuidmap is missing (uidmap, scripts/deps.sh)"
  setup_bundle sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id; touch /out/by-1000 && echo touched'
  map_subids
  add_out_mount
  chmod 0777 "$OUTDIR"
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  run nook run "$ID"
  assert_success
  assert_line --index 0 --regexp "^ +0 +$RL_UID +1\$"
  assert_line --index 1 --regexp "^ +1 +$RL_SUBUID +$RL_COUNT\$"
  assert_line --index 2 --regexp "^ +0 +$RL_GID +1\$"
  assert_line --index 3 --regexp "^ +1 +$RL_SUBGID +$RL_COUNT\$"
  assert_line 'uid=1000(tester) gid=1000(tester)'
  assert_line touched
  # uid 1000 in the container is subordinate id 999 past the range's start
  assert_equal "$(stat -c '%u %g' "$OUTDIR/by-1000")" "$((RL_SUBUID + 999)) $((RL_SUBGID + 999))"
}

@test "rootless: ids outside the user's ranges are refused, naming the field and newuidmap's reason" {
  setup_bundle true
  update_config "c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': $RL_UID, 'size': 1}, {'containerID': 1, 'hostID': $((RL_SUBUID + RL_COUNT)), 'size': 10}]"
  run nook run "$ID"
  assert_failure
  assert_output --regexp '^nook: error: linux.uidMappings: `/[a-z/]*/newuidmap` failed \(status 1\): newuidmap: .*not allowed$'
  # someone else's id as the single mapping
  setup_bundle true
  update_config 'c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 1}]'
  run nook run "$ID"
  assert_failure
  assert_output --partial 'linux.uidMappings'
  assert_output --partial 'newuidmap'
  # nothing was left behind
  run find "$NOOK_ROOT" -mindepth 1 -maxdepth 1 ! -name '.*'
  assert_output ''
}

@test "rootless: an idmapped mount of a host filesystem is refused with the kernel's rule" {
  setup_bundle true
  local src=$BATS_TEST_TMPDIR/src
  mkdir "$src" && chown "$RL_UID" "$src"
  update_config "c['mounts'].append({'destination': '/mnt', 'type': 'bind', 'source': '$src', 'options': ['bind', 'idmap']})"
  run nook run "$ID"
  assert_failure
  assert_output --partial "mounts[$(jq '.mounts | length - 1' "$BUNDLE/config.json")]"
  assert_output --partial 'CAP_SYS_ADMIN'
}

@test "rootless: an idmapped mount where the kernel allows it: a filesystem of the runtime's own user namespace" {
  # as under rootless podman: nook as root of the user's namespace (its uid
  # and subordinate range), idmapping a tmpfs mounted in that namespace,
  # which the kernel allows (CAP_SYS_ADMIN over the filesystem's namespace)
  local t=$BATS_TEST_TMPDIR/t
  mkdir "$t" && chown "$RL_UID:$RL_GID" "$t"
  setup_bundle sh -c 'stat -c %u /mnt/f'
  update_config "m = [{'containerID': 0, 'hostID': 0, 'size': 1}, {'containerID': 1, 'hostID': 1, 'size': $((RL_COUNT - 1))}]
c['linux']['uidMappings'] = m
c['linux']['gidMappings'] = m
c['mounts'].append({'destination': '/mnt', 'type': 'bind', 'source': '$t', 'options': ['bind', 'idmap'],
  'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}], 'gidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}]})"
  # without the idmap the file's owner reads 0, through it 1000
  run as_user unshare --user --mount --map-root-user --map-auto sh -c \
    "mount -t tmpfs none '$t' && touch '$t/f' && exec '$NOOK' --root '$NOOK_ROOT' run '$ID'"
  assert_success
  assert_output 1000
}

@test "rootless: delete --force as the user leaves no process, state or mount behind" {
  setup_bundle sh -c 'sleep 100 & sleep 200'
  update_config 'c["root"]["readonly"] = False
c.setdefault("annotations", {})["nook.rootfs.overlay"] = "tmpfs"'
  run_detached "$ID"
  nook exec -d "$ID" sleep 300
  local pids
  pids=$(nook ps --format json "$ID" | jq -r '.[]')
  [ "$(wc -w <<<"$pids")" -eq 3 ] || fail "expected the container's 3 processes, got: $pids"
  run nook delete --force "$ID"
  assert_success
  local p
  for p in $pids; do wait_pid_gone "$p"; done
  run find "$NOOK_ROOT" -mindepth 1 -maxdepth 1 ! -name '.*'
  assert_output ''
  run grep -F -e "$BATS_TEST_TMPDIR" /proc/self/mountinfo
  assert_output ''
}

@test "rootless: a runtime killed during create leaves what delete --force cleans" {
  setup_bundle sleep 100
  # a createRuntime hook that waits (its sleep's pid in the gate file): the
  # runtime is killed while it runs
  local gate=$BATS_TEST_TMPDIR/gate
  update_config "c.setdefault('hooks', {})['createRuntime'] = [{'path': '/bin/sh', 'args': ['sh', '-c', 'echo \$\$ > $gate.tmp && mv $gate.tmp $gate && exec sleep 100']}]"
  rl_cmd
  bg "${RL_CMD[@]}" "$NOOK" --root "$NOOK_ROOT" create --bundle "$BUNDLE" "$ID"
  local runtime=$BG_PID
  wait_for_file "$gate"
  BG_PIDS+=("$(cat "$gate")")
  local pid
  pid=$(jq -r .pid "$NOOK_ROOT/$ID/state.json")
  kill -9 "$runtime"
  wait_pid_gone "$runtime"
  run nook delete --force "$ID"
  assert_success
  wait_pid_gone "$pid"
  [ ! -e "$NOOK_ROOT/$ID" ]
}

@test "rootless: nook job runs as the user: its exit status, limits skipped with a warning, nothing left" {
  setup_bundle true
  run nook job --bundle "$BUNDLE" --name "$ID" --memory 64M --timeout 60s --report - -- \
    sh -c 'echo ran-as-$(id -u); exit 3'
  assert_equal "$status" 3
  assert_line ran-as-0
  assert_equal "$(grep -cF 'level=warning msg="linux.resources.memory: not applied: running rootless' <<<"$output")" 1
  # The report says how it ended; figures the job had no cgroup for are null.
  local report
  report=$(grep '^{' <<<"$output" | tail -n 1)
  assert_equal "$(jq -r .reason <<<"$report")" exited
  assert_equal "$(jq -r .exit_status <<<"$report")" 3
  assert_equal "$(jq -r .memory_peak_bytes <<<"$report")" null
  run find "$NOOK_ROOT" -mindepth 1 -maxdepth 1 ! -name '.*'
  assert_output ''
}
