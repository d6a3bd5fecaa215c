#!/usr/bin/env bats
# linux.namespaces: new namespaces of each kind, joining by path, user
# namespace mappings, time namespace offsets, loopback in a new netns.

load helpers

NS_SCRIPT='for n in pid net ipc uts mnt cgroup user time; do echo "$n $(readlink /proc/self/ns/$n)"; done'

# ns_link OUTPUT TYPE: the link the container printed for TYPE.
ns_link() {
  awk -v t="$2" '$1 == t { print $2 }' <<<"$1"
}

@test "every configured namespace is new; others are shared with the host" {
  setup_bundle sh -c "$NS_SCRIPT"
  update_config 'for t in ["pid", "network", "ipc", "uts", "mount", "cgroup"]: ns_add(t)
ns_remove("user"); ns_remove("time")'
  run nook run "$ID"
  assert_success
  for t in pid net ipc uts mnt cgroup; do
    inside=$(ns_link "$output" $t)
    [ -n "$inside" ] || fail "no $t link"
    [ "$inside" != "$(host_ns $t)" ] || fail "$t namespace is the host's"
  done
  for t in user time; do
    assert_equal "$(ns_link "$output" $t)" "$(host_ns $t)"
  done
}

@test "namespaces left out of the config are the host's" {
  setup_bundle sh -c "$NS_SCRIPT"
  update_config 'c["linux"]["namespaces"] = [{"type": "mount"}]
c.pop("hostname", None)'
  run nook run "$ID"
  assert_success
  for t in pid net ipc uts cgroup user time; do
    assert_equal "$(ns_link "$output" $t)" "$(host_ns $t)"
  done
  [ "$(ns_link "$output" mnt)" != "$(host_ns mnt)" ]
}

@test "pid namespace: the process is PID 1 and sees only its own processes" {
  # (the trailing echo keeps sh from exec-ing ps as PID 1)
  setup_bundle sh -c 'echo "pid=$$"; ps -o pid,comm; echo end'
  update_config 'ns_add("pid")'
  run nook run "$ID"
  assert_success
  assert_line --index 0 pid=1
  # pid=1, the ps header, sh (pid 1), ps itself, end
  assert_equal "${#lines[@]}" 5
  assert_line --regexp '^ *1 +sh$'
  assert_line --regexp '^ *[0-9]+ +ps$'
}

@test "network namespace: only lo, and it is up" {
  setup_bundle sh -c 'ls /sys/class/net; cat /sys/class/net/lo/flags; ip addr show lo'
  update_config 'ns_add("network")'
  run nook run "$ID"
  assert_success
  assert_line --index 0 lo
  # IFF_UP | IFF_LOOPBACK (| IFF_RUNNING is not in sysfs flags)
  assert_line --index 1 0x9
  assert_output --regexp 'lo: <LOOPBACK,UP'
  assert_output --partial 'inet 127.0.0.1/8'
}

@test "network namespace shared with the host: the host's interfaces are visible" {
  setup_bundle ls /sys/class/net
  update_config 'ns_remove("network")
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/sys"]
c["mounts"].append({"destination": "/sys", "type": "bind", "source": "/sys", "options": ["rbind", "ro"]})'
  run nook run "$ID"
  assert_success
  assert_equal "$(echo "$output" | sort)" "$(ls /sys/class/net | sort)"
}

@test "cgroup namespace: the container's cgroup is its root" {
  setup_bundle cat /proc/self/cgroup
  update_config 'ns_add("cgroup")'
  run nook run "$ID"
  assert_success
  [ "${#lines[@]}" -gt 0 ]
  for l in "${lines[@]}"; do
    [[ $l == *:/ ]] || fail "not at the cgroup namespace root: $l"
  done
}

@test "cgroup namespace absent: the full cgroup path is visible" {
  setup_bundle cat /proc/self/cgroup
  update_config 'ns_remove("cgroup")'
  run nook run "$ID"
  assert_success
  # at least one hierarchy shows a path that is not /
  assert_line --regexp ':/.+$'
}

