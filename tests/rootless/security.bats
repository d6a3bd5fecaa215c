#!/usr/bin/env bats
# A rootless container gets no more than its user had: no host id it was not
# given (no setuid escalation through the maps), no write to host files the
# user cannot write, whatever capabilities the config grants inside.

load helpers

# A config that grants every capability and leaves /proc/sys writable: what
# is refused below is refused by the kernel, not by the config.
grant_everything() {
  update_config 'caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_SYS_CHROOT", "CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_PTRACE", "CAP_MKNOD", "CAP_SYS_TIME", "CAP_SYS_RESOURCE", "CAP_AUDIT_WRITE"]
c["process"]["capabilities"] = {k: caps for k in ("bounding", "effective", "permitted", "inheritable", "ambient")}
c["process"]["noNewPrivileges"] = False
c["linux"].pop("seccomp", None)
c["linux"]["readonlyPaths"] = []
c["linux"]["maskedPaths"] = []'
}

# host_files: a root-owned directory and files the user may read but not
# write, bound rw at /host in the container.  Sets HOSTDIR.
host_files() {
  HOSTDIR=$BATS_TEST_TMPDIR/hostdir
  mkdir -m 0755 "$HOSTDIR"
  echo original >"$HOSTDIR/root-file"
  chmod 0644 "$HOSTDIR/root-file"
  echo secret >"$HOSTDIR/root-secret"
  chmod 0600 "$HOSTDIR/root-secret"
  update_config "c['mounts'].append({'destination': '/host', 'type': 'bind', 'source': '$HOSTDIR', 'options': ['rbind', 'rw']})"
}

@test "rootless security: every capability inside, and the host's root-owned files stay unwritable" {
  setup_bundle sh -c 'echo started
echo changed > /host/root-file || echo write-refused
cat /host/root-secret || echo read-refused
touch /host/new || echo create-refused
chmod 0666 /host/root-file || echo chmod-refused
chown 0:0 /host || echo chown-refused
rm /host/root-file || echo unlink-refused'
  grant_everything
  host_files
  run nook run "$ID"
  assert_success
  assert_line started
  for w in write read create chmod chown unlink; do assert_line "$w-refused"; done
  refute_line secret
  assert_equal "$(cat "$HOSTDIR/root-file")" original
  assert_equal "$(stat -c '%u %a' "$HOSTDIR/root-file" "$HOSTDIR")" $'0 644\n0 755'
  [ ! -e "$HOSTDIR/new" ]
}

# suid_probe (tests/security/progs): prints "ruid=R euid=E" and its
# capability sets.  Sets PROBE to the built program.
build_probe() {
  make -s -C "$REPO_ROOT/tests/security/progs" >&2 || fail "building tests/security/progs failed"
  PROBE=$REPO_ROOT/tests/.work/progs/suid_probe
}

@test "rootless security: a setuid-root program of the host gives no host root" {
  # a setuid-root probe owned by the host's root, bound in: the host's root
  # is not mapped in the container, so the kernel ignores the setuid bit
  # and the process keeps its ids, and gains no capability
  build_probe
  local suid=$BATS_TEST_TMPDIR/suid
  mkdir -m 0755 "$suid"
  cp "$PROBE" "$suid/probe"
  chmod 4755 "$suid/probe"
  setup_bundle /suid/probe
  map_subids
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["noNewPrivileges"] = False'
  update_config "c['mounts'].append({'destination': '/suid', 'type': 'bind', 'source': '$suid', 'options': ['rbind', 'ro']})"
  run nook run "$ID"
  assert_success
  assert_line 'ruid=1000 euid=1000'
  assert_line --regexp '^CapEff:[[:space:]]+0+$'
}

@test "rootless security: a setuid-root program of the image is root of the container only" {
  # owned by the container's root (the user on the host): it makes uid 1000
  # root of the container, with the container's bounding set and no more
  build_probe
  setup_bundle sh -c '/bin/probe; cat /proc/self/uid_map'
  cp "$PROBE" "$BUNDLE/rootfs/bin/probe"
  chown "$RL_UID:$RL_GID" "$BUNDLE/rootfs/bin/probe"
  chmod 4755 "$BUNDLE/rootfs/bin/probe"
  map_subids
  update_config 'c["process"]["user"] = {"uid": 1000, "gid": 1000}
c["process"]["noNewPrivileges"] = False'
  run nook run "$ID"
  assert_success
  assert_line 'ruid=1000 euid=0'
  # CAP_AUDIT_WRITE, CAP_KILL, CAP_NET_BIND_SERVICE: the rootless spec's set
  assert_line --regexp '^CapEff:[[:space:]]+0000000020000420$'
  # and its uid 0 is the user on the host
  assert_line --regexp "^ +0 +$RL_UID +1\$"
}

@test "rootless security: maps that name ids the user was not given are refused" {
  local maps
  for maps in \
    "[{'containerID': 0, 'hostID': 0, 'size': 1}]" \
    "[{'containerID': 0, 'hostID': $RL_UID, 'size': 1}, {'containerID': 1, 'hostID': 0, 'size': 1}]" \
    "[{'containerID': 0, 'hostID': $RL_UID, 'size': 1}, {'containerID': 1, 'hostID': $RL_SUBUID, 'size': $((RL_COUNT + 1))}]" \
    "[{'containerID': 0, 'hostID': $((RL_UID + 1)), 'size': 1}]"; do
    setup_bundle true
    update_config "c['linux']['uidMappings'] = $maps"
    run nook run "$ID"
    assert_failure
    assert_output --partial 'linux.uidMappings'
    # and the same for groups: the root group, and beyond the range
    setup_bundle true
    update_config "c['linux']['gidMappings'] = ${maps//$RL_UID/$RL_GID}"
    update_config "c['linux']['gidMappings'] = [dict(m, hostID=(m['hostID'] - $RL_SUBUID + $RL_SUBGID if m['hostID'] >= $RL_SUBUID else m['hostID'])) for m in c['linux']['gidMappings']]"
    run nook run "$ID"
    assert_failure
    assert_output --partial 'linux.gidMappings'
  done
  run find "$NOOK_ROOT" -mindepth 1 -maxdepth 1 ! -name '.*'
  assert_output ''
}

@test "rootless security: with only the user's own gid mapped, setgroups stays denied" {
  # (the kernel's rule for an unprivileged gid_map: a user must not shed a
  # group that denies it access)
  setup_bundle sh -c 'cat /proc/self/setgroups; id -G'
  grant_everything
  run nook run "$ID"
  assert_success
  assert_line --index 0 deny
}

@test "rootless security: kernel interfaces stay the host's: no mknod, sysctl, module or host mount" {
  setup_bundle sh -c 'echo started
mknod /dev/shm/sda b 8 0 2>/dev/null && echo mknod-made || echo mknod-refused
echo core > /proc/sys/kernel/core_pattern 2>/dev/null && echo sysctl-written || echo sysctl-refused
echo 1 > /proc/sys/vm/drop_caches 2>/dev/null && echo dropcaches-written || echo dropcaches-refused
insmod /nonexistent.ko 2>/dev/null; rmmod loop 2>/dev/null && echo rmmod-done || echo rmmod-refused
mount -t ext4 /dev/null /mnt 2>/dev/null && echo mounted || echo mount-refused'
  grant_everything
  local before
  before=$(cat /proc/sys/kernel/core_pattern)
  run nook run "$ID"
  assert_success
  assert_line started
  for w in mknod sysctl dropcaches rmmod mount; do assert_line "$w-refused"; done
  assert_equal "$(cat /proc/sys/kernel/core_pattern)" "$before"
}