@test "ipc and uts namespaces: hostname changes stay inside" {
  setup_bundle sh -c 'hostname'
  update_config 'ns_add("uts"); ns_add("ipc"); c["hostname"] = "inner-host"'
  run nook run "$ID"
  assert_success
  assert_output inner-host
  [ "$(hostname)" != inner-host ]
}

@test "joining namespaces by path: net, ipc, uts, pid, cgroup of another container" {
  setup_bundle sleep 100
  update_config 'for t in ["pid", "network", "ipc", "uts", "cgroup"]: ns_add(t)'
  create_container "$ID"
  pid1=$(state_field "$ID" pid)

  update_config "for t, f in [('network', 'net'), ('ipc', 'ipc'), ('uts', 'uts'), ('pid', 'pid'), ('cgroup', 'cgroup')]: ns_add(t, '/proc/$pid1/ns/' + f)
c.pop('hostname', None)
c['process']['args'] = ['sh', '-c', '''$NS_SCRIPT''']"
  run nook run "$ID2"
  assert_success
  for t in net ipc uts pid cgroup; do
    assert_equal "$(ns_link "$output" $t)" "$(readlink /proc/$pid1/ns/$t)"
  done
  # the mount namespace is still new
  [ "$(ns_link "$output" mnt)" != "$(readlink /proc/$pid1/ns/mnt)" ]
}

@test "joining a pid namespace by path: the process is not PID 1 there" {
  setup_bundle sleep 100
  update_config 'ns_add("pid")'
  create_container "$ID"
  pid1=$(state_field "$ID" pid)
  update_config "ns_add('pid', '/proc/$pid1/ns/pid')"
  set_args sh -c 'echo "pid=$$"; readlink /proc/self/ns/pid; [ -d /proc/1 ] && echo has-init'
  run nook run "$ID2"
  assert_success
  assert_line --regexp '^pid=[0-9]+$'
  refute_line pid=1
  assert_line "$(readlink /proc/$pid1/ns/pid)"
  # its /proc is that namespace's: the first container's init is PID 1 there
  assert_line has-init
}

@test "joining a pid namespace by path: the pid reaches the runtime before the container's next step" {
  # The process that forks into the joined pid namespace reports the new pid
  # while its child goes on with set-up on the same socket.  strace holds the
  # fork's return in the parent (clone(2): nook's own spawn uses clone3), so a
  # child that does not wait for the pid to be sent speaks first, and the
  # runtime reads "run-hooks" where it expects "pid" (seen under docker
  # --pid container:X on a loaded machine).
  command -v strace >/dev/null || fail "strace is not installed (scripts/deps.sh installs it)"
  setup_bundle sleep 100
  update_config 'ns_add("pid")'
  create_container "$ID"
  pid1=$(state_field "$ID" pid)
  update_config "ns_add('pid', '/proc/$pid1/ns/pid')"
  set_args true
  run timeout 60 strace -f -o /dev/null -e trace=clone -e inject=clone:delay_exit=300000 \
    "$NOOK" --root "$NOOK_ROOT" run "$ID2"
  assert_success
  refute_output --partial 'expected pid'
}

@test "joining a mount namespace by path: the rootfs is built there" {
  setup_bundle true
  touch rootfs/nook-marker
  # a mount namespace of our own, held by a sleeping process
  bg unshare -m --propagation private sleep 1000
  holder=$BG_PID
  for _ in $(seq 1 200); do
    [ "$(readlink /proc/$holder/ns/mnt)" != "$(host_ns mnt)" ] && break
    sleep 0.05
  done
  mntns=$(readlink /proc/$holder/ns/mnt)
  [ "$mntns" != "$(host_ns mnt)" ] || fail "the holder has no mount namespace of its own"
  update_config "ns_add('mount', '/proc/$holder/ns/mnt')"
  set_args sh -c 'readlink /proc/self/ns/mnt; [ -e /nook-marker ] && echo in-rootfs; grep -c " /proc " /proc/self/mountinfo'
  run nook run "$ID"
  assert_success
  assert_line --index 0 "$mntns"
  assert_line in-rootfs
  # the container's mounts are in that namespace, not in ours
  run grep -F "$BUNDLE/rootfs" /proc/self/mountinfo
  assert_output ""
}

# Runs the runtime in a private mount namespace of the test, so that what a
# container without a mount namespace mounts in its caller's namespace never
# reaches the host's.  / is made shared there (a peer group of that
# namespace only) to see that nook leaves its propagation alone.
no_mntns_script() {
  cat <<EOF
set -e
mount --make-rshared /
echo "before \$(findmnt -no PROPAGATION /)"
$1
echo "after \$(findmnt -no PROPAGATION /)"
echo "left \$(grep -cF ' $BUNDLE/rootfs' /proc/self/mountinfo || true)"
EOF
}

@test "no mount namespace: the container shares its caller's, chrooted into the rootfs" {
  setup_bundle sh -c 'readlink /proc/self/ns/mnt; [ -e /nook-marker ] && echo in-rootfs
echo x >/etc/nook-write 2>/dev/null || echo read-only-root
[ -e /proc/self/status ] && echo has-proc'
  touch rootfs/nook-marker
  update_config 'ns_remove("mount"); c["root"]["readonly"] = True'
  run unshare -m --propagation private sh -c "readlink /proc/self/ns/mnt
$(no_mntns_script "'$NOOK' --root '$NOOK_ROOT' run '$ID'")"
  assert_success
  caller_ns=${lines[0]}
  [ "$caller_ns" != "$(host_ns mnt)" ] || fail "the test's namespace is the host's"
  # the caller's namespace, the rootfs as /, root.readonly on its own bind
  assert_line --index 2 "$caller_ns"
  assert_line in-rootfs
  assert_line read-only-root
  assert_line has-proc
  [ ! -e rootfs/etc/nook-write ]
  # no pivot_root, no propagation change on the caller's root
  assert_line "before shared"
  assert_line "after shared"
  # what it leaves in the caller's namespace: the rootfs bind and mounts[]
  assert_line --regexp '^left [1-9][0-9]*$'
  # and nothing of it in ours, now that the private namespace is gone
  run grep -F "$BUNDLE/rootfs" /proc/self/mountinfo
  assert_output ""
  run nook list -q
  assert_output ""
}

@test "no mount namespace: exec enters the container's root" {
  setup_bundle sleep 100
  touch rootfs/nook-marker
  update_config 'ns_remove("mount")'
  run unshare -m --propagation private sh -c "$(no_mntns_script "
'$NOOK' --root '$NOOK_ROOT' run -d '$ID' </dev/null >/dev/null 2>&1
'$NOOK' --root '$NOOK_ROOT' exec '$ID' sh -c '[ -e /nook-marker ] && echo exec-in-rootfs; [ -e $BUNDLE ] || echo no-bundle-path'
'$NOOK' --root '$NOOK_ROOT' delete -f '$ID'")"
  assert_success
  assert_line exec-in-rootfs
  assert_line no-bundle-path
  assert_line "after shared"
  run grep -F "$BUNDLE/rootfs" /proc/self/mountinfo
  assert_output ""
  run nook list -q
  assert_output ""
}

@test "no mount namespace: rootfsPropagation is refused, naming the field" {
  setup_bundle true
  update_config 'ns_remove("mount"); c["linux"]["rootfsPropagation"] = "shared"'
  run unshare -m --propagation private "$NOOK" --root "$NOOK_ROOT" run "$ID"
  assert_failure
  assert_output --partial "linux.rootfsPropagation: needs a mount namespace"
}

@test "no mount namespace: the overlay rootfs annotation is refused" {
  skip_for_peer "nook.rootfs.overlay is nook's own annotation"
  setup_bundle true
  update_config 'ns_remove("mount"); c["annotations"] = {"nook.rootfs.overlay": "tmpfs"}'
  run unshare -m --propagation private sh -c "'$NOOK' --root '$NOOK_ROOT' run '$ID'; echo left \$(grep -cF ' $BUNDLE/rootfs' /proc/self/mountinfo)"
  assert_output --partial "annotation nook.rootfs.overlay: needs a mount namespace"
  assert_line "left 0"
  run nook list -q
  assert_output ""
}

@test "joining a namespace by path that does not exist: the child's error, not the broken sync socket" {
  # The child fails at once and leaves; the runtime, held by strace before
  # it sends "go", finds the socket closed.  The error the child queued
  # before leaving is what the user must see (it was "sync: send go:
  # broken pipe" in about 1 run of 5).
  command -v strace >/dev/null || fail "strace is not installed (scripts/deps.sh installs it)"
  setup_bundle true
  update_config 'ns_add("network", "/proc/999999999/ns/net")'
  run timeout 60 strace -o /dev/null -e trace=sendmsg -e inject=sendmsg:delay_enter=300000 \
    "$NOOK" --root "$NOOK_ROOT" run "$ID"
  assert_failure
  assert_output --regexp 'linux\.namespaces\[[0-9]+\]: open `/proc/999999999/ns/net`: no such file or directory'
  refute_output --partial 'sync:'
}

@test "joining a namespace by path that does not exist fails" {
  setup_bundle true
  update_config 'ns_add("network", "/proc/999999999/ns/net")'
  run nook run "$ID"
  assert_failure
  run nook state "$ID"
  assert_failure
}

@test "user namespace: uid and gid mappings" {
  open_tmpdir_for_userns
  setup_bundle sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u; readlink /proc/self/ns/user'
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 200000, "size": 65536}]'
  run nook run "$ID"
  assert_success
  assert_line --index 0 --regexp '^ *0 +100000 +65536$'
  assert_line --index 1 --regexp '^ *0 +200000 +65536$'
  assert_line --index 2 0
  [ "${lines[3]}" != "$(host_ns user)" ]
}

@test "user namespace: the process runs as the mapped host uid" {
  open_tmpdir_for_userns
  setup_bundle sleep 100
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["process"]["user"] = {"uid": 1000, "gid": 1000}'
  run_detached "$ID"
  pid=$(state_field "$ID" pid)
  run awk '/^Uid:|^Gid:/ {print $1, $2}' "/proc/$pid/status"
  assert_line "Uid: 101000"
  assert_line "Gid: 101000"
}

@test "user namespace: a bind source only the host's root can reach is mounted" {
  open_tmpdir_for_userns
  setup_bundle sh -c 'cat /data/secret-file /one-file; ls /data; touch /data/new 2>&1; true'
  local priv=$BATS_TEST_TMPDIR/root-only
  # (the destinations exist: the rootfs is not the container root's to write)
  mkdir rootfs/data
  touch rootfs/one-file
  mkdir -p "$priv/data"
  echo secret-content >"$priv/data/secret-file"
  echo one-file-content >"$priv/file"
  # 0700 root:root: the container's root (host uid 100000) cannot even look up the sources
  chmod 0700 "$priv"
  chmod 0644 "$priv/data/secret-file" "$priv/file"
  update_config "ns_add('user')
c['linux']['uidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['linux']['gidMappings'] = [{'containerID': 0, 'hostID': 100000, 'size': 65536}]
c['mounts'].append({'destination': '/data', 'type': 'bind', 'source': '$priv/data', 'options': ['rbind', 'ro']})
c['mounts'].append({'destination': '/one-file', 'type': 'bind', 'source': '$priv/file', 'options': ['bind']})"
  run nook run "$ID"
  assert_success
  assert_line secret-content
  assert_line one-file-content
  assert_line secret-file
  # the mount's own options still apply
  assert_line --partial 'Read-only file system'
}

@test "run --no-pivot: the container can still create nested user namespaces" {
  # A process whose root is not its mount namespace's root may not create a
  # user namespace: the rootfs must be moved onto / before the chroot.
  # (CAP_SETFCAP: mapping uid 0 in the new namespace needs it)
  setup_bundle sh -c 'unshare -mrpf true && echo nested-ok'
  update_config 'c["linux"].pop("seccomp", None)
for k in ("bounding", "effective", "permitted"):
    c["process"]["capabilities"][k] += ["CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETFCAP"]'
  run nook run --no-pivot "$ID"
  assert_success
  assert_line nested-ok
}

@test "user namespace: several mapping ranges" {
  open_tmpdir_for_userns
  setup_bundle cat /proc/self/uid_map
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 1000},
                             {"containerID": 1000, "hostID": 300000, "size": 10}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^ *0 +100000 +1000$'
  assert_line --regexp '^ *1000 +300000 +10$'
}

@test "user namespace: joining another container's user namespace by path" {
  open_tmpdir_for_userns
  setup_bundle sleep 100
  update_config 'ns_add("user")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
  create_container "$ID"
  pid1=$(state_field "$ID" pid)
  update_config "ns_add('user', '/proc/$pid1/ns/user')
c['process']['args'] = ['sh', '-c', 'readlink /proc/self/ns/user; cat /proc/self/uid_map']"
  run nook run "$ID2"
  assert_success
  assert_line --index 0 "$(readlink /proc/$pid1/ns/user)"
  assert_line --index 1 --regexp '^ *0 +100000 +65536$'
}

@test "time namespace: timeOffsets shift monotonic and boottime clocks" {
  skip_if_peer_lacks "time namespace" '.linux.namespaces | index("time")'
  setup_bundle sh -c 'cat /proc/self/timens_offsets; cut -d" " -f1 /proc/uptime; readlink /proc/self/ns/time'
  update_config 'ns_add("time")
c["linux"]["timeOffsets"] = {"monotonic": {"secs": 864000, "nanosecs": 0},
                             "boottime": {"secs": 1728000, "nanosecs": 0}}'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^monotonic +864000 +0$'
  assert_line --regexp '^boottime +1728000 +0$'
  host_up=$(cut -d' ' -f1 /proc/uptime)
  inner_up=$(sed -n 3p <<<"$output")
  # /proc/uptime follows boottime: shifted by 20 days (give 60 s of slack)
  "$PYTHON" -c "import sys; d = float(sys.argv[2]) - float(sys.argv[1]); sys.exit(0 if abs(d - 1728000) < 60 else 1)" "$host_up" "$inner_up" ||
    fail "uptime inside $inner_up, host $host_up"
  [ "$(sed -n 4p <<<"$output")" != "$(host_ns time)" ]
}

# Regression: becoming root in the new user namespace made the init
# non-dumpable, and its /proc/self/timens_offsets then belonged to the host's
# root ("Permission denied").
@test "time namespace with offsets inside a new user namespace" {
  skip_if_peer_lacks "time namespace" '.linux.namespaces | index("time")'
  open_tmpdir_for_userns
  setup_bundle sh -c 'cat /proc/self/timens_offsets; cat /proc/self/uid_map'
  update_config 'ns_add("user")
ns_add("time")
c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
c["linux"]["timeOffsets"] = {"monotonic": {"secs": 86400, "nanosecs": 5}}'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^monotonic +86400 +5$'
  assert_line --regexp '^ *0 +100000 +65536$'
}

@test "time namespace without offsets: clocks are the host's" {
  skip_if_peer_lacks "time namespace" '.linux.namespaces | index("time")'
  setup_bundle sh -c 'cat /proc/self/timens_offsets; readlink /proc/self/ns/time'
  update_config 'ns_add("time")'
  run nook run "$ID"
  assert_success
  assert_line --regexp '^monotonic +0 +0$'
  assert_line --regexp '^boottime +0 +0$'
  [ "${lines[2]}" != "$(host_ns time)" ]
}
